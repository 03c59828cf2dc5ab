import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasErrorCode } from './errors.js';
import { type EnsureExclusion, ensure, validateDryRun } from './plan.js';
import { maskAccessKeyIds, maskingLogger, rethrowIfAborted, signalOnly } from './runtime.js';
import { describeValue } from './values.js';

/** A tiny world: a set of names; the plan adds the missing ones. */
function parts(world: Set<string>, desired: readonly string[], log: string[]) {
  return {
    gather: async () => {
      log.push('gather');
      return new Set(world);
    },
    plan: (state: ReadonlySet<string>) => {
      log.push('plan');
      return { steps: desired.filter((d) => !state.has(d)).map((name) => ({ op: 'add', name })) };
    },
    apply: async (plan: { steps: { op: string; name: string }[] }) => {
      log.push('apply');
      for (const s of plan.steps) world.add(s.name);
      return plan.steps.length;
    },
  };
}

describe('ensure', () => {
  it('gathers, plans and applies exactly the plan it returns', async () => {
    const world = new Set(['a']);
    const log: string[] = [];
    const out = await ensure(parts(world, ['a', 'b', 'c'], log));
    expect(log).toEqual(['gather', 'plan', 'apply']);
    expect(out.dryRun).toBe(false);
    expect(out.plan.steps.map((s) => s.name)).toEqual(['b', 'c']);
    expect(out.dryRun === false && out.applied).toBe(2);
    expect([...world].sort()).toEqual(['a', 'b', 'c']);
  });

  it('a dry run gathers and plans the same plan, and never applies', async () => {
    const world = new Set(['a']);
    const log: string[] = [];
    const dry = await ensure(parts(world, ['a', 'b'], log), { dryRun: true });
    expect(log).toEqual(['gather', 'plan']);
    expect([...world]).toEqual(['a']);
    const real = await ensure(parts(world, ['a', 'b'], []));
    expect(real.plan).toEqual(dry.plan);
  });

  it('property: after an apply, planning again is empty (convergence), and dry run equals real plan', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'e')),
        fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'e')),
        async (have, want) => {
          const world = new Set(have);
          const dry = await ensure(parts(world, want, []), { dryRun: true });
          const real = await ensure(parts(world, want, []));
          expect(real.plan).toEqual(dry.plan);
          const again = await ensure(parts(world, want, []), { dryRun: true });
          expect(again.plan.steps).toEqual([]);
        },
      ),
    );
  });

  it.each([
    ['a string', 'yes'],
    ['a number', 1],
    ['null', null],
  ])('refuses a dryRun that is %s before gathering anything', async (_name, dryRun) => {
    const log: string[] = [];
    const err = await ensure(parts(new Set(), ['a'], log), { dryRun } as never).catch((e) => e);
    expect(hasErrorCode(err, 'INVALID_INPUT')).toBe(true);
    expect(err.message).toMatch(/dryRun must be a boolean/);
    expect(log).toEqual([]);
  });

  it('a refusal in the planner stops before anything is applied', async () => {
    const log: string[] = [];
    const err = await ensure({
      ...parts(new Set(), ['a'], log),
      plan: () => {
        throw new Error('not ours');
      },
    }).catch((e) => e);
    expect(err.message).toBe('not ours');
    expect(log).toEqual(['gather']);
  });

  it('passes only the signal to gather and apply, and stops before apply once aborted', async () => {
    const controller = new AbortController();
    const seen: unknown[] = [];
    const reason = { custom: 'reason' };
    const err = await ensure(
      {
        gather: async (call) => {
          seen.push(call);
          controller.abort(reason);
          return 1;
        },
        plan: () => ({ steps: [] }),
        apply: async () => {
          throw new Error('must not run');
        },
      },
      { dryRun: false, signal: controller.signal },
    ).catch((e) => e);
    expect(err).toBe(reason);
    expect(seen).toEqual([{ signal: controller.signal }]);
  });
});

describe('validateDryRun', () => {
  it('reads undefined as false and keeps booleans', () => {
    expect(validateDryRun(undefined)).toBe(false);
    expect(validateDryRun({})).toBe(false);
    expect(validateDryRun({ dryRun: true })).toBe(true);
    expect(validateDryRun({ dryRun: false })).toBe(false);
  });
});

describe('signalOnly and rethrowIfAborted', () => {
  it('signalOnly keeps the signal and nothing else', () => {
    const signal = new AbortController().signal;
    expect(signalOnly({ signal, dryRun: true } as never)).toEqual({ signal });
    expect(signalOnly(undefined)).toEqual({});
    expect(signalOnly({ dryRun: true } as never)).toEqual({});
  });

  it('rethrowIfAborted throws the reason unchanged, whatever it is', () => {
    const c = new AbortController();
    expect(() => rethrowIfAborted(c.signal)).not.toThrow();
    expect(() => rethrowIfAborted(undefined)).not.toThrow();
    c.abort('a string reason');
    expect(() => rethrowIfAborted(c.signal)).toThrow('a string reason');
  });
});

