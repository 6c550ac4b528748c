import {
  allHandlersFinished, condition, continueAsNew, defineQuery, defineSignal, defineUpdate, proxyActivities,
  setCurrentDetails, setHandler, sleep, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import { approve, currentStage, decisionRefusal, escalation, pendingApprovers, stageNamed, stagesFor, type DecisionRequest } from '../src/cosell/approval.js';
import type { PrivateOffer } from '../src/model/offer.js';
import { remindQuietly } from './cosell.js';
import {
  OFFER_NON_RETRYABLE, type AgreementSeen, type MarketplaceNotice, type OfferActivities, type OfferInput, type OfferProgress,
  type OfferResubmit, type OfferView, type OfferWithdraw, type PublishStep,
} from './offer-types.js';
import { SA } from './search-attributes.js';

export const approveOfferUpdate = defineUpdate<OfferView, [DecisionRequest]>('approve');
export const rejectOfferUpdate = defineUpdate<OfferView, [DecisionRequest]>('reject');
export const requestOfferChangesUpdate = defineUpdate<OfferView, [DecisionRequest]>('requestChanges');
/** The alliance manager's fix: the CRM's terms are read again, the request's pricing may change. */
export const resubmitOfferUpdate = defineUpdate<OfferView, [OfferResubmit]>('resubmit');
export const withdrawOfferUpdate = defineUpdate<OfferView, [OfferWithdraw]>('withdraw');
/** The marketplace announced something (an event ecosync received): look now instead of at the next poll. */
export const marketplaceNoticeSignal = defineSignal<[MarketplaceNotice]>('marketplaceNotice');
export const offerStateQuery = defineQuery<OfferView>('state');

const activities = proxyActivities<OfferActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: OFFER_NON_RETRYABLE },
});

const DAY_MS = 86_400_000;
const MAX_HISTORY_EVENTS = 2000;

/**
 * One private offer of one opportunity on one marketplace (id `offer:<cloud>:<opportunity id>`):
 * its terms are read from the CRM and checked, it passes the approval stages its value and
 * discount call for, it is published (AWS: VALIDATE, then APPLY; a CPPO as the seller's resale
 * authorization, then the reseller's offer) and followed on durable timers or by the
 * marketplace's events; a refusal goes back to the CRM in words and waits for a fix; once live it
 * waits for the buyer, reminding before it expires; an acceptance is booked once: the agreement,
 * the opportunity won, the ERP's customer and one sales order.
 */
