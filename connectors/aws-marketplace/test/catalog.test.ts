import {
  CancelChangeSetCommand, DescribeChangeSetCommand, DescribeEntityCommand, ListEntitiesCommand, ResourceInUseException, ResourceNotFoundException,
  StartChangeSetCommand, ValidationException, type Change,
} from '@aws-sdk/client-marketplace-catalog';
import { afterEach, describe, expect, it } from 'vitest';
import { SELLER_ACCOUNT_ID } from '../sandbox/index.js';
import { BUYER, BUYER_2, createdId, daysFrom, directOffer, OFFER, startMarketplace, upfront, type Marketplace } from './helpers.js';

let mp: Marketplace;
afterEach(async () => mp?.close());

const catalogCall = <T>(p: Promise<T>) => p.then(() => undefined, (e: unknown) => e as Error & Record<string, any>);

describe('a direct private offer made in one change set', () => {
  it('runs PREPARING → APPLYING → SUCCEEDED on the marketplace clock and is then readable as AWS shows it', async () => {
    mp = await startMarketplace({ changeSetMs: 60_000 });
    const until = daysFrom(mp.sandbox.state.now(), 30);
    const { ChangeSetId, ChangeSetArn } = await mp.seller.catalog.send(new StartChangeSetCommand({
      Catalog: 'AWSMarketplace', ChangeSetName: 'acme-renewal-2025', ChangeSet: directOffer(mp.products.contract, until, {
        UpdateValidityTerms: { Terms: [{ Type: 'ValidityTerm', AgreementDuration: 'P12M' }] },
      }),
    }));
    expect(ChangeSetArn).toBe(`arn:aws:aws-marketplace:us-east-1:${SELLER_ACCOUNT_ID}:AWSMarketplace/ChangeSet/${ChangeSetId}`);
    const describe = () => mp.seller.catalog.send(new DescribeChangeSetCommand({ Catalog: 'AWSMarketplace', ChangeSetId }));
    expect((await describe()).Status).toBe('PREPARING');
    mp.sandbox.state.advanceClock(30_000);
    expect((await describe()).Status).toBe('APPLYING');
    mp.sandbox.state.advanceClock(30_000);
    const done = await describe();
    expect(done).toMatchObject({ Status: 'SUCCEEDED', ChangeSetName: 'acme-renewal-2025', Intent: 'APPLY' });
    expect(done.ChangeSet!.map((c) => c.ChangeType)).toEqual(['CreateOffer', 'UpdateInformation', 'UpdateTargeting', 'UpdatePricingTerms', 'UpdateLegalTerms', 'UpdateAvailability', 'ReleaseOffer', 'UpdateValidityTerms']);
    expect(done.ChangeSet!.every((c) => c.ErrorDetailList!.length === 0)).toBe(true);
    const offerId = createdId(done);
    expect(offerId).toMatch(/^offer-[a-z0-9]{13}$/);
    expect(done.ChangeSet![0].Entity!.Identifier).toBe(`${offerId}@1`);

    const offer = await mp.describe(offerId);
    expect(offer).toMatchObject({
      Id: offerId, Name: 'Acme annual analytics', ProductId: mp.products.contract, State: 'Released',
      Rules: [{ Type: 'AvailabilityRule', AvailabilityEndDate: `${until}T23:59:59.999Z` }, { Type: 'TargetingRule', PositiveTargeting: { BuyerAccounts: [BUYER, BUYER_2] } }],
      $entity: { identifier: `${offerId}@1`, type: 'Offer@1.0', arn: `arn:aws:aws-marketplace:us-east-1:${SELLER_ACCOUNT_ID}:AWSMarketplace/Offer/${offerId}` },
    });
    expect(offer.Terms.map((t: { Type: string }) => t.Type)).toEqual(['ConfigurableUpfrontPricingTerm', 'LegalTerm', 'ValidityTerm']);

    const events = mp.sandbox.events.all;
    expect(events.map((e) => e['detail-type'])).toEqual(['Offer Released', 'Change Set Succeeded']);
    expect(events[1]).toMatchObject({ source: 'aws.marketplacecatalog', account: SELLER_ACCOUNT_ID, region: 'us-east-1', resources: [ChangeSetArn], detail: { Catalog: 'AWSMarketplace', ChangeSetId } });
    expect(events[0].detail).toMatchObject({ offer: { id: offerId, name: 'Acme annual analytics', expirationDate: `${until}T23:59:59Z` }, product: { id: mp.products.contract }, targetedBuyerAccountIds: [BUYER, BUYER_2] });
  });

  it('applies every offer change type, each visible in DescribeEntity', async () => {
    mp = await startMarketplace();
    const until = daysFrom(mp.sandbox.state.now(), 20);
    const created = await mp.run([{ ChangeType: 'CreateOffer', ChangeName: 'offer', Entity: { Type: 'Offer@1.0' }, DetailsDocument: { ProductId: mp.products.hybrid, Name: 'Seats and usage' } }]);
    const id = createdId(created);
    expect(await mp.describe(id)).toMatchObject({ Name: 'Seats and usage', State: 'Draft', Terms: [], Rules: [] });
    const on = (ChangeType: string, DetailsDocument: Record<string, unknown>): Change => ({ ChangeType, Entity: { Type: 'Offer@1.0', Identifier: id }, DetailsDocument } as Change);
    const steps: [Change, (offer: Record<string, any>) => void][] = [
      [on('UpdateInformation', { Name: 'Globex seats and usage', Description: 'Seats under contract plus metered API calls', PreExistingAgreement: { AcquisitionChannel: 'External', PricingModel: 'Contract' } }),
        (o) => expect(o).toMatchObject({ Name: 'Globex seats and usage', Description: 'Seats under contract plus metered API calls', PreExistingAgreement: { AcquisitionChannel: 'External' } })],
      [on('UpdateTargeting', { PositiveTargeting: { BuyerAccounts: [BUYER_2] } }), (o) => expect(o.Rules).toContainEqual({ Type: 'TargetingRule', PositiveTargeting: { BuyerAccounts: [BUYER_2] } })],
      [on('UpdatePricingTerms', { PricingModel: 'Contract', Terms: [{ Type: 'FixedUpfrontPricingTerm', CurrencyCode: 'EUR', Price: '0', Grants: [{ DimensionKey: 'Users', MaxQuantity: 40 }] }, { Type: 'UsageBasedPricingTerm', CurrencyCode: 'EUR', RateCards: [{ RateCard: [{ DimensionKey: 'ApiCalls', Price: '0.001' }] }] }] }),
        (o) => expect(o.Terms.filter((t: any) => t.Type.endsWith('PricingTerm'))).toEqual([expect.objectContaining({ Type: 'FixedUpfrontPricingTerm', Grants: [{ DimensionKey: 'Users', MaxQuantity: 40 }] }), expect.objectContaining({ Type: 'UsageBasedPricingTerm' })])],
      [on('UpdatePaymentScheduleTerms', { Terms: [{ Type: 'PaymentScheduleTerm', CurrencyCode: 'EUR', Schedule: [{ ChargeDate: daysFrom(mp.sandbox.state.now(), 1), ChargeAmount: '6000.00' }, { ChargeDate: daysFrom(mp.sandbox.state.now(), 180), ChargeAmount: '6000.00' }] }] }),
        (o) => expect(o.Terms).toContainEqual(expect.objectContaining({ Type: 'PaymentScheduleTerm', CurrencyCode: 'EUR', Schedule: [expect.objectContaining({ ChargeAmount: '6000.00' }), expect.objectContaining({ ChargeAmount: '6000.00' })] }))],
      [on('UpdateValidityTerms', { Terms: [{ Type: 'ValidityTerm', AgreementDuration: 'P365D' }] }), (o) => expect(o.Terms).toContainEqual({ Type: 'ValidityTerm', AgreementDuration: 'P365D' })],
      [on('UpdateLegalTerms', { Terms: [{ Type: 'LegalTerm', Documents: [{ Type: 'StandardEula', Version: '2022-07-14' }] }] }), (o) => expect(o.Terms).toContainEqual({ Type: 'LegalTerm', Documents: [{ Type: 'StandardEula', Version: '2022-07-14' }] })],
      [on('UpdateSupportTerms', { Terms: [{ Type: 'SupportTerm', RefundPolicy: 'Refunds within 30 days of purchase.' }] }), (o) => expect(o.Terms).toContainEqual({ Type: 'SupportTerm', RefundPolicy: 'Refunds within 30 days of purchase.' })],
      [on('UpdateRenewalTerms', { Terms: [{ Type: 'RenewalTerm' }] }), (o) => expect(o.Terms).toContainEqual({ Type: 'RenewalTerm' })],
      [on('UpdateAvailability', { AvailabilityEndDate: until }), (o) => expect(o.Rules).toContainEqual({ Type: 'AvailabilityRule', AvailabilityEndDate: `${until}T23:59:59.999Z` })],
      [on('ReleaseOffer', {}), (o) => expect(o.State).toBe('Released')],
    ];
    let revision = 1;
    for (const [change, check] of steps) {
      const set = await mp.run([change]);
      expect({ type: change.ChangeType, status: set.Status, errors: set.ChangeSet![0].ErrorDetailList }).toEqual({ type: change.ChangeType, status: 'SUCCEEDED', errors: [] });
      const offer = await mp.describe(id);
      check(offer);
      expect(offer.$entity.identifier).toBe(`${id}@${++revision}`);
    }
    // Once released, the expiry still moves (to expire the offer early) but the buyers do not.
    const earlier = daysFrom(mp.sandbox.state.now(), 5);
    expect((await mp.run([on('UpdateAvailability', { AvailabilityEndDate: earlier })])).Status).toBe('SUCCEEDED');
    const retarget = await mp.run([on('UpdateTargeting', { PositiveTargeting: { BuyerAccounts: [BUYER] } })]);
    expect(retarget.ChangeSet![0].ErrorDetailList).toEqual([{ ErrorCode: 'INVALID_BUYER_ACCOUNTS', ErrorMessage: expect.stringMatching(/cannot change; create a new offer/) }]);
  });

  it('makes a replacement offer for an agreement, targeted at its buyer', async () => {
    mp = await startMarketplace({ demo: true });
    const agreement = [...mp.sandbox.state.store.agreements.values()][0];
    const set = await mp.run([
      { ChangeType: 'CreateReplacementOffer', ChangeName: 'offer', Entity: { Type: 'Offer@1.0' }, DetailsDocument: { AgreementId: agreement.id } },
      { ChangeType: 'UpdateInformation', Entity: OFFER, DetailsDocument: { Name: 'Mid-term upgrade' } },
    ] as Change[]);
    expect(set.Status).toBe('SUCCEEDED');
    expect(await mp.describe(createdId(set))).toMatchObject({ ProductId: agreement.productId, State: 'Draft', Rules: [{ Type: 'TargetingRule', PositiveTargeting: { BuyerAccounts: [agreement.acceptor] } }] });
  });
});

