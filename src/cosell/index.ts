export * from './approval.js';
export * from './status.js';
export * from './payload.js';
export * from './crm.js';
export { ApprovalPolicySchema, parseApprovalPolicy } from './policy-config.js';
