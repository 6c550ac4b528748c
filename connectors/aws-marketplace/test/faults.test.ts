import { DescribeAgreementCommand, InternalServerException, ThrottlingException as AgreementThrottling } from '@aws-sdk/client-marketplace-agreement';
import {
  DescribeEntityCommand, InternalServiceException, ListEntitiesCommand, MarketplaceCatalogClient, ThrottlingException as CatalogThrottling,
} from '@aws-sdk/client-marketplace-catalog';
import { BatchMeterUsageCommand, InternalServiceErrorException, ThrottlingException as MeteringThrottling } from '@aws-sdk/client-marketplace-metering';
import { afterEach, describe, expect, it } from 'vitest';
import { BUYER_2, clientsFor, startMarketplace, until, type Marketplace } from './helpers.js';

/** Throttles, 5xx and hung calls from the shared fault plan, answered in each service's own words. */
let mp: Marketplace;
afterEach(async () => mp?.close());

describe('fault injection', () => {
  it('throttles as AWS does and the unmodified SDK retries until the call goes through', async () => {
    mp = await startMarketplace({ demo: true, faults: { rateLimitRate: 1, endpoints: /^catalog\.ListEntities$/ } });
    const listing = mp.seller.catalog.send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'Offer' }));
    await until(() => mp.sandbox.counters.get('catalog.ListEntities.ThrottlingException') >= 1);
    mp.sandbox.faults.set({});
    const listed = await listing;
    expect(listed.EntitySummaryList).toHaveLength(3);
    expect(listed.$metadata.attempts).toBeGreaterThanOrEqual(2);
    expect(mp.sandbox.counters.get('catalog.ListEntities')).toBe(listed.$metadata.attempts);
  });

  it('surfaces each service\'s throttling and server errors once the SDK gives up', async () => {
    mp = await startMarketplace({ demo: true, faults: { rateLimitRate: 1 } });
    const once = clientsFor(mp.sandbox.url, undefined, 1);
    const agreementId = [...mp.sandbox.state.store.agreements.keys()][0];
    const code = mp.productCodes.hybrid;
    const meter = () => once.metering.send(new BatchMeterUsageCommand({ ProductCode: code, UsageRecords: [{ Timestamp: new Date(), CustomerAWSAccountId: BUYER_2, Dimension: 'ApiCalls', Quantity: 1 }] }));
    const calls = () => [
      once.catalog.send(new DescribeEntityCommand({ Catalog: 'AWSMarketplace', EntityId: agreementId })).catch((e: unknown) => e),
      once.agreement.send(new DescribeAgreementCommand({ agreementId })).catch((e: unknown) => e),
      meter().catch((e: unknown) => e),
    ];
    const throttled = await Promise.all(calls()) as (Error & { $metadata: { httpStatusCode: number }; $retryable?: unknown })[];
    expect(throttled[0]).toBeInstanceOf(CatalogThrottling);
    expect(throttled[1]).toBeInstanceOf(AgreementThrottling);
    expect(throttled[2]).toBeInstanceOf(MeteringThrottling);
    expect(throttled.map((e) => e.$metadata.httpStatusCode)).toEqual([429, 429, 400]);

    mp.sandbox.faults.set({ serverErrorRate: 1 });
    const failed = await Promise.all(calls()) as (Error & { $metadata: { httpStatusCode: number } })[];
    expect(failed[0]).toBeInstanceOf(InternalServiceException);
    expect(failed[1]).toBeInstanceOf(InternalServerException);
    expect(failed[2]).toBeInstanceOf(InternalServiceErrorException);
    expect(failed.map((e) => e.$metadata.httpStatusCode)).toEqual([500, 500, 500]);
    expect(mp.sandbox.counters.snapshot()).toMatchObject({
      'catalog.DescribeEntity.ThrottlingException': 1, 'agreement.DescribeAgreement.ThrottlingException': 1, 'metering.BatchMeterUsage.ThrottlingException': 1,
      'catalog.DescribeEntity.InternalServiceException': 1, 'agreement.DescribeAgreement.InternalServerException': 1, 'metering.BatchMeterUsage.InternalServiceErrorException': 1,
    });
  });

  it('a hung call runs into the client\'s timeout', async () => {
    mp = await startMarketplace({ faults: { timeoutRate: 1 } });
    const client = new MarketplaceCatalogClient({
      endpoint: mp.sandbox.url, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIAANY', secretAccessKey: 'x' },
      requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true },
    });
    const error = await client.send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'Offer' })).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'TimeoutError' });
    client.destroy();
  });

  it('refuses unsigned calls and calls signed for another service', async () => {
    mp = await startMarketplace();
    const unsigned = await fetch(`${mp.sandbox.url}/ListEntities`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"Catalog":"AWSMarketplace","EntityType":"Offer"}' });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    const wrongService = await fetch(`${mp.sandbox.url}/ListEntities`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json', 'x-amz-date': '20250101T000000Z',
        authorization: `AWS4-HMAC-SHA256 Credential=AKIAANY/20250101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
      },
      body: '{"Catalog":"AWSMarketplace","EntityType":"Offer"}',
    });
    expect(wrongService.status).toBe(403);
    expect(await wrongService.json()).toMatchObject({ Message: "Credential should be scoped to correct service: 'aws-marketplace', not 's3'." });
  });
});
