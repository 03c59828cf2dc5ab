/**
 * The shared shape of gather → pure plan → apply.
 *
 * Every `ensure*` function reads the current state, computes a plan as plain JSON data with a pure
 * `plan*` function, and applies it step by step with {@link applySteps}. Dry-run returns the plan and
 * stops, so it lives in exactly one place. After a successful apply, planning again yields no steps.
 *
 * @packageDocumentation
 */

import { invalidInput, isAbortError, toZonekeeperError, type ZonekeeperError } from './errors.js';
import { describeRef, type ObjectRef } from './kubernetes.js';
import {
  type CallOptions,
  type Clock,
  type Logger,
  noopLogger,
  signalOnly,
  throwIfAborted,
} from './runtime.js';
import { describeValue } from './values.js';

/**
 * One step of a plan: a tagged union member with an `op` name. Steps are JSON-serialisable data.
 * @public
 */
export interface PlanStep {
  /** What the step does, e.g. `'create-zone'`. */
  readonly op: string;
}

/**
 * Options of every `ensure*` operation.
 * @public
 */
export interface EnsureOptions extends CallOptions {
  /** Plan only: gather and plan, return the plan, change nothing. Default false. */
  readonly dryRun?: boolean;
}

/**
 * Injected runtime dependencies shared by apply and ensure functions. All optional.
 * @public
 */
export interface RuntimeDeps {
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Default: silent. */
  readonly logger?: Logger;
}

/** How a step ended. @public */
export type StepStatus = 'applied' | 'failed' | 'not-executed';

/** The outcome of one step. @public */
export interface StepOutcome<S extends PlanStep = PlanStep> {
  readonly step: S;
  readonly status: StepStatus;
  /** Present when `status` is `'failed'`. */
  readonly error?: ZonekeeperError;
}

/**
 * Performs one step. It may throw; {@link applySteps} then stops and re-throws (as a zonekeeper error,
 * so `code` and `retry` still say what to do next).
 * @public
 */
export type StepExecutor<S extends PlanStep> = (step: S, index: number) => Promise<void>;

/** Options of {@link applySteps}. @public */
export interface ApplyStepsOptions<S extends PlanStep> extends CallOptions {
  /**
   * Receives debug lines `apply <op> <object> (i/n)`, the object named by {@link describeStepTarget}
   * (`apply create-zone acme.example.com (1/3)`); never secrets (steps must not contain secrets).
   */
  readonly logger?: Logger;
  /** Called after every step with its outcome (including `not-executed` ones after a failure). */
  readonly onOutcome?: (outcome: StepOutcome<S>) => void;
}

/**
 * Applies steps in order. Checks `signal` before each step (an abort re-throws `signal.reason` and leaves
 * the rest unexecuted). If a step throws, the remaining steps are reported `not-executed` and the error
 * is re-thrown as a `ZonekeeperError` (aborts stay the platform abort error). Returns every outcome when
 * all steps were applied.
 * @public
 */
export async function applySteps<S extends PlanStep>(
  steps: readonly S[],
  execute: StepExecutor<S>,
  options: ApplyStepsOptions<S> = {},
): Promise<readonly StepOutcome<S>[]> {
  const logger = options.logger ?? noopLogger;
  const outcomes: StepOutcome<S>[] = [];
  const report = (o: StepOutcome<S>) => {
    outcomes.push(o);
    options.onOutcome?.(o);
  };
  for (const [i, step] of steps.entries()) {
    try {
      throwIfAborted(options.signal);
      const target = describeStepTarget(step);
      logger.debug(`apply ${step.op}${target === undefined ? '' : ` ${target}`} (${i + 1}/${steps.length})`);
      await execute(step, i);
      report({ step, status: 'applied' });
    } catch (error) {
      // An abort (whatever its reason) leaves this and the following steps unexecuted and re-throws the
      // reason untouched, as every zonekeeper function does.
      const aborted = options.signal?.aborted === true || isAbortError(error);
      const failure = aborted ? undefined : toZonekeeperError(error, `Step ${step.op} failed`);
      report(failure ? { step, status: 'failed', error: failure } : { step, status: 'not-executed' });
      for (const rest of steps.slice(i + 1)) report({ step: rest, status: 'not-executed' });
      throw failure ?? (options.signal?.aborted ? options.signal.reason : error);
    }
  }
  return outcomes;
}

/** Fields naming what a step works on, most specific first. */
const TARGET_FIELDS = [
  'zoneName',
  'recordName',
  'userName',
  'roleName',
  'secretName',
  'path',
  'name',
  'commonName',
  'zoneId',
  'clusterId',
] as const;

function isObjectRef(value: unknown): value is ObjectRef {
  const r = value as Partial<ObjectRef> | null;
  return typeof r === 'object' && r !== null && typeof r.kind === 'string' && typeof r.name === 'string';
}

/**
 * What a step works on, for progress lines: its Kubernetes object (`Deployment/external-dns/external-dns`)
 * when it has a `ref`, else its first naming field (`zoneName`, `recordName`, `userName`, `roleName`,
 * `secretName`, `path`, `name`, `commonName`, `zoneId`, `clusterId`); `undefined` when it has none.
 * Reads only those fields (steps carry no secrets anyway).
 * @public
 */
