/**
 * What the sync activities and the canonical writer share: a connection's connectors and object
 * pairs, reference translation through links, canonical values to system fields and back. Thin
 * glue around the mapping engine and the planner's types; the decisions stay in src/sync.
 */
import { ApplicationFailure } from '@temporalio/common';
import { objectSpecOf } from '../../connectors/registry.js';
import type { Connector, SourceRecord } from '../sync/protocol.js';
import type { CompiledMapping } from '../mapping/index.js';
import type { EntityName } from '../model/index.js';
import type { Connection, Store } from '../store/index.js';
import { readPath, TOMBSTONE_HASH, valuesEqual, type SideName, type StoredLink, type SyncPair, type SyncSide } from '../sync/index.js';

export const nonRetryable = (type: string, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });

/** One object pair of a connection: the planner's pair and each side's compiled mapping. */
export interface PreparedPair {
  pair: SyncPair;
  mappings: Record<SideName, CompiledMapping>;
}

/** A connector for each side of the connection, from its part of the connection's credentials. */
export function connectorsOf(
  connection: Connection, credentials: Record<string, unknown>,
  connectorFor: (system: string, credentials: Record<string, unknown>) => Connector,
): Record<SideName, Connector> {
  return {
    a: connectorFor(connection.sourceSystem, credentialsOf(connection, credentials, connection.sourceSystem)),
    b: connectorFor(connection.targetSystem, credentialsOf(connection, credentials, connection.targetSystem)),
  };
}

/** One system's part of a connection's credentials; a missing part is a configuration error. */
export function credentialsOf(connection: Connection, credentials: Record<string, unknown>, system: string): Record<string, unknown> {
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
  build: (connection: Connection, credentials: Record<string, unknown>) => T,
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

/** The connection's object pairs by entity, with their mappings compiled. */
export async function syncPairsOf(connection: Connection, mappingFor: (file: string) => Promise<CompiledMapping>): Promise<Map<string, PreparedPair>> {
  const mappingOrFail = async (file: string): Promise<CompiledMapping> => {
    try {
      return await mappingFor(file);
    } catch (error) {
      throw nonRetryable('MappingError', (error as Error).message);
    }
  };
  // Which object holds each entity on each side, for reference fields.
  const objectOf = (side: SideName, entity: string) => {
    const o = connection.objects.find((x) => x.entity === entity);
    return o ? (side === 'a' ? o.sourceObject : o.targetObject) : undefined;
  };
  const pairs = new Map<string, PreparedPair>();
  for (const o of connection.objects) {
    if (!o.sourceMapping || !o.targetMapping) throw nonRetryable('ConfigurationError', `connection ${connection.name}: ${o.entity} needs a mapping file for each side`);
    const mappings = { a: await mappingOrFail(o.sourceMapping), b: await mappingOrFail(o.targetMapping) };
    const side = (s: SideName): SyncSide => {
      const m = mappings[s];
      const references: Record<string, { entity: EntityName; object: string }> = {};
      for (const ref of m.refs) {
        const object = objectOf(s, ref.entity);
        if (object) references[ref.field] = { entity: ref.entity, object };
      }
      return {
        system: m.system,
        object: m.object,
        readFields: m.fields.filter((f) => f.direction !== 'outbound').map((f) => f.field),
        writeFields: m.fields.filter((f) => f.direction !== 'inbound').map((f) => f.field),
        references,
      };
    };
    pairs.set(o.entity, {
      mappings,
      pair: {
        connectionId: connection.id,
        entity: o.entity as EntityName,
        a: side('a'),
        b: side('b'),
        mode: connection.mode,
        deletePolicy: connection.deletePolicy,
        defaultPolicy: policyName(connection.conflictPolicy),
        fieldPolicies: { ...mappings.b.fieldOwners, ...mappings.a.fieldOwners },
      },
    });
  }
  return pairs;
}

/**
 * A side's values with every field that shows exactly what this side would show for the agreed
 * value replaced by the agreed value. What a side shows for the agreed value is its mapping's
 * forward(reverse(agreed)): for a lossless field that is the agreed value itself, for a lossy
 * one it is the side's nearest word for it. References are left alone (ids translate exactly).
 */
export function agreedWhereUnchanged(mapping: CompiledMapping, values: Record<string, unknown>, agreed: Record<string, unknown>): Record<string, unknown> {
  const written = mapping.reverse(agreed);
  if (!written.ok) return values;
  const shown = mapping.forward(written.value);
  if (!shown.ok) return values;
  let out: Record<string, unknown> | undefined;
  for (const info of mapping.fields) {
    if (info.direction === 'outbound' || info.ref) continue;
    const mine = readPath(values, info.field).value;
    const theirs = readPath(agreed, info.field).value;
    if (theirs === undefined || valuesEqual(mine, theirs) || !valuesEqual(mine, readPath(shown.value, info.field).value)) continue;
    out ??= structuredClone(values);
    setPath(out, info.field, theirs);
  }
  return out ?? values;
}

export const externalKey = (system: string, object: string, externalId: string) => `${system}\u0000${object}\u0000${externalId}`;

/** The field a system object keeps the canonical id in, as its connector's descriptor declares it. */
export function upsertKeyOf(mapping: CompiledMapping): string | undefined {
  return objectSpecOf(mapping.system, mapping.object)?.upsertKeyField;
}

/**
 * Canonical write payload → system fields. reverse() writes every outbound field (it treats the
 * record as whole), so for an update only the system fields behind the canonical fields in the
 * payload are kept: the others would be cleared.
 */
export function toSystemFields(mapping: CompiledMapping, fields: Record<string, unknown>, externalRef: (entity: EntityName, id: string) => string | undefined): { fields: Record<string, unknown> } | { error: { code: string; message: string; fields?: string[] } } {
  const out = mapping.reverse(fields, { externalRef });
  if (!out.ok) {
    return { error: { code: 'MAPPING_' + out.errors[0].code.toUpperCase(), message: out.errors.map((e) => `${e.field}: ${e.message}`).join('; '), fields: out.errors.map((e) => e.field) } };
  }
  const keep = new Set<string>();
  for (const info of mapping.fields) {
    if (info.direction === 'inbound' || !readPath(fields, info.field).found) continue;
    if (info.from) keep.add(info.from);
    if (info.currencyField) keep.add(info.currencyField);
  }
  const picked: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(out.value)) if (keep.has(name) || !mapping.fields.some((f) => f.from === name || f.currencyField === name)) picked[name] = value;
  return { fields: picked };
}

