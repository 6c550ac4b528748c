import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { ClientSecretCredential, type AccessToken } from '@azure/identity';
import type { Logger } from 'pino';
import { log, redactText } from '../../src/runtime/log.js';
import { countCall } from '../shared/calls.js';
import { callWithRetries, retryAfterMs, type RetryLimits } from '../shared/retry.js';
import { applyJsonPatch, toJsonPatch, type DeepPartial, type JsonPatchOp } from './json-patch.js';
import type { Referral, ReferralDirection, ReferralInput, ReferralQualification, ReferralStatus, ReferralSubstatus, ReferralType } from './referral.js';
import { validateReferral, validateReferralUpdate, type FieldError } from './validate.js';

/**
 * Partner Center co-sell referrals client. Tokens come from Microsoft Entra ID through the
 * unmodified @azure/identity ClientSecretCredential; API calls go over node:https with the same
 * trust settings. Point both at the sandbox by setting authorityHost and apiBaseUrl to its URL
 * and caPem to its CA. Under the one retry policy (connectors/shared/retry.ts) a 429 is waited
 * out for as long as its Retry-After says; a 5xx, a timeout or a network failure goes back at
 * once as a retryable PartnerCenterError, for Temporal to repeat the co-sell activity.
 */
export interface MicrosoftPartnerCenterConfig {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Entra ID authority host. Default https://login.microsoftonline.com. */
  authorityHost?: string;
  /** Partner Center API. Default https://api.partner.microsoft.com. */
  apiBaseUrl?: string;
  /** An extra CA (PEM text) to trust besides the system's, e.g. the sandbox CA. */
  caPem?: string;
}

export interface MicrosoftPartnerCenterClientOptions {
  /** Default https://api.partner.microsoft.com/.default. */
  scope?: string;
  /** Per-call timeout. Default 30 s. */
  timeoutMs?: number;
  /** Attempts and in-process waits for 429s (PARTNER_CENTER_RETRY when absent). */
  retry?: Partial<RetryLimits>;
  logger?: Logger;
}

/** A longer Retry-After ends the call with a RateLimitError, which Temporal waits out between attempts of the activity. */
export const PARTNER_CENTER_RETRY: RetryLimits = { maxAttempts: 5, maxWaitMs: 10_000, backoffMs: 250 };

export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
export const DEFAULT_API_BASE_URL = 'https://api.partner.microsoft.com';
export const PARTNER_CENTER_SCOPE = 'https://api.partner.microsoft.com/.default';
const REFERRALS = '/v1.0/engagements/referrals';

/** A failed call, in plain terms: Partner Center's code, its message and the fields it names. */
export interface PartnerCenterErrorInfo {
  code: string;
  message: string;
  fields: string[];
}

export class PartnerCenterError extends Error implements PartnerCenterErrorInfo {
  constructor(
    readonly code: string,
    message: string,
    readonly fields: string[] = [],
    /** HTTP status, when the error came from a response. */
    readonly status?: number,
    /** Worth trying again later as is (throttled, 5xx, network). */
    readonly retryable = false,
    readonly details: FieldError[] = [],
  ) {
    super(message);
    this.name = 'PartnerCenterError';
  }

  toJSON(): PartnerCenterErrorInfo {
    return { code: this.code, message: this.message, fields: this.fields };
  }
}

/** Any error as `{ code, message, fields }`, for activity results and dead letters. */
export function plainError(error: unknown): PartnerCenterErrorInfo {
  if (error instanceof PartnerCenterError) return error.toJSON();
  return { code: 'UnexpectedError', message: redactText(error instanceof Error ? error.message : String(error)), fields: [] };
}

export interface ReferralWithETag {
  referral: Referral;
  etag: string;
}

/** Filter for listing referrals; the fields are ANDed, a list of values is ORed. */
export interface ReferralFilter {
  status?: ReferralStatus | ReferralStatus[];
  substatus?: ReferralSubstatus | ReferralSubstatus[];
  type?: ReferralType;
  direction?: ReferralDirection;
  qualification?: ReferralQualification;
  externalReferenceId?: string;
  /** Only referrals changed strictly after this ISO instant (incremental sync). */
  updatedAfter?: string;
  /** An extra raw OData condition, ANDed with the rest. */
  odata?: string;
  /** Page size ($top). */
  pageSize?: number;
}

