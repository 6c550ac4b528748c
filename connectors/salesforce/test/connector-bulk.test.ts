import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/runtime/log.js';
import type { Cursor, Page, ReadOptions, SourceRecord } from '../../../src/sync/protocol.js';
import { createSalesforceConnector, SalesforceApiError, type SalesforceConnectorOptions } from '../connector.js';
import { SALESFORCE_OBJECTS } from '../descriptor.js';
import { salesforceSandboxConfig, type SalesforceSandbox, startSalesforceSandbox } from '../sandbox/index.js';

/** Full loads through Bulk API 2.0 query jobs, against the sandbox's job routes. */

const QUIET: SalesforceConnectorOptions = {
  logger: createLogger({ level: 'silent', pretty: false }),
  bulkPoll: { intervalMs: 1 },
};
const ACCOUNTS = 12_345;
/** Every Account field but the system ones the read adds itself. */
const FIELDS = SALESFORCE_OBJECTS[0].fields.map((f) => f.name).filter((n) => !['Id', 'SystemModstamp', 'IsDeleted'].includes(n));

async function readAll(pages: AsyncIterable<Page>): Promise<{ records: SourceRecord[]; pages: Page[] }> {
  const all: Page[] = [];
  for await (const page of pages) all.push(page);
  return { records: all.flatMap((p) => p.records), pages: all };
}

/** The first page of a read, as an activity that stops after one page sees it. */
async function firstPage(pages: AsyncIterable<Page>): Promise<Page> {
  const iterator = pages[Symbol.asyncIterator]();
  const next = await iterator.next();
  await iterator.return?.();
  if (next.done) throw new Error('the read yielded no page');
  return next.value;
}

function byId(records: SourceRecord[]): SourceRecord[] {
  return [...records].sort((a, b) => (a.id < b.id ? -1 : 1));
}

function greatest(records: SourceRecord[]): Cursor {
  const last = [...records].sort((a, b) => (a.modifiedAt === b.modifiedAt ? (a.id < b.id ? -1 : 1) : a.modifiedAt < b.modifiedAt ? -1 : 1)).at(-1)!;
  return { modifiedAt: last.modifiedAt, id: last.id };
}

