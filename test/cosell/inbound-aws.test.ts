import { describe, expect, it } from 'vitest';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { InboundCoSell } from '../../src/model/cosell-inbound.js';
import { coSellInboxState } from '../../src/service/cosell-inbox.js';
import { approveUpdate, rejectUpdate } from '../../workflows/cosell-inbound.js';
import { hubView } from '../support/hub-view.js';
import { eventually } from '../support/temporal.js';
import { ALLIANCE_MANAGER, DEAL_DESK, ESCALATION, InboundHub, SELLER, callsBetween, inboundPolicy, useInboundHub } from './inbound-support.js';

const DAY = 86_400_000;

/** An opportunity invitation from AWS about this customer and project. */
function invitationFor(customer: { company: string; website: string; country?: string }, title: string, monthly = '12500.00') {
  return {
    Payload: {
      OpportunityInvitation: {
        ReceiverResponsibilities: ['Software Partner'],
        SenderContacts: [{ Email: 'pat@amazon.com', FirstName: 'Pat', LastName: 'Partner', BusinessTitle: 'Partner Development Manager' }],
        Customer: { Industry: 'Retail', CompanyName: customer.company, WebsiteUrl: customer.website, CountryCode: customer.country ?? 'US' },
        Project: {
          Title: title,
          BusinessProblem: 'Store managers get yesterday\'s figures; they want sales analytics within minutes.',
          TargetCompletionDate: new Date(Date.now() + 120 * DAY).toISOString().slice(0, 10),
          ExpectedCustomerSpend: [{ Amount: monthly, CurrencyCode: 'USD', Frequency: 'Monthly', TargetCompany: 'AWS' }],
        },
      },
    },
  };
}

const refusalOf = async (promise: Promise<unknown>): Promise<string> => {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  return String((error as WorkflowUpdateFailedError).cause?.message);
};

