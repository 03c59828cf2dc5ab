/**
 * Benchmark 3: gc-policy decisions per second for 1,000,000 zones with mixed facts, next to a minimal
 * hand-written baseline in the same run. The baseline reads the same inputs the policy reads — every
 * zone's flags and its `createdAt` Date (`getTime()`), no precomputed numbers — applies the same rules
 * with plain comparisons and collects the same output, the ids to delete; it does no validation, builds no
 * decision objects and no sentences. So the ratio is the price of the contract.
 *
 * The fleet runs twice: sorted by zone id, and shuffled (the same zones in a seeded Fisher–Yates
 * order). Each is built the way an inventory arrives — parsed from a JSON document (flat strings, the
 * objects allocated in the order they are listed), `createdAt` revived as Dates — so neither order gets
 * the other's memory layout.
 *
 * Rows per order: the baseline; (1) the baseline plus validation as gc-policy wrote it before its
 * one-pass rewrite (`checkZone` per zone, duplicates found with a `Set` — the cost that rewrite removed); `planGarbageCollection` reading `toDelete` and
 * `nextReviewAt` (what the collector uses; `decisions` is built on first read); and
 * `planGarbageCollection` with every decision and its sentence read. Every row must find the same
 * deletions.
 *
 * GC_BENCH_ZONES and GC_BENCH_REPEAT change the size and the repeat count; `--quick` uses 100,000 zones.
 */
import { defaultGcPolicyOptions, planGarbageCollection, type ZoneFacts } from '@zonekeeper/gc-policy';
import { isQuick, load, medianMs, type Row, report } from './report.js';

const N = Number(process.env.GC_BENCH_ZONES ?? (isQuick() ? 100_000 : 1_000_000));
const REPEAT = Number(process.env.GC_BENCH_REPEAT ?? 7);
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

/** The zones as a listing delivers them: parsed from JSON, in this order, `createdAt` revived. */
function parsed(zones: readonly ZoneFacts[]): ZoneFacts[] {
  return JSON.parse(JSON.stringify(zones), (key, value) => (key === 'createdAt' ? new Date(value) : value));
}

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  const r = rng(7);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** The baseline: the same rules over the same inputs (the Dates read per zone), the same ids out. */
function baseline(zones: readonly ZoneFacts[], nowMs: number): string[] {
  const o = defaultGcPolicyOptions;
  const d = new Date(nowMs);
  const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  const freeLimit = o.freeDeletionWindowMs - o.freeDeletionMarginMs;
  const out: string[] = [];
  for (let i = 0; i < zones.length; i++) {
    const z = zones[i] as ZoneFacts;
    if (!z.managed || z.protected === true || z.inUse) continue;
    const createdAt = z.createdAt;
    if (createdAt !== undefined) {
      const c = createdAt.getTime();
      if (c > nowMs + o.clockSkewToleranceMs) continue;
      if (Math.max(0, nowMs - c) < freeLimit) {
        out.push(z.zoneId);
        continue;
      }
    }
    if (nowMs >= next - o.chargeLeadTimeMs) out.push(z.zoneId);
  }
  return out;
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

const nowMs = now.getTime();
const generated = fleet(N);
const sorted = parsed(generated);
const orders = [
  { order: 'sorted', zones: sorted },
  { order: 'shuffled', zones: parsed(shuffled(generated)) },
];
const variants: { name: string; run: (zones: readonly ZoneFacts[]) => number }[] = [
  { name: 'hand-written baseline (reads the Dates)', run: (zones) => baseline(zones, nowMs).length },
  {
    name: '(1) baseline + validation with a Set of ids (gc-policy before)',
    run: (zones) => {
      validate(zones);
      return baseline(zones, nowMs).length;
    },
  },
  {
    name: 'planGarbageCollection: toDelete + nextReviewAt',
    run: (zones) => {
      const plan = planGarbageCollection(zones, now);
      return plan.nextReviewAt === undefined ? -1 : plan.toDelete.length;
    },
  },
  {
    name: 'planGarbageCollection + every decision read',
    run: (zones) => {
      const plan = planGarbageCollection(zones, now);
      let deletes = 0;
      for (const d of plan.decisions) if (d.action === 'delete' && d.message.length > 0) deletes++;
      return deletes;
    },
  },
];
// Rounds interleave the variants (each round in a rotated order), so that a burst of load elsewhere on
// a shared machine, or the garbage one variant leaves, does not fall on one variant only.
const timed: { order: string; name: string; ms: number; deletes: number }[] = [];
for (const { order, zones } of orders) {
  const samples = variants.map(() => [] as number[]);
  const deletes = variants.map(() => 0);
  for (let round = 0; round < REPEAT + 1; round++) {
    for (let k = 0; k < variants.length; k++) {
      const v = (round + k) % variants.length;
      const ms = medianMs(1, () => {
        deletes[v] = (variants[v] as (typeof variants)[number]).run(zones);
      });
      if (round > 0) (samples[v] as number[]).push(ms); // round 0 warms up
    }
  }
  variants.forEach((v, i) => {
    const sortedMs = [...(samples[i] as number[])].sort((x, y) => x - y);
    timed.push({
      order,
      name: v.name,
      ms: sortedMs[Math.floor(sortedMs.length / 2)] as number,
      deletes: deletes[i] as number,
    });
  });
}
const expected = baseline(sorted, nowMs).length;
for (const t of timed)
  if (t.deletes !== expected)
    throw new Error(
      `${t.name} (${t.order}) disagrees with the baseline: ${t.deletes} vs ${expected} deletions`,
    );

const perSec = (ms: number) => Math.round(N / (ms / 1000));
const baseOf = (order: string) => (timed.find((t) => t.order === order) as (typeof timed)[number]).ms;
const rows: Row[] = timed.map((t) => ({
  order: t.order,
  implementation: t.name,
  'median ms': Number(t.ms.toFixed(1)),
  'decisions/s': perSec(t.ms),
  '× baseline time': Number((t.ms / baseOf(t.order)).toFixed(2)),
}));
const ratio = (order: string, name: string) =>
  Number(
    ((timed.find((t) => t.order === order && t.name === name)?.ms ?? Number.NaN) / baseOf(order)).toFixed(2),
  );
report(
  'gc-policy',
  `gc-policy: ${N.toLocaleString('en')} zones, median of ${REPEAT} runs each (load ${load().join(' / ')})`,
  rows,
  {
    zones: N,
    deletions: expected,
    ratios: Object.fromEntries(
      orders.map(({ order }) => [
        order,
        {
          plan: ratio(order, 'planGarbageCollection: toDelete + nextReviewAt'),
          planWithDecisions: ratio(order, 'planGarbageCollection + every decision read'),
          validation: ratio(order, '(1) baseline + validation with a Set of ids (gc-policy before)'),
        },
      ]),
    ),
    stages: timed.map((t) => ({ order: t.order, name: t.name, ms: Number(t.ms.toFixed(1)) })),
  },
);
