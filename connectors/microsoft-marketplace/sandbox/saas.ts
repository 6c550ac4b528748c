import { randomBytes } from 'node:crypto';
import type { Plan, Product, TermUnit } from './catalog.js';
import { isoDay, isoTime, type SandboxClock } from './clock.js';
import { SandboxRefusal } from './refusal.js';

/**
 * SaaS fulfillment on Microsoft's side: purchases (from accepted private offers) become SaaS
 * subscriptions in PendingFulfillmentStart with a landing-page token; the publisher resolves
 * and activates them; Microsoft (the customer, billing) and the publisher start operations,
 * and each operation is notified to the publisher's webhook. ChangePlan and ChangeQuantity
 * wait for the publisher's acknowledgement and succeed on their own after `autoAcceptMs` (as
 * Microsoft auto-accepts them); Reinstate waits for the acknowledgement.
 */
export type SaasStatus = 'NotStarted' | 'PendingFulfillmentStart' | 'Subscribed' | 'Suspended' | 'Unsubscribed';
export type OperationAction = 'Unsubscribe' | 'ChangePlan' | 'ChangeQuantity' | 'Suspend' | 'Reinstate' | 'Renew';
export type OperationStatus = 'NotStarted' | 'InProgress' | 'Succeeded' | 'Failed' | 'Conflict';
export const OPERATION_ACTIONS: readonly OperationAction[] = ['Unsubscribe', 'ChangePlan', 'ChangeQuantity', 'Suspend', 'Reinstate', 'Renew'];

export interface AadIdentity {
  emailId: string;
  objectId: string;
  tenantId: string;
  puid: string;
}

export interface SaasSubscription {
  id: string;
  name: string;
  publisherId: string;
  offerId: string;
  planId: string;
  /** Seats, for a plan priced per seat; absent otherwise. */
  quantity?: number;
  beneficiary: AadIdentity;
  purchaser: AadIdentity;
  allowedCustomerOperations: Array<'Read' | 'Update' | 'Delete'>;
  sessionMode: 'None';
  isFreeTrial: boolean;
  isTest: boolean;
  sandboxType: 'None';
  saasSubscriptionStatus: SaasStatus;
  term: { startDate?: string; endDate?: string; termUnit: TermUnit; chargeDuration: null };
  autoRenew: boolean;
  created: string;
  lastModified: string;
}

export interface SaasOperation {
  id: string;
  activityId: string;
  subscriptionId: string;
  offerId: string;
  publisherId: string;
  /** The plan the subscription has, or will have once a ChangePlan succeeds. */
  planId: string;
  quantity?: number;
  action: OperationAction;
  timeStamp: string;
  status: OperationStatus;
  operationRequestSource: 'Azure' | 'Partner';
}

export interface Purchase {
  subscription: SaasSubscription;
  /** The landing-page token (`x-ms-marketplace-token`), valid for 24 h. */
  token: string;
  tokenExpiresAt: string;
}

interface Held {
  subscription: SaasSubscription;
  product: Product;
  operations: Array<{ op: SaasOperation; createdAt: number }>;
}

export interface SaasOptions {
  guid: () => string;
  landingTokenTtlMs: number;
  autoAcceptMs: number;
  /** Told of every new operation, with the subscription as it is then: Microsoft's webhook call. */
  onOperation: (op: SaasOperation, subscription: SaasSubscription) => void;
}

const ACKNOWLEDGED: readonly OperationAction[] = ['ChangePlan', 'ChangeQuantity', 'Reinstate'];
const AUTO_ACCEPTED: readonly OperationAction[] = ['ChangePlan', 'ChangeQuantity'];

export class SaasStore {
  private readonly subscriptions = new Map<string, Held>();
  private readonly tokens = new Map<string, { subscriptionId: string; expiresAt: number }>();

  constructor(private readonly clock: SandboxClock, private readonly options: SaasOptions) {}

