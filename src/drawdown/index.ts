/**
 * Committed-spend drawdown without I/O: eligibility rules as versioned data (rules/*.yaml), the
 * engine that turns source documents into ledger entries, and the summary of where a commitment
 * stands. Format of the rule files: rules/README.md.
 */
export { draw, judgingDate, type DrawResult, type Pending } from './engine.js';
export { summarize, summarizePeriods, DEFAULT_THRESHOLDS, type DrawdownAlert, type PeriodSummary, type SummaryOptions } from './summary.js';
export { commitmentPeriods, periodOn } from './periods.js';
export { RuleSetFile, RuleVersion, versionOn, versionNamed, type RuleSet } from './rules.js';
export { parseRuleSet, parseRuleSets, type RuleSetResult, type RuleText } from './load.js';
export { collectSources, agreementSourceId, invoiceSourceId, usageSourceId, MARKETPLACE_CHANNEL, type AgreementFacts, type MonthlyUsageFacts, type Skipped, type SourceInput } from './sources.js';
export { standingOf } from './standing.js';
