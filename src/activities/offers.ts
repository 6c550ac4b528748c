/**
 * The private offer activities: glue from the offer workflow to the CRM (its terms, read through
 * the connection's connector and the terms mapping), the marketplace's client and the hub's
 * canonical writer (the opportunity's status, the ERP's customer and sales order). What an offer
 * is and how it becomes a change set is decided in src/offers (pure).
 *
 * Idempotent by construction: change sets carry the workflow's token, agreements are recorded
 * once per agreement id, and the ERP's sales order has a canonical id derived from the agreement,
 * so a retry or a second acceptance notice finds what the first made.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import { AwsMarketplaceClient, MarketplaceBusy, MarketplaceRefused, type AwsMarketplaceConfig } from '../../connectors/aws-marketplace/client.js';
import type { Reminder } from '../cosell/notify.js';
import type { CompiledMapping } from '../mapping/index.js';
import type { OfferProblem, OfferTerms, PrivateOffer, TransactionLine } from '../model/index.js';
import {
  awsBuyerUrl, awsOfferDocument, directOfferChanges, offerProblems, resaleAuthorizationChanges, resellerOfferChanges,
} from '../offers/aws.js';
import { buildOffer, crmFieldOf, type CrmFields } from '../offers/build.js';
import { microsoftOfferResource, microsoftProblems } from '../offers/microsoft.js';
import { MicrosoftMarketplaceClient, MicrosoftRefused, type MicrosoftMarketplaceConfig } from '../../connectors/microsoft-marketplace/client.js';
import { canonicalIdFor } from '../sync/index.js';
import type { Store } from '../store/index.js';
import type { AgreementSeen, OfferActivities, PublishProgress } from '../../workflows/offer-types.js';
import { CanonicalRecordNotFound, type CanonicalWriter } from './canonical-write.js';
import { asActivityFailure, credentialsOf, perConnection, type Hubs } from './hubs.js';

/** The mapping files of private offers, relative to the repository root. */
export const OFFER_MAPPINGS = {
  aws: 'mappings/aws-marketplace-offer.yaml',
  /** Per CRM kind: where an opportunity holds an offer's terms. */
  terms: { salesforce: 'mappings/salesforce-private-offer.yaml' } as Record<string, string>,
} as const;

/** The marketplace systems' names in a connection's credentials. */
export const MARKETPLACE_SYSTEMS = { aws: 'aws-marketplace', azure: 'microsoft-marketplace' } as const;

export interface OfferDeps {
  store: Store;
  hubs: Hubs;
  writer: CanonicalWriter;
  /** Compiled mapping files (the runtime's loader recompiles an edited file). */
  mappingFor(file: string): Promise<CompiledMapping>;
  log: Logger;
  notify?(reminder: Reminder): Promise<void>;
  /** An agreement was booked for a customer: their commitments' drawdown ledgers are woken to count it. */
  agreementBooked?(input: { connectionId: string; cloud: string; accountId: string; agreementId: string }): Promise<void>;
}

/** The failure the workflow reads as "the marketplace said no": never retried. */
function refused(error: MarketplaceRefused): ApplicationFailure {
  return ApplicationFailure.create({ type: 'MarketplaceRefused', message: error.message, nonRetryable: true, details: [{ code: error.code, fields: error.fields }] });
}

