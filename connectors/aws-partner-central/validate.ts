import type { CreateOpportunityRequest, ValidationExceptionErrorCode } from '@aws-sdk/client-partnercentral-selling';
import {
  BUSINESS, CREATE_ONLY_RULES, isAbsent, OPPORTUNITY_RULES, REQUEST, SUBMISSION_RULES,
  type FieldRule, type RuleContext, type RulePhase,
} from './rules.js';

/**
 * Pre-validation: checks a payload against the rule table the sandbox enforces, so a payload
 * AWS would reject never costs a call. Pure: no I/O, the clock is a parameter.
 */

export interface FieldError {
  /** Dotted path as AWS names it: Customer.Account.WebsiteUrl, Project.ExpectedCustomerSpend[0].Amount. */
  field: string;
  code: ValidationExceptionErrorCode;
  message: string;
}

export interface ValidationIssue extends FieldError {
  phase: RulePhase;
}

export interface ValidateOptions {
  now?: Date;
}

/** Every error in a CreateOpportunity request, both phases, in rule-table order. */
export function validateCreateOpportunity(request: CreateOpportunityRequest, options: ValidateOptions = {}): ValidationIssue[] {
  return checkRules([...OPPORTUNITY_RULES, ...CREATE_ONLY_RULES], request as unknown as Record<string, unknown>, options);
}

/** Every error in a full opportunity record as UpdateOpportunity would store it. */
export function validateOpportunityRecord(record: Record<string, unknown>, options: ValidateOptions = {}): ValidationIssue[] {
  return checkRules(OPPORTUNITY_RULES, record, options);
}

/** Whether a stored opportunity (with its related entities) can be submitted with this AwsSubmission. */
export function validateSubmission(
  opportunity: Record<string, unknown>,
  awsSubmission: { InvolvementType?: string; Visibility?: string } | undefined,
  options: ValidateOptions = {},
): ValidationIssue[] {
  return checkRules(SUBMISSION_RULES, { ...opportunity, AwsSubmission: awsSubmission }, options);
}

/**
 * What AWS answers for these issues: the first failing phase only (a request that fails model
 * validation is never checked against business rules). Undefined when there is nothing to say.
 */
export function validationExceptionFor(issues: ValidationIssue[]):
  | { Reason: RulePhase; message: string; ErrorList: { FieldName: string; Message: string; Code: ValidationExceptionErrorCode }[] }
  | undefined {
  if (issues.length === 0) return undefined;
  const phase = issues.some((i) => i.phase === REQUEST) ? REQUEST : BUSINESS;
  const shown = issues.filter((i) => i.phase === phase);
  return {
    Reason: phase,
    message: phase === REQUEST ? 'The request failed validation.' : 'The request failed business validation.',
    ErrorList: shown.map((i) => ({ FieldName: i.field, Message: i.message, Code: i.code })),
  };
}

/** The errors AWS would answer (first failing phase), as plain field errors. */
export function errorsAwsWouldReport(issues: ValidationIssue[]): FieldError[] {
  const body = validationExceptionFor(issues);
  return body ? body.ErrorList.map((e) => ({ field: e.FieldName, code: e.Code, message: e.Message })) : [];
}

export function checkRules(rules: readonly FieldRule[], subject: Record<string, unknown>, options: ValidateOptions = {}): ValidationIssue[] {
  const ctx: RuleContext = { subject, today: (options.now ?? new Date()).toISOString().slice(0, 10) };
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  const malformed = new Set<string>();
  for (const rule of rules) {
    if (rule.when && !rule.when(ctx)) continue;
    for (const { path, value } of valuesAt(subject, rule.field)) {
      const absent = isAbsent(value);
      if (absent && !rule.checksAbsent) continue;
      // A value that fails the model's own rules is not judged again by business rules.
      if (rule.phase === BUSINESS && malformed.has(path)) continue;
      if (rule.ok(value, ctx)) continue;
      // One error per field and code: a field missing in both phases is reported once.
      const key = `${path}|${rule.code}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (rule.phase === REQUEST) malformed.add(path);
      issues.push({ field: path, code: rule.code, message: rule.message.replaceAll(rule.field, path), phase: rule.phase });
    }
  }
  return issues;
}

/**
 * Values at a dotted path. `name[]` steps into every element of an array (no element, no value:
 * the array's own rules speak for it); a missing object on the way yields one absent value.
 */
export function valuesAt(subject: unknown, field: string): { path: string; value: unknown }[] {
  let current: { path: string; value: unknown }[] = [{ path: '', value: subject }];
  for (const segment of field.split('.')) {
    const each = segment.endsWith('[]');
    const name = each ? segment.slice(0, -2) : segment;
    const next: { path: string; value: unknown }[] = [];
    for (const { path, value } of current) {
      const child = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[name] : undefined;
      const childPath = path ? `${path}.${name}` : name;
      if (!each) {
        next.push({ path: childPath, value: child });
      } else if (Array.isArray(child)) {
        child.forEach((element, i) => next.push({ path: `${childPath}[${i}]`, value: element }));
      }
    }
    current = next;
  }
  return current;
}
