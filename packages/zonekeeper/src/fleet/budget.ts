/**
 * The fleet budget planner: how every cluster's ExternalDNS must be set so that a whole fleet stays
 * under a share of one AWS account's Route 53 budget — or how many accounts the fleet needs. Pure: no
 * I/O, no clock, no randomness; the result is JSON data.
 *
 * Every cluster's ExternalDNS reads its zone's records on every loop and lists the account's hosted
 * zones whenever its zone cache is empty or expired; the calls of one loop are ExternalDNS's
 * (`externalDnsLoopCalls` of `@zonekeeper/externaldns-deployer`, measured from the real binary). The
 * account's budget is Route 53's throttling table (`ROUTE53_THROTTLING_2026` of
 * `@zonekeeper/zone-manager`: the account bucket and one bucket per action), of which the fleet may use
 * `share` (default 60 %): the rest is the collector's and the console's.
 *
 * ```
 *  per cluster, steady state (interval I, zone cache D, e change loops/s, R record sets, Z zones)
 *  loops/s                   1/I + min(e, 1/S)  with --events (a change starts a loop; S, the
 *                                               --min-event-sync-interval, spaces them)
 *                            1/I                without (changes wait for the next loop)
 *  ListResourceRecordSets    ⌈R/300⌉ × loops/s
 *  ListHostedZones           ⌈Z/100⌉ × min(loops/s, 1/D)   (a listing fills the cache for D)
 *  ChangeResourceRecordSets  batches(names, changes per name, batch size) × change loops/s
 *
 *  search   I over round durations from minIntervalSeconds to maxIntervalSeconds, D from 1 h up to
 *           maxZonesCacheSeconds; the first (I, D), smallest I first, whose account total and every
 *           action stay ≤ share × the bucket's refill
 *  churn    S from ExternalDNS's 5 s up to I: the smallest for which every cluster looping every S
 *           (ExternalDNS loops on every update of a watched object, DNS-relevant or not) stays within
 *           the account bucket's and ListResourceRecordSets' whole refill
 *  none     fewer organisations per account: the smallest number of accounts (binary search) whose
 *           fullest account fits; every other account holds as many organisations or fewer
 *  jitter   each cluster's interval is I plus 0…J s, its zone cache D plus 0…D s, its S plus 0…S s
 *           when raised (hashes of its id: stable across renders). ExternalDNS v0.22 has no jitter flag, and clusters started
 *           together (a fleet-wide key rotation) would loop, and refill their caches, in lock-step for
 *           ever; J spreads one round of warm loops so that it arrives no faster than the budget, and
 *           the cache spread turns the hourly wave of listings into an even trickle
 * ```
 *
 * @packageDocumentation
 */

import { invalidInput } from '@zonekeeper/core';
import {
  changeBatches,
  EXTERNAL_DNS_CALL_MODEL,
  EXTERNAL_DNS_ROUTE53_ACTIONS,
  type ExternalDnsCallModel,
  type ExternalDnsRoute53Action,
  externalDnsLoopCalls,
} from '@zonekeeper/externaldns-deployer';
import {
  ROUTE53_THROTTLING_2026,
  type Route53BucketSpec,
  type Route53ThrottlingTable,
  resolveRoute53ThrottlingTable,
} from '@zonekeeper/zone-manager';

// ---------------------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------------------

/**
 * The fleet: organisations (one zone each), their clusters (one ExternalDNS each), and what every
 * ExternalDNS reads. Uniform: every organisation has `clustersPerOrganization` clusters and a zone of
 * `recordSetsPerZone` record sets; plan with the largest organisation's figures to be safe.
 * @public
 */
export interface FleetShape {
  /** Organisations, each with one hosted zone (an integer ≥ 1). */
  readonly organizations: number;
  /** Clusters per organisation, each running one ExternalDNS (an integer ≥ 1). */
  readonly clustersPerOrganization: number;
  /**
   * Record sets in each organisation's zone — SOA, NS, every cluster's records and their ownership TXT
   * (an integer ≥ 0). Every cluster of the organisation reads all of them on every loop.
   */
  readonly recordSetsPerZone: number;
  /** Hosted zones in every account besides the organisations' (the parent zone, others'). Default 1. */
  readonly otherZonesPerAccount?: number;
  /** Loops per cluster per hour that change records (a Service created, moved or deleted). Default 0. */
  readonly changeLoopsPerClusterPerHour?: number;
  /** Names one change loop changes (an integer ≥ 1). Default 1. */
  readonly namesPerChangeLoop?: number;
  /** Changes per name: 2 for an A or CNAME record and its TXT, 4 for an ALIAS pair (default). */
  readonly changesPerName?: number;
}

/** Tunables of {@link planFleetBudget}; all optional. @public */
export interface FleetBudgetOptions {
  /** Route 53's buckets (default {@link ROUTE53_THROTTLING_2026}): the account's and each action's. */
  readonly table?: Route53ThrottlingTable;
  /** The share of every bucket's refill the fleet may use, in (0, 1]. Default 0.6. */
  readonly share?: number;
  /** Hosted zones an account may hold (AWS's default quota: 500). */
  readonly hostedZoneQuota?: number;
  /** The shortest `--interval`, in seconds (an integer ≥ 60, the renderer's floor). Default 60. */
  readonly minIntervalSeconds?: number;
  /**
   * The longest `--interval` the platform accepts, in seconds. With `--events` a change is published
   * within seconds whatever the interval; the interval is how soon drift (a record deleted by hand, a
   * missed event) is repaired. Default 3,600.
   */
  readonly maxIntervalSeconds?: number;
  /**
   * The longest `--aws-zones-cache-duration`, in seconds. Default 86,400. The cache only holds the list
   * of zones, and the zone a cluster writes to is fixed by `--zone-id-filter` (a new zone id re-renders
   * the Deployment, which restarts the pod and empties the cache), so a long cache hides nothing.
   */
  readonly maxZonesCacheSeconds?: number;
  /** Render `--events` (a change starts a loop within seconds). Default true. */
  readonly events?: boolean;
  /** ExternalDNS's call model (default `EXTERNAL_DNS_CALL_MODEL`, the release zonekeeper renders). */
  readonly model?: ExternalDnsCallModel;
  /**
   * Standard deviations of the change loops' per-minute count kept free above their mean (a number in
   * [0, 10]; default 3). Change loops come when someone changes a Service, at random: their count in a
   * minute is Poisson, so a fleet whose mean fits the share exactly would go over it in about half its
   * minutes. The account bucket must hold the mean plus this many standard deviations (each loop costing
   * its reads and change batches): see {@link FleetLoad.burstRequestsPerSecond}. 0 budgets the mean only.
   */
  readonly burstSigmas?: number;
}

/** The defaults of {@link FleetBudgetOptions} and {@link FleetShape}. @public */
export const DEFAULT_FLEET_BUDGET = Object.freeze({
  share: 0.6,
  hostedZoneQuota: 500,
  minIntervalSeconds: 60,
  maxIntervalSeconds: 3600,
  maxZonesCacheSeconds: 86_400,
  zonesCacheSeconds: 3600,
  events: true,
  otherZonesPerAccount: 1,
  changeLoopsPerClusterPerHour: 0,
  namesPerChangeLoop: 1,
  changesPerName: 4,
  burstSigmas: 3,
} as const);

// ---------------------------------------------------------------------------------------------------
// Result
// ---------------------------------------------------------------------------------------------------

