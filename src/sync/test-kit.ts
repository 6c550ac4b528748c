/**
 * Test support for the planner: connection fixtures and two in-memory systems with a store,
 * driven by the same thin glue the sync activity runs (read a page, map, look up state, read
 * the target, plan, write, apply results, save). Not part of the public API.
 */
import { contentHash, toFields, toNested, type CanonicalValues } from './values.js';
import { compareCursor, readWindow, type Cursor } from './cursor.js';
import { applyWriteResults } from './results.js';
import { canonicalLookups, externalLookups, planPage, targetExternalIds } from './plan.js';
import type {
  CurrentRecord, DeleteOp, ExternalRef, IncomingRecord, PlanInput, LinkUpsert, RecordUpsert, SideName, StoredLink,
  StoredRecord, SyncCounts, SyncOutcome, SyncPair, SyncPlan, SyncSide, WriteOp, WriteResult,
} from './types.js';
import { addCounts, emptyCounts } from './plan.js';

export const CONNECTION_ID = '0b0c5a7e-6d1f-4c1e-9a51-2f7d9b3c4e10';
export const FIELDS = ['name', 'phone', 'industry'] as const;

export function side(system: string, object: string, read: readonly string[] = FIELDS, write: readonly string[] = read): SyncSide {
  return { system, object, readFields: [...read], writeFields: [...write] };
}

export function pairOf(over: Partial<SyncPair> = {}): SyncPair {
  return {
    connectionId: CONNECTION_ID,
    entity: 'Account',
    a: side('salesforce', 'Account'),
    b: side('hubspot', 'companies'),
    mode: 'bidirectional',
    deletePolicy: 'propagate',
    ...over,
  };
}

export const T = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();

export function incoming(externalId: string, values: CanonicalValues, over: Partial<IncomingRecord> = {}): IncomingRecord {
  return { externalId, modifiedAt: T(10), deleted: false, values, hash: contentHash(values), ...over };
}

export function current(externalId: string, values: CanonicalValues, modifiedAt: string | null = T(5)): CurrentRecord {
  return { externalId, modifiedAt, values, hash: contentHash(values) };
}

// ---------------------------------------------------------------- in-memory systems and store

export interface SimRecord {
  id: string;
  modifiedAt: string;
  deleted: boolean;
  /** Flat canonical values as the system holds them (side space). */
  values: CanonicalValues;
  ecosyncId?: string;
}

/** A strictly increasing clock shared by both systems. */
export class Clock {
  private n = 0;
  tick(): string { return T(++this.n); }
}

export class SimSystem {
  readonly records = new Map<string, SimRecord>();
  writeCalls = 0;
  private seq = 0;
  /** Called per op; returning true fails it as retryable (throttled). */
  failWrite: (op: WriteOp | DeleteOp) => boolean = () => false;

  constructor(readonly name: string, private clock: Clock) {}

  create(values: CanonicalValues, ecosyncId?: string): SimRecord {
    const rec: SimRecord = { id: `${this.name}-${++this.seq}`, modifiedAt: this.clock.tick(), deleted: false, values: { ...values }, ecosyncId };
    this.records.set(rec.id, rec);
    return rec;
  }

  edit(id: string, values: CanonicalValues): void {
    const rec = this.records.get(id);
    if (!rec || rec.deleted) return;
    rec.values = { ...rec.values, ...values };
    rec.modifiedAt = this.clock.tick();
  }

  remove(id: string): void {
    const rec = this.records.get(id);
    if (!rec || rec.deleted) return;
    rec.deleted = true;
    rec.modifiedAt = this.clock.tick();
  }

  /** Records strictly after the cursor, in (modifiedAt, id) order, deleted ones included. */
  read(after: Cursor | null): SimRecord[] {
    return [...this.records.values()]
      .filter((r) => compareCursor({ modifiedAt: r.modifiedAt, id: r.id }, after) > 0)
      .sort((x, y) => compareCursor({ modifiedAt: x.modifiedAt, id: x.id }, { modifiedAt: y.modifiedAt, id: y.id }));
  }

