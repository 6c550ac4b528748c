import { OfferStateString } from '@aws-sdk/client-marketplace-catalog';
import type { FieldSpec, FieldType, ObjectSpec } from '../../src/sync/protocol.js';

/**
 * A private offer's change set as one document, for checking the offer payload mapping
 * (mappings/aws-marketplace-offer.yaml) at load: each top-level key is a Catalog change type and
 * holds its DetailsDocument (`UpdatePricingTerms.Terms[].RateCards[].RateCard[].Price`), which
 * ecosync sends as one change of a StartChangeSet. The terms are shaped as the Agreement SDK
 * models the terms a buyer accepts (its ConfigurableUpfrontPricingTerm, UsageBasedPricingTerm,
 * FixedUpfrontPricingTerm, PaymentScheduleTerm, LegalTerm, ValidityTerm, written in the
 * Catalog's PascalCase); every price is a string. `[]` stands for every element of a list.
 * Business rules (dates in the future, dimensions of the product, markups) are AWS's, checked by
 * AWS (and the sandbox) when the set runs.
 */

type Extra = Partial<Omit<FieldSpec, 'name' | 'type'>>;
const field = (name: string, type: FieldType, extra: Extra = {}): FieldSpec =>
  ({ name, type, nillable: true, createable: true, updateable: true, ...extra });
const pick = (name: string, values: readonly string[]): FieldSpec => field(name, 'picklist', { picklistValues: [...values] });

/** The private offer currencies AWS Marketplace takes. */
export const OFFER_CURRENCIES = ['USD', 'AUD', 'EUR', 'GBP', 'JPY'] as const;
export const PRICING_MODELS = ['Contract', 'Usage', 'Free', 'Byol'] as const;
export const PRICING_TERM_TYPES = ['ConfigurableUpfrontPricingTerm', 'UsageBasedPricingTerm', 'FixedUpfrontPricingTerm'] as const;

const pricingTerms = (prefix: string): FieldSpec[] => [
  pick(`${prefix}.Terms[].Type`, PRICING_TERM_TYPES),
  pick(`${prefix}.Terms[].CurrencyCode`, OFFER_CURRENCIES),
  pick(`${prefix}.Terms[].RateCards[].Selector.Type`, ['Duration']),
  field(`${prefix}.Terms[].RateCards[].Selector.Value`, 'string'),
  field(`${prefix}.Terms[].RateCards[].RateCard[].DimensionKey`, 'string', { length: 100 }),
  field(`${prefix}.Terms[].RateCards[].RateCard[].Price`, 'string'),
  pick(`${prefix}.Terms[].RateCards[].Constraints.MultipleDimensionSelection`, ['Allowed', 'Disallowed']),
  pick(`${prefix}.Terms[].RateCards[].Constraints.QuantityConfiguration`, ['Allowed', 'Disallowed']),
  field(`${prefix}.Terms[].Price`, 'string'),
  field(`${prefix}.Terms[].Duration`, 'string'),
  field(`${prefix}.Terms[].Grants[].DimensionKey`, 'string', { length: 100 }),
  field(`${prefix}.Terms[].Grants[].MaxQuantity`, 'integer'),
];

export const AWS_OFFER_DOCUMENT: ObjectSpec = {
  name: 'Offer',
  idField: 'EntityId',
  modifiedField: 'LastModifiedDate',
  fields: [
    field('EntityId', 'id', { createable: false, updateable: false }),
    field('LastModifiedDate', 'datetime', { createable: false, updateable: false }),
    pick('State', Object.values(OfferStateString)),
    field('CreateOffer.ProductId', 'string', { nillable: false }),
    field('CreateOffer.Name', 'string', { length: 150 }),
    field('UpdateInformation.Name', 'string', { length: 150 }),
    field('UpdateInformation.Description', 'string', { length: 255 }),
    field('UpdateTargeting.PositiveTargeting.BuyerAccounts', 'multipicklist'),
    pick('UpdatePricingTerms.PricingModel', PRICING_MODELS),
    ...pricingTerms('UpdatePricingTerms'),
    pick('UpdateLegalTerms.Terms[].Type', ['LegalTerm']),
    pick('UpdateLegalTerms.Terms[].Documents[].Type', ['CustomEula', 'StandardEula']),
    field('UpdateLegalTerms.Terms[].Documents[].Url', 'url'),
    field('UpdateLegalTerms.Terms[].Documents[].Version', 'string'),
    pick('UpdateValidityTerms.Terms[].Type', ['ValidityTerm']),
    field('UpdateValidityTerms.Terms[].AgreementDuration', 'string'),
    pick('UpdatePaymentScheduleTerms.Terms[].Type', ['PaymentScheduleTerm']),
    pick('UpdatePaymentScheduleTerms.Terms[].CurrencyCode', OFFER_CURRENCIES),
    field('UpdatePaymentScheduleTerms.Terms[].Schedule[].ChargeDate', 'date'),
    field('UpdatePaymentScheduleTerms.Terms[].Schedule[].ChargeAmount', 'string'),
    field('UpdateAvailability.AvailabilityEndDate', 'date'),
    field('UpdateMarkup.Percentage', 'string'),
    field('CreateOfferUsingResaleAuthorization.ResaleAuthorizationId', 'string'),
    field('CreateOfferUsingResaleAuthorization.Name', 'string', { length: 150 }),
  ],
};

export const AWS_MARKETPLACE_OBJECTS: readonly ObjectSpec[] = [AWS_OFFER_DOCUMENT];
