import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMicrosoftSandbox, type MicrosoftSandbox } from '../../microsoft-partner-center/sandbox/server.js';
import { MeteringRefused, MeteringUnavailable, MicrosoftMeteringClient, type MicrosoftUsage } from '../metering.js';
import type { MicrosoftMarketplaceSandbox } from '../sandbox/index.js';
import { Marketplace, OTHER_BENEFICIARY, startMarketplace } from './helpers.js';

/**
 * ecosync's metering client (connectors/microsoft-marketplace/metering.ts: fetch with a token
 * from the unmodified @azure/identity) against the sandbox: every status PROTOCOLS.md lists
 * comes back under the caller's key, a 429 is waited out, a 5xx is left to Temporal, a refusal
 * of the whole call is a MeteringRefused.
 */
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ecosync-msmeter-'));
let entra: MicrosoftSandbox;
let sb: MicrosoftMarketplaceSandbox;
let mp: Marketplace;
let client: MicrosoftMeteringClient;
/** A Subscribed subscription to the `pro` plan (meters api_calls and storage_gb), and one not yet activated. */
let active: { id: string };
let pending: { id: string };

beforeAll(async () => {
  entra = await startMicrosoftSandbox({ dataDir, incoming: 0 });
  sb = await startMarketplace(entra);
  mp = new Marketplace(sb, entra);
  active = await mp.subscribed();
  pending = sb.state.acceptPrivateOffer((await mp.liveOffer({ beneficiaries: [{ id: OTHER_BENEFICIARY }] })).id, { beneficiaryId: OTHER_BENEFICIARY }).subscription;
  client = new MicrosoftMeteringClient({
    tenantId: entra.tenantId, clientId: entra.clientId, clientSecret: entra.clientSecret, authorityHost: entra.url, caPem: entra.caPem, marketplaceApiUrl: sb.marketplaceApiUrl,
  });
});
afterAll(async () => {
  await sb?.close();
  await entra?.close();
  rmSync(dataDir, { recursive: true, force: true });
});
beforeEach(() => sb.faults.set({}));

const HOUR = 3600 * 1000;
let hoursBack = 1;
/** A fresh hour for each event that should be accepted: each subscription, dimension and hour is metered once. */
const freshHour = () => new Date(Math.floor((sb.state.now() - hoursBack++ * HOUR) / HOUR) * HOUR);
const usage = (key: string, over: Partial<MicrosoftUsage> = {}): MicrosoftUsage => ({
  key, resourceId: active.id, planId: 'pro', dimension: 'api_calls', quantity: 10, effectiveStartTime: freshHour(), ...over,
});

describe('MicrosoftMeteringClient', () => {
  it('answers each event under its key with the status Microsoft gives it', async () => {
    const accepted = usage('accepted');
    const results = await client.batchUsageEvent([
      accepted,
      usage('duplicate', { effectiveStartTime: accepted.effectiveStartTime, quantity: 3 }),
      usage('expired', { effectiveStartTime: new Date(sb.state.now() - 25 * HOUR) }),
      usage('dimension', { dimension: 'seats' }),
      usage('inactive', { resourceId: pending.id }),
      usage('unknown', { resourceId: '00000000-0000-4000-8000-000000000000' }),
      usage('zero', { quantity: 0 }),
      usage('plan', { planId: 'basic' }),
      usage('decimal', { dimension: 'storage_gb', quantity: 1.5 }),
    ]);
    expect(results.map((r) => [r.key, r.status])).toEqual([
      ['accepted', 'Accepted'], ['duplicate', 'Duplicate'], ['expired', 'Expired'], ['dimension', 'InvalidDimension'], ['inactive', 'ResourceNotActive'],
      ['unknown', 'ResourceNotFound'], ['zero', 'InvalidQuantity'], ['plan', 'BadArgument'], ['decimal', 'Accepted'],
    ]);
    // A duplicate carries the original's id: the hour is done.
    expect(results[1].usageEventId).toBe(results[0].usageEventId);
    expect(results[0].usageEventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(results[2].message).toMatch(/24 hours/);
    expect(sb.state.usageEvents().filter((u) => [results[0].usageEventId, results[8].usageEventId].includes(u.usageEventId))).toHaveLength(2);
  });

  it('reports an event Microsoft could not process as Error, to send again', async () => {
    sb.faults.set({ recordFailureRate: 1 });
    const [failed] = await client.batchUsageEvent([usage('flaky')]);
    expect(failed).toMatchObject({ key: 'flaky', status: 'Error' });
    sb.faults.set({});
    const [again] = await client.batchUsageEvent([{ ...usage('flaky'), effectiveStartTime: new Date(Math.floor((sb.state.now() - (hoursBack - 1) * HOUR) / HOUR) * HOUR) }]);
    expect(again.status).toBe('Accepted');
  });

  it('waits out a 429 for its Retry-After', async () => {
    sb.faults.set({ rateLimitRate: 0.4, seed: 4, endpoints: /^metering\./ });
    const before = sb.counters.get('metering.batch');
    for (let i = 0; i < 4; i++) expect((await client.batchUsageEvent([usage(`busy${i}`)]))[0].status).toBe('Accepted');
    expect(sb.counters.get('metering.batch') - before).toBeGreaterThan(4);
  });

  it('leaves a 5xx to Temporal (MeteringUnavailable, retryable), refuses a call of 26 events before sending it, and names a whole-call refusal', async () => {
    sb.faults.set({ serverErrorRate: 1, endpoints: /^metering\./ });
    const before = sb.counters.get('metering.batch');
    const down = await client.batchUsageEvent([usage('down')]).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(MeteringUnavailable);
    expect(down).toMatchObject({ retryable: true });
    expect(sb.counters.get('metering.batch') - before).toBe(1);
    sb.faults.set({});
    await expect(client.batchUsageEvent(Array.from({ length: 26 }, (_, i) => usage(`n${i}`)))).rejects.toThrow('at most 25 events, not 26');
    const stranger = new MicrosoftMeteringClient({
      tenantId: entra.tenantId, clientId: entra.clientId, clientSecret: 'not-the-secret', authorityHost: entra.url, caPem: entra.caPem, marketplaceApiUrl: sb.marketplaceApiUrl,
    });
    await expect(stranger.batchUsageEvent([usage('x')])).rejects.toThrow();
    const badVersion = new MicrosoftMeteringClient({
      tenantId: entra.tenantId, clientId: entra.clientId, clientSecret: entra.clientSecret, authorityHost: entra.url, caPem: entra.caPem, marketplaceApiUrl: `${sb.marketplaceApiUrl}/nosuch`,
    });
    const refused = await badVersion.batchUsageEvent([usage('y')]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MeteringRefused);
    expect(refused).toMatchObject({ status: 404 });
  });
});
