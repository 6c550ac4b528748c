/**
 * MappingSpec → plain closures. Everything that can be decided from the file is decided here,
 * once: getters and setters per path, lookup maps, coercers, time zones, compiled expressions.
 * Per record, forward/reverse only run those closures; they never throw for bad data, they
 * return the record's errors so the sync can dead-letter it and go on.
 */
import type { z } from 'zod';
import { CURRENCY_MINOR_DIGITS, ENTITIES, type EntityName } from '../model/index.js';
import { canonicalJson, contentHash } from '../model/canonical-json.js';
import { isMissingKey } from './expr.js';
import type { Coercion, Direction, FieldMapping, FieldType, ListMapping, MappingSpec, OutboundMapping, Shape, Wire } from './spec.js';
import { fixDecimal, midnightOf, normalizeDecimal, toDecimal, toEpochMs, toIsoDate, UTC_ZONE, zone } from './values.js';

export interface MapContext {
  /** System id → canonical id of a referenced record, or undefined when not known (yet). */
  resolveRef?(entity: EntityName, externalId: string): string | undefined;
  /** Canonical id → this system's id of a referenced record, or undefined when not known (yet). */
  externalRef?(entity: EntityName, canonicalId: string): string | undefined;
}

export type RecordErrorCode =
  | 'required'          // no value, no default, and the field is required
  | 'invalid_value'     // the value cannot be read as the field's type
  | 'unknown_value'     // a picklist/enum value the mapping does not know
  | 'unknown_currency'  // no currency, or one we do not handle
  | 'currency_mismatch' // the system has one fixed currency and the record is in another
  | 'expression_failed';

export interface FieldError {
  /** Canonical field path. */
  field: string;
  code: RecordErrorCode;
  message: string;
}

/** A reference whose other side is not known yet: the sync resolves it later or parks the record. */
export interface UnresolvedRef {
  field: string;
  entity: EntityName;
  /** The id that could not be translated: a system id (forward) or a canonical id (reverse). */
  id: string;
}

export type MapOutcome<T> =
  | { ok: true; value: T; unresolved: UnresolvedRef[] }
  | { ok: false; errors: FieldError[]; unresolved: UnresolvedRef[] };

export type CanonicalPartial = Record<string, unknown>;
export type SystemRecord = Record<string, unknown>;

/** What a field mapping says, without its YAML nodes: for tooling, previews and tests. */
export interface FieldInfo {
  field: string;
  from?: string;
  type: Coercion;
  systemType: FieldType;
  direction: Direction;
  systemOfRecord: string;
  required: boolean;
  computed: boolean;
  ref?: EntityName;
  map?: ReadonlyMap<string, unknown>;
  reverse?: ReadonlyMap<unknown, string>;
  default?: unknown;
  currencyField?: string;
  defaultCurrency?: string;
  timezone?: string;
  dateZone: string;
  scale?: number;
  enumValues?: readonly string[];
  /** A canonical list: the system list's path, the path of each scalar inside its element, the item fields of a list of objects. */
  list?: { path: string; itemPath: string; items?: readonly FieldInfo[]; filtered: boolean };
}

/** A system field the mapping writes and the canonical fields its value comes from (none for constants). */
export interface WriteInfo {
  /** System path; list elements as `[]`: `Customer.Contacts[].Email`. */
  target: string;
  sources: readonly string[];
}

export interface CompiledMapping {
  file: string;
  system: string;
  object: string;
  entity: EntityName;
  wire: Wire;
  shape: Shape;
  fields: readonly FieldInfo[];
  /** Every system field written, with the canonical fields it is written from. */
  writes: readonly WriteInfo[];
  /** Canonical field → who wins a conflict: a system name, `lww` or `manual`. */
  fieldOwners: Readonly<Record<string, string>>;
  /** System fields forward reads (ask the connector for these). */
  sourceFields: readonly string[];
  /** System fields reverse writes. */
  targetFields: readonly string[];
  /** Reference fields, so the sync can prefetch id translations for a whole batch. */
  refs: readonly { field: string; entity: EntityName; from: string }[];
  /** System record → canonical fields (no `id`). A field absent from the result has no value in the system. */
  forward(record: SystemRecord, ctx?: MapContext): MapOutcome<CanonicalPartial>;
  /**
   * Canonical record → system field values for every outbound field. The canonical record is taken
   * as whole: a field it lacks is written empty (null, or "" on a strings wire). Unresolved
   * references are left out, not cleared.
   */
  reverse(canonical: CanonicalPartial, ctx?: MapContext): MapOutcome<SystemRecord>;
  /** sha256 hex of this mapping's canonical fields in `canonical`, independent of key order. */
  hash(canonical: CanonicalPartial): string;
  /** Checks mapped values against the entity's zod schema (formats, ranges); run once per record by the sync. */
  validate(canonical: CanonicalPartial): { ok: true } | { ok: false; errors: FieldError[] };
}

