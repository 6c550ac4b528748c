import {
  REFERRAL_QUALIFICATIONS, REFERRAL_STATUSES, REFERRAL_SUBSTATUSES, REFERRAL_TRANSITIONS, REFERRAL_TYPES,
  SUBSTATUSES_BY_STATUS, SUBSTATUSES_NEEDING_REASON, statusPair,
  type Referral, type ReferralActor, type ReferralStatus, type ReferralSubstatus,
} from './referral.js';

/**
 * Referral rules as data. The sandbox rejects what breaks them with Partner Center's 400, and
 * ecosync checks a payload against the same table before any call, so a bad CRM record fails
 * fast, naming every bad field at once.
 */
export type FieldErrorCode =
  | 'RequiredFieldMissing' | 'InvalidType' | 'InvalidEnumValue' | 'InvalidFormat' | 'InvalidValue'
  | 'TooFewItems' | 'TooManyValues' | 'ReadOnlyField' | 'InvalidStateTransition';

export interface FieldError {
  /** Dotted path with array indexes: `customerProfile.team[0].email`. */
  field: string;
  code: FieldErrorCode;
  message: string;
}

type Payload = Record<string, unknown>;

interface FieldRule {
  /** Dotted path relative to the object the table applies to. */
  field: string;
  /** Required always, or only when the predicate holds for the whole payload. */
  required?: boolean | ((payload: Payload) => boolean);
  type?: 'string' | 'number' | 'boolean' | 'object' | 'array';
  enum?: readonly string[];
  pattern?: RegExp;
  /** Said in the error when `pattern` fails: "an ISO 3166-1 alpha-2 code such as US". */
  format?: string;
  maxLength?: number;
  min?: number;
  minItems?: number;
  maxItems?: number;
  /** The value must be exactly this (consent flags). */
  equals?: unknown;
  /** When `equals` applies: only if this holds. */
  equalsWhen?: (payload: Payload) => boolean;
  /** Rules for each item of an array. */
  each?: readonly FieldRule[];
  /** Custom check: a message, or null when fine. */
  check?: (value: unknown, payload: Payload) => string | null;
}

const isShared = (p: Payload) => p.type === 'Shared';
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const MEMBER_RULES: readonly FieldRule[] = [
  { field: 'firstName', required: true, type: 'string', maxLength: 100 },
  { field: 'lastName', required: true, type: 'string', maxLength: 100 },
  { field: 'email', type: 'string', pattern: EMAIL, format: 'an email address' },
  { field: 'phoneNumber', type: 'string', pattern: /^\+?[0-9 ()-]{4,30}$/, format: 'a phone number' },
  {
    field: 'email',
    check: (_v, member) => (nonEmpty(member.email) || nonEmpty(member.phoneNumber) ? null : 'a team member needs an email or a phone number'),
  },
];

export const REFERRAL_RULES: readonly FieldRule[] = [
  { field: 'name', required: true, type: 'string', maxLength: 255 },
  { field: 'externalReferenceId', type: 'string', maxLength: 100 },
  { field: 'type', required: true, type: 'string', enum: REFERRAL_TYPES },
  { field: 'qualification', required: true, type: 'string', enum: REFERRAL_QUALIFICATIONS },
  { field: 'status', type: 'string', enum: REFERRAL_STATUSES },
  { field: 'substatus', type: 'string', enum: REFERRAL_SUBSTATUSES },
  { field: 'statusReason', type: 'string', maxLength: 1000 },
  { field: 'customerProfile', required: true, type: 'object' },
  { field: 'customerProfile.name', required: true, type: 'string', maxLength: 255 },
  { field: 'customerProfile.address', required: true, type: 'object' },
  { field: 'customerProfile.address.country', required: true, type: 'string', pattern: /^[A-Z]{2}$/, format: 'an ISO 3166-1 alpha-2 code such as US' },
  { field: 'customerProfile.address.postalCode', type: 'string', maxLength: 20 },
  { field: 'customerProfile.team', required: true, type: 'array', minItems: 1, maxItems: 20, each: MEMBER_RULES },
  { field: 'consent', required: isShared, type: 'object' },
  {
    field: 'consent.consentToShareReferralWithMicrosoftSellers', required: isShared, type: 'boolean',
    equals: true, equalsWhen: isShared,
  },
  { field: 'details', required: true, type: 'object' },
  { field: 'details.dealValue', required: true, type: 'number', min: 0 },
  { field: 'details.currency', required: true, type: 'string', pattern: /^[A-Z]{3}$/, format: 'an ISO 4217 code such as USD' },
  {
    field: 'details.closingDateTime', required: true, type: 'string', pattern: ISO_DATE_TIME, format: 'an ISO 8601 date-time such as 2025-06-30T00:00:00Z',
    check: (v) => (typeof v === 'string' && Number.isNaN(Date.parse(v)) ? 'is not a real date' : null),
  },
  { field: 'details.notes', type: 'string', maxLength: 4000 },
  { field: 'details.requirements', required: isShared, type: 'object' },
  {
    field: 'details.requirements.solutions', required: isShared, type: 'array', minItems: 1, maxItems: 20,
    each: [{ field: 'id', required: true, type: 'string', maxLength: 100 }],
  },
  { field: 'team', type: 'array', maxItems: 20, each: MEMBER_RULES },
  {
    field: 'substatus',
    check: (v, p) => {
      if (typeof p.status !== 'string' || typeof v !== 'string') return null;
      const allowed = SUBSTATUSES_BY_STATUS[p.status as ReferralStatus];
      return allowed && !allowed.includes(v as ReferralSubstatus) ? `substatus ${v} does not go with status ${p.status} (allowed: ${allowed.join(', ')})` : null;
    },
  },
];

