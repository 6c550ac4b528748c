import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/runtime/config.js';
import { temporalConnectionOptions } from '../../src/runtime/temporal.js';
import { dirWith, emptyDir, problemsOf } from './config-files.js';

/** Configuration for Temporal Cloud or a self-hosted cluster behind TLS: what reaches the SDK's connections. */
describe('pointing ecosync at Temporal Cloud or a secured cluster', () => {
  it('an API key (Temporal Cloud): sent over TLS, from the environment', () => {
    const { config } = loadConfig({ cwd: emptyDir(), env: {
      TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233', TEMPORAL_NAMESPACE: 'ecosync-prod.a1b2c', TEMPORAL_API_KEY: 'key-0123456789',
    } });
    expect(config.temporal).toMatchObject({ address: 'us-east-1.aws.api.temporal.io:7233', namespace: 'ecosync-prod.a1b2c', apiKey: 'key-0123456789' });
    expect(temporalConnectionOptions(config.temporal, config.temporal.address!)).toEqual({ address: 'us-east-1.aws.api.temporal.io:7233', tls: {}, apiKey: 'key-0123456789' });
  });

  it('mTLS: the client certificate and key, a private CA and the server name, read from the files ecosync.yaml names', () => {
    const { cwd, file } = dirWith('');
    const pem = (name: string) => {
      const target = path.join(cwd, name);
      writeFileSync(target, `-----BEGIN ${name}-----\n${name}\n-----END ${name}-----\n`);
      return target;
    };
    const [cert, key, ca] = [pem('client.pem'), pem('client.key'), pem('ca.pem')];
    writeFileSync(file, `temporal:\n  address: temporal.internal:7233\n  namespace: ecosync\n  tls:\n    certFile: ${cert}\n    keyFile: ${key}\n    caFile: ${ca}\n    serverName: temporal.internal\n`);
    const { config } = loadConfig({ cwd, env: {} });
    const options = temporalConnectionOptions(config.temporal, config.temporal.address!);
    expect(options.address).toBe('temporal.internal:7233');
    expect(options.apiKey).toBeUndefined();
    expect(Buffer.from(options.tls!.clientCertPair!.crt).toString()).toContain('client.pem');
    expect(Buffer.from(options.tls!.clientCertPair!.key).toString()).toContain('client.key');
    expect(Buffer.from(options.tls!.serverRootCACertificate!).toString()).toContain('ca.pem');
    expect(options.tls!.serverNameOverride).toBe('temporal.internal');
  });

  it('a plain cluster stays plain; TEMPORAL_TLS=true turns TLS on with the system\'s CAs', () => {
    const plain = loadConfig({ cwd: emptyDir(), env: { TEMPORAL_ADDRESS: 'temporal:7233' } }).config;
    expect(temporalConnectionOptions(plain.temporal, 'temporal:7233')).toEqual({ address: 'temporal:7233' });
    const tls = loadConfig({ cwd: emptyDir(), env: { TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_TLS: 'true' } }).config;
    expect(temporalConnectionOptions(tls.temporal, 'temporal:7233')).toEqual({ address: 'temporal:7233', tls: {} });
  });

  it('refuses a certificate without its key, and names the setting and path of a file it cannot read', () => {
    const { cwd, file } = dirWith('temporal:\n  tls:\n    certFile: /nowhere/client.pem\n');
    expect(problemsOf(() => loadConfig({ cwd, env: {} }))).toEqual([`${file}:3:5: temporal.tls.keyFile: a client certificate needs its key (TEMPORAL_TLS_KEY)`]);
    expect(problemsOf(() => loadConfig({ cwd: emptyDir(), env: { TEMPORAL_TLS: 'maybe' } }))[0]).toMatch(/^environment TEMPORAL_TLS: temporal\.tls\.enabled: /);

    const { config } = loadConfig({ cwd: emptyDir(), env: { TEMPORAL_TLS_CERT: '/nowhere/client.pem', TEMPORAL_TLS_KEY: '/nowhere/client.key' } });
    expect(() => temporalConnectionOptions(config.temporal, 'temporal:7233')).toThrow('temporal.tls.certFile (TEMPORAL_TLS_CERT): cannot read /nowhere/client.pem: ENOENT');
  });
});
