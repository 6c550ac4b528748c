import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import type { HubSpotSandboxOptions } from '../../connectors/hubspot/sandbox/index.js';
import type { SalesforceSandboxOptions } from '../../connectors/salesforce/sandbox/index.js';
import { buildApi } from '../../src/api/server.js';
import { webhooksPlugin, type WebhookReceipt } from '../../src/api/webhooks/index.js';
import type { bundleWorkflows } from '../../src/runtime/worker.js';
import type { Connection } from '../../src/store/index.js';
import type { StoreKind } from '../store/stores.js';
import { crmCredentials, TestHub } from '../support/hub.js';

export const HUBSPOT_CLIENT_SECRET = 'hubspot-app-client-secret-for-tests';
export const SALESFORCE_WEBHOOK_SECRET = 'salesforce-webhook-secret-for-tests';

/** The test hub plus the API with the webhook routes, and a connection whose credentials hold both webhook secrets. */
export interface WebhookHub {
  hub: TestHub;
  api: FastifyInstance;
  apiUrl: string;
  connection: Connection;
  /** Every webhook the API accepted, in order. */
  receipts: WebhookReceipt[];
  hubspotUrl: string;
  salesforceUrl: string;
  /** Points both sandboxes' webhooks at the API. */
  emitWebhooks(): void;
  close(): Promise<void>;
}

export async function startWebhookHub(
  env: TestWorkflowEnvironment,
  bundle: Awaited<ReturnType<typeof bundleWorkflows>>,
  options: { sf?: SalesforceSandboxOptions; hs?: HubSpotSandboxOptions; store?: StoreKind; secrets?: boolean } = {},
): Promise<WebhookHub> {
  // PostgreSQL by default: a fresh schema opens in milliseconds, an in-memory PGlite in seconds.
  const hub = await TestHub.start(env, bundle, { store: options.store ?? 'postgres', sf: options.sf, hs: options.hs });
  const receipts: WebhookReceipt[] = [];
  let api: FastifyInstance | undefined;
  try {
    const base = crmCredentials(hub.sf, hub.hs);
    const secrets = options.secrets ?? true;
    const connection = await hub.connect({
      credentials: secrets
        ? { salesforce: { ...base.salesforce, webhookSecret: SALESFORCE_WEBHOOK_SECRET }, hubspot: { ...base.hubspot, clientSecret: HUBSPOT_CLIENT_SECRET } }
        : base,
    });
    api = await buildApi({
      log: pino({ level: 'silent' }),
      health: async () => ({}),
      plugins: [webhooksPlugin({ store: hub.store, sync: { client: env.client, taskQueue: hub.taskQueue }, onAccepted: (r) => receipts.push(r) })],
    });
    await api.listen({ host: '127.0.0.1', port: 0 });
    const address = api.server.address();
    const apiUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const hubspotUrl = `${apiUrl}/webhooks/hubspot/${connection.name}`;
    const salesforceUrl = `${apiUrl}/webhooks/salesforce/${connection.name}`;
    const started = api;
    return {
      hub, api, apiUrl, connection, receipts, hubspotUrl, salesforceUrl,
      emitWebhooks() {
        hub.hs.webhooks.configure({ targetUrl: hubspotUrl, clientSecret: HUBSPOT_CLIENT_SECRET });
        hub.sf.webhooks.configure({ targetUrl: salesforceUrl, secret: SALESFORCE_WEBHOOK_SECRET });
      },
      async close() {
        hub.hs.webhooks.configure(undefined);
        hub.sf.webhooks.configure(undefined);
        await started.close();
        await hub.close();
      },
    };
  } catch (error) {
    await api?.close();
    await hub.close();
    throw error;
  }
}
