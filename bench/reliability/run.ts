/**
 * Webhook load, in the production shape: the API as an `ecosync api` process and the workers as
 * `ecosync worker` processes (the production commands) on one task queue, the Temporal dev server
 * (the CLI binary) and PostgreSQL. Only the CRMs are sandboxes: one Salesforce org and one
 * HubSpot portal per connection, in this process with the load generator. A bounded loopback generator (autocannon) posts
 * signed HubSpot webhooks at a fixed rate, each naming a company a user has just renamed in its
 * HubSpot sandbox, round-robin over the connections, while the workers sync them to Salesforce.
 *
 *   ./ecosync bench reliability [--workers 1,2] [--connections 4] [--rate 100] [--seconds 20]
 *                               [--records 2000] [--max-minutes 6]
 *
 * The same scenario runs once per worker count, each on a fresh schema and fresh sandboxes:
 * - throughput: the first full sync of every connection at once (connections × records
 *   accounts, Salesforce → HubSpot), records/s, and its ratio between the worker counts;
 * - the webhook's own 2xx answer (p50/p99, as the sender sees it) while the generator holds its
 *   rate, and webhook sent → written in Salesforce (p50/p99: from when the generator made the
 *   request, so it includes the answer's own time);
 * - whether every accepted event was synced: after the load, each renamed company's last
 *   accepted name must be its Salesforce account's name. A rename superseded by the next rename
 *   of the same company before a cycle read it is not a loss (the sync writes what the record is,
 *   not each step).
 * Writes bench/results/reliability.json. The whole run stops by itself within --max-minutes
 * (exit 2 past it; 1 when something was lost).
 */
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import autocannon from 'autocannon';
import { hubspotSandboxConfig, startHubSpotSandbox, type HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.js';
import { signedHeaders, subscriptionTypeOf } from '../../connectors/hubspot/webhooks.js';
import { salesforceSandboxConfig, startSalesforceSandbox, type SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.js';
import { newRequest, runSyncAndWait } from '../../src/service/sync-control.js';
import { makeKeyring, openStore, type Connection, type Store } from '../../src/store/index.js';
import { canonicalIdFor } from '../../src/sync/ids.js';
import { freePort, startCli, type CliRun } from '../../test/support/process.js';
import { startTestTemporal } from '../../test/support/temporal.js';
import { sandboxConnection } from '../support/connection.js';
import { machine, writeResults } from '../support/results.js';
import { startWatchdog } from '../support/watchdog.js';
import { quietTemporalLogs } from '../support/worker.js';
import { DATABASE_URL } from '../support/worker-process.js';
import { randomSchema } from '../../test/store/stores.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    'max-minutes': { type: 'string', default: '6' },
    workers: { type: 'string', default: '1,2' },
    connections: { type: 'string', default: '4' },
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '20' },
    'worker-nice': { type: 'string', default: '0' },
    senders: { type: 'string', default: '4' },
    records: { type: 'string', default: '2000' },
  },
});
const positive = (name: string, value: string | undefined) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name} needs a positive number, got "${value}"`);
    process.exit(1);
  }
  return n;
};
const MAX_MS = positive('max-minutes', args['max-minutes']) * 60_000;
const RATE = Math.round(positive('rate', args.rate));
const RECORDS = Math.round(positive('records', args.records));
const CONNECTIONS = Math.round(positive('connections', args.connections));
/**
 * The generator's HTTP connections. autocannon fires its connections together at each tick of
 * the overall rate, so every tick is a burst of this many requests and the last of a burst waits
 * behind the others (20 connections at 100/s: a health check alone answers p99 55 ms, against
 * 10 ms with 4); 4 holds 100/s without turning it into bursts that no one sender makes.
 */
const SENDERS = Math.round(positive('senders', args.senders));
const WORKER_NICE = Math.max(0, Math.min(19, Math.round(Number(args['worker-nice']) || 0)));
const WORKER_COUNTS = (args.workers ?? '1').split(',').map((w) => Math.round(positive('workers', w)));
/** After the load, how long an accepted rename may still take before it counts as lost. */
const DRAIN_MS = 30_000;
/** Each scenario's start-up (workers, first sync) and shutdown need about a minute; the load gets the rest. */
const SECONDS = Math.min(positive('seconds', args.seconds), Math.max(5, Math.floor((MAX_MS / WORKER_COUNTS.length - DRAIN_MS - 60_000) / 1000)));
const started = Date.now();
const log = (message: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
startWatchdog(MAX_MS, `--max-minutes ${MAX_MS / 60_000} reached: stopping`);

interface Summary { count: number; p50: number; p99: number; max: number }
function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]);
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? NaN };
}

const fmt = (n: number) => (Number.isFinite(n) ? `${Math.round(n)} ms` : '—');
const TARGET = { answerP99: 50, writtenP50: 100, writtenP99: 500 };

// ---- the shared parts: Temporal, the API's view of the store ------------------------------------

quietTemporalLogs();
log(`starting the Temporal dev server; then per worker count (${WORKER_COUNTS.join(', ')}): a fresh schema, ${CONNECTIONS} connections with their sandboxes, the workers, the API`);
const env = await startTestTemporal();

/** One connection's CRMs and what the load did to them. */
interface Pair {
  connection: Connection;
  sf: SalesforceSandbox;
  hs: HubSpotSandbox;
  clientSecret: string;
  /** HubSpot company id → Salesforce account id. */
  accountOf: Map<string, string>;
}

/** Per company (`<pair>:<company id>`): its renames in order. */
interface Rename { value: string; sentAt: number; writtenAt?: number }

interface ScenarioResult {
  workers: number;
  failure?: string;
  firstSync?: { records: number; seconds: number; recordsPerSecond: number };
  /** Event-loop delay of this process (generator and sandboxes) during the load. */
  generatorLagMs?: { p50: number; p99: number; max: number };
  load?: { sent: number; '2xx': number; non2xx: number; errors: number; timeouts: number; answerMs: { p50: number; p99: number; max: number } };
  sentToWrittenMs?: Summary;
  renames?: number;
  superseded?: number;
  lost?: number;
  lostExamples?: Array<{ company: string; expected: string; found: unknown }>;
}

/** `ecosync <command>` processes (the production commands) on one task queue and schema. */
async function startParts(command: 'worker' | 'api', count: number, partEnv: Record<string, string>): Promise<{ runs: CliRun[]; dirs: string[] }> {
  const dirs = Array.from({ length: count }, () => mkdtempSync(join(tmpdir(), `ecosync-bench-${command}-`)));
  const runs = await Promise.all(dirs.map(async (dir) => startCli([command], { ...partEnv, ECOSYNC_DATA_DIR: dir, ECOSYNC_METRICS_PORT: String(await freePort()) })));
  for (const run of runs) {
    const deadline = Date.now() + 120_000;
    while (!run.output().includes('Press Ctrl-C to stop.')) {
      if (Date.now() > deadline || run.child.exitCode !== null) throw new Error(`ecosync ${command} did not start; its output:\n${run.output()}`);
      await sleep(100);
    }
  }
  return { runs, dirs };
}

async function scenario(workers: number): Promise<ScenarioResult> {
  const result: ScenarioResult = { workers };
  const schema = randomSchema();
  const secretKey = randomBytes(32).toString('base64');
  const taskQueue = `reliability-${randomBytes(4).toString('hex')}`;
  const store: Store = await openStore({ kind: 'postgres', url: DATABASE_URL, schema, keys: makeKeyring(secretKey) });
  const pairs: Pair[] = [];
  const parts: Array<{ runs: CliRun[]; dirs: string[] }> = [];
  try {
    for (let i = 0; i < CONNECTIONS; i++) {
      const [sf, hs] = await Promise.all([
        startSalesforceSandbox({ accounts: RECORDS, contactsPerAccount: 0, opportunitiesPerAccount: 0 }),
        startHubSpotSandbox({ companies: 0 }),
      ]);
      const clientSecret = randomBytes(24).toString('hex');
      const connection = await store.connections.create(sandboxConnection({
        name: `reliability-${i + 1}`, mode: 'bidirectional',
        credentials: { salesforce: salesforceSandboxConfig(sf), hubspot: { ...hubspotSandboxConfig(hs), clientSecret } },
      }));
      pairs.push({ connection, sf, hs, clientSecret, accountOf: new Map() });
    }
    log(`${workers} worker(s): starting \`ecosync worker\` and \`ecosync api\` processes`);
    const partEnv = { TEMPORAL_ADDRESS: env.address, DATABASE_URL, ECOSYNC_DATABASE_SCHEMA: schema, ECOSYNC_SECRET_KEY: secretKey, ECOSYNC_TASK_QUEUE: taskQueue };
    const apiPort = await freePort();
    parts.push(...await Promise.all([
      startParts('worker', workers, partEnv),
      startParts('api', 1, { ...partEnv, ECOSYNC_API_HOST: '127.0.0.1', ECOSYNC_API_PORT: String(apiPort) }),
    ]));
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    // On a shared host the API can be given the CPU first (as separate containers or machines would).
    if (WORKER_NICE > 0) for (const run of parts[0].runs) setPriority(run.child.pid!, WORKER_NICE);
    const sync = { client: env.client, taskQueue };

    log(`${workers} worker(s): first sync of ${CONNECTIONS} connections × ${RECORDS} accounts, all at once`);
    const t0 = Date.now();
    const firsts = await Promise.all(pairs.map((p) => runSyncAndWait(sync, p.connection, newRequest('manual'))));
    const seconds = (Date.now() - t0) / 1000;
    const failed = firsts.find((f) => f.status !== 'succeeded');
    if (failed) throw new Error(`a first sync failed: ${failed.error}`);
    const created = firsts.reduce((n, f) => n + f.counters.created, 0);
    result.firstSync = { records: created, seconds, recordsPerSecond: Math.round(created / seconds) };
    log(`${workers} worker(s): ${created} records in ${seconds.toFixed(1)} s = ${result.firstSync.recordsPerSecond} records/s`);

    const renames = new Map<string, Rename[]>();
    const companies: Array<{ pair: Pair; companyId: string; key: string }> = [];
    pairs.forEach((pair, index) => {
      for (const v of pair.sf.state.org.table('Account').byId.values()) {
        const company = pair.hs.state.getByExternalId('companies', canonicalIdFor(`salesforce:${pair.sf.orgId}`, 'Account', String(v.fields.Id)));
        if (!company) throw new Error(`account ${String(v.fields.Id)} has no HubSpot company after the first sync`);
        pair.accountOf.set(company.id, String(v.fields.Id));
      }
      const companyOfAccount = new Map([...pair.accountOf].map(([c, a]) => [a, c]));
      pair.sf.state.org.changeListeners.add((c: { object: string; version: { fields: Record<string, unknown> } }) => {
        if (c.object !== 'Account') return;
        const company = companyOfAccount.get(String(c.version.fields.Id));
        const rename = company ? renames.get(`${index}:${company}`)?.find((r) => r.value === c.version.fields.Name) : undefined;
        if (rename && rename.writtenAt === undefined) rename.writtenAt = Date.now();
      });
      // Round-robin over the connections: company i of every connection, then company i + 1.
      [...pair.accountOf.keys()].forEach((companyId, i) => { companies[i * CONNECTIONS + index] = { pair, companyId, key: `${index}:${companyId}` }; });
    });
    const targets = companies.filter(Boolean);

    log(`${workers} worker(s): ${RATE} webhooks/s for ${SECONDS} s, each after a rename in HubSpot, round-robin over ${targets.length} companies of ${CONNECTIONS} connections`);
    let n = 0;
    // The generator's own process (with the sandboxes) delays what it measures when its event loop lags.
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const load = await autocannon({
      url: apiUrl,
      connections: SENDERS,
      overallRate: RATE,
      duration: SECONDS,
      timeout: 10,
      requests: [{
        method: 'POST',
        setupRequest: (request) => {
          const { pair, companyId, key } = targets[n % targets.length];
          const value = `load ${n++} ${randomBytes(3).toString('hex')}`;
          const record = pair.hs.state.update('companies', companyId, { name: value });
          const now = Date.now();
          const path = `/webhooks/hubspot/${pair.connection.name}`;
          const body = JSON.stringify([{
            subscriptionType: subscriptionTypeOf('companies', 'propertyChange'), objectId: record.idNum, occurredAt: now,
            eventId: n, portalId: pair.hs.portalId, propertyName: 'name', propertyValue: value, changeSource: 'CRM_UI',
          }]);
          (renames.get(key) ?? renames.set(key, []).get(key)!).push({ value, sentAt: now });
          return {
            ...request, path, body,
            headers: { ...request.headers, 'content-type': 'application/json', ...signedHeaders({ clientSecret: pair.clientSecret, method: 'POST', uri: `${apiUrl}${path}`, body, now }) },
          };
        },
      }],
    });
    lag.disable();
    result.generatorLagMs = { p50: lag.percentile(50) / 1e6, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 };
    result.load = { sent: load.requests.sent, '2xx': load['2xx'], non2xx: load.non2xx, errors: load.errors, timeouts: load.timeouts, answerMs: { p50: load.latency.p50, p99: load.latency.p99, max: load.latency.max } };
    log(`${workers} worker(s): load done: ${load.requests.sent} sent, ${load['2xx']} answered 2xx, ${load.non2xx} other, ${load.errors} errors, ${load.timeouts} timeouts`);

    // Every company's last rename that reached the hub must end in Salesforce.
    const found = (key: string) => {
      const { pair, companyId } = targets.find((t) => t.key === key)!;
      return pair.sf.state.org.table('Account').byId.get(pair.accountOf.get(companyId)!)?.fields.Name;
    };
    const expected = () => [...renames].map(([company, list]) => ({ company, expected: list.at(-1)!.value }));
    const deadline = Date.now() + DRAIN_MS;
    while (Date.now() < deadline && expected().some((e) => found(e.company) !== e.expected)) await sleep(100);
    const lost = expected().filter((e) => found(e.company) !== e.expected).map((e) => ({ ...e, found: found(e.company) }));

    // Webhook sent → written: each rename written in Salesforce, from when its webhook was made.
    const toWritten: number[] = [];
    let superseded = 0;
    let count = 0;
    for (const list of renames.values()) {
      for (const r of list) {
        count++;
        if (r.writtenAt === undefined) superseded++;
        else toWritten.push(r.writtenAt - r.sentAt);
      }
    }
    Object.assign(result, {
      sentToWrittenMs: summarize(toWritten),
      renames: count, superseded: superseded - lost.length, lost: lost.length, lostExamples: lost.slice(0, 10),
    });
  } catch (error) {
    result.failure = error instanceof Error ? error.message : String(error);
    log(`${workers} worker(s): stopped early: ${result.failure}`);
  } finally {
    const runs = parts.flatMap((p) => p.runs);
    for (const run of runs) run.child.kill('SIGINT');
    await Promise.all(runs.map((run) => run.exited));
    for (const dir of parts.flatMap((p) => p.dirs)) rmSync(dir, { recursive: true, force: true });
    await Promise.all(pairs.flatMap((p) => [p.sf.close(), p.hs.close()]));
    try {
      await store.db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await store.close();
    }
  }
  return result;
}

