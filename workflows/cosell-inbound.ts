import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { INBOUND_STAGE, currentStage, escalation, inboundPolicy, pendingApprovers, refusal, stageNamed, type DecisionRequest } from '../src/cosell/approval.js';
import type { ApprovalEntry, CoSellError } from '../src/model/cosell.js';
import type { InboundCoSell } from '../src/model/cosell-inbound.js';
import {
  type InboundActivities,
  type InboxCursor,
  type InboxInput,
  type InboxView,
  type InvitationInput,
  type InvitationProgress,
  type InvitationView,
} from './cosell-inbound-types.js';
import { COSELL_ACTIVITY_OPTIONS, MAX_HISTORY_EVENTS, cloudRefusal, failureMessage, remindQuietly } from './cosell.js';
import { SA } from './search-attributes.js';

/** Accept the invitation (same update name as the outbound co-sell's approval). */
export const approveUpdate = defineUpdate<InvitationView, [DecisionRequest]>('approve');
/** Reject the invitation; the comment is the reason the cloud is given. */
export const rejectUpdate = defineUpdate<InvitationView, [DecisionRequest]>('reject');
export const stateQuery = defineQuery<InvitationView>('state');
export const inboxStateQuery = defineQuery<InboxView>('state');

const activities = proxyActivities<InboundActivities>(COSELL_ACTIVITY_OPTIONS);

/**
 * One opportunity a cloud shared with us (id `cosell-inbound:<cloud>:<invitationId>`): read and
 * matched against the CRM records ecosync knows, it waits for an alliance manager to accept or
 * reject it (updates with validators, SLA reminders and one escalation, the cloud's expiry date).
 * Accepted, it is accepted in the cloud and written to the CRMs (the matched opportunity
 * patched, or an account and opportunity created); rejected, the cloud gets the reason.
 */
