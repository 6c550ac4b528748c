import { proxyActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { HealthActivities } from '../src/activities/health.js';
import { SA } from './search-attributes.js';

const { checkStore } = proxyActivities<HealthActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
});

export interface HealthReport {
  workflowId: string;
  database: string;
  checkedAt: string;
}

/** One round trip through worker and store; `ecosync doctor` and the tests run it. */
export async function healthCheckWorkflow(): Promise<HealthReport> {
  setCurrentDetails('waiting for a worker to reach the store');
  const { database, checkedAt } = await checkStore();
  upsertSearchAttributes([{ key: SA.status, value: 'ok' }]);
  setCurrentDetails(`the store (${database}) answered a worker at ${checkedAt}`);
  return { workflowId: workflowInfo().workflowId, database, checkedAt };
}
