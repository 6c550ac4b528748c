import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/runtime/activities.js';
import { bundleWorkflows, startWorker, type RunningWorker } from '../../src/runtime/worker.js';
import { meteringStatus, wakeMetering } from '../../src/service/metering-control.js';
import { meteringWorkflowId } from '../../workflows/metering-types.js';
import { SA } from '../../workflows/search-attributes.js';
import { openTestStore, type TestStore } from '../store/stores.js';
import { eventually, startTestTemporal } from '../support/temporal.js';
import { workerProcesses } from '../support/worker-processes.js';
import { hourAgo, meteringConnection, minimalCalls, post, recordAgreements, startApi, startAwsMetering, usageEvents } from './rig.js';

/**
 * The metering workflow on real Temporal, a real PostgreSQL store and the AWS Marketplace sandbox
 * through the official SDK: usage reported through the API becomes the fewest BatchMeterUsage
 * calls that can carry it, each customer's hour once, even when the worker dies mid-run.
 */
let env: TestWorkflowEnvironment;
let bundle: Awaited<ReturnType<typeof bundleWorkflows>>;
beforeAll(async () => {
  [env, bundle] = await Promise.all([startTestTemporal(), bundleWorkflows()]);
}, 120_000);
afterAll(async () => {
  await env?.teardown();
});

/** Each test its own task queue; the workflow sends closed hours at once and waits 2 s after the last ingest. */
const SETTINGS = { graceMs: 0, quietMs: 2_000 };

