/**
 * The cluster inventory port: the host platform tells zonekeeper which clusters each organisation has
 * and whether they run. The garbage collector trusts nothing else to decide that a zone is unused, and
 * fails closed when the inventory cannot be read or contradicts itself.
 *
 * @packageDocumentation
 */

import {
  type CallOptions,
  invalidInput,
  throwIfAborted,
  validateClusterId,
  validateOrganizationName,
  ZonekeeperError,
} from '@zonekeeper/core';

/** One cluster as the host platform knows it. @public */
export interface ClusterRecord {
  readonly organization: string;
  readonly clusterId: string;
  /**
   * Whether the cluster exists and may be running workloads. Report `true` for anything not proven gone
   * (creating, updating, failed but still present): a zone is deleted only when every cluster of its
   * organisation is `false` or absent.
   */
  readonly running: boolean;
}

/**
 * The cluster inventory port.
 *
 * The host platform's contract: register a cluster (with `running: true`) **before** calling
 * `attachCluster` for it, and report it until it is proven gone. The collector re-reads the inventory
 * right before every destructive call of a zone deletion, so a cluster registered first keeps its zone
 * even while a collection is deleting it.
 * @public
 */
export interface ClusterInventory {
  /** Every cluster of every organisation. Throw (any error) when the answer is not known. */
  listClusters(options?: CallOptions): Promise<readonly ClusterRecord[]>;
  /**
   * Optional point query: the clusters of one organisation, as fresh as {@link listClusters} (the same
   * source, read now). Throw (any error) when the answer is not known. The collector re-checks the one
   * organisation it is about to delete right before every destructive call: with this method each
   * re-check costs one organisation's records, without it the whole inventory (a sweep deleting D of N
   * organisations then reads D × N records). Every record answered must be of `organization`.
   */
  listClustersOf?(organization: string, options?: CallOptions): Promise<readonly ClusterRecord[]>;
  /**
   * Optional: subscribes to changes (a cluster added, removed or stopped), so the collector can look
   * again early. Returns the unsubscribe function.
   */
  watch?(listener: () => void): () => void;
}

/** A memory inventory plus its mutators, for tests, demos and scripts. @public */
export interface MemoryInventory extends ClusterInventory {
  /** The point query, from an index by organisation (never a scan of every record). */
  listClustersOf(organization: string, options?: CallOptions): Promise<readonly ClusterRecord[]>;
  /** Adds or updates a cluster. */
  set(record: ClusterRecord): void;
  /** Removes a cluster; returns whether it existed. */
  remove(organization: string, clusterId: string): boolean;
  /** Makes the next `count` calls to `listClusters` or `listClustersOf` fail (to test fail-closed behaviour). */
  failNext(count: number): void;
  /** The current records. */
  records(): readonly ClusterRecord[];
}

/**
 * Creates an in-memory inventory.
 * @public
 */
export function createMemoryInventory(initial: readonly ClusterRecord[] = []): MemoryInventory {
  const records = new Map<string, ClusterRecord>();
  /** organisation → cluster id → record, for the point query. */
  const byOrganization = new Map<string, Map<string, ClusterRecord>>();
  const listeners = new Set<() => void>();
  let failures = 0;
  const notify = () => {
    for (const l of [...listeners]) l();
  };
  const enter = (options: CallOptions) => {
    throwIfAborted(options.signal);
    if (failures > 0) {
      failures -= 1;
      throw new ZonekeeperError('UNAVAILABLE', 'memory inventory: simulated failure.');
    }
  };
  const inventory: MemoryInventory = {
    async listClusters(options = {}) {
      enter(options);
      return [...records.values()].map((r) => ({ ...r }));
    },
    async listClustersOf(organization, options = {}) {
      enter(options);
      return [...(byOrganization.get(organization)?.values() ?? [])].map((r) => ({ ...r }));
    },
    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(record) {
      const r = checkRecord(record);
      records.set(`${r.organization}/${r.clusterId}`, r);
      const of = byOrganization.get(r.organization) ?? new Map<string, ClusterRecord>();
      of.set(r.clusterId, r);
      byOrganization.set(r.organization, of);
      notify();
    },
    remove(organization, clusterId) {
      const removed = records.delete(`${organization}/${clusterId}`);
      const of = byOrganization.get(organization);
      of?.delete(clusterId);
      if (of?.size === 0) byOrganization.delete(organization);
      if (removed) notify();
      return removed;
    },
    failNext(count) {
      failures += count;
    },
    records: () => [...records.values()],
  };
  for (const r of initial) inventory.set(r);
  return inventory;
}

