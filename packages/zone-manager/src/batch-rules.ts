/**
 * Route 53's change-batch rules (`InvalidChangeBatch`) as one pure function, shared by every provider
 * that must enforce them itself: the memory provider, and adapters over APIs with weaker semantics
 * (PowerDNS's `PATCH` has only REPLACE and DELETE, so CREATE-must-not-exist and DELETE-must-match are
 * checked here against the records just read).
 *
 * ```
 *  rule                                                          result
 *  a batch changes one record set twice                          CONFLICT
 *  a name outside the zone                                       CONFLICT
 *  A / AAAA values that are not IPv4 / IPv6 addresses            CONFLICT
 *  TXT / SPF values not enclosed in quotation marks              CONFLICT
 *  a CNAME at the apex, with several values, or beside any other type at its name   CONFLICT
 *  an SOA anywhere but the apex                                  CONFLICT
 *  CREATE of a record set that exists                            CONFLICT ("… already exists")
 *  DELETE of a missing record set, or with other TTL / values    CONFLICT
 *  DELETE of the apex SOA or NS                                  CONFLICT
 *  more than `limits` ResourceRecord elements or value characters   CONFLICT (UPSERT counts twice)
 * ```
 *
 * @packageDocumentation
 */

import { isIPv4, isIPv6 } from 'node:net';
import { isWithinDomain, ZonekeeperError } from '@zonekeeper/core';
import { compareDnsNames } from './names.js';
import type { RecordChange, RecordSet } from './ports.js';

/** How a provider applies {@link applyChangeBatch}. @internal */
export interface ChangeBatchRules {
  /** Starts every message, e.g. `memory DNS`. */
  readonly who: string;
  /** Route 53's batch size limits; absent: none. */
  readonly limits?: { readonly elements: number; readonly characters: number };
  /**
   * The comparison form of one value (default: the value itself), so that a provider that stores values
   * normalised (PowerDNS: absolute names, compressed IPv6) matches a DELETE written the other way.
   */
  readonly valueKey?: (type: string, value: string) => string;
}

/** Route 53's limits of one change batch. @internal */
export const ROUTE53_BATCH_LIMITS = { elements: 1000, characters: 32_000 } as const;

