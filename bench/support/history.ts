import type { Client } from '@temporalio/client';

export interface HistoryCount {
  /** Events over every run of the chain (continue-as-new included). */
  events: number;
  runs: number;
  /** Events of the largest single run: the figure Temporal's own limits apply to. */
  largestRun: number;
}

/**
 * Counts the history events of a workflow across its continue-as-new chain: from the chain's
 * first run, page through each history and follow the continued-as-new event to the next run.
 */
export async function countHistory(client: Client, workflowId: string): Promise<HistoryCount> {
  const service = client.workflowService;
  const namespace = client.options.namespace;
  const described = await client.workflow.getHandle(workflowId).describe();
  let runId: string | undefined = described.raw.workflowExecutionInfo?.firstRunId || described.runId;
  const count: HistoryCount = { events: 0, runs: 0, largestRun: 0 };
  while (runId) {
    let nextPageToken: Uint8Array | undefined;
    let inRun = 0;
    let next: string | undefined;
    do {
      const page = await service.getWorkflowExecutionHistory({ namespace, execution: { workflowId, runId }, nextPageToken, maximumPageSize: 1000 });
      for (const event of page.history?.events ?? []) {
        inRun++;
        const continued = event.workflowExecutionContinuedAsNewEventAttributes;
        if (continued?.newExecutionRunId) next = continued.newExecutionRunId;
      }
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    count.events += inRun;
    count.runs++;
    count.largestRun = Math.max(count.largestRun, inRun);
    runId = next;
  }
  return count;
}
