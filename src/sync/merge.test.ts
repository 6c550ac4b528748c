import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFields, decideConflict, mergeRecord, type MergeSide } from './merge.js';

const T = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();
const FIELDS = ['f', 'g'];

/** A side that reads and accepts `fields`; `values` null: not read. */
function side(name: string, modifiedAt: string | null, values: Record<string, unknown> | null = {}, over: Partial<MergeSide> = {}): MergeSide {
  return { name, kind: name, values, modifiedAt, reads: new Set(FIELDS), writable: new Set(FIELDS), ...over };
}

const merge = (base: Record<string, unknown>, sides: MergeSide[], policy: string | ((field: string) => string) = 'lww') =>
  mergeRecord({ base, sides, policyFor: typeof policy === 'string' ? () => policy : policy });

describe('decideConflict', () => {
  const sf = side('salesforce', T(10));
  const hs = side('hubspot', T(5));

  it.each([
    ['lww', [sf, hs], 'salesforce'],
    ['last-writer-wins', [hs, sf], 'salesforce'],
    ['lww', [side('salesforce', T(5)), hs], 'hubspot'],
    ['lww', [hs, side('salesforce', T(5))], 'hubspot'],
    ['lww', [side('salesforce', null), hs], 'hubspot'],
    ['salesforce', [sf, hs], 'salesforce'],
    ['salesforce', [hs, sf], 'salesforce'],
    ['hubspot', [sf, hs], 'hubspot'],
    ['netsuite', [sf, hs], null],
    ['manual', [sf, hs], null],
  ] as const)('%s among %o → %s', (policy, changers, winner) => {
    expect(decideConflict(policy, changers)?.name ?? null).toBe(winner);
  });

  it('lww over three sides: the latest modifiedAt wins', () => {
    const ns = side('netsuite', T(7));
    expect(decideConflict('lww', [hs, ns, sf])).toBe(sf);
    expect(decideConflict('lww', [hs, ns])).toBe(ns);
  });

  it('lww tie over three sides: the name that sorts first wins, whatever the order', () => {
    const tied = [side('netsuite', T(5)), side('salesforce', T(5)), side('hubspot', T(5))];
    expect(decideConflict('lww', tied)?.name).toBe('hubspot');
    expect(decideConflict('lww', [...tied].reverse())?.name).toBe('hubspot');
  });

  it('names a system of record by name or by kind', () => {
    const eu = side('hubspot-eu', T(1), {}, { kind: 'hubspot' });
    const ns = side('netsuite', T(9));
    expect(decideConflict('hubspot-eu', [ns, eu])).toBe(eu);
    expect(decideConflict('hubspot', [ns, eu])).toBe(eu);
    expect(decideConflict('erp', [ns, eu])).toBeNull();
  });

  it('a side that wins every disagreement beats lww, a system of record and manual', () => {
    const ecosync = side('ecosync', T(1), {}, { wins: true });
    for (const policy of ['lww', 'salesforce', 'manual']) expect(decideConflict(policy, [sf, ecosync, hs])).toBe(ecosync);
  });
});

describe('mergeRecord: two sides', () => {
  it('writes one side\'s change to the other, not back to itself', () => {
    const m = merge({ f: 'x', g: 'y' }, [side('salesforce', T(10), { f: 'z', g: 'y' }), side('hubspot', T(5), { f: 'x', g: 'y' })]);
    expect(m).toEqual({ agreed: { f: 'z', g: 'y' }, changed: ['f'], writes: [{}, { f: 'z' }], conflicts: [] });
  });

  it('writes a cleared field as null, and treats absent and null alike', () => {
    const m = merge({ f: 'x', g: 'y' }, [side('salesforce', T(10), { f: null, g: 'y' }), side('hubspot', T(5), { f: 'x' })]);
    expect(m.agreed).toEqual({ f: null, g: 'y' });
    expect(m.writes).toEqual([{}, { f: null }]);
  });

  it('writes every changed field it accepts to a side that was not read', () => {
    const m = merge({ f: 'x', g: 'y' }, [side('salesforce', T(10), { f: 'z', g: 'y' }), side('hubspot', null, null)]);
    expect(m.writes).toEqual([{}, { f: 'z' }]);
  });

  it('merges disjoint changes both ways', () => {
    const m = merge({ f: 'x', g: 'y' }, [side('salesforce', T(10), { f: 'z', g: 'y' }), side('hubspot', T(5), { f: 'x', g: 'w' })]);
    expect(m.agreed).toEqual({ f: 'z', g: 'w' });
    expect(m.writes).toEqual([{ g: 'w' }, { f: 'z' }]);
  });

  it('keeps base fields no side shows', () => {
    const m = merge({ f: 'x', g: 'y', h: 'kept' }, [side('salesforce', T(10), { f: 'x', g: 'y' }), side('hubspot', null, null)]);
    expect(m).toEqual({ agreed: { f: 'x', g: 'y', h: 'kept' }, changed: [], writes: [{}, {}], conflicts: [] });
  });
});