describe('StartChangeSet refuses a malformed request at once (ValidationException, nothing started)', () => {
  it('names the problem and the field', async () => {
    mp = await startMarketplace();
    const start = (ChangeSet: unknown[]) => catalogCall(mp.seller.catalog.send(new StartChangeSetCommand({ Catalog: 'AWSMarketplace', ChangeSet: ChangeSet as Change[] })));
    const create = { ChangeType: 'CreateOffer', ChangeName: 'offer', Entity: { Type: 'Offer@1.0' }, DetailsDocument: { ProductId: mp.products.contract } };

    const badJson = await start([{ ChangeType: 'CreateOffer', Entity: { Type: 'Offer@1.0' }, Details: '{"ProductId": "prod-x",' }]);
    expect(badJson).toBeInstanceOf(ValidationException);
    expect(badJson!.$metadata.httpStatusCode).toBe(422);
    expect(badJson!.message).toMatch(/^ChangeSet\[0\]\.Details is not valid JSON/);
    expect(badJson!.ValidationExceptionFieldList).toEqual([expect.objectContaining({ Reason: 'CannotParse', Field: 'Details' })]);

    const unknownType = await start([{ ChangeType: 'UpdateDiscounts', Entity: { Type: 'Offer@1.0', Identifier: 'offer-abcdefghijklm' }, DetailsDocument: {} }]);
    expect(unknownType).toBeInstanceOf(ValidationException);
    expect(unknownType!.message).toBe('ChangeSet[0]: UpdateDiscounts is not a change type of Offer@1.0.');
    expect(unknownType!.ValidationExceptionFieldList).toEqual([expect.objectContaining({ Reason: 'UnknownOperation', ChangeType: 'UpdateDiscounts' })]);

    const twice = await start([create, { ChangeType: 'UpdateInformation', Entity: OFFER, DetailsDocument: { Name: 'a' } }, { ChangeType: 'UpdateInformation', Entity: OFFER, DetailsDocument: { Name: 'b' } }]);
    expect(twice).toBeInstanceOf(ValidationException);
    expect(twice!.message).toMatch(/^ChangeSet\[2\]: the change set already has a UpdateInformation change for entity \$offer\.Entity\.Identifier/);

    const dangling = await start([create, { ChangeType: 'UpdateInformation', Entity: { Type: 'Offer@1.0', Identifier: '$ofer.Entity.Identifier' }, DetailsDocument: { Name: 'a' } }]);
    expect(dangling!.message).toBe('ChangeSet[1].Entity.Identifier $ofer.Entity.Identifier names no earlier change of the set (no change is named ofer).');

    const forward = await start([{ ChangeType: 'UpdateInformation', Entity: OFFER, DetailsDocument: { Name: 'a' } }, create]);
    expect(forward!.message).toMatch(/names no earlier change/);

    const shape = await start([{ ...create, DetailsDocument: { ProductID: mp.products.contract } }]);
    expect(shape).toBeInstanceOf(ValidationException);
    expect(shape!.ValidationExceptionFieldList).toEqual([
      expect.objectContaining({ Reason: 'FieldValidationFailed', ChangeType: 'CreateOffer', Field: 'ProductId', Message: 'ChangeSet[0].DetailsDocument.ProductId: is required (string)' }),
      expect.objectContaining({ Field: 'ProductID', Message: 'ChangeSet[0].DetailsDocument.ProductID: is not a member of this document' }),
    ]);

    const price = await start([create, { ChangeType: 'UpdatePricingTerms', Entity: OFFER, DetailsDocument: { PricingModel: 'Contract', Terms: [upfront(['BasicService'], '1,000')] } }]);
    expect(price!.ValidationExceptionFieldList![0]).toMatchObject({ Field: 'Terms[0].RateCards[0].RateCard[0].Price', Message: expect.stringMatching(/decimal number in a string/) });

    const missing = await start([{ ChangeType: 'UpdateInformation', Entity: { Type: 'Offer@1.0', Identifier: 'offer-doesnotexist1' }, DetailsDocument: { Name: 'a' } }]);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect(missing!.message).toBe('Entity offer-doesnotexist1 of type Offer@1.0 was not found.');

    expect(mp.sandbox.state.catalog.sets.size).toBe(0);
    expect(mp.sandbox.counters.get('catalog.StartChangeSet.ValidationException')).toBe(7);
  });
});

