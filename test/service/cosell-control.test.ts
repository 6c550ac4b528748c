import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { Client, Connection } from '@temporalio/client';
import {
  candidateWorkflowIds, coSellStatus, CoSellRefusal, handleCoSellEvents, isTransient, listQuery, parseOpportunityRef, submitCoSell, type CoSellControl,
} from '../../src/service/cosell-control.js';
import { ALLIANCE_MANAGER, CoSellHub, DEAL_DESK } from '../cosell/support.js';
import { storedOpportunity, surfaceSettings } from '../support/cosell-surface.js';
import { eventually, startTestTemporal } from '../support/temporal.js';

describe('co-sell ids and queries', () => {
  it('reads opportunity references and co-sell ids as users type them', () => {
    const id = randomUUID();
    expect(parseOpportunityRef(id.toUpperCase())).toBe(id);
    expect(parseOpportunityRef('salesforce:006A0000001')).toEqual({ system: 'salesforce', externalId: '006A0000001' });
    expect(() => parseOpportunityRef('006A0000001')).toThrow(/neither an ecosync opportunity id/);
    expect(candidateWorkflowIds(`aws:${id}`)).toEqual([`cosell:aws:${id}`, `cosell-inbound:aws:${id}`]);
    expect(candidateWorkflowIds('cosell-inbound:azure:r-1')).toEqual(['cosell-inbound:azure:r-1']);
    expect(() => candidateWorkflowIds('gcp:1')).toThrow(CoSellRefusal);
  });

  it('finds an approver\'s pending co-sells with one visibility query', () => {
    expect(listQuery({ approver: DEAL_DESK, status: 'pending_approval' })).toBe(
      `WorkflowType IN ("coSellWorkflow", "coSellInvitationWorkflow") AND EcosyncStatus = "pending_approval" AND EcosyncApprovers = "${DEAL_DESK}"`,
    );
    expect(listQuery({ cloud: 'azure', status: 'pending_acceptance' })).toContain('EcosyncCloud = "azure" AND EcosyncStatus = "pending_acceptance"');
    expect(() => listQuery({ approver: 'x" OR "1"="1' })).toThrow(/may not contain quotes/);
    expect(() => listQuery({ status: 'lost' })).toThrow(/unknown co-sell status "lost"/);
  });
});

