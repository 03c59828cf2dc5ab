/**
 * The contract every {@link ClusterClient} must satisfy, as a Vitest suite. zonekeeper runs it against
 * the memory cluster and the Kubernetes adapter (on the testkit Kubernetes API fake); run it against
 * your own implementation:
 *
 * ```ts
 * import { clusterClientContract } from '@zonekeeper/externaldns-deployer/testing';
 * clusterClientContract({ name: 'my cluster', create: async () => ({ cluster: myClient }) });
 * ```
 *
 * Requires `vitest` (an optional peer dependency).
 *
 * @packageDocumentation
 */

import { type ClusterClient, hasErrorCode, type KubernetesObject } from '@zonekeeper/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Options of {@link clusterClientContract}. @public */
export interface ClusterClientContractOptions {
  /** Suite name, e.g. `'kubernetes (fake)'`. */
  readonly name: string;
  /** Creates the client under test (once per suite); `cleanup` runs after the suite. */
  create(): Promise<{ readonly cluster: ClusterClient; cleanup?(): Promise<void> }>;
}

const deployment = (namespace: string, image: string): KubernetesObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'app', namespace, labels: { app: 'app', 'zonekeeper.io/managed-by': 'zonekeeper' } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'app' } },
    template: { metadata: { labels: { app: 'app' } }, spec: { containers: [{ name: 'app', image }] } },
  },
});

/**
 * Registers the cluster-client contract suite.
 * @public
 */
