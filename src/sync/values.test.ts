import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash, toFields, toNested, valuesEqual } from './values.js';

describe('canonicalJson and contentHash', () => {
  it.each([
    [{ b: 1, a: 'x' }, '{"a":"x","b":1}'],
    [{ a: null, b: undefined, c: {} }, undefined],
    [{ a: { x: null }, b: [1, null] }, '{"b":[1,null]}'],
    [{ n: -0 }, '{"n":0}'],
    [{ s: 'e\u0301' }, '{"s":"\u00e9"}'],
  ])('%j → %s', (value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('hashes empty values as {} (what the mapping engine hashes an empty record as)', () => {
    const empty = createHash('sha256').update('{}').digest('hex');
    expect(contentHash({})).toBe(empty);
    expect(contentHash({ a: null })).toBe(empty);
  });

  it('ignores key order, and tells different values apart', () => {
    const rec = fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.oneof(fc.string(), fc.integer()));
    fc.assert(fc.property(rec, rec, (x, y) => {
      const reversed = Object.fromEntries(Object.entries(x).reverse());
      expect(contentHash(reversed)).toBe(contentHash(x));
      expect(contentHash(x) === contentHash(y)).toBe(valuesEqual(x, y));
    }));
  });
});

describe('valuesEqual', () => {
  it('agrees with canonical JSON on any nested value (nulls, empty objects, arrays, NFC text, -0)', () => {
    const leaf = fc.oneof(fc.constant(null), fc.constant(undefined), fc.constantFrom('e\u0301', '\u00e9', 'a', ''), fc.constantFrom(0, -0, 1, Number.NaN), fc.boolean());
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.constantFrom('a', 'b', 'c'), tie('node'), { maxKeys: 3 })),
    })).node;
    fc.assert(fc.property(value, value, (x, y) => {
      expect(valuesEqual(x, y)).toBe(canonicalJson(x) === canonicalJson(y));
      expect(valuesEqual(x, structuredClone(x))).toBe(true);
    }), { numRuns: 2000 });
  });


  it.each([
    [null, undefined, true],
    [null, '', false],
    [{ amount: '1.00', currency: 'USD' }, { currency: 'USD', amount: '1.00' }, true],
    [{ amount: '1.00', currency: 'USD' }, { amount: '1.0', currency: 'USD' }, false],
    [['a', 'b'], ['b', 'a'], false],
    [1, '1', false],
  ])('%j vs %j → %s', (a, b, expected) => {
    expect(valuesEqual(a, b)).toBe(expected);
  });
});

describe('toFields / toNested', () => {
  const paths = ['name', 'billingAddress.city', 'billingAddress.country', 'amount'];

  it('reads nested and dotted values alike, fills listed paths, keeps unlisted top-level keys', () => {
    const nested = { name: 'Acme', billingAddress: { city: 'Paris' }, amount: { amount: '1.00', currency: 'EUR' }, extra: 1 };
    const dotted = { name: 'Acme', 'billingAddress.city': 'Paris', amount: { amount: '1.00', currency: 'EUR' }, extra: 1 };
    const expected = { name: 'Acme', 'billingAddress.city': 'Paris', 'billingAddress.country': null, amount: { amount: '1.00', currency: 'EUR' }, extra: 1 };
    expect(toFields(nested, paths, true)).toEqual(expected);
    expect(toFields(dotted, paths, true)).toEqual(expected);
    expect(toFields(nested, paths, false)).not.toHaveProperty('billingAddress.country');
  });

  it('round-trips through toNested, dropping empty values', () => {
    const fields = { name: 'Acme', 'billingAddress.city': 'Paris', 'billingAddress.country': null };
    expect(toNested(fields)).toEqual({ name: 'Acme', billingAddress: { city: 'Paris' } });
    expect(toFields(toNested(fields), paths, true)).toEqual({ ...fields, amount: null });
  });
});
