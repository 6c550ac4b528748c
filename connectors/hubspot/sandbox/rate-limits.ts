/**
 * HubSpot's two API limits: a rolling ten-second window (policy TEN_SECONDLY_ROLLING) and a daily
 * budget (policy DAILY). Undefined limits mean unlimited, which is what throughput runs use.
 */
export interface RateLimitSettings {
  /** Calls allowed per rolling window. */
  tenSecondLimit?: number;
  /** Calls allowed until resetDaily(). */
  dailyLimit?: number;
  /** Length of the rolling window; HubSpot's is 10 s, tests shorten it. */
  windowMs: number;
}

export type RateVerdict =
  | { kind: 'ok' }
  | { kind: 'tenSecondly' }
  | { kind: 'daily' };

export class RateLimits {
  private calls: number[] = [];
  private dailyUsed = 0;

  constructor(public settings: RateLimitSettings) {}

  configure(settings: Partial<RateLimitSettings>): void {
    this.settings = { ...this.settings, ...settings };
    this.calls = [];
  }

  resetDaily(): void {
    this.dailyUsed = 0;
  }

  /** Count one call at `now` and say whether it may proceed. */
  admit(now: number): RateVerdict {
    const { dailyLimit, tenSecondLimit, windowMs } = this.settings;
    if (dailyLimit !== undefined && this.dailyUsed >= dailyLimit) return { kind: 'daily' };
    if (tenSecondLimit !== undefined) {
      let drop = 0;
      while (drop < this.calls.length && this.calls[drop] <= now - windowMs) drop++;
      if (drop > 0) this.calls = this.calls.slice(drop);
      if (this.calls.length >= tenSecondLimit) return { kind: 'tenSecondly' };
      this.calls.push(now);
    }
    this.dailyUsed++;
    return { kind: 'ok' };
  }

  /** X-HubSpot-RateLimit-* headers as the real API sends them. */
  headers(): Record<string, string> {
    const { dailyLimit, tenSecondLimit, windowMs } = this.settings;
    const h: Record<string, string> = {};
    if (dailyLimit !== undefined) {
      h['x-hubspot-ratelimit-daily'] = String(dailyLimit);
      h['x-hubspot-ratelimit-daily-remaining'] = String(Math.max(0, dailyLimit - this.dailyUsed));
    }
    if (tenSecondLimit !== undefined) {
      h['x-hubspot-ratelimit-interval-milliseconds'] = String(windowMs);
      h['x-hubspot-ratelimit-max'] = String(tenSecondLimit);
      h['x-hubspot-ratelimit-remaining'] = String(Math.max(0, tenSecondLimit - this.calls.length));
    }
    return h;
  }
}
