import { z } from 'zod';
import { DURATION, isCalendarDate } from './clock.js';

/**
 * The shape of each change type's DetailsDocument, as StartChangeSet checks it before accepting
 * the set: a wrong type, a missing required member or an unknown one is a ValidationException
 * naming the field. What needs the catalog to judge (a dimension the product lacks, an account
 * that is not 12 digits, a currency private offers do not take) is checked later, while the set
 * runs, and fails the set with an ErrorCode instead.
 */
const decimal = z.string().regex(/^\d+(\.\d+)?$/, 'must be a non-negative decimal number in a string, such as "150.00"');
const date = z.string().refine(isCalendarDate, 'must be a date written YYYY-MM-DD');
const duration = z.string().regex(DURATION, 'must be an ISO 8601 duration of days, months or years, such as P12M or P365D');
const text = z.string().min(1);

const rateCardItem = z.strictObject({ DimensionKey: text, Price: decimal });
const grant = z.strictObject({ DimensionKey: text, MaxQuantity: z.number().int().min(1) });
const constraints = z.strictObject({
  MultipleDimensionSelection: z.enum(['Allowed', 'Disallowed']),
  QuantityConfiguration: z.enum(['Allowed', 'Disallowed']),
});
const configurableRateCard = z.strictObject({
  Selector: z.strictObject({ Type: z.literal('Duration'), Value: z.string() }),
  RateCard: z.array(rateCardItem),
  Constraints: constraints,
});
const usageRateCard = z.strictObject({ RateCard: z.array(rateCardItem) });

function pricingTerms(prefix: '' | 'Resale') {
  const terms = [
    z.strictObject({ Type: z.literal(`${prefix}ConfigurableUpfrontPricingTerm`), CurrencyCode: z.string(), RateCards: z.array(configurableRateCard) }),
    z.strictObject({ Type: z.literal(`${prefix}UsageBasedPricingTerm`), CurrencyCode: z.string(), RateCards: z.array(usageRateCard) }),
    z.strictObject({ Type: z.literal(`${prefix}FixedUpfrontPricingTerm`), CurrencyCode: z.string(), Price: decimal, Duration: duration.optional(), Grants: z.array(grant) }),
  ];
  const all = prefix === '' ? [...terms, z.strictObject({ Type: z.literal('ByolPricingTerm') })] : terms;
  return z.strictObject({
    PricingModel: z.enum(['Contract', 'Usage', 'Byol', 'Free']),
    Terms: z.array(z.discriminatedUnion('Type', all as unknown as [typeof terms[0], ...typeof terms])),
  });
}

const documents = z.array(z.strictObject({ Type: z.string(), Url: z.string().optional(), Version: z.string().optional() }));
const schedule = z.array(z.strictObject({ ChargeDate: z.string(), ChargeAmount: decimal }));
const buyerAccounts = z.strictObject({ BuyerAccounts: z.array(z.string()) });
const preExisting = z.strictObject({
  AcquisitionChannel: z.enum(['AwsMarketplace', 'External']),
  PricingModel: z.enum(['Contract', 'Usage', 'Byol', 'Free']),
});
const information = {
  Name: z.string().max(150).optional(),
  Description: z.string().max(255).optional(),
};
const percentage = decimal.refine((v) => Number(v) <= 100, 'must be at most 100');

export const OFFER_DOCUMENTS: Record<string, z.ZodType> = {
  CreateOffer: z.strictObject({ ProductId: text, Name: z.string().max(150).optional(), OfferSetId: z.string().optional() }),
  CreateReplacementOffer: z.strictObject({ AgreementId: text }),
  CreateOfferUsingResaleAuthorization: z.strictObject({ ResaleAuthorizationId: text, ...information }),
  UpdateInformation: z.strictObject({ ...information, PreExistingAgreement: preExisting.optional() }),
  UpdateTargeting: z.strictObject({ PositiveTargeting: buyerAccounts }),
  UpdatePricingTerms: pricingTerms(''),
  UpdateLegalTerms: z.strictObject({ Terms: z.array(z.strictObject({ Type: z.literal('LegalTerm'), Documents: documents })) }),
  UpdateValidityTerms: z.strictObject({
    Terms: z.array(z.strictObject({ Type: z.literal('ValidityTerm'), AgreementDuration: duration.optional(), AgreementStartDate: date.optional(), AgreementEndDate: date.optional() })),
  }),
  UpdatePaymentScheduleTerms: z.strictObject({ Terms: z.array(z.strictObject({ Type: z.literal('PaymentScheduleTerm'), CurrencyCode: z.string(), Schedule: schedule })) }),
  UpdateAvailability: z.strictObject({ AvailabilityEndDate: date }),
  UpdateSupportTerms: z.strictObject({ Terms: z.array(z.strictObject({ Type: z.literal('SupportTerm'), RefundPolicy: text })) }),
  UpdateRenewalTerms: z.strictObject({ Terms: z.array(z.strictObject({ Type: z.literal('RenewalTerm') })) }),
  UpdateMarkup: z.strictObject({ Percentage: percentage }),
  ReleaseOffer: z.strictObject({}),
};

export const RESALE_AUTHORIZATION_DOCUMENTS: Record<string, z.ZodType> = {
  CreateResaleAuthorization: z.strictObject({
    ProductId: text,
    ...information,
    ResellerAccountId: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
  }),
  UpdateInformation: z.strictObject({ ...information, PreExistingBuyerAgreement: preExisting.optional() }),
  UpdatePricingTerms: pricingTerms('Resale'),
  UpdateLegalTerms: z.strictObject({ Terms: z.array(z.strictObject({ Type: z.enum(['BuyerLegalTerm', 'ResaleLegalTerm']), Documents: documents })) }),
  UpdatePaymentScheduleTerms: z.strictObject({ Terms: z.array(z.strictObject({ Type: z.literal('ResalePaymentScheduleTerm'), CurrencyCode: z.string(), Schedule: schedule })) }),
  UpdateAvailability: z.strictObject({
    AvailabilityEndDate: date.optional(),
    // AWS's own examples write it both as 1 and as "1".
    OffersMaxQuantity: z.union([z.number().int().min(1), z.string().regex(/^[1-9]\d*$/)]).optional(),
  }),
  UpdateBuyerTargetingTerms: z.strictObject({ Terms: z.array(z.strictObject({ Type: z.literal('BuyerTargetingTerm'), PositiveTargeting: buyerAccounts })) }),
  ReleaseResaleAuthorization: z.strictObject({}),
  RestrictResaleAuthorization: z.strictObject({}),
};

/** Zod's complaints as `Field: message` pairs, the field a path such as Terms[0].RateCards[1].Price. */
export function shapeIssues(error: z.ZodError): { field: string; message: string }[] {
  const pathOf = (path: PropertyKey[]) => path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)), '');
  return error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ field: pathOf([...issue.path, key]), message: 'is not a member of this document' }));
    const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message);
    return [{ field: pathOf(issue.path) || '(document)', message: missing ? `is required (${issue.expected})` : issue.message }];
  });
}
