import type { z } from 'zod';
import { OFFER_DOCUMENTS, RESALE_AUTHORIZATION_DOCUMENTS } from './documents.js';
import { ENTITY_TYPE, PRICING_TERMS, RESALE_PRICING_TERMS, replaceTerms, type Entity, type Offer, type ResaleAuthorization, type Term } from './entities.js';
import {
  checkBuyerAccounts, checkLegal, checkPaymentSchedule, checkPricing, checkValidity, markupIssues, resaleOfferIssues, type ErrorDetail,
} from './rules.js';
import type { MarketplaceStore } from './store.js';

/**
 * Every change type the sandbox's Catalog takes, per entity type: the DetailsDocument's shape
 * (checked when the set starts), and what the change does to the entity as the set runs, with
 * the errors that fail the set. Changes apply to copies; the Catalog commits them only if no
 * change of the set failed.
 */
export interface ChangeContext {
  store: MarketplaceStore;
  /** The account that started the set. */
  account: string;
  now: number;
  /** Whether the entity was already released (or active) before this set: its terms are then fixed. */
  wasReleased(id: string): boolean;
}

type Doc = Record<string, any>;

export interface ChangeSpec<E extends Entity = Entity> {
  schema: z.ZodType;
  /** A change type that makes a new entity with this id, or refuses to. */
  create?(ctx: ChangeContext, id: string, doc: Doc): { entity?: E; issues: ErrorDetail[] };
  apply?(ctx: ChangeContext, entity: E, doc: Doc): ErrorDetail[];
  /** The entity is released by this change: its release rules run on the set's final state and report here. */
  releases?: boolean;
}

const issue = (ErrorCode: string, ErrorMessage: string): ErrorDetail[] => [{ ErrorCode, ErrorMessage }];

/** Terms of a released offer or authorization stay as they were sold. */
function fixedOnceReleased(ctx: ChangeContext, entity: Entity, what: string): ErrorDetail[] {
  return ctx.wasReleased(entity.id) ? issue('INCOMPATIBLE_TERMS', `${what} of ${entity.id} cannot change once it is released; create a new ${entity.kind === 'Offer' ? 'offer' : 'resale authorization'}.`) : [];
}

/** Pricing and legal terms of a channel partner's offer come from its resale authorization. */
function notOnResaleOffer(offer: Offer, what: string): ErrorDetail[] {
  return offer.resaleAuthorizationId
    ? issue('INCOMPATIBLE_RESALE_AUTHORIZATION', `${what} of ${offer.id} come from resale authorization ${offer.resaleAuthorizationId}; a channel partner sets its markup (UpdateMarkup) instead.`)
    : [];
}

/**
 * Applies the change to the set's copy even when it has issues: the set fails and commits
 * nothing then, and the release rules see what the request asked for (a release after a
 * rejected targeting change reports the targeting's fault, not "no buyer accounts").
 */
function guarded(issues: ErrorDetail[], apply: () => void): ErrorDetail[] {
  apply();
  return issues;
}

function ownProduct(ctx: ChangeContext, productId: string) {
  const product = ctx.store.products.get(productId);
  if (!product || product.owner !== ctx.account) return { issues: issue('INCOMPATIBLE_PRODUCT', `ProductId: ${productId} is not a product of account ${ctx.account}.`) };
  if (product.visibility === 'Restricted') return { issues: issue('INCOMPATIBLE_PRODUCT', `ProductId: product ${productId} is restricted and takes no new offers.`) };
  return { product, issues: [] as ErrorDetail[] };
}

function information(entity: Offer | ResaleAuthorization, doc: Doc): ErrorDetail[] {
  if (doc.Name !== undefined && !String(doc.Name).trim()) return issue('MISSING_NAME', 'Name: the name cannot be empty.');
  if (doc.Name !== undefined) entity.name = doc.Name;
  if (doc.Description !== undefined) entity.description = doc.Description;
  return [];
}