  /** A customer buys a plan (after accepting a private offer): a subscription waiting for the publisher. */
  purchase(input: {
    product: Product; plan: Plan; name: string; beneficiaryTenantId: string; quantity?: number; purchaserEmail?: string;
  }): Purchase {
    const { product, plan } = input;
    const quantity = this.seatsFor(plan, input.quantity ?? plan.minQuantity ?? 1, (message) => new SandboxRefusal(400, 'badRequest', message));
    const now = this.clock.now();
    const email = input.purchaserEmail ?? `buyer@${input.beneficiaryTenantId.slice(0, 8)}.example.com`;
    const identity: AadIdentity = { emailId: email, objectId: this.options.guid(), tenantId: input.beneficiaryTenantId, puid: this.options.guid().replace(/-/g, '').slice(0, 16).toUpperCase() };
    const termUnit = plan.prices[0]?.termUnit ?? 'P1M';
    const subscription: SaasSubscription = {
      id: this.options.guid(), name: input.name, publisherId: product.publisherId, offerId: product.externalId, planId: plan.externalId,
      ...(quantity === undefined ? {} : { quantity }),
      beneficiary: identity, purchaser: { ...identity }, allowedCustomerOperations: ['Delete', 'Update', 'Read'],
      sessionMode: 'None', isFreeTrial: false, isTest: false, sandboxType: 'None', saasSubscriptionStatus: 'PendingFulfillmentStart',
      term: { ...termDates(now, termUnit), termUnit, chargeDuration: null }, autoRenew: true, created: isoTime(now), lastModified: isoTime(now),
    };
    this.subscriptions.set(subscription.id, { subscription, product, operations: [] });
    // Like Microsoft's: opaque base64 with + and /, which the landing page URL carries encoded.
    const token = randomBytes(96).toString('base64');
    const expiresAt = now + this.options.landingTokenTtlMs;
    this.tokens.set(token, { subscriptionId: subscription.id, expiresAt });
    return { subscription: structuredClone(subscription), token, tokenExpiresAt: isoTime(expiresAt) };
  }

  resolve(token: string | undefined, appId: string): { id: string; subscriptionName: string; offerId: string; planId: string; quantity?: number; subscription: SaasSubscription } {
    if (token === undefined || token === '') throw new SandboxRefusal(400, 'HeaderNotPresent', 'Mandatory header missing: x-ms-marketplace-token.');
    const found = this.tokens.get(token);
    if (!found) throw new SandboxRefusal(400, 'BadArgument', 'The x-ms-marketplace-token is malformed or invalid. It may have been URL-encoded: decode it from the landing page URL before sending it.');
    if (found.expiresAt <= this.clock.now()) throw new SandboxRefusal(400, 'BadArgument', 'The x-ms-marketplace-token has expired.');
    const { subscription } = this.held(found.subscriptionId, appId);
    return {
      id: subscription.id, subscriptionName: subscription.name, offerId: subscription.offerId, planId: subscription.planId,
      ...(subscription.quantity === undefined ? {} : { quantity: subscription.quantity }), subscription: structuredClone(subscription),
    };
  }

  activate(id: string, body: unknown, appId: string): void {
    const held = this.held(id, appId);
    const s = held.subscription;
    if (s.saasSubscriptionStatus === 'Unsubscribed') throw new SandboxRefusal(404, 'EntityNotFound', `SaaS subscription ${id} is Unsubscribed.`);
    if (s.saasSubscriptionStatus !== 'PendingFulfillmentStart') throw new SandboxRefusal(400, 'BadArgument', `SaaS subscription ${id} is already ${s.saasSubscriptionStatus}.`);
    const { planId, quantity } = (typeof body === 'object' && body !== null ? body : {}) as { planId?: unknown; quantity?: unknown };
    if (typeof planId !== 'string' || planId === '') throw new SandboxRefusal(400, 'BadArgument', 'planId is required.');
    if (planId !== s.planId) throw new SandboxRefusal(400, 'BadArgument', `planId '${planId}' does not match the purchased plan '${s.planId}'.`);
    if (quantity !== undefined && quantity !== null && quantity !== '' && Number(quantity) !== s.quantity) {
      throw new SandboxRefusal(400, 'BadArgument', `quantity ${String(quantity)} does not match the purchased quantity ${s.quantity ?? '(none: the plan is not priced per seat)'}.`);
    }
    const now = this.clock.now();
    s.saasSubscriptionStatus = 'Subscribed';
    s.term = { ...s.term, ...termDates(now, s.term.termUnit) };
    s.lastModified = isoTime(now);
  }

