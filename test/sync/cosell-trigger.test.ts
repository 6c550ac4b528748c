/**
 * The CRM as a co-sell trigger: the sync tells its co-sell hook when an alliance manager picks a
 * cloud for an opportunity (`requested`) and when an opportunity whose co-sell is going on
 * changes (`edited`); ecosync's own writes tell it nothing.
 */
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { coSellEventOf } from '../../src/cosell/crm.js';
import { CrmRig, useCrmRig } from './crm-rig.js';

describe('what an opportunity change means for co-sell', () => {
  const opp = { name: 'Data lake', amount: { amount: '100.00', currency: 'USD' }, stage: 'qualification', closeDate: '2031-01-31' };
  it('a cloud picked with no co-sell going on is a request; one picked after a co-sell ended is one too', () => {
    expect(coSellEventOf(opp, { ...opp, coSell: { cloud: 'aws' } })).toEqual({ kind: 'requested', cloud: 'aws' });
    expect(coSellEventOf(undefined, { ...opp, coSell: { cloud: 'azure' } })).toEqual({ kind: 'requested', cloud: 'azure' });
    expect(coSellEventOf({ ...opp, coSell: { cloud: 'aws', status: 'rejected' } }, { ...opp, coSell: { cloud: 'azure', status: 'rejected' } })).toEqual({ kind: 'requested', cloud: 'azure' });
    // A new cloud while a co-sell goes on is not a request: that one has to end first.
    expect(coSellEventOf({ ...opp, coSell: { cloud: 'aws', status: 'in_review' } }, { ...opp, coSell: { cloud: 'azure', status: 'in_review' } })).toBeUndefined();
    expect(coSellEventOf(opp, { ...opp, name: 'Renamed' })).toBeUndefined();
    expect(coSellEventOf({ ...opp, coSell: { cloud: 'aws' } }, opp)).toBeUndefined();
  });

  it('a commercial change while the co-sell goes on is an edit; other changes and ended co-sells are not', () => {
    const going = { ...opp, coSell: { cloud: 'aws', status: 'pending_approval' } };
    expect(coSellEventOf(going, { ...going, amount: { amount: '200.00', currency: 'USD' } })).toEqual({ kind: 'edited', cloud: 'aws' });
    expect(coSellEventOf(going, { ...going, accountId: randomUUID() })).toEqual({ kind: 'edited', cloud: 'aws' });
    expect(coSellEventOf(going, { ...going, amount: { currency: 'USD', amount: '100.00' } })).toBeUndefined();
    expect(coSellEventOf(going, { ...going, nextStep: 'Call back' })).toBeUndefined();
    expect(coSellEventOf(going, { ...going, coSell: { ...going.coSell, status: 'submitted' } })).toBeUndefined();
    const ended = { ...opp, coSell: { cloud: 'aws', status: 'approved' } };
    expect(coSellEventOf(ended, { ...ended, name: 'Renamed' })).toBeUndefined();
    // An opportunity ecosync did not know before has nothing to compare an edit with.
    expect(coSellEventOf(undefined, going)).toBeUndefined();
  });
});

