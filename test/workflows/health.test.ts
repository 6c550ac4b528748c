import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createHealthActivities } from '../../src/activities/health.js';
import { bundleWorkflows, startWorker, type RunningWorker } from '../../src/runtime/worker.js';
import { SA } from '../../workflows/search-attributes.js';
import { startTestTemporal, eventually } from '../support/temporal.js';

describe('health check workflow on the real Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let worker: RunningWorker;
  let pings = 0;

  beforeAll(async () => {
    env = await startTestTemporal();
    worker = await startWorker({
      address: env.address,
      namespace: env.namespace ?? 'default',
      taskQueue: 'health-test',
      workflowBundle: await bundleWorkflows(),
      activities: createHealthActivities({ pingStore: async () => { pings++; return 'pglite'; } }),
    });
  });

  afterAll(async () => {
    await worker?.shutdown();
    await env?.teardown();
  });

  it('runs an activity through the worker and is findable by search attribute', async () => {
    const result = await env.client.workflow.execute('healthCheckWorkflow', { taskQueue: 'health-test', workflowId: 'health-1', args: [] });
    expect(result).toMatchObject({ workflowId: 'health-1', database: 'pglite' });
    expect(pings).toBe(1);
    const found = await eventually(async () => {
      const ids: string[] = [];
      for await (const wf of env.client.workflow.list({ query: `${SA.status.name} = "ok" AND WorkflowId = "health-1"` })) ids.push(wf.workflowId);
      return ids.length > 0 ? ids : undefined;
    }, 15_000, 'the visibility store to list the run');
    expect(found).toEqual(['health-1']);
  });
});
