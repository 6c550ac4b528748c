import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, get, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSandboxTls, type SandboxTls } from './tls.js';

describe('sandbox TLS material', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ecosync-tls-'));
  let tls: SandboxTls;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    tls = await ensureSandboxTls(dataDir);
    server = createServer({ key: tls.keyPem, cert: tls.certPem }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '::', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is a CA and a localhost server certificate it signed, and keeps only the server key', () => {
    const ca = new X509Certificate(tls.caPem);
    const cert = new X509Certificate(tls.certPem);
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(ca) && cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIP('::1')).toBe('::1');
    expect(cert.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // serverAuth
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(tls.caPemPath).toBe(path.join(dataDir, 'tls', 'ca.pem'));
    expect(statSync(path.join(dataDir, 'tls', 'server-key.pem')).mode & 0o077).toBe(0);
    expect(() => statSync(path.join(dataDir, 'tls', 'ca-key.pem'))).toThrow();
  });

  it('is trusted by Node through the CA passed in, on every name the sandbox answers to', async () => {
    for (const host of ['localhost', '127.0.0.1', '[::1]']) {
      const body = await new Promise<string>((resolve, reject) => {
        get(`https://${host}:${port}/`, { ca: tls.caPem }, (res) => {
          let text = '';
          res.on('data', (chunk) => { text += String(chunk); }).on('end', () => resolve(text));
        }).on('error', reject);
      });
      expect(body, host).toBe('ok');
    }
  });

  it('is trusted by a fresh Node process through NODE_EXTRA_CA_CERTS, and only then', async () => {
    const run = (env: NodeJS.ProcessEnv) => promisify(execFile)(process.execPath, ['-e', `fetch('https://localhost:${port}/').then(async (r) => console.log(await r.text()), (e) => console.log(e.cause?.code ?? e.message))`], { env: { PATH: process.env.PATH, ...env } });
    expect((await run({ NODE_EXTRA_CA_CERTS: tls.caPemPath })).stdout.trim()).toBe('ok');
    expect((await run({})).stdout.trim()).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|unable to verify/i);
  });

  it('is reused while valid, so a trusted CA stays trusted across restarts', async () => {
    const again = await ensureSandboxTls(dataDir);
    expect(again.caPem).toBe(tls.caPem);
    expect(again.certPem).toBe(tls.certPem);
  });

  it('is made again when a file is damaged', async () => {
    const other = mkdtempSync(path.join(os.tmpdir(), 'ecosync-tls-'));
    try {
      const first = await ensureSandboxTls(other);
      writeFileSync(path.join(other, 'tls', 'server.pem'), 'not a certificate');
      const second = await ensureSandboxTls(other);
      expect(second.caPem).not.toBe(first.caPem);
      expect(new X509Certificate(second.certPem).checkIssued(new X509Certificate(second.caPem))).toBe(true);
      expect(readFileSync(second.caPemPath, 'utf8')).toBe(second.caPem);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('gives two sandboxes starting at once one matching set', async () => {
    const other = mkdtempSync(path.join(os.tmpdir(), 'ecosync-tls-'));
    try {
      const [a, b] = await Promise.all([ensureSandboxTls(other), ensureSandboxTls(other)]);
      for (const t of [a, b]) expect(new X509Certificate(t.certPem).checkIssued(new X509Certificate(t.caPem))).toBe(true);
      const onDisk = await ensureSandboxTls(other);
      expect([a.caPem, b.caPem]).toContain(onDisk.caPem);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
