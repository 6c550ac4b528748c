import { CallCounters } from '../../../src/sandbox/counters.js';
import { WebhookDelivery, webhookEmitter, type WebhookEmitter, type WebhookFaultPlan } from '../../../src/sandbox/webhook-delivery.js';
import type { SaasOperation, SaasSubscription } from './saas.js';

/**
 * How Microsoft reaches the publisher:
 * - the offer's connection webhook: one POST per SaaS operation, the operation with its
 *   subscription, retried on failure. When the offer's technical configuration names an Entra
 *   app, the call carries `Authorization: Bearer <token>`, a token from the Entra authority
 *   whose audience is that app (Microsoft's has the marketplace's own appid; the sandbox's is
 *   obtained with the app's credentials, so its appid is the app's);
 * - the offer's landing page: after a purchase the buyer's browser opens it with the
 *   landing-page token in `?token=` (Microsoft sends no webhook for a purchase). The sandbox
 *   opens it as the browser would, once, with a GET.
 */
export interface MarketplaceWebhookTarget {
  url: string;
}

export type WebhookBody = SaasOperation & { subscription: SaasSubscription; purchaseToken: null };

export interface MarketplaceNotifications {
  webhooks: WebhookEmitter<MarketplaceWebhookTarget>;
  /** Queues Microsoft's webhook call for an operation (nothing when no webhook URL is set). */
  operation(op: SaasOperation, subscription: SaasSubscription): void;
  /** Opens the landing page with the token as the buyer's browser does; the URL it opened, if any. */
  landingPage(token: string): string | undefined;
  /** Landing page visits: `visits`, `failed`. */
  landingCounters: CallCounters;
  /** Resolves once every webhook call and landing page visit has finished or been given up. */
  idle(): Promise<void>;
  close(): void;
}

export interface NotificationOptions {
  webhookUrl?: string;
  landingPageUrl?: string;
  /** A bearer token for the webhook call; undefined: the call goes without one. */
  bearerToken?: () => Promise<string | undefined>;
  faults?: WebhookFaultPlan;
  retryBaseMs?: number;
  maxAttempts?: number;
}

export function startNotifications(options: NotificationOptions): MarketplaceNotifications {
  const slot: { target: MarketplaceWebhookTarget | undefined } = { target: options.webhookUrl ? { url: options.webhookUrl } : undefined };
  const delivery = new WebhookDelivery<{ body: WebhookBody; token?: string }>({
    // Microsoft calls once per operation, at once.
    maxBatch: 1,
    windowMs: 0,
    retryBaseMs: options.retryBaseMs,
    maxAttempts: options.maxAttempts,
    faults: options.faults,
    request: ([event]) => slot.target && {
      url: slot.target.url,
      body: JSON.stringify(event.body),
      headers: event.token ? { authorization: `Bearer ${event.token}` } : {} as Record<string, string>,
    },
  });
  const landingCounters = new CallCounters();
  const pending = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    const p = work.catch(() => undefined).finally(() => pending.delete(p));
    pending.add(p);
  };
  const abort = new AbortController();

  return {
    webhooks: webhookEmitter(delivery, slot, () => {}),
    operation(op, subscription) {
      if (!slot.target) return;
      const body: WebhookBody = { ...op, subscription, purchaseToken: null };
      // The token is fetched first, so the call leaves with one (the credential caches it).
      track((options.bearerToken?.() ?? Promise.resolve(undefined)).then(
        (token) => delivery.enqueue({ body, token }),
        () => {
          delivery.counters.add('tokenFailed');
          delivery.enqueue({ body });
        },
      ));
    },
    landingPage(token) {
      if (!options.landingPageUrl) return undefined;
      const url = new URL(options.landingPageUrl);
      url.searchParams.set('token', token);
      track(fetch(url, { redirect: 'manual', signal: AbortSignal.any([abort.signal, AbortSignal.timeout(10_000)]) }).then(
        async (response) => {
          await response.arrayBuffer().catch(() => undefined);
          landingCounters.add(response.status < 400 ? 'visits' : 'failed');
        },
        () => landingCounters.add('failed'),
      ));
      return url.href;
    },
    landingCounters,
    async idle() {
      while (pending.size > 0) await Promise.all(pending);
      await delivery.idle();
    },
    close() {
      abort.abort();
      delivery.close();
    },
  };
}