/**
 * The ExternalDNS settings of every cluster of an account that fits. Pass them to `attachCluster`
 * (`fleetBudget`), which renders each cluster's own interval ({@link clusterIntervalSeconds}).
 * @public
 */
export interface FleetExternalDnsSettings {
  /** The ExternalDNS release the settings were planned for. */
  readonly externalDnsVersion: string;
  /** The shortest `--interval`, in seconds; each cluster adds 0…`jitterSeconds`. */
  readonly intervalSeconds: number;
  /** `intervalSeconds` as a Go duration (`5m`, `1h30m`). */
  readonly interval: string;
  /** The spread of the clusters' intervals, in whole seconds (≥ 0). */
  readonly jitterSeconds: number;
  /** The shortest `--aws-zones-cache-duration`, in seconds; each cluster adds 0…`zonesCacheJitterSeconds`. */
  readonly zonesCacheSeconds: number;
  /** `zonesCacheSeconds` as a Go duration. */
  readonly zonesCacheDuration: string;
  /**
   * The spread of the clusters' zone caches, in whole seconds: one more `zonesCacheSeconds`, so that
   * clusters started together (whose caches would otherwise expire together, every cluster listing
   * every zone within one interval) refill their caches evenly over a whole cache period.
   */
  readonly zonesCacheJitterSeconds: number;
  /** Render `--events`. */
  readonly events: boolean;
  /**
   * `--min-event-sync-interval`, in seconds (rendered with `--events`): how close together change-driven
   * loops may run. ExternalDNS starts a loop on **every** add, update or delete of a Service or Ingress it
   * watches, not only on changes that touch DNS; this bound is what keeps a cluster whose objects churn
   * from looping every 5 s (ExternalDNS's default).
   */
  readonly minEventSyncSeconds: number;
  /** `minEventSyncSeconds` as a Go duration. */
  readonly minEventSyncInterval: string;
  /**
   * The spread of the clusters' `--min-event-sync-interval`, in whole seconds (one more
   * `minEventSyncSeconds` when it was raised, else 0): clusters churning together would otherwise loop
   * in lock-step, every `minEventSyncSeconds`.
   */
  readonly minEventSyncJitterSeconds: number;
  /** `--aws-batch-change-size`. */
  readonly batchChangeSize: number;
}

/** One bucket's planned load. @public */
export interface FleetBucketLoad {
  /**
   * `account`, a Route 53 action, or `changes` (the change-throughput bucket, when the table has one:
   * its rates count record changes, not requests).
   */
  readonly bucket: 'account' | ExternalDnsRoute53Action | 'changes';
  /** The fleet's planned steady-state rate against this bucket. */
  readonly requestsPerSecond: number;
  /** `share` × the bucket's refill. */
  readonly budgetRequestsPerSecond: number;
  /** The bucket's refill (what the whole account may send). */
  readonly refillPerSecond: number;
}

/** What an account's clusters send to Route 53 with the planned settings. @public */
export interface FleetLoad {
  /** The share of the buckets the fleet may use. */
  readonly share: number;
  /** Steady-state requests per second of all clusters of the account. */
  readonly requestsPerSecond: number;
  /** `share` × the account bucket's refill. */
  readonly budgetRequestsPerSecond: number;
  /** `requestsPerSecond` ÷ the account bucket's refill (< `share`). */
  readonly utilisation: number;
  /**
   * Requests per second kept free above `requestsPerSecond` for the change loops' randomness: `burstSigmas`
   * standard deviations of their calls in a minute, ÷ 60. The account bucket holds `requestsPerSecond +
   * burstRequestsPerSecond` within `budgetRequestsPerSecond`.
   */
  readonly burstRequestsPerSecond: number;
  /** The account bucket, then each action ExternalDNS uses. */
  readonly buckets: readonly FleetBucketLoad[];
  /** Requests of one round of first loops if every cluster starts at once (zones listed, records read). */
  readonly restartRequests: number;
  /** How long that round keeps the fleet's budget busy: `restartRequests` ÷ `budgetRequestsPerSecond`. */
  readonly restartSeconds: number;
  /**
   * Requests per second if every cluster's watched objects changed all the time (each cluster looping
   * every `minEventSyncSeconds`, record changes at the planned rate): at most the account bucket's whole
   * refill — the share is for the steady state, the rest of the account is what churn may borrow.
   */
  readonly churnRequestsPerSecond: number;
}

/**
 * What decided the settings of an account that fits: `minimum-interval` (the shortest interval already
 * fits), `interval-raised` (a longer interval was needed), `zones-cache-raised` (a longer zone cache
 * than 1 h was needed), `events-off` (the options turned `--events` off), `event-sync-raised` (change
 * loops are spaced further apart than ExternalDNS's 5 s so that constant churn stays within the
 * account), `change-bucket` (the batch size is bounded by the table's change bucket).
 * @public
 */
export type FleetFitReason =
  | 'minimum-interval'
  | 'interval-raised'
  | 'zones-cache-raised'
  | 'events-off'
  | 'event-sync-raised'
  | 'change-bucket';

/** Why one account cannot hold the fleet: too many zones for its quota, too many requests for its budget. @public */
export type FleetShortfall = 'zone-quota' | 'request-budget';

/**
 * Why no number of accounts holds the fleet: one organisation's clusters alone exceed an account's
 * budget (an organisation's zone, and so its clusters, live in one account), or the other zones of an
 * account leave no room for one organisation's zone.
 * @public
 */
export type FleetImpossibleReason = 'organization-exceeds-budget' | 'no-zone-room';

/** An account that holds its organisations within the budget. JSON data. @public */
export interface FleetAccountPlan {
  readonly outcome: 'fits';
  readonly accounts: 1;
  /** Organisations (zones) in the account. */
  readonly organizations: number;
  /** Clusters (ExternalDNS instances) in the account. */
  readonly clusters: number;
  /** Hosted zones in the account: the organisations' and the others. */
  readonly zones: number;
  readonly settings: FleetExternalDnsSettings;
  readonly load: FleetLoad;
  readonly reasons: readonly FleetFitReason[];
  /** One plain sentence. */
  readonly message: string;
}

/** A fleet that needs several accounts, and the plan of its fullest account. JSON data. @public */
export interface FleetNeedsAccountsPlan {
  readonly outcome: 'needs-accounts';
  /** The fewest accounts that hold the fleet (≥ 2). */
  readonly accounts: number;
  /** The most organisations one account holds, `⌈organizations ÷ accounts⌉`. */
  readonly organizationsPerAccount: number;
  /** Why one account is not enough. */
  readonly reasons: readonly FleetShortfall[];
  /** The plan of an account holding `organizationsPerAccount` organisations (fuller than any other). */
  readonly perAccount: FleetAccountPlan;
  readonly message: string;
}

/** A fleet no number of accounts holds within the bounds given. JSON data. @public */
export interface FleetImpossiblePlan {
  readonly outcome: 'impossible';
  readonly reasons: readonly FleetImpossibleReason[];
  readonly message: string;
}

/** The result of {@link planFleetBudget}. @public */
export type FleetBudgetPlan = FleetAccountPlan | FleetNeedsAccountsPlan | FleetImpossiblePlan;

// ---------------------------------------------------------------------------------------------------
// Durations and jitter
// ---------------------------------------------------------------------------------------------------

