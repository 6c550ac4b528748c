import type { Agreement } from './agreements.js';
import type { SandboxClock } from './clock.js';
import type { Entity, Offer, Product, ResaleAuthorization, Term } from './entities.js';
import { EventLog } from './events.js';
import type { IdGenerator } from './ids.js';
import { effectiveOfferTerms } from './terms.js';

/**
 * What the marketplace holds, shared by its three services: the Catalog's entities, the
 * agreements buyers made, the accounts' legal names, the clock and the event log.
 */
export class MarketplaceStore {
  readonly products = new Map<string, Product>();
  readonly offers = new Map<string, Offer>();
  readonly resaleAuthorizations = new Map<string, ResaleAuthorization>();
  readonly agreements = new Map<string, Agreement>();
  readonly legalNames = new Map<string, string>();
  readonly events: EventLog;

  constructor(readonly clock: SandboxClock, readonly ids: IdGenerator) {
    this.events = new EventLog(() => clock.now(), ids.uuid);
  }

  now(): number {
    return this.clock.now();
  }

  entity(id: string): Entity | undefined {
    return this.products.get(id) ?? this.offers.get(id) ?? this.resaleAuthorizations.get(id);
  }

  legalName(account: string): string {
    return this.legalNames.get(account) ?? `AWS account ${account}`;
  }

  /** The terms a buyer sees on the offer (a channel partner's are priced from its resale authorization). */
  offerTerms(offer: Offer): Term[] {
    return effectiveOfferTerms(offer, offer.resaleAuthorizationId ? this.resaleAuthorizations.get(offer.resaleAuthorizationId) : undefined);
  }

  /** The product of an offer or authorization (every one names an existing product). */
  productOf(entity: { productId: string }): Product {
    const product = this.products.get(entity.productId);
    if (!product) throw new Error(`product ${entity.productId} is missing from the sandbox`);
    return product;
  }
}
