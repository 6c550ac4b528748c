/**
 * The ERP in the hub, on the real Temporal server: Salesforce, HubSpot and NetSuite around each
 * account and contact. A change read from any of them reaches the other two once; NetSuite owns
 * the fields finance owns; NetSuite's refusals are dead letters that replay once fixed; its
 * concurrency limit is waited out; a worker killed mid fan-out duplicates nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { updateConnectionWorkflow } from '../../src/service/sync-control.js';
import type { Connection } from '../../src/store/index.js';
import type { ReplayResult } from '../../workflows/sync-types.js';
import { type StoreKind } from '../store/stores.js';
import { ERP_HUB, startTestTemporal, TestHub } from '../support/hub.js';
import { hubView } from '../support/hub-view.js';
import { eventually } from '../support/temporal.js';
import { workerProcesses } from '../support/worker-processes.js';

const SALESFORCE_WRITES = /^composite\.(create|update|upsert|delete)$|^sobject\.(create|update|delete|upsert)$/;
const HUBSPOT_WRITES = /batch\.(create|update|upsert|archive)$|associations\.(put|batch\.associate)$|\.(create|update|archive)$/;
const NETSUITE_WRITES = /^[a-zA-Z]+\.(create|update|upsert|delete)$/;

type Writes = { sf: number; hs: number; ns: number };

/** Salesforce's live records of an object, each as it is now. */
function sfLatest(hub: TestHub, object: string): Array<Record<string, unknown>> {
  const latest = new Map<string, Record<string, unknown>>();
  for (const v of hub.sf.state.org.table(object).changeIndex()) latest.set(String(v.fields.Id), v.fields as Record<string, unknown>);
  return [...latest.values()].filter((r) => !r.IsDeleted);
}

function rig(hub: TestHub) {
  const ns = hub.ns!;
  const writes = (): Writes => ({ sf: hub.sf.counters.sum(SALESFORCE_WRITES), hs: hub.hs.counters.sum(HUBSPOT_WRITES), ns: ns.counters.sum(NETSUITE_WRITES) });
  const since = (before: Writes): Writes => { const now = writes(); return { sf: now.sf - before.sf, hs: now.hs - before.hs, ns: now.ns - before.ns }; };
  return {
    writes,
    since,
    sfAccount: (name: string) => sfLatest(hub, 'Account').filter((a) => a.Name === name),
    hsCompany: (name: string) => hub.hs.state.live('companies').filter((c) => c.properties.name === name),
    nsCustomer: (name: string) => ns.state.all('customer').filter((c) => c.body.companyName === name),
    sync: async (connection: Connection) => {
      const run = await hub.sync(connection);
      expect(run.status, run.error).toBe('succeeded');
      return run;
    },
  };
}

