import { DescribeAgreementCommand, SearchAgreementsCommand } from '@aws-sdk/client-marketplace-agreement';
import { ListEntitiesCommand, type Change } from '@aws-sdk/client-marketplace-catalog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESELLER_ACCOUNT_ID, SELLER_ACCOUNT_ID } from '../sandbox/index.js';
import { acceptOffer, AUTHORIZATION, BUYER, BUYER_3, createdId, daysFrom, errorsOf, messagesOf, OFFER, startMarketplace, upfront, type Marketplace } from './helpers.js';

/** Channel partner private offers: the seller authorizes a reseller, the reseller sells with a markup. */
let mp: Marketplace;
let authorizationId: string;
let offerId: string;
let until: string;
beforeAll(async () => {
  mp = await startMarketplace();
  until = daysFrom(mp.sandbox.state.now(), 60);
});
afterAll(async () => mp?.close());

const PROPOSER_FILTERS = [{ name: 'PartyType', values: ['Proposer'] }, { name: 'AgreementType', values: ['PurchaseAgreement'] }];

function authorization(productId: string, pricing: Record<string, unknown>, extra: Change[] = [], availability: Record<string, unknown> = { AvailabilityEndDate: until, OffersMaxQuantity: 1 }): Change[] {
  return [
    { ChangeType: 'CreateResaleAuthorization', ChangeName: 'auth', Entity: { Type: 'ResaleAuthorization@1.0' }, DetailsDocument: { ProductId: productId, Name: 'Data pipeline via Summit', Description: 'One offer for Initech', ResellerAccountId: RESELLER_ACCOUNT_ID } },
    // Released before its terms are set, as AWS's own examples do: the release judges the set's end state.
    { ChangeType: 'ReleaseResaleAuthorization', Entity: AUTHORIZATION, DetailsDocument: {} },
    { ChangeType: 'UpdatePricingTerms', Entity: AUTHORIZATION, DetailsDocument: pricing },
    {
      ChangeType: 'UpdateLegalTerms', Entity: AUTHORIZATION, DetailsDocument: {
        Terms: [
          { Type: 'BuyerLegalTerm', Documents: [{ Type: 'CustomEula', Url: 'https://s3.amazonaws.com/ecosync-legal/buyer-eula.pdf' }] },
          { Type: 'ResaleLegalTerm', Documents: [{ Type: 'CustomResellerContract', Url: 'https://s3.amazonaws.com/ecosync-legal/reseller.pdf' }] },
        ],
      },
    },
    { ChangeType: 'UpdateAvailability', Entity: AUTHORIZATION, DetailsDocument: availability },
    ...extra,
  ] as Change[];
}

function resellerOffer(raId: string, markup: string, buyers: string[] = [BUYER_3], end = until): Change[] {
  return [
    { ChangeType: 'CreateOfferUsingResaleAuthorization', ChangeName: 'offer', Entity: { Type: 'Offer@1.0' }, DetailsDocument: { ResaleAuthorizationId: raId, Name: 'Initech data pipeline', Description: 'Through Summit Cloud Partners' } },
    { ChangeType: 'UpdateMarkup', Entity: OFFER, DetailsDocument: { Percentage: markup } },
    { ChangeType: 'UpdateTargeting', Entity: OFFER, DetailsDocument: { PositiveTargeting: { BuyerAccounts: buyers } } },
    { ChangeType: 'UpdateAvailability', Entity: OFFER, DetailsDocument: { AvailabilityEndDate: end } },
    { ChangeType: 'ReleaseOffer', Entity: OFFER, DetailsDocument: {} },
  ] as Change[];
}