  get(id: string, appId: string): SaasSubscription {
    return structuredClone(this.held(id, appId).subscription);
  }

  /** Every subscription of the offers this app may see, oldest first. */
  list(appId: string): SaasSubscription[] {
    return [...this.subscriptions.values()].filter((h) => allows(h.product, appId)).map((h) => structuredClone(h.subscription));
  }

  availablePlans(id: string, appId: string): Plan[] {
    return this.held(id, appId).product.plans;
  }

  /** The publisher changes the plan or the seats (PATCH on the subscription): an operation to acknowledge. */
  change(id: string, body: unknown, appId: string): SaasOperation {
    const held = this.held(id, appId);
    const { planId, quantity } = (typeof body === 'object' && body !== null ? body : {}) as { planId?: unknown; quantity?: unknown };
    if (planId !== undefined && quantity !== undefined) throw new SandboxRefusal(400, 'BadArgument', 'Either the plan or the quantity can be changed at one time, not both.');
    if (planId === undefined && quantity === undefined) throw new SandboxRefusal(400, 'BadArgument', 'planId or quantity is required.');
    return planId !== undefined
      ? this.start(held, 'ChangePlan', { planId }, 'Partner', badArgument)
      : this.start(held, 'ChangeQuantity', { quantity }, 'Partner', badArgument);
  }

  /** The publisher cancels the subscription (DELETE). */
  cancel(id: string, appId: string): SaasOperation {
    return this.start(this.held(id, appId), 'Unsubscribe', {}, 'Partner', badArgument);
  }

  /** Microsoft's side (the customer, billing) starts an operation on a subscription. */
  trigger(id: string, action: OperationAction, args: { planId?: unknown; quantity?: unknown } = {}): SaasOperation {
    const held = this.subscriptions.get(id.toLowerCase());
    if (!held) throw new SandboxRefusal(404, 'notFound', `SaaS subscription ${id} was not found.`);
    if (!OPERATION_ACTIONS.includes(action)) throw new SandboxRefusal(400, 'badRequest', `action must be one of ${OPERATION_ACTIONS.join(', ')}.`);
    return this.start(held, action, args, 'Azure', (message) => new SandboxRefusal(409, 'conflict', message));
  }

  /** Operations still waiting for the publisher. */
  pendingOperations(id: string, appId: string): SaasOperation[] {
    this.tick();
    return this.held(id, appId).operations.filter((o) => o.op.status === 'InProgress').map((o) => ({ ...o.op }));
  }

  operation(id: string, operationId: string, appId: string): SaasOperation {
    this.tick();
    return { ...this.op(this.held(id, appId), operationId).op };
  }

  /** The publisher's acknowledgement (PATCH on the operation): Success applies the change, Failure leaves things as they were. */
  acknowledge(id: string, operationId: string, body: unknown, appId: string): void {
    this.tick();
    const held = this.held(id, appId);
    const entry = this.op(held, operationId);
    const status = (typeof body === 'object' && body !== null ? (body as { status?: unknown }).status : undefined);
    if (status !== 'Success' && status !== 'Failure') throw new SandboxRefusal(400, 'BadArgument', "status must be 'Success' or 'Failure'.");
    if (entry.op.status !== 'InProgress') throw new SandboxRefusal(409, 'Conflict', `Operation ${operationId} is already ${entry.op.status}.`);
    this.finish(held, entry.op, status === 'Success');
  }

