import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The key that encrypts connection credentials at rest. Production passes ECOSYNC_SECRET_KEY;
 * the embedded stack generates one on first start and keeps it in the data folder (mode 0600),
 * so a new user needs no setup and credentials stay readable across restarts.
 */
export function ensureSecretKey(dataDir: string, env: Record<string, string | undefined> = process.env): { key: string; source: 'env' | 'file' | 'generated' } {
  if (env.ECOSYNC_SECRET_KEY) return { key: env.ECOSYNC_SECRET_KEY, source: 'env' };
  const file = path.join(dataDir, 'secret.key');
  if (existsSync(file)) return { key: readFileSync(file, 'utf8').trim(), source: 'file' };
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { key, source: 'generated' };
}