describe('Salesforce connector: full loads through Bulk API 2.0', () => {
  let sandbox: SalesforceSandbox;
  let odd: Record<string, unknown>;
  let deleted: string[];
  const full: ReadOptions = { cursor: null, fields: FIELDS, includeDeleted: true };
  const connector = (options: SalesforceConnectorOptions = {}) => createSalesforceConnector(salesforceSandboxConfig(sandbox), { ...QUIET, ...options });
  const jobsCreated = () => sandbox.counters.get('bulkQuery.create');
  const bulkCalls = () => sandbox.counters.sum(/^bulkQuery\./);

  beforeAll(async () => {
    // Two looks at each job find it in progress: the connector's polling is exercised.
    sandbox = await startSalesforceSandbox({ accounts: ACCOUNTS, contactsPerAccount: 0, opportunitiesPerAccount: 0, bulkJobPolls: 2 });
    // Values that CSV must carry faithfully: quotes, commas, newlines, decimals, nulls, a ';' and a '|'.
    odd = sandbox.state.insert('Account', {
      Name: 'Quote "Co", Ltd; a|b', Description: 'first line\nsecond, line', AnnualRevenue: 1234.56, NumberOfEmployees: 0,
      Website: null, Ecosync_Id__c: 'odd-1',
    }, { at: Date.UTC(2029, 0, 1) });
    // A user edits an early record: its SystemModstamp is now the greatest while its Id is among the smallest.
    deleted = ['001Dn0000000003IAA', '001Dn0000000004IAA', '001Dn0000000005IAA'];
    for (const id of deleted) sandbox.state.delete('Account', id, { at: Date.UTC(2029, 5, 1) });
    sandbox.state.update('Account', '001Dn0000000002IAA', { Name: 'Edited last' }, { at: Date.UTC(2030, 0, 1) });
  });
  afterAll(() => sandbox.close());

  it('reads 12,000+ accounts through one queryAll job, page by page, the same records as the REST path', async () => {
    const before = { jobs: jobsCreated(), looks: sandbox.counters.get('bulkQuery.get') };
    const bulk = await readAll(connector().read('Account', full));
    expect(jobsCreated() - before.jobs).toBe(1);
    expect(sandbox.counters.get('bulkQuery.get') - before.looks).toBe(3);
    // Pages the size of a REST query page (2,000), the last one what is left.
    const sizes = bulk.pages.map((p) => p.records.length);
    expect(sizes.slice(0, -1).every((n) => n === 2000)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(ACCOUNTS + 1);
    for (const page of bulk.pages.slice(0, -1)) expect(page.cursor).toMatchObject({ resume: expect.any(String) });
    // The last page's cursor is the greatest pair read, with no token: the edited record, not the last Id.
    expect(bulk.pages.at(-1)!.cursor).toEqual({ modifiedAt: '2030-01-01T00:00:00.000Z', id: '001Dn0000000002IAA' });
    expect(bulk.pages.at(-1)!.cursor).toEqual(greatest(bulk.records));

    const bulkBefore = bulkCalls();
    const rest = await readAll(connector({ bulkThreshold: Number.POSITIVE_INFINITY }).read('Account', full));
    expect(bulkCalls()).toBe(bulkBefore);
    expect(rest.records).toHaveLength(ACCOUNTS + 1);
    expect(byId(bulk.records)).toEqual(byId(rest.records));
  });

  it('reads a record with awkward values identically through both paths', async () => {
    const find = (records: SourceRecord[]) => records.find((r) => r.id === odd.Id)!;
    const bulk = find((await readAll(connector().read('Account', full))).records);
    const rest = find((await readAll(connector({ bulkThreshold: Number.POSITIVE_INFINITY }).read('Account', full))).records);
    expect(bulk).toEqual(rest);
    expect(bulk.fields).toMatchObject({
      Name: 'Quote "Co", Ltd; a|b', Description: 'first line\nsecond, line', AnnualRevenue: 1234.56, NumberOfEmployees: 0,
      Website: null, IsDeleted: false, SystemModstamp: expect.stringMatching(/\.\d{3}\+0000$/), CurrencyIsoCode: 'USD',
    });
  });

  it('marks deleted records deleted: true with includeDeleted, and leaves them out without', async () => {
    const all = (await readAll(connector().read('Account', full))).records;
    expect(all.filter((r) => r.deleted).map((r) => r.id).sort()).toEqual(deleted);
    expect(all.find((r) => r.id === deleted[0])?.fields.IsDeleted).toBe(true);
    const live = (await readAll(connector().read('Account', { cursor: null, fields: ['Name'] }))).records;
    expect(live).toHaveLength(ACCOUNTS + 1 - deleted.length);
    expect(live.some((r) => r.deleted || deleted.includes(r.id))).toBe(false);
  });

  it('resumes from a page\'s cursor in a fresh connector, continuing the same job', async () => {
    const before = jobsCreated();
    const first = await firstPage(connector().read('Account', full));
    expect(first.records).toHaveLength(2000);
    const resumed = await readAll(connector().read('Account', { ...full, cursor: first.cursor }));
    expect(jobsCreated() - before).toBe(1);
    const ids = [...first.records, ...resumed.records].map((r) => r.id);
    expect(ids).toHaveLength(ACCOUNTS + 1);
    expect(new Set(ids).size).toBe(ACCOUNTS + 1);
    expect(resumed.pages.at(-1)!.cursor).toEqual(greatest([...first.records, ...resumed.records]));
  });

  it('starts a new job from the token\'s start cursor when the job was deleted or failed mid-read', async () => {
    for (const lose of [(job: string) => sandbox.state.bulkJobs.forget(job), (job: string) => sandbox.state.bulkJobs.fail(job, 'QUERY_TIMEOUT')]) {
      const before = jobsCreated();
      const first = await firstPage(connector().read('Account', full));
      const job = (JSON.parse(first.cursor!.resume!) as { job: string }).job;
      lose(job);
      const rest = await readAll(connector().read('Account', { ...full, cursor: first.cursor }));
      expect(jobsCreated() - before).toBe(2);
      // The new job started where the lost one did (a full load), so it reads every record again.
      expect(new Set(rest.records.map((r) => r.id)).size).toBe(ACCOUNTS + 1);
      expect(rest.pages.at(-1)!.cursor).toEqual(greatest(rest.records));
      expect(rest.pages.some((p) => p.cursor?.resume?.includes(job))).toBe(false);
    }
  });

  it('never uses bulk for an incremental read, however many records follow the cursor', async () => {
    const before = bulkCalls();
    const cursor = { modifiedAt: '2024-01-01T00:00:00.000Z', id: '' };
    const { records } = await readAll(connector({ bulkThreshold: 0 }).read('Account', { cursor, fields: ['Name'], includeDeleted: true }));
    expect(records).toHaveLength(ACCOUNTS + 1);
    expect(bulkCalls()).toBe(before);
    const keys = records.map((r) => `${r.modifiedAt}|${r.id}`);
    expect(keys).toEqual([...keys].sort());
  });

  it('keeps a full load of up to bulkThreshold records on the REST path', async () => {
    const before = jobsCreated();
    const { records } = await readAll(connector({ bulkThreshold: ACCOUNTS + 1 }).read('Account', full));
    expect(records).toHaveLength(ACCOUNTS + 1);
    expect(jobsCreated()).toBe(before);
  });

  it('a 5xx on the bulk routes fails the read at once, retryable; resumed from its last page as Temporal would, it reads everything once', async () => {
    sandbox.faults.set({ serverErrorRate: 0.3, seed: 5, endpoints: /^bulkQuery\./ });
    try {
      const faultsBefore = sandbox.counters.get('fault.serverError');
      const reader = connector({ bulkPageSize: 2000 });
      const records: SourceRecord[] = [];
      let cursor: Cursor | null = null;
      let failures = 0;
      for (;;) {
        try {
          for await (const page of reader.read('Account', { ...full, cursor })) {
            records.push(...page.records);
            cursor = page.cursor;
          }
          break;
        } catch (e) {
          expect(e).toMatchObject({ retryable: true });
          expect(++failures).toBeLessThan(50);
        }
      }
      expect(records).toHaveLength(ACCOUNTS + 1);
      expect(new Set(records.map((r) => r.id)).size).toBe(ACCOUNTS + 1);
      expect(sandbox.counters.get('fault.serverError') - faultsBefore).toBe(failures);
      expect(failures).toBeGreaterThan(0);
    } finally {
      sandbox.faults.set({});
    }
  });

  it('says why a job failed, and gives up on one that never completes, aborting it', async () => {
    sandbox.state.bulkJobs.failNext('Query timed out: Your query took too long to run');
    const failed = await readAll(connector().read('Account', full)).then(() => undefined, (e: unknown) => e);
    expect(failed).toBeInstanceOf(SalesforceApiError);
    expect(failed).toMatchObject({ errorCode: 'BULK_JOB_FAILED', retryable: false, message: expect.stringContaining('Query timed out') });

    const slow = await startSalesforceSandbox({ accounts: 1, bulkJobPolls: 1_000_000 });
    try {
      const c = createSalesforceConnector(salesforceSandboxConfig(slow), { ...QUIET, bulkThreshold: 0, bulkPoll: { intervalMs: 1, timeoutMs: 30 } });
      const timedOut = await readAll(c.read('Account', { cursor: null, fields: ['Name'] })).then(() => undefined, (e: unknown) => e);
      expect(timedOut).toMatchObject({ errorCode: 'BULK_JOB_TIMEOUT', retryable: true });
      expect(slow.counters.get('bulkQuery.abort')).toBe(1);
    } finally {
      await slow.close();
    }
  });

  it('refuses a cursor whose resume token is not its own', async () => {
    const e = await readAll(connector().read('Account', { ...full, cursor: { modifiedAt: '2025-01-01T00:00:00.000Z', id: '', resume: 'not json' } })).then(() => undefined, (x: unknown) => x);
    expect(e).toMatchObject({ errorCode: 'INVALID_RESUME_TOKEN', retryable: false });
  });
});
