/**
 * The pure planner of {@link deleteOrganizationZone}: the parent's NS delegation first (only if it still
 * points at this zone, so a dangling delegation is never left for someone to hijack), then every record
 * except the apex SOA and NS in batches within Route 53's limits, then the zone.
 *
 * @packageDocumentation
 */

import { ZonekeeperError } from '@zonekeeper/core';
import { nameServerKey } from './names.js';
import { isManagedTagged, ZoneTags } from './ownership.js';
import type { RecordSet, Tags } from './ports.js';

/** Route 53's limit of `ResourceRecord` elements per change batch. @public */
export const MAX_BATCH_RECORDS = 1000;
/** Route 53's limit of characters in all `Value` elements of a change batch. @public */
export const MAX_BATCH_CHARACTERS = 32_000;

/** The planner's input: what {@link gatherZoneDeletion} read. @public */
export interface ZoneDeletionState {
  /** The zone; absent when it no longer exists (the plan is then empty). */
  readonly zone?: {
    readonly id: string;
    readonly name: string;
    readonly nameServers: readonly string[];
    readonly tags: Tags;
  };
  /** NS record sets named like the zone in every public zone named like its parent. */
  readonly delegations: readonly {
    readonly parentZoneId: string;
    readonly parentZoneName: string;
    readonly record: RecordSet;
  }[];
  /** Every record set of the zone (apex SOA and NS included; they are kept). */
  readonly records: readonly RecordSet[];
}

/** Removes the delegation NS record from a parent zone (and waits until it is `INSYNC`). @public */
export interface DeleteDelegationStep {
  readonly op: 'delete-delegation';
  readonly parentZoneId: string;
  readonly parentZoneName: string;
  readonly record: RecordSet;
}

/** Deletes one batch of record sets (within {@link MAX_BATCH_RECORDS} and {@link MAX_BATCH_CHARACTERS}). @public */
export interface DeleteRecordsStep {
  readonly op: 'delete-records';
  readonly zoneId: string;
  readonly records: readonly RecordSet[];
}

/** Deletes the (now empty) zone. @public */
export interface DeleteZoneStep {
  readonly op: 'delete-zone';
  readonly zoneId: string;
  readonly zoneName: string;
}

/** A step of {@link planZoneDeletion}. @public */
export type ZoneDeletionStep = DeleteDelegationStep | DeleteRecordsStep | DeleteZoneStep;

/** The plan of {@link deleteOrganizationZone}. JSON data. @public */
export interface ZoneDeletionPlan {
  readonly zoneId: string;
  readonly steps: readonly ZoneDeletionStep[];
  /** Delegations left alone because they point at other name servers. */
  readonly keptDelegations: readonly { readonly parentZoneId: string; readonly values: readonly string[] }[];
}

/** Options of {@link planZoneDeletion} and {@link batchRecordChanges}. @public */
export interface BatchLimits {
  /** Default {@link MAX_BATCH_RECORDS}. */
  readonly maxRecords?: number;
  /** Default {@link MAX_BATCH_CHARACTERS}. */
  readonly maxCharacters?: number;
}

/**
 * Splits record sets into DELETE batches that respect Route 53's per-request limits: at most
 * `maxRecords` `ResourceRecord` elements (an alias record counts as one) and `maxCharacters` characters of
 * values. Order is kept. A record set that alone exceeds a limit gets a batch of its own.
 * @public
 */
export function batchRecordChanges(records: readonly RecordSet[], limits: BatchLimits = {}): RecordSet[][] {
  const maxRecords = limits.maxRecords ?? MAX_BATCH_RECORDS;
  const maxCharacters = limits.maxCharacters ?? MAX_BATCH_CHARACTERS;
  const batches: RecordSet[][] = [];
  let batch: RecordSet[] = [];
  let elements = 0;
  let characters = 0;
  for (const r of records) {
    const e = Math.max(1, r.values.length);
    const c = r.values.reduce((n, v) => n + v.length, 0);
    if (batch.length > 0 && (elements + e > maxRecords || characters + c > maxCharacters)) {
      batches.push(batch);
      batch = [];
      elements = 0;
      characters = 0;
    }
    batch.push(r);
    elements += e;
    characters += c;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/**
 * Plans {@link deleteOrganizationZone}. Pure.
 *
 * @throws ZonekeeperError `NOT_OWNED` when the zone does not carry `zonekeeper:managed-by=zonekeeper`;
 * `CONFLICT` when it is tagged `zonekeeper:protected=true`.
 * @public
 */
export function planZoneDeletion(
  current: ZoneDeletionState,
  zoneId: string,
  limits: BatchLimits = {},
): ZoneDeletionPlan {
  const zone = current.zone;
  if (zone === undefined) return { zoneId, steps: [], keptDelegations: [] };
  if (!isManagedTagged(zone.tags)) {
    throw new ZonekeeperError(
      'NOT_OWNED',
      `Hosted zone ${zone.id} (${zone.name}) does not carry the tag ${ZoneTags.managedBy}=zonekeeper; zonekeeper deletes only zones it manages. Delete it yourself if it must go.`,
      { details: { zoneId: zone.id, zoneName: zone.name } },
    );
  }
  if (zone.tags[ZoneTags.protected] === 'true') {
    throw new ZonekeeperError(
      'CONFLICT',
      `Hosted zone ${zone.id} (${zone.name}) is protected (${ZoneTags.protected}=true); remove that tag first if it really must be deleted.`,
      { details: { zoneId: zone.id, zoneName: zone.name } },
    );
  }
  const ours = nameServerKey(zone.nameServers);
  const steps: ZoneDeletionStep[] = [];
  const keptDelegations: { parentZoneId: string; values: readonly string[] }[] = [];
  for (const d of current.delegations) {
    if (d.record.type !== 'NS' || d.record.name !== zone.name) continue;
    if (nameServerKey(d.record.values) === ours) {
      steps.push({
        op: 'delete-delegation',
        parentZoneId: d.parentZoneId,
        parentZoneName: d.parentZoneName,
        record: d.record,
      });
    } else {
      keptDelegations.push({ parentZoneId: d.parentZoneId, values: d.record.values });
    }
  }
  const records = current.records.filter(
    (r) => !(r.name === zone.name && (r.type === 'SOA' || r.type === 'NS')),
  );
  for (const batch of batchRecordChanges(records, limits)) {
    steps.push({ op: 'delete-records', zoneId: zone.id, records: batch });
  }
  steps.push({ op: 'delete-zone', zoneId: zone.id, zoneName: zone.name });
  return { zoneId: zone.id, steps, keptDelegations };
}
