import { hasErrorCode, type KubernetesObject } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { createMemoryCluster } from './memory-cluster.js';
import { clusterClientContract } from './testing.js';

const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'dns' } };
const deployment = (image: string): KubernetesObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'dns', labels: { app: 'web' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } },
  },
});

describe('memory cluster', () => {
  it('applies idempotently: unchanged objects keep their resourceVersion', async () => {
    const c = createMemoryCluster();
    await c.apply(ns);
    const first = await c.apply(deployment('a:1'));
    const again = await c.apply(deployment('a:1'));
    expect(again.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    expect(first.metadata.generation).toBe(1);
    const changed = await c.apply(deployment('a:2'));
    expect(Number(changed.metadata.resourceVersion)).toBeGreaterThan(Number(first.metadata.resourceVersion));
    expect(changed.metadata.generation).toBe(2);
    expect(changed.metadata.uid).toBe(first.metadata.uid);
    expect((changed.status as { observedGeneration: number }).observedGeneration).toBe(2);
  });

  it('folds Secret stringData into base64 data', async () => {
    const c = createMemoryCluster();
    await c.apply(ns);
    const s = await c.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'dns' },
      stringData: { a: 'hello' },
    });
    expect(s.data).toEqual({ a: 'aGVsbG8=' });
    expect('stringData' in s).toBe(false);
  });

  it('needs the namespace and rejects unknown kinds and scope mistakes', async () => {
    const c = createMemoryCluster();
    expect(hasErrorCode(await c.apply(deployment('a:1')).catch((e) => e), 'NOT_FOUND')).toBe(true);
    expect(
      hasErrorCode(
        await c
          .apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'dns' } })
          .catch((e) => e),
        'INVALID_INPUT',
      ),
    ).toBe(true);
    expect(
      hasErrorCode(
        await c
          .apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x', namespace: 'y' } })
          .catch((e) => e),
        'INVALID_INPUT',
      ),
    ).toBe(true);
  });

  it('lists by label selector and namespace, deletes namespaces with their contents', async () => {
    const c = createMemoryCluster();
    await c.apply(ns);
    await c.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'a', namespace: 'dns', labels: { team: 'x', tier: 'web' } },
    });
    await c.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'b', namespace: 'dns', labels: { team: 'y' } },
    });
    const names = async (selector: string) =>
      (await c.list('v1', 'ConfigMap', { labelSelector: selector })).map((o) => o.metadata.name);
    expect(await names('team=x')).toEqual(['a']);
    expect(await names('team!=x')).toEqual(['b']);
    expect(await names('tier')).toEqual(['a']);
    expect(await names('!tier')).toEqual(['b']);
    expect(await c.delete({ apiVersion: 'v1', kind: 'Namespace', name: 'dns' })).toBe(true);
    expect(c.objects().map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Namespace/default']);
    expect(await c.delete({ apiVersion: 'v1', kind: 'Namespace', name: 'dns' })).toBe(false);
  });

  it('replaces with optimistic concurrency', async () => {
    const c = createMemoryCluster();
    await c.apply(ns);
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'gc', namespace: 'dns' },
      spec: { holderIdentity: 'a' },
    };
    const created = await c.replace(lease);
    expect(hasErrorCode(await c.replace(lease).catch((e) => e), 'ALREADY_EXISTS')).toBe(true);
    const taken = await c.replace({ ...created, spec: { holderIdentity: 'b' } });
    expect(
      hasErrorCode(
        await c.replace({ ...created, spec: { holderIdentity: 'c' } }).catch((e) => e),
        'CONFLICT',
      ),
    ).toBe(true);
    expect((taken.spec as { holderIdentity: string }).holderIdentity).toBe('b');
  });

  it('simulates failing rollouts on request', async () => {
    const c = createMemoryCluster();
    await c.apply(ns);
    c.setRolloutFailure('dns', 'web', true);
    const d = await c.apply(deployment('a:1'));
    const conditions = (d.status as { conditions: { type: string; reason: string }[] }).conditions;
    expect(conditions.find((x) => x.type === 'Progressing')?.reason).toBe('ProgressDeadlineExceeded');
  });
});

clusterClientContract({ name: 'memory', create: async () => ({ cluster: createMemoryCluster() }) });

describe('memory cluster namespaces', () => {
  it('starts with the default namespace, or the ones asked for', async () => {
    expect(
      createMemoryCluster()
        .objects('Namespace')
        .map((n) => n.metadata.name),
    ).toEqual(['default']);
    expect(createMemoryCluster({ namespaces: [] }).objects('Namespace')).toEqual([]);
    const c = createMemoryCluster({ namespaces: ['default', 'web'] });
    expect(
      await c.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'web' } }),
    ).toMatchObject({ kind: 'ConfigMap' });
  });
});
