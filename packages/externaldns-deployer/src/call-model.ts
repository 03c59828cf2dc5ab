/**
 * The Route 53 requests one ExternalDNS loop makes, as data: read from the source of
 * {@link EXTERNAL_DNS_VERSION} (`provider/aws/aws.go`, `controller/controller.go`,
 * `provider/blueprint/zone_cache.go`, `pkg/apis/externaldns/types.go`) and measured from the real
 * binary through the e2e IAM enforcer's request log (`e2e/src/scenarios/call-model.test.ts`, which
 * asserts that {@link externalDnsLoopCalls} equals the log, operation by operation, for zone and record
 * counts across several pages).
 *
 * ```
 *  one loop (Controller.RunOnce)        Route 53 requests (AWS provider, one zone matched by --zone-id-filter)
 *  Registry.Records → provider.Records  zones() + ListResourceRecordSets pages of the zone (MaxItems 300)
 *  Registry.GetDomainFilter             zones()
 *  Registry.ApplyChanges (changes only) zones() + ChangeResourceRecordSets per change batch
 *
 *  zones()                              ListHostedZones pages of the whole account (no MaxItems: 100 a page),
 *                                       unless the zone cache (--aws-zones-cache-duration > 0) holds a list
 *                                       younger than its duration; a listing refills the cache
 *
 *  cache off (0s, ExternalDNS default)  2 listings a loop, 3 with changes
 *  cache cold (a new process, expired)  1 listing (the rest of the loop uses it)
 *  cache warm                           0 listings
 *
 *  change batches                       all changes in one request when they fit --aws-batch-change-size;
 *                                       otherwise whole names (a record with its ownership TXT) per batch,
 *                                       floor(size ÷ changes per name) names a batch, 1 s apart
 * ```
 *
 * Not modelled, because zonekeeper renders none of it: `--aws-zone-tags` (adds `ListTagsForResources`,
 * 10 zones a request), several `--aws-profile`s, `--txt-cache-interval`. Byte and value limits of a
 * batch (32,000 bytes, 1,000 values) are not reached by the names of one cluster's loop at the
 * batch sizes the planner renders.
 *
 * @packageDocumentation
 */

import { invalidInput } from '@zonekeeper/core';
import { EXTERNAL_DNS_VERSION } from './upstream.js';

/** The Route 53 actions one ExternalDNS loop uses, in the order a loop first uses them. @public */
export const EXTERNAL_DNS_ROUTE53_ACTIONS = [
  'ListHostedZones',
  'ListResourceRecordSets',
  'ChangeResourceRecordSets',
] as const;

/** One of {@link EXTERNAL_DNS_ROUTE53_ACTIONS}. @public */
export type ExternalDnsRoute53Action = (typeof EXTERNAL_DNS_ROUTE53_ACTIONS)[number];

/** The call pattern of one ExternalDNS release's AWS provider, as data. @public */
export interface ExternalDnsCallModel {
  /** The release this model was read from and measured against. */
  readonly version: string;
  /** Hosted zones per `ListHostedZones` page: ExternalDNS sets no `MaxItems`, Route 53 returns 100. */
  readonly hostedZonesPerPage: number;
  /** Record sets per `ListResourceRecordSets` page: ExternalDNS's `route53PageSize`, 300. */
  readonly recordSetsPerPage: number;
  /** Full zone listings of a loop without the zone cache: `Records` and `GetDomainFilter`. */
  readonly listingsPerLoopUncached: number;
  /** Extra listing of a loop that applies changes without the zone cache: `ApplyChanges`. */
  readonly extraListingsWithChanges: number;
  /** `--aws-batch-change-size` when not set: 1,000. */
  readonly defaultBatchChangeSize: number;
  /** The largest batch Route 53 accepts: 1,000 changes (`ChangeResourceRecordSets` limit). */
  readonly maxBatchChangeSize: number;
  /** `--interval` when not set: 60 s. */
  readonly defaultIntervalSeconds: number;
  /** `--min-event-sync-interval` when not set: with `--events`, at most one event-driven loop per 5 s. */
  readonly minEventSyncIntervalSeconds: number;
}

/** The call model of ExternalDNS {@link EXTERNAL_DNS_VERSION}. @public */
export const EXTERNAL_DNS_CALL_MODEL: ExternalDnsCallModel = Object.freeze({
  version: EXTERNAL_DNS_VERSION,
  hostedZonesPerPage: 100,
  recordSetsPerPage: 300,
  listingsPerLoopUncached: 2,
  extraListingsWithChanges: 1,
  defaultBatchChangeSize: 1000,
  maxBatchChangeSize: 1000,
  defaultIntervalSeconds: 60,
  minEventSyncIntervalSeconds: 5,
});

/** The zone cache at the start of a loop. @public */
export type ZonesCacheState = 'off' | 'cold' | 'warm';

