/**
 * The contract every {@link SecretStore} must satisfy, as a Vitest suite. zonekeeper runs it against the
 * memory store and the Vault adapter (on the testkit Vault fake); run it against your own store:
 *
 * ```ts
 * import { secretStoreContract } from '@zonekeeper/vault-keys/testing';
 * secretStoreContract({ name: 'my store', create: async () => ({ store: myStore }) });
 * ```
 *
 * Requires `vitest` (an optional peer dependency).
 *
 * @packageDocumentation
 */

import { hasErrorCode } from '@zonekeeper/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretStore } from './ports.js';

/** Options of {@link secretStoreContract}. @public */
export interface SecretStoreContractOptions {
  /** Suite name, e.g. `'vault (fake)'`. */
  readonly name: string;
  /** Creates the store under test (once per suite); `cleanup` runs after the suite. */
  create(): Promise<{ readonly store: SecretStore; cleanup?(): Promise<void> }>;
}

/**
 * Registers the secret-store contract suite.
 * @public
 */
export function secretStoreContract(options: SecretStoreContractOptions): void {
  describe(`SecretStore contract: ${options.name}`, () => {
    let store: SecretStore;
    let cleanup: (() => Promise<void>) | undefined;
    let n = 0;
    const fresh = () => `contract/t${++n}-${Math.random().toString(36).slice(2, 8)}`;

    beforeAll(async () => {
      const made = await options.create();
      store = made.store;
      cleanup = made.cleanup;
    });
    afterAll(async () => {
      await cleanup?.();
    });

    it('reads nothing where nothing was written', async () => {
      const p = fresh();
      expect(await store.read(`${p}/k`)).toBeUndefined();
      expect(await store.readMetadata(`${p}/k`)).toBeUndefined();
      expect(await store.list(p)).toEqual([]);
      expect(await store.deleteAll(`${p}/k`)).toBe(false);
    });

    it('creates with cas 0 and reads the data, version and creation time back', async () => {
      const path = `${fresh()}/k`;
      const before = Date.now();
      expect(
        await store.write(
          path,
          { a: '1', pem: '-----BEGIN X-----\nabc\n-----END X-----\n', unicode: 'héllo ✓' },
          { cas: 0 },
        ),
      ).toEqual({ version: 1 });
      const got = await store.read(path);
      expect(got?.data).toEqual({
        a: '1',
        pem: '-----BEGIN X-----\nabc\n-----END X-----\n',
        unicode: 'héllo ✓',
      });
      expect(got?.version).toBe(1);
      expect(got?.createdAt.getTime()).toBeGreaterThanOrEqual(before - 60_000);
    });

    it('refuses a create over an existing key and a stale cas with CONFLICT, changing nothing', async () => {
      const path = `${fresh()}/k`;
      await store.write(path, { v: 'one' }, { cas: 0 });
      const create = await store.write(path, { v: 'two' }, { cas: 0 }).catch((e) => e);
      expect(hasErrorCode(create, 'CONFLICT')).toBe(true);
      await store.write(path, { v: 'two' }, { cas: 1 });
      const stale = await store.write(path, { v: 'three' }, { cas: 1 }).catch((e) => e);
      expect(hasErrorCode(stale, 'CONFLICT')).toBe(true);
      expect((await store.read(path))?.data).toEqual({ v: 'two' });
      expect((await store.readMetadata(path))?.currentVersion).toBe(2);
    });

    it('keeps older versions readable by number', async () => {
      const path = `${fresh()}/k`;
      await store.write(path, { v: 'one' }, { cas: 0 });
      await store.write(path, { v: 'two' }, { cas: 1 });
      expect((await store.read(path, { version: 1 }))?.data).toEqual({ v: 'one' });
      expect((await store.read(path))?.data).toEqual({ v: 'two' });
      const meta = await store.readMetadata(path);
      expect(meta?.versions.map((v) => v.version)).toEqual([1, 2]);
    });

    it('lets exactly one of two concurrent creators win', async () => {
      const path = `${fresh()}/k`;
      const results = await Promise.allSettled([
        store.write(path, { who: 'a' }, { cas: 0 }),
        store.write(path, { who: 'b' }, { cas: 0 }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(hasErrorCode(rejected.reason, 'CONFLICT')).toBe(true);
    });

    it('stores secret-free custom metadata beside the versions', async () => {
      const path = `${fresh()}/k`;
      await store.write(path, { s: 'x' }, { cas: 0 });
      await store.writeMetadata(path, { customMetadata: { kind: 'test', 'key-id': 'AKIA1' } });
      expect((await store.readMetadata(path))?.customMetadata).toEqual({ kind: 'test', 'key-id': 'AKIA1' });
      expect((await store.read(path))?.customMetadata).toEqual({ kind: 'test', 'key-id': 'AKIA1' });
    });

    it('prunes versions beyond maxVersions', async () => {
      const path = `${fresh()}/k`;
      await store.writeMetadata(path, { maxVersions: 2 });
      for (let i = 0; i < 3; i++) await store.write(path, { i: String(i) }, { cas: i });
      expect(await store.read(path, { version: 1 })).toBeUndefined();
      expect((await store.read(path, { version: 3 }))?.data).toEqual({ i: '2' });
    });

    it('lists direct children, folders with a trailing slash', async () => {
      const p = fresh();
      await store.write(`${p}/a`, { x: '1' }, { cas: 0 });
      await store.write(`${p}/dir/b`, { x: '1' }, { cas: 0 });
      await store.write(`${p}/dir/deeper/c`, { x: '1' }, { cas: 0 });
      expect([...(await store.list(p))].sort()).toEqual(['a', 'dir/']);
      expect([...(await store.list(`${p}/dir`))].sort()).toEqual(['b', 'deeper/']);
    });

    it('deletes a key with all its versions', async () => {
      const path = `${fresh()}/k`;
      await store.write(path, { v: '1' }, { cas: 0 });
      await store.write(path, { v: '2' }, { cas: 1 });
      expect(await store.deleteAll(path)).toBe(true);
      expect(await store.read(path)).toBeUndefined();
      expect(await store.read(path, { version: 1 })).toBeUndefined();
      expect(await store.readMetadata(path)).toBeUndefined();
      expect(await store.deleteAll(path)).toBe(false);
      expect(await store.write(path, { v: 'again' }, { cas: 0 })).toEqual({ version: 1 });
    });

    it('rejects invalid paths and data with INVALID_INPUT', async () => {
      for (const bad of ['', '/leading', 'trailing/', 'a//b', 'a/../b', 'sp ace']) {
        expect(hasErrorCode(await store.read(bad).catch((e) => e), 'INVALID_INPUT')).toBe(true);
      }
      const p = `${fresh()}/k`;
      expect(
        hasErrorCode(
          await store.write(p, { n: 1 as unknown as string }, { cas: 0 }).catch((e) => e),
          'INVALID_INPUT',
        ),
      ).toBe(true);
      expect(
        hasErrorCode(await store.write(p, { n: 'x' }, { cas: -1 }).catch((e) => e), 'INVALID_INPUT'),
      ).toBe(true);
      expect(await store.read(p)).toBeUndefined();
    });

    it('re-throws the abort reason', async () => {
      const c = new AbortController();
      c.abort();
      await expect(store.read(`${fresh()}/k`, { signal: c.signal })).rejects.toMatchObject({
        name: 'AbortError',
      });
      await expect(
        store.write(`${fresh()}/k`, { a: 'b' }, { cas: 0, signal: c.signal }),
      ).rejects.toMatchObject({ name: 'AbortError' });
    });
  });
}