function checkRecord(record: ClusterRecord): ClusterRecord {
  if (typeof record !== 'object' || record === null) throw invalidInput('Cluster record must be an object.');
  if (typeof record.running !== 'boolean')
    throw invalidInput(`Cluster record ${String(record.clusterId)}: running must be a boolean.`);
  return {
    organization: validateOrganizationName(record.organization),
    clusterId: validateClusterId(record.clusterId),
    running: record.running,
  };
}

/**
 * Reads the inventory and checks it is consistent: every record valid, no cluster listed twice. Any
 * failure is an `UNAVAILABLE` error (the collector then deletes nothing).
 * @returns the organisations that have at least one running cluster.
 * @public
 */
export async function readOrganizationsInUse(
  inventory: ClusterInventory,
  options: CallOptions = {},
): Promise<ReadonlySet<string>> {
  return new Set(
    (await readRunningClusters(() => inventory.listClusters(options), options)).map((r) => r.organization),
  );
}

/**
 * The running clusters of one organisation (ids), read and checked like {@link readOrganizationsInUse}:
 * through the inventory's point query when it has one (every record must then be valid, of
 * `organization` and listed once), else from the whole inventory.
 * @internal
 */
export async function readOrganizationsInUseBy(
  inventory: ClusterInventory,
  organization: string,
  options: CallOptions = {},
): Promise<string[]> {
  const pointQuery = inventory.listClustersOf;
  const running =
    typeof pointQuery === 'function'
      ? await readRunningClusters(
          () => pointQuery.call(inventory, organization, options),
          options,
          organization,
        )
      : await readRunningClusters(() => inventory.listClusters(options), options);
  return running.filter((r) => r.organization === organization).map((r) => r.clusterId);
}

/** Reads (`read`) and checks an answer of the inventory; `organization`: the point query's. */
async function readRunningClusters(
  read: () => Promise<readonly ClusterRecord[]>,
  options: CallOptions,
  organization?: string,
): Promise<ClusterRecord[]> {
  let records: readonly ClusterRecord[];
  try {
    records = await read();
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw new ZonekeeperError(
      'UNAVAILABLE',
      'Cluster inventory could not be read; nothing is deleted (fail closed).',
      { cause: error },
    );
  }
  if (!Array.isArray(records))
    throw new ZonekeeperError(
      'UNAVAILABLE',
      'Cluster inventory answered something that is not a list; nothing is deleted (fail closed).',
    );
  const seen = new Set<string>();
  const running: ClusterRecord[] = [];
  for (const record of records) {
    let r: ClusterRecord;
    try {
      r = checkRecord(record);
    } catch (error) {
      throw new ZonekeeperError(
        'UNAVAILABLE',
        'Cluster inventory answered an invalid record; nothing is deleted (fail closed).',
        { cause: error },
      );
    }
    if (organization !== undefined && r.organization !== organization)
      throw new ZonekeeperError(
        'UNAVAILABLE',
        `Cluster inventory answered a cluster of ${r.organization} when asked for ${organization}; nothing is deleted (fail closed).`,
      );
    const key = `${r.organization}/${r.clusterId}`;
    if (seen.has(key))
      throw new ZonekeeperError(
        'UNAVAILABLE',
        `Cluster inventory lists ${key} twice; nothing is deleted (fail closed).`,
      );
    seen.add(key);
    if (r.running) running.push(r);
  }
  return running;
}
