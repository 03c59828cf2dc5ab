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

import { invalidInput, type ZonekeeperError } from '@zonekeeper/core';

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
  /**
   * Same order as the input. Built on first read and then kept (an enumerable getter, so spreading,
   * `JSON.stringify` and deep equality see it like any property), from what the plan recorded while
   * deciding: mutating the input afterwards does not change it.
   */
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
  const d = new Date(nowMs);
  // setUTCFullYear, unlike Date.UTC, keeps years 0–99 as they are; month 12 rolls into the next year.
  d.setUTCFullYear(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  d.setUTCHours(0, 0, 0, 0);
  return d;
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

// Reason codes of the one-pass classification, in rule order.
const NOT_MANAGED = 0;
const PROTECTED = 1;
const IN_USE = 2;
const CLOCK_SKEW = 3;
const FREE_DELETION_WINDOW = 4;
const BEFORE_NEXT_CHARGE = 5;
const ALREADY_CHARGED = 6;

/** The rule chain on plain values: which rule decides (a reason code). */
function classify(
  managed: boolean,
  isProtected: boolean,
  inUse: boolean,
  createdMs: number,
  c: DecisionContext,
): number {
  if (!managed) return NOT_MANAGED;
  if (isProtected) return PROTECTED;
  if (inUse) return IN_USE;
  const nowMs = c.nowMs;
  if (!Number.isNaN(createdMs)) {
    if (createdMs > nowMs + c.o.clockSkewToleranceMs) return CLOCK_SKEW;
    if (Math.max(0, nowMs - createdMs) < c.o.freeDeletionWindowMs - c.o.freeDeletionMarginMs)
      return FREE_DELETION_WINDOW;
  }
  return nowMs >= c.eligibleMs ? BEFORE_NEXT_CHARGE : ALREADY_CHARGED;
}

/** The decision object (with its sentence) for a zone classified as `code`. */
function build(id: string, code: number, createdMs: number, c: DecisionContext): ZoneDecision {
  const { nowMs, o } = c;
  const nextChargeAt = new Date(c.nextChargeMs);
  switch (code) {
    case NOT_MANAGED:
      return {
        zoneId: id,
        action: 'keep',
        reason: 'NOT_MANAGED',
        message: `Zone ${id} is not managed by zonekeeper, so it is never collected.`,
        nextChargeAt,
      };
    case PROTECTED:
      return {
        zoneId: id,
        action: 'keep',
        reason: 'PROTECTED',
        message: `Zone ${id} is protected from collection.`,
        nextChargeAt,
      };
    case IN_USE:
      return {
        zoneId: id,
        action: 'keep',
        reason: 'IN_USE',
        message: `Zone ${id} is in use by at least one running cluster.`,
        nextChargeAt,
      };
    case CLOCK_SKEW:
      return {
        zoneId: id,
        action: 'keep',
        reason: 'CLOCK_SKEW',
        message: `Zone ${id} was created at ${new Date(createdMs).toISOString()}, more than ${formatDuration(o.clockSkewToleranceMs)} after now (${new Date(nowMs).toISOString()}), so it is kept until the clocks agree.`,
        nextChargeAt,
      };
    case FREE_DELETION_WINDOW:
      return {
        zoneId: id,
        action: 'delete',
        reason: 'FREE_DELETION_WINDOW',
        message: `Zone ${id} is unused and ${formatDuration(Math.max(0, nowMs - createdMs))} old, so deleting it now is free (zones deleted within ${formatDuration(o.freeDeletionWindowMs)} of creation are not charged).`,
        nextChargeAt,
      };
    case BEFORE_NEXT_CHARGE:
      return {
        zoneId: id,
        action: 'delete',
        reason: 'BEFORE_NEXT_CHARGE',
        message: `Zone ${id} is unused and the next monthly charge is at ${c.nextChargeIso}, so deleting it now avoids that charge.`,
        nextChargeAt,
      };
    default:
      return {
        zoneId: id,
        action: 'defer',
        reason: 'ALREADY_CHARGED',
        message: `Zone ${id} is unused but its month is already paid for, so it is kept until ${c.eligibleIso}, just before the next charge at ${c.nextChargeIso}.`,
        nextChargeAt,
        eligibleAt: new Date(c.eligibleMs),
      };
  }
}

/** The decision for a validated zone. */
function decide(zone: ZoneFacts, c: DecisionContext): ZoneDecision {
  const createdMs = zone.createdAt === undefined ? Number.NaN : zone.createdAt.getTime();
  const code = classify(zone.managed, zone.protected === true, zone.inUse, createdMs, c);
  return build(zone.zoneId, code, createdMs, c);
}

/** A 32-bit hash of a zone id (FNV-1a over pairs of UTF-16 units, then murmur3's finaliser). */
function hashId(id: string): number {
  let h = 0x811c9dc5 | 0;
  const length = id.length;
  let k = 0;
  for (; k + 1 < length; k += 2)
    h = Math.imul(h ^ (id.charCodeAt(k) | (id.charCodeAt(k + 1) << 16)), 0x01000193);
  if (k < length) h = Math.imul(h ^ id.charCodeAt(k), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * The first index `i < n` whose id equals an earlier one, or −1: exactly what checking every id against
 * a `Set` of the ids before it finds, at a fraction of the cost (a `Set` of a million strings costs more
 * than everything else the plan does). The hashes are partitioned by their top 8 bits (a stable counting
 * sort), then each partition is checked with a small open-addressing table that stays in the CPU cache;
 * strings are compared only when their hashes are equal. Should probing degrade (ids crafted to
 * collide), it falls back to a `Set`.
 */
function firstDuplicate(ids: readonly string[], hashes: Int32Array, n: number): number {
  if (n < 2) return -1;
  const counts = new Int32Array(257);
  for (let i = 0; i < n; i++) (counts[((hashes[i] as number) >>> 24) + 1] as number)++;
  let largest = 0;
  for (let b = 0; b < 256; b++) {
    largest = Math.max(largest, counts[b + 1] as number);
    counts[b + 1] = (counts[b + 1] as number) + (counts[b] as number);
  }
  const index = new Int32Array(n);
  const hash = new Int32Array(n);
  const next = counts.slice(0, 256);
  for (let i = 0; i < n; i++) {
    const h = hashes[i] as number;
    const at = (next[h >>> 24] as number)++;
    index[at] = i;
    hash[at] = h;
  }
  let size = 16;
  while (size < largest * 2) size *= 2;
  const table = new Int32Array(size);
  let first = -1;
  let probes = 0;
  for (let b = 0; b < 256; b++) {
    const lo = counts[b] as number;
    const hi = counts[b + 1] as number;
    if (hi - lo < 2) continue;
    let width = 16;
    while (width < (hi - lo) * 2) width *= 2;
    const mask = width - 1;
    table.fill(-1, 0, width);
    for (let k = lo; k < hi; k++) {
      const h = hash[k] as number;
      let slot = h & mask;
      for (;;) {
        const at = table[slot] as number;
        if (at === -1) {
          table[slot] = k;
          break;
        }
        if (hash[at] === h && ids[index[at] as number] === ids[index[k] as number]) {
          const i = index[k] as number; // positions grow with the input index within a partition
          if (first === -1 || i < first) first = i;
          break;
        }
        slot = (slot + 1) & mask;
        if (++probes > 8 * n + 64) return firstDuplicateWithSet(ids, n);
      }
    }
  }
  return first;
}

function firstDuplicateWithSet(ids: readonly string[], n: number): number {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const id = ids[i] as string;
    if (seen.has(id)) return i;
    seen.add(id);
  }
  return -1;
}

function duplicateError(id: string): ZonekeeperError {
  return invalidInput(`Zone ${id} appears more than once; each zoneId must be unique.`, { zoneId: id });
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
  const nowMs = now.getTime();
  const c = context(nowMs, o);
  const n = zones.length;
  // One pass validates and classifies, and hashes the ids for the duplicate check that follows. What the
  // decisions need later is recorded here (the ids, a reason code and createdAt per zone), never re-read
  // from the input.
  const ids = new Array<string>(n);
  const hashes = new Int32Array(n);
  const codes = new Uint8Array(n);
  const created = new Float64Array(n);
  const toDelete: string[] = [];
  let deferred = false;
  for (let i = 0; i < n; i++) {
    const zone = zones[i] as ZoneFacts;
    // The common, valid case is checked inline; anything else goes to checkZone for its exact error,
    // unless an earlier zone repeated an id (the error a zone-by-zone check would have met first).
    const id = zone?.zoneId;
    const createdAt = zone?.createdAt;
    const isProtected = zone?.protected;
    const createdMs = createdAt instanceof Date ? createdAt.getTime() : Number.NaN;
    if (
      typeof id !== 'string' ||
      id.length === 0 ||
      typeof zone.inUse !== 'boolean' ||
      typeof zone.managed !== 'boolean' ||
      (isProtected !== undefined && typeof isProtected !== 'boolean') ||
      (createdAt !== undefined && Number.isNaN(createdMs))
    ) {
      const dup = firstDuplicate(ids, hashes, i);
      if (dup >= 0) throw duplicateError(ids[dup] as string);
      checkZone(zone, i);
    }
    ids[i] = id;
    hashes[i] = hashId(id);
    const code = classify(zone.managed, isProtected === true, zone.inUse, createdMs, c);
    codes[i] = code;
    created[i] = createdMs;
    if (code === FREE_DELETION_WINDOW || code === BEFORE_NEXT_CHARGE) toDelete.push(id);
    else if (code === ALREADY_CHARGED) deferred = true;
  }
  const dup = firstDuplicate(ids, hashes, n);
  if (dup >= 0) throw duplicateError(ids[dup] as string);
  let decisions: readonly ZoneDecision[] | undefined;
  const plan: GcPlan = {
    now: new Date(nowMs),
    get decisions(): readonly ZoneDecision[] {
      if (decisions === undefined) {
        const out = new Array<ZoneDecision>(n);
        for (let i = 0; i < n; i++)
          out[i] = build(ids[i] as string, codes[i] as number, created[i] as number, c);
        decisions = out;
      }
      return decisions;
    },
    toDelete,
    // Every deferral is eligible at the same instant: the next charge less the lead time.
    ...(deferred ? { nextReviewAt: new Date(c.eligibleMs) } : {}),
  };
  return plan;
}