export function createOfferActivities(deps: OfferDeps): OfferActivities {
  const aws = perConnection(deps.store, (connection, credentials) => {
    const config = credentialsOf(connection, credentials, MARKETPLACE_SYSTEMS.aws) as unknown as AwsMarketplaceConfig;
    return new AwsMarketplaceClient(config);
  }, (client) => client.close());
  const awsClient = async (connectionId: string) => (await aws(connectionId)).value;
  const microsoft = perConnection(deps.store, (connection, credentials) => {
    const config = credentialsOf(connection, credentials, MARKETPLACE_SYSTEMS.azure) as unknown as MicrosoftMarketplaceConfig;
    return new MicrosoftMarketplaceClient(config);
  }, (client) => client.close());
  const microsoftClient = async (connectionId: string) => (await microsoft(connectionId)).value;
  /** Microsoft's refusals as problems naming the CRM fields, through the terms mapping. */
  const microsoftRefusals = async (connectionId: string, errors: { code: string; message: string; target?: string }[]) => {
    const terms = await termsMappingOf(deps, connectionId);
    return microsoftProblems(errors, (field) => (terms ? crmFieldOf(terms, field) : undefined));
  };

  /** Where each term comes from on the CRM, from the terms mapping. */
  const crmFieldsOf = (mapping: CompiledMapping): CrmFields => Object.fromEntries(mapping.fields.filter((f) => f.from).map((f) => [f.field, f.from])) as CrmFields;

  return {
    async prepareOffer({ connectionId, offerId, crm, request, previous }) {
      const connection = await deps.store.connections.get(connectionId);
      const system = connection?.systems.find((s) => s.name === crm.system);
      const file = system ? OFFER_MAPPINGS.terms[system.system] : undefined;
      if (!connection || !system || !file) {
        return { problems: [{ code: 'NoOfferTerms', message: `${crm.system} holds no offer terms ecosync can read (known: ${Object.keys(OFFER_MAPPINGS.terms).join(', ')})` }] };
      }
      const mapping = await deps.mappingFor(file);
      const connector = await deps.hubs.connector(connectionId, system.name);
      const [record] = await connector.readByIds(crm.object ?? mapping.object, [crm.id], [...mapping.sourceFields]).catch((e: unknown) => { throw asActivityFailure(e); });
      if (!record) return { problems: [{ code: 'OpportunityGone', message: `${crm.system} ${crm.object ?? mapping.object} ${crm.id} no longer exists` }] };
      const mapped = mapping.forward(record.fields);
      const crmFields = crmFieldsOf(mapping);
      if (!mapped.ok) {
        return { problems: mapped.errors.map((e) => ({ code: e.code, message: `${e.field}: ${e.message}`, field: e.field, ...(crmFields[e.field as keyof OfferTerms] ? { crmField: crmFields[e.field as keyof OfferTerms] } : {}) })) };
      }
      // The buyer is the opportunity's account, as the hub knows it.
      const [opportunity] = await deps.store.records.getMany(connectionId, 'Opportunity', [request.opportunityId]);
      const accountId = request.accountId ?? (opportunity?.data.accountId as string | undefined);
      const built = buildOffer({
        id: offerId, terms: mapped.value as OfferTerms, request: { ...request, ...(accountId ? { accountId } : {}) }, crm: crmFields, now: new Date().toISOString(),
        ...(previous && previous.productId ? { previous } : {}),
      });
      return built.ok ? { offer: built.offer, problems: [] } : { problems: built.problems };
    },

    async publishOffer({ connectionId, cloud, offer, step, intent, token }) {
      if (cloud === 'azure') {
        // One configure job makes the offer live; Microsoft validates it as the job runs.
        try {
          const job = await (await microsoftClient(connectionId)).configure([microsoftOfferResource(offer)]);
          return { id: job.jobId, as: 'seller' as const };
        } catch (error) {
          if (error instanceof MicrosoftRefused && error.status === 400) {
            return { problems: await microsoftRefusals(connectionId, error.errors.length > 0 ? error.errors : [{ code: error.code, message: error.message }]) };
          }
          throw error instanceof MicrosoftRefused ? microsoftRefused(error) : asActivityFailure(error);
        }
      }
      const doc = awsOfferDocument(await deps.mappingFor(OFFER_MAPPINGS.aws), offer);
      const changes = step === 'direct' ? directOfferChanges(doc)
        : step === 'authorization' ? resaleAuthorizationChanges(doc, offer)
        : resellerOfferChanges(doc, offer.resale!.cloudId!, offer.markupPercent ?? '0');
      const as = step === 'resale' ? 'reseller' as const : 'seller' as const;
      try {
        const id = await (await awsClient(connectionId)).startChangeSet({ changes: changes as never, token: clientToken(token), intent, name: offer.name.slice(0, 100), as });
        return { id, as };
      } catch (error) {
        if (error instanceof MarketplaceBusy) return { busy: true };
        if (error instanceof MarketplaceRefused) {
          // A request AWS would not even start: the offer's document is malformed for it.
          const mapping = await deps.mappingFor(OFFER_MAPPINGS.aws);
          return { problems: offerProblems([{ changeType: error.fields[0]?.name ?? '', code: error.code, message: error.message }], mapping, () => undefined) };
        }
        throw asActivityFailure(error);
      }
    },

    async followPublish({ connectionId, cloud, offer, id, as }): Promise<PublishProgress> {
      if (cloud === 'azure') {
        const client = await microsoftClient(connectionId);
        const job = await client.jobStatus(id).catch((e: unknown) => { throw e instanceof MicrosoftRefused ? microsoftRefused(e) : asActivityFailure(e); });
        if (job.jobStatus !== 'completed') return { status: 'running' };
        if (job.jobResult !== 'succeeded') {
          return { status: 'failed', problems: await microsoftRefusals(connectionId, job.errors.length > 0 ? job.errors : [{ code: 'failed', message: 'the configure job failed without saying why' }]) };
        }
        const made = (await client.jobResources(job.resourceUri!)).map((r) => String(r.id ?? '')).find((rid) => rid.startsWith('private-offer/'));
        return { status: 'succeeded', ...(made ? { entityId: made } : {}) };
      }
      const set = await (await awsClient(connectionId)).describeChangeSet(id, as).catch((e: unknown) => { throw e instanceof MarketplaceRefused ? refused(e) : asActivityFailure(e); });
      if (set.status === 'PREPARING' || set.status === 'APPLYING') return { status: 'running' };
      if (set.status === 'FAILED' && set.failureCode === 'SERVER_FAULT') return { status: 'retry' };
      if (set.status === 'FAILED' || set.status === 'CANCELLED') {
        const errors = set.changes.flatMap((c) => c.errors.map((e) => ({ changeType: c.changeType, ...e })));
        const terms = await termsMappingOf(deps, connectionId);
        const problems = errors.length > 0
          ? offerProblems(errors, await deps.mappingFor(OFFER_MAPPINGS.aws), (field) => (terms ? crmFieldOf(terms, field) : undefined))
          : [{ code: set.status, message: `AWS Marketplace ${set.status === 'CANCELLED' ? 'cancelled' : 'failed'} the change set${set.failureDescription ? `: ${set.failureDescription}` : ''}` }];
        return { status: 'failed', problems };
      }
      const made = set.changes.find((c) => c.changeType.startsWith('Create'))?.entityId;
      return { status: 'succeeded', ...(made ? { entityId: made } : {}), ...(made && made.startsWith('offer-') ? { buyerUrl: awsBuyerUrl(offer.productId, made) } : {}) };
    },

    async findAcceptance({ connectionId, cloud, offer, agreementId }) {
      if (cloud === 'azure') {
        // Microsoft announces a purchase only through the landing page: its subscription is the agreement.
        if (!agreementId) return undefined;
        const client = await microsoftClient(connectionId);
        try {
          let subscription = await client.subscription(agreementId);
          if (subscription.status === 'PendingFulfillmentStart') {
            await client.activate(subscription.id, subscription.planId, subscription.quantity);
            subscription = await client.subscription(agreementId);
          }
          if (subscription.status !== 'Subscribed') return undefined;
          return {
            agreementId: subscription.id, offerId: offer.cloudIds.offerId ?? '', acceptor: subscription.beneficiaryTenantId ?? subscription.purchaserEmail ?? 'unknown',
            status: subscription.status, acceptedAt: new Date().toISOString(),
            startDate: subscription.startDate ?? new Date().toISOString().slice(0, 10), ...(subscription.endDate ? { endDate: subscription.endDate } : {}),
            totalContractValue: offer.totalValue ?? '0', currency: offer.currency, planId: subscription.planId,
          } satisfies AgreementSeen;
        } catch (error) {
          if (error instanceof MicrosoftRefused && error.status === 404) return undefined;
          throw error instanceof MicrosoftRefused ? microsoftRefused(error) : asActivityFailure(error);
        }
      }
      const client = await awsClient(connectionId);
      const offerId = offer.cloudIds.offerId;
      if (!offerId) return undefined;
      try {
        const found = agreementId ? await client.agreement(agreementId) : (await client.agreementsOfOffer(offerId))[0];
        if (!found || found.offerId !== offerId) return undefined;
        return {
          agreementId: found.agreementId, offerId, acceptor: found.acceptor, status: found.status,
          acceptedAt: found.acceptanceTime ?? new Date().toISOString(),
          startDate: (found.startTime ?? found.acceptanceTime ?? new Date().toISOString()).slice(0, 10),
          ...(found.endTime ? { endDate: found.endTime.slice(0, 10) } : {}),
          totalContractValue: found.agreementValue ?? offer.totalValue ?? '0',
          currency: found.currencyCode ?? offer.currency,
        } satisfies AgreementSeen;
      } catch (error) {
        if (error instanceof MarketplaceRefused && error.code === 'ResourceNotFoundException') return undefined;
        throw error instanceof MarketplaceRefused ? refused(error) : asActivityFailure(error);
      }
    },

    async bookAgreement({ connectionId, cloud, offer, agreement }) {
      const agreementKey = canonicalIdFor(`${MARKETPLACE_SYSTEMS[cloud]}`, 'Agreement', agreement.agreementId);
      const salesOrderId = canonicalIdFor(`${MARKETPLACE_SYSTEMS[cloud]}`, 'SalesOrder', agreement.agreementId);
      await deps.store.agreements.record({
        connectionId, cloud, agreementId: agreement.agreementId, canonicalId: agreementKey, offerId: agreement.offerId,
        privateOfferId: offer.id, accountId: offer.accountId ?? null, opportunityId: offer.opportunityId, acceptor: agreement.acceptor,
        status: agreement.status, acceptedAt: agreement.acceptedAt, startDate: agreement.startDate, endDate: agreement.endDate ?? null,
        totalContractValue: agreement.totalContractValue, currency: agreement.currency,
        // Drawdown reads the product's facts (Deployed on AWS, benefit eligible) from the commitment by it.
        // Microsoft meters usage by the SaaS subscription and the plan as the subscription names it.
        data: { productId: offer.productId, ...(cloud === 'azure' ? { subscriptionId: agreement.agreementId, ...(agreement.planId ? { planId: agreement.planId } : {}) } : {}) },
      });
      if (offer.accountId) await deps.agreementBooked?.({ connectionId, cloud, accountId: offer.accountId, agreementId: agreement.agreementId });
      // The opportunity is won at the agreement's value.
      await patchQuietly(deps, connectionId, 'Opportunity', offer.opportunityId, {
        stage: 'closed_won', amount: { amount: agreement.totalContractValue, currency: agreement.currency },
        'offer.status': 'accepted', 'offer.agreementId': agreement.agreementId,
      });
      const connection = await deps.store.connections.get(connectionId);
      const erp = connection?.entities.find((e) => e.entity === 'SalesOrder')?.members[0]?.system;
      if (!erp || !offer.accountId) {
        deps.log.warn({ offer: offer.id, agreement: agreement.agreementId }, `offer: no ERP order made: ${!erp ? 'the connection keeps no SalesOrder' : 'the opportunity has no account'}`);
        return { erp: 'none' };
      }
      // The buyer becomes (or already is) a customer in the ERP: the hub creates the account where it is missing.
      const [account] = await deps.store.records.getMany(connectionId, 'Account', [offer.accountId]);
      if (!account || account.deleted) throw ApplicationFailure.create({ type: 'ConfigurationError', nonRetryable: true, message: `the buyer's account ${offer.accountId} is unknown to the hub: sync the CRM first` });
      await deps.writer.create({ connectionId, entity: 'Account', canonicalId: offer.accountId, values: account.data });
      const credentials = (await deps.store.connections.getCredentials(connectionId)) ?? {};
      const items = ((credentials[erp] as { marketplaceItems?: Record<string, string> } | undefined)?.marketplaceItems) ?? {};
      const item = items[offer.productId] ?? items.default;
      if (!item) throw ApplicationFailure.create({ type: 'ConfigurationError', nonRetryable: true, message: `the ERP item for marketplace product ${offer.productId} is not configured: set ${erp}.marketplaceItems.${offer.productId} (or .default) in the connection's credentials` });
      await deps.writer.create({
        connectionId, entity: 'SalesOrder', canonicalId: salesOrderId,
        values: {
          id: salesOrderId, accountId: offer.accountId, orderDate: agreement.startDate, status: 'pending_fulfillment', currency: agreement.currency,
          total: agreement.totalContractValue, lines: orderLines(offer, agreement, item), agreementId: agreement.agreementId,
          memo: `${cloud === 'aws' ? 'AWS Marketplace' : 'Microsoft marketplace'} agreement ${agreement.agreementId} (offer ${agreement.offerId})`,
        },
      });
      await deps.store.agreements.setSalesOrder(connectionId, cloud, agreement.agreementId, salesOrderId);
      return { salesOrderId, erp };
    },

    async withdrawOffer({ connectionId, cloud, offer, token }) {
      if (cloud === 'azure') {
        const client = await microsoftClient(connectionId);
        try {
          let job = await client.configure([microsoftOfferResource(offer, { state: 'withdrawn', id: offer.cloudIds.offerId })]);
          // The job is short; its outcome says whether the offer is withdrawn (an accepted one cannot be).
          while (job.jobStatus !== 'completed') {
            Context.current().heartbeat(job.jobId);
            await Context.current().sleep(2_000);
            job = await client.jobStatus(job.jobId);
          }
          if (job.jobResult !== 'succeeded') throw new MicrosoftRefused(job.errors[0]?.code ?? 'failed', job.errors.map((e) => e.message).join('; ') || 'the withdrawal failed', 409, job.errors);
          return;
        } catch (error) {
          throw error instanceof MicrosoftRefused ? microsoftRefused(error) : asActivityFailure(error);
        }
      }
      // AWS ends a private offer by its availability: today is its last day.
      const today = new Date().toISOString().slice(0, 10);
      const changes = [{ ChangeType: 'UpdateAvailability', Entity: { Type: 'Offer@1.0', Identifier: offer.cloudIds.offerId! }, DetailsDocument: { AvailabilityEndDate: today } }];
      try {
        await (await awsClient(connectionId)).startChangeSet({ changes: changes as never, token: clientToken(token), as: offer.channel === 'cppo' ? 'reseller' : 'seller' });
      } catch (error) {
        throw error instanceof MarketplaceRefused ? refused(error) : asActivityFailure(error);
      }
    },

    async writeOfferToCrm({ connectionId, offer }) {
      await patchQuietly(deps, connectionId, 'Opportunity', offer.opportunityId, {
        'offer.cloud': offer.cloud, 'offer.status': offer.status, 'offer.offerId': offer.cloudIds.offerId, 'offer.buyerUrl': offer.buyerUrl,
        'offer.message': messageOf(offer), 'offer.agreementId': offer.agreementId,
      });
    },

    async remindOffer({ offer, to, subject, text }) {
      if (deps.notify) await deps.notify({ to, subject, text });
      else deps.log.info({ offer: offer.id, to }, `offer reminder: ${subject}`);
    },
  };
}

