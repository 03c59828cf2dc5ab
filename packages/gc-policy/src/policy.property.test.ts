import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decideZoneFate,
  defaultGcPolicyOptions,
  type GcPolicyOptions,
  nextChargeAt,
  planGarbageCollection,
  type ZoneFacts,
} from './index.js';

const H = 3_600_000;
// 2000-01-01 .. 2100-01-01, as instants.
const instant = fc
  .integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) })
  .map((ms) => new Date(ms));

/** Independent oracle: the first instant of the next UTC month by plain arithmetic. */
function oracleNextCharge(now: Date): number {
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
}

const options: fc.Arbitrary<GcPolicyOptions> = fc
  .record({
    freeDeletionWindowMs: fc.integer({ min: 0, max: 48 * H }),
    marginFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    chargeLeadTimeMs: fc.integer({ min: 1, max: 28 * 24 * H - 1 }),
    clockSkewToleranceMs: fc.integer({ min: 0, max: 2 * H }),
  })
  .map(({ marginFraction, ...o }) => ({
    ...o,
    freeDeletionMarginMs: Math.floor(o.freeDeletionWindowMs * marginFraction),
  }));

const optionsOrDefault = fc.option(options, { nil: undefined });

/** Zones around `now`: created recently, long ago, in the future, or unknown. */
function zoneAround(now: Date, id: string): fc.Arbitrary<ZoneFacts> {
  return fc
    .record({
      offset: fc.option(
        fc.oneof(fc.integer({ min: -3 * H, max: 24 * H }), fc.integer({ min: -H, max: 400 * 24 * H })),
        { nil: undefined },
      ),
      inUse: fc.boolean(),
      managed: fc.boolean(),
      protected: fc.option(fc.boolean(), { nil: undefined }),
    })
    .map((r) => ({
      zoneId: id,
      inUse: r.inUse,
      managed: r.managed,
      ...(r.protected === undefined ? {} : { protected: r.protected }),
      ...(r.offset === undefined ? {} : { createdAt: new Date(now.getTime() - r.offset) }),
    }));
}

const scenario = instant.chain((now) =>
  fc.record({
    now: fc.constant(now),
    zones: fc
      .integer({ min: 0, max: 12 })
      .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => zoneAround(now, `Z${i}`)))),
    options: optionsOrDefault,
  }),
);

const resolve = (o: GcPolicyOptions | undefined) => ({ ...defaultGcPolicyOptions, ...o });

