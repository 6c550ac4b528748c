/**
 * PostgreSQL crashed mid-sync (`pg_ctl stop -m immediate`) and started again: the sync activities
 * that need it fail, Temporal retries them, and once the database is back the sync ends where an
 * undisturbed one ends. The database is a private instance; the shared one on 5432 is never touched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { openStore } from '../../src/store/index.js';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { connectionWorkflowId } from '../../workflows/sync-types.js';
import { randomSchema, testKeys, type TestStore } from '../store/stores.js';
import { ERP_HUB, startTestTemporal, TestHub } from '../support/hub.js';
import { eventually } from '../support/temporal.js';
import { duplicates, endState, type EndState } from './end-state.js';
import { startPrivatePostgres, type PrivatePostgres } from './private-postgres.js';

const seed = { accounts: 120, contactsPerAccount: 1, opportunitiesPerAccount: 1 };

async function privateStore(pg: PrivatePostgres): Promise<TestStore> {
  const schema = randomSchema();
  const store = await openStore({ kind: 'postgres', url: pg.url, schema, keys: testKeys, poolSize: 4 });
  // The whole instance goes with the test: nothing to drop.
  return { kind: 'postgres', store, schema, close: () => store.close() };
}

describe('PostgreSQL restarted mid-sync', () => {
  let env: TestWorkflowEnvironment;
  let bundle: Awaited<ReturnType<typeof bundleWorkflows>>;
  let pg: PrivatePostgres;
  let reference: EndState;

  beforeAll(async () => {
    [env, bundle, pg] = await Promise.all([startTestTemporal(), bundleWorkflows(), startPrivatePostgres()]);
    const hub = await TestHub.start(env, bundle, { db: await privateStore(pg), sf: seed, ns: { customers: 0 } });
    try {
      const c = await hub.connect({ ...ERP_HUB });
      expect((await hub.sync(c)).status).toBe('succeeded');
      reference = await endState(hub, c.id);
      expect(reference.hub['links Account customer']).toBe(120);
    } finally {
      await hub.close();
    }
  }, 120_000);
  afterAll(async () => {
    await env?.teardown();
    await pg?.destroy();
  });

  it('stopped with -m immediate and started again: activities fail and retry, the end state is the undisturbed one', async () => {
    const hub = await TestHub.start(env, bundle, { db: await privateStore(pg), sf: seed, ns: { customers: 0 } });
    try {
      const c = await hub.connect({ ...ERP_HUB });
      const written = () => hub.hs.state.count('companies') + hub.hs.state.count('contacts') + hub.hs.state.count('deals') + hub.ns!.state.count('customer') + hub.ns!.state.count('contact');
      await hub.requestSync(c);
      await eventually(async () => written() > 0, 60_000, 'the sync to be under way');
      await pg.crash();
      const atCrash = written();
      expect(atCrash).toBeLessThan(120 * 5);
      // Down until a sync activity has failed on it and Temporal has scheduled another attempt.
      const handle = env.client.workflow.getHandle(connectionWorkflowId(c.id));
      const failure = await eventually(async () => {
        const { raw } = await handle.describe();
        return raw.pendingActivities?.find((a) => (a.attempt ?? 1) > 1)?.lastFailure?.message ?? undefined;
      }, 90_000, 'an activity to fail on the stopped database');
      await pg.start();

      const run = await eventually(async () => {
        const status = await hub.status(c);
        return status?.phase === 'idle' && status.lastRun ? status.lastRun : undefined;
      }, 120_000, 'the interrupted cycle to finish');
      expect(run.status, run.error).toBe('succeeded');
      const again = await hub.sync(c);
      expect(again.counters).toMatchObject({ created: 0, failed: 0 });
      const state = await endState(hub, c.id);
      expect(duplicates(state)).toBe(0);
      expect(state).toEqual(reference);
      console.log(`PostgreSQL stopped with ${atCrash} of 600 records written; an activity failed with "${failure}" and was retried`);
    } finally {
      await hub.close();
    }
  }, 180_000);
});
