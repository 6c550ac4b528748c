import type { FaultInjector } from '../../../src/sandbox/index.js';
import { Agreements, type Agreement } from './agreements.js';
import { Catalog } from './catalog.js';
import { SandboxClock } from './clock.js';
import { isExpired } from './entities.js';
import { IdGenerator } from './ids.js';
import { Metering } from './metering.js';
import { MarketplaceStore } from './store.js';
import type { BuyerChoice } from './terms.js';

export interface MarketplaceStateOptions {
  seed?: number;
  /** How long a change set takes on the marketplace clock; 0 settles it by the next call. */
  changeSetMs?: number;
  /** The clock's base (default real time); advanceClock moves the marketplace ahead of it. */
  now?: () => number;
}

/**
 * AWS's side of the marketplace, for tests and the control routes: the three services over one
 * store, the clock to move, change sets to settle, and the buyer's acceptance of an offer.
 */
export class MarketplaceState {
  readonly store: MarketplaceStore;
  readonly catalog: Catalog;
  readonly agreements: Agreements;
  readonly metering: Metering;

  constructor(options: MarketplaceStateOptions, faults: FaultInjector) {
    const clock = new SandboxClock(options.now);
    this.store = new MarketplaceStore(clock, new IdGenerator(options.seed ?? 42));
    this.catalog = new Catalog(this.store, { changeSetMs: options.changeSetMs });
    this.agreements = new Agreements(this.store);
    this.metering = new Metering(this.store, this.agreements, faults);
  }

  now(): number {
    return this.store.now();
  }

  /** Moves the marketplace clock: change sets finish, offers expire and agreements end as it passes. */
  advanceClock(ms: number): void {
    this.store.clock.advance(ms);
    this.tick();
  }

  tick(): void {
    this.catalog.tick();
    this.agreements.tick();
  }

  /** Finishes every change set in flight now (SUCCEEDED or FAILED as its changes deserve). */
  settle(): void {
    this.catalog.settle();
    this.agreements.tick();
  }

  /** The buyer accepts the offer, as it would on the offer's page: refused like the marketplace refuses it. */
  accept(offerId: string, buyerAccountId: string, choice?: BuyerChoice): Agreement {
    this.tick();
    return this.agreements.accept(offerId, buyerAccountId, choice);
  }

  /** Draft, Released, or Expired (a released offer past its availability end date; the Catalog still says Released). */
  offerStatus(offerId: string): 'Draft' | 'Released' | 'Expired' | undefined {
    const offer = this.store.offers.get(offerId);
    if (!offer) return undefined;
    return offer.state === 'Released' && isExpired(offer, this.now()) ? 'Expired' : offer.state;
  }
}
