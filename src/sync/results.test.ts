import { describe, expect, it } from 'vitest';
import { memoryMapper } from '../../test/support/memory-hub.js';
import { isEntityName } from '../model/index.js';
import { buildHub, type HubEntity } from './hub.js';
import { canonicalIdFor } from './ids.js';
import { emptyCounts, planPage, type CurrentRecord, type IncomingRecord, type PlanInput, type SyncPlan } from './plan.js';
import { TOMBSTONE_HASH, type StoredLink, type StoredRecord } from './ports.js';
import type { WriteResult } from './protocol.js';
import { applyWriteResults, opsOf, type SyncOutcome, type WriteResults } from './results.js';
import { contentHash } from './values.js';

// ---- builders ------------------------------------------------------------------------------------

const T = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();

/** Three systems, each read and written, around accounts: kind = name, instance, object, id prefix. */
const SYSTEMS = {
  salesforce: { instance: 'salesforce:00D1', object: 'Account', id: 'sf' },
  hubspot: { instance: 'hubspot:42', object: 'companies', id: 'hs' },
  netsuite: { instance: 'netsuite:7', object: 'customer', id: 'ns' },
} as const;
type Name = keyof typeof SYSTEMS;
const NAMES = Object.keys(SYSTEMS) as Name[];

function accounts(o: { owners?: Record<string, string>; updateAfterDelete?: 'skip' | 'resurrect' } = {}): HubEntity {
  const fields = { name: 'both', phone: 'both', industry: 'both' } as const;
  return buildHub({
    id: '0b0c5a7e-6d1f-4c1e-9a51-2f7d9b3c4e10', name: 'test',
    systems: NAMES.map((n) => ({ name: n, system: n, role: 'both' as const })),
    entities: [{ entity: 'Account', members: NAMES.map((n) => ({ system: n, object: SYSTEMS[n].object, mapping: n })) }],
    deletePolicy: 'propagate', conflictPolicy: 'lww', updateAfterDelete: o.updateAfterDelete,
  }, {
    mapperOf: (n) => ({ ...memoryMapper(n, fields, o.owners), object: SYSTEMS[n as Name].object }),
    instanceOf: (n) => SYSTEMS[n as Name].instance, isEntity: isEntityName,
  }).entities[0];
}

const cidOf = (n: number) => canonicalIdFor('salesforce:00D1', 'Account', `sf-${n}`);
const CID = cidOf(1);
const BASE = { name: 'Acme', phone: '111', industry: 'retail' };

const link = (system: Name, n: number, lastHash = contentHash(BASE)): StoredLink =>
  ({ entity: 'Account', canonicalId: cidOf(n), instance: SYSTEMS[system].instance, object: SYSTEMS[system].object, externalId: `${SYSTEMS[system].id}-${n}`, lastHash, lastModifiedAt: T(1) });

/** Records 1..n synced before (version 3): the base, and a link in each system holding its hash. */
function synced(ns: number[] = [1], o: { deleted?: boolean; tombstoned?: Name[] } = {}) {
  const records: StoredRecord[] = ns.map((n) => ({ canonicalId: cidOf(n), data: BASE, hash: contentHash(BASE), version: 3, deleted: o.deleted ?? false }));
  const links = ns.flatMap((n) => NAMES.map((s) => link(s, n, o.tombstoned?.includes(s) ? TOMBSTONE_HASH : contentHash(BASE))));
  return { records, links };
}

const incoming = (externalId: string, values: Record<string, unknown>, over: Partial<IncomingRecord> = {}): IncomingRecord =>
  ({ externalId, modifiedAt: T(10), deleted: false, values, hash: contentHash(values), ...over });
const current = (externalId: string, values: Record<string, unknown>): CurrentRecord =>
  ({ externalId, modifiedAt: T(5), values, hash: contentHash(values) });
