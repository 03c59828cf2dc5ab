import { hasErrorCode } from '@zonekeeper/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRoute53Provider } from './provider.js';
import {
  createRoute53RateLimiter,
  DEFAULT_ROUTE53_REQUESTS_PER_SECOND,
  ROUTE53_THROTTLING_2026,
  type Route53AcquireOptions,
  type Route53RateLimiter,
  type Route53RateLimiterOptions,
  sharedRoute53RateLimiter,
} from './rate-limiter.js';
import { createRoute53RetryStrategy, route53RetryDelay } from './retry.js';

/** Fake `setTimeout` and `performance.now()`: the limiter's clock moves only when the test moves it. */
function manualClock() {
  vi.useFakeTimers({
    now: new Date('2026-08-01T00:00:00Z'),
    toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'],
  });
}

/** Starts `n` acquisitions and counts the granted ones. */
function start(limiter: Route53RateLimiter, n: number, options: Route53AcquireOptions = {}) {
  const state = { done: 0, all: [] as Promise<unknown>[] };
  for (let i = 0; i < n; i++) state.all.push(limiter.acquire(options).then(() => state.done++));
  return state;
}

describe("createRoute53RateLimiter: Route 53's 2026 token buckets (manual clock)", () => {
  beforeEach(manualClock);
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ships the 2026 table: account 50 / 10, CreateHostedZone 40 / 2, DeleteHostedZone 40 / 5, …', () => {
    expect(ROUTE53_THROTTLING_2026.account).toEqual({ capacity: 50, refillPerSecond: 10 });
    expect(ROUTE53_THROTTLING_2026.defaultAction).toEqual({ capacity: 50, refillPerSecond: 10 });
    expect(ROUTE53_THROTTLING_2026.actions).toMatchObject({
      CreateHostedZone: { capacity: 40, refillPerSecond: 2 },
      DeleteHostedZone: { capacity: 40, refillPerSecond: 5 },
      CreateReusableDelegationSet: { capacity: 40, refillPerSecond: 2 },
      AssociateVPCWithHostedZone: { capacity: 20, refillPerSecond: 5 },
    });
    expect(DEFAULT_ROUTE53_REQUESTS_PER_SECOND).toBe(10);
    expect(createRoute53RateLimiter().table).toEqual(ROUTE53_THROTTLING_2026);
  });

  it('absorbs a burst of 50, then refills the account bucket at 10 per second', async () => {
    const limiter = createRoute53RateLimiter();
    const reads = start(limiter, 62, { action: 'ListHostedZones' });
    await vi.advanceTimersByTimeAsync(0);
    expect(reads.done).toBe(50);
    expect(limiter.waiting).toBe(12);
    expect(limiter.accountTokens()).toBeLessThan(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(reads.done).toBe(50);
    await vi.advanceTimersByTimeAsync(1);
    expect(reads.done).toBe(51); // one token per 100 ms
    await vi.advanceTimersByTimeAsync(1_000);
    expect(reads.done).toBe(61);
    await vi.advanceTimersByTimeAsync(100);
    expect(reads.done).toBe(62);
    await Promise.all(reads.all);
    expect(limiter.granted).toBe(62);
    // An idle limiter refills to its capacity and no further.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(limiter.accountTokens()).toBe(50);
  });

  it('limits CreateHostedZone to its own 40 / 2 bucket without holding up other actions', async () => {
    const limiter = createRoute53RateLimiter();
    const creates = start(limiter, 44, { action: 'CreateHostedZone' });
    await vi.advanceTimersByTimeAsync(0);
    expect(creates.done).toBe(40);
    expect(limiter.accountTokens()).toBeCloseTo(10, 5);
    // The 4 waiting creations need CreateHostedZone tokens; reads only need the account's.
    const reads = start(limiter, 10, { action: 'ListTagsForResources' });
    await vi.advanceTimersByTimeAsync(0);
    expect(reads.done).toBe(10);
    expect(creates.done).toBe(40);
    await vi.advanceTimersByTimeAsync(499);
    expect(creates.done).toBe(40);
    await vi.advanceTimersByTimeAsync(1);
    expect(creates.done).toBe(41); // 2 per second
    await vi.advanceTimersByTimeAsync(1_000);
    expect(creates.done).toBe(43);
    await vi.advanceTimersByTimeAsync(500);
    expect(creates.done).toBe(44);
    await Promise.all([...creates.all, ...reads.all]);
  });

  it('limits DeleteHostedZone to 40 / 5, and each unlisted action has its own 50 / 10 bucket', async () => {
    const limiter = createRoute53RateLimiter();
    const deletes = start(limiter, 42, { action: 'DeleteHostedZone' });
    await vi.advanceTimersByTimeAsync(0);
    expect(deletes.done).toBe(40);
    expect(limiter.actionTokens('DeleteHostedZone')).toBeLessThan(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(deletes.done).toBe(41);
    await vi.advanceTimersByTimeAsync(200);
    expect(deletes.done).toBe(42);
    expect(limiter.actionTokens('GetHostedZone')).toBe(50);
    expect(limiter.actionTokens('SomeFutureAction')).toBe(50);
    await Promise.all(deletes.all);
  });

  it('serves first come, first served once the account bucket is empty: nothing overtakes', async () => {
    const limiter = createRoute53RateLimiter();
    const order: string[] = [];
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) all.push(limiter.acquire({ action: 'ListHostedZones' }));
    for (const action of ['GetChange', 'CreateHostedZone', 'ListHostedZones', 'GetHostedZone']) {
      all.push(limiter.acquire({ action }).then(() => order.push(action)));
    }
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual([]);
    await vi.advanceTimersByTimeAsync(400);
    expect(order).toEqual(['GetChange', 'CreateHostedZone', 'ListHostedZones', 'GetHostedZone']);
    await Promise.all(all);
  });

  it('takes one change-throughput token per record change, when the table has that bucket', async () => {
    const limiter = createRoute53RateLimiter({
      table: { ...ROUTE53_THROTTLING_2026, changes: { capacity: 100, refillPerSecond: 10 } },
    });
    const first = limiter.acquire({ action: 'ChangeResourceRecordSets', changes: 80 });
    await vi.advanceTimersByTimeAsync(0);
    await first;
    const second = start(limiter, 1, { action: 'ChangeResourceRecordSets', changes: 30 });
    const read = start(limiter, 1, { action: 'ListResourceRecordSets' });
    await vi.advanceTimersByTimeAsync(0);
    expect(read.done).toBe(1); // reads need no change tokens
    expect(second.done).toBe(0); // 20 change tokens left, 30 needed: 1 s at 10 per second
    await vi.advanceTimersByTimeAsync(999);
    expect(second.done).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(second.done).toBe(1);
    // A batch larger than the bucket waits for a full bucket instead of waiting forever.
    const huge = start(limiter, 1, { action: 'ChangeResourceRecordSets', changes: 1_000 });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(huge.done).toBe(1);
  });

  it('scales every bucket to a share of the account with requestsPerSecond', async () => {
    const half = createRoute53RateLimiter({ requestsPerSecond: 5 });
    expect(half.requestsPerSecond).toBe(5);
    expect(half.table.account).toEqual({ capacity: 25, refillPerSecond: 5 });
    expect(half.table.actions.CreateHostedZone).toEqual({ capacity: 20, refillPerSecond: 1 });
    const reads = start(half, 26);
    await vi.advanceTimersByTimeAsync(0);
    expect(reads.done).toBe(25);
    await vi.advanceTimersByTimeAsync(200);
    expect(reads.done).toBe(26);
    await Promise.all(reads.all);
  });

  it('rejects a waiting request with signal.reason when aborted, without taking a token', async () => {
    const limiter = createRoute53RateLimiter({
      table: { ...ROUTE53_THROTTLING_2026, account: { capacity: 1, refillPerSecond: 1 } },
    });
    await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire({ signal: controller.signal }).catch((e) => e);
    const next = start(limiter, 1);
    controller.abort(new Error('cancelled'));
    expect(await waiting).toBe(controller.signal.reason);
    expect(limiter.waiting).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(next.done).toBe(1); // the token the aborted request did not take
    expect(limiter.granted).toBe(2);
    const aborted = AbortSignal.abort(new Error('already'));
    expect(await limiter.acquire({ signal: aborted }).catch((e) => e)).toBe(aborted.reason);
  });

  it('rejects bad rates, tables and requests with INVALID_INPUT', async () => {
    const bad: Route53RateLimiterOptions[] = [
      { requestsPerSecond: 0 },
      { requestsPerSecond: -1 },
      { requestsPerSecond: Number.NaN },
      { requestsPerSecond: Number.POSITIVE_INFINITY },
      { table: { ...ROUTE53_THROTTLING_2026, account: { capacity: 0, refillPerSecond: 10 } } },
      { table: { ...ROUTE53_THROTTLING_2026, actions: { X: { capacity: 5, refillPerSecond: 0 } } } },
      { table: { ...ROUTE53_THROTTLING_2026, changes: { capacity: 5, refillPerSecond: -1 } } },
    ];
    for (const options of bad) {
      let error: unknown;
      try {
        createRoute53RateLimiter(options);
      } catch (e) {
        error = e;
      }
      expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
    }
    const limiter = createRoute53RateLimiter();
    expect(hasErrorCode(await limiter.acquire({ changes: -1 }).catch((e) => e), 'INVALID_INPUT')).toBe(true);
    expect(hasErrorCode(await limiter.acquire({ action: '' }).catch((e) => e), 'INVALID_INPUT')).toBe(true);
    expect(limiter.granted).toBe(0);
  });
});

