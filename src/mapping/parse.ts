/**
 * Mapping file → MappingSpec, with every problem reported at its YAML node. Checks the document's
 * shape and its meaning against the canonical model; checks against a system's field schema live
 * in schema-check.ts. Collects all problems instead of stopping at the first.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar, type Node as YamlNode, type YAMLMap, type Pair } from 'yaml';
import type { z } from 'zod';
import { CURRENCY_MINOR_DIGITS, ENTITIES, isEntityName, type CurrencyCode, type EntityName } from '../model/index.js';
import { canonicalFieldsOf, type CanonicalField, type CanonicalKind } from './canonical.js';
import { Reporter, suggest, yamlErrorMessage } from './diagnostics.js';
import { compileExpr } from './expr.js';
import {
  COERCIONS, DIRECTIONS,
  type Coercion, type Direction, type FieldMapping, type FieldNodes, type FieldType, type ListMapping, type MappingDefaults, type MappingSpec,
  type OutboundMapping, type Shape, type Wire,
} from './spec.js';
import { isIsoDate, isTimeZone } from './values.js';

const ROOT_KEYS = ['system', 'object', 'entity', 'description', 'wire', 'shape', 'defaults', 'constants', 'fields', 'outbound'] as const;
const DEFAULT_KEYS = ['currency', 'timezone', 'systemOfRecord', 'direction'] as const;
const FIELD_KEYS = [
  'from', 'type', 'map', 'reverse', 'unmapped', 'default', 'required', 'expr', 'direction', 'systemOfRecord', 'ref',
  'timezone', 'currency', 'defaultCurrency', 'scale', 'systemType', 'description',
] as const;
const LIST_KEYS = ['from', 'items', 'where', 'default', 'required', 'direction', 'systemOfRecord', 'description'] as const;
const OUTBOUND_KEYS = ['expr', 'type', 'description'] as const;
const OUTBOUND_TYPES = ['string', 'integer', 'number', 'boolean', 'decimal'] as const;
/** A path in a document: dotted names, each with an optional `[n]` index. */
const DOCUMENT_PATH = /^[A-Za-z_$][\w$-]*(\[\d+\])?(\.[A-Za-z_$][\w$-]*(\[\d+\])?)*$/;
const SYSTEM_TYPES: readonly FieldType[] = [
  'id', 'string', 'text', 'email', 'phone', 'url', 'number', 'integer', 'boolean',
  'date', 'datetime', 'currency', 'percent', 'picklist', 'multipicklist', 'reference',
];
const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** Which canonical kinds each coercion can produce. */
const FITS: Record<Coercion, readonly CanonicalKind[]> = {
  string: ['string', 'enum', 'id'],
  integer: ['integer', 'number'],
  number: ['number'],
  boolean: ['boolean'],
  date: ['date'],
  datetime: ['datetime'],
  money: ['money'],
  decimal: ['decimal'],
};

const DEFAULT_COERCION: Partial<Record<CanonicalKind, Coercion>> = {
  string: 'string', id: 'string', enum: 'string', integer: 'integer', number: 'number', boolean: 'boolean',
  date: 'date', datetime: 'datetime', decimal: 'decimal', money: 'money',
};

/** What each coercion reads and writes on the system side, unless `systemType` says otherwise. */
const DEFAULT_SYSTEM_TYPE: Record<Coercion, FieldType> = {
  string: 'string', integer: 'integer', number: 'number', boolean: 'boolean',
  date: 'date', datetime: 'datetime', money: 'currency', decimal: 'number',
};

/** System types each coercion can read (also used against a connector's field schema). */
export const READS: Record<Coercion, readonly FieldType[]> = {
  string: ['id', 'string', 'text', 'email', 'phone', 'url', 'picklist', 'multipicklist', 'reference'],
  integer: ['integer', 'number', 'percent', 'currency'],
  number: ['number', 'integer', 'percent', 'currency'],
  decimal: ['number', 'integer', 'percent', 'currency', 'string'],
  boolean: ['boolean'],
  date: ['date', 'datetime'],
  datetime: ['datetime'],
  money: ['currency', 'number', 'integer', 'string'],
};

const KIND_WORDS: Record<CanonicalKind, string> = {
  string: 'a string', id: 'a canonical id', enum: 'one of a fixed set of values', integer: 'an integer', number: 'a number',
  boolean: 'a boolean', date: 'a calendar date', datetime: 'an instant', decimal: 'a decimal string', money: 'money (amount and currency)',
  object: 'an object', array: 'a list', other: 'a structured value',
};

export interface ParseResult {
  spec?: MappingSpec;
  reporter: Reporter;
}

/** Canonical entities by name beyond the model's `ENTITIES` (an entity the model has not got yet, a test's). */
export type EntitySchemas = Readonly<Record<string, z.ZodType>>;

export function parseSpec(text: string, file: string, entities: EntitySchemas = {}): ParseResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const r = new Reporter(file, lines);
  for (const e of doc.errors) r.error(e.pos[0], yamlErrorMessage(e.message));
  if (doc.errors.length > 0) return { reporter: r };
  const root = doc.contents;
  if (!isMap(root)) {
    r.error(root, 'a mapping file is a YAML map with `system`, `object`, `entity` and `fields`');
    return { reporter: r };
  }
  return new SpecParser(r, file, entities).parse(root);
}

function entries(map: YAMLMap): { key: YamlNode; name: string; value: YamlNode | null }[] {
  return (map.items as Pair<unknown, unknown>[]).map((pair) => {
    const key = pair.key as YamlNode;
    const name = isScalar(key) ? String(key.value) : String(key);
    return { key, name, value: (pair.value as YamlNode | null) ?? null };
  });
}

