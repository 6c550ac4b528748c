import type { FaultInjector } from '../../../src/sandbox/index.js';
import type { Agreements } from './agreements.js';
import type { Product } from './entities.js';
import { constraintViolation, MarketplaceError, meteringError } from './errors.js';
import type { MarketplaceStore } from './store.js';

/**
 * The Metering API for SaaS sellers: BatchMeterUsage (up to 25 records of one product a call,
 * each for a subscribed customer, one record per customer, dimension and hour, at most six hours
 * late) and MeterUsage, the call software running in the buyer's account makes.
 */
export const MAX_BATCH = 25;
const BATCH_WINDOW_MS = 6 * 3_600_000;
const METER_USAGE_WINDOW_MS = 3_600_000;
/** Clocks differ a little: a timestamp up to this far ahead is taken. */
const FUTURE_SKEW_MS = 5 * 60_000;
const MAX_QUANTITY = 2_147_483_647;

interface UsageRecord {
  Timestamp?: number;
  CustomerIdentifier?: string;
  CustomerAWSAccountId?: string;
  Dimension?: string;
  Quantity?: number;
  UsageAllocations?: { AllocatedUsageQuantity?: number; Tags?: unknown[] }[];
  LicenseArn?: string;
}

interface Metered {
  id: string;
  quantity: number;
}

export class Metering {
  /** Metered usage by product code, customer, dimension and hour. */
  readonly records = new Map<string, Metered>();
  private readonly tokens = new Map<string, { fingerprint: string; id: string }>();

  constructor(private readonly store: MarketplaceStore, private readonly agreements: Agreements, private readonly faults: FaultInjector) {}

  batchMeterUsage(account: string, input: Record<string, unknown>): { Results: Record<string, unknown>[]; UnprocessedRecords: UsageRecord[] } {
    const product = this.product(input.ProductCode, account);
    const records = input.UsageRecords;
    if (!Array.isArray(records)) throw constraintViolation('usageRecords', 'Member must not be null');
    if (records.length > MAX_BATCH) throw constraintViolation('usageRecords', `Member must have length less than or equal to ${MAX_BATCH}`);
    const now = this.store.now();
    // The call is refused as a whole when any record is out of bounds.
    (records as UsageRecord[]).forEach((record, i) => {
      this.checkRecord(product, record, `usageRecords.${i + 1}`, record.Quantity ?? 0);
      if (typeof record.CustomerAWSAccountId !== 'string' || record.CustomerIdentifier !== undefined) {
        throw meteringError('InvalidCustomerIdentifierException', 'Each usage record names its customer by CustomerAWSAccountId (the sandbox does not issue CustomerIdentifier values).');
      }
      if (!inWindow(record.Timestamp!, now, BATCH_WINDOW_MS)) {
        throw meteringError('TimestampOutOfBoundsException', 'The timestamp value passed in the UsageRecord is out of allowed range: usage is reported at most 6 hours after the hour it happened and not in the future.');
      }
    });
    const Results: Record<string, unknown>[] = [];
    const UnprocessedRecords: UsageRecord[] = [];
    for (const record of records as UsageRecord[]) {
      if (this.faults.recordFails()) {
        UnprocessedRecords.push(record);
        continue;
      }
      const at = record.Timestamp! * 1000;
      if (!this.agreements.activeFor(product.id, record.CustomerAWSAccountId!, at)) {
        Results.push({ UsageRecord: record, Status: 'CustomerNotSubscribed' });
        continue;
      }
      const { metered, duplicate } = this.meter(product, record.CustomerAWSAccountId!, record.Dimension!, at, record.Quantity ?? 0);
      Results.push({ UsageRecord: record, MeteringRecordId: metered.id, Status: duplicate ? 'DuplicateRecord' : 'Success' });
    }
    return { Results, UnprocessedRecords };
  }