/** Checks a create payload; an empty list means Partner Center would take it. */
export function validateReferral(payload: unknown): FieldError[] {
  if (!isObject(payload)) return [{ field: '', code: 'InvalidType', message: 'the referral must be a JSON object' }];
  const errors = applyRules(REFERRAL_RULES, payload, payload, '');
  const status = payload.status;
  const substatus = payload.substatus;
  if ((status === undefined) !== (substatus === undefined)) {
    errors.push({ field: status === undefined ? 'status' : 'substatus', code: 'RequiredFieldMissing', message: 'status and substatus are given together' });
  } else if (status !== undefined && payload.type === 'Shared' && statusPairOf(payload) !== 'New/Pending') {
    errors.push({ field: 'status', code: 'InvalidValue', message: 'a Shared referral starts as New/Pending: Microsoft decides whether it becomes Active' });
  }
  return errors;
}

/** Fields Partner Center owns or that fix a referral's identity: an update may not change them. */
export const READ_ONLY_FIELDS = ['id', 'engagementId', 'direction', 'type', 'createdDateTime', 'updatedDateTime', 'acceptedDateTime', 'expirationDateTime'] as const;

/**
 * Checks an update: the result must still be a valid referral, read-only fields unchanged, and
 * the status move allowed for this actor.
 */
export function validateReferralUpdate(before: Referral, after: Referral, actor: ReferralActor): FieldError[] {
  const errors: FieldError[] = [];
  for (const field of READ_ONLY_FIELDS) {
    if (JSON.stringify(before[field]) !== JSON.stringify(after[field])) {
      errors.push({ field, code: 'ReadOnlyField', message: `${field} cannot be changed` });
    }
  }
  // Status of a Shared referral is no longer New/Pending after creation: check the rest of the rules only.
  const content = applyRules(REFERRAL_RULES, after as unknown as Payload, after as unknown as Payload, '');
  // A referral Microsoft shared with us is Microsoft's content: answering it (a status move) is
  // not refused for a field Microsoft left out; only the fields the partner changes are checked.
  const changed = (field: string) => JSON.stringify(getPath(before as unknown as Payload, field)) !== JSON.stringify(getPath(after as unknown as Payload, field));
  errors.push(...(before.direction === 'Incoming' ? content.filter((e) => changed(e.field.replace(/\[\d+\]/g, '')) || e.field === '') : content));
  errors.push(...validateTransition(before, after, actor));
  return errors;
}

export function validateTransition(
  before: { status: ReferralStatus; substatus: ReferralSubstatus },
  after: { status: ReferralStatus; substatus: ReferralSubstatus; statusReason?: string },
  actor: ReferralActor,
): FieldError[] {
  const from = statusPair(before.status, before.substatus);
  const to = statusPair(after.status, after.substatus);
  if (before.status === 'Closed') {
    return [{ field: 'status', code: 'InvalidStateTransition', message: `the referral is ${from} and can no longer be changed` }];
  }
  if (from !== to) {
    const rule = REFERRAL_TRANSITIONS.find((t) => t.from === from && t.to === to);
    if (!rule) return [{ field: 'status', code: 'InvalidStateTransition', message: `a referral cannot move from ${from} to ${to}` }];
    if (!rule.by.includes(actor)) {
      return [{ field: 'status', code: 'InvalidStateTransition', message: `only ${rule.by.join(' or ')} can move a referral from ${from} to ${to}` }];
    }
    if (SUBSTATUSES_NEEDING_REASON.includes(after.substatus) && !nonEmpty(after.statusReason)) {
      return [{ field: 'statusReason', code: 'RequiredFieldMissing', message: `moving to ${to} needs a statusReason` }];
    }
  }
  return [];
}

