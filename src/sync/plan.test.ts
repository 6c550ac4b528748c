import { describe, expect, it } from 'vitest';
import { memoryMapper, type FieldDirection } from '../../test/support/memory-hub.js';
import { isEntityName } from '../model/index.js';
import { buildHub, type HubEntity, type SystemRole } from './hub.js';
import { canonicalIdFor } from './ids.js';
import {
  canonicalLookups, currentWanted, ECOSYNC_ORIGIN, externalLookups, planPage,
  type CurrentRecord, type IncomingRecord, type PlanInput, type SyncPlan, type WriteForecast,
} from './plan.js';
import { TOMBSTONE_HASH, type Mapper, type StoredLink, type StoredRecord } from './ports.js';
import { contentHash } from './values.js';

// ---- builders ------------------------------------------------------------------------------------

const T = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();

/** The hub's systems: kind, instance, the object of each entity, and the prefix of their ids. */
const SYSTEMS = {
  salesforce: { kind: 'salesforce', instance: 'salesforce:00D1', Account: 'Account', Contact: 'Contact', id: 'sf' },
  hubspot: { kind: 'hubspot', instance: 'hubspot:42', Account: 'companies', Contact: 'contacts', id: 'hs' },
  netsuite: { kind: 'netsuite', instance: 'netsuite:7', Account: 'customer', Contact: 'contact', id: 'ns' },
} as const;
type Name = keyof typeof SYSTEMS;
const NAMES = Object.keys(SYSTEMS) as Name[];

interface HubOptions {
  /** Per system: its role, account and contact fields, or false to leave it out. */
  systems?: Partial<Record<Name, { role?: SystemRole; fields?: Record<string, FieldDirection>; contactFields?: Record<string, FieldDirection> } | false>>;
  /** Per field: 'lww', 'manual', or a system's name. */
  owners?: Record<string, string>;
  conflictPolicy?: string;
  deletePolicy?: 'propagate' | 'ignore';
  updateAfterDelete?: 'skip' | 'resurrect';
}

const ACCOUNT_FIELDS: Record<string, FieldDirection> = { name: 'both', phone: 'both', industry: 'both' };

/** Accounts and contacts (a contact's accountId refers to an account) over the systems, built by buildHub. */
function hubOf(o: HubOptions = {}) {
  const names = NAMES.filter((n) => o.systems?.[n] !== false);
  const spec = (n: Name) => o.systems?.[n] || {};
  const mappers = new Map<string, Mapper>(names.flatMap((n): [string, Mapper][] => [
    [`${n}/Account`, { ...memoryMapper(SYSTEMS[n].kind, spec(n).fields ?? ACCOUNT_FIELDS, o.owners), object: SYSTEMS[n].Account }],
    [`${n}/Contact`, {
      ...memoryMapper(SYSTEMS[n].kind, spec(n).contactFields ?? { lastName: 'both', accountId: 'both' }), entity: 'Contact' as const, object: SYSTEMS[n].Contact,
      refs: [{ field: 'accountId', entity: 'Account' as const, from: 'accountId' }],
    }],
  ]));
  return buildHub({
    id: '0b0c5a7e-6d1f-4c1e-9a51-2f7d9b3c4e10', name: 'test',
    systems: names.map((n) => ({ name: n, system: SYSTEMS[n].kind, role: spec(n).role ?? 'both' })),
    entities: (['Account', 'Contact'] as const).map((entity) => ({ entity, members: names.map((n) => ({ system: n, object: SYSTEMS[n][entity], mapping: `${n}/${entity}` })) })),
    deletePolicy: o.deletePolicy ?? 'propagate', conflictPolicy: o.conflictPolicy ?? 'last-writer-wins', updateAfterDelete: o.updateAfterDelete,
  }, { mapperOf: (file) => mappers.get(file)!, instanceOf: (n) => SYSTEMS[n as Name].instance, isEntity: isEntityName });
}
const accounts = (o: HubOptions = {}): HubEntity => hubOf(o).entities[0];
const contacts = (o: HubOptions = {}): HubEntity => hubOf(o).entities[1];
/** Salesforce and HubSpot only: the cases the two-sided planner had. */
const PAIR: HubOptions = { systems: { netsuite: false } };

const CID = canonicalIdFor('salesforce:00D1', 'Account', 'sf-1');
const ACCOUNT = '8c1f6a3e-3d59-4a8b-9a7e-1b2c3d4e5f60';
const BASE = { name: 'Acme', phone: '111', industry: 'retail' };

function link(system: Name, externalId: string, lastHash: string | null, canonicalId = CID, entity: 'Account' | 'Contact' = 'Account'): StoredLink {
  const s = SYSTEMS[system];
  return { entity, canonicalId, instance: s.instance, object: s[entity], externalId, lastHash, lastModifiedAt: T(1) };
}

/**
 * A record synced before: its base values (version 3) and a link in each system (`sf-1`, `hs-1`,
 * `ns-1`) holding the hash of the base, unless told otherwise.
 */
function synced(o: { base?: Record<string, unknown>; deleted?: boolean; hashes?: Partial<Record<Name, string | null>>; unlinked?: Name[] } = {}) {
  const base = o.base ?? BASE;
  const records: StoredRecord[] = [{ canonicalId: CID, data: base, hash: contentHash(base), version: 3, deleted: o.deleted ?? false }];
  const links = NAMES.filter((n) => !o.unlinked?.includes(n))
    .map((n) => link(n, `${SYSTEMS[n].id}-1`, o.hashes?.[n] === undefined ? contentHash(base) : o.hashes[n]!));
  return { records, links };
}
const NOTHING = { records: [], links: [] };

function incoming(externalId: string, values: Record<string, unknown>, over: Partial<IncomingRecord> = {}): IncomingRecord {
  return { externalId, modifiedAt: T(10), deleted: false, values, hash: contentHash(values), ...over };
}

function current(externalId: string, values: Record<string, unknown>, modifiedAt: string | null = T(5), over: Partial<CurrentRecord> = {}): CurrentRecord {
  return { externalId, modifiedAt, values, hash: contentHash(values), ...over };
}

/** What the other systems show now, by system name. */
function showing(records: Partial<Record<Name, CurrentRecord>>): Map<string, Map<string, CurrentRecord>> {
  return new Map(Object.entries(records).map(([n, c]) => [n, new Map([[c.externalId, c]])]));
}

function plan(records: IncomingRecord[], over: Partial<PlanInput> = {}): SyncPlan {
  return planPage({ entity: accounts(), origin: 'salesforce', records, stored: synced(), ...over });
}

