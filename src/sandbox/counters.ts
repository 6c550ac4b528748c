/** Call counters per endpoint: tests and benchmarks assert API-call budgets with them. */
export class CallCounters {
  private counts = new Map<string, number>();

  add(endpoint: string, n = 1): void {
    this.counts.set(endpoint, (this.counts.get(endpoint) ?? 0) + n);
  }

  get(endpoint: string): number {
    return this.counts.get(endpoint) ?? 0;
  }

  /** Sum over endpoints whose name matches. */
  sum(match: RegExp): number {
    let total = 0;
    for (const [name, n] of this.counts) if (match.test(name)) total += n;
    return total;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }

  reset(): void {
    this.counts.clear();
  }
}
