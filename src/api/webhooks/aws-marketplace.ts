import { createHash, timingSafeEqual } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import type { Counter } from 'prom-client';
import { z } from 'zod';
import { noticeChangeSet, noticeOffer } from '../../service/offer-control.js';
import type { Connection } from '../../store/index.js';
import { problems, sendProblem } from '../problem.js';

/**
 * The EventBridge receiver: AWS Marketplace's events about private offers, sent by an EventBridge
 * rule on the seller's (or reseller's) default bus to an API destination pointing here.
 *
 *   POST /webhooks/aws-marketplace/:connection   x-api-key: <the connection's aws-marketplace.eventApiKey>
 *
 * The API destination's connection uses API-key authorization, so every event carries the key in
 * a header; the key is compared in constant time. "Purchase Agreement Created" wakes the offer
 * with that offer id to book the acceptance now instead of at its next poll; "Change Set
 * Succeeded|Failed|Cancelled" wakes the offer following that change set. Every other event is
 * answered 200 and ignored (the rule may send more than ecosync needs). Nothing is signalled
 * unless the key is right and the body is an event.
 */

export const SYSTEM = 'aws-marketplace';
/** The header the API destination's API-key authorization sends (its `apiKeyName`). */
export const EVENT_KEY_HEADER = 'x-api-key';
/** Where the key is in the connection's credentials: `aws-marketplace.eventApiKey`. */
export const EVENT_KEY_CREDENTIAL = 'eventApiKey';

/** An EventBridge event as an API destination delivers it (the fields ecosync reads; others pass). */
export const marketplaceEventSchema = z.looseObject({
  version: z.string().optional(),
  id: z.string().min(1),
  'detail-type': z.string().min(1),
  source: z.string().min(1),
  account: z.string().optional(),
  time: z.string().optional(),
  resources: z.array(z.string()).optional(),
  detail: z.looseObject({}),
});
export type MarketplaceEvent = z.infer<typeof marketplaceEventSchema>;

/** What an event means for ecosync's offers. */
export type EventMeaning =
  | { kind: 'agreement'; agreementId: string; offerId: string }
  | { kind: 'changeSet'; changeSetId: string; status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED' }
  | { kind: 'ignored'; reason: string };

const CHANGE_SET_OUTCOMES: Record<string, 'SUCCEEDED' | 'FAILED' | 'CANCELLED'> = {
  'Change Set Succeeded': 'SUCCEEDED',
  'Change Set Failed': 'FAILED',
  'Change Set Cancelled': 'CANCELLED',
};

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);
const idOf = (value: unknown): string | undefined => (value && typeof value === 'object' ? text((value as { id?: unknown }).id) : undefined);

/** The meaning of an event: an acceptance, a change set's outcome, or nothing ecosync acts on. */
export function meaningOf(event: MarketplaceEvent): EventMeaning {
  const type = event['detail-type'];
  if (event.source === 'aws.agreement-marketplace' && type.startsWith('Purchase Agreement Created')) {
    const agreementId = idOf(event.detail.agreement);
    const offerId = idOf(event.detail.offer);
    if (!agreementId || !offerId) return { kind: 'ignored', reason: `"${type}" without agreement.id and offer.id` };
    return { kind: 'agreement', agreementId, offerId };
  }
  if (event.source === 'aws.marketplacecatalog' && CHANGE_SET_OUTCOMES[type]) {
    const changeSetId = text(event.detail.ChangeSetId);
    if (!changeSetId) return { kind: 'ignored', reason: `"${type}" without ChangeSetId` };
    return { kind: 'changeSet', changeSetId, status: CHANGE_SET_OUTCOMES[type] };
  }
  return { kind: 'ignored', reason: `"${type}" from ${event.source} does not move a private offer` };
}

/** What the receiver answers to an event it took: delivered to an offer, or ignored and why. */
export const EventReceipt = z.object({
  event: z.string().describe('The event\'s id'),
  outcome: z.enum(['delivered', 'ignored']),
  detail: z.string().describe('Which offer was told, or why none was'),
});
type EventReceipt = z.infer<typeof EventReceipt>;

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Equal keys, compared over equal-length digests so the time taken says nothing about the key. */
export function sameKey(presented: string | undefined, expected: string): boolean {
  return presented !== undefined && timingSafeEqual(digest(presented), digest(expected));
}

export interface MarketplaceEventDeps {
  client: Client;
  findConnection(ref: string): Promise<Connection | null>;
  credentialsOf(connectionId: string): Promise<Record<string, unknown> | null>;
  counter?: Counter<'system' | 'outcome'>;
}

/** Bodies are parsed after the key is checked; the schema documents them. */
const keyFirst: FastifySchemaCompiler<z.ZodType> = () => () => true;

