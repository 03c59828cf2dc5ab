import { type ClusterClient, createManualClock, hasErrorCode, type KubernetesObject } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { applyExternalDns, isSubsetOf, planApply, uninstallExternalDns, waitForRollout } from './apply.js';
import type { AwsStaticCredentials } from './credentials.js';
import { createMemoryCluster } from './memory-cluster.js';
import { renderExternalDns } from './objects.js';
import type { ExternalDnsOptions } from './options.js';

const options: ExternalDnsOptions & { readonly credentials: AwsStaticCredentials } = {
  clusterId: 'prod-1',
  organization: 'acme',
  zoneName: 'acme.example.com',
  zoneId: 'Z0123456789ABCDEFGHIJ',
  credentials: {
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  },
  createNamespace: true,
};

describe('applyExternalDns', () => {
  it('creates everything, waits for the rollout, and a second apply writes nothing', async () => {
    const cluster = createMemoryCluster({ name: 'prod-1' });
    const objects = renderExternalDns(options);
    const first = await applyExternalDns(cluster, objects);
    expect(first.plan.steps.map((s) => `${s.change} ${s.ref.kind}`)).toEqual(
      objects.map((o) => `create ${o.kind}`),
    );
    expect(first.rollout).toMatchObject({ generation: 1, observedGeneration: 1, availableReplicas: 1 });
    const versions = first.objects?.map((o) => o.metadata.resourceVersion);
    const applies = cluster.calls.apply;
    const second = await applyExternalDns(cluster, renderExternalDns(options));
    expect(second.plan.steps).toEqual([]);
    expect(cluster.calls.apply).toBe(applies);
    expect(second.objects?.map((o) => o.metadata.resourceVersion)).toEqual(versions);
  });

  it('rotated credentials update the Secret and roll the Deployment', async () => {
    const cluster = createMemoryCluster();
    await applyExternalDns(cluster, renderExternalDns(options));
    const rotated = {
      ...options,
      credentials: {
        accessKeyId: 'AKIAROTATED000000001',
        secretAccessKey: 'rotatedSecretValue/abcdefghijklmnopqrstu',
      },
    };
    const result = await applyExternalDns(cluster, renderExternalDns(rotated));
    expect(result.plan.steps.map((s) => `${s.change} ${s.ref.kind}`)).toEqual([
      'update Secret',
      'update Deployment',
    ]);
    const deployment = result.objects?.find((o) => o.kind === 'Deployment') as KubernetesObject;
    expect(deployment.metadata.generation).toBe(2);
    expect(result.rollout?.observedGeneration).toBe(2);
  });

  it('dry-run plans without writing', async () => {
    const cluster = createMemoryCluster();
    const result = await applyExternalDns(cluster, renderExternalDns(options), {}, { dryRun: true });
    expect(result.dryRun).toBe(true);
    expect(result.plan.steps).toHaveLength(renderExternalDns(options).length);
    expect(cluster.objects().filter((o) => o.kind !== 'Namespace' || o.metadata.name !== 'default')).toEqual(
      [],
    );
  });

  it('refuses to take over an object it does not own', async () => {
    const cluster = createMemoryCluster();
    await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'external-dns' } });
    await cluster.apply({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'external-dns', namespace: 'external-dns' },
    });
    const ns = await applyExternalDns(cluster, renderExternalDns(options)).catch((x) => x);
    expect(hasErrorCode(ns, 'NOT_OWNED')).toBe(true);
    expect(ns.message).toMatch(/Namespace\/external-dns .*createNamespace: false/);
    const e = await applyExternalDns(
      cluster,
      renderExternalDns({ ...options, createNamespace: false }),
    ).catch((x) => x);
    expect(hasErrorCode(e, 'NOT_OWNED')).toBe(true);
    expect(e.message).toMatch(/ServiceAccount\/external-dns\/external-dns/);
    expect(cluster.objects('Deployment')).toEqual([]);
  });

  it('fails clearly when the rollout stalls, and times out when it never completes', async () => {
    const cluster = createMemoryCluster();
    cluster.setRolloutFailure('external-dns', 'external-dns', true);
    const stalled = await applyExternalDns(cluster, renderExternalDns(options)).catch((x) => x);
    expect(hasErrorCode(stalled, 'UNAVAILABLE')).toBe(true);
    expect(stalled.message).toMatch(/ProgressDeadlineExceeded/);

    // A cluster whose Deployment never reports progress.
    const silent: ClusterClient = {
      ...cluster,
      name: 'silent',
      get: async (ref) => {
        const o = await cluster.get(ref);
        return o && ref.kind === 'Deployment' ? { ...o, status: {} } : o;
      },
    };
    const clock = createManualClock(new Date('2026-05-01T00:00:00Z'), { autoAdvance: true });
    const timeout = await waitForRollout(
      silent,
      { namespace: 'external-dns', name: 'external-dns' },
      { clock },
      { timeoutMs: 60_000 },
    ).catch((x) => x);
    expect(hasErrorCode(timeout, 'TIMEOUT')).toBe(true);
    expect(clock.now().getTime() - Date.parse('2026-05-01T00:00:00Z')).toBeLessThanOrEqual(60_000);
  });
});

