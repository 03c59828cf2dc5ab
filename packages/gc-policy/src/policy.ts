/**
 * The billing-aware garbage-collection decision for Route 53 hosted zones. Pure: no I/O, no clock, no
 * logging; every instant is UTC and the host's time zone never changes a result.
 *
 * Route 53 bills a hosted zone when it is created (waived if the zone is deleted within 12 hours) and
 * again at 00:00 UTC on the first day of every later month; charges are not prorated. So an unused zone
 * is deleted while it is still free, or else kept (its month is paid for) until just before the next
 * charge, in case an organisation's cluster comes back. See docs/billing-model.md.
 *
 * ```
 *  rule  condition (first match wins)                            action  reason
 *  1     not managed                                             keep    NOT_MANAGED
 *  2     protected                                               keep    PROTECTED
 *  3     in use                                                  keep    IN_USE
 *  4     createdAt > now + clockSkewTolerance                    keep    CLOCK_SKEW
 *  5     createdAt known, age < freeWindow − freeMargin          delete  FREE_DELETION_WINDOW
 *  6     now ≥ nextChargeAt(now) − chargeLeadTime                delete  BEFORE_NEXT_CHARGE
 *  7     otherwise                                               defer   ALREADY_CHARGED (eligibleAt = nextCharge − lead)
 * ```
 *
 * @packageDocumentation
 */

import { UTCDate } from '@date-fns/utc';
import { invalidInput } from '@zonekeeper/core';
import { addMonths, startOfMonth } from 'date-fns';

/** Facts about one hosted zone, gathered by the caller. @public */
export interface ZoneFacts {
  /** The hosted zone id; non-empty. */
  readonly zoneId: string;
  /** Creation instant; `undefined` = unknown. */
  readonly createdAt?: Date;
  /** The organisation has at least one running cluster. */
  readonly inUse: boolean;
  /** The zone carries zonekeeper's ownership tag. */
  readonly managed: boolean;
  /** Explicitly protected from collection. */
  readonly protected?: boolean;
}

/** Tunables of the policy; all optional, in milliseconds. @public */
export interface GcPolicyOptions {
  /** Default 43 200 000 (12 h): a zone deleted within 12 h of creation is free. */
  readonly freeDeletionWindowMs?: number;
  /** Default 900 000 (15 min) kept in hand for the deletion itself. */
  readonly freeDeletionMarginMs?: number;
  /** Default 3 600 000 (1 h): delete this long before the next charge. Must be > 0 and < 28 days. */
  readonly chargeLeadTimeMs?: number;
  /** Default 300 000 (5 min): a `createdAt` at most this far in the future counts as age 0. */
  readonly clockSkewToleranceMs?: number;
}

/** What to do with a zone. @public */
export type ZoneAction = 'keep' | 'delete' | 'defer';

/** Why. One reason per rule. @public */
export type ZoneDecisionReason =
  | 'NOT_MANAGED'
  | 'PROTECTED'
  | 'IN_USE'
  | 'CLOCK_SKEW'
  | 'FREE_DELETION_WINDOW'
  | 'BEFORE_NEXT_CHARGE'
  | 'ALREADY_CHARGED';

/** The decision for one zone. @public */
export interface ZoneDecision {
  readonly zoneId: string;
  readonly action: ZoneAction;
  readonly reason: ZoneDecisionReason;
  /** One plain sentence a person can read in a log or a table. */
  readonly message: string;
  /** Equals `nextChargeAt(now)`. */
  readonly nextChargeAt: Date;
  /** Present if and only if `action === 'defer'`: when the zone becomes eligible for deletion. */
  readonly eligibleAt?: Date;
}

/** The decisions for a set of zones. @public */
export interface GcPlan {
  readonly now: Date;
  /** Same order as the input. */
  readonly decisions: readonly ZoneDecision[];
  /** zoneIds of `delete` decisions, in input order. */
  readonly toDelete: readonly string[];
  /** Earliest `eligibleAt` among `defer` decisions; absent when nothing is deferred. */
  readonly nextReviewAt?: Date;
}

/** The defaults of {@link GcPolicyOptions}. @public */
export const defaultGcPolicyOptions: Readonly<Required<GcPolicyOptions>> = Object.freeze({
  freeDeletionWindowMs: 43_200_000,
  freeDeletionMarginMs: 900_000,
  chargeLeadTimeMs: 3_600_000,
  clockSkewToleranceMs: 300_000,
});

const DAY_MS = 86_400_000;
const MAX_LEAD_MS = 28 * DAY_MS;

function isValidDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

function checkNow(now: unknown): asserts now is Date {
  if (!isValidDate(now)) throw invalidInput(`now must be a valid Date, got ${describeValue(now)}.`);
}

function describeValue(value: unknown): string {
  if (value instanceof Date) return 'an invalid Date';
  if (value === null) return 'null';
  return typeof value === 'string' ? `the string ${JSON.stringify(value)}` : `a ${typeof value}`;
}

