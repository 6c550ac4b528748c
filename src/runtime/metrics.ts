/**
 * ecosync's metrics, in the Prometheus text format through prom-client: what an admin puts on a
 * dashboard. Each process counts what it does itself and serves its own /metrics:
 *
 * - the worker: records read, written and failed per connection, system and object; conflicts
 *   found; calls, throttles (429s), retries and give-ups per external system; sync cycle duration;
 *   webhook received → written latency; and the Temporal SDK's own worker metrics;
 * - the API: webhooks received; dead letters and conflicts open (read from the store at each
 *   scrape); co-sells, invitations and private offers by cloud and status (from Temporal
 *   visibility, cached).
 *
 * `ecosync up` runs both in one process and serves everything on the API's /metrics.
 */
import { createServer } from 'node:net';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { onCall } from '../../connectors/shared/calls.js';
import { onGiveUp, onRetry } from '../../connectors/shared/retry.js';
import type { SyncMetrics } from '../activities/metered.js';
import { countCoSells, type CoSellCount } from '../service/cosell-control.js';
import { countOffers, type OfferCount } from '../service/offer-control.js';
import type { Store } from '../store/index.js';

export interface HubMetrics extends SyncMetrics {
  registry: Registry;
  /** Stops counting the process's calls and retries into this registry. */
  close(): void;
}

/** From a webhook's arrival to its record written: the targets are p50 ≤ 100 ms and p99 ≤ 500 ms. */
const LATENCY_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** A cycle: a webhook's one record to a full reconcile of a large org. */
const CYCLE_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** A registry with the process's metrics (prefixed ecosync_) and every counter the hub adds to. */
export function createMetrics(): HubMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry, prefix: 'ecosync_' });

  const system = ['system'] as const;
  const systemReason = ['system', 'reason'] as const;
  const calls = new Counter({ name: 'ecosync_api_calls_total', help: 'Requests sent to each external system, each retry included', labelNames: system, registers });
  const throttled = new Counter({ name: 'ecosync_api_throttled_total', help: 'Answers in which a system asked to be called later (429, ThrottlingException), by the limit it named', labelNames: systemReason, registers });
  const retries = new Counter({ name: 'ecosync_api_retries_total', help: 'Calls sent again after the wait the system asked for', labelNames: systemReason, registers });
  const gaveUp = new Counter({ name: 'ecosync_api_gave_up_total', help: 'Calls still throttled after their last attempt, or asked to wait longer than ecosync waits in process: Temporal retries the activity later', labelNames: systemReason, registers });
  const listening = [
    onCall((e) => calls.inc({ system: e.system })),
    onRetry((e) => {
      throttled.inc({ system: e.system, reason: e.reason });
      retries.inc({ system: e.system, reason: e.reason });
    }),
    onGiveUp((e) => {
      throttled.inc({ system: e.system, reason: e.reason });
      gaveUp.inc({ system: e.system, reason: e.reason });
    }),
  ];

  const record = ['connection', 'system', 'object'] as const;
  return {
    registry,
    recordsRead: new Counter({ name: 'ecosync_records_read_total', help: 'Records read from a system as changes (the sync\'s reads, not the look-ups before a write)', labelNames: record, registers }),
    recordsWritten: new Counter({ name: 'ecosync_records_written_total', help: 'Records a system took from ecosync, by operation (created, updated, deleted)', labelNames: [...record, 'operation'], registers }),
    recordsFailed: new Counter({ name: 'ecosync_records_failed_total', help: 'Records that went to dead letters: read (could not be mapped) or write (the system refused them)', labelNames: [...record, 'direction'], registers }),
    conflicts: new Counter({ name: 'ecosync_conflicts_total', help: 'Conflicts the sync found: a field changed in several systems that no rule decides (again when it changes again)', labelNames: ['connection', 'entity'], registers }),
    syncCycleSeconds: new Histogram({ name: 'ecosync_sync_cycle_seconds', help: 'Duration of sync cycles', labelNames: ['connection', 'mode', 'status'], buckets: CYCLE_BUCKETS, registers }),
    webhookToWrittenSeconds: new Histogram({
      name: 'ecosync_webhook_to_written_seconds',
      help: 'From a webhook reaching the API to the end of the sync cycle that served it, every write of that cycle done',
      labelNames: ['connection'], buckets: LATENCY_BUCKETS, registers,
    }),
    close() {
      for (const l of listening) l.dispose();
    },
  };
}

