/**
 * One account-wide request budget for Route 53, on p-queue's sliding window. Route 53 limits requests per
 * account (historically 5 per second, shared with ExternalDNS, the console and every other tool of the
 * account), so every provider of one account should share one limiter.
 *
 * @packageDocumentation
 */

import { type CallOptions, invalidInput } from '@zonekeeper/core';
import PQueue from 'p-queue';

/** The default budget: Route 53's long-standing 5 requests per second per account. @public */
export const DEFAULT_ROUTE53_REQUESTS_PER_SECOND = 5;

/**
 * A request budget. The Route 53 provider calls {@link Route53RateLimiter.acquire} before every HTTP
 * attempt, including the SDK's own retries, so retries never exceed the budget.
 * @public
 */
export interface Route53RateLimiter {
  /** The budget, in requests per second. */
  readonly requestsPerSecond: number;
  /** Resolves when one more request may be sent; rejects with `signal.reason` if aborted while waiting. */
  acquire(options?: CallOptions): Promise<void>;
}

/** Options of {@link createRoute53RateLimiter}. @public */
export interface Route53RateLimiterOptions {
  /** Requests per second; any positive number (default {@link DEFAULT_ROUTE53_REQUESTS_PER_SECOND}). */
  readonly requestsPerSecond?: number;
}

/** A limiter from {@link createRoute53RateLimiter}, with counters for tests and metrics. @public */
export interface Route53RequestBudget extends Route53RateLimiter {
  /** Requests let through so far. */
  readonly granted: number;
  /** Requests waiting for a slot now. */
  readonly waiting: number;
}

/**
 * Creates a limiter that lets at most `requestsPerSecond` requests start in any rolling one-second window
 * (for fractional rates, `k` requests per `k / rate` seconds). Share one instance between all providers
 * (and all Route 53 clients) of one AWS account.
 *
 * @example
 * ```ts
 * const limiter = createRoute53RateLimiter({ requestsPerSecond: 4 }); // leave 1 req/s to ExternalDNS
 * const a = createRoute53Provider({ rateLimiter: limiter });
 * const b = createRoute53Provider({ rateLimiter: limiter, region: 'eu-west-1' });
 * ```
 * @public
 */
export function createRoute53RateLimiter(options: Route53RateLimiterOptions = {}): Route53RequestBudget {
  const rate = options.requestsPerSecond ?? DEFAULT_ROUTE53_REQUESTS_PER_SECOND;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0 || rate > 100_000) {
    throw invalidInput(
      `Route 53: requestsPerSecond must be a positive number (at most 100000), got ${String(rate)}.`,
    );
  }
  const intervalCap = Math.max(1, Math.floor(rate));
  const interval = Math.max(1, Math.round((1000 * intervalCap) / rate));
  const queue = new PQueue({ intervalCap, interval, strict: true });
  let granted = 0;
  return {
    requestsPerSecond: rate,
    get granted() {
      return granted;
    },
    get waiting() {
      return queue.size;
    },
    async acquire(callOptions = {}) {
      const { signal } = callOptions;
      signal?.throwIfAborted();
      await queue.add(
        () => {
          granted++;
        },
        signal === undefined ? {} : { signal },
      );
    },
  };
}
