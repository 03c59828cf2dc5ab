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

import { createManualClock, hasErrorCode } from '@zonekeeper/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStoreLock } from './lock.js';
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

    it('metadata may come before the first version: the key reads as absent, and cas 0 still creates it', async () => {
      const path = `${fresh()}/k`;
      await store.writeMetadata(path, { customMetadata: { 'managed-by': 'zonekeeper' } });
      expect(await store.read(path)).toBeUndefined();
      expect((await store.readMetadata(path))?.currentVersion).toBe(0);
      expect(await store.write(path, { a: '1' }, { cas: 0 })).toEqual({ version: 1 });
      expect((await store.read(path))?.customMetadata).toEqual({ 'managed-by': 'zonekeeper' });
    });

    it("refuses custom metadata outside Vault's limits (empty or 513-character values) with INVALID_INPUT", async () => {
      const path = `${fresh()}/k`;
      for (const customMetadata of [{ empty: '' }, { long: 'x'.repeat(513) }]) {
        const e = await store.writeMetadata(path, { customMetadata }).catch((x) => x);
        expect(hasErrorCode(e, 'INVALID_INPUT')).toBe(true);
      }
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

/** Options of {@link storeLockContract}. @public */
export interface StoreLockContractOptions {
  /** Suite name, e.g. `'vault (fake)'`. */
  readonly name: string;
  /**
   * Creates the store under test and a second client of the same backend (another "process": another
   * object, so the two share no in-process queue).
   */
  create(): Promise<{
    readonly store: SecretStore;
    readonly otherProcess: SecretStore;
    cleanup?(): Promise<void>;
  }>;
}

/**
 * Registers the contract of {@link createStoreLock} over a store: mutual exclusion within a process and
 * across processes, expiry of a crashed holder, renewal, loss, release, and refusal of a foreign record.
 * @public
 */
export function storeLockContract(options: StoreLockContractOptions): void {
  describe(`store lock contract: ${options.name}`, () => {
    let store: SecretStore;
    let other: SecretStore;
    let cleanup: (() => Promise<void>) | undefined;
    let n = 0;
    const fresh = () => `contract-locks/l${++n}-${Math.random().toString(36).slice(2, 8)}`;
    const T0 = new Date('2026-03-10T05:00:00.000Z');

    beforeAll(async () => {
      const made = await options.create();
      store = made.store;
      other = made.otherProcess;
      cleanup = made.cleanup;
    });
    afterAll(async () => {
      await cleanup?.();
    });

    it('one process: a second holder waits (no clock involved) and gets the lock once it is released', async () => {
      const path = fresh();
      const clock = createManualClock(T0);
      const a = createStoreLock(store, path, { holder: 'a', clock });
      const b = createStoreLock(store, path, { holder: 'b', clock });
      await a.acquire();
      let bHeld = false;
      const waiting = b.acquire().then(() => {
        bHeld = true;
      });
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      expect(bHeld).toBe(false);
      expect(a.held && !b.held).toBe(true);
      await a.release();
      await waiting;
      expect(b.held && !a.held).toBe(true);
      await b.release();
    });

    it('two processes: the lock record is taken by one; the other sees the holder, and takes it after release', async () => {
      const path = fresh();
      const clock = createManualClock(T0);
      const a = createStoreLock(store, path, { holder: 'proc-a', purpose: 'rotateCredentials acme', clock });
      const b = createStoreLock(other, path, { holder: 'proc-b', clock });
      expect(await a.tryAcquire()).toEqual({ acquired: true });
      const refused = await b.tryAcquire();
      expect(refused).toMatchObject({
        acquired: false,
        by: { holder: 'proc-a', purpose: 'rotateCredentials acme' },
      });
      expect(await b.observe()).toMatchObject({ free: false, by: { holder: 'proc-a' } });
      const held = await b.observe();
      await a.release();
      const released = await b.observe();
      expect(released.free).toBe(true);
      expect(released.version).toBeGreaterThan(held.version);
      expect(await b.tryAcquire()).toEqual({ acquired: true });
      await b.release();
    });

    it('two processes racing for a free lock: exactly one wins', async () => {
      for (let round = 0; round < 5; round++) {
        const path = fresh();
        const clock = createManualClock(T0);
        const a = createStoreLock(store, path, { holder: 'a', clock });
        const b = createStoreLock(other, path, { holder: 'b', clock });
        const results = await Promise.all([a.tryAcquire(), b.tryAcquire()]);
        expect(results.filter((r) => r.acquired)).toHaveLength(1);
        await a.release();
        await b.release();
      }
    });

    it('a crashed holder (never released) loses the lock once its ttl passed; its renewal then fails and aborts `lost`', async () => {
      const path = fresh();
      const clock = createManualClock(T0);
      const a = createStoreLock(store, path, { holder: 'crashed', clock, ttlMs: 30_000 });
      const b = createStoreLock(other, path, { holder: 'next', clock, ttlMs: 30_000 });
      await a.acquire();
      await clock.advance(29_000);
      expect((await b.tryAcquire()).acquired).toBe(false);
      await clock.advance(2_000);
      expect((await b.tryAcquire()).acquired).toBe(true);
      const renewal = await a.renew().catch((e) => e);
      expect(hasErrorCode(renewal, 'CONFLICT')).toBe(true);
      expect(a.held).toBe(false);
      expect(a.lost.aborted).toBe(true);
      expect(hasErrorCode(a.lost.reason, 'CONFLICT')).toBe(true);
      // The old holder's release does not free the new holder's lock.
      await a.release();
      expect((await createStoreLock(store, path, { holder: 'third', clock }).tryAcquire()).acquired).toBe(
        false,
      );
      await b.release();
    });

    it('renewal keeps the lock beyond its ttl', async () => {
      const path = fresh();
      const clock = createManualClock(T0);
      const a = createStoreLock(store, path, { holder: 'a', clock, ttlMs: 30_000 });
      const b = createStoreLock(other, path, { holder: 'b', clock, ttlMs: 30_000 });
      await a.acquire();
      for (let i = 0; i < 4; i++) {
        await clock.advance(20_000);
        await a.renew();
      }
      expect((await b.tryAcquire()).acquired).toBe(false);
      expect(a.lost.aborted).toBe(false);
      await a.release();
    });

    it('waiting across processes polls on the clock and gives up with a transient CONFLICT naming the holder', async () => {
      const path = fresh();
      const clock = createManualClock(T0, { autoAdvance: true });
      const a = createStoreLock(store, path, { holder: 'holder-a', purpose: 'attachCluster acme c1', clock });
      const b = createStoreLock(other, path, { holder: 'b', clock });
      await a.acquire();
      const e = await b.acquire({ waitTimeoutMs: 5_000, pollMs: 1_000 }).catch((x) => x);
      expect(hasErrorCode(e, 'CONFLICT')).toBe(true);
      expect(e.retry).toBe('transient');
      expect(e.message).toContain('holder-a');
      expect(e.message).toContain('attachCluster acme c1');
      await a.release();
      await b.acquire({ waitTimeoutMs: 5_000 });
      expect(b.held).toBe(true);
      await b.release();
    });

    it('an abort while waiting in the process queue leaves the queue in order', async () => {
      const path = fresh();
      const clock = createManualClock(T0);
      const a = createStoreLock(store, path, { holder: 'a', clock });
      const b = createStoreLock(store, path, { holder: 'b', clock });
      const c = createStoreLock(store, path, { holder: 'c', clock });
      await a.acquire();
      const controller = new AbortController();
      const bWait = b.acquire({ signal: controller.signal }).catch((e) => e);
      const cWait = c.acquire();
      controller.abort(new Error('stop'));
      expect(((await bWait) as Error).message).toBe('stop');
      await a.release();
      await cWait;
      expect(c.held && !b.held).toBe(true);
      await c.release();
    });

    it('a foreign record at the lock path is NOT_OWNED, and never overwritten', async () => {
      const path = fresh();
      await store.write(path, { holder: 'someone' }, { cas: 0 });
      const lock = createStoreLock(store, path, { holder: 'a', clock: createManualClock(T0) });
      expect(hasErrorCode(await lock.tryAcquire().catch((e) => e), 'NOT_OWNED')).toBe(true);
      expect((await store.read(path))?.data).toEqual({ holder: 'someone' });
    });
  });
}
