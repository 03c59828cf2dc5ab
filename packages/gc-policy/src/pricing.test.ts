import { hasErrorCode } from '@zonekeeper/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CollectionPolicyOptions,
  decideZoneFate,
  FREE_PRICING,
  type PricingModel,
  planGarbageCollection,
  ROUTE53_PRICING,
  type ZoneFacts,
} from './index.js';

const H = 3_600_000;
const NOW = new Date('2026-03-10T12:00:00Z');
const unused = (zoneId: string, createdAt?: Date): ZoneFacts => ({
  zoneId,
  inUse: false,
  managed: true,
  ...(createdAt ? { createdAt } : {}),
});
const ago = (ms: number) => new Date(NOW.getTime() - ms);

describe('pricing as data: the free model (PowerDNS)', () => {
  it('deletes an unused zone at once, whatever its age, with no charge to report', () => {
    for (const zone of [unused('new', ago(60_000)), unused('old', ago(400 * 24 * H)), unused('unknown')]) {
      const d = decideZoneFate(zone, NOW, { pricing: FREE_PRICING });
      expect(d).toMatchObject({ action: 'delete', reason: 'FREE_TO_RECREATE' });
      expect(d.message).toContain('costs nothing');
      expect('nextChargeAt' in d).toBe(false);
      expect(d.eligibleAt).toBeUndefined();
    }
    // The same old zone under Route 53's rules waits for the end of its paid month.
    expect(decideZoneFate(unused('old', ago(400 * 24 * H)), NOW)).toMatchObject({
      action: 'defer',
      reason: 'ALREADY_CHARGED',
    });
  });

  it('keeps a zone younger than the grace period, then deletes it when the period ends', () => {
    const pricing: PricingModel = { kind: 'free', gracePeriodMs: 2 * H };
    const created = ago(30 * 60_000);
    const plan = planGarbageCollection(
      [unused('young', created), unused('older', ago(90 * 60_000)), unused('done', ago(3 * H))],
      NOW,
      {
        pricing,
      },
    );
    expect(plan.toDelete).toEqual(['done']);
    expect(plan.decisions.map((d) => d.reason)).toEqual(['GRACE_PERIOD', 'GRACE_PERIOD', 'FREE_TO_RECREATE']);
    expect(plan.decisions[0]?.eligibleAt?.toISOString()).toBe(
      new Date(created.getTime() + 2 * H).toISOString(),
    );
    // The next look is the earliest end of a grace period.
    expect(plan.nextReviewAt?.toISOString()).toBe(new Date(ago(90 * 60_000).getTime() + 2 * H).toISOString());
    const later = decideZoneFate(unused('young', created), plan.decisions[0]?.eligibleAt as Date, {
      pricing,
    });
    expect(later).toMatchObject({ action: 'delete', reason: 'FREE_TO_RECREATE' });
  });

  it('never deletes what rules 1–4 keep: not managed, protected, in use, a creation time in the future', () => {
    const zones: ZoneFacts[] = [
      { zoneId: 'foreign', inUse: false, managed: false },
      { zoneId: 'guarded', inUse: false, managed: true, protected: true },
      { zoneId: 'busy', inUse: true, managed: true },
      unused('future', new Date(NOW.getTime() + H)),
    ];
    const plan = planGarbageCollection(zones, NOW, { pricing: FREE_PRICING });
    expect(plan.toDelete).toEqual([]);
    expect(plan.decisions.map((d) => `${d.action}:${d.reason}`)).toEqual([
      'keep:NOT_MANAGED',
      'keep:PROTECTED',
      'keep:IN_USE',
      'keep:CLOCK_SKEW',
    ]);
    for (const d of plan.decisions) expect(d.nextChargeAt).toBeUndefined();
    expect(plan.nextReviewAt).toBeUndefined();
  });

  it('refuses a malformed pricing model before deciding anything', () => {
    const bad: unknown[] = [
      null,
      'free',
      { kind: 'hourly' },
      { kind: 'free', gracePeriodMs: -1 },
      { kind: 'free', gracePeriodMs: Number.NaN },
      { kind: 'free', grace: 5 },
      { kind: 'calendar-month', gracePeriodMs: 5 },
    ];
    for (const pricing of bad) {
      const options = { pricing } as unknown as CollectionPolicyOptions;
      let caught: unknown;
      try {
        planGarbageCollection([unused('z')], NOW, options);
      } catch (error) {
        caught = error;
      }
      expect(hasErrorCode(caught, 'INVALID_INPUT'), JSON.stringify(pricing)).toBe(true);
      expect(() => decideZoneFate(unused('z'), NOW, options)).toThrow(/pricing/);
    }
  });
});

