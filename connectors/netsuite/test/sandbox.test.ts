import { existsSync, readFileSync, statSync } from 'node:fs';
import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startNetSuiteSandbox, type NetSuiteSandbox, type NetSuiteSandboxOptions } from '../sandbox/index.js';
import { accessToken, assertion, ASSERTION_TYPE, call, firstSettled, rsaKeys, suiteql, tokenRequest } from './helpers.js';

/** The sandbox over raw HTTP: NetSuite's routes, shapes and refusals. */

const open: NetSuiteSandbox[] = [];
async function sandbox(options: NetSuiteSandboxOptions = {}): Promise<{ sb: NetSuiteSandbox; token: string }> {
  const sb = await startNetSuiteSandbox(options);
  open.push(sb);
  return { sb, token: await accessToken(sb) };
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe('NetSuite sandbox record service', () => {
  let sb: NetSuiteSandbox;
  let token: string;
  beforeAll(async () => {
    sb = await startNetSuiteSandbox({ customers: 12, contactsPerCustomer: 1, ordersPerCustomer: 1, items: 5 });
    token = await accessToken(sb);
  });
  afterAll(() => sb.close());

  it('creates with POST (204 and Location), reads it back with ?fields and expandSubResources, patches it and deletes it', async () => {
    const created = await call(sb, token, 'POST', '/record/v1/customer', {
      companyName: 'Hooli Cloud', subsidiary: { id: '2' }, email: 'ap@hooli.example.com', creditLimit: 5000,
      addressBook: { items: [{ defaultBilling: true, addressBookAddress: { addr1: '1 Hacker Way', city: 'Palo Alto', state: 'CA', zip: '94025', country: 'US' } }] },
    });
    expect(created.status).toBe(204);
    const location = created.headers.get('location')!;
    expect(location).toMatch(new RegExp(`^${sb.url}/record/v1/customer/\\d+$`));
    const id = location.split('/').pop()!;

    const full = await call(sb, token, 'GET', `/record/v1/customer/${id}?expandSubResources=true`);
    expect(full.status).toBe(200);
    expect(full.body).toMatchObject({
      id, companyName: 'Hooli Cloud', creditLimit: 5000, balance: 0, isPerson: false,
      subsidiary: { id: '2', refName: expect.stringMatching(/ US$/) }, currency: { id: '1', refName: 'US Dollar' },
      entityId: `CUST${id}`,
    });
    expect(full.body.lastModifiedDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    expect(full.body.dateCreated).toBe(full.body.lastModifiedDate);
    const [line] = full.body.addressBook.items;
    expect(line).toMatchObject({ defaultBilling: true, addressBookAddress: { addr1: '1 Hacker Way', city: 'Palo Alto', country: { id: 'US', refName: 'United States' } } });

    const collapsed = await call(sb, token, 'GET', `/record/v1/customer/${id}`);
    expect(collapsed.body.addressBook).toEqual({ links: [{ rel: 'self', href: `${location}/addressBook` }] });
    const few = await call(sb, token, 'GET', `/record/v1/customer/${id}?fields=companyName,email`);
    expect(Object.keys(few.body).sort()).toEqual(['companyName', 'email', 'id', 'links']);

    // The address line is keyed by its id: a PATCH naming it updates it in place.
    const patched = await call(sb, token, 'PATCH', `/record/v1/customer/${id}`, { phone: '+1 650 555 0100', addressBook: { items: [{ id: line.id, addressBookAddress: { city: 'Mountain View' } }] } });
    expect(patched.status).toBe(204);
    const after = sb.state.get('customer', id)!;
    expect(after.body.phone).toBe('+1 650 555 0100');
    expect(after.addressBook).toHaveLength(1);
    expect(after.addressBook![0].address).toMatchObject({ addr1: '1 Hacker Way', city: 'Mountain View' });

    expect((await call(sb, token, 'DELETE', `/record/v1/customer/${id}`)).status).toBe(204);
    const gone = await call(sb, token, 'GET', `/record/v1/customer/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ title: 'Not Found', status: 404, 'o:errorDetails': [{ 'o:errorCode': 'NONEXISTENT_ID' }] });
    expect(sb.state.deleted.at(-1)).toMatchObject({ type: 'customer', id, name: 'Hooli Cloud' });
  });

  it('upserts by external id with PUT eid:, and eid: works for GET, PATCH and DELETE too', async () => {
    const body = { companyName: 'Initech', subsidiary: { id: '2' } };
    const first = await call(sb, token, 'PUT', '/record/v1/customer/eid:eco-initech', body);
    expect(first.status).toBe(204);
    const id = first.headers.get('location')!.split('/').pop();
    const second = await call(sb, token, 'PUT', '/record/v1/customer/eid:eco-initech', { ...body, companyName: 'Initech Inc' });
    expect(second.headers.get('location')!.split('/').pop()).toBe(id);
    const got = await call(sb, token, 'GET', '/record/v1/customer/eid:eco-initech');
    expect(got.body).toMatchObject({ id, externalId: 'eco-initech', companyName: 'Initech Inc' });
    expect((await call(sb, token, 'PATCH', '/record/v1/customer/eid:eco-initech', { comments: 'via eid' })).status).toBe(204);
    expect(sb.state.get('customer', id!)!.body.comments).toBe('via eid');
    expect((await call(sb, token, 'DELETE', '/record/v1/customer/eid:eco-initech')).status).toBe(204);
    expect((await call(sb, token, 'GET', '/record/v1/customer/eid:eco-initech')).status).toBe(404);
    const byId = await call(sb, token, 'PUT', '/record/v1/customer/123', body);
    expect(byId.status).toBe(400);
    expect(byId.body['o:errorDetails'][0].detail).toMatch(/eid:/);
  });

  it('lists records in pages of limit with offset, with next, last and self links', async () => {
    const all = sb.state.all('customer').map((r) => r.id);
    const page1 = await call(sb, token, 'GET', '/record/v1/customer?limit=5');
    expect(page1.body).toMatchObject({ count: 5, hasMore: true, offset: 0, totalResults: all.length });
    expect(page1.body.items.map((i: { id: string }) => i.id)).toEqual(all.slice(0, 5));
    expect(page1.body.items[0].links).toEqual([{ rel: 'self', href: `${sb.url}/record/v1/customer/${all[0]}` }]);
    const rels = Object.fromEntries(page1.body.links.map((l: { rel: string; href: string }) => [l.rel, l.href]));
    expect(rels.next).toBe(`${sb.url}/record/v1/customer?limit=5&offset=5`);
    expect(rels.last).toBe(`${sb.url}/record/v1/customer?limit=5&offset=${Math.floor((all.length - 1) / 5) * 5}`);
    const next = await fetch(rels.next, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json()) as { items: { id: string }[]; offset: number };
    expect(next.items.map((i) => i.id)).toEqual(all.slice(5, 10));
    const tooBig = await call(sb, token, 'GET', '/record/v1/customer?limit=1001');
    expect(tooBig.body['o:errorDetails'][0]).toMatchObject({ 'o:errorCode': 'INVALID_PARAMETER', 'o:errorQueryParam': 'limit' });
  });

  it('refuses missing mandatory fields, references to records that do not exist and wrong types, each with its path, in NetSuite\'s error shape', async () => {
    const missing = await call(sb, token, 'POST', '/record/v1/customer', { email: 'x@example.com' });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ type: 'https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1', title: 'Bad Request', status: 400 });
    expect(missing.body['o:errorDetails']).toEqual(expect.arrayContaining([
      { detail: 'Error while accessing a resource. Please enter value(s) for: Primary Subsidiary.', 'o:errorCode': 'USER_ERROR', 'o:errorPath': 'subsidiary' },
      { detail: 'Error while accessing a resource. Please enter value(s) for: Company Name.', 'o:errorCode': 'USER_ERROR', 'o:errorPath': 'companyName' },
    ]));

    const order = await call(sb, token, 'POST', '/record/v1/salesOrder', { entity: { id: '100' }, item: { items: [{ item: { id: '9999' }, quantity: 1 }] } });
    expect(order.body['o:errorDetails']).toEqual([{
      detail: 'Error while accessing resource: You have entered an Invalid Field Value 9999 for the following field: item',
      'o:errorCode': 'INVALID_CONTENT', 'o:errorPath': 'item.items[0].item',
    }]);
    const noLines = await call(sb, token, 'POST', '/record/v1/invoice', { entity: { id: '100' } });
    expect(noLines.body['o:errorDetails'][0]).toMatchObject({ 'o:errorCode': 'USER_ERROR', 'o:errorPath': 'item' });
    const person = await call(sb, token, 'POST', '/record/v1/contact', { firstName: 'Ada', company: { id: '99999' } });
    expect(person.body['o:errorDetails'][0]).toMatchObject({ 'o:errorCode': 'INVALID_CONTENT', 'o:errorPath': 'company' });

    const types = await call(sb, token, 'POST', '/record/v1/customer', { companyName: 'T', subsidiary: '2', creditLimit: 'lots', email: 'not an email', noSuchField: 1 });
    const paths = types.body['o:errorDetails'].map((d: { 'o:errorPath': string }) => d['o:errorPath']).sort();
    expect(paths).toEqual(['creditLimit', 'email', 'noSuchField', 'subsidiary']);
    // X-NetSuite-PropertyNameValidation: Ignore lets unknown fields through.
    const lenient = await call(sb, token, 'POST', '/record/v1/customer', { companyName: 'Lenient', subsidiary: { id: '2' }, noSuchField: 1 }, { 'x-netsuite-propertynamevalidation': 'Ignore' });
    expect(lenient.status).toBe(204);
  });

  it('refuses read-only fields: balance, lastModifiedDate, dateCreated and a transaction\'s total', async () => {
    const customer = await call(sb, token, 'PATCH', '/record/v1/customer/100', { balance: 0, lastModifiedDate: '2024-01-01T00:00:00Z', dateCreated: '2024-01-01T00:00:00Z' });
    expect(customer.status).toBe(400);
    expect(customer.body['o:errorDetails'].map((d: { 'o:errorPath': string; 'o:errorCode': string }) => [d['o:errorPath'], d['o:errorCode']])).toEqual([
      ['balance', 'INVALID_CONTENT'], ['lastModifiedDate', 'INVALID_CONTENT'], ['dateCreated', 'INVALID_CONTENT'],
    ]);
    const order = await call(sb, token, 'POST', '/record/v1/salesOrder', { entity: { id: '100' }, total: 1, item: { items: [{ item: { id: '500' } }] } });
    expect(order.body['o:errorDetails']).toEqual([expect.objectContaining({ 'o:errorPath': 'total', detail: expect.stringMatching(/read-only/) })]);
  });

  it('computes a transaction\'s total from its lines and a customer\'s balance from its open invoices', async () => {
    const customer = sb.state.all('customer')[1].id;
    const created = await call(sb, token, 'POST', '/record/v1/invoice', { entity: { id: customer }, item: { items: [{ item: { id: '500' }, quantity: 3, rate: 120 }, { item: { id: '501' }, amount: 45.5 }] } });
    const id = created.headers.get('location')!.split('/').pop()!;
    const inv = await call(sb, token, 'GET', `/record/v1/invoice/${id}?expandSubResources=true`);
    expect(inv.body).toMatchObject({ total: 405.5, amountRemaining: 405.5, status: { id: 'A', refName: 'Open' }, tranId: expect.stringMatching(/^INV\d+$/) });
    expect(inv.body.item.items.map((l: { quantity: number; rate: number; amount: number }) => [l.quantity, l.rate, l.amount])).toEqual([[3, 120, 360], [1, 45.5, 45.5]]);
    const before = sb.state.balanceOf(customer);
    sb.state.payInvoice(id, 100);
    expect(sb.state.balanceOf(customer)).toBe(before - 100);
    sb.state.payInvoice(id);
    expect((await call(sb, token, 'GET', `/record/v1/invoice/${id}`)).body.status).toEqual({ id: 'B', refName: 'Paid In Full' });
    // Item lines are not keyed: PATCH adds lines, ?replace=item replaces them.
    await call(sb, token, 'PATCH', `/record/v1/invoice/${id}`, { item: { items: [{ item: { id: '502' }, quantity: 1, rate: 10 }] } });
    expect(sb.state.get('invoice', id)!.items).toHaveLength(3);
    await call(sb, token, 'PATCH', `/record/v1/invoice/${id}?replace=item`, { item: { items: [{ item: { id: '502' }, quantity: 2, rate: 10 }] } });
    expect(sb.state.get('invoice', id)!.items!.map((l) => l.amount)).toEqual([20]);
  });

  it('serves the metadata catalog as JSON Schema', async () => {
    const list = await call(sb, token, 'GET', '/record/v1/metadata-catalog');
    expect(list.body.items.map((i: { name: string }) => i.name)).toEqual(expect.arrayContaining(['customer', 'contact', 'inventoryItem', 'salesOrder', 'invoice']));
    const schema = await call(sb, token, 'GET', '/record/v1/metadata-catalog/customer', undefined, { accept: 'application/schema+json' });
    expect(schema.headers.get('content-type')).toMatch(/application\/schema\+json/);
    expect(schema.body.properties.balance).toMatchObject({ title: 'Balance', type: 'number', readOnly: true });
    expect(schema.body.properties.subsidiary).toMatchObject({ type: 'object', links: [{ rel: 'describedby', href: `${sb.url}/record/v1/metadata-catalog/subsidiary` }] });
    expect(schema.body.properties.lastModifiedDate).toMatchObject({ type: 'string', format: 'date-time', readOnly: true });
  });

  it('answers governanceLimits with the account\'s concurrency limit', async () => {
    const limits = await call(sb, token, 'GET', '/system/v1/governanceLimits');
    expect(limits.body).toEqual({ accountConcurrencyLimit: 15, accountUnallocatedConcurrencyLimit: 15, integrationLimitType: 'accountLimit' });
  });
});

describe('NetSuite sandbox SuiteQL', () => {
  let sb: NetSuiteSandbox;
  let token: string;
  beforeAll(async () => {
    sb = await startNetSuiteSandbox({ customers: 40, contactsPerCustomer: 1, ordersPerCustomer: 1, items: 6 });
    token = await accessToken(sb);
  });
  afterAll(() => sb.close());

  it('needs Prefer: transient', async () => {
    const res = await suiteql(sb, token, 'SELECT id FROM customer', '', false);
    expect(res.status).toBe(400);
    expect(res.body['o:errorDetails'][0]).toMatchObject({ 'o:errorHeader': 'Prefer' });
  });

  it('pages with limit and offset in the collection envelope; values are strings, empty ones left out, names in lower case', async () => {
    const q = 'SELECT c.id, c.companyName AS Name, c.creditlimit FROM customer c ORDER BY c.id';
    const first = await suiteql(sb, token, q, '?limit=15');
    expect(first.body).toMatchObject({ count: 15, hasMore: true, offset: 0, totalResults: 40 });
    const rels = Object.fromEntries(first.body.links.map((l: { rel: string; href: string }) => [l.rel, l.href]));
    expect(rels).toMatchObject({ next: `${sb.url}/query/v1/suiteql?limit=15&offset=15`, last: `${sb.url}/query/v1/suiteql?limit=15&offset=30` });
    const ids: string[] = [];
    for (let offset = 0; ; offset += 15) {
      const page = await suiteql(sb, token, q, `?limit=15&offset=${offset}`);
      ids.push(...page.body.items.map((i: { id: string }) => i.id));
      if (!page.body.hasMore) break;
    }
    expect(ids).toEqual(sb.state.all('customer').map((r) => r.id));
    const item = first.body.items[0];
    expect(item.links).toEqual([]);
    expect(typeof item.id).toBe('string');
    expect(item.name).toBe(sb.state.all('customer')[0].body.companyName);
    const noLimit = sb.state.all('customer').find((r) => r.body.creditLimit === null)!;
    const row = (await suiteql(sb, token, `SELECT id, creditlimit FROM customer WHERE id = ${noLimit.id}`)).body.items[0];
    expect(row).toEqual({ links: [], id: noLimit.id });
    expect((await suiteql(sb, token, q, '?limit=1001')).body['o:errorDetails'][0]['o:errorQueryParam']).toBe('limit');
  });

  it('filters with comparisons, LIKE, IN, IS NULL, AND/OR/NOT and parentheses, and on lastmodifieddate through TO_TIMESTAMP', async () => {
    const customers = sb.state.all('customer');
    const pivot = customers[10].modifiedMs;
    const stamp = new Date(pivot).toISOString().slice(0, 19).replace('T', ' ');
    const expected = customers
      .filter((r) => r.modifiedMs > pivot || (r.modifiedMs === pivot && r.idNum > customers[10].idNum))
      .sort((a, b) => a.modifiedMs - b.modifiedMs || a.idNum - b.idNum)
      .map((r) => r.id);
    const after = await suiteql(sb, token, `SELECT id, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD"T"HH24:MI:SS') AS modified FROM customer
      WHERE lastmodifieddate > TO_TIMESTAMP('${stamp}', 'YYYY-MM-DD HH24:MI:SS') OR (lastmodifieddate = TO_TIMESTAMP('${stamp}', 'YYYY-MM-DD HH24:MI:SS') AND id > ${customers[10].id})
      ORDER BY lastmodifieddate, id`);
    expect(after.body.items.map((i: { id: string }) => i.id)).toEqual(expected);
    expect(after.body.items[0].modified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);

    const gb = customers.filter((r) => r.body.currency === '2' && r.body.creditLimit === null).map((r) => r.id);
    const filtered = await suiteql(sb, token, "SELECT c.id FROM customer c JOIN currency cur ON cur.id = c.currency WHERE cur.symbol IN ('GBP') AND c.creditlimit IS NULL AND NOT (c.isinactive = 'T') ORDER BY c.id");
    expect(filtered.body.items.map((i: { id: string }) => i.id)).toEqual(gb);
    const like = await suiteql(sb, token, "SELECT id FROM customer WHERE companyname LIKE 'Acme%' OR companyname LIKE '%Labs%'");
    expect(like.body.totalResults).toBe(customers.filter((r) => /^Acme|Labs/.test(String(r.body.companyName))).length);
    // The default billing address through the customer's defaultbillingaddress.
    const address = await suiteql(sb, token, `SELECT c.id, ba.city, ba.country FROM customer c LEFT JOIN entityaddress ba ON ba.nkey = c.defaultbillingaddress WHERE c.id = ${customers[0].id}`);
    const billing = customers[0].addressBook!.find((l) => l.defaultBilling)!;
    expect(address.body.items[0]).toMatchObject({ city: billing.address.city, country: billing.address.country });
    // A DATE column without TO_CHAR comes back as the account's date format.
    const plain = await suiteql(sb, token, `SELECT lastmodifieddate FROM customer WHERE id = ${customers[0].id}`);
    const d = new Date(customers[0].modifiedMs);
    expect(plain.body.items[0].lastmodifieddate).toBe(`${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()}`);
  });

  it('selects transactions by type, their lines with negative sales quantities, aggregates and DeletedRecord', async () => {
    const orders = sb.state.all('salesOrder');
    const byType = await suiteql(sb, token, "SELECT type, COUNT(*) AS n FROM transaction GROUP BY type ORDER BY type");
    expect(byType.body.items).toEqual([
      { links: [], type: 'CustInvc', n: String(sb.state.count('invoice')) },
      { links: [], type: 'SalesOrd', n: String(orders.length) },
    ]);
    const lines = await suiteql(sb, token, `SELECT tl.item, tl.quantity, tl.rate, tl.netamount FROM transactionline tl WHERE tl.transaction = ${orders[0].id} AND tl.mainline = 'F' ORDER BY tl.linesequencenumber`);
    expect(lines.body.items.map((l: { quantity: string }) => Number(l.quantity))).toEqual(orders[0].items!.map((l) => -l.quantity));
    sb.state.delete('contact', sb.state.all('contact')[0].id);
    const deleted = await suiteql(sb, token, "SELECT recordid, recordtypeid, TO_CHAR(deleteddate, 'YYYY-MM-DD') AS day FROM deletedrecord WHERE recordtypeid = 'contact'");
    expect(deleted.body.items).toHaveLength(1);
  });

  it('refuses what it cannot answer in NetSuite\'s error shape rather than answering wrongly', async () => {
    for (const q of [
      'SELECT id FROM customer WHERE id IN (SELECT entity FROM transaction)',
      'SELECT DISTINCT companyname FROM customer',
      'SELECT id FROM customer UNION SELECT id FROM contact',
      'SELECT CASE WHEN id > 1 THEN 1 END FROM customer',
      'SELECT id FROM nosuchtable',
      'SELECT nosuchcolumn FROM customer',
      'DELETE FROM customer',
      "SELECT id FROM customer WHERE lastmodifieddate > '2024-01-01'",
    ]) {
      const res = await suiteql(sb, token, q);
      expect(res.status, q).toBe(400);
      expect(res.body['o:errorDetails'][0]['o:errorCode'], q).toBe('INVALID_PARAMETER');
      expect(res.body['o:errorDetails'][0].detail, q).toMatch(/^Invalid search query\. Detailed unprocessed description follows\. Search error occurred: /);
    }
  });
});

describe('NetSuite sandbox OAuth 2.0 client credentials', () => {
  it('issues a bearer token for a good assertion; its claims name the account; the key file is written for the user', async () => {
    const { sb } = await sandbox({ customers: 0 });
    const res = await tokenRequest(sb, { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(sb) });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ expires_in: 3600, token_type: 'bearer' });
    const claims = decodeJwt(String(res.body.access_token));
    expect(claims.jti).toMatch(new RegExp(`^${sb.accountId}\\.a\\.`));
    expect(claims.aud).toContain(sb.clientId);
    expect(readFileSync(sb.privateKeyPath, 'utf8')).toBe(sb.privateKey);
    expect(statSync(sb.privateKeyPath).mode & 0o777).toBe(0o600);
    await sb.close();
    open.splice(open.indexOf(sb), 1);
    expect(existsSync(sb.privateKeyPath)).toBe(false);
  });

  it('refuses expired, tampered, RS256, wrong-audience, long-lived and scope-less assertions, an unknown kid and an unknown client', async () => {
    const { sb } = await sandbox({ customers: 0 });
    const nowSec = Math.floor(sb.state.now() / 1000);
    const rsa = rsaKeys();
    sb.auth.registerCertificate('rsa-cert', rsa.publicKey);
    const good = await assertion(sb);
    const [head, body, signature] = good.split('.');
    const forged = Buffer.from(JSON.stringify({ ...decodeJwt(good), iss: 'someone-else' })).toString('base64url');
    const cases: [string, string, string][] = [
      ['expired', await assertion(sb, { iat: nowSec - 900, exp: nowSec - 600 }), 'invalid_grant'],
      ['tampered', `${head}.${forged}.${signature}`, 'invalid_grant'],
      ['bad signature', `${head}.${body}.${signature.slice(0, -4)}AAAA`, 'invalid_grant'],
      ['RS256', await assertion(sb, { alg: 'RS256', kid: 'rsa-cert', key: rsa.privateKey }), 'invalid_grant'],
      ['wrong audience', await assertion(sb, { aud: 'https://example.com/token' }), 'invalid_grant'],
      ['over an hour', await assertion(sb, { exp: nowSec + 3700 }), 'invalid_grant'],
      ['no rest_webservices scope', await assertion(sb, { scope: ['restlets'] }), 'invalid_grant'],
      ['unknown kid', await assertion(sb, { kid: 'nope' }), 'invalid_grant'],
      ['unknown client', await assertion(sb, { iss: 'not-our-client' }), 'invalid_client'],
    ];
    for (const [name, jwt, error] of cases) {
      const res = await tokenRequest(sb, { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: jwt });
      expect(res.body, name).toEqual({ error });
      expect(res.status, name).toBe(error === 'invalid_client' ? 401 : 400);
    }
    // PS256 with the RSA certificate is fine; the Login Audit Trail tells each refusal's reason.
    const ps = await tokenRequest(sb, { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(sb, { alg: 'PS256', kid: 'rsa-cert', key: rsa.privateKey }) });
    expect(ps.status).toBe(200);
    const details = sb.auth.loginAudit.map((e) => e.detail);
    expect(details).toEqual(expect.arrayContaining(['ExpiredJWT', 'InvalidSignature', expect.stringMatching(/^UnsupportedAlgorithm \(RS256/), expect.stringMatching(/^InvalidCertificateId/)]));
    expect((await tokenRequest(sb, { grant_type: 'password' })).body).toEqual({ error: 'unsupported_grant_type' });
  });

  it('answers 401 INVALID_LOGIN to a missing, unknown or expired access token', async () => {
    const { sb, token } = await sandbox({ customers: 1, tokenLifetimeSec: 600 });
    expect((await call(sb, token, 'GET', '/record/v1/customer/100')).status).toBe(200);
    const none = await fetch(`${sb.url}/record/v1/customer/100`);
    expect(none.status).toBe(401);
    expect((await call(sb, 'made-up', 'GET', '/record/v1/customer/100')).status).toBe(401);
    sb.state.advanceClock(601_000);
    const expired = await call(sb, token, 'GET', '/record/v1/customer/100');
    expect(expired.status).toBe(401);
    expect(expired.body['o:errorDetails'][0]).toMatchObject({ 'o:errorCode': 'INVALID_LOGIN', detail: expect.stringMatching(/Login Audit Trail/) });
    expect(sb.auth.loginAudit.at(-1)!.detail).toBe('AccessTokenExpired');
  });
});

describe('NetSuite sandbox governance and faults', () => {
  it('answers 429 to requests beyond the concurrency limit while N are in flight', async () => {
    const { sb, token } = await sandbox({ customers: 1, concurrencyLimit: 2 });
    const release = sb.concurrency.hold();
    const requests = Array.from({ length: 5 }, () => call(sb, token, 'GET', '/record/v1/customer/100'));
    const refused = await firstSettled(requests, 3);
    expect(refused.map((r) => r.status)).toEqual([429, 429, 429]);
    expect(refused[0].body).toMatchObject({ status: 429, title: 'Too Many Requests', 'o:errorDetails': [{ 'o:errorCode': 'CONCURRENCY_LIMIT_EXCEEDED' }] });
    await sb.concurrency.whenInFlight(2);
    release();
    const all = await Promise.all(requests);
    expect(all.map((r) => r.status).sort()).toEqual([200, 200, 429, 429, 429]);
    expect(sb.concurrency.maxInFlight).toBe(2);
    expect(sb.counters.get('refused.concurrency')).toBe(3);
    // Once the account has room again, requests go through.
    expect((await call(sb, token, 'GET', '/record/v1/customer/100')).status).toBe(200);
  });

  it('injects rate limits, server errors and record failures from the shared fault plan', async () => {
    const { sb, token } = await sandbox({ customers: 1 });
    sb.faults.set({ rateLimitRate: 1 });
    const limited = await call(sb, token, 'GET', '/record/v1/customer/100');
    expect(limited.status).toBe(429);
    expect(limited.body['o:errorDetails'][0]['o:errorCode']).toBe('REQUEST_LIMIT_EXCEEDED');
    sb.faults.set({ serverErrorRate: 1, endpoints: /^suiteql$/ });
    expect((await suiteql(sb, token, 'SELECT id FROM customer')).status).toBe(500);
    expect((await call(sb, token, 'GET', '/record/v1/customer/100')).status).toBe(200);
    sb.faults.set({ recordFailureRate: 1 });
    const failed = await call(sb, token, 'PATCH', '/record/v1/customer/100', { comments: 'x' });
    expect(failed.body['o:errorDetails'][0]['o:errorCode']).toBe('RCRD_HAS_BEEN_CHANGED');
    sb.faults.set({});
    expect(sb.counters.get('customer.get')).toBe(2);
    expect(sb.counters.get('customer.update')).toBe(1);
  });
});
