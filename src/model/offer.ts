import { z } from 'zod';
import { CanonicalId, CurrencyCode, DecimalString, Email, IsoDate, IsoDateTime } from './common.js';
import { ApprovalEntry } from './cosell.js';
import { CoSellCloud } from './cosell-status.js';

/**
 * Private offers: a price for one buyer on a cloud marketplace (AWS Marketplace, directly or
 * through a channel partner; the Microsoft commercial marketplace), approved inside the company
 * first, then published, accepted by the buyer as an agreement, and booked in the ERP as one
 * sales order. Amounts are decimal strings in the offer's currency.
 */

/** The marketplaces ecosync publishes private offers on: the co-sell clouds. */
export const OfferCloud = CoSellCloud;
export type OfferCloud = CoSellCloud;

/** Direct: the seller's own offer to the buyer. CPPO: a channel partner's offer under the seller's resale authorization. */
export const OfferChannel = z.enum(['direct', 'cppo']);
export type OfferChannel = z.infer<typeof OfferChannel>;

/** How the buyer pays: a contract for a term (upfront, or on a payment schedule), or metered usage. */
export const PricingModel = z.enum(['contract', 'usage']);
export type PricingModel = z.infer<typeof PricingModel>;

/** One priced dimension of the product: a contract's units (users, tiers) or a usage meter. */
export const OfferDimension = z.object({
  /** The product's dimension key (AWS DimensionKey, Microsoft meter or plan id). */
  key: z.string().min(1),
  /** The offer's price for one unit over the term (contract) or one metered unit (usage). */
  price: DecimalString,
  /** The product's public price for the same, when known: the discount is measured against it. */
  listPrice: DecimalString.optional(),
  /** Units the buyer commits to (contract dimensions). */
  quantity: z.number().int().positive().optional(),
}).strict();
export type OfferDimension = z.infer<typeof OfferDimension>;

/** One instalment of a payment schedule. */
export const Installment = z.object({ date: IsoDate, amount: DecimalString }).strict();
export type Installment = z.infer<typeof Installment>;

export const OfferStatus = z.enum([
  // ecosync's own, before the cloud sees the offer
  'draft', 'pending_approval', 'changes_requested', 'rejected_internal',
  // the cloud's
  'submitted', 'failed', 'live', 'accepted', 'expired', 'withdrawn',
]);
export type OfferStatus = z.infer<typeof OfferStatus>;

/** Statuses after which nothing more happens to the offer. */
export const FINAL_OFFER_STATUSES: readonly OfferStatus[] = ['rejected_internal', 'accepted', 'expired', 'withdrawn'];

/** A problem the cloud (or ecosync's own check) found, in words an alliance manager can act on. */
export const OfferProblem = z.object({
  /** The cloud's code: INVALID_BUYER_ACCOUNTS, MISSING_AVAILABILITY_END_DATE, a Microsoft error code. */
  code: z.string().min(1),
  /** What is wrong and what to do, in plain words. */
  message: z.string(),
  /** The canonical field it is about (buyerAccounts, dimensions[0].price), when one is. */
  field: z.string().optional(),
  /** The CRM field that field comes from (Ecosync_Offer_Buyer_Accounts__c), when the mapping says. */
  crmField: z.string().optional(),
}).strict();
export type OfferProblem = z.infer<typeof OfferProblem>;

/** The ids the cloud gave the offer and what belongs to it. */
export const OfferCloudIds = z.object({
  /** AWS offer-xxxxxxxx; the Microsoft private offer's resource id. */
  offerId: z.string().optional(),
  /** The last change set (AWS) or configure job (Microsoft). */
  changeSetId: z.string().optional(),
  jobId: z.string().optional(),
  /** CPPO: the seller's resale authorization the reseller's offer is made under. */
  resaleAuthorizationId: z.string().optional(),
  resourceUri: z.string().optional(),
}).strict();
export type OfferCloudIds = z.infer<typeof OfferCloudIds>;

/**
 * An offer's terms as the CRM holds them on the opportunity, read through a mapping file
 * (mappings/salesforce-private-offer.yaml) when the offer is asked for and when it is resubmitted.
 * Buyers are as typed: account ids or beneficiaries separated by commas, semicolons or lines.
 * Never stored: ecosync builds the PrivateOffer from it, the request's pricing and its own state.
 */
export const OfferTerms = z.object({
  name: z.string().optional(),
  description: z.string().optional(),
  currency: z.string().optional(),
  productId: z.string().optional(),
  planId: z.string().optional(),
  buyers: z.string().optional(),
  termMonths: z.number().optional(),
  expiresOn: IsoDate.optional(),
  eulaUrl: z.string().optional(),
}).strict();
export type OfferTerms = z.infer<typeof OfferTerms>;

