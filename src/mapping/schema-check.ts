/**
 * Checks a parsed mapping against the system's own field schema (a connector's `discover`):
 * the fields exist, their types fit, picklist values are real, and written fields are writable.
 */
import type { Node as YamlNode } from 'yaml';
import { suggest, type Reporter } from './diagnostics.js';
import { READS } from './parse.js';
import type { FieldMapping, MappingSpec, SystemField, SystemSchema } from './spec.js';

const where = (spec: MappingSpec) => `${spec.system} ${spec.object}`;

/**
 * A path names a field when the schema has it literally (HubSpot's `associations.companies`), or
 * when its first segment is a field or a relationship (Salesforce `Owner.Email` via `OwnerId`).
 */
function lookup(schema: SystemSchema, path: string): { field?: SystemField; relationship: boolean } | undefined {
  const literal = schema.fields.find((f) => f.name === path);
  if (literal) return { field: literal, relationship: false };
  const dot = path.indexOf('.');
  if (dot < 0) return undefined;
  const head = path.slice(0, dot);
  const viaRelationship = schema.fields.some((f) =>
    f.name === head || (f.type === 'reference' && (f.name === `${head}Id` || f.name === head.replace(/__r$/, '__c'))));
  return viaRelationship ? { relationship: true } : undefined;
}

/**
 * In a document, a path names a field when the schema lists it with its indexes as `[]`
 * (`Project.ExpectedCustomerSpend[0].Amount` → `Project.ExpectedCustomerSpend[].Amount`), or is
 * a list whose elements' fields the schema lists (`Customer.Contacts`), flat or as a list field's `items`.
 */
function documentLookup(schema: SystemSchema, path: string): Found | undefined {
  const bare = path.replace(/\[\d+\]/g, '[]');
  const field = schema.fields.find((f) => f.name === bare);
  if (field) return { field, relationship: false };
  if (schema.fields.some((f) => f.name.startsWith(`${bare}[].`))) return { relationship: false, list: true };
  const cut = bare.indexOf('[].');
  const holder = cut < 0 ? undefined : schema.fields.find((f) => f.name === bare.slice(0, cut) && f.type === 'list' && f.items);
  return holder ? documentLookup({ fields: holder.items! }, bare.slice(cut + 3)) : undefined;
}

type Found = { field?: SystemField; relationship: boolean; list?: boolean };
type Lookup = (path: string) => Found | undefined;
type Missing = (path: string, at: YamlNode | undefined) => void;

export function checkAgainstSchema(spec: MappingSpec, schema: SystemSchema, r: Reporter): void {
  const names = schema.fields.map((f) => f.name);
  const missing: Missing = (path, at) =>
    r.error(at, `${where(spec)} has no field \`${path}\`${suggest(path.replace(/\[\d+\]/g, '[]'), names)}`);
  const writable = (f: SystemField) => f.createable || f.updateable;
  const find: Lookup = spec.shape === 'document' ? (p) => documentLookup(schema, p) : (p) => lookup(schema, p);

  for (const m of spec.fields) {
    if (m.list) {
      if (spec.shape === 'document') checkDocumentList(spec, m, find, r, missing, writable);
      else checkRecordList(spec, m, schema, r, missing, writable);
      continue;
    }
    checkField(spec, m, find, r, missing, writable);
  }
  for (const [name, node] of spec.constantNodes) {
    const found = find(name);
    const value = String(spec.constants[name]);
    if (!found?.field) missing(name, node);
    else if (!writable(found.field)) r.error(node, `constant \`${name}\` is read-only in ${where(spec)}`);
    else if (found.field.picklistValues?.length && !found.field.picklistValues.includes(value)) {
      r.error(node, `constant \`${name}\`: \`${value}\` is not a value of ${name} in ${where(spec)}${suggest(value, found.field.picklistValues)}`);
    }
  }
  for (const o of spec.outbound) {
    const found = find(o.target);
    if (!found?.field) missing(o.target, o.nodes.key);
    else if (!writable(found.field)) r.error(o.nodes.key, `\`${o.target}\` is read-only in ${where(spec)}`);
  }
}

