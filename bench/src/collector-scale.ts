/**
 * Benchmark: the month-end deletion sweep's own cost as the fleet grows. On the embedded in-memory
 * backend (no network, no limiter), N organisations are created with `ensureOrganization` (zone,
 * delegation in the parent zone, identity, secrets); half of them have a running cluster in the memory
 * inventory, the other half are unused, and one `collectGarbage()` 30 minutes before the monthly charge
 * deletes those N/2 zones with their identities and secrets. Time per deleted zone should not grow with
 * N (a sweep that re-reads the inventory per deletion is O(N²): its time per deletion grows with N).
 *
 * Also counted: the inventory reads per deleted zone, split into whole-inventory listings
 * (`listClusters`) and point queries (`listClustersOf`).
 *
 * A warm-up run of 200 organisations comes first (not reported).
 *
 * `--quick` (or BENCH_QUICK=1): 500 and 2,000 organisations.
 */
import { createManualClock } from '@zonekeeper/core';
import { type ClusterInventory, createMemoryInventory, createZonekeeper } from 'zonekeeper';
import { isQuick, type Row, report } from './report.js';

const SIZES: readonly [number, number] = isQuick() ? [500, 2_000] : [1_000, 10_000];
const BASE = 'fleet.example';
const START = new Date('2026-03-01T00:00:00.000Z');
/** 30 minutes before April's charge: every unused zone is due. */
const NOW = new Date('2026-03-31T23:30:00.000Z');

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

interface Measured {
  readonly row: Row;
  readonly summary: Record<string, unknown>;
}

async function measure(organizations: number): Promise<Measured> {
  const memory = createMemoryInventory();
  const reads = { listClusters: 0, listClustersOf: 0 };
  // Counts the calls and forwards them.
  const inventory: ClusterInventory = {
    listClusters: (o) => {
      reads.listClusters++;
      return memory.listClusters(o);
    },
    listClustersOf: (organization, o) => {
      reads.listClustersOf++;
      return memory.listClustersOf(organization, o);
    },
  };
  const clock = createManualClock(START);
  const zk = createZonekeeper({ baseDomain: BASE, clock, inventory, logger: silent });
  const t0 = performance.now();
  for (let i = 0; i < organizations; i++) {
    const organization = `org-${i.toString().padStart(5, '0')}`;
    await zk.ensureOrganization(organization);
    if (i % 2 === 0) memory.set({ organization, clusterId: 'c1', running: true });
  }
  const seedSeconds = (performance.now() - t0) / 1000;
  reads.listClusters = 0;
  reads.listClustersOf = 0;
  const t = performance.now();
  const result = await zk.collectGarbage({ now: NOW });
  const ms = performance.now() - t;
  const deleted = result.results.filter((r) => r.status === 'deleted').length;
  const expected = Math.floor(organizations / 2);
  if (deleted !== expected)
    throw new Error(
      `deleted ${deleted} of ${expected} zones: ${JSON.stringify(result.results.find((r) => r.status !== 'deleted'))}`,
    );
  const orphans = result.orphans.identities.length + result.orphans.secretPaths.length;
  if (orphans !== 0) throw new Error(`${orphans} orphans found: the deletion left identities or secrets`);
  return {
    row: {
      organisations: organizations,
      'zones deleted': deleted,
      'sweep, s': Number((ms / 1000).toFixed(2)),
      'ms per deletion': Number((ms / deleted).toFixed(3)),
      'inventory listings': reads.listClusters,
      'point queries': reads.listClustersOf,
      'listings per deletion': Number((reads.listClusters / deleted).toFixed(2)),
    },
    summary: {
      organizations,
      deleted,
      seconds: ms / 1000,
      msPerDeletion: ms / deleted,
      seedSeconds,
      inventoryListings: reads.listClusters,
      pointQueries: reads.listClustersOf,
    },
  };
}

const FLEET_GROWTH = SIZES[1] / SIZES[0];
// A warm-up run first, so that the first measured size does not pay for the JIT alone.
await measure(200);
const measured: Measured[] = [];
for (const n of SIZES) measured.push(await measure(n));
const [small, large] = measured as [Measured, Measured];
const growth =
  (large.summary.msPerDeletion as number) / (small.summary.msPerDeletion as number) /* same work per zone */;
report(
  'collector-scale',
  `Month-end deletion sweep on the in-memory backend: time per deleted zone at ${SIZES.map((s) => s.toLocaleString('en')).join(' and ')} organisations (linear: the same per deletion)`,
  measured.map((m) => m.row),
  {
    sizes: SIZES,
    perDeletionGrowth: growth,
    fleetGrowth: FLEET_GROWTH,
    runs: measured.map((m) => m.summary),
  },
);
console.log(
  `time per deletion grew ${growth.toFixed(2)}× while the fleet grew ${FLEET_GROWTH}× (linear: ≈ 1×; quadratic: ≈ ${FLEET_GROWTH}×)`,
);
