/**
 * The ecosync worker of the sync benchmark, in its own process so its memory and CPU are its own:
 * store, activities (wired as src/runtime/activities.ts wires them, with the connectors, store
 * and mappings timed by phase) and a Temporal worker. The benchmark drives it over IPC; see
 * WorkerRequest for what it answers.
 */
import { randomBytes } from 'node:crypto';
import { Client } from '@hubspot/api-client';
import pLimit from 'p-limit';
import pino from 'pino';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createConnector } from '../../connectors/registry.js';
import { createSyncActivities } from '../../src/activities/sync.js';
import { mappingCache } from '../../src/runtime/mappings.js';
import { startWorker, type RunningWorker } from '../../src/runtime/worker.js';
import { makeKeyring, openStore, type ConnectionInput, type Store } from '../../src/store/index.js';
import { PhaseClock, timedConnector, timedMapping, timedStore } from './phases.js';

export interface WorkerInit {
  store: { kind: 'pglite' } | { kind: 'postgres'; url: string; schema: string };
  address: string;
  namespace: string;
  taskQueue: string;
  bundle: { code: string; sourceMap: string };
  connection: ConnectionInput;
  /** Overrides for experiments; the shipped defaults when absent. */
  pageBudgetMs?: number;
  writeConcurrency?: number;
}

/** One HubSpot batch upsert input, as the SDK takes it. */
export interface UpsertInput {
  id: string;
  idProperty: string;
  properties: Record<string, string>;
}

export type WorkerRequest =
  | { method: 'init'; args: WorkerInit }
  | { method: 'reset'; args?: undefined }
  | { method: 'stats'; args?: undefined }
  | { method: 'baseline'; args: { basePath: string; accessToken: string; object: 'companies'; inputs: UpsertInput[]; batchSize: number; concurrency: number } }
  | { method: 'close'; args?: undefined };

export interface WorkerStats {
  rss: number;
  peakRss: number;
  heapUsed: number;
  cpuMs: number;
  /** Monotonic clock in µs (the clock of --cpu-prof samples), to cut a profile to a run. */
  monoUs: number;
  phases: ReturnType<PhaseClock['snapshot']>;
  details: ReturnType<PhaseClock['detailSnapshot']>;
}

// The SDK's own worker logs (state changes) would drown the benchmark's output: warnings only.
Runtime.install({ logger: new DefaultLogger('WARN') });

const clock = new PhaseClock();
let store: Store | undefined;
let rawStore: Store | undefined;
let dropSchema: string | undefined;
let worker: RunningWorker | undefined;
let peakRss = process.memoryUsage().rss;
let cpuSince = process.cpuUsage();

// Peak RSS, sampled every 100 ms (and on every stats request).
setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 100).unref();

async function init(args: WorkerInit) {
  const keys = makeKeyring(randomBytes(32).toString('base64'));
  rawStore = args.store.kind === 'postgres'
    ? await openStore({ kind: 'postgres', url: args.store.url, schema: args.store.schema, keys })
    : await openStore({ kind: 'pglite', keys });
  if (args.store.kind === 'postgres') dropSchema = args.store.schema;
  store = timedStore(rawStore, clock);
  const connection = await rawStore.connections.create(args.connection);
  const mappings = mappingCache();
  const timedMappings = new Map<string, ReturnType<typeof timedMapping>>();
  const activities = createSyncActivities({
    store,
    connectorFor: (system, credentials) => timedConnector(createConnector(system, credentials), clock),
    mappingFor: async (file) => {
      const compiled = await mappings.get(file);
      const timed = timedMappings.get(file) ?? timedMapping(compiled, clock);
      timedMappings.set(file, timed);
      return timed;
    },
    log: pino({ level: 'silent' }),
    pageBudgetMs: args.pageBudgetMs,
    writeConcurrency: args.writeConcurrency,
  });
  const syncPage = activities.syncPage;
  activities.syncPage = (input) => clock.time('page', () => syncPage(input));
  worker = await startWorker({ address: args.address, namespace: args.namespace, taskQueue: args.taskQueue, activities, workflowBundle: args.bundle });
  return { connection };
}

function stats(): WorkerStats {
  const { rss, heapUsed } = process.memoryUsage();
  peakRss = Math.max(peakRss, rss);
  const cpu = process.cpuUsage(cpuSince);
  return { rss, peakRss, heapUsed, cpuMs: Math.round((cpu.user + cpu.system) / 1000), monoUs: Number(process.hrtime.bigint() / 1000n), phases: clock.snapshot(), details: clock.detailSnapshot() };
}

function reset(): WorkerStats {
  clock.reset();
  cpuSince = process.cpuUsage();
  peakRss = process.memoryUsage().rss;
  return stats();
}

/**
 * The plain loop the pipeline is compared with: the same records, the same SDK call (batch upsert
 * by ecosync_id), the same batch size and concurrency, no store, no Temporal, no mapping.
 */
async function baseline(args: Extract<WorkerRequest, { method: 'baseline' }>['args']) {
  const client = new Client({ accessToken: args.accessToken, basePath: args.basePath, numberOfApiCallRetries: 0 });
  const limit = pLimit(args.concurrency);
  const batches: UpsertInput[][] = [];
  for (let i = 0; i < args.inputs.length; i += args.batchSize) batches.push(args.inputs.slice(i, i + args.batchSize));
  const cpu = process.cpuUsage();
  const started = performance.now();
  const written = await Promise.all(batches.map((inputs) => limit(async () => (await client.crm.companies.batchApi.upsert({ inputs })).results.length)));
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { ms, calls: batches.length, written: written.reduce((a, b) => a + b, 0), cpuMs: Math.round((used.user + used.system) / 1000) };
}

let closing: Promise<{ closed: true }> | undefined;
function close() {
  closing ??= (async () => {
    await worker?.shutdown().catch(() => undefined);
    try {
      if (dropSchema) await rawStore?.db.exec(`DROP SCHEMA IF EXISTS ${dropSchema} CASCADE`);
    } finally {
      await rawStore?.close();
    }
    return { closed: true as const };
  })();
  return closing;
}

async function handle(request: WorkerRequest): Promise<unknown> {
  switch (request.method) {
    case 'init': return init(request.args);
    case 'reset': return reset();
    case 'stats': return stats();
    case 'baseline': return baseline(request.args);
    case 'close': return close();
  }
}

process.on('message', (message: { id: number } & WorkerRequest) => {
  handle(message).then(
    (result) => {
      process.send!({ id: message.id, result });
      if (message.method === 'close') setTimeout(() => process.exit(0), 50);
    },
    (error: unknown) => process.send!({ id: message.id, error: error instanceof Error ? error.stack ?? error.message : String(error) }),
  );
});
// The benchmark went away (killed, crashed): do not linger holding a schema and a task queue.
process.on('disconnect', () => { void close().finally(() => process.exit(1)); });
