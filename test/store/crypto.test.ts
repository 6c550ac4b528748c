import { describe, expect, it } from 'vitest';
import {
  generateSecretKey, keyringFromEnv, makeKeyring, open, parseSecretKey, seal, SecretKeyError,
} from '../../src/store/crypto.js';

const KEY_A = generateSecretKey();
const KEY_B = Buffer.alloc(32, 0xab).toString('hex');

describe('secret keys', () => {
  it('accepts 32 bytes as base64 or hex and names each key by a stable fingerprint', () => {
    const a = parseSecretKey(KEY_A);
    expect(a.key).toHaveLength(32);
    expect(parseSecretKey(KEY_A).id).toBe(a.id);
    const b = parseSecretKey(KEY_B);
    expect(b.key.equals(Buffer.alloc(32, 0xab))).toBe(true);
    expect(b.id).not.toBe(a.id);
    expect(b.id).not.toContain(KEY_B.slice(0, 8));
  });

  it('rejects keys of the wrong length or alphabet without quoting them', () => {
    const short = Buffer.alloc(16, 1).toString('base64');
    expect(() => parseSecretKey(short)).toThrow(/ECOSYNC_SECRET_KEY decodes to 16 bytes; it must be exactly 32/);
    expect(() => parseSecretKey('not a key!')).toThrow(SecretKeyError);
    try {
      parseSecretKey(short);
    } catch (err) {
      expect((err as Error).message).not.toContain(short);
    }
  });

  it('reads the ring from the environment and says what to do when the key is missing', () => {
    expect(() => keyringFromEnv({})).toThrow(/ECOSYNC_SECRET_KEY is not set.*openssl rand -base64 32/);
    const ring = keyringFromEnv({ ECOSYNC_SECRET_KEY: KEY_A, ECOSYNC_SECRET_KEY_PREVIOUS: ` ${KEY_B} ,` });
    expect(ring.current.id).toBe(parseSecretKey(KEY_A).id);
    expect(ring.previous.map((k) => k.id)).toEqual([parseSecretKey(KEY_B).id]);
  });
});

describe('seal and open', () => {
  const ring = makeKeyring(KEY_A);
  const secret = 'refresh-token-9f8e7d6c5b4a';

  it('round-trips, with a fresh IV on every write and no plaintext in the envelope', () => {
    const first = seal(ring, secret, 'conn-1');
    const second = seal(ring, secret, 'conn-1');
    expect(first.envelope).not.toBe(second.envelope);
    expect(first.envelope).not.toContain(secret);
    expect(first.envelope).not.toContain(Buffer.from(secret).toString('base64').slice(0, 12));
    expect(first.keyId).toBe(ring.current.id);
    expect(open(ring, first, 'conn-1')).toBe(secret);
    expect(open(ring, second, 'conn-1')).toBe(secret);
  });

  it('fails loudly with another key, another row, or an altered ciphertext', () => {
    const sealed = seal(ring, secret, 'conn-1');
    expect(() => open(makeKeyring(KEY_B), sealed, 'conn-1')).toThrow(/sealed with key .* which is neither ECOSYNC_SECRET_KEY/);
    expect(() => open(ring, sealed, 'conn-2')).toThrow(/failed authentication/);
    const [v, iv, tag, ct] = sealed.envelope.split('.');
    const flipped = Buffer.from(ct, 'base64');
    flipped[0] ^= 1;
    expect(() => open(ring, { ...sealed, envelope: [v, iv, tag, flipped.toString('base64')].join('.') }, 'conn-1')).toThrow(/failed authentication/);
    // A key that claims the right id but is not the right key still fails authentication.
    const impostor = { current: { id: ring.current.id, key: Buffer.alloc(32, 9) }, previous: [] };
    expect(() => open(impostor, sealed, 'conn-1')).toThrow(/failed authentication/);
  });

  it('opens rows sealed with a previous key', () => {
    const old = seal(makeKeyring(KEY_B), secret, 'conn-1');
    expect(open(makeKeyring(KEY_A, [KEY_B]), old, 'conn-1')).toBe(secret);
  });
});