/** A record written by ecosync itself (its whole new values). */
function fromEcosync(values: Record<string, unknown>, canonicalId: string | null = CID): IncomingRecord {
  return { externalId: canonicalId ?? '', canonicalId, modifiedAt: T(20), deleted: false, values, hash: contentHash(values) };
}

const stepOf = (p: SyncPlan, member: string, item = 0) => p.items[item]?.steps.find((s) => s.member === member);
/** Every write of the plan, as [system, op]. */
const writesOf = (p: SyncPlan) => p.items.flatMap((i) => i.steps.flatMap((s) => (s.write ? [[s.member, s.write] as const] : [])));
const deletesOf = (p: SyncPlan) => p.items.flatMap((i) => i.steps.flatMap((s) => (s.delete ? [[s.member, s.delete] as const] : [])));

// ---- the decisions, in order ------------------------------------------------------------------------

describe('1. mapping errors', () => {
  it('dead-letters the record with codes and fields, and plans the rest of the batch', () => {
    const bad = incoming('sf-2', {}, {
      errors: [{ field: 'phone', code: 'invalid_value', message: 'phone 12 is not text' }, { field: 'name', code: 'required', message: 'name is required' }],
      payload: { Id: 'sf-2' },
    });
    const p = plan([bad, incoming('sf-1', { ...BASE, phone: '2' })]);
    expect(p.deadLetters).toEqual([{
      direction: 'read', system: 'salesforce', object: 'Account', externalId: 'sf-2', canonicalId: null,
      payload: { Id: 'sf-2' }, reason: 'phone: phone 12 is not text; name: name is required', errorCode: 'invalid_value,required',
      failingFields: ['phone', 'name'], retryable: false,
    }]);
    expect(p.items.map((i) => i.canonicalId)).toEqual([CID]);
    expect(p.counts).toMatchObject({ read: 2, failed: 1 });
  });
});

describe('2. canonical id', () => {
  it('derives a deterministic id from the origin instance, object and id of a record first seen', () => {
    const p = plan([incoming('sf-1', BASE)], { stored: NOTHING });
    expect(p.items[0].canonicalId).toBe(CID);
    expect(plan([incoming('sf-1', BASE)], { stored: NOTHING }).items[0].canonicalId).toBe(CID);
  });

  it('takes the origin link\'s id (lower case) over the id the record carries', () => {
    const stored = { records: [], links: [link('salesforce', 'sf-1', 'h', ACCOUNT.toUpperCase())] };
    const p = plan([incoming('sf-1', BASE, { canonicalId: '5f0e4b1a-2c3d-4e5f-8a9b-0c1d2e3f4a5b' })], { stored });
    expect(p.items[0].canonicalId).toBe(ACCOUNT);
  });

  it('uses the ecosync id an unlinked record carries', () => {
    const carried = '5f0e4b1a-2c3d-4e5f-8a9b-0c1d2e3f4a5b';
    const p = plan([incoming('sf-9', BASE, { canonicalId: carried.toUpperCase() })], { stored: NOTHING });
    expect(p.items[0].canonicalId).toBe(carried);
    expect(writesOf(p).map(([, w]) => w.key)).toEqual([carried, carried]);
  });

  it.each([
    ['a carried id that is not a UUID', [incoming('sf-9', BASE, { canonicalId: 'not-a-uuid' })], 'INVALID_CANONICAL_ID'],
    ['a carried id another record of the origin\'s object holds', [incoming('sf-9', BASE, { canonicalId: CID })], 'DUPLICATE_CANONICAL_ID'],
    ['two records of one batch with the same carried id', [incoming('sf-8', BASE, { canonicalId: ACCOUNT }), incoming('sf-9', BASE, { canonicalId: ACCOUNT })], 'DUPLICATE_CANONICAL_ID'],
  ])('dead-letters %s', (_name, records, code) => {
    const p = plan(records);
    expect(p.deadLetters.map((d) => d.errorCode)).toEqual([code]);
    expect(p.deadLetters[0]).toMatchObject({ direction: 'read', system: 'salesforce', object: 'Account', externalId: 'sf-9', retryable: false });
    expect(p.counts.failed).toBe(1);
    expect(p.items).toHaveLength(records.length - 1);
  });

  it('dead-letters a write from ecosync without a canonical id', () => {
    const p = planPage({ entity: accounts(), origin: ECOSYNC_ORIGIN, records: [fromEcosync(BASE, null)], stored: NOTHING });
    expect(p.deadLetters).toEqual([expect.objectContaining({ system: 'ecosync', object: 'Account', externalId: null, errorCode: 'INVALID_CANONICAL_ID' })]);
    expect(p.items).toEqual([]);
  });
});

describe('3. deletes', () => {
  const del = (o: HubOptions = {}, stored = synced()) =>
    planPage({ entity: accounts(o), origin: 'salesforce', records: [incoming('sf-1', {}, { deleted: true, modifiedAt: T(20) })], stored });

  it('propagate: deletes the record in every other written system that holds it, and tombstones the record and every link', () => {
    const p = del();
    expect(p.items).toHaveLength(1);
    expect(p.items[0]).toMatchObject({ canonicalId: CID, outcome: 'deleted', before: BASE, record: { deleted: true, data: BASE, hash: contentHash(BASE), expectedVersion: 3 } });
    expect(p.items[0].steps).toEqual([
      { member: 'salesforce', link: { ...link('salesforce', 'sf-1', TOMBSTONE_HASH), lastModifiedAt: T(20) } },
      { member: 'hubspot', delete: { key: CID, externalId: 'hs-1' }, link: link('hubspot', 'hs-1', TOMBSTONE_HASH) },
      { member: 'netsuite', delete: { key: CID, externalId: 'ns-1' }, link: link('netsuite', 'ns-1', TOMBSTONE_HASH) },
    ]);
  });

  it('propagate: leaves out systems that do not hold the record, hold it tombstoned, or are only read', () => {
    expect(deletesOf(del({}, synced({ unlinked: ['hubspot'] }))).map(([m]) => m)).toEqual(['netsuite']);
    expect(deletesOf(del({}, synced({ hashes: { hubspot: TOMBSTONE_HASH } }))).map(([m]) => m)).toEqual(['netsuite']);
    expect(deletesOf(del({ systems: { hubspot: { role: 'source' } } })).map(([m]) => m)).toEqual(['netsuite']);
    expect(deletesOf(del({ systems: { hubspot: { role: 'target' } } })).map(([m]) => m)).toEqual(['hubspot', 'netsuite']);
  });

  it('propagate with no other live link only tombstones', () => {
    const p = del({}, synced({ hashes: { hubspot: TOMBSTONE_HASH, netsuite: TOMBSTONE_HASH } }));
    expect(p.items[0].steps.map((s) => s.member)).toEqual(['salesforce']);
    expect(p.items[0].record?.deleted).toBe(true);
  });

  it('ignore: deletes nowhere else; tombstones the record and the origin link only', () => {
    const p = del({ deletePolicy: 'ignore' });
    expect(deletesOf(p)).toEqual([]);
    expect(p.items[0]).toMatchObject({ outcome: 'deleted', record: { deleted: true } });
    expect(p.items[0].steps).toEqual([{ member: 'salesforce', link: expect.objectContaining({ externalId: 'sf-1', lastHash: TOMBSTONE_HASH }) }]);
  });

  it.each([
    ['never linked', NOTHING],
    ['already tombstoned (our own delete read back, or a re-read)', synced({ deleted: true, hashes: { salesforce: TOMBSTONE_HASH } })],
  ])('does nothing for a record deleted at the origin and %s', (_name, stored) => {
    const p = del({}, stored);
    expect(p.items).toEqual([]);
    expect(p.counts).toMatchObject({ read: 1, unchanged: 1 });
  });
});

