import { describe, expect, it } from 'vitest';
import { canonicalIdFor } from './ids.js';
import { planPage, TOMBSTONE_HASH } from './plan.js';
import { applyWriteResults, noWriteResults } from './results.js';
import { current, incoming, pairOf, T } from './test-kit.js';
import type { StoredLink, SyncPlan, WriteResult } from './types.js';
import { contentHash } from './values.js';

const CID = canonicalIdFor('salesforce', 'Account', 'sf-1');
const BASE = { name: 'Acme', phone: '111', industry: 'retail' };
const link = (system: string, object: string, externalId: string): StoredLink =>
  ({ canonicalId: CID, system, object, externalId, lastHash: contentHash(BASE), lastModifiedAt: T(1) });
const stored = () => ({
  records: [{ canonicalId: CID, data: BASE, hash: contentHash(BASE), version: 3, deleted: false }],
  links: [link('salesforce', 'Account', 'sf-1'), link('hubspot', 'companies', 'hs-1')],
});

const createPlan = () => planPage({ pair: pairOf(), source: 'a', records: [incoming('sf-1', BASE)], stored: { records: [], links: [] }, cursor: null });
/** Updates both sides: phone to the target, industry back to the source. */
const twoWayPlan = () => planPage({
  pair: pairOf(), source: 'a', records: [incoming('sf-1', { ...BASE, phone: '2' })], stored: stored(),
  targetCurrent: [current('hs-1', { ...BASE, industry: 'tech' })],
});

const ok = (key: string, externalId: string, modifiedAt?: string): WriteResult => ({ key, ok: true, externalId, created: false, modifiedAt });
const failed = (key: string, retryable: boolean, code = 'INVALID_EMAIL_ADDRESS'): WriteResult =>
  ({ key, ok: false, retryable, error: { code, message: `bad: ${code}`, fields: ['phone'] } });

