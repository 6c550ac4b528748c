/**
 * The co-sell activities: thin glue from the co-sell workflow to the clouds' clients and the
 * canonical writer, which takes the status to the CRMs through the sync layer. Payloads and
 * statuses are decided in src/cosell (pure); the clouds' rules live with their connectors. Each
 * cloud sits behind one small adapter.
 *
 * Idempotent by construction: a create carries the workflow's token (AWS ClientToken, Microsoft
 * externalReferenceId), so a retry after a crash finds what the first attempt made; associating
 * a solution twice and submitting an opportunity already submitted are not errors.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import {
  AwsPartnerCentralClient, PartnerCentralError, isLockedForReview, validateCreateOpportunity, validateSubmission,
  type AwsPartnerCentralConfig, type Catalog, type OpportunityInput, type OpportunityPatch,
} from '../../connectors/aws-partner-central/index.js';
import {
  MicrosoftPartnerCenterClient, PartnerCenterError, validateReferral,
  type MicrosoftPartnerCenterConfig, type ReferralInput,
} from '../../connectors/microsoft-partner-center/index.js';
import {
  awsOpportunityPatch, awsOpportunityPayload, awsReviewStatus, awsSubmission, coSellValues, microsoftReferralPatch,
  microsoftReferralPayload, microsoftReferralStatus, sourceOf, type CoSellMappingLoader, type CoSellOptions, type CoSellSnapshot,
} from '../cosell/index.js';
import type { Reminder } from '../cosell/notify.js';
import { COSELL_SYSTEMS, type CoSellCloud } from '../model/cosell-status.js';
import type { CoSellError } from '../model/index.js';
import { RateLimitError } from '../sync/protocol.js';
import type { Store } from '../store/index.js';
import type { CloudReview, CoSellActivities } from '../../workflows/cosell-types.js';
import { CanonicalRecordNotFound, type CanonicalWriter } from './canonical-write.js';
import { asActivityFailure, credentialsOf, perConnection } from './hubs.js';

/** AWS Partner Central credentials as a connection stores them. */
export interface AwsCoSellCredentials extends Omit<AwsPartnerCentralConfig, 'credentials'> {
  accessKeyId?: string;
  secretAccessKey?: string;
}

export interface CoSellDeps {
  store: Store;
  /** Writes the status to the opportunity in every CRM of the connection, through the sync layer. */
  writer: CanonicalWriter;
  log: Logger;
  /** Delivers an approval reminder; logged by default (mail or chat integrations plug in here). */
  notify?(reminder: Reminder): Promise<void>;
  /** The compiled co-sell payload mappings (the runtime reads and recompiles the files). */
  mappings: CoSellMappingLoader;
}

/** A reminder goes to the notifier when one is configured; else it is logged with `fields`. */
export async function sendReminder(deps: Pick<CoSellDeps, 'notify' | 'log'>, reminder: Reminder, fields: Record<string, unknown>, logMessage: string): Promise<void> {
  if (deps.notify) await deps.notify(reminder);
  else deps.log.info(fields, logMessage);
}

/** What one cloud needs to do for a co-sell. */
interface CloudAdapter {
  create(payload: Record<string, unknown>, token: string): Promise<{ externalId: string; cloudStatus?: string; cloudSubstatus?: string }>;
  link(externalId: string, solutionIds: string[]): Promise<void>;
  engage(externalId: string, options: CoSellOptions, token: string): Promise<void>;
  review(externalId: string): Promise<CloudReview>;
  update(externalId: string, payload: Record<string, unknown>): Promise<{ sent: boolean; locked: boolean }>;
}

const LOCKED_AWS_STATUSES = new Set(['Submitted', 'In review', 'Rejected']);

/** The AWS client's configuration from the credentials a connection stores. */
export function awsClientConfig(config: AwsCoSellCredentials): AwsPartnerCentralConfig {
  const { accessKeyId, secretAccessKey, ...rest } = config;
  return { ...rest, credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined };
}

/**
 * Per connection and cloud, the cloud's client built from the connection's credentials, kept
 * while the connection is unchanged (clients keep tokens and pacing) and closed when it changes.
 */
export function cloudClients<T>(store: Store, build: (cloud: CoSellCloud, config: Record<string, unknown>) => { value: T; close(): void }) {
  const clientsOf = (cloud: CoSellCloud) => perConnection(
    store,
    (connection, credentials) => build(cloud, credentialsOf(connection, credentials, COSELL_SYSTEMS[cloud])),
    (built) => built.close(),
  );
  const clouds = { aws: clientsOf('aws'), azure: clientsOf('azure') };
  return async (connectionId: string, cloud: CoSellCloud): Promise<T> => (await clouds[cloud](connectionId)).value.value;
}