const showing = (records: Partial<Record<Name, CurrentRecord>>) =>
  new Map(Object.entries(records).map(([n, c]) => [n, new Map([[c.externalId, c]])]));

const plan = (records: IncomingRecord[], over: Partial<PlanInput> = {}): SyncPlan =>
  planPage({ entity: accounts(), origin: 'salesforce', records, stored: synced(), cursor: null, ...over });

/** sf-1 first seen: created in hubspot and netsuite. */
const createPlan = () => plan([incoming('sf-1', BASE)], { stored: { records: [], links: [] } });
/** sf-1's phone changed and HubSpot's industry: phone to hubspot and netsuite, industry back to salesforce and to netsuite. */
const updatePlan = () => plan([incoming('sf-1', { ...BASE, phone: '2' })], { current: showing({ hubspot: current('hs-1', { ...BASE, industry: 'tech' }) }) });
/** sf-1's phone changed, nothing to write back: phone to hubspot and netsuite. */
const pushPlan = () => plan([incoming('sf-1', { ...BASE, phone: '2' })]);
/** sf-1 deleted: deleted in hubspot and netsuite. */
const deletePlan = () => plan([incoming('sf-1', {}, { deleted: true })]);
/** hs-1 changed after salesforce and netsuite deleted the record: created there again. */
const resurrectPlan = () => planPage({
  entity: accounts({ updateAfterDelete: 'resurrect' }), origin: 'hubspot', records: [incoming('hs-1', { ...BASE, phone: '2' })],
  stored: synced([1], { deleted: true, tombstoned: ['salesforce', 'netsuite'] }), cursor: null,
});

const ok = (externalId: string, modifiedAt?: string, created = false, key = CID): WriteResult => ({ key, ok: true, externalId, created, modifiedAt });
const failed = (retryable: boolean, code = 'INVALID_EMAIL_ADDRESS', key = CID): WriteResult =>
  ({ key, ok: false, retryable, error: { code, message: `bad: ${code}`, fields: ['phone'] } });
/** Results per system; writes and deletes default to none. */
const results = (r: Partial<Record<Name, { writes?: WriteResult[]; deletes?: WriteResult[] }>>): WriteResults =>
  Object.fromEntries(Object.entries(r).map(([n, x]) => [n, { writes: x.writes ?? [], deletes: x.deletes ?? [] }]));

const stepLink = (p: SyncPlan, member: Name, item = 0) => p.items[item].steps.find((s) => s.member === member)!.link!;
const linkFor = (out: SyncOutcome, member: Name) => out.links.filter((l) => l.instance === SYSTEMS[member].instance);

// ---- everything went through ----------------------------------------------------------------------

