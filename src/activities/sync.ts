/**
 * The sync activities: thin glue from the connection workflow to connectors, mappings, the
 * planner and the store. All decisions live in src/sync (pure); this file reads, maps, asks the
 * planner, writes in batches and saves what the planner says, in one transaction per page.
 *
 * Idempotent by construction: a page retried after a crash re-reads from the saved cursor; the
 * planner skips what was committed (hash equality) and re-sends the rest as upserts keyed by the
 * canonical id, so nothing is duplicated.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import { AuthError, RateLimitError, type Connector, type Page, type SourceRecord, type WriteOp, type WriteResult } from '../sync/protocol.js';
import type { CompiledMapping } from '../mapping/index.js';
import type { EntityName } from '../model/index.js';
import type { Store, Connection, Link } from '../store/index.js';
import {
  addCounts, applyWriteResults, canonicalIdFor, canonicalLookups, compareCursor, contentHash, emptyCounts, isCanonicalId, ECOSYNC_NAMESPACE, uuidv5, externalLookups, planPage, readWindow, targetExternalIds,
  type CurrentRecord, type IncomingRecord, type SideName, type StoredLink, type SyncCounts, type SyncPair, type SyncPlan,
  type WriteResults, type DeadLetterInput,
} from '../sync/index.js';
import { ZERO_COUNTERS, type ReplayResult, type SyncCounters, type SyncPageInput, type SyncPageResult, type SyncPlanSummary } from '../../workflows/sync-types.js';
import { coSellEventOf, type CoSellEvent } from '../cosell/crm.js';
import type { RecordUpsert } from '../store/index.js';
import type { SyncActivities } from './sync-contract.js';
import {
  agreedWhereUnchanged, connectorsOf, externalKey, nonRetryable, readByIdsChunked, refExternal, refResolver, setPath, syncPairsOf,
  toSystemFields, upsertKeyOf, type PreparedPair,
} from './sync-glue.js';

export { agreedWhereUnchanged };
export type { CoSellEvent };

export interface SyncDeps {
  store: Store;
  /** Builds a connector for a system from its part of the connection's credentials. */
  connectorFor(system: string, credentials: Record<string, unknown>): Connector;
  /** Loads a compiled mapping file (the caller caches). */
  mappingFor(file: string): Promise<CompiledMapping>;
  /** Wakes a connection's workflow (signal-with-start); used by the Schedule's trigger workflow. */
  wake?(connection: Connection, reason: 'schedule' | 'webhook' | 'manual'): Promise<void>;
  log: Logger;
  /** How long one syncPage activity keeps reading pages before handing back to the workflow. */
  pageBudgetMs?: number;
  /** Re-read this far behind the cursor at the start of a cycle: catches late-visible writes. */
  lookbackMs?: number;
  /** Write calls in flight at once per page. */
  writeConcurrency?: number;
  /**
   * Told about opportunities the CRM asks to co-sell (`requested`: a cloud picked) or that
   * changed while their co-sell goes on (`edited`), once per commit of a page with all of its
   * events. It runs after the page's writes and before its records are saved, so a page that
   * fails is read, planned and announced again: delivery is at least once, and the hook must be
   * idempotent (start the co-sell workflow by its id; a repeated edit is harmless). An error
   * with `retryable: true` (Temporal unreachable) fails the page for that reason; any other
   * error is logged and the page goes on: a co-sell problem never stops the CRM sync.
   */
  coSellEvents?: (events: CoSellEvent[]) => Promise<void>;
}

/** A connection ready to sync: connectors, compiled mappings and planner pairs per entity. */
interface Prepared {
  connection: Connection;
  connectors: Record<SideName, Connector>;
  pairs: Map<string, PreparedPair>;
}

/** A batch planned and not yet written: the plan, the links the writes translate references with, the reads it took. */
interface Planned {
  plan: SyncPlan;
  storedLinks: StoredLink[];
  calls: { read: number };
  /** The agreed records before this batch, by lower-case canonical id. */
  bases: Map<string, Record<string, unknown>>;
}

