import type { z } from 'zod';
import type { Connection, Store } from '../../store/index.js';

/** An error with the HTTP status to answer; fastify's error handler sends { statusCode, error, message }. */
export class HttpError extends Error {
  constructor(readonly statusCode: number, message: string) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Parses request input with a zod schema; a mismatch is a 400 naming each bad field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'params'): z.infer<S> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const at = [where, ...issue.path.map(String)].join('.');
    return `${at}: ${issue.message}`;
  });
  throw new HttpError(400, problems.join('; '));
}

export async function connectionNamed(store: Store, name: string): Promise<Connection> {
  const connection = await store.connections.getByName(name);
  if (!connection) throw new HttpError(404, `no connection named "${name}"`);
  return connection;
}

/** The connection a `?connection=<name>` filter names, or undefined when absent. */
export async function connectionFilter(store: Store, name: string | undefined): Promise<Connection | undefined> {
  return name === undefined ? undefined : connectionNamed(store, name);
}
