import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { CallCounters, FaultInjector, type FaultPlan } from '../../../src/sandbox/index.js';
import { SALESFORCE_API_VERSION, SALESFORCE_OBJECTS } from '../descriptor.js';
import { grantToken, SANDBOX_CREDENTIALS, sandboxOrgId, SessionStore, USER_ID } from './auth.js';
import { BulkQueryJobs } from './bulk.js';
import { describeBasic, describeGlobal, describeObject } from './describe.js';
import { OrgError, SalesforceOrg, type Version, type WireRecord, type WriteContext } from './org.js';
import { ORGANIZATION_OBJECT, seedOrg, type SeedOptions } from './seed.js';
import { bindQuery, formatSfDateTime, parseSfDateTime, parseSoql, SoqlError } from './soql.js';
import { startSalesforceWebhooks, type SalesforceWebhookOptions, type SalesforceWebhooks } from './webhooks.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The endpoint a Salesforce route counts its calls under (query, sobject.create, composite.upsert, …). */
    salesforceEndpoint?: string;
    /** The route is part of the org's API: it needs a session, uses the daily allowance and passes the fault plan. */
    salesforceApi?: boolean;
  }
}

/**
 * A Fastify server that speaks enough of the Salesforce REST API for the unmodified jsforce:
 * OAuth token endpoint, identity, describe, SOQL query/queryAll with server-side cursors,
 * getDeleted/getUpdated, single-record and sObject Collections writes, Bulk API 2.0 query jobs.
 * Every API call is counted, passes through the fault injector, and answers with Sforce-Limit-Info.
 */

export interface SalesforceSandboxOptions extends Omit<SeedOptions, 'seed' | 'accounts'> {
  port?: number;
  host?: string;
  seed?: number;
  /** Seeded accounts (each with contactsPerAccount contacts and opportunitiesPerAccount opportunities). */
  accounts?: number;
  faults?: FaultPlan | FaultInjector;
  /** Lifetime of an access token; a call with an older one gets 401 INVALID_SESSION_ID. */
  tokenLifetimeSec?: number;
  /** Daily API request allowance; past it every call gets 403 REQUEST_LIMIT_EXCEEDED. */
  apiLimit?: number;
  /** The org's clock (epoch ms). */
  now?: () => number;
  /** Send signed change notifications, as an org's Flow/Apex callout would (or set a target later with `webhooks.configure`). */
  webhooks?: Partial<SalesforceWebhookOptions>;
  /**
   * The Bulk API 2.0 job clock: how many looks at a query job (GET /jobs/query/<id>) find it still
   * in progress before it completes. 0 (default): the first look after creation finds it done.
   */
  bulkJobPolls?: number;
  /**
   * How long a call picked for a timeout fault hangs before the sandbox drops its connection, as a
   * proxy in front of the org would. Unset: it never answers and the client's own timeout decides.
   */
  timeoutMs?: number;
}

export interface RecordEditOptions {
  /** SystemModstamp to give the change (epoch ms or a Salesforce datetime); the clock by default. */
  at?: number | string;
  /** Attribute the change to this API client, as if sent with Sforce-Call-Options: client=<name>. */
  client?: string;
}

/** Direct access to the org's records for tests: bypasses the API, like a user editing in Salesforce. */
export interface SalesforceSandboxState {
  readonly org: SalesforceOrg;
  get(object: string, id: string): WireRecord | undefined;
  findByExternalId(object: string, value: string): WireRecord | undefined;
  insert(object: string, fields: Record<string, unknown>, options?: RecordEditOptions): WireRecord;
  update(object: string, id: string, fields: Record<string, unknown>, options?: RecordEditOptions): WireRecord;
  delete(object: string, id: string, options?: RecordEditOptions): WireRecord;
  count(object: string, includeDeleted?: boolean): number;
  /** The Sforce-Call-Options client of the call that last changed the record; null for users and seed data. */
  clientOf(object: string, id: string): string | null | undefined;
  /** API requests used today and the daily allowance. */
  apiUsage(): { used: number; max: number };
  setApiUsage(used: number): void;
  /** Ends every session: the next call with an old token gets 401 INVALID_SESSION_ID. */
  expireSessions(): void;
  /** The org's Bulk API 2.0 query jobs: list them, fail one (or the next to run), or drop one as if its results had expired. */
  readonly bulkJobs: Pick<BulkQueryJobs, 'ids' | 'fail' | 'failNext' | 'forget'>;
}

