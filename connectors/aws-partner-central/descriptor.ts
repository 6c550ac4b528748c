import {
  ClosedLostReason, CompetitorName, CountryCode, CurrencyCode, DeliveryModel, Industry, MarketingSource,
  NationalSecurity, OpportunityOrigin, OpportunityType, PaymentFrequency, PrimaryNeedFromAws, ReviewStatus, SalesActivity, Stage,
} from '@aws-sdk/client-partnercentral-selling';
import type { FieldSpec, FieldType, ObjectSpec } from '../../src/sync/protocol.js';

/**
 * The Partner Central opportunity as a field schema, for checking the co-sell payload mapping
 * (mappings/aws-partner-central-opportunity.yaml) at load: every path CreateOpportunity takes, with
 * its type and, for enums, the values the SDK's model allows. Paths are nested as the request body
 * is; `[]` stands for every element of a list. What AWS accepts beyond the model (lengths, formats,
 * business rules) lives in rules.ts and is checked on the payload itself.
 */

type Extra = Partial<Omit<FieldSpec, 'name' | 'type'>>;
const field = (name: string, type: FieldType, extra: Extra = {}): FieldSpec =>
  ({ name, type, nillable: true, createable: true, updateable: true, ...extra });
const pick = (name: string, values: Record<string, string>, type: FieldType = 'picklist'): FieldSpec =>
  field(name, type, { picklistValues: Object.values(values) });
/** Set by AWS: read back, never written. */
const byAws = { createable: false, updateable: false } as const;

const contact = (list: string): FieldSpec[] => [
  field(`${list}[].Email`, 'email'),
  field(`${list}[].FirstName`, 'string'),
  field(`${list}[].LastName`, 'string'),
  field(`${list}[].BusinessTitle`, 'string'),
  field(`${list}[].Phone`, 'phone'),
];

export const AWS_OPPORTUNITY: ObjectSpec = {
  name: 'Opportunity',
  idField: 'Id',
  modifiedField: 'LastModifiedDate',
  fields: [
    field('Id', 'id', { ...byAws, nillable: false }),
    field('LastModifiedDate', 'datetime', { ...byAws, nillable: false }),
    pick('Origin', OpportunityOrigin),
    pick('OpportunityType', OpportunityType),
    field('PartnerOpportunityIdentifier', 'string', { length: 64 }),
    pick('PrimaryNeedsFromAws', PrimaryNeedFromAws, 'multipicklist'),
    pick('NationalSecurity', NationalSecurity),
    field('Customer.Account.CompanyName', 'string', { length: 120 }),
    pick('Customer.Account.Industry', Industry),
    field('Customer.Account.OtherIndustry', 'string', { length: 255 }),
    field('Customer.Account.WebsiteUrl', 'url', { length: 255 }),
    field('Customer.Account.AwsAccountId', 'string', { length: 12 }),
    field('Customer.Account.Duns', 'string', { length: 9 }),
    field('Customer.Account.Address.StreetAddress', 'string', { length: 255 }),
    field('Customer.Account.Address.City', 'string', { length: 255 }),
    field('Customer.Account.Address.StateOrRegion', 'string', { length: 255 }),
    field('Customer.Account.Address.PostalCode', 'string', { length: 20 }),
    pick('Customer.Account.Address.CountryCode', CountryCode),
    ...contact('Customer.Contacts'),
    ...contact('OpportunityTeam'),
    field('Project.Title', 'string', { length: 255 }),
    field('Project.CustomerBusinessProblem', 'text', { length: 2000 }),
    field('Project.CustomerUseCase', 'string'),
    pick('Project.DeliveryModels', DeliveryModel, 'multipicklist'),
    pick('Project.SalesActivities', SalesActivity, 'multipicklist'),
    // An amount is a decimal string ("2500.00"), never a JSON number.
    field('Project.ExpectedCustomerSpend[].Amount', 'string'),
    pick('Project.ExpectedCustomerSpend[].CurrencyCode', CurrencyCode),
    pick('Project.ExpectedCustomerSpend[].Frequency', PaymentFrequency),
    field('Project.ExpectedCustomerSpend[].TargetCompany', 'string'),
    pick('Project.CompetitorName', CompetitorName),
    field('Project.OtherCompetitorNames', 'string'),
    field('Project.AdditionalComments', 'text'),
    pick('LifeCycle.Stage', Stage),
    field('LifeCycle.TargetCloseDate', 'date'),
    pick('LifeCycle.ClosedLostReason', ClosedLostReason),
    field('LifeCycle.NextSteps', 'text'),
    pick('LifeCycle.ReviewStatus', ReviewStatus, 'picklist'),
    field('LifeCycle.ReviewComments', 'text', byAws),
    field('LifeCycle.ReviewStatusReason', 'string', byAws),
    pick('Marketing.Source', MarketingSource),
  ],
};

export const AWS_PARTNER_CENTRAL_OBJECTS: readonly ObjectSpec[] = [AWS_OPPORTUNITY];
