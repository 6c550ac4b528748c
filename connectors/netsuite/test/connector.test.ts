import { afterEach, describe, expect, it } from 'vitest';
import type { Page, ReadOptions, SourceRecord } from '../../../src/sync/protocol.js';
import { createNetSuiteConnector, type NetSuiteConnectorOptions } from '../connector.js';
import { NETSUITE_OBJECTS } from '../descriptor.js';
import { ConcurrencyPacer } from '../pacer.js';
import { netsuiteSandboxConfig, startNetSuiteSandbox, type NetSuiteSandbox, type NetSuiteSandboxOptions } from '../sandbox/index.js';

/** The connector against the sandbox account. */

const open: NetSuiteSandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

let accounts = 0;
/** Each test its own account (and so its own process-wide pacer) unless it passes one. */
async function setup(options: NetSuiteSandboxOptions = {}, connectorOptions: NetSuiteConnectorOptions = {}) {
  const sb = await startNetSuiteSandbox({ customers: 0, accountId: `TSTDRV90000${++accounts}`, ...options });
  open.push(sb);
  return { sb, ns: createNetSuiteConnector(netsuiteSandboxConfig(sb), { pacer: new ConcurrencyPacer(10), ...connectorOptions }) };
}

async function readAll(pages: AsyncIterable<Page>): Promise<{ records: SourceRecord[]; pages: Page[] }> {
  const all: Page[] = [];
  for await (const page of pages) all.push(page);
  return { records: all.flatMap((p) => p.records), pages: all };
}

