/**
 * Loading mapping files from their text: parse, check against the model and the system's schema,
 * compile. Pure: reading the files from disk is the runtime's (src/runtime/mappings.ts).
 */
import { compile, type CompiledMapping } from './compile.js';
import { hasErrors, type Diagnostic, type Reporter } from './diagnostics.js';
import { parseSpec, type EntitySchemas } from './parse.js';
import { checkAgainstSchema } from './schema-check.js';
import type { MappingSpec, SystemSchema } from './spec.js';

export interface LoadOptions {
  /** The system's field schema (a connector's discover result), to check fields, types and picklists. */
  schemaFor?: (system: string, object: string) => SystemSchema | undefined;
  /**
   * Canonical entities (zod object schemas) by name, besides the model's `ENTITIES`: an entity the
   * model has not got yet, or a test's. A name here wins over the model's.
   */
  entities?: EntitySchemas;
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
  const { spec, reporter } = parseSpec(text, file, options.entities);
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

/** One mapping file's text; `file` names it in diagnostics. */
export interface MappingText {
  file: string;
  text: string;
}

/**
 * Parses, checks and compiles the files of one directory together (give them in name order): one
 * file per system object, and files mapping the same entity agree on who owns each field.
 */
export function parseMappings(files: readonly MappingText[], options: LoadOptions = {}): DirResult {
  const checked = files.map(({ file, text }) => check(text, file, options));
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
    // One file per system object and entity: an opportunity is synced as an Opportunity by one
    // file, and read as a private offer's terms (OfferTerms) by another.
    const objectKey = `${spec.system}/${spec.object}/${spec.entity}`;
    const first = byObject.get(objectKey);
    if (first) reporter.error(spec.objectNode, `${spec.system} ${spec.object} is already mapped to ${spec.entity} by ${first}; keep one file per system object and entity`);
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
