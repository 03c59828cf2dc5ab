import { hasErrorCode } from '@zonekeeper/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRoute53RateLimiter } from './rate-limiter.js';
import { createRoute53RetryStrategy, route53RetryDelay } from './retry.js';

describe('createRoute53RateLimiter (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets at most requestsPerSecond requests start in any rolling second', async () => {
    const limiter = createRoute53RateLimiter({ requestsPerSecond: 20 });
    let done = 0;
    const all = Array.from({ length: 50 }, () => limiter.acquire().then(() => done++));
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(20);
    expect(limiter.waiting).toBe(30);
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(20);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(40);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(done).toBe(50);
    await Promise.all(all);
    expect(limiter.granted).toBe(50);
  });

  it('defaults to 5 requests per second and spreads fractional rates', async () => {
    const five = createRoute53RateLimiter();
    expect(five.requestsPerSecond).toBe(5);
    let n = 0;
    for (let i = 0; i < 6; i++) void five.acquire().then(() => n++);
    await vi.advanceTimersByTimeAsync(0);
    expect(n).toBe(5);
    const half = createRoute53RateLimiter({ requestsPerSecond: 0.5 });
    let m = 0;
    for (let i = 0; i < 2; i++) void half.acquire().then(() => m++);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(m).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(m).toBe(2);
  });

  it('rejects a waiting request with signal.reason when aborted, without using a slot', async () => {
    const limiter = createRoute53RateLimiter({ requestsPerSecond: 1 });
    await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire({ signal: controller.signal }).catch((e) => e);
    controller.abort(new Error('cancelled'));
    expect(await waiting).toBe(controller.signal.reason);
    expect(limiter.granted).toBe(1);
  });

  it('rejects a non-positive rate with INVALID_INPUT', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      let error: unknown;
      try {
        createRoute53RateLimiter({ requestsPerSecond: bad });
      } catch (e) {
        error = e;
      }
      expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
    }
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
