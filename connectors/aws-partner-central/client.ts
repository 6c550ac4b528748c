import {
  AcceptEngagementInvitationCommand, AssociateOpportunityCommand, CreateOpportunityCommand, GetEngagementInvitationCommand,
  GetOpportunityCommand, ListEngagementFromOpportunityTasksCommand, ListEngagementInvitationsCommand, ListOpportunitiesCommand,
  ListEngagementByAcceptingInvitationTasksCommand, ListSolutionsCommand, PartnerCentralSellingClient, StartEngagementByAcceptingInvitationTaskCommand, RejectEngagementInvitationCommand, StartEngagementFromOpportunityTaskCommand,
  UpdateOpportunityCommand, type $Command, type PartnerCentralSellingClientConfig,
  type CreateOpportunityRequest, type EngagementInvitationSummary, type GetEngagementInvitationResponse, type GetOpportunityResponse,
  type InvitationStatus, type ListEngagementFromOpportunityTaskSummary, type ListOpportunitiesRequest, type OpportunitySummary,
  type SalesInvolvementType, type SolutionBase, type UpdateOpportunityRequest, type Visibility,
} from '@aws-sdk/client-partnercentral-selling';
import { log } from '../../src/runtime/log.js';
import { countCall } from '../shared/calls.js';
import { callWithRetries } from '../shared/retry.js';
import { localValidationError, PartnerCentralError, toPartnerCentralError } from './errors.js';
import { Pacer } from './pacer.js';
import type { Catalog } from './rules.js';
import { validateCreateOpportunity, validateSubmission, validationExceptionFor } from './validate.js';

/**
 * The slice of AWS Partner Central Selling that co-sell needs, on the official SDK: paced to the
 * account's rate limits (about 1 write and 10 reads a second), a ThrottlingException waited out
 * under the one retry policy (connectors/shared/retry.ts; a 5xx or a timeout goes back at once
 * for Temporal to retry the activity), pre-validated against the same rule table the sandbox
 * enforces, errors in plain form.
 */

export interface AwsPartnerCentralConfig {
  region: string;
  catalog: Catalog;
  /** The sandbox's URL in tests and demos; AWS's endpoint when absent. */
  endpoint?: string;
  /** Default: the SDK's credential chain (environment, profile, role). */
  credentials?: PartnerCentralSellingClientConfig['credentials'];
  /** Local pacing of writes; AWS allows about 1 a second per account. 0 turns pacing off. */
  writesPerSecond?: number;
  /** Local pacing of reads; AWS allows about 10 a second. */
  readsPerSecond?: number;
  /** Attempts per call while AWS throttles it, the first included. Default 6. */
  maxAttempts?: number;
  /** How long startEngagement waits for an IN_PROGRESS task. Default 60 s. */
  taskTimeoutMs?: number;
  taskPollMs?: number;
  /** Per HTTP request. Default 30 s. */
  requestTimeoutMs?: number;
}

/** What CreateOpportunity takes besides the catalog and the idempotency token. */
export type OpportunityInput = Omit<CreateOpportunityRequest, 'Catalog' | 'ClientToken'>;

type Editable = Pick<UpdateOpportunityRequest, 'PrimaryNeedsFromAws' | 'NationalSecurity' | 'PartnerOpportunityIdentifier' | 'Customer' | 'Project' | 'OpportunityType' | 'Marketing' | 'SoftwareRevenue' | 'LifeCycle'>;
type DeepPartial<T> = T extends (infer U)[] ? U[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> | null } : T;
/** Changes to an opportunity: objects merge into the current record, arrays and values replace, null clears. */
export type OpportunityPatch = DeepPartial<Editable>;

export interface EngagementTask {
  taskId: string;
  status: 'IN_PROGRESS' | 'COMPLETE' | 'FAILED';
  opportunityId?: string;
  engagementId?: string;
  engagementInvitationId?: string;
  startTime?: Date;
}

export interface ClientStats {
  /** HTTP calls made, retries included. */
  calls: number;
  throttled: number;
  retries: number;
}

const EDITABLE_FIELDS = ['PrimaryNeedsFromAws', 'NationalSecurity', 'PartnerOpportunityIdentifier', 'Customer', 'Project', 'OpportunityType', 'Marketing', 'SoftwareRevenue', 'LifeCycle'] as const;
/** Set by AWS only; UpdateOpportunity must not try to write them. */
const AWS_LIFECYCLE_FIELDS = ['ReviewStatus', 'ReviewComments', 'ReviewStatusReason', 'NextStepsHistory'] as const;

