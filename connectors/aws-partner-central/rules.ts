import {
  ClosedLostReason, CompetitorName, CountryCode, CurrencyCode, DeliveryModel, Industry, MarketingSource,
  NationalSecurity, OpportunityOrigin, OpportunityType, PaymentFrequency, PrimaryNeedFromAws, ReviewStatus,
  SalesActivity, SalesInvolvementType, Stage, Visibility,
  type ValidationExceptionErrorCode, type ValidationExceptionReason,
} from '@aws-sdk/client-partnercentral-selling';

/**
 * The rule table for Partner Central opportunities: the one place that says what AWS accepts.
 * The sandbox answers ValidationException from it and the pre-validator checks payloads with it,
 * so the two cannot drift. Enum values come from the SDK's own model.
 *
 * Two phases, as AWS does it: REQUEST_VALIDATION_FAILED for what the API model itself constrains
 * (enums, patterns, lengths, members the model marks required) and BUSINESS_VALIDATION_FAILED for
 * Partner Central's own rules (fields it needs for co-sell, dates, cross-field conditions). A
 * request failing the first phase is not checked against the second.
 */

export type RulePhase = ValidationExceptionReason;
export const REQUEST: RulePhase = 'REQUEST_VALIDATION_FAILED';
export const BUSINESS: RulePhase = 'BUSINESS_VALIDATION_FAILED';

export interface RuleContext {
  /** The whole object under validation (a CreateOpportunity request, a stored opportunity...). */
  subject: Record<string, any>;
  /** Today as YYYY-MM-DD in UTC: target close dates may not be before it. */
  today: string;
}

export interface FieldRule {
  /** Dotted path; `name[]` walks every element of an array. */
  field: string;
  code: ValidationExceptionErrorCode;
  phase: RulePhase;
  message: string;
  /** True when the value is acceptable. Rules other than required ones only see present values. */
  ok: (value: any, ctx: RuleContext) => boolean;
  /** Also evaluated when the value is absent (required rules). */
  checksAbsent?: boolean;
  /** The rule applies only when this holds. */
  when?: (ctx: RuleContext) => boolean;
}

export function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '') || (Array.isArray(value) && value.length === 0);
}

export function required(field: string, phase: RulePhase, when?: FieldRule['when']): FieldRule {
  return { field, code: 'REQUIRED_FIELD_MISSING', phase, message: `${field} is required.`, ok: (v) => !isAbsent(v), checksAbsent: true, when };
}

export function oneOf(field: string, values: Record<string, string> | readonly string[], phase: RulePhase = REQUEST): FieldRule {
  const allowed = new Set(Array.isArray(values) ? values : Object.values(values));
  const shown = allowed.size <= 12 ? `: ${[...allowed].join(' | ')}` : '';
  return { field, code: 'INVALID_ENUM_VALUE', phase, message: `${field} must be one of the allowed values${shown}.`, ok: (v) => allowed.has(v) };
}

export function matches(field: string, pattern: RegExp, what: string): FieldRule {
  return { field, code: 'INVALID_STRING_FORMAT', phase: REQUEST, message: `${field} must be ${what}.`, ok: (v) => typeof v === 'string' && pattern.test(v) };
}

function lengthBetween(field: string, min: number, max: number): FieldRule {
  return {
    field, code: 'INVALID_VALUE', phase: REQUEST,
    message: min > 0 ? `${field} must be ${min} to ${max} characters long.` : `${field} must be at most ${max} characters long.`,
    ok: (v) => typeof v === 'string' && v.length >= min && v.length <= max,
  };
}

function noDuplicates(field: string): FieldRule {
  return { field, code: 'DUPLICATE_KEY_VALUE', phase: REQUEST, message: `${field} lists a value more than once.`, ok: (v) => !Array.isArray(v) || new Set(v).size === v.length };
}

export function atMost(field: string, max: number): FieldRule {
  return { field, code: 'TOO_MANY_VALUES', phase: REQUEST, message: `${field} accepts at most ${max} values.`, ok: (v) => !Array.isArray(v) || v.length <= max };
}

/** Rule builder for a business rule with its own code and message. */
export function business(field: string, code: ValidationExceptionErrorCode, message: string, ok: FieldRule['ok'], when?: FieldRule['when']): FieldRule {
  return { field, code, phase: BUSINESS, message, ok, when };
}

export const CATALOGS = ['AWS', 'Sandbox'] as const;
export type Catalog = (typeof CATALOGS)[number];

