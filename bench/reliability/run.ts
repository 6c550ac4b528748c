/**
 * Webhook load: a bounded loopback generator (autocannon) posts signed HubSpot webhooks to the
 * hub's API at a fixed rate, each naming a company a user has just renamed in the HubSpot sandbox,
 * while the worker syncs them to Salesforce. Everything real but the CRMs: the Temporal dev server
 * (the CLI binary), the store, the worker, the API with its webhook routes.
 *
 *   ./ecosync bench reliability [--max-minutes 3] [--rate 100] [--seconds 20] [--records 200] [--store pglite|postgres]
 *
 * Reports the webhook's own 2xx answer (p50/p99, as the sender sees it), webhook received →
 * written in Salesforce (p50/p99), and whether every accepted event was synced: after the load,
 * each renamed company's last accepted name must be its Salesforce account's name. A rename
 * superseded by the next rename of the same company before a cycle read it is not a loss (the
 * sync writes what the record is, not each step). Writes bench/results/reliability.json. The whole
 * run stops by itself within --max-minutes (exit 2 past it; 1 when something was lost).
 */
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pino from 'pino';
import { hubspotSandboxConfig, startHubSpotSandbox } from '../../connectors/hubspot/sandbox/index.js';
import { signedHeaders, subscriptionTypeOf } from '../../connectors/hubspot/webhooks.js';
import { salesforceSandboxConfig, startSalesforceSandbox } from '../../connectors/salesforce/sandbox/index.js';
import { buildApi } from '../../src/api/server.js';
import { webhooksPlugin } from '../../src/api/webhooks/index.js';
import { createActivities } from '../../src/runtime/activities.js';
import { bundleWorkflows, startWorker } from '../../src/runtime/worker.js';
import { newRequest, runSyncAndWait } from '../../src/service/sync-control.js';
import { canonicalIdFor } from '../../src/sync/ids.js';
import { startTestTemporal } from '../../test/support/temporal.js';
import { sandboxConnection } from '../support/connection.js';
import { machine, writeResults } from '../support/results.js';
import { startWatchdog } from '../support/watchdog.js';
import { openBenchStore, quietTemporalLogs } from '../support/worker.js';
import { freshStore } from '../support/worker-process.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    'max-minutes': { type: 'string', default: '3' },
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '20' },
    records: { type: 'string', default: '200' },
    store: { type: 'string', default: 'pglite' },
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
const STORE = args.store === 'postgres' ? 'postgres' : 'pglite';
/** After the load, how long an accepted rename may still take before it counts as lost. */
const DRAIN_MS = 30_000;
/** Start-up (Temporal, bundle, first sync) and shutdown need about a minute; the load gets the rest. */
const SECONDS = Math.min(positive('seconds', args.seconds), Math.max(5, Math.floor((MAX_MS - DRAIN_MS - 60_000) / 1000)));
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

// ---- the hub -----------------------------------------------------------------------------------

quietTemporalLogs();
log(`starting: Temporal dev server, ${STORE} store, sandboxes, worker, API`);
const [env, bundle] = await Promise.all([startTestTemporal(), bundleWorkflows()]);
const opened = await openBenchStore(freshStore(STORE));
const store = opened.store;
const [sf, hs] = await Promise.all([
  startSalesforceSandbox({ accounts: RECORDS, contactsPerAccount: 0, opportunitiesPerAccount: 0 }),
  startHubSpotSandbox({ companies: 0 }),
]);
const taskQueue = `reliability-${randomBytes(4).toString('hex')}`;
const silent = pino({ level: 'silent' });
const worker = await startWorker({
  address: env.address, namespace: env.namespace ?? 'default', taskQueue, workflowBundle: bundle,
  activities: createActivities({ store, client: env.client, taskQueue, log: silent }),
});
const sync = { client: env.client, taskQueue };
const clientSecret = randomBytes(24).toString('hex');
const connection = await store.connections.create(sandboxConnection({
  name: 'reliability-bench', mode: 'bidirectional',
  credentials: { salesforce: salesforceSandboxConfig(sf), hubspot: { ...hubspotSandboxConfig(hs), clientSecret } },
}));

