import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClientSecretCredential } from '@azure/identity';
import { startMicrosoftMarketplaceSandbox, type MicrosoftMarketplaceSandbox, type MicrosoftMarketplaceSandboxOptions } from '../sandbox/index.js';
import { isoDay } from '../sandbox/clock.js';
import { CONFIGURE_SCHEMA, PLAN_PRICE_SCHEMA, PRIVATE_OFFER_SCHEMA } from '../sandbox/ingestion-schema.js';

/**
 * What the marketplace tests need of the Microsoft sandbox's Entra ID (started by each test
 * file: this helper may not import another connector).
 */
export interface EntraAuthority {
  url: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  caPem: string;
  state: { advanceClock(ms: number): void };
}

export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
export const MARKETPLACE_SCOPE = '20e940b3-4c77-4b0b-9a53-9e16a1b010a7/.default';
export const JOB_MS = 1_000;
/** A customer's billing account, as private offers name beneficiaries. */
export const BENEFICIARY = 'a1b2c3d4-1111-4222-8333-444455556666:7471d04e-f696-4d20-af34-fa78d51e419c_2019-05-31';
export const OTHER_BENEFICIARY = 'b1b2c3d4-1111-4222-8333-444455556666:8471d04e-f696-4d20-af34-fa78d51e419c_2019-05-31';

/** A token from the unmodified @azure/identity; a fresh credential each time, so no cached token outlives a clock move. */
export async function tokenFor(entra: EntraAuthority, scope: string): Promise<string> {
  const credential = new ClientSecretCredential(entra.tenantId, entra.clientId, entra.clientSecret, {
    authorityHost: entra.url, disableInstanceDiscovery: true, tlsOptions: { ca: entra.caPem },
  });
  return (await credential.getToken(scope)).token;
}

export function startMarketplace(entra: EntraAuthority, options: Partial<MicrosoftMarketplaceSandboxOptions> = {}): Promise<MicrosoftMarketplaceSandbox> {
  return startMicrosoftMarketplaceSandbox({
    authorityHost: entra.url, authorityCaPem: entra.caPem, jobMs: JOB_MS,
    publisherApp: { tenantId: entra.tenantId, clientId: entra.clientId, clientSecret: entra.clientSecret },
    webhookRetryBaseMs: 5,
    ...options,
  });
}

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

