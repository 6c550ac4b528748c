import { z } from 'zod';
import { CoSellReferral, IsoDateTime, Money, PrivateOffer } from '../model/index.js';
import { InboundCoSell } from '../model/cosell-inbound.js';
import type { CoSellKind, CoSellListItem, CoSellStatusAnswer, DecisionResult, SubmitResult } from '../service/cosell-control.js';
import type { OfferAnswer, OfferListItem } from '../service/offer-control.js';
import type { Conflict, Connection, DeadLetter, SyncRun } from '../store/index.js';
import type { CheckResult } from '../sync/protocol.js';
import type { CoSellPhase, CoSellView } from '../../workflows/cosell-types.js';
import type { InvitationPhase, InvitationView } from '../../workflows/cosell-inbound-types.js';
import type { OfferPhase, OfferView } from '../../workflows/offer-types.js';
import type { ReplayResult, RunSummary, SyncCounters, SyncStatus } from '../../workflows/sync-types.js';

/**
 * What the API answers, as zod schemas: the canonical model's schemas where it has them (co-sells,
 * money, timestamps), and for the store's and the workflows' plain types a schema that the
 * compiler holds to that type, so the two cannot drift apart. Route schemas are built from these;
 * the `named` ones become components of /openapi.json.
 */

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** The schema, when its output is exactly T (a compile error otherwise). */
const exactly = <T>() => <S extends z.ZodType>(schema: S & (Same<z.output<S>, T> extends true ? unknown : never)): S => schema;

/** The schema, when what it lets through is a T (for types that are wider than what is sent). */
const within = <T>() => <S extends z.ZodType>(schema: S & (z.output<S> extends T ? unknown : never)): S => schema;

/** A schema with a name in the OpenAPI document (components.schemas), through zod's global registry. */
export function named<S extends z.ZodType>(id: string, schema: S): S {
  return schema.meta({ id }) as S;
}

const Count = z.number().int().min(0);
const NullableTime = IsoDateTime.nullable();

// --- connections -----------------------------------------------------------------------------

export const ConnectionView = named('Connection', exactly<Connection>()(z.object({
  id: z.uuid(),
  name: z.string(),
  systems: z.array(z.object({
    name: z.string(),
    system: z.string().describe('The connector kind: salesforce, hubspot, netsuite…'),
    role: z.enum(['both', 'source', 'target']),
    instance: z.string().nullable().describe('The org, portal or account the system turned out to be, once synced'),
  })),
  entities: z.array(z.object({
    entity: z.string(),
    members: z.array(z.object({ system: z.string(), object: z.string(), mapping: z.string() })),
  })),
  deletePolicy: z.enum(['propagate', 'ignore']),
  conflictPolicy: z.string(),
  updateAfterDelete: z.enum(['skip', 'resurrect']),
  scheduleSeconds: z.number().int().nullable(),
  enabled: z.boolean(),
  hasCredentials: z.boolean().describe('Credentials are kept encrypted and never returned'),
  credentialsKeyId: z.string().nullable(),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
})));

export const CheckResultView = exactly<CheckResult>()(z.object({
  ok: z.boolean(),
  message: z.string(),
  details: z.record(z.string(), z.string()).optional(),
}));

// --- sync runs -------------------------------------------------------------------------------

const RunCountersShape = {
  read: Count,
  created: Count,
  updated: Count,
  unchanged: Count.describe('Includes echoes of ecosync\'s own writes and lookback re-reads'),
  deleted: Count,
  failed: Count,
  conflicts: Count,
};

export const SyncCountersView = exactly<SyncCounters>()(z.object({ ...RunCountersShape, writeCalls: Count, readCalls: Count }));

export const SyncRunView = named('SyncRun', exactly<SyncRun>()(z.object({
  id: z.uuid(),
  connectionId: z.uuid(),
  workflowId: z.string().nullable(),
  runId: z.string().nullable(),
  mode: z.enum(['incremental', 'full']),
  status: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
  startedAt: IsoDateTime,
  finishedAt: NullableTime,
  counters: z.object(RunCountersShape),
  error: z.string().nullable(),
})));

export const RunSummaryView = named('RunSummary', exactly<RunSummary>()(z.object({
  runId: z.string(),
  requestIds: z.array(z.string()).describe('The sync requests this cycle served'),
  mode: z.enum(['incremental', 'full']),
  status: z.enum(['succeeded', 'failed']),
  counters: SyncCountersView,
  error: z.string().optional(),
  startedAt: IsoDateTime,
  finishedAt: IsoDateTime,
})));

export const SyncStatusView = exactly<SyncStatus>()(z.object({
  connectionId: z.string(),
  phase: z.enum(['idle', 'running', 'waiting-for-rate-limit']),
  current: z.object({ entity: z.string(), source: z.string(), pages: Count, counters: SyncCountersView }).optional(),
  pending: Count.describe('Sync requests waiting for the next cycle'),
  cycles: Count,
  lastRun: RunSummaryView.optional(),
  totals: SyncCountersView,
}));

// --- dead letters and conflicts --------------------------------------------------------------

export const DeadLetterView = named('DeadLetter', exactly<DeadLetter>()(z.object({
  id: z.uuid(),
  connectionId: z.uuid(),
  direction: z.enum(['read', 'write']).describe('read: the source record could not be mapped or planned; write: a system refused the write'),
  system: z.string(),
  object: z.string(),
  externalId: z.string().nullable(),
  canonicalId: z.string().nullable(),
  payload: z.unknown().describe('The source record as read'),
  reason: z.string(),
  errorCode: z.string().nullable().describe('The system\'s own error code, e.g. REQUIRED_FIELD_MISSING'),
  failingFields: z.array(z.string()),
  attempts: Count,
  firstFailedAt: IsoDateTime,
  lastFailedAt: IsoDateTime,
  status: z.enum(['open', 'replayed', 'discarded']),
  resolvedAt: NullableTime,
})));

