import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';

/** The machine a benchmark ran on, for its results file. */
export function machine() {
  return { cpus: cpus().length, model: cpus()[0]?.model, node: process.version };
}

/** Writes a benchmark's results as JSON (its folder made when missing). */
export function writeResults(file: string, results: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
}
