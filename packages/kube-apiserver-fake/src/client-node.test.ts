/**
 * The fake driven by the real `@kubernetes/client-node` 1.4.0 over HTTPS (typed APIs and
 * `KubernetesObjectApi`), error paths included.
 */

import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubernetesFake, startKubernetesFake } from './index.js';

interface Status {
  kind: string;
  status: string;
  message: string;
  reason: string;
  code: number;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: { reason: string; message: string; field?: string }[];
  };
}

async function apiError(promise: Promise<unknown>): Promise<{ code: number; status: Status }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof k8s.ApiException) {
      expect(typeof error.body).toBe('string');
      return { code: error.code, status: JSON.parse(error.body as string) as Status };
    }
    throw error;
  }
  throw new Error('expected the call to fail with an ApiException');
}

async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 3000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const header = (strategy: string) => k8s.setHeaderOptions('Content-Type', strategy);

let fake: KubernetesFake;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;
let rbac: k8s.RbacAuthorizationV1Api;
let coordination: k8s.CoordinationV1Api;
let objects: k8s.KubernetesObjectApi;

beforeAll(async () => {
  fake = await startKubernetesFake({ rolloutDelayMs: 20 });
  kc = new k8s.KubeConfig();
  kc.loadFromOptions(fake.kubeconfig({ namespace: 'default' }).options);
  core = kc.makeApiClient(k8s.CoreV1Api);
  apps = kc.makeApiClient(k8s.AppsV1Api);
  rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  coordination = kc.makeApiClient(k8s.CoordinationV1Api);
  objects = k8s.KubernetesObjectApi.makeApiClient(kc);
});

afterAll(async () => {
  await fake?.stop();
});

function deployment(
  name: string,
  namespace: string,
  extra: Partial<k8s.V1DeploymentSpec> = {},
): k8s.V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'main', image: 'registry.k8s.io/external-dns/external-dns:v0.15.0' }] },
      },
      ...extra,
    },
  };
}

describe('namespaces', () => {
  it('creates, reads and lists namespaces with server-set metadata', async () => {
    const created = await core.createNamespace({
      body: { metadata: { name: 'ns-a', labels: { team: 'a' } } },
    });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(0);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(created.metadata?.creationTimestamp?.getUTCMilliseconds()).toBe(0);
    expect(created.metadata?.labels).toEqual({ team: 'a', 'kubernetes.io/metadata.name': 'ns-a' });
    expect(created.status?.phase).toBe('Active');
    expect(created.spec?.finalizers).toEqual(['kubernetes']);
    const read = await core.readNamespace({ name: 'ns-a' });
    expect(read.metadata?.uid).toBe(created.metadata?.uid);
    const list = await core.listNamespace({ labelSelector: 'team=a' });
    expect(list.kind).toBe('NamespaceList');
    expect(list.items.map((n) => n.metadata?.name)).toEqual(['ns-a']);
    // The real service-account controller creates "default" in every namespace.
    // The creator owns the defaulted name label, not the finalizer set after the field manager ran.
    expect(created.metadata?.managedFields?.map((m) => [m.manager, m.operation, m.fieldsV1])).toEqual([
      [
        'node-fetch',
        'Update',
        { 'f:metadata': { 'f:labels': { '.': {}, 'f:kubernetes.io/metadata.name': {}, 'f:team': {} } } },
      ],
    ]);
    const sas = await core.listNamespacedServiceAccount({ namespace: 'ns-a' });
    expect(sas.items.map((s) => s.metadata?.name)).toEqual(['default']);
  });

  it('answers 404 NotFound and 409 AlreadyExists with the real Status bodies', async () => {
    const missing = await apiError(core.readNamespace({ name: 'nope' }));
    expect(missing.code).toBe(404);
    expect(missing.status).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'NotFound',
      message: 'namespaces "nope" not found',
      code: 404,
      details: { name: 'nope', kind: 'namespaces' },
    });
    const inMissing = await apiError(
      core.createNamespacedConfigMap({
        namespace: 'nope',
        body: { metadata: { name: 'x' }, data: { a: 'b' } },
      }),
    );
    expect(inMissing.code).toBe(404);
    expect(inMissing.status.message).toBe('namespaces "nope" not found');
    await core.createNamespace({ body: { metadata: { name: 'ns-dup' } } });
    const dup = await apiError(core.createNamespace({ body: { metadata: { name: 'ns-dup' } } }));
    expect(dup.code).toBe(409);
    expect(dup.status).toMatchObject({
      reason: 'AlreadyExists',
      message: 'namespaces "ns-dup" already exists',
    });
  });

  it('deletes a namespace: Terminating first, then gone once its contents are deleted', async () => {
    await core.createNamespace({ body: { metadata: { name: 'ns-del' } } });
    await core.createNamespacedSecret({
      namespace: 'ns-del',
      body: { metadata: { name: 's' }, stringData: { a: 'b' } },
    });
    // The DELETE answers the Namespace itself (client-node decodes it as a V1Status, keeping `kind`).
    const deleted = (await core.deleteNamespace({
      name: 'ns-del',
      propagationPolicy: 'Background',
    })) as unknown as k8s.V1Namespace;
    expect(deleted.kind).toBe('Namespace');
    expect(deleted.status?.phase).toBe('Terminating');
    await eventually(
      () => apiError(core.readNamespace({ name: 'ns-del' })).catch(() => ({ code: 200 })),
      (r) => r.code === 404,
    );
    expect(fake.objects({ namespace: 'ns-del' })).toEqual([]);
  });

  it('forbids creating content in a Terminating namespace (403)', async () => {
    await core.createNamespace({ body: { metadata: { name: 'ns-term' } } });
    // A finalizer keeps the ConfigMap, hence the namespace, around while we try.
    await core.createNamespacedConfigMap({
      namespace: 'ns-term',
      body: { metadata: { name: 'held', finalizers: ['example.com/hold'] }, data: { a: 'b' } },
    });
    await core.deleteNamespace({ name: 'ns-term' });
    await fake.settle();
    const forbidden = await apiError(
      core.createNamespacedSecret({ namespace: 'ns-term', body: { metadata: { name: 's' } } }),
    );
    expect(forbidden.code).toBe(403);
    expect(forbidden.status).toMatchObject({
      reason: 'Forbidden',
      message:
        'secrets "s" is forbidden: unable to create new content in namespace ns-term because it is being terminated',
    });
    const held = await core.readNamespacedConfigMap({ name: 'held', namespace: 'ns-term' });
    expect(held.metadata?.deletionTimestamp).toBeDefined();
    await core.patchNamespacedConfigMap(
      { name: 'held', namespace: 'ns-term', body: { metadata: { finalizers: null } } },
      header(k8s.PatchStrategy.MergePatch),
    );
    await fake.settle();
    expect((await apiError(core.readNamespace({ name: 'ns-term' }))).code).toBe(404);
  });
});

