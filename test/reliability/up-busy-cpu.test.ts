/**
 * `ecosync up` on a machine whose every core is busy: it starts, or gives up with a message that
 * names the step it was in, within a bound, and it is never silent for long on the way. (A start
 * once printed nothing for 90 s under load: its steps were slow, not stuck — the first open of
 * the database, the dev server, bundling the workflows — and said so only at the info log level.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { portFree } from '../../src/runtime/doctor.js';
import { freePort, startCli, type CliRun } from '../support/process.js';
import { eventually } from '../support/temporal.js';

const START_TIMEOUT_SECONDS = 20;

async function hubEnv() {
  const [port, uiPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  return {
    ports: [port, uiPort, apiPort],
    env: {
      ECOSYNC_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ecosync-up-')),
      TEMPORAL_PORT: String(port), TEMPORAL_UI_PORT: String(uiPort), ECOSYNC_API_PORT: String(apiPort),
      ECOSYNC_START_TIMEOUT_SECONDS: String(START_TIMEOUT_SECONDS),
    },
  };
}

/** Each line of a run's output with when it arrived (ms since the start). */
function timeLines(run: CliRun): Array<{ at: number; line: string }> {
  const began = Date.now();
  const lines: Array<{ at: number; line: string }> = [];
  const take = (chunk: Buffer) => { for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push({ at: Date.now() - began, line }); };
  run.child.stdout!.on('data', take);
  run.child.stderr!.on('data', take);
  return lines;
}

describe('ecosync up under a busy CPU', () => {
  const started: ChildProcess[] = [];
  let hub: CliRun | undefined;
  afterEach(() => {
    hub?.child.kill('SIGKILL');
    for (const hog of started.splice(0)) hog.kill('SIGKILL');
  });

  it('starts or says which step it gave up in, within its bound, printing each step as it goes', async () => {
    // One busy loop per core, at the hub's own priority.
    for (let i = 0; i < availableParallelism(); i++) started.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
    const { env, ports } = await hubEnv();
    hub = startCli(['up', '--no-demo'], env);
    const lines = timeLines(hub);
    const outcome = await eventually(async () => {
      if (hub!.output().includes('Press Ctrl-C to stop.')) return 'started';
      if (hub!.child.exitCode !== null) return 'gave up';
      return undefined;
    }, 80_000, `up to start or give up; output so far:\n${hub.output()}`);

    const steps = lines.filter((l) => /… \(\d+\.\d s\)$/.test(l.line));
    expect(steps[0]?.line).toMatch(/^starting the hub…/);
    // After its first line, never quiet for longer than its bound.
    const gaps = lines.slice(1).map((l, i) => l.at - lines[i].at);
    expect(Math.max(0, ...gaps)).toBeLessThan((START_TIMEOUT_SECONDS + 5) * 1000);
    if (outcome === 'gave up') {
      expect(hub.child.exitCode).toBe(1);
      expect(hub.output()).toMatch(new RegExp(`ecosync could not start: the hub did not start within ${START_TIMEOUT_SECONDS} s: still (opening the database|starting the Temporal dev server|starting the worker|starting the API)`));
    } else {
      expect(steps.map((s) => s.line.replace(/… .*/, ''))).toEqual(['starting the hub', 'opening the database', 'starting the Temporal dev server', 'starting the worker', 'starting the API']);
    }
    console.log(`up under ${started.length} busy loops: ${outcome}; steps: ${steps.map((s) => s.line).join(' | ')}`);
    for (const hog of started.splice(0)) hog.kill('SIGKILL');
    hub.child.kill('SIGKILL');
    // Either way, nothing is left on its ports.
    await eventually(async () => (await Promise.all(ports.map((p) => portFree(p)))).every(Boolean), 30_000, 'the hub\'s ports to be free');
  }, 110_000);

  it('a start past ECOSYNC_START_TIMEOUT_SECONDS exits 1 naming the step, and leaves no Temporal server behind', async () => {
    const { env, ports } = await hubEnv();
    hub = startCli(['up', '--no-demo'], { ...env, ECOSYNC_START_TIMEOUT_SECONDS: '0.05' });
    expect(await hub.exited).toBe(1);
    expect(hub.output()).toMatch(/ecosync could not start: the hub did not start within 0\.05 s: still (starting the hub|opening the database)/);
    await eventually(async () => (await Promise.all(ports.map((p) => portFree(p)))).every(Boolean), 30_000, 'the hub\'s ports to be free');
  }, 60_000);
});
