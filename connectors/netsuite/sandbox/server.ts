import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { CallCounters, FaultInjector, seededRandom, type FaultPlan } from '../../../src/sandbox/index.js';
import { generateClientKey, SandboxAuth, type AssertionAlgorithm } from './auth.js';
import { detail, errorBody, invalidLogin, invalidQueryParam, invalidSearch, NetSuiteError } from './errors.js';
import { catalogList, recordSchema } from './metadata.js';
import { recordType, type RecordType } from './records.js';
import { seedAccount } from './seed.js';
import { NetSuiteState } from './store.js';
import { runSuiteQL, SuiteQLError, valueText, type QueryResult } from './suiteql.js';
import { suiteqlTables } from './tables.js';
import { pageEnvelope, RecordViews } from './views.js';
import type { WriteOptions } from './validate.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The endpoint name a route counts its calls under (customer.get, suiteql, token, …). */
    netsuiteEndpoint?: string;
  }
}

/**
 * A local NetSuite account speaking SuiteTalk REST web services under /services/rest: the
 * record service (create, get with fields and expandSubResources, update, upsert and every other
 * operation by `eid:`, delete, list), SuiteQL, the metadata catalog, governance limits and the
 * OAuth 2.0 client-credentials token endpoint. The account-wide concurrency limit refuses
 * requests beyond it with 429, as NetSuite does; every call is counted and passes through the
 * shared fault injector.
 */
export interface NetSuiteSandboxOptions {
  port?: number;
  host?: string;
  seed?: number;
  /** The account id (TSTDRV1234567, 1234567_SB1); derived from the seed when absent. */
  accountId?: string;
  /** The root subsidiary's name. */
  companyName?: string;
  /** Seeded customers (0: an empty account with only setup records). Default 20. */
  customers?: number;
  contactsPerCustomer?: number;
  ordersPerCustomer?: number;
  items?: number;
  /** Requests the account serves at once; beyond it 429 (a base account: 15). */
  concurrencyLimit?: number;
  faults?: FaultPlan | FaultInjector;
  /** How long a call the fault plan marks as a timeout hangs before the sandbox gives up on it. */
  timeoutMs?: number;
  /** Access token lifetime (NetSuite: 3600). */
  tokenLifetimeSec?: number;
  /** The certificate's key type: ES256 (default, an EC P-256 key) or PS256 (RSA) and the others NetSuite takes. */
  keyAlgorithm?: AssertionAlgorithm;
  /** Where the private key is written (`<dataDir>/netsuite/<account>/`); a temporary folder when absent. */
  dataDir?: string;
  clientId?: string;
  certificateId?: string;
  /** The account clock's base (epoch ms). */
  now?: () => number;
}

export interface ConcurrencyGauge {
  /** The account's limit; tests may lower or raise it while the sandbox runs. */
  limit: number;
  readonly inFlight: number;
  /** The most requests ever in flight at once. */
  readonly maxInFlight: number;
  /** Requests refused for the limit. */
  readonly refused: number;
  /** Holds every admitted request until the returned function is called (a deterministic way to fill the account). */
  hold(): () => void;
  /** Resolves once this many requests are in flight. */
  whenInFlight(n: number): Promise<void>;
}

export interface NetSuiteSandbox {
  /** The REST base, https://<account>.suitetalk.api.netsuite.com/services/rest in production. */
  url: string;
  origin: string;
  tokenUrl: string;
  accountId: string;
  clientId: string;
  certificateId: string;
  keyAlgorithm: AssertionAlgorithm;
  /** The integration's private key (PKCS#8 PEM) and the file it was written to. */
  privateKey: string;
  privateKeyPath: string;
  state: NetSuiteState;
  /** Certificates, access tokens (expireTokens) and the login audit trail. */
  auth: SandboxAuth;
  counters: CallCounters;
  faults: FaultInjector;
  concurrency: ConcurrencyGauge;
  close(): Promise<void>;
}

const BASE = '/services/rest';
const MAX_PAGE = 1000;
const SUITEQL_RESULT_CAP = 100_000;