export class AwsPartnerCentralClient {
  readonly catalog: Catalog;
  readonly stats: ClientStats = { calls: 0, throttled: 0, retries: 0 };
  private readonly sdk: PartnerCentralSellingClient;
  private readonly writes: Pacer;
  private readonly reads: Pacer;
  private readonly maxAttempts: number;
  private readonly taskTimeoutMs: number;
  private readonly taskPollMs: number;

  constructor(config: AwsPartnerCentralConfig) {
    this.catalog = config.catalog;
    this.sdk = new PartnerCentralSellingClient({
      region: config.region,
      endpoint: config.endpoint,
      credentials: config.credentials,
      // Retries are ours (throttles only): they share the pacer, so a retry never jumps the rate limit.
      maxAttempts: 1,
      // Without throwOnRequestTimeout the handler only logs a warning and keeps waiting.
      requestHandler: { requestTimeout: config.requestTimeoutMs ?? 30_000, connectionTimeout: 5_000, throwOnRequestTimeout: true },
    });
    this.writes = new Pacer(config.writesPerSecond ?? 1);
    this.reads = new Pacer(config.readsPerSecond ?? 10);
    this.maxAttempts = config.maxAttempts ?? 6;
    this.taskTimeoutMs = config.taskTimeoutMs ?? 60_000;
    this.taskPollMs = config.taskPollMs ?? 250;
  }

  /**
   * Creates the opportunity; the same clientToken with the same payload returns the same id, so
   * retrying after a lost answer never makes a duplicate. Checked locally first: a payload AWS
   * would reject throws a PartnerCentralError with every field error and costs no call.
   */
  async createOpportunity(payload: OpportunityInput, clientToken: string): Promise<{ id: string; lastModifiedDate: Date }> {
    const request: CreateOpportunityRequest = { ...payload, Catalog: this.catalog, ClientToken: clientToken };
    const issues = validateCreateOpportunity(request);
    if (issues.length > 0) throw localValidationError(issues, validationExceptionFor(issues)?.Reason, 'The opportunity');
    const out = await this.call('write', new CreateOpportunityCommand(request));
    return { id: out.Id!, lastModifiedDate: out.LastModifiedDate! };
  }

  async getOpportunity(id: string): Promise<GetOpportunityResponse> {
    return this.call('read', new GetOpportunityCommand({ Catalog: this.catalog, Identifier: id }));
  }

