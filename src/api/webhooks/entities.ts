import type { Connection } from '../../store/index.js';

/**
 * The canonical entities a webhook's objects stand for in one connection: an object of `system`
 * maps to the entity of the connection's object pair that has it on that system's side
 * (companies → Account with the shipped CRM mappings). Objects the connection does not sync map
 * to nothing. Entities come back in the connection's (dependency) order, each once.
 */
export function entitiesOf(connection: Pick<Connection, 'sourceSystem' | 'targetSystem' | 'objects'>, system: string, objects: Iterable<string>): string[] {
  const wanted = new Set(objects);
  const entities: string[] = [];
  for (const pair of connection.objects) {
    const hit = (connection.sourceSystem === system && wanted.has(pair.sourceObject))
      || (connection.targetSystem === system && wanted.has(pair.targetObject));
    if (hit && !entities.includes(pair.entity)) entities.push(pair.entity);
  }
  return entities;
}

/** Whether a connection has `system` on either side. */
export function involves(connection: Pick<Connection, 'sourceSystem' | 'targetSystem'>, system: string): boolean {
  return connection.sourceSystem === system || connection.targetSystem === system;
}
