import type { FieldSpec, ObjectSpec } from '../../../src/sync/protocol.js';
import { KEY_PREFIXES } from '../descriptor.js';
import { idChecksum, isWellFormedId } from './ids.js';
import { parseSfDateTime } from './soql.js';

/** One entry of a save result's `errors`, as the REST API returns it. */
export interface SaveError {
  statusCode: string;
  message: string;
  fields: string[];
}

export type ReferenceState = 'live' | 'deleted' | 'missing';

export interface ValidationContext {
  /** Whether the record a reference field points at exists. */
  reference(object: string, id: string): ReferenceState;
}

const NUMERIC = new Set(['number', 'integer', 'currency', 'percent']);
const TEXT = new Set(['string', 'text', 'email', 'phone', 'url', 'picklist', 'multipicklist', 'id', 'reference']);
// Salesforce's own check is looser than RFC 5322 but rejects the usual typos.
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function err(statusCode: string, message: string, fields: string[] = []): SaveError {
  return { statusCode, message, fields };
}

function label(field: FieldSpec): string {
  return field.type === 'reference' && field.referenceTo ? `${field.referenceTo} ID` : field.name;
}

/**
 * Checks and converts one record's fields the way the org does on insert or update: unknown and
 * read-only fields, types, lengths, restricted picklists, e-mail addresses, references and
 * required fields. Returns the stored form (datetimes as epoch ms) and every error found.
 */
export function validateFields(
  spec: ObjectSpec,
  input: Readonly<Record<string, unknown>>,
  mode: 'create' | 'update',
  ctx: ValidationContext,
): { values: Record<string, unknown>; errors: SaveError[] } {
  const byName = new Map(spec.fields.map((f) => [f.name.toLowerCase(), f]));
  const values: Record<string, unknown> = {};
  const errors: SaveError[] = [];
  const readOnly: string[] = [];
  const requiredMissing: string[] = [];
  // Fields given a value, valid or not: a bad value is its own error, not a missing one.
  const given = new Set<string>();

  for (const [key, raw] of Object.entries(input)) {
    if (key === 'attributes' || key === 'Id' || key === 'id') continue;
    const field = byName.get(key.toLowerCase());
    if (!field) {
      errors.push(err('INVALID_FIELD', `No such column '${key}' on sobject of type ${spec.name}`, [key]));
      continue;
    }
    if (mode === 'create' ? !field.createable : !field.updateable) {
      readOnly.push(field.name);
      continue;
    }
    if (raw === null || raw === undefined || raw === '') {
      if (!field.nillable) requiredMissing.push(field.name);
      else values[field.name] = null;
      continue;
    }
    given.add(field.name);
    const converted = convert(field, raw, ctx);
    if ('error' in converted) errors.push(converted.error);
    else values[field.name] = converted.value;
  }

  if (mode === 'create') {
    for (const field of spec.fields) {
      if (field.createable && !field.nillable && !given.has(field.name) && !(field.name in values) && !requiredMissing.includes(field.name)) {
        requiredMissing.push(field.name);
      }
    }
  }
  if (readOnly.length > 0) {
    errors.unshift(err('INVALID_FIELD_FOR_INSERT_UPDATE', `Unable to create/update fields: ${readOnly.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`, readOnly));
  }
  if (requiredMissing.length > 0) {
    errors.unshift(err('REQUIRED_FIELD_MISSING', `Required fields are missing: [${requiredMissing.join(', ')}]`, requiredMissing));
  }
  return { values, errors };
}

function convert(field: FieldSpec, raw: unknown, ctx: ValidationContext): { value: unknown } | { error: SaveError } {
  const wrongType = () => ({ error: err('INVALID_TYPE_ON_FIELD_IN_RECORD', `${label(field)}: value not of required type: ${String(raw)}`, [field.name]) });
  if (NUMERIC.has(field.type)) {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isFinite(n)) return wrongType();
    if (field.type === 'integer' && !Number.isInteger(n)) return wrongType();
    return { value: n };
  }
  if (field.type === 'boolean') return typeof raw === 'boolean' ? { value: raw } : wrongType();
  if (field.type === 'date') {
    return typeof raw === 'string' && DATE.test(raw) && !Number.isNaN(Date.parse(raw)) ? { value: raw } : wrongType();
  }
  if (field.type === 'datetime') {
    const ms = typeof raw === 'string' ? parseSfDateTime(raw) : Number.NaN;
    return Number.isNaN(ms) ? wrongType() : { value: ms };
  }
  if (!TEXT.has(field.type) || typeof raw !== 'string') {
    if (typeof raw === 'number' || typeof raw === 'boolean') return convert(field, String(raw), ctx);
    return wrongType();
  }
  // A 15-character id is the same record as its 18-character form; store the latter.
  const value = field.type === 'reference' && /^[a-zA-Z0-9]{15}$/.test(raw) ? raw + idChecksum(raw) : raw;
  if (field.length !== undefined && value.length > field.length) {
    return { error: err('STRING_TOO_LONG', `${label(field)}: data value too large: ${value.slice(0, 60)}${value.length > 60 ? '…' : ''} (max length=${field.length})`, [field.name]) };
  }
  if (field.type === 'picklist' && field.picklistValues && !field.picklistValues.includes(value)) {
    return { error: err('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${label(field)}: bad value for restricted picklist field: ${value}`, [field.name]) };
  }
  if (field.type === 'email' && !EMAIL.test(value)) {
    return { error: err('INVALID_EMAIL_ADDRESS', `${label(field)}: invalid email address: ${value}`, [field.name]) };
  }
  if (field.type === 'reference' && field.referenceTo) {
    const prefix = KEY_PREFIXES[field.referenceTo];
    if (!isWellFormedId(value) || (prefix && !value.startsWith(prefix))) {
      return { error: err('MALFORMED_ID', `${label(field)}: id value of incorrect type: ${value}`, [field.name]) };
    }
    const state = ctx.reference(field.referenceTo, value);
    if (state === 'deleted') return { error: err('ENTITY_IS_DELETED', 'entity is deleted', [field.name]) };
    if (state === 'missing') return { error: err('INVALID_CROSS_REFERENCE_KEY', `invalid cross reference id`, [field.name]) };
  }
  return { value };
}
