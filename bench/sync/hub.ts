/**
 * One benchmark hub: the Salesforce and HubSpot sandboxes in this process, and the ecosync worker
 * (store, activities, Temporal worker) in a child process, driven over IPC. The Temporal server
 * is shared and started by run.ts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { startHubSpotSandbox, type HubSpotSandbox, type HubSpotSandboxOptions } from '../../connectors/hubspot/sandbox/index.js';
import { startSalesforceSandbox, type SalesforceSandbox, type SalesforceSandboxOptions } from '../../connectors/salesforce/sandbox/index.js';
import { SALESFORCE_HUBSPOT_OBJECTS, sandboxCredentials } from '../../src/runtime/demo.js';
import { newRequest, runSyncAndWait } from '../../src/service/sync-control.js';
import type { Connection, ConnectionInput } from '../../src/store/index.js';
import type { RunSummary } from '../../workflows/sync-types.js';
import type { UpsertInput, WorkerInit, WorkerRequest, WorkerStats } from './worker-process.js';

/** The shipped default mappings for the CRM pair, in dependency order. */
export const CRM_OBJECTS = SALESFORCE_HUBSPOT_OBJECTS;

export interface HubOptions {
  client: Client;
  address: string;
  namespace: string;
  bundle: { code: string; sourceMap: string };
  store: 'postgres' | 'pglite';
  databaseUrl: string;
  objects: NonNullable<ConnectionInput['objects']>;
  sf: SalesforceSandboxOptions;
  hs?: HubSpotSandboxOptions;
  /** Node flags for the worker process (--cpu-prof...). */
  workerFlags?: string[];
  pageBudgetMs?: number;
  writeConcurrency?: number;
}

export const crmCredentials = sandboxCredentials;

/** A random schema the benchmark drops at the end; the test store's sweeper recognises the prefix. */
export function benchSchema(): string {
  return `test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

export class BenchHub {
  private serial = 0;
  private waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  private constructor(
    readonly options: HubOptions,
    readonly sf: SalesforceSandbox,
    readonly hs: HubSpotSandbox,
    readonly child: ChildProcess,
    readonly taskQueue: string,
  ) {
    child.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.error !== undefined) w?.reject(new Error(`worker: ${m.error}`));
      else w?.resolve(m.result);
    });
    child.once('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`the worker process exited (${code})`));
      this.waiting.clear();
    });
  }

  connection!: Connection;
  readonly applicationName = `ecosync-bench-${randomBytes(4).toString('hex')}`;

  static async start(options: HubOptions): Promise<BenchHub> {
    const [sf, hs] = await Promise.all([
      startSalesforceSandbox({ apiLimit: 10_000_000, ...options.sf }),
      startHubSpotSandbox({ companies: 0, ...options.hs }),
    ]);
    const child = fork(fileURLToPath(new URL('./worker-process.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx', ...(options.workerFlags ?? [])],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const hub = new BenchHub(options, sf, hs, child, `bench-${randomUUID()}`);
    // The worker's database sessions carry a name of their own, so their CPU can be told apart.
    const url = `${options.databaseUrl}${options.databaseUrl.includes('?') ? '&' : '?'}application_name=${hub.applicationName}`;
    const init: WorkerInit = {
      store: options.store === 'postgres' ? { kind: 'postgres', url, schema: benchSchema() } : { kind: 'pglite' },
      address: options.address,
      namespace: options.namespace,
      taskQueue: hub.taskQueue,
      bundle: options.bundle,
      pageBudgetMs: options.pageBudgetMs,
      writeConcurrency: options.writeConcurrency,
      connection: {
        name: `bench-sf-hs-${randomUUID().slice(0, 8)}`,
        sourceSystem: 'salesforce',
        targetSystem: 'hubspot',
        mode: 'one-way',
        objects: options.objects,
        deletePolicy: 'propagate',
        credentials: crmCredentials(sf, hs),
      },
    };
    try {
      hub.connection = (await hub.call({ method: 'init', args: init }) as { connection: Connection }).connection;
    } catch (error) {
      await hub.close();
      throw error;
    }
    return hub;
  }

  call(request: WorkerRequest): Promise<unknown> {
    const id = ++this.serial;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ id, ...request });
    });
  }

  /** Counters and the worker's phase clock start from zero. */
  async reset(): Promise<WorkerStats> {
    this.sf.counters.reset();
    this.hs.counters.reset();
    return await this.call({ method: 'reset' }) as WorkerStats;
  }

  stats(): Promise<WorkerStats> {
    return this.call({ method: 'stats' }) as Promise<WorkerStats>;
  }

  /** One sync cycle, from the request to its summary (update-with-start, as the CLI does it). */
  sync(options: { full?: boolean } = {}): Promise<RunSummary> {
    return runSyncAndWait({ client: this.options.client, taskQueue: this.taskQueue }, this.connection, newRequest('manual', { full: options.full }));
  }

  baseline(args: { basePath: string; accessToken: string; inputs: UpsertInput[]; batchSize: number; concurrency: number }) {
    return this.call({ method: 'baseline', args: { object: 'companies', ...args } }) as Promise<{ ms: number; calls: number; written: number; cpuMs: number }>;
  }

  async close(): Promise<void> {
    if (this.child.connected) {
      await Promise.race([this.call({ method: 'close' }), new Promise((r) => setTimeout(r, 30_000))]).catch(() => undefined);
    }
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      setTimeout(() => this.child.kill('SIGKILL'), 5_000).unref();
      await exited;
    }
    await Promise.all([this.sf.close(), this.hs.close()]);
  }
}
