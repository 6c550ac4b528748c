import { generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';

/**
 * The sandbox's Entra ID: issues client-credentials access tokens as JWTs signed with a key made
 * at start, and checks them on API calls against the sandbox clock. Entra signs with RS256; the
 * sandbox uses ES256 because an EC key takes a millisecond to make and an RSA key hundreds, and
 * only the sandbox itself ever verifies these tokens.
 */
export const PARTNER_CENTER_AUDIENCE = 'https://api.partner.microsoft.com';
/** Microsoft Graph, which serves the commercial marketplace's Product Ingestion API (private offers). */
export const GRAPH_AUDIENCE = 'https://graph.microsoft.com';
/** The commercial marketplace's SaaS fulfillment and metering APIs. */
export const MARKETPLACE_API_AUDIENCE = '20e940b3-4c77-4b0b-9a53-9e16a1b010a7';
/** The Microsoft APIs this Entra issues client-credentials tokens for. */
export const TOKEN_RESOURCES: readonly string[] = [PARTNER_CENTER_AUDIENCE, GRAPH_AUDIENCE, MARKETPLACE_API_AUDIENCE];

/**
 * The resource a client-credentials `scope` (`<resource>/.default`) asks for, when Entra knows
 * it: one of TOKEN_RESOURCES, or the app itself (`<clientId>/.default`), as an app may ask a
 * token for its own API (Microsoft's webhook calls to the app carry one with that audience).
 */
export function resourceOfScope(scope: string | undefined, clientId: string): string | undefined {
  const first = (scope ?? '').split(' ').find((s) => s.endsWith('/.default'));
  const resource = first?.slice(0, -'/.default'.length);
  return resource !== undefined && (TOKEN_RESOURCES.includes(resource) || resource === clientId) ? resource : undefined;
}

export interface TokenClaims {
  aud: string;
  iss: string;
  tid: string;
  appid: string;
  azp: string;
  sub: string;
  oid: string;
  iat: number;
  nbf: number;
  exp: number;
  ver: '2.0';
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: string };

export class TokenIssuer {
  readonly kid = randomBytes(8).toString('hex');
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;

  constructor(private readonly tenantId: string, private readonly issuer: string) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
  }

  issue(clientId: string, audience: string, nowMs: number, lifetimeSec: number): string {
    const iat = Math.floor(nowMs / 1000);
    const claims: TokenClaims = {
      aud: audience, iss: this.issuer, tid: this.tenantId, appid: clientId, azp: clientId,
      sub: clientId, oid: clientId, iat, nbf: iat, exp: iat + lifetimeSec, ver: '2.0',
    };
    const head = b64(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: this.kid }));
    const body = b64(JSON.stringify(claims));
    const signature = sign('sha256', Buffer.from(`${head}.${body}`), { key: this.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    return `${head}.${body}.${signature}`;
  }

  check(token: string, audience: string, nowMs: number): TokenCheck {
    const parts = token.split('.');
    if (parts.length !== 3) return { ok: false, reason: 'The access token is malformed' };
    const [head, body, signature] = parts;
    if (!verify('sha256', Buffer.from(`${head}.${body}`), { key: this.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'))) {
      return { ok: false, reason: 'The access token signature is invalid' };
    }
    let claims: TokenClaims;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenClaims;
    } catch {
      return { ok: false, reason: 'The access token is malformed' };
    }
    if (claims.aud !== audience) return { ok: false, reason: `The access token is for ${claims.aud}, not ${audience}` };
    if (claims.tid !== this.tenantId) return { ok: false, reason: 'The access token is for another tenant' };
    if (claims.exp * 1000 <= nowMs) return { ok: false, reason: 'The access token has expired' };
    return { ok: true, claims };
  }

  /** The signing key as a JWKS document, as Entra publishes it at `jwks_uri`. */
  jwks(): { keys: Record<string, unknown>[] } {
    return { keys: [{ ...this.publicKey.export({ format: 'jwk' }), kid: this.kid, use: 'sig', alg: 'ES256' }] };
  }
}

function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
