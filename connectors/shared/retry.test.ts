import { describe, expect, it } from 'vitest';
import { RateLimitError } from '../../src/sync/protocol.js';
import { callWithRetries, onGiveUp, onRetry, retryAfterMs, retryTotals, type CallPolicy, type GiveUpEvent, type RetryEvent, type Throttle } from './retry.js';

/** A failure shaped like an HTTP client's: a status and, maybe, a Retry-After. */
class HttpError extends Error {
  constructor(readonly status: number, readonly retryAfter?: string) {
    super(`HTTP ${status}`);
  }
}

/** The policy connectors write: a 429 is the system asking; its Retry-After, when given, is the wait. */
function policy(system: string, limits: Partial<CallPolicy<unknown>> = {}): CallPolicy<unknown> {
  return {
    system,
    maxAttempts: 4,
    maxWaitMs: 1_000,
    backoffMs: 10,
    throttled: (outcome): Throttle | undefined => {
      const e = 'error' in outcome ? outcome.error : undefined;
      if (!(e instanceof HttpError) || e.status !== 429) return undefined;
      return { reason: '429', waitMs: retryAfterMs(e.retryAfter), message: `${system} said 429` };
    },
    ...limits,
  };
}

/** A call that fails with each of `failures` in turn, then answers 'ok'; counts its attempts. */
function scripted(failures: unknown[]) {
  const script = { calls: 0, run: async () => {
    const failure = failures[script.calls++];
    if (failure !== undefined) throw failure;
    return 'ok';
  } };
  return script;
}

/** Retry and give-up events of one system while fn runs. */
async function watch<T>(system: string, fn: () => Promise<T>): Promise<{ result: T | unknown; retries: RetryEvent[]; giveUps: GiveUpEvent[] }> {
  const retries: RetryEvent[] = [];
  const giveUps: GiveUpEvent[] = [];
  const a = onRetry((e) => { if (e.system === system) retries.push(e); });
  const b = onGiveUp((e) => { if (e.system === system) giveUps.push(e); });
  try {
    return { result: await fn().catch((e: unknown) => e), retries, giveUps };
  } finally {
    a.dispose();
    b.dispose();
  }
}

