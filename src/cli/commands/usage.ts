import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parse as parseCsv } from 'csv-parse/sync';
import { UsageRecord } from '../../model/index.js';
import { ApiError, cell, formatTable, print, printJson, runWithApi, withApiOptions, type ApiFlags } from '../client.js';
import { EXIT } from '../exit.js';
import type { MeteringDeadLetter } from '../../store/index.js';

/**
 * `ecosync usage send <connection> <file>`: usage records from a JSON Lines or CSV file, checked
 * line by line (every problem as file:line:col, nothing sent while any is left), then sent to the
 * hub's ingest API 1,000 a request. The hub keeps each sender's key once, so sending a file again
 * sends nothing twice.
 */

/** The API takes at most this many records a request. */
const REQUEST_SIZE = 1000;
const FIELDS = ['accountId', 'cloud', 'product', 'plan', 'dimension', 'quantity', 'hour', 'dedupeKey'] as const;

export interface UsageLine {
  record: UsageRecord;
  line: number;
  /** Where each field starts on its line (1-based), for problems the hub finds. */
  columns: Record<string, number>;
}

export interface UsageFile {
  lines: UsageLine[];
  /** `file:line:col: message`, one per problem. */
  problems: string[];
}

/** Reads usage records from JSON Lines (one object a line) or CSV (a header row naming the fields). */
export function readUsageFile(file: string, text: string): UsageFile {
  const name = path.relative(process.cwd(), file) || file;
  const problems: string[] = [];
  const lines: UsageLine[] = [];
  const check = (value: Record<string, unknown>, line: number, columns: Record<string, number>) => {
    const parsed = UsageRecord.safeParse(value);
    if (parsed.success) {
      lines.push({ record: parsed.data, line, columns });
      return;
    }
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0] ?? '');
      const unknown = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
      problems.push(`${name}:${line}:${columns[unknown ?? field] ?? 1}: ${field || unknown || 'record'}: ${issue.message}`);
    }
  };

  if (/\.csv$/i.test(file)) {
    let rows: Array<{ record: Record<string, string>; info: { lines: number }; raw: string }>;
    try {
      rows = parseCsv(text, { columns: true, info: true, raw: true, skip_empty_lines: true, trim: true, bom: true }) as typeof rows;
    } catch (error) {
      const e = error as Error & { lines?: number; column?: number };
      return { lines: [], problems: [`${name}:${e.lines ?? 1}:1: ${e.message}`] };
    }
    for (const row of rows) {
      const starts = columnStarts(row.raw);
      const header = Object.keys(row.record);
      const columns = Object.fromEntries(header.map((h, i) => [h, starts[i] ?? 1]));
      const value: Record<string, unknown> = {};
      for (const [key, cellValue] of Object.entries(row.record)) if (cellValue !== '') value[key] = cellValue;
      check(value, row.info.lines, columns);
    }
    return { lines, problems };
  }

  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      const at = /position (\d+)/.exec((error as Error).message);
      problems.push(`${name}:${i + 1}:${at ? Number(at[1]) + 1 : 1}: not JSON: ${(error as Error).message}`);
      return;
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      problems.push(`${name}:${i + 1}:1: a usage record is a JSON object`);
      return;
    }
    const record = { ...(value as Record<string, unknown>) };
    // A quantity written as a JSON number is taken as its decimal text.
    if (typeof record.quantity === 'number') record.quantity = String(record.quantity);
    const columns = Object.fromEntries(Object.keys(record).map((k) => [k, raw.indexOf(JSON.stringify(k)) + 1 || 1]));
    check(record, i + 1, columns);
  });
  return { lines, problems };
}

/** Where each field of a CSV line starts (1-based), quotes respected. */
function columnStarts(raw: string): number[] {
  const starts = [1];
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) starts.push(i + 2);
    else if (c === '\n' || c === '\r') break;
  }
  return starts;
}

