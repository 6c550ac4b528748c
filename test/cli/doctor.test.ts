import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, runCli } from '../support/process.js';

describe('ecosync doctor', () => {
  it('explains both ways to get Temporal when neither the binary nor a cluster is there', async () => {
    const env = {
      ECOSYNC_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ecosync-doctor-')),
      TEMPORAL_CLI: '/nonexistent/temporal', PATH: '/usr/bin:/bin',
      ECOSYNC_API_PORT: String(await freePort()),
    };
    // TEMPORAL_CLI pointing nowhere and no temporal on PATH: the cached build must be ignored too.
    const { code, output } = await runCli(['doctor'], { ...env, ECOSYNC_IGNORE_CACHED_TEMPORAL: '1' });
    expect(output).toContain('✗ Temporal: no temporal CLI binary');
    expect(output).toContain('go install github.com/temporalio/cli/cmd/temporal@v1.5.1');
    expect(output).toContain('TEMPORAL_ADDRESS=host:port');
    expect(code).toBe(1);
  }, 120_000);

  it('reports an unreachable external cluster', async () => {
    const port = await freePort();
    const { code, output } = await runCli(['doctor'], {
      ECOSYNC_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ecosync-doctor-')),
      TEMPORAL_ADDRESS: `127.0.0.1:${port}`, ECOSYNC_API_PORT: String(await freePort()),
    });
    expect(output).toContain(`✗ Temporal: nothing answers at 127.0.0.1:${port} (TEMPORAL_ADDRESS)`);
    expect(code).toBe(1);
  }, 120_000);

  it('exits 2 on a usage error', async () => {
    const { code, output } = await runCli(['no-such-command']);
    expect(output).toMatch(/unknown command/);
    expect(code).toBe(2);
  });
});
