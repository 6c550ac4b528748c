import { setTimeout as sleep } from 'node:timers/promises';
import { AuthError, RateLimitError } from '../protocol.js';

/**
 * How a failed HubSpot call is handled. The SDK's own retry (numberOfApiCallRetries) is left off:
 * it waits a fixed 10 s × attempt on TEN_SECONDLY_ROLLING whatever the headers say, writes to
 * console.error, and is installed through a process-wide singleton shared by every Client. Here a
 * ten-secondly 429 waits for the window the response announces, a DAILY 429 is never retried
 * (RateLimitError with daily = true), and 5xx and network errors back off a few times.
 */
export interface RetryPolicy {
  /** Attempts after the first for 5xx and network errors. */
  serverRetries: number;
  /** First backoff for 5xx; doubles each attempt. */
  baseDelayMs: number;
  /** Waits for ten-secondly 429s before giving up with a RateLimitError. */
  rateLimitRetries: number;
  /** Cap on one rate-limit wait. */
  maxRateLimitWaitMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { serverRetries: 4, baseDelayMs: 250, rateLimitRetries: 10, maxRateLimitWaitMs: 10_000 };

/** What an SDK ApiException (or a network error) means for us. */
export type Failure =
  | { kind: 'rateLimit'; waitMs: number; message: string }
  | { kind: 'daily'; waitMs: number; message: string }
  | { kind: 'server'; status: number; message: string }
  | { kind: 'auth'; status: number; message: string }
  | { kind: 'client'; status: number; message: string; body: HubSpotErrorBody };

export interface HubSpotErrorBody {
  status?: string;
  message?: string;
  category?: string;
  subCategory?: string;
  policyName?: string;
  errorType?: string;
  correlationId?: string;
  context?: Record<string, string[]>;
  errors?: { message?: string; code?: string; context?: Record<string, string[]> }[];
}

interface ApiExceptionLike {
  code: number;
  body?: unknown;
  headers?: Record<string, string>;
}

function isApiException(error: unknown): error is ApiExceptionLike {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number' && 'body' in error;
}

/** The SDK hands non-2xx bodies through as parsed JSON (its "Error" model is not registered). */
function bodyOf(error: ApiExceptionLike): HubSpotErrorBody {
  const b = error.body;
  if (b && typeof b === 'object') return b as HubSpotErrorBody;
  if (typeof b === 'string') {
    try {
      return JSON.parse(b) as HubSpotErrorBody;
    } catch {
      return { message: b.slice(0, 200) };
    }
  }
  return {};
}

/** Time until the rolling window frees up: Retry-After when given, else the window HubSpot announces. */
function rateLimitWait(headers: Record<string, string> | undefined): number {
  const retryAfter = Number(headers?.['retry-after']);
  if (Number.isFinite(retryAfter) && retryAfter > 0) return retryAfter * 1000;
  const interval = Number(headers?.['x-hubspot-ratelimit-interval-milliseconds']);
  if (Number.isFinite(interval) && interval > 0) return interval;
  return 10_000;
}

export function classify(error: unknown): Failure {
  if (!isApiException(error)) {
    return { kind: 'server', status: 0, message: error instanceof Error ? error.message : String(error) };
  }
  const body = bodyOf(error);
  const message = `HubSpot ${error.code}${body.category ? ` ${body.category}` : ''}: ${body.message ?? 'no message'}`;
  if (error.code === 429) {
    const daily = body.policyName === 'DAILY' || error.headers?.['x-hubspot-ratelimit-daily-remaining'] === '0';
    // The daily budget resets at midnight in the portal's time zone; a day is the safe upper bound.
    if (daily) return { kind: 'daily', waitMs: 24 * 3_600_000, message };
    return { kind: 'rateLimit', waitMs: rateLimitWait(error.headers), message };
  }
  if (error.code === 401 || error.code === 403) return { kind: 'auth', status: error.code, message };
  if (error.code >= 500) return { kind: 'server', status: error.code, message };
  return { kind: 'client', status: error.code, message, body };
}

/** Thrown for a 4xx other than auth and rate limits: the request itself is wrong. */
export class HubSpotRequestError extends Error {
  constructor(message: string, readonly status: number, readonly body: HubSpotErrorBody) {
    super(message);
    this.name = 'HubSpotRequestError';
  }
}

export type Sleep = (ms: number) => Promise<unknown>;

/** Run one SDK call under the retry policy; failures that outlast it become typed errors. */
export async function callWithRetries<T>(call: () => Promise<T>, policy: RetryPolicy, wait: Sleep = sleep): Promise<T> {
  let serverFailures = 0;
  let rateLimits = 0;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      const failure = classify(error);
      switch (failure.kind) {
        case 'daily':
          throw new RateLimitError(failure.message, failure.waitMs, true);
        case 'rateLimit':
          if (rateLimits++ >= policy.rateLimitRetries) throw new RateLimitError(failure.message, failure.waitMs);
          await wait(Math.min(failure.waitMs, policy.maxRateLimitWaitMs));
          continue;
        case 'server':
          if (serverFailures >= policy.serverRetries) throw new Error(failure.message, { cause: error });
          await wait(policy.baseDelayMs * 2 ** serverFailures++);
          continue;
        case 'auth':
          throw new AuthError(failure.message);
        case 'client':
          throw new HubSpotRequestError(failure.message, failure.status, failure.body);
      }
    }
  }
}
