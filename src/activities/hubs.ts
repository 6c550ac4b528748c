/**
 * A connection's engine, as activities need it: the connection read from the store, its
 * connectors (one per system, kept while the connection is unchanged: tokens stay warm), the
 * instance each system reaches, its mapping files compiled, and the store as the engine's state.
 * Every activity that writes to a connected system goes through the engine built here.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import { objectSpecOf } from '../../connectors/registry.js';
import { isEntityName } from '../model/index.js';
import type { Connection, Store } from '../store/index.js';
import {
  AuthError, buildHub, CanonicalRecordNotFound, CanonicalWriteError, createEngine, HubConfigError, RateLimitError,
  type Connector, type Engine, type EngineDeps, type Mapper,
} from '../sync/index.js';
import { meteredConnector, meteredState, type SyncMetrics } from './metered.js';

export const nonRetryable = (type: string, message: string, details?: unknown) =>
  ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? undefined : [details] });

/** A system's part of a connection's credentials (kept under its name); a missing part is a configuration error. */
export function credentialsOf(connection: Pick<Connection, 'name'>, credentials: Record<string, unknown>, system: string): Record<string, unknown> {
  const c = credentials[system];
  if (!c || typeof c !== 'object') throw nonRetryable('ConfigurationError', `connection ${connection.name} has no credentials for ${system}`);
  return c as Record<string, unknown>;
}

/**
 * Per connection, a value built from the connection and its credentials (connectors, cloud
 * clients), kept while the connection is unchanged. Each call reads the connection to see
 * whether it changed (credentials rotated, systems edited); the credentials are read and
 * decrypted only to build again. A build that fails is not kept; a replaced value is closed.
 */
export function perConnection<T>(
  store: Store,
  build: (connection: Connection, credentials: Record<string, unknown>) => T | Promise<T>,
  close?: (value: T) => void,
): (connectionId: string) => Promise<{ connection: Connection; value: T }> {
  const cache = new Map<string, { version: string; value: Promise<T> }>();
  return async (connectionId) => {
    const connection = await store.connections.get(connectionId);
    if (!connection) throw nonRetryable('ConfigurationError', `connection ${connectionId} does not exist`);
    let cached = cache.get(connectionId);
    if (cached?.version !== connection.updatedAt) {
      if (cached && close) cached.value.then(close, () => undefined);
      const entry = { version: connection.updatedAt, value: store.connections.getCredentials(connectionId).then((c) => build(connection, c ?? {})) };
      entry.value.catch(() => { if (cache.get(connectionId) === entry) cache.delete(connectionId); });
      cache.set(connectionId, entry);
      cached = entry;
    }
    return { connection, value: await cached.value };
  };
}

export interface HubsDeps {
  store: Store;
  /** Builds a connector for a system kind from its part of the connection's credentials. */
  connectorFor(system: string, credentials: Record<string, unknown>): Connector;
  /** A compiled mapping file (the caller caches, and compiles a file again when it changes). */
  mappingFor(file: string): Promise<Mapper>;
  log: Logger;
  /** Counts records read, written and failed and conflicts found, per connection and system. */
  metrics?: SyncMetrics;
}

interface Reached {
  connectors: Map<string, Connector>;
  /** The instance each system said it is, by system name. */
  instances: Record<string, string>;
}

