import { ClientSecretCredential } from '@azure/identity';
import { callWithRetries, retryAfterMs } from '../shared/retry.js';

/**
 * How ecosync calls the Microsoft commercial marketplace's APIs (Product Ingestion, SaaS
 * fulfillment, metering): Microsoft publishes no Node SDK for them, so plain fetch with a bearer
 * token from Microsoft Entra ID through the unmodified @azure/identity. A 429 is waited out for
 * its Retry-After under the one retry policy (connectors/shared/retry.ts); an unreachable
 * service is a MarketplaceUnavailable; every other answer goes back to the caller, which says
 * what its statuses mean.
 */

/** The publisher app's credentials, as a connection stores them under `microsoft-marketplace`. */
export interface MicrosoftAppConfig {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Entra ID authority host. Default https://login.microsoftonline.com. */
  authorityHost?: string;
  /** An extra CA (PEM text) to trust for Entra ID besides the system's, e.g. the sandbox's. */
  caPem?: string;
}

export interface HttpAnswer {
  status: number;
  retryAfter: string | null;
  body: any;
}

/** Worth sending again later as it is (5xx, network, timeout): Temporal retries the activity. */
export class MarketplaceUnavailable extends Error {
  readonly retryable = true;
  constructor(message: string) {
    super(message);
    this.name = 'MarketplaceUnavailable';
  }
}

const TIMEOUT_MS = 30_000;

export class MicrosoftHttp {
  private readonly credential: ClientSecretCredential;

  constructor(config: MicrosoftAppConfig) {
    this.credential = new ClientSecretCredential(config.tenantId, config.clientId, config.clientSecret, {
      ...(config.authorityHost ? { authorityHost: config.authorityHost, disableInstanceDiscovery: true } : {}),
      ...(config.caPem ? { tlsOptions: { ca: config.caPem } } : {}),
    });
  }

  /** One call, throttling waited out; the answer whatever its status. */
  request(method: string, url: string, scope: string, body?: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    return callWithRetries<HttpAnswer>({
      system: 'microsoft-marketplace',
      maxAttempts: 5,
      maxWaitMs: 10_000,
      backoffMs: 250,
      throttled: (outcome) => {
        if (!('value' in outcome) || outcome.value.status !== 429) return undefined;
        return { reason: '429', waitMs: retryAfterMs(outcome.value.retryAfter), message: 'the Microsoft marketplace throttled the call' };
      },
    }, () => this.send(method, url, scope, body, headers));
  }

  private async send(method: string, url: string, scope: string, body: string | undefined, headers: Record<string, string>): Promise<HttpAnswer> {
    const { token } = await this.credential.getToken(scope);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new MarketplaceUnavailable(`the Microsoft marketplace was not reached: ${(error as Error).message}`);
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (a proxy's page): kept as text for the message.
    }
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body: parsed };
  }
}

/** Microsoft's words in an error body (`{error: {message}}` or `{message}`), or the text itself. */
export function messageOf(body: unknown): string {
  if (typeof body === 'string') return body.slice(0, 300);
  const b = body as { message?: unknown; error?: { message?: unknown } } | undefined;
  return String(b?.error?.message ?? b?.message ?? JSON.stringify(body ?? '')).slice(0, 300);
}

/** Microsoft's code in an error body, else the HTTP status. */
export function codeOf(body: unknown, status: number): string {
  const b = body as { code?: unknown; error?: { code?: unknown } } | undefined;
  return String(b?.error?.code ?? b?.code ?? status);
}
