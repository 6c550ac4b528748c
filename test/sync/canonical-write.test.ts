/**
 * The canonical writer on a Salesforce ⇄ HubSpot connection: records it creates and fields it
 * patches reach both CRMs through the mapping files, and the next sync run sees its own writes
 * (nothing written back, no conflict), while edits the CRMs made meanwhile still travel.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CanonicalRecordNotFound } from '../../src/sync/index.js';
import type { Account, Opportunity } from '../../src/model/index.js';
import { CrmRig, hsCoSellOf, sfCoSellOf, useCrmRig } from './crm-rig.js';

let rig: CrmRig;
useCrmRig((started) => (rig = started));

function account(): Account {
  return { id: randomUUID(), name: `Initech ${randomUUID().slice(0, 6)}`, website: 'https://initech.example.com', industry: 'Technology', billingAddress: { city: 'Austin', country: 'US' } };
}

function opportunity(accountId: string, overrides: Partial<Opportunity> = {}): Opportunity {
  return {
    id: randomUUID(), name: `TPS automation ${randomUUID().slice(0, 6)}`, amount: { amount: '120000.00', currency: 'USD' }, stage: 'qualification',
    closeDate: '2031-06-30', type: 'new_business', accountId, description: 'Reports by the hour', ...overrides,
  };
}

const values = ({ id: _id, ...rest }: { id: string }) => rest;
const sfCoSell = (id: string) => sfCoSellOf(rig.sf, id);
const hsCoSell = (id: string) => hsCoSellOf(rig.hs, id);
const idIn = (result: { written: { system: string; externalId: string }[] }, system: string) => result.written.find((w) => w.system === system)!.externalId;

/**
 * Runs a sync cycle and says what it wrote: nothing, after a write that started in ecosync. The
 * records just written are re-read (lookback window), and when `exact` names them, their links
 * must come through untouched: each side hashed exactly as the writer said it would.
 */
async function quietSync(exact?: { entity: string; canonicalId: string }) {
  const links = async () => exact ? (await rig.hub.links(exact.entity, exact.canonicalId)).map((l) => [l.system, l.lastHash, l.version]).sort() : [];
  const before = await links();
  const writesBefore = rig.writes();
  const counters = await rig.syncOnce();
  if (exact) expect(await links()).toEqual(before);
  return { writes: rig.writes() - writesBefore, counters };
}

describe('create', () => {
  it('makes the account and the opportunity in both CRMs, once however often it is called, and the next sync writes nothing', async () => {
    const a = account();
    const o = opportunity(a.id);
    const createdAccount = await rig.writer.create({ connectionId: rig.connection.id, entity: 'Account', canonicalId: a.id, values: values(a) });
    expect(createdAccount.written.map((w) => w.system).sort()).toEqual(['hubspot', 'salesforce']);
    const first = await rig.writer.create({ connectionId: rig.connection.id, entity: 'Opportunity', canonicalId: o.id, values: values(o) });
    const again = await rig.writer.create({ connectionId: rig.connection.id, entity: 'Opportunity', canonicalId: o.id, values: values(o) });
    expect(again).toEqual(first);
    expect(first.skipped).toEqual([]);

    // One record per system, carrying the canonical id, with the account reference translated.
    const sfId = idIn(first, 'salesforce');
    const hsId = idIn(first, 'hubspot');
    expect(rig.sfRecords('Opportunity').filter((r) => r.Ecosync_Id__c === o.id)).toHaveLength(1);
    expect(rig.hs.state.live('deals').filter((d) => d.properties.ecosync_id === o.id)).toHaveLength(1);
    expect(rig.sf.state.get('Opportunity', sfId)).toMatchObject({ Name: o.name, StageName: 'Qualification', Amount: 120000, AccountId: idIn(createdAccount, 'salesforce'), Ecosync_Id__c: o.id });
    expect(rig.hs.state.get('deals', hsId)!.properties).toMatchObject({ dealname: o.name, dealstage: 'qualifiedtobuy', amount: '120000.00', ecosync_id: o.id });
    expect(rig.hs.state.associations('deals', hsId, 'companies')).toEqual([idIn(createdAccount, 'hubspot')]);
    const [stored] = await rig.hub.records('Opportunity', [o.id]);
    expect(stored.data).toEqual(values(o));

    const { writes, counters } = await quietSync({ entity: 'Opportunity', canonicalId: o.id });
    expect(writes).toBe(0);
    expect(counters.unchanged).toBeGreaterThanOrEqual(4);
    expect(counters).toMatchObject({ created: 0, updated: 0, conflicts: 0, failed: 0, writeCalls: 0 });
    expect(await rig.store.conflicts.list({ connectionId: rig.connection.id })).toEqual([]);
  }, 60_000);

  it('refuses an opportunity whose account is not in the CRMs yet, writing nothing', async () => {
    const writesBefore = rig.writes();
    const o = opportunity(randomUUID());
    await expect(rig.writer.create({ connectionId: rig.connection.id, entity: 'Opportunity', canonicalId: o.id, values: values(o) }))
      .rejects.toThrow(/accountId .* is not in salesforce Account yet; create or sync that Account first/);
    expect(rig.writes()).toBe(writesBefore);
    expect(await rig.hub.records('Opportunity', [o.id])).toEqual([]);
  });

  it('names the field of a value the entity does not accept', async () => {
    const o = opportunity(randomUUID(), { stage: 'won' as never });
    await expect(rig.writer.create({ connectionId: rig.connection.id, entity: 'Opportunity', canonicalId: o.id, values: values(o) })).rejects.toThrow(/stage: /);
    await expect(rig.writer.create({ connectionId: rig.connection.id, entity: 'Opportunity', canonicalId: 'opp-1', values: values(o) })).rejects.toThrow(/not a UUID/);
  });
});

