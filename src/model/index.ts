import { z } from 'zod';
import { Account } from './account.js';
import { Contact } from './contact.js';
import { CoSellSubmission } from './cosell.js';
import { Opportunity } from './opportunity.js';
import { Partner } from './partner.js';
import { Invoice, SalesOrder } from './erp.js';
import { Agreement, OfferTerms, PrivateOffer, ResaleAuthorization } from './offer.js';

export * from './common.js';
export * from './account.js';
export * from './contact.js';
export * from './partner.js';
export * from './opportunity.js';
export * from './cosell.js';
export * from './erp.js';
export * from './drawdown.js';
export * from './offer.js';

/**
 * Every canonical entity by name. CoSellSubmission is what the co-sell payload mapping files map
 * to the clouds; OfferTerms is what a CRM holds of a private offer, PrivateOffer
 * what the offer payload mapping files map to the marketplaces.
 * Entities of later capabilities (Commitment, DrawdownEntry, UsageRecord, Touchpoint) are added
 * here as they arrive; mappings and the store refer to entities only through this table.
 */
export const ENTITIES = {
  Account,
  Contact,
  Partner,
  Opportunity,
  CoSellSubmission,
  SalesOrder,
  Invoice,
  OfferTerms,
  PrivateOffer,
  ResaleAuthorization,
  Agreement,
} as const;
export type EntityName = keyof typeof ENTITIES;
export type EntityOf<N extends EntityName> = z.infer<(typeof ENTITIES)[N]>;
export const EntityName = z.enum(Object.keys(ENTITIES) as [EntityName, ...EntityName[]]);

export function isEntityName(name: string): name is EntityName {
  return Object.hasOwn(ENTITIES, name);
}
