import { describe, expect, it } from 'vitest';
import { canonicalIdFor } from './ids.js';
import { canonicalLookups, externalLookups, planPage, targetExternalIds, TOMBSTONE_HASH } from './plan.js';
import { current, incoming, pairOf, side, T } from './test-kit.js';
import type { CurrentRecord, IncomingRecord, PlanInput, StoredLink, StoredRecord, SyncPair } from './types.js';
import { contentHash } from './values.js';

const CID = canonicalIdFor('salesforce', 'Account', 'sf-1');
const ACCOUNT = '8c1f6a3e-3d59-4a8b-9a7e-1b2c3d4e5f60';
const BASE = { name: 'Acme', phone: '111', industry: 'retail' };

function link(system: string, object: string, externalId: string, lastHash: string | null, canonicalId = CID): StoredLink {
  return { canonicalId, system, object, externalId, lastHash, lastModifiedAt: T(1) };
}

/** A record synced before: base values, both links holding the hash of the base. */
function synced(base: Record<string, unknown> = BASE, over: { deleted?: boolean; aHash?: string | null; bHash?: string | null } = {}) {
  const records: StoredRecord[] = [{ canonicalId: CID, data: base, hash: contentHash(base), version: 3, deleted: over.deleted ?? false }];
  const links = [
    link('salesforce', 'Account', 'sf-1', over.aHash === undefined ? contentHash(base) : over.aHash),
    link('hubspot', 'companies', 'hs-1', over.bHash === undefined ? contentHash(base) : over.bHash),
  ];
  return { records, links };
}

function plan(records: IncomingRecord[], stored = synced(), more: Partial<PlanInput> = {}) {
  return planPage({ pair: pairOf(), source: 'a', records, stored, ...more });
}

describe('planPage: new, unchanged and echoed records', () => {
  it('creates a record first seen with a deterministic id and every field the target accepts', () => {
    const p = plan([incoming('sf-1', { ...BASE, phone: null })], { records: [], links: [] });
    expect(p.writes.target).toEqual([{ key: CID, fields: { industry: 'retail', name: 'Acme' } }]);
    expect(p.writes.source).toEqual([]);
    const [item] = p.items;
    expect(item.outcome).toBe('created');
    expect(item.record).toMatchObject({ canonicalId: CID, data: { name: 'Acme', industry: 'retail' }, deleted: false, expectedVersion: undefined });
    expect(item.sourceLink).toMatchObject({ system: 'salesforce', externalId: 'sf-1', lastHash: contentHash({ ...BASE, phone: null }) });
    expect(item.targetLink).toMatchObject({ system: 'hubspot', object: 'companies', externalId: '', lastHash: contentHash({ name: 'Acme', industry: 'retail' }) });
  });

  it('uses the ecosync id a record carries', () => {
    const carried = '5f0e4b1a-2c3d-4e5f-8a9b-0c1d2e3f4a5b';
    const p = plan([incoming('sf-9', BASE, { canonicalId: carried.toUpperCase() })], { records: [], links: [] });
    expect(p.writes.target[0].key).toBe(carried);
  });

  it.each([
    ['a carried id that is not a UUID', [incoming('sf-9', BASE, { canonicalId: 'not-a-uuid' })], 'INVALID_CANONICAL_ID'],
    ['a carried id another record of this side holds', [incoming('sf-9', BASE, { canonicalId: CID })], 'DUPLICATE_CANONICAL_ID'],
    ['two records of one page with the same carried id', [incoming('sf-8', BASE, { canonicalId: ACCOUNT }), incoming('sf-9', BASE, { canonicalId: ACCOUNT })], 'DUPLICATE_CANONICAL_ID'],
  ])('dead-letters %s', (_name, records, code) => {
    const p = plan(records);
    expect(p.deadLetters.map((d) => d.errorCode)).toEqual([code]);
    expect(p.deadLetters[0]).toMatchObject({ direction: 'read', system: 'salesforce', object: 'Account', externalId: 'sf-9', retryable: false });
    expect(p.counts.failed).toBe(1);
    expect(p.writes.target.length).toBe(records.length - 1);
  });

  it('keeps the latest of two reads of one record in a page', () => {
    const p = plan([incoming('sf-1', { ...BASE, phone: '3' }, { modifiedAt: T(30) }), incoming('sf-1', { ...BASE, phone: '2' }, { modifiedAt: T(20) })]);
    expect(p.writes.target).toEqual([{ key: CID, externalId: 'hs-1', fields: { phone: '3' } }]);
    expect(p.counts).toMatchObject({ read: 2, unchanged: 1 });
  });

  it.each([
    ['unchanged since the last sync', 'salesforce'],
    ['an echo of our own write to it', 'hubspot'],
  ])('skips a record %s (hash equals the link hash)', (_name, system) => {
    const pair = pairOf();
    const source = system === 'salesforce' ? 'a' : 'b';
    const externalId = system === 'salesforce' ? 'sf-1' : 'hs-1';
    const p = planPage({ pair, source, records: [incoming(externalId, BASE)], stored: synced() });
    expect(p.items).toEqual([]);
    expect(p.writes).toEqual({ target: [], source: [], targetDeletes: [] });
    expect(p.counts).toMatchObject({ read: 1, unchanged: 1 });
  });

  it('plans a parked record again on replay', () => {
    const p = plan([incoming('sf-1', { ...BASE, phone: '2' })], synced(BASE, { aHash: contentHash({ ...BASE, phone: '2' }) }), { replay: true });
    expect(p.writes.target).toEqual([{ key: CID, externalId: 'hs-1', fields: { phone: '2' } }]);
  });

  it('counts equal values behind a different hash as unchanged and refreshes the link', () => {
    const p = plan([incoming('sf-1', BASE, { hash: 'another-function' })]);
    expect(p.writes.target).toEqual([]);
    expect(p.items).toHaveLength(1);
    expect(p.items[0]).toMatchObject({ outcome: 'unchanged', sourceLink: { lastHash: 'another-function' } });
    expect(p.items[0].record).toBeUndefined();
  });
});

