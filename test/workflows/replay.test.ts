import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../src/runtime/paths.js';
import { bundleWorkflows } from '../../src/runtime/worker.js';

const dir = path.join(ROOT, 'test/workflows/histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

/**
 * Histories recorded from real runs (test/workflows/record-histories.ts) must replay against
 * today's workflow code: a change that would break running workflows fails here, not in
 * production.
 */
describe('recorded workflow histories replay deterministically', () => {
  let bundle: Awaited<ReturnType<typeof bundleWorkflows>>;
  beforeAll(async () => { bundle = await bundleWorkflows(); });

  it('has recorded histories to replay', () => {
    expect(files).toEqual(expect.arrayContaining([
      // A sync as two-system connections ran it before hubs (directions), and a hub of three systems.
      'connection-sync.json', 'connection-sync-hub.json', 'health-check.json',
      // Webhook cycles: one system read, local bookkeeping, a skipped look back and its sweep.
      'connection-sync-webhook.json',
      // Co-sell: AWS through two approvals (an SLA reminder and escalation) to AWS's approval;
      // changes requested and resubmitted; an AWS invitation accepted; the inbox that started it.
      'cosell-aws-approved.json', 'cosell-changes-resubmitted.json', 'cosell-invitation-accepted.json', 'cosell-inbox.json',
      // Metering to AWS: usage sent in a pass, a dead letter replayed by an update and sent.
      'metering.json',
      // A private offer on AWS: approved, validated and applied, accepted by an announced agreement, booked.
      'offer-aws-accepted.json',
      // A commitment's ledger: judged, woken by an agreement, a refund entered and its Schedule.
      'drawdown.json',
    ]));
  });

  it.each(files)('%s', async (file) => {
    // Temporal's standard JSON history (as `temporal workflow show --output json` writes it).
    const history = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { events: unknown[] };
    expect(history.events.length).toBeGreaterThan(5);
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history)).resolves.toBeUndefined();
  });
});
