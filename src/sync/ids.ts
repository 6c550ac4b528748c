/**
 * Deterministic canonical ids. A record first seen in a system gets a UUID v5 of its system,
 * object and external id, so a crash between writing the target and saving the link derives
 * the same id again, and the target upsert (keyed by that id) updates instead of duplicating.
 */
import { createHash } from 'node:crypto';
import { CanonicalId } from '../model/index.js';

/** Namespace of every ecosync v5 id: uuidv5(DNS namespace, "ecosync.dev"). */
export const ECOSYNC_NAMESPACE = 'b94f0b05-3ba6-5c2d-92d2-90ec88885a3a';

const namespaces = new Map<string, Buffer>();

/** RFC 9562 UUID version 5 (SHA-1 of namespace bytes + name). */
export function uuidv5(name: string, namespace: string): string {
  let ns = namespaces.get(namespace);
  if (!ns) {
    ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
    if (ns.length !== 16) throw new Error(`not a UUID namespace: ${namespace}`);
    namespaces.set(namespace, ns);
  }
  const bytes = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
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
