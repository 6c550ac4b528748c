import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * Salesforce change notifications sent to ecosync by an HTTP callout (a record-triggered Flow or
 * an Apex trigger in the org): Salesforce has no signed webhooks of its own, so ecosync defines
 * the body and the signature, after the Stripe scheme that Apex can compute with Crypto.generateMac.
 *
 *   POST /webhooks/salesforce/<connection>
 *   X-Ecosync-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(webhookSecret, t + "." + raw body)>
 *   { "events": [{ "sobject": "Account", "id": "001…", "changeType": "UPDATE", "commitTimestamp": 1732… }] }
 *
 * Several v1 values may be sent while a secret is being rotated; one match is enough.
 */

export const SIGNATURE_HEADER = 'x-ecosync-signature';
export const MAX_SIGNATURE_AGE_SEC = 5 * 60;

export function signature(secret: string, timestamp: string, body: string | Buffer): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`${timestamp}.`, 'utf8');
  hmac.update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
  return hmac.digest('hex');
}

/** The X-Ecosync-Signature value for a body sent at `nowMs`. */
export function signatureHeader(secret: string, body: string | Buffer, nowMs: number): string {
  const t = String(Math.floor(nowMs / 1000));
  return `t=${t},v1=${signature(secret, t, body)}`;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

export function verifySignature(input: { secret: string; header?: string; body: string | Buffer; now: number }): Verdict {
  if (!input.header) return { ok: false, reason: 'missing X-Ecosync-Signature' };
  const parts = input.header.split(',').map((p) => p.trim().split('=') as [string, string?]);
  const t = parts.find(([k]) => k === 't')?.[1];
  const candidates = parts.filter(([k, v]) => k === 'v1' && v).map(([, v]) => v!);
  if (!t || !/^\d+$/.test(t) || candidates.length === 0) return { ok: false, reason: 'X-Ecosync-Signature is not t=<unix>,v1=<hex>' };
  if (Math.abs(input.now / 1000 - Number(t)) > MAX_SIGNATURE_AGE_SEC) return { ok: false, reason: 'the signature timestamp is more than 5 minutes away from now' };
  const expected = Buffer.from(signature(input.secret, t, input.body), 'utf8');
  const match = candidates.some((c) => {
    const given = Buffer.from(c.toLowerCase(), 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return match ? { ok: true } : { ok: false, reason: 'the signature does not match' };
}

// ---- the body -----------------------------------------------------------------------------------

/** Change types as Change Data Capture names them. */
export const CHANGE_TYPES = ['CREATE', 'UPDATE', 'DELETE', 'UNDELETE'] as const;

export const changeEventSchema = z.looseObject({
  sobject: z.string().regex(/^\w+$/),
  id: z.string().regex(/^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/),
  changeType: z.enum(CHANGE_TYPES),
  /** Epoch ms or an ISO datetime, as the callout finds it easier. */
  commitTimestamp: z.union([z.number().int(), z.iso.datetime({ offset: true })]),
  /** Who made the change (CDC's changeOrigin, e.g. `client=ecosync` for ecosync's own writes). */
  changeOrigin: z.string().optional(),
});
export const changeBatchSchema = z.looseObject({ events: z.array(changeEventSchema).min(1) });

export type ChangeEvent = z.infer<typeof changeEventSchema>;

export function parseChangeBatch(body: string): { events: ChangeEvent[] } | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { error: 'the body is not JSON' };
  }
  const parsed = changeBatchSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { error: `not a change notification batch: ${issue.path.join('.') || '(body)'}: ${issue.message}` };
  }
  return { events: parsed.data.events };
}
