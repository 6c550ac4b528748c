/**
 * One benchmark hub: the Salesforce and HubSpot (and NetSuite) sandboxes in this process, and the ecosync worker
 * (store, activities, Temporal worker) in a child process, driven over IPC. The Temporal server
 * is shared and started by run.ts.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { startHubSpotSandbox, type HubSpotSandbox, type HubSpotSandboxOptions } from '../../connectors/hubspot/sandbox/index.js';
import { netsuiteSandboxConfig, startNetSuiteSandbox, type NetSuiteSandbox, type NetSuiteSandboxOptions } from '../../connectors/netsuite/sandbox/index.js';
import { startSalesforceSandbox, type SalesforceSandbox, type SalesforceSandboxOptions } from '../../connectors/salesforce/sandbox/index.js';
import { SALESFORCE_HUBSPOT, sandboxCredentials } from '../../src/runtime/demo.js';
import { newRequest, runSyncAndWait } from '../../src/service/sync-control.js';
import type { Connection, ConnectionInput } from '../../src/store/index.js';
import type { RunSummary } from '../../workflows/sync-types.js';
import { sandboxConnection } from '../support/connection.js';
import { closeOnFailure, freshStore, WorkerProcess } from '../support/worker-process.js';
import type { UpsertInput, WorkerInit, WorkerRequest, WorkerStats } from './worker-process.js';

/** The shipped default mappings for the CRM pair, in dependency order. */
export const CRM_ENTITIES = SALESFORCE_HUBSPOT.entities;

const NETSUITE_CUSTOMER = { system: 'netsuite', object: 'customer', mapping: 'mappings/netsuite-customer.yaml' };

export interface HubOptions {
  client: Client;
  address: string;
  namespace: string;
  bundle: { code: string; sourceMap: string };
  store: 'postgres' | 'pglite';
  databaseUrl: string;
  entities: NonNullable<ConnectionInput['entities']>;
  /** Accounts also go to a NetSuite sandbox (a written system beside HubSpot, or instead of it). */
  netsuite?: { sandbox: NetSuiteSandboxOptions; concurrency?: number; withHubSpot: boolean };
  sf: SalesforceSandboxOptions;
  hs?: HubSpotSandboxOptions;
  /** Node flags for the worker process (--cpu-prof...). */
  workerFlags?: string[];
  pageBudgetMs?: number;
  writeConcurrency?: number;
}

/** The connection with NetSuite as a written system of its accounts: beside HubSpot, or in its place. */
function withNetSuite(connection: ConnectionInput, ns: NetSuiteSandbox | undefined, options: HubOptions['netsuite']): ConnectionInput {
  if (!ns || !options) return connection;
  const keep = (system: string) => options.withHubSpot || system !== 'hubspot';
  return {
    ...connection,
    systems: [...connection.systems.filter((s) => keep(s.name)), { name: 'netsuite', system: 'netsuite', role: 'target' }],
    entities: (connection.entities ?? []).map((e) => ({ ...e, members: [...e.members.filter((m) => keep(m.system)), NETSUITE_CUSTOMER] })),
    credentials: { ...connection.credentials, netsuite: { ...netsuiteSandboxConfig(ns), ...(options.concurrency ? { concurrency: options.concurrency } : {}) } },
  };
}

export class BenchHub {
  private constructor(
    readonly options: HubOptions,
    readonly sf: SalesforceSandbox,
    readonly hs: HubSpotSandbox,
    readonly ns: NetSuiteSandbox | undefined,
    readonly worker: WorkerProcess<WorkerRequest>,
    readonly taskQueue: string,
  ) {}

  connection!: Connection;
  readonly applicationName = `ecosync-bench-${randomBytes(4).toString('hex')}`;

  static async start(options: HubOptions): Promise<BenchHub> {
    const [sf, hs, ns] = await Promise.all([
      startSalesforceSandbox({ apiLimit: 10_000_000, ...options.sf }),
      startHubSpotSandbox({ companies: 0, ...options.hs }),
      options.netsuite ? startNetSuiteSandbox({ customers: 0, ...options.netsuite.sandbox }) : undefined,
    ]);
    const worker = new WorkerProcess<WorkerRequest>(new URL('./worker-process.ts', import.meta.url), options.workerFlags);
    const hub = new BenchHub(options, sf, hs, ns, worker, `bench-${randomUUID()}`);
    // The worker's database sessions carry a name of their own, so their CPU can be told apart.
    const url = `${options.databaseUrl}${options.databaseUrl.includes('?') ? '&' : '?'}application_name=${hub.applicationName}`;
    const init: WorkerInit = {
      store: freshStore(options.store, url),
      address: options.address,
      namespace: options.namespace,
      taskQueue: hub.taskQueue,
      bundle: options.bundle,
      pageBudgetMs: options.pageBudgetMs,
      writeConcurrency: options.writeConcurrency,
      connection: withNetSuite(sandboxConnection({ name: `bench-sf-hs-${randomUUID().slice(0, 8)}`, mode: 'one-way', entities: options.entities, credentials: sandboxCredentials(sf, hs) }), ns, options.netsuite),
    };
    hub.connection = await closeOnFailure(hub, () => worker.init(init));
    return hub;
  }

  /** Counters and the worker's phase clock start from zero. */
  async reset(): Promise<WorkerStats> {
    this.sf.counters.reset();
    this.hs.counters.reset();
    this.ns?.counters.reset();
    return await this.worker.call({ method: 'reset' }) as WorkerStats;
  }

  stats(): Promise<WorkerStats> {
    return this.worker.call({ method: 'stats' }) as Promise<WorkerStats>;
  }

  /** One sync cycle, from the request to its summary (update-with-start, as the CLI does it). */
  sync(options: { full?: boolean } = {}): Promise<RunSummary> {
    return runSyncAndWait({ client: this.options.client, taskQueue: this.taskQueue }, this.connection, newRequest('manual', { full: options.full }));
  }

  baseline(args: { basePath: string; accessToken: string; inputs: UpsertInput[]; batchSize: number; concurrency: number }) {
    return this.worker.call({ method: 'baseline', args: { object: 'companies', ...args } }) as Promise<{ ms: number; calls: number; written: number; cpuMs: number }>;
  }

  netsuiteBaseline(args: Extract<WorkerRequest, { method: 'netsuiteBaseline' }>['args']) {
    return this.worker.call({ method: 'netsuiteBaseline', args }) as Promise<{ ms: number; calls: number; written: number; cpuMs: number }>;
  }

  async close(): Promise<void> {
    await this.worker.close();
    await Promise.all([this.sf.close(), this.hs.close(), this.ns?.close()]);
  }
}
