/**
 * The Vault fake driven by the real `node-vault` 0.12 client, for every call zonekeeper makes. The whole
 * suite runs twice: with `noCustomHTTPVerbs: true` (lists are `GET …?list=1`) and without it (lists use
 * Vault's `LIST` method, which only works because of the fake's TCP front).
 */

import vault from 'node-vault';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startVaultFake, type VaultFake } from './index.js';

interface VaultRejection {
  readonly message: string;
  readonly response: { readonly statusCode: number; readonly body: unknown };
}

/** Awaits a promise that must reject and returns node-vault's error. */
async function rejectionOf(promise: Promise<unknown>): Promise<VaultRejection> {
  let value: unknown;
  try {
    value = await promise;
  } catch (error) {
    return error as VaultRejection;
  }
  throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
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

describe.each([
  { noCustomHTTPVerbs: true, listMethod: 'GET' },
  { noCustomHTTPVerbs: false, listMethod: 'LIST' },
])('node-vault 0.12 (noCustomHTTPVerbs: $noCustomHTTPVerbs)', ({ noCustomHTTPVerbs, listMethod }) => {
  function client(token: string = fake.rootToken): vault.client {
    const c = vault({ apiVersion: 'v1', endpoint: fake.endpoint, token, noCustomHTTPVerbs });
    c.token = token; // an empty string must stay empty (node-vault would fall back to VAULT_TOKEN)
    return c;
  }

  describe('KV v2 data', () => {
    it('writes versions and reads the latest or a given version', async () => {
      const v = client();
      const first = await v.write('secret/data/zonekeeper/orgs/acme/key', {
        data: { id: 'AKIA1', secret: 's1' },
      });
      expect(first.data.version).toBe(1);
      expect(first.data.deletion_time).toBe('');
      expect(first.data.destroyed).toBe(false);
      const second = await v.write('secret/data/zonekeeper/orgs/acme/key', {
        data: { id: 'AKIA2', secret: 's2' },
      });
      expect(second.data.version).toBe(2);

      const latest = await v.read('secret/data/zonekeeper/orgs/acme/key');
      expect(latest.data.data).toEqual({ id: 'AKIA2', secret: 's2' });
      expect(latest.data.metadata.version).toBe(2);
      expect(latest.data.metadata.created_time).toBe(second.data.created_time);

      const old = await v.read('secret/data/zonekeeper/orgs/acme/key?version=1');
      expect(old.data.data).toEqual({ id: 'AKIA1', secret: 's1' });
      expect(old.data.metadata.version).toBe(1);
      expect(fake.requests.at(-1)).toMatchObject({ method: 'GET', query: 'version=1', status: 200 });
    });

    it('rejects a never-written path with 404 and the message "Status 404"', async () => {
      const error = await rejectionOf(client().read('secret/data/nothing/here'));
      expect(error.message).toBe('Status 404');
      expect(error.response.statusCode).toBe(404);
      expect(error.response.body).toEqual({ errors: [] });
    });

    it('enforces check-and-set: cas 0 creates only, a stale cas is rejected', async () => {
      const v = client();
      const created = await v.write('secret/data/cas', { data: { a: '1' }, options: { cas: 0 } });
      expect(created.data.version).toBe(1);

      const again = await rejectionOf(v.write('secret/data/cas', { data: { a: '2' }, options: { cas: 0 } }));
      expect(again.response.statusCode).toBe(400);
      expect(again.message).toBe('check-and-set parameter did not match the current version');
      expect(again.response.body).toEqual({
        errors: ['check-and-set parameter did not match the current version'],
      });

      const next = await v.write('secret/data/cas', { data: { a: '2' }, options: { cas: 1 } });
      expect(next.data.version).toBe(2);
      const stale = await rejectionOf(v.write('secret/data/cas', { data: { a: '3' }, options: { cas: 1 } }));
      expect(stale.message).toBe('check-and-set parameter did not match the current version');
      expect(fake.peek('secret', 'cas')).toMatchObject({ currentVersion: 2 });
    });

    it('lets exactly one of many concurrent create-only writes win', async () => {
      const v = client();
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          v.write('secret/data/race', { data: { writer: String(i) }, options: { cas: 0 } }),
        ),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost.map((r) => (r.reason as VaultRejection).response.statusCode)).toEqual(Array(9).fill(400));
      expect(fake.peek('secret', 'race')).toMatchObject({ currentVersion: 1 });
    });

    it('requires cas when the key metadata says cas_required', async () => {
      const v = client();
      await v.write('secret/metadata/strict', { cas_required: true });
      const missing = await rejectionOf(v.write('secret/data/strict', { data: { a: '1' } }));
      expect(missing.response.statusCode).toBe(400);
      expect(missing.message).toBe('check-and-set parameter required for this call');
      const written = await v.write('secret/data/strict', { data: { a: '1' }, options: { cas: 0 } });
      expect(written.data.version).toBe(1);
    });

    it('requires cas when the engine config says cas_required', async () => {
      const v = client();
      await v.write('secret/config', { cas_required: true, max_versions: 5 });
      const config = await v.read('secret/config');
      expect(config.data).toEqual({ cas_required: true, delete_version_after: '0s', max_versions: 5 });
      const missing = await rejectionOf(v.write('secret/data/any', { data: { a: '1' } }));
      expect(missing.message).toBe('check-and-set parameter required for this call');
      await expect(
        v.write('secret/data/any', { data: { a: '1' }, options: { cas: 0 } }),
      ).resolves.toMatchObject({
        data: { version: 1 },
      });
    });

    it('patches with update() as a JSON merge patch and 404s on a missing key', async () => {
      const v = client();
      await v.write('secret/data/patch', { data: { keep: 'k', drop: 'd', nested: { a: 1, b: 2 } } });
      const patched = await v.update('secret/data/patch', {
        data: { drop: null, add: 'x', nested: { b: 3 } },
      });
      expect(patched.data.version).toBe(2);
      const read = await v.read('secret/data/patch');
      expect(read.data.data).toEqual({ keep: 'k', add: 'x', nested: { a: 1, b: 3 } });
      expect(fake.requests.find((r) => r.method === 'PATCH')).toMatchObject({ status: 200 });

      const missing = await rejectionOf(v.update('secret/data/absent', { data: { a: '1' } }));
      expect(missing.response.statusCode).toBe(404);
      expect(missing.message).toBe('Status 404');

      const stale = await rejectionOf(
        v.update('secret/data/patch', { data: { a: '1' }, options: { cas: 1 } }),
      );
      expect(stale.message).toBe('check-and-set parameter did not match the current version');
    });

    it('soft-deletes the latest version, answers 404 with the metadata, and undeletes it', async () => {
      const v = client();
      await v.write('secret/data/soft', { data: { a: '1' } });
      await v.delete('secret/data/soft');
      const gone = await rejectionOf(v.read('secret/data/soft'));
      expect(gone.response.statusCode).toBe(404);
      expect(gone.message).toBe('Status 404');
      const body = gone.response.body as { data: { data: unknown; metadata: Record<string, unknown> } };
      expect(body.data.data).toBeNull();
      expect(body.data.metadata).toMatchObject({ version: 1, destroyed: false });
      expect(body.data.metadata.deletion_time).not.toBe('');
      expect(fake.peek('secret', 'soft')).toMatchObject({
        versions: [{ version: 1, deleted: true, data: { a: '1' } }],
      });

      await v.write('secret/undelete/soft', { versions: [1] });
      const back = await v.read('secret/data/soft');
      expect(back.data.data).toEqual({ a: '1' });
      expect(back.data.metadata.deletion_time).toBe('');
    });

    it('soft-deletes chosen versions with delete/<path>', async () => {
      const v = client();
      await v.write('secret/data/multi', { data: { n: '1' } });
      await v.write('secret/data/multi', { data: { n: '2' } });
      await v.write('secret/delete/multi', { versions: [1] });
      await expect(rejectionOf(v.read('secret/data/multi?version=1'))).resolves.toMatchObject({
        response: { statusCode: 404 },
      });
      await expect(v.read('secret/data/multi')).resolves.toMatchObject({ data: { data: { n: '2' } } });
      const none = await rejectionOf(v.write('secret/delete/multi', { versions: [] }));
      expect(none.message).toBe('No version number provided');
    });

    it('destroys versions with destroySecretVersions()', async () => {
      const v = client();
      await v.write('secret/data/apps/db', { data: { password: 'p1' } });
      await v.write('secret/data/apps/db', { data: { password: 'p2' } });
      await v.destroySecretVersions({ mount_point: 'secret', path: 'apps/db', versions: [2] });
      expect(fake.requests.at(-1)).toMatchObject({
        method: 'POST',
        path: '/v1/secret/destroy/apps/db',
        status: 204,
      });
      const destroyed = await rejectionOf(v.read('secret/data/apps/db'));
      const body = destroyed.response.body as { data: { data: unknown; metadata: Record<string, unknown> } };
      expect(destroyed.response.statusCode).toBe(404);
      expect(body.data).toMatchObject({ data: null, metadata: { version: 2, destroyed: true } });
      const peeked = fake.peek('secret', 'apps/db');
      expect(peeked?.engine === 'kv-v2' && peeked.versions.map((x) => x.data)).toEqual([
        { password: 'p1' },
        null,
      ]);
      // undelete cannot bring a destroyed version back
      await v.write('secret/undelete/apps/db', { versions: [2] });
      await expect(rejectionOf(v.read('secret/data/apps/db'))).resolves.toMatchObject({
        response: { statusCode: 404 },
      });
    });
  });

  describe('KV v2 metadata and listing', () => {
    it('lists direct children, folders with a trailing slash', async () => {
      const v = client();
      await v.write('secret/data/zonekeeper/orgs/acme/aws-access-key', { data: { a: '1' } });
      await v.write('secret/data/zonekeeper/orgs/beta/aws-access-key', { data: { a: '1' } });
      await v.write('secret/data/zonekeeper/orgs', { data: { a: '1' } });
      await v.write('secret/data/top', { data: { a: '1' } });

      const root = await v.list('secret/metadata');
      expect(root.data.keys).toEqual(['top', 'zonekeeper/']);
      const orgs = await v.list('secret/metadata/zonekeeper/orgs');
      expect(orgs.data.keys).toEqual(['acme/', 'beta/']);
      const parent = await v.list('secret/metadata/zonekeeper/');
      expect(parent.data.keys).toEqual(['orgs', 'orgs/']);

      const listRequest = fake.requests.at(-1);
      expect(listRequest?.method).toBe(listMethod);
      expect(listRequest?.query).toBe(listMethod === 'GET' ? 'list=1' : '');
      expect(listRequest?.status).toBe(200);
    });

    it('answers an empty listing with 404 {"errors":[]}', async () => {
      const error = await rejectionOf(client().list('secret/metadata/zonekeeper/nothing'));
      expect(error.response.statusCode).toBe(404);
      expect(error.response.body).toEqual({ errors: [] });
      expect(error.message).toBe('Status 404');
    });

    it('writes and reads key metadata, prunes to max_versions, and deletes everything', async () => {
      const v = client();
      await v.write('secret/metadata/meta', {
        max_versions: 2,
        custom_metadata: { owner: 'zonekeeper', org: 'acme' },
      });
      for (const n of ['1', '2', '3']) await v.write('secret/data/meta', { data: { n } });

      const meta = await v.read('secret/metadata/meta');
      expect(meta.data).toMatchObject({
        current_version: 3,
        oldest_version: 2,
        max_versions: 2,
        cas_required: false,
        delete_version_after: '0s',
        custom_metadata: { org: 'acme', owner: 'zonekeeper' },
      });
      expect(Object.keys(meta.data.versions)).toEqual(['2', '3']);
      expect(meta.data.versions['3']).toEqual({
        created_time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/),
        deletion_time: '',
        destroyed: false,
      });
      const pruned = await rejectionOf(v.read('secret/data/meta?version=1'));
      expect(pruned.response.body).toEqual({ errors: [] });
      const data = await v.read('secret/data/meta');
      expect(data.data.metadata.custom_metadata).toEqual({ org: 'acme', owner: 'zonekeeper' });

      await v.delete('secret/metadata/meta');
      expect(fake.peek('secret', 'meta')).toBeUndefined();
      await expect(rejectionOf(v.read('secret/metadata/meta'))).resolves.toMatchObject({
        response: { statusCode: 404, body: { errors: [] } },
      });
      await expect(rejectionOf(v.list('secret/metadata'))).resolves.toMatchObject({
        response: { statusCode: 404 },
      });
    });
  });

  describe('system endpoints', () => {
    it('reports health, and a sealed server as 503 (resolved, as node-vault does for sys/health)', async () => {
      const v = client();
      const healthy = await v.health();
      expect(healthy).toMatchObject({ initialized: true, sealed: false, standby: false, version: '1.19.0' });
      expect(fake.requests.at(-1)).toMatchObject({ path: '/v1/sys/health', status: 200 });

      fake.seal();
      const sealed = await v.health();
      expect(sealed).toMatchObject({ initialized: true, sealed: true });
      expect(fake.requests.at(-1)?.status).toBe(503);
      await v.health({ sealedcode: 200 });
      expect(fake.requests.at(-1)).toMatchObject({ query: 'sealedcode=200', status: 200 });

      const status = await v.status();
      expect(status).toMatchObject({ sealed: true, t: 1, n: 1, progress: 0 });
      const refused = await rejectionOf(v.read('secret/data/x'));
      expect(refused.response.statusCode).toBe(503);
      expect(refused.message).toBe('Vault is sealed');

      const unsealed = await v.unseal({ key: fake.unsealKey });
      expect(unsealed.sealed).toBe(false);
      expect(fake.sealed).toBe(false);
    });

    it('answers 429 for a standby unless standbyok is set', async () => {
      const v = client();
      fake.setStandby(true);
      await v.health();
      expect(fake.requests.at(-1)?.status).toBe(429);
      const ok = await v.health({ standbyok: true });
      expect(ok.standby).toBe(true);
      expect(fake.requests.at(-1)).toMatchObject({ query: 'standbyok=true', status: 200 });
    });

    it('lists, mounts and unmounts KV engines', async () => {
      const v = client();
      const mounts = await v.mounts();
      expect(mounts['secret/']).toMatchObject({ type: 'kv', options: { version: '2' } });
      expect(mounts.data['secret/']).toMatchObject({ type: 'kv', options: { version: '2' } });
      expect(Object.keys(mounts.data).sort()).toEqual(['cubbyhole/', 'identity/', 'secret/', 'sys/']);

      await v.mount({ mount_point: 'platform', type: 'kv', options: { version: '2' } });
      await v.write('platform/data/x', { data: { a: '1' }, options: { cas: 0 } });
      await expect(v.read('platform/data/x')).resolves.toMatchObject({ data: { data: { a: '1' } } });

      const taken = await rejectionOf(
        v.mount({ mount_point: 'platform', type: 'kv', options: { version: '2' } }),
      );
      expect(taken.response.statusCode).toBe(400);
      expect(taken.message).toBe('path is already in use at platform/');

      await v.mount({ mount_point: 'legacy', type: 'kv' });
      await v.write('legacy/app', { user: 'u' });
      const legacy = await v.read('legacy/app');
      expect(legacy.data).toEqual({ user: 'u' });
      expect(legacy.lease_duration).toBe(2_764_800);
      expect(fake.peek('legacy', 'app')).toEqual({ engine: 'kv-v1', path: 'app', data: { user: 'u' } });

      await v.unmount({ mount_point: 'platform' });
      const unmounted = await rejectionOf(v.read('platform/data/x'));
      expect(unmounted.response.statusCode).toBe(404);
      expect(unmounted.message).toBe('no handler for route "platform/data/x". route entry not found.');
      await expect(v.unmount({ mount_point: 'never-mounted' })).resolves.toBe('');
    });

    it('looks up the calling token', async () => {
      const root = await client().tokenLookupSelf();
      expect(root.data).toMatchObject({
        id: fake.rootToken,
        policies: ['root'],
        path: 'auth/token/root',
        ttl: 0,
      });

      const token = fake.createToken({
        policies: { 'secret/data/zonekeeper/*': ['read'] },
        ttlSeconds: 3600,
      });
      const self = await client(token).tokenLookupSelf();
      expect(self.data.policies).toEqual(['default', 'fake-inline-1']);
      expect(self.data.ttl).toBeGreaterThan(3590);
      expect(self.data.ttl).toBeLessThanOrEqual(3600);
      expect(self.data.renewable).toBe(true);
    });
  });

  describe('permissions', () => {
    it('denies a request without a token', async () => {
      const error = await rejectionOf(client('').read('secret/data/x'));
      expect(error.response.statusCode).toBe(403);
      expect(error.message).toBe('permission denied');
      expect(error.response.body).toEqual({ errors: ['permission denied'] });
    });

    it('denies an unknown or revoked token with "invalid token"', async () => {
      const unknown = await rejectionOf(client('hvs.not-a-token').read('secret/data/x'));
      expect(unknown.response.statusCode).toBe(403);
      expect(unknown.message).toBe('2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n');

      const token = fake.createToken({ policies: { 'secret/*': ['read'] } });
      expect(fake.revokeToken(token)).toBe(true);
      const revoked = await rejectionOf(client(token).tokenLookupSelf());
      expect(revoked.message).toContain('invalid token');
    });

    it('denies an operation the policy lacks, and tells create from update', async () => {
      const token = fake.createToken({
        policies: {
          'secret/data/zonekeeper/*': ['create', 'read'],
          'secret/metadata/zonekeeper/*': ['read'],
        },
      });
      const v = client(token);
      await expect(v.write('secret/data/zonekeeper/new', { data: { a: '1' } })).resolves.toMatchObject({
        data: { version: 1 },
      });
      const overwrite = await rejectionOf(v.write('secret/data/zonekeeper/new', { data: { a: '2' } }));
      expect(overwrite.response.statusCode).toBe(403);
      expect(overwrite.message).toBe('1 error occurred:\n\t* permission denied\n\n');
      await expect(v.read('secret/data/zonekeeper/new')).resolves.toMatchObject({
        data: { data: { a: '1' } },
      });
      const del = await rejectionOf(v.delete('secret/data/zonekeeper/new'));
      expect(del.response.statusCode).toBe(403);
      const patch = await rejectionOf(v.update('secret/data/zonekeeper/new', { data: { a: '3' } }));
      expect(patch.response.statusCode).toBe(403);
      // LIST needs `list` on the metadata path; `read` is not enough
      const list = await rejectionOf(v.list('secret/metadata/zonekeeper'));
      expect(list.response.statusCode).toBe(403);
      await expect(v.read('secret/metadata/zonekeeper/new')).resolves.toMatchObject({
        data: { current_version: 1 },
      });
      expect(fake.peek('secret', 'zonekeeper/new')).toMatchObject({ currentVersion: 1 });
    });

    it('allows a token on its own prefix only', async () => {
      fake.setPolicy(
        'org-acme',
        `
        # what one organisation's workload may do
        path "secret/data/zonekeeper/orgs/acme/*" {
          capabilities = ["create", "read", "update", "patch", "delete"]
        }
        path "secret/metadata/zonekeeper/orgs/acme/*" {
          capabilities = ["list", "read", "delete"]
        }
        `,
      );
      const token = fake.createToken({ policies: ['org-acme'] });
      const v = client(token);
      await v.write('secret/data/zonekeeper/orgs/acme/key', { data: { a: '1' } });
      await v.write('secret/data/zonekeeper/orgs/acme/key', { data: { a: '2' } });
      await v.update('secret/data/zonekeeper/orgs/acme/key', { data: { b: '3' } });
      const listed = await v.list('secret/metadata/zonekeeper/orgs/acme');
      expect(listed.data.keys).toEqual(['key']);

      await client().write('secret/data/zonekeeper/orgs/beta/key', { data: { a: 'beta' } });
      for (const attempt of [
        v.read('secret/data/zonekeeper/orgs/beta/key'),
        v.write('secret/data/zonekeeper/orgs/beta/key', { data: { a: 'x' } }),
        v.list('secret/metadata/zonekeeper/orgs/beta'),
        v.delete('secret/metadata/zonekeeper/orgs/beta/key'),
        v.list('secret/metadata/zonekeeper/orgs'),
        v.mounts(),
      ]) {
        const denied = await rejectionOf(attempt);
        expect(denied.response.statusCode).toBe(403);
        expect(denied.message).toBe('1 error occurred:\n\t* permission denied\n\n');
      }
      expect(fake.peek('secret', 'zonekeeper/orgs/beta/key')).toMatchObject({ currentVersion: 1 });
      await expect(v.tokenLookupSelf()).resolves.toMatchObject({
        data: { policies: ['default', 'org-acme'] },
      });
    });

    it('honours deny over a broader grant', async () => {
      const token = fake.createToken({
        policies: [
          { 'secret/*': ['create', 'read', 'update', 'list'] },
          { 'secret/data/locked/*': ['deny'] },
        ],
      });
      const v = client(token);
      await v.write('secret/data/open/x', { data: { a: '1' } });
      const denied = await rejectionOf(v.write('secret/data/locked/x', { data: { a: '1' } }));
      expect(denied.response.statusCode).toBe(403);
    });
  });

  describe('failure injection', () => {
    it('fails the next requests with the given status, then serves again', async () => {
      const v = client();
      await v.write('secret/data/resilient', { data: { a: '1' } });
      fake.failNext(2, 503);
      for (let i = 0; i < 2; i++) {
        const error = await rejectionOf(v.read('secret/data/resilient'));
        expect(error.response.statusCode).toBe(503);
        expect(error.message).toBe('internal error');
      }
      await expect(v.read('secret/data/resilient')).resolves.toMatchObject({ data: { data: { a: '1' } } });
      expect(fake.requests.slice(-3).map((r) => [r.status, r.injected])).toEqual([
        [503, true],
        [503, true],
        [200, false],
      ]);
    });
  });
});
