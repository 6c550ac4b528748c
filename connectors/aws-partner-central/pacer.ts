/**
 * Spaces calls evenly at a rate, so a client stays under a server's sliding one-second window
 * instead of burning calls on ThrottlingException. Calls reserve slots in order; a throttle
 * pushes the next slot out.
 *
 * What the server meters is when a call *arrives*, and a call can spend a while on our side
 * before it leaves (the SDK's first call loads its HTTP stack and connects, hundreds of ms).
 * So after each call the next slot is also kept at least one interval after the moment this
 * call most likely arrived: its end minus the shortest round trip seen so far (the whole round
 * trip until one is known, which makes the very first call's successor wait a little longer).
 */
export class Pacer {
  private next = 0;
  private fastestMs = Number.POSITIVE_INFINITY;
  private readonly intervalMs: number;

  constructor(
    perSecond: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    // A little slack for network jitter: a call landing 1 ms early in the window is a wasted call.
    this.intervalMs = perSecond > 0 ? (1000 / perSecond) * 1.02 + 2 : 0;
  }

  /** Runs `call` in its slot. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    await this.take();
    const started = this.now();
    try {
      return await call();
    } finally {
      const ended = this.now();
      const lead = Number.isFinite(this.fastestMs) ? this.fastestMs : 0;
      this.fastestMs = Math.min(this.fastestMs, ended - started);
      if (this.intervalMs > 0) this.next = Math.max(this.next, ended - lead + this.intervalMs);
    }
  }

  /** Waits for the next slot (also after holdFor when no rate is set). */
  async take(): Promise<void> {
    const now = this.now();
    const at = Math.max(now, this.next);
    this.next = at + this.intervalMs;
    if (at > now) await this.sleep(at - now);
  }

  /** Nothing else goes out before `ms` from now (after the server said slow down). */
  holdFor(ms: number): void {
    this.next = Math.max(this.next, this.now() + ms);
  }
}
