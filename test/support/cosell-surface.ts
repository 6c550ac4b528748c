import { randomUUID } from 'node:crypto';
import type { CoSellSettings } from '../../src/runtime/config.js';
import type { Opportunity } from '../../src/model/index.js';
import { contentHash } from '../../src/sync/values.js';
import { hubView } from './hub-view.js';
import { ALLIANCE_MANAGER, AWS_SOLUTION, sampleAccount, sampleContact, sampleOpportunityFor, testPolicy, type CoSellHub } from '../cosell/support.js';

/** The co-sell settings of the API and CLI tests: the test policy, the hub's connection, fast polling. */
export function surfaceSettings(hub: CoSellHub): CoSellSettings {
  return {
    policy: testPolicy(),
    requester: ALLIANCE_MANAGER,
    connection: hub.connection.name,
    aws: { solutionIds: [AWS_SOLUTION], involvementType: 'co_sell', visibility: 'full' },
    azure: { solutionIds: ['SOL-12345-ECO'], involvementType: 'co_sell', visibility: 'full' },
    pollSeconds: 1,
    inboxSeconds: 300,
  };
}

/**
 * An opportunity as the sync would have left it: account, contact and opportunity records in the
 * store, the opportunity linked to a Salesforce record in the sandbox.
 */
export async function storedOpportunity(hub: CoSellHub, overrides: Partial<Opportunity> = {}): Promise<{ opportunity: Opportunity; salesforceId: string }> {
  const account = sampleAccount({ name: `Acme ${randomUUID().slice(0, 6)}` });
  const contact = sampleContact(account);
  const opportunity = sampleOpportunityFor(account, overrides);
  const record = (entity: string, value: { id: string }) => {
    const { id, ...data } = value;
    return { entity, canonicalId: id, data, hash: contentHash(data) };
  };
  await hub.db.store.records.upsertMany(hub.connection.id, [record('Account', account), record('Contact', contact), record('Opportunity', opportunity)]);
  const salesforceId = hub.crmOpportunity(opportunity);
  await hub.db.store.links.upsertMany(hub.connection.id, [{ entity: 'Opportunity', canonicalId: opportunity.id, instance: await hubView(hub.db.store, hub.connection.id).instance('salesforce'), object: 'Opportunity', externalId: salesforceId }]);
  return { opportunity, salesforceId };
}
