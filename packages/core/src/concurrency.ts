/**
 * Bounded concurrency: at most `limit` tasks in flight, the rest queued in order. Used for independent
 * reads (and the collector's per-organisation deletions) that share one rate limiter: the limiter
 * paces the calls, the bound keeps a sweep from queueing thousands of them at once.
 *
 * @packageDocumentation
 */

import { invalidInput } from './errors.js';

/** Runs a task when one of the `limit` slots is free. @public */
export type ConcurrencyLimit = <T>(task: () => Promise<T>) => Promise<T>;

function checkLimit(limit: number, what: string): void {
  if (!(Number.isInteger(limit) && limit >= 1 && limit <= 1024))
    throw invalidInput(`${what} must be an integer from 1 to 1024, got ${String(limit)}.`);
}

/**
 * A limiter of concurrency: the returned function runs each task once fewer than `limit` run, in the
 * order they were given.
 * @throws ZonekeeperError `INVALID_INPUT` unless `limit` is an integer from 1 to 1024.
 * @public
 */
export function createConcurrencyLimit(limit: number): ConcurrencyLimit {
  checkLimit(limit, 'concurrency');
  let active = 0;
  const queue: (() => void)[] = [];
  const next = () => {
    while (active < limit && queue.length > 0) {
      active += 1;
      (queue.shift() as () => void)();
    }
  };
  return <T>(task: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push(() => {
        let run: Promise<T>;
        try {
          run = task();
        } catch (error) {
          run = Promise.reject(error);
        }
        run.then(resolve, reject).finally(() => {
          active -= 1;
          next();
        });
      });
      next();
    });
}

/**
 * Maps `items` through `fn` with at most `limit` calls in flight; results in the items' order. On the
 * first failure no further item is started, the ones in flight are awaited (nothing is left running
 * when it settles), and that first failure is thrown.
 * @throws ZonekeeperError `INVALID_INPUT` unless `limit` is an integer from 1 to 1024; else `fn`'s error.
 * @public
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  checkLimit(limit, 'concurrency');
  const results = new Array<R>(items.length);
  let nextIndex = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && nextIndex < items.length) {
      const i = nextIndex++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}
