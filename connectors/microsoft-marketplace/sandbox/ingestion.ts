import { randomUUID } from 'node:crypto';
import type { Catalog, Plan, PlanPrices, Product } from './catalog.js';
import { discounted, money, termUnitOf } from './catalog.js';
import { dayStart, isoDay, isoTime, type SandboxClock } from './clock.js';
import {
  CONFIGURE_STATUS_SCHEMA, PRIVATE_OFFER_SCHEMA,
  type ConfigureResource, type PlanPriceResource, type PricingItem, type PrivateOfferResource,
} from './ingestion-schema.js';
import { SandboxRefusal } from './refusal.js';

/**
 * Product Ingestion on Microsoft's side: configure requests become jobs that run for `jobMs` of
 * sandbox time, then apply all of their resources or none. Business validation happens when a
 * job runs, against the state of that moment (an offer accepted meanwhile can no longer be
 * withdrawn), and fails the job with errors naming each resource path.
 */
export interface JobError {
  code: string;
  message: string;
  /** The resource's durable id, or its resourceName while it has none. */
  resourceId?: string;
  /** Path of the offending value in the request, e.g. `resources[0].pricing[1].discountPercentage`. */
  target: string;
}

export type JobStatus = 'notStarted' | 'running' | 'completed';
export type JobResult = 'pending' | 'succeeded' | 'failed';

export interface JobView {
  $schema: string;
  jobId: string;
  jobStatus: JobStatus;
  jobResult: JobResult;
  jobStart: string;
  jobEnd: string;
  resourceUri?: string;
  errors: JobError[];
}

/** A private offer as the API returns it. */
export type PrivateOffer = PrivateOfferResource & { id: string; lastModified: string; eTag: string };

/** An absolute price resource a private offer's pricing refers to (`priceDetails`). */
export type StoredPlanPrice = PlanPriceResource & { id: string };

export interface Acceptance {
  beneficiaryId: string;
  subscriptionId: string;
  planId: string;
  at: string;
}

interface OfferRecord {
  guid: string;
  offer: PrivateOffer;
  acceptances: Acceptance[];
}

interface Job {
  jobId: string;
  createdAt: number;
  endsAt: number;
  resources: ConfigureResource[];
  outcome?: { errors: JobError[]; offerGuids: string[]; resourceUri?: string };
}

const NO_END = '0001-01-01T00:00:00';
const BILLING_ACCOUNT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:[0-9a-z-]+_\d{4}-\d{2}-\d{2}$/i;
const CSP_PARTNER = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d{4,10})$/i;

export class IngestionStore {
  private readonly jobs = new Map<string, Job>();
  private readonly records = new Map<string, OfferRecord>();
  private readonly prices = new Map<string, StoredPlanPrice>();
  private priceSerial = 1_000_000;

  constructor(
    private readonly catalog: Catalog,
    private readonly clock: SandboxClock,
    private readonly options: { jobMs: number; guid: () => string; baseUrl: () => string },
  ) {}

  submit(resources: ConfigureResource[]): JobView {
    const now = this.clock.now();
    // Job ids are not seeded, so the seeded stream (offer ids) does not depend on how many jobs ran.
    const job: Job = { jobId: randomUUID(), createdAt: now, endsAt: now + this.options.jobMs, resources };
    this.jobs.set(job.jobId, job);
    this.tick();
    return { ...this.view(job), ...(job.outcome ? {} : { jobStatus: 'notStarted' as const }) };
  }

  status(jobId: string): JobView {
    this.tick();
    return this.view(this.job(jobId));
  }

  /** What a completed job made: its private offer, as `GET configure/{jobId}` returns it. */
  jobOffer(jobId: string): PrivateOffer {
    this.tick();
    const job = this.job(jobId);
    if (!job.outcome) throw new SandboxRefusal(409, 'conflict', `Job '${jobId}' has not completed yet.`);
    const guid = job.outcome.offerGuids[0];
    if (!guid) throw new SandboxRefusal(404, 'notFound', `Job '${jobId}' made no private offer.`);
    return this.offer(guid);
  }

