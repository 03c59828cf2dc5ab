/**
 * Benchmark 3: gc-policy decisions per second for 1,000,000 zones with mixed facts, next to a minimal
 * hand-written arithmetic baseline in the same run. The baseline computes the same action for each zone
 * with integer comparisons only (no validation, no messages, no Date objects per zone), so the ratio is
 * the price of the contract: input validation, readable messages and fresh Dates.
 *
 * To say where the time goes, two intermediate stages add the contract's parts one at a time, written
 * the way gc-policy writes them: (1) + input validation (every zone checked as `checkZone` does,
 * duplicate ids found with a Set); (2) + one decision object per zone with a fresh `nextChargeAt` Date
 * (and `eligibleAt` for deferrals). What planGarbageCollection adds to (2) is mainly the sentence of each
 * decision (template strings with ISO dates and durations). Each stage must agree with the policy.
 *
 * GC_BENCH_ZONES and GC_BENCH_REPEAT change the size and the repeat count; `--quick` uses 100,000 zones.
 */
import { defaultGcPolicyOptions, planGarbageCollection, type ZoneFacts } from '@zonekeeper/gc-policy';
import { isQuick, medianMs, type Row, report } from './report.js';

const N = Number(process.env.GC_BENCH_ZONES ?? (isQuick() ? 100_000 : 1_000_000));
const REPEAT = Number(process.env.GC_BENCH_REPEAT ?? 5);
const H = 3_600_000;
const now = new Date('2026-03-20T12:00:00.000Z');

/** A seeded generator (mulberry32) so every run decides the same fleet. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fleet(n: number): ZoneFacts[] {
  const r = rng(42);
  return Array.from({ length: n }, (_, i) => {
    const kind = r();
    const createdAt =
      kind < 0.1
        ? undefined
        : new Date(now.getTime() - Math.floor(r() * (kind < 0.4 ? 24 * H : 400 * 24 * H)));
    return {
      zoneId: `Z${i.toString(36).toUpperCase().padStart(12, '0')}`,
      managed: r() < 0.95,
      inUse: r() < 0.5,
      ...(r() < 0.02 ? { protected: true } : {}),
      ...(createdAt ? { createdAt } : {}),
    };
  });
}

/** The baseline: the same rules as bare arithmetic over precomputed numbers. */
function baseline(zones: readonly ZoneFacts[], created: Float64Array, nowMs: number): number {
  const o = defaultGcPolicyOptions;
  const d = new Date(nowMs);
  const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  const freeLimit = o.freeDeletionWindowMs - o.freeDeletionMarginMs;
  let deletes = 0;
  for (let i = 0; i < zones.length; i++) {
    const z = zones[i] as ZoneFacts;
    if (!z.managed || z.protected === true || z.inUse) continue;
    const c = created[i] as number;
    if (!Number.isNaN(c)) {
      if (c > nowMs + o.clockSkewToleranceMs) continue;
      if (Math.max(0, nowMs - c) < freeLimit) {
        deletes++;
        continue;
      }
    }
    if (nowMs >= next - o.chargeLeadTimeMs) deletes++;
  }
  return deletes;
}

/** gc-policy's input validation, written as `checkZone` and `planGarbageCollection` write it. */
function validate(zones: readonly ZoneFacts[]): void {
  const seen = new Set<string>();
  for (let i = 0; i < zones.length; i++) {
    const z = zones[i] as ZoneFacts;
    if (typeof z !== 'object' || z === null) throw new Error(`Zone #${i + 1} must be an object`);
    if (typeof z.zoneId !== 'string' || z.zoneId.length === 0) throw new Error(`Zone #${i + 1} has no id`);
    if (z.createdAt !== undefined && !(z.createdAt instanceof Date && !Number.isNaN(z.createdAt.getTime())))
      throw new Error(`Zone ${z.zoneId}: bad createdAt`);
    if (typeof z.inUse !== 'boolean' || typeof z.managed !== 'boolean')
      throw new Error(`Zone ${z.zoneId}: flags`);
    if (z.protected !== undefined && typeof z.protected !== 'boolean')
      throw new Error(`Zone ${z.zoneId}: protected`);
    if (seen.has(z.zoneId)) throw new Error(`Zone ${z.zoneId} appears twice`);
    seen.add(z.zoneId);
  }
}