describe('applyWriteResults: every step succeeded', () => {
  it('commits a created record and every link, each created link learning its id and modified time', () => {
    const p = createPlan();
    const out = applyWriteResults(p, results({ hubspot: { writes: [ok('hs-9', T(50), true)] }, netsuite: { writes: [ok('ns-9', T(51), true)] } }));
    expect(out.records).toEqual([p.items[0].record]);
    expect(out.links).toEqual([
      stepLink(p, 'salesforce'),
      { ...stepLink(p, 'hubspot'), externalId: 'hs-9', lastModifiedAt: T(50) },
      { ...stepLink(p, 'netsuite'), externalId: 'ns-9', lastModifiedAt: T(51) },
    ]);
    expect(out.forgetLinks).toEqual([]);
    expect(out.deadLetters).toEqual([]);
    expect(out.committed).toEqual([p.items[0]]);
    expect(out.done).toEqual([
      { canonicalId: CID, member: 'hubspot', externalId: 'hs-9', created: true },
      { canonicalId: CID, member: 'netsuite', externalId: 'ns-9', created: true },
    ]);
    expect(out.counts).toMatchObject({ read: 1, created: 1, failed: 0 });
    expect(out.retry).toBeNull();
    expect(out.cursor).toEqual({ modifiedAt: T(10), id: 'sf-1' });
  });

  it('commits an update written to every system, the origin\'s write-back included', () => {
    const p = updatePlan();
    const out = applyWriteResults(p, results({ salesforce: { writes: [ok('sf-1', T(61))] }, hubspot: { writes: [ok('hs-1', T(60))] }, netsuite: { writes: [ok('ns-1', T(62))] } }));
    expect(out.counts).toMatchObject({ updated: 1, failed: 0 });
    expect(out.records.map((r) => r.data)).toEqual([{ name: 'Acme', phone: '2', industry: 'tech' }]);
    expect(out.links.map((l) => [l.instance, l.lastHash, l.lastModifiedAt])).toEqual([
      ['salesforce:00D1', stepLink(p, 'salesforce').lastHash, T(61)], ['hubspot:42', stepLink(p, 'hubspot').lastHash, T(60)], ['netsuite:7', stepLink(p, 'netsuite').lastHash, T(62)],
    ]);
  });

  it('keeps the planned modified time of a link when the system tells none', () => {
    const out = applyWriteResults(pushPlan(), results({ hubspot: { writes: [ok('hs-1')] }, netsuite: { writes: [ok('ns-1')] } }));
    expect(linkFor(out, 'hubspot').map((l) => l.lastModifiedAt)).toEqual([T(1)]);
  });

  it('counts each committed item by its outcome, on top of what planning counted', () => {
    const p = plan([
      incoming('sf-1', { ...BASE, phone: '2' }), // updated
      incoming('sf-2', BASE), // created
      incoming('sf-3', BASE, { hash: 'another-function' }), // unchanged: a link refresh
      incoming('sf-4', {}, { deleted: true }), // deleted
      incoming('sf-5', BASE), // an echo: unchanged at planning
    ], { stored: synced([1, 3, 4, 5]) });
    const out = applyWriteResults(p, results({
      hubspot: { writes: [ok('hs-1', undefined, false, cidOf(1)), ok('hs-2', undefined, true, cidOf(2))], deletes: [ok('hs-4', undefined, false, cidOf(4))] },
      netsuite: { writes: [ok('ns-1', undefined, false, cidOf(1)), ok('ns-2', undefined, true, cidOf(2))], deletes: [ok('ns-4', undefined, false, cidOf(4))] },
    }));
    expect(out.counts).toEqual({ ...emptyCounts(), read: 5, created: 1, updated: 1, unchanged: 2, deleted: 1 });
    expect(out.committed.map((i) => i.canonicalId)).toEqual([cidOf(1), cidOf(2), cidOf(3), cidOf(4)]);
  });

  it('commits an item without writes (a link refresh) from no results at all', () => {
    const p = plan([incoming('sf-1', BASE, { hash: 'another-function' })]);
    const out = applyWriteResults(p, {});
    expect(out.links).toEqual([expect.objectContaining({ instance: 'salesforce:00D1', externalId: 'sf-1', lastHash: 'another-function' })]);
    expect(out.records).toEqual([]);
    expect(out.counts.unchanged).toBe(1);
  });
});

// ---- retryable failures ---------------------------------------------------------------------------

