/**
 * Webhook latency: how long after the hub receives a webhook the change is written in the other
 * system, with everything real but the CRMs — the Temporal dev server (the CLI binary), the store
 * (PGlite by default), the worker, the API with the webhook routes on a random port — and the two
 * sandboxes emitting signed webhooks as HubSpot and a Salesforce callout would.
 *
 *   ./ecosync bench latency [--events 200] [--rate 5] [--store pglite|postgres]
 *
 * After a first full sync, users edit records' names in both systems at once: N edits in
 * HubSpot and N in Salesforce, each stream spaced at --rate a second, on disjoint records (so the
 * two directions share cycles, as they would in production, without editing one record on both
 * sides). For each edit the clock runs from the webhook's receipt by the
 * API (its handler's first line) to the moment the sandbox on the other side stores the new
 * value (its change listener: exact, no polling). The edit → receipt part (the sender's 100 ms
 * batching window and the HTTP call) is reported apart. Prints a table, writes
 * bench/results/latency.json, and stops by itself (a hard deadline keeps it under 2 minutes).
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { hubspotSandboxConfig, startHubSpotSandbox } from '../../connectors/hubspot/sandbox/index.js';
import { salesforceSandboxConfig, startSalesforceSandbox } from '../../connectors/salesforce/sandbox/index.js';
import { buildApi } from '../../src/api/server.js';
import { webhooksPlugin, type WebhookReceipt } from '../../src/api/webhooks/index.js';
import { createActivities } from '../../src/runtime/activities.js';
import { bundleWorkflows, startWorker } from '../../src/runtime/worker.js';
import { newRequest, runSyncAndWait } from '../../src/service/sync-control.js';
import { canonicalIdFor } from '../../src/sync/ids.js';
import { startTestTemporal } from '../../test/support/temporal.js';
import { sandboxConnection } from '../support/connection.js';
import { writeResults } from '../support/results.js';
import { startWatchdog } from '../support/watchdog.js';
import { openBenchStore, quietTemporalLogs } from '../support/worker.js';
import { freshStore } from '../support/worker-process.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200' },
    rate: { type: 'string', default: '5' },
    store: { type: 'string', default: 'pglite' },
  },
});
const EVENTS = Number(args.events);
const RATE = Number(args.rate);
const STORE = args.store === 'postgres' ? 'postgres' : 'pglite';
/** Each direction's edits go round-robin over this many records, so a record is edited again only long after its last edit landed. */
const RECORDS = Math.max(1, Math.min(EVENTS, 100));
/** After the last edit of a direction, how long a change may still take before it counts as lost. */
const DRAIN_MS = 10_000;
const DEADLINE_MS = 115_000;
const started = Date.now();
const timeLeft = () => DEADLINE_MS - (Date.now() - started);


const log = (message: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + Math.min(timeoutMs, timeLeft());
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(20);
  }
}

// ---- statistics --------------------------------------------------------------------------------

interface Summary { count: number; p50: number; p90: number; p99: number; max: number; mean: number }

function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]);
  const mean = sorted.length === 0 ? NaN : sorted.reduce((s, v) => s + v, 0) / sorted.length;
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.at(-1) ?? NaN, mean: Math.round(mean) };
}

// ---- the hub -----------------------------------------------------------------------------------

quietTemporalLogs();
log(`starting: Temporal dev server, ${STORE} store, sandboxes, worker, API`);
const [env, bundle] = await Promise.all([startTestTemporal(), bundleWorkflows()]);
const opened = await openBenchStore(freshStore(STORE));
const store = opened.store;
const [sf, hs] = await Promise.all([
  startSalesforceSandbox({ accounts: 2 * RECORDS, contactsPerAccount: 0, opportunitiesPerAccount: 0 }),
  startHubSpotSandbox({ companies: 0 }),
]);
const taskQueue = `latency-${randomBytes(4).toString('hex')}`;
const silent = pino({ level: 'silent' });
const worker = await startWorker({
  address: env.address, namespace: env.namespace ?? 'default', taskQueue, workflowBundle: bundle,
  activities: createActivities({ store, client: env.client, taskQueue, log: silent }),
});
const sync = { client: env.client, taskQueue };

const hubspotSecret = randomBytes(24).toString('hex');
const salesforceSecret = randomBytes(24).toString('hex');
const connection = await store.connections.create(sandboxConnection({
  name: 'latency-bench', mode: 'bidirectional',
  credentials: {
    salesforce: { ...salesforceSandboxConfig(sf), webhookSecret: salesforceSecret },
    hubspot: { ...hubspotSandboxConfig(hs), clientSecret: hubspotSecret },
  },
}));

