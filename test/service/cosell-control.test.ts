import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import {
  candidateWorkflowIds, coSellStatus, CoSellRefusal, handleCoSellEvents, listQuery, parseOpportunityRef, type CoSellControl,
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
    const event = { connectionId: hub.connection.id, opportunityId: opportunity.id, cloud: 'aws' as const, kind: 'requested' as const };
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
    await handleCoSellEvents(control, [{ connectionId: hub.connection.id, opportunityId: opportunity.id, cloud: 'aws', kind: 'requested' }]);
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

  it('skips an opportunity the store does not hold instead of failing the sync', async () => {
    await expect(handleCoSellEvents(control, [{ connectionId: hub.connection.id, opportunityId: randomUUID(), cloud: 'aws', kind: 'requested' }])).resolves.toBeUndefined();
  });
});