describe('metering usage to AWS Marketplace', () => {
  it('10,000 usage events over 100 customers × 4 dimensions become the fewest calls, each hour once; late usage and usage without a customer become dead letters, the latter replayable', async () => {
    const aws = await startAwsMetering(101);
    const db = await openTestStore('postgres');
    const taskQueue = `metering-${Date.now()}`;
    let worker: RunningWorker | undefined;
    try {
      worker = await startWorker({
        address: env.address, namespace: 'default', taskQueue, workflowBundle: bundle,
        activities: createActivities({ store: db.store, client: env.client, taskQueue, log: pino({ level: 'silent' }) }),
      });
      const [latecomer] = aws.customers.splice(100);
      const connection = await meteringConnection(db.store, aws);
      await recordAgreements(db.store, connection.id, aws.customers);
      const control = { client: env.client, taskQueue, settings: SETTINGS };
      await wakeMetering(control, connection, 'aws');
      const api = await startApi(db.store, env.client, taskQueue);

      // 10,000 events over four closed hours, 1,000 a request.
      const { events, sums } = usageEvents(aws, { events: 10_000, hours: [1, 2, 3, 4] });
      const started = performance.now();
      for (let i = 0; i < events.length; i += 1000) {
        const answer = await post(api, `/connections/${connection.name}/usage`, { records: events.slice(i, i + 1000) });
        expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        expect(answer.body).toEqual({ accepted: 1000, duplicates: [], woken: ['aws'] });
      }
      const ingestSeconds = (performance.now() - started) / 1000;
      // Usage seven hours old (past AWS's six), and usage of an account with no agreement yet.
      const late = { ...events[0], hour: hourAgo(7), dedupeKey: 'late-1' };
      const stranger = { accountId: latecomer.accountId, cloud: 'aws' as const, product: aws.products.usage, dimension: 'Events', quantity: '42', hour: hourAgo(2), dedupeKey: 'stranger-1' };
      expect((await post(api, `/connections/${connection.name}/usage`, { records: [late, stranger] })).body.accepted).toBe(2);

      const keys = sums.size;
      expect(keys).toBe(1600);
      await eventually(async () => (await db.store.metering.sends(connection.id, { status: 'sent' })).length === keys, 120_000, 'every hour sent');
      await eventually(async () => (await db.store.metering.letters({ connectionId: connection.id, status: 'open' })).length === 2, 30_000, 'the two dead letters');

      // The fewest calls: 800 keys of each product, 25 a call.
      expect(minimalCalls(sums.keys())).toBe(64);
      expect(aws.sandbox.counters.get('metering.BatchMeterUsage')).toBe(64);
      // Each customer's hour reached AWS once, with its whole sum.
      expect(aws.received.size).toBe(keys);
      for (const [key, sum] of sums) expect(aws.received.get(key), key).toEqual([sum]);
      expect(aws.sandbox.state.metering.records.size).toBe(keys);
      console.log(`metering figures: ${events.length} events ingested in ${ingestSeconds.toFixed(2)} s (${Math.round(events.length / ingestSeconds)} events/s), ${keys} hours in ${aws.sandbox.counters.get('metering.BatchMeterUsage')} calls (minimum ${minimalCalls(sums.keys())})`);

      const letters = await db.store.metering.letters({ connectionId: connection.id, status: 'open' });
      expect(letters.map((l) => [l.errorCode, l.quantity]).sort()).toEqual([['Late', events[0].quantity], ['NoCustomer', '42']]);
      expect(letters.find((l) => l.errorCode === 'Late')!.reason).toMatch(/at most 6 hours after the hour; AWS refuses it with TimestampOutOfBounds/);

      // The same batch again is counted once: nothing new is sent.
      const again = await post(api, `/connections/${connection.name}/usage`, { records: events.slice(0, 1000) });
      expect(again.body).toMatchObject({ accepted: 0, duplicates: events.slice(0, 1000).map((e) => e.dedupeKey) });

      // The stranger's agreement (AWS has had it all along) is recorded in the hub: its letter replayed, its hour sent.
      await recordAgreements(db.store, connection.id, [latecomer]);
      const noCustomer = letters.find((l) => l.errorCode === 'NoCustomer')!;
      const replay = await post(api, `/connections/${connection.name}/usage/replay`, { cloud: 'aws', ids: [noCustomer.id] });
      expect(replay).toEqual({ status: 200, body: { replayed: 1, stillFailing: 0 } });
      await eventually(async () => (await db.store.metering.sends(connection.id, { status: 'sent' })).length === keys + 1, 30_000, 'the replayed hour sent');
      expect(aws.received.get(`${aws.products.usage}|${latecomer.awsAccountId}|Events|${hourAgo(2)}`)).toEqual([42]);
      expect(aws.sandbox.counters.get('metering.BatchMeterUsage')).toBe(65);
      // The late letter, replayed, is late again: lettered anew, nothing sent.
      expect((await post(api, `/connections/${connection.name}/usage/replay`, { cloud: 'aws' })).body).toEqual({ replayed: 1, stillFailing: 0 });
      await eventually(async () => (await db.store.metering.letters({ connectionId: connection.id, status: 'open' })).map((l) => l.errorCode).join() === 'Late', 30_000, 'the late usage lettered again');
      expect(aws.sandbox.counters.get('metering.BatchMeterUsage')).toBe(65);

      // The Temporal UI finds it by connection and cloud, says what it is and what it did.
      const handle = env.client.workflow.getHandle(meteringWorkflowId(connection.id, 'aws'));
      const description = await handle.describe();
      expect(description.typedSearchAttributes.get(SA.cloud)).toBe('aws');
      expect(description.typedSearchAttributes.get(SA.connection)).toBe(connection.name);
      expect(await description.staticSummary()).toBe(`Metering · ${connection.name} · AWS Marketplace`);
      const status = await eventually(async () => {
        const s = await meteringStatus(control, connection.id, 'aws');
        return s?.phase === 'idle' && s.totals.deadLettered === 3 ? s : undefined;
      }, 30_000, 'the last pass to end');
      expect(status.totals).toEqual({ calls: 65, sent: keys + 1, duplicates: 0, deadLettered: 3, unprocessed: 0 });
      // Its hourly Schedule exists.
      expect((await env.client.schedule.getHandle(`metering-schedule:${connection.id}:aws`).describe()).action.workflowType).toBe('scheduledMeteringWorkflow');
      await handle.terminate('test over');
      await env.client.schedule.getHandle(`metering-schedule:${connection.id}:aws`).delete();
      await api.close();
    } finally {
      await worker?.shutdown();
      await db.close();
      await aws.close();
    }
  }, 240_000);

  it('sends again what AWS did not get to (UnprocessedRecords) and waits out its throttling: every hour once, with its whole sum', async () => {
    const aws = await startAwsMetering(10, { recordFailureRate: 0.3, rateLimitRate: 0.3, seed: 11, endpoints: /^metering\./ });
    const db = await openTestStore('pglite');
    const taskQueue = `metering-faults-${Date.now()}`;
    let worker: RunningWorker | undefined;
    try {
      worker = await startWorker({
        address: env.address, namespace: 'default', taskQueue, workflowBundle: bundle,
        activities: createActivities({ store: db.store, client: env.client, taskQueue, log: pino({ level: 'silent' }) }),
      });
      const connection = await meteringConnection(db.store, aws);
      await recordAgreements(db.store, connection.id, aws.customers);
      const { events, sums } = usageEvents(aws, { events: 1_000, hours: [1, 2, 3], prefix: 'faults' });
      await db.store.metering.ingest(connection.id, events);
      await wakeMetering({ client: env.client, taskQueue, settings: SETTINGS }, connection, 'aws');
      await eventually(async () => (await db.store.metering.sends(connection.id, { status: 'sent' })).length === sums.size, 120_000, 'every hour sent');
      expect(aws.sandbox.counters.get('metering.BatchMeterUsage.ThrottlingException')).toBeGreaterThan(0);
      for (const [key, sum] of sums) expect(new Set(aws.received.get(key)), key).toEqual(new Set([sum]));
      expect(aws.sandbox.state.metering.records.size).toBe(sums.size);
      // Hours AWS did not get to went again, counted as further attempts.
      const sends = await db.store.metering.sends(connection.id);
      expect(sends.some((s) => s.attempts > 1)).toBe(true);
      expect([...aws.received.values()].filter((q) => q.length > 1).length).toBe(sends.filter((s) => s.attempts > 1).length);
      await env.client.workflow.getHandle(meteringWorkflowId(connection.id, 'aws')).terminate('test over');
      await env.client.schedule.getHandle(`metering-schedule:${connection.id}:aws`).delete();
    } finally {
      await worker?.shutdown();
      await db.close();
      await aws.close();
    }
  }, 180_000);

  it('continues as new past its history limit, carrying its totals, and keeps metering', async () => {
    const aws = await startAwsMetering(2);
    const db = await openTestStore('pglite');
    const taskQueue = `metering-can-${Date.now()}`;
    let worker: RunningWorker | undefined;
    try {
      worker = await startWorker({
        address: env.address, namespace: 'default', taskQueue, workflowBundle: bundle,
        activities: createActivities({ store: db.store, client: env.client, taskQueue, log: pino({ level: 'silent' }) }),
      });
      const connection = await meteringConnection(db.store, aws);
      await recordAgreements(db.store, connection.id, aws.customers);
      const workflowId = meteringWorkflowId(connection.id, 'aws');
      await env.client.workflow.start('meteringWorkflow', {
        taskQueue, workflowId, args: [{ connectionId: connection.id, cloud: 'aws', connectionName: connection.name, settings: { graceMs: 0, quietMs: 100 }, historyLimit: 20 }],
      });
      // Three rounds of usage, each its own hour, each woken by a signal.
      let hours = 0;
      for (const h of [3, 2, 1]) {
        const { events, sums } = usageEvents(aws, { events: 8, hours: [h], prefix: `round-${h}` });
        await db.store.metering.ingest(connection.id, events);
        await env.client.workflow.getHandle(workflowId).signal('usageArrived');
        hours += sums.size;
        await eventually(async () => (await db.store.metering.sends(connection.id, { status: 'sent' })).length === hours, 30_000, `round ${h} sent`);
      }
      const status = await eventually(async () => {
        const s = await meteringStatus({ client: env.client }, connection.id, 'aws');
        return s?.phase === 'idle' && s.totals.sent === 24 ? s : undefined;
      }, 30_000, 'the totals of every round');
      expect(status.totals.calls).toBe(6);
      const chain: string[] = [];
      for await (const wf of env.client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) chain.push(wf.runId);
      expect(chain.length).toBeGreaterThan(1);
      for (const runId of chain) expect((await env.client.workflow.getHandle(workflowId, runId).fetchHistory()).events!.length).toBeLessThan(60);
      await env.client.workflow.getHandle(workflowId).terminate('test over');
      await env.client.schedule.getHandle(`metering-schedule:${connection.id}:aws`).delete();
    } finally {
      await worker?.shutdown();
      await db.close();
      await aws.close();
    }
  }, 120_000);

  it('the worker killed with SIGKILL mid-run and restarted: every hour reaches AWS once, with its whole sum', async () => {
    // Each call takes 300 ms, so the kill lands while hours are being sent.
    const aws = await startAwsMetering(100, { latencyMs: 300, endpoints: /^metering\./ });
    const db = await openTestStore('postgres');
    const taskQueue = `metering-crash-${Date.now()}`;
    const workers = workerProcesses({ address: env.address, taskQueue, schema: db.schema! });
    const startWorkerProcess = () => workers.start();
    try {
      const connection = await meteringConnection(db.store, aws);
      await recordAgreements(db.store, connection.id, aws.customers);
      const { events, sums } = usageEvents(aws, { events: 10_000, hours: [1, 2, 3, 4], prefix: 'crash' });
      // All the usage is there before the workflow starts: one run sends it.
      const api = await startApi(db.store, env.client, taskQueue);
      await db.store.metering.ingest(connection.id, events);
      const first = await startWorkerProcess();
      await wakeMetering({ client: env.client, taskQueue, settings: { ...SETTINGS, batchesPerPass: 100 } }, connection, 'aws');
      await eventually(async () => aws.sandbox.counters.get('metering.BatchMeterUsage') >= 20, 60_000, 'the run to be under way');
      first.kill('SIGKILL');
      const callsAtKill = aws.sandbox.counters.get('metering.BatchMeterUsage');
      expect(callsAtKill).toBeLessThan(64);
      await startWorkerProcess();
      await eventually(async () => (await db.store.metering.sends(connection.id, { status: 'sent' })).length + (await db.store.metering.sends(connection.id, { status: 'duplicate' })).length === sums.size, 120_000, 'every hour sent after the restart');

      // Every hour reached AWS with its whole sum; an hour the dead worker was sending was sent
      // again as it was (the same quantity: AWS keeps one record), never with a different sum.
      expect(aws.sandbox.state.metering.records.size).toBe(sums.size);
      for (const [key, sum] of sums) {
        const sent = aws.received.get(key)!;
        expect(new Set(sent), key).toEqual(new Set([sum]));
      }
      const resent = [...aws.received.values()].filter((q) => q.length > 1).length;
      // At most the call in flight when the worker died went twice.
      expect(resent).toBeLessThanOrEqual(25);
      const calls = aws.sandbox.counters.get('metering.BatchMeterUsage');
      expect(calls).toBeLessThanOrEqual(64 + 2);
      expect(await db.store.metering.letters({ connectionId: connection.id })).toEqual([]);
      console.log(`metering crash figures: killed after ${callsAtKill} calls; ${calls} calls in all for a minimum of 64; ${resent} hours sent twice (same quantity)`);
      await env.client.workflow.getHandle(meteringWorkflowId(connection.id, 'aws')).terminate('test over');
      await env.client.schedule.getHandle(`metering-schedule:${connection.id}:aws`).delete();
      await api.close();
    } finally {
      workers.killAll();
      await db.close();
      await aws.close();
    }
  }, 300_000);
});