  offer(guid: string): PrivateOffer {
    this.tick();
    const record = this.records.get(guid.toLowerCase());
    if (!record || record.offer.state === 'deleted') throw new SandboxRefusal(404, 'notFound', `Private offer 'private-offer/${guid}' was not found.`);
    return structuredClone(record.offer);
  }

  offers(): PrivateOffer[] {
    this.tick();
    return [...this.records.values()].filter((r) => r.offer.state !== 'deleted').map((r) => structuredClone(r.offer));
  }

  acceptances(guid: string): Acceptance[] {
    return structuredClone(this.records.get(guid.toLowerCase())?.acceptances ?? []);
  }

  planPrice(productGuid: string, serial: string): StoredPlanPrice {
    const price = this.prices.get(`price-and-availability-private-offer-plan/${productGuid.toLowerCase()}/${serial}`);
    if (!price) throw new SandboxRefusal(404, 'notFound', `Price resource '${productGuid}/${serial}' was not found.`);
    return structuredClone(price);
  }

  /** The prices a buyer of the offer pays, per priced plan: list prices discounted, or the absolute ones. */
  offerPrices(guid: string): Array<{ product: string; plan: string; planId: string } & PlanPrices> {
    const offer = this.offer(guid);
    return (offer.pricing ?? []).map((item) => {
      const product = this.catalog.product(item.product)!;
      const plan = this.catalog.plan(product, item.plan!)!;
      const prices = item.discountType === 'percentage'
        ? discounted(plan, item.discountPercentage ?? 0)
        : absolutePrices(plan, this.prices.get(String(item.priceDetails))!);
      return { product: product.id, plan: plan.id, planId: plan.externalId, ...prices };
    });
  }

  /**
   * A beneficiary of a live offer accepts it for one of its plans (the first priced one unless
   * named by durable id or planId). Refused as Partner Center's buyer flow would: the offer
   * must be live, before its accept-by date, and name the beneficiary, who accepts only once.
   */
  acceptance(guid: string, beneficiaryId: string, planRef?: string): { offer: PrivateOffer; product: Product; plan: Plan } {
    const offer = this.offer(guid);
    if (offer.state !== 'live') throw new SandboxRefusal(409, 'conflict', `Private offer ${offer.id} is ${offer.state}: only a live offer can be accepted.`);
    if (offer.acceptBy && dayStart(offer.acceptBy) < dayStart(isoDay(this.clock.now()))) {
      throw new SandboxRefusal(409, 'conflict', `Private offer ${offer.id} had to be accepted by ${offer.acceptBy}.`);
    }
    if (!(offer.beneficiaries ?? []).some((b) => b.id === beneficiaryId)) {
      throw new SandboxRefusal(400, 'badRequest', `'${beneficiaryId}' is not a beneficiary of private offer ${offer.id}.`);
    }
    if (this.records.get(guid.toLowerCase())!.acceptances.some((a) => a.beneficiaryId === beneficiaryId)) {
      throw new SandboxRefusal(409, 'conflict', `'${beneficiaryId}' has already accepted private offer ${offer.id}.`);
    }
    const priced = (offer.pricing ?? []).map((item) => {
      const product = this.catalog.product(item.product)!;
      return { product, plan: this.catalog.plan(product, item.plan!)! };
    });
    const chosen = planRef === undefined
      ? priced[0]
      : priced.find(({ product, plan }) => this.catalog.plan(product, planRef) === plan || plan.externalId === planRef);
    if (!chosen) throw new SandboxRefusal(400, 'badRequest', `Plan '${planRef}' is not priced in private offer ${offer.id}.`);
    return { offer, ...chosen };
  }

  recordAcceptance(guid: string, acceptance: Acceptance): void {
    this.records.get(guid.toLowerCase())!.acceptances.push({ ...acceptance });
  }

