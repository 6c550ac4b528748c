/**
 * The sync engine's ports in memory: systems that keep records in maps and speak the connector
 * protocol, a mapper over flat fields, and a hub state with the store's commit semantics. The
 * engine itself (src/sync) runs on them unchanged, so property tests and benchmarks exercise the
 * real pipeline without HTTP or a database.
 */
import {
  buildHub, compareCursor, createEngine,
  type Commit, type CommitResult, type Connector, type Cursor, type DeleteOp, type EngineDeps, type Hub, type HubState,
  type LinkUpsert, type Mapper, type OpenDeadLetter, type Page, type ReadOptions, type SourceRecord, type StoredLink,
  type StoredRecord, type SystemRole, type WriteOp, type WriteResult,
} from '../../src/sync/index.js';
import { isEntityName } from '../../src/model/index.js';

/** A strictly increasing clock shared by every system of a hub. */
export class Clock {
  private n = 0;
  tick(): string { return new Date(Date.UTC(2026, 0, 1) + ++this.n * 1000).toISOString(); }
}

export interface MemoryRecord {
  id: string;
  modifiedAt: string;
  deleted: boolean;
  fields: Record<string, unknown>;
}

/** Field holding the canonical id (the upsert key) in every memory system. */
export const ECOSYNC_ID = 'ecosyncId';

/** One system instance: records of one object, the connector protocol, faults on demand. */
export class MemorySystem implements Connector {
  readonly records = new Map<string, MemoryRecord>();
  /** Live records by the canonical id they carry. */
  private byKey = new Map<string, MemoryRecord>();
  writeCalls = 0;
  readCalls = 0;
  private seq = 0;
  /** Called per op; true fails it as retryable (throttled). */
  failWrite: (op: WriteOp | DeleteOp) => boolean = () => false;
  /** Called per op; a string refuses it for good with that message. */
  refuseWrite: (op: WriteOp) => string | undefined = () => undefined;

  constructor(readonly system: string, readonly instance: string, private clock: Clock, readonly pageSize = 50, readonly batchSize = 100) {}

  create(fields: Record<string, unknown>): MemoryRecord {
    const rec: MemoryRecord = { id: `${this.instance}-${++this.seq}`, modifiedAt: this.clock.tick(), deleted: false, fields: { ...fields } };
    this.records.set(rec.id, rec);
    if (typeof fields[ECOSYNC_ID] === 'string') this.byKey.set(fields[ECOSYNC_ID], rec);
    return rec;
  }

  edit(id: string, fields: Record<string, unknown>): void {
    const rec = this.records.get(id);
    if (!rec || rec.deleted) return;
    rec.fields = { ...rec.fields, ...fields };
    rec.modifiedAt = this.clock.tick();
  }

  remove(id: string): void {
    const rec = this.records.get(id);
    if (!rec || rec.deleted) return;
    rec.deleted = true;
    rec.modifiedAt = this.clock.tick();
    if (this.byKey.get(String(rec.fields[ECOSYNC_ID])) === rec) this.byKey.delete(String(rec.fields[ECOSYNC_ID]));
  }

  live(): MemoryRecord[] {
    return [...this.records.values()].filter((r) => !r.deleted);
  }

  async check() { return { ok: true, message: 'in memory' }; }
  async identify() { return { instance: this.instance }; }
  async discover() { return []; }
  maxBatchSize() { return this.batchSize; }

  async *read(_object: string, options: ReadOptions): AsyncIterable<Page> {
    const all = [...this.records.values()]
      .filter((r) => compareCursor({ modifiedAt: r.modifiedAt, id: r.id }, options.cursor) > 0)
      .sort((x, y) => compareCursor({ modifiedAt: x.modifiedAt, id: x.id }, { modifiedAt: y.modifiedAt, id: y.id }));
    for (let i = 0; i < all.length; i += this.pageSize) {
      this.readCalls++;
      const page = all.slice(i, i + this.pageSize);
      const last = page[page.length - 1];
      yield { records: page.map(toSource), cursor: { modifiedAt: last.modifiedAt, id: last.id } };
    }
  }

