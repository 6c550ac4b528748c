import type { Command } from 'commander';
import { readLocalToken } from '../api/auth.js';
import type { FieldError, Problem } from '../api/problem.js';
import { loadConfig, type Config } from '../runtime/config.js';
import { EXIT } from './exit.js';

/**
 * The CLI's side of the operator API. Commands never open the store themselves (the running hub
 * holds the embedded database): they call the hub's HTTP API, found from the configuration
 * (`http://<api.host>:<api.port>`) or --api, with a token from --token, ECOSYNC_API_TOKEN or the
 * local admin token the hub wrote to <dataDir>/api-token.
 */

export interface ApiFlags {
  api?: string;
  token?: string;
}

export const TOKEN_ENV = 'ECOSYNC_API_TOKEN';

/** The hub could not be reached at all. */
export class ApiUnreachable extends Error {
  constructor(readonly url: string, cause: Error) {
    super(`cannot reach the ecosync API (${codeOf(cause)}): is \`ecosync up\` running? API at ${url} (set --api <url> to use another)`);
    this.name = 'ApiUnreachable';
  }
}

/** The API answered with an error: `message` is the problem's detail, `errors` its field errors. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly errors: readonly FieldError[] = []) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Why fetch failed: the network error's code (ECONNREFUSED…) under fetch's own "fetch failed". */
function codeOf(error: Error): string {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return error.message;
}

/** The error an answer stands for: a problem's detail and field errors, or whatever a proxy put in the body. */
function errorOf(status: number, text: string): ApiError {
  let body: Partial<Problem> & { message?: unknown } = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    // Not JSON (a proxy's error page): the text is the message.
  }
  const detail = typeof body.detail === 'string' ? body.detail : typeof body.message === 'string' ? body.message : text.trim() || `HTTP ${status}`;
  const errors = Array.isArray(body.errors) ? body.errors.filter((e) => typeof e?.path === 'string' && typeof e?.message === 'string') : [];
  return new ApiError(status, status === 401 ? `${detail} (the CLI sends --token, ${TOKEN_ENV}, or the hub's <dataDir>/api-token)` : detail, errors);
}

/** Node's fetch gives up on an answer's headers after 5 minutes; the hub may still be at work. */
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Where the API listens, as a URL a client can dial (a wildcard bind address means this machine). */
export function apiUrlOf(config: Pick<Config, 'api'>): string {
  const host = ['0.0.0.0', '::', ''].includes(config.api.host) ? '127.0.0.1' : config.api.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.api.port}`;
}

export class ApiClient {
  constructor(readonly url: string, private readonly token: string | undefined) {}

  /** From the command's flags, the environment and the configuration (read only when needed). */
  static from(flags: ApiFlags, env: Record<string, string | undefined> = process.env): ApiClient {
    let config: Config | undefined;
    const configured = () => (config ??= loadConfig({ env }).config);
    const url = (flags.api ?? apiUrlOf(configured())).replace(/\/+$/, '');
    const token = flags.token || env[TOKEN_ENV] || readLocalToken(configured().dataDir);
    return new ApiClient(url, token);
  }

  get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return this.call<T>('GET', qs ? `${path}?${qs}` : path);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.call<T>('DELETE', path);
  }

  /** One request with fetch; an error answer becomes an ApiError, no answer an ApiUnreachable. */
  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      text = await response.text();
    } catch (error) {
      if (TIMEOUTS.has(codeOf(error as Error))) {
        throw new ApiError(0, `the hub took more than 5 minutes to answer ${method} ${path}; what it was asked may still be under way (look with \`ecosync sync status\`)`);
      }
      throw new ApiUnreachable(this.url, error as Error);
    }
    if (!response.ok) throw errorOf(response.status, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

/** Adds --api and --token to a command that calls the hub. */
export function withApiOptions(command: Command): Command {
  return command
    .option('--api <url>', 'the hub\'s API (default: http://<api.host>:<api.port> from the configuration)')
    .option('--token <token>', `API token (default: ${TOKEN_ENV}, else the hub's local token in <dataDir>/api-token)`);
}

/**
 * Runs a command body against the API: an unreachable hub or an API error becomes a line on
 * stderr (then one per field the API named) and exit code 1; the body returns its own exit code
 * otherwise.
 */
export async function runWithApi(flags: ApiFlags, body: (api: ApiClient) => Promise<number | void>): Promise<void> {
  try {
    process.exitCode = (await body(ApiClient.from(flags))) ?? EXIT.ok;
  } catch (error) {
    if (error instanceof ApiUnreachable || error instanceof ApiError) {
      const fields = error instanceof ApiError ? error.errors.map((e) => `  ${e.path}: ${e.message}\n`) : [];
      process.stderr.write(`ecosync: ${error.message}\n${fields.join('')}`);
      process.exitCode = EXIT.invalidInput;
      return;
    }
    throw error;
  }
}

export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

/** A plain text table: columns padded to their widest cell, the last column left ragged. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** Shortens free text (reasons, values) for a table cell. */
export function cell(value: unknown, max = 60): string {
  const text = value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
