import type { SalesforceConfig } from '../connector.js';
import { SALESFORCE_API_VERSION } from '../descriptor.js';
import type { SalesforceSandbox } from './server.js';

/** The connector settings that reach a running sandbox with its demo connected app. */
export function salesforceSandboxConfig(sandbox: SalesforceSandbox): SalesforceConfig {
  const c = sandbox.credentials;
  return { loginUrl: sandbox.url, instanceUrl: sandbox.url, clientId: c.clientId, clientSecret: c.clientSecret, refreshToken: c.refreshToken, apiVersion: SALESFORCE_API_VERSION };
}