describe('co-sell events from the sync layer', () => {
  let env: TestWorkflowEnvironment;
  let hub: CoSellHub;
  let control: CoSellControl;

  beforeAll(async () => {
    const [started, bundle] = await Promise.all([startTestTemporal(), bundleWorkflows()]);
    env = started;
    hub = await CoSellHub.start(env, bundle);
    control = { client: env.client, taskQueue: hub.taskQueue, store: hub.db.store, settings: surfaceSettings(hub) };
  }, 120_000);
  afterAll(async () => {
    await hub?.close();
    await env?.teardown();
  });

  it('submits a co-sell marked in the CRM as the configured requester, once however often it is reported', async () => {
    const { opportunity } = await storedOpportunity(hub);
    const event = { connectionId: hub.connection.id, opportunityId: opportunity.id, cloud: 'aws' as const, kind: 'requested' as const, opportunity: { ...opportunity } };
    await handleCoSellEvents(control, [event, event]);
    await handleCoSellEvents(control, [event]);
    const status = await eventually(async () => {
      const s = await coSellStatus(control, `aws:${opportunity.id}`);
      return s.state?.status === 'pending_approval' ? s : undefined;
    }, 20_000, 'the co-sell waiting for approval');
    expect(status.state).toMatchObject({ requestedBy: ALLIANCE_MANAGER, pendingApprovers: [DEAL_DESK] });
    const runs = await eventually(async () => {
      const found = [];
      for await (const run of env.client.workflow.list({ query: `WorkflowId = "cosell:aws:${opportunity.id}"` })) found.push(run);
      return found.length > 0 ? found : undefined;
    }, 20_000, 'the co-sell in visibility');
    expect(runs).toHaveLength(1);
  }, 60_000);

  it('passes a CRM edit on to the running co-sell, and ignores edits of opportunities with none', async () => {
    const { opportunity } = await storedOpportunity(hub);
    await handleCoSellEvents(control, [{ connectionId: hub.connection.id, opportunityId: opportunity.id, cloud: 'aws', kind: 'requested', opportunity: { ...opportunity } }]);
    const renamed = { ...opportunity, name: `${opportunity.name} (renamed in the CRM)` };
    await handleCoSellEvents(control, [
      { connectionId: hub.connection.id, opportunityId: opportunity.id, cloud: 'aws', kind: 'edited', opportunity: renamed },
      // No co-sell with Microsoft runs for it: nothing to tell, and no error.
      { connectionId: hub.connection.id, opportunityId: opportunity.id, cloud: 'azure', kind: 'edited', opportunity: renamed },
    ]);
    const handle = env.client.workflow.getHandle(`cosell:aws:${opportunity.id}`);
    await eventually(async () => {
      const history = await handle.fetchHistory();
      return history.events?.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'crmEdit');
    }, 20_000, 'the crmEdit signal');
  }, 60_000);

  it('submits an opportunity the sync has not saved yet from the values the event carries', async () => {
    // Created in Salesforce with its cloud picked, under a known account: the hook runs before the sync saves it.
    const { opportunity: sibling } = await storedOpportunity(hub);
    const opportunity = { ...sibling, id: randomUUID(), name: `New in the CRM ${randomUUID().slice(0, 6)}` };
    await handleCoSellEvents(control, [{ connectionId: hub.connection.id, opportunityId: opportunity.id, cloud: 'aws', kind: 'requested', opportunity: { ...opportunity, coSell: { cloud: 'aws' } } }]);
    const status = await eventually(async () => {
      const s = await coSellStatus(control, `aws:${opportunity.id}`);
      return s.state?.status === 'pending_approval' ? s : undefined;
    }, 20_000, 'the co-sell waiting for approval');
    expect(status.state).toMatchObject({ opportunityId: opportunity.id, requestedBy: ALLIANCE_MANAGER });
    const [run] = await eventually(async () => {
      const found = [];
      for await (const r of env.client.workflow.list({ query: `WorkflowId = "cosell:aws:${opportunity.id}"` })) found.push(r);
      return found.length > 0 ? found : undefined;
    }, 20_000, 'the co-sell in visibility');
    expect(run.memo).toMatchObject({ opportunity: opportunity.name });
  }, 60_000);

  it('skips what retrying cannot change: a co-sell that already ended (even while its last write-back runs), an unknown connection', async () => {
    const { opportunity } = await storedOpportunity(hub, { amount: { amount: '5000.00', currency: 'USD' } });
    const requested = { connectionId: hub.connection.id, opportunityId: opportunity.id, cloud: 'aws' as const, kind: 'requested' as const, opportunity: { ...opportunity } };
    await handleCoSellEvents(control, [requested]);
    const handle = env.client.workflow.getHandle(`cosell:aws:${opportunity.id}`);
    await eventually(async () => (await handle.query<{ status: string }>('state')).status === 'pending_approval', 20_000, 'the co-sell waiting for approval');
    let release!: () => void;
    hub.faults.holdWriteBack = { opportunityId: opportunity.id, status: 'rejected_internal', release: new Promise<void>((resolve) => { release = resolve; }) };
    try {
      await handle.executeUpdate('reject', { args: [{ by: DEAL_DESK, comment: 'not this quarter' }] });
      expect((await handle.describe()).status.name).toBe('RUNNING');
      // Picked again in the CRM while the rejection is being written: skipped, not returned as running.
      await expect(handleCoSellEvents(control, [requested])).resolves.toBeUndefined();
      await expect(submitCoSell(control, { opportunity: opportunity.id, cloud: 'aws', requestedBy: ALLIANCE_MANAGER })).rejects.toThrow(/already ended \(rejected_internal\)/);
    } finally {
      release();
      hub.faults.holdWriteBack = undefined;
    }
    await handle.result();
    await expect(handleCoSellEvents(control, [requested])).resolves.toBeUndefined();
    const other = { ...control, settings: { ...control.settings, connection: 'no-such-connection' } };
    await expect(handleCoSellEvents(other, [{ ...requested, connectionId: randomUUID() }])).resolves.toBeUndefined();
  }, 60_000);

  it('fails with retryable: true when Temporal is unreachable, and without it for other errors', async () => {
    const { opportunity } = await storedOpportunity(hub);
    const event = { connectionId: hub.connection.id, opportunityId: opportunity.id, cloud: 'aws' as const, kind: 'requested' as const, opportunity: { ...opportunity } };
    // Nothing listens on port 1: every call fails as it does when the Temporal server is down (no client-side retries here).
    const down = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 1000, interceptors: [] }) });
    try {
      const error = await handleCoSellEvents({ ...control, client: down }, [event]).then(() => undefined, (e: unknown) => e);
      expect(error).toMatchObject({ retryable: true, message: expect.stringMatching(/1 co-sell event\(s\) failed/) });
    } finally {
      await down.connection.close();
    }
    const broken = { ...control, client: { workflow: { getHandle: () => { throw new TypeError('not a client'); } } } as unknown as Client };
    const error = await handleCoSellEvents(broken, [event]).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as { retryable?: boolean }).retryable).toBe(false);
    expect(isTransient(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isTransient(new Error('boom', { cause: Object.assign(new Error('14 UNAVAILABLE'), { code: 14 }) }))).toBe(true);
    expect(isTransient(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
  }, 60_000);
});
