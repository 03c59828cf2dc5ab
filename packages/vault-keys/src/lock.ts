/**
 * A lock kept in the secret store with check-and-set: the mechanism that serialises everything
 * zonekeeper does to one organisation (ensure, attach, detach, rotate, collect), across processes.
 *
 * The record at the lock's path holds `{ holder, purpose, acquiredAt, renewedAt, ttlMs }`. It is
 *
 * - **free** when absent, released (`holder` empty) or expired (`renewedAt + ttlMs` has passed on the
 *   observer's clock);
 * - **taken** with one check-and-set write of the version read: of two candidates that read the same
 *   version, exactly one write succeeds (`CONFLICT` for the other), so two holders never coexist;
 * - **renewed** by its holder every third of `ttlMs`, on real timers (a check-and-set write of the
 *   version it wrote last); a renewal that meets another writer's version means the lock was lost — the
 *   holder's `lost` signal is aborted and the work under the lock stops at its next step;
 * - **released** with one more check-and-set write (`holder` emptied); a crashed holder's lock expires
 *   after `ttlMs`.
 *
 * Within one process, holders of the same store object and path also queue in memory, so concurrent
 * operations of one process wait for each other without polling the store (and without a clock).
 * Across processes, waiting polls the record on the injected clock. Expiry compares the holder's
 * `renewedAt` with the observer's clock: clocks of the processes sharing a store must agree to well
 * within `ttlMs` (a minute by default).
 *
 * @packageDocumentation
 */

import {
  type CallOptions,
  type Clock,
  hasErrorCode,
  invalidInput,
  signalOnly,
  systemClock,
  throwIfAborted,
  ZonekeeperError,
} from '@zonekeeper/core';
import { type LayoutOptions, readOwnedSecret, writeOwnedSecret } from './layout.js';
import type { SecretStore } from './ports.js';

/** The default time a lock stays valid without renewal. @public */
export const DEFAULT_LOCK_TTL_MS = 60_000;

/** Options of {@link createStoreLock}. @public */
export interface StoreLockOptions extends Pick<LayoutOptions, 'owner'> {
  /** Who holds it (unique per holder: a process id plus a random part). Never a secret. */
  readonly holder: string;
  /** What the holder does, for the messages of those who wait (e.g. `rotateCredentials acme`). */
  readonly purpose?: string;
  /** How long the lock stays valid without renewal (default 60 000 ms, at least 3 000). */
  readonly ttlMs?: number;
  /** The clock of expiry, renewal and waiting (default the system clock). */
  readonly clock?: Clock;
  /** The organisation the lock is for (recorded in its metadata). */
  readonly organization?: string;
}

/** Options of {@link StoreLock.acquire}. @public */
export interface AcquireLockOptions extends CallOptions {
  /** Give up after this long with `CONFLICT` (transient) naming the holder (default 600 000 ms). */
  readonly waitTimeoutMs?: number;
  /** How often to look at a lock another process holds (default `min(1000, ttlMs / 20)`). */
  readonly pollMs?: number;
}

/** Who holds a lock, as its record says. @public */
export interface LockHolder {
  readonly holder: string;
  readonly purpose: string;
  readonly renewedAt: Date;
  readonly expiresAt: Date;
}

/** A lock in the secret store. @public */
export interface StoreLock {
  readonly path: string;
  /** Whether this lock object holds the lock now. */
  readonly held: boolean;
  /** Aborted when a held lock is lost (taken over after expiry, or renewal kept failing). */
  readonly lost: AbortSignal;
  /**
   * Takes the lock, waiting while someone else holds it (in-process holders first, then the store's
   * record). Starts renewing it in the background.
   * @throws `CONFLICT` (retry `transient`) after `waitTimeoutMs`; `signal.reason` on abort.
   */
  acquire(options?: AcquireLockOptions): Promise<void>;
  /** Takes the lock if it is free right now; resolves who holds it otherwise. Never waits. */
  tryAcquire(
    options?: CallOptions,
  ): Promise<{ readonly acquired: true } | { readonly acquired: false; readonly by?: LockHolder }>;
  /**
   * Renews a held lock now (it is also renewed every third of `ttlMs` on real timers while held).
   * @throws `CONFLICT` when the lock is no longer held (lost); the store's errors.
   */
  renew(options?: CallOptions): Promise<void>;
  /**
   * Gives the lock up (stops renewing; others may take it at once). With `forget`, deletes the record
   * instead (the last write of an organisation that is gone). Idempotent; never throws.
   */
  release(options?: CallOptions & { readonly forget?: boolean }): Promise<void>;
  /**
   * Reads the lock without taking it: whether it is free (absent, released or expired) and the record's
   * version, which changes every time anyone takes, renews or releases it.
   */
  observe(
    options?: CallOptions,
  ): Promise<{ readonly free: boolean; readonly version: number; readonly by?: LockHolder }>;
}

