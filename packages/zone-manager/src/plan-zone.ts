/**
 * The pure planner of {@link ensureOrganizationZone}: given the zones named `<org>.<baseDomain>`, their
 * tags and name servers, and the delegation in the parent zone, which steps make the organisation have
 * exactly one managed, tagged, delegated zone.
 *
 * ```
 *  zones named <org>.<baseDomain>        ownership                          plan
 *  ─────────────────────────────────     ───────────────────────────────    ────────────────────────────────────
 *  none                                  —                                  create-zone, tag-zone, upsert-delegation
 *  any without our tags or reference     NOT_OWNED (thrown, never adopted)  —
 *  (parent) NS at the name pointing at   NOT_OWNED (thrown: never replaced)  —
 *    none of the organisation's zones
 *  (parent) other records at or below    NOT_OWNED (thrown: a delegation      —
 *    the name                              would hide them)
 *  tagged for another organisation       NOT_OWNED                          —
 *  one or more of ours                   canonical = oldest, then lowest id tag-zone (missing tags), upsert-delegation
 *                                                                           (missing/different), delete-duplicate-zone
 *                                                                           (empty, unprotected duplicates)
 * ```
 *
 * @packageDocumentation
 */

import { invalidInput, organizationZoneName, ZonekeeperError } from '@zonekeeper/core';
import { nameServerKey } from './names.js';
import {
  isManagedTagged,
  organizationCallerReference,
  organizationZoneComment,
  parseCreatedAt,
  readCallerReference,
  ZONEKEEPER_MANAGED_BY,
  ZoneTags,
} from './ownership.js';
import type { Tags } from './ports.js';

/** The default TTL of the delegation NS record in the parent zone, in seconds (as Pipeline). @public */
export const DEFAULT_DELEGATION_TTL = 300;

/** A public hosted zone named `<org>.<baseDomain>`, as gathered. @public */
export interface ObservedZone {
  readonly id: string;
  readonly name: string;
  readonly callerReference: string;
  readonly comment?: string;
  readonly tags: Tags;
  /** The zone's delegation set (canonical names). */
  readonly nameServers: readonly string[];
  /** Record sets in the zone, apex SOA and NS included; `undefined` when unknown (never deleted then). */
  readonly recordSetCount?: number;
}

/** The planner's input: what {@link gatherOrganizationZone} read. @public */
export interface OrganizationZoneState {
  /** Every public zone named exactly `<org>.<baseDomain>`. */
  readonly zones: readonly ObservedZone[];
  /** The parent zone (named `baseDomain`). */
  readonly parent: { readonly id: string; readonly name: string };
  /** The NS record set named `<org>.<baseDomain>` in the parent zone, if any. */
  readonly delegation?: { readonly ttl?: number; readonly values: readonly string[] };
  /**
   * Every other record set the parent zone holds at `<org>.<baseDomain>` or below it (an `A` record at the
   * name, a `www.<org>.<baseDomain>` record, a sub-delegation): a delegation would hide them, so their
   * presence makes the name not the organisation's to take. Absent or empty when there are none.
   */
  readonly parentRecords?: readonly { readonly name: string; readonly type: string }[];
}

/** What the organisation should have. @public */
export interface OrganizationZoneDesired {
  readonly organization: string;
  readonly baseDomain: string;
  /** TTL of the delegation NS record, in seconds (default {@link DEFAULT_DELEGATION_TTL}). */
  readonly delegationTtl?: number;
  /**
   * The unique part of a new zone's CallerReference, from an injected random source so that the
   * planner stays pure (default `'0'`).
   */
  readonly nonce?: string;
}

/** Creates the zone, marked as ours atomically by its CallerReference and Comment. @public */
export interface CreateZoneStep {
  readonly op: 'create-zone';
  readonly zoneName: string;
  readonly organization: string;
  readonly callerReference: string;
  readonly comment: string;
}

