import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMicrosoftSandbox, type MicrosoftSandbox } from '../../microsoft-partner-center/sandbox/server.js';
import type { MicrosoftMarketplaceSandbox, WebhookBody } from '../sandbox/index.js';
import {
  BENEFICIARY, call, GRAPH_SCOPE, Marketplace, MARKETPLACE_SCOPE, OTHER_BENEFICIARY, startMarketplace, startReceiver, tokenFor,
} from './helpers.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ecosync-msmp-'));
let entra: MicrosoftSandbox;
let sb: MicrosoftMarketplaceSandbox;
let mp: Marketplace;
let publisher: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  entra = await startMicrosoftSandbox({ dataDir, incoming: 0 });
  publisher = await startReceiver();
  sb = await startMarketplace(entra, { webhookUrl: `${publisher.url}/webhook`, landingPageUrl: `${publisher.url}/landing`, pageSize: 2 });
  mp = new Marketplace(sb, entra);
});
afterAll(async () => {
  await sb?.close();
  await publisher?.close();
  await entra?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const Q = '?api-version=2018-08-31';
const webhookCalls = () => publisher.received.filter((r) => r.url === '/webhook');
const lastWebhook = (): WebhookBody => JSON.parse(webhookCalls().at(-1)!.body);

describe('a private offer accepted, then resolved and activated', () => {
  it('lands the buyer on the landing page with a token the publisher resolves and activates to Subscribed', async () => {
    const offer = await mp.liveOffer();
    const purchase = sb.state.acceptPrivateOffer(offer.id, { beneficiaryId: BENEFICIARY, purchaserEmail: 'it@contoso.example.com' });
    expect(purchase.subscription.saasSubscriptionStatus).toBe('PendingFulfillmentStart');
    expect(Date.parse(purchase.tokenExpiresAt) - Date.parse(purchase.subscription.created)).toBe(24 * 3600 * 1000);
    expect(sb.state.privateOffer(offer.id).acceptances).toEqual([{ beneficiaryId: BENEFICIARY, subscriptionId: purchase.subscription.id, planId: 'pro', at: expect.any(String) }]);

    // The buyer's browser opens the landing page; the publisher reads the token from the URL.
    await sb.notificationsIdle();
    const visit = publisher.received.find((r) => r.url.startsWith('/landing'))!;
    expect(visit.method).toBe('GET');
    const token = new URL(visit.url, publisher.url).searchParams.get('token')!;
    expect(token).toBe(purchase.token);
    expect(sb.landingCounters.get('visits')).toBe(1);

    const resolved = await mp.api('POST', `/saas/subscriptions/resolve${Q}`, undefined, { 'x-ms-marketplace-token': token, 'content-type': 'application/json' });
    expect(resolved.status).toBe(200);
    expect(resolved.headers.get('x-ms-requestid')).toBeTruthy();
    const id = purchase.subscription.id;
    expect(resolved.body).toMatchObject({
      id, subscriptionName: 'Contoso analytics 2025 (Contoso)', offerId: 'ecosync-analytics', planId: 'pro',
      subscription: {
        id, offerId: 'ecosync-analytics', planId: 'pro', saasSubscriptionStatus: 'PendingFulfillmentStart', publisherId: 'ecosyncsandbox',
        beneficiary: { emailId: 'it@contoso.example.com', tenantId: BENEFICIARY.split(':')[0] }, purchaser: { tenantId: BENEFICIARY.split(':')[0] },
        term: { termUnit: 'P1M', startDate: expect.stringMatching(/T00:00:00Z$/), endDate: expect.stringMatching(/T00:00:00Z$/) },
      },
    });
    expect(resolved.body.quantity).toBeUndefined();

    const wrongPlan = await mp.api('POST', `/saas/subscriptions/${id}/activate${Q}`, { planId: 'basic' });
    expect(wrongPlan.status).toBe(400);
    expect(wrongPlan.body.error).toMatchObject({ code: 'BadArgument', message: expect.stringMatching(/does not match the purchased plan 'pro'/) });
    expect((await mp.api('POST', `/saas/subscriptions/${id}/activate${Q}`, {})).status).toBe(400);

    const activated = await mp.api('POST', `/saas/subscriptions/${id}/activate${Q}`, { planId: 'pro' });
    expect(activated.status).toBe(200);
    expect(activated.body).toBe('');
    const got = await mp.api('GET', `/saas/subscriptions/${id}${Q}`);
    expect(got.body).toMatchObject({ id, saasSubscriptionStatus: 'Subscribed' });
    const again = await mp.api('POST', `/saas/subscriptions/${id}/activate${Q}`, { planId: 'pro' });
    expect(again.status).toBe(400);
    // The token still resolves, now to the subscribed subscription.
    expect((await mp.api('POST', `/saas/subscriptions/resolve${Q}`, undefined, { 'x-ms-marketplace-token': token })).body.subscription.saasSubscriptionStatus).toBe('Subscribed');
  });

  it('refuses a missing, unknown or URL-encoded token with 400, and an expired one after 24 hours', async () => {
    const missing = await mp.api('POST', `/saas/subscriptions/resolve${Q}`);
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('HeaderNotPresent');
    const offer = await mp.liveOffer({ beneficiaries: [{ id: OTHER_BENEFICIARY }] });
    const { token } = sb.state.acceptPrivateOffer(offer.id, { beneficiaryId: OTHER_BENEFICIARY });
    expect((await mp.api('POST', `/saas/subscriptions/resolve${Q}`, undefined, { 'x-ms-marketplace-token': 'nonsense' })).status).toBe(400);
    expect((await mp.api('POST', `/saas/subscriptions/resolve${Q}`, undefined, { 'x-ms-marketplace-token': encodeURIComponent(token) })).status).toBe(400);
    expect((await mp.api('POST', `/saas/subscriptions/resolve${Q}`, undefined, { 'x-ms-marketplace-token': token })).status).toBe(200);

    mp.advance(24 * 3600 * 1000);
    const expired = await mp.api('POST', `/saas/subscriptions/resolve${Q}`, undefined, { 'x-ms-marketplace-token': token });
    expect(expired.status).toBe(400);
    expect(expired.body.error.message).toMatch(/has expired/);
  });

  it('refuses a second acceptance by the same beneficiary, and a beneficiary the offer does not name', async () => {
    const offer = await mp.liveOffer();
    sb.state.acceptPrivateOffer(offer.id, { beneficiaryId: BENEFICIARY });
    expect(() => sb.state.acceptPrivateOffer(offer.id, { beneficiaryId: BENEFICIARY })).toThrow(/already accepted/);
    expect(() => sb.state.acceptPrivateOffer(offer.id, { beneficiaryId: OTHER_BENEFICIARY })).toThrow(/not a beneficiary/);
  });

  it('lists subscriptions a page at a time through @nextLink', async () => {
    const seen: string[] = [];
    let next: string | undefined = `${sb.marketplaceApiUrl}/saas/subscriptions${Q}`;
    let pages = 0;
    while (next) {
      const page = await call(next, { token: await mp.token(MARKETPLACE_SCOPE) });
      expect(page.status).toBe(200);
      expect(page.body.subscriptions.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.subscriptions.map((s: any) => s.id));
      next = page.body['@nextLink'];
      pages++;
    }
    expect(pages).toBeGreaterThan(1);
    expect(seen).toEqual(sb.state.subscriptions().map((s) => s.id));
  });
});

describe('operations, their webhook calls and their acknowledgement', () => {
  it('notifies a Suspend with the subscription and a token for the app, then a Reinstate that waits for the publisher', async () => {
    const subscription = await mp.subscribed();
    const id = subscription.id;
    const suspend = sb.state.startOperation(id, 'Suspend');
    expect(suspend).toMatchObject({ action: 'Suspend', status: 'Succeeded', operationRequestSource: 'Azure', subscriptionId: id });
    await sb.notificationsIdle();
    const call1 = webhookCalls().at(-1)!;
    expect(call1.method).toBe('POST');
    expect(JSON.parse(call1.body)).toMatchObject({
      id: suspend.id, action: 'Suspend', status: 'Succeeded', subscriptionId: id, offerId: 'ecosync-analytics', planId: 'pro', purchaseToken: null,
      subscription: { id, saasSubscriptionStatus: 'Suspended' },
    });
    const claims = decodeJwt(call1.headers.authorization!.replace(/^Bearer /, ''));
    expect(claims).toMatchObject({ aud: entra.clientId, tid: entra.tenantId, iss: `${entra.url}/${entra.tenantId}/v2.0` });

    const reinstate = sb.state.startOperation(id, 'Reinstate');
    expect(reinstate.status).toBe('InProgress');
    await sb.notificationsIdle();
    expect(lastWebhook()).toMatchObject({ id: reinstate.id, action: 'Reinstate', status: 'InProgress', subscription: { saasSubscriptionStatus: 'Suspended' } });
    const pending = await mp.api('GET', `/saas/subscriptions/${id}/operations${Q}`);
    expect(pending.body.operations.map((o: any) => o.id)).toEqual([reinstate.id]);

    const ack = await mp.api('PATCH', `/saas/subscriptions/${id}/operations/${reinstate.id}${Q}`, { status: 'Success' });
    expect(ack.status).toBe(200);
    expect((await mp.api('GET', `/saas/subscriptions/${id}/operations/${reinstate.id}${Q}`)).body.status).toBe('Succeeded');
    expect((await mp.api('GET', `/saas/subscriptions/${id}${Q}`)).body.saasSubscriptionStatus).toBe('Subscribed');
    expect((await mp.api('GET', `/saas/subscriptions/${id}/operations${Q}`)).body.operations).toEqual([]);
    const twice = await mp.api('PATCH', `/saas/subscriptions/${id}/operations/${reinstate.id}${Q}`, { status: 'Success' });
    expect(twice.status).toBe(409);
    expect((await mp.api('PATCH', `/saas/subscriptions/${id}/operations/${suspend.id}${Q}`, { status: 'Failure' })).status).toBe(409);
  });

  it('leaves the plan as it was when the publisher answers a ChangePlan with Failure', async () => {
    const { id } = await mp.subscribed();
    const change = sb.state.startOperation(id, 'ChangePlan', { planId: 'basic' });
    expect(change).toMatchObject({ status: 'InProgress', planId: 'basic' });
    expect(() => sb.state.startOperation(id, 'Suspend')).toThrow(/in progress/);
    expect((await mp.api('PATCH', `/saas/subscriptions/${id}/operations/${change.id}${Q}`, { status: 'Maybe' })).status).toBe(400);
    expect((await mp.api('PATCH', `/saas/subscriptions/${id}/operations/${change.id}${Q}`, { status: 'Failure' })).status).toBe(200);
    expect((await mp.api('GET', `/saas/subscriptions/${id}/operations/${change.id}${Q}`)).body.status).toBe('Failed');
    expect((await mp.api('GET', `/saas/subscriptions/${id}${Q}`)).body.planId).toBe('pro');
  });

  it('changes the seats once the publisher says Success, or on its own after Microsoft\'s ten seconds', async () => {
    const product = sb.state.products()[1];
    const team = product.plans.find((p) => p.externalId === 'team')!;
    const { id, quantity } = await mp.subscribed({ pricing: [{ product: product.id, plan: team.id, discountType: 'percentage', discountPercentage: 5 }] });
    expect(quantity).toBe(5);
    expect(() => sb.state.startOperation(id, 'ChangeQuantity', { quantity: 500 })).toThrow(/from 5 to 100 seats/);
    const more = sb.state.startOperation(id, 'ChangeQuantity', { quantity: 12 });
    await mp.api('PATCH', `/saas/subscriptions/${id}/operations/${more.id}${Q}`, { status: 'Success' });
    expect(sb.state.subscriptions().find((s) => s.id === id)!.quantity).toBe(12);

    const fewer = sb.state.startOperation(id, 'ChangeQuantity', { quantity: 8 });
    sb.state.advanceClock(9_000);
    expect((await mp.api('GET', `/saas/subscriptions/${id}/operations/${fewer.id}${Q}`)).body.status).toBe('InProgress');
    sb.state.advanceClock(1_000);
    expect((await mp.api('GET', `/saas/subscriptions/${id}/operations/${fewer.id}${Q}`)).body.status).toBe('Succeeded');
    expect((await mp.api('GET', `/saas/subscriptions/${id}${Q}`)).body.quantity).toBe(8);
  });

  it('takes the publisher\'s own plan change and cancellation as operations at their Operation-Location', async () => {
    const { id } = await mp.subscribed();
    const both = await mp.api('PATCH', `/saas/subscriptions/${id}${Q}`, { planId: 'basic', quantity: 3 });
    expect(both.status).toBe(400);
    const changed = await mp.api('PATCH', `/saas/subscriptions/${id}${Q}`, { planId: 'basic' });
    expect(changed.status).toBe(202);
    const location = changed.headers.get('operation-location')!;
    expect(location).toMatch(new RegExp(`/api/saas/subscriptions/${id}/operations/[0-9a-f-]{36}\\?api-version=2018-08-31$`));
    const op = (await call(location, { token: await mp.token(MARKETPLACE_SCOPE) })).body;
    expect(op).toMatchObject({ action: 'ChangePlan', status: 'InProgress', planId: 'basic', operationRequestSource: 'Partner' });
    await call(location, { method: 'PATCH', body: { status: 'Success' }, token: await mp.token(MARKETPLACE_SCOPE) });
    expect((await mp.api('GET', `/saas/subscriptions/${id}${Q}`)).body.planId).toBe('basic');

    const cancelled = await mp.api('DELETE', `/saas/subscriptions/${id}${Q}`);
    expect(cancelled.status).toBe(202);
    expect((await mp.api('GET', `/saas/subscriptions/${id}${Q}`)).body.saasSubscriptionStatus).toBe('Unsubscribed');
    await sb.notificationsIdle();
    expect(lastWebhook()).toMatchObject({ action: 'Unsubscribe', status: 'Succeeded', operationRequestSource: 'Partner', subscription: { saasSubscriptionStatus: 'Unsubscribed' } });
  });

  it('renews a term and unsubscribes on Microsoft\'s side', async () => {
    const { id, term } = await mp.subscribed();
    sb.state.startOperation(id, 'Renew');
    const renewed = sb.state.subscriptions().find((s) => s.id === id)!;
    expect(Date.parse(renewed.term.startDate!)).toBe(Date.parse(term.endDate) + 24 * 3600 * 1000);
    sb.state.startOperation(id, 'Unsubscribe');
    expect(sb.state.subscriptions().find((s) => s.id === id)!.saasSubscriptionStatus).toBe('Unsubscribed');
    const activate = await mp.api('POST', `/saas/subscriptions/${id}/activate${Q}`, { planId: 'pro' });
    expect(activate.status).toBe(404);
  });
});

describe('who may call', () => {
  it('answers 401 to a Graph token and to an expired one, 403 to an app the offer was not published with', async () => {
    const url = `${sb.marketplaceApiUrl}/saas/subscriptions${Q}`;
    const graph = await call(url, { token: await tokenFor(entra, GRAPH_SCOPE) });
    expect(graph.status).toBe(401);
    expect(graph.headers.get('www-authenticate')).toMatch(/invalid_token.*not for 20e940b3/);
    expect((await call(url)).status).toBe(401);

    const foreign = sb.state.addProduct({ externalId: 'someone-elses', alias: 'Not ours', appId: '11111111-2222-4333-8444-555555555555', plans: [{ externalId: 'x', displayName: 'X', prices: [{ termUnit: 'P1M', priceUsd: '1.00' }] }] });
    const offer = await mp.liveOffer({ pricing: [{ product: foreign.id, plan: foreign.plans[0].id, discountType: 'percentage', discountPercentage: 0 }] });
    const { subscription, token } = sb.state.acceptPrivateOffer(offer.id, { beneficiaryId: BENEFICIARY });
    const forbidden = await mp.api('GET', `/saas/subscriptions/${subscription.id}${Q}`);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatch(/different Azure AD App ID/);
    expect((await mp.api('POST', `/saas/subscriptions/resolve${Q}`, undefined, { 'x-ms-marketplace-token': token })).status).toBe(403);
    expect((await mp.api('GET', `/saas/subscriptions${Q}`)).body.subscriptions?.map((s: any) => s.id) ?? []).not.toContain(subscription.id);

    const fresh = await tokenFor(entra, MARKETPLACE_SCOPE);
    sb.state.advanceClock(2 * 3600 * 1000);
    expect((await call(url, { token: fresh })).status).toBe(401);
    entra.state.advanceClock(2 * 3600 * 1000);
    mp.forgetTokens();
  });
});
