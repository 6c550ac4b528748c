/**
 * Records workflow histories for the replay tests: runs real scenarios on the real Temporal
 * server and saves each workflow's history as JSON under test/workflows/histories/.
 * Run it when a workflow change is meant to be incompatible (then bump a workflow version);
 * otherwise the committed histories must keep replaying:
 *   node --import tsx test/workflows/record-histories.ts
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { findTemporalCli } from '../../src/runtime/temporal.js';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { ROOT } from '../../src/runtime/paths.js';
import { CRM_OBJECTS, startTestTemporal, TestHub } from '../support/hub.js';

/** The history in Temporal's standard JSON form, as the CLI exports it. */
function save(workflowId: string, name: string): void {
  const json = execFileSync(findTemporalCli()!, ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--address', env.address], { maxBuffer: 64 * 1024 * 1024 });
  const file = path.join(ROOT, 'test/workflows/histories', name);
  writeFileSync(file, json);
  console.log(`saved ${(JSON.parse(json.toString()) as { events: unknown[] }).events.length} events to ${path.relative(ROOT, file)}`);
}

const env = await startTestTemporal();
const bundle = await bundleWorkflows();
const hub = await TestHub.start(env, bundle, { store: 'postgres', sf: { accounts: 3, contactsPerAccount: 1, opportunitiesPerAccount: 1 } });
try {
  // A connection's life: first sync, a user edit, a dead letter and its replay, a conflict resolved.
  const connection = await hub.connect({ objects: CRM_OBJECTS });
  await hub.sync(connection);
  const [account] = hub.sfRecords('Account');
  hub.sf.state.update('Account', String(account.Id), { BillingCity: 'Lisbon' });
  await hub.sync(connection, { full: true });
  const handle = env.client.workflow.getHandle(`sync:${connection.id}`);
  await handle.executeUpdate('replayDeadLetters', { args: [{}] });
  await handle.signal('requestSync', { id: 'recorded-signal', reason: 'webhook', entities: ['Account'] });
  await hub.sync(connection);
  save(`sync:${connection.id}`, 'connection-sync.json');
  await env.client.workflow.execute('healthCheckWorkflow', { taskQueue: hub.taskQueue, workflowId: 'recorded-health', args: [] });
  save('recorded-health', 'health-check.json');
} finally {
  await hub.close();
  await env.teardown();
}
