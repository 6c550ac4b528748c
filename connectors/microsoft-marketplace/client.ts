import { codeOf, MarketplaceUnavailable, messageOf, MicrosoftHttp, type MicrosoftAppConfig } from './http.js';

/**
 * Private offers and SaaS subscriptions on the Microsoft commercial marketplace. Microsoft
 * publishes no Node SDK for either: plain fetch with a bearer token from Microsoft Entra ID
 * through the unmodified @azure/identity. Private offers are Product Ingestion `configure` jobs
 * (Graph's audience); the buyer's purchase is a SaaS subscription the landing page's token
 * resolves and the publisher activates (the marketplace API's audience). A 429 is waited out for
 * its Retry-After under the one retry policy; a 5xx or a network failure is thrown as
 * MarketplaceUnavailable for Temporal to retry the activity; any other refusal is a
 * MicrosoftRefused with Microsoft's code and words.
 */

/** The publisher app's credentials and endpoints, as a connection stores them under `microsoft-marketplace`. */
export interface MicrosoftMarketplaceConfig extends MicrosoftAppConfig {
  /** Default https://graph.microsoft.com/rp/product-ingestion. */
  productIngestionUrl?: string;
  /** Default https://marketplaceapi.microsoft.com/api. */
  marketplaceApiUrl?: string;
}

export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
export const MARKETPLACE_SCOPE = '20e940b3-4c77-4b0b-9a53-9e16a1b010a7/.default';
export const CONFIGURE_SCHEMA = 'https://schema.mp.microsoft.com/schema/configure/2022-07-01';
export const PRIVATE_OFFER_SCHEMA = 'https://schema.mp.microsoft.com/schema/private-offer/2023-07-15';
const CONFIGURE_VERSION = '2022-07-01';
const RESOURCE_VERSION = '2023-07-15';
const SAAS_VERSION = '2018-08-31';

export interface ConfigureError {
  code: string;
  message: string;
  /** The path in the request (`resources[0].beneficiaries`), when Microsoft names one. */
  target?: string;
  resourceId?: string;
}

export interface ConfigureJob {
  jobId: string;
  jobStatus: 'notStarted' | 'running' | 'completed';
  jobResult: 'pending' | 'succeeded' | 'failed';
  resourceUri?: string;
  errors: ConfigureError[];
}

export interface SaasSubscriptionView {
  id: string;
  offerId: string;
  planId: string;
  quantity?: number;
  status: string;
  beneficiaryTenantId?: string;
  purchaserEmail?: string;
  startDate?: string;
  endDate?: string;
}

/** Microsoft refused the request: sending it again as it is changes nothing. */
export class MicrosoftRefused extends Error {
  constructor(readonly code: string, message: string, readonly status: number, readonly errors: ConfigureError[] = []) {
    super(message);
    this.name = 'MicrosoftRefused';
  }
}


export class MicrosoftMarketplaceClient {
  private readonly http: MicrosoftHttp;
  private readonly ingestion: string;
  private readonly api: string;

  constructor(config: MicrosoftMarketplaceConfig) {
    this.http = new MicrosoftHttp(config);
    this.ingestion = (config.productIngestionUrl ?? 'https://graph.microsoft.com/rp/product-ingestion').replace(/\/+$/, '');
    this.api = (config.marketplaceApiUrl ?? 'https://marketplaceapi.microsoft.com/api').replace(/\/+$/, '');
  }

  /** Posts resources to `configure`: the job that applies them, all or nothing, once it runs. */
  async configure(resources: Record<string, unknown>[]): Promise<ConfigureJob> {
    const answer = await this.call('POST', `${this.ingestion}/configure?$version=${CONFIGURE_VERSION}`, GRAPH_SCOPE, { $schema: CONFIGURE_SCHEMA, resources });
    return jobOf(answer.body);
  }

  async jobStatus(jobId: string): Promise<ConfigureJob> {
    const answer = await this.call('GET', `${this.ingestion}/configure/${encodeURIComponent(jobId)}/status?$version=${CONFIGURE_VERSION}`, GRAPH_SCOPE);
    return jobOf(answer.body);
  }

