import { InvalidArgumentError, type Command } from 'commander';
import { COSELL_CLOUD_NAMES } from '../../model/cosell-status.js';
import { COSELL_LIST_STATUSES, type CoSellListItem, type CoSellStatusAnswer, type DecisionResult, type SubmitResult } from '../../service/cosell-control.js';
import { cell, formatTable, print, printJson, runWithApi, withApiOptions, type ApiClient, type ApiFlags } from '../client.js';
import { EXIT } from '../exit.js';

/**
 * `ecosync cosell submit|status|approve|reject|request-changes|resubmit|list`: an alliance
 * manager's and an approver's side of co-sell, through the hub's API. Ids are `<cloud>:<id>`
 * (an opportunity we co-sell, or an invitation a cloud shared with us) or a full workflow id.
 */
export function registerCoSellCommands(program: Command): void {
  const cosell = program.command('cosell').description('co-sell opportunities with AWS and Microsoft: submit, follow, approve or reject');

  withApiOptions(cosell
    .command('submit')
    .description('submit an opportunity for co-sell: it passes internal approval, then goes to the cloud')
    .argument('<opportunity>', 'the ecosync opportunity id, or <crm>:<id> (e.g. salesforce:006…)')
    .requiredOption('--cloud <cloud>', 'aws or azure', cloudOption)
    .option('--by <email>', 'the alliance manager asking (default: the API token\'s name)')
    .option('--solution <id...>', 'partner solutions co-sold (default: the configured ones)')
    .option('--connection <name>', 'the connection reaching the CRM and the clouds (default: the configured one)')
    .option('--json', 'print the answer as JSON'))
    .action((opportunity: string, opts: ApiFlags & { cloud: string; by?: string; solution?: string[]; connection?: string; json?: boolean }) => runWithApi(opts, async (api) => {
      const body = {
        opportunity,
        cloud: opts.cloud,
        ...(opts.by ? { requestedBy: opts.by } : {}),
        ...(opts.connection ? { connection: opts.connection } : {}),
        ...(opts.solution ? { options: { solutionIds: opts.solution } } : {}),
      };
      const result = await api.post<SubmitResult>('/cosells', body);
      if (opts.json) return printJson(result);
      print(`${result.started ? 'submitted' : 'already running'}: ${shortId(result.workflowId)}`);
      if (result.state) printView(result.state as unknown as Record<string, unknown>);
    }));

  withApiOptions(cosell
    .command('status')
    .description('where a co-sell stands: status, approval stage, who may decide, the trail')
    .argument('<id>', '<cloud>:<opportunity or invitation id>, or the workflow id')
    .option('--json', 'print it as JSON'))
    .action((id: string, opts: ApiFlags & { json?: boolean }) => runWithApi(opts, async (api) => {
      const answer = await api.get<CoSellStatusAnswer>(`/cosells/${encodeURIComponent(id)}`);
      if (opts.json) return printJson(answer);
      print(`${answer.id} (${answer.kind}, ${answer.execution.toLowerCase()})`);
      if (answer.state) printView(answer.state, true);
      else print('  no state: the worker did not answer (is it running?)');
    }));

  decisionCommand(cosell, 'approve', 'approve the co-sell\'s current approval stage (or an invitation a cloud shared)', false);
  decisionCommand(cosell, 'reject', 'reject the co-sell (or an invitation); the alliance manager reads the comment', true);
  decisionCommand(cosell, 'request-changes', 'send the co-sell back to the alliance manager with what to change', true);
  decisionCommand(cosell, 'resubmit', 'send the co-sell again after changes, with the opportunity as the CRM has it now', false);

  withApiOptions(cosell
    .command('list')
    .description('co-sells, newest first; --approver or --mine: the ones waiting for that person')
    .option('--cloud <cloud>', 'aws or azure', cloudOption)
    .option('--status <status>', `one of ${COSELL_LIST_STATUSES.join(', ')}`, statusOption)
    .option('--approver <email>', 'only those this person may decide now')
    .option('--mine', 'only those waiting for me (the API token\'s name)')
    .option('--json', 'print them as JSON'))
    .action((opts: ApiFlags & { cloud?: string; status?: string; approver?: string; mine?: boolean; json?: boolean }, command: Command) => {
      if (opts.approver && opts.mine) command.error('error: give --approver <email> or --mine, not both', { exitCode: EXIT.usage });
      return runWithApi(opts, async (api) => listCommand(api, opts));
    });
}

