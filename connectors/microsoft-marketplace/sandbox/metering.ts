import { randomUUID } from 'node:crypto';
import { isoTime, type SandboxClock } from './clock.js';
import { allows, type SaasStore } from './saas.js';

/**
 * The marketplace metering service: usage events against active SaaS subscriptions, one per
 * subscription, dimension and hour, within the last 24 hours. Each event gets a status of its
 * own, in a batch as in a single call.
 */
export type UsageStatus =
  | 'Accepted' | 'Expired' | 'Duplicate' | 'Error' | 'ResourceNotFound' | 'ResourceNotAuthorized'
  | 'ResourceNotActive' | 'InvalidDimension' | 'InvalidQuantity' | 'BadArgument';

export interface AcceptedUsage {
  usageEventId: string;
  status: 'Accepted';
  messageTime: string;
  resourceId: string;
  quantity: number;
  dimension: string;
  effectiveStartTime: string;
  planId: string;
}

export interface RefusedUsage {
  status: Exclude<UsageStatus, 'Accepted'>;
  messageTime: string;
  error: { code: string; message: string; target?: string; additionalInfo?: { acceptedMessage: Omit<AcceptedUsage, 'status'> & { status: 'Duplicate' } } };
  resourceId?: unknown;
  quantity?: unknown;
  dimension?: unknown;
  effectiveStartTime?: unknown;
  planId?: unknown;
}

export type UsageResult = AcceptedUsage | RefusedUsage;

export const MAX_BATCH = 25;
const WINDOW_MS = 24 * 3600 * 1000;
const HOUR_MS = 3600 * 1000;
/** Events stamped this far ahead of Microsoft's clock are refused; a little skew is not. */
const FUTURE_SKEW_MS = 5 * 60 * 1000;
const NO_TIME = '0001-01-01T00:00:00';

export class MeteringStore {
  private readonly accepted = new Map<string, AcceptedUsage>();

  constructor(private readonly saas: SaasStore, private readonly clock: SandboxClock, private readonly failsOnItsOwn: () => boolean) {}

  /** Records one event for the app calling; what Microsoft answers for it. */
  record(event: unknown, appId: string): UsageResult {
    const now = this.clock.now();
    const e = (typeof event === 'object' && event !== null && !Array.isArray(event) ? event : {}) as Record<string, unknown>;
    const echo = { resourceId: e.resourceId, quantity: e.quantity, dimension: e.dimension, effectiveStartTime: e.effectiveStartTime, planId: e.planId };
    const refuse = (status: RefusedUsage['status'], message: string, target?: string): RefusedUsage =>
      ({ status, messageTime: NO_TIME, error: { code: status, message, ...(target ? { target } : {}) }, ...echo });

    if (e.resourceUri !== undefined && e.resourceId === undefined) return refuse('BadArgument', 'resourceUri names a managed application; a SaaS subscription is named by resourceId.', 'resourceUri');
    if (typeof e.resourceId !== 'string' || e.resourceId === '') return refuse('BadArgument', 'The resourceId is required.', 'ResourceId');
    if (typeof e.quantity !== 'number' || !Number.isFinite(e.quantity)) return refuse('BadArgument', 'The quantity must be a number.', 'Quantity');
    if (e.quantity <= 0) return refuse('InvalidQuantity', `The quantity ${e.quantity} must be greater than 0.`, 'Quantity');
    if (typeof e.dimension !== 'string' || e.dimension === '') return refuse('BadArgument', 'The dimension is required.', 'Dimension');
    if (typeof e.planId !== 'string' || e.planId === '') return refuse('BadArgument', 'The planId is required.', 'PlanId');
    const at = typeof e.effectiveStartTime === 'string' ? Date.parse(e.effectiveStartTime) : Number.NaN;
    if (Number.isNaN(at)) return refuse('BadArgument', 'The effectiveStartTime must be a date and time in UTC.', 'EffectiveStartTime');
    if (at < now - WINDOW_MS) return refuse('Expired', 'The effectiveStartTime must be within the last 24 hours: the usage event has expired.', 'EffectiveStartTime');
    if (at > now + FUTURE_SKEW_MS) return refuse('BadArgument', 'The effectiveStartTime cannot be in the future.', 'EffectiveStartTime');

    const found = this.saas.lookup(e.resourceId);
    if (!found) return refuse('ResourceNotFound', `The usage resource ${e.resourceId} was not found.`);
    const { subscription, product } = found;
    if (!allows(product, appId)) return refuse('ResourceNotAuthorized', 'Client is not authorized for this usage resource.');
    if (subscription.saasSubscriptionStatus !== 'Subscribed') {
      return refuse('ResourceNotActive', `SaaS subscription ${subscription.id} is ${subscription.saasSubscriptionStatus}: usage is taken only while it is Subscribed.`);
    }
    if (e.planId !== subscription.planId) return refuse('BadArgument', `planId '${e.planId}' is not the plan of SaaS subscription ${subscription.id} ('${subscription.planId}').`, 'PlanId');
    const plan = product.plans.find((p) => p.externalId === subscription.planId)!;
    if (!plan.meters.some((m) => m.id === e.dimension)) {
      return refuse('InvalidDimension', `Dimension '${e.dimension}' is not a meter of plan '${plan.externalId}' (it has ${plan.meters.map((m) => m.id).join(', ') || 'none'}).`, 'Dimension');
    }
    const key = `${subscription.id}|${e.dimension}|${Math.floor(at / HOUR_MS)}`;
    const original = this.accepted.get(key);
    if (original) {
      return {
        status: 'Duplicate', messageTime: NO_TIME, ...echo,
        error: { additionalInfo: { acceptedMessage: { ...original, status: 'Duplicate' } }, message: 'This usage event already exist.', code: 'Conflict' },
      };
    }
    if (this.failsOnItsOwn()) return refuse('Error', 'The usage event could not be processed. Send it again.');
    const usage: AcceptedUsage = {
      usageEventId: randomUUID(), status: 'Accepted', messageTime: isoTime(now), resourceId: subscription.id,
      quantity: e.quantity, dimension: e.dimension, effectiveStartTime: e.effectiveStartTime as string, planId: e.planId,
    };
    this.accepted.set(key, usage);
    return { ...usage };
  }

  /** Every accepted usage event, in the order they came. */
  all(): AcceptedUsage[] {
    return [...this.accepted.values()].map((u) => ({ ...u }));
  }
}
