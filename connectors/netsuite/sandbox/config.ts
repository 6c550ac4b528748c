import type { NetSuiteConfig } from '../connector.js';
import type { NetSuiteSandbox } from './server.js';

/** The connector settings that reach a running sandbox account with its integration's certificate. */
export function netsuiteSandboxConfig(sandbox: NetSuiteSandbox): NetSuiteConfig {
  return {
    accountId: sandbox.accountId,
    baseUrl: sandbox.url,
    clientId: sandbox.clientId,
    certificateId: sandbox.certificateId,
    privateKey: sandbox.privateKey,
  };
}
