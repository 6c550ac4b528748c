import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Credentials at rest: AES-256-GCM with a random 12-byte IV per write. The envelope carries the
 * IV and the authentication tag; the id of the key that sealed it is stored beside it, so a key
 * can be rotated while older rows are still readable with the previous key.
 */

export const SECRET_KEY_ENV = 'ECOSYNC_SECRET_KEY';
/** Keys that may still have sealed some rows, comma-separated; used while rotating. */
export const PREVIOUS_SECRET_KEYS_ENV = 'ECOSYNC_SECRET_KEY_PREVIOUS';

const ENVELOPE_VERSION = 'v1';
const IV_BYTES = 12;
const KEY_BYTES = 32;

export class SecretKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretKeyError';
  }
}

export interface SecretKey {
  /** A fingerprint of the key (not the key): tells which key sealed a row. */
  id: string;
  key: Buffer;
}

export interface Keyring {
  /** Seals every new write. */
  current: SecretKey;
  /** Still open rows sealed before a rotation. */
  previous: SecretKey[];
}

/** Parses a 32-byte key written as 64 hex characters or as base64; the message never quotes the value. */
export function parseSecretKey(text: string, name = SECRET_KEY_ENV): SecretKey {
  const trimmed = text.trim();
  let key: Buffer;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) key = Buffer.from(trimmed, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) key = Buffer.from(trimmed, 'base64');
  else throw new SecretKeyError(`${name} is not hex or base64; it must be 32 random bytes (generate one with: openssl rand -base64 32)`);
  if (key.length !== KEY_BYTES) {
    throw new SecretKeyError(`${name} decodes to ${key.length} bytes; it must be exactly ${KEY_BYTES} (generate one with: openssl rand -base64 32)`);
  }
  return { id: keyId(key), key };
}

function keyId(key: Buffer): string {
  return createHash('sha256').update('ecosync-secret-key:').update(key).digest('hex').slice(0, 16);
}

/** A new random key, base64, suitable for ECOSYNC_SECRET_KEY. */
export function generateSecretKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

export function makeKeyring(current: string, previous: string[] = []): Keyring {
  return {
    current: parseSecretKey(current),
    previous: previous.map((p, i) => parseSecretKey(p, `${PREVIOUS_SECRET_KEYS_ENV}[${i}]`)),
  };
}

export function keyringFromEnv(env: NodeJS.ProcessEnv = process.env): Keyring {
  const current = env[SECRET_KEY_ENV];
  if (!current) {
    throw new SecretKeyError(`${SECRET_KEY_ENV} is not set: connection credentials are encrypted at rest and need a 32-byte key (generate one with: openssl rand -base64 32)`);
  }
  const previous = (env[PREVIOUS_SECRET_KEYS_ENV] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return makeKeyring(current, previous);
}

export interface Sealed {
  keyId: string;
  envelope: string;
}

/**
 * Encrypts with the current key. `context` (the connection id) is authenticated but not stored
 * in the envelope, so a ciphertext copied to another row does not open there.
 */
export function seal(ring: Keyring, plaintext: string, context: string): Sealed {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', ring.current.key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return {
    keyId: ring.current.id,
    envelope: [ENVELOPE_VERSION, iv.toString('base64'), tag.toString('base64'), ciphertext.toString('base64')].join('.'),
  };
}

export function open(ring: Keyring, sealed: Sealed, context: string): string {
  const key = [ring.current, ...ring.previous].find((k) => k.id === sealed.keyId);
  if (!key) {
    throw new SecretKeyError(`credentials were sealed with key ${sealed.keyId}, which is neither ${SECRET_KEY_ENV} (${ring.current.id}) nor one of ${PREVIOUS_SECRET_KEYS_ENV}`);
  }
  const [version, iv, tag, ciphertext] = sealed.envelope.split('.');
  if (version !== ENVELOPE_VERSION || ciphertext === undefined) throw new SecretKeyError(`credentials envelope is not ${ENVELOPE_VERSION}`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretKeyError(`credentials failed authentication with key ${key.id}: the ciphertext was altered or belongs to another row`);
  }
}
