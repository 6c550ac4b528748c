import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../src/runtime/config.js';

/** A fresh directory with no ecosync.yaml in it. */
export function emptyDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'ecosync-config-'));
}

/** A fresh directory whose ecosync.yaml holds `text`: the directory and the file's path. */
export function dirWith(text: string): { cwd: string; file: string } {
  const cwd = emptyDir();
  const file = path.join(cwd, 'ecosync.yaml');
  writeFileSync(file, text);
  return { cwd, file };
}

/** The problems of the ConfigError `fn` throws; anything else fails the test. */
export function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}