describe('describeValue', () => {
  it.each([
    ['acme', '"acme"'],
    [42, '42'],
    [true, 'true'],
    [null, 'null'],
    [undefined, 'undefined'],
    [[1], 'an array'],
    [{}, 'an object'],
    [() => 1, 'a function'],
  ])('describes %o as %s', (value, text) => {
    expect(describeValue(value)).toBe(text);
  });

  it('cuts long strings only when asked', () => {
    expect(describeValue('x'.repeat(100))).toBe(JSON.stringify('x'.repeat(100)));
    expect(describeValue('abcdef', { maxLength: 3 })).toBe('"abc…"');
  });
});

describe('ensure with an exclusive lock', () => {
  function lockStub(): {
    events: string[];
    takeElsewhere(): void;
    loseIt(reason: unknown): void;
    exclusion: EnsureExclusion<{ readonly steps: readonly unknown[] }>;
  } {
    const events: string[] = [];
    let version = 0;
    let free = true;
    let lost = new AbortController();
    return {
      events,
      takeElsewhere() {
        version += 1;
      },
      loseIt(reason: unknown) {
        lost.abort(reason);
      },
      exclusion: {
        isEmpty: (plan) => plan.steps.length === 0,
        observe: async () => {
          events.push('observe');
          return { free, version };
        },
        acquire: async () => {
          events.push('acquire');
          free = false;
          version += 1;
          lost = new AbortController();
          return {
            signal: lost.signal,
            release: async () => {
              events.push('release');
              free = true;
            },
          };
        },
      },
    };
  }

  it('an empty plan with the lock free and unchanged takes no lock', async () => {
    const lock = lockStub();
    const log: string[] = [];
    const out = await ensure({ ...parts(new Set(['a']), ['a'], log), exclusive: lock.exclusion });
    expect(out.plan.steps).toEqual([]);
    expect(lock.events).toEqual(['observe', 'observe']);
    expect(log).toEqual(['gather', 'plan', 'apply']);
  });

  it('a plan with steps is gathered, planned and applied again under the lock, and the lock released', async () => {
    const lock = lockStub();
    const world = new Set<string>();
    const log: string[] = [];
    const p = parts(world, ['a', 'b'], log);
    const out = await ensure({
      ...p,
      gather: async () => {
        // Someone else added 'a' while we waited for the lock.
        if (lock.events.includes('acquire')) world.add('a');
        return p.gather();
      },
      exclusive: lock.exclusion,
    });
    expect(lock.events).toEqual(['observe', 'acquire', 'release']);
    expect(log).toEqual(['gather', 'plan', 'gather', 'plan', 'apply']);
    // The plan returned (and executed) is the one made under the lock.
    expect((out.plan.steps as { name: string }[]).map((s) => s.name)).toEqual(['b']);
  });

  it('an empty plan whose gather overlapped another writer (the lock version moved) goes through the lock', async () => {
    const lock = lockStub();
    const log: string[] = [];
    const p = parts(new Set(['a']), ['a'], log);
    await ensure({
      ...p,
      gather: async () => {
        lock.takeElsewhere();
        return p.gather();
      },
      exclusive: lock.exclusion,
    });
    expect(lock.events).toEqual(['observe', 'observe', 'acquire', 'release']);
  });

  it('a lock lost during apply stops it with the lock reason, and still releases', async () => {
    const lock = lockStub();
    const reason = new Error('lock lost');
    const err = await ensure({
      gather: async () => 0,
      plan: () => ({ steps: [1] }),
      apply: async (_plan, _state, call) => {
        lock.loseIt(reason);
        call.signal?.throwIfAborted();
        return 1;
      },
      exclusive: lock.exclusion,
    }).catch((e) => e);
    expect(err).toBe(reason);
    expect(lock.events.at(-1)).toBe('release');
  });

  it('a dry run never observes or takes the lock', async () => {
    const lock = lockStub();
    await ensure({ ...parts(new Set(), ['a'], []), exclusive: lock.exclusion }, { dryRun: true });
    expect(lock.events).toEqual([]);
  });
});

describe('maskAccessKeyIds and maskingLogger', () => {
  it('masks access key ids in messages and string arguments, at every level', () => {
    const lines: string[] = [];
    const sink = {
      trace: (m: string, ...x: unknown[]) => lines.push(`trace ${m} ${x.join(' ')}`),
      debug: (m: string, ...x: unknown[]) => lines.push(`debug ${m} ${x.join(' ')}`),
      info: (m: string, ...x: unknown[]) => lines.push(`info ${m} ${x.join(' ')}`),
      warn: (m: string, ...x: unknown[]) => lines.push(`warn ${m} ${x.join(' ')}`),
      error: (m: string, ...x: unknown[]) => lines.push(`error ${m} ${x.join(' ')}`),
    };
    const logger = maskingLogger(sink);
    logger.trace?.('issued AKIAIOSFODNN7EXAMPLE', 'ASIAIOSFODNN7EXAMPL2');
    logger.info('issued AKIAIOSFODNN7EXAMPLE');
    logger.error('kept 42', 42);
    expect(lines).toEqual([
      'trace issued ********MPLE ********MPL2',
      'info issued ********MPLE ',
      'error kept 42 42',
    ]);
    expect(maskAccessKeyIds('no key here')).toBe('no key here');
  });
});
