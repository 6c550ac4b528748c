import { SALESFORCE_HUBSPOT_OBJECTS } from '../../src/runtime/demo.js';
import type { ConnectionInput } from '../../src/store/index.js';

/**
 * A connection from the Salesforce sandbox to the HubSpot one, as a user would make it: the
 * shipped mappings (or some of them), deletes propagated. The credentials come from
 * src/runtime/demo.ts (sandboxCredentials, cloudSandboxCredentials).
 */
export function sandboxConnection(input: {
  name: string;
  mode: ConnectionInput['mode'];
  credentials: NonNullable<ConnectionInput['credentials']>;
  objects?: NonNullable<ConnectionInput['objects']>;
}): ConnectionInput {
  return {
    name: input.name,
    sourceSystem: 'salesforce',
    targetSystem: 'hubspot',
    mode: input.mode,
    objects: input.objects ?? SALESFORCE_HUBSPOT_OBJECTS,
    deletePolicy: 'propagate',
    credentials: input.credentials,
  };
}
