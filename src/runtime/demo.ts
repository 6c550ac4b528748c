import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { hubspotSandboxConfig, startHubSpotSandbox, type HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.js';
import { salesforceSandboxConfig, startSalesforceSandbox, type SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.js';
import { ensureSchedule, newRequest, requestSync } from '../service/sync-control.js';
import type { ConnectionInput, Store } from '../store/index.js';
import type { Config } from './config.js';

export const DEMO_CONNECTION = 'demo-salesforce-hubspot';

/** The shipped default mappings between Salesforce and HubSpot, in dependency order. */
export const SALESFORCE_HUBSPOT_OBJECTS: NonNullable<ConnectionInput['objects']> = [
  { entity: 'Account', sourceObject: 'Account', targetObject: 'companies', sourceMapping: 'mappings/salesforce-account.yaml', targetMapping: 'mappings/hubspot-company.yaml' },
  { entity: 'Contact', sourceObject: 'Contact', targetObject: 'contacts', sourceMapping: 'mappings/salesforce-contact.yaml', targetMapping: 'mappings/hubspot-contact.yaml' },
  { entity: 'Opportunity', sourceObject: 'Opportunity', targetObject: 'deals', sourceMapping: 'mappings/salesforce-opportunity.yaml', targetMapping: 'mappings/hubspot-deal.yaml' },
];

/** A connection's credentials for the two sandboxes, keyed by system as connections store them. */
export function sandboxCredentials(sf: SalesforceSandbox, hs: HubSpotSandbox) {
  return { salesforce: salesforceSandboxConfig(sf), hubspot: hubspotSandboxConfig(hs) };
}

export interface Demo {
  salesforceUrl: string;
  hubspotUrl: string;
  hubspotToken: string;
  stop(): Promise<void>;
}

/**
 * Seeded Salesforce and HubSpot sandboxes and a bidirectional demo connection with the shipped
 * mappings, scheduled and synced once at start: a new user sees real runs in the Temporal UI
 * and can edit a mapping and watch its effect without touching production.
 *
 * The sandboxes keep their data in memory, so each start begins a fresh demo: the demo
 * connection's links, records and cursors from an earlier start are cleared first (they would
 * point at records that no longer exist).
 */
export async function startDemo(config: Config, deps: { store: Store; client: Client; log: Logger }): Promise<Demo | undefined> {
  const { store, client, log } = deps;
  const others = (await store.connections.list()).filter((c) => c.name !== DEMO_CONNECTION && [c.sourceSystem, c.targetSystem].some((s) => s === 'salesforce' || s === 'hubspot'));
  if (others.length > 0) {
    log.warn({ connections: others.map((c) => c.name) }, 'demo skipped: other Salesforce or HubSpot connections share this database');
    return undefined;
  }
  const sf = await startSalesforceSandbox({ host: '127.0.0.1', port: config.demo.salesforcePort, seed: 42, accounts: config.demo.accounts });
  const hs = await startHubSpotSandbox({ host: '127.0.0.1', port: config.demo.hubspotPort, seed: 42, companies: Math.ceil(config.demo.accounts / 4) }).catch(async (error) => {
    await sf.close();
    throw error;
  });
  try {
    const input: ConnectionInput = {
      name: DEMO_CONNECTION,
      sourceSystem: 'salesforce',
      targetSystem: 'hubspot',
      mode: 'bidirectional',
      objects: SALESFORCE_HUBSPOT_OBJECTS,
      deletePolicy: 'propagate',
      conflictPolicy: 'last-writer-wins',
      scheduleSeconds: config.demo.scheduleSeconds,
      credentials: sandboxCredentials(sf, hs),
    };
    let connection = await store.connections.getByName(DEMO_CONNECTION);
    if (connection) {
      await resetDemoState(store, connection.id);
      connection = await store.connections.update(connection.id, input);
    } else {
      connection = await store.connections.create(input);
    }
    const control = { client, taskQueue: config.temporal.taskQueue };
    await ensureSchedule(control, connection);
    await requestSync(control, connection, newRequest('start'));
    return {
      salesforceUrl: sf.url,
      hubspotUrl: hs.url,
      hubspotToken: hs.accessToken,
      async stop() {
        await Promise.all([sf.close(), hs.close()]);
      },
    };
  } catch (error) {
    await Promise.all([sf.close(), hs.close()]);
    throw error;
  }
}

/** Forgets what an earlier demo synced: only demo data uses these systems in this database. */
async function resetDemoState(store: Store, connectionId: string): Promise<void> {
  await store.transaction(async (tx) => {
    await tx.cursors.reset(connectionId);
  });
  await store.db.query(`DELETE FROM records WHERE canonical_id IN (SELECT canonical_id FROM links WHERE system IN ('salesforce', 'hubspot'))`);
  await store.db.query(`DELETE FROM links WHERE system IN ('salesforce', 'hubspot')`);
}