describe('ClientRequestToken and Intent', () => {
  it('answers a repeated request with the same change set, and refuses the token for a different request', async () => {
    mp = await startMarketplace();
    const until = daysFrom(mp.sandbox.state.now(), 10);
    const send = (changes: Change[]) => mp.seller.catalog.send(new StartChangeSetCommand({ Catalog: 'AWSMarketplace', ChangeSet: changes, ClientRequestToken: 'quote-Q-1001-offer' }));
    const first = await send(directOffer(mp.products.contract, until));
    const again = await send(directOffer(mp.products.contract, until));
    expect(again.ChangeSetId).toBe(first.ChangeSetId);
    expect(mp.sandbox.state.catalog.sets.size).toBe(1);
    mp.sandbox.state.settle();
    expect((await send(directOffer(mp.products.contract, until))).ChangeSetId).toBe(first.ChangeSetId);
    expect(mp.sandbox.state.store.offers.size).toBe(1);

    const other = await catalogCall(send(directOffer(mp.products.hybrid, until)));
    expect(other).toBeInstanceOf(ValidationException);
    expect(other!.message).toBe(`ClientRequestToken quote-Q-1001-offer was already used by change set ${first.ChangeSetId} for a different request; use a new token for a new request.`);
  });

  it('VALIDATE runs the checks and changes nothing', async () => {
    mp = await startMarketplace();
    const until = daysFrom(mp.sandbox.state.now(), 10);
    const ok = await mp.run(directOffer(mp.products.contract, until), { Intent: 'VALIDATE' });
    expect(ok).toMatchObject({ Status: 'SUCCEEDED', Intent: 'VALIDATE' });
    expect(ok.ChangeSet![0].Entity!.Identifier).toBeUndefined();
    const bad = await mp.run(directOffer(mp.products.contract, until, { UpdateAvailability: undefined }), { Intent: 'VALIDATE' });
    expect(bad).toMatchObject({ Status: 'FAILED', FailureCode: 'CLIENT_ERROR' });
    expect(mp.sandbox.state.store.offers.size).toBe(0);
    const listed = await mp.seller.catalog.send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'Offer' }));
    expect(listed.EntitySummaryList).toEqual([]);
    expect(mp.sandbox.events.of('Offer Released')).toEqual([]);
  });
});