const OFFER_CHANGES: Record<string, Omit<ChangeSpec<Offer>, 'schema'>> = {
  CreateOffer: {
    create(ctx, id, doc) {
      const { issues } = ownProduct(ctx, doc.ProductId);
      if (issues.length > 0) return { issues };
      return { issues, entity: newOffer(ctx, id, { productId: doc.ProductId, name: doc.Name, offerSetId: doc.OfferSetId }) };
    },
  },
  CreateReplacementOffer: {
    create(ctx, id, doc) {
      const agreement = ctx.store.agreements.get(doc.AgreementId);
      if (!agreement || agreement.proposer !== ctx.account) return { issues: issue('INVALID_AGREEMENT', `AgreementId: ${doc.AgreementId} is not an agreement of account ${ctx.account}.`) };
      if (agreement.status !== 'ACTIVE') return { issues: issue('INVALID_AGREEMENT', `AgreementId: agreement ${agreement.id} is ${agreement.status}; only an ACTIVE agreement can be replaced.`) };
      if (agreement.resaleAuthorizationId) return { issues: issue('INVALID_AGREEMENT', `AgreementId: agreement ${agreement.id} was made through a channel partner; its replacement is made from a resale authorization.`) };
      return { issues: [], entity: newOffer(ctx, id, { productId: agreement.productId, buyerAccounts: [agreement.acceptor], replacesAgreementId: agreement.id }) };
    },
  },
  CreateOfferUsingResaleAuthorization: {
    create(ctx, id, doc) {
      const authorization = ctx.store.resaleAuthorizations.get(doc.ResaleAuthorizationId);
      const offer = newOffer(ctx, id, { productId: authorization?.productId ?? '', name: doc.Name, description: doc.Description, resaleAuthorizationId: doc.ResaleAuthorizationId, markupPercentage: '0' });
      const issues = resaleOfferIssues(offer, authorization, ctx.now, true);
      return issues.length > 0 ? { issues } : { issues, entity: offer };
    },
  },
  UpdateInformation: {
    apply(_ctx, offer, doc) {
      const issues = information(offer, doc);
      if (issues.length === 0 && doc.PreExistingAgreement) offer.preExistingAgreement = doc.PreExistingAgreement;
      return issues;
    },
  },
  UpdateTargeting: {
    apply(ctx, offer, doc) {
      if (ctx.wasReleased(offer.id)) return issue('INVALID_BUYER_ACCOUNTS', `PositiveTargeting.BuyerAccounts: the buyer accounts of released offer ${offer.id} cannot change; create a new offer.`);
      const accounts: string[] = doc.PositiveTargeting.BuyerAccounts;
      return guarded(checkBuyerAccounts(accounts, offer.owner, 'PositiveTargeting.BuyerAccounts'), () => { offer.buyerAccounts = accounts; });
    },
  },
  UpdatePricingTerms: {
    apply(ctx, offer, doc) {
      const refused = [...notOnResaleOffer(offer, 'Pricing terms'), ...fixedOnceReleased(ctx, offer, 'Pricing terms')];
      if (refused.length > 0) return refused;
      return guarded(checkPricing(doc as { PricingModel: string; Terms: Term[] }, ctx.store.productOf(offer), ''), () => {
        offer.terms = replaceTerms(offer.terms, PRICING_TERMS, doc.Terms);
        offer.pricingModel = doc.PricingModel;
      });
    },
  },
  UpdateLegalTerms: {
    apply(ctx, offer, doc) {
      const refused = [...notOnResaleOffer(offer, 'Legal terms'), ...fixedOnceReleased(ctx, offer, 'Legal terms')];
      return refused.length > 0 ? refused : guarded(checkLegal(doc.Terms), () => { offer.terms = replaceTerms(offer.terms, ['LegalTerm'], doc.Terms); });
    },
  },
  UpdateValidityTerms: {
    apply(ctx, offer, doc) {
      const refused = fixedOnceReleased(ctx, offer, 'Validity terms');
      return refused.length > 0 ? refused : guarded(checkValidity(doc.Terms), () => { offer.terms = replaceTerms(offer.terms, ['ValidityTerm'], doc.Terms); });
    },
  },
  UpdatePaymentScheduleTerms: {
    apply(ctx, offer, doc) {
      const refused = [...notOnResaleOffer(offer, 'Payment schedules'), ...fixedOnceReleased(ctx, offer, 'The payment schedule')];
      return refused.length > 0 ? refused : guarded(checkPaymentSchedule(doc.Terms), () => { offer.terms = replaceTerms(offer.terms, ['PaymentScheduleTerm'], doc.Terms); });
    },
  },
  UpdateAvailability: {
    apply(_ctx, offer, doc) {
      offer.availabilityEndDate = doc.AvailabilityEndDate;
      return [];
    },
  },
  UpdateSupportTerms: {
    apply(_ctx, offer, doc) {
      offer.terms = replaceTerms(offer.terms, ['SupportTerm'], doc.Terms);
      return [];
    },
  },
  UpdateRenewalTerms: {
    apply(_ctx, offer, doc) {
      offer.terms = replaceTerms(offer.terms, ['RenewalTerm'], doc.Terms);
      return [];
    },
  },
  UpdateMarkup: {
    apply(ctx, offer, doc) {
      if (!offer.resaleAuthorizationId) return issue('INCOMPATIBLE_RESALE_AUTHORIZATION', `Percentage: offer ${offer.id} is not made from a resale authorization, so it has no markup.`);
      const refused = fixedOnceReleased(ctx, offer, 'The markup');
      if (refused.length > 0) return refused;
      const authorization = ctx.store.resaleAuthorizations.get(offer.resaleAuthorizationId);
      return guarded(markupIssues({ ...offer, markupPercentage: doc.Percentage }, authorization), () => { offer.markupPercentage = doc.Percentage; });
    },
  },
  ReleaseOffer: {
    releases: true,
    apply(ctx, offer) {
      if (offer.state === 'Draft') {
        offer.state = 'Released';
        offer.releaseDate = ctx.now;
      }
      return [];
    },
  },
};