const QUOTED_TXT = /^"(?:[^"\\]|\\.)*"(?:\s+"(?:[^"\\]|\\.)*")*$/;

/** The identity of a record set: name, type, set identifier. @internal */
export function recordKey(r: {
  readonly name: string;
  readonly type: string;
  readonly setIdentifier?: string;
}): string {
  return `${r.name}\u0000${r.type}\u0000${r.setIdentifier ?? ''}`;
}

/** Route 53's listing order: name (labels from the right), then type, then set identifier. @internal */
export function compareRecords(a: RecordSet, b: RecordSet): number {
  return (
    compareDnsNames(a.name, b.name) ||
    (a.type < b.type ? -1 : a.type > b.type ? 1 : 0) ||
    ((a.setIdentifier ?? '') < (b.setIdentifier ?? '')
      ? -1
      : (a.setIdentifier ?? '') > (b.setIdentifier ?? '')
        ? 1
        : 0)
  );
}

/** A deep copy of a record set. @internal */
export function copyRecord(r: RecordSet): RecordSet {
  return {
    name: r.name,
    type: r.type,
    ...(r.ttl === undefined ? {} : { ttl: r.ttl }),
    values: [...r.values],
    ...(r.aliasTarget === undefined ? {} : { aliasTarget: { ...r.aliasTarget } }),
    ...(r.setIdentifier === undefined ? {} : { setIdentifier: r.setIdentifier }),
    ...(r.providerFields === undefined ? {} : { providerFields: structuredClone(r.providerFields) }),
  };
}

function sameRecord(a: RecordSet, b: RecordSet, valueKey: (type: string, value: string) => string): boolean {
  const values = (r: RecordSet) => JSON.stringify(r.values.map((v) => valueKey(r.type, v)).sort());
  const alias = (r: RecordSet) =>
    r.aliasTarget === undefined
      ? ''
      : JSON.stringify([
          r.aliasTarget.hostedZoneId,
          r.aliasTarget.dnsName,
          r.aliasTarget.evaluateTargetHealth,
        ]);
  return a.ttl === b.ttl && values(a) === values(b) && alias(a) === alias(b);
}

/** `[name='x.example.com.', type='A']`, as Route 53 names a record set in its messages. @internal */
export function describeRecord(r: RecordSet): string {
  return `[name='${r.name}.', type='${r.type}'${r.setIdentifier === undefined ? '' : `, set-identifier='${r.setIdentifier}'`}]`;
}

/**
 * Applies a validated batch to a copy of `records` (keyed by {@link recordKey}) and returns the copy,
 * or throws `CONFLICT` for the first broken rule; `records` is never modified.
 * @internal
 */
export function applyChangeBatch(
  zone: { readonly id: string; readonly name: string },
  records: ReadonlyMap<string, RecordSet>,
  batch: readonly RecordChange[],
  rules: ChangeBatchRules,
): Map<string, RecordSet> {
  const valueKey = rules.valueKey ?? ((_: string, v: string) => v);
  const conflict = (message: string) =>
    new ZonekeeperError(
      'CONFLICT',
      `${rules.who}: invalid change batch for zone ${zone.id} (${zone.name}): ${message}. Nothing was changed; read the zone again and fix the batch.`,
      { details: { zoneId: zone.id } },
    );
  if (rules.limits) {
    let elements = 0;
    let chars = 0;
    for (const c of batch) {
      const weight = c.action === 'UPSERT' ? 2 : 1;
      elements += weight * Math.max(1, c.recordSet.values.length);
      chars += weight * c.recordSet.values.reduce((n, v) => n + v.length, 0);
    }
    if (elements > rules.limits.elements) {
      throw conflict(
        `the batch has ${elements} ResourceRecord elements (UPSERT counts twice); the limit is ${rules.limits.elements}`,
      );
    }
    if (chars > rules.limits.characters) {
      throw conflict(
        `the batch has ${chars} characters of values (UPSERT counts twice); the limit is ${rules.limits.characters}`,
      );
    }
  }
  const next = new Map(records);
  const seen = new Set<string>();
  const touched = new Set<string>();
  for (const { action, recordSet } of batch) {
    const key = recordKey(recordSet);
    if (seen.has(key)) throw conflict(`the batch changes ${describeRecord(recordSet)} more than once`);
    seen.add(key);
    touched.add(recordSet.name);
    if (!isWithinDomain(recordSet.name, zone.name)) {
      throw conflict(`RRSet with DNS name ${recordSet.name}. is not permitted in zone ${zone.name}.`);
    }
    const apex = recordSet.name === zone.name;
    if (action !== 'DELETE') {
      if (recordSet.type === 'A' && !recordSet.values.every((v) => isIPv4(v))) {
        throw conflict(
          `ARRDATAIllegalIPv4Address: a value of ${describeRecord(recordSet)} is not a valid IPv4 address`,
        );
      }
      if (recordSet.type === 'AAAA' && !recordSet.values.every((v) => isIPv6(v))) {
        throw conflict(
          `AAAARRDATAIllegalIPv6Address: a value of ${describeRecord(recordSet)} is not a valid IPv6 address`,
        );
      }
      if (
        (recordSet.type === 'TXT' || recordSet.type === 'SPF') &&
        !recordSet.values.every((v) => QUOTED_TXT.test(v))
      ) {
        throw conflict(
          `Invalid Resource Record: InvalidCharacterString (Value should be enclosed in quotation marks) in ${describeRecord(recordSet)}`,
        );
      }
      if (recordSet.type === 'CNAME' && (apex || recordSet.values.length > 1)) {
        throw conflict(
          `${describeRecord(recordSet)}: a CNAME must have one value and cannot be at the zone apex`,
        );
      }
      if (recordSet.type === 'SOA' && !apex) {
        throw conflict(`${describeRecord(recordSet)}: an SOA record can only be at the zone apex`);
      }
    }
    const existing = next.get(key);
    if (action === 'CREATE') {
      if (existing) {
        throw conflict(
          `Tried to create resource record set ${describeRecord(recordSet)} but it already exists`,
        );
      }
      next.set(key, copyRecord(recordSet));
    } else if (action === 'UPSERT') {
      next.set(key, copyRecord(recordSet));
    } else {
      if (!existing) {
        throw conflict(
          `Tried to delete resource record set ${describeRecord(recordSet)} but it was not found`,
        );
      }
      if (!sameRecord(existing, recordSet, valueKey)) {
        throw conflict(
          `Tried to delete resource record set ${describeRecord(recordSet)} but the values provided do not match the current values`,
        );
      }
      if (apex && (recordSet.type === 'SOA' || recordSet.type === 'NS')) {
        throw conflict(`the apex ${recordSet.type} record of a hosted zone cannot be deleted`);
      }
      next.delete(key);
    }
  }
  for (const name of touched) {
    const types = new Set([...next.values()].filter((r) => r.name === name).map((r) => r.type));
    if (types.has('CNAME') && types.size > 1) {
      throw conflict(
        `RRSet of type CNAME with DNS name ${name}. is not permitted as it conflicts with other records with the same DNS name`,
      );
    }
  }
  return next;
}
