import { isoSeconds } from './clock.js';
import { isExpired, termOf, type Term } from './entities.js';
import { agreementNotFound, agreementValidation } from './errors.js';
import type { MarketplaceStore } from './store.js';
import { acceptedTerms, agreementPeriod, agreementValue, ChoiceError, configurableChoice, type BuyerChoice, type ConfigurableChoice } from './terms.js';
import { compact } from './views.js';

/**
 * Agreements: what a buyer's acceptance of an offer makes, read with the Agreement API
 * (DescribeAgreement, GetAgreementTerms, SearchAgreements) and announced on EventBridge
 * (Purchase Agreement Created / Amended / Ended, to the proposer and, for a channel partner's
 * offer, to the manufacturer). Metering asks here whether a customer is subscribed.
 */
export type AgreementStatus = 'ACTIVE' | 'TERMINATED' | 'CANCELED' | 'EXPIRED' | 'REPLACED' | 'RENEWED';

export interface Agreement {
  id: string;
  offerId: string;
  productId: string;
  acceptor: string;
  proposer: string;
  manufacturer: string;
  resaleAuthorizationId?: string;
  offerSetId?: string;
  intent: 'NEW' | 'REPLACE' | 'AMEND' | 'RENEW';
  status: AgreementStatus;
  acceptanceTime: number;
  startTime: number;
  endTime?: number;
  /** The offer's terms as accepted (the buyer's view, markup included). */
  terms: Term[];
  choice?: ConfigurableChoice;
  acceptedTerms: Record<string, unknown>[];
  estimatedCharges?: { currencyCode: string; agreementValue: string };
}

/** Why the marketplace refuses a buyer's acceptance: the control route answers with `status`. */
export class AcceptanceError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

const AGREEMENT_ID = /^agmt-[a-zA-Z0-9]+$/;
const FILTER_NAMES = ['PartyType', 'AgreementType', 'ResourceIdentifier', 'ResourceType', 'AcceptorAccountId', 'Status', 'OfferId', 'OfferSetId', 'BeforeEndTime', 'AfterEndTime'];
const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

export class Agreements {
  constructor(private readonly store: MarketplaceStore) {}

  // ---- the buyer's side --------------------------------------------------------------------------

  /** The buyer accepts a released, unexpired offer that targets it: the agreement starts now (or on the offer's start date). */
  accept(offerId: string, buyer: string, choice: BuyerChoice = {}): Agreement {
    this.tick();
    const now = this.store.now();
    if (!/^\d{12}$/.test(buyer)) throw new AcceptanceError(400, 'INVALID_BUYER_ACCOUNT', `buyerAccountId must be a 12-digit AWS account id, got "${buyer}".`);
    const offer = this.store.offers.get(offerId);
    if (!offer || offer.state !== 'Released') throw new AcceptanceError(404, 'OFFER_NOT_FOUND', `Offer ${offerId} is not available: it does not exist or has not been released.`);
    if (isExpired(offer, now)) throw new AcceptanceError(410, 'OFFER_EXPIRED', `Offer ${offerId} expired at the end of ${offer.availabilityEndDate}.`);
    if (!offer.buyerAccounts?.includes(buyer)) throw new AcceptanceError(403, 'NOT_TARGETED', `Offer ${offerId} is a private offer and account ${buyer} is not one of its buyers.`);
    const current = [...this.store.agreements.values()].find((a) => a.acceptor === buyer && a.productId === offer.productId && a.status === 'ACTIVE');
    const replaced = offer.replacesAgreementId ? this.store.agreements.get(offer.replacesAgreementId) : undefined;
    if (offer.replacesAgreementId && replaced?.status !== 'ACTIVE') {
      throw new AcceptanceError(409, 'AGREEMENT_NOT_ACTIVE', `Replacement offer ${offerId} replaces agreement ${offer.replacesAgreementId}, which is ${replaced?.status ?? 'missing'}.`);
    }
    if (current && current.id !== replaced?.id) {
      throw new AcceptanceError(409, 'ALREADY_SUBSCRIBED', `Account ${buyer} already has agreement ${current.id} for product ${offer.productId}${current.offerId === offerId ? ' from this offer' : ''}; a new offer for it must be a replacement offer.`);
    }

    const terms = structuredClone(this.store.offerTerms(offer));
    const configurable = termOf(terms, 'ConfigurableUpfrontPricingTerm');
    let chosen: ConfigurableChoice | undefined;
    try {
      chosen = configurable ? configurableChoice(configurable, termOf(terms, 'ValidityTerm'), choice) : undefined;
    } catch (e) {
      if (e instanceof ChoiceError) throw new AcceptanceError(400, 'INVALID_CHOICE', e.message);
      throw e;
    }
    const period = agreementPeriod(terms, now, chosen);
    const authorization = offer.resaleAuthorizationId ? this.store.resaleAuthorizations.get(offer.resaleAuthorizationId) : undefined;
    const agreement: Agreement = {
      id: this.store.ids.agreement(),
      offerId: offer.id,
      productId: offer.productId,
      acceptor: buyer,
      proposer: offer.owner,
      manufacturer: authorization?.owner ?? offer.owner,
      resaleAuthorizationId: offer.resaleAuthorizationId,
      offerSetId: offer.offerSetId,
      intent: replaced ? 'REPLACE' : 'NEW',
      status: 'ACTIVE',
      acceptanceTime: now,
      startTime: period.start,
      endTime: period.end,
      terms,
      choice: chosen,
      acceptedTerms: acceptedTerms(terms, chosen, this.store.ids.term),
      estimatedCharges: agreementValue(terms, chosen),
    };
    if (replaced) this.end(replaced, 'REPLACED');
    this.store.agreements.set(agreement.id, agreement);
    this.announce(agreement, 'Created');
    return agreement;
  }

