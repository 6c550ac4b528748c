import {
  BatchMeterUsageCommand, CustomerNotEntitledException, DuplicateRequestException, InvalidProductCodeException, InvalidUsageDimensionException,
  MeterUsageCommand, TimestampOutOfBoundsException, type UsageRecord,
} from '@aws-sdk/client-marketplace-metering';
import { afterEach, describe, expect, it } from 'vitest';
import { SANDBOX_CREDENTIALS } from '../sandbox/index.js';
import { BUYER, BUYER_2, BUYER_3, clientsFor, startMarketplace, type Marketplace } from './helpers.js';

/** The demo seed gives BUYER_2 an agreement for the contract-with-usage product (ApiCalls, DataGB metered). */
let mp: Marketplace;
afterEach(async () => mp?.close());

const HOUR = 3_600_000;

/** A marketplace whose demo agreements are six hours old, so the whole metering window is inside them. */
async function started(options: Parameters<typeof startMarketplace>[0] = {}): Promise<Marketplace> {
  const marketplace = await startMarketplace({ demo: true, ...options });
  marketplace.sandbox.state.advanceClock(6 * HOUR);
  return marketplace;
}

function record(at: number, customer: string, Dimension: string, Quantity: number): UsageRecord {
  return { Timestamp: new Date(at), CustomerAWSAccountId: customer, Dimension, Quantity };
}

describe('BatchMeterUsage', () => {
  it('meters subscribed customers, reports the unsubscribed, and keeps one record per customer, dimension and hour', async () => {
    mp = await started();
    const now = mp.sandbox.state.now();
    const meter = (records: UsageRecord[]) => mp.seller.metering.send(new BatchMeterUsageCommand({ ProductCode: mp.productCodes.hybrid, UsageRecords: records }));
    const first = await meter([record(now - 2 * HOUR, BUYER_2, 'ApiCalls', 1200), record(now - 2 * HOUR, BUYER_2, 'DataGB', 7), record(now - 2 * HOUR, BUYER_3, 'ApiCalls', 10)]);
    expect(first.Results!.map((r) => [r.UsageRecord!.CustomerAWSAccountId, r.UsageRecord!.Dimension, r.Status])).toEqual([
      [BUYER_2, 'ApiCalls', 'Success'], [BUYER_2, 'DataGB', 'Success'], [BUYER_3, 'ApiCalls', 'CustomerNotSubscribed'],
    ]);
    expect(first.Results![0].MeteringRecordId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.Results![2].MeteringRecordId).toBeUndefined();
    expect(first.UnprocessedRecords).toEqual([]);

    // The same record again (a retry) is the same record; another quantity in that hour is a duplicate.
    const retried = await meter([record(now - 2 * HOUR + 60_000, BUYER_2, 'ApiCalls', 1200)]);
    expect(retried.Results![0]).toMatchObject({ Status: 'Success', MeteringRecordId: first.Results![0].MeteringRecordId });
    const duplicate = await meter([record(now - 2 * HOUR + 120_000, BUYER_2, 'ApiCalls', 1300), record(now - HOUR, BUYER_2, 'ApiCalls', 1300)]);
    expect(duplicate.Results!.map((r) => r.Status)).toEqual(['DuplicateRecord', 'Success']);
    expect(mp.sandbox.state.metering.records.size).toBe(3);
  });

  it('refuses a call of more than 25 records, a late or future timestamp, a dimension that is not metered, another seller\'s product', async () => {
    mp = await started();
    const now = mp.sandbox.state.now();
    const meter = (records: UsageRecord[], ProductCode = mp.productCodes.hybrid) => mp.seller.metering.send(new BatchMeterUsageCommand({ ProductCode, UsageRecords: records })).catch((e: unknown) => e as Error & { $metadata: { httpStatusCode: number } });

    const tooMany = await meter(Array.from({ length: 26 }, (_, i) => record(now - i * 60_000, BUYER_2, 'ApiCalls', 1)));
    expect(tooMany).toMatchObject({ name: 'ValidationException', message: "1 validation error detected: Value at 'usageRecords' failed to satisfy constraint: Member must have length less than or equal to 25", $metadata: { httpStatusCode: 400 } });

    const late = await meter([record(now - 10 * 60_000, BUYER_2, 'DataGB', 1), record(now - 6 * HOUR - 60_000, BUYER_2, 'ApiCalls', 5)]);
    expect(late).toBeInstanceOf(TimestampOutOfBoundsException);
    expect(late).toMatchObject({ $metadata: { httpStatusCode: 400 }, message: expect.stringMatching(/at most 6 hours after/) });
    expect(await meter([record(now + HOUR, BUYER_2, 'ApiCalls', 5)])).toBeInstanceOf(TimestampOutOfBoundsException);

    const contractDimension = await meter([record(now, BUYER_2, 'ApiCalls', 5), record(now, BUYER_2, 'Users', 5)]);
    expect(contractDimension).toBeInstanceOf(InvalidUsageDimensionException);
    expect((contractDimension as Error).message).toBe(`The usage dimension Users does not match one of the usage dimensions of product ${mp.productCodes.hybrid} (ApiCalls, DataGB).`);
    expect(await meter([record(now, BUYER_2, 'ApiCalls', 5)], 'nosuchproductcode0000000')).toBeInstanceOf(InvalidProductCodeException);
    const asReseller = await mp.reseller.metering.send(new BatchMeterUsageCommand({ ProductCode: mp.productCodes.hybrid, UsageRecords: [record(now, BUYER_2, 'ApiCalls', 5)] })).catch((e: unknown) => e);
    expect(asReseller).toBeInstanceOf(InvalidProductCodeException);
    // A refused call is refused whole: none of its valid records was metered.
    expect(mp.sandbox.state.metering.records.size).toBe(0);

    const full = await meter(Array.from({ length: 25 }, (_, i) => record(now - i * 60_000, BUYER_2, 'ApiCalls', 7)));
    expect((full as { Results: { Status: string }[] }).Results.map((r) => r.Status)).toEqual(Array(25).fill('Success'));
  });

  it('puts records in UnprocessedRecords under injected record failures (retrying them meters them once)', async () => {
    mp = await started({ faults: { recordFailureRate: 0.5, seed: 3 } });
    const now = mp.sandbox.state.now();
    const records = Array.from({ length: 10 }, (_, i) => record(now - i * HOUR / 2, BUYER_2, i % 2 ? 'ApiCalls' : 'DataGB', 100 + i));
    const first = await mp.seller.metering.send(new BatchMeterUsageCommand({ ProductCode: mp.productCodes.hybrid, UsageRecords: records }));
    expect(first.UnprocessedRecords!.length).toBeGreaterThan(0);
    expect(first.Results!.length + first.UnprocessedRecords!.length).toBe(10);
    mp.sandbox.faults.set({});
    const retry = await mp.seller.metering.send(new BatchMeterUsageCommand({ ProductCode: mp.productCodes.hybrid, UsageRecords: first.UnprocessedRecords }));
    expect(retry.Results!.every((r) => r.Status === 'Success')).toBe(true);
    expect(mp.sandbox.state.metering.records.size).toBe(10);
  });

  it('stops metering a customer whose agreement was cancelled', async () => {
    mp = await started();
    const agreement = [...mp.sandbox.state.store.agreements.values()].find((a) => a.acceptor === BUYER_2)!;
    const meter = () => mp.seller.metering.send(new BatchMeterUsageCommand({ ProductCode: mp.productCodes.hybrid, UsageRecords: [record(mp.sandbox.state.now(), BUYER_2, 'ApiCalls', 1)] }));
    expect((await meter()).Results![0].Status).toBe('Success');
    mp.sandbox.state.agreements.cancel(agreement.id);
    mp.sandbox.state.advanceClock(HOUR);
    expect((await meter()).Results![0].Status).toBe('CustomerNotSubscribed');
  });
});