  async readByIds(_object: string, ids: string[]): Promise<SourceRecord[]> {
    this.readCalls++;
    return ids.flatMap((id) => { const r = this.records.get(id); return r ? [toSource(r)] : []; });
  }

  async write(_object: string, ops: WriteOp[]): Promise<WriteResult[]> {
    if (ops.length > 0) this.writeCalls++;
    return ops.map((op): WriteResult => {
      if (this.failWrite(op)) return { key: op.key, ok: false, retryable: true, error: { code: 'REQUEST_LIMIT_EXCEEDED', message: 'throttled' } };
      const refused = this.refuseWrite(op);
      if (refused) return { key: op.key, ok: false, retryable: false, error: { code: 'INVALID_VALUE', message: refused } };
      let rec = op.externalId ? this.records.get(op.externalId) : this.byKey.get(op.key);
      if (rec?.deleted) return { key: op.key, ok: false, retryable: false, error: { code: 'ENTITY_IS_DELETED', message: 'entity is deleted' } };
      const created = !rec;
      if (!rec) rec = this.create({ [ECOSYNC_ID]: op.key });
      rec.fields = { ...rec.fields, ...op.fields };
      rec.modifiedAt = this.clock.tick();
      return { key: op.key, ok: true, externalId: rec.id, created, modifiedAt: rec.modifiedAt };
    });
  }

  async delete(_object: string, ops: DeleteOp[]): Promise<WriteResult[]> {
    if (ops.length > 0) this.writeCalls++;
    return ops.map((op): WriteResult => {
      if (this.failWrite(op)) return { key: op.key, ok: false, retryable: true, error: { code: 'REQUEST_LIMIT_EXCEEDED', message: 'throttled' } };
      this.remove(op.externalId);
      return { key: op.key, ok: true, externalId: op.externalId, created: false, modifiedAt: this.records.get(op.externalId)?.modifiedAt };
    });
  }
}

const toSource = (r: MemoryRecord): SourceRecord => ({ id: r.id, modifiedAt: r.modifiedAt, deleted: r.deleted, fields: { ...r.fields } });

export type FieldDirection = 'both' | 'inbound' | 'outbound';

/**
 * A mapping of flat fields, system field = canonical field, with a direction and an owner each:
 * forward reads the inbound fields (an empty value is absent), reverse writes the outbound ones.
 */
export function memoryMapper(system: string, fields: Readonly<Record<string, FieldDirection>>, owners: Readonly<Record<string, string>> = {}): Mapper {
  const list = Object.entries(fields).map(([field, direction]) => ({ field, from: field, direction }));
  const inbound = list.filter((f) => f.direction !== 'outbound').map((f) => f.field);
  const outbound = list.filter((f) => f.direction !== 'inbound').map((f) => f.field);
  return {
    file: `memory/${system}.yaml`, system, object: 'accounts', entity: 'Account',
    fields: list, fieldOwners: owners, refs: [], sourceFields: [...inbound, ECOSYNC_ID],
    forward(record) {
      const value: Record<string, unknown> = {};
      for (const f of inbound) if (record[f] !== null && record[f] !== undefined) value[f] = record[f];
      return { ok: true, value, unresolved: [] };
    },
    reverse(canonical) {
      const value: Record<string, unknown> = {};
      for (const f of outbound) value[f] = canonical[f] ?? null;
      return { ok: true, value, unresolved: [] };
    },
    validate: () => ({ ok: true }),
  };
}

const extKey = (instance: string, object: string, id: string) => `${instance}|${object}|${id}`;

/** A hub's state in maps, committing like the store: a stale record saves nothing of its own. */
export class MemoryState implements HubState {
  readonly linkRows = new Map<string, StoredLink>();
  /** Links by canonical id, then by instance and object. */
  private byCanonical = new Map<string, Map<string, StoredLink>>();
  readonly recordRows = new Map<string, StoredRecord>();
  readonly cursorRows = new Map<string, Cursor>();
  readonly deadLetters: (Commit['deadLetters'][number] & { id: string; status: 'open' | 'replayed' | 'discarded' })[] = [];
  readonly conflicts: Commit['conflicts'] = [];
  /** Links whose hash or modified-at changed, over the state's life. */
  linkChanges = 0;
  /** Throws from the next commit (a worker lost between writing and saving). */
  failNextCommit = false;
  private letters = 0;

