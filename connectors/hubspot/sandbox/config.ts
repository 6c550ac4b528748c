import type { HubSpotConfig } from '../connector.js';
import type { HubSpotSandbox } from './server.js';

/** The connector settings that reach a running sandbox portal. */
export function hubspotSandboxConfig(sandbox: HubSpotSandbox): HubSpotConfig {
  return { accessToken: sandbox.accessToken, basePath: sandbox.url };
}