const INVALID = Symbol('invalid');
type Coerced = unknown | typeof INVALID;

interface Acc {
  ctx: MapContext;
  errors: FieldError[] | null;
  unresolved: UnresolvedRef[] | null;
}

type Step = (source: Record<string, unknown>, out: Record<string, unknown>, acc: Acc) => void;

const NO_CONTEXT: MapContext = {};

function fail(acc: Acc, field: string, code: RecordErrorCode, message: string): typeof INVALID {
  (acc.errors ??= []).push({ field, code, message });
  return INVALID;
}

const isEmpty = (v: unknown) => v === undefined || v === null || v === '';

function show(v: unknown): string {
  const text = typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' ? JSON.stringify(v) ?? String(v) : String(v);
  return text.length > 60 ? text.slice(0, 57) + '…' : text;
}

// ---- paths -----------------------------------------------------------------------------------

/** Reads a system field: the literal key first (HubSpot's `associations.companies`), else the nested path. */
export function systemGetter(path: string): (r: Record<string, unknown>) => unknown {
  if (!path.includes('.')) return (r) => r[path];
  const parts = path.split('.');
  return (r) => {
    const literal = r[path];
    if (literal !== undefined) return literal;
    let v: unknown = r;
    for (const p of parts) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string, unknown>)[p];
    }
    return v;
  };
}

function canonicalGetter(path: string): (c: Record<string, unknown>) => unknown {
  const dot = path.indexOf('.');
  if (dot < 0) return (c) => c[path];
  const parts = path.split('.');
  return (c) => {
    let v: unknown = c;
    for (const p of parts) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string, unknown>)[p];
    }
    return v;
  };
}

function canonicalSetter(path: string): (c: Record<string, unknown>, v: unknown) => void {
  const dot = path.indexOf('.');
  if (dot < 0) return (c, v) => { c[path] = v; };
  const parts = path.split('.');
  const last = parts.pop()!;
  return (c, v) => {
    let inner = c;
    for (const p of parts) inner = (inner[p] ??= {}) as Record<string, unknown>;
    inner[last] = v;
  };
}

/** `Project.ExpectedCustomerSpend[0].Amount` → ['Project', 'ExpectedCustomerSpend', 0, 'Amount']. */
function documentPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of path.split('.')) {
    const m = /^(.*?)\[(\d+)\]$/.exec(part);
    if (m) out.push(m[1], Number(m[2]));
    else out.push(part);
  }
  return out;
}

/** Reads a nested path of a document, array indexes included. */
function documentGetter(path: string): (r: Record<string, unknown>) => unknown {
  const parts = documentPath(path);
  return (r) => {
    let v: unknown = r;
    for (const p of parts) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string | number, unknown>)[p];
    }
    return v;
  };
}

/** Writes a nested path of a document, making the objects and arrays on the way. */
function documentSetter(path: string): (r: Record<string, unknown>, v: unknown) => void {
  const parts = documentPath(path);
  const last = parts.pop()!;
  return (r, v) => {
    let inner: Record<string | number, unknown> = r;
    parts.forEach((p, i) => {
      const next = inner[p];
      inner = (next !== null && typeof next === 'object' ? next : (inner[p] = typeof (parts[i + 1] ?? last) === 'number' ? [] : {})) as Record<string | number, unknown>;
    });
    inner[last] = v;
  };
}

/** Whether the object or array holding `path` exists in the document. */
function parentExists(path: string): (r: Record<string, unknown>) => boolean {
  const parts = documentPath(path);
  parts.pop();
  return (r) => {
    let v: unknown = r;
    for (const p of parts) {
      if (v === null || typeof v !== 'object') return false;
      v = (v as Record<string | number, unknown>)[p];
    }
    return v !== null && typeof v === 'object';
  };
}

/** Drops empty objects and lists from a document, innermost first: absent stays absent. */
function prune(value: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) delete value[k];
    else if (Array.isArray(v)) {
      for (const item of v) if (item !== null && typeof item === 'object' && !Array.isArray(item)) prune(item as Record<string, unknown>);
      if (v.length === 0) delete value[k];
    } else if (v !== null && typeof v === 'object') {
      prune(v as Record<string, unknown>);
      if (Object.keys(v).length === 0) delete value[k];
    }
  }
}

