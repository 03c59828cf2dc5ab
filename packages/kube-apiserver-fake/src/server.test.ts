/**
 * Wire details checked with raw HTTP(S) requests: discovery documents, content negotiation (Table,
 * PartialObjectMetadata, aggregated discovery), error Status bodies, watch streams, subresources,
 * dry-run, delete collection, YAML bodies, TLS and anonymous access.
 */

import { X509Certificate } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubernetesFake, startKubernetesFake } from './index.js';

interface Response {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: () => Record<string, unknown>;
}

interface RequestOptions {
  readonly method?: string;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly accept?: string;
  readonly token?: string | null;
}

function send(fake: KubernetesFake, path: string, options: RequestOptions = {}): Promise<Response> {
  const url = new URL(path, fake.endpoint);
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body);
  const headers: Record<string, string> = {};
  if (options.token !== null) headers.authorization = `Bearer ${options.token ?? fake.token}`;
  if (body !== undefined) {
    headers['content-type'] = options.contentType ?? 'application/json';
    // Node's client does not frame DELETE bodies on its own.
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  if (options.accept) headers.accept = options.accept;
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers, ...(fake.ca ? { ca: fake.ca } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text) as Record<string, unknown>,
          });
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Opens a watch and collects `type name` lines until `count` events arrived. */
function watch(
  fake: KubernetesFake,
  path: string,
): { events: string[]; raw: unknown[]; ended: Promise<void>; close: () => void } {
  const url = new URL(path, fake.endpoint);
  const events: string[] = [];
  const raw: unknown[] = [];
  let close = (): void => undefined;
  const ended = new Promise<void>((resolve, reject) => {
    const req = httpsRequest(
      url,
      { headers: { authorization: `Bearer ${fake.token}` }, ca: fake.ca as string },
      (res) => {
        let buffer = '';
        res.on('data', (c: Buffer) => {
          buffer += c.toString('utf8');
          let i = buffer.indexOf('\n');
          while (i >= 0) {
            const line = buffer.slice(0, i);
            buffer = buffer.slice(i + 1);
            const e = JSON.parse(line) as { type: string; object: { metadata: { name: string } } };
            raw.push(e);
            events.push(`${e.type} ${e.object.metadata.name ?? ''}`);
            i = buffer.indexOf('\n');
          }
        });
        res.on('end', () => resolve());
        res.on('close', () => resolve());
      },
    );
    req.on('error', (e) => ((e as { code?: string }).code === 'ECONNRESET' ? resolve() : reject(e)));
    req.end();
    close = () => req.destroy();
  });
  return { events, raw, ended, close };
}

async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

let fake: KubernetesFake;

beforeAll(async () => {
  fake = await startKubernetesFake({ rolloutDelayMs: 0 });
});

afterAll(async () => {
  await fake?.stop();
});

