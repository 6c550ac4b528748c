/**
 * Writes that start in ecosync (a co-sell status, an opportunity a cloud shared with us) go to
 * the CRMs through the sync layer: the connection's mapping files turn canonical fields into
 * system fields, and links and the canonical record are saved the way a sync page saves its
 * own writes, so the next sync run reads them back as echoes: nothing to write, no conflict.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Connector, SourceRecord } from '../sync/protocol.js';
import type { CompiledMapping } from '../mapping/index.js';
import { CanonicalId, ENTITIES, type EntityName } from '../model/index.js';
import type { Connection, Link, LinkUpsert, Store } from '../store/index.js';
import { contentHash, createFields, readPath, toFields, toNested, TOMBSTONE_HASH, type SideName, type SyncSide } from '../sync/index.js';
import {
  agreedWhereUnchanged, connectorsOf, nonRetryable, perConnection, refExternal, refResolver, setPath, syncPairsOf, toSystemFields, type PreparedPair,
} from './sync-glue.js';

export interface CanonicalWriter {
  /**
   * Sets canonical fields (dotted paths, e.g. `coSell.status`; undefined clears a field) on an
   * existing record and writes them to each linked system whose mapping writes them.
   */
  patch(input: { connectionId: string; entity: EntityName; canonicalId: string; values: Record<string, unknown> }): Promise<CanonicalWriteResult>;
  /**
   * Creates a canonical record (idempotent by `canonicalId`: a retry finds what the first attempt
   * made) and its counterpart in each system of the connection that maps the entity.
   */
  create(input: { connectionId: string; entity: EntityName; canonicalId: string; values: Record<string, unknown> }): Promise<CanonicalWriteResult>;
}

export interface CanonicalWriteResult {
  canonicalId: string;
  /** The systems written and the record's id in each. */
  written: { system: string; object: string; externalId: string }[];
  /** Systems not written, and why (no mapping for the fields, record not linked there, refused). */
  skipped: { system: string; reason: string }[];
}

/** patch() of a record ecosync has never synced or has seen deleted: there is nothing to write to. */
export class CanonicalRecordNotFound extends Error {
  constructor(readonly entity: string, readonly canonicalId: string, readonly deleted = false) {
    super(`${entity} ${canonicalId} ${deleted ? 'was deleted' : 'has no canonical record: it was never synced'}`);
    this.name = 'CanonicalRecordNotFound';
  }
}

export interface CanonicalWriterDeps {
  store: Store;
  /** Builds a connector for a system from its part of the connection's credentials. */
  connectorFor(system: string, credentials: Record<string, unknown>): Connector;
  /** Loads a compiled mapping file (the caller caches). */
  mappingFor(file: string): Promise<CompiledMapping>;
  log: Logger;
}

/** A patch that loses the race with a sync page saving the same record is planned again, this often. */
const MAX_PATCH_ATTEMPTS = 3;

interface Target {
  connection: Connection;
  connectors: Record<SideName, Connector>;
  found: PreparedPair;
}