describe('secrets, configmaps and service accounts', () => {
  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: 'data' } } });
  });

  it('folds stringData into base64 data (write-only)', async () => {
    const created = await core.createNamespacedSecret({
      namespace: 'data',
      body: {
        metadata: { name: 'creds' },
        stringData: { user: 'admin' },
        data: { other: Buffer.from('x').toString('base64') },
      },
    });
    expect(created.stringData).toBeUndefined();
    expect(created.type).toBe('Opaque');
    expect(created.data).toEqual({ user: Buffer.from('admin').toString('base64'), other: 'eA==' });
    const read = await core.readNamespacedSecret({ name: 'creds', namespace: 'data' });
    expect(read.stringData).toBeUndefined();
    expect(Buffer.from(read.data?.user ?? '', 'base64').toString()).toBe('admin');
  });

  it('replaces with optimistic concurrency; an unchanged replace keeps the resourceVersion', async () => {
    const created = await core.createNamespacedConfigMap({
      namespace: 'data',
      body: { metadata: { name: 'cm' }, data: { a: '1' } },
    });
    const rv1 = created.metadata?.resourceVersion as string;
    const same = await core.replaceNamespacedConfigMap({ name: 'cm', namespace: 'data', body: created });
    expect(same.metadata?.resourceVersion).toBe(rv1);
    const updated = await core.replaceNamespacedConfigMap({
      name: 'cm',
      namespace: 'data',
      body: { ...created, data: { a: '2' } },
    });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(Number(rv1));
    const stale = await apiError(
      core.replaceNamespacedConfigMap({
        name: 'cm',
        namespace: 'data',
        body: { ...created, data: { a: '3' } },
      }),
    );
    expect(stale.code).toBe(409);
    expect(stale.status).toMatchObject({
      reason: 'Conflict',
      message:
        'Operation cannot be fulfilled on configmaps "cm": the object has been modified; please apply your changes to the latest version and try again',
    });
    // Without a resourceVersion the update is unconditional.
    const { resourceVersion: _rv, ...metaWithoutRv } = updated.metadata ?? {};
    const unconditional = await core.replaceNamespacedConfigMap({
      name: 'cm',
      namespace: 'data',
      body: { ...updated, metadata: metaWithoutRv, data: { a: '4' } },
    });
    expect(unconditional.data).toEqual({ a: '4' });
  });

  it('rejects a change of an immutable Secret type with 422 Invalid and causes', async () => {
    const s = await core.createNamespacedSecret({
      namespace: 'data',
      body: { metadata: { name: 'typed' }, data: { a: 'Yg==' } },
    });
    const err = await apiError(
      core.replaceNamespacedSecret({
        name: 'typed',
        namespace: 'data',
        body: { ...s, type: 'example.com/other' },
      }),
    );
    expect(err.code).toBe(422);
    expect(err.status).toMatchObject({
      reason: 'Invalid',
      message: 'Secret "typed" is invalid: type: Invalid value: "example.com/other": field is immutable',
      details: {
        name: 'typed',
        kind: 'Secret',
        causes: [
          {
            reason: 'FieldValueInvalid',
            message: 'Invalid value: "example.com/other": field is immutable',
            field: 'type',
          },
        ],
      },
    });
  });

  it('validates kubernetes.io/tls secrets', async () => {
    const err = await apiError(
      core.createNamespacedSecret({
        namespace: 'data',
        body: { metadata: { name: 'tls' }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'x' } },
      }),
    );
    expect(err.code).toBe(422);
    expect(err.status.message).toBe('Secret "tls" is invalid: data[tls.key]: Required value');
  });

  it('lists with label selectors, field selectors and pagination', async () => {
    await core.createNamespace({ body: { metadata: { name: 'sel' } } });
    const labels: Record<string, Record<string, string>> = {
      a: { app: 'web', tier: 'front' },
      b: { app: 'web', tier: 'back' },
      c: { app: 'db' },
      d: {},
    };
    for (const [name, l] of Object.entries(labels)) {
      await core.createNamespacedConfigMap({ namespace: 'sel', body: { metadata: { name, labels: l } } });
    }
    const names = async (labelSelector?: string, fieldSelector?: string): Promise<string[]> =>
      (
        await core.listNamespacedConfigMap({
          namespace: 'sel',
          ...(labelSelector ? { labelSelector } : {}),
          ...(fieldSelector ? { fieldSelector } : {}),
        })
      ).items.map((i) => i.metadata?.name as string);
    expect(await names('app=web')).toEqual(['a', 'b']);
    expect(await names('app==web,tier=back')).toEqual(['b']);
    expect(await names('app!=web')).toEqual(['c', 'd']);
    expect(await names('app in (db, web),tier notin (front)')).toEqual(['b', 'c']);
    expect(await names('tier')).toEqual(['a', 'b']);
    expect(await names('!app')).toEqual(['d']);
    expect(await names(undefined, 'metadata.name=c')).toEqual(['c']);
    expect(await names(undefined, 'metadata.name!=c,metadata.namespace=sel')).toEqual(['a', 'b', 'd']);
    const bad = await apiError(
      core.listNamespacedConfigMap({ namespace: 'sel', labelSelector: 'app in web' }),
    );
    expect(bad.code).toBe(400);
    expect(bad.status.reason).toBe('BadRequest');
    const badField = await apiError(
      core.listNamespacedConfigMap({ namespace: 'sel', fieldSelector: 'spec.x=1' }),
    );
    expect(badField.status.message).toBe('field label not supported: spec.x');

    const page1 = await core.listNamespacedConfigMap({ namespace: 'sel', limit: 3 });
    expect(page1.items.map((i) => i.metadata?.name)).toEqual(['a', 'b', 'c']);
    expect(page1.metadata?._continue).toBeTruthy();
    expect(page1.metadata?.remainingItemCount).toBe(1);
    // Items come without kind/apiVersion, like the real server.
    expect(page1.items[0]?.kind).toBeUndefined();
    const page2 = await core.listNamespacedConfigMap({
      namespace: 'sel',
      limit: 3,
      _continue: page1.metadata?._continue as string,
    });
    expect(page2.items.map((i) => i.metadata?.name)).toEqual(['d']);
    expect(page2.metadata?._continue).toBeUndefined();
  });

  it('patches with JSON patch (default), merge patch and strategic merge patch', async () => {
    await core.createNamespacedConfigMap({
      namespace: 'data',
      body: { metadata: { name: 'p', labels: { a: '1' } }, data: { x: '1' } },
    });
    const json = await core.patchNamespacedConfigMap({
      name: 'p',
      namespace: 'data',
      body: [
        { op: 'add', path: '/data/y', value: '2' },
        { op: 'test', path: '/data/x', value: '1' },
      ],
    });
    expect(json.data).toEqual({ x: '1', y: '2' });
    const merge = await core.patchNamespacedConfigMap(
      { name: 'p', namespace: 'data', body: { data: { x: null, z: '3' } } },
      header(k8s.PatchStrategy.MergePatch),
    );
    expect(merge.data).toEqual({ y: '2', z: '3' });
    const noop = await core.patchNamespacedConfigMap(
      { name: 'p', namespace: 'data', body: { data: { z: '3' } } },
      header(k8s.PatchStrategy.MergePatch),
    );
    expect(noop.metadata?.resourceVersion).toBe(merge.metadata?.resourceVersion);
    const failedTest = await apiError(
      core.patchNamespacedConfigMap({
        name: 'p',
        namespace: 'data',
        body: [{ op: 'test', path: '/data/y', value: 'nope' }],
      }),
    );
    expect(failedTest.code).toBe(422);
    const objectBody = await apiError(
      core.patchNamespacedConfigMap({ name: 'p', namespace: 'data', body: { data: { a: 'b' } } }),
    );
    expect(objectBody.code).toBe(400);
    expect(objectBody.status.message).toBe(
      'json: cannot unmarshal object into Go value of type jsonpatch.Patch',
    );
    const unsupported = await apiError(
      core.patchNamespacedConfigMap(
        { name: 'p', namespace: 'data', body: { data: {} } },
        header('application/xml'),
      ),
    );
    expect(unsupported.code).toBe(415);
    expect(unsupported.status.reason).toBe('UnsupportedMediaType');
  });

  it('deletes with a Status (and answers 404 afterwards)', async () => {
    await core.createNamespacedServiceAccount({ namespace: 'data', body: { metadata: { name: 'robot' } } });
    const sa = await core.deleteNamespacedServiceAccount({ name: 'robot', namespace: 'data' });
    // ServiceAccounts return the deleted object, like the real registry.
    expect(sa.metadata?.name).toBe('robot');
    await core.createNamespacedConfigMap({ namespace: 'data', body: { metadata: { name: 'gone' } } });
    const status = await core.deleteNamespacedConfigMap({
      name: 'gone',
      namespace: 'data',
      propagationPolicy: 'Background',
    });
    expect(status).toMatchObject({
      kind: 'Status',
      status: 'Success',
      details: { name: 'gone', kind: 'configmaps' },
    });
    const again = await apiError(core.deleteNamespacedConfigMap({ name: 'gone', namespace: 'data' }));
    expect(again.status).toMatchObject({ code: 404, message: 'configmaps "gone" not found' });
  });

  it('a Foreground delete keeps the object with its foregroundDeletion finalizer until the garbage collector removes it', async () => {
    await using slow = await startKubernetesFake({ garbageCollectionDelayMs: 300 });
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions(slow.kubeconfig().options);
    const api = kc.makeApiClient(k8s.CoreV1Api);
    await api.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'fg' } } });
    await api.deleteNamespacedConfigMap({
      name: 'fg',
      namespace: 'default',
      propagationPolicy: 'Foreground',
    });
    const pending = await api.readNamespacedConfigMap({ name: 'fg', namespace: 'default' });
    expect(pending.metadata?.finalizers).toEqual(['foregroundDeletion']);
    expect(pending.metadata?.deletionTimestamp).toBeDefined();
    await slow.settle();
    const gone = await apiError(api.readNamespacedConfigMap({ name: 'fg', namespace: 'default' }));
    expect(gone.status).toMatchObject({ code: 404 });
  });
});

