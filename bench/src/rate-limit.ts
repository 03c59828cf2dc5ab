/**
 * Benchmark 2: collector time under Route 53's request budget, through `createRoute53RateLimiter` with
 * Route 53's 2026 token buckets (`ROUTE53_THROTTLING_2026`: the account's 50 burst refilled at 10 per
 * second, and a bucket per action), against the floor those buckets allow for the calls the fault proxy
 * counted: for every bucket, (its calls − its burst) ÷ its refill rate, and the largest of these. A full
 * bucket lets its burst through at once; everything after it waits for the refill.
 *
 * Four measurements run at the same time, each against its own moto (four accounts, four limiters): they
 * spend nearly all their time waiting for the limiter, so running them side by side saves minutes
 * without touching either result (a call takes milliseconds; the account bucket refills every 100 ms).
 *
 * A. A collector sweep over 5,000 managed zones, `collectGarbage()`: half of the organisations have a
 *    running cluster and the other half were charged already, so nothing is deleted and the sweep is its
 *    reads (zones and tags from Route 53, the inventory, the orphan check's IAM and Vault listings).
 * B. Deleting 100 zones of 50 records each (plus each zone's NS delegation in the parent zone) with
 *    `collectGarbage()`: every zone is unused and in the last hour before the monthly charge.
 *
 * C, D. The same two with realistic latency: the fault proxy holds every AWS call (Route 53 and IAM)
 *    for a time drawn from 100 to 300 ms (seeded), so a sweep that waits for each call before the next
 *    is latency-bound. The collector keeps its independent reads in flight together (the sweep's tag
 *    reads start as the listing's pages arrive), and D deletes `gc.concurrency: 8` organisations at a
 *    time. The floor is the same bucket floor: the target is that latency does not show.
 *
 * The process prints `SEEDED` once every moto server is seeded: from then on it mostly waits, and
 * `pnpm bench` starts the CPU-bound benchmarks (see main.ts).
 *
 * `--quick` (or BENCH_QUICK=1): 1,000 zones for A and C, 20 zones for B and D.
 */
import { ListHostedZonesCommand, Route53Client } from '@aws-sdk/client-route-53';
import {
  createRoute53RateLimiter,
  ROUTE53_THROTTLING_2026,
  type Route53ThrottlingTable,
} from '@zonekeeper/zone-manager/route53';
import { createMemoryInventory, createZonekeeper } from 'zonekeeper';
import { type Backend, withBackend } from './lib/backend.js';
import { createSeeder, type ZoneSeed } from './lib/seed.js';
import { isQuick, type Row, report } from './report.js';

const TABLE: Route53ThrottlingTable = ROUTE53_THROTTLING_2026;

/**
 * The shortest time the buckets allow for these calls: for the account bucket and each action's, the
 * calls beyond its burst at its refill rate; the slowest bucket sets the floor.
 */
function floorSeconds(operations: Readonly<Record<string, number>>): { seconds: number; bucket: string } {
  const route53 = Object.entries(operations).filter(([op]) => ROUTE53_OPERATIONS.has(op));
  const total = route53.reduce((n, [, c]) => n + c, 0);
  let best = {
    seconds: Math.max(0, total - TABLE.account.capacity) / TABLE.account.refillPerSecond,
    bucket: 'account',
  };
  for (const [op, calls] of route53) {
    const spec = TABLE.actions[op] ?? TABLE.defaultAction;
    const seconds = Math.max(0, calls - spec.capacity) / spec.refillPerSecond;
    if (seconds > best.seconds) best = { seconds, bucket: op };
  }
  return best;
}

const ROUTE53_OPERATIONS = new Set([
  'ListHostedZones',
  'ListHostedZonesByName',
  'ListTagsForResources',
  'ListTagsForResource',
  'GetHostedZone',
  'ListResourceRecordSets',
  'ChangeResourceRecordSets',
  'DeleteHostedZone',
  'CreateHostedZone',
  'ChangeTagsForResource',
  'GetChange',
]);
const SWEEP_ZONES = isQuick() ? 1_000 : 5_000;
const DELETE_ZONES = isQuick() ? 20 : 100;
const RECORDS_PER_ZONE = 50;
const H = 3_600_000;

interface Measured {
  readonly row: Row;
  readonly summary: Record<string, unknown>;
}

function measured(
  what: string,
  calls: number,
  granted: number,
  ms: number,
  extra: Record<string, unknown> & { operations: Readonly<Record<string, number>> },
): Measured {
  const floor = floorSeconds(extra.operations);
  const minimum = floor.seconds;
  const seconds = ms / 1000;
  const over = seconds / minimum - 1;
  return {
    row: {
      measurement: what,
      'Route 53 calls': calls,
      'floor (burst + refill), s': Number(minimum.toFixed(1)),
      'slowest bucket': floor.bucket,
      'calls ÷ 10 s⁻¹ (no burst), s': Number((calls / TABLE.account.refillPerSecond).toFixed(1)),
      'measured, s': Number(seconds.toFixed(1)),
      'measured ÷ minimum': Number((seconds / minimum).toFixed(3)),
      'within 10 %': over <= 0.1 ? 'yes' : 'no',
    },
    summary: {
      what,
      calls,
      limiterGranted: granted,
      minimumSeconds: minimum,
      floorBucket: floor.bucket,
      seconds,
      ratio: seconds / minimum,
      ...extra,
    },
  };
}

