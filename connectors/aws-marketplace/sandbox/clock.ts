/**
 * The marketplace's clock: real time plus whatever a test or the control route advanced it by.
 * Change sets, offer expiry, agreement end dates and metering's six-hour window all read it,
 * so a test moves time forward instead of sleeping.
 */
export class SandboxClock {
  private offset = 0;

  constructor(private readonly base: () => number = Date.now) {}

  now(): number {
    return this.base() + this.offset;
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`the clock moves forward only: got ${ms} ms`);
    this.offset += ms;
  }
}

/** "2024-10-07T22:30:48Z": the Catalog API's and EventBridge's time format (whole seconds). */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** "2025-07-01T23:59:59.999Z": the last instant of a YYYY-MM-DD day, as offers store an end date. */
export function endOfDay(date: string): string {
  return `${date}T23:59:59.999Z`;
}

/** Whether "YYYY-MM-DD" names a real calendar day. */
export function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const d = new Date(`${text}T00:00:00.000Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(text);
}

/** An ISO 8601 duration of whole days, months or years (P12M, P450D, P1Y), as offers write them. */
export const DURATION = /^P(\d+)([DMY])$/;

/** `ms` moved by a duration such as P12M (calendar months, UTC), or undefined for another shape. */
export function addDuration(ms: number, duration: string): number | undefined {
  const m = DURATION.exec(duration);
  if (!m) return undefined;
  const n = Number(m[1]);
  const d = new Date(ms);
  if (m[2] === 'D') d.setUTCDate(d.getUTCDate() + n);
  if (m[2] === 'M') d.setUTCMonth(d.getUTCMonth() + n);
  if (m[2] === 'Y') d.setUTCFullYear(d.getUTCFullYear() + n);
  return d.getTime();
}
