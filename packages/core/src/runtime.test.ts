import { describe, expect, it } from 'vitest';
import { hasErrorCode } from './errors.js';
import {
  createManualClock,
  maskSecret,
  noopLogger,
  pollUntil,
  sleep,
  systemClock,
  throwIfAborted,
} from './runtime.js';

const T0 = new Date('2026-03-01T00:00:00.000Z');

describe('systemClock', () => {
  it('sleeps and can be aborted with the signal reason', async () => {
    const started = Date.now();
    await systemClock.sleep(5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4);
    const c = new AbortController();
    const p = systemClock.sleep(60_000, { signal: c.signal });
    c.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    const pre = new AbortController();
    pre.abort();
    await expect(systemClock.sleep(1, { signal: pre.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('ManualClock', () => {
  it('resolves sleeps in deadline order only when time passes them', async () => {
    const clock = createManualClock(T0);
    const woke: string[] = [];
    void clock.sleep(2000).then(() => woke.push('b'));
    void clock.sleep(1000).then(() => woke.push('a'));
    expect(clock.pendingSleeps).toBe(2);
    await clock.advance(999);
    expect(woke).toEqual([]);
    await clock.advance(1);
    expect(woke).toEqual(['a']);
    await clock.set(new Date(T0.getTime() + 5000));
    expect(woke).toEqual(['a', 'b']);
    expect(clock.now().toISOString()).toBe('2026-03-01T00:00:05.000Z');
    await expect(clock.set(T0)).rejects.toThrow(RangeError);
  });

  it('auto-advances on sleep when asked', async () => {
    const clock = createManualClock(T0, { autoAdvance: true });
    await clock.sleep(60_000);
    expect(clock.now().getTime() - T0.getTime()).toBe(60_000);
  });

  it('rejects an aborted sleep and forgets it', async () => {
    const clock = createManualClock(T0);
    const c = new AbortController();
    const p = clock.sleep(1000, { signal: c.signal });
    c.abort(new Error('cancelled'));
    await expect(p).rejects.toThrow('cancelled');
    expect(clock.pendingSleeps).toBe(0);
  });

  it('refuses an invalid start', () => {
    expect(() => createManualClock(new Date(Number.NaN))).toThrow(TypeError);
  });
});

describe('pollUntil', () => {
  it('backs off exponentially up to the cap and returns the value', async () => {
    const clock = createManualClock(T0, { autoAdvance: true });
    const seen: number[] = [];
    const value = await pollUntil(
      async (n) => {
        seen.push(clock.now().getTime() - T0.getTime());
        return n < 5 ? { done: false } : { done: true, value: 'INSYNC' };
      },
      { clock, initialDelayMs: 100, maxDelayMs: 300 },
    );
    expect(value).toBe('INSYNC');
    expect(seen).toEqual([0, 100, 300, 600, 900]);
  });

  it('honours a retry-after hint', async () => {
    const clock = createManualClock(T0, { autoAdvance: true });
    await pollUntil(async (n) => (n === 1 ? { done: false, retryAfterMs: 42 } : { done: true, value: 1 }), {
      clock,
      initialDelayMs: 1000,
    });
    expect(clock.now().getTime() - T0.getTime()).toBe(42);
  });

  it('fails with TIMEOUT naming what it waited for', async () => {
    const clock = createManualClock(T0, { autoAdvance: true });
    const error = await pollUntil(async () => ({ done: false }), {
      clock,
      timeoutMs: 1000,
      initialDelayMs: 400,
      what: 'change C1 to be INSYNC',
    }).catch((e) => e);
    expect(hasErrorCode(error, 'TIMEOUT')).toBe(true);
    expect((error as Error).message).toMatch(/change C1 to be INSYNC/);
  });

  it('re-throws the abort reason and errors from the attempt', async () => {
    const c = new AbortController();
    c.abort();
    await expect(
      pollUntil(async () => ({ done: true, value: 1 }), { signal: c.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    await expect(pollUntil(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });
});

describe('small helpers', () => {
  it('maskSecret never reveals the length and keeps at most a quarter', () => {
    expect(maskSecret('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')).toBe('********');
    expect(maskSecret('AKIAIOSFODNN7EXAMPLE', 4)).toBe('********MPLE');
    expect(maskSecret('abcd', 4)).toBe('********d');
    expect(maskSecret('')).toBe('********');
  });

  it('throwIfAborted throws the reason and accepts undefined', () => {
    expect(() => throwIfAborted(undefined)).not.toThrow();
    const c = new AbortController();
    c.abort(new Error('why'));
    expect(() => throwIfAborted(c.signal)).toThrow('why');
  });

  it('noopLogger accepts every level', () => {
    for (const level of ['trace', 'debug', 'info', 'warn', 'error'] as const)
      expect(() => noopLogger[level]?.('x', { a: 1 })).not.toThrow();
  });
});

describe('sleep', () => {
  it('resolves after the time, rejects with the reason on abort, and at once when already aborted', async () => {
    const started = performance.now();
    await sleep(20);
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);

    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);

    const aborted = AbortSignal.abort('gone');
    await expect(sleep(60_000, aborted)).rejects.toBe('gone');
  });
});
