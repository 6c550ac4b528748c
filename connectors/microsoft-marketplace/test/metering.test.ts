import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMicrosoftSandbox, type MicrosoftSandbox } from '../../microsoft-partner-center/sandbox/server.js';
import type { MicrosoftMarketplaceSandbox } from '../sandbox/index.js';
import { BENEFICIARY, call, GRAPH_SCOPE, Marketplace, OTHER_BENEFICIARY, startMarketplace, tokenFor } from './helpers.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ecosync-msmp-'));
let entra: MicrosoftSandbox;
let sb: MicrosoftMarketplaceSandbox;
let mp: Marketplace;
/** A Subscribed subscription to the `pro` plan (meters api_calls and storage_gb). */
let active: { id: string };

beforeAll(async () => {
  entra = await startMicrosoftSandbox({ dataDir, incoming: 0 });
  sb = await startMarketplace(entra);
  mp = new Marketplace(sb, entra);
  active = await mp.subscribed();
});
afterAll(async () => {
  await sb?.close();
  await entra?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const Q = '?api-version=2018-08-31';
const HOUR = 3600 * 1000;
/** An hour ago, on the hour and a few minutes: one usage hour per test row. */
const at = (hoursAgo: number, minute = 5) => {
  const hour = Math.floor((sb.state.now() - hoursAgo * HOUR) / HOUR) * HOUR;
  return new Date(hour + minute * 60_000).toISOString();
};
const usage = (over: Record<string, unknown> = {}) => ({ resourceId: active.id, quantity: 10, dimension: 'api_calls', effectiveStartTime: at(2), planId: 'pro', ...over });

describe('batchUsageEvent', () => {
  it('answers each event with its own status, the duplicate carrying the original', async () => {
    const pending = sb.state.acceptPrivateOffer((await mp.liveOffer({ beneficiaries: [{ id: OTHER_BENEFICIARY }] })).id, { beneficiaryId: OTHER_BENEFICIARY }).subscription;
    const answer = await mp.api('POST', `/batchUsageEvent${Q}`, {
      request: [
        usage(),
        usage({ quantity: 3, effectiveStartTime: at(2, 40) }),
        usage({ dimension: 'storage_gb', quantity: 1.5 }),
        usage({ effectiveStartTime: at(25) }),
        usage({ dimension: 'seats' }),
        usage({ resourceId: pending.id }),
        usage({ resourceId: '00000000-0000-4000-8000-000000000000' }),
        usage({ quantity: 0, effectiveStartTime: at(3) }),
        usage({ planId: undefined, effectiveStartTime: at(4) }),
      ],
    });
    expect(answer.status).toBe(200);
    const { count, result } = answer.body;
    expect(count).toBe(9);
    expect(result.map((r: any) => r.status)).toEqual([
      'Accepted', 'Duplicate', 'Accepted', 'Expired', 'InvalidDimension', 'ResourceNotActive', 'ResourceNotFound', 'InvalidQuantity', 'BadArgument',
    ]);
    const [accepted, duplicate] = result;
    expect(accepted).toEqual({
      usageEventId: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'Accepted', messageTime: expect.any(String),
      resourceId: active.id, quantity: 10, dimension: 'api_calls', effectiveStartTime: at(2), planId: 'pro',
    });
    expect(duplicate).toMatchObject({
      status: 'Duplicate', messageTime: '0001-01-01T00:00:00', resourceId: active.id, quantity: 3,
      error: { code: 'Conflict', message: 'This usage event already exist.', additionalInfo: { acceptedMessage: { ...accepted, status: 'Duplicate' } } },
    });
    expect(result[3].error).toMatchObject({ code: 'Expired' });
    expect(result[4].error.message).toMatch(/not a meter of plan 'pro'/);
    expect(result[5].error.message).toMatch(/PendingFulfillmentStart/);
    expect(sb.state.usageEvents().map((u) => u.usageEventId)).toEqual([accepted.usageEventId, result[2].usageEventId]);
  });

  it('takes 25 events and refuses 26 with 400', async () => {
    const events = (n: number) => Array.from({ length: n }, (_, i) => usage({ effectiveStartTime: at(5 + (i % 18)), dimension: i < 18 ? 'api_calls' : 'storage_gb', quantity: i + 1 }));
    const full = await mp.api('POST', `/batchUsageEvent${Q}`, { request: events(25) });
    expect(full.status).toBe(200);
    expect(full.body.count).toBe(25);
    const tooMany = await mp.api('POST', `/batchUsageEvent${Q}`, { request: events(26) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toMatchObject({ code: 'BadArgument', details: [{ code: 'BadArgument', message: expect.stringMatching(/more than 25/) }] });
    expect((await mp.api('POST', `/batchUsageEvent${Q}`, { request: [] })).status).toBe(400);
  });
});

describe('usageEvent', () => {
  it('accepts once per resource, dimension and hour; a duplicate is a 409 with the accepted message', async () => {
    const event = usage({ effectiveStartTime: at(1), quantity: 7 });
    const first = await mp.api('POST', `/usageEvent${Q}`, event);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'Accepted', quantity: 7, resourceId: active.id });
    const again = await mp.api('POST', `/usageEvent${Q}`, { ...event, quantity: 8, effectiveStartTime: at(1, 59) });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ additionalInfo: { acceptedMessage: { ...first.body, status: 'Duplicate' } }, message: 'This usage event already exist.', code: 'Conflict' });
    expect((await mp.api('POST', `/usageEvent${Q}`, { ...event, dimension: 'storage_gb' })).status).toBe(200);
  });

  it('refuses an expired event and an unknown dimension with 400 and the reason', async () => {
    const expired = await mp.api('POST', `/usageEvent${Q}`, usage({ effectiveStartTime: new Date(sb.state.now() - 24 * HOUR - 60_000).toISOString() }));
    expect(expired.status).toBe(400);
    expect(expired.body).toMatchObject({ code: 'BadArgument', target: 'usageEventRequest', details: [{ code: 'Expired', target: 'EffectiveStartTime' }] });
    const dimension = await mp.api('POST', `/usageEvent${Q}`, usage({ dimension: 'gpu_hours', effectiveStartTime: at(6) }));
    expect(dimension.body.details[0]).toMatchObject({ code: 'InvalidDimension' });
  });

  it('stops taking usage once the subscription is suspended', async () => {
    const subscription = await mp.subscribed({}, OTHER_BENEFICIARY);
    sb.state.startOperation(subscription.id, 'Suspend');
    const answer = await mp.api('POST', `/usageEvent${Q}`, usage({ resourceId: subscription.id }));
    expect(answer.status).toBe(400);
    expect(answer.body.details[0].code).toBe('ResourceNotActive');
  });

  it('answers ResourceNotAuthorized for usage on another app\'s offer', async () => {
    const foreign = sb.state.addProduct({ externalId: 'theirs', alias: 'Theirs', appId: '11111111-2222-4333-8444-555555555555', plans: [{ externalId: 'm', displayName: 'M', prices: [{ termUnit: 'P1M', priceUsd: '0.00' }], meters: [{ id: 'calls', displayName: 'Calls', unitOfMeasure: 'call', pricePerUnitUsd: '0.01' }] }] });
    const offer = await mp.liveOffer({ pricing: [{ product: foreign.id, plan: foreign.plans[0].id, discountType: 'percentage', discountPercentage: 0 }] });
    const { subscription } = sb.state.acceptPrivateOffer(offer.id, { beneficiaryId: BENEFICIARY });
    const batch = await mp.api('POST', `/batchUsageEvent${Q}`, { request: [usage({ resourceId: subscription.id, dimension: 'calls', planId: 'm' })] });
    expect(batch.body.result[0]).toMatchObject({ status: 'ResourceNotAuthorized', error: { code: 'ResourceNotAuthorized' } });
    const single = await mp.api('POST', `/usageEvent${Q}`, usage({ resourceId: subscription.id, dimension: 'calls', planId: 'm' }));
    expect(single.status).toBe(403);
    expect(single.body).toEqual({ message: 'Client is not authorized for this usage resource.', code: 'Forbidden' });
  });
});

