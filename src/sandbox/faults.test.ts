import { describe, expect, it } from 'vitest';
import { FaultInjector, parseFaultPlan } from './faults.js';

describe('FaultInjector', () => {
  it('injects rate limits and server errors at about the planned rate, reproducibly', () => {
    const run = () => {
      const f = new FaultInjector({ rateLimitRate: 0.1, serverErrorRate: 0.05, seed: 7 });
      return Array.from({ length: 10_000 }, () => f.decide('query').kind);
    };
    const kinds = run();
    const share = (k: string) => kinds.filter((x) => x === k).length / kinds.length;
    expect(share('rateLimit')).toBeGreaterThan(0.08);
    expect(share('rateLimit')).toBeLessThan(0.12);
    expect(share('serverError')).toBeGreaterThan(0.035);
    expect(share('serverError')).toBeLessThan(0.065);
    expect(run()).toEqual(kinds);
  });

  it('enforces calls per second over a sliding window and says when to retry', () => {
    const f = new FaultInjector({ callsPerSecond: 3 });
    expect([0, 10, 20].map((t) => f.decide('write', t).kind)).toEqual(['none', 'none', 'none']);
    const limited = f.decide('write', 500);
    expect(limited).toMatchObject({ kind: 'rateLimit', retryAfterMs: 500 });
    expect(f.decide('write', 1001).kind).toBe('none');
  });

  it('leaves endpoints outside the filter alone', () => {
    const f = new FaultInjector({ serverErrorRate: 1, endpoints: /^write/ });
    expect(f.decide('query').kind).toBe('none');
    expect(f.decide('write.batch').kind).toBe('serverError');
  });
});

describe('parseFaultPlan', () => {
  it('reads key=value pairs', () => {
    expect(parseFaultPlan('rateLimitRate=0.1, latencyMs=20')).toEqual({ rateLimitRate: 0.1, latencyMs: 20 });
  });
  it('names the bad part', () => {
    expect(() => parseFaultPlan('rateLimitRat=0.1')).toThrow(/unknown fault "rateLimitRat"/);
    expect(() => parseFaultPlan('latencyMs=-1')).toThrow(/non-negative/);
  });
});
