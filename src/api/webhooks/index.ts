export { WEBHOOK_BODY_LIMIT, webhooksPlugin, type WebhookDeps, type WebhookReceipt } from './plugin.js';
export { entitiesOf, involves } from './entities.js';
