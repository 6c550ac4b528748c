import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { CallCounters, FaultInjector, type FaultPlan } from '../../../src/sandbox/index.js';
import { CURRENCY_OPTIONS } from '../descriptor.js';
import { seedPortal } from './data.js';
import { errorBody, HttpError, type Reply } from './errors.js';
import { AssociationsApi, MAX_ASSOCIATION_INPUTS } from './associations.js';
import { CrmApi, TYPE_ALIASES, inputsOf } from './objects.js';
import { RateLimits } from './rate-limits.js';
import { HubSpotState } from './store.js';
import { SANDBOX_PORTAL_ID, startHubSpotWebhooks, type HubSpotWebhookOptions, type HubSpotWebhooks } from './webhooks.js';

export { MAX_BATCH_INPUTS } from './objects.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The endpoint a HubSpot route counts its calls under; `{type}` stands for the object type of
     * the path (companies.list).
     */
    hubspotEndpoint?: string;
  }
}

/**
 * A local HubSpot that the unmodified @hubspot/api-client talks to: CRM v3 objects (list, get,
 * create with associations, update, archive, merge, GDPR delete, batch read/create/update/upsert/
 * archive, search, property history), the properties API, associations v4 with labels, and the
 * account details (account-info v3), with bearer auth, HubSpot's rate limits and error bodies,
 * seeded data, call counters and fault injection.
 */
export interface HubSpotSandboxOptions {
  port?: number;
  host?: string;
  seed?: number;
  /**
   * The portal (Hub) id: what the account details API answers and webhook events carry. The same
   * for every sandbox unless set (SANDBOX_PORTAL_ID); give sandboxes that stand for different
   * portals different ids.
   */
  portalId?: number;
  /** Seeded companies (default 0: an empty portal). */
  companies?: number;
  contactsPerCompany?: number;
  dealsPerCompany?: number;
  faults?: FaultPlan;
  /** Calls per rolling window (HubSpot: 100–190 per 10 s); unlimited when absent. */
  tenSecondLimit?: number;
  /** Calls per day; unlimited when absent. */
  dailyLimit?: number;
  /** Rolling window length, 10 s like HubSpot unless a test shortens it. */
  rateWindowMs?: number;
  /** Search results lag writes by this long (HubSpot's search index is eventually consistent). */
  searchLagMs?: number;
  accessToken?: string;
  /**
   * Refuse a whole batch write with one 400 VALIDATION_ERROR when any input is invalid (HubSpot's
   * batch create/update behave so) instead of a 207 naming each failed input.
   */
  allOrNothingBatches?: boolean;
  /** How long a call the fault plan marks as a timeout hangs before a 504. */
  timeoutMs?: number;
  /** Send signed webhooks for record changes (or set a target later with `webhooks.configure`). */
  webhooks?: Partial<HubSpotWebhookOptions>;
}

export interface HubSpotSandbox {
  url: string;
  accessToken: string;
  /** The portal id this sandbox answers as (account details, webhook events). */
  portalId: number;
  counters: CallCounters;
  faults: FaultInjector;
  limits: RateLimits;
  /** Switch between per-input 207s and all-or-nothing batch writes at run time. */
  batchMode: { allOrNothingBatches: boolean };
  /** Direct record access: tests act as users editing records in HubSpot. */
  state: HubSpotState;
  /** Webhook subscriptions: target, delivery counters and faults. */
  webhooks: HubSpotWebhooks;
  close(): Promise<void>;
}

/** GET /account-info/v3/details as HubSpot answers it, for a portal in UTC on the US data centre. */
function accountDetails(portalId: number): Record<string, unknown> {
  return {
    portalId,
    accountType: 'STANDARD',
    timeZone: 'UTC',
    companyCurrency: 'USD',
    // The other currencies seeded deals are in.
    additionalCurrencies: CURRENCY_OPTIONS.slice(0, 6).filter((c) => c !== 'USD'),
    utcOffset: '+00:00',
    utcOffsetMilliseconds: 0,
    uiDomain: 'app.hubspot.com',
    dataHostingLocation: 'na1',
  };
}