describe('the sync calls the co-sell hook', () => {
  let rig: CrmRig;
  useCrmRig((started) => (rig = started));
  beforeEach(() => {
    rig.hookCalls.length = 0;
    rig.hookError = undefined;
  });

  /** An opportunity a user entered in Salesforce, synced to HubSpot: its canonical id and ids in both CRMs. */
  async function synced(fields: Record<string, unknown> = {}) {
    const acc = rig.sf.state.insert('Account', { Name: `Umbrella ${randomUUID().slice(0, 6)}`, Industry: 'Healthcare' });
    const opp = rig.sf.state.insert('Opportunity', { Name: `Vaccine cloud ${randomUUID().slice(0, 6)}`, StageName: 'Qualification', CloseDate: '2031-09-30', Amount: 80000, AccountId: acc.Id, ...fields });
    await rig.syncOnce();
    const link = (await rig.hub.link('salesforce', 'Opportunity', String(opp.Id)))!;
    const [twin] = await rig.hub.links('Opportunity', link.canonicalId, 'hubspot');
    return { id: link.canonicalId, sfId: String(opp.Id), hsId: twin.externalId };
  }

  it('with `requested` when an alliance manager picks AWS in Salesforce, once, and HubSpot gets the cloud', async () => {
    const o = await synced();
    expect(rig.events()).toEqual([]);
    rig.sf.state.update('Opportunity', o.sfId, { Ecosync_CoSell_Cloud__c: 'AWS' });
    await rig.syncOnce();
    expect(rig.hookCalls).toHaveLength(1);
    expect(rig.events()).toEqual([{
      connectionId: rig.connection.id, opportunityId: o.id, cloud: 'aws', kind: 'requested',
      opportunity: expect.objectContaining({ id: o.id, amount: { amount: '80000.00', currency: 'USD' }, coSell: { cloud: 'aws' } }),
    }]);
    expect(rig.hs.state.get('deals', o.hsId)!.properties.ecosync_cosell_cloud).toBe('aws');
    // The next cycle re-reads both sides (lookback) and finds nothing new.
    await rig.syncOnce();
    expect(rig.hookCalls).toHaveLength(1);
  }, 60_000);

  it('with `edited` when the amount of a co-selling opportunity changes, and not for ecosync\'s own status writes', async () => {
    const o = await synced({ Ecosync_CoSell_Cloud__c: 'AWS' });
    expect(rig.events().map((e) => [e.opportunityId, e.kind])).toEqual([[o.id, 'requested']]);
    rig.hookCalls.length = 0;
    await rig.writer.patch({ connectionId: rig.connection.id, entity: 'Opportunity', canonicalId: o.id, values: { 'coSell.cloud': 'aws', 'coSell.status': 'pending_approval' } });
    await rig.syncOnce();
    expect(rig.events()).toEqual([]);

    rig.sf.state.update('Opportunity', o.sfId, { Amount: 95000 });
    await rig.syncOnce();
    expect(rig.events()).toEqual([{
      connectionId: rig.connection.id, opportunityId: o.id, cloud: 'aws', kind: 'edited',
      opportunity: expect.objectContaining({ amount: { amount: '95000.00', currency: 'USD' }, coSell: { cloud: 'aws', status: 'pending_approval' } }),
    }]);

    // An edit made in HubSpot counts the same.
    rig.hookCalls.length = 0;
    rig.hs.state.update('deals', o.hsId, { description: 'Now with a second site' });
    await rig.syncOnce();
    expect(rig.events().map((e) => [e.opportunityId, e.kind])).toEqual([[o.id, 'edited']]);

    // Once the co-sell has ended, edits are the CRM's own business again.
    rig.hookCalls.length = 0;
    await rig.writer.patch({ connectionId: rig.connection.id, entity: 'Opportunity', canonicalId: o.id, values: { 'coSell.status': 'rejected' } });
    rig.sf.state.update('Opportunity', o.sfId, { Amount: 99000 });
    await rig.syncOnce();
    expect(rig.events()).toEqual([]);
    // ... until the alliance manager picks a cloud again.
    rig.hs.state.update('deals', o.hsId, { ecosync_cosell_cloud: 'microsoft' });
    await rig.syncOnce();
    expect(rig.events().map((e) => [e.opportunityId, e.kind, e.cloud])).toEqual([[o.id, 'requested', 'azure']]);
  }, 60_000);

  it('once per page, with every event of the page', async () => {
    const [a, b] = [await synced(), await synced()];
    rig.hookCalls.length = 0;
    rig.sf.state.update('Opportunity', a.sfId, { Ecosync_CoSell_Cloud__c: 'AWS' });
    rig.sf.state.update('Opportunity', b.sfId, { Ecosync_CoSell_Cloud__c: 'Microsoft' });
    await rig.syncOnce();
    expect(rig.hookCalls).toHaveLength(1);
    expect(rig.hookCalls[0].map((e) => [e.opportunityId, e.cloud]).sort()).toEqual([[a.id, 'aws'], [b.id, 'azure']].sort());
  }, 60_000);

  it('goes on when the hook fails for good, and fails the page when the hook asks for a retry, which announces again', async () => {
    const broken = await synced();
    rig.hookError = new Error('co-sell control is misconfigured');
    rig.sf.state.update('Opportunity', broken.sfId, { Ecosync_CoSell_Cloud__c: 'AWS' });
    const counters = await rig.syncOnce();
    expect(counters.failed).toBe(0);
    expect(rig.hs.state.get('deals', broken.hsId)!.properties.ecosync_cosell_cloud).toBe('aws');

    const retried = await synced();
    rig.hookCalls.length = 0;
    rig.hookError = Object.assign(new Error('Temporal is unreachable'), { retryable: true });
    rig.sf.state.update('Opportunity', retried.sfId, { Ecosync_CoSell_Cloud__c: 'Microsoft' });
    await expect(rig.syncOnce()).rejects.toThrow('Temporal is unreachable');
    const [stored] = await rig.hub.records('Opportunity', [retried.id]);
    expect(stored.data.coSell).toBeUndefined();
    rig.hookError = undefined;
    await rig.syncOnce();
    expect(rig.events().map((e) => [e.opportunityId, e.kind, e.cloud])).toEqual([[retried.id, 'requested', 'azure'], [retried.id, 'requested', 'azure']]);
    expect((await rig.hub.records('Opportunity', [retried.id]))[0].data.coSell).toEqual({ cloud: 'azure' });
  }, 60_000);
});
