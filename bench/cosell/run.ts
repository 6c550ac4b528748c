/**
 * Co-sell through the whole pipeline: the co-sell workflow on a real Temporal dev server (the CLI
 * binary), the production activities (src/runtime/activities.ts) in a worker process with a real
 * store, the AWS Partner Central and Microsoft Partner Center sandboxes with their review clocks
 * at zero, and a Salesforce ⇄ HubSpot connection (the shipped mappings) holding the clouds'
 * credentials, whose Salesforce opportunities receive the co-sell status.
 *
 *   ./ecosync bench cosell [--count 50] [--concurrency 10] [--cloud aws|azure|both]
 *        [--pacing both|on|off] [--store postgres|pglite] [--max-minutes 15]
 *
 * Per scenario (a fresh Temporal server, store and sandboxes), N customers are put in Salesforce
 * and synced to HubSpot, then co-sold C at a time as people would: the alliance manager submits
 * through the API's submit call (the snapshot read from the store), the deal desk approves, the
 * alliance lead approves as well when the amount is 100,000 USD or more (the shipped settings'
 * policy; half the co-sells are), and the cloud's review approves at once. The status reaches
 * Salesforce and HubSpot through the sync layer. AWS runs twice: without write pacing (client
 * and sandbox unlimited) and with AWS's real rates (the client's default pacing of 1 write and
 * 10 reads a second, the sandbox throttling above them).
 *
 * Measured: calls to the cloud by operation (sandbox counters) against the minimum, CRM writes
 * per co-sell, latency from the last approval to done and from submit to done, co-sells per
 * minute, workflow history events, the worker's peak RSS (sampled every 100 ms).
 *
 * Prints a table and writes bench/results/cosell.json. Stops by itself (--max-minutes).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { isWriteOperation, startPartnerCentralSandbox, type PartnerCentralSandbox } from '../../connectors/aws-partner-central/sandbox/index.js';
import { startHubSpotSandbox, type HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.js';
import { startMicrosoftSandbox, type MicrosoftSandbox } from '../../connectors/microsoft-partner-center/index.js';
import { startSalesforceSandbox, type SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.js';
import type { CoSellCloud } from '../../src/model/index.js';
import { defaultCoSellSettings } from '../../src/runtime/config.js';
import { cloudSandboxCredentials, sandboxCredentials } from '../../src/runtime/demo.js';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import type { Connection as StoreConnection } from '../../src/store/index.js';
import { newRequest, runSyncAndWait } from '../../src/service/sync-control.js';
import type { SubmitResult } from '../../src/service/cosell-control.js';
import { approveUpdate, type coSellWorkflow, stateQuery } from '../../workflows/cosell.js';
import type { CoSellView } from '../../workflows/cosell-types.js';
import { callsBetween } from '../../test/cosell/support.js';
import { sandboxConnection } from '../support/connection.js';
import { HUBSPOT_WRITE, mb, SALESFORCE_WRITE, sumMatching } from '../support/figures.js';
import { countHistory } from '../support/history.js';
import { machine, writeResults } from '../support/results.js';
import { startBenchTemporal, type BenchTemporal } from '../support/temporal.js';
import { startWatchdog } from '../support/watchdog.js';
import { closeOnFailure, freshStore, WorkerProcess } from '../support/worker-process.js';
import {
  AWS_MINIMUM, MICROSOFT_MINIMUM, WHY_EXTRA, awsCalls, awsErrors, extraCalls, microsoftCalls, microsoftErrors, perCoSell, summarize, type Summary,
} from './figures.js';
import type { WorkerRequest, WorkerStats } from './worker-process.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '10' },
    cloud: { type: 'string', default: 'both' },
    pacing: { type: 'string', default: 'both' },
    store: { type: 'string', default: 'postgres' },
    'max-minutes': { type: 'string', default: '15' },
    out: { type: 'string', default: 'bench/results/cosell.json' },
  },
});
const COUNT = Number(args.count);
const CONCURRENCY = Math.max(1, Number(args.concurrency));
const STORE = args.store as 'postgres' | 'pglite';
if (!Number.isInteger(COUNT) || COUNT < 1) throw new Error(`--count must be a positive integer, not ${args.count}`);
if (!['aws', 'azure', 'both'].includes(args.cloud)) throw new Error(`--cloud must be aws, azure or both, not ${args.cloud}`);
if (!['on', 'off', 'both'].includes(args.pacing)) throw new Error(`--pacing must be on, off or both, not ${args.pacing}`);
if (STORE !== 'postgres' && STORE !== 'pglite') throw new Error(`--store must be postgres or pglite, not ${args.store}`);

/** What `ecosync up` runs with: the demo's policy and people, the clouds' defaults, review polling. */
const SETTINGS = defaultCoSellSettings();
/** The first user the policy gives one of the stage's roles: deal desk, then alliance lead. */
function approverFor(stage: string): string | undefined {
  const roles = SETTINGS.policy.stages.find((st) => st.name === stage)?.roles ?? [];
  return Object.entries(SETTINGS.policy.users).find(([, held]) => held.some((r) => roles.includes(r)))?.[0];
}
/** The configured solutions; Microsoft's sandbox takes any id where none is configured. */
const SOLUTIONS: Record<CoSellCloud, string[]> = {
  aws: SETTINGS.aws.solutionIds,
  azure: SETTINGS.azure.solutionIds.length > 0 ? SETTINGS.azure.solutionIds : ['SOL-12345-ECO'],
};
/** Every other co-sell is above the alliance lead's threshold (100,000 USD). */
const AMOUNTS = ['250000.00', '45000.00'];
/** How often the approver looks whether the co-sell is waiting for them. */
const APPROVER_POLL_MS = 25;

