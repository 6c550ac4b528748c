import { Client, ScheduleNotFoundError, ScheduleOverlapPolicy, WithStartWorkflowOperation, WorkflowNotFoundError } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import type { Logger } from 'pino';
import {
  METERED_CLOUDS, meteringScheduleId, meteringWorkflowId,
  type MeteredCloud, type MeteringReplayResult, type MeteringSettings, type MeteringStatus, type MeteringWorkflowInput,
} from '../../workflows/metering-types.js';
import { SA } from '../../workflows/search-attributes.js';
import type { UsageRecord } from '../model/index.js';
import type { Connection, Store } from '../store/index.js';
import type { WorkflowText } from './summaries.js';

/**
 * Usage metering as the API, the CLI and activities drive it: usage kept once per sender's key,
 * then each metered cloud's workflow of the connection woken (started when it does not run); its
 * hourly Schedule; replays of its dead letters; its status.
 */
export interface MeteringControl {
  client: Client;
  taskQueue: string;
  /** The workflow's settings when this call starts it (a running workflow keeps its own). */
  settings?: MeteringSettings;
}

/** Where a cloud's marketplace credentials are kept in a connection's credentials. */
export const METERING_SYSTEMS: Record<MeteredCloud, string> = { aws: 'aws-marketplace', azure: 'microsoft-marketplace' };
const CLOUD_NAMES: Record<MeteredCloud, string> = { aws: 'AWS Marketplace', azure: 'Microsoft marketplace' };

/** The clouds the connection meters to: those it holds marketplace credentials for. */
export async function meteredClouds(store: Store, connection: Pick<Connection, 'id'>): Promise<MeteredCloud[]> {
  const credentials = (await store.connections.getCredentials(connection.id)) ?? {};
  return METERED_CLOUDS.filter((cloud) => credentials[METERING_SYSTEMS[cloud]] !== undefined);
}

export function meteringText(connection: Pick<Connection, 'id' | 'name'>, cloud: MeteredCloud): WorkflowText {
  return {
    staticSummary: `Metering · ${connection.name} · ${CLOUD_NAMES[cloud]}`,
    staticDetails: [
      `Sends connection **${connection.name}**'s usage to ${CLOUD_NAMES[cloud]} (${cloud === 'aws' ? 'BatchMeterUsage' : 'batchUsageEvent'}): one record per customer, dimension and hour, at most 25 a call, each hour once.`,
      `Woken by usage arriving at the ingest API and by its hourly Schedule (\`${meteringScheduleId(connection.id, cloud)}\`). Usage past ${cloud === 'aws' ? 'AWS\'s 6-hour' : 'Microsoft\'s 24-hour'} window becomes a dead letter with the reason.`,
    ].join('\n'),
  };
}

function startOptions(control: MeteringControl, connection: Pick<Connection, 'id' | 'name'>, cloud: MeteredCloud) {
  const input: MeteringWorkflowInput = { connectionId: connection.id, cloud, connectionName: connection.name, ...(control.settings ? { settings: control.settings } : {}) };
  return {
    ...meteringText(connection, cloud),
    taskQueue: control.taskQueue,
    workflowId: meteringWorkflowId(connection.id, cloud),
    args: [input] as [MeteringWorkflowInput],
    typedSearchAttributes: [
      { key: SA.connection, value: connection.name },
      { key: SA.cloud, value: cloud },
      { key: SA.status, value: 'idle' },
    ],
  };
}

/** Wakes the connection's metering workflow for the cloud, starting it when it does not run. */
export async function wakeMetering(control: MeteringControl, connection: Pick<Connection, 'id' | 'name'>, cloud: MeteredCloud): Promise<void> {
  await control.client.workflow.signalWithStart('meteringWorkflow', { ...startOptions(control, connection, cloud), signal: 'usageArrived', signalArgs: [] });
}

export interface IngestOutcome {
  /** Records kept now. */
  accepted: number;
  /** Records whose key the hub already had (sent again: counted once), with their keys. */
  duplicates: string[];
  /** The clouds whose metering workflow was woken. */
  woken: MeteredCloud[];
}

/** The same key twice in one batch with other usage: the sender has two meanings for one key. */
export class ConflictingKeys extends Error {
  constructor(readonly conflicts: Array<{ index: number; first: number; key: string }>) {
    super(`${conflicts.length} record(s) reuse a dedupe key of an earlier record with other usage`);
    this.name = 'ConflictingKeys';
  }
}

/**
 * Keeps a batch of usage once per sender's key and wakes the metering workflows of the clouds it
 * names. A key repeated in the batch with the same usage counts once; with other usage the
 * batch is refused whole (ConflictingKeys), before anything is kept. A metering workflow that
 * cannot be woken now (Temporal down) is logged: the hourly Schedule sends the usage later.
 */
