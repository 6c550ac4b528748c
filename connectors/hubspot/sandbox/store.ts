import type { ObjectSpec } from '../../../src/sync/protocol.js';
import { HUBSPOT_OBJECTS } from '../descriptor.js';
import { AssociationTypes } from './association-types.js';

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
  /** Who created it, as property history names sources: INTEGRATION (the API), CRM_UI (a user), IMPORT (seeded). */
  readonly source?: string;
  /** Earlier values of properties changed since creation, newest first (propertiesWithHistory). */
  readonly history?: Readonly<Record<string, readonly PropertyValue[]>>;
  /** Deleted for good (GDPR): not even an archived read finds it. */
  readonly purged?: boolean;
}

/** One value a property held, as HubSpot's property history reports it. */
export interface PropertyValue {
  value: string;
  timestamp: number;
  sourceType: string;
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

/** The "Primary" label from a contact to its company. */
const PRIMARY_COMPANY = 1;

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
  /** The portal's association types: HubSpot's and the labels users add. */
  readonly associationTypes = new AssociationTypes();
  /** `${from}:${fromId}:${to}` → associated id → association type ids, ids in the order they were associated. */
  private readonly links = new Map<string, Map<string, Set<number>>>();
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
    const rec: StoredRecord = { id: String(idNum), idNum, properties, createdMs: at, modifiedMs: at, archived: false, source: this.changeSource };
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
    const changed = Object.keys(values).filter((k) => (before.properties[k] ?? null) !== (properties[k] ?? null));
    const rec: StoredRecord = { ...before, properties, modifiedMs: at, history: changed.length > 0 ? this.historyAfter(before, changed, properties, at) : before.history };
    this.write(table, rec);
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

  /** A property's values, newest first: its history, or the one value it has held since creation. */
  propertyHistory(rec: StoredRecord, name: string): readonly PropertyValue[] {
    const changes = rec.history?.[name];
    if (changes) return changes;
    const value = rec.properties[name];
    return value === null || value === undefined ? [] : [{ value, timestamp: rec.createdMs, sourceType: rec.source ?? 'IMPORT' }];
  }

  /**
   * Associates two records with a type (the pair's unlabelled default when absent), and the
   * reverse pair with its inverse. A labelled association carries the default too, as in HubSpot.
   */
  associate(from: string, fromId: string, to: string, toId: string, typeId?: number): void {
    const fallback = this.associationTypes.defaultType(from, to);
    const type = this.associationTypes.get(typeId ?? fallback?.typeId ?? Number.NaN);
    if (!type || type.from !== from || type.to !== to) throw new Error(`no association type ${typeId ?? '(default)'} from ${from} to ${to}`);
    for (const t of fallback && fallback !== type ? [fallback, type] : [type]) {
      this.typesOf(from, fromId, to, toId, true).add(t.typeId);
      this.typesOf(to, toId, from, fromId, true).add(t.inverse);
    }
    this.version++;
  }

  /** Removes association types between two records (every type when none are named); a pair left with none is no longer associated. */
  dissociate(from: string, fromId: string, to: string, toId: string, typeIds?: number[]): void {
    const forward = this.typesOf(from, fromId, to, toId, false);
    if (!forward) return;
    for (const typeId of typeIds ?? [...forward]) {
      if (!forward.delete(typeId)) continue;
      const inverse = this.associationTypes.get(typeId)?.inverse;
      if (inverse !== undefined) this.typesOf(to, toId, from, fromId, false)?.delete(inverse);
    }
    if (forward.size === 0) this.links.get(`${from}:${fromId}:${to}`)?.delete(toId);
    if (this.typesOf(to, toId, from, fromId, false)?.size === 0) this.links.get(`${to}:${toId}:${from}`)?.delete(fromId);
    this.version++;
  }

  /** Ids of the `to` records associated with a record, in the order they were associated. */
  associations(from: string, fromId: string, to: string): readonly string[] {
    const pairs = this.links.get(`${from}:${fromId}:${to}`);
    return pairs ? [...pairs.keys()] : [];
  }

  /** The association type ids from one record to another, in type id order. */
  associationTypeIds(from: string, fromId: string, to: string, toId: string): number[] {
    return [...(this.typesOf(from, fromId, to, toId, false) ?? [])].sort((a, b) => a - b);
  }

  /** Moves every association of `fromId` to `intoId` (merging two records). */
  moveAssociations(type: string, fromId: string, intoId: string): void {
    for (const other of HUBSPOT_OBJECTS.map((o) => o.name)) {
      for (const otherId of this.associations(type, fromId, other)) {
        const typeIds = this.associationTypeIds(type, fromId, other, otherId);
        this.dissociate(type, fromId, other, otherId);
        if (other === type && otherId === intoId) continue;
        for (const typeId of typeIds) this.associate(type, intoId, other, otherId, typeId);
      }
    }
  }

  /** Deletes a record for good (a GDPR delete): gone from reads, archived ones included, and from every association. */
  purge(type: string, id: string, at = this.now()): boolean {
    const table = this.table(type);
    const before = table.byId.get(id);
    if (!before || before.purged) return false;
    for (const other of HUBSPOT_OBJECTS.map((o) => o.name)) for (const otherId of this.associations(type, id, other)) this.dissociate(type, id, other, otherId);
    if (!before.archived) this.archive(type, id, at);
    table.byId.set(id, { ...table.byId.get(id)!, purged: true });
    this.version++;
    return true;
  }

  private typesOf(from: string, fromId: string, to: string, toId: string, create: true): Set<number>;
  private typesOf(from: string, fromId: string, to: string, toId: string, create: false): Set<number> | undefined;
  private typesOf(from: string, fromId: string, to: string, toId: string, create: boolean): Set<number> | undefined {
    const key = `${from}:${fromId}:${to}`;
    let pairs = this.links.get(key);
    if (!pairs) {
      if (!create) return undefined;
      this.links.set(key, (pairs = new Map()));
    }
    let types = pairs.get(toId);
    if (!types && create) pairs.set(toId, (types = new Set()));
    return types;
  }

  /** The history after `changed` properties took their values in `properties` at `at`. */
  private historyAfter(before: StoredRecord, changed: string[], properties: Record<string, string | null>, at: number): Record<string, readonly PropertyValue[]> {
    const history: Record<string, readonly PropertyValue[]> = { ...before.history };
    for (const name of changed) history[name] = [{ value: properties[name] ?? '', timestamp: at, sourceType: this.changeSource }, ...this.propertyHistory(before, name)];
    return history;
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
    // Setting a contact's associatedcompanyid makes that company its primary company (type 1); it stops being another's.
    const company = table.spec.name === 'contacts' ? rec.properties.associatedcompanyid : undefined;
    if (company && !rec.archived && this.get('companies', company)) {
      for (const other of this.associations('contacts', rec.id, 'companies')) if (other !== company) this.dissociate('contacts', rec.id, 'companies', other, [PRIMARY_COMPANY]);
      this.associate('contacts', rec.id, 'companies', company, PRIMARY_COMPANY);
    }
  }
}