function decisionCommand(cosell: Command, name: 'approve' | 'reject' | 'request-changes' | 'resubmit', description: string, commentRequired: boolean): void {
  const command = cosell
    .command(name)
    .description(description)
    .argument('<id>', '<cloud>:<opportunity or invitation id>, or the workflow id')
    .option('--by <email>', 'who decides (default: the API token\'s name; naming someone else needs an admin token)');
  if (commentRequired) command.requiredOption('--comment <text>', 'why, for the alliance manager');
  else command.option('--comment <text>', 'a note for the trail');
  withApiOptions(command.option('--json', 'print the co-sell after the decision as JSON'))
    .action((id: string, opts: ApiFlags & { by?: string; comment?: string; json?: boolean }) => runWithApi(opts, async (api) => {
      const body = { ...(opts.by ? { by: opts.by } : {}), ...(opts.comment !== undefined ? { comment: opts.comment } : {}) };
      const result = await api.post<DecisionResult>(`/cosells/${encodeURIComponent(id)}/${name}`, body);
      if (opts.json) return printJson(result);
      print(`${PAST[name]}: ${shortId(result.id)}`);
      printView(result.state);
    }));
}

const PAST = { approve: 'approved', reject: 'rejected', 'request-changes': 'changes requested', resubmit: 'resubmitted' } as const;

async function listCommand(api: ApiClient, opts: { cloud?: string; status?: string; approver?: string; mine?: boolean; json?: boolean }): Promise<void> {
  const { cosells } = await api.get<{ cosells: CoSellListItem[] }>('/cosells', { cloud: opts.cloud, status: opts.status, approver: opts.approver, mine: opts.mine ? 'true' : undefined });
  if (opts.json) return printJson(cosells);
  if (cosells.length === 0) {
    if (opts.approver || opts.mine) return print('nothing waits for a decision');
    return print(opts.cloud || opts.status ? 'no co-sells match' : 'no co-sells yet: submit one with `ecosync cosell submit <opportunity> --cloud aws`');
  }
  print(formatTable(
    ['ID', 'KIND', 'STATUS', 'WAITING FOR', 'OPPORTUNITY', 'AMOUNT', 'STARTED'],
    cosells.map((c) => [
      shortId(c.id), c.kind, c.status ?? '-', cell(c.approvers.join(', '), 40), cell(c.opportunity ?? '', 40),
      c.amount ? `${c.amount.amount} ${c.amount.currency}` : '', c.startedAt.slice(0, 19).replace('T', ' '),
    ]),
  ));
}

/** `cosell:aws:<id>` → `aws:<id>`, the form the commands take; inbound ids stay whole. */
function shortId(workflowId: string): string {
  return workflowId.startsWith('cosell:') ? workflowId.slice('cosell:'.length) : workflowId;
}

/** The lines a person reads: status, cloud id, stage and approvers, the last error, the trail. */
function printView(view: Record<string, unknown>, withTrail = false): void {
  const v = view as {
    status?: string; cloud?: string; externalId?: string; currentStage?: string; pendingApprovers?: string[];
    lastError?: { code: string; message: string; fields: { field: string; message: string }[] };
    approvals?: { stage: string; by: string; decision: string; at: string; comment?: string }[];
    cloudStatus?: string; cloudSubstatus?: string; phase?: string; requestedBy?: string;
  };
  print(`  status   ${v.status ?? '-'}${v.cloudStatus ? ` (${v.cloud ?? 'cloud'}: ${v.cloudStatus}${v.cloudSubstatus ? `, ${v.cloudSubstatus}` : ''})` : ''}`);
  if (v.externalId) print(`  cloud id ${v.externalId}`);
  if (v.currentStage) print(`  waiting  ${v.currentStage}: ${(v.pendingApprovers ?? []).join(', ') || 'nobody holds the role'}`);
  // Between the last approval and the cloud's answer the status is still the internal one.
  if (v.phase === 'cloud') print(`  next     approved internally; being sent to ${COSELL_CLOUD_NAMES[v.cloud === 'azure' ? 'azure' : 'aws']}`);
  if ((v.phase === 'changes' || v.phase === 'fix') && v.requestedBy) print(`  waiting  ${v.requestedBy} to fix and resubmit`);
  if (v.lastError) {
    print(`  problem  ${v.lastError.message || v.lastError.code}`);
    for (const f of v.lastError.fields ?? []) print(`           ${f.field}: ${f.message}`);
  }
  if (withTrail && v.approvals && v.approvals.length > 0) {
    print('');
    print(formatTable(['WHEN', 'STAGE', 'BY', 'DECISION', 'COMMENT'], v.approvals.map((a) => [a.at.slice(0, 19).replace('T', ' '), a.stage, a.by, a.decision, cell(a.comment ?? '')])));
  }
}

function cloudOption(value: string): string {
  if (!['aws', 'azure'].includes(value)) throw new InvalidArgumentError('choose aws or azure');
  return value;
}

function statusOption(value: string): string {
  if (!COSELL_LIST_STATUSES.includes(value)) throw new InvalidArgumentError(`choose one of ${COSELL_LIST_STATUSES.join(', ')}`);
  return value;
}
