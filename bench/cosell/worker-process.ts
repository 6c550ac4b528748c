/**
 * The ecosync worker of the co-sell benchmark, in its own process so its memory and CPU are its
 * own: a store holding the benchmark's connection, every activity the production worker registers
 * (src/runtime/activities.ts createActivities: the co-sell activities with their cloud clients and
 * status written to the CRMs through the sync layer), a Temporal worker, and the submit call the API
 * and the CLI make. run.ts drives it over IPC.
 */
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import pino from 'pino';
import { createActivities } from '../../src/runtime/activities.js';
import { defaultCoSellSettings } from '../../src/runtime/config.js';
import { submitCoSell, type CoSellControl, type SubmitRequest } from '../../src/service/cosell-control.js';
import { startWorker, type RunningWorker } from '../../src/runtime/worker.js';
import { makeKeyring, openStore, type ConnectionInput, type Store } from '../../src/store/index.js';

export interface WorkerInit {
  store: { kind: 'pglite' } | { kind: 'postgres'; url: string; schema: string };
  address: string;
  namespace: string;
  taskQueue: string;
  bundle: { code: string; sourceMap: string };
  connection: ConnectionInput;
}

export type WorkerRequest =
  | { method: 'init'; args: WorkerInit }
  | { method: 'reset'; args?: undefined }
  | { method: 'stats'; args?: undefined }
  | { method: 'submit'; args: SubmitRequest }
  | { method: 'close'; args?: undefined };

export interface WorkerStats {
  rss: number;
  peakRss: number;
  heapUsed: number;
  cpuMs: number;
}

// The SDK's own worker logs (state changes) would drown the benchmark's output: warnings only.
Runtime.install({ logger: new DefaultLogger('WARN') });

let store: Store | undefined;
let dropSchema: string | undefined;
let worker: RunningWorker | undefined;
let client: Connection | undefined;
let control: CoSellControl | undefined;
let peakRss = process.memoryUsage().rss;
let cpuSince = process.cpuUsage();

// Peak RSS, sampled every 100 ms (and on every stats request).
setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 100).unref();

async function init(args: WorkerInit) {
  const keys = makeKeyring(randomBytes(32).toString('base64'));
  store = args.store.kind === 'postgres'
    ? await openStore({ kind: 'postgres', url: args.store.url, schema: args.store.schema, keys })
    : await openStore({ kind: 'pglite', keys });
  if (args.store.kind === 'postgres') dropSchema = args.store.schema;
  const connection = await store.connections.create(args.connection);
  client = await Connection.connect({ address: args.address });
  const log = pino({ level: 'silent' });
  // The API's and the CLI's way in: submits read the opportunity from the store, as synced.
  control = { client: new Client({ connection: client, namespace: args.namespace }), taskQueue: args.taskQueue, store, settings: defaultCoSellSettings(), log };
  const activities = createActivities({ store, client: control.client, taskQueue: args.taskQueue, log, cosell: control.settings });
  worker = await startWorker({ address: args.address, namespace: args.namespace, taskQueue: args.taskQueue, activities, workflowBundle: args.bundle });
  return { connection };
}

function stats(): WorkerStats {
  const { rss, heapUsed } = process.memoryUsage();
  peakRss = Math.max(peakRss, rss);
  const cpu = process.cpuUsage(cpuSince);
  return { rss, peakRss, heapUsed, cpuMs: Math.round((cpu.user + cpu.system) / 1000) };
}

function reset(): WorkerStats {
  cpuSince = process.cpuUsage();
  peakRss = process.memoryUsage().rss;
  return stats();
}

let closing: Promise<{ closed: true }> | undefined;
function close() {
  closing ??= (async () => {
    await worker?.shutdown().catch(() => undefined);
    await client?.close().catch(() => undefined);
    try {
      if (dropSchema) await store?.db.exec(`DROP SCHEMA IF EXISTS ${dropSchema} CASCADE`);
    } finally {
      await store?.close();
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
    case 'submit': return submitCoSell(control!, request.args);
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