export const ReplayResultView = exactly<ReplayResult>()(z.object({
  replayed: Count,
  stillFailing: Count,
  gone: Count.describe('The record no longer exists in its system: the letter was discarded'),
}));

export const ConflictView = named('Conflict', exactly<Conflict>()(z.object({
  id: z.uuid(),
  connectionId: z.uuid(),
  entity: z.string(),
  canonicalId: z.string(),
  field: z.string(),
  baseValue: z.unknown().describe('The field in the last agreed record'),
  sides: z.record(z.string(), z.object({ value: z.unknown(), modifiedAt: NullableTime })).describe('Each system that changed the field, by its name in the connection'),
  status: z.enum(['open', 'resolved']),
  resolution: z.union([
    z.object({ kind: z.literal('side'), system: z.string() }),
    z.object({ kind: z.literal('manual'), value: z.unknown() }),
  ]).nullable(),
  resolvedValue: z.unknown(),
  resolvedBy: z.string().nullable(),
  resolvedAt: NullableTime,
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
})));

// --- co-sells --------------------------------------------------------------------------------

const COSELL_PHASES = ['validate', 'approval', 'changes', 'cloud', 'review', 'fix', 'done'] as const satisfies readonly CoSellPhase[];
const INVITATION_PHASES = ['read', 'decision', 'accepting', 'declining', 'done'] as const satisfies readonly InvitationPhase[];

/** Ours, to a cloud: the canonical referral and where its workflow is. */
export const CoSellViewSchema = named('CoSell', exactly<CoSellView>()(CoSellReferral.extend({
  phase: z.enum(COSELL_PHASES),
  queuedEdits: Count.describe('CRM edits waiting for the cloud to take edits again'),
  sentEdits: Count,
})));

/** A cloud's, to us: the canonical inbound co-sell and where its workflow is. */
export const InvitationViewSchema = named('CoSellInvitation', exactly<InvitationView>()(InboundCoSell.extend({
  phase: z.enum(INVITATION_PHASES),
})));

const CoSellKindView = exactly<CoSellKind>()(z.enum(['outbound', 'inbound']));
const EitherCoSell = z.union([CoSellViewSchema, InvitationViewSchema]);

export const SubmitResultView = exactly<SubmitResult>()(z.object({
  workflowId: z.string(),
  started: z.boolean().describe('false: this co-sell was already running and is returned as it is'),
  state: CoSellViewSchema.optional(),
}));

export const CoSellStatusView = within<CoSellStatusAnswer>()(z.object({
  id: z.string().describe('The workflow id: cosell:<cloud>:<opportunity id> or cosell-inbound:<cloud>:<invitation id>'),
  kind: CoSellKindView,
  execution: z.string().describe('Temporal\'s execution status: RUNNING, COMPLETED, FAILED, TERMINATED…'),
  state: EitherCoSell.optional(),
}));

export const DecisionResultView = within<DecisionResult>()(z.object({
  id: z.string(),
  kind: CoSellKindView,
  state: EitherCoSell,
}));

export const CoSellListItemView = named('CoSellListItem', within<CoSellListItem>()(z.object({
  id: z.string(),
  kind: CoSellKindView,
  cloud: z.string().optional(),
  status: z.string().optional(),
  approvers: z.array(z.string()).describe('Who may decide now'),
  execution: z.string(),
  startedAt: IsoDateTime,
  closedAt: IsoDateTime.optional(),
  opportunity: z.string().optional().describe('The opportunity\'s name (outbound only)'),
  amount: Money.nullable().optional(),
  requestedBy: z.string().optional(),
})));

// --- private offers --------------------------------------------------------------------------

const OFFER_PHASES = ['prepare', 'approval', 'changes', 'publish', 'follow', 'fix', 'live', 'book', 'done'] as const satisfies readonly OfferPhase[];

/** A private offer as its workflow holds it: the canonical offer and where the workflow is. */
export const OfferViewSchema = named('PrivateOffer', exactly<OfferView>()(PrivateOffer.extend({
  phase: z.enum(OFFER_PHASES).describe('prepare, approval, changes (the alliance manager fixes), publish and follow (the marketplace applies it), fix (the marketplace refused it), live (waiting for the buyer), book, done'),
})));

export const OfferAnswerView = exactly<OfferAnswer>()(z.object({
  id: z.string().describe('The workflow id: offer:<cloud>:<opportunity id>'),
  started: z.boolean().describe('false: this offer was already there and is returned as it is'),
  execution: z.string().describe('Temporal\'s execution status: RUNNING, COMPLETED, FAILED, TERMINATED…'),
  state: OfferViewSchema.optional(),
}));

export const OfferListItemView = named('PrivateOfferListItem', exactly<OfferListItem>()(z.object({
  id: z.string(),
  cloud: z.string().optional(),
  status: z.string().optional(),
  approvers: z.array(z.string()).describe('Who may decide now'),
  buyers: z.array(z.string()).describe('The buyers the offer is for: AWS account ids, Microsoft beneficiaries'),
  execution: z.string(),
  startedAt: IsoDateTime,
  opportunity: z.string().optional().describe('The opportunity\'s name'),
  requestedBy: z.string().optional(),
})));
