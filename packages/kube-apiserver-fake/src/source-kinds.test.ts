/**
 * The kinds ExternalDNS's `service` and `ingress` sources read (Services with a load-balancer status,
 * EndpointSlices, Pods, Nodes, networking.k8s.io Ingresses), driven by `@kubernetes/client-node` the
 * way client-go informers use them: list, then watch from the list's resourceVersion, and status
 * written through the `/status` subresource as a load-balancer controller does.
 */

import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubernetesFake, startKubernetesFake } from './index.js';

let fake: KubernetesFake;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let discovery: k8s.DiscoveryV1Api;
let networking: k8s.NetworkingV1Api;

beforeAll(async () => {
  fake = await startKubernetesFake({ rolloutDelayMs: 0 });
  kc = new k8s.KubeConfig();
  kc.loadFromOptions(fake.kubeconfig({ namespace: 'default' }).options);
  core = kc.makeApiClient(k8s.CoreV1Api);
  discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
  networking = kc.makeApiClient(k8s.NetworkingV1Api);
});

afterAll(async () => {
  await fake?.stop();
});

const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

async function until(done: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('discovery', () => {
  it('serves pods, nodes, endpointslices and ingresses with list and watch', async () => {
    const coreResources = await core.getAPIResources();
    const byName = new Map(coreResources.resources.map((r) => [r.name, r]));
    for (const name of ['pods', 'nodes', 'services', 'pods/status', 'nodes/status']) {
      expect(byName.has(name), name).toBe(true);
    }
    expect(byName.get('pods')?.verbs).toEqual(expect.arrayContaining(['list', 'watch']));
    expect(byName.get('nodes')?.namespaced).toBe(false);
    const groups = await kc.makeApiClient(k8s.ApisApi).getAPIVersions();
    const names = groups.groups.map((g) => g.name);
    expect(names).toEqual(expect.arrayContaining(['discovery.k8s.io', 'networking.k8s.io']));
  });
});

describe('a LoadBalancer Service', () => {
  it('keeps the status a controller writes through /status, which a create drops', async () => {
    await core.createNamespacedService({
      namespace: 'default',
      body: {
        metadata: { name: 'web' },
        spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
        status: { loadBalancer: { ingress: [{ hostname: 'ignored.example.com' }] } },
      },
    });
    const created = await core.readNamespacedService({ name: 'web', namespace: 'default' });
    expect(created.status?.loadBalancer?.ingress).toBeUndefined();
    await core.patchNamespacedServiceStatus(
      {
        name: 'web',
        namespace: 'default',
        body: { status: { loadBalancer: { ingress: [{ hostname: 'abc-1.us-east-1.elb.amazonaws.com' }] } } },
      },
      merge,
    );
    const read = await core.readNamespacedService({ name: 'web', namespace: 'default' });
    expect(read.status?.loadBalancer?.ingress).toEqual([{ hostname: 'abc-1.us-east-1.elb.amazonaws.com' }]);
    expect(read.spec?.clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });
});

describe('an Ingress', () => {
  it('is created, listed across namespaces and given a status', async () => {
    await core.createNamespace({ body: { metadata: { name: 'shop' } } });
    await networking.createNamespacedIngress({
      namespace: 'shop',
      body: {
        metadata: { name: 'shop' },
        spec: {
          ingressClassName: 'nginx',
          rules: [
            {
              host: 'shop.acme.example.com',
              http: {
                paths: [
                  {
                    path: '/',
                    pathType: 'Prefix',
                    backend: { service: { name: 'shop', port: { number: 80 } } },
                  },
                ],
              },
            },
          ],
          tls: [{ hosts: ['shop.acme.example.com'], secretName: 'shop-tls' }],
        },
      },
    });
    await networking.patchNamespacedIngressStatus(
      {
        name: 'shop',
        namespace: 'shop',
        body: { status: { loadBalancer: { ingress: [{ hostname: 'lb-2.us-east-1.elb.amazonaws.com' }] } } },
      },
      merge,
    );
    const all = await networking.listIngressForAllNamespaces();
    expect(all.items.map((i) => `${i.metadata?.namespace}/${i.metadata?.name}`)).toEqual(['shop/shop']);
    expect(all.items[0]?.spec?.rules?.[0]?.host).toBe('shop.acme.example.com');
    expect(all.items[0]?.status?.loadBalancer?.ingress?.[0]?.hostname).toBe(
      'lb-2.us-east-1.elb.amazonaws.com',
    );
    expect(all.items[0]?.metadata?.generation).toBe(1);
  });
});

describe('pods, nodes and endpointslices', () => {
  it('are listed and watched from the list resourceVersion, like an informer', async () => {
    await core.createNode({ body: { metadata: { name: 'node-1' } } });
    await core.patchNodeStatus(
      {
        name: 'node-1',
        body: { status: { addresses: [{ type: 'ExternalIP', address: '203.0.113.10' }] } },
      },
      merge,
    );
    const nodes = await core.listNode();
    expect(nodes.items.map((n) => n.status?.addresses)).toEqual([
      [{ type: 'ExternalIP', address: '203.0.113.10' }],
    ]);

    const pods = await core.listPodForAllNamespaces();
    const events: string[] = [];
    const watch = new k8s.Watch(kc);
    const request = await watch.watch(
      '/api/v1/pods',
      { resourceVersion: pods.metadata?.resourceVersion ?? '' },
      (type: string, pod: k8s.V1Pod) => events.push(`${type} ${pod.metadata?.name} ${pod.spec?.nodeName}`),
      () => undefined,
    );
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'web-1', labels: { app: 'web' } },
        spec: { nodeName: 'node-1', containers: [{ name: 'web', image: 'nginx:1.27' }] },
      },
    });
    await discovery.createNamespacedEndpointSlice({
      namespace: 'default',
      body: {
        metadata: { name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.0.0.5'], conditions: { ready: true }, nodeName: 'node-1' }],
        ports: [{ port: 80, protocol: 'TCP' }],
      },
    });
    await until(() => events.length >= 1);
    request.abort();
    expect(events).toEqual(['ADDED web-1 node-1']);
    const onNode = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=node-1' });
    expect(onNode.items.map((p) => p.metadata?.name)).toEqual(['web-1']);
    const slices = await discovery.listEndpointSliceForAllNamespaces({
      labelSelector: 'kubernetes.io/service-name=web',
    });
    expect(slices.items.map((s) => s.endpoints.map((e) => e.addresses))).toEqual([[['10.0.0.5']]]);
  });
});
