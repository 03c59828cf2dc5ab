import { describe, expect, it } from 'vitest';
import { createConcurrencyLimit, mapConcurrent } from './concurrency.js';
import { hasErrorCode } from './errors.js';

/** A task that resolves when told to, recording how many run at once. */
function gate() {
  let active = 0;
  let peak = 0;
  const waiting: (() => void)[] = [];
  const task = async <T>(value: T): Promise<T> => {
    active += 1;
    peak = Math.max(peak, active);
    await new Promise<void>((resolve) => waiting.push(resolve));
    active -= 1;
    return value;
  };
  const flush = async () => {
    for (let i = 0; i < 50 && (waiting.length > 0 || active > 0); i++) {
      for (const w of waiting.splice(0)) w();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  return { task, flush, peak: () => peak, started: () => waiting.length };
}

describe('createConcurrencyLimit', () => {
  it('runs at most `limit` tasks at once, in the order given', async () => {
    const g = gate();
    const limit = createConcurrencyLimit(3);
    const order: number[] = [];
    const all = Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        limit(() => {
          order.push(i);
          return g.task(i);
        }),
      ),
    );
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(g.started()).toBe(3);
    await g.flush();
    expect(await all).toEqual([...Array(10).keys()]);
    expect(g.peak()).toBe(3);
    expect(order).toEqual([...Array(10).keys()]);
  });

  it('a failing or throwing task frees its slot and rejects only its own promise', async () => {
    const limit = createConcurrencyLimit(1);
    const a = limit(() => Promise.reject(new Error('a')));
    const b = limit((() => {
      throw new Error('b');
    }) as () => Promise<never>);
    const c = limit(async () => 'c');
    await expect(a).rejects.toThrow('a');
    await expect(b).rejects.toThrow('b');
    expect(await c).toBe('c');
  });

  it('rejects a bad limit with INVALID_INPUT', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, 2000]) {
      let error: unknown;
      try {
        createConcurrencyLimit(bad);
      } catch (e) {
        error = e;
      }
      expect(hasErrorCode(error, 'INVALID_INPUT'), String(bad)).toBe(true);
    }
  });
});

describe('mapConcurrent', () => {
  it('keeps the items’ order and the bound', async () => {
    const g = gate();
    const out = mapConcurrent([5, 4, 3, 2, 1, 0], 2, (x) => g.task(x * 10));
    await g.flush();
    expect(await out).toEqual([50, 40, 30, 20, 10, 0]);
    expect(g.peak()).toBe(2);
  });

  it('after the first failure starts nothing more, waits for the calls in flight, then throws that failure', async () => {
    const started: number[] = [];
    let inFlight = 0;
    const settledBeforeThrow: boolean[] = [];
    const e = await mapConcurrent([0, 1, 2, 3, 4, 5], 2, async (i) => {
      started.push(i);
      inFlight += 1;
      await new Promise<void>((resolve) => setTimeout(resolve, i === 1 ? 20 : 1));
      inFlight -= 1;
      if (i === 0) throw new Error('first');
      if (i === 1) settledBeforeThrow.push(true);
      return i;
    }).catch((x: unknown) => x);
    expect((e as Error).message).toBe('first');
    expect(started).toEqual([0, 1]);
    expect(settledBeforeThrow).toEqual([true]);
    expect(inFlight).toBe(0);
  });

  it('an empty list makes no call', async () => {
    expect(await mapConcurrent([], 4, async () => 1)).toEqual([]);
  });
});