describe('deployments', () => {
  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: 'apps' } } });
  });

  it('defaults, bumps generation on spec changes only, and reports a successful rollout', async () => {
    const body = deployment('web', 'apps');
    delete body.spec?.replicas;
    const created = await apps.createNamespacedDeployment({ namespace: 'apps', body });
    expect(created.metadata?.generation).toBe(1);
    expect(created.spec?.replicas).toBe(1);
    expect(created.spec?.revisionHistoryLimit).toBe(10);
    expect(created.spec?.progressDeadlineSeconds).toBe(600);
    expect(created.spec?.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' },
    });
    expect(created.spec?.template.spec?.containers[0]?.imagePullPolicy).toBe('IfNotPresent');
    expect(created.status).toBeUndefined();

    const rolledOut = await eventually(
      () => apps.readNamespacedDeploymentStatus({ name: 'web', namespace: 'apps' }),
      (d) =>
        d.status?.conditions?.some(
          (c) => c.type === 'Progressing' && c.reason === 'NewReplicaSetAvailable',
        ) === true,
    );
    expect(rolledOut.status).toMatchObject({
      observedGeneration: 1,
      replicas: 1,
      updatedReplicas: 1,
      readyReplicas: 1,
      availableReplicas: 1,
    });
    expect(rolledOut.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Available', 'True', 'MinimumReplicasAvailable'],
      ['Progressing', 'True', 'NewReplicaSetAvailable'],
    ]);
    // Status writes bump the resourceVersion but not the generation.
    expect(Number(rolledOut.metadata?.resourceVersion)).toBeGreaterThan(
      Number(created.metadata?.resourceVersion),
    );
    expect(rolledOut.metadata?.generation).toBe(1);

    const labelled = await apps.patchNamespacedDeployment(
      { name: 'web', namespace: 'apps', body: { metadata: { labels: { extra: 'yes' } } } },
      header(k8s.PatchStrategy.MergePatch),
    );
    expect(labelled.metadata?.generation).toBe(1);
    const scaled = await apps.patchNamespacedDeployment(
      { name: 'web', namespace: 'apps', body: { spec: { replicas: 3 } } },
      header(k8s.PatchStrategy.StrategicMergePatch),
    );
    expect(scaled.metadata?.generation).toBe(2);
    const done = await eventually(
      () => apps.readNamespacedDeployment({ name: 'web', namespace: 'apps' }),
      (d) => d.status?.observedGeneration === 2 && d.status.availableReplicas === 3,
    );
    expect(done.status?.readyReplicas).toBe(3);
  });

  it('merges containers, env and ports by key with strategic merge patch', async () => {
    await apps.createNamespacedDeployment({ namespace: 'apps', body: deployment('smp', 'apps') });
    const patched = await apps.patchNamespacedDeployment(
      {
        name: 'smp',
        namespace: 'apps',
        body: {
          spec: {
            template: {
              spec: {
                containers: [
                  { name: 'main', env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 7979 }] },
                  { name: 'sidecar', image: 'busybox:1.36' },
                ],
              },
            },
          },
        },
      },
      header(k8s.PatchStrategy.StrategicMergePatch),
    );
    const containers = patched.spec?.template.spec?.containers ?? [];
    expect(containers.map((c) => c.name)).toEqual(['main', 'sidecar']);
    expect(containers[0]?.image).toBe('registry.k8s.io/external-dns/external-dns:v0.15.0');
    expect(containers[0]?.env).toEqual([{ name: 'A', value: '1' }]);
    expect(containers[0]?.ports).toEqual([{ containerPort: 7979, protocol: 'TCP' }]);
    const again = await apps.patchNamespacedDeployment(
      {
        name: 'smp',
        namespace: 'apps',
        body: {
          spec: {
            template: {
              spec: {
                containers: [
                  { name: 'main', env: [{ name: 'B', value: '2' }] },
                  { name: 'sidecar', $patch: 'delete' },
                ],
              },
            },
          },
        },
      },
      header(k8s.PatchStrategy.StrategicMergePatch),
    );
    expect(again.spec?.template.spec?.containers.map((c) => c.name)).toEqual(['main']);
    expect(again.spec?.template.spec?.containers[0]?.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ]);
  });

  it('rejects invalid deployments and selector changes with 422', async () => {
    const noSelector = deployment('bad', 'apps');
    delete (noSelector.spec as Partial<k8s.V1DeploymentSpec>).selector;
    const missing = await apiError(apps.createNamespacedDeployment({ namespace: 'apps', body: noSelector }));
    expect(missing.code).toBe(422);
    expect(missing.status.message).toBe(
      'Deployment.apps "bad" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: map[string]string{"app":"bad"}: `selector` does not match template `labels`]',
    );
    expect(missing.status.details?.causes?.map((c) => c.field)).toEqual([
      'spec.selector',
      'spec.template.metadata.labels',
    ]);
    const mismatch = deployment('bad', 'apps', { selector: { matchLabels: { app: 'other' } } });
    const m = await apiError(apps.createNamespacedDeployment({ namespace: 'apps', body: mismatch }));
    expect(m.status.details?.causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: map[string]string{"app":"bad"}: `selector` does not match template `labels`',
        field: 'spec.template.metadata.labels',
      },
    ]);
    await apps.createNamespacedDeployment({ namespace: 'apps', body: deployment('fixed', 'apps') });
    const immutable = await apiError(
      apps.patchNamespacedDeployment(
        {
          name: 'fixed',
          namespace: 'apps',
          body: {
            spec: {
              selector: { matchLabels: { app: 'fixed', v: '2' } },
              template: { metadata: { labels: { v: '2' } } },
            },
          },
        },
        header(k8s.PatchStrategy.StrategicMergePatch),
      ),
    );
    expect(immutable.code).toBe(422);
    expect(immutable.status.details?.causes?.[0]).toMatchObject({ field: 'spec.selector' });
    expect(immutable.status.message).toContain('field is immutable');
  });

  it('reports ProgressDeadlineExceeded for a failing rollout, and recovers', async () => {
    fake.failRollout('apps', 'broken');
    await apps.createNamespacedDeployment({ namespace: 'apps', body: deployment('broken', 'apps') });
    const failed = await eventually(
      () => apps.readNamespacedDeploymentStatus({ name: 'broken', namespace: 'apps' }),
      (d) => d.status?.conditions?.some((c) => c.type === 'Progressing' && c.status === 'False') === true,
    );
    const progressing = failed.status?.conditions?.find((c) => c.type === 'Progressing');
    expect(progressing?.reason).toBe('ProgressDeadlineExceeded');
    expect(progressing?.message).toMatch(/^ReplicaSet "broken-[a-z0-9]{10}" has timed out progressing\.$/);
    expect(failed.status?.availableReplicas).toBeUndefined();
    expect(failed.status?.unavailableReplicas).toBe(2);
    fake.recoverRollout('apps', 'broken');
    const healed = await eventually(
      () => apps.readNamespacedDeployment({ name: 'broken', namespace: 'apps' }),
      (d) => d.status?.conditions?.some((c) => c.reason === 'NewReplicaSetAvailable') === true,
    );
    expect(healed.status?.availableReplicas).toBe(2);
  });

  it('serves the /status subresource: status writes do not touch spec or generation', async () => {
    await apps.createNamespacedDeployment({ namespace: 'apps', body: deployment('st', 'apps') });
    await fake.settle();
    const before = await apps.readNamespacedDeployment({ name: 'st', namespace: 'apps' });
    const after = await apps.patchNamespacedDeploymentStatus(
      { name: 'st', namespace: 'apps', body: { spec: { replicas: 9 }, status: { observedGeneration: 7 } } },
      header(k8s.PatchStrategy.MergePatch),
    );
    expect(after.status?.observedGeneration).toBe(7);
    expect(after.spec?.replicas).toBe(2);
    expect(after.metadata?.generation).toBe(before.metadata?.generation);
    expect(Number(after.metadata?.resourceVersion)).toBeGreaterThan(Number(before.metadata?.resourceVersion));
  });
});