describe('entities locked by a change set in flight', () => {
  it('refuses another set touching them with ResourceInUseException until the first finishes', async () => {
    mp = await startMarketplace({ changeSetMs: 120_000 });
    const created = await mp.run([{ ChangeType: 'CreateOffer', ChangeName: 'offer', Entity: { Type: 'Offer@1.0' }, DetailsDocument: { ProductId: mp.products.contract } }] as Change[]);
    const id = createdId(created);
    const rename = (Name: string) => mp.seller.catalog.send(new StartChangeSetCommand({ Catalog: 'AWSMarketplace', ChangeSet: [{ ChangeType: 'UpdateInformation', Entity: { Type: 'Offer@1.0', Identifier: id }, DetailsDocument: { Name } }] }));
    const first = await rename('first');
    const second = await catalogCall(rename('second'));
    expect(second).toBeInstanceOf(ResourceInUseException);
    expect(second!.$metadata.httpStatusCode).toBe(423);
    expect(second!.message).toBe(`Entity ${id} is in use by change set ${first.ChangeSetId} (PREPARING). Start this change set again when that one has finished.`);
    mp.sandbox.state.advanceClock(120_000);
    await rename('second');
    mp.sandbox.state.settle();
    expect((await mp.describe(id)).Name).toBe('second');
  });

  it('cancels a PREPARING set (unlocking its entities) but not an APPLYING one', async () => {
    mp = await startMarketplace({ changeSetMs: 60_000 });
    const created = await mp.run([{ ChangeType: 'CreateOffer', ChangeName: 'offer', Entity: { Type: 'Offer@1.0' }, DetailsDocument: { ProductId: mp.products.contract } }] as Change[]);
    const id = createdId(created);
    const rename = (Name: string) => mp.seller.catalog.send(new StartChangeSetCommand({ Catalog: 'AWSMarketplace', ChangeSet: [{ ChangeType: 'UpdateInformation', Entity: { Type: 'Offer@1.0', Identifier: id }, DetailsDocument: { Name } }] }));
    const cancel = (ChangeSetId: string) => mp.seller.catalog.send(new CancelChangeSetCommand({ Catalog: 'AWSMarketplace', ChangeSetId }));
    const first = await rename('cancelled');
    await cancel(first.ChangeSetId!);
    const described = await mp.seller.catalog.send(new DescribeChangeSetCommand({ Catalog: 'AWSMarketplace', ChangeSetId: first.ChangeSetId }));
    expect(described.Status).toBe('CANCELLED');
    expect(mp.sandbox.events.of('Change Set Cancelled')).toHaveLength(1);
    const second = await rename('applied');
    mp.sandbox.state.advanceClock(30_000);
    const late = await catalogCall(cancel(second.ChangeSetId!));
    expect(late).toBeInstanceOf(ResourceInUseException);
    expect(late!.message).toMatch(/already APPLYING/);
    mp.sandbox.state.settle();
    expect((await mp.describe(id)).Name).toBe('applied');
  });
});