interface LockRecord {
  readonly holder: string;
  readonly purpose: string;
  readonly acquiredAt: string;
  readonly renewedAt: string;
  readonly ttlMs: string;
}

/** In-process queues: per store object and path, the tail of the chain of holders. */
const queues = new WeakMap<SecretStore, Map<string, Promise<void>>>();

function queueOf(store: SecretStore): Map<string, Promise<void>> {
  let q = queues.get(store);
  if (!q) {
    q = new Map();
    queues.set(store, q);
  }
  return q;
}

function holderOf(data: Readonly<Record<string, string>>): LockHolder | undefined {
  const renewed = Date.parse(data.renewedAt ?? '');
  const ttl = Number(data.ttlMs);
  if (!data.holder || !Number.isFinite(renewed) || !Number.isFinite(ttl)) return undefined;
  return {
    holder: data.holder,
    purpose: data.purpose ?? '',
    renewedAt: new Date(renewed),
    expiresAt: new Date(renewed + ttl),
  };
}

/**
 * Creates a lock on `path` in `store` (use `secretPaths(…).lock(organization)`). Nothing is read or
 * written until `acquire` or `tryAcquire`.
 *
 * @example
 * ```ts
 * const lock = createStoreLock(store, secretPaths().lock('acme'), { holder: `${process.pid}:${randomUUID()}` });
 * await lock.acquire({ signal });
 * try { await work({ signal: AbortSignal.any([signal, lock.lost]) }); } finally { await lock.release(); }
 * ```
 * @public
 */
