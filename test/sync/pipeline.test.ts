/**
 * syncPage writes and saves one page while it reads and plans the next. These tests make the
 * overlap certain (small pages, slow HubSpot writes) and check what it must not change: the
 * cursor only ever covers committed records, a record re-read in the next page is planned
 * against the committed state, counters are exact, and a failing write fails the activity with
 * the cursor at the last committed page.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { AuthError, type Connector, type Page } from '../../src/sync/protocol.js';
import { createConnector } from '../../connectors/registry.js';
import { startHubSpotSandbox, type HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.js';
import { startSalesforceSandbox, type SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.js';
import { createHubs } from '../../src/activities/hubs.js';
import { createSyncActivities } from '../../src/activities/sync.js';
import { mappingCache } from '../../src/runtime/mappings.js';
import type { Store } from '../../src/store/index.js';
import { compareCursor } from '../../src/sync/cursor.js';
import type { HubState } from '../../src/sync/ports.js';
import { openTestStore, type TestStore } from '../store/stores.js';
import { CRM_HUB, crmCredentials, onlyEntities } from '../support/hub.js';

const PAGE = 5;
const ACCOUNTS = 20;

interface Rig { sf: SalesforceSandbox; hs: HubSpotSandbox; db: TestStore }
let rig: Rig | undefined;
afterEach(async () => {
  if (!rig) return;
  await Promise.all([rig.sf.close(), rig.hs.close()]);
  await rig.db.close();
  rig = undefined;
});

async function setUp(options: { failHubSpotWrite?: number }) {
  const [db, sf, hs] = await Promise.all([openTestStore('pglite'), startSalesforceSandbox({ accounts: ACCOUNTS }), startHubSpotSandbox({ companies: 0 })]);
  rig = { db, sf, hs };
  const connection = await db.store.connections.create({
    name: 'pipeline', ...CRM_HUB, entities: onlyEntities('Account'), deletePolicy: 'propagate', credentials: crmCredentials(sf, hs),
  });
  const instance = `salesforce:${sf.orgId}`;
  const seen = { records: [] as { id: string; modifiedAt: string }[], pagesRead: 0, lookups: 0, writesSpanningALookup: 0, hubspotWrites: 0, cursorViolations: [] as string[] };

  // Salesforce in pages of five; the first record of page one comes again at the head of page
  // two, as a record edited between the two reads would.
  const salesforce = (inner: Connector): Connector => wrap(inner, {
    read: (object: string, options: Parameters<Connector['read']>[1]) => (async function* (): AsyncGenerator<Page> {
      const all = [];
      for await (const page of inner.read(object, options)) all.push(...page.records);
      seen.records = all.map((r) => ({ id: r.id, modifiedAt: r.modifiedAt }));
      for (let i = 0; i < all.length; i += PAGE) {
        const records = all.slice(i, i + PAGE);
        if (i === PAGE) records.unshift(all[0]);
        const last = records[records.length - 1];
        seen.pagesRead++;
        yield { records, cursor: { modifiedAt: last.modifiedAt, id: last.id } };
      }
    })(),
  });
  const hubspot = (inner: Connector): Connector => wrap(inner, {
    write: async (object: string, ops: Parameters<Connector['write']>[1]) => {
      const call = ++seen.hubspotWrites;
      const lookupsBefore = seen.lookups;
      await new Promise((r) => setTimeout(r, 40));
      if (call === options.failHubSpotWrite) throw new AuthError('token revoked');
      const results = await inner.write(object, ops);
      if (seen.lookups > lookupsBefore) seen.writesSpanningALookup++;
      return results;
    },
    maxBatchSize: () => PAGE,
  });

  // Planning starts by looking up the page's links; the cursor may only cover Salesforce
  // records the store already links.
  const watched = (state: HubState): HubState => ({
    ...state,
    linksByExternalIds: (...args) => { seen.lookups++; return state.linksByExternalIds(...args); },
    saveCursor: async (at, object, cursor) => {
      if (cursor) {
        const ids = seen.records.filter((r) => compareCursor(r, cursor) <= 0).map((r) => r.id);
        const linked = await state.linksByExternalIds(instance, 'Account', ids);
        if (linked.length !== ids.length) seen.cursorViolations.push(`${cursor.modifiedAt} ${cursor.id}: ${linked.length}/${ids.length} committed`);
      }
      return state.saveCursor(at, object, cursor);
    },
  });
  const store = new Proxy(db.store, {
    get: (target, key) => (key === 'hub' ? (id: string) => watched(target.hub(id)) : Reflect.get(target, key)),
  }) as Store;

  const mappings = mappingCache();
  const log = pino({ level: 'silent' });
  const hubs = createHubs({
    store,
    connectorFor: (system, credentials) => (system === 'salesforce' ? salesforce : hubspot)(createConnector(system, credentials)),
    mappingFor: (file) => mappings.get(file),
    log,
  });
  const activities = createSyncActivities({ store, hubs, log, pageBudgetMs: 60_000 });
  const syncAccounts = () => activities.syncPage({ connectionId: connection.id, runId: 'run', entity: 'Account', source: 'salesforce', mode: 'incremental', lookback: true });
  const storedCursor = () => db.store.cursors.get(connection.id, instance, 'Account');
  return { seen, syncAccounts, storedCursor, hs };
}

function wrap(inner: Connector, overrides: Partial<Record<keyof Connector, unknown>>): Connector {
  return new Proxy(inner, {
    get(target, key) {
      if (Object.hasOwn(overrides, key)) return overrides[key as keyof Connector];
      const value = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('syncPage overlaps consecutive pages', () => {
  it('plans the next page while the previous one writes, yet ends exactly as pages run in turn', async () => {
    const { seen, syncAccounts, storedCursor, hs } = await setUp({});
    const result = await syncAccounts();

    expect(seen.pagesRead).toBe(ACCOUNTS / PAGE);
    expect(seen.writesSpanningALookup).toBeGreaterThan(0);
    expect(seen.cursorViolations).toEqual([]);
    // The record read twice is planned against its committed state: created once, then unchanged.
    expect(result.counters).toMatchObject({ read: ACCOUNTS + 1, created: ACCOUNTS, unchanged: 1, failed: 0 });
    expect(result.more).toBe(false);
    expect(hs.state.live('companies')).toHaveLength(ACCOUNTS);
    expect(await storedCursor()).toEqual(result.cursor);
    expect(result.cursor).not.toBeNull();
  }, 60_000);

  it('a write failing on page three fails the activity after the page in flight settles; the cursor stays at page two', async () => {
    const { seen, syncAccounts, storedCursor, hs } = await setUp({ failHubSpotWrite: 3 });
    await expect(syncAccounts()).rejects.toMatchObject({ type: 'AuthError', nonRetryable: true });

    expect(seen.cursorViolations).toEqual([]);
    // Pages one and two committed (the second re-reads one record of the first: five new).
    expect(hs.state.live('companies')).toHaveLength(2 * PAGE);
    const cursor = await storedCursor();
    expect(cursor).not.toBeNull();
    // Nothing written after the failure: page four was at most planned.
    expect(seen.hubspotWrites).toBe(3);
    const afterSecondPage = await syncAccounts();
    expect(afterSecondPage.counters).toMatchObject({ created: ACCOUNTS - 2 * PAGE, failed: 0 });
    expect(hs.state.live('companies')).toHaveLength(ACCOUNTS);
  }, 60_000);
});