  /** What a succeeded job made: its resources, the private offer's `id` among them. */
  async jobResources(resourceUri: string): Promise<Record<string, unknown>[]> {
    const answer = await this.call('GET', `${resourceUri}?$version=${RESOURCE_VERSION}`, GRAPH_SCOPE);
    const body = answer.body as { resources?: Record<string, unknown>[] } & Record<string, unknown>;
    return Array.isArray(body.resources) ? body.resources : [body];
  }

  /** The purchase behind a landing page's token (valid 24 h). */
  async resolve(token: string): Promise<SaasSubscriptionView> {
    const answer = await this.call('POST', `${this.api}/saas/subscriptions/resolve?api-version=${SAAS_VERSION}`, MARKETPLACE_SCOPE, undefined, { 'x-ms-marketplace-token': token });
    const body = answer.body as { id: string; subscription?: Record<string, any> };
    return subscriptionOf({ ...body.subscription, id: body.id, offerId: (answer.body as any).offerId, planId: (answer.body as any).planId, quantity: (answer.body as any).quantity });
  }

  async subscription(id: string): Promise<SaasSubscriptionView> {
    const answer = await this.call('GET', `${this.api}/saas/subscriptions/${encodeURIComponent(id)}?api-version=${SAAS_VERSION}`, MARKETPLACE_SCOPE);
    return subscriptionOf(answer.body);
  }

  /** Starts billing: the subscription becomes Subscribed. Activating a Subscribed one again is harmless. */
  async activate(id: string, planId: string, quantity?: number): Promise<void> {
    await this.call('POST', `${this.api}/saas/subscriptions/${encodeURIComponent(id)}/activate?api-version=${SAAS_VERSION}`, MARKETPLACE_SCOPE, { planId, ...(quantity !== undefined ? { quantity } : {}) });
  }

  close(): void {
    // Nothing held open: fetch pools its own connections.
  }

  private async call(method: string, url: string, scope: string, body?: unknown, headers: Record<string, string> = {}) {
    const answer = await this.http.request(method, url, scope, body === undefined ? undefined : JSON.stringify(body), headers);
    if (answer.status >= 500) throw new MarketplaceUnavailable(`the Microsoft marketplace answered ${answer.status} to ${method} ${pathOf(url)}: ${messageOf(answer.body)}`);
    if (answer.status >= 400) {
      throw new MicrosoftRefused(codeOf(answer.body, answer.status), `the Microsoft marketplace refused ${method} ${pathOf(url)} (${answer.status}): ${messageOf(answer.body)}`, answer.status, errorsOf(answer.body));
    }
    return answer;
  }
}

function jobOf(body: any): ConfigureJob {
  return {
    jobId: String(body?.jobId),
    jobStatus: body?.jobStatus,
    jobResult: body?.jobResult,
    ...(body?.resourceUri ? { resourceUri: String(body.resourceUri) } : {}),
    errors: errorsOf(body),
  };
}

function errorsOf(body: any): ConfigureError[] {
  const list = Array.isArray(body?.errors) ? body.errors : Array.isArray(body?.error?.details) ? body.error.details : [];
  return list.map((e: any) => ({ code: String(e.code ?? 'error'), message: String(e.message ?? ''), ...(e.target ? { target: String(e.target) } : {}), ...(e.resourceId ? { resourceId: String(e.resourceId) } : {}) }));
}

function subscriptionOf(s: Record<string, any>): SaasSubscriptionView {
  return {
    id: String(s.id),
    offerId: String(s.offerId),
    planId: String(s.planId),
    ...(typeof s.quantity === 'number' ? { quantity: s.quantity } : {}),
    status: String(s.saasSubscriptionStatus ?? ''),
    ...(s.beneficiary?.tenantId ? { beneficiaryTenantId: String(s.beneficiary.tenantId) } : {}),
    ...(s.purchaser?.emailId ? { purchaserEmail: String(s.purchaser.emailId) } : {}),
    ...(s.term?.startDate ? { startDate: String(s.term.startDate).slice(0, 10) } : {}),
    ...(s.term?.endDate ? { endDate: String(s.term.endDate).slice(0, 10) } : {}),
  };
}

function pathOf(url: string): string {
  return new URL(url).pathname;
}