describe('planPage: three-way merge', () => {
  const cur = (values: Record<string, unknown>, modifiedAt: string | null = T(5)): CurrentRecord[] => [current('hs-1', values, modifiedAt)];
  const merge = (sourceValues: Record<string, unknown>, target: CurrentRecord[] | undefined, pair: Partial<SyncPair> = {}, modifiedAt = T(10)) =>
    planPage({ pair: pairOf(pair), source: 'a', records: [incoming('sf-1', sourceValues, { modifiedAt })], stored: synced(), targetCurrent: target });

  it.each([
    // name, source values, target values (undefined: target not read), pair overrides, source modifiedAt, expected writes to target / source, agreed phone, conflicts
    ['one side changed', { ...BASE, phone: '2' }, undefined, {}, T(10), { phone: '2' }, undefined, '2', 0],
    ['one side changed, target read and unchanged', { ...BASE, phone: '2' }, BASE, {}, T(10), { phone: '2' }, undefined, '2', 0],
    ['a field cleared', { ...BASE, phone: null }, BASE, {}, T(10), { phone: null }, undefined, undefined, 0],
    ['both changed to the same value', { ...BASE, phone: '2' }, { ...BASE, phone: '2' }, {}, T(10), undefined, undefined, '2', 0],
    ['lww: source later', { ...BASE, phone: '2' }, { ...BASE, phone: '3' }, {}, T(10), { phone: '2' }, undefined, '2', 0],
    ['lww: target later', { ...BASE, phone: '2' }, { ...BASE, phone: '3' }, {}, T(4), undefined, { phone: '3' }, '3', 0],
    ['lww: tie goes to the system name sorting first', { ...BASE, phone: '2' }, { ...BASE, phone: '3' }, {}, T(5), undefined, { phone: '3' }, '3', 0],
    ['lww: target time unknown', { ...BASE, phone: '2' }, { ...BASE, phone: '3' }, {}, T(10), { phone: '2' }, undefined, '2', 0],
    ['system of record: source', { ...BASE, phone: '2' }, { ...BASE, phone: '3' }, { fieldPolicies: { phone: 'salesforce' } }, T(1), { phone: '2' }, undefined, '2', 0],
    ['system of record: target', { ...BASE, phone: '2' }, { ...BASE, phone: '3' }, { fieldPolicies: { phone: 'hubspot' } }, T(99), undefined, { phone: '3' }, '3', 0],
    ['system of record: default policy', { ...BASE, phone: '2' }, { ...BASE, phone: '3' }, { defaultPolicy: 'hubspot' }, T(99), undefined, { phone: '3' }, '3', 0],
    ['system of record: a third system', { ...BASE, phone: '2' }, { ...BASE, phone: '3' }, { fieldPolicies: { phone: 'netsuite' } }, T(99), undefined, undefined, '111', 1],
    ['manual: base kept, conflict queued', { ...BASE, phone: '2' }, { ...BASE, phone: '3' }, { fieldPolicies: { phone: 'manual' } }, T(99), undefined, undefined, '111', 1],
    ['manual: other fields still flow', { ...BASE, phone: '2', name: 'Acme Inc' }, { ...BASE, phone: '3' }, { fieldPolicies: { phone: 'manual' } }, T(99), { name: 'Acme Inc' }, undefined, '111', 1],
    ['disjoint fields merge both ways', { ...BASE, phone: '2' }, { ...BASE, industry: 'tech' }, {}, T(10), { phone: '2' }, { industry: 'tech' }, '2', 0],
    ['one-way: target edits are not written back', { ...BASE, phone: '2' }, { ...BASE, industry: 'tech' }, { mode: 'one-way' }, T(10), { phone: '2' }, undefined, '2', 0],
    ['one-way: the source wins a field both changed', { ...BASE, phone: '2' }, { ...BASE, phone: '3' }, { mode: 'one-way' }, T(1), { phone: '2' }, undefined, '2', 0],
  ] as const)('%s', (_name, sourceValues, targetValues, pairOver, modifiedAt, toTarget, toSource, phone, conflicts) => {
    const lwwUnknownTime = _name === 'lww: target time unknown';
    const p = merge(sourceValues, targetValues ? cur(targetValues, lwwUnknownTime ? null : T(5)) : undefined, pairOver as Partial<SyncPair>, modifiedAt);
    expect(p.writes.target).toEqual(toTarget ? [{ key: CID, externalId: 'hs-1', fields: toTarget }] : []);
    expect(p.writes.source).toEqual(toSource ? [{ key: CID, externalId: 'sf-1', fields: toSource }] : []);
    // No record upsert: the agreed state is the base.
    expect((p.items[0].record?.data ?? BASE).phone).toBe(phone);
    expect(p.items[0].outcome).toBe(toTarget || toSource || phone !== '111' ? 'updated' : 'unchanged');
    expect(p.conflicts).toHaveLength(conflicts);
    expect(p.counts.conflicts).toBe(conflicts);
  });

  it('queues a manual conflict with both sides and the base', () => {
    const p = merge({ ...BASE, phone: '2' }, cur({ ...BASE, phone: '3' }), { fieldPolicies: { phone: 'manual' } });
    expect(p.conflicts).toEqual([{
      connectionId: p.connectionId, entity: 'Account', canonicalId: CID, field: 'phone', policy: 'manual', baseValue: '111',
      sides: { salesforce: { value: '2', modifiedAt: T(10) }, hubspot: { value: '3', modifiedAt: T(5) } },
    }]);
  });

  it('ignores a change to a field the other side owns (reads it, may not be written it)', () => {
    // phone is inbound-only in HubSpot's mapping: HubSpot is its only source.
    const pair = { b: side('hubspot', 'companies', ['name', 'phone', 'industry'], ['name', 'industry']) };
    const p = merge({ ...BASE, phone: '2' }, cur(BASE), pair);
    expect(p.writes.target).toEqual([]);
    expect(p.items[0]).toMatchObject({ outcome: 'unchanged' });
  });

  it('predicts the hash each side will read back after the writes', () => {
    const p = merge({ ...BASE, phone: '2' }, cur({ ...BASE, industry: 'tech' }));
    const [item] = p.items;
    expect(item.targetLink?.lastHash).toBe(contentHash({ name: 'Acme', phone: '2', industry: 'tech' }));
    expect(item.sourceLink?.lastHash).toBe(contentHash({ name: 'Acme', phone: '2', industry: 'tech' }));
  });

  it('merges nested fields by dotted path and writes them nested', () => {
    const paths = ['name', 'billingAddress.city', 'billingAddress.country'];
    const pair = pairOf({ a: side('salesforce', 'Account', paths), b: side('hubspot', 'companies', paths) });
    const base = { name: 'Acme', billingAddress: { city: 'Paris', country: 'FR' } };
    const p = planPage({
      pair, source: 'a', stored: synced(base),
      records: [incoming('sf-1', { name: 'Acme', billingAddress: { city: 'Lyon', country: 'FR' } })],
      targetCurrent: [current('hs-1', { name: 'Acme', 'billingAddress.city': 'Paris', 'billingAddress.country': 'BE' })],
    });
    expect(p.writes.target).toEqual([{ key: CID, externalId: 'hs-1', fields: { billingAddress: { city: 'Lyon' } } }]);
    expect(p.writes.source).toEqual([{ key: CID, externalId: 'sf-1', fields: { billingAddress: { country: 'BE' } } }]);
    expect(p.items[0].record?.data).toEqual({ name: 'Acme', billingAddress: { city: 'Lyon', country: 'BE' } });
  });

  it('refuses pages read from the target of a one-way connection', () => {
    expect(() => planPage({ pair: pairOf({ mode: 'one-way' }), source: 'b', records: [], stored: synced() })).toThrow(/one-way/);
  });
});

