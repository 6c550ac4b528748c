/**
 * Keeps NetSuite requests in flight at or under the account's concurrency limit. NetSuite counts
 * every request from every integration (and RESTlets) against one limit per account and refuses
 * the one over it with 429, so the pacer must be shared by every connector in the process that
 * talks to the account (see sharedPacer): two connections to one account add up.
 *
 * The configured limit is a ceiling; other integrations use the account too, so a 429 lowers the
 * pacer's working limit to what was in flight when NetSuite refused (the room actually left), and
 * each run of successes as long as the working limit raises it by one again, up to the ceiling.
 */
export class ConcurrencyPacer {
  private working: number;
  private active = 0;
  private successes = 0;
  private readonly queue: (() => void)[] = [];
  /** The most requests this pacer ever had in flight at once, and the 429s it was told of. */
  readonly stats = { maxInFlight: 0, refusals: 0 };

  constructor(private ceiling: number) {
    if (!Number.isInteger(ceiling) || ceiling < 1) throw new Error(`a concurrency limit must be a whole number of 1 or more; got ${ceiling}`);
    this.working = ceiling;
  }

  /** The configured ceiling and the limit in force now. */
  get limit(): { ceiling: number; working: number } {
    return { ceiling: this.ceiling, working: this.working };
  }

  get inFlight(): number {
    return this.active;
  }

  /** A new ceiling, e.g. the account's own limit from governanceLimits when it is lower. */
  setCeiling(ceiling: number): void {
    if (!Number.isInteger(ceiling) || ceiling < 1) return;
    this.ceiling = ceiling;
    this.working = Math.min(this.working, ceiling);
    this.pump();
  }

  /** Waits for a slot; the caller must call release once the response is in. */
  async acquire(): Promise<void> {
    if (this.active < this.working && this.queue.length === 0) {
      this.take();
      return;
    }
    await new Promise<void>((resolve) => this.queue.push(resolve));
  }

  /** Gives the slot back, saying whether NetSuite refused the request for the limit. */
  release(refused = false): void {
    this.active--;
    if (refused) {
      this.stats.refusals++;
      this.successes = 0;
      // What was in flight beside the refused request is what the account had room for.
      this.working = Math.max(1, Math.min(this.working, this.active));
    } else if (this.working < this.ceiling && ++this.successes >= this.working) {
      this.successes = 0;
      this.working++;
    }
    this.pump();
  }

  /** Runs fn in a slot. */
  async run<T>(fn: () => Promise<{ value: T; refused: boolean }>): Promise<T> {
    await this.acquire();
    let refused = false;
    try {
      const out = await fn();
      refused = out.refused;
      return out.value;
    } finally {
      this.release(refused);
    }
  }

  private take(): void {
    this.active++;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.active);
  }

  private pump(): void {
    while (this.active < this.working && this.queue.length > 0) {
      this.take();
      this.queue.shift()!();
    }
  }
}

/** A base account allows 15 requests at once; ecosync keeps 5 of them for the UI and other integrations. */
export const DEFAULT_CONCURRENCY = 10;

const shared = new Map<string, ConcurrencyPacer>();

/**
 * The process's pacer for one NetSuite account: every connector built for the account (one per
 * connection, activities running side by side) shares its limit. A configured limit given later
 * replaces the ceiling, the lower of the two winning.
 */
export function sharedPacer(accountId: string, ceiling?: number): ConcurrencyPacer {
  let pacer = shared.get(accountId);
  if (!pacer) {
    pacer = new ConcurrencyPacer(ceiling ?? DEFAULT_CONCURRENCY);
    shared.set(accountId, pacer);
  } else if (ceiling !== undefined && ceiling < pacer.limit.ceiling) {
    pacer.setCeiling(ceiling);
  }
  return pacer;
}