describe('TLS and authentication', () => {
  it('serves HTTPS with a self-signed certificate for 127.0.0.1 that is its own CA', () => {
    expect(fake.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const cert = new X509Certificate(fake.ca as string);
    expect(cert.ca).toBe(true);
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.verify(cert.publicKey)).toBe(true);
    const kc = fake.kubeconfig();
    expect(kc.object.clusters[0]?.cluster['certificate-authority-data']).toBe(
      Buffer.from(fake.ca as string).toString('base64'),
    );
    expect(kc.yaml).toContain(`server: ${fake.endpoint}`);
    expect(kc.options.users[0]?.token).toBe(fake.token);
  });

  it('answers 401 with a Status for a missing or wrong token, but serves /version and /healthz', async () => {
    for (const token of [null, 'wrong']) {
      const r = await send(fake, '/api/v1/namespaces', { token });
      expect(r.status).toBe(401);
      expect(r.json()).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Unauthorized',
        reason: 'Unauthorized',
        code: 401,
      });
    }
    const version = await send(fake, '/version', { token: null });
    expect(version.json()).toMatchObject({ major: '1', minor: '32', gitVersion: 'v1.32.4' });
    expect((await send(fake, '/healthz', { token: null })).text).toBe('ok');
    expect((await send(fake, '/version', { token: 'wrong' })).status).toBe(401);
  });

  it('serves plain HTTP on request, and can accept anonymous requests', async () => {
    await using plain = await startKubernetesFake({
      tls: false,
      allowAnonymous: true,
      token: 't0k',
      namespaces: ['only'],
    });
    expect(plain.endpoint).toMatch(/^http:\/\//);
    expect(plain.ca).toBeUndefined();
    expect(plain.kubeconfig().object.clusters[0]?.cluster).toEqual({ server: plain.endpoint });
    const anonymous = await send(plain, '/api/v1/namespaces', { token: null });
    expect(anonymous.status).toBe(200);
    expect((anonymous.json().items as { metadata: { name: string } }[]).map((n) => n.metadata.name)).toEqual([
      'only',
    ]);
    expect((await send(plain, '/api/v1/namespaces', { token: 'wrong' })).status).toBe(401);
  });
});