const receipts: WebhookReceipt[] = [];
const handlingMs: number[] = [];
const api = await buildApi({
  log: silent,
  health: async () => ({}),
  plugins: [webhooksPlugin({ store, sync, onAccepted: (r) => { receipts.push(r); handlingMs.push(Date.now() - r.receivedAt); } })],
});
await api.listen({ host: '127.0.0.1', port: 0 });
const apiUrl = `http://127.0.0.1:${(api.server.address() as { port: number }).port}`;

async function shutdown(): Promise<void> {
  hs.webhooks.configure(undefined);
  sf.webhooks.configure(undefined);
  await api.close().catch(() => undefined);
  await worker.shutdown().catch(() => undefined);
  await Promise.all([sf.close(), hs.close()]);
  await opened.close().catch(() => undefined);
  await env.teardown().catch(() => undefined);
}

startWatchdog(DEADLINE_MS + 5_000, `deadline of ${DEADLINE_MS / 1000} s reached: stopping`);

// ---- measurement ---------------------------------------------------------------------------------

interface Edit {
  /** The record's id in the system edited. */
  recordId: string;
  value: string;
  editedAt: number;
  receivedAt?: number;
  writtenAt?: number;
}

interface DirectionResult {
  direction: string;
  edits: number;
  landed: number;
  lost: number;
  /** Webhook received by the API → value stored in the other system (0 when a running cycle stored it first). */
  receiptToWrite: Summary;
  /** Edits a cycle already running picked up before their own webhook arrived. */
  landedBeforeWebhook: number;
  /** User's edit → webhook received (sender's batching window + HTTP). */
  editToReceipt: Summary;
  /** User's edit → value stored in the other system. */
  editToWrite: Summary;
}

async function measure(direction: string, system: 'hubspot' | 'salesforce', ids: string[], edit: (recordId: string, value: string) => void, watch: (onWrite: (recordId: string, value: string, at: number) => void) => () => void): Promise<DirectionResult> {
  const edits: Edit[] = [];
  // The other side's twin id → the edits waiting to appear there, by value.
  const waiting = new Map<string, Edit>();
  const stop = watch((twin, value, at) => {
    const e = waiting.get(`${twin}\u0000${value}`);
    if (e && e.writtenAt === undefined) e.writtenAt = at;
  });
  const firstReceipt = receipts.length;
  const spacing = 1000 / RATE;
  const t0 = Date.now();
  for (let i = 0; i < EVENTS && timeLeft() > DRAIN_MS; i++) {
    const due = t0 + i * spacing;
    if (due > Date.now()) await sleep(due - Date.now());
    const recordId = ids[i % ids.length];
    const value = `${direction} edit ${i} ${randomBytes(3).toString('hex')}`;
    const e: Edit = { recordId, value, editedAt: Date.now() };
    edits.push(e);
    waiting.set(`${twinOf(system, recordId)}\u0000${value}`, e);
    edit(recordId, value);
  }
  await waitFor(() => edits.every((e) => e.writtenAt !== undefined), DRAIN_MS, `${direction} changes to land`).catch((error: Error) => log(error.message));
  stop();
  // Every webhook sent is received before the sender counts it delivered.
  await (system === 'hubspot' ? hs.webhooks : sf.webhooks).idle();
  // The receipt of an edit: the first webhook from its system naming the record after the edit.
  for (const r of receipts.slice(firstReceipt)) {
    if (r.system !== system) continue;
    for (const e of edits) if (e.receivedAt === undefined && e.editedAt <= r.receivedAt && r.recordIds.includes(e.recordId)) e.receivedAt = r.receivedAt;
  }
  const landed = edits.filter((e) => e.writtenAt !== undefined && e.receivedAt !== undefined);
  return {
    direction,
    edits: edits.length,
    landed: landed.length,
    lost: edits.length - landed.length,
    receiptToWrite: summarize(landed.map((e) => Math.max(0, e.writtenAt! - e.receivedAt!))),
    landedBeforeWebhook: landed.filter((e) => e.writtenAt! < e.receivedAt!).length,
    editToReceipt: summarize(landed.map((e) => e.receivedAt! - e.editedAt)),
    editToWrite: summarize(landed.map((e) => e.writtenAt! - e.editedAt)),
  };
}

const accountIds = [...sf.state.org.table('Account').byId.values()].map((v) => String(v.fields.Id));
const companyOf = new Map<string, string>();
const accountOf = new Map<string, string>();
function twinOf(system: 'hubspot' | 'salesforce', id: string): string {
  return (system === 'hubspot' ? accountOf.get(id) : companyOf.get(id))!;
}

