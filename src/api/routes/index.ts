import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { createConnector } from '../../../connectors/registry.js';
import type { Connector } from '../../../connectors/protocol.js';
import type { Store } from '../../store/index.js';
import { guardRoutes, type ApiAuth } from '../auth.js';
import { conflictRoutes } from './conflicts.js';
import { connectionRoutes } from './connections.js';
import { deadLetterRoutes } from './dead-letters.js';
import { syncRoutes } from './sync.js';

export interface OperatorDeps {
  store: Store;
  client: Client;
  taskQueue: string;
  auth: ApiAuth;
  /** Builds a connector for `POST /connections/:name/check`; the registry by default. */
  connectorFor: (system: string, credentials: Record<string, unknown>) => Connector;
}

/**
 * The operator surface: connections, sync runs and status, dead letters and conflicts, every
 * route behind a bearer token and a role. Pass the result to buildApi's `plugins`.
 */
export function operatorRoutes(deps: Omit<OperatorDeps, 'connectorFor'> & Partial<Pick<OperatorDeps, 'connectorFor'>>) {
  const full: OperatorDeps = { ...deps, connectorFor: deps.connectorFor ?? createConnector };
  return async (app: FastifyInstance): Promise<void> => {
    guardRoutes(app, full.auth);
    connectionRoutes(app, full);
    syncRoutes(app, full);
    deadLetterRoutes(app, full);
    conflictRoutes(app, full);
  };
}
