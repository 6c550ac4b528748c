import { z } from 'zod';
import { CurrencyCode, DecimalString, Email } from '../model/index.js';
import type { ApprovalPolicy } from './approval.js';

/** The approval policy as RevOps writes it (JSON or YAML), checked before any workflow sees it. */
export const ApprovalPolicySchema = z.object({
  currency: CurrencyCode,
  stages: z.array(z.object({
    name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'a lower-case name such as deal_desk'),
    roles: z.array(z.string().min(1)).min(1),
    minAmount: DecimalString.optional(),
    minDiscountPercent: DecimalString.optional(),
    slaSeconds: z.number().positive(),
    escalateTo: Email.optional(),
  }).strict()).min(1),
  users: z.record(Email, z.array(z.string().min(1))),
  inbound: z.object({
    roles: z.array(z.string().min(1)).min(1),
    slaSeconds: z.number().positive(),
    escalateTo: Email.optional(),
  }).strict().optional(),
}).strict().superRefine((policy, ctx) => {
  const names = policy.stages.map((s) => s.name);
  names.forEach((name, i) => {
    if (names.indexOf(name) !== i) ctx.addIssue({ code: 'custom', path: ['stages', i, 'name'], message: `stage ${name} is defined twice` });
  });
  policy.stages.forEach((stage, i) => {
    const holders = Object.values(policy.users).filter((roles) => roles.some((r) => stage.roles.includes(r)));
    if (holders.length === 0 && !stage.escalateTo) {
      ctx.addIssue({ code: 'custom', path: ['stages', i, 'roles'], message: `nobody holds ${stage.roles.join(' or ')}: stage ${stage.name} could never be approved` });
    }
  });
  const inbound = policy.inbound;
  if (inbound && !inbound.escalateTo && !Object.values(policy.users).some((roles) => roles.some((r) => inbound.roles.includes(r)))) {
    ctx.addIssue({ code: 'custom', path: ['inbound', 'roles'], message: `nobody holds ${inbound.roles.join(' or ')}: invitations from the clouds could never be accepted` });
  }
});

/** The policy, or an error naming every problem by path. */
export function parseApprovalPolicy(input: unknown): ApprovalPolicy {
  const parsed = ApprovalPolicySchema.safeParse(input);
  if (!parsed.success) {
    throw new Error(`invalid approval policy: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