/** Per company: its renames in order, and the receipts of webhooks naming it. */
interface Rename { value: string; sentAt: number; receivedAt?: number; accepted?: boolean; writtenAt?: number }
const renames = new Map<string, Rename[]>();
/** Receipts by the id a webhook names (HubSpot's numeric object id), and that id of each company. */
const receiptsOf = new Map<string, number[]>();
const idNumOf = new Map<string, string>();
/** The handler's own time (connection, credentials, signature, the signal to the workflow), apart from queueing before it. */
const handlingMs: number[] = [];
const api = await buildApi({
  log: silent,
  health: async () => ({}),
  plugins: [webhooksPlugin({ store, sync, onAccepted: (r) => {
    handlingMs.push(Date.now() - r.receivedAt);
    for (const id of r.recordIds) (receiptsOf.get(id) ?? receiptsOf.set(id, []).get(id)!).push(r.receivedAt);
  } })],
});
await api.listen({ host: '127.0.0.1', port: 0 });
const apiUrl = `http://127.0.0.1:${(api.server.address() as { port: number }).port}`;
const webhookPath = `/webhooks/hubspot/${connection.name}`;

async function shutdown(): Promise<void> {
  await api.close().catch(() => undefined);
  await worker.shutdown().catch(() => undefined);
  await Promise.all([sf.close(), hs.close()]);
  await opened.close().catch(() => undefined);
  await env.teardown().catch(() => undefined);
}

// ---- the load ------------------------------------------------------------------------------------

let failure: string | undefined;
let load: autocannon.Result | undefined;
let lost: Array<{ company: string; expected: string; found: unknown }> = [];
try {
  log(`first sync of ${RECORDS} accounts`);
  const first = await runSyncAndWait(sync, connection, newRequest('manual'));
  if (first.status !== 'succeeded') throw new Error(`the first sync failed: ${first.error}`);
  const accountOf = new Map<string, string>();
  for (const v of sf.state.org.table('Account').byId.values()) {
    const company = hs.state.getByExternalId('companies', canonicalIdFor(`salesforce:${sf.orgId}`, 'Account', String(v.fields.Id)));
    if (!company) throw new Error(`account ${String(v.fields.Id)} has no HubSpot company after the first sync`);
    accountOf.set(company.id, String(v.fields.Id));
  }
  const companies = [...accountOf.keys()];
  const companyOfAccount = new Map([...accountOf].map(([c, a]) => [a, c]));
  sf.state.org.changeListeners.add((c: { object: string; version: { fields: Record<string, unknown> } }) => {
    if (c.object !== 'Account') return;
    const company = companyOfAccount.get(String(c.version.fields.Id));
    const rename = company ? renames.get(company)?.find((r) => r.value === c.version.fields.Name) : undefined;
    if (rename && rename.writtenAt === undefined) rename.writtenAt = Date.now();
  });

  log(`${RATE} webhooks/s for ${SECONDS} s, each after a rename in HubSpot, round-robin over ${RECORDS} companies`);
  let n = 0;
  const instance = autocannon({
    url: apiUrl,
    connections: 20,
    overallRate: RATE,
    duration: SECONDS,
    timeout: 10,
    requests: [{
      method: 'POST',
      path: webhookPath,
      setupRequest: (request) => {
        const companyId = companies[n % companies.length];
        const value = `load ${n++} ${randomBytes(3).toString('hex')}`;
        const record = hs.state.update('companies', companyId, { name: value });
        const now = Date.now();
        const body = JSON.stringify([{
          subscriptionType: subscriptionTypeOf('companies', 'propertyChange'), objectId: record.idNum, occurredAt: now,
          eventId: n, portalId: hs.portalId, propertyName: 'name', propertyValue: value, changeSource: 'CRM_UI',
        }]);
        const rename: Rename = { value, sentAt: now };
        idNumOf.set(companyId, String(record.idNum));
        (renames.get(companyId) ?? renames.set(companyId, []).get(companyId)!).push(rename);
        return {
          ...request, body,
          headers: { ...request.headers, 'content-type': 'application/json', ...signedHeaders({ clientSecret, method: 'POST', uri: `${apiUrl}${webhookPath}`, body, now }) },
        };
      },
    }],
  });
  load = await instance;
  log(`load done: ${load.requests.sent} sent, ${load['2xx']} answered 2xx, ${load.non2xx} other, ${load.errors} errors, ${load.timeouts} timeouts`);

  // Every company's last rename that reached the hub must end in Salesforce.
  const deadline = Date.now() + DRAIN_MS;
  const expectedOf = () => [...renames].map(([company, list]) => ({ company, expected: list.at(-1)!.value }));
  const found = (company: string) => sf.state.org.table('Account').byId.get(accountOf.get(company)!)?.fields.Name;
  while (Date.now() < deadline && expectedOf().some((e) => found(e.company) !== e.expected)) await sleep(100);
  lost = expectedOf().filter((e) => found(e.company) !== e.expected).map((e) => ({ ...e, found: found(e.company) }));
} catch (error) {
  failure = error instanceof Error ? error.message : String(error);
  log(`stopped early: ${failure}`);
} finally {
  await shutdown();
}

