import type { Db } from './db.js';
import { iso, json } from './rows.js';

import type { Cursor } from '../sync/protocol.js';

export type { Cursor };

export interface CursorEntry {
  /** The system instance the cursor reads (or the system's name until it is known). */
  instance: string;
  object: string;
  cursor: Cursor;
  updatedAt: string;
}

export function cursorsRepo(db: Db) {
  async function get(connectionId: string, instance: string, object: string): Promise<Cursor | null> {
    const [row] = await db.query<{ cursor: Cursor }>(
      'SELECT cursor FROM cursors WHERE connection_id = $1 AND instance = $2 AND object = $3',
      [connectionId, instance, object],
    );
    return row?.cursor ?? null;
  }

  async function set(connectionId: string, instance: string, object: string, cursor: Cursor): Promise<void> {
    const stored = cursor.resume === undefined ? { modifiedAt: cursor.modifiedAt, id: cursor.id } : { modifiedAt: cursor.modifiedAt, id: cursor.id, resume: cursor.resume };
    await db.query(
      `INSERT INTO cursors (connection_id, instance, object, cursor) VALUES ($1, $2, $3, $4::jsonb)
       ON CONFLICT (connection_id, instance, object) DO UPDATE SET cursor = excluded.cursor, updated_at = now()`,
      [connectionId, instance, object, json(stored)],
    );
  }

  async function list(connectionId: string): Promise<CursorEntry[]> {
    const rows = await db.query<{ instance: string; object: string; cursor: Cursor; updated_at: Date }>(
      'SELECT instance, object, cursor, updated_at FROM cursors WHERE connection_id = $1 ORDER BY instance, object',
      [connectionId],
    );
    return rows.map((r) => ({ instance: r.instance, object: r.object, cursor: r.cursor, updatedAt: iso(r.updated_at) }));
  }

  /** Forgets cursors so the next run reads everything; narrowed by instance and object when given. */
  async function reset(connectionId: string, instance?: string, object?: string): Promise<number> {
    const rows = await db.query(
      `DELETE FROM cursors WHERE connection_id = $1 AND ($2::text IS NULL OR instance = $2) AND ($3::text IS NULL OR object = $3)
       RETURNING object`,
      [connectionId, instance ?? null, object ?? null],
    );
    return rows.length;
  }

  return { get, set, list, reset };
}

export type CursorsRepo = ReturnType<typeof cursorsRepo>;