/**
 * Adds the missing ownership tags. `zoneId` is `null` for the zone the plan's `create-zone` step creates.
 * `createdAt` says where `zonekeeper:created-at` comes from: `create-change` (the `SubmittedAt` of the
 * creating change, known at apply time), `caller-reference` (the planning instant encoded in our
 * CallerReference, seconds before creation: the zone's creating change cannot be read back), `now` (the
 * planning instant: nothing better is known) or `unchanged` (the tag is already there).
 * @public
 */
export interface TagZoneStep {
  readonly op: 'tag-zone';
  readonly zoneId: string | null;
  readonly tags: Tags;
  readonly createdAt: 'create-change' | 'caller-reference' | 'now' | 'unchanged';
  readonly reason: 'new-zone' | 'missing-tags';
}

/**
 * Creates or replaces the NS record `<org>.<baseDomain>` in the parent zone and waits until the change
 * is `INSYNC`. `nameServers` is `null` when they are those of the zone the plan creates.
 * @public
 */
export interface UpsertDelegationStep {
  readonly op: 'upsert-delegation';
  readonly parentZoneId: string;
  readonly parentZoneName: string;
  readonly recordName: string;
  readonly ttl: number;
  readonly nameServers: readonly string[] | null;
  /** The record it replaces, if any. */
  readonly previous?: { readonly ttl?: number; readonly values: readonly string[] };
}

/**
 * Deletes an empty, unprotected duplicate zone of the organisation (free within 12 hours of creation).
 * Right before deleting, the executor re-reads the parent delegation and refuses (`CONFLICT`) if it
 * points at this zone's name servers rather than the canonical zone's.
 * @public
 */
export interface DeleteDuplicateZoneStep {
  readonly op: 'delete-duplicate-zone';
  readonly zoneId: string;
  readonly zoneName: string;
  /** The duplicate's name servers. */
  readonly nameServers: readonly string[];
  readonly canonicalZoneId: string;
  /** The canonical zone's name servers (equal to the duplicate's only on emulators such as moto). */
  readonly canonicalNameServers: readonly string[];
  readonly parentZoneId: string;
}

/** A step of {@link planOrganizationZone}. @public */
export type OrganizationZoneStep =
  | CreateZoneStep
  | TagZoneStep
  | UpsertDelegationStep
  | DeleteDuplicateZoneStep;

/** The plan of {@link ensureOrganizationZone}. JSON data. @public */
export interface OrganizationZonePlan {
  readonly organization: string;
  readonly zoneName: string;
  /** The canonical zone's id; `null` when the plan creates the zone. */
  readonly zoneId: string | null;
  /** Other zones of this organisation (ours), canonical order; empty ones have a `delete-duplicate-zone` step. */
  readonly duplicates: readonly string[];
  readonly steps: readonly OrganizationZoneStep[];
}

function describe(ids: readonly string[]): string {
  return ids.join(', ');
}

/** The creation instant we believe a zone has, for picking the oldest. */
function ageOf(zone: ObservedZone, zoneName: string): number {
  const tagged = parseCreatedAt(zone.tags);
  if (tagged) return tagged.getTime();
  const planned = readCallerReference(zone.callerReference, zoneName).plannedAt;
  return planned ? planned.getTime() : Number.POSITIVE_INFINITY;
}

/**
 * Orders zones canonically: oldest first (the `zonekeeper:created-at` tag, else the instant in our
 * CallerReference, unknown last), then lowest id.
 * @public
 */
