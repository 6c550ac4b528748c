import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { createConnector } from '../../connectors/registry.js';
import type { Connector } from '../sync/protocol.js';
import { createCanonicalWriter } from '../activities/canonical-write.js';
import { createHubs } from '../activities/hubs.js';
import { createCoSellActivities } from '../activities/cosell.js';
import { createInboundActivities } from '../activities/cosell-inbound.js';
import { createOfferActivities } from '../activities/offers.js';
import { createDrawdownActivities } from '../activities/drawdown.js';
import { wakeCommitment, wakeCustomers } from '../service/drawdown-control.js';
import { loadRuleSet } from './rules.js';
import { createHealthActivities } from '../activities/health.js';
import { createMeteringActivities } from '../activities/metering.js';
import { createSyncActivities } from '../activities/sync.js';
import { handleCoSellEvents } from '../service/cosell-control.js';
import { newRequest, requestSync } from '../service/sync-control.js';
import { meteringActivityDeps } from '../service/metering-control.js';
import type { Store } from '../store/index.js';
import type { SyncMetrics } from '../activities/metered.js';
import { defaultCoSellSettings, type CoSellSettings } from './config.js';
import { coSellMappingFiles, mappingCache } from './mappings.js';
import { webhookNotifier } from './notify.js';

export interface ActivityDeps {
  store: Store;
  client: Client;
  taskQueue: string;
  log: Logger;
  /** Tests point connectors at sandboxes with their own options; the registry by default. */
  connectorFor?: (system: string, credentials: Record<string, unknown>) => Connector;
  pageBudgetMs?: number;
  /** Co-sell settings for opportunities marked in the CRM and where reminders go; the embedded demo's when absent. */
  cosell?: CoSellSettings;
  /** Where the sync counts records, conflicts and cycle times (src/runtime/metrics.ts); nothing is counted without. */
  metrics?: SyncMetrics;
}

/** Every activity the worker registers, wired to the store, connectors and Temporal client. */
export function createActivities(deps: ActivityDeps) {
  const mappings = mappingCache();
  const coSell = { client: deps.client, taskQueue: deps.taskQueue, store: deps.store, settings: deps.cosell ?? defaultCoSellSettings(), log: deps.log };
  const connectorFor = deps.connectorFor ?? createConnector;
  // Approval reminders, outbound and inbound, go to the webhook when one is configured.
  const notify = webhookNotifier(coSell.settings.notify, { log: deps.log });
  // One engine factory for the worker: sync pages, co-sell write-backs, accepted invitations,
  // resolved conflicts and replays all write through it, on one set of connectors per connection.
  const hubs = createHubs({ store: deps.store, connectorFor, mappingFor: (file) => mappings.get(file), log: deps.log, metrics: deps.metrics });
  const writer = createCanonicalWriter(hubs);
  // Commitments' drawdown ledgers, woken when a customer's agreement or invoice arrives.
  const drawdown = { client: deps.client, taskQueue: deps.taskQueue };
  // The co-sell payloads are mapped with the files under mappings/, read from disk here.
  return {
    ...createHealthActivities({ pingStore: async () => { await deps.store.db.query('select 1'); return deps.store.kind; } }),
    ...createSyncActivities({
      store: deps.store,
      hubs,
      wake: (connection, reason) => requestSync({ client: deps.client, taskQueue: deps.taskQueue }, connection, newRequest(reason)),
      log: deps.log,
      pageBudgetMs: deps.pageBudgetMs,
      coSellEvents: (events) => handleCoSellEvents(coSell, events),
      invoicesArrived: (connectionId, accountIds) => wakeCustomers(drawdown, deps.store, { connectionId, accountIds }, { reason: 'invoice' }).then(() => undefined),
      metrics: deps.metrics,
    }),
    ...createCoSellActivities({ store: deps.store, writer, log: deps.log, notify, mappings: coSellMappingFiles }),
    ...createInboundActivities({ store: deps.store, writer, client: deps.client, log: deps.log, notify, mappings: coSellMappingFiles }),
    ...createOfferActivities({
      store: deps.store, hubs, writer, mappingFor: (file) => mappings.get(file), log: deps.log, notify,
      agreementBooked: ({ connectionId, cloud, accountId, agreementId }) => wakeCustomers(drawdown, deps.store, { connectionId, accountIds: [accountId], cloud }, { reason: 'agreement', ref: agreementId }).then(() => undefined),
    }),
    ...createMeteringActivities(meteringActivityDeps({ store: deps.store, client: deps.client, taskQueue: deps.taskQueue, log: deps.log })),
    ...createDrawdownActivities({ store: deps.store, writer, log: deps.log, rules: (name) => loadRuleSet(name), notify, wake: (c, wake) => wakeCommitment(drawdown, c, wake) }),
  };
}
