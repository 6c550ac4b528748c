import { COUNTRY_CODES } from '../descriptor.js';
import { ADDRESS_FIELDS, ADDRESS_LINE_FIELDS, ITEM_LINE_FIELDS, RECORD_TYPES, type RecordType, type WireField } from './records.js';

/**
 * The metadata catalog: `GET /record/v1/metadata-catalog` lists the record types, and
 * `GET /record/v1/metadata-catalog/<type>` with `Accept: application/schema+json` describes one
 * as JSON Schema (draft 06 hyper-schema): each field's title, type and format, nullable,
 * readOnly, enum values, and for references an object of {id, refName} with a `describedby` link
 * to the referenced type's schema.
 */

export function catalogList(base: string): Record<string, unknown> {
  return {
    items: RECORD_TYPES.map((t) => ({
      name: t.name,
      links: [
        { rel: 'canonical', href: `${base}/record/v1/metadata-catalog/${t.name}`, mediaType: 'application/json' },
        { rel: 'alternate', href: `${base}/record/v1/metadata-catalog/${t.name}`, mediaType: 'application/swagger+json' },
        { rel: 'describes', href: `${base}/record/v1/${t.name}`, mediaType: 'application/json' },
      ],
    })),
    links: [{ rel: 'self', href: `${base}/record/v1/metadata-catalog` }],
  };
}

export function recordSchema(type: RecordType, base: string): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    id: { title: 'Internal ID', type: 'string', readOnly: true },
    links: { title: 'Links', type: 'array', readOnly: true, items: { $ref: '/services/rest/record/v1/metadata-catalog/nsLink' } },
  };
  for (const f of type.fields) properties[f.name] = fieldSchema(f, base);
  if (type.sublists.includes('addressBook')) {
    properties.addressBook = sublistSchema('Address Book', {
      id: { title: 'Internal ID', type: 'string', readOnly: true },
      ...Object.fromEntries(ADDRESS_LINE_FIELDS.map((f) => [f.name, fieldSchema(f, base)])),
      addressBookAddress: { title: 'Address', type: 'object', properties: Object.fromEntries(ADDRESS_FIELDS.map((f) => [f.name, fieldSchema(f, base)])) },
    });
  }
  if (type.sublists.includes('item')) {
    properties.item = sublistSchema('Items', Object.fromEntries(ITEM_LINE_FIELDS.map((f) => [f.name, fieldSchema(f, base)])));
  }
  return {
    type: 'object',
    title: type.label,
    properties,
    $schema: 'https://json-schema.org/draft-06/hyper-schema#',
  };
}

function fieldSchema(f: WireField, base: string): Record<string, unknown> {
  const common = { title: f.label, nullable: true, ...(f.readOnly ? { readOnly: true } : {}) };
  switch (f.kind) {
    case 'boolean':
      return { ...common, type: 'boolean' };
    case 'number':
      return { ...common, type: 'number', format: 'double' };
    case 'date':
      return { ...common, type: 'string', format: 'date' };
    case 'datetime':
      return { ...common, type: 'string', format: 'date-time' };
    case 'email':
      return { ...common, type: 'string', format: 'email', ...(f.maxLength ? { maxLength: f.maxLength } : {}) };
    case 'enum': {
      const values = f.name === 'country' ? COUNTRY_CODES : f.enumValues ?? [];
      return { ...common, type: 'object', properties: { id: { title: 'Internal identifier', type: 'string', enum: values }, refName: { title: 'Reference Name', type: 'string', readOnly: true } } };
    }
    case 'ref':
      return {
        ...common,
        type: 'object',
        properties: {
          id: { title: 'Internal identifier', type: 'string' },
          refName: { title: 'Reference Name', type: 'string', readOnly: true },
          externalId: { title: 'External identifier', type: 'string' },
        },
        links: [{ rel: 'describedby', href: `${base}/record/v1/metadata-catalog/${f.refType}` }],
      };
    default:
      return { ...common, type: 'string', ...(f.maxLength ? { maxLength: f.maxLength } : {}) };
  }
}

function sublistSchema(title: string, lineProperties: Record<string, unknown>): Record<string, unknown> {
  return {
    title,
    type: 'object',
    properties: {
      items: { title: 'Items', type: 'array', items: { type: 'object', properties: lineProperties } },
      totalResults: { type: 'integer', readOnly: true },
    },
  };
}
