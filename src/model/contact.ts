import { z } from 'zod';
import { CanonicalId, Email } from './common.js';

export const Contact = z.object({
  id: CanonicalId,
  firstName: z.string().optional(),
  lastName: z.string().min(1),
  email: Email.optional(),
  phone: z.string().optional(),
  title: z.string().optional(),
  /** Canonical id of the Account this person works for. */
  accountId: CanonicalId.optional(),
}).strict();
export type Contact = z.infer<typeof Contact>;
