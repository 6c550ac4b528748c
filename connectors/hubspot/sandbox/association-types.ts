/**
 * The portal's association types (associations v4 schema): HubSpot's own between companies,
 * contacts and deals — the unlabelled default and "Primary" — and labels a user adds. Every type
 * runs one way (from → to) and has an inverse the other way; associating a pair with a type
 * associates the reverse pair with its inverse.
 */
export type AssociationCategory = 'HUBSPOT_DEFINED' | 'USER_DEFINED';

export interface AssociationType {
  typeId: number;
  category: AssociationCategory;
  /** null for the unlabelled default. */
  label: string | null;
  /** The label's internal name (user-defined labels only). */
  name?: string;
  from: string;
  to: string;
  /** The type of the reverse association. */
  inverse: number;
}

/** HubSpot's fixed type ids: [from, to, typeId, inverse typeId, label]. */
const HUBSPOT_DEFINED: [string, string, number, number, string | null][] = [
  ['contacts', 'companies', 279, 280, null],
  ['contacts', 'companies', 1, 2, 'Primary'],
  ['deals', 'companies', 341, 342, null],
  ['deals', 'companies', 5, 6, 'Primary'],
  ['contacts', 'deals', 4, 3, null],
];

/** The object type ids HubSpot gives the standard objects (fromObjectTypeId / toObjectTypeId). */
export const OBJECT_TYPE_IDS: Record<string, string> = { contacts: '0-1', companies: '0-2', deals: '0-3' };

export class AssociationLabelError extends Error {}

export class AssociationTypes {
  private readonly byId = new Map<number, AssociationType>();
  /** User-defined type ids are handed out from here, as a portal numbers its labels. */
  private nextUserTypeId = 1_000;

  constructor() {
    for (const [from, to, typeId, inverse, label] of HUBSPOT_DEFINED) {
      this.byId.set(typeId, { typeId, category: 'HUBSPOT_DEFINED', label, from, to, inverse });
      this.byId.set(inverse, { typeId: inverse, category: 'HUBSPOT_DEFINED', label, from: to, to: from, inverse: typeId });
    }
  }

  get(typeId: number): AssociationType | undefined {
    return this.byId.get(typeId);
  }

  /** The types from one object type to another, HubSpot's first, in type id order within each category. */
  between(from: string, to: string): AssociationType[] {
    return [...this.byId.values()].filter((t) => t.from === from && t.to === to)
      .sort((a, b) => (a.category === b.category ? a.typeId - b.typeId : a.category === 'HUBSPOT_DEFINED' ? -1 : 1));
  }

  /** The unlabelled type HubSpot uses for a default association. */
  defaultType(from: string, to: string): AssociationType | undefined {
    return this.between(from, to).find((t) => t.category === 'HUBSPOT_DEFINED' && t.label === null);
  }

  /** Creates a label (and its inverse, named inverseLabel or the same label); returns both types. */
  createLabel(from: string, to: string, input: { label?: unknown; name?: unknown; inverseLabel?: unknown }): AssociationType[] {
    const label = text(input.label, 'label');
    const name = text(input.name, 'name');
    const inverseLabel = input.inverseLabel === undefined ? label : text(input.inverseLabel, 'inverseLabel');
    if (this.between(from, to).some((t) => t.name === name)) throw new AssociationLabelError(`An association label named ${name} already exists between ${from} and ${to}.`);
    const typeId = this.nextUserTypeId++;
    const inverse = from === to && inverseLabel === label ? typeId : this.nextUserTypeId++;
    const forward: AssociationType = { typeId, category: 'USER_DEFINED', label, name, from, to, inverse };
    this.byId.set(typeId, forward);
    if (inverse !== typeId) this.byId.set(inverse, { typeId: inverse, category: 'USER_DEFINED', label: inverseLabel, name: `${name}_inverse`, from: to, to: from, inverse: typeId });
    return [forward, ...(inverse !== typeId ? [this.byId.get(inverse)!] : [])];
  }

  updateLabel(from: string, to: string, input: { associationTypeId?: unknown; label?: unknown; inverseLabel?: unknown }): void {
    const type = this.userDefined(from, to, input.associationTypeId);
    type.label = text(input.label, 'label');
    if (input.inverseLabel !== undefined && type.inverse !== type.typeId) this.byId.get(type.inverse)!.label = text(input.inverseLabel, 'inverseLabel');
  }

  removeLabel(from: string, to: string, typeId: unknown): AssociationType {
    const type = this.userDefined(from, to, typeId);
    this.byId.delete(type.typeId);
    this.byId.delete(type.inverse);
    return type;
  }

  private userDefined(from: string, to: string, typeId: unknown): AssociationType {
    const type = this.byId.get(Number(typeId));
    if (!type || type.from !== from || type.to !== to) throw new AssociationLabelError(`No association type ${String(typeId)} exists from ${from} to ${to}.`);
    if (type.category !== 'USER_DEFINED') throw new AssociationLabelError(`Association type ${type.typeId} is defined by HubSpot and cannot be changed.`);
    return type;
  }
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new AssociationLabelError(`${field} is required and must be a non-empty string.`);
  return value;
}
