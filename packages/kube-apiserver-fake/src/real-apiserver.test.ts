/**
 * The differential test: the same requests to the fake and to a real kube-apiserver 1.32 (built by
 * `bash tools/kube-apiserver/build.sh`, started by `@zonekeeper/testkit/kube-apiserver`), comparing
 * status codes, `Status` bodies, `Warning` headers and the stored values, for every behaviour in
 * which the fake used to be more lenient than a real server. It fails (never skips) when the binary
 * is missing.
 */

import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type KubeApiServer, startKubeApiServer } from '@zonekeeper/testkit/kube-apiserver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubernetesFake, startKubernetesFake } from './fake.js';
import { knownFieldNames } from './known-fields.js';
import { kindSchemas, type Schema } from './schema.js';

interface Target {
  readonly name: string;
  readonly endpoint: string;
  readonly token: string;
  readonly ca: string;
}

interface Answer {
  readonly code: number;
  readonly body: Record<string, unknown>;
  readonly warnings: readonly string[];
}

function call(
  t: Target,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = request(
      `${t.endpoint}${path}`,
      {
        method,
        ca: t.ca,
        agent: false,
        headers: {
          Authorization: `Bearer ${t.token}`,
          Accept: 'application/json',
          'User-Agent': 'zonekeeper-differential/1.0',
          ...(data === undefined ? {} : { 'Content-Type': contentType }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            code: res.statusCode ?? 0,
            body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
            warnings: res.headersDistinct.warning ?? [],
          });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

let real: KubeApiServer;
let fake: KubernetesFake;
let targets: Target[];

beforeAll(async () => {
  [real, fake] = await Promise.all([startKubeApiServer(), startKubernetesFake({ rolloutDelayMs: 0 })]);
  targets = [
    { name: 'real', endpoint: real.endpoint, token: real.token, ca: real.ca },
    { name: 'fake', endpoint: fake.endpoint, token: fake.token, ca: fake.ca as string },
  ];
  for (const t of targets)
    for (const ns of ['diff', 'doomed'])
      expect((await call(t, 'POST', '/api/v1/namespaces', { metadata: { name: ns } })).code).toBe(201);
}, 180_000);

afterAll(async () => {
  await Promise.all([real?.stop(), fake?.stop()]);
});

/** Sends the same request to both servers; returns [real, fake]. */
async function both(
  method: string,
  path: string,
  body?: unknown,
  contentType?: string,
): Promise<[Answer, Answer]> {
  const [r, f] = [
    await call(targets[0] as Target, method, path, body, contentType),
    await call(targets[1] as Target, method, path, body, contentType),
  ];
  return [r, f];
}

/** A failure `Status` as both servers must answer it, exactly. */
async function sameStatus(
  method: string,
  path: string,
  body?: unknown,
  contentType?: string,
): Promise<Answer> {
  const [r, f] = await both(method, path, body, contentType);
  expect(r.body.kind, JSON.stringify(r.body)).toBe('Status');
  expect({ code: f.code, body: f.body }).toEqual({ code: r.code, body: r.body });
  return r;
}

const APPLY = 'application/apply-patch+yaml';
const deployment = (name: string, container: Record<string, unknown>) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'c', image: 'registry.example/app:1', ...container }] },
    },
  },
});
type Resources = { requests?: Record<string, string>; limits?: Record<string, string> };
const resourcesOf = (a: Answer): Resources =>
  (
    (a.body.spec as { template: { spec: { containers: { resources: Resources }[] } } }).template.spec
      .containers[0] as { resources: Resources }
  ).resources;

