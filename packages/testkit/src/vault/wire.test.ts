/**
 * The Vault fake's raw wire shapes, checked with clients independent of node-vault: `fetch`, `node:http`
 * (for Vault's `LIST` method and kept-alive connections) and a bare TCP socket (pipelined requests).
 */

import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startVaultFake, type VaultFake } from './index.js';

interface RawResponse {
  readonly status: number;
  readonly text: string;
  readonly json: unknown;
  readonly headers: Headers;
}

let fake: VaultFake;

beforeAll(async () => {
  fake = await startVaultFake();
});

afterAll(async () => {
  await fake.stop();
});

beforeEach(() => {
  fake.reset();
});

async function call(
  method: string,
  path: string,
  options: {
    token?: string | null;
    body?: unknown;
    headers?: Record<string, string>;
    endpoint?: string;
  } = {},
): Promise<RawResponse> {
  const token = options.token === undefined ? fake.rootToken : options.token;
  const headers: Record<string, string> = { ...options.headers };
  if (token !== null) headers['X-Vault-Token'] = token;
  if (options.body !== undefined) headers['Content-Type'] ??= 'application/json';
  const res = await fetch(`${options.endpoint ?? fake.endpoint}/v1/${path}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

/** One request through `node:http` (any method, including `LIST`), on the given agent. */
function nodeRequest(
  agent: Agent,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; text: string; reusedSocket: boolean }> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${fake.endpoint}/v1/${path}`);
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        agent,
        headers: { 'X-Vault-Token': fake.rootToken },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            reusedSocket: req.reusedSocket,
          }),
        );
      },
    );
    req.on('error', reject);
    if (body !== undefined) {
      // written in two pieces without a Content-Length: Node sends it chunked
      req.write(body.slice(0, 5));
      req.write(body.slice(5));
    }
    req.end();
  });
}

const envelopeKeys = [
  'request_id',
  'lease_id',
  'renewable',
  'lease_duration',
  'data',
  'wrap_info',
  'warnings',
  'auth',
  'mount_type',
];
const rfc3339Nano = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

