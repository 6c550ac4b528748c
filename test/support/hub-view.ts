/**
 * A connection's synced state as tests read it: links by the system's name in the connection
 * (the store keeps them by instance), and records, all scoped to the connection.
 */
import { instanceOf, type Link, type Store } from '../../src/store/index.js';

export interface NamedLink extends Link {
  /** The system's name in the connection. */
  system: string;
}

export function hubView(store: Store, connectionId: string) {
  async function systems() {
    const connection = await store.connections.get(connectionId);
    if (!connection) throw new Error(`no connection ${connectionId}`);
    return connection.systems;
  }
  const named = async (links: Link[]): Promise<NamedLink[]> => {
    const all = await systems();
    return links.map((l) => ({ ...l, system: all.find((s) => instanceOf(s) === l.instance)?.name ?? l.instance }));
  };
  const instance = async (system: string) => {
    const found = (await systems()).find((s) => s.name === system);
    if (!found) throw new Error(`the connection has no system ${system}`);
    return instanceOf(found);
  };
  return {
    /** The link of a system's record, if it has one. */
    async link(system: string, object: string, externalId: string): Promise<NamedLink | undefined> {
      const [found] = await store.links.findByExternalIds(connectionId, await instance(system), object, [externalId]);
      return found ? (await named([found]))[0] : undefined;
    },
    /** Every link of a canonical record (or only its link in one system). */
    async links(entity: string, canonicalId: string, system?: string): Promise<NamedLink[]> {
      const links = await named(await store.links.findByCanonicalIds(connectionId, entity, [canonicalId]));
      return system ? links.filter((l) => l.system === system) : links;
    },
    records(entity: string, canonicalIds: string[]) {
      return store.records.getMany(connectionId, entity, canonicalIds);
    },
    instance,
  };
}