  /**
   * Applies `patch` to the current record. UpdateOpportunity replaces the whole opportunity and
   * needs the LastModifiedDate it was read at; when someone (AWS) changed it in between, the
   * record is read again and the patch applied once more.
   */
  async updateOpportunity(id: string, patch: OpportunityPatch): Promise<{ id: string; lastModifiedDate: Date }> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.getOpportunity(id);
      try {
        const out = await this.call('write', new UpdateOpportunityCommand({
          ...mergeForUpdate(current, patch), Catalog: this.catalog, Identifier: id, LastModifiedDate: current.LastModifiedDate,
        }));
        return { id: out.Id!, lastModifiedDate: out.LastModifiedDate! };
      } catch (error) {
        if (attempt === 1 && error instanceof PartnerCentralError && error.code === 'ConflictException') {
          log().debug({ opportunity: id }, 'partner central: opportunity changed since read; reading it again');
          continue;
        }
        throw error;
      }
    }
  }

  /** Associates a partner solution; associating one already there is not an error. */
  async associateSolution(id: string, solutionId: string): Promise<void> {
    try {
      await this.call('write', new AssociateOpportunityCommand({
        Catalog: this.catalog, OpportunityIdentifier: id, RelatedEntityType: 'Solutions', RelatedEntityIdentifier: solutionId,
      }));
    } catch (error) {
      if (error instanceof PartnerCentralError && error.fields.some((f) => f.code === 'DUPLICATE_KEY_VALUE')) return;
      throw error;
    }
  }

  /**
   * Submits the opportunity to AWS (StartEngagementFromOpportunityTask) and waits for the task.
   * The submission rules are checked on the current record first, so an incomplete opportunity
   * fails here with its fields, without a write; a caller that checked the very payload it
   * created the opportunity from says `checked` and saves that read. The ClientToken makes a
   * retry return the first attempt's task. A FAILED task throws with AWS's ReasonCode.
   */
  async startEngagement(
    id: string,
    submission: { involvementType: SalesInvolvementType; visibility?: Visibility },
    clientToken: string,
    options: { checked?: boolean } = {},
  ): Promise<EngagementTask> {
    const awsSubmission = { InvolvementType: submission.involvementType, Visibility: submission.visibility };
    if (!options.checked) {
      const current = await this.getOpportunity(id);
      const issues = validateSubmission(current as unknown as Record<string, unknown>, awsSubmission);
      if (issues.length > 0) {
        throw localValidationError(issues, validationExceptionFor(issues)?.Reason, `Submitting ${id}`);
      }
    }
    const started = await this.call('write', new StartEngagementFromOpportunityTaskCommand({
      Catalog: this.catalog, Identifier: id, AwsSubmission: awsSubmission, ClientToken: clientToken,
    }));
    const task = await this.finished<ListEngagementFromOpportunityTaskSummary>(started, 'Engagement task', async (taskId) =>
      (await this.call('read', new ListEngagementFromOpportunityTasksCommand({ Catalog: this.catalog, TaskIdentifier: [taskId] }))).TaskSummaries?.[0]);
    if (task.TaskStatus === 'FAILED') {
      throw new PartnerCentralError({ code: task.ReasonCode ?? 'EngagementTaskFailed', message: task.Message ?? `Engagement task ${task.TaskId} failed.`, fields: [] });
    }
    return {
      taskId: task.TaskId!, status: task.TaskStatus as EngagementTask['status'], opportunityId: task.OpportunityId,
      engagementId: task.EngagementId, engagementInvitationId: task.EngagementInvitationId, startTime: task.StartTime,
    };
  }

  /** Every opportunity matching the filter, page after page. */
  async *listOpportunities(filter: Omit<ListOpportunitiesRequest, 'Catalog' | 'NextToken'> = {}): AsyncIterable<OpportunitySummary> {
    let NextToken: string | undefined;
    do {
      const page = await this.call('read', new ListOpportunitiesCommand({ ...filter, Catalog: this.catalog, NextToken }));
      yield* page.OpportunitySummaries ?? [];
      NextToken = page.NextToken;
    } while (NextToken);
  }

  async *listSolutions(): AsyncIterable<SolutionBase> {
    let NextToken: string | undefined;
    do {
      const page = await this.call('read', new ListSolutionsCommand({ Catalog: this.catalog, NextToken }));
      yield* page.SolutionSummaries ?? [];
      NextToken = page.NextToken;
    } while (NextToken);
  }

  /** Invitations AWS sent to this account, newest first. */
  async *listInvitations(filter: { status?: InvitationStatus[]; payloadType?: ('OpportunityInvitation' | 'LeadInvitation')[]; maxResults?: number } = {}): AsyncIterable<EngagementInvitationSummary> {
    let NextToken: string | undefined;
    do {
      const page = await this.call('read', new ListEngagementInvitationsCommand({
        Catalog: this.catalog, ParticipantType: 'RECEIVER', Status: filter.status, PayloadType: filter.payloadType, MaxResults: filter.maxResults, NextToken,
      }));
      yield* page.EngagementInvitationSummaries ?? [];
      NextToken = page.NextToken;
    } while (NextToken);
  }

  /** Polls a task until it leaves IN_PROGRESS; one still running after taskTimeoutMs is a retryable TaskTimeout. */
  private async finished<T extends { TaskId?: string; TaskStatus?: string }>(
    task: T, what: string, poll: (taskId: string) => Promise<T | undefined>,
  ): Promise<T> {
    const deadline = Date.now() + this.taskTimeoutMs;
    while (task.TaskStatus === 'IN_PROGRESS') {
      if (Date.now() > deadline) {
        throw new PartnerCentralError({ code: 'TaskTimeout', message: `${what} ${task.TaskId} still IN_PROGRESS after ${this.taskTimeoutMs} ms.`, fields: [] }, { retryable: true });
      }
      await sleep(this.taskPollMs);
      task = (await poll(task.TaskId!)) ?? task;
    }
    return task;
  }

  async getInvitation(id: string): Promise<GetEngagementInvitationResponse> {
    return this.call('read', new GetEngagementInvitationCommand({ Catalog: this.catalog, Identifier: id }));
  }

  /**
   * Accepts an opportunity invitation the way AWS recommends (StartEngagementByAcceptingInvitationTask):
   * the invitation is accepted and AWS's opportunity is created in our catalog; its id is returned.
   * The same clientToken returns the same task, so a retry after a lost answer does not fail; an
   * invitation accepted some other way (the Partner Central console) is reported as accepted,
   * with the opportunity when an earlier task made it.
   */
  async acceptInvitationTask(id: string, clientToken: string): Promise<{ opportunityId?: string; alreadyAccepted: boolean }> {
    let task: { TaskId?: string; TaskStatus?: string; OpportunityId?: string; ReasonCode?: string; Message?: string };
    try {
      task = await this.call('write', new StartEngagementByAcceptingInvitationTaskCommand({ Catalog: this.catalog, Identifier: id, ClientToken: clientToken }));
    } catch (error) {
      if (!(error instanceof PartnerCentralError) || error.code !== 'ConflictException') throw error;
      const current = await this.getInvitation(id);
      if (current.Status !== 'ACCEPTED') throw error;
      return { opportunityId: await this.acceptedOpportunityId(id), alreadyAccepted: true };
    }
    task = await this.finished(task, 'Accepting task', async (taskId) =>
      (await this.call('read', new ListEngagementByAcceptingInvitationTasksCommand({ Catalog: this.catalog, TaskIdentifier: [taskId] }))).TaskSummaries?.[0]);
    if (task.TaskStatus === 'FAILED') {
      throw new PartnerCentralError({ code: task.ReasonCode ?? 'EngagementTaskFailed', message: task.Message ?? `Accepting invitation ${id} failed.`, fields: [] });
    }
    return { opportunityId: task.OpportunityId, alreadyAccepted: false };
  }

  /** The opportunity a completed accepting task created for this invitation, if any. */
  async acceptedOpportunityId(invitationId: string): Promise<string | undefined> {
    const page = await this.call('read', new ListEngagementByAcceptingInvitationTasksCommand({
      Catalog: this.catalog, EngagementInvitationIdentifier: [invitationId], TaskStatus: ['COMPLETE'],
    }));
    return page.TaskSummaries?.find((t) => t.OpportunityId)?.OpportunityId;
  }

  async acceptInvitation(id: string): Promise<void> {
    await this.call('write', new AcceptEngagementInvitationCommand({ Catalog: this.catalog, Identifier: id }));
  }

  async rejectInvitation(id: string, reason?: string): Promise<void> {
    await this.call('write', new RejectEngagementInvitationCommand({ Catalog: this.catalog, Identifier: id, RejectionReason: reason }));
  }

  close(): void {
    this.sdk.destroy();
  }

  /** One SDK call: paced, throttles waited out with backoff (writes from 1 s, reads from 200 ms), errors made plain. */
  private async call<Out extends object>(kind: 'read' | 'write', command: $Command<any, Out, any>): Promise<Out> {
    const pacer = kind === 'write' ? this.writes : this.reads;
    return callWithRetries<Out>({
      system: 'aws-partner-central',
      maxAttempts: this.maxAttempts,
      maxWaitMs: 10_000,
      backoffMs: kind === 'write' ? 1_000 : 200,
      throttled: (outcome) => {
        if (!('error' in outcome) || !(outcome.error instanceof PartnerCentralError) || outcome.error.code !== 'ThrottlingException') return undefined;
        return { reason: 'ThrottlingException', message: `Partner Central throttled ${command.constructor.name.replace(/Command$/, '')}: ${outcome.error.message}` };
      },
      // Nothing else goes out before the retry: the throttle was for the account.
      onRetry: ({ delayMs }) => {
        this.stats.retries++;
        pacer.holdFor(delayMs);
      },
    }, async () => {
      this.stats.calls++;
      countCall('aws-partner-central');
      try {
        return await pacer.run(() => this.sdk.send(command as never) as Promise<Out>);
      } catch (raw) {
        const error = toPartnerCentralError(raw);
        if (error.code === 'ThrottlingException') this.stats.throttled++;
        throw error;
      }
    });
  }
}

/**
 * The full UpdateOpportunity body for `patch` applied to `current`: Update replaces the whole
 * record, so every editable field is carried over; AWS-owned review fields are left out.
 */
export function mergeForUpdate(current: GetOpportunityResponse, patch: OpportunityPatch): Editable {
  const body: Record<string, unknown> = {};
  for (const field of EDITABLE_FIELDS) {
    const merged = mergeValue((current as unknown as Record<string, unknown>)[field], (patch as Record<string, unknown>)[field]);
    if (merged !== undefined) body[field] = merged;
  }
  if (body.LifeCycle) {
    const lifeCycle = { ...(body.LifeCycle as Record<string, unknown>) };
    for (const f of AWS_LIFECYCLE_FIELDS) delete lifeCycle[f];
    body.LifeCycle = lifeCycle;
  }
  return body as Editable;
}

function mergeValue(current: unknown, patch: unknown): unknown {
  if (patch === undefined) return current;
  if (patch === null) return undefined;
  if (isPlainObject(patch) && isPlainObject(current)) {
    const out: Record<string, unknown> = { ...current };
    for (const [k, v] of Object.entries(patch)) {
      const merged = mergeValue(current[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  return patch;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
