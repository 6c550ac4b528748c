/**
 * The headline co-sell flow, end to end with the production wiring: an alliance manager picks a
 * cloud on an opportunity in Salesforce or HubSpot; the connection's sync (its workflow, on a real
 * Temporal server) tells co-sell control, which starts the co-sell workflow; approvers decide
 * through co-sell control; the cloud sandbox reviews; both CRMs show the outcome through the
 * sync layer, and the next sync has nothing to write. The worker runs the activities `ecosync up`
 * runs (src/runtime/activities.ts), not a test double.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPartnerCentralSandbox, type PartnerCentralSandbox } from '../../connectors/aws-partner-central/sandbox/index.js';
import { startHubSpotSandbox, type HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.js';
import { startMicrosoftSandbox, type MicrosoftSandbox } from '../../connectors/microsoft-partner-center/index.js';
import { startSalesforceSandbox, type SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.js';
import { createActivities } from '../../src/runtime/activities.js';
import { defaultCoSellSettings, type CoSellSettings } from '../../src/runtime/config.js';
import { SALESFORCE_HUBSPOT, cloudSandboxCredentials, sandboxCredentials } from '../../src/runtime/demo.js';
import { hubView } from '../support/hub-view.js';
import { bundleWorkflows, startWorker, type RunningWorker } from '../../src/runtime/worker.js';
import { coSellStatus, decideCoSell, type CoSellControl } from '../../src/service/cosell-control.js';
import { newRequest, runSyncAndWait } from '../../src/service/sync-control.js';
import type { Connection } from '../../src/store/index.js';
import type { CoSellView } from '../../workflows/cosell-types.js';
import { openTestStore, type TestStore } from '../store/stores.js';
import { eventually, startTestTemporal } from '../support/temporal.js';
import { HUBSPOT_WRITES, SALESFORCE_WRITES } from '../sync/crm-rig.js';

const DEAL_DESK = 'dana@example.com';
const ALLIANCE_LEAD = 'lee@example.com';
const REQUESTER = 'alex@example.com';
const MICROSOFT_SOLUTION = 'SOL-12345-ECO';

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

describe('a co-sell marked in the CRM, through sync, approvals and the cloud review, back to both CRMs', () => {
  let env: TestWorkflowEnvironment;
  let db: TestStore;
  let sf: SalesforceSandbox;
  let hs: HubSpotSandbox;
  let aws: PartnerCentralSandbox;
  let ms: MicrosoftSandbox;
  let worker: RunningWorker;
  let connection: Connection;
  let control: CoSellControl;
  const taskQueue = `crm-marked-${randomUUID()}`;

  beforeAll(async () => {
    let bundle: Awaited<ReturnType<typeof bundleWorkflows>>;
    [env, bundle, db, sf, hs, aws, ms] = await Promise.all([
      startTestTemporal(),
      bundleWorkflows(),
      openTestStore('postgres'),
      startSalesforceSandbox({ accounts: 0 }),
      startHubSpotSandbox({ companies: 0 }),
      // AWS's own write and read limits apply: the client paces itself as it does in production.
      startPartnerCentralSandbox({ reviewDelayMs: 0 }),
      startMicrosoftSandbox({ dataDir: mkdtempSync(path.join(tmpdir(), 'ecosync-ms-')), decisionDelayMs: 0, incoming: 0 }),
    ]);
    connection = await db.store.connections.create({
      name: `crm-marked-${randomUUID().slice(0, 8)}`,
      ...SALESFORCE_HUBSPOT,
      deletePolicy: 'propagate',
      credentials: { ...sandboxCredentials(sf, hs), ...cloudSandboxCredentials(aws, ms) },
    });
    // The shipped settings (demo policy and people, requester, AWS solution), with this connection,
    // a Microsoft solution to co-sell and a short first poll of the review.
    const defaults = defaultCoSellSettings();
    const settings: CoSellSettings = { ...defaults, connection: connection.name, azure: { ...defaults.azure, solutionIds: [MICROSOFT_SOLUTION] }, pollSeconds: 1 };
    control = { client: env.client, taskQueue, store: db.store, settings };
    worker = await startWorker({
      address: env.address, namespace: env.namespace ?? 'default', taskQueue, workflowBundle: bundle,
      activities: createActivities({ store: db.store, client: env.client, taskQueue, log: pino({ level: 'silent' }), cosell: settings }),
    });
  }, 180_000);

  afterAll(async () => {
    await worker?.shutdown().catch(() => undefined);
    await Promise.all([sf?.close(), hs?.close(), aws?.close(), ms?.close()]);
    await db?.close();
    await env?.teardown();
  });

  /** One cycle of the connection's workflow, as the schedule, the API or `ecosync sync` asks for it. */
  async function sync() {
    const run = await runSyncAndWait({ client: env.client, taskQueue }, connection, newRequest('manual'));
    expect(run.status, run.error).toBe('succeeded');
    return run;
  }

  const crmWrites = () => sf.counters.sum(SALESFORCE_WRITES) + hs.counters.sum(HUBSPOT_WRITES);

  async function canonicalId(system: string, object: string, id: string): Promise<string> {
    const link = await hubView(db.store, connection.id).link(system, object, id);
    expect(link, `${system} ${object} ${id} is linked`).toBeDefined();
    return link!.canonicalId;
  }

  async function twinOf(canonical: string, system: string): Promise<string> {
    const [link] = await hubView(db.store, connection.id).links('Opportunity', canonical, system);
    return link.externalId;
  }

  /** The co-sell's state once `check` holds, through co-sell control (what the API and CLI show). */
  async function coSellWhen(id: string, check: (state: CoSellView) => boolean, what: string, timeoutMs = 60_000): Promise<CoSellView> {
    let last: unknown;
    try {
      return await eventually(async () => {
        const answer = await coSellStatus(control, id);
        last = answer.state;
        const state = answer.state as CoSellView | undefined;
        return state && check(state) ? state : undefined;
      }, timeoutMs, what);
    } catch (error) {
      throw new Error(`${(error as Error).message}; last state: ${JSON.stringify(last)}`);
    }
  }

  /** Waits for both CRMs to show the co-sell approved, then checks the cloud and its id there. */
  async function expectApprovedInBothCrms(at: { sfId: string; hsId: string; sfCloud: string; hsCloud: string; cloudId: string }, what: string) {
    await eventually(async () => {
      const sfNow = sf.state.get('Opportunity', at.sfId)!;
      const hsNow = hs.state.get('deals', at.hsId)!.properties;
      return sfNow.Ecosync_CoSell_Status__c === 'Approved' && hsNow.ecosync_cosell_status === 'approved';
    }, 30_000, what);
    expect(sf.state.get('Opportunity', at.sfId)).toMatchObject({ Ecosync_CoSell_Cloud__c: at.sfCloud, Ecosync_Cloud_Opportunity_Id__c: at.cloudId });
    expect(hs.state.get('deals', at.hsId)!.properties).toMatchObject({ ecosync_cosell_cloud: at.hsCloud, ecosync_cloud_opportunity_id: at.cloudId });
  }

  /** The next sync changes nothing and writes nothing: ecosync's own write-backs are not edits. */
  async function expectQuietSync() {
    const before = crmWrites();
    const quiet = await sync();
    expect(quiet.counters).toMatchObject({ created: 0, updated: 0, failed: 0 });
    expect(crmWrites() - before).toBe(0);
  }

  /** A customer as an account executive enters it in Salesforce: account, contact, open opportunity. */
  function salesforceCustomer(amount: number): string {
    const tag = randomUUID().slice(0, 6);
    const account = sf.state.insert('Account', {
      Name: `Northwind ${tag}`, Website: `https://www.northwind-${tag}.example.com`, Industry: 'Retail',
      BillingStreet: '500 Pine Street', BillingCity: 'Seattle', BillingState: 'WA', BillingPostalCode: '98101', BillingCountryCode: 'US',
    });
    sf.state.insert('Contact', { FirstName: 'Grace', LastName: 'Hopper', Email: `grace@northwind-${tag}.example.com`, Title: 'CTO', AccountId: account.Id });
    const opportunity = sf.state.insert('Opportunity', {
      Name: `Northwind ${tag} - Analytics`, StageName: 'Qualification', CloseDate: inDays(90), Amount: amount, CurrencyIsoCode: 'USD',
      Type: 'New Customer', AccountId: account.Id,
      Description: 'Store managers get sales reports a day late; they want figures within minutes to plan staffing.',
    });
    return String(opportunity.Id);
  }

  it('A: AWS picked in Salesforce → sync → approvals → AWS approves → both CRMs show it → the next sync writes nothing', async () => {
    const sfId = salesforceCustomer(250_000);
    await sync();
    const id = await canonicalId('salesforce', 'Opportunity', sfId);
    const hsId = await twinOf(id, 'hubspot');

    // The alliance manager picks AWS on the opportunity in Salesforce.
    sf.state.update('Opportunity', sfId, { Ecosync_CoSell_Cloud__c: 'AWS' });
    await sync();

    const pending = await coSellWhen(`aws:${id}`, (s) => s.status === 'pending_approval', 'the co-sell to wait for the deal desk');
    expect(pending).toMatchObject({ opportunityId: id, cloud: 'aws', requestedBy: REQUESTER, currentStage: 'deal_desk', pendingApprovers: [DEAL_DESK] });
    expect((await coSellStatus(control, `aws:${id}`)).id).toBe(`cosell:aws:${id}`);
    // Both CRMs show that approvers are deciding.
    await eventually(async () => sf.state.get('Opportunity', sfId)?.Ecosync_CoSell_Status__c === 'Pending Approval', 30_000, 'Salesforce to show Pending Approval');

    // The alliance lead cannot decide before the deal desk; then each approves their stage.
    await expect(decideCoSell(control, `aws:${id}`, 'approve', { by: ALLIANCE_LEAD })).rejects.toThrow(/deal_desk/);
    const afterDesk = await decideCoSell(control, `aws:${id}`, 'approve', { by: DEAL_DESK });
    expect(afterDesk.state).toMatchObject({ status: 'pending_approval', currentStage: 'alliance_lead', pendingApprovers: [ALLIANCE_LEAD] });
    await decideCoSell(control, `aws:${id}`, 'approve', { by: ALLIANCE_LEAD });

    const approved = await coSellWhen(`aws:${id}`, (s) => s.status === 'approved' && s.phase === 'done', 'AWS to approve the co-sell');
    const awsId = approved.externalId!;
    expect(awsId).toMatch(/^O\d+$/);
    const inAws = aws.state.list('Sandbox').find((o) => o.Id === awsId)!;
    expect(inAws).toMatchObject({ PartnerOpportunityIdentifier: sfId, LifeCycle: { ReviewStatus: 'Approved' }, Project: { ExpectedCustomerSpend: [{ Amount: '20833.33', CurrencyCode: 'USD' }] } });

    await expectApprovedInBothCrms({ sfId, hsId, sfCloud: 'AWS', hsCloud: 'aws', cloudId: awsId }, 'both CRMs to show the approval');
    await expectQuietSync();
  }, 240_000);

  it('B: Microsoft picked in HubSpot → sync → deal desk approves → Microsoft accepts → both CRMs show the referral', async () => {
    const tag = randomUUID().slice(0, 6);
    const company = hs.state.create('companies', {
      name: `Contoso ${tag}`, domain: `contoso-${tag}.example.com`, website: `https://www.contoso-${tag}.example.com`, industry: 'Healthcare',
      address: '1 Main Street', city: 'Austin', state: 'TX', zip: '73301', country: 'US',
    });
    const contact = hs.state.create('contacts', { firstname: 'Katherine', lastname: 'Johnson', email: `katherine@contoso-${tag}.example.com`, associatedcompanyid: company.id });
    hs.state.associate('contacts', contact.id, 'companies', company.id);
    const deal = hs.state.create('deals', {
      dealname: `Contoso ${tag} – Patient portal`, amount: '80000', deal_currency_code: 'USD', dealstage: 'qualifiedtobuy', pipeline: 'default',
      closedate: `${inDays(120)}T00:00:00.000Z`, dealtype: 'newbusiness',
      description: 'Clinics lose appointment requests sent by email; the customer wants a patient portal on Azure.',
    });
    hs.state.associate('deals', deal.id, 'companies', company.id);
    await sync();
    const id = await canonicalId('hubspot', 'deals', deal.id);
    const sfId = await twinOf(id, 'salesforce');

    hs.state.update('deals', deal.id, { ecosync_cosell_cloud: 'microsoft' });
    await sync();

    // Under 100,000 USD: the deal desk alone decides.
    const pending = await coSellWhen(`azure:${id}`, (s) => s.status === 'pending_approval', 'the co-sell to wait for the deal desk');
    expect(pending).toMatchObject({ cloud: 'azure', requestedBy: REQUESTER, pendingApprovers: [DEAL_DESK] });
    await decideCoSell(control, `azure:${id}`, 'approve', { by: DEAL_DESK });

    const approved = await coSellWhen(`azure:${id}`, (s) => s.status === 'approved' && s.phase === 'done', 'Microsoft to accept the referral');
    const referralId = approved.externalId!;
    expect(ms.state.referral(referralId).referral).toMatchObject({ status: 'Active', details: { dealValue: 80000, requirements: { solutions: [{ id: MICROSOFT_SOLUTION }] } } });

    await expectApprovedInBothCrms({ sfId, hsId: deal.id, sfCloud: 'Microsoft', hsCloud: 'microsoft', cloudId: referralId }, 'both CRMs to show the acceptance');
    await expectQuietSync();
  }, 240_000);

  it('C: an amount edited in Salesforce while AWS reviews waits in the co-sell and reaches AWS when the review ends', async () => {
    // AWS holds its review until the test ends it.
    aws.state.reviewDelayMs = 3_600_000;
    try {
      const sfId = salesforceCustomer(60_000);
      await sync();
      const id = await canonicalId('salesforce', 'Opportunity', sfId);
      sf.state.update('Opportunity', sfId, { Ecosync_CoSell_Cloud__c: 'AWS' });
      await sync();
      await coSellWhen(`aws:${id}`, (s) => s.status === 'pending_approval', 'the co-sell to wait for the deal desk');
      await decideCoSell(control, `aws:${id}`, 'approve', { by: DEAL_DESK });
      const reviewing = await coSellWhen(`aws:${id}`, (s) => s.phase === 'review', 'the co-sell to reach AWS\'s review');
      const awsId = reviewing.externalId!;
      const spend = () => aws.state.list('Sandbox').find((o) => o.Id === awsId)?.Project?.ExpectedCustomerSpend?.[0]?.Amount;
      expect(spend()).toBe('5000.00');

      sf.state.update('Opportunity', sfId, { Amount: 90_000 });
      await sync();
      const queued = await coSellWhen(`aws:${id}`, (s) => s.queuedEdits === 1, 'the edit to be queued while AWS reviews');
      expect(queued).toMatchObject({ phase: 'review', sentEdits: 0 });
      expect(spend()).toBe('5000.00');

      aws.state.finishReview(awsId, undefined, 'Sandbox');
      const done = await coSellWhen(`aws:${id}`, (s) => s.phase === 'done', 'the queued edit to reach AWS after the review', 120_000);
      expect(done).toMatchObject({ status: 'approved', queuedEdits: 0, sentEdits: 1 });
      expect(spend()).toBe('7500.00');
    } finally {
      aws.state.reviewDelayMs = 0;
    }
  }, 300_000);
});