/** What writing and saving a batch came to. */
interface Committed {
  counts: SyncCounts;
  calls: { read: number; write: number };
  cursor: SyncPlan['cursor'];
  failedKeys: Set<string>;
  committedIds: string[];
}


export function createSyncActivities(deps: SyncDeps): SyncActivities {
  const connectors = new Map<string, { version: string; value: Promise<Record<SideName, Connector>> }>();
  const lookbackMs = deps.lookbackMs ?? 60_000;
  const pageBudgetMs = deps.pageBudgetMs ?? 5_000;
  const limit = pLimit(deps.writeConcurrency ?? 4);

  /**
   * Connectors keep their tokens warm between activities and are rebuilt when the connection
   * changes; mappings are looked up on every call (the loader recompiles an edited file), so a
   * RevOps fix applies to the next page or replay without a restart.
   */
  async function prepare(connectionId: string): Promise<Prepared> {
    const connection = await deps.store.connections.get(connectionId);
    if (!connection) throw nonRetryable('ConfigurationError', `connection ${connectionId} does not exist`);
    let cached = connectors.get(connectionId);
    if (!cached || cached.version !== connection.updatedAt) {
      cached = { version: connection.updatedAt, value: buildConnectors(connection) };
      connectors.set(connectionId, cached);
      cached.value.catch(() => connectors.delete(connectionId));
    }
    return { connection, connectors: await cached.value, pairs: await buildPairs(connection) };
  }

  async function buildConnectors(connection: Connection): Promise<Record<SideName, Connector>> {
    const credentials = (await deps.store.connections.getCredentials(connection.id)) ?? {};
    return connectorsOf(connection, credentials, deps.connectorFor);
  }

  function buildPairs(connection: Connection): Promise<Prepared['pairs']> {
    return syncPairsOf(connection, deps.mappingFor);
  }

  function pairOf(p: Prepared, entity: string) {
    const found = p.pairs.get(entity);
    if (!found) throw nonRetryable('ConfigurationError', `connection ${p.connection.name} does not sync ${entity}`);
    return found;
  }

  /**
   * Runs a batch of records read from `source` through the planner and the writes, and saves
   * the outcome. Returns the counters and the dead letters written.
   */
  async function processRecords(p: Prepared, entity: string, source: SideName, records: SourceRecord[], cursorBefore: { modifiedAt: string; id: string } | null): Promise<Committed> {
    const planned = await planRecords(p, entity, source, records, cursorBefore);
    const committed = await commitPlanned(p, planned);
    return { ...committed, calls: { read: planned.calls.read + committed.calls.read, write: committed.calls.write } };
  }

  /** Looks up, maps and plans a batch of records read from `source`; reads only, writes nothing. */
  async function planRecords(p: Prepared, entity: string, source: SideName, records: SourceRecord[], cursorBefore: { modifiedAt: string; id: string } | null): Promise<Planned> {
    const { pair, mappings } = pairOf(p, entity);
    const target: SideName = source === 'a' ? 'b' : 'a';
    const srcMapping = mappings[source];
    const tgtMapping = mappings[target];
    const calls = { read: 0, write: 0 };

    // 1. Links of the page's records and of the records they reference (one query per object).
    const refIds: Record<string, string[]> = {};
    for (const ref of srcMapping.refs) {
      if (!pair[source].references?.[ref.field]) continue;
      refIds[ref.field] = records.map((r) => r.fields[ref.from]).filter((v): v is string => typeof v === 'string' && v !== '');
    }
    const found: Link[] = [];
    for (const lookup of externalLookups(pair, source, records.map((r) => r.id), refIds)) {
      found.push(...await deps.store.links.findByExternalIds(lookup.system, lookup.object, lookup.externalIds));
    }

    // 2. Forward-map, with references translated through those links.
    const src = pair[source];
    const resolveRef = refResolver(src, found);
    const upsertKey = upsertKeyOf(srcMapping);
    const incoming: IncomingRecord[] = records.map((r) => toIncoming(r, srcMapping, { resolveRef }, upsertKey));

    // 3. Canonical state: records and every link of them and of what they reference.
    const lookups = canonicalLookups(pair, source, incoming, found);
    const storedRecords = await deps.store.records.getMany(lookups.records.entity, lookups.records.canonicalIds);
    const storedLinks: StoredLink[] = [...found];
    for (const l of lookups.links) storedLinks.push(...await deps.store.links.findByCanonicalIds(l.entity, l.canonicalIds));
    const linkIndex = new Map(storedLinks.map((l) => [externalKey(l.system, l.object, l.externalId), l]));

    // A side whose mapping is lossy (three Salesforce stages read as one canonical stage, HubSpot's
    // coarser deal types) shows the agreed value in its own words; that is not an edit.
    const bases = new Map(storedRecords.map((r) => [r.canonicalId.toLowerCase(), r.data]));
    const baseOf = (externalId: string, carried: string | null | undefined, system: string, object: string) => {
      const linked = linkIndex.get(externalKey(system, object, externalId))?.canonicalId;
      const cid = linked ?? (carried && isCanonicalId(carried) ? carried : canonicalIdFor(system, object, externalId));
      return bases.get(cid.toLowerCase());
    };
    for (const [i, r] of incoming.entries()) {
      const base = r.errors?.length || r.deleted ? undefined : baseOf(r.externalId, r.canonicalId, src.system, src.object);
      if (base) incoming[i] = withValues(r, agreedWhereUnchanged(srcMapping, r.values, base));
    }

    // 4. Bidirectional: read the target's current values so its own recent edits are merged, not overwritten.
    let targetCurrent: CurrentRecord[] | undefined;
    if (pair.mode === 'bidirectional') {
      const ids = targetExternalIds(pair, source, storedLinks, [...new Set(incoming.map((r) => r.canonicalId).filter((x): x is string => !!x).concat(lookups.records.canonicalIds))]);
      if (ids.length > 0) {
        const current = await readByIdsChunked(p.connectors[target], pair[target].object, ids, [...tgtMapping.sourceFields]);
        calls.read += Math.ceil(ids.length / 200);
        const tgtResolve = refResolver(pair[target], storedLinks);
        targetCurrent = current.filter((r) => !r.deleted).map((r) => {
          const out = tgtMapping.forward(r.fields, { resolveRef: tgtResolve });
          const link = linkIndex.get(externalKey(pair[target].system, pair[target].object, r.id));
          const base = link ? bases.get(link.canonicalId.toLowerCase()) : undefined;
          const values = out.ok ? (base ? agreedWhereUnchanged(tgtMapping, out.value, base) : out.value) : {};
          return { externalId: r.id, modifiedAt: r.modifiedAt, values, hash: contentHash(values), unresolved: out.unresolved.map((u) => ({ field: u.field, id: u.id })) };
        });
      }
    }

    // 5. Plan.
    const plan = planPage({
      pair, source, records: incoming,
      stored: {
        records: storedRecords.map((r) => ({ canonicalId: r.canonicalId, data: r.data, hash: r.hash, version: r.version, deleted: r.deleted })),
        links: dedupeLinks(storedLinks),
      },
      targetCurrent, cursor: cursorBefore,
    });
    return { plan, storedLinks, calls, bases };
  }

  /** Writes a plan, applies the results and saves them, until nothing retryable is left. */
  async function commitPlanned(p: Prepared, planned: Planned): Promise<Committed> {
    const { storedLinks } = planned;
    const { mappings } = pairOf(p, planned.plan.entity);
    const src = planned.plan.sourceSide;
    const calls = { read: 0, write: 0 };
    let plan: SyncPlan | null = planned.plan;
    // Each outcome counts its plan once (retry plans carry empty counts): summing them is exact.
    let counts = emptyCounts();
    const failedKeys = new Set<string>();
    const committedIds: string[] = [];
    let cursor: SyncPlan['cursor'] = null;
    while (plan) {
      const results = await executeWrites(p, plan, mappings, storedLinks, calls);
      const outcome = applyWriteResults(plan, results);
      if (deps.coSellEvents && plan.entity === 'Opportunity') await announceCoSell(p.connection.id, planned.bases, outcome.records);
      await deps.store.transaction(async (tx) => {
        for (const f of groupRefs(outcome.forgetLinks)) await tx.links.deleteByExternalIds(f.system, f.object, f.externalIds);
        await tx.links.saveMany(outcome.links);
        await tx.records.upsertMany(outcome.records);
        await tx.deadLetters.addMany(outcome.deadLetters);
        await tx.conflicts.openMany(outcome.conflicts);
      });
      for (const d of outcome.deadLetters) failedKeys.add(d.canonicalId ?? d.externalId ?? '');
      for (const l of outcome.links) if (l.system === src.system && l.object === src.object) committedIds.push(l.externalId);
      counts = addCounts(counts, outcome.counts);
      if (outcome.retry) await new Promise((r) => setTimeout(r, 500 * outcome.retry!.attempt));
      cursor = outcome.cursor;
      plan = outcome.retry;
    }
    return { counts, calls, cursor, failedKeys, committedIds };
  }

  /** Tells the co-sell hook what the records about to be saved mean for co-sell (see SyncDeps.coSellEvents). */
  async function announceCoSell(connectionId: string, bases: Planned['bases'], records: readonly RecordUpsert[]): Promise<void> {
    const events: CoSellEvent[] = [];
    for (const r of records) {
      if (r.deleted) continue;
      const event = coSellEventOf(bases.get(r.canonicalId.toLowerCase()), r.data);
      if (event) events.push({ connectionId, opportunityId: r.canonicalId, ...event, opportunity: { ...r.data, id: r.canonicalId } });
    }
    if (events.length === 0) return;
    try {
      await deps.coSellEvents!(events);
    } catch (error) {
      if ((error as { retryable?: unknown } | null)?.retryable === true) throw error;
      deps.log.error({ connectionId, err: error, events: events.map((e) => ({ opportunityId: e.opportunityId, cloud: e.cloud, kind: e.kind })) }, 'co-sell hook failed; the sync goes on');
    }
  }

  /** Reverse-maps the plan's canonical writes, sends them in batches, and gathers per-record results. */
  async function executeWrites(p: Prepared, plan: SyncPlan, mappings: Record<SideName, CompiledMapping>, links: StoredLink[], calls: { write: number }): Promise<WriteResults> {
    const { pair } = pairOf(p, plan.entity);
    const send = async (side: SideName, ops: WriteOp[]): Promise<WriteResult[]> => {
      if (ops.length === 0) return [];
      const mapping = mappings[side];
      const externalRef = refExternal(pair[side], links);
      const results: WriteResult[] = [];
      const ready: WriteOp[] = [];
      for (const op of ops) {
        const systemFields = toSystemFields(mapping, op.fields, externalRef);
        if ('error' in systemFields) results.push({ key: op.key, ok: false, retryable: false, error: systemFields.error });
        else ready.push({ ...op, fields: systemFields.fields });
      }
      results.push(...await inBatches(p.connectors[side], pair[side].object, ready, calls, (c, o, b) => c.write(o, b)));
      return results;
    };
    const [target, source, targetDeletes] = await Promise.all([
      send(plan.target, plan.writes.target),
      send(plan.source, plan.writes.source),
      inBatches(p.connectors[plan.target], plan.targetSide.object, plan.writes.targetDeletes, calls, (c, o, b) => c.delete(o, b)),
    ]);
    return { target, source, targetDeletes };
  }

  async function inBatches<T>(connector: Connector, object: string, ops: T[], calls: { write: number }, call: (c: Connector, object: string, batch: T[]) => Promise<WriteResult[]>): Promise<WriteResult[]> {
    const size = connector.maxBatchSize(object);
    const batches: T[][] = [];
    for (let i = 0; i < ops.length; i += size) batches.push(ops.slice(i, i + size));
    const results = await Promise.all(batches.map((batch) => limit(async () => {
      calls.write++;
      try {
        return await call(connector, object, batch);
      } finally {
        heartbeat();
      }
    })));
    return results.flat();
  }

  return {
    async loadSyncPlan(connectionId: string): Promise<SyncPlanSummary> {
      const p = await prepare(connectionId);
      const c = p.connection;
      return {
        connectionId: c.id, name: c.name, sourceSystem: c.sourceSystem, targetSystem: c.targetSystem,
        bidirectional: c.mode === 'bidirectional',
        pairs: c.objects.map((o) => ({ entity: o.entity, sourceObject: o.sourceObject, targetObject: o.targetObject })),
      };
    },

    async startRun({ connectionId, mode, reasons }) {
      const info = activityInfo();
      const execution = info?.workflowExecution;
      // A retried start returns the run it already made: the id derives from the activity.
      const id = execution ? uuidv5(`${execution.workflowId}:${execution.runId}:${info!.activityId}`, ECOSYNC_NAMESPACE) : undefined;
      const run = await deps.store.runs.start({ connectionId, mode, workflowId: execution?.workflowId, runId: execution?.runId, id });
      deps.log.info({ connectionId, runId: run.id, mode, reasons }, 'sync cycle started');
      return { runId: run.id, startedAt: run.startedAt };
    },

    async finishRun({ runId, status, counters, error }) {
      // finish adds the counters once: a retried finish leaves a finished run alone.
      const run = await deps.store.runs.finish(runId, {
        status, error: error ?? null,
        counters: { read: counters.read, created: counters.created, updated: counters.updated, unchanged: counters.unchanged, deleted: counters.deleted, failed: counters.failed, conflicts: counters.conflicts },
      });
      deps.log.info({ runId, status, counters, error }, 'sync cycle finished');
      return { finishedAt: run.finishedAt ?? new Date().toISOString() };
    },

    async syncPage(input: SyncPageInput): Promise<SyncPageResult> {
      const p = await prepare(input.connectionId);
      const { pair, mappings } = pairOf(p, input.entity);
      const source: SideName = input.direction === 'forward' ? 'a' : 'b';
      const side = pair[source];
      const connector = p.connectors[source];
      const cursorObject = input.mode === 'full' ? `${side.object}#full` : side.object;
      // A full reconcile starts from nothing; its own cursor lets a crash resume it midway.
      if (input.mode === 'full' && input.lookback) await deps.store.cursors.reset(p.connection.id, side.system, cursorObject);
      let cursor = await deps.store.cursors.get(p.connection.id, side.system, cursorObject);
      const readFrom = input.lookback && input.mode === 'incremental' ? readWindow(cursor, lookbackMs) : cursor;
      const counters: SyncCounters = { ...ZERO_COUNTERS };
      const started = Date.now();
      const keysOf = pageKeys(pair, source, mappings[source], upsertKeyOf(mappings[source]));
      let more = false;

      /**
       * Two pages at a time: page N is written and saved while page N+1 is read, mapped, looked up
       * and planned. Writes and saves stay one page after another, so the cursor moves in page
       * order and only past committed pages. Planning reads the store, so N+1 must not be planned
       * against state N is about to change: consecutive pages hold distinct records except
       * lookback re-reads and records edited again between pages, so when N+1 names a record N
       * is still writing (itself, by carried canonical id, or as a reference) N+1 waits for N to
       * commit first, and is planned exactly as if the pages ran in turn.
       */
      let inFlight: { done: Promise<void>; keys: Set<string> } | null = null;
      // Where the store's cursor will be once every page handed to a commit has committed.
      let reached = cursor;
      const commitPage = async (planned: Planned | null, after: typeof cursor): Promise<void> => {
        if (planned) {
          const result = await commitPlanned(p, planned);
          addInto(counters, result.counts);
          counters.writeCalls += result.calls.write;
        }
        if (after && after !== cursor) {
          await deps.store.cursors.set(p.connection.id, side.system, cursorObject, after);
          cursor = after;
        }
        heartbeat({ entity: input.entity, direction: input.direction, cursor });
      };
      let iterator: AsyncIterator<Page> | undefined;
      try {
        iterator = connector.read(side.object, { cursor: readFrom, fields: [...mappings[source].sourceFields], includeDeleted: true })[Symbol.asyncIterator]();
        for (;;) {
          const next = await iterator.next();
          counters.readCalls++;
          if (next.done) break;
          const page = next.value;
          let planned: Planned | null = null;
          let keys = new Set<string>();
          if (page.records.length > 0) {
            keys = keysOf.own(page.records);
            if (inFlight && keysOf.named(page.records).some((k) => inFlight!.keys.has(k))) await inFlight.done;
            planned = await planRecords(p, input.entity, source, page.records, reached);
            counters.readCalls += planned.calls.read;
          }
          // The connector's cursor covers records the planner skipped too; never move backwards.
          const after = page.cursor && compareCursor(page.cursor, reached) > 0 ? page.cursor : reached;
          reached = after;
          if (inFlight) await inFlight.done;
          const done = commitPage(planned, after);
          // Awaited before the next page commits or the activity returns; until then a failure
          // must not surface as an unhandled rejection.
          done.catch(() => undefined);
          inFlight = { done, keys };
          if (Date.now() - started > pageBudgetMs) {
            more = true;
            await iterator.return?.();
            break;
          }
        }
        if (inFlight) await inFlight.done;
      } catch (error) {
        // Let the page in flight settle first; the earlier page's failure is the one to report.
        const earlier = inFlight ? await inFlight.done.then(() => undefined, (e: unknown) => e) : undefined;
        await iterator?.return?.().catch(() => undefined);
        throw asActivityFailure(earlier ?? error);
      }
      return { counters, more, cursor };
    },

    async wakeConnection({ connectionId, reason }) {
      const connection = await deps.store.connections.get(connectionId);
      if (!connection) throw nonRetryable('ConfigurationError', `connection ${connectionId} does not exist`);
      if (!connection.enabled) return;
      if (!deps.wake) throw nonRetryable('ConfigurationError', 'this worker cannot wake connections (no Temporal client)');
      await deps.wake(connection, reason === 'start' || reason === 'replay' ? 'manual' : reason);
    },

    /**
     * Applies a resolved conflict: the chosen value goes to both systems and becomes the agreed
     * value, so the next read of either side finds nothing to merge for that field.
     */
    async applyConflictResolution({ connectionId, conflictId }): Promise<{ written: string[] }> {
      const conflict = await deps.store.conflicts.get(conflictId);
      if (!conflict || conflict.connectionId !== connectionId) throw nonRetryable('ConfigurationError', `no conflict ${conflictId} on this connection`);
      if (conflict.status !== 'resolved') throw nonRetryable('ConfigurationError', `conflict ${conflictId} is not resolved yet`);
      const p = await prepare(connectionId);
      const { pair, mappings } = pairOf(p, conflict.entity);
      const [record] = await deps.store.records.getMany(conflict.entity, [conflict.canonicalId]);
      const links = await deps.store.links.findByCanonicalIds(conflict.entity, [conflict.canonicalId]);
      const value = conflict.resolvedValue;
      const written: string[] = [];
      for (const side of ['a', 'b'] as const) {
        const link = links.find((l) => l.system === pair[side].system && l.object === pair[side].object && l.lastHash !== 'deleted');
        if (!link || !pair[side].writeFields.includes(conflict.field)) continue;
        const fields = toSystemFields(mappings[side], setPath({}, conflict.field, value), refExternal(pair[side], links));
        if ('error' in fields) throw nonRetryable('MappingError', fields.error.message);
        const [result] = await p.connectors[side].write(pair[side].object, [{ key: conflict.canonicalId, externalId: link.externalId, fields: fields.fields }]);
        if (!result.ok) throw ApplicationFailure.create({ type: result.retryable ? 'WriteFailed' : 'WriteRejected', message: `${pair[side].system} refused the resolved value: ${result.error.message}`, nonRetryable: !result.retryable });
        written.push(pair[side].system);
      }
      if (record) {
        const data = setPath(structuredClone(record.data), conflict.field, value);
        await deps.store.records.upsertMany([{ entity: conflict.entity, canonicalId: conflict.canonicalId, data, hash: contentHash(data), deleted: record.deleted }]);
      }
      return { written };
    },

    /**
     * Runs open dead letters again after a fix: re-reads each record from the system it came
     * from (its current state, not the stale payload) and sends it through the same pipeline.
     * Letters whose record now goes through are closed as replayed; the others stay open with
     * one more attempt and the newest reason.
     */
    async replayDeadLetters({ connectionId, ids }): Promise<ReplayResult> {
      const p = await prepare(connectionId);
      const letters = ids?.length
        ? (await Promise.all(ids.map((id) => deps.store.deadLetters.get(id)))).filter((l): l is NonNullable<typeof l> => !!l && l.status === 'open' && l.connectionId === connectionId)
        : await deps.store.deadLetters.list({ connectionId, status: 'open', limit: 10_000 });
      const result: ReplayResult = { replayed: 0, stillFailing: 0, gone: 0 };
      // Group by the record's source side: read letters name it; write letters carry it in the payload.
      const groups = new Map<string, { entity: string; source: SideName; letters: typeof letters; ids: string[] }>();
      for (const letter of letters) {
        const located = locate(p, letter);
        if (!located) { result.gone++; await deps.store.deadLetters.discard([letter.id]); continue; }
        const key = `${located.entity}\u0000${located.source}`;
        const g = groups.get(key) ?? { entity: located.entity, source: located.source, letters: [], ids: [] };
        g.letters.push(letter);
        g.ids.push(located.externalId);
        groups.set(key, g);
      }
      for (const g of groups.values()) {
        const { pair, mappings } = pairOf(p, g.entity);
        const records = await readByIdsChunked(p.connectors[g.source], pair[g.source].object, [...new Set(g.ids)], [...mappings[g.source].sourceFields]);
        const present = new Set(records.map((r) => r.id));
        const outcome = records.length > 0 ? await processRecords(p, g.entity, g.source, records, null) : { failedKeys: new Set<string>(), committedIds: [] as string[] };
        const committed = new Set(outcome.committedIds);
        for (const [i, letter] of g.letters.entries()) {
          const externalId = g.ids[i];
          if (!present.has(externalId)) { result.gone++; await deps.store.deadLetters.discard([letter.id]); continue; }
          if (committed.has(externalId)) { result.replayed++; await deps.store.deadLetters.markReplayed([letter.id]); }
          else result.stillFailing++;
        }
        heartbeat();
      }
      return result;
    },
  };
}