describe('faults and tokens', () => {
  it('throttles with 429 and Retry-After, fails with 500, and fails single events of a batch', async () => {
    sb.faults.set({ rateLimitRate: 1, endpoints: /^metering\./ });
    const throttled = await mp.api('POST', `/batchUsageEvent${Q}`, { request: [usage({ effectiveStartTime: at(0, 0) })] });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('1');
    expect(throttled.body).toEqual({ statusCode: 429, message: 'Rate limit is exceeded. Try again in 1 seconds.' });
    sb.faults.set({ serverErrorRate: 1, endpoints: /^metering\./ });
    expect((await mp.api('POST', `/usageEvent${Q}`, usage({ effectiveStartTime: at(0, 0) }))).status).toBe(500);
    sb.faults.set({ recordFailureRate: 1 });
    const failing = await mp.api('POST', `/batchUsageEvent${Q}`, { request: [usage({ effectiveStartTime: at(0, 0) })] });
    expect(failing.body.result[0]).toMatchObject({ status: 'Error', error: { code: 'Error' } });
    sb.faults.set({});
    expect((await mp.api('POST', `/batchUsageEvent${Q}`, { request: [usage({ effectiveStartTime: at(0, 0) })] })).body.result[0].status).toBe('Accepted');
    expect(sb.counters.get('429 metering.batch')).toBe(1);
    expect(sb.counters.get('500 metering.usage-event')).toBe(1);
  });

  it('needs a marketplace token and api-version 2018-08-31', async () => {
    const url = `${sb.marketplaceApiUrl}/batchUsageEvent${Q}`;
    expect((await call(url, { method: 'POST', body: { request: [usage()] }, token: await tokenFor(entra, GRAPH_SCOPE) })).status).toBe(401);
    const noVersion = await mp.api('POST', '/batchUsageEvent', { request: [usage()] });
    expect(noVersion.status).toBe(400);
    expect(noVersion.body.details[0].message).toMatch(/api-version/);
  });
});
