import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { onlyEntities, startTestTemporal, TestHub, withMapping } from '../support/hub.js';
import { mappingVariant } from '../support/mapping-variant.js';

/** Write calls a sandbox received (reads excluded). */
const hubspotWrites = (hub: TestHub) => hub.hs.counters.sum(/batch\.(create|update|upsert|archive)$|associations\.(put|batch\.associate)$|\.(create|update|archive)$/);
const salesforceWrites = (hub: TestHub) => hub.sf.counters.sum(/^composite\.(create|update|upsert|delete)$|^sobject\.(create|update|delete|upsert)$/);

describe('Salesforce ⇄ HubSpot sync on the real Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let bundle: Awaited<ReturnType<typeof bundleWorkflows>>;
  beforeAll(async () => {
    [env, bundle] = await Promise.all([startTestTemporal(), bundleWorkflows()]);
  });
  afterAll(async () => { await env?.teardown(); });

  describe.each(['pglite', 'postgres'] as const)('on %s', (store) => {
    it('copies Salesforce accounts, contacts and opportunities to HubSpot; a second run writes nothing', async () => {
      const hub = await TestHub.start(env, bundle, { store, sf: { accounts: 5, contactsPerAccount: 2, opportunitiesPerAccount: 1 } });
      try {
        const connection = await hub.connect();
        const first = await hub.sync(connection);
        expect(first.status, first.error).toBe('succeeded');
        // The backward pass reads our own creates back: echoes, not updates.
        expect(first.counters).toMatchObject({ created: 20, updated: 0, failed: 0 });
        expect(hub.hs.state.count('companies')).toBe(5);
        expect(hub.hs.state.count('contacts')).toBe(10);
        expect(hub.hs.state.count('deals')).toBe(5);
        // References followed: each HubSpot deal is associated with its account's company.
        for (const deal of hub.hs.state.live('deals')) {
          const [companyId] = hub.hs.state.associations('deals', deal.id, 'companies');
          expect(companyId, `deal ${deal.properties.dealname}`).toBeDefined();
        }
        // Every HubSpot record carries the canonical id its Salesforce twin carries.
        const sfAccount = hub.sfRecords('Account')[0];
        const hsCompany = hub.hubspotTwin('Account', String(sfAccount.Id), 'companies');
        expect(hsCompany?.properties.name).toBe(sfAccount.Name);

        const hsBefore = hubspotWrites(hub);
        const sfBefore = salesforceWrites(hub);
        const second = await hub.sync(connection);
        expect(second.counters).toMatchObject({ created: 0, updated: 0, failed: 0 });
        expect(hubspotWrites(hub) - hsBefore).toBe(0);
        expect(salesforceWrites(hub) - sfBefore).toBe(0);
      } finally {
        await hub.close();
      }
    });

    it('creates in HubSpot flow to Salesforce; updates flow both ways; the pair then quiesces', async () => {
      const hub = await TestHub.start(env, bundle, { store });
      try {
        const connection = await hub.connect();
        const company = hub.hs.state.create('companies', { name: 'Initech Labs', domain: 'initech.example.com', industry: 'Technology', city: 'Austin', country: 'US' });
        await hub.sync(connection);
        const account = hub.sfRecords('Account').find((a) => a.Name === 'Initech Labs');
        expect(account).toMatchObject({ Industry: 'Technology', BillingCity: 'Austin', BillingCountryCode: 'US' });
        expect(hub.sf.state.clientOf('Account', String(account!.Id))).toBe('ecosync');

        hub.sf.state.update('Account', String(account!.Id), { BillingCity: 'Dallas' });
        hub.hs.state.update('companies', company.id, { phone: '+1 555 0100' });
        await hub.sync(connection);
        expect(hub.hs.state.get('companies', company.id)?.properties.city).toBe('Dallas');
        expect(hub.sf.state.get('Account', String(account!.Id))?.Phone).toBe('+1 555 0100');

        // Quiescence: our own writes come back as reads but never as changes.
        const [hsWrites, sfWrites] = [hubspotWrites(hub), salesforceWrites(hub)];
        const third = await hub.sync(connection);
        const fourth = await hub.sync(connection);
        expect(third.counters.created + third.counters.updated + fourth.counters.created + fourth.counters.updated).toBe(0);
        expect([hubspotWrites(hub) - hsWrites, salesforceWrites(hub) - sfWrites]).toEqual([0, 0]);
      } finally {
        await hub.close();
      }
    });
  });

  it('a record changed on both sides follows each field\'s policy: system of record, last writer, or a conflict for RevOps', async () => {
    const hub = await TestHub.start(env, bundle, { store: 'postgres', sf: { accounts: 1, contactsPerAccount: 0, opportunitiesPerAccount: 0 } });
    try {
      // phone goes to the RevOps queue instead of last-writer-wins.
      const hsCompanyMapping = mappingVariant('mappings/hubspot-company.yaml', (t) => t.replace(/^  phone: phone$/m, '  phone:\n    from: phone\n    systemOfRecord: manual'));
      const sfAccountMapping = mappingVariant('mappings/salesforce-account.yaml', (t) => t.replace(/^  phone: Phone$/m, '  phone:\n    from: Phone\n    systemOfRecord: manual'));
      const entities = withMapping('Account', 'hubspot', hsCompanyMapping, withMapping('Account', 'salesforce', sfAccountMapping, onlyEntities('Account')));
      const connection = await hub.connect({ entities });
      await hub.sync(connection);
      const account = hub.sfRecords('Account')[0];
      const company = hub.hubspotTwin('Account', String(account.Id), 'companies')!;
      const t0 = Date.now();
      hub.sf.state.update('Account', String(account.Id), { Name: 'Name from Salesforce', AnnualRevenue: 111000, Phone: '+1 555 0001' }, { at: t0 });
      hub.hs.state.update('companies', company.id, { name: 'Name from HubSpot', annualrevenue: '999000', phone: '+1 555 0002' }, t0 + 5_000);

      const run = await hub.sync(connection);
      expect(run.status, run.error).toBe('succeeded');
      const sfAfter = hub.sf.state.get('Account', String(account.Id))!;
      const hsAfter = hub.hs.state.get('companies', company.id)!;
      // name is last-writer-wins: HubSpot changed it later.
      expect([sfAfter.Name, hsAfter.properties.name]).toEqual(['Name from HubSpot', 'Name from HubSpot']);
      // annualRevenue belongs to Salesforce.
      expect([sfAfter.AnnualRevenue, Number(hsAfter.properties.annualrevenue)]).toEqual([111000, 111000]);
      // phone is manual: both keep their value and RevOps gets a conflict.
      expect([sfAfter.Phone, hsAfter.properties.phone]).toEqual(['+1 555 0001', '+1 555 0002']);
      const conflicts = await hub.store.conflicts.list({ connectionId: connection.id, status: 'open' });
      expect(conflicts.map((c) => c.field)).toEqual(['phone']);
      expect(run.counters.conflicts).toBe(1);

      // RevOps picks HubSpot's phone: it is written to Salesforce, and the field is settled.
      await hub.store.conflicts.resolve(conflicts[0].id, { kind: 'side', system: 'hubspot' }, 'revops@example.com');
      const applied = await env.client.workflow.getHandle(`sync:${connection.id}`).executeUpdate('resolveConflict', { args: [{ conflictId: conflicts[0].id }] });
      expect(applied).toEqual({ written: ['salesforce', 'hubspot'] });
      expect(hub.sf.state.get('Account', String(account.Id))?.Phone).toBe('+1 555 0002');
      const settled = await hub.sync(connection);
      expect(settled.counters).toMatchObject({ conflicts: 0, failed: 0 });
      expect(await hub.store.conflicts.list({ connectionId: connection.id, status: 'open' })).toEqual([]);
    } finally {
      await hub.close();
    }
  });

  it('a field HubSpot can only approximate (stage, deal type) keeps Salesforce\'s exact value when HubSpot edits something else', async () => {
    const hub = await TestHub.start(env, bundle, { store: 'postgres', sf: { accounts: 1, contactsPerAccount: 0, opportunitiesPerAccount: 1 } });
    try {
      const [opportunity] = hub.sfRecords('Opportunity');
      // Negotiation/Review has no HubSpot stage of its own (it becomes contractsent); Replacement becomes existingbusiness.
      hub.sf.state.update('Opportunity', String(opportunity.Id), { StageName: 'Negotiation/Review', Type: 'Existing Customer - Replacement' });
      const connection = await hub.connect();
      const first = await hub.sync(connection);
      expect(first.counters).toMatchObject({ updated: 0, failed: 0 });
      const deal = hub.hubspotTwin('Opportunity', String(opportunity.Id), 'deals')!;
      expect(deal.properties).toMatchObject({ dealstage: 'contractsent', dealtype: 'existingbusiness' });

      hub.hs.state.update('deals', deal.id, { description: 'Edited in HubSpot' });
      const run = await hub.sync(connection);
      expect(run.counters).toMatchObject({ updated: 1, failed: 0 });
      expect(hub.sf.state.get('Opportunity', String(opportunity.Id))).toMatchObject({
        Description: 'Edited in HubSpot', StageName: 'Negotiation/Review', Type: 'Existing Customer - Replacement',
      });
    } finally {
      await hub.close();
    }
  });

  it.each(['propagate', 'ignore'] as const)('a deletion in Salesforce is %sd', async (deletePolicy) => {
    const hub = await TestHub.start(env, bundle, { store: 'postgres', sf: { accounts: 3, contactsPerAccount: 0, opportunitiesPerAccount: 0 } });
    try {
      const connection = await hub.connect({ deletePolicy });
      await hub.sync(connection);
      expect(hub.hs.state.count('companies')).toBe(3);
      const [gone] = hub.sfRecords('Account');
      hub.sf.state.delete('Account', String(gone.Id));
      const run = await hub.sync(connection);
      expect(run.status, run.error).toBe('succeeded');
      expect(hub.hs.state.count('companies')).toBe(deletePolicy === 'propagate' ? 2 : 3);
      expect(Boolean(hub.hubspotTwin('Account', String(gone.Id), 'companies'))).toBe(deletePolicy === 'ignore');
      // Either way the deletion is settled: the next run changes nothing.
      const again = await hub.sync(connection);
      expect(again.counters).toMatchObject({ created: 0, updated: 0, deleted: 0, failed: 0 });
    } finally {
      await hub.close();
    }
  });

  it('an invalid record becomes a dead letter with its reason, the rest lands, and a replay after the mapping fix delivers it', async () => {
    const hub = await TestHub.start(env, bundle, { store: 'pglite', sf: { accounts: 4, contactsPerAccount: 0, opportunitiesPerAccount: 0 } });
    try {
      // A mapping that does not know one industry yet.
      const file = mappingVariant('mappings/salesforce-account.yaml', (t) => t.replace(/^  industry: Industry$/m, '  industry:\n    from: Industry\n    map: { Technology: Technology, Healthcare: Healthcare, Finance: Finance, Retail: Retail, Manufacturing: Manufacturing, Energy: Energy, Education: Education }'));
      const connection = await hub.connect({ entities: withMapping('Account', 'salesforce', file, onlyEntities('Account')) });
      const [odd] = hub.sfRecords('Account');
      hub.sf.state.update('Account', String(odd.Id), { Industry: 'Media' });

      const run = await hub.sync(connection);
      expect(run.status, run.error).toBe('succeeded');
      expect(run.counters).toMatchObject({ created: 3, failed: 1 });
      expect(hub.hs.state.count('companies')).toBe(3);
      const [letter] = await hub.store.deadLetters.list({ connectionId: connection.id, status: 'open' });
      expect(letter).toMatchObject({ direction: 'read', system: 'salesforce', object: 'Account', externalId: odd.Id, errorCode: 'unknown_value', failingFields: ['industry'] });
      expect(letter.reason).toContain('Media');

      // RevOps fixes the mapping, then replays.
      writeFileSync(file, readFileSync(file, 'utf8').replace('Education: Education }', 'Education: Education, Media: Media }'));
      const replay = await env.client.workflow.getHandle(`sync:${connection.id}`).executeUpdate('replayDeadLetters', { args: [{}] });
      expect(replay).toEqual({ replayed: 1, stillFailing: 0, gone: 0 });
      expect(hub.hs.state.count('companies')).toBe(4);
      expect(hub.hubspotTwin('Account', String(odd.Id), 'companies')?.properties.industry).toBe('Media');
      expect(await hub.store.deadLetters.list({ connectionId: connection.id, status: 'open' })).toEqual([]);
    } finally {
      await hub.close();
    }
  });
});
