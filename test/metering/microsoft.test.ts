import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMicrosoftSandbox, type MicrosoftSandbox } from '../../connectors/microsoft-partner-center/sandbox/server.js';
import type { MicrosoftMarketplaceSandbox } from '../../connectors/microsoft-marketplace/sandbox/index.js';
import { Marketplace, startMarketplace } from '../../connectors/microsoft-marketplace/test/helpers.js';
import type { UsageRecord } from '../../src/model/index.js';
import { createActivities } from '../../src/runtime/activities.js';
import { bundleWorkflows, startWorker, type RunningWorker } from '../../src/runtime/worker.js';
import { meteringStatus, wakeMetering } from '../../src/service/metering-control.js';
import { canonicalIdFor } from '../../src/sync/index.js';
import { meteringWorkflowId } from '../../workflows/metering-types.js';
import { openTestStore, type TestStore } from '../store/stores.js';
import { CRM_HUB } from '../support/hub.js';
import { eventually, startTestTemporal } from '../support/temporal.js';
import { hourAgo, post, startApi } from './rig.js';

/**
 * The metering workflow against the Microsoft marketplace sandbox (batchUsageEvent, a token from
 * Entra ID through @azure/identity): subscriptions' hours in one call of up to 25 events, each
 * event's own status recorded, usage past Microsoft's 24 hours dead-lettered before any call.
 */
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ecosync-msmetering-'));
let env: TestWorkflowEnvironment;
let bundle: Awaited<ReturnType<typeof bundleWorkflows>>;
let entra: MicrosoftSandbox;
let sb: MicrosoftMarketplaceSandbox;
let mp: Marketplace;
beforeAll(async () => {
  [env, bundle, entra] = await Promise.all([startTestTemporal(), bundleWorkflows(), startMicrosoftSandbox({ dataDir, incoming: 0 })]);
  sb = await startMarketplace(entra);
  mp = new Marketplace(sb, entra);
}, 120_000);
afterAll(async () => {
  await sb?.close();
  await entra?.close();
  await env?.teardown();
  rmSync(dataDir, { recursive: true, force: true });
});

const beneficiary = () => `${randomUUID()}:${randomUUID()}_2019-05-31`;

