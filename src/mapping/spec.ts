/** A mapping file after parsing and checking: plain data, ready to compile. */
import type { Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import type { CurrencyCode, EntityName } from '../model/index.js';
import type { CanonicalField } from './canonical.js';
import type { CompiledExpr } from './expr.js';

/**
 * How a system stores a field: the words connectors use in their field schemas (the connector
 * protocol's FieldType, src/sync/protocol.ts). A mapping names one in `systemType`.
 */
export type FieldType =
  | 'id' | 'string' | 'text' | 'email' | 'phone' | 'url'
  | 'number' | 'integer' | 'boolean'
  | 'date' | 'datetime' | 'currency' | 'percent'
  | 'picklist' | 'multipicklist' | 'reference' | 'list';

/**
 * What a mapping is checked against of one system field: the part of a connector's field
 * description (`discover`) the checks read. Declared here, not imported, so the mapping engine
 * depends on the canonical model only; a connector's FieldSpec has this shape.
 */
export interface SystemField {
  name: string;
  type: FieldType;
  createable: boolean;
  updateable: boolean;
  picklistValues?: readonly string[];
  /** For lists: the fields of each element. */
  items?: readonly SystemField[];
}

/** A system object's field schema as far as mappings need it; a connector's ObjectSpec has this shape. */
export interface SystemSchema {
  fields: readonly SystemField[];
}

/** How a value is converted between the system and the canonical model. */
export const COERCIONS = ['string', 'integer', 'number', 'boolean', 'date', 'datetime', 'money', 'decimal'] as const;
export type Coercion = (typeof COERCIONS)[number];

export const DIRECTIONS = ['inbound', 'outbound', 'both'] as const;
/** inbound: system → canonical only; outbound: canonical → system only; both. */
export type Direction = (typeof DIRECTIONS)[number];

/** typed: numbers and booleans are JSON numbers and booleans (Salesforce); strings: every value is a string (HubSpot). */
export type Wire = 'typed' | 'strings';

/**
 * fields: a record is a flat set of named fields (a CRM record); a dotted name is read nested
 * and written as given. document: a record is one JSON document (a cloud API's request body):
 * paths are nested both ways (`Customer.Account.CompanyName`, `Project.ExpectedCustomerSpend[0].Amount`),
 * values the canonical record lacks are left out, and objects and lists left empty are dropped.
 */
export type Shape = 'fields' | 'document';

/**
 * A canonical list mapped to a system list (`from: item.items[]`), in either shape and direction:
 * each item mapped on its own, in the system's order.
 */
export interface ListMapping {
  /** System path of the list: a document path (`Customer.Contacts`), or a record's list field (`item.items`). */
  path: string;
  /** Where each item's value sits inside its element, for lists of scalars (`id` of `solutions[].id`); '' for the element itself. */
  itemPath: string;
  /**
   * Lists of objects: how each item's fields map, relative to the element. Each has its own
   * direction: the list's, or narrower (an `inbound` item of a `both` list).
   */
  items?: FieldMapping[];
  /**
   * Only items for which this holds; `record` is the canonical item: the item read (forward, after
   * mapping) or the item to write (reverse). Items it drops are dropped with their errors.
   */
  where?: CompiledExpr;
}

export interface FieldMapping {
  /** Canonical field path: "amount", "billingAddress.city". */
  field: string;
  canonical: CanonicalField;
  /** System field path read (and written); absent for computed fields. */
  from?: string;
  type: Coercion;
  /** How the system stores the value; decides what reverse writes (a date field vs a datetime field). */
  systemType: FieldType;
  /** System value → canonical value. */
  map?: ReadonlyMap<string, unknown>;
  /** Canonical value → system value: derived from `map`, with the file's explicit `reverse` choices. */
  reverse?: ReadonlyMap<unknown, string>;
  default?: unknown;
  required: boolean;
  expr?: CompiledExpr;
  direction: Direction;
  systemOfRecord: string;
  ref?: EntityName;
  /** Zone of wall-clock datetimes (field `timezone`), if the system sends local times. */
  timezone?: string;
  /** Zone in which an instant becomes a calendar date. */
  dateZone: string;
  /** Money: the system field holding the currency code. */
  currencyField?: string;
  /** Money: the currency when the record has none (field `defaultCurrency`, else `defaults.currency`). */
  defaultCurrency?: CurrencyCode;
  /** Decimal: fraction digits to round to. */
  scale?: number;
  /** Values the map does not name are written (and read) unchanged instead of failing the record. */
  keepUnmapped?: boolean;
  /** The field is a canonical list; `from` is then the list's path and `type` the items' coercion (lists of scalars). */
  list?: ListMapping;
  /** YAML nodes of this field's spec, for schema checks that run after parsing. */
  nodes: FieldNodes;
}

export interface FieldNodes {
  key: YamlNode;
  value: YamlNode;
  from?: YamlNode;
  type?: YamlNode;
  currency?: YamlNode;
  direction?: YamlNode;
  systemType?: YamlNode;
  map?: YamlNode;
  /** System value → its key node in `map`. */
  mapKeys?: Map<string, YamlNode>;
  default?: YamlNode;
}

/**
 * A system field written from an expression over the canonical record (`outbound:`): values that
 * several canonical fields feed, or that need arithmetic (a monthly amount from a yearly one).
 */
export interface OutboundMapping {
  /** System path written. */
  target: string;
  expr: CompiledExpr;
  type?: Coercion;
  /** Canonical value (the expression's result) → system value. */
  reverse?: ReadonlyMap<unknown, string>;
  keepUnmapped?: boolean;
  nodes: { key: YamlNode; value: YamlNode; type?: YamlNode; map?: YamlNode; mapKeys?: Map<string, YamlNode> };
}

export interface MappingDefaults {
  currency?: CurrencyCode;
  timezone?: string;
  systemOfRecord?: string;
  /** Direction of fields that do not say (`outbound` for a file that only writes, as a cloud payload). */
  direction?: Direction;
}

export interface MappingSpec {
  file: string;
  system: string;
  object: string;
  entity: EntityName;
  /** The entity's zod schema, when it is not the model's own `ENTITIES[entity]` (an entity given to the loader). */
  entitySchema?: z.ZodType;
  description?: string;
  wire: Wire;
  shape: Shape;
  defaults: MappingDefaults;
  /** System fields written with a fixed value on every outbound record (HubSpot `pipeline`). */
  constants: Readonly<Record<string, unknown>>;
  constantNodes: Map<string, YamlNode>;
  fields: FieldMapping[];
  /** System fields computed from the canonical record when writing. */
  outbound: OutboundMapping[];
  /** The `object:` value node, for findings about the file as a whole. */
  objectNode: YamlNode;
}
