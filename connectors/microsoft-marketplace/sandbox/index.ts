export {
  startMicrosoftMarketplaceSandbox, type MicrosoftMarketplaceSandbox, type MicrosoftMarketplaceSandboxOptions, type MicrosoftMarketplaceState,
} from './server.js';
export { DEFAULT_PRODUCTS, type Product, type Plan, type Meter, type ProductSeed, type PlanPrices } from './catalog.js';
export type { PrivateOffer, JobView, JobError, Acceptance } from './ingestion.js';
export type { SaasSubscription, SaasOperation, OperationAction, Purchase } from './saas.js';
export type { AcceptedUsage, UsageResult, UsageStatus } from './metering.js';
export type { WebhookBody, MarketplaceWebhookTarget } from './notifications.js';
export * from './ingestion-schema.js';
export { GRAPH_AUDIENCES, MARKETPLACE_API_AUDIENCES, SAAS_API_VERSION } from './wire.js';
export { registerMicrosoftMarketplaceSandboxCommand } from './cli.js';
