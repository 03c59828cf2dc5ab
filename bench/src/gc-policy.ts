/**
 * Benchmark: gc-policy decisions per second for 1,000,000 zones with mixed facts, next to a minimal
 * hand-written arithmetic baseline in the same run. The baseline computes the same action for each zone
 * with integer comparisons only (no validation, no messages, no Date objects per zone), so the ratio is
 * the price of the contract: input validation, readable messages and fresh Dates.
 */
import { defaultGcPolicyOptions, planGarbageCollection, type ZoneFacts } from '@zonekeeper/gc-policy';
import { medianMs, report } from './report.js';

const N = Number(process.env.GC_BENCH_ZONES ?? 1_000_000);
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

const zones = fleet(N);
const created = Float64Array.from(zones, (z) => z.createdAt?.getTime() ?? Number.NaN);
let policyDeletes = 0;
let baselineDeletes = 0;
const policyMs = medianMs(REPEAT, () => {
  policyDeletes = planGarbageCollection(zones, now).toDelete.length;
});
const baselineMs = medianMs(REPEAT, () => {
  baselineDeletes = baseline(zones, created, now.getTime());
});
if (policyDeletes !== baselineDeletes)
  throw new Error(`baseline disagrees with the policy: ${baselineDeletes} vs ${policyDeletes} deletions`);

const perSec = (ms: number) => Math.round(N / (ms / 1000));
report(
  'gc-policy',
  `gc-policy: ${N.toLocaleString('en')} zones, median of ${REPEAT} runs`,
  [
    {
      implementation: 'planGarbageCollection',
      'median ms': Number(policyMs.toFixed(1)),
      'decisions/s': perSec(policyMs),
    },
    {
      implementation: 'hand-written arithmetic baseline',
      'median ms': Number(baselineMs.toFixed(1)),
      'decisions/s': perSec(baselineMs),
    },
  ],
  {
    zones: N,
    deletions: policyDeletes,
    policyPerSec: perSec(policyMs),
    baselinePerSec: perSec(baselineMs),
    slowdown: Number((policyMs / baselineMs).toFixed(1)),
  },
);
