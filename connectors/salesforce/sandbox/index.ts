export { startSalesforceSandbox, callOptionsClient } from './server.js';
export type { SalesforceSandbox, SalesforceSandboxOptions, SalesforceSandboxState, RecordEditOptions } from './server.js';
export { SANDBOX_CREDENTIALS, USER_ID, sandboxOrgId } from './auth.js';
export { SalesforceOrg } from './org.js';
export type { Version, SaveResult, WireRecord, OrgChange } from './org.js';
export { startSalesforceWebhooks, type SalesforceWebhooks, type SalesforceWebhookOptions, type SalesforceWebhookTarget } from './webhooks.js';
export { SEED_DEFAULTS, ORGANIZATION_OBJECT } from './seed.js';
export { parseSoql, bindQuery, formatSfDateTime, parseSfDateTime, SoqlError } from './soql.js';
export { salesforceSandboxConfig } from './config.js';