function applyRules(rules: readonly FieldRule[], target: Payload, payload: Payload, prefix: string): FieldError[] {
  const errors: FieldError[] = [];
  const failed = new Set<string>();
  for (const rule of rules) {
    const field = prefix + rule.field;
    const value = getPath(target, rule.field);
    // Only the first problem of a field is reported, and children of a broken parent are skipped.
    if ([...failed].some((f) => field === f || field.startsWith(`${f}.`))) continue;
    const error = checkRule(rule, value, target, payload, field);
    if (error) {
      errors.push(error);
      failed.add(field);
      continue;
    }
    if (rule.each && Array.isArray(value)) {
      value.forEach((item, i) => {
        const itemField = `${field}[${i}]`;
        if (!isObject(item)) errors.push({ field: itemField, code: 'InvalidType', message: `${itemField} must be an object` });
        else errors.push(...applyRules(rule.each!, item, payload, `${itemField}.`));
      });
    }
  }
  return errors;
}

function checkRule(rule: FieldRule, value: unknown, target: Payload, payload: Payload, field: string): FieldError | null {
  const required = typeof rule.required === 'function' ? rule.required(payload) : rule.required === true;
  if (value === undefined || value === null || value === '') {
    if (required) return { field, code: 'RequiredFieldMissing', message: `${field} is required` };
    // A custom check may be about absence (an email or a phone number).
    const message = rule.check?.(value, target);
    return message ? { field, code: 'RequiredFieldMissing', message: `${field}: ${message}` } : null;
  }
  if (rule.type && typeOf(value) !== rule.type) {
    return { field, code: 'InvalidType', message: `${field} must be a ${rule.type}, got ${typeOf(value)}` };
  }
  if (rule.enum && !rule.enum.includes(value as string)) {
    return { field, code: 'InvalidEnumValue', message: `${field} must be one of ${rule.enum.join(', ')}, got "${String(value)}"` };
  }
  if (rule.pattern && typeof value === 'string' && !rule.pattern.test(value)) {
    return { field, code: 'InvalidFormat', message: `${field} must be ${rule.format ?? `like ${rule.pattern}`}, got "${value}"` };
  }
  if (rule.maxLength !== undefined && typeof value === 'string' && value.length > rule.maxLength) {
    return { field, code: 'InvalidValue', message: `${field} is longer than ${rule.maxLength} characters` };
  }
  if (rule.min !== undefined && typeof value === 'number' && !(value >= rule.min)) {
    return { field, code: 'InvalidValue', message: `${field} must be at least ${rule.min}` };
  }
  if (Array.isArray(value) && rule.minItems !== undefined && value.length < rule.minItems) {
    return { field, code: 'TooFewItems', message: `${field} needs at least ${rule.minItems} item(s)` };
  }
  if (Array.isArray(value) && rule.maxItems !== undefined && value.length > rule.maxItems) {
    return { field, code: 'TooManyValues', message: `${field} takes at most ${rule.maxItems} items` };
  }
  if (rule.equals !== undefined && (rule.equalsWhen?.(payload) ?? true) && value !== rule.equals) {
    return { field, code: 'InvalidValue', message: `${field} must be ${JSON.stringify(rule.equals)}${rule.equalsWhen ? ' for this referral type' : ''}` };
  }
  const message = rule.check?.(value, target);
  return message ? { field, code: 'InvalidValue', message: `${field}: ${message}` } : null;
}

function getPath(target: Payload, path: string): unknown {
  let value: unknown = target;
  for (const key of path.split('.')) {
    if (!isObject(value)) return undefined;
    value = value[key];
  }
  return value;
}

function statusPairOf(p: Payload): string {
  return `${String(p.status)}/${String(p.substatus)}`;
}

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function isObject(value: unknown): value is Payload {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmpty(value: unknown): boolean {
  return typeof value === 'string' && value.trim() !== '';
}