// ---- forward coercers ------------------------------------------------------------------------

type InCoercer = (raw: unknown, record: Record<string, unknown>, acc: Acc) => Coerced;

const getterFor = (path: string, shape: Shape) => (shape === 'document' ? documentGetter(path) : systemGetter(path));

function inbound(m: FieldMapping, shape: Shape): InCoercer {
  const field = m.field;
  const bad = (acc: Acc, raw: unknown, expected: string) =>
    fail(acc, field, 'invalid_value', `${m.from ?? 'expression result'} ${show(raw)} is not ${expected}`);

  if (m.map) {
    const map = m.map;
    const keep = m.keepUnmapped === true;
    return (raw, _r, acc) => {
      const key = typeof raw === 'string' ? raw : String(raw);
      const v = map.get(key);
      if (v !== undefined) return v;
      return keep ? key : fail(acc, field, 'unknown_value', `${m.from ?? field} ${show(raw)} has no mapping; known values: ${[...map.keys()].join(', ')}`);
    };
  }
  if (m.ref) {
    const entity = m.ref;
    return (raw, _r, acc) => {
      const id = typeof raw === 'string' ? raw : String(raw);
      const canonicalId = acc.ctx.resolveRef?.(entity, id);
      if (canonicalId === undefined) {
        (acc.unresolved ??= []).push({ field, entity, id });
        return INVALID;
      }
      return canonicalId;
    };
  }
  switch (m.type) {
    case 'string': {
      const allowed = m.canonical.enumValues ? new Set(m.canonical.enumValues) : undefined;
      return (raw, _r, acc) => {
        const s = typeof raw === 'string' ? raw : typeof raw === 'number' || typeof raw === 'boolean' || typeof raw === 'bigint' ? String(raw) : undefined;
        if (s === undefined) return bad(acc, raw, 'text');
        if (allowed && !allowed.has(s)) return fail(acc, field, 'unknown_value', `${m.from ?? field} ${show(raw)} is not one of ${[...allowed].join(', ')}`);
        return s;
      };
    }
    case 'integer':
    case 'number': {
      const integer = m.type === 'integer';
      return (raw, _r, acc) => {
        const n = typeof raw === 'number' ? raw : typeof raw === 'string' && toDecimal(raw) !== undefined ? Number(raw) : NaN;
        if (!Number.isFinite(n)) return bad(acc, raw, 'a number');
        if (integer && !Number.isSafeInteger(n)) return bad(acc, raw, 'a whole number');
        return n === 0 ? 0 : n;
      };
    }
    case 'boolean':
      return (raw, _r, acc) => {
        if (typeof raw === 'boolean') return raw;
        if (raw === 1 || raw === 0) return raw === 1;
        if (typeof raw === 'string') {
          const s = raw.toLowerCase();
          if (s === 'true' || s === '1') return true;
          if (s === 'false' || s === '0') return false;
        }
        return bad(acc, raw, 'true or false');
      };
    case 'date': {
      const tz = zone(m.dateZone);
      return (raw, _r, acc) => toIsoDate(raw, tz) ?? bad(acc, raw, 'a date');
    }
    case 'datetime': {
      const tz = m.timezone ? zone(m.timezone) : UTC_ZONE;
      return (raw, _r, acc) => {
        const ms = toEpochMs(raw, tz);
        return ms === undefined ? bad(acc, raw, 'a date and time') : new Date(ms).toISOString();
      };
    }
    case 'decimal': {
      const scale = m.scale;
      return (raw, _r, acc) => {
        const d = toDecimal(raw);
        if (d === undefined) return bad(acc, raw, 'a decimal number');
        return scale === undefined ? normalizeDecimal(d) : fixDecimal(d, scale);
      };
    }
    case 'money': {
      const currencyOf = m.currencyField ? getterFor(m.currencyField, shape) : undefined;
      const fallback = m.defaultCurrency;
      return (raw, record, acc) => {
        const amount = toDecimal(raw);
        if (amount === undefined) return bad(acc, raw, 'an amount');
        const given = currencyOf?.(record);
        const currency = isEmpty(given) ? fallback : String(given);
        if (currency === undefined) return fail(acc, field, 'unknown_currency', `${m.from ?? field} has an amount but ${m.currencyField} is empty and there is no default currency`);
        const digits = (CURRENCY_MINOR_DIGITS as Record<string, number>)[currency];
        if (digits === undefined) return fail(acc, field, 'unknown_currency', `currency ${show(currency)} is not one we handle (${Object.keys(CURRENCY_MINOR_DIGITS).join(', ')})`);
        return { amount: fixDecimal(amount, digits), currency };
      };
    }
  }
}

