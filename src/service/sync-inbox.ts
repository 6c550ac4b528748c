import type { Logger } from 'pino';
import type { SyncRequest } from '../../workflows/sync-types.js';
import type { Connection, InboxItem, Store } from '../store/index.js';
import { newRequest, requestSync, type SyncControlOptions } from './sync-control.js';

/**
 * Hands the webhook inbox's requests to the connections' workflows. A webhook route stores its
 * request and pokes the dispatcher; the dispatcher claims every waiting row, sends each
 * connection's requests as one signal (their union: see mergeRequests) and deletes the rows once
 * Temporal holds the signal. Rows that arrive meanwhile go in the next round, at once: under load
 * a signal carries many webhooks. A failed signal gives its rows back and is tried again after a
 * pause that grows to maxPauseMs; rows a dead process claimed are taken again when their lease
 * lapses. It also polls every pollMs, for rows other processes left.
 */
export interface InboxDispatcherDeps {
  store: Pick<Store, 'inbox'>;
  sync: SyncControlOptions;
  /** The connection a row names (cached by the caller); null when it is gone. */
  connection(id: string): Promise<Connection | null>;
  log: Pick<Logger, 'warn' | 'error'>;
  pollMs?: number;
  leaseMs?: number;
  maxPauseMs?: number;
}

/** Rows claimed per round. */
const CLAIM = 1_000;

export class InboxDispatcher {
  private running?: Promise<void>;
  private again = false;
  private failures = 0;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly deps: InboxDispatcherDeps) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Rows were added: send them now (or right after the round in flight). */
  poke(): void {
    if (this.stopped || this.failures > 0) return;
    if (this.running) this.again = true;
    else this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (!this.stopped) this.timer = setTimeout(() => this.run(), ms);
  }

  private run(): void {
    if (this.running || this.stopped) return;
    this.running = this.round().then((sent) => {
      this.failures = 0;
      return sent;
    }, (error: unknown) => {
      this.failures++;
      this.deps.log.warn({ err: error, attempt: this.failures }, 'webhook inbox: could not hand requests to the sync workflows; trying again');
      return false;
    }).then((sent) => {
      this.running = undefined;
      const more = this.again || sent;
      this.again = false;
      const pause = this.failures > 0 ? Math.min(this.deps.maxPauseMs ?? 5_000, 100 * 2 ** (this.failures - 1)) : this.deps.pollMs ?? 1_000;
      if (more && this.failures === 0) this.run();
      else this.schedule(pause);
    });
  }

  /** One round: claims what waits, signals per connection. Resolves true when it sent something. */
  private async round(): Promise<boolean> {
    const items = await this.deps.store.inbox.claim(CLAIM, this.deps.leaseMs ?? 30_000);
    if (items.length === 0) return false;
    const byConnection = new Map<string, InboxItem[]>();
    for (const item of items) (byConnection.get(item.connectionId) ?? byConnection.set(item.connectionId, []).get(item.connectionId)!).push(item);
    const outcomes = await Promise.allSettled([...byConnection].map(async ([id, list]) => {
      const seqs = list.map((i) => i.seq);
      try {
        const connection = await this.deps.connection(id);
        // A connection disabled since: its requests are dropped, as the route drops them.
        if (connection?.enabled) await requestSync(this.deps.sync, connection, mergeRequests(list.map((i) => i.request as Omit<SyncRequest, 'id'>)));
      } catch (error) {
        await this.deps.store.inbox.release(seqs).catch(() => undefined);
        throw error;
      }
      await this.deps.store.inbox.done(seqs);
    }));
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    return items.length === CLAIM;
  }
}

/**
 * One request asking for what all of them ask: every entity (or source) any names — or all of
 * them when one names none — full when one is, from the earliest receipt.
 */
export function mergeRequests(parts: ReadonlyArray<Omit<SyncRequest, 'id'>>): SyncRequest {
  const union = (lists: Array<string[] | undefined>) => (lists.every((l) => l !== undefined) ? [...new Set(lists.flat())] : undefined);
  const reasons = new Set(parts.map((p) => p.reason));
  const entities = union(parts.map((p) => p.entities));
  const sources = union(parts.map((p) => p.sources));
  const receivedAt = parts.map((p) => p.receivedAt).filter((t): t is string => t !== undefined).sort()[0];
  return newRequest(reasons.size === 1 ? parts[0].reason : 'manual', {
    ...(parts.some((p) => p.full) ? { full: true } : {}),
    ...(entities ? { entities } : {}),
    ...(sources ? { sources } : {}),
    ...(receivedAt ? { receivedAt } : {}),
  });
}
