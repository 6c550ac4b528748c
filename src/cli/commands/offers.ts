import { InvalidArgumentError, type Command } from 'commander';
import { OfferStatus, type OfferDimension } from '../../model/index.js';
import type { OfferAnswer, OfferListItem } from '../../service/offer-control.js';
import type { OfferView } from '../../../workflows/offer-types.js';
import { cell, formatTable, print, printJson, runWithApi, withApiOptions, type ApiClient, type ApiFlags } from '../client.js';
import { EXIT } from '../exit.js';

/**
 * `ecosync offers create|status|list|approve|reject|request-changes|resubmit|withdraw`: an
 * alliance manager's and an approver's side of private offers, through the hub's API. Ids are
 * `<cloud>:<opportunity id>` or the full workflow id `offer:<cloud>:<opportunity id>`.
 */
export function registerOfferCommands(program: Command): void {
  const offers = program.command('offers').description('private offers on AWS Marketplace and the Microsoft marketplace: create, follow, approve, withdraw');

  withApiOptions(offers
    .command('create')
    .description('ask for a private offer on an opportunity: it passes internal approval, then is published on the marketplace')
    .argument('<opportunity>', 'the ecosync opportunity id, or <crm>:<id> (e.g. salesforce:006…)')
    .requiredOption('--cloud <cloud>', 'aws or azure', cloudOption)
    .requiredOption('--dimension <key=price[,qty=N][,list=PRICE]...>', 'a priced dimension, e.g. BasicService=15000.00,qty=2,list=18000.00 (repeat for each)', dimensionOption, [] as OfferDimension[])
    .option('--pricing <model>', 'contract or usage', pricingOption, 'contract')
    .option('--reseller <account>', 'a channel partner offer (CPPO) through this reseller\'s AWS account')
    .option('--markup <percent>', 'the reseller\'s markup on the wholesale prices (with --reseller)')
    .option('--product <id>', 'the marketplace product (default: the opportunity\'s)')
    .option('--buyers <ids>', 'the buyer accounts, comma-separated (default: the opportunity\'s)')
    .option('--expires <date>', 'the last day the buyer may accept, YYYY-MM-DD (default: the opportunity\'s)')
    .option('--term-months <n>', 'the contract\'s length in months (default: the opportunity\'s)', positiveInt)
    .option('--by <email>', 'the alliance manager asking (default: the API token\'s name)')
    .option('--connection <name>', 'the connection reaching the CRM, the marketplace and the ERP (default: the configured one)')
    .option('--json', 'print the answer as JSON'))
    .action((opportunity: string, opts: ApiFlags & CreateFlags, command: Command) => {
      if (Boolean(opts.reseller) !== Boolean(opts.markup)) command.error('error: give --reseller <account> and --markup <percent> together', { exitCode: EXIT.usage });
      return runWithApi(opts, async (api) => {
        const terms = {
          ...(opts.product ? { productId: opts.product } : {}),
          ...(opts.buyers ? { buyers: opts.buyers } : {}),
          ...(opts.expires ? { expiresOn: opts.expires } : {}),
          ...(opts.termMonths ? { termMonths: opts.termMonths } : {}),
        };
        const body = {
          opportunity,
          cloud: opts.cloud,
          pricingModel: opts.pricing,
          dimensions: opts.dimension,
          ...(opts.reseller ? { channel: 'cppo', resale: { resellerAccountId: opts.reseller, markupPercent: opts.markup } } : {}),
          ...(Object.keys(terms).length > 0 ? { terms } : {}),
          ...(opts.by ? { requestedBy: opts.by } : {}),
          ...(opts.connection ? { connection: opts.connection } : {}),
        };
        const answer = await api.post<OfferAnswer>('/offers', body);
        if (opts.json) return printJson(answer);
        print(`${answer.started ? 'asked for' : 'already there'}: ${shortId(answer.id)}`);
        if (answer.state) printView(answer.state);
      });
    });

  withApiOptions(offers
    .command('status')
    .description('where an offer stands: status, who may decide, the marketplace\'s ids and buyer link, what to fix, the trail')
    .argument('<id>', '<cloud>:<opportunity id>, or the workflow id')
    .option('--json', 'print it as JSON'))
    .action((id: string, opts: ApiFlags & { json?: boolean }) => runWithApi(opts, async (api) => {
      const answer = await api.get<OfferAnswer>(`/offers/${encodeURIComponent(id)}`);
      if (opts.json) return printJson(answer);
      print(`${shortId(answer.id)} (${answer.execution.toLowerCase()})`);
      if (answer.state) printView(answer.state, true);
      else print('  no state: the worker did not answer (is it running?)');
    }));

  decisionCommand(offers, 'approve', 'approve the offer\'s current approval stage', { option: 'comment', required: false });
  decisionCommand(offers, 'reject', 'reject the offer; the alliance manager reads the comment', { option: 'comment', required: true });
  decisionCommand(offers, 'request-changes', 'send the offer back to the alliance manager with what to change', { option: 'comment', required: true });
  decisionCommand(offers, 'resubmit', 'send the offer again after changes or a marketplace refusal, the CRM\'s terms read again', { option: 'comment', required: false });
  decisionCommand(offers, 'withdraw', 'withdraw the offer (a live AWS offer stops being available today)', { option: 'reason', required: true });

  withApiOptions(offers
    .command('list')
    .description('private offers, newest first; --approver or --mine: the ones waiting for that person')
    .option('--cloud <cloud>', 'aws or azure', cloudOption)
    .option('--status <status>', `one of ${OfferStatus.options.join(', ')}`, statusOption)
    .option('--buyer <account>', 'only offers to this buyer (AWS account id, Microsoft beneficiary)')
    .option('--approver <email>', 'only those this person may decide now')
    .option('--mine', 'only those waiting for me (the API token\'s name)')
    .option('--json', 'print them as JSON'))
    .action((opts: ApiFlags & ListFlags, command: Command) => {
      if (opts.approver && opts.mine) command.error('error: give --approver <email> or --mine, not both', { exitCode: EXIT.usage });
      return runWithApi(opts, async (api) => listCommand(api, opts));
    });
}