  /** Lets unacknowledged ChangePlan and ChangeQuantity operations succeed once their time is up. */
  tick(): void {
    const now = this.clock.now();
    for (const held of this.subscriptions.values()) {
      for (const { op, createdAt } of held.operations) {
        if (op.status === 'InProgress' && AUTO_ACCEPTED.includes(op.action) && createdAt + this.options.autoAcceptMs <= now) this.finish(held, op, true);
      }
    }
  }

  /** For metering: the subscription a usage event names, if any. */
  lookup(id: string): { subscription: SaasSubscription; product: Product } | undefined {
    const held = this.subscriptions.get(id.toLowerCase());
    return held && { subscription: held.subscription, product: held.product };
  }

  all(): SaasSubscription[] {
    return [...this.subscriptions.values()].map((h) => structuredClone(h.subscription));
  }

  private held(id: string, appId: string): Held {
    const held = this.subscriptions.get(id.toLowerCase());
    if (!held) throw new SandboxRefusal(404, 'EntityNotFound', `SaaS subscription ${id} was not found.`);
    if (!allows(held.product, appId)) throw new SandboxRefusal(403, 'Forbidden', FORBIDDEN_MESSAGE);
    return held;
  }

  private op(held: Held, operationId: string): { op: SaasOperation; createdAt: number } {
    const entry = held.operations.find((o) => o.op.id === operationId.toLowerCase());
    if (!entry) throw new SandboxRefusal(404, 'EntityNotFound', `Operation ${operationId} was not found on SaaS subscription ${held.subscription.id}.`);
    return entry;
  }

  /** Checks an action against the subscription's state, records the operation and notifies it. */
  private start(held: Held, action: OperationAction, args: { planId?: unknown; quantity?: unknown }, source: 'Azure' | 'Partner', refuse: (message: string) => SandboxRefusal): SaasOperation {
    this.tick();
    const s = held.subscription;
    const status = s.saasSubscriptionStatus;
    const need = (...allowed: SaasStatus[]) => {
      if (!allowed.includes(status)) throw refuse(`${action} needs a ${allowed.join(' or ')} subscription; ${s.id} is ${status}.`);
    };
    if (held.operations.some((o) => o.op.status === 'InProgress')) throw refuse(`SaaS subscription ${s.id} has an operation in progress; it must finish first.`);
    let planId = s.planId;
    let quantity = s.quantity;
    switch (action) {
      case 'Unsubscribe': need('PendingFulfillmentStart', 'Subscribed', 'Suspended'); break;
      case 'Suspend': case 'Renew': need('Subscribed'); break;
      case 'Reinstate': need('Suspended'); break;
      case 'ChangePlan': {
        need('Subscribed');
        const plan = held.product.plans.find((p) => p.externalId === args.planId);
        if (typeof args.planId !== 'string' || !plan) throw refuse(`Plan '${String(args.planId)}' is not a plan of offer ${s.offerId}.`);
        if (plan.externalId === s.planId) throw refuse(`SaaS subscription ${s.id} already has plan '${s.planId}'.`);
        planId = plan.externalId;
        quantity = this.seatsFor(plan, s.quantity ?? plan.minQuantity ?? 1, refuse);
        break;
      }
      case 'ChangeQuantity': {
        need('Subscribed');
        const plan = held.product.plans.find((p) => p.externalId === s.planId)!;
        if (!plan.isPricePerSeat) throw refuse(`Plan '${s.planId}' is not priced per seat: it has no quantity to change.`);
        const seats = Number(args.quantity);
        if (args.quantity === undefined || args.quantity === null || !Number.isInteger(seats)) throw refuse('quantity must be a whole number.');
        if (seats === s.quantity) throw refuse(`SaaS subscription ${s.id} already has ${seats} seats.`);
        quantity = this.seatsFor(plan, seats, refuse);
        break;
      }
    }
    const now = this.clock.now();
    const op: SaasOperation = {
      id: this.options.guid(), activityId: this.options.guid(), subscriptionId: s.id, offerId: s.offerId, publisherId: s.publisherId,
      planId, ...(quantity === undefined ? {} : { quantity }), action, timeStamp: isoTime(now),
      status: ACKNOWLEDGED.includes(action) ? 'InProgress' : 'Succeeded', operationRequestSource: source,
    };
    held.operations.push({ op, createdAt: now });
    if (op.status === 'Succeeded') this.apply(held, op);
    this.options.onOperation({ ...op }, structuredClone(s));
    return { ...op };
  }

