import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubSpotSandbox, type HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.js';
import { startSalesforceSandbox, type SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.js';
import { newRequest, runSyncAndWait } from '../../src/service/sync-control.js';
import { openTestStore, TEST_DATABASE_URL, TEST_KEY, type TestStore } from '../store/stores.js';
import { CRM_HUB, crmCredentials } from '../support/hub.js';
import { freePort, startCli, type CliRun } from '../support/process.js';
import { eventually, startTestTemporal } from '../support/temporal.js';

/** An `ecosync worker` process, the production command, and where it serves its metrics. */
interface WorkerProcess {
  run: CliRun;
  metricsUrl: string;
}

async function startWorkers(count: number, env: Record<string, string>): Promise<WorkerProcess[]> {
  const workers = await Promise.all(Array.from({ length: count }, async () => {
    const port = await freePort();
    const run = startCli(['worker'], { ...env, ECOSYNC_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ecosync-worker-')), ECOSYNC_METRICS_PORT: String(port) });
    return { run, metricsUrl: `http://127.0.0.1:${port}/metrics` };
  }));
  for (const w of workers) {
    await eventually(async () => w.run.output().includes('Press Ctrl-C to stop.'), 120_000, `a worker to start; output so far:\n${w.run.output()}`);
    expect(w.run.output()).toContain(`Metrics       ${w.metricsUrl}`);
    // A worker alone answers a health check beside its metrics.
    expect(await (await fetch(w.metricsUrl.replace(/\/metrics$/, '/healthz'))).json()).toMatchObject({ status: 'ok', parts: { store: 'ok', temporal: 'ok', worker: 'ok' } });
  }
  return workers;
}

async function stopWorkers(workers: WorkerProcess[]): Promise<void> {
  for (const w of workers) w.run.child.kill('SIGINT');
  await Promise.all(workers.map((w) => w.run.exited));
}

/** Activities a worker process ran, by type, from its own /metrics (the Temporal SDK's counts). */
async function activitiesRan(worker: WorkerProcess, taskQueue: string): Promise<Record<string, number>> {
  const text = await (await fetch(worker.metricsUrl)).text();
  const ran: Record<string, number> = {};
  for (const m of text.matchAll(/^temporal_activity_execution_latency_count\{([^}]*)\} (\d+)/gm)) {
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (labels.task_queue === taskQueue) ran[labels.activity_type] = (ran[labels.activity_type] ?? 0) + Number(m[2]);
  }
  return ran;
}

interface Scenario {
  db: TestStore;
  sf: SalesforceSandbox;
  hs: HubSpotSandbox;
  taskQueue: string;
  workers: WorkerProcess[];
}

/**
 * The same hub and the same user edits, synced by `workers` worker processes on one task queue,
 * one Temporal server and one PostgreSQL schema.
 */
async function runScenario(env: TestWorkflowEnvironment, workers: number): Promise<Scenario> {
  const [db, sf, hs] = await Promise.all([
    openTestStore('postgres'),
    startSalesforceSandbox({ accounts: 24, contactsPerAccount: 1, opportunitiesPerAccount: 1 }),
    startHubSpotSandbox({ companies: 12 }),
  ]);
  const taskQueue = `scale-${randomUUID()}`;
  const scenario: Scenario = { db, sf, hs, taskQueue, workers: [] };
  scenario.workers = await startWorkers(workers, {
    TEMPORAL_ADDRESS: env.address, DATABASE_URL: TEST_DATABASE_URL, ECOSYNC_DATABASE_SCHEMA: db.schema!,
    ECOSYNC_SECRET_KEY: TEST_KEY, ECOSYNC_TASK_QUEUE: taskQueue,
  });
  const connection = await db.store.connections.create({ name: 'scale-out', ...CRM_HUB, deletePolicy: 'propagate', credentials: crmCredentials(sf, hs) });
  const control = { client: env.client, taskQueue };
  const sync = async () => {
    const run = await runSyncAndWait(control, connection, newRequest('manual'));
    expect(run.status, run.error).toBe('succeeded');
    return run;
  };

  await sync();
  // Users edit both sides between cycles: renames, a new phone, a deletion.
  const accounts = [...sf.state.org.table('Account').byId.values()].map((v) => String(v.fields.Id)).sort();
  for (const id of accounts.slice(0, 6)) sf.state.update('Account', id, { Name: `Renamed in Salesforce ${id}` });
  sf.state.delete('Account', accounts[6]);
  const companies = hs.state.live('companies').map((c) => c.id).sort((a, b) => Number(a) - Number(b));
  for (const id of companies.slice(0, 6)) hs.state.update('companies', id, { phone: `+1 555 01${id.padStart(2, '0').slice(-2)}` });
  await sync();
  // Settled: another cycle writes nothing.
  const settled = await sync();
  expect(settled.counters).toMatchObject({ created: 0, updated: 0, deleted: 0, failed: 0 });
  return scenario;
}

/** What a scenario left behind, without ids or times that depend on who wrote first. */
async function endState({ db, sf, hs }: Scenario) {
  const records = await db.store.db.query<{ entity: string; id: string; hash: string; deleted: boolean }>(
    'SELECT entity, canonical_id::text AS id, content_hash AS hash, deleted FROM records ORDER BY entity, canonical_id',
  );
  const sfRows = (object: string, fields: string[]) => sf.state.org.table(object).changeIndex().filter((v) => !v.fields.IsDeleted)
    .map((v) => fields.map((f) => String(v.fields[f] ?? ''))).map((row) => row.join(' | ')).sort();
  const hsRows = (type: string, fields: string[]) => hs.state.live(type).map((r) => fields.map((f) => r.properties[f] ?? '').join(' | ')).sort();
  return {
    records,
    deadLetters: (await db.store.deadLetters.list({ status: 'open' })).length,
    conflicts: (await db.store.conflicts.list({ status: 'open' })).length,
    salesforce: {
      Account: sfRows('Account', ['Name', 'Industry', 'Phone', 'Website']),
      Contact: sfRows('Contact', ['FirstName', 'LastName', 'Email']),
      Opportunity: sfRows('Opportunity', ['Name', 'Amount', 'StageName', 'CloseDate']),
    },
    hubspot: {
      companies: hsRows('companies', ['name', 'domain', 'industry', 'phone']),
      contacts: hsRows('contacts', ['firstname', 'lastname', 'email']),
      deals: hsRows('deals', ['dealname', 'amount', 'dealstage', 'closedate']),
    },
  };
}

async function closeScenario(s: Scenario | undefined): Promise<void> {
  if (!s) return;
  await stopWorkers(s.workers);
  await Promise.all([s.sf.close(), s.hs.close()]);
  await s.db.close();
}

describe('scale-out: worker processes on one task queue, one Temporal server, one PostgreSQL', () => {
  let env: TestWorkflowEnvironment;
  const scenarios: Scenario[] = [];
  // Without eager activity execution: with it, a cycle's page activities run on the worker that
  // runs the connection's workflow (connections spread over the workers, one connection stays on
  // one); here one connection's activities must go through the task queue to be shared.
  beforeAll(async () => { env = await startTestTemporal({ eagerActivities: false }); });
  afterAll(async () => {
    for (const s of scenarios) await closeScenario(s);
    await env?.teardown();
  });

  it('two `ecosync worker` processes share the work and leave the same end state as one', async () => {
    const one = await runScenario(env, 1);
    scenarios.push(one);
    const two = await runScenario(env, 2);
    scenarios.push(two);

    // Both processes ran sync activities.
    const ran = await Promise.all(two.workers.map((w) => activitiesRan(w, two.taskQueue)));
    for (const r of ran) expect(r.syncPage ?? 0, JSON.stringify(ran)).toBeGreaterThan(0);

    const [alone, shared] = [await endState(one), await endState(two)];
    expect(alone.records.length).toBeGreaterThan(24 * 3);
    expect(alone.deadLetters + alone.conflicts).toBe(0);
    expect(shared).toEqual(alone);
  }, 400_000);
});
