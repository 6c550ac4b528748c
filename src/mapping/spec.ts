/** A mapping file after parsing and checking: plain data, ready to compile. */
import type { Node as YamlNode } from 'yaml';
import type { CurrencyCode, EntityName } from '../model/index.js';
import type { FieldType, ObjectSpec } from '../../connectors/protocol.js';
import type { CanonicalField } from './canonical.js';
import type { CompiledExpr } from './expr.js';

export type { FieldType, ObjectSpec };
export type { FieldSpec as SystemFieldSpec } from '../../connectors/protocol.js';

/** How a value is converted between the system and the canonical model. */
export const COERCIONS = ['string', 'integer', 'number', 'boolean', 'date', 'datetime', 'money', 'decimal'] as const;
export type Coercion = (typeof COERCIONS)[number];

export const DIRECTIONS = ['inbound', 'outbound', 'both'] as const;
/** inbound: system → canonical only; outbound: canonical → system only; both. */
export type Direction = (typeof DIRECTIONS)[number];

/** typed: numbers and booleans are JSON numbers and booleans (Salesforce); strings: every value is a string (HubSpot). */
export type Wire = 'typed' | 'strings';

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
}

export interface MappingDefaults {
  currency?: CurrencyCode;
  timezone?: string;
  systemOfRecord?: string;
}

export interface MappingSpec {
  file: string;
  system: string;
  object: string;
  entity: EntityName;
  description?: string;
  wire: Wire;
  defaults: MappingDefaults;
  /** System fields written with a fixed value on every outbound record (HubSpot `pipeline`). */
  constants: Readonly<Record<string, unknown>>;
  constantNodes: Map<string, YamlNode>;
  fields: FieldMapping[];
  /** The `object:` value node, for findings about the file as a whole. */
  objectNode: YamlNode;
}