interface CreateFlags {
  cloud: string;
  dimension: OfferDimension[];
  pricing: string;
  reseller?: string;
  markup?: string;
  product?: string;
  buyers?: string;
  expires?: string;
  termMonths?: number;
  by?: string;
  connection?: string;
  json?: boolean;
}

interface ListFlags {
  cloud?: string;
  status?: string;
  buyer?: string;
  approver?: string;
  mine?: boolean;
  json?: boolean;
}

type DecisionName = 'approve' | 'reject' | 'request-changes' | 'resubmit' | 'withdraw';

function decisionCommand(offers: Command, name: DecisionName, description: string, text: { option: 'comment' | 'reason'; required: boolean }): void {
  const command = offers
    .command(name)
    .description(description)
    .argument('<id>', '<cloud>:<opportunity id>, or the workflow id')
    .option('--by <email>', 'who decides (default: the API token\'s name; naming someone else needs an admin token)');
  const flag = `--${text.option} <text>`;
  const help = text.option === 'reason' ? 'why, for the trail and the CRM' : text.required ? 'why, for the alliance manager' : 'a note for the trail';
  if (text.required) command.requiredOption(flag, help);
  else command.option(flag, help);
  withApiOptions(command.option('--json', 'print the offer after the decision as JSON'))
    .action((id: string, opts: ApiFlags & { by?: string; comment?: string; reason?: string; json?: boolean }) => runWithApi(opts, async (api) => {
      const body = {
        ...(opts.by ? { by: opts.by } : {}),
        ...(opts.comment !== undefined ? { comment: opts.comment } : {}),
        ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
      };
      const answer = await api.post<OfferAnswer>(`/offers/${encodeURIComponent(id)}/${name}`, body);
      if (opts.json) return printJson(answer);
      print(`${PAST[name]}: ${shortId(answer.id)}`);
      if (answer.state) printView(answer.state);
    }));
}

const PAST: Record<DecisionName, string> = { approve: 'approved', reject: 'rejected', 'request-changes': 'changes requested', resubmit: 'resubmitted', withdraw: 'withdrawn' };

