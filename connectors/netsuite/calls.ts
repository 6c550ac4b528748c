import { setTimeout as sleep } from 'node:timers/promises';
import { AuthError, RateLimitError } from '../../src/sync/protocol.js';
import type { TokenSource } from './auth.js';
import type { ConcurrencyPacer } from './pacer.js';

/**
 * One HTTP call to NetSuite's REST web services: paced to the account's concurrency limit, with
 * the bearer token, a 429 waited out (backoff with jitter, a bounded number of times; Temporal
 * retries the whole activity beyond that), and one retry with a new token after a 401. Nothing
 * else is retried here: a 5xx or a timeout goes back to the caller, which decides (a write result
 * marked retryable, a failed read the activity retries).
 */

export interface RetryPolicy {
  /** Waits for 429s (concurrency or rate) before giving up with a RateLimitError. */
  rateLimitRetries: number;
  /** First wait after a 429; doubles each time, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A request that takes longer is abandoned. */
  timeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { rateLimitRetries: 8, baseDelayMs: 250, maxDelayMs: 8_000, timeoutMs: 120_000 };

export type Sleep = (ms: number) => Promise<unknown>;

export interface ErrorDetail {
  detail?: string;
  'o:errorCode'?: string;
  'o:errorPath'?: string;
  'o:errorHeader'?: string;
  'o:errorQueryParam'?: string;
}

export interface NetSuiteErrorBody {
  type?: string;
  title?: string;
  status?: number;
  'o:errorDetails'?: ErrorDetail[];
}

/** NetSuite answered with an error other than 401 or 429 (those become AuthError and RateLimitError). */
export class NetSuiteRequestError extends Error {
  constructor(readonly method: string, readonly path: string, readonly status: number, readonly body: NetSuiteErrorBody) {
    super(`NetSuite ${status} on ${method} ${path}: ${describe(body)}`);
    this.name = 'NetSuiteRequestError';
  }

  get details(): ErrorDetail[] {
    return this.body['o:errorDetails'] ?? [];
  }

  get code(): string {
    return this.details[0]?.['o:errorCode'] ?? (this.status >= 500 ? 'UNEXPECTED_ERROR' : 'UNKNOWN_ERROR');
  }
}

function describe(body: NetSuiteErrorBody): string {
  const details = body['o:errorDetails'] ?? [];
  if (details.length === 0) return body.title ?? 'no error details';
  return details.map((d) => `${d['o:errorCode'] ?? 'ERROR'}${d['o:errorPath'] ? ` at ${d['o:errorPath']}` : ''}: ${d.detail ?? ''}`).join('; ');
}

export interface Reply<T> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ClientOptions {
  baseUrl: string;
  pacer: ConcurrencyPacer;
  policy: RetryPolicy;
  sleep?: Sleep;
  random?: () => number;
}

export class NetSuiteClient {
  private tokens: TokenSource | undefined;

  constructor(private readonly options: ClientOptions) {}

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  get pacer(): ConcurrencyPacer {
    return this.options.pacer;
  }

  useTokens(tokens: TokenSource): void {
    this.tokens = tokens;
  }

  /** An authenticated call; non-2xx answers throw (NetSuiteRequestError, AuthError, RateLimitError). */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<Reply<T>> {
    const tokens = this.tokens;
    if (!tokens) throw new Error('NetSuiteClient has no token source');
    const url = this.url(path, options.query);
    let renewed = false;
    for (let refusals = 0; ; ) {
      const token = await tokens.get();
      const res = await this.send(url, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      });
      if (res.status === 429) {
        await this.waitOut(res, refusals++, `${method} ${path}`);
        continue;
      }
      if (res.status === 401) {
        tokens.invalidate(token);
        if (!renewed) {
          renewed = true;
          continue;
        }
        throw new AuthError(`NetSuite refused a new access token on ${method} ${path} (${describe(res.body as NetSuiteErrorBody)}). Check the role's REST Web Services permission; the Login Audit Trail names the reason.`);
      }
      if (res.status === 403) throw new AuthError(`NetSuite forbids ${method} ${path}: ${describe(res.body as NetSuiteErrorBody)}. Give the integration's role the permission.`);
      if (res.status >= 300) throw new NetSuiteRequestError(method, path, res.status, (res.body ?? {}) as NetSuiteErrorBody);
      return res as Reply<T>;
    }
  }

  /** The token request: form-encoded, no bearer, paced and with 429s waited out like any call. */
  async postForm(url: string, form: URLSearchParams): Promise<{ status: number; body: unknown }> {
    for (let refusals = 0; ; ) {
      const res = await this.send(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form.toString() });
      if (res.status !== 429) return res;
      await this.waitOut(res, refusals++, 'POST token');
    }
  }

  url(path: string, query?: Record<string, string | number | undefined>): string {
    const url = new URL(`${this.options.baseUrl}${path}`);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  }

  /** One request in a pacer slot; the body is read before the slot is given back. */
  private async send(url: string, init: RequestInit): Promise<Reply<unknown>> {
    return this.options.pacer.run(async () => {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(this.options.policy.timeoutMs) });
      const text = await res.text();
      let body: unknown = undefined;
      if (text !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          body = { title: text.slice(0, 200) };
        }
      }
      return { value: { status: res.status, headers: res.headers, body }, refused: res.status === 429 };
    });
  }

  /** Waits before retrying a 429: Retry-After when NetSuite gives one, else backoff with jitter. */
  private async waitOut(res: Reply<unknown>, refusals: number, what: string): Promise<void> {
    const { rateLimitRetries, baseDelayMs, maxDelayMs } = this.options.policy;
    const retryAfter = Number(res.headers.get('retry-after'));
    const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** refusals);
    const random = this.options.random ?? Math.random;
    const waitMs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : Math.round(backoff / 2 + random() * (backoff / 2));
    if (refusals >= rateLimitRetries) {
      throw new RateLimitError(`NetSuite kept refusing ${what} with 429 (${describe(res.body as NetSuiteErrorBody)}) after ${refusals} waits: the account's concurrency limit is taken by other work`, waitMs);
    }
    await (this.options.sleep ?? sleep)(waitMs);
  }
}
