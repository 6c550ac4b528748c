export { startNetSuiteSandbox, sandboxAccountId, normalizeAccountId, type NetSuiteSandbox, type NetSuiteSandboxOptions, type ConcurrencyGauge } from './server.js';
export { NetSuiteState, type StoredRecord, type AddressLine, type ItemLine, type DeletedEntry, type EditOptions } from './store.js';
export { SandboxAuth, generateClientKey, ALLOWED_ALGORITHMS, ASSERTION_TYPE, type AssertionAlgorithm, type LoginAuditEntry } from './auth.js';
export { runSuiteQL, SuiteQLError, SqlTime, type QueryResult } from './suiteql.js';
export { RECORD_TYPES, recordType } from './records.js';
export { registerNetSuiteSandboxCommand } from './cli.js';
export { netsuiteSandboxConfig } from './config.js';
