import { describe, expect, it } from 'vitest';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { CoSellReferral } from '../../src/model/index.js';
import { approveUpdate, crmEditSignal, rejectUpdate, requestChangesUpdate, resubmitUpdate, stateQuery } from '../../workflows/cosell.js';
import { eventually } from '../support/temporal.js';
import {
  ALLIANCE_LEAD, ALLIANCE_MANAGER, AWS_SOLUTION, CoSellHub, DEAL_DESK, ESCALATION, SELLER,
  callsBetween, sampleAccount, sampleContact, sampleOpportunityFor, testPolicy, useCoSellHub,
} from './support.js';

describe('AWS co-sell on the real Temporal server and the Partner Central sandbox', () => {
  let hub: CoSellHub;
  useCoSellHub((started) => (hub = started));

  const awsOpportunities = (partnerId: string) => hub.aws.state.list('Sandbox').filter((o) => o.PartnerOpportunityIdentifier === partnerId);

  it('passes deal desk and alliance lead, is created, associated and submitted, and AWS approves it; each status reaches Salesforce and HubSpot', async () => {
    hub.aws.state.reviewOutcome = () => 'Approved';
    const account = sampleAccount();
    const opportunity = sampleOpportunityFor(account);
    const contacts = [sampleContact(account)];
    const { salesforceId: crmId, hubspotId } = await hub.createOpportunity({ opportunity, account, contacts });
    const before = hub.awsCalls();
    const sfWrites = () => hub.sf.counters.sum(/^composite\.(create|update|upsert)$|^sobject\.(create|update|upsert)$/);
    const sfBefore = sfWrites();
    const started = Date.now();
    const handle = await hub.submit(hub.input('aws', { opportunity, account, contacts, crmId }));

    const pending = await hub.until(handle, (v) => v.status === 'pending_approval', 'the deal desk stage');
    expect(pending).toMatchObject({ currentStage: 'deal_desk', pendingApprovers: [DEAL_DESK] });
    // An alliance manager's pending approvals are one visibility query away.
    await eventually(async () => {
      const found: string[] = [];
      for await (const w of hub.env.client.workflow.list({ query: `EcosyncApprovers = "${DEAL_DESK}" AND EcosyncCloud = "aws" AND EcosyncStatus = "pending_approval"` })) found.push(w.workflowId);
      return found.includes(handle.workflowId);
    }, 15_000, 'the co-sell listed under its pending approver');
    // One write reaches both CRMs (Salesforce first, then HubSpot).
    await eventually(async () => [hub.sfCoSell(crmId), hub.hsCoSell(hubspotId)].every((c) => String(c.message).includes(`waiting for ${DEAL_DESK}`)), 10_000, 'the pending status in both CRMs');
    expect(hub.sfCoSell(crmId)).toMatchObject({ cloud: 'AWS', status: 'Pending Approval' });
    expect(hub.hsCoSell(hubspotId)).toMatchObject({ cloud: 'aws', status: 'pending_approval' });

    const afterDealDesk = await handle.executeUpdate(approveUpdate, { args: [{ by: DEAL_DESK, stage: 'deal_desk', comment: 'margins fine' }] });
    expect(afterDealDesk).toMatchObject({ currentStage: 'alliance_lead', pendingApprovers: [ALLIANCE_LEAD] });
    const approvedAt = Date.now();
    await handle.executeUpdate(approveUpdate, { args: [{ by: ALLIANCE_LEAD }] });

    const done = await handle.result();
    const finished = Date.now();
    expect(done).toMatchObject({ status: 'approved', cloudStatus: 'Approved', phase: 'done', pendingApprovers: [] });
    expect(done.approvals.map((a) => [a.stage, a.by, a.decision])).toEqual([
      ['submission', ALLIANCE_MANAGER, 'submitted'],
      ['deal_desk', DEAL_DESK, 'approved'],
      ['alliance_lead', ALLIANCE_LEAD, 'approved'],
    ]);

    const [cloud] = awsOpportunities(crmId);
    expect(awsOpportunities(crmId)).toHaveLength(1);
    expect(cloud.Id).toBe(done.externalId);
    expect(cloud.LifeCycle.ReviewStatus).toBe('Approved');
    expect(cloud.RelatedEntityIdentifiers.Solutions).toEqual([AWS_SOLUTION]);
    expect(cloud.Customer.Account).toMatchObject({ CompanyName: 'Acme Analytics', Industry: 'Software and Internet' });
    expect(cloud.Project.ExpectedCustomerSpend).toEqual([{ Amount: '20833.33', CurrencyCode: 'USD', Frequency: 'Monthly', TargetCompany: 'AWS' }]);
    const message = `AWS co-sell ${done.externalId}: approved`;
    expect(hub.sfCoSell(crmId)).toEqual({ cloud: 'AWS', status: 'Approved', cloudId: done.externalId, message });
    // One write through the sync layer: HubSpot's linked deal carries the same co-sell.
    expect(hub.hsCoSell(hubspotId)).toEqual({ cloud: 'aws', status: 'approved', cloudId: done.externalId, message });
    // And the next sync sees ecosync's own writes: nothing to send back, no conflict.
    const crmWritesBefore = hub.crmWrites();
    const counters = await hub.syncOnce();
    expect(hub.crmWrites()).toEqual(crmWritesBefore);
    expect(counters).toMatchObject({ created: 0, updated: 0, conflicts: 0, failed: 0, writeCalls: 0 });
    expect(counters.read).toBeGreaterThan(0);
    expect(await hub.db.store.conflicts.list({ connectionId: hub.connection.id })).toEqual([]);
    // What the workflow answers is the canonical CoSellReferral plus its progress.
    const { phase: _phase, queuedEdits: _queued, sentEdits: _sent, ...referral } = done;
    expect(CoSellReferral.parse(referral)).toEqual(referral);

    // Calls to AWS for the whole co-sell, exactly the minimum: create, associate, start engagement
    // and one read of the decision (the payload was checked before it was created).
    const calls = callsBetween(before, hub.awsCalls());
    expect(calls).toEqual({ CreateOpportunity: 1, AssociateOpportunity: 1, StartEngagementFromOpportunityTask: 1, GetOpportunity: 1 });
    // At most one Salesforce write per status the alliance manager sees: waiting for deal desk,
    // waiting for the alliance lead (skipped when the lead decides before it is written),
    // submitted, approved.
    const written = sfWrites() - sfBefore;
    expect(written).toBeGreaterThanOrEqual(3);
    expect(written).toBeLessThanOrEqual(4);
    const events = (await handle.fetchHistory()).events?.length;
    console.info(`co-sell figures (aws): calls ${JSON.stringify(calls)}; Salesforce writes ${written}; history ${events} events; submit → approved ${finished - started} ms; last approval → approved ${finished - approvedAt} ms`);
  });

  it('refuses, in the update validator, approvals by a user without the role, for another stage, or by someone who approved before; history is unchanged', async () => {
    const account = sampleAccount();
    const opportunity = sampleOpportunityFor(account);
    // Dana holds both approving roles here: she still may not approve both stages.
    const policy = testPolicy();
    policy.users[DEAL_DESK] = ['deal_desk', 'alliance_lead'];
    const handle = await hub.submit(hub.input('aws', { opportunity, account, policy }));
    await hub.until(handle, (v) => v.status === 'pending_approval', 'the deal desk stage');
    // Let the status write-back finish: from then on only a decision can add to the history.
    await eventually(async () => {
      const { raw } = await handle.describe();
      return (raw.pendingActivities?.length ?? 0) === 0 && !raw.pendingWorkflowTask;
    }, 15_000, 'the workflow idle, waiting for the deal desk');
    const events = async () => (await handle.fetchHistory()).events?.length ?? 0;
    const historyBefore = await events();

    await expect(handle.executeUpdate(approveUpdate, { args: [{ by: SELLER }] })).rejects.toThrow(WorkflowUpdateFailedError);
    await expect(handle.executeUpdate(approveUpdate, { args: [{ by: SELLER }] })).rejects.toMatchObject({ cause: { message: expect.stringContaining('needs the role deal_desk') } });
    await expect(handle.executeUpdate(approveUpdate, { args: [{ by: ALLIANCE_LEAD, stage: 'alliance_lead' }] })).rejects.toMatchObject({ cause: { message: expect.stringContaining('not the current one') } });
    await expect(handle.executeUpdate(rejectUpdate, { args: [{ by: DEAL_DESK }] })).rejects.toMatchObject({ cause: { message: expect.stringContaining('needs a comment') } });
    expect(await events()).toBe(historyBefore);

    const afterDealDesk = await handle.executeUpdate(approveUpdate, { args: [{ by: DEAL_DESK }] });
    expect(afterDealDesk.pendingApprovers).toEqual([ALLIANCE_LEAD]);
    await expect(handle.executeUpdate(approveUpdate, { args: [{ by: DEAL_DESK }] })).rejects.toMatchObject({ cause: { message: expect.stringContaining('already approved') } });

    const rejected = await handle.executeUpdate(rejectUpdate, { args: [{ by: ALLIANCE_LEAD, comment: 'not a co-sell fit this quarter' }] });
    expect(rejected.status).toBe('rejected_internal');
    // The reason travels with the status: it is what the CRM's co-sell message shows.
    expect(rejected.lastError).toEqual({ code: 'RejectedInternally', message: `alliance_lead (${ALLIANCE_LEAD}): not a co-sell fit this quarter`, fields: [] });
    expect(await handle.result()).toMatchObject({ status: 'rejected_internal', phase: 'done' });
    await expect(handle.executeUpdate(approveUpdate, { args: [{ by: ALLIANCE_LEAD }] })).rejects.toThrow();
    expect(awsOpportunities(opportunity.id)).toHaveLength(0);
  });

  it('submitting the same opportunity twice runs one co-sell', async () => {
    const account = sampleAccount();
    const opportunity = sampleOpportunityFor(account, { amount: { amount: '5000.00', currency: 'USD' } });
    const first = await hub.submit(hub.input('aws', { opportunity, account }));
    const second = await hub.submit(hub.input('aws', { opportunity, account }));
    expect(second.workflowId).toBe(first.workflowId);
    const [a, b] = await Promise.all([first.describe(), second.describe()]);
    expect(b.runId).toBe(a.runId);
    await hub.until(first, (v) => v.status === 'pending_approval', 'approval');
    await first.executeUpdate(approveUpdate, { args: [{ by: DEAL_DESK }] });
    expect((await first.result()).status).toBe('approved');
    expect(awsOpportunities(opportunity.id)).toHaveLength(1);
  });

  it('writes every status back by the opportunity\'s canonical id when the co-sell carries no CRM reference', async () => {
    hub.aws.state.reviewOutcome = () => 'Approved';
    const account = sampleAccount();
    const opportunity = sampleOpportunityFor(account, { amount: { amount: '5000.00', currency: 'USD' } });
    const { salesforceId, hubspotId } = await hub.createOpportunity({ opportunity, account, contacts: [sampleContact(account)] });
    const input = hub.input('aws', { opportunity, account, contacts: [sampleContact(account)] });
    expect(input.crm).toBeUndefined();
    const handle = await hub.submit(input);
    await eventually(async () => hub.sfCoSell(salesforceId).status === 'Pending Approval' && hub.hsCoSell(hubspotId).status === 'pending_approval', 15_000, 'the pending status in both CRMs');
    await hub.until(handle, (v) => v.status === 'pending_approval', 'the deal desk stage');
    await handle.executeUpdate(approveUpdate, { args: [{ by: DEAL_DESK }] });
    const done = await handle.result();
    expect(done.status).toBe('approved');
    // The cloud's partner id falls back to the canonical id.
    expect(awsOpportunities(opportunity.id)).toHaveLength(1);
    const message = `AWS co-sell ${done.externalId}: approved`;
    expect(hub.sfCoSell(salesforceId)).toEqual({ cloud: 'AWS', status: 'Approved', cloudId: done.externalId, message });
    expect(hub.hsCoSell(hubspotId)).toEqual({ cloud: 'aws', status: 'approved', cloudId: done.externalId, message });
  });

  it('a decision taken while a status is being written is written too, before the co-sell ends', async () => {
    const account = sampleAccount();
    const opportunity = sampleOpportunityFor(account, { amount: { amount: '5000.00', currency: 'USD' } });
    const { salesforceId, hubspotId } = await hub.createOpportunity({ opportunity, account });
    let release!: () => void;
    hub.faults.holdWriteBack = { opportunityId: opportunity.id, status: 'pending_approval', release: new Promise<void>((resolve) => { release = resolve; }) };
    try {
      const handle = await hub.submit(hub.input('aws', { opportunity, account, crmId: salesforceId }));
      await hub.until(handle, (v) => v.status === 'pending_approval', 'the deal desk stage');
      await handle.executeUpdate(rejectUpdate, { args: [{ by: DEAL_DESK, comment: 'not this quarter' }] });
      release();
      expect((await handle.result()).status).toBe('rejected_internal');
    } finally {
      release();
      hub.faults.holdWriteBack = undefined;
    }
    expect(hub.sfCoSell(salesforceId)).toMatchObject({ status: 'Rejected Internally', message: `AWS co-sell: rejected internal — deal_desk (${DEAL_DESK}): not this quarter` });
    expect(hub.hsCoSell(hubspotId)).toMatchObject({ status: 'rejected_internal' });
  });

  it('a payload AWS would reject fails pre-validation with every field named and no call to AWS; the fix goes through', async () => {
    const account = sampleAccount({ website: undefined, domain: undefined, billingAddress: { country: 'US', city: 'Seattle' } });
    const opportunity = sampleOpportunityFor(account, { description: undefined, amount: { amount: '5000.00', currency: 'USD' } });
    const { salesforceId: crmId, hubspotId } = await hub.createOpportunity({ opportunity, account });
    const before = hub.aws.counters.sum(/.*/);
    const handle = await hub.submit(hub.input('aws', { opportunity, account, crmId }));

    const refused = await hub.until(handle, (v) => v.status === 'changes_requested', 'pre-validation');
    expect(refused.lastError?.code).toBe('ValidationFailed');
    expect(refused.lastError?.fields.map((f) => f.field).sort()).toEqual([
      'Customer.Account.Address.PostalCode', 'Customer.Account.Address.StateOrRegion', 'Customer.Account.WebsiteUrl', 'Project.CustomerBusinessProblem',
    ]);
    expect(refused.lastError?.fields.find((f) => f.field === 'Project.CustomerBusinessProblem')?.message).toContain('from Opportunity.description');
    expect(hub.aws.counters.sum(/.*/) - before).toBe(0);
    await eventually(async () => [hub.sfCoSell(crmId), hub.hsCoSell(hubspotId)].every((c) => String(c.message).includes('Customer.Account.WebsiteUrl')), 10_000, 'the reasons in both CRMs');
    expect(hub.sfCoSell(crmId).status).toBe('Changes Requested');
    expect(hub.hsCoSell(hubspotId)).toMatchObject({ status: 'changes_requested', message: hub.sfCoSell(crmId).message });

    const fixed = await handle.executeUpdate(resubmitUpdate, {
      args: [{ by: ALLIANCE_MANAGER, snapshot: { account: sampleAccount({ id: account.id }), opportunity: { ...opportunity, description: 'Reports arrive a day late; the customer wants them within minutes.' } } }],
    });
    expect(fixed).toMatchObject({ status: 'pending_approval', pendingApprovers: [DEAL_DESK] });
    expect(fixed.lastError).toBeUndefined();
    await handle.executeUpdate(approveUpdate, { args: [{ by: DEAL_DESK }] });
    expect((await handle.result()).status).toBe('approved');
  });

  it('AWS rejects: the status and AWS\'s reason are written back to Salesforce', async () => {
    hub.aws.state.reviewOutcome = () => ({ status: 'Rejected', reason: 'Customer is already engaged with another partner' });
    try {
      const account = sampleAccount();
      const opportunity = sampleOpportunityFor(account, { amount: { amount: '5000.00', currency: 'USD' } });
      const { salesforceId: crmId, hubspotId } = await hub.createOpportunity({ opportunity, account });
      const handle = await hub.submit(hub.input('aws', { opportunity, account, crmId }));
      await hub.until(handle, (v) => v.status === 'pending_approval', 'approval');
      await handle.executeUpdate(approveUpdate, { args: [{ by: DEAL_DESK }] });
      const done = await handle.result();
      expect(done).toMatchObject({ status: 'rejected', cloudStatus: 'Rejected', lastError: { code: 'Rejected', message: 'Customer is already engaged with another partner' } });
      const message = `AWS co-sell ${done.externalId}: rejected — Customer is already engaged with another partner`;
      expect(hub.sfCoSell(crmId)).toEqual({ cloud: 'AWS', status: 'Rejected', cloudId: done.externalId, message });
      expect(hub.hsCoSell(hubspotId)).toEqual({ cloud: 'aws', status: 'rejected', cloudId: done.externalId, message });
    } finally {
      hub.aws.state.reviewOutcome = () => 'Approved';
    }
  });

  it('Action Required goes back to the alliance manager with AWS\'s reasons; the fix is resubmitted and approved', async () => {
    hub.aws.state.reviewOutcome = (o) => String(o.Project?.CustomerBusinessProblem).includes('latency')
      ? 'Approved'
      : { status: 'Action Required', reason: 'Business problem unclear', comments: 'Describe the latency the customer needs' };
    try {
      const account = sampleAccount();
      const opportunity = sampleOpportunityFor(account, { amount: { amount: '5000.00', currency: 'USD' } });
      const { salesforceId: crmId } = await hub.createOpportunity({ opportunity, account });
      const handle = await hub.submit(hub.input('aws', { opportunity, account, crmId }));
      await hub.until(handle, (v) => v.status === 'pending_approval', 'approval');
      await handle.executeUpdate(approveUpdate, { args: [{ by: DEAL_DESK }] });

      const asked = await hub.until(handle, (v) => v.status === 'action_required', 'AWS asking for action');
      expect(asked.lastError).toMatchObject({ code: 'ActionRequired', message: 'Business problem unclear: Describe the latency the customer needs' });
      await eventually(async () => String(hub.sfCoSell(crmId).message).includes('action required — Business problem unclear'), 10_000, 'the reasons in Salesforce');
      expect(hub.sfCoSell(crmId).status).toBe('Action Required');
      await expect(handle.executeUpdate(approveUpdate, { args: [{ by: DEAL_DESK }] })).rejects.toThrow();

      const resubmitted = await handle.executeUpdate(resubmitUpdate, {
        args: [{ by: ALLIANCE_MANAGER, snapshot: { opportunity: { ...opportunity, description: 'Store managers need sales figures with under five minutes of latency.' } } }],
      });
      expect(resubmitted.status).toBe('submitted');
      const done = await handle.result();
      expect(done).toMatchObject({ status: 'approved', cloudStatus: 'Approved' });
      expect(done.lastError).toBeUndefined();
      expect(done.approvals.at(-1)).toMatchObject({ stage: 'cloud_review', by: ALLIANCE_MANAGER, decision: 'resubmitted' });
      expect(awsOpportunities(crmId)).toHaveLength(1);
      expect(hub.sfCoSell(crmId)).toMatchObject({ status: 'Approved', message: `AWS co-sell ${done.externalId}: approved` });
    } finally {
      hub.aws.state.reviewOutcome = () => 'Approved';
    }
  });

  it('a worker lost between creating the AWS opportunity and saving its id still makes one opportunity', async () => {
    hub.faults.failAfterCreate = true;
    const account = sampleAccount();
    const opportunity = sampleOpportunityFor(account, { amount: { amount: '5000.00', currency: 'USD' } });
    const before = hub.aws.counters.get('CreateOpportunity');
    const handle = await hub.submit(hub.input('aws', { opportunity, account }));
    await hub.until(handle, (v) => v.status === 'pending_approval', 'approval');
    await handle.executeUpdate(approveUpdate, { args: [{ by: DEAL_DESK }] });
    const done = await handle.result();
    expect(hub.faults.failAfterCreate).toBe(false);
    expect(done.status).toBe('approved');
    // Two CreateOpportunity calls, one opportunity: the retry carried the same ClientToken.
    expect(hub.aws.counters.get('CreateOpportunity') - before).toBe(2);
    expect(awsOpportunities(opportunity.id).map((o) => o.Id)).toEqual([done.externalId]);
  });

  it('an approval stage whose SLA lapses reminds its approvers and escalates', async () => {
    const account = sampleAccount();
    const opportunity = sampleOpportunityFor(account, { amount: { amount: '5000.00', currency: 'USD' } });
    const handle = await hub.submit(hub.input('aws', { opportunity, account, policy: testPolicy(1) }));
    const escalated = await hub.until(handle, (v) => v.pendingApprovers.includes(ESCALATION), 'the escalation');
    expect(escalated.pendingApprovers).toEqual([ESCALATION, DEAL_DESK]);
    expect(escalated.approvals.at(-1)).toMatchObject({ stage: 'deal_desk', by: 'ecosync', decision: 'escalated' });
    await eventually(async () => hub.reminders.some((r) => r.text.includes(opportunity.id) && r.text.includes(`Escalated to ${ESCALATION}`)), 10_000, 'the reminder');
    await eventually(async () => {
      for await (const w of hub.env.client.workflow.list({ query: `EcosyncApprovers = "${ESCALATION}"` })) if (w.workflowId === handle.workflowId) return true;
      return false;
    }, 15_000, 'the co-sell listed under the escalation approver');

    // The escalation approver may now decide the stage, without holding the role.
    await handle.executeUpdate(approveUpdate, { args: [{ by: ESCALATION }] });
    expect((await handle.result()).status).toBe('approved');
  });

  it('a CRM edit made while AWS reviews is queued and sent once the review ends', async () => {
    hub.aws.state.reviewDelayMs = 1500;
    try {
      const account = sampleAccount();
      const opportunity = sampleOpportunityFor(account, { amount: { amount: '5000.00', currency: 'USD' } });
      const handle = await hub.submit(hub.input('aws', { opportunity, account }));
      await hub.until(handle, (v) => v.status === 'pending_approval', 'approval');
      await handle.executeUpdate(approveUpdate, { args: [{ by: DEAL_DESK }] });
      await hub.until(handle, (v) => v.status === 'submitted' || v.status === 'in_review', 'the AWS review');

      await handle.signal(crmEditSignal, { snapshot: { opportunity: { ...opportunity, name: 'Real-time analytics, phase 2' } } });
      const queued = await handle.query(stateQuery);
      expect(queued.queuedEdits).toBe(1);
      expect(awsOpportunities(opportunity.id)[0].Project.Title).toBe(opportunity.name);

      const done = await handle.result();
      expect(done).toMatchObject({ status: 'approved', queuedEdits: 0, sentEdits: 1 });
      expect(awsOpportunities(opportunity.id)[0].Project.Title).toBe('Real-time analytics, phase 2');
      // The edit was never sent into a locked opportunity.
      expect(hub.aws.counters.get('UpdateOpportunity.ValidationException')).toBe(0);
    } finally {
      hub.aws.state.reviewDelayMs = 0;
    }
  });

  it('continues as new while following a long review, keeping its trail, its queued edit and its one AWS opportunity', async () => {
    hub.aws.state.reviewDelayMs = 3000;
    try {
      const account = sampleAccount();
      const opportunity = sampleOpportunityFor(account, { amount: { amount: '5000.00', currency: 'USD' } });
      const input = { ...hub.input('aws', { opportunity, account }), historyLimit: 60, maxPollIntervalMs: 100 };
      const handle = await hub.submit(input);
      await hub.until(handle, (v) => v.status === 'pending_approval', 'approval');
      const firstRun = (await handle.describe()).runId;
      await handle.executeUpdate(approveUpdate, { args: [{ by: DEAL_DESK }] });
      await hub.until(handle, (v) => v.status === 'submitted' || v.status === 'in_review', 'the AWS review');
      await handle.signal(crmEditSignal, { snapshot: { opportunity: { ...opportunity, name: 'Renamed during review' } } });

      const done = await handle.result();
      expect((await handle.describe()).runId).not.toBe(firstRun);
      expect(done).toMatchObject({ status: 'approved', sentEdits: 1, queuedEdits: 0 });
      expect(done.approvals.map((a) => a.decision)).toEqual(['submitted', 'approved']);
      const [cloud, ...others] = awsOpportunities(opportunity.id);
      expect(others).toHaveLength(0);
      expect(cloud.Project.Title).toBe('Renamed during review');
    } finally {
      hub.aws.state.reviewDelayMs = 0;
    }
  });

  it('changes requested by an approver go back to the alliance manager; the resubmission passes every stage again', async () => {
    const account = sampleAccount();
    const opportunity = sampleOpportunityFor(account);
    const handle = await hub.submit(hub.input('aws', { opportunity, account }));
    await hub.until(handle, (v) => v.status === 'pending_approval', 'approval');
    await handle.executeUpdate(approveUpdate, { args: [{ by: DEAL_DESK }] });
    const changes = await handle.executeUpdate(requestChangesUpdate, { args: [{ by: ALLIANCE_LEAD, comment: 'Name the AWS account team' }] });
    expect(changes).toMatchObject({ status: 'changes_requested', lastError: { code: 'ChangesRequested', message: 'Name the AWS account team' } });

    const again = await handle.executeUpdate(resubmitUpdate, { args: [{ by: ALLIANCE_MANAGER, comment: 'added' }] });
    expect(again).toMatchObject({ status: 'pending_approval', currentStage: 'deal_desk' });
    await handle.executeUpdate(approveUpdate, { args: [{ by: DEAL_DESK }] });
    await handle.executeUpdate(approveUpdate, { args: [{ by: ALLIANCE_LEAD }] });
    expect((await handle.result()).status).toBe('approved');
  });
});