function forwardStep(m: FieldMapping, defaults: Record<string, unknown>, shape: Shape): Step {
  if (m.list) return listForwardStep(m, defaults, shape);
  const set = canonicalSetter(m.field);
  const coerce = inbound(m, shape);
  const field = m.field;
  const { required } = m;
  const fallback = m.default;
  const label = m.from ?? 'the expression';
  const missing = (out: Record<string, unknown>, acc: Acc) => {
    if (fallback !== undefined) set(out, fallback);
    else if (required) fail(acc, field, 'required', `${field} is required, but ${label} has no value`);
  };
  if (m.expr) {
    const expr = m.expr;
    return (record, out, acc) => {
      let raw: unknown;
      try {
        raw = expr.evaluate(record, defaults);
      } catch (error) {
        fail(acc, field, 'expression_failed', `expression failed: ${(error as Error).message.split('\n', 1)[0]}`);
        return;
      }
      if (isEmpty(raw)) return missing(out, acc);
      const v = coerce(raw, record, acc);
      if (v !== INVALID) set(out, v);
    };
  }
  const get = getterFor(m.from!, shape);
  return (record, out, acc) => {
    const raw = get(record);
    if (isEmpty(raw)) return missing(out, acc);
    const v = coerce(raw, record, acc);
    if (v !== INVALID) set(out, v);
  };
}

// ---- lists -----------------------------------------------------------------------------------

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Whether `where` keeps a canonical item; a read of a field the item lacks is false, other failures a record error. */
function keeps(list: ListMapping, item: unknown, acc: Acc, at: string): boolean {
  if (!list.where) return true;
  try {
    return list.where.evaluate((isObject(item) ? item : { value: item }), {}) === true;
  } catch (error) {
    if (!isMissingKey(error)) fail(acc, at, 'expression_failed', `where failed: ${(error as Error).message.split('\n', 1)[0]}`);
    return false;
  }
}

/** An item's errors and unresolved references, under the item's path (`lines[2].quantity`). */
function collect(acc: Acc, inner: Acc, at: string, withField: boolean, prefix: string): void {
  for (const e of inner.errors ?? []) {
    (acc.errors ??= []).push({ ...e, field: withField ? `${at}.${e.field}` : at, message: `${prefix}${e.message}` });
  }
  for (const u of inner.unresolved ?? []) (acc.unresolved ??= []).push({ ...u, field: withField ? `${at}.${u.field}` : at });
}

/** A list of scalars maps each value as this field would: the list's item kind, converted by the list's type. */
function scalarItem(m: FieldMapping, label: string): FieldMapping {
  const systemType: FieldType = m.type === 'integer' || m.type === 'number' || m.type === 'decimal' ? 'number' : m.type === 'date' ? 'date' : 'string';
  return { ...m, list: undefined, canonical: m.canonical.item ?? m.canonical, field: 'value', from: label, systemType, default: undefined, required: false };
}

/**
 * A system list read into a canonical list: each element (in the system's order) mapped by the
 * inbound item fields, or converted as a value for a list of scalars; `where` then sees the mapped
 * item and drops it, with its errors, when it does not hold. An empty list, or one `where` empties,
 * is no value, like an empty field.
 */
