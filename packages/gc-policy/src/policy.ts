/**
 * The billing-aware garbage-collection decision for DNS zones. Pure: no I/O, no clock, no
 * logging; every instant is UTC and the host's time zone never changes a result.
 *
 * The provider's pricing is data ({@link PricingModel}): Route 53's rules (`calendar-month`, the default,
 * below) or `free` (a zone on your own servers, such as PowerDNS, costs nothing to keep or to re-create).
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
 * With `pricing: { kind: 'free', gracePeriodMs }` rules 1–4 are the same, then:
 *
 * ```
 *  5f    createdAt known, age < gracePeriod                      defer   GRACE_PERIOD (eligibleAt = createdAt + grace)
 *  6f    otherwise                                               delete  FREE_TO_RECREATE
 * ```
 *
 * and decisions carry no `nextChargeAt` (there is no charge). {@link planGarbageCollection} and
 * {@link decideZoneFate} without a pricing model return exactly what they always did (typed
 * {@link GcPlan} / {@link ZoneDecision}); with one they return the general {@link CollectionPlan} /
 * {@link CollectionDecision}.
 *
 * @packageDocumentation
 */

import { invalidInput, type ZonekeeperError, type ZonePricingModel } from '@zonekeeper/core';

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

/**
 * How a DNS provider bills a zone, as data:
 *
 * - `calendar-month`: Route 53's rules. A zone is charged at creation (waived if it is deleted within
 *   `freeDeletionWindowMs`) and at 00:00 UTC on the 1st of every later month, not prorated. The tunables
 *   are the {@link GcPolicyOptions} (`freeDeletionWindowMs`, `freeDeletionMarginMs`, `chargeLeadTimeMs`):
 *   a provider billing the same way with other numbers (no waiver: `freeDeletionWindowMs: 0`) is described
 *   by setting them.
 * - `free`: keeping a zone and creating it again cost nothing (your own servers, such as PowerDNS), so an
 *   unused zone is deleted as soon as it is older than `gracePeriodMs` (default 0: at once; a zone of
 *   unknown age counts as old). Also right for a provider that bills by the hour, prorated: deleting an
 *   unused zone at once is then cheapest too.
 * @public
 */
export type PricingModel = ZonePricingModel;

/** Route 53's pricing: the default model. @public */
export const ROUTE53_PRICING: PricingModel = Object.freeze({ kind: 'calendar-month' });

/** A provider whose zones cost nothing to keep or re-create (PowerDNS): delete unused zones at once. @public */
export const FREE_PRICING: PricingModel = Object.freeze({ kind: 'free' });

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
  /** Route 53's rules; give a model through {@link CollectionPolicyOptions} instead. */
  readonly pricing?: undefined;
}

/** {@link GcPolicyOptions} with the provider's {@link PricingModel} (default {@link ROUTE53_PRICING}). @public */
export interface CollectionPolicyOptions extends Omit<GcPolicyOptions, 'pricing'> {
  readonly pricing?: PricingModel | undefined;
}

/** What to do with a zone. @public */
export type ZoneAction = 'keep' | 'delete' | 'defer';

/** Why, under Route 53's pricing. One reason per rule. @public */
export type ZoneDecisionReason =
  | 'NOT_MANAGED'
  | 'PROTECTED'
  | 'IN_USE'
  | 'CLOCK_SKEW'
  | 'FREE_DELETION_WINDOW'
  | 'BEFORE_NEXT_CHARGE'
  | 'ALREADY_CHARGED';

/** Why, under any pricing model: the Route 53 reasons, plus the `free` model's two. @public */
export type CollectionReason = ZoneDecisionReason | 'GRACE_PERIOD' | 'FREE_TO_RECREATE';

/** The decision for one zone under any pricing model. @public */
export interface CollectionDecision {
  readonly zoneId: string;
  readonly action: ZoneAction;
  readonly reason: CollectionReason;
  /** One plain sentence a person can read in a log or a table. */
  readonly message: string;
  /** The provider's next charge (`nextChargeAt(now)` for `calendar-month`); absent when it has none. */
  readonly nextChargeAt?: Date;
  /** Present if and only if `action === 'defer'`: when the zone becomes eligible for deletion. */
  readonly eligibleAt?: Date;
}

/** The decisions for a set of zones under any pricing model. @public */
export interface CollectionPlan {
  readonly now: Date;
  /** Same order as the input (built on first read and then kept, like {@link GcPlan.decisions}). */
  readonly decisions: readonly CollectionDecision[];
  /** zoneIds of `delete` decisions, in input order. */
  readonly toDelete: readonly string[];
  /** Earliest `eligibleAt` among `defer` decisions; absent when nothing is deferred. */
  readonly nextReviewAt?: Date;
}