export interface SalesforceSandbox {
  url: string;
  /** The org's 18-character id (00D…): derived from the seed unless the orgId option names one. */
  orgId: string;
  counters: CallCounters;
  faults: FaultInjector;
  state: SalesforceSandboxState;
  credentials: typeof SANDBOX_CREDENTIALS;
  /** Change-notification callouts: target, delivery counters and faults. */
  webhooks: SalesforceWebhooks;
  close(): Promise<void>;
}

const DEFAULT_BATCH = 2000;
const MAX_COLLECTION = 200;
/** Records one sObject Collections retrieve returns (a GET is bounded by URL length first, ~800 ids). */
const MAX_RETRIEVE = 2000;
/** Records sObject Basic Information lists as recently used. */
const MAX_RECENT = 25;
const MAX_OPEN_CURSORS = 50;

interface Cursor {
  versions: Version[];
  format: (v: Version) => WireRecord;
  batchSize: number;
}

/** A response body sent as is (CSV results), not as JSON. */
class TextBody {
  constructor(readonly contentType: string, readonly text: string) {}
}

class ApiError extends Error {
  constructor(readonly status: number, readonly errorCode: string, message: string, readonly fields?: string[]) {
    super(message);
  }
}

function errorBody(errorCode: string, message: string, fields?: string[]) {
  return [{ message, errorCode, ...(fields ? { fields } : {}) }];
}

/** The `client` named in a Sforce-Call-Options header, if any. */
export function callOptionsClient(header: string | string[] | undefined): string | null {
  const text = Array.isArray(header) ? header.join(',') : header;
  const m = text ? /(?:^|[,\s])client=([^,\s]+)/.exec(text) : null;
  return m ? m[1] : null;
}

type Reply = [status: number, body?: unknown, headers?: Record<string, string>];
type ApiRequest = FastifyRequest<{ Params: Record<string, string>; Querystring: Record<string, string | undefined>; Body: unknown }>;