describe('ListEntities', () => {
  it('filters by the SDK\'s offer filters and pages with NextToken', async () => {
    mp = await startMarketplace();
    const until = daysFrom(mp.sandbox.state.now(), 10);
    for (let i = 0; i < 5; i++) {
      await mp.run(directOffer(i % 2 === 0 ? mp.products.contract : mp.products.hybrid, until, {
        UpdateInformation: { Name: `Offer ${i}` },
        UpdatePricingTerms: { PricingModel: 'Contract', Terms: [upfront(i % 2 === 0 ? ['BasicService'] : ['Users'], '100')] },
        UpdateTargeting: { PositiveTargeting: { BuyerAccounts: [i === 3 ? BUYER_2 : BUYER] } },
        ReleaseOffer: i < 4 ? {} : undefined,
      }));
    }
    const list = (input: Record<string, unknown>) => mp.seller.catalog.send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'Offer', ...input }));
    const names = (out: Awaited<ReturnType<typeof list>>) => out.EntitySummaryList!.map((e) => e.Name);
    expect(names(await list({ EntityTypeFilters: { OfferFilters: { State: { ValueList: ['Draft'] } } } }))).toEqual(['Offer 4']);
    expect(names(await list({ EntityTypeFilters: { OfferFilters: { ProductId: { ValueList: [mp.products.hybrid] } } } }))).toEqual(['Offer 1', 'Offer 3']);
    expect(names(await list({ EntityTypeFilters: { OfferFilters: { BuyerAccounts: { WildCardValue: BUYER_2 } } } }))).toEqual(['Offer 3']);
    expect(names(await list({ EntityTypeSort: { OfferSort: { SortBy: 'Name', SortOrder: 'DESCENDING' } }, MaxResults: 2 }))).toEqual(['Offer 4', 'Offer 3']);

    const seen: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await list({ MaxResults: 2, NextToken });
      expect(page.EntitySummaryList!.length).toBeLessThanOrEqual(2);
      seen.push(...names(page) as string[]);
      NextToken = page.NextToken;
    } while (NextToken);
    expect(seen.sort()).toEqual(['Offer 0', 'Offer 1', 'Offer 2', 'Offer 3', 'Offer 4']);
    const summary = (await list({ MaxResults: 1 })).EntitySummaryList![0];
    expect(summary).toMatchObject({ EntityType: 'Offer@1.0', OfferSummary: { Name: 'Offer 0', ProductId: mp.products.contract, State: 'Released', BuyerAccounts: [BUYER], Targeting: ['BuyerAccounts'] } });

    const bad = await catalogCall(list({ NextToken: 'not-a-token' }));
    expect(bad).toBeInstanceOf(ValidationException);
    const products = await mp.seller.catalog.send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'SaaSProduct' }));
    expect(products.EntitySummaryList!.map((e) => e.SaaSProductSummary?.ProductTitle)).toEqual(['Ecosync Analytics Platform', 'Ecosync Data Pipeline', 'Ecosync Event Relay']);
  });

  it('shows each account its own entities only', async () => {
    mp = await startMarketplace({ demo: true });
    const resellerOffers = await mp.reseller.catalog.send(new ListEntitiesCommand({ Catalog: 'AWSMarketplace', EntityType: 'Offer' }));
    expect(resellerOffers.EntitySummaryList).toEqual([]);
    const sellerOffer = [...mp.sandbox.state.store.offers.keys()][0];
    const hidden = await catalogCall(mp.reseller.catalog.send(new DescribeEntityCommand({ Catalog: 'AWSMarketplace', EntityId: sellerOffer })));
    expect(hidden).toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('offer expiry and server faults', () => {
  it('an offer past its AvailabilityEndDate is expired on the clock (the Catalog still says Released)', async () => {
    mp = await startMarketplace();
    const set = await mp.run(directOffer(mp.products.contract, daysFrom(mp.sandbox.state.now(), 2)));
    const id = createdId(set);
    expect(mp.sandbox.state.offerStatus(id)).toBe('Released');
    mp.sandbox.state.advanceClock(3 * 86_400_000);
    expect(mp.sandbox.state.offerStatus(id)).toBe('Expired');
    expect((await mp.describe(id)).State).toBe('Released');
  });

  it('a set AWS fails on its side is FAILED with SERVER_FAULT and applies nothing; started again it succeeds', async () => {
    mp = await startMarketplace();
    const until = daysFrom(mp.sandbox.state.now(), 10);
    mp.sandbox.state.catalog.failNextWithServerFault();
    const failed = await mp.run(directOffer(mp.products.contract, until));
    expect(failed).toMatchObject({ Status: 'FAILED', FailureCode: 'SERVER_FAULT' });
    expect(mp.sandbox.state.store.offers.size).toBe(0);
    expect((await mp.run(directOffer(mp.products.contract, until))).Status).toBe('SUCCEEDED');
    expect(mp.sandbox.events.all.map((e) => [e['detail-type'], e.detail.FailureCode])).toEqual([['Change Set Failed', 'SERVER_FAULT'], ['Offer Released', undefined], ['Change Set Succeeded', undefined]]);
  });
});