describe('4. same hash as the origin link', () => {
  it.each(NAMES.map((n) => [n]))('skips a record read from %s whose hash its link holds (unchanged, echo, lookback re-read)', (origin) => {
    const p = planPage({ entity: accounts(), origin, records: [incoming(`${SYSTEMS[origin].id}-1`, BASE)], stored: synced() });
    expect(p.items).toEqual([]);
    expect(p.deadLetters).toEqual([]);
    expect(p.counts).toMatchObject({ read: 1, unchanged: 1 });
  });

  it('skips a record parked at the hash just read; a replay plans it again', () => {
    const parked = synced({ hashes: { salesforce: contentHash({ ...BASE, phone: '2' }) } });
    const record = incoming('sf-1', { ...BASE, phone: '2' });
    expect(plan([record], { stored: parked }).items).toEqual([]);
    const replayed = plan([record], { stored: parked, replay: true });
    expect(writesOf(replayed)).toEqual([
      ['hubspot', { key: CID, externalId: 'hs-1', fields: { phone: '2' } }],
      ['netsuite', { key: CID, externalId: 'ns-1', fields: { phone: '2' } }],
    ]);
  });

  it('comes before 5: an untouched record never resurrects anything', () => {
    const p = planPage({
      entity: accounts({ updateAfterDelete: 'resurrect' }), origin: 'hubspot', records: [incoming('hs-1', BASE)],
      stored: synced({ deleted: true, hashes: { salesforce: TOMBSTONE_HASH, netsuite: TOMBSTONE_HASH } }),
    });
    expect(p.items).toEqual([]);
  });

  it('keeps the latest of two reads of one record in a batch', () => {
    const p = plan([incoming('sf-1', { ...BASE, phone: '3' }, { modifiedAt: T(30) }), incoming('sf-1', { ...BASE, phone: '2' }, { modifiedAt: T(20) })]);
    expect(writesOf(p).map(([m, w]) => [m, w.fields])).toEqual([['hubspot', { phone: '3' }], ['netsuite', { phone: '3' }]]);
    expect(p.counts).toMatchObject({ read: 2, unchanged: 1 });
  });
});

describe('5. changed after a delete', () => {
  const deletedElsewhere = synced({ deleted: true, hashes: { salesforce: TOMBSTONE_HASH, netsuite: TOMBSTONE_HASH } });

  it('skip (default): a change on a surviving system does nothing', () => {
    const p = planPage({ entity: accounts(), origin: 'hubspot', records: [incoming('hs-1', { ...BASE, phone: '2' })], stored: deletedElsewhere });
    expect(p.items).toEqual([]);
    expect(p.counts).toMatchObject({ read: 1, unchanged: 1 });
  });

  it('skip: a record changed at an origin whose own link is tombstoned does nothing', () => {
    const p = plan([incoming('sf-1', { ...BASE, phone: '2' })], { stored: synced({ hashes: { salesforce: TOMBSTONE_HASH } }) });
    expect(p.items).toEqual([]);
  });

  it('resurrect: creates the record again where it was deleted, forgetting each tombstoned link', () => {
    const p = planPage({
      entity: accounts({ updateAfterDelete: 'resurrect' }), origin: 'hubspot',
      records: [incoming('hs-1', { ...BASE, phone: '2' })], stored: deletedElsewhere,
    });
    expect(writesOf(p)).toEqual([
      ['salesforce', { key: CID, fields: { industry: 'retail', name: 'Acme', phone: '2' } }],
      ['netsuite', { key: CID, fields: { industry: 'retail', name: 'Acme', phone: '2' } }],
    ]);
    expect(p.items[0]).toMatchObject({
      outcome: 'created', record: { deleted: false, data: { ...BASE, phone: '2' }, expectedVersion: 3 },
      forgetLinks: [
        { instance: 'salesforce:00D1', object: 'Account', externalId: 'sf-1', canonicalId: CID },
        { instance: 'netsuite:7', object: 'customer', externalId: 'ns-1', canonicalId: CID },
      ],
    });
    expect(stepOf(p, 'salesforce')?.link).toMatchObject({ externalId: '', lastHash: contentHash({ ...BASE, phone: '2' }) });
  });

  it('resurrect: an origin brought back from its recycle bin updates the systems that kept the record', () => {
    const p = planPage({
      entity: accounts({ updateAfterDelete: 'resurrect', deletePolicy: 'ignore' }), origin: 'salesforce',
      records: [incoming('sf-1', { ...BASE, phone: '2' })], stored: synced({ deleted: true, hashes: { salesforce: TOMBSTONE_HASH } }),
    });
    expect(writesOf(p)).toEqual([
      ['hubspot', { key: CID, externalId: 'hs-1', fields: { phone: '2' } }],
      ['netsuite', { key: CID, externalId: 'ns-1', fields: { phone: '2' } }],
    ]);
    expect(p.items[0]).toMatchObject({ outcome: 'updated', record: { deleted: false } });
    expect(p.items[0].forgetLinks).toBeUndefined();
    expect(stepOf(p, 'salesforce')?.link).toMatchObject({ externalId: 'sf-1', lastHash: contentHash({ ...BASE, phone: '2' }) });
  });
});