/** Stage (2): validation, then the rules on the Date objects, one decision object with fresh Dates per zone. */
function decisionObjects(zones: readonly ZoneFacts[], nowMs: number): number {
  validate(zones);
  const o = defaultGcPolicyOptions;
  const d = new Date(nowMs);
  const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  const eligible = next - o.chargeLeadTimeMs;
  const freeLimit = o.freeDeletionWindowMs - o.freeDeletionMarginMs;
  const out: { zoneId: string; action: string; reason: string; nextChargeAt: Date; eligibleAt?: Date }[] = [];
  let deletes = 0;
  for (const z of zones) {
    const c = z.createdAt?.getTime();
    let action = 'keep';
    let reason: string;
    if (!z.managed) reason = 'NOT_MANAGED';
    else if (z.protected === true) reason = 'PROTECTED';
    else if (z.inUse) reason = 'IN_USE';
    else if (c !== undefined && c > nowMs + o.clockSkewToleranceMs) reason = 'CLOCK_SKEW';
    else if (c !== undefined && Math.max(0, nowMs - c) < freeLimit) {
      action = 'delete';
      reason = 'FREE_DELETION_WINDOW';
    } else if (nowMs >= eligible) {
      action = 'delete';
      reason = 'BEFORE_NEXT_CHARGE';
    } else {
      action = 'defer';
      reason = 'ALREADY_CHARGED';
    }
    if (action === 'delete') deletes++;
    out.push(
      action === 'defer'
        ? { zoneId: z.zoneId, action, reason, nextChargeAt: new Date(next), eligibleAt: new Date(eligible) }
        : { zoneId: z.zoneId, action, reason, nextChargeAt: new Date(next) },
    );
  }
  return deletes;
}

const zones = fleet(N);
const created = Float64Array.from(zones, (z) => z.createdAt?.getTime() ?? Number.NaN);
const nowMs = now.getTime();
const variants: { name: string; run: () => number }[] = [
  { name: 'hand-written arithmetic baseline', run: () => baseline(zones, created, nowMs) },
  {
    name: '(1) baseline + input validation',
    run: () => {
      validate(zones);
      return baseline(zones, created, nowMs);
    },
  },
  {
    name: '(2) validation + a decision object with fresh Dates per zone',
    run: () => decisionObjects(zones, nowMs),
  },
  {
    name: 'planGarbageCollection (2 + a sentence per decision)',
    run: () => planGarbageCollection(zones, now).toDelete.length,
  },
];
// One block of runs per variant, so that the garbage a variant leaves (up to a million decisions) is
// charged to at most the first run of the next block, which the median ignores.
const samples = variants.map(() => [] as number[]);
const deletes = variants.map(() => 0);
variants.forEach((v, i) => {
  for (let round = 0; round < REPEAT; round++)
    (samples[i] as number[]).push(
      medianMs(1, () => {
        deletes[i] = v.run();
      }),
    );
});
const policyDeletes = deletes[deletes.length - 1] as number;
const timed = variants.map((v, i) => {
  const sorted = [...(samples[i] as number[])].sort((x, y) => x - y);
  return { ...v, ms: sorted[Math.floor(sorted.length / 2)] as number, deletes: deletes[i] as number };
});
for (const t of timed)
  if (t.deletes !== policyDeletes)
    throw new Error(`${t.name} disagrees with the policy: ${t.deletes} vs ${policyDeletes} deletions`);

const perSec = (ms: number) => Math.round(N / (ms / 1000));
const baseMs = (timed[0] as (typeof timed)[number]).ms;
const policyMs = (timed[timed.length - 1] as (typeof timed)[number]).ms;
const rows: Row[] = timed.map((t) => ({
  implementation: t.name,
  'median ms': Number(t.ms.toFixed(1)),
  'decisions/s': perSec(t.ms),
  '× baseline time': Number((t.ms / baseMs).toFixed(1)),
  'share of the policy time': `${((t.ms / policyMs) * 100).toFixed(0)} %`,
}));
report('gc-policy', `gc-policy: ${N.toLocaleString('en')} zones, median of ${REPEAT} runs each`, rows, {
  zones: N,
  deletions: policyDeletes,
  policyPerSec: perSec(policyMs),
  baselinePerSec: perSec(baseMs),
  slowdown: Number((policyMs / baseMs).toFixed(1)),
  stages: Object.fromEntries(timed.map((t) => [t.name, Number(t.ms.toFixed(1))])),
});