describe('mergeRecord: three and four sides', () => {
  it('writes one side\'s change to every other side that accepts it', () => {
    const m = merge({ f: 'x' }, [side('a', T(3), { f: 'y' }), side('b', T(2), { f: 'x' }), side('c', T(1), { f: 'x' })]);
    expect(m.agreed).toEqual({ f: 'y' });
    expect(m.changed).toEqual(['f']);
    expect(m.writes).toEqual([{}, { f: 'y' }, { f: 'y' }]);
  });

  it('merges four sides each changing a field of its own', () => {
    const base = { f: 1, g: 1, h: 1, i: 1 };
    const reads = new Set(Object.keys(base));
    const four = ['a', 'b', 'c', 'd'].map((name, i) =>
      side(name, T(i), { ...base, [Object.keys(base)[i]]: 2 }, { reads, writable: reads }));
    const m = merge(base, four);
    expect(m.agreed).toEqual({ f: 2, g: 2, h: 2, i: 2 });
    expect(m.conflicts).toEqual([]);
    expect(m.writes).toEqual([{ g: 2, h: 2, i: 2 }, { f: 2, h: 2, i: 2 }, { f: 2, g: 2, i: 2 }, { f: 2, g: 2, h: 2 }]);
  });

  it('a field changed on several sides to the same value is no conflict; only the others get it', () => {
    const m = merge({ f: 'x' }, [side('a', T(1), { f: 'y' }), side('b', T(9), { f: 'y' }), side('c', T(5), { f: 'x' })], 'manual');
    expect(m.conflicts).toEqual([]);
    expect(m.agreed).toEqual({ f: 'y' });
    expect(m.writes).toEqual([{}, {}, { f: 'y' }]);
  });

  it('lww: the latest of the sides that changed the field wins, and everyone else gets it', () => {
    const m = merge({ f: 'x' }, [side('a', T(1), { f: 'y' }), side('b', T(9), { f: 'z' }), side('c', T(5), { f: 'w' })]);
    expect(m.conflicts).toEqual([]);
    expect(m.agreed).toEqual({ f: 'z' });
    expect(m.writes).toEqual([{ f: 'z' }, {}, { f: 'z' }]);
  });

  it('lww: a side that did not change the field does not take part, however late', () => {
    const m = merge({ f: 'x' }, [side('a', T(1), { f: 'y' }), side('b', T(99), { f: 'x' }), side('c', T(5), { f: 'w' })]);
    expect(m.agreed).toEqual({ f: 'w' });
  });

  it('lww: a tie goes to the name that sorts first', () => {
    const m = merge({ f: 'x' }, [side('zendesk', T(5), { f: 'y' }), side('hubspot', T(5), { f: 'z' }), side('netsuite', T(5), { f: 'w' })]);
    expect(m.agreed).toEqual({ f: 'z' });
  });

  it('a system of record named by name wins, however early', () => {
    const m = merge({ f: 'x' }, [side('a', T(9), { f: 'y' }), side('b', T(1), { f: 'z' }), side('c', T(5), { f: 'w' })], 'b');
    expect(m.agreed).toEqual({ f: 'z' });
    expect(m.writes).toEqual([{ f: 'z' }, {}, { f: 'z' }]);
  });

  it('a system of record named by kind wins', () => {
    const m = merge({ f: 'x' }, [
      side('hubspot-eu', T(9), { f: 'y' }, { kind: 'hubspot' }),
      side('netsuite-main', T(1), { f: 'z' }, { kind: 'netsuite' }),
      side('salesforce', T(5), { f: 'x' }),
    ], 'netsuite');
    expect(m.agreed).toEqual({ f: 'z' });
  });

  it('a system of record that did not change the field settles nothing: conflict, base kept', () => {
    const m = merge({ f: 'x' }, [side('a', T(9), { f: 'y' }), side('b', T(1), { f: 'z' }), side('c', T(5), { f: 'x' })], 'c');
    expect(m.agreed).toEqual({ f: 'x' });
    expect(m.conflicts.map((c) => [c.field, c.policy, c.values.map((v) => v.side.name)])).toEqual([['f', 'c', ['a', 'b']]]);
  });

  it('manual: a conflict naming every side that changed the field, with its value; base kept, nothing written', () => {
    const sides = [side('a', T(1), { f: 'y' }), side('b', T(2), { f: 'z' }), side('c', T(3), { f: 'x' }), side('d', T(4), { f: 'y' })];
    const m = merge({ f: 'x', g: 'same' }, sides, 'manual');
    expect(m.conflicts).toEqual([{
      field: 'f', policy: 'manual', base: 'x',
      values: [{ side: sides[0], value: 'y' }, { side: sides[1], value: 'z' }, { side: sides[3], value: 'y' }],
    }]);
    expect(m.agreed.f).toBe('x');
    expect(m.changed).toEqual([]);
    expect(m.writes).toEqual([{}, {}, {}, {}]);
  });

  it('manual on one field leaves the other fields flowing', () => {
    const m = merge({ f: 'x', g: 'x' }, [side('a', T(1), { f: 'y', g: 'new' }), side('b', T(2), { f: 'z', g: 'x' }), side('c', T(3), { f: 'x', g: 'x' })],
      (field) => (field === 'f' ? 'manual' : 'lww'));
    expect(m.conflicts.map((c) => c.field)).toEqual(['f']);
    expect(m.agreed).toEqual({ f: 'x', g: 'new' });
    expect(m.writes).toEqual([{}, { g: 'new' }, { g: 'new' }]);
  });

  it('a side with `wins` (ecosync\'s own write) beats every other change, under any policy', () => {
    for (const policy of ['lww', 'a', 'manual']) {
      const ecosync = side('ecosync', T(0), { f: 'mine' }, { reads: new Set(), writable: new Set(), wins: true });
      const m = merge({ f: 'x' }, [ecosync, side('a', T(9), { f: 'y' }), side('b', T(8), { f: 'z' })], policy);
      expect(m.conflicts).toEqual([]);
      expect(m.agreed).toEqual({ f: 'mine' });
      expect(m.writes).toEqual([{}, { f: 'mine' }, { f: 'mine' }]);
    }
  });
});