describe('gc-policy properties', () => {
  it('nextChargeAt is the first instant of the next UTC month', () => {
    fc.assert(
      fc.property(instant, (now) => {
        const next = nextChargeAt(now);
        expect(next.getTime()).toBe(oracleNextCharge(now));
        expect(next.getTime()).toBeGreaterThan(now.getTime());
        expect(next.getTime() - now.getTime()).toBeLessThanOrEqual(31 * 24 * H);
      }),
      { numRuns: 5000 },
    );
  });

  it('is deterministic and never mutates its inputs', () => {
    fc.assert(
      fc.property(scenario, ({ now, zones, options: o }) => {
        const snapshot = structuredClone({ now, zones, o });
        const a = planGarbageCollection(zones, now, o);
        const b = planGarbageCollection(zones, now, o);
        expect(a).toEqual(b);
        expect({ now, zones, o }).toEqual(snapshot);
      }),
      { numRuns: 1000 },
    );
  });

  it('deletes only when rule 5 (free window) or rule 6 (before the next charge) holds, and never a kept kind', () => {
    fc.assert(
      fc.property(scenario, ({ now, zones, options: o }) => {
        const r = resolve(o);
        const plan = planGarbageCollection(zones, now, o);
        for (const [i, d] of plan.decisions.entries()) {
          const z = zones[i] as ZoneFacts;
          if (d.action !== 'delete') continue;
          expect(z.managed).toBe(true);
          expect(z.protected).not.toBe(true);
          expect(z.inUse).toBe(false);
          const created = z.createdAt?.getTime();
          if (created !== undefined)
            expect(created).toBeLessThanOrEqual(now.getTime() + r.clockSkewToleranceMs);
          const free =
            created !== undefined &&
            Math.max(0, now.getTime() - created) < r.freeDeletionWindowMs - r.freeDeletionMarginMs;
          const beforeCharge = now.getTime() >= oracleNextCharge(now) - r.chargeLeadTimeMs;
          expect(free || beforeCharge).toBe(true);
          expect(d.reason).toBe(free ? 'FREE_DELETION_WINDOW' : 'BEFORE_NEXT_CHARGE');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('eligibleAt is present exactly for deferrals, lies in the future, and nextReviewAt is the earliest', () => {
    fc.assert(
      fc.property(scenario, ({ now, zones, options: o }) => {
        const plan = planGarbageCollection(zones, now, o);
        const eligible: number[] = [];
        for (const d of plan.decisions) {
          expect(d.eligibleAt !== undefined).toBe(d.action === 'defer');
          expect(d.nextChargeAt.getTime()).toBe(oracleNextCharge(now));
          if (d.eligibleAt) {
            expect(d.eligibleAt.getTime()).toBeGreaterThan(now.getTime());
            eligible.push(d.eligibleAt.getTime());
          }
        }
        expect(plan.nextReviewAt?.getTime()).toBe(eligible.length ? Math.min(...eligible) : undefined);
        expect(plan.toDelete).toEqual(
          plan.decisions.filter((d) => d.action === 'delete').map((d) => d.zoneId),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('never postpones forever: deciding again at eligibleAt with the same facts deletes', () => {
    fc.assert(
      fc.property(scenario, ({ now, zones, options: o }) => {
        for (const zone of zones) {
          const d = decideZoneFate(zone, now, o);
          if (d.action !== 'defer') continue;
          const again = decideZoneFate(zone, d.eligibleAt as Date, o);
          expect(again.action).toBe('delete');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('a decision does not depend on the other zones or their order', () => {
    fc.assert(
      fc.property(
        scenario.chain((s) =>
          fc.record({
            s: fc.constant(s),
            order: fc.shuffledSubarray(s.zones, { minLength: s.zones.length }),
          }),
        ),
        ({ s, order }) => {
          const plan = planGarbageCollection(order, s.now, s.options);
          for (const d of plan.decisions) {
            const alone = decideZoneFate(
              s.zones.find((z) => z.zoneId === d.zoneId) as ZoneFacts,
              s.now,
              s.options,
            );
            expect(d).toEqual(alone);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('planGarbageCollection against a zone-by-zone reference', () => {
  /** The contract, written the slow, obvious way: check zone by zone (Set of ids), then decide each. */
  function reference(zones: readonly ZoneFacts[], now: Date, o?: GcPolicyOptions) {
    const seen = new Set<string>();
    for (const [i, zone] of zones.entries()) {
      try {
        decideZoneFate(zone, now, o);
      } catch (error) {
        return { error: String((error as Error).message).replace(/^Zone has/, `Zone #${i + 1} has`) };
      }
      if (seen.has(zone.zoneId))
        return { error: `Zone ${zone.zoneId} appears more than once; each zoneId must be unique.` };
      seen.add(zone.zoneId);
    }
    return { decisions: zones.map((z) => decideZoneFate(z, now, o)) };
  }

  const messy = fc.record({
    now: instant,
    zones: fc.array(
      fc
        .oneof(
          { weight: 8, arbitrary: fc.constantFrom('Z1', 'Z2', 'Z3', 'Z4', 'Z5', 'Z6', 'Z7', 'Z8', 'Z9') },
          { weight: 1, arbitrary: fc.constant('') },
        )
        .chain((zoneId) =>
          fc.record({
            zoneId: fc.constant(zoneId),
            managed: fc.oneof(
              { weight: 9, arbitrary: fc.boolean() },
              { weight: 1, arbitrary: fc.constant('yes') },
            ),
            inUse: fc.boolean(),
            createdAt: fc.option(
              fc.oneof(
                { weight: 9, arbitrary: instant },
                { weight: 1, arbitrary: fc.constant(new Date(Number.NaN)) },
              ),
              { nil: undefined },
            ),
          }),
        ),
      { maxLength: 12 },
    ),
  });

  it('gives the same decisions, or the same first error, on random fleets with bad zones and duplicates', () => {
    fc.assert(
      fc.property(messy, ({ now, zones }) => {
        const input = zones.map((z) =>
          z.createdAt === undefined ? { ...z, createdAt: undefined } : z,
        ) as unknown as ZoneFacts[];
        const expected = reference(input, now);
        let actual: { error?: string; decisions?: unknown };
        try {
          actual = { decisions: planGarbageCollection(input, now).decisions };
        } catch (error) {
          actual = { error: (error as Error).message };
        }
        expect(actual).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('finds the first duplicate among many ids, in any order', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `Z${(i * 7919).toString(36).toUpperCase()}`);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: ids.length - 1 }), fc.nat(), (at, pick) => {
        const copy = [...ids];
        copy[at] = copy[pick % at] as string;
        const zones = copy.map((zoneId) => ({ zoneId, managed: true, inUse: true }));
        expect(() => planGarbageCollection(zones, new Date('2026-03-20T12:00:00Z'))).toThrow(
          `Zone ${copy[at]} appears more than once`,
        );
      }),
      { numRuns: 50 },
    );
  });
});