function resolveOptions(options: GcPolicyOptions | undefined): Required<GcPolicyOptions> {
  if (options === undefined) return defaultGcPolicyOptions;
  if (typeof options !== 'object' || options === null)
    throw invalidInput(`GC policy options must be an object, got ${describeValue(options)}.`);
  const resolved = { ...defaultGcPolicyOptions };
  for (const key of Object.keys(defaultGcPolicyOptions) as (keyof GcPolicyOptions)[]) {
    const value = options[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw invalidInput(
        `GC policy option ${key} must be a finite number ≥ 0 (milliseconds), got ${typeof value === 'number' ? value : describeValue(value)}.`,
        { option: key },
      );
    }
    resolved[key] = value;
  }
  if (resolved.freeDeletionMarginMs > resolved.freeDeletionWindowMs) {
    throw invalidInput(
      `GC policy option freeDeletionMarginMs (${resolved.freeDeletionMarginMs}) must not exceed freeDeletionWindowMs (${resolved.freeDeletionWindowMs}).`,
      { option: 'freeDeletionMarginMs' },
    );
  }
  if (resolved.chargeLeadTimeMs === 0) {
    throw invalidInput(
      'GC policy option chargeLeadTimeMs must be greater than 0; a zero lead time would postpone deletion forever.',
      { option: 'chargeLeadTimeMs' },
    );
  }
  if (resolved.chargeLeadTimeMs >= MAX_LEAD_MS) {
    throw invalidInput(
      `GC policy option chargeLeadTimeMs must be less than 28 days (${MAX_LEAD_MS} ms), got ${resolved.chargeLeadTimeMs}.`,
      { option: 'chargeLeadTimeMs' },
    );
  }
  return resolved;
}

function checkZone(zone: ZoneFacts, index?: number): void {
  const where = index === undefined ? 'Zone' : `Zone #${index + 1}`;
  if (typeof zone !== 'object' || zone === null)
    throw invalidInput(`${where} must be an object, got ${describeValue(zone)}.`);
  if (typeof zone.zoneId !== 'string' || zone.zoneId.length === 0) {
    throw invalidInput(`${where} has an empty or missing zoneId.`, index === undefined ? {} : { index });
  }
  const id = zone.zoneId;
  if (zone.createdAt !== undefined && !isValidDate(zone.createdAt)) {
    throw invalidInput(
      `Zone ${id}: createdAt must be a valid Date or undefined, got ${describeValue(zone.createdAt)}.`,
      { zoneId: id },
    );
  }
  for (const flag of ['inUse', 'managed'] as const) {
    if (typeof zone[flag] !== 'boolean')
      throw invalidInput(`Zone ${id}: ${flag} must be a boolean, got ${describeValue(zone[flag])}.`, {
        zoneId: id,
      });
  }
  if (zone.protected !== undefined && typeof zone.protected !== 'boolean') {
    throw invalidInput(
      `Zone ${id}: protected must be a boolean or undefined, got ${describeValue(zone.protected)}.`,
      { zoneId: id },
    );
  }
}

/**
 * The next Route 53 monthly charge after `now`: 00:00:00.000 UTC on the first day of the UTC month after
 * `now`'s UTC month. At exactly 2026-03-01T00:00:00.000Z it is 2026-04-01T00:00:00.000Z (that instant is
 * itself a charge, already past).
 * @throws `INVALID_INPUT` if `now` is not a valid Date.
 * @public
 */
export function nextChargeAt(now: Date): Date {
  checkNow(now);
  return nextChargeMs(now.getTime());
}

function nextChargeMs(nowMs: number): Date {
  return new Date(startOfMonth(addMonths(new UTCDate(nowMs), 1)).getTime());
}

