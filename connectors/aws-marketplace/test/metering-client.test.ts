import { afterEach, describe, expect, it } from 'vitest';
import { AwsMeteringClient, MeteringRefused, type AwsUsage } from '../metering.js';
import { SANDBOX_CREDENTIALS } from '../sandbox/index.js';
import { BUYER_2, BUYER_3, startMarketplace, type Marketplace } from './helpers.js';

/**
 * ecosync's metering client (connectors/aws-marketplace/metering.ts) on the official SDK against
 * the sandbox: each record's status under the caller's key, UnprocessedRecords named for a
 * retry, throttling waited out, and whole-call refusals as MeteringRefused with AWS's code.
 */
let mp: Marketplace;
let client: AwsMeteringClient;
afterEach(async () => {
  client?.close();
  await mp?.close();
});

const HOUR = 3_600_000;

async function started(options: Parameters<typeof startMarketplace>[0] = {}): Promise<void> {
  mp = await startMarketplace({ demo: true, ...options });
  // The demo agreements are six hours old: the whole window is inside them.
  mp.sandbox.state.advanceClock(6 * HOUR);
  client = new AwsMeteringClient({ endpoint: mp.sandbox.url, ...SANDBOX_CREDENTIALS.seller });
}

const hourAgo = (n: number) => new Date(Math.floor((mp.sandbox.state.now() - n * HOUR) / HOUR) * HOUR);
const usage = (key: string, over: Partial<AwsUsage> = {}): AwsUsage => ({ key, customerAccountId: BUYER_2, dimension: 'ApiCalls', quantity: 10, timestamp: hourAgo(2), ...over });

describe('AwsMeteringClient', () => {
  it('answers each record under its key: Success, DuplicateRecord for another quantity in a metered hour, CustomerNotSubscribed', async () => {
    await started();
    const first = await client.batchMeterUsage(mp.productCodes.hybrid, [usage('a'), usage('b', { dimension: 'DataGB', quantity: 3 }), usage('c', { customerAccountId: BUYER_3 })]);
    expect(first.unprocessed).toEqual([]);
    expect(first.results).toEqual([
      { key: 'a', status: 'Success', meteringRecordId: expect.stringMatching(/^[0-9a-f-]{36}$/) },
      { key: 'b', status: 'Success', meteringRecordId: expect.any(String) },
      { key: 'c', status: 'CustomerNotSubscribed' },
    ]);
    // The same hour again: the same record (a resend after a crash), or a duplicate of it.
    const again = await client.batchMeterUsage(mp.productCodes.hybrid, [usage('a2')]);
    expect(again.results).toEqual([{ key: 'a2', status: 'Success', meteringRecordId: first.results[0].meteringRecordId }]);
    const other = await client.batchMeterUsage(mp.productCodes.hybrid, [usage('a3', { quantity: 11 })]);
    expect(other.results).toEqual([{ key: 'a3', status: 'DuplicateRecord', meteringRecordId: first.results[0].meteringRecordId }]);
    expect(mp.sandbox.state.metering.records.size).toBe(2);
  });

  it('names the records AWS did not get to, and sending them again meters each once', async () => {
    await started({ faults: { recordFailureRate: 0.5, seed: 7, endpoints: /^metering\./ } });
    // One record per customer, dimension and hour, as AWS wants them.
    const records = Array.from({ length: 10 }, (_, i) => usage(`k${i}`, { timestamp: hourAgo(1 + (i % 5)), dimension: i < 5 ? 'ApiCalls' : 'DataGB', quantity: i }));
    const first = await client.batchMeterUsage(mp.productCodes.hybrid, records);
    expect(first.unprocessed.length).toBeGreaterThan(0);
    expect([...first.results.map((r) => r.key), ...first.unprocessed].sort()).toEqual(records.map((r) => r.key).sort());
    mp.sandbox.faults.set({});
    const retry = await client.batchMeterUsage(mp.productCodes.hybrid, records.filter((r) => first.unprocessed.includes(r.key)));
    expect(retry.unprocessed).toEqual([]);
    expect(retry.results.every((r) => r.status === 'Success')).toBe(true);
    expect(mp.sandbox.state.metering.records.size).toBe(10);
  });

  it('waits out throttling, and gives up on a throttle that lasts with a RateLimitError', async () => {
    await started({ faults: { rateLimitRate: 0.5, seed: 2, endpoints: /^metering\./ } });
    for (let i = 0; i < 5; i++) {
      const answer = await client.batchMeterUsage(mp.productCodes.hybrid, [usage(`t${i}`, { timestamp: hourAgo(1 + i) })]);
      expect(answer.results[0].status).toBe('Success');
    }
    expect(mp.sandbox.counters.get('metering.BatchMeterUsage.ThrottlingException')).toBeGreaterThan(0);
    mp.sandbox.faults.set({ rateLimitRate: 1, endpoints: /^metering\./ });
    const stubborn = new AwsMeteringClient({ endpoint: mp.sandbox.url, ...SANDBOX_CREDENTIALS.seller, maxAttempts: 2 });
    await expect(stubborn.batchMeterUsage(mp.productCodes.hybrid, [usage('x')])).rejects.toMatchObject({ name: 'RateLimitError' });
    stubborn.close();
  });

  it('refuses late usage as AWS does (TimestampOutOfBounds), a dimension the product does not meter, and more than 25 records', async () => {
    await started();
    const late = await client.batchMeterUsage(mp.productCodes.hybrid, [usage('ok'), usage('late', { timestamp: hourAgo(7) })]).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(MeteringRefused);
    expect(late).toMatchObject({ code: 'TimestampOutOfBounds' });
    const dimension = await client.batchMeterUsage(mp.productCodes.hybrid, [usage('seats', { dimension: 'Users' })]).catch((e: unknown) => e);
    expect(dimension).toMatchObject({ name: 'MeteringRefused', code: 'InvalidUsageDimension' });
    const product = await client.batchMeterUsage('nosuchproduct', [usage('p')]).catch((e: unknown) => e);
    expect(product).toMatchObject({ name: 'MeteringRefused', code: 'InvalidProductCode' });
    await expect(client.batchMeterUsage(mp.productCodes.hybrid, Array.from({ length: 26 }, (_, i) => usage(`n${i}`)))).rejects.toThrow('at most 25 records, not 26');
    // Nothing of a refused call was metered.
    expect(mp.sandbox.state.metering.records.size).toBe(0);
  });

  it('leaves a server error to Temporal: thrown as it is, not retried in process', async () => {
    await started({ faults: { serverErrorRate: 1, endpoints: /^metering\./ } });
    const error = await client.batchMeterUsage(mp.productCodes.hybrid, [usage('e')]).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InternalServiceErrorException' });
    expect(error).not.toBeInstanceOf(MeteringRefused);
    expect(mp.sandbox.counters.get('metering.BatchMeterUsage')).toBe(1);
  });
});
