/**
 * The drawdown workflow on a real Temporal server and both stores: a customer's year in the hub
 * becomes the hand-computed ledger of each commitment; running again adds nothing; each alert is
 * raised and posted once; the standing reaches the CRM account; a recorded history replays.
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/runtime/activities.js';
import { defaultCoSellSettings } from '../../src/runtime/config.js';
import { bundleWorkflows, startWorker, type RunningWorker } from '../../src/runtime/worker.js';
import { createCommitment, drawdownState, ensureDrawdownSchedule, wakeCommitment } from '../../src/service/drawdown-control.js';
import type { PrivateOffer } from '../../src/model/index.js';
import type { Connection } from '../../src/store/index.js';
import { drawdownScheduleId, drawdownWorkflowId } from '../../workflows/drawdown-types.js';
import { TestHub } from '../support/hub.js';
import { eventually, startTestTemporal } from '../support/temporal.js';
import { storeKinds } from '../store/stores.js';
import { commitmentsOf, expectedMacc, expectedPpa, fixtureIds, ledgerBrief, seedYear, startReceiver } from './support.js';

let env: TestWorkflowEnvironment;
let bundle: Awaited<ReturnType<typeof bundleWorkflows>>;
beforeAll(async () => {
  env = await startTestTemporal();
  bundle = await bundleWorkflows();
}, 120_000);
afterAll(async () => {
  await env?.teardown();
});

describe.each(storeKinds)('drawdown workflow on %s', (kind) => {
  let hub: TestHub;
  let worker: RunningWorker;
  let connection: Connection;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const ids = fixtureIds(kind === 'pglite' ? 1 : 2);
  const { ppa, macc } = commitmentsOf(ids);
  const control = () => ({ client: env.client, taskQueue: hub.taskQueue });

  beforeAll(async () => {
    hub = await TestHub.start(env, bundle, { store: kind, worker: false });
    receiver = await startReceiver();
    worker = await startWorker({
      address: env.address, namespace: 'default', taskQueue: hub.taskQueue, workflowBundle: bundle,
      activities: createActivities({
        store: hub.store, client: env.client, taskQueue: hub.taskQueue, log: pino({ level: 'silent' }),
        cosell: { ...defaultCoSellSettings(), notify: { webhookUrl: receiver.url, format: 'json' } },
      }),
    });
    connection = await hub.connect();
    await seedYear(hub.store, connection.id, ids);
  }, 120_000);
  afterAll(async () => {
    await worker?.shutdown().catch(() => undefined);
    await receiver?.close();
    await hub?.close();
  });

  /** Waits until the commitment's workflow has finished `runs` runs and is idle. */
  const settled = (id: string, runs: number) => eventually(async () => {
    const state = await drawdownState(control(), id);
    if (!state) return undefined;
    return state.runs >= runs && state.waiting === 0 && ((await env.client.workflow.getHandle(drawdownWorkflowId(id)).describe()).raw.pendingActivities ?? []).length === 0 && state;
  }, 60_000, `${runs} drawdown runs of ${id}`);

  it('turns the year in the hub into the hand-computed ledgers', async () => {
    await createCommitment(control(), hub.store, connection.id, ppa);
    await createCommitment(control(), hub.store, connection.id, macc);
    const [p, m] = await Promise.all([settled(ppa.id, 1), settled(macc.id, 1)]);

    expect(ledgerBrief((await hub.store.commitments.ledger(ppa.id)).map((r) => r.entry))).toEqual(expectedPpa());
    expect(ledgerBrief((await hub.store.commitments.ledger(macc.id)).map((r) => r.entry))).toEqual(expectedMacc(ids));
    // 60,000 + 9 × 10,000 + 90,000 − 12,000 + 22,000 = 240,000: the contract's 20 % cap; the term is over.
    expect(p.last).toMatchObject({ written: 17, ledgerLines: 17, pending: 0, period: 1 });
    expect(p.last!.standing).toMatchObject({ program: 'ppa', committed: '1200000.00', consumed: '240000.00', remaining: '960000.00', percentConsumed: '20.00', forecast: '240000.00', periodEnd: '2025-12-31' });
    // 12 × 40,000 − 8,000 = 472,000 of 600,000 (78.67 %): 128,000 short, billed at the end.
    expect(m.last).toMatchObject({ written: 14, ledgerLines: 14, pending: 0 });
    expect(m.last!.standing).toMatchObject({ program: 'macc', consumed: '472000.00', remaining: '128000.00', percentConsumed: '78.67' });

    // The standing is on the customer's canonical account, written through the hub.
    const account = await eventually(async () => {
      const [a] = await hub.store.records.getMany(connection.id, 'Account', [ids.account]);
      const c = a?.data.commitments as Record<string, { consumed: string }> | undefined;
      return c?.aws && c.azure && a;
    }, 30_000, 'the standing on the account');
    expect(account.data.commitments).toMatchObject({ aws: { consumed: '240000.00', program: 'ppa' }, azure: { consumed: '472000.00', program: 'macc' } });
    expect((account.data.commitments as { aws: { message: string } }).aws.message).toMatch(/^240,000\.00 USD of 1,200,000\.00 USD consumed \(20\.00 %\)/);
  });

  it('raises each alert once and posts it once to the notify webhook', async () => {
    expect((await hub.store.commitments.alerts(ppa.id)).map((a) => a.key).sort()).toEqual(['2025-01-01/marketplace-cap-100', '2025-01-01/marketplace-cap-50', '2025-01-01/marketplace-cap-80']);
    expect((await hub.store.commitments.alerts(macc.id)).map((a) => a.key).sort()).toEqual(['2025-01-01/consumed-50', '2025-01-01/forecast-shortfall']);
    await eventually(async () => receiver.bodies.length >= 5, 30_000, 'five alerts posted');
    expect(receiver.bodies.filter((b) => b.subject === 'PPA commitment PPA-2025: marketplace cap')).toHaveLength(3);
    expect(receiver.bodies.find((b) => b.subject === 'MACC commitment MACC-2025: forecast shortfall')).toMatchObject({
      to: [], text: 'the 2025-01-01 to 2025-12-31 period ended 128,000.00 USD short of its 600,000.00 USD commitment',
    });
    expect(receiver.bodies.find((b) => String(b.subject).startsWith('PPA'))).toMatchObject({ to: ['alliance@example.com'] });
    expect((await hub.store.commitments.unsentAlerts(ppa.id))).toEqual([]);
  });

  it('adds nothing when run again over the same sources, and nothing is posted twice', async () => {
    const before = await hub.store.commitments.ledger(ppa.id);
    await wakeCommitment(control(), ppa, { reason: 'manual' });
    await wakeCommitment(control(), ppa, { reason: 'agreement', ref: 'agmt-2' });
    const state = await settled(ppa.id, 2);
    expect(state.last).toMatchObject({ written: 0, ledgerLines: 17, raised: [] });
    expect(await hub.store.commitments.ledger(ppa.id)).toEqual(before);
    expect(receiver.bodies).toHaveLength(5);
  });

  it('judges a document entered later, after what the ledger holds', async () => {
    // A refund of agmt-4, which counted 22,000 of 100,000: 10,000 × 0.22 = 2,200 taken back.
    await hub.store.commitments.addDocument(ppa.id, { kind: 'refund', id: 'refund:R2', date: '2025-11-20', currency: 'USD', refundOf: 'agreement:aws:agmt-4', lines: [{ amount: '10000.00' }] });
    const runs = (await drawdownState(control(), ppa.id))!.runs;
    await wakeCommitment(control(), ppa, { reason: 'document', ref: 'refund:R2' });
    const state = await settled(ppa.id, runs + 1);
    expect(state.last).toMatchObject({ written: 1, ledgerLines: 18 });
    expect(ledgerBrief((await hub.store.commitments.ledger(ppa.id)).map((r) => r.entry)).at(-1)).toEqual({
      id: 'refund:R2', period: '2025-01-01', date: '2025-11-20', eligible: '-2200.00', overCap: '-7800.00', version: '2025-05', criteria: ['marketplace-cap'],
    });
    expect(state.last!.standing.consumed).toBe('237800.00');
  });

  it('keeps running when the webhook refuses its alerts, and posts them once it takes them', async () => {
    const id = randomUUID();
    const c = { ...macc, id, externalId: 'MACC-HOOK' };
    await hub.store.commitments.create(connection.id, c);
    const posted = receiver.bodies.length;
    receiver.answer.status = 410;
    try {
      await wakeCommitment(control(), c, { reason: 'manual' });
      await settled(id, 1);
      const handle = env.client.workflow.getHandle(drawdownWorkflowId(id));
      const description = await eventually(async () => {
        const d = await handle.describe();
        return d.searchAttributes.EcosyncStatus?.[0] === 'failed' && d;
      }, 30_000, 'the failure shown in the Temporal UI');
      expect(description.status.name).toBe('RUNNING');
      // 12 × 40,000 without the first MACC's credit note: 80 % consumed, 120,000 short.
      expect((await hub.store.commitments.unsentAlerts(id)).map((a) => a.key).sort()).toEqual(['2025-01-01/consumed-50', '2025-01-01/consumed-80', '2025-01-01/forecast-shortfall']);
    } finally {
      receiver.answer.status = 204;
    }
    await wakeCommitment(control(), c, { reason: 'manual' });
    await settled(id, 2);
    await eventually(async () => (await hub.store.commitments.unsentAlerts(id)).length === 0, 30_000, 'the alerts posted');
    expect(receiver.bodies.slice(posted).map((b) => b.subject).sort()).toEqual(['MACC commitment MACC-HOOK: consumed', 'MACC commitment MACC-HOOK: consumed', 'MACC commitment MACC-HOOK: forecast shortfall']);
    await env.client.workflow.getHandle(drawdownWorkflowId(id)).terminate('test over');
  });

  it('counts an agreement the private offer workflow books, woken by the booking', async () => {
    const activities = createActivities({ store: hub.store, client: env.client, taskQueue: hub.taskQueue, log: pino({ level: 'silent' }) });
    const runs = (await drawdownState(control(), ppa.id))!.runs;
    const offer = { id: randomUUID(), accountId: ids.account, opportunityId: randomUUID(), productId: 'prod-saas', currency: 'USD' } as unknown as PrivateOffer;
    const agreement = { agreementId: 'agmt-9', offerId: 'offer-9', acceptor: '111122223333', status: 'ACTIVE', acceptedAt: '2025-12-20T09:00:00Z', startDate: '2025-12-20', totalContractValue: '1000.00', currency: 'USD' };
    await new MockActivityEnvironment().run(activities.bookAgreement, { connectionId: connection.id, cloud: 'aws' as const, offer, agreement });
    const state = await settled(ppa.id, runs + 1);
    expect(state.last).toMatchObject({ written: 1 });
    // Deployed on AWS, by its product; the refund R2 gave 2,200 of room back under the cap, 1,000 of which it takes.
    expect(ledgerBrief((await hub.store.commitments.ledger(ppa.id)).map((r) => r.entry)).at(-1)).toEqual({
      id: 'agreement:aws:agmt-9', period: '2025-01-01', date: '2025-12-20', eligible: '1000.00', version: '2025-05',
    });
    expect(state.last!.standing.consumed).toBe('238800.00');
  });

  it('has a daily Schedule whose trigger wakes the ledger', async () => {
    expect(await ensureDrawdownSchedule(control(), ppa)).toBe('exists');
    const schedule = env.client.schedule.getHandle(drawdownScheduleId(ppa.id));
    expect((await schedule.describe()).spec.calendars).toEqual([expect.objectContaining({ hour: [{ start: 0, end: 0, step: 1 }], minute: [{ start: 15, end: 15, step: 1 }] })]);
    const runs = (await drawdownState(control(), ppa.id))!.runs;
    await schedule.trigger();
    await settled(ppa.id, runs + 1);
    await schedule.delete();
  });

  it('finds ledgers in the Temporal UI by customer and cloud, and says where they stand', async () => {
    const found = await eventually(async () => {
      const list = [];
      for await (const w of env.client.workflow.list({ query: `EcosyncCustomer = "${ids.account}" AND EcosyncCloud = "azure" AND WorkflowType = "drawdownWorkflow"` })) list.push(w);
      return list.some((w) => w.workflowId === drawdownWorkflowId(macc.id)) && list;
    }, 30_000, 'the MACC ledger in visibility');
    expect(found.every((w) => w.type === 'drawdownWorkflow')).toBe(true);
    expect(found.some((w) => w.workflowId === drawdownWorkflowId(ppa.id))).toBe(false);
    const description = await env.client.workflow.getHandle(drawdownWorkflowId(macc.id)).describe();
    expect(description.searchAttributes.EcosyncStatus).toEqual(['shortfall-forecast']);
    expect(await description.staticSummary()).toMatch(/^Drawdown ledger of MACC commitment MACC-2025/);
  });

  it('continues as new and keeps its count; its history replays', async () => {
    const id = randomUUID();
    const c = { ...macc, id, externalId: 'MACC-CAN' };
    await hub.store.commitments.create(connection.id, c);
    const handle = await env.client.workflow.start('drawdownWorkflow', { taskQueue: hub.taskQueue, workflowId: drawdownWorkflowId(id), args: [{ commitmentId: id, runsPerHistory: 3 }] });
    for (let i = 0; i < 4; i++) {
      await settled(id, i + 1);
      await wakeCommitment(control(), c, { reason: 'manual' });
    }
    const state = await settled(id, 5);
    // The MACC's documents but its credit note, which was entered on the first MACC only.
    expect(state).toMatchObject({ runs: 5, written: 13 });
    expect(await handle.describe().then((d) => d.runId)).not.toBe(handle.firstExecutionRunId);
    expect((await hub.store.commitments.ledger(id)).length).toBe(13);

    const history = await env.client.workflow.getHandle(drawdownWorkflowId(ppa.id)).fetchHistory();
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history)).resolves.toBeUndefined();
  });

  it('keeps a month of daily runs in one history of a few hundred events, then continues as new', async () => {
    const id = randomUUID();
    const c = { ...macc, id, externalId: 'MACC-MONTH' };
    await hub.store.commitments.create(connection.id, c);
    const handle = await env.client.workflow.start('drawdownWorkflow', { taskQueue: hub.taskQueue, workflowId: drawdownWorkflowId(id), args: [{ commitmentId: id }] });
    // 30 days: the Schedule's wake each day (an agreement or invoice arriving adds one more run).
    for (let day = 1; day < 30; day++) {
      await settled(id, day);
      await wakeCommitment(control(), c, { reason: 'schedule' });
    }
    await settled(id, 30);
    await eventually(async () => (await handle.describe()).runId !== handle.firstExecutionRunId, 30_000, 'continue-as-new after a month of runs');
    const month = await env.client.workflow.getHandle(drawdownWorkflowId(id), handle.firstExecutionRunId).fetchHistory();
    const events = month.events?.length ?? 0;
    console.log(`drawdown history (${kind}): ${events} events for a month of 30 daily runs, ${(events / 30).toFixed(1)} a run`);
    expect(events).toBeLessThan(1000);
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, month)).resolves.toBeUndefined();
    await handle.terminate('test over');
  });
});

