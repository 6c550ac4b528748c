import type { ObjectSpec } from '../../../src/sync/protocol.js';
import { HUBSPOT_OBJECTS } from '../descriptor.js';

/**
 * The sandbox's in-memory CRM: records by id and by ecosync_id, a search index kept sorted by
 * (modified, id), and associations. Records are immutable versions: a write replaces the record,
 * so the search index can go on showing the previous version while indexing lags.
 */

export interface StoredRecord {
  readonly id: string;
  readonly idNum: number;
  /** Every property value as a string, including hs_object_id, createdate and the modified field. */
  readonly properties: Readonly<Record<string, string | null>>;
  readonly createdMs: number;
  readonly modifiedMs: number;
  readonly archived: boolean;
  readonly archivedMs?: number;
}

const byModifiedThenId = (a: StoredRecord, b: StoredRecord) => a.modifiedMs - b.modifiedMs || a.idNum - b.idNum;

/** Records visible to search, sorted by (modifiedMs, idNum). Insert and remove by binary search. */
class SortedIndex {
  items: StoredRecord[] = [];

  /** First position whose record sorts at or after (ms, idNum). */
  lowerBound(ms: number, idNum = -Infinity): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const r = this.items[mid];
      if (r.modifiedMs < ms || (r.modifiedMs === ms && r.idNum < idNum)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(rec: StoredRecord): void {
    const at = this.lowerBound(rec.modifiedMs, rec.idNum);
    if (at === this.items.length) this.items.push(rec);
    else this.items.splice(at, 0, rec);
  }

  remove(rec: StoredRecord): void {
    const at = this.lowerBound(rec.modifiedMs, rec.idNum);
    if (this.items[at]?.id === rec.id) this.items.splice(at, 1);
  }
}

export class ObjectTable {
  readonly byId = new Map<string, StoredRecord>();
  readonly byExternalId = new Map<string, string>();
  readonly index = new SortedIndex();
  /** The version of each record the search index holds. */
  private readonly indexed = new Map<string, StoredRecord>();
  /** Writes not yet visible to search (only when search lags). */
  private pending: { due: number; rec: StoredRecord }[] = [];
  private nextId: number;
  /** Bumped whenever the search index changes (search results are cached on it). */
  indexVersion = 0;

  constructor(readonly spec: ObjectSpec, firstId: number) {
    this.nextId = firstId;
  }

  allocateId(): number {
    return this.nextId++;
  }

  /** Store a new version; it reaches the search index after `lagMs`. */
  put(rec: StoredRecord, now: number, lagMs: number): void {
    const before = this.byId.get(rec.id);
    const oldKey = before?.properties.ecosync_id;
    const newKey = rec.properties.ecosync_id;
    if (oldKey && oldKey !== newKey) this.byExternalId.delete(oldKey);
    if (newKey) this.byExternalId.set(newKey, rec.id);
    this.byId.set(rec.id, rec);
    if (lagMs > 0) this.pending.push({ due: now + lagMs, rec });
    else this.reindex(rec);
  }

  /** Bulk load (seeding): no per-record index maintenance, one sort at the end. */
  load(records: StoredRecord[]): void {
    for (const rec of records) {
      this.byId.set(rec.id, rec);
      if (rec.properties.ecosync_id) this.byExternalId.set(rec.properties.ecosync_id, rec.id);
      if (!rec.archived) {
        this.indexed.set(rec.id, rec);
        this.index.items.push(rec);
      }
    }
    this.index.items.sort(byModifiedThenId);
    this.indexVersion++;
  }

  /** The sorted search view as of `now` (applies index updates that are due). */
  searchView(now: number): readonly StoredRecord[] {
    if (this.pending.length > 0) {
      let done = 0;
      while (done < this.pending.length && this.pending[done].due <= now) this.reindex(this.pending[done++].rec);
      if (done > 0) this.pending = this.pending.slice(done);
    }
    return this.index.items;
  }

  private reindex(rec: StoredRecord): void {
    this.indexVersion++;
    const old = this.indexed.get(rec.id);
    if (old) this.index.remove(old);
    if (rec.archived) {
      this.indexed.delete(rec.id);
    } else {
      this.indexed.set(rec.id, rec);
      this.index.insert(rec);
    }
  }
}

/** Association type ids HubSpot uses for the default (unlabelled) association between two objects. */
const DEFAULT_ASSOCIATION_TYPE: Record<string, number> = {
  'contacts->companies': 279, 'companies->contacts': 280,
  'deals->companies': 341, 'companies->deals': 342,
  'contacts->deals': 4, 'deals->contacts': 3,
};

export function defaultAssociationTypeId(from: string, to: string): number {
  return DEFAULT_ASSOCIATION_TYPE[`${from}->${to}`] ?? 1;
}

/** HubSpot's singular name, used in v3 association type labels such as deal_to_company. */
export function singular(type: string): string {
  return type.replace(/ies$/, 'y').replace(/s$/, '');
}

/** A record change, as webhook subscriptions see it. */
export interface RecordChange {
  type: string;
  kind: 'creation' | 'propertyChange' | 'deletion';
  record: StoredRecord;
  /** Properties whose value changed (all set ones on creation); system properties left out. */
  changed: string[];
  /** Who made it: CRM_UI for a user's edit (direct state access), INTEGRATION for an API call. */
  changeSource: string;
  at: number;
}

export class HubSpotState {
  readonly tables = new Map<string, ObjectTable>();
  /** Called after every create, update and archive (seeding excluded). */
  readonly changeListeners = new Set<(change: RecordChange) => void>();
  /** The changeSource given to changes made now; the API server sets INTEGRATION around each call. */
  changeSource = 'CRM_UI';
  /** `${from}:${fromId}:${to}` → associated ids, in the order they were made. */
  private readonly links = new Map<string, string[]>();
  /** Bumped on every write; search caches key on it. */
  version = 0;

