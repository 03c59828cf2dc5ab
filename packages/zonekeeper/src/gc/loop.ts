/**
 * The collector as a long-running loop: collect, then sleep until the plan's `nextReviewAt` (bounded by
 * `maxIntervalMs`), waking early when the inventory changes; retry after failures; optionally only while
 * holding a Kubernetes Lease, which is renewed during long collections and whose loss stops them.
 *
 * @internal
 * @packageDocumentation
 */

import { type Clock, invalidInput, toZonekeeperError, ZonekeeperError } from '@zonekeeper/core';
import type { Context } from '../context.js';
import type { GarbageCollectorOptions } from '../results.js';
import { requireInventory } from './collect.js';
import { createLeaseLock, type LeaseLock } from './lease.js';
import { collectionPass } from './pass.js';

function positiveMs(value: number | undefined, name: string): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0))
    throw invalidInput(`${name} must be a positive number of milliseconds, got ${String(value)}.`);
}

/** {@link Zonekeeper.runGarbageCollector}. @internal */
export async function runGarbageCollector(ctx: Context, options: GarbageCollectorOptions): Promise<void> {
  const signal = options?.signal;
  if (typeof signal?.aborted !== 'boolean' || typeof signal.addEventListener !== 'function')
    throw invalidInput('runGarbageCollector needs a signal (an AbortSignal) to be stopped with.');
  positiveMs(options.maxIntervalMs, 'maxIntervalMs');
  positiveMs(options.retryDelayMs, 'retryDelayMs');
  requireInventory(ctx, 'runGarbageCollector');
  const { clock, logger } = ctx;
  const inventory = ctx.ports.inventory;
  const maxInterval = options.maxIntervalMs ?? ctx.gc?.maxIntervalMs ?? 3_600_000;
  const retryDelay = options.retryDelayMs ?? 60_000;
  const lock = options.lease ? createLeaseLock(options.lease, { clock }) : undefined;
  const renewEvery = lock ? Math.floor(lock.durationMs / 3) : Number.POSITIVE_INFINITY;
  let changed = false;
  let wake: ((reason: 'change' | 'abort') => void) | undefined;
  const unwatch = inventory.watch?.(() => {
    changed = true;
    wake?.('change');
  });
  const onAbort = () => wake?.('abort');
  signal.addEventListener('abort', onAbort);
  /** Sleeps on the clock; an abort always ends it early, an inventory change only if `onChange`. */
  const sleep = async (ms: number, onChange: boolean): Promise<void> => {
    if (signal.aborted || (onChange && changed)) return;
    const inner = new AbortController();
    wake = (reason) => {
      if (reason === 'abort' || onChange) inner.abort();
    };
    try {
      await clock.sleep(ms, { signal: inner.signal });
    } catch {
      // woken early
    } finally {
      wake = undefined;
    }
  };
  let nextCollectAt = Number.NEGATIVE_INFINITY;
  let holding = lock === undefined;
  try {
    while (!signal.aborted) {
      if (lock) {
        const before = holding;
        holding = await lock.tryAcquireOrRenew({ signal }).catch(() => false);
        if (signal.aborted) break;
        // Just took over: collect now; the previous holder's schedule is unknown.
        if (holding && !before) nextCollectAt = Number.NEGATIVE_INFINITY;
        if (!holding) {
          changed = false; // the holder sees the same change
          await sleep(renewEvery, false);
          continue;
        }
      }
      if (changed || clock.now().getTime() >= nextCollectAt) {
        changed = false;
        const cycle = new AbortController();
        const stop = () => cycle.abort(signal.reason);
        signal.addEventListener('abort', stop, { once: true });
        // Keep the lease while a long collection runs; losing it aborts the collection.
        const renewer = lock ? keepLease(lock, cycle, clock) : undefined;
        try {
          const result = await collectionPass(ctx, { signal: cycle.signal }, 'loop');
          const review = result.nextReviewAt?.getTime() ?? Number.POSITIVE_INFINITY;
          const incomplete =
            result.orphans.error !== undefined ||
            result.results.some(
              (r) =>
                r.status === 'failed' ||
                r.error !== undefined ||
                r.reason === 'fail-closed' ||
                r.reason === 'organization-busy',
            );
          const t = clock.now().getTime();
          nextCollectAt = Math.min(
            review,
            t + maxInterval,
            incomplete ? t + retryDelay : Number.POSITIVE_INFINITY,
          );
          options.onCollection?.({ result });
        } catch (error) {
          if (signal.aborted) break;
          if (lock && cycle.signal.aborted) {
            holding = false;
            logger.warn('zonekeeper: lost the garbage-collector lease; the collection was stopped.');
          } else {
            nextCollectAt = clock.now().getTime() + retryDelay;
            logger.warn(
              `zonekeeper: garbage collection failed, retrying later: ${toZonekeeperError(error).message}`,
            );
          }
          options.onCollection?.({ error });
        } finally {
          signal.removeEventListener('abort', stop);
          cycle.abort();
          await renewer;
        }
        continue;
      }
      const untilCollect = nextCollectAt - clock.now().getTime();
      await sleep(Math.max(1, Math.min(untilCollect, renewEvery, maxInterval)), true);
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    unwatch?.();
    if (lock?.held) await lock.release().catch(() => undefined);
  }
}

/**
 * Renews `lock` every third of its duration until `cycle` ends. Aborts `cycle` when someone else holds
 * the lease, or when renewing keeps failing until the lease may have expired.
 */
async function keepLease(lock: LeaseLock, cycle: AbortController, clock: Clock): Promise<void> {
  const every = Math.floor(lock.durationMs / 3);
  let validUntil = clock.now().getTime() + lock.durationMs;
  const lost = () =>
    cycle.abort(
      new ZonekeeperError(
        'CONFLICT',
        'zonekeeper: lost the garbage-collector lease; the collection was stopped.',
        {
          retry: 'transient',
        },
      ),
    );
  while (!cycle.signal.aborted) {
    try {
      await clock.sleep(every, { signal: cycle.signal });
    } catch {
      return;
    }
    let ok: boolean;
    try {
      ok = await lock.tryAcquireOrRenew();
    } catch {
      // The lease API failed: we hold the lease until it expires, no longer.
      if (clock.now().getTime() + every >= validUntil) {
        lost();
        return;
      }
      continue;
    }
    if (!ok) {
      lost();
      return;
    }
    validUntil = clock.now().getTime() + lock.durationMs;
  }
}
