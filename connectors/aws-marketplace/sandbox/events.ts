import { WebhookDelivery, webhookEmitter, type WebhookEmitter, type WebhookFaultPlan } from '../../../src/sandbox/webhook-delivery.js';
import { isoSeconds } from './clock.js';

/**
 * EventBridge events as AWS Marketplace puts them on the seller's default bus: Catalog's change
 * set and offer events (source aws.marketplacecatalog) and the agreement events
 * (aws.agreement-marketplace). The sandbox keeps every event in a list for tests and, when a
 * target is configured, delivers each one as an EventBridge API destination would.
 */
export interface MarketplaceEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: 'aws.marketplacecatalog' | 'aws.agreement-marketplace';
  /** The account whose bus receives the event (the seller, or the reseller for its own offers). */
  account: string;
  time: string;
  region: 'us-east-1';
  resources: string[];
  detail: Record<string, unknown>;
}

export interface EventDraft {
  detailType: string;
  source: MarketplaceEvent['source'];
  account: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** Every event the marketplace emitted, in order, with listeners (the delivery) told of each. */
export class EventLog {
  readonly all: MarketplaceEvent[] = [];
  readonly listeners = new Set<(event: MarketplaceEvent) => void>();

  constructor(private readonly now: () => number, private readonly uuid: () => string) {}

  emit(draft: EventDraft): MarketplaceEvent {
    const event: MarketplaceEvent = {
      version: '0',
      id: this.uuid(),
      'detail-type': draft.detailType,
      source: draft.source,
      account: draft.account,
      time: isoSeconds(this.now()),
      region: 'us-east-1',
      resources: draft.resources,
      detail: { requestId: this.uuid(), ...draft.detail },
    };
    this.all.push(event);
    for (const listener of this.listeners) listener(event);
    return event;
  }

  of(detailType: string): MarketplaceEvent[] {
    return this.all.filter((e) => e['detail-type'] === detailType);
  }

  clear(): void {
    this.all.length = 0;
  }
}

/**
 * Where events go: an EventBridge rule's API destination. The connection's API-key
 * authorization sends the key as a header (`apiKeyName: apiKeyValue`) with each event, one event
 * per POST, the event itself as the body; that header is what the receiver checks.
 */
export interface EventTarget {
  url: string;
  apiKeyValue: string;
  /** The header carrying the key (default x-api-key). */
  apiKeyName?: string;
}

export interface EventDeliveryOptions {
  maxAttempts?: number;
  retryBaseMs?: number;
  timeoutMs?: number;
  faults?: WebhookFaultPlan;
}

export type MarketplaceEvents = WebhookEmitter<EventTarget> & {
  /** Every event emitted since start (after the seed), in order. */
  readonly all: MarketplaceEvent[];
  of(detailType: string): MarketplaceEvent[];
};

export function startEventDelivery(log: EventLog, target: EventTarget | undefined, options: EventDeliveryOptions = {}): MarketplaceEvents {
  const slot: { target: EventTarget | undefined } = { target: target ? { ...target } : undefined };
  const delivery = new WebhookDelivery<MarketplaceEvent>({
    maxBatch: 1,
    windowMs: 0,
    maxAttempts: options.maxAttempts ?? 5,
    retryBaseMs: options.retryBaseMs,
    timeoutMs: options.timeoutMs,
    faults: options.faults,
    request: ([event]) => {
      if (!slot.target) return undefined;
      return {
        url: slot.target.url,
        body: JSON.stringify(event),
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'Amazon/EventBridge/ApiDestinations',
          [slot.target.apiKeyName ?? 'x-api-key']: slot.target.apiKeyValue,
        },
      };
    },
  });
  const onEvent = (event: MarketplaceEvent) => {
    if (slot.target) delivery.enqueue(event);
  };
  log.listeners.add(onEvent);
  const emitter = webhookEmitter(delivery, slot, () => log.listeners.delete(onEvent));
  // log.all is one array for the sandbox's life (clear() empties it in place).
  return Object.assign(emitter, { all: log.all, of: (detailType: string) => log.of(detailType) });
}
