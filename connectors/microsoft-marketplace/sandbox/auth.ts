import https from 'node:https';
import { createRemoteJWKSet, customFetch, decodeJwt, jwtVerify, type JWTPayload } from 'jose';

/**
 * Bearer tokens checked as a Microsoft API checks them: the token names its tenant (`tid`); the
 * tenant's OpenID configuration at the Entra authority gives the issuer and the signing keys
 * (JWKS, fetched and cached with jose); the signature, issuer, audience and lifetime (against
 * the sandbox clock, with Microsoft's five minutes of skew) must all hold. The authority is
 * the Microsoft sandbox's Entra ID, which serves https with its own CA.
 */
export type TokenCheck =
  | { ok: true; tenantId: string; appId: string; claims: JWTPayload }
  | { ok: false; reason: 'missing' | 'malformed' | 'untrusted' | 'signature' | 'audience' | 'expired'; message: string };

export interface EntraVerifierOptions {
  /** The Entra authority host, e.g. the Microsoft sandbox's `https://127.0.0.1:8704`. */
  authorityHost: string;
  /** The CA that signed the authority's certificate, when it is not one Node trusts. */
  caPem?: string;
  now: () => number;
}

const CLOCK_SKEW_SEC = 300;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface TenantKeys {
  issuer: string;
  keys: ReturnType<typeof createRemoteJWKSet>;
}

export class EntraTokenVerifier {
  private readonly tenants = new Map<string, Promise<TenantKeys>>();
  private readonly fetch: typeof fetch;

  constructor(private readonly options: EntraVerifierOptions) {
    this.fetch = fetchTrusting(options.caPem);
  }

  /** `audience`: the API's resource id(s); a token for any of them is accepted. */
  async verify(authorization: string | undefined, audience: string | readonly string[]): Promise<TokenCheck> {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) return { ok: false, reason: 'missing', message: 'The request has no bearer token.' };
    let tid: unknown;
    try {
      tid = decodeJwt(token).tid;
    } catch {
      return { ok: false, reason: 'malformed', message: 'The bearer token is not a JWT.' };
    }
    if (typeof tid !== 'string' || !GUID.test(tid)) return { ok: false, reason: 'malformed', message: 'The bearer token names no tenant (tid).' };
    let tenant: TenantKeys;
    try {
      tenant = await this.tenant(tid.toLowerCase());
    } catch (error) {
      return { ok: false, reason: 'untrusted', message: `The token's tenant ${tid} is not known to the authority ${this.options.authorityHost}: ${(error as Error).message}` };
    }
    try {
      const { payload } = await jwtVerify(token, tenant.keys, {
        issuer: tenant.issuer, audience: [audience].flat(), currentDate: new Date(this.options.now()), clockTolerance: CLOCK_SKEW_SEC, algorithms: ['RS256', 'ES256'],
      });
      const appId = typeof payload.appid === 'string' ? payload.appid : typeof payload.azp === 'string' ? payload.azp : '';
      return { ok: true, tenantId: tid.toLowerCase(), appId, claims: payload };
    } catch (error) {
      const code = (error as { code?: string }).code;
      const claim = (error as { claim?: string }).claim;
      if (code === 'ERR_JWT_EXPIRED') return { ok: false, reason: 'expired', message: 'The access token has expired.' };
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'aud') return { ok: false, reason: 'audience', message: `The access token is not for ${[audience].flat()[0]}.` };
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'nbf') return { ok: false, reason: 'expired', message: 'The access token is not yet valid.' };
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') return { ok: false, reason: 'untrusted', message: `The access token's ${claim} is not the authority's.` };
      if (code === 'ERR_JWS_INVALID' || code === 'ERR_JWT_INVALID') return { ok: false, reason: 'malformed', message: 'The bearer token is malformed.' };
      return { ok: false, reason: 'signature', message: 'The access token signature is invalid.' };
    }
  }

  /** The tenant's issuer and keys; a failed discovery is forgotten, so the next call tries again. */
  private tenant(tid: string): Promise<TenantKeys> {
    let found = this.tenants.get(tid);
    if (!found) {
      found = this.discover(tid);
      this.tenants.set(tid, found);
      found.catch(() => this.tenants.delete(tid));
    }
    return found;
  }

  private async discover(tid: string): Promise<TenantKeys> {
    const url = new URL(`/${tid}/v2.0/.well-known/openid-configuration`, this.options.authorityHost);
    const response = await this.fetch(url.href, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`its OpenID configuration answered ${response.status}`);
    const config = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
    if (typeof config.issuer !== 'string' || typeof config.jwks_uri !== 'string') throw new Error('its OpenID configuration has no issuer or jwks_uri');
    const keys = createRemoteJWKSet(new URL(config.jwks_uri), { [customFetch]: this.fetch as never });
    return { issuer: config.issuer, keys };
  }
}

/**
 * fetch that trusts `caPem` for https (Node's fetch takes no CA of its own; NODE_EXTRA_CA_CERTS
 * is read only at process start), or plain fetch when there is no CA to add.
 */
function fetchTrusting(caPem: string | undefined): typeof fetch {
  if (!caPem) return fetch;
  return ((input: string | URL, init?: { headers?: ConstructorParameters<typeof Headers>[0]; signal?: AbortSignal | null }) => new Promise<Response>((resolve, reject) => {
    const url = new URL(String(input));
    if (url.protocol !== 'https:') {
      fetch(url, init as RequestInit).then(resolve, reject);
      return;
    }
    const request = https.get(url, { ca: caPem, headers: Object.fromEntries(new Headers(init?.headers)), signal: init?.signal ?? undefined }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500, headers: { 'content-type': String(res.headers['content-type'] ?? 'application/json') } })));
      res.on('error', reject);
    });
    request.on('error', reject);
  })) as typeof fetch;
}