/**
 * The keys that tie one page's planning to another's writes. own: the records a page writes (its
 * ids and the canonical ids they carry). named: everything planning a page reads about, which
 * adds the records its references point at. Ids and canonical ids share one set: a coincidence
 * across kinds only costs a wait.
 */
function pageKeys(pair: SyncPair, source: SideName, mapping: CompiledMapping, upsertKey: string | undefined) {
  const refFrom = mapping.refs.filter((ref) => pair[source].references?.[ref.field]).map((ref) => ref.from);
  const own = (records: readonly SourceRecord[]): string[] => {
    const out: string[] = [];
    for (const r of records) {
      out.push(r.id);
      const carried = upsertKey ? r.fields[upsertKey] : undefined;
      if (typeof carried === 'string' && carried !== '') out.push(carried.toLowerCase());
    }
    return out;
  };
  return {
    own: (records: readonly SourceRecord[]) => new Set(own(records)),
    named: (records: readonly SourceRecord[]): string[] => {
      const out = own(records);
      for (const r of records) {
        for (const from of refFrom) {
          const v = r.fields[from];
          if (typeof v === 'string' && v !== '') out.push(v);
        }
      }
      return out;
    },
  };
}

/** Which pair and source side a dead letter's record belongs to, and its id there. */
function locate(p: Prepared, letter: { direction: string; system: string; object: string; externalId: string | null; payload: unknown }): { entity: string; source: SideName; externalId: string } | undefined {
  for (const [entity, { pair }] of p.pairs) {
    for (const side of ['a', 'b'] as const) {
      if (pair[side].system !== letter.system || pair[side].object !== letter.object) continue;
      if (letter.direction === 'read') return letter.externalId ? { entity, source: side, externalId: letter.externalId } : undefined;
      // A write letter names the system that rejected the write; the record came from the other side.
      const sourceId = (letter.payload as { source?: { externalId?: string } } | null)?.source?.externalId;
      return sourceId ? { entity, source: side === 'a' ? 'b' : 'a', externalId: sourceId } : undefined;
    }
  }
  return undefined;
}