  /** Runs every job whose time has come, in the order they end. */
  tick(): void {
    const now = this.clock.now();
    const due = [...this.jobs.values()].filter((j) => !j.outcome && j.endsAt <= now).sort((a, b) => a.endsAt - b.endsAt);
    for (const job of due) this.run(job);
  }

  private job(jobId: string): Job {
    const job = this.jobs.get(jobId.toLowerCase());
    if (!job) throw new SandboxRefusal(404, 'notFound', `Job '${jobId}' was not found.`);
    return job;
  }

  private view(job: Job): JobView {
    const done = job.outcome;
    return {
      $schema: CONFIGURE_STATUS_SCHEMA,
      jobId: job.jobId,
      jobStatus: done ? 'completed' : 'running',
      jobResult: !done ? 'pending' : done.errors.length > 0 ? 'failed' : 'succeeded',
      jobStart: isoTime(job.createdAt),
      jobEnd: done ? isoTime(job.endsAt) : NO_END,
      ...(done?.resourceUri ? { resourceUri: done.resourceUri } : {}),
      errors: structuredClone(done?.errors ?? []),
    };
  }

  /** All of a job's resources apply, or none: the first error fails the whole request. */
  private run(job: Job): void {
    const errors: JobError[] = [];
    const prices = new Map<string, { resource: PlanPriceResource; index: number }>();
    for (const r of job.resources) {
      if (r.kind !== 'planPrice') continue;
      if (prices.has(r.resource.resourceName)) {
        errors.push({ code: 'invalidRequest', message: `Two resources are named '${r.resource.resourceName}'.`, resourceId: r.resource.resourceName, target: `resources[${r.index}].resourceName` });
      }
      prices.set(r.resource.resourceName, { resource: r.resource, index: r.index });
    }
    const changes: Array<() => string> = [];
    for (const r of job.resources) {
      if (r.kind === 'privateOffer') changes.push(...this.validate(r.resource, r.index, prices, errors));
    }
    if (errors.length > 0) {
      job.outcome = { errors, offerGuids: [] };
      return;
    }
    const offerGuids = changes.map((apply) => apply());
    const deletedOnly = job.resources.every((r) => r.kind === 'privateOffer' && r.resource.state === 'deleted');
    job.outcome = { errors: [], offerGuids, resourceUri: deletedOnly ? undefined : `${this.options.baseUrl()}/rp/product-ingestion/configure/${job.jobId}` };
  }

  /** Microsoft's business rules for one private offer resource; returns the change to apply when all pass. */
  private validate(res: PrivateOfferResource, index: number, prices: Map<string, { resource: PlanPriceResource; index: number }>, errors: JobError[]): Array<() => string> {
    const before = errors.length;
    const resourceId = res.id ?? res.resourceName;
    const err = (code: string, target: string, message: string, at = `resources[${index}]`) =>
      errors.push({ code, message, ...(resourceId ? { resourceId } : {}), target: target ? `${at}.${target}` : at });

    let existing: OfferRecord | undefined;
    if (res.id) {
      existing = this.records.get(res.id.slice('private-offer/'.length).toLowerCase());
      if (!existing || existing.offer.state === 'deleted') {
        err('notFound', 'id', `Private offer '${res.id}' was not found.`);
        return [];
      }
      const record = existing;
      const from = record.offer.state;
      if (record.offer.privateOfferType !== res.privateOfferType) {
        err('invalidRequest', 'privateOfferType', `privateOfferType of ${res.id} is ${record.offer.privateOfferType} and cannot change.`);
      }
      if (res.state === 'withdrawn' || res.state === 'deleted') {
        if (res.state === 'withdrawn' && from !== 'live') err('invalidState', 'state', `Only a live private offer can be withdrawn; ${res.id} is ${from}.`);
        else if (res.state === 'withdrawn' && record.acceptances.length > 0) err('conflict', 'state', `Private offer ${res.id} has been accepted by a customer and can no longer be withdrawn.`);
        if (res.state === 'deleted' && from === 'live') err('invalidState', 'state', `Private offer ${res.id} is live: withdraw it before deleting it.`);
        return errors.length > before ? [] : [() => this.restate(record, res.state)];
      }
      if (from !== 'draft') {
        err('invalidState', 'state', `Private offer ${res.id} is ${from}: only a draft can be changed or published. Create a new private offer instead.`);
        return [];
      }
    } else if (res.state === 'withdrawn' || res.state === 'deleted') {
      err('invalidRequest', 'id', `Only an existing private offer can be ${res.state}: give its id.`);
      return [];
    }

    this.validateTerms(res, err);
    const pricing = this.validatePricing(res, prices, err);
    if (errors.length > before) return [];
    return [() => this.store(res, pricing!, existing, prices)];
  }

