// Every workflow the worker registers. Workflow code is deterministic: it imports only
// @temporalio/workflow, model types and activity interfaces (never I/O, Node built-ins or zod).
export { healthCheckWorkflow } from './health.js';
export { connectionSyncWorkflow, scheduledSyncWorkflow } from './sync.js';
export { coSellWorkflow } from './cosell.js';
export { coSellInvitationWorkflow, coSellInboxWorkflow } from './cosell-inbound.js';
export { privateOfferWorkflow } from './offer.js';
export { drawdownWorkflow, scheduledDrawdownWorkflow } from './drawdown.js';
export { meteringWorkflow, scheduledMeteringWorkflow } from './metering.js';
