import { z } from 'zod';
import { CanonicalId, Domain } from './common.js';

export const PartnerTier = z.enum(['registered', 'select', 'advanced', 'premier']);
export type PartnerTier = z.infer<typeof PartnerTier>;

/** A reseller, SI or ISV partner we work with (or the cloud itself as a co-sell partner). */
export const Partner = z.object({
  id: CanonicalId,
  name: z.string().min(1),
  domain: Domain.optional(),
  website: z.string().optional(),
  tier: PartnerTier.optional(),
  programs: z.array(z.string().min(1)).optional(),
  awsPartnerId: z.string().optional(),
  microsoftPartnerId: z.string().optional(),
  awsMarketplaceSellerId: z.string().optional(),
  azureMarketplaceSellerId: z.string().optional(),
}).strict();
export type Partner = z.infer<typeof Partner>;