  private validateTerms(res: PrivateOfferResource, err: (code: string, target: string, message: string) => void): void {
    const live = res.state === 'live';
    const forCustomer = res.privateOfferType !== 'cspPromotion';
    const today = dayStart(isoDay(this.clock.now()));
    if (forCustomer && live && !res.offerPricingType) err('businessValidationError', 'offerPricingType', 'offerPricingType is required.');
    if (res.offerPricingType && res.offerPricingType !== 'editExistingOfferPricingOnly') {
      err('notSupported', 'offerPricingType', `offerPricingType ${res.offerPricingType} is not supported here: customize the pricing of existing plans (editExistingOfferPricingOnly).`);
    }
    const dates: Record<'start' | 'end' | 'acceptBy', number | undefined> = { start: undefined, end: undefined, acceptBy: undefined };
    for (const field of ['start', 'end', 'acceptBy'] as const) {
      const value = res[field];
      if (value === undefined) continue;
      const ms = dayStart(value);
      if (Number.isNaN(ms)) err('businessValidationError', field, `${field} '${value}' is not a calendar date.`);
      else if (ms < today) err('businessValidationError', field, `${field} ${value} is in the past.`);
      else dates[field] = ms;
    }
    if (live && res.variableStartDate === undefined) err('businessValidationError', 'variableStartDate', 'variableStartDate is required.');
    if (res.variableStartDate === true && res.start !== undefined) err('businessValidationError', 'start', 'start must not be set when variableStartDate is true: the offer starts when the customer accepts it.');
    if (res.variableStartDate === false && res.start === undefined && live) err('businessValidationError', 'start', 'start is required when variableStartDate is false.');
    if (live && res.end === undefined) err('businessValidationError', 'end', 'end is required.');
    if (forCustomer && live && res.acceptBy === undefined) err('businessValidationError', 'acceptBy', 'acceptBy is required.');
    if (dates.start !== undefined && dates.end !== undefined && dates.end < dates.start) err('businessValidationError', 'end', `end ${res.end} is before start ${res.start}.`);
    if (dates.acceptBy !== undefined && dates.end !== undefined && dates.acceptBy > dates.end) err('businessValidationError', 'acceptBy', `acceptBy ${res.acceptBy} is after end ${res.end}.`);

    const beneficiaries = res.beneficiaries ?? [];
    if (live && beneficiaries.length === 0) err('businessValidationError', 'beneficiaries', 'At least one beneficiary is required.');
    const seen = new Set<string>();
    beneficiaries.forEach((b, i) => {
      const pattern = forCustomer ? BILLING_ACCOUNT : CSP_PARTNER;
      const expected = forCustomer ? 'a billing account id (<tenant id>:<billing account id>_2019-05-31)' : 'a CSP partner id';
      if (!pattern.test(b.id)) err('businessValidationError', `beneficiaries[${i}].id`, `'${b.id}' is not ${expected}.`);
      if (seen.has(b.id.toLowerCase())) err('businessValidationError', `beneficiaries[${i}].id`, `Beneficiary '${b.id}' is listed twice.`);
      seen.add(b.id.toLowerCase());
    });
  }

