import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../../src/runtime/paths.js';

/** A copy of a shipped mapping with one edit, for tests that need a different policy or a bug to fix. */
export function mappingVariant(file: string, edit: (text: string) => string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ecosync-mapping-'));
  const target = path.join(dir, path.basename(file));
  writeFileSync(target, edit(readFileSync(path.join(ROOT, file), 'utf8')));
  return target;
}