// ---- report --------------------------------------------------------------------------------------

// Webhook received → written: each rename written in Salesforce, from the first receipt naming its company after it was made.
const toWritten: number[] = [];
let superseded = 0;
let renameCount = 0;
for (const [company, list] of renames) {
  const receipts = receiptsOf.get(idNumOf.get(company) ?? '') ?? [];
  for (const r of list) {
    renameCount++;
    r.receivedAt = receipts.find((t) => t >= r.sentAt);
    if (r.writtenAt === undefined) { superseded++; continue; }
    if (r.receivedAt !== undefined) toWritten.push(Math.max(0, r.writtenAt - r.receivedAt));
  }
}
superseded -= lost.length;
const written = summarize(toWritten);
const fmt = (n: number) => (Number.isFinite(n) ? `${Math.round(n)} ms` : '—');
const TARGET = { answerP99: 50, writtenP50: 100, writtenP99: 500 };
console.log('');
if (load) {
  console.log(`webhooks sent ${load.requests.sent} at ${RATE}/s for ${SECONDS} s: 2xx ${load['2xx']}, other ${load.non2xx}, errors ${load.errors}, timeouts ${load.timeouts}`);
  console.log(`2xx answer (as the sender sees it): p50 ${fmt(load.latency.p50)}, p99 ${fmt(load.latency.p99)}, max ${fmt(load.latency.max)}   (target p99 ≤ ${TARGET.answerP99} ms)`);
}
const handling = summarize(handlingMs);
console.log(`  of which the handler (connection, credentials, signature, signal): p50 ${fmt(handling.p50)}, p99 ${fmt(handling.p99)}`);
console.log(`webhook received → written in Salesforce: p50 ${fmt(written.p50)}, p99 ${fmt(written.p99)}, max ${fmt(written.max)} over ${written.count} renames   (target p50 ≤ ${TARGET.writtenP50} ms, p99 ≤ ${TARGET.writtenP99} ms)`);
console.log(`renames ${renameCount}: written ${renameCount - superseded - lost.length}, superseded by a later rename before a cycle read them ${superseded}, lost ${lost.length}`);
for (const l of lost.slice(0, 10)) console.log(`  lost: company ${l.company} should be "${l.expected}", Salesforce has "${String(l.found)}"`);

const out = join(here, '..', 'results', 'reliability.json');
writeResults(out, {
  benchmark: 'webhook load: 2xx answer and webhook received → written, every accepted event synced',
  date: new Date().toISOString(),
  machine: machine(),
  config: { ratePerSecond: RATE, seconds: SECONDS, records: RECORDS, store: STORE, maxMinutes: MAX_MS / 60_000 },
  target: TARGET,
  ...(failure ? { failure } : {}),
  load: load ? { sent: load.requests.sent, '2xx': load['2xx'], non2xx: load.non2xx, errors: load.errors, timeouts: load.timeouts, answerMs: { p50: load.latency.p50, p99: load.latency.p99, max: load.latency.max } } : undefined,
  handlerMs: handling,
  receivedToWrittenMs: written,
  renames: renameCount,
  superseded,
  lost: lost.length,
});
console.log(`wrote ${out}`);
process.exit(failure || lost.length > 0 ? 1 : 0);