export function createStoreLock(store: SecretStore, path: string, options: StoreLockOptions): StoreLock {
  if (typeof options?.holder !== 'string' || options.holder.length === 0 || options.holder.length > 200)
    throw invalidInput('Lock holder must be a non-empty string of at most 200 characters.');
  const ttlMs = options.ttlMs ?? DEFAULT_LOCK_TTL_MS;
  if (!Number.isInteger(ttlMs) || ttlMs < 3000) throw invalidInput('Lock ttlMs must be an integer ≥ 3000.');
  const clock = options.clock ?? systemClock;
  const purpose = options.purpose ?? '';
  const layout = options.owner === undefined ? {} : { owner: options.owner };
  const expected = {
    kind: 'lock' as const,
    ...(options.organization === undefined ? {} : { organization: options.organization }),
  };

  let held = false;
  let version = 0;
  let acquiredAt = '';
  let lostController = new AbortController();
  let releaseQueue: (() => void) | undefined;

  const record = (now: Date): LockRecord => ({
    holder: options.holder,
    purpose,
    acquiredAt: acquiredAt || now.toISOString(),
    renewedAt: now.toISOString(),
    ttlMs: String(ttlMs),
  });

  /** One look at the record: take it if free. */
  const attempt = async (
    call: CallOptions,
  ): Promise<{ acquired: true } | { acquired: false; by?: LockHolder }> => {
    const current = await readOwnedSecret(store, path, expected, { ...layout, ...call });
    const now = clock.now();
    const by = current ? holderOf(current.data) : undefined;
    if (by && by.holder !== options.holder && by.expiresAt.getTime() > now.getTime())
      return { acquired: false, by };
    try {
      acquiredAt = now.toISOString();
      const written = await writeOwnedSecret(store, path, { ...record(now) }, expected, {
        ...layout,
        ...call,
        cas: current?.version ?? 0,
      });
      version = written.version;
      return { acquired: true };
    } catch (error) {
      // Another candidate wrote the version we read: it holds the lock now.
      if (hasErrorCode(error, 'CONFLICT')) return { acquired: false, ...(by ? { by } : {}) };
      throw error;
    }
  };

  let validUntil = 0;
  let renewTimer: ReturnType<typeof setInterval> | undefined;
  let renewal: Promise<void> | undefined;

  const loseLock = (why: string) => {
    held = false;
    if (renewTimer) clearInterval(renewTimer);
    renewTimer = undefined;
    lostController.abort(
      new ZonekeeperError(
        'CONFLICT',
        `The lock ${path} was lost (${why}); the work under it was stopped. Run it again.`,
        { retry: 'transient', details: { path } },
      ),
    );
  };

  /** One renewal: a check-and-set write of the version we wrote last. */
  const renewOnce = async (call: CallOptions = {}): Promise<void> => {
    if (!held) return;
    const now = clock.now();
    try {
      const written = await store.write(path, { ...record(now) }, { ...call, cas: version });
      version = written.version;
      validUntil = now.getTime() + ttlMs;
    } catch (error) {
      if (!held) return;
      if (hasErrorCode(error, 'CONFLICT')) loseLock('another holder took it over after it expired');
      else if (clock.now().getTime() + Math.floor(ttlMs / 3) >= validUntil)
        loseLock('it could not be renewed before it expired');
      throw error;
    }
  };

  const startRenewing = () => {
    held = true;
    lostController = new AbortController();
    validUntil = clock.now().getTime() + ttlMs;
    // Renewal runs on real timers (unref'd, so it never keeps a process alive); expiry is judged on the
    // injected clock. A test clock that is advanced by hand therefore never renews by itself: tests call
    // `renew()`.
    renewTimer = setInterval(
      () => {
        renewal ??= renewOnce()
          .catch(() => undefined)
          .finally(() => {
            renewal = undefined;
          });
      },
      Math.floor(ttlMs / 3),
    );
    renewTimer.unref?.();
  };

  /** Waits for the in-process queue; resolves a function that lets the next one in. */
  const enterQueue = async (signal: AbortSignal | undefined): Promise<() => void> => {
    const q = queueOf(store);
    const before = q.get(path) ?? Promise.resolve();
    let leave!: () => void;
    const mine = new Promise<void>((resolve) => {
      leave = resolve;
    });
    const tail = before.then(() => mine);
    q.set(path, tail);
    const cleanup = () => {
      leave();
      if (q.get(path) === tail) q.delete(path);
    };
    if (signal) {
      let onAbort: (() => void) | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          if (signal.aborted) {
            reject(signal.reason);
            return;
          }
          onAbort = () => reject(signal.reason);
          signal.addEventListener('abort', onAbort, { once: true });
          before.then(resolve, resolve);
        });
      } catch (error) {
        // Leave the queue in order: those behind us wait for those before us, not for us.
        before.then(cleanup, cleanup);
        throw error;
      } finally {
        if (onAbort) signal.removeEventListener('abort', onAbort);
      }
    } else {
      await before;
    }
    return cleanup;
  };

  return {
    path,
    get held() {
      return held;
    },
    get lost() {
      return lostController.signal;
    },
    async acquire(acquireOptions = {}) {
      const waitTimeoutMs = acquireOptions.waitTimeoutMs ?? 600_000;
      const pollMs = acquireOptions.pollMs ?? Math.max(1, Math.min(1000, Math.floor(ttlMs / 20)));
      const call = signalOnly(acquireOptions);
      if (held) return;
      throwIfAborted(call.signal);
      const leave = await enterQueue(call.signal);
      try {
        const started = clock.now().getTime();
        for (;;) {
          throwIfAborted(call.signal);
          const outcome = await attempt(call);
          if (outcome.acquired) break;
          const waited = clock.now().getTime() - started;
          if (waited + pollMs > waitTimeoutMs) {
            const by = outcome.by;
            throw new ZonekeeperError(
              'CONFLICT',
              `Gave up after ${waited} ms waiting for the lock ${path}${by ? `, held by ${by.holder}${by.purpose ? ` (${by.purpose})` : ''} until at least ${by.expiresAt.toISOString()}` : ''}; run again later.`,
              {
                retry: 'transient',
                details: { path, ...(by ? { holder: by.holder, purpose: by.purpose } : {}) },
              },
            );
          }
          await clock.sleep(pollMs, call);
        }
      } catch (error) {
        leave();
        throw error;
      }
      releaseQueue = leave;
      startRenewing();
    },
    async tryAcquire(callOptions = {}) {
      if (held) return { acquired: true };
      const call = signalOnly(callOptions);
      const q = queueOf(store);
      if (q.has(path)) {
        // Someone in this process holds it or waits for it.
        return { acquired: false };
      }
      const leave = await enterQueue(call.signal);
      try {
        const outcome = await attempt(call);
        if (!outcome.acquired) {
          leave();
          return outcome;
        }
      } catch (error) {
        leave();
        throw error;
      }
      releaseQueue = leave;
      startRenewing();
      return { acquired: true };
    },
    async observe(callOptions = {}) {
      const current = await readOwnedSecret(store, path, expected, { ...layout, ...signalOnly(callOptions) });
      const by = current ? holderOf(current.data) : undefined;
      const free = !by || by.expiresAt.getTime() <= clock.now().getTime();
      return { free, version: current?.version ?? 0, ...(by && !free ? { by } : {}) };
    },
    async renew(callOptions = {}) {
      await renewal;
      if (!held)
        throw (
          lostController.signal.reason ?? new ZonekeeperError('CONFLICT', `The lock ${path} is not held.`)
        );
      await renewOnce(signalOnly(callOptions));
    },
    async release(callOptions = {}) {
      const wasHeld = held;
      held = false;
      if (renewTimer) clearInterval(renewTimer);
      renewTimer = undefined;
      await renewal;
      try {
        if (wasHeld && callOptions.forget) {
          await store.deleteAll(path, signalOnly(callOptions)).catch(() => undefined);
        } else if (wasHeld) {
          const now = clock.now();
          await store
            .write(path, { ...record(now), holder: '' }, { cas: version, ...signalOnly(callOptions) })
            .catch(() => undefined);
        }
      } finally {
        const leave = releaseQueue;
        releaseQueue = undefined;
        leave?.();
      }
    },
  };
}