describe('MeterUsage (from software in the buyer\'s account)', () => {
  it('meters the calling account\'s usage, once per hour and dimension, idempotent by ClientToken', async () => {
    mp = await started({ accounts: { SANDBOXBUYERTWOKEY01: BUYER_2 } });
    const buyer = clientsFor(mp.sandbox.url, { accessKeyId: 'SANDBOXBUYERTWOKEY01', secretAccessKey: 'x' }).metering;
    const now = new Date(mp.sandbox.state.now());
    const meter = (UsageQuantity: number, ClientToken?: string) => buyer.send(new MeterUsageCommand({ ProductCode: mp.productCodes.hybrid, Timestamp: now, UsageDimension: 'DataGB', UsageQuantity, ClientToken }));
    const { MeteringRecordId } = await meter(40, 'hour-1');
    expect(MeteringRecordId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await meter(40, 'hour-1')).MeteringRecordId).toBe(MeteringRecordId);
    expect(await meter(41, 'hour-1').catch((e: Error) => e.name)).toBe('IdempotencyConflictException');
    expect(await meter(41).catch((e: unknown) => e)).toBeInstanceOf(DuplicateRequestException);
    const notBuyer = clientsFor(mp.sandbox.url, SANDBOX_CREDENTIALS.buyer).metering;
    const refused = await notBuyer.send(new MeterUsageCommand({ ProductCode: mp.productCodes.hybrid, Timestamp: now, UsageDimension: 'DataGB', UsageQuantity: 1 })).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CustomerNotEntitledException);
    expect((refused as Error).message).toBe(`Account ${BUYER} is not subscribed to product ${mp.productCodes.hybrid}.`);
  });
});
