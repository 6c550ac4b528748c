import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@hubspot/api-client';
import { afterEach, describe, expect, it } from 'vitest';
import { SANDBOX_PORTAL_ID, startHubSpotSandbox, type HubSpotSandbox, type HubSpotSandboxOptions } from '../sandbox/index.js';

/** The unmodified SDK against the sandbox: the wire format must be what the SDK's models read. */
const open: HubSpotSandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function sandbox(options: HubSpotSandboxOptions = {}) {
  const sb = await startHubSpotSandbox(options);
  open.push(sb);
  return { sb, client: new Client({ accessToken: sb.accessToken, basePath: sb.url }) };
}

/** The SDK rejects with an ApiException carrying the status and HubSpot's error body. */
async function apiError(promise: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown>; headers: Record<string, string> }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: number; body: Record<string, unknown>; headers: Record<string, string> };
  }
  throw new Error('expected the call to fail');
}

type Op = 'EQ' | 'GT' | 'GTE' | 'LT' | 'IN' | 'HAS_PROPERTY' | 'BETWEEN';
const filter = (propertyName: string, operator: Op, value?: string, extra: object = {}) => ({ propertyName, operator, value, ...extra }) as never;

describe('HubSpot sandbox through @hubspot/api-client', () => {
  it('pages the list API by id with limit and after, and refuses limits above 100', async () => {
    const { sb, client } = await sandbox({ companies: 25, contactsPerCompany: 0, dealsPerCompany: 0 });
    const ids: string[] = [];
    let after: string | undefined;
    do {
      const page = await client.crm.companies.basicApi.getPage(10, after, ['name', 'industry']);
      ids.push(...page.results.map((r) => r.id));
      expect(page.results[0].properties).toHaveProperty('industry');
      expect(page.results[0].createdAt).toBeInstanceOf(Date);
      after = page.paging?.next?.after;
    } while (after);
    expect(ids).toHaveLength(25);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids)).toEqual(new Set(sb.state.live('companies').map((r) => r.id)));
    const tooMany = await apiError(client.crm.companies.basicApi.getPage(101));
    expect(tooMany.code).toBe(400);
    expect(tooMany.body.category).toBe('VALIDATION_ERROR');
  });

  it('searches with ORed filter groups of ANDed filters, sorted, with offset paging and a total', async () => {
    const { sb, client } = await sandbox({ companies: 300, contactsPerCompany: 0, dealsPerCompany: 0 });
    const groups = [
      { filters: [filter('industry', 'EQ', 'Finance')] },
      { filters: [filter('industry', 'EQ', 'Retail'), filter('numberofemployees', 'GT', '20000')] },
    ];
    const expected = sb.state.live('companies')
      .filter((r) => r.properties.industry === 'Finance' || (r.properties.industry === 'Retail' && Number(r.properties.numberofemployees) > 20_000))
      .sort((a, b) => Number(b.properties.numberofemployees) - Number(a.properties.numberofemployees) || a.idNum - b.idNum)
      .map((r) => r.id);
    expect(expected.length).toBeGreaterThan(30);
    const got: string[] = [];
    let after = '0';
    for (;;) {
      const res = await client.crm.companies.searchApi.doSearch({
        filterGroups: groups, sorts: ['-numberofemployees'], properties: ['name', 'numberofemployees'], limit: 25, after,
      });
      expect(res.total).toBe(expected.length);
      got.push(...res.results.map((r) => r.id));
      if (!res.paging?.next?.after) break;
      after = res.paging.next.after;
    }
    expect(got).toEqual(expected);

    const between = await client.crm.companies.searchApi.doSearch({
      filterGroups: [{ filters: [filter('numberofemployees', 'BETWEEN', '100', { highValue: '5000' }), filter('country', 'IN', undefined, { values: ['US', 'CA'] })] }],
      sorts: ['hs_object_id'], limit: 200, after: '0', properties: [],
    });
    const betweenExpected = sb.state.live('companies')
      .filter((r) => Number(r.properties.numberofemployees) >= 100 && Number(r.properties.numberofemployees) <= 5000 && ['US', 'CA'].includes(r.properties.country ?? ''))
      .map((r) => r.id);
    expect(between.results.map((r) => r.id)).toEqual(betweenExpected);

    const sixGroups = await apiError(client.crm.companies.searchApi.doSearch({ filterGroups: Array(6).fill(groups[0]), limit: 10, after: '0', sorts: [], properties: [] }));
    expect(sixGroups.code).toBe(400);
    const sevenFilters = await apiError(client.crm.companies.searchApi.doSearch({ filterGroups: [{ filters: Array(7).fill(filter('name', 'HAS_PROPERTY')) }], limit: 10, after: '0', sorts: [], properties: [] }));
    expect(sevenFilters.code).toBe(400);
    const bigPage = await apiError(client.crm.companies.searchApi.doSearch({ filterGroups: [], limit: 201, after: '0', sorts: [], properties: [] }));
    expect(bigPage.code).toBe(400);
  });

  it('caps a search at 10,000 results: the page ending at 10,000 works, asking past it is a 400', async () => {
    const { client } = await sandbox({ companies: 10_050, contactsPerCompany: 0, dealsPerCompany: 0 });
    const search = (after: string) => client.crm.companies.searchApi.doSearch({
      filterGroups: [], sorts: ['hs_lastmodifieddate'], properties: ['name'], limit: 100, after,
    });
    const last = await search('9900');
    expect(last.total).toBe(10_050);
    expect(last.results).toHaveLength(100);
    expect(last.paging?.next?.after).toBe('10000');
    const past = await apiError(search('10000'));
    expect(past.code).toBe(400);
    expect(past.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
    expect(String(past.body.message)).toMatch(/10000/);
  });

  it('batch upsert by ecosync_id creates, then updates the same records; 207 names each failed input', async () => {
    const { sb, client } = await sandbox();
    const inputs: { id: string; idProperty: string; properties: Record<string, string>; objectWriteTraceId: string }[] = [
      { id: 'eco-1', idProperty: 'ecosync_id', properties: { name: 'One', industry: 'Finance' }, objectWriteTraceId: 't1' },
      { id: 'eco-2', idProperty: 'ecosync_id', properties: { name: 'Two', industry: 'Bakery' }, objectWriteTraceId: 't2' },
      { id: 'eco-3', idProperty: 'ecosync_id', properties: { name: 'Three', colour: 'red' }, objectWriteTraceId: 't3' },
    ];
    const first = await client.crm.companies.batchApi.upsert({ inputs });
    expect(first.results.map((r) => [r.properties.ecosync_id, r._new])).toEqual([['eco-1', true]]);
    const errors = (first as { errors?: { category: string; context: Record<string, string[]>; errors: { code: string }[] }[] }).errors ?? [];
    expect(errors.map((e) => [e.context.objectWriteTraceId[0], e.category, e.errors[0].code])).toEqual([
      ['t2', 'VALIDATION_ERROR', 'INVALID_OPTION'],
      ['t3', 'VALIDATION_ERROR', 'PROPERTY_DOESNT_EXIST'],
    ]);
    const again = await client.crm.companies.batchApi.upsert({ inputs: [{ id: 'eco-1', idProperty: 'ecosync_id', properties: { name: 'One renamed' } }] });
    expect(again.results[0]).toMatchObject({ id: first.results[0].id, _new: false });
    expect(sb.state.count('companies')).toBe(1);
    expect(sb.state.getByExternalId('companies', 'eco-1')?.properties.name).toBe('One renamed');

    const nonUnique = await apiError(client.crm.companies.batchApi.upsert({ inputs: [{ id: 'x', idProperty: 'name', properties: {} }] }));
    expect(nonUnique.code).toBe(400);
    const many = Array.from({ length: 101 }, (_, i) => ({ properties: { name: `c${i}` } }));
    const tooMany = await apiError(client.crm.companies.batchApi.create({ inputs: many }));
    expect(tooMany.code).toBe(400);
    expect(tooMany.body.category).toBe('VALIDATION_ERROR');
  });

  it('associations v4: default associations written singly and in batch, read back in batch', async () => {
    const { sb, client } = await sandbox();
    const company = sb.state.create('companies', { name: 'Acme' });
    const deals = [1, 2, 3].map((i) => sb.state.create('deals', { dealname: `D${i}`, dealstage: 'qualifiedtobuy' }));
    await client.crm.associations.v4.basicApi.createDefault('deals', deals[0].id, 'companies', company.id);
    const batch = await client.crm.associations.v4.batchApi.createDefault('deals', 'companies', {
      inputs: [{ _from: { id: deals[1].id }, to: { id: company.id } }],
    });
    expect(batch.results[0].associationSpec.associationTypeId).toBe(341);
    const read = await client.crm.associations.v4.batchApi.getPage('deals', 'companies', { inputs: deals.map((d) => ({ id: d.id })) });
    expect(read.results.map((r) => [r._from.id, String(r.to[0].toObjectId)])).toEqual([[deals[0].id, company.id], [deals[1].id, company.id]]);
    const none = (read as { errors?: { context: { fromObjectId: string[] } }[] }).errors ?? [];
    expect(none.map((e) => e.context.fromObjectId[0])).toEqual([deals[2].id]);
    const withAssoc = await client.crm.deals.basicApi.getById(deals[0].id, ['dealname'], undefined, ['companies']);
    expect(withAssoc.associations?.companies.results.map((a) => a.id)).toEqual([company.id]);
    const contact = await client.crm.contacts.basicApi.create({ properties: { email: 'ada@example.com', associatedcompanyid: company.id } });
    expect(sb.state.associations('companies', company.id, 'contacts')).toEqual([contact.id]);
  });

  it('answers a bad token with 401 and HubSpot error JSON', async () => {
    const { sb } = await sandbox();
    const bad = new Client({ accessToken: 'pat-na1-wrong', basePath: sb.url });
    const error = await apiError(bad.crm.companies.basicApi.getPage(1));
    expect(error.code).toBe(401);
    expect(error.body).toMatchObject({ status: 'error', category: 'INVALID_AUTHENTICATION' });
  });

  it('rate limits with TEN_SECONDLY_ROLLING then DAILY, with the X-HubSpot-RateLimit headers', async () => {
    const { sb, client } = await sandbox({ tenSecondLimit: 2, dailyLimit: 3, rateWindowMs: 60_000 });
    const ok = await client.crm.companies.basicApi.getPageWithHttpInfo(1);
    expect(ok.headers['x-hubspot-ratelimit-max']).toBe('2');
    expect(ok.headers['x-hubspot-ratelimit-remaining']).toBe('1');
    expect(ok.headers['x-hubspot-ratelimit-daily-remaining']).toBe('2');
    await client.crm.companies.basicApi.getPage(1);
    const secondly = await apiError(client.crm.companies.basicApi.getPage(1));
    expect(secondly.code).toBe(429);
    expect(secondly.body).toMatchObject({ status: 'error', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' });
    expect(secondly.headers['x-hubspot-ratelimit-interval-milliseconds']).toBe('60000');
    sb.limits.configure({ tenSecondLimit: undefined });
    await client.crm.companies.basicApi.getPage(1);
    const daily = await apiError(client.crm.companies.basicApi.getPage(1));
    expect(daily.code).toBe(429);
    expect(daily.body).toMatchObject({ policyName: 'DAILY', errorType: 'RATE_LIMIT' });
    expect(sb.counters.get('companies.list')).toBe(5);
  });

  it('lets search lag writes by the configured time', async () => {
    const { client } = await sandbox({ searchLagMs: 150 });
    await client.crm.companies.batchApi.upsert({ inputs: [{ id: 'late', idProperty: 'ecosync_id', properties: { name: 'Late' } }] });
    const search = () => client.crm.companies.searchApi.doSearch({
      filterGroups: [{ filters: [filter('ecosync_id', 'EQ', 'late')] }], limit: 10, after: '0', sorts: [], properties: [],
    });
    expect((await search()).total).toBe(0);
    const deadline = Date.now() + 5_000;
    let total = 0;
    while (total === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      total = (await search()).total;
    }
    expect(total).toBe(1);
  });

  it('answers the account details API like HubSpot, as the portal it was given, counted and faulted like other routes', async () => {
    const { sb, client } = await sandbox({ portalId: 4455667 });
    expect(sb.portalId).toBe(4455667);
    // The SDK has no client for account-info; its generic call brings the SDK's auth and base path.
    const details = () => client.apiRequest({ method: 'GET', path: '/account-info/v3/details' });
    const res = await details();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await res.json() as Record<string, unknown>;
    expect(body).toEqual({
      portalId: 4455667, accountType: 'STANDARD', timeZone: 'UTC', companyCurrency: 'USD',
      additionalCurrencies: expect.any(Array), utcOffset: '+00:00', utcOffsetMilliseconds: 0,
      uiDomain: 'app.hubspot.com', dataHostingLocation: 'na1',
    });
    expect(sb.counters.get('account-info.details')).toBe(1);

    sb.faults.set({ serverErrorRate: 1, endpoints: /^account-info\./ });
    const failed = await details();
    expect(failed.status).toBe(502);
    expect(await failed.json()).toMatchObject({ status: 'error', category: 'INTERNAL_ERROR' });
    sb.faults.set({ rateLimitRate: 1, endpoints: /^account-info\./ });
    const limited = await details();
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' });
    // Faults aimed at the account details leave the CRM alone.
    await client.crm.companies.basicApi.getPage(1);
    expect(sb.counters.get('account-info.details')).toBe(3);

    const bad = new Client({ accessToken: 'pat-na1-wrong', basePath: sb.url });
    const refused = await bad.apiRequest({ method: 'GET', path: '/account-info/v3/details' });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ category: 'INVALID_AUTHENTICATION' });
  });

  it('is portal SANDBOX_PORTAL_ID unless told otherwise, and refuses a portal id HubSpot could not have', async () => {
    const { sb, client } = await sandbox();
    expect(sb.portalId).toBe(SANDBOX_PORTAL_ID);
    const res = await client.apiRequest({ method: 'GET', path: '/account-info/v3/details' });
    expect(await res.json()).toMatchObject({ portalId: SANDBOX_PORTAL_ID });
    await expect(startHubSpotSandbox({ portalId: 0 })).rejects.toThrow(/portalId/);
    await expect(startHubSpotSandbox({ portalId: 2 ** 31 })).rejects.toThrow(/portalId/);
  });

  it('sends webhook events from the portal id it was given', async () => {
    const bodies: string[] = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const targetUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const { sb } = await sandbox({ portalId: 9876543, companies: 1, contactsPerCompany: 0, dealsPerCompany: 0, webhooks: { targetUrl, clientSecret: 'secret' } });
      const [company] = sb.state.live('companies');
      sb.state.update('companies', company.id, { name: 'Renamed' });
      await sb.webhooks.idle();
      const events = bodies.flatMap((b) => JSON.parse(b) as { portalId: number }[]);
      expect(events.length).toBeGreaterThan(0);
      expect(events.every((e) => e.portalId === 9876543)).toBe(true);
    } finally {
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });

  it('generates the same portal for the same seed', async () => {
    const a = await sandbox({ seed: 7, companies: 20 });
    const b = await sandbox({ seed: 7, companies: 20 });
    const snapshot = (sb: HubSpotSandbox) => sb.state.live('deals').map((r) => [r.properties, sb.state.associations('deals', r.id, 'companies')]);
    expect(snapshot(a.sb)).toEqual(snapshot(b.sb));
    expect(a.sb.state.count('contacts')).toBe(40);
  });
});