export function sortCanonically<Z extends ObservedZone>(zones: readonly Z[], zoneName: string): Z[] {
  return [...zones].sort((a, b) => {
    const d = ageOf(a, zoneName) - ageOf(b, zoneName);
    if (d !== 0 && !Number.isNaN(d)) return d < 0 ? -1 : 1;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}

/**
 * Whether a zone named `<org>.<baseDomain>` is zonekeeper's for `organization`: tagged
 * `zonekeeper:managed-by=zonekeeper` with this organisation, or created with our CallerReference for
 * this name (tags not yet written). A zone tagged for another organisation or another manager is not.
 * @public
 */
export function zoneOwnership(
  zone: Pick<ObservedZone, 'callerReference' | 'tags'>,
  zoneName: string,
  organization: string,
): 'ours' | 'not-owned' {
  const manager = zone.tags[ZoneTags.managedBy];
  const org = zone.tags[ZoneTags.organization];
  if (manager !== undefined && manager !== ZONEKEEPER_MANAGED_BY) return 'not-owned';
  if (isManagedTagged(zone.tags) && org !== undefined && org !== organization) return 'not-owned';
  if (isManagedTagged(zone.tags) && org === organization) return 'ours';
  return readCallerReference(zone.callerReference, zoneName).ours ? 'ours' : 'not-owned';
}

function repairTags(
  zone: ObservedZone,
  zoneName: string,
  organization: string,
  now: Date,
): TagZoneStep | undefined {
  const tags: Record<string, string> = {};
  if (zone.tags[ZoneTags.managedBy] !== ZONEKEEPER_MANAGED_BY)
    tags[ZoneTags.managedBy] = ZONEKEEPER_MANAGED_BY;
  if (zone.tags[ZoneTags.organization] !== organization) tags[ZoneTags.organization] = organization;
  let createdAt: TagZoneStep['createdAt'] = 'unchanged';
  if (!parseCreatedAt(zone.tags)) {
    const planned = readCallerReference(zone.callerReference, zoneName).plannedAt;
    tags[ZoneTags.createdAt] = (planned ?? now).toISOString();
    createdAt = planned ? 'caller-reference' : 'now';
  }
  if (Object.keys(tags).length === 0) return undefined;
  return { op: 'tag-zone', zoneId: zone.id, tags, createdAt, reason: 'missing-tags' };
}

/**
 * The organisation's name in the parent zone must be free or point at one of the organisation's own
 * zones: zonekeeper never replaces a delegation (or hides records) someone else put there.
 */
function refuseForeignParentNames(
  current: OrganizationZoneState,
  ours: readonly ObservedZone[],
  zoneName: string,
  organization: string,
): void {
  const others = current.parentRecords ?? [];
  if (others.length > 0) {
    const shown = others.slice(0, 5).map((r) => `${r.name} ${r.type}`);
    throw new ZonekeeperError(
      'NOT_OWNED',
      `The parent zone ${current.parent.name} already holds ${shown.join(', ')}${others.length > 5 ? ', …' : ''} at or below ${zoneName}; delegating ${zoneName} to organisation ${organization} would hide ${others.length === 1 ? 'it' : 'them'}, so zonekeeper refuses. Remove ${others.length === 1 ? 'that record' : 'those records'} or give the organisation another name.`,
      { details: { zoneName, organization, parentZoneId: current.parent.id, records: shown } },
    );
  }
  const delegation = current.delegation;
  if (delegation === undefined) return;
  const target = nameServerKey(delegation.values);
  if (ours.some((z) => nameServerKey(z.nameServers) === target)) return;
  throw new ZonekeeperError(
    'NOT_OWNED',
    `The parent zone ${current.parent.name} already delegates ${zoneName} to ${delegation.values.join(', ')}, which are the name servers of ${ours.length === 0 ? `no zone of organisation ${organization}` : `none of organisation ${organization}'s zones`}. zonekeeper never replaces a delegation it did not make: if it is a stale one, delete that NS record and run again; otherwise give the organisation another name.`,
    {
      details: {
        zoneName,
        organization,
        parentZoneId: current.parent.id,
        delegation: [...delegation.values],
      },
    },
  );
}

function isEmptyZone(zone: ObservedZone): boolean {
  return zone.recordSetCount !== undefined && zone.recordSetCount <= 2;
}

/**
 * Plans {@link ensureOrganizationZone}. Pure and deterministic: the same state, desired values and `now`
 * give the same plan.
 *
 * @throws ZonekeeperError `INVALID_INPUT` for a bad organisation, base domain, TTL or `now`;
 * `NOT_OWNED` when a zone with the organisation's name exists that zonekeeper does not own.
 * @public
 */
export function planOrganizationZone(
  current: OrganizationZoneState,
  desired: OrganizationZoneDesired,
  now: Date,
): OrganizationZonePlan {
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw invalidInput('now must be a valid Date.');
  const zoneName = organizationZoneName(desired.organization, desired.baseDomain);
  const organization = desired.organization;
  const ttl = desired.delegationTtl ?? DEFAULT_DELEGATION_TTL;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 172_800) {
    throw invalidInput(
      `Delegation TTL must be an integer number of seconds from 1 to 172800, got ${String(ttl)}.`,
    );
  }
  const zones = current.zones.filter((z) => z.name === zoneName);
  const foreign = zones.filter((z) => zoneOwnership(z, zoneName, organization) === 'not-owned');
  if (foreign.length > 0) {
    const ids = foreign.map((z) => z.id);
    throw new ZonekeeperError(
      'NOT_OWNED',
      `Hosted zone ${describe(ids)} is named ${zoneName} but is not zonekeeper's for organisation ${organization} (no matching zonekeeper tags or CallerReference). zonekeeper never adopts or changes such a zone: delete it, or move organisation ${organization} to another name.`,
      { details: { zoneName, organization, zoneIds: ids } },
    );
  }
  const ours = sortCanonically(zones, zoneName);
  refuseForeignParentNames(current, ours, zoneName, organization);
  const delegationBase = {
    op: 'upsert-delegation' as const,
    parentZoneId: current.parent.id,
    parentZoneName: current.parent.name,
    recordName: zoneName,
    ttl,
    ...(current.delegation ? { previous: current.delegation } : {}),
  };
  const canonical = ours[0];
  if (canonical === undefined) {
    const callerReference = organizationCallerReference(zoneName, now, desired.nonce ?? '0');
    return {
      organization,
      zoneName,
      zoneId: null,
      duplicates: [],
      steps: [
        {
          op: 'create-zone',
          zoneName,
          organization,
          callerReference,
          comment: organizationZoneComment(organization),
        },
        {
          op: 'tag-zone',
          zoneId: null,
          tags: { [ZoneTags.managedBy]: ZONEKEEPER_MANAGED_BY, [ZoneTags.organization]: organization },
          createdAt: 'create-change',
          reason: 'new-zone',
        },
        { ...delegationBase, nameServers: null },
      ],
    };
  }
  const duplicates = ours.slice(1);
  const deletable = duplicates.filter((d) => isEmptyZone(d) && d.tags[ZoneTags.protected] !== 'true');
  const kept = duplicates.filter((d) => !deletable.includes(d));
  const steps: OrganizationZoneStep[] = [];
  for (const zone of [canonical, ...kept]) {
    const step = repairTags(zone, zoneName, organization, now);
    if (step) steps.push(step);
  }
  const delegation = current.delegation;
  if (
    delegation === undefined ||
    delegation.ttl !== ttl ||
    nameServerKey(delegation.values) !== nameServerKey(canonical.nameServers)
  ) {
    steps.push({ ...delegationBase, nameServers: [...canonical.nameServers] });
  }
  for (const d of deletable) {
    steps.push({
      op: 'delete-duplicate-zone',
      zoneId: d.id,
      zoneName,
      nameServers: [...d.nameServers],
      canonicalZoneId: canonical.id,
      canonicalNameServers: [...canonical.nameServers],
      parentZoneId: current.parent.id,
    });
  }
  return { organization, zoneName, zoneId: canonical.id, duplicates: duplicates.map((d) => d.id), steps };
}
