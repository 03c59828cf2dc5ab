/**
 * The SDK retry strategy zonekeeper configures for Route 53: exponential backoff with jitter for
 * `Throttling`, `PriorRequestNotComplete`, 500/502/503/504 and network errors (the SDK's own
 * classification), a few more attempts than the SDK's default of 3.
 *
 * @packageDocumentation
 */

import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { invalidInput } from '@zonekeeper/core';

/** Options of {@link createRoute53RetryStrategy}. @public */
export interface Route53RetryOptions {
  /** Attempts in all, the first included (default 5). */
  readonly maxAttempts?: number;
  /** Delay before the first retry, before jitter (default 500 ms); doubled for every further retry. */
  readonly baseDelayMs?: number;
  /** Longest delay between attempts (default 20 000 ms). */
  readonly maxDelayMs?: number;
  /** Jitter source in [0, 1) (default `Math.random`). */
  readonly random?: () => number;
}

/** The defaults of {@link Route53RetryOptions}. @public */
export const defaultRoute53RetryOptions = Object.freeze({
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
});

/**
 * The delay before retry number `retry` (1 for the first retry): `min(maxDelay, base × 2^(retry−1))`,
 * of which a random half is jitter ("equal jitter"), so concurrent clients spread out.
 * @public
 */
export function route53RetryDelay(retry: number, options: Route53RetryOptions = {}): number {
  const base = options.baseDelayMs ?? defaultRoute53RetryOptions.baseDelayMs;
  const cap = options.maxDelayMs ?? defaultRoute53RetryOptions.maxDelayMs;
  const exp = Math.min(cap, base * 2 ** Math.max(0, retry - 1));
  const r = (options.random ?? Math.random)();
  return Math.round(exp / 2 + (Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0) * (exp / 2));
}

/**
 * Creates the SDK retry strategy (`ConfiguredRetryStrategy` from `@smithy/core/retry`) used by
 * {@link createRoute53Provider} unless one is given. Pass it to your own `Route53Client` as
 * `retryStrategy`. Use small delays in tests (e.g. `{ baseDelayMs: 5, maxDelayMs: 20 }`).
 * @public
 */
export function createRoute53RetryStrategy(options: Route53RetryOptions = {}): ConfiguredRetryStrategy {
  const maxAttempts = options.maxAttempts ?? defaultRoute53RetryOptions.maxAttempts;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 20) {
    throw invalidInput(`Route 53: maxAttempts must be an integer from 1 to 20, got ${String(maxAttempts)}.`);
  }
  for (const key of ['baseDelayMs', 'maxDelayMs'] as const) {
    const v = options[key];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
      throw invalidInput(`Route 53: ${key} must be a non-negative number of milliseconds, got ${String(v)}.`);
    }
  }
  return new ConfiguredRetryStrategy(maxAttempts, (retry) => route53RetryDelay(retry, options));
}
