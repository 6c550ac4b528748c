/**
 * An invoice the sync brings in from NetSuite wakes its customer's drawdown ledger at once (real
 * Temporal, the NetSuite sandbox, the whole sync pipeline): the ledger gets its line without
 * waiting for the daily run.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Commitment } from '../../src/model/index.js';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { drawdownState } from '../../src/service/drawdown-control.js';
import { hubView } from '../support/hub-view.js';
import { ERP_HUB, TestHub } from '../support/hub.js';
import { eventually, startTestTemporal } from '../support/temporal.js';

let env: TestWorkflowEnvironment;
let hub: TestHub;
beforeAll(async () => {
  env = await startTestTemporal();
  hub = await TestHub.start(env, await bundleWorkflows(), { store: 'pglite', ns: { customers: 1, contactsPerCustomer: 0, ordersPerCustomer: 2 } });
}, 120_000);
afterAll(async () => {
  await hub?.close();
  await env?.teardown();
});

describe('drawdown woken by the sync', () => {
  it('judges a customer\'s invoice as soon as the sync brings it in', async () => {
    const ns = hub.ns!;
    const connection = await hub.connect({ ...ERP_HUB });
    const first = await hub.sync(connection);
    expect(first.status, first.error).toBe('succeeded');

    // The NetSuite customer's canonical account, and a MACC for it: no ledger runs yet.
    const view = hubView(hub.store, connection.id);
    const [customer] = ns.state.all('customer');
    const accountId = (await view.link('netsuite', 'customer', customer.id))!.canonicalId;
    const entityOf = (e: unknown) => (e && typeof e === 'object' ? String((e as { id: unknown }).id) : String(e));
    const invoices = ns.state.all('invoice').filter((i) => entityOf(i.body.entity) === customer.id);
    expect(invoices.length).toBeGreaterThan(0);
    // In the customer's currency: the ledger converts only at a rate recorded with the document.
    const [synced] = await hub.store.records.findByField(connection.id, 'Invoice', 'accountId', [accountId], 1);
    const macc = Commitment.parse({
      id: '0190f0a0-0005-7000-8000-0000000000c2', accountId, cloud: 'azure', program: 'macc', amount: '100000.00', currency: synced.data.currency,
      startDate: '2020-01-01', endDate: '2030-12-31', ruleSet: 'azure-macc',
    });
    await hub.store.commitments.create(connection.id, macc);
    expect(await drawdownState({ client: env.client, taskQueue: hub.taskQueue }, macc.id)).toBeUndefined();

    // Finance edits the invoice's memo: the next cycle reads it, and its customer's ledger runs.
    ns.state.update('invoice', invoices[0].id, { memo: 'Azure Marketplace, March' });
    const second = await hub.sync(connection);
    expect(second.status, second.error).toBe('succeeded');
    const state = await eventually(async () => {
      const s = await drawdownState({ client: env.client, taskQueue: hub.taskQueue }, macc.id);
      return s && s.runs >= 1 && s;
    }, 60_000, 'the ledger woken by the invoice');
    const link = (await view.link('netsuite', 'invoice', invoices[0].id))!;
    const ledger = (await hub.store.commitments.ledger(macc.id)).map((r) => r.entry);
    expect(ledger.map((e) => e.sourceId)).toContain(`invoice:${link.canonicalId}`);
    expect(ledger.every((e) => e.sourceKind === 'invoice')).toBe(true);
    expect(state.last).toMatchObject({ ledgerLines: ledger.length, pending: 0 });
  });
});
