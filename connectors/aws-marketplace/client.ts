import {
  DescribeChangeSetCommand, MarketplaceCatalogClient, StartChangeSetCommand, type Change,
} from '@aws-sdk/client-marketplace-catalog';
import {
  DescribeAgreementCommand, MarketplaceAgreementClient, SearchAgreementsCommand,
} from '@aws-sdk/client-marketplace-agreement';
import { countCall } from '../shared/calls.js';
import { callWithRetries } from '../shared/retry.js';

/**
 * The slice of AWS Marketplace private offers need, on the official SDKs: change sets in the
 * Catalog (started idempotently by ClientRequestToken, then followed), and agreements read from
 * the Agreement service. A ThrottlingException is waited out under the one retry policy
 * (connectors/shared/retry.ts); everything else goes back to the caller at once as a typed
 * error, and Temporal retries the activity.
 */

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsMarketplaceConfig {
  region?: string;
  /** The sandbox's URL in tests and demos; AWS's endpoints when absent. */
  endpoint?: string;
  /** The seller's credentials; the SDK's credential chain when absent. */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** A channel partner's credentials, for the reseller's side of a CPPO. */
  reseller?: AwsCredentials;
  /** Attempts per call while AWS throttles it. Default 6. */
  maxAttempts?: number;
}

export type ChangeSetStatus = 'PREPARING' | 'APPLYING' | 'SUCCEEDED' | 'CANCELLED' | 'FAILED';

export interface ChangeSetView {
  id: string;
  status: ChangeSetStatus;
  failureCode?: 'CLIENT_ERROR' | 'SERVER_FAULT';
  failureDescription?: string;
  /** Each change's type, the entity it made or touched, and what AWS found wrong with it. */
  changes: { changeType: string; changeName?: string; entityId?: string; errors: { code: string; message: string }[] }[];
}

export interface AgreementView {
  agreementId: string;
  offerId: string;
  acceptor: string;
  proposer: string;
  status: string;
  acceptanceTime?: string;
  startTime?: string;
  endTime?: string;
  agreementValue?: string;
  currencyCode?: string;
}

/** AWS refused the request itself (ValidationException, AccessDenied, ResourceNotFound): sending it again changes nothing. */
export class MarketplaceRefused extends Error {
  constructor(readonly code: string, message: string, readonly fields: { name: string; message: string }[] = []) {
    super(message);
    this.name = 'MarketplaceRefused';
  }
}

/** An entity already has a change set in flight (ResourceInUseException): wait and send again. */
export class MarketplaceBusy extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MarketplaceBusy';
  }
}

const CATALOG = 'AWSMarketplace';
const REFUSALS = new Set(['ValidationException', 'AccessDeniedException', 'ResourceNotFoundException', 'ServiceQuotaExceededException', 'ResourceNotSupportedException']);

export class AwsMarketplaceClient {
  private readonly seller: { catalog: MarketplaceCatalogClient; agreement: MarketplaceAgreementClient };
  private readonly reseller?: { catalog: MarketplaceCatalogClient };
  private readonly maxAttempts: number;

