import { describe, expect, it } from 'vitest';
import { applyJsonPatch, JsonPatchError, toJsonPatch } from '../json-patch.js';

/** What the referrals PATCH route takes and refuses (RFC 6902, add and replace only). */
describe('JSON Patch as Partner Center applies it', () => {
  it('adds and replaces in objects and arrays, and leaves the stored document alone', () => {
    const doc = { name: 'Deal', team: [{ email: 'a@example.com' }], details: { dealValue: 1 } };
    const after = applyJsonPatch(doc, [
      { op: 'replace', path: '/details/dealValue', value: 2 },
      { op: 'add', path: '/team/0', value: { email: 'b@example.com' } },
      { op: 'add', path: '/team/-', value: { email: 'c@example.com' } },
      { op: 'replace', path: '/team/1/email', value: 'a2@example.com' },
      { op: 'add', path: '/notes', value: 'new member' },
    ]);
    expect(after).toEqual({
      name: 'Deal', notes: 'new member', details: { dealValue: 2 },
      team: [{ email: 'b@example.com' }, { email: 'a2@example.com' }, { email: 'c@example.com' }],
    });
    expect(doc).toEqual({ name: 'Deal', team: [{ email: 'a@example.com' }], details: { dealValue: 1 } });
  });

  it('escapes and unescapes ~ and / in member names', () => {
    const ops = toJsonPatch({ 'a/b': 1, 'c~d': 1 }, { 'a/b': 2, 'c~d': 3 });
    expect(ops.map((o) => o.path)).toEqual(['/a~1b', '/c~0d']);
    expect(applyJsonPatch({ 'a/b': 1, 'c~d': 1 }, ops)).toEqual({ 'a/b': 2, 'c~d': 3 });
  });

  it.each([
    ['not an array', { op: 'add', path: '/a', value: 1 }, /must be a JSON Patch array/],
    ['remove', [{ op: 'remove', path: '/a' }], /operation 0: "remove" is not supported \(only add and replace\)/],
    ['move', [{ op: 'add', path: '/a', value: 2 }, { op: 'move', from: '/a', path: '/b' }], /operation 1: "move" is not supported/],
    ['a missing member replaced', [{ op: 'replace', path: '/b', value: 2 }], /operation 0 on "\/b": .*does not exist/],
    ['a path through nothing', [{ op: 'add', path: '/x/y', value: 2 }], /operation 0 on "\/x\/y": Cannot perform an `add`/],
    ['an index past the end', [{ op: 'add', path: '/list/5', value: 2 }], /MUST NOT be greater than the number of elements/],
    ['a path without its slash', [{ op: 'add', path: 'a', value: 2 }], /must start with "\/"/],
    ['no value', [{ op: 'add', path: '/a' }], /`value` property is not present/],
    ['not an object', ['add /a'], /operation 0 on "\[0\]": Operation is not an object/],
    ['a prototype', [{ op: 'add', path: '/__proto__/polluted', value: true }], /__proto__/],
  ])('refuses %s, naming the operation', (_name, ops, message) => {
    let thrown: unknown;
    try {
      applyJsonPatch({ a: 1, list: [1] }, ops);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(JsonPatchError);
    expect((thrown as Error).message).toMatch(message);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
