import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Counter } from 'prom-client';
import { z } from 'zod';
import { MicrosoftMarketplaceClient, MicrosoftRefused, type MicrosoftMarketplaceConfig } from '../../../connectors/microsoft-marketplace/client.js';
import { landMicrosoftPurchase } from '../../service/offer-control.js';
import type { Connection } from '../../store/index.js';
import { problems, sendProblem } from '../problem.js';

/**
 * The landing page of ecosync's SaaS offers on the Microsoft commercial marketplace. Microsoft
 * sends no webhook for a purchase: the buyer's browser comes here with `?token=`, which the
 * publisher resolves (SaaS fulfillment v2) to learn the subscription. The live private offer of
 * the connection that the purchase's tenant belongs to is told, and its workflow activates the
 * subscription and books it. The token is the authentication: only Microsoft can resolve it.
 *
 *   GET /webhooks/microsoft-marketplace/:connection/landing?token=<x-ms-marketplace-token>
 *
 * Set it as the offer's technical configuration's landing page URL in Partner Center.
 */

export const SYSTEM = 'microsoft-marketplace';

export interface LandingDeps {
  client: Client;
  findConnection(ref: string): Promise<Connection | null>;
  credentialsOf(connectionId: string): Promise<Record<string, unknown> | null>;
  counter?: Counter<'system' | 'outcome'>;
}

const Params = z.object({ connection: z.string().min(1).describe('The connection\'s name (or id)') });
const Query = z.object({ token: z.string().min(1).max(4096).describe('The marketplace token Microsoft put in the landing page\'s URL') });

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title: string, body: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1><p>${escape(body)}</p></body></html>`;

export function microsoftLandingPage(app: FastifyInstance, deps: LandingDeps): void {
  app.get(`/webhooks/${SYSTEM}/:connection/landing`, {
    schema: {
      tags: ['webhooks'],
      summary: 'The Microsoft marketplace landing page: a purchase\'s token resolved, the private offer it accepts activated and booked',
      description: 'Opened by the buyer\'s browser with the token Microsoft adds. Authenticated by the token itself (resolved with Microsoft), not by an API token.',
      params: Params,
      querystring: Query,
      response: {
        200: z.string().describe('An HTML page telling the buyer the subscription is being activated'),
        ...problems(400, 404, 503),
      },
    },
  }, async (request: FastifyRequest<{ Params: { connection: string }; Querystring: { token: string } }>, reply: FastifyReply) => {
    const refuse = (status: number, outcome: string, reason: string) => {
      deps.counter?.inc({ system: SYSTEM, outcome });
      request.log.warn({ system: SYSTEM, connection: request.params.connection, status, reason }, 'landing page refused');
      return sendProblem(reply, status, reason);
    };
    const connection = await deps.findConnection(request.params.connection);
    const credentials = connection ? await deps.credentialsOf(connection.id) : null;
    const config = credentials?.[SYSTEM] as MicrosoftMarketplaceConfig | undefined;
    if (!connection || !config) return refuse(404, 'unknown-connection', `no connection "${request.params.connection}" with ${SYSTEM}`);
    const client = new MicrosoftMarketplaceClient(config);
    try {
      const purchase = await client.resolve(request.query.token);
      const offer = await landMicrosoftPurchase({ client: deps.client }, connection.name, { id: purchase.id, planId: purchase.planId, ...(purchase.beneficiaryTenantId ? { beneficiaryTenantId: purchase.beneficiaryTenantId } : {}) });
      deps.counter?.inc({ system: SYSTEM, outcome: offer ? 'signalled' : 'ignored' });
      request.log.info({ system: SYSTEM, connection: connection.name, subscription: purchase.id, offer: offer ?? null }, 'marketplace purchase landed');
      return reply.code(200).type('text/html; charset=utf-8').send(offer
        ? page('Thank you', `Your subscription ${purchase.id} is being activated; you will hear from us shortly.`)
        : page('Thank you', `We have your subscription ${purchase.id}; our team will be in touch to activate it.`));
    } catch (error) {
      if (error instanceof MicrosoftRefused && error.status < 500) return refuse(400, 'bad-token', `Microsoft did not resolve the token: ${error.message}`);
      deps.counter?.inc({ system: SYSTEM, outcome: 'unavailable' });
      request.log.error({ err: error, system: SYSTEM, connection: connection.name }, 'landing page could not resolve the purchase');
      return sendProblem(reply, 503, 'the marketplace or the offer service is unavailable; reload the page in a moment');
    } finally {
      client.close();
    }
  });
}