export function describeStepTarget(step: PlanStep): string | undefined {
  const s = step as unknown as Record<string, unknown>;
  if (isObjectRef(s.ref)) return describeRef(s.ref);
  for (const k of TARGET_FIELDS) {
    const v = s[k];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

/**
 * Reads `options.dryRun`: `undefined` is false; anything but a boolean is `INVALID_INPUT` (thrown before
 * any remote call). Every `ensure*` checks it through {@link ensure}; facades that gather in several
 * stages call it once up front.
 * @throws `INVALID_INPUT` when `dryRun` is not a boolean.
 * @public
 */
export function validateDryRun(options: EnsureOptions | undefined): boolean {
  const dryRun = (options as { readonly dryRun?: unknown } | undefined)?.dryRun;
  if (dryRun !== undefined && typeof dryRun !== 'boolean')
    throw invalidInput(`dryRun must be a boolean, got ${describeValue(dryRun)}.`);
  return dryRun === true;
}

/**
 * The three parts of an `ensure*` operation, for {@link ensure}.
 * @public
 */
export interface EnsureParts<State, Plan, Applied> {
  /** Reads the current state. Reads only: nothing may be written here. */
  gather(options: CallOptions): Promise<State>;
  /**
   * Pure: the plan (JSON data) for the gathered state. It may throw (`NOT_OWNED`, `CONFLICT`, …) to
   * refuse before anything is written.
   */
  plan(state: State): Plan;
  /** Executes exactly the plan (never re-plans). Not called in a dry run. */
  apply(plan: Plan, state: State, options: CallOptions): Promise<Applied>;
  /**
   * Makes the writes exclusive: a plan with steps is gathered, planned and applied again while holding
   * the lock, so the plan executed is one made while nobody else could write. An empty plan takes no lock
   * (and writes nothing) when the lock was free and unchanged while the state was gathered — no writer
   * was at work, so the state read was not half-changed.
   */
  readonly exclusive?: EnsureExclusion<NoInfer<Plan>>;
}

/** The lock {@link ensure} applies under (see {@link EnsureParts.exclusive}). @public */
export interface EnsureExclusion<Plan> {
  /** Whether the plan has nothing to do. */
  isEmpty(plan: Plan): boolean;
  /** The lock's state, read without taking it: free or held, and a version that changes on every take. */
  observe(options: CallOptions): Promise<{ readonly free: boolean; readonly version: number }>;
  /** Takes the lock (waiting as long as the lock says). `signal` aborts when the lock is lost. */
  acquire(options: CallOptions): Promise<{ readonly signal: AbortSignal; release(): Promise<void> }>;
}

/** What {@link ensure} returns: the plan, and what applying it returned unless it was a dry run. @public */
export type EnsureOutcome<State, Plan, Applied> =
  | { readonly dryRun: true; readonly state: State; readonly plan: Plan }
  | { readonly dryRun: false; readonly state: State; readonly plan: Plan; readonly applied: Applied };

/**
 * Gather → plan → apply, with dry-run decided here and nowhere else: a dry run gathers the same state
 * and computes the same plan as a real run, then stops, so the plan it returns is exactly the one a
 * real run would execute. `dryRun` is validated (a boolean) before anything is read, and only the
 * signal of `options` reaches `gather` and `apply`.
 *
 * @example
 * ```ts
 * const { plan, dryRun } = await ensure(
 *   {
 *     gather: (call) => readZones(dns, call),
 *     plan: (state) => planZones(state, desired),
 *     apply: (plan, _state, call) => applyZonePlan(plan, dns, call),
 *   },
 *   options,
 * );
 * ```
 * @throws `INVALID_INPUT` when `dryRun` is not a boolean; whatever the parts throw; `signal.reason`
 *   on abort.
 * @public
 */
export async function ensure<State, Plan, Applied>(
  parts: EnsureParts<State, Plan, Applied>,
  options: EnsureOptions = {},
): Promise<EnsureOutcome<State, Plan, Applied>> {
  const dryRun = validateDryRun(options);
  const call = signalOnly(options);
  throwIfAborted(call.signal);
  const exclusive = parts.exclusive;
  const before = exclusive && !dryRun ? await exclusive.observe(call) : undefined;
  const state = await parts.gather(call);
  const plan = parts.plan(state);
  if (dryRun) return { dryRun: true, state, plan };
  throwIfAborted(call.signal);
  if (!exclusive) return { dryRun: false, state, plan, applied: await parts.apply(plan, state, call) };
  if (exclusive.isEmpty(plan) && before?.free) {
    const after = await exclusive.observe(call);
    if (after.free && after.version === before.version)
      return { dryRun: false, state, plan, applied: await parts.apply(plan, state, call) };
  }
  return exclusively(parts, exclusive, call);
}

/** Gather → plan → apply while holding the lock. */
async function exclusively<State, Plan, Applied>(
  parts: EnsureParts<State, Plan, Applied>,
  exclusive: EnsureExclusion<Plan>,
  call: CallOptions,
): Promise<EnsureOutcome<State, Plan, Applied>> {
  const held = await exclusive.acquire(call);
  try {
    const locked = {
      signal: call.signal === undefined ? held.signal : AbortSignal.any([call.signal, held.signal]),
    };
    const state = await parts.gather(locked);
    const plan = parts.plan(state);
    throwIfAborted(locked.signal);
    const applied = await parts.apply(plan, state, locked);
    return { dryRun: false, state, plan, applied };
  } catch (error) {
    // An abort of the caller's signal re-throws its reason; a lost lock re-throws the lock's reason.
    if (call.signal?.aborted) throw call.signal.reason;
    if (held.signal.aborted && isAbortError(error)) throw held.signal.reason;
    throw error;
  } finally {
    await held.release();
  }
}