/** The sandbox's account id for a seed: TSTDRV and seven digits, like NetSuite's test drive accounts. */
export function sandboxAccountId(seed: number): string {
  return `TSTDRV${1_000_000 + ((seed * 7_919 + 2_381) % 9_000_000)}`;
}

export function normalizeAccountId(id: string): string {
  const normal = id.trim().toUpperCase().replace(/-/g, '_');
  if (!/^[A-Z0-9_]+$/.test(normal)) throw new Error(`accountId must be a NetSuite account id such as TSTDRV1234567 or 1234567_SB1; got "${id}"`);
  return normal;
}

export async function startNetSuiteSandbox(options: NetSuiteSandboxOptions = {}): Promise<NetSuiteSandbox> {
  const seed = options.seed ?? 42;
  const random = seededRandom(seed);
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
  const accountId = normalizeAccountId(options.accountId ?? sandboxAccountId(seed));
  const clientId = options.clientId ?? hex(64);
  const certificateId = options.certificateId ?? Buffer.from(hex(32), 'hex').toString('base64url');
  const applicationId = [hex(8), hex(4), hex(4), hex(4), hex(12)].join('-').toUpperCase();
  const keyAlgorithm = options.keyAlgorithm ?? 'ES256';

  const state = new NetSuiteState(options.now ?? Date.now);
  seedAccount(state, {
    seed,
    companyName: options.companyName ?? `Sandbox Company ${accountId}`,
    customers: options.customers ?? 20,
    contactsPerCustomer: options.contactsPerCustomer ?? 2,
    ordersPerCustomer: options.ordersPerCustomer ?? 1,
    items: options.items ?? 10,
  });

  let origin = '';
  const base = () => `${origin}${BASE}`;
  const auth = new SandboxAuth({
    accountId, clientId, applicationId, tokenLifetimeSec: options.tokenLifetimeSec ?? 3600,
    now: () => state.now(), tokenUrl: () => `${base()}/auth/oauth2/v1/token`,
  });
  const key = generateClientKey(keyAlgorithm);
  auth.registerCertificate(certificateId, key.publicKey);
  const keyFile = writePrivateKey(key.privateKeyPem, accountId, options.dataDir);

  const counters = new CallCounters();
  const faults = options.faults instanceof FaultInjector ? options.faults : new FaultInjector(options.faults ?? {});
  const gauge = new Gauge(options.concurrencyLimit ?? 15);
  const views = new RecordViews(state, base);
  const tables = suiteqlTables(state);
  let queryCache: { key: string; result: QueryResult } | undefined;

  const app = Fastify({ logger: false, forceCloseConnections: true });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.addHook('onRequest', async (request, reply) => {
    const endpoint = endpointOf(request);
    if (!endpoint) return;
    counters.add(endpoint);
    if (endpoint.startsWith('control.')) return;
    // The account's concurrency governance: a request beyond the limit is refused at once.
    if (!gauge.admit(reply)) {
      counters.add('refused.concurrency');
      return reply.code(429).send(errorBody(429, [detail('CONCURRENCY_LIMIT_EXCEEDED',
        `Concurrent request limit exceeded. The account allows ${gauge.limit} requests at once across every integration; wait for a running request to finish and try again.`)]));
    }
    if (endpoint !== 'token' && !auth.check(request.headers.authorization)) {
      counters.add('refused.login');
      return reply.code(401).send(invalidLogin().body);
    }
    await gauge.gate();
    const fault = faults.decide(endpoint, state.now());
    if (fault.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
    if (fault.kind === 'rateLimit') {
      counters.add('refused.faults');
      return reply.code(429).header('Retry-After', String(Math.max(1, Math.ceil(fault.retryAfterMs / 1000))))
        .send(errorBody(429, [detail('REQUEST_LIMIT_EXCEEDED', 'Request limit exceeded. Wait and try again.')]));
    }
    if (fault.kind === 'serverError') {
      return reply.code(500).send(errorBody(500, [detail('UNEXPECTED_ERROR', `An unexpected error occurred. Error ID: ${hex(20)}`)]));
    }
    if (fault.kind === 'timeout') {
      // No answer in time: the client gives up (or the sandbox closes the connection after timeoutMs).
      const socket = request.raw.socket;
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, options.timeoutMs ?? 30_000);
        socket.once('close', () => { clearTimeout(timer); resolve(undefined); });
      });
      socket.destroy();
      reply.hijack();
      return reply;
    }
  });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, _request, reply) => {
    if (error instanceof NetSuiteError) return reply.code(error.status).send(error.body);
    if (error instanceof SuiteQLError) return reply.code(400).send(invalidSearch(error.message).body);
    if (error.statusCode && error.statusCode < 500) {
      return reply.code(400).send(errorBody(400, [detail('INVALID_CONTENT', `Invalid content in the request body: ${error.message}`)]));
    }
    return reply.code(500).send(errorBody(500, [detail('UNEXPECTED_ERROR', `An unexpected error occurred: ${error.message}`)]));
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody(404, [detail('NONEXISTENT_ID', `The request URL is not a REST web services resource: ${request.method} ${request.url}`)]));
  });

  // ---- OAuth 2.0 ------------------------------------------------------------------------------

  app.post<{ Body: Record<string, string> | undefined }>(`${BASE}/auth/oauth2/v1/token`, { config: { netsuiteEndpoint: 'token' } }, async (request, reply) => {
    const result = await auth.grant(request.body ?? {});
    return reply.code(result.status).header('cache-control', 'no-store').send(result.body);
  });

  // ---- governance, metadata -------------------------------------------------------------------

  app.get(`${BASE}/system/v1/governanceLimits`, { config: { netsuiteEndpoint: 'governanceLimits' } }, async () => ({
    accountConcurrencyLimit: gauge.limit,
    accountUnallocatedConcurrencyLimit: gauge.limit,
    integrationLimitType: 'accountLimit',
  }));

  app.get(`${BASE}/record/v1/metadata-catalog`, { config: { netsuiteEndpoint: 'metadata.list' } }, async () => catalogList(base()));

  app.get<{ Params: { type: string } }>(`${BASE}/record/v1/metadata-catalog/:type`, { config: { netsuiteEndpoint: 'metadata.get' } }, async (request, reply) => {
    const type = knownType(request.params.type);
    const accept = String(request.headers.accept ?? '');
    if (/swagger\+json/i.test(accept)) {
      throw new NetSuiteError(406, detail('INVALID_HEADER', 'The sandbox describes records as JSON Schema only: send Accept: application/schema+json.', { 'o:errorHeader': 'Accept' }));
    }
    return reply.header('content-type', 'application/schema+json').send(recordSchema(type, base()));
  });

  // ---- SuiteQL --------------------------------------------------------------------------------

  app.post<{ Body: { q?: unknown } | undefined; Querystring: Record<string, string | undefined> }>(`${BASE}/query/v1/suiteql`, { config: { netsuiteEndpoint: 'suiteql' } }, async (request) => {
    const prefer = String(request.headers.prefer ?? '');
    if (!/(^|[,;\s])transient($|[,;\s])/i.test(prefer)) {
      throw new NetSuiteError(400, detail('INVALID_HEADER', 'SuiteQL queries need the header Prefer: transient.', { 'o:errorHeader': 'Prefer' }));
    }
    const { limit, offset } = paging(request.query);
    const q = request.body?.q;
    if (typeof q !== 'string' || q.trim() === '') throw new NetSuiteError(400, detail('INVALID_CONTENT', 'The request body must be {"q": "SELECT …"}.', { 'o:errorPath': 'q' }));
    const cacheKey = `${state.version}\u0000${q}`;
    let result: QueryResult;
    if (queryCache?.key === cacheKey) {
      result = queryCache.result;
    } else {
      result = runSuiteQL(q, { table: tables, now: () => state.now() });
      // SYSDATE moves with the clock, so such results are not kept.
      if (!/sysdate/i.test(q)) queryCache = { key: cacheKey, result };
    }
    const total = Math.min(result.rows.length, SUITEQL_RESULT_CAP);
    const items = result.rows.slice(offset, Math.min(offset + limit, total)).map((row) => {
      const item: Record<string, unknown> = { links: [] };
      for (const column of result.columns) {
        const v = row[column];
        if (v !== null && v !== undefined) item[column] = valueText(v);
      }
      return item;
    });
    return pageEnvelope((o) => `${base()}/query/v1/suiteql?limit=${limit}&offset=${o}`, items, offset, limit, total);
  });

  // ---- record service -------------------------------------------------------------------------

  type RecordRequest = FastifyRequest<{ Params: { type: string; id: string }; Querystring: Record<string, string | undefined>; Body: Record<string, unknown> | undefined }>;

  // Record routes count under <type>.<operation> (customer.get, salesOrder.upsert).
  const countAs = (op: string) => ({ config: { netsuiteEndpoint: `record:${op}` } });

  app.get<{ Params: { type: string }; Querystring: Record<string, string | undefined> }>(`${BASE}/record/v1/:type`, countAs('list'), async (request) => {
    const type = knownType(request.params.type);
    if (request.query.q !== undefined) throw invalidQueryParam('q', 'The sandbox does not filter record lists; query with SuiteQL instead.');
    const { limit, offset } = paging(request.query);
    const all = state.all(type.name);
    const items = all.slice(offset, offset + limit).map((r) => ({ links: [{ rel: 'self', href: views.recordUrl(type.name, r.id) }], id: r.id }));
    return pageEnvelope((o) => `${base()}/record/v1/${type.name}?limit=${limit}&offset=${o}`, items, offset, limit, all.length);
  });

  app.get(`${BASE}/record/v1/:type/:id`, countAs('get'), async (request: RecordRequest) => {
    const type = knownType(request.params.type);
    const rec = state.require(type.name, request.params.id);
    const fields = request.query.fields ? new Set(request.query.fields.split(',').map((s) => s.trim()).filter(Boolean)) : undefined;
    return views.record(rec, { fields, expand: request.query.expandSubResources === 'true' });
  });

  app.post(`${BASE}/record/v1/:type`, countAs('create'), async (request: RecordRequest, reply) => {
    const type = knownType(request.params.type);
    failRecord(type);
    const rec = state.create(type.name, bodyOf(request), writeOptions(request));
    return created(reply, type, rec.id);
  });

  app.patch(`${BASE}/record/v1/:type/:id`, countAs('update'), async (request: RecordRequest, reply) => {
    const type = knownType(request.params.type);
    failRecord(type);
    const rec = state.update(type.name, request.params.id, bodyOf(request), writeOptions(request));
    return created(reply, type, rec.id);
  });

  app.put(`${BASE}/record/v1/:type/:id`, countAs('upsert'), async (request: RecordRequest, reply) => {
    const type = knownType(request.params.type);
    const key = request.params.id;
    if (!key.startsWith('eid:') || key.length <= 4) {
      throw new NetSuiteError(400, detail('USER_ERROR', `Upsert (PUT) works by external ID only: PUT ${BASE}/record/v1/${type.name}/eid:<externalId>.`, { 'o:errorUrl': `${type.name}/${key}` }));
    }
    failRecord(type);
    const { record } = state.upsertByExternalId(type.name, key.slice(4), bodyOf(request), writeOptions(request));
    return created(reply, type, record.id);
  });

  app.delete(`${BASE}/record/v1/:type/:id`, countAs('delete'), async (request: RecordRequest, reply) => {
    const type = knownType(request.params.type);
    state.delete(type.name, request.params.id);
    return reply.code(204).send();
  });

  // ---- control plane (no auth, not counted as API calls) --------------------------------------

  app.get(`/_sandbox/login-audit`, { config: { netsuiteEndpoint: 'control.login-audit' } }, async () => ({ items: auth.loginAudit }));

  function knownType(name: string): RecordType {
    const type = recordType(name);
    if (!type) throw new NetSuiteError(404, detail('INVALID_RCRD_TYPE', `Record type '${name}' does not exist.`, { 'o:errorUrl': name }));
    return type;
  }

  function bodyOf(request: RecordRequest): Record<string, unknown> {
    const body = request.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new NetSuiteError(400, detail('INVALID_CONTENT', 'The request body must be a JSON object.'));
    return body;
  }

  function writeOptions(request: RecordRequest): WriteOptions {
    const header = String(request.headers['x-netsuite-propertynamevalidation'] ?? 'Error');
    const validation = (['Error', 'Warning', 'Ignore'] as const).find((v) => v.toLowerCase() === header.toLowerCase()) ?? 'Error';
    const replace = request.query.replace ? request.query.replace.split(',').map((s) => s.trim()).filter(Boolean) : [];
    return { replace, propertyNameValidation: validation };
  }

  /** The fault plan's record failures: NetSuite's "record has been changed" refusal, worth retrying. */
  function failRecord(type: RecordType): void {
    if (faults.recordFails()) {
      throw new NetSuiteError(400, detail('RCRD_HAS_BEEN_CHANGED', `Record has been changed since you began editing it. Reload the ${type.label.toLowerCase()} and try again.`));
    }
  }

  function created(reply: FastifyReply, type: RecordType, id: string): FastifyReply {
    return reply.code(204).header('Location', views.recordUrl(type.name, id)).send();
  }

  const host = options.host ?? '127.0.0.1';
  await app.listen({ port: options.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url: base(),
    origin,
    tokenUrl: `${base()}/auth/oauth2/v1/token`,
    accountId,
    clientId,
    certificateId,
    keyAlgorithm,
    privateKey: key.privateKeyPem,
    privateKeyPath: keyFile.path,
    state,
    auth,
    counters,
    faults,
    concurrency: gauge,
    close: async () => {
      gauge.releaseAll();
      await app.close();
      keyFile.remove();
    },
  };
}