describe('applyWriteResults: retryable failures', () => {
  it('retries only the steps still to do, one attempt later, and saves nothing and no cursor until settled', () => {
    const p = updatePlan();
    const first = applyWriteResults(p, results({
      salesforce: { writes: [ok('sf-1', T(61))] }, hubspot: { writes: [ok('hs-1', T(60))] }, netsuite: { writes: [failed(true, 'REQUEST_LIMIT_EXCEEDED')] },
    }));
    expect(first).toMatchObject({ records: [], links: [], forgetLinks: [], deadLetters: [], committed: [], cursor: null });
    expect(first.counts).toEqual({ ...emptyCounts(), read: 1 });
    const retry = first.retry!;
    expect(retry.attempt).toBe(2);
    expect(retry.counts).toEqual(emptyCounts());
    expect([...opsOf(retry)]).toEqual([['netsuite', { writes: [p.items[0].steps[2].write], deletes: [] }]]);
    expect(retry.items[0].steps.map((s) => [s.member, s.link?.lastModifiedAt])).toEqual([['salesforce', T(61)], ['hubspot', T(60)], ['netsuite', T(1)]]);
  });

  it('commits the record and every link once the retry went through', () => {
    const p = updatePlan();
    const first = applyWriteResults(p, results({
      salesforce: { writes: [ok('sf-1', T(61))] }, hubspot: { writes: [ok('hs-1', T(60))] }, netsuite: { writes: [failed(true, 'REQUEST_LIMIT_EXCEEDED')] },
    }));
    const second = applyWriteResults(first.retry!, results({ netsuite: { writes: [ok('ns-1', T(70))] } }));
    expect(second.records).toEqual([p.items[0].record]);
    expect(second.links.map((l) => [l.instance, l.lastModifiedAt])).toEqual([['salesforce:00D1', T(61)], ['hubspot:42', T(60)], ['netsuite:7', T(70)]]);
    expect(second.counts).toEqual({ ...emptyCounts(), updated: 1 });
    expect(second.cursor).toEqual(p.cursor);
    expect(second.retry).toBeNull();
  });

  it('remembers the id a create got where it went through', () => {
    const first = applyWriteResults(createPlan(), results({ hubspot: { writes: [ok('hs-9', T(50), true)] }, netsuite: { writes: [failed(true)] } }));
    expect(first.retry!.items[0].steps.find((s) => s.member === 'hubspot')).toEqual({ member: 'hubspot', wrote: true, link: expect.objectContaining({ externalId: 'hs-9' }) });
    const second = applyWriteResults(first.retry!, results({ netsuite: { writes: [ok('ns-9', T(70), true)] } }));
    expect(second.links.map((l) => l.externalId)).toEqual(['sf-1', 'hs-9', 'ns-9']);
    expect(second.counts.created).toBe(1);
  });

  it('keeps the origin at its after-write hash when its write-back went through in an earlier round than the one that gave up', () => {
    const p = updatePlan();
    const first = applyWriteResults(p, results({
      salesforce: { writes: [ok('sf-1', T(61))] }, hubspot: { writes: [ok('hs-1', T(60))] }, netsuite: { writes: [failed(true, 'SERVER_ERROR')] },
    }), { maxAttempts: 2 });
    const last = applyWriteResults(first.retry!, results({ netsuite: { writes: [failed(true, 'SERVER_ERROR')] } }), { maxAttempts: 2 });
    expect(last.retry).toBeNull();
    expect(last.links).toEqual([{ ...stepLink(p, 'salesforce'), lastModifiedAt: T(61) }, { ...stepLink(p, 'hubspot'), lastModifiedAt: T(60) }]);
  });

  it('reports planning dead letters and conflicts once, not again in retries', () => {
    const p = plan([
      incoming('sf-1', { ...BASE, phone: '2', name: 'New' }),
      incoming('sf-7', {}, { errors: [{ code: 'required', message: 'name is required' }] }),
    ], { entity: accounts({ owners: { phone: 'manual' } }), current: showing({ hubspot: current('hs-1', { ...BASE, phone: '3' }) }) });
    const first = applyWriteResults(p, results({ hubspot: { writes: [failed(true)] }, netsuite: { writes: [ok('ns-1')] } }));
    expect(first.deadLetters).toHaveLength(1);
    expect(first.conflicts).toHaveLength(1);
    expect(first.counts).toMatchObject({ read: 2, failed: 1, conflicts: 1 });
    const second = applyWriteResults(first.retry!, results({ hubspot: { writes: [ok('hs-1')] } }));
    expect(second.deadLetters).toEqual([]);
    expect(second.conflicts).toEqual([]);
    expect(second.counts).toEqual({ ...emptyCounts(), updated: 1 });
  });
});