async function listCommand(api: ApiClient, opts: ListFlags): Promise<void> {
  const { offers } = await api.get<{ offers: OfferListItem[] }>('/offers', {
    cloud: opts.cloud, status: opts.status, buyer: opts.buyer, approver: opts.approver, mine: opts.mine ? 'true' : undefined,
  });
  if (opts.json) return printJson(offers);
  if (offers.length === 0) {
    if (opts.approver || opts.mine) return print('nothing waits for a decision');
    return print(opts.cloud || opts.status || opts.buyer ? 'no offers match' : 'no private offers yet: ask for one with `ecosync offers create <opportunity> --cloud aws --dimension <key>=<price>`');
  }
  print(formatTable(
    ['ID', 'STATUS', 'WAITING FOR', 'BUYERS', 'OPPORTUNITY', 'REQUESTED BY', 'STARTED'],
    offers.map((o) => [
      shortId(o.id), o.status ?? '-', cell(o.approvers.join(', '), 40), cell(o.buyers.join(', '), 40), cell(o.opportunity ?? '', 40),
      o.requestedBy ?? '', o.startedAt.slice(0, 19).replace('T', ' '),
    ]),
  ));
}

/** `offer:aws:<id>` → `aws:<id>`, the form the commands take. */
function shortId(workflowId: string): string {
  return workflowId.startsWith('offer:') ? workflowId.slice('offer:'.length) : workflowId;
}

/** The lines a person reads: status, value and discount, the marketplace's ids, who decides, what to fix, the trail. */
function printView(v: OfferView, withTrail = false): void {
  print(`  status   ${v.status} (${v.phase})`);
  print(`  offer    ${v.name}: ${v.totalValue ?? '?'} ${v.currency}${v.discountPercent ? `, ${v.discountPercent} % off list` : ''}${v.channel === 'cppo' ? ` through reseller ${v.resale?.resellerAccountId ?? '?'}` : ''}`);
  if (v.buyerAccounts.length > 0) print(`  buyers   ${v.buyerAccounts.join(', ')}`);
  if (v.cloudIds.offerId) print(`  cloud id ${v.cloudIds.offerId}`);
  if (v.buyerUrl) print(`  buyer    ${v.buyerUrl}`);
  if (v.agreementId) print(`  accepted agreement ${v.agreementId}`);
  if (v.currentStage) print(`  waiting  ${v.currentStage}: ${v.pendingApprovers.join(', ') || 'nobody holds the role'}`);
  if ((v.phase === 'changes' || v.phase === 'fix') && v.requestedBy) print(`  waiting  ${v.requestedBy} to fix and resubmit`);
  for (const p of v.problems) print(`  problem  ${p.message}${p.crmField ? ` (CRM field ${p.crmField})` : p.field ? ` (${p.field})` : ''}`);
  if (withTrail && v.approvals.length > 0) {
    print('');
    print(formatTable(['WHEN', 'STAGE', 'BY', 'DECISION', 'COMMENT'], v.approvals.map((a) => [a.at.slice(0, 19).replace('T', ' '), a.stage, a.by, a.decision, cell(a.comment ?? '')])));
  }
}

function cloudOption(value: string): string {
  if (!['aws', 'azure'].includes(value)) throw new InvalidArgumentError('choose aws or azure');
  return value;
}

function pricingOption(value: string): string {
  if (!['contract', 'usage'].includes(value)) throw new InvalidArgumentError('choose contract or usage');
  return value;
}

function statusOption(value: string): string {
  if (!(OfferStatus.options as readonly string[]).includes(value)) throw new InvalidArgumentError(`choose one of ${OfferStatus.options.join(', ')}`);
  return value;
}

function positiveInt(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('a whole number of months, such as 12');
  return Number(value);
}

const DECIMAL = /^\d+(\.\d+)?$/;

/** `key=price[,qty=N][,list=PRICE]`, collected over repeats. */
function dimensionOption(value: string, previous: OfferDimension[]): OfferDimension[] {
  const [head, ...extras] = value.split(',').map((part) => part.trim());
  const eq = head.indexOf('=');
  const key = eq > 0 ? head.slice(0, eq) : '';
  const price = eq > 0 ? head.slice(eq + 1) : '';
  if (!key || !DECIMAL.test(price)) throw new InvalidArgumentError(`"${value}": give <key>=<price>, such as BasicService=15000.00`);
  const dimension: OfferDimension = { key, price };
  for (const extra of extras) {
    const [name, amount = ''] = extra.split('=');
    if (name === 'qty' && /^[1-9]\d*$/.test(amount)) dimension.quantity = Number(amount);
    else if (name === 'list' && DECIMAL.test(amount)) dimension.listPrice = amount;
    else throw new InvalidArgumentError(`"${extra}" in "${value}": after the price come qty=<whole number> and list=<price>`);
  }
  return [...previous, dimension];
}
