import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AUDIT_ACTIONS, type AuditInput, type Store } from '../../store/index.js';
import { callerOf, type Role } from '../auth.js';
import { problems } from '../problem.js';
import { named } from '../schemas.js';
import type { OperatorDeps } from './index.js';

/** Admins and viewers (auditors) read the audit log. */
export const AUDIT_READERS: readonly Role[] = ['admin', 'viewer'];

const AuditEntryView = named('AuditEntry', z.object({
  seq: z.number().int().describe('Its place in the log: larger is later'),
  at: z.string().describe('When, ISO 8601'),
  actor: z.string().describe('The API token\'s name'),
  role: z.string().describe('The token\'s role'),
  onBehalf: z.string().nullable().describe('The person an admin acted for, when not the actor'),
  action: z.enum(AUDIT_ACTIONS),
  subject: z.string().describe('A connection\'s name, a conflict\'s or dead letter\'s id, or a co-sell\'s or offer\'s workflow id'),
  connection: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).describe('What was decided: the comment, the winning side, a replay\'s counts'),
}));

const Instant = z.iso.datetime({ offset: true, error: 'an ISO 8601 date and time, e.g. 2026-01-31T00:00:00Z' });

const ListQuery = z.object({
  actor: z.string().min(1).max(200).optional().describe('Done by this token name, or by an admin on their behalf'),
  action: z.enum(AUDIT_ACTIONS).optional(),
  subject: z.string().min(1).max(500).optional(),
  connection: z.string().min(1).max(200).optional(),
  since: Instant.optional().describe('At or after this instant'),
  until: Instant.optional().describe('Before this instant'),
  before: z.coerce.number().int().min(1).optional().describe('Older than this seq: the next page'),
  limit: z.coerce.number().int().min(1).max(1000).optional().describe('At most this many, newest first (1–1000; 100 by default)'),
}).strict();

/**
 * Writes the audit entry of an action that succeeded, as the caller. The action is done by
 * then, so a failure to write is logged as an error (with what was done) rather than turned into
 * a failed answer that would make the caller do it again.
 */
export async function audited(store: Store, request: FastifyRequest, entry: Omit<AuditInput, 'actor' | 'role' | 'onBehalf'> & { person?: string }): Promise<void> {
  const caller = callerOf(request);
  const { person, ...rest } = entry;
  try {
    await store.audit.record({ ...rest, actor: caller.name, role: caller.role, ...(person && person !== caller.name ? { onBehalf: person } : {}) });
  } catch (error) {
    request.log.error({ action: entry.action, subject: entry.subject, by: caller.name, error: (error as Error).message }, 'the audit log could not record an action');
  }
}

/** GET /audit. */
export function auditRoutes(app: FastifyInstance, deps: OperatorDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get('/audit', {
    config: { roles: AUDIT_READERS },
    schema: {
      tags: ['audit'],
      summary: 'Who approved, rejected, resolved, replayed, created or deleted what, newest first',
      querystring: ListQuery,
      response: { 200: z.object({ entries: z.array(AuditEntryView) }).describe('The entries, newest first'), ...problems(400) },
    },
  }, async (request) => ({ entries: await deps.store.audit.list(request.query) }));
}
