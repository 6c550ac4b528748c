import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/program.js';
import { loadConfig } from '../src/runtime/config.js';
import { ROOT } from '../src/runtime/paths.js';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes.js';

interface Service {
  image?: string;
  build?: string;
  command?: string[] | string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  deploy?: { replicas?: number };
}

const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;

describe('docker-compose.yml (the production shape)', () => {
  it('runs PostgreSQL, Temporal, the Temporal UI, the worker and the API', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgresql', 'temporal', 'temporal-ui', 'worker', 'api']));
    expect(services.postgresql.image).toMatch(/^postgres:/);
    expect(services.temporal.image).toMatch(/^temporalio\//);
    expect(services['temporal-ui'].image).toMatch(/^temporalio\/ui:/);
    expect(services['temporal-ui'].ports).toContain('8233:8080');
  });

  it('runs two workers on the one task queue, each serving its metrics to the compose network', () => {
    expect(services.worker.deploy?.replicas).toBe(2);
    expect(services.worker.ports ?? []).toEqual([]);
    const { config } = loadConfig({ env: { ...services.worker.environment, ECOSYNC_SECRET_KEY: 'k' }, cwd: ROOT });
    expect(config.temporal.taskQueue).toBe('ecosync');
    expect(config.metrics).toEqual({ host: '0.0.0.0', port: 9464 });
  });

  it('depends only on services it defines', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const dependency of Object.keys(service.depends_on ?? {})) {
        expect(services, `${name} depends on ${dependency}`).toHaveProperty(dependency);
      }
    }
  });

  it('starts the worker and the API with commands the ecosync CLI has', () => {
    const commands = buildProgram().commands.map((c) => c.name());
    for (const name of ['worker', 'api']) {
      expect(services[name].build).toBe('.');
      const command = services[name].command as string[];
      expect(commands).toContain(command[0]);
    }
  });

  it('configures the worker and the API with valid settings pointing at the compose services', () => {
    for (const name of ['worker', 'api']) {
      const env = { ...services[name].environment, ECOSYNC_SECRET_KEY: 'k', ECOSYNC_API_TOKENS: 'ops:admin:t', ECOSYNC_PUBLIC_URL: 'http://localhost:8080' };
      const { config } = loadConfig({ env, cwd: ROOT });
      expect(config.database.url).toMatch(/@postgresql:5432\//);
      expect(config.temporal.address).toBe('temporal:7233');
    }
    expect(services.api.environment?.ECOSYNC_API_PORT).toBe('8080');
  });

  it('registers exactly the search attributes the workflows use', () => {
    const script = JSON.stringify(services['temporal-setup'].command);
    const registered = [...script.matchAll(/(Ecosync\w+)=(\w+)/g)].map((m) => m[1]).sort();
    expect(registered).toEqual(SEARCH_ATTRIBUTES.map((a) => a.name).sort());
  });
});
