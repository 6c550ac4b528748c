import { DelegateBackoff, EventEmitter, ExponentialBackoff, halfJitterGenerator, handleWhen, retry, type IBackoff } from 'cockatiel';
import type { Logger } from 'pino';
import { log } from '../../src/runtime/log.js';
import { RateLimitError } from '../../src/sync/protocol.js';

/**
 * The one retry policy of ecosync's calls to external systems.
 *
 * Temporal retries whole activities (each workflow's activity RetryPolicy), so a connector repeats
 * a call only when the system itself asks to be called again shortly: a 429 or throttle inside a
 * short window (HubSpot's ten-second window, NetSuite's concurrency limit, AWS's
 * ThrottlingException, a Retry-After). Every other failure leaves the call at its first attempt:
 * 5xx, network errors and timeouts fail the activity, which Temporal retries with its own backoff;
 * refusals and bad credentials need a person and are never retried. A wait the system asks for
 * that is longer than the in-process window, or a system still refusing after the last attempt,
 * ends the call with a RateLimitError carrying the wait, which the activities hand to Temporal as
 * the next retry's delay.
 *
 * Every retry is counted per system and reason (retryTotals) and announced (onRetry), and so is a
 * call that gives up (onGiveUp), for the metrics an admin reads.
 */

/** How many attempts a call gets and how long it may wait in process. */
export interface RetryLimits {
  /** Attempts per call at most, the first included. */
  maxAttempts: number;
  /** The longest wait made in process; a longer one the system asks for ends the call with a RateLimitError. */
  maxWaitMs: number;
  /** The first wait when the system names none; it doubles each retry, with jitter, up to maxWaitMs. */
  backoffMs: number;
}

/** The system asked to be called again: why, and after how long when it said. */
export interface Throttle {
  /** Short and fixed, for counters and logs: 'TEN_SECONDLY_ROLLING', 'ThrottlingException', '429'. */
  reason: string;
  /** The wait the system asked for (Retry-After, a rate window); backoff when absent. */
  waitMs?: number;
  /** The system's words, for the error of a call that gives up. */
  message?: string;
}

/** What one attempt ended with: an error thrown or a value returned (an HTTP answer, say). */
export type Outcome<T> = { error: unknown } | { value: T };

export interface CallPolicy<T> extends RetryLimits {
  /** The external system, as counters and logs name it. */
  system: string;
  /** Whether this outcome is the system asking to be called again; undefined for anything else. */
  throttled(outcome: Outcome<T>): Throttle | undefined;
  /** Told of each retry before its wait (e.g. to hold a pacer's other calls as long). */
  onRetry?(event: RetryEvent): void;
  logger?: Logger;
}

export interface RetryEvent {
  system: string;
  reason: string;
  /** The attempt that failed, 1 for the first. */
  attempt: number;
  delayMs: number;
}

export interface GiveUpEvent {
  system: string;
  reason: string;
  /** Attempts made, the first included. */
  attempts: number;
  /** The wait the system asked for last. */
  retryAfterMs: number;
}

export interface RetryTotal {
  system: string;
  reason: string;
  retries: number;
  gaveUp: number;
}

const retried = new EventEmitter<RetryEvent>();
const gaveUp = new EventEmitter<GiveUpEvent>();
const totals = new Map<string, RetryTotal>();

/** Subscribes to every retry of every call in the process; dispose() to stop. */
export const onRetry = retried.addListener;
/** Subscribes to calls that end throttled (attempts used up, or a wait too long to make in process). */
export const onGiveUp = gaveUp.addListener;

/** Retries and give-ups so far in this process, per system and reason. */
export function retryTotals(): RetryTotal[] {
  return [...totals.values()].map((t) => ({ ...t }));
}

function total(system: string, reason: string): RetryTotal {
  const key = `${system}\u0000${reason}`;
  let t = totals.get(key);
  if (!t) totals.set(key, (t = { system, reason, retries: 0, gaveUp: 0 }));
  return t;
}

/**
 * Runs `call` under the policy: again after the wait the system asks for, as long as it asks
 * within the window and attempts are left; any other failure is thrown as is at once.
 */
export async function callWithRetries<T>(policy: CallPolicy<T>, call: () => Promise<T>): Promise<T> {
  let attempts = 0;
  // What the system said about the latest attempt; undefined once an attempt ends otherwise.
  let asked: Throttle | undefined;
  const judge = (outcome: Outcome<T>): boolean => {
    asked = policy.throttled(outcome);
    return asked !== undefined && (asked.waitMs ?? 0) <= policy.maxWaitMs;
  };
  const exponential = new ExponentialBackoff({ initialDelay: policy.backoffMs, maxDelay: policy.maxWaitMs, generator: halfJitterGenerator });
  const backoff = new DelegateBackoff<unknown, IBackoff<unknown> | undefined>((_context, step) => {
    const next = step ? step.next(undefined) : exponential.next();
    return { delay: asked?.waitMs ?? next.duration, state: next };
  });
  const policyOfCall = retry(handleWhen((error) => judge({ error })).orWhenResult((value) => judge({ value: value as T })), {
    maxAttempts: Math.max(0, policy.maxAttempts - 1),
    backoff,
  });
  const listening = policyOfCall.onRetry(({ delay, attempt }) => {
    const event: RetryEvent = { system: policy.system, reason: asked!.reason, attempt, delayMs: delay };
    total(event.system, event.reason).retries++;
    (policy.logger ?? log()).debug(event, 'asked to wait; calling again after the wait');
    policy.onRetry?.(event);
    retried.emit(event);
  });
  let value: T;
  try {
    value = await policyOfCall.execute(() => {
      attempts++;
      return call();
    });
  } catch (error) {
    if (asked) throw giveUp(policy, asked, attempts);
    throw error;
  } finally {
    listening.dispose();
  }
  // Still refused after the last attempt, as an answer rather than an error.
  if (asked) throw giveUp(policy, asked, attempts);
  return value;
}

function giveUp(policy: CallPolicy<unknown>, asked: Throttle, attempts: number): RateLimitError {
  const retryAfterMs = asked.waitMs ?? policy.maxWaitMs;
  total(policy.system, asked.reason).gaveUp++;
  gaveUp.emit({ system: policy.system, reason: asked.reason, attempts, retryAfterMs });
  const made = `${attempts} ${attempts === 1 ? 'attempt' : 'attempts'}`;
  const why = retryAfterMs > policy.maxWaitMs
    ? `it asks to wait ${retryAfterMs} ms, longer than ecosync waits in process (${made} made)`
    : `still refused after ${made}`;
  return new RateLimitError(`${asked.message ?? `${policy.system} refused the call (${asked.reason})`}; ${why}`, retryAfterMs);
}

/** A Retry-After header's wait: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
