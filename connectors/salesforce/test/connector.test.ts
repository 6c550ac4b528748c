import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/runtime/log.js';
import { AuthError, type Cursor, type Page, RateLimitError, type SourceRecord } from '../../../src/sync/protocol.js';
import { createSalesforceConnector, SalesforceApiError, type SalesforceConfig, type SalesforceConnectorOptions } from '../connector.js';
import { SALESFORCE_API_VERSION, SALESFORCE_OBJECTS } from '../descriptor.js';
import { type SalesforceSandbox, startSalesforceSandbox } from '../sandbox/index.js';

function configFor(sandbox: SalesforceSandbox, overrides: Partial<SalesforceConfig> = {}): SalesforceConfig {
  const c = sandbox.credentials;
  return { loginUrl: sandbox.url, clientId: c.clientId, clientSecret: c.clientSecret, refreshToken: c.refreshToken, apiVersion: SALESFORCE_API_VERSION, ...overrides };
}

const QUIET: SalesforceConnectorOptions = { logger: createLogger({ level: 'silent', pretty: false }) };

async function readAll(pages: AsyncIterable<Page>): Promise<{ records: SourceRecord[]; pages: Page[] }> {
  const all: Page[] = [];
  for await (const page of pages) all.push(page);
  return { records: all.flatMap((p) => p.records), pages: all };
}

/**
 * Reads to the end as a sync does under Temporal: after a retryable failure the read starts
 * again from the last page it handed out, as the activity's retry starts from the saved cursor.
 */
async function untilDone(read: (cursor: Cursor | null, keep: (page: Page) => void) => Promise<void>): Promise<{ records: SourceRecord[]; failures: number }> {
  const records: SourceRecord[] = [];
  let cursor: Cursor | null = null;
  for (let failures = 0; ; failures++) {
    try {
      await read(cursor, (page) => {
        records.push(...page.records);
        cursor = page.cursor;
      });
      return { records, failures };
    } catch (e) {
      expect(e).toMatchObject({ retryable: true });
      if (failures >= 50) throw e;
    }
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e);
}

