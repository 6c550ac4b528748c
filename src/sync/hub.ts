/**
 * A hub: the systems of one connection around one set of canonical records. Each system is an
 * instance (this Salesforce org, that HubSpot portal), named in the connection, with a role:
 * `both` (read and written), `source` (read, never written) or `target` (written, never read).
 * Per entity, some of the systems take part, each with its object and mapping file.
 *
 * buildHub turns the connection's description and its compiled mappings into what the planner
 * needs; it refuses a description that cannot work, with the reason.
 */
import type { EntityName } from '../model/index.js';
import type { Mapper } from './ports.js';

export type SystemRole = 'both' | 'source' | 'target';

export interface HubSystem {
  /** Its name in the connection (`salesforce`, `hubspot-eu`): dead letters and conflicts use it. */
  name: string;
  /** The connector kind (`salesforce`). */
  kind: string;
  /** What the system says it is (`salesforce:00D…`): links and cursors are kept per instance. */
  instance: string;
  role: SystemRole;
}

export const canRead = (s: HubSystem) => s.role !== 'target';
export const canWrite = (s: HubSystem) => s.role !== 'source';

export interface ReferenceSpec {
  /** Entity of the referenced record ('Account' for a contact's accountId). */
  entity: EntityName;
  /** This system's object holding it ('Account', 'companies'). */
  object: string;
}

/** One system's part in an entity. */
export interface Member {
  system: HubSystem;
  object: string;
  mapper: Mapper;
  /** Canonical fields read from it (its mapping's inbound fields; none when it is never read). */
  readFields: readonly string[];
  /** Canonical fields written to it (its mapping's outbound fields; none when it is never written). */
  writeFields: readonly string[];
  /** Reference fields by canonical path, with the object holding the referenced entity here. */
  references: Readonly<Record<string, ReferenceSpec>>;
  /** The field of this object that holds the canonical id (upsert key), if the system has one. */
  upsertKeyField?: string;
}

/** 'lww', 'manual', or the name (or kind) of the system whose value wins. */
export type FieldPolicy = string;

export interface HubEntity {
  connectionId: string;
  entity: EntityName;
  members: readonly Member[];
  deletePolicy: 'propagate' | 'ignore';
  /** A record changes after it was deleted: 'skip' it (default) or 'resurrect' it. */
  updateAfterDelete: 'skip' | 'resurrect';
  /** Conflict policy of fields without their own. */
  defaultPolicy: FieldPolicy;
  /** Per canonical field, from the mapping files' systemOfRecord. */
  fieldPolicies: Readonly<Record<string, FieldPolicy>>;
}

export interface Hub {
  connectionId: string;
  name: string;
  systems: readonly HubSystem[];
  /** In dependency order: accounts before the contacts and opportunities that refer to them. */
  entities: readonly HubEntity[];
}

/** The connection as the engine reads it (src/store's Connection has this shape). */
export interface HubSpec {
  id: string;
  name: string;
  systems: readonly { name: string; system: string; role: SystemRole }[];
  entities: readonly { entity: string; members: readonly { system: string; object: string; mapping: string }[] }[];
  deletePolicy: 'propagate' | 'ignore';
  conflictPolicy: string;
  updateAfterDelete?: 'skip' | 'resurrect';
}

export class HubConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HubConfigError';
  }
}

export interface BuildHubOptions {
  /** The compiled mapping of a file. */
  mapperOf(file: string): Mapper;
  /** The instance each system reaches, by name. */
  instanceOf(systemName: string): string;
  /** The upsert key field of a system kind's object, from its connector descriptor. */
  upsertKeyOf?(kind: string, object: string): string | undefined;
  isEntity(entity: string): entity is EntityName;
}

export function policyName(policy: string): FieldPolicy {
  return policy === 'last-writer-wins' ? 'lww' : policy;
}

