/**
 * Salesforce record ids: 15 case-sensitive characters (key prefix, pod, serial) plus a 3-character
 * checksum that makes the 18-character form case-insensitive. Serials are zero-padded digits, so
 * ids of one object sort by creation order as plain strings, the way the sandbox compares them.
 */
const CHECKSUM_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

export function idChecksum(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charCodeAt(chunk * 5 + i);
      if (c >= 65 && c <= 90) bits |= 1 << i;
    }
    suffix += CHECKSUM_ALPHABET[bits];
  }
  return suffix;
}

export function makeId(keyPrefix: string, serial: number): string {
  const id15 = `${keyPrefix}Dn${String(serial).padStart(10, '0')}`;
  return id15 + idChecksum(id15);
}

/** A well-formed 15- or 18-character id (the checksum is checked on 18). */
export function isWellFormedId(value: string): boolean {
  if (!/^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(value)) return false;
  return value.length === 15 || idChecksum(value.slice(0, 15)) === value.slice(15);
}