const read = (fields: string[], extra: Partial<ReadOptions> = {}): ReadOptions => ({ cursor: null, fields, ...extra });
const KEY = (n: number) => `5a1e0000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('NetSuite connector against the sandbox', () => {
  it('checks the connection, identifies the account from its token and discovers the records from the metadata catalog', async () => {
    const { sb, ns } = await setup({ companyName: 'Vandelay Industries', concurrencyLimit: 6 });
    const check = await ns.check();
    expect(check).toMatchObject({ ok: true, details: { account: sb.accountId, concurrencyLimit: '6' } });
    // The account's limit is lower than the pacer's ceiling: the pacer follows it.
    expect(ns.pacer.limit.ceiling).toBe(6);
    expect(await ns.identify()).toEqual({ instance: `netsuite:${sb.accountId}`, label: `Vandelay Industries (${sb.accountId})` });

    const specs = await ns.discover();
    expect(specs.map((s) => s.name)).toEqual(NETSUITE_OBJECTS.map((o) => o.name));
    const customer = specs.find((s) => s.name === 'customer')!;
    expect(customer.upsertKeyField).toBe('externalId');
    expect(customer.fields.find((f) => f.name === 'balance')).toMatchObject({ type: 'currency', createable: false, updateable: false, label: 'Balance' });
    expect(customer.fields.find((f) => f.name === 'currency')?.picklistValues).toEqual(['USD', 'GBP', 'CAD', 'EUR', 'AUD']);
    expect(customer.fields.find((f) => f.name === 'terms')?.picklistValues).toContain('Net 30');
    expect(customer.fields.find((f) => f.name === 'billCountry')).toMatchObject({ type: 'picklist' });
    const invoice = specs.find((s) => s.name === 'invoice')!;
    expect(invoice.fields.find((f) => f.name === 'item.items')).toMatchObject({ type: 'list', items: expect.arrayContaining([expect.objectContaining({ name: 'item', type: 'reference' })]) });

    const wrong = createNetSuiteConnector({ ...netsuiteSandboxConfig(sb), accountId: 'TSTDRV0000001' }, { pacer: new ConcurrencyPacer(2) });
    await expect(wrong.identify()).rejects.toThrow(new RegExp(`reach account ${sb.accountId}, not the configured accountId TSTDRV0000001`));
    const badKey = createNetSuiteConnector({ ...netsuiteSandboxConfig(sb), certificateId: 'not-mapped' }, { pacer: new ConcurrencyPacer(2) });
    expect(await badKey.check()).toMatchObject({ ok: false, message: expect.stringMatching(/invalid_grant.*Login Audit Trail/s) });
  });

  it('signs with PS256 when the certificate is an RSA key', async () => {
    const { sb, ns } = await setup({ keyAlgorithm: 'PS256' });
    expect(await ns.check()).toMatchObject({ ok: true });
    expect(sb.auth.loginAudit.at(-1)).toMatchObject({ status: 'Success' });
    expect(() => createNetSuiteConnector({ ...netsuiteSandboxConfig(sb), algorithm: 'ES256' })).toThrow(/ES256 needs an EC key/);
    expect(() => createNetSuiteConnector({ ...netsuiteSandboxConfig(sb), algorithm: 'RS256' as never })).toThrow(/RS256 is refused/);
  });

  it('reads everything, then resumes inside a group of records tied on one lastmodifieddate without skipping or repeating', async () => {
    const { sb, ns } = await setup();
    const at = Date.parse('2024-06-01T12:00:00.000Z');
    const tied = Array.from({ length: 7 }, (_, i) => sb.state.create('customer', { companyName: `Tied ${i}`, subsidiary: { id: '2' } }, { at }).id);
    const later = sb.state.create('customer', { companyName: 'Later', subsidiary: { id: '2' } }, { at: at + 1_000 }).id;

    const first = await readAll(ns.read('customer', read(['companyName', 'currency', 'terms', 'balance', 'isPerson'], { pageSize: 3 })));
    expect(first.records.map((r) => r.id)).toEqual([...tied, later]);
    expect(first.pages.map((p) => p.records.length)).toEqual([3, 3, 2]);
    expect(first.pages[0].cursor).toEqual({ modifiedAt: '2024-06-01T12:00:00.000Z', id: tied[2] });
    expect(first.records[0].fields).toEqual({
      id: tied[0], lastModifiedDate: '2024-06-01T12:00:00.000Z', companyName: 'Tied 0', currency: 'USD', terms: null, balance: 0, isPerson: false,
    });

    const resumed = await readAll(ns.read('customer', read(['companyName'], { cursor: first.pages[0].cursor, pageSize: 2 })));
    expect(resumed.records.map((r) => r.id)).toEqual([...tied.slice(3), later]);
    // The engine moves the cursor back by its lookback and blanks the id: every record of that instant again.
    const window = await readAll(ns.read('customer', read(['companyName'], { cursor: { modifiedAt: '2024-06-01T12:00:00.000Z', id: '' } })));
    expect(window.records.map((r) => r.id)).toEqual([...tied, later]);
    const lookback = await readAll(ns.read('customer', read(['companyName'], { cursor: first.pages.at(-1)!.cursor, lookbackMs: 500 })));
    expect(lookback.records.map((r) => r.id)).toEqual([later]);

    // A user edits two records in NetSuite: reading from the last cursor returns exactly those.
    sb.state.update('customer', tied[4], { comments: 'edited' }, { at: at + 5_000 });
    sb.state.update('customer', tied[0], { comments: 'edited' }, { at: at + 5_000 });
    const next = await readAll(ns.read('customer', read(['comments'], { cursor: first.pages.at(-1)!.cursor })));
    expect(next.records.map((r) => [r.id, r.fields.comments])).toEqual([[tied[0], 'edited'], [tied[4], 'edited']]);
  });

  it('reads a seeded account in full, typed, with the default billing address as flat fields and order lines', async () => {
    const { sb, ns } = await setup({ customers: 30, contactsPerCustomer: 1, ordersPerCustomer: 1, items: 6 });
    const customers = await readAll(ns.read('customer', read(['companyName', 'creditLimit', 'billAddr1', 'billCity', 'billZip', 'billCountry', 'dateCreated'])));
    expect(customers.records).toHaveLength(30);
    const sample = sb.state.all('customer')[3];
    const billing = sample.addressBook!.find((l) => l.defaultBilling)!.address;
    expect(customers.records.find((r) => r.id === sample.id)!.fields).toMatchObject({
      billAddr1: billing.addr1, billCity: billing.city, billZip: billing.zip, billCountry: billing.country,
      creditLimit: sample.body.creditLimit, dateCreated: new Date(sample.createdMs).toISOString(),
    });
    const orders = await readAll(ns.read('salesOrder', read(['entity', 'tranDate', 'status', 'total', 'currency', 'item.items'])));
    expect(orders.records).toHaveLength(sb.state.count('salesOrder'));
    const order = sb.state.all('salesOrder')[0];
    expect(orders.records.find((r) => r.id === order.id)!.fields).toMatchObject({
      entity: order.body.entity, tranDate: order.body.tranDate, total: sb.state.totalOf(order),
      'item.items': order.items!.map((l) => ({ line: String(l.line), item: l.item, description: l.description, quantity: l.quantity, rate: l.rate, amount: l.amount })),
    });
    const invoices = await readAll(ns.read('invoice', read(['status', 'amountRemaining', 'createdFrom'])));
    expect(new Set(invoices.records.map((r) => r.fields.status))).toEqual(new Set(['Open', 'Paid In Full']));
  });

  it('sees deletions through DeletedRecord when asked for them', async () => {
    const { sb, ns } = await setup();
    const a = sb.state.create('customer', { companyName: 'Keeps', subsidiary: { id: '2' } }).id;
    const b = sb.state.create('customer', { companyName: 'Goes', subsidiary: { id: '2' } }).id;
    const before = await readAll(ns.read('customer', read(['companyName'])));
    sb.state.delete('customer', b, { at: sb.state.now() + 2_000 });
    const after = await readAll(ns.read('customer', read(['companyName'], { cursor: before.pages.at(-1)!.cursor, includeDeleted: true })));
    expect(after.records).toEqual([{ id: b, modifiedAt: expect.any(String), deleted: true, fields: {} }]);
    expect(after.pages.at(-1)!.cursor).toEqual(before.pages.at(-1)!.cursor);
    const without = await readAll(ns.read('customer', read(['companyName'], { cursor: before.pages.at(-1)!.cursor })));
    expect(without.records).toEqual([]);
    expect((await ns.readByIds('customer', [a, b], ['companyName'])).map((r) => r.id)).toEqual([a]);

    // A deletion in the very second of the cursor is seen whatever its id (the cursor's id is a live record's).
    const at = Date.parse('2025-03-01T09:00:00.000Z');
    const small = sb.state.create('customer', { companyName: 'Small id', subsidiary: { id: '2' } }, { at: at - 60_000 }).id;
    const big = sb.state.create('customer', { companyName: 'Big id', subsidiary: { id: '2' } }, { at }).id;
    sb.state.delete('customer', small, { at });
    const tie = await readAll(ns.read('customer', read(['companyName'], { cursor: { modifiedAt: new Date(at).toISOString(), id: big }, includeDeleted: true })));
    expect(tie.records.filter((r) => r.deleted).map((r) => r.id)).toContain(small);
  });

  it('reads records by id, leaving out ids that do not exist', async () => {
    const { sb, ns } = await setup({ customers: 5, ordersPerCustomer: 1, contactsPerCustomer: 0, items: 3 });
    const ids = sb.state.all('salesOrder').map((r) => r.id);
    const got = await ns.readByIds('salesOrder', [ids[1], '999999', ids[3], 'not-an-id'], ['total', 'item.items']);
    expect(got.map((r) => r.id).sort()).toEqual([ids[1], ids[3]].sort());
    expect(got.every((r) => Array.isArray(r.fields['item.items']) && (r.fields['item.items'] as unknown[]).length > 0)).toBe(true);
  });

  it('upserts by external id: a create sent twice (as after a crash) makes one record in one request each; an op with the internal id patches it and stamps the key', async () => {
    const { sb, ns } = await setup();
    const fields = { companyName: 'Wayne Enterprises', subsidiary: '2', currency: 'USD', terms: 'Net 30', creditLimit: 25000, billAddr1: '1007 Mountain Dr', billCity: 'Gotham', billCountry: 'US' };
    const [first] = await ns.write('customer', [{ key: KEY(1), fields }]);
    expect(first).toMatchObject({ ok: true, created: true });
    sb.counters.reset();
    const [second] = await ns.write('customer', [{ key: KEY(1), fields: { ...fields, companyName: 'Wayne Enterprises Inc', billCity: 'Gotham City' } }]);
    expect(second).toMatchObject({ ok: true, externalId: first.ok && first.externalId });
    expect(sb.state.count('customer')).toBe(1);
    expect(sb.counters.snapshot()).toEqual({ 'customer.upsert': 1 });
    const rec = sb.state.getByExternalId('customer', KEY(1))!;
    expect(rec.body).toMatchObject({ companyName: 'Wayne Enterprises Inc', currency: '1', terms: '2', creditLimit: 25000, externalId: KEY(1) });
    // The billing line was replaced, not added to.
    expect(rec.addressBook).toHaveLength(1);
    expect(rec.addressBook![0]).toMatchObject({ defaultBilling: true, address: { addr1: '1007 Mountain Dr', city: 'Gotham City', country: 'US' } });

    const userMade = sb.state.create('customer', {
      companyName: 'Made in NetSuite', subsidiary: { id: '3' },
      addressBook: { items: [{ defaultShipping: true, addressBookAddress: { addr1: 'Dock 9', city: 'Leeds', country: 'GB' } }, { defaultBilling: true, addressBookAddress: { addr1: 'Old Street 1', city: 'London', country: 'GB' } }] },
    });
    sb.counters.reset();
    const [patched] = await ns.write('customer', [{ key: KEY(2), externalId: userMade.id, fields: { comments: 'linked by ecosync', billCity: 'Manchester' } }]);
    expect(patched).toEqual({ key: KEY(2), ok: true, externalId: userMade.id, created: false });
    expect(sb.counters.get('customer.update')).toBe(1);
    expect(sb.counters.get('customer.upsert')).toBe(0);
    const linked = sb.state.get('customer', userMade.id)!;
    expect(linked.body).toMatchObject({ comments: 'linked by ecosync', externalId: KEY(2) });
    expect(linked.addressBook!.map((l) => [l.address.addr1, l.address.city, l.defaultBilling])).toEqual([['Dock 9', 'Leeds', false], ['Old Street 1', 'Manchester', true]]);

    const [gone] = await ns.write('customer', [{ key: KEY(3), externalId: '424242', fields: { comments: 'x' } }]);
    expect(gone).toMatchObject({ ok: false, retryable: false, error: { code: 'NONEXISTENT_ID' } });
  });

  it('writes an order\'s lines as item.items, replacing them on update', async () => {
    const { sb, ns } = await setup({ customers: 1, contactsPerCustomer: 0, ordersPerCustomer: 0, items: 3 });
    const customer = sb.state.all('customer')[0].id;
    const [item1, item2] = sb.state.all('inventoryItem').map((r) => r.id);
    const lines = [{ item: item1, quantity: '2', rate: '150.00' }, { item: item2, quantity: 1, amount: 99.5, description: 'Setup' }];
    const [created] = await ns.write('salesOrder', [{ key: KEY(10), fields: { entity: customer, tranDate: '2024-07-01', memo: 'From AWS Marketplace', 'item.items': lines } }]);
    expect(created).toMatchObject({ ok: true, created: true });
    const id = created.ok ? created.externalId : '';
    expect(sb.state.totalOf(sb.state.get('salesOrder', id)!)).toBe(399.5);
    await ns.write('salesOrder', [{ key: KEY(10), externalId: id, fields: { 'item.items': [{ item: item2, quantity: 3, rate: 10 }] } }]);
    const [back] = await ns.readByIds('salesOrder', [id], ['total', 'memo', 'item.items']);
    expect(back.fields).toMatchObject({ total: 30, memo: 'From AWS Marketplace', 'item.items': [{ line: expect.any(String), item: item2, quantity: 3, rate: 10, amount: 30, description: expect.any(String) }] });
  });

  it('reports a refused record with NetSuite\'s code and the flat field named; the others in the batch land', async () => {
    const { sb, ns } = await setup({ customers: 1, contactsPerCustomer: 0, ordersPerCustomer: 0 });
    const results = await ns.write('customer', [
      { key: KEY(20), fields: { companyName: 'Fine', subsidiary: '2' } },
      { key: KEY(21), fields: { companyName: 'Unknown subsidiary', subsidiary: '999' } },
      { key: KEY(22), fields: { companyName: 'Bad limit', subsidiary: '2', creditLimit: 'lots' } },
      { key: KEY(23), fields: { companyName: 'Sets balance', subsidiary: '2', balance: 10 } },
      { key: KEY(24), fields: { companyName: 'Bad country', subsidiary: '2', billCountry: 'XX' } },
      { key: KEY(25), fields: { companyName: 'Bad currency', subsidiary: '2', currency: 'ZZZ' } },
    ]);
    expect(results.map((r) => r.key)).toEqual([20, 21, 22, 23, 24, 25].map(KEY));
    expect(results[0]).toMatchObject({ ok: true });
    expect(results[1]).toMatchObject({ ok: false, retryable: false, error: { fields: ['subsidiary'] } });
    expect(results[2]).toMatchObject({ ok: false, error: { code: 'INVALID_CONTENT', fields: ['creditLimit'] } });
    expect(results[3]).toMatchObject({ ok: false, error: { code: 'INVALID_CONTENT', fields: ['balance'], message: expect.stringMatching(/read-only/) } });
    expect(results[4]).toMatchObject({ ok: false, error: { code: 'INVALID_CONTENT', fields: ['billCountry'] } });
    expect(results[5]).toMatchObject({ ok: false, error: { code: 'INVALID_VALUE', fields: ['currency'], message: expect.stringMatching(/USD, GBP/) } });
    expect(sb.state.count('customer')).toBe(2);

    sb.faults.set({ recordFailureRate: 1 });
    const [changed] = await ns.write('customer', [{ key: KEY(20), fields: { comments: 'again' } }]);
    expect(changed).toMatchObject({ ok: false, retryable: true, error: { code: 'RCRD_HAS_BEEN_CHANGED' } });
  });

  it('puts a customer created without a subsidiary (one from a CRM) in the root subsidiary, or the connection\'s defaultSubsidiary', async () => {
    const { sb, ns } = await setup({ companyName: 'Vandelay Industries', customers: 1, contactsPerCustomer: 0, ordersPerCustomer: 0 });
    const root = sb.state.all('subsidiary').find((s) => s.body.parent === null)!;
    const other = sb.state.all('subsidiary').find((s) => s.body.parent !== null)!;
    const [made] = await ns.write('customer', [{ key: KEY(30), fields: { companyName: 'From the CRM' } }]);
    expect(made).toMatchObject({ ok: true, created: true });
    expect(sb.state.get('customer', made.ok ? made.externalId : '')!.body.subsidiary).toBe(root.id);
    // An update never moves a customer to another subsidiary.
    const [edited] = await ns.write('customer', [{ key: KEY(30), externalId: made.ok ? made.externalId : '', fields: { comments: 'edited' } }]);
    expect(edited).toMatchObject({ ok: true, created: false });
    expect(sb.state.get('customer', made.ok ? made.externalId : '')!.body.subsidiary).toBe(root.id);

    const configured = createNetSuiteConnector({ ...netsuiteSandboxConfig(sb), defaultSubsidiary: other.id }, { pacer: new ConcurrencyPacer(10) });
    const [placed] = await configured.write('customer', [{ key: KEY(31), fields: { companyName: 'Placed' } }]);
    expect(sb.state.get('customer', placed.ok ? placed.externalId : '')!.body.subsidiary).toBe(other.id);
  });

  it('writes currency by ISO code and terms by name, reading the account\'s lists again when it meets one it does not know', async () => {
    const { sb, ns } = await setup();
    const [first] = await ns.write('customer', [{ key: KEY(40), fields: { companyName: 'Swiss', subsidiary: '2', currency: 'CHF', terms: 'Net 30' } }]);
    expect(first).toMatchObject({ ok: false, error: { code: 'INVALID_VALUE', fields: ['currency'] } });
    // An administrator adds the currency in NetSuite.
    const idNum = sb.state.allocateId('currency');
    sb.state.commit({ type: 'currency', id: String(idNum), idNum, body: { name: 'Swiss Franc', symbol: 'CHF', isBaseCurrency: false, exchangeRate: 1.1, externalId: null }, createdMs: 0, modifiedMs: 0 });
    const [second] = await ns.write('customer', [{ key: KEY(40), fields: { companyName: 'Swiss', subsidiary: '2', currency: 'CHF', terms: 'Net 30' } }]);
    expect(second).toMatchObject({ ok: true, created: true });
    expect(sb.state.getByExternalId('customer', KEY(40))!.body).toMatchObject({ currency: String(idNum), terms: '2' });
  });

  it('deletes by internal id; a record already gone counts as deleted', async () => {
    const { sb, ns } = await setup();
    const id = sb.state.create('contact', { lastName: 'Gone', company: { id: sb.state.create('customer', { companyName: 'C', subsidiary: { id: '2' } }).id } }).id;
    const results = await ns.delete('contact', [{ key: KEY(30), externalId: id }, { key: KEY(31), externalId: '777777' }]);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(sb.state.get('contact', id)).toBeUndefined();
  });

  it('renews an access token NetSuite refuses (401) once, transparently, and renews one about to expire before using it', async () => {
    let clock = Date.parse('2025-01-01T00:00:00Z');
    const now = () => clock;
    const { sb, ns } = await setup({ customers: 2, contactsPerCustomer: 0, ordersPerCustomer: 0, now }, { now });
    expect(await ns.readByIds('customer', [sb.state.all('customer')[0].id], ['companyName'])).toHaveLength(1);
    expect(sb.counters.get('token')).toBe(1);

    sb.auth.expireTokens();
    expect(await ns.readByIds('customer', [sb.state.all('customer')[0].id], ['companyName'])).toHaveLength(1);
    expect(sb.counters.get('token')).toBe(2);
    expect(sb.counters.get('refused.login')).toBe(1);

    // An hour later (both clocks): the connector renews before sending, so NetSuite refuses nothing.
    clock += 3_600_000;
    expect(await ns.readByIds('customer', [sb.state.all('customer')[1].id], ['companyName'])).toHaveLength(1);
    expect(sb.counters.get('token')).toBe(3);
    expect(sb.counters.get('refused.login')).toBe(1);
  });
});