interface Scenario {
  name: string;
  cloud: CoSellCloud;
  /** AWS's real rates (client pacing and sandbox throttling) when true; unlimited when false. */
  paced: boolean;
}

// ---- shared infrastructure -----------------------------------------------------------------------

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const scratch = mkdtempSync(path.join(tmpdir(), 'ecosync-bench-cosell-'));
let temporal: BenchTemporal | undefined;

const watchdog = startWatchdog(Number(args['max-minutes']) * 60_000, `stopped: the benchmark passed --max-minutes ${args['max-minutes']}`);

const loadAtStart = loadavg();
const t = performance.now();
const bundle = await bundleWorkflows();
console.log(`workflow bundle ready in ${((performance.now() - t) / 1000).toFixed(1)} s`);
let client: Client;

/**
 * A fresh Temporal dev server for each scenario: Salesforce sandboxes number their records from
 * the same serial, so the same opportunity ids (and co-sell workflow ids) come back every scenario.
 */
async function freshTemporal(): Promise<void> {
  await stopTemporal();
  const started = performance.now();
  temporal = await startBenchTemporal(mkdtempSync(path.join(scratch, 'temporal-')));
  client = temporal.client;
  console.log(`  Temporal dev server ${temporal.server.address} ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

async function stopTemporal(): Promise<void> {
  await temporal?.stop();
  temporal = undefined;
}

// ---- one hub: sandboxes here, the worker in a child process --------------------------------------

class CoSellBenchHub {
  connection!: StoreConnection;
  readonly taskQueue = `bench-cosell-${randomUUID()}`;

  private constructor(
    readonly sf: SalesforceSandbox,
    readonly hs: HubSpotSandbox,
    readonly aws: PartnerCentralSandbox,
    readonly ms: MicrosoftSandbox,
    readonly worker: WorkerProcess<WorkerRequest>,
  ) {}

  static async start(s: Scenario): Promise<CoSellBenchHub> {
    // AWS's real rates are the sandbox's and the client's defaults; 0 turns both off.
    const awsRates = s.paced ? {} : { writeRatePerSec: 0, readRatePerSec: 0 };
    const [sf, hs, aws, ms] = await Promise.all([
      startSalesforceSandbox({ accounts: 0, apiLimit: 10_000_000 }),
      startHubSpotSandbox({ companies: 0 }),
      startPartnerCentralSandbox({ reviewDelayMs: 0, ...awsRates }),
      startMicrosoftSandbox({ dataDir: mkdtempSync(path.join(scratch, 'ms-')), decisionDelayMs: 0, incoming: 0 }),
    ]);
    const hub = new CoSellBenchHub(sf, hs, aws, ms, new WorkerProcess<WorkerRequest>(new URL('./worker-process.ts', import.meta.url)));
    const clouds = cloudSandboxCredentials(aws, ms);
    const connection = sandboxConnection({
      name: `bench-cosell-${randomUUID().slice(0, 8)}`,
      mode: 'bidirectional',
      credentials: {
        ...sandboxCredentials(sf, hs),
        ...clouds,
        'aws-partner-central': { ...clouds['aws-partner-central'], ...(s.paced ? {} : { writesPerSecond: 0, readsPerSecond: 0 }) },
      },
    });
    const init = { store: freshStore(STORE), address: temporal!.server.address, namespace: 'default', taskQueue: hub.taskQueue, bundle, connection };
    hub.connection = await closeOnFailure(hub, () => hub.worker.init(init));
    return hub;
  }

  call(request: WorkerRequest): Promise<unknown> {
    return this.worker.call(request);
  }

  async close(): Promise<void> {
    await this.worker.close();
    await Promise.all([this.sf.close(), this.hs.close(), this.aws.close(), this.ms.close()]);
  }
}

// ---- one co-sell, driven as the people in it would ------------------------------------------------

interface CoSellTiming {
  workflowId: string;
  approvals: number;
  status: string;
  cloudStatus?: string;
  externalId?: string;
  crmId: string;
  /** Milliseconds from the submission. */
  awaitingApprovalMs: number;
  lastApprovalMs: number;
  doneMs: number;
  submittedAt: number;
  doneAt: number;
  historyEvents?: number;
}

/** One customer in Salesforce: an account, its contact and the opportunity co-sold. */
function seedCustomer(sf: SalesforceSandbox, index: number): string {
  const account = sf.state.insert('Account', {
    Name: `Bench Customer ${index}`, Website: `https://www.bench-customer-${index}.example.com`, Industry: 'Technology',
    BillingStreet: '410 Terry Ave N', BillingCity: 'Seattle', BillingState: 'Washington', BillingPostalCode: '98101', BillingCountryCode: 'US',
  });
  sf.state.insert('Contact', { FirstName: 'Ada', LastName: `Lovelace ${index}`, Email: `ada@bench-customer-${index}.example.com`, Phone: '+1 555 200 1000', Title: 'CTO', AccountId: account.Id });
  const opportunity = sf.state.insert('Opportunity', {
    Name: `Real-time analytics ${index}`, StageName: 'Qualification', Type: 'New Customer', AccountId: account.Id,
    CloseDate: new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10), Amount: Number(AMOUNTS[index % AMOUNTS.length]),
    Description: 'Nightly batch reports arrive too late for store managers; they want sales analytics within minutes.',
  });
  return String(opportunity.Id);
}

