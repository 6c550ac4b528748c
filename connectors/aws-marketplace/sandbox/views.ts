import { endOfDay, isoSeconds } from './clock.js';
import { ENTITY_TYPE, entityArn, type Entity, type Offer, type Product, type ResaleAuthorization } from './entities.js';
import type { MarketplaceStore } from './store.js';

/**
 * How the Catalog shows entities: DescribeEntity's Details (the same object as the
 * DetailsDocument, as a JSON string) and ListEntities' summaries, in the shapes the SDK models.
 */
export function entityType(entity: Entity): string {
  return ENTITY_TYPE[entity.kind];
}

export function arnOf(entity: Entity): string {
  return entityArn(entity.owner, entity.kind, entity.id);
}

export function entityDetails(store: MarketplaceStore, entity: Entity): Record<string, unknown> {
  if (entity.kind === 'SaaSProduct') return productDetails(entity);
  if (entity.kind === 'Offer') return offerDetails(store, entity);
  return authorizationDetails(store, entity);
}

function productDetails(product: Product): Record<string, unknown> {
  return {
    Description: { ProductTitle: product.title, ShortDescription: product.shortDescription, LongDescription: product.shortDescription, Highlights: [], Categories: ['Operations Management'], SearchKeywords: [] },
    Dimensions: product.dimensions,
    Visibility: product.visibility,
  };
}

function offerDetails(store: MarketplaceStore, offer: Offer): Record<string, unknown> {
  const rules: Record<string, unknown>[] = [];
  if (offer.availabilityEndDate) rules.push({ Type: 'AvailabilityRule', AvailabilityEndDate: endOfDay(offer.availabilityEndDate) });
  if (offer.buyerAccounts) rules.push({ Type: 'TargetingRule', PositiveTargeting: { BuyerAccounts: offer.buyerAccounts } });
  return compact({
    Id: offer.id,
    Name: offer.name,
    Description: offer.description,
    ProductId: offer.productId,
    ResaleAuthorizationId: offer.resaleAuthorizationId,
    MarkupPercentage: offer.markupPercentage,
    PreExistingAgreement: offer.preExistingAgreement,
    Terms: store.offerTerms(offer),
    Rules: rules,
    State: offer.state,
    OfferSetId: offer.offerSetId,
  });
}

function authorizationDetails(store: MarketplaceStore, authorization: ResaleAuthorization): Record<string, unknown> {
  const product = store.productOf(authorization);
  return compact({
    Name: authorization.name,
    Description: authorization.description,
    ProductId: product.id,
    ProductName: product.title,
    Status: authorization.status,
    Dimensions: product.dimensions,
    OfferDetails: { OfferExtendedStatus: offerExtendedStatus(authorization), OfferCreatedCount: authorization.offersCreated },
    PreExistingBuyerAgreement: authorization.preExistingBuyerAgreement,
    Terms: authorization.terms,
    Rules: [
      compact({
        Type: 'AvailabilityRule',
        Usage: authorization.offersMaxQuantity === undefined ? 'Unlimited' : 'Limited',
        OffersMaxQuantity: authorization.offersMaxQuantity,
        AvailabilityEndDate: authorization.availabilityEndDate ? endOfDay(authorization.availabilityEndDate) : undefined,
      }),
      { Type: 'PartnerTargetingRule', ResellerAccountId: authorization.resellerAccountId, ResellerLegalName: store.legalName(authorization.resellerAccountId) },
    ],
    CreatedDate: new Date(authorization.created).toISOString(),
    ManufacturerLegalName: store.legalName(authorization.owner),
    ManufacturerAccountId: authorization.owner,
  });
}

function offerExtendedStatus(authorization: ResaleAuthorization): string {
  return authorization.offersCreated > 0 ? 'Created' : 'Not Started';
}

/** One row of ListEntities, with the entity type's own summary. */
export function entitySummary(store: MarketplaceStore, entity: Entity): Record<string, unknown> {
  const base = {
    Name: entity.kind === 'SaaSProduct' ? entity.title : entity.name,
    EntityType: entityType(entity),
    EntityId: entity.id,
    EntityArn: arnOf(entity),
    LastModifiedDate: isoSeconds(entity.lastModified),
  };
  if (entity.kind === 'SaaSProduct') {
    return { ...base, Visibility: entity.visibility, SaaSProductSummary: { ProductTitle: entity.title, Visibility: entity.visibility } };
  }
  if (entity.kind === 'Offer') {
    return {
      ...base,
      OfferSummary: compact({
        Name: entity.name,
        ProductId: entity.productId,
        ResaleAuthorizationId: entity.resaleAuthorizationId,
        ReleaseDate: entity.releaseDate === undefined ? undefined : isoSeconds(entity.releaseDate),
        AvailabilityEndDate: entity.availabilityEndDate ? endOfDay(entity.availabilityEndDate) : undefined,
        BuyerAccounts: entity.buyerAccounts,
        State: entity.state,
        Targeting: entity.buyerAccounts?.length ? ['BuyerAccounts'] : ['None'],
        OfferSetId: entity.offerSetId,
      }),
    };
  }
  const product = store.productOf(entity);
  return {
    ...base,
    ResaleAuthorizationSummary: compact({
      Name: entity.name,
      ProductId: product.id,
      ProductName: product.title,
      ManufacturerAccountId: entity.owner,
      ManufacturerLegalName: store.legalName(entity.owner),
      ResellerAccountID: entity.resellerAccountId,
      ResellerLegalName: store.legalName(entity.resellerAccountId),
      Status: entity.status,
      OfferExtendedStatus: offerExtendedStatus(entity),
      CreatedDate: new Date(entity.created).toISOString(),
      AvailabilityEndDate: entity.availabilityEndDate ? endOfDay(entity.availabilityEndDate) : undefined,
      ResellerRole: 'ChannelPartner',
    }),
  };
}

/** The object without its undefined members (as AWS leaves absent members out). */
export function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
