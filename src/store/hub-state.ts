/**
 * The sync engine's state port on the store: one connection's links, records, cursors, dead
 * letters and conflicts, and one transaction per commit.
 */
import type { Commit, CommitResult, HubState, OpenDeadLetter } from '../sync/ports.js';
import type { StoreApi } from './index.js';

interface Transactional extends StoreApi {
  transaction<T>(fn: (tx: StoreApi) => Promise<T>): Promise<T>;
}

/** Open letters replayed at once, at most (a replay of everything takes the newest this many). */
const REPLAY_LIMIT = 10_000;

export function hubState(store: Transactional, connectionId: string): HubState {
  return {
    linksByExternalIds: (instance, object, externalIds) => store.links.findByExternalIds(connectionId, instance, object, externalIds),
    linksByCanonicalIds: (entity, canonicalIds) => store.links.findByCanonicalIds(connectionId, entity, canonicalIds),
    records: (entity, canonicalIds) => store.records.getMany(connectionId, entity, canonicalIds),
    cursor: (instance, object) => store.cursors.get(connectionId, instance, object),
    async saveCursor(instance, object, cursor) {
      if (cursor === null) await store.cursors.reset(connectionId, instance, object);
      else await store.cursors.set(connectionId, instance, object, cursor);
    },

    /**
     * Records first: one whose version moved on since it was planned is 'stale', and nothing of
     * its own (links, conflicts) is saved with it; the engine plans it again.
     */
    commit(commit: Commit): Promise<CommitResult> {
      return store.transaction(async (tx) => {
        const written = await tx.records.upsertMany(connectionId, commit.records);
        const stale = new Set(written.filter((w) => w.outcome === 'stale').map((w) => w.canonicalId.toLowerCase()));
        const fresh = <T extends { canonicalId: string }>(rows: readonly T[]) => (stale.size === 0 ? rows : rows.filter((r) => !stale.has(r.canonicalId.toLowerCase())));
        const forget = new Map<string, { instance: string; object: string; ids: string[] }>();
        for (const f of fresh(commit.forgetLinks)) {
          const key = `${f.instance}\u0000${f.object}`;
          const group = forget.get(key) ?? { instance: f.instance, object: f.object, ids: [] };
          group.ids.push(f.externalId);
          forget.set(key, group);
        }
        for (const g of forget.values()) await tx.links.deleteByExternalIds(connectionId, g.instance, g.object, g.ids);
        await tx.links.saveMany(connectionId, fresh(commit.links));
        await tx.deadLetters.addMany(commit.deadLetters.map(({ retryable: _retryable, ...d }) => ({ connectionId, ...d })));
        await tx.conflicts.openMany(fresh(commit.conflicts).map((c) => ({
          connectionId, entity: c.entity, canonicalId: c.canonicalId, field: c.field, baseValue: c.baseValue, sides: c.sides,
        })));
        return { stale: [...stale] };
      });
    },

    async openDeadLetters(ids): Promise<OpenDeadLetter[]> {
      const letters = ids?.length
        ? (await Promise.all(ids.map((id) => store.deadLetters.get(id)))).filter((l) => l !== null)
        : await store.deadLetters.list({ connectionId, status: 'open', limit: REPLAY_LIMIT });
      return letters.filter((l) => l.status === 'open' && l.connectionId === connectionId);
    },
    async closeDeadLetters(ids, status) {
      if (status === 'replayed') await store.deadLetters.markReplayed(ids);
      else await store.deadLetters.discard(ids);
    },
  };
}