/** What the CRM shows about the offer: its problems in words, or the approvers it waits for. */
export function messageOf(offer: PrivateOffer): string | undefined {
  if (offer.problems.length > 0) return offer.problems.map((p) => p.message).join('\n');
  if (offer.pendingApprovers.length > 0) return `Waiting for ${offer.currentStage ?? 'approval'}: ${offer.pendingApprovers.join(', ')}`;
  if (offer.status === 'live') return `Live until ${offer.expiresOn}: ${offer.buyerUrl ?? ''}`;
  return undefined;
}

/** The ERP order's lines: each contract dimension at its price and quantity, or the agreement's value in one line. */
export function orderLines(offer: PrivateOffer, agreement: AgreementSeen, item: string): TransactionLine[] {
  const cents = (v: string) => Math.round(Number(v) * 100);
  const lines = offer.dimensions.map((d) => {
    const quantity = String(d.quantity ?? 1);
    return { item, description: `${d.key} (${offer.duration})`, quantity, rate: d.price, amount: (cents(d.price) * Number(quantity) / 100).toFixed(2) };
  });
  const sum = lines.reduce((n, l) => n + cents(l.amount), 0);
  if (offer.pricingModel === 'contract' && !offer.paymentSchedule && sum === cents(agreement.totalContractValue)) return lines;
  return [{ item, description: `${offer.name} (${offer.duration})`, quantity: '1', rate: agreement.totalContractValue, amount: agreement.totalContractValue }];
}

