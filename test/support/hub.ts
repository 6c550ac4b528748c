import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { startHubSpotSandbox, type HubSpotSandbox, type HubSpotSandboxOptions } from '../../connectors/hubspot/sandbox/index.js';
import { startNetSuiteSandbox, type NetSuiteSandbox, type NetSuiteSandboxOptions } from '../../connectors/netsuite/sandbox/index.js';
import { startSalesforceSandbox, type SalesforceSandbox, type SalesforceSandboxOptions } from '../../connectors/salesforce/sandbox/index.js';
import { createActivities } from '../../src/runtime/activities.js';
import { DEMO_HUB, SALESFORCE_HUBSPOT, sandboxCredentials } from '../../src/runtime/demo.js';
import { canonicalIdFor } from '../../src/sync/index.js';
import { bundleWorkflows, startWorker, type RunningWorker } from '../../src/runtime/worker.js';
import { newRequest, requestSync, runSyncAndWait, syncStatus } from '../../src/service/sync-control.js';
import type { Connection, ConnectionInput } from '../../src/store/index.js';
import type { RunSummary } from '../../workflows/sync-types.js';
import { openTestStore, type StoreKind, type TestStore } from '../store/stores.js';
import { startTestTemporal } from './temporal.js';

/** Salesforce and HubSpot with the shipped mappings, in dependency order. */
export const CRM_HUB = SALESFORCE_HUBSPOT;

/** Salesforce, HubSpot and NetSuite: the demo hub (NetSuite's orders and invoices kept in the hub). */
export const ERP_HUB = DEMO_HUB;

/** CRM_HUB's entities with one system's mapping file of one entity replaced (the entities given, or all). */
export function withMapping(entity: string, system: string, mapping: string, entities = CRM_HUB.entities): NonNullable<ConnectionInput['entities']> {
  return entities.map((e) => (e.entity !== entity ? e : { ...e, members: e.members.map((m) => (m.system === system ? { ...m, mapping } : m)) }));
}

/** CRM_HUB with only these entities. */
export function onlyEntities(...names: string[]): NonNullable<ConnectionInput['entities']> {
  return CRM_HUB.entities.filter((e) => names.includes(e.entity));
}

/** Credentials of a connection between the two sandboxes. */
export const crmCredentials = sandboxCredentials;

/** The Temporal server a hub runs on: a test environment, or a dev server a test starts and stops itself. */
export type TemporalEnv = Pick<TestWorkflowEnvironment, 'address' | 'namespace' | 'client'>;

/**
 * One Temporal dev server per test file; a hub (store, sandboxes, worker) per test or group, so
 * tests can restart the worker or swap faults without disturbing each other.
 */
export class TestHub {
  worker?: RunningWorker;
  private constructor(
    readonly env: TemporalEnv,
    readonly db: TestStore,
    readonly sf: SalesforceSandbox,
    readonly hs: HubSpotSandbox,
    /** Started when the options ask for NetSuite. */
    readonly ns: NetSuiteSandbox | undefined,
    readonly taskQueue: string,
    private readonly bundle: Awaited<ReturnType<typeof bundleWorkflows>>,
  ) {}

  static async start(env: TemporalEnv, bundle: Awaited<ReturnType<typeof bundleWorkflows>>, options: { store?: StoreKind; /** A store the test opened itself (its own PostgreSQL), closed with the hub. */ db?: TestStore; sf?: SalesforceSandboxOptions; hs?: HubSpotSandboxOptions; ns?: NetSuiteSandboxOptions; worker?: boolean } = {}): Promise<TestHub> {
    const [db, sf, hs, ns] = await Promise.all([
      options.db ?? openTestStore(options.store ?? 'pglite'),
      startSalesforceSandbox({ accounts: 0, ...options.sf }),
      startHubSpotSandbox({ companies: 0, ...options.hs }),
      options.ns ? startNetSuiteSandbox({ customers: 0, ...options.ns }) : undefined,
    ]);
    const hub = new TestHub(env, db, sf, hs, ns, `test-${randomUUID()}`, bundle);
    if (options.worker !== false) await hub.startWorker();
    return hub;
  }

  get store() {
    return this.db.store;
  }

  /** The HubSpot twin of a Salesforce record, found by the canonical id the sync gave it. */
  hubspotTwin(sfObject: string, sfId: string, hsObject: string) {
    return this.hs.state.getByExternalId(hsObject, canonicalIdFor(`salesforce:${this.sf.orgId}`, sfObject, sfId));
  }

  /** Live Salesforce records of an object as the sandbox holds them (oldest change first). */
  sfRecords(object: string): Array<Record<string, unknown>> {
    return this.sf.state.org.table(object).changeIndex().filter((v) => !v.fields.IsDeleted).map((v) => v.fields as Record<string, unknown>);
  }

  async startWorker(): Promise<void> {
    this.worker = await startWorker({
      address: this.env.address,
      namespace: this.env.namespace ?? 'default',
      taskQueue: this.taskQueue,
      workflowBundle: this.bundle,
      activities: createActivities({ store: this.store, client: this.env.client, taskQueue: this.taskQueue, log: pino({ level: 'silent' }), pageBudgetMs: 2_000 }),
    });
  }

  async connect(input: Partial<ConnectionInput> = {}): Promise<Connection> {
    return this.store.connections.create({
      name: `sf-hs-${randomUUID().slice(0, 8)}`,
      ...CRM_HUB,
      deletePolicy: 'propagate',
      credentials: crmCredentials(this.sf, this.hs, this.ns),
      ...input,
    });
  }

  /** Asks for a cycle without waiting for it. */
  requestSync(connection: Connection): Promise<void> {
    return requestSync({ client: this.env.client, taskQueue: this.taskQueue }, connection, newRequest('manual'));
  }

  sync(connection: Connection, options: { full?: boolean } = {}): Promise<RunSummary> {
    return runSyncAndWait({ client: this.env.client, taskQueue: this.taskQueue }, connection, newRequest('manual', { full: options.full }));
  }

  status(connection: Connection) {
    return syncStatus({ client: this.env.client, taskQueue: this.taskQueue }, connection.id);
  }

  async close(): Promise<void> {
    await this.worker?.shutdown().catch(() => undefined);
    await Promise.all([this.sf.close(), this.hs.close(), this.ns?.close()]);
    await this.db.close();
  }
}

export { startTestTemporal };