  async linksByExternalIds(instance: string, object: string, ids: readonly string[]) {
    return ids.flatMap((id) => { const l = this.linkRows.get(extKey(instance, object, id)); return l ? [{ ...l }] : []; });
  }
  async linksByCanonicalIds(entity: string, ids: readonly string[]) {
    return [...new Set(ids.map((id) => id.toLowerCase()))].flatMap((id) => [...(this.byCanonical.get(id)?.values() ?? [])].filter((l) => l.entity === entity).map((l) => ({ ...l })));
  }
  async records(_entity: string, ids: readonly string[]) {
    return ids.flatMap((id) => { const r = this.recordRows.get(id.toLowerCase()); return r ? [{ ...r }] : []; });
  }
  async cursor(instance: string, object: string) { return this.cursorRows.get(`${instance}|${object}`) ?? null; }
  async saveCursor(instance: string, object: string, cursor: Cursor | null) {
    if (cursor) this.cursorRows.set(`${instance}|${object}`, cursor);
    else this.cursorRows.delete(`${instance}|${object}`);
  }

  async commit(c: Commit): Promise<CommitResult> {
    if (this.failNextCommit) {
      this.failNextCommit = false;
      throw new Error('the worker was lost before the page was saved');
    }
    const stale = new Set<string>();
    for (const r of c.records) {
      const id = r.canonicalId.toLowerCase();
      const prior = this.recordRows.get(id);
      if (prior && prior.hash === r.hash && prior.deleted === r.deleted) continue;
      if (prior && (r.expectedVersion === undefined || prior.version !== r.expectedVersion)) { stale.add(id); continue; }
      this.recordRows.set(id, { canonicalId: id, data: r.data, hash: r.hash, deleted: r.deleted, version: (prior?.version ?? 0) + 1 });
    }
    const fresh = <T extends { canonicalId: string }>(xs: readonly T[]) => xs.filter((x) => !stale.has(x.canonicalId.toLowerCase()));
    for (const f of fresh(c.forgetLinks)) {
      const gone = this.linkRows.get(extKey(f.instance, f.object, f.externalId));
      if (!gone) continue;
      this.linkRows.delete(extKey(f.instance, f.object, f.externalId));
      this.byCanonical.get(gone.canonicalId.toLowerCase())?.delete(`${gone.instance}|${gone.object}`);
    }
    for (const l of fresh(c.links)) this.saveLink(l);
    for (const d of c.deadLetters) {
      const open = this.deadLetters.find((x) => x.status === 'open' && x.direction === d.direction && x.system === d.system && (x.externalId ?? x.canonicalId) === (d.externalId ?? d.canonicalId));
      if (open) Object.assign(open, d);
      else this.deadLetters.push({ ...d, id: `letter-${++this.letters}`, status: 'open' });
    }
    this.conflicts.push(...fresh(c.conflicts));
    return { stale: [...stale] };
  }

  private saveLink(l: LinkUpsert): void {
    const key = extKey(l.instance, l.object, l.externalId);
    const prior = this.linkRows.get(key);
    const held = this.byCanonical.get(l.canonicalId.toLowerCase())?.get(`${l.instance}|${l.object}`);
    if (!prior && held) throw new Error(`links_one_per_side: ${l.canonicalId} already has ${held.externalId} in ${l.instance}`);
    const next: StoredLink = { ...l, canonicalId: prior?.canonicalId ?? l.canonicalId, lastHash: l.lastHash ?? prior?.lastHash ?? null, lastModifiedAt: l.lastModifiedAt ?? prior?.lastModifiedAt ?? null };
    if (!prior || prior.lastHash !== next.lastHash || prior.lastModifiedAt !== next.lastModifiedAt) this.linkChanges++;
    this.linkRows.set(key, next);
    const cid = next.canonicalId.toLowerCase();
    if (!this.byCanonical.has(cid)) this.byCanonical.set(cid, new Map());
    this.byCanonical.get(cid)!.set(`${next.instance}|${next.object}`, next);
  }

