import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { CRM_SYSTEMS, objectSpecOf, objectSpecsOf } from '../../../connectors/registry.js';
import { formatDiagnostic, parseMapping, type CompiledMapping } from '../../mapping/index.js';
import { MAPPINGS_DIR, ROOT } from '../../runtime/paths.js';
import type { ConnectionObject } from '../../store/index.js';
import { HttpError } from './http.js';

/**
 * A connection's object pairs, checked before the connection is saved: each pair names one
 * mapping file per side, and the files must exist, compile, and agree with the connection's
 * systems and with each other. Paths are relative to the hub's folder, as the sync reads them.
 */

/** The entities `--objects default` connects, in dependency order. */
export const DEFAULT_ENTITIES = ['Account', 'Contact', 'Opportunity'] as const;

export interface ObjectInput {
  sourceMapping: string;
  targetMapping: string;
  /** Optional: taken from the mapping files; when given, must agree with them. */
  entity?: string;
  sourceObject?: string;
  targetObject?: string;
}

export function checkSystem(system: string, role: 'source' | 'target'): void {
  if (!objectSpecsOf(system)) throw new HttpError(400, `unknown ${role} system "${system}" (known: ${CRM_SYSTEMS.join(', ')})`);
}

/** Loads and compiles one mapping file; a missing or invalid file is a 400 naming it. */
export async function loadMapping(file: string): Promise<CompiledMapping> {
  let text: string;
  try {
    text = await readFile(path.resolve(ROOT, file), 'utf8');
  } catch {
    throw new HttpError(400, `mapping file ${file} does not exist (paths are relative to the hub's folder, e.g. mappings/salesforce-account.yaml)`);
  }
  const result = parseMapping(text, file, { schemaFor: objectSpecOf });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (!result.mapping || errors.length > 0) throw new HttpError(400, `mapping file ${file} is invalid:\n${errors.map(formatDiagnostic).join('\n')}`);
  return result.mapping;
}

/** Checks each pair's files against the systems and each other; returns the pairs to store. */
export async function checkObjects(source: string, target: string, objects: readonly ObjectInput[]): Promise<ConnectionObject[]> {
  if (objects.length === 0) throw new HttpError(400, 'a connection needs at least one object pair');
  const checked: ConnectionObject[] = [];
  for (const o of objects) {
    const [a, b] = [await loadMapping(o.sourceMapping), await loadMapping(o.targetMapping)];
    if (a.system !== source) throw new HttpError(400, `mapping file ${o.sourceMapping} maps ${a.system}, but the source system is ${source}`);
    if (b.system !== target) throw new HttpError(400, `mapping file ${o.targetMapping} maps ${b.system}, but the target system is ${target}`);
    if (a.entity !== b.entity) throw new HttpError(400, `mapping files ${o.sourceMapping} (${a.entity}) and ${o.targetMapping} (${b.entity}) map different entities`);
    const agree = (given: string | undefined, actual: string, what: string) => {
      if (given !== undefined && given !== actual) throw new HttpError(400, `${what} "${given}" does not match the mapping files, which say "${actual}"`);
    };
    agree(o.entity, a.entity, 'entity');
    agree(o.sourceObject, a.object, 'sourceObject');
    agree(o.targetObject, b.object, 'targetObject');
    if (checked.some((c) => c.entity === a.entity)) throw new HttpError(400, `the entity ${a.entity} is listed twice`);
    checked.push({ entity: a.entity, sourceObject: a.object, targetObject: b.object, sourceMapping: o.sourceMapping, targetMapping: o.targetMapping });
  }
  return checked;
}

/** The shipped mappings (mappings/*.yaml) for a system pair: Account, Contact and Opportunity. */
export async function defaultObjects(source: string, target: string): Promise<ObjectInput[]> {
  const names = (await readdir(MAPPINGS_DIR)).filter((n) => /\.ya?ml$/i.test(n)).sort();
  const shipped = new Map<string, string>();
  for (const name of names) {
    const file = path.posix.join(path.basename(MAPPINGS_DIR), name);
    const { mapping } = parseMapping(await readFile(path.join(MAPPINGS_DIR, name), 'utf8'), file, { schemaFor: objectSpecOf });
    if (mapping) shipped.set(`${mapping.system}\u0000${mapping.entity}`, file);
  }
  return DEFAULT_ENTITIES.map((entity) => {
    const sourceMapping = shipped.get(`${source}\u0000${entity}`);
    const targetMapping = shipped.get(`${target}\u0000${entity}`);
    if (!sourceMapping || !targetMapping) {
      const missing = !sourceMapping ? source : target;
      throw new HttpError(400, `no shipped mapping maps ${missing} to ${entity}: list the objects and their mapping files instead of "default"`);
    }
    return { sourceMapping, targetMapping };
  });
}
