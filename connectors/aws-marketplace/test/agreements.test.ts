import {
  DescribeAgreementCommand, GetAgreementTermsCommand, ResourceNotFoundException, SearchAgreementsCommand, ValidationException,
} from '@aws-sdk/client-marketplace-agreement';
import type { Change } from '@aws-sdk/client-marketplace-catalog';
import { afterEach, describe, expect, it } from 'vitest';
import { SELLER_ACCOUNT_ID } from '../sandbox/index.js';
import { acceptOffer, BUYER, BUYER_2, BUYER_3, createdId, daysFrom, directOffer, startMarketplace, startReceiver, until as waitUntil, upfront, type Marketplace } from './helpers.js';

let mp: Marketplace;
let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
afterEach(async () => {
  await mp?.close();
  await receiver?.close();
  receiver = undefined;
});

const PROPOSER = [{ name: 'PartyType', values: ['Proposer'] }, { name: 'AgreementType', values: ['PurchaseAgreement'] }];
const seconds = (date: Date | undefined) => (date ? date.getTime() / 1000 : undefined);

async function releasedOffer(patch: Record<string, Record<string, unknown> | undefined> = {}): Promise<string> {
  const set = await mp.run(directOffer(mp.products.contract, daysFrom(mp.sandbox.state.now(), 30), patch));
  expect(set.ChangeSet!.flatMap((c) => c.ErrorDetailList)).toEqual([]);
  return createdId(set);
}

