import { describe, expect, it } from 'vitest';
import { approveUpdate } from '../../workflows/cosell.js';
import { CoSellHub, DEAL_DESK, callsBetween, sampleAccount, sampleContact, sampleOpportunityFor, useCoSellHub } from './support.js';

describe('Microsoft co-sell referral on the real Temporal server and the Partner Center sandbox', () => {
  let hub: CoSellHub;
  useCoSellHub((started) => (hub = started));

  const referralsOf = (workflowId: string) => hub.ms.state.referrals().filter((r) => r.externalReferenceId === workflowId);
  const msCalls = () => Object.fromEntries(Object.entries(hub.ms.counters.snapshot()).filter(([k]) => !/^\d/.test(k)));

  /** An opportunity of this amount with a contact, in both CRMs, its Microsoft co-sell waiting for approval. */
  async function pendingReferral(amount: string) {
    const account = sampleAccount();
    const opportunity = sampleOpportunityFor(account, { amount: { amount, currency: 'USD' } });
    const contacts = [sampleContact(account)];
    const { salesforceId: crmId, hubspotId } = await hub.createOpportunity({ opportunity, account, contacts });
    const handle = await hub.submit(hub.input('azure', { opportunity, account, contacts, crmId }));
    await hub.until(handle, (v) => v.status === 'pending_approval', 'approval');
    return { opportunity, crmId, hubspotId, handle };
  }

  it('creates a Shared referral after approval; Microsoft accepts it and Salesforce and HubSpot show it', async () => {
    const { opportunity, crmId, hubspotId, handle } = await pendingReferral('45000.00');
    const before = msCalls();
    const approvedAt = Date.now();
    await handle.executeUpdate(approveUpdate, { args: [{ by: DEAL_DESK }] });

    const done = await handle.result();
    const finished = Date.now();
    expect(done).toMatchObject({ cloud: 'azure', status: 'approved', cloudStatus: 'Active', cloudSubstatus: 'Accepted', phase: 'done' });
    const [referral] = referralsOf(handle.workflowId);
    expect(referralsOf(handle.workflowId)).toHaveLength(1);
    expect(referral).toMatchObject({
      id: done.externalId, type: 'Shared', status: 'Active', substatus: 'Accepted', name: opportunity.name,
      customerProfile: { name: 'Acme Analytics', address: { country: 'US', postalCode: '98101' } },
      details: { dealValue: 45000, currency: 'USD', requirements: { solutions: [{ id: 'SOL-12345-ECO' }] } },
    });
    const message = `Microsoft co-sell ${done.externalId}: approved`;
    expect(hub.sfCoSell(crmId)).toEqual({ cloud: 'Microsoft', status: 'Approved', cloudId: done.externalId, message });
    expect(hub.hsCoSell(hubspotId)).toEqual({ cloud: 'microsoft', status: 'approved', cloudId: done.externalId, message });
    const crmWritesBefore = hub.crmWrites();
    const counters = await hub.syncOnce();
    expect(hub.crmWrites()).toEqual(crmWritesBefore);
    expect(counters).toMatchObject({ created: 0, updated: 0, conflicts: 0, failed: 0, writeCalls: 0 });

    // The minimum: create, read Microsoft's decision. The idempotency lookup is only needed when an
    // earlier attempt may have created the referral (see the lost-worker test below).
    const calls = callsBetween(before, msCalls());
    expect(calls).toMatchObject({ 'referrals.create': 1, 'referrals.get': 1 });
    expect(calls['referrals.list'] ?? 0).toBe(0);
    console.info(`co-sell figures (microsoft): calls ${JSON.stringify(calls)}; last approval → approved ${finished - approvedAt} ms`);
  });

  it('Microsoft declines: the co-sell ends rejected with Microsoft\'s reason, written back to Salesforce', async () => {
    const { crmId, hubspotId, handle } = await pendingReferral('500.00');
    await handle.executeUpdate(approveUpdate, { args: [{ by: DEAL_DESK }] });
    const done = await handle.result();
    expect(done).toMatchObject({
      status: 'rejected', cloudStatus: 'Closed', cloudSubstatus: 'Declined',
      lastError: { code: 'Declined', message: 'Deal value below the co-sell threshold of 1000 USD' },
    });
    const message = `Microsoft co-sell ${done.externalId}: rejected — Deal value below the co-sell threshold of 1000 USD`;
    expect(hub.sfCoSell(crmId)).toMatchObject({ cloud: 'Microsoft', status: 'Rejected', message });
    expect(hub.hsCoSell(hubspotId)).toMatchObject({ cloud: 'microsoft', status: 'rejected', message });
  });

  it('a worker lost between creating the referral and saving its id still makes one referral: the retry looks its key up', async () => {
    hub.faults.failAfterCreate = true;
    const account = sampleAccount();
    const opportunity = sampleOpportunityFor(account, { amount: { amount: '45000.00', currency: 'USD' } });
    const before = msCalls();
    const handle = await hub.submit(hub.input('azure', { opportunity, account, contacts: [sampleContact(account)] }));
    await hub.until(handle, (v) => v.status === 'pending_approval', 'approval');
    await handle.executeUpdate(approveUpdate, { args: [{ by: DEAL_DESK }] });
    const done = await handle.result();
    expect(hub.faults.failAfterCreate).toBe(false);
    expect(done.status).toBe('approved');
    expect(referralsOf(handle.workflowId).map((r) => r.id)).toEqual([done.externalId]);
    const calls = callsBetween(before, msCalls());
    expect(calls).toMatchObject({ 'referrals.create': 1, 'referrals.list': 1 });
  });

  it('a referral without a customer contact fails pre-validation, naming the field, without calling Partner Center', async () => {
    const account = sampleAccount();
    const opportunity = sampleOpportunityFor(account, { amount: { amount: '45000.00', currency: 'USD' } });
    const before = hub.ms.counters.sum(/.*/);
    const handle = await hub.submit(hub.input('azure', { opportunity, account }));
    const refused = await hub.until(handle, (v) => v.status === 'changes_requested', 'pre-validation');
    expect(refused.lastError?.fields.map((f) => f.field)).toEqual(['customerProfile.team']);
    expect(refused.lastError?.fields[0].message).toContain('from contacts');
    expect(hub.ms.counters.sum(/.*/) - before).toBe(0);
    await handle.terminate('test done');
  });
});
