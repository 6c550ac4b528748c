/**
 * What a mapping needs to know about a canonical field, read once from the entity's zod schema:
 * its kind (how values look), whether the entity requires it, and the allowed enum values.
 */
import type { z } from 'zod';
import { DecimalString, ENTITIES, Money, type EntityName } from '../model/index.js';

export type CanonicalKind =
  | 'string' | 'id' | 'enum' | 'integer' | 'number' | 'boolean'
  | 'date' | 'datetime' | 'decimal' | 'money' | 'object' | 'array' | 'other';

export interface CanonicalField {
  path: string;
  kind: CanonicalKind;
  required: boolean;
  enumValues?: readonly string[];
  /** Direct children of an object-kind field, for "did you mean" messages. */
  children?: readonly string[];
  /** A list's items: their kind, and their fields by path when they are objects (`contacts` → `email`). */
  item?: CanonicalField;
  itemFields?: ReadonlyMap<string, CanonicalField>;
}

interface ZodDef {
  type: string;
  innerType?: z.ZodType;
  format?: string;
  entries?: Record<string, string>;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  checks?: { _zod: { def: { check: string; format?: string } } }[];
}

const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: ZodDef } })._zod.def;

function unwrap(schema: z.ZodType): { schema: z.ZodType; optional: boolean } {
  let optional = false;
  let def = defOf(schema);
  while ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable') && def.innerType) {
    optional = true;
    schema = def.innerType;
    def = defOf(schema);
  }
  return { schema, optional };
}

function describe(path: string, raw: z.ZodType, parentOptional: boolean): CanonicalField {
  const { schema, optional } = unwrap(raw);
  const required = !optional && !parentOptional;
  const def = defOf(schema);
  if (schema === Money) return { path, kind: 'money', required };
  if (schema === DecimalString) return { path, kind: 'decimal', required };
  switch (def.type) {
    case 'string':
      if (def.format === 'uuid' || def.format === 'guid') return { path, kind: 'id', required };
      if (def.format === 'date') return { path, kind: 'date', required };
      if (def.format === 'datetime') return { path, kind: 'datetime', required };
      return { path, kind: 'string', required };
    case 'enum':
      return { path, kind: 'enum', required, enumValues: Object.values(def.entries ?? {}) };
    case 'number': {
      const isInt = def.checks?.some((c) => c._zod.def.check === 'number_format' && /int/.test(c._zod.def.format ?? ''));
      return { path, kind: isInt ? 'integer' : 'number', required };
    }
    case 'int':
      return { path, kind: 'integer', required };
    case 'boolean':
      return { path, kind: 'boolean', required };
    case 'object':
      return { path, kind: 'object', required, children: Object.keys(def.shape ?? {}) };
    case 'array': {
      const item = def.element ? describe('', def.element, false) : undefined;
      const itemShape = item?.kind === 'object' ? defOf(unwrap(def.element!).schema).shape : undefined;
      return { path, kind: 'array', required, item, itemFields: itemShape ? fieldsOfShape(itemShape) : undefined };
    }
    default:
      return { path, kind: 'other', required };
  }
}

/** Every field of an entity by dotted path ("billingAddress.city"), nested objects included. */
function fieldsOf(schema: z.ZodType): Map<string, CanonicalField> {
  return fieldsOfShape(defOf(unwrap(schema).schema).shape ?? {});
}

function fieldsOfShape(shape: Record<string, z.ZodType>): Map<string, CanonicalField> {
  const out = new Map<string, CanonicalField>();
  const walk = (shape: Record<string, z.ZodType>, prefix: string, parentOptional: boolean) => {
    for (const [key, raw] of Object.entries(shape)) {
      const path = prefix + key;
      const field = describe(path, raw, parentOptional);
      out.set(path, field);
      if (field.kind === 'object') {
        const inner = unwrap(raw).schema;
        walk(defOf(inner).shape ?? {}, path + '.', parentOptional || !field.required);
      }
    }
  };
  walk(shape, '', false);
  return out;
}

const cache = new WeakMap<z.ZodType, Map<string, CanonicalField>>();

/**
 * Every field of an entity's zod object schema by dotted path. Works for any entity schema: its
 * lists of objects (an invoice's `lines`) come with their items' fields (`itemFields`).
 */
export function canonicalFieldsOf(schema: z.ZodType): Map<string, CanonicalField> {
  let fields = cache.get(schema);
  if (!fields) cache.set(schema, (fields = fieldsOf(schema)));
  return fields;
}

export function canonicalFields(entity: EntityName): Map<string, CanonicalField> {
  return canonicalFieldsOf(ENTITIES[entity] as unknown as z.ZodType);
}