describe('a buyer accepts a private offer', () => {
  it('makes an agreement readable with DescribeAgreement, GetAgreementTerms and SearchAgreements, and delivers the event', async () => {
    receiver = await startReceiver();
    mp = await startMarketplace({ events: { url: receiver.url, apiKeyValue: 'eb-destination-key-1' } });
    const offerId = await releasedOffer({ UpdateSupportTerms: { Terms: [{ Type: 'SupportTerm', RefundPolicy: 'No refunds after 30 days.' }] } });
    const before = mp.sandbox.state.now();
    const accepted = await acceptOffer(mp.sandbox.url, offerId, { buyerAccountId: BUYER, dimensions: { BasicService: 2, PremiumService: 1 } });
    expect(accepted.status).toBe(201);
    const agreementId = accepted.body.agreementId as string;
    expect(agreementId).toMatch(/^agmt-[a-z0-9]{25}$/);

    const described = await mp.seller.agreement.send(new DescribeAgreementCommand({ agreementId }));
    expect(described).toMatchObject({
      agreementId, status: 'ACTIVE', agreementType: 'PurchaseAgreement',
      acceptor: { accountId: BUYER }, proposer: { accountId: SELLER_ACCOUNT_ID },
      proposalSummary: { offerId, resources: [{ id: mp.products.contract, type: 'SaaSProduct' }] },
      estimatedCharges: { currencyCode: 'USD', agreementValue: '45000.00' },
    });
    expect(described.acceptanceTime!.getTime()).toBeGreaterThanOrEqual(before);
    expect(described.startTime).toEqual(described.acceptanceTime);
    const end = new Date(described.startTime!);
    end.setUTCMonth(end.getUTCMonth() + 12);
    expect(described.endTime).toEqual(end);

    const { acceptedTerms } = await mp.seller.agreement.send(new GetAgreementTermsCommand({ agreementId }));
    expect(acceptedTerms!.map((t) => Object.keys(t).filter((k) => k !== '$unknown')[0])).toEqual(['configurableUpfrontPricingTerm', 'legalTerm', 'supportTerm']);
    expect(acceptedTerms![0].configurableUpfrontPricingTerm).toMatchObject({
      type: 'ConfigurableUpfrontPricingTerm', id: expect.stringMatching(/^term-[0-9a-f]{8}$/), currencyCode: 'USD',
      rateCards: [{ selector: { type: 'Duration', value: 'P12M' }, constraints: { multipleDimensionSelection: 'Allowed', quantityConfiguration: 'Allowed' }, rateCard: [{ dimensionKey: 'BasicService', price: '15000.00' }, { dimensionKey: 'PremiumService', price: '15000.00' }] }],
      configuration: { selectorValue: 'P12M', dimensions: [{ dimensionKey: 'BasicService', dimensionValue: 2 }, { dimensionKey: 'PremiumService', dimensionValue: 1 }] },
    });
    expect(acceptedTerms![1].legalTerm).toMatchObject({ type: 'LegalTerm', documents: [{ type: 'CustomEula', url: 'https://s3.amazonaws.com/ecosync-legal/custom-eula.pdf' }] });
    expect(acceptedTerms![2].supportTerm).toMatchObject({ refundPolicy: 'No refunds after 30 days.' });

    const search = (filters: { name: string; values: string[] }[]) => mp.seller.agreement.send(new SearchAgreementsCommand({ catalog: 'AWSMarketplace', filters: [...PROPOSER, ...filters] }));
    for (const filter of [{ name: 'OfferId', values: [offerId] }, { name: 'AcceptorAccountId', values: [BUYER] }, { name: 'Status', values: ['ACTIVE'] }, { name: 'ResourceIdentifier', values: [mp.products.contract] }]) {
      const found = await search([filter]);
      expect(found.agreementViewSummaries).toEqual([expect.objectContaining({ agreementId, status: 'ACTIVE', acceptor: { accountId: BUYER }, agreementType: 'PurchaseAgreement', proposalSummary: expect.objectContaining({ offerId }) })]);
      expect(seconds(found.agreementViewSummaries![0].endTime)).toBe(seconds(described.endTime));
    }
    expect((await search([{ name: 'AcceptorAccountId', values: [BUYER_2] }])).agreementViewSummaries).toEqual([]);

    await waitUntil(() => receiver!.received.length >= 1);
    const delivered = receiver.received.find((r) => r.body['detail-type'] === 'Purchase Agreement Created - Proposer')!;
    expect(delivered.headers['x-api-key']).toBe('eb-destination-key-1');
    expect(delivered.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(delivered.body).toMatchObject({
      version: '0', source: 'aws.agreement-marketplace', account: SELLER_ACCOUNT_ID, region: 'us-east-1',
      resources: [`arn:aws:aws-marketplace::agreement:${agreementId}`],
      detail: { agreement: { id: agreementId, intent: 'NEW', status: 'ACTIVE' }, acceptor: { accountId: BUYER }, proposer: { accountId: SELLER_ACCOUNT_ID }, offer: { id: offerId } },
    });
    expect(delivered.body).toEqual(mp.sandbox.events.of('Purchase Agreement Created - Proposer')[0]);
    await mp.sandbox.events.idle();
    expect(receiver.received.map((r) => r.body['detail-type'])).toEqual(['Offer Released', 'Change Set Succeeded', 'Purchase Agreement Created - Proposer']);
  });

  it('values a payment schedule by its charges and starts the agreement on a future start date', async () => {
    mp = await startMarketplace();
    const now = mp.sandbox.state.now();
    const offerId = await releasedOffer({
      UpdatePricingTerms: { PricingModel: 'Contract', Terms: [{ Type: 'FixedUpfrontPricingTerm', CurrencyCode: 'USD', Price: '0', Grants: [{ DimensionKey: 'PremiumService', MaxQuantity: 3 }] }] },
      UpdatePaymentScheduleTerms: { Terms: [{ Type: 'PaymentScheduleTerm', CurrencyCode: 'USD', Schedule: [{ ChargeDate: daysFrom(now, 10), ChargeAmount: '12500.50' }, { ChargeDate: daysFrom(now, 100), ChargeAmount: '7499.50' }] }] },
      UpdateValidityTerms: { Terms: [{ Type: 'ValidityTerm', AgreementStartDate: daysFrom(now, 10), AgreementEndDate: daysFrom(now, 375) }] },
    });
    const accepted = await acceptOffer(mp.sandbox.url, offerId, { buyerAccountId: BUYER_2 });
    const described = await mp.seller.agreement.send(new DescribeAgreementCommand({ agreementId: accepted.body.agreementId }));
    expect(described.estimatedCharges).toEqual({ currencyCode: 'USD', agreementValue: '20000.00' });
    expect(described.startTime!.toISOString()).toBe(`${daysFrom(now, 10)}T00:00:00.000Z`);
    expect(described.endTime!.toISOString()).toBe(`${daysFrom(now, 375)}T23:59:59.999Z`);
    const { acceptedTerms } = await mp.seller.agreement.send(new GetAgreementTermsCommand({ agreementId: accepted.body.agreementId }));
    const schedule = acceptedTerms!.find((t) => t.paymentScheduleTerm)!.paymentScheduleTerm!;
    expect(schedule.schedule!.map((c) => [c.chargeDate!.toISOString().slice(0, 10), c.chargeAmount])).toEqual([[daysFrom(now, 10), '12500.50'], [daysFrom(now, 100), '7499.50']]);
  });

  it('refuses the buyers and offers the marketplace would refuse, with a clear 4xx', async () => {
    mp = await startMarketplace();
    const offerId = await releasedOffer();
    const draft = createdId(await mp.run(directOffer(mp.products.hybrid, daysFrom(mp.sandbox.state.now(), 30), {
      UpdatePricingTerms: { PricingModel: 'Contract', Terms: [upfront(['Users'], '10')] }, ReleaseOffer: undefined,
    })));
    const accept = (id: string, buyerAccountId: string) => acceptOffer(mp.sandbox.url, id, { buyerAccountId });
    expect(await accept(offerId, BUYER_3)).toEqual({ status: 403, body: { code: 'NOT_TARGETED', message: `Offer ${offerId} is a private offer and account ${BUYER_3} is not one of its buyers.` } });
    expect(await accept(draft, BUYER)).toEqual({ status: 404, body: { code: 'OFFER_NOT_FOUND', message: `Offer ${draft} is not available: it does not exist or has not been released.` } });
    expect((await accept(offerId, '12345')).status).toBe(400);
    expect((await accept(offerId, BUYER)).status).toBe(201);
    expect((await accept(offerId, BUYER)).body).toMatchObject({ code: 'ALREADY_SUBSCRIBED' });
    expect((await acceptOffer(mp.sandbox.url, offerId, { buyerAccountId: BUYER_2, dimensions: { Gold: 1 } })).body).toMatchObject({ code: 'INVALID_CHOICE', message: 'dimension Gold is not in the offer (it has BasicService, PremiumService)' });
    mp.sandbox.state.advanceClock(31 * 86_400_000);
    expect(await accept(offerId, BUYER_2)).toMatchObject({ status: 410, body: { code: 'OFFER_EXPIRED' } });
    expect(mp.sandbox.state.store.agreements.size).toBe(1);
  });
});

describe('event delivery', () => {
  it('retries an API destination that fails, and stops when it refuses the key', async () => {
    receiver = await startReceiver(503);
    mp = await startMarketplace({ events: { url: receiver.url, apiKeyValue: 'k-1', retryBaseMs: 10 } });
    await releasedOffer();
    await waitUntil(() => mp.sandbox.events.counters.get('retries') >= 2);
    receiver.status = 200;
    await mp.sandbox.events.idle();
    const delivered = receiver.received.filter((r) => r.body['detail-type'] === 'Offer Released');
    expect(delivered.length).toBeGreaterThanOrEqual(2);
    expect(receiver.received.length).toBe(2 + mp.sandbox.events.counters.get('retries'));
    expect(new Set(delivered.map((r) => r.body.id)).size).toBe(1);
    expect(mp.sandbox.events.counters.get('events')).toBe(2);

    receiver.status = 401;
    const before = mp.sandbox.events.counters.get('failed');
    await releasedOffer();
    await mp.sandbox.events.idle();
    expect(mp.sandbox.events.counters.get('failed')).toBe(before + 2);
    expect(mp.sandbox.events.all).toHaveLength(4);
  });
});

describe('the agreement\'s life', () => {
  it('expires at its end time on the clock, and a cancellation ends it (Ended events)', async () => {
    mp = await startMarketplace();
    const offerId = await releasedOffer({ UpdatePricingTerms: { PricingModel: 'Contract', Terms: [upfront(['BasicService'], '100', 'P1M')] } });
    const first = (await acceptOffer(mp.sandbox.url, offerId, { buyerAccountId: BUYER })).body.agreementId as string;
    const second = (await acceptOffer(mp.sandbox.url, offerId, { buyerAccountId: BUYER_2 })).body.agreementId as string;
    const cancel = await fetch(`${mp.sandbox.url}/_sandbox/agreements/${second}/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(200);
    expect((await mp.seller.agreement.send(new DescribeAgreementCommand({ agreementId: second }))).status).toBe('CANCELED');
    mp.sandbox.state.advanceClock(32 * 86_400_000);
    expect((await mp.seller.agreement.send(new DescribeAgreementCommand({ agreementId: first }))).status).toBe('EXPIRED');
    expect(mp.sandbox.events.of('Purchase Agreement Ended - Proposer').map((e) => [(e.detail.agreement as { id: string }).id, (e.detail.agreement as { status: string }).status])).toEqual([[second, 'CANCELED'], [first, 'EXPIRED']]);
    const expired = await mp.seller.agreement.send(new SearchAgreementsCommand({ catalog: 'AWSMarketplace', filters: [...PROPOSER, { name: 'Status', values: ['EXPIRED', 'CANCELED'] }], sort: { sortBy: 'EndTime', sortOrder: 'ASCENDING' } }));
    expect(expired.agreementViewSummaries!.map((a) => a.agreementId)).toEqual([second, first]);
  });

  it('a replacement offer replaces the agreement; an amendment changes its quantities (Amended event)', async () => {
    mp = await startMarketplace();
    const offerId = await releasedOffer();
    const original = (await acceptOffer(mp.sandbox.url, offerId, { buyerAccountId: BUYER, dimensions: { BasicService: 1 } })).body.agreementId as string;
    const amend = await fetch(`${mp.sandbox.url}/_sandbox/agreements/${original}/amend`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dimensions: { BasicService: 3 } }) });
    expect(amend.status).toBe(200);
    expect((await mp.seller.agreement.send(new DescribeAgreementCommand({ agreementId: original }))).estimatedCharges).toEqual({ currencyCode: 'USD', agreementValue: '45000.00' });
    expect(mp.sandbox.events.of('Purchase Agreement Amended - Proposer')).toEqual([expect.objectContaining({ detail: expect.objectContaining({ agreement: expect.objectContaining({ id: original, intent: 'AMEND' }) }) })]);

    const replacement = await mp.run([
      { ChangeType: 'CreateReplacementOffer', ChangeName: 'offer', Entity: { Type: 'Offer@1.0' }, DetailsDocument: { AgreementId: original } },
      ...directOffer(mp.products.contract, daysFrom(mp.sandbox.state.now(), 10), { CreateOffer: undefined, UpdateTargeting: undefined, UpdateInformation: { Name: 'Upgrade to premium' }, UpdatePricingTerms: { PricingModel: 'Contract', Terms: [upfront(['PremiumService'], '20000.00')] } }),
    ] as Change[]);
    expect(replacement.Status).toBe('SUCCEEDED');
    const accepted = await acceptOffer(mp.sandbox.url, createdId(replacement), { buyerAccountId: BUYER });
    expect(accepted.body).toMatchObject({ intent: 'REPLACE', status: 'ACTIVE' });
    expect((await mp.seller.agreement.send(new DescribeAgreementCommand({ agreementId: original }))).status).toBe('REPLACED');
    expect(mp.sandbox.events.all.slice(-2).map((e) => [e['detail-type'], (e.detail.agreement as { status: string }).status])).toEqual([
      ['Purchase Agreement Ended - Proposer', 'REPLACED'],
      ['Purchase Agreement Created - Proposer', 'ACTIVE'],
    ]);
  });
});

describe('the Agreement API refuses as AWS does', () => {
  it('requires PartyType and AgreementType, checks ids and pages with nextToken', async () => {
    mp = await startMarketplace({ demo: true });
    const missing = await mp.seller.agreement.send(new SearchAgreementsCommand({ catalog: 'AWSMarketplace', filters: [{ name: 'OfferId', values: ['offer-x'] }] })).catch((e: unknown) => e as ValidationException);
    expect(missing).toBeInstanceOf(ValidationException);
    expect(missing).toMatchObject({ reason: 'INVALID_FILTERS', message: 'SearchAgreements needs the filters PartyType and AgreementType.', $metadata: { httpStatusCode: 400 } });
    const unknown = await mp.seller.agreement.send(new SearchAgreementsCommand({ catalog: 'AWSMarketplace', filters: [...PROPOSER, { name: 'Region', values: ['eu'] }] })).catch((e: unknown) => e as ValidationException);
    expect(unknown).toMatchObject({ name: 'ValidationException', reason: 'INVALID_FILTER_NAME' });
    const badId = await mp.seller.agreement.send(new DescribeAgreementCommand({ agreementId: 'offer-123' })).catch((e: unknown) => e as ValidationException);
    expect(badId).toMatchObject({ name: 'ValidationException', reason: 'INVALID_AGREEMENT_ID' });
    const absent = await mp.seller.agreement.send(new DescribeAgreementCommand({ agreementId: 'agmt-doesnotexist0000000000000' })).catch((e: unknown) => e as ResourceNotFoundException);
    expect(absent).toBeInstanceOf(ResourceNotFoundException);
    expect(absent).toMatchObject({ resourceId: 'agmt-doesnotexist0000000000000', resourceType: 'Agreement' });

    const first = await mp.seller.agreement.send(new SearchAgreementsCommand({ catalog: 'AWSMarketplace', filters: PROPOSER, maxResults: 1 }));
    expect(first.agreementViewSummaries).toHaveLength(1);
    const second = await mp.seller.agreement.send(new SearchAgreementsCommand({ catalog: 'AWSMarketplace', filters: PROPOSER, maxResults: 1, nextToken: first.nextToken }));
    expect(second.agreementViewSummaries).toHaveLength(1);
    expect(second.nextToken).toBeUndefined();
    expect(second.agreementViewSummaries![0].agreementId).not.toBe(first.agreementViewSummaries![0].agreementId);
    const other = await mp.seller.agreement.send(new SearchAgreementsCommand({ catalog: 'AWSMarketplace', filters: [...PROPOSER, { name: 'Status', values: ['ACTIVE'] }], nextToken: first.nextToken })).catch((e: unknown) => e as ValidationException);
    expect(other).toMatchObject({ reason: 'INVALID_NEXT_TOKEN' });
  });
});