function newOffer(ctx: ChangeContext, id: string, fields: Partial<Offer> & { productId: string }): Offer {
  return { kind: 'Offer', id, owner: ctx.account, revision: 0, created: ctx.now, lastModified: ctx.now, state: 'Draft', terms: [], ...fields };
}

const AUTHORIZATION_CHANGES: Record<string, Omit<ChangeSpec<ResaleAuthorization>, 'schema'>> = {
  CreateResaleAuthorization: {
    create(ctx, id, doc) {
      const { issues } = ownProduct(ctx, doc.ProductId);
      if (issues.length > 0) return { issues };
      if (doc.ResellerAccountId === ctx.account) return { issues: issue('INVALID_RESELLER_ACCOUNT', `ResellerAccountId: ${ctx.account} is the manufacturer's own account.`) };
      return {
        issues,
        entity: {
          kind: 'ResaleAuthorization', id, owner: ctx.account, revision: 0, created: ctx.now, lastModified: ctx.now, productId: doc.ProductId,
          name: doc.Name, description: doc.Description, resellerAccountId: doc.ResellerAccountId, status: 'Draft', terms: [], offersCreated: 0,
        },
      };
    },
  },
  UpdateInformation: {
    apply(_ctx, authorization, doc) {
      const issues = information(authorization, doc);
      if (issues.length === 0 && doc.PreExistingBuyerAgreement) authorization.preExistingBuyerAgreement = doc.PreExistingBuyerAgreement;
      return issues;
    },
  },
  UpdatePricingTerms: {
    apply(ctx, authorization, doc) {
      const refused = fixedOnceReleased(ctx, authorization, 'Pricing terms');
      if (refused.length > 0) return refused;
      return guarded(checkPricing(doc as { PricingModel: string; Terms: Term[] }, ctx.store.productOf(authorization), 'Resale'), () => {
        authorization.terms = replaceTerms(authorization.terms, RESALE_PRICING_TERMS, doc.Terms);
        authorization.pricingModel = doc.PricingModel;
      });
    },
  },
  UpdateLegalTerms: {
    apply(ctx, authorization, doc) {
      const refused = fixedOnceReleased(ctx, authorization, 'Legal terms');
      const types = (doc.Terms as Term[]).map((t) => t.Type);
      return refused.length > 0 ? refused : guarded(checkLegal(doc.Terms), () => { authorization.terms = replaceTerms(authorization.terms, types, doc.Terms); });
    },
  },
  UpdatePaymentScheduleTerms: {
    apply(ctx, authorization, doc) {
      const refused = fixedOnceReleased(ctx, authorization, 'The payment schedule');
      return refused.length > 0 ? refused : guarded(checkPaymentSchedule(doc.Terms), () => {
        authorization.terms = replaceTerms(authorization.terms, ['ResalePaymentScheduleTerm'], doc.Terms);
      });
    },
  },
  UpdateAvailability: {
    apply(_ctx, authorization, doc) {
      if (doc.AvailabilityEndDate !== undefined) authorization.availabilityEndDate = doc.AvailabilityEndDate;
      if (doc.OffersMaxQuantity !== undefined) authorization.offersMaxQuantity = Number(doc.OffersMaxQuantity);
      return [];
    },
  },
  UpdateBuyerTargetingTerms: {
    apply(ctx, authorization, doc) {
      const refused = fixedOnceReleased(ctx, authorization, 'Buyer targeting');
      if (refused.length > 0) return refused;
      const terms = doc.Terms as { PositiveTargeting: { BuyerAccounts: string[] } }[];
      const issues = terms.flatMap((t, i) => checkBuyerAccounts(t.PositiveTargeting.BuyerAccounts, authorization.owner, `Terms[${i}].PositiveTargeting.BuyerAccounts`));
      return guarded(issues, () => { authorization.terms = replaceTerms(authorization.terms, ['BuyerTargetingTerm'], doc.Terms); });
    },
  },
  ReleaseResaleAuthorization: {
    releases: true,
    apply(_ctx, authorization) {
      if (authorization.status === 'Restricted') return issue('INCOMPATIBLE_RESALE_AUTHORIZATION', `Resale authorization ${authorization.id} is restricted and cannot be released again.`);
      authorization.status = 'Active';
      return [];
    },
  },
  RestrictResaleAuthorization: {
    apply(_ctx, authorization) {
      if (authorization.status !== 'Active') return issue('INCOMPATIBLE_RESALE_AUTHORIZATION', `Resale authorization ${authorization.id} is ${authorization.status}; only an Active one can be restricted.`);
      authorization.status = 'Restricted';
      return [];
    },
  },
};

function withSchemas<E extends Entity>(changes: Record<string, Omit<ChangeSpec<E>, 'schema'>>, schemas: Record<string, z.ZodType>): Record<string, ChangeSpec> {
  return Object.fromEntries(Object.entries(changes).map(([type, spec]) => [type, { ...spec, schema: schemas[type] } as ChangeSpec]));
}

/** Change types by entity type. SaaS products are seeded and take no changes here. */
export const CHANGE_TYPES: Record<string, Record<string, ChangeSpec>> = {
  [ENTITY_TYPE.Offer]: withSchemas(OFFER_CHANGES, OFFER_DOCUMENTS),
  [ENTITY_TYPE.ResaleAuthorization]: withSchemas(AUTHORIZATION_CHANGES, RESALE_AUTHORIZATION_DOCUMENTS),
  [ENTITY_TYPE.SaaSProduct]: {},
};
