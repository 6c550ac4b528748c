import { SALESFORCE_HUBSPOT } from '../../src/runtime/demo.js';
import type { ConnectionInput } from '../../src/store/index.js';

/**
 * A connection between the Salesforce sandbox and the HubSpot one, as a user would make it: the
 * shipped mappings (or some of the entities), deletes propagated; one-way reads Salesforce only.
 * The credentials come from src/runtime/demo.ts (sandboxCredentials, cloudSandboxCredentials).
 */
export function sandboxConnection(input: {
  name: string;
  mode: 'one-way' | 'bidirectional';
  credentials: NonNullable<ConnectionInput['credentials']>;
  entities?: NonNullable<ConnectionInput['entities']>;
}): ConnectionInput {
  const oneWay = input.mode === 'one-way';
  return {
    name: input.name,
    systems: SALESFORCE_HUBSPOT.systems.map((s, i) => ({ ...s, role: oneWay ? (i === 0 ? 'source' : 'target') : 'both' })),
    entities: input.entities ?? SALESFORCE_HUBSPOT.entities,
    deletePolicy: 'propagate',
    credentials: input.credentials,
  };
}
