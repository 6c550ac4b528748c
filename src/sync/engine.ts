/**
 * The sync engine: records read from any system of a hub (or written by ecosync itself) go
 * through one pipeline — look up what is known, map, read what the other systems show now, plan,
 * write in batches, retry what may succeed later, save one commit — and reach every other
 * system once. It talks to the world only through its ports (connectors, the hub's state, a
 * clock), so the activities that run it are thin and the property tests run this very code on
 * in-memory ports.
 *
 * Idempotent by construction: a page retried after a crash re-reads from the saved cursor; the
 * planner skips what was committed (hash equality) and sends the rest again as upserts keyed by
 * the canonical id, so nothing is duplicated.
 */
import pLimit from 'p-limit';
import type { z } from 'zod';
import { ENTITIES, type EntityName } from '../model/index.js';
import { compareCursor, readWindow, type Cursor } from './cursor.js';
import { canRead, entityOf, memberOf, type Hub, type HubEntity, type Member } from './hub.js';
import { canonicalIdFor, isCanonicalId } from './ids.js';
import {
  canonicalLookups, currentWanted, ECOSYNC_ORIGIN, externalLookups, planPage,
  type CurrentRecord, type IncomingRecord, type SyncPlan, type WriteForecast,
} from './plan.js';
import {
  addCounts, emptyCounts, TOMBSTONE_HASH,
  type DeadLetterInput, type HubState, type StoredLink, type StoredRecord, type SyncCounts,
} from './ports.js';
import type { Connector, DeleteOp, SourceRecord, WriteOp, WriteResult } from './protocol.js';
import { agreedWhereShown, agreedWhereUnchanged, references, renderWrite, setPath, toCurrent } from './render.js';
import { applyWriteResults, DEFAULT_MAX_ATTEMPTS, opsOf, type SyncOutcome, type WriteResults } from './results.js';
import { contentHash, readPath, toFields, toNested } from './values.js';

/** A committed change of a canonical record, as hooks see it. */
export interface RecordChange {
  canonicalId: string;
  /** The agreed record before (undefined for a record ecosync did not know). */
  before: Record<string, unknown> | undefined;
  after: Record<string, unknown>;
  deleted: boolean;
}

export interface EngineDeps {
  state: HubState;
  /** The connector of a hub system, by its name in the connection (the caller keeps one per connection). */
  connector(systemName: string): Connector;
  /**
   * Told about the records a batch is about to save, after the batch's writes: a batch that
   * fails later is planned and told again, so delivery is at least once.
   */
  beforeCommit?(entity: HubEntity, origin: string, changes: RecordChange[]): Promise<void>;
  /** Waits before a retry of writes a system could not take yet. */
  sleep?(ms: number): Promise<void>;
  /** Called between batches and pages: a long read or write shows it is alive. */
  heartbeat?(details?: unknown): void;
  /** The time ecosync's own writes are made at (ISO 8601). */
  now?(): string;
  /** Write calls in flight at once per batch (default 4). */
  writeConcurrency?: number;
  /** Rounds of writes for records a system could not take yet (default 3). */
  maxAttempts?: number;
  /** Waits before retry round n: default 500 ms × n. */
  retryDelayMs?(attempt: number): number;
  /** Re-read this far behind the cursor at the start of a cycle (default 60 s). */
  lookbackMs?: number;
}

export interface Calls {
  read: number;
  write: number;
}

export interface BatchResult {
  counts: SyncCounts;
  calls: Calls;
  cursor: Cursor | null;
  /** External ids (of the origin) that ended in a dead letter in this batch. */
  failed: Set<string>;
}

export interface PagesResult {
  counts: SyncCounts;
  calls: Calls;
  /** More pages wait after the time budget ran out. */
  more: boolean;
  cursor: Cursor | null;
}

export interface SyncPagesOptions {
  mode: 'incremental' | 'full';
  /** First call of a cycle: re-read the lookback window (incremental) or start over (full). */
  lookback: boolean;
  /** Hand back to the caller after this long (default 5 s). */
  budgetMs?: number;
}

/** What a write that starts in ecosync did in each system. */
export interface CanonicalWriteResult {
  canonicalId: string;
  /** The systems that hold the record now, and its id in each. */
  written: { system: string; object: string; externalId: string }[];
  /** Systems not written, and why (no mapping for the fields, record not linked there, refused). */
  skipped: { system: string; reason: string }[];
}

export interface ReplayResult {
  replayed: number;
  stillFailing: number;
  /** The record no longer exists in its system: the letter was discarded. */
  gone: number;
}

/** patch() of a record ecosync has never synced or has seen deleted: there is nothing to write to. */
export class CanonicalRecordNotFound extends Error {
  constructor(readonly entity: string, readonly canonicalId: string, readonly deleted = false) {
    super(`${entity} ${canonicalId} ${deleted ? 'was deleted' : 'has no canonical record: it was never synced'}`);
    this.name = 'CanonicalRecordNotFound';
  }
}

