/**
 * Writes that start in ecosync (a co-sell status, an opportunity a cloud shared with us) go to
 * the connected systems through the sync engine, like any other change: the connection's
 * mapping files turn canonical fields into system fields, and links and the canonical record are
 * saved so the next sync run reads them back as echoes: nothing to write, no conflict.
 */
import type { EntityName } from '../model/index.js';
import { CanonicalRecordNotFound, type CanonicalWriteResult } from '../sync/index.js';
import { asActivityFailure, type Hubs } from './hubs.js';

export { CanonicalRecordNotFound, type CanonicalWriteResult };

export interface CanonicalWriter {
  /**
   * Sets canonical fields (dotted paths, e.g. `coSell.status`; undefined clears a field) on an
   * existing record and writes them to each linked system whose mapping writes them. Throws
   * CanonicalRecordNotFound for a record ecosync never synced or saw deleted.
   */
  patch(input: { connectionId: string; entity: EntityName; canonicalId: string; values: Record<string, unknown> }): Promise<CanonicalWriteResult>;
  /**
   * Creates a canonical record (idempotent by `canonicalId`: a retry finds what the first attempt
   * made) and its counterpart in each system of the connection that maps the entity.
   */
  create(input: { connectionId: string; entity: EntityName; canonicalId: string; values: Record<string, unknown> }): Promise<CanonicalWriteResult>;
}

export function createCanonicalWriter(hubs: Hubs): CanonicalWriter {
  const run = async (connectionId: string, write: (engine: Awaited<ReturnType<Hubs['engine']>>['engine']) => Promise<CanonicalWriteResult>) => {
    try {
      return await write((await hubs.engine(connectionId)).engine);
    } catch (error) {
      // Callers tell "nothing to write to" apart from a failure.
      if (error instanceof CanonicalRecordNotFound) throw error;
      throw asActivityFailure(error);
    }
  };
  return {
    patch: ({ connectionId, entity, canonicalId, values }) => run(connectionId, (engine) => engine.patch(entity, canonicalId, values)),
    create: ({ connectionId, entity, canonicalId, values }) => run(connectionId, (engine) => engine.create(entity, canonicalId, values)),
  };
}