export function createCanonicalWriter(deps: CanonicalWriterDeps): CanonicalWriter {
  const connectorsFor = perConnection(deps.store, (connection, credentials) => connectorsOf(connection, credentials, deps.connectorFor));

  /** The connection's pair for the entity and its connectors (kept while the connection is unchanged). */
  async function target(connectionId: string, entity: EntityName): Promise<Target> {
    const { connection, value: connectors } = await connectorsFor(connectionId);
    const found = (await syncPairsOf(connection, deps.mappingFor)).get(entity);
    if (!found) throw nonRetryable('ConfigurationError', `connection ${connection.name} does not sync ${entity}`);
    return { connection, connectors, found };
  }

  /** Links of the records the values refer to (an opportunity's account), by canonical id. */
  async function referencedLinks(found: PreparedPair, data: Record<string, unknown>): Promise<Link[]> {
    const wanted = new Map<string, Set<string>>();
    for (const side of ['a', 'b'] as const) {
      for (const [field, ref] of Object.entries(found.pair[side].references ?? {})) {
        const id = readPath(data, field).value;
        if (typeof id !== 'string' || id === '') continue;
        if (!wanted.has(ref.entity)) wanted.set(ref.entity, new Set());
        wanted.get(ref.entity)!.add(id);
      }
    }
    const out: Link[] = [];
    for (const [entity, ids] of wanted) out.push(...await deps.store.links.findByCanonicalIds(entity, [...ids]));
    return out;
  }

  /** Links of the records a system record refers to, by that system's ids: forward mapping translates them. */
  async function linksOfRefsIn(side: SyncSide, mapping: CompiledMapping, record: Record<string, unknown>): Promise<Link[]> {
    const out: Link[] = [];
    for (const ref of mapping.refs) {
      const spec = side.references?.[ref.field];
      const id = record[ref.from];
      if (spec && typeof id === 'string' && id !== '') out.push(...await deps.store.links.findByExternalIds(side.system, spec.object, [id]));
    }
    return out;
  }

  /**
   * The hash the sync will compute when it reads this system record: forward-mapped, with fields
   * that show the agreed value in the system's own words taken as the agreed value.
   */
  async function hashAsSyncReads(side: SyncSide, mapping: CompiledMapping, fields: Record<string, unknown>, agreed: Record<string, unknown>, known: readonly Link[]): Promise<string | undefined> {
    const links = [...known, ...await linksOfRefsIn(side, mapping, fields)];
    const out = mapping.forward(fields, { resolveRef: refResolver(side, links) });
    return out.ok ? contentHash(agreedWhereUnchanged(mapping, out.value, agreed)) : undefined;
  }

  async function readOne(connector: Connector, side: SyncSide, mapping: CompiledMapping, externalId: string): Promise<SourceRecord | undefined> {
    const [found] = await connector.readByIds(side.object, [externalId], [...mapping.sourceFields]);
    return found && !found.deleted ? found : undefined;
  }

  async function patchOnce(t: Target, entity: EntityName, canonicalId: string, values: Record<string, unknown>): Promise<{ result: CanonicalWriteResult; saved: boolean }> {
    const { pair, mappings } = t.found;
    const [record] = await deps.store.records.getMany(entity, [canonicalId]);
    if (!record || record.deleted) throw new CanonicalRecordNotFound(entity, canonicalId, record?.deleted);
    const data = withValues(record.data, values);
    const links = await deps.store.links.findByCanonicalIds(entity, [canonicalId]);
    const known = [...links, ...await referencedLinks(t.found, data)];
    const result: CanonicalWriteResult = { canonicalId, written: [], skipped: [] };
    const saves: LinkUpsert[] = [];

    for (const sideName of ['a', 'b'] as const) {
      const side = pair[sideName];
      const mapping = mappings[sideName];
      const paths = Object.keys(values).filter((p) => side.writeFields.some((f) => f === p || f.startsWith(`${p}.`)));
      if (paths.length === 0) { result.skipped.push({ system: side.system, reason: `its mapping writes none of ${Object.keys(values).join(', ')}` }); continue; }
      const link = links.find((l) => l.system === side.system && l.object === side.object);
      if (!link || link.lastHash === TOMBSTONE_HASH) { result.skipped.push({ system: side.system, reason: link ? 'deleted there' : 'not linked there' }); continue; }

      // The side as it is now: if it holds nothing the sync has not seen, its link can take the
      // hash of what it will hold after this write. If it holds an edit of its own, the link
      // keeps its hash and the next sync merges that edit (our fields then match the agreed record).
      const current = await readOne(t.connectors[sideName], side, mapping, link.externalId);
      if (!current) { result.skipped.push({ system: side.system, reason: `${side.object} ${link.externalId} is gone from ${side.system}` }); continue; }
      const inStep = (await hashAsSyncReads(side, mapping, current.fields, record.data, known)) === link.lastHash;

      const payload: Record<string, unknown> = {};
      for (const p of paths) setPath(payload, p, readPath(data, p).value);
      const fields = toSystemFields(mapping, payload, refExternal(side, known));
      if ('error' in fields) { result.skipped.push({ system: side.system, reason: fields.error.message }); continue; }
      const [written] = await t.connectors[sideName].write(side.object, [{ key: canonicalId, externalId: link.externalId, fields: fields.fields }]);
      if (!written?.ok) {
        const error = written?.error ?? { code: 'NO_RESULT', message: 'no result' };
        if (!written || written.retryable) throw new Error(`${side.system} could not take the write for now: ${error.code} ${error.message}`);
        result.skipped.push({ system: side.system, reason: `${side.system} refused: ${error.code} ${error.message}` });
        continue;
      }
      result.written.push({ system: side.system, object: side.object, externalId: link.externalId });
      if (!inStep) continue;
      const after = await hashAsSyncReads(side, mapping, { ...current.fields, ...fields.fields }, data, known);
      saves.push({ ...link, lastHash: after ?? link.lastHash, lastModifiedAt: written.modifiedAt ?? current.modifiedAt });
    }

    const saved = await deps.store.transaction(async (tx) => {
      const [outcome] = await tx.records.upsertMany([{ entity, canonicalId, data, hash: contentHash(data), deleted: false, expectedVersion: record.version }]);
      if (outcome.outcome === 'stale') return false;
      await tx.links.saveMany(saves);
      return true;
    });
    return { result, saved };
  }

  return {
    async patch({ connectionId, entity, canonicalId, values }) {
      checkValues(entity, values);
      const t = await target(connectionId, entity);
      for (let attempt = 1; ; attempt++) {
        // A sync page saved the record in between: plan again from what it saved (our writes are
        // idempotent: the same values again).
        const { result, saved } = await patchOnce(t, entity, canonicalId, values);
        if (saved) return result;
        if (attempt >= MAX_PATCH_ATTEMPTS) throw new Error(`${entity} ${canonicalId} kept changing while it was patched; try again`);
      }
    },

    async create({ connectionId, entity, canonicalId, values }) {
      if (!CanonicalId.safeParse(canonicalId).success) throw nonRetryable('InvalidValues', `canonical id ${JSON.stringify(canonicalId)} is not a UUID`);
      const checked = schemaOf(entity).safeParse({ ...values, id: canonicalId });
      if (!checked.success) throw nonRetryable('InvalidValues', `${entity} ${canonicalId}: ${issuesOf(checked.error)}`);
      const t = await target(connectionId, entity);
      const { pair, mappings } = t.found;
      const [stored] = await deps.store.records.getMany(entity, [canonicalId]);
      if (stored?.deleted) throw nonRetryable('RecordDeleted', `${entity} ${canonicalId} was deleted; it is not created again`);
      // A retry (or a second create) keeps what the first one saved: changes go through patch.
      const { id: _id, ...given } = checked.data as Record<string, unknown>;
      const data = stored ? stored.data : toNested(toFields(given, [], false));
      const links = await deps.store.links.findByCanonicalIds(entity, [canonicalId]);
      const known = [...links, ...await referencedLinks(t.found, data)];

      // Every side first: a reference not linked on a side would be lost there, so nothing is written.
      const plans: { sideName: SideName; fields: Record<string, unknown> }[] = [];
      const result: CanonicalWriteResult = { canonicalId, written: [], skipped: [] };
      for (const sideName of ['a', 'b'] as const) {
        const side = pair[sideName];
        const link = links.find((l) => l.system === side.system && l.object === side.object);
        if (link && link.lastHash !== TOMBSTONE_HASH) { result.written.push({ system: side.system, object: side.object, externalId: link.externalId }); continue; }
        if (link) { result.skipped.push({ system: side.system, reason: 'deleted there' }); continue; }
        const payload = toNested(createFields(toFields(data, side.writeFields, false), new Set(side.writeFields)));
        const externalRef = refExternal(side, known);
        for (const [field, ref] of Object.entries(side.references ?? {})) {
          const id = readPath(payload, field).value;
          if (typeof id === 'string' && !externalRef(ref.entity, id)) {
            throw nonRetryable('UnresolvedReference', `${entity} ${canonicalId}: ${field} ${id} is not in ${side.system} ${ref.object} yet; create or sync that ${ref.entity} first`);
          }
        }
        const fields = toSystemFields(mappings[sideName], payload, externalRef);
        if ('error' in fields) throw nonRetryable('MappingError', `${entity} ${canonicalId} cannot be written to ${side.system}: ${fields.error.message}`);
        plans.push({ sideName, fields: fields.fields });
      }

      const saves: LinkUpsert[] = [];
      for (const { sideName, fields } of plans) {
        const side = pair[sideName];
        const mapping = mappings[sideName];
        // No system id: an upsert by the object's ecosync id field, so a retry updates what an earlier attempt made.
        const [written] = await t.connectors[sideName].write(side.object, [{ key: canonicalId, fields }]);
        if (!written?.ok) {
          const error = written?.error ?? { code: 'NO_RESULT', message: 'no result' };
          if (!written || written.retryable) throw new Error(`${side.system} could not take the new ${side.object} for now: ${error.code} ${error.message}`);
          result.skipped.push({ system: side.system, reason: `${side.system} refused: ${error.code} ${error.message}` });
          continue;
        }
        // What the system holds now, defaults it filled in included: the next sync reads exactly that.
        const current = await readOne(t.connectors[sideName], side, mapping, written.externalId);
        const lastHash = await hashAsSyncReads(side, mapping, current?.fields ?? fields, data, known);
        saves.push({ entity, canonicalId, system: side.system, object: side.object, externalId: written.externalId, lastHash: lastHash ?? null, lastModifiedAt: current?.modifiedAt ?? written.modifiedAt ?? null });
        result.written.push({ system: side.system, object: side.object, externalId: written.externalId });
      }
      await deps.store.transaction(async (tx) => {
        if (!stored) await tx.records.upsertMany([{ entity, canonicalId, data, hash: contentHash(data), deleted: false }]);
        await tx.links.saveMany(saves);
      });
      if (result.skipped.length > 0) deps.log.warn({ entity, canonicalId, skipped: result.skipped }, 'canonical create: not every system took the record');
      return result;
    },
  };
}

