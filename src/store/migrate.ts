import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assertSchemaName, type Db } from './db.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const FILE_NAME = /^(\d+)_([\w-]+)\.sql$/;

/** The numbered SQL files in migrations/, in order. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .map((file) => ({ file, match: FILE_NAME.exec(file) }))
    .filter((f): f is { file: string; match: RegExpExecArray } => f.match !== null)
    .map(({ file, match }) => ({ version: Number(match[1]), name: match[2], sql: readFileSync(`${dir}/${file}`, 'utf8') }))
    .sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i].version === migrations[i - 1].version) throw new Error(`two migrations numbered ${migrations[i].version}`);
  }
  return migrations;
}

/**
 * Applies the pending migrations in one transaction and records them in schema_migrations;
 * a second run applies nothing. The advisory lock makes workers that start together queue
 * here instead of racing to create the same tables (PGlite has it too, so the code is shared).
 */
export async function migrate(db: Db, options: { schema?: string; migrations?: Migration[] } = {}): Promise<Migration[]> {
  const migrations = options.migrations ?? loadMigrations();
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`ecosync.migrate.${options.schema ?? ''}`]);
    if (options.schema !== undefined) {
      assertSchemaName(options.schema);
      await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
    }
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const applied = new Set((await tx.query<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version));
    const pending = migrations.filter((m) => !applied.has(m.version));
    for (const m of pending) {
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
    return pending;
  });
}
