/**
 * Benchmark 9: a fleet's ExternalDNS against one AWS account's Route 53 budget, from 10 to 10,000
 * clusters. For each fleet size, `planFleetBudget` plans the settings (or the accounts needed); then a
 * second-by-second simulation of the fullest account's clusters runs ExternalDNS v0.22's loop as its
 * source does — a 1 s ticker, `--interval` from the last loop, `--events` loops at most 5 s after a
 * change and 5 s apart, the zone cache refilled by the first loop after it expires — with the calls
 * of each loop from `externalDnsLoopCalls` (the model the e2e scenario checks against the real binary).
 * Every cluster starts at t = 0 (a fleet-wide key rotation: the worst case for lock-step loops), and the
 * steady state is measured after the first hour, over `WINDOW_HOURS`.
 *
 * The requests of the account go through a token bucket of the fleet's share of the account bucket
 * (60 % of 50 burst / 10 per second: 30 / 6 per second); a request that finds no token waits for one,
 * in order. Reported per fleet size: the planned and simulated requests/s, the busiest minute, the
 * share of requests that had to wait (with the planned jitter, and with the same settings but no
 * jitter), how long the restart round took to drain, and what ExternalDNS's own defaults (1m, no zone
 * cache) would send.
 *
 * Fleet: 2 clusters per organisation, 40 record sets per zone, the parent zone in every account, 2
 * change loops per cluster per hour (one ALIAS name each, 4 changes), seeded (`FLEET_SEED`, default
 * 2026). `--quick`: a 2-hour window.
 *
 * Then mixed fleets (`planHeterogeneousFleetBudget`): large, small and interval-pinned organisations in
 * one account, each group with its planned (or pinned) settings, simulated the same way.
 */
import {
  changeBatches,
  EXTERNAL_DNS_CALL_MODEL,
  EXTERNAL_DNS_VERSION,
  externalDnsLoopCalls,
} from '@zonekeeper/externaldns-deployer';
import { ROUTE53_THROTTLING_2026 } from '@zonekeeper/zone-manager';
import {
  clusterIntervalSeconds,
  clusterMinEventSyncSeconds,
  clusterZonesCacheSeconds,
  type FleetAccountPlan,
  type FleetExternalDnsSettings,
  type FleetGroup,
  type FleetShape,
  goDuration,
  planFleetBudget,
  planHeterogeneousFleetBudget,
} from 'zonekeeper';
import { isQuick, type Row, report } from './report.js';

const SIZES = [10, 100, 300, 1000, 3000, 10_000];
const CLUSTERS_PER_ORGANIZATION = 2;
const RECORD_SETS = 40;
const CHANGE_LOOPS_PER_HOUR = 2;
const CHANGES_PER_NAME = 4;
const WARMUP_S = 3600;
const WINDOW_HOURS = isQuick() ? 2 : 6;
const SEED = Number(process.env.FLEET_SEED ?? 2026);
const SHARE = 0.6;

/** A seeded generator (mulberry32). */
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

interface Simulated {
  readonly meanPerSecond: number;
  readonly busiestMinutePerSecond: number;
  readonly waitedShare: number;
  readonly restartDrainSeconds: number;
}

/** Clusters alike in settings, records and churn (a whole uniform fleet, or one group of a mixed one). */
interface SimulatedGroup {
  readonly name: string;
  readonly clusters: number;
  readonly settings: FleetExternalDnsSettings;
  readonly recordSets: number;
  readonly changeLoopsPerHour: number;
  readonly changesPerName: number;
}

/** One account's clusters, second by second, through the fleet's share of the account bucket. */
function simulate(
  plan: FleetAccountPlan,
  settings: FleetExternalDnsSettings,
  seed: number,
  options: { readonly churn?: boolean; readonly share?: number } = {},
): Simulated {
  return simulateGroups(
    plan.zones,
    [
      {
        name: 'cluster',
        clusters: plan.clusters,
        settings,
        recordSets: RECORD_SETS,
        changeLoopsPerHour: CHANGE_LOOPS_PER_HOUR,
        changesPerName: CHANGES_PER_NAME,
      },
    ],
    seed,
    options,
  );
}

