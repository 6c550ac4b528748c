/**
 * Private offers through the whole pipeline: the offer workflow on a real Temporal dev server,
 * the production activities in this process with a real store, Salesforce, HubSpot and NetSuite
 * sandboxes around each account, the AWS Marketplace sandbox (change sets settled by the next
 * call: its clock at zero) and the Microsoft marketplace sandbox (configure jobs of 200 ms).
 *
 *   ./ecosync bench offers [--count 10] [--store postgres|pglite]
 *
 * Per scenario (AWS direct, AWS CPPO, Microsoft), N opportunities get offers one after another as
 * an alliance manager would: asked for, approved by the deal desk, published, accepted by the
 * buyer (announced: the EventBridge event on AWS, the landing page on Microsoft), booked into the
 * store, the CRM and NetSuite. Measured: marketplace calls per offer by operation against the
 * minimum the flow needs, approval → live and acceptance → NetSuite order latency, history
 * events per offer; and, as the peer, the same publication made by hand with the same client in
 * the same run (AWS: VALIDATE, read, APPLY, read; Microsoft: configure, read status until done),
 * so approval → live is also given as a ratio to it.
 *
 * Prints a table and writes bench/results/offers.json.
 */
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { AwsMarketplaceClient } from '../../connectors/aws-marketplace/client.js';
import { RESELLER_ACCOUNT_ID, SANDBOX_CREDENTIALS } from '../../connectors/aws-marketplace/sandbox/index.js';
import { MicrosoftMarketplaceClient } from '../../connectors/microsoft-marketplace/client.js';
import { awsOfferDocument, directOfferChanges } from '../../src/offers/aws.js';
import { microsoftOfferResource } from '../../src/offers/microsoft.js';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { decideOffer, landMicrosoftPurchase, noticeOffer } from '../../src/service/offer-control.js';
import { mappingCache } from '../../src/runtime/mappings.js';
import type { OfferView } from '../../workflows/offer-types.js';
import { DEAL_DESK, inDays, OfferHub } from '../../test/offers/support.js';
import { startTestTemporal } from '../../test/support/hub.js';
import { countHistory } from '../support/history.js';
import { machine, writeResults } from '../support/results.js';

const { values } = parseArgs({ options: { count: { type: 'string', default: '10' }, store: { type: 'string', default: 'postgres' } } });
const count = Number(values.count);
const store = values.store as 'postgres' | 'pglite';