describe('Salesforce connector against the sandbox', () => {
  let sandbox: SalesforceSandbox;

  beforeAll(async () => {
    sandbox = await startSalesforceSandbox({ accounts: 4_500, contactsPerAccount: 0, opportunitiesPerAccount: 0 });
  });
  afterAll(() => sandbox.close());

  it('checks identity and API usage with each credential flow', async () => {
    for (const overrides of [{}, { refreshToken: undefined, username: sandbox.credentials.username, password: sandbox.credentials.password }, { refreshToken: undefined }]) {
      const result = await createSalesforceConnector(configFor(sandbox, overrides)).check();
      expect(result.ok).toBe(true);
      expect(result.details).toMatchObject({ org: expect.stringMatching(/^00D/), user: expect.stringMatching(/^005/), apiUsage: expect.stringMatching(/^\d+\/100000$/) });
    }
    const bad = await createSalesforceConnector(configFor(sandbox, { refreshToken: 'revoked' })).check();
    expect(bad).toMatchObject({ ok: false, message: expect.stringMatching(/authentication failed|login failed/) });
    await expect(createSalesforceConnector(configFor(sandbox, { clientSecret: 'wrong' })).discover()).rejects.toBeInstanceOf(AuthError);
  });

  it('identifies the org it reaches by its 18-character id and name, one call; two sandboxes are two orgs', async () => {
    const queries = sandbox.counters.get('query');
    expect(await createSalesforceConnector(configFor(sandbox)).identify()).toEqual({ instance: `salesforce:${sandbox.orgId}`, label: 'Ecosync Sandbox' });
    expect(sandbox.counters.get('query') - queries).toBe(1);
    const other = await startSalesforceSandbox({ accounts: 0, seed: 7, orgName: 'Other Org' });
    try {
      const identity = await createSalesforceConnector(configFor(other)).identify();
      expect(identity).toEqual({ instance: `salesforce:${other.orgId}`, label: 'Other Org' });
      expect(identity.instance).not.toBe(`salesforce:${sandbox.orgId}`);
    } finally {
      await other.close();
    }
  });

  it('discovers the objects as the descriptor defines them', async () => {
    const specs = await createSalesforceConnector(configFor(sandbox)).discover();
    const shape = (fields: typeof specs[number]['fields']) => fields.map((f) => ({
      name: f.name, type: f.type, nillable: f.nillable, createable: f.createable, updateable: f.updateable,
      externalId: f.externalId ?? false, picklistValues: f.picklistValues, referenceTo: f.referenceTo,
    }));
    expect(specs.map((s) => s.name)).toEqual(['Account', 'Contact', 'Opportunity']);
    for (const [i, spec] of specs.entries()) {
      expect(shape(spec.fields)).toEqual(shape(SALESFORCE_OBJECTS[i].fields));
      expect(spec).toMatchObject({ idField: 'Id', modifiedField: 'SystemModstamp', upsertKeyField: 'Ecosync_Id__c' });
    }
  });

  it('reads everything in (SystemModstamp, Id) order, yielding each 2,000-record page as it arrives', async () => {
    const connector = createSalesforceConnector(configFor(sandbox));
    const queryMoreBefore = sandbox.counters.get('queryMore');
    const pages: Page[] = [];
    const queryMoreSeen: number[] = [];
    for await (const page of connector.read('Account', { cursor: null, fields: ['Name', 'Industry', 'id', 'SystemModstamp'] })) {
      queryMoreSeen.push(sandbox.counters.get('queryMore') - queryMoreBefore);
      pages.push(page);
    }
    expect(pages.map((p) => p.records.length)).toEqual([2000, 2000, 500]);
    // Page n arrived before the request for page n+1 was made.
    expect(queryMoreSeen).toEqual([0, 1, 2]);
    const records = pages.flatMap((p) => p.records);
    expect(new Set(records.map((r) => r.id)).size).toBe(4_500);
    const keys = records.map((r) => `${r.modifiedAt}|${r.id}`);
    expect(keys).toEqual([...keys].sort());
    expect(records[0]).toMatchObject({ deleted: false, modifiedAt: expect.stringMatching(/Z$/), fields: { Name: expect.any(String) } });
    expect(pages[2].cursor).toEqual({ modifiedAt: records[4_499].modifiedAt, id: records[4_499].id });
  });

  it('splits 450 upserts into 3 collection calls and lands them all, created then updated', async () => {
    const connector = createSalesforceConnector(configFor(sandbox));
    const ops = Array.from({ length: 450 }, (_, i) => ({ key: `bulk-${i}`, fields: { Name: `Bulk ${i}`, Industry: 'Energy' } }));
    const before = sandbox.counters.get('composite.upsert');
    const results = await connector.write('Account', ops);
    expect(sandbox.counters.get('composite.upsert') - before).toBe(3);
    expect(results).toHaveLength(450);
    expect(results.every((r) => r.ok && r.created)).toBe(true);
    expect(results.map((r) => r.key)).toEqual(ops.map((o) => o.key));

    const again = await connector.write('Account', ops.map((o) => ({ ...o, fields: { ...o.fields, Industry: 'Media' } })));
    expect(again.every((r) => r.ok && !r.created)).toBe(true);
    expect(again.map((r) => (r.ok ? r.externalId : ''))).toEqual(results.map((r) => (r.ok ? r.externalId : '')));
    expect(sandbox.state.findByExternalId('Account', 'bulk-449')).toMatchObject({ Industry: 'Media' });
    expect(sandbox.state.clientOf('Account', results[0].ok ? results[0].externalId : '')).toBe('ecosync');
  });

  it('reports per-record failures while the rest of the batch lands', async () => {
    const connector = createSalesforceConnector(configFor(sandbox));
    const results = await connector.write('Contact', [
      { key: 'c-ok-1', fields: { LastName: 'Hopper', Email: 'grace@example.com' } },
      { key: 'c-bad-email', fields: { LastName: 'Turing', Email: 'alan@' } },
      { key: 'c-no-name', fields: { FirstName: 'Edsger' } },
      { key: 'c-ok-2', fields: { LastName: 'Liskov' } },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, false, false, true]);
    expect(results[1]).toMatchObject({ ok: false, retryable: false, error: { code: 'INVALID_EMAIL_ADDRESS', fields: ['Email'] } });
    expect(results[2]).toMatchObject({ ok: false, error: { code: 'REQUIRED_FIELD_MISSING', fields: ['LastName'] } });
    expect(sandbox.state.findByExternalId('Contact', 'c-ok-2')).toMatchObject({ LastName: 'Liskov' });
    expect(sandbox.state.findByExternalId('Contact', 'c-bad-email')).toBeUndefined();
  });

  it('updates by Id when the op knows the record, stamping the canonical key', async () => {
    const connector = createSalesforceConnector(configFor(sandbox));
    const user = sandbox.state.insert('Account', { Name: 'Made by a user' });
    const before = sandbox.counters.get('composite.update');
    const [result] = await connector.write('Account', [{ key: 'linked-1', externalId: user.Id as string, fields: { Name: 'Renamed by ecosync' } }]);
    expect(result).toMatchObject({ ok: true, externalId: user.Id, created: false });
    expect(sandbox.counters.get('composite.update') - before).toBe(1);
    expect(sandbox.state.get('Account', user.Id as string)).toMatchObject({ Name: 'Renamed by ecosync', Ecosync_Id__c: 'linked-1' });
  });

  it('reads records by Id, leaving out unknown and deleted ones', async () => {
    const connector = createSalesforceConnector(configFor(sandbox));
    const a = sandbox.state.insert('Account', { Name: 'By id A', Industry: 'Retail' });
    const b = sandbox.state.insert('Account', { Name: 'By id B' });
    sandbox.state.delete('Account', b.Id as string);
    const many = Array.from({ length: 250 }, () => a.Id as string);
    const records = await connector.readByIds('Account', [...many, b.Id as string, '001Dn9999999999IAA'], ['Name', 'Industry']);
    expect(records).toEqual([{ id: a.Id, modifiedAt: expect.stringMatching(/Z$/), deleted: false, fields: expect.objectContaining({ Name: 'By id A', Industry: 'Retail' }) }]);
  });

  it('deletes, treats an already deleted record as done, and reads deletions with includeDeleted', async () => {
    const connector = createSalesforceConnector(configFor(sandbox));
    const a = sandbox.state.insert('Account', { Name: 'To delete' });
    const b = sandbox.state.insert('Account', { Name: 'Also to delete' });
    const ops = [{ key: 'a', externalId: a.Id as string }, { key: 'b', externalId: b.Id as string }, { key: 'missing', externalId: '001Dn9999999999IAA' }];
    const results = await connector.delete('Account', ops);
    expect(results.map((r) => r.ok)).toEqual([true, true, false]);
    expect(results[2]).toMatchObject({ error: { code: 'INVALID_CROSS_REFERENCE_KEY' } });
    expect((await connector.delete('Account', ops.slice(0, 1)))[0].ok).toBe(true);

    const cursor = { modifiedAt: new Date(Date.parse(String(a.SystemModstamp).replace('+0000', 'Z')) - 1).toISOString(), id: '' };
    const withDeleted = await readAll(connector.read('Account', { cursor, fields: ['Name'], includeDeleted: true }));
    const deleted = withDeleted.records.filter((r) => r.deleted).map((r) => r.id);
    expect(deleted).toEqual(expect.arrayContaining([a.Id, b.Id]));
    const live = await readAll(connector.read('Account', { cursor, fields: ['Name'] }));
    expect(live.records.map((r) => r.id)).not.toContain(a.Id);
  });

  it('surfaces 403 REQUEST_LIMIT_EXCEEDED as a daily RateLimitError without retrying', async () => {
    const connector = createSalesforceConnector(configFor(sandbox), QUIET);
    const { used, max } = sandbox.state.apiUsage();
    await connector.check();
    sandbox.state.setApiUsage(max);
    const limited = sandbox.counters.get('limitExceeded');
    try {
      const e = await rejection(connector.write('Account', [{ key: 'limited', fields: { Name: 'x' } }]));
      expect(e).toBeInstanceOf(RateLimitError);
      expect(e).toMatchObject({ daily: true });
      expect((e as RateLimitError).retryAfterMs).toBeGreaterThan(0);
      expect(sandbox.counters.get('limitExceeded') - limited).toBe(1);
    } finally {
      sandbox.state.setApiUsage(used);
    }
  });

  it('refreshes an expired session and carries on', async () => {
    const connector = createSalesforceConnector(configFor(sandbox));
    await connector.check();
    const tokens = sandbox.counters.get('token');
    sandbox.state.expireSessions();
    const { records } = await readAll(connector.read('Account', { cursor: null, fields: ['Name'], pageSize: 2000 }));
    expect(records.length).toBeGreaterThan(4_500);
    expect(sandbox.counters.get('token') - tokens).toBe(1);
  });
});