export function clusterClientContract(options: ClusterClientContractOptions): void {
  describe(`ClusterClient contract: ${options.name}`, () => {
    let cluster: ClusterClient;
    let cleanup: (() => Promise<void>) | undefined;
    let n = 0;
    const freshNamespace = async () => {
      const name = `contract-${++n}-${Math.random().toString(36).slice(2, 7)}`;
      await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      return name;
    };

    beforeAll(async () => {
      const made = await options.create();
      cluster = made.cluster;
      cleanup = made.cleanup;
    });
    afterAll(async () => {
      await cleanup?.();
    });

    it('applies, reads back with server metadata, and a repeated apply changes nothing', async () => {
      const ns = await freshNamespace();
      // A ConfigMap: no controller writes its status, so its resourceVersion moves only on our writes.
      const configMap = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'cfg', namespace: ns, labels: { a: 'b' } },
        data: { k: 'v' },
      };
      const first = await cluster.apply(configMap);
      expect(first.metadata.uid).toBeTruthy();
      expect(first.metadata.resourceVersion).toBeTruthy();
      const again = await cluster.apply(configMap);
      expect(again.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
      const got = await cluster.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'cfg' });
      expect(got?.kind).toBe('ConfigMap');
      expect(got?.apiVersion).toBe('v1');
      expect(got?.metadata.uid).toBe(first.metadata.uid);
      expect(got?.data).toEqual({ k: 'v' });
      const deployed = await cluster.apply(deployment(ns, 'registry.example/app:1'));
      expect(deployed.metadata.generation).toBe(1);
    });

    it('apply ignores a resourceVersion the object carries (server-side apply would take it as a precondition)', async () => {
      const ns = await freshNamespace();
      const configMap = (value: string, resourceVersion?: string): KubernetesObject => ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'rv', namespace: ns, ...(resourceVersion ? { resourceVersion } : {}) },
        data: { k: value },
      });
      const first = await cluster.apply(configMap('a'));
      await cluster.apply(configMap('b'));
      // `first` is now stale: an object read earlier and applied again must still win.
      const third = await cluster.apply(configMap('c', first.metadata.resourceVersion));
      expect(third.data).toEqual({ k: 'c' });
    });

    it("bumps a Deployment's generation on spec and annotation changes, not on label changes", async () => {
      const ns = await freshNamespace();
      await cluster.apply(deployment(ns, 'registry.example/app:1'));
      const changed = await cluster.apply(deployment(ns, 'registry.example/app:2'));
      expect(changed.metadata.generation).toBe(2);
      const base = deployment(ns, 'registry.example/app:2');
      const relabelled = await cluster.apply({
        ...base,
        metadata: { ...base.metadata, labels: { ...base.metadata.labels, tier: 'dns' } },
      });
      expect(relabelled.metadata.generation).toBe(2);
      // Annotations are copied to the ReplicaSets, so the registry treats them like the spec.
      const annotated = await cluster.apply({
        ...base,
        metadata: {
          ...base.metadata,
          labels: { ...base.metadata.labels, tier: 'dns' },
          annotations: { note: 'x' },
        },
      });
      expect(annotated.metadata.generation).toBe(3);
    });

    it('folds Secret stringData into base64 data', async () => {
      const ns = await freshNamespace();
      const s = await cluster.apply({
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'Opaque',
        metadata: { name: 's', namespace: ns },
        stringData: { k: 'value' },
      });
      expect((s.data as Record<string, string>).k).toBe(Buffer.from('value').toString('base64'));
    });

    it('returns undefined / false for what does not exist', async () => {
      const ns = await freshNamespace();
      expect(
        await cluster.get({ apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'nope' }),
      ).toBeUndefined();
      expect(await cluster.delete({ apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'nope' })).toBe(
        false,
      );
    });

    it('lists by namespace and label selector, with kind and apiVersion on every item', async () => {
      const ns = await freshNamespace();
      await cluster.apply({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'a', namespace: ns, labels: { team: 'x' } },
        data: { a: '1' },
      });
      await cluster.apply({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'b', namespace: ns, labels: { team: 'y' } },
        data: { b: '1' },
      });
      const xs = await cluster.list('v1', 'ConfigMap', { namespace: ns, labelSelector: 'team=x' });
      expect(xs.map((o) => o.metadata.name)).toEqual(['a']);
      expect(xs[0]?.kind).toBe('ConfigMap');
      expect(xs[0]?.apiVersion).toBe('v1');
      const all = await cluster.list('v1', 'ConfigMap', { namespace: ns });
      expect(all.map((o) => o.metadata.name).sort()).toEqual(['a', 'b']);
    });

    it('deletes an object', async () => {
      const ns = await freshNamespace();
      await cluster.apply({
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'sa', namespace: ns },
      });
      expect(
        await cluster.delete({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: ns, name: 'sa' }),
      ).toBe(true);
      expect(
        await cluster.get({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: ns, name: 'sa' }),
      ).toBeUndefined();
    });

    it('replaces with optimistic concurrency (leases)', async () => {
      const ns = await freshNamespace();
      const lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'gc', namespace: ns },
        spec: { holderIdentity: 'a', leaseDurationSeconds: 15 },
      };
      const created = await cluster.replace(lease);
      expect(hasErrorCode(await cluster.replace(lease).catch((e) => e), 'ALREADY_EXISTS')).toBe(true);
      const taken = await cluster.replace({
        ...created,
        spec: { holderIdentity: 'b', leaseDurationSeconds: 15 },
      });
      expect((taken.spec as { holderIdentity: string }).holderIdentity).toBe('b');
      const stale = await cluster
        .replace({ ...created, spec: { holderIdentity: 'c', leaseDurationSeconds: 15 } })
        .catch((e) => e);
      expect(hasErrorCode(stale, 'CONFLICT')).toBe(true);
    });

    it('reports a missing namespace as NOT_FOUND', async () => {
      const e = await cluster
        .apply({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'x', namespace: 'does-not-exist-here' },
        })
        .catch((x) => x);
      expect(hasErrorCode(e, 'NOT_FOUND')).toBe(true);
    });

    it('re-throws the abort reason', async () => {
      const c = new AbortController();
      c.abort();
      await expect(
        cluster.get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' }, { signal: c.signal }),
      ).rejects.toMatchObject({ name: 'AbortError' });
    });
  });
}