export async function startSalesforceSandbox(options: SalesforceSandboxOptions = {}): Promise<SalesforceSandbox> {
  const counters = new CallCounters();
  const faults = options.faults instanceof FaultInjector ? options.faults : new FaultInjector(options.faults ?? {});
  const now = options.now ?? Date.now;
  const seed = options.seed ?? 42;
  const orgId = sandboxOrgId(seed, options.orgId);
  const org = new SalesforceOrg([...SALESFORCE_OBJECTS, ORGANIZATION_OBJECT], { now });
  seedOrg(org, { ...options, seed, orgId, accounts: options.accounts ?? 100 });
  const webhooks = startSalesforceWebhooks(org, options.webhooks);
  const sessions = new SessionStore(orgId, options.tokenLifetimeSec ?? 7200, now);
  const bulk = new BulkQueryJobs(org, { userId: USER_ID, now, pollsBeforeComplete: options.bulkJobPolls });
  const usage = { used: 0, max: options.apiLimit ?? 100_000 };
  const cursors = new Map<string, Cursor>();
  let cursorSerial = 0;
  let url = '';

  const limitInfo = () => `api-usage=${usage.used}/${usage.max}`;

  function openCursor(cursor: Cursor): string {
    const id = `01gDn${String(++cursorSerial).padStart(10, '0')}`;
    cursors.set(id, cursor);
    // Like an org, keep a bounded number of open cursors: the oldest go first.
    while (cursors.size > MAX_OPEN_CURSORS) cursors.delete(cursors.keys().next().value as string);
    return id;
  }

  function page(cursorId: string | undefined, cursor: Cursor, offset: number, version: string) {
    const slice = cursor.versions.slice(offset, offset + cursor.batchSize);
    const end = offset + slice.length;
    const done = end >= cursor.versions.length;
    let id = cursorId;
    if (!done && !id) id = openCursor(cursor);
    return {
      totalSize: cursor.versions.length,
      done,
      ...(done ? {} : { nextRecordsUrl: `/services/data/v${version}/query/${id}-${end}` }),
      records: slice.map(cursor.format),
    };
  }

  function batchSize(request: FastifyRequest): number {
    const m = /batchSize=(\d+)/.exec(String(request.headers['sforce-query-options'] ?? ''));
    return m ? Math.min(DEFAULT_BATCH, Math.max(200, Number(m[1]))) : DEFAULT_BATCH;
  }

  function runQuery(request: FastifyRequest, soql: string | undefined, includeDeleted: boolean, version: string) {
    if (!soql) throw new ApiError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
    let bound;
    try {
      const parsed = parseSoql(soql);
      bound = bindQuery(parsed, org.spec(parsed.object));
    } catch (e) {
      if (e instanceof SoqlError) throw new ApiError(400, e.errorCode, e.message);
      if (e instanceof OrgError) {
        throw new ApiError(400, 'INVALID_TYPE', `sObject type '${/FROM\s+(\w+)/i.exec(soql)?.[1] ?? ''}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`);
      }
      throw e;
    }
    const versions = org.query(bound, includeDeleted);
    if (bound.count) return { totalSize: versions.length, done: true, records: [] };
    return page(undefined, { versions, format: org.wireFormatter(bound.spec.name, version, bound.select), batchSize: batchSize(request) }, 0, version);
  }

  function queryMore(locator: string, version: string) {
    const m = /^(01g\w+)-(\d+)$/.exec(locator);
    const cursor = m ? cursors.get(m[1]) : undefined;
    if (!m || !cursor) throw new ApiError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    cursors.delete(m[1]);
    cursors.set(m[1], cursor);
    return page(m[1], cursor, Number(m[2]), version);
  }

  function writeContext(request: FastifyRequest, allOrNone: boolean): WriteContext {
    return { client: callOptionsClient(request.headers['sforce-call-options']), allOrNone, recordFails: () => faults.recordFails() };
  }

  function collectionRecords(body: unknown): { allOrNone: boolean; records: Array<Record<string, unknown>> } {
    const b = body as { allOrNone?: unknown; records?: unknown };
    if (!b || !Array.isArray(b.records)) throw new ApiError(400, 'INVALID_FIELD', 'Missing required records field');
    if (b.records.length > MAX_COLLECTION) {
      throw new ApiError(400, 'EXCEEDED_ID_LIMIT', `record limit reached. cannot submit more than ${MAX_COLLECTION} records into this call`);
    }
    return { allOrNone: b.allOrNone === true, records: b.records as Array<Record<string, unknown>> };
  }

  function typeOf(record: Record<string, unknown>): string {
    const type = (record.attributes as { type?: unknown } | undefined)?.type;
    if (typeof type !== 'string') throw new ApiError(400, 'INVALID_TYPE', 'Must send a concrete entity type.');
    return type;
  }

  function timeParam(query: Record<string, string | undefined>, name: string): number {
    const text = query[name];
    const ms = text ? parseSfDateTime(text.replace(' ', '+')) : Number.NaN;
    if (Number.isNaN(ms)) throw new ApiError(400, 'INVALID_DATE_FORMAT', `${name}: invalid date/time format: ${text ?? ''}`);
    return ms;
  }

  /** A live record of the path. One in the recycle bin cannot be read (NOT_FOUND) nor changed (ENTITY_IS_DELETED), as in an org. */
  const existing = (object: string, id: string, forWrite = false) => {
    const v = org.get(object, id);
    if (!v || (v.fields.IsDeleted && !forWrite)) throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    if (v.fields.IsDeleted) throw new ApiError(404, 'ENTITY_IS_DELETED', 'entity is deleted', []);
    return v;
  };

  /** sObject Collections retrieve: one entry per id, null where there is no live record; every field must exist. */
  const retrieveMany = (object: string, ids: unknown, fields: unknown, version: string) => {
    if (!Array.isArray(ids) || ids.length === 0 || !Array.isArray(fields) || fields.length === 0) throw new ApiError(400, 'MISSING_ARGUMENT', 'ids and fields are required');
    if (ids.length > MAX_RETRIEVE) throw new ApiError(400, 'EXCEEDED_ID_LIMIT', `record limit reached. cannot retrieve more than ${MAX_RETRIEVE} records in one call`);
    const spec = org.spec(object);
    const select = fields.map((f) => {
      const field = spec.fields.find((x) => x.name.toLowerCase() === String(f).toLowerCase());
      if (!field) throw new ApiError(400, 'INVALID_FIELD', `No such column '${String(f)}' on entity '${spec.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`);
      return field.name;
    });
    const format = org.wireFormatter(object, version, select);
    return ids.map((id) => {
      const v = typeof id === 'string' ? org.get(object, id) : undefined;
      return v && !v.fields.IsDeleted ? format(v) : null;
    });
  };

  // ---- the server -------------------------------------------------------------------------------

  const app = Fastify({
    logger: false, forceCloseConnections: true, keepAliveTimeout: 30_000, bodyLimit: 50 * 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1_000 },
  });
  // JSON whatever the content type says (an empty body is none), forms for the OAuth endpoints.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, text, done) => done(null, new URLSearchParams(String(text))));
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, text, done) => {
    if (!String(text).trim()) return done(null, undefined);
    try {
      done(null, JSON.parse(String(text)));
    } catch {
      done(new ApiError(400, 'JSON_PARSER_ERROR', 'Unexpected character in the request body: not valid JSON'), undefined);
    }
  });

  /** The methods each REST resource takes, for the 405s. */
  const routeMethods = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/services/data/v') || route.config?.salesforceEndpoint === 'methodNotAllowed') return;
    const methods = routeMethods.get(route.url) ?? new Set<string>();
    for (const m of [route.method].flat()) methods.add(m);
    routeMethods.set(route.url, methods);
  });

  const send = (reply: FastifyReply, status: number, body?: unknown, headers: Record<string, string> = {}): FastifyReply => {
    if (reply.sent || reply.raw.destroyed) return reply;
    reply.code(status).header('Sforce-Limit-Info', limitInfo()).headers(headers);
    if (body === undefined) return reply.send();
    if (body instanceof TextBody) return reply.header('Content-Type', body.contentType).send(Buffer.from(body.text));
    return reply.header('Content-Type', 'application/json;charset=UTF-8').send(JSON.stringify(body));
  };
  const notFound = (_request: FastifyRequest, reply: FastifyReply) => {
    counters.add('notFound');
    return send(reply, 404, errorBody('NOT_FOUND', 'The requested resource does not exist'));
  };

  // The org's API: counted, then session, daily allowance and the fault plan, before any body is read.
  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    const endpoint = config.salesforceEndpoint;
    if (!endpoint || request.is404) return;
    counters.add(endpoint);
    if (!config.salesforceApi) return;
    const query = request.query as Record<string, string | undefined>;
    const bearer = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? query.oauth_token ?? undefined;
    if (!sessions.valid(bearer)) {
      counters.add('sessionInvalid');
      return send(reply, 401, errorBody('INVALID_SESSION_ID', 'Session expired or invalid'));
    }
    if (usage.used >= usage.max) {
      counters.add('limitExceeded');
      return send(reply, 403, errorBody('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'));
    }
    usage.used++;
    const fault = faults.decide(endpoint);
    if (fault.latencyMs > 0) await new Promise((r) => setTimeout(r, fault.latencyMs));
    if (fault.kind === 'rateLimit') {
      counters.add('fault.rateLimit');
      return send(reply, 403, errorBody('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'));
    }
    if (fault.kind === 'serverError') {
      counters.add('fault.serverError');
      return send(reply, 503, errorBody('SERVER_UNAVAILABLE', 'Server temporarily unavailable. Please try again later.'));
    }
    if (fault.kind === 'timeout') {
      // Never answer: the client's own timeout decides (or timeoutMs drops the connection); close() drops it too.
      counters.add('fault.timeout');
      reply.hijack();
      if (options.timeoutMs !== undefined) {
        const socket = request.raw.socket;
        const timer = setTimeout(() => socket.destroy(), options.timeoutMs);
        socket.once('close', () => clearTimeout(timer));
      }
      return reply;
    }
  });

  app.setNotFoundHandler(notFound);
  app.setErrorHandler((e: Error & { statusCode?: number }, _request, reply) => {
    if (e instanceof ApiError) return send(reply, e.status, errorBody(e.errorCode, e.message, e.fields));
    if (e instanceof OrgError) return send(reply, e.status, errorBody(e.errorCode, e.message));
    if (e.statusCode === 413) return send(reply, 413, errorBody('REQUEST_ENTITY_TOO_LARGE', 'The request body is too large.'));
    return send(reply, 500, errorBody('UNKNOWN_EXCEPTION', `An unexpected error occurred: ${e.message}`));
  });

  /** A route of the org's REST API (under /services/data/vXX.X) and the endpoint it counts as. */
  const api = (endpoint: string, run: (request: ApiRequest, version: string) => Reply | Promise<Reply>) => ({
    config: { salesforceEndpoint: endpoint, salesforceApi: true },
    handler: async (request: ApiRequest, reply: FastifyReply) => {
      const [status, body, headers] = await run(request, request.params.version);
      return send(reply, status, body, headers);
    },
  });
  const DATA = '/services/data/v:version';

  // ---- OAuth, versions, identity --------------------------------------------------------------

  app.post<{ Body: URLSearchParams | undefined }>('/services/oauth2/token', { config: { salesforceEndpoint: 'token' } }, async (request, reply) => {
    const outcome = grantToken(request.body instanceof URLSearchParams ? request.body : new URLSearchParams(), sessions, url, orgId);
    return send(reply, outcome.status, outcome.body);
  });
  app.post<{ Body: URLSearchParams | undefined }>('/services/oauth2/revoke', { config: { salesforceEndpoint: 'revoke' } }, async (request, reply) => {
    const token = request.body instanceof URLSearchParams ? request.body.get('token') : null;
    if (token) sessions.revoke(token);
    return send(reply, 200);
  });
  app.get('/services/data', { config: { salesforceEndpoint: 'versions' } }, async (_request, reply) =>
    send(reply, 200, [{ label: 'Winter 25', url: `/services/data/v${SALESFORCE_API_VERSION}`, version: SALESFORCE_API_VERSION }]));
  // The identity URL names the org and the user, each in 15- or 18-character form; any other is not found.
  for (const org of [orgId.slice(0, 15), orgId]) {
    for (const user of [USER_ID.slice(0, 15), USER_ID]) {
      app.get(`/id/${org}/${user}`, { config: { salesforceEndpoint: 'identity', salesforceApi: true } }, async (_request, reply) => send(reply, 200, identityBody()));
    }
  }

  // ---- REST API -------------------------------------------------------------------------------

  app.get(DATA, api('resources', (_r, version) => [200, {
    sobjects: `/services/data/v${version}/sobjects`, query: `/services/data/v${version}/query`, queryAll: `/services/data/v${version}/queryAll`,
    limits: `/services/data/v${version}/limits`, composite: `/services/data/v${version}/composite`, identity: `${url}/id/${orgId}/${USER_ID}`,
    jobs: `/services/data/v${version}/jobs`,
  }]));
  app.get(`${DATA}/limits`, api('limits', () => [200, orgLimits(usage, bulk.ids().length)]));
  app.get(`${DATA}/sobjects`, api('describeGlobal', (_r, version) => [200, describeGlobal(org.objects, version)]));
  app.get(`${DATA}/query`, api('query', (r, version) => [200, runQuery(r, r.query.q, false, version)]));
  app.get(`${DATA}/queryAll`, api('queryAll', (r, version) => [200, runQuery(r, r.query.q, true, version)]));
  app.get(`${DATA}/query/:locator`, api('queryMore', (r, version) => [200, queryMore(r.params.locator, version)]));
  app.get(`${DATA}/queryAll/:locator`, api('queryMore', (r, version) => [200, queryMore(r.params.locator, version)]));

  // Bulk API 2.0 query jobs.
  app.post(`${DATA}/jobs/query`, api('bulkQuery.create', (r, version) => [200, bulk.create(r.body, version)]));
  app.get(`${DATA}/jobs/query`, api('bulkQuery.list', (r, version) => [200, bulk.list(new URLSearchParams(r.query as Record<string, string>), version)]));
  app.get(`${DATA}/jobs/query/:id`, api('bulkQuery.get', (r) => [200, bulk.info(r.params.id)]));
  app.patch(`${DATA}/jobs/query/:id`, api('bulkQuery.abort', (r) => [200, bulk.abort(r.params.id, r.body)]));
  app.delete(`${DATA}/jobs/query/:id`, api('bulkQuery.delete', (r) => { bulk.remove(r.params.id); return [204]; }));
  app.get(`${DATA}/jobs/query/:id/results`, api('bulkQuery.results', (r) => {
    const set = bulk.results(r.params.id, new URLSearchParams(r.query as Record<string, string>));
    return [200, new TextBody('text/csv', set.csv), { 'Sforce-Locator': set.locator, 'Sforce-NumberOfRecords': String(set.count) }];
  }));

  // sObjects: describe, replication, single records.
  app.get(`${DATA}/sobjects/:object`, api('sobject.info', (r, version) => {
    const spec = org.spec(r.params.object);
    const format = org.wireFormatter(spec.name, version, spec.fields.some((f) => f.name === 'Name') ? ['Id', 'Name'] : ['Id']);
    const recent = org.query(bindQuery(parseSoql(`SELECT Id FROM ${spec.name} ORDER BY SystemModstamp DESC LIMIT ${MAX_RECENT}`), spec), false);
    return [200, { objectDescribe: describeBasic(spec, version), recentItems: recent.map(format) }];
  }));
  app.get(`${DATA}/sobjects/:object/describe`, api('describe', (r, version) => [200, describeObject(org.spec(r.params.object), version)]));
  for (const kind of ['deleted', 'updated'] as const) {
    app.get(`${DATA}/sobjects/:object/${kind}`, api(kind, (r) => {
      const object = r.params.object;
      const start = timeParam(r.query, 'start');
      const end = timeParam(r.query, 'end');
      if (end < start) throw new ApiError(400, 'INVALID_REPLICATION_DATE', 'start date must be before end date');
      const covered = formatSfDateTime(Math.min(end, now()));
      if (kind === 'deleted') {
        const deleted = org.deletedBetween(object, start, end);
        return [200, {
          deletedRecords: deleted.map((v) => ({ id: v.fields.Id, deletedDate: formatSfDateTime(v.fields.SystemModstamp as number) })),
          earliestDateAvailable: formatSfDateTime(start), latestDateCovered: covered,
        }];
      }
      return [200, { ids: org.updatedBetween(object, start, end).map((v) => v.fields.Id), latestDateCovered: covered }];
    }));
  }
  app.post(`${DATA}/sobjects/:object`, api('sobject.create', (r) => {
    const [result] = org.create([{ type: org.spec(r.params.object).name, values: r.body as Record<string, unknown> }], writeContext(r, true));
    if (!result.success) throw new ApiError(400, result.errors[0].statusCode, result.errors[0].message, result.errors[0].fields);
    return [201, result];
  }));
  app.get(`${DATA}/sobjects/:object/:id`, api('sobject.get', (r, version) => {
    const fields = r.query.fields?.split(',').map((f) => f.trim()).filter(Boolean);
    const spec = org.spec(r.params.object);
    const select = fields?.map((f) => {
      const field = spec.fields.find((x) => x.name.toLowerCase() === f.toLowerCase());
      if (!field) throw new ApiError(400, 'INVALID_FIELD', `No such column '${f}' on sobject of type ${spec.name}`);
      return field.name;
    });
    return [200, org.wireFormatter(r.params.object, version, select)(existing(r.params.object, r.params.id))];
  }));
  app.patch(`${DATA}/sobjects/:object/:id`, api('sobject.update', (r) => {
    existing(r.params.object, r.params.id, true);
    const [result] = org.update([{ type: org.spec(r.params.object).name, id: r.params.id, values: r.body as Record<string, unknown> }], writeContext(r, true));
    if (!result.success) throw new ApiError(400, result.errors[0].statusCode, result.errors[0].message, result.errors[0].fields);
    return [204];
  }));
  app.delete(`${DATA}/sobjects/:object/:id`, api('sobject.delete', (r) => {
    existing(r.params.object, r.params.id, true);
    const [result] = org.destroy([r.params.id], writeContext(r, true));
    if (!result.success) throw new ApiError(400, result.errors[0].statusCode, result.errors[0].message);
    return [204];
  }));
  app.get(`${DATA}/sobjects/:object/:field/:value`, api('sobject.get', (r, version) => {
    const v = org.findByExternalId(r.params.object, r.params.value);
    if (!v) throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    return [200, org.wireFormatter(r.params.object, version)(v)];
  }));
  app.patch(`${DATA}/sobjects/:object/:field/:value`, api('sobject.upsert', (r) => {
    const { object, field, value } = r.params;
    const [result] = org.upsert(object, field, [{ ...(r.body as Record<string, unknown>), [field]: value }], writeContext(r, true));
    if (!result.success) throw new ApiError(400, result.errors[0].statusCode, result.errors[0].message, result.errors[0].fields);
    return [result.created ? 201 : 200, result];
  }));

  // sObject Collections.
  app.post(`${DATA}/composite/sobjects`, api('composite.create', (r) => {
    const { allOrNone, records } = collectionRecords(r.body);
    const typed = records.map((record) => {
      const { attributes: _a, ...values } = record;
      return { type: typeOf(record), values };
    });
    return [200, org.create(typed, writeContext(r, allOrNone))];
  }));
  app.patch(`${DATA}/composite/sobjects`, api('composite.update', (r) => {
    const { allOrNone, records } = collectionRecords(r.body);
    const typed = records.map((record) => {
      const { attributes: _a, id, Id, ...values } = record;
      return { type: typeOf(record), id: String(id ?? Id ?? ''), values };
    });
    return [200, org.update(typed, writeContext(r, allOrNone))];
  }));
  app.delete(`${DATA}/composite/sobjects`, api('composite.delete', (r) => {
    const ids = (r.query.ids ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (ids.length === 0) throw new ApiError(400, 'MISSING_ARGUMENT', 'ids parameter is required');
    if (ids.length > MAX_COLLECTION) throw new ApiError(400, 'EXCEEDED_ID_LIMIT', `record limit reached. cannot submit more than ${MAX_COLLECTION} records into this call`);
    return [200, org.destroy(ids, writeContext(r, r.query.allOrNone === 'true'))];
  }));
  app.patch(`${DATA}/composite/sobjects/:object/:field`, api('composite.upsert', (r) => {
    const { object, field } = r.params;
    const { allOrNone, records } = collectionRecords(r.body);
    for (const record of records) if (typeOf(record).toLowerCase() !== object.toLowerCase()) throw new ApiError(400, 'INVALID_TYPE', `Record type ${typeOf(record)} does not match ${object}`);
    return [200, org.upsert(object, field, records, writeContext(r, allOrNone))];
  }));
  app.post(`${DATA}/composite/sobjects/:object`, api('composite.retrieve', (r, version) => {
    const { ids, fields } = (r.body ?? {}) as { ids?: unknown; fields?: unknown };
    return [200, retrieveMany(r.params.object, ids, fields, version)];
  }));
  app.get(`${DATA}/composite/sobjects/:object`, api('composite.retrieve', (r, version) => {
    const list = (name: string) => r.query[name]?.split(',').map((s) => s.trim()).filter(Boolean);
    return [200, retrieveMany(r.params.object, list('ids'), list('fields'), version)];
  }));

  // A resource the org has, asked with a method it does not take: 405 naming the ones it does.
  for (const [url, methods] of routeMethods) {
    const missing = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'].filter((m) => !methods.has(m));
    if (missing.length === 0) continue;
    const allowed = [...methods].filter((m) => m !== 'HEAD').join(',');
    app.route({
      method: missing, url, config: { salesforceEndpoint: 'methodNotAllowed' },
      handler: async (request, reply) => send(reply, 405, errorBody('METHOD_NOT_ALLOWED', `HTTP Method '${request.method}' not allowed. Allowed are ${allowed}`)),
    });
  }

  function identityBody() {
    const rest = `${url}/services/data/v{version}/`;
    return {
      id: `${url}/id/${orgId}/${USER_ID}`,
      asserted_user: true,
      user_id: USER_ID,
      organization_id: orgId,
      username: SANDBOX_CREDENTIALS.username,
      nick_name: 'admin',
      display_name: 'Sandbox Admin',
      email: SANDBOX_CREDENTIALS.username,
      email_verified: true,
      active: true,
      user_type: 'STANDARD',
      language: 'en_US',
      locale: 'en_US',
      utcOffset: 0,
      urls: { rest, sobjects: `${rest}sobjects/`, query: `${rest}query/`, limits: `${rest}limits/`, custom_domain: url },
      is_app_installed: true,
    };
  }

  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  url = `http://${host}:${address.port}`;

  const stampOf = (o?: RecordEditOptions) => org.stamp(typeof o?.at === 'string' ? parseSfDateTime(o.at) : o?.at);
  const wire = (object: string, v: Version | undefined) => (v ? org.wireFormatter(object, SALESFORCE_API_VERSION)(v) : undefined);
  const state: SalesforceSandboxState = {
    org,
    get: (object, id) => wire(object, org.get(object, id)),
    findByExternalId: (object, value) => wire(object, org.findByExternalId(object, value)),
    insert: (object, fields, o) => wire(object, org.insertRaw(object, fields, stampOf(o), o?.client ?? null))!,
    update: (object, id, fields, o) => wire(object, org.updateRaw(object, id, fields, stampOf(o), o?.client ?? null))!,
    delete: (object, id, o) => wire(object, org.deleteRaw(object, id, stampOf(o), o?.client ?? null))!,
    count: (object, includeDeleted) => org.count(object, includeDeleted),
    clientOf: (object, id) => org.get(object, id)?.client,
    apiUsage: () => ({ ...usage }),
    setApiUsage: (used) => { usage.used = used; },
    expireSessions: () => sessions.expireAll(),
    bulkJobs: bulk,
  };

  return {
    url,
    orgId,
    counters,
    faults,
    state,
    credentials: SANDBOX_CREDENTIALS,
    webhooks,
    close: async () => {
      webhooks.close();
      await app.close();
    },
  };
}

/** GET /limits: the org's allowances; API requests and Bulk 2.0 query jobs count for real, the rest is a Developer Edition's. */
function orgLimits(usage: { used: number; max: number }, bulkJobs: number): Record<string, { Max: number; Remaining: number }> {
  const limit = (max: number, used = 0) => ({ Max: max, Remaining: Math.max(0, max - used) });
  return {
    ConcurrentAsyncGetReportInstances: limit(200),
    ConcurrentSyncReportRuns: limit(20),
    DailyApiRequests: limit(usage.max, usage.used),
    DailyAsyncApexExecutions: limit(250_000),
    DailyBulkApiBatches: limit(15_000),
    DailyBulkV2QueryFileStorageMB: limit(976_562),
    DailyBulkV2QueryJobs: limit(10_000, bulkJobs),
    DailyStreamingApiEvents: limit(10_000),
    DataStorageMB: limit(5),
    FileStorageMB: limit(20),
    HourlyTimeBasedWorkflow: limit(50),
    SingleEmail: limit(15),
  };
}
