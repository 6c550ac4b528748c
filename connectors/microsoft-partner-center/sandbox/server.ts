import { createHash, randomUUID } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { CallCounters, FaultInjector, seededRandom, type FaultPlan } from '../../../src/sandbox/index.js';
import type { Referral, ReferralInput } from '../referral.js';
import { PARTNER_CENTER_AUDIENCE, resourceOfScope, TOKEN_RESOURCES, TokenIssuer } from './entra.js';
import { matchesFilter, ODataError, parseFilter } from './odata.js';
import { defaultDecide, ReferralRejected, ReferralStore, type DecideRule } from './referrals.js';
import { ensureSandboxTls } from './tls.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The endpoint name a route counts its calls under (referrals.get, token, ...). */
    endpoint?: string;
    /** The route needs a valid bearer token. */
    auth?: boolean;
  }
}

/**
 * Microsoft sandbox: one https server that is both the Entra ID authority host (OpenID
 * configuration, JWKS, client-credentials token endpoint) and the Partner Center referrals API,
 * close enough to the real wire that the unmodified @azure/identity works against it.
 */
export interface MicrosoftSandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  seed?: number;
  /** Where the TLS material lives (`<dataDir>/tls`). */
  dataDir: string;
  /** Sandbox-clock time from our creating a Shared referral to Microsoft's decision. Default 3000. */
  decisionDelayMs?: number;
  /** Microsoft's rule for a Shared referral: accept, or decline with a reason. */
  decide?: DecideRule;
  /** Lifetime of issued access tokens. Default 3600. */
  tokenLifetimeSec?: number;
  faults?: FaultPlan;
  /** Referrals Microsoft has shared with us at start (New/Received). Default 5. */
  incoming?: number;
  /** Largest `$top`; also the page size when none is asked for. Default 100. */
  maxPageSize?: number;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
}

export interface MicrosoftSandboxState {
  /** The sandbox clock (ms since epoch): real time plus whatever was advanced. */
  now(): number;
  /** Moves the sandbox clock: token expiry, Microsoft's decisions and referral expiry follow it. */
  advanceClock(ms: number): void;
  referrals(): Referral[];
  referral(id: string): { referral: Referral; etag: string };
  /** An edit made on Microsoft's side (status moves are checked as Microsoft's). */
  microsoftEdit(id: string, changes: Partial<Referral>): { referral: Referral; etag: string };
  /** Microsoft shares a new referral with us. */
  shareReferral(overrides?: Partial<ReferralInput>): { referral: Referral; etag: string };
}

