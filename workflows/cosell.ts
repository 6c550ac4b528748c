import {
  type ActivityOptions,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { approve, currentStage, decisionRefusal, escalation, pendingApprovers, stageNamed, stagesFor, type DecisionRequest } from '../src/cosell/approval.js';
import type { CoSellSnapshot } from '../src/cosell/payload.js';
import type { CoSellError, CoSellReferral } from '../src/model/cosell.js';
import {
  COSELL_NON_RETRYABLE,
  type CoSellActivities,
  type CoSellInput,
  type CoSellPhase,
  type CoSellProgress,
  type CoSellView,
  type CrmEdit,
  type ResubmitRequest,
} from './cosell-types.js';
import { SA } from './search-attributes.js';

/** Approve the current approval stage; answered with the co-sell after the decision. */
export const approveUpdate = defineUpdate<CoSellView, [DecisionRequest]>('approve');
/** Reject the co-sell at the current stage (a comment is required): it ends as rejected_internal. */
export const rejectUpdate = defineUpdate<CoSellView, [DecisionRequest]>('reject');
/** Send the co-sell back to the alliance manager (a comment is required). */
export const requestChangesUpdate = defineUpdate<CoSellView, [DecisionRequest]>('requestChanges');
/** The alliance manager's fix, after changes were requested or the cloud asked for action. */
export const resubmitUpdate = defineUpdate<CoSellView, [ResubmitRequest]>('resubmit');
/** An edit made in the CRM: applied now, or queued while the cloud is reviewing. */
export const crmEditSignal = defineSignal<[CrmEdit]>('crmEdit');
export const stateQuery = defineQuery<CoSellView>('state');

/** How the co-sell workflows (outbound and inbound) call their activities: the clouds' refusals are not retried. */
export const COSELL_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: COSELL_NON_RETRYABLE },
};

const activities = proxyActivities<CoSellActivities>(COSELL_ACTIVITY_OPTIONS);

/** What a co-sell does or waits for in each phase but approval (which names its approvers), for the Temporal UI. */
const NEXT: Record<CoSellPhase, string> = {
  validate: 'checking the payload against the cloud\'s rules',
  approval: 'waiting for approval',
  changes: 'waiting for the alliance manager to resubmit',
  cloud: 'sending it to the cloud',
  review: 'waiting for the cloud\'s review (polled)',
  fix: 'waiting for the alliance manager\'s fix: the cloud asked for action',
  done: 'done',
};

/** A co-sell workflow continues as new once its history passes this many events. */
export const MAX_HISTORY_EVENTS = 2000;

/**
 * One co-sell of one opportunity with one cloud (id `cosell:<cloud>:<opportunityId>`): the
 * payload is checked against the cloud's rules, passes the approval stages the policy sets for
 * its amount (updates with validators, SLA timers that remind and escalate), is created and
 * submitted in the cloud idempotently, and the cloud's review is followed with durable timers
 * until it ends. Every status change is written back to the CRM record.
 */