export async function coSellInvitationWorkflow(input: InvitationInput): Promise<InvitationView> {
  const { cloud } = input;
  const policy = inboundPolicy(input.policy);
  const historyLimit = input.historyLimit ?? MAX_HISTORY_EVENTS;
  const s: InvitationProgress = input.resume ?? initialProgress(input);
  const call = { connectionId: input.connectionId, cloud };

  const view = (): InvitationView => ({ ...s.inbound, phase: s.phase });

  function publish(changes: Partial<InboundCoSell> = {}): void {
    const stage = s.phase === 'decision' ? currentStage(s.approval) : undefined;
    const approvers = stage ? pendingApprovers(policy, s.approval) : [];
    s.inbound = { ...s.inbound, ...changes, currentStage: stage, pendingApprovers: approvers, updatedAt: now() };
    if ('lastError' in changes && changes.lastError === undefined) delete s.inbound.lastError;
    if (stage === undefined) delete s.inbound.currentStage;
    upsertSearchAttributes([
      { key: SA.connection, value: input.connectionName ?? input.connectionId },
      { key: SA.cloud, value: cloud },
      { key: SA.status, value: s.inbound.status },
      { key: SA.approvers, value: approvers },
    ]);
    const who = approvers.length > 0 ? `; waiting for ${approvers.join(', ')}` : '';
    const crm = s.inbound.match?.detail ? `; CRM: ${s.inbound.match.detail}` : '';
    setCurrentDetails(`${cloud} invitation ${input.invitationId} from ${s.inbound.sender.company ?? cloud} for "${s.inbound.customer.company}": ${s.inbound.status}${who}${crm}`);
  }

  function trail(by: string, decision: ApprovalEntry['decision'], comment?: string): void {
    s.inbound.approvals = [...s.inbound.approvals, { stage: INBOUND_STAGE, by, decision, at: now(), ...(comment ? { comment } : {}) }];
  }

  const decisionValidator = (kind: 'approve' | 'reject') => (request: DecisionRequest) => {
    if (s.phase !== 'decision') throw new Error(`the invitation is ${s.phase === 'read' ? 'being read' : s.inbound.status}: nothing waits for a decision`);
    const reason = refusal(policy, s.approval, request, []);
    if (reason) throw new Error(reason);
    if (kind === 'reject' && !request.comment?.trim()) throw new Error('a rejection needs a reason in "comment": the cloud passes it on');
  };

  setHandler(approveUpdate, (request) => {
    trail(request.by, 'approved', request.comment);
    s.decision = { by: request.by, comment: request.comment };
    s.phase = 'accepting';
    publish();
    return view();
  }, { validator: decisionValidator('approve') });

  setHandler(rejectUpdate, (request) => {
    trail(request.by, 'rejected', request.comment);
    s.decision = { by: request.by, comment: request.comment!.trim() };
    s.phase = 'declining';
    publish();
    return view();
  }, { validator: decisionValidator('reject') });

  setHandler(stateQuery, view);

  /** Takes the cloud's word for an invitation that is no longer pending. */
  function settle(read: { status: InboundCoSell['status']; cloudStatus: string }, lastError?: CoSellError): void {
    s.phase = 'done';
    publish({ status: read.status, cloudStatus: read.cloudStatus, ...(lastError ? { lastError } : {}) });
  }

  // --- the run ---------------------------------------------------------------------------------

  publish();
  for (;;) {
    if (s.phase === 'done') break;
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > historyLimit) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof coSellInvitationWorkflow>({ ...input, resume: s });
    }

    switch (s.phase) {
      case 'read': {
        const invitation = await activities.readInvitation({ ...call, invitationId: input.invitationId });
        s.invitation = invitation;
        const fromCloud = {
          cloudStatus: invitation.cloudStatus, sender: invitation.sender, customer: invitation.customer, project: invitation.project,
          ...(invitation.cloudOpportunityId ? { cloudOpportunityId: invitation.cloudOpportunityId } : {}),
          ...(invitation.message ? { message: invitation.message } : {}),
          ...(invitation.receivedAt ? { receivedAt: invitation.receivedAt } : {}),
          ...(invitation.expiresAt ? { expiresAt: invitation.expiresAt } : {}),
        };
        s.inbound = { ...s.inbound, ...fromCloud };
        // What `ecosync cosell list` shows beside the id (outbound co-sells get it at start).
        // Guarded: invitations that read their invitation before this existed replay unchanged.
        if (patched('inbound-list-memo')) {
          upsertMemo({ opportunity: `${invitation.project.title} (${invitation.customer.company})`, amount: invitation.project.amount ?? null });
        }
        if (invitation.status !== 'pending_acceptance') {
          // Answered or expired before ecosync saw it: nothing to decide.
          settle(invitation);
          break;
        }
        const match = await activities.matchInvitation({ connectionId: input.connectionId, invitation });
        s.approval = { stages: [INBOUND_STAGE], index: 0, escalated: [] };
        s.phase = 'decision';
        publish({ match });
        break;
      }

      case 'decision': {
        const config = stageNamed(policy, INBOUND_STAGE)!;
        const expiresAt = s.inbound.expiresAt ? Date.parse(s.inbound.expiresAt) : Infinity;
        const untilExpiry = expiresAt - Date.now();
        const slaMs = config.slaSeconds * 1000;
        const decided = untilExpiry <= 0 ? false : await condition(() => s.phase !== 'decision', Math.min(slaMs, untilExpiry));
        if (decided) break;
        if (Date.now() >= expiresAt) {
          const read = await activities.readInvitation({ ...call, invitationId: input.invitationId });
          if (read.status !== 'pending_acceptance') { settle(read); break; }
          // The cloud's clock has not caught up: look again a little later (a decision may still come).
          await condition(() => s.phase !== 'decision', input.expiryRecheckMs ?? 60_000);
          break;
        }
        const escalated = escalation(config, s.approval);
        if (escalated) {
          s.approval = escalated.progress;
          trail('ecosync', 'escalated', escalated.note);
        }
        publish();
        await remindQuietly(() => activities.remindInboundApprovers({ inbound: s.inbound, approvers: s.inbound.pendingApprovers, escalatedTo: escalated?.escalateTo }));
        break;
      }

      case 'accepting': {
        if (!s.steps.cloudAnswered) {
          try {
            const accepted = await activities.acceptInvitation({ ...call, invitationId: input.invitationId, clientToken: workflowInfo().workflowId });
            s.steps.cloudAnswered = true;
            publish({ cloudStatus: accepted.cloudStatus, ...(accepted.cloudOpportunityId ? { cloudOpportunityId: accepted.cloudOpportunityId } : {}), lastError: undefined });
          } catch (error) {
            await cloudSaidNo(error);
            break;
          }
        }
        // Matched again right before the write: the CRM's accounts may have been synced since the
        // invitation was read (the demo's first sync runs while the inbox polls).
        const match = await activities.matchInvitation({ connectionId: input.connectionId, invitation: s.invitation! });
        publish({ match });
        try {
          const written = await activities.writeInboundToCrm({
            ...call, invitation: s.invitation!, cloudOpportunityId: s.inbound.cloudOpportunityId, match, ids: s.ids,
          });
          s.phase = 'done';
          publish({ status: 'accepted', accountId: written.accountId, opportunityId: written.opportunityId, match: written.match, lastError: undefined });
        } catch (error) {
          // Accepted in the cloud: the CRM write is retried until it goes through, and the operator sees why meanwhile.
          publish({ lastError: { code: 'CrmWriteFailed', message: failureMessage(error), fields: [] } });
          await sleep(input.crmRetryMs ?? 300_000);
        }
        break;
      }

      case 'declining': {
        try {
          const declined = await activities.declineInvitation({ ...call, invitationId: input.invitationId, reason: s.decision!.comment! });
          s.steps.cloudAnswered = true;
          s.phase = 'done';
          publish({ status: 'declined', cloudStatus: declined.cloudStatus, lastError: undefined });
        } catch (error) {
          await cloudSaidNo(error);
        }
        break;
      }
    }
  }

  await condition(allHandlersFinished);
  return view();

  /**
   * The cloud refused the answer: it expired, or someone answered it elsewhere, meanwhile. Its
   * current word settles the invitation; when it is still pending the decision is asked again.
   */
  async function cloudSaidNo(error: unknown): Promise<void> {
    const refused = cloudRefusal(error);
    if (!refused) throw error;
    const read = await activities.readInvitation({ ...call, invitationId: input.invitationId });
    if (read.status !== 'pending_acceptance') {
      if (read.status === 'accepted' && s.phase === 'accepting') {
        // Accepted outside ecosync in the meantime: the CRM still gets it.
        s.steps.cloudAnswered = true;
        publish({ cloudStatus: read.cloudStatus });
        return;
      }
      settle(read, refused);
      return;
    }
    s.phase = 'decision';
    publish({ lastError: refused });
  }
}

