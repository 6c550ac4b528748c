import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { Counter, Gauge, type Registry } from 'prom-client';
import { z } from 'zod';
import * as hubspot from '../../../connectors/hubspot/webhooks.js';
import * as salesforce from '../../../connectors/salesforce/webhooks.js';
import type { SyncControlOptions } from '../../service/sync-control.js';
import { InboxDispatcher } from '../../service/sync-inbox.js';
import type { Connection, ConnectionsRepo, Store } from '../../store/index.js';
import { problems, sendProblem } from '../problem.js';
import { awsMarketplaceEvents } from './aws-marketplace.js';
import { microsoftLandingPage } from './microsoft-marketplace.js';
import { entitiesOf, involves } from './entities.js';

/**
 * Webhook endpoints: a system tells ecosync that records changed, ecosync asks the connection's
 * workflow for one cycle over the entities concerned. Requests are authenticated by their
 * signature, not by an API token, so this plugin is mounted outside the operator routes' guard.
 *
 *   POST /webhooks/hubspot/:connection     X-HubSpot-Signature-v3 (the HubSpot app's clientSecret)
 *   POST /webhooks/salesforce/:connection  X-Ecosync-Signature (the connection's webhookSecret)
 *   POST /webhooks/aws-marketplace/:connection  x-api-key (EventBridge events; see aws-marketplace.ts)
 *
 * Unknown connection 404; no secret, a bad or old signature 401; a signature already accepted
 * (a replay within its age window) 409; a body that is not the
 * system's event batch 400; a body over WEBHOOK_BODY_LIMIT 413 — and in each case nothing is
 * started or signalled, and the answer is a problem (application/problem+json). A good request
 * is answered 204 as soon as its sync request is in the store's webhook inbox, durable; the
 * inbox's dispatcher (InboxDispatcher, one per API process) hands it to the connection's
 * workflow right away, several webhooks to a signal under load, and keeps trying while Temporal
 * is away. If the store cannot take it the answer is 503, so the sender retries.
 *
 * A connection and its webhook secrets are read from the store at most once per
 * CONNECTION_CACHE_MS per connection, not on every request: a changed secret or a deleted
 * connection takes effect within that time.
 */
export interface WebhookDeps {
  store: { connections: Pick<ConnectionsRepo, 'get' | 'getByName' | 'getCredentials'>; inbox: Store['inbox'] };
  sync: SyncControlOptions;
  /**
   * The URL the systems call, as they see it (e.g. https://hub.example.com behind a proxy):
   * HubSpot signs the full URL. By default the request's own protocol and Host header.
   */
  publicBaseUrl?: string;
  /** Counts webhooks by system and outcome (ecosync_webhooks_total). */
  metrics?: Registry;
  /** Told of every accepted webhook (benchmarks time from here). */
  onAccepted?: (receipt: WebhookReceipt) => void;
  now?: () => number;
  /** The inbox dispatcher's timings (tests shorten them). */
  inbox?: { pollMs?: number; maxPauseMs?: number };
}

export interface WebhookReceipt {
  system: 'hubspot' | 'salesforce';
  connectionId: string;
  connectionName: string;
  /** Entities asked for; empty when no event concerned an object the connection syncs. */
  entities: string[];
  /** The records the events name, as ids of the sending system. */
  recordIds: string[];
  events: number;
  /** When the request reached the handler, epoch ms. */
  receivedAt: number;
}

/** What one system's webhook looks like: where its secret is, how it is signed, what it carries. */
interface WebhookSource {
  system: WebhookReceipt['system'];
  /** For the route's documentation: how the request is signed, its headers, its body. */
  summary: string;
  headers: z.ZodType;
  body: z.ZodType;
  /** The secret's key in the system's part of the connection's credentials. */
  secretKey: string;
  verify(request: FastifyRequest, raw: Buffer, secret: string, now: number, baseUrl: string): { ok: true } | { ok: false; reason: string };
  /** The header that carries the signature: a request accepted once is not accepted again with it. */
  signatureHeader: string;
  parse(raw: string): { objects: string[]; recordIds: string[]; events: number } | { error: string };
}

const header = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

const HUBSPOT: WebhookSource = {
  system: 'hubspot',
  summary: 'HubSpot tells ecosync that companies, contacts or deals changed (signature v3 with the app\'s client secret)',
  headers: z.looseObject({
    [hubspot.SIGNATURE_HEADER]: z.string().optional().describe('base64 HMAC-SHA256 of method, URL, body and timestamp'),
    [hubspot.TIMESTAMP_HEADER]: z.string().optional().describe('Epoch milliseconds; refused when more than 5 minutes old'),
  }),
  body: hubspot.webhookBatchSchema,
  secretKey: 'clientSecret',
  signatureHeader: hubspot.SIGNATURE_HEADER,
  verify: (request, raw, secret, now, baseUrl) => hubspot.verifySignatureV3({
    clientSecret: secret,
    method: request.method,
    uri: `${baseUrl}${request.url}`,
    body: raw,
    signature: header(request, hubspot.SIGNATURE_HEADER),
    timestamp: header(request, hubspot.TIMESTAMP_HEADER),
    now,
  }),
  parse: (raw) => {
    const batch = hubspot.parseWebhookBatch(raw);
    if ('error' in batch) return batch;
    const objects = batch.events.map(hubspot.objectOfEvent).filter((o): o is string => o !== undefined);
    return { objects, recordIds: batch.events.map((e) => String(e.objectId)), events: batch.events.length };
  },
};

