import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { newRequest } from '../../src/service/sync-control.js';
import type { RunSummary, SyncPageInput, SyncStatus } from '../../workflows/sync-types.js';
import { startTestTemporal, TestHub } from '../support/hub.js';
import { eventually } from '../support/temporal.js';

/** The syncPage activities a workflow scheduled, in order, with their inputs. */
async function pagesOf(env: TestWorkflowEnvironment, workflowId: string): Promise<SyncPageInput[]> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return history.events!.flatMap((e) => {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name !== 'syncPage') return [];
    return [JSON.parse(Buffer.from(scheduled.input!.payloads![0].data!).toString('utf8')) as SyncPageInput];
  });
}

/** The connection's sync workflow on the real server: how it keeps its history small, how webhooks drive it. */
describe('the connection workflow', () => {
  let env: TestWorkflowEnvironment;
  let hub: TestHub;
  beforeAll(async () => {
    env = await startTestTemporal();
    hub = await TestHub.start(env, await bundleWorkflows(), { store: 'postgres', sf: { accounts: 2, contactsPerAccount: 0, opportunitiesPerAccount: 0 } });
  });
  afterAll(async () => {
    await hub?.close();
    await env?.teardown();
  });

  it('continues as new past its history limit, carrying totals and cycles, and keeps serving', async () => {
    const connection = await hub.connect();
    const workflowId = `sync:${connection.id}`;
    const handle = await env.client.workflow.start('connectionSyncWorkflow', {
      taskQueue: hub.taskQueue, workflowId, args: [{ connectionId: connection.id, historyLimit: 40 }],
    });
    const runs: RunSummary[] = [];
    for (let i = 0; i < 4; i++) {
      runs.push(await env.client.workflow.getHandle(workflowId).executeUpdate<RunSummary, [ReturnType<typeof newRequest>]>('runSync', { args: [newRequest('manual')] }));
    }
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(runs[0].counters.created).toBe(2);

    // Several runs in the chain, every one of them short.
    const chain: string[] = [];
    for await (const wf of env.client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) chain.push(wf.runId);
    expect(chain.length).toBeGreaterThan(1);
    for (const runId of chain) {
      const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
      expect(history.events!.length).toBeLessThan(80);
    }
    const status = await env.client.workflow.getHandle(workflowId).query<SyncStatus>('status');
    expect(status.cycles).toBe(4);
    expect(status.totals.created).toBe(2);
    expect(handle.firstExecutionRunId).toBe(chain[chain.length - 1]);
  });

  it('read only the system that sent them, look back at most every so often, and a sweep follows a cycle that did not', async () => {
    const connection = await hub.connect();
    const workflowId = `sync:${connection.id}`;
    // Long enough that the webhook cycles below come well within it even on a loaded machine.
    const lookbackEveryMs = 10_000;
    await env.client.workflow.start('connectionSyncWorkflow', {
      taskQueue: hub.taskQueue, workflowId, args: [{ connectionId: connection.id, lookbackEveryMs }],
    });
    const handle = env.client.workflow.getHandle(workflowId);
    const first = await handle.executeUpdate<RunSummary, [ReturnType<typeof newRequest>]>('runSync', { args: [newRequest('manual')] });
    expect(first.status).toBe('succeeded');
    const cycles = async () => (await handle.query<SyncStatus>('status')).cycles;

    // Two webhooks from HubSpot about companies, right after the first cycle: well within the lookback interval.
    for (const n of [2, 3]) {
      await handle.signal('requestSync', newRequest('webhook', { entities: ['Account'], sources: ['hubspot'] }));
      await eventually(async () => (await cycles()) >= n, 15_000, `cycle ${n}`);
    }
    // Nothing else asks: the sweep comes by itself once the skipped look back is due.
    await eventually(async () => (await cycles()) >= 4, 40_000, 'the sweep cycle');
    const status = await handle.query<SyncStatus>('status');
    expect(status.lastRun?.requestIds[0]).toMatch(/^sweep-/);

    const byRun = new Map<string, SyncPageInput[]>();
    for (const page of await pagesOf(env, workflowId)) (byRun.get(page.runId) ?? byRun.set(page.runId, []).get(page.runId)!).push(page);
    const [manual, webhook1, webhook2, sweep] = [...byRun.values()];
    // The manual cycle reads every entity from both systems, each first page looking back.
    expect(new Set(manual.map((p) => p.source))).toEqual(new Set(['salesforce', 'hubspot']));
    expect(manual.every((p) => p.lookback)).toBe(true);
    // The webhook cycles read companies from HubSpot only, without looking back again so soon.
    for (const cycle of [webhook1, webhook2]) expect(cycle.map((p) => [p.entity, p.source, p.lookback])).toEqual([['Account', 'hubspot', false]]);
    // The sweep reads everything again, and looks back where it was due.
    expect(new Set(sweep.map((p) => p.source))).toEqual(new Set(['salesforce', 'hubspot']));
    expect(sweep.find((p) => p.entity === 'Account' && p.source === 'hubspot')?.lookback).toBe(true);
  });
});
