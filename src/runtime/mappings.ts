import { stat } from 'node:fs/promises';
import path from 'node:path';
import { objectSpecOf } from '../../connectors/registry.js';
import { formatDiagnostic, loadMappingFile, type CompiledMapping } from '../mapping/index.js';
import { ROOT } from './paths.js';

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
