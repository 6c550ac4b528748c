/**
 * Eligibility rules as data: one rule set per file in rules/ (rules/README.md), each a list of
 * versions with effective dates. A document is judged by the version in effect on its judging
 * date. This file holds the schema a rule file is checked against and the look-ups the engine
 * makes; load.ts turns a file's text into a RuleSet with file:line:col findings.
 */
import { z } from 'zod';
import { Cloud, CommitmentProgram, DrawdownSourceKind, IsoDate, PROGRAM_CLOUD, Percent } from '../model/index.js';

/** A percentage written as a number (25) or a string ("12.5"). */
const PercentValue = z.union([z.number(), z.string()]).transform(String).pipe(Percent);
const Reason = z.string().min(1);
/** A name as documents carry it: `deployedOnAws`, `professional-services`, `appsource`. */
const Word = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'a name of letters, digits, - and _');

export const RuleVersion = z.object({
  /** Named by people ("2025-05"), recorded on every ledger entry it decides. */
  version: z.union([z.string().min(1), z.number()]).transform(String),
  description: z.string().optional(),
  /** First day the version is in effect. */
  effectiveFrom: IsoDate,
  /** Last day it is in effect; without it, until the next version starts (or for good). */
  effectiveTo: IsoDate.optional(),
  /** The documents that draw down; others get an entry that counts nothing. Refunds and credit notes follow their originals. */
  sourceKinds: z.array(DrawdownSourceKind.exclude(['refund', 'credit-note'])).min(1),
  /** How much of an eligible line counts: a percentage of its amount before tax (or with it). */
  share: z.object({
    percent: PercentValue.default('100'),
    basis: z.enum(['pre-tax', 'with-tax']).default('pre-tax'),
  }).strict().default({ percent: '100', basis: 'pre-tax' }),
  /** A line counts only when each of these flags is true on it. */
  requiredFlags: z.array(z.object({ flag: Word, reason: Reason }).strict()).default([]),
  /** A line in one of these categories does not count. */
  excludedCategories: z.array(z.object({ category: Word, reason: Reason }).strict()).default([]),
  /** A document bought through one of these channels does not count. */
  excludedChannels: z.array(z.object({ channel: Word, reason: Reason }).strict()).default([]),
  /** A document bought before the commitment's start does not count, even when judged after it. */
  excludeBeforeStart: z.boolean().default(false),
  /** A document bought from another country than the commitment's does not count. */
  excludeOtherCountry: z.boolean().default(false),
  /**
   * Marketplace purchases draw at most this share of each period's commitment (AWS). A
   * commitment's `overrides.marketplaceCapPercent` (the contract's figure) wins over `percent`.
   */
  marketplaceCap: z.object({ percent: PercentValue }).strict().optional(),
  refunds: z.object({
    /** A refund of a capped purchase gives its room under the cap back to later purchases. */
    freeCapRoom: z.boolean().default(true),
  }).strict().default({ freeCapRoom: true }),
}).strict();
export type RuleVersion = z.output<typeof RuleVersion>;

export const RuleSetFile = z.object({
  /** The file's name without .yaml; commitments name it in `ruleSet`. */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a lower-case name such as "aws-edp"'),
  description: z.string().optional(),
  cloud: Cloud,
  /** The programs that use this rule set. */
  programs: z.array(CommitmentProgram).min(1),
  /** Which date picks the version and the period: the cloud's invoice date, or the document's own date. */
  judgedBy: z.enum(['invoice-date', 'document-date']),
  versions: z.array(RuleVersion).min(1),
}).strict().superRefine((set, ctx) => {
  set.programs.forEach((p, i) => {
    if (PROGRAM_CLOUD[p] !== set.cloud) ctx.addIssue({ code: 'custom', path: ['programs', i], message: `${p} is a program of ${PROGRAM_CLOUD[p]}, not ${set.cloud}` });
  });
  const seen = new Map<string, number>();
  set.versions.forEach((v, i) => {
    const first = seen.get(v.version);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['versions', i, 'version'], message: `version ${v.version} is already defined (versions[${first}])` });
    else seen.set(v.version, i);
    if (v.effectiveTo !== undefined && v.effectiveTo < v.effectiveFrom) {
      ctx.addIssue({ code: 'custom', path: ['versions', i, 'effectiveTo'], message: `version ${v.version} ends before it starts (${v.effectiveFrom})` });
    }
    const prev = set.versions[i - 1];
    if (!prev) return;
    if (v.effectiveFrom <= prev.effectiveFrom) {
      ctx.addIssue({ code: 'custom', path: ['versions', i, 'effectiveFrom'], message: `versions go in the order they take effect: ${v.version} must start after ${prev.version} (${prev.effectiveFrom})` });
    } else if (prev.effectiveTo !== undefined && v.effectiveFrom <= prev.effectiveTo) {
      ctx.addIssue({ code: 'custom', path: ['versions', i, 'effectiveFrom'], message: `version ${v.version} starts on ${v.effectiveFrom} while ${prev.version} is in effect until ${prev.effectiveTo}; one version is in effect on any day` });
    }
  });
});

/** A rule file, checked; versions in the order they take effect. */
export type RuleSet = z.output<typeof RuleSetFile> & {
  /** The file it was read from, for messages. */
  file?: string;
};

/** The version in effect on a date: the latest one started by then and not yet ended. */
export function versionOn(set: RuleSet, date: string): RuleVersion | undefined {
  let found: RuleVersion | undefined;
  for (const v of set.versions) if (v.effectiveFrom <= date) found = v;
  return found && (found.effectiveTo === undefined || date <= found.effectiveTo) ? found : undefined;
}

/** A version by its name (a ledger entry records the one that decided it). */
export function versionNamed(set: RuleSet, version: string): RuleVersion | undefined {
  return set.versions.find((v) => v.version === version);
}
