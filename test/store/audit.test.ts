import { expect, it } from 'vitest';
import { withStores } from './stores.js';

withStores(({ store }) => {
  it('records entries and lists them newest first, by actor (or on their behalf), action, subject, connection and time', async () => {
    const tag = `c-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const before = new Date(Date.now() - 1000).toISOString();
    const a = await store().audit.record({ actor: 'rita', role: 'revops', action: 'conflict.resolve', subject: 'conflict-1', connection: tag, detail: { use: 'hubspot' } });
    const b = await store().audit.record({ actor: 'root', role: 'admin', onBehalf: 'dana@example.com', action: 'cosell.approve', subject: 'cosell:aws:1', connection: tag });
    const c = await store().audit.record({ actor: 'root', role: 'admin', action: 'connection.delete', subject: tag, connection: tag });
    expect(a).toMatchObject({ actor: 'rita', role: 'revops', onBehalf: null, action: 'conflict.resolve', detail: { use: 'hubspot' } });
    expect(b.seq).toBeGreaterThan(a.seq);
    expect(Date.parse(c.at)).toBeGreaterThanOrEqual(Date.parse(before));

    const seqs = async (filter: Parameters<ReturnType<typeof store>['audit']['list']>[0]) => (await store().audit.list({ connection: tag, ...filter })).map((e) => e.seq);
    expect(await seqs({})).toEqual([c.seq, b.seq, a.seq]);
    expect(await seqs({ actor: 'dana@example.com' })).toEqual([b.seq]);
    expect(await seqs({ actor: 'root' })).toEqual([c.seq, b.seq]);
    expect(await seqs({ action: 'conflict.resolve' })).toEqual([a.seq]);
    expect(await seqs({ subject: 'cosell:aws:1' })).toEqual([b.seq]);
    expect(await seqs({ since: before, limit: 2 })).toEqual([c.seq, b.seq]);
    expect(await seqs({ before: c.seq })).toEqual([b.seq, a.seq]);
    expect(await seqs({ until: before })).toEqual([]);
  });

  it('stores SQL metacharacters and control characters verbatim, and filters on them as data', async () => {
    const hostile = `x'); DROP TABLE audit_log; --\u0007\u001b[31m\n\t"\\%_`;
    const entry = await store().audit.record({ actor: hostile, role: 'admin', action: 'connection.create', subject: hostile, connection: hostile, detail: { note: hostile } });
    expect(entry).toMatchObject({ actor: hostile, subject: hostile });
    expect((await store().audit.list({ actor: hostile })).map((e) => e.seq)).toEqual([entry.seq]);
    expect(await store().audit.list({ subject: '%' })).toEqual([]);
    expect((await store().audit.list({ limit: 1000 })).length).toBeGreaterThan(0);
    // PostgreSQL keeps no NUL in text or jsonb: the store refuses it (the API answers 400 before it gets here).
    await expect(store().audit.record({ actor: 'a\u0000b', role: 'admin', action: 'connection.create', subject: 's' })).rejects.toThrow();
    await expect(store().audit.record({ actor: 'a', role: 'admin', action: 'connection.create', subject: 's', detail: { x: '\u0000' } })).rejects.toThrow();
  });
});
