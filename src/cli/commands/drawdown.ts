import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { LineCounter, parseDocument } from 'yaml';
import { formatDiagnostic, offsetAtPath, Reporter } from '../../mapping/diagnostics.js';
import { Commitment } from '../../model/index.js';
import type { DrawdownReport } from '../../service/drawdown-report.js';
import { cell, formatTable, print, printJson, runWithApi, withApiOptions, type ApiFlags } from '../client.js';
import { EXIT } from '../exit.js';

/** `ecosync commitments create|list` and `ecosync drawdown report`: customers' cloud commitments and their burn-down. */
export function registerDrawdownCommands(program: Command): void {
  const commitments = program.command('commitments').description('customers\' cloud commitments (AWS EDP/PPA, Azure MACC, Google Cloud commit)');

  withApiOptions(commitments
    .command('create')
    .description('record a commitment from a YAML or JSON file (the canonical Commitment); its ledger starts at once')
    .requiredOption('--connection <name>', 'the connection the customer is synced in')
    .argument('<file>', 'the commitment: id, accountId, cloud, program, amount, currency, startDate, endDate, ruleSet, …'))
    .action((file: string, opts: ApiFlags & { connection: string }) => {
      const commitment = readCommitment(file);
      if (!commitment) {
        process.exitCode = EXIT.invalidInput;
        return;
      }
      return runWithApi(opts, async (api) => {
        const answer = await api.post<{ connection: string; commitment: Commitment }>('/commitments', { connection: opts.connection, commitment });
        const c = answer.commitment;
        print(`commitment ${c.externalId ?? c.id} (${c.program}, ${c.amount} ${c.currency}, ${c.startDate} to ${c.endDate}) recorded in ${answer.connection}; its ledger runs daily and whenever an agreement or invoice arrives`);
      });
    });

  withApiOptions(commitments
    .command('list')
    .description('list commitments, oldest first')
    .option('--connection <name>', 'only this connection\'s')
    .option('--customer <accountId>', 'only this customer\'s (canonical Account id)')
    .option('--json', 'print them as JSON'))
    .action((opts: ApiFlags & { connection?: string; customer?: string; json?: boolean }) => runWithApi(opts, async (api) => {
      const { commitments: list } = await api.get<{ commitments: Array<{ connection: string; commitment: Commitment }> }>('/commitments', { connection: opts.connection, customer: opts.customer });
      if (opts.json) return printJson(list);
      if (list.length === 0) return print('no commitments');
      print(formatTable(
        ['ID', 'REFERENCE', 'CONNECTION', 'CUSTOMER', 'PROGRAM', 'AMOUNT', 'TERM', 'RULES'],
        list.map(({ connection, commitment: c }) => [c.id, c.externalId ?? '', connection, c.accountId, c.program, `${c.amount} ${c.currency}`, `${c.startDate} to ${c.endDate}`, c.ruleSet]),
      ));
    }));

  const drawdown = program.command('drawdown').description('where commitments stand: consumed, remaining, forecast to period end');
  withApiOptions(drawdown
    .command('report')
    .description('each commitment\'s current period: committed, consumed, remaining, forecast and shortfall')
    .option('--customer <accountId>', 'only this customer\'s (canonical Account id)')
    .option('--connection <name>', 'only this connection\'s')
    .option('--as-of <date>', 'the day the figures are for (YYYY-MM-DD; today by default)')
    .option('--json', 'print the whole report (ledger lines, alerts, partners) as JSON')
    .option('--csv', 'print the table as CSV'))
    .action((opts: ApiFlags & { customer?: string; connection?: string; asOf?: string; json?: boolean; csv?: boolean }, command: Command) => {
      if (opts.json && opts.csv) command.error('error: choose --json or --csv', { exitCode: EXIT.usage });
      return runWithApi(opts, async (api) => {
        const report = await api.get<DrawdownReport>('/drawdown/report', { customer: opts.customer, connection: opts.connection, asOf: opts.asOf });
        if (opts.json) return printJson(report);
        const headers = ['COMMITMENT', 'CUSTOMER', 'PROGRAM', 'PERIOD', 'CURRENCY', 'COMMITTED', 'CONSUMED', 'PERCENT', 'REMAINING', 'FORECAST', 'SHORTFALL', 'LEDGER LINES'];
        const rows = report.commitments.map(({ commitment: c, current: s, ledger }) => [
          c.externalId ?? c.id, c.accountId, c.program, `${s.period.start}..${s.period.end}`, c.currency,
          s.committed, s.consumed, s.percentConsumed, s.remaining, s.forecast, s.shortfall, String(ledger.length),
        ]);
        if (opts.csv) {
          print(toCsv([headers.map((h) => h.toLowerCase().replace(' ', '_')), ...rows]));
          return;
        }
        if (rows.length === 0) return print(`no commitments as of ${report.asOf}`);
        print(`as of ${report.asOf}`);
        print(formatTable(headers, rows.map((r) => r.map((v) => cell(v)))));
        for (const { commitment: c, alerts } of report.commitments) {
          for (const a of alerts.slice(-3)) print(`  ${c.externalId ?? c.id}: ${a.message}`);
        }
      });
    });
}

/** The file's commitment, or undefined after printing each problem as file:line:col. */
function readCommitment(file: string): Commitment | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    process.stderr.write(`ecosync: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
    return undefined;
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const r = new Reporter(file, lines);
  for (const e of doc.errors) r.error(e.pos[0], e.message.split('\n')[0]);
  if (doc.errors.length === 0) {
    const parsed = Commitment.safeParse(doc.toJS());
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) {
      const where = issue.path.length ? `\`${issue.path.join('.')}\`: ` : '';
      r.error(offsetAtPath(doc, issue.path as PropertyKey[], issue.code === 'unrecognized_keys'), `${where}${issue.message}`);
    }
  }
  for (const d of r.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
  return undefined;
}

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
function toCsv(rows: string[][]): string {
  return rows.map((r) => r.map((v) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v)).join(',')).join('\n');
}
