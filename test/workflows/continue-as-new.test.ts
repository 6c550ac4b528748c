import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { newRequest } from '../../src/service/sync-control.js';
import type { RunSummary, SyncStatus } from '../../workflows/sync-types.js';
import { startTestTemporal, TestHub } from '../support/hub.js';

describe('the connection workflow keeps its history small', () => {
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
});
