import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * HubSpot webhooks: the v3 request signature (X-HubSpot-Signature-v3 with
 * X-HubSpot-Request-Timestamp) and the event batch HubSpot POSTs. Both the hub's webhook endpoint
 * and the sandbox that emits webhooks use this file, so they cannot drift apart.
 *
 * Signature v3 = base64(HMAC-SHA256(app client secret, method + uri + body + timestamp)), where
 * uri is the full URL HubSpot called with some percent-escapes decoded, body the raw request
 * body, and timestamp the header's value (epoch milliseconds). Requests older than 5 minutes are
 * refused so a captured request cannot be replayed.
 */

export const SIGNATURE_HEADER = 'x-hubspot-signature-v3';
export const TIMESTAMP_HEADER = 'x-hubspot-request-timestamp';
export const MAX_SIGNATURE_AGE_MS = 5 * 60 * 1000;

/** The escapes HubSpot decodes in the URI before signing (its request-validation guide lists them). */
const DECODED: Record<string, string> = {
  '%3A': ':', '%2F': '/', '%3F': '?', '%40': '@', '%21': '!', '%24': '$', '%27': "'",
  '%28': '(', '%29': ')', '%2A': '*', '%2C': ',', '%3B': ';',
};

export function signedUri(uri: string): string {
  return uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => DECODED[m.toUpperCase()]);
}

export interface SignatureInput {
  clientSecret: string;
  method: string;
  /** The full URL HubSpot called: https://host/path?query. */
  uri: string;
  body: string | Buffer;
  /** X-HubSpot-Request-Timestamp as sent: epoch milliseconds. */
  timestamp: string;
}

export function signatureV3(input: SignatureInput): string {
  const hmac = createHmac('sha256', input.clientSecret);
  hmac.update(`${input.method.toUpperCase()}${signedUri(input.uri)}`, 'utf8');
  hmac.update(typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : input.body);
  hmac.update(input.timestamp, 'utf8');
  return hmac.digest('base64');
}

export type Verdict = { ok: true } | { ok: false; reason: string };

/** Checks a request's v3 signature and its age. `now` in epoch ms. */
export function verifySignatureV3(input: Omit<SignatureInput, 'timestamp'> & { signature?: string; timestamp?: string; now: number }): Verdict {
  if (!input.signature || !input.timestamp) return { ok: false, reason: 'missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp' };
  const sentAt = Number(input.timestamp);
  if (!/^\d+$/.test(input.timestamp) || !Number.isSafeInteger(sentAt)) return { ok: false, reason: 'X-HubSpot-Request-Timestamp is not epoch milliseconds' };
  // Older than 5 minutes is a replay; as far in the future is a clock we do not trust either.
  if (Math.abs(input.now - sentAt) > MAX_SIGNATURE_AGE_MS) return { ok: false, reason: 'the request timestamp is more than 5 minutes away from now' };
  const expected = Buffer.from(signatureV3({ ...input, timestamp: input.timestamp }), 'utf8');
  const given = Buffer.from(input.signature, 'utf8');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'the signature does not match' };
  return { ok: true };
}

/** The headers HubSpot adds to a webhook request (the sandbox signs with this). */
export function signedHeaders(input: Omit<SignatureInput, 'timestamp'> & { now: number }): Record<string, string> {
  const timestamp = String(input.now);
  return {
    'X-HubSpot-Signature-v3': signatureV3({ ...input, timestamp }),
    'X-HubSpot-Request-Timestamp': timestamp,
  };
}

// ---- the event batch ----------------------------------------------------------------------------

/**
 * One event of a webhook batch. Legacy apps send `<object>.<change>` subscription types
 * (company.propertyChange, deal.creation, contact.deletion …); apps on the new platform send
 * `object.<change>` with objectTypeId (0-1 contacts, 0-2 companies, 0-3 deals). Unknown fields
 * are kept: HubSpot adds fields over time.
 */
export const webhookEventSchema = z.looseObject({
  subscriptionType: z.string().regex(/^[A-Za-z_]+\.[A-Za-z]+$/),
  objectId: z.union([z.number().int(), z.string().regex(/^\d+$/)]),
  occurredAt: z.number().int(),
  eventId: z.union([z.number(), z.string()]).optional(),
  subscriptionId: z.number().optional(),
  portalId: z.number().optional(),
  appId: z.number().optional(),
  attemptNumber: z.number().int().optional(),
  objectTypeId: z.string().optional(),
  changeSource: z.string().optional(),
  sourceId: z.string().optional(),
  changeFlag: z.string().optional(),
  propertyName: z.string().optional(),
  propertyValue: z.string().optional(),
});
export const webhookBatchSchema = z.array(webhookEventSchema).min(1);

export type WebhookEvent = z.infer<typeof webhookEventSchema>;

/** The events of a webhook body, or why it is not a HubSpot webhook batch. */
export function parseWebhookBatch(body: string): { events: WebhookEvent[] } | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { error: 'the body is not JSON' };
  }
  const parsed = webhookBatchSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { error: `not a HubSpot webhook batch: ${issue.path.join('.') || '(body)'}: ${issue.message}` };
  }
  return { events: parsed.data };
}

/** Subscription-type prefix → CRM object (the names the connector and the mappings use). */
const OBJECT_OF_PREFIX: Record<string, string> = { company: 'companies', contact: 'contacts', deal: 'deals' };
const OBJECT_OF_TYPE_ID: Record<string, string> = { '0-1': 'contacts', '0-2': 'companies', '0-3': 'deals' };
const PREFIX_OF_OBJECT: Record<string, string> = { companies: 'company', contacts: 'contact', deals: 'deal' };

/** The CRM object an event is about, or undefined for objects ecosync does not sync (tickets, conversations …). */
export function objectOfEvent(event: Pick<WebhookEvent, 'subscriptionType' | 'objectTypeId'>): string | undefined {
  const prefix = event.subscriptionType.split('.')[0];
  if (prefix === 'object') return event.objectTypeId ? OBJECT_OF_TYPE_ID[event.objectTypeId] : undefined;
  return OBJECT_OF_PREFIX[prefix];
}

export type ChangeKind = 'creation' | 'propertyChange' | 'deletion' | 'restore';

/** The legacy subscription type for a change of an object: companies + creation → company.creation. */
export function subscriptionTypeOf(object: string, change: ChangeKind): string {
  const prefix = PREFIX_OF_OBJECT[object];
  if (!prefix) throw new Error(`HubSpot webhooks are not modelled for ${object}`);
  return `${prefix}.${change}`;
}