describe('Salesforce connector: resuming across SystemModstamp ties', () => {
  it('resumes after a page boundary inside 4,500 records sharing one modstamp, without loss or duplicates', async () => {
    const sandbox = await startSalesforceSandbox({ accounts: 0 });
    try {
      const tie = Date.UTC(2026, 0, 1, 12);
      sandbox.state.insert('Account', { Name: 'Before' }, { at: tie - 1 });
      for (let i = 0; i < 4_500; i++) sandbox.state.insert('Account', { Name: `Tied ${i}` }, { at: tie });
      sandbox.state.insert('Account', { Name: 'After' }, { at: tie + 1 });
      const connector = createSalesforceConnector(configFor(sandbox));

      // Read one page, "crash", and resume from the persisted cursor, page by page.
      const seen: SourceRecord[] = [];
      let cursor = null;
      let reads = 0;
      for (;;) {
        reads++;
        const iterator = connector.read('Account', { cursor, fields: ['Name'] })[Symbol.asyncIterator]();
        const next = await iterator.next();
        await iterator.return?.();
        if (next.done || next.value.records.length === 0) break;
        seen.push(...next.value.records);
        cursor = next.value.cursor;
      }
      expect(reads).toBe(4);
      expect(seen).toHaveLength(4_502);
      expect(new Set(seen.map((r) => r.id)).size).toBe(4_502);
      expect(seen[0].fields.Name).toBe('Before');
      expect(seen[4_501].fields.Name).toBe('After');
      expect(seen.filter((r) => r.modifiedAt === new Date(tie).toISOString())).toHaveLength(4_500);

      // A user edit after the cursor is picked up by the next incremental read; a lookback re-reads.
      const edited = seen[10];
      sandbox.state.update('Account', edited.id, { Name: 'Edited' });
      const next = await readAll(connector.read('Account', { cursor, fields: ['Name'] }));
      expect(next.records.map((r) => [r.id, r.fields.Name])).toEqual([[edited.id, 'Edited']]);
      const lookback = await readAll(connector.read('Account', { cursor: next.pages.at(-1)!.cursor, fields: ['Name'], lookbackMs: 60_000 }));
      expect(lookback.records.map((r) => r.id)).toContain(edited.id);
    } finally {
      await sandbox.close();
    }
  });

  it('cuts pages smaller than the API minimum on the client side', async () => {
    const sandbox = await startSalesforceSandbox({ accounts: 450, contactsPerAccount: 0, opportunitiesPerAccount: 0 });
    try {
      const connector = createSalesforceConnector(configFor(sandbox));
      const { pages, records } = await readAll(connector.read('Account', { cursor: null, fields: ['Name'], pageSize: 100 }));
      expect(pages.map((p) => p.records.length)).toEqual([100, 100, 100, 100, 50]);
      expect(new Set(records.map((r) => r.id)).size).toBe(450);
      expect(sandbox.counters.get('queryMore')).toBe(2);
    } finally {
      await sandbox.close();
    }
  });
});

