import { execFileSync } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * TLS material for the Microsoft sandbox. @azure/identity only talks to an https authority host,
 * so the sandbox serves TLS with a certificate signed by its own CA. Both are made at run time
 * with the openssl CLI into `<dataDir>/tls` and reused while valid, so a user who points
 * NODE_EXTRA_CA_CERTS at the CA keeps a working setup across restarts. Nothing is committed.
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

export function ensureSandboxTls(dataDir: string): SandboxTls {
  const dir = path.join(dataDir, 'tls');
  const existing = readTls(dir);
  if (existing && usable(existing)) return existing;
  mkdirSync(dataDir, { recursive: true });
  // Generate next to the target and rename the whole folder, so two sandboxes starting at
  // once never mix one's CA with the other's server certificate.
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  try {
    generate(tmp);
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

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error('the openssl command is needed to make the sandbox TLS certificate (apt-get install openssl)');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() ?? e.message}`);
  }
}

function generate(dir: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '3650',
    '-subj', '/O=ecosync/CN=ecosync Microsoft sandbox CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  openssl(['req', ...ec, '-keyout', 'server-key.pem', '-out', 'server.csr', '-subj', '/O=ecosync/CN=localhost'], dir);
  const san = [...SERVER_NAMES.dns.map((d) => `DNS:${d}`), ...SERVER_NAMES.ip.map((ip) => `IP:${ip}`)].join(',');
  writeFileSync(path.join(dir, 'server.ext'), [
    `subjectAltName=${san}`, 'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth', '',
  ].join('\n'));
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem',
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '825', '-extfile', 'server.ext', '-out', 'server.pem'], dir);
  // The CA key has done its job: deleting it means nobody can mint more certificates this CA vouches for.
  rmSync(path.join(dir, 'ca-key.pem'));
  rmSync(path.join(dir, 'server.csr'));
  rmSync(path.join(dir, 'server.ext'));
}
