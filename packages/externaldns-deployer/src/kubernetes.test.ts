import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hasErrorCode } from '@zonekeeper/core';
import { type KubernetesFake, startKubernetesFake } from '@zonekeeper/kube-apiserver-fake';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyExternalDns, NAMESPACE_TERMINATING, uninstallExternalDns } from './apply.js';
import { createKubernetesCluster } from './kubernetes.js';
import { renderExternalDns } from './objects.js';
import { clusterClientContract } from './testing.js';
import { toYaml } from './yaml.js';

const run = promisify(execFile);
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const options = {
  clusterId: 'prod-1',
  organization: 'acme',
  zoneName: 'acme.example.com',
  zoneId: 'Z0123456789ABCDEFGHIJ',
  credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET },
  createNamespace: true,
};

let fake: KubernetesFake;
let dir: string;
beforeAll(async () => {
  fake = await startKubernetesFake({ rolloutDelayMs: 0 });
  dir = await mkdtemp(join(tmpdir(), 'zk-k8s-'));
});
afterAll(async () => {
  await fake.stop();
  await rm(dir, { recursive: true, force: true });
});

clusterClientContract({
  name: 'kubernetes (testkit fake, @kubernetes/client-node)',
  create: async () => ({
    cluster: createKubernetesCluster({ name: 'fake', kubeconfigYaml: fake.kubeconfig().yaml }),
  }),
});

async function kubectl(...args: string[]): Promise<string> {
  const config = await fake.writeKubeconfig(dir);
  const { stdout } = await run(
    'kubectl',
    ['--kubeconfig', config, '--cache-dir', join(dir, 'cache'), ...args],
    { timeout: 15_000 },
  );
  return stdout;
}