/** Resolves when every measurement has seeded its moto; then `SEEDED` is printed. */
let seededCount = 0;
function seeded(): void {
  seededCount++;
  if (seededCount === 4) console.log('SEEDED');
}

/** The injected latency of C and D: every AWS call waits 100–300 ms at the proxy (seeded draws). */
const LATENCY = { minMs: 100, maxMs: 300 } as const;
/** Organisations D deletes at the same time (`BENCH_DELETE_CONCURRENCY` to compare, e.g. 1: the default). */
const DELETE_CONCURRENCY = Number(process.env.BENCH_DELETE_CONCURRENCY ?? 8);
if (!(Number.isInteger(DELETE_CONCURRENCY) && DELETE_CONCURRENCY >= 1 && DELETE_CONCURRENCY <= 64))
  throw new Error(`BENCH_DELETE_CONCURRENCY must be an integer from 1 to 64, got ${DELETE_CONCURRENCY}`);

/** Every AWS call through the proxy waits `LATENCY` from now on (seeding went straight to moto). */
function withLatency(b: Backend, seed: string): void {
  b.proxy.setRules(
    [{ fault: { kind: 'latency', ms: LATENCY.minMs, maxMs: LATENCY.maxMs }, label: 'latency' }],
    seed,
  );
}

async function sweep(b: Backend, latency = false): Promise<Measured> {
  const now = new Date('2026-03-20T12:00:00.000Z');
  const base = 'fleet.example';
  const inventory = createMemoryInventory();
  const seeds: ZoneSeed[] = [];
  for (let i = 0; i < SWEEP_ZONES; i++) {
    const organization = `org-${i.toString().padStart(5, '0')}`;
    seeds.push({
      organization,
      baseDomain: base,
      createdAt: new Date(now.getTime() - 13 * H - (i % 1440) * H),
    });
    if (i % 2 === 0) inventory.set({ organization, clusterId: 'c1', running: true });
  }
  const seeder = createSeeder(b.moto.endpoint);
  const t0 = performance.now();
  try {
    await seeder.seedOrganizationZones(seeds);
  } finally {
    seeder.close();
  }
  const seedSeconds = (performance.now() - t0) / 1000;
  seeded();
  if (latency) withLatency(b, 'sweep-latency');
  const limiter = createRoute53RateLimiter({ table: TABLE });
  const zk = createZonekeeper({
    baseDomain: base,
    dns: b.route53(limiter),
    identity: b.iam(),
    secrets: b.secrets(),
    inventory,
  });
  const m = b.mark();
  const t = performance.now();
  const result = await zk.collectGarbage({ now });
  const ms = performance.now() - t;
  const c = b.since(m);
  if (result.zones.length !== SWEEP_ZONES || result.results.length !== 0)
    throw new Error(
      `sweep saw ${result.zones.length} zones and planned ${result.plan.toDelete.length} deletions`,
    );
  if (c.errors > 0) throw new Error(`sweep: ${c.errors} calls failed`);
  return measured(
    `sweep of ${SWEEP_ZONES.toLocaleString('en')} zones (collectGarbage)${latency ? `, ${LATENCY.minMs}–${LATENCY.maxMs} ms per call` : ''}`,
    c.route53.reads + c.route53.writes,
    limiter.granted,
    ms,
    { zones: SWEEP_ZONES, seedSeconds, operations: c.operations, ...latencySummary(b, latency, m) },
  );
}

/** The latency the proxy injected into the measured calls (mean and range), for the summary. */
function latencySummary(b: Backend, latency: boolean, m: { aws: number }): Record<string, unknown> {
  if (!latency) return {};
  const waits = b.proxy.requests
    .slice(m.aws)
    .map((r) => Number(/^latency:(\d+)$/.exec(r.fault ?? '')?.[1]))
    .filter((w) => Number.isFinite(w));
  const mean = waits.reduce((a, w) => a + w, 0) / Math.max(1, waits.length);
  return {
    latency: {
      injectedCalls: waits.length,
      meanMs: Number(mean.toFixed(1)),
      minMs: Math.min(...waits),
      maxMs: Math.max(...waits),
      // What the same calls would take one after another, waiting only for the latency.
      sequentialSeconds: Number((waits.reduce((a, w) => a + w, 0) / 1000).toFixed(1)),
    },
  };
}

