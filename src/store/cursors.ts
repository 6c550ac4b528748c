import type { Db } from './db.js';
import { iso, json } from './rows.js';

/** Where an incremental read resumes: strictly after (modifiedAt, id). Same shape as the connector protocol's. */
export interface Cursor {
  modifiedAt: string;
  id: string;
}

export interface CursorEntry {
  system: string;
  object: string;
  cursor: Cursor;
  updatedAt: string;
}

export function cursorsRepo(db: Db) {
  async function get(connectionId: string, system: string, object: string): Promise<Cursor | null> {
    const [row] = await db.query<{ cursor: Cursor }>(
      'SELECT cursor FROM cursors WHERE connection_id = $1 AND system = $2 AND object = $3',
      [connectionId, system, object],
    );
    return row?.cursor ?? null;
  }

  async function set(connectionId: string, system: string, object: string, cursor: Cursor): Promise<void> {
    await db.query(
      `INSERT INTO cursors (connection_id, system, object, cursor) VALUES ($1, $2, $3, $4::jsonb)
       ON CONFLICT (connection_id, system, object) DO UPDATE SET cursor = excluded.cursor, updated_at = now()`,
      [connectionId, system, object, json({ modifiedAt: cursor.modifiedAt, id: cursor.id })],
    );
  }

  async function list(connectionId: string): Promise<CursorEntry[]> {
    const rows = await db.query<{ system: string; object: string; cursor: Cursor; updated_at: Date }>(
      'SELECT system, object, cursor, updated_at FROM cursors WHERE connection_id = $1 ORDER BY system, object',
      [connectionId],
    );
    return rows.map((r) => ({ system: r.system, object: r.object, cursor: r.cursor, updatedAt: iso(r.updated_at) }));
  }

  /** Forgets cursors so the next run reads everything; narrowed by system and object when given. */
  async function reset(connectionId: string, system?: string, object?: string): Promise<number> {
    const rows = await db.query(
      `DELETE FROM cursors WHERE connection_id = $1 AND ($2::text IS NULL OR system = $2) AND ($3::text IS NULL OR object = $3)
       RETURNING object`,
      [connectionId, system ?? null, object ?? null],
    );
    return rows.length;
  }

  return { get, set, list, reset };
}

export type CursorsRepo = ReturnType<typeof cursorsRepo>;