describe('patch', () => {
  /** An account and an opportunity entered in Salesforce by a user and synced to HubSpot. */
  async function syncedFromSalesforce(): Promise<{ canonicalId: string; sfId: string; hsId: string }> {
    const acc = rig.sf.state.insert('Account', { Name: `Globex ${randomUUID().slice(0, 6)}`, Industry: 'Finance' });
    const opp = rig.sf.state.insert('Opportunity', { Name: `Cloud move ${randomUUID().slice(0, 6)}`, StageName: 'Prospecting', CloseDate: '2031-03-31', Amount: 50000, AccountId: acc.Id });
    await rig.syncOnce();
    const link = (await rig.hub.link('salesforce', 'Opportunity', String(opp.Id)))!;
    const [twin] = await rig.hub.links('Opportunity', link.canonicalId, 'hubspot');
    return { canonicalId: link.canonicalId, sfId: String(opp.Id), hsId: twin.externalId };
  }

  it('sets co-sell fields in both CRMs and the stored record; the next sync writes nothing and raises no conflict', async () => {
    const { canonicalId, sfId, hsId } = await syncedFromSalesforce();
    const result = await rig.writer.patch({
      connectionId: rig.connection.id, entity: 'Opportunity', canonicalId,
      values: { 'coSell.cloud': 'aws', 'coSell.status': 'pending_approval', 'coSell.message': 'AWS co-sell: pending approval — waiting for dana@example.com' },
    });
    expect(result.written.map((w) => [w.system, w.externalId]).sort()).toEqual([['hubspot', hsId], ['salesforce', sfId]]);
    expect(sfCoSell(sfId)).toEqual({ cloud: 'AWS', status: 'Pending Approval', cloudId: null, message: 'AWS co-sell: pending approval — waiting for dana@example.com' });
    expect(hsCoSell(hsId)).toMatchObject({ cloud: 'aws', status: 'pending_approval', message: 'AWS co-sell: pending approval — waiting for dana@example.com' });
    const [stored] = await rig.hub.records('Opportunity', [canonicalId]);
    expect(stored.data.coSell).toEqual({ cloud: 'aws', status: 'pending_approval', message: 'AWS co-sell: pending approval — waiting for dana@example.com' });

    const { writes, counters } = await quietSync({ entity: 'Opportunity', canonicalId });
    expect(writes).toBe(0);
    expect(counters.unchanged).toBeGreaterThanOrEqual(2);
    expect(counters).toMatchObject({ created: 0, updated: 0, conflicts: 0, failed: 0, writeCalls: 0 });

    // Only the fields patched are written: a cleared cloud id, a new status.
    await rig.writer.patch({ connectionId: rig.connection.id, entity: 'Opportunity', canonicalId, values: { 'coSell.status': 'approved', 'coSell.cloudOpportunityId': 'O1234567', 'coSell.message': undefined } });
    expect(sfCoSell(sfId)).toEqual({ cloud: 'AWS', status: 'Approved', cloudId: 'O1234567', message: null });
    expect(hsCoSell(hsId)).toMatchObject({ cloud: 'aws', status: 'approved', cloudId: 'O1234567' });
    expect((await rig.hub.records('Opportunity', [canonicalId]))[0].data.coSell).toEqual({ cloud: 'aws', status: 'approved', cloudOpportunityId: 'O1234567' });
    expect((await quietSync({ entity: 'Opportunity', canonicalId })).writes).toBe(0);
    expect(await rig.store.conflicts.list({ connectionId: rig.connection.id })).toEqual([]);
  }, 60_000);

  it('writes a commitment\'s standing (the drawdown ledger\'s figures) to the account in both CRMs; the next sync writes nothing', async () => {
    const acc = rig.sf.state.insert('Account', { Name: `Umbrella ${randomUUID().slice(0, 6)}`, Industry: 'Technology' });
    await rig.syncOnce();
    const link = (await rig.hub.link('salesforce', 'Account', String(acc.Id)))!;
    const [twin] = await rig.hub.links('Account', link.canonicalId, 'hubspot');
    const standing = {
      program: 'edp', currency: 'USD', committed: '1200000.00', consumed: '240000.00', remaining: '960000.00', forecast: '960000.00',
      percentConsumed: '20.00', periodEnd: '2025-12-31', asOf: '2025-06-30', message: '240,000.00 USD of 1,200,000.00 USD consumed (20.00 %)',
    };
    await rig.writer.patch({ connectionId: rig.connection.id, entity: 'Account', canonicalId: link.canonicalId, values: { 'commitments.aws': standing } });
    const sf = rig.sfRecords('Account').filter((a) => a.Id === acc.Id).at(-1)!;
    expect(sf).toMatchObject({ Ecosync_AWS_Commit_Consumed__c: 240000, Ecosync_AWS_Commit_Remaining__c: 960000, Ecosync_AWS_Commit_Forecast__c: 960000, Ecosync_AWS_Commit_Status__c: standing.message });
    expect(rig.hs.state.live('companies').find((c) => c.id === twin.externalId)!.properties).toMatchObject({ ecosync_aws_commit_consumed: '240000.00', ecosync_aws_commit_status: standing.message });
    expect(sf).toMatchObject({ Ecosync_AWS_Commit_Program__c: 'edp', Ecosync_AWS_Commit_Amount__c: 1200000, Ecosync_AWS_Commit_Percent__c: 20, Ecosync_AWS_Commit_Period_End__c: '2025-12-31' });
    // The hub keeps the whole standing on the canonical account.
    const [stored] = await rig.hub.records('Account', [link.canonicalId]);
    expect((stored.data.commitments as { aws: unknown }).aws).toEqual(standing);
    const { writes } = await quietSync({ entity: 'Account', canonicalId: link.canonicalId });
    expect(writes).toBe(0);
  });

  it('leaves a CRM edit made before the patch to the next sync, which carries it to the other CRM', async () => {
    const { canonicalId, sfId, hsId } = await syncedFromSalesforce();
    rig.sf.state.update('Opportunity', sfId, { Amount: 64000 });
    await rig.writer.patch({ connectionId: rig.connection.id, entity: 'Opportunity', canonicalId, values: { 'coSell.status': 'submitted' } });

    const { counters } = await quietSync();
    expect(counters).toMatchObject({ conflicts: 0, failed: 0 });
    expect(rig.hs.state.get('deals', hsId)!.properties).toMatchObject({ amount: '64000.00', ecosync_cosell_status: 'submitted' });
    const [stored] = await rig.hub.records('Opportunity', [canonicalId]);
    expect(stored.data).toMatchObject({ amount: { amount: '64000.00', currency: 'USD' }, coSell: { status: 'submitted' } });
    expect((await quietSync()).writes).toBe(0);
  }, 60_000);

  it('a status edited by a CRM user is not read: ecosync\'s next write puts it right', async () => {
    const { canonicalId, sfId, hsId } = await syncedFromSalesforce();
    await rig.writer.patch({ connectionId: rig.connection.id, entity: 'Opportunity', canonicalId, values: { 'coSell.cloud': 'azure', 'coSell.status': 'in_review' } });
    rig.sf.state.update('Opportunity', sfId, { Ecosync_CoSell_Status__c: 'Approved' });
    const { writes, counters } = await quietSync();
    expect(writes).toBe(0);
    expect(counters.conflicts).toBe(0);
    expect(hsCoSell(hsId).status).toBe('in_review');
    await rig.writer.patch({ connectionId: rig.connection.id, entity: 'Opportunity', canonicalId, values: { 'coSell.status': 'rejected' } });
    expect(sfCoSell(sfId)).toMatchObject({ cloud: 'Microsoft', status: 'Rejected' });
  }, 60_000);

  it('refuses an opportunity ecosync never synced, and values the entity does not accept', async () => {
    await expect(rig.writer.patch({ connectionId: rig.connection.id, entity: 'Opportunity', canonicalId: randomUUID(), values: { 'coSell.status': 'submitted' } }))
      .rejects.toBeInstanceOf(CanonicalRecordNotFound);
    await expect(rig.writer.patch({ connectionId: rig.connection.id, entity: 'Opportunity', canonicalId: randomUUID(), values: { 'coSell.status': 'lost' } }))
      .rejects.toThrow(/coSell\.status: /);
  });
});
