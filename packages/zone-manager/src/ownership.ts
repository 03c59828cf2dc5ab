/**
 * How zonekeeper marks a hosted zone as its own: atomically at creation by its CallerReference and
 * Comment, and afterwards by tags.
 *
 * ```
 *  mark                      value                                           written
 *  CallerReference           zk1:<sha256(zone name)[0..15]>:<ms36>-<nonce>   with CreateHostedZone (atomic)
 *  Comment                   Managed by zonekeeper for organisation <org>    with CreateHostedZone (atomic)
 *  zonekeeper:managed-by     zonekeeper                                      ChangeTagsForResource
 *  zonekeeper:organization   <org>                                           ChangeTagsForResource
 *  zonekeeper:created-at     ISO 8601 SubmittedAt of the creating change     ChangeTagsForResource
 *  zonekeeper:protected      true (set by operators, never by zonekeeper)    —
 * ```
 *
 * A CallerReference is ours only for the zone name it was hashed from, so a reference copied onto
 * another name does not make that zone ours.
 *
 * @packageDocumentation
 */

import { createHash } from 'node:crypto';
import type { Tags } from './ports.js';

/** The tag keys zonekeeper reads and writes on hosted zones. @public */
export const ZoneTags = {
  /** Ownership: always {@link ZONEKEEPER_MANAGED_BY}. */
  managedBy: 'zonekeeper:managed-by',
  /** The organisation the zone belongs to. */
  organization: 'zonekeeper:organization',
  /** ISO 8601 instant Route 53 accepted the zone's creation (`SubmittedAt`). */
  createdAt: 'zonekeeper:created-at',
  /** `true` keeps the zone from garbage collection and deletion. Set by operators. */
  protected: 'zonekeeper:protected',
} as const;

/** The value of the `zonekeeper:managed-by` tag. @public */
export const ZONEKEEPER_MANAGED_BY = 'zonekeeper';

/** The first field of every CallerReference zonekeeper writes. @public */
export const CALLER_REFERENCE_PREFIX = 'zk1';

/** The comment written with a new organisation zone. @public */
export function organizationZoneComment(organization: string): string {
  return `Managed by zonekeeper for organisation ${organization}`;
}

function nameHash(zoneName: string): string {
  return createHash('sha256').update(zoneName).digest('hex').slice(0, 16);
}

/**
 * The CallerReference of a new zone: `zk1:<first 16 hex of sha256(zoneName)>:<now in ms, base 36>-<nonce>`
 * (at most 128 characters; the nonce is cut to 32). Pure: the same inputs give the same reference.
 * @public
 */
export function organizationCallerReference(zoneName: string, now: Date, nonce: string): string {
  const safeNonce = nonce.replace(/[^a-z0-9]/gi, '').slice(0, 32) || '0';
  return `${CALLER_REFERENCE_PREFIX}:${nameHash(zoneName)}:${now.getTime().toString(36)}-${safeNonce}`;
}

/** What a CallerReference says about a zone. @public */
export interface CallerReferenceFacts {
  /** True if zonekeeper created this zone under this name. */
  readonly ours: boolean;
  /** The planning instant encoded in the reference (seconds before the zone was created). */
  readonly plannedAt?: Date;
}

/**
 * Reads a CallerReference: is it one zonekeeper wrote for a zone named `zoneName`, and when?
 * @public
 */
export function readCallerReference(callerReference: string, zoneName: string): CallerReferenceFacts {
  const prefix = `${CALLER_REFERENCE_PREFIX}:${nameHash(zoneName)}:`;
  if (!callerReference.startsWith(prefix)) return { ours: false };
  const stamp = /^([0-9a-z]{1,12})-/.exec(callerReference.slice(prefix.length));
  const ms = stamp ? Number.parseInt(stamp[1] as string, 36) : Number.NaN;
  return Number.isFinite(ms) && ms > 0 ? { ours: true, plannedAt: new Date(ms) } : { ours: true };
}

/** Parses the `zonekeeper:created-at` tag; `undefined` when absent or not a date. @internal */
export function parseCreatedAt(tags: Tags): Date | undefined {
  const raw = tags[ZoneTags.createdAt];
  if (raw === undefined) return undefined;
  const d = new Date(raw);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** True when the tags mark the zone as managed by zonekeeper. @internal */
export function isManagedTagged(tags: Tags): boolean {
  return tags[ZoneTags.managedBy] === ZONEKEEPER_MANAGED_BY;
}
