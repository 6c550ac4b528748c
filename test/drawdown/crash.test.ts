/**
 * The worker killed with SIGKILL while it judges a ledger, on the real Temporal server and
 * PostgreSQL (PGlite cannot be shared across processes): the restarted worker writes the same
 * ledger an undisturbed run writes, each document once.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { createCommitment, drawdownState } from '../../src/service/drawdown-control.js';
import { drawdownWorkflowId } from '../../workflows/drawdown-types.js';
import { TestHub } from '../support/hub.js';
import { eventually, startTestTemporal } from '../support/temporal.js';
import { workerProcesses, type WorkerProcesses } from '../support/worker-processes.js';
import { commitmentsOf, expectedPpa, fixtureIds, ledgerBrief, seedYear } from './support.js';

/** Agreements accepted after the term: each is a document the ledger must hold once (counting nothing), and together they make the run long enough to be killed in. */
const LATE_AGREEMENTS = 20_000;

let env: TestWorkflowEnvironment;
let hub: TestHub;
let workers: WorkerProcesses | undefined;

beforeAll(async () => {
  env = await startTestTemporal();
  hub = await TestHub.start(env, await bundleWorkflows(), { store: 'postgres', worker: false });
  workers = workerProcesses({ address: env.address, taskQueue: hub.taskQueue, schema: hub.db.schema! });
}, 120_000);
afterAll(async () => {
  workers?.killAll();
  await hub?.close();
  await env?.teardown();
});

const startWorkerProcess = () => workers!.start();

describe('drawdown with the worker killed mid-run', () => {
  it('writes the same ledger, each document once', async () => {
    const ids = fixtureIds(4);
    const { ppa } = commitmentsOf(ids);
    const connection = await hub.connect();
    await seedYear(hub.store, connection.id, ids);
    await hub.store.db.query(
      `INSERT INTO agreements (connection_id, cloud, agreement_id, canonical_id, offer_id, account_id, acceptor, status, accepted_at, start_date, total_contract_value, currency, data)
       SELECT $1, 'aws', 'late-' || lpad(n::text, 6, '0'), gen_random_uuid(), 'offer-late', $2, '111122223333', 'ACTIVE', timestamptz '2026-02-01T00:00:00Z' + n * interval '1 minute',
              date '2026-02-01', '100.00', 'USD', '{"productId":"prod-saas"}'::jsonb
       FROM generate_series(1, $3::int) AS n`,
      [connection.id, ids.account, LATE_AGREEMENTS],
    );

    const first = await startWorkerProcess();
    await createCommitment({ client: env.client, taskQueue: hub.taskQueue }, hub.store, connection.id, ppa);
    const handle = env.client.workflow.getHandle(drawdownWorkflowId(ppa.id));
    await eventually(async () => (await handle.describe()).raw.pendingActivities?.some((a) => a.activityType?.name === 'judgeDrawdown' && Number(a.state) === 2 /* STARTED */), 60_000, 'the judging to be under way');
    first.kill('SIGKILL');
    const linesAtKill = (await hub.store.commitments.ledger(ppa.id)).length;

    await startWorkerProcess();
    const state = await eventually(async () => {
      const s = await drawdownState({ client: env.client, taskQueue: hub.taskQueue }, ppa.id);
      return s && s.runs >= 1 && s;
    }, 180_000, 'the ledger judged after the restart');

    const ledger = (await hub.store.commitments.ledger(ppa.id)).map((r) => r.entry);
    expect(ledger).toHaveLength(17 + LATE_AGREEMENTS);
    expect(new Set(ledger.map((e) => e.sourceId)).size).toBe(ledger.length);
    expect(ledgerBrief(ledger.filter((e) => !e.sourceId.startsWith('agreement:aws:late-')))).toEqual(expectedPpa());
    expect(ledger.filter((e) => e.sourceId.startsWith('agreement:aws:late-')).every((e) => e.eligibleAmount === '0.00' && e.criteria?.[0] === 'outside-term')).toBe(true);
    expect(state.last).toMatchObject({ ledgerLines: 17 + LATE_AGREEMENTS });
    expect(state.last!.standing.consumed).toBe('240000.00');
    // The judging is one transaction: the killed attempt left nothing half written.
    expect(linesAtKill).toBe(0);
    console.log(`drawdown crash: killed while judging ${17 + LATE_AGREEMENTS} documents (${linesAtKill} lines written then); after the restart ${ledger.length} lines, each document once`);
    await handle.terminate('test over');
  }, 400_000);
});
