/**
 * The ecosync worker of the co-sell benchmark, in its own process so its memory and CPU are its
 * own: a store holding the benchmark's connection, every activity the production worker registers
 * (src/runtime/activities.ts createActivities: the co-sell activities with their cloud clients and
 * status written to the CRMs through the sync layer), a Temporal worker, and the submit call the API
 * and the CLI make. run.ts drives it over IPC.
 */
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { createActivities } from '../../src/runtime/activities.js';
import { defaultCoSellSettings } from '../../src/runtime/config.js';
import { submitCoSell, type CoSellControl, type SubmitRequest } from '../../src/service/cosell-control.js';
import { startWorker, type RunningWorker } from '../../src/runtime/worker.js';
import { answerDriver, openBenchStore, ProcessUsage, quietTemporalLogs, type BenchWorkerInit, type ProcessStats } from '../support/worker.js';

export type WorkerInit = BenchWorkerInit;

export type WorkerRequest =
  | { method: 'init'; args: WorkerInit }
  | { method: 'reset'; args?: undefined }
  | { method: 'stats'; args?: undefined }
  | { method: 'submit'; args: SubmitRequest }
  | { method: 'close'; args?: undefined };

export type WorkerStats = ProcessStats;

quietTemporalLogs();

const usage = new ProcessUsage();
let opened: Awaited<ReturnType<typeof openBenchStore>> | undefined;
let worker: RunningWorker | undefined;
let client: Connection | undefined;
let control: CoSellControl | undefined;

async function init(args: WorkerInit) {
  opened = await openBenchStore(args.store);
  const store = opened.store;
  const connection = await store.connections.create(args.connection);
  client = await Connection.connect({ address: args.address });
  const log = pino({ level: 'silent' });
  // The API's and the CLI's way in: submits read the opportunity from the store, as synced.
  control = { client: new Client({ connection: client, namespace: args.namespace }), taskQueue: args.taskQueue, store, settings: defaultCoSellSettings(), log };
  const activities = createActivities({ store, client: control.client, taskQueue: args.taskQueue, log, cosell: control.settings });
  worker = await startWorker({ address: args.address, namespace: args.namespace, taskQueue: args.taskQueue, activities, workflowBundle: args.bundle });
  return { connection };
}

answerDriver<WorkerRequest>({
  init,
  reset: () => {
    usage.reset();
    return usage.stats();
  },
  stats: () => usage.stats(),
  submit: (args) => submitCoSell(control!, args),
}, async () => {
  await worker?.shutdown().catch(() => undefined);
  await client?.close().catch(() => undefined);
  await opened?.close();
});
