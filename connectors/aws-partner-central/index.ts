export { AwsPartnerCentralClient, mergeForUpdate } from './client.js';
export type { AwsPartnerCentralConfig, ClientStats, EngagementTask, OpportunityInput, OpportunityPatch } from './client.js';
export { PartnerCentralError, isLockedForReview, toPartnerCentralError } from './errors.js';
export type { PartnerCentralProblem } from './errors.js';
export { validateCreateOpportunity, validateOpportunityRecord, validateSubmission, validationExceptionFor, errorsAwsWouldReport } from './validate.js';
export type { FieldError, ValidationIssue } from './validate.js';
export { CATALOGS, OPPORTUNITY_RULES, SUBMISSION_RULES } from './rules.js';
export type { Catalog } from './rules.js';
export { registerPartnerCentralSandboxCommand } from './sandbox/cli.js';
