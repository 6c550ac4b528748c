import { expect } from 'vitest';
import type { Problem } from '../../src/api/problem.js';

/** An answer of the API, from inject or fetch. */
interface Answer {
  statusCode?: number;
  status?: number;
  headers: Record<string, unknown> | Headers;
  /** inject's text; a fetch Response's stream is not read here: pass its parsed body instead. */
  body?: unknown;
}

/**
 * An error answer as a person reads it: checks it is a problem (application/problem+json, its
 * status the HTTP status), and returns its detail with each field error on a line as `path: message`.
 */
export function problemText(answer: Answer, body?: unknown): string {
  const contentType = answer.headers instanceof Headers ? answer.headers.get('content-type') : answer.headers['content-type'];
  expect(contentType).toMatch(/^application\/problem\+json/);
  const problem = (body ?? JSON.parse(String(answer.body))) as Problem;
  expect(problem).toMatchObject({ type: 'about:blank', title: expect.any(String), status: answer.statusCode ?? answer.status, detail: expect.any(String) });
  return [problem.detail, ...(problem.errors ?? []).map((e) => `${e.path}: ${e.message}`)].join('\n');
}