describe('mergeRecord: which changes count', () => {
  it('a field one side reads but may not be written blocks the others\' change of it', () => {
    // c reads f and may not be written it (an inbound-only field there, or a system only read): c owns f.
    const owner = side('c', T(1), { f: 'x', g: 'x' }, { writable: new Set(['g']) });
    const m = merge({ f: 'x', g: 'x' }, [side('a', T(9), { f: 'y', g: 'y' }), side('b', T(5), { f: 'x', g: 'x' }), owner]);
    expect(m.agreed).toEqual({ f: 'x', g: 'y' });
    expect(m.changed).toEqual(['g']);
    expect(m.writes).toEqual([{}, { g: 'y' }, { g: 'y' }]);
  });

  it('the owning side\'s own change of the field counts', () => {
    const owner = side('c', T(1), { f: 'y' }, { writable: new Set() });
    const m = merge({ f: 'x' }, [side('a', T(9), { f: 'x' }), owner]);
    expect(m.agreed).toEqual({ f: 'y' });
    expect(m.writes).toEqual([{ f: 'y' }, {}]);
  });

  it('blocks even a side with `wins` when another side owns the field', () => {
    const ecosync = side('ecosync', T(0), { f: 'mine' }, { reads: new Set(), writable: new Set(), wins: true });
    const owner = side('a', T(1), null, { writable: new Set() });
    const m = merge({ f: 'x' }, [ecosync, owner, side('b', T(1), null)]);
    expect(m.agreed).toEqual({ f: 'x' });
    expect(m.writes).toEqual([{}, {}, {}]);
  });

  it('a side that does not read the field does not block it', () => {
    const writeOnly = side('c', null, null, { reads: new Set(), writable: new Set(['f']) });
    const m = merge({ f: 'x' }, [side('a', T(9), { f: 'y' }), writeOnly]);
    expect(m.agreed).toEqual({ f: 'y' });
    expect(m.writes).toEqual([{}, { f: 'y' }]);
  });
});

