/**
 * Canonical values as the planner sees them: a flat map from canonical field path
 * ("name", "billingAddress.city") to a JSON value. `null` and absent mean the same thing (empty),
 * so a mapping that leaves an empty field out and one that writes null hash and compare equally.
 * Reference fields hold canonical ids (the mapping engine translates system ids both ways).
 */
import { canonicalJson, contentHash } from '../model/canonical-json.js';

export type CanonicalValues = Record<string, unknown>;

export const isEmpty = (v: unknown): v is null | undefined => v === null || v === undefined;

export { canonicalJson };

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

export { contentHash };

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A dotted path's value in nested values (or a flat key holding the whole path), and whether it is there. */
export function readPath(values: Record<string, unknown>, path: string): { found: boolean; value: unknown } {
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