describe('6. references', () => {
  const CONTACT = canonicalIdFor('salesforce:00D1', 'Contact', 'c-1');
  const accountLinks = (...names: Name[]) => names.map((n) => link(n, `${SYSTEMS[n].id}-acc`, 'h', ACCOUNT));
  const contactPlan = (records: IncomingRecord[], stored: PlanInput['stored'], o: HubOptions = {}, over: Partial<PlanInput> = {}) =>
    planPage({ entity: contacts(o), origin: 'salesforce', records, stored, ...over });
  const unresolvedLetter = (failingFields: string[]) => ({
    direction: 'read', system: 'salesforce', object: 'Contact', externalId: 'c-1', canonicalId: CONTACT,
    errorCode: 'UNRESOLVED_REFERENCE', failingFields, retryable: true,
  });

  it('dead-letters a record whose reference the mapping could not translate (retryable)', () => {
    const p = contactPlan([incoming('c-1', { lastName: 'Doe' }, { unresolved: [{ field: 'accountId', id: '001X' }] })], NOTHING);
    expect(p.deadLetters).toEqual([expect.objectContaining({ ...unresolvedLetter(['accountId']), reason: 'referenced records not linked yet: accountId → 001X' })]);
    expect(p.items).toEqual([]);
    expect(p.counts.failed).toBe(1);
  });

  it('dead-letters a record whose referenced record is not linked in one of the written systems', () => {
    const p = contactPlan([incoming('c-1', { lastName: 'Doe', accountId: ACCOUNT })], { records: [], links: accountLinks('salesforce', 'hubspot') });
    expect(p.deadLetters).toEqual([expect.objectContaining(unresolvedLetter(['accountId']))]);
    expect(p.items).toEqual([]);
  });

  it('dead-letters a record whose write-back to the origin needs a reference the origin has not linked', () => {
    const base = { lastName: 'Doe', accountId: ACCOUNT };
    const other = '1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d';
    const links = [
      ...NAMES.map((n) => link(n, `${SYSTEMS[n].id}-c1`, contentHash(base), CONTACT, 'Contact')),
      ...accountLinks('salesforce', 'hubspot', 'netsuite'),
      link('hubspot', 'hs-other', 'h', other), link('netsuite', 'ns-other', 'h', other),
    ];
    const records: StoredRecord[] = [{ canonicalId: CONTACT, data: base, hash: contentHash(base), version: 1, deleted: false }];
    const p = contactPlan([incoming('sf-c1', { lastName: 'Doe Jr', accountId: ACCOUNT })], { records, links }, {}, {
      current: showing({ hubspot: current('hs-c1', { lastName: 'Doe', accountId: other }) }),
    });
    expect(p.deadLetters).toEqual([expect.objectContaining({ errorCode: 'UNRESOLVED_REFERENCE', failingFields: ['accountId'], canonicalId: CONTACT })]);
    expect(p.items).toEqual([]);
  });

  it('does not need the referenced record in a system that is only read', () => {
    // (netsuite reads the account alone: a field a system only read holds is its own, see merge.test.ts.)
    const p = contactPlan([incoming('c-1', { lastName: 'Doe', accountId: ACCOUNT })], { records: [], links: accountLinks('salesforce', 'hubspot') },
      { systems: { netsuite: { role: 'source', contactFields: { lastName: 'both' } } } });
    expect(p.deadLetters).toEqual([]);
    expect(writesOf(p).map(([m]) => m)).toEqual(['hubspot']);
  });

  it('writes the reference once the referenced record is linked in every written system', () => {
    const p = contactPlan([incoming('c-1', { lastName: 'Doe', accountId: ACCOUNT })], { records: [], links: accountLinks('salesforce', 'hubspot', 'netsuite') });
    expect(p.deadLetters).toEqual([]);
    expect(writesOf(p)).toEqual([
      ['hubspot', { key: CONTACT, fields: { accountId: ACCOUNT, lastName: 'Doe' } }],
      ['netsuite', { key: CONTACT, fields: { accountId: ACCOUNT, lastName: 'Doe' } }],
    ]);
  });

  it('ignores a tombstoned link of the referenced record', () => {
    const links = [...accountLinks('salesforce', 'hubspot'), link('netsuite', 'ns-acc', TOMBSTONE_HASH, ACCOUNT)];
    const p = contactPlan([incoming('c-1', { lastName: 'Doe', accountId: ACCOUNT })], { records: [], links });
    expect(p.deadLetters.map((d) => d.errorCode)).toEqual(['UNRESOLVED_REFERENCE']);
  });

  it('treats another system\'s reference the mapping could not translate as unknown, not as cleared', () => {
    const base = { lastName: 'Doe', accountId: ACCOUNT };
    const links = [
      link('salesforce', 'c-1', contentHash(base), CONTACT, 'Contact'), link('hubspot', 'h-1', contentHash(base), CONTACT, 'Contact'),
      ...accountLinks('salesforce', 'hubspot'),
    ];
    const records: StoredRecord[] = [{ canonicalId: CONTACT, data: base, hash: contentHash(base), version: 1, deleted: false }];
    const p = contactPlan([incoming('c-1', { lastName: 'Doe Jr', accountId: ACCOUNT })], { records, links }, PAIR, {
      current: showing({ hubspot: current('h-1', { lastName: 'Doe' }, T(5), { unresolved: [{ field: 'accountId', id: '99' }] }) }),
    });
    expect(writesOf(p)).toEqual([['hubspot', { key: CONTACT, externalId: 'h-1', fields: { lastName: 'Doe Jr' } }]]);
    expect(p.items[0].record?.data).toEqual({ lastName: 'Doe Jr', accountId: ACCOUNT });
  });
});

