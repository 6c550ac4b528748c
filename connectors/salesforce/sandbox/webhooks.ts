import { WebhookDelivery, type WebhookFaultPlan, webhookEmitter, type WebhookEmitter } from '../../../src/sandbox/webhook-delivery.js';
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

export type SalesforceWebhooks = WebhookEmitter<SalesforceWebhookTarget>;

export function startSalesforceWebhooks(org: SalesforceOrg, options: Partial<SalesforceWebhookOptions> = {}): SalesforceWebhooks {
  const slot: { target: SalesforceWebhookTarget | undefined } = { target: options.targetUrl && options.secret ? { targetUrl: options.targetUrl, secret: options.secret } : undefined };
  const objects = options.objects ? new Set(options.objects) : undefined;
  const delivery = new WebhookDelivery<ChangeEvent>({
    windowMs: options.windowMs,
    maxBatch: options.maxBatch,
    maxAttempts: options.maxAttempts,
    retryBaseMs: options.retryBaseMs,
    faults: options.faults,
    request: (events) => {
      if (!slot.target) return undefined;
      const body = JSON.stringify({ events });
      return { url: slot.target.targetUrl, body, headers: { 'X-Ecosync-Signature': signatureHeader(slot.target.secret, body, Date.now()) } };
    },
  });

  const onChange = (change: OrgChange) => {
    if (!slot.target || (objects && !objects.has(change.object))) return;
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

  return webhookEmitter(delivery, slot, () => org.changeListeners.delete(onChange));
}