function listForwardStep(m: FieldMapping, defaults: Record<string, unknown>, shape: Shape): Step {
  const list = m.list!;
  const field = m.field;
  const get = getterFor(list.path, shape);
  const set = canonicalSetter(field);
  const label = list.itemPath ? `${list.path}[].${list.itemPath}` : `${list.path}[]`;
  const itemSteps = list.items?.filter((i) => i.direction !== 'outbound').map((i) => forwardStep(i, defaults, shape));
  const valueAt = list.itemPath ? getterFor(list.itemPath, shape) : undefined;
  const coerce = itemSteps ? undefined : inbound(scalarItem(m, label), shape);
  const fallback = m.default;
  const { required } = m;
  const missing = (out: Record<string, unknown>, acc: Acc) => {
    if (fallback !== undefined) set(out, fallback);
    else if (required) fail(acc, field, 'required', `${field} is required, but ${list.path} has no items`);
  };
  return (record, out, acc) => {
    const raw = get(record);
    if (isEmpty(raw)) return missing(out, acc);
    if (!Array.isArray(raw)) {
      fail(acc, field, 'invalid_value', `${list.path} ${show(raw)} is not a list`);
      return;
    }
    const items: unknown[] = [];
    let failed = false;
    for (let i = 0; i < raw.length; i++) {
      const element: unknown = raw[i];
      const at = `${field}[${i}]`;
      const inner: Acc = { ctx: acc.ctx, errors: null, unresolved: null };
      let item: unknown;
      if (itemSteps) {
        if (!isObject(element)) {
          fail(acc, at, 'invalid_value', `${list.path}[${i}] ${show(element)} is not an object`);
          failed = true;
          continue;
        }
        const mapped: Record<string, unknown> = {};
        for (const step of itemSteps) step(element, mapped, inner);
        item = mapped;
      } else {
        const value = valueAt ? (isObject(element) ? valueAt(element) : undefined) : element;
        if (isEmpty(value)) continue;
        item = coerce!(value, isObject(element) ? element : {}, inner);
      }
      if (!keeps(list, item, acc, at)) continue;
      collect(acc, inner, at, itemSteps !== undefined, `${list.path}[${i}]: `);
      if (inner.errors) failed = true;
      else items.push(item);
    }
    if (failed) return;
    if (items.length === 0) return missing(out, acc);
    set(out, items);
  };
}

/**
 * A canonical list written to the system: each item (that `where` keeps) becomes one element,
 * mapped by the outbound item fields, or placed at the item path for a list of scalars. In a
 * document the list goes to its nested path and an empty one is dropped; a record's list field is
 * written as given, and an absent canonical list writes an empty one (the system ends up equal).
 */
function listStep(m: FieldMapping, wire: Wire, shape: Shape): Step {
  const list = m.list!;
  const document = shape === 'document';
  const get = canonicalGetter(m.field);
  const write = document ? documentSetter(list.path) : (out: Record<string, unknown>, v: unknown) => { out[list.path] = v; };
  const field = m.field;
  const itemSteps = list.items?.filter((i) => i.direction !== 'inbound').map((f) => reverseStep(f, wire, shape));
  const place = !list.itemPath ? undefined
    : document ? documentSetter(list.itemPath) : (out: Record<string, unknown>, v: unknown) => { out[list.itemPath] = v; };
  const scalar = itemSteps ? undefined : reverseStep({ ...scalarItem(m, 'value') }, wire, 'document');
  const fallback = document ? m.default : undefined;
  return (canonical, out, acc) => {
    let items = get(canonical);
    if (items === undefined || items === null) items = fallback;
    if (items === undefined) {
      if (!document) write(out, []);
      return;
    }
    if (!Array.isArray(items)) {
      fail(acc, field, 'invalid_value', `canonical ${field} ${show(items)} is not a list`);
      return;
    }
    const elements: unknown[] = [];
    for (let i = 0; i < items.length; i++) {
      const item: unknown = items[i];
      const at = `${field}[${i}]`;
      if (itemSteps && !isObject(item)) {
        fail(acc, at, 'invalid_value', `canonical ${at} ${show(item)} is not an object`);
        continue;
      }
      if (!keeps(list, item, acc, at)) continue;
      const inner: Acc = { ctx: acc.ctx, errors: null, unresolved: null };
      const element: Record<string, unknown> = {};
      if (itemSteps) for (const step of itemSteps) step(item as Record<string, unknown>, element, inner);
      else scalar!({ value: item }, element, inner);
      collect(acc, inner, at, itemSteps !== undefined, '');
      if (itemSteps) elements.push(element);
      else if (place) {
        const wrapped: Record<string, unknown> = {};
        if ('value' in element) place(wrapped, element.value);
        elements.push(wrapped);
      } else if ('value' in element) elements.push(element.value);
    }
    write(out, elements);
  };
}

/**
 * What `hash` sees of a list: the items `where` keeps, each cut to the item fields the mapping
 * maps, in order. Undefined for an empty list (no value, as forward reads it).
 */