/** One per worker: every activity that syncs or writes shares its connectors. */
export function createHubs(deps: HubsDeps) {
  const reach = perConnection<Reached>(deps.store, async (connection, credentials) => {
    const connectors = new Map<string, Connector>();
    for (const s of connection.systems) {
      const connector = deps.connectorFor(s.system, credentialsOf(connection, credentials, s.name));
      connectors.set(s.name, deps.metrics ? meteredConnector(connector, { connection: connection.name, system: s.name }, deps.metrics) : connector);
    }
    const instances: Record<string, string> = {};
    await Promise.all(connection.systems.map(async (s) => {
      const identity = await connectors.get(s.name)!.identify();
      instances[s.name] = identity.instance;
    }));
    return { connectors, instances };
  }, (reached) => { for (const c of reached.connectors.values()) void c.close?.().catch(() => undefined); });

  async function mappers(connection: Connection): Promise<Map<string, Mapper>> {
    const files = [...new Set(connection.entities.flatMap((e) => e.members.map((m) => m.mapping)))];
    const out = new Map<string, Mapper>();
    await Promise.all(files.map(async (file) => {
      try {
        out.set(file, await deps.mappingFor(file));
      } catch (error) {
        throw nonRetryable('MappingError', (error as Error).message);
      }
    }));
    return out;
  }

  return {
    /** A system's connector in the connection (the one the engine writes through), to read a record outside a sync. */
    async connector(connectionId: string, system: string): Promise<Connector> {
      const { value: reached } = await asFailure(() => reach(connectionId));
      const connector = reached.connectors.get(system);
      if (!connector) throw nonRetryable('ConfigurationError', `the connection has no system named ${system}`);
      return connector;
    },

    /**
     * The connection's engine. Mappings are looked up on every call (the loader compiles an
     * edited file again), so a RevOps fix applies to the next page or replay without a restart.
     */
    async engine(connectionId: string, extra: Partial<EngineDeps> = {}): Promise<{ connection: Connection; engine: Engine }> {
      let { connection, value: reached } = await asFailure(() => reach(connectionId));
      // A system whose instance is new to the connection adopts the links kept under its name.
      if (connection.systems.some((s) => s.instance !== reached.instances[s.name])) {
        const moved = connection.systems.filter((s) => s.instance && s.instance !== reached.instances[s.name]).map((s) => ({ system: s.name, was: s.instance, now: reached.instances[s.name] }));
        if (moved.length > 0) deps.log.warn({ connection: connection.name, moved }, 'a system now reaches another instance; its records are linked afresh there');
        connection = await deps.store.connections.setInstances(connectionId, reached.instances);
      }
      const byFile = await mappers(connection);
      const hub = asFailureSync(() => buildHub(connection, {
        mapperOf: (file) => byFile.get(file)!,
        instanceOf: (name) => reached.instances[name],
        upsertKeyOf: (kind, object) => objectSpecOf(kind, object)?.upsertKeyField,
        isEntity: isEntityName,
      }));
      const state = deps.store.hub(connectionId);
      const engine = createEngine(hub, {
        state: deps.metrics ? meteredState(state, connection.name, deps.metrics) : state,
        connector: (name) => reached.connectors.get(name)!,
        ...extra,
      });
      return { connection, engine };
    },
  };
}

export type Hubs = ReturnType<typeof createHubs>;

/**
 * Engine and connector errors → Temporal failures: a short rate limit is retried after the
 * delay the system asked for; a daily limit waits for its window (the workflow sleeps, the delay
 * in the failure's details); bad credentials, configuration and mappings need a person;
 * everything else is retried by the activity's retry policy.
 */
export function asActivityFailure(error: unknown): unknown {
  if (error instanceof ApplicationFailure) return error;
  if (error instanceof RateLimitError) {
    if (error.daily) return nonRetryable('DailyRateLimit', `${error.message}; retry after ${error.retryAfterMs} ms`, { retryAfterMs: error.retryAfterMs });
    return ApplicationFailure.create({ type: 'RateLimit', message: error.message, nextRetryDelay: error.retryAfterMs, details: [{ retryAfterMs: error.retryAfterMs }] });
  }
  if (error instanceof AuthError) return nonRetryable('AuthError', error.message);
  if (error instanceof HubConfigError) return nonRetryable('ConfigurationError', error.message);
  if (error instanceof CanonicalRecordNotFound) return nonRetryable('CanonicalRecordNotFound', error.message);
  if (error instanceof CanonicalWriteError) {
    return error.retryable ? ApplicationFailure.create({ type: error.code, message: error.message }) : nonRetryable(error.code, error.message);
  }
  return error;
}

async function asFailure<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw asActivityFailure(error);
  }
}

function asFailureSync<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw asActivityFailure(error);
  }
}
