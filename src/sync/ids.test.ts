import { createHash } from 'node:crypto';
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
  // Ids already stored in links and written to other systems as external ids: they must never change.
  it.each([
    [['salesforce', 'Account', '001000000000001AAA'], '8f9d3e9a-9ac7-5bcd-aa44-28044fd9342a'],
    [['hubspot', 'companies', '12345'], 'ce46dfa2-7acd-5f7c-aa7d-af7df1b65446'],
    [['netsuite', 'customer', 'eid:ACME-1'], '974b61d3-bfba-5c94-a533-2ade2bb755b8'],
    [['salesforce', 'Contact', 'Zoë Ünïcødé 東京'], '7013df75-1041-5278-9f56-cfeb60bf876d'],
    [['hubspot', 'deals', ''], '78dbc61c-b5c6-50fc-ac0a-59fae1beec80'],
    [['x', 'y', 'lone \ud800 surrogate'], '27961883-e467-59c1-b94e-34fd71d03a54'],
    [['aws', 'Opportunity', 'O1234567'], 'e5d36f15-fe1d-577a-86d9-4f2fad53a94e'],
  ] as const)('keeps the id of %j', ([system, object, externalId], expected) => {
    expect(canonicalIdFor(system, object, externalId)).toBe(expected);
  });

  it('keeps the ids of ten thousand varied records', () => {
    const digest = createHash('sha256');
    for (let i = 0; i < 10_000; i++) {
      digest.update(canonicalIdFor(['salesforce', 'hubspot', 'netsuite'][i % 3], ['Account', 'Contact', 'Opportunity'][i % 3], `${i}:${String.fromCharCode(32 + (i % 5000))}`));
    }
    expect(digest.digest('hex')).toBe('560c80a31ddae2103c3063f2f336fc6332e4216fa65739719c7ff86bb18d62a3');
  });

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
