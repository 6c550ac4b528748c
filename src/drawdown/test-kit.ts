/** Builders for the drawdown tests: commitments, source documents and rule sets, checked by the model's schemas. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Commitment, DrawdownSource, type DrawdownEntry, type DrawdownSourceKind, type DrawdownSourceLine } from '../model/index.js';
import { parseRuleSet } from './load.js';
import type { RuleSet } from './rules.js';

export const RULES_DIR = fileURLToPath(new URL('../../rules/', import.meta.url));

/** A rule file's text checked; throws with its findings when it has errors. */
export function rulesFrom(text: string, file: string): RuleSet {
  const { ruleSet, diagnostics } = parseRuleSet({ file, text });
  if (!ruleSet) throw new Error(diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`).join('\n'));
  return ruleSet;
}

/** A shipped rule set (rules/<name>.yaml). */
export function shippedRules(name: string): RuleSet {
  return rulesFrom(readFileSync(`${RULES_DIR}${name}.yaml`, 'utf8'), `rules/${name}.yaml`);
}

export const CUSTOMER = '0190f0a0-0000-7000-8000-000000000001';

export function commitment(fields: Partial<Commitment> & Pick<Commitment, 'program' | 'cloud' | 'ruleSet' | 'amount' | 'startDate' | 'endDate'>): Commitment {
  return Commitment.parse({ id: '0190f0a0-0000-7000-8000-0000000000c1', accountId: CUSTOMER, currency: 'USD', ...fields });
}

/** A line of `amount` (pre-tax), with optional tax, flags and categories. */
export function line(amount: string, more: Partial<DrawdownSourceLine> = {}): DrawdownSourceLine {
  return { amount, ...more };
}

export function source(kind: DrawdownSourceKind, id: string, date: string, lines: DrawdownSourceLine[], more: Partial<DrawdownSource> = {}): DrawdownSource {
  return DrawdownSource.parse({ kind, id, date, currency: 'USD', lines, ...more });
}

/** An entry in brief, for tables of expected ledgers: what it drew, from which period, under which version, and why less. */
export interface Brief {
  id: string;
  period?: string;
  date: string;
  eligible: string;
  overCap?: string;
  version?: string;
  criteria?: string[];
}

export function brief(entries: readonly DrawdownEntry[]): Brief[] {
  return entries.map((e) => ({
    id: e.sourceId,
    ...(e.periodStart ? { period: e.periodStart } : {}),
    date: e.effectiveDate,
    eligible: e.eligibleAmount,
    ...(e.overCapAmount ? { overCap: e.overCapAmount } : {}),
    ...(e.ruleVersion ? { version: e.ruleVersion } : {}),
    ...(e.criteria ? { criteria: e.criteria } : {}),
  }));
}
