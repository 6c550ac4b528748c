import { createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT } from 'jose';

/**
 * The sandbox account's OAuth 2.0 client credentials (machine-to-machine) flow: the integration's
 * certificates by certificate id, the token endpoint checking the client assertion as NetSuite
 * does (alg PS256/384/512 or ES256/384/512, kid = certificate id, iss = client id, aud = the token
 * URL, scope with rest_webservices, exp at most an hour after iat and not past), and bearer
 * access tokens shaped like NetSuite's (the account id in aud and jti). NetSuite answers a refused
 * assertion with nothing but an OAuth error code; the reason goes to its Login Audit Trail, and
 * so it does here.
 */

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const ALLOWED_ALGORITHMS = ['PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const;
export type AssertionAlgorithm = (typeof ALLOWED_ALGORITHMS)[number];
const MAX_ASSERTION_LIFETIME_SEC = 3600;

export interface LoginAuditEntry {
  at: string;
  status: 'Success' | 'Failure';
  /** NetSuite's Login Audit Trail detail: AccessTokenExpired, InvalidSignature, … */
  detail: string;
  clientId?: string;
}

export interface TokenReply {
  status: number;
  body: Record<string, unknown>;
}

/** A key pair for the integration's certificate, in the curve or size the algorithm needs. */
export function generateClientKey(algorithm: AssertionAlgorithm): { privateKeyPem: string; publicKey: KeyObject } {
  const pair = algorithm.startsWith('ES')
    ? generateKeyPairSync('ec', { namedCurve: { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[algorithm as 'ES256'] })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey: pair.publicKey };
}

export interface SandboxAuthOptions {
  accountId: string;
  clientId: string;
  /** The integration record's application id, which NetSuite's tokens name with the account. */
  applicationId: string;
  tokenLifetimeSec: number;
  now: () => number;
  /** The token endpoint's URL: the assertion's audience. */
  tokenUrl: () => string;
}

export class SandboxAuth {
  /** Public keys by certificate id (Setup > Integration > OAuth 2.0 Client Credentials Setup). */
  readonly certificates = new Map<string, KeyObject>();
  readonly loginAudit: LoginAuditEntry[] = [];
  private readonly tokens = new Map<string, number>();
  private readonly signing = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  constructor(private readonly options: SandboxAuthOptions) {}

  /** Maps a certificate (its public key, PEM or KeyObject) under a certificate id. */
  registerCertificate(certificateId: string, publicKey: KeyObject | string): void {
    this.certificates.set(certificateId, typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey);
  }

  /** Ends every access token issued so far: the next call with one gets 401 INVALID_LOGIN. */
  expireTokens(): void {
    this.tokens.clear();
  }

  /** POST /auth/oauth2/v1/token with a form body. */
  async grant(form: Record<string, string | undefined>): Promise<TokenReply> {
    if (form.grant_type !== 'client_credentials') return this.refuse(400, 'unsupported_grant_type', `UnsupportedGrantType (${form.grant_type ?? 'none'})`);
    if (form.client_assertion_type !== ASSERTION_TYPE) return this.refuse(400, 'invalid_request', `InvalidClientAssertionType (${form.client_assertion_type ?? 'none'})`);
    const assertion = form.client_assertion;
    if (!assertion) return this.refuse(400, 'invalid_request', 'MissingClientAssertion');

    let header: { alg?: string; kid?: string };
    try {
      header = decodeProtectedHeader(assertion);
    } catch {
      return this.refuse(400, 'invalid_request', 'MalformedJWT');
    }
    if (!ALLOWED_ALGORITHMS.includes(header.alg as AssertionAlgorithm)) return this.refuse(400, 'invalid_grant', `UnsupportedAlgorithm (${header.alg ?? 'none'}; use PS256/384/512 or ES256/384/512)`);
    const key = header.kid ? this.certificates.get(header.kid) : undefined;
    if (!key) return this.refuse(400, 'invalid_grant', `InvalidCertificateId (kid ${header.kid ?? 'missing'})`);

    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(assertion, key, {
        algorithms: [...ALLOWED_ALGORITHMS],
        audience: this.options.tokenUrl(),
        currentDate: new Date(this.options.now()),
        requiredClaims: ['iss', 'iat', 'exp', 'aud'],
      }));
    } catch (error) {
      return this.refuse(400, 'invalid_grant', assertionProblem(error));
    }
    if (payload.iss !== this.options.clientId) return this.refuse(401, 'invalid_client', `InvalidIntegration (iss ${String(payload.iss)})`, String(payload.iss));
    const iat = Number(payload.iat);
    const exp = Number(payload.exp);
    if (exp - iat > MAX_ASSERTION_LIFETIME_SEC) return this.refuse(400, 'invalid_grant', `InvalidExpiration (exp is ${exp - iat} s after iat; at most ${MAX_ASSERTION_LIFETIME_SEC})`);
    const scopes = scopesOf(payload.scope);
    if (!scopes.includes('rest_webservices')) return this.refuse(400, 'invalid_grant', `ScopeMismatched (${scopes.join(',') || 'none'}; rest_webservices is needed)`);

    this.audit('Success', 'Success', this.options.clientId);
    return { status: 200, body: { access_token: await this.issue(scopes), expires_in: this.options.tokenLifetimeSec, token_type: 'bearer' } };
  }

  /** Whether an Authorization header carries a live access token; failures go to the audit trail. */
  check(authorization: string | undefined): boolean {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) return this.fail('MissingAccessToken');
    const expires = this.tokens.get(token);
    if (expires === undefined) return this.fail('InvalidToken');
    if (this.options.now() >= expires) return this.fail('AccessTokenExpired');
    return true;
  }

  private async issue(scopes: string[]): Promise<string> {
    const nowSec = Math.floor(this.options.now() / 1000);
    const account = this.options.accountId;
    const token = await new SignJWT({ scope: scopes, oit: nowSec, sub: '-5;3;7;N' })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: 's.SYSTEM.2024_1' })
      .setIssuer('https://system.netsuite.com')
      .setAudience([`${this.options.applicationId};${account}`, this.options.clientId])
      .setIssuedAt(nowSec)
      .setExpirationTime(nowSec + this.options.tokenLifetimeSec)
      .setJti(`${account}.a.${randomUUID()}_${this.options.now()}.0`)
      .sign(this.signing.privateKey);
    this.tokens.set(token, (nowSec + this.options.tokenLifetimeSec) * 1000);
    return token;
  }

  private refuse(status: number, error: string, detail: string, clientId?: string): TokenReply {
    this.audit('Failure', detail, clientId);
    return { status, body: { error } };
  }

  private fail(detail: string): false {
    this.audit('Failure', detail);
    return false;
  }

  private audit(status: LoginAuditEntry['status'], detail: string, clientId?: string): void {
    this.loginAudit.push({ at: new Date(this.options.now()).toISOString(), status, detail, ...(clientId ? { clientId } : {}) });
    if (this.loginAudit.length > 1000) this.loginAudit.splice(0, this.loginAudit.length - 1000);
  }
}

/** `scope` as NetSuite takes it: a list, or names separated by commas or spaces. */
function scopesOf(scope: unknown): string[] {
  if (Array.isArray(scope)) return scope.map(String);
  if (typeof scope === 'string') return scope.split(/[,\s]+/).filter(Boolean);
  return [];
}

function assertionProblem(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'ExpiredJWT';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'InvalidSignature';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `InvalidClaim (${error.claim}: ${error.reason})`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'UnsupportedAlgorithm';
  return `InvalidJWT (${error instanceof Error ? error.message : String(error)})`;
}