function initialProgress(input: InvitationInput): InvitationProgress {
  const at = now();
  return {
    phase: 'read',
    inbound: {
      cloud: input.cloud,
      invitationId: input.invitationId,
      status: 'pending_acceptance',
      sender: { contacts: [] },
      customer: { company: '(not read yet)' },
      project: { title: '(not read yet)' },
      pendingApprovers: [],
      approvals: [],
      createdAt: at,
      updatedAt: at,
    },
    approval: { stages: [], index: 0, escalated: [] },
    // Deterministic in the workflow: replays and retries write the same canonical records.
    ids: { account: uuid4(), opportunity: uuid4() },
    steps: { cloudAnswered: false },
  };
}

// --- the inbox ---------------------------------------------------------------------------------

const DEFAULT_POLL_MS = 300_000;

/**
 * One per connection and cloud (id `cosell-inbox:<cloud>:<connectionId>`): polls the cloud for
 * pending invitations (AWS) or referrals shared with us (Microsoft) on a durable timer and starts
 * one coSellInvitationWorkflow each. The starting is an activity using the Temporal client with
 * USE_EXISTING: one activity per poll whatever the number of invitations (three history events),
 * and a retried poll or an invitation already handed over starts nothing twice. The cursor holds
 * only the ids still pending; the run continues as new every `pollsPerRun` polls.
 */
export async function coSellInboxWorkflow(input: InboxInput): Promise<void> {
  const cursor: InboxCursor = input.cursor ?? { started: [], polls: 0, startedTotal: 0 };
  let pending = cursor.started.length;
  const pollsPerRun = input.pollsPerRun ?? 100;
  setHandler(inboxStateQuery, (): InboxView => ({ ...cursor, cloud: input.cloud, connectionId: input.connectionId, pending }));
  upsertSearchAttributes([
    { key: SA.connection, value: input.connectionName ?? input.connectionId },
    { key: SA.cloud, value: input.cloud },
    { key: SA.status, value: 'polling' },
  ]);

  for (let polls = 0; polls < pollsPerRun; polls++) {
    const result = await activities.pollInbox({
      connectionId: input.connectionId, cloud: input.cloud, started: cursor.started,
      taskQueue: workflowInfo().taskQueue, policy: input.policy, connectionName: input.connectionName, invitation: input.invitation,
    });
    cursor.started = result.pending;
    cursor.polls++;
    cursor.startedTotal += result.newlyStarted.length;
    cursor.lastPollAt = now();
    pending = result.pending.length;
    setCurrentDetails(`${input.cloud} inbox of connection ${input.connectionId}: ${pending} pending, ${cursor.startedTotal} handed over, last poll ${cursor.lastPollAt}`);
    await sleep(input.pollIntervalMs ?? DEFAULT_POLL_MS);
  }
  await continueAsNew<typeof coSellInboxWorkflow>({ ...input, cursor });
}

function now(): string {
  return new Date().toISOString();
}
