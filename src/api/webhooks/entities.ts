import type { Connection } from '../../store/index.js';

/**
 * The canonical entities a webhook's objects stand for in one connection: an object of a system
 * kind maps to each entity that a system of that kind takes part in with that object
 * (companies → Account with the shipped CRM mappings). Objects the connection does not sync map
 * to nothing. Entities come back in the connection's (dependency) order, each once.
 */
export function entitiesOf(connection: Pick<Connection, 'systems' | 'entities'>, system: string, objects: Iterable<string>): string[] {
  const wanted = new Set(objects);
  const names = new Set(connection.systems.filter((s) => s.system === system).map((s) => s.name));
  return connection.entities
    .filter((e) => e.members.some((m) => names.has(m.system) && wanted.has(m.object)))
    .map((e) => e.entity);
}

/** Whether a connection has a system of this kind. */
export function involves(connection: Pick<Connection, 'systems'>, system: string): boolean {
  return connection.systems.some((s) => s.system === system);
}
