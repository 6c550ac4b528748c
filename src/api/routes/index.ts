import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { createConnector } from '../../../connectors/registry.js';
import type { Connector } from '../../sync/protocol.js';
import { defaultCoSellSettings, type CoSellSettings } from '../../runtime/config.js';
import type { Store } from '../../store/index.js';
import { guardRoutes, type ApiAuth } from '../auth.js';
import { conflictRoutes } from './conflicts.js';
import { coSellRoutes } from './cosell.js';
import { connectionRoutes } from './connections.js';
import { deadLetterRoutes } from './dead-letters.js';
import { drawdownRoutes } from './drawdown.js';
import { syncRoutes } from './sync.js';
import { usageRoutes } from './usage.js';

export interface OperatorDeps {
  store: Store;
  client: Client;
  taskQueue: string;
  auth: ApiAuth;
  /** Builds a connector for `POST /connections/:name/check`; the registry by default. */
  connectorFor: (system: string, credentials: Record<string, unknown>) => Connector;
  /** Co-sell policy, requester, connection and defaults; the embedded demo's when absent. */
  cosell: CoSellSettings;
}

/**
 * The operator surface: connections, sync runs and status, dead letters, conflicts and co-sells,
 * every route behind a bearer token and a role. Pass the result to buildApi's `plugins`.
 */
export function operatorRoutes(deps: Omit<OperatorDeps, 'connectorFor' | 'cosell'> & Partial<Pick<OperatorDeps, 'connectorFor' | 'cosell'>>) {
  const full: OperatorDeps = { ...deps, connectorFor: deps.connectorFor ?? createConnector, cosell: deps.cosell ?? defaultCoSellSettings() };
  return async (app: FastifyInstance): Promise<void> => {
    guardRoutes(app, full.auth);
    connectionRoutes(app, full);
    syncRoutes(app, full);
    deadLetterRoutes(app, full);
    conflictRoutes(app, full);
    coSellRoutes(app, full);
    drawdownRoutes(app, full);
    usageRoutes(app, full);
  };
}