  private finish(held: Held, op: SaasOperation, success: boolean): void {
    op.status = success ? 'Succeeded' : 'Failed';
    if (success) this.apply(held, op);
    else held.subscription.lastModified = isoTime(this.clock.now());
  }

  private apply(held: Held, op: SaasOperation): void {
    const s = held.subscription;
    const now = this.clock.now();
    switch (op.action) {
      case 'Unsubscribe': s.saasSubscriptionStatus = 'Unsubscribed'; break;
      case 'Suspend': s.saasSubscriptionStatus = 'Suspended'; break;
      case 'Reinstate': s.saasSubscriptionStatus = 'Subscribed'; break;
      case 'Renew': {
        const next = Date.parse(s.term.endDate ?? isoTime(now)) + DAY_MS;
        s.term = { ...s.term, ...termDates(next, s.term.termUnit) };
        break;
      }
      case 'ChangePlan': s.planId = op.planId; if (op.quantity === undefined) delete s.quantity; else s.quantity = op.quantity; break;
      case 'ChangeQuantity': s.quantity = op.quantity; break;
    }
    s.lastModified = isoTime(now);
  }

  /** Seats for a plan priced per seat (within its limits); undefined for a plan that is not. */
  private seatsFor(plan: Plan, seats: number, refuse: (message: string) => SandboxRefusal): number | undefined {
    if (!plan.isPricePerSeat) return undefined;
    if (!Number.isInteger(seats) || seats < (plan.minQuantity ?? 1) || seats > (plan.maxQuantity ?? Number.MAX_SAFE_INTEGER)) {
      throw refuse(`Plan '${plan.externalId}' takes from ${plan.minQuantity ?? 1} to ${plan.maxQuantity ?? 'any number of'} seats, not ${seats}.`);
    }
    return seats;
  }
}

export const FORBIDDEN_MESSAGE = 'The authorization token is invalid, expired, missing or this request is attempting to access a SaaS subscription for an offer that was published with a different Azure AD App ID from the one used to create the authorization token. Please make sure the authorization token is created using the same Azure AD App ID as the Azure AD App ID Id set for the offer in Technical Details tab in Partner Center.';

const DAY_MS = 24 * 3600 * 1000;

/** An offer without an app in its technical configuration accepts any; otherwise only that app. */
export function allows(product: Product, appId: string): boolean {
  return product.appId === undefined || product.appId === appId;
}

function badArgument(message: string): SandboxRefusal {
  return new SandboxRefusal(400, 'BadArgument', message);
}

/** A term from the UTC day of `fromMs`: a month or a year, ending the day before the same date. */
function termDates(fromMs: number, unit: TermUnit): { startDate: string; endDate: string } {
  const start = new Date(`${isoDay(fromMs)}T00:00:00Z`);
  const end = new Date(start);
  if (unit === 'P1Y') end.setUTCFullYear(end.getUTCFullYear() + 1);
  else end.setUTCMonth(end.getUTCMonth() + 1);
  end.setUTCDate(end.getUTCDate() - 1);
  return { startDate: `${isoDay(start.getTime())}T00:00:00Z`, endDate: `${isoDay(end.getTime())}T00:00:00Z` };
}