describe('7. merge: two systems (what the two-sided planner did)', () => {
  type Row = [string, Record<string, unknown>, Record<string, unknown> | undefined, HubOptions, string, string | null,
    Record<string, unknown> | undefined, Record<string, unknown> | undefined, string | undefined, number];
  const P2 = (o: HubOptions = {}): HubOptions => ({ ...PAIR, ...o });
  it.each<Row>([
    // name, origin values, hubspot's current values (undefined: not read), hub, origin modifiedAt, hubspot modifiedAt,
    // write to hubspot, write back to the origin, agreed phone, conflicts
    ['one side changed, the other not read', { ...BASE, phone: '2' }, undefined, P2(), T(10), T(5), { phone: '2' }, undefined, '2', 0],
    ['one side changed, the other read and unchanged', { ...BASE, phone: '2' }, BASE, P2(), T(10), T(5), { phone: '2' }, undefined, '2', 0],
    ['a field cleared', { ...BASE, phone: null }, BASE, P2(), T(10), T(5), { phone: null }, undefined, undefined, 0],
    ['both changed to the same value', { ...BASE, phone: '2' }, { ...BASE, phone: '2' }, P2(), T(10), T(5), undefined, undefined, '2', 0],
    ['lww: origin later', { ...BASE, phone: '2' }, { ...BASE, phone: '3' }, P2(), T(10), T(5), { phone: '2' }, undefined, '2', 0],
    ['lww: other system later', { ...BASE, phone: '2' }, { ...BASE, phone: '3' }, P2(), T(4), T(5), undefined, { phone: '3' }, '3', 0],
    ['lww: a tie goes to the name sorting first', { ...BASE, phone: '2' }, { ...BASE, phone: '3' }, P2(), T(5), T(5), undefined, { phone: '3' }, '3', 0],
    ['lww: other system\'s time unknown', { ...BASE, phone: '2' }, { ...BASE, phone: '3' }, P2(), T(10), null, { phone: '2' }, undefined, '2', 0],
    ['system of record: the origin', { ...BASE, phone: '2' }, { ...BASE, phone: '3' }, P2({ owners: { phone: 'salesforce' } }), T(1), T(5), { phone: '2' }, undefined, '2', 0],
    ['system of record: the other system', { ...BASE, phone: '2' }, { ...BASE, phone: '3' }, P2({ owners: { phone: 'hubspot' } }), T(99), T(5), undefined, { phone: '3' }, '3', 0],
    ['system of record: default policy', { ...BASE, phone: '2' }, { ...BASE, phone: '3' }, P2({ conflictPolicy: 'hubspot' }), T(99), T(5), undefined, { phone: '3' }, '3', 0],
    ['system of record: a system not in the hub', { ...BASE, phone: '2' }, { ...BASE, phone: '3' }, P2({ owners: { phone: 'zendesk' } }), T(99), T(5), undefined, undefined, '111', 1],
    ['manual: base kept, conflict queued', { ...BASE, phone: '2' }, { ...BASE, phone: '3' }, P2({ owners: { phone: 'manual' } }), T(99), T(5), undefined, undefined, '111', 1],
    ['manual: other fields still flow', { ...BASE, phone: '2', name: 'Acme Inc' }, { ...BASE, phone: '3' }, P2({ owners: { phone: 'manual' } }), T(99), T(5), { name: 'Acme Inc' }, undefined, '111', 1],
    ['disjoint fields merge both ways', { ...BASE, phone: '2' }, { ...BASE, industry: 'tech' }, P2(), T(10), T(5), { phone: '2' }, { industry: 'tech' }, '2', 0],
    ['one-way (origin only read, other only written): the change reaches it, nothing comes back', { ...BASE, phone: '2' }, undefined,
      { systems: { netsuite: false, salesforce: { role: 'source' }, hubspot: { role: 'target' } } }, T(1), T(5), { phone: '2' }, undefined, '2', 0],
  ])('%s', (_name, originValues, hubspotValues, o, originAt, hubspotAt, toHubspot, toOrigin, phone, conflicts) => {
    const p = planPage({
      entity: accounts(o), origin: 'salesforce', stored: synced(), records: [incoming('sf-1', originValues, { modifiedAt: originAt })],
      current: hubspotValues ? showing({ hubspot: current('hs-1', hubspotValues, hubspotAt) }) : undefined,
    });
    expect(stepOf(p, 'hubspot')?.write).toEqual(toHubspot ? { key: CID, externalId: 'hs-1', fields: toHubspot } : undefined);
    expect(stepOf(p, 'salesforce')?.write).toEqual(toOrigin ? { key: CID, externalId: 'sf-1', fields: toOrigin } : undefined);
    // No record upsert: the agreed state is the base.
    expect((p.items[0].record?.data ?? BASE).phone).toBe(phone);
    expect(p.items[0].outcome).toBe(toHubspot || toOrigin || phone !== '111' ? 'updated' : 'unchanged');
    expect(p.conflicts).toHaveLength(conflicts);
    expect(p.counts.conflicts).toBe(conflicts);
  });

  it('queues a manual conflict with every side that changed the field and the base', () => {
    const p = planPage({
      entity: accounts({ ...PAIR, owners: { phone: 'manual' } }), origin: 'salesforce', stored: synced(),
      records: [incoming('sf-1', { ...BASE, phone: '2' })], current: showing({ hubspot: current('hs-1', { ...BASE, phone: '3' }) }),
    });
    expect(p.conflicts).toEqual([{
      entity: 'Account', canonicalId: CID, field: 'phone', policy: 'manual', baseValue: '111',
      sides: { salesforce: { value: '2', modifiedAt: T(10) }, hubspot: { value: '3', modifiedAt: T(5) } },
    }]);
  });

  it('ignores a change to a field another system owns (reads it, may not be written it)', () => {
    const p = planPage({
      entity: accounts({ ...PAIR, systems: { netsuite: false, hubspot: { fields: { ...ACCOUNT_FIELDS, phone: 'inbound' } } } }),
      origin: 'salesforce', stored: synced(), records: [incoming('sf-1', { ...BASE, phone: '2' })], current: showing({ hubspot: current('hs-1', BASE) }),
    });
    expect(writesOf(p)).toEqual([]);
    expect(p.items[0]).toMatchObject({ outcome: 'unchanged' });
    expect(p.items[0].record).toBeUndefined();
  });

  it('merges nested fields by dotted path and writes them nested', () => {
    const fields: Record<string, FieldDirection> = { name: 'both', 'billingAddress.city': 'both', 'billingAddress.country': 'both' };
    const base = { name: 'Acme', billingAddress: { city: 'Paris', country: 'FR' } };
    const p = planPage({
      entity: accounts({ systems: { netsuite: false, salesforce: { fields }, hubspot: { fields } } }), origin: 'salesforce', stored: synced({ base }),
      records: [incoming('sf-1', { name: 'Acme', billingAddress: { city: 'Lyon', country: 'FR' } })],
      current: showing({ hubspot: current('hs-1', { name: 'Acme', 'billingAddress.city': 'Paris', 'billingAddress.country': 'BE' }) }),
    });
    expect(writesOf(p)).toEqual([
      ['salesforce', { key: CID, externalId: 'sf-1', fields: { billingAddress: { country: 'BE' } } }],
      ['hubspot', { key: CID, externalId: 'hs-1', fields: { billingAddress: { city: 'Lyon' } } }],
    ]);
    expect(p.items[0].record?.data).toEqual({ name: 'Acme', billingAddress: { city: 'Lyon', country: 'BE' } });
  });

  it('refuses a batch read from a system that is only written, or not in the entity', () => {
    const entity = accounts({ systems: { hubspot: { role: 'target' } } });
    expect(() => planPage({ entity, origin: 'hubspot', records: [], stored: NOTHING })).toThrow(/never read/);
    expect(() => planPage({ entity, origin: 'zendesk', records: [], stored: NOTHING })).toThrow(/not synced with zendesk/);
  });
});

