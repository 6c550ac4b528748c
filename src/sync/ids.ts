/**
 * Deterministic canonical ids. A record first seen in a system gets a UUID v5 of its system,
 * object and external id, so a crash between writing the target and saving the link derives
 * the same id again, and the target upsert (keyed by that id) updates instead of duplicating.
 */
import { parse as parseUuid, v5 } from 'uuid';
import { CanonicalId } from '../model/index.js';

/** Namespace of every ecosync v5 id: uuidv5(DNS namespace, "ecosync.dev"). */
export const ECOSYNC_NAMESPACE = 'b94f0b05-3ba6-5c2d-92d2-90ec88885a3a';

const namespaces = new Map<string, Uint8Array>();

/**
 * RFC 9562 UUID version 5 (SHA-1 of namespace bytes + name). The name goes in as its UTF-8
 * bytes, so a lone surrogate becomes U+FFFD as it always has, and ids already stored stay valid.
 */
export function uuidv5(name: string, namespace: string): string {
  let ns = namespaces.get(namespace);
  if (!ns) {
    try {
      ns = parseUuid(namespace);
    } catch {
      throw new Error(`not a UUID namespace: ${namespace}`);
    }
    namespaces.set(namespace, ns);
  }
  return v5(Buffer.from(name, 'utf8'), ns);
}

/** The canonical id of a record first seen as `externalId` in `system`'s `object`. */
export function canonicalIdFor(system: string, object: string, externalId: string): string {
  return uuidv5(`${system}:${object}:${externalId}`, ECOSYNC_NAMESPACE);
}

/** The model's UUID rule (zod's), as a regular expression: the planner asks it of every record. */
const UUID = /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$/;

export function isCanonicalId(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

export { CanonicalId };
