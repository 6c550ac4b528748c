import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideConflict, mergeRecord, type MergeSide } from './merge.js';

const side = (system: string, modifiedAt: string | null, values: Record<string, unknown> | null = {}, fields = ['f', 'g']): MergeSide =>
  ({ system, values, modifiedAt, reads: new Set(fields), writable: new Set(fields) });

describe('decideConflict', () => {
  const s = side('salesforce', '2026-01-01T00:00:10Z');
  const h = side('hubspot', '2026-01-01T00:00:05Z');
  it.each([
    ['lww', s, h, 'source'],
    ['last-writer-wins', h, s, 'target'],
    ['lww', side('salesforce', '2026-01-01T00:00:05Z'), h, 'target'],
    ['lww', h, side('salesforce', '2026-01-01T00:00:05Z'), 'source'],
    ['lww', side('salesforce', null), h, 'target'],
    ['salesforce', s, h, 'source'],
    ['salesforce', h, s, 'target'],
    ['netsuite', s, h, null],
    ['manual', s, h, null],
  ] as const)('%s, %o vs %o → %s', (policy, source, target, winner) => {
    expect(decideConflict(policy, source, target)).toBe(winner);
  });
});

describe('mergeRecord (properties)', () => {
  const val = fc.constantFrom(null, 'x', 'y', 'z');
  const rec = fc.record({ f: val, g: val });
  const policy = fc.constantFrom('lww', 'manual', 'salesforce', 'hubspot');

  it('with an unchanged target, the source changes are exactly what is written to it', () => {
    fc.assert(fc.property(rec, rec, policy, (base, src, p) => {
      const m = mergeRecord({ base, source: side('salesforce', 'T2', src), target: side('hubspot', 'T1', base), policyFor: () => p });
      expect(m.conflicts).toEqual([]);
      expect(m.toSource).toEqual({});
      expect(Object.keys(m.toTarget).sort()).toEqual(m.changed);
      for (const f of m.changed) expect(m.agreed[f]).toBe(src[f as 'f']);
    }));
  });

  it('after the writes both sides hold the agreed value of every field without a conflict', () => {
    fc.assert(fc.property(rec, rec, rec, policy, (base, src, tgt, p) => {
      const m = mergeRecord({ base, source: side('salesforce', '2026-01-02T00:00:00Z', src), target: side('hubspot', '2026-01-01T00:00:00Z', tgt), policyFor: () => p });
      const conflicted = new Set(m.conflicts.map((c) => c.field));
      for (const f of ['f', 'g'] as const) {
        if (conflicted.has(f)) { expect(m.agreed[f] ?? null).toBe(base[f]); continue; }
        const afterSource = f in m.toSource ? m.toSource[f] : src[f];
        const afterTarget = f in m.toTarget ? m.toTarget[f] : tgt[f];
        if (m.changed.includes(f)) {
          expect(afterSource ?? null).toBe(m.agreed[f] ?? null);
          expect(afterTarget ?? null).toBe(m.agreed[f] ?? null);
        }
      }
    }));
  });

  it('never writes a field to a side that may not receive it', () => {
    fc.assert(fc.property(rec, rec, rec, (base, src, tgt) => {
      const target: MergeSide = { ...side('hubspot', 'T1', tgt), writable: new Set(['g']) };
      const source: MergeSide = { ...side('salesforce', 'T2', src), writable: new Set() };
      const m = mergeRecord({ base, source, target, policyFor: () => 'lww' });
      expect(Object.keys(m.toSource)).toEqual([]);
      expect(Object.keys(m.toTarget).every((f) => f === 'g')).toBe(true);
    }));
  });
});