describe('differential: fake and real kube-apiserver 1.32', () => {
  it('canonicalises quantities the same way (apply, then re-apply changes nothing)', async () => {
    const d = deployment('quantities', {
      resources: {
        requests: { cpu: '0.5', memory: '1024Mi', 'ephemeral-storage': '5u' },
        limits: { cpu: 1.5, memory: '1.5Gi', 'ephemeral-storage': '1000' },
      },
    });
    const [r, f] = await both(
      'PATCH',
      '/apis/apps/v1/namespaces/diff/deployments/quantities?fieldManager=zk',
      d,
      APPLY,
    );
    expect(r.code).toBe(201);
    expect(resourcesOf(r)).toEqual({
      requests: { cpu: '500m', memory: '1Gi', 'ephemeral-storage': '1m' },
      limits: { cpu: '1500m', memory: '1536Mi', 'ephemeral-storage': '1k' },
    });
    expect(resourcesOf(f)).toEqual(resourcesOf(r));
    await fake.settle(); // the fake's Deployment controller writes status; the real server has none
    const path = '/apis/apps/v1/namespaces/diff/deployments/quantities';
    const before = await both('GET', path);
    const again = await both('PATCH', `${path}?fieldManager=zk`, d, APPLY);
    const rv = (a: Answer) => (a.body.metadata as { resourceVersion: string }).resourceVersion;
    expect(again.map((a) => a.code)).toEqual([200, 200]);
    expect(again.map(rv)).toEqual(before.map(rv));
  });

  it('rejects a quantity that does not parse (create 400, apply 500)', async () => {
    const bad = deployment('badquantity', { resources: { requests: { memory: '100mb' } } });
    await sameStatus('POST', '/apis/apps/v1/namespaces/diff/deployments', bad);
    await sameStatus(
      'PATCH',
      '/apis/apps/v1/namespaces/diff/deployments/badquantity?fieldManager=zk',
      bad,
      APPLY,
    );
  });

  it('Lease PUT: creates a missing Lease (201) and needs a resourceVersion to update (422); other kinds 404', async () => {
    const lease = (name: string, extra: Record<string, unknown> = {}) => ({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, ...extra },
      spec: { holderIdentity: 'a' },
    });
    const [r, f] = await both(
      'PUT',
      '/apis/coordination.k8s.io/v1/namespaces/diff/leases/l1',
      lease('l1', { resourceVersion: '999' }),
    );
    expect([r.code, f.code]).toEqual([201, 201]);
    await sameStatus('PUT', '/apis/coordination.k8s.io/v1/namespaces/diff/leases/l1', lease('l1'));
    await sameStatus('PUT', '/api/v1/namespaces/diff/configmaps/missing', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'missing' },
    });
  });

  it('server-side apply with a stale metadata.resourceVersion is a 409', async () => {
    const cm = (rv?: string) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'stale', ...(rv ? { resourceVersion: rv } : {}) },
      data: { a: '1' },
    });
    const [r, f] = await both(
      'PATCH',
      '/api/v1/namespaces/diff/configmaps/stale?fieldManager=zk',
      cm(),
      APPLY,
    );
    expect([r.code, f.code]).toEqual([201, 201]);
    await sameStatus('PATCH', '/api/v1/namespaces/diff/configmaps/stale?fieldManager=zk', cm('1'), APPLY);
  });

  it('unknown fields: Strict 400, Warn drops them with a Warning, apply 500, a bad fieldValidation 422', async () => {
    const body = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'unknown', bogus: 1 },
      data: { a: '1' },
      extra: { x: 1 },
    };
    await sameStatus('POST', '/api/v1/namespaces/diff/configmaps?fieldValidation=Strict', body);
    await sameStatus('POST', '/api/v1/namespaces/diff/configmaps?fieldValidation=Bogus', body);
    const [r, f] = await both('POST', '/api/v1/namespaces/diff/configmaps?fieldValidation=Warn', body);
    expect(r.code).toBe(201);
    expect(f.code).toBe(201);
    expect(f.warnings).toEqual(r.warnings);
    expect(r.warnings.length).toBe(2);
    expect(Object.keys(f.body).sort()).toEqual(Object.keys(r.body).sort());
    const nested = deployment('unknownfield', { foo: 1 });
    await sameStatus('POST', '/apis/apps/v1/namespaces/diff/deployments?fieldValidation=Strict', nested);
    await sameStatus(
      'PATCH',
      '/apis/apps/v1/namespaces/diff/deployments/unknownfield?fieldManager=zk',
      nested,
      APPLY,
    );
    await sameStatus(
      'PATCH',
      '/api/v1/namespaces/diff/configmaps/u2?fieldManager=zk&fieldValidation=Strict',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'u2' }, extra: 1 },
      APPLY,
    );
  });

  it('invalid enum values are 422; a MicroTime without six fractional digits is 400 (apply 500)', async () => {
    await sameStatus(
      'POST',
      '/apis/apps/v1/namespaces/diff/deployments',
      deployment('enum', { imagePullPolicy: 'Sometimes' }),
    );
    for (const renewTime of [
      'not-a-time',
      '2026-12-01T10:00:00Z',
      '2026-12-01T10:00:00.123Z',
      '2026-13-01T00:00:00.000000Z',
    ]) {
      await sameStatus('POST', '/apis/coordination.k8s.io/v1/namespaces/diff/leases', {
        metadata: { name: 'micro' },
        spec: { renewTime },
      });
    }
    await sameStatus(
      'PATCH',
      '/apis/coordination.k8s.io/v1/namespaces/diff/leases/micro?fieldManager=zk',
      {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'micro' },
        spec: { renewTime: '2026-12-01T10:00:00Z' },
      },
      APPLY,
    );
    const [r, f] = await both('POST', '/apis/coordination.k8s.io/v1/namespaces/diff/leases', {
      metadata: { name: 'micro' },
      spec: { renewTime: '2026-12-01T10:00:00.123456+02:00' },
    });
    expect((f.body.spec as { renewTime: string }).renewTime).toBe(
      (r.body.spec as { renewTime: string }).renewTime,
    );
  });

  it('a deleted namespace is Terminating and creating inside it is a 403 NamespaceTerminating', async () => {
    const [r, f] = await both('DELETE', '/api/v1/namespaces/doomed');
    expect([r.code, f.code]).toEqual([200, 200]);
    expect((f.body.status as { phase: string }).phase).toBe('Terminating');
    expect((r.body.status as { phase: string }).phase).toBe('Terminating');
    await sameStatus('POST', '/api/v1/namespaces/doomed/configmaps', { metadata: { name: 'late' } });
  });

  it('pods/log: options validated (422/400), the container resolved (400), an unscheduled pod 204', async () => {
    const pod = (name: string, containers: string[]) => ({
      metadata: { name },
      spec: { containers: containers.map((c) => ({ name: c, image: 'registry.example/app:1' })) },
    });
    // The real server runs no controller-manager: its namespaces have no `default` ServiceAccount,
    // which a Pod's admission needs (the fake's controllers make one).
    const sa = await call(targets[0] as Target, 'POST', '/api/v1/namespaces/diff/serviceaccounts', {
      metadata: { name: 'default' },
    });
    expect([201, 409]).toContain(sa.code);
    for (const t of targets) {
      expect((await call(t, 'POST', '/api/v1/namespaces/diff/pods', pod('solo', ['app']))).code).toBe(201);
      expect((await call(t, 'POST', '/api/v1/namespaces/diff/pods', pod('duo', ['app', 'side']))).code).toBe(
        201,
      );
    }
    const log = '/api/v1/namespaces/diff/pods';
    await sameStatus('GET', `${log}/solo/log?tailLines=-1`);
    await sameStatus('GET', `${log}/solo/log?limitBytes=0&sinceSeconds=0`);
    await sameStatus('GET', `${log}/solo/log?tailLines=x`);
    await sameStatus('GET', `${log}/solo/log?container=nope`);
    await sameStatus('GET', `${log}/duo/log`);
    await sameStatus('GET', `${log}/gone/log`);
    const [r, f] = await both('GET', `${log}/solo/log?tailLines=3`);
    expect({ code: f.code, body: f.body }).toEqual({ code: r.code, body: r.body });
    expect(r.code).toBe(204);
    await sameStatus('POST', `${log}/solo/log`, {});

    // `kubectl get pods` (server-side printing): the same columns, and the same cells but the age.
    const table = async (t: Target) =>
      JSON.parse(
        await new Promise<string>((resolve, reject) => {
          const req = request(
            `${t.endpoint}${log}/duo`,
            {
              ca: t.ca,
              agent: false,
              headers: {
                Authorization: `Bearer ${t.token}`,
                Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
              },
            },
            (res) => {
              let text = '';
              res.setEncoding('utf8').on('data', (c: string) => (text += c));
              res.on('end', () => resolve(text));
            },
          );
          req.on('error', reject);
          req.end();
        }),
      ) as {
        columnDefinitions: { name: string; type: string; priority: number }[];
        rows: { cells: unknown[] }[];
      };
    const [realTable, fakeTable] = [await table(targets[0] as Target), await table(targets[1] as Target)];
    const shape = (x: typeof realTable) => ({
      columns: x.columnDefinitions.map((c) => [c.name, c.type, c.priority]),
      cells: x.rows.map((row) => row.cells.filter((_, i) => x.columnDefinitions[i]?.name !== 'Age')),
    });
    expect(shape(fakeTable)).toEqual(shape(realTable));
  });

  it('foreground and orphan deletion answer the object with its garbage-collector finalizer', async () => {
    for (const [policy, finalizer] of [
      ['Foreground', 'foregroundDeletion'],
      ['Orphan', 'orphan'],
    ]) {
      const name = `gc-${finalizer?.toLowerCase()}`;
      await both('POST', '/api/v1/namespaces/diff/configmaps', { metadata: { name } });
      const [r, f] = await both(
        'DELETE',
        `/api/v1/namespaces/diff/configmaps/${name}?propagationPolicy=${policy}`,
      );
      for (const a of [r, f]) {
        expect(a.code).toBe(200);
        expect(a.body.kind).toBe('ConfigMap');
        expect((a.body.metadata as { finalizers: string[] }).finalizers).toEqual([finalizer]);
        expect((a.body.metadata as { deletionTimestamp?: string }).deletionTimestamp).toBeDefined();
      }
    }
  });

  it('kubectl create sends protobuf; both servers accept it and store the same objects', async () => {
    const run = promisify(execFile);
    const dir = await mkdtemp(join(tmpdir(), 'zk-diff-kubectl-'));
    try {
      const configs = [
        await real.writeKubeconfig(dir),
        await fake.writeKubeconfig(await mkdtemp(join(dir, 'fake-'))),
      ];
      for (const config of configs) {
        const kubectl = (...args: string[]) =>
          run('kubectl', [
            '--kubeconfig',
            config,
            '--cache-dir',
            join(dir, 'cache', String(configs.indexOf(config))),
            ...args,
          ]);
        await kubectl('create', 'namespace', 'pb');
        await kubectl('create', 'configmap', 'cfg', '-n', 'pb', '--from-literal=a=1');
        await kubectl('create', 'secret', 'generic', 'creds', '-n', 'pb', '--from-literal=token=s3cr3t');
      }
      const [cm, fcm] = await both('GET', '/api/v1/namespaces/pb/configmaps/cfg');
      expect(fcm.body.data).toEqual(cm.body.data);
      const [secret, fsecret] = await both('GET', '/api/v1/namespaces/pb/secrets/creds');
      expect({ type: fsecret.body.type, data: fsecret.body.data }).toEqual({
        type: secret.body.type,
        data: secret.body.data,
      });
      expect(secret.body.type).toBe('Opaque');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the fake knows every field of the real OpenAPI schemas for the structs it models', async () => {
    const docs: Record<string, { components: { schemas: Record<string, Record<string, unknown>> } }> = {};
    for (const [group, path] of [
      ['', '/openapi/v3/api/v1'],
      ['apps', '/openapi/v3/apis/apps/v1'],
      ['rbac.authorization.k8s.io', '/openapi/v3/apis/rbac.authorization.k8s.io/v1'],
      ['coordination.k8s.io', '/openapi/v3/apis/coordination.k8s.io/v1'],
    ] as const)
      docs[group] = (await call(targets[0] as Target, 'GET', path)).body as never;
    const names: Record<string, string> = {
      '/Namespace': 'io.k8s.api.core.v1.Namespace',
      '/ServiceAccount': 'io.k8s.api.core.v1.ServiceAccount',
      '/Secret': 'io.k8s.api.core.v1.Secret',
      '/ConfigMap': 'io.k8s.api.core.v1.ConfigMap',
      '/Service': 'io.k8s.api.core.v1.Service',
      'rbac.authorization.k8s.io/ClusterRole': 'io.k8s.api.rbac.v1.ClusterRole',
      'rbac.authorization.k8s.io/Role': 'io.k8s.api.rbac.v1.Role',
      'rbac.authorization.k8s.io/ClusterRoleBinding': 'io.k8s.api.rbac.v1.ClusterRoleBinding',
      'rbac.authorization.k8s.io/RoleBinding': 'io.k8s.api.rbac.v1.RoleBinding',
      'apps/Deployment': 'io.k8s.api.apps.v1.Deployment',
      'coordination.k8s.io/Lease': 'io.k8s.api.coordination.v1.Lease',
    };
    const missing: string[] = [];
    type OpenApi = {
      $ref?: string;
      allOf?: OpenApi[];
      properties?: Record<string, OpenApi>;
      items?: OpenApi;
      additionalProperties?: OpenApi;
    };
    const walk = (doc: (typeof docs)[string], real: OpenApi | undefined, s: Schema, path: string): void => {
      let r = real;
      while (r && (r.$ref || r.allOf?.length === 1))
        r = r.$ref ? (doc.components.schemas[r.$ref.split('/').pop() as string] as OpenApi) : r.allOf?.[0];
      if (!r) return;
      if (s.kind === 'struct') {
        const known = knownFieldNames(s);
        for (const p of Object.keys(r.properties ?? {})) if (!known.includes(p)) missing.push(`${path}.${p}`);
        for (const [k, v] of Object.entries(s.fields)) walk(doc, r.properties?.[k], v, `${path}.${k}`);
      } else if (s.kind === 'list') walk(doc, r.items, s.items, `${path}[]`);
      else if (s.kind === 'map') walk(doc, r.additionalProperties, s.values, `${path}{}`);
    };
    for (const [kind, name] of Object.entries(names)) {
      const doc = docs[kind.split('/')[0] as string] as (typeof docs)[string];
      walk(doc, { $ref: `#/components/schemas/${name}` }, kindSchemas[kind] as Schema, kind);
    }
    expect(missing).toEqual([]);
  });
});