/** Gauges read from the store at each scrape: dead letters and conflicts waiting for someone. */
export function watchStore(metrics: HubMetrics, store: Store, log: Logger): void {
  const registers = [metrics.registry];
  new Gauge({
    name: 'ecosync_dead_letters_open', help: 'Records waiting in dead letters for a fix and a replay', labelNames: ['connection', 'system', 'object', 'direction'], registers,
    async collect() {
      this.reset();
      const rows = await counted(log, 'dead letters', () => store.db.query<{ connection: string; system: string; object: string; direction: string; open: number }>(
        `SELECT c.name AS connection, d.system, d.object, d.direction, count(*)::int AS open
         FROM dead_letters d JOIN connections c ON c.id = d.connection_id
         WHERE d.status = 'open' GROUP BY c.name, d.system, d.object, d.direction`,
      ));
      for (const { open, ...labels } of rows) this.set(labels, open);
    },
  });
  new Gauge({
    name: 'ecosync_conflicts_open', help: 'Conflicts waiting for a person to choose a value', labelNames: ['connection', 'entity'], registers,
    async collect() {
      this.reset();
      const rows = await counted(log, 'conflicts', () => store.db.query<{ connection: string; entity: string; open: number }>(
        `SELECT c.name AS connection, x.entity, count(*)::int AS open
         FROM conflicts x JOIN connections c ON c.id = x.connection_id
         WHERE x.status = 'open' GROUP BY c.name, x.entity`,
      ));
      for (const { open, ...labels } of rows) this.set(labels, open);
    },
  });
}

/**
 * Co-sells (ours, to a cloud) and invitations (a cloud's, to us) by cloud and status, from
 * Temporal visibility; the counts are kept `cacheMs` so frequent scrapes cost Temporal little.
 */
export function watchCoSells(metrics: HubMetrics, client: Client, log: Logger, cacheMs = 30_000): void {
  let cached: { at: number; counts: Promise<CoSellCount[]> } | undefined;
  const counts = (): Promise<CoSellCount[]> => {
    if (!cached || Date.now() - cached.at >= cacheMs) {
      const entry = { at: Date.now(), counts: countCoSells({ client }) };
      entry.counts.catch(() => { if (cached === entry) cached = undefined; });
      cached = entry;
    }
    return cached.counts;
  };
  const gauge = (name: string, help: string, kind: CoSellCount['kind']) => new Gauge({
    name, help, labelNames: ['cloud', 'status'], registers: [metrics.registry],
    async collect() {
      this.reset();
      for (const c of await counted(log, 'co-sells', counts)) if (c.kind === kind) this.set({ cloud: c.cloud, status: c.status }, c.count);
    },
  });
  gauge('ecosync_cosells', 'Co-sells ecosync sent or is preparing for a cloud, by status (running or ended)', 'outbound');
  gauge('ecosync_cosell_invitations', 'Opportunities the clouds shared with us, by status (running or ended)', 'inbound');
}

/** Private offers by cloud and status, from Temporal visibility, kept `cacheMs` as co-sells are. */
export function watchOffers(metrics: HubMetrics, client: Client, log: Logger, cacheMs = 30_000): void {
  let cached: { at: number; counts: Promise<OfferCount[]> } | undefined;
  const counts = (): Promise<OfferCount[]> => {
    if (!cached || Date.now() - cached.at >= cacheMs) {
      const entry = { at: Date.now(), counts: countOffers({ client }) };
      entry.counts.catch(() => { if (cached === entry) cached = undefined; });
      cached = entry;
    }
    return cached.counts;
  };
  new Gauge({
    name: 'ecosync_offers', help: 'Private offers on the marketplaces, by cloud and status (running or ended)', labelNames: ['cloud', 'status'], registers: [metrics.registry],
    async collect() {
      this.reset();
      for (const c of await counted(log, 'private offers', counts)) this.set({ cloud: c.cloud, status: c.status }, c.count);
    },
  });
}

/** Rows for a gauge; none (the gauge left empty, the reason logged) when the source does not answer. */
async function counted<T>(log: Logger, what: string, read: () => Promise<T[]>): Promise<T[]> {
  try {
    return await read();
  } catch (error) {
    log.warn({ err: error }, `metrics: could not count ${what}`);
    return [];
  }
}

/** Another exporter's metrics (the Temporal SDK's), fetched at each scrape; nothing when it does not answer. */
export function scrapeOf(url: string, log: Logger): () => Promise<string> {
  return async () => {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return await res.text();
      log.warn({ url, status: res.status }, 'metrics: the Temporal SDK\'s exporter refused the scrape');
    } catch (error) {
      log.warn({ url, err: error }, 'metrics: the Temporal SDK\'s exporter did not answer');
    }
    return '';
  };
}

/** A TCP port free on 127.0.0.1 now (the system picks it), for the Temporal SDK's exporter to bind. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