describe('applyWriteResults: retries exhausted', () => {
  const giveUp = (p: SyncPlan, fail: () => WriteResults, maxAttempts: number) => {
    let next: SyncPlan | null = p;
    let last: SyncOutcome | undefined;
    for (let i = 0; i < 5 && next; i++) {
      last = applyWriteResults(next, fail(), { maxAttempts });
      next = last.retry;
    }
    expect(next).toBeNull();
    return last!;
  };

  it('ends in a retryable dead letter naming the system and the attempts; the record is not committed', () => {
    const p = createPlan();
    const out = giveUp(p, () => results({ hubspot: { writes: [ok('hs-9', T(50), true)] }, netsuite: { writes: [failed(true, 'SERVER_ERROR')] } }), 2);
    expect(out.deadLetters).toEqual([{
      direction: 'write', system: 'netsuite', object: 'customer', externalId: null, canonicalId: CID,
      payload: { source: p.items[0].source, fields: { industry: 'retail', name: 'Acme', phone: '111' } },
      reason: 'write rejected: bad: SERVER_ERROR (gave up after 2 attempts)', errorCode: 'SERVER_ERROR', failingFields: ['phone'], retryable: true,
    }]);
    expect(out.records).toEqual([]);
    expect(out.counts).toMatchObject({ failed: 1, created: 0 });
    expect(out.cursor).toEqual(p.cursor);
  });

  it('keeps the link of each system that took its write; the origin, not written, keeps its old hash so its next read tries again', () => {
    const out = giveUp(createPlan(), () => results({ hubspot: { writes: [ok('hs-9', T(50), true)] }, netsuite: { writes: [failed(true, 'SERVER_ERROR')] } }), 2);
    expect(out.links.map((l) => [l.instance, l.externalId])).toEqual([['hubspot:42', 'hs-9']]);
  });

  it('keeps the origin at its after-write hash when its own write-back went through', () => {
    const p = updatePlan();
    const out = applyWriteResults(p, results({
      salesforce: { writes: [ok('sf-1', T(61))] }, hubspot: { writes: [ok('hs-1', T(60))] }, netsuite: { writes: [failed(true, 'SERVER_ERROR')] },
    }), { maxAttempts: 1 });
    expect(out.links).toEqual([{ ...stepLink(p, 'salesforce'), lastModifiedAt: T(61) }, { ...stepLink(p, 'hubspot'), lastModifiedAt: T(60) }]);
  });
});

// ---- refused for good -----------------------------------------------------------------------------