describe('response envelope', () => {
  it('wraps a KV v2 write and read in Vault’s envelope, with sorted data keys', async () => {
    const written = await call('POST', 'secret/data/app', { body: { data: { zeta: '1', alpha: '2' } } });
    expect(written.status).toBe(200);
    expect(written.headers.get('content-type')).toBe('application/json');
    expect(written.headers.get('cache-control')).toBe('no-store');
    expect(written.text.endsWith('}\n')).toBe(true);
    const w = written.json as Record<string, unknown>;
    expect(Object.keys(w)).toEqual(envelopeKeys);
    expect(w).toMatchObject({
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      wrap_info: null,
      warnings: null,
      auth: null,
      mount_type: 'kv',
    });
    expect(w.request_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(w.data).toEqual({
      created_time: expect.stringMatching(rfc3339Nano),
      custom_metadata: null,
      deletion_time: '',
      destroyed: false,
      version: 1,
    });

    const read = await call('GET', 'secret/data/app');
    expect(read.status).toBe(200);
    expect(read.text).toContain('"data":{"data":{"alpha":"2","zeta":"1"},"metadata":{"created_time":');
    const r = read.json as { request_id: string; data: { metadata: { created_time: string } } };
    expect(r.request_id).not.toBe(w.request_id);
    expect(r.data.metadata.created_time).toBe((w.data as { created_time: string }).created_time);
  });

  it('answers a never-written path with exactly {"errors":[]}', async () => {
    const res = await call('GET', 'secret/data/never/written');
    expect(res.status).toBe(404);
    expect(res.text).toBe('{"errors":[]}\n');
  });

  it('answers a deleted latest version with 404 and data.data null plus the version metadata', async () => {
    await call('POST', 'secret/data/gone', { body: { data: { a: '1' } } });
    expect((await call('DELETE', 'secret/data/gone')).status).toBe(204);
    const res = await call('GET', 'secret/data/gone');
    expect(res.status).toBe(404);
    const body = res.json as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(envelopeKeys);
    expect(body).not.toHaveProperty('errors');
    expect(body.mount_type).toBe('');
    expect(body.data).toEqual({
      data: null,
      metadata: {
        created_time: expect.stringMatching(rfc3339Nano),
        custom_metadata: null,
        deletion_time: expect.stringMatching(rfc3339Nano),
        destroyed: false,
        version: 1,
      },
    });
  });

  it('answers a check-and-set mismatch with Vault’s exact 400 text', async () => {
    await call('POST', 'secret/data/cas', { body: { data: { a: '1' }, options: { cas: 0 } } });
    const res = await call('PUT', 'secret/data/cas', { body: { data: { a: '2' }, options: { cas: 0 } } });
    expect(res.status).toBe(400);
    expect(res.text).toBe('{"errors":["check-and-set parameter did not match the current version"]}\n');
    const missingData = await call('POST', 'secret/data/cas', { body: { options: { cas: 1 } } });
    expect(missingData.json).toEqual({ errors: ['no data provided'] });
    const badJson = await call('POST', 'secret/data/cas', {
      body: undefined,
      headers: { 'Content-Type': 'application/json' },
    });
    expect(badJson.status).toBe(400);
    const res2 = await fetch(`${fake.endpoint}/v1/secret/data/cas`, {
      method: 'POST',
      headers: { 'X-Vault-Token': fake.rootToken },
      body: '{"data":',
    });
    expect(res2.status).toBe(400);
    expect(await res2.json()).toEqual({ errors: ['error parsing JSON'] });
  });

  it('injects sys/mounts data at the top level too', async () => {
    const res = await call('GET', 'sys/mounts');
    const body = res.json as Record<string, Record<string, unknown>>;
    expect(body['secret/']).toMatchObject({
      type: 'kv',
      options: { version: '2' },
      description: 'key/value secret storage',
    });
    expect(body.data?.['secret/']).toEqual(body['secret/']);
    expect(body.mount_type).toBe('system');
  });
});

describe('listing', () => {
  beforeEach(async () => {
    await call('POST', 'secret/data/dir/a', { body: { data: { v: '1' } } });
    await call('POST', 'secret/data/dir/sub/b', { body: { data: { v: '1' } } });
  });

  it('lists with GET ?list=true and ?list=1, reads with ?list=false, rejects a bad list value', async () => {
    for (const flag of ['true', '1']) {
      const res = await call('GET', `secret/metadata/dir?list=${flag}`);
      expect(res.status).toBe(200);
      expect((res.json as { data: unknown }).data).toEqual({ keys: ['a', 'sub/'] });
    }
    const read = await call('GET', 'secret/metadata/dir?list=false');
    expect(read.status).toBe(404);
    expect(read.text).toBe('{"errors":[]}\n');
    expect((await call('GET', 'secret/metadata/dir?list=maybe')).status).toBe(400);
  });

  it('accepts the LIST method from fetch and from node:http on a kept-alive connection', async () => {
    const viaFetch = await call('LIST', 'secret/metadata/dir');
    expect(viaFetch.status).toBe(200);
    expect((viaFetch.json as { data: unknown }).data).toEqual({ keys: ['a', 'sub/'] });

    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await nodeRequest(agent, 'LIST', 'secret/metadata/dir');
      const write = await nodeRequest(
        agent,
        'POST',
        'secret/data/dir/c',
        JSON.stringify({ data: { v: 'LIST / HTTP/1.1\r\n\r\n' } }),
      );
      const second = await nodeRequest(agent, 'LIST', 'secret/metadata/dir/');
      const third = await nodeRequest(agent, 'LIST', 'secret/metadata/dir/sub');
      expect([first.status, write.status, second.status, third.status]).toEqual([200, 200, 200, 200]);
      expect(JSON.parse(second.text).data.keys).toEqual(['a', 'c', 'sub/']);
      expect(JSON.parse(third.text).data.keys).toEqual(['b']);
      expect([write.reusedSocket, second.reusedSocket, third.reusedSocket]).toEqual([true, true, true]);
    } finally {
      agent.destroy();
    }
    expect(fake.requests.filter((r) => r.method === 'LIST').map((r) => r.path)).toEqual([
      '/v1/secret/metadata/dir',
      '/v1/secret/metadata/dir',
      '/v1/secret/metadata/dir/',
      '/v1/secret/metadata/dir/sub',
    ]);
    expect(fake.peek('secret', 'dir/c')).toMatchObject({
      versions: [{ data: { v: 'LIST / HTTP/1.1\r\n\r\n' } }],
    });
  });

  it('rewrites every pipelined LIST on one raw connection, even after a body that looks like a request', async () => {
    const body = JSON.stringify({ data: { trap: 'x\r\n\r\nLIST /v1/secret/metadata HTTP/1.1\r\n\r\n' } });
    const auth = `X-Vault-Token: ${fake.rootToken}\r\nHost: 127.0.0.1\r\n`;
    const raw =
      `LIST /v1/secret/metadata/dir HTTP/1.1\r\n${auth}\r\n` +
      `POST /v1/secret/data/dir/d HTTP/1.1\r\n${auth}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}` +
      `LIST /v1/secret/metadata/dir HTTP/1.1\r\n${auth}Connection: close\r\n\r\n`;
    const output = await new Promise<string>((resolve, reject) => {
      const socket = connect(fake.port, '127.0.0.1', () => {
        // dribble the bytes so request boundaries fall inside heads and bodies
        const bytes = Buffer.from(raw, 'latin1');
        for (let i = 0; i < bytes.length; i += 7) socket.write(bytes.subarray(i, i + 7));
      });
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.on('error', reject);
    });
    const statuses = [...output.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => m[1]);
    expect(statuses).toEqual(['200', '200', '200']);
    expect(output).toContain('"keys":["a","d","sub/"]');
    expect(fake.requests.map((r) => r.method)).toEqual(['POST', 'POST', 'LIST', 'POST', 'LIST']);
  });
});