/** {@link simulate} for clusters in groups with their own settings, records and churn. */
function simulateGroups(
  zones: number,
  groups: readonly SimulatedGroup[],
  seed: number,
  options: { readonly churn?: boolean; readonly share?: number } = {},
): Simulated {
  const share = options.share ?? SHARE;
  const r = rng(seed);
  const end = WARMUP_S + WINDOW_HOURS * 3600;
  /** One ExternalDNS: its settings and its controller's state (all start at t = 0, cache empty). */
  const clusters = groups.flatMap((g) =>
    Array.from({ length: g.clusters }, (_, i) => {
      const id = `${g.name}-${i}`;
      const eventRate = g.changeLoopsPerHour / 3600;
      return {
        settings: g.settings,
        recordSets: g.recordSets,
        changesPerName: g.changesPerName,
        eventRate,
        interval: clusterIntervalSeconds(g.settings, id),
        cacheFor: clusterZonesCacheSeconds(g.settings, id),
        minSync: g.settings.events
          ? clusterMinEventSyncSeconds(g.settings, id)
          : EXTERNAL_DNS_CALL_MODEL.minEventSyncIntervalSeconds,
        nextRun: 0,
        lastRun: Number.NEGATIVE_INFINITY,
        cacheAge: Number.NEGATIVE_INFINITY,
        pending: 0,
        nextEvent: eventRate === 0 ? Number.POSITIVE_INFINITY : -Math.log(1 - r()) / eventRate,
      };
    }),
  );
  const bucket = ROUTE53_THROTTLING_2026.account;
  const capacity = Math.floor(bucket.capacity * share);
  const refill = bucket.refillPerSecond * share;
  let tokens = capacity;
  let queue = 0; // requests waiting for a token
  let total = 0;
  let waited = 0;
  let minute = 0;
  let busiest = 0;
  let restartDrain = -1;
  for (let t = 0; t < end; t++) {
    let arrived = 0;
    for (const c of clusters) {
      // Churn: a watched object of every cluster changes every second (no record changes).
      if (options.churn && c.settings.events)
        c.nextRun = Math.max(c.lastRun + c.minSync, Math.min(t + 5, c.nextRun));
      while (c.nextEvent <= t) {
        c.pending++;
        if (c.settings.events) {
          // Controller.ScheduleRunOnce: latest(lastRunAt + min-event-sync, earliest(now + 5 s, nextRunAt)).
          c.nextRun = Math.max(c.lastRun + c.minSync, Math.min(t + 5, c.nextRun));
        }
        c.nextEvent += -Math.log(1 - r()) / c.eventRate;
      }
      if (t < c.nextRun) continue;
      // Controller.ShouldRunOnce: the next loop is due one interval after this one starts.
      c.nextRun = t + c.interval;
      c.lastRun = t;
      // ZoneCache.Expired: empty, or older than its duration.
      const cold = t - c.cacheAge > c.cacheFor;
      if (cold) c.cacheAge = t;
      const calls = externalDnsLoopCalls({
        accountZones: zones,
        recordSets: c.recordSets,
        zonesCache: cold ? 'cold' : 'warm',
        changedNames: c.pending,
        changesPerName: c.changesPerName,
        batchChangeSize: c.settings.batchChangeSize,
      });
      c.pending = 0;
      arrived += calls.ListHostedZones + calls.ListResourceRecordSets + calls.ChangeResourceRecordSets;
    }
    tokens = Math.min(capacity, tokens + refill);
    const backlog = queue;
    const served = Math.min(queue + arrived, Math.floor(tokens));
    tokens -= served;
    queue = queue + arrived - served;
    if (restartDrain < 0 && queue === 0) restartDrain = t;
    if (t >= WARMUP_S) {
      total += arrived;
      // Requests of this second that were not served within it (the queue is served in order).
      waited += Math.min(arrived, Math.max(0, queue - Math.max(0, backlog - served)));
      minute += arrived;
      if ((t + 1) % 60 === 0) {
        busiest = Math.max(busiest, minute / 60);
        minute = 0;
      }
    }
  }
  const seconds = end - WARMUP_S;
  return {
    meanPerSecond: total / seconds,
    busiestMinutePerSecond: busiest,
    waitedShare: total === 0 ? 0 : waited / total,
    restartDrainSeconds: restartDrain,
  };
}

