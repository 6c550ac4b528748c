import { WebhookDelivery, type WebhookFaultPlan, webhookEmitter, type WebhookEmitter } from '../../../src/sandbox/webhook-delivery.js';
import { signedHeaders, subscriptionTypeOf, type WebhookEvent } from '../webhooks.js';
import type { HubSpotState, RecordChange } from './store.js';

/**
 * The sandbox's webhook subscriptions: every record change (a user's edit through `state` as
 * CRM_UI, an API write as INTEGRATION — HubSpot notifies both) becomes HubSpot webhook events,
 * batched and POSTed with the v3 signature to the target URL.
 */
export interface HubSpotWebhookTarget {
  targetUrl: string;
  /** The app's client secret: the v3 signature's key. */
  clientSecret: string;
}

export interface HubSpotWebhookOptions extends HubSpotWebhookTarget {
  windowMs?: number;
  maxBatch?: number;
  maxAttempts?: number;
  retryBaseMs?: number;
  faults?: WebhookFaultPlan;
}

export type HubSpotWebhooks = WebhookEmitter<HubSpotWebhookTarget>;

/** The portal id of a sandbox started without `portalId`. */
export const SANDBOX_PORTAL_ID = 62515;
export const SANDBOX_APP_ID = 1160452;
/** One subscription per object and change, numbered like HubSpot's. */
const SUBSCRIPTION_IDS: Record<string, number> = {
  'company.creation': 101, 'company.propertyChange': 102, 'company.deletion': 103,
  'contact.creation': 201, 'contact.propertyChange': 202, 'contact.deletion': 203,
  'deal.creation': 301, 'deal.propertyChange': 302, 'deal.deletion': 303,
};

/** `portalId` is the sandbox's: every event names the portal the change happened in. */
export function startHubSpotWebhooks(state: HubSpotState, options: Partial<HubSpotWebhookOptions> = {}, portalId = SANDBOX_PORTAL_ID): HubSpotWebhooks {
  const slot: { target: HubSpotWebhookTarget | undefined } = { target: options.targetUrl && options.clientSecret ? { targetUrl: options.targetUrl, clientSecret: options.clientSecret } : undefined };
  let eventId = 1_000;
  const delivery = new WebhookDelivery<WebhookEvent>({
    windowMs: options.windowMs,
    maxBatch: options.maxBatch,
    maxAttempts: options.maxAttempts,
    retryBaseMs: options.retryBaseMs,
    faults: options.faults,
    request: (events, attempt) => {
      if (!slot.target) return undefined;
      const body = JSON.stringify(events.map((e) => ({ ...e, attemptNumber: attempt })));
      return { url: slot.target.targetUrl, body, headers: signedHeaders({ clientSecret: slot.target.clientSecret, method: 'POST', uri: slot.target.targetUrl, body, now: Date.now() }) };
    },
  });

  const onChange = (change: RecordChange) => {
    if (!slot.target || !['companies', 'contacts', 'deals'].includes(change.type)) return;
    for (const event of eventsOf(change, portalId)) delivery.enqueue({ ...event, eventId: eventId++ });
  };
  state.changeListeners.add(onChange);

  return webhookEmitter(delivery, slot, () => state.changeListeners.delete(onChange));
}

/** HubSpot sends one event per changed property, and one for a creation or deletion. */
function eventsOf(change: RecordChange, portalId: number): WebhookEvent[] {
  const common = {
    objectId: change.record.idNum,
    portalId,
    appId: SANDBOX_APP_ID,
    occurredAt: change.at,
    changeSource: change.changeSource,
    ...(change.changeSource === 'INTEGRATION' ? { sourceId: String(SANDBOX_APP_ID) } : {}),
  };
  const event = (kind: 'creation' | 'propertyChange' | 'deletion', extra: Record<string, unknown> = {}) => {
    const subscriptionType = subscriptionTypeOf(change.type, kind);
    return { subscriptionType, subscriptionId: SUBSCRIPTION_IDS[subscriptionType], ...common, ...extra };
  };
  if (change.kind === 'creation') return [event('creation', { changeFlag: 'NEW' })];
  if (change.kind === 'deletion') return [event('deletion', { changeFlag: 'DELETED' })];
  return change.changed.map((name) => event('propertyChange', { propertyName: name, propertyValue: change.record.properties[name] ?? '' }));
}
