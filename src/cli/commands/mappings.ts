import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  formatDiagnostic, hasErrors, type CompiledMapping, type Diagnostic, type LoadOptions, type MapOutcome,
} from '../../mapping/index.js';
import { loadMappingDir, loadMappingFile } from '../../runtime/mappings.js';
import { EXIT } from '../exit.js';

export interface MappingCommandOptions {
  /** Field schemas of the connected systems, to check mappings against them. */
  schemaFor?: LoadOptions['schemaFor'];
  /** Where normal output and findings go (stdout and stderr by default). */
  out?: (line: string) => void;
  err?: (line: string) => void;
}

/** `ecosync mappings validate|preview`: check mapping files and try them on a record. */
export function registerMappingCommands(program: Command, options: MappingCommandOptions = {}): void {
  const out = options.out ?? ((line: string) => process.stdout.write(line + '\n'));
  const err = options.err ?? ((line: string) => process.stderr.write(line + '\n'));
  const load = { schemaFor: options.schemaFor };

  const mappings = program.command('mappings').description('check mapping files and preview what they do to a record');

  mappings
    .command('validate')
    .description('check mapping files against the canonical model (and the systems\' schemas); print every finding as file:line:col')
    .argument('[path]', 'a mapping file or a directory of them', 'mappings')
    .action(async (path: string) => {
      let diagnostics: Diagnostic[];
      let files: number;
      try {
        if ((await stat(path)).isDirectory()) {
          const result = await loadMappingDir(path, load);
          diagnostics = result.diagnostics;
          files = new Set([...result.mappings.map((m) => m.file), ...diagnostics.map((d) => d.file)]).size;
        } else {
          diagnostics = (await loadMappingFile(path, load)).diagnostics;
          files = 1;
        }
      } catch (error) {
        err(`ecosync: cannot read ${path}: ${(error as Error).message}`);
        process.exitCode = EXIT.invalidInput;
        return;
      }
      for (const d of diagnostics) out(formatDiagnostic(d));
      const errors = diagnostics.filter((d) => d.severity === 'error').length;
      const warnings = diagnostics.length - errors;
      out(`${files} mapping file${files === 1 ? '' : 's'} checked: ${count(errors, 'error')}, ${count(warnings, 'warning')}`);
      process.exitCode = errors > 0 ? EXIT.invalidInput : EXIT.ok;
    });

  mappings
    .command('preview')
    .description('map a record with a mapping file and print the result as JSON')
    .argument('<file>', 'the mapping file')
    .requiredOption('--input <json>', 'the record: a JSON file, or inline JSON (an object, or an array of them)')
    .option('--reverse', 'map a canonical record to the system instead of a system record to the canonical model')
    .action(async (file: string, opts: { input: string; reverse?: boolean }) => {
      const { mapping, diagnostics } = await loadMappingFile(file, load).catch((error: Error) => {
        err(`ecosync: cannot read ${file}: ${error.message}`);
        return { mapping: undefined, diagnostics: [] as Diagnostic[] };
      });
      for (const d of diagnostics) err(formatDiagnostic(d));
      if (!mapping || hasErrors(diagnostics)) {
        process.exitCode = EXIT.invalidInput;
        return;
      }
      const input = await readInput(opts.input).catch((error: Error) => error);
      if (input instanceof Error) {
        err(`ecosync: --input: ${input.message}`);
        process.exitCode = EXIT.invalidInput;
        return;
      }
      const records = Array.isArray(input) ? input : [input];
      const results: unknown[] = [];
      let failed = false;
      records.forEach((record, i) => {
        const where = records.length > 1 ? `record ${i + 1}: ` : '';
        if (record === null || typeof record !== 'object' || Array.isArray(record)) {
          err(`${where}error: a record is a JSON object of fields`);
          failed = true;
          return;
        }
        const outcome = preview(mapping, record as Record<string, unknown>, opts.reverse === true);
        for (const u of outcome.unresolved) {
          err(`${where}note: ${u.field} refers to ${u.entity} ${u.id}, which a preview does not translate (the sync does)`);
        }
        if (!outcome.ok) {
          for (const e of outcome.errors) err(`${where}error: ${e.field}: ${e.message} (${e.code})`);
          failed = true;
          return;
        }
        results.push(outcome.value);
      });
      if (results.length > 0) out(JSON.stringify(Array.isArray(input) ? results : results[0], null, 2));
      process.exitCode = failed ? EXIT.invalidInput : EXIT.ok;
    });
}

function preview(mapping: CompiledMapping, record: Record<string, unknown>, reverse: boolean): MapOutcome<Record<string, unknown>> {
  return reverse ? mapping.reverse(record) : mapping.forward(record);
}

/** Inline JSON when it looks like JSON, else a file holding it. */
async function readInput(input: string): Promise<unknown> {
  const text = /^\s*[[{]/.test(input) ? input : await readFile(input, 'utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`not valid JSON: ${(error as Error).message}`);
  }
}

const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
