/**
 * Compound cursors: (modifiedAt, id), ordered by instant then id. Ties on one instant are real
 * (Salesforce SystemModstamp), so a read resumes strictly after the pair, and goes back a
 * lookback window to catch writes that became visible late. Records read twice because of the
 * lookback are harmless: their content hash equals the link's and the planner skips them.
 */

import type { Cursor } from './protocol.js';

export type { Cursor };

function instant(text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new Error(`cursor time is not an ISO 8601 instant: ${JSON.stringify(text)}`);
  return ms;
}

/** Negative, zero or positive as a is before, equal to or after b; null is before everything. */
export function compareCursor(a: Cursor | null, b: Cursor | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  const dt = instant(a.modifiedAt) - instant(b.modifiedAt);
  if (dt !== 0) return dt < 0 ? -1 : 1;
  return compareIds(a.id, b.id);
}

const DIGITS = /^\d+$/;

/**
 * Ids in the order the systems sort them: numeric ids (HubSpot's, NetSuite's internal ids) as
 * numbers, so "110" follows "99"; any other ids (Salesforce's) as strings.
 */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length && DIGITS.test(a) && DIGITS.test(b)) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True when a record at (modifiedAt, id) comes strictly after the cursor (null: always). */
export function isAfterCursor(record: Cursor, cursor: Cursor | null): boolean {
  return compareCursor(record, cursor) > 0;
}

/**
 * Where the next read starts (exclusive): the cursor moved back by the lookback, with the
 * smallest id so every record at that instant is included. Null (never read) stays null: a
 * full read; a cursor with a resume token is left as it is.
 */
export function readWindow(cursor: Cursor | null, lookbackMs: number): Cursor | null {
  if (cursor === null) return null;
  // A read still under way (a bulk job) goes on where it stopped.
  if (cursor.resume !== undefined) return cursor;
  if (!(lookbackMs > 0)) return { modifiedAt: cursor.modifiedAt, id: cursor.id };
  return { modifiedAt: new Date(instant(cursor.modifiedAt) - lookbackMs).toISOString(), id: '' };
}

/** The greatest (modifiedAt, id) among the cursor and the records; never moves backwards. */
export function advanceCursor(cursor: Cursor | null, records: readonly Cursor[]): Cursor | null {
  let best = cursor;
  let bestMs = best === null ? -Infinity : instant(best.modifiedAt);
  for (const r of records) {
    const ms = instant(r.modifiedAt);
    if (best !== null && (ms < bestMs || (ms === bestMs && r.id <= best.id))) continue;
    best = r;
    bestMs = ms;
  }
  return best === null ? null : { modifiedAt: best.modifiedAt, id: best.id };
}
