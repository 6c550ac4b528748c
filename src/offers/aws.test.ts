import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectSpecOf } from '../../connectors/registry.js';
import { AwsMarketplaceClient } from '../../connectors/aws-marketplace/client.js';
import { BUYER_ACCOUNT_IDS, RESELLER_ACCOUNT_ID, SANDBOX_CREDENTIALS, SELLER_ACCOUNT_ID, startAwsMarketplaceSandbox, type AwsMarketplaceSandbox } from '../../connectors/aws-marketplace/sandbox/index.js';
import { parseMapping, type CompiledMapping } from '../mapping/index.js';
import { awsBuyerUrl, awsOfferDocument, directOfferChanges, offerProblems, resaleAuthorizationChanges, resellerOfferChanges } from './aws.js';
import { buildOffer, crmFieldOf, type CrmFields, type OfferRequest } from './build.js';

const load = (file: string): CompiledMapping => {
  const { mapping, diagnostics } = parseMapping(readFileSync(file, 'utf8'), file, { schemaFor: objectSpecOf });
  if (!mapping) throw new Error(diagnostics.map((d) => d.message).join('; '));
  return mapping;
};
const offerMapping = load('mappings/aws-marketplace-offer.yaml');
const termsMapping = load('mappings/salesforce-private-offer.yaml');
const crm: CrmFields = Object.fromEntries(termsMapping.fields.map((f) => [f.field, f.from])) as CrmFields;

let sandbox: AwsMarketplaceSandbox;
let client: AwsMarketplaceClient;
let products: { contract: string; hybrid: string; usage: string };
beforeAll(async () => {
  sandbox = await startAwsMarketplaceSandbox({ demo: false });
  client = new AwsMarketplaceClient({ endpoint: sandbox.url, ...SANDBOX_CREDENTIALS.seller, reseller: SANDBOX_CREDENTIALS.reseller });
  const [contract, hybrid, usage] = [...sandbox.state.store.products.values()];
  products = { contract: contract.id, hybrid: hybrid.id, usage: usage.id };
});
afterAll(async () => {
  client?.close();
  await sandbox?.close();
});

const NOW = () => new Date(sandbox.state.now()).toISOString();
const inDays = (days: number) => new Date(sandbox.state.now() + days * 86_400_000).toISOString().slice(0, 10);

function request(extra: Partial<OfferRequest> = {}): OfferRequest {
  return {
    cloud: 'aws', channel: 'direct', opportunityId: randomUUID(), requestedBy: 'alex@example.com', pricingModel: 'contract',
    dimensions: [{ key: 'BasicService', price: '15000.00', listPrice: '20000.00', quantity: 2 }, { key: 'PremiumService', price: '30000.00', listPrice: '30000.00' }],
    ...extra,
  };
}

function offerFor(terms: Record<string, unknown>, extra: Partial<OfferRequest> = {}) {
  const built = buildOffer({
    id: randomUUID(), now: NOW(), crm, request: request(extra),
    terms: { name: 'Acme annual analytics', currency: 'USD', productId: products.contract, buyers: `${BUYER_ACCOUNT_IDS[0]},\n${BUYER_ACCOUNT_IDS[1]}`, termMonths: 12, expiresOn: inDays(30), ...terms },
  });
  if (!built.ok) throw new Error(JSON.stringify(built.problems));
  return built.offer;
}

async function run(changes: ReturnType<typeof directOfferChanges>, as: 'seller' | 'reseller' = 'seller') {
  const id = await client.startChangeSet({ changes: changes as never, token: randomUUID(), as });
  sandbox.state.settle();
  return client.describeChangeSet(id, as);
}

