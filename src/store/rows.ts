/** Small helpers shared by the repositories to turn driver rows into plain values. */

/** Timestamps leave the store as ISO 8601 UTC strings (JSON-safe: they cross Temporal activities). */
export function iso(value: unknown): string {
  return (value instanceof Date ? value : new Date(String(value))).toISOString();
}

export function isoOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : iso(value);
}

/**
 * JSON parameters are sent as text and cast with ::jsonb in SQL. Passing objects or arrays
 * directly would let each driver pick its own encoding (pg turns a JS array into a Postgres
 * array literal), so this keeps both drivers identical.
 */
export function json(value: unknown): string {
  return JSON.stringify(value);
}

/** Keeps the last item per key, in first-seen order: one statement may not touch a row twice. */
export function lastPerKey<T>(items: readonly T[], key: (item: T) => string | null): T[] {
  const byKey = new Map<string, T>();
  const unkeyed: T[] = [];
  for (const item of items) {
    const k = key(item);
    if (k === null) unkeyed.push(item);
    else byKey.set(k, item);
  }
  return [...byKey.values(), ...unkeyed];
}

/** Postgres unique_violation (SQLSTATE 23505), as raised by both drivers. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

/** Distinct uuids, lower-cased as Postgres prints them. */
export function uniqueUuids(ids: readonly string[]): string[] {
  return [...new Set(ids.map((id) => id.toLowerCase()))];
}
