import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import type { PartnerCentralSandbox } from '../../connectors/aws-partner-central/sandbox/index.js';
import type { HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.js';
import type { MicrosoftSandbox } from '../../connectors/microsoft-partner-center/index.js';
import type { SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.js';
import type { ApprovalPolicy } from '../../src/cosell/approval.js';
import type { CoSellCloud } from '../../src/model/cosell.js';
import { createActivities } from '../../src/runtime/activities.js';
import { bundleWorkflows, startWorker, type RunningWorker } from '../../src/runtime/worker.js';
import { ensureCoSellInbox } from '../../src/service/cosell-inbox.js';
import type { Connection } from '../../src/store/index.js';
import { stateQuery } from '../../workflows/cosell-inbound.js';
import { invitationWorkflowId, type InvitationView } from '../../workflows/cosell-inbound-types.js';
import type { SyncCounters } from '../../workflows/sync-types.js';
import type { TestStore } from '../store/stores.js';
import { syncCycle } from '../sync/crm-rig.js';
import { hubView } from '../support/hub-view.js';
import {
  ALLIANCE_LEAD, ALLIANCE_MANAGER, DEAL_DESK, ESCALATION, SELLER,
  awsCallsOf, closeCoSellSandboxes, coSellConnection, startCoSellSandboxes, useHub,
} from './support.js';
import { eventually } from '../support/temporal.js';

export { ALLIANCE_LEAD, ALLIANCE_MANAGER, DEAL_DESK, ESCALATION, SELLER } from './support.js';

/** Deal desk, then the alliance lead; invitations are decided by alliance managers. */
/** `null`: no inbound section, so the last stage decides invitations. */
export function inboundPolicy(inbound: ApprovalPolicy['inbound'] | null = { roles: ['alliance_manager'], slaSeconds: 3600, escalateTo: ESCALATION }): ApprovalPolicy {
  return {
    currency: 'USD',
    stages: [
      { name: 'deal_desk', roles: ['deal_desk'], slaSeconds: 3600 },
      { name: 'alliance_lead', roles: ['alliance_lead'], minAmount: '100000', slaSeconds: 3600 },
    ],
    users: { [DEAL_DESK]: ['deal_desk'], [ALLIANCE_LEAD]: ['alliance_lead'], [SELLER]: ['sales'], [ALLIANCE_MANAGER]: ['alliance_manager'] },
    ...(inbound ? { inbound } : {}),
  };
}

/**
 * The inbound co-sell world of a test file: a store, the Salesforce and HubSpot sandboxes joined
 * by a connection with the shipped mappings, the AWS and Microsoft sandboxes reached through the
 * same connection, and a worker with every activity ecosync registers.
 */
export class InboundHub {
  worker?: RunningWorker;
  connection!: Connection;
  /** What the worker runs: the sync (with its co-sell hook), the co-sell and the inbound activities. */
  activities!: ReturnType<typeof createActivities>;

  private constructor(
    readonly env: TestWorkflowEnvironment,
    readonly db: TestStore,
    readonly sf: SalesforceSandbox,
    readonly hs: HubSpotSandbox,
    readonly aws: PartnerCentralSandbox,
    readonly ms: MicrosoftSandbox,
    readonly taskQueue: string,
  ) {}

  static async start(env: TestWorkflowEnvironment, bundle: Awaited<ReturnType<typeof bundleWorkflows>>): Promise<InboundHub> {
    // No seeded invitations: each test shares its own.
    const { db, sf, hs, aws, ms } = await startCoSellSandboxes({ invitations: 0 });
    const hub = new InboundHub(env, db, sf, hs, aws, ms, `inbound-${randomUUID()}`);
    hub.connection = await coSellConnection(db.store, 'inbound', { sf, hs, aws, ms });
    hub.activities = createActivities({ store: db.store, client: env.client, taskQueue: hub.taskQueue, log: pino({ level: 'silent' }) });
    hub.worker = await startWorker({
      address: env.address, namespace: env.namespace ?? 'default', taskQueue: hub.taskQueue, workflowBundle: bundle, activities: hub.activities,
    });
    return hub;
  }

  get store() {
    return this.db.store;
  }

  /** Starts (or finds) the inbox of this connection and cloud, polling fast. */
  inbox(cloud: CoSellCloud, policy: ApprovalPolicy = inboundPolicy()): Promise<WorkflowHandle> {
    return ensureCoSellInbox(this.env.client, this.taskQueue, this.connection, cloud, { policy, pollIntervalMs: 200, invitation: { expiryRecheckMs: 200, crmRetryMs: 500 } });
  }

  /** The invitation's workflow once the inbox has started it, when its state passes `check`. */
  async invitation(cloud: CoSellCloud, invitationId: string, check: (v: InvitationView) => boolean, what: string, timeoutMs = 20_000): Promise<{ handle: WorkflowHandle; view: InvitationView }> {
    const handle = this.env.client.workflow.getHandle(invitationWorkflowId(cloud, invitationId));
    let last: InvitationView | undefined;
    try {
      const view = await eventually(async () => {
        last = await handle.query(stateQuery);
        return check(last) ? last : undefined;
      }, timeoutMs, what);
      return { handle, view };
    } catch (error) {
      throw new Error(`${(error as Error).message}; last state: ${JSON.stringify(last)}`);
    }
  }

  /** One incremental sync cycle of the connection, its co-sell hook included (as the worker runs it). */
  syncOnce(): Promise<SyncCounters> {
    return syncCycle(this.activities, this.connection);
  }

  /** Live Salesforce records of an object, each once as it is now. */
  sfRecords(object: string): Array<Record<string, unknown>> {
    const latest = new Map<string, Record<string, unknown>>();
    for (const v of this.sf.state.org.table(object).changeIndex()) latest.set(String(v.fields.Id), v.fields as Record<string, unknown>);
    return [...latest.values()].filter((r) => !r.IsDeleted);
  }

  /** The Salesforce id of a canonical record, from its link. */
  async sfId(entity: string, canonicalId: string): Promise<string | undefined> {
    const [link] = await hubView(this.store, this.connection.id).links(entity, canonicalId, 'salesforce');
    return link?.externalId;
  }

  /** Calls a sandbox received, by operation (without errors). */
  awsCalls(): Record<string, number> {
    return awsCallsOf(this.aws);
  }

  msCalls(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.ms.counters.snapshot()).filter(([k]) => /^referrals\./.test(k)));
  }

  async close(): Promise<void> {
    await this.worker?.shutdown().catch(() => undefined);
    await closeCoSellSandboxes(this);
  }
}

/** An InboundHub on its own Temporal server for the file's tests. */
export function useInboundHub(ready: (hub: InboundHub) => unknown): void {
  useHub((env, bundle) => InboundHub.start(env, bundle), ready);
}

export { callsBetween } from './support.js';