type ObjectSchema = z.ZodObject<z.ZodRawShape>;
const schemaOf = (entity: EntityName) => ENTITIES[entity] as unknown as ObjectSchema;

/** The patched values checked against the entity's schema, each on its own. */
function checkValues(entity: EntityName, values: Record<string, unknown>): void {
  if (Object.keys(values).length === 0) throw nonRetryable('InvalidValues', 'nothing to patch');
  const nested: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(values)) {
    if (path === 'id' || path.startsWith('id.')) throw nonRetryable('InvalidValues', '`id` is the canonical id; it cannot be patched');
    if (value !== undefined && value !== null) setPath(nested, path, value);
  }
  const checked = schemaOf(entity).partial().safeParse(nested);
  if (!checked.success) throw nonRetryable('InvalidValues', `${entity}: ${issuesOf(checked.error)}`);
}

function issuesOf(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`).join('; ');
}

/** The record with the values set (undefined or null clears a field; emptied objects go too). */
export function withValues(data: Record<string, unknown>, values: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(data);
  for (const [path, value] of Object.entries(values)) {
    if (value !== undefined && value !== null) { setPath(out, path, structuredClone(value)); continue; }
    const parts = path.split('.');
    const trail: Record<string, unknown>[] = [out];
    for (const part of parts.slice(0, -1)) {
      const next = trail[trail.length - 1][part];
      if (typeof next !== 'object' || next === null) break;
      trail.push(next as Record<string, unknown>);
    }
    if (trail.length !== parts.length) continue;
    delete trail[trail.length - 1][parts[parts.length - 1]];
    for (let i = trail.length - 1; i > 0; i--) {
      if (Object.keys(trail[i]).length > 0) break;
      delete trail[i - 1][parts[i - 1]];
    }
  }
  return out;
}