/**
 * One field (or one item field of a list): its source, currency field and expression reads.
 * `prefix` names the list an item field sits in (`item.items[].`), for messages.
 */
function checkField(
  spec: MappingSpec, m: FieldMapping, find: Lookup, r: Reporter, missing: Missing, writable: (f: SystemField) => boolean, prefix = '',
): void {
  if (m.from) checkSource(spec, find, m, r, missing, writable, prefix);
  if (m.currencyField) {
    const found = find(m.currencyField);
    const shown = prefix + m.currencyField;
    if (!found) missing(m.currencyField, m.nodes.currency);
    else if (found.field && !['picklist', 'string'].includes(found.field.type)) {
      r.error(m.nodes.currency, `\`${shown}\` is a ${found.field.type} field in ${where(spec)}; a currency code lives in a picklist or string field`);
    } else if (found.field && m.direction !== 'inbound' && !writable(found.field)) {
      r.error(m.nodes.currency, `\`${shown}\` is read-only in ${where(spec)}; set \`direction: inbound\``);
    }
  }
  for (const read of m.expr?.reads ?? []) {
    if (!find(read)) missing(read, m.nodes.value);
  }
}

/** A list in a document: the system list exists, each item field exists and fits, defaults are real values. */
function checkDocumentList(
  spec: MappingSpec, m: FieldMapping, find: Lookup, r: Reporter, missing: Missing, writable: (f: SystemField) => boolean,
): void {
  const list = m.list!;
  const at = m.nodes.from;
  const target = list.itemPath ? `${list.path}[].${list.itemPath}` : list.path;
  if (list.items) {
    if (!find(list.path)) return missing(list.path, at);
    const prefix = `${list.path}[].`;
    const itemFind: Lookup = (p) => find(prefix + p);
    const itemMissing: Missing = (p, node) => missing(prefix + p, node);
    for (const item of list.items) checkField(spec, item, itemFind, r, itemMissing, writable, prefix);
    return;
  }
  const found = find(target);
  if (!found?.field) return missing(target, at);
  if (m.direction !== 'inbound' && !writable(found.field)) r.error(at, `\`${target}\` is read-only in ${where(spec)}`);
  checkListDefault(spec, m, found.field, target, r);
}

/**
 * A list in a record: `from` names a field of type `list`, whose `items` describe the elements;
 * item fields are checked against those as fields are against the object's.
 */
function checkRecordList(
  spec: MappingSpec, m: FieldMapping, schema: SystemSchema, r: Reporter, missing: Missing, writable: (f: SystemField) => boolean,
): void {
  const list = m.list!;
  const at = m.nodes.from;
  const field = schema.fields.find((f) => f.name === list.path);
  if (!field) {
    if (lookup(schema, list.path)) r.error(at, `\`${list.path}\` is read through a relationship; \`${m.field}\` is a list, which maps to a list field of ${where(spec)}`);
    else missing(list.path, at);
    return;
  }
  if (field.type !== 'list') {
    r.error(at, `\`${list.path}\` is a ${field.type} field in ${where(spec)}, not a list; \`${m.field}\` is a list, which maps to a list field`);
    return;
  }
  if (m.direction !== 'inbound' && !writable(field)) {
    r.error(m.nodes.direction ?? at, `\`${list.path}\` is read-only in ${where(spec)}; set \`direction: inbound\``);
  }
  const elements: SystemSchema = { fields: field.items ?? [] };
  if (!field.items) return; // a list the connector does not describe further
  const prefix = `${list.path}[].`;
  const names = elements.fields.map((f) => prefix + f.name);
  const missingItem: Missing = (path, node) => r.error(node, `${where(spec)} has no field \`${prefix}${path}\`${suggest(prefix + path, names)}`);
  const find: Lookup = (p) => lookup(elements, p);
  if (list.items) {
    for (const item of list.items) checkField(spec, item, find, r, missingItem, writable, prefix);
  } else if (list.itemPath) {
    const found = find(list.itemPath);
    if (!found) return missingItem(list.itemPath, at);
    checkSource(spec, find, { ...m, list: undefined, from: list.itemPath }, r, missingItem, writable, prefix);
    if (found.field) checkListDefault(spec, m, found.field, prefix + list.itemPath, r);
  } else if (elements.fields.length > 0) {
    r.error(at, `\`${list.path}\` holds objects (${elements.fields.slice(0, 3).map((f) => `\`${f.name}\``).join(', ')}…); name the value's field after \`[]\`, e.g. \`${prefix}${elements.fields[0].name}\``);
  }
}