describe('waitForRollout progress', () => {
  it('logs a line naming the Deployment and its ready count each time the count changes', async () => {
    const cluster = createMemoryCluster();
    await applyExternalDns(cluster, renderExternalDns(options));
    // The Deployment reports 0, 0, 2, 2, 2 then 3 of 3 replicas available across polls.
    const seen = [0, 0, 2, 2, 2, 3];
    let poll = 0;
    const progressing: ClusterClient = {
      ...cluster,
      name: 'prod-1',
      get: async (ref) => {
        const o = await cluster.get(ref);
        if (!o || ref.kind !== 'Deployment') return o;
        const available = seen[Math.min(poll++, seen.length - 1)] as number;
        return {
          ...o,
          spec: { ...(o.spec as object), replicas: 3 },
          status: {
            observedGeneration: o.metadata.generation ?? 1,
            replicas: 3,
            updatedReplicas: 3,
            availableReplicas: available,
            conditions: [{ type: 'Available', status: available === 3 ? 'True' : 'False' }],
          },
        };
      },
    };
    const lines: string[] = [];
    const log = (m: string) => void lines.push(m);
    const clock = createManualClock(new Date('2026-05-01T00:00:00Z'), { autoAdvance: true });
    const status = await waitForRollout(
      progressing,
      { namespace: 'external-dns', name: 'external-dns' },
      { clock, logger: { debug: log, info: log, warn: log, error: log } },
    );
    expect(status.availableReplicas).toBe(3);
    expect(lines).toEqual([
      'waiting for rollout of Deployment/external-dns/external-dns in cluster prod-1 (0/3 ready)',
      'waiting for rollout of Deployment/external-dns/external-dns in cluster prod-1 (2/3 ready)',
    ]);
  });
});

