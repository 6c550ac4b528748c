import { parse } from 'csv-parse/sync';
import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SALESFORCE_API_VERSION } from '../descriptor.js';
import { type SalesforceSandbox, startSalesforceSandbox } from '../sandbox/index.js';

/** Bulk API 2.0 query jobs of the sandbox, over raw HTTP as Salesforce documents them and through jsforce's own bulk2 client. */

const JOBS = `/services/data/v${SALESFORCE_API_VERSION}/jobs/query`;

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: () => unknown;
}

async function token(sandbox: SalesforceSandbox): Promise<string> {
  const c = sandbox.credentials;
  const res = await fetch(`${sandbox.url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: c.clientId, client_secret: c.clientSecret, username: c.username, password: c.password }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

function client(sandbox: SalesforceSandbox, bearer: string) {
  return async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const res = await fetch(`${sandbox.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as unknown };
  };
}

type Api = ReturnType<typeof client>;

/** Creates a job and looks at it until it completes; the job's id. */
async function completedJob(api: Api, query: string, extra: Record<string, unknown> = {}): Promise<string> {
  const created = await api('POST', JOBS, { operation: 'query', query, ...extra });
  expect(created.status).toBe(200);
  const { id } = created.json() as { id: string };
  for (let looks = 0; looks < 10; looks++) {
    const { state } = (await api('GET', `${JOBS}/${id}`)).json() as { state: string };
    if (state === 'JobComplete') return id;
  }
  throw new Error(`job ${id} did not complete`);
}

/** Every result set of a job, by following Sforce-Locator: the rows (header first in each set) and the answers. */
async function allSets(api: Api, id: string, maxRecords: number): Promise<{ sets: string[][][]; answers: Answer[] }> {
  const sets: string[][][] = [];
  const answers: Answer[] = [];
  let locator = '';
  do {
    const answer = await api('GET', `${JOBS}/${id}/results?maxRecords=${maxRecords}${locator ? `&locator=${locator}` : ''}`);
    expect(answer.status).toBe(200);
    answers.push(answer);
    sets.push(parse(answer.text));
    locator = answer.headers.get('sforce-locator') ?? 'null';
  } while (locator !== 'null');
  return { sets, answers };
}