describe('planPage: deletes', () => {
  const del = (pair: Partial<SyncPair>, stored = synced()) =>
    planPage({ pair: pairOf(pair), source: 'a', records: [incoming('sf-1', {}, { deleted: true })], stored });

  it('propagate: deletes the target and tombstones the record and both links', () => {
    const p = del({ deletePolicy: 'propagate' });
    expect(p.writes.targetDeletes).toEqual([{ key: CID, externalId: 'hs-1' }]);
    expect(p.items[0]).toMatchObject({
      outcome: 'deleted', record: { deleted: true, data: BASE, expectedVersion: 3 },
      sourceLink: { lastHash: TOMBSTONE_HASH }, targetLink: { externalId: 'hs-1', lastHash: TOMBSTONE_HASH },
    });
  });

  it('ignore: leaves the target alone, tombstones the record and the source link', () => {
    const p = del({ deletePolicy: 'ignore' });
    expect(p.writes.targetDeletes).toEqual([]);
    expect(p.items[0]).toMatchObject({ outcome: 'deleted', record: { deleted: true }, sourceLink: { lastHash: TOMBSTONE_HASH } });
    expect(p.items[0].targetLink).toBeUndefined();
  });

  it.each([
    ['never linked', { records: [], links: [] }],
    ['already tombstoned (our own delete read back, or a re-read)', synced(BASE, { deleted: true, aHash: TOMBSTONE_HASH })],
  ])('does nothing for a deleted record %s', (_name, stored) => {
    const p = del({}, stored);
    expect(p.items).toEqual([]);
    expect(p.counts).toMatchObject({ read: 1, unchanged: 1 });
  });

  it('propagate without a live target link only tombstones', () => {
    const p = del({}, synced(BASE, { bHash: TOMBSTONE_HASH }));
    expect(p.writes.targetDeletes).toEqual([]);
    expect(p.items[0].record?.deleted).toBe(true);
  });

  it('skip (default): a change to a deleted record does nothing', () => {
    const p = plan([incoming('hs-1', { ...BASE, phone: '2' })].map((r) => r), synced(BASE, { deleted: true, aHash: TOMBSTONE_HASH }), { source: 'b' });
    expect(p.items).toEqual([]);
    expect(p.counts.unchanged).toBe(1);
  });

  it('skip: an untouched record of the surviving side is no change either', () => {
    const p = planPage({ pair: pairOf({ updateAfterDelete: 'resurrect' }), source: 'b', records: [incoming('hs-1', BASE)], stored: synced(BASE, { deleted: true, aHash: TOMBSTONE_HASH }) });
    expect(p.items).toEqual([]);
  });

  it('resurrect: a change on the surviving side creates the deleted side again', () => {
    const p = planPage({
      pair: pairOf({ updateAfterDelete: 'resurrect' }), source: 'b',
      records: [incoming('hs-1', { ...BASE, phone: '2' })], stored: synced(BASE, { deleted: true, aHash: TOMBSTONE_HASH }),
    });
    expect(p.writes.target).toEqual([{ key: CID, fields: { industry: 'retail', name: 'Acme', phone: '2' } }]);
    expect(p.items[0]).toMatchObject({
      outcome: 'created', record: { deleted: false, expectedVersion: 3 },
      forgetLinks: [{ system: 'salesforce', object: 'Account', externalId: 'sf-1' }],
    });
  });

  it('resurrect: a source brought back from its recycle bin updates a target that survived', () => {
    const p = planPage({
      pair: pairOf({ updateAfterDelete: 'resurrect', deletePolicy: 'ignore' }), source: 'a',
      records: [incoming('sf-1', { ...BASE, phone: '2' })], stored: synced(BASE, { deleted: true, aHash: TOMBSTONE_HASH }),
    });
    expect(p.writes.target).toEqual([{ key: CID, externalId: 'hs-1', fields: { phone: '2' } }]);
    expect(p.items[0].sourceLink?.lastHash).toBe(contentHash({ ...BASE, phone: '2' }));
  });
});

