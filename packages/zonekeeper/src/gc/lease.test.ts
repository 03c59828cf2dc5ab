/**
 * The Lease lock against three clusters: the memory cluster, the Kubernetes API fake through the
 * @kubernetes/client-node adapter, and a real kube-apiserver 1.32 through the same adapter (built by
 * `bash tools/kube-apiserver/build.sh`; the suite fails, never skips, without it).
 */

import { type ClusterClient, createManualClock, hasErrorCode, type KubernetesObject } from '@zonekeeper/core';
import { createMemoryCluster } from '@zonekeeper/externaldns-deployer';
import { createKubernetesCluster } from '@zonekeeper/externaldns-deployer/kubernetes';
import { type KubernetesFake, startKubernetesFake } from '@zonekeeper/kube-apiserver-fake';
import { type KubeApiServer, startKubeApiServer } from '@zonekeeper/testkit/kube-apiserver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { T0 } from '../memory.test.support.js';
import { createLeaseLock } from './lease.js';

interface Target {
  readonly name: string;
  cluster(): Promise<ClusterClient>;
}

let fake: KubernetesFake;
let real: KubeApiServer;
beforeAll(async () => {
  [fake, real] = await Promise.all([startKubernetesFake(), startKubeApiServer()]);
}, 180_000);
afterAll(async () => {
  await Promise.all([fake?.stop(), real?.stop()]);
});

const targets: Target[] = [
  { name: 'memory cluster', cluster: async () => createMemoryCluster({ name: 'mgmt' }) },
  {
    name: 'Kubernetes API fake (client-node adapter)',
    cluster: async () => createKubernetesCluster({ name: 'fake', kubeconfigYaml: fake.kubeconfig().yaml }),
  },
  {
    name: 'real kube-apiserver 1.32 (client-node adapter)',
    cluster: async () => createKubernetesCluster({ name: 'real', kubeconfigYaml: real.kubeconfig() }),
  },
];

interface LeaseSpecView {
  holderIdentity?: string | null;
  leaseDurationSeconds: number;
  renewTime?: string | null;
  acquireTime?: string | null;
  leaseTransitions?: number;
}

describe.each(targets)('createLeaseLock on the $name', (target) => {
  let n = 0;
  async function setup() {
    const clock = createManualClock(T0);
    const cluster = await target.cluster();
    const namespace = `zk-${++n}-${Math.random().toString(36).slice(2, 7)}`;
    await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    const ref = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace, name: 'zonekeeper-gc' };
    const lock = (identity: string, durationMs = 15_000, on: ClusterClient = cluster) =>
      createLeaseLock({ cluster: on, namespace, identity, durationMs }, { clock });
    const lease = async () => (await cluster.get(ref)) as KubernetesObject;
    const spec = async () => (await lease()).spec as LeaseSpecView;
    return { clock, cluster, lock, lease, spec, ref };
  }

  it('takes a free lease and writes a coordination.k8s.io/v1 Lease with MicroTime stamps', async () => {
    const { lock, lease, spec } = await setup();
    const a = lock('a');
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(a.held).toBe(true);
    const stored = await lease();
    expect(stored.apiVersion).toBe('coordination.k8s.io/v1');
    expect(stored.metadata).toMatchObject({
      name: 'zonekeeper-gc',
      labels: { 'zonekeeper.io/managed-by': 'zonekeeper' },
    });
    expect(await spec()).toMatchObject({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      renewTime: '2026-03-10T05:00:00.000000Z',
      acquireTime: '2026-03-10T05:00:00.000000Z',
    });
  });

  it('refuses a lease someone holds until it expires, then takes it over', async () => {
    const { clock, lock, spec } = await setup();
    const a = lock('a');
    const b = lock('b');
    await a.tryAcquireOrRenew();
    expect(await b.tryAcquireOrRenew()).toBe(false);
    await clock.advance(10_000);
    expect(await a.tryAcquireOrRenew()).toBe(true); // renewed
    expect((await spec()).renewTime).toBe('2026-03-10T05:00:10.000000Z');
    await clock.advance(14_999);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    await clock.advance(1);
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(await spec()).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    expect(await a.tryAcquireOrRenew()).toBe(false);
    expect(a.held).toBe(false);
  });

  it('release lets another replica take it at once; releasing a lease held by someone else changes nothing', async () => {
    const { lock, spec } = await setup();
    const a = lock('a');
    const b = lock('b');
    await a.tryAcquireOrRenew();
    await a.release();
    expect((await spec()).holderIdentity ?? null).toBeNull();
    expect(await b.tryAcquireOrRenew()).toBe(true);
    await a.release(); // a does not hold it
    expect((await spec()).holderIdentity).toBe('b');
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

  it('the Lease deleted between the read and the write: never an error, and a lock is held again at once or next round', async () => {
    const { cluster, clock, lock, ref } = await setup();
    await lock('old').tryAcquireOrRenew();
    await clock.advance(20_000); // expired: 'a' will replace it with the resourceVersion it read
    // A cluster client that deletes the Lease right after 'a' has read it.
    const racing: ClusterClient = {
      ...cluster,
      name: cluster.name,
      apply: (o, opts) => cluster.apply(o, opts),
      list: (v, k, opts) => cluster.list(v, k, opts),
      delete: (r, opts) => cluster.delete(r, opts),
      replace: (o, opts) => cluster.replace(o, opts),
      get: async (r, opts) => {
        const got = await cluster.get(r, opts);
        if (got) await cluster.delete(ref);
        return got;
      },
    };
    const a = lock('a', 15_000, racing);
    const first = await a.tryAcquireOrRenew();
    // A real API server (and the fake) creates the Lease on that PUT (create-on-update): 'a' holds it.
    // The memory cluster answers 404: a lost round, and the next round creates the Lease.
    const stillHeld = first || (await lock('a').tryAcquireOrRenew());
    expect(stillHeld).toBe(true);
    expect(((await cluster.get(ref)) as KubernetesObject & { spec: LeaseSpecView }).spec.holderIdentity).toBe(
      'a',
    );
  });
});

describe('createLeaseLock options', () => {
  it('rejects bad options with INVALID_INPUT before any call', async () => {
    const cluster = createMemoryCluster({ name: 'mgmt' });
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