const scalar = (node: YamlNode | null): unknown => (node && isScalar(node) ? node.value : undefined);
const list = (names: readonly string[]) => names.map((n) => `\`${n}\``).join(', ');

class SpecParser {
  private shape: Shape = 'fields';

  constructor(private readonly r: Reporter, private readonly file: string, private readonly entities: EntitySchemas) {}

  private schemaOf(name: string): z.ZodType | undefined {
    if (Object.hasOwn(this.entities, name)) return this.entities[name];
    return isEntityName(name) ? (ENTITIES[name] as unknown as z.ZodType) : undefined;
  }

  parse(root: YAMLMap): ParseResult {
    const r = this.r;
    const top = new Map<string, { key: YamlNode; value: YamlNode | null }>();
    for (const e of entries(root)) {
      if (!(ROOT_KEYS as readonly string[]).includes(e.name)) {
        r.error(e.key, `unknown key \`${e.name}\`${suggest(e.name, ROOT_KEYS)}; a mapping file has ${list(ROOT_KEYS)}`);
        continue;
      }
      top.set(e.name, e);
    }
    // A file may write only computed fields (`outbound:`) and map none.
    for (const k of ['system', 'object', 'entity', ...(top.has('outbound') ? [] : ['fields'] as const)] as const) {
      if (!top.has(k)) r.error(root, `missing \`${k}\``);
    }
    const system = this.name(top.get('system'), 'system');
    const object = top.has('object') ? this.string(top.get('object')!.value, '`object`') : undefined;
    const entityNode = top.get('entity')?.value ?? null;
    let entity: EntityName | undefined;
    let entitySchema: z.ZodType | undefined;
    if (top.has('entity')) {
      const name = this.string(entityNode, '`entity`');
      entitySchema = name === undefined ? undefined : this.schemaOf(name);
      if (name !== undefined && !entitySchema) {
        const names = [...new Set([...Object.keys(ENTITIES), ...Object.keys(this.entities)])];
        r.error(entityNode, `unknown entity \`${name}\`${suggest(name, names)}; entities are ${list(names)}`);
      } else entity = name as EntityName | undefined;
    }
    const description = top.has('description') ? this.string(top.get('description')!.value, '`description`') : undefined;
    const wire = this.wire(top.get('wire')?.value ?? null);
    const shape = (this.shape = this.shapeOf(top.get('shape')?.value ?? null));
    const defaults = this.defaults(top.get('defaults')?.value ?? null);
    const { constants, constantNodes } = this.constants(top.get('constants')?.value ?? null);
    const fieldsEntry = top.get('fields');
    let fields: FieldMapping[] = [];
    const canon = entitySchema && canonicalFieldsOf(entitySchema);
    if (fieldsEntry && entity && canon) fields = this.fields(fieldsEntry.key, fieldsEntry.value, entity, canon, defaults);
    const outbound = top.has('outbound') && entity && canon ? this.outbound(top.get('outbound')!.value, entity, canon) : [];
    if (fields.length > 0 || outbound.length > 0) this.checkWrites(fields, outbound, constantNodes);
    // The spec comes back even with errors (without the fields that failed), so schema checks
    // can still report their findings; the loader compiles only a spec without errors.
    if (!system || !object || !entity) return { reporter: r };
    const objectNode = top.get('object')!.value ?? root;
    return {
      reporter: r,
      spec: { file: this.file, system, object, entity, entitySchema, description, wire, shape, defaults, constants, constantNodes, fields, outbound, objectNode },
    };
  }

  private string(node: YamlNode | null, what: string): string | undefined {
    const v = scalar(node);
    if (typeof v === 'string' && v.trim() !== '') return v;
    this.r.error(node, `${what} must be a non-empty string`);
    return undefined;
  }

  private name(entry: { value: YamlNode | null } | undefined, what: string): string | undefined {
    if (!entry) return undefined;
    const v = this.string(entry.value, `\`${what}\``);
    if (v !== undefined && !NAME.test(v)) {
      this.r.error(entry.value, `\`${what}\` must be a name of letters, digits, "_" or "-", starting with a letter`);
      return undefined;
    }
    return v;
  }

  private wire(node: YamlNode | null): Wire {
    if (!node) return 'typed';
    const v = scalar(node);
    if (v === 'typed' || v === 'strings') return v;
    this.r.error(node, '`wire` is `typed` (numbers and booleans as JSON values) or `strings` (every value a string, as HubSpot)');
    return 'typed';
  }

  private shapeOf(node: YamlNode | null): Shape {
    if (!node) return 'fields';
    const v = scalar(node);
    if (v === 'fields' || v === 'document') return v;
    this.r.error(node, '`shape` is `fields` (a record of named fields, as a CRM) or `document` (one nested JSON document, as a cloud API body)');
    return 'fields';
  }

  /** A system path in a document file must be dotted names with optional `[n]` indexes. */
  private documentPath(path: string | undefined, node: YamlNode | null | undefined): boolean {
    if (path === undefined || this.shape !== 'document' || DOCUMENT_PATH.test(path)) return true;
    this.r.error(node, `\`${path}\` is not a document path: names separated by dots, each with an optional index such as \`[0]\` (\`Project.ExpectedCustomerSpend[0].Amount\`)`);
    return false;
  }

  private direction(node: YamlNode | null): Direction | undefined {
    const d = scalar(node);
    if (typeof d === 'string' && (DIRECTIONS as readonly string[]).includes(d)) return d as Direction;
    this.r.error(node, `\`direction\` must be one of ${list(DIRECTIONS)}`);
    return undefined;
  }