  /** The buyer changes the quantities (or duration) of its configurable-upfront contract. */
  amend(id: string, choice: BuyerChoice): Agreement {
    const agreement = this.store.agreements.get(id);
    if (!agreement) throw new AcceptanceError(404, 'AGREEMENT_NOT_FOUND', `Agreement ${id} was not found.`);
    if (agreement.status !== 'ACTIVE') throw new AcceptanceError(409, 'AGREEMENT_NOT_ACTIVE', `Agreement ${id} is ${agreement.status}.`);
    const configurable = termOf(agreement.terms, 'ConfigurableUpfrontPricingTerm');
    if (!configurable) throw new AcceptanceError(409, 'NOT_CONFIGURABLE', `Agreement ${id} has no configurable upfront pricing to amend.`);
    try {
      agreement.choice = configurableChoice(configurable, termOf(agreement.terms, 'ValidityTerm'), choice);
    } catch (e) {
      if (e instanceof ChoiceError) throw new AcceptanceError(400, 'INVALID_CHOICE', e.message);
      throw e;
    }
    agreement.intent = 'AMEND';
    agreement.estimatedCharges = agreementValue(agreement.terms, agreement.choice);
    agreement.acceptedTerms = acceptedTerms(agreement.terms, agreement.choice, this.store.ids.term);
    this.announce(agreement, 'Amended');
    return agreement;
  }

  /** The agreement is cancelled (by the buyer, or an approved cancellation request). */
  cancel(id: string): Agreement {
    const agreement = this.store.agreements.get(id);
    if (!agreement) throw new AcceptanceError(404, 'AGREEMENT_NOT_FOUND', `Agreement ${id} was not found.`);
    if (agreement.status !== 'ACTIVE') throw new AcceptanceError(409, 'AGREEMENT_NOT_ACTIVE', `Agreement ${id} is ${agreement.status}.`);
    this.end(agreement, 'CANCELED');
    return agreement;
  }

  /** Agreements past their end time expire. */
  tick(): void {
    const now = this.store.now();
    for (const agreement of this.store.agreements.values()) {
      if (agreement.status === 'ACTIVE' && agreement.endTime !== undefined && agreement.endTime <= now) this.end(agreement, 'EXPIRED', agreement.endTime);
    }
  }

  /** The customer's agreement for the product in force at `at`, if any (metering bills only subscribed customers). */
  activeFor(productId: string, account: string, at: number): Agreement | undefined {
    this.tick();
    return [...this.store.agreements.values()].find((a) =>
      a.productId === productId && a.acceptor === account && a.status === 'ACTIVE' && a.startTime <= at && (a.endTime === undefined || at < a.endTime));
  }

  private end(agreement: Agreement, status: AgreementStatus, at = this.store.now()): void {
    agreement.status = status;
    agreement.endTime = Math.min(agreement.endTime ?? at, at);
    this.announce(agreement, 'Ended');
  }