/** Builds the OData `$filter` for a ReferralFilter; undefined when it filters nothing. */
export function toODataFilter(filter: ReferralFilter): string | undefined {
  const quote = (v: string) => `'${v.replace(/'/g, "''")}'`;
  const parts: string[] = [];
  const fields = ['status', 'substatus', 'type', 'direction', 'qualification', 'externalReferenceId'] as const;
  for (const field of fields) {
    const value = filter[field];
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    if (values.length === 0) continue;
    const terms = values.map((v) => `${field} eq ${quote(v)}`);
    parts.push(terms.length === 1 ? terms[0] : `(${terms.join(' or ')})`);
  }
  if (filter.updatedAfter !== undefined) {
    const instant = new Date(filter.updatedAfter);
    if (Number.isNaN(instant.getTime())) throw new PartnerCenterError('InvalidInput', `updatedAfter is not an instant: "${filter.updatedAfter}"`, ['updatedAfter']);
    parts.push(`updatedDateTime gt ${instant.toISOString()}`);
  }
  if (filter.odata) parts.push(`(${filter.odata})`);
  return parts.length > 0 ? parts.join(' and ') : undefined;
}

interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export class MicrosoftPartnerCenterClient {
  private credential: ClientSecretCredential;
  private token: { value: string; refreshAt: number } | undefined;
  private tokenInFlight: Promise<string> | undefined;
  private readonly agent: http.Agent;
  private readonly apiBase: URL;
  private readonly logger: Logger;
  private readonly options: { scope: string; timeoutMs: number; retry: RetryLimits };

  constructor(private readonly config: MicrosoftPartnerCenterConfig, options: MicrosoftPartnerCenterClientOptions = {}) {
    this.options = {
      scope: options.scope ?? PARTNER_CENTER_SCOPE,
      timeoutMs: options.timeoutMs ?? 30_000,
      retry: { ...PARTNER_CENTER_RETRY, ...options.retry },
    };
    this.logger = (options.logger ?? log()).child({ system: 'microsoft-partner-center' });
    this.apiBase = new URL(config.apiBaseUrl ?? DEFAULT_API_BASE_URL);
    // Setting `ca` replaces the default trust store, so the system roots go along with the extra CA.
    const ca = config.caPem ? [...tls.rootCertificates, config.caPem] : undefined;
    this.agent = this.apiBase.protocol === 'https:' ? new https.Agent({ keepAlive: true, ca }) : new http.Agent({ keepAlive: true });
    this.credential = this.newCredential();
  }

  /**
   * Creates a referral once per idempotency key. Partner Center has no idempotency header, so the
   * key is stored as the referral's externalReferenceId and looked up before the POST: a repeat
   * after a lost response, a crash between POST and recording the id, or a replayed workflow
   * activity finds the referral made the first time instead of making a second. A POST that
   * fails with a 5xx or on the network may have been taken, so it is not repeated here: it fails
   * as retryable, and the activity's next attempt looks the key up first. Callers run one create
   * per key at a time (a workflow per opportunity does), since two concurrent first creates could
   * both miss the lookup.
   */
  async createReferral(
    payload: ReferralInput,
    idempotencyKey: string,
    /** The caller's first try with this key (nothing can exist yet): the lookup is skipped. */
    options: { firstAttempt?: boolean } = {},
  ): Promise<ReferralWithETag & { created: boolean }> {
    if (!idempotencyKey) throw new PartnerCenterError('InvalidInput', 'an idempotency key is required', ['externalReferenceId']);
    if (payload.externalReferenceId !== undefined && payload.externalReferenceId !== idempotencyKey) {
      throw new PartnerCenterError('InvalidInput', 'externalReferenceId carries the idempotency key: leave it empty or equal to the key', ['externalReferenceId']);
    }
    const body: ReferralInput = { ...payload, externalReferenceId: idempotencyKey };
    const errors = validateReferral(body);
    if (errors.length > 0) throw invalidInput(errors);

    const existing = options.firstAttempt ? undefined : await this.findByExternalReference(idempotencyKey);
    if (existing) {
      const { referral, etag } = await this.getReferral(existing.id);
      return { referral, etag, created: false };
    }
    // A 429 is repeated by call(): Partner Center did not take the referral.
    const res = await this.call('POST', REFERRALS, { body });
    if (res.status === 200 || res.status === 201) return { referral: res.body as Referral, etag: etagOf(res), created: true };
    throw errorFrom(res);
  }

  async getReferral(id: string): Promise<ReferralWithETag> {
    const res = await this.call('GET', `${REFERRALS}/${encodeURIComponent(id)}`);
    if (res.status !== 200) throw errorFrom(res);
    return { referral: res.body as Referral, etag: etagOf(res) };
  }

  /**
   * Applies `patch` (a partial referral; nested objects merge, arrays replace) with optimistic
   * concurrency. `base` is the version the change was computed from; without it the current one
   * is read first. On 412 (someone, usually Microsoft, changed it meanwhile) the referral is
   * re-read and the patch re-applied once; a second 412 fails as PreconditionFailed.
   */
  async updateReferral(id: string, patch: DeepPartial<Referral>, base?: ReferralWithETag): Promise<ReferralWithETag & { retried: boolean }> {
    let current = base ?? (await this.getReferral(id));
    for (let round = 0; ; round++) {
      const ops = toJsonPatch(current.referral, patch as Record<string, unknown>);
      if (ops.length === 0) return { ...current, retried: round > 0 };
      this.checkUpdate(current.referral, ops);
      const res = await this.call('PATCH', `${REFERRALS}/${encodeURIComponent(id)}`, {
        body: ops,
        headers: { 'If-Match': current.etag, Prefer: 'return=representation' },
      });
      if (res.status === 200) return { referral: res.body as Referral, etag: etagOf(res), retried: round > 0 };
      if (res.status === 204) return { ...(await this.getReferral(id)), retried: round > 0 };
      if (res.status === 412 && round === 0) {
        this.logger.debug({ op: 'updateReferral', id }, 'ETag was stale, re-reading and re-applying');
        current = await this.getReferral(id);
        continue;
      }
      throw errorFrom(res);
    }
  }

  /** Pages of referrals matching the filter, following @odata.nextLink. */
  async *listReferralPages(filter: ReferralFilter = {}): AsyncIterable<Referral[]> {
    const query = new URLSearchParams();
    const odata = toODataFilter(filter);
    if (odata) query.set('$filter', odata);
    if (filter.pageSize !== undefined) query.set('$top', String(filter.pageSize));
    let next: string | undefined = `${REFERRALS}${query.size > 0 ? `?${query.toString()}` : ''}`;
    while (next) {
      const res = await this.call('GET', next);
      if (res.status !== 200) throw errorFrom(res);
      const body = res.body as { value?: Referral[]; '@odata.nextLink'?: string };
      yield body.value ?? [];
      next = body['@odata.nextLink'];
    }
  }

  /** Every referral matching the filter, one at a time, fetching pages as needed. */
  async *listReferrals(filter: ReferralFilter = {}): AsyncIterable<Referral> {
    for await (const page of this.listReferralPages(filter)) yield* page;
  }

  close(): void {
    this.agent.destroy();
  }

  private async findByExternalReference(key: string): Promise<Referral | undefined> {
    for await (const page of this.listReferralPages({ externalReferenceId: key, pageSize: 1 })) return page[0];
    return undefined;
  }

  /** Pre-checks an update against the rule table so a bad change costs no call. */
  private checkUpdate(before: Referral, ops: JsonPatchOp[]): void {
    const after = applyJsonPatch(before, ops);
    const errors = validateReferralUpdate(before, after, 'partner');
    if (errors.length === 0) return;
    const transition = errors.find((e) => e.code === 'InvalidStateTransition');
    if (transition) throw new PartnerCenterError('InvalidStateTransition', transition.message, [transition.field], undefined, false, errors);
    throw invalidInput(errors);
  }

  /**
   * One API call under the one retry policy: a 429 waits as long as its Retry-After says (or
   * backs off), a bounded number of times; a 401 gets a fresh token once. Any other answer is
   * returned; a network failure or timeout throws a retryable PartnerCenterError.
   */
  private async call(method: string, pathOrUrl: string, opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<HttpResult> {
    const url = new URL(pathOrUrl, this.apiBase);
    if (url.origin !== this.apiBase.origin) {
      // A nextLink elsewhere would carry our bearer token to a host we were not configured for.
      throw new PartnerCenterError('UnexpectedLink', `refusing to call ${url.origin}: not the configured API host`);
    }
    return callWithRetries<HttpResult>({
      system: 'microsoft-partner-center',
      ...this.options.retry,
      logger: this.logger,
      throttled: (outcome) => {
        if (!('value' in outcome) || outcome.value.status !== 429) return undefined;
        const res = outcome.value;
        const header = res.headers['retry-after'];
        return { reason: '429', waitMs: retryAfterMs(Array.isArray(header) ? header[0] : header), message: `Partner Center throttled ${method} ${url.pathname}: ${errorFrom(res).message}` };
      },
    }, () => this.authorized(method, url, opts.body, opts.headers));
  }

  /** One request with the current token, and once more with a new one if Partner Center refuses it (401). */
  private async authorized(method: string, url: URL, body: unknown, headers: Record<string, string> | undefined): Promise<HttpResult> {
    const res = await this.sendOrFail(method, url, await this.accessToken(), body, headers);
    if (res.status !== 401) return res;
    // Expired or revoked early: MSAL would hand back its cached token, so start a new credential.
    this.renewCredential();
    this.logger.debug({ method, path: url.pathname }, 'access token refused, acquiring a new one');
    return this.sendOrFail(method, url, await this.accessToken(), body, headers);
  }

  private async sendOrFail(method: string, url: URL, token: string, body: unknown, headers: Record<string, string> | undefined): Promise<HttpResult> {
    try {
      return await this.send(method, url, token, body, headers);
    } catch (error) {
      const failure = new PartnerCenterError('NetworkError', redactText((error as Error).message), [], undefined, true);
      this.logger.debug({ method, path: url.pathname, error: failure.message }, 'call failed');
      throw failure;
    }
  }

  private send(method: string, url: URL, token: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
    countCall('microsoft-partner-center');
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(url, {
        method,
        agent: this.agent,
        headers: {
          Accept: 'application/json',
          Authorization: `Bearer ${token}`,
          'MS-CorrelationId': crypto.randomUUID(),
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) } : {}),
          ...headers,
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          if (text && /json/i.test(res.headers['content-type'] ?? '')) {
            try { parsed = JSON.parse(text); } catch { /* keep the text */ }
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? parsed : undefined });
        });
      });
      req.setTimeout(this.options.timeoutMs, () => req.destroy(new Error(`${method} ${url.pathname} timed out after ${this.options.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  private async accessToken(): Promise<string> {
    if (this.token && Date.now() < this.token.refreshAt) return this.token.value;
    // Concurrent calls share one token request.
    this.tokenInFlight ??= this.fetchToken().finally(() => { this.tokenInFlight = undefined; });
    return this.tokenInFlight;
  }

  private async fetchToken(): Promise<string> {
    let token: AccessToken | null;
    try {
      token = await this.credential.getToken(this.options.scope);
    } catch (error) {
      throw new PartnerCenterError('AuthenticationFailed', redactText((error as Error).message), [], undefined, false);
    }
    if (!token) throw new PartnerCenterError('AuthenticationFailed', 'Entra ID returned no access token');
    const now = Date.now();
    // Renew a little before expiry: a tenth of the lifetime, at most a minute.
    const margin = Math.min(60_000, Math.max(0, (token.expiresOnTimestamp - now) / 10));
    this.token = { value: token.token, refreshAt: token.refreshAfterTimestamp ?? token.expiresOnTimestamp - margin };
    return token.token;
  }

  private renewCredential(): void {
    this.token = undefined;
    this.credential = this.newCredential();
  }

  private newCredential(): ClientSecretCredential {
    const { tenantId, clientId, clientSecret, authorityHost, caPem } = this.config;
    return new ClientSecretCredential(tenantId, clientId, clientSecret, {
      authorityHost: authorityHost ?? DEFAULT_AUTHORITY_HOST,
      // Instance discovery asks login.microsoftonline.com about the authority; a sovereign cloud
      // or the sandbox is not in its list, so the authority is trusted as configured.
      disableInstanceDiscovery: authorityHost !== undefined && authorityHost !== DEFAULT_AUTHORITY_HOST,
      ...(caPem ? { tlsOptions: { ca: [...tls.rootCertificates, caPem] } } : {}),
    });
  }
}

function etagOf(res: HttpResult): string {
  const etag = res.headers.etag;
  if (!etag) throw new PartnerCenterError('MissingETag', 'the response carried no ETag', [], res.status);
  return etag;
}

/** Turns a Partner Center error response into a PartnerCenterError. */
export function errorFrom(res: HttpResult): PartnerCenterError {
  const body = (typeof res.body === 'object' && res.body !== null ? res.body : {}) as { code?: unknown; description?: unknown; message?: unknown; data?: unknown };
  const details = Array.isArray(body.data) ? (body.data as FieldError[]).filter((d) => typeof d?.field === 'string') : [];
  const code = body.code !== undefined ? String(body.code) : `Http${res.status}`;
  const message = String(body.description ?? body.message ?? (typeof res.body === 'string' && res.body ? res.body : `HTTP ${res.status}`));
  const retryable = res.status === 429 || res.status >= 500;
  return new PartnerCenterError(code, redactText(message), [...new Set(details.map((d) => d.field))], res.status, retryable, details);
}

function invalidInput(errors: FieldError[]): PartnerCenterError {
  return new PartnerCenterError(
    'InvalidInput',
    `The referral is invalid: ${errors.map((e) => e.message).join('; ')}`,
    [...new Set(errors.map((e) => e.field))], undefined, false, errors,
  );
}