/** Plain fetch, as ecosync's client calls these APIs; JSON bodies parsed, others as text. */
export async function call(url: string, init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
  });
  const text = await response.text();
  let body: unknown = text;
  if (text && (response.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
  return { status: response.status, headers: response.headers, body };
}

/** The APIs of one marketplace sandbox with tokens from one authority, cached per scope until `forgetTokens`. */
export class Marketplace {
  private tokens = new Map<string, Promise<string>>();

  constructor(readonly sb: MicrosoftMarketplaceSandbox, readonly entra: EntraAuthority) {}

  token(scope: string): Promise<string> {
    let t = this.tokens.get(scope);
    if (!t) this.tokens.set(scope, t = tokenFor(this.entra, scope));
    return t;
  }

  forgetTokens(): void {
    this.tokens.clear();
  }

  /** Moves both clocks, so tokens the authority issues next are valid at the marketplace's time. */
  advance(ms: number): void {
    this.sb.state.advanceClock(ms);
    this.entra.state.advanceClock(ms);
    this.forgetTokens();
  }

  async ingestion(method: string, path: string, body?: unknown): Promise<Answer> {
    return call(`${this.sb.productIngestionUrl}${path}`, { method, body, token: await this.token(GRAPH_SCOPE) });
  }

  async api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer> {
    return call(`${this.sb.marketplaceApiUrl}${path}`, { method, body, headers, token: await this.token(MARKETPLACE_SCOPE) });
  }

  async configure(resources: unknown[]): Promise<Answer> {
    return this.ingestion('POST', '/configure?$version=2022-07-01', { $schema: CONFIGURE_SCHEMA, resources });
  }

  /** Configures and lets the job run to its end; the final job status. */
  async configured(resources: unknown[]): Promise<any> {
    const posted = await this.configure(resources);
    if (posted.status !== 202) throw new Error(`configure answered ${posted.status}: ${JSON.stringify(posted.body)}`);
    this.sb.state.advanceClock(JOB_MS);
    return (await this.ingestion('GET', `/configure/${posted.body.jobId}/status?$version=2022-07-01`)).body;
  }

  /** A live private offer (the job's offer), made through the API. */
  async liveOffer(overrides: Record<string, unknown> = {}): Promise<any> {
    const status = await this.configured([privateOffer(this.sb, overrides)]);
    if (status.jobResult !== 'succeeded') throw new Error(`the offer's job failed: ${JSON.stringify(status.errors)}`);
    return (await call(`${status.resourceUri}?$version=2023-07-15`, { token: await this.token(GRAPH_SCOPE) })).body;
  }

  /** A beneficiary accepts the offer and the publisher activates it: a Subscribed SaaS subscription. */
  async subscribed(overrides: Record<string, unknown> = {}, beneficiaryId = BENEFICIARY): Promise<any> {
    const offer = await this.liveOffer({ beneficiaries: [{ id: beneficiaryId }], ...overrides });
    const purchase = this.sb.state.acceptPrivateOffer(offer.id, { beneficiaryId });
    const { subscription } = purchase;
    const activated = await this.api('POST', `/saas/subscriptions/${subscription.id}/activate?api-version=2018-08-31`, { planId: subscription.planId, quantity: subscription.quantity });
    if (activated.status !== 200) throw new Error(`activate answered ${activated.status}: ${JSON.stringify(activated.body)}`);
    return this.sb.state.subscriptions().find((s) => s.id === subscription.id);
  }
}

export function day(offsetDays: number, fromMs = Date.now()): string {
  return isoDay(fromMs + offsetDays * 24 * 3600 * 1000);
}

/** A live customer private offer: 10 % off the first product's `pro` plan, for BENEFICIARY. */
export function privateOffer(sb: MicrosoftMarketplaceSandbox, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const product = sb.state.products()[0];
  const plan = product.plans.find((p) => p.externalId === 'pro')!;
  const now = sb.state.now();
  return {
    $schema: PRIVATE_OFFER_SCHEMA,
    name: 'Contoso analytics 2025',
    state: 'live',
    privateOfferType: 'customerPromotion',
    offerPricingType: 'editExistingOfferPricingOnly',
    variableStartDate: true,
    end: day(365, now),
    acceptBy: day(30, now),
    preparedBy: 'alliances@ecosync.example.com',
    notificationContacts: ['alliances@ecosync.example.com'],
    beneficiaries: [{ id: BENEFICIARY, description: 'Contoso' }],
    pricing: [{ product: product.id, plan: plan.id, discountType: 'percentage', discountPercentage: 10 }],
    ...overrides,
  };
}

export function planPrice(resourceName: string, product: string, plan: string, monthlyUsd: number, meters: Record<string, number> = {}): Record<string, unknown> {
  return {
    $schema: PLAN_PRICE_SCHEMA,
    resourceName,
    product,
    plan,
    offerPricingType: 'editExistingOfferPricingOnly',
    pricing: {
      recurrentPrice: { priceInputOption: 'usd', prices: [{ pricePerPaymentInUsd: monthlyUsd, billingTerm: { type: 'month', value: 1 } }] },
      ...(Object.keys(meters).length > 0
        ? { customMeters: { priceInputOption: 'usd', meters: Object.fromEntries(Object.entries(meters).map(([k, v]) => [k, { pricePerPaymentInUsd: v }])) } }
        : {}),
    },
  };
}

export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The publisher's side: an http server that records what Microsoft sends it (webhook calls, landing page visits). */
export async function startReceiver(status = 200): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
