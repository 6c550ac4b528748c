import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes.js';
import { DEV_SERVER_TUNING, findTemporalCli } from '../../src/runtime/temporal.js';

/**
 * A real Temporal dev server for a test file, started from the same CLI binary `ecosync up` uses
 * (never a download, never a mock), with ecosync's search attributes registered and the embedded
 * hub's tuning; `eagerActivities: false` leaves every activity to the task queue (a test of how
 * work spreads over worker processes).
 */
export async function startTestTemporal(options: { eagerActivities?: boolean } = {}): Promise<TestWorkflowEnvironment> {
  const cli = findTemporalCli();
  if (!cli) throw new Error('Temporal CLI not found: run the tests through ./ecosync test, which builds it, or set TEMPORAL_CLI');
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: cli },
      ip: '127.0.0.1',
      searchAttributes: SEARCH_ATTRIBUTES,
      log: { format: 'json', level: 'error' },
      extraArgs: options.eagerActivities === false ? [] : DEV_SERVER_TUNING,
    },
  });
}

/** Polls `check` until it returns a truthy value, failing after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