describe('Salesforce connector under injected faults', () => {
  it('a 5xx fails the call at once, retryable; repeated as Temporal repeats the activity, reads and writes end with every record in place once', async () => {
    const sandbox = await startSalesforceSandbox({ accounts: 5_000, contactsPerAccount: 0, opportunitiesPerAccount: 0, faults: { serverErrorRate: 0.3, seed: 3, endpoints: /^(query|queryMore|composite\.upsert)$/ } });
    try {
      const connector = createSalesforceConnector(configFor(sandbox), QUIET);
      const read = await untilDone(async (cursor: Cursor | null, keep: (page: Page) => void) => {
        for await (const page of connector.read('Account', { cursor, fields: ['Name'] })) keep(page);
      });
      expect(read.failures).toBeGreaterThan(0);
      expect(read.records).toHaveLength(5_000);
      expect(new Set(read.records.map((r) => r.id)).size).toBe(5_000);

      const ops = Array.from({ length: 1_000 }, (_, i) => ({ key: `f-${i}`, fields: { Name: `Faulty ${i}` } }));
      let writes = 0;
      for (;;) {
        writes++;
        const done = await connector.write('Account', ops).then((results) => results.every((r) => r.ok), (e: unknown) => {
          expect(e).toMatchObject({ retryable: true, errorCode: 'SERVER_UNAVAILABLE' });
          return false;
        });
        if (done) break;
        expect(writes).toBeLessThan(50);
      }
      expect(sandbox.state.count('Account')).toBe(6_000);
      expect(sandbox.counters.get('fault.serverError')).toBe(read.failures + writes - 1);
    } finally {
      await sandbox.close();
    }
  });

  it('a persistent 5xx costs one call per page, then a retryable error; a hung call gives up after its timeout', async () => {
    const sandbox = await startSalesforceSandbox({ accounts: 1, faults: { serverErrorRate: 1, endpoints: /^composite|^query$/ } });
    try {
      const connector = createSalesforceConnector(configFor(sandbox), QUIET);
      const e = await rejection(connector.write('Account', [{ key: 'x', fields: { Name: 'x' } }]));
      expect(e).toBeInstanceOf(SalesforceApiError);
      expect(e).toMatchObject({ retryable: true, errorCode: 'SERVER_UNAVAILABLE' });
      expect(sandbox.counters.get('composite.upsert')).toBe(1);
      const queriesBefore = sandbox.counters.get('query');
      const r = await rejection(readAll(connector.read('Account', { cursor: { modifiedAt: '2020-01-01T00:00:00.000Z', id: '' }, fields: ['Name'] })));
      expect(r).toMatchObject({ retryable: true, errorCode: 'SERVER_UNAVAILABLE' });
      expect(sandbox.counters.get('query') - queriesBefore).toBe(1);

      sandbox.faults.set({ timeoutRate: 1, endpoints: /^describe$/ });
      const t = await rejection(createSalesforceConnector(configFor(sandbox), { ...QUIET, requestTimeoutMs: 200 }).discover());
      expect(t).toMatchObject({ retryable: true });
      expect(sandbox.counters.get('fault.timeout')).toBe(1);
    } finally {
      await sandbox.close();
    }
  });

  it('treats an unreachable org as a retryable failure', async () => {
    const sandbox = await startSalesforceSandbox({ accounts: 0 });
    const config = configFor(sandbox);
    await sandbox.close();
    const e = await rejection(createSalesforceConnector(config, QUIET).discover());
    expect(e).toBeInstanceOf(SalesforceApiError);
    expect(e).toMatchObject({ retryable: true, errorCode: 'ECONNREFUSED' });
  });

  it('marks lock contention on single records as retryable', async () => {
    const sandbox = await startSalesforceSandbox({ accounts: 1, faults: { recordFailureRate: 0.5, seed: 9 } });
    try {
      const results = await createSalesforceConnector(configFor(sandbox)).write('Account', Array.from({ length: 40 }, (_, i) => ({ key: `l-${i}`, fields: { Name: `L ${i}` } })));
      const failed = results.filter((r) => !r.ok);
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.every((r) => !r.ok && r.retryable && r.error.code === 'UNABLE_TO_LOCK_ROW')).toBe(true);
      expect(sandbox.state.count('Account')).toBe(1 + results.length - failed.length);
    } finally {
      await sandbox.close();
    }
  });

  it('never writes credentials to the log while failing and refreshing', async () => {
    const sandbox = await startSalesforceSandbox({ accounts: 10, faults: { serverErrorRate: 0.5, seed: 1, endpoints: /^query/ } });
    let output = '';
    const destination = new Writable({ write(chunk, _enc, done) { output += String(chunk); done(); } });
    try {
      const connector = createSalesforceConnector(configFor(sandbox), { logger: createLogger({ destination, level: 'debug', pretty: false }) });
      await connector.check();
      sandbox.state.expireSessions();
      for (let i = 0; i < 5; i++) {
        const { records } = await untilDone(async (cursor: Cursor | null, keep: (page: Page) => void) => {
          for await (const page of connector.read('Account', { cursor, fields: ['Name'] })) keep(page);
        });
        expect(records).toHaveLength(10);
      }
      expect(output).toContain('Salesforce call failed');
      const c = sandbox.credentials;
      for (const secret of [c.clientSecret, c.refreshToken, '!AQ']) expect(output).not.toContain(secret);
    } finally {
      await sandbox.close();
    }
  });
});
