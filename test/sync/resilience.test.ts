import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { startTestTemporal, TestHub } from '../support/hub.js';
import { eventually } from '../support/temporal.js';
import { workerProcesses } from '../support/worker-processes.js';

/** What HubSpot holds, without ids and timestamps: comparable between two runs. */
function hubspotContent(hub: TestHub) {
  const strip = (p: Record<string, string | null>) => Object.fromEntries(Object.entries(p).filter(([k]) => !['hs_object_id', 'hs_lastmodifieddate', 'lastmodifieddate', 'createdate'].includes(k)).sort(([a], [b]) => a.localeCompare(b)));
  const content: Record<string, unknown[]> = {};
  for (const type of ['companies', 'contacts', 'deals']) {
    content[type] = hub.hs.state.live(type).map((r) => ({
      ...strip(r.properties),
      company: type === 'deals' ? hub.hs.state.associations('deals', r.id, 'companies').map((id) => hub.hs.state.get('companies', id)?.properties.ecosync_id) : undefined,
    }) as Record<string, unknown>).sort((a, b) => String(a.ecosync_id).localeCompare(String(b.ecosync_id)));
  }
  return content;
}

function uniqueEcosyncIds(hub: TestHub, type: string): boolean {
  const ids = hub.hs.state.live(type).map((r) => r.properties.ecosync_id);
  return new Set(ids).size === ids.length;
}

describe('sync under faults and crashes ends where an undisturbed sync ends', () => {
  let env: TestWorkflowEnvironment;
  let bundle: Awaited<ReturnType<typeof bundleWorkflows>>;
  let reference: Record<string, unknown[]>;
  const seed = { accounts: 30, contactsPerAccount: 2, opportunitiesPerAccount: 2 };

  beforeAll(async () => {
    [env, bundle] = await Promise.all([startTestTemporal(), bundleWorkflows()]);
    const undisturbed = await TestHub.start(env, bundle, { store: 'postgres', sf: seed });
    try {
      const run = await undisturbed.sync(await undisturbed.connect());
      expect(run.counters.failed).toBe(0);
      reference = hubspotContent(undisturbed);
      expect(reference.companies).toHaveLength(30);
      expect(reference.deals).toHaveLength(60);
    } finally {
      await undisturbed.close();
    }
  });
  afterAll(async () => { await env?.teardown(); });

  it('10 % injected rate limits and server errors: the same end state, nothing lost or duplicated', async () => {
    const hub = await TestHub.start(env, bundle, {
      store: 'postgres',
      sf: { ...seed, faults: { serverErrorRate: 0.1, seed: 3 } },
      // HubSpot's ten-second limit (429 TEN_SECONDLY_ROLLING) and 5xx, 10 % of calls between them.
      hs: { faults: { rateLimitRate: 0.05, serverErrorRate: 0.05, seed: 5 } },
    });
    const injected = { hubspot: 0, salesforce: 0 };
    for (const [name, faults] of [['hubspot', hub.hs.faults], ['salesforce', hub.sf.faults]] as const) {
      const decide = faults.decide.bind(faults);
      faults.decide = (endpoint, now) => {
        const decision = decide(endpoint, now);
        if (decision.kind !== 'none') injected[name]++;
        return decision;
      };
    }
    try {
      const connection = await hub.connect();
      const run = await hub.sync(connection);
      expect(run.status, run.error).toBe('succeeded');
      expect(injected.hubspot).toBeGreaterThan(0);
      expect(injected.salesforce).toBeGreaterThan(0);
      expect(hubspotContent(hub)).toEqual(reference);
      expect(['companies', 'contacts', 'deals'].every((t) => uniqueEcosyncIds(hub, t))).toBe(true);
    } finally {
      await hub.close();
    }
  }, 180_000);

  it('the worker killed with SIGKILL mid-sync and restarted: the same end state, no duplicate in either system', async () => {
    const hub = await TestHub.start(env, bundle, { store: 'postgres', sf: { ...seed, accounts: 300 }, worker: false });
    const workers = workerProcesses({ address: env.address, taskQueue: hub.taskQueue, schema: hub.db.schema! });
    const startWorkerProcess = () => workers.start();
    try {
      const connection = await hub.connect();
      const first = await startWorkerProcess();
      const done = hub.sync(connection);
      // Kill it once HubSpot has part of the data, not all of it.
      await eventually(async () => hub.hs.state.count('companies') >= 50 || hub.hs.state.count('contacts') > 0, 60_000, 'the sync to be under way');
      first.kill('SIGKILL');
      const companiesAtKill = hub.hs.state.count('companies') + hub.hs.state.count('contacts') + hub.hs.state.count('deals');
      expect(companiesAtKill).toBeLessThan(300 + 600 + 600);
      await startWorkerProcess();
      const run = await done;
      expect(run.status, run.error).toBe('succeeded');

      expect(hub.hs.state.count('companies')).toBe(300);
      expect(hub.hs.state.count('contacts')).toBe(600);
      expect(hub.hs.state.count('deals')).toBe(600);
      expect(['companies', 'contacts', 'deals'].every((t) => uniqueEcosyncIds(hub, t))).toBe(true);
      // Nothing came back into Salesforce as a new record.
      expect([hub.sf.state.count('Account'), hub.sf.state.count('Contact'), hub.sf.state.count('Opportunity')]).toEqual([300, 600, 600]);
      // And the data settled: another cycle changes nothing.
      const again = await hub.sync(connection);
      expect(again.counters).toMatchObject({ created: 0, updated: 0, failed: 0 });
    } finally {
      workers.killAll();
      await hub.close();
    }
  }, 240_000);
});