  write(ops: readonly WriteOp[], accepts: SyncSide): WriteResult[] {
    if (ops.length > 0) this.writeCalls++;
    return ops.map((op) => {
      if (this.failWrite(op)) return { key: op.key, ok: false, retryable: true, error: { code: 'REQUEST_LIMIT_EXCEEDED', message: 'throttled' } };
      const fields = toFields(op.fields, accepts.writeFields, false);
      for (const f of Object.keys(fields)) {
        if (!accepts.writeFields.includes(f)) throw new Error(`${this.name}: wrote field ${f} its mapping does not accept`);
      }
      let rec = op.externalId ? this.records.get(op.externalId)
        : [...this.records.values()].find((r) => r.ecosyncId === op.key && !r.deleted);
      const created = !rec;
      if (rec?.deleted) return { key: op.key, ok: false, retryable: false, error: { code: 'ENTITY_IS_DELETED', message: 'entity is deleted' } };
      if (!rec) rec = this.create({}, op.key);
      rec.values = { ...rec.values, ...fields };
      rec.modifiedAt = this.clock.tick();
      return { key: op.key, ok: true, externalId: rec.id, created, modifiedAt: rec.modifiedAt };
    });
  }

  delete(ops: readonly DeleteOp[]): WriteResult[] {
    if (ops.length > 0) this.writeCalls++;
    return ops.map((op) => {
      if (this.failWrite(op)) return { key: op.key, ok: false, retryable: true, error: { code: 'REQUEST_LIMIT_EXCEEDED', message: 'throttled' } };
      this.remove(op.externalId);
      return { key: op.key, ok: true, externalId: op.externalId, created: false, modifiedAt: this.records.get(op.externalId)?.modifiedAt };
    });
  }
}

/** The mapping engine, reduced to picking the side's read fields: values and hash as it would give them. */
export function forward(s: SyncSide, rec: SimRecord): IncomingRecord {
  const values = toNested(toFields(rec.values, s.readFields, true));
  return { externalId: rec.id, modifiedAt: rec.modifiedAt, deleted: rec.deleted, values, hash: contentHash(values), canonicalId: rec.ecosyncId ?? null };
}

const extKey = (system: string, object: string, id: string) => `${system}|${object}|${id}`;

export class SimStore {
  readonly links = new Map<string, StoredLink>();
  readonly records = new Map<string, StoredRecord>();
  readonly cursors = new Map<string, Cursor | null>();
  deadLetters: SyncOutcome['deadLetters'] = [];
  conflicts: SyncOutcome['conflicts'] = [];

  linksByExternal(system: string, object: string, ids: readonly string[]): StoredLink[] {
    return ids.flatMap((id) => this.links.get(extKey(system, object, id)) ?? []);
  }

  linksByCanonical(ids: readonly string[]): StoredLink[] {
    const want = new Set(ids);
    return [...this.links.values()].filter((l) => want.has(l.canonicalId));
  }

  save(out: SyncOutcome): void {
    for (const f of out.forgetLinks as ExternalRef[]) this.links.delete(extKey(f.system, f.object, f.externalId));
    for (const l of out.links as LinkUpsert[]) {
      const held = [...this.links.values()].find((x) => x.canonicalId === l.canonicalId && x.system === l.system && x.object === l.object);
      if (held && held.externalId !== l.externalId) throw new Error(`links_one_per_side violated by ${l.canonicalId} ${l.system}`);
      this.links.set(extKey(l.system, l.object, l.externalId), { ...l });
    }
    for (const r of out.records as RecordUpsert[]) {
      const prior = this.records.get(r.canonicalId);
      if (r.expectedVersion !== undefined && prior && prior.version !== r.expectedVersion) throw new Error('stale record version');
      this.records.set(r.canonicalId, { canonicalId: r.canonicalId, data: r.data, hash: r.hash, deleted: r.deleted, version: (prior?.version ?? 0) + 1 });
    }
    this.deadLetters.push(...out.deadLetters);
    this.conflicts.push(...out.conflicts);
  }
}

