import { randomUUID } from 'node:crypto';
import { ClientSecretCredential } from '@azure/identity';
import Fastify, { type FastifyRequest } from 'fastify';
import { CallCounters, FaultInjector, seededRandom, type FaultPlan } from '../../../src/sandbox/index.js';
import type { WebhookEmitter, WebhookFaultPlan } from '../../../src/sandbox/webhook-delivery.js';
import { EntraTokenVerifier } from './auth.js';
import { Catalog, DEFAULT_PRODUCTS, type PlanPrices, type Product, type ProductSeed } from './catalog.js';
import { SandboxClock } from './clock.js';
import { registerControlRoutes } from './control-routes.js';
import { IngestionStore, type Acceptance, type PrivateOffer } from './ingestion.js';
import { registerIngestionRoutes } from './ingestion-routes.js';
import { MeteringStore, type AcceptedUsage } from './metering.js';
import { startNotifications, type MarketplaceNotifications, type MarketplaceWebhookTarget } from './notifications.js';
import { SandboxRefusal } from './refusal.js';
import { SaasStore, type OperationAction, type Purchase, type SaasOperation, type SaasSubscription } from './saas.js';
import { registerSaasRoutes } from './saas-routes.js';
import {
  GRAPH_AUDIENCES, MARKETPLACE_API_AUDIENCES, sendRefusal, sendServerError, sendThrottled, sendUnauthorized, versionRefusal, type ApiFamily,
} from './wire.js';

/**
 * The Microsoft commercial marketplace as a publisher's code sees it, on one plain http server:
 * Product Ingestion (Graph's `/rp/product-ingestion`: private offers through configure jobs),
 * SaaS fulfillment v2 (`/api/saas/subscriptions`) and metering (`/api/usageEvent`,
 * `/api/batchUsageEvent`). It is a resource server of the Entra authority it is given (the
 * Microsoft sandbox): it accepts that authority's tokens for Graph and for the marketplace API
 * and nothing else. `/_sandbox/*` are Microsoft's and the buyer's side: accepting a private
 * offer, starting SaaS operations, moving the clock.
 */
export interface MicrosoftMarketplaceSandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  seed?: number;
  /** The Entra authority host whose tokens are accepted: the Microsoft sandbox's URL. */
  authorityHost: string;
  /** The CA that signed the authority's certificate (the Microsoft sandbox's own CA). */
  authorityCaPem?: string;
  /**
   * The offers' technical configuration: calls from another Entra app are refused (403, or
   * ResourceNotAuthorized for usage), and with the app's secret the webhook calls carry a token
   * for the app. Unset: any app of the authority may call, and webhook calls have no token.
   */
  publisherApp?: { tenantId: string; clientId: string; clientSecret?: string };
  publisherId?: string;
  /** Products and plans at start; default DEFAULT_PRODUCTS. */
  products?: readonly ProductSeed[];
  /** The offers' connection webhook. */
  webhookUrl?: string;
  /** The offers' landing page, opened with `?token=` after a purchase. */
  landingPageUrl?: string;
  /** Sandbox time a configure job takes. Default 5000. */
  jobMs?: number;
  /** Lifetime of a landing-page token. Default 24 h. */
  landingTokenTtlMs?: number;
  /** Time after which an unacknowledged ChangePlan or ChangeQuantity succeeds. Default 10 s. */
  operationAutoAcceptMs?: number;
  /** SaaS subscriptions per list page. Default 100. */
  pageSize?: number;
  faults?: FaultPlan;
  webhookFaults?: WebhookFaultPlan;
  /** First webhook retry delay (doubling). Default 200 ms. */
  webhookRetryBaseMs?: number;
}

export interface MicrosoftMarketplaceState {
  /** The sandbox clock (ms since epoch). */
  now(): number;
  /** Moves the sandbox clock: jobs, token lifetimes, auto-acceptance and the metering window follow it. */
  advanceClock(ms: number): void;
  products(): Product[];
  addProduct(seed: ProductSeed): Product;
  privateOffers(): PrivateOffer[];
  /** By guid or `private-offer/<guid>`, with who accepted it. */
  privateOffer(id: string): PrivateOffer & { acceptances: Acceptance[] };
  /** What the buyer pays per priced plan (decimal strings, USD). */
  offerPrices(id: string): Array<{ product: string; plan: string; planId: string } & PlanPrices>;
  /** A beneficiary accepts a live private offer and buys: a subscription in PendingFulfillmentStart and its landing-page token. */
  acceptPrivateOffer(id: string, input: { beneficiaryId: string; planId?: string; quantity?: number; purchaserEmail?: string }): Purchase & { landingPageUrl?: string };
  subscriptions(): SaasSubscription[];
  /** Microsoft's side (the customer, billing) starts an operation on a subscription. */
  startOperation(subscriptionId: string, action: OperationAction, args?: { planId?: string; quantity?: number }): SaasOperation;
  usageEvents(): AcceptedUsage[];
}