describe('uninstallExternalDns', () => {
  it('removes only labelled objects of this instance, and the namespace because zonekeeper created it', async () => {
    const cluster = createMemoryCluster();
    await applyExternalDns(cluster, renderExternalDns(options));
    await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
    await applyExternalDns(
      cluster,
      renderExternalDns({ ...options, namespace: 'other', createNamespace: false }),
    );
    await cluster.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'keep-me', namespace: 'other' },
    });
    const result = await uninstallExternalDns(cluster, { namespace: 'external-dns' });
    expect(result.plan.steps.map((s) => s.ref.kind)).toEqual([
      'Deployment',
      'Secret',
      'ServiceAccount',
      'ClusterRoleBinding',
      'ClusterRole',
      'Namespace',
    ]);
    expect(
      cluster
        .objects()
        .filter(
          (o) =>
            o.metadata.namespace === 'external-dns' ||
            o.metadata.name.startsWith('zonekeeper:external-dns:') ||
            (o.kind === 'Namespace' && o.metadata.name === 'external-dns'),
        ),
    ).toEqual([]);
    // The other installation, in a namespace zonekeeper did not create, is untouched.
    expect(cluster.objects('Deployment').map((o) => o.metadata.namespace)).toEqual(['other']);
    expect(cluster.objects('ClusterRole').map((o) => o.metadata.name)).toEqual([
      'zonekeeper:other:external-dns',
    ]);
    const again = await uninstallExternalDns(cluster, { namespace: 'external-dns' });
    expect(again.plan.steps).toEqual([]);
    const other = await uninstallExternalDns(cluster, { namespace: 'other' });
    expect(other.plan.steps.map((s) => s.ref.kind)).not.toContain('Namespace');
    expect(cluster.objects('ConfigMap')).toHaveLength(1);
  });
});

describe('planApply on canonical quantities', () => {
  it('a stored "500m"/"1Gi" equals a rendered "0.5"/"1024Mi": no update; a different amount is one', () => {
    const rendered = renderExternalDns({
      ...options,
      resources: { requests: { cpu: '0.5', memory: '1024Mi' }, limits: { memory: '1.5Gi' } },
    });
    const stored = (o: KubernetesObject): KubernetesObject => {
      if (o.kind !== 'Deployment') return o;
      const copy = structuredClone(o) as unknown as {
        spec: { template: { spec: { containers: { resources: unknown }[] } } };
      };
      for (const c of copy.spec.template.spec.containers)
        c.resources = { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '1536Mi' } };
      return copy as unknown as KubernetesObject;
    };
    const key = (o: KubernetesObject) =>
      o.metadata.namespace === undefined
        ? `${o.kind}/${o.metadata.name}`
        : `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
    const live = new Map(rendered.map((o) => [key(o), stored(o)]));
    expect(planApply(rendered, live).steps).toEqual([]);
    const more = renderExternalDns({
      ...options,
      resources: { requests: { cpu: '0.6', memory: '1024Mi' }, limits: { memory: '1.5Gi' } },
    });
    expect(planApply(more, live).steps.map((s) => s.ref.kind)).toEqual(['Deployment']);
  });
});

describe('isSubsetOf', () => {
  it('ignores fields the server added and compares arrays element-wise', () => {
    expect(isSubsetOf({ a: 1, b: [{ c: 2 }] }, { a: 1, b: [{ c: 2, d: 3 }], e: 4 })).toBe(true);
    expect(isSubsetOf({ a: 1, b: [{ c: 2 }] }, { a: 1, b: [{ c: 2 }, { c: 3 }] })).toBe(false);
    expect(isSubsetOf({ a: { b: 1 } }, { a: { b: 2 } })).toBe(false);
    expect(isSubsetOf({ a: 1 }, null)).toBe(false);
  });
});

describe('applyExternalDns results', () => {
  it('never carry the credentials: the Secret in `objects` is redacted', async () => {
    const cluster = createMemoryCluster();
    const result = await applyExternalDns(cluster, renderExternalDns(options));
    const secret = result.objects?.find((o) => o.kind === 'Secret');
    expect(Object.values(secret?.data as Record<string, string>)).toEqual([
      '<redacted by zonekeeper: create this Secret from Vault>',
    ]);
    const everything = JSON.stringify(result);
    expect(everything).not.toContain(options.credentials.secretAccessKey);
    expect(everything).not.toContain(
      Buffer.from(options.credentials.secretAccessKey).toString('base64').slice(0, 20),
    );
    // The cluster itself holds the real credentials file.
    const stored = cluster.objects('Secret')[0]?.data as Record<string, string>;
    expect(Buffer.from(stored.credentials as string, 'base64').toString()).toContain(
      options.credentials.secretAccessKey,
    );
  });
});
