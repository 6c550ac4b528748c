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
  switch (typeof value) {
    case 'string': return quote(value);
    case 'number': return Number.isFinite(value) ? JSON.stringify(value === 0 ? 0 : value) : undefined;
    case 'boolean': return value ? 'true' : 'false';
    case 'bigint': return value.toString();
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + (canonicalJson(value[i]) ?? 'null');
        return out + ']';
      }
      const keys = Object.keys(value);
      if (keys.length > 1) keys.sort();
      let out = '';
      for (const key of keys) {
        const inner = canonicalJson((value as Record<string, unknown>)[key]);
        if (inner !== undefined) out += (out === '' ? '{' : ',') + quotedKey(key) + ':' + inner;
      }
      return out === '' ? undefined : out + '}';
    }
    default: return undefined;
  }
}

const quote = (text: string) => JSON.stringify(ASCII.test(text) ? text : text.normalize('NFC'));

/** Field names repeat record after record: quote each once. */
const keys = new Map<string, string>();
function quotedKey(key: string): string {
  let quoted = keys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (keys.size < 10_000) keys.set(key, quoted);
  }
  return quoted;
}

/** SHA-256 hex of a record's canonical JSON: equal content, equal hash, whatever the key order. */
export function contentHash(values: Record<string, unknown>): string {
  return hash('sha256', canonicalJson(values) ?? '{}', 'hex');
}
