/**
 * Test support (not shipped): the crash matrix of the reliability suite.
 *
 * For a scenario (an operation after some setup), the runner
 * 1. runs it once uninterrupted, recording every side-effecting port call in order (and checking the
 *    count against the wire: the fault proxy's log of AWS write operations and the Vault fake's log of
 *    write requests), and takes a normalised snapshot of the end state;
 * 2. for every crash mode and every write k of that run: resets the backends, runs the setup again, runs
 *    the operation with a crash injected right after write k was applied, runs the operation again
 *    (a fresh zonekeeper instance: the "process" restarted), and checks that the end state equals the
 *    uninterrupted run's and satisfies every invariant.
 */

import { appendFileSync } from 'node:fs';
import { createManualClock, hasErrorCode, type Logger, type ManualClock } from '@zonekeeper/core';
import type { IdentityScope, ZonekeeperConfig } from '../config.js';
import { createMemoryInventory, type MemoryInventory } from '../inventory.js';
import { everythingIn } from '../memory.test.support.js';
import { createZonekeeper, type Zonekeeper } from '../zonekeeper.js';
import { BASE_DOMAIN, type Backend } from './backends.test.support.js';
import { type CrashMode, Harness, type WriteCall } from './harness.test.support.js';
import {
  describeDifference,
  invariantViolations,
  snapshotWorld,
  type WorldSnapshot,
} from './world.test.support.js';

export const START = new Date('2026-03-10T05:00:00.000Z');
/** The organisation lock's default TTL. */
const LOCK_TTL_MS = 60_000;

/** Collects the secrets a run handles, and scans log lines and errors for any of them. */
export class SecretWatch {
  private readonly known = new Set<string>();
  private readonly errors: unknown[] = [];
  linesScanned = 0;
  errorsScanned = 0;
  secretsWatched = 0;
  resultsScanned = 0;

  add(secret: string | undefined): void {
    if (secret && secret.length >= 8 && !this.known.has(secret)) {
      this.known.add(secret);
      this.secretsWatched += 1;
    }
  }

  /** Harness hook: remembers secret access keys IAM issued and secrets read from the store. */
  readonly collect = (port: string, method: string, result: unknown): void => {
    if (port === 'identity' && method === 'createAccessKey')
      this.add((result as { secretAccessKey?: string }).secretAccessKey);
    if (port === 'secrets' && method === 'read') {
      const data = (result as { data?: Record<string, string> } | undefined)?.data ?? {};
      this.add(data.secretAccessKey);
      this.add(data.privateKeyPem);
    }
  };

  error(error: unknown): void {
    if (error !== undefined) this.errors.push(error);
  }

  /** Checks what an operation returned: every string in it, and every base64 string decoded. */
  result(value: unknown, where: string): void {
    const texts: string[] = [];
    const walk = (v: unknown, seen: Set<unknown>) => {
      if (typeof v === 'string') {
        texts.push(v);
        if (/^[A-Za-z0-9+/]{16,}={0,2}$/.test(v)) texts.push(Buffer.from(v, 'base64').toString('utf8'));
      } else if (v && typeof v === 'object' && !seen.has(v)) {
        seen.add(v);
        for (const x of Object.values(v)) walk(x, seen);
      }
    };
    walk(value, new Set());
    this.results.push({ where, text: texts.join('\n') });
  }

  private readonly results: { where: string; text: string }[] = [];

  /** Every leak in the lines and the errors seen so far (described without the secret). */
  leaks(lines: readonly string[]): string[] {
    const out: string[] = [];
    const check = (text: string, where: string) => {
      if (text.includes('PRIVATE KEY')) out.push(`${where} contains a private key`);
      for (const s of this.known)
        if (text.includes(s)) out.push(`${where} contains a secret (${s.length} characters)`);
    };
    for (const [i, line] of lines.entries()) check(line, `log line ${i + 1}`);
    for (const r of this.results) check(r.text, `the result of ${r.where}`);
    for (const [i, e] of this.errors.entries())
      check(everythingIn(e), `error ${i + 1} (${String((e as Error | undefined)?.message).slice(0, 80)})`);
    this.linesScanned += lines.length;
    this.errorsScanned += this.errors.length;
    this.resultsScanned += this.results.length;
    return out;
  }
}

