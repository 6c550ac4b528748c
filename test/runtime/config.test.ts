import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/runtime/config.js';
import { dirWith, emptyDir, problemsOf } from './config-files.js';

describe('configuration', () => {
  it('uses embedded defaults when there is no file and no environment', () => {
    const cwd = emptyDir();
    const { config, file } = loadConfig({ env: {}, cwd });
    expect(file).toBeUndefined();
    expect(config.dataDir).toBe(path.join(cwd, '.ecosync'));
    expect(config.database.url).toBeUndefined();
    expect(config.temporal).toEqual({ namespace: 'default', taskQueue: 'ecosync', port: 7233, uiPort: 8233 });
  });

  it('reads ecosync.yaml and lets the environment override it', () => {
    const { cwd } = dirWith('temporal:\n  taskQueue: from-file\napi:\n  port: 9000\n');
    const { config } = loadConfig({ env: { ECOSYNC_API_PORT: '9100', DATABASE_URL: 'postgres://u@h/db' }, cwd });
    expect(config.temporal.taskQueue).toBe('from-file');
    expect(config.api.port).toBe(9100);
    expect(config.database.url).toBe('postgres://u@h/db');
  });

  it('names file, line and column of an invalid value, and every problem at once', () => {
    const { cwd, file } = dirWith('api:\n  port: "eighty"\ntemporal:\n  address: no-port\n  bogus: 1\n');
    const problems = problemsOf(() => loadConfig({ env: {}, cwd }));
    expect(problems).toContain(`${file}:2:9: api.port: Invalid input: expected number, received string`);
    expect(problems).toContain(`${file}:4:12: temporal.address: host:port`);
    expect(problems).toContain(`${file}:5:3: temporal.bogus: unknown key (known: address, namespace, taskQueue, port, uiPort, cli, apiKey, tls)`);
    expect(problems).toHaveLength(3);
  });

  it('blames the environment variable when the bad value came from it', () => {
    const cwd = emptyDir();
    const problems = problemsOf(() => loadConfig({ env: { DATABASE_URL: 'mysql://x' }, cwd }));
    expect(problems).toEqual(['environment DATABASE_URL: database.url: a postgres:// URL']);
  });

  it('reports YAML syntax errors with their position', () => {
    const { cwd } = dirWith('api:\n  port: [1,\n');
    const problems = problemsOf(() => loadConfig({ env: {}, cwd }));
    expect(problems[0]).toMatch(new RegExp(`^${path.join(cwd, 'ecosync.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: `));
  });
});
