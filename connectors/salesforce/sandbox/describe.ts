import type { FieldSpec, FieldType, ObjectSpec } from '../../../src/sync/protocol.js';
import { KEY_PREFIXES } from '../descriptor.js';

/** The REST describe of an object, built from its ObjectSpec, as jsforce's DescribeSObjectResult. */

/** Salesforce has no sublist fields (child records are objects of their own). */
const SF_TYPE: Record<Exclude<FieldType, 'list'>, string> = {
  id: 'id', string: 'string', text: 'textarea', email: 'email', phone: 'phone', url: 'url',
  number: 'double', integer: 'int', boolean: 'boolean', date: 'date', datetime: 'datetime',
  currency: 'currency', percent: 'percent', picklist: 'picklist', multipicklist: 'multipicklist', reference: 'reference',
};

const SOAP_TYPE: Record<string, string> = {
  id: 'tns:ID', reference: 'tns:ID', double: 'xsd:double', currency: 'xsd:double', percent: 'xsd:double', int: 'xsd:int',
  boolean: 'xsd:boolean', date: 'xsd:date', datetime: 'xsd:dateTime',
};

function humanize(name: string): string {
  return name.replace(/__c$/, '').replace(/_/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2');
}

function describeField(f: FieldSpec): Record<string, unknown> {
  if (f.type === 'list') throw new Error(`Salesforce objects have no list fields (${f.name})`);
  const type = SF_TYPE[f.type];
  const numeric = ['double', 'currency', 'percent', 'int'].includes(type);
  const text = !numeric && !['boolean', 'date', 'datetime'].includes(type);
  return {
    name: f.name,
    label: f.label ?? humanize(f.name),
    type,
    soapType: SOAP_TYPE[type] ?? 'xsd:string',
    length: text ? f.length ?? 255 : 0,
    byteLength: text ? (f.length ?? 255) * 3 : 0,
    precision: numeric && type !== 'int' ? 18 : 0,
    scale: type === 'currency' || type === 'percent' ? 2 : 0,
    digits: type === 'int' ? 9 : 0,
    nillable: f.nillable,
    createable: f.createable,
    updateable: f.updateable,
    defaultedOnCreate: !f.createable || f.name === 'CurrencyIsoCode',
    externalId: f.externalId ?? false,
    unique: f.externalId ?? false,
    idLookup: f.type === 'id' || (f.externalId ?? false),
    caseSensitive: false,
    custom: f.name.endsWith('__c'),
    calculated: false,
    autoNumber: false,
    filterable: true,
    sortable: true,
    groupable: type !== 'textarea',
    deprecatedAndHidden: false,
    restrictedPicklist: type === 'picklist',
    picklistValues: (f.picklistValues ?? []).map((value) => ({ active: true, defaultValue: false, label: value, validFor: null, value })),
    referenceTo: f.referenceTo ? [f.referenceTo] : [],
    relationshipName: f.referenceTo ? f.name.replace(/Id$/, '') : null,
    defaultValue: null,
  };
}

export function describeObject(spec: ObjectSpec, version: string): Record<string, unknown> {
  const base = `/services/data/v${version}/sobjects/${spec.name}`;
  return {
    name: spec.name,
    label: spec.name,
    labelPlural: `${spec.name === 'Opportunity' ? 'Opportunitie' : spec.name}s`,
    keyPrefix: KEY_PREFIXES[spec.name] ?? null,
    custom: false,
    createable: true,
    updateable: true,
    deletable: true,
    undeletable: true,
    queryable: true,
    retrieveable: true,
    replicateable: true,
    searchable: true,
    fields: spec.fields.map(describeField),
    childRelationships: [],
    recordTypeInfos: [],
    urls: { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` },
  };
}

export function describeGlobal(specs: ObjectSpec[], version: string): Record<string, unknown> {
  return { encoding: 'UTF-8', maxBatchSize: 200, sobjects: specs.map((s) => describeBasic(s, version)) };
}

/** An object's entry in the global describe (and the objectDescribe of its basic information): the describe without fields. */
export function describeBasic(spec: ObjectSpec, version: string): Record<string, unknown> {
  const { fields: _fields, childRelationships: _c, recordTypeInfos: _r, ...rest } = describeObject(spec, version);
  return rest;
}
