import type { Cursor, ObjectSpec } from '../../src/sync/protocol.js';

/**
 * Incremental reads go through CRM search sorted by the modified field (HubSpot allows one sort;
 * ties come back in hs_object_id order). Search stops at 10,000 results per query, so a read is a
 * series of queries ("partitions"), each starting strictly after the last (modified, id) seen.
 */
export const SEARCH_RESULT_CAP = 10_000;
export const SEARCH_PAGE_LIMIT = 200;

/** Where a query starts: strictly after (modifiedMs, id), or at modifiedMs inclusive when id is null. */
export interface SearchStart {
  modifiedMs: number;
  id: string | null;
}

export interface SearchFilterSpec {
  propertyName: string;
  operator: 'GT' | 'GTE' | 'EQ';
  value: string;
}

/** Starting point for a read: the cursor, or lookbackMs before it (inclusive, every id) to catch late-visible writes. */
export function startFromCursor(cursor: Cursor | null, lookbackMs = 0): SearchStart | null {
  if (!cursor) return null;
  const ms = Date.parse(cursor.modifiedAt);
  if (Number.isNaN(ms)) throw new Error(`cursor.modifiedAt is not an instant: ${cursor.modifiedAt}`);
  return lookbackMs > 0 ? { modifiedMs: ms - lookbackMs, id: null } : { modifiedMs: ms, id: cursor.id };
}

/** Filter groups (ORed) selecting every record at or after the start in (modified, id) order. */
export function filterGroupsFrom(spec: ObjectSpec, start: SearchStart | null): { filters: SearchFilterSpec[] }[] {
  if (!start) return [];
  const ms = String(start.modifiedMs);
  if (start.id === null) return [{ filters: [{ propertyName: spec.modifiedField, operator: 'GTE', value: ms }] }];
  return [
    { filters: [{ propertyName: spec.modifiedField, operator: 'GT', value: ms }] },
    { filters: [{ propertyName: spec.modifiedField, operator: 'EQ', value: ms }, { propertyName: spec.idField, operator: 'GT', value: start.id }] },
  ];
}

/** Whether the next page would reach past the per-query cap, so the read must start a new partition. */
export function mustRepartition(after: number, limit: number): boolean {
  return after + limit > SEARCH_RESULT_CAP;
}

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** HubSpot datetimes arrive as ISO (sometimes without ms) or epoch ms; cursors use ISO with ms. */
export function toIsoInstant(value: string | null | undefined): string {
  if (!value) return new Date(0).toISOString();
  if (ISO_MS.test(value)) return value;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return new Date(ms).toISOString();
}