describe('applyWriteResults: a permanent refusal', () => {
  it('dead-letters the write for the system that refused it and commits nothing of the record', () => {
    const p = updatePlan();
    const out = applyWriteResults(p, results({ salesforce: { writes: [ok('sf-1', T(61))] }, hubspot: { writes: [ok('hs-1', T(60))] }, netsuite: { writes: [failed(false)] } }));
    expect(out.deadLetters).toEqual([{
      direction: 'write', system: 'netsuite', object: 'customer', externalId: 'ns-1', canonicalId: CID,
      payload: { source: p.items[0].source, fields: { industry: 'tech', phone: '2' } }, reason: 'write rejected: bad: INVALID_EMAIL_ADDRESS',
      errorCode: 'INVALID_EMAIL_ADDRESS', failingFields: ['phone'], retryable: false,
    }]);
    expect(out.records).toEqual([]);
    expect(out.committed).toEqual([]);
    expect(out.counts).toMatchObject({ failed: 1, updated: 0 });
    expect(out.retry).toBeNull();
    expect(out.cursor).toEqual(p.cursor);
  });

  it('systems that took the write keep their links; the origin is parked at its after-write hash when its write-back went through', () => {
    const p = updatePlan();
    const out = applyWriteResults(p, results({ salesforce: { writes: [ok('sf-1', T(61))] }, hubspot: { writes: [ok('hs-1', T(60))] }, netsuite: { writes: [failed(false)] } }));
    expect(out.links).toEqual([{ ...stepLink(p, 'salesforce'), lastModifiedAt: T(61) }, { ...stepLink(p, 'hubspot'), lastModifiedAt: T(60) }]);
    expect(stepLink(p, 'salesforce').lastHash).not.toBe(p.items[0].source!.hash);
  });

  it('parks an origin that was not written at the hash just read', () => {
    const p = pushPlan();
    const out = applyWriteResults(p, results({ hubspot: { writes: [ok('hs-1', T(60))] }, netsuite: { writes: [failed(false)] } }));
    expect(linkFor(out, 'salesforce')).toEqual([{ ...link('salesforce', 1, p.items[0].source!.hash), lastModifiedAt: T(10) }]);
    expect(linkFor(out, 'hubspot')).toEqual([{ ...stepLink(p, 'hubspot'), lastModifiedAt: T(60) }]);
  });

  it('parks an origin that refused its own write-back at the hash just read', () => {
    const p = updatePlan();
    const out = applyWriteResults(p, results({ salesforce: { writes: [failed(false)] }, hubspot: { writes: [ok('hs-1', T(60))] }, netsuite: { writes: [ok('ns-1', T(62))] } }));
    expect(out.deadLetters.map((d) => [d.system, d.object, d.externalId])).toEqual([['salesforce', 'Account', 'sf-1']]);
    expect(linkFor(out, 'salesforce')).toEqual([{ ...link('salesforce', 1, p.items[0].source!.hash), lastModifiedAt: T(10) }]);
    expect(out.links.map((l) => l.instance)).toEqual(['hubspot:42', 'netsuite:7', 'salesforce:00D1']);
  });

  it('settles at once when one system refused and another could be retried, dead-lettering both', () => {
    const out = applyWriteResults(pushPlan(), results({ hubspot: { writes: [failed(false)] }, netsuite: { writes: [failed(true, 'SERVER_ERROR')] } }));
    expect(out.retry).toBeNull();
    expect(out.deadLetters.map((d) => [d.system, d.retryable])).toEqual([['hubspot', false], ['netsuite', true]]);
    expect(out.counts.failed).toBe(1);
  });

  it('applies a resurrected create\'s forgotten link together with the new link where the create went through', () => {
    const p = resurrectPlan();
    const out = applyWriteResults(p, results({ salesforce: { writes: [ok('sf-9', T(50), true)] }, netsuite: { writes: [failed(false)] } }));
    expect(out.forgetLinks).toEqual([{ instance: 'salesforce:00D1', object: 'Account', externalId: 'sf-1', canonicalId: CID }]);
    expect(linkFor(out, 'salesforce')).toEqual([{ ...stepLink(p, 'salesforce'), externalId: 'sf-9', lastModifiedAt: T(50) }]);
    expect(linkFor(out, 'netsuite')).toEqual([]);
    expect(out.records).toEqual([]);
  });

  it('forgets every tombstoned link of a resurrected record once every create went through', () => {
    const p = resurrectPlan();
    const out = applyWriteResults(p, results({ salesforce: { writes: [ok('sf-9', T(50), true)] }, netsuite: { writes: [ok('ns-9', T(51), true)] } }));
    expect(out.forgetLinks).toEqual(p.items[0].forgetLinks);
    expect(out.links.map((l) => l.externalId)).toEqual(['hs-1', 'sf-9', 'ns-9']);
    expect(out.records).toEqual([expect.objectContaining({ deleted: false })]);
    expect(out.counts.created).toBe(1);
  });
});

// ---- deletes ------------------------------------------------------------------------------------