describe('KV v2 paths and verbs', () => {
  it('answers KV v1-style paths on a v2 mount with 404 and Vault’s warning', async () => {
    const get = await call('GET', 'secret/app');
    expect(get.status).toBe(404);
    const body = get.json as { warnings: string[]; data: unknown };
    expect(body.data).toBeNull();
    expect(body.warnings).toEqual([
      "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv get' for this operation.",
    ]);
    const put = await call('PUT', 'secret/app', { body: { a: '1' } });
    expect((put.json as { warnings: string[] }).warnings[0]).toContain("use 'vault kv put'");
    const root = await call('GET', 'secret/data');
    expect((root.json as { warnings: string[] }).warnings).toEqual([
      'Non-listing operations on the root of a K/V v2 mount are not supported.',
    ]);
  });

  it('requires the merge-patch content type for PATCH', async () => {
    await call('POST', 'secret/data/p', { body: { data: { a: '1' } } });
    const wrong = await call('PATCH', 'secret/data/p', { body: { data: { a: '2' } } });
    expect(wrong.status).toBe(415);
    expect(wrong.json).toEqual({
      errors: ['PATCH requires Content-Type of application/merge-patch+json, provided application/json'],
    });
    const right = await call('PATCH', 'secret/data/p', {
      body: { data: { b: '2' } },
      headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    expect(right.status).toBe(200);
    const missing = await call('PATCH', 'secret/data/none', {
      body: { data: { b: '2' } },
      headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    expect(missing.status).toBe(404);
    expect(missing.text).toBe('');
  });

  it('returns subkeys without values', async () => {
    await call('POST', 'secret/data/sk', {
      body: { data: { a: 'secret', nested: { b: 'x', c: { d: 'y' } }, empty: {} } },
    });
    const res = await call('GET', 'secret/subkeys/sk');
    expect((res.json as { data: unknown }).data).toMatchObject({
      subkeys: { a: null, empty: null, nested: { b: null, c: { d: null } } },
      metadata: { version: 1 },
    });
    expect(res.text).not.toContain('secret"');
  });

  it('rejects unknown methods with 405 and answers HEAD sys/health without a body', async () => {
    expect((await call('PROPFIND', 'secret/data/x')).status).toBe(405);
    const head = await fetch(`${fake.endpoint}/v1/sys/health`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    fake.seal();
    expect((await fetch(`${fake.endpoint}/v1/sys/health`, { method: 'HEAD' })).status).toBe(503);
    expect((await call('GET', 'sys/health?sealedcode=299')).status).toBe(299);
    expect((await call('GET', 'secret/data/x')).json).toEqual({ errors: ['Vault is sealed'] });
    fake.unseal();
    expect((await call('GET', 'sys/health', { token: null })).status).toBe(200);
  });

  it('seals over HTTP only with sudo on sys/seal', async () => {
    const operator = fake.createToken({ policies: { 'sys/seal': ['update'] } });
    expect((await call('PUT', 'sys/seal', { token: operator })).status).toBe(403);
    expect(fake.sealed).toBe(false);
    const admin = fake.createToken({ policies: { 'sys/seal': ['update', 'sudo'] } });
    expect((await call('PUT', 'sys/seal', { token: admin })).status).toBe(204);
    expect(fake.sealed).toBe(true);
    expect((await call('GET', 'sys/seal-status', { token: null })).json).toMatchObject({
      sealed: true,
      type: 'shamir',
    });
    const wrongKey = await call('PUT', 'sys/unseal', { token: null, body: { key: 'nope' } });
    expect(wrongKey.status).toBe(400);
    expect(
      (await call('PUT', 'sys/unseal', { token: null, body: { key: fake.unsealKey } })).json,
    ).toMatchObject({
      sealed: false,
    });
  });

  it('rejects mounts over or under an existing mount and on protected paths', async () => {
    const nested = await call('POST', 'sys/mounts/secret/nested', {
      body: { type: 'kv', options: { version: '2' } },
    });
    expect(nested.json).toEqual({ errors: ['path is already in use at secret/'] });
    const protectedPath = await call('POST', 'sys/mounts/sys/x', { body: { type: 'kv' } });
    expect(protectedPath.json).toEqual({ errors: ['cannot mount "sys/x/"'] });
    const other = await call('POST', 'sys/mounts/pki', { body: { type: 'pki' } });
    expect(other.status).toBe(400);
    expect(await call('POST', 'sys/mounts/team/kv', { body: { type: 'kv-v2' } })).toMatchObject({
      status: 204,
    });
    expect((await call('GET', 'sys/mounts/team/kv')).json).toMatchObject({
      data: { type: 'kv', options: { version: '2' } },
    });
    expect((await call('DELETE', 'sys/mounts/sys')).json).toEqual({ errors: ['cannot unmount "sys/"'] });
  });
});

describe('KV v1 mounts', () => {
  it('reads, lists, overwrites and deletes unversioned keys, and refuses PATCH', async () => {
    expect(
      (await call('POST', 'sys/mounts/v1kv', { body: { type: 'kv', options: { version: '1' } } })).status,
    ).toBe(204);
    expect((await call('PUT', 'v1kv/team/a', { body: { user: 'u1' } })).status).toBe(204);
    expect((await call('PUT', 'v1kv/team/a', { body: { user: 'u2' } })).status).toBe(204);
    await call('PUT', 'v1kv/team/sub/b', { body: { user: 'x' } });
    const read = await call('GET', 'v1kv/team/a');
    expect(read.json).toMatchObject({ data: { user: 'u2' }, lease_duration: 2_764_800, mount_type: 'kv' });
    expect((await call('LIST', 'v1kv/team')).json).toMatchObject({ data: { keys: ['a', 'sub/'] } });
    expect((await call('POST', 'v1kv/team/empty', { body: {} })).json).toEqual({
      errors: ['missing data fields'],
    });
    const patch = await call('PATCH', 'v1kv/team/a', {
      body: { user: 'u3' },
      headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    expect(patch.status).toBe(405);
    expect((await call('DELETE', 'v1kv/team/a')).status).toBe(204);
    expect((await call('GET', 'v1kv/team/a')).text).toBe('{"errors":[]}\n');
  });
});

describe('tokens and policies over HTTP', () => {
  it('accepts Authorization: Bearer as well as X-Vault-Token', async () => {
    const res = await call('GET', 'auth/token/lookup-self', {
      token: null,
      headers: { Authorization: `Bearer ${fake.rootToken}` },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ data: { policies: ['root'] }, mount_type: 'token' });
  });

  it('creates child tokens whose policies are a subset of the parent’s', async () => {
    await call('PUT', 'sys/policy/reader', {
      body: { policy: 'path "secret/data/*" { capabilities = ["read"] }' },
    });
    const created = await call('POST', 'auth/token/create', { body: { policies: ['reader'], ttl: '1h' } });
    expect(created.status).toBe(200);
    const auth = (
      created.json as { auth: { client_token: string; policies: string[]; lease_duration: number } }
    ).auth;
    expect(auth.policies).toEqual(['default', 'reader']);
    expect(auth.lease_duration).toBe(3600);
    const escalate = await call('POST', 'auth/token/create', {
      token: auth.client_token,
      body: { policies: ['admin'] },
    });
    // `default` does not grant auth/token/create, so the ACL refuses first
    expect(escalate.status).toBe(403);
    const caps = await call('POST', 'sys/capabilities-self', {
      token: auth.client_token,
      body: { paths: ['secret/data/x', 'secret/metadata/x'] },
    });
    expect((caps.json as { data: unknown }).data).toEqual({
      capabilities: ['deny', 'read'],
      'secret/data/x': ['read'],
      'secret/metadata/x': ['deny'],
    });
    const policy = await call('GET', 'sys/policy/reader');
    expect((policy.json as { data: { rules: string } }).data.rules).toContain('secret/data/*');
    const bad = await call('PUT', 'sys/policy/broken', {
      body: { policy: 'path "x" { capabilities = ["fly"] }' },
    });
    expect(bad.status).toBe(400);
    expect((bad.json as { errors: string[] }).errors[0]).toContain('invalid capability');
  });

  it('answers the `vault kv` preflight (sys/internal/ui/mounts) by what the token may use', async () => {
    const root = await call('GET', 'sys/internal/ui/mounts/secret');
    expect(root.status).toBe(200);
    expect((root.json as { data: unknown }).data).toMatchObject({
      path: 'secret/',
      type: 'kv',
      options: { version: '2' },
    });
    // A path inside the mount names the mount.
    const inside = await call('GET', 'sys/internal/ui/mounts/secret/zonekeeper/platforms/x');
    expect((inside.json as { data: { path: string } }).data.path).toBe('secret/');
    await call('PUT', 'sys/policies/acl/zk', {
      body: { policy: 'path "secret/data/zonekeeper/*" { capabilities = ["read"] }' },
    });
    const token = async (policies: string[]) =>
      (
        (await call('POST', 'auth/token/create', { body: { policies } })).json as {
          auth: { client_token: string };
        }
      ).auth.client_token;
    const scoped = await token(['zk']);
    const nothing = await token(['default']);
    // No grant on sys/internal/ui/mounts itself is needed: a grant under the mount is.
    expect((await call('GET', 'sys/internal/ui/mounts/secret', { token: scoped })).status).toBe(200);
    const list = await call('GET', 'sys/internal/ui/mounts', { token: scoped });
    expect(Object.keys((list.json as { data: { secret: object } }).data.secret)).toContain('secret/');
    const refused = await call('GET', 'sys/internal/ui/mounts/secret', { token: nothing });
    expect(refused.status).toBe(403);
    expect(refused.json).toEqual({
      errors: [
        'preflight capability check returned 403, please ensure client\'s policies grant access to path "secret/"',
      ],
    });
    // An absent mount is the same 403 (Vault does not tell which), even for root.
    expect((await call('GET', 'sys/internal/ui/mounts/nowhere')).status).toBe(403);
    expect(
      Object.keys(
        (
          (await call('GET', 'sys/internal/ui/mounts', { token: nothing })).json as {
            data: { secret: object };
          }
        ).data.secret,
      ),
    ).not.toContain('secret/');
  });

  it('renews and revokes the calling token', async () => {
    const token = fake.createToken({ ttlSeconds: 60 });
    const renewed = await call('POST', 'auth/token/renew-self', { token, body: { increment: '2h' } });
    expect(renewed.status).toBe(200);
    expect((renewed.json as { auth: { lease_duration: number; client_token: string } }).auth).toMatchObject({
      lease_duration: 7200,
      client_token: token,
    });
    expect((await call('POST', 'auth/token/revoke-self', { token })).status).toBe(204);
    expect((await call('GET', 'auth/token/lookup-self', { token })).status).toBe(403);
    const rootRenew = await call('POST', 'auth/token/renew-self', { body: {} });
    expect(rootRenew.json).toEqual({ errors: ['lease is not renewable'] });
  });

  it('never records tokens or bodies in the request log', async () => {
    const token = fake.createToken({ policies: { 'secret/*': ['create', 'read'] } });
    await call('POST', 'secret/data/log', { token, body: { data: { password: 'hunter2-very-secret' } } });
    await call('GET', 'secret/data/log', { token });
    const log = JSON.stringify(fake.requests);
    expect(log).not.toContain(token);
    expect(log).not.toContain(fake.rootToken);
    expect(log).not.toContain('hunter2');
    expect(fake.requests.map((r) => Object.keys(r).sort())).toEqual([
      ['injected', 'method', 'path', 'query', 'status'],
      ['injected', 'method', 'path', 'query', 'status'],
    ]);
  });

  it('fails only matching requests with failNext({ match })', async () => {
    fake.failNext(1, 502, { match: (r) => r.path.startsWith('/v1/secret/'), message: 'upstream broke' });
    expect((await call('GET', 'sys/health')).status).toBe(200);
    const failed = await call('GET', 'secret/data/x');
    expect(failed.status).toBe(502);
    expect(failed.json).toEqual({ errors: ['upstream broke'] });
    expect((await call('GET', 'secret/data/x')).status).toBe(404);
    expect(() => fake.failNext(1, 404)).toThrow(RangeError);
  });
});

describe('time', () => {
  it('applies delete_version_after and token TTLs against the injected clock', async () => {
    let nowMs = Date.parse('2026-03-01T10:00:00.000Z');
    const timed = await startVaultFake({ clock: { now: () => new Date(nowMs) } });
    try {
      const opts = { endpoint: timed.endpoint, token: timed.rootToken };
      await call('POST', 'secret/metadata/expiring', { ...opts, body: { delete_version_after: '1h' } });
      const written = await call('POST', 'secret/data/expiring', { ...opts, body: { data: { a: '1' } } });
      const meta = (written.json as { data: { created_time: string; deletion_time: string } }).data;
      expect(meta.created_time.startsWith('2026-03-01T10:00:00.')).toBe(true);
      expect(meta.deletion_time.startsWith('2026-03-01T11:00:00.')).toBe(true);
      expect((await call('GET', 'secret/data/expiring', opts)).status).toBe(200);

      const token = timed.createToken({ ttlSeconds: 60 });
      expect((await call('GET', 'auth/token/lookup-self', { ...opts, token })).status).toBe(200);

      nowMs += 2 * 3600 * 1000;
      const expired = await call('GET', 'secret/data/expiring', opts);
      expect(expired.status).toBe(404);
      expect((expired.json as { data: { data: unknown } }).data.data).toBeNull();
      const lookup = await call('GET', 'auth/token/lookup-self', { ...opts, token });
      expect(lookup.status).toBe(403);
      expect((lookup.json as { errors: string[] }).errors[0]).toContain('invalid token');
      const metadata = await call('GET', 'secret/metadata/expiring', opts);
      expect((metadata.json as { data: { delete_version_after: string } }).data.delete_version_after).toBe(
        '1h0m0s',
      );
    } finally {
      await timed[Symbol.asyncDispose]();
    }
  });

  it('stops listening after stop(), and stop() is idempotent', async () => {
    const short = await startVaultFake();
    await short.stop();
    await short.stop();
    await expect(fetch(`${short.endpoint}/v1/sys/health`)).rejects.toThrow();
  });
});

describe('direct access', () => {
  it('seeds and peeks secrets without HTTP or the request log', async () => {
    expect(fake.seed('secret', 'seeded/key', { a: '1' })).toBe(1);
    expect(fake.seed('secret/', '/seeded/key', { a: '2' })).toBe(2);
    const read = await call('GET', 'secret/data/seeded/key?version=1');
    expect((read.json as { data: { data: unknown } }).data.data).toEqual({ a: '1' });
    const peeked = fake.peek('secret', 'seeded/key');
    expect(peeked).toMatchObject({
      engine: 'kv-v2',
      currentVersion: 2,
      versions: [{ version: 1 }, { version: 2, data: { a: '2' } }],
    });
    expect(fake.requests).toHaveLength(1);
    expect(() => fake.peek('nope', 'x')).toThrow('no KV mount');
    expect(() => fake.seed('sys', 'x', {})).toThrow('no KV mount');
  });
});
