import {
  Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle,
} from '@temporalio/client';
import type { Logger } from 'pino';
import { SA } from '../../workflows/search-attributes.js';
import type { MarketplaceNotice, OfferInput, OfferResubmit, OfferView } from '../../workflows/offer-types.js';
import type { ApprovalPolicy } from '../cosell/approval.js';
import { OfferStatus, type Installment, type OfferChannel, type OfferCloud, type OfferDimension, type OfferTerms, type PricingModel } from '../model/index.js';
import { canonicalIdFor } from '../sync/index.js';
import type { Store } from '../store/index.js';
import { crmRefOf, resolveOpportunity, type OpportunityRef } from './cosell-control.js';
import { updateFailure } from './failures.js';
import { offerText } from './summaries.js';

/**
 * How the API and the CLI drive private offers: ask for one on an opportunity (a workflow per
 * opportunity and marketplace), read it, decide it, resubmit or withdraw it, find offers through
 * Temporal visibility, and pass the marketplace's notices (EventBridge events) to the offer they
 * are about.
 */
export interface OfferControl {
  client: Client;
  taskQueue: string;
  store: Store;
  policy: ApprovalPolicy;
  /** Offer workflow timings; the workflow's defaults when absent. */
  timings?: Pick<OfferInput, 'pollIntervalMs' | 'maxPollIntervalMs' | 'acceptancePollMs' | 'reminderDays'>;
  log?: Logger;
}

/** Why an offer call was refused: the API answers 400, 404 or 409, the CLI exits 1. */
export class OfferRefusal extends Error {
  constructor(readonly reason: 'invalid' | 'not-found' | 'conflict', message: string) {
    super(message);
    this.name = 'OfferRefusal';
  }
}

const WORKFLOW_TYPE = 'privateOfferWorkflow';
export const offerWorkflowId = (cloud: OfferCloud, opportunityId: string) => `offer:${cloud}:${opportunityId}`;

export interface CreateOfferRequest {
  connection: string;
  opportunity: OpportunityRef;
  cloud: OfferCloud;
  channel?: OfferChannel;
  requestedBy: string;
  pricingModel: PricingModel;
  dimensions: OfferDimension[];
  paymentSchedule?: Installment[];
  resale?: { resellerAccountId: string; markupPercent: string };
  /** Terms that win over the opportunity's. */
  terms?: OfferTerms;
}

export interface OfferAnswer {
  id: string;
  started: boolean;
  execution: string;
  state?: OfferView;
}

