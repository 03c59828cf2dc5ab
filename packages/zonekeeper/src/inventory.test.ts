import { hasErrorCode } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { type ClusterInventory, createMemoryInventory, readOrganizationsInUse } from './inventory.js';

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
