/**
 * The DNS port: the few hosted-zone and record calls zonekeeper makes, shaped after Route 53 but usable
 * for any DNS service with zones, records and tags. A provider reads and writes; it never decides
 * ownership, never retries on its own (SDK retry strategies are configuration) and never implements
 * dry-run: `ensureOrganizationZone` and `deleteOrganizationZone` do that once for every provider.
 *
 * Names are canonical: lowercase, no trailing dot (`acme.example.com`). Zone ids have no
 * `/hostedzone/` prefix.
 *
 * Errors are `ZonekeeperError`s: `NOT_FOUND` (no such zone/change), `ALREADY_EXISTS` (CallerReference
 * reused), `CONFLICT` (zone not empty, invalid change batch such as creating an existing record or
 * deleting a missing one, quota), `THROTTLED`, `UNAVAILABLE`, `PERMISSION_DENIED`, `INVALID_INPUT`.
 *
 * @packageDocumentation
 */

import type { CallOptions, ZonePricingModel } from '@zonekeeper/core';

/** A hosted zone as listed. @public */
export interface HostedZone {
  /** Zone id without prefix, e.g. `Z0123456789ABCDEFGHIJ`. */
  readonly id: string;
  /** Canonical name, e.g. `acme.example.com`. */
  readonly name: string;
  /** The idempotency token the zone was created with. */
  readonly callerReference: string;
  /** The zone's comment, if any. */
  readonly comment?: string;
  /** Number of record sets, when the provider reports it. */
  readonly recordSetCount?: number;
  /** Private zones are never managed by zonekeeper. */
  readonly privateZone: boolean;
}

/** A zone with its authoritative name servers. @public */
export interface HostedZoneDetails {
  readonly zone: HostedZone;
  /** The delegation set, e.g. `ns-1.awsdns-01.org` (canonical, no trailing dot). */
  readonly nameServers: readonly string[];
}

/** The state of a submitted change. @public */
export interface ChangeInfo {
  /** Change id without prefix. */
  readonly id: string;
  readonly status: 'PENDING' | 'INSYNC';
  /** When the provider accepted the change (Route 53 `SubmittedAt`). */
  readonly submittedAt: Date;
}

/** Alias target of an alias record set. @public */
export interface AliasTarget {
  readonly hostedZoneId: string;
  readonly dnsName: string;
  readonly evaluateTargetHealth: boolean;
}

/** One record set. @public */
export interface RecordSet {
  /** Canonical name; a wildcard is written `*.x.example.com`. */
  readonly name: string;
  /** `A`, `AAAA`, `CNAME`, `TXT`, `NS`, `SOA`, `MX`, … */
  readonly type: string;
  /** Absent for alias records. */
  readonly ttl?: number;
  /** Resource record values as Route 53 presents them (TXT values quoted). Empty for alias records. */
  readonly values: readonly string[];
  readonly aliasTarget?: AliasTarget;
  /** Routing-policy identifier (weighted, latency, failover…), when present. */
  readonly setIdentifier?: string;
  /**
   * Provider-specific fields that must round-trip for a DELETE to match exactly (weight, region,
   * failover, geolocation, health check id…). Opaque to zonekeeper.
   */
  readonly providerFields?: Readonly<Record<string, unknown>>;
}

/** One change of a batch. @public */
export interface RecordChange {
  readonly action: 'CREATE' | 'UPSERT' | 'DELETE';
  readonly recordSet: RecordSet;
}

/** A page of record sets, ordered by name then type as Route 53 orders them. @public */
export interface RecordPage {
  readonly recordSets: readonly RecordSet[];
  /** Where the next page starts; absent on the last page. */
  readonly next?: { readonly name: string; readonly type: string; readonly setIdentifier?: string };
}

/** Tags of one zone. @public */
export type Tags = Readonly<Record<string, string>>;

/**
 * The DNS provider port.
 *
 * @example
 * ```ts
 * const dns = createMemoryDnsProvider();              // or createRoute53Provider({ region: 'us-east-1' })
 * const { zone } = await dns.createZone({ name: 'example.com', callerReference: 'r1' });
 * ```
 * @public
 */
/** Options of {@link DnsProvider.listZones}. @public */
export interface ListZonesOptions extends CallOptions {
  /**
   * Called with each page of zones as it arrives, in order, before the next page is requested. A
   * provider that reads everything in one call may call it once, or not at all (the caller then works
   * from the result). It must not throw; what it starts is the caller's to await.
   */
  readonly onPage?: (zones: readonly HostedZone[]) => void;
}

export interface DnsProvider {
  /** `route53`, `memory`, … for messages. */
  readonly kind: string;
  /**
   * How the provider bills a zone, for the garbage collector (`@zonekeeper/gc-policy`). Absent: Route 53's
   * rules (`calendar-month`). PowerDNS: `free`.
   */
  readonly pricing?: ZonePricingModel;
  /**
   * Every hosted zone of the account, all pages (Route 53: `ListHostedZones`, 100 per call). With
   * `onPage`, each page is also handed over as it arrives (before the next is asked for), so a caller can
   * start reading about those zones meanwhile; the pages together are exactly the result.
   */
  listZones(options?: ListZonesOptions): Promise<readonly HostedZone[]>;
  /** Zones whose name is exactly `name` (Route 53 allows duplicates). */
  findZonesByName(name: string, options?: CallOptions): Promise<readonly HostedZone[]>;
  /** One zone with its name servers; `undefined` if it does not exist. */
  getZone(zoneId: string, options?: CallOptions): Promise<HostedZoneDetails | undefined>;
  /**
   * Creates a public zone. `callerReference` makes the call idempotent on Route 53 (a reused reference is
   * `ALREADY_EXISTS`); `comment` is written atomically with the zone.
   */
  createZone(
    spec: { readonly name: string; readonly callerReference: string; readonly comment?: string },
    options?: CallOptions,
  ): Promise<HostedZoneDetails & { readonly change: ChangeInfo }>;
  /** Deletes an empty zone (only the apex SOA and NS left), else `CONFLICT`. */
  deleteZone(zoneId: string, options?: CallOptions): Promise<ChangeInfo>;
  /**
   * Tags of 1 to 10 zones per call (Route 53 `ListTagsForResources`; more is `INVALID_INPUT`). Missing
   * zones are omitted (some emulators, such as moto, return them with no tags instead).
   */
  getTags(zoneIds: readonly string[], options?: CallOptions): Promise<ReadonlyMap<string, Tags>>;
  /** Adds or overwrites `add` and removes `remove` keys. */
  changeTags(
    zoneId: string,
    change: { readonly add?: Tags; readonly remove?: readonly string[] },
    options?: CallOptions,
  ): Promise<void>;
  /** One page of record sets, starting at `from` (inclusive). */
  listRecords(
    zoneId: string,
    page?: { readonly from?: RecordPage['next']; readonly maxItems?: number },
    options?: CallOptions,
  ): Promise<RecordPage>;
  /** Applies a batch atomically (all or nothing). */
  changeRecords(
    zoneId: string,
    changes: readonly RecordChange[],
    options?: CallOptions & { readonly comment?: string },
  ): Promise<ChangeInfo>;
  /** The status of a change. */
  getChange(changeId: string, options?: CallOptions): Promise<ChangeInfo>;
}
