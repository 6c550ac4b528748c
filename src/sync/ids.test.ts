import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CanonicalId } from '../model/index.js';
import { canonicalIdFor, ECOSYNC_NAMESPACE, isCanonicalId, uuidv5 } from './ids.js';

const DNS = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';

describe('uuidv5', () => {
  it.each([
    ['python.org', DNS, '886313e1-3b8a-5372-9b90-0c9aee199e5d'],
    ['ecosync.dev', DNS, ECOSYNC_NAMESPACE],
  ])('uuidv5(%s) matches the RFC algorithm', (name, ns, expected) => {
    expect(uuidv5(name, ns)).toBe(expected);
  });

  it('rejects a namespace that is not a UUID', () => {
    expect(() => uuidv5('x', 'nope')).toThrow(/namespace/);
  });
});

describe('canonicalIdFor', () => {
  it('is a valid canonical id, version 5', () => {
    const id = canonicalIdFor('salesforce', 'Account', '001000000000001AAA');
    expect(CanonicalId.safeParse(id).success).toBe(true);
    expect(id[14]).toBe('5');
    expect(isCanonicalId(id)).toBe(true);
    expect(isCanonicalId('001000000000001AAA')).toBe(false);
    expect(isCanonicalId(null)).toBe(false);
  });

  it('agrees with the model\'s UUID schema on any text', () => {
    const hex = fc.constantFrom(...'0123456789abcdefABCDEFg-');
    const uuidish = fc.tuple(...[8, 4, 4, 4, 12].map((n) => fc.array(hex, { minLength: n, maxLength: n }).map((c) => c.join('')))).map((p) => p.join('-'));
    fc.assert(fc.property(fc.oneof(uuidish, fc.uuid(), fc.string()), (text) => {
      expect(isCanonicalId(text)).toBe(CanonicalId.safeParse(text).success);
    }), { numRuns: 3000 });
  });

  it('is deterministic and tells different records apart', () => {
    const part = fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !s.includes(':'));
    fc.assert(fc.property(part, part, fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (system, object, x, y) => {
      expect(canonicalIdFor(system, object, x)).toBe(canonicalIdFor(system, object, x));
      if (x !== y) expect(canonicalIdFor(system, object, x)).not.toBe(canonicalIdFor(system, object, y));
    }));
    expect(canonicalIdFor('salesforce', 'Account', '1')).not.toBe(canonicalIdFor('hubspot', 'Account', '1'));
    expect(canonicalIdFor('salesforce', 'Account', '1')).not.toBe(canonicalIdFor('salesforce', 'Contact', '1'));
  });
});
