import type { ObjectSpec } from '../../../src/sync/protocol.js';
import { KEY_PREFIXES } from '../descriptor.js';
import { idChecksum, isWellFormedId, makeId } from './ids.js';
import { type BoundQuery, type Fields, formatSfDateTime } from './soql.js';
import { type ReferenceState, type SaveError, validateFields } from './validate.js';

/**
 * The in-memory org behind the sandbox: records per object, indexes by Id and external id, and
 * a change index sorted by (SystemModstamp, Id) for incremental queries. Record versions are
 * immutable: an edit stores a new version, so an open query cursor keeps the values it matched.
 */

/** One stored version of a record. Datetime fields hold epoch ms; the wire form is made on output. */
export interface Version {
  readonly fields: Fields;
  /** The `client` of the Sforce-Call-Options header of the call that made this version, if any. */
  readonly client: string | null;
}

export interface SaveResult {
  id?: string;
  success: boolean;
  created?: boolean;
  errors: SaveError[];
}

export interface WriteContext {
  client: string | null;
  allOrNone: boolean;
  /** Asked once per record: whether it fails on its own (injected lock contention). */
  recordFails?: () => boolean;
}

/** Fields of a record in the form the REST API returns them (datetimes as strings). */
export type WireRecord = Record<string, unknown>;

export class OrgError extends Error {
  constructor(readonly status: number, readonly errorCode: string, message: string) {
    super(message);
  }
}

function modstamp(v: Version): number {
  return v.fields.SystemModstamp as number;
}

function id(v: Version): string {
  return v.fields.Id as string;
}