  private announce(agreement: Agreement, what: 'Created' | 'Amended' | 'Ended'): void {
    const detail = {
      catalog: 'AWSMarketplace',
      agreement: compact({
        id: agreement.id,
        intent: agreement.intent,
        status: agreement.status,
        acceptanceTime: isoSeconds(agreement.acceptanceTime),
        startTime: isoSeconds(agreement.startTime),
        endTime: agreement.endTime === undefined ? undefined : isoSeconds(agreement.endTime),
      }),
      acceptor: { accountId: agreement.acceptor },
      proposer: { accountId: agreement.proposer },
      offer: { id: agreement.offerId },
      product: { id: agreement.productId },
      ...(agreement.resaleAuthorizationId ? { resaleAuthorization: { id: agreement.resaleAuthorizationId }, manufacturer: { accountId: agreement.manufacturer } } : {}),
    };
    const resources = [`arn:aws:aws-marketplace::agreement:${agreement.id}`];
    const emit = (role: string, account: string) =>
      this.store.events.emit({ detailType: `Purchase Agreement ${what} - ${role}`, source: 'aws.agreement-marketplace', account, resources, detail });
    emit('Proposer', agreement.proposer);
    if (agreement.manufacturer !== agreement.proposer) emit('Manufacturer', agreement.manufacturer);
  }

  // ---- the Agreement API -------------------------------------------------------------------------

  describeAgreement(account: string, input: Record<string, unknown>): Record<string, unknown> {
    const agreement = this.visible(account, input.agreementId);
    return compact({
      agreementId: agreement.id,
      acceptor: { accountId: agreement.acceptor },
      proposer: { accountId: agreement.proposer },
      startTime: seconds(agreement.startTime),
      endTime: seconds(agreement.endTime),
      acceptanceTime: seconds(agreement.acceptanceTime),
      agreementType: 'PurchaseAgreement',
      estimatedCharges: agreement.estimatedCharges,
      proposalSummary: this.proposal(agreement),
      status: agreement.status,
    });
  }

  getAgreementTerms(account: string, input: Record<string, unknown>): Record<string, unknown> {
    const agreement = this.visible(account, input.agreementId);
    const { offset, size } = paging(input, `terms:${agreement.id}`, 50);
    const page = agreement.acceptedTerms.slice(offset, offset + size);
    return compact({ acceptedTerms: page, nextToken: nextToken(`terms:${agreement.id}`, offset, page.length, agreement.acceptedTerms.length) });
  }

