import {
  Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError,
  type WorkflowExecutionDescription, type WorkflowExecutionInfo, type WorkflowHandle,
} from '@temporalio/client';
import type { Logger } from 'pino';
import { SA } from '../../workflows/search-attributes.js';
import { coSellWorkflowId, type CoSellInput, type CoSellOptions, type CoSellSnapshot, type CoSellView, type CrmRecordRef } from '../../workflows/cosell-types.js';
import { CRM_COSELL_FIELDS, type CoSellEvent } from '../cosell/crm.js';
import type { Account, CoSellCloud, Contact, Opportunity } from '../model/index.js';
import { COSELL_STATUSES, FINAL_COSELL_STATUSES } from '../model/cosell.js';
import { INBOUND_COSELL_STATUSES } from '../model/cosell-inbound.js';
import type { CoSellSettings } from '../runtime/config.js';
import { instanceOf, type Connection, type Store } from '../store/index.js';
import { updateFailure } from './failures.js';
import { coSellText } from './summaries.js';

/**
 * How the API, the CLI and the sync layer drive co-sells: submit an opportunity the store knows
 * to a cloud (a workflow per opportunity and cloud), read one, decide one (the workflow's
 * validators say who may), find them through Temporal visibility, and pass CRM edits on.
 * Inbound co-sells (what a cloud shares with us) are decided and listed by the same calls.
 */
export interface CoSellControl {
  client: Client;
  taskQueue: string;
  store: Store;
  settings: CoSellSettings;
  log?: Logger;
}

export const CLOUDS: readonly CoSellCloud[] = ['aws', 'azure'];
export const OUTBOUND_PREFIX = 'cosell:';
export const INBOUND_PREFIX = 'cosell-inbound:';
const WORKFLOW_TYPE = 'coSellWorkflow';
const INVITATION_TYPE = 'coSellInvitationWorkflow';
/** The workflows a co-sell list shows: ours, and the invitations clouds share (not their inboxes). */
const LISTED_TYPES = [WORKFLOW_TYPE, INVITATION_TYPE];
/** Statuses of both kinds, as EcosyncStatus carries them. */
export const COSELL_LIST_STATUSES: readonly string[] = [...COSELL_STATUSES, ...INBOUND_COSELL_STATUSES.filter((s) => !(COSELL_STATUSES as readonly string[]).includes(s))];

/** Why a co-sell call was refused: the API answers 400, 404 or 409, the CLI exits 1. */
export class CoSellRefusal extends Error {
  constructor(readonly reason: 'invalid' | 'not-found' | 'conflict', message: string) {
    super(message);
    this.name = 'CoSellRefusal';
  }
}