/** Partner Central accepts only these two of the SDK's currency codes for expected spend. */
export const SPEND_CURRENCIES = ['USD', 'EUR'] as const;
export const MAX_SOLUTIONS = 10;

const WEBSITE_URL = /^(https?:\/\/)?([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}(:\d{1,5})?(\/[^\s]*)?$/;
const US_POSTAL_CODE = /^\d{5}(-\d{4})?$/;
const POSTAL_CODE = /^[A-Za-z0-9][A-Za-z0-9 -]{0,18}[A-Za-z0-9]?$/;
const AMOUNT = /^(0|[1-9][0-9]{0,30})(\.[0-9]{0,2})?$/;
const AWS_ACCOUNT_ID = /^[0-9]{12}$/;
const DUNS = /^[0-9]{9}$/;
const EMAIL = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export function isCalendarDate(value: string): boolean {
  if (!ISO_DATE.test(value)) return false;
  const [y, m, d] = value.split('-').map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

const country = (ctx: RuleContext): unknown => ctx.subject.Customer?.Account?.Address?.CountryCode;
const isNationalSecurity = (ctx: RuleContext): boolean => ctx.subject.NationalSecurity === 'Yes';

/**
 * Rules for an opportunity's content: CreateOpportunity requests, and the full record an
 * UpdateOpportunity produces (Update replaces the whole record, so the same rules hold).
 */
export const OPPORTUNITY_RULES: readonly FieldRule[] = [
  // Phase 1: what the API model constrains.
  required('Catalog', REQUEST),
  oneOf('Catalog', CATALOGS),
  oneOf('Origin', OpportunityOrigin),
  oneOf('OpportunityType', OpportunityType),
  oneOf('NationalSecurity', NationalSecurity),
  oneOf('PrimaryNeedsFromAws[]', PrimaryNeedFromAws),
  noDuplicates('PrimaryNeedsFromAws'),
  required('Customer.Account.CompanyName', REQUEST, (ctx) => ctx.subject.Customer?.Account !== undefined),
  lengthBetween('Customer.Account.CompanyName', 1, 120),
  oneOf('Customer.Account.Industry', Industry),
  lengthBetween('Customer.Account.OtherIndustry', 0, 255),
  lengthBetween('Customer.Account.WebsiteUrl', 4, 255),
  matches('Customer.Account.WebsiteUrl', WEBSITE_URL, 'a website address such as https://www.example.com'),
  matches('Customer.Account.AwsAccountId', AWS_ACCOUNT_ID, 'a 12-digit AWS account id'),
  matches('Customer.Account.Duns', DUNS, 'a 9-digit DUNS number'),
  oneOf('Customer.Account.Address.CountryCode', CountryCode),
  matches('Customer.Account.Address.PostalCode', POSTAL_CODE, 'a postal code of letters, digits, spaces and dashes (at most 20)'),
  matches('Customer.Contacts[].Email', EMAIL, 'an email address'),
  matches('OpportunityTeam[].Email', EMAIL, 'an email address'),
  lengthBetween('Project.Title', 1, 255),
  lengthBetween('Project.CustomerBusinessProblem', 20, 2000),
  oneOf('Project.DeliveryModels[]', DeliveryModel),
  oneOf('Project.SalesActivities[]', SalesActivity),
  oneOf('Project.CompetitorName', CompetitorName),
  required('Project.ExpectedCustomerSpend[].CurrencyCode', REQUEST),
  oneOf('Project.ExpectedCustomerSpend[].CurrencyCode', CurrencyCode),
  required('Project.ExpectedCustomerSpend[].Frequency', REQUEST),
  oneOf('Project.ExpectedCustomerSpend[].Frequency', PaymentFrequency),
  required('Project.ExpectedCustomerSpend[].TargetCompany', REQUEST),
  matches('Project.ExpectedCustomerSpend[].Amount', AMOUNT, 'a decimal amount with at most two decimals, such as 2500.00'),
  oneOf('LifeCycle.Stage', Stage),
  oneOf('LifeCycle.ClosedLostReason', ClosedLostReason),
  oneOf('LifeCycle.ReviewStatus', ReviewStatus),
  matches('LifeCycle.TargetCloseDate', ISO_DATE, 'a date formatted YYYY-MM-DD'),
  oneOf('Marketing.Source', MarketingSource),

  // Phase 2: what Partner Central needs before it takes the opportunity.
  required('Customer.Account.CompanyName', BUSINESS, (ctx) => ctx.subject.Customer?.Account === undefined),
  required('Customer.Account.Industry', BUSINESS),
  required('Customer.Account.OtherIndustry', BUSINESS, (ctx) => ctx.subject.Customer?.Account?.Industry === 'Other'),
  required('Customer.Account.WebsiteUrl', BUSINESS, (ctx) => !isNationalSecurity(ctx)),
  required('Customer.Account.Address.CountryCode', BUSINESS),
  required('Customer.Account.Address.PostalCode', BUSINESS),
  required('Customer.Account.Address.StateOrRegion', BUSINESS, (ctx) => country(ctx) === 'US'),
  business('Customer.Account.Address.PostalCode', 'INVALID_STRING_FORMAT', 'Customer.Account.Address.PostalCode must be a US ZIP code (12345 or 12345-6789) when CountryCode is US.',
    (v) => US_POSTAL_CODE.test(v), (ctx) => country(ctx) === 'US'),
  required('OpportunityType', BUSINESS),
  required('Origin', BUSINESS),
  business('Origin', 'INVALID_VALUE', 'Origin must be Partner Referral in the AWS catalog; AWS Referral is only for the Sandbox catalog.',
    (v) => v === 'Partner Referral', (ctx) => ctx.subject.Catalog === 'AWS'),
  business('NationalSecurity', 'INVALID_VALUE', 'NationalSecurity may be Yes only when Customer.Account.Industry is Government.',
    (v) => v !== 'Yes', (ctx) => ctx.subject.Customer?.Account?.Industry !== 'Government'),
  required('Project.Title', BUSINESS),
  required('Project.CustomerBusinessProblem', BUSINESS),
  required('Project.ExpectedCustomerSpend', BUSINESS),
  required('Project.ExpectedCustomerSpend[].Amount', BUSINESS),
  business('Project.ExpectedCustomerSpend[].CurrencyCode', 'INVALID_VALUE', `Expected customer spend must be in ${SPEND_CURRENCIES.join(' or ')}.`,
    (v) => (SPEND_CURRENCIES as readonly string[]).includes(v)),
  required('LifeCycle.TargetCloseDate', BUSINESS),
  business('LifeCycle.TargetCloseDate', 'INVALID_VALUE', 'LifeCycle.TargetCloseDate must be a real date, today or later.',
    (v, ctx) => isCalendarDate(v) && v >= ctx.today),
  required('LifeCycle.ClosedLostReason', BUSINESS, (ctx) => ctx.subject.LifeCycle?.Stage === 'Closed Lost'),
];

/** Rules for CreateOpportunity only: the review status is AWS's to set. */
export const CREATE_ONLY_RULES: readonly FieldRule[] = [
  business('LifeCycle.ReviewStatus', 'INVALID_VALUE', 'LifeCycle.ReviewStatus is set by AWS; a new opportunity starts as Pending Submission.',
    (v) => v === 'Pending Submission'),
];

/**
 * Rules for StartEngagementFromOpportunityTask, checked on `{ ...storedOpportunity, AwsSubmission }`:
 * AWS reviews only complete opportunities that name the partner solution being co-sold.
 */
export const SUBMISSION_RULES: readonly FieldRule[] = [
  required('AwsSubmission.InvolvementType', REQUEST),
  oneOf('AwsSubmission.InvolvementType', SalesInvolvementType),
  oneOf('AwsSubmission.Visibility', Visibility),
  business('AwsSubmission.Visibility', 'INVALID_VALUE', 'Visibility must be Full when InvolvementType is For Visibility Only.',
    (v) => v === 'Full', (ctx) => ctx.subject.AwsSubmission?.InvolvementType === 'For Visibility Only'),
  required('RelatedEntityIdentifiers.Solutions', BUSINESS),
  required('Project.DeliveryModels', BUSINESS),
  required('Project.CustomerUseCase', BUSINESS),
  required('PrimaryNeedsFromAws', BUSINESS, (ctx) => ctx.subject.AwsSubmission?.InvolvementType === 'Co-Sell'),
  business('LifeCycle.Stage', 'INVALID_VALUE', 'Only a Qualified (or later, not Closed Lost) opportunity can be submitted; mature a Prospect first.',
    (v) => v !== 'Prospect' && v !== 'Closed Lost'),
  business('LifeCycle.ReviewStatus', 'INVALID_RESOURCE_STATE', 'The opportunity is already submitted or under review; wait for AWS to finish.',
    (v) => v !== 'Submitted' && v !== 'In review'),
  business('LifeCycle.ReviewStatus', 'INVALID_RESOURCE_STATE', 'A Rejected opportunity cannot be submitted again.', (v) => v !== 'Rejected'),
];