describe('AWS engagement invitations become CRM opportunities after an approval (real Temporal, Partner Central and Salesforce sandboxes)', () => {
  let hub: InboundHub;
  useInboundHub((started) => (hub = started));

  it('an invitation nobody decides is reminded, escalated, and ends as expired on AWS\'s date', async () => {
    const quick = hub.aws.state.addInvitation({
      ...invitationFor({ company: 'Tailspin Toys', website: 'https://tailspin.example' }, 'Game telemetry'),
      ExpirationDate: Date.now() + 6_000,
    });
    // A one-second SLA for this one, started by hand before the inbox runs (the inbox would start it with the usual policy).
    await hub.env.client.workflow.start('coSellInvitationWorkflow', {
      workflowId: `cosell-inbound:aws:${quick}`, taskQueue: hub.taskQueue, workflowIdConflictPolicy: 'USE_EXISTING',
      args: [{ cloud: 'aws', connectionId: hub.connection.id, invitationId: quick, policy: inboundPolicy({ roles: ['alliance_manager'], slaSeconds: 1, escalateTo: ESCALATION }), expiryRecheckMs: 200 }],
    });
    const escalated = await hub.invitation('aws', quick, (v) => v.pendingApprovers.includes(ESCALATION), 'the escalation');
    expect(escalated.view.approvals).toEqual([expect.objectContaining({ stage: 'inbound', by: 'ecosync', decision: 'escalated' })]);
    const done = await escalated.handle.result() as InboundCoSell;
    expect(done).toMatchObject({ status: 'expired', cloudStatus: 'EXPIRED' });
    expect(hub.aws.state.invitationStatus(quick)).toBe('EXPIRED');
  });

  it('invitation → inbox → refused without the role → accepted: AWS invitation ACCEPTED, account and opportunity in Salesforce, linked in the store', async () => {
    await hub.inbox('aws');
    const before = hub.awsCalls();
    const crmBefore = { sf: hub.sf.counters.snapshot(), hs: hub.hs.counters.snapshot() };
    const id = hub.aws.state.addInvitation(invitationFor({ company: 'Northwind Traders, Inc.', website: 'https://www.northwind.example' }, 'Retail analytics platform'));

    const { handle, view } = await hub.invitation('aws', id, (v) => v.status === 'pending_acceptance' && v.phase === 'decision', 'the invitation waiting for a decision');
    expect(view).toMatchObject({
      cloud: 'aws', invitationId: id, cloudStatus: 'PENDING', currentStage: 'inbound', pendingApprovers: [ALLIANCE_MANAGER],
      customer: { company: 'Northwind Traders, Inc.', domain: 'northwind.example', country: 'US' },
      project: { title: 'Retail analytics platform', amount: { amount: '150000.00', currency: 'USD' } },
      sender: { company: 'Amazon Web Services', contacts: [expect.objectContaining({ email: 'pat@amazon.com' })] },
      match: { reason: 'none' },
    });
    // The operator surface finds it as it finds outbound co-sells waiting for someone.
    await eventually(async () => {
      for await (const w of hub.env.client.workflow.list({ query: `EcosyncApprovers = "${ALLIANCE_MANAGER}" AND EcosyncCloud = "aws" AND EcosyncStatus = "pending_acceptance"` })) {
        if (w.workflowId === handle.workflowId) return true;
      }
      return false;
    }, 15_000, 'the invitation listed under its approver');
    // …with what it is about, as the list shows beside outbound co-sells.
    expect((await handle.describe()).memo).toEqual({
      opportunity: 'Retail analytics platform (Northwind Traders, Inc.)', amount: { amount: '150000.00', currency: 'USD' },
    });
    // …and the Temporal UI says which invitation it is, and where it stands.
    const description = await handle.describe();
    expect(await description.staticSummary()).toBe(`AWS invitation · ${id} · ${hub.connection.name}`);
    expect((await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata')).currentDetails).toMatch(/^aws invitation .* for "Northwind Traders, Inc.": pending_acceptance/);

    expect(await refusalOf(handle.executeUpdate(approveUpdate, { args: [{ by: SELLER }] }))).toMatch(/needs the role alliance_manager/);
    expect(await refusalOf(handle.executeUpdate(approveUpdate, { args: [{ by: DEAL_DESK }] }))).toMatch(/needs the role alliance_manager/);
    await handle.executeUpdate(approveUpdate, { args: [{ by: ALLIANCE_MANAGER, comment: 'good fit' }] });
    const done = await handle.result() as InboundCoSell & { phase: string };

    expect(done).toMatchObject({ status: 'accepted', cloudStatus: 'ACCEPTED', phase: 'done', pendingApprovers: [] });
    expect(done.approvals.map((a) => [a.stage, a.by, a.decision, a.comment])).toEqual([['inbound', ALLIANCE_MANAGER, 'approved', 'good fit']]);
    const { phase: _phase, ...inbound } = done;
    expect(InboundCoSell.parse(inbound)).toEqual(inbound);

    // AWS: the invitation is accepted and AWS's opportunity is in our catalog.
    expect(hub.aws.state.invitationStatus(id)).toBe('ACCEPTED');
    const cloudOpportunity = hub.aws.state.acceptedOpportunity(id)!;
    expect(done.cloudOpportunityId).toBe(cloudOpportunity.Id);

    // Salesforce: a new account and an opportunity under it, both linked to their canonical records.
    const sfAccountId = await hub.sfId('Account', done.accountId!);
    const sfOpportunityId = await hub.sfId('Opportunity', done.opportunityId!);
    expect(sfAccountId).toBeDefined();
    expect(sfOpportunityId).toBeDefined();
    const account = hub.sf.state.get('Account', sfAccountId!)!;
    const opportunity = hub.sf.state.get('Opportunity', sfOpportunityId!)!;
    expect(account).toMatchObject({ Name: 'Northwind Traders, Inc.', Website: 'https://www.northwind.example' });
    expect(opportunity).toMatchObject({ Name: 'Northwind Traders, Inc.: Retail analytics platform', AccountId: sfAccountId, Amount: 150000, LeadSource: 'Partner Referral' });
    expect(opportunity.Ecosync_Cloud_Opportunity_Id__c).toBe(cloudOpportunity.Id);

    // Calls to AWS for this co-sell, besides the inbox's list polls shared by every invitation:
    // one read of the invitation and one accepting task.
    const calls = callsBetween(before, hub.awsCalls());
    const { ListEngagementInvitations: polls, ...perCoSell } = calls;
    expect(perCoSell).toEqual({ GetEngagementInvitation: 1, StartEngagementByAcceptingInvitationTask: 1 });
    const history = (await handle.describe()).historyLength;
    expect(history).toBeLessThan(80);
    const crm = { salesforce: callsBetween(crmBefore.sf, hub.sf.counters.snapshot()), hubspot: callsBetween(crmBefore.hs, hub.hs.counters.snapshot()) };
    console.info(`inbound AWS co-sell: ${JSON.stringify(perCoSell)} plus ${polls} inbox polls meanwhile; ${history} history events; CRM calls ${JSON.stringify(crm)}`);
  });

  it('a second invitation for a customer already known matches its account instead of creating another', async () => {
    await hub.inbox('aws');
    const first = hub.aws.state.addInvitation(invitationFor({ company: 'Contoso Pharma', website: 'https://contoso-pharma.example' }, 'Clinical data lake'));
    const a = await hub.invitation('aws', first, (v) => v.phase === 'decision', 'the first invitation');
    await a.handle.executeUpdate(approveUpdate, { args: [{ by: ALLIANCE_MANAGER }] });
    const firstDone = await a.handle.result() as InboundCoSell;

    // Same customer written differently, and a new project.
    const second = hub.aws.state.addInvitation(invitationFor({ company: 'CONTOSO PHARMA LLC', website: 'http://WWW.Contoso-Pharma.example/' }, 'Lab results portal'));
    const b = await hub.invitation('aws', second, (v) => v.phase === 'decision', 'the second invitation');
    expect(b.view.match).toMatchObject({ accountId: firstDone.accountId, reason: 'domain' });
    expect(b.view.match?.opportunityId).toBeUndefined();
    await b.handle.executeUpdate(approveUpdate, { args: [{ by: ALLIANCE_MANAGER }] });
    const secondDone = await b.handle.result() as InboundCoSell;
    expect(secondDone.accountId).toBe(firstDone.accountId);
    expect(secondDone.opportunityId).not.toBe(firstDone.opportunityId);

    const sfAccountId = await hub.sfId('Account', firstDone.accountId!);
    expect(hub.sfRecords('Account').filter((r) => String(r.Name).toLowerCase().startsWith('contoso'))).toHaveLength(1);
    expect(hub.sfRecords('Opportunity').filter((r) => r.AccountId === sfAccountId).map((r) => r.Name).sort())
      .toEqual(['CONTOSO PHARMA LLC: Lab results portal', 'Contoso Pharma: Clinical data lake']);

    // A third invitation about the same project matches the open opportunity: it is patched, not duplicated.
    const third = hub.aws.state.addInvitation(invitationFor({ company: 'Contoso Pharma', website: 'contoso-pharma.example' }, 'Clinical data lake'));
    const c = await hub.invitation('aws', third, (v) => v.phase === 'decision', 'the third invitation');
    expect(c.view.match).toMatchObject({ accountId: firstDone.accountId, opportunityId: firstDone.opportunityId, reason: 'domain' });
    await c.handle.executeUpdate(approveUpdate, { args: [{ by: ALLIANCE_MANAGER }] });
    const thirdDone = await c.handle.result() as InboundCoSell;
    expect(thirdDone.opportunityId).toBe(firstDone.opportunityId);
    expect(hub.sfRecords('Opportunity').filter((r) => r.AccountId === sfAccountId)).toHaveLength(2);
    const patched = hub.sf.state.get('Opportunity', (await hub.sfId('Opportunity', firstDone.opportunityId!))!)!;
    expect(patched.Ecosync_Cloud_Opportunity_Id__c).toBe(thirdDone.cloudOpportunityId);
  });

  it('an account synced after the invitation arrived is matched when it is accepted; the next sync starts no outbound co-sell for it', async () => {
    await hub.inbox('aws');
    const id = hub.aws.state.addInvitation(invitationFor({ company: 'Litware', website: 'https://litware.example' }, 'Point of sale analytics'));
    const { handle, view } = await hub.invitation('aws', id, (v) => v.phase === 'decision', 'the invitation');
    expect(view.match).toMatchObject({ reason: 'none' });

    // The CRM's account reaches ecosync only now (the demo's first sync runs while the inbox polls).
    const sfAccount = hub.sf.state.insert('Account', { Name: 'Litware Inc.', Website: 'https://litware.example' });
    await hub.syncOnce();
    const accountLink = await hubView(hub.store, hub.connection.id).link('salesforce', 'Account', String(sfAccount.Id));
    expect(accountLink).toBeDefined();

    await handle.executeUpdate(approveUpdate, { args: [{ by: ALLIANCE_MANAGER }] });
    const done = await handle.result() as InboundCoSell;
    expect(done).toMatchObject({ status: 'accepted', accountId: accountLink!.canonicalId, match: { accountId: accountLink!.canonicalId } });
    expect(hub.sfRecords('Account').filter((r) => String(r.Name).startsWith('Litware'))).toHaveLength(1);
    const sfOpportunityId = await hub.sfId('Opportunity', done.opportunityId!);
    expect(hub.sf.state.get('Opportunity', sfOpportunityId!)).toMatchObject({ AccountId: sfAccount.Id, Ecosync_CoSell_Cloud__c: 'AWS' });

    // The accepted co-sell's cloud and status in the CRM are ecosync's own write: the sync reads
    // them back and asks for no co-sell of this opportunity with AWS.
    await hub.syncOnce();
    for (const cloud of ['aws', 'azure']) {
      await expect(hub.env.client.workflow.getHandle(`cosell:${cloud}:${done.opportunityId}`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    }
  });

  it('a rejection needs a reason, and the reason reaches AWS', async () => {
    await hub.inbox('aws');
    const id = hub.aws.state.addInvitation(invitationFor({ company: 'Fabrikam', website: 'https://fabrikam.example' }, 'Mainframe exit'));
    const { handle } = await hub.invitation('aws', id, (v) => v.phase === 'decision', 'the invitation');
    expect(await refusalOf(handle.executeUpdate(rejectUpdate, { args: [{ by: ALLIANCE_MANAGER }] }))).toMatch(/needs a reason/);
    expect(await refusalOf(handle.executeUpdate(rejectUpdate, { args: [{ by: SELLER, comment: 'no' }] }))).toMatch(/needs the role/);
    await handle.executeUpdate(rejectUpdate, { args: [{ by: ALLIANCE_MANAGER, comment: 'We do not serve mainframe migrations' }] });
    const done = await handle.result() as InboundCoSell;
    expect(done).toMatchObject({ status: 'declined', cloudStatus: 'REJECTED' });
    expect(hub.aws.state.invitationStatus(id)).toBe('REJECTED');
    expect((hub.aws.state.handle('GetEngagementInvitation', { Catalog: 'Sandbox', Identifier: id }) as { RejectionReason?: string }).RejectionReason)
      .toBe('We do not serve mainframe migrations');
    expect(hub.sfRecords('Account').some((r) => r.Name === 'Fabrikam')).toBe(false);
    // A decision after the end is refused.
    await expect(handle.executeUpdate(approveUpdate, { args: [{ by: ALLIANCE_MANAGER }] })).rejects.toThrow();
  });

  it('the inbox keeps a small cursor: only invitations still pending', async () => {
    const pending = hub.aws.state.addInvitation(invitationFor({ company: 'Wide World Importers', website: 'https://wwi.example' }, 'Supply chain visibility'));
    // The next poll drops the invitations answered since the last one and keeps the new one.
    const pendingInSandbox = () => ((hub.aws.state.handle('ListEngagementInvitations', { Catalog: 'Sandbox', ParticipantType: 'RECEIVER', Status: ['PENDING'], MaxResults: 100 }) as
      { EngagementInvitationSummaries: { Id: string }[] }).EngagementInvitationSummaries).map((i) => i.Id).sort();
    const state = await eventually(async () => {
      const s = await coSellInboxState(hub.env.client, 'aws', hub.connection.id);
      return s.started.includes(pending) && JSON.stringify([...s.started].sort()) === JSON.stringify(pendingInSandbox()) ? s : undefined;
    }, 15_000, 'a cursor holding the pending invitations only');
    expect(state.pending).toBe(state.started.length);
    expect(state.startedTotal).toBeGreaterThanOrEqual(6);
  });
});