/** Starts the offer's workflow (or finds the one running) and waits briefly for its first answer. */
export async function createOffer(control: OfferControl, request: CreateOfferRequest): Promise<OfferAnswer> {
  const connection = await control.store.connections.getByName(request.connection);
  if (!connection) throw new OfferRefusal('not-found', `no connection named "${request.connection}"`);
  const channel = request.channel ?? (request.resale ? 'cppo' : 'direct');
  if (channel === 'cppo' && !request.resale) throw new OfferRefusal('invalid', 'a channel partner offer (cppo) needs resale: { resellerAccountId, markupPercent }');
  if (channel === 'cppo' && request.cloud !== 'aws') throw new OfferRefusal('invalid', 'channel partner offers are made on AWS Marketplace');
  const opportunityId = await resolveOpportunity(control.store, connection, request.opportunity).catch((e: Error & { reason?: 'invalid' | 'not-found' }) => {
    throw new OfferRefusal(e.reason === 'invalid' ? 'invalid' : 'not-found', e.message);
  });
  const crm = await crmRefOf(control.store, connection, opportunityId);
  if (!crm) throw new OfferRefusal('not-found', `opportunity ${opportunityId} is in no CRM of connection ${connection.name}`);
  const [opportunity] = await control.store.records.getMany(connection.id, 'Opportunity', [opportunityId]);
  const input: OfferInput = {
    cloud: request.cloud,
    connectionId: connection.id,
    offerId: canonicalIdFor(`offer:${request.cloud}`, 'Opportunity', opportunityId),
    crm,
    request: {
      cloud: request.cloud, channel, opportunityId, requestedBy: request.requestedBy, pricingModel: request.pricingModel, dimensions: request.dimensions,
      ...(typeof opportunity?.data.accountId === 'string' ? { accountId: opportunity.data.accountId } : {}),
      ...(request.paymentSchedule ? { paymentSchedule: request.paymentSchedule } : {}),
      ...(request.resale ? { resale: request.resale } : {}),
      ...(request.terms ? { terms: request.terms } : {}),
    },
    policy: control.policy,
    ...control.timings,
  };
  const workflowId = offerWorkflowId(request.cloud, opportunityId);
  let handle: WorkflowHandle;
  let started = true;
  try {
    handle = await control.client.workflow.start(WORKFLOW_TYPE, {
      workflowId,
      taskQueue: control.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      typedSearchAttributes: [
        { key: SA.connection, value: connection.name },
        { key: SA.cloud, value: request.cloud },
        { key: SA.status, value: 'draft' },
      ],
      memo: { opportunity: typeof opportunity?.data.name === 'string' ? opportunity.data.name : opportunityId, requestedBy: request.requestedBy },
      ...offerText(input.request, opportunity?.data ?? {}, { connection: connection.name, crm }),
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    handle = control.client.workflow.getHandle(workflowId);
    started = false;
  }
  control.log?.info({ workflowId, cloud: request.cloud, opportunityId, requestedBy: request.requestedBy, started }, started ? 'private offer asked for' : 'private offer already exists');
  // Whoever asked wants the first answer (waiting for approval, or what to fix), not "draft".
  const deadline = Date.now() + 5_000;
  let state = await stateOf(handle);
  while (state?.status === 'draft' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    state = (await stateOf(handle, 0)) ?? state;
  }
  const description = await handle.describe();
  return { id: workflowId, started, execution: description.status.name, state };
}

/** The offer a user's id means: `offer:<cloud>:<opportunity>`, or `<cloud>:<opportunity>`. */
export async function offerStatus(control: Pick<OfferControl, 'client'>, id: string): Promise<OfferAnswer> {
  const workflowId = workflowIdOf(id);
  const handle = control.client.workflow.getHandle(workflowId);
  try {
    const description = await handle.describe();
    return { id: workflowId, started: false, execution: description.status.name, state: await stateOf(handle) };
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new OfferRefusal('not-found', `no private offer ${id}`);
    throw error;
  }
}

export type OfferDecisionKind = 'approve' | 'reject' | 'requestChanges' | 'resubmit' | 'withdraw';

/** Runs a decision on the offer; the workflow's validator says whether this person may make it now. */
export async function decideOffer(control: OfferControl, id: string, kind: OfferDecisionKind, arg: { by: string; comment?: string; stage?: string; reason?: string; request?: OfferResubmit['request'] }): Promise<OfferAnswer> {
  const workflowId = workflowIdOf(id);
  const handle = control.client.workflow.getHandle(workflowId);
  try {
    const state = await handle.executeUpdate<OfferView, [Record<string, unknown>]>(kind, { args: [definedOnly(arg)] });
    control.log?.info({ workflowId, decision: kind, by: arg.by }, 'private offer decision');
    return { id: workflowId, started: false, execution: 'RUNNING', state };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) throw new OfferRefusal('conflict', updateFailure(error));
    if (error instanceof WorkflowNotFoundError) throw new OfferRefusal('not-found', `no running private offer ${id}`);
    throw error;
  }
}

export interface OfferListItem {
  id: string;
  cloud?: string;
  status?: string;
  approvers: string[];
  buyers: string[];
  execution: string;
  startedAt: string;
  opportunity?: string;
  requestedBy?: string;
}

/** Offers, newest first, through Temporal visibility. */
export async function listOffers(control: Pick<OfferControl, 'client'>, filter: { cloud?: OfferCloud; status?: string; buyer?: string; approver?: string; limit?: number } = {}): Promise<OfferListItem[]> {
  const quote = (value: string, what: string) => {
    if (/["\\\n]/.test(value)) throw new OfferRefusal('invalid', `${what} may not contain quotes, backslashes or line breaks`);
    return `"${value}"`;
  };
  if (filter.status !== undefined && !OfferStatus.options.includes(filter.status as OfferStatus)) {
    throw new OfferRefusal('invalid', `unknown offer status "${filter.status}" (statuses: ${OfferStatus.options.join(', ')})`);
  }
  const parts = [`WorkflowType = "${WORKFLOW_TYPE}"`];
  if (filter.cloud) parts.push(`${SA.cloud.name} = ${quote(filter.cloud, 'cloud')}`);
  if (filter.status) parts.push(`${SA.status.name} = ${quote(filter.status, 'status')}`);
  if (filter.buyer) parts.push(`${SA.buyer.name} = ${quote(filter.buyer, 'buyer')}`);
  if (filter.approver) parts.push(`${SA.approvers.name} = ${quote(filter.approver, 'approver')}`);
  const items: OfferListItem[] = [];
  const limit = filter.limit ?? 100;
  for await (const info of control.client.workflow.list({ query: parts.join(' AND '), pageSize: Math.min(limit, 100) })) {
    const attr = (key: { name: string }) => info.typedSearchAttributes.get(key as never) as unknown;
    items.push({
      id: info.workflowId,
      cloud: attr(SA.cloud) as string | undefined,
      status: attr(SA.status) as string | undefined,
      approvers: (attr(SA.approvers) as string[] | undefined) ?? [],
      buyers: (attr(SA.buyer) as string[] | undefined) ?? [],
      execution: info.status.name,
      startedAt: info.startTime.toISOString(),
      ...(typeof info.memo?.opportunity === 'string' ? { opportunity: info.memo.opportunity } : {}),
      ...(typeof info.memo?.requestedBy === 'string' ? { requestedBy: info.memo.requestedBy } : {}),
    });
    if (items.length >= limit) break;
  }
  return items;
}

/**
 * A marketplace notice (an EventBridge event a connection received) to the running offer it is
 * about, found by the cloud's offer id; false when no offer of the connection has that id.
 */
export async function noticeOffer(control: Pick<OfferControl, 'client'>, connectionName: string, cloudOfferId: string, notice: MarketplaceNotice): Promise<boolean> {
  if (/["\\\n]/.test(cloudOfferId) || /["\\\n]/.test(connectionName)) return false;
  const query = `WorkflowType = "${WORKFLOW_TYPE}" AND ${SA.connection.name} = "${connectionName}" AND ${SA.cloudId.name} = "${cloudOfferId}" AND ExecutionStatus = "Running"`;
  let found = false;
  for await (const info of control.client.workflow.list({ query })) {
    await control.client.workflow.getHandle(info.workflowId).signal('marketplaceNotice', notice);
    found = true;
  }
  return found;
}

/**
 * A change set's outcome (an EventBridge "Change Set Succeeded|Failed|Cancelled") to the offer
 * following it. The event names the set, not the offer: the running offers of the connection
 * that wait on a change set are asked which one they follow. False when none does.
 */
export async function noticeChangeSet(control: Pick<OfferControl, 'client'>, connectionName: string, changeSetId: string, status: string): Promise<boolean> {
  if (/["\\\n]/.test(connectionName)) return false;
  const query = `WorkflowType = "${WORKFLOW_TYPE}" AND ${SA.connection.name} = "${connectionName}" AND ${SA.cloud.name} = "aws" AND ${SA.status.name} = "submitted" AND ExecutionStatus = "Running"`;
  let found = false;
  for await (const info of control.client.workflow.list({ query })) {
    const handle = control.client.workflow.getHandle(info.workflowId);
    const state = await stateOf(handle, 0);
    if (state?.cloudIds.changeSetId !== changeSetId) continue;
    const notice: MarketplaceNotice = { kind: 'changeSet', changeSetId, status };
    await handle.signal('marketplaceNotice', notice);
    found = true;
  }
  return found;
}

export interface OfferCount {
  cloud: OfferCloud;
  status: OfferStatus;
  count: number;
}

/**
 * How many private offers each marketplace has in each status (running or ended), through
 * Temporal visibility: one count query per cloud and status, as for co-sells.
 */
export async function countOffers(control: Pick<OfferControl, 'client'>): Promise<OfferCount[]> {
  const wanted = (['aws', 'azure'] as const).flatMap((cloud) => OfferStatus.options.map((status) => ({ cloud, status })));
  return Promise.all(wanted.map(async ({ cloud, status }) => {
    const { count } = await control.client.workflow.count(`WorkflowType = "${WORKFLOW_TYPE}" AND ${SA.cloud.name} = "${cloud}" AND ${SA.status.name} = "${status}"`);
    return { cloud, status, count };
  }));
}

function workflowIdOf(id: string): string {
  const trimmed = id.trim();
  if (trimmed.startsWith('offer:')) return trimmed;
  if (/^(aws|azure):[0-9a-f-]{36}$/i.test(trimmed)) return `offer:${trimmed.toLowerCase()}`;
  throw new OfferRefusal('invalid', `"${id}" is not a private offer id: give <cloud>:<opportunity id> (cloud aws or azure) or offer:<cloud>:<opportunity id>`);
}

async function stateOf(handle: WorkflowHandle, waitMs = 10_000): Promise<OfferView | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return await handle.query<OfferView>('state');
    } catch (error) {
      if (error instanceof WorkflowNotFoundError || Date.now() > deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** What the landing page learns from Microsoft's token: the purchase's subscription, its tenant and plan. */
export interface LandedPurchase {
  id: string;
  planId: string;
  beneficiaryTenantId?: string;
}

/**
 * A Microsoft purchase, as the buyer's landing page announces it (Microsoft sends no webhook for
 * a purchase: the buyer's browser brings a token the publisher resolves): the live Microsoft offer
 * of the connection whose beneficiaries are of the purchase's tenant is told, and its workflow
 * activates the subscription and books it. The offer's workflow id, or undefined when no live
 * offer of that tenant is waiting.
 */
export async function landMicrosoftPurchase(control: Pick<OfferControl, 'client'>, connectionName: string, purchase: LandedPurchase): Promise<string | undefined> {
  if (/["\\\n]/.test(connectionName) || !purchase.beneficiaryTenantId) return undefined;
  const tenant = purchase.beneficiaryTenantId.toLowerCase();
  // Visibility lags behind a status just reached, so the offer's own state (a query) says whether it is live.
  const query = `WorkflowType = "${WORKFLOW_TYPE}" AND ${SA.connection.name} = "${connectionName}" AND ${SA.cloud.name} = "azure" AND ExecutionStatus = "Running"`;
  for await (const info of control.client.workflow.list({ query })) {
    const handle = control.client.workflow.getHandle(info.workflowId);
    const state = await stateOf(handle, 0);
    if (state?.status !== 'live' || !state.cloudIds.offerId || !state.buyerAccounts.some((b) => b.toLowerCase().startsWith(`${tenant}:`))) continue;
    await handle.signal('marketplaceNotice', { kind: 'subscription', subscriptionId: purchase.id, offerId: state.cloudIds.offerId } satisfies MarketplaceNotice);
    return info.workflowId;
  }
  return undefined;
}
