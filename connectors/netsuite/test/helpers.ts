import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { NetSuiteSandbox } from '../sandbox/index.js';

/** Raw HTTP against a sandbox, as a hand-written NetSuite client would talk to the account. */

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface AssertionOverrides {
  alg?: string;
  kid?: string;
  iss?: string;
  aud?: string;
  scope?: unknown;
  iat?: number;
  exp?: number;
  key?: KeyObject | string;
}

/** A client assertion as NetSuite wants it, signed with the sandbox's private key unless told otherwise. */
export async function assertion(sb: NetSuiteSandbox, o: AssertionOverrides = {}): Promise<string> {
  const iat = o.iat ?? Math.floor(sb.state.now() / 1000);
  const key = o.key === undefined ? createPrivateKey(sb.privateKey) : typeof o.key === 'string' ? createPrivateKey(o.key) : o.key;
  return new SignJWT({ scope: o.scope ?? ['rest_webservices'] })
    .setProtectedHeader({ alg: o.alg ?? sb.keyAlgorithm, typ: 'JWT', kid: o.kid ?? sb.certificateId })
    .setIssuer(o.iss ?? sb.clientId)
    .setAudience(o.aud ?? sb.tokenUrl)
    .setIssuedAt(iat)
    .setExpirationTime(o.exp ?? iat + 300)
    .sign(key);
}

export async function tokenRequest(sb: NetSuiteSandbox, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(sb.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

export async function accessToken(sb: NetSuiteSandbox): Promise<string> {
  const res = await tokenRequest(sb, { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(sb) });
  if (res.status !== 200) throw new Error(`token refused: ${JSON.stringify(res.body)}`);
  return String(res.body.access_token);
}

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

/** A REST call with a bearer token; `path` is under /services/rest. */
export async function call(sb: NetSuiteSandbox, token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${sb.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

export function suiteql(sb: NetSuiteSandbox, token: string, q: string, query = '', transient = true): Promise<Answer> {
  return call(sb, token, 'POST', `/query/v1/suiteql${query}`, { q }, transient ? { prefer: 'transient' } : {});
}

/** An RSA key pair (RS256 and PS256 tests). */
export function rsaKeys(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

/** Resolves once n of the promises have settled, with their results in settling order. */
export function firstSettled<T>(promises: Promise<T>[], n: number): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const done: T[] = [];
    for (const p of promises) {
      p.then((v) => {
        done.push(v);
        if (done.length === n) resolve([...done]);
      }, reject);
    }
  });
}
