/**
 * `attachCluster`'s cert-manager mode against a real kube-apiserver (API server and etcd only, built by
 * `bash tools/kube-apiserver/build.sh`; the suite fails, never skips, without it) that has
 * cert-manager's, approver-policy's and trust-manager's own CRDs (from the Go module proxy): the
 * facade's objects (ACME and CA issuers, policy, RBAC, Secrets, trust Bundle) pass the CRDs' schema validation through zonekeeper's own Kubernetes adapter, a
 * second attach writes nothing (the stored resourceVersions stay), and detach removes them. The AWS and
 * Vault ports are the embedded in-memory backend.
 */

import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  APPROVER_POLICY_VERSION,
  CERT_MANAGER_VERSION,
  TRUST_MANAGER_VERSION,
} from '@zonekeeper/cert-issuer/cert-manager';
import type { ClusterClient } from '@zonekeeper/core';
import { createKubernetesCluster } from '@zonekeeper/externaldns-deployer/kubernetes';
import { goModuleFiles, type KubeApiServer, startKubeApiServer } from '@zonekeeper/testkit/kube-apiserver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryWorld } from './memory.test.support.js';
import type { AttachClusterInput, AttachResult } from './results.js';
import { createZonekeeper, type Zonekeeper } from './zonekeeper.js';

const CRDS = [
  {
    module: 'github.com/cert-manager/cert-manager',
    version: CERT_MANAGER_VERSION,
    files: ['deploy/crds/cert-manager.io_issuers.yaml'],
  },
  {
    module: 'github.com/cert-manager/approver-policy',
    version: APPROVER_POLICY_VERSION,
    files: ['deploy/crds/policy.cert-manager.io_certificaterequestpolicies.yaml'],
  },
  {
    module: 'github.com/cert-manager/trust-manager',
    version: TRUST_MANAGER_VERSION,
    files: ['deploy/crds/trust.cert-manager.io_bundles.yaml'],
  },
] as const;

let server: KubeApiServer;
let cluster: ClusterClient;
let zk: Zonekeeper;
let dir: string;
let kubeconfig: string;

const KINDS: readonly [string, string][] = [
  ['cert-manager.io/v1', 'Issuer'],
  ['policy.cert-manager.io/v1alpha1', 'CertificateRequestPolicy'],
  ['trust.cert-manager.io/v1alpha1', 'Bundle'],
  ['rbac.authorization.k8s.io/v1', 'RoleBinding'],
  ['rbac.authorization.k8s.io/v1', 'ClusterRole'],
  ['v1', 'Secret'],
];

/** zonekeeper's cert-manager objects on the server, with their resourceVersions. */
async function ours(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [apiVersion, kind] of KINDS)
    for (const o of await cluster.list(apiVersion, kind, {
      labelSelector: 'zonekeeper.io/organization=acme',
    }))
      if (!o.metadata.name.startsWith('external-dns') && !o.metadata.name.includes('external-dns'))
        out[`${kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`] = o.metadata.resourceVersion ?? '';
  return out;
}

