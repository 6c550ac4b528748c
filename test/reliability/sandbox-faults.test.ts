/**
 * Salesforce, HubSpot and NetSuite all misbehaving at once: one call in ten to each answered with
 * the system's rate-limit error, a 5xx, or no answer in time. A three-system sync through it ends
 * where the same sync ends undisturbed: the same records in every system, the same links, each
 * record once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FaultInjector, FaultPlan } from '../../src/sandbox/faults.js';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { updateConnectionWorkflow } from '../../src/service/sync-control.js';
import type { ReplayResult } from '../../workflows/sync-types.js';
import { ERP_HUB, startTestTemporal, TestHub } from '../support/hub.js';
import { duplicates, endState, type EndState } from './end-state.js';

const seed = { accounts: 25, contactsPerAccount: 2, opportunitiesPerAccount: 1 };
/** A hung call is given up after 2 s (by the sandbox's proxy): a timeout, not a stall of the suite. */
const TIMEOUT_MS = 2_000;

async function threeSystemSync(env: TestWorkflowEnvironment, bundle: Awaited<ReturnType<typeof bundleWorkflows>>, faults: (system: string) => FaultPlan = () => ({})) {
  const hub = await TestHub.start(env, bundle, {
    store: 'postgres',
    sf: { ...seed, faults: faults('salesforce'), timeoutMs: TIMEOUT_MS },
    hs: { faults: faults('hubspot'), timeoutMs: TIMEOUT_MS },
    ns: { customers: 0, faults: faults('netsuite'), timeoutMs: TIMEOUT_MS },
  });
  const injected: Record<string, Record<string, number>> = {};
  for (const [name, injector] of [['salesforce', hub.sf.faults], ['hubspot', hub.hs.faults], ['netsuite', hub.ns!.faults]] as Array<[string, FaultInjector]>) {
    injected[name] = {};
    const decide = injector.decide.bind(injector);
    injector.decide = (endpoint, now) => {
      const decision = decide(endpoint, now);
      if (decision.kind !== 'none') injected[name][decision.kind] = (injected[name][decision.kind] ?? 0) + 1;
      return decision;
    };
  }
  try {
    const connection = await hub.connect({ ...ERP_HUB });
    const run = await hub.sync(connection);
    expect(run.status, run.error).toBe('succeeded');
    // A write that still failed after the engine's three attempts is parked as a retryable dead
    // letter (with what depends on it), never dropped: the operator's replay, once the system is
    // quiet, sends each one. Faults stay on while it does.
    const parked = await hub.store.deadLetters.list({ connectionId: connection.id, status: 'open' });
    let replayed = 0;
    for (let round = 0; round < 5 && (await hub.store.deadLetters.list({ connectionId: connection.id, status: 'open' })).length > 0; round++) {
      replayed += (await updateConnectionWorkflow<ReplayResult>({ client: env.client, taskQueue: hub.taskQueue }, connection, 'replayDeadLetters', {})).replayed;
    }
    expect(await hub.store.deadLetters.list({ connectionId: connection.id, status: 'open' })).toEqual([]);
    // A replayed customer's own NetSuite values reach the CRMs on the next cycle, as a new one's do.
    if (replayed > 0) expect((await hub.sync(connection)).counters.failed).toBe(0);
    // Settled: another cycle finds nothing to write.
    const again = await hub.sync(connection);
    expect(again.counters).toMatchObject({ created: 0, updated: 0, failed: 0 });
    return { state: await endState(hub, connection.id), injected, parked: parked.map((l) => `${l.system} ${l.object}: ${l.reason}`), replayed };
  } finally {
    await hub.close();
  }
}

describe('10 % rate limits, 5xx and timeouts on every system at once', () => {
  let env: TestWorkflowEnvironment;
  let bundle: Awaited<ReturnType<typeof bundleWorkflows>>;
  let reference: EndState;

  beforeAll(async () => {
    [env, bundle] = await Promise.all([startTestTemporal(), bundleWorkflows()]);
    const undisturbed = await threeSystemSync(env, bundle);
    expect(undisturbed.parked).toEqual([]);
    reference = undisturbed.state;
    expect(reference.hub['links Account customer']).toBe(25);
    expect(duplicates(reference)).toBe(0);
  }, 120_000);
  afterAll(async () => { await env?.teardown(); });

  it('a Salesforce ⇄ HubSpot ⇄ NetSuite sync ends as the undisturbed one: every record in every system, once', async () => {
    let n = 0;
    const { state, injected, parked, replayed } = await threeSystemSync(env, bundle, () => ({ rateLimitRate: 0.04, serverErrorRate: 0.04, timeoutRate: 0.02, seed: 11 + n++ }));
    for (const system of ['salesforce', 'hubspot', 'netsuite']) {
      expect(Object.values(injected[system]).reduce((a, b) => a + b, 0), `faults injected into ${system}`).toBeGreaterThan(0);
    }
    console.log('faults injected', JSON.stringify(injected), `parked ${parked.length}, replayed ${replayed}`);
    expect(duplicates(state)).toBe(0);
    expect(state).toEqual(reference);
  }, 120_000);
});
