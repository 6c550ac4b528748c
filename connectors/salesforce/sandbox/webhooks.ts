import { WebhookDelivery, type WebhookFaultPlan } from '../../../src/sandbox/webhook-delivery.js';
import type { CallCounters } from '../../../src/sandbox/index.js';
import { signatureHeader, type ChangeEvent } from '../webhooks.js';
import type { OrgChange, SalesforceOrg } from './org.js';

/**
 * What an org's change-notification callout (a record-triggered Flow or an Apex trigger) does:
 * every committed change — a user's edit or an API write, with the API client as changeOrigin —
 * becomes an event, batched and POSTed with the X-Ecosync-Signature header to the target URL.
 */
export interface SalesforceWebhookTarget {
  targetUrl: string;
  /** The connection's webhookSecret. */
  secret: string;
}

export interface SalesforceWebhookOptions extends SalesforceWebhookTarget {
  windowMs?: number;
  maxBatch?: number;
  maxAttempts?: number;
  retryBaseMs?: number;
  faults?: WebhookFaultPlan;
  /** Objects that have the callout (default: every object of the org). */
  objects?: string[];
}

export interface SalesforceWebhooks {
  /** Point deliveries somewhere (or stop them with undefined) while the sandbox runs. */
  configure(target: SalesforceWebhookTarget | undefined): void;
  readonly target: SalesforceWebhookTarget | undefined;
  /** sent, events, retries, failed, dropped. */
  readonly counters: CallCounters;
  faults: WebhookFaultPlan;
  /** Resolves when every queued event has been delivered or given up. */
  idle(): Promise<void>;
  close(): void;
}

export function startSalesforceWebhooks(org: SalesforceOrg, options: Partial<SalesforceWebhookOptions> = {}): SalesforceWebhooks {
  let target: SalesforceWebhookTarget | undefined = options.targetUrl && options.secret ? { targetUrl: options.targetUrl, secret: options.secret } : undefined;
  const objects = options.objects ? new Set(options.objects) : undefined;
  const delivery = new WebhookDelivery<ChangeEvent>({
    windowMs: options.windowMs,
    maxBatch: options.maxBatch,
    maxAttempts: options.maxAttempts,
    retryBaseMs: options.retryBaseMs,
    faults: options.faults,
    request: (events) => {
      if (!target) return undefined;
      const body = JSON.stringify({ events });
      return { url: target.targetUrl, body, headers: { 'X-Ecosync-Signature': signatureHeader(target.secret, body, Date.now()) } };
    },
  });

  const onChange = (change: OrgChange) => {
    if (!target || (objects && !objects.has(change.object))) return;
    const { fields, client } = change.version;
    delivery.enqueue({
      sobject: change.object,
      id: fields.Id as string,
      changeType: change.changeType,
      commitTimestamp: fields.SystemModstamp as number,
      ...(client ? { changeOrigin: `client=${client}` } : {}),
    });
  };
  org.changeListeners.add(onChange);

  return {
    configure(next) {
      target = next ? { ...next } : undefined;
    },
    get target() {
      return target;
    },
    counters: delivery.counters,
    get faults() {
      return delivery.faults;
    },
    set faults(plan) {
      delivery.faults = plan;
    },
    idle: () => delivery.idle(),
    close() {
      org.changeListeners.delete(onChange);
      delivery.close();
    },
  };
}
