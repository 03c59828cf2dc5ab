import { hasErrorCode, type Logger } from '@zonekeeper/core';
import { startVaultFake, type VaultFake } from '@zonekeeper/testkit/vault';
import vault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAccessKey, writeAccessKey } from './layout.js';
import { secretStoreContract, storeLockContract } from './testing.js';
import { createVaultSecretStore, type VaultClientLike, vaultErrorText } from './vault.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

let fake: VaultFake;
beforeAll(async () => {
  fake = await startVaultFake();
});
afterAll(async () => {
  await fake.stop();
});

secretStoreContract({
  name: 'vault (testkit fake, node-vault client)',
  create: async () => ({ store: createVaultSecretStore({ endpoint: fake.endpoint, token: fake.rootToken }) }),
});

storeLockContract({
  name: 'vault (testkit fake, two node-vault clients)',
  create: async () => ({
    store: createVaultSecretStore({ endpoint: fake.endpoint, token: fake.rootToken }),
    otherProcess: createVaultSecretStore({ endpoint: fake.endpoint, token: fake.rootToken }),
  }),
});

secretStoreContract({
  name: 'vault (caller-built client, custom mount)',
  create: async () => {
    const client = vault({
      apiVersion: 'v1',
      endpoint: fake.endpoint,
      token: fake.rootToken,
      noCustomHTTPVerbs: true,
    });
    await client.mount({ mount_point: 'platform-kv', type: 'kv', options: { version: '2' } });
    return { store: createVaultSecretStore({ client, mount: 'platform-kv' }) };
  },
});

/** Every value of an object graph that can be reached through enumerable properties, plus message/stack. */
function everything(value: unknown, seen = new Set<unknown>()): string {
  if (value === null || typeof value !== 'object') return String(value);
  if (seen.has(value)) return '';
  seen.add(value);
  const e = value as { message?: unknown; stack?: unknown; cause?: unknown };
  const parts = [String(e.message ?? ''), String(e.stack ?? ''), everything(e.cause, seen)];
  for (const v of Object.values(value)) parts.push(everything(v, seen));
  return parts.join('\n');
}

describe('Vault adapter: translation, least privilege and secrecy', () => {
  const key = {
    userName: 'zk-acme',
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    secretAccessKey: SECRET,
    createdAt: new Date('2026-05-01T10:00:00Z'),
  };

  it('stores access keys under the documented layout with secret-free metadata', async () => {
    const store = createVaultSecretStore({ endpoint: fake.endpoint, token: fake.rootToken });
    await writeAccessKey(store, { organization: 'layout' }, key, { cas: 0 });
    expect((await readAccessKey(store, { organization: 'layout' }))?.secretAccessKey).toBe(SECRET);
    const raw = fake.peek('secret', 'zonekeeper/orgs/layout/aws-access-key');
    expect(JSON.stringify(raw)).toContain('AKIAIOSFODNN7EXAMPLE');
    const meta = await store.readMetadata('zonekeeper/orgs/layout/aws-access-key');
    expect(meta?.customMetadata['access-key-id']).toBe('AKIAIOSFODNN7EXAMPLE');
    expect(JSON.stringify(meta)).not.toContain(SECRET);
  });

  it('works with a least-privilege token limited to the zonekeeper prefix, and is denied elsewhere', async () => {
    const token = fake.createToken({
      policies: {
        'secret/data/zonekeeper/*': ['create', 'read', 'update'],
        'secret/metadata/zonekeeper/*': ['create', 'read', 'update', 'list', 'delete'],
      },
    });
    const store = createVaultSecretStore({ endpoint: fake.endpoint, token });
    await writeAccessKey(store, { organization: 'scoped' }, key, { cas: 0 });
    expect((await readAccessKey(store, { organization: 'scoped' }))?.accessKeyId).toBe(key.accessKeyId);
    const denied = await store.write('other-team/db', { password: SECRET }, { cas: 0 }).catch((e) => e);
    expect(hasErrorCode(denied, 'PERMISSION_DENIED')).toBe(true);
    expect(denied.message).toMatch(/^Vault: write other-team\/db was denied/);
    expect(everything(denied)).not.toContain(SECRET);
    expect(everything(denied)).not.toContain(token);
  });

  it('reports an unknown token as PERMISSION_DENIED without echoing it', async () => {
    const store = createVaultSecretStore({
      endpoint: fake.endpoint,
      token: 'hvs.not-a-real-token-1234567890',
    });
    const e = await store.read('zonekeeper/x').catch((x) => x);
    expect(hasErrorCode(e, 'PERMISSION_DENIED')).toBe(true);
    // Vault's "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n", as one sentence.
    expect(e.message).toBe(
      'Vault: read zonekeeper/x was denied (permission denied, invalid token); check that the token is valid and its policy covers this path.',
    );
    expect(everything(e)).not.toContain('not-a-real-token');
  });

  it('maps a sealed Vault, 5xx and 429 to retryable errors, and a CAS mismatch to CONFLICT', async () => {
    const store = createVaultSecretStore({ endpoint: fake.endpoint, token: fake.rootToken });
    fake.seal();
    try {
      const sealed = await store.read('zonekeeper/sealed').catch((x) => x);
      expect(hasErrorCode(sealed, 'UNAVAILABLE')).toBe(true);
      expect(sealed.message).toMatch(/sealed/);
    } finally {
      fake.unseal();
    }
    fake.failNext(1, 503);
    expect(hasErrorCode(await store.read('zonekeeper/x').catch((x) => x), 'UNAVAILABLE')).toBe(true);
    fake.failNext(1, 429);
    const throttled = await store.read('zonekeeper/x').catch((x) => x);
    expect(hasErrorCode(throttled, 'THROTTLED')).toBe(true);
    expect(throttled.retry).toBe('transient');
    await store.write('zonekeeper/cas', { a: SECRET }, { cas: 0 });
    const conflict = await store.write('zonekeeper/cas', { a: SECRET }, { cas: 0 }).catch((x) => x);
    expect(hasErrorCode(conflict, 'CONFLICT')).toBe(true);
    expect(conflict.retry).toBe('transient');
    expect(everything(conflict)).not.toContain(SECRET);
  });

  it('maps an unreachable Vault to UNAVAILABLE, and the HTTP client error (token, body) is not kept', async () => {
    const store = createVaultSecretStore({
      endpoint: 'http://127.0.0.1:1',
      token: 'hvs.secret-root-token-for-test',
    });
    const e = await store.write('zonekeeper/net', { s: SECRET }, { cas: 0 }).catch((x) => x);
    expect(hasErrorCode(e, 'UNAVAILABLE')).toBe(true);
    const all = everything(e);
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain('secret-root-token-for-test');
  });

  it('rejects bad input before any request reaches Vault', async () => {
    const store = createVaultSecretStore({ endpoint: fake.endpoint, token: fake.rootToken });
    fake.clearRequests();
    for (const attempt of [
      () => store.read('../escape'),
      () => store.write('ok/path', { n: 1 as unknown as string }, { cas: 0 }),
      () => store.write('ok/path', { s: 'x' }, { cas: 1.5 }),
      () => store.read('ok/path', { version: 0 }),
      () => store.list('/abs'),
      () => store.writeMetadata('ok/path', { maxVersions: -1 }),
    ]) {
      expect(hasErrorCode(await attempt().catch((x) => x), 'INVALID_INPUT')).toBe(true);
    }
    expect(fake.requests).toEqual([]);
  });

  it('never passes a secret to the logger (there is none to pass) and re-throws aborts', async () => {
    const lines: string[] = [];
    const capture: Logger = {
      debug: (m) => lines.push(m),
      info: (m) => lines.push(m),
      warn: (m) => lines.push(m),
      error: (m) => lines.push(m),
    };
    const store = createVaultSecretStore({ endpoint: fake.endpoint, token: fake.rootToken });
    await writeAccessKey(store, { organization: 'logged' }, key, { cas: 0 });
    capture.info(JSON.stringify(await store.readMetadata('zonekeeper/orgs/logged/aws-access-key')));
    expect(lines.join('\n')).not.toContain(SECRET);
    const c = new AbortController();
    const pending = store.read('zonekeeper/orgs/logged/aws-access-key', { signal: c.signal });
    c.abort(new Error('caller gave up'));
    await expect(pending).rejects.toThrow('caller gave up');
  });
});