  constructor(public searchLagMs = 0, private readonly clock: () => number = Date.now) {
    let base = 1_000_000_001;
    for (const spec of HUBSPOT_OBJECTS) {
      this.tables.set(spec.name, new ObjectTable(spec, base));
      base += 1_000_000_000;
    }
  }

  now(): number {
    return this.clock();
  }

  table(type: string): ObjectTable {
    const t = this.tables.get(type);
    if (!t) throw new Error(`unknown object type ${type}`);
    return t;
  }

  get(type: string, id: string): StoredRecord | undefined {
    return this.table(type).byId.get(id);
  }

  getByExternalId(type: string, ecosyncId: string): StoredRecord | undefined {
    const id = this.table(type).byExternalId.get(ecosyncId);
    return id === undefined ? undefined : this.get(type, id);
  }

  /** Live (not archived) records, by id. */
  live(type: string): StoredRecord[] {
    return [...this.table(type).byId.values()].filter((r) => !r.archived);
  }

  count(type: string): number {
    let n = 0;
    for (const r of this.table(type).byId.values()) if (!r.archived) n++;
    return n;
  }

  /** Create a record with already validated string values. `at` sets the instant (tests make ties with it). */
  create(type: string, values: Record<string, string | null>, at = this.now()): StoredRecord {
    const table = this.table(type);
    const idNum = table.allocateId();
    const iso = new Date(at).toISOString();
    const properties: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(values)) if (v !== null && v !== '') properties[k] = v;
    Object.assign(properties, { hs_object_id: String(idNum), createdate: iso, [table.spec.modifiedField]: iso });
    if (type === 'deals') properties.pipeline ??= 'default';
    const rec: StoredRecord = { id: String(idNum), idNum, properties, createdMs: at, modifiedMs: at, archived: false };
    this.write(table, rec);
    this.emit(type, 'creation', rec, Object.keys(properties), at);
    return rec;
  }

  /** Apply changes to a record (a user's edit in HubSpot, or an API update). Empty string clears a value. */
  update(type: string, id: string, values: Record<string, string | null>, at = this.now()): StoredRecord {
    const table = this.table(type);
    const before = table.byId.get(id);
    if (!before || before.archived) throw new Error(`${type} ${id} does not exist`);
    const properties: Record<string, string | null> = { ...before.properties };
    for (const [k, v] of Object.entries(values)) {
      if (v === null || v === '') delete properties[k];
      else properties[k] = v;
    }
    properties[table.spec.modifiedField] = new Date(at).toISOString();
    const rec: StoredRecord = { ...before, properties, modifiedMs: at };
    this.write(table, rec);
    const changed = Object.keys(values).filter((k) => (before.properties[k] ?? null) !== (properties[k] ?? null));
    if (changed.length > 0) this.emit(type, 'propertyChange', rec, changed, at);
    return rec;
  }

  archive(type: string, id: string, at = this.now()): boolean {
    const table = this.table(type);
    const before = table.byId.get(id);
    if (!before || before.archived) return false;
    const rec: StoredRecord = { ...before, archived: true, archivedMs: at };
    this.write(table, rec);
    if (before.properties.ecosync_id) table.byExternalId.delete(before.properties.ecosync_id);
    this.emit(type, 'deletion', rec, [], at);
    return true;
  }

  associate(from: string, fromId: string, to: string, toId: string): void {
    for (const [a, aId, b, bId] of [[from, fromId, to, toId], [to, toId, from, fromId]]) {
      const key = `${a}:${aId}:${b}`;
      const list = this.links.get(key) ?? [];
      if (!list.includes(bId)) list.push(bId);
      this.links.set(key, list);
    }
    this.version++;
  }

  associations(from: string, fromId: string, to: string): readonly string[] {
    return this.links.get(`${from}:${fromId}:${to}`) ?? [];
  }

  /** Seeding: bulk records and links without per-record index work. */
  load(type: string, records: StoredRecord[]): void {
    this.table(type).load(records);
    this.version++;
  }

  /** Runs fn with changes attributed to `source` (e.g. INTEGRATION for API calls). */
  withChangeSource<T>(source: string, fn: () => T): T {
    const previous = this.changeSource;
    this.changeSource = source;
    try {
      return fn();
    } finally {
      this.changeSource = previous;
    }
  }

  private emit(type: string, kind: RecordChange['kind'], record: StoredRecord, properties: string[], at: number): void {
    if (this.changeListeners.size === 0) return;
    const system = new Set(['hs_object_id', 'createdate', this.table(type).spec.modifiedField]);
    const change: RecordChange = { type, kind, record, changed: properties.filter((p) => !system.has(p)), changeSource: this.changeSource, at };
    for (const listener of this.changeListeners) listener(change);
  }

  private write(table: ObjectTable, rec: StoredRecord): void {
    table.put(rec, this.now(), this.searchLagMs);
    this.version++;
    // Setting a contact's associatedcompanyid makes that company its (primary) associated company.
    const company = table.spec.name === 'contacts' ? rec.properties.associatedcompanyid : undefined;
    if (company && !rec.archived && this.get('companies', company)) this.associate('contacts', rec.id, 'companies', company);
  }
}
