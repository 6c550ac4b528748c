import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { objectSpecOf, objectSpecsOf, SYNC_SYSTEMS } from '../../../connectors/registry.js';
import { formatDiagnostic, parseMapping, type CompiledMapping } from '../../mapping/index.js';
import { MAPPINGS_DIR, ROOT } from '../../runtime/paths.js';
import type { ConnectionEntity, ConnectionSystem, SystemRole } from '../../store/index.js';
import { HttpError, invalid } from '../problem.js';

/**
 * A connection's systems and entities, checked before the connection is saved: every system is a
 * known kind with a unique name; every entity names two or more of those systems, each with a
 * mapping file that exists, compiles, maps that system's kind and the same entity. Paths are
 * relative to the hub's folder, as the sync reads them.
 */

/** The entities `default` connects, in dependency order. */
export const DEFAULT_ENTITIES = ['Account', 'Contact', 'Opportunity', 'SalesOrder', 'Invoice'] as const;
/** Entities an ERP alone may hold: kept in the hub for private offers and drawdown, never written elsewhere. */
const HUB_KEPT: readonly string[] = ['SalesOrder', 'Invoice'];

export interface SystemInput {
  /** Its name in the connection; the kind when absent. */
  name?: string;
  system: string;
  role?: SystemRole;
}

export interface EntityInput {
  /** Optional: taken from the mapping files; when given, must agree with them. */
  entity?: string;
  members: { system: string; mapping: string; object?: string }[];
}

/** The object pairs of a two-system connection, as connections were described before hubs. */
export interface ObjectInput {
  sourceMapping: string;
  targetMapping: string;
  entity?: string;
  sourceObject?: string;
  targetObject?: string;
}

/** Loads and compiles one mapping file; a missing or invalid file is a 400 naming it. */
export async function loadMapping(file: string): Promise<CompiledMapping> {
  // A request names files in the hub's folder only: never /etc/passwd or ../../ anything, whose content an error could quote.
  const resolved = path.resolve(ROOT, file);
  const inside = path.relative(ROOT, resolved);
  if (file.includes('\u0000') || inside === '' || inside.startsWith('..') || path.isAbsolute(inside) || !/\.ya?ml$/i.test(file)) {
    throw new HttpError(400, `mapping file ${JSON.stringify(file)} is not a .yaml file inside the hub's folder (paths are relative to it, e.g. mappings/salesforce-account.yaml)`);
  }
  let text: string;
  try {
    text = await readFile(resolved, 'utf8');
  } catch {
    throw new HttpError(400, `mapping file ${file} does not exist (paths are relative to the hub's folder, e.g. mappings/salesforce-account.yaml)`);
  }
  const result = parseMapping(text, file, { schemaFor: objectSpecOf });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (!result.mapping || errors.length > 0) throw new HttpError(400, `mapping file ${file} is invalid:\n${errors.map(formatDiagnostic).join('\n')}`);
  return result.mapping;
}

/** A two-system connection (source, target, mode, object pairs) in the words of a hub. */
export function fromPairs(source: string, target: string, mode: 'one-way' | 'bidirectional', objects: readonly ObjectInput[] | 'default'): { systems: SystemInput[]; entities: EntityInput[] | 'default' } {
  if (source === target) throw invalid('body.target', 'the source and target systems must differ');
  for (const [system, role] of [[source, 'source'], [target, 'target']]) {
    if (!objectSpecsOf(system)) throw invalid(`body.${role}`, `unknown ${role} system "${system}" (known: ${SYNC_SYSTEMS.join(', ')})`);
  }
  return {
    systems: [{ system: source, role: mode === 'bidirectional' ? 'both' : 'source' }, { system: target, role: mode === 'bidirectional' ? 'both' : 'target' }],
    entities: objects === 'default' ? 'default' : objects.map((o) => ({
      entity: o.entity,
      members: [
        { system: source, mapping: o.sourceMapping, object: o.sourceObject },
        { system: target, mapping: o.targetMapping, object: o.targetObject },
      ],
    })),
  };
}

