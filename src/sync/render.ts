/**
 * Between a system's fields and canonical values, around the mapping files: translating
 * references through links, reading another system's current record, rendering a planned write as
 * the system's fields, and reading a lossy system's own words for an agreed value as that value.
 */
import type { Member } from './hub.js';
import type { CurrentRecord } from './plan.js';
import type { FieldIssue, Mapper, StoredLink } from './ports.js';
import { TOMBSTONE_HASH } from './ports.js';
import type { SourceRecord, WriteError } from './protocol.js';
import type { EntityName } from '../model/index.js';
import { contentHash, readPath, valuesEqual } from './values.js';

/** Sets a dotted path in a nested record, creating objects on the way; returns the record. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value ?? null;
  return target;
}

/**
 * Reference translation for one system through the links at hand, indexed once: system id →
 * canonical id (reading) and canonical id → system id (writing; tombstoned links do not count).
 */
export function references(member: Member, links: readonly StoredLink[]) {
  const objectOf = new Map(Object.values(member.references).map((r) => [r.entity as string, r.object]));
  const byExternal = new Map<string, string>();
  const byCanonical = new Map<string, string>();
  for (const l of links) {
    if (l.instance !== member.system.instance) continue;
    byExternal.set(`${l.object}\u0000${l.externalId}`, l.canonicalId);
    if (l.lastHash !== TOMBSTONE_HASH) byCanonical.set(`${l.object}\u0000${l.canonicalId.toLowerCase()}`, l.externalId);
  }
  return {
    resolveRef: (entity: EntityName, externalId: string) => {
      const object = objectOf.get(entity);
      return object === undefined ? undefined : byExternal.get(`${object}\u0000${externalId}`);
    },
    externalRef: (entity: EntityName, canonicalId: string) => {
      const object = objectOf.get(entity);
      return object === undefined ? undefined : byCanonical.get(`${object}\u0000${canonicalId.toLowerCase()}`);
    },
  };
}

/** Another system's current record, forward-mapped (a record that does not map shows nothing). */
export function toCurrent(r: SourceRecord, member: Member, refs: ReturnType<typeof references>): CurrentRecord {
  const out = member.mapper.forward(r.fields, refs);
  const values = out.ok ? out.value : {};
  return { externalId: r.id, modifiedAt: r.modifiedAt, values, hash: contentHash(values), unresolved: unresolvedOf(out.unresolved), raw: r.fields };
}

const unresolvedOf = (list: readonly { field: string; id: string }[]) => (list.length > 0 ? list.map((u) => ({ field: u.field, id: u.id })) : undefined);

/**
 * A system's values with every field that shows exactly what this system would show for the
 * agreed value replaced by the agreed value. What a system shows for the agreed value is its
 * mapping's forward(reverse(agreed)): for a lossless field the agreed value itself, for a lossy
 * one the system's nearest word for it (three Salesforce stages read as one canonical stage).
 * References and fields the system only sends are left alone. Returns `values` itself when nothing moved.
 */
export function agreedWhereUnchanged(mapper: Mapper, values: Record<string, unknown>, agreed: Record<string, unknown>): Record<string, unknown> {
  const written = mapper.reverse(agreed);
  if (!written.ok) return values;
  const shown = mapper.forward(written.value);
  if (!shown.ok) return values;
  return agreedWhereShown(mapper, values, agreed, shown.value);
}

/** agreedWhereUnchanged, given what the system shows for the agreed record (`shown`). */
export function agreedWhereShown(mapper: Mapper, values: Record<string, unknown>, agreed: Record<string, unknown>, shown: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const info of mapper.fields) {
    // Only fields we write and read back can show our rendering; a field the system only sends
    // (inbound) holds its own value, empty included.
    if (info.direction !== 'both' || info.ref) continue;
    const mine = readPath(values, info.field).value;
    const theirs = readPath(agreed, info.field).value;
    if (theirs === undefined || valuesEqual(mine, theirs) || !valuesEqual(mine, readPath(shown, info.field).value)) continue;
    out ??= structuredClone(values);
    setPath(out, info.field, theirs);
  }
  return out ?? values;
}

/**
 * A planned write (canonical fields) → the system's fields. reverse() renders every outbound
 * field (it takes the record as whole), so only the system fields behind the canonical fields
 * in the write are kept (and the mapping's constants): the others would be cleared.
 */
export function renderWrite(mapper: Mapper, fields: Record<string, unknown>, externalRef: (entity: EntityName, id: string) => string | undefined): { fields: Record<string, unknown> } | { error: WriteError } {
  const out = mapper.reverse(fields, { externalRef });
  if (!out.ok) return { error: mappingError(out.errors) };
  const keep = new Set<string>();
  const mapped = new Set<string>();
  for (const info of mapper.fields) {
    if (info.from) mapped.add(info.from);
    if (info.currencyField) mapped.add(info.currencyField);
    if (info.direction === 'inbound' || !readPath(fields, info.field).found) continue;
    if (info.from) keep.add(info.from);
    if (info.currencyField) keep.add(info.currencyField);
  }
  const picked: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(out.value)) if (keep.has(name) || !mapped.has(name)) picked[name] = value;
  return { fields: picked };
}

function mappingError(errors: readonly FieldIssue[]): WriteError {
  return { code: 'MAPPING_' + errors[0].code.toUpperCase(), message: errors.map((e) => `${e.field}: ${e.message}`).join('; '), fields: errors.map((e) => e.field) };
}