export interface MicrosoftMarketplaceSandbox {
  url: string;
  /** Stands for `https://graph.microsoft.com/rp/product-ingestion`. */
  productIngestionUrl: string;
  /** Stands for `https://marketplaceapi.microsoft.com/api`. */
  marketplaceApiUrl: string;
  authorityHost: string;
  /** Calls per endpoint (`saas.resolve`) and per status and endpoint (`200 saas.resolve`). */
  counters: CallCounters;
  faults: FaultInjector;
  state: MicrosoftMarketplaceState;
  webhooks: WebhookEmitter<MarketplaceWebhookTarget>;
  /** Landing page visits (`visits`, `failed`). */
  landingCounters: CallCounters;
  /** Resolves when every webhook call and landing page visit has finished. */
  notificationsIdle(): Promise<void>;
  close(): Promise<void>;
}

export interface RouteConfig {
  /** Counted and faulted under this name. */
  endpoint: string;
  api: ApiFamily;
  /** The version query parameter the route takes, and the values it serves. */
  version?: { name: '$version' | 'api-version'; values: readonly string[] };
}

export interface RouteContext {
  url(): string;
  catalog: Catalog;
  ingestion: IngestionStore;
  saas: SaasStore;
  metering: MeteringStore;
  state: MicrosoftMarketplaceState;
  pageSize: number;
  /** The app (appid) of the request's verified token. */
  appOf(request: FastifyRequest): string;
}