export async function coSellWorkflow(input: CoSellInput): Promise<CoSellView> {
  const { cloud, policy } = input;
  const clientToken = workflowInfo().workflowId;
  const historyLimit = input.historyLimit ?? MAX_HISTORY_EVENTS;
  const s: CoSellProgress = input.resume ?? initialProgress(input);
  const call = { connectionId: input.connectionId, cloud };
  let written: string | undefined;
  let resubmitting = false;

  const view = (): CoSellView => ({ ...s.referral, phase: s.phase, queuedEdits: s.queuedEdits, sentEdits: s.sentEdits });

  /** Publishes the referral: pending approvers, search attributes, the run's current details. */
  function publish(changes: Partial<CoSellReferral> = {}): void {
    const stage = s.phase === 'approval' ? currentStage(s.approval) : undefined;
    const approvers = stage ? pendingApprovers(policy, s.approval, s.approvedBy) : [];
    s.referral = { ...s.referral, ...changes, currentStage: stage, pendingApprovers: approvers, updatedAt: now() };
    if (changes.lastError === undefined && 'lastError' in changes) delete s.referral.lastError;
    upsertSearchAttributes([
      { key: SA.cloud, value: cloud },
      { key: SA.status, value: s.referral.status },
      { key: SA.approvers, value: approvers },
    ]);
    const doing = s.phase === 'approval' ? `waiting for ${stage}: ${approvers.join(', ')}` : NEXT[s.phase];
    const problem = s.referral.lastError ? `\n${s.referral.lastError.code}: ${s.referral.lastError.message}` : '';
    setCurrentDetails(`${cloud} co-sell of "${s.snapshot.opportunity.name}": ${s.referral.status}${s.referral.externalId ? ` (${s.referral.externalId})` : ''}; ${doing}${problem}`);
  }

  function trail(stage: string, by: string, decision: CoSellReferral['approvals'][number]['decision'], comment?: string): void {
    s.referral.approvals = [...s.referral.approvals, { stage, by, decision, at: now(), ...(comment ? { comment } : {}) }];
  }

  function merge(edit: Partial<CoSellSnapshot>): void {
    s.snapshot = { ...s.snapshot, ...definedOnly(edit) };
    s.snapshotVersion++;
  }

  /**
   * Writes the status to the CRMs (by the opportunity's canonical id) when it changed since the
   * last write, again if a decision changed it while the write was under way.
   */
  async function writeBack(): Promise<void> {
    for (;;) {
      // A draft is ecosync's own business until it has been checked; an approved co-sell about to be
      // sent shows its next status (submitted) a moment later.
      if (s.referral.status === 'draft' || s.phase === 'cloud') return;
      const key = `${s.referral.status}|${s.referral.externalId ?? ''}|${JSON.stringify(s.referral.lastError ?? null)}|${s.referral.pendingApprovers.join(',')}`;
      if (key === written) return;
      written = key;
      await activities.writeCoSellToCrm({ connectionId: input.connectionId, ...(input.crm ? { crm: input.crm } : {}), referral: s.referral });
    }
  }

  /** Builds the payload from the current snapshot and checks it; the error when the cloud would refuse it. */
  async function prepare(): Promise<CoSellError | undefined> {
    const version = s.snapshotVersion;
    const prepared = await activities.prepareCoSell({ cloud, snapshot: s.snapshot, options: s.options, partnerOpportunityId: input.crm?.id ?? s.snapshot.opportunity.id });
    s.payload = prepared.payload;
    s.payloadVersion = version;
    return prepared.error;
  }

  // --- decisions -------------------------------------------------------------------------------

  const decisionValidator = (kind: 'approve' | 'reject' | 'requestChanges') => (request: DecisionRequest) => {
    const reason = decisionRefusal(kind, { waiting: s.phase === 'approval', what: `the co-sell is ${s.referral.status}` }, policy, s.approval, request, s.approvedBy);
    if (reason) throw new Error(reason);
  };

  setHandler(approveUpdate, (request) => {
    const approved = approve(s.approval, s.approvedBy, request.by);
    trail(approved.stage, request.by, 'approved', request.comment);
    s.approvedBy = approved.approvedBy;
    s.approval = approved.progress;
    if (approved.done) s.phase = 'cloud';
    publish();
    return view();
  }, { validator: decisionValidator('approve') });

  setHandler(rejectUpdate, (request) => {
    const stage = currentStage(s.approval)!;
    trail(stage, request.by, 'rejected', request.comment);
    s.phase = 'done';
    // The reason goes with the status, so the alliance manager reads it in the CRM.
    publish({ status: 'rejected_internal', lastError: { code: 'RejectedInternally', message: `${stage} (${request.by}): ${request.comment ?? ''}`, fields: [] } });
    return view();
  }, { validator: decisionValidator('reject') });

  setHandler(requestChangesUpdate, (request) => {
    trail(currentStage(s.approval)!, request.by, 'changes_requested', request.comment);
    s.phase = 'changes';
    publish({ status: 'changes_requested', lastError: { code: 'ChangesRequested', message: request.comment ?? '', fields: [] } });
    return view();
  }, { validator: decisionValidator('requestChanges') });

  setHandler(resubmitUpdate, async (request) => {
    resubmitting = true;
    try {
      return await resubmit(request);
    } finally {
      resubmitting = false;
    }
  }, {
    validator: (request) => {
      if (resubmitting) throw new Error('a resubmission is already being sent');
      if (s.phase !== 'changes' && s.phase !== 'fix') throw new Error(`the co-sell is ${s.referral.status}: nothing asks for a resubmission`);
      if (!request || typeof request.by !== 'string' || request.by.trim() === '') throw new Error('a resubmission needs the alliance manager\'s email in "by"');
      if (request.snapshot !== undefined && (typeof request.snapshot !== 'object' || request.snapshot === null)) throw new Error('snapshot must be an object');
    },
  });

  async function resubmit(request: ResubmitRequest): Promise<CoSellView> {
    trail(s.phase === 'fix' ? 'cloud_review' : 'submission', request.by, 'resubmitted', request.comment);
    if (request.snapshot) merge(request.snapshot);
    if (request.options) s.options = { ...s.options, ...definedOnly(request.options) };
    if (s.phase === 'changes') {
      // Back through validation and every approval stage: what was approved has changed.
      s.phase = 'validate';
      await condition(() => s.phase !== 'validate');
      return view();
    }
    // The cloud asked for action: CRM edits that waited go along with the fix.
    if (s.queued) { merge(s.queued); s.queued = undefined; s.queuedEdits = 0; }
    const error = await prepare();
    if (error) { publish({ lastError: error }); return view(); }
    const result = await activities.updateCloudOpportunity({ ...call, externalId: s.referral.externalId!, payload: s.payload! });
    if (result.sent) {
      s.phase = 'review';
      s.pollAttempt = 0;
      publish({ status: 'submitted', lastError: undefined });
    }
    return view();
  }

  setHandler(crmEditSignal, (edit) => {
    if (!edit?.snapshot || typeof edit.snapshot !== 'object') return;
    if (s.phase === 'done') return;
    if (!s.steps.created) {
      // Not in the cloud yet: the payload is rebuilt from the edited snapshot before it is sent.
      merge(edit.snapshot);
      return;
    }
    s.queued = { ...s.queued, ...definedOnly(edit.snapshot) };
    s.queuedEdits++;
  });

  setHandler(stateQuery, view);

  // --- the run ---------------------------------------------------------------------------------

  publish();
  for (;;) {
    await writeBack();
    if (s.phase === 'done') break;
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > historyLimit) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof coSellWorkflow>({ ...input, resume: s });
    }

    switch (s.phase) {
      case 'validate': {
        const error = await prepare();
        if (error) {
          s.phase = 'changes';
          publish({ status: 'changes_requested', lastError: error });
          break;
        }
        const stages = stagesFor(policy, s.snapshot.opportunity.amount).map((st) => st.name);
        s.approval = { stages, index: 0, escalated: [] };
        s.approvedBy = [];
        s.phase = stages.length > 0 ? 'approval' : 'cloud';
        publish({ status: 'pending_approval', lastError: undefined });
        break;
      }

      case 'approval': {
        const stage = currentStage(s.approval)!;
        const config = stageNamed(policy, stage)!;
        const index = s.approval.index;
        const decided = await condition(() => s.phase !== 'approval' || s.approval.index !== index, config.slaSeconds * 1000);
        if (decided) break;
        // The SLA lapsed: remind whoever may decide, and bring in the escalation approver once.
        const escalated = escalation(config, s.approval);
        if (escalated) {
          s.approval = escalated.progress;
          trail(stage, 'ecosync', 'escalated', escalated.note);
        }
        publish();
        await remindQuietly(() => activities.remindApprovers({ referral: s.referral, stage, approvers: s.referral.pendingApprovers, escalatedTo: escalated?.escalateTo }));
        break;
      }

      case 'changes':
      case 'fix':
        await condition(() => s.phase !== 'changes' && s.phase !== 'fix');
        break;

      case 'cloud': {
        try {
          await sendToCloud();
        } catch (error) {
          const refused = cloudRefusal(error);
          if (!refused) throw error;
          s.phase = 'changes';
          publish({ status: 'changes_requested', lastError: refused });
        }
        break;
      }

      case 'review': {
        if (s.pollAttempt > 0) await sleep(pollDelay(s.pollAttempt));
        s.pollAttempt++;
        const review = await activities.getCloudReview({ ...call, externalId: s.referral.externalId! });
        const ended = review.status === 'approved' || review.status === 'rejected' || review.status === 'closed';
        if (review.editable && s.queued && review.status !== 'action_required') await sendQueuedEdits();
        if (review.status !== s.referral.status || review.cloudStatus !== s.referral.cloudStatus || review.cloudSubstatus !== s.referral.cloudSubstatus) {
          publish({ status: review.status, cloudStatus: review.cloudStatus, cloudSubstatus: review.cloudSubstatus, lastError: review.reasons });
        }
        if (review.status === 'action_required') s.phase = 'fix';
        else if (ended && !s.queued) s.phase = 'done';
        break;
      }
    }
  }

  await condition(allHandlersFinished);
  return view();

  async function sendToCloud(): Promise<void> {
    if (s.payloadVersion !== s.snapshotVersion || !s.payload) {
      // The CRM record changed during approval: check the new payload before it goes out.
      const error = await prepare();
      if (error) throw ApplicationFailure.create({ type: 'CloudValidation', message: error.message, details: [error], nonRetryable: true });
    }
    if (!s.steps.created) {
      const created = await activities.createCloudOpportunity({ ...call, payload: s.payload!, clientToken });
      s.steps.created = true;
      publish({ externalId: created.externalId, cloudStatus: created.cloudStatus, cloudSubstatus: created.cloudSubstatus });
    } else if (!s.steps.engaged) {
      // Created before changes were asked for: send the changed payload first.
      await activities.updateCloudOpportunity({ ...call, externalId: s.referral.externalId!, payload: s.payload! });
    }
    // A Microsoft referral is shared with Microsoft when it is created; AWS needs two more steps.
    if (cloud === 'aws' && !s.steps.linked) {
      await activities.linkSolutions({ ...call, externalId: s.referral.externalId!, solutionIds: s.options.solutionIds });
      s.steps.linked = true;
    }
    if (cloud === 'aws' && !s.steps.engaged) {
      await activities.startCloudEngagement({ ...call, externalId: s.referral.externalId!, options: s.options, clientToken });
    }
    s.steps.engaged = true;
    s.phase = 'review';
    s.pollAttempt = 0;
    publish({ status: 'submitted', lastError: undefined });
  }

  async function sendQueuedEdits(): Promise<void> {
    const queued = s.queued!;
    const count = s.queuedEdits;
    merge(queued);
    const error = await prepare();
    if (error) {
      // The edit would break the cloud's rules: keep the cloud as it was and tell the alliance manager.
      s.queued = undefined;
      s.queuedEdits = 0;
      publish({ lastError: error });
      return;
    }
    const result = await activities.updateCloudOpportunity({ ...call, externalId: s.referral.externalId!, payload: s.payload! });
    if (result.sent) {
      s.sentEdits += count;
      // Edits that arrived while this one was in flight stay queued.
      if (s.queued === queued) { s.queued = undefined; s.queuedEdits = 0; } else s.queuedEdits -= count;
    }
  }

  function pollDelay(attempt: number): number {
    const first = input.pollIntervalMs ?? 60_000;
    const max = input.maxPollIntervalMs ?? 3_600_000;
    return Math.min(max, first * 2 ** Math.min(attempt - 1, 20));
  }
}

