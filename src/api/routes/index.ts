import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { createConnector } from '../../../connectors/registry.js';
import type { Connector } from '../../sync/protocol.js';
import { defaultCoSellSettings, defaultOfferSettings, type CoSellSettings, type OfferSettings } from '../../runtime/config.js';
import type { Store } from '../../store/index.js';
import { guardRoutes, type ApiAuth } from '../auth.js';
import { auditRoutes } from './audit.js';
import { conflictRoutes } from './conflicts.js';
import { coSellRoutes } from './cosell.js';
import { connectionRoutes } from './connections.js';
import { deadLetterRoutes } from './dead-letters.js';
import { drawdownRoutes } from './drawdown.js';
import { offerRoutes } from './offers.js';
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
  /** Private offers' policy, connection and timings; the demo's (the co-sell policy with a discount stage) when absent. */
  offers: OfferSettings;
}

/**
 * The operator surface: connections, sync runs and status, dead letters, conflicts, co-sells and private offers,
 * every route behind a bearer token and a role. Pass the result to buildApi's `plugins`.
 */
export function operatorRoutes(deps: Omit<OperatorDeps, 'connectorFor' | 'cosell' | 'offers'> & Partial<Pick<OperatorDeps, 'connectorFor' | 'cosell' | 'offers'>>) {
  const cosell = deps.cosell ?? defaultCoSellSettings();
  const full: OperatorDeps = { ...deps, connectorFor: deps.connectorFor ?? createConnector, cosell, offers: deps.offers ?? defaultOfferSettings(cosell) };
  return async (app: FastifyInstance): Promise<void> => {
    guardRoutes(app, full.auth);
    connectionRoutes(app, full);
    syncRoutes(app, full);
    deadLetterRoutes(app, full);
    conflictRoutes(app, full);
    coSellRoutes(app, full);
    offerRoutes(app, full);
    drawdownRoutes(app, full);
    usageRoutes(app, full);
    auditRoutes(app, full);
  };
}