  async openDeadLetters(ids?: readonly string[]): Promise<OpenDeadLetter[]> {
    return this.deadLetters.filter((d) => d.status === 'open' && (!ids?.length || ids.includes(d.id)));
  }
  async closeDeadLetters(ids: readonly string[], status: 'replayed' | 'discarded') {
    for (const d of this.deadLetters) if (ids.includes(d.id) && d.status === 'open') d.status = status;
  }

  /** The links of a canonical record, by instance. */
  linksOf(canonicalId: string): StoredLink[] {
    return [...(this.byCanonical.get(canonicalId.toLowerCase())?.values() ?? [])];
  }
}

export interface MemorySystemSpec {
  name: string;
  /** Connector kind; systems of one kind are told apart by their instance. */
  kind: string;
  role: SystemRole;
  fields: Readonly<Record<string, FieldDirection>>;
}

export interface MemoryHubSpec {
  systems: readonly MemorySystemSpec[];
  /** Per field: 'lww', 'manual', or a system's name or kind. */
  owners?: Readonly<Record<string, string>>;
  deletePolicy?: 'propagate' | 'ignore';
  updateAfterDelete?: 'skip' | 'resurrect';
  conflictPolicy?: string;
  pageSize?: number;
  batchSize?: number;
}

/** A hub of memory systems around one Account entity, with the real engine over them. */
export class MemoryHub {
  readonly clock = new Clock();
  readonly state = new MemoryState();
  readonly systems = new Map<string, MemorySystem>();
  readonly hub: Hub;

  constructor(readonly spec: MemoryHubSpec) {
    spec.systems.forEach((s, i) => this.systems.set(s.name, new MemorySystem(s.kind, `${s.kind}:${i + 1}`, this.clock, spec.pageSize, spec.batchSize)));
    const mappers = new Map(spec.systems.map((s) => [`memory/${s.name}.yaml`, memoryMapper(s.kind, s.fields, spec.owners)]));
    this.hub = buildHub({
      id: '0b0c5a7e-6d1f-4c1e-9a51-2f7d9b3c4e10', name: 'memory',
      systems: spec.systems.map((s) => ({ name: s.name, system: s.kind, role: s.role })),
      entities: [{ entity: 'Account', members: spec.systems.map((s) => ({ system: s.name, object: 'accounts', mapping: `memory/${s.name}.yaml` })) }],
      deletePolicy: spec.deletePolicy ?? 'propagate', conflictPolicy: spec.conflictPolicy ?? 'last-writer-wins', updateAfterDelete: spec.updateAfterDelete,
    }, {
      mapperOf: (file) => mappers.get(file)!,
      instanceOf: (name) => this.systems.get(name)!.instance,
      upsertKeyOf: () => ECOSYNC_ID,
      isEntity: isEntityName,
    });
  }

  system(name: string): MemorySystem {
    return this.systems.get(name)!;
  }

  engine(extra: Partial<EngineDeps> = {}) {
    return createEngine(this.hub, {
      state: this.state,
      connector: (name) => this.system(name),
      sleep: async () => undefined,
      lookbackMs: 0,
      ...extra,
    });
  }

  /** Reads one system until it has no more (an incremental run, or a full one). */
  async sync(name: string, options: { full?: boolean; lookbackMs?: number } = {}) {
    const engine = this.engine({ lookbackMs: options.lookbackMs ?? 0 });
    return engine.syncPages('Account', name, { mode: options.full ? 'full' : 'incremental', lookback: true, budgetMs: Number.POSITIVE_INFINITY });
  }

  /** Write calls every system received so far. */
  writeCalls(): number {
    return [...this.systems.values()].reduce((n, s) => n + s.writeCalls, 0);
  }

  readable(): string[] {
    return this.spec.systems.filter((s) => s.role !== 'target').map((s) => s.name);
  }
}