const rows: Row[] = [];
const summary: Record<string, unknown> = {};
for (const clusters of SIZES) {
  const fleet: FleetShape = {
    organizations: Math.ceil(clusters / CLUSTERS_PER_ORGANIZATION),
    clustersPerOrganization: CLUSTERS_PER_ORGANIZATION,
    recordSetsPerZone: RECORD_SETS,
    changeLoopsPerClusterPerHour: CHANGE_LOOPS_PER_HOUR,
    changesPerName: CHANGES_PER_NAME,
  };
  const plan = planFleetBudget(fleet, { share: SHARE });
  if (plan.outcome === 'impossible') throw new Error(plan.message);
  const account = plan.outcome === 'fits' ? plan : plan.perAccount;
  const { settings } = account;
  const t0 = performance.now();
  const sim = simulate(account, settings, SEED + clusters);
  const lockStep = simulate(
    account,
    { ...settings, jitterSeconds: 0, zonesCacheJitterSeconds: 0, minEventSyncJitterSeconds: 0 },
    SEED + clusters,
  );
  // Every cluster's watched objects changing every second, against the whole account bucket.
  const churned = simulate(account, settings, SEED + clusters, { churn: true, share: 1 });
  const ms = performance.now() - t0;
  const defaults = externalDnsLoopCalls({
    accountZones: account.zones,
    recordSets: RECORD_SETS,
    zonesCache: 'off',
  });
  const defaultsPerSecond =
    (account.clusters * (defaults.ListHostedZones + defaults.ListResourceRecordSets)) /
      EXTERNAL_DNS_CALL_MODEL.defaultIntervalSeconds +
    // Change loops: with ExternalDNS's defaults (no --events) at most one a minute, with a third listing.
    account.clusters *
      Math.min(CHANGE_LOOPS_PER_HOUR / 3600, 1 / 60) *
      (changeBatches(1, CHANGES_PER_NAME, 1000) + defaults.ListHostedZones / 2);
  rows.push({
    clusters,
    accounts: plan.accounts,
    'clusters/account': account.clusters,
    'zones/account': account.zones,
    interval: `${settings.interval} +0–${settings.jitterSeconds}s`,
    'zone cache': `${settings.zonesCacheDuration} +0–${goDuration(settings.zonesCacheJitterSeconds)}`,
    'planned req/s': Number(account.load.requestsPerSecond.toFixed(2)),
    'simulated req/s': Number(sim.meanPerSecond.toFixed(2)),
    'busiest minute req/s': Number(sim.busiestMinutePerSecond.toFixed(2)),
    'budget req/s': account.load.budgetRequestsPerSecond,
    'waited %': Number((sim.waitedShare * 100).toFixed(2)),
    'waited % no jitter': Number((lockStep.waitedShare * 100).toFixed(2)),
    'restart drain s': sim.restartDrainSeconds,
    'min-event-sync': `${settings.minEventSyncInterval} +0–${goDuration(settings.minEventSyncJitterSeconds)}`,
    'churn: planned req/s': Number(account.load.churnRequestsPerSecond.toFixed(2)),
    'churn: busiest minute req/s': Number(churned.busiestMinutePerSecond.toFixed(2)),
    'ExternalDNS defaults req/s': Number(defaultsPerSecond.toFixed(1)),
    'sim ms': Math.round(ms),
  });
  summary[`clusters-${clusters}`] = {
    outcome: plan.outcome,
    accounts: plan.accounts,
    reasons: plan.reasons,
    plannedRequestsPerSecond: account.load.requestsPerSecond,
    simulatedRequestsPerSecond: sim.meanPerSecond,
    busiestMinute: sim.busiestMinutePerSecond,
    budget: account.load.budgetRequestsPerSecond,
  };
}