describe('7. merge: every system of the hub', () => {
  it('creates a record first seen in every other written system, with every agreed field each accepts', () => {
    const p = plan([incoming('sf-1', { ...BASE, phone: null })], {
      stored: NOTHING, entity: accounts({ systems: { netsuite: { fields: { name: 'both', industry: 'outbound', phone: 'inbound' } } } }),
    });
    expect(p.items).toHaveLength(1);
    const [item] = p.items;
    expect(item).toMatchObject({ canonicalId: CID, outcome: 'created', source: { member: 'salesforce', externalId: 'sf-1', modifiedAt: T(10) } });
    expect(item.record).toEqual({ entity: 'Account', canonicalId: CID, data: { name: 'Acme', industry: 'retail' }, hash: contentHash({ name: 'Acme', industry: 'retail' }), deleted: false, expectedVersion: undefined });
    expect(item.steps).toEqual([
      { member: 'salesforce', write: undefined, link: { ...link('salesforce', 'sf-1', contentHash({ ...BASE, phone: null })), lastModifiedAt: T(10) } },
      { member: 'hubspot', write: { key: CID, fields: { industry: 'retail', name: 'Acme' } }, link: { ...link('hubspot', '', contentHash({ name: 'Acme', industry: 'retail' })), lastModifiedAt: null } },
      // netsuite reads name only (industry is outbound there): the hash of its next read.
      { member: 'netsuite', write: { key: CID, fields: { industry: 'retail', name: 'Acme' } }, link: { ...link('netsuite', '', contentHash({ name: 'Acme' })), lastModifiedAt: null } },
    ]);
  });

  it('a system only read that does not hold a new record does not keep it from the other systems', () => {
    const p = plan([incoming('sf-1', BASE)], { stored: NOTHING, entity: accounts({ systems: { hubspot: { role: 'source' } } }) });
    expect(p.items[0].record?.data).toEqual(BASE);
    expect(p.items[0].record?.hash).toBe(contentHash(BASE));
    expect(writesOf(p)).toEqual([['netsuite', { key: CID, fields: BASE }]]);
  });

  it('creates in systems only written, never in systems only read', () => {
    const p = plan([incoming('sf-1', BASE)], {
      stored: NOTHING, entity: accounts({ systems: { hubspot: { role: 'source', fields: { website: 'both' } }, netsuite: { role: 'target' } } }),
    });
    expect(writesOf(p).map(([m]) => m)).toEqual(['netsuite']);
    expect(p.items[0].steps.map((s) => s.member)).toEqual(['salesforce', 'netsuite']);
  });

  it('creates where the record is missing and writes back to the origin what other systems won', () => {
    const p = plan([incoming('sf-1', { ...BASE, phone: '2' })], {
      stored: synced({ unlinked: ['netsuite'] }), current: showing({ hubspot: current('hs-1', { ...BASE, industry: 'tech' }) }),
    });
    const agreed = { name: 'Acme', phone: '2', industry: 'tech' };
    expect(writesOf(p)).toEqual([
      ['salesforce', { key: CID, externalId: 'sf-1', fields: { industry: 'tech' } }],
      ['hubspot', { key: CID, externalId: 'hs-1', fields: { phone: '2' } }],
      ['netsuite', { key: CID, fields: { industry: 'tech', name: 'Acme', phone: '2' } }],
    ]);
    expect(p.items[0]).toMatchObject({ outcome: 'created', before: BASE, record: { data: agreed, expectedVersion: 3 } });
  });

  it('writes each system only the changed fields it does not show yet', () => {
    const p = plan([incoming('sf-1', { ...BASE, phone: '2' })], {
      current: showing({ hubspot: current('hs-1', { ...BASE, phone: '2', industry: 'tech' }), netsuite: current('ns-1', { ...BASE, industry: 'tech' }) }),
    });
    expect(writesOf(p).map(([m, w]) => [m, w.fields])).toEqual([['salesforce', { industry: 'tech' }], ['netsuite', { phone: '2' }]]);
    expect(p.conflicts).toEqual([]);
  });

  it('settles a field three systems changed differently by its policy, and queues a manual one with every side', () => {
    const records = [incoming('sf-1', { ...BASE, phone: '2' }, { modifiedAt: T(10) })];
    const shown = showing({ hubspot: current('hs-1', { ...BASE, phone: '3' }, T(30)), netsuite: current('ns-1', { ...BASE, phone: '4' }, T(20)) });
    const lww = plan(records, { current: shown });
    expect(lww.items[0].record?.data).toEqual({ ...BASE, phone: '3' });
    expect(writesOf(lww).map(([m, w]) => [m, w.fields])).toEqual([['salesforce', { phone: '3' }], ['netsuite', { phone: '3' }]]);
    const manual = plan(records, { current: shown, entity: accounts({ owners: { phone: 'manual' } }) });
    expect(manual.conflicts.map((c) => c.sides)).toEqual([{
      salesforce: { value: '2', modifiedAt: T(10) }, hubspot: { value: '3', modifiedAt: T(30) }, netsuite: { value: '4', modifiedAt: T(20) },
    }]);
    expect(writesOf(manual)).toEqual([]);
  });

  /** netsuite is only read, and reads industry alone. */
  const readOnly = () => accounts({ systems: { netsuite: { role: 'source', fields: { industry: 'both' } } } });

  it('gives a system read and merged but not written the hash it showed, so its next read is an echo', () => {
    const shown = current('ns-1', { industry: 'tech' }, T(7));
    const p = plan([incoming('sf-1', { ...BASE, phone: '2' })], { entity: readOnly(), current: showing({ netsuite: shown }) });
    expect(writesOf(p).map(([m, w]) => [m, w.fields])).toEqual([['salesforce', { industry: 'tech' }], ['hubspot', { industry: 'tech', phone: '2' }]]);
    expect(stepOf(p, 'netsuite')).toEqual({ member: 'netsuite', link: { ...link('netsuite', 'ns-1', shown.hash), lastModifiedAt: T(7) } });
  });

  it('refreshes no link of a system that shows what its link holds', () => {
    const p = plan([incoming('sf-1', { ...BASE, phone: '2' })], {
      entity: readOnly(), stored: synced({ hashes: { netsuite: contentHash({ industry: 'retail' }) } }), current: showing({ netsuite: current('ns-1', { industry: 'retail' }) }),
    });
    expect(writesOf(p).map(([m]) => m)).toEqual(['hubspot']);
    expect(stepOf(p, 'netsuite')).toBeUndefined();
  });

  it('links each written system at the hash of the canonical view it will show after the write', () => {
    const p = plan([incoming('sf-1', { ...BASE, phone: '2' })], { current: showing({ hubspot: current('hs-1', { ...BASE, industry: 'tech' }, T(5)) }) });
    const after = contentHash({ name: 'Acme', phone: '2', industry: 'tech' });
    expect(p.items[0].steps.map((s) => [s.member, s.link?.lastHash, s.link?.lastModifiedAt])).toEqual([
      ['salesforce', after, T(10)], ['hubspot', after, T(5)], ['netsuite', after, T(1)],
    ]);
  });

  it('uses `predict` for link hashes when given, the canonical view when it cannot tell', () => {
    const forecasts: WriteForecast[] = [];
    const raw = { name: 'Acme', phone: '111', industry: 'tech', extra: 'x' };
    const p = plan([incoming('sf-1', { ...BASE, phone: '2' }, { payload: { Id: 'sf-1' } })], {
      stored: synced({ unlinked: ['netsuite'] }),
      current: showing({ hubspot: current('hs-1', { ...BASE, industry: 'tech' }, T(5), { raw }) }),
      predict: (f) => { forecasts.push(f); return f.member.system.name === 'netsuite' ? undefined : `predicted:${f.member.system.name}`; },
    });
    const agreed = { name: 'Acme', phone: '2', industry: 'tech' };
    expect(p.items[0].steps.map((s) => [s.member, s.link?.lastHash])).toEqual([
      ['salesforce', 'predicted:salesforce'], ['hubspot', 'predicted:hubspot'], ['netsuite', contentHash(agreed)],
    ]);
    expect(forecasts.map((f) => ({ member: f.member.system.name, raw: f.raw, create: f.create, fields: f.fields, agreed: f.agreed }))).toEqual([
      { member: 'salesforce', raw: { Id: 'sf-1' }, create: false, fields: { industry: 'tech' }, agreed },
      { member: 'hubspot', raw, create: false, fields: { phone: '2' }, agreed },
      { member: 'netsuite', raw: undefined, create: true, fields: agreed, agreed },
    ]);
  });
});