function initialProgress(input: CoSellInput): CoSellProgress {
  const at = now();
  return {
    phase: 'validate',
    referral: {
      id: uuid4(),
      opportunityId: input.snapshot.opportunity.id,
      cloud: input.cloud,
      status: 'draft',
      involvementType: input.options.involvementType,
      visibility: input.options.visibility,
      requestedBy: input.requestedBy,
      pendingApprovers: [],
      approvals: [{ stage: 'submission', by: input.requestedBy, decision: 'submitted', at }],
      createdAt: at,
      updatedAt: at,
    },
    snapshot: input.snapshot,
    options: input.options,
    approval: { stages: [], index: 0, escalated: [] },
    approvedBy: [],
    snapshotVersion: 0,
    payloadVersion: -1,
    steps: { created: false, linked: false, engaged: false },
    queuedEdits: 0,
    sentEdits: 0,
    pollAttempt: 0,
  };
}

/**
 * Sends an SLA reminder. One that cannot be delivered (webhook refused or down past its retries)
 * does not stop the co-sell: it waits on, and the next lapse reminds again.
 */
export async function remindQuietly(send: () => Promise<void>): Promise<void> {
  try {
    await send();
  } catch (error) {
    log.warn('co-sell: approval reminder not delivered', { error: failureMessage(error) });
  }
}

/** The innermost message of a failure (an activity's own error, not Temporal's wrapper). */
export function failureMessage(error: unknown): string {
  let e: unknown = error;
  while ((e as { cause?: unknown })?.cause) e = (e as { cause?: unknown }).cause;
  return e instanceof Error ? e.message : String(error);
}

/** The cloud's (or the payload's) refusal carried by an activity failure, if that is what it is. */
export function cloudRefusal(error: unknown): CoSellError | undefined {
  let e: unknown = error;
  while (e && !(e instanceof ApplicationFailure)) e = (e as { cause?: unknown }).cause;
  if (!(e instanceof ApplicationFailure) || (e.type !== 'CloudValidation' && e.type !== 'CloudRefused')) return undefined;
  const detail = e.details?.[0] as CoSellError | undefined;
  return detail ?? { code: e.type, message: e.message, fields: [] };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function now(): string {
  return new Date().toISOString();
}