  searchAgreements(account: string, input: Record<string, unknown>): Record<string, unknown> {
    this.tick();
    if (input.catalog !== 'AWSMarketplace') throw agreementValidation('INVALID_CATALOG', `catalog must be AWSMarketplace, got ${JSON.stringify(input.catalog)}.`, [{ name: 'catalog', message: 'must be AWSMarketplace' }]);
    const filters = new Map<string, string[]>();
    for (const filter of (input.filters ?? []) as { name?: string; values?: string[] }[]) {
      const name = filter.name ?? '';
      if (!FILTER_NAMES.includes(name)) throw agreementValidation('INVALID_FILTER_NAME', `Filter ${JSON.stringify(name)} is not one SearchAgreements takes (${FILTER_NAMES.join(', ')}).`, [{ name: 'filters', message: `unknown filter ${name}` }]);
      if (filters.has(name)) throw agreementValidation('INVALID_FILTERS', `Filter ${name} is given twice.`, [{ name: 'filters', message: `${name} given twice` }]);
      if (!filter.values?.length) throw agreementValidation('INVALID_FILTER_VALUES', `Filter ${name} needs at least one value.`, [{ name: 'filters', message: `${name} has no values` }]);
      filters.set(name, filter.values);
    }
    const party = filters.get('PartyType');
    const type = filters.get('AgreementType');
    if (!party || !type) throw agreementValidation('INVALID_FILTERS', 'SearchAgreements needs the filters PartyType and AgreementType.', [{ name: 'filters', message: 'PartyType and AgreementType are required' }]);
    if (party.length !== 1 || !['Proposer', 'Acceptor'].includes(party[0])) throw agreementValidation('INVALID_FILTER_VALUES', `PartyType must be Proposer or Acceptor, got ${party.join(', ')}.`, [{ name: 'filters', message: 'PartyType' }]);
    if (type.length !== 1 || type[0] !== 'PurchaseAgreement') throw agreementValidation('INVALID_FILTER_VALUES', `AgreementType must be PurchaseAgreement, got ${type.join(', ')}.`, [{ name: 'filters', message: 'AgreementType' }]);
    const sort = (input.sort ?? {}) as { sortBy?: string; sortOrder?: string };
    if (sort.sortBy !== undefined && sort.sortBy !== 'EndTime') throw agreementValidation('INVALID_SORT_BY', `sortBy must be EndTime, got ${sort.sortBy}.`, [{ name: 'sort.sortBy', message: 'must be EndTime' }]);
    if (sort.sortOrder !== undefined && !['ASCENDING', 'DESCENDING'].includes(sort.sortOrder)) {
      throw agreementValidation('INVALID_SORT_ORDER', `sortOrder must be ASCENDING or DESCENDING, got ${sort.sortOrder}.`, [{ name: 'sort.sortOrder', message: 'must be ASCENDING or DESCENDING' }]);
    }

    const time = (v: string) => (/^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v));
    const has = (name: string, value: string | undefined) => !filters.has(name) || (value !== undefined && filters.get(name)!.includes(value));
    let rows = [...this.store.agreements.values()].filter((a) =>
      (party[0] === 'Proposer' ? a.proposer === account : a.acceptor === account)
      && has('ResourceIdentifier', a.productId)
      && has('ResourceType', 'SaaSProduct')
      && has('AcceptorAccountId', a.acceptor)
      && has('Status', a.status)
      && has('OfferId', a.offerId)
      && has('OfferSetId', a.offerSetId)
      && (!filters.has('BeforeEndTime') || (a.endTime !== undefined && a.endTime < time(filters.get('BeforeEndTime')![0])))
      && (!filters.has('AfterEndTime') || (a.endTime !== undefined && a.endTime > time(filters.get('AfterEndTime')![0]))));
    if (sort.sortBy) {
      const direction = sort.sortOrder === 'DESCENDING' ? -1 : 1;
      rows = rows.sort((a, b) => direction * ((a.endTime ?? Infinity) - (b.endTime ?? Infinity)));
    }
    const key = `search:${account}:${JSON.stringify([...filters])}:${JSON.stringify(sort)}`;
    const { offset, size } = paging(input, key, 50);
    const page = rows.slice(offset, offset + size);
    return compact({
      agreementViewSummaries: page.map((a) => compact({
        agreementId: a.id,
        acceptanceTime: seconds(a.acceptanceTime),
        startTime: seconds(a.startTime),
        endTime: seconds(a.endTime),
        agreementType: 'PurchaseAgreement',
        acceptor: { accountId: a.acceptor },
        proposer: { accountId: a.proposer },
        proposalSummary: this.proposal(a),
        status: a.status,
      })),
      nextToken: nextToken(key, offset, page.length, rows.length),
    });
  }

  private proposal(agreement: Agreement): Record<string, unknown> {
    return compact({ resources: [{ id: agreement.productId, type: 'SaaSProduct' }], offerId: agreement.offerId, offerSetId: agreement.offerSetId });
  }

  /** The agreement, for an account that is party to it (acceptor, proposer or manufacturer). */
  private visible(account: string, id: unknown): Agreement {
    this.tick();
    if (typeof id !== 'string' || !AGREEMENT_ID.test(id)) {
      throw agreementValidation('INVALID_AGREEMENT_ID', `agreementId must be an agreement id such as agmt-1234567890abcdefghijklmno, got ${JSON.stringify(id)}.`, [{ name: 'agreementId', message: 'not an agreement id' }]);
    }
    const agreement = this.store.agreements.get(id);
    if (!agreement || ![agreement.acceptor, agreement.proposer, agreement.manufacturer].includes(account)) throw agreementNotFound(id);
    return agreement;
  }
}

/** maxResults and nextToken of a paged call; a token only continues the query it came from. */
function paging(input: Record<string, unknown>, key: string, max: number): { offset: number; size: number } {
  const size = input.maxResults === undefined ? max : input.maxResults;
  if (!Number.isInteger(size) || (size as number) < 1 || (size as number) > max) {
    throw agreementValidation('INVALID_MAX_RESULTS', `maxResults must be from 1 to ${max}.`, [{ name: 'maxResults', message: `must be from 1 to ${max}` }]);
  }
  if (input.nextToken === undefined) return { offset: 0, size: size as number };
  try {
    const token = JSON.parse(Buffer.from(String(input.nextToken), 'base64url').toString('utf8')) as { key: string; offset: number };
    if (token.key === key && Number.isInteger(token.offset) && token.offset >= 0) return { offset: token.offset, size: size as number };
  } catch {
    // refused below
  }
  throw agreementValidation('INVALID_NEXT_TOKEN', 'nextToken is not valid for this request.', [{ name: 'nextToken', message: 'not from this query' }]);
}

function nextToken(key: string, offset: number, count: number, total: number): string | undefined {
  return offset + count < total ? Buffer.from(JSON.stringify({ key, offset: offset + count })).toString('base64url') : undefined;
}