// Mixed fleets: three kinds of organisation in one account's budget (planHeterogeneousFleetBudget).
// Per scale s: 2s large organisations (10 clusters each, 2,000 record sets, 6 change loops per cluster
// per hour), 30s small ones (1 cluster, 20 record sets, 1 change loop per hour) and s that pin
// `--interval=1m` (2 clusters, 50 record sets, 2 change loops per hour): 52s clusters.
const MIX = [
  {
    name: 'large',
    organizations: 2,
    clustersPerOrganization: 10,
    recordSetsPerZone: 2000,
    changeLoopsPerClusterPerHour: 6,
  },
  {
    name: 'small',
    organizations: 30,
    clustersPerOrganization: 1,
    recordSetsPerZone: 20,
    changeLoopsPerClusterPerHour: 1,
  },
  {
    name: 'pinned',
    organizations: 1,
    clustersPerOrganization: 2,
    recordSetsPerZone: 50,
    changeLoopsPerClusterPerHour: 2,
    intervalSeconds: 60,
  },
] as const;
const MIX_SCALES = [1, 10, 50, 200];
const mixedRows: Row[] = [];
for (const scale of MIX_SCALES) {
  const groups: FleetGroup[] = MIX.map((g) => ({
    ...g,
    organizations: g.organizations * scale,
    changesPerName: CHANGES_PER_NAME,
  }));
  const clusters = groups.reduce((n, g) => n + g.organizations * g.clustersPerOrganization, 0);
  const plan = planHeterogeneousFleetBudget({ groups }, { share: SHARE });
  if (plan.outcome === 'impossible') throw new Error(plan.message);
  const account = plan.outcome === 'fits' ? plan : plan.perAccount;
  const simulated = (noJitter: boolean): SimulatedGroup[] =>
    account.groups.map((g) => {
      const shape = groups.find((x) => x.name === g.name) as FleetGroup;
      return {
        name: g.name,
        clusters: g.clusters,
        settings: noJitter
          ? { ...g.settings, jitterSeconds: 0, zonesCacheJitterSeconds: 0, minEventSyncJitterSeconds: 0 }
          : g.settings,
        recordSets: shape.recordSetsPerZone,
        changeLoopsPerHour: shape.changeLoopsPerClusterPerHour ?? 0,
        changesPerName: CHANGES_PER_NAME,
      };
    });
  const t0 = performance.now();
  const sim = simulateGroups(account.zones, simulated(false), SEED + clusters);
  const lockStep = simulateGroups(account.zones, simulated(true), SEED + clusters);
  const churned = simulateGroups(account.zones, simulated(false), SEED + clusters, { churn: true, share: 1 });
  const ms = performance.now() - t0;
  mixedRows.push({
    clusters,
    accounts: plan.accounts,
    'clusters/account': account.clusters,
    'zones/account': account.zones,
    intervals: account.groups.map((g) => `${g.name} ${g.settings.interval}`).join(', '),
    'zone caches': account.groups.map((g) => `${g.name} ${g.settings.zonesCacheDuration}`).join(', '),
    'planned req/s': Number(account.load.requestsPerSecond.toFixed(2)),
    'simulated req/s': Number(sim.meanPerSecond.toFixed(2)),
    'busiest minute req/s': Number(sim.busiestMinutePerSecond.toFixed(2)),
    'budget req/s': account.load.budgetRequestsPerSecond,
    'waited %': Number((sim.waitedShare * 100).toFixed(2)),
    'waited % no jitter': Number((lockStep.waitedShare * 100).toFixed(2)),
    'churn: planned req/s': Number(account.load.churnRequestsPerSecond.toFixed(2)),
    'churn: busiest minute req/s': Number(churned.busiestMinutePerSecond.toFixed(2)),
    'sim ms': Math.round(ms),
  });
  summary[`mixed-${clusters}`] = {
    outcome: plan.outcome,
    accounts: plan.accounts,
    ...(plan.outcome === 'needs-accounts' ? { organizationsPerAccount: plan.organizationsPerAccount } : {}),
    plannedRequestsPerSecond: account.load.requestsPerSecond,
    simulatedRequestsPerSecond: sim.meanPerSecond,
    busiestMinute: sim.busiestMinutePerSecond,
    budget: account.load.budgetRequestsPerSecond,
  };
}

const refill = ROUTE53_THROTTLING_2026.account.refillPerSecond;
const held = [...rows, ...mixedRows].every(
  (r) =>
    (r['busiest minute req/s'] as number) <= (r['budget req/s'] as number) &&
    (r['churn: busiest minute req/s'] as number) <= refill,
);
report(
  'fleet-budget',
  `ExternalDNS ${EXTERNAL_DNS_VERSION} fleets against one account's Route 53 budget (share ${SHARE * 100} % of ${ROUTE53_THROTTLING_2026.account.refillPerSecond}/s), per account, ${WINDOW_HOURS} h after a 1 h warm-up`,
  rows,
  { ...summary, seed: SEED, windowHours: WINDOW_HOURS, budgetHeldEveryMinute: held },
  [
    {
      title: `Mixed fleets (planHeterogeneousFleetBudget): per scale s, 2s large organisations (10 clusters, 2,000 record sets), 30s small ones (1 cluster, 20), s pinned to --interval=1m (2 clusters, 50); per account, ${WINDOW_HOURS} h after a 1 h warm-up`,
      rows: mixedRows,
    },
  ],
);
if (!held) {
  console.error('# fleet-budget: a simulated minute went over the budget');
  process.exit(1);
}
