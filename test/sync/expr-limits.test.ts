import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_RESULT_CHARS } from '../../src/mapping/expr.js';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { onlyEntities, startTestTemporal, TestHub, withMapping } from '../support/hub.js';
import { mappingVariant } from '../support/mapping-variant.js';

/**
 * A mapping expression whose result grows with the record (40 copies of a field): one record too
 * large for it fails alone, as a dead letter naming the reason, and the rest of the page syncs.
 */
describe('a mapping expression over its size limit on the real Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let bundle: Awaited<ReturnType<typeof bundleWorkflows>>;
  beforeAll(async () => {
    [env, bundle] = await Promise.all([startTestTemporal(), bundleWorkflows()]);
  }, 120_000);
  afterAll(async () => {
    await env?.teardown();
  });

  it('dead-letters the one record it cannot map, with the reason, and syncs the others', async () => {
    const hub = await TestHub.start(env, bundle, { sf: { accounts: 3, contactsPerAccount: 0, opportunitiesPerAccount: 0 } });
    try {
      const copies = Array.from({ length: 40 }, () => 'record.Description').join(' + ');
      const sfAccount = mappingVariant('mappings/salesforce-account.yaml', (t) => {
        const edited = t.replace(/^  description: Description$/m, `  description:\n    expr: 'has(record.Description) ? ${copies} : ""'\n    direction: inbound`);
        expect(edited).not.toBe(t);
        return edited;
      });
      const [big, ...rest] = hub.sfRecords('Account');
      hub.sf.state.update('Account', String(big.Id), { Description: 'x'.repeat(2_000) });
      for (const r of rest) hub.sf.state.update('Account', String(r.Id), { Description: 'ok ' });
      const connection = await hub.connect({ entities: withMapping('Account', 'salesforce', sfAccount, onlyEntities('Account')) });
      const run = await hub.sync(connection);
      expect(run.status, run.error).toBe('succeeded');
      expect(run.counters.failed).toBe(1);

      const letters = await hub.store.deadLetters.list({ connectionId: connection.id, status: 'open' });
      expect(letters.map((l) => [l.system, l.object, l.externalId])).toEqual([['salesforce', 'Account', big.Id]]);
      expect(letters[0].reason).toContain(`the result is 80000 characters, more than the ${MAX_RESULT_CHARS} an expression may produce`);
      for (const r of rest) expect(hub.hubspotTwin('Account', String(r.Id), 'companies')?.properties.description).toBe('ok '.repeat(40));
      expect(hub.hubspotTwin('Account', String(big.Id), 'companies')).toBeUndefined();
    } finally {
      await hub.close();
    }
  });
});