function listView(m: FieldMapping): (items: unknown) => unknown {
  const list = m.list!;
  const pick = list.items?.map((i) => ({ get: canonicalGetter(i.field), set: canonicalSetter(i.field) }));
  const scratch: Acc = { ctx: NO_CONTEXT, errors: null, unresolved: null };
  return (items) => {
    if (!Array.isArray(items)) return items;
    const out: unknown[] = [];
    for (const item of items) {
      if (!keeps(list, item, scratch, m.field)) continue;
      if (!pick || !isObject(item)) {
        if (item !== undefined && item !== null) out.push(item);
        continue;
      }
      const picked: Record<string, unknown> = {};
      for (const { get, set } of pick) {
        const v = get(item);
        if (v !== undefined && v !== null) set(picked, v);
      }
      out.push(picked);
    }
    scratch.errors = null;
    return out.length === 0 ? undefined : out;
  };
}

// ---- reverse encoders ------------------------------------------------------------------------

const NUMERIC: ReadonlySet<FieldType> = new Set(['number', 'integer', 'currency', 'percent']);

function reverseStep(m: FieldMapping, wire: Wire, shape: Shape): Step {
  if (m.list) return listStep(m, wire, shape);
  const get = canonicalGetter(m.field);
  const target = m.from!;
  const field = m.field;
  const empty = wire === 'strings' ? '' : null;
  const document = shape === 'document';
  const write = document ? documentSetter(target) : (out: Record<string, unknown>, v: unknown) => { out[target] = v; };
  const writeCurrency = m.currencyField === undefined ? undefined
    : document ? documentSetter(m.currencyField) : (out: Record<string, unknown>, v: unknown) => { out[m.currencyField!] = v; };
  // A document takes the file's default for a value the canonical record lacks; a flat record is written empty.
  const fallback = document ? m.default : undefined;
  const asNumber = wire === 'typed' && NUMERIC.has(m.systemType);
  const bad = (acc: Acc, v: unknown, expected: string) => fail(acc, field, 'invalid_value', `canonical ${field} ${show(v)} is not ${expected}`);

  let encode: (v: unknown, out: Record<string, unknown>, acc: Acc) => unknown;
  if (m.map) {
    const reverse = m.reverse!;
    const keep = m.keepUnmapped === true;
    encode = (v, _o, acc) => reverse.get(v) ?? (keep ? String(v)
      : fail(acc, field, 'unknown_value', `canonical ${field} ${show(v)} has no ${target} value; add it under reverse:`));
  } else if (m.ref) {
    const entity = m.ref;
    encode = (v, _o, acc) => {
      const id = String(v);
      const external = acc.ctx.externalRef?.(entity, id);
      if (external === undefined) {
        (acc.unresolved ??= []).push({ field, entity, id });
        return INVALID;
      }
      return external;
    };
  } else {
    switch (m.type) {
      case 'string':
        encode = (v) => (typeof v === 'string' ? v : String(v));
        break;
      case 'integer':
      case 'number':
        encode = (v, _o, acc) => (typeof v !== 'number' || !Number.isFinite(v) ? bad(acc, v, 'a number') : asNumber ? v : String(v));
        break;
      case 'decimal':
        encode = (v, _o, acc) => {
          const d = toDecimal(v);
          return d === undefined ? bad(acc, v, 'a decimal') : asNumber ? Number(d) : d;
        };
        break;
      case 'boolean':
        encode = (v, _o, acc) => (typeof v !== 'boolean' ? bad(acc, v, 'a boolean') : wire === 'strings' ? String(v) : v);
        break;
      case 'date': {
        const tz = zone(m.dateZone);
        const asInstant = m.systemType === 'datetime';
        encode = (v, _o, acc) => {
          if (typeof v !== 'string' || toIsoDate(v, tz) !== v) return bad(acc, v, 'a date (YYYY-MM-DD)');
          return asInstant ? new Date(midnightOf(v, tz)).toISOString() : v;
        };
        break;
      }
      case 'datetime': {
        const local = m.timezone ? zone(m.timezone) : undefined;
        encode = (v, _o, acc) => {
          const ms = toEpochMs(v, UTC_ZONE);
          if (ms === undefined) return bad(acc, v, 'an instant');
          return local ? local.localOf(ms) : new Date(ms).toISOString();
        };
        break;
      }
      case 'money': {
        const currencyField = m.currencyField;
        const fixed = m.defaultCurrency;
        encode = (v, out, acc) => {
          const money = v as { amount?: unknown; currency?: unknown };
          if (typeof money !== 'object' || typeof money.amount !== 'string' || typeof money.currency !== 'string') return bad(acc, v, 'money');
          if (currencyField) writeCurrency!(out, money.currency);
          else if (money.currency !== fixed) {
            return fail(acc, field, 'currency_mismatch', `${field} is in ${money.currency}, but ${target} holds ${fixed} amounts only`);
          }
          return asNumber ? Number(money.amount) : money.amount;
        };
        break;
      }
    }
  }
  return (canonical, out, acc) => {
    let v = get(canonical);
    if (v === undefined || v === null) {
      if (fallback === undefined) {
        if (!document) out[target] = empty;
        return;
      }
      v = fallback;
    }
    const encoded = encode(v, out, acc);
    if (encoded !== INVALID) write(out, encoded);
  };
}

