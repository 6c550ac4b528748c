export { startAwsMarketplaceSandbox, SANDBOX_CREDENTIALS } from './server.js';
export type { AwsMarketplaceSandbox, AwsMarketplaceSandboxOptions } from './server.js';
export { MarketplaceState } from './state.js';
export type { Agreement } from './agreements.js';
export type { MarketplaceEvent, MarketplaceEvents, EventTarget } from './events.js';
export { SELLER_ACCOUNT_ID, RESELLER_ACCOUNT_ID, BUYER_ACCOUNT_IDS } from './seed.js';
export { registerAwsMarketplaceSandboxCommand } from './cli.js';
