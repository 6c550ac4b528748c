import { afterEach, describe, expect, it } from 'vitest';
import { RateLimitError, type WriteOp } from '../../../src/sync/protocol.js';
import { onRetry } from '../../shared/retry.js';
import { NetSuiteRequestError } from '../calls.js';
import { createNetSuiteConnector } from '../connector.js';
import { ConcurrencyPacer, sharedPacer } from '../pacer.js';
import { netsuiteSandboxConfig, startNetSuiteSandbox, type NetSuiteSandbox, type NetSuiteSandboxOptions } from '../sandbox/index.js';

describe('ConcurrencyPacer', () => {
  it('lets at most its limit through at once and hands freed slots to waiters in order', async () => {
    const pacer = new ConcurrencyPacer(2);
    const order: number[] = [];
    await pacer.acquire();
    await pacer.acquire();
    const third = pacer.acquire().then(() => order.push(3));
    const fourth = pacer.acquire().then(() => order.push(4));
    await Promise.resolve();
    expect(pacer.inFlight).toBe(2);
    expect(order).toEqual([]);
    pacer.release();
    await third;
    expect(order).toEqual([3]);
    pacer.release();
    await fourth;
    expect(order).toEqual([3, 4]);
    expect(pacer.stats.maxInFlight).toBe(2);
  });

  it('after a 429 works with what was in flight beside the refused request, and climbs back to its ceiling on successes', async () => {
    const pacer = new ConcurrencyPacer(6);
    for (let i = 0; i < 5; i++) await pacer.acquire();
    // Another integration holds the rest of the account: NetSuite refuses the fifth.
    pacer.release(true);
    expect(pacer.limit).toEqual({ ceiling: 6, working: 4 });
    for (let i = 0; i < 4; i++) pacer.release();
    expect(pacer.limit.working).toBe(5);
    for (let i = 0; i < 5; i++) {
      await pacer.acquire();
      pacer.release();
    }
    expect(pacer.limit.working).toBe(6);
    pacer.setCeiling(3);
    expect(pacer.limit).toEqual({ ceiling: 3, working: 3 });
  });

  it('is shared per account in the process; a lower configured limit lowers it', () => {
    const a = sharedPacer('TSTDRV5550001');
    expect(sharedPacer('TSTDRV5550001')).toBe(a);
    expect(sharedPacer('TSTDRV5550002')).not.toBe(a);
    expect(a.limit.ceiling).toBe(10);
    sharedPacer('TSTDRV5550001', 4);
    expect(a.limit.ceiling).toBe(4);
  });
});

const open: NetSuiteSandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function sandbox(options: NetSuiteSandboxOptions): Promise<NetSuiteSandbox> {
  const sb = await startNetSuiteSandbox({ customers: 0, ...options });
  open.push(sb);
  return sb;
}

const customers = (prefix: string, n: number): WriteOp[] => Array.from({ length: n }, (_, i) => ({
  key: `${prefix}-${String(i).padStart(4, '0')}`, fields: { companyName: `${prefix} ${i}`, subsidiary: '2' },
}));

