import { describe, expect, it } from 'vitest';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { InboundCoSell } from '../../src/model/cosell-inbound.js';
import { coSellInboxState, ensureCoSellInbox } from '../../src/service/cosell-inbox.js';
import { approveUpdate, rejectUpdate } from '../../workflows/cosell-inbound.js';
import { eventually } from '../support/temporal.js';
import { ALLIANCE_LEAD, ALLIANCE_MANAGER, InboundHub, callsBetween, inboundPolicy, useInboundHub } from './inbound-support.js';

describe('Microsoft referrals shared with us become CRM opportunities after an approval (real Temporal, Partner Center and Salesforce sandboxes)', () => {
  let hub: InboundHub;
  useInboundHub(async (started) => {
    hub = started;
    // No inbound section: the policy's last stage (alliance lead) decides invitations.
    await hub.inbox('azure', inboundPolicy(null));
  });

  const customerProfile = (name: string, domain: string) => ({
    name,
    address: { city: 'Munich', country: 'DE' },
    team: [{ firstName: 'Kim', lastName: 'Berg', email: `kim.berg@${domain}` }],
  });

  it('incoming referral → accepted: the referral is Active/Accepted and the CRM has the opportunity and its account', async () => {
    const before = hub.msCalls();
    const { referral } = hub.ms.state.shareReferral({
      name: 'Woodgrove Bank - Azure migration',
      customerProfile: customerProfile('Woodgrove Bank AG', 'woodgrove.example'),
      details: { dealValue: 240000, currency: 'EUR', closingDateTime: '2027-03-31T00:00:00Z', notes: 'Core banking lift and shift', requirements: { solutions: [{ id: 'SOL-12345-ECO' }] } },
    });
    const { handle, view } = await hub.invitation('azure', referral.id, (v) => v.phase === 'decision', 'the referral waiting for a decision');
    expect(view).toMatchObject({
      cloud: 'azure', cloudStatus: 'New/Received', pendingApprovers: [ALLIANCE_LEAD], cloudOpportunityId: referral.engagementId,
      customer: { company: 'Woodgrove Bank AG', domain: 'woodgrove.example', country: 'DE' },
      project: { title: 'Woodgrove Bank - Azure migration', amount: { amount: '240000.00', currency: 'EUR' }, closeDate: '2027-03-31' },
    });

    const refused = await handle.executeUpdate(approveUpdate, { args: [{ by: ALLIANCE_MANAGER }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((refused as WorkflowUpdateFailedError).cause?.message)).toMatch(/needs the role alliance_lead/);
    await handle.executeUpdate(approveUpdate, { args: [{ by: ALLIANCE_LEAD }] });
    const settled = await hub.invitation('azure', referral.id, (v) => v.phase === 'done' || v.lastError !== undefined, 'the acceptance');
    expect(settled.view.lastError).toBeUndefined();
    const done = await handle.result() as InboundCoSell;
    expect(done).toMatchObject({ status: 'accepted', cloudStatus: 'Active/Accepted' });

    const after = hub.ms.state.referral(referral.id).referral;
    expect(after).toMatchObject({ status: 'Active', substatus: 'Accepted' });
    const sfOpportunity = hub.sf.state.get('Opportunity', (await hub.sfId('Opportunity', done.opportunityId!))!)!;
    const sfAccountId = await hub.sfId('Account', done.accountId!);
    expect(sfOpportunity).toMatchObject({ Name: 'Woodgrove Bank - Azure migration', AccountId: sfAccountId, Amount: 240000, CloseDate: '2027-03-31' });
    expect(hub.sf.state.get('Account', sfAccountId!)).toMatchObject({ Name: 'Woodgrove Bank AG', Website: 'https://woodgrove.example', BillingCountryCode: 'DE' });

    // Calls to Partner Center for this co-sell, besides the inbox's list polls: a read of the
    // referral, and for the acceptance a read (for its ETag) and one PATCH.
    const { 'referrals.list': polls, ...perCoSell } = callsBetween(before, hub.msCalls());
    expect(Object.fromEntries(Object.entries(perCoSell).filter(([k]) => !k.startsWith('2')))).toEqual({ 'referrals.get': 2, 'referrals.update': 1 });
    console.info(`inbound Microsoft co-sell: ${JSON.stringify(perCoSell)} plus ${polls} inbox polls meanwhile`);
  });

  it('a declined referral is closed as Declined with our reason, and nothing reaches the CRM', async () => {
    const { referral } = hub.ms.state.shareReferral({ name: 'Litware - Data platform', customerProfile: customerProfile('Litware', 'litware.example') });
    const { handle } = await hub.invitation('azure', referral.id, (v) => v.phase === 'decision', 'the referral');
    await handle.executeUpdate(rejectUpdate, { args: [{ by: ALLIANCE_LEAD, comment: 'Outside our solution area' }] });
    const done = await handle.result() as InboundCoSell;
    expect(done).toMatchObject({ status: 'declined', cloudStatus: 'Closed/Declined' });
    expect(hub.ms.state.referral(referral.id).referral).toMatchObject({ status: 'Closed', substatus: 'Declined', statusReason: 'Outside our solution area' });
    expect(hub.sfRecords('Account').some((r) => r.Name === 'Litware')).toBe(false);
  });

  it('a referral Microsoft closes before anyone decides ends without a decision', async () => {
    const { referral } = hub.ms.state.shareReferral({ name: 'Adatum - AI assistant', customerProfile: customerProfile('Adatum', 'adatum.example') });
    const { handle } = await hub.invitation('azure', referral.id, (v) => v.phase === 'decision', 'the referral');
    hub.ms.state.advanceClock(91 * 86_400_000);
    // Accepting now: Partner Center says the referral expired, and the workflow takes its word.
    await handle.executeUpdate(approveUpdate, { args: [{ by: ALLIANCE_LEAD }] });
    const done = await handle.result() as InboundCoSell;
    expect(done).toMatchObject({ status: 'expired', cloudStatus: 'Closed/Expired' });
    expect(done.lastError?.message).toMatch(/Closed\/Expired/);
  });

  it('an inbox continues as new every few polls, carries its cursor and keeps finding invitations', async () => {
    const policy = inboundPolicy();
    const inbox = await ensureCoSellInbox(hub.env.client, hub.taskQueue, hub.connection, 'aws', { policy, pollIntervalMs: 100, pollsPerRun: 2 });
    const firstRun = (await inbox.describe()).runId;
    await eventually(async () => (await coSellInboxState(hub.env.client, 'aws', hub.connection.id)).polls >= 5, 20_000, 'five polls over three runs');
    const again = await ensureCoSellInbox(hub.env.client, hub.taskQueue, hub.connection, 'aws', { policy, pollIntervalMs: 100, pollsPerRun: 2 });
    const current = await hub.env.client.workflow.getHandle(again.workflowId).describe();
    expect(current.runId).not.toBe(firstRun);
    expect(current.historyLength).toBeLessThan(40);

    const id = hub.aws.state.addInvitation();
    const { view } = await hub.invitation('aws', id, (v) => v.phase === 'decision', 'the invitation found after continue-as-new');
    expect(view.pendingApprovers).toEqual([ALLIANCE_MANAGER]);
    const state = await eventually(async () => {
      const s = await coSellInboxState(hub.env.client, 'aws', hub.connection.id);
      return s.started.includes(id) ? s : undefined;
    }, 15_000, 'the cursor holding the invitation');
    expect(state.startedTotal).toBe(1);
  });
});
