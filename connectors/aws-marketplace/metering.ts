import { BatchMeterUsageCommand, MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import { callWithRetries } from '../shared/retry.js';

/**
 * Metering usage of SaaS products to AWS Marketplace on the official SDK: BatchMeterUsage takes at
 * most 25 records of one product a call, each naming its customer by CustomerAWSAccountId, one
 * record per customer, dimension and hour, up to six hours late. A ThrottlingException is waited
 * out under the one retry policy (connectors/shared/retry.ts); a refusal of the whole call comes
 * back as a MeteringRefused with AWS's code; anything else (a 5xx, the network) is thrown as is
 * for Temporal to retry the activity.
 */

/** The seller's credentials and endpoint, as a connection stores them under `aws-marketplace`. */
export interface AwsMeteringConfig {
  region?: string;
  /** The sandbox's URL in tests and demos; AWS's endpoint when absent. */
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** Attempts per call while AWS throttles it. Default 6. */
  maxAttempts?: number;
}

/** At most this many records a call. */
export const AWS_METERING_BATCH = 25;
/** AWS takes usage up to this long after its timestamp. */
export const AWS_LATE_WINDOW_MS = 6 * 3_600_000;

/** One customer's usage of one dimension in one hour. `key` is the caller's, to match the answer. */
export interface AwsUsage {
  key: string;
  /** The buyer's 12-digit AWS account id. */
  customerAccountId: string;
  dimension: string;
  /** Whole units (AWS takes integers). */
  quantity: number;
  /** The hour's first instant. */
  timestamp: Date;
}

export interface AwsUsageResult {
  key: string;
  status: 'Success' | 'CustomerNotSubscribed' | 'DuplicateRecord';
  meteringRecordId?: string;
}

export interface AwsMeteringAnswer {
  results: AwsUsageResult[];
  /** Records AWS did not get to: send them again. */
  unprocessed: string[];
}

/** AWS refused the call as a whole (TimestampOutOfBounds, InvalidUsageDimension…): sending it again as it is changes nothing. */
export class MeteringRefused extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'MeteringRefused';
  }
}

/** Refusals of the whole call, by the SDK's error names. */
const REFUSALS = new Set([
  'TimestampOutOfBoundsException', 'InvalidProductCodeException', 'InvalidUsageDimensionException', 'InvalidCustomerIdentifierException',
  'InvalidUsageAllocationsException', 'InvalidTagException', 'DisabledApiException', 'ValidationException', 'InvalidEndpointRegionException',
  'AccessDeniedException', 'UnrecognizedClientException',
]);

export class AwsMeteringClient {
  private readonly client: MarketplaceMeteringClient;
  private readonly maxAttempts: number;

  constructor(config: AwsMeteringConfig) {
    this.maxAttempts = config.maxAttempts ?? 6;
    this.client = new MarketplaceMeteringClient({
      region: config.region ?? 'us-east-1',
      // One attempt per send: throttling is waited out below, anything else is Temporal's to retry.
      maxAttempts: 1,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      ...(config.accessKeyId && config.secretAccessKey
        ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey, ...(config.sessionToken ? { sessionToken: config.sessionToken } : {}) } }
        : {}),
    });
  }

  /** Meters up to 25 records of one product. */
  async batchMeterUsage(productCode: string, usage: readonly AwsUsage[]): Promise<AwsMeteringAnswer> {
    if (usage.length === 0) return { results: [], unprocessed: [] };
    if (usage.length > AWS_METERING_BATCH) throw new Error(`BatchMeterUsage takes at most ${AWS_METERING_BATCH} records, not ${usage.length}`);
    const byRecord = new Map(usage.map((u) => [recordKey(u.customerAccountId, u.dimension, u.timestamp), u.key]));
    const out = await this.call(() => this.client.send(new BatchMeterUsageCommand({
      ProductCode: productCode,
      UsageRecords: usage.map((u) => ({ Timestamp: u.timestamp, CustomerAWSAccountId: u.customerAccountId, Dimension: u.dimension, Quantity: u.quantity })),
    })));
    const keyOf = (r: { CustomerAWSAccountId?: string; Dimension?: string; Timestamp?: Date } | undefined) => {
      const key = r && byRecord.get(recordKey(r.CustomerAWSAccountId ?? '', r.Dimension ?? '', r.Timestamp ?? new Date(0)));
      if (key === undefined) throw new Error(`AWS answered about a record that was not sent: ${JSON.stringify(r)}`);
      return key;
    };
    return {
      results: (out.Results ?? []).map((r) => ({
        key: keyOf(r.UsageRecord),
        status: r.Status as AwsUsageResult['status'],
        ...(r.MeteringRecordId ? { meteringRecordId: r.MeteringRecordId } : {}),
      })),
      unprocessed: (out.UnprocessedRecords ?? []).map(keyOf),
    };
  }

  close(): void {
    this.client.destroy();
  }

  private async call<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await callWithRetries<T>({
        system: 'aws-marketplace',
        maxAttempts: this.maxAttempts,
        maxWaitMs: 10_000,
        backoffMs: 500,
        throttled: (outcome) => {
          if (!('error' in outcome) || (outcome.error as { name?: string })?.name !== 'ThrottlingException') return undefined;
          return { reason: 'ThrottlingException', message: `AWS Marketplace Metering throttled the call: ${(outcome.error as Error).message}` };
        },
      }, send);
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      if (REFUSALS.has(name)) throw new MeteringRefused(name.replace(/Exception$/, ''), (error as Error).message);
      throw error;
    }
  }
}

/** The same record as AWS echoes it: customer, dimension and the timestamp to the second. */
function recordKey(customer: string, dimension: string, timestamp: Date): string {
  return `${customer}\u0000${dimension}\u0000${Math.floor(timestamp.getTime() / 1000)}`;
}
