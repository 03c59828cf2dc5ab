import { hasErrorCode } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import {
  type ClusterInventory,
  createMemoryInventory,
  readOrganizationsInUse,
  readOrganizationsInUseBy,
} from './inventory.js';

describe('the memory inventory', () => {
  it('keeps records, notifies watchers of changes and can be told to fail', async () => {
    const inventory = createMemoryInventory([{ organization: 'acme', clusterId: 'c1', running: true }]);
    let changes = 0;
    const unwatch = inventory.watch?.(() => {
      changes += 1;
    });
    inventory.set({ organization: 'globex', clusterId: 'g1', running: false });
    expect(inventory.remove('acme', 'c1')).toBe(true);
    expect(inventory.remove('acme', 'c1')).toBe(false);
    expect(changes).toBe(2);
    unwatch?.();
    inventory.set({ organization: 'acme', clusterId: 'c2', running: true });
    expect(changes).toBe(2);
    expect(await inventory.listClusters()).toEqual([
      { organization: 'globex', clusterId: 'g1', running: false },
      { organization: 'acme', clusterId: 'c2', running: true },
    ]);
    inventory.failNext(2);
    await expect(inventory.listClusters()).rejects.toThrow(/simulated failure/);
    await expect(inventory.listClusters()).rejects.toThrow(/simulated failure/);
    expect(await inventory.listClusters()).toHaveLength(2);
  });

  it('rejects invalid records with INVALID_INPUT', () => {
    const inventory = createMemoryInventory();
    for (const bad of [
      { organization: 'Acme', clusterId: 'c1', running: true },
      { organization: 'acme', clusterId: 'c_1', running: true },
      { organization: 'acme', clusterId: 'c1', running: 'yes' },
      null,
    ]) {
      let error: unknown;
      try {
        inventory.set(bad as never);
      } catch (e) {
        error = e;
      }
      expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
    }
  });
});

describe('readOrganizationsInUse', () => {
  const answering = (answer: unknown): ClusterInventory => ({ listClusters: async () => answer as never });

  it('returns the organisations with at least one running cluster', async () => {
    const inUse = await readOrganizationsInUse(
      answering([
        { organization: 'acme', clusterId: 'c1', running: false },
        { organization: 'acme', clusterId: 'c2', running: true },
        { organization: 'globex', clusterId: 'g1', running: false },
      ]),
    );
    expect([...inUse]).toEqual(['acme']);
  });

  it('fails closed (UNAVAILABLE) on a failure, a non-list, duplicates or an invalid record', async () => {
    const cases: [string, ClusterInventory][] = [
      ['throws', { listClusters: async () => Promise.reject(new Error('boom')) }],
      ['not a list', answering({ items: [] })],
      ['undefined', answering(undefined)],
      [
        'duplicate',
        answering([
          { organization: 'a', clusterId: 'c', running: false },
          { organization: 'a', clusterId: 'c', running: false },
        ]),
      ],
      ['invalid organisation', answering([{ organization: 'A', clusterId: 'c', running: false }])],
      ['missing running', answering([{ organization: 'a', clusterId: 'c' }])],
    ];
    for (const [what, inventory] of cases) {
      const e = await readOrganizationsInUse(inventory).catch((x: unknown) => x);
      expect(hasErrorCode(e, 'UNAVAILABLE'), what).toBe(true);
      expect((e as Error).message, what).toMatch(/fail closed/);
    }
  });

  it('re-throws an abort untouched', async () => {
    const stop = new AbortController();
    const reason = new Error('stopped');
    stop.abort(reason);
    const inventory: ClusterInventory = {
      listClusters: async (o) => {
        o?.signal?.throwIfAborted();
        return [];
      },
    };
    await expect(readOrganizationsInUse(inventory, { signal: stop.signal })).rejects.toBe(reason);
  });
});

describe('the point query (listClustersOf)', () => {
  it('the memory inventory answers one organisation’s records, kept in step with set and remove, and fails on request', async () => {
    const inventory = createMemoryInventory([
      { organization: 'acme', clusterId: 'c1', running: true },
      { organization: 'acme', clusterId: 'c2', running: false },
      { organization: 'globex', clusterId: 'g1', running: true },
    ]);
    expect(await inventory.listClustersOf('acme')).toEqual([
      { organization: 'acme', clusterId: 'c1', running: true },
      { organization: 'acme', clusterId: 'c2', running: false },
    ]);
    inventory.set({ organization: 'acme', clusterId: 'c1', running: false });
    expect(inventory.remove('acme', 'c2')).toBe(true);
    expect(await inventory.listClustersOf('acme')).toEqual([
      { organization: 'acme', clusterId: 'c1', running: false },
    ]);
    expect(inventory.remove('acme', 'c1')).toBe(true);
    expect(await inventory.listClustersOf('acme')).toEqual([]);
    expect(await inventory.listClustersOf('nobody')).toEqual([]);
    // A caller mutating the answer does not change the inventory.
    const [g] = (await inventory.listClustersOf('globex')) as unknown as { running: boolean }[];
    if (g) g.running = false;
    expect(await inventory.listClustersOf('globex')).toEqual([
      { organization: 'globex', clusterId: 'g1', running: true },
    ]);
    inventory.failNext(1);
    await expect(inventory.listClustersOf('globex')).rejects.toThrow(/simulated failure/);
  });

  it('readOrganizationsInUseBy asks the point query when there is one, and the whole inventory otherwise', async () => {
    const asked: string[] = [];
    const withPoint: ClusterInventory = {
      listClusters: async () => {
        asked.push('all');
        return [];
      },
      listClustersOf: async (org) => {
        asked.push(org);
        return [
          { organization: org, clusterId: 'c1', running: true },
          { organization: org, clusterId: 'c2', running: false },
        ];
      },
    };
    expect(await readOrganizationsInUseBy(withPoint, 'acme')).toEqual(['c1']);
    expect(asked).toEqual(['acme']);
    const without: ClusterInventory = {
      listClusters: async () => [
        { organization: 'acme', clusterId: 'c1', running: true },
        { organization: 'globex', clusterId: 'g1', running: true },
      ],
    };
    expect(await readOrganizationsInUseBy(without, 'globex')).toEqual(['g1']);
  });

  it('fails closed (UNAVAILABLE) on a point answer of another organisation, duplicates, an invalid record or a failure', async () => {
    const cases: [string, NonNullable<ClusterInventory['listClustersOf']>][] = [
      ['throws', async () => Promise.reject(new Error('boom'))],
      ['another organisation', async () => [{ organization: 'globex', clusterId: 'g1', running: false }]],
      [
        'duplicate',
        async (org) => [
          { organization: org, clusterId: 'c', running: false },
          { organization: org, clusterId: 'c', running: false },
        ],
      ],
      ['not a list', async () => ({}) as never],
      ['missing running', async (org) => [{ organization: org, clusterId: 'c' } as never]],
    ];
    for (const [what, listClustersOf] of cases) {
      const inventory: ClusterInventory = { listClusters: async () => [], listClustersOf };
      const e = await readOrganizationsInUseBy(inventory, 'acme').catch((x: unknown) => x);
      expect(hasErrorCode(e, 'UNAVAILABLE'), what).toBe(true);
      expect((e as Error).message, what).toMatch(/fail closed/);
    }
  });
});