describe('RBAC and leases', () => {
  it('creates cluster roles and bindings; roleRef is immutable', async () => {
    await rbac.createClusterRole({
      body: {
        metadata: { name: 'zk-reader' },
        rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }],
      },
    });
    const binding = await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'zk-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'zk-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'external-dns', namespace: 'apps' }],
      },
    });
    const err = await apiError(
      rbac.replaceClusterRoleBinding({
        name: 'zk-reader',
        body: {
          ...binding,
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
        },
      }),
    );
    expect(err.code).toBe(422);
    expect(err.status.message).toBe(
      'ClusterRoleBinding.rbac.authorization.k8s.io "zk-reader" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"admin"}: cannot change roleRef',
    );
    const list = await rbac.listClusterRoleBinding();
    expect(list.items.map((b) => b.metadata?.name)).toContain('zk-reader');
  });

  it('replaces leases with optimistic concurrency (leader election)', async () => {
    const lease = await coordination.createNamespacedLease({
      namespace: 'default',
      body: { metadata: { name: 'lock' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } },
    });
    expect(lease.spec?.holderIdentity).toBe('a');
    const taken = await coordination.replaceNamespacedLease({
      name: 'lock',
      namespace: 'default',
      body: { ...lease, spec: { ...lease.spec, holderIdentity: 'b' } },
    });
    expect(taken.spec?.holderIdentity).toBe('b');
    const lost = await apiError(
      coordination.replaceNamespacedLease({
        name: 'lock',
        namespace: 'default',
        body: { ...lease, spec: { ...lease.spec, holderIdentity: 'c' } },
      }),
    );
    expect(lost.code).toBe(409);
    expect(lost.status.reason).toBe('Conflict');
  });

  it('MicroTimes need six fractional digits: a Date (serialised with milliseconds) is a 400, as on a real server', async () => {
    const bad = await apiError(
      coordination.createNamespacedLease({
        namespace: 'default',
        body: {
          metadata: { name: 'dated' },
          spec: { renewTime: new Date('2030-01-01T00:00:00.123Z') as unknown as k8s.V1MicroTime },
        },
      }),
    );
    expect(bad.code).toBe(400);
    expect(bad.status.message).toBe(
      'Lease in version "v1" cannot be handled as a Lease: parsing time "2030-01-01T00:00:00.123Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".123Z" as ".000000"',
    );
    fake.put({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'micro', namespace: 'default' },
      spec: { renewTime: '2030-01-01T02:00:00.123456+02:00' },
    });
    const raw = fake.get({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      name: 'micro',
      namespace: 'default',
    });
    expect((raw?.spec as { renewTime: string } | undefined)?.renewTime).toBe('2030-01-01T00:00:00.123456Z');
  });
});

