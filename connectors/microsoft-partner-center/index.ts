export * from './referral.js';
export * from './validate.js';
export * from './json-patch.js';
export * from './client.js';
export { registerMicrosoftSandboxCommand, sandboxBanner } from './cli.js';
export { startMicrosoftSandbox, type MicrosoftSandbox, type MicrosoftSandboxOptions, type MicrosoftSandboxState } from './sandbox/server.js';
export { defaultDecide, CO_SELL_THRESHOLD, type DecideRule, type MicrosoftDecision } from './sandbox/referrals.js';
