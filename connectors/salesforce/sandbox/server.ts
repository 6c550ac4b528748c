import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallCounters, FaultInjector, type FaultPlan } from '../../../src/sandbox/index.js';
import { SALESFORCE_API_VERSION, SALESFORCE_OBJECTS } from '../descriptor.js';
import { grantToken, SANDBOX_CREDENTIALS, sandboxOrgId, SessionStore, USER_ID } from './auth.js';
import { BulkQueryJobs } from './bulk.js';
import { describeGlobal, describeObject } from './describe.js';
import { OrgError, SalesforceOrg, type Version, type WireRecord, type WriteContext } from './org.js';
import { ORGANIZATION_OBJECT, seedOrg, type SeedOptions } from './seed.js';
import { bindQuery, formatSfDateTime, parseSfDateTime, parseSoql, SoqlError } from './soql.js';
import { startSalesforceWebhooks, type SalesforceWebhookOptions, type SalesforceWebhooks } from './webhooks.js';

/**
 * An HTTP server that speaks enough of the Salesforce REST API for the unmodified jsforce:
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

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'JSON_PARSER_ERROR', 'Unexpected character in the request body: not valid JSON');
  }
}

/** The `client` named in a Sforce-Call-Options header, if any. */
export function callOptionsClient(header: string | string[] | undefined): string | null {
  const text = Array.isArray(header) ? header.join(',') : header;
  const m = text ? /(?:^|[,\s])client=([^,\s]+)/.exec(text) : null;
  return m ? m[1] : null;
}

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

  function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    const payload = body === undefined ? '' : body instanceof TextBody ? body.text : JSON.stringify(body);
    const contentType = body instanceof TextBody ? body.contentType : 'application/json;charset=UTF-8';
    res.writeHead(status, {
      'Sforce-Limit-Info': limitInfo(),
      ...(body === undefined ? {} : { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) }),
      ...headers,
    });
    res.end(payload);
  }

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

  function batchSize(req: IncomingMessage): number {
    const m = /batchSize=(\d+)/.exec(String(req.headers['sforce-query-options'] ?? ''));
    return m ? Math.min(DEFAULT_BATCH, Math.max(200, Number(m[1]))) : DEFAULT_BATCH;
  }

  function runQuery(req: IncomingMessage, soql: string | null, includeDeleted: boolean, version: string) {
    if (!soql) throw new ApiError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
    let bound;
    try {
      const parsed = parseSoql(soql);
      bound = bindQuery(parsed, org.spec(parsed.object));
    } catch (e) {
      if (e instanceof SoqlError) throw new ApiError(400, e.errorCode, e.message);
      if (e instanceof OrgError) throw new ApiError(400, 'INVALID_TYPE', `sObject type '${/FROM\s+(\w+)/i.exec(soql)?.[1] ?? ''}' is not supported.`);
      throw e;
    }
    const versions = org.query(bound, includeDeleted);
    if (bound.count) return { totalSize: versions.length, done: true, records: [] };
    return page(undefined, { versions, format: org.wireFormatter(bound.spec.name, version, bound.select), batchSize: batchSize(req) }, 0, version);
  }

  function queryMore(locator: string, version: string) {
    const m = /^(01g\w+)-(\d+)$/.exec(locator);
    const cursor = m ? cursors.get(m[1]) : undefined;
    if (!m || !cursor) throw new ApiError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    cursors.delete(m[1]);
    cursors.set(m[1], cursor);
    return page(m[1], cursor, Number(m[2]), version);
  }

  function writeContext(req: IncomingMessage, allOrNone: boolean): WriteContext {
    return { client: callOptionsClient(req.headers['sforce-call-options']), allOrNone, recordFails: () => faults.recordFails() };
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

  function timeParam(params: URLSearchParams, name: string): number {
    const text = params.get(name);
    const ms = text ? parseSfDateTime(text.replace(' ', '+')) : Number.NaN;
    if (Number.isNaN(ms)) throw new ApiError(400, 'INVALID_DATE_FORMAT', `${name}: invalid date/time format: ${text ?? ''}`);
    return ms;
  }

  type Reply = [status: number, body?: unknown, headers?: Record<string, string>];
  type Route = { endpoint: string; handle: () => Promise<Reply> | Reply };

  /** Matches a REST path under /services/data/vXX.X to its endpoint name and handler. */
  function route(req: IncomingMessage, path: string, params: URLSearchParams, version: string, body: () => Promise<unknown>): Route | undefined {
    const method = req.method ?? 'GET';
    let m: RegExpExecArray | null;
    if (path === '' || path === '/') {
      return { endpoint: 'resources', handle: () => [200, {
        sobjects: `/services/data/v${version}/sobjects`, query: `/services/data/v${version}/query`, queryAll: `/services/data/v${version}/queryAll`,
        limits: `/services/data/v${version}/limits`, composite: `/services/data/v${version}/composite`, identity: `${url}/id/${orgId}/${USER_ID}`,
        jobs: `/services/data/v${version}/jobs`,
      }] };
    }
    if (path === '/limits' && method === 'GET') {
      return { endpoint: 'limits', handle: () => [200, { DailyApiRequests: { Max: usage.max, Remaining: Math.max(0, usage.max - usage.used) } }] };
    }
    if (path === '/sobjects' && method === 'GET') return { endpoint: 'describeGlobal', handle: () => [200, describeGlobal(org.objects, version)] };
    if ((path === '/query' || path === '/queryAll') && method === 'GET') {
      const all = path === '/queryAll';
      return { endpoint: all ? 'queryAll' : 'query', handle: () => [200, runQuery(req, params.get('q'), all, version)] };
    }
    if ((m = /^\/(?:query|queryAll)\/([\w-]+)$/.exec(path)) && method === 'GET') {
      const locator = m[1];
      return { endpoint: 'queryMore', handle: () => [200, queryMore(locator, version)] };
    }
    const bulkRoute = bulkQueryRoute(req, path, params, version, body);
    if (bulkRoute) return bulkRoute;
    if ((m = /^\/sobjects\/(\w+)\/describe\/?$/.exec(path)) && method === 'GET') {
      const object = m[1];
      return { endpoint: 'describe', handle: () => [200, describeObject(org.spec(object), version)] };
    }
    if ((m = /^\/sobjects\/(\w+)\/(deleted|updated)\/?$/.exec(path)) && method === 'GET') {
      const [object, kind] = [m[1], m[2]];
      return { endpoint: kind, handle: () => {
        const start = timeParam(params, 'start');
        const end = timeParam(params, 'end');
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
      } };
    }
    if ((m = /^\/sobjects\/(\w+)\/?$/.exec(path)) && method === 'POST') {
      const object = m[1];
      return { endpoint: 'sobject.create', handle: async () => {
        const values = (await body()) as Record<string, unknown>;
        const [result] = org.create([{ type: org.spec(object).name, values }], writeContext(req, true));
        if (!result.success) throw new ApiError(400, result.errors[0].statusCode, result.errors[0].message, result.errors[0].fields);
        return [201, result];
      } };
    }
    if ((m = /^\/sobjects\/(\w+)\/(\w+)\/(.+)$/.exec(path))) {
      const [object, field, value] = [m[1], m[2], decodeURIComponent(m[3])];
      if (method === 'PATCH') {
        return { endpoint: 'sobject.upsert', handle: async () => {
          const values = (await body()) as Record<string, unknown>;
          const [result] = org.upsert(object, field, [{ ...values, [field]: value }], writeContext(req, true));
          if (!result.success) throw new ApiError(400, result.errors[0].statusCode, result.errors[0].message, result.errors[0].fields);
          return [result.created ? 201 : 200, result];
        } };
      }
      if (method === 'GET') {
        return { endpoint: 'sobject.get', handle: () => {
          const v = org.findByExternalId(object, value);
          if (!v) throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
          return [200, org.wireFormatter(object, version)(v)];
        } };
      }
    }
    if ((m = /^\/sobjects\/(\w+)\/(\w+)\/?$/.exec(path))) {
      const [object, id] = [m[1], m[2]];
      const existing = () => {
        const v = org.get(object, id);
        if (!v || v.fields.IsDeleted) throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
        return v;
      };
      if (method === 'GET') {
        return { endpoint: 'sobject.get', handle: () => {
          const fields = params.get('fields')?.split(',').map((f) => f.trim()).filter(Boolean);
          const spec = org.spec(object);
          const select = fields?.map((f) => {
            const field = spec.fields.find((x) => x.name.toLowerCase() === f.toLowerCase());
            if (!field) throw new ApiError(400, 'INVALID_FIELD', `No such column '${f}' on sobject of type ${spec.name}`);
            return field.name;
          });
          return [200, org.wireFormatter(object, version, select)(existing())];
        } };
      }
      if (method === 'PATCH') {
        return { endpoint: 'sobject.update', handle: async () => {
          const values = (await body()) as Record<string, unknown>;
          existing();
          const [result] = org.update([{ type: org.spec(object).name, id, values }], writeContext(req, true));
          if (!result.success) throw new ApiError(400, result.errors[0].statusCode, result.errors[0].message, result.errors[0].fields);
          return [204];
        } };
      }
      if (method === 'DELETE') {
        return { endpoint: 'sobject.delete', handle: () => {
          existing();
          const [result] = org.destroy([id], writeContext(req, true));
          if (!result.success) throw new ApiError(400, result.errors[0].statusCode, result.errors[0].message);
          return [204];
        } };
      }
    }
    if (path === '/composite/sobjects') {
      if (method === 'POST') {
        return { endpoint: 'composite.create', handle: async () => {
          const { allOrNone, records } = collectionRecords(await body());
          const typed = records.map((r) => {
            const { attributes: _a, ...values } = r;
            return { type: typeOf(r), values };
          });
          return [200, org.create(typed, writeContext(req, allOrNone))];
        } };
      }
      if (method === 'PATCH') {
        return { endpoint: 'composite.update', handle: async () => {
          const { allOrNone, records } = collectionRecords(await body());
          const typed = records.map((r) => {
            const { attributes: _a, id, Id, ...values } = r;
            return { type: typeOf(r), id: String(id ?? Id ?? ''), values };
          });
          return [200, org.update(typed, writeContext(req, allOrNone))];
        } };
      }
      if (method === 'DELETE') {
        return { endpoint: 'composite.delete', handle: () => {
          const ids = (params.get('ids') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
          if (ids.length === 0) throw new ApiError(400, 'MISSING_ARGUMENT', 'ids parameter is required');
          if (ids.length > MAX_COLLECTION) throw new ApiError(400, 'EXCEEDED_ID_LIMIT', `record limit reached. cannot submit more than ${MAX_COLLECTION} records into this call`);
          return [200, org.destroy(ids, writeContext(req, params.get('allOrNone') === 'true'))];
        } };
      }
    }
    if ((m = /^\/composite\/sobjects\/(\w+)\/(\w+)$/.exec(path)) && method === 'PATCH') {
      const [object, field] = [m[1], m[2]];
      return { endpoint: 'composite.upsert', handle: async () => {
        const { allOrNone, records } = collectionRecords(await body());
        for (const r of records) if (typeOf(r).toLowerCase() !== object.toLowerCase()) throw new ApiError(400, 'INVALID_TYPE', `Record type ${typeOf(r)} does not match ${object}`);
        return [200, org.upsert(object, field, records, writeContext(req, allOrNone))];
      } };
    }
    if ((m = /^\/composite\/sobjects\/(\w+)$/.exec(path)) && method === 'POST') {
      const object = m[1];
      return { endpoint: 'composite.retrieve', handle: async () => {
        const { ids, fields } = (await body()) as { ids?: string[]; fields?: string[] };
        if (!Array.isArray(ids) || !Array.isArray(fields)) throw new ApiError(400, 'MISSING_ARGUMENT', 'ids and fields are required');
        const spec = org.spec(object);
        const select = fields.map((f) => spec.fields.find((x) => x.name.toLowerCase() === f.toLowerCase())?.name ?? f);
        const format = org.wireFormatter(object, version, select.filter((f) => spec.fields.some((x) => x.name === f)));
        return [200, ids.map((id) => {
          const v = org.get(object, id);
          return v && !v.fields.IsDeleted ? format(v) : null;
        })];
      } };
    }
    return undefined;
  }

  /** Bulk API 2.0 query jobs under /jobs/query. */
  function bulkQueryRoute(req: IncomingMessage, path: string, params: URLSearchParams, version: string, body: () => Promise<unknown>): Route | undefined {
    const method = req.method ?? 'GET';
    if (path === '/jobs/query' || path === '/jobs/query/') {
      if (method === 'POST') return { endpoint: 'bulkQuery.create', handle: async () => [200, bulk.create(await body(), version)] };
      if (method === 'GET') return { endpoint: 'bulkQuery.list', handle: () => [200, bulk.list(params, version)] };
      return undefined;
    }
    const m = /^\/jobs\/query\/(\w+)(\/results)?\/?$/.exec(path);
    if (!m) return undefined;
    const [id, results] = [m[1], m[2]];
    if (results) {
      if (method !== 'GET') return undefined;
      return { endpoint: 'bulkQuery.results', handle: () => {
        const set = bulk.results(id, params);
        return [200, new TextBody('text/csv', set.csv), { 'Sforce-Locator': set.locator, 'Sforce-NumberOfRecords': String(set.count) }];
      } };
    }
    if (method === 'GET') return { endpoint: 'bulkQuery.get', handle: () => [200, bulk.info(id)] };
    if (method === 'PATCH') return { endpoint: 'bulkQuery.abort', handle: async () => [200, bulk.abort(id, await body())] };
    if (method === 'DELETE') return { endpoint: 'bulkQuery.delete', handle: () => { bulk.remove(id); return [204]; } };
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = new URL(req.url ?? '/', 'http://sandbox');
    const path = parsed.pathname;
    const method = req.method ?? 'GET';

    if (path === '/services/oauth2/token' && method === 'POST') {
      counters.add('token');
      const outcome = grantToken(new URLSearchParams(await readBody(req)), sessions, url, orgId);
      send(res, outcome.status, outcome.body);
      return;
    }
    if (path === '/services/oauth2/revoke' && method === 'POST') {
      counters.add('revoke');
      const token = new URLSearchParams(await readBody(req)).get('token');
      if (token) sessions.revoke(token);
      send(res, 200);
      return;
    }
    if (path === '/services/data' || path === '/services/data/') {
      counters.add('versions');
      send(res, 200, [{ label: 'Winter 25', url: `/services/data/v${SALESFORCE_API_VERSION}`, version: SALESFORCE_API_VERSION }]);
      return;
    }

    const identity = /^\/id\/(\w+)\/(\w+)\/?$/.exec(path);
    const api = /^\/services\/data\/v(\d+\.\d+)(\/.*)?$/.exec(path);
    let endpoint: string;
    let run: () => Promise<Reply> | Reply;
    if (identity && method === 'GET' && isThisUser(identity[1], identity[2])) {
      endpoint = 'identity';
      run = () => [200, identityBody()];
    } else if (api) {
      let cached: Promise<unknown> | undefined;
      const body = () => (cached ??= readBody(req).then(parseJson));
      const r = route(req, api[2] ?? '', parsed.searchParams, api[1], body);
      if (!r) {
        counters.add('notFound');
        send(res, 404, errorBody('NOT_FOUND', 'The requested resource does not exist'));
        return;
      }
      ({ endpoint, handle: run } = r);
    } else {
      counters.add('notFound');
      send(res, 404, errorBody('NOT_FOUND', 'The requested resource does not exist'));
      return;
    }

    counters.add(endpoint);
    const bearer = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? parsed.searchParams.get('oauth_token') ?? undefined;
    if (!sessions.valid(bearer)) {
      counters.add('sessionInvalid');
      send(res, 401, errorBody('INVALID_SESSION_ID', 'Session expired or invalid'));
      return;
    }
    if (usage.used >= usage.max) {
      counters.add('limitExceeded');
      send(res, 403, errorBody('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'));
      return;
    }
    usage.used++;
    const fault = faults.decide(endpoint);
    if (fault.latencyMs > 0) await new Promise((r) => setTimeout(r, fault.latencyMs));
    if (fault.kind === 'rateLimit') {
      counters.add('fault.rateLimit');
      send(res, 403, errorBody('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'));
      return;
    }
    if (fault.kind === 'serverError') {
      counters.add('fault.serverError');
      send(res, 503, errorBody('SERVER_UNAVAILABLE', 'Server temporarily unavailable. Please try again later.'));
      return;
    }
    if (fault.kind === 'timeout') {
      // Never answer: the client's own timeout decides; close() drops the connection.
      counters.add('fault.timeout');
      return;
    }
    const [status, responseBody, headers] = await run();
    send(res, status, responseBody, headers);
  }

  /** The identity URL names the org and the user, in 15- or 18-character form. */
  function isThisUser(org: string, user: string): boolean {
    return orgId.startsWith(org) && (org.length === 15 || org.length === 18) && USER_ID.startsWith(user) && (user.length === 15 || user.length === 18);
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

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (e instanceof ApiError) send(res, e.status, errorBody(e.errorCode, e.message, e.fields));
      else if (e instanceof OrgError) send(res, e.status, errorBody(e.errorCode, e.message));
      else send(res, 500, errorBody('UNKNOWN_EXCEPTION', `An unexpected error occurred: ${e instanceof Error ? e.message : String(e)}`));
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
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
    close: () => new Promise<void>((resolve) => {
      webhooks.close();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
