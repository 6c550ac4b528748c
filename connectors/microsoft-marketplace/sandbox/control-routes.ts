import type { FastifyInstance } from 'fastify';
import { SandboxRefusal } from './refusal.js';
import type { OperationAction } from './saas.js';
import type { RouteConfig, RouteContext } from './server.js';
import { refused } from './wire.js';

/**
 * The sandbox's control plane, for demos and tests in another process: the buyer accepting a
 * private offer, Microsoft's side starting SaaS operations, the clock, and what Microsoft holds.
 * No token is needed: these are not Microsoft APIs.
 */
function route(endpoint: string): { config: RouteConfig } {
  return { config: { endpoint, api: 'control' } };
}

export function registerControlRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { state } = ctx;

  app.post<{ Params: { id: string }; Body: { beneficiaryId?: string; planId?: string; quantity?: number; purchaserEmail?: string } | undefined }>(
    '/_sandbox/private-offers/:id/accept', route('control.accept'), async (request, reply) => {
      try {
        const body = request.body ?? {};
        if (typeof body.beneficiaryId !== 'string') throw new SandboxRefusal(400, 'badRequest', 'beneficiaryId is required.');
        return state.acceptPrivateOffer(request.params.id, { beneficiaryId: body.beneficiaryId, planId: body.planId, quantity: body.quantity, purchaserEmail: body.purchaserEmail });
      } catch (error) {
        return refused(reply, 'control', error);
      }
    });

  app.post<{ Params: { id: string }; Body: { action?: OperationAction; planId?: string; quantity?: number } | undefined }>(
    '/_sandbox/subscriptions/:id/operations', route('control.operation'), async (request, reply) => {
      try {
        const { action, planId, quantity } = request.body ?? {};
        if (typeof action !== 'string') throw new SandboxRefusal(400, 'badRequest', 'action is required.');
        return state.startOperation(request.params.id, action, { planId, quantity });
      } catch (error) {
        return refused(reply, 'control', error);
      }
    });

  app.post<{ Body: { advanceMs?: number } | undefined }>('/_sandbox/clock', route('control.clock'), async (request, reply) => {
    try {
      state.advanceClock(Number(request.body?.advanceMs ?? 0));
    } catch (error) {
      return refused(reply, 'control', new SandboxRefusal(400, 'badRequest', (error as Error).message));
    }
    return { now: new Date(state.now()).toISOString() };
  });

  app.get('/_sandbox/products', route('control.products'), async () => ({ value: state.products() }));
  app.get('/_sandbox/private-offers', route('control.private-offers'), async () => ({ value: state.privateOffers() }));
  app.get<{ Params: { id: string } }>('/_sandbox/private-offers/:id', route('control.private-offer'), async (request, reply) => {
    try {
      return { ...state.privateOffer(request.params.id), prices: state.offerPrices(request.params.id) };
    } catch (error) {
      return refused(reply, 'control', error);
    }
  });
  app.get('/_sandbox/subscriptions', route('control.subscriptions'), async () => ({ value: state.subscriptions() }));
  app.get('/_sandbox/usage', route('control.usage'), async () => ({ value: state.usageEvents() }));
}
