import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, RateLimitError, type Page, type ReadOptions, type SourceRecord, type WriteOp } from '../../../src/sync/protocol.js';
import { onRetry, type RetryEvent } from '../../shared/retry.js';
import { createHubSpotConnector, type HubSpotConnectorOptions } from '../connector.js';
import { DEAL_COMPANY_FIELD, HUBSPOT_OBJECTS } from '../descriptor.js';
import { startHubSpotSandbox, type HubSpotSandbox, type HubSpotSandboxOptions } from '../sandbox/index.js';

const open: HubSpotSandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** HubSpot's retries in each test, as the one retry policy announces them. */
const retries: RetryEvent[] = [];
beforeEach(() => {
  retries.length = 0;
  const listening = onRetry((e) => { if (e.system === 'hubspot') retries.push(e); });
  return () => listening.dispose();
});

async function setup(options: HubSpotSandboxOptions = {}, connectorOptions: HubSpotConnectorOptions = {}) {
  const sb = await startHubSpotSandbox({ contactsPerCompany: 0, dealsPerCompany: 0, ...options });
  open.push(sb);
  return { sb, hubspot: createHubSpotConnector({ accessToken: sb.accessToken, basePath: sb.url }, connectorOptions) };
}

async function readAll(pages: AsyncIterable<Page>): Promise<{ records: SourceRecord[]; pages: Page[] }> {
  const all: Page[] = [];
  for await (const page of pages) all.push(page);
  return { records: all.flatMap((p) => p.records), pages: all };
}

const companyFields = ['name', 'industry', 'ecosync_id'];
const read = (fields: string[], extra: Partial<ReadOptions> = {}): ReadOptions => ({ cursor: null, fields, ...extra });

