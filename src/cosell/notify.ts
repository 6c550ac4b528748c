/**
 * Approval reminders as a webhook receives them: the body in the receiver's format. Pure; the
 * POST, its signature and its retries are the runtime's (src/runtime/notify.ts).
 */

/** A reminder to the people who may decide a co-sell's stage (and the escalation approver). */
export interface Reminder {
  to: string[];
  subject: string;
  text: string;
}

export type ReminderFormat = 'json' | 'slack';

/**
 * The raw body to POST: `json` is `{ to, subject, text, sentAt }`; `slack` is an incoming
 * webhook's `{ text }`, the subject in bold and the recipients on the last line.
 */
export function reminderBody(reminder: Reminder, format: ReminderFormat, sentAt: Date): string {
  if (format === 'json') return JSON.stringify({ to: reminder.to, subject: reminder.subject, text: reminder.text, sentAt: sentAt.toISOString() });
  const lines = [`*${slackEscape(reminder.subject)}*`, slackEscape(reminder.text), `to: ${slackEscape(reminder.to.join(', '))}`];
  return JSON.stringify({ text: lines.join('\n') });
}

/** Slack reads &, < and > as markup (links, mentions): they are sent escaped. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