/** The decision for one zone under Route 53's pricing. @public */
export interface ZoneDecision extends CollectionDecision {
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

/** The decisions for a set of zones under Route 53's pricing. @public */
export interface GcPlan extends CollectionPlan {
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
export const defaultGcPolicyOptions: Readonly<Required<Omit<GcPolicyOptions, 'pricing'>>> = Object.freeze({
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

/** The numeric tunables, resolved. */
type Tunables = Required<Omit<GcPolicyOptions, 'pricing'>>;

/** A validated pricing model. */
type ResolvedPricing =
  | { readonly kind: 'calendar-month' }
  | { readonly kind: 'free'; readonly gracePeriodMs: number };

function resolvePricing(options: CollectionPolicyOptions | undefined): ResolvedPricing {
  const pricing = (options as { pricing?: unknown } | undefined)?.pricing;
  if (pricing === undefined) return ROUTE53_PRICING as ResolvedPricing;
  if (typeof pricing !== 'object' || pricing === null || Array.isArray(pricing))
    throw invalidInput(
      `GC policy option pricing must be an object { kind }, got ${describeValue(pricing)}.`,
      {
        option: 'pricing',
      },
    );
  const { kind, ...rest } = pricing as { kind?: unknown; gracePeriodMs?: unknown };
  if (kind === 'calendar-month') {
    if (Object.keys(rest).length > 0)
      throw invalidInput(
        'GC policy option pricing { kind: "calendar-month" } takes no other fields; its tunables are freeDeletionWindowMs, freeDeletionMarginMs and chargeLeadTimeMs.',
        { option: 'pricing' },
      );
    return { kind };
  }
  if (kind === 'free') {
    for (const key of Object.keys(rest))
      if (key !== 'gracePeriodMs')
        throw invalidInput(
          `GC policy option pricing.${key} is not supported; the free model takes gracePeriodMs.`,
          {
            option: 'pricing',
          },
        );
    const grace = rest.gracePeriodMs ?? 0;
    if (typeof grace !== 'number' || !Number.isFinite(grace) || grace < 0)
      throw invalidInput(
        `GC policy option pricing.gracePeriodMs must be a finite number ≥ 0 (milliseconds), got ${typeof grace === 'number' ? grace : describeValue(grace)}.`,
        { option: 'pricing.gracePeriodMs' },
      );
    return { kind, gracePeriodMs: grace };
  }
  throw invalidInput(
    `GC policy option pricing.kind must be "calendar-month" (Route 53) or "free", got ${describeValue(kind)}.`,
    { option: 'pricing.kind' },
  );
}

function resolveOptions(options: CollectionPolicyOptions | undefined): Tunables {
  if (options === undefined) return defaultGcPolicyOptions;
  if (typeof options !== 'object' || options === null)
    throw invalidInput(`GC policy options must be an object, got ${describeValue(options)}.`);
  const resolved = { ...defaultGcPolicyOptions };
  for (const key of Object.keys(defaultGcPolicyOptions) as (keyof Tunables)[]) {
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
  readonly o: Tunables;
  readonly pricing: ResolvedPricing;
  readonly nextChargeMs: number;
  readonly eligibleMs: number;
  readonly nextChargeIso: string;
  readonly eligibleIso: string;
}

function context(nowMs: number, o: Tunables, pricing: ResolvedPricing): DecisionContext {
  const next = nextChargeMs(nowMs).getTime();
  const eligibleMs = next - o.chargeLeadTimeMs;
  return {
    nowMs,
    o,
    pricing,
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
const GRACE_PERIOD = 7;
const FREE_TO_RECREATE = 8;

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
  if (c.pricing.kind === 'free') {
    if (Number.isNaN(createdMs)) return FREE_TO_RECREATE;
    if (createdMs > nowMs + c.o.clockSkewToleranceMs) return CLOCK_SKEW;
    return Math.max(0, nowMs - createdMs) < c.pricing.gracePeriodMs ? GRACE_PERIOD : FREE_TO_RECREATE;
  }
  if (!Number.isNaN(createdMs)) {
    if (createdMs > nowMs + c.o.clockSkewToleranceMs) return CLOCK_SKEW;
    if (Math.max(0, nowMs - createdMs) < c.o.freeDeletionWindowMs - c.o.freeDeletionMarginMs)
      return FREE_DELETION_WINDOW;
  }
  return nowMs >= c.eligibleMs ? BEFORE_NEXT_CHARGE : ALREADY_CHARGED;
}

/** The decision object (with its sentence) for a zone classified as `code`. */
function build(id: string, code: number, createdMs: number, c: DecisionContext): ZoneDecision {
  if (c.pricing.kind === 'free') return buildFree(id, code, createdMs, c) as ZoneDecision;
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

/** A decision under the free model: no charge, so no `nextChargeAt`. */
function buildFree(id: string, code: number, createdMs: number, c: DecisionContext): CollectionDecision {
  const grace = c.pricing.kind === 'free' ? c.pricing.gracePeriodMs : 0;
  switch (code) {
    case GRACE_PERIOD: {
      const eligibleMs = createdMs + grace;
      return {
        zoneId: id,
        action: 'defer',
        reason: 'GRACE_PERIOD',
        message: `Zone ${id} is unused and ${formatDuration(Math.max(0, c.nowMs - createdMs))} old, so it is kept until ${new Date(eligibleMs).toISOString()}, the end of its ${formatDuration(grace)} grace period (deleting and re-creating it costs nothing).`,
        eligibleAt: new Date(eligibleMs),
      };
    }
    case FREE_TO_RECREATE:
      return {
        zoneId: id,
        action: 'delete',
        reason: 'FREE_TO_RECREATE',
        message: `Zone ${id} is unused, and keeping or re-creating a zone costs nothing with this provider, so it is deleted now.`,
      };
    default: {
      // Rules 1–4 read the same under every model; only the charge is absent.
      const { nextChargeAt: _none, ...decision } = build(id, code, createdMs, {
        ...c,
        pricing: ROUTE53_PRICING as ResolvedPricing,
      });
      return decision;
    }
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
 * Decides what to do with one zone at `now` (see the rule table in the module notes). Without a
 * pricing model: Route 53's rules, typed {@link ZoneDecision}.
 * @throws `INVALID_INPUT` for an invalid `now`, zone or option.
 * @public
 */
export function decideZoneFate(zone: ZoneFacts, now: Date, options?: GcPolicyOptions): ZoneDecision;
/**
 * Decides what to do with one zone at `now` under `options.pricing` (default Route 53's).
 * @throws `INVALID_INPUT` for an invalid `now`, zone, option or pricing model.
 * @public
 */
export function decideZoneFate(
  zone: ZoneFacts,
  now: Date,
  options?: CollectionPolicyOptions,
): CollectionDecision;
export function decideZoneFate(
  zone: ZoneFacts,
  now: Date,
  options?: CollectionPolicyOptions,
): CollectionDecision {
  checkNow(now);
  const o = resolveOptions(options);
  const pricing = resolvePricing(options);
  checkZone(zone);
  return decide(zone, context(now.getTime(), o, pricing));
}

/**
 * Decides for every zone at `now`. Decisions keep the input order; `toDelete` lists the zones to delete
 * and `nextReviewAt` is the earliest instant at which a deferred zone becomes eligible.
 * Without a pricing model: Route 53's rules, typed {@link GcPlan}.
 * @throws `INVALID_INPUT` for an invalid `now`, zone or option, or duplicate zoneIds. Nothing is decided
 * when any input is invalid.
 * @public
 */
export function planGarbageCollection(
  zones: readonly ZoneFacts[],
  now: Date,
  options?: GcPolicyOptions,
): GcPlan;
/**
 * Decides for every zone at `now` under `options.pricing` (default Route 53's).
 * @throws `INVALID_INPUT` for an invalid `now`, zone, option or pricing model, or duplicate zoneIds.
 * @public
 */
export function planGarbageCollection(
  zones: readonly ZoneFacts[],
  now: Date,
  options?: CollectionPolicyOptions,
): CollectionPlan;
export function planGarbageCollection(
  zones: readonly ZoneFacts[],
  now: Date,
  options?: CollectionPolicyOptions,
): CollectionPlan {
  checkNow(now);
  const o = resolveOptions(options);
  const pricing = resolvePricing(options);
  if (!Array.isArray(zones)) throw invalidInput(`zones must be an array, got ${describeValue(zones)}.`);
  const nowMs = now.getTime();
  const c = context(nowMs, o, pricing);
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
  let graceReviewMs = Number.POSITIVE_INFINITY;
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
    if (code === FREE_DELETION_WINDOW || code === BEFORE_NEXT_CHARGE || code === FREE_TO_RECREATE)
      toDelete.push(id);
    else if (code === ALREADY_CHARGED) deferred = true;
    else if (code === GRACE_PERIOD && pricing.kind === 'free')
      graceReviewMs = Math.min(graceReviewMs, createdMs + pricing.gracePeriodMs);
  }
  const dup = firstDuplicate(ids, hashes, n);
  if (dup >= 0) throw duplicateError(ids[dup] as string);
  let decisions: readonly CollectionDecision[] | undefined;
  const plan: CollectionPlan = {
    now: new Date(nowMs),
    get decisions(): readonly CollectionDecision[] {
      if (decisions === undefined) {
        const out = new Array<ZoneDecision>(n);
        for (let i = 0; i < n; i++)
          out[i] = build(ids[i] as string, codes[i] as number, created[i] as number, c);
        decisions = out;
      }
      return decisions;
    },
    toDelete,
    // Under Route 53's rules every deferral is eligible at the same instant: the next charge less the
    // lead time. Under the free model, the earliest end of a grace period.
    ...(deferred ? { nextReviewAt: new Date(c.eligibleMs) } : {}),
    ...(Number.isFinite(graceReviewMs) ? { nextReviewAt: new Date(graceReviewMs) } : {}),
  };
  return plan;
}