describe('ExternalDNS on the Kubernetes fake through the adapter', () => {
  it('applies with server-side apply as field manager zonekeeper, re-applies without writes, and kubectl sees it', async () => {
    const cluster = createKubernetesCluster({ name: 'prod-1', kubeconfigYaml: fake.kubeconfig().yaml });
    fake.clearRequests();
    const first = await applyExternalDns(cluster, renderExternalDns(options));
    expect(first.rollout?.availableReplicas).toBe(1);
    const patches = fake.requests.filter((r) => r.method === 'PATCH');
    expect(patches.length).toBe(renderExternalDns(options).length);
    expect(
      patches.every(
        (r) => r.contentType?.startsWith('application/apply-patch+yaml') && r.fieldManager === 'zonekeeper',
      ),
    ).toBe(true);

    fake.clearRequests();
    const second = await applyExternalDns(cluster, renderExternalDns(options));
    expect(second.plan.steps).toEqual([]);
    expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    const stable = (r: typeof first) =>
      r.objects?.filter((o) => o.kind !== 'Deployment').map((o) => o.metadata.resourceVersion);
    expect(stable(second)).toEqual(stable(first));

    const deployments = JSON.parse(
      await kubectl('get', 'deploy', '-n', 'external-dns', '-o', 'json', '--show-managed-fields'),
    ) as { items: { metadata: { name: string; managedFields: { manager: string }[] } }[] };
    expect(deployments.items.map((d) => d.metadata.name)).toEqual(['external-dns']);
    expect(deployments.items[0]?.metadata.managedFields.map((m) => m.manager)).toContain('zonekeeper');
  });

  it('non-canonical quantities ("0.5", "1024Mi") re-apply without writes: the server stores them canonically', async () => {
    const cluster = createKubernetesCluster({ name: 'prod-1', kubeconfigYaml: fake.kubeconfig().yaml });
    const quantities = {
      ...options,
      namespace: 'quantities',
      resources: { requests: { cpu: '0.5', memory: '1024Mi' }, limits: { memory: '1.5Gi' } },
    };
    await applyExternalDns(cluster, renderExternalDns(quantities));
    const stored = fake.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'quantities',
      name: 'external-dns',
    });
    expect(
      (stored as unknown as { spec: { template: { spec: { containers: { resources: unknown }[] } } } }).spec
        .template.spec.containers[0]?.resources,
    ).toEqual({ requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '1536Mi' } });
    fake.clearRequests();
    const again = await applyExternalDns(cluster, renderExternalDns(quantities));
    expect(again.plan.steps).toEqual([]);
    expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('reinstalling right after an uninstall waits for the namespace to finish terminating', async () => {
    await using slow = await startKubernetesFake({ rolloutDelayMs: 0, namespaceDeletionDelayMs: 1_500 });
    const cluster = createKubernetesCluster({ name: 'prod-1', kubeconfigYaml: slow.kubeconfig().yaml });
    const target = { ...options, namespace: 'reinstall' };
    await applyExternalDns(cluster, renderExternalDns(target));
    await uninstallExternalDns(cluster, { namespace: 'reinstall' });
    const ns = slow.get({ apiVersion: 'v1', kind: 'Namespace', name: 'reinstall' });
    expect((ns as unknown as { status: { phase: string } }).status.phase).toBe('Terminating');
    // The API server refuses new objects in it meanwhile: a transient error, not a permission problem.
    const refused = await cluster
      .apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'reinstall' } })
      .catch((x) => x);
    expect(refused).toMatchObject({
      code: 'CONFLICT',
      retry: 'transient',
      details: { reason: NAMESPACE_TERMINATING },
    });
    expect(refused.message).toMatch(/being deleted \(Terminating\); retry once it is gone/);
    const again = await applyExternalDns(cluster, renderExternalDns(target));
    expect(again.rollout?.availableReplicas).toBe(1);
    expect(
      slow.get({ apiVersion: 'v1', kind: 'Namespace', name: 'reinstall' })?.metadata.deletionTimestamp,
    ).toBeUndefined();
  });

  it('gives up on a namespace that does not finish terminating (TIMEOUT) and honours abort', async () => {
    await using stuck = await startKubernetesFake({ rolloutDelayMs: 0, namespaceDeletionDelayMs: 60_000 });
    const cluster = createKubernetesCluster({ name: 'prod-1', kubeconfigYaml: stuck.kubeconfig().yaml });
    const target = { ...options, namespace: 'stuck' };
    await applyExternalDns(cluster, renderExternalDns(target));
    await uninstallExternalDns(cluster, { namespace: 'stuck' });
    const timedOut = await applyExternalDns(
      cluster,
      renderExternalDns(target),
      {},
      { namespaceTerminationTimeoutMs: 600 },
    ).catch((x) => x);
    expect(timedOut).toMatchObject({ code: 'TIMEOUT' });
    expect(timedOut.message).toMatch(/namespace stuck .* to finish terminating/);
    const aborted = await applyExternalDns(
      cluster,
      renderExternalDns(target),
      {},
      { signal: AbortSignal.timeout(300) },
    ).catch((x) => x);
    expect(aborted.name).toBe('TimeoutError');
  });

  it('rotated credentials update the Secret and roll the Deployment', async () => {
    const cluster = createKubernetesCluster({ name: 'prod-1', kubeconfigYaml: fake.kubeconfig().yaml });
    await applyExternalDns(cluster, renderExternalDns(options));
    const rotated = await applyExternalDns(
      cluster,
      renderExternalDns({
        ...options,
        credentials: {
          accessKeyId: 'AKIAROTATED000000001',
          secretAccessKey: 'another/secretValue+abcdefghijklmnopqrst',
        },
      }),
    );
    expect(rotated.plan.steps.map((s) => s.ref.kind)).toEqual(['Secret', 'Deployment']);
    expect(rotated.rollout?.generation).toBeGreaterThan(1);
  });

  it('a GitOps user can apply the rendered YAML with kubectl (secrets included on request)', async () => {
    const file = join(dir, 'manifest.yaml');
    await writeFile(
      file,
      toYaml(renderExternalDns({ ...options, namespace: 'gitops' }), { includeSecrets: true }),
    );
    const out = await kubectl(
      'apply',
      '--server-side',
      '--validate=false',
      '--field-manager',
      'gitops',
      '-f',
      file,
    );
    expect(out).toMatch(/deployment.apps\/external-dns serverside-applied/);
    const redacted = join(dir, 'redacted.yaml');
    await writeFile(redacted, toYaml(renderExternalDns({ ...options, namespace: 'gitops' })));
    await expect(
      kubectl('apply', '--server-side', '--validate=false', '--field-manager', 'gitops', '-f', redacted),
    ).rejects.toThrow();
  });

  it('fails clearly on ProgressDeadlineExceeded and uninstalls only what it owns', async () => {
    const cluster = createKubernetesCluster({ name: 'prod-1', kubeconfigYaml: fake.kubeconfig().yaml });
    fake.failRollout('stalled', 'external-dns');
    const e = await applyExternalDns(cluster, renderExternalDns({ ...options, namespace: 'stalled' })).catch(
      (x) => x,
    );
    expect(hasErrorCode(e, 'UNAVAILABLE')).toBe(true);
    expect(e.message).toMatch(/ProgressDeadlineExceeded/);
    const result = await uninstallExternalDns(cluster, { namespace: 'stalled' });
    expect(result.plan.steps.map((s) => s.ref.kind)).toContain('Namespace');
    await fake.settle();
    expect(fake.objects({ namespace: 'stalled' })).toEqual([]);
    expect(fake.objects({ kind: 'Namespace' }).some((n) => n.metadata.name === 'external-dns')).toBe(true);
  });

  it('translates API errors without leaking the token or Secret contents', async () => {
    const bad = createKubernetesCluster({
      name: 'bad',
      kubeconfigYaml: fake.kubeconfig({ token: 'wrong-token-1234567890' }).yaml,
    });
    const denied = await bad.get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' }).catch((x) => x);
    expect(hasErrorCode(denied, 'PERMISSION_DENIED')).toBe(true);
    expect(JSON.stringify({ ...denied, m: denied.message, c: String(denied.cause) })).not.toContain(
      'wrong-token',
    );
    const cluster = createKubernetesCluster({ name: 'prod-1', kubeconfigYaml: fake.kubeconfig().yaml });
    const invalid = await cluster
      .apply({
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/tls',
        metadata: { name: 'x', namespace: 'default' },
        stringData: { other: SECRET },
      })
      .catch((x) => x);
    expect(hasErrorCode(invalid, 'INVALID_INPUT')).toBe(true);
    expect(`${invalid.message} ${String(invalid.cause)}`).not.toContain(SECRET);
    const unreachable = createKubernetesCluster({
      name: 'gone',
      kubeconfigYaml: fake.kubeconfig().yaml.replace(fake.endpoint, 'https://127.0.0.1:1'),
    });
    expect(
      hasErrorCode(
        await unreachable.get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' }).catch((x) => x),
        'UNAVAILABLE',
      ),
    ).toBe(true);
  });

  it('rejects a bad kubeconfig or context before any request', () => {
    expect(() => createKubernetesCluster({ kubeconfigYaml: 'not: [valid' })).toThrow(
      /kubeconfig could not be loaded/,
    );
    expect(() =>
      createKubernetesCluster({ kubeconfigYaml: fake.kubeconfig().yaml, context: 'nope' }),
    ).toThrow(/no context named "nope"/);
  });
});

describe('connections', () => {
  it('reuses one kept-alive TLS connection for sequential calls (client-node alone opens one per call)', async () => {
    await using own = await startKubernetesFake({ rolloutDelayMs: 0 });
    const cluster = createKubernetesCluster({ name: 'prod-1', kubeconfigYaml: own.kubeconfig().yaml });
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'probe' };
    await cluster.apply({ ...ref, metadata: { name: 'probe', namespace: 'default' }, data: { n: '0' } });
    const before = own.connections;
    const requestsBefore = own.requests.length;
    for (let i = 1; i <= 20; i++) {
      await cluster.get(ref);
      await cluster.apply({
        ...ref,
        metadata: { name: 'probe', namespace: 'default' },
        data: { n: String(i) },
      });
    }
    expect(own.requests.length - requestsBefore).toBeGreaterThanOrEqual(40);
    expect(own.connections - before).toBeLessThanOrEqual(1);
    // A second client has its own agent: connections are per client, never shared across kubeconfigs.
    const other = createKubernetesCluster({ name: 'prod-2', kubeconfigYaml: own.kubeconfig().yaml });
    await other.get(ref);
    expect(own.connections - before).toBeLessThanOrEqual(2);
  });
});