/** One ExternalDNS loop, as {@link externalDnsLoopCalls} counts it. @public */
export interface ExternalDnsLoop {
  /** Hosted zones in the account: every zone `ListHostedZones` returns, not only the cluster's (≥ 0). */
  readonly accountZones: number;
  /** Record sets in the cluster's zone when the loop starts: SOA, NS and ownership TXT records included (≥ 0). */
  readonly recordSets: number;
  /**
   * `off`: `--aws-zones-cache-duration=0s`; `cold`: the cache is empty (a new process) or older than its
   * duration; `warm`: the cache holds a list younger than its duration.
   */
  readonly zonesCache: ZonesCacheState;
  /** Names this loop creates, updates or deletes (default 0). */
  readonly changedNames?: number;
  /**
   * Changes per name, the record(s) and their ownership TXT: 2 for an A or CNAME record (default), 4 for
   * an ALIAS to a load balancer (A and AAAA, each with its TXT).
   */
  readonly changesPerName?: number;
  /** `--aws-batch-change-size` (default the model's `defaultBatchChangeSize`). */
  readonly batchChangeSize?: number;
}

/** Requests of one loop per action. JSON data. @public */
export type ExternalDnsLoopCalls = Readonly<Record<ExternalDnsRoute53Action, number>>;

function count(value: unknown, what: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)
    throw invalidInput(`ExternalDNS call model: ${what} must be an integer ≥ ${min}, got ${String(value)}.`);
  return value;
}

/** Pages of a listing of `items` at `perPage` a page: one page even when empty. */
function pages(items: number, perPage: number): number {
  return Math.max(1, Math.ceil(items / perPage));
}

/**
 * Change batches of a loop that changes `names` names of `perName` changes each, as ExternalDNS's
 * `batchChangeSet` cuts them: everything in one request when it fits, else whole names per batch.
 * Pure; the caller checks that `perName ≤ batchSize`.
 * @public
 */
export function changeBatches(names: number, perName: number, batchSize: number): number {
  if (names === 0) return 0;
  if (names * perName <= batchSize) return 1;
  return Math.ceil(names / Math.floor(batchSize / perName));
}

/**
 * The Route 53 requests of one ExternalDNS loop of a cluster whose ExternalDNS matches one zone (zonekeeper
 * renders `--zone-id-filter`), by action. Pure.
 *
 * @example
 * ```ts
 * externalDnsLoopCalls({ accountZones: 501, recordSets: 40, zonesCache: 'off' });
 * // { ListHostedZones: 12, ListResourceRecordSets: 1, ChangeResourceRecordSets: 0 }
 * externalDnsLoopCalls({ accountZones: 501, recordSets: 40, zonesCache: 'warm' });
 * // { ListHostedZones: 0, ListResourceRecordSets: 1, ChangeResourceRecordSets: 0 }
 * ```
 * @throws ZonekeeperError `INVALID_INPUT` for a negative or fractional count, an unknown cache state, a
 *   batch size outside 1…`maxBatchChangeSize`, or names whose changes do not fit one batch (ExternalDNS
 *   skips such a name, with a warning, on every loop).
 * @public
 */
export function externalDnsLoopCalls(
  loop: ExternalDnsLoop,
  model: ExternalDnsCallModel = EXTERNAL_DNS_CALL_MODEL,
): ExternalDnsLoopCalls {
  if (typeof loop !== 'object' || loop === null)
    throw invalidInput('ExternalDNS call model: expected a loop { accountZones, recordSets, zonesCache }.');
  const zones = count(loop.accountZones, 'accountZones', 0);
  const records = count(loop.recordSets, 'recordSets', 0);
  const names = count(loop.changedNames ?? 0, 'changedNames', 0);
  const perName = count(loop.changesPerName ?? 2, 'changesPerName', 1);
  const batch = count(loop.batchChangeSize ?? model.defaultBatchChangeSize, 'batchChangeSize', 1);
  if (batch > model.maxBatchChangeSize)
    throw invalidInput(
      `ExternalDNS call model: batchChangeSize ${batch} is above Route 53's ${model.maxBatchChangeSize} changes a request.`,
    );
  if (names > 0 && perName > batch)
    throw invalidInput(
      `ExternalDNS call model: a name of ${perName} changes never fits a batch of ${batch} (ExternalDNS skips it on every loop).`,
    );
  const listings =
    loop.zonesCache === 'off'
      ? model.listingsPerLoopUncached + (names > 0 ? model.extraListingsWithChanges : 0)
      : loop.zonesCache === 'cold'
        ? 1
        : loop.zonesCache === 'warm'
          ? 0
          : invalidZonesCache(loop.zonesCache);
  return {
    ListHostedZones: listings * pages(zones, model.hostedZonesPerPage),
    ListResourceRecordSets: pages(records, model.recordSetsPerPage),
    ChangeResourceRecordSets: changeBatches(names, perName, batch),
  };
}

function invalidZonesCache(value: unknown): never {
  throw invalidInput(
    `ExternalDNS call model: zonesCache must be "off", "cold" or "warm", got ${JSON.stringify(value)}.`,
  );
}