/** A write that starts in ecosync that no system could take, or that cannot be made at all. */
export class CanonicalWriteError extends Error {
  constructor(message: string, readonly code: string, readonly retryable: boolean) {
    super(message);
    this.name = 'CanonicalWriteError';
  }
}

/** A plan's first round of writes, sent before its turn to commit comes. */
interface Started {
  results: Promise<WriteResults>;
  calls: Calls;
}

/** A batch planned and not yet written. */
interface Planned {
  plan: SyncPlan;
  /** Links the writes translate references with. */
  links: StoredLink[];
  reads: number;
}

const READ_CHUNK = 200;

type Rendered = { fields: Record<string, unknown> } | { error: import('./protocol.js').WriteError };

export function createEngine(hub: Hub, deps: EngineDeps) {
  const { state } = deps;
  const limit = pLimit(deps.writeConcurrency ?? 4);
  const maxAttempts = deps.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const lookbackMs = deps.lookbackMs ?? 60_000;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const retryDelay = deps.retryDelayMs ?? ((attempt: number) => 500 * attempt);
  const now = deps.now ?? (() => new Date().toISOString());
  const heartbeat = deps.heartbeat ?? (() => undefined);

  /** Planned writes rendered as system fields, once: forecasting the read-back renders them first. */
  const rendered = new WeakMap<object, Rendered>();
  function render(member: Member, fields: Record<string, unknown>, links: readonly StoredLink[]): Rendered {
    let out = rendered.get(fields);
    if (!out) rendered.set(fields, (out = renderWrite(member.mapper, fields, references(member, links).externalRef)));
    return out;
  }

  /**
   * The hash a system's next read gives after a planned write: the record as read with the
   * rendered fields written over it (just the rendered fields for a create), forward-mapped
   * the way a read maps it — computed fields and the system's own words included.
   */
  function predictor(links: readonly StoredLink[]) {
    return ({ member, raw, create, fields, agreed }: WriteForecast): string | undefined => {
      if (!create && raw === undefined) return undefined;
      const out = render(member, fields, links);
      if ('error' in out) return undefined;
      const shown = member.mapper.forward(create ? out.fields : { ...raw, ...out.fields }, references(member, links));
      if (!shown.ok) return undefined;
      // A create shows exactly what the agreed record renders to; an update keeps other fields of its own.
      const values = create ? agreedWhereShown(member.mapper, shown.value, agreed, shown.value) : agreedWhereUnchanged(member.mapper, shown.value, agreed);
      return contentHash(values);
    };
  }

  async function readByIds(member: Member, ids: readonly string[], calls: Calls): Promise<SourceRecord[]> {
    const out: SourceRecord[] = [];
    const connector = deps.connector(member.system.name);
    for (let i = 0; i < ids.length; i += READ_CHUNK) {
      calls.read++;
      out.push(...await connector.readByIds(member.object, ids.slice(i, i + READ_CHUNK), [...member.mapper.sourceFields]));
    }
    return out;
  }

  /** Links of the records these canonical values refer to, in every system. */
  async function referencedLinks(entity: HubEntity, data: Record<string, unknown>): Promise<StoredLink[]> {
    const wanted = new Map<string, Set<string>>();
    for (const m of entity.members) {
      for (const [field, ref] of Object.entries(m.references)) {
        const id = readPath(data, field).value;
        if (typeof id !== 'string' || !isCanonicalId(id)) continue;
        if (!wanted.has(ref.entity)) wanted.set(ref.entity, new Set());
        wanted.get(ref.entity)!.add(id);
      }
    }
    const out: StoredLink[] = [];
    for (const [refEntity, ids] of wanted) out.push(...await state.linksByCanonicalIds(refEntity, [...ids]));
    return out;
  }

  /** The other systems' current values of the records a plan will merge, forward-mapped. */
  async function readCurrent(entity: HubEntity, wanted: Map<string, string[]>, links: StoredLink[], bases: Map<string, StoredRecord>, calls: Calls) {
    const current = new Map<string, Map<string, CurrentRecord>>();
    await Promise.all([...wanted].map(async ([name, ids]) => {
      const member = memberOf(entity, name);
      const refs = references(member, links);
      const byExternal = new Map(links.filter((l) => l.instance === member.system.instance && l.object === member.object).map((l) => [l.externalId, l]));
      const found = new Map<string, CurrentRecord>();
      for (const r of await readByIds(member, ids, calls)) {
        if (r.deleted) continue;
        const cur = toCurrent(r, member, refs);
        const base = bases.get(byExternal.get(r.id)?.canonicalId.toLowerCase() ?? '');
        // What shows the agreed value in this system's own words is the agreed value.
        if (base && cur.hash !== byExternal.get(r.id)?.lastHash) {
          const values = agreedWhereUnchanged(member.mapper, cur.values, base.data);
          if (values !== cur.values) found.set(r.id, { ...cur, values, hash: contentHash(values) });
          else found.set(r.id, cur);
        } else found.set(r.id, cur);
      }
      current.set(name, found);
    }));
    return current;
  }

  /** Looks up, maps and plans a batch read from `origin`; reads only, writes nothing. */
  async function planRecords(entity: HubEntity, origin: Member, records: readonly SourceRecord[], cursorBefore: Cursor | null, replay: boolean): Promise<Planned> {
    const calls: Calls = { read: 0, write: 0 };
    const mapper = origin.mapper;

    // 1. Links of the batch's records and of the records they reference (one query per object).
    const refIds: Record<string, string[]> = {};
    for (const ref of mapper.refs) {
      if (!origin.references[ref.field]) continue;
      refIds[ref.field] = records.map((r) => r.fields[ref.from]).filter((v): v is string => typeof v === 'string' && v !== '');
    }
    const found: StoredLink[] = [];
    for (const lookup of externalLookups(origin, records.map((r) => r.id), refIds)) {
      found.push(...await state.linksByExternalIds(lookup.instance, lookup.object, lookup.externalIds));
    }
    const own = new Map(found.filter((l) => l.object === origin.object).map((l) => [l.externalId, l]));

    // 2. Forward-map with references translated; an echo of what was last synced stops here.
    const refs = references(origin, found);
    const upsertKey = origin.upsertKeyField;
    const incoming: IncomingRecord[] = [];
    const changed: IncomingRecord[] = [];
    const deletes: IncomingRecord[] = [];
    for (const r of records) {
      const carried = upsertKey ? r.fields[upsertKey] : undefined;
      const head = { externalId: r.id, modifiedAt: r.modifiedAt, deleted: r.deleted, payload: r.fields, canonicalId: typeof carried === 'string' ? carried : null };
      if (r.deleted) {
        const rec = { ...head, values: {}, hash: contentHash({}) };
        incoming.push(rec);
        // A delete needs the record's other links; one already seen deleted needs nothing.
        if (own.get(r.id) && own.get(r.id)!.lastHash !== TOMBSTONE_HASH) deletes.push(rec);
        continue;
      }
      const out = mapper.forward(r.fields, refs);
      if (!out.ok) { incoming.push({ ...head, values: {}, hash: contentHash({}), errors: out.errors }); continue; }
      const rec: IncomingRecord = { ...head, values: out.value, hash: contentHash(out.value), unresolved: out.unresolved.length > 0 ? out.unresolved.map((u) => ({ field: u.field, id: u.id })) : undefined };
      incoming.push(rec);
      if (replay || own.get(r.id)?.lastHash !== rec.hash) changed.push(rec);
    }
    for (const rec of changed) {
      const checked = mapper.validate(rec.values);
      if (!checked.ok) rec.errors = checked.errors;
    }

    // 3. Canonical state of the records that changed: their records and every link of them and of
    // what they reference. A record never linked here that carries no canonical id has none of
    // either: its id derives from this very record, and a record is only saved with its link.
    const known = [...changed, ...deletes].filter((r) => own.has(r.externalId) || isCanonicalId(r.canonicalId));
    const knownIds = new Set(known.map((r) => r.externalId));
    const lookups = canonicalLookups(entity, origin, known, found.filter((l) => l.object !== origin.object || knownIds.has(l.externalId)));
    const storedRecords = lookups.records.length > 0 ? await state.records(entity.entity, lookups.records) : [];
    const links: StoredLink[] = [...found];
    for (const l of lookups.links) if (l.canonicalIds.length > 0) links.push(...await state.linksByCanonicalIds(l.entity, l.canonicalIds));
    const bases = new Map(storedRecords.map((r) => [r.canonicalId.toLowerCase(), r]));

    // A lossy mapping shows the agreed value in its own words; that is not an edit.
    for (const rec of changed) {
      if (rec.errors?.length) continue;
      const cid = own.get(rec.externalId)?.canonicalId ?? (isCanonicalId(rec.canonicalId) ? rec.canonicalId : canonicalIdFor(origin.system.instance, origin.object, rec.externalId));
      const base = bases.get(cid.toLowerCase());
      if (!base) continue;
      const values = agreedWhereUnchanged(mapper, rec.values, base.data);
      if (values !== rec.values) { rec.values = values; rec.hash = contentHash(values); }
    }

    // 4. What the other systems show now, for the records that will be merged.
    const stored = { records: storedRecords, links: dedupeLinks(links) };
    const base = { entity, origin: origin.system.name, records: incoming, stored, cursor: cursorBefore, replay };
    // Only records linked in another system can have current values there.
    const elsewhere = stored.links.some((l) => l.instance !== origin.system.instance && l.entity === entity.entity);
    const current = elsewhere ? await readCurrent(entity, currentWanted(base), stored.links, bases, calls) : new Map();

    // 5. Plan.
    return { plan: planPage({ ...base, current, predict: predictor(stored.links) }), links: stored.links, reads: calls.read };
  }

  /** Renders a plan's writes, sends them in batches per system, and gathers per-record results. */
  async function executeWrites(plan: SyncPlan, links: StoredLink[], calls: Calls): Promise<WriteResults> {
    const results: WriteResults = {};
    await Promise.all([...opsOf(plan)].map(async ([name, ops]) => {
      const member = memberOf(plan.entity, name);
      const connector = deps.connector(name);
      const writes: WriteResult[] = [];
      const ready: WriteOp[] = [];
      for (const op of ops.writes) {
        const out = render(member, op.fields, links);
        if ('error' in out) writes.push({ key: op.key, ok: false, retryable: false, error: out.error });
        else ready.push({ ...op, fields: out.fields });
      }
      const [written, deleted] = await Promise.all([
        inBatches(connector, member.object, ready, calls, (o, b) => connector.write(o, b)),
        inBatches(connector, member.object, ops.deletes, calls, (o, b) => connector.delete(o, b)),
      ]);
      results[name] = { writes: [...writes, ...written], deletes: deleted };
    }));
    return results;
  }

  async function inBatches<T extends WriteOp | DeleteOp>(connector: Connector, object: string, ops: T[], calls: Calls, call: (object: string, batch: T[]) => Promise<WriteResult[]>): Promise<WriteResult[]> {
    if (ops.length === 0) return [];
    const size = connector.maxBatchSize(object);
    const batches: T[][] = [];
    for (let i = 0; i < ops.length; i += size) batches.push(ops.slice(i, i + size));
    const results = await Promise.all(batches.map((batch) => limit(async () => {
      calls.write++;
      try {
        return await call(object, batch);
      } finally {
        heartbeat();
      }
    })));
    return results.flat();
  }

  /**
   * Writes a plan, applies the results and saves them, round after round until nothing
   * retryable is left. Returns what was saved and done; records another writer changed in the
   * meantime come back as `stale` for the caller to plan again.
   */
  async function settle(planned: Planned, options: { saveDeadLetters: boolean }, started?: Started) {
    const calls: Calls = started?.calls ?? { read: 0, write: 0 };
    let first = started?.results;
    let plan: SyncPlan | null = planned.plan;
    let counts = emptyCounts();
    const deadLetters: DeadLetterInput[] = [];
    const done: SyncOutcome['done'] = [];
    const stale = new Set<string>();
    let cursor: Cursor | null = null;
    while (plan) {
      const results = first ? await first : await executeWrites(plan, planned.links, calls);
      first = undefined;
      const outcome = applyWriteResults(plan, results, { maxAttempts });
      if (deps.beforeCommit) {
        const changes = outcome.committed.flatMap((i): RecordChange[] => (i.record ? [{ canonicalId: i.canonicalId, before: i.before, after: i.record.data, deleted: i.record.deleted }] : []));
        if (changes.length > 0) await deps.beforeCommit(plan.entity, plan.origin, changes);
      }
      const saved = await state.commit({
        records: outcome.records, forgetLinks: outcome.forgetLinks, links: outcome.links,
        deadLetters: options.saveDeadLetters ? outcome.deadLetters : [], conflicts: outcome.conflicts,
      });
      const lost = new Set(saved.stale.map((id) => id.toLowerCase()));
      for (const item of outcome.committed) {
        if (!lost.has(item.canonicalId.toLowerCase())) continue;
        stale.add(item.canonicalId.toLowerCase());
        outcome.counts[item.outcome]--;
      }
      counts = addCounts(counts, outcome.counts);
      deadLetters.push(...outcome.deadLetters);
      done.push(...outcome.done.filter((d) => !lost.has(d.canonicalId.toLowerCase())));
      if (outcome.retry) await sleep(retryDelay(outcome.retry.attempt - 1));
      cursor = outcome.cursor;
      plan = outcome.retry;
    }
    return { counts, calls, cursor, deadLetters, done, stale };
  }

  /** Plans and settles a batch read from `origin`; records that lost a race are planned again. */
  async function processRecords(entity: HubEntity, origin: Member, records: readonly SourceRecord[], cursorBefore: Cursor | null, replay = false): Promise<BatchResult> {
    return commitPlanned(entity, origin, await planRecords(entity, origin, records, cursorBefore, replay), records, replay);
  }

  async function commitPlanned(entity: HubEntity, origin: Member, planned: Planned, records: readonly SourceRecord[], replay: boolean, started?: Started): Promise<BatchResult> {
    const calls: Calls = { read: planned.reads, write: 0 };
    const failed = new Set<string>();
    let counts = emptyCounts();
    let cursor: Cursor | null = null;
    let pending: readonly SourceRecord[] = records;
    let current = planned;
    for (let round = 1; ; round++) {
      const result = await settle(current, { saveDeadLetters: true }, round === 1 ? started : undefined);
      calls.write += result.calls.write;
      calls.read += result.calls.read;
      // Counted once: a record planned again was read (and counted) the first time.
      counts = addCounts(counts, round === 1 ? result.counts : { ...result.counts, read: 0 });
      for (const d of result.deadLetters) failed.add(d.direction === 'read' ? d.externalId ?? '' : (d.payload as { source?: { externalId?: string } | null }).source?.externalId ?? '');
      if (round === 1) cursor = result.cursor;
      if (result.stale.size === 0) break;
      if (round >= maxAttempts) throw new Error(`${result.stale.size} ${entity.entity} records kept changing while this batch was saved; it will be read again`);
      const again = current.plan.items.filter((i) => result.stale.has(i.canonicalId.toLowerCase())).map((i) => i.source?.externalId);
      pending = pending.filter((r) => again.includes(r.id));
      current = await planRecords(entity, origin, pending, null, replay);
      calls.read += current.reads;
    }
    return { counts, calls, cursor, failed };
  }

  /**
   * The keys that tie one page's planning to another's writes. own: the records a page writes
   * (its ids and the canonical ids they carry). named: everything planning a page reads about,
   * which adds the records its references point at. Ids and canonical ids share one set: a
   * coincidence across kinds only costs a wait.
   */
  function pageKeys(origin: Member) {
    const refFrom = origin.mapper.refs.filter((ref) => origin.references[ref.field]).map((ref) => ref.from);
    const upsertKey = origin.upsertKeyField;
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

  return {
    hub,

    /**
     * Reads pages of one entity from one system, from its cursor on, and sends each through the
     * pipeline, until the system has no more or the time budget runs out.
     *
     * Three pages at a time: page N commits while page N+1's writes go out and page N+2 is read,
     * mapped, looked up and planned. Commits stay one page after another, so the cursor moves in
     * page order and only past committed pages; a page written before the one ahead of it
     * committed is harmless (writes are upserts by canonical id, and a failure stops the cursor
     * before it). Planning reads the store, so a page must not be planned against state a page
     * in flight is about to change: consecutive pages hold distinct records except lookback
     * re-reads and records edited again between pages, so when a page names a record a page in
     * flight is still writing (itself, by carried canonical id, or as a reference) it waits for
     * that page to commit first, and is planned exactly as if the pages ran in turn.
     */
    async syncPages(entityName: string, systemName: string, options: SyncPagesOptions): Promise<PagesResult> {
      const entity = entityOf(hub, entityName);
      const origin = memberOf(entity, systemName);
      if (!canRead(origin.system)) throw new Error(`${systemName} is only written in connection ${hub.name}: it is never read`);
      const connector = deps.connector(systemName);
      const instance = origin.system.instance;
      const cursorObject = options.mode === 'full' ? `${origin.object}#full` : origin.object;
      // A full reconcile starts from nothing; its own cursor lets a crash resume it midway.
      if (options.mode === 'full' && options.lookback) await state.saveCursor(instance, cursorObject, null);
      let cursor = await state.cursor(instance, cursorObject);
      const readFrom = options.lookback && options.mode === 'incremental' ? readWindow(cursor, lookbackMs) : cursor;
      const counts = { total: emptyCounts() };
      const calls: Calls = { read: 0, write: 0 };
      const startedAt = Date.now();
      const budgetMs = options.budgetMs ?? 5_000;
      const keysOf = pageKeys(origin);
      let more = false;

      // Pages between planned and committed, oldest first (at most two).
      const inFlight: { done: Promise<void>; keys: Set<string>; written?: Promise<unknown> }[] = [];
      // Where the saved cursor will be once every page handed to a commit has committed.
      let reached = cursor;
      const commitPage = async (planned: Planned | null, records: readonly SourceRecord[], after: Cursor | null, started: Started | undefined): Promise<void> => {
        if (planned) {
          const result = await commitPlanned(entity, origin, planned, records, false, started);
          counts.total = addCounts(counts.total, result.counts);
          calls.write += result.calls.write;
          calls.read += result.calls.read;
        }
        if (after && after !== cursor) {
          await state.saveCursor(instance, cursorObject, after);
          cursor = after;
        }
        heartbeat({ entity: entityName, system: systemName, cursor });
      };
      let iterator: AsyncIterator<{ records: SourceRecord[]; cursor: Cursor | null }> | undefined;
      try {
        iterator = connector.read(origin.object, { cursor: readFrom, fields: [...origin.mapper.sourceFields], includeDeleted: true })[Symbol.asyncIterator]();
        for (;;) {
          const next = await iterator.next();
          calls.read++;
          if (next.done) break;
          const page = next.value;
          let planned: Planned | null = null;
          let keys = new Set<string>();
          if (page.records.length > 0) {
            keys = keysOf.own(page.records);
            const named = keysOf.named(page.records);
            for (const f of inFlight) if (named.some((k) => f.keys.has(k))) await f.done;
            planned = await planRecords(entity, origin, page.records, reached, false);
          }
          // The connector's cursor covers records the planner skipped too; never move backwards
          // (a read still under way moves on with its resume token).
          const after = page.cursor && (page.cursor.resume !== undefined || reached?.resume !== undefined || compareCursor(page.cursor, reached) > 0) ? page.cursor : reached;
          reached = after;
          // Three stages: this page is written while the one before commits and the next is read and planned.
          while (inFlight.length >= 2) await inFlight.shift()!.done;
          const previous = inFlight[inFlight.length - 1];
          let started: Started | undefined;
          if (planned) {
            // Once the page ahead is written: a page never writes after one ahead of it failed to.
            const writeCalls: Calls = { read: 0, write: 0 };
            const ahead = previous?.written;
            const plan = planned;
            started = { calls: writeCalls, results: (async () => { await ahead; return executeWrites(plan.plan, plan.links, writeCalls); })() };
            started.results.catch(() => undefined);
          }
          const records = page.records;
          const done = (async () => {
            // Saves go one page after another, so the cursor moves in page order; a page whose
            // writes went out lets them finish before it gives up.
            await previous?.done.catch(async (error: unknown) => { await started?.results.catch(() => undefined); throw error; });
            await commitPage(planned, records, after, started);
          })();
          // Awaited before a later page commits or this call returns; until then a failure
          // must not surface as an unhandled rejection.
          done.catch(() => undefined);
          inFlight.push({ done, keys, written: started?.results ?? previous?.written });
          if (Date.now() - startedAt > budgetMs) {
            more = true;
            await iterator.return?.();
            break;
          }
        }
        for (const f of inFlight) await f.done;
      } catch (error) {
        // Let the pages in flight settle first; the earliest page's failure is the one to report.
        let earlier: unknown;
        for (const f of inFlight) {
          const failed = await f.done.then(() => undefined, (e: unknown) => e);
          earlier ??= failed;
        }
        await iterator?.return?.().catch(() => undefined);
        throw earlier ?? error;
      }
      return { counts: counts.total, calls, more, cursor };
    },

    /**
     * Sets canonical fields (dotted paths, e.g. `coSell.status`; undefined or null clears a
     * field) on a record ecosync knows and writes them to each system that holds it and whose
     * mapping writes them. A system that changed since it was last synced keeps its change for
     * the next sync.
     */
    async patch(entityName: EntityName, canonicalId: string, values: Record<string, unknown>): Promise<CanonicalWriteResult> {
      checkPatch(entityName, values);
      const entity = entityOf(hub, entityName);
      return writeFromEcosync(entity, canonicalId, (record) => {
        if (!record || record.deleted) throw new CanonicalRecordNotFound(entityName, canonicalId, record?.deleted);
        return withValues(record.data, values);
      }, Object.keys(values));
    },

    /**
     * Creates a canonical record (idempotent by `canonicalId`: a second call keeps what the first
     * saved) and its counterpart in every system of the entity that is written.
     */
    async create(entityName: EntityName, canonicalId: string, values: Record<string, unknown>): Promise<CanonicalWriteResult> {
      if (!isCanonicalId(canonicalId)) throw new CanonicalWriteError(`canonical id ${JSON.stringify(canonicalId)} is not a UUID`, 'InvalidValues', false);
      values = checkRecord(entityName, canonicalId, values);
      const entity = entityOf(hub, entityName);
      return writeFromEcosync(entity, canonicalId, (record) => {
        if (record?.deleted) throw new CanonicalWriteError(`${entityName} ${canonicalId} was deleted; it is not created again`, 'RecordDeleted', false);
        return record ? record.data : structuredClone(values);
      });
    },

    /**
     * Runs open dead letters again after a fix: re-reads each record from the system it came from
     * (its current state, not the stale payload) and sends it through the pipeline. Letters whose
     * record now goes through are closed as replayed; the others stay open.
     */
    async replay(ids?: readonly string[]): Promise<ReplayResult> {
      const letters = await state.openDeadLetters(ids);
      const result: ReplayResult = { replayed: 0, stillFailing: 0, gone: 0 };
      const groups = new Map<string, { entity: HubEntity; origin: Member; letters: { id: string; externalId: string }[] }>();
      const gone: string[] = [];
      for (const letter of letters) {
        const located = locate(hub, letter);
        if (!located) { gone.push(letter.id); continue; }
        const key = `${located.entity.entity}\u0000${located.origin.system.name}`;
        const g = groups.get(key) ?? { entity: located.entity, origin: located.origin, letters: [] };
        g.letters.push({ id: letter.id, externalId: located.externalId });
        groups.set(key, g);
      }
      for (const g of hub.entities.flatMap((e) => [...groups.values()].filter((x) => x.entity === e))) {
        const calls: Calls = { read: 0, write: 0 };
        const records = await readByIds(g.origin, [...new Set(g.letters.map((l) => l.externalId))], calls);
        const present = new Set(records.map((r) => r.id));
        const outcome = records.length > 0 ? await processRecords(g.entity, g.origin, records, null, true) : undefined;
        const replayed: string[] = [];
        for (const letter of g.letters) {
          if (!present.has(letter.externalId)) { gone.push(letter.id); continue; }
          if (outcome?.failed.has(letter.externalId)) result.stillFailing++;
          else replayed.push(letter.id);
        }
        result.replayed += replayed.length;
        await state.closeDeadLetters(replayed, 'replayed');
        heartbeat();
      }
      result.gone += gone.length;
      await state.closeDeadLetters(gone, 'discarded');
      return result;
    },
  };

  /** A write that starts in ecosync: planned like a page whose one record is ecosync's own. */
  async function writeFromEcosync(entity: HubEntity, canonicalId: string, dataOf: (record: StoredRecord | undefined) => Record<string, unknown>, patched?: string[]): Promise<CanonicalWriteResult> {
    if (!isCanonicalId(canonicalId)) throw new CanonicalWriteError(`canonical id ${JSON.stringify(canonicalId)} is not a UUID`, 'InvalidValues', false);
    const cid = canonicalId.toLowerCase();
    for (let attempt = 1; ; attempt++) {
      const calls: Calls = { read: 0, write: 0 };
      const [record] = await state.records(entity.entity, [cid]);
      const data = dataOf(record);
      const own = await state.linksByCanonicalIds(entity.entity, [cid]);
      const links = dedupeLinks([...own, ...await referencedLinks(entity, data)]);
      const incoming: IncomingRecord = { externalId: cid, canonicalId: cid, modifiedAt: now(), deleted: false, values: data, hash: contentHash(data) };
      const bases = new Map(record ? [[cid, record]] : []);
      const base = { entity, origin: ECOSYNC_ORIGIN, records: [incoming], stored: { records: record ? [record] : [], links }, createMissing: patched === undefined };
      const current = await readCurrent(entity, currentWanted(base), links, bases, calls);
      const plan = planPage({ ...base, current, predict: predictor(links) });
      const refused = plan.deadLetters[0];
      if (refused) {
        const detail = refused.failingFields.map((field) => {
          const id = readPath(data, field).value;
          const missing = entity.members.find((m) => m.references[field] && !links.some((l) => l.instance === m.system.instance && l.object === m.references[field].object && l.canonicalId.toLowerCase() === String(id).toLowerCase() && l.lastHash !== TOMBSTONE_HASH));
          return missing ? `${field} ${id} is not in ${missing.system.name} ${missing.references[field].object} yet; create or sync that ${missing.references[field].entity} first` : field;
        });
        throw new CanonicalWriteError(`${entity.entity} ${cid}: ${detail.join('; ')}`, refused.errorCode ?? 'Refused', false);
      }
      const settled = await settle({ plan, links, reads: calls.read }, { saveDeadLetters: false });
      if (settled.stale.size > 0) {
        if (attempt >= maxAttempts) throw new CanonicalWriteError(`${entity.entity} ${cid} kept changing while it was written; try again`, 'Stale', true);
        continue;
      }
      const retryable = settled.deadLetters.find((d) => d.retryable);
      if (retryable) throw new CanonicalWriteError(`${retryable.system} could not take ${entity.entity} ${cid} for now: ${retryable.errorCode} ${retryable.reason}`, 'WriteFailed', true);
      return writeResult(entity, cid, patched, links, settled);
    }
  }
}

export type Engine = ReturnType<typeof createEngine>;

/** What a write from ecosync did, per system, in the entity's order. */
function writeResult(entity: HubEntity, cid: string, patched: string[] | undefined, links: readonly StoredLink[], settled: { deadLetters: DeadLetterInput[]; done: SyncOutcome['done'] }): CanonicalWriteResult {
  const result: CanonicalWriteResult = { canonicalId: cid, written: [], skipped: [] };
  for (const m of entity.members) {
    const name = m.system.name;
    const link = links.find((l) => l.instance === m.system.instance && l.object === m.object && l.canonicalId.toLowerCase() === cid);
    const done = settled.done.find((d) => d.member === name);
    const refused = settled.deadLetters.find((d) => d.system === name);
    if (refused) { result.skipped.push({ system: name, reason: `${name} refused: ${refused.errorCode} ${refused.reason.replace(/^write rejected: /, '')}` }); continue; }
    if (done) { result.written.push({ system: name, object: m.object, externalId: done.externalId }); continue; }
    if (!link) { result.skipped.push({ system: name, reason: 'not linked there' }); continue; }
    if (link.lastHash === TOMBSTONE_HASH) { result.skipped.push({ system: name, reason: 'deleted there' }); continue; }
    const writes = patched?.some((p) => m.writeFields.some((f) => f === p || f.startsWith(`${p}.`)));
    if (patched && !writes) { result.skipped.push({ system: name, reason: `its mapping writes none of ${patched.join(', ')}` }); continue; }
    result.written.push({ system: name, object: m.object, externalId: link.externalId });
  }
  return result;
}

/** Which entity and origin system a dead letter's record belongs to, and its id there. */
function locate(hub: Hub, letter: { direction: string; system: string; object: string; externalId: string | null; payload: unknown }): { entity: HubEntity; origin: Member; externalId: string } | undefined {
  for (const entity of hub.entities) {
    const member = entity.members.find((m) => m.system.name === letter.system && m.object === letter.object);
    if (!member) continue;
    if (letter.direction === 'read') return letter.externalId && canRead(member.system) ? { entity, origin: member, externalId: letter.externalId } : undefined;
    // A write letter names the system that refused the write; the record came from its origin.
    const source = (letter.payload as { source?: { member?: string; externalId?: string } | null } | null)?.source;
    if (!source?.externalId) return undefined;
    const origin = source.member
      ? entity.members.find((m) => m.system.name === source.member)
      // Letters written before hubs had more than two systems name only the record's id: its origin is the other system.
      : entity.members.find((m) => m !== member);
    return origin && canRead(origin.system) ? { entity, origin, externalId: source.externalId } : undefined;
  }
  return undefined;
}

function dedupeLinks(links: readonly StoredLink[]): StoredLink[] {
  const seen = new Map<string, StoredLink>();
  for (const l of links) seen.set(`${l.instance}\u0000${l.object}\u0000${l.externalId}`, l);
  return [...seen.values()];
}

/** The record with the values set (undefined or null clears a field; emptied objects go too). */
export function withValues(data: Record<string, unknown>, values: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(data);
  for (const [path, value] of Object.entries(values)) {
    if (value !== undefined && value !== null) { setPath(out, path, structuredClone(value)); continue; }
    const parts = path.split('.');
    const trail: Record<string, unknown>[] = [out];
    for (const part of parts.slice(0, -1)) {
      const next = trail[trail.length - 1][part];
      if (typeof next !== 'object' || next === null) break;
      trail.push(next as Record<string, unknown>);
    }
    if (trail.length !== parts.length) continue;
    delete trail[trail.length - 1][parts[parts.length - 1]];
    for (let i = trail.length - 1; i > 0; i--) {
      if (Object.keys(trail[i]).length > 0) break;
      delete trail[i - 1][parts[i - 1]];
    }
  }
  return out;
}

type ObjectSchema = z.ZodObject<z.ZodRawShape>;
const schemaOf = (entity: EntityName) => ENTITIES[entity] as unknown as ObjectSchema;
const issuesOf = (error: z.ZodError) => error.issues.map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`).join('; ');

/** Patched values checked against the entity's schema, each on its own. */
function checkPatch(entity: EntityName, values: Record<string, unknown>): void {
  if (Object.keys(values).length === 0) throw new CanonicalWriteError('nothing to patch', 'InvalidValues', false);
  const nested: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(values)) {
    if (path === 'id' || path.startsWith('id.')) throw new CanonicalWriteError('`id` is the canonical id; it cannot be patched', 'InvalidValues', false);
    if (value !== undefined && value !== null) setPath(nested, path, value);
  }
  const checked = schemaOf(entity).partial().safeParse(nested);
  if (!checked.success) throw new CanonicalWriteError(`${entity}: ${issuesOf(checked.error)}`, 'InvalidValues', false);
}

/** A new record's values checked against the entity's schema; returns them without `id`. */
function checkRecord(entity: EntityName, canonicalId: string, values: Record<string, unknown>): Record<string, unknown> {
  const checked = schemaOf(entity).safeParse({ ...values, id: canonicalId });
  if (!checked.success) throw new CanonicalWriteError(`${entity} ${canonicalId}: ${issuesOf(checked.error)}`, 'InvalidValues', false);
  const { id: _id, ...rest } = checked.data as Record<string, unknown>;
  return toNested(toFields(rest, [], false));
}