export interface SimEnv {
  pair: SyncPair;
  systems: Record<SideName, SimSystem>;
  store: SimStore;
  lookbackMs: number;
  pageSize: number;
  maxAttempts?: number;
}

export function simEnv(pair: SyncPair, over: Partial<SimEnv> = {}): SimEnv {
  const clock = new Clock();
  return {
    pair,
    systems: { a: new SimSystem(pair.a.system, clock), b: new SimSystem(pair.b.system, clock) },
    store: new SimStore(),
    lookbackMs: 0,
    pageSize: 50,
    ...over,
  };
}

export interface RunReport {
  counts: SyncCounts;
  plans: SyncPlan[];
  /** Planned writes + deletes across the run (both sides). */
  ops: number;
  /** Items that only refreshed a link (a missed hash fast path). */
  refreshes: number;
}

/** What the glue hands the planner for one page read from `source`: mapped records, stored state, target's current values. */
export function planInputFor(env: SimEnv, source: SideName, page: readonly SimRecord[], cursor: Cursor | null): PlanInput {
  const { pair, store } = env;
  const target: SideName = source === 'a' ? 'b' : 'a';
  const records = page.map((r) => forward(pair[source], r));
  const l1 = externalLookups(pair, source, records.map((r) => r.externalId)).flatMap((k) => store.linksByExternal(k.system, k.object, k.externalIds));
  const keys = canonicalLookups(pair, source, records, l1);
  const links = [...l1, ...store.linksByCanonical(keys.links.flatMap((k) => k.canonicalIds))];
  const stored = keys.records.canonicalIds.flatMap((id) => store.records.get(id) ?? []);
  const targetCurrent = targetExternalIds(pair, source, links, keys.records.canonicalIds).flatMap((id) => {
    const rec = env.systems[target].records.get(id);
    return rec && !rec.deleted ? [forward(pair[target], rec)] : [];
  });
  return { pair, source, records, stored: { records: stored, links }, targetCurrent, cursor };
}

/** One incremental run of `source`'s pages: the glue of the sync activity, in memory. */
export function runSync(env: SimEnv, source: SideName, options: { full?: boolean } = {}): RunReport {
  const { pair, store } = env;
  const target: SideName = source === 'a' ? 'b' : 'a';
  const src = pair[source];
  const tgt = pair[target];
  const cursorKey = `${src.system}|${src.object}`;
  const report: RunReport = { counts: emptyCounts(), plans: [], ops: 0, refreshes: 0 };
  let cursor = options.full ? null : store.cursors.get(cursorKey) ?? null;
  const all = env.systems[source].read(readWindow(cursor, env.lookbackMs));
  for (let i = 0; i < all.length; i += env.pageSize) {
    const input = planInputFor(env, source, all.slice(i, i + env.pageSize), cursor);
    let plan: SyncPlan | null = planPage(input);
    report.plans.push(plan);
    report.refreshes += plan.items.filter((it) => it.outcome === 'unchanged').length;
    while (plan) {
      report.ops += plan.writes.target.length + plan.writes.source.length + plan.writes.targetDeletes.length;
      const results = {
        target: env.systems[target].write(plan.writes.target, tgt),
        source: env.systems[source].write(plan.writes.source, src),
        targetDeletes: env.systems[target].delete(plan.writes.targetDeletes),
      };
      const out = applyWriteResults(plan, results, { maxAttempts: env.maxAttempts });
      store.save(out);
      report.counts = addCounts(report.counts, out.counts);
      plan = out.retry;
      if (!plan) cursor = out.cursor;
    }
  }
  store.cursors.set(cursorKey, cursor);
  return report;
}