/** A system field computed from the canonical record; a read of a field the record lacks gives no value. */
function outboundStep(o: OutboundMapping, wire: Wire, shape: Shape): Step {
  const document = shape === 'document';
  const write = document ? documentSetter(o.target) : (out: Record<string, unknown>, v: unknown) => { out[o.target] = v; };
  const empty = wire === 'strings' ? '' : null;
  const field = o.target;
  const convert = (v: unknown, acc: Acc): unknown => {
    switch (o.type) {
      case 'string': return typeof v === 'string' ? v : String(v);
      case 'integer':
      case 'number': {
        const n = typeof v === 'number' ? v : Number(toDecimal(v) ?? NaN);
        if (!Number.isFinite(n) || (o.type === 'integer' && !Number.isSafeInteger(n))) return fail(acc, field, 'invalid_value', `${field} ${show(v)} is not ${o.type === 'integer' ? 'a whole number' : 'a number'}`);
        return wire === 'strings' ? String(n) : n;
      }
      case 'decimal': return toDecimal(v) ?? fail(acc, field, 'invalid_value', `${field} ${show(v)} is not a decimal number`);
      case 'boolean': return typeof v === 'boolean' ? (wire === 'strings' ? String(v) : v) : fail(acc, field, 'invalid_value', `${field} ${show(v)} is not true or false`);
      default: return v;
    }
  };
  return (canonical, out, acc) => {
    let v: unknown;
    try {
      v = o.expr.evaluate(canonical, {});
    } catch (error) {
      if (!isMissingKey(error)) {
        fail(acc, field, 'expression_failed', `expression failed: ${(error as Error).message.split('\n', 1)[0]}`);
        return;
      }
    }
    if (isEmpty(v)) {
      if (!document) out[o.target] = empty;
      return;
    }
    const converted = convert(v, acc);
    if (converted !== INVALID) write(out, converted);
  };
}

// ---- hashing ---------------------------------------------------------------------------------

export { canonicalJson };

// ---- the compiled mapping --------------------------------------------------------------------

function info(m: FieldMapping): FieldInfo {
  return {
    field: m.field, from: m.from, type: m.type, systemType: m.systemType, direction: m.direction,
    systemOfRecord: m.systemOfRecord, required: m.required, computed: m.expr !== undefined, ref: m.ref,
    map: m.map, reverse: m.reverse, default: m.default, currencyField: m.currencyField,
    defaultCurrency: m.defaultCurrency, timezone: m.timezone, dateZone: m.dateZone, scale: m.scale,
    enumValues: m.list ? m.canonical.item?.enumValues : m.canonical.enumValues,
    list: m.list && { path: m.list.path, itemPath: m.list.itemPath, items: m.list.items?.map(info), filtered: m.list.where !== undefined },
  };
}

