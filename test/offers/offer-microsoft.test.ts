/**
 * A Microsoft private offer on the real Temporal server: the opportunity's terms become a
 * customer promotion through a Product Ingestion configure job; the buyer's purchase, announced
 * by the landing page's token, is resolved and its SaaS subscription activated, then booked like
 * an AWS agreement: recorded once, the opportunity won, NetSuite's customer and one sales order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { MicrosoftMarketplaceClient } from '../../connectors/microsoft-marketplace/client.js';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { decideOffer, landMicrosoftPurchase } from '../../src/service/offer-control.js';
import { startTestTemporal } from '../support/hub.js';
import { eventually } from '../support/temporal.js';
import { DEAL_DESK, inDays, OfferHub } from './support.js';

const TENANT = 'a1b2c3d4-1111-4222-8333-444455556666';
const BENEFICIARY = `${TENANT}:7471d04e-f696-4d20-af34-fa78d51e419c`;

describe('a Microsoft private offer, on the real Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let bundle: Awaited<ReturnType<typeof bundleWorkflows>>;

  beforeAll(async () => {
    [env, bundle] = await Promise.all([startTestTemporal(), bundleWorkflows()]);
  }, 120_000);
  afterAll(async () => { await env?.teardown(); });

  it('approved and configured; the purchase is resolved, activated and booked once', async () => {
    const offers = await OfferHub.start(env, bundle, { microsoft: true });
    try {
      const ms = offers.microsoft!;
      const product = ms.state.products()[0];
      const plan = product.plans.find((p) => p.externalId === 'pro')!;
      const sf = offers.opportunity(0, { Ecosync_Offer_Product__c: product.id, Ecosync_Offer_Plan__c: plan.id, buyers: BENEFICIARY, Ecosync_Offer_Expires__c: inDays(offers.aws, 30) });
      const asked = await offers.create(sf.id, { cloud: 'azure', dimensions: [{ key: 'pro', price: '4860.00', listPrice: '5400.00', quantity: 1 }] });
      expect(asked.state).toMatchObject({ cloud: 'azure', status: 'pending_approval', discountPercent: '10.00' });
      await decideOffer(offers.control, asked.id, 'approve', { by: DEAL_DESK });
      const live = await offers.until(asked.id, (s) => s.status === 'live', 'the configure job to make the offer live');
      expect(live.cloudIds.offerId).toMatch(/^private-offer\/[0-9a-f-]{36}$/);
      expect(ms.state.privateOffer(live.cloudIds.offerId!)).toMatchObject({
        state: 'live', privateOfferType: 'customerPromotion', acceptBy: live.expiresOn,
        beneficiaries: [{ id: `${BENEFICIARY}_2019-05-31` }],
        pricing: [{ product: product.id, plan: plan.id, discountType: 'percentage', discountPercentage: 10 }],
      });
      await eventually(async () => offers.sfOpportunity(sf.id).Ecosync_Offer_Id__c === live.cloudIds.offerId, 15_000, 'the offer id in Salesforce');

      // The customer buys; the browser brings the token to the landing page, which resolves it and tells the offer.
      const purchase = ms.state.acceptPrivateOffer(live.cloudIds.offerId!, { beneficiaryId: `${BENEFICIARY}_2019-05-31` });
      const client = new MicrosoftMarketplaceClient(offers.microsoftConfig());
      const resolved = await client.resolve(purchase.token);
      expect(resolved).toMatchObject({ id: purchase.subscription.id, status: 'PendingFulfillmentStart', beneficiaryTenantId: TENANT });
      expect(await landMicrosoftPurchase(offers.control, offers.connection.name, resolved)).toBe(asked.id);
      // A second visit of the landing page changes nothing.
      await landMicrosoftPurchase(offers.control, offers.connection.name, resolved);

      expect(await env.client.workflow.getHandle(asked.id).result()).toMatchObject({ status: 'accepted', agreementId: purchase.subscription.id });
      expect((await client.subscription(purchase.subscription.id)).status).toBe('Subscribed');
      const agreements = await offers.store.agreements.list({ connectionId: offers.connection.id });
      expect(agreements).toMatchObject([{ cloud: 'azure', agreementId: purchase.subscription.id, offerId: live.cloudIds.offerId, totalContractValue: '4860.00', data: { subscriptionId: purchase.subscription.id, planId: 'pro' } }]);
      const orders = offers.hub.ns!.state.all('salesOrder').filter((o) => o.body.otherRefNum === purchase.subscription.id);
      expect(orders).toHaveLength(1);
      await eventually(async () => offers.sfOpportunity(sf.id).StageName === 'Closed Won', 15_000, 'the opportunity won in Salesforce');
      client.close();
    } finally {
      await offers.close();
    }
  }, 120_000);
});