const SALESFORCE: WebhookSource = {
  system: 'salesforce',
  summary: 'The Salesforce org\'s callout tells ecosync that records changed (HMAC-SHA256 with the connection\'s webhookSecret)',
  headers: z.looseObject({
    [salesforce.SIGNATURE_HEADER]: z.string().optional().describe('t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">; refused when more than 5 minutes old'),
  }),
  body: salesforce.changeBatchSchema,
  secretKey: 'webhookSecret',
  signatureHeader: salesforce.SIGNATURE_HEADER,
  verify: (request, raw, secret, now) => salesforce.verifySignature({ secret, header: header(request, salesforce.SIGNATURE_HEADER), body: raw, now }),
  parse: (raw) => {
    const batch = salesforce.parseChangeBatch(raw);
    if ('error' in batch) return batch;
    return { objects: batch.events.map((e) => e.sobject), recordIds: batch.events.map((e) => e.id), events: batch.events.length };
  },
};

/**
 * The largest webhook body taken: a HubSpot batch holds at most 100 events and a Salesforce
 * trigger 200 records, a few hundred bytes each; this leaves room for what they add over time.
 */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

/**
 * Webhook bodies are checked after their signature, on the exact bytes sent: their schema
 * documents them, the handler parses them.
 */
const signatureFirst: FastifySchemaCompiler<z.ZodType> = (route) => (route.httpPart === 'body' ? () => true : validatorCompiler(route));

const Params = z.object({ connection: z.string().min(1).describe('The connection\'s name (or id)') });

/**
 * Signatures accepted lately, so a captured request cannot be played again while its timestamp
 * is still young enough (both systems allow 5 minutes either way: kept for 10). Only accepted
 * requests are remembered, so a sender retrying after a 503 is not refused. One API process
 * remembers its own; bounded, the oldest forgotten first.
 */
export class AcceptedSignatures {
  private readonly seen = new Map<string, number>();
  constructor(private readonly keepMs = 10 * 60 * 1000, private readonly max = 100_000) {}

  has(key: string, now: number): boolean {
    const until = this.seen.get(key);
    return until !== undefined && until > now;
  }

  add(key: string, now: number): void {
    for (const [k, until] of this.seen) {
      if (until > now && this.seen.size < this.max) break;
      this.seen.delete(k);
    }
    this.seen.set(key, now + this.keepMs);
  }
}

