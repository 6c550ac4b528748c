import { z } from 'zod';
import { Address, CanonicalId, Domain, Email, Money } from './common.js';
import { CommitmentStanding } from './drawdown.js';
import { AccountFinance } from './erp.js';

/** A customer organisation. */
export const Account = z.object({
  id: CanonicalId,
  name: z.string().min(1),
  domain: Domain.optional(),
  website: z.string().optional(),
  industry: z.string().optional(),
  phone: z.string().optional(),
  employees: z.number().int().nonnegative().optional(),
  annualRevenue: Money.optional(),
  billingAddress: Address.optional(),
  ownerEmail: Email.optional(),
  description: z.string().optional(),
  /** Cloud account identifiers of this customer, used by co-sell and private offers. */
  awsAccountId: z.string().regex(/^\d{12}$/).optional(),
  azureTenantId: z.uuid().optional(),
  /** Finance's fields, kept by the ERP (system of record). */
  ...AccountFinance,
  /** The customer's committed spend with each cloud, written by ecosync's drawdown ledger. */
  commitments: z.object({
    aws: CommitmentStanding.optional(),
    azure: CommitmentStanding.optional(),
    gcp: CommitmentStanding.optional(),
  }).strict().optional(),
}).strict();
export type Account = z.infer<typeof Account>;
