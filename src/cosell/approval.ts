/**
 * Internal approval of a co-sell, as configuration: the stages an opportunity passes (deal desk,
 * then alliance lead...), the amount from which each applies, who may decide each, and how long
 * approvers have before a reminder and escalation. Pure and free of runtime imports, so the
 * co-sell workflow runs the same rules in its update validators.
 */

export interface ApprovalStage {
  /** Stable name, as it appears in the trail: "deal_desk". */
  name: string;
  /** A user holding any of these roles may decide the stage. */
  roles: string[];
  /** The stage applies from this amount (a decimal string in the policy's currency). */
  minAmount?: string;
  /**
   * The stage applies from this discount off list price, in percent (private offers). A stage
   * with both thresholds applies when either is reached; a stage with neither, always.
   */
  minDiscountPercent?: string;
  /** Approvers have this long before a reminder goes out and the stage is escalated. */
  slaSeconds: number;
  /** Added as an approver of the stage when the SLA lapses (a manager, say). */
  escalateTo?: string;
}

export interface ApprovalPolicy {
  /** The currency of the stages' thresholds. */
  currency: string;
  stages: ApprovalStage[];
  /** User (email) → roles. */
  users: Record<string, string[]>;
  /**
   * Who may accept or reject an opportunity a cloud shared with us (an AWS invitation, a
   * Microsoft referral). When absent, the last stage's roles, SLA and escalation decide.
   */
  inbound?: InboundApproval;
}

/** The one decision an invitation from a cloud needs: accept or reject. */
export interface InboundApproval {
  roles: string[];
  slaSeconds: number;
  escalateTo?: string;
}

/** The stage name inbound decisions carry in the trail and in `DecisionRequest.stage`. */
export const INBOUND_STAGE = 'inbound';

/** Who is deciding what: the current stage and the approvals it has so far. */
export interface ApprovalProgress {
  /** Names of the stages that apply to this opportunity, in order. */
  stages: string[];
  /** Index into `stages` of the stage waiting for a decision; `stages.length` once all approved. */
  index: number;
  /** Stages whose SLA lapsed: their escalation approver may decide them too. */
  escalated: string[];
}

export type DecisionKind = 'approve' | 'reject' | 'requestChanges';

export interface DecisionRequest {
  /** The approver's email. */
  by: string;
  /** The stage the approver means; must be the current one when given. */
  stage?: string;
  comment?: string;
}

/** A sensible default: deal desk always, the alliance lead from 100,000 USD, both within a day. */
export const DEFAULT_APPROVAL_POLICY: ApprovalPolicy = {
  currency: 'USD',
  stages: [
    { name: 'deal_desk', roles: ['deal_desk'], slaSeconds: 86_400, escalateTo: 'revops-lead@example.com' },
    { name: 'alliance_lead', roles: ['alliance_lead'], minAmount: '100000', slaSeconds: 86_400, escalateTo: 'vp-alliances@example.com' },
  ],
  users: {},
};

/**
 * The stages an opportunity of this amount (an offer of this value and discount) passes. An
 * unknown amount, or one in another currency than the thresholds', reaches every amount
 * threshold, and an unknown discount every discount threshold: the strict path is the safe one.
 */
export function stagesFor(policy: ApprovalPolicy, amount: { amount: string; currency: string } | undefined, discountPercent?: string): ApprovalStage[] {
  const comparable = amount !== undefined && amount.currency === policy.currency;
  return policy.stages.filter((s) => {
    if (s.minAmount === undefined && s.minDiscountPercent === undefined) return true;
    const byAmount = s.minAmount !== undefined && (!comparable || compareDecimal(amount.amount, s.minAmount) >= 0);
    const byDiscount = s.minDiscountPercent !== undefined && (discountPercent === undefined || compareDecimal(discountPercent, s.minDiscountPercent) >= 0);
    return byAmount || byDiscount;
  });
}

/**
 * The policy an invitation is decided under: a single `inbound` stage, from the policy's
 * `inbound` section or else its last stage. The same helpers (approversOf, refusal) then apply.
 */
export function inboundPolicy(policy: ApprovalPolicy): ApprovalPolicy {
  const last = policy.stages[policy.stages.length - 1];
  const source: InboundApproval = policy.inbound ?? { roles: last?.roles ?? [], slaSeconds: last?.slaSeconds ?? 86_400, escalateTo: last?.escalateTo };
  const stage: ApprovalStage = { name: INBOUND_STAGE, roles: source.roles, slaSeconds: source.slaSeconds };
  if (source.escalateTo) stage.escalateTo = source.escalateTo;
  return { currency: policy.currency, users: policy.users, stages: [stage] };
}

export function stageNamed(policy: ApprovalPolicy, name: string): ApprovalStage | undefined {
  return policy.stages.find((s) => s.name === name);
}

export function currentStage(progress: ApprovalProgress): string | undefined {
  return progress.stages[progress.index];
}

