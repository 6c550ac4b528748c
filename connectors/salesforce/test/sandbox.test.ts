import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SALESFORCE_API_VERSION } from '../descriptor.js';
import { type SalesforceSandbox, startSalesforceSandbox } from '../sandbox/index.js';

/** The unmodified jsforce, pointed at the sandbox. */
function connect(sandbox: SalesforceSandbox, extra: Partial<jsforce.ConnectionConfig> = {}): jsforce.Connection {
  const c = sandbox.credentials;
  return new jsforce.Connection({
    oauth2: { loginUrl: sandbox.url, clientId: c.clientId, clientSecret: c.clientSecret },
    version: SALESFORCE_API_VERSION,
    callOptions: { client: 'ecosync' },
    ...extra,
  });
}

async function loggedIn(sandbox: SalesforceSandbox): Promise<jsforce.Connection> {
  const conn = connect(sandbox);
  await conn.login(sandbox.credentials.username, sandbox.credentials.password);
  return conn;
}

function errorOf(promise: PromiseLike<unknown>): Promise<{ errorCode?: string; message: string }> {
  return Promise.resolve(promise).then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as { errorCode?: string; message: string });
}

describe('Salesforce sandbox with jsforce', () => {
  let sandbox: SalesforceSandbox;
  let conn: jsforce.Connection;

  beforeAll(async () => {
    sandbox = await startSalesforceSandbox({ accounts: 2_100, contactsPerAccount: 1, opportunitiesPerAccount: 1 });
    conn = await loggedIn(sandbox);
  });
  afterAll(() => sandbox.close());

  it('issues tokens with instance_url, an id URL naming org and user, issued_at and signature', async () => {
    const c = sandbox.credentials;
    const res = await fetch(`${sandbox.url}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }),
    });
    const body = await res.json() as Record<string, string>;
    expect(res.status).toBe(200);
    expect(body.instance_url).toBe(sandbox.url);
    expect(body.id).toMatch(new RegExp(`^${sandbox.url}/id/00D\\w{15}/005\\w{15}$`));
    expect(body).toHaveProperty('access_token');
    expect(body.issued_at).toMatch(/^\d{13}$/);
    expect(body.signature).toMatch(/^[A-Za-z0-9+/]+=*$/);

    const bad = await fetch(`${sandbox.url}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: c.clientId, client_secret: c.clientSecret, username: c.username, password: 'wrong' }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'invalid_grant', error_description: 'authentication failure' });
  });

  it('logs in with the password flow and answers identity for the user in the id URL', async () => {
    expect(conn.userInfo?.organizationId).toMatch(/^00D/);
    expect(conn.userInfo?.id).toMatch(/^005/);
    const identity = await conn.identity();
    expect(identity.user_id).toBe(conn.userInfo?.id);
    expect(identity.username).toBe(sandbox.credentials.username);
  });

  it('pages queries by 2,000 records through nextRecordsUrl', async () => {
    const before = sandbox.counters.snapshot();
    const first = await conn.query<{ Id: string }>('SELECT Id, Name, SystemModstamp FROM Account ORDER BY SystemModstamp, Id');
    expect(first.totalSize).toBe(2_100);
    expect(first.done).toBe(false);
    expect(first.records).toHaveLength(2_000);
    expect(first.nextRecordsUrl).toMatch(/\/services\/data\/v62\.0\/query\/01g\w+-2000$/);
    const second = await conn.queryMore<{ Id: string }>(first.nextRecordsUrl!);
    expect(second.done).toBe(true);
    expect(second.records).toHaveLength(100);
    const ids = [...first.records, ...second.records].map((r) => r.Id);
    expect(new Set(ids).size).toBe(2_100);
    expect(ids).toEqual([...ids].sort());
    expect(sandbox.counters.get('query') - (before.query ?? 0)).toBe(1);
    expect(sandbox.counters.get('queryMore') - (before.queryMore ?? 0)).toBe(1);

    const small = await conn.query('SELECT Id FROM Contact', { headers: { 'Sforce-Query-Options': 'batchSize=500' } } as never);
    expect(small.records.length).toBeGreaterThan(0);
    const count = await conn.query('SELECT COUNT() FROM Opportunity');
    expect(count.totalSize).toBe(2_100);
  });

  it('returns records of the same modstamp in Id order and resumes strictly after (modstamp, Id)', async () => {
    const page = await conn.query<{ Id: string; SystemModstamp: string }>('SELECT Id, SystemModstamp FROM Account ORDER BY SystemModstamp, Id LIMIT 1000');
    const pivot = page.records[999];
    // The seed bulk-loads 2,500 records a batch: the first 2,100 accounts share one modstamp.
    expect(pivot.SystemModstamp).toBe(page.records[0].SystemModstamp);
    expect(pivot.SystemModstamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);
    const t = pivot.SystemModstamp;
    const rest = await conn.query<{ Id: string }>(
      `SELECT Id FROM Account WHERE (SystemModstamp > ${t}) OR (SystemModstamp = ${t} AND Id > '${pivot.Id}') ORDER BY SystemModstamp, Id`,
    ).run({ autoFetch: true, maxFetch: 10_000 });
    const seen = new Set([...page.records.map((r) => r.Id), ...rest.records.map((r) => r.Id)]);
    expect(rest.records.length + 1000).toBe(2_100);
    expect(seen.size).toBe(2_100);
  });

  it('describes objects from the descriptor', async () => {
    const d = await conn.describe('Opportunity');
    expect(d.name).toBe('Opportunity');
    expect(d.keyPrefix).toBe('006');
    const byName = new Map(d.fields.map((f) => [f.name, f]));
    expect(byName.get('StageName')).toMatchObject({ type: 'picklist', nillable: false, restrictedPicklist: true });
    expect(byName.get('StageName')?.picklistValues?.map((p) => p.value)).toContain('Id. Decision Makers');
    expect(byName.get('AccountId')).toMatchObject({ type: 'reference', referenceTo: ['Account'] });
    expect(byName.get('Ecosync_Id__c')).toMatchObject({ externalId: true, unique: true, custom: true });
    expect(byName.get('SystemModstamp')).toMatchObject({ type: 'datetime', createable: false, updateable: false });
    expect(byName.get('Probability')?.type).toBe('percent');
    const global = await conn.describeGlobal();
    expect(global.sobjects.map((s) => s.name)).toEqual(['Account', 'Contact', 'Opportunity', 'Organization']);
  });

  it('creates, updates and upserts through collections with per-record failures', async () => {
    const created = await conn.sobject('Contact').create([
      { LastName: 'Lovelace', Email: 'ada@example.com' },
      { LastName: 'Hopper', Email: 'not-an-address' },
      { FirstName: 'No last name' },
      { LastName: 'Turing', AccountId: '001Dn9999999999IAA' },
      { LastName: 'Knuth', AccountId: 'garbage' },
      { LastName: 'Liskov', Title: 'x'.repeat(129) },
    ], { allOrNone: false });
    expect(created.map((r) => r.success)).toEqual([true, false, false, false, false, false]);
    const codes = created.map((r) => (r.success ? null : r.errors[0] && (r.errors[0] as unknown as { statusCode: string }).statusCode));
    expect(codes).toEqual([null, 'INVALID_EMAIL_ADDRESS', 'REQUIRED_FIELD_MISSING', 'INVALID_CROSS_REFERENCE_KEY', 'MALFORMED_ID', 'STRING_TOO_LONG']);
    expect((created[2] as { errors: Array<{ fields: string[] }> }).errors[0].fields).toEqual(['LastName']);

    const id = (created[0] as { id: string }).id;
    expect(sandbox.state.get('Contact', id)).toMatchObject({ LastName: 'Lovelace', IsDeleted: false });

    const updated = await conn.sobject('Contact').update([{ Id: id, Title: 'Countess' }, { Id: '003Dn9999999999IAA', Title: 'x' }], { allOrNone: false });
    expect(updated.map((r) => r.success)).toEqual([true, false]);
    expect(sandbox.state.get('Contact', id)?.Title).toBe('Countess');

    const upserted = await conn.sobject('Account').upsert([
      { Ecosync_Id__c: 'acc-1', Name: 'Acme', Industry: 'Technology' },
      { Ecosync_Id__c: 'acc-2', Name: 'Bad Industry', Industry: 'Basket Weaving' },
      { Ecosync_Id__c: 'acc-3', Name: 'Globex', BillingCountryCode: 'GB' },
    ], 'Ecosync_Id__c', { allOrNone: false });
    expect(upserted.map((r) => [r.success, (r as { created?: boolean }).created])).toEqual([[true, true], [false, undefined], [true, true]]);
    expect((upserted[1] as unknown as { errors: Array<{ statusCode: string }> }).errors[0].statusCode).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');

    const again = await conn.sobject('Account').upsert([{ Ecosync_Id__c: 'acc-1', Name: 'Acme Corp' }], 'Ecosync_Id__c', { allOrNone: false });
    expect(again[0]).toMatchObject({ success: true, created: false, id: (upserted[0] as { id: string }).id });
    expect(sandbox.state.findByExternalId('Account', 'acc-1')?.Name).toBe('Acme Corp');

    const dup = await conn.sobject('Account').upsert([{ Ecosync_Id__c: 'dup', Name: 'A' }, { Ecosync_Id__c: 'dup', Name: 'B' }], 'Ecosync_Id__c', { allOrNone: false });
    expect(dup.map((r) => (r as unknown as { errors: Array<{ statusCode: string }> }).errors[0]?.statusCode)).toEqual(['DUPLICATE_EXTERNAL_ID', 'DUPLICATE_EXTERNAL_ID']);
  });

  it('rolls back the whole call with allOrNone and refuses more than 200 records', async () => {
    const before = sandbox.state.count('Account');
    const results = await conn.sobject('Account').create([{ Name: 'Kept?' }, { Industry: 'Technology' }], { allOrNone: true });
    expect(results.map((r) => (r as unknown as { errors: Array<{ statusCode: string }> }).errors[0].statusCode))
      .toEqual(['ALL_OR_NONE_OPERATION_ROLLED_BACK', 'REQUIRED_FIELD_MISSING']);
    expect(sandbox.state.count('Account')).toBe(before);

    const tooMany = Array.from({ length: 201 }, (_, i) => ({ Name: `Bulk ${i}` }));
    const e = await errorOf(conn.sobject('Account').create(tooMany));
    expect(e.errorCode).toBe('EXCEEDED_ID_LIMIT');
    expect(sandbox.state.count('Account')).toBe(before);
  });

  it('reads, updates and deletes single records', async () => {
    const [a] = await conn.sobject('Account').create([{ Name: 'Single' }]);
    const id = (a as { id: string }).id;
    const rec = await conn.sobject('Account').retrieve(id);
    expect(rec).toMatchObject({ Id: id, Name: 'Single', CurrencyIsoCode: 'USD' });
    await conn.sobject('Account').update({ Id: id, Name: 'Single Renamed' });
    expect(sandbox.state.get('Account', id)?.Name).toBe('Single Renamed');
    const e = await errorOf(conn.sobject('Account').update({ Id: id, Name: '' }));
    expect(e.errorCode).toBe('REQUIRED_FIELD_MISSING');
    await conn.sobject('Account').destroy(id);
    expect(sandbox.state.get('Account', id)?.IsDeleted).toBe(true);
    expect((await errorOf(conn.sobject('Account').retrieve(id))).errorCode).toBe('NOT_FOUND');
  });

  it('hides deleted records from query, shows them in queryAll and getDeleted', async () => {
    const start = new Date(Date.now() - 1000);
    const created = await conn.sobject('Account').create([{ Name: 'Doomed 1' }, { Name: 'Doomed 2' }, { Name: 'Survivor' }]);
    const [d1, d2, s] = created.map((r) => (r as { id: string }).id);
    const deleted = await conn.sobject('Account').destroy([d1, d2]);
    expect(deleted.every((r) => r.success)).toBe(true);
    const again = await conn.sobject('Account').destroy([d1], { allOrNone: false });
    expect((again[0] as unknown as { errors: Array<{ statusCode: string }> }).errors[0].statusCode).toBe('ENTITY_IS_DELETED');

    const soql = `SELECT Id, IsDeleted FROM Account WHERE Id IN ('${d1}', '${d2}', '${s}')`;
    const live = await conn.query<{ Id: string }>(soql);
    expect(live.records.map((r) => r.Id)).toEqual([s]);
    const all = await conn.query<{ Id: string; IsDeleted: boolean }>(soql, { scanAll: true });
    expect(all.records.filter((r) => r.IsDeleted).map((r) => r.Id).sort()).toEqual([d1, d2]);
    expect(sandbox.counters.get('queryAll')).toBeGreaterThan(0);

    const gone = await conn.sobject('Account').deleted(start, new Date(Date.now() + 60_000));
    const goneIds = gone.deletedRecords.map((r) => r.id);
    expect(goneIds).toEqual(expect.arrayContaining([d1, d2]));
    expect(goneIds).not.toContain(s);
    expect(gone.deletedRecords[0].deletedDate).toMatch(/\+0000$/);
  });

  it('records the Sforce-Call-Options client on each change and reports Sforce-Limit-Info', async () => {
    const [r] = await conn.sobject('Account').create([{ Name: 'Attributed' }]);
    const id = (r as { id: string }).id;
    expect(sandbox.state.clientOf('Account', id)).toBe('ecosync');
    sandbox.state.update('Account', id, { Name: 'Edited by a user' });
    expect(sandbox.state.clientOf('Account', id)).toBeNull();

    const used = sandbox.state.apiUsage().used;
    await conn.query('SELECT Id FROM Account LIMIT 1');
    expect(conn.limitInfo.apiUsage).toEqual({ used: used + 1, limit: sandbox.state.apiUsage().max });
    const raw = await fetch(`${sandbox.url}/services/data/v62.0/limits`, { headers: { authorization: `Bearer ${conn.accessToken}` } });
    expect(raw.headers.get('sforce-limit-info')).toMatch(/^api-usage=\d+\/\d+$/);
  });

  it('answers 403 REQUEST_LIMIT_EXCEEDED once the daily allowance is spent', async () => {
    const { used, max } = sandbox.state.apiUsage();
    sandbox.state.setApiUsage(max);
    try {
      const e = await errorOf(conn.query('SELECT Id FROM Account LIMIT 1'));
      expect(e.errorCode).toBe('REQUEST_LIMIT_EXCEEDED');
    } finally {
      sandbox.state.setApiUsage(used);
    }
  });
});

