import { hash } from 'node:crypto';

// Only non-ASCII text can change under NFC: most values skip ICU.
const ASCII = /^[\x00-\x7f]*$/;

/**
 * JSON with sorted keys, without undefined/null members or empty objects, strings in NFC, -0 as
 * 0: equal values, equal text. The mapping engine hashes what it reads with it and the sync
 * planner predicts the hash a side will read back after our write with it, so both must use
 * this one function: echo suppression depends on the two agreeing.
 */
export function canonicalJson(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return JSON.stringify(ASCII.test(value) ? value : value.normalize('NFC'));
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

/** SHA-256 hex of a record's canonical JSON: equal content, equal hash, whatever the key order. */
export function contentHash(values: Record<string, unknown>): string {
  return hash('sha256', canonicalJson(values) ?? '{}', 'hex');
}