let results: DirectionResult[] = [];
let failure: string | undefined;
try {
  log(`first sync of ${2 * RECORDS} accounts`);
  const first = await runSyncAndWait(sync, connection, newRequest('manual'));
  if (first.status !== 'succeeded') throw new Error(`the first sync failed: ${first.error}`);
  for (const sfId of accountIds) {
    const company = hs.state.getByExternalId('companies', canonicalIdFor(`salesforce:${sf.orgId}`, 'Account', sfId));
    if (!company) throw new Error(`account ${sfId} has no HubSpot company after the first sync`);
    companyOf.set(sfId, company.id);
    accountOf.set(company.id, sfId);
  }
  hs.webhooks.configure({ targetUrl: `${apiUrl}/webhooks/hubspot/${connection.name}`, clientSecret: hubspotSecret });
  sf.webhooks.configure({ targetUrl: `${apiUrl}/webhooks/salesforce/${connection.name}`, secret: salesforceSecret });

  log(`${EVENTS} company renames in HubSpot and ${EVENTS} account renames in Salesforce, each at ${RATE}/s`);
  const companies = accountIds.slice(0, RECORDS).map((id) => companyOf.get(id)!);
  results = await Promise.all([measure('HubSpot → Salesforce', 'hubspot', companies,
    (companyId, value) => hs.state.update('companies', companyId, { name: value }),
    (onWrite) => {
      const listener = (c: { object: string; version: { fields: Record<string, unknown> } }) => {
        if (c.object === 'Account') onWrite(String(c.version.fields.Id), String(c.version.fields.Name), Date.now());
      };
      sf.state.org.changeListeners.add(listener);
      return () => sf.state.org.changeListeners.delete(listener);
    }),
  measure('Salesforce → HubSpot', 'salesforce', accountIds.slice(RECORDS),
    (accountId, value) => sf.state.update('Account', accountId, { Name: value }),
    (onWrite) => {
      const listener = (c: { type: string; record: { id: string; properties: Readonly<Record<string, string | null>> } }) => {
        if (c.type === 'companies') onWrite(c.record.id, String(c.record.properties.name), Date.now());
      };
      hs.state.changeListeners.add(listener);
      return () => hs.state.changeListeners.delete(listener);
    })]);
} catch (error) {
  failure = error instanceof Error ? error.message : String(error);
  log(`stopped early: ${failure}`);
} finally {
  await shutdown();
}

// ---- report --------------------------------------------------------------------------------------

const TARGET = { answerP99: 50, p50: 100, p99: 500 };
const fmt = (n: number) => (Number.isFinite(n) ? `${Math.round(n)} ms` : '—');
console.log('');
console.log(`direction               edits  lost   p50      p90      p99      max     (webhook received → written in the other system)`);
for (const r of results) {
  const s = r.receiptToWrite;
  console.log(`${r.direction.padEnd(22)} ${String(r.edits).padStart(6)} ${String(r.lost).padStart(5)}   ${fmt(s.p50).padEnd(8)} ${fmt(s.p90).padEnd(8)} ${fmt(s.p99).padEnd(8)} ${fmt(s.max)}`);
}
for (const r of results) {
  console.log(`${r.direction.padEnd(22)} user edit → written: p50 ${fmt(r.editToWrite.p50)}, p99 ${fmt(r.editToWrite.p99)}; edit → webhook received: p50 ${fmt(r.editToReceipt.p50)}; ${r.landedBeforeWebhook} written by a running cycle before their webhook arrived`);
}
const handling = summarize(handlingMs);
console.log(`webhook handling (lookup, signature, signal, 204): p50 ${fmt(handling.p50)}, p99 ${fmt(handling.p99)} over ${handling.count} requests`);
const answers = summarize([...hs.webhooks.answerMs, ...sf.webhooks.answerMs]);
console.log(`webhook 2xx answer as the senders saw it: p50 ${fmt(answers.p50)}, p99 ${fmt(answers.p99)}, max ${fmt(answers.max)} over ${answers.count} requests`);
const met = results.length === 2 && answers.p99 <= TARGET.answerP99 && results.every((r) => r.lost === 0 && r.receiptToWrite.p50 <= TARGET.p50 && r.receiptToWrite.p99 <= TARGET.p99);
console.log(`target: answer p99 ≤ ${TARGET.answerP99} ms, received → written p50 ≤ ${TARGET.p50} ms and p99 ≤ ${TARGET.p99} ms, nothing lost: ${met ? 'met' : 'NOT met'}`);

const out = join(here, '..', 'results', 'latency.json');
writeResults(out, {
  benchmark: 'webhook received → record written in the other system',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
  config: { events: EVENTS, ratePerSecond: RATE, store: STORE, records: RECORDS, senderBatchWindowMs: 100 },
  target: TARGET,
  met,
  ...(failure ? { failure } : {}),
  webhookHandlingMs: handling,
  webhookAnswerMs: answers,
  directions: results,
});
console.log(`wrote ${out}`);
process.exit(failure || !met ? 1 : 0);
