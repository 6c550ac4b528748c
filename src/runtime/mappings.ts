/**
 * Mapping files read from disk. src/mapping only parses, checks and compiles text; reading the
 * files, and knowing the connectors whose schemas they are checked against, happens here.
 */
import { readFileSync, statSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { objectSpecOf } from '../../connectors/registry.js';
import type { CoSellMappingLoader } from '../cosell/payload.js';
import {
  formatDiagnostic, parseMapping, parseMappings, type CompiledMapping, type DirResult, type LoadOptions, type LoadResult,
} from '../mapping/index.js';
import { ROOT } from './paths.js';

/** One mapping file read from disk, parsed, checked and compiled (src/mapping does all but the reading). */
export async function loadMappingFile(file: string, options: LoadOptions = {}): Promise<LoadResult> {
  return parseMapping(await readFile(file, 'utf8'), file, options);
}

/**
 * Loads every *.yaml / *.yml file of a directory (in name order) and checks the files together:
 * one file per system object, and files mapping the same entity agree on who owns each field.
 */
export async function loadMappingDir(dir: string, options: LoadOptions = {}): Promise<DirResult> {
  const names = (await readdir(dir)).filter((n) => /\.ya?ml$/i.test(n)).sort();
  const files = [];
  for (const name of names) {
    const file = path.join(dir, name);
    files.push({ file, text: await readFile(file, 'utf8') });
  }
  return parseMappings(files, options);
}

/**
 * Loads compiled mappings by file, checked against the systems' descriptors. Relative paths are
 * taken from the repository root (`mappings/salesforce-account.yaml`). A file is compiled once
 * and again whenever it changes on disk, so a RevOps fix applies to the next page or replay
 * without a restart.
 */
export function mappingCache() {
  const cache = new Map<string, { version: string; mapping: Promise<CompiledMapping> }>();
  const load = async (file: string): Promise<CompiledMapping> => {
    const result = await loadMappingFile(path.resolve(ROOT, file), { schemaFor: objectSpecOf });
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    if (!result.mapping || errors.length > 0) throw new Error(`mapping ${file} is invalid:\n${errors.map(formatDiagnostic).join('\n')}`);
    return result.mapping;
  };
  return {
    async get(file: string): Promise<CompiledMapping> {
      const info = await stat(path.resolve(ROOT, file));
      const version = `${info.mtimeMs}:${info.size}`;
      const found = cache.get(file);
      if (found && found.version === version) return found.mapping;
      const mapping = load(file);
      cache.set(file, { version, mapping });
      mapping.catch(() => cache.delete(file));
      return mapping;
    },
    forget(file?: string): void {
      if (file) cache.delete(file);
      else cache.clear();
    },
  };
}

const coSellCompiled = new Map<string, { version: string; mapping: CompiledMapping }>();

/**
 * The co-sell payload mappings (src/cosell/payload.ts COSELL_MAPPINGS) read from disk, relative
 * to the repository root or absolute, checked against the clouds' descriptors. Synchronous, as
 * the payload functions are; a file is compiled again when it changes on disk (a RevOps fix
 * needs no restart). One cache for the process.
 */
export const coSellMappingFiles: CoSellMappingLoader = (file) => {
  const full = path.resolve(ROOT, file);
  const info = statSync(full);
  const version = `${info.mtimeMs}:${info.size}`;
  const cached = coSellCompiled.get(full);
  if (cached?.version === version) return cached.mapping;
  const result = parseMapping(readFileSync(full, 'utf8'), file, { schemaFor: objectSpecOf });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (!result.mapping || errors.length > 0) throw new Error(`co-sell mapping ${file} is invalid:\n${errors.map(formatDiagnostic).join('\n')}`);
  coSellCompiled.set(full, { version, mapping: result.mapping });
  return result.mapping;
};
