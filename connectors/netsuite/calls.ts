import { AuthError } from '../../src/sync/protocol.js';
import { countCall } from '../shared/calls.js';
import { callWithRetries, retryAfterMs, type RetryLimits } from '../shared/retry.js';
import type { TokenSource } from './auth.js';
import type { ConcurrencyPacer } from './pacer.js';

/**
 * One HTTP call to NetSuite's REST web services: paced to the account's concurrency limit, with
 * the bearer token and one retry with a new token after a 401. Under the one retry policy
 * (connectors/shared/retry.ts) a 429 — the account's concurrency or request limit — is waited out
 * (Retry-After when NetSuite gives one, else backoff with jitter) a bounded number of times, and
 * then, or when the wait is longer than the window, ends the call with a RateLimitError for
 * Temporal to retry the activity after that wait. Nothing else is retried here: a 5xx or a
 * timeout goes back to the caller, which decides (a write result marked retryable, a failed read
 * the activity retries).
 */

export const NETSUITE_RETRY: RetryLimits = { maxAttempts: 9, maxWaitMs: 10_000, backoffMs: 250 };

/** A request that takes longer is abandoned. */
export const NETSUITE_TIMEOUT_MS = 120_000;

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
  /** Attempts and waits for 429s (NETSUITE_RETRY when absent). */
  retry?: Partial<RetryLimits>;
  /** Per request (NETSUITE_TIMEOUT_MS when absent). */
  timeoutMs?: number;
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
    const init = (token: string): RequestInit => ({
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const res = await this.retrying(`${method} ${path}`, async () => {
      const token = await tokens.get();
      const first = await this.send(url, init(token));
      if (first.status !== 401) return first;
      // Expired or revoked early: one more try with a new token.
      tokens.invalidate(token);
      const renewed = await tokens.get();
      const second = await this.send(url, init(renewed));
      if (second.status === 401) {
        tokens.invalidate(renewed);
        throw new AuthError(`NetSuite refused a new access token on ${method} ${path} (${describe(second.body as NetSuiteErrorBody)}). Check the role's REST Web Services permission; the Login Audit Trail names the reason.`);
      }
      return second;
    });
    if (res.status === 403) throw new AuthError(`NetSuite forbids ${method} ${path}: ${describe(res.body as NetSuiteErrorBody)}. Give the integration's role the permission.`);
    if (res.status >= 300) throw new NetSuiteRequestError(method, path, res.status, (res.body ?? {}) as NetSuiteErrorBody);
    return res as Reply<T>;
  }

  /** The token request: form-encoded, no bearer, paced and with 429s waited out like any call. */
  async postForm(url: string, form: URLSearchParams): Promise<{ status: number; body: unknown }> {
    return this.retrying('POST token', () => this.send(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form.toString() }));
  }

  url(path: string, query?: Record<string, string | number | undefined>): string {
    const url = new URL(`${this.options.baseUrl}${path}`);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  }

  /** One request in a pacer slot; the body is read before the slot is given back. */
  private async send(url: string, init: RequestInit): Promise<Reply<unknown>> {
    return this.options.pacer.run(async () => {
      countCall('netsuite');
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(this.options.timeoutMs ?? NETSUITE_TIMEOUT_MS) });
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

  /** Runs `send` again after each 429, as the one retry policy allows. */
  private retrying(what: string, send: () => Promise<Reply<unknown>>): Promise<Reply<unknown>> {
    return callWithRetries({
      system: 'netsuite',
      ...NETSUITE_RETRY,
      ...this.options.retry,
      throttled: (outcome) => {
        if (!('value' in outcome) || outcome.value.status !== 429) return undefined;
        const res = outcome.value;
        return {
          reason: '429',
          waitMs: retryAfterMs(res.headers.get('retry-after')),
          message: `NetSuite refused ${what} with 429 (${describe(res.body as NetSuiteErrorBody)}): the account's concurrency limit is taken by other work`,
        };
      },
    }, send);
  }
}
