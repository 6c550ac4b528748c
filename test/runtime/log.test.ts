import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactText } from '../../src/runtime/log.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk, _enc, done) { lines.push(chunk.toString()); done(); } });
  return { log: createLogger({ destination, pretty: false, level: 'debug' }), text: () => lines.join('') };
}

describe('logging', () => {
  it('redacts credentials wherever they sit in logged objects', () => {
    const { log, text } = capture();
    log.info({
      connection: { name: 'sf', credentials: { clientSecret: 'cs-SECRET-1', refreshToken: 'rt-SECRET-2' } },
      accessToken: 'at-SECRET-3',
      req: { headers: { authorization: 'Bearer at-SECRET-4' } },
      token: { access_token: 'at-SECRET-5' },
      config: { password: 'pw-SECRET-6' },
    }, 'connected');
    const out = text();
    expect(out).toContain('connected');
    expect(out).toContain('"name":"sf"');
    expect(out).not.toMatch(/SECRET/);
    expect(out).toContain('[Redacted]');
  });

  it('redacts tokens quoted inside messages and errors', () => {
    const { log, text } = capture();
    log.warn('retrying https://x.test/token?refresh_token=rt-SECRET-7&grant=1 with Bearer eyJ.SECRET.8');
    log.error({ err: new Error('401 for access_token=at-SECRET-9') }, 'call failed');
    const out = text();
    expect(out).toContain('retrying https://x.test/token?refresh_token=[Redacted]&grant=1');
    expect(out).toContain('call failed');
    expect(out).not.toMatch(/SECRET/);
  });

  it('redactText leaves ordinary text alone', () => {
    expect(redactText('synced 200 records to hubspot')).toBe('synced 200 records to hubspot');
    expect(redactText('Authorization: Bearer abc.def')).toBe('Authorization: Bearer [Redacted]');
  });
});