describe('callWithRetries', () => {
  it('waits as long as Retry-After says, then calls again', async () => {
    const call = scripted([new HttpError(429, '0.08'), new HttpError(429, '0.05')]);
    const started = performance.now();
    const { result, retries } = await watch('retry-after', () => callWithRetries(policy('retry-after'), call.run));
    expect(result).toBe('ok');
    expect(call.calls).toBe(3);
    expect(retries).toEqual([
      { system: 'retry-after', reason: '429', attempt: 1, delayMs: 80 },
      { system: 'retry-after', reason: '429', attempt: 2, delayMs: 50 },
    ]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(125);
  });

  it('bounds the attempts: a system that keeps refusing ends the call with a RateLimitError naming them', async () => {
    const call = scripted(Array.from({ length: 10 }, () => new HttpError(429, '0.01')));
    const { result, retries, giveUps } = await watch('bounded', () => callWithRetries(policy('bounded', { maxAttempts: 3 }), call.run));
    expect(call.calls).toBe(3);
    expect(retries).toHaveLength(2);
    expect(result).toBeInstanceOf(RateLimitError);
    expect(result).toMatchObject({ retryAfterMs: 10, daily: false, message: 'bounded said 429; still refused after 3 attempts' });
    expect(giveUps).toEqual([{ system: 'bounded', reason: '429', attempts: 3, retryAfterMs: 10 }]);
  });

  it('does not wait longer than its window: a longer Retry-After is handed on at once in the RateLimitError', async () => {
    const call = scripted([new HttpError(429, '30')]);
    const { result, retries, giveUps } = await watch('long-wait', () => callWithRetries(policy('long-wait'), call.run));
    expect(call.calls).toBe(1);
    expect(retries).toEqual([]);
    expect(result).toMatchObject({ retryAfterMs: 30_000, message: expect.stringContaining('asks to wait 30000 ms, longer than ecosync waits in process (1 attempt made)') });
    expect(giveUps).toEqual([{ system: 'long-wait', reason: '429', attempts: 1, retryAfterMs: 30_000 }]);
  });

  it('never retries what the system did not ask for: refusals, auth and 5xx leave at the first attempt, as they were thrown', async () => {
    for (const failure of [new HttpError(400), new HttpError(401), new HttpError(503), new TypeError('fetch failed')]) {
      const call = scripted([failure]);
      const { result, retries, giveUps } = await watch('not-asked', () => callWithRetries(policy('not-asked'), call.run));
      expect(result).toBe(failure);
      expect(call.calls).toBe(1);
      expect(retries).toEqual([]);
      expect(giveUps).toEqual([]);
    }
  });

  it('a throttle then another failure: the other failure is thrown after the retry it took', async () => {
    const refused = new HttpError(400);
    const call = scripted([new HttpError(429, '0'), refused]);
    const { result, retries } = await watch('then-refused', () => callWithRetries(policy('then-refused'), call.run));
    expect(result).toBe(refused);
    expect(call.calls).toBe(2);
    expect(retries).toHaveLength(1);
  });

  it('retries throttled answers as well as errors, and gives up on them the same way', async () => {
    const answers = [429, 429, 200];
    let calls = 0;
    const byStatus: CallPolicy<{ status: number }> = {
      system: 'answers', maxAttempts: 5, maxWaitMs: 1_000, backoffMs: 5,
      throttled: (o) => ('value' in o && o.value.status === 429 ? { reason: '429' } : undefined),
    };
    expect(await callWithRetries(byStatus, async () => ({ status: answers[calls++] }))).toEqual({ status: 200 });
    expect(calls).toBe(3);

    calls = 0;
    const { result: error, giveUps } = await watch('answers', () => callWithRetries({ ...byStatus, maxAttempts: 2 }, async () => {
      calls++;
      return { status: 429 };
    }));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(calls).toBe(2);
    expect((error as Error).message).toBe('answers refused the call (429); still refused after 2 attempts');
    expect(giveUps).toEqual([{ system: 'answers', reason: '429', attempts: 2, retryAfterMs: 1_000 }]);
    expect(retryTotals().find((t) => t.system === 'answers')).toMatchObject({ retries: 3, gaveUp: 1 });
  });

  it('without a named wait backs off exponentially from backoffMs, with jitter, up to the window', async () => {
    const call = scripted(Array.from({ length: 5 }, () => new HttpError(429)));
    const { retries } = await watch('backoff', () => callWithRetries(policy('backoff', { maxAttempts: 6, backoffMs: 8, maxWaitMs: 40 }), call.run));
    const delays = retries.map((r) => r.delayMs);
    // Half jitter: each wait lies in [step / 2, step), the step doubling from 8 ms and capped at 40 ms.
    [8, 16, 32, 40, 40].forEach((step, i) => {
      expect(delays[i]).toBeGreaterThanOrEqual(step / 2);
      expect(delays[i]).toBeLessThan(step);
    });
  });

  it('counts retries and give-ups per system and reason', async () => {
    await callWithRetries(policy('counted'), scripted([new HttpError(429, '0'), new HttpError(429, '0')]).run);
    await callWithRetries(policy('counted', { maxAttempts: 2 }), scripted([new HttpError(429, '0'), new HttpError(429, '0')]).run).catch(() => undefined);
    expect(retryTotals().find((t) => t.system === 'counted')).toEqual({ system: 'counted', reason: '429', retries: 3, gaveUp: 1 });
  });

  it('tells the policy of each retry before its wait', async () => {
    const seen: RetryEvent[] = [];
    await callWithRetries(policy('hooked', { onRetry: (e) => seen.push(e) }), scripted([new HttpError(429, '0.02')]).run);
    expect(seen).toEqual([{ system: 'hooked', reason: '429', attempt: 1, delayMs: 20 }]);
  });
});

describe('retryAfterMs', () => {
  it('reads delta-seconds and HTTP dates, and nothing else', () => {
    const now = Date.parse('2025-06-01T12:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3_000);
    expect(retryAfterMs('0.5', now)).toBe(500);
    expect(retryAfterMs('Sun, 01 Jun 2025 12:00:07 GMT', now)).toBe(7_000);
    expect(retryAfterMs('Sun, 01 Jun 2025 11:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs('', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
