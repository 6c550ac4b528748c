import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMicrosoftSandbox, type MicrosoftSandbox } from '../../microsoft-partner-center/sandbox/server.js';
import type { MicrosoftMarketplaceSandbox } from '../sandbox/index.js';
import { CONFIGURE_SCHEMA, PRIVATE_OFFER_SCHEMA } from '../sandbox/ingestion-schema.js';
import {
  BENEFICIARY, call, day, GRAPH_SCOPE, JOB_MS, Marketplace, MARKETPLACE_SCOPE, OTHER_BENEFICIARY, planPrice, privateOffer, startMarketplace, tokenFor,
} from './helpers.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ecosync-msmp-'));
let entra: MicrosoftSandbox;
let sb: MicrosoftMarketplaceSandbox;
let mp: Marketplace;

beforeAll(async () => {
  entra = await startMicrosoftSandbox({ dataDir, incoming: 0 });
  sb = await startMarketplace(entra);
  mp = new Marketplace(sb, entra);
});
afterAll(async () => {
  await sb?.close();
  await entra?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const V = '?$version=2022-07-01';

describe('a private offer through a configure job', () => {
  it('is configured, runs, succeeds with a resourceUri, and reads back as Microsoft returns it', async () => {
    const posted = await mp.configure([privateOffer(sb)]);
    expect(posted.status).toBe(202);
    expect(posted.body).toMatchObject({ jobStatus: 'notStarted', jobResult: 'pending', errors: [] });
    const jobId = posted.body.jobId;

    const running = await mp.ingestion('GET', `/configure/${jobId}/status${V}`);
    expect(running.body).toMatchObject({ jobId, jobStatus: 'running', jobResult: 'pending', jobEnd: '0001-01-01T00:00:00' });
    expect(running.body.resourceUri).toBeUndefined();
    const early = await mp.ingestion('GET', `/configure/${jobId}?$version=2023-07-15`);
    expect(early.status).toBe(409);

    sb.state.advanceClock(JOB_MS);
    const done = await mp.ingestion('GET', `/configure/${jobId}/status${V}`);
    expect(done.body).toMatchObject({ jobStatus: 'completed', jobResult: 'succeeded', errors: [], resourceUri: `${sb.productIngestionUrl}/configure/${jobId}` });

    const offer = (await call(`${done.body.resourceUri}?$version=2023-07-15`, { token: await mp.token(GRAPH_SCOPE) })).body;
    const product = sb.state.products()[0];
    const pro = product.plans.find((p) => p.externalId === 'pro')!;
    expect(offer).toMatchObject({
      $schema: PRIVATE_OFFER_SCHEMA, name: 'Contoso analytics 2025', state: 'live', privateOfferType: 'customerPromotion',
      beneficiaries: [{ id: BENEFICIARY, description: 'Contoso' }],
      pricing: [{ product: product.id, productName: product.alias, plan: pro.id, planName: 'Professional', discountType: 'percentage', discountPercentage: 10 }],
    });
    expect(offer.id).toMatch(/^private-offer\/[0-9a-f-]{36}$/);
    const guid = offer.id.split('/')[1];
    expect((await mp.ingestion('GET', `/private-offer/${guid}?$version=2023-07-15`)).body).toEqual(offer);
    expect((await mp.ingestion('GET', '/private-offer/query?$version=2023-07-15')).body.value.map((o: any) => o.id)).toContain(offer.id);
    // The discount applies to the plan's every price, exactly.
    expect(sb.state.offerPrices(offer.id)).toEqual([{
      product: product.id, plan: pro.id, planId: 'pro',
      terms: [{ termUnit: 'P1M', listPriceUsd: '500.00', priceUsd: '450.00' }, { termUnit: 'P1Y', listPriceUsd: '5400.00', priceUsd: '4860.00' }],
      meters: [{ dimension: 'api_calls', listPriceUsd: '0.008', priceUsd: '0.0072' }, { dimension: 'storage_gb', listPriceUsd: '0.20', priceUsd: '0.18' }],
    }]);
    expect(sb.counters.get('202 ingestion.configure')).toBeGreaterThanOrEqual(1);
  });

  it('takes absolute prices from a price resource in the same request, starting from the plan\'s own', async () => {
    const product = sb.state.products()[0];
    const basic = product.plans.find((p) => p.externalId === 'basic')!;
    const template = await mp.ingestion('GET', `/price-and-availability-private-offer-plan/${product.guid}?plan=${basic.id}&$version=2023-07-15`);
    expect(template.body).toMatchObject({ product: product.id, plan: basic.id, offerPricingType: 'editExistingOfferPricingOnly' });
    expect(template.body.pricing.recurrentPrice.prices).toEqual([{ pricePerPaymentInUsd: 100, billingTerm: { type: 'month', value: 1 }, paymentOption: { type: 'month', value: 1 } }]);
    expect(template.body.pricing.customMeters.meters).toEqual({ api_calls: { pricePerPaymentInUsd: 0.01 }, storage_gb: { pricePerPaymentInUsd: 0.25 } });

    const price = { ...template.body, resourceName: 'contosoBasic' };
    price.pricing.recurrentPrice.prices[0].pricePerPaymentInUsd = 79.99;
    price.pricing.customMeters.meters.api_calls.pricePerPaymentInUsd = 0.005;
    const status = await mp.configured([price, privateOffer(sb, {
      pricing: [{ product: product.id, plan: basic.id, discountType: 'absolute', priceDetails: { resourceName: 'contosoBasic' } }],
    })]);
    expect(status.jobResult).toBe('succeeded');
    const offer = (await call(`${status.resourceUri}?$version=2023-07-15`, { token: await mp.token(GRAPH_SCOPE) })).body;
    expect(offer.pricing[0]).toMatchObject({ discountType: 'absolute', priceDetails: expect.stringMatching(new RegExp(`^price-and-availability-private-offer-plan/${product.guid}/\\d+$`)) });
    const stored = await mp.ingestion('GET', `/${offer.pricing[0].priceDetails}?$version=2023-07-15`);
    expect(stored.body).toMatchObject({ id: offer.pricing[0].priceDetails, product: product.id, plan: basic.id });
    expect(sb.state.offerPrices(offer.id)[0]).toMatchObject({
      terms: [{ termUnit: 'P1M', listPriceUsd: '100.00', priceUsd: '79.99' }],
      meters: [{ dimension: 'api_calls', listPriceUsd: '0.01', priceUsd: '0.005' }, { dimension: 'storage_gb', listPriceUsd: '0.25', priceUsd: '0.25' }],
    });
  });

  it('finds the products and plans that offers price', async () => {
    const products = (await mp.ingestion('GET', `/product?externalId=ecosync-seats&$version=2022-07-01`)).body.value;
    expect(products).toEqual([{ $schema: 'https://schema.mp.microsoft.com/schema/product/2022-07-01', id: expect.stringMatching(/^product\//), identity: { externalId: 'ecosync-seats' }, type: 'softwareAsAService', alias: 'ecosync Workspace' }]);
    const plans = (await mp.ingestion('GET', `/plan?product=${products[0].id}&$version=2022-07-01`)).body.value;
    expect(plans.map((p: any) => p.identity.externalId)).toEqual(['team', 'enterprise']);
  });
});

describe('Microsoft\'s business rules fail the job, naming each resource path', () => {
  const now = () => sb.state.now();
  const pricing = (over: Record<string, unknown>) => {
    const product = sb.state.products()[0];
    return [{ product: product.id, plan: product.plans[1].id, discountType: 'percentage', discountPercentage: 10, ...over }];
  };
  const cases: Array<[string, () => Record<string, unknown>, { code: string; target: string; message: RegExp }]> = [
    ['an unknown product', () => ({ pricing: pricing({ product: 'product/00000000-0000-4000-8000-000000000000' }) }), { code: 'notFound', target: 'resources[0].pricing[0].product', message: /was not found/ }],
    ['an unknown plan', () => ({ pricing: pricing({ plan: 'plan/00000000-0000-4000-8000-000000000000' }) }), { code: 'notFound', target: 'resources[0].pricing[0].plan', message: /was not found in product\// }],
    ['a discount over 100 %', () => ({ pricing: pricing({ discountPercentage: 120 }) }), { code: 'businessValidationError', target: 'resources[0].pricing[0].discountPercentage', message: /between 0 and 100/ }],
    ['a negative discount', () => ({ pricing: pricing({ discountPercentage: -5 }) }), { code: 'businessValidationError', target: 'resources[0].pricing[0].discountPercentage', message: /between 0 and 100/ }],
    ['acceptBy after end', () => ({ end: day(20, now()), acceptBy: day(40, now()) }), { code: 'businessValidationError', target: 'resources[0].acceptBy', message: /is after end/ }],
    ['end before start', () => ({ variableStartDate: false, start: day(60, now()), end: day(50, now()), acceptBy: day(10, now()) }), { code: 'businessValidationError', target: 'resources[0].end', message: /is before start/ }],
    ['no beneficiaries', () => ({ beneficiaries: [] }), { code: 'businessValidationError', target: 'resources[0].beneficiaries', message: /At least one beneficiary/ }],
    ['a beneficiary that is not a billing account', () => ({ beneficiaries: [{ id: 'contoso' }] }), { code: 'businessValidationError', target: 'resources[0].beneficiaries[0].id', message: /billing account id/ }],
    ['an accept-by date in the past', () => ({ acceptBy: day(-2, now()) }), { code: 'businessValidationError', target: 'resources[0].acceptBy', message: /in the past/ }],
    ['absolute pricing without its price resource', () => ({ pricing: pricing({ discountType: 'absolute', discountPercentage: undefined, priceDetails: { resourceName: 'missing' } }) }), { code: 'businessValidationError', target: 'resources[0].pricing[0].priceDetails.resourceName', message: /No price-and-availability-private-offer-plan resource named 'missing'/ }],
  ];

  it.each(cases)('%s', async (_name, overrides, expected) => {
    const status = await mp.configured([privateOffer(sb, overrides())]);
    expect(status).toMatchObject({ jobStatus: 'completed', jobResult: 'failed' });
    expect(status.resourceUri).toBeUndefined();
    expect(status.errors).toContainEqual({ code: expected.code, target: expected.target, message: expect.stringMatching(expected.message) });
  });

  it('applies nothing of a request with one bad resource, and reports every error', async () => {
    const before = sb.state.privateOffers().length;
    const status = await mp.configured([privateOffer(sb), privateOffer(sb, { name: 'second', beneficiaries: [], pricing: pricing({ discountPercentage: 101 }) })]);
    expect(status.jobResult).toBe('failed');
    expect(status.errors.map((e: any) => e.target)).toEqual(['resources[1].beneficiaries', 'resources[1].pricing[0].discountPercentage']);
    expect(sb.state.privateOffers()).toHaveLength(before);
  });

  it('checks the absolute prices against the plan: its billing terms and its meters', async () => {
    const product = sb.state.products()[0];
    const basic = product.plans.find((p) => p.externalId === 'basic')!;
    const price = planPrice('wrong', product.id, basic.id, -1, { seats: 1 });
    (price.pricing as any).recurrentPrice.prices.push({ pricePerPaymentInUsd: 900, billingTerm: { type: 'year', value: 1 } });
    const status = await mp.configured([price, privateOffer(sb, { pricing: [{ product: product.id, plan: basic.id, discountType: 'absolute', priceDetails: { resourceName: 'wrong' } }] })]);
    expect(status.errors.map((e: any) => e.target)).toEqual([
      'resources[0].pricing.recurrentPrice.prices[0].pricePerPaymentInUsd',
      'resources[0].pricing.recurrentPrice.prices[1].billingTerm',
      'resources[0].pricing.customMeters.meters.seats',
    ]);
  });
});

describe('malformed requests are refused at once with 400', () => {
  const refusals: Array<[string, () => { path: string; body: unknown }, RegExp]> = [
    ['a configure $schema that is not 2022-07-01', () => ({ path: `/configure${V}`, body: { $schema: 'https://schema.mp.microsoft.com/schema/configure/2021-01-01', resources: [privateOffer(sb)] } }), /^\$schema$/],
    ['a resource $schema it does not know', () => ({ path: `/configure${V}`, body: { $schema: CONFIGURE_SCHEMA, resources: [{ ...privateOffer(sb), $schema: 'https://schema.mp.microsoft.com/schema/private-offer/2022-01-01' }] } }), /^resources\[0\]\.\$schema$/],
    ['a state outside the enum', () => ({ path: `/configure${V}`, body: { $schema: CONFIGURE_SCHEMA, resources: [privateOffer(sb, { state: 'published' })] } }), /^resources\[0\]\.state$/],
    ['a discount that is not a number', () => ({ path: `/configure${V}`, body: { $schema: CONFIGURE_SCHEMA, resources: [privateOffer(sb, { pricing: [{ product: 'product/x', plan: 'plan/x', discountType: 'percentage', discountPercentage: '10' }] })] } }), /^resources\[0\]\.pricing\[0\]\.discountPercentage$/],
    ['a property the schema does not have', () => ({ path: `/configure${V}`, body: { $schema: CONFIGURE_SCHEMA, resources: [privateOffer(sb, { discount: 10 })] } }), /^resources\[0\]$/],
    ['no resources', () => ({ path: `/configure${V}`, body: { $schema: CONFIGURE_SCHEMA, resources: [] } }), /^resources$/],
  ];

  it.each(refusals)('%s', async (_name, request, target) => {
    const { path: p, body } = request();
    const answer = await mp.ingestion('POST', p, body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('schemaValidationError');
    expect(answer.body.error.target).toMatch(target);
  });

  it('needs the $version it serves, and JSON', async () => {
    const missing = await mp.ingestion('POST', '/configure', { $schema: CONFIGURE_SCHEMA, resources: [privateOffer(sb)] });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 'badRequest', message: expect.stringContaining('$version') });
    expect((await mp.ingestion('GET', '/private-offer/query?$version=2022-07-01')).status).toBe(400);
    const notJson = await call(`${sb.productIngestionUrl}/configure${V}`, { method: 'POST', body: '{"$schema": ', token: await mp.token(GRAPH_SCOPE) });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error).toEqual({ code: 'badRequest', message: 'The request body is not valid JSON.' });
  });
});

describe('withdrawing', () => {
  const withdraw = (offer: any) => ({ $schema: PRIVATE_OFFER_SCHEMA, id: offer.id, name: offer.name, privateOfferType: offer.privateOfferType, state: 'withdrawn' });

  it('withdraws a live offer nobody accepted, which then shows as withdrawn and can no longer be accepted', async () => {
    const offer = await mp.liveOffer();
    const status = await mp.configured([withdraw(offer)]);
    expect(status).toMatchObject({ jobResult: 'succeeded', resourceUri: expect.stringContaining('/configure/') });
    const guid = offer.id.split('/')[1];
    expect((await mp.ingestion('GET', `/private-offer/${guid}?$version=2023-07-15`)).body.state).toBe('withdrawn');
    expect(() => sb.state.acceptPrivateOffer(offer.id, { beneficiaryId: BENEFICIARY })).toThrow(/only a live offer can be accepted/);
  });

  it('refuses to withdraw an accepted offer, or one that is not live', async () => {
    const accepted = await mp.liveOffer({ beneficiaries: [{ id: BENEFICIARY }, { id: OTHER_BENEFICIARY }] });
    sb.state.acceptPrivateOffer(accepted.id, { beneficiaryId: OTHER_BENEFICIARY });
    const refused = await mp.configured([withdraw(accepted)]);
    expect(refused.errors).toEqual([{ code: 'conflict', resourceId: accepted.id, target: 'resources[0].state', message: expect.stringMatching(/accepted by a customer/) }]);
    expect(sb.state.privateOffer(accepted.id).state).toBe('live');

    const draft = await mp.liveOffer({ state: 'draft' });
    const notLive = await mp.configured([withdraw(draft)]);
    expect(notLive.errors[0]).toMatchObject({ code: 'invalidState', target: 'resources[0].state' });
  });

  it('publishes a draft by its id, and does not let a live offer change', async () => {
    const draft = await mp.liveOffer({ state: 'draft', beneficiaries: undefined });
    expect(draft.state).toBe('draft');
    const published = await mp.configured([privateOffer(sb, { id: draft.id })]);
    expect(published.jobResult).toBe('succeeded');
    expect(sb.state.privateOffer(draft.id).state).toBe('live');
    const changed = await mp.configured([privateOffer(sb, { id: draft.id, name: 'renamed' })]);
    expect(changed.errors[0]).toMatchObject({ code: 'invalidState', target: 'resources[0].state' });
  });
});

describe('tokens', () => {
  it('refuses a token for another audience and an expired one with Graph\'s 401', async () => {
    const wrongAudience = await call(`${sb.productIngestionUrl}/private-offer/query?$version=2023-07-15`, { token: await tokenFor(entra, MARKETPLACE_SCOPE) });
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.body.error).toMatchObject({ code: 'InvalidAuthenticationToken', message: 'Access token validation failure. Invalid audience.' });
    expect((await call(`${sb.productIngestionUrl}/private-offer/query?$version=2023-07-15`)).body.error.message).toBe('Access token is empty.');

    const token = await tokenFor(entra, GRAPH_SCOPE);
    expect((await call(`${sb.productIngestionUrl}/private-offer/query?$version=2023-07-15`, { token })).status).toBe(200);
    sb.state.advanceClock(2 * 3600 * 1000);
    const expired = await call(`${sb.productIngestionUrl}/private-offer/query?$version=2023-07-15`, { token });
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toBe('Access token has expired or is not yet valid.');
    entra.state.advanceClock(2 * 3600 * 1000);
    mp.forgetTokens();
  });
});
