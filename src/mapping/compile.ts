/**
 * MappingSpec → plain closures. Everything that can be decided from the file is decided here,
 * once: getters and setters per path, lookup maps, coercers, time zones, compiled expressions.
 * Per record, forward/reverse only run those closures; they never throw for bad data, they
 * return the record's errors so the sync can dead-letter it and go on.
 */
import type { z } from 'zod';
import { CURRENCY_MINOR_DIGITS, ENTITIES, type EntityName } from '../model/index.js';
import { canonicalJson, contentHash } from '../model/canonical-json.js';
import type { Coercion, Direction, FieldMapping, FieldType, MappingSpec, Wire } from './spec.js';
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
}

export interface CompiledMapping {
  file: string;
  system: string;
  object: string;
  entity: EntityName;
  wire: Wire;
  fields: readonly FieldInfo[];
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
  const [a, b] = [path.slice(0, dot), path.slice(dot + 1)];
  return (c) => (c[a] as Record<string, unknown> | undefined)?.[b];
}

function canonicalSetter(path: string): (c: Record<string, unknown>, v: unknown) => void {
  const dot = path.indexOf('.');
  if (dot < 0) return (c, v) => { c[path] = v; };
  const [a, b] = [path.slice(0, dot), path.slice(dot + 1)];
  return (c, v) => {
    const inner = (c[a] ??= {}) as Record<string, unknown>;
    inner[b] = v;
  };
}

// ---- forward coercers ------------------------------------------------------------------------

type InCoercer = (raw: unknown, record: Record<string, unknown>, acc: Acc) => Coerced;

function inbound(m: FieldMapping): InCoercer {
  const field = m.field;
  const bad = (acc: Acc, raw: unknown, expected: string) =>
    fail(acc, field, 'invalid_value', `${m.from ?? 'expression result'} ${show(raw)} is not ${expected}`);

  if (m.map) {
    const map = m.map;
    return (raw, _r, acc) => {
      const v = map.get(typeof raw === 'string' ? raw : String(raw));
      return v !== undefined ? v : fail(acc, field, 'unknown_value', `${m.from ?? field} ${show(raw)} has no mapping; known values: ${[...map.keys()].join(', ')}`);
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
      const currencyOf = m.currencyField ? systemGetter(m.currencyField) : undefined;
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

function forwardStep(m: FieldMapping, defaults: Record<string, unknown>): Step {
  const set = canonicalSetter(m.field);
  const coerce = inbound(m);
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
  const get = systemGetter(m.from!);
  return (record, out, acc) => {
    const raw = get(record);
    if (isEmpty(raw)) return missing(out, acc);
    const v = coerce(raw, record, acc);
    if (v !== INVALID) set(out, v);
  };
}

// ---- reverse encoders ------------------------------------------------------------------------

const NUMERIC: ReadonlySet<FieldType> = new Set(['number', 'integer', 'currency', 'percent']);

function reverseStep(m: FieldMapping, wire: Wire): Step {
  const get = canonicalGetter(m.field);
  const target = m.from!;
  const field = m.field;
  const empty = wire === 'strings' ? '' : null;
  const asNumber = wire === 'typed' && NUMERIC.has(m.systemType);
  const bad = (acc: Acc, v: unknown, expected: string) => fail(acc, field, 'invalid_value', `canonical ${field} ${show(v)} is not ${expected}`);

  let encode: (v: unknown, out: Record<string, unknown>, acc: Acc) => unknown;
  if (m.map) {
    const reverse = m.reverse!;
    encode = (v, _o, acc) => reverse.get(v) ?? fail(acc, field, 'unknown_value', `canonical ${field} ${show(v)} has no ${target} value; add it under reverse:`);
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
          if (currencyField) out[currencyField] = money.currency;
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
    const v = get(canonical);
    if (v === undefined || v === null) {
      out[target] = empty;
      return;
    }
    const encoded = encode(v, out, acc);
    if (encoded !== INVALID) out[target] = encoded;
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
    enumValues: m.canonical.enumValues,
  };
}

export function compile(spec: MappingSpec): CompiledMapping {
  const defaults: Record<string, unknown> = { ...spec.defaults };
  const inboundFields = spec.fields.filter((m) => m.direction !== 'outbound');
  const outboundFields = spec.fields.filter((m) => m.direction !== 'inbound');
  const forwardSteps = inboundFields.map((m) => forwardStep(m, defaults));
  const reverseSteps = outboundFields.map((m) => reverseStep(m, spec.wire));
  const constants = Object.entries(spec.constants);

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
    for (const [name, value] of constants) out[name] = spec.wire === 'strings' ? String(value) : value;
    for (let i = 0; i < reverseSteps.length; i++) reverseSteps[i](canonical, out, acc);
    const unresolved = acc.unresolved ?? [];
    return acc.errors ? { ok: false, errors: acc.errors, unresolved } : { ok: true, value: out, unresolved };
  };

  const pick = spec.fields.map((m) => ({ get: canonicalGetter(m.field), set: canonicalSetter(m.field) }));
  const hash = (canonical: CanonicalPartial): string => {
    const picked: Record<string, unknown> = {};
    for (const { get, set } of pick) {
      const v = get(canonical);
      if (v !== undefined && v !== null) set(picked, v);
    }
    return contentHash(picked);
  };

  let partialSchema: z.ZodType | undefined;
  const validate = (canonical: CanonicalPartial): { ok: true } | { ok: false; errors: FieldError[] } => {
    partialSchema ??= (ENTITIES[spec.entity] as unknown as z.ZodObject).omit({ id: true }).partial();
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
    fields: spec.fields.map(info),
    fieldOwners: Object.fromEntries(spec.fields.map((m) => [m.field, m.systemOfRecord])),
    sourceFields: unique(inboundFields.flatMap((m) => [m.from, m.currencyField, ...(m.expr?.reads ?? [])])),
    targetFields: unique([...constants.map(([k]) => k), ...outboundFields.flatMap((m) => [m.from, m.currencyField])]),
    refs: spec.fields.filter((m) => m.ref && m.from).map((m) => ({ field: m.field, entity: m.ref!, from: m.from! })),
    forward,
    reverse,
    hash,
    validate,
  };
}