describe('8. nothing changed after all', () => {
  it('counts equal values behind a different hash as unchanged and refreshes the origin link', () => {
    const p = plan([incoming('sf-1', BASE, { hash: 'another-function' })]);
    expect(writesOf(p)).toEqual([]);
    expect(p.items).toEqual([{
      canonicalId: CID, source: expect.objectContaining({ member: 'salesforce', hash: 'another-function' }), outcome: 'unchanged', before: BASE,
      steps: [{ member: 'salesforce', write: undefined, link: { ...link('salesforce', 'sf-1', 'another-function'), lastModifiedAt: T(10) } }],
    }]);
  });

  it('refreshes a read system whose hash moved though its values agree, and not the origin whose link holds its hash', () => {
    const p = plan([incoming('sf-1', BASE, { hash: 'another-function' })], {
      stored: synced({ hashes: { salesforce: 'another-function' } }), replay: true,
      current: showing({ hubspot: current('hs-1', BASE, T(5), { hash: 'hubspot-words' }) }),
    });
    expect(p.items).toHaveLength(1);
    expect(p.items[0].outcome).toBe('unchanged');
    expect(p.items[0].steps).toEqual([{ member: 'hubspot', link: { ...link('hubspot', 'hs-1', 'hubspot-words'), lastModifiedAt: T(5) } }]);
  });

  it('plans nothing when nothing moved at all (a replay of a record that went through)', () => {
    const p = plan([incoming('sf-1', BASE)], { replay: true, current: showing({ hubspot: current('hs-1', BASE) }) });
    expect(p.items).toEqual([]);
    expect(p.counts).toMatchObject({ read: 1, unchanged: 1 });
  });
});

// ---- writes that start in ecosync -------------------------------------------------------------------

describe('writes that start in ecosync', () => {
  /** Every system shows what its link holds (in step), but for `over`. */
  const inStep = (over: Partial<Record<Name, CurrentRecord>> = {}) =>
    showing({ ...Object.fromEntries(NAMES.map((n) => [n, current(`${SYSTEMS[n].id}-1`, BASE)])), ...over });
  const ecosyncPlan = (values: Record<string, unknown>, over: Partial<PlanInput> = {}) =>
    planPage({ entity: accounts(), origin: ECOSYNC_ORIGIN, records: [fromEcosync(values)], stored: synced(), current: inStep(), ...over });

  it('writes its values to every system that holds the record; it has no link, no source and no cursor of its own', () => {
    const p = ecosyncPlan({ ...BASE, phone: '9' });
    expect(writesOf(p)).toEqual(NAMES.map((n) => [n, { key: CID, externalId: `${SYSTEMS[n].id}-1`, fields: { phone: '9' } }]));
    expect(p.items[0].steps.map((s) => s.member)).toEqual(NAMES);
    expect(p.items[0].source).toBeUndefined();
    expect(p.items[0]).toMatchObject({ outcome: 'updated', record: { data: { ...BASE, phone: '9' }, expectedVersion: 3 } });
    expect(p.items[0].steps.map((s) => s.link?.lastHash)).toEqual(NAMES.map(() => contentHash({ ...BASE, phone: '9' })));
    expect(p.cursor).toBeNull();
  });

  it('its values win a field another system changed, whatever the field\'s policy', () => {
    const shown = { ...BASE, phone: '3' };
    const p = ecosyncPlan({ ...BASE, phone: '9' }, {
      entity: accounts({ owners: { phone: 'manual' } }),
      stored: synced({ hashes: { hubspot: contentHash(shown) } }),
      current: inStep({ hubspot: current('hs-1', shown) }),
    });
    expect(p.conflicts).toEqual([]);
    expect(p.items[0].record?.data).toEqual({ ...BASE, phone: '9' });
    expect(writesOf(p).map(([m, w]) => [m, w.fields])).toEqual(NAMES.map((n) => [n, { phone: '9' }]));
  });

  it('creates the record where it is missing by default; with createMissing false it writes only where it is', () => {
    const stored = synced({ unlinked: ['netsuite'] });
    const created = ecosyncPlan({ ...BASE, phone: '9' }, { stored });
    expect(writesOf(created).find(([m]) => m === 'netsuite')).toEqual(['netsuite', { key: CID, fields: { ...BASE, phone: '9' } }]);
    expect(created.items[0].outcome).toBe('created');
    const patched = ecosyncPlan({ ...BASE, phone: '9' }, { stored, createMissing: false });
    expect(writesOf(patched).map(([m]) => m)).toEqual(['salesforce', 'hubspot']);
    expect(patched.items[0].outcome).toBe('updated');
  });

  it('writes to a system out of step (changed since last synced) without merging its change, and leaves its link alone', () => {
    const p = ecosyncPlan({ ...BASE, phone: '9' }, {
      current: inStep({ hubspot: current('hs-1', { ...BASE, industry: 'tech' }) }),
    });
    expect(stepOf(p, 'hubspot')).toEqual({ member: 'hubspot', write: { key: CID, externalId: 'hs-1', fields: { phone: '9' } }, link: undefined });
    expect(p.items[0].record?.data).toEqual({ ...BASE, phone: '9' });
    expect(stepOf(p, 'netsuite')?.link?.lastHash).toBe(contentHash({ ...BASE, phone: '9' }));
  });

  it('refuses an origin that is not ecosync and not a system of the entity', () => {
    expect(() => ecosyncPlan(BASE, { origin: 'ecosync-2' })).toThrow(/not synced with ecosync-2/);
  });
});