/** How long the webhook routes keep a connection and its secrets before reading them again. */
export const CONNECTION_CACHE_MS = 2_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The webhook routes, for buildApi's `plugins`. */
export function webhooksPlugin(deps: WebhookDeps) {
  const now = deps.now ?? Date.now;
  const counter = deps.metrics
    ? new Counter({ name: 'ecosync_webhooks_total', help: 'Webhooks received, by system and outcome', labelNames: ['system', 'outcome'], registers: [deps.metrics] })
    : undefined;
  if (deps.metrics) {
    const inbox = deps.store.inbox;
    new Gauge({
      name: 'ecosync_webhook_inbox_pending', help: 'Webhook requests accepted but not yet handed to their connection\'s workflow (a rising count: Temporal is slow or away)',
      registers: [deps.metrics],
      async collect() { this.set(await inbox.count()); },
    });
  }

  const accepted = new AcceptedSignatures();

  async function findConnection(ref: string): Promise<Connection | null> {
    return (await deps.store.connections.getByName(ref)) ?? (UUID.test(ref) ? await deps.store.connections.get(ref) : null);
  }

  /** A connection and its credentials by name or id, from the store at most every CONNECTION_CACHE_MS. */
  const known = new Map<string, { until: number; found: Promise<{ connection: Connection; credentials: Record<string, unknown> | null } | null> }>();
  function connectionAndCredentials(ref: string) {
    const at = now();
    const cached = known.get(ref);
    if (cached && cached.until > at) return cached.found;
    const found = findConnection(ref).then(async (connection) => (connection ? { connection, credentials: await deps.store.connections.getCredentials(connection.id) } : null));
    // Only connections that exist are kept (a flood of unknown names must not fill memory); a failed read is not kept.
    known.set(ref, { until: at + CONNECTION_CACHE_MS, found });
    found.then((value) => { if (!value) known.delete(ref); }, () => known.delete(ref));
    for (const [key, entry] of known) if (entry.until <= at) known.delete(key);
    return found;
  }

  function secretOf(credentials: Record<string, unknown> | null, source: WebhookSource): string | undefined {
    const part = credentials?.[source.system] as Record<string, unknown> | undefined;
    const secret = part?.[source.secretKey];
    return typeof secret === 'string' && secret.length > 0 ? secret : undefined;
  }

  function handler(source: WebhookSource) {
    return async (request: FastifyRequest<{ Params: { connection: string } }>, reply: FastifyReply) => {
      const receivedAt = now();
      const refuse = (status: number, outcome: string, reason: string) => {
        counter?.inc({ system: source.system, outcome });
        request.log.warn({ system: source.system, connection: request.params.connection, status, reason }, 'webhook refused');
        return sendProblem(reply, status, reason);
      };
      const found = await connectionAndCredentials(request.params.connection);
      const connection = found?.connection;
      if (!connection || !involves(connection, source.system)) return refuse(404, 'unknown-connection', `no connection "${request.params.connection}" with ${source.system}`);
      const secret = secretOf(found.credentials, source);
      if (!secret) return refuse(401, 'no-secret', `connection "${connection.name}" has no ${source.system} webhook secret (${source.secretKey})`);
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const baseUrl = deps.publicBaseUrl?.replace(/\/+$/, '') ?? `${request.protocol}://${request.host}`;
      const verdict = source.verify(request, raw, secret, now(), baseUrl);
      if (!verdict.ok) return refuse(401, 'bad-signature', verdict.reason);
      const signatureKey = `${source.system}:${connection.id}:${header(request, source.signatureHeader)}`;
      if (accepted.has(signatureKey, now())) return refuse(409, 'replayed', 'this signed request was already accepted: a replay is refused (sign each delivery anew)');
      const parsed = source.parse(raw.toString('utf8'));
      if ('error' in parsed) return refuse(400, 'malformed', parsed.error);

      const entities = connection.enabled ? entitiesOf(connection, source.system, parsed.objects) : [];
      if (entities.length > 0) {
        try {
          const sources = connection.systems.filter((s) => s.system === source.system).map((s) => s.name);
          await deps.store.inbox.add(connection.id, { reason: 'webhook', entities, sources, receivedAt: new Date(receivedAt).toISOString() });
        } catch (error) {
          counter?.inc({ system: source.system, outcome: 'unavailable' });
          request.log.error({ err: error, system: source.system, connection: connection.name }, 'webhook verified but its request could not be stored');
          return sendProblem(reply, 503, 'the sync service is unavailable; retry later');
        }
        dispatcher.poke();
      }
      accepted.add(signatureKey, now());
      counter?.inc({ system: source.system, outcome: entities.length > 0 ? 'accepted' : 'ignored' });
      deps.onAccepted?.({ system: source.system, connectionId: connection.id, connectionName: connection.name, entities, recordIds: parsed.recordIds, events: parsed.events, receivedAt });
      return reply.code(204).send();
    };
  }

  let dispatcher: InboxDispatcher;

  return async (app: FastifyInstance): Promise<void> => {
    dispatcher = new InboxDispatcher({
      store: deps.store, sync: deps.sync, log: app.log, ...deps.inbox,
      connection: async (id) => (await connectionAndCredentials(id))?.connection ?? null,
    });
    app.addHook('onReady', async () => { dispatcher.start(); });
    app.addHook('onClose', async () => { await dispatcher.stop(); });
    // Signatures cover the exact bytes sent: keep the raw body (this scope only) and parse it after checking.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    awsMarketplaceEvents(app, {
      client: deps.sync.client,
      findConnection,
      credentialsOf: (id) => deps.store.connections.getCredentials(id),
      counter,
    }, WEBHOOK_BODY_LIMIT);
    microsoftLandingPage(app, {
      client: deps.sync.client,
      findConnection,
      credentialsOf: (id) => deps.store.connections.getCredentials(id),
      counter,
    });
    for (const source of [HUBSPOT, SALESFORCE]) {
      app.post(`/webhooks/${source.system}/:connection`, {
        bodyLimit: WEBHOOK_BODY_LIMIT,
        validatorCompiler: signatureFirst as FastifySchemaCompiler<unknown>,
        schema: {
          tags: ['webhooks'],
          summary: source.summary,
          description: 'Authenticated by its signature, not by an API token. Nothing is stored or signalled unless the answer is 204.',
          params: Params,
          headers: source.headers,
          body: source.body,
          response: {
            204: z.undefined().describe('Accepted: the connection\'s workflow has the sync request'),
            ...problems(400, 401, 404, 409, 413, 503),
          },
        },
      }, handler(source));
    }
  };
}
