/**
 * The Kubernetes adapter against a real kube-apiserver 1.32 (API server and etcd only: no controller
 * manager, so no rollouts and namespaces never finish terminating). Built by
 * `bash tools/kube-apiserver/build.sh`; the suite fails, never skips, without the binary.
 */

import { type KubeApiServer, startKubeApiServer } from '@zonekeeper/testkit/kube-apiserver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyExternalDns, NAMESPACE_TERMINATING, uninstallExternalDns } from './apply.js';
import { createKubernetesCluster } from './kubernetes.js';
import { renderExternalDns } from './objects.js';
import { clusterClientContract } from './testing.js';

const options = {
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

let server: KubeApiServer;
beforeAll(async () => {
  server = await startKubeApiServer();
}, 180_000);
afterAll(async () => {
  await server?.stop();
});

clusterClientContract({
  name: 'kubernetes (real kube-apiserver 1.32, @kubernetes/client-node)',
  create: async () => ({
    cluster: createKubernetesCluster({ name: 'real', kubeconfigYaml: server.kubeconfig() }),
  }),
});

describe('ExternalDNS on a real kube-apiserver through the adapter', () => {
  it('non-canonical quantities re-apply without writes (the server stores "0.5" as "500m")', async () => {
    const cluster = createKubernetesCluster({ name: 'real', kubeconfigYaml: server.kubeconfig() });
    const target = {
      ...options,
      namespace: 'quantities',
      resources: { requests: { cpu: '0.5', memory: '1024Mi' }, limits: { memory: '1.5Gi' } },
    };
    const first = await applyExternalDns(cluster, renderExternalDns(target), {}, { waitForRollout: false });
    const deployment = first.objects?.find((o) => o.kind === 'Deployment') as unknown as {
      spec: { template: { spec: { containers: { resources: unknown }[] } } };
    };
    expect(deployment.spec.template.spec.containers[0]?.resources).toEqual({
      requests: { cpu: '500m', memory: '1Gi' },
      limits: { memory: '1536Mi' },
    });
    const second = await applyExternalDns(cluster, renderExternalDns(target), {}, { waitForRollout: false });
    expect(second.plan.steps).toEqual([]);
    expect(second.objects?.map((o) => o.metadata.resourceVersion)).toEqual(
      first.objects?.map((o) => o.metadata.resourceVersion),
    );
  });

  it('a write into a terminating namespace is a transient CONFLICT; a reinstall waits for it (here: until the timeout)', async () => {
    const cluster = createKubernetesCluster({ name: 'real', kubeconfigYaml: server.kubeconfig() });
    const target = { ...options, namespace: 'doomed' };
    await applyExternalDns(cluster, renderExternalDns(target), {}, { waitForRollout: false });
    await uninstallExternalDns(cluster, { namespace: 'doomed' });
    const refused = await cluster
      .apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late', namespace: 'doomed' } })
      .catch((x) => x);
    expect(refused).toMatchObject({
      code: 'CONFLICT',
      retry: 'transient',
      details: { reason: NAMESPACE_TERMINATING, status: 403 },
    });
    // Without a namespace controller the namespace never goes: the wait is bounded.
    const timedOut = await applyExternalDns(
      cluster,
      renderExternalDns(target),
      {},
      { waitForRollout: false, namespaceTerminationTimeoutMs: 700 },
    ).catch((x) => x);
    expect(timedOut).toMatchObject({ code: 'TIMEOUT' });
  });
});