export async function startHubSpotSandbox(options: HubSpotSandboxOptions = {}): Promise<HubSpotSandbox> {
  const portalId = options.portalId ?? SANDBOX_PORTAL_ID;
  if (!Number.isSafeInteger(portalId) || portalId < 1 || portalId > 2 ** 31 - 1) {
    throw new Error(`portalId must be a positive 32-bit integer, like HubSpot's; got ${portalId}`);
  }
  const accessToken = options.accessToken ?? `pat-na1-sandbox-${randomUUID()}`;
  const state = new HubSpotState(options.searchLagMs ?? 0);
  seedPortal(state, {
    seed: options.seed ?? 42,
    companies: options.companies ?? 0,
    contactsPerCompany: options.contactsPerCompany ?? 2,
    dealsPerCompany: options.dealsPerCompany ?? 1,
  });
  const counters = new CallCounters();
  const faults = new FaultInjector(options.faults ?? {});
  const limits = new RateLimits({ tenSecondLimit: options.tenSecondLimit, dailyLimit: options.dailyLimit, windowMs: options.rateWindowMs ?? 10_000 });
  const api = new CrmApi(state, faults, { allOrNothingBatches: options.allOrNothingBatches ?? false }, portalId);
  const associations = new AssociationsApi(state);
  const account = accountDetails(portalId);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const webhooks = startHubSpotWebhooks(state, options.webhooks, portalId);
  // Calls the fault plan holds until they time out are let go when the sandbox closes.
  const closing = new AbortController();

  const app = Fastify({
    logger: false, forceCloseConnections: true, keepAliveTimeout: 30_000, bodyLimit: 10 * 1024 * 1024,
    // Ids in paths may be long idProperty values; a trailing slash names the same resource.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1_000 },
  });
  // Bodies are JSON whatever their content type says; an empty one is no body.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, text, done) => {
    if (!String(text).trim()) return done(null, undefined);
    try {
      done(null, JSON.parse(String(text)));
    } catch (error) {
      done(new HttpError({ status: 400, body: errorBody('VALIDATION_ERROR', `Invalid input JSON: ${(error as Error).message}`) }), undefined);
    }
  });

  const send = (reply: FastifyReply, status: number, body: unknown, headers: Record<string, string> = {}): FastifyReply => {
    reply.code(status).headers(headers);
    if (body === undefined) return reply.send();
    return reply.header('content-type', 'application/json;charset=utf-8').send(JSON.stringify(body));
  };
  const sendRateLimit = (reply: FastifyReply, policyName: 'DAILY' | 'TEN_SECONDLY_ROLLING'): FastifyReply => {
    const message = policyName === 'DAILY' ? 'You have reached your daily limit.' : 'You have reached your ten_secondly_rolling limit.';
    return send(reply, 429, { status: 'error', message, errorType: 'RATE_LIMIT', correlationId: randomUUID(), policyName, groupName: 'sandbox' }, {
      ...limits.headers(),
      'x-hubspot-ratelimit-interval-milliseconds': String(limits.settings.windowMs),
    });
  };
  const noRoute = (request: FastifyRequest, reply: FastifyReply) => send(reply, 404, errorBody('OBJECT_NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}`));

  // Every call: counted under its endpoint, then bearer auth, HubSpot's rate limits and the fault plan.
  app.addHook('onRequest', async (request, reply) => {
    if (request.is404) return;
    const endpoint = endpointOf(request);
    if (!endpoint) return noRoute(request, reply);
    counters.add(endpoint);
    if (request.headers.authorization !== `Bearer ${accessToken}`) {
      return send(reply, 401, errorBody('INVALID_AUTHENTICATION', 'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview'));
    }
    const verdict = limits.admit(Date.now());
    if (verdict.kind !== 'ok') return sendRateLimit(reply, verdict.kind === 'daily' ? 'DAILY' : 'TEN_SECONDLY_ROLLING');
    const decision = faults.decide(endpoint);
    if (decision.latencyMs > 0) await sleep(decision.latencyMs);
    if (decision.kind === 'rateLimit') return sendRateLimit(reply, 'TEN_SECONDLY_ROLLING');
    if (decision.kind === 'serverError') return send(reply, 502, errorBody('INTERNAL_ERROR', 'Bad gateway: the service did not answer in time, please retry'));
    if (decision.kind === 'timeout') {
      await sleep(timeoutMs, undefined, { signal: closing.signal }).catch(() => undefined);
      return send(reply, 504, errorBody('INTERNAL_ERROR', 'Gateway timeout'));
    }
  });

  app.setNotFoundHandler(noRoute);
  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    if (error instanceof HttpError) return send(reply, error.reply.status, error.reply.body, limits.headers());
    if (error.statusCode === 413) return send(reply, 413, errorBody('VALIDATION_ERROR', 'Request body is too large.'), limits.headers());
    return send(reply, 500, errorBody('INTERNAL_ERROR', error.message));
  });

  type Request = FastifyRequest<{ Params: Record<string, string>; Body: unknown }>;
  /** A route: the endpoint it counts under and a handler run as the integration (webhooks say INTEGRATION). */
  const route = (endpoint: string, run: (request: Request, query: URLSearchParams) => Reply) => ({
    config: { hubspotEndpoint: endpoint },
    handler: async (request: Request, reply: FastifyReply) => {
      const query = new URL(request.url, 'http://sandbox').searchParams;
      const result = state.withChangeSource('INTEGRATION', () => run(request, query));
      return send(reply, result.status, result.body, limits.headers());
    },
  });
  const typeOf = (request: Request, param = 'objectType') => TYPE_ALIASES[request.params[param]];

  app.get('/account-info/v3/details', route('account-info.details', () => ({ status: 200, body: account })));
  app.get('/crm/v3/properties/:objectType', route('properties.{type}', (r) => api.properties(typeOf(r))));
  app.get('/crm/v3/properties/:objectType/:propertyName', route('properties.{type}', (r) => api.property(typeOf(r), r.params.propertyName)));

  // CRM v3 objects.
  app.get('/crm/v3/objects/:objectType', route('{type}.list', (r, q) => api.list(typeOf(r), q)));
  app.post('/crm/v3/objects/:objectType', route('{type}.create', (r) => api.createOne(typeOf(r), r.body)));
  app.post('/crm/v3/objects/:objectType/search', route('{type}.search', (r) => api.search(typeOf(r), r.body)));
  app.post('/crm/v3/objects/:objectType/merge', route('{type}.merge', (r) => api.merge(typeOf(r), r.body)));
  app.post('/crm/v3/objects/contacts/gdpr-delete', route('contacts.gdpr-delete', (r) => api.gdprDelete(r.body)));
  app.post('/crm/v3/objects/:objectType/batch/read', route('{type}.batch.read', (r, q) => api.batchRead(typeOf(r), q, r.body)));
  app.post('/crm/v3/objects/:objectType/batch/create', route('{type}.batch.create', (r) => api.batchWrite(typeOf(r), 'create', r.body)));
  app.post('/crm/v3/objects/:objectType/batch/update', route('{type}.batch.update', (r) => api.batchWrite(typeOf(r), 'update', r.body)));
  app.post('/crm/v3/objects/:objectType/batch/upsert', route('{type}.batch.upsert', (r) => api.batchWrite(typeOf(r), 'upsert', r.body)));
  app.post('/crm/v3/objects/:objectType/batch/archive', route('{type}.batch.archive', (r) => api.batchArchive(typeOf(r), r.body)));
  app.get('/crm/v3/objects/:objectType/:objectId', route('{type}.get', (r, q) => api.getOne(typeOf(r), r.params.objectId, q)));
  app.patch('/crm/v3/objects/:objectType/:objectId', route('{type}.update', (r, q) => api.updateOne(typeOf(r), r.params.objectId, q, r.body)));
  app.delete('/crm/v3/objects/:objectType/:objectId', route('{type}.archive', (r) => api.archiveOne(typeOf(r), r.params.objectId)));

  // Associations v4: one record's, and in batches between two object types.
  const from = (r: Request) => typeOf(r, 'fromObjectType');
  const to = (r: Request) => typeOf(r, 'toObjectType');
  const one = '/crm/v4/objects/:fromObjectType/:fromObjectId/associations';
  app.get(`${one}/:toObjectType`, route('associations.list', (r, q) => associations.getPage(from(r), r.params.fromObjectId, to(r), q)));
  app.put(`${one}/default/:toObjectType/:toObjectId`, route('associations.put', (r) => associations.createDefault(from(r), r.params.fromObjectId, to(r), r.params.toObjectId)));
  app.put(`${one}/:toObjectType/:toObjectId`, route('associations.create', (r) => associations.create(from(r), r.params.fromObjectId, to(r), r.params.toObjectId, r.body)));
  app.delete(`${one}/:toObjectType/:toObjectId`, route('associations.archive', (r) => associations.archive(from(r), r.params.fromObjectId, to(r), r.params.toObjectId)));
  const batch = '/crm/v4/associations/:fromObjectType/:toObjectType/batch';
  const inputs = <T>(r: Request) => inputsOf<T>(r.body, MAX_ASSOCIATION_INPUTS);
  app.post(`${batch}/associate/default`, route('associations.batch.associate', (r) => associations.batchCreateDefault(from(r), to(r), inputs(r))));
  app.post(`${batch}/create`, route('associations.batch.create', (r) => associations.batchCreate(from(r), to(r), inputs(r))));
  app.post(`${batch}/read`, route('associations.batch.read', (r) => associations.batchRead(from(r), to(r), inputs(r))));
  app.post(`${batch}/archive`, route('associations.batch.archive', (r) => associations.batchArchive(from(r), to(r), inputs(r))));
  app.post(`${batch}/labels/archive`, route('associations.batch.archiveLabels', (r) => associations.batchArchiveLabels(from(r), to(r), inputs(r))));

  // Association labels (the v4 schema API), at the path the spec gives and the one the SDK calls.
  for (const labels of ['/crm/associations/v4/:fromObjectType/:toObjectType/labels', '/crm/v4/associations/:fromObjectType/:toObjectType/labels']) {
    app.get(labels, route('associations.labels.list', (r) => associations.labels(from(r), to(r))));
    app.post(labels, route('associations.labels.create', (r) => associations.createLabel(from(r), to(r), r.body)));
    app.put(labels, route('associations.labels.update', (r) => associations.updateLabel(from(r), to(r), r.body)));
    app.delete(`${labels}/:associationTypeId`, route('associations.labels.remove', (r) => associations.removeLabel(from(r), to(r), r.params.associationTypeId)));
  }

  const host = options.host ?? '127.0.0.1';
  await app.listen({ port: options.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    accessToken,
    portalId,
    counters,
    faults,
    limits,
    batchMode: api.options,
    state,
    webhooks,
    close: async () => {
      webhooks.close();
      closing.abort();
      await app.close();
    },
  };
}

/**
 * The endpoint name of a matched route, its placeholders filled from the path; undefined when the
 * path names an object type the portal does not have (answered as a route that does not exist).
 */
function endpointOf(request: FastifyRequest): string | undefined {
  const template = request.routeOptions.config.hubspotEndpoint;
  if (!template) return undefined;
  const params = request.params as Record<string, string | undefined>;
  for (const type of [params.objectType, params.fromObjectType, params.toObjectType]) if (type !== undefined && !TYPE_ALIASES[type]) return undefined;
  return template.replace('{type}', TYPE_ALIASES[params.objectType ?? ''] ?? '');
}
