/**
 * Canonical values as the planner sees them: a flat map from canonical field path
 * ("name", "billingAddress.city") to a JSON value. `null` and absent mean the same thing (empty),
 * so a mapping that leaves an empty field out and one that writes null hash and compare equally.
 */
import { createHash } from 'node:crypto';

export type CanonicalValues = Record<string, unknown>;

export const isEmpty = (v: unknown): v is null | undefined => v === null || v === undefined;

/** JSON with object keys sorted and empty object members dropped: equal values, equal text. */
export function stableStringify(value: unknown): string {
  if (isEmpty(value)) return 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.keys(value as object)
      .filter((k) => !isEmpty((value as Record<string, unknown>)[k]))
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isEmpty(a) || isEmpty(b)) return isEmpty(a) && isEmpty(b);
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  return stableStringify(a) === stableStringify(b);
}

/**
 * SHA-256 of the stable JSON of a record's values. The default hash of the planner; the mapping
 * engine's content hash should be the same function of the same (side-space) values, so our
 * own writes are recognised on the fast path. If they differ nothing breaks: an echo then
 * costs a field comparison instead of a hash comparison.
 */
export function contentHash(values: CanonicalValues): string {
  return createHash('sha256').update(stableStringify(values)).digest('hex');
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