/** The name a request's call is counted under; record routes name their record type. */
function endpointOf(request: FastifyRequest): string | undefined {
  const configured = request.routeOptions.config.netsuiteEndpoint;
  if (!configured?.startsWith('record:')) return configured;
  const type = (request.params as { type?: string }).type ?? '';
  return `${recordType(type)?.name ?? type}.${configured.slice('record:'.length)}`;
}

/** limit (1–1000, default 1000) and offset (≥ 0) query parameters, refused in NetSuite's words. */
function paging(query: Record<string, string | undefined>): { limit: number; offset: number } {
  const limit = query.limit === undefined ? MAX_PAGE : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw invalidQueryParam('limit', `The value must be a whole number from 1 to ${MAX_PAGE}.`);
  const offset = query.offset === undefined ? 0 : Number(query.offset);
  if (!Number.isInteger(offset) || offset < 0) throw invalidQueryParam('offset', 'The value must be a whole number of 0 or more.');
  return { limit, offset };
}

/** The private key goes to `<dataDir>/netsuite/<account>/private-key.pem`, or a temporary folder removed at close. */
function writePrivateKey(pem: string, accountId: string, dataDir: string | undefined): { path: string; remove(): void } {
  const temporary = dataDir === undefined;
  const dir = temporary ? mkdtempSync(join(tmpdir(), 'ecosync-netsuite-')) : join(dataDir, 'netsuite', accountId);
  if (!temporary) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'private-key.pem');
  writeFileSync(path, pem, { mode: 0o600 });
  return { path, remove: () => { if (temporary) rmSync(dir, { recursive: true, force: true }); } };
}

/** Requests in flight across the account, the limit, and a gate tests can close. */
class Gauge implements ConcurrencyGauge {
  inFlight = 0;
  maxInFlight = 0;
  refused = 0;
  private held: Promise<void> | undefined;
  private release: (() => void) | undefined;
  private waiters: { n: number; resolve: () => void }[] = [];

  constructor(public limit: number) {}

  /** Counts the request in until its response closes; false when the account is full. */
  admit(reply: FastifyReply): boolean {
    if (this.inFlight >= this.limit) {
      this.refused++;
      return false;
    }
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    reply.raw.once('close', () => this.inFlight--);
    this.waiters = this.waiters.filter((w) => {
      if (this.inFlight < w.n) return true;
      w.resolve();
      return false;
    });
    return true;
  }

  gate(): Promise<void> | undefined {
    return this.held;
  }

  hold(): () => void {
    if (!this.held) this.held = new Promise((resolve) => { this.release = resolve; });
    return () => this.releaseAll();
  }

  releaseAll(): void {
    this.release?.();
    this.held = undefined;
    this.release = undefined;
  }

  whenInFlight(n: number): Promise<void> {
    if (this.inFlight >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
}
