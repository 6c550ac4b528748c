import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ECOSYNC_ID_FIELD, SALESFORCE_API_VERSION } from '../descriptor.js';
import { startSalesforceSandbox, type SalesforceSandbox } from '../sandbox/index.js';

/**
 * The Salesforce sandbox against the REST API Developer Guide: every resource jsforce calls for
 * records — versions, resources, limits, describe global, sObject basic information and describe,
 * sObject rows (by id and by external id), get deleted/updated, query, queryAll and nextRecordsUrl,
 * sObject Collections (create, retrieve by GET and POST, update, upsert, delete) — is walked through
 * the unmodified jsforce. Each answer's status must be the one the guide gives and its body the
 * guide's shape; each refusal must carry the guide's error code. A recording proxy between jsforce
 * and the sandbox sees the wire.
 */

// ---- the guide's shapes -----------------------------------------------------------------------

const ErrorArray = z.array(z.object({ message: z.string(), errorCode: z.string(), fields: z.array(z.string()).optional() })).min(1);
const SaveError = z.object({ statusCode: z.string(), message: z.string(), fields: z.array(z.string()) });
const SaveResult = z.object({ id: z.string().optional(), success: z.boolean(), errors: z.array(SaveError) });
const UpsertResult = SaveResult.extend({ created: z.boolean() });
const Attributes = z.object({ type: z.string(), url: z.string() });
const SObject = z.looseObject({ attributes: Attributes });
const QueryResult = z.object({ totalSize: z.number().int(), done: z.boolean(), nextRecordsUrl: z.string().optional(), records: z.array(SObject) });
const Limit = z.object({ Max: z.number().int(), Remaining: z.number().int() });
const DescribeField = z.looseObject({
  name: z.string(), label: z.string(), type: z.string(), length: z.number().int(), nillable: z.boolean(), createable: z.boolean(), updateable: z.boolean(),
  externalId: z.boolean(), picklistValues: z.array(z.looseObject({ value: z.string(), active: z.boolean() })), referenceTo: z.array(z.string()),
});
const ObjectUrls = z.looseObject({ sobject: z.string(), describe: z.string(), rowTemplate: z.string() });
const GlobalObject = z.looseObject({ name: z.string(), label: z.string(), keyPrefix: z.string().nullable(), queryable: z.boolean(), createable: z.boolean(), urls: ObjectUrls });
const Describe = GlobalObject.extend({ fields: z.array(DescribeField) });
const sfDateTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);

// ---- the wire, as a proxy between jsforce and the sandbox sees it ------------------------------

interface Exchange { method: string; path: string; status: number; body: unknown }
const exchanges: Exchange[] = [];
let sandbox: SalesforceSandbox;
let proxy: Server;
let conn: jsforce.Connection;
const v = `/services/data/v${SALESFORCE_API_VERSION}`;
const ids: Record<string, string> = {};