describe('applyWriteResults: deletes', () => {
  it('tombstones every link and the record once every propagated delete went through', () => {
    const p = deletePlan();
    const out = applyWriteResults(p, results({ hubspot: { deletes: [ok('hs-1', T(60))] }, netsuite: { deletes: [ok('ns-1', T(61))] } }));
    expect(out.links.map((l) => [l.externalId, l.lastHash])).toEqual([['sf-1', TOMBSTONE_HASH], ['hs-1', TOMBSTONE_HASH], ['ns-1', TOMBSTONE_HASH]]);
    expect(out.records).toEqual([expect.objectContaining({ canonicalId: CID, deleted: true })]);
    expect(out.counts.deleted).toBe(1);
  });

  it('retries only the delete that failed retryably', () => {
    const out = applyWriteResults(deletePlan(), results({ hubspot: { deletes: [ok('hs-1')] }, netsuite: { deletes: [failed(true)] } }));
    expect([...opsOf(out.retry!)]).toEqual([['netsuite', { writes: [], deletes: [{ key: CID, externalId: 'ns-1' }] }]]);
  });

  it('parks nothing when a delete was refused: no link is saved, so the delete is tried again', () => {
    const p = deletePlan();
    const out = applyWriteResults(p, results({ hubspot: { deletes: [ok('hs-1')] }, netsuite: { deletes: [failed(false, 'ENTITY_IS_LOCKED')] } }));
    expect(out.links).toEqual([]);
    expect(out.records).toEqual([]);
    expect(out.deadLetters).toEqual([expect.objectContaining({
      system: 'netsuite', externalId: 'ns-1', reason: 'delete rejected: bad: ENTITY_IS_LOCKED', payload: { source: p.items[0].source, delete: true },
    })]);
  });
});

// ---- missing results and the order of ops ---------------------------------------------------------

describe('applyWriteResults: a connector that returned no result', () => {
  it('treats a missing result as a retryable NO_RESULT failure', () => {
    const first = applyWriteResults(pushPlan(), results({ hubspot: { writes: [ok('hs-1')] }, netsuite: { writes: [ok('ns-1', undefined, false, cidOf(2))] } }));
    expect([...opsOf(first.retry!)].map(([n]) => n)).toEqual(['netsuite']);
    const last = applyWriteResults(pushPlan(), results({ hubspot: { writes: [ok('hs-1')] } }), { maxAttempts: 1 });
    expect(last.deadLetters).toEqual([expect.objectContaining({
      system: 'netsuite', errorCode: 'NO_RESULT', retryable: true, reason: 'write rejected: the connector returned no result for this record (gave up after 1 attempts)',
    })]);
  });
});

describe('opsOf', () => {
  it('groups writes and deletes per system, in item order, leaving out systems with nothing to do', () => {
    const p = plan([
      incoming('sf-1', { ...BASE, phone: '2' }),
      incoming('sf-2', BASE),
      incoming('sf-4', {}, { deleted: true }),
      incoming('sf-3', { ...BASE, phone: '3' }),
    ], { stored: synced([1, 3, 4]) });
    const op = (member: Name, n: number) => p.items[n].steps.find((s) => s.member === member)!.write;
    const ops = opsOf(p);
    expect([...ops.keys()]).toEqual(['hubspot', 'netsuite']);
    for (const member of ['hubspot', 'netsuite'] as const) {
      expect(ops.get(member)).toEqual({ writes: [op(member, 0), op(member, 1), op(member, 3)], deletes: [{ key: cidOf(4), externalId: `${SYSTEMS[member].id}-4` }] });
    }
    expect(ops.get('hubspot')!.writes.map((w) => w.key)).toEqual([cidOf(1), cidOf(2), cidOf(3)]);
  });

  it('lists a system once it has a write, the origin\'s write-back included', () => {
    expect([...opsOf(updatePlan()).keys()]).toEqual(['salesforce', 'hubspot', 'netsuite']);
  });
});
