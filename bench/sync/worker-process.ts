/**
 * The ecosync worker of the sync benchmark, in its own process so its memory and CPU are its own:
 * store, activities (wired as src/runtime/activities.ts wires them, with the connectors, store
 * and mappings timed by phase) and a Temporal worker. The benchmark drives it over IPC; see
 * WorkerRequest for what it answers.
 */
import { Client } from '@hubspot/api-client';
import pLimit from 'p-limit';
import pino from 'pino';
import { createConnector } from '../../connectors/registry.js';
import { createHubs } from '../../src/activities/hubs.js';
import { createSyncActivities } from '../../src/activities/sync.js';
import { mappingCache } from '../../src/runtime/mappings.js';
import { startWorker, type RunningWorker } from '../../src/runtime/worker.js';
import { answerDriver, openBenchStore, ProcessUsage, quietTemporalLogs, type BenchWorkerInit, type ProcessStats } from '../support/worker.js';
import { signingKey, TokenSource } from '../../connectors/netsuite/auth.js';
import type { NetSuiteConfig } from '../../connectors/netsuite/connector.js';
import { PhaseClock, timedConnector, timedMapping, timedStore } from './phases.js';

export interface WorkerInit extends BenchWorkerInit {
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
  | { method: 'netsuiteBaseline'; args: { config: NetSuiteConfig; tokenUrl: string; customers: Array<{ externalId: string; body: Record<string, unknown> }>; concurrency: number } }
  | { method: 'close'; args?: undefined };

export interface WorkerStats extends ProcessStats {
  /** Monotonic clock in µs (the clock of --cpu-prof samples), to cut a profile to a run. */
  monoUs: number;
  phases: ReturnType<PhaseClock['snapshot']>;
  details: ReturnType<PhaseClock['detailSnapshot']>;
}

quietTemporalLogs();

const clock = new PhaseClock();
const usage = new ProcessUsage();
let opened: Awaited<ReturnType<typeof openBenchStore>> | undefined;
let worker: RunningWorker | undefined;

async function init(args: WorkerInit) {
  opened = await openBenchStore(args.store);
  const store = timedStore(opened.store, clock);
  const connection = await opened.store.connections.create(args.connection);
  const mappings = mappingCache();
  const timedMappings = new Map<string, ReturnType<typeof timedMapping>>();
  const log = pino({ level: 'silent' });
  const hubs = createHubs({
    store,
    connectorFor: (system, credentials) => timedConnector(createConnector(system, credentials), clock),
    mappingFor: async (file) => {
      const compiled = await mappings.get(file);
      const timed = timedMappings.get(file) ?? timedMapping(compiled, clock);
      timedMappings.set(file, timed);
      return timed;
    },
    log,
  });
  const activities = createSyncActivities({ store, hubs, log, pageBudgetMs: args.pageBudgetMs, writeConcurrency: args.writeConcurrency });
  const syncPage = activities.syncPage;
  activities.syncPage = (input) => clock.time('page', () => syncPage(input));
  worker = await startWorker({ address: args.address, namespace: args.namespace, taskQueue: args.taskQueue, activities, workflowBundle: args.bundle });
  return { connection };
}

function stats(): WorkerStats {
  return { ...usage.stats(), monoUs: Number(process.hrtime.bigint() / 1000n), phases: clock.snapshot(), details: clock.detailSnapshot() };
}

function reset(): WorkerStats {
  clock.reset();
  usage.reset();
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

/**
 * NetSuite's plain loop: one token, then one PUT eid:<key> upsert per customer with fetch, as many
 * at once as the account allows — what NetSuite's concurrency limit lets any integration do.
 */
async function netsuiteBaseline(args: Extract<WorkerRequest, { method: 'netsuiteBaseline' }>['args']) {
  const { config } = args;
  const tokens = new TokenSource(
    { clientId: config.clientId, certificateId: config.certificateId, signing: signingKey(config.privateKey, config.algorithm), tokenUrl: args.tokenUrl },
    async (form) => {
      const res = await fetch(args.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
      return { status: res.status, body: await res.json() };
    },
  );
  const token = await tokens.get();
  const limit = pLimit(args.concurrency);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const written = await Promise.all(args.customers.map((c) => limit(async () => {
    const res = await fetch(`${config.baseUrl}/record/v1/customer/eid:${encodeURIComponent(c.externalId)}`, {
      method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(c.body),
    });
    await res.arrayBuffer();
    if (res.status !== 204) throw new Error(`NetSuite answered ${res.status} to the plain loop`);
    return 1;
  })));
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { ms, calls: args.customers.length + 1, written: written.length, cpuMs: Math.round((used.user + used.system) / 1000) };
}

answerDriver<WorkerRequest>({ init, reset, stats, baseline, netsuiteBaseline }, async () => {
  await worker?.shutdown().catch(() => undefined);
  await opened?.close();
});
