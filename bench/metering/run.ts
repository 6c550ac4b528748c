/**
 * Usage metering end to end: usage events reported through the HTTP API (a real listening port,
 * 1,000 records a request, C requests at a time) into a real store, then the metering workflow on
 * a real Temporal dev server (the CLI binary) sending them to the AWS Marketplace sandbox through
 * the official SDK, with the production activities (src/runtime/activities.ts) in this process.
 *
 *   ./ecosync bench metering [--events 100000] [--customers 100] [--hours 4] [--concurrency 4]
 *        [--store postgres|pglite] [--max-minutes 10]
 *
 * The events spread over customers × 4 dimensions (two products of two metered dimensions) ×
 * closed hours. Measured: usage events/s ingested (validated, deduplicated by key, kept), the
 * same batches sent again (all duplicates), BatchMeterUsage calls against the minimum (per
 * product, 25 records a call), the time from the last ingest to the last hour sent, history
 * events of the workflow. Every hour's sum is checked at the sandbox before anything is printed.
 *
 * Prints the figures and writes bench/results/metering.json.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { UsageRecord } from '../../src/model/index.js';
import { createActivities } from '../../src/runtime/activities.js';
import { bundleWorkflows, startWorker } from '../../src/runtime/worker.js';
import { wakeMetering } from '../../src/service/metering-control.js';
import { openStore } from '../../src/store/index.js';
import { meteringWorkflowId } from '../../workflows/metering-types.js';
import { ADMIN_TOKEN, meteringConnection, minimalCalls, recordAgreements, startApi, startAwsMetering, usageEvents } from '../../test/metering/rig.js';
import { randomSchema, TEST_DATABASE_URL, testKeys } from '../../test/store/stores.js';
import { countHistory } from '../support/history.js';
import { machine, writeResults } from '../support/results.js';
import { startBenchTemporal } from '../support/temporal.js';
import { startWatchdog } from '../support/watchdog.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    customers: { type: 'string', default: '100' },
    hours: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '4' },
    store: { type: 'string', default: 'postgres' },
    'max-minutes': { type: 'string', default: '10' },
  },
});
const EVENTS = Number(args.events);
const CUSTOMERS = Number(args.customers);
const HOURS = Array.from({ length: Math.min(5, Number(args.hours)) }, (_, i) => i + 1);
const CONCURRENCY = Number(args.concurrency);
const BATCH = 1000;
const watchdog = startWatchdog(Number(args['max-minutes']) * 60_000, `metering benchmark: over ${args['max-minutes']} minutes, stopped`);

const dataDir = mkdtempSync(path.join(tmpdir(), 'ecosync-bench-metering-'));
const [temporal, bundle] = await Promise.all([startBenchTemporal(dataDir), bundleWorkflows()]);
const schema = randomSchema();
const store = await openStore(args.store === 'pglite' ? { kind: 'pglite', keys: testKeys } : { kind: 'postgres', url: TEST_DATABASE_URL, schema, keys: testKeys, poolSize: 8 });
const aws = await startAwsMetering(CUSTOMERS);
const taskQueue = 'bench-metering';
const worker = await startWorker({
  address: temporal.server.address, namespace: 'default', taskQueue, workflowBundle: bundle,
  activities: createActivities({ store, client: temporal.client, taskQueue, log: pino({ level: 'silent' }) }),
});
try {
  const connection = await meteringConnection(store, aws);
  await recordAgreements(store, connection.id, aws.customers);
  // Started before the usage arrives, to send closed hours at once and one pass per burst of ingests.
  await wakeMetering({ client: temporal.client, taskQueue, settings: { graceMs: 0, quietMs: 3_000, batchesPerPass: 40 } }, connection, 'aws');
  const api = await startApi(store, temporal.client, taskQueue);
  const url = await api.listen({ host: '127.0.0.1', port: 0 });

  const { events, sums } = usageEvents(aws, { events: EVENTS, hours: HOURS, prefix: 'bench' });
  const batches: UsageRecord[][] = [];
  for (let i = 0; i < events.length; i += BATCH) batches.push(events.slice(i, i + BATCH));

  /** Sends every batch, C at a time; the seconds it took and what the API answered in all. */
  async function ingestAll(): Promise<{ seconds: number; accepted: number; duplicates: number }> {
    let next = 0;
    let accepted = 0;
    let duplicates = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < batches.length) {
        const records = batches[next++];
        const response = await fetch(`${url}/connections/${connection.name}/usage`, {
          method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ records }),
        });
        const body = (await response.json()) as { accepted: number; duplicates: string[] };
        if (response.status !== 200) throw new Error(`the API answered ${response.status}: ${JSON.stringify(body)}`);
        accepted += body.accepted;
        duplicates += body.duplicates.length;
      }
    }));
    return { seconds: (performance.now() - started) / 1000, accepted, duplicates };
  }

  const first = await ingestAll();
  const ingestedAt = performance.now();
  if (first.accepted !== EVENTS) throw new Error(`${first.accepted} of ${EVENTS} events kept`);
  // All sent: every hour has its row, sent.
  for (;;) {
    const [{ n }] = await store.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM metering_sends WHERE connection_id = $1 AND status = 'sent'`, [connection.id]);
    if (n === sums.size) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const sentSeconds = (performance.now() - ingestedAt) / 1000;
  const again = await ingestAll();
  if (again.duplicates !== EVENTS) throw new Error(`the same events again: ${again.duplicates} of ${EVENTS} counted as duplicates`);

  // Checked before anything is printed: every hour reached AWS once, with its whole sum.
  for (const [key, sum] of sums) {
    const sent = aws.received.get(key);
    if (!sent || sent.length !== 1 || sent[0] !== sum) throw new Error(`${key}: sent ${JSON.stringify(sent)}, expected [${sum}]`);
  }
  const calls = aws.sandbox.counters.get('metering.BatchMeterUsage');
  const minimum = minimalCalls(sums.keys());
  const history = await countHistory(temporal.client, meteringWorkflowId(connection.id, 'aws'));
  const results = {
    when: new Date().toISOString(),
    machine: machine(),
    loadavg: loadavg(),
    store: args.store,
    events: EVENTS, customers: CUSTOMERS, dimensions: 4, hours: HOURS.length, requestSize: BATCH, concurrency: CONCURRENCY,
    ingest: { seconds: round(first.seconds), eventsPerSecond: Math.round(EVENTS / first.seconds) },
    ingestDuplicates: { seconds: round(again.seconds), eventsPerSecond: Math.round(EVENTS / again.seconds) },
    metering: { hours: sums.size, calls, minimumCalls: minimum, extraCalls: calls - minimum, secondsFromLastIngestToAllSent: round(sentSeconds), historyEvents: history.events, runs: history.runs },
  };
  console.log([
    `usage metering, ${EVENTS.toLocaleString('en')} events over ${CUSTOMERS} customers × 4 dimensions × ${HOURS.length} hours (${args.store}, ${CONCURRENCY} requests of ${BATCH} at a time)`,
    `  ingested through the API:      ${results.ingest.eventsPerSecond.toLocaleString('en')} events/s (${results.ingest.seconds} s)`,
    `  the same events again:         ${results.ingestDuplicates.eventsPerSecond.toLocaleString('en')} events/s, every one counted once`,
    `  BatchMeterUsage calls:         ${calls} for ${sums.size} customer-hours (minimum ${minimum}, ${calls - minimum} extra)`,
    `  last ingest → last hour sent:  ${results.metering.secondsFromLastIngestToAllSent} s (including the workflow's 3 s quiet period)`,
    `  workflow history:              ${history.events} events in ${history.runs} run(s)`,
  ].join('\n'));
  writeResults(path.join(ROOT, 'bench/results/metering.json'), results);
  await temporal.client.workflow.getHandle(meteringWorkflowId(connection.id, 'aws')).terminate('benchmark over');
  await temporal.client.schedule.getHandle(`metering-schedule:${connection.id}:aws`).delete();
  await api.close();
} finally {
  await worker.shutdown();
  if (args.store !== 'pglite') await store.db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
  await store.close();
  await aws.close();
  await temporal.stop();
  rmSync(dataDir, { recursive: true, force: true });
  clearTimeout(watchdog);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