describe('Salesforce sandbox sessions', () => {
  it('expires tokens after their lifetime; jsforce refreshes with the refresh token and retries', async () => {
    let clock = Date.UTC(2026, 0, 1);
    const sandbox = await startSalesforceSandbox({ accounts: 3, tokenLifetimeSec: 60, now: () => clock });
    try {
      const conn = connect(sandbox, { refreshToken: sandbox.credentials.refreshToken, instanceUrl: sandbox.url });
      let refreshed = 0;
      conn.on('refresh', () => { refreshed++; });
      // No access token yet: the first call gets 401 and jsforce refreshes.
      expect((await conn.query('SELECT Id FROM Account')).totalSize).toBe(3);
      expect(refreshed).toBe(1);
      clock += 61_000;
      expect((await conn.query('SELECT Id FROM Account')).totalSize).toBe(3);
      expect(refreshed).toBe(2);
      expect(sandbox.counters.get('sessionInvalid')).toBe(2);
      expect(sandbox.counters.get('token')).toBe(2);
    } finally {
      await sandbox.close();
    }
  });

  it('injects 5xx and rate limits from the fault plan', async () => {
    const sandbox = await startSalesforceSandbox({ accounts: 3, faults: { rateLimitRate: 1, endpoints: /^describe$/ } });
    try {
      const conn = await loggedIn(sandbox);
      const e = await errorOf(conn.describe('Account'));
      expect(e.errorCode).toBe('REQUEST_LIMIT_EXCEEDED');
      sandbox.faults.set({ serverErrorRate: 1, endpoints: /^composite/ });
      const e2 = await errorOf(conn.sobject('Account').create([{ Name: 'x' }, { Name: 'y' }]));
      expect(e2.errorCode).toBe('SERVER_UNAVAILABLE');
      expect(sandbox.counters.get('fault.serverError')).toBe(1);
      expect(sandbox.state.count('Account')).toBe(3);
    } finally {
      await sandbox.close();
    }
  });
});

