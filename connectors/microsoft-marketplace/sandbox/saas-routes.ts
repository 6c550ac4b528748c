import type { FastifyInstance } from 'fastify';
import { MAX_BATCH, type UsageResult } from './metering.js';
import { SandboxRefusal } from './refusal.js';
import type { RouteConfig, RouteContext } from './server.js';
import { refused, SAAS_API_VERSION, sendRefusal } from './wire.js';

/**
 * SaaS fulfillment v2 (`https://marketplaceapi.microsoft.com/api/saas/subscriptions`) and the
 * metering service (`/api/usageEvent`, `/api/batchUsageEvent`), api-version 2018-08-31.
 */
const SUBS = '/api/saas/subscriptions';

function route(endpoint: string, api: 'saas' | 'metering' = 'saas'): { config: RouteConfig } {
  return { config: { endpoint, api, version: { name: 'api-version', values: [SAAS_API_VERSION] } } };
}

type Id = { Params: { id: string } };
type Op = { Params: { id: string; operationId: string } };

export function registerSaasRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { saas, metering } = ctx;
  const operationLocation = (subscriptionId: string, operationId: string) =>
    `${ctx.url()}${SUBS}/${subscriptionId}/operations/${operationId}?api-version=${SAAS_API_VERSION}`;

  app.post(`${SUBS}/resolve`, route('saas.resolve'), async (request, reply) => {
    try {
      const token = request.headers['x-ms-marketplace-token'];
      return saas.resolve(typeof token === 'string' ? token : undefined, ctx.appOf(request));
    } catch (error) {
      return refused(reply, 'saas', error);
    }
  });

  app.get<{ Querystring: { continuationToken?: string } }>(SUBS, route('saas.list'), async (request, reply) => {
    const all = saas.list(ctx.appOf(request));
    const from = request.query.continuationToken ? Number(Buffer.from(request.query.continuationToken, 'base64url').toString('utf8')) : 0;
    if (!Number.isInteger(from) || from < 0) return refused(reply, 'saas', new SandboxRefusal(400, 'BadArgument', 'continuationToken is not one this service issued.'));
    // Microsoft answers an empty body when the publisher has no subscriptions at all.
    if (all.length === 0) return reply.code(200).send('');
    const page = all.slice(from, from + ctx.pageSize);
    const next = from + ctx.pageSize < all.length
      ? `${ctx.url()}${SUBS}/?continuationToken=${Buffer.from(String(from + ctx.pageSize)).toString('base64url')}&api-version=${SAAS_API_VERSION}`
      : undefined;
    return { subscriptions: page, ...(next ? { '@nextLink': next } : {}) };
  });

  app.get<Id>(`${SUBS}/:id`, route('saas.get'), async (request, reply) => {
    try {
      return saas.get(request.params.id, ctx.appOf(request));
    } catch (error) {
      return refused(reply, 'saas', error);
    }
  });

  app.get<Id & { Querystring: { planId?: string } }>(`${SUBS}/:id/listAvailablePlans`, route('saas.plans'), async (request, reply) => {
    try {
      const plans = saas.availablePlans(request.params.id, ctx.appOf(request)).filter((p) => !request.query.planId || p.externalId === request.query.planId);
      return {
        plans: plans.map((p) => ({
          planId: p.externalId, displayName: p.displayName, isPrivate: false, description: p.description,
          minQuantity: p.minQuantity ?? 0, maxQuantity: p.maxQuantity ?? 0, hasFreeTrials: false, isPricePerSeat: p.isPricePerSeat, isStopSell: false, market: 'US',
          planComponents: {
            recurrentBillingTerms: p.prices.map((x) => ({ currency: 'USD', price: Number(x.priceUsd), termUnit: x.termUnit, termDescription: x.termUnit === 'P1Y' ? '1 year' : '1 month', meteredQuantityIncluded: [] })),
            meteringDimensions: p.meters.map((m) => ({ id: m.id, currency: 'USD', pricePerUnit: Number(m.pricePerUnitUsd), unitOfMeasure: m.unitOfMeasure, displayName: m.displayName })),
          },
        })),
      };
    } catch (error) {
      return refused(reply, 'saas', error);
    }
  });

  app.post<Id>(`${SUBS}/:id/activate`, route('saas.activate'), async (request, reply) => {
    try {
      saas.activate(request.params.id, request.body, ctx.appOf(request));
      return reply.code(200).send();
    } catch (error) {
      return refused(reply, 'saas', error);
    }
  });

  app.patch<Id>(`${SUBS}/:id`, route('saas.update'), async (request, reply) => {
    try {
      const op = saas.change(request.params.id, request.body, ctx.appOf(request));
      return reply.code(202).header('Operation-Location', operationLocation(op.subscriptionId, op.id)).send();
    } catch (error) {
      return refused(reply, 'saas', error);
    }
  });

  app.delete<Id>(`${SUBS}/:id`, route('saas.delete'), async (request, reply) => {
    try {
      const op = saas.cancel(request.params.id, ctx.appOf(request));
      return reply.code(202).header('Operation-Location', operationLocation(op.subscriptionId, op.id)).send();
    } catch (error) {
      return refused(reply, 'saas', error);
    }
  });

  app.get<Id>(`${SUBS}/:id/operations`, route('saas.operations'), async (request, reply) => {
    try {
      return { operations: saas.pendingOperations(request.params.id, ctx.appOf(request)) };
    } catch (error) {
      return refused(reply, 'saas', error);
    }
  });

  app.get<Op>(`${SUBS}/:id/operations/:operationId`, route('saas.operation'), async (request, reply) => {
    try {
      return saas.operation(request.params.id, request.params.operationId, ctx.appOf(request));
    } catch (error) {
      return refused(reply, 'saas', error);
    }
  });

  app.patch<Op>(`${SUBS}/:id/operations/:operationId`, route('saas.operation-update'), async (request, reply) => {
    try {
      saas.acknowledge(request.params.id, request.params.operationId, request.body, ctx.appOf(request));
      return reply.code(200).send();
    } catch (error) {
      return refused(reply, 'saas', error);
    }
  });

  app.post('/api/usageEvent', route('metering.usage-event', 'metering'), async (request, reply) => {
    const result = metering.record(request.body, ctx.appOf(request));
    if (result.status === 'Accepted') return result;
    if (result.status === 'Duplicate') return reply.code(409).send(result.error);
    if (result.status === 'ResourceNotAuthorized') return sendRefusal(reply, 'metering', new SandboxRefusal(403, 'Forbidden', result.error.message));
    if (result.status === 'Error') return reply.code(500).send({ message: result.error.message, code: 'InternalServerError' });
    return reply.code(400).send({
      message: 'One or more errors have occurred.', target: 'usageEventRequest',
      details: [{ message: result.error.message, target: result.error.target ?? 'usageEventRequest', code: result.status }], code: 'BadArgument',
    });
  });

  app.post('/api/batchUsageEvent', route('metering.batch', 'metering'), async (request, reply) => {
    const events = (request.body as { request?: unknown } | undefined)?.request;
    if (!Array.isArray(events) || events.length === 0) {
      return sendRefusal(reply, 'metering', new SandboxRefusal(400, 'BadArgument', 'The request must hold a non-empty array of usage events.'));
    }
    if (events.length > MAX_BATCH) {
      return sendRefusal(reply, 'metering', new SandboxRefusal(400, 'BadArgument', `The batch contained more than ${MAX_BATCH} usage events (${events.length}).`));
    }
    const result: UsageResult[] = events.map((event) => metering.record(event, ctx.appOf(request)));
    return { count: result.length, result };
  });
}
