import path from 'node:path';
import { objectSpecOf } from '../../connectors/registry.js';
import { formatDiagnostic, loadMappingFile, type CompiledMapping } from '../mapping/index.js';
import { ROOT } from './paths.js';

/**
 * Loads compiled mappings by file, checked against the systems' descriptors. Relative paths are
 * taken from the repository root (`mappings/salesforce-account.yaml`). Each file is compiled
 * once per process; `forget` drops it after an edit so the next sync uses the fix.
 */
export function mappingCache() {
  const cache = new Map<string, Promise<CompiledMapping>>();
  const load = async (file: string): Promise<CompiledMapping> => {
    const result = await loadMappingFile(path.resolve(ROOT, file), { schemaFor: objectSpecOf });
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    if (!result.mapping || errors.length > 0) throw new Error(`mapping ${file} is invalid:\n${errors.map(formatDiagnostic).join('\n')}`);
    return result.mapping;
  };
  return {
    get(file: string): Promise<CompiledMapping> {
      let found = cache.get(file);
      if (!found) {
        found = load(file);
        cache.set(file, found);
        found.catch(() => cache.delete(file));
      }
      return found;
    },
    forget(file?: string): void {
      if (file) cache.delete(file);
      else cache.clear();
    },
  };
}