describe('mergeRecord: writes per side', () => {
  it('writes only fields the side accepts and does not already show', () => {
    const narrow = side('b', T(1), { f: 'x', g: 'new' }, { writable: new Set(['f']) });
    const notRead = side('c', null, null, { reads: new Set(['g']), writable: new Set(['g']) });
    const m = merge({ f: 'x', g: 'x' }, [side('a', T(9), { f: 'new', g: 'new' }), narrow, notRead]);
    expect(m.agreed).toEqual({ f: 'new', g: 'new' });
    expect(m.writes).toEqual([{}, { f: 'new' }, { g: 'new' }]);
  });
});

describe('mergeRecord (properties)', () => {
  const val = fc.constantFrom(null, 'x', 'y', 'z');
  const rec = fc.record({ f: val, g: val });
  const policy = fc.constantFrom('lww', 'manual', 's0', 's1', 's2');
  const names = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`);
  const others = fc.integer({ min: 1, max: 3 });

  it('with every other side unchanged, one side\'s changes are exactly what is written to each of them', () => {
    fc.assert(fc.property(rec, rec, others, policy, (base, changed, n, p) => {
      const sides = [side('s0', T(9), changed), ...names(n).map((name) => side(`o-${name}`, T(1), base))];
      const m = merge(base, sides, p);
      expect(m.conflicts).toEqual([]);
      expect(m.writes[0]).toEqual({});
      for (const w of m.writes.slice(1)) expect(Object.keys(w).sort()).toEqual(m.changed);
      for (const f of m.changed) expect(m.agreed[f]).toBe(changed[f as 'f']);
    }));
  });

  it('after the writes every side holds the agreed value of every changed field without a conflict', () => {
    fc.assert(fc.property(rec, fc.array(rec, { minLength: 2, maxLength: 4 }), policy, (base, values, p) => {
      const sides = values.map((v, i) => side(`s${i}`, T(i), v));
      const m = merge(base, sides, p);
      const conflicted = new Set(m.conflicts.map((c) => c.field));
      for (const f of FIELDS) {
        if (conflicted.has(f)) { expect(m.agreed[f] ?? null).toBe(base[f as 'f']); continue; }
        if (!m.changed.includes(f)) continue;
        sides.forEach((s, i) => {
          const after = f in m.writes[i] ? m.writes[i][f] : s.values![f];
          expect(after ?? null).toBe(m.agreed[f] ?? null);
        });
      }
    }));
  });

  it('never writes a field to a side that may not receive it', () => {
    fc.assert(fc.property(rec, fc.array(rec, { minLength: 2, maxLength: 4 }), fc.array(fc.subarray(FIELDS), { minLength: 4, maxLength: 4 }), (base, values, writable) => {
      const sides = values.map((v, i) => side(`s${i}`, T(i), v, { writable: new Set(writable[i]) }));
      const m = merge(base, sides);
      m.writes.forEach((w, i) => expect(Object.keys(w).every((f) => writable[i].includes(f))).toBe(true));
    }));
  });
});

describe('createFields', () => {
  it('takes every non-empty agreed value the system accepts', () => {
    expect(createFields({ name: 'Acme', phone: null, industry: 'retail', secret: 'x' }, new Set(['industry', 'name', 'phone']))).toEqual({ industry: 'retail', name: 'Acme' });
  });
});
