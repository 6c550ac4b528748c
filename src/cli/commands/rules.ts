import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { formatDiagnostic, type Diagnostic } from '../../mapping/index.js';
import { loadRuleDir, loadRuleFile, RULES_DIR } from '../../runtime/rules.js';
import { EXIT } from '../exit.js';

export interface RuleCommandOptions {
  /** Where normal output goes (stdout by default). */
  out?: (line: string) => void;
  err?: (line: string) => void;
}

/** `ecosync rules validate`: check the drawdown eligibility rule files. */
export function registerRuleCommands(program: Command, options: RuleCommandOptions = {}): void {
  const out = options.out ?? ((line: string) => process.stdout.write(line + '\n'));
  const err = options.err ?? ((line: string) => process.stderr.write(line + '\n'));

  const rules = program.command('rules').description('check the committed-spend drawdown eligibility rules');

  rules
    .command('validate')
    .description('check rule files against the rule format; print every finding as file:line:col')
    .argument('[path]', 'a rule file or a directory of them', RULES_DIR)
    .action(async (path: string) => {
      let diagnostics: Diagnostic[];
      let files: number;
      try {
        if ((await stat(path)).isDirectory()) {
          const result = await loadRuleDir(path);
          diagnostics = result.diagnostics;
          files = new Set([...result.ruleSets.map((r) => r.file), ...diagnostics.map((d) => d.file)]).size;
        } else {
          diagnostics = (await loadRuleFile(path)).diagnostics;
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
      out(`${files} rule file${files === 1 ? '' : 's'} checked: ${count(errors, 'error')}, ${count(warnings, 'warning')}`);
      process.exitCode = errors > 0 ? EXIT.invalidInput : EXIT.ok;
    });
}

const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
