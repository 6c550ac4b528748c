/**
 * The inbound co-sell activities: thin glue from the inbound workflows to the clouds' clients,
 * the store (matching) and the canonical writer (CRM records). What the clouds send is read into
 * ecosync's words in src/cosell/inbound.ts (pure); the clouds' wire rules live in their connectors.
 *
 * Idempotent: accepting uses the workflow's id as the AWS ClientToken (a retry gets the same
 * task and opportunity; an invitation already accepted is reported as accepted); a Microsoft
 * referral already Active/Accepted needs no PATCH; CRM records are created with canonical ids the
 * workflow fixed once, so a retry finds them.
 */
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { AwsPartnerCentralClient } from '../../connectors/aws-partner-central/index.js';
import { MicrosoftPartnerCenterClient, type MicrosoftPartnerCenterConfig, type Referral } from '../../connectors/microsoft-partner-center/index.js';
import {
  awsInvitation, companyNameVariants, domainOf, inboundAccountValues, inboundOpportunityValues, inboundSummary, matchInbound, microsoftInvitation,
  type CandidateAccount, type CandidateOpportunity, type InboundInvitation,
} from '../cosell/inbound.js';
import type { CoSellCloud } from '../model/cosell.js';
import type { InboundMatch } from '../model/cosell-inbound.js';
import type { CanonicalRecord } from '../store/index.js';
import { invitationText } from '../service/summaries.js';
import {
  invitationWorkflowId, type InboundActivities, type InvitationInput,
} from '../../workflows/cosell-inbound-types.js';
import { awsClientConfig, cloudCall, cloudClients, sendReminder, type AwsCoSellCredentials, type CoSellDeps } from './cosell.js';

/** The outbound activities' dependencies (the writer creates and patches the CRM records), and a Temporal client. */
export interface InboundDeps extends CoSellDeps {
  /** Starts the invitation workflows the inbox finds. */
  client: Client;
}

/** What one cloud needs to do for inbound co-sell. */
interface InboundCloud {
  pending(): Promise<string[]>;
  read(id: string): Promise<InboundInvitation>;
  accept(id: string, token: string): Promise<{ cloudOpportunityId?: string; cloudStatus: string }>;
  decline(id: string, reason: string): Promise<{ cloudStatus: string }>;
}