export interface MicrosoftSandbox {
  /** Authority host and API base URL at once. */
  url: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** The CA that signed the server certificate: trust it (NODE_EXTRA_CA_CERTS or the client's caPem). */
  caPemPath: string;
  caPem: string;
  counters: CallCounters;
  faults: FaultInjector;
  state: MicrosoftSandboxState;
  close(): Promise<void>;
}

const REFERRALS = '/v1.0/engagements/referrals';

interface RouteConfig {
  endpoint: string;
  /** Needs a Partner Center bearer token. */
  auth?: boolean;
}

export async function startMicrosoftSandbox(options: MicrosoftSandboxOptions): Promise<MicrosoftSandbox> {
  const random = seededRandom(options.seed ?? 1);
  const seededHex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
  const seededGuid = () => { const h = seededHex(32); return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${h.slice(16, 20)}-${h.slice(20)}`; };
  const tenantId = options.tenantId ?? seededGuid();
  const clientId = options.clientId ?? seededGuid();
  const clientSecret = options.clientSecret ?? `eco~${seededHex(36)}`;
  const tokenLifetimeSec = options.tokenLifetimeSec ?? 3600;
  const maxPageSize = options.maxPageSize ?? 100;

  let clockOffsetMs = 0;
  const now = () => Date.now() + clockOffsetMs;
  const counters = new CallCounters();
  const faults = new FaultInjector(options.faults ?? {});
  const store = new ReferralStore({ random, now, decisionDelayMs: options.decisionDelayMs ?? 3000, decide: options.decide ?? defaultDecide });
  for (let i = 0; i < (options.incoming ?? 5); i++) store.shareWithPartner();

  const tls = await ensureSandboxTls(options.dataDir);
  const app = Fastify({ https: { key: tls.keyPem, cert: tls.certPem }, forceCloseConnections: true, logger: false });
  let url = '';
  let issuer: TokenIssuer | undefined;
  const entra = () => issuer!;

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.addContentTypeParser('application/json-patch+json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'ignore'));

  // Every response carries an ETag: a referral's version, or a hash of any other body.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('etag')) {
      reply.header('ETag', `"${createHash('sha256').update(typeof payload === 'string' ? payload : '').digest('base64url').slice(0, 16)}"`);
    }
    return payload;
  });

  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config as Partial<RouteConfig>;
    const endpoint = config.endpoint;
    if (!endpoint) return;
    counters.add(endpoint);
    if (endpoint.startsWith('control.')) return;
    const fault = faults.decide(endpoint, now());
    if (fault.latencyMs > 0) await new Promise((r) => setTimeout(r, fault.latencyMs));
    if (fault.kind === 'rateLimit') {
      const seconds = Math.max(1, Math.ceil(fault.retryAfterMs / 1000));
      reply.code(429).header('Retry-After', String(seconds));
      return reply.send(endpoint.startsWith('entra.')
        ? { error: 'temporarily_unavailable', error_description: 'AADSTS50196: The server is throttling requests. Retry later.' }
        : { code: 'TooManyRequests', description: `Rate limit is exceeded. Try again in ${seconds} seconds.`, source: 'PartnerReferrals' });
    }
    if (fault.kind === 'serverError') {
      return reply.code(503).send({ code: 'ServiceUnavailable', description: 'The service is temporarily unavailable.', source: 'PartnerReferrals' });
    }
    if (fault.kind === 'timeout') {
      // Never answer: the client gives up. The connection closes on its side or at close().
      await new Promise((resolve) => request.raw.socket.once('close', resolve));
      reply.hijack();
      return reply;
    }
    if (config.auth) {
      const header = request.headers.authorization ?? '';
      const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
      const check = token ? entra().check(token, PARTNER_CENTER_AUDIENCE, now()) : { ok: false as const, reason: 'The request has no bearer token' };
      if (!check.ok) {
        reply.code(401).header('WWW-Authenticate', `Bearer error="invalid_token", error_description="${check.reason}"`);
        return reply.send({ code: 'Unauthorized', description: check.reason, source: 'PartnerReferrals' });
      }
      store.tick();
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    const endpoint = (request.routeOptions.config as Partial<RouteConfig>).endpoint ?? 'unknown';
    counters.add(`${reply.statusCode} ${endpoint}`);
  });

  // Trace ids are not seeded, so the seeded stream stays the same whatever errors a run had.
  const entraError = (reply: FastifyReply, status: number, error: string, code: number, description: string) =>
    reply.code(status).send({
      error, error_description: `AADSTS${code}: ${description} Trace ID: ${randomUUID()} Timestamp: ${new Date(now()).toISOString()}`,
      error_codes: [code], timestamp: new Date(now()).toISOString().replace('T', ' ').slice(0, 19) + 'Z',
    });

  const knownTenant = (request: FastifyRequest<{ Params: { tenant: string } }>, reply: FastifyReply): boolean => {
    if (request.params.tenant.toLowerCase() === tenantId) return true;
    entraError(reply, 400, 'invalid_tenant', 90002, `Tenant '${request.params.tenant}' not found.`);
    return false;
  };

  app.get<{ Params: { tenant: string } }>('/:tenant/v2.0/.well-known/openid-configuration', { config: { endpoint: 'entra.openid-configuration' } }, async (request, reply) => {
    if (!knownTenant(request, reply)) return reply;
    const base = `${url}/${tenantId}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      tenant_region_scope: 'NA',
      cloud_instance_name: 'microsoftonline.com',
    };
  });

  app.get<{ Params: { tenant: string } }>('/:tenant/discovery/v2.0/keys', { config: { endpoint: 'entra.keys' } }, async (request, reply) => {
    if (!knownTenant(request, reply)) return reply;
    return entra().jwks();
  });

  app.post<{ Params: { tenant: string }; Body: Record<string, string> | undefined }>('/:tenant/oauth2/v2.0/token', { config: { endpoint: 'entra.token' } }, async (request, reply) => {
    if (!knownTenant(request, reply)) return reply;
    const body = request.body ?? {};
    if (body.grant_type !== 'client_credentials') {
      return entraError(reply, 400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${body.grant_type ?? ''}'.`);
    }
    if (body.client_id !== clientId) {
      return entraError(reply, 400, 'unauthorized_client', 700016, `Application with identifier '${body.client_id ?? ''}' was not found in the directory '${tenantId}'.`);
    }
    if (body.client_secret !== clientSecret) {
      return entraError(reply, 401, 'invalid_client', 7000215, 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.');
    }
    const resource = resourceOfScope(body.scope, clientId);
    if (!resource) {
      return entraError(reply, 400, 'invalid_scope', 1002012, `The provided value for scope '${body.scope ?? ''}' is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier, and the resource must be one of ${TOKEN_RESOURCES.join(', ')} or the app itself.`);
    }
    return {
      token_type: 'Bearer',
      expires_in: tokenLifetimeSec,
      ext_expires_in: tokenLifetimeSec,
      access_token: entra().issue(clientId, resource, now(), tokenLifetimeSec),
    };
  });

  const rejected = (reply: FastifyReply, error: unknown) => {
    if (error instanceof ReferralRejected) {
      return reply.code(error.status).send({ code: error.code, description: error.message, data: error.errors, source: 'PartnerReferrals' });
    }
    if (error instanceof ODataError) {
      return reply.code(400).send({ code: 'InvalidFilter', description: error.message, data: [{ field: '$filter', code: 'InvalidFormat', message: error.message }], source: 'PartnerReferrals' });
    }
    throw error;
  };

  app.get<{ Querystring: Record<string, string | undefined> }>(REFERRALS, { config: { endpoint: 'referrals.list', auth: true } }, async (request, reply) => {
    const q = request.query;
    try {
      const filter = q.$filter ? parseFilter(q.$filter) : null;
      const top = q.$top === undefined ? maxPageSize : Number(q.$top);
      if (!Number.isInteger(top) || top < 1 || top > maxPageSize) {
        throw new ODataError(`$top must be a whole number from 1 to ${maxPageSize}`);
      }
      if (q.$orderby !== undefined && !/^updatedDateTime( asc)?$/i.test(q.$orderby.trim())) {
        throw new ODataError('$orderby supports only "updatedDateTime asc"');
      }
      // Keyset paging on (updatedDateTime, id): a change made between pages moves a referral to
      // the end, where the reader sees it again rather than never.
      const after = q.$skipToken ? decodeSkipToken(q.$skipToken) : null;
      const matching = store.all()
        .filter((r) => !filter || matchesFilter(filter, r as unknown as Record<string, unknown>))
        .filter((r) => !after || r.updatedDateTime > after[0] || (r.updatedDateTime === after[0] && r.id > after[1]));
      const page = matching.slice(0, top);
      const body: Record<string, unknown> = { value: page };
      if (matching.length > top) {
        const last = page[page.length - 1];
        const next = new URLSearchParams();
        if (q.$filter) next.set('$filter', q.$filter);
        next.set('$top', String(top));
        next.set('$skipToken', Buffer.from(JSON.stringify([last.updatedDateTime, last.id])).toString('base64url'));
        body['@odata.nextLink'] = `${url}${REFERRALS}?${next.toString()}`;
      }
      return body;
    } catch (error) {
      return rejected(reply, error);
    }
  });

  app.get<{ Params: { id: string } }>(`${REFERRALS}/:id`, { config: { endpoint: 'referrals.get', auth: true } }, async (request, reply) => {
    try {
      const { referral, etag } = store.get(request.params.id);
      return reply.header('ETag', etag).send(referral);
    } catch (error) {
      return rejected(reply, error);
    }
  });

  app.post(REFERRALS, { config: { endpoint: 'referrals.create', auth: true } }, async (request, reply) => {
    try {
      const { referral, etag } = store.create(request.body);
      return reply.code(201).header('ETag', etag).header('Location', `${url}${REFERRALS}/${referral.id}`).send(referral);
    } catch (error) {
      return rejected(reply, error);
    }
  });

  app.patch<{ Params: { id: string } }>(`${REFERRALS}/:id`, { config: { endpoint: 'referrals.update', auth: true } }, async (request, reply) => {
    try {
      const ifMatch = request.headers['if-match'];
      const { referral, etag } = store.patch(request.params.id, request.body, typeof ifMatch === 'string' ? ifMatch : undefined);
      reply.header('ETag', etag);
      const wantsBody = /return=representation/i.test(String(request.headers.prefer ?? ''));
      return wantsBody ? reply.code(200).send(referral) : reply.code(204).send();
    } catch (error) {
      return rejected(reply, error);
    }
  });

  // Control plane for demos and out-of-process tests: Microsoft-side actions and the clock.
  app.get('/_sandbox/referrals', { config: { endpoint: 'control.referrals' } }, async () => { store.tick(); return { value: store.all() }; });
  app.post<{ Params: { id: string }; Body: Partial<Referral> }>('/_sandbox/referrals/:id/microsoft-edit', { config: { endpoint: 'control.microsoft-edit' } }, async (request, reply) => {
    try {
      store.tick();
      return store.microsoftEdit(request.params.id, request.body ?? {}).referral;
    } catch (error) {
      return rejected(reply, error);
    }
  });
  app.post<{ Body: Partial<ReferralInput> | undefined }>('/_sandbox/share', { config: { endpoint: 'control.share' } }, async (request) => store.shareWithPartner(request.body ?? {}).referral);
  app.post<{ Body: { advanceMs?: number } | undefined }>('/_sandbox/clock', { config: { endpoint: 'control.clock' } }, async (request) => {
    clockOffsetMs += Math.max(0, Number(request.body?.advanceMs ?? 0));
    store.tick();
    return { now: new Date(now()).toISOString() };
  });

  const host = options.host ?? '127.0.0.1';
  await app.listen({ port: options.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  issuer = new TokenIssuer(tenantId, `${url}/${tenantId}/v2.0`);

  const state: MicrosoftSandboxState = {
    now,
    advanceClock(ms) { clockOffsetMs += Math.max(0, ms); store.tick(); },
    referrals() { store.tick(); return store.all(); },
    referral(id) { store.tick(); return store.get(id); },
    microsoftEdit(id, changes) { store.tick(); return store.microsoftEdit(id, changes); },
    shareReferral(overrides) { return store.shareWithPartner(overrides); },
  };

  return {
    url, tenantId, clientId, clientSecret, caPemPath: tls.caPemPath, caPem: tls.caPem, counters, faults, state,
    close: async () => { await app.close(); },
  };
}

function decodeSkipToken(token: string): [string, string] {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) return value as [string, string];
  } catch { /* reported below */ }
  throw new ODataError('$skipToken is not one this service issued');
}