export async function privateOfferWorkflow(input: OfferInput): Promise<OfferView> {
  const { cloud, policy } = input;
  const s: OfferProgress = input.resume ?? { phase: 'prepare', offer: draft(input), approval: { stages: [], index: 0, escalated: [] }, approvedBy: [], round: 0, reminded: [], validated: [] };
  const call = { connectionId: input.connectionId, cloud };
  let request = input.request;
  let notified = false;
  let written: string | undefined;
  let busy = false;

  const view = (): OfferView => ({ ...s.offer, phase: s.phase });

  function publish(changes: Partial<PrivateOffer> = {}): void {
    const stage = s.phase === 'approval' ? currentStage(s.approval) : undefined;
    const approvers = stage ? pendingApprovers(policy, s.approval, s.approvedBy) : [];
    s.offer = { ...s.offer, ...changes, currentStage: stage, pendingApprovers: approvers, updatedAt: now() };
    if (!stage) delete s.offer.currentStage;
    upsertSearchAttributes([
      { key: SA.cloud, value: cloud },
      { key: SA.status, value: s.offer.status },
      { key: SA.approvers, value: approvers },
      { key: SA.buyer, value: s.offer.buyerAccounts },
      // The marketplace's events name the offer by its cloud id: this is how they find the workflow.
      ...(s.offer.cloudIds.offerId ? [{ key: SA.cloudId, value: s.offer.cloudIds.offerId }] : []),
    ]);
    const waiting = approvers.length > 0 ? `; waiting for ${stage}: ${approvers.join(', ')}` : s.phase === 'live' ? `; waiting for the buyer until ${s.offer.expiresOn}` : '';
    setCurrentDetails(`${cloud === 'aws' ? 'AWS' : 'Microsoft'} private offer "${s.offer.name}" (${s.offer.totalValue ?? '?'} ${s.offer.currency}): ${s.offer.status}${s.offer.cloudIds.offerId ? ` (${s.offer.cloudIds.offerId})` : ''}${waiting}`);
  }

  function trail(stage: string, by: string, decision: PrivateOffer['approvals'][number]['decision'], comment?: string): void {
    s.offer.approvals = [...s.offer.approvals, { stage, by, decision, at: now(), ...(comment ? { comment } : {}) }];
  }

  /** The offer's status reaches the CRM when it changed since the last write. */
  async function writeBack(): Promise<void> {
    for (;;) {
      const key = `${s.offer.status}|${s.offer.cloudIds.offerId ?? ''}|${s.offer.buyerUrl ?? ''}|${JSON.stringify(s.offer.problems)}|${s.offer.pendingApprovers.join(',')}|${s.offer.agreementId ?? ''}`;
      if (key === written) return;
      written = key;
      await activities.writeOfferToCrm({ connectionId: input.connectionId, offer: s.offer });
    }
  }

  // --- decisions -------------------------------------------------------------------------------

  const decisionValidator = (kind: 'approve' | 'reject' | 'requestChanges') => (request: DecisionRequest) => {
    const reason = decisionRefusal(kind, { waiting: s.phase === 'approval', what: `the offer is ${s.offer.status}` }, policy, s.approval, request, s.approvedBy);
    if (reason) throw new Error(reason);
  };

  setHandler(approveOfferUpdate, (decision) => {
    const approved = approve(s.approval, s.approvedBy, decision.by);
    trail(approved.stage, decision.by, 'approved', decision.comment);
    s.approvedBy = approved.approvedBy;
    s.approval = approved.progress;
    if (approved.done) s.phase = 'publish';
    publish();
    return view();
  }, { validator: decisionValidator('approve') });

  setHandler(rejectOfferUpdate, (decision) => {
    const stage = currentStage(s.approval)!;
    trail(stage, decision.by, 'rejected', decision.comment);
    s.phase = 'done';
    publish({ status: 'rejected_internal', problems: [{ code: 'RejectedInternally', message: `${stage} (${decision.by}): ${decision.comment ?? ''}` }] });
    return view();
  }, { validator: decisionValidator('reject') });

  setHandler(requestOfferChangesUpdate, (decision) => {
    trail(currentStage(s.approval)!, decision.by, 'changes_requested', decision.comment);
    s.phase = 'changes';
    publish({ status: 'changes_requested', problems: [{ code: 'ChangesRequested', message: decision.comment ?? '' }] });
    return view();
  }, { validator: decisionValidator('requestChanges') });

  setHandler(resubmitOfferUpdate, async (fix) => {
    busy = true;
    try {
      trail(s.phase === 'fix' ? 'marketplace' : 'submission', fix.by, 'resubmitted', fix.comment);
      if (fix.request) request = { ...request, ...definedOnly(fix.request) };
      // Back through the check and every approval stage: what was approved may have changed.
      s.phase = 'prepare';
      s.round++;
      s.validated = [];
      await condition(() => s.phase !== 'prepare');
      return view();
    } finally {
      busy = false;
    }
  }, {
    validator: (fix) => {
      if (busy) throw new Error('a resubmission is already being prepared');
      if (s.phase !== 'changes' && s.phase !== 'fix') throw new Error(`the offer is ${s.offer.status}: nothing asks for a resubmission`);
      if (!fix || typeof fix.by !== 'string' || fix.by.trim() === '') throw new Error('a resubmission needs the alliance manager\'s email in "by"');
    },
  });

  setHandler(withdrawOfferUpdate, async (w) => {
    busy = true;
    try {
      trail('withdrawal', w.by, 'rejected', w.reason);
      if (s.offer.status === 'live') await activities.withdrawOffer({ ...call, offer: s.offer, token: `${workflowInfo().workflowId}:withdraw` });
      s.phase = 'done';
      publish({ status: 'withdrawn', problems: [] });
      return view();
    } finally {
      busy = false;
    }
  }, {
    validator: (w) => {
      if (busy) throw new Error('the offer is being changed; try again in a moment');
      if (!w || typeof w.by !== 'string' || w.by.trim() === '' || !w.reason?.trim()) throw new Error('a withdrawal needs "by" and a "reason"');
      if (s.phase === 'done' || s.phase === 'book' || s.phase === 'publish' || s.phase === 'follow') throw new Error(`the offer is ${s.offer.status}: it cannot be withdrawn now`);
    },
  });

  setHandler(marketplaceNoticeSignal, (notice) => {
    if (notice?.kind === 'agreement' && notice.offerId === s.offer.cloudIds.offerId && !s.announced) s.announced = { agreementId: notice.agreementId };
    // Microsoft: the buyer's purchase, resolved from the landing page's token; its subscription is the agreement.
    if (notice?.kind === 'subscription' && notice.offerId === s.offer.cloudIds.offerId && !s.announced) s.announced = { agreementId: notice.subscriptionId };
    notified = true;
  });

  setHandler(offerStateQuery, view);

  // --- the run ---------------------------------------------------------------------------------

  publish();
  for (;;) {
    await writeBack();
    if (s.phase === 'done') break;
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > (input.historyLimit ?? MAX_HISTORY_EVENTS)) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof privateOfferWorkflow>({ ...input, request, resume: s });
    }

    switch (s.phase) {
      case 'prepare': {
        const prepared = await activities.prepareOffer({ ...call, offerId: input.offerId, crm: input.crm, request, previous: s.offer });
        if (!prepared.offer) {
          s.phase = 'changes';
          publish({ status: 'changes_requested', problems: prepared.problems });
          break;
        }
        s.offer = { ...prepared.offer, approvals: s.offer.approvals };
        const stages = stagesFor(policy, { amount: s.offer.totalValue ?? '0', currency: s.offer.currency }, s.offer.discountPercent).map((st) => st.name);
        s.approval = { stages, index: 0, escalated: [] };
        s.approvedBy = [];
        s.phase = stages.length > 0 ? 'approval' : 'publish';
        publish({ status: 'pending_approval', problems: [] });
        break;
      }

      case 'approval': {
        const stage = currentStage(s.approval)!;
        const config = stageNamed(policy, stage)!;
        const index = s.approval.index;
        const decided = await condition(() => s.phase !== 'approval' || s.approval.index !== index, config.slaSeconds * 1000);
        if (decided) break;
        const escalated = escalation(config, s.approval);
        if (escalated) {
          s.approval = escalated.progress;
          trail(stage, 'ecosync', 'escalated', escalated.note);
        }
        publish();
        await remindQuietly(() => activities.remindOffer({
          offer: s.offer, to: s.offer.pendingApprovers, subject: `Private offer waiting for ${stage} approval`,
          text: `${cloud === 'aws' ? 'AWS' : 'Microsoft'} private offer "${s.offer.name}" (${s.offer.totalValue} ${s.offer.currency}, ${s.offer.discountPercent ?? '?'} % off list), asked by ${s.offer.requestedBy}, waits for stage ${stage}.`,
        }));
        break;
      }

      case 'changes':
      case 'fix':
        await condition(() => s.phase !== 'changes' && s.phase !== 'fix');
        break;

      case 'publish': {
        const step: PublishStep = s.offer.channel === 'direct' ? 'direct' : s.offer.resale?.cloudId ? 'resale' : 'authorization';
        // AWS checks a change set first (Intent VALIDATE), then applies it; Microsoft's job validates as it runs.
        const intent = cloud === 'aws' && !s.validated.includes(step) ? 'VALIDATE' : 'APPLY';
        const sent = await activities.publishOffer({ ...call, offer: s.offer, step, intent, token: `${workflowInfo().workflowId}:${s.round}:${step}:${intent}` });
        if ('busy' in sent) {
          // The marketplace is still applying an earlier change to the entity: wait, then send again.
          await sleep(pollDelay(1));
          break;
        }
        if ('problems' in sent) {
          s.phase = 'fix';
          publish({ status: 'failed', problems: sent.problems });
          break;
        }
        s.pending = { id: sent.id, step, intent, as: sent.as, attempt: 0 };
        s.phase = 'follow';
        publish({ status: 'submitted', problems: [], cloudIds: { ...s.offer.cloudIds, ...(cloud === 'aws' ? { changeSetId: sent.id } : { jobId: sent.id }) } });
        break;
      }

      case 'follow': {
        const pending = s.pending!;
        if (pending.attempt > 0) {
          notified = false;
          await condition(() => notified, pollDelay(pending.attempt));
        }
        pending.attempt++;
        const progress = await activities.followPublish({ ...call, offer: s.offer, id: pending.id, as: pending.as });
        if (progress.status === 'running') break;
        if (progress.status === 'retry') {
          // AWS failed on its side (SERVER_FAULT): the same step again, with a new token.
          s.round++;
          s.phase = 'publish';
          break;
        }
        if (progress.status === 'failed') {
          s.pending = undefined;
          s.phase = 'fix';
          publish({ status: 'failed', problems: progress.problems ?? [] });
          break;
        }
        s.pending = undefined;
        if (pending.intent === 'VALIDATE') {
          s.validated.push(pending.step);
          s.phase = 'publish';
          break;
        }
        if (pending.step === 'authorization') {
          s.offer = { ...s.offer, resale: s.offer.resale ? { ...s.offer.resale, cloudId: progress.entityId, released: true } : undefined };
          s.offer.cloudIds = { ...s.offer.cloudIds, resaleAuthorizationId: progress.entityId };
          s.phase = 'publish';
          publish();
          break;
        }
        s.phase = 'live';
        publish({ status: 'live', problems: [], cloudIds: { ...s.offer.cloudIds, offerId: progress.entityId }, ...(progress.buyerUrl ? { buyerUrl: progress.buyerUrl } : {}) });
        break;
      }

      case 'live': {
        const agreement = await waitForBuyer();
        if (agreement === 'expired') {
          s.phase = 'done';
          publish({ status: 'expired' });
        } else if (agreement) {
          s.phase = 'book';
          s.booked = { agreementId: agreement.agreementId };
          publish({ agreementId: agreement.agreementId });
          const booked = await activities.bookAgreement({ ...call, offer: s.offer, agreement });
          s.booked.salesOrderId = booked.salesOrderId;
          s.phase = 'done';
          publish({ status: 'accepted', problems: [] });
        }
        break;
      }
    }
  }

  await condition(allHandlersFinished);
  return view();

  /**
   * Waits for an acceptance: announced by an event, or found by a poll (the event may never
   * come). Reminds the alliance manager before the offer expires; 'expired' once it has.
   */
  async function waitForBuyer(): Promise<AgreementSeen | 'expired' | undefined> {
    const expiresAt = Date.parse(`${s.offer.expiresOn}T23:59:59.999Z`);
    const reminderDays = input.reminderDays ?? [7, 1];
    const due = reminderDays.filter((d) => !s.reminded.includes(d) && Date.now() >= expiresAt - d * DAY_MS).sort((a, b) => a - b)[0];
    if (due !== undefined) {
      s.reminded.push(...reminderDays.filter((d) => d >= due));
      await remindQuietly(() => activities.remindOffer({
        offer: s.offer, to: [s.offer.requestedBy], subject: `Private offer expires ${s.offer.expiresOn}`,
        text: `The buyer has not accepted "${s.offer.name}" yet; it expires at the end of ${s.offer.expiresOn}. Buyer link: ${s.offer.buyerUrl ?? '—'}`,
      }));
    }
    const found = await activities.findAcceptance({ ...call, offer: s.offer, ...(s.announced ? { agreementId: s.announced.agreementId } : {}) });
    if (found) return found;
    if (Date.now() > expiresAt) return 'expired';
    const nextReminder = reminderDays.filter((d) => !s.reminded.includes(d)).map((d) => expiresAt - d * DAY_MS).filter((t) => t > Date.now());
    const wake = Math.min(input.acceptancePollMs ?? 3_600_000, expiresAt + 1 - Date.now(), ...nextReminder.map((t) => t - Date.now()));
    notified = false;
    await condition(() => notified || s.phase !== 'live', Math.max(1, wake));
    return undefined;
  }

  function pollDelay(attempt: number): number {
    // Microsoft asks that a configure job's status be read at most once a minute.
    const first = input.pollIntervalMs ?? (cloud === 'azure' ? 60_000 : 30_000);
    const max = input.maxPollIntervalMs ?? 600_000;
    return Math.min(max, first * 2 ** Math.min(attempt - 1, 20));
  }
}

/** The offer before its terms are read: the request's side, to show in the meantime. */
function draft(input: OfferInput): PrivateOffer {
  const at = now();
  const r = input.request;
  return {
    id: input.offerId, cloud: input.cloud, channel: r.channel, opportunityId: r.opportunityId, ...(r.accountId ? { accountId: r.accountId } : {}),
    name: 'Private offer (reading the opportunity\'s terms)', productId: '', buyerAccounts: [], pricingModel: r.pricingModel, currency: 'USD', dimensions: r.dimensions,
    duration: 'P12M', eula: { type: 'standard' }, expiresOn: at.slice(0, 10), status: 'draft', cloudIds: {}, problems: [],
    requestedBy: r.requestedBy, pendingApprovers: [], approvals: [{ stage: 'submission', by: r.requestedBy, decision: 'submitted', at }], createdAt: at, updatedAt: at,
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function now(): string {
  return new Date().toISOString();
}
