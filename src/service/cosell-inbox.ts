import type { Client, WorkflowHandle } from '@temporalio/client';
import type { ApprovalPolicy } from '../cosell/approval.js';
import { COSELL_SYSTEMS, type CoSellCloud } from '../model/cosell-status.js';
import type { Connection } from '../store/index.js';
import { SA } from '../../workflows/search-attributes.js';
import { inboxWorkflowId, type InboxInput, type InboxView } from '../../workflows/cosell-inbound-types.js';
import { inboxText } from './summaries.js';

export interface CoSellInboxOptions {
  /** Who may accept or reject invitations (its `inbound` section, else its last stage). */
  policy: ApprovalPolicy;
  /** Time between polls of the cloud. Default 5 min. */
  pollIntervalMs?: number;
  pollsPerRun?: number;
  invitation?: InboxInput['invitation'];
}

/**
 * Starts the inbox that turns a cloud's invitations into invitation workflows, for one connection
 * and cloud; an inbox already running is left as it is (USE_EXISTING), so calling this on every
 * `up` is safe. Returns the inbox's handle.
 */
export async function ensureCoSellInbox(
  client: Client,
  taskQueue: string,
  connection: Pick<Connection, 'id' | 'name'>,
  cloud: CoSellCloud,
  options: CoSellInboxOptions,
): Promise<WorkflowHandle> {
  const input: InboxInput = {
    cloud,
    connectionId: connection.id,
    connectionName: connection.name,
    policy: options.policy,
    pollIntervalMs: options.pollIntervalMs,
    pollsPerRun: options.pollsPerRun,
    invitation: options.invitation,
  };
  return client.workflow.start('coSellInboxWorkflow', {
    workflowId: inboxWorkflowId(cloud, connection.id),
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    ...inboxText(cloud, connection.name, options.pollIntervalMs === undefined ? undefined : options.pollIntervalMs / 1000),
    typedSearchAttributes: [
      { key: SA.connection, value: connection.name },
      { key: SA.cloud, value: cloud },
      { key: SA.status, value: 'polling' },
    ],
  });
}

/**
 * Starts the inbox of every cloud the connection holds credentials for (`systems`: the keys of
 * its credentials); returns the clouds whose inbox runs.
 */
export async function ensureCoSellInboxes(
  client: Client,
  taskQueue: string,
  connection: Pick<Connection, 'id' | 'name'>,
  systems: readonly string[],
  options: CoSellInboxOptions,
): Promise<CoSellCloud[]> {
  const clouds = (Object.keys(COSELL_SYSTEMS) as CoSellCloud[]).filter((cloud) => systems.includes(COSELL_SYSTEMS[cloud]));
  for (const cloud of clouds) await ensureCoSellInbox(client, taskQueue, connection, cloud, options);
  return clouds;
}

/** The inbox's cursor and pending count. */
export async function coSellInboxState(client: Client, cloud: CoSellCloud, connectionId: string): Promise<InboxView> {
  return client.workflow.getHandle(inboxWorkflowId(cloud, connectionId)).query<InboxView>('state');
}
