import { describe, expect, it } from 'vitest';
import { startCli } from '../support/process.js';

describe('ecosync output into a pipe', () => {
  it('exits 0, without a stack trace, when the reader closes the pipe early (ecosync … | head)', async () => {
    const run = startCli(['mappings', 'validate']);
    // The reader goes away before the command writes its first line.
    run.child.stdout!.destroy();
    const code = await run.exited;
    expect(run.output()).not.toMatch(/EPIPE|Error:/);
    expect(code).toBe(0);
  }, 60_000);
});