async function termsMappingOf(deps: OfferDeps, connectionId: string): Promise<CrmFields | undefined> {
  const connection = await deps.store.connections.get(connectionId);
  const kind = connection?.systems.find((s) => OFFER_MAPPINGS.terms[s.system])?.system;
  if (!kind) return undefined;
  const mapping = await deps.mappingFor(OFFER_MAPPINGS.terms[kind]);
  return Object.fromEntries(mapping.fields.filter((f) => f.from).map((f) => [f.field, f.from])) as CrmFields;
}

/** A write to the CRMs that may find nothing to write to (the opportunity never synced): logged, not failed. */
async function patchQuietly(deps: OfferDeps, connectionId: string, entity: 'Opportunity', canonicalId: string, values: Record<string, unknown>): Promise<void> {
  try {
    const result = await deps.writer.patch({ connectionId, entity, canonicalId, values });
    for (const s of result.skipped) deps.log.warn({ opportunityId: canonicalId, system: s.system }, `offer: not written to ${s.system}: ${s.reason}`);
  } catch (error) {
    if (!(error instanceof CanonicalRecordNotFound)) throw error;
    deps.log.warn({ opportunityId: canonicalId }, `offer: status not written back: ${error.message}`);
  }
}

/**
 * AWS takes a ClientRequestToken of at most 36 characters: the workflow's token (offer, round,
 * step, intent) as a UUID v5, the same for every retry of the same step.
 */
export function clientToken(token: string): string {
  return canonicalIdFor('aws-marketplace', 'ChangeSet', token);
}

function microsoftRefused(error: MicrosoftRefused): ApplicationFailure {
  return ApplicationFailure.create({ type: 'MarketplaceRefused', message: error.message, nonRetryable: true, details: [{ code: error.code, errors: error.errors }] });
}

export type { OfferProblem };
