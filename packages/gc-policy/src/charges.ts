/**
 * What a hosted zone's life costs under Route 53's rules, for demos, reports and cost simulations.
 * Pure. The rules (docs/billing-model.md): a zone is charged once for the month it was created unless it
 * is deleted within 12 hours, and again at 00:00 UTC on the 1st of every later month it is alive at.
 *
 * @packageDocumentation
 */

import { invalidInput } from '@zonekeeper/core';
import { nextChargeAt } from './policy.js';

/** One zone's life: created at, deleted at (absent: still alive). @public */
export interface ZoneLifetime {
  readonly createdAt: Date;
  readonly deletedAt?: Date;
}

/** Route 53 hosted-zone prices in US dollars per zone-month. @public */
export interface ZonePricing {
  /** Default 0.50 for each of the first 25 zones of the account in a month. */
  readonly firstTierPrice?: number;
  /** Default 25. */
  readonly firstTierZones?: number;
  /** Default 0.10 for every further zone. */
  readonly laterPrice?: number;
}

const FREE_WINDOW_MS = 12 * 3_600_000;

/**
 * The instants at which a zone is charged, up to (excluding) `until`: creation + 12 h (if it is still
 * alive then), and 00:00 UTC on the 1st of every later month it is alive at. A creation charge that
 * would fall after the month turned is still one charge for the creation month.
 * @throws `INVALID_INPUT` for invalid dates or a deletion before creation.
 * @public
 */
export function zoneChargeInstants(lifetime: ZoneLifetime, until: Date): readonly Date[] {
  const created = lifetime.createdAt?.getTime();
  const deleted = lifetime.deletedAt?.getTime();
  const end = until?.getTime();
  if (!Number.isFinite(created)) throw invalidInput('createdAt must be a valid Date.');
  if (
    lifetime.deletedAt !== undefined &&
    !(Number.isFinite(deleted) && (deleted as number) >= (created as number))
  ) {
    throw invalidInput('deletedAt must be a valid Date not before createdAt.');
  }
  if (!Number.isFinite(end)) throw invalidInput('until must be a valid Date.');
  const alive = (t: number) =>
    t >= (created as number) && (deleted === undefined || t < deleted) && t < (end as number);
  const charges: Date[] = [];
  const firstCharge = (created as number) + FREE_WINDOW_MS;
  if (alive(firstCharge)) charges.push(new Date(firstCharge));
  // Monthly charges at every 1st (00:00 UTC) after the creation month while alive. A 1st that falls
  // inside the free window is still charged if the zone survives the window (both months are billed).
  for (
    let t = nextChargeAt(new Date(created as number)).getTime();
    alive(t);
    t = nextChargeAt(new Date(t)).getTime()
  ) {
    if (t < firstCharge && !alive(firstCharge)) break;
    charges.push(new Date(t));
  }
  return charges.sort((a, b) => a.getTime() - b.getTime());
}

/**
 * The cost in dollars of a set of zone lifetimes up to `until`, applying the first-tier price to the
 * first `firstTierZones` charges of each billing month and the later price to the rest.
 * @public
 */
export function zoneCost(lifetimes: readonly ZoneLifetime[], until: Date, pricing: ZonePricing = {}): number {
  const first = pricing.firstTierPrice ?? 0.5;
  const tier = pricing.firstTierZones ?? 25;
  const later = pricing.laterPrice ?? 0.1;
  const perMonth = new Map<string, number>();
  for (const l of lifetimes) {
    for (const c of zoneChargeInstants(l, until)) {
      // A creation charge belongs to the creation month even when the 12 h end after the month turned.
      const billed = c.getTime() === l.createdAt.getTime() + FREE_WINDOW_MS ? l.createdAt : c;
      const month = billed.toISOString().slice(0, 7);
      perMonth.set(month, (perMonth.get(month) ?? 0) + 1);
    }
  }
  let cents = 0;
  for (const n of perMonth.values())
    cents += Math.min(n, tier) * Math.round(first * 100) + Math.max(0, n - tier) * Math.round(later * 100);
  return cents / 100;
}