  private currency(node: YamlNode | null, what: string): CurrencyCode | undefined {
    const v = scalar(node);
    if (typeof v === 'string' && Object.hasOwn(CURRENCY_MINOR_DIGITS, v)) return v as CurrencyCode;
    this.r.error(node, `${what} must be an ISO 4217 currency code we handle: ${Object.keys(CURRENCY_MINOR_DIGITS).join(', ')}`);
    return undefined;
  }

  private timezone(node: YamlNode | null, what: string): string | undefined {
    const v = scalar(node);
    if (typeof v === 'string' && isTimeZone(v)) return v;
    this.r.error(node, `${what} must be an IANA time zone such as \`UTC\` or \`America/New_York\``);
    return undefined;
  }

  private owner(node: YamlNode | null): string | undefined {
    const v = scalar(node);
    if (typeof v === 'string' && NAME.test(v)) return v;
    this.r.error(node, '`systemOfRecord` is a system name (the system whose value wins), `lww` (last writer wins) or `manual` (conflicts go to the RevOps queue)');
    return undefined;
  }

  private defaults(node: YamlNode | null): MappingDefaults {
    const out: MappingDefaults = {};
    if (!node) return out;
    if (!isMap(node)) {
      this.r.error(node, '`defaults` must be a map with any of ' + list(DEFAULT_KEYS));
      return out;
    }
    for (const e of entries(node)) {
      if (e.name === 'currency') out.currency = this.currency(e.value, '`defaults.currency`');
      else if (e.name === 'timezone') out.timezone = this.timezone(e.value, '`defaults.timezone`');
      else if (e.name === 'systemOfRecord') out.systemOfRecord = this.owner(e.value);
      else if (e.name === 'direction') out.direction = this.direction(e.value);
      else this.r.error(e.key, `unknown default \`${e.name}\`${suggest(e.name, DEFAULT_KEYS)}; defaults are ${list(DEFAULT_KEYS)}`);
    }
    return out;
  }

  private constants(node: YamlNode | null): { constants: Record<string, unknown>; constantNodes: Map<string, YamlNode> } {
    const constants: Record<string, unknown> = {};
    const constantNodes = new Map<string, YamlNode>();
    if (!node) return { constants, constantNodes };
    if (!isMap(node)) {
      this.r.error(node, '`constants` must be a map of system field → value written on every outbound record');
      return { constants, constantNodes };
    }
    for (const e of entries(node)) {
      const v = scalar(e.value);
      if (v === undefined || v === null) {
        this.r.error(e.value ?? e.key, `constant \`${e.name}\` needs a value (a string, number or boolean)`);
        continue;
      }
      if (!this.documentPath(e.name, e.key)) continue;
      constants[e.name] = v;
      constantNodes.set(e.name, e.key);
    }
    return { constants, constantNodes };
  }

  private fields(
    key: YamlNode, node: YamlNode | null, entity: EntityName, canon: ReadonlyMap<string, CanonicalField>, defaults: MappingDefaults,
  ): FieldMapping[] {
    const r = this.r;
    if (!isMap(node) || node.items.length === 0) {
      r.error(node ?? key, '`fields` must be a map of canonical field → spec, e.g. `name: Name`');
      return [];
    }
    const out: FieldMapping[] = [];
    for (const e of entries(node)) {
      const mapped = this.field(e.key, e.name, e.value, entity, canon, defaults);
      if (mapped) out.push(mapped);
    }
    // Every field the entity requires must be set by something that reads the system; a file that
    // only writes (a cloud payload) reads nothing.
    const covered = new Set(out.filter((f) => f.direction !== 'outbound').map((f) => f.field));
    const declared = new Set(entries(node).map((e) => e.name));
    const writeOnly = defaults.direction === 'outbound' || (out.length > 0 && covered.size === 0);
    for (const f of writeOnly ? [] : canon.values()) {
      if (!f.required || f.path === 'id' || f.path.includes('.') || covered.has(f.path)) continue;
      if (declared.has(f.path) && !out.some((m) => m.field === f.path)) continue; // already reported
      r.error(key, `${entity} requires \`${f.path}\`, but no inbound mapping sets it`);
    }
    return out;
  }

  /** A field spec's keys: the short form `name: Name` is `from: Name`. */
  private specEntries(
    key: YamlNode, path: string, value: YamlNode | null, keys: readonly string[],
  ): Map<string, { key: YamlNode; value: YamlNode | null }> | undefined {
    const r = this.r;
    const raw = new Map<string, { key: YamlNode; value: YamlNode | null }>();
    if (value && isScalar(value)) {
      if (typeof value.value !== 'string' || value.value === '') {
        r.error(value, `\`${path}\` needs a system field name (\`${path}: FieldName\`) or a spec map`);
        return undefined;
      }
      raw.set('from', { key, value });
    } else if (isMap(value)) {
      for (const e of entries(value)) {
        if (!keys.includes(e.name)) {
          const more = keys === LIST_KEYS && (FIELD_KEYS as readonly string[]).includes(e.name) ? ' (a list field maps its items with `items:`)' : '';
          r.error(e.key, `unknown key \`${e.name}\`${suggest(e.name, keys)}${more}; a ${keys === LIST_KEYS ? 'list' : 'field'} spec has ${list(keys)}`);
        } else raw.set(e.name, e);
      }
    } else {
      r.error(value ?? key, `\`${path}\` needs a system field name (\`${path}: FieldName\`) or a spec map`);
      return undefined;
    }
    return raw;
  }