describe('HubSpot connector against the sandbox', () => {
  it('reads 25,000 records incrementally past the 10,000-result search cap, without loss or duplicates', async () => {
    const { sb, hubspot } = await setup({ companies: 25_000 });
    const { records, pages } = await readAll(hubspot.read('companies', read(['name'])));
    const ids = records.map((r) => r.id);
    expect(ids).toHaveLength(25_000);
    expect(new Set(ids).size).toBe(25_000);
    expect([...ids].sort().join()).toBe(sb.state.live('companies').map((r) => r.id).sort().join());
    // (modified, id) strictly increases across every page boundary, ties included.
    const outOfOrder = records.findIndex((b, i) => i > 0 && !(
      records[i - 1].modifiedAt < b.modifiedAt || (records[i - 1].modifiedAt === b.modifiedAt && Number(records[i - 1].id) < Number(b.id))));
    expect(outOfOrder).toBe(-1);
    // One call per page of 200; the sandbox refuses any page past 10,000, so these came from three queries.
    expect(pages).toHaveLength(125);
    expect(sb.counters.get('companies.search')).toBe(125);

    // A user edits three records in HubSpot: reading from the last cursor returns exactly those.
    const edited = [records[5], records[17_000], records[24_999]].map((r) => sb.state.update('companies', r.id, { name: `${String(r.fields.name)} (edited)` }).id);
    const next = await readAll(hubspot.read('companies', read(['name'], { cursor: pages.at(-1)!.cursor })));
    expect(next.records.map((r) => r.id).sort()).toEqual(edited.sort());
    expect(next.records.every((r) => String(r.fields.name).endsWith('(edited)'))).toBe(true);
  });

  it('resumes inside a group of records tied on hs_lastmodifieddate without skipping or repeating', async () => {
    const { sb, hubspot } = await setup();
    const at = Date.parse('2024-06-01T12:00:00.123Z');
    const tied = Array.from({ length: 7 }, (_, i) => sb.state.create('companies', { name: `Tied ${i}` }, at).id);
    const later = sb.state.create('companies', { name: 'Later' }, at + 1).id;
    const first = await readAll(hubspot.read('companies', read(['name'], { pageSize: 3 })));
    expect(first.records.map((r) => r.id)).toEqual([...tied, later]);
    expect(first.pages.map((p) => p.records.length)).toEqual([3, 3, 2]);
    expect(first.pages[0].cursor).toEqual({ modifiedAt: '2024-06-01T12:00:00.123Z', id: tied[2] });
    const resumed = await readAll(hubspot.read('companies', read(['name'], { cursor: first.pages[0].cursor, pageSize: 2 })));
    expect(resumed.records.map((r) => r.id)).toEqual([...tied.slice(3), later]);
    const lookback = await readAll(hubspot.read('companies', read(['name'], { cursor: first.pages.at(-1)!.cursor, lookbackMs: 1 })));
    expect(lookback.records.map((r) => r.id)).toEqual([...tied, later]);
  });

  it('upserts by ecosync_id: the first call creates, a repeat updates the same records', async () => {
    const { sb, hubspot } = await setup();
    const ops = (suffix: string): WriteOp[] => ['a', 'b', 'c'].map((k) => ({ key: `eco-${k}`, fields: { name: `Company ${k}${suffix}`, industry: 'Finance', numberofemployees: 12 } }));
    const created = await hubspot.write('companies', ops(''));
    expect(created.map((r) => r.ok && r.created)).toEqual([true, true, true]);
    const updated = await hubspot.write('companies', ops(' v2'));
    expect(updated.map((r) => r.ok && !r.created)).toEqual([true, true, true]);
    expect(updated.map((r) => r.ok && r.externalId)).toEqual(created.map((r) => r.ok && r.externalId));
    expect(sb.state.count('companies')).toBe(3);
    expect(sb.state.getByExternalId('companies', 'eco-b')?.properties).toMatchObject({ name: 'Company b v2', numberofemployees: '12' });

    // An op that knows the HubSpot id updates that record (a batch update) and stamps our key on it.
    const userMade = sb.state.create('companies', { name: 'Made in HubSpot' });
    const [linked] = await hubspot.write('companies', [{ key: 'eco-d', externalId: userMade.id, fields: { name: 'Linked' } }]);
    expect(linked).toMatchObject({ ok: true, externalId: userMade.id, created: false });
    expect(sb.state.get('companies', userMade.id)?.properties).toMatchObject({ name: 'Linked', ecosync_id: 'eco-d' });
    expect(sb.counters.get('companies.batch.update')).toBe(1);
  });

  it('writes 250 records in 3 calls of at most 100', async () => {
    const { sb, hubspot } = await setup();
    const ops: WriteOp[] = Array.from({ length: 250 }, (_, i) => ({ key: `k${i}`, fields: { name: `C${i}` } }));
    const results = await hubspot.write('companies', ops);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.map((r) => r.key)).toEqual(ops.map((o) => o.key));
    expect(sb.counters.get('companies.batch.upsert')).toBe(3);
    expect(sb.state.count('companies')).toBe(250);
  });

  it('maps a 207 partial failure back to the failing record; the rest land', async () => {
    const { sb, hubspot } = await setup();
    const ops: WriteOp[] = Array.from({ length: 5 }, (_, i) => ({
      key: `p${i}`, fields: { firstname: `P${i}`, email: i === 3 ? 'not-an-email' : `p${i}@example.com` },
    }));
    const results = await hubspot.write('contacts', ops);
    expect(results.map((r) => r.ok)).toEqual([true, true, true, false, true]);
    expect(results[3]).toMatchObject({ key: 'p3', ok: false, retryable: false, error: { code: 'INVALID_EMAIL', fields: ['email'] } });
    expect(sb.state.count('contacts')).toBe(4);
    const [missing] = await hubspot.write('deals', [{ key: 'd1', fields: { dealname: 'No stage' } }]);
    expect(missing).toMatchObject({ ok: false, error: { code: 'REQUIRED_PROPERTY', fields: ['dealstage'] } });
  });

  it('splits a batch HubSpot refuses as a whole until the invalid record stands alone', async () => {
    const { sb, hubspot } = await setup({ allOrNothingBatches: true });
    const ops: WriteOp[] = Array.from({ length: 8 }, (_, i) => ({
      key: `q${i}`, fields: { firstname: `Q${i}`, email: i === 5 ? 'broken@' : `q${i}@example.com` },
    }));
    const results = await hubspot.write('contacts', ops);
    expect(results.map((r) => r.ok)).toEqual([true, true, true, true, true, false, true, true]);
    expect(results[5]).toMatchObject({ ok: false, retryable: false, error: { code: 'INVALID_EMAIL', fields: ['email'] } });
    expect(sb.state.count('contacts')).toBe(7);
    // 8 → 4+4 → 2+2 → 1+1: the refused calls plus the ones that landed.
    expect(sb.counters.get('contacts.batch.upsert')).toBe(7);
  });

  it('writes deal→company as a v4 default association and reads it back as associations.companies', async () => {
    const { sb, hubspot } = await setup();
    const [company] = await hubspot.write('companies', [{ key: 'acme', fields: { name: 'Acme' } }]);
    if (!company.ok) throw new Error('company write failed');
    const deals: WriteOp[] = [
      { key: 'deal-1', fields: { dealname: 'Big', dealstage: 'contractsent', amount: '1000.50', [DEAL_COMPANY_FIELD]: company.externalId } },
      { key: 'deal-2', fields: { dealname: 'Small', dealstage: 'qualifiedtobuy', [DEAL_COMPANY_FIELD]: company.externalId } },
      { key: 'deal-3', fields: { dealname: 'Orphan', dealstage: 'qualifiedtobuy' } },
      { key: 'deal-4', fields: { dealname: 'Dangling', dealstage: 'qualifiedtobuy', [DEAL_COMPANY_FIELD]: '999' } },
    ];
    const results = await hubspot.write('deals', deals);
    expect(results.map((r) => r.ok)).toEqual([true, true, true, false]);
    expect(results[3]).toMatchObject({ ok: false, error: { code: 'OBJECT_NOT_FOUND', fields: [DEAL_COMPANY_FIELD] } });
    expect(sb.counters.get('associations.batch.associate')).toBe(1);
    const { records } = await readAll(hubspot.read('deals', read(['dealname', 'amount', DEAL_COMPANY_FIELD])));
    const byName = Object.fromEntries(records.map((r) => [r.fields.dealname, r.fields[DEAL_COMPANY_FIELD]]));
    expect(byName).toEqual({ Big: company.externalId, Small: company.externalId, Orphan: null, Dangling: null });
    expect(records.find((r) => r.fields.dealname === 'Big')?.fields).not.toHaveProperty(DEAL_COMPANY_FIELD.replace('associations.', ''));
  });

  it('reads records by id in batches of 100, leaving out missing ones', async () => {
    const { sb, hubspot } = await setup({ companies: 150, dealsPerCompany: 1 });
    const ids = sb.state.live('companies').map((r) => r.id);
    const got = await hubspot.readByIds('companies', [...ids, '424242'], ['name']);
    expect(got.map((r) => r.id)).toEqual(ids);
    expect(got[0].fields.name).toBe(sb.state.get('companies', ids[0])?.properties.name);
    expect(sb.counters.get('companies.batch.read')).toBe(2);
    const deal = sb.state.live('deals')[7];
    const [withCompany] = await hubspot.readByIds('deals', [deal.id], ['dealname', DEAL_COMPANY_FIELD]);
    expect(withCompany.fields[DEAL_COMPANY_FIELD]).toBe(sb.state.associations('deals', deal.id, 'companies')[0]);
  });

  it('paces reads to the TEN_SECONDLY_ROLLING window the headers announce, so none is refused', async () => {
    const { sb, hubspot } = await setup({ companies: 30, tenSecondLimit: 2, rateWindowMs: 200 });
    const { records } = await readAll(hubspot.read('companies', read(['name'], { pageSize: 5 })));
    expect(records).toHaveLength(30);
    // No 429, so no retry: one call per page.
    expect(retries).toEqual([]);
    expect(sb.counters.get('companies.search')).toBe(6);
  });

  it('throws RateLimitError(daily) on a DAILY 429 and does not retry it', async () => {
    const { sb, hubspot } = await setup({ dailyLimit: 1 });
    await hubspot.write('companies', [{ key: 'x', fields: { name: 'X' } }]);
    const error = await hubspot.write('companies', [{ key: 'y', fields: { name: 'Y' } }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).daily).toBe(true);
    expect(sb.counters.get('companies.batch.upsert')).toBe(2);
    expect(retries).toEqual([]);
  });

  it('a persistent 5xx costs one call per page or batch: no retry in process, a plain error for Temporal to retry', async () => {
    const { sb, hubspot } = await setup({ companies: 30, faults: { serverErrorRate: 1, endpoints: /search|batch\.upsert/ } });
    const readFailure = await readAll(hubspot.read('companies', read(['name'], { pageSize: 10 }))).catch((e: unknown) => e);
    expect(readFailure).toBeInstanceOf(Error);
    expect(readFailure).not.toBeInstanceOf(RateLimitError);
    expect(readFailure).not.toBeInstanceOf(AuthError);
    expect((readFailure as Error).message).toMatch(/^HubSpot 502/);
    expect(sb.counters.get('companies.search')).toBe(1);

    const ops: WriteOp[] = Array.from({ length: 250 }, (_, i) => ({ key: `s${i}`, fields: { name: `S${i}` } }));
    const writeFailure = await hubspot.write('companies', ops).catch((e: unknown) => e);
    expect((writeFailure as Error).message).toMatch(/^HubSpot 502/);
    expect(sb.counters.get('companies.batch.upsert')).toBe(1);
    expect(retries).toEqual([]);
  });

  it('recovers from injected 5xx when the write is repeated, as Temporal repeats the activity: every record once', async () => {
    const { sb, hubspot } = await setup({ faults: { serverErrorRate: 0.4, seed: 3, endpoints: /batch\.upsert/ } });
    const ops: WriteOp[] = Array.from({ length: 500 }, (_, i) => ({ key: `s${i}`, fields: { name: `S${i}` } }));
    let attempts = 0;
    for (;;) {
      attempts++;
      const done = await hubspot.write('companies', ops).then((results) => results.every((r) => r.ok), () => false);
      if (done) break;
      expect(attempts).toBeLessThan(20);
    }
    expect(attempts).toBeGreaterThan(1);
    expect(sb.state.count('companies')).toBe(500);
    expect(retries).toEqual([]);
  });

  it('waits out a ten-secondly 429 in process, for as long as the rate window says', async () => {
    const { sb, hubspot } = await setup({ companies: 3, rateWindowMs: 300, faults: { rateLimitRate: 1, endpoints: /search/ } });
    // The sandbox answers again once the connector has been told to wait.
    const clearing = onRetry((e) => { if (e.system === 'hubspot') sb.faults.set({}); });
    try {
      const { records } = await readAll(hubspot.read('companies', read(['name'])));
      expect(records).toHaveLength(3);
    } finally {
      clearing.dispose();
    }
    expect(sb.counters.get('companies.search')).toBe(2);
    expect(retries).toEqual([{ system: 'hubspot', reason: 'TEN_SECONDLY_ROLLING', attempt: 1, delayMs: expect.any(Number) }]);
    expect(retries[0].delayMs).toBeGreaterThan(0);
    expect(retries[0].delayMs).toBeLessThanOrEqual(300);
  });

  it('a ten-secondly 429 that persists costs at most the bound of calls, then a RateLimitError saying so', async () => {
    const { sb, hubspot } = await setup({ rateWindowMs: 20, faults: { rateLimitRate: 1, endpoints: /batch\.upsert/ } }, { retry: { maxAttempts: 3 } });
    const error = await hubspot.write('companies', [{ key: 'r', fields: { name: 'R' } }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ daily: false, message: expect.stringMatching(/ten_secondly_rolling.*still refused after 3 attempts/) });
    expect(sb.counters.get('companies.batch.upsert')).toBe(3);
    expect(retries).toHaveLength(2);
  });

  it('archives with delete and reports archived records as deleted when asked', async () => {
    const { sb, hubspot } = await setup({ companies: 10 });
    const { pages } = await readAll(hubspot.read('companies', read(companyFields)));
    const victim = sb.state.live('companies')[4];
    const [deleted] = await hubspot.delete('companies', [{ key: 'v', externalId: victim.id }]);
    expect(deleted).toMatchObject({ ok: true, externalId: victim.id });
    const next = await readAll(hubspot.read('companies', read(companyFields, { cursor: pages.at(-1)!.cursor, includeDeleted: true })));
    expect(next.records.map((r) => [r.id, r.deleted])).toEqual([[victim.id, true]]);
    const full = await readAll(hubspot.read('companies', read(companyFields)));
    expect(full.records).toHaveLength(9);
  });

  it('identifies each sandbox as its own portal, hubspot:<portal id>, in one call', async () => {
    const a = await setup({ portalId: 4455667 });
    const b = await setup({ portalId: 7654321 });
    expect(await a.hubspot.identify()).toEqual({ instance: 'hubspot:4455667', label: 'portal 4455667 (app.hubspot.com)' });
    expect(await b.hubspot.identify()).toEqual({ instance: 'hubspot:7654321', label: 'portal 7654321 (app.hubspot.com)' });
    expect(a.sb.counters.get('account-info.details')).toBe(1);
    expect(b.sb.counters.get('account-info.details')).toBe(1);
  });

  it('identifies through a 429 as any call does, fails at once on a 5xx, and turns a bad token into AuthError', async () => {
    // A short rate window: after the 429 the pacer holds calls until our last one leaves it.
    const { sb, hubspot } = await setup({ portalId: 1234567, rateWindowMs: 200, faults: { serverErrorRate: 1, endpoints: /^account-info\./ } });
    await expect(hubspot.identify()).rejects.toThrow(/^HubSpot 502/);
    expect(sb.counters.get('account-info.details')).toBe(1);

    sb.faults.set({ rateLimitRate: 1, endpoints: /^account-info\./ });
    const clearing = onRetry((e) => { if (e.system === 'hubspot') sb.faults.set({}); });
    try {
      expect(await hubspot.identify()).toMatchObject({ instance: 'hubspot:1234567' });
    } finally {
      clearing.dispose();
    }
    expect(sb.counters.get('account-info.details')).toBe(3);
    expect(retries).toHaveLength(1);

    const secret = 'pat-na1-00000000-dead-beef-0000-000000000000';
    const error = await createHubSpotConnector({ accessToken: secret, basePath: sb.url }).identify().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(String((error as Error).message)).not.toContain(secret);
  });

  it('checks the connection, discovers the descriptor, and turns a bad token into AuthError without echoing it', async () => {
    const { sb, hubspot } = await setup({ dailyLimit: 1000 });
    const ok = await hubspot.check();
    expect(ok).toMatchObject({ ok: true, details: { apiUsage: '1/1000' } });
    const specs = await hubspot.discover();
    for (const known of HUBSPOT_OBJECTS) {
      const spec = specs.find((s) => s.name === known.name)!;
      expect(spec.fields.map((f) => f.name)).toEqual(known.fields.map((f) => f.name));
      expect(spec).toMatchObject({ idField: 'hs_object_id', upsertKeyField: 'ecosync_id', modifiedField: known.modifiedField });
    }
    const deals = specs.find((s) => s.name === 'deals')!;
    expect(deals.fields.find((f) => f.name === 'dealstage')?.picklistValues).toContain('closedwon');
    expect(deals.fields.find((f) => f.name === DEAL_COMPANY_FIELD)).toMatchObject({ type: 'reference', referenceTo: 'companies' });

    const secret = 'pat-na1-00000000-dead-beef-0000-000000000000';
    const bad = createHubSpotConnector({ accessToken: secret, basePath: sb.url });
    const failed = await bad.check();
    expect(failed.ok).toBe(false);
    expect(failed.message).not.toContain(secret);
    const error = await readAll(bad.read('companies', read(['name']))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(String((error as Error).message)).not.toContain(secret);
  });
});