describe('pricing as data: properties', () => {
  const instant = fc
    .integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) })
    .map((ms) => new Date(ms));
  const zone = (id: string, now: Date) =>
    fc
      .record({
        offset: fc.option(fc.integer({ min: -2 * H, max: 60 * 24 * H }), { nil: undefined }),
        inUse: fc.boolean(),
        managed: fc.boolean(),
        protected: fc.option(fc.boolean(), { nil: undefined }),
      })
      .map(
        (r): ZoneFacts => ({
          zoneId: id,
          inUse: r.inUse,
          managed: r.managed,
          ...(r.protected === undefined ? {} : { protected: r.protected }),
          ...(r.offset === undefined ? {} : { createdAt: new Date(now.getTime() - r.offset) }),
        }),
      );
  const fleet = instant.chain((now) =>
    fc.record({
      now: fc.constant(now),
      zones: fc
        .integer({ min: 0, max: 12 })
        .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => zone(`Z${i}`, now)))),
    }),
  );

  it('Route 53 is the default: an explicit ROUTE53_PRICING decides exactly as no model', () => {
    fc.assert(
      fc.property(fleet, ({ now, zones }) => {
        const plain = planGarbageCollection(zones, now);
        const explicit = planGarbageCollection(zones, now, { pricing: ROUTE53_PRICING });
        expect(explicit.decisions).toEqual(plain.decisions);
        expect(explicit.toDelete).toEqual(plain.toDelete);
        expect(explicit.nextReviewAt).toEqual(plain.nextReviewAt);
      }),
    );
  });

  it('free: deletes exactly the unused, managed, unprotected zones past their grace; a deferral ends at eligibleAt', () => {
    fc.assert(
      fc.property(fleet, fc.integer({ min: 0, max: 48 * H }), ({ now, zones }, grace) => {
        const pricing: PricingModel = { kind: 'free', gracePeriodMs: grace };
        const plan = planGarbageCollection(zones, now, { pricing });
        const expected = zones
          .filter((z) => {
            if (!z.managed || z.protected === true || z.inUse) return false;
            if (z.createdAt === undefined) return true;
            const age = now.getTime() - z.createdAt.getTime();
            if (age < -300_000) return false; // clock skew beyond the tolerance
            return Math.max(0, age) >= grace;
          })
          .map((z) => z.zoneId);
        expect(plan.toDelete).toEqual(expected);
        for (const [i, d] of plan.decisions.entries()) {
          expect(d.nextChargeAt).toBeUndefined();
          if (d.action === 'defer') {
            expect(d.reason).toBe('GRACE_PERIOD');
            const again = decideZoneFate(zones[i] as ZoneFacts, d.eligibleAt as Date, { pricing });
            expect(again.action).toBe('delete');
          }
          // Rules 1–3 never depend on the pricing model.
          if (['NOT_MANAGED', 'PROTECTED', 'IN_USE'].includes(d.reason)) {
            expect(decideZoneFate(zones[i] as ZoneFacts, now).reason).toBe(d.reason);
          }
        }
        const deferred = plan.decisions
          .filter((d) => d.action === 'defer')
          .map((d) => (d.eligibleAt as Date).getTime());
        expect(plan.nextReviewAt?.getTime()).toEqual(deferred.length ? Math.min(...deferred) : undefined);
      }),
    );
  });
});