  /** Checks each priced plan (and its absolute price resource); the pricing as stored when all pass. */
  private validatePricing(
    res: PrivateOfferResource,
    prices: Map<string, { resource: PlanPriceResource; index: number }>,
    err: (code: string, target: string, message: string, at?: string) => void,
  ): Array<PricingItem & { plan: string }> | undefined {
    const items = res.pricing ?? [];
    if (res.state === 'live' && items.length === 0) err('businessValidationError', 'pricing', 'At least one plan must be priced.');
    const out: Array<PricingItem & { plan: string }> = [];
    const plans = new Set<string>();
    items.forEach((item, j) => {
      const at = `pricing[${j}]`;
      const product = this.catalog.product(item.product);
      if (!product) {
        err('notFound', `${at}.product`, `Product '${item.product}' was not found.`);
        return;
      }
      const planRef = item.plan ?? item.basePlan;
      const plan = planRef === undefined ? undefined : this.catalog.plan(product, planRef);
      if (!plan) {
        err(planRef === undefined ? 'businessValidationError' : 'notFound', `${at}.plan`, planRef === undefined ? 'plan is required.' : `Plan '${planRef}' was not found in ${product.id}.`);
        return;
      }
      if (plans.has(plan.id)) err('businessValidationError', `${at}.plan`, `Plan ${plan.id} is priced twice.`);
      plans.add(plan.id);
      const base = { product: product.id, productName: product.alias, plan: plan.id, planName: plan.displayName };
      if (item.discountType === 'percentage') {
        if (item.priceDetails !== undefined) err('businessValidationError', `${at}.priceDetails`, 'priceDetails is only for absolute pricing.');
        const pct = item.discountPercentage;
        if (pct === undefined) err('businessValidationError', `${at}.discountPercentage`, 'discountPercentage is required for a percentage discount.');
        else if (pct < 0 || pct > 100) err('businessValidationError', `${at}.discountPercentage`, `discountPercentage ${pct} must be between 0 and 100.`);
        else out.push({ ...base, discountType: 'percentage', discountPercentage: pct });
        return;
      }
      if (item.discountPercentage !== undefined) err('businessValidationError', `${at}.discountPercentage`, 'discountPercentage is only for percentage discounts.');
      const name = typeof item.priceDetails === 'object' ? item.priceDetails.resourceName : undefined;
      const price = name === undefined ? undefined : prices.get(name);
      if (!price) {
        err('businessValidationError', `${at}.priceDetails.resourceName`, name === undefined
          ? 'Absolute pricing needs priceDetails.resourceName naming a price-and-availability-private-offer-plan resource of this request.'
          : `No price-and-availability-private-offer-plan resource named '${name}' in this request.`);
        return;
      }
      const priceAt = `resources[${price.index}]`;
      const priced = price.resource;
      if (this.catalog.product(priced.product) !== product) err('businessValidationError', 'product', `The price resource is for ${priced.product}, not ${product.id}.`, priceAt);
      else if (this.catalog.plan(product, priced.plan) !== plan) err('businessValidationError', 'plan', `The price resource is for ${priced.plan}, not ${plan.id}.`, priceAt);
      checkAbsolutePrices(priced, plan, (target, message) => err('businessValidationError', target, message, priceAt));
      out.push({ ...base, discountType: 'absolute', priceDetails: name });
    });
    return out;
  }

