/**
 * Delivers co-sell approval reminders, offer reminders and drawdown alerts to a webhook (a chat channel, a mail relay). Thin glue:
 * the body is src/cosell/notify.ts's; this POSTs it, signed when a secret is set. Failures are
 * Temporal failures so the reminder activity retries a receiver that is down and stops at one
 * that refuses.
 */
import { createHmac } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import { reminderBody, type Reminder } from '../cosell/notify.js';
import type { NotifySettings } from './config.js';

export const NOTIFY_TIMEOUT_MS = 10_000;

/** Answers worth another attempt: the receiver timed out or asked us to slow down. */
const RETRYABLE_4XX = new Set([408, 429]);

/**
 * The X-Ecosync-Signature value: HMAC-SHA256, hex, of `<X-Ecosync-Timestamp>.<raw body>`. The
 * timestamp is signed too, so a receiver can refuse an old message replayed to it.
 */
export function reminderSignature(timestamp: string, body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface NotifierOptions {
  log: Logger;
  timeoutMs?: number;
  now?: () => Date;
}

/** Posts each reminder to the configured webhook; undefined when none is configured (reminders are then logged). */
export function webhookNotifier(settings: NotifySettings | undefined, options: NotifierOptions): ((reminder: Reminder) => Promise<void>) | undefined {
  const webhookUrl = settings?.webhookUrl;
  if (!settings || !webhookUrl) return undefined;
  const url = new URL(webhookUrl);
  // Webhook URLs carry their token in the path (Slack) or the query: only the origin is ever shown.
  const where = url.origin;
  const hidden = `${url.pathname}${url.search}`;
  const timeoutMs = options.timeoutMs ?? NOTIFY_TIMEOUT_MS;
  const now = options.now ?? (() => new Date());

  return async (reminder) => {
    const sentAt = now();
    const body = reminderBody(reminder, settings.format, sentAt);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (settings.secret) {
      const timestamp = String(Math.floor(sentAt.getTime() / 1000));
      headers['x-ecosync-timestamp'] = timestamp;
      headers['x-ecosync-signature'] = reminderSignature(timestamp, body, settings.secret);
    }
    let response: Response;
    try {
      // A redirect is not followed: it would turn the POST into a GET somewhere else.
      response = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw ApplicationFailure.retryable(`reminder webhook at ${where} not reached: ${failureReason(error, timeoutMs)}`, 'NotifyFailed');
    }
    const answer = (await response.text().catch(() => '')).slice(0, 200).trim();
    const shown = hidden.length > 1 ? answer.replaceAll(hidden, '/…') : answer;
    if (response.ok) {
      options.log.info({ to: reminder.to, subject: reminder.subject, webhook: where }, 'notify: message sent to the webhook');
      return;
    }
    const message = `reminder webhook at ${where} answered ${response.status}${shown ? `: ${shown}` : ''}`;
    const refused = (response.status >= 300 && response.status < 500) && !RETRYABLE_4XX.has(response.status);
    // A wrong address or a revoked hook answers the same every time: no retries.
    if (refused) throw ApplicationFailure.create({ type: 'NotifyRefused', message, nonRetryable: true });
    throw ApplicationFailure.retryable(message, 'NotifyFailed');
  };
}

function failureReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
