import { StartChangeSetCommand, type Change } from '@aws-sdk/client-marketplace-catalog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SELLER_ACCOUNT_ID } from '../sandbox/index.js';
import { AUTHORIZATION, BUYER, daysFrom, directOffer, errorsOf, messagesOf, OFFER, startMarketplace, upfront, type Marketplace } from './helpers.js';

/**
 * The asynchronous failures a RevOps user must be able to act on: each made by a realistic
 * mistake, each failing the whole set (nothing applied) with CLIENT_ERROR and the ErrorCode on
 * the change at fault, its message naming the field.
 */
let mp: Marketplace;
let until: string;
beforeAll(async () => {
  mp = await startMarketplace();
  until = daysFrom(mp.sandbox.state.now(), 30);
});
afterAll(async () => mp?.close());

const schedule = (dates: string[], amount = '1000.00') => ({ Terms: [{ Type: 'PaymentScheduleTerm', CurrencyCode: 'USD', Schedule: dates.map((ChargeDate) => ({ ChargeDate, ChargeAmount: amount })) }] });
const fixedUpfront = (price: string) => ({ PricingModel: 'Contract', Terms: [{ Type: 'FixedUpfrontPricingTerm', CurrencyCode: 'USD', Price: price, Grants: [{ DimensionKey: 'BasicService', MaxQuantity: 5 }] }] });
const accounts = (n: number) => Array.from({ length: n }, (_, i) => String(100000000000 + i));

type Case = [code: string, mistake: string, changes: () => Change[], at: string, message: RegExp];