export function createInboundActivities(deps: InboundDeps): InboundActivities {
  const cloudFor = cloudClients(deps.store, (cloud, config) =>
    cloud === 'aws' ? awsInbound(config as unknown as AwsCoSellCredentials) : microsoftInbound(config as unknown as MicrosoftPartnerCenterConfig));

  async function match(connectionId: string, invitation: Pick<InboundInvitation, 'customer' | 'project'>): Promise<InboundMatch> {
    const { customer } = invitation;
    const domain = customer.domain ?? domainOf(customer.website);
    const byDomain = domain ? await deps.store.records.findByField(connectionId, 'Account', 'domain', [domain], 20) : [];
    // Salesforce has no domain field of its own: accounts whose website carries the domain count too.
    const byWebsite = domain && byDomain.length === 0
      ? await deps.store.records.findByField(connectionId, 'Account', 'website', [domain, `www.${domain}`, `https://${domain}`, `https://www.${domain}`, `http://${domain}`, `http://www.${domain}`, `https://${domain}/`, `https://www.${domain}/`], 20)
      : [];
    const byName = byDomain.length + byWebsite.length === 0 ? await deps.store.records.findByField(connectionId, 'Account', 'name', companyNameVariants(customer.company), 20) : [];
    const accounts = [...byDomain, ...byWebsite, ...byName].map(accountOf);
    const opportunities = accounts.length === 0 ? [] : await deps.store.records.findByField(connectionId, 'Opportunity', 'accountId', [...new Set(accounts.map((a) => a.id))], 200);
    return matchInbound(invitation, accounts, opportunities.map(opportunityOf));
  }

  return {
    async readInvitation({ connectionId, cloud, invitationId }) {
      return cloudCall(deps.mappings, () => cloudFor(connectionId, cloud).then((c) => c.read(invitationId)));
    },

    async matchInvitation({ connectionId, invitation }) {
      return match(connectionId, invitation);
    },

    async acceptInvitation({ connectionId, cloud, invitationId, clientToken }) {
      return cloudCall(deps.mappings, () => cloudFor(connectionId, cloud).then((c) => c.accept(invitationId, clientToken)));
    },

    async declineInvitation({ connectionId, cloud, invitationId, reason }) {
      return cloudCall(deps.mappings, () => cloudFor(connectionId, cloud).then((c) => c.decline(invitationId, reason)));
    },

    async writeInboundToCrm({ connectionId, cloud, invitation, cloudOpportunityId, match: given, ids }) {
      const coSell = {
        cloud, status: 'approved', cloudOpportunityId: cloudOpportunityId ?? invitation.invitationId,
        message: inboundSummary(cloud, cloudOpportunityId, invitation.invitationId),
      };
      // Records an earlier attempt of this very write made are found by their fixed ids.
      const [ownAccount] = await deps.store.records.getMany(connectionId, 'Account', [ids.account]);
      const [ownOpportunity] = await deps.store.records.getMany(connectionId, 'Opportunity', [ids.opportunity]);
      const found = ownOpportunity ? undefined : given ?? await match(connectionId, invitation);
      const matched = ownOpportunity ? undefined : found?.opportunityId;
      if (matched) {
        await deps.writer.patch({
          connectionId, entity: 'Opportunity', canonicalId: matched,
          values: { 'coSell.cloud': coSell.cloud, 'coSell.status': coSell.status, 'coSell.cloudOpportunityId': coSell.cloudOpportunityId, 'coSell.message': coSell.message },
        });
        return { accountId: found!.accountId!, opportunityId: matched, match: found!, created: { account: false, opportunity: false } };
      }
      // An opportunity an earlier attempt created keeps the account it was created under.
      const accountId = ownAccount?.canonicalId ?? (ownOpportunity?.data as { accountId?: string } | undefined)?.accountId ?? found?.accountId ?? ids.account;
      const createAccount = accountId === ids.account;
      if (createAccount) {
        await deps.writer.create({ connectionId, entity: 'Account', canonicalId: ids.account, values: inboundAccountValues(invitation.customer) });
      }
      const values = { ...inboundOpportunityValues(cloud, invitation, accountId, new Date().toISOString().slice(0, 10)), coSell };
      await deps.writer.create({ connectionId, entity: 'Opportunity', canonicalId: ids.opportunity, values });
      const result: InboundMatch = found && !createAccount
        ? { ...found, detail: `${found.detail}; new opportunity created` }
        : { reason: 'none', detail: 'new account and opportunity created' };
      return { accountId, opportunityId: ids.opportunity, match: result, created: { account: createAccount, opportunity: true } };
    },

    async remindInboundApprovers({ inbound, approvers, escalatedTo }) {
      const reminder = {
        to: approvers,
        subject: `Co-sell invitation from ${inbound.sender.company ?? inbound.cloud} waiting for a decision`,
        text: `${inbound.cloud} shared "${inbound.project.title}" for ${inbound.customer.company} (${inbound.invitationId}); accept or reject it${inbound.expiresAt ? ` before ${inbound.expiresAt}` : ''}.${escalatedTo ? ` Escalated to ${escalatedTo}.` : ''}`,
      };
      await sendReminder(deps, reminder, { invitation: inbound.invitationId, to: approvers, escalatedTo }, 'inbound co-sell: approval reminder');
    },

    async pollInbox({ connectionId, cloud, started, taskQueue, policy, connectionName, invitation }) {
      const pending = await cloudCall(deps.mappings, () => cloudFor(connectionId, cloud).then((c) => c.pending()));
      const already = new Set(started);
      const newlyStarted: string[] = [];
      for (const invitationId of pending.filter((id) => !already.has(id))) {
        const args: InvitationInput = { cloud, connectionId, connectionName, invitationId, policy, ...invitation };
        try {
          await deps.client.workflow.start('coSellInvitationWorkflow', {
            workflowId: invitationWorkflowId(cloud, invitationId),
            taskQueue,
            args: [args],
            // Running: left alone. Finished: not started again (the cloud may lag behind our answer).
            workflowIdConflictPolicy: 'USE_EXISTING',
            workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
            ...invitationText(cloud, invitationId, connectionName ?? connectionId),
          });
          newlyStarted.push(invitationId);
        } catch (error) {
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        }
      }
      if (newlyStarted.length > 0) deps.log.info({ cloud, connectionId, invitations: newlyStarted }, 'inbound co-sell: new invitations handed to their workflows');
      return { pending, newlyStarted };
    },
  };
}