function toIncoming(r: SourceRecord, mapping: CompiledMapping, ctx: { resolveRef: (e: EntityName, id: string) => string | undefined }, upsertKey: string | undefined): IncomingRecord {
  const base = { externalId: r.id, modifiedAt: r.modifiedAt, deleted: r.deleted, payload: r.fields, canonicalId: upsertKey ? (r.fields[upsertKey] as string | null | undefined) ?? null : null };
  if (r.deleted) return { ...base, values: {}, hash: contentHash({}) };
  const out = mapping.forward(r.fields, ctx);
  if (!out.ok) return { ...base, values: {}, hash: contentHash({}), errors: out.errors };
  const checked = mapping.validate(out.value);
  const errors = checked.ok ? undefined : checked.errors;
  return { ...base, values: out.value, hash: contentHash(out.value), errors, unresolved: out.unresolved.map((u) => ({ field: u.field, id: u.id })) };
}


function withValues(r: IncomingRecord, values: Record<string, unknown>): IncomingRecord {
  return values === r.values ? r : { ...r, values, hash: contentHash(values) };
}









function dedupeLinks(links: readonly StoredLink[]): StoredLink[] {
  const seen = new Map<string, StoredLink>();
  for (const l of links) seen.set(externalKey(l.system, l.object, l.externalId), l);
  return [...seen.values()];
}

