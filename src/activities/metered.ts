/**
 * What the sync does, counted where it happens: records read from and written to each system go
 * through the connection's connectors, records that failed and conflicts found go through the
 * commit that saves them. The connectors and the state port are wrapped once per connection,
 * so the engine counts nothing itself.
 */
import type { Counter, Histogram } from 'prom-client';
import type { Connector, HubState, WriteResult } from '../sync/index.js';

/** The counters the sync activities add to (src/runtime/metrics.ts defines them). */
export interface SyncMetrics {
  recordsRead: Counter<'connection' | 'system' | 'object'>;
  recordsWritten: Counter<'connection' | 'system' | 'object' | 'operation'>;
  recordsFailed: Counter<'connection' | 'system' | 'object' | 'direction'>;
  conflicts: Counter<'connection' | 'entity'>;
  syncCycleSeconds: Histogram<'connection' | 'mode' | 'status'>;
  webhookToWrittenSeconds: Histogram<'connection'>;
}

/** A system of a connection: its name there (as dead letters and conflicts name it). */
export interface SystemLabels {
  connection: string;
  system: string;
}

/** The connector, counting the records each read hands out and each write or delete the system took. */
export function meteredConnector(connector: Connector, labels: SystemLabels, metrics: SyncMetrics): Connector {
  const countWrites = (object: string, results: WriteResult[], operationOf: (r: WriteResult & { ok: true }) => string) => {
    const counts = new Map<string, number>();
    for (const r of results) {
      if (!r.ok) continue;
      const operation = operationOf(r);
      counts.set(operation, (counts.get(operation) ?? 0) + 1);
    }
    for (const [operation, n] of counts) metrics.recordsWritten.inc({ ...labels, object, operation }, n);
  };
  return {
    system: connector.system,
    check: () => connector.check(),
    identify: () => connector.identify(),
    discover: () => connector.discover(),
    async *read(object, options) {
      for await (const page of connector.read(object, options)) {
        if (page.records.length > 0) metrics.recordsRead.inc({ ...labels, object }, page.records.length);
        yield page;
      }
    },
    readByIds: (object, ids, fields) => connector.readByIds(object, ids, fields),
    async write(object, ops) {
      const results = await connector.write(object, ops);
      countWrites(object, results, (r) => (r.created ? 'created' : 'updated'));
      return results;
    },
    async delete(object, ops) {
      const results = await connector.delete(object, ops);
      countWrites(object, results, () => 'deleted');
      return results;
    },
    maxBatchSize: (object) => connector.maxBatchSize(object),
    close: () => connector.close?.() ?? Promise.resolve(),
  };
}

/** The connection's state, counting the dead letters and conflicts each commit saves. */
export function meteredState(state: HubState, connection: string, metrics: SyncMetrics): HubState {
  return {
    ...state,
    async commit(commit) {
      const result = await state.commit(commit);
      for (const d of commit.deadLetters) metrics.recordsFailed.inc({ connection, system: d.system, object: d.object, direction: d.direction });
      // A stale record's conflicts are not saved: it is planned again.
      const stale = new Set(result.stale.map((id) => id.toLowerCase()));
      for (const c of commit.conflicts) if (!stale.has(c.canonicalId.toLowerCase())) metrics.conflicts.inc({ connection, entity: c.entity });
      return result;
    },
  };
}