  private field(
    key: YamlNode, path: string, value: YamlNode | null, entity: string,
    canon: ReadonlyMap<string, CanonicalField>, defaults: MappingDefaults, inList = false,
  ): FieldMapping | undefined {
    const r = this.r;
    const canonical = canon.get(path);
    if (!canonical) {
      const top = [...canon.keys()].filter((p) => p !== 'id');
      r.error(key, `${entity} has no field \`${path}\`${suggest(path, top)}`);
      return undefined;
    }
    if (path === 'id') {
      r.error(key, '`id` is the canonical id assigned by ecosync; the sync layer keeps it, mappings do not');
      return undefined;
    }
    if (canonical.kind === 'object') {
      r.error(key, `\`${path}\` is an object; map its fields one by one, e.g. \`${path}.${canonical.children?.[0] ?? 'field'}\``);
      return undefined;
    }
    if (canonical.kind === 'array' && !inList && canonical.item) {
      return this.listField(key, path, value, entity, canonical, defaults);
    }
    if (canonical.kind === 'array' && inList) {
      r.error(key, `\`${path}\` is a list inside a list item; lists inside lists are not supported`);
      return undefined;
    }
    if (canonical.kind === 'array' || canonical.kind === 'other') {
      r.error(key, `\`${path}\` is ${KIND_WORDS[canonical.kind]}, which field mappings cannot set`);
      return undefined;
    }

    const nodes: FieldNodes = { key, value: value ?? key };
    const raw = this.specEntries(key, path, value, FIELD_KEYS);
    if (!raw) return undefined;
    const errorsBefore = r.diagnostics.length;
    const get = (k: string) => raw.get(k)?.value ?? null;

    // Source: a system field or a CEL expression.
    let from: string | undefined;
    if (raw.has('from')) {
      nodes.from = get('from') ?? undefined;
      from = this.string(get('from'), '`from`');
      if (from?.includes('[]')) {
        r.error(get('from'), inList
          ? `\`${from}\` reads a list inside a list item; lists inside lists are not supported`
          : `\`${from}\` reads a list (\`[]\`), but \`${path}\` is ${KIND_WORDS[canonical.kind]}; a system list maps to a canonical list`);
      } else this.documentPath(from, get('from'));
    }
    let expr: FieldMapping['expr'];
    if (raw.has('expr')) {
      const exprNode = get('expr');
      const source = this.string(exprNode, '`expr`');
      if (source !== undefined) {
        const compiled = compileExpr(source);
        if (compiled.ok) expr = compiled.expr;
        else r.error(exprOffset(exprNode as Scalar, source, compiled.offset, r), `expression does not compile: ${compiled.message}`);
      }
      if (raw.has('from')) r.error(raw.get('expr')!.key, 'a field has either `from` (a system field) or `expr` (a computed value), not both');
    } else if (!raw.has('from')) {
      r.error(key, `\`${path}\` needs \`from\` (a system field) or \`expr\` (a computed value)`);
    }

    // Coercion.
    let type = DEFAULT_COERCION[canonical.kind]!;
    if (raw.has('type')) {
      nodes.type = get('type') ?? undefined;
      const t = scalar(get('type'));
      if (typeof t !== 'string' || !(COERCIONS as readonly string[]).includes(t)) {
        r.error(get('type'), `\`type\` must be one of ${list(COERCIONS)}`);
      } else if (!FITS[t as Coercion].includes(canonical.kind)) {
        r.error(get('type'), `type \`${t}\` does not fit \`${path}\`, which is ${KIND_WORDS[canonical.kind]}; use \`${DEFAULT_COERCION[canonical.kind]}\``);
      } else type = t as Coercion;
    }
    if (expr && !['dyn', 'null'].includes(expr.type)) {
      const celFits: Record<string, readonly Coercion[]> = {
        string: ['string', 'date', 'datetime', 'decimal'], int: ['integer', 'number', 'decimal', 'money'],
        double: ['number', 'decimal', 'money', 'integer'], bool: ['boolean'],
      };
      if (!(celFits[expr.type] ?? []).includes(type)) {
        r.error(get('expr'), `expression gives ${expr.type}, which does not fit \`${path}\` (${KIND_WORDS[canonical.kind]})`);
      }
    }

    // References.
    let ref: EntityName | undefined;
    if (raw.has('ref')) {
      const name = this.string(get('ref'), '`ref`');
      if (name !== undefined && !isEntityName(name)) r.error(get('ref'), `unknown entity \`${name}\`${suggest(name, Object.keys(ENTITIES))}`);
      else if (name !== undefined && canonical.kind !== 'id') r.error(get('ref'), `\`ref\` needs a canonical id field; \`${path}\` is ${KIND_WORDS[canonical.kind]}`);
      else ref = name as EntityName | undefined;
      if (raw.has('type')) r.error(raw.get('type')!.key, 'a reference holds an id; it takes no `type`');
    } else if (canonical.kind === 'id') {
      r.error(key, `\`${path}\` holds a canonical id: add \`ref: <Entity>\` so the system's id is resolved, e.g. \`ref: Account\``);
    }

    // Direction: computed fields only flow inbound (outbound ones are under `outbound:`).
    let direction: Direction = expr ? 'inbound' : defaults.direction ?? 'both';
    if (raw.has('direction')) {
      nodes.direction = get('direction') ?? undefined;
      const d = this.direction(get('direction'));
      if (d && expr && d !== 'inbound') r.error(get('direction'), 'a computed field (`expr`) can only be `inbound`; system fields computed from the canonical record go under `outbound:`');
      else if (d) direction = d;
    }

    // Value maps.
    let map: Map<string, unknown> | undefined;
    let reverse: Map<unknown, string> | undefined;
    if (raw.has('map')) {
      const parsed = this.valueMap(path, canonical, get('map'), raw.has('reverse') ? get('reverse') : null, direction, nodes);
      map = parsed?.map;
      reverse = parsed?.reverse;
      if (raw.has('type') && type !== 'string') r.error(get('type'), 'a value map reads the system value as a string; drop `type`');
    } else if (raw.has('reverse')) {
      r.error(raw.get('reverse')!.key, '`reverse` chooses among the values of `map`; this field has no `map`');
    }
    let keepUnmapped = false;
    if (raw.has('unmapped')) {
      const u = scalar(get('unmapped'));
      if (!raw.has('map')) r.error(raw.get('unmapped')!.key, '`unmapped` says what happens to values `map` does not name; this field has no `map`');
      else if (u !== 'keep' && u !== 'fail') r.error(get('unmapped'), '`unmapped` is `keep` (values the map does not name pass unchanged) or `fail` (they are a record error, the default)');
      else if (u === 'keep' && canonical.kind !== 'string') r.error(get('unmapped'), `\`unmapped: keep\` needs a free-text canonical field; \`${path}\` is ${KIND_WORDS[canonical.kind]}, whose values the map must name`);
      else keepUnmapped = u === 'keep';
    }

    const required = raw.has('required') ? this.bool(get('required'), '`required`') : canonical.required;
    let defaultValue: unknown;
    if (raw.has('default')) {
      const node = get('default');
      nodes.default = node ?? undefined;
      const problem = ['money', 'id'].includes(canonical.kind)
        ? `a default is not supported for ${KIND_WORDS[canonical.kind]}`
        : canonicalProblem(canonical, scalar(node));
      if (problem) r.error(node ?? raw.get('default')!.key, `default for \`${path}\`: ${problem}`);
      else defaultValue = normalizeScalar(canonical, scalar(node));
    }

    let timezone: string | undefined;
    if (raw.has('timezone')) {
      if (type !== 'date' && type !== 'datetime') r.error(raw.get('timezone')!.key, '`timezone` applies to `date` and `datetime` fields');
      timezone = this.timezone(get('timezone'), '`timezone`');
    }

    let currencyField: string | undefined;
    let defaultCurrency: CurrencyCode | undefined;
    if (raw.has('currency')) {
      nodes.currency = get('currency') ?? undefined;
      if (type !== 'money') r.error(raw.get('currency')!.key, '`currency` (the system field holding the currency code) applies to `money` fields');
      currencyField = this.string(get('currency'), '`currency`');
    }
    if (raw.has('defaultCurrency')) {
      if (type !== 'money') r.error(raw.get('defaultCurrency')!.key, '`defaultCurrency` applies to `money` fields');
      defaultCurrency = this.currency(get('defaultCurrency'), '`defaultCurrency`');
    }
    if (type === 'money') {
      defaultCurrency ??= defaults.currency;
      if (!currencyField && !defaultCurrency) {
        r.error(key, `\`${path}\` is money: name the system's currency field (\`currency: CurrencyIsoCode\`) or give a default currency (\`defaults.currency\` or \`defaultCurrency\`)`);
      }
    }

    let scale: number | undefined;
    if (raw.has('scale')) {
      const s = scalar(get('scale'));
      if (type !== 'decimal') r.error(raw.get('scale')!.key, '`scale` (fraction digits) applies to `decimal` fields');
      else if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > 18) r.error(get('scale'), '`scale` must be an integer from 0 to 18');
      else scale = s;
    }