describe('NetSuite connector under the account\'s concurrency limit', () => {
  it('waits out 429s when the account allows fewer requests than the connector sends, and every write lands', async () => {
    const sb = await sandbox({ accountId: 'TSTDRV5550010', concurrencyLimit: 2, faults: { latencyMs: 15 } });
    const waits: number[] = [];
    const listening = onRetry((e) => { if (e.system === 'netsuite') waits.push(e.delayMs); });
    const pacer = new ConcurrencyPacer(8);
    // The connector's backoff, shortened: the test checks that it waits, not how long.
    const ns = createNetSuiteConnector(netsuiteSandboxConfig(sb), { pacer, retry: { backoffMs: 4 } });
    const results = await ns.write('customer', customers('paced', 40)).finally(() => listening.dispose());
    expect(results.every((r) => r.ok)).toBe(true);
    expect(sb.state.count('customer')).toBe(40);
    expect(sb.concurrency.refused).toBeGreaterThan(0);
    expect(waits.length).toBe(sb.concurrency.refused);
    expect(waits.every((ms) => ms > 0)).toBe(true);
    // The pacer learnt the room the account has.
    expect(pacer.stats.refusals).toBe(sb.concurrency.refused);
    expect(pacer.limit.working).toBeLessThanOrEqual(3);
  });

  it('gives up with a RateLimitError after a bounded number of 429s (Temporal retries the activity)', async () => {
    const sb = await sandbox({ accountId: 'TSTDRV5550011', faults: { rateLimitRate: 1, endpoints: /^suiteql$/ } });
    const waits: number[] = [];
    const listening = onRetry((e) => { if (e.system === 'netsuite') waits.push(e.delayMs); });
    const ns = createNetSuiteConnector(netsuiteSandboxConfig(sb), { pacer: new ConcurrencyPacer(4), retry: { maxAttempts: 3 } });
    const error = await ns.readByIds('customer', ['100'], ['companyName']).catch((e: unknown) => e).finally(() => listening.dispose());
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).message).toMatch(/REQUEST_LIMIT_EXCEEDED.*still refused after 3 attempts/);
    expect(sb.counters.get('suiteql')).toBe(3);
    // The sandbox names its wait (Retry-After: 1): that is how long the connector waits.
    expect(waits).toEqual([1000, 1000]);
    expect((error as RateLimitError).retryAfterMs).toBe(1000);
  });

  it('a wait longer than the in-process window is handed to Temporal at once, as a RateLimitError carrying it', async () => {
    const sb = await sandbox({ accountId: 'TSTDRV5550013', faults: { rateLimitRate: 1, endpoints: /^suiteql$/ } });
    const ns = createNetSuiteConnector(netsuiteSandboxConfig(sb), { pacer: new ConcurrencyPacer(4), retry: { maxWaitMs: 500 } });
    const error = await ns.readByIds('customer', ['100'], ['companyName']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ retryAfterMs: 1000, daily: false });
    expect(sb.counters.get('suiteql')).toBe(1);
  });

  it('a persistent 5xx costs one call per page: no retry in process, a plain error for Temporal to retry', async () => {
    const sb = await sandbox({ accountId: 'TSTDRV5550014', customers: 30, faults: { serverErrorRate: 1, endpoints: /^suiteql$/ } });
    const waits: number[] = [];
    const listening = onRetry((e) => { if (e.system === 'netsuite') waits.push(e.delayMs); });
    const ns = createNetSuiteConnector(netsuiteSandboxConfig(sb), { pacer: new ConcurrencyPacer(4) });
    const error = await (async () => {
      for await (const _page of ns.read('customer', { cursor: null, fields: ['companyName'], pageSize: 10 })) return undefined;
    })().catch((e: unknown) => e).finally(() => listening.dispose());
    expect(error).toBeInstanceOf(NetSuiteRequestError);
    expect(error).toMatchObject({ status: 500 });
    expect(sb.counters.get('suiteql')).toBe(1);
    expect(waits).toEqual([]);
  });

  it('two connectors for one account share the pacer: together they stay within the limit without a single 429', async () => {
    const sb = await sandbox({ accountId: 'TSTDRV5550012', concurrencyLimit: 3, faults: { latencyMs: 10 } });
    const config = { ...netsuiteSandboxConfig(sb), concurrency: 3 };
    const a = createNetSuiteConnector(config);
    const b = createNetSuiteConnector(config);
    expect(a.pacer).toBe(b.pacer);
    const [ra, rb] = await Promise.all([a.write('customer', customers('a', 30)), b.write('customer', customers('b', 30))]);
    expect([...ra, ...rb].every((r) => r.ok)).toBe(true);
    expect(sb.state.count('customer')).toBe(60);
    expect(sb.concurrency.refused).toBe(0);
    expect(sb.concurrency.maxInFlight).toBe(3);
    expect(a.pacer.stats.maxInFlight).toBe(3);
  });
});