async function deletion(b: Backend, latency = false): Promise<Measured> {
  // 30 minutes before April's charge: every unused zone is deleted (BEFORE_NEXT_CHARGE).
  const now = new Date('2026-03-31T23:30:00.000Z');
  const base = 'example.net';
  const seeder = createSeeder(b.moto.endpoint);
  try {
    const parent = await seeder.createZone(base, 'bench-parent');
    const zones = await seeder.seedOrganizationZones(
      Array.from({ length: DELETE_ZONES }, (_, i) => ({
        organization: `gone-${i.toString().padStart(3, '0')}`,
        baseDomain: base,
        createdAt: new Date(now.getTime() - (3 + (i % 20)) * 24 * H),
      })),
    );
    for (const z of zones) {
      await seeder.changeRecords(
        z.id,
        'CREATE',
        Array.from({ length: RECORDS_PER_ZONE }, (_, r) => ({
          name: `host-${r}.${z.name}`,
          type: 'A',
          ttl: 300,
          values: [`10.0.${r}.1`],
        })),
      );
    }
    await seeder.changeRecords(
      parent.id,
      'UPSERT',
      zones.map((z) => ({ name: z.name, type: 'NS', ttl: 300, values: z.nameServers.map((n) => `${n}.`) })),
    );
  } finally {
    seeder.close();
  }
  seeded();
  if (latency) withLatency(b, 'delete-latency');
  const limiter = createRoute53RateLimiter({ table: TABLE });
  const zk = createZonekeeper({
    baseDomain: base,
    dns: b.route53(limiter),
    identity: b.iam(),
    secrets: b.secrets(),
    inventory: createMemoryInventory(),
    ...(latency && DELETE_CONCURRENCY > 1 ? { gc: { concurrency: DELETE_CONCURRENCY } } : {}),
  });
  const m = b.mark();
  const t = performance.now();
  const result = await zk.collectGarbage({ now });
  const ms = performance.now() - t;
  const c = b.since(m);
  const deleted = result.results.filter((r) => r.status === 'deleted').length;
  if (deleted !== DELETE_ZONES)
    throw new Error(
      `deleted ${deleted} of ${DELETE_ZONES} zones: ${JSON.stringify(result.results.find((r) => r.status !== 'deleted'))}`,
    );
  // Check with a direct (unlimited, unlogged) call that only the parent zone is left.
  const direct = new Route53Client({
    region: 'us-east-1',
    endpoint: b.moto.endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const left = (await direct.send(new ListHostedZonesCommand({}))).HostedZones ?? [];
  direct.destroy();
  if (left.length !== 1) throw new Error(`${left.length - 1} zones are left after the deletion`);
  if (c.errors > 0) throw new Error(`deletion: ${c.errors} calls failed`);
  return measured(
    `delete ${DELETE_ZONES} zones × ${RECORDS_PER_ZONE} records (collectGarbage)${latency ? `, ${LATENCY.minMs}–${LATENCY.maxMs} ms per call, gc.concurrency ${DELETE_CONCURRENCY}` : ''}`,
    c.route53.reads + c.route53.writes,
    limiter.granted,
    ms,
    {
      zones: DELETE_ZONES,
      recordsPerZone: RECORDS_PER_ZONE,
      route53Reads: c.route53.reads,
      route53Writes: c.route53.writes,
      route53CallsPerZone: (c.route53.reads + c.route53.writes) / DELETE_ZONES,
      iamCalls: c.iam.reads + c.iam.writes,
      vaultCalls: c.vault.reads + c.vault.writes,
      operations: c.operations,
      ...latencySummary(b, latency, m),
    },
  );
}

// allSettled: when one measurement fails, the other still stops its servers before the process ends.
const settled = await Promise.allSettled([
  withBackend({ withVault: true, seed: 'rate-limit-sweep' }, (b) => sweep(b)),
  withBackend({ withVault: true, seed: 'rate-limit-delete' }, (b) => deletion(b)),
  withBackend({ withVault: true, seed: 'rate-limit-sweep-latency' }, (b) => sweep(b, true)),
  withBackend({ withVault: true, seed: 'rate-limit-delete-latency' }, (b) => deletion(b, true)),
]);
const failure = settled.find((s) => s.status === 'rejected');
if (failure) throw failure.reason;
const [a, d, al, dl] = settled.map((s) => (s as PromiseFulfilledResult<Measured>).value) as [
  Measured,
  Measured,
  Measured,
  Measured,
];
report(
  'rate-limit',
  `Collector time through Route 53's 2026 token buckets (account ${TABLE.account.capacity} burst, ${TABLE.account.refillPerSecond}/s) vs. the floor they allow (target: within 10 %), on localhost and with ${LATENCY.minMs}–${LATENCY.maxMs} ms per call`,
  [a.row, d.row, al.row, dl.row],
  {
    table: TABLE,
    latency: LATENCY,
    sweep: a.summary,
    deletion: d.summary,
    sweepWithLatency: al.summary,
    deletionWithLatency: dl.summary,
  },
);