/** Everyone who may decide `stage` now: holders of its roles, and its escalation approver once escalated. */
export function approversOf(policy: ApprovalPolicy, stage: string, escalated: readonly string[]): string[] {
  const s = stageNamed(policy, stage);
  if (!s) return [];
  const approvers = Object.entries(policy.users)
    .filter(([, roles]) => roles.some((r) => s.roles.includes(r)))
    .map(([user]) => user);
  if (escalated.includes(stage) && s.escalateTo && !approvers.includes(s.escalateTo)) approvers.push(s.escalateTo);
  return approvers.sort();
}

/** Those who may decide the current stage (not who approved an earlier one); none once every stage is approved. */
export function pendingApprovers(policy: ApprovalPolicy, progress: ApprovalProgress, decidedBy: readonly { by: string }[] = []): string[] {
  const stage = currentStage(progress);
  if (stage === undefined) return [];
  return approversOf(policy, stage, progress.escalated).filter((user) => !decidedBy.some((d) => d.by === user));
}

/**
 * A stage whose SLA lapsed brings in its escalation approver, once: the progress with the stage
 * escalated and the note for the trail; undefined when it has none or was escalated before.
 */
export function escalation(stage: ApprovalStage, progress: ApprovalProgress): { progress: ApprovalProgress; escalateTo: string; note: string } | undefined {
  if (stage.escalateTo === undefined || progress.escalated.includes(stage.name)) return undefined;
  return {
    progress: { ...progress, escalated: [...progress.escalated, stage.name] },
    escalateTo: stage.escalateTo,
    note: `no decision within ${stage.slaSeconds} s; ${stage.escalateTo} may decide`,
  };
}

/**
 * Why a decision update must be refused, or undefined: the workflow must be waiting for approval
 * (`waiting`, else `what` says where it is), the person may decide the current stage (an approver
 * decides once), and a rejection or a request for changes says why.
 */
export function decisionRefusal(
  kind: DecisionKind,
  state: { waiting: boolean; what: string },
  policy: ApprovalPolicy,
  progress: ApprovalProgress,
  request: DecisionRequest,
  approvedBy: readonly { stage: string; by: string }[],
): string | undefined {
  if (!state.waiting) return `${state.what}: no approval stage is waiting for a decision`;
  const reason = refusal(policy, progress, request, kind === 'approve' ? approvedBy : []);
  if (reason) return reason;
  if (kind !== 'approve' && !request.comment?.trim()) return `${kind === 'reject' ? 'a rejection' : 'a request for changes'} needs a comment for the alliance manager`;
  return undefined;
}

/** An approval of the current stage: who approved it, and the next stage (all approved when `done`). */
export function approve(progress: ApprovalProgress, approvedBy: readonly { stage: string; by: string }[], by: string): { stage: string; progress: ApprovalProgress; approvedBy: { stage: string; by: string }[]; done: boolean } {
  const stage = currentStage(progress)!;
  const next = { ...progress, index: progress.index + 1 };
  return { stage, progress: next, approvedBy: [...approvedBy, { stage, by }], done: next.index >= next.stages.length };
}

/**
 * Why this decision may not be made, or undefined when it may. `decidedBy` lists who already
 * approved earlier stages of this round (one person does not approve twice).
 */
export function refusal(
  policy: ApprovalPolicy,
  progress: ApprovalProgress,
  request: DecisionRequest,
  decidedBy: readonly { stage: string; by: string }[],
): string | undefined {
  if (!request || typeof request.by !== 'string' || request.by.trim() === '') return 'a decision needs the approver\'s email in "by"';
  const stage = currentStage(progress);
  if (stage === undefined) return 'no approval stage is waiting for a decision';
  if (request.stage !== undefined && request.stage !== stage) return `stage ${request.stage} is not the current one (${stage} is)`;
  const earlier = decidedBy.find((d) => d.by === request.by);
  if (earlier) return `${request.by} already approved stage ${earlier.stage}; another approver must decide ${stage}`;
  if (!approversOf(policy, stage, progress.escalated).includes(request.by)) {
    const roles = stageNamed(policy, stage)?.roles ?? [];
    return `${request.by} may not decide stage ${stage}: it needs the role ${roles.join(' or ')}`;
  }
  return undefined;
}

/**
 * Compares two non-negative or negative decimal strings exactly ("1250.5" vs "1250.50" are
 * equal): no floats, so thresholds never round the wrong way.
 */
export function compareDecimal(a: string, b: string): number {
  const [x, y] = [toScaled(a), toScaled(b)];
  const digits = Math.max(x.scale, y.scale);
  const xs = x.value * 10n ** BigInt(digits - x.scale);
  const ys = y.value * 10n ** BigInt(digits - y.scale);
  return xs < ys ? -1 : xs > ys ? 1 : 0;
}

function toScaled(text: string): { value: bigint; scale: number } {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw new Error(`not a decimal number: "${text}"`);
  const fraction = match[3] ?? '';
  const value = BigInt(match[2] + fraction);
  return { value: match[1] ? -value : value, scale: fraction.length };
}