describe('Salesforce sandbox: Bulk API 2.0 query jobs over HTTP', () => {
  let sandbox: SalesforceSandbox;
  let api: Api;

  beforeAll(async () => {
    sandbox = await startSalesforceSandbox({ accounts: 30, contactsPerAccount: 0, opportunitiesPerAccount: 0, bulkJobPolls: 2 });
    api = client(sandbox, await token(sandbox));
  });
  afterAll(() => sandbox.close());

  it('creates a job that goes UploadComplete → InProgress → JobComplete on the job clock, with Salesforce\'s job fields', async () => {
    const created = await api('POST', JOBS, { operation: 'query', query: 'SELECT Id, Name FROM Account' });
    expect(created.status).toBe(200);
    const job = created.json() as Record<string, unknown>;
    expect(job).toEqual({
      id: expect.stringMatching(/^750\w{15}$/), operation: 'query', object: 'Account', createdById: expect.stringMatching(/^005/),
      createdDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/), systemModstamp: expect.any(String),
      state: 'UploadComplete', concurrencyMode: 'Parallel', contentType: 'CSV', apiVersion: 62, lineEnding: 'LF', columnDelimiter: 'COMMA',
    });
    const early = await api('GET', `${JOBS}/${job.id as string}/results`);
    expect(early.status).toBe(412);
    expect(early.json()).toEqual([{ errorCode: 'JOB_NOT_COMPLETE', message: expect.stringContaining('Current status: UPLOAD_COMPLETE') }]);

    const states = [];
    for (let i = 0; i < 3; i++) states.push(((await api('GET', `${JOBS}/${job.id as string}`)).json() as { state: string }).state);
    expect(states).toEqual(['InProgress', 'InProgress', 'JobComplete']);
    expect((await api('GET', `${JOBS}/${job.id as string}`)).json()).toMatchObject({
      id: job.id, state: 'JobComplete', jobType: 'V2Query', numberRecordsProcessed: 30, retries: 0, totalProcessingTime: expect.any(Number), isPkChunkingSupported: true,
    });
  });

  it('pages CSV results by locator and maxRecords, the same rows every time a locator is asked', async () => {
    const id = await completedJob(api, 'SELECT Id, Name FROM Account');
    const { sets, answers } = await allSets(api, id, 12);
    expect(answers.map((a) => a.headers.get('sforce-numberofrecords'))).toEqual(['12', '12', '6']);
    expect(answers.map((a) => a.headers.get('sforce-locator'))).toEqual([expect.stringMatching(/^[\w-]+$/), expect.stringMatching(/^[\w-]+$/), 'null']);
    expect(answers[0].headers.get('content-type')).toBe('text/csv');
    for (const set of sets) expect(set[0]).toEqual(['Id', 'Name']);
    const ids = sets.flatMap((set) => set.slice(1).map((row) => row[0]));
    expect(new Set(ids).size).toBe(30);

    const locator = answers[0].headers.get('sforce-locator')!;
    const again = await api('GET', `${JOBS}/${id}/results?maxRecords=12&locator=${locator}`);
    expect(again.text).toBe(answers[1].text);
    expect((await api('GET', `${JOBS}/${id}/results?locator=not*a*locator`)).json()).toEqual([{ errorCode: 'INVALID_QUERY_LOCATOR', message: expect.any(String) }]);
  });

  it('writes values as Salesforce does: quoted, null empty, ISO datetimes, true/false, plain numbers; the same data as the REST query', async () => {
    const odd = sandbox.state.insert('Account', { Name: 'Quote "this", please', Description: 'line one\nline two', AnnualRevenue: 1234.5, NumberOfEmployees: 7 });
    const soql = `SELECT Id, Name, Website, Description, AnnualRevenue, NumberOfEmployees, IsDeleted, SystemModstamp FROM Account WHERE Id = '${odd.Id as string}'`;
    const id = await completedJob(api, soql);
    const { answers, sets } = await allSets(api, id, 10);
    const stamp = new Date(Date.parse(String(odd.SystemModstamp).replace('+0000', 'Z'))).toISOString();
    expect(answers[0].text).toBe(
      '"Id","Name","Website","Description","AnnualRevenue","NumberOfEmployees","IsDeleted","SystemModstamp"\n' +
      `"${odd.Id as string}","Quote ""this"", please",,"line one\nline two","1234.5","7","false","${stamp}"\n`,
    );
    const rest = (await api('GET', `/services/data/v${SALESFORCE_API_VERSION}/query?q=${encodeURIComponent(soql)}`)).json() as { records: Array<Record<string, unknown>> };
    const { attributes: _a, ...json } = rest.records[0];
    expect(sets[0][1]).toEqual(Object.values(json).map((v) => (v === null ? '' : typeof v === 'string' && v.endsWith('+0000') ? stamp : String(v))));
  });

  it('honours columnDelimiter and lineEnding', async () => {
    const id = await completedJob(api, 'SELECT Id, Name FROM Account LIMIT 2', { columnDelimiter: 'PIPE', lineEnding: 'CRLF' });
    const answer = await api('GET', `${JOBS}/${id}/results`);
    expect(answer.text).toMatch(/^"Id"\|"Name"\r\n"001\w+"\|"[^"]+"\r\n"001\w+"\|"[^"]+"\r\n$/);
  });

  it('includes deleted records with queryAll, and leaves them out with query', async () => {
    const gone = sandbox.state.insert('Account', { Name: 'Deleted before the job' });
    sandbox.state.delete('Account', gone.Id as string);
    const soql = `SELECT Id, IsDeleted FROM Account WHERE Name = 'Deleted before the job'`;
    const all = await completedJob(api, soql, { operation: 'queryAll' });
    expect((await allSets(api, all, 10)).sets[0].slice(1)).toEqual([[gone.Id, 'true']]);
    const live = await completedJob(api, soql);
    expect((await allSets(api, live, 10)).sets[0].slice(1)).toEqual([]);
  });

  it('lists, aborts and deletes jobs, answering 404 NOT_FOUND for a job that is gone', async () => {
    const created = (await api('POST', JOBS, { operation: 'query', query: 'SELECT Id FROM Account' })).json() as { id: string };
    const list = (await api('GET', JOBS)).json() as { done: boolean; records: Array<{ id: string; jobType: string }>; nextRecordsUrl: string | null };
    expect(list).toMatchObject({ done: true, nextRecordsUrl: null });
    expect(list.records.map((r) => r.id)).toContain(created.id);
    expect(list.records.every((r) => r.jobType === 'V2Query')).toBe(true);
    expect(((await api('GET', `${JOBS}?jobType=Classic`)).json() as { records: unknown[] }).records).toEqual([]);

    const aborted = await api('PATCH', `${JOBS}/${created.id}`, { state: 'Aborted' });
    expect(aborted.json()).toMatchObject({ id: created.id, state: 'Aborted' });
    const again = await api('PATCH', `${JOBS}/${created.id}`, { state: 'Aborted' });
    expect(again.status).toBe(400);
    expect(again.json()).toEqual([{ errorCode: 'INVALIDJOBSTATE', message: expect.any(String) }]);
    expect((await api('GET', `${JOBS}/${created.id}/results`)).status).toBe(412);

    expect((await api('DELETE', `${JOBS}/${created.id}`)).status).toBe(204);
    const gone = await api('GET', `${JOBS}/${created.id}`);
    expect(gone.status).toBe(404);
    expect(gone.json()).toEqual([{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
  });

  it('refuses what Bulk API 2.0 refuses, with Salesforce\'s error bodies', async () => {
    const refusals: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ query: 'SELECT COUNT() FROM Account' }, 'API_ERROR', /Aggregate Relationships not supported in Bulk Query/],
      [{ query: 'SELECT MAX(NumberOfEmployees) FROM Account' }, 'API_ERROR', /Aggregate Relationships/],
      [{ query: 'SELECT Industry FROM Account GROUP BY Industry' }, 'API_ERROR', /Aggregate Relationships/],
      [{ query: 'SELECT Id, (SELECT Id FROM Contacts) FROM Account' }, 'API_ERROR', /Aggregate Relationships/],
      [{ query: 'SELECT Id FROM Account OFFSET 10' }, 'API_ERROR', /OFFSET/],
      [{ query: 'SELECT TYPEOF What WHEN Account THEN Name END FROM Event' }, 'API_ERROR', /TYPEOF/],
      [{ query: 'SELECT Nope FROM Account' }, 'INVALID_FIELD', /No such column 'Nope'/],
      [{ query: 'SELECT Id FROM Nothing' }, 'INVALID_TYPE', /Nothing/],
      [{ query: 'SELECT Id FROM Account WHERE' }, 'MALFORMED_QUERY', /./],
      [{ operation: 'insert', query: 'SELECT Id FROM Account' }, 'INVALIDJOB', /operation/],
      [{ query: 'SELECT Id FROM Account', contentType: 'JSON' }, 'INVALIDJOB', /contentType/],
      [{ query: 'SELECT Id FROM Account', columnDelimiter: 'COLON' }, 'INVALIDJOB', /columnDelimiter/],
      [{ query: 'SELECT Id FROM Account', lineEnding: 'CR' }, 'INVALIDJOB', /lineEnding/],
    ];
    for (const [body, errorCode, message] of refusals) {
      const answer = await api('POST', JOBS, { operation: 'query', ...body });
      expect([answer.status, answer.json()]).toEqual([400, [{ errorCode, message: expect.stringMatching(message) }]]);
    }
    // Words in string literals are values, not clauses.
    expect((await api('POST', JOBS, { operation: 'query', query: "SELECT Id FROM Account WHERE Name = 'GROUP BY x OFFSET 1'" })).status).toBe(200);
  });

  it('takes ORDER BY and LIMIT, which Salesforce accepts (they only switch off PK chunking)', async () => {
    const id = await completedJob(api, 'SELECT Name FROM Account ORDER BY Name DESC LIMIT 5');
    const names = (await allSets(api, id, 100)).sets[0].slice(1).map((row) => row[0]);
    expect(names).toHaveLength(5);
    expect(names).toEqual([...names].sort().reverse());
  });

  it('counts every call and injects faults on the bulk routes like on the others', async () => {
    const before = sandbox.counters.snapshot();
    const id = await completedJob(api, 'SELECT Id FROM Account');
    await api('GET', `${JOBS}/${id}/results`);
    await api('GET', JOBS);
    await api('DELETE', `${JOBS}/${id}`);
    const delta = (name: string) => sandbox.counters.get(name) - (before[name] ?? 0);
    expect(['bulkQuery.create', 'bulkQuery.get', 'bulkQuery.results', 'bulkQuery.list', 'bulkQuery.delete'].map(delta)).toEqual([1, 3, 1, 1, 1]);

    sandbox.faults.set({ serverErrorRate: 1, endpoints: /^bulkQuery\.results$/ });
    try {
      const id2 = await completedJob(api, 'SELECT Id FROM Account');
      const failed = await api('GET', `${JOBS}/${id2}/results`);
      expect([failed.status, failed.json()]).toEqual([503, [{ errorCode: 'SERVER_UNAVAILABLE', message: expect.any(String) }]]);
      expect(delta('fault.serverError')).toBe(1);
    } finally {
      sandbox.faults.set({});
    }
    sandbox.state.setApiUsage(sandbox.state.apiUsage().max);
    try {
      expect((await api('GET', JOBS)).json()).toEqual([{ errorCode: 'REQUEST_LIMIT_EXCEEDED', message: expect.any(String) }]);
    } finally {
      sandbox.state.setApiUsage(0);
    }
  });

  it('serves jsforce\'s own bulk2 client, polling included', async () => {
    const conn = new jsforce.Connection({
      oauth2: { loginUrl: sandbox.url, clientId: sandbox.credentials.clientId, clientSecret: sandbox.credentials.clientSecret },
      version: SALESFORCE_API_VERSION,
    });
    await conn.login(sandbox.credentials.username, sandbox.credentials.password);
    const gone = sandbox.state.insert('Account', { Name: 'Deleted before jsforce looked' });
    sandbox.state.delete('Account', gone.Id as string);
    const before = sandbox.counters.get('bulkQuery.get');
    const stream = await conn.bulk2.query('SELECT Id, Name, IsDeleted FROM Account', { scanAll: true, pollInterval: 1, pollTimeout: 10_000 });
    const records = (await stream.toArray()) as Array<Record<string, string>>;
    expect(records.length).toBe(sandbox.state.count('Account', true));
    expect(records.find((r) => r.Id === gone.Id)).toMatchObject({ IsDeleted: 'true', Name: 'Deleted before jsforce looked' });
    expect(Object.keys(records[0])).toEqual(['Id', 'Name', 'IsDeleted']);
    // The job clock made jsforce look three times: twice in progress, then complete.
    expect(sandbox.counters.get('bulkQuery.get') - before).toBe(3);

    const refused = await conn.bulk2.query('SELECT COUNT() FROM Account').then(() => undefined, (e: { errorCode?: string; message: string }) => e);
    expect(refused).toMatchObject({ errorCode: 'API_ERROR', message: 'Aggregate Relationships not supported in Bulk Query' });
  });
});