/** A channel partner's resale authorization: the seller's wholesale price the reseller marks up. */
export const ResaleAuthorization = z.object({
  id: CanonicalId,
  cloud: OfferCloud,
  /** The reseller's AWS account id (or Microsoft partner id). */
  resellerAccountId: z.string().min(1),
  productId: z.string().min(1),
  name: z.string().min(1),
  /** The wholesale prices the reseller buys at. */
  dimensions: z.array(OfferDimension).min(1),
  currency: CurrencyCode,
  /** The reseller's markup on the wholesale price, in percent ("5.0"). */
  markupPercent: DecimalString,
  /** The buyers the reseller may sell to under it. */
  buyerAccounts: z.array(z.string()).optional(),
  /** The cloud's id (resaleauthz-…), once created; released once published to the reseller. */
  cloudId: z.string().optional(),
  released: z.boolean().optional(),
}).strict();
export type ResaleAuthorization = z.infer<typeof ResaleAuthorization>;

export const PrivateOffer = z.object({
  id: CanonicalId,
  cloud: OfferCloud,
  channel: OfferChannel,
  /** The CRM opportunity the offer is for, and its account (the buyer). */
  opportunityId: CanonicalId,
  accountId: CanonicalId.optional(),
  name: z.string().min(1).max(150),
  description: z.string().max(255).optional(),
  /** The marketplace product (AWS prod-…, Microsoft product/<id>) and, on Microsoft, its plan. */
  productId: z.string().min(1),
  planId: z.string().optional(),
  /** Who may accept: 12-digit AWS account ids, or Microsoft beneficiaries (<tenant>:<billing account>). */
  buyerAccounts: z.array(z.string().min(1)).min(1),
  pricingModel: PricingModel,
  currency: CurrencyCode,
  dimensions: z.array(OfferDimension).min(1),
  /** The contract's length, ISO 8601 (P12M, P36M). */
  duration: z.string().regex(/^P\d+[MY]$/, 'an ISO 8601 duration in months or years, such as P12M'),
  /** Instead of paying upfront: what is charged when. */
  paymentSchedule: z.array(Installment).optional(),
  /** The end-user licence: the marketplace's standard one, or the seller's own at a URL. */
  eula: z.discriminatedUnion('type', [
    z.object({ type: z.literal('standard'), version: z.string().optional() }).strict(),
    z.object({ type: z.literal('custom'), url: z.url() }).strict(),
  ]),
  /** The last day the buyer may accept (AWS AvailabilityEndDate, Microsoft acceptBy). */
  expiresOn: IsoDate,
  /** CPPO: the reseller's markup on the seller's wholesale price, in percent. */
  markupPercent: DecimalString.optional(),
  resale: ResaleAuthorization.optional(),
  /** The offer's total contract value and its discount from list price, as ecosync computed them for approval. */
  totalValue: DecimalString.optional(),
  discountPercent: DecimalString.optional(),
  status: OfferStatus,
  cloudIds: OfferCloudIds,
  /** Where the buyer accepts it. */
  buyerUrl: z.url().optional(),
  problems: z.array(OfferProblem),
  /** The agreement made when the buyer accepted. */
  agreementId: z.string().optional(),
  requestedBy: Email,
  currentStage: z.string().optional(),
  pendingApprovers: z.array(z.string()),
  approvals: z.array(ApprovalEntry),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
}).strict();
export type PrivateOffer = z.infer<typeof PrivateOffer>;

/** An accepted offer: what the buyer signed, for how long and for how much. */
export const Agreement = z.object({
  id: CanonicalId,
  cloud: OfferCloud,
  /** The cloud's agreement id (agmt-…), or the Microsoft SaaS subscription id. */
  agreementId: z.string().min(1),
  /** The offer (cloud id) it accepted. */
  offerId: z.string().min(1),
  /** The canonical offer and buyer account, when ecosync made the offer. */
  privateOfferId: CanonicalId.optional(),
  accountId: CanonicalId.optional(),
  /** The buyer's account (AWS account id, Microsoft tenant). */
  acceptor: z.string().min(1),
  status: z.enum(['active', 'ended', 'cancelled', 'replaced', 'renewed']),
  acceptedAt: IsoDateTime,
  startDate: IsoDate,
  endDate: IsoDate.optional(),
  totalContractValue: DecimalString,
  currency: CurrencyCode,
}).strict();
export type Agreement = z.infer<typeof Agreement>;

/** What the alliance manager asks for besides the terms on the opportunity. */
export interface OfferRequest {
  cloud: OfferCloud;
  channel: OfferChannel;
  /** The opportunity (canonical) and its account, the buyer. */
  opportunityId: string;
  accountId?: string;
  requestedBy: string;
  pricingModel: PricingModel;
  dimensions: OfferDimension[];
  paymentSchedule?: Installment[];
  /** CPPO: the reseller and its markup on the wholesale prices. */
  resale?: { resellerAccountId: string; markupPercent: string };
  /** Terms given with the request win over the opportunity's. */
  terms?: OfferTerms;
}
