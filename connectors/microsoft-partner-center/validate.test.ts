import { describe, expect, it } from 'vitest';
import { applyJsonPatch, toJsonPatch } from './json-patch.js';
import type { Referral } from './referral.js';
import { sampleReferralInput } from './sample.js';
import { validateReferral, validateReferralUpdate, validateTransition } from './validate.js';

const fields = (errors: { field: string }[]) => errors.map((e) => e.field).sort();

describe('validateReferral', () => {
  it('accepts a complete Shared referral and an Independent one without consent or solutions', () => {
    expect(validateReferral(sampleReferralInput())).toEqual([]);
    const independent = sampleReferralInput({ type: 'Independent', consent: undefined });
    delete independent.details.requirements;
    expect(validateReferral(independent)).toEqual([]);
  });

  it('names every bad field at once', () => {
    const bad = sampleReferralInput({ name: '', qualification: 'Hot' as never });
    bad.customerProfile.address.country = 'USA';
    bad.customerProfile.team = [{ firstName: 'Ada', lastName: '' }];
    bad.details.currency = 'usd';
    bad.details.closingDateTime = 'next week';
    bad.details.dealValue = -5;
    const errors = validateReferral(bad);
    expect(fields(errors)).toEqual([
      'customerProfile.address.country', 'customerProfile.team[0].email', 'customerProfile.team[0].lastName',
      'details.closingDateTime', 'details.currency', 'details.dealValue', 'name', 'qualification',
    ]);
    expect(errors.find((e) => e.field === 'qualification')).toMatchObject({ code: 'InvalidEnumValue' });
    expect(errors.find((e) => e.field === 'customerProfile.address.country')?.message).toMatch(/ISO 3166-1 alpha-2/);
  });

  it('holds a Shared referral to consent and solutions', () => {
    const shared = sampleReferralInput({ consent: { consentToShareReferralWithMicrosoftSellers: false } });
    shared.details.requirements = { solutions: [] };
    const errors = validateReferral(shared);
    expect(fields(errors)).toEqual(['consent.consentToShareReferralWithMicrosoftSellers', 'details.requirements.solutions']);
    expect(validateReferral(sampleReferralInput({ consent: undefined }))).toContainEqual(expect.objectContaining({ field: 'consent', code: 'RequiredFieldMissing' }));
  });

  it('checks status pairs: a Shared referral starts New/Pending, substatus must match status', () => {
    expect(fields(validateReferral(sampleReferralInput({ status: 'Active', substatus: 'Accepted' })))).toEqual(['status']);
    expect(fields(validateReferral(sampleReferralInput({ type: 'Independent', status: 'Active', substatus: 'Won' })))).toEqual(['substatus']);
    expect(validateReferral(sampleReferralInput({ type: 'Independent', status: 'Active', substatus: 'Engaged' }))).toEqual([]);
    expect(validateReferral('nope')).toEqual([expect.objectContaining({ code: 'InvalidType' })]);
  });
});

describe('status transitions', () => {
  it('lets Microsoft accept our Shared referral but not us, and us accept theirs', () => {
    expect(validateTransition({ status: 'New', substatus: 'Pending' }, { status: 'Active', substatus: 'Accepted' }, 'microsoft')).toEqual([]);
    expect(validateTransition({ status: 'New', substatus: 'Pending' }, { status: 'Active', substatus: 'Accepted' }, 'partner'))
      .toEqual([expect.objectContaining({ code: 'InvalidStateTransition', message: expect.stringMatching(/only microsoft/) })]);
    expect(validateTransition({ status: 'New', substatus: 'Received' }, { status: 'Active', substatus: 'Accepted' }, 'partner')).toEqual([]);
  });

  it('needs a reason to decline or lose, and keeps Closed final', () => {
    expect(validateTransition({ status: 'New', substatus: 'Received' }, { status: 'Closed', substatus: 'Declined' }, 'partner'))
      .toEqual([expect.objectContaining({ field: 'statusReason', code: 'RequiredFieldMissing' })]);
    expect(validateTransition({ status: 'New', substatus: 'Received' }, { status: 'Closed', substatus: 'Declined', statusReason: 'Not our segment' }, 'partner')).toEqual([]);
    expect(validateTransition({ status: 'Closed', substatus: 'Won' }, { status: 'Closed', substatus: 'Won' }, 'partner'))
      .toEqual([expect.objectContaining({ code: 'InvalidStateTransition' })]);
    expect(validateTransition({ status: 'New', substatus: 'Received' }, { status: 'Closed', substatus: 'Won' }, 'partner'))
      .toEqual([expect.objectContaining({ code: 'InvalidStateTransition' })]);
  });

  it('lets the partner answer a referral Microsoft shared even when Microsoft left a field out, but checks what the partner changes', () => {
    const { requirements: _requirements, ...details } = sampleReferralInput().details;
    const before = { ...sampleReferralInput(), details, id: 'r1', engagementId: 'e1', direction: 'Incoming', status: 'New', substatus: 'Received', createdDateTime: '2025-01-01T00:00:00.000Z', updatedDateTime: '2025-01-01T00:00:00.000Z' } as Referral;
    expect(validateReferralUpdate(before, { ...before, status: 'Active', substatus: 'Accepted' }, 'partner')).toEqual([]);
    expect(fields(validateReferralUpdate(before, { ...before, details: { ...details, currency: 'nope' } }, 'partner'))).toEqual(['details.currency']);
    // Our own referrals stay whole.
    expect(fields(validateReferralUpdate({ ...before, direction: 'Outgoing' }, { ...before, direction: 'Outgoing', status: 'Active', substatus: 'Accepted' }, 'partner'))).toContain('details.requirements');
  });

  it('refuses changes to read-only fields', () => {
    const before = { ...sampleReferralInput(), id: 'r1', engagementId: 'e1', direction: 'Outgoing', status: 'Active', substatus: 'Accepted', createdDateTime: '2025-01-01T00:00:00.000Z', updatedDateTime: '2025-01-01T00:00:00.000Z' } as Referral;
    const after = { ...before, type: 'Independent' as const, id: 'r2' };
    expect(fields(validateReferralUpdate(before, after, 'partner'))).toEqual(['id', 'type']);
  });
});

describe('JSON Patch', () => {
  it('turns a partial referral into add/replace operations that reproduce the merge', () => {
    const current = sampleReferralInput();
    const patch = { details: { dealValue: 150_000 }, statusReason: 'Customer signed the LOI', team: [{ firstName: 'Grace', lastName: 'Hopper', email: 'grace@example.com' }] };
    const ops = toJsonPatch(current, patch);
    expect(ops).toEqual([
      { op: 'replace', path: '/details/dealValue', value: 150_000 },
      { op: 'add', path: '/statusReason', value: 'Customer signed the LOI' },
      { op: 'add', path: '/team', value: patch.team },
    ]);
    const merged = applyJsonPatch(current, ops);
    expect(merged.details.dealValue).toBe(150_000);
    expect(merged.details.currency).toBe('USD');
    expect(current.details.dealValue).toBe(120_000);
    expect(toJsonPatch(merged, patch)).toEqual([]);
  });

  it('rejects operations Partner Center does not support and paths that do not exist', () => {
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'remove', path: '/a' }])).toThrow(/only add and replace/);
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '/b', value: 2 }])).toThrow(/does not exist/);
    expect(applyJsonPatch({ team: [1] }, [{ op: 'add', path: '/team/-', value: 2 }])).toEqual({ team: [1, 2] });
  });
});
