import { createPrivateKey, type KeyObject } from 'node:crypto';
import { decodeJwt, SignJWT } from 'jose';
import { AuthError } from '../../src/sync/protocol.js';

/**
 * OAuth 2.0 client credentials (machine to machine) for NetSuite: a JWT client assertion signed
 * with the private key of the certificate mapped to the integration (header typ JWT, alg PS256/
 * 384/512 or ES256/384/512, kid = certificate id; claims iss = client id, scope
 * rest_webservices, aud = the token URL, iat, exp), exchanged for an access token valid an hour.
 * The token is cached and renewed a minute before it expires, or at once when NetSuite refuses it.
 */

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export type Algorithm = 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';
const ALGORITHMS: readonly Algorithm[] = ['PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
/** NetSuite wants exp within an hour of iat; a short-lived assertion is enough. */
const ASSERTION_LIFETIME_SEC = 300;
/** Renew this long before the token's expiry, so no request goes out with a token about to lapse. */
const RENEW_BEFORE_MS = 60_000;

export interface SigningKey {
  key: KeyObject;
  algorithm: Algorithm;
}

/** The private key and the algorithm to sign with: the configured one, or the one its type implies. */
export function signingKey(privateKeyPem: string, algorithm?: string): SigningKey {
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (error) {
    throw new AuthError(`NetSuite privateKey is not a PEM private key (PKCS#8 "BEGIN PRIVATE KEY" or PKCS#1/SEC1): ${error instanceof Error ? error.message : String(error)}`);
  }
  const type = key.asymmetricKeyType;
  const implied: Algorithm | undefined = type === 'ec'
    ? ({ prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' } as Record<string, Algorithm>)[String(key.asymmetricKeyDetails?.namedCurve)]
    : type === 'rsa' || type === 'rsa-pss' ? 'PS256' : undefined;
  if (algorithm !== undefined) {
    if (!ALGORITHMS.includes(algorithm as Algorithm)) {
      throw new AuthError(`NetSuite does not accept ${algorithm} client assertions; use one of ${ALGORITHMS.join(', ')} (RS256 is refused)`);
    }
    const family = algorithm.slice(0, 2);
    if ((family === 'ES' && type !== 'ec') || (family === 'PS' && type !== 'rsa' && type !== 'rsa-pss')) {
      throw new AuthError(`NetSuite algorithm ${algorithm} needs ${family === 'ES' ? 'an EC' : 'an RSA'} key, but privateKey is ${type ?? 'of an unknown type'}`);
    }
    return { key, algorithm: algorithm as Algorithm };
  }
  if (!implied) throw new AuthError(`NetSuite privateKey must be an EC (P-256, P-384, P-521) or RSA key; it is ${type ?? 'of an unknown type'}`);
  return { key, algorithm: implied };
}

export interface TokenCredentials {
  clientId: string;
  certificateId: string;
  signing: SigningKey;
  tokenUrl: string;
}

/** Sends the token request (through the pacer, so it counts against the account's limit like any call). */
export type TokenPost = (form: URLSearchParams) => Promise<{ status: number; body: unknown }>;

interface Cached {
  token: string;
  expiresAt: number;
}

export class TokenSource {
  private cached: Cached | undefined;
  private pending: Promise<Cached> | undefined;

  constructor(private readonly credentials: TokenCredentials, private readonly post: TokenPost, private readonly now: () => number = Date.now) {}

  /** A token good for at least another minute: the cached one or a new one (one request for every concurrent caller). */
  async get(): Promise<string> {
    if (this.cached && this.cached.expiresAt - RENEW_BEFORE_MS > this.now()) return this.cached.token;
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    this.cached = await this.pending;
    return this.cached.token;
  }

  /** NetSuite refused this token (401): forget it, unless a newer one already replaced it. */
  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  /** The account the current token was issued for, from its claims (NetSuite names it in jti and aud). */
  accountOf(token: string): string | undefined {
    let claims: { jti?: unknown; aud?: unknown };
    try {
      claims = decodeJwt(token);
    } catch {
      return undefined;
    }
    if (typeof claims.jti === 'string' && /^[A-Z0-9_]+\.[ar]\./i.test(claims.jti)) return claims.jti.split('.')[0].toUpperCase();
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    const named = audiences.find((a): a is string => typeof a === 'string' && a.includes(';'));
    return named?.split(';')[1]?.toUpperCase();
  }

  private async fetch(): Promise<Cached> {
    const { clientId, certificateId, signing, tokenUrl } = this.credentials;
    const iat = Math.floor(this.now() / 1000);
    const assertion = await new SignJWT({ scope: ['rest_webservices'] })
      .setProtectedHeader({ alg: signing.algorithm, typ: 'JWT', kid: certificateId })
      .setIssuer(clientId)
      .setAudience(tokenUrl)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ASSERTION_LIFETIME_SEC)
      .sign(signing.key);
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion });
    const requestedAt = this.now();
    const res = await this.post(form);
    const body = (res.body ?? {}) as { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown };
    if (res.status !== 200 || typeof body.access_token !== 'string') {
      const error = typeof body.error === 'string' ? body.error : `HTTP ${res.status}`;
      const described = typeof body.error_description === 'string' ? `: ${body.error_description}` : '';
      throw new AuthError(
        `NetSuite refused the client credentials (${error}${described}). Check that clientId is the integration record's client id, ` +
        'that certificateId is the id NetSuite gave the certificate in Setup > Integration > Manage Authentication > OAuth 2.0 Client Credentials (M2M) Setup, ' +
        'that privateKey belongs to that certificate and the mapping is not revoked or expired, and that the role has the REST Web Services and ' +
        '"Log in using OAuth 2.0 Access Tokens" permissions; NetSuite\'s Login Audit Trail (Setup > Users/Roles > User Management > View Login Audit Trail) names the reason.',
      );
    }
    const lifetimeSec = typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in ?? 3600);
    return { token: body.access_token, expiresAt: requestedAt + (Number.isFinite(lifetimeSec) ? lifetimeSec : 3600) * 1000 };
  }
}
