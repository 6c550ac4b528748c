import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuthError, RateLimitError } from '../../src/sync/protocol.js';
import { callWithRetries, retryAfterMs, type RetryLimits } from '../shared/retry.js';

/**
 * How a failed HubSpot call is handled. The SDK's own retry (numberOfApiCallRetries) is left off:
 * it waits a fixed 10 s × attempt on TEN_SECONDLY_ROLLING whatever the headers say, writes to
 * console.error, and is installed through a process-wide singleton shared by every Client. Here,
 * under the one retry policy (connectors/shared/retry.ts), a ten-secondly 429 waits until the
 * rate window frees (see RatePacer) and is the only failure retried in process; a DAILY 429 is
 * never retried (RateLimitError with daily = true); 5xx and network errors go back to the caller
 * at once, for Temporal to retry the activity.
 */
export const HUBSPOT_RETRY: RetryLimits = {
  // Ten waits for the window, as a burst from several activities sharing one app may need.
  maxAttempts: 11,
  // The ten-second window: a longer wait is Temporal's to schedule.
  maxWaitMs: 10_000,
  backoffMs: 250,
};

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
  const retryAfter = retryAfterMs(headers?.['retry-after']);
  if (retryAfter !== undefined && retryAfter > 0) return retryAfter;
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

/** What the pacer reads time from and waits on; monotonic, so a clock step cannot stall it. */
export interface PacerClock {
  now(): number;
  sleep: Sleep;
}

const realClock: PacerClock = { now: () => performance.now(), sleep };

function positiveNumber(value: string | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * Paces our calls to HubSpot's rolling-window limit (TEN_SECONDLY_ROLLING) so the window is used
 * up to its limit without 429s. The limit and window are learnt from the X-HubSpot-RateLimit-Max
 * and -Interval-Milliseconds headers (until one arrives, calls go unpaced); the send time of every
 * call is kept, and when the window holds `max` of them the next call waits until the oldest has
 * left it, plus a small margin for the time between our send and HubSpot counting the call.
 * X-HubSpot-RateLimit-Remaining is not used to pace: with calls in flight concurrently it arrives
 * out of order and describes the window as it was, not as it is. Every call with the same
 * credentials must go through one pacer (see sharedPacer).
 */
export class RatePacer {
  private max: number | undefined;
  private windowMs = 10_000;
  /** Send times of our calls still in the window, oldest first. */
  private readonly sent: number[] = [];
  /** After a 429 nobody sends before this. */
  private pausedUntil = -Infinity;

  constructor(private readonly clock: PacerClock = realClock) {}

  /** The limit as learnt so far. */
  get limit(): { max: number | undefined; windowMs: number } {
    return { max: this.max, windowMs: this.windowMs };
  }

  /** Learns the limit from a response's headers; absent on some APIs (search), which changes nothing. */
  observe(headers: Record<string, string> | undefined): void {
    const max = positiveNumber(headers?.['x-hubspot-ratelimit-max']);
    const interval = positiveNumber(headers?.['x-hubspot-ratelimit-interval-milliseconds']);
    // Calls sent before the limit was known went out on a cold connection, whose setup can delay
    // HubSpot's count past our send time by more than the margin: count them from now instead.
    if (max !== undefined && this.max === undefined) this.sent.fill(this.clock.now());
    if (max !== undefined) this.max = max;
    if (interval !== undefined) this.windowMs = interval;
  }

  /** Waits until one more call fits in the window, then counts it as sent. */
  async acquire(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      const delay = this.delayAt(now);
      if (delay <= 0) {
        this.sent.push(now);
        return;
      }
      await this.clock.sleep(delay);
    }
  }

  /**
   * A TEN_SECONDLY_ROLLING 429 arrived: the window is full. Returns how long to wait before the
   * retry, and holds every other call as long: until our oldest call in the window leaves it, or
   * `fallbackMs` (Retry-After or the whole window) when none of the window's calls are ours.
   */
  refused(fallbackMs: number): number {
    const now = this.clock.now();
    this.prune(now);
    const oldestFree = this.sent.length > 0 ? this.sent[0] + this.windowMs + this.marginMs() - now : fallbackMs;
    const waitMs = Math.max(this.marginMs(), Math.min(fallbackMs, oldestFree));
    this.pausedUntil = Math.max(this.pausedUntil, now + waitMs);
    return waitMs;
  }

  /**
   * Room for HubSpot counting a call later than we sent it (queueing on our side, the network):
   * 2 % of the window, at least 25 ms and at most 250 ms.
   */
  private marginMs(): number {
    return Math.min(250, Math.max(25, this.windowMs * 0.02));
  }

  /** A send at s occupies the window until s + window + margin. */
  private prune(now: number): void {
    const span = this.windowMs + this.marginMs();
    let drop = 0;
    while (drop < this.sent.length && this.sent[drop] + span <= now) drop++;
    if (drop > 0) this.sent.splice(0, drop);
  }

  private delayAt(now: number): number {
    this.prune(now);
    let delay = this.pausedUntil - now;
    if (this.max !== undefined && this.sent.length >= this.max) {
      delay = Math.max(delay, this.sent[this.sent.length - this.max] + this.windowMs + this.marginMs() - now);
    }
    return delay;
  }
}

const sharedPacers = new Map<string, RatePacer>();

/**
 * The process's pacer for one HubSpot app: connectors built for the same API origin and token
 * (one per connection, and activities running concurrently) share its limit. Keyed by a hash so
 * the token is not kept twice.
 */
export function sharedPacer(basePath: string | undefined, accessToken: string): RatePacer {
  const key = `${basePath ?? ''} ${createHash('sha256').update(accessToken).digest('hex')}`;
  let pacer = sharedPacers.get(key);
  if (!pacer) {
    pacer = new RatePacer();
    sharedPacers.set(key, pacer);
  }
  return pacer;
}

/**
 * Runs one SDK call under the retry policy; failures become typed errors. With a pacer (which
 * the SDK's middleware consults before each request) a 429 waits until the pacer's window frees,
 * and holds the pacer's other calls as long.
 */
export async function callHubSpot<T>(call: () => Promise<T>, limits: RetryLimits = HUBSPOT_RETRY, pacer?: RatePacer): Promise<T> {
  try {
    return await callWithRetries({
      system: 'hubspot',
      ...limits,
      throttled: (outcome) => {
        if (!('error' in outcome)) return undefined;
        const failure = classify(outcome.error);
        if (failure.kind !== 'rateLimit') return undefined;
        const exception = isApiException(outcome.error) ? outcome.error : undefined;
        if (pacer && exception) pacer.observe(exception.headers);
        return {
          reason: (exception && bodyOf(exception).policyName) || 'RATE_LIMIT',
          waitMs: pacer ? pacer.refused(failure.waitMs) : failure.waitMs,
          message: failure.message,
        };
      },
    }, call);
  } catch (error) {
    if (error instanceof RateLimitError) throw error;
    const failure = classify(error);
    switch (failure.kind) {
      case 'daily':
        throw new RateLimitError(failure.message, failure.waitMs, true);
      case 'auth':
        throw new AuthError(failure.message);
      case 'client':
        throw new HubSpotRequestError(failure.message, failure.status, failure.body);
      default:
        throw new Error(failure.message, { cause: error });
    }
  }
}
