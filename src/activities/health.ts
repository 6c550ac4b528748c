/**
 * Activities behind the health check workflow: `ecosync doctor` runs it to prove the whole loop
 * (client → Temporal → worker → store) works, not just that each part answers alone.
 */
export interface HealthDeps {
  /** Runs a trivial query against the store and returns the database kind. */
  pingStore(): Promise<string>;
}

export interface HealthActivities {
  checkStore(): Promise<{ database: string; checkedAt: string }>;
}

export function createHealthActivities(deps: HealthDeps): HealthActivities {
  return {
    async checkStore() {
      const database = await deps.pingStore();
      return { database, checkedAt: new Date().toISOString() };
    },
  };
}