export function registerUsageCommands(program: Command): void {
  const usage = program.command('usage').description('metered usage: report it to the hub, which meters it to AWS Marketplace and the Microsoft marketplace');

  withApiOptions(usage
    .command('send')
    .description(`send usage records from a .jsonl or .csv file (fields: ${FIELDS.join(', ')}; plan is optional), ${REQUEST_SIZE} a request`)
    .argument('<connection>', 'the connection the usage belongs to')
    .argument('<file>', 'usage records: JSON Lines, or CSV with a header row'))
    .action((connection: string, file: string, opts: ApiFlags) => runWithApi(opts, async (api) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        process.stderr.write(`ecosync: cannot read ${file}: ${(error as Error).message}\n`);
        return EXIT.invalidInput;
      }
      const read = readUsageFile(file, text);
      if (read.problems.length > 0) {
        process.stderr.write(`${read.problems.join('\n')}\necosync: ${read.problems.length} problem(s) in ${file}: nothing sent\n`);
        return EXIT.invalidInput;
      }
      let accepted = 0;
      let duplicates = 0;
      for (let i = 0; i < read.lines.length; i += REQUEST_SIZE) {
        const batch = read.lines.slice(i, i + REQUEST_SIZE);
        try {
          const answer = await api.post<{ accepted: number; duplicates: string[] }>(`/connections/${encodeURIComponent(connection)}/usage`, { records: batch.map((l) => l.record) });
          accepted += answer.accepted;
          duplicates += answer.duplicates.length;
        } catch (error) {
          if (!(error instanceof ApiError) || error.errors.length === 0) throw error;
          // The hub names records by their place in the request: back to the file's lines.
          for (const e of error.errors) {
            const match = /^body\.records\.(\d+)(?:\.(\w+))?/.exec(e.path);
            const line = match ? batch[Number(match[1])] : undefined;
            process.stderr.write(line ? `${file}:${line.line}:${line.columns[match![2] ?? ''] ?? 1}: ${match![2] ?? 'record'}: ${e.message}\n` : `ecosync: ${e.path}: ${e.message}\n`);
          }
          process.stderr.write(`ecosync: the hub refused records ${i + 1}–${i + batch.length} of ${file}; the ${accepted} before them were kept\n`);
          return EXIT.invalidInput;
        }
      }
      print(`${accepted} usage record(s) kept, ${duplicates} already there (counted once), from ${read.lines.length} in ${file}`);
    }));

  withApiOptions(usage
    .command('deadletters')
    .description('usage that will not reach the cloud as it stands (late, no agreement, refused), with the reason')
    .option('--connection <name>', 'only this connection\'s')
    .option('--cloud <cloud>', 'aws or azure')
    .option('--json', 'print them as JSON'))
    .action((opts: ApiFlags & { connection?: string; cloud?: string; json?: boolean }) => runWithApi(opts, async (api) => {
      const { deadLetters } = await api.get<{ deadLetters: MeteringDeadLetter[] }>('/usage/deadletters', { connection: opts.connection, cloud: opts.cloud, status: 'open' });
      if (opts.json) return printJson(deadLetters);
      if (deadLetters.length === 0) return print('no open metering dead letters');
      print(formatTable(
        ['ID', 'CLOUD', 'ACCOUNT', 'PRODUCT', 'DIMENSION', 'HOUR', 'QUANTITY', 'REASON'],
        deadLetters.map((l) => [l.id, l.cloud, l.accountId, l.product, l.dimension, l.hour, l.quantity, cell(`${l.errorCode}: ${l.reason}`, 80)]),
      ));
    }));

  withApiOptions(usage
    .command('replay')
    .description('send the usage of open metering dead letters again after a fix (all of the cloud\'s, or --id ones); exit 1 if some cannot be')
    .argument('<connection>', 'the connection')
    .requiredOption('--cloud <cloud>', 'aws or azure')
    .option('--id <id>', 'a dead letter to replay (repeat for more)', (id: string, ids: string[] = []) => [...ids, id]))
    .action((connection: string, opts: ApiFlags & { cloud: string; id?: string[] }) => runWithApi(opts, async (api) => {
      const result = await api.post<{ replayed: number; stillFailing: number }>(`/connections/${encodeURIComponent(connection)}/usage/replay`, { cloud: opts.cloud, ...(opts.id ? { ids: opts.id } : {}) });
      print(`replayed ${result.replayed} (the metering workflow sends them now, or letters them again with the reason), ${result.stillFailing} cannot be sent: their hour was already metered`);
      return result.stillFailing > 0 ? EXIT.invalidInput : EXIT.ok;
    }));
}
