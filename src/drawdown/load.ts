/**
 * Rule files from their text: YAML parsed with positions, checked against the rule schema, every
 * problem reported as file:line:col (the same diagnostics as mapping files). Pure: reading the
 * files from disk is the runtime's (src/runtime/rules.ts).
 */
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { hasErrors, offsetAtPath, Reporter, suggest, yamlErrorMessage, type Diagnostic } from '../mapping/diagnostics.js';
import { addDays } from './periods.js';
import { RuleSetFile, type RuleSet } from './rules.js';

export interface RuleSetResult {
  /** Present when the file has no errors (warnings allowed). */
  ruleSet?: RuleSet;
  diagnostics: Diagnostic[];
}

export interface RuleText {
  /** Named so in diagnostics; its name without .yaml must be the rule set's `name`. */
  file: string;
  text: string;
}

/** Parses and checks one rule file held in memory. */
export function parseRuleSet({ file, text }: RuleText): RuleSetResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const r = new Reporter(file, lines);
  for (const e of doc.errors) r.error(e.pos[0], yamlErrorMessage(e.message));
  if (doc.errors.length > 0) return finish(r);

  const parsed = RuleSetFile.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        const known = keysAt(RuleSetFile, issue.path);
        for (const key of issue.keys) {
          r.error(offsetAtPath(doc, [...issue.path, key], true), `unknown key \`${key}\`${suggest(key, known)}; known here: ${known.map((k) => `\`${k}\``).join(', ')}`);
        }
      } else if (issue.path.length > 0 && !doc.hasIn(issue.path)) {
        r.error(offsetAtPath(doc, issue.path), `missing \`${pathText(issue.path)}\``);
      } else {
        r.error(offsetAtPath(doc, issue.path), issue.path.length > 0 ? `\`${pathText(issue.path)}\`: ${issue.message}` : issue.message);
      }
    }
    return finish(r);
  }
  const ruleSet: RuleSet = { ...parsed.data, file };
  const stem = file.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/i, '');
  if (ruleSet.name !== stem) r.error(offsetAtPath(doc, ['name']), `the rule set \`${ruleSet.name}\` must be in a file named ${ruleSet.name}.yaml, so a commitment's ruleSet finds it`);
  ruleSet.versions.forEach((v, i) => {
    const next = ruleSet.versions[i + 1];
    if (next && v.effectiveTo !== undefined && addDays(v.effectiveTo, 1) < next.effectiveFrom) {
      r.warning(offsetAtPath(doc, ['versions', i + 1, 'effectiveFrom']), `no version is in effect from ${addDays(v.effectiveTo, 1)} to ${addDays(next.effectiveFrom, -1)}: documents judged then count nothing`);
    }
  });
  return finish(r, ruleSet);
}

/** Several rule files (a directory's, in name order): each checked, and each rule set named once. */
export function parseRuleSets(files: readonly RuleText[]): { ruleSets: RuleSet[]; diagnostics: Diagnostic[] } {
  const ruleSets: RuleSet[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const f of files) {
    const result = parseRuleSet(f);
    if (result.ruleSet) ruleSets.push(result.ruleSet);
    diagnostics.push(...result.diagnostics);
  }
  return { ruleSets, diagnostics };
}

function finish(r: Reporter, ruleSet?: RuleSet): RuleSetResult {
  const diagnostics = [...r.diagnostics].sort((a, b) => a.line - b.line || a.col - b.col);
  return ruleSet && !hasErrors(diagnostics) ? { ruleSet, diagnostics } : { diagnostics };
}

/** `versions[1].effectiveFrom` */
function pathText(path: readonly PropertyKey[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i > 0 ? '.' : ''}${String(k)}`)).join('');
}

/** The keys the schema allows for the object at a path, for "unknown key" messages. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: unknown = schema;
  const unwrap = (x: unknown): unknown => {
    for (;;) {
      const def = (x as { def?: { type?: string; innerType?: unknown; in?: unknown } }).def;
      if (def?.type === 'optional' || def?.type === 'default' || def?.type === 'nullable') x = def.innerType;
      else if (def?.type === 'pipe') x = def.in;
      else return x;
    }
  };
  for (const key of path) {
    s = unwrap(s);
    const def = (s as { def: { type: string; element?: unknown; shape?: Record<string, unknown> } }).def;
    if (def.type === 'array' && typeof key === 'number') s = def.element;
    else if (def.type === 'object' && def.shape && typeof key === 'string') s = def.shape[key];
    else return [];
  }
  const shape = (unwrap(s) as { def: { shape?: Record<string, unknown> } }).def.shape;
  return Object.keys(shape ?? {});
}
