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

/**
 * Equal as canonical JSON (null, absent and {} are all "empty"; strings compare in NFC), without
 * building the JSON: the planner compares every field of every record.
 */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const ea = isEmptyValue(a);
  const eb = isEmptyValue(b);
  if (ea || eb) return ea && eb;
  const ta = typeof a;
  const tb = typeof b;
  if (ta === 'string') return tb === 'string' && nfc(a as string) === nfc(b as string);
  if (ta !== 'object' || tb !== 'object') return ta === 'bigint' || tb === 'bigint' ? String(a) === String(b) : false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!valuesEqual(a[i], b[i])) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const k in x) if (Object.hasOwn(x, k) && !valuesEqual(x[k], Object.hasOwn(y, k) ? y[k] : undefined)) return false;
  for (const k in y) if (Object.hasOwn(y, k) && !Object.hasOwn(x, k) && !isEmptyValue(y[k])) return false;
  return true;
}

const ASCII = /^[\x00-\x7f]*$/;
const nfc = (text: string) => (ASCII.test(text) ? text : text.normalize('NFC'));

/** What canonical JSON leaves out: null, undefined, a non-finite number, an object of such only. */
function isEmptyValue(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === 'number') return !Number.isFinite(v);
  if (typeof v !== 'object' || Array.isArray(v)) return false;
  for (const k in v) if (Object.hasOwn(v, k) && !isEmptyValue((v as Record<string, unknown>)[k])) return false;
  return true;
}

export { contentHash };

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Field paths repeat record after record: split each once. */
const split = new Map<string, readonly string[]>();
export function pathParts(path: string): readonly string[] {
  let parts = split.get(path);
  if (parts === undefined) {
    parts = path.split('.');
    if (split.size < 10_000) split.set(path, parts);
  }
  return parts;
}

const NOT_FOUND = Object.freeze({ found: false as const, value: undefined });

/** A dotted path's value in nested values (or a flat key holding the whole path), and whether it is there. */
export function readPath(values: Record<string, unknown>, path: string): { found: boolean; value: unknown } {
  if (Object.hasOwn(values, path)) return { found: true, value: values[path] };
  const parts = pathParts(path);
  if (parts.length === 1) return NOT_FOUND;
  let node: unknown = values;
  for (const part of parts) {
    if (!isPlainObject(node) || !Object.hasOwn(node, part)) return NOT_FOUND;
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
    roots.add(pathParts(path)[0]);
    const { found, value } = readPath(values, path);
    if (found) out[path] = value ?? null;
    else if (fillMissing) out[path] = null;
  }
  for (const key in values) {
    if (Object.hasOwn(values, key) && !roots.has(key) && !Object.hasOwn(out, key)) out[key] = values[key] ?? null;
  }
  return out;
}

/** Inverse of toFields: dotted paths become nested objects; empty values are left out. */
export function toNested(fields: CanonicalValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of Object.keys(fields).sort()) {
    const value = fields[path];
    if (isEmpty(value)) continue;
    const parts = pathParts(path);
    let node = out;
    for (let i = 0; i < parts.length - 1; i++) {
      if (!isPlainObject(node[parts[i]])) node[parts[i]] = {};
      node = node[parts[i]] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
  }
  return out;
}