export function createCoSellActivities(deps: CoSellDeps): CoSellActivities {
  const adapter = cloudClients(deps.store, (cloud, config) =>
    cloud === 'aws' ? awsAdapter(config as unknown as AwsCoSellCredentials) : microsoftAdapter(config as unknown as MicrosoftPartnerCenterConfig));

  return {
    async prepareCoSell({ cloud, snapshot, options, partnerOpportunityId }) {
      return cloud === 'aws' ? prepareAws(deps.mappings, snapshot, options, partnerOpportunityId) : prepareMicrosoft(deps.mappings, snapshot, options);
    },

    async createCloudOpportunity({ connectionId, cloud, payload, clientToken }) {
      return cloudCall(deps.mappings, () => adapter(connectionId, cloud).then((a) => a.create(payload, clientToken)));
    },

    async linkSolutions({ connectionId, cloud, externalId, solutionIds }) {
      await cloudCall(deps.mappings, () => adapter(connectionId, cloud).then((a) => a.link(externalId, solutionIds)));
    },

    async startCloudEngagement({ connectionId, cloud, externalId, options, clientToken }) {
      await cloudCall(deps.mappings, () => adapter(connectionId, cloud).then((a) => a.engage(externalId, options, clientToken)));
    },

    async getCloudReview({ connectionId, cloud, externalId }) {
      return cloudCall(deps.mappings, () => adapter(connectionId, cloud).then((a) => a.review(externalId)));
    },

    async updateCloudOpportunity({ connectionId, cloud, externalId, payload }) {
      return cloudCall(deps.mappings, () => adapter(connectionId, cloud).then((a) => a.update(externalId, payload)));
    },

    /**
     * The status goes to the canonical opportunity and from there to each CRM record linked to
     * it, as a sync would write it: the next sync sees its own write, not an edit to send on.
     */
    async writeCoSellToCrm({ connectionId, crm, referral }) {
      try {
        const result = await deps.writer.patch({ connectionId, entity: 'Opportunity', canonicalId: referral.opportunityId, values: coSellValues(referral) });
        // A CRM that refused (record locked, field missing in the org): the co-sell goes on, and the operator sees why.
        for (const s of result.skipped) deps.log.warn({ opportunityId: referral.opportunityId, system: s.system }, `co-sell: status not written to ${s.system}: ${s.reason}`);
      } catch (error) {
        if (!(error instanceof CanonicalRecordNotFound)) throw error;
        deps.log.warn({ opportunityId: referral.opportunityId, crm }, `co-sell: status not written back: ${error.message}`);
      }
    },

    async remindApprovers({ referral, stage, approvers, escalatedTo }) {
      const reminder = {
        to: approvers,
        subject: `Co-sell waiting for ${stage} approval`,
        text: `${referral.cloud} co-sell of opportunity ${referral.opportunityId}, asked by ${referral.requestedBy}, waits for stage ${stage}.${escalatedTo ? ` Escalated to ${escalatedTo}.` : ''}`,
      };
      await sendReminder(deps, reminder, { referral: referral.id, stage, to: approvers, escalatedTo }, 'co-sell: approval reminder');
    },
  };
}

// --- pre-validation (no call to the cloud) ----------------------------------------------------

/**
 * The AWS payload checked against Partner Central's create and submission rules at once, so
 * every problem is named before anything is sent. The AWS catalog's rules are the strict ones.
 */
export function prepareAws(mappings: CoSellMappingLoader, snapshot: CoSellSnapshot, options: CoSellOptions, partnerOpportunityId: string): { payload: Record<string, unknown>; error?: CoSellError } {
  const payload = awsOpportunityPayload(mappings, snapshot, options, partnerOpportunityId);
  const catalog: Catalog = 'AWS';
  const issues = [
    ...validateCreateOpportunity({ ...payload, Catalog: catalog } as never),
    ...validateSubmission(
      { ...payload, LifeCycle: { ...(payload.LifeCycle as object), ReviewStatus: 'Pending Submission' }, RelatedEntityIdentifiers: { Solutions: options.solutionIds } },
      awsSubmission(options),
    ),
  ];
  const seen = new Set<string>();
  const fields = issues.filter((i) => !seen.has(`${i.field}|${i.code}`) && seen.add(`${i.field}|${i.code}`)).map((i) => fieldError(mappings, i));
  return fields.length === 0 ? { payload } : { payload, error: validationFailed('AWS Partner Central', fields) };
}

export function prepareMicrosoft(mappings: CoSellMappingLoader, snapshot: CoSellSnapshot, options: CoSellOptions): { payload: Record<string, unknown>; error?: CoSellError } {
  const payload = microsoftReferralPayload(mappings, snapshot, options);
  const fields = validateReferral(payload).map((e) => fieldError(mappings, e));
  return fields.length === 0 ? { payload } : { payload, error: validationFailed('Microsoft Partner Center', fields) };
}

function fieldError(mappings: CoSellMappingLoader, e: { field: string; code: string; message: string }): CoSellError['fields'][number] {
  const source = sourceOf(mappings, e.field);
  return { field: e.field, code: e.code, message: source ? `${e.message} (from ${source})` : e.message };
}

function validationFailed(cloud: string, fields: CoSellError['fields']): CoSellError {
  return { code: 'ValidationFailed', message: `${cloud} would reject this co-sell: ${fields.map((f) => f.field).join(', ')}`, fields };
}

// --- AWS Partner Central ---------------------------------------------------------------------

