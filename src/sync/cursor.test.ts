import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { advanceCursor, compareCursor, compareIds, isAfterCursor, readWindow, type Cursor } from './cursor.js';

const c = (modifiedAt: string, id: string): Cursor => ({ modifiedAt, id });
const cursorArb = fc.record({
  modifiedAt: fc.integer({ min: 0, max: 10_000 }).map((s) => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString()),
  id: fc.string({ maxLength: 4 }),
});

describe('compareCursor', () => {
  it.each([
    [c('2026-01-01T00:00:00Z', 'b'), c('2026-01-01T00:00:01Z', 'a'), -1],
    [c('2026-01-01T00:00:01Z', 'a'), c('2026-01-01T00:00:00Z', 'b'), 1],
    [c('2026-01-01T00:00:00Z', 'a'), c('2026-01-01T00:00:00Z', 'b'), -1],
    [c('2026-01-01T00:00:00.000Z', 'a'), c('2026-01-01T00:00:00Z', 'a'), 0],
    [c('2026-01-01T00:00:00.000+00:00', 'b'), c('2026-01-01T00:00:00Z', 'a'), 1],
    [null, c('2026-01-01T00:00:00Z', ''), -1],
    [c('2026-01-01T00:00:00Z', ''), null, 1],
    [null, null, 0],
  ])('%j vs %j → %i', (a, b, expected) => {
    expect(compareCursor(a, b)).toBe(expected);
  });

  it('rejects a time that is not an instant', () => {
    expect(() => compareCursor(c('yesterday', 'a'), c('2026-01-01T00:00:00Z', 'a'))).toThrow(/ISO 8601/);
  });

  it('is a total order (antisymmetric, transitive)', () => {
    fc.assert(fc.property(cursorArb, cursorArb, cursorArb, (a, b, d) => {
      expect(Math.sign(compareCursor(a, b))).toBe(-Math.sign(compareCursor(b, a)) || 0);
      if (compareCursor(a, b) <= 0 && compareCursor(b, d) <= 0) expect(compareCursor(a, d)).toBeLessThanOrEqual(0);
    }));
  });
});

describe('compareIds', () => {
  it('orders numeric ids (HubSpot\'s, NetSuite\'s) as numbers and other ids as strings', () => {
    expect(['110', '99', '1000', '100'].sort(compareIds)).toEqual(['99', '100', '110', '1000']);
    expect(['001B', '001A', '0019'].sort(compareIds)).toEqual(['0019', '001A', '001B']);
    expect(compareCursor({ modifiedAt: '2024-05-01T00:00:00Z', id: '110' }, { modifiedAt: '2024-05-01T00:00:00Z', id: '99' })).toBe(1);
  });

  it('agrees with numeric order on every pair of whole numbers', () => {
    fc.assert(fc.property(fc.nat(), fc.nat(), (a, b) => Math.sign(compareIds(String(a), String(b))) === Math.sign(a - b)));
  });
});

describe('readWindow', () => {
  it.each([
    [null, 60_000, null],
    [c('2026-01-01T00:10:00.000Z', '001A'), 0, c('2026-01-01T00:10:00.000Z', '001A')],
    [c('2026-01-01T00:10:00.000Z', '001A'), 60_000, c('2026-01-01T00:09:00.000Z', '')],
    [c('2026-01-01T00:10:00Z', '001A'), 1, c('2026-01-01T00:09:59.999Z', '')],
  ])('%j with lookback %i starts after %j', (cursor, lookback, expected) => {
    expect(readWindow(cursor, lookback)).toEqual(expected);
  });

  it('includes every record from the lookback instant on, and never starts after the cursor', () => {
    fc.assert(fc.property(cursorArb, fc.integer({ min: 1, max: 100_000 }), cursorArb, (cursor, lookback, record) => {
      const start = readWindow(cursor, lookback);
      expect(compareCursor(start, cursor)).toBeLessThanOrEqual(0);
      const ms = Date.parse(record.modifiedAt);
      if (ms >= Date.parse(cursor.modifiedAt) - lookback && record.id !== '') expect(isAfterCursor(record, start)).toBe(true);
    }));
  });
});

describe('advanceCursor', () => {
  it('takes the greatest (modifiedAt, id), ties broken by id', () => {
    const page = [c('2026-01-01T00:00:05Z', '001B'), c('2026-01-01T00:00:05Z', '001C'), c('2026-01-01T00:00:04Z', '001Z')];
    expect(advanceCursor(null, page)).toEqual(c('2026-01-01T00:00:05Z', '001C'));
    expect(advanceCursor(null, [])).toBeNull();
  });

  it('never moves backwards and covers every record of the page', () => {
    fc.assert(fc.property(fc.option(cursorArb, { nil: null }), fc.array(cursorArb, { maxLength: 20 }), (cursor, page) => {
      const next = advanceCursor(cursor, page);
      expect(compareCursor(next, cursor)).toBeGreaterThanOrEqual(0);
      for (const r of page) expect(compareCursor(next, r)).toBeGreaterThanOrEqual(0);
      // Advancing again with the same page (a lookback re-read) changes nothing.
      expect(advanceCursor(next, page)).toEqual(next);
    }));
  });
});