export async function ingestUsage(
  deps: { store: Store; control: MeteringControl; log: { warn(details: Record<string, unknown>, message: string): void } },
  connection: Pick<Connection, 'id' | 'name'>,
  records: readonly UsageRecord[],
): Promise<IngestOutcome> {
  const firstOf = new Map<string, { index: number; same: string }>();
  const unique: UsageRecord[] = [];
  const conflicts: Array<{ index: number; first: number; key: string }> = [];
  const repeated: string[] = [];
  records.forEach((record, index) => {
    const same = JSON.stringify([record.accountId, record.cloud, record.product, record.plan ?? null, record.dimension, record.quantity, Date.parse(record.hour)]);
    const first = firstOf.get(record.dedupeKey);
    if (!first) {
      firstOf.set(record.dedupeKey, { index, same });
      unique.push(record);
    } else if (first.same !== same) conflicts.push({ index, first: first.index, key: record.dedupeKey });
    else repeated.push(record.dedupeKey);
  });
  if (conflicts.length > 0) throw new ConflictingKeys(conflicts);
  const { accepted, duplicates } = await deps.store.metering.ingest(connection.id, unique);
  const clouds = new Set(unique.map((r) => r.cloud));
  const metered = (await meteredClouds(deps.store, connection)).filter((c) => clouds.has(c));
  const woken: MeteredCloud[] = [];
  if (accepted.length > 0) {
    for (const cloud of metered) {
      try {
        await wakeMetering(deps.control, connection, cloud);
        woken.push(cloud);
      } catch (error) {
        deps.log.warn({ connection: connection.name, cloud, err: (error as Error).message }, 'usage kept, but its metering workflow could not be woken: the hourly Schedule sends it');
      }
    }
  }
  return { accepted: accepted.length, duplicates: [...duplicates, ...repeated], woken };
}

/** Opens metering dead letters to be sent again, in the cloud's workflow (one writer at a time), and runs a pass. */
export async function replayMetering(control: MeteringControl, connection: Pick<Connection, 'id' | 'name'>, cloud: MeteredCloud, ids?: string[]): Promise<MeteringReplayResult> {
  const start = new WithStartWorkflowOperation('meteringWorkflow', { ...startOptions(control, connection, cloud), workflowIdConflictPolicy: 'USE_EXISTING' });
  return control.client.workflow.executeUpdateWithStart<Workflow, MeteringReplayResult, [unknown]>('replayMetering', { args: [{ ids }], startWorkflowOperation: start });
}

/** The workflow's status, or undefined when it does not run. */
export async function meteringStatus(control: Pick<MeteringControl, 'client'>, connectionId: string, cloud: MeteredCloud): Promise<MeteringStatus | undefined> {
  try {
    return await control.client.workflow.getHandle(meteringWorkflowId(connectionId, cloud)).query<MeteringStatus>('meteringStatus');
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

/** The hourly Schedule that wakes the workflow (a backstop to the ingest signal: late reporters, a Temporal outage during an ingest). */
export async function ensureMeteringSchedule(control: MeteringControl, connection: Pick<Connection, 'id' | 'name'>, cloud: MeteredCloud): Promise<'created' | 'exists'> {
  const id = meteringScheduleId(connection.id, cloud);
  try {
    await control.client.schedule.getHandle(id).describe();
    return 'exists';
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
  await control.client.schedule.create({
    scheduleId: id,
    // A few minutes past each hour: the hour just closed has had its grace.
    spec: { intervals: [{ every: '1h', offset: '15m' }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'scheduledMeteringWorkflow',
      args: [{ connectionId: connection.id, cloud }],
      taskQueue: control.taskQueue,
      workflowId: `metering-trigger:${connection.id}:${cloud}`,
      typedSearchAttributes: [{ key: SA.connection, value: connection.name }, { key: SA.cloud, value: cloud }],
      staticSummary: `Metering trigger · ${connection.name} · ${CLOUD_NAMES[cloud]} · hourly`,
      staticDetails: `Started by the hourly Schedule: wakes \`${meteringWorkflowId(connection.id, cloud)}\`.`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
  }).catch((error: unknown) => {
    // Made meanwhile by another run: the same Schedule.
    if ((error as Error).name !== 'ScheduleAlreadyRunning') throw error;
  });
  return 'created';
}

/** What the metering activities need of the service: waking a workflow and its Schedule, by connection id. */
export function meteringActivityDeps(deps: { store: Store; client: Client; taskQueue: string; log: Logger }) {
  const control: MeteringControl = { client: deps.client, taskQueue: deps.taskQueue };
  const connectionOf = async (connectionId: string) => {
    const connection = await deps.store.connections.get(connectionId);
    if (!connection) throw new Error(`connection ${connectionId} does not exist`);
    return connection;
  };
  return {
    store: deps.store,
    log: deps.log,
    wake: async ({ connectionId, cloud }: { connectionId: string; cloud: MeteredCloud }) => wakeMetering(control, await connectionOf(connectionId), cloud),
    ensureSchedule: async ({ connectionId, cloud }: { connectionId: string; cloud: MeteredCloud }) => { await ensureMeteringSchedule(control, await connectionOf(connectionId), cloud); },
  };
}