    let systemType: FieldType = ref ? 'reference' : map ? 'picklist' : DEFAULT_SYSTEM_TYPE[type];
    if (raw.has('systemType')) {
      nodes.systemType = get('systemType') ?? undefined;
      const t = scalar(get('systemType'));
      if (typeof t !== 'string' || !(SYSTEM_TYPES as readonly string[]).includes(t)) {
        r.error(get('systemType'), `\`systemType\` must be one of ${list(SYSTEM_TYPES)}`);
      } else if (!ref && !map && !READS[type].includes(t as FieldType)) {
        r.error(get('systemType'), `a \`${type}\` field cannot be stored in a system field of type \`${t}\`; it can be ${list(READS[type])}`);
      } else systemType = t as FieldType;
    }

    let systemOfRecord = defaults.systemOfRecord ?? 'lww';
    if (raw.has('systemOfRecord')) systemOfRecord = this.owner(get('systemOfRecord')) ?? systemOfRecord;
    if (raw.has('description')) this.string(get('description'), '`description`');

    if (r.diagnostics.slice(errorsBefore).some((d) => d.severity === 'error')) return undefined;
    return {
      field: path, canonical, from, type, systemType, map, reverse, default: defaultValue, required, expr, direction,
      systemOfRecord, ref, timezone, dateZone: timezone ?? defaults.timezone ?? 'UTC', currencyField, defaultCurrency, scale,
      keepUnmapped: keepUnmapped || undefined, nodes,
    };
  }

  /**
   * A canonical list, in either shape: `from` names the system list (`Customer.Contacts[]` in a
   * document, the list field `item.items[]` of a record), `items` maps each item's fields relative
   * to its element; a list of scalars reads and writes each value at the path after `[]`
   * (`details.requirements.solutions[].id`), or as the element itself.
   */
  private listField(
    key: YamlNode, path: string, value: YamlNode | null, entity: string, canonical: CanonicalField, defaults: MappingDefaults,
  ): FieldMapping | undefined {
    const r = this.r;
    const raw = this.specEntries(key, path, value, LIST_KEYS);
    if (!raw) return undefined;
    const errorsBefore = r.diagnostics.length;
    const get = (k: string) => raw.get(k)?.value ?? null;
    const nodes: FieldNodes = { key, value: value ?? key };
    const item = canonical.item!;
    const document = this.shape === 'document';
    const example = document ? 'Customer.Contacts[]' : 'item.items[]';

    let direction: Direction = defaults.direction ?? 'both';
    if (raw.has('direction')) {
      nodes.direction = get('direction') ?? undefined;
      direction = this.direction(get('direction')) ?? direction;
    }

    let list: ListMapping | undefined;
    if (!raw.has('from')) r.error(key, `\`${path}\` needs \`from\`: the system list, e.g. \`from: ${example}\``);
    else {
      nodes.from = get('from') ?? undefined;
      const from = this.string(get('from'), '`from`');
      if (from !== undefined) {
        const [listPath, ...rest] = from.split('[]');
        const itemPath = rest.join('[]').replace(/^\./, '');
        if (rest.length > 1 || (rest.length === 1 && rest[0] !== '' && !rest[0].startsWith('.'))) {
          const examples = document ? '`Customer.Contacts[]`, `details.requirements.solutions[].id`' : '`item.items[]`, `tags[].name`';
          r.error(get('from'), `\`${from}\`: a list path has one \`[]\`, after the list's name (${examples})`);
        } else if (listPath === '') {
          r.error(get('from'), `\`${from}\` names no list: write the system list before \`[]\`, e.g. \`${example}\``);
        } else if (itemPath !== '' && raw.has('items')) {
          r.error(get('from'), `\`${from}\`: a list of objects maps its items' fields under \`items:\`; \`from\` names the list only (\`${listPath}[]\`)`);
        } else if (this.documentPath(listPath, get('from')) && this.documentPath(itemPath || undefined, get('from'))) {
          list = { path: listPath, itemPath };
        }
      }
    }

    const itemKind = item.kind;
    const itemFields = canonical.itemFields;
    if (raw.has('items')) {
      const itemsNode = get('items');
      if (!itemFields) r.error(raw.get('items')!.key, `\`${path}\` is a list of ${KIND_WORDS[itemKind].replace(/^an? /, '')} values; \`items\` maps the fields of objects`);
      else if (!isMap(itemsNode) || itemsNode.items.length === 0) r.error(itemsNode ?? raw.get('items')!.key, '`items` must be a map of item field → the element\'s field, e.g. `email: Email`');
      else {
        const items: FieldMapping[] = [];
        for (const e of entries(itemsNode)) {
          // An item flows the list's way, unless it says a narrower one (an `inbound` item of a `both` list).
          const mapped = this.field(e.key, e.name, e.value, `${entity} \`${path}\` item`, itemFields, { ...defaults, direction }, true);
          if (!mapped) continue;
          if (mapped.direction !== direction && direction !== 'both') {
            r.error(mapped.nodes.direction ?? e.key, mapped.expr && !mapped.nodes.direction
              ? `\`${e.name}\` is computed from the system's element, but \`${path}\` is only written (\`${direction}\`)`
              : `\`${path}\` is \`${direction}\`, and so are its items; \`${e.name}\` cannot be \`${mapped.direction}\``);
            continue;
          }
          items.push(mapped);
        }
        // Items read from the system must come out whole: every field the item requires is read.
        if (direction !== 'outbound') {
          const read = new Set(items.filter((i) => i.direction !== 'outbound').map((i) => i.field));
          const declared = new Set(entries(itemsNode).map((e) => e.name));
          for (const f of itemFields.values()) {
            if (!f.required || f.path === 'id' || f.path.includes('.') || read.has(f.path)) continue;
            if (declared.has(f.path) && !items.some((m) => m.field === f.path)) continue; // already reported
            r.error(raw.get('items')!.key, `\`${path}\` items require \`${f.path}\`, but no inbound item mapping sets it`);
          }
        }
        if (list) list.items = items;
      }
    } else if (itemFields) {
      r.error(key, `\`${path}\` is a list of objects: map their fields under \`items:\`, e.g. \`${[...itemFields.keys()][0] ?? 'field'}: Field\``);
    } else if (!['string', 'enum', 'integer', 'number', 'boolean', 'decimal', 'date'].includes(itemKind)) {
      r.error(key, `\`${path}\` is a list of ${KIND_WORDS[itemKind].replace(/^an? /, '')} values, which mappings cannot map`);
    }

    if (raw.has('where')) {
      const node = get('where');
      const source = this.string(node, '`where`');
      const compiled = source === undefined ? undefined : compileExpr(source);
      if (compiled && !compiled.ok) r.error(exprOffset(node as Scalar, source!, compiled.offset, r), `expression does not compile: ${compiled.message}`);
      else if (compiled?.ok) {
        if (!['bool', 'dyn'].includes(compiled.expr.type)) {
          r.error(node, `\`where\` is a condition over each item (\`record\`), true to keep it; this expression gives ${compiled.expr.type}`);
        }
        for (const read of itemFields ? compiled.expr.reads : []) {
          if (readProblem(read, itemFields!)) r.error(node, `\`${path}\` items have no field \`${read}\`${suggest(read, [...itemFields!.keys()])}`);
        }
        if (list) list.where = compiled.expr;
      }
    }

    let defaultValue: unknown;
    if (raw.has('default')) {
      const node = get('default');
      nodes.default = node ?? undefined;
      const values = isSeq(node) ? node.items.map((n) => scalar(n as YamlNode)) : undefined;
      const problem = !values ? 'must be a list, e.g. `[SaaS or PaaS]`'
        : itemFields ? 'is not supported for a list of objects'
          : values.map((v) => canonicalProblem(item, v)).find((p) => p !== undefined);
      if (problem) r.error(node ?? raw.get('default')!.key, `default for \`${path}\`: ${values && !itemFields ? 'each value ' : ''}${problem}`);
      else defaultValue = values!.map((v) => normalizeScalar(item, v));
    }
    const required = raw.has('required') ? this.bool(get('required'), '`required`') : canonical.required;
    let systemOfRecord = defaults.systemOfRecord ?? 'lww';
    if (raw.has('systemOfRecord')) systemOfRecord = this.owner(get('systemOfRecord')) ?? systemOfRecord;
    if (raw.has('description')) this.string(get('description'), '`description`');

    if (!list || r.diagnostics.slice(errorsBefore).some((d) => d.severity === 'error')) return undefined;
    const itemType = DEFAULT_COERCION[itemKind] ?? 'string';
    return {
      field: path, canonical, from: list.path, type: itemType, systemType: 'list', default: defaultValue, required,
      direction, systemOfRecord, dateZone: defaults.timezone ?? 'UTC', list, nodes,
    };
  }

  /** `outbound:` system path → CEL expression over the canonical record (or a spec with `expr`). */
  private outbound(node: YamlNode | null, entity: EntityName, canon: ReadonlyMap<string, CanonicalField>): OutboundMapping[] {
    const r = this.r;
    if (!isMap(node)) {
      r.error(node, '`outbound` must be a map of system field → CEL expression over the canonical record');
      return [];
    }
    const out: OutboundMapping[] = [];
    for (const e of entries(node)) {
      const errorsBefore = r.diagnostics.length;
      this.documentPath(e.name, e.key);
      const raw = new Map<string, YamlNode | null>();
      if (e.value && isScalar(e.value)) raw.set('expr', e.value);
      else if (isMap(e.value)) {
        for (const k of entries(e.value)) {
          if (!(OUTBOUND_KEYS as readonly string[]).includes(k.name)) r.error(k.key, `unknown key \`${k.name}\`${suggest(k.name, OUTBOUND_KEYS)}; an outbound field has ${list(OUTBOUND_KEYS)}`);
          else raw.set(k.name, k.value);
        }
      }
      const exprNode = raw.get('expr') ?? null;
      if (!raw.has('expr')) {
        r.error(e.value ?? e.key, `\`${e.name}\` needs a CEL expression over the canonical record, e.g. \`${e.name}: record.opportunity.name\``);
        continue;
      }
      const source = this.string(exprNode, '`expr`');
      if (source === undefined) continue;
      const compiled = compileExpr(source);
      if (!compiled.ok) {
        r.error(exprOffset(exprNode as Scalar, source, compiled.offset, r), `expression does not compile: ${compiled.message}`);
        continue;
      }
      for (const read of compiled.expr.reads) {
        const problem = readProblem(read, canon);
        if (problem) r.error(exprNode, `${entity} has no field \`${read}\`${suggest(read, [...canon.keys()])}`);
      }
      let type: OutboundMapping['type'];
      if (raw.has('type')) {
        const t = scalar(raw.get('type')!);
        if (typeof t !== 'string' || !(OUTBOUND_TYPES as readonly string[]).includes(t)) r.error(raw.get('type')!, `\`type\` of an outbound field must be one of ${list(OUTBOUND_TYPES)}`);
        else type = t as Coercion;
      }
      if (raw.has('description')) this.string(raw.get('description')!, '`description`');
      if (r.diagnostics.slice(errorsBefore).some((d) => d.severity === 'error')) continue;
      out.push({ target: e.name, expr: compiled.expr, type, nodes: { key: e.key, value: e.value ?? e.key, type: raw.get('type') ?? undefined } });
    }
    return out;
  }

  private bool(node: YamlNode | null, what: string): boolean {
    const v = scalar(node);
    if (typeof v === 'boolean') return v;
    this.r.error(node, `${what} must be true or false`);
    return false;
  }

  /**
   * `map` (system value → canonical value) and the reverse used to write back. Many system values
   * may map to one canonical value; writing back then needs an explicit `reverse:` choice.
   */
  private valueMap(
    path: string, canonical: CanonicalField, node: YamlNode | null, reverseNode: YamlNode | null, direction: Direction, nodes: FieldNodes,
  ): { map: Map<string, unknown>; reverse: Map<unknown, string> } | undefined {
    const r = this.r;
    if (!isMap(node) || node.items.length === 0) {
      r.error(node, '`map` must be a map of system value → canonical value');
      return undefined;
    }
    nodes.map = node;
    nodes.mapKeys = new Map();
    const map = new Map<string, unknown>();
    const sources = new Map<unknown, { names: string[]; node: YamlNode }>();
    for (const e of entries(node)) {
      const target = scalar(e.value);
      const problem = canonicalProblem(canonical, target);
      if (problem) {
        r.error(e.value ?? e.key, `\`${e.name}\` maps to ${JSON.stringify(target ?? null)}, but \`${path}\` ${problem}`);
        continue;
      }
      const value = normalizeScalar(canonical, target);
      map.set(e.name, value);
      nodes.mapKeys.set(e.name, e.key);
      const seen = sources.get(value);
      if (seen) seen.names.push(e.name);
      else sources.set(value, { names: [e.name], node: e.value ?? e.key });
    }

    const reverse = new Map<unknown, string>();
    const chosen = new Set<unknown>();
    if (reverseNode) {
      if (!isMap(reverseNode)) r.error(reverseNode, '`reverse` must be a map of canonical value → system value');
      else {
        for (const e of entries(reverseNode)) {
          const problem = canonicalProblem(canonical, e.name);
          const target = scalar(e.value);
          if (problem) r.error(e.key, `\`${e.name}\` ${problem.replace(/^must be/, 'is not valid: must be')}`);
          else if (typeof target !== 'string' && typeof target !== 'number' && typeof target !== 'boolean') r.error(e.value ?? e.key, `\`reverse.${e.name}\` needs a system value`);
          else if (!map.has(String(target))) r.error(e.value, `\`${String(target)}\` is not one of the system values in \`map\`${suggest(String(target), map.keys())}`);
          else {
            const canonicalValue = normalizeScalar(canonical, e.name);
            const forward = map.get(String(target));
            if (forward !== canonicalValue && sources.has(canonicalValue)) {
              r.error(e.value, `\`${String(target)}\` reads back as \`${String(forward)}\`, not \`${e.name}\`; choose one of ${list(sources.get(canonicalValue)!.names)}`);
            } else {
              reverse.set(canonicalValue, String(target));
              chosen.add(canonicalValue);
            }
          }
        }
      }
    }
    for (const [value, { names }] of sources) {
      if (chosen.has(value)) continue;
      if (names.length === 1) reverse.set(value, names[0]);
      else if (direction !== 'inbound') {
        const second = nodes.mapKeys.get(names[1]);
        r.error(second, `\`${String(value)}\` is the target of ${list(names)}, so writing it back is ambiguous; choose one under \`reverse:\`, e.g. \`${String(value)}: ${names[0]}\``);
      }
    }
    if (direction !== 'inbound' && canonical.enumValues) {
      const missing = canonical.enumValues.filter((v) => !reverse.has(v));
      if (missing.length > 0) {
        r.warning(node, `canonical ${list(missing)} ${missing.length === 1 ? 'has' : 'have'} no system value: records with ${missing.length === 1 ? 'it' : 'them'} will fail to write; add ${missing.length === 1 ? 'it' : 'them'} under \`reverse:\``);
      }
    }
    return { map, reverse };
  }

  /** A system field must not be written by two mappings (or a mapping and a constant). */
  private checkWrites(fields: FieldMapping[], outbound: OutboundMapping[], constantNodes: Map<string, YamlNode>): void {
    const writers = new Map<string, string>();
    const claim = (systemField: string, by: string, at: YamlNode | undefined) => {
      const other = writers.get(systemField);
      if (other) this.r.error(at, `system field \`${systemField}\` is written by both ${other} and ${by}; set \`direction: inbound\` on one`);
      else writers.set(systemField, by);
    };
    for (const [name, node] of constantNodes) claim(name, `constant \`${name}\``, node);
    for (const f of fields) {
      if (f.direction === 'inbound') continue;
      if (f.from) claim(f.from, `\`${f.field}\``, f.nodes.from);
      if (f.currencyField) claim(f.currencyField, `\`${f.field}\` (currency)`, f.nodes.currency);
      // Within each element of a list, too.
      const inElement = new Map<string, string>();
      for (const i of f.list?.items ?? []) {
        if (i.direction === 'inbound') continue;
        for (const [target, by, at] of [[i.from, `\`${f.field}.${i.field}\``, i.nodes.from], [i.currencyField, `\`${f.field}.${i.field}\` (currency)`, i.nodes.currency]] as const) {
          if (target === undefined) continue;
          const other = inElement.get(target);
          if (other) this.r.error(at, `\`${f.from}[].${target}\` is written by both ${other} and ${by}; set \`direction: inbound\` on one`);
          else inElement.set(target, by);
        }
      }
    }
    for (const o of outbound) claim(o.target, `outbound \`${o.target}\``, o.nodes.key);
  }
}

