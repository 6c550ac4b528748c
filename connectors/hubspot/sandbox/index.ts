export { startHubSpotSandbox, MAX_BATCH_INPUTS, type HubSpotSandbox, type HubSpotSandboxOptions } from './server.js';
export { HubSpotState, type StoredRecord, type RecordChange } from './store.js';
export { startHubSpotWebhooks, SANDBOX_APP_ID, SANDBOX_PORTAL_ID, type HubSpotWebhooks, type HubSpotWebhookOptions, type HubSpotWebhookTarget } from './webhooks.js';
export { SEARCH_RESULT_CAP, SEARCH_MAX_LIMIT } from './search.js';
export { registerHubSpotSandboxCommand } from './cli.js';
export { hubspotSandboxConfig } from './config.js';
