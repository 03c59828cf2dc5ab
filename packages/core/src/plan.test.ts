import { describe, expect, it } from 'vitest';
import { ZonekeeperError } from './errors.js';
import { applySteps, describeStepTarget, type PlanStep, type StepOutcome } from './plan.js';

type Step = { op: 'a' } | { op: 'b' } | { op: 'c' };
const steps: Step[] = [{ op: 'a' }, { op: 'b' }, { op: 'c' }];

describe('applySteps', () => {
  it('runs every step in order and reports them applied', async () => {
    const ran: string[] = [];
    const out = await applySteps(steps, async (s) => void ran.push(s.op));
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(out.map((o) => o.status)).toEqual(['applied', 'applied', 'applied']);
  });

  it('stops at a failing step, reports the rest not-executed and re-throws a zonekeeper error', async () => {
    const outcomes: StepOutcome<Step>[] = [];
    const err = await applySteps(
      steps,
      async (s) => {
        if (s.op === 'b') throw new ZonekeeperError('THROTTLED', 'slow down');
      },
      { onOutcome: (o) => outcomes.push(o) },
    ).catch((e) => e);
    expect(err.code).toBe('THROTTLED');
    expect(outcomes.map((o) => `${o.step.op}:${o.status}`)).toEqual([
      'a:applied',
      'b:failed',
      'c:not-executed',
    ]);
  });

  it('logs one debug line per step naming its object: the ref, else its first naming field', async () => {
    const lines: string[] = [];
    const named: PlanStep[] = [
      { op: 'create-zone', zoneName: 'acme.example.com', reason: 'missing' } as PlanStep,
      {
        op: 'apply-object',
        ref: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'external-dns', name: 'external-dns' },
        name: 'ignored: the ref wins',
      } as PlanStep,
      { op: 'put-policy', userName: 'zk-acme', policyName: 'p' } as PlanStep,
      { op: 'bind-cluster' },
    ];
    const log = (m: string) => void lines.push(m);
    await applySteps(named, async () => {}, {
      logger: { debug: log, info: log, warn: log, error: log },
    });
    expect(lines).toEqual([
      'apply create-zone acme.example.com (1/4)',
      'apply apply-object Deployment/external-dns/external-dns (2/4)',
      'apply put-policy zk-acme (3/4)',
      'apply bind-cluster (4/4)',
    ]);
    expect(describeStepTarget({ op: 'x', name: '' } as PlanStep)).toBeUndefined();
  });

  it('wraps a non-zonekeeper failure as INTERNAL naming the step', async () => {
    const err = await applySteps(steps, async () => {
      throw new TypeError('bad');
    }).catch((e) => e);
    expect(err.code).toBe('INTERNAL');
    expect(err.message).toBe('Step a failed: bad');
  });

  it('re-throws an abort between steps and runs nothing after it', async () => {
    const c = new AbortController();
    const ran: string[] = [];
    const outcomes: StepOutcome<Step>[] = [];
    const err = await applySteps(
      steps,
      async (s) => {
        ran.push(s.op);
        if (s.op === 'a') c.abort();
      },
      { signal: c.signal, onOutcome: (o) => outcomes.push(o) },
    ).catch((e) => e);
    expect(err.name).toBe('AbortError');
    expect(ran).toEqual(['a']);
    expect(outcomes.map((o) => o.status)).toEqual(['applied', 'not-executed', 'not-executed']);
  });

  it('re-throws any abort reason untouched, not only AbortError', async () => {
    const c = new AbortController();
    const reason = new Error('shutting down');
    const err = await applySteps(
      steps,
      async (s) => {
        if (s.op === 'a') c.abort(reason);
        await Promise.resolve();
        c.signal.throwIfAborted();
      },
      { signal: c.signal },
    ).catch((e) => e);
    expect(err).toBe(reason);
  });
});