describe('Salesforce ⇄ HubSpot ⇄ NetSuite on the real Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let bundle: Awaited<ReturnType<typeof bundleWorkflows>>;

  beforeAll(async () => {
    [env, bundle] = await Promise.all([startTestTemporal(), bundleWorkflows()]);
  }, 120_000);
  afterAll(async () => { await env?.teardown(); });

  describe.each<StoreKind>(['pglite', 'postgres'])('on %s', (store) => {
    it('creates, edits and deletes from every system reach the other two once; finance\'s fields come from NetSuite only; a second cycle writes nothing', async () => {
      const hub = await TestHub.start(env, bundle, {
        store,
        sf: { accounts: 3, contactsPerAccount: 1, opportunitiesPerAccount: 1 },
        ns: { customers: 2, contactsPerCustomer: 1, ordersPerCustomer: 1 },
      });
      try {
        const { writes, since, sfAccount, hsCompany, nsCustomer, sync } = rig(hub);
        const ns = hub.ns!;
        const connection = await hub.connect({ ...ERP_HUB });
        const view = hubView(hub.store, connection.id);

        // The first cycle: every account and contact is in all three systems; orders and invoices in the hub.
        const first = await sync(connection);
        expect(first.counters.failed).toBe(0);
        expect([hub.sf.state.count('Account'), hub.hs.state.count('companies'), ns.state.count('customer')]).toEqual([5, 5, 5]);
        expect([hub.sf.state.count('Contact'), hub.hs.state.count('contacts'), ns.state.count('contact')]).toEqual([5, 5, 5]);
        expect(await hub.store.deadLetters.list({ connectionId: connection.id, status: 'open' })).toEqual([]);
        const [order] = ns.state.all('salesOrder');
        const orderLink = (await view.link('netsuite', 'salesOrder', order.id))!;
        const [orderRecord] = await view.records('SalesOrder', [orderLink.canonicalId]);
        expect(orderRecord.data).toMatchObject({ number: order.body.tranId, total: expect.stringMatching(/^\d+(\.\d+)?$/), lines: expect.arrayContaining([expect.objectContaining({ quantity: expect.any(String) })]) });
        // A NetSuite customer reached both CRMs with its finance fields; a CRM account reached NetSuite in the root subsidiary.
        const seeded = ns.state.all('customer').find((c) => c.body.externalId === null || !String(c.body.externalId).includes('-'))!;
        expect(sfAccount(String(seeded.body.companyName))).toHaveLength(1);
        expect(hsCompany(String(seeded.body.companyName))[0].properties.ecosync_payment_terms).toBeTruthy();

        // Created in Salesforce → HubSpot and NetSuite, once each; NetSuite's own values for the new
        // customer (its open balance, 0) come back to both CRMs in the same cycle.
        let before = writes();
        hub.sf.state.insert('Account', { Name: 'Initech', Phone: '+1 555 0100', Website: 'https://initech.example' });
        await sync(connection);
        expect(since(before)).toEqual({ sf: 1, hs: 2, ns: 1 });
        expect(sfAccount('Initech')[0].Ecosync_Balance__c).toBe(0);
        expect(hsCompany('Initech')).toMatchObject([{ properties: { ecosync_balance: '0' } }]);
        expect(nsCustomer('Initech')).toMatchObject([{ body: { phone: '+1 555 0100', url: 'https://initech.example' } }]);

        // Edited in HubSpot → Salesforce and NetSuite, once each.
        before = writes();
        hub.hs.state.update('companies', hsCompany('Initech')[0].id, { phone: '+1 555 0101' });
        await sync(connection);
        expect(since(before)).toEqual({ sf: 1, hs: 0, ns: 1 });
        expect(sfAccount('Initech')[0].Phone).toBe('+1 555 0101');
        expect(nsCustomer('Initech')[0].body.phone).toBe('+1 555 0101');

        // Created in NetSuite → both CRMs, once each.
        before = writes();
        const root = ns.state.all('subsidiary').find((s) => s.body.parent === null)!;
        const hooli = ns.state.create('customer', { companyName: 'Hooli', subsidiary: { id: root.id }, phone: '+1 555 0200', creditLimit: 50_000 });
        await sync(connection);
        expect(since(before)).toEqual({ sf: 1, hs: 1, ns: 0 });
        expect(sfAccount('Hooli')).toMatchObject([{ Phone: '+1 555 0200', Ecosync_Credit_Limit__c: 50_000 }]);
        expect(hsCompany('Hooli')[0].properties.ecosync_credit_limit).toBe('50000');

        // Finance changes the credit limit in NetSuite → both CRMs.
        before = writes();
        ns.state.update('customer', hooli.id, { creditLimit: 75_000 });
        await sync(connection);
        expect(since(before)).toEqual({ sf: 1, hs: 1, ns: 0 });
        expect(sfAccount('Hooli')[0].Ecosync_Credit_Limit__c).toBe(75_000);
        expect(hsCompany('Hooli')[0].properties.ecosync_credit_limit).toBe('75000');

        // A CRM user types a credit limit: NetSuite is never told.
        before = writes();
        hub.sf.state.update('Account', String(sfAccount('Hooli')[0].Id), { Ecosync_Credit_Limit__c: 1_000_000 });
        hub.hs.state.update('companies', hsCompany('Hooli')[0].id, { ecosync_credit_limit: '2000000' });
        await sync(connection);
        expect(since(before).ns).toBe(0);
        expect(ns.state.get('customer', hooli.id)!.body.creditLimit).toBe(75_000);
        // An ordinary edit alongside it still flows, and the CRM's credit limit stays NetSuite's in NetSuite.
        before = writes();
        hub.sf.state.update('Account', String(sfAccount('Hooli')[0].Id), { Phone: '+1 555 0201', Ecosync_Credit_Limit__c: 3 });
        await sync(connection);
        expect(since(before)).toEqual({ sf: 0, hs: 1, ns: 1 });
        expect(ns.state.get('customer', hooli.id)!.body).toMatchObject({ phone: '+1 555 0201', creditLimit: 75_000 });

        // Deleted in NetSuite → gone from both CRMs.
        ns.state.delete('customer', hooli.id);
        await sync(connection);
        expect([sfAccount('Hooli'), hsCompany('Hooli')]).toEqual([[], []]);
        // Deleted in HubSpot → gone from Salesforce and NetSuite.
        hub.hs.state.archive('companies', hsCompany('Initech')[0].id);
        await sync(connection);
        expect([sfAccount('Initech'), nsCustomer('Initech')]).toEqual([[], []]);
        // Created in HubSpot, deleted in Salesforce → gone from NetSuite and HubSpot.
        hub.hs.state.create('companies', { name: 'Globex', phone: '+1 555 0300' });
        await sync(connection);
        expect([sfAccount('Globex').length, nsCustomer('Globex').length]).toEqual([1, 1]);
        hub.sf.state.delete('Account', String(sfAccount('Globex')[0].Id));
        await sync(connection);
        expect([hsCompany('Globex'), nsCustomer('Globex')]).toEqual([[], []]);

        // Then nothing: every system shows what it was last told.
        const quiet = writes();
        expect((await sync(connection)).counters).toMatchObject({ created: 0, updated: 0, deleted: 0, failed: 0, conflicts: 0 });
        expect(writes()).toEqual(quiet);
        expect(await hub.store.deadLetters.list({ connectionId: connection.id, status: 'open' })).toEqual([]);
      } finally {
        await hub.close();
      }
    }, 180_000);
  });

  it('a record NetSuite refuses is a dead letter naming the field while the rest lands, and replays once fixed', async () => {
    const hub = await TestHub.start(env, bundle, { store: 'pglite', sf: { accounts: 4, contactsPerAccount: 0, opportunitiesPerAccount: 0 }, ns: {} });
    try {
      const { sfAccount, hsCompany, nsCustomer, sync } = rig(hub);
      const connection = await hub.connect({ ...ERP_HUB });
      const longName = `Consolidated Amalgamated Holdings of the Greater Metropolitan Area and Surroundings, Incorporated`;
      expect(longName.length).toBeGreaterThan(83);
      const refused = hub.sf.state.insert('Account', { Name: longName });
      const run = await sync(connection);
      expect(run.counters.failed).toBe(1);
      // The others reached NetSuite; the refused one reached HubSpot all the same.
      expect(hub.ns!.state.count('customer')).toBe(4);
      expect(hsCompany(longName)).toHaveLength(1);
      const [letter] = await hub.store.deadLetters.list({ connectionId: connection.id, status: 'open' });
      expect(letter).toMatchObject({ direction: 'write', object: 'customer', failingFields: ['companyName'] });
      expect(letter.reason).toMatch(/companyName is longer than 83 characters/);

      // RevOps shortens the name in Salesforce and replays the letter.
      hub.sf.state.update('Account', String(refused.Id), { Name: 'Consolidated Amalgamated Holdings' });
      const replay = await updateConnectionWorkflow<ReplayResult>({ client: env.client, taskQueue: hub.taskQueue }, connection, 'replayDeadLetters', {});
      expect(replay).toEqual({ replayed: 1, stillFailing: 0, gone: 0 });
      expect(nsCustomer('Consolidated Amalgamated Holdings')).toHaveLength(1);
      expect(sfAccount('Consolidated Amalgamated Holdings')).toHaveLength(1);
      expect(hsCompany('Consolidated Amalgamated Holdings')).toHaveLength(1);
      expect(await hub.store.deadLetters.list({ connectionId: connection.id, status: 'open' })).toEqual([]);
      // The next cycle brings NetSuite's own values for the new customer to the CRMs; then all is quiet.
      await sync(connection);
      expect((await sync(connection)).counters).toMatchObject({ created: 0, updated: 0, failed: 0 });
    } finally {
      await hub.close();
    }
  }, 120_000);

  it('NetSuite\'s concurrency limit lowered mid-sync (another integration took the slots) and its tokens expired: 429s and 401s waited out, the same end state', async () => {
    const seed = { sf: { accounts: 150, contactsPerAccount: 0, opportunitiesPerAccount: 0 }, ns: { customers: 5, contactsPerCustomer: 0, ordersPerCustomer: 0 } };
    const content = (hub: TestHub) => hub.ns!.state.all('customer').map((c) => `${c.body.companyName}|${c.body.phone}|${c.body.externalId !== null}`).sort();
    const undisturbed = await TestHub.start(env, bundle, { store: 'pglite', ...seed });
    let reference: string[];
    try {
      await rig(undisturbed).sync(await undisturbed.connect({ ...ERP_HUB }));
      reference = content(undisturbed);
      expect(reference).toHaveLength(155);
    } finally {
      await undisturbed.close();
    }

    // Each NetSuite write takes 10 ms, so the fan-out is still going when the limit drops.
    const hub = await TestHub.start(env, bundle, { store: 'pglite', ...seed, ns: { ...seed.ns, faults: { latencyMs: 10, endpoints: /\.upsert$/ } } });
    try {
      const ns = hub.ns!;
      const connection = await hub.connect({ ...ERP_HUB });
      const run = hub.sync(connection);
      await eventually(async () => ns.counters.get('customer.upsert') >= 5, 60_000, 'the writes to NetSuite to be under way');
      ns.concurrency.limit = 2;
      ns.auth.expireTokens();
      const summary = await run;
      expect(summary.status, summary.error).toBe('succeeded');
      expect(summary.counters.failed).toBe(0);
      expect(ns.concurrency.refused).toBeGreaterThan(0);
      expect(ns.counters.get('refused.login')).toBeGreaterThan(0);
      expect(content(hub)).toEqual(reference!);
      expect(await hub.store.deadLetters.list({ connectionId: connection.id, status: 'open' })).toEqual([]);
    } finally {
      await hub.close();
    }
  }, 180_000);

  it('the worker killed with SIGKILL mid fan-out and restarted: the same end state, no duplicate customer', async () => {
    const hub = await TestHub.start(env, bundle, {
      store: 'postgres', worker: false,
      sf: { accounts: 300, contactsPerAccount: 0, opportunitiesPerAccount: 0 },
      ns: { customers: 0, concurrencyLimit: 15 },
    });
    const workers = workerProcesses({ address: env.address, taskQueue: hub.taskQueue, schema: hub.db.schema! });
    const startWorkerProcess = () => workers.start();
    try {
      const ns = hub.ns!;
      const connection = await hub.connect({ ...ERP_HUB, entities: ERP_HUB.entities.filter((e) => e.entity === 'Account') });
      const first = await startWorkerProcess();
      const done = hub.sync(connection);
      // Killed once NetSuite has some of the customers, not all.
      await eventually(async () => ns.state.count('customer') >= 20, 60_000, 'the fan-out to NetSuite to be under way');
      first.kill('SIGKILL');
      expect(ns.state.count('customer')).toBeLessThan(300);
      await startWorkerProcess();
      const run = await done;
      expect(run.status, run.error).toBe('succeeded');

      const keys = ns.state.all('customer').map((c) => c.body.externalId);
      expect(keys).toHaveLength(300);
      expect(new Set(keys).size).toBe(300);
      expect(hub.hs.state.count('companies')).toBe(300);
      expect(new Set(hub.hs.state.live('companies').map((c) => c.properties.ecosync_id)).size).toBe(300);
      expect(hub.sf.state.count('Account')).toBe(300);
      const again = await hub.sync(connection);
      expect(again.counters).toMatchObject({ created: 0, updated: 0, failed: 0 });
    } finally {
      workers.killAll();
      await hub.close();
    }
  }, 240_000);
});