function formatDuration(ms: number): string {
  const totalMinutes = Math.floor(ms / 60_000);
  const days = Math.floor(totalMinutes / 1440);
  const hours = Math.floor((totalMinutes % 1440) / 60);
  const minutes = totalMinutes % 60;
  const parts = [
    days > 0 ? `${days} d` : '',
    hours > 0 ? `${hours} h` : '',
    minutes > 0 ? `${minutes} min` : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(' ') : `${Math.floor(ms / 1000)} s`;
}

/** What every decision of one plan shares: `now`, the next charge and their readable forms. */
interface DecisionContext {
  readonly nowMs: number;
  readonly o: Required<GcPolicyOptions>;
  readonly nextChargeMs: number;
  readonly eligibleMs: number;
  readonly nextChargeIso: string;
  readonly eligibleIso: string;
}

function context(nowMs: number, o: Required<GcPolicyOptions>): DecisionContext {
  const next = nextChargeMs(nowMs).getTime();
  const eligibleMs = next - o.chargeLeadTimeMs;
  return {
    nowMs,
    o,
    nextChargeMs: next,
    eligibleMs,
    nextChargeIso: new Date(next).toISOString(),
    eligibleIso: new Date(eligibleMs).toISOString(),
  };
}

function decision(
  zoneId: string,
  c: DecisionContext,
  action: 'keep' | 'delete',
  reason: ZoneDecisionReason,
  message: string,
): ZoneDecision {
  return { zoneId, action, reason, message, nextChargeAt: new Date(c.nextChargeMs) };
}

/** The decision for a validated zone (shared by plan and decide). */
function decide(zone: ZoneFacts, c: DecisionContext): ZoneDecision {
  const id = zone.zoneId;
  const { nowMs, o } = c;
  if (!zone.managed)
    return decision(
      id,
      c,
      'keep',
      'NOT_MANAGED',
      `Zone ${id} is not managed by zonekeeper, so it is never collected.`,
    );
  if (zone.protected === true)
    return decision(id, c, 'keep', 'PROTECTED', `Zone ${id} is protected from collection.`);
  if (zone.inUse)
    return decision(id, c, 'keep', 'IN_USE', `Zone ${id} is in use by at least one running cluster.`);
  const createdMs = zone.createdAt?.getTime();
  if (createdMs !== undefined && createdMs > nowMs + o.clockSkewToleranceMs) {
    return decision(
      id,
      c,
      'keep',
      'CLOCK_SKEW',
      `Zone ${id} was created at ${new Date(createdMs).toISOString()}, more than ${formatDuration(o.clockSkewToleranceMs)} after now (${new Date(nowMs).toISOString()}), so it is kept until the clocks agree.`,
    );
  }
  if (createdMs !== undefined) {
    const age = Math.max(0, nowMs - createdMs);
    if (age < o.freeDeletionWindowMs - o.freeDeletionMarginMs) {
      return decision(
        id,
        c,
        'delete',
        'FREE_DELETION_WINDOW',
        `Zone ${id} is unused and ${formatDuration(age)} old, so deleting it now is free (zones deleted within ${formatDuration(o.freeDeletionWindowMs)} of creation are not charged).`,
      );
    }
  }
  if (nowMs >= c.eligibleMs) {
    return decision(
      id,
      c,
      'delete',
      'BEFORE_NEXT_CHARGE',
      `Zone ${id} is unused and the next monthly charge is at ${c.nextChargeIso}, so deleting it now avoids that charge.`,
    );
  }
  return {
    zoneId: id,
    action: 'defer',
    reason: 'ALREADY_CHARGED',
    message: `Zone ${id} is unused but its month is already paid for, so it is kept until ${c.eligibleIso}, just before the next charge at ${c.nextChargeIso}.`,
    nextChargeAt: new Date(c.nextChargeMs),
    eligibleAt: new Date(c.eligibleMs),
  };
}

/**
 * Decides what to do with one zone at `now` (see the rule table in the module notes).
 * @throws `INVALID_INPUT` for an invalid `now`, zone or option.
 * @public
 */
export function decideZoneFate(zone: ZoneFacts, now: Date, options?: GcPolicyOptions): ZoneDecision {
  checkNow(now);
  const o = resolveOptions(options);
  checkZone(zone);
  return decide(zone, context(now.getTime(), o));
}

/**
 * Decides for every zone at `now`. Decisions keep the input order; `toDelete` lists the zones to delete
 * and `nextReviewAt` is the earliest instant at which a deferred zone becomes eligible.
 * @throws `INVALID_INPUT` for an invalid `now`, zone or option, or duplicate zoneIds. Nothing is decided
 * when any input is invalid.
 * @public
 */
export function planGarbageCollection(
  zones: readonly ZoneFacts[],
  now: Date,
  options?: GcPolicyOptions,
): GcPlan {
  checkNow(now);
  const o = resolveOptions(options);
  if (!Array.isArray(zones)) throw invalidInput(`zones must be an array, got ${describeValue(zones)}.`);
  const seen = new Set<string>();
  for (const [i, zone] of zones.entries()) {
    checkZone(zone, i);
    if (seen.has(zone.zoneId))
      throw invalidInput(`Zone ${zone.zoneId} appears more than once; each zoneId must be unique.`, {
        zoneId: zone.zoneId,
      });
    seen.add(zone.zoneId);
  }
  const nowMs = now.getTime();
  const c = context(nowMs, o);
  const decisions = zones.map((zone) => decide(zone, c));
  const toDelete: string[] = [];
  let review: number | undefined;
  for (const d of decisions) {
    if (d.action === 'delete') toDelete.push(d.zoneId);
    else if (d.eligibleAt !== undefined && (review === undefined || d.eligibleAt.getTime() < review))
      review = d.eligibleAt.getTime();
  }
  return {
    now: new Date(nowMs),
    decisions,
    toDelete,
    ...(review === undefined ? {} : { nextReviewAt: new Date(review) }),
  };
}
