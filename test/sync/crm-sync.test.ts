import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { startTestTemporal, TestHub } from '../support/hub.js';

describe('Salesforce ⇄ HubSpot sync on the real Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let bundle: Awaited<ReturnType<typeof bundleWorkflows>>;
  beforeAll(async () => {
    [env, bundle] = await Promise.all([startTestTemporal(), bundleWorkflows()]);
  });
  afterAll(async () => { await env?.teardown(); });

  it('copies Salesforce accounts, contacts and opportunities to HubSpot, then a second run writes nothing', async () => {
    const hub = await TestHub.start(env, bundle, { sf: { accounts: 5, contactsPerAccount: 2, opportunitiesPerAccount: 1 } });
    try {
      const connection = await hub.connect();
      const first = await hub.sync(connection);
      expect(first.status, first.error).toBe('succeeded');
      expect(first.counters).toMatchObject({ created: 20, failed: 0 });
      expect(hub.hs.state.count('companies')).toBe(5);
      expect(hub.hs.state.count('contacts')).toBe(10);
      expect(hub.hs.state.count('deals')).toBe(5);

      hub.hs.counters.reset();
      hub.sf.counters.reset();
      const second = await hub.sync(connection);
      expect(second.counters).toMatchObject({ created: 0, updated: 0, failed: 0 });
      const writes = (c: Record<string, number>) => Object.entries(c).filter(([k]) => /batch\.(create|update|upsert|archive)|associations\.(put|batch\.associate)|composite/.test(k)).reduce((n, [, v]) => n + v, 0);
      expect(writes(hub.hs.counters.snapshot())).toBe(0);
      expect(writes(hub.sf.counters.snapshot())).toBe(0);
    } finally {
      await hub.close();
    }
  });
});