  constructor(config: AwsMarketplaceConfig) {
    this.maxAttempts = config.maxAttempts ?? 6;
    // The SDK sends each call once: throttling is waited out below, anything else is Temporal's to retry.
    const base = { region: config.region ?? 'us-east-1', maxAttempts: 1, ...(config.endpoint ? { endpoint: config.endpoint } : {}) };
    const credentials = config.accessKeyId && config.secretAccessKey
      ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey, ...(config.sessionToken ? { sessionToken: config.sessionToken } : {}) } }
      : {};
    this.seller = { catalog: new MarketplaceCatalogClient({ ...base, ...credentials }), agreement: new MarketplaceAgreementClient({ ...base, ...credentials }) };
    if (config.reseller) this.reseller = { catalog: new MarketplaceCatalogClient({ ...base, credentials: config.reseller }) };
  }

  /**
   * Starts a change set; the same token with the same changes answers the set it started before,
   * so a retried activity never starts a second one.
   */
  async startChangeSet(input: { changes: Change[]; token: string; name?: string; intent?: 'VALIDATE' | 'APPLY'; as?: 'seller' | 'reseller' }): Promise<string> {
    const out = await this.call(() => this.catalogOf(input.as).send(new StartChangeSetCommand({
      Catalog: CATALOG, ChangeSet: input.changes, ClientRequestToken: input.token, Intent: input.intent ?? 'APPLY',
      ...(input.name ? { ChangeSetName: input.name } : {}),
    })));
    return out.ChangeSetId!;
  }

  async describeChangeSet(id: string, as?: 'seller' | 'reseller'): Promise<ChangeSetView> {
    const out = await this.call(() => this.catalogOf(as).send(new DescribeChangeSetCommand({ Catalog: CATALOG, ChangeSetId: id })));
    return {
      id,
      status: out.Status as ChangeSetStatus,
      ...(out.FailureCode ? { failureCode: out.FailureCode as ChangeSetView['failureCode'] } : {}),
      ...(out.FailureDescription ? { failureDescription: out.FailureDescription } : {}),
      changes: (out.ChangeSet ?? []).map((c) => ({
        changeType: c.ChangeType ?? '',
        ...(c.ChangeName ? { changeName: c.ChangeName } : {}),
        ...(c.Entity?.Identifier ? { entityId: c.Entity.Identifier.replace(/@\d+$/, '') } : {}),
        errors: (c.ErrorDetailList ?? []).map((e) => ({ code: e.ErrorCode ?? 'UNKNOWN', message: e.ErrorMessage ?? '' })),
      })),
    };
  }

  /** The purchase agreements made on an offer, newest first. */
  async agreementsOfOffer(offerId: string): Promise<AgreementView[]> {
    const out = await this.call(() => this.seller.agreement.send(new SearchAgreementsCommand({
      catalog: CATALOG,
      filters: [{ name: 'PartyType', values: ['Proposer'] }, { name: 'AgreementType', values: ['PurchaseAgreement'] }, { name: 'OfferId', values: [offerId] }],
    })));
    const ids = (out.agreementViewSummaries ?? []).map((a) => a.agreementId!).filter(Boolean);
    const views = await Promise.all(ids.map((id) => this.agreement(id)));
    return views.sort((a, b) => (b.acceptanceTime ?? '').localeCompare(a.acceptanceTime ?? ''));
  }

  async agreement(agreementId: string): Promise<AgreementView> {
    const a = await this.call(() => this.seller.agreement.send(new DescribeAgreementCommand({ agreementId })));
    return {
      agreementId,
      offerId: a.proposalSummary?.offerId ?? '',
      acceptor: a.acceptor?.accountId ?? '',
      proposer: a.proposer?.accountId ?? '',
      status: a.status ?? 'ACTIVE',
      ...(a.acceptanceTime ? { acceptanceTime: a.acceptanceTime.toISOString() } : {}),
      ...(a.startTime ? { startTime: a.startTime.toISOString() } : {}),
      ...(a.endTime ? { endTime: a.endTime.toISOString() } : {}),
      ...(a.estimatedCharges?.agreementValue ? { agreementValue: a.estimatedCharges.agreementValue } : {}),
      ...(a.estimatedCharges?.currencyCode ? { currencyCode: a.estimatedCharges.currencyCode } : {}),
    };
  }

  close(): void {
    this.seller.catalog.destroy();
    this.seller.agreement.destroy();
    this.reseller?.catalog.destroy();
  }

  private catalogOf(as: 'seller' | 'reseller' | undefined): MarketplaceCatalogClient {
    if (as !== 'reseller') return this.seller.catalog;
    if (!this.reseller) throw new MarketplaceRefused('NoResellerCredentials', 'a channel partner offer needs the reseller\'s credentials in the connection (aws-marketplace.reseller)');
    return this.reseller.catalog;
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
          return { reason: 'ThrottlingException', message: `AWS Marketplace throttled the call: ${(outcome.error as Error).message}` };
        },
      }, () => { countCall('aws-marketplace'); return send(); });
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      const message = (error as Error).message ?? String(error);
      if (name === 'ResourceInUseException') throw new MarketplaceBusy(message);
      if (REFUSALS.has(name)) {
        const fields = ((error as { ErrorDetails?: { name?: string; message?: string }[]; fieldList?: { name?: string; message?: string }[] }).fieldList ?? [])
          .map((f) => ({ name: f.name ?? '', message: f.message ?? '' }));
        throw new MarketplaceRefused(name, message, fields);
      }
      throw error;
    }
  }
}
