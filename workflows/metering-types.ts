/**
 * Types shared by the metering workflow, its activities and the code that drives it (API, CLI).
 * Plain data only: workflow code imports this file.
 */

/** The clouds ecosync meters usage to: AWS Marketplace (BatchMeterUsage) and the Microsoft marketplace (batchUsageEvent). */
export type MeteredCloud = 'aws' | 'azure';
export const METERED_CLOUDS: readonly MeteredCloud[] = ['aws', 'azure'];

export interface MeteringSettings {
  /**
   * How long after an hour ends its usage may still arrive: the hour is sent once this has passed
   * too (default 10 minutes). The clouds take one record per customer, dimension and hour, so
   * usage that arrives after its hour was sent cannot be metered.
   */
  graceMs?: number;
  /** After usage arrives, how long the workflow waits for more before a pass (default 5 s): one batch of calls for a burst of ingests. */
  quietMs?: number;
  /** Batches one activity sends before the workflow records progress (default 40). */
  batchesPerPass?: number;
}

export interface MeteringWorkflowInput {
  connectionId: string;
  cloud: MeteredCloud;
  /** The connection's name, for the Temporal UI. */
  connectionName: string;
  settings?: MeteringSettings;
  /** Carried across continue-as-new. */
  totals?: MeteringCounts;
  passes?: number;
  last?: PassSummary;
  /** A wake-up that arrived before continue-as-new and is still to be served. */
  awake?: boolean;
  /** The Schedule was made sure of by an earlier run. */
  scheduled?: boolean;
  /** Continue-as-new once the history passes this many events (default 2,000). */
  historyLimit?: number;
}

/** What metering did, in hours (one customer's usage of one dimension in one hour is one record to the cloud). */
export interface MeteringCounts {
  /** Calls made to the cloud (BatchMeterUsage, batchUsageEvent). */
  calls: number;
  /** Hours the cloud took. */
  sent: number;
  /** Hours the cloud already had (DuplicateRecord, Duplicate): done, not sent twice. */
  duplicates: number;
  /** Hours given up, with their reason, as dead letters. */
  deadLettered: number;
  /** Hours the cloud did not get to (UnprocessedRecords, Error): sent again by the next pass. */
  unprocessed: number;
}

export const ZERO_METERING: MeteringCounts = { calls: 0, sent: 0, duplicates: 0, deadLettered: 0, unprocessed: 0 };

export function addMetering(a: MeteringCounts, b: MeteringCounts): MeteringCounts {
  return {
    calls: a.calls + b.calls, sent: a.sent + b.sent, duplicates: a.duplicates + b.duplicates,
    deadLettered: a.deadLettered + b.deadLettered, unprocessed: a.unprocessed + b.unprocessed,
  };
}

export interface PassInput {
  connectionId: string;
  cloud: MeteredCloud;
  graceMs: number;
  batchesPerPass: number;
}

export interface PassResult {
  counts: MeteringCounts;
  /** More hours are due than this pass sent: run another at once. */
  more: boolean;
  /** When the next waiting hour falls due (its end plus the grace), if usage waits for one. */
  nextDueAt?: string;
}

export interface PassSummary {
  at: string;
  counts: MeteringCounts;
  error?: string;
}

export interface MeteringReplayResult {
  /** Dead letters whose usage waits to be sent again (the pass that follows sends it, or letters it again). */
  replayed: number;
  /** Dead letters whose hour the cloud already has: nothing more can be sent for them. */
  stillFailing: number;
}

export interface MeteringStatus {
  connectionId: string;
  cloud: MeteredCloud;
  phase: 'idle' | 'metering';
  passes: number;
  totals: MeteringCounts;
  last?: PassSummary;
  nextDueAt?: string;
}

/** The activities the metering workflows call; implemented in src/activities/metering.ts. */
export interface MeteringActivities {
  /** Sends what is due: hours left unfinished first, then closed hours, at most 25 a call, the intent written before each call and the outcome after. */
  meteringPass(input: PassInput): Promise<PassResult>;
  /** Opens dead letters of the connection's cloud (all, or these ids) to be sent again. */
  replayMeteringLetters(input: { connectionId: string; cloud: MeteredCloud; ids?: string[] }): Promise<MeteringReplayResult>;
  /** Makes sure the hourly Schedule that wakes this workflow exists. */
  ensureMeteringSchedule(input: { connectionId: string; cloud: MeteredCloud }): Promise<void>;
  /** Wakes the connection's metering workflow for the cloud, starting it when it does not run. */
  wakeMetering(input: { connectionId: string; cloud: MeteredCloud }): Promise<void>;
}

export const meteringWorkflowId = (connectionId: string, cloud: MeteredCloud) => `metering:${connectionId}:${cloud}`;
export const meteringScheduleId = (connectionId: string, cloud: MeteredCloud) => `metering-schedule:${connectionId}:${cloud}`;
export const METERING_NON_RETRYABLE = ['ConfigurationError', 'AuthError'];