describe('CPPO', () => {
  it('the seller creates, prices and releases a resale authorization; the reseller sees it shared', async () => {
    const set = await mp.run(authorization(mp.products.hybrid, {
      PricingModel: 'Contract',
      Terms: [
        { ...upfront(['Users'], '250.00'), Type: 'ResaleConfigurableUpfrontPricingTerm' },
        { Type: 'ResaleUsageBasedPricingTerm', CurrencyCode: 'USD', RateCards: [{ RateCard: [{ DimensionKey: 'ApiCalls', Price: '0.002' }] }] },
      ],
    }, [{ ChangeType: 'UpdateBuyerTargetingTerms', Entity: AUTHORIZATION, DetailsDocument: { Terms: [{ Type: 'BuyerTargetingTerm', PositiveTargeting: { BuyerAccounts: [BUYER_3] } }] } } as Change]));
    expect(set.Status).toBe('SUCCEEDED');
    authorizationId = createdId(set);
    expect(authorizationId).toMatch(/^resaleauthz-[a-z0-9]{13}$/);
    expect(await mp.describe(authorizationId)).toMatchObject({
      Name: 'Data pipeline via Summit', ProductId: mp.products.hybrid, ProductName: 'Ecosync Data Pipeline', Status: 'Active', ManufacturerAccountId: SELLER_ACCOUNT_ID,
      OfferDetails: { OfferExtendedStatus: 'Not Started', OfferCreatedCount: 0 },
      Rules: [{ Type: 'AvailabilityRule', Usage: 'Limited', OffersMaxQuantity: 1, AvailabilityEndDate: `${until}T23:59:59.999Z` }, { Type: 'PartnerTargetingRule', ResellerAccountId: RESELLER_ACCOUNT_ID, ResellerLegalName: 'Summit Cloud Partners LLC' }],
    });

    const shared = await mp.reseller.catalog.send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'ResaleAuthorization', OwnershipType: 'SHARED' }));
    expect(shared.EntitySummaryList).toEqual([expect.objectContaining({
      EntityId: authorizationId,
      ResaleAuthorizationSummary: expect.objectContaining({ Status: 'Active', ResellerAccountID: RESELLER_ACCOUNT_ID, ManufacturerAccountId: SELLER_ACCOUNT_ID, ProductName: 'Ecosync Data Pipeline' }),
    })]);
    expect((await mp.describe(authorizationId, mp.reseller.catalog)).Status).toBe('Active');
  });

  it('the reseller makes an offer from it with a 5% markup, priced from the authorization', async () => {
    const set = await mp.run(resellerOffer(authorizationId, '5.0'), { as: mp.reseller.catalog });
    expect(errorsOf(set)).toEqual([]);
    expect(set.Status).toBe('SUCCEEDED');
    offerId = createdId(set);
    const offer = await mp.describe(offerId, mp.reseller.catalog);
    expect(offer).toMatchObject({ ResaleAuthorizationId: authorizationId, MarkupPercentage: '5.0', ProductId: mp.products.hybrid, State: 'Released' });
    expect(offer.Terms).toEqual([
      expect.objectContaining({ Type: 'ConfigurableUpfrontPricingTerm', RateCards: [expect.objectContaining({ RateCard: [{ DimensionKey: 'Users', Price: '262.5' }] })] }),
      expect.objectContaining({ Type: 'UsageBasedPricingTerm', RateCards: [{ RateCard: [{ DimensionKey: 'ApiCalls', Price: '0.0021' }] }] }),
      { Type: 'LegalTerm', Documents: [{ Type: 'CustomEula', Url: 'https://s3.amazonaws.com/ecosync-legal/buyer-eula.pdf' }] },
    ]);
    expect((await mp.describe(authorizationId)).OfferDetails).toEqual({ OfferExtendedStatus: 'Created', OfferCreatedCount: 1 });
    const released = mp.sandbox.events.of('Offer Released').at(-1)!;
    expect(released).toMatchObject({ account: RESELLER_ACCOUNT_ID, detail: { offer: { id: offerId }, manufacturer: { accountId: SELLER_ACCOUNT_ID }, sellerOfRecord: { accountId: RESELLER_ACCOUNT_ID } } });
  });

  it('refuses a second offer from a one-offer authorization, and a buyer the authorization does not cover', async () => {
    const again = await mp.run(resellerOffer(authorizationId, '5.0'), { as: mp.reseller.catalog });
    expect(errorsOf(again)).toEqual([['CreateOfferUsingResaleAuthorization', 'INCOMPATIBLE_RESALE_AUTHORIZATION']]);
    expect(messagesOf(again)[0]).toBe(`ResaleAuthorizationId: resale authorization ${authorizationId} allows 1 offer(s) and has been used for all of them.`);

    const open = await mp.run(authorization(mp.products.hybrid, { PricingModel: 'Contract', Terms: [{ ...upfront(['Users'], '250.00'), Type: 'ResaleConfigurableUpfrontPricingTerm' }] }, [
      { ChangeType: 'UpdateBuyerTargetingTerms', Entity: AUTHORIZATION, DetailsDocument: { Terms: [{ Type: 'BuyerTargetingTerm', PositiveTargeting: { BuyerAccounts: [BUYER_3] } }] } } as Change,
    ], { AvailabilityEndDate: until }));
    const wrongBuyer = await mp.run(resellerOffer(createdId(open), '2', [BUYER]), { as: mp.reseller.catalog });
    expect(errorsOf(wrongBuyer)).toEqual([['ReleaseOffer', 'INCOMPATIBLE_RESALE_AUTHORIZATION']]);
    expect(messagesOf(wrongBuyer)[0]).toMatch(new RegExp(`^PositiveTargeting.BuyerAccounts: ${BUYER} is not a buyer resale authorization resaleauthz-\\w+ may be sold to \\(${BUYER_3}\\)\\.$`));
    const tooLate = await mp.run(resellerOffer(createdId(open), '2', [BUYER_3], daysFrom(mp.sandbox.state.now(), 90)), { as: mp.reseller.catalog });
    expect(errorsOf(tooLate)).toEqual([['ReleaseOffer', 'INCOMPATIBLE_RESALE_AUTHORIZATION']]);
    expect(messagesOf(tooLate)[0]).toMatch(/^AvailabilityEndDate: .* is after resale authorization .* end date/);
  });

  it('a markup cannot be added to a fixed upfront price with a payment schedule (0 is fine)', async () => {
    const charges = [daysFrom(mp.sandbox.state.now(), 1), daysFrom(mp.sandbox.state.now(), 200)];
    const fixed = await mp.run(authorization(mp.products.hybrid, {
      PricingModel: 'Contract', Terms: [{ Type: 'ResaleFixedUpfrontPricingTerm', CurrencyCode: 'USD', Price: '0', Duration: 'P12M', Grants: [{ DimensionKey: 'Users', MaxQuantity: 20 }] }],
    }, [
      { ChangeType: 'UpdatePaymentScheduleTerms', Entity: AUTHORIZATION, DetailsDocument: { Terms: [{ Type: 'ResalePaymentScheduleTerm', CurrencyCode: 'USD', Schedule: charges.map((ChargeDate) => ({ ChargeDate, ChargeAmount: '5000.00' })) }] } } as Change,
    ], { AvailabilityEndDate: until }));
    expect(fixed.Status).toBe('SUCCEEDED');
    const raId = createdId(fixed);
    const marked = await mp.run(resellerOffer(raId, '3'), { as: mp.reseller.catalog });
    expect(errorsOf(marked)).toEqual([['UpdateMarkup', 'INCOMPATIBLE_TERMS']]);
    expect(messagesOf(marked)[0]).toBe(`Percentage: a markup of 3% cannot be added to resale authorization ${raId}, whose fixed upfront price the buyer pays as set; use 0.`);
    const plain = await mp.run(resellerOffer(raId, '0'), { as: mp.reseller.catalog });
    expect(plain.Status).toBe('SUCCEEDED');
    const offer = await mp.describe(createdId(plain), mp.reseller.catalog);
    expect(offer.Terms.map((t: { Type: string }) => t.Type).sort()).toEqual(['FixedUpfrontPricingTerm', 'LegalTerm', 'PaymentScheduleTerm', 'ValidityTerm']);
    expect(offer.Terms).toContainEqual({ Type: 'ValidityTerm', AgreementDuration: 'P12M' });
  });

  it('the seller renames an authorization before release and restricts a released one; no new offers come from it', async () => {
    const draft = await mp.run([
      { ChangeType: 'CreateResaleAuthorization', ChangeName: 'auth', Entity: { Type: 'ResaleAuthorization@1.0' }, DetailsDocument: { ProductId: mp.products.hybrid, Name: 'Draft name', ResellerAccountId: RESELLER_ACCOUNT_ID } },
    ] as Change[]);
    const raId = createdId(draft);
    const on = { Type: 'ResaleAuthorization@1.0', Identifier: raId };
    expect((await mp.run([{ ChangeType: 'UpdateInformation', Entity: on, DetailsDocument: { Name: 'Renewal via Summit', Description: 'For an existing buyer', PreExistingBuyerAgreement: { AcquisitionChannel: 'AwsMarketplace', PricingModel: 'Contract' } } }] as Change[])).Status).toBe('SUCCEEDED');
    expect(await mp.describe(raId)).toMatchObject({ Name: 'Renewal via Summit', Description: 'For an existing buyer', Status: 'Draft', PreExistingBuyerAgreement: { AcquisitionChannel: 'AwsMarketplace' } });
    const released = await mp.run([
      { ChangeType: 'UpdatePricingTerms', Entity: on, DetailsDocument: { PricingModel: 'Contract', Terms: [{ ...upfront(['Users'], '90'), Type: 'ResaleConfigurableUpfrontPricingTerm' }] } },
      { ChangeType: 'UpdateLegalTerms', Entity: on, DetailsDocument: { Terms: [{ Type: 'BuyerLegalTerm', Documents: [{ Type: 'StandardEula', Version: '2022-07-14' }] }] } },
      { ChangeType: 'ReleaseResaleAuthorization', Entity: on, DetailsDocument: {} },
    ] as Change[]);
    expect(released.Status).toBe('SUCCEEDED');
    const repriced = await mp.run([{ ChangeType: 'UpdatePricingTerms', Entity: on, DetailsDocument: { PricingModel: 'Contract', Terms: [{ ...upfront(['Users'], '80'), Type: 'ResaleConfigurableUpfrontPricingTerm' }] } }] as Change[]);
    expect(errorsOf(repriced)).toEqual([['UpdatePricingTerms', 'INCOMPATIBLE_TERMS']]);
    expect((await mp.run([{ ChangeType: 'RestrictResaleAuthorization', Entity: on, DetailsDocument: {} }] as Change[])).Status).toBe('SUCCEEDED');
    expect((await mp.describe(raId)).Status).toBe('Restricted');
    const refused = await mp.run(resellerOffer(raId, '1'), { as: mp.reseller.catalog });
    expect(messagesOf(refused)).toContain(`ResaleAuthorizationId: resale authorization ${raId} is Restricted, not Active.`);
  });

  it('the buyer\'s acceptance makes an agreement proposed by the reseller, announced to reseller and manufacturer', async () => {
    const accepted = await acceptOffer(mp.sandbox.url, offerId, { buyerAccountId: BUYER_3, dimensions: { Users: 10 } });
    expect(accepted.status).toBe(201);
    const agreementId = accepted.body.agreementId as string;
    const described = await mp.reseller.agreement.send(new DescribeAgreementCommand({ agreementId }));
    expect(described).toMatchObject({
      agreementId, status: 'ACTIVE', agreementType: 'PurchaseAgreement',
      acceptor: { accountId: BUYER_3 }, proposer: { accountId: RESELLER_ACCOUNT_ID },
      estimatedCharges: { currencyCode: 'USD', agreementValue: '2625.00' },
      proposalSummary: { offerId, resources: [{ id: mp.products.hybrid, type: 'SaaSProduct' }] },
    });
    // The manufacturer reads it too; only the reseller finds it as proposer.
    expect((await mp.seller.agreement.send(new DescribeAgreementCommand({ agreementId }))).agreementId).toBe(agreementId);
    const asReseller = await mp.reseller.agreement.send(new SearchAgreementsCommand({ catalog: 'AWSMarketplace', filters: PROPOSER_FILTERS }));
    expect(asReseller.agreementViewSummaries!.map((a) => a.agreementId)).toEqual([agreementId]);
    const asSeller = await mp.seller.agreement.send(new SearchAgreementsCommand({ catalog: 'AWSMarketplace', filters: PROPOSER_FILTERS }));
    expect(asSeller.agreementViewSummaries).toEqual([]);

    const created = mp.sandbox.events.all.filter((e) => e['detail-type'].startsWith('Purchase Agreement Created'));
    expect(created.map((e) => [e['detail-type'], e.account])).toEqual([
      ['Purchase Agreement Created - Proposer', RESELLER_ACCOUNT_ID],
      ['Purchase Agreement Created - Manufacturer', SELLER_ACCOUNT_ID],
    ]);
    expect(created[1]).toMatchObject({
      source: 'aws.agreement-marketplace',
      detail: {
        agreement: { id: agreementId, intent: 'NEW', status: 'ACTIVE' }, acceptor: { accountId: BUYER_3 }, proposer: { accountId: RESELLER_ACCOUNT_ID },
        offer: { id: offerId }, resaleAuthorization: { id: authorizationId },
      },
    });
  });
});
