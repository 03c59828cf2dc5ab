/**
 * The fake driven by the second, independent client: the real `kubectl` (v1.32 in the image), with a
 * kubeconfig written by the fake and a per-test-file discovery cache.
 */

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubernetesFake, startKubernetesFake } from './index.js';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let fake: KubernetesFake;
let dir: string;
let kubeconfig: string;

function kubectl(args: readonly string[], config = kubeconfig): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      'kubectl',
      ['--kubeconfig', config, '--cache-dir', join(dir, 'cache'), ...args],
      { timeout: 15_000, env: { ...process.env, HOME: dir, KUBECONFIG: '' } },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`kubectl could not run (is it installed?): ${error.message}`));
          return;
        }
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}

async function ok(args: readonly string[]): Promise<string> {
  const r = await kubectl(args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

const manifest = (replicas: number) => `apiVersion: v1
kind: Namespace
metadata:
  name: demo
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          ports:
            - containerPort: 80
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: demo
  labels: {app: web, role: config}
data:
  level: info
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: demo
  labels: {app: other}
stringData:
  token: s3cr3t
`;

beforeAll(async () => {
  fake = await startKubernetesFake({ rolloutDelayMs: 10 });
  dir = await mkdtemp(join(tmpdir(), 'zk-kubectl-'));
  kubeconfig = await fake.writeKubeconfig(dir);
  await writeFile(join(dir, 'app.yaml'), manifest(2));
  await writeFile(join(dir, 'app-5.yaml'), manifest(5));
});

afterAll(async () => {
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('kubectl against the fake', () => {
  it('lists namespaces (server-side Table printing)', async () => {
    const out = await ok(['get', 'ns']);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+AGE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual([
      'default Active',
      'kube-node-lease Active',
      'kube-public Active',
      'kube-system Active',
    ]);
    // Aggregated discovery answered: no per-group-version discovery requests were needed.
    expect(fake.requests.some((r) => r.path === '/apis/apps/v1')).toBe(false);
    expect(fake.requests.find((r) => r.path === '/api/v1/namespaces')?.verb).toBe('list');
  });

  it('kubectl create (protobuf bodies) makes namespaces, config maps, secrets and service accounts', async () => {
    expect((await ok(['create', 'namespace', 'pb'])).trim()).toBe('namespace/pb created');
    await ok(['create', 'configmap', 'cfg', '-n', 'pb', '--from-literal=a=1', '--from-literal=b=2']);
    await ok(['create', 'secret', 'generic', 'creds', '-n', 'pb', '--from-literal=token=s3cr3t']);
    await ok(['create', 'serviceaccount', 'robot', '-n', 'pb']);
    const creates = fake.requests.filter((r) => r.method === 'POST' && r.path.includes('/pb'));
    expect(creates.every((r) => r.contentType === 'application/vnd.kubernetes.protobuf')).toBe(true);
    expect(fake.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'pb', name: 'cfg' })?.data).toEqual({
      a: '1',
      b: '2',
    });
    const secret = fake.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'pb', name: 'creds' });
    expect(secret?.type).toBe('Opaque');
    expect(secret?.data).toEqual({ token: Buffer.from('s3cr3t').toString('base64') });
    expect(
      fake.get({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'pb', name: 'robot' }),
    ).toBeDefined();
    const dup = await kubectl(['create', 'namespace', 'pb']);
    expect(dup.stderr).toMatch(/namespaces "pb" already exists/);
  });

  it('applies server-side twice; the second apply changes nothing', async () => {
    const first = await ok(['apply', '--server-side', '--validate=false', '-f', join(dir, 'app.yaml')]);
    expect(first.trim().split('\n')).toEqual([
      'namespace/demo serverside-applied',
      'deployment.apps/web serverside-applied',
      'configmap/settings serverside-applied',
      'secret/creds serverside-applied',
    ]);
    await fake.settle();
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'demo' } as const;
    const before = fake.get(ref);
    const secretBefore = fake.get({ apiVersion: 'v1', kind: 'Secret', name: 'creds', namespace: 'demo' });
    expect(secretBefore?.data).toEqual({ token: Buffer.from('s3cr3t').toString('base64') });
    await ok(['apply', '--server-side', '--validate=false', '-f', join(dir, 'app.yaml')]);
    expect(fake.get(ref)?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
    expect(
      fake.get({ apiVersion: 'v1', kind: 'Secret', name: 'creds', namespace: 'demo' })?.metadata
        .resourceVersion,
    ).toBe(secretBefore?.metadata.resourceVersion);
    const managers = ((before?.metadata.managedFields ?? []) as { manager: string; operation: string }[]).map(
      (m) => `${m.manager}/${m.operation}`,
    );
    expect(managers).toContain('kubectl/Apply');
    const applies = fake.requests.filter((r) => r.method === 'PATCH');
    expect(
      applies.every((r) => r.contentType === 'application/apply-patch+yaml' && r.fieldManager === 'kubectl'),
    ).toBe(true);
  });

  it('applies with client-side validation too (OpenAPI v3 advertises server-side field validation)', async () => {
    const out = await ok(['apply', '--server-side', '-f', join(dir, 'app.yaml')]);
    expect(out).toContain('deployment.apps/web serverside-applied');
    expect(fake.requests.some((r) => r.path === '/openapi/v3')).toBe(true);
  });

  it('gets deployments across namespaces as JSON', async () => {
    const list = JSON.parse(await ok(['get', 'deploy', '-A', '-o', 'json'])) as {
      kind: string;
      items: {
        kind: string;
        metadata: { name: string; namespace: string; generation: number };
        status: { readyReplicas?: number };
      }[];
    };
    expect(list.kind).toBe('List');
    expect(list.items.map((d) => `${d.kind} ${d.metadata.namespace}/${d.metadata.name}`)).toEqual([
      'Deployment demo/web',
    ]);
    expect(list.items[0]?.status.readyReplicas).toBe(2);
    const table = await ok(['get', 'deploy', '-n', 'demo']);
    expect(table).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+2\/2\s+2\s+2\s+\d+s\n$/);
  });

  it('selects by label', async () => {
    const names = await ok(['get', 'cm,secret', '-n', 'demo', '-l', 'app=web', '-o', 'name']);
    expect(names.trim().split('\n')).toEqual(['configmap/settings']);
    const notWeb = await ok(['get', 'cm,secret', '-n', 'demo', '-l', 'app!=web', '-o', 'name']);
    expect(notWeb.trim().split('\n')).toEqual(['secret/creds']);
  });

  it('reports an apply conflict with another field manager, and resolves it with --force-conflicts', async () => {
    const conflict = await kubectl([
      'apply',
      '--server-side',
      '--validate=false',
      '--field-manager',
      'autoscaler',
      '-f',
      join(dir, 'app-5.yaml'),
    ]);
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toContain(
      'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas',
    );
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'demo' } as const;
    expect((fake.get(ref)?.spec as { replicas: number } | undefined)?.replicas).toBe(2);
    await ok([
      'apply',
      '--server-side',
      '--validate=false',
      '--field-manager',
      'autoscaler',
      '--force-conflicts',
      '-f',
      join(dir, 'app-5.yaml'),
    ]);
    const after = fake.get(ref);
    expect((after?.spec as { replicas: number } | undefined)?.replicas).toBe(5);
    expect(after?.metadata.generation).toBe(2);
    const owners = (
      (after?.metadata.managedFields ?? []) as {
        manager: string;
        fieldsV1: { 'f:spec'?: Record<string, unknown> };
      }[]
    )
      .filter((m) => m.fieldsV1['f:spec'] && 'f:replicas' in (m.fieldsV1['f:spec'] ?? {}))
      .map((m) => m.manager);
    expect(owners).toEqual(['autoscaler']);
  });

  it('deletes objects and namespaces (waiting until they are gone)', async () => {
    const out = await ok(['delete', 'configmap', 'settings', '-n', 'demo']);
    expect(out.trim()).toBe('configmap "settings" deleted');
    expect(
      fake.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'settings', namespace: 'demo' }),
    ).toBeUndefined();
    const missing = await kubectl(['delete', 'configmap', 'settings', '-n', 'demo']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim()).toBe('Error from server (NotFound): configmaps "settings" not found');
    const ns = await ok(['delete', 'namespace', 'demo']);
    expect(ns.trim()).toBe('namespace "demo" deleted');
    expect(fake.objects({ namespace: 'demo' })).toEqual([]);
    expect(fake.get({ apiVersion: 'v1', kind: 'Namespace', name: 'demo' })).toBeUndefined();
  });

  it('is refused with a wrong token', async () => {
    const badConfig = await fake.writeKubeconfig(join(dir, 'bad'), { token: 'not-the-token' });
    const r = await kubectl(['get', 'ns'], badConfig);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('You must be logged in to the server');
  });
});
