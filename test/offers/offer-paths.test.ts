/**
 * The harder paths of an AWS private offer, on the real Temporal server: a change set AWS fails
 * goes back to Salesforce in words and a corrected resubmission succeeds; a CPPO publishes the
 * seller's resale authorization and then the reseller's offer; a marketplace busy with the offer
 * is waited out; the worker dying between NetSuite's order and its link leaves one order; an
 * offer near its expiry reminds the alliance manager.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { BUYER_ACCOUNT_IDS, RESELLER_ACCOUNT_ID, SELLER_ACCOUNT_ID } from '../../connectors/aws-marketplace/sandbox/index.js';
import { AwsMarketplaceClient } from '../../connectors/aws-marketplace/client.js';
import { SANDBOX_CREDENTIALS } from '../../connectors/aws-marketplace/sandbox/index.js';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { decideOffer, noticeOffer } from '../../src/service/offer-control.js';
import { startTestTemporal } from '../support/hub.js';
import { eventually } from '../support/temporal.js';
import { workerProcesses } from '../support/worker-processes.js';
import { ALLIANCE_MANAGER, DEAL_DESK, inDays, OfferHub } from './support.js';

describe('private offers on AWS Marketplace: fixes, CPPO, a busy marketplace, a crash, expiry', () => {
  let env: TestWorkflowEnvironment;
  let bundle: Awaited<ReturnType<typeof bundleWorkflows>>;

  beforeAll(async () => {
    [env, bundle] = await Promise.all([startTestTemporal(), bundleWorkflows()]);
  }, 120_000);
  afterAll(async () => { await env?.teardown(); });

  it('a change set AWS fails reaches Salesforce in words naming the field; the corrected opportunity, resubmitted and approved again, goes live', async () => {
    const offers = await OfferHub.start(env, bundle);
    try {
      // The seller's own account typed in as the buyer: AWS fails the set (VALIDATE) with INVALID_BUYER_ACCOUNTS.
      const sf = offers.opportunity(0, { buyers: SELLER_ACCOUNT_ID });
      const asked = await offers.create(sf.id);
      await decideOffer(offers.control, asked.id, 'approve', { by: DEAL_DESK });
      const failed = await offers.until(asked.id, (s) => s.status === 'failed', 'AWS to fail the change set');
      expect(failed.phase).toBe('fix');
      const buyers = failed.problems.find((p) => p.code === 'INVALID_BUYER_ACCOUNTS')!;
      expect(buyers).toMatchObject({ field: 'buyerAccounts', crmField: 'Ecosync_Offer_Buyers__c' });
      expect(buyers.message).toContain(`${SELLER_ACCOUNT_ID} is the seller's own account`);
      await eventually(async () => offers.sfOpportunity(sf.id).Ecosync_Offer_Status__c === 'Failed', 30_000, 'the failure in Salesforce');
      expect(offers.sfOpportunity(sf.id).Ecosync_Offer_Message__c).toContain('Ecosync_Offer_Buyers__c');
      // Nothing was created on AWS.
      expect([...offers.aws.state.store.offers.values()]).toHaveLength(0);

      // The alliance manager corrects the buyer in Salesforce and resubmits; the terms are read again and approved again.
      offers.hub.sf.state.update('Opportunity', sf.id, { Ecosync_Offer_Buyers__c: BUYER_ACCOUNT_IDS[1] });
      const resubmitted = await decideOffer(offers.control, asked.id, 'resubmit', { by: ALLIANCE_MANAGER, comment: 'buyer corrected' });
      expect(resubmitted.state).toMatchObject({ status: 'pending_approval', buyerAccounts: [BUYER_ACCOUNT_IDS[1]], problems: [] });
      await decideOffer(offers.control, asked.id, 'approve', { by: DEAL_DESK });
      const live = await offers.until(asked.id, (s) => s.status === 'live', 'the corrected offer to go live');
      expect(offers.aws.state.store.offers.get(live.cloudIds.offerId!)).toMatchObject({ buyerAccounts: [BUYER_ACCOUNT_IDS[1]] });
      expect(live.approvals.map((a) => a.decision)).toEqual(['submitted', 'approved', 'resubmitted', 'approved']);
      await eventually(async () => offers.sfOpportunity(sf.id).Ecosync_Offer_Status__c === 'Live', 30_000, 'the live offer in Salesforce');
    } finally {
      await offers.close();
    }
  }, 120_000);

  it('CPPO: the seller\'s resale authorization, then the reseller\'s offer at its markup; the buyer\'s acceptance is booked', async () => {
    const offers = await OfferHub.start(env, bundle);
    try {
      const sf = offers.opportunity(0, { Ecosync_Offer_Product__c: offers.products.hybrid, buyers: BUYER_ACCOUNT_IDS[2] });
      const asked = await offers.create(sf.id, {
        resale: { resellerAccountId: RESELLER_ACCOUNT_ID, markupPercent: '10' }, dimensions: [{ key: 'Users', price: '250.00', listPrice: '250.00', quantity: 100 }],
      });
      expect(asked.state).toMatchObject({ channel: 'cppo', status: 'pending_approval' });
      await decideOffer(offers.control, asked.id, 'approve', { by: DEAL_DESK });
      const live = await offers.until(asked.id, (s) => s.status === 'live', 'the reseller\'s offer to go live');
      const authorization = offers.aws.state.store.resaleAuthorizations.get(live.cloudIds.resaleAuthorizationId!)!;
      expect(authorization).toBeDefined();
      expect(live.resale).toMatchObject({ cloudId: authorization.id, released: true });
      const resold = offers.aws.state.store.offers.get(live.cloudIds.offerId!)!;
      expect(resold).toMatchObject({ resaleAuthorizationId: authorization.id, buyerAccounts: [BUYER_ACCOUNT_IDS[2]] });
      // Both sides: the seller's two sets (VALIDATE, APPLY) and the reseller's two.
      expect(offers.aws.counters.get('catalog.StartChangeSet')).toBe(4);
      const agreement = offers.aws.state.accept(live.cloudIds.offerId!, BUYER_ACCOUNT_IDS[2], { dimensions: { Users: 100 } });
      await noticeOffer(offers.control, offers.connection.name, live.cloudIds.offerId!, { kind: 'agreement', agreementId: agreement.id, offerId: live.cloudIds.offerId! });
      expect(await env.client.workflow.getHandle(asked.id).result()).toMatchObject({ status: 'accepted', agreementId: agreement.id });
      expect(offers.hub.ns!.state.all('salesOrder').filter((o) => o.body.otherRefNum === agreement.id)).toHaveLength(1);
    } finally {
      await offers.close();
    }
  }, 120_000);

  it('withdrawing while AWS applies another change to the offer waits the ResourceInUseException out', async () => {
    // Change sets take a second on the marketplace's clock, so one can be in flight when the withdrawal comes.
    const offers = await OfferHub.start(env, bundle, { aws: { changeSetMs: 1_000 } });
    try {
      const sf = offers.opportunity(0);
      const asked = await offers.create(sf.id);
      await decideOffer(offers.control, asked.id, 'approve', { by: DEAL_DESK });
      const live = await offers.until(asked.id, (s) => s.status === 'live', 'the offer to go live');
      // The seller changes the offer's description in AWS's console meanwhile.
      const seller = new AwsMarketplaceClient({ endpoint: offers.aws.url, ...SANDBOX_CREDENTIALS.seller });
      try {
        await seller.startChangeSet({
          changes: [{ ChangeType: 'UpdateInformation', Entity: { Type: 'Offer@1.0', Identifier: live.cloudIds.offerId! }, DetailsDocument: { Name: live.name, Description: 'Updated in the console' } }] as never,
          token: 'console-edit-1',
        });
      } finally {
        seller.close();
      }
      const withdrawn = await decideOffer(offers.control, asked.id, 'withdraw', { by: ALLIANCE_MANAGER, reason: 'the buyer went with another vendor' });
      expect(withdrawn.state).toMatchObject({ status: 'withdrawn', phase: 'done' });
      expect(offers.aws.counters.get('catalog.StartChangeSet.ResourceInUseException')).toBeGreaterThanOrEqual(1);
      offers.aws.state.settle();
      expect(offers.aws.state.store.offers.get(live.cloudIds.offerId!)!.availabilityEndDate).toBe(inDays(offers.aws, 0));
      expect(await env.client.workflow.getHandle(asked.id).result()).toMatchObject({ status: 'withdrawn' });
    } finally {
      await offers.close();
    }
  }, 120_000);

  it('the worker killed with SIGKILL after NetSuite made the order, before its link was saved: one order, booked once', async () => {
    const offers = await OfferHub.start(env, bundle, { store: 'postgres', worker: false });
    const workers = workerProcesses({ address: env.address, taskQueue: offers.hub.taskQueue, schema: offers.hub.db.schema! });
    const startWorkerProcess = () => workers.start();
    try {
      const first = await startWorkerProcess();
      await offers.firstSync();
      const sf = offers.opportunity(1);
      const asked = await offers.create(sf.id);
      await decideOffer(offers.control, asked.id, 'approve', { by: DEAL_DESK });
      const live = await offers.until(asked.id, (s) => s.status === 'live', 'the offer to go live');

      // NetSuite keeps the order, and the worker dies before it hears back.
      const ns = offers.hub.ns!;
      const upsert = ns.state.upsertByExternalId.bind(ns.state);
      let killed = false;
      ns.state.upsertByExternalId = (type, externalId, body, options) => {
        const result = upsert(type, externalId, body, options);
        if (type === 'salesOrder' && !killed) {
          killed = true;
          first.kill('SIGKILL');
        }
        return result;
      };
      const agreement = offers.aws.state.accept(live.cloudIds.offerId!, BUYER_ACCOUNT_IDS[0], { dimensions: { BasicService: 2, PremiumService: 1 } });
      await noticeOffer(offers.control, offers.connection.name, live.cloudIds.offerId!, { kind: 'agreement', agreementId: agreement.id, offerId: live.cloudIds.offerId! });
      await eventually(async () => killed, 30_000, 'NetSuite to receive the order');
      await startWorkerProcess();
      expect(await env.client.workflow.getHandle(asked.id).result()).toMatchObject({ status: 'accepted', agreementId: agreement.id });

      const orders = ns.state.all('salesOrder').filter((o) => o.body.otherRefNum === agreement.id);
      expect(orders).toHaveLength(1);
      const [row] = await offers.store.agreements.list({ connectionId: offers.connection.id });
      expect(row.salesOrderId).toBeTruthy();
      expect(await offers.store.agreements.list({ connectionId: offers.connection.id })).toHaveLength(1);
    } finally {
      workers.killAll();
      await offers.close();
    }
  }, 300_000);

  it('an offer the buyer has not accepted a week before it expires reminds the alliance manager once', async () => {
    const offers = await OfferHub.start(env, bundle);
    try {
      const sf = offers.opportunity(0, { Ecosync_Offer_Expires__c: inDays(offers.aws, 3) });
      const asked = await offers.create(sf.id);
      await decideOffer(offers.control, asked.id, 'approve', { by: DEAL_DESK });
      const live = await offers.until(asked.id, (s) => s.status === 'live', 'the offer to go live');
      const reminder = await eventually(async () => offers.reminders.find((r) => r.subject.startsWith('Private offer expires')), 30_000, 'the expiry reminder');
      expect(reminder).toMatchObject({ to: [ALLIANCE_MANAGER], subject: `Private offer expires ${live.expiresOn}` });
      expect(reminder.text).toContain(live.buyerUrl);
      // A notice wakes the workflow: it looks for an acceptance again, and does not remind twice.
      await noticeOffer(offers.control, offers.connection.name, live.cloudIds.offerId!, { kind: 'changeSet', changeSetId: 'x', status: 'SUCCEEDED' });
      await offers.until(asked.id, (s) => s.status === 'live', 'the offer still live');
      expect(offers.reminders.filter((r) => r.subject.startsWith('Private offer expires'))).toHaveLength(1);
    } finally {
      await offers.close();
    }
  }, 120_000);
});