/** Round intervals, in minutes, the search tries (then the bounds themselves). */
const INTERVAL_LADDER_MINUTES = [
  1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 45, 50, 60, 75, 90, 120, 180, 240, 360, 480, 720, 1440,
];
/** Round zone-cache durations, in hours. */
const CACHE_LADDER_HOURS = [1, 2, 3, 6, 12, 24, 48, 72, 168];
const MAX_SECONDS = 7 * 86_400;
/** The smallest batch planned or rendered: an ALIAS pair with its two TXT records, which ExternalDNS never splits. */
const MIN_BATCH_CHANGE_SIZE = 4;

/**
 * Seconds as a Go duration, as ExternalDNS's flags take it: `90` → `1m30s`, `3600` → `1h`, `0` → `0s`.
 * @public
 */
export function goDuration(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 0)
    throw invalidInput(`A duration must be a whole number of seconds ≥ 0, got ${String(seconds)}.`);
  if (seconds === 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 ? `${s}s` : ''}`;
}

/** FNV-1a, 32 bits, of a string's UTF-16 code units. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * A cluster's `--interval`, in seconds: the planned interval plus 0…`jitterSeconds`, chosen by a hash of
 * the cluster id, so the same cluster always renders the same interval (no rollout on a re-attach) and
 * clusters of one fleet spread over the window. Pure.
 * @public
 */
export function clusterIntervalSeconds(settings: FleetExternalDnsSettings, clusterId: string): number {
  return settings.intervalSeconds + (fnv1a(clusterId) % (settings.jitterSeconds + 1));
}

/**
 * A cluster's `--aws-zones-cache-duration`, in seconds: the planned duration plus
 * 0…`zonesCacheJitterSeconds`, from another hash of the cluster id than its interval's. Pure.
 * @public
 */
export function clusterZonesCacheSeconds(settings: FleetExternalDnsSettings, clusterId: string): number {
  return (
    settings.zonesCacheSeconds + (fnv1a(`zones-cache:${clusterId}`) % (settings.zonesCacheJitterSeconds + 1))
  );
}

/**
 * A cluster's `--min-event-sync-interval`, in seconds: the planned one plus 0…`minEventSyncJitterSeconds`,
 * from a third hash of the cluster id. Pure.
 * @public
 */
export function clusterMinEventSyncSeconds(settings: FleetExternalDnsSettings, clusterId: string): number {
  return (
    settings.minEventSyncSeconds +
    (fnv1a(`event-sync:${clusterId}`) % (settings.minEventSyncJitterSeconds + 1))
  );
}

// ---------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------

const PREFIX = 'Fleet budget';

function integer(value: unknown, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max)
    throw invalidInput(
      `${PREFIX}: ${what} must be an integer from ${min} to ${max}, got ${JSON.stringify(value) ?? String(value)}.`,
      { option: what },
    );
  return value;
}

function nonNegative(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw invalidInput(`${PREFIX}: ${what} must be a finite number ≥ 0, got ${String(value)}.`, {
      option: what,
    });
  return value;
}

interface Resolved {
  readonly organizations: number;
  readonly clustersPerOrganization: number;
  readonly recordSets: number;
  readonly otherZones: number;
  /** Change loops per cluster per second. */
  readonly changeLoops: number;
  readonly namesPerChangeLoop: number;
  readonly changesPerName: number;
  readonly table: Route53ThrottlingTable;
  readonly share: number;
  readonly quota: number;
  readonly intervals: readonly number[];
  readonly caches: readonly number[];
  readonly events: boolean;
  readonly model: ExternalDnsCallModel;
  readonly batch: number;
  readonly burstSigmas: number;
}

function ladder(values: readonly number[], min: number, max: number): number[] {
  return [...new Set([min, ...values.filter((v) => v > min && v < max), max])].sort((a, b) => a - b);
}

function resolve(fleet: FleetShape, options: FleetBudgetOptions): Resolved {
  if (typeof fleet !== 'object' || fleet === null)
    throw invalidInput(
      `${PREFIX}: expected a fleet { organizations, clustersPerOrganization, recordSetsPerZone }.`,
    );
  if (typeof options !== 'object' || options === null)
    throw invalidInput(`${PREFIX}: options must be an object.`);
  const d = DEFAULT_FLEET_BUDGET;
  const organizations = integer(fleet.organizations, 'organizations', 1);
  const clustersPerOrganization = integer(fleet.clustersPerOrganization, 'clustersPerOrganization', 1);
  const recordSets = integer(fleet.recordSetsPerZone, 'recordSetsPerZone', 0);
  const otherZones = integer(fleet.otherZonesPerAccount ?? d.otherZonesPerAccount, 'otherZonesPerAccount', 0);
  const changeLoops =
    nonNegative(
      fleet.changeLoopsPerClusterPerHour ?? d.changeLoopsPerClusterPerHour,
      'changeLoopsPerClusterPerHour',
    ) / 3600;
  const namesPerChangeLoop = integer(
    fleet.namesPerChangeLoop ?? d.namesPerChangeLoop,
    'namesPerChangeLoop',
    1,
  );
  const changesPerName = integer(fleet.changesPerName ?? d.changesPerName, 'changesPerName', 1, 8);
  const share = options.share ?? d.share;
  if (typeof share !== 'number' || !Number.isFinite(share) || share <= 0 || share > 1)
    throw invalidInput(`${PREFIX}: share must be a number in (0, 1], got ${String(share)}.`, {
      option: 'share',
    });
  const table = resolveRoute53ThrottlingTable({ table: options.table ?? ROUTE53_THROTTLING_2026 });
  const quota = integer(options.hostedZoneQuota ?? d.hostedZoneQuota, 'hostedZoneQuota', 1);
  const minInterval = integer(
    options.minIntervalSeconds ?? d.minIntervalSeconds,
    'minIntervalSeconds',
    60,
    MAX_SECONDS,
  );
  const maxInterval = integer(
    options.maxIntervalSeconds ?? Math.max(d.maxIntervalSeconds, minInterval),
    'maxIntervalSeconds',
    minInterval,
    MAX_SECONDS,
  );
  const maxCache = integer(
    options.maxZonesCacheSeconds ?? d.maxZonesCacheSeconds,
    'maxZonesCacheSeconds',
    1,
    MAX_SECONDS,
  );
  const events = options.events ?? d.events;
  if (typeof events !== 'boolean')
    throw invalidInput(`${PREFIX}: events must be a boolean, got ${String(events)}.`, { option: 'events' });
  const model = options.model ?? EXTERNAL_DNS_CALL_MODEL;
  const burstSigmas = options.burstSigmas ?? d.burstSigmas;
  if (typeof burstSigmas !== 'number' || !Number.isFinite(burstSigmas) || burstSigmas < 0 || burstSigmas > 10)
    throw invalidInput(`${PREFIX}: burstSigmas must be a number in [0, 10], got ${String(burstSigmas)}.`, {
      option: 'burstSigmas',
    });
  // The largest batch: Route 53's limit, or what the change bucket (when the table has one) lets through.
  const changeCap =
    table.changes === undefined ? model.maxBatchChangeSize : Math.floor(share * table.changes.capacity);
  const batch = Math.max(
    MIN_BATCH_CHANGE_SIZE,
    changesPerName,
    Math.min(model.maxBatchChangeSize, changeCap),
  );
  return {
    organizations,
    clustersPerOrganization,
    recordSets,
    otherZones,
    changeLoops,
    namesPerChangeLoop,
    changesPerName,
    table,
    share,
    quota,
    intervals: ladder(
      INTERVAL_LADDER_MINUTES.map((m) => m * 60),
      minInterval,
      maxInterval,
    ),
    caches: ladder(
      CACHE_LADDER_HOURS.map((h) => h * 3600),
      Math.min(d.zonesCacheSeconds, maxCache),
      maxCache,
    ),
    events,
    model,
    batch,
    burstSigmas,
  };
}

// ---------------------------------------------------------------------------------------------------
// The load of one account
// ---------------------------------------------------------------------------------------------------

function bucketOf(table: Route53ThrottlingTable, action: string): Route53BucketSpec {
  return table.actions[action] ?? table.defaultAction;
}

/** Requests per second of one account holding `organizations` organisations, per action. */
function accountLoad(
  r: Resolved,
  organizations: number,
  interval: number,
  cache: number,
  minEventSync: number,
  accountZones: number = organizations + r.otherZones,
): Record<ExternalDnsRoute53Action, number> & { readonly changes: number } {
  const clusters = organizations * r.clustersPerOrganization;
  const zones = accountZones;
  // Pages of one listing and of one read, from the call model (a warm loop reads, a cold one also lists).
  const warm = externalDnsLoopCalls(
    { accountZones: zones, recordSets: r.recordSets, zonesCache: 'warm' },
    r.model,
  );
  const cold = externalDnsLoopCalls(
    { accountZones: zones, recordSets: r.recordSets, zonesCache: 'cold' },
    r.model,
  );
  const eventLoops = r.events ? Math.min(r.changeLoops, 1 / minEventSync) : 0;
  const loops = 1 / interval + eventLoops;
  const changeLoops = r.events ? eventLoops : Math.min(r.changeLoops, 1 / interval);
  const batches = changeBatches(r.namesPerChangeLoop, r.changesPerName, r.batch);
  return {
    ListHostedZones: clusters * cold.ListHostedZones * Math.min(loops, 1 / cache),
    ListResourceRecordSets: clusters * warm.ListResourceRecordSets * loops,
    ChangeResourceRecordSets: clusters * batches * changeLoops,
    changes: clusters * changeLoops * r.namesPerChangeLoop * r.changesPerName,
  };
}

/** The window of the burst margin: the busiest minute. */
const BURST_WINDOW_SECONDS = 60;

/**
 * The variance of the calls the change loops of one account's clusters make in a minute (calls²):
 * their count is Poisson, so its variance is its mean; each loop reads the zone (with `--events`: a loop
 * of its own) and sends its change batches.
 */
function changeLoopVariance(
  r: Resolved,
  organizations: number,
  interval: number,
  minEventSync: number,
  accountZones: number = organizations + r.otherZones,
): number {
  const clusters = organizations * r.clustersPerOrganization;
  const warm = externalDnsLoopCalls({ accountZones, recordSets: r.recordSets, zonesCache: 'warm' }, r.model);
  const rate = r.events ? Math.min(r.changeLoops, 1 / minEventSync) : Math.min(r.changeLoops, 1 / interval);
  const calls =
    (r.events ? warm.ListResourceRecordSets : 0) +
    changeBatches(r.namesPerChangeLoop, r.changesPerName, r.batch);
  return clusters * rate * BURST_WINDOW_SECONDS * calls * calls;
}

/** Requests per second kept free for `variance` (calls² in a minute): `burstSigmas` deviations. */
function burstOf(r: Resolved, variance: number): number {
  return (r.burstSigmas * Math.sqrt(variance)) / BURST_WINDOW_SECONDS;
}

function loadOf(
  r: Resolved,
  organizations: number,
  interval: number,
  cache: number,
  minEventSync: number = r.model.minEventSyncIntervalSeconds,
): { readonly load: FleetLoad; readonly fits: boolean } {
  const perAction = accountLoad(r, organizations, interval, cache, minEventSync);
  const total = EXTERNAL_DNS_ROUTE53_ACTIONS.reduce((sum, a) => sum + perAction[a], 0);
  const bucket = (name: FleetBucketLoad['bucket'], rate: number, spec: Route53BucketSpec) => ({
    bucket: name,
    requestsPerSecond: rate,
    budgetRequestsPerSecond: r.share * spec.refillPerSecond,
    refillPerSecond: spec.refillPerSecond,
  });
  const buckets: FleetBucketLoad[] = [
    bucket('account', total, r.table.account),
    ...EXTERNAL_DNS_ROUTE53_ACTIONS.map((a) => bucket(a, perAction[a], bucketOf(r.table, a))),
    ...(r.table.changes === undefined ? [] : [bucket('changes', perAction.changes, r.table.changes)]),
  ];
  const clusters = organizations * r.clustersPerOrganization;
  const cold = externalDnsLoopCalls(
    { accountZones: organizations + r.otherZones, recordSets: r.recordSets, zonesCache: 'cold' },
    r.model,
  );
  const restartRequests = clusters * (cold.ListHostedZones + cold.ListResourceRecordSets);
  const budget = r.share * r.table.account.refillPerSecond;
  const burst = burstOf(r, changeLoopVariance(r, organizations, interval, minEventSync));
  const load: FleetLoad = {
    share: r.share,
    requestsPerSecond: total,
    budgetRequestsPerSecond: budget,
    utilisation: total / r.table.account.refillPerSecond,
    burstRequestsPerSecond: burst,
    buckets,
    restartRequests,
    restartSeconds: restartRequests / budget,
    churnRequestsPerSecond: r.events
      ? churn(r, organizations, cache, Math.min(minEventSync, interval)).account
      : total,
  };
  return {
    load,
    fits: total + burst <= budget && buckets.every((b) => b.requestsPerSecond <= b.budgetRequestsPerSecond),
  };
}

/**
 * Requests per second if every cluster's watched objects change all the time — every cluster then loops
 * every `spacing` seconds, reading its zone each time and listing the zones whenever its cache has
 * expired — with record changes at the planned rate.
 */
function churn(
  r: Resolved,
  organizations: number,
  cache: number,
  spacing: number,
  accountZones: number = organizations + r.otherZones,
): { readonly account: number; readonly reads: number } {
  const clusters = organizations * r.clustersPerOrganization;
  const zones = accountZones;
  const warm = externalDnsLoopCalls(
    { accountZones: zones, recordSets: r.recordSets, zonesCache: 'warm' },
    r.model,
  );
  const cold = externalDnsLoopCalls(
    { accountZones: zones, recordSets: r.recordSets, zonesCache: 'cold' },
    r.model,
  );
  const batches = changeBatches(r.namesPerChangeLoop, r.changesPerName, r.batch);
  const listings = clusters * cold.ListHostedZones * Math.min(1 / spacing, 1 / cache);
  const changes = clusters * batches * Math.min(r.changeLoops, 1 / r.model.minEventSyncIntervalSeconds);
  const reads = (clusters * warm.ListResourceRecordSets) / spacing;
  return { account: reads + listings + changes, reads };
}

/**
 * The shortest `--min-event-sync-interval`, in whole seconds from ExternalDNS's 5 s up to the interval,
 * at which constant churn on every cluster stays within the whole refill of the account bucket and of
 * `ListResourceRecordSets`'s (binary search: churn only falls as loops move apart). At the interval
 * itself churn is the periodic load, already within the share.
 */
function eventSyncSeconds(r: Resolved, organizations: number, interval: number, cache: number): number {
  const within = (spacing: number) => {
    const c = churn(r, organizations, cache, spacing);
    return (
      c.account <= r.table.account.refillPerSecond &&
      c.reads <= bucketOf(r.table, 'ListResourceRecordSets').refillPerSecond
    );
  };
  let low = Math.min(interval, r.model.minEventSyncIntervalSeconds);
  let high = interval;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (within(mid)) high = mid;
    else low = mid + 1;
  }
  return high;
}

/** The plan of one account holding `organizations` organisations, or why it cannot. */
function planAccount(r: Resolved, organizations: number): FleetAccountPlan | FleetShortfall[] {
  const zones = organizations + r.otherZones;
  const shortfalls: FleetShortfall[] = [];
  if (zones > r.quota) shortfalls.push('zone-quota');
  const maxCache = r.caches.at(-1) as number;
  const interval = r.intervals.find((i) => loadOf(r, organizations, i, maxCache).fits);
  if (interval === undefined) shortfalls.push('request-budget');
  if (shortfalls.length > 0 || interval === undefined) return shortfalls;
  const cache = r.caches.find((c) => loadOf(r, organizations, interval, c).fits) as number;
  // Spacing change loops further apart only lowers the steady-state load checked above.
  const minEventSync = r.events
    ? eventSyncSeconds(r, organizations, interval, cache)
    : r.model.minEventSyncIntervalSeconds;
  const { load } = loadOf(r, organizations, interval, cache, minEventSync);
  const clusters = organizations * r.clustersPerOrganization;
  const warm = externalDnsLoopCalls(
    { accountZones: zones, recordSets: r.recordSets, zonesCache: 'warm' },
    r.model,
  );
  const round = clusters * (warm.ListResourceRecordSets + warm.ListHostedZones);
  const jitter = Math.min(interval, Math.ceil(round / load.budgetRequestsPerSecond));
  const reasons: FleetFitReason[] = [
    interval === r.intervals[0] ? 'minimum-interval' : 'interval-raised',
    ...(cache > (r.caches[0] as number) ? ['zones-cache-raised' as const] : []),
    ...(r.events ? [] : ['events-off' as const]),
    ...(minEventSync > r.model.minEventSyncIntervalSeconds ? ['event-sync-raised' as const] : []),
    ...(r.batch < r.model.maxBatchChangeSize ? ['change-bucket' as const] : []),
  ];
  const settings: FleetExternalDnsSettings = {
    externalDnsVersion: r.model.version,
    intervalSeconds: interval,
    interval: goDuration(interval),
    jitterSeconds: jitter,
    zonesCacheSeconds: cache,
    zonesCacheDuration: goDuration(cache),
    zonesCacheJitterSeconds: cache,
    events: r.events,
    minEventSyncSeconds: minEventSync,
    minEventSyncInterval: goDuration(minEventSync),
    minEventSyncJitterSeconds: minEventSync > r.model.minEventSyncIntervalSeconds ? minEventSync : 0,
    batchChangeSize: r.batch,
  };
  return {
    outcome: 'fits',
    accounts: 1,
    organizations,
    clusters,
    zones,
    settings,
    load,
    reasons,
    message: `${clusters} clusters of ${organizations} organisations send ${load.requestsPerSecond.toFixed(2)} requests/s (+${load.burstRequestsPerSecond.toFixed(2)} kept for bursts of change loops), ${(load.utilisation * 100).toFixed(1)} % of the account's ${r.table.account.refillPerSecond}/s (budget ${(r.share * 100).toFixed(0)} %), with --interval=${settings.interval} (+0–${jitter} s per cluster) and --aws-zones-cache-duration=${settings.zonesCacheDuration}.`,
  };
}

