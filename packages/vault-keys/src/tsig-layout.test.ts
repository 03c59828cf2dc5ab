import { hasErrorCode } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { deleteOrganizationSecrets, readTsigKey, secretPaths, writeTsigKey } from './index.js';
import { createMemorySecretStore } from './memory.js';

const SECRET = 'zkFAKEtsigSECRETfor0TESTS0nly0notREAL0000AA=';
const key = { name: 'zonekeeper-update.acme.example.com', algorithm: 'hmac-sha256', secret: SECRET };

describe('TSIG keys in the secret store', () => {
  it('live at <prefix>/orgs/<org>/tsig-key', () => {
    expect(secretPaths().tsigKey('acme')).toBe('zonekeeper/orgs/acme/tsig-key');
    expect(secretPaths({ prefix: 'p/zk' }).tsigKey('acme')).toBe('p/zk/orgs/acme/tsig-key');
    expect(() => secretPaths().tsigKey('../globex')).toThrow();
  });

  it('round-trip with check-and-set; the metadata names the key but never holds the secret', async () => {
    const store = createMemorySecretStore();
    expect(await readTsigKey(store, { organization: 'acme' })).toBeUndefined();
    const { version } = await writeTsigKey(store, { organization: 'acme' }, key, { cas: 0 });
    expect(await readTsigKey(store, { organization: 'acme' })).toEqual({ ...key, version });
    const meta = await store.readMetadata('zonekeeper/orgs/acme/tsig-key');
    expect(meta?.customMetadata).toMatchObject({
      'managed-by': 'zonekeeper',
      kind: 'tsig-key',
      organization: 'acme',
      'key-name': key.name,
      algorithm: 'hmac-sha256',
    });
    expect(JSON.stringify(meta)).not.toContain(SECRET);
    // A second writer that read nothing (cas 0) loses.
    const lost = await writeTsigKey(store, { organization: 'acme' }, key, { cas: 0 }).catch((e) => e);
    expect(hasErrorCode(lost, 'CONFLICT')).toBe(true);
    await writeTsigKey(store, { organization: 'acme' }, { ...key, secret: 'AAAA' }, { cas: version });
    expect((await readTsigKey(store, { organization: 'acme' }))?.secret).toBe('AAAA');
  });

  it('records the previous key of a rotation under way, and forgets it when written without one', async () => {
    const store = createMemorySecretStore();
    const rotating = { ...key, name: 'zonekeeper-update-b.acme.example.com', previousName: key.name };
    const { version } = await writeTsigKey(store, { organization: 'acme' }, rotating, { cas: 0 });
    expect(await readTsigKey(store, { organization: 'acme' })).toEqual({ ...rotating, version });
    const { previousName: _p, ...done } = rotating;
    const next = await writeTsigKey(store, { organization: 'acme' }, done, { cas: version });
    const read = await readTsigKey(store, { organization: 'acme' });
    expect(read).toEqual({ ...done, version: next.version });
    expect(read && 'previousName' in read).toBe(false);
    const bad = await writeTsigKey(
      store,
      { organization: 'acme' },
      { ...done, previousName: 'Not A Name.' },
      { cas: next.version },
    ).catch((e) => e);
    expect(hasErrorCode(bad, 'INVALID_INPUT')).toBe(true);
  });

  it('refuses a foreign secret at the path, and malformed keys without showing the secret', async () => {
    const store = createMemorySecretStore();
    await store.write(
      'zonekeeper/orgs/globex/tsig-key',
      { name: 'x', algorithm: 'y', secret: 'z' },
      { cas: 0 },
    );
    expect(
      hasErrorCode(await readTsigKey(store, { organization: 'globex' }).catch((e) => e), 'NOT_OWNED'),
    ).toBe(true);
    expect(
      hasErrorCode(
        await writeTsigKey(store, { organization: 'globex' }, key, { cas: 1 }).catch((e) => e),
        'NOT_OWNED',
      ),
    ).toBe(true);
    for (const bad of [
      { ...key, name: 'Upper.Example.com.' },
      { ...key, algorithm: 'hmac-sha3' },
      { ...key, secret: 'not base64 s3cr3t!' },
      { ...key, secret: '' },
    ]) {
      const error = await writeTsigKey(store, { organization: 'acme' }, bad, { cas: 0 }).catch((e) => e);
      expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
      expect(JSON.stringify({ m: error.message, d: error.details })).not.toContain('s3cr3t');
    }
    expect(await store.list('zonekeeper/orgs/acme')).toEqual([]);
  });

  it("is deleted with the organisation's secrets", async () => {
    const store = createMemorySecretStore();
    await writeTsigKey(store, { organization: 'acme' }, key, { cas: 0 });
    const result = await deleteOrganizationSecrets(store, 'acme');
    expect(result.deleted).toContain('zonekeeper/orgs/acme/tsig-key');
    expect(await readTsigKey(store, { organization: 'acme' })).toBeUndefined();
  });
});