beforeAll(async () => {
  sandbox = await startSalesforceSandbox({ accounts: 3, contactsPerAccount: 1, opportunitiesPerAccount: 1 });
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', async () => {
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k))) as Record<string, string>;
      const answer = await fetch(`${sandbox.url}${req.url}`, { method: req.method, headers, body: chunks.length > 0 ? Buffer.concat(chunks) : undefined });
      const text = await answer.text();
      exchanges.push({ method: req.method!, path: req.url!, status: answer.status, body: text && answer.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text || undefined });
      res.writeHead(answer.status, Object.fromEntries([...answer.headers].filter(([k]) => !['content-length', 'transfer-encoding', 'connection', 'keep-alive'].includes(k))));
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const token = await (await fetch(`${sandbox.url}/services/oauth2/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: sandbox.credentials.clientId, client_secret: sandbox.credentials.clientSecret, username: sandbox.credentials.username, password: sandbox.credentials.password }),
  })).json() as { access_token: string };
  conn = new jsforce.Connection({ instanceUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, accessToken: token.access_token, version: SALESFORCE_API_VERSION });
  ids.account = (await conn.query<{ Id: string }>('SELECT Id FROM Account LIMIT 1')).records[0].Id;
});
afterAll(async () => {
  await new Promise((resolve) => proxy?.close(resolve));
  await sandbox?.close();
});

// ---- the resources the guide documents, and how each is walked ---------------------------------

interface Operation {
  /** The guide's resource: method and URI. */
  op: string;
  /** The status the guide gives for success and the body's shape (null: no body). */
  status: number;
  shape: z.ZodType | null;
  run(): PromiseLike<unknown>;
  check?(result: any, exchange: Exchange): void | Promise<void>;
}

const accountFields = (n: string) => ({ Name: `Conformance ${n}`, Industry: 'Technology', [ECOSYNC_ID_FIELD]: `conf-${n}-${Math.random()}` });

const OPERATIONS: Operation[] = [
  { op: 'GET /services/data/', status: 200, shape: z.array(z.object({ label: z.string(), url: z.string(), version: z.string() })), run: () => conn.request('/services/data/') },
  { op: 'GET /services/data/vXX.X/', status: 200, shape: z.record(z.string(), z.string()), run: () => conn.request(`${v}/`), check: (r) => expect(r).toMatchObject({ sobjects: `${v}/sobjects`, query: `${v}/query` }) },
  { op: 'GET /services/data/vXX.X/limits', status: 200, shape: z.record(z.string(), Limit), run: () => conn.limits(), check: (r) => expect(r.DailyApiRequests.Max).toBeGreaterThan(0) },
  {
    op: 'GET /services/data/vXX.X/sobjects', status: 200, shape: z.object({ encoding: z.string(), maxBatchSize: z.number().int(), sobjects: z.array(GlobalObject) }),
    run: () => conn.describeGlobal(), check: (r) => expect(r.sobjects.map((o: { name: string }) => o.name)).toEqual(expect.arrayContaining(['Account', 'Contact', 'Opportunity'])),
  },
  {
    op: 'GET /services/data/vXX.X/sobjects/{sObject}', status: 200, shape: z.object({ objectDescribe: GlobalObject, recentItems: z.array(SObject) }),
    run: () => conn.request(`${v}/sobjects/Account`), check: (r) => expect(r.recentItems.length).toBeGreaterThan(0),
  },
  {
    op: 'GET /services/data/vXX.X/sobjects/{sObject}/describe', status: 200, shape: Describe,
    run: () => conn.describe('Opportunity'), check: (d) => expect(d.fields.find((f: { name: string }) => f.name === 'StageName').picklistValues.length).toBeGreaterThan(0),
  },
  {
    op: 'POST /services/data/vXX.X/sobjects/{sObject}', status: 201, shape: SaveResult,
    run: () => conn.sobject('Account').create(accountFields('single')), check: (r) => { ids.single = r.id; expect(r.success).toBe(true); },
  },
  {
    op: 'GET /services/data/vXX.X/sobjects/{sObject}/{id}', status: 200, shape: SObject,
    run: () => conn.sobject('Account').retrieve(ids.single, { fields: ['Name', 'Industry'] }), check: (r) => expect(r).toMatchObject({ Name: 'Conformance single', Industry: 'Technology' }),
  },
  { op: 'PATCH /services/data/vXX.X/sobjects/{sObject}/{id}', status: 204, shape: null, run: () => conn.sobject('Account').update({ Id: ids.single, Phone: '+1 555 0100' }) },
  {
    op: 'PATCH /services/data/vXX.X/sobjects/{sObject}/{fieldName}/{fieldValue}', status: 201, shape: UpsertResult,
    run: () => conn.sobject('Account').upsert({ Name: 'By external id', [ECOSYNC_ID_FIELD]: 'conf-ext-1' }, ECOSYNC_ID_FIELD),
    check: async (r) => {
      expect(r.created).toBe(true);
      // The same external id again updates the record: 200 and created false.
      await conn.sobject('Account').upsert({ Name: 'By external id, again', [ECOSYNC_ID_FIELD]: 'conf-ext-1' }, ECOSYNC_ID_FIELD);
      expect(exchanges.at(-1)).toMatchObject({ status: 200, body: { id: r.id, created: false } });
    },
  },
  {
    op: 'GET /services/data/vXX.X/sobjects/{sObject}/{fieldName}/{fieldValue}', status: 200, shape: SObject,
    run: () => conn.request(`${v}/sobjects/Account/${ECOSYNC_ID_FIELD}/conf-ext-1`), check: (r) => expect(r.Name).toBe('By external id, again'),
  },
  { op: 'DELETE /services/data/vXX.X/sobjects/{sObject}/{id}', status: 204, shape: null, run: () => conn.sobject('Account').destroy(ids.single) },
  {
    op: 'GET /services/data/vXX.X/sobjects/{sObject}/deleted/?start=&end=', status: 200,
    shape: z.object({ deletedRecords: z.array(z.object({ id: z.string(), deletedDate: sfDateTime })), earliestDateAvailable: sfDateTime, latestDateCovered: sfDateTime }),
    run: () => conn.sobject('Account').deleted(new Date(Date.now() - 60_000), new Date(Date.now() + 60_000)),
    check: (r) => expect(r.deletedRecords.map((d: { id: string }) => d.id)).toContain(ids.single),
  },
  {
    op: 'GET /services/data/vXX.X/sobjects/{sObject}/updated/?start=&end=', status: 200, shape: z.object({ ids: z.array(z.string()), latestDateCovered: sfDateTime }),
    run: () => conn.sobject('Account').updated(new Date(Date.now() - 60_000), new Date(Date.now() + 60_000)),
    check: (r) => expect(r.ids.length).toBeGreaterThan(0),
  },
  {
    op: 'GET /services/data/vXX.X/query/?q=', status: 200, shape: QueryResult,
    run: () => conn.query('SELECT Id, Name FROM Account ORDER BY Id'), check: (r) => expect(r.records.length).toBe(r.totalSize),
  },
  {
    op: 'GET /services/data/vXX.X/queryAll/?q=', status: 200, shape: QueryResult,
    run: () => conn.query('SELECT Id, IsDeleted FROM Account WHERE IsDeleted = true').scanAll(true), check: (r) => expect(r.records.map((x: { Id: string }) => x.Id)).toContain(ids.single),
  },
  {
    op: 'GET {nextRecordsUrl}', status: 200, shape: QueryResult,
    run: async () => {
      const first = await conn.request({ method: 'GET', url: `${v}/query?q=${encodeURIComponent('SELECT Id FROM Contact')}`, headers: { 'Sforce-Query-Options': 'batchSize=200' } }) as { nextRecordsUrl?: string; done: boolean };
      expect(first.done).toBe(true);
      // A page of 200 over more records than that: seed them through Collections, then page.
      const more = Array.from({ length: 200 }, (_, i) => ({ LastName: `Pager ${i}` }));
      await conn.sobject('Contact').create(more);
      const paged = await conn.request({ method: 'GET', url: `${v}/query?q=${encodeURIComponent('SELECT Id FROM Contact')}`, headers: { 'Sforce-Query-Options': 'batchSize=200' } }) as { nextRecordsUrl: string };
      expect(paged.nextRecordsUrl).toMatch(new RegExp(`^${v}/query/01g`));
      return conn.queryMore(paged.nextRecordsUrl);
    },
    check: (r) => expect(r.done).toBe(true),
  },
  {
    op: 'POST /services/data/vXX.X/composite/sobjects', status: 200, shape: z.array(SaveResult),
    run: () => conn.sobject('Account').create([accountFields('a'), accountFields('b'), { Name: '' }]),
    check: (r) => {
      expect(r.map((x: { success: boolean }) => x.success)).toEqual([true, true, false]);
      expect(r[2].errors[0]).toMatchObject({ statusCode: 'REQUIRED_FIELD_MISSING', fields: ['Name'] });
      ids.a = r[0].id;
      ids.b = r[1].id;
    },
  },
  {
    op: 'POST /services/data/vXX.X/composite/sobjects/{sObject}', status: 200, shape: z.array(SObject.nullable()),
    run: () => conn.sobject('Account').retrieve([ids.a, ids.b, '001000000000000AAA'], { fields: ['Name'] }),
    check: (r) => expect(r.map((x: { Name: string } | null) => x?.Name ?? null)).toEqual(['Conformance a', 'Conformance b', null]),
  },
  {
    op: 'GET /services/data/vXX.X/composite/sobjects/{sObject}?ids=&fields=', status: 200, shape: z.array(SObject.nullable()),
    run: () => conn.request(`${v}/composite/sobjects/Account?ids=${ids.a},${ids.b}&fields=Name,Industry`),
    check: (r) => expect(r.map((x: { Industry: string }) => x.Industry)).toEqual(['Technology', 'Technology']),
  },
  {
    op: 'PATCH /services/data/vXX.X/composite/sobjects', status: 200, shape: z.array(SaveResult),
    run: () => conn.sobject('Account').update([{ Id: ids.a, Industry: 'Finance' }, { Id: ids.b, Industry: 'Mining' }]),
    check: (r) => {
      expect(r[0].success).toBe(true);
      expect(r[1].errors[0]).toMatchObject({ statusCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', fields: ['Industry'] });
    },
  },
  {
    op: 'PATCH /services/data/vXX.X/composite/sobjects/{sObject}/{ExternalIdFieldName}', status: 200, shape: z.array(UpsertResult),
    run: () => conn.sobject('Account').upsert([{ Name: 'Upserted 1', [ECOSYNC_ID_FIELD]: 'conf-ext-1' }, { Name: 'Upserted 2', [ECOSYNC_ID_FIELD]: 'conf-ext-2' }], ECOSYNC_ID_FIELD),
    check: (r) => expect(r.map((x: { created: boolean }) => x.created)).toEqual([false, true]),
  },
  {
    op: 'DELETE /services/data/vXX.X/composite/sobjects?ids=', status: 200, shape: z.array(SaveResult),
    run: () => conn.sobject('Account').destroy([ids.a, ids.b]), check: (r) => expect(r.every((x: { success: boolean }) => x.success)).toBe(true),
  },
];

/** What the guide says an org answers to input it does not take. */
interface Refusal {
  name: string;
  run(): PromiseLike<unknown>;
  status: number;
  errorCode: string;
  check?(body: any): void;
}

const query = (soql: string) => () => conn.query(soql);
const REFUSALS: Refusal[] = [
  { name: 'a field the object does not have (INVALID_FIELD)', status: 400, errorCode: 'INVALID_FIELD', run: () => conn.sobject('Account').create({ Name: 'X', Colour__c: 'red' }), check: (b) => expect(b[0]).toMatchObject({ message: "No such column 'Colour__c' on sobject of type Account", fields: ['Colour__c'] }) },
  { name: 'a required field left out (REQUIRED_FIELD_MISSING)', status: 400, errorCode: 'REQUIRED_FIELD_MISSING', run: () => conn.sobject('Opportunity').create({ Name: 'No stage', CloseDate: '2030-01-01' }), check: (b) => expect(b[0]).toMatchObject({ message: 'Required fields are missing: [StageName]', fields: ['StageName'] }) },
  { name: 'a value longer than the field (STRING_TOO_LONG)', status: 400, errorCode: 'STRING_TOO_LONG', run: () => conn.sobject('Account').create({ Name: 'x'.repeat(256) }), check: (b) => expect(b[0].message).toMatch(/^Name: data value too large: x+… \(max length=255\)$/) },
  { name: 'a value not in a restricted picklist (INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST)', status: 400, errorCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', run: () => conn.sobject('Opportunity').create({ Name: 'X', CloseDate: '2030-01-01', StageName: 'Dreaming' }), check: (b) => expect(b[0]).toMatchObject({ message: 'StageName: bad value for restricted picklist field: Dreaming', fields: ['StageName'] }) },
  { name: 'more than 200 records in one collection (EXCEEDED_ID_LIMIT)', status: 400, errorCode: 'EXCEEDED_ID_LIMIT', run: () => conn.sobject('Account').create(Array.from({ length: 201 }, (_, i) => ({ Name: `Too many ${i}` }))), check: (b) => expect(b[0].message).toBe('record limit reached. cannot submit more than 200 records into this call') },
  { name: 'a query that does not parse (MALFORMED_QUERY)', status: 400, errorCode: 'MALFORMED_QUERY', run: query('SELECT Id FROM') },
  { name: 'a query on a column the object does not have (INVALID_FIELD)', status: 400, errorCode: 'INVALID_FIELD', run: query('SELECT Colour__c FROM Account'), check: (b) => expect(b[0].message).toMatch(/^No such column 'Colour__c' on entity 'Account'\..*Please reference your WSDL/) },
  { name: 'a query on an object the org does not have (INVALID_TYPE)', status: 400, errorCode: 'INVALID_TYPE', run: query('SELECT Id FROM Widget__c'), check: (b) => expect(b[0].message).toMatch(/^sObject type 'Widget__c' is not supported\./) },
  { name: 'a query locator that was never issued (INVALID_QUERY_LOCATOR)', status: 400, errorCode: 'INVALID_QUERY_LOCATOR', run: () => conn.queryMore(`${v}/query/01gDn0000000999-2000`) },
  { name: 'a record that does not exist (NOT_FOUND)', status: 404, errorCode: 'NOT_FOUND', run: () => conn.sobject('Account').retrieve('001000000000000AAA') },
  { name: 'an update of a record in the recycle bin (ENTITY_IS_DELETED)', status: 404, errorCode: 'ENTITY_IS_DELETED', run: () => conn.sobject('Account').update({ Id: ids.single, Name: 'Back?' }) },
  { name: 'an upsert on a field that is not an external id (INVALID_FIELD)', status: 400, errorCode: 'INVALID_FIELD', run: () => conn.sobject('Account').upsert({ Name: 'X', Phone: '1' }, 'Phone') },
  { name: 'a collections retrieve of a field the object does not have (INVALID_FIELD)', status: 400, errorCode: 'INVALID_FIELD', run: () => conn.sobject('Account').retrieve([ids.account], { fields: ['Colour__c'] }) },
  { name: 'a body that is not JSON (JSON_PARSER_ERROR)', status: 400, errorCode: 'JSON_PARSER_ERROR', run: () => conn.request({ method: 'POST', url: `${v}/sobjects/Account`, body: '{"Name":', headers: { 'content-type': 'application/json' } }) },
  { name: 'a method the resource does not take (METHOD_NOT_ALLOWED)', status: 405, errorCode: 'METHOD_NOT_ALLOWED', run: () => conn.request({ method: 'PUT', url: `${v}/sobjects/Account/${ids.account}`, body: '{}', headers: { 'content-type': 'application/json' } }), check: (b) => expect(b[0].message).toBe("HTTP Method 'PUT' not allowed. Allowed are GET,PATCH,DELETE") },
  { name: 'a session the org does not know (INVALID_SESSION_ID)', status: 401, errorCode: 'INVALID_SESSION_ID', run: () => new jsforce.Connection({ instanceUrl: conn.instanceUrl, accessToken: 'not-a-session', version: SALESFORCE_API_VERSION }).query('SELECT Id FROM Account') },
];

async function walk(operation: Operation): Promise<void> {
  const before = exchanges.length;
  const result = await operation.run();
  expect(exchanges.length, `${operation.op} made no call`).toBeGreaterThan(before);
  const exchange = exchanges[exchanges.length - 1];
  expect(exchange.status, `${operation.op}: ${JSON.stringify(exchange.body)}`).toBe(operation.status);
  if (operation.shape === null) expect(exchange.body).toBeUndefined();
  else operation.shape.parse(exchange.body);
  await operation.check?.(result, exchange);
}

async function refuse(refusal: Refusal): Promise<void> {
  const error = await Promise.resolve(refusal.run()).then(() => undefined, (e: unknown) => e);
  expect(error, `${refusal.name} was accepted`).toMatchObject({ errorCode: refusal.errorCode });
  const exchange = exchanges[exchanges.length - 1];
  expect(exchange.status).toBe(refusal.status);
  const body = ErrorArray.parse(exchange.body);
  expect(body[0].errorCode).toBe(refusal.errorCode);
  refusal.check?.(exchange.body);
}

describe('Salesforce sandbox conforms to the REST API guide (through jsforce)', () => {
  for (const operation of OPERATIONS) it(operation.op, () => walk(operation));
  describe('refuses as an org refuses', () => {
    for (const refusal of REFUSALS) it(refusal.name, () => refuse(refusal));
  });
});