export function checkSystems(input: readonly SystemInput[]): ConnectionSystem[] {
  if (input.length < 2) throw invalid('body.systems', 'a connection needs at least two systems');
  const systems = input.map((s, i): ConnectionSystem => {
    if (!objectSpecsOf(s.system)) throw invalid(`body.systems.${i}.system`, `unknown system "${s.system}" (known: ${SYNC_SYSTEMS.join(', ')})`);
    return { name: s.name ?? s.system, system: s.system, role: s.role ?? 'both', instance: null };
  });
  const names = systems.map((s) => s.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw invalid('body.systems', `two systems are named "${twice}"; name them apart (e.g. "${twice}-eu")`);
  if (!systems.some((s) => s.role !== 'target')) throw invalid('body.systems', 'no system is read (every role is target)');
  if (!systems.some((s) => s.role !== 'source')) throw invalid('body.systems', 'no system is written (every role is source)');
  return systems;
}

/** Checks each entity's files against the systems and each other; returns the entities to store. */
export async function checkEntities(systems: readonly ConnectionSystem[], entities: readonly EntityInput[]): Promise<ConnectionEntity[]> {
  if (entities.length === 0) throw new HttpError(400, 'a connection needs at least one entity');
  const checked: ConnectionEntity[] = [];
  for (const [i, e] of entities.entries()) {
    const where = `body.entities[${i}]`;
    if (e.members.length === 0) throw new HttpError(400, `${where}: an entity needs at least one system`);
    const members: ConnectionEntity['members'] = [];
    let entity = e.entity;
    for (const m of e.members) {
      const system = systems.find((s) => s.name === m.system);
      if (!system) throw new HttpError(400, `${where}: system "${m.system}" is not one of the connection's (${systems.map((s) => s.name).join(', ')})`);
      if (members.some((x) => x.system === m.system)) throw new HttpError(400, `${where}: system "${m.system}" is listed twice`);
      const mapping = await loadMapping(m.mapping);
      if (mapping.system !== system.system) throw new HttpError(400, `mapping file ${m.mapping} maps ${mapping.system}, not ${system.system} (system "${system.name}" of this connection)`);
      if (entity !== undefined && mapping.entity !== entity) throw new HttpError(400, `mapping file ${m.mapping} maps ${mapping.entity}, not ${entity}`);
      if (m.object !== undefined && m.object !== mapping.object) throw new HttpError(400, `object "${m.object}" does not match ${m.mapping}, which maps "${mapping.object}"`);
      entity = mapping.entity;
      members.push({ system: m.system, object: mapping.object, mapping: m.mapping });
    }
    if (checked.some((c) => c.entity === entity)) throw new HttpError(400, `the entity ${entity} is listed twice`);
    const roles = members.map((m) => systems.find((s) => s.name === m.system)!.role);
    if (!roles.some((r) => r !== 'target')) throw new HttpError(400, `${where}: ${entity} needs a system it is read from`);
    // One system alone is kept in the hub (an ERP's invoices, for offers and drawdown); more need one written.
    if (members.length > 1 && !roles.some((r) => r !== 'source')) throw new HttpError(400, `${where}: ${entity} needs a system that is written`);
    checked.push({ entity: entity!, members });
  }
  return checked;
}

/** The shipped mappings (mappings/*.yaml) for the connection's systems: Account, Contact and Opportunity among the systems that have one; an ERP's orders and invoices kept in the hub. */
export async function defaultEntities(systems: readonly ConnectionSystem[]): Promise<EntityInput[]> {
  const names = (await readdir(MAPPINGS_DIR)).filter((n) => /\.ya?ml$/i.test(n)).sort();
  const shipped = new Map<string, string>();
  for (const name of names) {
    const file = path.posix.join(path.basename(MAPPINGS_DIR), name);
    const { mapping } = parseMapping(await readFile(path.join(MAPPINGS_DIR, name), 'utf8'), file, { schemaFor: objectSpecOf });
    if (mapping) shipped.set(`${mapping.system}\u0000${mapping.entity}`, file);
  }
  const entities = DEFAULT_ENTITIES.map((entity) => ({
    entity,
    members: systems.flatMap((s) => {
      const mapping = shipped.get(`${s.system}\u0000${entity}`);
      return mapping ? [{ system: s.name, mapping }] : [];
    }),
  })).filter((e) => e.members.length >= (HUB_KEPT.includes(e.entity) ? 1 : 2));
  if (entities.length === 0) throw new HttpError(400, `no shipped mappings connect ${systems.map((s) => s.system).join(', ')}: list the entities and their mapping files instead of "default"`);
  return entities;
}