// ---- what the engine reads and looks up ahead of planning --------------------------------------------

describe('currentWanted', () => {
  it('asks exactly for the live links, in systems that are read, of the records that will be merged', () => {
    const cid = (n: number) => canonicalIdFor('salesforce:00D1', 'Account', `sf-${n}`);
    const linksOf = (n: number, hashes: Partial<Record<Name, string>> = {}) =>
      NAMES.map((s) => link(s, `${SYSTEMS[s].id}-${n}`, hashes[s] ?? contentHash(BASE), cid(n)));
    const stored = {
      records: [1, 2, 3, 4].map((n) => ({ canonicalId: cid(n), data: BASE, hash: contentHash(BASE), version: 1, deleted: n === 4 })),
      links: [...linksOf(1), ...linksOf(2), ...linksOf(3), ...linksOf(4, { hubspot: TOMBSTONE_HASH })],
    };
    const input = {
      entity: accounts({ systems: { netsuite: { role: 'target' } }, updateAfterDelete: 'resurrect' }), origin: 'salesforce', stored,
      records: [
        incoming('sf-1', { ...BASE, phone: '2' }), // merged
        incoming('sf-2', BASE), // echo
        incoming('sf-3', {}, { deleted: true }), // delete
        incoming('sf-4', { ...BASE, phone: '4' }), // merged (resurrect); its hubspot link is tombstoned
        incoming('sf-5', BASE), // new: nothing linked anywhere
      ],
    };
    expect(currentWanted(input)).toEqual(new Map([['hubspot', ['hs-1']]]));
  });

  it('asks for every read system for a write that starts in ecosync', () => {
    expect(currentWanted({ entity: accounts(), origin: ECOSYNC_ORIGIN, records: [fromEcosync(BASE)], stored: synced() }))
      .toEqual(new Map([['salesforce', ['sf-1']], ['hubspot', ['hs-1']], ['netsuite', ['ns-1']]]));
  });
});

describe('lookups', () => {
  const contact = () => contacts().members[0];

  it('externalLookups: groups external ids by object, the records and the records they reference', () => {
    expect(externalLookups(contact(), ['c-1', 'c-2', 'c-1'], { accountId: ['001A', '001A', '001B', ''] })).toEqual([
      { instance: 'salesforce:00D1', object: 'Contact', externalIds: ['c-1', 'c-2'] },
      { instance: 'salesforce:00D1', object: 'Account', externalIds: ['001A', '001B'] },
    ]);
    expect(() => externalLookups(contact(), [], { lastName: ['1'] })).toThrow(/not a reference field/);
  });

  it('canonicalLookups: the canonical ids carried and found (lower case, sorted), and the referenced records', () => {
    const carried = '5f0e4b1a-2c3d-4e5f-8a9b-0c1d2e3f4a5b';
    const found = [
      link('salesforce', 'c-2', 'h', CID.toUpperCase(), 'Contact'), // the origin's own link
      link('salesforce', '001A', 'h', ACCOUNT.toUpperCase()), // a referenced account
      link('hubspot', 'x', 'h', '1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d'), // another system's: not the origin's
    ];
    const keys = canonicalLookups(contacts(), contact(), [{ externalId: 'c-2', canonicalId: null }, { externalId: 'c-3', canonicalId: carried.toUpperCase() }], found);
    expect(keys.records).toEqual(expect.arrayContaining([CID, carried]));
    expect(keys.records).not.toContain('1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d');
    expect(keys.records).toEqual([...keys.records].sort());
    expect(keys.links).toEqual([{ entity: 'Contact', canonicalIds: keys.records }, { entity: 'Account', canonicalIds: [ACCOUNT] }]);
  });

  it('canonicalLookups for a write that starts in ecosync: its id and the records its values refer to', () => {
    const keys = canonicalLookups(contacts(), undefined, [{ externalId: CID, canonicalId: CID }], [], { Account: [ACCOUNT, 'not-an-id'] });
    expect(keys).toEqual({ records: [CID], links: [{ entity: 'Contact', canonicalIds: [CID] }, { entity: 'Account', canonicalIds: [ACCOUNT] }] });
  });
});

describe('planPage as a function', () => {
  it('advances the cursor to the greatest (modifiedAt, id) of the batch, never backwards', () => {
    const records = [incoming('sf-2', BASE, { modifiedAt: T(7) }), incoming('sf-1', BASE, { modifiedAt: T(7) }), incoming('sf-0', BASE, { modifiedAt: T(3) })];
    expect(plan(records, { cursor: { modifiedAt: T(5), id: 'z' } }).cursor).toEqual({ modifiedAt: T(7), id: 'sf-2' });
    expect(plan(records, { cursor: { modifiedAt: T(9), id: 'a' } }).cursor).toEqual({ modifiedAt: T(9), id: 'a' });
    expect(plan([], { cursor: null }).cursor).toBeNull();
  });

  it('is deterministic and leaves its input untouched', () => {
    const input: PlanInput = {
      entity: accounts({ owners: { industry: 'manual' } }), origin: 'salesforce', stored: synced({ unlinked: ['netsuite'] }), cursor: null,
      records: [
        incoming('sf-1', { ...BASE, phone: '2', industry: 'a' }), incoming('sf-2', BASE), incoming('sf-3', {}, { deleted: true }),
        incoming('sf-4', {}, { errors: [{ code: 'required', message: 'name is required' }] }),
      ],
      current: showing({ hubspot: current('hs-1', { ...BASE, name: 'Acme Ltd', industry: 'b' }) }),
    };
    const snapshot = JSON.stringify({ records: input.records, stored: input.stored, current: [...input.current!.get('hubspot')!] });
    const first = planPage(input);
    expect(planPage(input)).toEqual(first);
    expect(JSON.stringify({ records: input.records, stored: input.stored, current: [...input.current!.get('hubspot')!] })).toBe(snapshot);
    expect(first.items.map((i) => i.outcome)).toEqual(['created', 'created']);
    expect(first.conflicts.map((c) => c.field)).toEqual(['industry']);
  });
});