const cases: Case[] = [
  ['INCOMPATIBLE_PRODUCT', 'an offer on a product id that is not the seller\'s', () => directOffer('prod-notmyproduct1', until), 'CreateOffer',
    new RegExp(`^ProductId: prod-notmyproduct1 is not a product of account ${SELLER_ACCOUNT_ID}\\.$`)],
  ['INVALID_BUYER_ACCOUNTS', 'a buyer account with a digit missing', () => directOffer(mp.products.contract, until, { UpdateTargeting: { PositiveTargeting: { BuyerAccounts: [BUYER, '44445555666'] } } }), 'UpdateTargeting',
    /^PositiveTargeting\.BuyerAccounts\[1\]: "44445555666" is not a 12-digit AWS account id\.$/],
  ['TOO_MANY_BUYER_ACCOUNTS', '27 buyer accounts', () => directOffer(mp.products.contract, until, { UpdateTargeting: { PositiveTargeting: { BuyerAccounts: accounts(27) } } }), 'UpdateTargeting',
    /^PositiveTargeting\.BuyerAccounts: 27 buyer accounts given; a private offer targets at most 26\.$/],
  ['MISSING_BUYER_ACCOUNTS', 'targeting emptied', () => directOffer(mp.products.contract, until, { UpdateTargeting: { PositiveTargeting: { BuyerAccounts: [] } } }), 'UpdateTargeting',
    /^PositiveTargeting\.BuyerAccounts: at least one buyer account is required/],
  ['INVALID_LEGAL_DOCUMENTS', 'a custom EULA without its URL', () => directOffer(mp.products.contract, until, { UpdateLegalTerms: { Terms: [{ Type: 'LegalTerm', Documents: [{ Type: 'CustomEula' }] }] } }), 'UpdateLegalTerms',
    /^Terms\[0\]\.Documents\[0\]\.Url: a CustomEula needs the https URL of the document, got none\.$/],
  ['INCOMPATIBLE_TERMS', 'a fixed upfront price instead of a payment schedule', () => directOffer(mp.products.contract, until, {
    UpdatePricingTerms: fixedUpfront('50000.00'), UpdatePaymentScheduleTerms: schedule([daysFrom(mp.sandbox.state.now(), 1)]), UpdateValidityTerms: { Terms: [{ Type: 'ValidityTerm', AgreementDuration: 'P12M' }] },
  }), 'UpdatePricingTerms', /^Terms\[0\]\.Price: a FixedUpfrontPricingTerm is paid through its payment schedule, so its Price must be "0" \(got "50000\.00"\)\.$/],
  ['INVALID_RATE_CARD', 'a dimension the product does not have', () => directOffer(mp.products.contract, until, { UpdatePricingTerms: { PricingModel: 'Contract', Terms: [upfront(['BasicService', 'Enterprise'], '100')] } }), 'UpdatePricingTerms',
    /^Terms\[0\]\.RateCards\[0\]\.RateCard\[1\]\.DimensionKey: "Enterprise" is not a contract dimension of product prod-\w+ \(its contract dimensions: BasicService, PremiumService\)\.$/],
  ['INVALID_CURRENCY_CODE', 'a price in Canadian dollars', () => directOffer(mp.products.contract, until, { UpdatePricingTerms: { PricingModel: 'Contract', Terms: [{ ...upfront(['BasicService'], '100'), CurrencyCode: 'CAD' }] } }), 'UpdatePricingTerms',
    /^Terms\[0\]\.CurrencyCode: "CAD" is not a currency private offers are priced in \(USD, AUD, EUR, GBP, JPY\)\.$/],
  ['INVALID_SELECTOR_DURATION_VALUE', 'an 18-month contract', () => directOffer(mp.products.contract, until, { UpdatePricingTerms: { PricingModel: 'Contract', Terms: [upfront(['BasicService'], '100', 'P18M')] } }), 'UpdatePricingTerms',
    /^Terms\[0\]\.RateCards\[0\]\.Selector\.Value: "P18M" is not a contract duration \(one of P1M, P12M, P24M, P36M\)\.$/],
  ['MISSING_MANDATORY_TERMS', 'a release without legal terms', () => directOffer(mp.products.contract, until, { UpdateLegalTerms: undefined }), 'ReleaseOffer',
    /^Terms: the offer has no LegalTerm \(UpdateLegalTerms\)\.$/],
  ['MISSING_AVAILABILITY_END_DATE', 'a release without an expiry date', () => directOffer(mp.products.contract, until, { UpdateAvailability: undefined }), 'ReleaseOffer',
    /^AvailabilityEndDate: a private offer needs an expiry date before it is released \(UpdateAvailability\)\.$/],
  ['MISSING_NAME', 'a release without a name', () => directOffer(mp.products.contract, until, { UpdateInformation: undefined }), 'ReleaseOffer',
    /^Name: an offer needs a name before it is released \(UpdateInformation\)\.$/],
  ['INCOMPATIBLE_RESALE_AUTHORIZATION', 'a markup on a direct offer', () => [...directOffer(mp.products.contract, until, { ReleaseOffer: undefined }), { ChangeType: 'UpdateMarkup', Entity: OFFER, DetailsDocument: { Percentage: '5.0' } } as Change], 'UpdateMarkup',
    /^Percentage: offer offer-\w+ is not made from a resale authorization, so it has no markup\.$/],
  ['TOO_MANY_CHARGES', 'a payment schedule of 61 monthly charges', () => directOffer(mp.products.contract, until, {
    UpdatePricingTerms: fixedUpfront('0'), UpdateValidityTerms: { Terms: [{ Type: 'ValidityTerm', AgreementDuration: 'P60M' }] },
    UpdatePaymentScheduleTerms: schedule(Array.from({ length: 61 }, (_, i) => new Date(Date.UTC(2030, i, 1)).toISOString().slice(0, 10)), '100.00'),
  }), 'UpdatePaymentScheduleTerms', /^Terms\[0\]\.Schedule: 61 charges given; a payment schedule has at most 60\.$/],
  ['INVALID_CHARGE_DATES', 'charge dates out of order', () => directOffer(mp.products.contract, until, {
    UpdatePricingTerms: fixedUpfront('0'), UpdateValidityTerms: { Terms: [{ Type: 'ValidityTerm', AgreementDuration: 'P12M' }] },
    UpdatePaymentScheduleTerms: schedule(['2030-03-01', '2030-02-01']),
  }), 'UpdatePaymentScheduleTerms', /^Terms\[0\]\.Schedule\[1\]\.ChargeDate: 2030-02-01 is not after the previous charge's 2030-03-01; charge dates must increase\.$/],
];

describe('asynchronous validation: the set goes FAILED with CLIENT_ERROR', () => {
  it.each(cases)('%s for %s', async (code, _mistake, changes, at, message) => {
    const offersBefore = mp.sandbox.state.store.offers.size;
    const set = await mp.run(changes());
    expect(set).toMatchObject({ Status: 'FAILED', FailureCode: 'CLIENT_ERROR', FailureDescription: expect.stringMatching(/No change of the set was applied\.$/) });
    expect(errorsOf(set)).toContainEqual([at, code]);
    const failing = set.ChangeSet!.find((c) => c.ChangeType === at)!;
    expect(failing.ErrorDetailList!.map((e) => e.ErrorMessage)).toContainEqual(expect.stringMatching(message));
    // Atomic: no offer was made, and the changes without fault report nothing.
    expect(mp.sandbox.state.store.offers.size).toBe(offersBefore);
    expect(set.ChangeSet!.filter((c) => c.ErrorDetailList!.length > 0).every((c) => c.ErrorDetailList!.every((e) => e.ErrorMessage))).toBe(true);
  });

  it('reports every fault of a set at once, each on its own change', async () => {
    const set = await mp.run(directOffer(mp.products.contract, until, {
      UpdateTargeting: { PositiveTargeting: { BuyerAccounts: ['12345'] } },
      UpdatePricingTerms: { PricingModel: 'Contract', Terms: [{ ...upfront(['Gold'], '100'), CurrencyCode: 'CHF' }] },
      UpdateInformation: undefined,
    }));
    expect(errorsOf(set)).toEqual([
      ['UpdateTargeting', 'INVALID_BUYER_ACCOUNTS'],
      ['UpdatePricingTerms', 'INVALID_CURRENCY_CODE'],
      ['UpdatePricingTerms', 'INVALID_RATE_CARD'],
      ['ReleaseOffer', 'MISSING_NAME'],
    ]);
    expect(set.ChangeSet!.find((c) => c.ChangeType === 'UpdateLegalTerms')!.ErrorDetailList).toEqual([]);
    expect(mp.sandbox.events.of('Change Set Failed').at(-1)).toMatchObject({ detail: { ChangeSetId: set.ChangeSetId, FailureCode: 'CLIENT_ERROR' } });
  });

  it('a resale authorization released without its name, pricing or buyer legal terms fails too', async () => {
    const authorization = await mp.run([
      { ChangeType: 'CreateResaleAuthorization', ChangeName: 'auth', Entity: { Type: 'ResaleAuthorization@1.0' }, DetailsDocument: { ProductId: mp.products.contract, ResellerAccountId: '210987654321' } },
      { ChangeType: 'ReleaseResaleAuthorization', Entity: AUTHORIZATION, DetailsDocument: {} },
    ] as Change[]);
    expect(errorsOf(authorization)).toEqual([
      ['ReleaseResaleAuthorization', 'MISSING_NAME'],
      ['ReleaseResaleAuthorization', 'MISSING_MANDATORY_TERMS'],
      ['ReleaseResaleAuthorization', 'MISSING_MANDATORY_TERMS'],
    ]);
    expect(messagesOf(authorization)).toContain('Terms: the resale authorization has no BuyerLegalTerm (UpdateLegalTerms).');
    expect(mp.sandbox.state.store.resaleAuthorizations.size).toBe(0);
  });

  it('a change type the entity type does not take is refused before the set starts', async () => {
    const refused = await mp.seller.catalog.send(new StartChangeSetCommand({
      Catalog: 'AWSMarketplace',
      ChangeSet: [{ ChangeType: 'CreateOffer', Entity: { Type: 'SaaSProduct@1.0' }, DetailsDocument: { ProductId: mp.products.contract } }],
    })).catch((e: Error) => e);
    expect(refused).toMatchObject({ name: 'ValidationException', message: 'ChangeSet[0]: CreateOffer is not a change type of SaaSProduct@1.0.' });
  });
});