/** Sets a dotted path in a nested record, creating objects on the way; returns the record. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value ?? null;
  return target;
}

/**
 * Reference translation for one side through the links at hand, indexed once: system id →
 * canonical id (forward mapping) and canonical id → system id (reverse mapping; tombstoned
 * links do not count).
 */
export function refResolver(side: SyncSide, links: readonly StoredLink[]) {
  const objectOf = new Map(Object.values(side.references ?? {}).map((r) => [r.entity as string, r.object]));
  const byExternal = new Map<string, string>();
  for (const l of links) if (l.system === side.system) byExternal.set(`${l.object}\u0000${l.externalId}`, l.canonicalId);
  return (entity: EntityName, externalId: string) => {
    const object = objectOf.get(entity);
    return object === undefined ? undefined : byExternal.get(`${object}\u0000${externalId}`);
  };
}

export function refExternal(side: SyncSide, links: readonly StoredLink[]) {
  const objectOf = new Map(Object.values(side.references ?? {}).map((r) => [r.entity as string, r.object]));
  const byCanonical = new Map<string, string>();
  for (const l of links) if (l.system === side.system && l.lastHash !== TOMBSTONE_HASH) byCanonical.set(`${l.object}\u0000${l.canonicalId.toLowerCase()}`, l.externalId);
  return (entity: EntityName, canonicalId: string) => {
    const object = objectOf.get(entity);
    return object === undefined ? undefined : byCanonical.get(`${object}\u0000${canonicalId.toLowerCase()}`);
  };
}

export async function readByIdsChunked(connector: Connector, object: string, ids: string[], fields: string[]): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for (let i = 0; i < ids.length; i += 200) out.push(...await connector.readByIds(object, ids.slice(i, i + 200), fields));
  return out;
}

/** The connection's default conflict policy in the planner's words. */
export function policyName(policy: string): string {
  if (policy === 'last-writer-wins' || policy === 'lww') return 'lww';
  return policy;
}