/** A logger that keeps every line of every level. */
export function recordingLogger(
  lines: string[],
): Logger & { trace(message: string, ...meta: unknown[]): void } {
  const at =
    (level: string) =>
    (message: string, ...meta: unknown[]) => {
      lines.push(
        `${level} ${message} ${meta.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ')}`,
      );
    };
  return { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export interface ScenarioContext {
  readonly backend: Backend;
  readonly clock: ManualClock;
  readonly inventory: MemoryInventory;
  /** What the setup computed for the run (e.g. the collection instant). */
  readonly state: Record<string, unknown>;
}

export interface Scenario {
  readonly name: string;
  readonly identityScope?: IdentityScope;
  /** Certificate settings of the facade (e.g. `caPathLength` for cert-manager's CA issuer). */
  readonly certificates?: ZonekeeperConfig['certificates'];
  /** Clusters whose objects are part of the end state. */
  readonly clusters: readonly string[];
  /** The organisations that may exist at the end (anything else is orphaned). */
  readonly organizations: readonly string[];
  setup(zk: Zonekeeper, ctx: ScenarioContext): Promise<void>;
  run(zk: Zonekeeper, ctx: ScenarioContext, options: { readonly signal?: AbortSignal }): Promise<unknown>;
}

/** The outcome of one case (a run, possibly crashed, then possibly re-run). */
export interface CaseOutcome {
  readonly writes: readonly WriteCall[];
  readonly fired?: WriteCall;
  readonly error?: unknown;
  readonly rerunError?: unknown;
  readonly world: WorldSnapshot;
  readonly violations: readonly string[];
  /** createAccessKey calls IAM refused with its two-key limit (the protocol must never need a third key). */
  readonly keyLimitHits: number;
  readonly wire?: { readonly aws: number; readonly vault: number };
}

export interface MatrixEnvironment {
  readonly backend: Backend;
  readonly watch: SecretWatch;
  readonly lines: string[];
}

/** Runs one case: setup, the operation (crashed at `crash` if given), and a re-run after a crash. */
export async function runCase(
  env: MatrixEnvironment,
  scenario: Scenario,
  crash?: { readonly at: number; readonly mode: CrashMode },
): Promise<CaseOutcome> {
  const { backend, watch } = env;
  const clock = createManualClock(START, { autoAdvance: true });
  await backend.reset(clock);
  const inventory = createMemoryInventory();
  const ctx: ScenarioContext = { backend, clock, inventory, state: {} };
  const logger = recordingLogger(env.lines);
  const make = (harness?: Harness) =>
    createZonekeeper({
      baseDomain: BASE_DOMAIN,
      clock,
      inventory,
      logger,
      ...(scenario.identityScope ? { identityScope: scenario.identityScope } : {}),
      ...(scenario.certificates ? { certificates: scenario.certificates } : {}),
      ...backend.config(harness),
    });
  await scenario.setup(make(new Harness({ onResult: watch.collect })), ctx);

  let keyLimitHits = 0;
  const harness = new Harness({
    ...(crash?.mode === 'drop' ? { droppers: backend.droppers } : {}),
    ...(crash?.mode === 'fail' ? { failers: backend.failers } : {}),
    onResult: watch.collect,
    onError: (port, method, error) => {
      if (port === 'identity' && method === 'createAccessKey' && hasErrorCode(error, 'CONFLICT'))
        keyLimitHits += 1;
    },
  });
  if (crash) harness.arm(crash.at, crash.mode);
  backend.mark?.();
  let error: unknown;
  try {
    watch.result(
      await scenario.run(make(harness), ctx, crash?.mode === 'abort' ? { signal: harness.signal } : {}),
      scenario.name,
    );
  } catch (e) {
    error = e;
    watch.error(e);
  }
  const wire = backend.wireWrites?.();
  let rerunError: unknown;
  if (crash) {
    // The process restarts after the organisation lock a crashed run may have left held has expired
    // (its TTL, 60 s): operations would wait for it anyway, but the collector never waits for a lock.
    await clock.advance(LOCK_TTL_MS);
    const again = new Harness({
      onResult: watch.collect,
      onError: (port, method, e) => {
        if (port === 'identity' && method === 'createAccessKey' && hasErrorCode(e, 'CONFLICT'))
          keyLimitHits += 1;
      },
    });
    try {
      watch.result(await scenario.run(make(again), ctx, {}), `${scenario.name} (re-run)`);
    } catch (e) {
      rerunError = e;
      watch.error(e);
    }
  }
  const world = await snapshotWorld(backend.inspect, scenario.clusters, clock.now());
  return {
    writes: harness.writes,
    ...(harness.fired ? { fired: harness.fired } : {}),
    error,
    rerunError,
    world,
    violations: invariantViolations(world, { organizations: scenario.organizations }),
    keyLimitHits,
    ...(wire ? { wire } : {}),
  };
}

/** The figures of one scenario under one crash mode. */
export interface MatrixFigures {
  readonly backend: string;
  readonly scenario: string;
  readonly mode: CrashMode;
  readonly crashPoints: number;
  readonly survived: number;
  /** Interrupted runs that reported the crash to their caller (the others absorbed it, e.g. by an SDK retry). */
  readonly reported: number;
  readonly apiCalls: number;
  /** Faults injected: one crash per case. */
  readonly faults: number;
}

const describeWrite = (w: WriteCall) =>
  `${w.index}:${w.port}.${w.method}${w.port === 'cluster' ? `@${w.target}` : ''}`;

/** The uninterrupted run: its write sequence and end state (which must be clean). */
export async function baseline(
  env: MatrixEnvironment,
  scenario: Scenario,
): Promise<{ outcome: CaseOutcome; problems: string[] }> {
  const outcome = await runCase(env, scenario);
  const problems: string[] = [];
  if (outcome.error) problems.push(`the uninterrupted run failed: ${(outcome.error as Error).message}`);
  problems.push(...outcome.violations.map((v) => `uninterrupted run: ${v}`));
  if (outcome.wire) {
    const aws = outcome.writes.filter((w) => w.port === 'dns' || w.port === 'identity').length;
    const vault = outcome.writes.filter((w) => w.port === 'secrets').length;
    if (outcome.wire.aws !== aws)
      problems.push(`the proxy saw ${outcome.wire.aws} AWS write requests, the harness ${aws} port writes`);
    if (outcome.wire.vault !== vault)
      problems.push(
        `the Vault fake saw ${outcome.wire.vault} write requests, the harness ${vault} port writes`,
      );
  }
  if (outcome.keyLimitHits > 0)
    problems.push(`IAM refused ${outcome.keyLimitHits} key creations (two-key limit)`);
  return { outcome, problems };
}

/** Crashes the scenario after every write of `reference`, in one mode; returns the figures and failures. */
export async function crashMatrix(
  env: MatrixEnvironment,
  scenario: Scenario,
  reference: CaseOutcome,
  mode: CrashMode,
): Promise<{ figures: MatrixFigures; failures: string[] }> {
  const before = env.backend.counters();
  const failures: string[] = [];
  let survived = 0;
  let reported = 0;
  const expected = JSON.stringify(reference.world.normalised);
  for (const write of reference.writes) {
    const where = `${scenario.name} / ${mode} after write ${describeWrite(write)}`;
    const c = await runCase(env, scenario, { at: write.index, mode });
    const problems: string[] = [];
    if (!c.fired) problems.push('the crash was never injected (the run made fewer writes)');
    else if (
      c.fired.port !== write.port ||
      c.fired.method !== write.method ||
      c.fired.target !== write.target
    )
      problems.push(`the crash hit ${describeWrite(c.fired)} instead (the run is not deterministic)`);
    if (c.rerunError) problems.push(`the re-run failed: ${(c.rerunError as Error).message}`);
    if (JSON.stringify(c.world.normalised) !== expected)
      problems.push(
        `the end state differs:\n${describeDifference(reference.world.normalised, c.world.normalised)}`,
      );
    problems.push(...c.violations);
    if (c.keyLimitHits > 0)
      problems.push(`IAM refused ${c.keyLimitHits} key creation(s): three keys were needed`);
    if (problems.length === 0) survived += 1;
    else failures.push(`${where}:\n  ${problems.join('\n  ')}`);
    if (c.error) reported += 1;
  }
  const after = env.backend.counters();
  return {
    figures: {
      backend: env.backend.name,
      scenario: scenario.name,
      mode,
      crashPoints: reference.writes.length,
      survived,
      reported,
      apiCalls: after.apiCalls - before.apiCalls,
      // One injected crash per case (a `drop` is also in the proxy's log: the same fault, counted once).
      faults: reference.writes.length,
    },
    failures,
  };
}

/**
 * Appends figures to the file named by `ZONEKEEPER_RELIABILITY_REPORT` (JSON lines), when set. The
 * matrix is silent otherwise.
 */
export function report(record: Readonly<Record<string, unknown>>): void {
  const file = process.env.ZONEKEEPER_RELIABILITY_REPORT;
  if (!file) return;
  appendFileSync(file, `${JSON.stringify(record)}\n`);
}