function groupRefs(refs: readonly { system: string; object: string; externalId: string }[]) {
  const groups = new Map<string, { system: string; object: string; externalIds: string[] }>();
  for (const r of refs) {
    const key = `${r.system}\u0000${r.object}`;
    const g = groups.get(key) ?? { system: r.system, object: r.object, externalIds: [] };
    g.externalIds.push(r.externalId);
    groups.set(key, g);
  }
  return [...groups.values()];
}


function addInto(counters: SyncCounters, counts: SyncCounts): void {
  counters.read += counts.read;
  counters.created += counts.created;
  counters.updated += counts.updated;
  counters.unchanged += counts.unchanged;
  counters.deleted += counts.deleted;
  counters.failed += counts.failed;
  counters.conflicts += counts.conflicts;
}


function activityInfo() {
  try {
    return Context.current().info;
  } catch {
    return undefined;
  }
}

function heartbeat(details?: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Outside an activity (replays from the CLI, tests): nothing to tell.
  }
}

/**
 * Connector errors → Temporal failures: a daily limit waits for its window (the workflow sleeps),
 * bad credentials need a person; everything else is retried by the activity's retry policy.
 */
function asActivityFailure(error: unknown): unknown {
  if (error instanceof RateLimitError && error.daily) {
    return nonRetryable('DailyRateLimit', `${error.message}; retry after ${error.retryAfterMs} ms`);
  }
  if (error instanceof AuthError) return nonRetryable('AuthError', error.message);
  return error;
}

export type { DeadLetterInput };