/** A list of values' default: each value a real value of the system field. */
function checkListDefault(spec: MappingSpec, m: FieldMapping, f: SystemField, target: string, r: Reporter): void {
  const allowed = f.picklistValues;
  if (!allowed?.length || !Array.isArray(m.default)) return;
  for (const v of m.default as unknown[]) {
    if (!allowed.includes(String(v))) r.error(m.nodes.default, `default for \`${m.field}\`: \`${String(v)}\` is not a value of ${target} in ${where(spec)}${suggest(String(v), allowed)}`);
  }
}

function checkSource(
  spec: MappingSpec, find: Lookup, m: FieldMapping, r: Reporter, missing: Missing, writable: (f: SystemField) => boolean, prefix = '',
): void {
  const from = prefix + m.from!;
  const at = m.nodes.from;
  const found = find(m.from!);
  if (!found) return missing(m.from!, at);
  if (!found.field) {
    if (m.direction !== 'inbound') r.error(at, `\`${from}\` is read through a relationship and cannot be written; set \`direction: inbound\``);
    return;
  }
  const f = found.field;
  if (f.type === 'list') {
    r.error(at, `\`${from}\` is a list field in ${where(spec)}; it maps to a canonical list (\`from: ${from}[]\`), not to \`${m.field}\``);
    return;
  }
  if (m.ref) {
    if (!['reference', 'id', 'string'].includes(f.type)) r.error(at, `\`${from}\` is a ${f.type} field in ${where(spec)}; \`ref\` needs a reference or id field`);
  } else if (m.map) {
    if (f.picklistValues && f.picklistValues.length > 0) {
      const allowed = new Set(f.picklistValues);
      for (const [value, keyNode] of m.nodes.mapKeys ?? []) {
        if (!allowed.has(value)) r.error(keyNode, `\`${value}\` is not a value of ${from} in ${where(spec)}${suggest(value, allowed)}`);
      }
      if (m.direction !== 'outbound' && !m.keepUnmapped) {
        const unmapped = f.picklistValues.filter((v) => !m.map!.has(v));
        if (unmapped.length > 0) {
          r.warning(m.nodes.map, `${from} values ${unmapped.map((v) => `\`${v}\``).join(', ')} have no mapping: records with them will fail to read`);
        }
      }
    }
  } else if (!READS[m.type].includes(f.type)) {
    r.error(m.nodes.type ?? at, `\`${from}\` is a ${f.type} field in ${where(spec)}; type \`${m.type}\` cannot read it`);
  } else if (m.type === 'date' && f.type === 'datetime' && m.systemType !== 'datetime') {
    r.error(m.nodes.type ?? at, `\`${from}\` is a datetime field in ${where(spec)}; add \`systemType: datetime\` so the date is written back as an instant`);
  } else if (m.systemType === 'datetime' && f.type === 'date') {
    r.error(m.nodes.systemType ?? at, `\`${from}\` is a date field in ${where(spec)}, not a datetime`);
  }
  if (m.direction !== 'inbound' && !writable(f)) {
    r.error(m.nodes.direction ?? at, `\`${from}\` is read-only in ${where(spec)}; set \`direction: inbound\``);
  }
}