function awsAdapter(config: AwsCoSellCredentials): { value: CloudAdapter; close(): void } {
  const client = new AwsPartnerCentralClient(awsClientConfig(config));
  const value: CloudAdapter = {
    async create(payload, token) {
      const created = await client.createOpportunity(payload as OpportunityInput, token);
      return { externalId: created.id, cloudStatus: 'Pending Submission' };
    },
    async link(externalId, solutionIds) {
      for (const solution of solutionIds) await client.associateSolution(externalId, solution);
    },
    async engage(externalId, options, token) {
      const submission = awsSubmission(options);
      // prepareCoSell checked this payload against the submission rules before the opportunity was
      // created from it, so the client skips its own read; the token makes a retry find the first task.
      await client.startEngagement(externalId, { involvementType: submission.InvolvementType as never, visibility: submission.Visibility as never }, token, { checked: true });
    },
    async review(externalId) {
      const o = await client.getOpportunity(externalId);
      const reviewStatus = o.LifeCycle?.ReviewStatus ?? 'Pending Submission';
      const status = awsReviewStatus(reviewStatus);
      const reason = o.LifeCycle?.ReviewStatusReason;
      const comments = o.LifeCycle?.ReviewComments;
      return {
        status,
        cloudStatus: reviewStatus,
        cloudSubstatus: reason,
        editable: !LOCKED_AWS_STATUSES.has(reviewStatus),
        reasons: status === 'rejected' || status === 'action_required'
          ? { code: status === 'rejected' ? 'Rejected' : 'ActionRequired', message: [reason, comments].filter(Boolean).join(': ') || reviewStatus, fields: [] }
          : undefined,
      };
    },
    async update(externalId, payload) {
      try {
        await client.updateOpportunity(externalId, awsOpportunityPatch(payload) as OpportunityPatch);
        return { sent: true, locked: false };
      } catch (error) {
        if (isLockedForReview(error)) return { sent: false, locked: true };
        throw error;
      }
    },
  };
  return { value, close: () => client.close() };
}

// --- Microsoft Partner Center ----------------------------------------------------------------

function microsoftAdapter(config: MicrosoftPartnerCenterConfig): { value: CloudAdapter; close(): void } {
  const client = new MicrosoftPartnerCenterClient(config);
  const value: CloudAdapter = {
    async create(payload, token) {
      // No earlier attempt of this activity can have created it: the idempotency lookup is saved.
      const { referral } = await client.createReferral(payload as unknown as ReferralInput, token, { firstAttempt: isFirstAttempt() });
      return { externalId: referral.id, cloudStatus: referral.status, cloudSubstatus: referral.substatus };
    },
    // A Shared referral names its solutions and reaches Microsoft's sellers when it is created.
    async link() {},
    async engage() {},
    async review(externalId) {
      const { referral } = await client.getReferral(externalId);
      const status = microsoftReferralStatus(referral.status, referral.substatus);
      return {
        status,
        cloudStatus: referral.status,
        cloudSubstatus: referral.substatus,
        editable: referral.status !== 'Closed',
        reasons: status === 'rejected' ? { code: referral.substatus, message: referral.statusReason ?? referral.substatus, fields: [] } : undefined,
      };
    },
    async update(externalId, payload) {
      await client.updateReferral(externalId, microsoftReferralPatch(payload) as never);
      return { sent: true, locked: false };
    },
  };
  return { value, close: () => client.close() };
}

/** Whether this is the first attempt of the running activity (false outside an activity: be safe). */
function isFirstAttempt(): boolean {
  try {
    return Context.current().info.attempt === 1;
  } catch {
    return false;
  }
}

// --- errors ----------------------------------------------------------------------------------

/**
 * Runs a cloud call; the cloud's final answers (validation, refusals) become non-retryable
 * failures carrying the cloud's own code, message and fields, for the alliance manager.
 * 5xx and network failures stay retryable: Temporal retries the activity. A throttle the
 * client could not wait out in process (a RateLimitError) is retried after the wait the cloud
 * asked for.
 */
export async function cloudCall<T>(mappings: CoSellMappingLoader, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof RateLimitError) throw asActivityFailure(error);
    if (error instanceof PartnerCentralError && !error.retryable) {
      const problem: CoSellError = { code: error.code, message: error.message, fields: error.fields.map((f) => fieldError(mappings, f)) };
      throw ApplicationFailure.create({ type: error.code === 'ValidationException' ? 'CloudValidation' : 'CloudRefused', message: error.message, details: [problem], nonRetryable: true });
    }
    if (error instanceof PartnerCenterError && !error.retryable) {
      const problem: CoSellError = {
        code: error.code, message: error.message,
        fields: error.details.length > 0 ? error.details.map((d) => fieldError(mappings, d)) : error.fields.map((field) => ({ field, code: error.code, message: error.message })),
      };
      const auth = error.code === 'AuthenticationFailed';
      throw ApplicationFailure.create({ type: auth ? 'AuthError' : error.code === 'InvalidInput' ? 'CloudValidation' : 'CloudRefused', message: error.message, details: [problem], nonRetryable: true });
    }
    throw error;
  }
}

