/**
 * Spaces calls evenly at a rate, so a client stays under a server's sliding one-second window
 * instead of burning calls on ThrottlingException. Calls reserve slots in order; a throttle
 * pushes the next slot out.
 */
export class Pacer {
  private next = 0;
  private readonly intervalMs: number;

  constructor(
    perSecond: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    // A little slack: the server sees our calls with jitter (signing, the network), and a call
    // landing 1 ms early in its window is a wasted call.
    this.intervalMs = perSecond > 0 ? (1000 / perSecond) * 1.03 + 5 : 0;
  }

  /** Waits for this call's slot. */
  async take(): Promise<void> {
    if (this.intervalMs === 0) return;
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
