/**
 * A Microsoft private offer on the real Temporal server: the opportunity's terms become a
 * customer promotion through a Product Ingestion configure job; the buyer's purchase brings the
 * buyer's browser to the hub's landing page (the sandbox opens it, as Microsoft's portal would),
 * whose token is resolved and the SaaS subscription activated, then booked like an AWS
 * agreement: recorded once, the opportunity won, NetSuite's customer and one sales order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { buildApi } from '../../src/api/server.js';
import { webhooksPlugin } from '../../src/api/webhooks/index.js';
import { freePort } from '../support/process.js';
import { MicrosoftMarketplaceClient } from '../../connectors/microsoft-marketplace/client.js';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { decideOffer } from '../../src/service/offer-control.js';
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

  it('approved and configured; the buyer lands on the hub\'s page, and the purchase is resolved, activated and booked once', async () => {
    const port = await freePort();
    const landing = `http://127.0.0.1:${port}/webhooks/microsoft-marketplace/ms-offers/landing`;
    const offers = await OfferHub.start(env, bundle, { microsoft: { landingPageUrl: landing } });
    const app = await buildApi({ log: pino({ level: 'silent' }), health: async () => ({}), plugins: [webhooksPlugin({ store: offers.store, sync: { client: env.client, taskQueue: offers.hub.taskQueue } })] });
    try {
      offers.connection = await offers.store.connections.update(offers.connection.id, { name: 'ms-offers' });
      await app.listen({ host: '127.0.0.1', port });
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
      await eventually(async () => offers.sfOpportunity(sf.id).Ecosync_Offer_Id__c === live.cloudIds.offerId, 30_000, 'the offer id in Salesforce');

      // The customer buys; Microsoft's portal sends the browser to the landing page with the token.
      const purchase = ms.state.acceptPrivateOffer(live.cloudIds.offerId!, { beneficiaryId: `${BENEFICIARY}_2019-05-31` });
      expect(purchase.landingPageUrl).toContain(landing);
      // A second visit of the landing page (a reload) changes nothing; a made-up token is refused.
      const again = await fetch(purchase.landingPageUrl!);
      expect(again.status).toBe(200);
      expect(await again.text()).toContain(purchase.subscription.id);
      expect((await fetch(`${landing}?token=not-a-token`)).status).toBe(400);
      const client = new MicrosoftMarketplaceClient(offers.microsoftConfig());

      expect(await env.client.workflow.getHandle(asked.id).result()).toMatchObject({ status: 'accepted', agreementId: purchase.subscription.id });
      expect((await client.subscription(purchase.subscription.id)).status).toBe('Subscribed');
      const agreements = await offers.store.agreements.list({ connectionId: offers.connection.id });
      expect(agreements).toMatchObject([{ cloud: 'azure', agreementId: purchase.subscription.id, offerId: live.cloudIds.offerId, totalContractValue: '4860.00', data: { subscriptionId: purchase.subscription.id, planId: 'pro' } }]);
      const orders = offers.hub.ns!.state.all('salesOrder').filter((o) => o.body.otherRefNum === purchase.subscription.id);
      expect(orders).toHaveLength(1);
      await eventually(async () => offers.sfOpportunity(sf.id).StageName === 'Closed Won', 30_000, 'the opportunity won in Salesforce');
      // The browser's visit the sandbox made (the reload above was the test's own).
      expect(ms.landingCounters.get('visits')).toBe(1);
      client.close();
    } finally {
      await app.close();
      await offers.close();
    }
  }, 120_000);
});
