/**
 * A Salesforce ⇄ HubSpot connection on the sandboxes, synced by calling the sync activities
 * directly (no Temporal): each cycle runs every entity in both directions the way the connection
 * workflow does, re-reading the lookback window first. With the canonical writer on the same
 * store and mappings, and a recording co-sell hook.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { createConnector } from '../../connectors/registry.js';
import { startHubSpotSandbox, type HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.js';
import { startSalesforceSandbox, type SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.js';
import { createCanonicalWriter, type CanonicalWriter } from '../../src/activities/canonical-write.js';
import { createHubs } from '../../src/activities/hubs.js';
import { createSyncActivities, type CoSellEvent, type SyncDeps } from '../../src/activities/sync.js';
import type { SyncActivities } from '../../src/activities/sync-contract.js';
import { mappingCache } from '../../src/runtime/mappings.js';
import type { Connection } from '../../src/store/index.js';
import { ZERO_COUNTERS, addCounters, type SyncCounters } from '../../workflows/sync-types.js';
import { openTestStore, type StoreKind, type TestStore } from '../store/stores.js';
import { CRM_HUB, crmCredentials } from '../support/hub.js';
import { hubView } from '../support/hub-view.js';

/** Write calls a sandbox received (REST and composite, any object). */
export const SALESFORCE_WRITES = /^(composite\.(create|update|upsert)|sobject\.(create|update|upsert))$/;
export const HUBSPOT_WRITES = /\.(batch\.(create|update|upsert)|create|update)$/;

/** What a CRM opportunity shows of its co-sell. */
export interface CrmCoSell {
  cloud: unknown;
  status: unknown;
  cloudId: unknown;
  message: unknown;
}

/** The co-sell fields of a Salesforce opportunity. */
export function sfCoSellOf(sf: SalesforceSandbox, id: string): CrmCoSell {
  const r = sf.state.get('Opportunity', id);
  return { cloud: r?.Ecosync_CoSell_Cloud__c, status: r?.Ecosync_CoSell_Status__c, cloudId: r?.Ecosync_Cloud_Opportunity_Id__c, message: r?.Ecosync_CoSell_Message__c };
}

/** The co-sell properties of a HubSpot deal. */
export function hsCoSellOf(hs: HubSpotSandbox, id: string): CrmCoSell {
  const p = hs.state.get('deals', id)?.properties ?? {};
  return { cloud: p.ecosync_cosell_cloud, status: p.ecosync_cosell_status, cloudId: p.ecosync_cloud_opportunity_id, message: p.ecosync_cosell_message };
}

/** One incremental cycle, as the connection workflow runs it: every entity, from each system it is read from, lookback window first. */
export async function syncCycle(sync: Pick<SyncActivities, 'syncPage'>, connection: Connection): Promise<SyncCounters> {
  let total: SyncCounters = { ...ZERO_COUNTERS };
  const read = new Set(connection.systems.filter((s) => s.role !== 'target').map((s) => s.name));
  for (const { entity, members } of connection.entities) {
    for (const source of members.map((m) => m.system).filter((name) => read.has(name))) {
      let lookback = true;
      for (;;) {
        const page = await sync.syncPage({ connectionId: connection.id, runId: 'direct', entity, source, mode: 'incremental', lookback });
        lookback = false;
        total = addCounters(total, page.counters);
        if (!page.more) break;
      }
    }
  }
  return total;
}

export class CrmRig {
  /** Every call of the co-sell hook, in order. */
  readonly hookCalls: CoSellEvent[][] = [];
  /** Set to make the hook throw. */
  hookError?: Error;
  readonly sync: ReturnType<typeof createSyncActivities>;
  readonly writer: CanonicalWriter;

  private constructor(readonly db: TestStore, readonly sf: SalesforceSandbox, readonly hs: HubSpotSandbox, readonly connection: Connection, deps: Partial<SyncDeps>) {
    const mappings = mappingCache();
    const log = pino({ level: 'silent' });
    const hubs = createHubs({ store: db.store, connectorFor: createConnector, mappingFor: (file) => mappings.get(file), log });
    this.sync = createSyncActivities({
      store: db.store,
      hubs,
      log,
      coSellEvents: async (events) => {
        this.hookCalls.push(events);
        if (this.hookError) throw this.hookError;
      },
      ...deps,
    });
    this.writer = createCanonicalWriter(hubs);
  }

  static async start(options: { store?: StoreKind; deps?: Partial<SyncDeps> } = {}): Promise<CrmRig> {
    const [db, sf, hs] = await Promise.all([
      openTestStore(options.store ?? 'pglite'),
      startSalesforceSandbox({ accounts: 0 }),
      startHubSpotSandbox({ companies: 0 }),
    ]);
    const connection = await db.store.connections.create({
      name: `rig-${randomUUID().slice(0, 8)}`, ...CRM_HUB, deletePolicy: 'propagate', credentials: crmCredentials(sf, hs),
    });
    return new CrmRig(db, sf, hs, connection, options.deps ?? {});
  }

  get store() {
    return this.db.store;
  }

  /** The connection's links and records. */
  get hub() {
    return hubView(this.db.store, this.connection.id);
  }

  /** One incremental cycle of the connection. */
  syncOnce(): Promise<SyncCounters> {
    return syncCycle(this.sync, this.connection);
  }

  /** Live Salesforce records of an object as the sandbox holds them. */
  sfRecords(object: string): Array<Record<string, unknown>> {
    return this.sf.state.org.table(object).changeIndex().filter((v) => !v.fields.IsDeleted).map((v) => v.fields as Record<string, unknown>);
  }

  /** Write calls both sandboxes received so far. */
  writes(): number {
    return this.sf.counters.sum(SALESFORCE_WRITES) + this.hs.counters.sum(HUBSPOT_WRITES);
  }

  events(): CoSellEvent[] {
    return this.hookCalls.flat();
  }

  async close(): Promise<void> {
    await Promise.all([this.sf.close(), this.hs.close()]);
    await this.db.close();
  }
}

/** Starts a CrmRig before the tests of the enclosing suite (handing it to `ready`) and closes it after them. */
export function useCrmRig(ready: (rig: CrmRig) => unknown): void {
  let rig: CrmRig | undefined;
  beforeAll(async () => {
    rig = await CrmRig.start();
    await ready(rig);
  }, 60_000);
  afterAll(async () => {
    await rig?.close();
  });
}
