import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repository root (the folder with package.json), wherever the command is run from. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const WORKFLOWS_PATH = path.join(ROOT, 'workflows/index.ts');
export const MAPPINGS_DIR = path.join(ROOT, 'mappings');
