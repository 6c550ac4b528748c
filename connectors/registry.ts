/**
 * The systems ecosync can connect, by name: how to build a connector from a connection's
 * credentials, and each system's static object descriptors (used to validate mappings offline).
 * The one place that knows every connector; connectors themselves never import each other.
 */
import type { Connector, ObjectSpec } from '../src/sync/protocol.js';
import { AWS_MARKETPLACE_OBJECTS } from './aws-marketplace/descriptor.js';
import { AWS_PARTNER_CENTRAL_OBJECTS } from './aws-partner-central/descriptor.js';
import { createHubSpotConnector, type HubSpotConfig } from './hubspot/connector.js';
import { HUBSPOT_OBJECTS } from './hubspot/descriptor.js';
import { MICROSOFT_PARTNER_CENTER_OBJECTS } from './microsoft-partner-center/descriptor.js';
import { createNetSuiteConnector, type NetSuiteConfig } from './netsuite/connector.js';
import { NETSUITE_OBJECTS } from './netsuite/descriptor.js';
import { createSalesforceConnector, type SalesforceConfig } from './salesforce/connector.js';
import { SALESFORCE_OBJECTS } from './salesforce/descriptor.js';

export const CRM_SYSTEMS = ['salesforce', 'hubspot'] as const;
export const ERP_SYSTEMS = ['netsuite'] as const;
/** Every system ecosync syncs records with, as error messages list them. */
export const SYNC_SYSTEMS = [...CRM_SYSTEMS, ...ERP_SYSTEMS] as const;

export function createConnector(system: string, credentials: Record<string, unknown>): Connector {
  switch (system) {
    case 'salesforce':
      return createSalesforceConnector(credentials as unknown as SalesforceConfig, { client: 'ecosync' });
    case 'hubspot':
      return createHubSpotConnector(credentials as unknown as HubSpotConfig);
    case 'netsuite':
      return createNetSuiteConnector(credentials as unknown as NetSuiteConfig);
    default:
      throw new Error(`unknown system "${system}" (known: ${SYNC_SYSTEMS.join(', ')})`);
  }
}

/** A system's objects as its descriptor declares them (no API call). */
export function objectSpecsOf(system: string): readonly ObjectSpec[] | undefined {
  if (system === 'salesforce') return SALESFORCE_OBJECTS;
  if (system === 'hubspot') return HUBSPOT_OBJECTS;
  if (system === 'netsuite') return NETSUITE_OBJECTS;
  return undefined;
}

/** The clouds' objects (co-sells, private offers), which ecosync writes but does not sync: their payload mappings are checked against these. */
export function cloudObjectSpecsOf(system: string): readonly ObjectSpec[] | undefined {
  if (system === 'aws-partner-central') return AWS_PARTNER_CENTRAL_OBJECTS;
  if (system === 'aws-marketplace') return AWS_MARKETPLACE_OBJECTS;
  if (system === 'microsoft-partner-center') return MICROSOFT_PARTNER_CENTER_OBJECTS;
  return undefined;
}

export function objectSpecOf(system: string, object: string): ObjectSpec | undefined {
  return (objectSpecsOf(system) ?? cloudObjectSpecsOf(system))?.find((o) => o.name === object);
}
