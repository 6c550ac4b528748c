import { codeOf, MarketplaceUnavailable, messageOf, MicrosoftHttp, type MicrosoftAppConfig } from './http.js';

/**
 * Metering usage of SaaS offers to the Microsoft commercial marketplace. Microsoft publishes no
 * Node SDK for it: `POST {marketplaceApi}/batchUsageEvent?api-version=2018-08-31` with fetch and a
 * bearer token from Microsoft Entra ID through the unmodified @azure/identity. At most 25 events a
 * call, one per SaaS subscription, dimension and hour, within 24 hours; each event is answered
 * with a status of its own. A 429 is waited out for its Retry-After under the one retry policy;
 * a 5xx or a network failure is thrown as a retryable error for Temporal to retry the activity;
 * a refusal of the whole call (400, 401, 403) comes back as a MeteringRefused.
 */

/** The publisher app's credentials and the marketplace API, as a connection stores them under `microsoft-marketplace`. */
export interface MicrosoftMeteringConfig extends MicrosoftAppConfig {
  /** The marketplace API. Default https://marketplaceapi.microsoft.com/api. */
  marketplaceApiUrl?: string;
}

export const MICROSOFT_METERING_BATCH = 25;
/** Microsoft takes usage up to this long after its effective start. */
export const MICROSOFT_LATE_WINDOW_MS = 24 * 3_600_000;
/** The marketplace API's application id: tokens for SaaS fulfillment and metering are asked for it. */
export const MARKETPLACE_SCOPE = '20e940b3-4c77-4b0b-9a53-9e16a1b010a7/.default';
const API_VERSION = '2018-08-31';

/** One subscription's usage of one dimension in one hour. `key` is the caller's, to match the answer. */
export interface MicrosoftUsage {
  key: string;
  /** The SaaS subscription id. */
  resourceId: string;
  planId: string;
  dimension: string;
  quantity: number;
  /** The hour's first instant. */
  effectiveStartTime: Date;
}

export type MicrosoftUsageStatus =
  | 'Accepted' | 'Expired' | 'Duplicate' | 'Error' | 'ResourceNotFound' | 'ResourceNotAuthorized'
  | 'ResourceNotActive' | 'InvalidDimension' | 'InvalidQuantity' | 'BadArgument';

export interface MicrosoftUsageResult {
  key: string;
  status: MicrosoftUsageStatus;
  /** The accepted event's id (a Duplicate's: the original's). */
  usageEventId?: string;
  /** Microsoft's words, when it did not accept the event. */
  message?: string;
}

/** Microsoft refused the call as a whole: sending it again as it is changes nothing. */
export class MeteringRefused extends Error {
  constructor(readonly code: string, message: string, readonly status: number) {
    super(message);
    this.name = 'MeteringRefused';
  }
}

/** Worth sending again later as it is (5xx, network, timeout): the folder's one such error. */
export { MarketplaceUnavailable as MeteringUnavailable };

export class MicrosoftMeteringClient {
  private readonly http: MicrosoftHttp;
  private readonly base: string;

  constructor(config: MicrosoftMeteringConfig) {
    this.http = new MicrosoftHttp(config);
    this.base = (config.marketplaceApiUrl ?? 'https://marketplaceapi.microsoft.com/api').replace(/\/+$/, '');
  }

  /** Sends up to 25 events; one result per event, in their order. */
  async batchUsageEvent(usage: readonly MicrosoftUsage[]): Promise<MicrosoftUsageResult[]> {
    if (usage.length === 0) return [];
    if (usage.length > MICROSOFT_METERING_BATCH) throw new Error(`batchUsageEvent takes at most ${MICROSOFT_METERING_BATCH} events, not ${usage.length}`);
    const body = JSON.stringify({
      request: usage.map((u) => ({ resourceId: u.resourceId, quantity: u.quantity, dimension: u.dimension, effectiveStartTime: u.effectiveStartTime.toISOString(), planId: u.planId })),
    });
    const answer = await this.http.request('POST', `${this.base}/batchUsageEvent?api-version=${API_VERSION}`, MARKETPLACE_SCOPE, body);
    if (answer.status >= 500) throw new MarketplaceUnavailable(`the Microsoft marketplace answered ${answer.status} to batchUsageEvent: ${messageOf(answer.body)}`);
    if (answer.status !== 200) throw new MeteringRefused(codeOf(answer.body, answer.status), `the Microsoft marketplace refused batchUsageEvent (${answer.status}): ${messageOf(answer.body)}`, answer.status);
    const results = (answer.body as { result?: unknown[] } | undefined)?.result;
    if (!Array.isArray(results) || results.length !== usage.length) {
      throw new MarketplaceUnavailable(`the Microsoft marketplace answered batchUsageEvent with ${Array.isArray(results) ? results.length : 'no'} results for ${usage.length} events`);
    }
    return results.map((r, i) => resultOf(usage[i].key, r as Record<string, any>));
  }

  close(): void {
    // Nothing held open: fetch pools its own connections.
  }
}

function resultOf(key: string, r: Record<string, any>): MicrosoftUsageResult {
  const status = String(r.status) as MicrosoftUsageStatus;
  if (status === 'Accepted') return { key, status, usageEventId: String(r.usageEventId) };
  if (status === 'Duplicate') {
    const original = r.error?.additionalInfo?.acceptedMessage?.usageEventId;
    return { key, status, ...(original ? { usageEventId: String(original) } : {}), message: String(r.error?.message ?? 'already metered') };
  }
  return { key, status, message: String(r.error?.message ?? status) };
}