type Scenario = 'aws-direct' | 'aws-cppo' | 'microsoft';
/** Calls the flow cannot do without, per offer. AWS direct: two sets started (VALIDATE, APPLY), each read once, the agreement read once. CPPO: twice the sets. Microsoft: one job, its status read once, what it made read once, the subscription read and activated. */
const MINIMUM: Record<Scenario, number> = { 'aws-direct': 5, 'aws-cppo': 9, microsoft: 5 };

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length === 0 ? 0 : s[Math.floor((s.length - 1) / 2)]; };
const p95 = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)]; };
const waitFor = async <T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 60_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const env = await startTestTemporal();
const bundle = await bundleWorkflows();
const results: Record<string, unknown> = { machine: machine(), count, store };
try {
  for (const scenario of ['aws-direct', 'aws-cppo', 'microsoft'] as Scenario[]) {
    const offers = await OfferHub.start(env, bundle, { store, microsoft: scenario === 'microsoft', accounts: count });
    try {
      const live: number[] = [];
      const booked: number[] = [];
      const history: number[] = [];
      const calls = () => (scenario === 'microsoft'
        ? offers.microsoft!.counters.sum(/^(ingestion|saas)\.[\w-]+$/)
        : offers.aws.counters.sum(/^(catalog|agreement)\.[A-Za-z]+$/));
      const before = calls();
      const ms = offers.microsoft;
      const product = ms?.state.products()[0];
      const plan = product?.plans.find((p) => p.externalId === 'pro');
      let last: OfferView | undefined;
      for (let i = 0; i < count; i++) {
        const buyer = scenario === 'microsoft' ? `${randomUUID()}:${randomUUID()}` : String(200000000000 + i);
        const sf = offers.opportunity(i, scenario === 'microsoft'
          ? { Ecosync_Offer_Product__c: product!.id, Ecosync_Offer_Plan__c: plan!.id, buyers: buyer }
          : scenario === 'aws-cppo' ? { Ecosync_Offer_Product__c: offers.products.hybrid, buyers: buyer } : { buyers: buyer });
        const asked = await offers.create(sf.id, scenario === 'microsoft'
          ? { cloud: 'azure', dimensions: [{ key: 'pro', price: '4860.00', listPrice: '5400.00', quantity: 1 }] }
          : scenario === 'aws-cppo' ? { resale: { resellerAccountId: RESELLER_ACCOUNT_ID, markupPercent: '10' }, dimensions: [{ key: 'Users', price: '250.00', listPrice: '250.00', quantity: 100 }] } : {});
        if (asked.state?.status !== 'pending_approval') throw new Error(`${scenario} offer ${i} is ${asked.execution} ${asked.state?.status}: ${JSON.stringify(asked.state?.problems)}`);
        const approvedAt = Date.now();
        await decideOffer(offers.control, asked.id, 'approve', { by: DEAL_DESK });
        const state: OfferView = await offers.until(asked.id, (s) => s.status === 'live', 'the offer to go live', 60_000);
        live.push(Date.now() - approvedAt);
        last = state;
        const acceptedAt = Date.now();
        let orderKey: string;
        if (scenario === 'microsoft') {
          const purchase = ms!.state.acceptPrivateOffer(state.cloudIds.offerId!, { beneficiaryId: `${buyer}_2019-05-31` });
          orderKey = purchase.subscription.id;
          await landMicrosoftPurchase(offers.control, offers.connection.name, { id: purchase.subscription.id, planId: purchase.subscription.planId, beneficiaryTenantId: buyer.split(':')[0] });
        } else {
          const choice: { dimensions: Record<string, number> } = scenario === 'aws-cppo' ? { dimensions: { Users: 100 } } : { dimensions: { BasicService: 2, PremiumService: 1 } };
          const agreement = offers.aws.state.accept(state.cloudIds.offerId!, buyer, choice);
          orderKey = agreement.id;
          await noticeOffer(offers.control, offers.connection.name, state.cloudIds.offerId!, { kind: 'agreement', agreementId: agreement.id, offerId: state.cloudIds.offerId! });
        }
        await waitFor(() => offers.hub.ns!.state.all('salesOrder').find((o) => o.body.otherRefNum === orderKey), 'the NetSuite order');
        booked.push(Date.now() - acceptedAt);
        await env.client.workflow.getHandle(asked.id).result();
        history.push((await countHistory(env.client, asked.id)).events);
      }
      const perOffer = (calls() - before) / count;

      // The peer: the same publication made by hand with the same client, in the same run (a CPPO's
      // two sides count as two publications).
      const peer: number[] = [];
      for (let i = 0; i < Math.min(count, 5); i++) {
        const started = Date.now();
        if (scenario === 'microsoft') {
          const client = new MicrosoftMarketplaceClient(offers.microsoftConfig());
          let job = await client.configure([microsoftOfferResource({ ...last!, buyerAccounts: [`${randomUUID()}:${randomUUID()}`] })]);
          while (job.jobStatus !== 'completed') {
            await new Promise((r) => setTimeout(r, 50));
            job = await client.jobStatus(job.jobId);
          }
          client.close();
        } else {
          const client = new AwsMarketplaceClient({ endpoint: offers.aws.url, ...SANDBOX_CREDENTIALS.seller });
          const mapping = await mappingCache().get('mappings/aws-marketplace-offer.yaml');
          for (let side = 0; side < (scenario === 'aws-cppo' ? 2 : 1); side++) {
            const offer = { ...last!, channel: 'direct' as const, buyerAccounts: [String(300000000000 + i * 2 + side)], productId: offers.products.contract, dimensions: [{ key: 'BasicService', price: '15000.00' }], expiresOn: inDays(offers.aws, 30) };
            const changes = directOfferChanges(awsOfferDocument(mapping, offer));
            for (const intent of ['VALIDATE', 'APPLY'] as const) {
              const id = await client.startChangeSet({ changes: changes as never, token: randomUUID(), intent });
              let set = await client.describeChangeSet(id);
              while (set.status === 'PREPARING' || set.status === 'APPLYING') set = await client.describeChangeSet(id);
            }
          }
          client.close();
        }
        peer.push(Date.now() - started);
      }
      const row = {
        callsPerOffer: Number(perOffer.toFixed(2)), minimum: MINIMUM[scenario],
        approvalToLiveMs: { p50: median(live), p95: p95(live) }, acceptanceToOrderMs: { p50: median(booked), p95: p95(booked) },
        historyEvents: { p50: median(history), max: Math.max(...history) },
        peerPublishMs: median(peer), liveOverPeer: Number((median(live) / Math.max(1, median(peer))).toFixed(1)),
      };
      results[scenario] = row;
      console.log(`${scenario.padEnd(11)} calls/offer ${row.callsPerOffer} (minimum ${row.minimum})  approval→live p50 ${row.approvalToLiveMs.p50} ms p95 ${row.approvalToLiveMs.p95} ms (by hand ${row.peerPublishMs} ms: ×${row.liveOverPeer})  acceptance→order p50 ${row.acceptanceToOrderMs.p50} ms p95 ${row.acceptanceToOrderMs.p95} ms  history ${row.historyEvents.p50} events`);
    } finally {
      await offers.close();
    }
  }
  writeResults('bench/results/offers.json', results);
} finally {
  await env.teardown();
}
