import { describe, expect, it } from 'vitest';
import { Pacer } from './pacer.js';

/** A pacer on a virtual clock: sleeping moves the clock, calls take `durations` ms each. */
function virtual(perSecond: number) {
  let now = 0;
  const pacer = new Pacer(perSecond, () => now, async (ms) => { now += ms; });
  const starts: number[] = [];
  const call = (durationMs: number) => pacer.run(async () => {
    starts.push(now);
    now += durationMs;
  });
  return { pacer, starts, call, clock: () => now, wait: (ms: number) => { now += ms; } };
}

describe('Pacer', () => {
  it('spaces calls one interval apart, plus a 2 % margin', async () => {
    const v = virtual(1);
    for (let i = 0; i < 4; i++) await v.call(10);
    const gaps = v.starts.slice(1).map((s, i) => s - v.starts[i]);
    // 1000 ms + 2 % + 2 ms; the first gap also holds the first call's whole round trip (10 ms).
    expect(gaps).toEqual([1032, 1022, 1022]);
  });

  it('waits out a slow first call measured from when it most likely arrived', async () => {
    const v = virtual(1);
    await v.call(300); // cold start: the call sat on our side for most of this
    await v.call(10);
    await v.call(10);
    // The second call waits a full interval after the first ended; later ones use the fastest round trip.
    expect(v.starts[1] - 300).toBeGreaterThanOrEqual(1000);
    expect(v.starts[2] - v.starts[1]).toBe(1022);
  });

  it('holds everything after a throttle, even with pacing off', async () => {
    const v = virtual(0);
    await v.call(1);
    v.pacer.holdFor(500);
    await v.call(1);
    expect(v.starts[1]).toBeGreaterThanOrEqual(501);
    await v.call(1);
    expect(v.starts[2]).toBe(v.starts[1] + 1);
  });
});
