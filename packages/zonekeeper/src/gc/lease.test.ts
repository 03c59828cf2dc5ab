import { createManualClock, hasErrorCode } from '@zonekeeper/core';
import { createMemoryCluster, type MemoryCluster } from '@zonekeeper/externaldns-deployer';
import { describe, expect, it } from 'vitest';
import { T0 } from '../memory.test.support.js';
import { createLeaseLock } from './lease.js';

async function setup() {
  const clock = createManualClock(T0);
  const cluster = createMemoryCluster({ name: 'mgmt', clock });
  await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'zk' } });
  const lock = (identity: string, durationMs = 15_000) =>
    createLeaseLock({ cluster, namespace: 'zk', identity, durationMs }, { clock });
  return { clock, cluster, lock };
}

const spec = (c: MemoryCluster) =>
  c.objects('Lease')[0]?.spec as {
    holderIdentity: string | null;
    leaseDurationSeconds: number;
    renewTime: string | null;
    acquireTime: string | null;
    leaseTransitions: number;
  };

describe('createLeaseLock', () => {
  it('takes a free lease and writes a coordination.k8s.io/v1 Lease with MicroTime stamps', async () => {
    const { cluster, lock } = await setup();
    const a = lock('a');
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(a.held).toBe(true);
    const lease = cluster.objects('Lease')[0];
    expect(lease?.apiVersion).toBe('coordination.k8s.io/v1');
    expect(lease?.metadata).toMatchObject({
      name: 'zonekeeper-gc',
      namespace: 'zk',
      labels: { 'zonekeeper.io/managed-by': 'zonekeeper' },
    });
    expect(spec(cluster)).toMatchObject({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      renewTime: '2026-03-10T05:00:00.000000Z',
      acquireTime: '2026-03-10T05:00:00.000000Z',
      leaseTransitions: 0,
    });
  });

  it('refuses a lease someone holds until it expires, then takes it over', async () => {
    const { clock, cluster, lock } = await setup();
    const a = lock('a');
    const b = lock('b');
    await a.tryAcquireOrRenew();
    expect(await b.tryAcquireOrRenew()).toBe(false);
    await clock.advance(10_000);
    expect(await a.tryAcquireOrRenew()).toBe(true); // renewed
    expect(spec(cluster).renewTime).toBe('2026-03-10T05:00:10.000000Z');
    await clock.advance(14_999);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    await clock.advance(1);
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(spec(cluster)).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    expect(await a.tryAcquireOrRenew()).toBe(false);
    expect(a.held).toBe(false);
  });

  it('release lets another replica take it at once; releasing a lease held by someone else changes nothing', async () => {
    const { cluster, lock } = await setup();
    const a = lock('a');
    const b = lock('b');
    await a.tryAcquireOrRenew();
    await a.release();
    expect(spec(cluster).holderIdentity).toBeNull();
    expect(await b.tryAcquireOrRenew()).toBe(true);
    await a.release(); // a does not hold it
    expect(spec(cluster).holderIdentity).toBe('b');
  });

  it('two candidates racing for a free lease: exactly one wins (optimistic concurrency)', async () => {
    for (const existing of [false, true]) {
      const { clock, lock } = await setup();
      if (existing) {
        await lock('old').tryAcquireOrRenew();
        await clock.advance(20_000); // expired
      }
      const results = await Promise.all([lock('a').tryAcquireOrRenew(), lock('b').tryAcquireOrRenew()]);
      expect(results.filter(Boolean)).toHaveLength(1);
    }
  });

  it('rejects bad options with INVALID_INPUT before any call', async () => {
    const { cluster } = await setup();
    const calls = { ...cluster.calls };
    for (const options of [
      { cluster, namespace: 'zk', identity: '' },
      { cluster, namespace: 'zk', identity: 'x'.repeat(129) },
      { cluster, namespace: 'Zk', identity: 'a' },
      { cluster, namespace: 'zk', identity: 'a', name: 'bad_name' },
      { cluster, namespace: 'zk', identity: 'a', durationMs: 2_999 },
      { cluster, namespace: 'zk', identity: 'a', durationMs: 5_000.5 },
    ]) {
      let error: unknown;
      try {
        createLeaseLock(options);
      } catch (e) {
        error = e;
      }
      expect(hasErrorCode(error, 'INVALID_INPUT'), JSON.stringify({ ...options, cluster: undefined })).toBe(
        true,
      );
    }
    expect(cluster.calls).toEqual(calls);
  });
});
