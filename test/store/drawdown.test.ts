/**
 * The drawdown and metering tables on both drivers: a ledger that takes each document once for
 * good, alerts raised once per key, usage kept once per key, an hour sent once (its intent
 * recorded before the call, claiming exactly the usage that waited), and dead letters that carry
 * the reason and can be replayed or discarded.
 */
import { randomUUID } from 'node:crypto';
import { expect, it, describe } from 'vitest';
import type { Commitment, DrawdownEntry, UsageRecord } from '../../src/model/index.js';
import type { Connection, MeterKey } from '../../src/store/index.js';
import { withStores } from './stores.js';

withStores(({ store }) => {
  const connection = (): Promise<Connection> => store().connections.create({
    name: `drawdown-${randomUUID().slice(0, 8)}`,
    systems: [{ name: 'salesforce', system: 'salesforce', role: 'both' }, { name: 'hubspot', system: 'hubspot', role: 'both' }],
  });

  const commitment = (accountId: string = randomUUID()): Commitment => ({
    id: randomUUID(), accountId, cloud: 'aws', program: 'edp', amount: '1200000.00', currency: 'USD', startDate: '2025-01-01', endDate: '2025-12-31', ruleSet: 'aws-edp',
  });

  const entry = (c: Commitment, sourceId: string, eligible: string): DrawdownEntry => ({
    commitmentId: c.id, sourceKind: 'agreement', sourceId, periodStart: '2025-01-01', effectiveDate: '2025-02-01', grossAmount: eligible, taxAmount: '0.00',
    sourceCurrency: 'USD', eligibleAmount: eligible, currency: 'USD', ruleId: 'aws-edp', ruleVersion: '2020-01',
  });

  describe('commitments and the ledger', () => {
    it('keeps a commitment once, lists it by account and cloud, and takes each document into its ledger once, in order', async () => {
      const c = await connection();
      const first = commitment();
      expect(await store().commitments.create(c.id, first)).toBe(true);
      expect(await store().commitments.create(c.id, { ...first, amount: '1.00' })).toBe(false);
      expect((await store().commitments.get(first.id))?.commitment).toEqual(first);
      await store().commitments.create(c.id, { ...commitment(first.accountId), cloud: 'azure', program: 'macc', ruleSet: 'azure-macc' });
      expect((await store().commitments.list({ connectionId: c.id, accountId: first.accountId, cloud: 'aws' })).map((r) => r.commitment.id)).toEqual([first.id]);
      expect(await store().commitments.list({ connectionId: c.id, accountId: first.accountId })).toHaveLength(2);

      const written = await store().commitments.append([entry(first, 'B', '10.00'), entry(first, 'A', '20.00')]);
      expect(written.map((e) => e.sourceId)).toEqual(['B', 'A']);
      // The same documents again, and a new one: only the new one is written.
      const again = await store().commitments.append([entry(first, 'A', '99.00'), entry(first, 'C', '30.00'), entry(first, 'B', '99.00')]);
      expect(again.map((e) => e.sourceId)).toEqual(['C']);
      const ledger = await store().commitments.ledger(first.id);
      expect(ledger.map((r) => [r.entry.sourceId, r.entry.eligibleAmount])).toEqual([['B', '10.00'], ['A', '20.00'], ['C', '30.00']]);
      expect(ledger.map((r) => r.seq)).toEqual([...ledger.map((r) => r.seq)].sort((a, b) => a - b));
    });

    it('locks a commitment inside a transaction and keeps documents entered by hand once per id', async () => {
      const c = await connection();
      const k = commitment();
      await store().commitments.create(c.id, k);
      const locked = await store().transaction((tx) => tx.commitments.lock(k.id));
      expect(locked?.commitment.id).toBe(k.id);
      expect(await store().commitments.lock(randomUUID())).toBeUndefined();
      const refund = { kind: 'refund' as const, id: 'R1', date: '2025-03-01', currency: 'USD' as const, refundOf: 'A', lines: [{ amount: '5.00' }] };
      expect(await store().commitments.addDocument(k.id, refund, 'alex@example.com')).toBe(true);
      expect(await store().commitments.addDocument(k.id, { ...refund, lines: [{ amount: '6.00' }] })).toBe(false);
      expect(await store().commitments.documents(k.id)).toEqual([{ commitmentId: k.id, document: refund, enteredBy: 'alex@example.com', createdAt: expect.any(String) }]);
    });

    it('raises each alert once per key and remembers which were delivered', async () => {
      const c = await connection();
      const k = commitment();
      await store().commitments.create(c.id, k);
      const raised = await store().commitments.raise(k.id, [{ key: '2025-01-01/consumed-50', kind: 'consumed', message: '50 %' }]);
      expect(raised.map((a) => a.key)).toEqual(['2025-01-01/consumed-50']);
      const more = await store().commitments.raise(k.id, [{ key: '2025-01-01/consumed-50', kind: 'consumed', message: 'again' }, { key: '2025-01-01/consumed-80', kind: 'consumed', message: '80 %' }]);
      expect(more.map((a) => a.key)).toEqual(['2025-01-01/consumed-80']);
      expect((await store().commitments.unsentAlerts(k.id)).map((a) => a.key)).toEqual(['2025-01-01/consumed-50', '2025-01-01/consumed-80']);
      await store().commitments.markSent(k.id, '2025-01-01/consumed-50');
      expect((await store().commitments.unsentAlerts(k.id)).map((a) => a.key)).toEqual(['2025-01-01/consumed-80']);
      expect((await store().commitments.alerts(k.id)).find((a) => a.key.endsWith('50'))?.sentAt).toEqual(expect.any(String));
    });
  });

  describe('usage and metering', () => {
    const HOUR = '2026-12-07T10:00:00.000Z';
    const usage = (accountId: string, key: string, quantity: string, more: Partial<UsageRecord> = {}): UsageRecord => ({
      accountId, cloud: 'aws', product: 'prod-code-1', dimension: 'ApiCalls', quantity, hour: HOUR, dedupeKey: key, ...more,
    });
    const keyOf = (accountId: string, more: Partial<MeterKey> = {}): MeterKey => ({ cloud: 'aws', accountId, product: 'prod-code-1', dimension: 'ApiCalls', hour: HOUR, ...more });

    it('keeps usage once per key and sends an hour once, claiming exactly the usage that waited', async () => {
      const c = await connection();
      const account = randomUUID();
      const first = await store().metering.ingest(c.id, [usage(account, 'a', '10'), usage(account, 'b', '2.5'), usage(account, 'c', '1', { dimension: 'DataGB' })]);
      expect(first).toEqual({ accepted: ['a', 'b', 'c'], duplicates: [] });
      expect(await store().metering.ingest(c.id, [usage(account, 'a', '10'), usage(account, 'd', '4')])).toEqual({ accepted: ['d'], duplicates: ['a'] });

      const waiting = await store().metering.waiting(c.id, { before: '2026-12-07T12:00:00.000Z', clouds: ['aws'] });
      expect(waiting.map((w) => [w.dimension, w.quantity, w.records, w.sent])).toEqual([['ApiCalls', '16.5', 3, null], ['DataGB', '1', 1, null]]);
      expect(await store().metering.waiting(c.id, { before: HOUR, clouds: ['aws'] })).toEqual([]);

      const started = await store().metering.startSends(c.id, [{ ...keyOf(account), plan: null, customer: '444455556666' }]);
      expect(started).toMatchObject([{ quantity: '16.5', status: 'sending', customer: '444455556666', attempts: 1 }]);
      // Sending the hour again changes nothing; usage arriving now is not in the hour's send.
      expect(await store().metering.startSends(c.id, [{ ...keyOf(account), plan: null, customer: '444455556666' }])).toEqual([]);
      await store().metering.ingest(c.id, [usage(account, 'late', '7')]);
      expect((await store().metering.unfinished(c.id)).map((s) => s.quantity)).toEqual(['16.5']);
      await store().metering.countAttempt(c.id, [keyOf(account)]);
      expect(await store().metering.finish(c.id, [{ ...keyOf(account), status: 'sent', recordId: 'rec-1' }])).toBe(1);
      expect(await store().metering.unfinished(c.id)).toEqual([]);
      expect(await store().metering.send(c.id, keyOf(account))).toMatchObject({ status: 'sent', recordId: 'rec-1', attempts: 2, quantity: '16.5' });

      // What came after the hour was sent waits, marked as such; it becomes a dead letter that a replay cannot send.
      const after = await store().metering.waiting(c.id, { before: '2026-12-07T12:00:00.000Z', clouds: ['aws'] });
      expect(after.map((w) => [w.dimension, w.quantity, w.sent])).toEqual([['ApiCalls', '7', 'sent'], ['DataGB', '1', null]]);
      const [letter] = await store().metering.deadLetter(c.id, [{ ...keyOf(account), plan: null, reason: 'came after the hour was metered', errorCode: 'AfterMetering' }]);
      expect(letter).toMatchObject({ quantity: '7', status: 'open', errorCode: 'AfterMetering' });
      expect(await store().metering.replay(c.id, [letter.id])).toEqual({ replayed: 0, stillFailing: 1 });
      expect(await store().metering.discard([letter.id])).toBe(1);
      expect((await store().metering.letter(letter.id))?.status).toBe('discarded');
      expect(await store().metering.monthly(c.id, account, 'aws', true)).toEqual([{ cloud: 'aws', product: 'prod-code-1', dimension: 'ApiCalls', month: '2026-12', quantity: '16.5' }]);
      expect(await store().metering.monthly(c.id, account, 'aws', false)).toEqual([
        { cloud: 'aws', product: 'prod-code-1', dimension: 'ApiCalls', month: '2026-12', quantity: '23.5' },
        { cloud: 'aws', product: 'prod-code-1', dimension: 'DataGB', month: '2026-12', quantity: '1' },
      ]);
    });

    it('letters an hour the cloud refused or that is too late, keeps it unsent, and a replay lets the next run send it', async () => {
      const c = await connection();
      const account = randomUUID();
      await store().metering.ingest(c.id, [usage(account, 'x1', '3'), usage(account, 'x2', '4'), usage(account, 'y1', '5', { dimension: 'DataGB' })]);
      await store().metering.startSends(c.id, [{ ...keyOf(account), plan: null, customer: '444455556666' }]);
      // The cloud refused the hour being sent; the other hour is too late to send at all.
      const letters = await store().metering.deadLetter(c.id, [
        { ...keyOf(account), plan: null, reason: 'not subscribed', errorCode: 'CustomerNotSubscribed' },
        { ...keyOf(account, { dimension: 'DataGB' }), plan: null, reason: 'too late', errorCode: 'Late' },
      ]);
      expect(letters.map((l) => [l.dimension, l.quantity, l.errorCode])).toEqual([['ApiCalls', '7', 'CustomerNotSubscribed'], ['DataGB', '5', 'Late']]);
      expect((await store().metering.sends(c.id)).map((s) => [s.dimension, s.status])).toEqual([['ApiCalls', 'dead'], ['DataGB', 'dead']]);
      expect(await store().metering.waiting(c.id, { before: '2026-12-08T00:00:00.000Z', clouds: ['aws'] })).toEqual([]);
      // More usage of a dead hour joins its open letter.
      await store().metering.ingest(c.id, [usage(account, 'y2', '1', { dimension: 'DataGB' })]);
      const [joined] = await store().metering.deadLetter(c.id, [{ ...keyOf(account, { dimension: 'DataGB' }), plan: null, reason: 'too late', errorCode: 'Late' }]);
      expect(joined).toMatchObject({ id: letters[1].id, quantity: '6', attempts: 2 });
      expect((await store().metering.letters({ connectionId: c.id, status: 'open' })).length).toBe(2);

      expect(await store().metering.replay(c.id)).toEqual({ replayed: 2, stillFailing: 0 });
      expect(await store().metering.sends(c.id)).toEqual([]);
      const waiting = await store().metering.waiting(c.id, { before: '2026-12-08T00:00:00.000Z', clouds: ['aws'] });
      expect(waiting.map((w) => [w.dimension, w.quantity, w.sent])).toEqual([['ApiCalls', '7', null], ['DataGB', '6', null]]);
      expect(await store().metering.letters({ connectionId: c.id, status: 'open' })).toEqual([]);
    });
  });

  describe('touchpoints', () => {
    it('keeps touchpoints once and reads won opportunities and partner names from the hub\'s records', async () => {
      const c = await connection();
      const [partner, won, lost] = [randomUUID(), randomUUID(), randomUUID()];
      await store().records.upsertMany(c.id, [
        { entity: 'Partner', canonicalId: partner, data: { name: 'Summit Cloud Partners' }, hash: 'p' },
        { entity: 'Opportunity', canonicalId: won, data: { name: 'Won', stage: 'closed_won', closeDate: '2026-03-01', amount: { amount: '1000.00', currency: 'USD' }, partnerInvolvement: [{ partnerId: partner, role: 'sourced' }] }, hash: 'w' },
        { entity: 'Opportunity', canonicalId: lost, data: { name: 'Lost', stage: 'closed_lost', closeDate: '2026-03-01' }, hash: 'l' },
      ]);
      const t = { id: randomUUID(), partnerId: partner, opportunityId: won, kind: 'influenced' as const, date: '2026-02-01' };
      expect(await store().touchpoints.add(c.id, [t, t])).toBe(1);
      expect(await store().touchpoints.list(c.id)).toEqual([{ ...t, connectionId: c.id }]);
      expect(await store().touchpoints.wonOpportunities(c.id)).toEqual([
        { id: won, name: 'Won', amount: { amount: '1000.00', currency: 'USD' }, closeDate: '2026-03-01', partners: [{ partnerId: partner, role: 'sourced' }] },
      ]);
      expect(await store().touchpoints.partnerNames(c.id)).toEqual(new Map([[partner, 'Summit Cloud Partners']]));
    });
  });
});
