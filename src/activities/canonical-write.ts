import type { EntityName } from '../model/index.js';

/**
 * Writes that start in ecosync rather than in a system (a co-sell status, an opportunity a cloud
 * shared with us) go through the sync layer: the canonical record changes, every system linked to
 * it in the connection gets the change through its mapping file, and links and records are saved
 * as the sync saves its own writes, so the next sync run sees no edit to echo and no conflict.
 */
export interface CanonicalWriter {
  /**
   * Sets canonical fields (dotted paths, e.g. `coSell.status`; undefined clears a field) on an
   * existing record and writes them to each linked system whose mapping writes them.
   */
  patch(input: { connectionId: string; entity: EntityName; canonicalId: string; values: Record<string, unknown> }): Promise<CanonicalWriteResult>;
  /**
   * Creates a canonical record (idempotent by `canonicalId`: a retry finds what the first attempt
   * made) and its counterpart in each system of the connection that maps the entity.
   */
  create(input: { connectionId: string; entity: EntityName; canonicalId: string; values: Record<string, unknown> }): Promise<CanonicalWriteResult>;
}

export interface CanonicalWriteResult {
  canonicalId: string;
  /** The systems written and the record's id in each. */
  written: { system: string; object: string; externalId: string }[];
  /** Systems not written, and why (no mapping for the fields, record not linked there, refused). */
  skipped: { system: string; reason: string }[];
}
