import pg from 'pg';
import { processCpuMs } from './figures.js';

/**
 * CPU time PostgreSQL spent serving one application_name: its backends are found in
 * pg_stat_activity and their CPU read from /proc, sampled every 250 ms (a backend that comes and
 * goes between samples is missed; a pool keeps its connections for the length of a cycle).
 */
export class PostgresCpu {
  private seen = new Map<number, { first: number; last: number }>();
  private timer?: NodeJS.Timeout;
  private sampling?: Promise<void>;

  private constructor(private readonly client: pg.Client, private readonly applicationName: string) {}

  static async open(url: string, applicationName: string): Promise<PostgresCpu> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return new PostgresCpu(client, applicationName);
  }

  private async sample(): Promise<void> {
    const { rows } = await this.client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [this.applicationName]);
    for (const { pid } of rows) {
      const ms = await processCpuMs(pid);
      if (ms === undefined) continue;
      const s = this.seen.get(pid);
      if (s) s.last = ms;
      else this.seen.set(pid, { first: ms, last: ms });
    }
  }

  start(): void {
    this.seen.clear();
    const tick = () => {
      this.sampling = this.sample().catch(() => undefined);
      void this.sampling.then(() => { if (this.timer) this.timer = setTimeout(tick, 250); });
    };
    this.timer = setTimeout(tick, 0);
  }

  /** CPU ms of the application's backends since start(). */
  async stop(): Promise<number> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.sampling;
    await this.sample().catch(() => undefined);
    let total = 0;
    for (const s of this.seen.values()) total += s.last - s.first;
    return Math.round(total);
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.client.end().catch(() => undefined);
  }
}
