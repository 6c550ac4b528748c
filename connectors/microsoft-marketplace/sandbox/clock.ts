/**
 * The sandbox clock: real time plus whatever a test or demo advanced it by. Product Ingestion
 * jobs, landing-page token expiry, operation auto-acceptance, the metering window and bearer
 * token expiry all follow it, so a test settles them without sleeping.
 */
export class SandboxClock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`the sandbox clock only moves forward, by a number of ms (got ${ms})`);
    this.offsetMs += ms;
  }
}

/** ISO 8601 with milliseconds, in UTC, as Microsoft writes timestamps. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** The UTC calendar day (`YYYY-MM-DD`) of a time, the form of a private offer's dates. */
export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Midnight UTC of a `YYYY-MM-DD` day, or NaN when it is not one. */
export function dayStart(day: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return Number.NaN;
  const ms = Date.parse(`${day}T00:00:00Z`);
  return Number.isNaN(ms) || isoDay(ms) !== day ? Number.NaN : ms;
}
