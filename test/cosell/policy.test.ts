import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  approversOf, compareDecimal, DEFAULT_APPROVAL_POLICY, parseApprovalPolicy, pendingApprovers, refusal, stagesFor, type ApprovalPolicy,
} from '../../src/cosell/index.js';

const policy: ApprovalPolicy = {
  currency: 'USD',
  stages: [
    { name: 'deal_desk', roles: ['deal_desk'], slaSeconds: 60, escalateTo: 'boss@example.com' },
    { name: 'alliance_lead', roles: ['alliance_lead', 'vp'], minAmount: '100000', slaSeconds: 60 },
  ],
  users: { 'dana@example.com': ['deal_desk'], 'lee@example.com': ['alliance_lead'], 'vic@example.com': ['vp', 'deal_desk'], 'sam@example.com': ['sales'] },
};

describe('approval policy', () => {
  it('applies a stage from its threshold on, and every stage when the amount is unknown or in another currency', () => {
    const names = (amount?: { amount: string; currency: string }) => stagesFor(policy, amount).map((s) => s.name);
    expect(names({ amount: '99999.99', currency: 'USD' })).toEqual(['deal_desk']);
    expect(names({ amount: '100000.00', currency: 'USD' })).toEqual(['deal_desk', 'alliance_lead']);
    expect(names({ amount: '500', currency: 'EUR' })).toEqual(['deal_desk', 'alliance_lead']);
    expect(names(undefined)).toEqual(['deal_desk', 'alliance_lead']);
  });

  it('applies a stage with a discount threshold from that discount on, or from its amount, whichever is reached (private offers)', () => {
    const offers: ApprovalPolicy = {
      ...policy,
      stages: [...policy.stages, { name: 'finance', roles: ['vp'], minDiscountPercent: '20', minAmount: '500000', slaSeconds: 60 }],
    };
    const names = (amount: string, discount?: string) => stagesFor(offers, { amount, currency: 'USD' }, discount).map((s) => s.name);
    expect(names('50000', '19.99')).toEqual(['deal_desk']);
    expect(names('50000', '20')).toEqual(['deal_desk', 'finance']);
    expect(names('150000', '5')).toEqual(['deal_desk', 'alliance_lead']);
    expect(names('600000', '0')).toEqual(['deal_desk', 'alliance_lead', 'finance']);
    // An unknown discount takes the strict path.
    expect(names('50000')).toEqual(['deal_desk', 'finance']);
  });

  it('lists approvers by role, adds the escalation approver once escalated, and leaves out who approved before', () => {
    expect(approversOf(policy, 'deal_desk', [])).toEqual(['dana@example.com', 'vic@example.com']);
    expect(approversOf(policy, 'deal_desk', ['deal_desk'])).toEqual(['boss@example.com', 'dana@example.com', 'vic@example.com']);
    const progress = { stages: ['deal_desk', 'alliance_lead'], index: 1, escalated: [] };
    expect(pendingApprovers(policy, progress, [{ by: 'vic@example.com' }])).toEqual(['lee@example.com']);
    expect(pendingApprovers(policy, { ...progress, index: 2 })).toEqual([]);
  });

  it('refuses a user without the role, another stage than the current one, a second approval, and decisions when nothing waits', () => {
    const progress = { stages: ['deal_desk', 'alliance_lead'], index: 0, escalated: [] };
    expect(refusal(policy, progress, { by: 'dana@example.com' }, [])).toBeUndefined();
    expect(refusal(policy, progress, { by: 'sam@example.com' }, [])).toMatch(/needs the role deal_desk/);
    expect(refusal(policy, progress, { by: 'boss@example.com' }, [])).toMatch(/needs the role/);
    expect(refusal(policy, { ...progress, escalated: ['deal_desk'] }, { by: 'boss@example.com' }, [])).toBeUndefined();
    expect(refusal(policy, progress, { by: 'lee@example.com', stage: 'alliance_lead' }, [])).toMatch(/not the current one/);
    expect(refusal(policy, { ...progress, index: 1 }, { by: 'vic@example.com' }, [{ stage: 'deal_desk', by: 'vic@example.com' }])).toMatch(/already approved stage deal_desk/);
    expect(refusal(policy, { ...progress, index: 2 }, { by: 'lee@example.com' }, [])).toMatch(/no approval stage/);
    expect(refusal(policy, progress, { by: '' }, [])).toMatch(/needs the approver/);
  });

  it('compares decimals exactly, whatever their number of fraction digits', () => {
    expect(compareDecimal('1250.5', '1250.50')).toBe(0);
    expect(compareDecimal('99999.999', '100000')).toBe(-1);
    expect(compareDecimal('-1', '0.01')).toBe(-1);
    fc.assert(fc.property(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), (a, b) => {
      const cents = (n: bigint) => `${n < 0n ? '-' : ''}${(n < 0n ? -n : n) / 100n}.${String((n < 0n ? -n : n) % 100n).padStart(2, '0')}`;
      expect(compareDecimal(cents(a), cents(b))).toBe(a < b ? -1 : a > b ? 1 : 0);
    }));
  });

  it('checks a policy file and names every problem by path', () => {
    expect(parseApprovalPolicy({ ...policy })).toEqual(policy);
    expect(() => parseApprovalPolicy({ ...policy, stages: [...policy.stages, { name: 'deal_desk', roles: ['cfo'], slaSeconds: 0 }] }))
      .toThrow(/stages\.2\.slaSeconds: .*stages\.2\.name: stage deal_desk is defined twice.*stages\.2\.roles: nobody holds cfo/);
    // The shipped default has no users yet: each installation names its approvers.
    expect(() => parseApprovalPolicy(DEFAULT_APPROVAL_POLICY)).not.toThrow();
  });
});
