/**
 * Drawdown rule files read from disk. src/drawdown only parses and checks their text; reading
 * the files happens here.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseRuleSet, parseRuleSets, type RuleSet, type RuleSetResult } from '../drawdown/index.js';
import { formatDiagnostic, hasErrors, type Diagnostic } from '../mapping/index.js';
import { ROOT } from './paths.js';

/** The shipped rule files. */
export const RULES_DIR = path.join(ROOT, 'rules');

export async function loadRuleFile(file: string): Promise<RuleSetResult> {
  return parseRuleSet({ file, text: await readFile(file, 'utf8') });
}

/** Every *.yaml / *.yml file of a directory, in name order. */
export async function loadRuleDir(dir: string): Promise<{ ruleSets: RuleSet[]; diagnostics: Diagnostic[] }> {
  const names = (await readdir(dir)).filter((n) => /\.ya?ml$/i.test(n)).sort();
  const files = [];
  for (const name of names) {
    const file = path.join(dir, name);
    files.push({ file, text: await readFile(file, 'utf8') });
  }
  return parseRuleSets(files);
}

/** The rule set a commitment names (`aws-edp` → <dir>/aws-edp.yaml); throws with every finding when the file is invalid. */
export async function loadRuleSet(name: string, dir = RULES_DIR): Promise<RuleSet> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`not a rule set name: ${JSON.stringify(name)}`);
  const result = await loadRuleFile(path.join(dir, `${name}.yaml`));
  if (!result.ruleSet || hasErrors(result.diagnostics)) {
    throw new Error(`rule set ${name} is invalid:\n${result.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic).join('\n')}`);
  }
  return result.ruleSet;
}