export function buildHub(spec: HubSpec, options: BuildHubOptions): Hub {
  const fail = (message: string): never => { throw new HubConfigError(`connection ${spec.name}: ${message}`); };
  if (spec.systems.length === 0) fail('a connection needs a system');
  const systems: HubSystem[] = spec.systems.map((s) => ({ name: s.name, kind: s.system, instance: options.instanceOf(s.name), role: s.role }));
  const byName = new Map(systems.map((s) => [s.name, s]));
  if (byName.size !== systems.length) fail('two systems share one name');
  const instances = new Map<string, string>();
  for (const s of systems) {
    const other = instances.get(s.instance);
    if (other) fail(`${other} and ${s.name} reach the same ${s.kind} instance (${s.instance}); a system takes part once`);
    instances.set(s.instance, s.name);
  }

  const entities: HubEntity[] = spec.entities.map((e) => {
    if (!options.isEntity(e.entity)) return fail(`${e.entity} is not a canonical entity`);
    const entity = e.entity;
    if (e.members.length === 0) fail(`${entity} names no system`);
    const seen = new Set<string>();
    const raw = e.members.map((m) => {
      const system = byName.get(m.system) ?? fail(`${entity} names system ${m.system}, which the connection does not have`);
      if (seen.has(m.system)) fail(`${entity} names ${m.system} twice`);
      seen.add(m.system);
      const mapper = options.mapperOf(m.mapping);
      if (mapper.entity !== entity) fail(`${m.mapping} maps ${mapper.entity}, not ${entity}`);
      if (mapper.system !== system.kind) fail(`${m.mapping} maps ${mapper.system}, but ${m.system} is ${system.kind}`);
      if (mapper.object !== m.object) fail(`${m.mapping} maps ${mapper.system} ${mapper.object}, not ${m.object}`);
      return { system, object: m.object, mapper };
    });
    if (!raw.some((m) => canRead(m.system))) fail(`${entity}: no system is read`);
    // An entity read from one system only (an ERP's invoices) is kept in the hub, for the
    // capabilities that use it; otherwise something must be written.
    if (raw.length > 1 && !raw.some((m) => canWrite(m.system))) fail(`${entity}: no system is written`);

    const fieldPolicies: Record<string, FieldPolicy> = {};
    for (const { mapper } of raw) {
      for (const [field, owner] of Object.entries(mapper.fieldOwners)) fieldPolicies[field] ??= owner;
    }
    return {
      connectionId: spec.id,
      entity,
      deletePolicy: spec.deletePolicy,
      updateAfterDelete: spec.updateAfterDelete ?? 'skip',
      defaultPolicy: policyName(spec.conflictPolicy),
      fieldPolicies,
      members: raw.map(({ system, object, mapper }): Member => ({
        system,
        object,
        mapper,
        readFields: canRead(system) ? mapper.fields.filter((f) => f.direction !== 'outbound').map((f) => f.field) : [],
        writeFields: canWrite(system) ? mapper.fields.filter((f) => f.direction !== 'inbound').map((f) => f.field) : [],
        references: {},
        upsertKeyField: options.upsertKeyOf?.(system.kind, object),
      })),
    };
  });

  // References: the object each system keeps the referenced entity in.
  for (const e of entities) {
    for (const m of e.members as Member[]) {
      const references: Record<string, ReferenceSpec> = {};
      for (const ref of m.mapper.refs) {
        const holder = entities.find((x) => x.entity === ref.entity)?.members.find((x) => x.system.name === m.system.name);
        if (holder) references[ref.field] = { entity: ref.entity, object: holder.object };
      }
      m.references = references;
    }
  }
  return { connectionId: spec.id, name: spec.name, systems, entities };
}

export function entityOf(hub: Hub, entity: string): HubEntity {
  const found = hub.entities.find((e) => e.entity === entity);
  if (!found) throw new HubConfigError(`connection ${hub.name} does not sync ${entity}`);
  return found;
}

export function memberOf(entity: HubEntity, systemName: string): Member {
  const found = entity.members.find((m) => m.system.name === systemName);
  if (!found) throw new HubConfigError(`${entity.entity} is not synced with ${systemName}`);
  return found;
}
