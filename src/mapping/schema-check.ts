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
 * a list whose elements' fields the schema lists (`Customer.Contacts`).
 */
function documentLookup(schema: SystemSchema, path: string): Found | undefined {
  const bare = path.replace(/\[\d+\]/g, '[]');
  const field = schema.fields.find((f) => f.name === bare);
  if (field) return { field, relationship: false };
  return schema.fields.some((f) => f.name.startsWith(`${bare}[].`)) ? { relationship: false, list: true } : undefined;
}

type Found = { field?: SystemField; relationship: boolean; list?: boolean };
type Lookup = (path: string) => Found | undefined;

export function checkAgainstSchema(spec: MappingSpec, schema: SystemSchema, r: Reporter): void {
  const names = schema.fields.map((f) => f.name);
  const missing = (path: string, at: YamlNode | undefined) =>
    r.error(at, `${where(spec)} has no field \`${path}\`${suggest(path.replace(/\[\d+\]/g, '[]'), names)}`);
  const writable = (f: SystemField) => f.createable || f.updateable;
  const find: Lookup = spec.shape === 'document' ? (p) => documentLookup(schema, p) : (p) => lookup(schema, p);

  for (const m of spec.fields) {
    if (m.list) {
      checkList(spec, m, find, r, missing, writable);
      continue;
    }
    if (m.from) checkSource(spec, find, m, r, missing, writable);
    if (m.currencyField) {
      const found = find(m.currencyField);
      if (!found) missing(m.currencyField, m.nodes.currency);
      else if (found.field && !['picklist', 'string'].includes(found.field.type)) {
        r.error(m.nodes.currency, `\`${m.currencyField}\` is a ${found.field.type} field in ${where(spec)}; a currency code lives in a picklist or string field`);
      } else if (found.field && m.direction !== 'inbound' && !writable(found.field)) {
        r.error(m.nodes.currency, `\`${m.currencyField}\` is read-only in ${where(spec)}; set \`direction: inbound\``);
      }
    }
    for (const read of m.expr?.reads ?? []) {
      if (!find(read)) missing(read, m.nodes.value);
    }
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

/** A list field: the system list exists, each item field exists and fits, defaults are real values. */
function checkList(
  spec: MappingSpec, m: FieldMapping, find: Lookup, r: Reporter,
  missing: (path: string, at: YamlNode | undefined) => void, writable: (f: SystemField) => boolean,
): void {
  const list = m.list!;
  const at = m.nodes.from;
  const target = list.itemPath ? `${list.path}[].${list.itemPath}` : list.path;
  if (list.items) {
    if (!find(list.path)) return missing(list.path, at);
    for (const item of list.items) checkSource(spec, find, { ...item, from: `${list.path}[].${item.from}` }, r, missing, writable);
    return;
  }
  const found = find(target);
  if (!found?.field) return missing(target, at);
  if (!writable(found.field)) r.error(at, `\`${target}\` is read-only in ${where(spec)}`);
  const allowed = found.field.picklistValues;
  if (allowed?.length && Array.isArray(m.default)) {
    for (const v of m.default as unknown[]) {
      if (!allowed.includes(String(v))) r.error(m.nodes.default, `default for \`${m.field}\`: \`${String(v)}\` is not a value of ${target} in ${where(spec)}${suggest(String(v), allowed)}`);
    }
  }
}

function checkSource(
  spec: MappingSpec, find: Lookup, m: FieldMapping, r: Reporter,
  missing: (path: string, at: YamlNode | undefined) => void, writable: (f: SystemField) => boolean,
): void {
  const from = m.from!;
  const at = m.nodes.from;
  const found = find(from);
  if (!found) return missing(from, at);
  if (!found.field) {
    if (m.direction !== 'inbound') r.error(at, `\`${from}\` is read through a relationship and cannot be written; set \`direction: inbound\``);
    return;
  }
  const f = found.field;
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
