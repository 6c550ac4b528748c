import { createHmac, randomBytes } from 'node:crypto';
import { idChecksum, isWellFormedId, makeId } from './ids.js';

/**
 * The sandbox org's OAuth 2.0 token endpoint and session store: password, refresh_token and
 * client_credentials grants, access tokens that expire after a configurable lifetime.
 */

export const USER_ID = makeId('005', 1);

/**
 * The org id of a sandbox: derived from its seed, so one seed always names the same org and two
 * sandboxes with different seeds are two orgs; an explicit id (15 or 18 characters) wins.
 */
export function sandboxOrgId(seed: number, explicit?: string): string {
  if (explicit === undefined) return makeId('00D', seed);
  if (!explicit.startsWith('00D') || !isWellFormedId(explicit)) throw new Error(`orgId ${JSON.stringify(explicit)} is not a Salesforce org id (00D…, 15 or 18 characters)`);
  return explicit.length === 15 ? explicit + idChecksum(explicit) : explicit;
}

/** Demo credentials of the sandbox org (a connected app and one user); printed by the CLI. */
export const SANDBOX_CREDENTIALS = {
  clientId: '3MVG9ecosyncSandboxConsumerKey',
  clientSecret: 'ecosync-sandbox-consumer-secret',
  username: 'admin@ecosync-sandbox.example',
  password: 'sandbox-password',
  /** Issued to the connected app by an earlier web-server flow, as a production org would have. */
  refreshToken: '5Aep861ecosyncSandboxRefreshToken',
} as const;

export interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  instance_url: string;
  id: string;
  token_type: 'Bearer';
  issued_at: string;
  signature: string;
  scope: string;
}

export type TokenOutcome = { status: 200; body: TokenResponse } | { status: 400 | 401; body: { error: string; error_description: string } };

export class SessionStore {
  private readonly sessions = new Map<string, number>();

  constructor(private readonly orgId: string, private readonly lifetimeSec: number, private readonly now: () => number = Date.now) {}

  issue(): string {
    const token = `${this.orgId}!AQ${randomBytes(24).toString('base64url')}`;
    this.sessions.set(token, this.now() + this.lifetimeSec * 1000);
    return token;
  }

  valid(token: string | undefined): boolean {
    if (!token) return false;
    const expiresAt = this.sessions.get(token);
    if (expiresAt === undefined) return false;
    if (expiresAt <= this.now()) {
      this.sessions.delete(token);
      return false;
    }
    return true;
  }

  revoke(token: string): void {
    this.sessions.delete(token);
  }

  /** Ends every session, as a session timeout or an admin's "revoke all" would. */
  expireAll(): void {
    this.sessions.clear();
  }
}

/** Answers a POST to /services/oauth2/token for the org `orgId`. */
export function grantToken(params: URLSearchParams, sessions: SessionStore, instanceUrl: string, orgId: string): TokenOutcome {
  const c = SANDBOX_CREDENTIALS;
  const grant = params.get('grant_type');
  if (params.get('client_id') !== c.clientId) {
    return { status: 400, body: { error: 'invalid_client_id', error_description: 'client identifier invalid' } };
  }
  if (params.get('client_secret') !== null && params.get('client_secret') !== c.clientSecret) {
    return { status: 400, body: { error: 'invalid_client', error_description: 'invalid client credentials' } };
  }
  let refreshToken: string | undefined;
  switch (grant) {
    case 'password':
      if (params.get('username') !== c.username || params.get('password') !== c.password) {
        return { status: 400, body: { error: 'invalid_grant', error_description: 'authentication failure' } };
      }
      break;
    case 'refresh_token':
      if (params.get('refresh_token') !== c.refreshToken) {
        return { status: 400, body: { error: 'invalid_grant', error_description: 'expired access/refresh token' } };
      }
      break;
    case 'client_credentials':
      if (params.get('client_secret') !== c.clientSecret) {
        return { status: 400, body: { error: 'invalid_client', error_description: 'invalid client credentials' } };
      }
      break;
    case 'authorization_code':
      // The web-server flow's code exchange returns the refresh token the other flows reuse.
      if (params.get('code') !== 'sandbox-authorization-code') {
        return { status: 400, body: { error: 'invalid_grant', error_description: 'invalid authorization code' } };
      }
      refreshToken = c.refreshToken;
      break;
    default:
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'grant type not supported' } };
  }
  const id = `${instanceUrl}/id/${orgId}/${USER_ID}`;
  const issuedAt = String(Date.now());
  return {
    status: 200,
    body: {
      access_token: sessions.issue(),
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
      instance_url: instanceUrl,
      id,
      token_type: 'Bearer',
      issued_at: issuedAt,
      signature: createHmac('sha256', c.clientSecret).update(id + issuedAt).digest('base64'),
      scope: 'api refresh_token',
    },
  };
}