describe('Salesforce sandbox org identity', () => {
  it('names one org per seed, or the orgId given, in the token, the identity URL and the Organization record', async () => {
    const [a, b, again, named] = await Promise.all([
      startSalesforceSandbox({ accounts: 0, seed: 1 }),
      startSalesforceSandbox({ accounts: 0, seed: 2 }),
      startSalesforceSandbox({ accounts: 0, seed: 1 }),
      startSalesforceSandbox({ accounts: 0, orgId: '00D5g000004XyzE', orgName: 'Acme Production' }),
    ]);
    try {
      expect(a.orgId).toMatch(/^00D\w{15}$/);
      expect(b.orgId).not.toBe(a.orgId);
      expect(again.orgId).toBe(a.orgId);
      expect(named.orgId).toBe('00D5g000004XyzEEAS');

      const conn = await loggedIn(named);
      expect(conn.userInfo?.organizationId).toBe(named.orgId);
      const identity = await conn.identity();
      expect(identity).toMatchObject({ organization_id: named.orgId, user_id: conn.userInfo?.id, id: `${named.url}/id/${named.orgId}/${conn.userInfo?.id}` });
      const org = await conn.query<{ Id: string; Name: string }>('SELECT Id, Name FROM Organization');
      expect(org.records.map(({ Id, Name }) => ({ Id, Name }))).toEqual([{ Id: named.orgId, Name: 'Acme Production' }]);

      // Another org's identity URL is not this org's to answer.
      const other = await fetch(`${named.url}/id/${a.orgId}/${conn.userInfo?.id}?oauth_token=${conn.accessToken}`);
      expect(other.status).toBe(404);
    } finally {
      await Promise.all([a, b, again, named].map((s) => s.close()));
    }
    await expect(startSalesforceSandbox({ accounts: 0, orgId: '001Dn0000000001' })).rejects.toThrow(/not a Salesforce org id/);
  });
});