describe('planPage: failures and references', () => {
  it('dead-letters mapping errors with codes and fields, and plans the rest', () => {
    const bad = incoming('sf-2', {}, { errors: [
      { field: 'phone', code: 'invalid_value', message: 'phone 12 is not text' },
      { field: 'name', code: 'required', message: 'name is required' },
    ], payload: { Id: 'sf-2' } });
    const p = plan([bad, incoming('sf-1', { ...BASE, phone: '2' })]);
    expect(p.deadLetters).toEqual([{
      connectionId: p.connectionId, direction: 'read', system: 'salesforce', object: 'Account', externalId: 'sf-2', canonicalId: null,
      payload: { Id: 'sf-2' }, reason: 'phone: phone 12 is not text; name: name is required', errorCode: 'invalid_value,required',
      failingFields: ['phone', 'name'], retryable: false,
    }]);
    expect(p.writes.target).toHaveLength(1);
    expect(p.counts).toMatchObject({ read: 2, failed: 1 });
  });

  const refPair = () => {
    const refs = { accountId: { entity: 'Account' as const, object: 'Account' } };
    const a = { ...side('salesforce', 'Contact', ['lastName', 'accountId']), references: refs };
    const b = { ...side('hubspot', 'contacts', ['lastName', 'accountId']), references: { accountId: { entity: 'Account' as const, object: 'companies' } } };
    return pairOf({ entity: 'Contact', a, b });
  };
  const contact = canonicalIdFor('salesforce', 'Contact', 'c-1');

  it('defers a record whose reference the mapping could not translate', () => {
    const p = planPage({ pair: refPair(), source: 'a', stored: { records: [], links: [] },
      records: [incoming('c-1', { lastName: 'Doe' }, { unresolved: [{ field: 'accountId', id: '001X' }] })] });
    expect(p.deadLetters[0]).toMatchObject({ errorCode: 'UNRESOLVED_REFERENCE', failingFields: ['accountId'], retryable: true, canonicalId: contact });
    expect(p.writes.target).toEqual([]);
  });

  it('defers a record whose referenced record is not linked in the target yet', () => {
    const stored = { records: [], links: [link('salesforce', 'Account', '001X', 'h', ACCOUNT)] };
    const p = planPage({ pair: refPair(), source: 'a', stored, records: [incoming('c-1', { lastName: 'Doe', accountId: ACCOUNT })] });
    expect(p.deadLetters[0]).toMatchObject({ errorCode: 'UNRESOLVED_REFERENCE', failingFields: ['accountId'] });
  });

  it('writes a reference once the referenced record is linked in the target', () => {
    const stored = { records: [], links: [link('salesforce', 'Account', '001X', 'h', ACCOUNT), link('hubspot', 'companies', '77', 'h', ACCOUNT)] };
    const p = planPage({ pair: refPair(), source: 'a', stored, records: [incoming('c-1', { lastName: 'Doe', accountId: ACCOUNT })] });
    expect(p.deadLetters).toEqual([]);
    expect(p.writes.target).toEqual([{ key: contact, fields: { accountId: ACCOUNT, lastName: 'Doe' } }]);
  });

  it("treats a target reference the mapping could not translate as unknown, not as cleared", () => {
    const base = { lastName: 'Doe', accountId: ACCOUNT };
    const records: StoredRecord[] = [{ canonicalId: contact, data: base, hash: contentHash(base), version: 1, deleted: false }];
    const links = [link('salesforce', 'Contact', 'c-1', contentHash(base), contact), link('hubspot', 'contacts', 'h-1', contentHash(base), contact),
      link('hubspot', 'companies', '77', 'h', ACCOUNT)];
    const p = planPage({
      pair: refPair(), source: 'a', stored: { records, links },
      records: [incoming('c-1', { lastName: 'Doe Jr', accountId: ACCOUNT })],
      targetCurrent: [{ ...current('h-1', { lastName: 'Doe' }), unresolved: [{ field: 'accountId', id: '99' }] }],
    });
    expect(p.writes.target).toEqual([{ key: contact, externalId: 'h-1', fields: { lastName: 'Doe Jr' } }]);
    expect(p.writes.source).toEqual([]);
  });

  it('advances the cursor to the greatest (modifiedAt, id) of the page, never backwards', () => {
    const records = [incoming('sf-2', BASE, { modifiedAt: T(7) }), incoming('sf-1', BASE, { modifiedAt: T(7) }), incoming('sf-0', BASE, { modifiedAt: T(3) })];
    expect(plan(records, synced(), { cursor: { modifiedAt: T(5), id: 'z' } }).cursor).toEqual({ modifiedAt: T(7), id: 'sf-2' });
    expect(plan(records, synced(), { cursor: { modifiedAt: T(9), id: 'a' } }).cursor).toEqual({ modifiedAt: T(9), id: 'a' });
    expect(plan([], synced(), { cursor: null }).cursor).toBeNull();
  });
});