describe('server-side apply', () => {
  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: 'ssa' } } });
  });

  it('creates with KubernetesObjectApi after discovery, and re-applying unchanged changes nothing', async () => {
    fake.clearRequests();
    const spec = deployment('dns', 'ssa') as k8s.KubernetesObject;
    const created = (await objects.patch(
      spec,
      undefined,
      undefined,
      'zonekeeper',
      true,
      k8s.PatchStrategy.ServerSideApply,
    )) as k8s.V1Deployment;
    expect(created.metadata?.generation).toBe(1);
    const paths = fake.requests.map((r) => `${r.method} ${r.path}`);
    expect(paths).toContain('GET /apis/apps/v1');
    const applyRequest = fake.requests.find((r) => r.method === 'PATCH');
    expect(applyRequest).toMatchObject({
      contentType: 'application/apply-patch+yaml',
      fieldManager: 'zonekeeper',
      query: { fieldManager: 'zonekeeper', force: 'true' },
      status: 201,
    });
    const entry = created.metadata?.managedFields?.find((m) => m.manager === 'zonekeeper');
    expect(entry).toMatchObject({ operation: 'Apply', apiVersion: 'apps/v1', fieldsType: 'FieldsV1' });
    expect(entry?.fieldsV1).toEqual({
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:replicas': {},
        'f:selector': {},
        'f:template': {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': { 'f:containers': { 'k:{"name":"main"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
        },
      },
    });
    await fake.settle();
    const settled = await apps.readNamespacedDeployment({ name: 'dns', namespace: 'ssa' });
    const again = (await objects.patch(
      spec,
      undefined,
      undefined,
      'zonekeeper',
      true,
      k8s.PatchStrategy.ServerSideApply,
    )) as k8s.V1Deployment;
    expect(again.metadata?.resourceVersion).toBe(settled.metadata?.resourceVersion);
    expect(again.metadata?.generation).toBe(1);
  });

  it('reports conflicts between managers (409 FieldManagerConflict) and transfers ownership with force', async () => {
    const mine = deployment('conf', 'ssa') as k8s.KubernetesObject;
    await objects.patch(mine, undefined, undefined, 'zonekeeper', false, k8s.PatchStrategy.ServerSideApply);
    const theirs = deployment('conf', 'ssa', { replicas: 5 }) as k8s.KubernetesObject;
    const conflict = await apiError(
      objects.patch(theirs, undefined, undefined, 'hpa', false, k8s.PatchStrategy.ServerSideApply),
    );
    expect(conflict.code).toBe(409);
    expect(conflict.status).toMatchObject({
      reason: 'Conflict',
      message: 'Apply failed with 1 conflict: conflict with "zonekeeper": .spec.replicas',
      details: {
        causes: [
          { reason: 'FieldManagerConflict', message: 'conflict with "zonekeeper"', field: '.spec.replicas' },
        ],
      },
    });
    // Applying the same value is not a conflict: both managers then own the field.
    const shared = (await objects.patch(
      deployment('conf', 'ssa'),
      undefined,
      undefined,
      'other',
      false,
      k8s.PatchStrategy.ServerSideApply,
    )) as k8s.V1Deployment;
    const appliers = (shared.metadata?.managedFields ?? [])
      .filter((m) => m.operation === 'Apply')
      .map((m) => m.manager);
    expect(appliers.sort()).toEqual(['other', 'zonekeeper']);

    const forced = (await objects.patch(
      theirs,
      undefined,
      undefined,
      'hpa',
      true,
      k8s.PatchStrategy.ServerSideApply,
    )) as k8s.V1Deployment;
    expect(forced.spec?.replicas).toBe(5);
    const owners = (field: string) =>
      (forced.metadata?.managedFields ?? [])
        .filter((m) =>
          JSON.stringify((m.fieldsV1 as Record<string, unknown> | undefined)?.['f:spec'] ?? {}).includes(
            field,
          ),
        )
        .map((m) => m.manager)
        .sort();
    expect(owners('"f:replicas"')).toEqual(['hpa']);
    expect(owners('"f:image"')).toEqual(['hpa', 'other', 'zonekeeper']);
  });

  it('removes fields an applier stops applying unless another manager owns them', async () => {
    const withLabels = (labels: Record<string, string>): k8s.V1ConfigMap => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'owned', namespace: 'ssa', labels },
      data: { a: '1' },
    });
    await objects.patch(
      withLabels({ keep: '1', drop: '1', shared: '1' }),
      undefined,
      undefined,
      'zonekeeper',
      undefined,
      k8s.PatchStrategy.ServerSideApply,
    );
    await core.patchNamespacedConfigMap(
      {
        name: 'owned',
        namespace: 'ssa',
        body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owned', labels: { shared: '1' } } },
        fieldManager: 'someone-else',
      },
      header(k8s.PatchStrategy.ServerSideApply),
    );
    const after = await core.patchNamespacedConfigMap(
      { name: 'owned', namespace: 'ssa', body: withLabels({ keep: '1' }), fieldManager: 'zonekeeper' },
      header(k8s.PatchStrategy.ServerSideApply),
    );
    expect(after.metadata?.labels).toEqual({ keep: '1', shared: '1' });
  });

  it('requires fieldManager (422) and rejects managedFields in the body (400)', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'ssa' } };
    const noManager = await apiError(
      core.patchNamespacedConfigMap(
        { name: 'x', namespace: 'ssa', body: cm },
        header(k8s.PatchStrategy.ServerSideApply),
      ),
    );
    expect(noManager.code).toBe(422);
    expect(noManager.status).toMatchObject({
      reason: 'Invalid',
      message:
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      details: {
        group: 'meta.k8s.io',
        kind: 'PatchOptions',
        causes: [{ reason: 'FieldValueRequired', field: 'fieldManager' }],
      },
    });
    const withManaged = await apiError(
      core.patchNamespacedConfigMap(
        {
          name: 'x',
          namespace: 'ssa',
          fieldManager: 'zonekeeper',
          body: {
            ...cm,
            metadata: { ...cm.metadata, managedFields: [{ manager: 'x', operation: 'Apply' }] },
          },
        },
        header(k8s.PatchStrategy.ServerSideApply),
      ),
    );
    expect(withManaged.code).toBe(400);
    expect(withManaged.status.message).toBe('metadata.managedFields must be nil');
  });

  it('attributes non-apply writes to the fieldManager parameter or the user agent', async () => {
    const created = await core.createNamespacedConfigMap({
      namespace: 'ssa',
      body: { metadata: { name: 'ua' }, data: { a: '1' } },
    });
    const creator = created.metadata?.managedFields?.[0];
    expect(creator?.operation).toBe('Update');
    expect(creator?.manager).toBe('node-fetch');
    expect(creator?.fieldsV1).toEqual({ 'f:data': { '.': {}, 'f:a': {} } });
    const patched = await core.patchNamespacedConfigMap(
      { name: 'ua', namespace: 'ssa', body: { data: { b: '2' } }, fieldManager: 'my-controller' },
      header(k8s.PatchStrategy.MergePatch),
    );
    // Update entries are ordered by time, then manager name, like the real server.
    expect(patched.metadata?.managedFields?.map((m) => m.manager).sort()).toEqual([
      'my-controller',
      'node-fetch',
    ]);
    expect(patched.metadata?.managedFields?.find((m) => m.manager === 'my-controller')?.fieldsV1).toEqual({
      'f:data': { 'f:b': {} },
    });
  });
});