/**
 * Why an expression's `record.a.b` is not a field of the canonical record: undefined when it is,
 * or when it reaches into a value mappings do not describe further (money's amount and currency,
 * a list's items).
 */
function readProblem(path: string, canon: ReadonlyMap<string, CanonicalField>): string | undefined {
  if (canon.has(path)) return undefined;
  const parts = path.split('.');
  for (let i = parts.length - 1; i > 0; i--) {
    const prefix = canon.get(parts.slice(0, i).join('.'));
    if (!prefix) continue;
    const rest = parts.slice(i);
    if (prefix.kind === 'money' && rest.length === 1 && (rest[0] === 'amount' || rest[0] === 'currency')) return undefined;
    if (prefix.kind === 'array' || prefix.kind === 'other') return undefined;
    return 'unknown';
  }
  return 'unknown';
}

/** Why `value` is not a valid canonical value for `field` (undefined when it is). */
export function canonicalProblem(field: CanonicalField, value: unknown): string | undefined {
  switch (field.kind) {
    case 'enum':
      return typeof value === 'string' && field.enumValues!.includes(value) ? undefined : `must be one of ${list(field.enumValues!)}`;
    case 'string':
    case 'id':
      return typeof value === 'string' || typeof value === 'number' ? undefined : 'must be a string';
    case 'integer':
      return Number.isSafeInteger(value) ? undefined : 'must be an integer';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'must be a number';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'date':
      return typeof value === 'string' && isIsoDate(value) ? undefined : 'must be a date written YYYY-MM-DD';
    case 'datetime':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(value) ? undefined : 'must be a UTC instant such as 2024-05-01T12:00:00Z';
    case 'decimal':
      return (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) || (typeof value === 'number' && Number.isFinite(value)) ? undefined : 'must be a decimal number';
    default:
      return `is ${KIND_WORDS[field.kind]}`;
  }
}

function normalizeScalar(field: CanonicalField, value: unknown): unknown {
  if ((field.kind === 'string' || field.kind === 'decimal') && typeof value === 'number') return String(value);
  return value;
}

/** Points an expression error at its column inside a one-line scalar; else at the scalar. */
function exprOffset(node: Scalar, source: string, offset: number, r: Reporter): number {
  const start = r.offsetOf(node);
  const [from, to] = [node.range?.[0] ?? 0, node.range?.[1] ?? 0];
  if (node.type === Scalar.PLAIN && to - from === source.length) return start + offset;
  if ((node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE) && to - from === source.length + 2) return start + 1 + offset;
  return start;
}
