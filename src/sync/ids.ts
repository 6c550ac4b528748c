/**
 * Deterministic canonical ids. A record first seen in a system gets a UUID v5 of its system,
 * object and external id, so a crash between writing the target and saving the link derives
 * the same id again, and the target upsert (keyed by that id) updates instead of duplicating.
 */
import { createHash } from 'node:crypto';
import { CanonicalId } from '../model/index.js';

/** Namespace of every ecosync v5 id: uuidv5(DNS namespace, "ecosync.dev"). */
export const ECOSYNC_NAMESPACE = 'b94f0b05-3ba6-5c2d-92d2-90ec88885a3a';

/** RFC 9562 UUID version 5 (SHA-1 of namespace bytes + name). */
export function uuidv5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new Error(`not a UUID namespace: ${namespace}`);
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

export function isCanonicalId(value: unknown): value is string {
  return CanonicalId.safeParse(value).success;
}
