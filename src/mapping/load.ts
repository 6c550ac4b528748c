/** Reading mapping files: parse, check against the model and the system's schema, compile. */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compile, type CompiledMapping } from './compile.js';
import { hasErrors, type Diagnostic, type Reporter } from './diagnostics.js';
import { parseSpec } from './parse.js';
import { checkAgainstSchema } from './schema-check.js';
import type { MappingSpec, ObjectSpec } from './spec.js';

export interface LoadOptions {
  /** The system's field schema (a connector's discover result), to check fields, types and picklists. */
  schemaFor?: (system: string, object: string) => ObjectSpec | undefined;
}

export interface LoadResult {
  /** Present when the file has no errors (warnings allowed). */
  mapping?: CompiledMapping;
  diagnostics: Diagnostic[];
}

export interface DirResult {
  mappings: CompiledMapping[];
  diagnostics: Diagnostic[];
}

interface Checked {
  spec?: MappingSpec;
  reporter: Reporter;
}

function check(text: string, file: string, options: LoadOptions): Checked {
  const { spec, reporter } = parseSpec(text, file);
  const schema = spec && options.schemaFor?.(spec.system, spec.object);
  if (spec && schema) checkAgainstSchema(spec, schema, reporter);
  return { spec, reporter };
}

function finish({ spec, reporter }: Checked): LoadResult {
  // In file order, as an editor lists them.
  const diagnostics = [...reporter.diagnostics].sort((a, b) => a.line - b.line || a.col - b.col);
  return spec && !hasErrors(diagnostics) ? { mapping: compile(spec), diagnostics } : { diagnostics };
}

/** Parses, checks and compiles one mapping held in memory; `file` names it in diagnostics. */
export function parseMapping(text: string, file: string, options: LoadOptions = {}): LoadResult {
  return finish(check(text, file, options));
}

export async function loadMappingFile(path: string, options: LoadOptions = {}): Promise<LoadResult> {
  return parseMapping(await readFile(path, 'utf8'), path, options);
}

/**
 * Loads every *.yaml / *.yml file of a directory (in name order) and checks the files together:
 * one file per system object, and files mapping the same entity agree on who owns each field.
 */
export async function loadMappingDir(dir: string, options: LoadOptions = {}): Promise<DirResult> {
  const names = (await readdir(dir)).filter((n) => /\.ya?ml$/i.test(n)).sort();
  const checked: Checked[] = [];
  for (const name of names) {
    const path = join(dir, name);
    checked.push(check(await readFile(path, 'utf8'), path, options));
  }
  checkAcrossFiles(checked);
  const mappings: CompiledMapping[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const c of checked) {
    const result = finish(c);
    if (result.mapping) mappings.push(result.mapping);
    diagnostics.push(...result.diagnostics);
  }
  return { mappings, diagnostics };
}

function checkAcrossFiles(checked: Checked[]): void {
  const byObject = new Map<string, string>();
  const owners = new Map<string, { owner: string; file: string }>();
  for (const { spec, reporter } of checked) {
    if (!spec) continue;
    const objectKey = `${spec.system}/${spec.object}`;
    const first = byObject.get(objectKey);
    if (first) reporter.error(spec.objectNode, `${spec.system} ${spec.object} is already mapped by ${first}; keep one file per system object`);
    else byObject.set(objectKey, spec.file);
    for (const m of spec.fields) {
      const key = `${spec.entity}.${m.field}`;
      const seen = owners.get(key);
      if (!seen) owners.set(key, { owner: m.systemOfRecord, file: spec.file });
      else if (seen.owner !== m.systemOfRecord) {
        reporter.error(m.nodes.key, `${key} has system of record \`${m.systemOfRecord}\` here but \`${seen.owner}\` in ${seen.file}; files mapping one entity must agree on who owns each field`);
      }
    }
  }
}