describe('applyWriteResults', () => {
  it('commits a created record: the target link learns its id and modified time', () => {
    const plan = createPlan();
    const out = applyWriteResults(plan, { ...noWriteResults(), target: [{ key: CID, ok: true, externalId: 'hs-9', created: true, modifiedAt: T(50) }] });
    expect(out.records).toEqual([plan.items[0].record]);
    expect(out.links).toEqual([
      plan.items[0].sourceLink,
      { ...plan.items[0].targetLink, externalId: 'hs-9', lastModifiedAt: T(50) },
    ]);
    expect(out.counts).toMatchObject({ read: 1, created: 1, failed: 0 });
    expect(out.retry).toBeNull();
    expect(out.cursor).toEqual({ modifiedAt: T(10), id: 'sf-1' });
  });

  it('commits a two-way update only when both writes succeeded', () => {
    const plan = twoWayPlan();
    const out = applyWriteResults(plan, { ...noWriteResults(), target: [ok(CID, 'hs-1', T(60))], source: [ok(CID, 'sf-1', T(61))] });
    expect(out.counts.updated).toBe(1);
    expect(out.records[0].data).toEqual({ name: 'Acme', phone: '2', industry: 'tech' });
    expect(out.links.map((l) => [l.system, l.lastModifiedAt])).toEqual([['salesforce', T(61)], ['hubspot', T(60)]]);
  });

  it('commits items without writes (link refresh) from empty results', () => {
    const plan = planPage({ pair: pairOf(), source: 'a', records: [incoming('sf-1', BASE, { hash: 'other' })], stored: stored() });
    const out = applyWriteResults(plan, noWriteResults());
    expect(out.links).toEqual([expect.objectContaining({ system: 'salesforce', lastHash: 'other' })]);
    expect(out.records).toEqual([]);
    expect(out.counts.unchanged).toBe(1);
  });

  it('dead-letters a rejected write, commits nothing, and parks the source record', () => {
    const plan = twoWayPlan();
    const out = applyWriteResults(plan, { ...noWriteResults(), target: [failed(CID, false)], source: [ok(CID, 'sf-1')] });
    expect(out.records).toEqual([]);
    expect(out.links).toEqual([{ ...plan.items[0].sourceLink, lastHash: contentHash({ ...BASE, phone: '2' }), lastModifiedAt: T(10) }]);
    expect(out.deadLetters).toEqual([{
      connectionId: plan.connectionId, direction: 'write', system: 'hubspot', object: 'companies', externalId: 'hs-1', canonicalId: CID,
      payload: { source: plan.items[0].source, fields: { phone: '2' } }, reason: 'write rejected: bad: INVALID_EMAIL_ADDRESS',
      errorCode: 'INVALID_EMAIL_ADDRESS', failingFields: ['phone'], retryable: false,
    }]);
    expect(out.counts).toMatchObject({ failed: 1, updated: 0 });
    expect(out.retry).toBeNull();
    expect(out.cursor).toEqual(plan.cursor);
  });

  it('retries what failed retryably, remembers what succeeded, and holds the cursor back', () => {
    const plan = createPlan();
    const first = applyWriteResults(plan, { ...noWriteResults(), target: [failed(CID, true, 'REQUEST_LIMIT_EXCEEDED')] });
    expect(first).toMatchObject({ records: [], links: [], deadLetters: [], cursor: null });
    const retry = first.retry as SyncPlan;
    expect(retry.attempt).toBe(2);
    expect(retry.writes.target).toEqual(plan.writes.target);
    expect(retry.counts.read).toBe(0);
    const second = applyWriteResults(retry, { ...noWriteResults(), target: [{ key: CID, ok: true, externalId: 'hs-3', created: true }] });
    expect(second.links.map((l) => l.externalId)).toEqual(['sf-1', 'hs-3']);
    expect(second.counts.created).toBe(1);
    expect(second.cursor).toEqual(plan.cursor);
  });

  it('retries only the failed side of a two-way update', () => {
    const first = applyWriteResults(twoWayPlan(), { ...noWriteResults(), target: [ok(CID, 'hs-1', T(60))], source: [failed(CID, true)] });
    expect(first.retry?.writes).toEqual({ target: [], source: [expect.objectContaining({ externalId: 'sf-1' })], targetDeletes: [] });
    const second = applyWriteResults(first.retry!, { ...noWriteResults(), source: [ok(CID, 'sf-1')] });
    expect(second.links.find((l) => l.system === 'hubspot')?.lastModifiedAt).toBe(T(60));
  });

  it('gives up after maxAttempts with a retryable dead letter', () => {
    let plan: SyncPlan | null = createPlan();
    let last;
    for (let i = 0; i < 5 && plan; i++) {
      last = applyWriteResults(plan, { ...noWriteResults(), target: [failed(CID, true, 'SERVER_ERROR')] }, { maxAttempts: 2 });
      plan = last.retry;
    }
    expect(plan).toBeNull();
    expect(last!.deadLetters).toEqual([expect.objectContaining({ errorCode: 'SERVER_ERROR', retryable: true, reason: expect.stringMatching(/after 2 attempts/) })]);
    expect(last!.links).toEqual([]);
  });

  it('treats a missing result as retryable', () => {
    const out = applyWriteResults(createPlan(), noWriteResults(), { maxAttempts: 1 });
    expect(out.deadLetters[0]).toMatchObject({ errorCode: 'NO_RESULT', retryable: true });
  });

  it('tombstones both links when a propagated delete succeeded, and counts it', () => {
    const plan = planPage({ pair: pairOf(), source: 'a', records: [incoming('sf-1', {}, { deleted: true })], stored: stored() });
    const out = applyWriteResults(plan, { ...noWriteResults(), targetDeletes: [ok(CID, 'hs-1')] });
    expect(out.links.map((l) => [l.system, l.lastHash])).toEqual([['salesforce', TOMBSTONE_HASH], ['hubspot', TOMBSTONE_HASH]]);
    expect(out.records[0].deleted).toBe(true);
    expect(out.counts.deleted).toBe(1);
  });

  it('does not park a source whose delete was rejected (the delete is tried again)', () => {
    const plan = planPage({ pair: pairOf(), source: 'a', records: [incoming('sf-1', {}, { deleted: true })], stored: stored() });
    const out = applyWriteResults(plan, { ...noWriteResults(), targetDeletes: [failed(CID, false, 'ENTITY_IS_LOCKED')] });
    expect(out.links).toEqual([]);
    expect(out.deadLetters[0]).toMatchObject({ system: 'hubspot', reason: expect.stringMatching(/^delete rejected/), payload: { delete: true } });
  });

  it("reports planning dead letters and conflicts once, not again in retries", () => {
    const plan = planPage({
      pair: pairOf({ fieldPolicies: { phone: 'manual' } }), source: 'a', stored: stored(),
      records: [incoming('sf-1', { ...BASE, phone: '2', name: 'New' }), incoming('sf-7', {}, { errors: [{ code: 'required', message: 'name is required' }] })],
      targetCurrent: [current('hs-1', { ...BASE, phone: '3' })],
    });
    const first = applyWriteResults(plan, { ...noWriteResults(), target: [failed(CID, true)] });
    expect(first.deadLetters).toHaveLength(1);
    expect(first.conflicts).toHaveLength(1);
    expect(first.counts).toMatchObject({ read: 2, failed: 1, conflicts: 1 });
    const second = applyWriteResults(first.retry!, { ...noWriteResults(), target: [ok(CID, 'hs-1')] });
    expect(second.deadLetters).toEqual([]);
    expect(second.conflicts).toEqual([]);
    expect(second.counts).toMatchObject({ read: 0, updated: 1, failed: 0, conflicts: 0 });
  });
});
