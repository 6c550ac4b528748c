import { z } from 'zod';
import type { Connection, Store } from '../../store/index.js';
import { HttpError } from '../problem.js';

/** `:name` of a connection's routes. */
export const NameParams = z.object({ name: z.string().min(1).describe('The connection\'s name') });

/** The body of a POST that takes nothing (`{}`, or none at all). */
export const NoBody = z.object({}).strict().describe('Nothing: an empty object, or no body');

/** `?limit=` of the lists. */
export const Limit = z.coerce.number().int().min(1).max(1000).optional().describe('At most this many, newest first (1–1000)');

export async function connectionNamed(store: Store, name: string): Promise<Connection> {
  const connection = await store.connections.getByName(name);
  if (!connection) throw new HttpError(404, `no connection named "${name}"`);
  return connection;
}

/** The connection a `?connection=<name>` filter names, or undefined when absent. */
export async function connectionFilter(store: Store, name: string | undefined): Promise<Connection | undefined> {
  return name === undefined ? undefined : connectionNamed(store, name);
}
