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

  describe('kubectl logs (the lines from a PodLogSource, as a kubelet would serve them)', () => {
    const t0 = new Date('2026-12-02T10:00:00.000Z');
    const lines = ['starting', 'listening on :8080', 'request 1', 'request 2'].map((text, i) => ({
      time: new Date(t0.getTime() + i * 1000),
      text,
    }));
    let followers: ((line: { time: Date; text: string }) => void)[] = [];
    let enders: (() => void)[] = [];
    const asked: unknown[] = [];

    beforeAll(() => {
      fake.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'logs' } });
      fake.put({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'echo', namespace: 'logs' },
        spec: {
          selector: { matchLabels: { app: 'echo' } },
          template: {
            metadata: { labels: { app: 'echo' } },
            spec: { containers: [{ name: 'echo', image: 'echo:1' }] },
          },
        },
      });
      const pod = (name: string, labels: Record<string, string>, nodeName?: string, containers = ['echo']) =>
        fake.put({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, namespace: 'logs', labels },
          spec: {
            ...(nodeName === undefined ? {} : { nodeName }),
            containers: containers.map((c) => ({ name: c, image: 'echo:1' })),
          },
        });
      pod('echo-5d8f7c9b4-x2k7q', { app: 'echo' }, 'node-1');
      pod('pair', { app: 'pair' }, 'node-1', ['main', 'sidecar']);
      pod('unscheduled', { app: 'unscheduled' });
      fake.setPodLogs((request) => {
        asked.push(request);
        if (request.pod === 'echo-5d8f7c9b4-x2k7q' && !request.previous) {
          return {
            lines,
            follow: (onLine, onEnd) => {
              followers.push(onLine);
              enders.push(onEnd);
              return () => {
                followers = followers.filter((f) => f !== onLine);
              };
            },
          };
        }
        if (request.pod === 'pair' && request.container === 'sidecar')
          return { lines: [{ time: t0, text: 'sidecar up' }] };
        return undefined;
      });
    });

    afterAll(() => fake.setPodLogs(undefined));

    it("reads a Deployment's pod through the label selector, with --tail, --timestamps and --limit-bytes", async () => {
      expect(await ok(['-n', 'logs', 'logs', 'deployment/echo', '--tail', '2'])).toBe(
        'request 1\nrequest 2\n',
      );
      expect(asked.at(-1)).toEqual({
        namespace: 'logs',
        pod: 'echo-5d8f7c9b4-x2k7q',
        container: 'echo',
        previous: false,
      });
      expect(await ok(['-n', 'logs', 'logs', 'echo-5d8f7c9b4-x2k7q', '--tail', '1', '--timestamps'])).toBe(
        '2026-12-02T10:00:03.000000000Z request 2\n',
      );
      expect(await ok(['-n', 'logs', 'logs', 'echo-5d8f7c9b4-x2k7q', '--limit-bytes', '12'])).toBe(
        'starting\nlis',
      );
      expect(await ok(['-n', 'logs', 'logs', 'pair', '-c', 'sidecar'])).toBe('sidecar up\n');
    });

    it('follows (-f) until the container stops', async () => {
      const running = kubectl(['-n', 'logs', 'logs', '-f', 'echo-5d8f7c9b4-x2k7q', '--tail', '1']);
      const deadline = Date.now() + 10_000;
      while (followers.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(followers).toHaveLength(1);
      followers[0]?.({ time: new Date(), text: 'request 3' });
      for (const end of enders) end();
      enders = [];
      const r = await running;
      expect(r).toMatchObject({ code: 0, stdout: 'request 2\nrequest 3\n' });
      expect(followers).toEqual([]);
    });

    it('answers the errors a real server does: unknown container, no previous run, not started, no pod', async () => {
      // kubectl checks a named container against the Pod itself (the server's own check, the same
      // words, is in real-apiserver.test.ts).
      const unknown = await kubectl(['-n', 'logs', 'logs', 'echo-5d8f7c9b4-x2k7q', '-c', 'nope']);
      expect(unknown.code).not.toBe(0);
      expect(unknown.stderr.trim()).toBe('error: container nope is not valid for pod echo-5d8f7c9b4-x2k7q');
      const previous = await kubectl(['-n', 'logs', 'logs', 'echo-5d8f7c9b4-x2k7q', '--previous']);
      expect(previous.stderr.trim()).toBe(
        'Error from server (BadRequest): previous terminated container "echo" in pod "echo-5d8f7c9b4-x2k7q" not found',
      );
      const waiting = await kubectl(['-n', 'logs', 'logs', 'pair', '-c', 'main']);
      expect(waiting.stderr.trim()).toBe(
        'Error from server (BadRequest): container "main" in pod "pair" is waiting to start: ContainerCreating',
      );
      // Unscheduled: nothing to ask, no content (a real server answers 204 too).
      expect(await ok(['-n', 'logs', 'logs', 'unscheduled'])).toBe('');
      const missing = await kubectl(['-n', 'logs', 'logs', 'gone']);
      expect(missing.stderr.trim()).toBe(
        'error: error from server (NotFound): pods "gone" not found in namespace "logs"',
      );
    });
  });

  it('is refused with a wrong token', async () => {
    const badConfig = await fake.writeKubeconfig(join(dir, 'bad'), { token: 'not-the-token' });
    const r = await kubectl(['get', 'ns'], badConfig);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('You must be logged in to the server');
  });
});
