import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { createConnector } from '../../connectors/registry.js';
import type { Connector } from '../../connectors/protocol.js';
import { createCoSellActivities } from '../activities/cosell.js';
import { createHealthActivities } from '../activities/health.js';
import { createSyncActivities } from '../activities/sync.js';
import { newRequest, requestSync } from '../service/sync-control.js';
import type { Store } from '../store/index.js';
import { mappingCache } from './mappings.js';

export interface ActivityDeps {
  store: Store;
  client: Client;
  taskQueue: string;
  log: Logger;
  /** Tests point connectors at sandboxes with their own options; the registry by default. */
  connectorFor?: (system: string, credentials: Record<string, unknown>) => Connector;
  pageBudgetMs?: number;
}

/** Every activity the worker registers, wired to the store, connectors and Temporal client. */
export function createActivities(deps: ActivityDeps) {
  const mappings = mappingCache();
  return {
    ...createHealthActivities({ pingStore: async () => { await deps.store.db.query('select 1'); return deps.store.kind; } }),
    ...createSyncActivities({
      store: deps.store,
      connectorFor: deps.connectorFor ?? createConnector,
      mappingFor: (file) => mappings.get(file),
      wake: (connection, reason) => requestSync({ client: deps.client, taskQueue: deps.taskQueue }, connection, newRequest(reason)),
      log: deps.log,
      pageBudgetMs: deps.pageBudgetMs,
    }),
    ...createCoSellActivities({ store: deps.store, connectorFor: deps.connectorFor ?? createConnector, log: deps.log }),
  };
}