function naturalCompare(a: Version, b: Version): number {
  const d = modstamp(a) - modstamp(b);
  if (d !== 0) return d;
  const x = id(a);
  const y = id(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The 18-character form of a 15- or 18-character id. */
function id18(value: string): string {
  return value.length === 15 ? value + idChecksum(value) : value;
}

class Table {
  readonly byId = new Map<string, Version>();
  /** Lower-cased external id → record id, live records only (unique, case-insensitive). */
  readonly byExternalId = new Map<string, string>();
  /** Versions in (SystemModstamp, Id) order; superseded versions stay until compaction. */
  private order: Version[] = [];
  private sorted = true;
  private superseded = 0;
  private serial = 0;

  constructor(readonly spec: ObjectSpec, readonly keyPrefix: string) {}

  nextId(): string {
    return makeId(this.keyPrefix, ++this.serial);
  }

  current(v: Version): boolean {
    return this.byId.get(id(v)) === v;
  }

  put(v: Version, previous?: Version): void {
    const extField = this.spec.upsertKeyField;
    if (extField) {
      const oldKey = previous?.fields[extField];
      if (typeof oldKey === 'string') this.byExternalId.delete(oldKey.toLowerCase());
      const key = v.fields[extField];
      if (typeof key === 'string' && !v.fields.IsDeleted) this.byExternalId.set(key.toLowerCase(), id(v));
    }
    this.byId.set(id(v), v);
    if (previous) this.superseded++;
    const last = this.order[this.order.length - 1];
    if (last && naturalCompare(last, v) > 0) this.sorted = false;
    this.order.push(v);
  }

  /** The change index, sorted and mostly free of superseded versions. */
  changeIndex(): Version[] {
    if (!this.sorted || this.superseded > this.byId.size) {
      this.order = this.order.filter((v) => this.current(v));
      if (!this.sorted) this.order.sort(naturalCompare);
      this.sorted = true;
      this.superseded = 0;
    }
    return this.order;
  }

  /** Index of the first version with SystemModstamp >= from. */
  static firstAtOrAfter(order: Version[], from: number): number {
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (modstamp(order[mid]) < from) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** A committed record change, as Change Data Capture would report it. */
export interface OrgChange {
  object: string;
  changeType: 'CREATE' | 'UPDATE' | 'DELETE' | 'UNDELETE';
  version: Version;
}

export interface OrgOptions {
  /** The org's clock in epoch ms; every record written by one call shares one reading (real ties). */
  now?: () => number;
}

export class SalesforceOrg {
  private readonly tables = new Map<string, Table>();
  private readonly now: () => number;
  /** Called after every stored change (seed data included, so subscribe after seeding). */
  readonly changeListeners = new Set<(change: OrgChange) => void>();
  private lastStamp = 0;

  constructor(readonly objects: ObjectSpec[], options: OrgOptions = {}) {
    for (const spec of objects) this.tables.set(spec.name, new Table(spec, KEY_PREFIXES[spec.name] ?? 'a00'));
    this.now = options.now ?? Date.now;
  }

  table(object: string): Table {
    const t = this.tables.get(object) ?? [...this.tables.values()].find((x) => x.spec.name.toLowerCase() === object.toLowerCase());
    if (!t) throw new OrgError(404, 'NOT_FOUND', `The requested resource does not exist`);
    return t;
  }

  spec(object: string): ObjectSpec {
    return this.table(object).spec;
  }

  /** The object an id belongs to, from its key prefix. */
  objectOfId(value: string): string | undefined {
    for (const t of this.tables.values()) if (value.startsWith(t.keyPrefix)) return t.spec.name;
    return undefined;
  }

  /** One clock reading per call, never earlier than the previous one. */
  stamp(at?: number): number {
    if (at !== undefined) return at;
    this.lastStamp = Math.max(this.lastStamp, this.now());
    return this.lastStamp;
  }

  // ------------------------------------------------------------------ reads

  get(object: string, recordId: string): Version | undefined {
    return this.table(object).byId.get(id18(recordId));
  }

  findByExternalId(object: string, value: string): Version | undefined {
    const t = this.table(object);
    const recordId = t.byExternalId.get(value.toLowerCase());
    return recordId ? t.byId.get(recordId) : undefined;
  }

  count(object: string, includeDeleted = false): number {
    const t = this.table(object);
    if (includeDeleted) return t.byId.size;
    let n = 0;
    for (const v of t.byId.values()) if (!v.fields.IsDeleted) n++;
    return n;
  }

  /** Records matching a bound query, in its order, honouring LIMIT and OFFSET. */
  query(bound: BoundQuery, includeDeleted: boolean): Version[] {
    const t = this.table(bound.spec.name);
    const keep = (v: Version) => (includeDeleted || !v.fields.IsDeleted) && bound.where(v.fields);
    const offset = bound.query.offset ?? 0;
    const limit = bound.query.limit ?? Number.POSITIVE_INFINITY;
    let matches: Version[] = [];
    let ordered: boolean;
    if (bound.pinned) {
      const ids = bound.pinned.field === bound.spec.idField
        ? bound.pinned.values.map(id18)
        : bound.pinned.values.map((value) => t.byExternalId.get(value.toLowerCase())).filter((x): x is string => x !== undefined);
      for (const recordId of new Set(ids)) {
        const v = t.byId.get(recordId);
        if (v && keep(v)) matches.push(v);
      }
      matches.sort(naturalCompare);
      ordered = bound.naturalOrder || !bound.compare;
    } else {
      // Walk the change index from the WHERE clause's lower bound on SystemModstamp; when the
      // ORDER BY is that index's own order, LIMIT stops the walk early.
      const order = t.changeIndex();
      const start = bound.modstampFrom === undefined ? 0 : Table.firstAtOrAfter(order, bound.modstampFrom);
      ordered = bound.naturalOrder || !bound.compare;
      const stopAt = ordered ? offset + limit : Number.POSITIVE_INFINITY;
      for (let i = start; i < order.length && matches.length < stopAt; i++) {
        const v = order[i];
        if (t.current(v) && keep(v)) matches.push(v);
      }
    }
    if (!ordered && bound.compare) {
      const compare = bound.compare;
      matches.sort((a, b) => compare(a.fields, b.fields) || naturalCompare(a, b));
    }
    if (offset > 0 || limit < matches.length) matches = matches.slice(offset, offset + limit);
    return matches;
  }

  /** Deleted records whose deletion time falls in [start, end]. */
  deletedBetween(object: string, start: number, end: number): Version[] {
    return this.changedBetween(object, start, end, true);
  }

  /** Live records changed in [start, end]. */
  updatedBetween(object: string, start: number, end: number): Version[] {
    return this.changedBetween(object, start, end, false);
  }

  /** Current versions last changed in [start, end] that are (or are not) deletions. */
  private changedBetween(object: string, start: number, end: number, deleted: boolean): Version[] {
    const t = this.table(object);
    const order = t.changeIndex();
    const out: Version[] = [];
    for (let i = Table.firstAtOrAfter(order, start); i < order.length && modstamp(order[i]) <= end; i++) {
      const v = order[i];
      if (Boolean(v.fields.IsDeleted) === deleted && t.current(v)) out.push(v);
    }
    return out;
  }

  // ------------------------------------------------------------------ writes

  private referenceState = (object: string, value: string): ReferenceState => {
    const v = this.tables.get(object)?.byId.get(value);
    return !v ? 'missing' : v.fields.IsDeleted ? 'deleted' : 'live';
  };

  /** Stores a new record without validation (seed data, or a user editing in Salesforce). */
  insertRaw(object: string, values: Record<string, unknown>, at: number, client: string | null = null): Version {
    const t = this.table(object);
    const fields: Record<string, unknown> = {};
    for (const f of t.spec.fields) fields[f.name] = null;
    // The org's corporate currency is the default on create.
    if ('CurrencyIsoCode' in fields) fields.CurrencyIsoCode = 'USD';
    Object.assign(fields, values);
    fields.Id = typeof values.Id === 'string' ? values.Id : t.nextId();
    fields.IsDeleted = false;
    fields.CreatedDate = at;
    fields.LastModifiedDate = at;
    fields.SystemModstamp = at;
    const v: Version = { fields: Object.freeze(fields), client };
    t.put(v);
    this.emit(t.spec.name, 'CREATE', v);
    return v;
  }

  /** Changes stored fields without validation. */
  updateRaw(object: string, recordId: string, values: Record<string, unknown>, at: number, client: string | null = null): Version {
    const t = this.table(object);
    const previous = t.byId.get(id18(recordId));
    if (!previous) throw new OrgError(404, 'NOT_FOUND', `no ${object} ${recordId}`);
    const fields = { ...previous.fields, ...values, Id: previous.fields.Id, LastModifiedDate: at, SystemModstamp: at };
    const v: Version = { fields: Object.freeze(fields), client };
    t.put(v, previous);
    const deleted = Boolean(v.fields.IsDeleted);
    this.emit(t.spec.name, deleted === Boolean(previous.fields.IsDeleted) ? 'UPDATE' : deleted ? 'DELETE' : 'UNDELETE', v);
    return v;
  }

  /** Moves a record to the recycle bin: IsDeleted, and a new SystemModstamp. */
  deleteRaw(object: string, recordId: string, at: number, client: string | null = null): Version {
    return this.updateRaw(object, recordId, { IsDeleted: true }, at, client);
  }

  /** sObject Collections create, or a single-record create. */
  create(records: Array<{ type: string; values: Record<string, unknown> }>, ctx: WriteContext): SaveResult[] {
    const claimed = new Map<string, Set<string>>();
    const plans = records.map(({ type, values }) => {
      let t: Table;
      try { t = this.table(type); } catch { return { result: fail('INVALID_TYPE', `sObject type '${type}' is not supported.`) }; }
      if ('Id' in values || 'id' in values) return { result: fail('INVALID_FIELD_FOR_INSERT_UPDATE', 'cannot specify Id in an insert call', ['Id']) };
      const checked = validateFields(t.spec, values, 'create', { reference: this.referenceState });
      if (checked.errors.length > 0) return { result: { success: false, errors: checked.errors } };
      const duplicate = this.duplicateExternalId(t, checked.values, undefined, claimed);
      if (duplicate) return { result: duplicate };
      if (ctx.recordFails?.()) return { result: lockFailure() };
      return { result: { success: true, errors: [] } as SaveResult, apply: (at: number) => this.insertRaw(t.spec.name, checked.values, at, ctx.client) };
    });
    return this.commit(plans, ctx, (v) => ({ id: id(v), success: true, errors: [] }));
  }

  /** sObject Collections update, or a single-record update. */
  update(records: Array<{ type?: string; id: string; values: Record<string, unknown> }>, ctx: WriteContext): SaveResult[] {
    const claimed = new Map<string, Set<string>>();
    const seen = new Set<string>();
    const plans = records.map(({ type, id: rawId, values }) => {
      if (rawId === undefined || rawId === null || rawId === '') return { result: fail('MISSING_ARGUMENT', 'Id not specified in an update call', ['Id']) };
      const recordId = typeof rawId === 'string' && isWellFormedId(rawId) ? id18(rawId) : undefined;
      const object = recordId ? this.objectOfId(recordId) : undefined;
      if (!recordId || !object || (type && type.toLowerCase() !== object.toLowerCase())) {
        return { result: fail('MALFORMED_ID', `${type ?? 'Record'} ID: id value of incorrect type: ${String(rawId)}`, ['Id'], rawId) };
      }
      if (seen.has(recordId)) return { result: fail('DUPLICATE_ID', 'Duplicate id in list', ['Id'], recordId) };
      seen.add(recordId);
      const t = this.table(object);
      const previous = t.byId.get(recordId);
      if (!previous) return { result: fail('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', [], recordId) };
      if (previous.fields.IsDeleted) return { result: fail('ENTITY_IS_DELETED', 'entity is deleted', [], recordId) };
      const checked = validateFields(t.spec, values, 'update', { reference: this.referenceState });
      if (checked.errors.length > 0) return { result: { id: recordId, success: false, errors: checked.errors } };
      const duplicate = this.duplicateExternalId(t, checked.values, recordId, claimed);
      if (duplicate) return { result: { ...duplicate, id: recordId } };
      if (ctx.recordFails?.()) return { result: { ...lockFailure(), id: recordId } };
      return { result: { id: recordId, success: true, errors: [] } as SaveResult, apply: (at: number) => this.updateRaw(object, recordId, checked.values, at, ctx.client) };
    });
    return this.commit(plans, ctx, (v) => ({ id: id(v), success: true, errors: [] }));
  }

  /** Upsert by external id: update the record holding the value, create one when none does. */
  upsert(object: string, extField: string, records: Array<Record<string, unknown>>, ctx: WriteContext): SaveResult[] {
    const t = this.table(object);
    const keyField = t.spec.fields.find((f) => f.name.toLowerCase() === extField.toLowerCase());
    if (!keyField || !(keyField.externalId || keyField.name === t.spec.idField)) {
      throw new OrgError(400, 'INVALID_FIELD', `Field name provided, ${extField} is not an External ID or indexed field for ${t.spec.name}`);
    }
    const keyOf = (r: Record<string, unknown>) => {
      const k = Object.keys(r).find((name) => name.toLowerCase() === keyField.name.toLowerCase());
      const value = k ? r[k] : undefined;
      return typeof value === 'string' && value !== '' ? value : undefined;
    };
    const counts = new Map<string, number>();
    for (const r of records) {
      const k = keyOf(r)?.toLowerCase();
      if (k) counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const claimed = new Map<string, Set<string>>();
    const plans = records.map((r) => {
      const key = keyOf(r);
      if (!key) return { result: fail('MISSING_ARGUMENT', `${keyField.name} not specified`, [keyField.name]) };
      if ((counts.get(key.toLowerCase()) ?? 0) > 1) {
        return { result: fail('DUPLICATE_EXTERNAL_ID', `Duplicate external id specified: ${key}`, [keyField.name]) };
      }
      const existingId = keyField.name === t.spec.idField ? id18(key) : t.byExternalId.get(key.toLowerCase());
      const existing = existingId ? t.byId.get(existingId) : undefined;
      const { attributes: _attributes, ...values } = r;
      if (existing && !existing.fields.IsDeleted) {
        const checked = validateFields(t.spec, values, 'update', { reference: this.referenceState });
        if (checked.errors.length > 0) return { result: { id: id(existing), success: false, errors: checked.errors } };
        if (ctx.recordFails?.()) return { result: { ...lockFailure(), id: id(existing) } };
        return {
          result: { id: id(existing), success: true, created: false, errors: [] } as SaveResult,
          apply: (at: number) => this.updateRaw(t.spec.name, id(existing), checked.values, at, ctx.client),
          created: false,
        };
      }
      const checked = validateFields(t.spec, values, 'create', { reference: this.referenceState });
      if (checked.errors.length > 0) return { result: { success: false, errors: checked.errors } };
      const duplicate = this.duplicateExternalId(t, checked.values, undefined, claimed);
      if (duplicate) return { result: duplicate };
      if (ctx.recordFails?.()) return { result: lockFailure() };
      return {
        result: { success: true, created: true, errors: [] } as SaveResult,
        apply: (at: number) => this.insertRaw(t.spec.name, checked.values, at, ctx.client),
        created: true,
      };
    });
    return this.commit(plans, ctx, (v, plan) => ({ id: id(v), success: true, created: plan.created, errors: [] }));
  }

  /** sObject Collections delete, or a single-record delete. */
  destroy(ids: string[], ctx: WriteContext): SaveResult[] {
    const seen = new Set<string>();
    const plans = ids.map((rawId) => {
      const recordId = isWellFormedId(rawId) ? id18(rawId) : undefined;
      const object = recordId ? this.objectOfId(recordId) : undefined;
      if (!recordId || !object) return { result: fail('MALFORMED_ID', `malformed id ${rawId}`, [], rawId) };
      if (seen.has(recordId)) return { result: fail('DUPLICATE_ID', 'Duplicate id in list', [], recordId) };
      seen.add(recordId);
      const existing = this.table(object).byId.get(recordId);
      if (!existing) return { result: fail('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', [], recordId) };
      if (existing.fields.IsDeleted) return { result: fail('ENTITY_IS_DELETED', 'entity is deleted', [], recordId) };
      if (ctx.recordFails?.()) return { result: { ...lockFailure(), id: recordId } };
      return { result: { id: recordId, success: true, errors: [] } as SaveResult, apply: (at: number) => this.deleteRaw(object, recordId, at, ctx.client) };
    });
    return this.commit(plans, ctx, (v) => ({ id: id(v), success: true, errors: [] }));
  }

  /** A create or an external-id change that would collide with another record's value. */
  private duplicateExternalId(t: Table, values: Record<string, unknown>, selfId: string | undefined, claimed: Map<string, Set<string>>): SaveResult | undefined {
    const extField = t.spec.upsertKeyField;
    const value = extField ? values[extField] : undefined;
    if (!extField || typeof value !== 'string') return undefined;
    const key = value.toLowerCase();
    const holder = t.byExternalId.get(key);
    const inBatch = claimed.get(t.spec.name) ?? new Set<string>();
    claimed.set(t.spec.name, inBatch);
    if ((holder && holder !== selfId) || inBatch.has(key)) {
      return fail('DUPLICATE_VALUE', `duplicate value found: ${extField} duplicates value on record with id: ${holder ?? 'in this request'}`, [extField]);
    }
    inBatch.add(key);
    return undefined;
  }

  /**
   * Applies the planned changes of one call with one timestamp. With allOrNone, one failure
   * rolls back the whole call: the others report ALL_OR_NONE_OPERATION_ROLLED_BACK.
   */
  private commit<P extends { result: SaveResult; apply?: (at: number) => Version }>(
    plans: P[], ctx: WriteContext, succeeded: (v: Version, plan: P) => SaveResult,
  ): SaveResult[] {
    if (ctx.allOrNone && plans.some((p) => !p.result.success)) {
      return plans.map((p) => p.result.success
        ? { id: p.result.id, success: false, errors: [{ statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK', message: 'Record rolled back because not all records were valid and the request was using AllOrNone header', fields: [] }] }
        : p.result);
    }
    const at = this.stamp();
    return plans.map((p) => (p.apply ? succeeded(p.apply(at), p) : p.result));
  }

  private emit(object: string, changeType: OrgChange['changeType'], version: Version): void {
    for (const listener of this.changeListeners) listener({ object, changeType, version });
  }

  // ------------------------------------------------------------------ output

  /** Makes the REST form of records: attributes, then the asked fields (all when none are asked). */
  wireFormatter(object: string, version: string, select?: string[]): (v: Version) => WireRecord {
    const spec = this.table(object).spec;
    const fields = select ? select.map((name) => spec.fields.find((f) => f.name === name)!) : spec.fields;
    const datetime = fields.map((f) => f.type === 'datetime');
    // Neighbouring records often share a timestamp (ties): format each distinct one once.
    let lastMs = Number.NaN;
    let lastText = '';
    const format = (ms: number) => {
      if (ms !== lastMs) { lastMs = ms; lastText = formatSfDateTime(ms); }
      return lastText;
    };
    return (v) => {
      const out: WireRecord = { attributes: { type: spec.name, url: `/services/data/v${version}/sobjects/${spec.name}/${id(v)}` } };
      for (let i = 0; i < fields.length; i++) {
        const value = v.fields[fields[i].name];
        out[fields[i].name] = datetime[i] && typeof value === 'number' ? format(value) : value ?? null;
      }
      return out;
    };
  }
}

function fail(statusCode: string, message: string, fields: string[] = [], recordId?: string): SaveResult {
  return { ...(recordId ? { id: recordId } : {}), success: false, errors: [{ statusCode, message, fields }] };
}

function lockFailure(): SaveResult {
  return fail('UNABLE_TO_LOCK_ROW', 'unable to obtain exclusive access to this record or 1 records');
}