describe('discovery', () => {
  it('serves legacy discovery documents', async () => {
    expect((await send(fake, '/api')).json()).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = (await send(fake, '/apis')).json() as {
      kind: string;
      groups: { name: string; preferredVersion: { groupVersion: string } }[];
    };
    expect(groups.kind).toBe('APIGroupList');
    expect(groups.groups.map((g) => g.preferredVersion.groupVersion)).toEqual([
      'rbac.authorization.k8s.io/v1',
      'apps/v1',
      'coordination.k8s.io/v1',
      'discovery.k8s.io/v1',
      'networking.k8s.io/v1',
    ]);
    const core = (await send(fake, '/api/v1')).json() as {
      resources: { name: string; kind: string; namespaced: boolean; shortNames?: string[] }[];
    };
    expect(core.resources.map((r) => r.name)).toEqual([
      'namespaces',
      'namespaces/status',
      'serviceaccounts',
      'secrets',
      'configmaps',
      'services',
      'services/status',
      'pods',
      'pods/status',
      'nodes',
      'nodes/status',
    ]);
    const appsV1 = (await send(fake, '/apis/apps/v1')).json() as {
      groupVersion: string;
      resources: { name: string; kind: string; verbs: string[] }[];
    };
    expect(appsV1.groupVersion).toBe('apps/v1');
    expect(appsV1.resources).toContainEqual(
      expect.objectContaining({
        name: 'deployments',
        kind: 'Deployment',
        namespaced: true,
        shortNames: ['deploy'],
      }),
    );
    // No /scale subresource: nothing that uses the fake scales (kubectl scale, HPA); see the README.
    expect(appsV1.resources.map((r) => r.name)).toEqual(['deployments', 'deployments/status']);
    expect(appsV1.resources[0]?.verbs).not.toContain('deletecollection');
    expect((await send(fake, '/apis/apps')).json()).toMatchObject({ kind: 'APIGroup', name: 'apps' });
    expect((await send(fake, '/apis/batch/v1')).status).toBe(404);
  });

  it('serves aggregated discovery (apidiscovery.k8s.io/v2) when asked for it', async () => {
    const r = await send(fake, '/apis', {
      accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json',
    });
    expect(r.headers['content-type']).toBe(
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
    );
    const doc = r.json() as {
      kind: string;
      items: {
        metadata: { name: string };
        versions: {
          version: string;
          resources: { resource: string; scope: string; subresources?: unknown[] }[];
        }[];
      }[];
    };
    expect(doc.kind).toBe('APIGroupDiscoveryList');
    const appsGroup = doc.items.find((i) => i.metadata.name === 'apps');
    expect(appsGroup?.versions[0]?.resources[0]).toMatchObject({
      resource: 'deployments',
      scope: 'Namespaced',
      responseKind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      subresources: [{ subresource: 'status', verbs: ['get', 'patch', 'update'] }],
    });
  });

  it('serves OpenAPI v3 with PATCH operations that accept fieldValidation', async () => {
    const index = (await send(fake, '/openapi/v3')).json() as {
      paths: Record<string, { serverRelativeURL: string }>;
    };
    expect(Object.keys(index.paths).sort()).toEqual([
      'api/v1',
      'apis/apps/v1',
      'apis/coordination.k8s.io/v1',
      'apis/discovery.k8s.io/v1',
      'apis/networking.k8s.io/v1',
      'apis/rbac.authorization.k8s.io/v1',
    ]);
    const doc = (await send(fake, index.paths['apis/apps/v1']?.serverRelativeURL as string)).json() as {
      paths: Record<
        string,
        { patch?: { parameters: { name: string }[]; 'x-kubernetes-group-version-kind': unknown } }
      >;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']?.patch;
    expect(patch?.parameters.map((p) => p.name)).toContain('fieldValidation');
    expect(patch?.['x-kubernetes-group-version-kind']).toEqual({
      group: 'apps',
      kind: 'Deployment',
      version: 'v1',
    });
    const containers = JSON.stringify(doc.components.schemas['io.k8s.api.apps.v1.Deployment']);
    expect(containers).toContain('"x-kubernetes-patch-merge-key":"name"');
  });
});

describe('resources over the wire', () => {
  beforeAll(async () => {
    await send(fake, '/api/v1/namespaces', { method: 'POST', body: { metadata: { name: 'wire' } } });
  });

  it('lists without kind/apiVersion on items, and prints Tables and PartialObjectMetadata', async () => {
    await send(fake, '/api/v1/namespaces/wire/configmaps', {
      method: 'POST',
      body: { metadata: { name: 'one', labels: { a: 'b' } }, data: { k: 'v', l: 'w' } },
    });
    const list = (await send(fake, '/api/v1/namespaces/wire/configmaps')).json() as {
      kind: string;
      apiVersion: string;
      metadata: { resourceVersion: string };
      items: Record<string, unknown>[];
    };
    expect(list.kind).toBe('ConfigMapList');
    expect(list.apiVersion).toBe('v1');
    expect(Number(list.metadata.resourceVersion)).toBeGreaterThan(0);
    expect(list.items[0]?.kind).toBeUndefined();
    expect(list.items[0]?.apiVersion).toBeUndefined();
    const table = (
      await send(fake, '/api/v1/namespaces/wire/configmaps', {
        accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
      })
    ).json() as {
      kind: string;
      columnDefinitions: { name: string }[];
      rows: { cells: unknown[]; object: { kind: string } }[];
    };
    expect(table.kind).toBe('Table');
    expect(table.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Data', 'Age']);
    expect(table.rows[0]?.cells.slice(0, 2)).toEqual(['one', 2]);
    expect(table.rows[0]?.object.kind).toBe('PartialObjectMetadata');
    const partial = (
      await send(fake, '/api/v1/namespaces/wire/configmaps/one', {
        accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
      })
    ).json();
    expect(partial).toMatchObject({
      kind: 'PartialObjectMetadata',
      apiVersion: 'meta.k8s.io/v1',
      metadata: { name: 'one', labels: { a: 'b' } },
    });
    expect(
      (
        await send(fake, '/api/v1/namespaces/wire/configmaps', {
          accept: 'application/vnd.kubernetes.protobuf',
        })
      ).status,
    ).toBe(406);
  });

  it('accepts YAML bodies, dry runs and generateName', async () => {
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: gen-\ndata:\n  a: "1"\n';
    const created = await send(fake, '/api/v1/namespaces/wire/configmaps', {
      method: 'POST',
      body: yaml,
      contentType: 'application/yaml',
    });
    expect(created.status).toBe(201);
    expect((created.json().metadata as { name: string }).name).toMatch(/^gen-[a-z0-9]{5}$/);
    const dry = await send(fake, '/api/v1/namespaces/wire/configmaps?dryRun=All', {
      method: 'POST',
      body: { metadata: { name: 'dry' } },
    });
    expect(dry.status).toBe(201);
    expect((await send(fake, '/api/v1/namespaces/wire/configmaps/dry')).status).toBe(404);
  });

  it('answers error paths with the real Status bodies', async () => {
    const rv = await send(fake, '/api/v1/namespaces/wire/configmaps', {
      method: 'POST',
      body: { metadata: { name: 'rv', resourceVersion: '5' } },
    });
    expect(rv.status).toBe(500);
    expect(rv.json().message).toBe(
      'Internal error occurred: resourceVersion should not be set on objects to be created',
    );
    const wrongName = await send(fake, '/api/v1/namespaces/wire/configmaps/one', {
      method: 'PUT',
      body: { metadata: { name: 'two' } },
    });
    expect(wrongName.status).toBe(400);
    expect(wrongName.json().message).toBe(
      'the name of the object (two) does not match the name on the URL (one)',
    );
    const missing = await send(fake, '/api/v1/namespaces/wire/configmaps/none', {
      method: 'PUT',
      body: { metadata: { name: 'none' } },
    });
    expect(missing.json()).toMatchObject({
      code: 404,
      reason: 'NotFound',
      details: { name: 'none', kind: 'configmaps' },
    });
    const post = await send(fake, '/api/v1/namespaces/wire/configmaps/one', { method: 'POST', body: {} });
    expect(post.json()).toMatchObject({ code: 405, reason: 'MethodNotAllowed' });
    const unknownPath = await send(fake, '/api/v1/namespaces/wire/replicationcontrollers');
    expect(unknownPath.json()).toMatchObject({
      code: 404,
      reason: 'NotFound',
      message: 'the server could not find the requested resource',
    });
    const badJson = await send(fake, '/api/v1/namespaces/wire/configmaps', { method: 'POST', body: '{nope' });
    expect(badJson.status).toBe(400);
    const badName = await send(fake, '/api/v1/namespaces/wire/configmaps', {
      method: 'POST',
      body: { metadata: { name: 'Bad_Name' } },
    });
    expect(badName.status).toBe(422);
    expect(badName.json().message).toMatch(
      /^ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
    );
    const badBase64 = await send(fake, '/api/v1/namespaces/wire/secrets', {
      method: 'POST',
      body: { metadata: { name: 's' }, data: { a: 'not base64!' } },
    });
    expect(badBase64.status).toBe(400);
    const wrongType = await send(fake, '/api/v1/namespaces/wire/configmaps', {
      method: 'POST',
      body: { metadata: { name: 'n' }, data: { a: 1 } },
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json().message).toBe(
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data.a of type string',
    );
    const typedApply = await send(fake, '/apis/apps/v1/namespaces/wire/deployments/t?fieldManager=me', {
      method: 'PATCH',
      contentType: 'application/apply-patch+yaml',
      body: 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: t\nspec:\n  replicas: "3"\n',
    });
    expect(typedApply.status).toBe(500);
    expect(typedApply.json()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'failed to create typed patch object (wire/t; apps/v1, Kind=Deployment): .spec.replicas: expected numeric (int or float), got string',
      code: 500,
    });
    const force = await send(fake, '/api/v1/namespaces/wire/configmaps/one?force=true', {
      method: 'PATCH',
      body: { data: {} },
      contentType: 'application/merge-patch+json',
    });
    expect(force.json().message).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
    );
  });

  it('allocates Service cluster IPs and node ports, and keeps them across updates', async () => {
    const created = await send(fake, '/api/v1/namespaces/wire/services', {
      method: 'POST',
      body: {
        metadata: { name: 'svc' },
        spec: { type: 'NodePort', selector: { app: 'x' }, ports: [{ port: 80 }] },
      },
    });
    const spec = created.json().spec as {
      clusterIP: string;
      clusterIPs: string[];
      ports: { nodePort: number; targetPort: number }[];
    };
    expect(spec.clusterIP).toMatch(/^10\.96\.\d+\.\d+$/);
    expect(spec.clusterIPs).toEqual([spec.clusterIP]);
    expect(spec.ports[0]?.nodePort).toBeGreaterThanOrEqual(30000);
    expect(spec.ports[0]?.targetPort).toBe(80);
    const managed = JSON.stringify((created.json().metadata as { managedFields: unknown }).managedFields);
    expect(managed).not.toContain('clusterIP');
    const replaced = await send(fake, '/api/v1/namespaces/wire/services/svc', {
      method: 'PUT',
      body: {
        metadata: { name: 'svc' },
        spec: {
          type: 'NodePort',
          selector: { app: 'y' },
          ports: [{ port: 80, nodePort: spec.ports[0]?.nodePort }],
        },
      },
    });
    expect(replaced.status).toBe(200);
    expect((replaced.json().spec as { clusterIP: string }).clusterIP).toBe(spec.clusterIP);
    const changed = await send(fake, '/api/v1/namespaces/wire/services/svc', {
      method: 'PATCH',
      body: { spec: { clusterIP: '10.96.200.200' } },
      contentType: 'application/merge-patch+json',
    });
    expect(changed.status).toBe(422);
  });

  it('enforces delete preconditions', async () => {
    await send(fake, '/api/v1/namespaces/wire/configmaps', {
      method: 'POST',
      body: { metadata: { name: 'pre' } },
    });
    const r = await send(fake, '/api/v1/namespaces/wire/configmaps/pre', {
      method: 'DELETE',
      body: { preconditions: { uid: 'other' } },
    });
    expect(r.status).toBe(409);
    expect(r.json().message).toMatch(
      /^Operation cannot be fulfilled on configmaps "pre": Precondition failed: UID in precondition: other, UID in object meta: /,
    );
  });
});

describe('watch', () => {
  it('streams ADDED/MODIFIED/DELETED, honours selectors, and replays from a resourceVersion', async () => {
    await send(fake, '/api/v1/namespaces', { method: 'POST', body: { metadata: { name: 'w' } } });
    const start = (await send(fake, '/api/v1/namespaces/w/configmaps')).json() as {
      metadata: { resourceVersion: string };
    };
    const all = watch(
      fake,
      `/api/v1/namespaces/w/configmaps?watch=true&resourceVersion=${start.metadata.resourceVersion}`,
    );
    const selected = watch(fake, '/api/v1/namespaces/w/configmaps?watch=1&labelSelector=pick%3Dyes');
    await new Promise((r) => setTimeout(r, 20));
    await send(fake, '/api/v1/namespaces/w/configmaps', {
      method: 'POST',
      body: { metadata: { name: 'a', labels: { pick: 'yes' } } },
    });
    await send(fake, '/api/v1/namespaces/w/configmaps/a', {
      method: 'PATCH',
      body: { data: { x: '1' } },
      contentType: 'application/merge-patch+json',
    });
    // A patch that changes nothing is not a write: no event, same resourceVersion.
    const noop = await send(fake, '/api/v1/namespaces/w/configmaps/a', {
      method: 'PATCH',
      body: { data: { x: '1' } },
      contentType: 'application/merge-patch+json',
    });
    expect(noop.status).toBe(200);
    await send(fake, '/api/v1/namespaces/w/configmaps/a', {
      method: 'PATCH',
      body: { metadata: { labels: { pick: 'no' } } },
      contentType: 'application/merge-patch+json',
    });
    await send(fake, '/api/v1/namespaces/w/configmaps/a', { method: 'DELETE' });
    await until(() => all.events.length >= 4 && selected.events.length >= 3);
    expect(all.events).toEqual(['ADDED a', 'MODIFIED a', 'MODIFIED a', 'DELETED a']);
    // Leaving the selector is a DELETED event for that watch.
    expect(selected.events).toEqual(['ADDED a', 'MODIFIED a', 'DELETED a']);
    expect((all.raw[0] as { object: { kind: string } }).object.kind).toBe('ConfigMap');
    all.close();
    selected.close();
    const replay = watch(
      fake,
      `/api/v1/namespaces/w/configmaps?watch=true&resourceVersion=${start.metadata.resourceVersion}&timeoutSeconds=1`,
    );
    await replay.ended;
    expect(replay.events).toEqual(['ADDED a', 'MODIFIED a', 'MODIFIED a', 'DELETED a']);
  });
});

describe('request log and inspection helpers', () => {
  it('records method, path, query, status, content type and field manager', async () => {
    fake.clearRequests();
    await send(fake, '/api/v1/namespaces/wire/configmaps/one?fieldManager=me', {
      method: 'PATCH',
      body: { data: { z: '1' } },
      contentType: 'application/merge-patch+json; charset=utf-8',
    });
    expect(fake.requests).toEqual([
      {
        method: 'PATCH',
        path: '/api/v1/namespaces/wire/configmaps/one',
        query: { fieldManager: 'me' },
        status: 200,
        contentType: 'application/merge-patch+json',
        fieldManager: 'me',
        verb: 'patch',
      },
    ]);
  });

  it('seeds objects with put(), filters objects() and deletes with delete()', async () => {
    const seeded = fake.put({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'seed', namespace: 'seeded', labels: { s: '1' } },
      data: { a: '1' },
    });
    expect(seeded.metadata.uid).toBeDefined();
    expect(fake.get({ apiVersion: 'v1', kind: 'Namespace', name: 'seeded' })).toBeDefined();
    const again = fake.put({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'seed', namespace: 'seeded', labels: { s: '1' } },
      data: { a: '2' },
    });
    expect(again.metadata.uid).toBe(seeded.metadata.uid);
    expect(fake.objects({ kind: 'ConfigMap', labelSelector: 's=1' }).map((o) => o.data)).toEqual([
      { a: '2' },
    ]);
    const unserved = (() => {
      try {
        fake.put({ apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'p' } });
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(unserved).toMatchObject({ name: 'ZonekeeperError', code: 'INVALID_INPUT' });
    expect((unserved as Error).message).toMatch(/v1 ReplicationController is not served/);
    let invalidPut: unknown;
    try {
      fake.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad' } });
    } catch (error) {
      invalidPut = error;
    }
    expect(invalidPut).toMatchObject({
      name: 'ZonekeeperError',
      code: 'INVALID_INPUT',
      details: { status: { kind: 'Status', reason: 'Invalid', code: 422 } },
    });
    expect((invalidPut as Error).message).toMatch(/^Kubernetes fake: ConfigMap "Bad" is invalid/);
    expect(() => fake.setRolloutDelay(-1)).toThrow(/must be a number >= 0/);
    expect(fake.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'seed', namespace: 'seeded' })).toBe(
      true,
    );
    expect(fake.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'seed', namespace: 'seeded' })).toBe(
      false,
    );
  });

  it('rejects a port in use (UNAVAILABLE) and bad options (INVALID_INPUT)', async () => {
    const port = Number(new URL(fake.endpoint).port);
    await expect(startKubernetesFake({ port })).rejects.toMatchObject({
      name: 'ZonekeeperError',
      code: 'UNAVAILABLE',
    });
    await expect(startKubernetesFake({ rolloutDelayMs: -5 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });

  it('stops idempotently', async () => {
    const other = await startKubernetesFake();
    await other.stop();
    await other.stop();
    await expect(send(other, '/version')).rejects.toThrow();
  });
});