export function compile(spec: MappingSpec): CompiledMapping {
  const { direction: _direction, ...fileDefaults } = spec.defaults;
  const defaults: Record<string, unknown> = fileDefaults;
  const shape = spec.shape;
  const document = shape === 'document';
  const inboundFields = spec.fields.filter((m) => m.direction !== 'outbound');
  const outboundFields = spec.fields.filter((m) => m.direction !== 'inbound');
  const forwardSteps = inboundFields.map((m) => forwardStep(m, defaults, shape));
  const reverseSteps = [
    ...outboundFields.map((m) => reverseStep(m, spec.wire, shape)),
    ...spec.outbound.map((o) => outboundStep(o, spec.wire, shape)),
  ];
  const value = (v: unknown) => (spec.wire === 'strings' ? String(v) : v);
  // In a document, a constant inside an object goes only into an object the fields made.
  const isNested = (name: string) => document && /[.[]/.test(name);
  const constants = Object.entries(spec.constants).filter(([name]) => !isNested(name));
  const nestedConstants = Object.entries(spec.constants).filter(([name]) => isNested(name))
    .map(([name, v]) => ({ exists: parentExists(name), set: documentSetter(name), value: value(v) }));

  const forward = (record: SystemRecord, ctx: MapContext = NO_CONTEXT): MapOutcome<CanonicalPartial> => {
    const acc: Acc = { ctx, errors: null, unresolved: null };
    const out: CanonicalPartial = {};
    for (let i = 0; i < forwardSteps.length; i++) forwardSteps[i](record, out, acc);
    const unresolved = acc.unresolved ?? [];
    return acc.errors ? { ok: false, errors: acc.errors, unresolved } : { ok: true, value: out, unresolved };
  };

  const reverse = (canonical: CanonicalPartial, ctx: MapContext = NO_CONTEXT): MapOutcome<SystemRecord> => {
    const acc: Acc = { ctx, errors: null, unresolved: null };
    const out: SystemRecord = {};
    for (const [name, v] of constants) out[name] = value(v);
    for (let i = 0; i < reverseSteps.length; i++) reverseSteps[i](canonical, out, acc);
    if (document) {
      prune(out);
      for (const c of nestedConstants) if (c.exists(out)) c.set(out, c.value);
    }
    const unresolved = acc.unresolved ?? [];
    return acc.errors ? { ok: false, errors: acc.errors, unresolved } : { ok: true, value: out, unresolved };
  };

  const pick = spec.fields.map((m) => ({ get: canonicalGetter(m.field), set: canonicalSetter(m.field), view: m.list ? listView(m) : undefined }));
  const hash = (canonical: CanonicalPartial): string => {
    const picked: Record<string, unknown> = {};
    for (const { get, set, view } of pick) {
      let v = get(canonical);
      if (view && v !== undefined && v !== null) v = view(v);
      if (v !== undefined && v !== null) set(picked, v);
    }
    return contentHash(picked);
  };

  let partialSchema: z.ZodType | undefined;
  const validate = (canonical: CanonicalPartial): { ok: true } | { ok: false; errors: FieldError[] } => {
    if (!partialSchema) {
      const schema = (spec.entitySchema ?? ENTITIES[spec.entity]) as unknown as z.ZodObject;
      partialSchema = ('id' in schema.shape ? schema.omit({ id: true }) : schema).partial();
    }
    const result = partialSchema.safeParse(canonical);
    if (result.success) return { ok: true };
    return {
      ok: false,
      errors: result.error.issues.map((i) => ({ field: i.path.map(String).join('.'), code: 'invalid_value', message: i.message })),
    };
  };

  const unique = (xs: (string | undefined)[]) => [...new Set(xs.filter((x): x is string => x !== undefined))];
  return {
    file: spec.file,
    system: spec.system,
    object: spec.object,
    entity: spec.entity,
    wire: spec.wire,
    shape,
    fields: spec.fields.map(info),
    writes: writesOf(spec),
    fieldOwners: Object.fromEntries(spec.fields.map((m) => [m.field, m.systemOfRecord])),
    sourceFields: unique(inboundFields.flatMap((m) => [m.from, m.currencyField, ...(m.expr?.reads ?? [])])),
    targetFields: unique([...Object.keys(spec.constants), ...outboundFields.flatMap((m) => [m.from, m.currencyField]), ...spec.outbound.map((o) => o.target)]),
    refs: spec.fields.filter((m) => m.ref && m.from).map((m) => ({ field: m.field, entity: m.ref!, from: m.from! })),
    forward,
    reverse,
    hash,
    validate,
  };
}

/** Every system path the mapping writes, with the canonical fields behind it. */
function writesOf(spec: MappingSpec): WriteInfo[] {
  const out: WriteInfo[] = Object.keys(spec.constants).map((target) => ({ target, sources: [] }));
  for (const m of spec.fields) {
    if (m.direction === 'inbound') continue;
    if (m.list) {
      out.push({ target: m.list.path, sources: [m.field] });
      if (m.list.itemPath) out.push({ target: `${m.list.path}[].${m.list.itemPath}`, sources: [m.field] });
      for (const item of m.list.items ?? []) {
        if (item.direction === 'inbound') continue;
        out.push({ target: `${m.list.path}[].${item.from}`, sources: [`${m.field}.${item.field}`] });
        if (item.currencyField) out.push({ target: `${m.list.path}[].${item.currencyField}`, sources: [`${m.field}.${item.field}`] });
      }
      continue;
    }
    if (m.from) out.push({ target: m.from, sources: [m.field] });
    if (m.currencyField) out.push({ target: m.currencyField, sources: [m.field] });
  }
  for (const o of spec.outbound) out.push({ target: o.target, sources: [...new Set(o.expr.reads)] });
  return out;
}