  meterUsage(account: string, input: Record<string, unknown>): { MeteringRecordId: string } {
    const product = this.product(input.ProductCode, undefined);
    const quantity = (input.UsageQuantity as number | undefined) ?? 0;
    const record: UsageRecord = { Timestamp: input.Timestamp as number, Dimension: input.UsageDimension as string, Quantity: quantity, UsageAllocations: input.UsageAllocations as UsageRecord['UsageAllocations'] };
    this.checkRecord(product, record, '', quantity);
    const at = record.Timestamp! * 1000;
    if (!inWindow(record.Timestamp!, this.store.now(), METER_USAGE_WINDOW_MS)) {
      throw meteringError('TimestampOutOfBoundsException', 'The timestamp value passed in the request is out of allowed range: MeterUsage reports usage of the last hour.');
    }
    if (!this.agreements.activeFor(product.id, account, at)) throw meteringError('CustomerNotEntitledException', `Account ${account} is not subscribed to product ${product.productCode}.`);
    const token = input.ClientToken as string | undefined;
    const fingerprint = JSON.stringify([product.productCode, record.Timestamp, record.Dimension, quantity, record.UsageAllocations ?? null]);
    const earlier = token ? this.tokens.get(`${account}|${token}`) : undefined;
    if (earlier) {
      if (earlier.fingerprint !== fingerprint) throw new MarketplaceError('IdempotencyConflictException', 409, `ClientToken ${token} was already used for a different request.`);
      return { MeteringRecordId: earlier.id };
    }
    if (input.DryRun === true) throw new MarketplaceError('DryRunOperation', 412, 'Request would have succeeded, but the DryRun flag is set.');
    const { metered, duplicate } = this.meter(product, account, record.Dimension!, at, quantity);
    if (duplicate) throw meteringError('DuplicateRequestException', `Usage of ${record.Dimension} for this hour was already metered with a different quantity (${metered.quantity}).`);
    if (token) this.tokens.set(`${account}|${token}`, { fingerprint, id: metered.id });
    return { MeteringRecordId: metered.id };
  }

  /** The product a call names; a seller meters only its own products. */
  private product(code: unknown, seller: string | undefined): Product {
    const product = [...this.store.products.values()].find((p) => p.productCode === code);
    if (!product || (seller !== undefined && product.owner !== seller)) {
      throw meteringError('InvalidProductCodeException', `Product code ${JSON.stringify(code)} is not a product of ${seller ? `account ${seller}` : 'the marketplace'}.`);
    }
    return product;
  }

  private checkRecord(product: Product, record: UsageRecord, at: string, quantity: number): void {
    const field = (name: string) => (at ? `${at}.member.${name}` : name);
    if (typeof record.Timestamp !== 'number' || !Number.isFinite(record.Timestamp)) throw constraintViolation(field('timestamp'), 'Member must not be null');
    if (typeof record.Dimension !== 'string' || record.Dimension === '') throw constraintViolation(field('dimension'), 'Member must not be null');
    if (!Number.isInteger(quantity) || quantity < 0 || quantity > MAX_QUANTITY) {
      throw constraintViolation(field('quantity'), `Member must have value between 0 and ${MAX_QUANTITY}`);
    }
    const metered = product.dimensions.filter((d) => d.Types.includes('ExternallyMetered')).map((d) => d.Key);
    if (!metered.includes(record.Dimension)) {
      throw meteringError('InvalidUsageDimensionException', `The usage dimension ${record.Dimension} does not match one of the usage dimensions of product ${product.productCode} (${metered.join(', ') || 'none'}).`);
    }
    if (record.UsageAllocations) {
      const allocated = record.UsageAllocations.reduce((sum, a) => sum + (a.AllocatedUsageQuantity ?? 0), 0);
      if (allocated !== quantity) throw meteringError('InvalidUsageAllocationsException', `The usage allocations add up to ${allocated}, not the quantity ${quantity}.`);
    }
  }

  /** Records usage once per customer, dimension and hour; the same quantity again is the same record. */
  private meter(product: Product, customer: string, dimension: string, at: number, quantity: number): { metered: Metered; duplicate: boolean } {
    const key = `${product.productCode}|${customer}|${dimension}|${Math.floor(at / 3_600_000)}`;
    const existing = this.records.get(key);
    if (existing) return { metered: existing, duplicate: existing.quantity !== quantity };
    const metered = { id: this.store.ids.uuid(), quantity };
    this.records.set(key, metered);
    return { metered, duplicate: false };
  }
}

function inWindow(timestampSeconds: number, now: number, window: number): boolean {
  const at = timestampSeconds * 1000;
  return at >= now - window && at <= now + FUTURE_SKEW_MS;
}