describe('metering usage to the Microsoft marketplace', () => {
  it('sends each subscription\'s hours in the fewest calls, records each event\'s status, and letters what Microsoft will not take', async () => {
    const db: TestStore = await openTestStore('pglite');
    const taskQueue = `metering-ms-${Date.now()}`;
    let worker: RunningWorker | undefined;
    try {
      worker = await startWorker({
        address: env.address, namespace: 'default', taskQueue, workflowBundle: bundle,
        activities: createActivities({ store: db.store, client: env.client, taskQueue, log: pino({ level: 'silent' }) }),
      });
      const active = [await mp.subscribed({}, beneficiary()), await mp.subscribed({}, beneficiary()), await mp.subscribed({}, beneficiary())];
      // Bought but never activated by the publisher: Microsoft will not meter it.
      const pendingBeneficiary = beneficiary();
      const pending = sb.state.acceptPrivateOffer((await mp.liveOffer({ beneficiaries: [{ id: pendingBeneficiary }] })).id, { beneficiaryId: pendingBeneficiary }).subscription;
      const connection = await db.store.connections.create({
        name: `metering-ms-${randomUUID().slice(0, 8)}`, ...CRM_HUB,
        credentials: {
          salesforce: {}, hubspot: {},
          'microsoft-marketplace': { tenantId: entra.tenantId, clientId: entra.clientId, clientSecret: entra.clientSecret, authorityHost: entra.url, caPem: entra.caPem, marketplaceApiUrl: sb.marketplaceApiUrl },
        },
      });
      const subscriptions = [...active.map((s) => ({ id: s.id as string, status: 'Subscribed' })), { id: pending.id, status: 'Subscribed' }];
      const accounts = subscriptions.map((s) => ({ ...s, accountId: canonicalIdFor('test', 'Account', s.id) }));
      for (const a of accounts) {
        await db.store.agreements.record({
          connectionId: connection.id, cloud: 'azure', agreementId: a.id, canonicalId: randomUUID(), offerId: 'offer-1', privateOfferId: null, accountId: a.accountId,
          opportunityId: null, acceptor: 'beneficiary', status: a.status, acceptedAt: new Date().toISOString(), startDate: new Date().toISOString().slice(0, 10), endDate: null,
          totalContractValue: '0', currency: 'USD', data: { planId: 'pro' },
        });
      }
      await wakeMetering({ client: env.client, taskQueue, settings: { graceMs: 0, quietMs: 1_000 } }, connection, 'azure');
      const api = await startApi(db.store, env.client, taskQueue);

      const product = sb.state.products()[0].id;
      const usage = (accountId: string, dimension: string, hour: string, quantity: string, key: string): UsageRecord => ({ accountId, cloud: 'azure', product, dimension, quantity, hour, dedupeKey: key });
      const records: UsageRecord[] = [];
      // 3 subscriptions × 2 meters × 3 hours, two events an hour: 18 hours.
      for (const a of accounts.slice(0, 3)) {
        for (const dimension of ['api_calls', 'storage_gb']) {
          for (const h of [1, 2, 3]) for (const n of [1, 2]) records.push(usage(a.accountId, dimension, hourAgo(h), dimension === 'storage_gb' ? '0.75' : '10', `${a.id}-${dimension}-${h}-${n}`));
        }
      }
      records.push(usage(accounts[3].accountId, 'api_calls', hourAgo(2), '5', 'pending-1'));
      records.push(usage(accounts[0].accountId, 'seats', hourAgo(2), '5', 'seats-1'));
      records.push(usage(accounts[0].accountId, 'api_calls', hourAgo(30), '5', 'late-1'));
      const answer = await post(api, `/connections/${connection.name}/usage`, { records });
      expect(answer.body).toEqual({ accepted: records.length, duplicates: [], woken: ['azure'] });

      await eventually(async () => (await db.store.metering.letters({ connectionId: connection.id, status: 'open' })).length === 3 && (await db.store.metering.sends(connection.id, { status: 'sent' })).length === 18, 60_000, 'every hour sent or lettered');
      // 20 events to send (the late one never is): one call.
      expect(sb.counters.get('metering.batch')).toBe(1);
      const accepted = sb.state.usageEvents();
      expect(accepted).toHaveLength(18);
      expect(accepted.filter((e) => e.dimension === 'storage_gb').every((e) => e.quantity === 1.5)).toBe(true);
      expect(accepted.filter((e) => e.dimension === 'api_calls').every((e) => e.quantity === 20 && e.planId === 'pro')).toBe(true);
      const letters = await db.store.metering.letters({ connectionId: connection.id, status: 'open' });
      expect(letters.map((l) => l.errorCode).sort()).toEqual(['InvalidDimension', 'Late', 'ResourceNotActive']);
      expect(letters.find((l) => l.errorCode === 'Late')!.reason).toMatch(/at most 24 hours after the hour; Microsoft answers Expired/);
      expect(letters.find((l) => l.errorCode === 'ResourceNotActive')!.reason).toMatch(/PendingFulfillmentStart/);
      const sent = await db.store.metering.sends(connection.id, { status: 'sent' });
      expect(new Set(sent.map((s) => s.recordId))).toEqual(new Set(accepted.map((e) => e.usageEventId)));

      const status = await eventually(async () => {
        const s = await meteringStatus({ client: env.client }, connection.id, 'azure');
        return s?.phase === 'idle' && s.totals.sent === 18 ? s : undefined;
      }, 30_000, 'the pass to end');
      expect(status.totals).toEqual({ calls: 1, sent: 18, duplicates: 0, deadLettered: 3, unprocessed: 0 });
      await env.client.workflow.getHandle(meteringWorkflowId(connection.id, 'azure')).terminate('test over');
      await env.client.schedule.getHandle(`metering-schedule:${connection.id}:azure`).delete();
      await api.close();
    } finally {
      await worker?.shutdown();
      await db.close();
    }
  }, 180_000);

  it('stops on credentials Microsoft refuses, the hour\'s intent kept, and sends it once they are fixed', async () => {
    const db: TestStore = await openTestStore('pglite');
    const taskQueue = `metering-ms-auth-${Date.now()}`;
    let worker: RunningWorker | undefined;
    try {
      worker = await startWorker({
        address: env.address, namespace: 'default', taskQueue, workflowBundle: bundle,
        activities: createActivities({ store: db.store, client: env.client, taskQueue, log: pino({ level: 'silent' }) }),
      });
      const subscription = await mp.subscribed({}, beneficiary());
      const good = { tenantId: entra.tenantId, clientId: entra.clientId, clientSecret: entra.clientSecret, authorityHost: entra.url, caPem: entra.caPem, marketplaceApiUrl: sb.marketplaceApiUrl };
      const connection = await db.store.connections.create({
        name: `metering-ms-auth-${randomUUID().slice(0, 8)}`, ...CRM_HUB,
        credentials: { salesforce: {}, hubspot: {}, 'microsoft-marketplace': { ...good, clientSecret: 'not-the-secret' } },
      });
      const accountId = canonicalIdFor('test', 'Account', subscription.id);
      await db.store.agreements.record({
        connectionId: connection.id, cloud: 'azure', agreementId: subscription.id, canonicalId: randomUUID(), offerId: 'offer-1', privateOfferId: null, accountId,
        opportunityId: null, acceptor: 'beneficiary', status: 'Subscribed', acceptedAt: new Date().toISOString(), startDate: new Date().toISOString().slice(0, 10), endDate: null,
        totalContractValue: '0', currency: 'USD', data: { planId: 'pro' },
      });
      await db.store.metering.ingest(connection.id, [{ accountId, cloud: 'azure', product: 'p', dimension: 'api_calls', quantity: '7', hour: hourAgo(1), dedupeKey: 'auth-1' }]);
      const control = { client: env.client, taskQueue, settings: { graceMs: 0, quietMs: 500 } };
      await wakeMetering(control, connection, 'azure');
      const failed = await eventually(async () => {
        const s = await meteringStatus(control, connection.id, 'azure');
        return s?.last?.error ? s : undefined;
      }, 60_000, 'the pass to fail');
      expect(failed.last!.error).toMatch(/^AuthError: the Microsoft marketplace refused the publisher's call/);
      // The intent was written; nothing was lettered: the hour waits for the fix.
      expect((await db.store.metering.sends(connection.id)).map((s) => s.status)).toEqual(['sending']);
      expect(await db.store.metering.letters({ connectionId: connection.id })).toEqual([]);

      await db.store.connections.update(connection.id, { credentials: { salesforce: {}, hubspot: {}, 'microsoft-marketplace': good } });
      await wakeMetering(control, connection, 'azure');
      await eventually(async () => (await db.store.metering.sends(connection.id, { status: 'sent' })).length === 1, 60_000, 'the hour sent after the fix');
      expect(sb.state.usageEvents().filter((e) => e.resourceId === subscription.id).map((e) => e.quantity)).toEqual([7]);
      await env.client.workflow.getHandle(meteringWorkflowId(connection.id, 'azure')).terminate('test over');
      await env.client.schedule.getHandle(`metering-schedule:${connection.id}:azure`).delete();
    } finally {
      await worker?.shutdown();
      await db.close();
    }
  }, 180_000);
});
