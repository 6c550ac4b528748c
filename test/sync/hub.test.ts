/**
 * Hubs on the real Temporal server and the sandboxes: a system is an instance (this org, that
 * portal), so a second connection to a second portal fills it, and one connection can keep any
 * number of systems around each record — here Salesforce and two HubSpot portals.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { hubspotSandboxConfig, startHubSpotSandbox, type HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.js';
import { salesforceSandboxConfig, startSalesforceSandbox, type SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.js';
import { createActivities } from '../../src/runtime/activities.js';
import { SALESFORCE_HUBSPOT } from '../../src/runtime/demo.js';
import { bundleWorkflows, startWorker, type RunningWorker } from '../../src/runtime/worker.js';
import { newRequest, runSyncAndWait } from '../../src/service/sync-control.js';
import type { Connection, ConnectionInput } from '../../src/store/index.js';
import { openTestStore, type TestStore } from '../store/stores.js';
import { hubView } from '../support/hub-view.js';
import { startTestTemporal } from '../support/temporal.js';

const HUBSPOT_WRITES = /batch\.(create|update|upsert|archive)$|associations\.(put|batch\.associate)$|\.(create|update|archive)$/;
const SALESFORCE_WRITES = /^composite\.(create|update|upsert|delete)$|^sobject\.(create|update|delete|upsert)$/;

describe('hubs on the real Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let db: TestStore;
  let worker: RunningWorker;
  let sf: SalesforceSandbox;
  let us: HubSpotSandbox;
  let eu: HubSpotSandbox;
  const taskQueue = `hub-${randomUUID()}`;

  beforeAll(async () => {
    let bundle: Awaited<ReturnType<typeof bundleWorkflows>>;
    [env, bundle, db, sf, us, eu] = await Promise.all([
      startTestTemporal(),
      bundleWorkflows(),
      openTestStore('postgres'),
      startSalesforceSandbox({ accounts: 6, contactsPerAccount: 1, opportunitiesPerAccount: 1 }),
      startHubSpotSandbox({ companies: 0, portalId: 1_000_001 }),
      startHubSpotSandbox({ companies: 0, portalId: 2_000_002 }),
    ]);
    worker = await startWorker({
      address: env.address, namespace: env.namespace ?? 'default', taskQueue, workflowBundle: bundle,
      activities: createActivities({ store: db.store, client: env.client, taskQueue, log: pino({ level: 'silent' }), pageBudgetMs: 2_000 }),
    });
  }, 120_000);

  afterAll(async () => {
    await worker?.shutdown().catch(() => undefined);
    await Promise.all([sf?.close(), us?.close(), eu?.close()]);
    await db?.close();
    await env?.teardown();
  });

  const sync = async (connection: Connection) => {
    const run = await runSyncAndWait({ client: env.client, taskQueue }, connection, newRequest('manual'));
    expect(run.status, run.error).toBe('succeeded');
    return run;
  };
  const writes = () => ({ sf: sf.counters.sum(SALESFORCE_WRITES), us: us.counters.sum(HUBSPOT_WRITES), eu: eu.counters.sum(HUBSPOT_WRITES) });
  const sfAccounts = () => {
    const latest = new Map<string, Record<string, unknown>>();
    for (const v of sf.state.org.table('Account').changeIndex()) latest.set(String(v.fields.Id), v.fields as Record<string, unknown>);
    return [...latest.values()].filter((r) => !r.IsDeleted);
  };
  const connect = (input: Omit<ConnectionInput, 'deletePolicy'>) => db.store.connections.create({ deletePolicy: 'propagate', ...input });

  it('a second connection from the same org to a second, empty portal fills that portal; the first connection stays quiet', async () => {
    const crm1 = await connect({ name: `crm1-${randomUUID().slice(0, 6)}`, ...SALESFORCE_HUBSPOT, credentials: { salesforce: salesforceSandboxConfig(sf), hubspot: hubspotSandboxConfig(us) } });
    await sync(crm1);
    expect(us.state.count('companies')).toBe(6);

    const crm2 = await connect({ name: `crm2-${randomUUID().slice(0, 6)}`, ...SALESFORCE_HUBSPOT, credentials: { salesforce: salesforceSandboxConfig(sf), hubspot: hubspotSandboxConfig(eu) } });
    const run = await sync(crm2);
    expect(run.counters).toMatchObject({ created: 18, failed: 0 });
    expect([eu.state.count('companies'), eu.state.count('contacts'), eu.state.count('deals')]).toEqual([6, 6, 6]);
    expect(await db.store.deadLetters.list({ connectionId: crm2.id, status: 'open' })).toEqual([]);
    // Each connection knows the instances it reached, and keeps its own links to the one org.
    expect((await db.store.connections.get(crm2.id))!.systems.map((s) => s.instance)).toEqual([`salesforce:${sf.orgId}`, 'hubspot:2000002']);
    const [account] = sfAccounts();
    const [one, two] = await Promise.all([crm1, crm2].map((c) => hubView(db.store, c.id).link('salesforce', 'Account', String(account.Id))));
    expect(one!.canonicalId).toBe(two!.canonicalId);

    // An edit in Salesforce reaches each portal through its connection, once.
    sf.state.update('Account', String(account.Id), { Phone: '+1 555 0142' });
    const before = writes();
    await sync(crm1);
    await sync(crm2);
    const after = writes();
    expect([after.us - before.us, after.eu - before.eu, after.sf - before.sf]).toEqual([1, 1, 0]);
    for (const portal of [us, eu]) expect(portal.state.live('companies').find((c) => c.properties.phone === '+1 555 0142')).toBeDefined();

    // Nothing else to do on either side.
    const quiet = writes();
    for (const c of [crm1, crm2]) expect((await sync(c)).counters).toMatchObject({ created: 0, updated: 0, deleted: 0, failed: 0 });
    expect(writes()).toEqual(quiet);
  }, 120_000);

  it('one connection keeps Salesforce and two portals around each record: a change read from any of them reaches the others once', async () => {
    const systems = [
      { name: 'salesforce', system: 'salesforce', role: 'both' as const },
      { name: 'hubspot-us', system: 'hubspot', role: 'both' as const },
      { name: 'hubspot-eu', system: 'hubspot', role: 'both' as const },
    ];
    const entities = SALESFORCE_HUBSPOT.entities.map((e) => ({
      entity: e.entity,
      members: [e.members[0], { ...e.members[1], system: 'hubspot-us' }, { ...e.members[1], system: 'hubspot-eu' }],
    }));
    const hub = await connect({
      name: `three-${randomUUID().slice(0, 6)}`, systems, entities,
      credentials: { salesforce: salesforceSandboxConfig(sf), 'hubspot-us': hubspotSandboxConfig(us), 'hubspot-eu': hubspotSandboxConfig(eu) },
    });
    const first = await sync(hub);
    expect(first.counters.failed).toBe(0);
    const view = hubView(db.store, hub.id);
    const [account] = sfAccounts();
    const cid = (await view.link('salesforce', 'Account', String(account.Id)))!.canonicalId;
    expect((await view.links('Account', cid)).map((l) => l.system).sort()).toEqual(['hubspot-eu', 'hubspot-us', 'salesforce']);
    const companyIn = async (portal: HubSpotSandbox, system: string) => portal.state.get('companies', (await view.links('Account', cid, system))[0].externalId)!;

    // A company created in the EU portal reaches Salesforce and the US portal.
    const created = eu.state.create('companies', { name: 'Fabrikam Europe', domain: 'fabrikam.example', phone: '+44 20 7946 0000' });
    let before = writes();
    await sync(hub);
    let after = writes();
    expect([after.sf - before.sf, after.us - before.us, after.eu - before.eu]).toEqual([1, 1, 0]);
    expect(sfAccounts().filter((a) => a.Name === 'Fabrikam Europe')).toHaveLength(1);
    expect(us.state.live('companies').filter((c) => c.properties.name === 'Fabrikam Europe')).toHaveLength(1);

    // An edit in the US portal reaches Salesforce and the EU portal, once each.
    us.state.update('companies', (await companyIn(us, 'hubspot-us')).id, { phone: '+1 555 0199' });
    before = writes();
    await sync(hub);
    after = writes();
    expect([after.sf - before.sf, after.us - before.us, after.eu - before.eu]).toEqual([1, 0, 1]);
    expect(sf.state.get('Account', String(account.Id))?.Phone).toBe('+1 555 0199');
    expect((await companyIn(eu, 'hubspot-eu')).properties.phone).toBe('+1 555 0199');

    // A deletion in the EU portal is propagated to Salesforce and the US portal.
    const fabrikam = (await view.link('hubspot-eu', 'companies', created.id))!;
    eu.state.archive('companies', created.id);
    await sync(hub);
    expect(sfAccounts().filter((a) => a.Name === 'Fabrikam Europe')).toEqual([]);
    expect(us.state.live('companies').filter((c) => c.properties.name === 'Fabrikam Europe')).toEqual([]);
    expect((await view.records('Account', [fabrikam.canonicalId]))[0].deleted).toBe(true);

    // And then nothing: every system shows what it was last told.
    const quiet = writes();
    expect((await sync(hub)).counters).toMatchObject({ created: 0, updated: 0, deleted: 0, failed: 0, conflicts: 0 });
    expect(writes()).toEqual(quiet);
  }, 120_000);
});
