export { startHubSpotSandbox, MAX_BATCH_INPUTS, type HubSpotSandbox, type HubSpotSandboxOptions } from './server.js';
export { HubSpotState, type StoredRecord } from './store.js';
export { SEARCH_RESULT_CAP, SEARCH_MAX_LIMIT } from './search.js';
export { registerHubSpotSandboxCommand } from './cli.js';