// ---- run and report ------------------------------------------------------------------------------

const results: ScenarioResult[] = [];
try {
  for (const workers of WORKER_COUNTS) results.push(await scenario(workers));
} finally {
  await env.teardown().catch(() => undefined);
}

console.log('');
console.log(`${CONNECTIONS} connections × ${RECORDS} accounts; webhooks at ${RATE}/s for ${SECONDS} s; targets: 2xx answer p99 ≤ ${TARGET.answerP99} ms, received → written p50 ≤ ${TARGET.writtenP50} ms (measured from sent) and p99 ≤ ${TARGET.writtenP99} ms, nothing lost`);
for (const r of results) {
  console.log(`\n${r.workers} worker process(es)${r.failure ? `: FAILED: ${r.failure}` : ''}`);
  if (r.firstSync) console.log(`  first sync: ${r.firstSync.records} records in ${r.firstSync.seconds.toFixed(1)} s = ${r.firstSync.recordsPerSecond} records/s`);
  if (r.load) {
    console.log(`  webhooks sent ${r.load.sent}: 2xx ${r.load['2xx']}, other ${r.load.non2xx}, errors ${r.load.errors}, timeouts ${r.load.timeouts}`);
    console.log(`  2xx answer (as the sender sees it): p50 ${fmt(r.load.answerMs.p50)}, p99 ${fmt(r.load.answerMs.p99)}, max ${fmt(r.load.answerMs.max)}`);
  }
  if (r.generatorLagMs) console.log(`    the generator's own event-loop delay meanwhile (it delays the answers it measures): p50 ${fmt(r.generatorLagMs.p50)}, p99 ${fmt(r.generatorLagMs.p99)}, max ${fmt(r.generatorLagMs.max)}`);
  if (r.sentToWrittenMs) console.log(`  webhook sent → written in Salesforce: p50 ${fmt(r.sentToWrittenMs.p50)}, p99 ${fmt(r.sentToWrittenMs.p99)}, max ${fmt(r.sentToWrittenMs.max)} over ${r.sentToWrittenMs.count} renames`);
  if (r.renames !== undefined) console.log(`  renames ${r.renames}: written ${r.renames - r.superseded! - r.lost!}, superseded by a later rename before a cycle read them ${r.superseded}, lost ${r.lost}`);
  for (const l of r.lostExamples ?? []) console.log(`    lost: company ${l.company} should be "${l.expected}", Salesforce has "${String(l.found)}"`);
}
const [one, two] = results;
const ratio = one?.firstSync && two?.firstSync ? two.firstSync.recordsPerSecond / one.firstSync.recordsPerSecond : undefined;
if (ratio !== undefined) console.log(`\nfirst-sync throughput, ${two.workers} workers against ${one.workers}: ×${ratio.toFixed(2)}`);

const out = join(here, '..', 'results', 'reliability.json');
writeResults(out, {
  benchmark: 'webhook load in the production shape: 2xx answer and webhook sent → written, every accepted event synced; first-sync throughput per worker count',
  date: new Date().toISOString(),
  machine: machine(),
  config: { ratePerSecond: RATE, senders: SENDERS, seconds: SECONDS, connections: CONNECTIONS, records: RECORDS, workers: WORKER_COUNTS, maxMinutes: MAX_MS / 60_000 },
  target: TARGET,
  results,
  ...(ratio !== undefined ? { throughputRatio: ratio } : {}),
});
console.log(`wrote ${out}`);
process.exit(results.some((r) => r.failure || (r.lost ?? 0) > 0) ? 1 : 0);