export async function startMicrosoftMarketplaceSandbox(options: MicrosoftMarketplaceSandboxOptions): Promise<MicrosoftMarketplaceSandbox> {
  const random = seededRandom(options.seed ?? 1);
  const guid = () => {
    const h = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[Math.floor(random() * 4)]}${h.slice(17, 20)}-${h.slice(20)}`;
  };
  const clock = new SandboxClock();
  const counters = new CallCounters();
  const faults = new FaultInjector(options.faults ?? {});
  const catalog = new Catalog(guid, options.publisherId ?? 'ecosyncsandbox');
  for (const seed of options.products ?? DEFAULT_PRODUCTS) catalog.add({ ...seed, appId: seed.appId ?? options.publisherApp?.clientId });
  let url = '';

  const app = options.publisherApp;
  const credential = app?.clientSecret
    ? new ClientSecretCredential(app.tenantId, app.clientId, app.clientSecret, {
      authorityHost: options.authorityHost, disableInstanceDiscovery: true, ...(options.authorityCaPem ? { tlsOptions: { ca: options.authorityCaPem } } : {}),
    })
    : undefined;
  const notifications: MarketplaceNotifications = startNotifications({
    webhookUrl: options.webhookUrl,
    landingPageUrl: options.landingPageUrl,
    bearerToken: credential && (async () => (await credential.getToken(`${app!.clientId}/.default`)).token),
    faults: options.webhookFaults,
    retryBaseMs: options.webhookRetryBaseMs,
  });
  const ingestion = new IngestionStore(catalog, clock, { jobMs: options.jobMs ?? 5_000, guid, baseUrl: () => url });
  const saas = new SaasStore(clock, {
    guid, landingTokenTtlMs: options.landingTokenTtlMs ?? 24 * 3600 * 1000, autoAcceptMs: options.operationAutoAcceptMs ?? 10_000,
    onOperation: (op, subscription) => notifications.operation(op, subscription),
  });
  const metering = new MeteringStore(saas, clock, () => faults.recordFails());
  const verifier = new EntraTokenVerifier({ authorityHost: options.authorityHost, caPem: options.authorityCaPem, now: () => clock.now() });
  const apps = new WeakMap<FastifyRequest, string>();

  const offerGuid = (id: string) => id.replace(/^private-offer\//i, '');
  const state: MicrosoftMarketplaceState = {
    now: () => clock.now(),
    advanceClock(ms) {
      clock.advance(ms);
      ingestion.tick();
      saas.tick();
    },
    products: () => catalog.all(),
    addProduct: (seed) => catalog.add(seed),
    privateOffers: () => ingestion.offers(),
    privateOffer: (id) => ({ ...ingestion.offer(offerGuid(id)), acceptances: ingestion.acceptances(offerGuid(id)) }),
    offerPrices: (id) => ingestion.offerPrices(offerGuid(id)),
    acceptPrivateOffer(id, input) {
      const { offer, product, plan } = ingestion.acceptance(offerGuid(id), input.beneficiaryId, input.planId);
      const beneficiary = offer.beneficiaries!.find((b) => b.id === input.beneficiaryId)!;
      const purchase = saas.purchase({
        product, plan, name: beneficiary.description ? `${offer.name} (${beneficiary.description})` : offer.name,
        beneficiaryTenantId: input.beneficiaryId.split(':')[0], quantity: input.quantity, purchaserEmail: input.purchaserEmail,
      });
      ingestion.recordAcceptance(offerGuid(id), { beneficiaryId: input.beneficiaryId, subscriptionId: purchase.subscription.id, planId: plan.externalId, at: purchase.subscription.created });
      const landingPageUrl = notifications.landingPage(purchase.token);
      return { ...purchase, ...(landingPageUrl ? { landingPageUrl } : {}) };
    },
    subscriptions: () => saas.all(),
    startOperation: (subscriptionId, action, args) => saas.trigger(subscriptionId, action, args),
    usageEvents: () => metering.all(),
  };

  const server = Fastify({ logger: false, forceCloseConnections: true, routerOptions: { ignoreTrailingSlash: true } });
  // Microsoft's clients send `content-type: application/json` on bodiless POSTs (resolve): an empty body is no body.
  server.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(Object.assign(new Error('The request body is not valid JSON.'), { statusCode: 400 }), undefined);
    }
  });

  const configOf = (request: FastifyRequest) => request.routeOptions.config as Partial<RouteConfig>;
  server.addHook('onRequest', async (request, reply) => {
    const config = configOf(request);
    if (!config.endpoint || !config.api) return;
    counters.add(config.endpoint);
    ingestion.tick();
    saas.tick();
    if (config.api === 'control') return;
    const fault = faults.decide(config.endpoint, clock.now());
    if (fault.latencyMs > 0) await new Promise((r) => setTimeout(r, fault.latencyMs));
    if (fault.kind === 'rateLimit') return sendThrottled(reply, config.api, fault.retryAfterMs);
    if (fault.kind === 'serverError') return sendServerError(reply, config.api);
    if (fault.kind === 'timeout') {
      // Never answer: the client gives up. The connection closes on its side or at close().
      await new Promise((resolve) => request.raw.socket.once('close', resolve));
      reply.hijack();
      return reply;
    }
    const check = await verifier.verify(request.headers.authorization, config.api === 'ingestion' ? GRAPH_AUDIENCES : MARKETPLACE_API_AUDIENCES);
    if (!check.ok) return sendUnauthorized(reply, config.api, check);
    apps.set(request, check.appId);
    if (config.version) {
      const refusal = versionRefusal(config.api, config.version.name, (request.query as Record<string, unknown>)[config.version.name], config.version.values);
      if (refusal) return sendRefusal(reply, config.api, refusal);
    }
  });
  server.addHook('onSend', async (request, reply, payload) => {
    const api = configOf(request).api;
    if (api === 'saas' || api === 'metering') {
      reply.header('x-ms-requestid', request.headers['x-ms-requestid'] ?? randomUUID());
      reply.header('x-ms-correlationid', request.headers['x-ms-correlationid'] ?? randomUUID());
    }
    return payload;
  });
  server.addHook('onResponse', async (request, reply) => {
    counters.add(`${reply.statusCode} ${configOf(request).endpoint ?? 'unknown'}`);
  });
  server.setErrorHandler((error, request, reply) => {
    const api = configOf(request).api ?? 'control';
    if (error instanceof SandboxRefusal) return sendRefusal(reply, api, error);
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status < 500) return sendRefusal(reply, api, new SandboxRefusal(status, api === 'ingestion' ? 'badRequest' : 'BadArgument', error instanceof Error ? error.message : String(error)));
    return sendServerError(reply, api);
  });
  server.setNotFoundHandler((request, reply) => {
    const api: ApiFamily = request.url.startsWith('/rp/') ? 'ingestion' : request.url.startsWith('/api/saas') ? 'saas' : request.url.startsWith('/api/') ? 'metering' : 'control';
    return sendRefusal(reply, api === 'metering' ? 'saas' : api, new SandboxRefusal(404, api === 'ingestion' ? 'notFound' : 'NotFound', `No route for ${request.method} ${request.url.split('?')[0]}.`));
  });

  const context: RouteContext = {
    url: () => url, catalog, ingestion, saas, metering, state, pageSize: options.pageSize ?? 100,
    appOf: (request) => apps.get(request) ?? '',
  };
  registerIngestionRoutes(server, context);
  registerSaasRoutes(server, context);
  registerControlRoutes(server, context);

  const host = options.host ?? '127.0.0.1';
  await server.listen({ port: options.port ?? 0, host });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    productIngestionUrl: `${url}/rp/product-ingestion`,
    marketplaceApiUrl: `${url}/api`,
    authorityHost: options.authorityHost,
    counters, faults, state,
    webhooks: notifications.webhooks,
    landingCounters: notifications.landingCounters,
    notificationsIdle: () => notifications.idle(),
    close: async () => {
      notifications.close();
      await server.close();
    },
  };
}
