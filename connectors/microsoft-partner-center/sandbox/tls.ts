import { X509Certificate, randomBytes, webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

/**
 * TLS material for the Microsoft sandbox. @azure/identity only talks to an https authority host,
 * so the sandbox serves TLS with a certificate signed by its own CA. Both are made at run time
 * with @peculiar/x509 (EC P-256 keys) into `<dataDir>/tls` and reused while valid, so a user who
 * points NODE_EXTRA_CA_CERTS at the CA keeps a working setup across restarts. Nothing is committed.
 */
export interface SandboxTls {
  caPemPath: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

const SERVER_NAMES = { dns: ['localhost'], ip: ['127.0.0.1', '::1'] };
/** Regenerate when the server certificate has less than this left. */
const MIN_REMAINING_MS = 24 * 3600 * 1000;

export async function ensureSandboxTls(dataDir: string): Promise<SandboxTls> {
  const dir = path.join(dataDir, 'tls');
  const existing = readTls(dir);
  if (existing && usable(existing)) return existing;
  mkdirSync(dataDir, { recursive: true });
  // Generate next to the target and rename the whole folder, so two sandboxes starting at
  // once never mix one's CA with the other's server certificate.
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  try {
    await generate(tmp);
    if (existing) rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(tmp, dir);
    } catch (error) {
      // Someone else finished first: use theirs.
      const theirs = readTls(dir);
      if (theirs && usable(theirs)) return theirs;
      throw error;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const made = readTls(dir);
  if (!made) throw new Error(`TLS material missing in ${dir} after generation`);
  return made;
}

function readTls(dir: string): SandboxTls | null {
  const files = ['ca.pem', 'server.pem', 'server-key.pem'].map((f) => path.join(dir, f));
  if (!files.every((f) => existsSync(f))) return null;
  const [caPem, certPem, keyPem] = files.map((f) => readFileSync(f, 'utf8'));
  return { caPemPath: files[0], caPem, certPem, keyPem };
}

function usable(tls: SandboxTls): boolean {
  try {
    const ca = new X509Certificate(tls.caPem);
    const cert = new X509Certificate(tls.certPem);
    const remaining = Math.min(Date.parse(ca.validTo), Date.parse(cert.validTo)) - Date.now();
    return remaining > MIN_REMAINING_MS && cert.checkIssued(ca) && cert.verify(ca.publicKey)
      && SERVER_NAMES.ip.every((ip) => cert.checkIP(ip) !== undefined)
      && SERVER_NAMES.dns.every((name) => cert.checkHost(name) !== undefined);
  } catch {
    return false;
  }
}

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 24 * 3600 * 1000;

async function generate(dir: string): Promise<void> {
  const crypto = webcrypto;
  const serial = () => `01${randomBytes(8).toString('hex')}`;
  const notBefore = new Date(Date.now() - 60_000);
  // The CA key lives only in memory: once the server certificate is signed nobody can mint another one it vouches for.
  const caKeys = await crypto.subtle.generateKey(EC_P256, false, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'O=ecosync, CN=ecosync Microsoft sandbox CA',
    notBefore,
    notAfter: new Date(notBefore.getTime() + 3650 * DAY_MS),
    signingAlgorithm: EC_P256,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
    ],
  }, crypto);
  const serverKeys = await crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'O=ecosync, CN=localhost',
    issuer: ca.subject,
    notBefore,
    notAfter: new Date(notBefore.getTime() + 825 * DAY_MS),
    signingAlgorithm: EC_P256,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        ...SERVER_NAMES.dns.map((value) => ({ type: 'dns' as const, value })),
        ...SERVER_NAMES.ip.map((value) => ({ type: 'ip' as const, value })),
      ]),
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      await x509.SubjectKeyIdentifierExtension.create(serverKeys.publicKey, false, crypto),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
    ],
  }, crypto);
  const serverKeyPem = x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', serverKeys.privateKey), 'PRIVATE KEY');
  writeFileSync(path.join(dir, 'ca.pem'), `${ca.toString('pem')}\n`);
  writeFileSync(path.join(dir, 'server.pem'), `${server.toString('pem')}\n`);
  writeFileSync(path.join(dir, 'server-key.pem'), `${serverKeyPem}\n`, { mode: 0o600 });
}