  private store(
    res: PrivateOfferResource,
    pricing: Array<PricingItem & { plan: string }>,
    existing: OfferRecord | undefined,
    prices: Map<string, { resource: PlanPriceResource }>,
  ): string {
    const guid = existing?.guid ?? this.options.guid();
    const stored = pricing.map((item) => {
      if (item.discountType !== 'absolute') return item;
      const product = this.catalog.product(item.product)!;
      const id = `price-and-availability-private-offer-plan/${product.guid}/${this.priceSerial++}`;
      // The request's price resource, found by the name the item still carries, kept under its durable id.
      this.prices.set(id, { ...prices.get(String(item.priceDetails))!.resource, id, product: product.id, plan: item.plan });
      return { ...item, priceDetails: id };
    });
    const { resourceName: _name, lastModified: _lm, eTag: _etag, termsAndConditionsDocSasUrl, ...rest } = res;
    const offer: PrivateOffer = {
      ...rest,
      $schema: PRIVATE_OFFER_SCHEMA,
      id: `private-offer/${guid}`,
      notificationContacts: res.notificationContacts ?? [],
      termsAndConditionsDocs: res.termsAndConditionsDocs ?? (termsAndConditionsDocSasUrl ? [{ sasUrl: termsAndConditionsDocSasUrl.trim(), fileName: 'terms.pdf' }] : []),
      beneficiaries: res.beneficiaries ?? [],
      pricing: stored,
      lastModified: isoDay(this.clock.now()),
      eTag: `"${randomUUID()}"`,
    };
    this.records.set(guid, { guid, offer, acceptances: existing?.acceptances ?? [] });
    return guid;
  }

  private restate(record: OfferRecord, state: PrivateOffer['state']): string {
    record.offer = { ...record.offer, state, lastModified: isoDay(this.clock.now()), eTag: `"${randomUUID()}"` };
    return record.guid;
  }
}

function checkAbsolutePrices(resource: PlanPriceResource, plan: Plan, err: (target: string, message: string) => void): void {
  const recurrent = resource.pricing.recurrentPrice;
  recurrent?.prices.forEach((p, i) => {
    const at = `pricing.recurrentPrice.prices[${i}]`;
    if (!Number.isFinite(p.pricePerPaymentInUsd) || p.pricePerPaymentInUsd < 0) err(`${at}.pricePerPaymentInUsd`, `pricePerPaymentInUsd ${p.pricePerPaymentInUsd} must be zero or more.`);
    const unit = termUnitOf(p.billingTerm);
    if (!unit || !plan.prices.some((x) => x.termUnit === unit)) {
      err(`${at}.billingTerm`, `Plan ${plan.id} is not sold for a ${p.billingTerm.value} ${p.billingTerm.type} term (it has ${plan.prices.map((x) => x.termUnit).join(', ')}).`);
    }
  });
  for (const [dimension, meter] of Object.entries(resource.pricing.customMeters?.meters ?? {})) {
    const at = `pricing.customMeters.meters.${dimension}`;
    if (!plan.meters.some((m) => m.id === dimension)) err(at, `Plan ${plan.id} has no meter '${dimension}' (it has ${plan.meters.map((m) => m.id).join(', ') || 'none'}).`);
    if (meter.pricePerPaymentInUsd !== undefined && (!Number.isFinite(meter.pricePerPaymentInUsd) || meter.pricePerPaymentInUsd < 0)) {
      err(`${at}.pricePerPaymentInUsd`, `pricePerPaymentInUsd ${meter.pricePerPaymentInUsd} must be zero or more.`);
    }
  }
}

function absolutePrices(plan: Plan, price: StoredPlanPrice): PlanPrices {
  const recurrent = price.pricing.recurrentPrice?.prices ?? [];
  const meters = price.pricing.customMeters?.meters ?? {};
  return {
    terms: plan.prices.map((p) => {
      const set = recurrent.find((r) => termUnitOf(r.billingTerm) === p.termUnit);
      return { termUnit: p.termUnit, listPriceUsd: p.priceUsd, priceUsd: set ? money(String(set.pricePerPaymentInUsd)) : p.priceUsd };
    }),
    meters: plan.meters.map((m) => {
      const set = meters[m.id]?.pricePerPaymentInUsd;
      return { dimension: m.id, listPriceUsd: m.pricePerUnitUsd, priceUsd: set === undefined ? m.pricePerUnitUsd : money(String(set)) };
    }),
  };
}
