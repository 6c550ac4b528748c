/**
 * Canonical values as the planner sees them: a flat map from canonical field path
 * ("name", "billingAddress.city") to a JSON value. `null` and absent mean the same thing (empty),
 * so a mapping that leaves an empty field out and one that writes null hash and compare equally.
 * Reference fields hold canonical ids (the mapping engine translates system ids both ways).
 */
import { createHash } from 'node:crypto';

export type CanonicalValues = Record<string, unknown>;

export const isEmpty = (v: unknown): v is null | undefined => v === null || v === undefined;

/**
 * JSON with sorted keys, without undefined/null members or empty objects, strings in NFC, -0 as
 * 0: equal values, equal text. The same rules as the mapping engine's hash input, so the hash
 * we predict for a side after our write is the hash its mapping computes when reading it back.
 */
export function canonicalJson(value: unknown): string | undefined {
  if (isEmpty(value)) return undefined;
  if (typeof value === 'string') return JSON.stringify(value.normalize('NFC'));
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value === 0 ? 0 : value) : undefined;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return '[' + value.map((v) => canonicalJson(v) ?? 'null').join(',') + ']';
  if (typeof value === 'object') {
    const parts: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const inner = canonicalJson((value as Record<string, unknown>)[key]);
      if (inner !== undefined) parts.push(JSON.stringify(key) + ':' + inner);
    }
    return parts.length === 0 ? undefined : '{' + parts.join(',') + '}';
  }
  return undefined;
}

/** Equal as canonical JSON: null, absent and {} are all "empty". */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const ta = typeof a;
  // Fast paths for the common scalar cases; objects go through canonical JSON.
  if (ta === 'string' && typeof b === 'string') return (a as string).normalize('NFC') === b.normalize('NFC');
  if (isEmpty(a)) return canonicalJson(b) === undefined;
  if (isEmpty(b)) return canonicalJson(a) === undefined;
  if (ta !== 'object' || typeof b !== 'object') return false;
  return canonicalJson(a) === canonicalJson(b);
}

/**
 * SHA-256 hex of the canonical JSON of a record's values: the mapping engine's content hash
 * (CompiledMapping.hash) of the same fields. If the two ever differ nothing breaks: an echo then
 * costs a field comparison instead of a hash comparison.
 */
export function contentHash(values: CanonicalValues): string {
  return createHash('sha256').update(canonicalJson(values) ?? '{}').digest('hex');
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function readPath(values: Record<string, unknown>, path: string): { found: boolean; value: unknown } {
  if (Object.hasOwn(values, path)) return { found: true, value: values[path] };
  let node: unknown = values;
  for (const part of path.split('.')) {
    if (!isPlainObject(node) || !Object.hasOwn(node, part)) return { found: false, value: undefined };
    node = node[part];
  }
  return { found: true, value: node };
}

/**
 * Flattens values (nested like a canonical record, or already keyed by dotted path) to the
 * given field paths. A listed path the values do not carry becomes null when `fillMissing`
 * (the side maps it, so absent means empty); top-level keys no listed path covers are kept
 * as fields of their own.
 */
export function toFields(values: Record<string, unknown>, paths: readonly string[], fillMissing: boolean): CanonicalValues {
  const out: CanonicalValues = {};
  const roots = new Set<string>();
  for (const path of paths) {
    roots.add(path.split('.')[0]);
    const { found, value } = readPath(values, path);
    if (found) out[path] = value ?? null;
    else if (fillMissing) out[path] = null;
  }
  for (const [key, value] of Object.entries(values)) {
    if (!roots.has(key) && !Object.hasOwn(out, key)) out[key] = value ?? null;
  }
  return out;
}

/** Inverse of toFields: dotted paths become nested objects; empty values are left out. */
export function toNested(fields: CanonicalValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of Object.keys(fields).sort()) {
    const value = fields[path];
    if (isEmpty(value)) continue;
    const parts = path.split('.');
    let node = out;
    for (const part of parts.slice(0, -1)) {
      if (!isPlainObject(node[part])) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
  }
  return out;
}