describe('authentication and the request log', () => {
  it('answers 401 Unauthorized for a wrong token and never logs the token', async () => {
    const bad = new k8s.KubeConfig();
    bad.loadFromOptions(fake.kubeconfig({ token: 'wrong' }).options);
    // client-node drops the body of responses its OpenAPI declares (401): only the code is kept.
    const err = await bad
      .makeApiClient(k8s.CoreV1Api)
      .listNamespace()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(k8s.ApiException);
    expect((err as k8s.ApiException<unknown>).code).toBe(401);
    expect(fake.requests.some((r) => r.status === 401)).toBe(true);
    expect(JSON.stringify(fake.requests)).not.toContain(fake.token);
  });
});

describe('watch', () => {
  it('streams events to the client-node Watch', async () => {
    await core.createNamespace({ body: { metadata: { name: 'watched' } } });
    const events: string[] = [];
    const watch = new k8s.Watch(kc);
    const req = await watch.watch(
      '/api/v1/namespaces/watched/configmaps',
      { labelSelector: 'w=1' },
      (type: string, obj: k8s.V1ConfigMap) => events.push(`${type} ${obj.metadata?.name}`),
      () => undefined,
    );
    await core.createNamespacedConfigMap({
      namespace: 'watched',
      body: { metadata: { name: 'one', labels: { w: '1' } } },
    });
    await core.createNamespacedConfigMap({ namespace: 'watched', body: { metadata: { name: 'other' } } });
    await core.patchNamespacedConfigMap(
      { name: 'one', namespace: 'watched', body: { metadata: { labels: { w: '2' } } } },
      header(k8s.PatchStrategy.MergePatch),
    );
    await eventually(
      async () => events,
      (e) => e.length >= 2,
    );
    req.abort();
    expect(events).toEqual(['ADDED one', 'DELETED one']);
  });
});