describe('state lookups for the glue', () => {
  const refs = { accountId: { entity: 'Account' as const, object: 'Account' } };
  const pair = pairOf({ entity: 'Contact', a: { ...side('salesforce', 'Contact', ['lastName', 'accountId']), references: refs }, b: side('hubspot', 'contacts', ['lastName']) });

  it('groups external ids by object: the records and the records they reference', () => {
    expect(externalLookups(pair, 'a', ['c-1', 'c-2', 'c-1'], { accountId: ['001A', '001A', '001B'] })).toEqual([
      { system: 'salesforce', object: 'Contact', externalIds: ['c-1', 'c-2'] },
      { system: 'salesforce', object: 'Account', externalIds: ['001A', '001B'] },
    ]);
    expect(() => externalLookups(pair, 'a', [], { phone: ['1'] })).toThrow(/not a reference field/);
  });

  it('lists canonical ids: derived, carried and found, plus referenced records', () => {
    const found = [link('salesforce', 'Contact', 'c-2', 'h', CID), link('salesforce', 'Account', '001A', 'h', ACCOUNT)];
    const keys = canonicalLookups(pair, 'a', [{ externalId: 'c-1', canonicalId: null }, { externalId: 'c-2', canonicalId: null }], found);
    const own = [canonicalIdFor('salesforce', 'Contact', 'c-1'), canonicalIdFor('salesforce', 'Contact', 'c-2'), CID].sort();
    expect(keys.records).toEqual({ entity: 'Contact', canonicalIds: own });
    expect(keys.links).toEqual([{ entity: 'Contact', canonicalIds: own }, { entity: 'Account', canonicalIds: [ACCOUNT] }]);
  });

  it('lists the target ids to read current values for: live links only', () => {
    const links = [link('hubspot', 'contacts', 'h-1', 'x', CID), link('hubspot', 'contacts', 'h-2', TOMBSTONE_HASH, ACCOUNT), link('salesforce', 'Contact', 'c-1', 'x', CID)];
    expect(targetExternalIds(pair, 'a', links, [CID, ACCOUNT])).toEqual(['h-1']);
  });
});