/** Polls the co-sell's state (as an approver's inbox would) until it holds. */
async function until(handle: { query: (q: typeof stateQuery) => Promise<CoSellView> }, check: (v: CoSellView) => boolean, what: string, timeoutMs = 120_000): Promise<CoSellView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await handle.query(stateQuery);
    if (check(view)) return view;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}; last state ${view.status} (${view.lastError?.message ?? 'no error'})`);
    await sleep(APPROVER_POLL_MS);
  }
}

async function runCoSell(hub: CoSellBenchHub, cloud: CoSellCloud, crmId: string): Promise<CoSellTiming> {
  const submittedAt = Date.now();
  const submitted = await hub.call({ method: 'submit', args: {
    connection: hub.connection.name, opportunity: { system: 'salesforce', object: 'Opportunity', externalId: crmId }, cloud,
    requestedBy: SETTINGS.requester, options: { solutionIds: SOLUTIONS[cloud] },
  } }) as SubmitResult;
  const handle = client.workflow.getHandle<typeof coSellWorkflow>(submitted.workflowId);
  let view = await until(handle, (v) => v.status === 'pending_approval' || v.phase === 'done', 'the first approval stage');
  const awaitingApprovalAt = Date.now();
  let approvals = 0;
  let lastApprovalAt = awaitingApprovalAt;
  while (view.phase === 'approval' && view.currentStage) {
    const by = approverFor(view.currentStage);
    if (!by) throw new Error(`no approver for stage ${view.currentStage}`);
    lastApprovalAt = Date.now();
    view = await handle.executeUpdate(approveUpdate, { args: [{ by, stage: view.currentStage }] });
    approvals++;
  }
  const done = await handle.result();
  const doneAt = Date.now();
  return {
    workflowId: handle.workflowId, approvals, status: done.status, cloudStatus: done.cloudStatus,
    externalId: done.externalId, crmId, submittedAt, doneAt,
    awaitingApprovalMs: awaitingApprovalAt - submittedAt, lastApprovalMs: lastApprovalAt - submittedAt, doneMs: doneAt - submittedAt,
  };
}

/** Runs `count` jobs, at most `concurrency` at a time, in order of index. */
async function pool<T>(count: number, concurrency: number, job: (index: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++;
      out[i] = await job(i);
    }
  }));
  return out;
}

// ---- one scenario --------------------------------------------------------------------------------

async function runScenario(s: Scenario) {
  console.log(`\n▶ ${s.name}: ${COUNT} co-sells, ${CONCURRENCY} at a time (${STORE})`);
  await freshTemporal();
  const hub = await CoSellBenchHub.start(s);
  const checks: { what: string; ok: boolean }[] = [];
  const check = (what: string, ok: boolean) => { checks.push({ what, ok }); if (!ok) console.log(`  ✗ ${what}`); };
  try {
    // The customers reach ecosync as production's do: a sync of the connection, which links each
    // Salesforce record to a HubSpot one; the co-sell status is then written to both.
    const crmIds = Array.from({ length: COUNT }, (_, i) => seedCustomer(hub.sf, i));
    const synced = await runSyncAndWait({ client, taskQueue: hub.taskQueue }, hub.connection, newRequest('manual'));
    if (synced.status !== 'succeeded') throw new Error(`the first sync failed: ${synced.error}`);
    console.log(`  ${COUNT} accounts, contacts and opportunities synced from Salesforce to HubSpot`);
    const cloudCounters = () => (s.cloud === 'aws' ? hub.aws.counters.snapshot() : hub.ms.counters.snapshot());
    const before = { cloud: cloudCounters(), sf: hub.sf.counters.snapshot(), hs: hub.hs.counters.snapshot() };
    const workerBefore = await hub.call({ method: 'reset' }) as WorkerStats;
    const started = Date.now();
    const coSells = await pool(COUNT, CONCURRENCY, (i) => runCoSell(hub, s.cloud, crmIds[i]));
    const wallMs = Date.now() - started;
    const worker = await hub.call({ method: 'stats' }) as WorkerStats;
    const cloudAll = callsBetween(before.cloud, cloudCounters());
    const cloud = s.cloud === 'aws' ? awsCalls(cloudAll) : microsoftCalls(cloudAll);
    const cloudErrors = s.cloud === 'aws' ? awsErrors(cloudAll) : microsoftErrors(cloudAll);
    const sf = callsBetween(before.sf, hub.sf.counters.snapshot());
    const hs = callsBetween(before.hs, hub.hs.counters.snapshot());
    for (const c of coSells) c.historyEvents = (await countHistory(client, c.workflowId)).events;

    // What the clouds and Salesforce hold at the end.
    const approved = coSells.filter((c) => c.status === 'approved').length;
    check(`every co-sell approved (${approved}/${COUNT})`, approved === COUNT);
    if (s.cloud === 'aws') {
      const inAws = hub.aws.state.list('Sandbox').filter((o) => o.LifeCycle?.ReviewStatus === 'Approved').length;
      check(`AWS holds one approved opportunity per co-sell (${inAws}/${COUNT})`, inAws === COUNT);
    } else {
      const inMicrosoft = hub.ms.state.referrals().filter((r) => r.status === 'Active' && r.substatus === 'Accepted').length;
      check(`Microsoft holds one accepted referral per co-sell (${inMicrosoft}/${COUNT})`, inMicrosoft === COUNT);
    }
    const shown = coSells.filter((c) => hub.sf.state.get('Opportunity', c.crmId)?.Ecosync_CoSell_Status__c === 'Approved').length;
    check(`Salesforce shows every co-sell approved (${shown}/${COUNT})`, shown === COUNT);
    const deals = hub.hs.state.live('deals').filter((d) => d.properties.ecosync_cosell_status === 'approved').length;
    check(`HubSpot shows every co-sell approved (${deals}/${COUNT})`, deals === COUNT);

    const minimum = s.cloud === 'aws' ? AWS_MINIMUM : MICROSOFT_MINIMUM;
    const sfWrites = sumMatching(sf, SALESFORCE_WRITE);
    const hsWrites = sumMatching(hs, HUBSPOT_WRITE);
    const approvalsDone = coSells.reduce((n, c) => n + c.approvals, 0);
    // With AWS's real rates, writes bound the throughput: 1 a second per account.
    const awsWrites = Object.entries(cloud).filter(([op]) => isWriteOperation(op)).reduce((n, [, v]) => n + v, 0) / COUNT;
    const writeCeilingPerMinute = s.cloud === 'aws' && s.paced ? { writesPerCoSell: awsWrites, coSells: Math.round((60 / awsWrites) * 10) / 10 } : undefined;
    const result = {
      name: s.name,
      cloud: s.cloud,
      paced: s.paced,
      count: COUNT,
      concurrency: CONCURRENCY,
      store: STORE,
      wallMs,
      coSellsPerMinute: Math.round((COUNT / (wallMs / 60_000)) * 10) / 10,
      approvalsPerCoSell: approvalsDone / COUNT,
      writeCeilingPerMinute,
      cloudCalls: {
        total: cloud,
        perCoSell: perCoSell(cloud, COUNT),
        minimumPerCoSell: minimum,
        extraPerCoSell: extraCalls(perCoSell(cloud, COUNT), minimum),
        /** Refused calls (throttles, errors), included in the counts above. */
        errors: cloudErrors,
      },
      crmWrites: {
        salesforce: sfWrites, salesforcePerCoSell: sfWrites / COUNT, hubspot: hsWrites, hubspotPerCoSell: hsWrites / COUNT,
        salesforceCalls: sf, hubspotCalls: hs,
      },
      latencyMs: {
        lastApprovalToDone: summarize(coSells.map((c) => c.doneMs - c.lastApprovalMs)),
        submitToDone: summarize(coSells.map((c) => c.doneMs)),
        submitToAwaitingApproval: summarize(coSells.map((c) => c.awaitingApprovalMs)),
      },
      historyEvents: summarize(coSells.map((c) => c.historyEvents ?? NaN)),
      worker: { startRssMb: mb(workerBefore.rss), peakRssMb: mb(worker.peakRss), endRssMb: mb(worker.rss), heapUsedMb: mb(worker.heapUsed), cpuMs: worker.cpuMs },
      checks,
    };
    const l = result.latencyMs;
    console.log(`  ${result.coSellsPerMinute} co-sells/min (${(wallMs / 1000).toFixed(1)} s); calls per co-sell ${sumValues(result.cloudCalls.perCoSell)} (minimum ${sumValues(minimum)}): ${JSON.stringify(result.cloudCalls.perCoSell)}`);
    console.log(`  last approval → done p50 ${l.lastApprovalToDone.p50} ms, p95 ${l.lastApprovalToDone.p95} ms, max ${l.lastApprovalToDone.max} ms; submit → done p50 ${l.submitToDone.p50} ms, p95 ${l.submitToDone.p95} ms, max ${l.submitToDone.max} ms`);
    console.log(`  Salesforce writes per co-sell ${result.crmWrites.salesforcePerCoSell}, HubSpot ${result.crmWrites.hubspotPerCoSell}; history ${result.historyEvents.p50} events (max ${result.historyEvents.max}); worker peak RSS ${result.worker.peakRssMb} MB, CPU ${worker.cpuMs} ms`);
    return result;
  } finally {
    await hub.close();
  }
}

const sumValues = (o: Record<string, number>) => Math.round(Object.values(o).reduce((a, b) => a + b, 0) * 100) / 100;

// ---- the runs ------------------------------------------------------------------------------------

const scenarios: Scenario[] = [];
if (args.cloud !== 'azure') {
  if (args.pacing !== 'on') scenarios.push({ name: 'AWS, no write pacing', cloud: 'aws', paced: false });
  if (args.pacing !== 'off') scenarios.push({ name: 'AWS, real rates (1 write/s)', cloud: 'aws', paced: true });
}
if (args.cloud !== 'aws') scenarios.push({ name: 'Microsoft', cloud: 'azure', paced: false });

type Result = Awaited<ReturnType<typeof runScenario>>;
const results: Result[] = [];
let failure: string | undefined;
try {
  for (const s of scenarios) results.push(await runScenario(s));
} catch (error) {
  failure = error instanceof Error ? error.stack ?? error.message : String(error);
  console.error(`stopped early: ${failure}`);
} finally {
  await stopTemporal();
  rmSync(scratch, { recursive: true, force: true });
}

// ---- report ------------------------------------------------------------------------------------

const ms = (s: Summary) => `${s.p50} / ${s.p95} / ${s.max}`;
console.log();
console.table(results.map((r) => ({
  run: r.name,
  'co-sells/min': r.coSellsPerMinute,
  'cloud calls/co-sell (min)': `${sumValues(r.cloudCalls.perCoSell)} (${sumValues(r.cloudCalls.minimumPerCoSell)})`,
  'SF writes/co-sell': r.crmWrites.salesforcePerCoSell,
  'HS writes/co-sell': r.crmWrites.hubspotPerCoSell,
  'last approval → done ms p50/p95/max': ms(r.latencyMs.lastApprovalToDone),
  'submit → done ms p50/p95/max': ms(r.latencyMs.submitToDone),
  'history events p50/max': `${r.historyEvents.p50}/${r.historyEvents.max}`,
  'worker peak RSS MB': r.worker.peakRssMb,
})));
for (const r of results) {
  const extra = Object.entries(r.cloudCalls.extraPerCoSell);
  console.log(`\n${r.name}: calls per co-sell ${JSON.stringify(r.cloudCalls.perCoSell)}${extra.length > 0 ? '' : ', exactly the minimum'}`);
  for (const [op, n] of extra) {
    const refused = Object.entries(r.cloudCalls.errors).filter(([name]) => name.startsWith(`${op}.`)).map(([name, k]) => `${k} ${name.slice(op.length + 1)}`);
    const why = [WHY_EXTRA[op], refused.length > 0 ? `refused and retried: ${refused.join(', ')} in the whole run` : undefined].filter(Boolean).join('; ');
    console.log(`  ${n > 0 ? '+' : ''}${n} ${op}: ${why || 'not explained: look at the client'}`);
  }
  if (Object.keys(r.cloudCalls.errors).length > 0) console.log(`  refused calls (included above): ${JSON.stringify(r.cloudCalls.errors)}`);
  if (r.writeCeilingPerMinute) console.log(`  at AWS's write rate a co-sell's ${r.writeCeilingPerMinute.writesPerCoSell} writes allow at most ${r.writeCeilingPerMinute.coSells} co-sells/min; the run reached ${Math.round((r.coSellsPerMinute / r.writeCeilingPerMinute.coSells) * 100)} % of that`);
}

const out = path.resolve(ROOT, args.out);
writeResults(out, {
  benchmark: 'cosell',
  date: new Date().toISOString(),
  machine: { ...machine(), loadavgAtStart: loadAtStart, loadavgAtEnd: loadavg() },
  setup: 'Salesforce, HubSpot, AWS Partner Central (review delay 0) and Microsoft Partner Center (decision delay 0) sandboxes and this driver in one process; the worker (store, production activities, Temporal worker) in a child process; Temporal CLI dev server (SQLite file)',
  policy: 'deal desk always, alliance lead from 100,000 USD; amounts alternate 250,000 and 45,000 USD',
  ...(failure ? { failure } : {}),
  runs: results,
});
console.log(`\nwrote ${path.relative(process.cwd(), out)}`);
clearTimeout(watchdog);
const failed = failure !== undefined || results.some((r) => r.checks.some((c) => !c.ok));
process.exit(failed ? 1 : 0);