describe("Vault adapter: Vault's error text as one sentence", () => {
  /** A client that fails every call the way node-vault does: the parsed body on `response`. */
  const failing = (statusCode: number, errors: unknown): VaultClientLike => {
    const fail = async () => {
      const message =
        Array.isArray(errors) && typeof errors[0] === 'string' ? errors[0] : `Status ${statusCode}`;
      throw Object.assign(new Error(message), { response: { statusCode, body: { errors } } });
    };
    return { read: fail, write: fail, list: fail, delete: fail };
  };
  const messageOf = async (statusCode: number, errors: unknown) =>
    (
      await createVaultSecretStore({ client: failing(statusCode, errors) })
        .read('zonekeeper/x')
        .catch((e) => e)
    ).message as string;

  it.each([
    [
      403,
      ['1 error occurred:\n\t* permission denied\n\n'],
      'Vault: read zonekeeper/x was denied (permission denied); check that the token is valid and its policy covers this path.',
    ],
    [
      403,
      ['2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n'],
      'Vault: read zonekeeper/x was denied (permission denied, invalid token); check that the token is valid and its policy covers this path.',
    ],
    [
      400,
      ['1 error occurred:\n\t* check-and-set parameter did not match the current version\n\n'],
      'Vault: read zonekeeper/x: check-and-set failed (check-and-set parameter did not match the current version); another writer changed it. Read it again and retry.',
    ],
    [
      500,
      ['internal error', '1 error occurred:\n\t* internal error\n\n'],
      'Vault: read zonekeeper/x failed with HTTP 500 (internal error); retry later.',
    ],
    [503, ['Vault is sealed'], 'Vault: read zonekeeper/x failed: Vault is sealed; unseal it and retry.'],
    [
      400,
      ['invalid request', { not: 'a string' }],
      'Vault: read zonekeeper/x was rejected with HTTP 400 (invalid request).',
    ],
    [400, [], 'Vault: read zonekeeper/x was rejected with HTTP 400.'],
  ])('HTTP %i %j', async (status, errors, expected) => {
    const message = await messageOf(status, errors);
    expect(message).toBe(expected);
    expect(message).not.toMatch(/\n|\t|errors? occurred/);
  });

  it('vaultErrorText takes go-multierror lists apart and drops blank and repeated items', () => {
    expect(vaultErrorText(['3 errors occurred:\n\t* a\n\t* b.\n\t* A\n\n', '', 'b'])).toBe('a, b');
    expect(vaultErrorText(['no handler for route "secret/data/x". route entry not found.'])).toBe(
      'no handler for route "secret/data/x". route entry not found',
    );
    expect(vaultErrorText([])).toBe('');
  });
});