const Params = z.object({ connection: z.string().min(1).describe('The connection\'s name (or id)') });

/** Registers the receiver in the webhooks' scope (raw bodies, no API token). */
export function awsMarketplaceEvents(app: FastifyInstance, deps: MarketplaceEventDeps, bodyLimit: number): void {
  app.post(`/webhooks/${SYSTEM}/:connection`, {
    bodyLimit,
    validatorCompiler: keyFirst as FastifySchemaCompiler<unknown>,
    schema: {
      tags: ['webhooks'],
      summary: 'AWS Marketplace\'s EventBridge events (an API destination): an acceptance or a change set\'s outcome wakes the private offer it is about',
      description: `Authenticated by the API destination's key in ${EVENT_KEY_HEADER} (the connection's credentials, aws-marketplace.${EVENT_KEY_CREDENTIAL}), not by an API token. Events that move no offer are answered 200 and ignored.`,
      params: Params,
      headers: z.looseObject({ [EVENT_KEY_HEADER]: z.string().optional().describe('The API destination\'s key') }),
      body: marketplaceEventSchema,
      response: {
        200: EventReceipt.describe('Taken: delivered to the offer it is about, or ignored'),
        ...problems(400, 401, 404, 413, 503),
      },
    },
  }, async (request: FastifyRequest<{ Params: { connection: string } }>, reply: FastifyReply) => {
    const refuse = (status: number, outcome: string, reason: string) => {
      deps.counter?.inc({ system: SYSTEM, outcome });
      request.log.warn({ system: SYSTEM, connection: request.params.connection, status, reason }, 'marketplace event refused');
      return sendProblem(reply, status, reason);
    };
    const connection = await deps.findConnection(request.params.connection);
    const credentials = connection ? await deps.credentialsOf(connection.id) : null;
    const part = credentials?.[SYSTEM] as Record<string, unknown> | undefined;
    if (!connection || !part) return refuse(404, 'unknown-connection', `no connection "${request.params.connection}" with ${SYSTEM}`);
    const key = text(part[EVENT_KEY_CREDENTIAL]);
    if (!key) return refuse(401, 'no-secret', `connection "${connection.name}" has no ${SYSTEM} event key (${EVENT_KEY_CREDENTIAL})`);
    const header = request.headers[EVENT_KEY_HEADER];
    if (!sameKey(Array.isArray(header) ? header[0] : header, key)) return refuse(401, 'bad-signature', `the ${EVENT_KEY_HEADER} header is missing or is not the connection's event key`);

    const raw = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '';
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return refuse(400, 'malformed', 'the body is not JSON: send the EventBridge event itself');
    }
    const parsed = marketplaceEventSchema.safeParse(body);
    if (!parsed.success) {
      return refuse(400, 'malformed', `the body is not an EventBridge event: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
    }
    const event = parsed.data;
    const meaning = meaningOf(event);
    let receipt: EventReceipt;
    try {
      receipt = await deliver(deps.client, connection.name, event.id, meaning);
    } catch (error) {
      deps.counter?.inc({ system: SYSTEM, outcome: 'unavailable' });
      request.log.error({ err: error, system: SYSTEM, connection: connection.name, event: event.id }, 'marketplace event accepted but no offer could be told');
      return sendProblem(reply, 503, 'the offer service is unavailable; retry later');
    }
    deps.counter?.inc({ system: SYSTEM, outcome: receipt.outcome === 'delivered' ? 'signalled' : 'ignored' });
    request.log.info({ system: SYSTEM, connection: connection.name, event: event.id, type: event['detail-type'], outcome: receipt.outcome }, 'marketplace event');
    return reply.code(200).send(receipt);
  });
}

async function deliver(client: Client, connection: string, eventId: string, meaning: EventMeaning): Promise<EventReceipt> {
  if (meaning.kind === 'ignored') return { event: eventId, outcome: 'ignored', detail: meaning.reason };
  if (meaning.kind === 'agreement') {
    const told = await noticeOffer({ client }, connection, meaning.offerId, meaning);
    return told
      ? { event: eventId, outcome: 'delivered', detail: `agreement ${meaning.agreementId} to the offer ${meaning.offerId}` }
      : { event: eventId, outcome: 'ignored', detail: `no running private offer of ${connection} is ${meaning.offerId}` };
  }
  const told = await noticeChangeSet({ client }, connection, meaning.changeSetId, meaning.status);
  return told
    ? { event: eventId, outcome: 'delivered', detail: `change set ${meaning.changeSetId} ${meaning.status} to the offer following it` }
    : { event: eventId, outcome: 'ignored', detail: `no running private offer of ${connection} follows change set ${meaning.changeSetId}` };
}