describe('an offer as AWS Marketplace change sets', () => {
  it('a direct offer built from the opportunity\'s terms and mapped by its file is one set AWS applies; the buyer accepts it', async () => {
    const offer = offerFor({ eulaUrl: 'https://example.com/eula.pdf' });
    expect(offer).toMatchObject({ buyerAccounts: [BUYER_ACCOUNT_IDS[0], BUYER_ACCOUNT_IDS[1]], duration: 'P12M', totalValue: '60000.00', discountPercent: '14.29' });
    const changes = directOfferChanges(awsOfferDocument(offerMapping, offer));
    expect(changes.map((c) => c.ChangeType)).toEqual([
      'CreateOffer', 'UpdateInformation', 'UpdateTargeting', 'UpdatePricingTerms', 'UpdateValidityTerms', 'UpdateLegalTerms', 'UpdateAvailability', 'ReleaseOffer',
    ]);
    expect(changes[3].DetailsDocument).toEqual({
      PricingModel: 'Contract',
      Terms: [{
        Type: 'ConfigurableUpfrontPricingTerm', CurrencyCode: 'USD',
        RateCards: [{
          Selector: { Type: 'Duration', Value: 'P12M' },
          RateCard: [{ DimensionKey: 'BasicService', Price: '15000.00' }, { DimensionKey: 'PremiumService', Price: '30000.00' }],
          Constraints: { MultipleDimensionSelection: 'Allowed', QuantityConfiguration: 'Allowed' },
        }],
      }],
    });
    const set = await run(changes);
    expect(set).toMatchObject({ status: 'SUCCEEDED' });
    const offerId = set.changes.find((c) => c.changeType === 'CreateOffer')!.entityId!;
    expect(sandbox.state.offerStatus(offerId)).toBe('Released');
    expect(awsBuyerUrl(offer.productId, offerId)).toBe(`https://aws.amazon.com/marketplace/saas/ordering?productId=${offer.productId}&offerId=${offerId}`);

    const accepted = sandbox.state.accept(offerId, BUYER_ACCOUNT_IDS[0]);
    const [agreement] = await client.agreementsOfOffer(offerId);
    expect(agreement).toMatchObject({ agreementId: accepted.id, offerId, acceptor: BUYER_ACCOUNT_IDS[0], status: 'ACTIVE', currencyCode: 'USD' });
  });

  it('a usage offer is priced per unit, with the standard EULA', async () => {
    const offer = offerFor({ productId: products.usage }, { pricingModel: 'usage', dimensions: [{ key: 'Events', price: '0.0001' }, { key: 'StorageGB', price: '0.02' }] });
    const changes = directOfferChanges(awsOfferDocument(offerMapping, offer));
    expect(changes.find((c) => c.ChangeType === 'UpdateLegalTerms')!.DetailsDocument).toEqual({ Terms: [{ Type: 'LegalTerm', Documents: [{ Type: 'StandardEula', Version: '2022-07-14' }] }] });
    const set = await run(changes);
    expect(set.changes.flatMap((c) => c.errors)).toEqual([]);
    expect(set.status).toBe('SUCCEEDED');
  });

  it('a failed set\'s errors become problems in plain words, naming the Salesforce field to fix when the CRM holds it', async () => {
    const offer = offerFor({}, { dimensions: [{ key: 'GoldService', price: '100.00' }] });
    // The seller's own account typed in as the buyer.
    const ownAccount = { ...offer, buyerAccounts: [SELLER_ACCOUNT_ID] };
    const set = await run(directOfferChanges(awsOfferDocument(offerMapping, ownAccount)));
    expect(set.status).toBe('FAILED');
    const errors = set.changes.flatMap((c) => c.errors.map((e) => ({ changeType: c.changeType, ...e })));
    const problems = offerProblems(errors, offerMapping, (field) => crmFieldOf(crm, field));
    expect(problems.map((p) => [p.code, p.field, p.crmField])).toEqual(expect.arrayContaining([
      ['INVALID_BUYER_ACCOUNTS', 'buyerAccounts', 'Ecosync_Offer_Buyers__c'],
      ['INVALID_RATE_CARD', 'dimensions', undefined],
    ]));
    const buyers = problems.find((p) => p.code === 'INVALID_BUYER_ACCOUNTS')!;
    expect(buyers.message).toMatch(new RegExp(`^AWS Marketplace refused the buyers \\(Ecosync_Offer_Buyers__c on the opportunity\\): .*${SELLER_ACCOUNT_ID} is the seller's own account`));
    expect(problems.find((p) => p.code === 'INVALID_RATE_CARD')!.message).toMatch(/^AWS Marketplace refused the prices \(in the offer's request\): .*GoldService/);
  });

  it('CPPO: the seller\'s resale authorization from the offer\'s document, then the reseller\'s offer with its markup', async () => {
    const offer = offerFor({ productId: products.hybrid, buyers: BUYER_ACCOUNT_IDS[2] }, {
      channel: 'cppo', resale: { resellerAccountId: RESELLER_ACCOUNT_ID, markupPercent: '5.0' }, dimensions: [{ key: 'Users', price: '250.00' }],
    });
    const doc = awsOfferDocument(offerMapping, offer);
    const authorization = await run(resaleAuthorizationChanges(doc, offer));
    expect(authorization.changes.flatMap((c) => c.errors)).toEqual([]);
    expect(authorization.status).toBe('SUCCEEDED');
    const authorizationId = authorization.changes.find((c) => c.changeType === 'CreateResaleAuthorization')!.entityId!;
    expect(authorizationId).toMatch(/^resaleauthz-/);

    const resold = await run(resellerOfferChanges(doc, authorizationId, '5.0'), 'reseller');
    expect(resold.changes.flatMap((c) => c.errors)).toEqual([]);
    const offerId = resold.changes.find((c) => c.changeType === 'CreateOfferUsingResaleAuthorization')!.entityId!;
    expect(sandbox.state.offerStatus(offerId)).toBe('Released');
    const agreement = sandbox.state.accept(offerId, BUYER_ACCOUNT_IDS[2]);
    expect(agreement).toBeDefined();
  });
});

describe('building an offer from the opportunity', () => {
  it('names every missing or malformed term with the Salesforce field it comes from', () => {
    const built = buildOffer({ id: randomUUID(), now: '2026-12-07T00:00:00.000Z', crm, request: request(), terms: { name: 'x', currency: 'USD', buyers: '1234, 444455556666', expiresOn: '2026-12-01' } });
    expect(built.ok).toBe(false);
    if (built.ok) return;
    expect(built.problems.map((p) => [p.code, p.crmField])).toEqual([
      ['MISSING_PRODUCT', 'Ecosync_Offer_Product__c'],
      ['INVALID_BUYER_ACCOUNTS', 'Ecosync_Offer_Buyers__c'],
      ['MISSING_TERM', 'Ecosync_Offer_Term_Months__c'],
      ['EXPIRY_IN_THE_PAST', 'Ecosync_Offer_Expires__c'],
    ]);
    expect(built.problems[1].message).toBe('"1234" is not an AWS account id (12 digits) (Ecosync_Offer_Buyers__c on the opportunity)');
  });
});
