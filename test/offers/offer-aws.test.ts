/**
 * Private offers on AWS Marketplace, on the real Temporal server: an opportunity's terms become
 * an offer after its approvals, published through the official SDK to the Marketplace sandbox;
 * its status, id and buyer link reach Salesforce; the buyer's acceptance is booked once — the
 * agreement recorded, the opportunity won, NetSuite's customer and one sales order — however
 * often it is announced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { BUYER_ACCOUNT_IDS } from '../../connectors/aws-marketplace/sandbox/index.js';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { decideOffer, listOffers, noticeOffer, offerStatus } from '../../src/service/offer-control.js';
import type { StoreKind } from '../store/stores.js';
import { startTestTemporal } from '../support/hub.js';
import { eventually } from '../support/temporal.js';
import { ALLIANCE_LEAD, ALLIANCE_MANAGER, DEAL_DESK, OfferHub } from './support.js';

describe('private offers on AWS Marketplace, on the real Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let bundle: Awaited<ReturnType<typeof bundleWorkflows>>;

  beforeAll(async () => {
    [env, bundle] = await Promise.all([startTestTemporal(), bundleWorkflows()]);
  }, 120_000);
  afterAll(async () => { await env?.teardown(); });

  describe.each<StoreKind>(['pglite', 'postgres'])('on %s', (store) => {
    it('approved, published and accepted: the CRM follows every step; an acceptance announced twice and polled makes one agreement, one NetSuite customer and one sales order', async () => {
      const offers = await OfferHub.start(env, bundle, { store });
      try {
        const sf = offers.opportunity(0);
        const asked = await offers.create(sf.id);
        expect(asked.started).toBe(true);
        expect(asked.state).toMatchObject({ status: 'pending_approval', phase: 'approval', currentStage: 'deal_desk', pendingApprovers: [DEAL_DESK], totalValue: '60000.00', discountPercent: '9.09' });
        // The same request again finds the running offer.
        expect((await offers.create(sf.id)).started).toBe(false);
        await eventually(async () => offers.sfOpportunity(sf.id).Ecosync_Offer_Status__c === 'Pending Approval', 30_000, 'the pending approval in Salesforce');
        expect(offers.sfOpportunity(sf.id).Ecosync_Offer_Message__c).toBe(`Waiting for deal_desk: ${DEAL_DESK}`);
        expect(await listOffers(offers.control, { approver: DEAL_DESK })).toEqual([expect.objectContaining({ id: asked.id, status: 'pending_approval' })]);

        await decideOffer(offers.control, asked.id, 'approve', { by: DEAL_DESK });
        const live = await offers.until(asked.id, (s) => s.status === 'live', 'the offer to go live');
        expect(live.cloudIds.offerId).toMatch(/^offer-/);
        expect(live.buyerUrl).toContain(live.cloudIds.offerId);
        expect(live.approvals.map((a) => [a.stage, a.by, a.decision])).toEqual([['submission', ALLIANCE_MANAGER, 'submitted'], ['deal_desk', DEAL_DESK, 'approved']]);
        const onAws = offers.aws.state.store.offers.get(live.cloudIds.offerId!)!;
        expect(onAws).toMatchObject({ state: 'Released', productId: offers.products.contract, buyerAccounts: [BUYER_ACCOUNT_IDS[0]] });
        // VALIDATE, then APPLY: two change sets, each started once.
        expect(offers.aws.counters.get('catalog.StartChangeSet')).toBe(2);
        await eventually(async () => offers.sfOpportunity(sf.id).Ecosync_Offer_Id__c === live.cloudIds.offerId, 30_000, 'the offer id in Salesforce');
        expect(offers.sfOpportunity(sf.id)).toMatchObject({ Ecosync_Offer_Status__c: 'Live', Ecosync_Offer_Url__c: live.buyerUrl });
        expect(await listOffers(offers.control, { buyer: BUYER_ACCOUNT_IDS[0], status: 'live' })).toHaveLength(1);

        // The buyer accepts; the event arrives twice, and the poll would find it too.
        const agreement = offers.aws.state.accept(live.cloudIds.offerId!, BUYER_ACCOUNT_IDS[0], { dimensions: { BasicService: 2, PremiumService: 1 } });
        const notice = { kind: 'agreement' as const, agreementId: agreement.id, offerId: live.cloudIds.offerId! };
        expect(await noticeOffer(offers.control, offers.connection.name, live.cloudIds.offerId!, notice)).toBe(true);
        await noticeOffer(offers.control, offers.connection.name, live.cloudIds.offerId!, notice);
        // The workflow ends once the acceptance is booked and written back.
        expect(await env.client.workflow.getHandle(asked.id).result()).toMatchObject({ phase: 'done', status: 'accepted', agreementId: agreement.id });
        expect((await offerStatus(offers.control, asked.id)).execution).toBe('COMPLETED');

        const agreements = await offers.store.agreements.list({ connectionId: offers.connection.id });
        expect(agreements).toHaveLength(1);
        expect(agreements[0]).toMatchObject({ agreementId: agreement.id, offerId: live.cloudIds.offerId, totalContractValue: '60000.00', currency: 'USD', acceptor: BUYER_ACCOUNT_IDS[0] });
        const ns = offers.hub.ns!;
        const orders = ns.state.all('salesOrder').filter((o) => o.body.otherRefNum === agreement.id);
        expect(orders).toHaveLength(1);
        expect(orders[0].items?.map((l) => l.amount)).toEqual([30000, 30000]);
        expect(agreements[0].salesOrderId).toBeTruthy();
        const account = offers.hub.sfRecords('Account').find((a) => a.Id === offers.sfOpportunity(sf.id).AccountId)!;
        const customers = ns.state.all('customer').filter((c) => c.body.companyName === account.Name);
        expect(customers).toHaveLength(1);
        expect(orders[0].body.entity).toBe(customers[0].id);
        await eventually(async () => offers.sfOpportunity(sf.id).StageName === 'Closed Won', 30_000, 'the opportunity won in Salesforce');
        expect(offers.sfOpportunity(sf.id)).toMatchObject({ Amount: 60000, Ecosync_Offer_Status__c: 'Accepted' });

        // The next sync cycle leaves the order alone, and asking again answers with the accepted offer instead of a second one.
        const again = await offers.hub.sync(offers.connection);
        expect(again.counters.failed).toBe(0);
        expect(ns.state.all('salesOrder').filter((o) => o.body.otherRefNum === agreement.id)).toHaveLength(1);
        expect(await offers.create(sf.id)).toMatchObject({ started: false, execution: 'COMPLETED', state: { status: 'accepted' } });
      } finally {
        await offers.close();
      }
    }, 180_000);
  });

  it('a refused approval leaves the history as it was; an offer deep below list waits for the alliance lead as well', async () => {
    const offers = await OfferHub.start(env, bundle);
    try {
      const sf = offers.opportunity(1);
      const asked = await offers.create(sf.id, { dimensions: [{ key: 'BasicService', price: '10000.00', listPrice: '18000.00', quantity: 2 }] });
      expect(asked.state).toMatchObject({ discountPercent: '44.44', currentStage: 'deal_desk' });
      // Measured once the workflow waits for the deal desk, its status written to Salesforce.
      await eventually(async () => offers.sfOpportunity(sf.id).Ecosync_Offer_Status__c === 'Pending Approval', 30_000, 'the pending approval in Salesforce');
      const handle = env.client.workflow.getHandle(asked.id);
      // Let the status write-back finish: from then on only a decision can add to the history.
      await eventually(async () => {
        const { raw } = await handle.describe();
        return (raw.pendingActivities?.length ?? 0) === 0 && !raw.pendingWorkflowTask;
      }, 30_000, 'the workflow idle, waiting for the deal desk');
      const events = async () => (await handle.fetchHistory()).events?.length ?? 0;
      const before = await events();
      // The alliance lead may not decide the deal desk's stage; nor may anyone approve without a name.
      await expect(decideOffer(offers.control, asked.id, 'approve', { by: ALLIANCE_LEAD })).rejects.toThrow(/deal_desk/);
      await expect(decideOffer(offers.control, asked.id, 'reject', { by: DEAL_DESK })).rejects.toThrow(/comment/);
      expect(await events()).toBe(before);

      const first = await decideOffer(offers.control, asked.id, 'approve', { by: DEAL_DESK });
      expect(first.state).toMatchObject({ status: 'pending_approval', currentStage: 'alliance_lead', pendingApprovers: [ALLIANCE_LEAD] });
      expect(offers.aws.counters.get('catalog.StartChangeSet') ?? 0).toBe(0);
      await decideOffer(offers.control, asked.id, 'approve', { by: ALLIANCE_LEAD });
      const live = await offers.until(asked.id, (s) => s.status === 'live', 'the offer to go live');
      expect(live.approvals.filter((a) => a.decision === 'approved').map((a) => a.stage)).toEqual(['deal_desk', 'alliance_lead']);
    } finally {
      await offers.close();
    }
  }, 120_000);
});