beforeAll(async () => {
  const crds = await goModuleFiles(CRDS);
  server = await startKubeApiServer();
  cluster = createKubernetesCluster({ name: 'c1', kubeconfigYaml: server.kubeconfig() });
  dir = await mkdtemp(join(tmpdir(), 'zonekeeper-cert-manager-mode-'));
  kubeconfig = await server.writeKubeconfig(dir);
  const created = await kubectl(['apply', '--server-side', ...crds.flatMap((f) => ['-f', f])]);
  expect(created.code, created.stderr).toBe(0);
  // Wait until the API server serves the new kinds.
  for (const [apiVersion, kind] of KINDS.slice(0, 3))
    for (let i = 0; ; i++) {
      try {
        await cluster.list(apiVersion, kind);
        break;
      } catch (error) {
        if (i > 100) throw error;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  for (const name of ['web', 'api'])
    await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  const w = memoryWorld({ certificates: { caPathLength: 1 } });
  // The embedded backend creates its parent zone on first use; another organisation does that here.
  await w.zk.ensureOrganization('globex');
  // The embedded backend's AWS and Vault ports; this cluster instead of a memory one.
  zk = createZonekeeper({
    baseDomain: 'example.com',
    dns: w.zk.ports.dns,
    identity: w.zk.ports.identity,
    secrets: w.zk.ports.secrets,
    inventory: w.inventory,
    clusters: async () => cluster,
    certificates: { caPathLength: 1 },
  });
}, 600_000);

afterAll(async () => {
  await server?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/**
 * Plays the Deployment controller for ExternalDNS (no controllers run on this server): once the
 * Deployment exists, writes a finished rollout of its current generation through `/status`.
 */
async function rollOut(stop: { done: boolean }): Promise<void> {
  const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'external-dns', name: 'external-dns' };
  let rolled = -1;
  while (!stop.done) {
    const d = await cluster.get(ref);
    const generation = d?.metadata.generation ?? -1;
    if (d && generation !== rolled) {
      const status = {
        observedGeneration: generation,
        replicas: 1,
        updatedReplicas: 1,
        readyReplicas: 1,
        availableReplicas: 1,
        conditions: [
          { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'played' },
        ],
      };
      const r = await kubectl([
        'patch',
        'deployment',
        'external-dns',
        '-n',
        'external-dns',
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status }),
      ]);
      if (r.code === 0) rolled = generation;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function kubectl(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      '/usr/bin/kubectl',
      ['--kubeconfig', kubeconfig, ...args],
      { timeout: 60_000, encoding: 'utf8' },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        }),
    );
  });
}

async function attach(input: AttachClusterInput): Promise<AttachResult> {
  const stop = { done: false };
  const playing = rollOut(stop);
  try {
    return await zk.attachCluster('acme', input);
  } finally {
    stop.done = true;
    await playing;
  }
}

describe('cert-manager mode on a real kube-apiserver with the CRDs', () => {
  const input: AttachClusterInput = {
    clusterId: 'c1',
    certManager: {
      namespaces: ['web', 'api'],
      acme: { server: 'https://acme-staging-v02.api.letsencrypt.org/directory', email: 'ops@acme.example' },
      ca: true,
      trustBundle: true,
    },
  };

  it('applies issuers, policy, RBAC, credentials and the trust Bundle, which the CRDs accept', async () => {
    const r = await attach(input);
    expect(r.plan.map((s) => s.op)).toEqual(
      expect.arrayContaining(['ensure-acme-identity', 'apply-cert-manager']),
    );
    expect(Object.keys(await ours()).sort()).toEqual([
      'Bundle//zonekeeper-acme-ca',
      'CertificateRequestPolicy//zonekeeper-acme',
      'ClusterRole//zonekeeper-acme-certificate-policy',
      'Issuer/api/zonekeeper-acme',
      'Issuer/api/zonekeeper-ca',
      'Issuer/web/zonekeeper-acme',
      'Issuer/web/zonekeeper-ca',
      'RoleBinding/api/zonekeeper-certificate-policy',
      'RoleBinding/web/zonekeeper-certificate-policy',
      'Secret/api/zonekeeper-acme-route53',
      'Secret/api/zonekeeper-ca',
      'Secret/web/zonekeeper-acme-route53',
      'Secret/web/zonekeeper-ca',
    ]);
    const issuer = await cluster.get({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Issuer',
      namespace: 'web',
      name: 'zonekeeper-acme',
    });
    const spec = (issuer?.spec ?? {}) as {
      acme?: { solvers?: { dns01: { route53: Record<string, unknown> } }[] };
    };
    const solver = spec.acme?.solvers?.[0];
    expect(solver?.dns01.route53.hostedZoneID).toBe(r.organizationResult.zone?.id);
  });

  it('a second attach writes nothing: every resourceVersion stays', async () => {
    const before = await ours();
    const again = await attach({ clusterId: 'c1' });
    expect(again.plan).toEqual([]);
    expect(await ours()).toEqual(before);
  });

  it('detach removes them all', async () => {
    const d = await zk.detachCluster('acme', 'c1');
    expect(d.plan.map((s) => s.op)).toContain('remove-cert-manager');
    expect(await ours()).toEqual({});
  });
});