describe('sharedRoute53RateLimiter', () => {
  it('is one limiter per process, used by every provider given neither rateLimiter nor requestsPerSecond', () => {
    const a = createRoute53Provider({ region: 'us-east-1' });
    const b = createRoute53Provider({ region: 'eu-west-1' });
    expect(sharedRoute53RateLimiter()).toBe(sharedRoute53RateLimiter());
    expect(a.rateLimiter).toBe(sharedRoute53RateLimiter());
    expect(b.rateLimiter).toBe(a.rateLimiter);
    expect(createRoute53Provider({ requestsPerSecond: 4 }).rateLimiter).not.toBe(a.rateLimiter);
  });
});

describe('Route 53 retry strategy', () => {
  it('backs off exponentially with equal jitter, capped', () => {
    const opts = { baseDelayMs: 100, maxDelayMs: 1_000 };
    expect(route53RetryDelay(1, { ...opts, random: () => 0 })).toBe(50);
    expect(route53RetryDelay(1, { ...opts, random: () => 0.999 })).toBe(100);
    expect(route53RetryDelay(3, { ...opts, random: () => 0 })).toBe(200);
    expect(route53RetryDelay(10, { ...opts, random: () => 1 })).toBe(1_000);
    expect(route53RetryDelay(1, { random: () => 1 })).toBe(500);
  });

  it('defaults to 5 attempts and validates its options', async () => {
    expect(await createRoute53RetryStrategy().maxAttempts()).toBe(5);
    expect(await createRoute53RetryStrategy({ maxAttempts: 2 }).maxAttempts()).toBe(2);
    expect(() => createRoute53RetryStrategy({ maxAttempts: 0 })).toThrow(/maxAttempts/);
    expect(() => createRoute53RetryStrategy({ baseDelayMs: -1 })).toThrow(/baseDelayMs/);
  });
});