function accountOf(r: CanonicalRecord): CandidateAccount {
  const d = r.data as { name?: string; domain?: string; website?: string };
  return { id: r.canonicalId, name: d.name, domain: d.domain, website: d.website };
}

function opportunityOf(r: CanonicalRecord): CandidateOpportunity {
  const d = r.data as { name?: string; accountId?: string; stage?: string };
  return { id: r.canonicalId, name: d.name, accountId: d.accountId, stage: d.stage };
}

// --- AWS Partner Central -----------------------------------------------------------------------

function awsInbound(config: AwsCoSellCredentials): { value: InboundCloud; close(): void } {
  const client = new AwsPartnerCentralClient(awsClientConfig(config));
  const value: InboundCloud = {
    async pending() {
      const ids: string[] = [];
      for await (const i of client.listInvitations({ status: ['PENDING'], payloadType: ['OpportunityInvitation'], maxResults: 100 })) if (i.Id) ids.push(i.Id);
      return ids;
    },
    async read(id) {
      return awsInvitation(await client.getInvitation(id));
    },
    async accept(id, token) {
      const accepted = await client.acceptInvitationTask(id, token);
      return { cloudOpportunityId: accepted.opportunityId, cloudStatus: 'ACCEPTED' };
    },
    async decline(id, reason) {
      await client.rejectInvitation(id, reason);
      return { cloudStatus: 'REJECTED' };
    },
  };
  return { value, close: () => client.close() };
}

// --- Microsoft Partner Center ------------------------------------------------------------------

function microsoftInbound(config: MicrosoftPartnerCenterConfig): { value: InboundCloud; close(): void } {
  const client = new MicrosoftPartnerCenterClient(config);
  const value: InboundCloud = {
    async pending() {
      const ids: string[] = [];
      for await (const r of client.listReferrals({ direction: 'Incoming', status: 'New', substatus: 'Received', pageSize: 100 })) ids.push(r.id);
      return ids;
    },
    async read(id) {
      return microsoftInvitation((await client.getReferral(id)).referral);
    },
    // The partner accepts a referral shared with it by moving it from New/Received to Active/Accepted.
    async accept(id) {
      const { referral } = await answerReferral(client, id, { status: 'Active', substatus: 'Accepted' }, 'Active');
      return { cloudOpportunityId: referral.engagementId, cloudStatus: `${referral.status}/${referral.substatus}` };
    },
    // Declining closes it as Closed/Declined with our reason.
    async decline(id, reason) {
      const { referral } = await answerReferral(client, id, { status: 'Closed', substatus: 'Declined', statusReason: reason }, 'Closed');
      return { cloudStatus: `${referral.status}/${referral.substatus}` };
    },
  };
  return { value, close: () => client.close() };
}

/**
 * Moves an incoming referral to our answer. One already there (a retry after a lost answer) costs
 * no PATCH; one that moved elsewhere meanwhile (expired, closed) is the cloud's final word.
 */
async function answerReferral(
  client: MicrosoftPartnerCenterClient,
  id: string,
  answer: Partial<Referral>,
  done: Referral['status'],
): Promise<{ referral: Referral }> {
  const current = await client.getReferral(id);
  if (current.referral.status === done && current.referral.substatus === answer.substatus) return current;
  if (current.referral.status !== 'New') {
    throw ApplicationFailure.create({
      type: 'CloudRefused', nonRetryable: true,
      message: `referral ${id} is ${current.referral.status}/${current.referral.substatus}: it can no longer be answered`,
      details: [{ code: 'InvalidStateTransition', message: `referral ${id} is ${current.referral.status}/${current.referral.substatus}`, fields: [] }],
    });
  }
  return client.updateReferral(id, answer as never, current);
}