// ---------------------------------------------------------------------------------------------------
// The planner
// ---------------------------------------------------------------------------------------------------

/**
 * Plans every cluster's ExternalDNS settings so that the fleet's steady-state Route 53 rate stays
 * within `share` of the account's buckets (the account's and each action's), or says how many accounts
 * the fleet needs and plans the fullest of them. Pure and deterministic: the same input gives the same
 * JSON.
 *
 * @example
 * ```ts
 * const plan = planFleetBudget({ organizations: 300, clustersPerOrganization: 3, recordSetsPerZone: 40 });
 * if (plan.outcome === 'fits')
 *   await zk.attachCluster('acme', { clusterId: 'prod', fleetBudget: plan.settings });
 * ```
 * @throws ZonekeeperError `INVALID_INPUT` for a malformed fleet, table or option.
 * @public
 */
export function planFleetBudget(fleet: FleetShape, options: FleetBudgetOptions = {}): FleetBudgetPlan {
  const r = resolve(fleet, options);
  const one = planAccount(r, r.organizations);
  if (!Array.isArray(one)) return one;
  // Feasibility only falls as organisations per account grow, so the fewest accounts is a binary search.
  const single = planAccount(r, 1);
  if (Array.isArray(single)) {
    const reasons: FleetImpossibleReason[] = [
      ...(single.includes('request-budget') ? ['organization-exceeds-budget' as const] : []),
      ...(single.includes('zone-quota') ? ['no-zone-room' as const] : []),
    ];
    return {
      outcome: 'impossible',
      reasons,
      message: `Not even one organisation fits an account: ${reasons.includes('organization-exceeds-budget') ? `its ${r.clustersPerOrganization} clusters exceed ${(r.share * 100).toFixed(0)} % of the account's budget at the longest interval allowed` : ''}${reasons.length === 2 ? '; ' : ''}${reasons.includes('no-zone-room') ? `${r.otherZones} other zones fill the quota of ${r.quota}` : ''}. Raise maxIntervalSeconds or the share, or split the organisation's clusters.`,
    };
  }
  let low = 2; // accounts that may not suffice
  let high = r.organizations; // accounts that suffice (one organisation each)
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (Array.isArray(planAccount(r, Math.ceil(r.organizations / mid)))) low = mid + 1;
    else high = mid;
  }
  const organizationsPerAccount = Math.ceil(r.organizations / high);
  const perAccount = planAccount(r, organizationsPerAccount) as FleetAccountPlan;
  return {
    outcome: 'needs-accounts',
    accounts: high,
    organizationsPerAccount,
    reasons: one,
    perAccount,
    message: `One account cannot hold ${r.organizations} organisations (${one.join(', ')}); ${high} accounts of at most ${organizationsPerAccount} organisations each can: ${perAccount.message}`,
  };
}

// ---------------------------------------------------------------------------------------------------
// Rendering the planned settings (attachCluster's fleetBudget)
// ---------------------------------------------------------------------------------------------------

const SETTINGS_KEYS: readonly (keyof FleetExternalDnsSettings)[] = [
  'externalDnsVersion',
  'intervalSeconds',
  'interval',
  'jitterSeconds',
  'zonesCacheSeconds',
  'zonesCacheDuration',
  'zonesCacheJitterSeconds',
  'events',
  'minEventSyncSeconds',
  'minEventSyncInterval',
  'minEventSyncJitterSeconds',
  'batchChangeSize',
];

/** The flags the planned settings own in `extraArgs`. */
const PLANNED_FLAGS = ['events', 'min-event-sync-interval', 'aws-batch-change-size'] as const;

function isFlag(arg: string, name: string): boolean {
  return arg === `--${name}` || arg.startsWith(`--${name}=`);
}

/**
 * Validates planned settings given to `attachCluster` (`fleetBudget`): the shape {@link planFleetBudget}
 * returns, for the ExternalDNS release this zonekeeper renders, consistent and in range; and no
 * explicit ExternalDNS setting that would contradict them. Pure.
 * @throws ZonekeeperError `INVALID_INPUT` naming the problem.
 * @internal
 */
export function validateFleetExternalDnsSettings(
  value: unknown,
  explicit: {
    readonly interval?: string;
    readonly zonesCacheDuration?: string;
    readonly extraArgs?: readonly string[];
  } = {},
  renderedVersion: string = EXTERNAL_DNS_CALL_MODEL.version,
): FleetExternalDnsSettings {
  const where = 'fleetBudget';
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidInput(
      `${where} must be the settings of a plan that fits (plan.settings of planFleetBudget).`,
    );
  const s = value as Record<string, unknown>;
  const unknown = Object.keys(s).filter((k) => !(SETTINGS_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0)
    throw invalidInput(
      `${where}: unknown setting(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; known: ${SETTINGS_KEYS.join(', ')}.`,
    );
  if (s.externalDnsVersion !== renderedVersion)
    throw invalidInput(
      `${where} was planned for ExternalDNS ${JSON.stringify(s.externalDnsVersion)}, but zonekeeper renders ${renderedVersion}, whose calls per loop may differ: plan again with planFleetBudget.`,
    );
  const interval = integer(s.intervalSeconds, `${where}.intervalSeconds`, 60, MAX_SECONDS);
  const jitter = integer(s.jitterSeconds, `${where}.jitterSeconds`, 0, MAX_SECONDS);
  const cache = integer(s.zonesCacheSeconds, `${where}.zonesCacheSeconds`, 1, MAX_SECONDS);
  const cacheJitter = integer(s.zonesCacheJitterSeconds, `${where}.zonesCacheJitterSeconds`, 0, MAX_SECONDS);
  const minEventSync = integer(s.minEventSyncSeconds, `${where}.minEventSyncSeconds`, 1, MAX_SECONDS);
  const minEventSyncJitter = integer(
    s.minEventSyncJitterSeconds,
    `${where}.minEventSyncJitterSeconds`,
    0,
    MAX_SECONDS,
  );
  const batch = integer(
    s.batchChangeSize,
    `${where}.batchChangeSize`,
    MIN_BATCH_CHANGE_SIZE,
    EXTERNAL_DNS_CALL_MODEL.maxBatchChangeSize,
  );
  if (
    s.interval !== goDuration(interval) ||
    s.zonesCacheDuration !== goDuration(cache) ||
    s.minEventSyncInterval !== goDuration(minEventSync)
  )
    throw invalidInput(
      `${where}: interval, zonesCacheDuration and minEventSyncInterval (${JSON.stringify(s.interval)}, ${JSON.stringify(s.zonesCacheDuration)}, ${JSON.stringify(s.minEventSyncInterval)}) must be intervalSeconds, zonesCacheSeconds and minEventSyncSeconds as Go durations (${goDuration(interval)}, ${goDuration(cache)}, ${goDuration(minEventSync)}).`,
    );
  if (typeof s.events !== 'boolean') throw invalidInput(`${where}.events must be a boolean.`);
  const clashes = [
    ...(explicit.interval !== undefined ? ['externalDns.interval'] : []),
    ...(explicit.zonesCacheDuration !== undefined ? ['externalDns.zonesCacheDuration'] : []),
    ...(explicit.extraArgs ?? [])
      .filter((a) => PLANNED_FLAGS.some((f) => isFlag(a, f)))
      .map((a) => `externalDns.extraArgs ${JSON.stringify(a)}`),
  ];
  if (clashes.length > 0)
    throw invalidInput(
      `${where} sets --interval, --aws-zones-cache-duration, --events, --min-event-sync-interval and --aws-batch-change-size; leave out ${clashes.join(', ')} (or fleetBudget).`,
    );
  return {
    externalDnsVersion: renderedVersion,
    intervalSeconds: interval,
    interval: goDuration(interval),
    jitterSeconds: jitter,
    zonesCacheSeconds: cache,
    zonesCacheDuration: goDuration(cache),
    zonesCacheJitterSeconds: cacheJitter,
    events: s.events,
    minEventSyncSeconds: minEventSync,
    minEventSyncInterval: goDuration(minEventSync),
    minEventSyncJitterSeconds: minEventSyncJitter,
    batchChangeSize: batch,
  };
}

/**
 * A cluster's ExternalDNS settings with the planned ones applied over `base`: its own interval
 * ({@link clusterIntervalSeconds}) and zone cache ({@link clusterZonesCacheSeconds}), `--events` with
 * `--min-event-sync-interval` (or none) and `--aws-batch-change-size`
 * (replacing those flags in `base.extraArgs`, which may hold an earlier plan's). Pure.
 * @internal
 */
export function withFleetExternalDnsSettings<
  T extends {
    readonly interval?: string;
    readonly zonesCacheDuration?: string;
    readonly extraArgs?: readonly string[];
  },
>(
  base: T,
  settings: FleetExternalDnsSettings,
  clusterId: string,
): T & {
  readonly interval: string;
  readonly zonesCacheDuration: string;
  readonly extraArgs: readonly string[];
} {
  const kept = (base.extraArgs ?? []).filter((a) => !PLANNED_FLAGS.some((f) => isFlag(a, f)));
  return {
    ...base,
    interval: goDuration(clusterIntervalSeconds(settings, clusterId)),
    zonesCacheDuration: goDuration(clusterZonesCacheSeconds(settings, clusterId)),
    extraArgs: [
      ...kept,
      ...(settings.events
        ? [
            '--events',
            `--min-event-sync-interval=${goDuration(clusterMinEventSyncSeconds(settings, clusterId))}`,
          ]
        : []),
      `--aws-batch-change-size=${settings.batchChangeSize}`,
    ],
  };
}

// ---------------------------------------------------------------------------------------------------
// Heterogeneous fleets: groups of organisations with their own shapes and settings
// ---------------------------------------------------------------------------------------------------

/**
 * One group of a heterogeneous fleet: organisations alike in clusters, records and churn, and,
 * optionally, ExternalDNS settings the group insists on (a group that must repair drift within a minute
 * pins `intervalSeconds: 60`). @public
 */
export interface FleetGroup extends Omit<FleetShape, 'otherZonesPerAccount'> {
  /** The group's name (1–64 letters, digits, `-`, `_`), unique in the fleet. */
  readonly name: string;
  /** `--interval` every cluster of the group runs (seconds, ≥ 60); absent: planned. */
  readonly intervalSeconds?: number;
  /** `--aws-zones-cache-duration` every cluster of the group runs (seconds, ≥ 1); absent: planned. */
  readonly zonesCacheSeconds?: number;
}

/** A heterogeneous fleet: its groups, and the zones of every account besides the organisations'. @public */
export interface HeterogeneousFleet {
  readonly groups: readonly FleetGroup[];
  /** Hosted zones in every account besides the organisations' (default 1). */
  readonly otherZonesPerAccount?: number;
}

/** One group's part of an account's plan. JSON data. @public */
export interface FleetGroupPlan {
  readonly name: string;
  /** The group's organisations in the account. */
  readonly organizations: number;
  readonly clusters: number;
  /** Its clusters' settings (pinned values kept; the rest planned). */
  readonly settings: FleetExternalDnsSettings;
  /** Which settings the group pinned. */
  readonly pinned: readonly ('intervalSeconds' | 'zonesCacheSeconds')[];
  /** Its clusters' steady-state requests per second (all actions). */
  readonly requestsPerSecond: number;
}

/** An account holding its part of every group within the budget. JSON data. @public */
export interface HeterogeneousAccountPlan {
  readonly outcome: 'fits';
  readonly accounts: 1;
  readonly organizations: number;
  readonly clusters: number;
  readonly zones: number;
  readonly groups: readonly FleetGroupPlan[];
  /** The account's load: every group's requests, per bucket. */
  readonly load: Omit<FleetLoad, 'restartRequests' | 'restartSeconds'>;
  readonly message: string;
}

/** The result of {@link planHeterogeneousFleetBudget}. JSON data. @public */
export type HeterogeneousFleetPlan =
  | HeterogeneousAccountPlan
  | {
      readonly outcome: 'needs-accounts';
      /** The fewest accounts holding the fleet with every group spread evenly over them. */
      readonly accounts: number;
      /** Each group's organisations per account (at most), by group name. */
      readonly organizationsPerAccount: Readonly<Record<string, number>>;
      readonly reasons: readonly FleetShortfall[];
      /** The plan of the fullest account. */
      readonly perAccount: HeterogeneousAccountPlan;
      readonly message: string;
    }
  | { readonly outcome: 'impossible'; readonly reasons: readonly FleetShortfall[]; readonly message: string };

interface ResolvedGroup {
  readonly name: string;
  readonly r: Resolved;
  readonly organizations: number;
  readonly interval?: number;
  readonly cache?: number;
}

function resolveGroups(fleet: HeterogeneousFleet, options: FleetBudgetOptions): ResolvedGroup[] {
  if (
    typeof fleet !== 'object' ||
    fleet === null ||
    !Array.isArray(fleet.groups) ||
    fleet.groups.length === 0
  )
    throw invalidInput(`${PREFIX}: expected a fleet { groups: [ … ] } with at least one group.`);
  const names = new Set<string>();
  return fleet.groups.map((g, i) => {
    if (typeof g !== 'object' || g === null) throw invalidInput(`${PREFIX}: groups[${i}] must be an object.`);
    if (typeof g.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(g.name))
      throw invalidInput(`${PREFIX}: groups[${i}].name must be 1–64 letters, digits, "-" or "_".`);
    if (names.has(g.name)) throw invalidInput(`${PREFIX}: group ${g.name} is listed twice.`);
    names.add(g.name);
    const { name, intervalSeconds, zonesCacheSeconds, ...shape } = g;
    const r = resolve(
      {
        ...shape,
        ...(fleet.otherZonesPerAccount === undefined
          ? {}
          : { otherZonesPerAccount: fleet.otherZonesPerAccount }),
      },
      options,
    );
    return {
      name,
      r,
      organizations: r.organizations,
      ...(intervalSeconds === undefined
        ? {}
        : { interval: integer(intervalSeconds, `group ${name}: intervalSeconds`, 60, MAX_SECONDS) }),
      ...(zonesCacheSeconds === undefined
        ? {}
        : { cache: integer(zonesCacheSeconds, `group ${name}: zonesCacheSeconds`, 1, MAX_SECONDS) }),
    };
  });
}

/** Every group's per-action load in one account at a common planned (interval, cache, spacing). */
function groupsLoad(
  groups: readonly ResolvedGroup[],
  counts: readonly number[],
  interval: number,
  cache: number,
  spacing: number,
) {
  const zones = counts.reduce((a, b) => a + b, 0) + (groups[0]?.r.otherZones ?? 0);
  return groups.map((g, i) =>
    accountLoad(
      g.r,
      counts[i] ?? 0,
      g.interval ?? interval,
      g.cache ?? cache,
      Math.min(spacing, g.interval ?? interval),
      zones,
    ),
  );
}

function sumLoads(loads: readonly ReturnType<typeof accountLoad>[]) {
  const out: Record<string, number> = { changes: 0 };
  for (const a of EXTERNAL_DNS_ROUTE53_ACTIONS) out[a] = 0;
  for (const l of loads) {
    for (const a of EXTERNAL_DNS_ROUTE53_ACTIONS) out[a] = (out[a] as number) + l[a];
    out.changes = (out.changes as number) + l.changes;
  }
  return out as Record<ExternalDnsRoute53Action, number> & { changes: number };
}

/** The burst margin of every group's change loops in one account (their variances add). */
function groupsBurst(
  groups: readonly ResolvedGroup[],
  counts: readonly number[],
  interval: number,
  spacing: number,
): number {
  const zones = counts.reduce((a, b) => a + b, 0) + (groups[0]?.r.otherZones ?? 0);
  const variance = groups.reduce(
    (sum, g, i) =>
      sum +
      changeLoopVariance(
        g.r,
        counts[i] ?? 0,
        g.interval ?? interval,
        Math.min(spacing, g.interval ?? interval),
        zones,
      ),
    0,
  );
  return burstOf((groups[0] as ResolvedGroup).r, variance);
}

function fitsBuckets(
  r: Resolved,
  total: ReturnType<typeof sumLoads>,
  burst: number,
): FleetBucketLoad[] | undefined {
  const all = EXTERNAL_DNS_ROUTE53_ACTIONS.reduce((n, a) => n + total[a], 0);
  const bucket = (name: FleetBucketLoad['bucket'], rate: number, spec: Route53BucketSpec) => ({
    bucket: name,
    requestsPerSecond: rate,
    budgetRequestsPerSecond: r.share * spec.refillPerSecond,
    refillPerSecond: spec.refillPerSecond,
  });
  const buckets: FleetBucketLoad[] = [
    bucket('account', all, r.table.account),
    ...EXTERNAL_DNS_ROUTE53_ACTIONS.map((a) => bucket(a, total[a], bucketOf(r.table, a))),
    ...(r.table.changes === undefined ? [] : [bucket('changes', total.changes, r.table.changes)]),
  ];
  return all + burst <= r.share * r.table.account.refillPerSecond &&
    buckets.every((b) => b.requestsPerSecond <= b.budgetRequestsPerSecond)
    ? buckets
    : undefined;
}

function planGroupsAccount(
  groups: readonly ResolvedGroup[],
  counts: readonly number[],
): HeterogeneousAccountPlan | FleetShortfall[] {
  const r = (groups[0] as ResolvedGroup).r;
  const organizations = counts.reduce((a, b) => a + b, 0);
  const zones = organizations + r.otherZones;
  const shortfalls: FleetShortfall[] = [];
  if (zones > r.quota) shortfalls.push('zone-quota');
  const minSpacing = r.model.minEventSyncIntervalSeconds;
  const maxCache = r.caches.at(-1) as number;
  const fits = (i: number, c: number, sp: number) =>
    fitsBuckets(r, sumLoads(groupsLoad(groups, counts, i, c, sp)), groupsBurst(groups, counts, i, sp));
  const interval = r.intervals.find((i) => fits(i, maxCache, minSpacing) !== undefined);
  if (interval === undefined) shortfalls.push('request-budget');
  if (shortfalls.length > 0 || interval === undefined) return shortfalls;
  const cache = r.caches.find((c) => fits(interval, c, minSpacing) !== undefined) as number;
  // Change loops spaced so that constant churn on every cluster stays within the whole refill.
  const churnAt = (spacing: number) => {
    let account = 0;
    let reads = 0;
    for (const [i, g] of groups.entries()) {
      const c = churn(
        g.r,
        counts[i] ?? 0,
        g.cache ?? cache,
        Math.min(spacing, g.interval ?? interval),
        zones,
      );
      account += c.account;
      reads += c.reads;
    }
    return { account, reads };
  };
  const churnWithin = (spacing: number) => {
    const { account, reads } = churnAt(spacing);
    return (
      account <= r.table.account.refillPerSecond &&
      reads <= bucketOf(r.table, 'ListResourceRecordSets').refillPerSecond
    );
  };
  const longest = Math.max(interval, ...groups.map((g) => g.interval ?? interval));
  let low = minSpacing;
  let high = longest;
  if (r.events)
    while (low < high) {
      const mid = Math.floor((low + high) / 2);
      if (churnWithin(mid)) high = mid;
      else low = mid + 1;
    }
  const spacing = r.events ? high : minSpacing;
  const perGroup = groupsLoad(groups, counts, interval, cache, spacing);
  const total = sumLoads(perGroup);
  const spaced = fitsBuckets(r, total, groupsBurst(groups, counts, interval, spacing));
  const burst = groupsBurst(groups, counts, interval, spaced ? spacing : minSpacing);
  const buckets =
    spaced ?? fitsBuckets(r, sumLoads(groupsLoad(groups, counts, interval, cache, minSpacing)), burst);
  if (buckets === undefined) return ['request-budget'];
  const requests = (buckets[0] as FleetBucketLoad).requestsPerSecond;
  const budget = r.share * r.table.account.refillPerSecond;
  const planned = groups.map((g, i): FleetGroupPlan => {
    const gi = g.interval ?? interval;
    const gc = g.cache ?? cache;
    const gs = Math.min(spacing, gi);
    const clusters = (counts[i] ?? 0) * g.r.clustersPerOrganization;
    const warm = externalDnsLoopCalls(
      { accountZones: zones, recordSets: g.r.recordSets, zonesCache: 'warm' },
      g.r.model,
    );
    const round = clusters * (warm.ListResourceRecordSets + warm.ListHostedZones);
    const load = perGroup[i] as ReturnType<typeof accountLoad>;
    return {
      name: g.name,
      organizations: counts[i] ?? 0,
      clusters,
      pinned: [
        ...(g.interval === undefined ? [] : ['intervalSeconds' as const]),
        ...(g.cache === undefined ? [] : ['zonesCacheSeconds' as const]),
      ],
      requestsPerSecond: EXTERNAL_DNS_ROUTE53_ACTIONS.reduce((n, a) => n + load[a], 0),
      settings: {
        externalDnsVersion: g.r.model.version,
        intervalSeconds: gi,
        interval: goDuration(gi),
        // The group's round of warm loops spread so that it arrives no faster than the whole budget.
        jitterSeconds: Math.min(gi, Math.ceil(round / budget)),
        zonesCacheSeconds: gc,
        zonesCacheDuration: goDuration(gc),
        zonesCacheJitterSeconds: gc,
        events: g.r.events,
        minEventSyncSeconds: gs,
        minEventSyncInterval: goDuration(gs),
        minEventSyncJitterSeconds: gs > minSpacing ? gs : 0,
        batchChangeSize: g.r.batch,
      },
    };
  });
  const clusters = planned.reduce((n, g) => n + g.clusters, 0);
  return {
    outcome: 'fits',
    accounts: 1,
    organizations,
    clusters,
    zones,
    groups: planned,
    load: {
      share: r.share,
      requestsPerSecond: requests,
      budgetRequestsPerSecond: budget,
      utilisation: requests / r.table.account.refillPerSecond,
      burstRequestsPerSecond: burst,
      buckets,
      churnRequestsPerSecond: r.events ? churnAt(spacing).account : requests,
    },
    message: `${clusters} clusters of ${organizations} organisations in ${groups.length} group(s) send ${requests.toFixed(2)} requests/s (+${burst.toFixed(2)} kept for bursts of change loops), ${((requests / r.table.account.refillPerSecond) * 100).toFixed(1)} % of the account's ${r.table.account.refillPerSecond}/s (budget ${(r.share * 100).toFixed(0)} %); ${planned.map((g) => `${g.name}: --interval=${g.settings.interval}, --aws-zones-cache-duration=${g.settings.zonesCacheDuration}`).join('; ')}.`,
  };
}

/**
 * {@link planFleetBudget} for a fleet whose organisations differ: groups with their own clusters per
 * organisation, record sets, churn and — optionally — pinned `--interval` or zone-cache settings. The
 * groups share one account's buckets: the planner keeps every pinned setting, and plans one interval
 * and one zone cache for the groups that pinned none, the shortest (interval first) for which the
 * account's total — every group's requests, each at its own settings — stays within `share` of every
 * bucket; change loops are spaced as in the uniform planner, over all groups' churn. Where one account
 * is not enough, every group is spread evenly over the fewest accounts that hold it (each account
 * holds `⌈group ÷ accounts⌉` of every group or fewer). Pure and deterministic.
 *
 * @example
 * ```ts
 * planHeterogeneousFleetBudget({ groups: [
 *   { name: 'big', organizations: 20, clustersPerOrganization: 30, recordSetsPerZone: 2000 },
 *   { name: 'small', organizations: 300, clustersPerOrganization: 1, recordSetsPerZone: 20 },
 *   { name: 'strict', organizations: 5, clustersPerOrganization: 2, recordSetsPerZone: 50, intervalSeconds: 60 },
 * ] });
 * ```
 * @throws ZonekeeperError `INVALID_INPUT` for a malformed fleet, group, table or option.
 * @public
 */
export function planHeterogeneousFleetBudget(
  fleet: HeterogeneousFleet,
  options: FleetBudgetOptions = {},
): HeterogeneousFleetPlan {
  const groups = resolveGroups(fleet, options);
  const totals = groups.map((g) => g.organizations);
  const one = planGroupsAccount(groups, totals);
  if (!Array.isArray(one)) return one;
  const split = (n: number) => totals.map((t) => Math.ceil(t / n));
  const most = Math.max(...totals);
  const smallest = planGroupsAccount(groups, split(most));
  if (Array.isArray(smallest))
    return {
      outcome: 'impossible',
      reasons: smallest,
      message: `Even one organisation of each group per account does not fit (${smallest.join(', ')}): a pinned setting, or one organisation's clusters, exceed the budget at the longest interval allowed. Raise maxIntervalSeconds or the share, unpin, or split the organisation's clusters.`,
    };
  let low = 2;
  let high = most;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (Array.isArray(planGroupsAccount(groups, split(mid)))) low = mid + 1;
    else high = mid;
  }
  const perAccount = planGroupsAccount(groups, split(high)) as HeterogeneousAccountPlan;
  return {
    outcome: 'needs-accounts',
    accounts: high,
    organizationsPerAccount: Object.fromEntries(groups.map((g, i) => [g.name, split(high)[i] as number])),
    reasons: one,
    perAccount,
    message: `One account cannot hold the fleet (${one.join(', ')}); ${high} accounts, each with at most ${groups.map((g, i) => `${split(high)[i]} of ${g.name}`).join(', ')}, can: ${perAccount.message}`,
  };
}
