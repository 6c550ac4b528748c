import type { FieldSpec, ObjectSpec } from '../../../src/sync/protocol.js';
import { propertyFields } from '../descriptor.js';

/**
 * Per-input property validation the way HubSpot does it: every problem is a
 * `{ error: CODE, name: property, message }`, and the batch response reports them in one
 * VALIDATION_ERROR whose message embeds the list ("Property values were not valid: [...]").
 */
export interface PropertyIssue {
  name: string;
  code: string;
  message: string;
}

export interface Validated {
  values: Record<string, string | null>;
  issues: PropertyIssue[];
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const NUMBER = /^-?\d+(\.\d+)?$/;

/** Fields HubSpot sets itself and refuses on writes. */
function isReadOnly(f: FieldSpec): boolean {
  return !f.createable && !f.updateable;
}

function fieldIndex(spec: ObjectSpec): Map<string, FieldSpec> {
  let map = cache.get(spec);
  if (!map) {
    map = new Map(propertyFields(spec).map((f) => [f.name, f]));
    cache.set(spec, map);
  }
  return map;
}
const cache = new WeakMap<ObjectSpec, Map<string, FieldSpec>>();

export function knownProperty(spec: ObjectSpec, name: string): FieldSpec | undefined {
  return fieldIndex(spec).get(name);
}

/** Validate the `properties` of one input. `creating` adds the required-property check. */
export function validateProperties(spec: ObjectSpec, raw: unknown, creating: boolean): Validated {
  const values: Record<string, string | null> = {};
  const issues: PropertyIssue[] = [];
  const input = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const fields = fieldIndex(spec);
  for (const [name, value] of Object.entries(input)) {
    const f = fields.get(name);
    if (!f) {
      issues.push({ name, code: 'PROPERTY_DOESNT_EXIST', message: `Property "${name}" does not exist` });
      continue;
    }
    if (isReadOnly(f)) {
      issues.push({ name, code: 'READ_ONLY_VALUE', message: `"${name}" is a read only property; its value cannot be set.` });
      continue;
    }
    if (value === null || value === undefined || value === '') {
      values[name] = null;
      continue;
    }
    const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
    if (text === undefined) {
      issues.push({ name, code: 'INVALID_VALUE', message: `${JSON.stringify(value)} is not a valid value for ${name}` });
      continue;
    }
    const issue = checkValue(f, text);
    if (issue) issues.push(issue);
    else values[name] = normalizeValue(f, text);
  }
  if (creating) {
    for (const f of fields.values()) {
      if (!f.nillable && !isReadOnly(f) && !values[f.name]) {
        issues.push({ name: f.name, code: 'REQUIRED_PROPERTY', message: `Property "${f.name}" is required` });
      }
    }
  }
  return { values, issues };
}

function checkValue(f: FieldSpec, text: string): PropertyIssue | undefined {
  switch (f.type) {
    case 'email':
      return EMAIL.test(text) ? undefined : { name: f.name, code: 'INVALID_EMAIL', message: `Email address ${text} is invalid` };
    case 'number':
    case 'integer':
    case 'currency':
    case 'percent':
    case 'reference':
      return NUMBER.test(text) ? undefined : { name: f.name, code: 'INVALID_DECIMAL', message: `${text} was not a valid number.` };
    case 'picklist':
      return f.picklistValues?.includes(text) ? undefined : { name: f.name, code: 'INVALID_OPTION', message: `${text} was not one of the allowed options: [${f.picklistValues?.join(', ')}]` };
    case 'date':
    case 'datetime':
      return /^\d+$/.test(text) || !Number.isNaN(Date.parse(text)) ? undefined : { name: f.name, code: 'INVALID_DATE', message: `${text} is not a valid date` };
    default:
      return f.length !== undefined && text.length > f.length
        ? { name: f.name, code: 'INVALID_LENGTH', message: `${f.name} is longer than ${f.length} characters` }
        : undefined;
  }
}

/** Dates come in as epoch ms or ISO; HubSpot stores ISO with ms. */
export function normalizeValue(f: FieldSpec | undefined, text: string): string {
  if (f && (f.type === 'datetime' || f.type === 'date')) {
    const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
    return new Date(ms).toISOString();
  }
  return text;
}

/** HubSpot's VALIDATION_ERROR message format, embedding the per-property issues as JSON. */
export function validationMessage(issues: PropertyIssue[], portalId: number): string {
  const list = issues.map((i) => ({ isValid: false, message: i.message, error: i.code, name: i.name, localizedErrorMessage: i.message, portalId }));
  return `Property values were not valid: ${JSON.stringify(list)}`;
}
