export { startPartnerCentralSandbox, isWriteOperation, SANDBOX_CREDENTIALS } from './server.js';
export type { PartnerCentralSandbox, PartnerCentralSandboxOptions, SandboxAccount } from './server.js';
export { PartnerCentralStore } from './store.js';
export type { ReviewDecision, ReviewOutcome, ReviewRule } from './store.js';
export { SANDBOX_ACCOUNT_ID } from './seed.js';
export { registerPartnerCentralSandboxCommand } from './cli.js';