/** A canonical opportunity id, or a CRM record whose link leads to one. */
export type OpportunityRef = string | { system: string; externalId: string; object?: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `<uuid>` (canonical) or `<system>:<id>` (salesforce:006…, hubspot:1234), as a user types it. */
export function parseOpportunityRef(text: string): OpportunityRef {
  const trimmed = text.trim();
  if (UUID.test(trimmed)) return trimmed.toLowerCase();
  const colon = trimmed.indexOf(':');
  if (colon > 0 && colon < trimmed.length - 1) return { system: trimmed.slice(0, colon), externalId: trimmed.slice(colon + 1) };
  throw new CoSellRefusal('invalid', `"${text}" is neither an ecosync opportunity id (a UUID) nor <system>:<id> (e.g. salesforce:006…)`);
}

export type CoSellKind = 'outbound' | 'inbound';

/**
 * The workflow ids a user's co-sell id may mean, most likely first: a full workflow id, or
 * `<cloud>:<id>` (an opportunity we submit, else an invitation a cloud shared with us).
 */
export function candidateWorkflowIds(id: string): string[] {
  const trimmed = id.trim();
  if (trimmed.startsWith(OUTBOUND_PREFIX) || trimmed.startsWith(INBOUND_PREFIX)) return [trimmed];
  const colon = trimmed.indexOf(':');
  const cloud = trimmed.slice(0, colon);
  if (colon > 0 && (CLOUDS as readonly string[]).includes(cloud) && colon < trimmed.length - 1) {
    const rest = trimmed.slice(colon + 1);
    return [coSellWorkflowId(cloud as CoSellCloud, UUID.test(rest) ? rest.toLowerCase() : rest), `${INBOUND_PREFIX}${cloud}:${rest}`];
  }
  throw new CoSellRefusal('invalid', `"${id}" is not a co-sell id: give <cloud>:<opportunity or invitation id> (cloud: ${CLOUDS.join(', ')}) or the full workflow id (cosell:… or cosell-inbound:…)`);
}

export function kindOf(workflowId: string): CoSellKind {
  return workflowId.startsWith(INBOUND_PREFIX) ? 'inbound' : 'outbound';
}

// --- snapshots -------------------------------------------------------------------------------

/** The canonical opportunity id a reference means in a connection; a clear refusal when ecosync does not know it. */
export async function resolveOpportunity(store: Store, connection: Connection, ref: OpportunityRef): Promise<string> {
  if (typeof ref === 'string') {
    if (!UUID.test(ref)) return resolveOpportunity(store, connection, parseOpportunityRef(ref));
    return ref.toLowerCase();
  }
  // A system by its name in the connection, or by its kind when the connection has one of that kind.
  const named = connection.systems.find((s) => s.name === ref.system);
  const ofKind = connection.systems.filter((s) => s.system === ref.system);
  const system = named ?? (ofKind.length === 1 ? ofKind[0] : undefined);
  const object = ref.object ?? (system ? CRM_COSELL_FIELDS[system.system]?.object : undefined);
  if (!system || !object) {
    const known = connection.systems.filter((s) => CRM_COSELL_FIELDS[s.system]).map((s) => s.name);
    throw new CoSellRefusal('invalid', `connection ${connection.name} has no CRM system "${ref.system}" (known: ${known.join(', ')})`);
  }
  const [link] = await store.links.findByExternalIds(connection.id, instanceOf(system), object, [ref.externalId]);
  if (!link || link.entity !== 'Opportunity') {
    throw new CoSellRefusal('not-found', `${ref.system} ${object} ${ref.externalId} is unknown to ecosync: connection ${connection.name} has not synced it yet (sync it first)`);
  }
  return link.canonicalId;
}

/**
 * The opportunity, its account and the account's contacts as the store has them now; `current`
 * replaces the stored opportunity when the caller holds a newer one (the sync, before it saves).
 */
export async function loadSnapshot(store: Store, connectionId: string, opportunityId: string, current?: Record<string, unknown>): Promise<CoSellSnapshot> {
  let opportunity: Opportunity;
  if (current) {
    opportunity = { ...current, id: opportunityId } as Opportunity;
  } else {
    const [record] = await store.records.getMany(connectionId, 'Opportunity', [opportunityId]);
    if (!record || record.deleted) {
      throw new CoSellRefusal('not-found', `opportunity ${opportunityId} is unknown to ecosync${record?.deleted ? ' (it was deleted)' : ''}: sync the CRM connection that holds it first`);
    }
    opportunity = { ...record.data, id: record.canonicalId } as Opportunity;
  }
  const accountId = opportunity.accountId;
  if (!accountId) return { opportunity };
  const [[account], contacts] = await Promise.all([
    store.records.getMany(connectionId, 'Account', [accountId]),
    store.records.findByField(connectionId, 'Contact', 'accountId', [accountId]),
  ]);
  return {
    opportunity,
    account: account && !account.deleted ? ({ ...account.data, id: account.canonicalId } as Account) : undefined,
    contacts: contacts.map((c) => ({ ...c.data, id: c.canonicalId }) as Contact),
  };
}

/** The CRM record the status is written back to: the first CRM of the connection (in its order) that holds the opportunity. */
export async function crmRefOf(store: Store, connection: Connection, opportunityId: string): Promise<CrmRecordRef | undefined> {
  const links = await store.links.findByCanonicalIds(connection.id, 'Opportunity', [opportunityId]);
  for (const system of connection.systems) {
    const fields = CRM_COSELL_FIELDS[system.system];
    const link = fields && links.find((l) => l.instance === instanceOf(system) && l.object === fields.object);
    if (link) return { system: system.name, object: link.object, id: link.externalId };
  }
  return undefined;
}

// --- submit ----------------------------------------------------------------------------------

export interface SubmitRequest {
  /** The connection's name; the configured co-sell connection when absent. */
  connection?: string;
  opportunity: OpportunityRef;
  cloud: CoSellCloud;
  /** The alliance manager (email). */
  requestedBy: string;
  options?: Partial<CoSellOptions>;
}

export interface SubmitResult {
  workflowId: string;
  /** false: a co-sell of this opportunity with this cloud was already running; it is returned as is. */
  started: boolean;
  state?: CoSellView;
}

export async function submitCoSell(control: CoSellControl, request: SubmitRequest): Promise<SubmitResult> {
  const name = request.connection ?? control.settings.connection;
  const connection = await control.store.connections.getByName(name);
  if (!connection) throw new CoSellRefusal('not-found', `no connection named "${name}" (the co-sell connection holds the CRM's and the clouds' credentials)`);
  const opportunityId = await resolveOpportunity(control.store, connection, request.opportunity);
  const result = await startCoSell(control, connection, opportunityId, request.cloud, request.requestedBy, request.options);
  if (!result.started) return result;
  // Whoever asked wants the first answer (waiting for the deal desk, or what the cloud would
  // refuse), not "draft": the check takes well under a second; after the bound, draft it is.
  const handle = control.client.workflow.getHandle(result.workflowId);
  const deadline = Date.now() + SUBMIT_ANSWER_MS;
  let state = await stateOf(handle);
  while (state?.status === 'draft' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    state = (await stateOf(handle, 0)) ?? state;
  }
  return { ...result, state };
}

/** How long a submit waits for the co-sell's first answer before returning it as a draft. */
const SUBMIT_ANSWER_MS = 5_000;

async function startCoSell(
  control: CoSellControl, connection: Connection, opportunityId: string, cloud: CoSellCloud, requestedBy: string,
  options: Partial<CoSellOptions> = {}, current?: Record<string, unknown>,
): Promise<SubmitResult> {
  // The status is written back by canonical id, so an opportunity announced before its link is
  // saved (created in the CRM with its cloud picked) needs no CRM reference.
  const [snapshot, crm] = await Promise.all([loadSnapshot(control.store, connection.id, opportunityId, current), crmRefOf(control.store, connection, opportunityId)]);
  const defaults = control.settings[cloud];
  const input: CoSellInput = {
    cloud,
    connectionId: connection.id,
    requestedBy,
    snapshot,
    options: { involvementType: defaults.involvementType, visibility: defaults.visibility, solutionIds: defaults.solutionIds, ...definedOnly(options) },
    ...(crm ? { crm } : {}),
    policy: control.settings.policy,
    pollIntervalMs: control.settings.pollSeconds * 1000,
  };
  const workflowId = coSellWorkflowId(cloud, opportunityId);
  const ended = (status: unknown) => new CoSellRefusal('conflict', `the ${cloud} co-sell of opportunity ${opportunityId} already ended${status ? ` (${String(status)})` : ''}: see ecosync cosell status ${cloud}:${opportunityId}`);
  const before = await describe(control.client, workflowId);
  // A co-sell whose decision is final may still be running its last write-back: it has ended.
  if (before?.status.name === 'RUNNING' && isFinal(before.typedSearchAttributes.get(SA.status))) throw ended(before.typedSearchAttributes.get(SA.status));
  let handle: WorkflowHandle;
  try {
    handle = await control.client.workflow.start(WORKFLOW_TYPE, {
      workflowId,
      taskQueue: control.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      typedSearchAttributes: [
        { key: SA.connection, value: connection.name },
        { key: SA.cloud, value: cloud },
        { key: SA.status, value: 'draft' },
        { key: SA.approvers, value: [] },
      ],
      memo: { opportunity: snapshot.opportunity.name, amount: snapshot.opportunity.amount ?? null, requestedBy },
      ...coSellText(cloud, snapshot, { connection: connection.name, requestedBy, crm }),
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      const closed = await describe(control.client, workflowId);
      throw ended(closed?.typedSearchAttributes.get(SA.status));
    }
    throw error;
  }
  const started = before?.status.name !== 'RUNNING';
  // Found running: its decision may have become final since it was described. A co-sell just
  // started has nothing to check, and the sync's CRM hook must not wait on its first answer.
  const state = started ? undefined : await stateOf(handle);
  if (state && isFinal(state.status)) throw ended(state.status);
  control.log?.info({ workflowId, cloud, opportunityId, requestedBy, started }, started ? 'co-sell submitted' : 'co-sell already running');
  return { workflowId, started, state };
}

const isFinal = (status: unknown): boolean => (FINAL_COSELL_STATUSES as readonly unknown[]).includes(status);

// --- read ------------------------------------------------------------------------------------

export interface CoSellStatusAnswer {
  id: string;
  kind: CoSellKind;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, TERMINATED… */
  execution: string;
  /** The workflow's `state` query (CoSellView for ours; the inbound workflow's own view). */
  state?: Record<string, unknown>;
}

/** The co-sell a user's id means, with its state; a refusal when there is none. */
export async function coSellStatus(control: Pick<CoSellControl, 'client'>, id: string): Promise<CoSellStatusAnswer> {
  const { workflowId, description } = await findCoSell(control.client, id);
  const state = await stateOf(control.client.workflow.getHandle(workflowId));
  return { id: workflowId, kind: kindOf(workflowId), execution: description.status.name, state: state as Record<string, unknown> | undefined };
}

async function findCoSell(client: Client, id: string): Promise<{ workflowId: string; description: WorkflowExecutionDescription }> {
  const candidates = candidateWorkflowIds(id);
  for (const workflowId of candidates) {
    const description = await describe(client, workflowId);
    if (description) return { workflowId, description };
  }
  throw new CoSellRefusal('not-found', `no co-sell ${id} (looked for ${candidates.join(' and ')})`);
}

async function describe(client: Client, workflowId: string): Promise<WorkflowExecutionDescription | undefined> {
  try {
    return await client.workflow.getHandle(workflowId).describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

/**
 * The `state` query. Right after a start the first workflow task may not have run yet, and a
 * query then fails: ask again for a few seconds rather than answer without a state.
 */
async function stateOf(handle: WorkflowHandle, waitMs = 10_000): Promise<CoSellView | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return await handle.query<CoSellView>('state');
    } catch (error) {
      if (error instanceof WorkflowNotFoundError || Date.now() > deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

// --- decide ----------------------------------------------------------------------------------

export type DecisionKind = 'approve' | 'reject' | 'requestChanges' | 'resubmit';
/** What an inbound co-sell (an invitation a cloud shared with us) can be told. */
const INBOUND_DECISIONS: readonly DecisionKind[] = ['approve', 'reject'];

export interface Decision {
  /** The person deciding (email): the workflow checks their role against the policy. */
  by: string;
  comment?: string;
  /** The approval stage the decider means (refused when it is not the current one). */
  stage?: string;
}

export interface DecisionResult {
  id: string;
  kind: CoSellKind;
  state: Record<string, unknown>;
}

/**
 * Runs a decision update on the co-sell. The workflow's validator decides whether this person may
 * make it now; its refusal comes back as a CoSellRefusal('conflict') with its reason. A
 * resubmission carries the opportunity as the store has it now (the alliance manager's fix).
 */
export async function decideCoSell(control: CoSellControl, id: string, kind: DecisionKind, decision: Decision): Promise<DecisionResult> {
  const { workflowId, description } = await findCoSell(control.client, id);
  const coSellKind = kindOf(workflowId);
  if (coSellKind === 'inbound' && !INBOUND_DECISIONS.includes(kind)) {
    throw new CoSellRefusal('conflict', `${workflowId} is an invitation a cloud shared with us: it can only be approved or rejected`);
  }
  if (description.status.name !== 'RUNNING') throw new CoSellRefusal('conflict', `co-sell ${workflowId} has ended (${description.status.name.toLowerCase()}): nothing to decide`);
  let arg: Record<string, unknown> = { by: decision.by, ...(decision.comment ? { comment: decision.comment } : {}), ...(decision.stage ? { stage: decision.stage } : {}) };
  if (kind === 'resubmit' && coSellKind === 'outbound') {
    const opportunityId = workflowId.slice(workflowId.lastIndexOf(':') + 1);
    const connectionName = description.typedSearchAttributes.get(SA.connection);
    const connection = typeof connectionName === 'string' ? await control.store.connections.getByName(connectionName) : null;
    const snapshot = connection ? await loadSnapshot(control.store, connection.id, opportunityId).catch(() => undefined) : undefined;
    if (snapshot) arg = { ...arg, snapshot };
  }
  try {
    const state = await control.client.workflow.getHandle(workflowId).executeUpdate<Record<string, unknown>, [Record<string, unknown>]>(kind, { args: [arg] });
    control.log?.info({ workflowId, decision: kind, by: decision.by }, 'co-sell decision');
    return { id: workflowId, kind: coSellKind, state };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) throw new CoSellRefusal('conflict', updateFailure(error));
    if (error instanceof WorkflowNotFoundError) throw new CoSellRefusal('conflict', `co-sell ${workflowId} has ended: nothing to decide`);
    throw error;
  }
}

// --- list ------------------------------------------------------------------------------------

export interface ListFilter {
  cloud?: CoSellCloud;
  status?: string;
  /** Co-sells waiting for this person's decision. */
  approver?: string;
  limit?: number;
}

export interface CoSellListItem {
  id: string;
  kind: CoSellKind;
  cloud?: string;
  status?: string;
  approvers: string[];
  execution: string;
  startedAt: string;
  closedAt?: string;
  /** What the submit recorded: the opportunity's name, amount and requester (outbound only). */
  opportunity?: string;
  amount?: { amount: string; currency: string } | null;
  requestedBy?: string;
}

/** The visibility query for a filter. */
export function listQuery(filter: ListFilter): string {
  const quote = (value: string, what: string) => {
    if (/["\\\n]/.test(value)) throw new CoSellRefusal('invalid', `${what} may not contain quotes, backslashes or line breaks`);
    return `"${value}"`;
  };
  if (filter.status !== undefined && !COSELL_LIST_STATUSES.includes(filter.status)) {
    throw new CoSellRefusal('invalid', `unknown co-sell status "${filter.status}" (statuses: ${COSELL_LIST_STATUSES.join(', ')})`);
  }
  const parts = [`WorkflowType IN (${LISTED_TYPES.map((t) => `"${t}"`).join(', ')})`];
  if (filter.cloud) parts.push(`${SA.cloud.name} = ${quote(filter.cloud, 'cloud')}`);
  if (filter.status) parts.push(`${SA.status.name} = ${quote(filter.status, 'status')}`);
  if (filter.approver) parts.push(`${SA.approvers.name} = ${quote(filter.approver, 'approver')}`);
  return parts.join(' AND ');
}

/** Co-sells, newest first, through Temporal visibility: an approver's queue is one query. */
export async function listCoSells(control: Pick<CoSellControl, 'client'>, filter: ListFilter = {}): Promise<CoSellListItem[]> {
  const limit = filter.limit ?? 100;
  const items: CoSellListItem[] = [];
  for await (const info of control.client.workflow.list({ query: listQuery(filter), pageSize: Math.min(limit, 100) })) {
    items.push(itemOf(info));
    if (items.length >= limit) break;
  }
  return items;
}

export interface CoSellCount {
  kind: CoSellKind;
  cloud: CoSellCloud;
  status: string;
  count: number;
}

/**
 * How many co-sells of each kind each cloud has in each status (running or ended), through
 * Temporal visibility: one count query per kind, cloud and status, since visibility groups counts
 * by execution status only.
 */
export async function countCoSells(control: Pick<CoSellControl, 'client'>): Promise<CoSellCount[]> {
  const kinds = [
    { kind: 'outbound' as const, type: WORKFLOW_TYPE, statuses: COSELL_STATUSES },
    { kind: 'inbound' as const, type: INVITATION_TYPE, statuses: INBOUND_COSELL_STATUSES },
  ];
  const wanted = kinds.flatMap(({ kind, type, statuses }) => CLOUDS.flatMap((cloud) => statuses.map((status) => ({ kind, type, cloud, status }))));
  return Promise.all(wanted.map(async ({ kind, type, cloud, status }) => {
    const { count } = await control.client.workflow.count(`WorkflowType = "${type}" AND ${SA.cloud.name} = "${cloud}" AND ${SA.status.name} = "${status}"`);
    return { kind, cloud, status, count };
  }));
}

function itemOf(info: WorkflowExecutionInfo): CoSellListItem {
  const attributes = info.typedSearchAttributes;
  const memo = (info.memo ?? {}) as { opportunity?: string; amount?: { amount: string; currency: string } | null; requestedBy?: string };
  return {
    id: info.workflowId,
    kind: kindOf(info.workflowId),
    cloud: attributes.get(SA.cloud),
    status: attributes.get(SA.status),
    approvers: attributes.get(SA.approvers) ?? [],
    execution: info.status.name,
    startedAt: info.startTime.toISOString(),
    ...(info.closeTime ? { closedAt: info.closeTime.toISOString() } : {}),
    ...(memo.opportunity !== undefined ? { opportunity: memo.opportunity } : {}),
    ...(memo.amount !== undefined ? { amount: memo.amount } : {}),
    ...(memo.requestedBy !== undefined ? { requestedBy: memo.requestedBy } : {}),
  };
}

// --- CRM events ------------------------------------------------------------------------------

/**
 * The sync layer's hook (SyncDeps.coSellEvents): a co-sell marked in the CRM is submitted
 * (requester and defaults from the configuration) in the connection that holds the opportunity,
 * whose systems include the clouds; an edit reaches a running co-sell as a fresh snapshot. Both are
 * built from `event.opportunity`, the values after the change: the store is saved after the hook.
 * Each event is handled on its own. What retrying cannot change (a co-sell that already ended, an
 * unknown connection) is logged and skipped; a transient failure (Temporal or the store
 * unreachable) fails the call with `retryable: true`, after the other events, so the sync
 * announces the page again (starting by workflow id is idempotent). Anything else fails the call
 * without `retryable`: the sync logs it and goes on.
 */
export async function handleCoSellEvents(control: CoSellControl, events: readonly CoSellEvent[]): Promise<void> {
  const failures: Error[] = [];
  // The events' connections, each read once per call.
  const connections = new Map<string, Promise<Connection | null>>();
  for (const event of dedupe(events)) {
    try {
      if (event.kind === 'requested') {
        if (!connections.has(event.connectionId)) connections.set(event.connectionId, control.store.connections.get(event.connectionId));
        const connection = await connections.get(event.connectionId)!;
        if (!connection) throw new CoSellRefusal('not-found', `no connection ${event.connectionId}`);
        await startCoSell(control, connection, event.opportunityId, event.cloud, control.settings.requester, {}, event.opportunity);
      } else {
        await sendCrmEdit(control, event);
      }
    } catch (error) {
      if (error instanceof CoSellRefusal) {
        control.log?.warn({ event: { opportunityId: event.opportunityId, cloud: event.cloud, kind: event.kind }, reason: error.message }, 'co-sell event skipped');
        continue;
      }
      failures.push(error as Error);
    }
  }
  if (failures.length === 0) return;
  const message = `${failures.length} co-sell event(s) failed: ${failures.map((e) => e.message).join('; ')}`;
  throw Object.assign(new Error(message, { cause: failures[0] }), { retryable: failures.some(isTransient) });
}

/**
 * A failure that goes away by itself: Temporal unreachable or overloaded (gRPC UNAVAILABLE,
 * DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED), or a network error reaching it or the store.
 */
export function isTransient(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number' && TRANSIENT_GRPC.has(code)) return true;
    if (typeof code === 'string' && (TRANSIENT_NET.has(code) || /^(08|53|57P)/.test(code))) return true;
  }
  return false;
}

/** gRPC codes: 4 DEADLINE_EXCEEDED, 8 RESOURCE_EXHAUSTED, 10 ABORTED, 14 UNAVAILABLE. */
const TRANSIENT_GRPC = new Set([4, 8, 10, 14]);
/** Node's network error codes. PostgreSQL's SQLSTATE classes 08 (connection), 53 (resources) and 57P (shutdown) are matched above. */
const TRANSIENT_NET = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

async function sendCrmEdit(control: CoSellControl, event: CoSellEvent): Promise<void> {
  const handle = control.client.workflow.getHandle(coSellWorkflowId(event.cloud, event.opportunityId));
  try {
    const snapshot = await loadSnapshot(control.store, event.connectionId, event.opportunityId, event.opportunity);
    await handle.signal('crmEdit', { snapshot });
  } catch (error) {
    // No co-sell running for this opportunity and cloud (never submitted, or ended): nothing to tell.
    if (error instanceof WorkflowNotFoundError) return;
    throw error;
  }
}

/** One event per opportunity, cloud and kind: a page may report the same record twice. */
function dedupe(events: readonly CoSellEvent[]): CoSellEvent[] {
  const seen = new Map<string, CoSellEvent>();
  for (const e of events) seen.set(`${e.kind}|${e.cloud}|${e.opportunityId.toLowerCase()}`, { ...e, opportunityId: e.opportunityId.toLowerCase() });
  return [...seen.values()];
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
