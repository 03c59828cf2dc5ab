/**
 * The heterogeneous fleet budget planner: tables, and properties (fast-check) — the account's
 * budget is respected as recomputed independently from the documented call model (every group at its
 * own settings, every action), pinned settings are kept, one group is the uniform planner, a fleet that
 * needs accounts is split into accounts that each fit and one fewer would not.
 */

import { fc, test as fcTest } from '@fast-check/vitest';
import { hasErrorCode } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import {
  type FleetGroup,
  type HeterogeneousAccountPlan,
  type HeterogeneousFleet,
  type HeterogeneousFleetPlan,
  planFleetBudget,
  planHeterogeneousFleetBudget,
} from './budget.js';

/** The account's ListResourceRecordSets + ListHostedZones rate, recomputed (events on, no changes, no churn). */
function independentRate(fleet: HeterogeneousFleet, plan: HeterogeneousAccountPlan): number {
  const zones = plan.organizations + (fleet.otherZonesPerAccount ?? 1);
  let total = 0;
  for (const g of plan.groups) {
    const group = fleet.groups.find((x) => x.name === g.name) as FleetGroup;
    const i = g.settings.intervalSeconds;
    const d = g.settings.zonesCacheSeconds;
    const reads = Math.max(1, Math.ceil(group.recordSetsPerZone / 300)) / i;
    const listings = Math.max(1, Math.ceil(zones / 100)) * Math.min(1 / i, 1 / d);
    total += g.clusters * (reads + listings);
  }
  return total;
}

function fits(plan: HeterogeneousFleetPlan): HeterogeneousAccountPlan {
  if (plan.outcome !== 'fits') throw new Error(`expected a plan that fits, got ${plan.message}`);
  return plan;
}

describe('planHeterogeneousFleetBudget', () => {
  it('one group plans exactly what the uniform planner plans', () => {
    const shape = { organizations: 200, clustersPerOrganization: 3, recordSetsPerZone: 400 };
    const uniform = planFleetBudget(shape);
    const grouped = fits(planHeterogeneousFleetBudget({ groups: [{ name: 'all', ...shape }] }));
    if (uniform.outcome !== 'fits') throw new Error('expected fits');
    expect(grouped.groups[0]?.settings).toEqual(uniform.settings);
    expect(grouped.load.requestsPerSecond).toBeCloseTo(uniform.load.requestsPerSecond, 12);
  });

  it('keeps a pinned interval and stretches the other groups to pay for it', () => {
    const big = { name: 'big', organizations: 100, clustersPerOrganization: 3, recordSetsPerZone: 400 };
    const strict = {
      name: 'strict',
      organizations: 10,
      clustersPerOrganization: 2,
      recordSetsPerZone: 50,
      intervalSeconds: 60,
    };
    const alone = fits(planHeterogeneousFleetBudget({ groups: [big] }));
    const mixed = fits(planHeterogeneousFleetBudget({ groups: [big, strict] }));
    const [b, s] = mixed.groups;
    expect(s?.settings.intervalSeconds).toBe(60);
    expect(s?.pinned).toEqual(['intervalSeconds']);
    expect(b?.pinned).toEqual([]);
    expect(b?.settings.intervalSeconds).toBeGreaterThanOrEqual(
      alone.groups[0]?.settings.intervalSeconds ?? 0,
    );
    expect(mixed.load.requestsPerSecond).toBeLessThanOrEqual(mixed.load.budgetRequestsPerSecond);
    expect(mixed.load.requestsPerSecond).toBeCloseTo(independentRate({ groups: [big, strict] }, mixed), 12);
  });

  it('spreads every group over the fewest accounts when one is not enough; impossible pins say so', () => {
    const fleet = {
      groups: [
        { name: 'big', organizations: 400, clustersPerOrganization: 10, recordSetsPerZone: 2000 },
        { name: 'small', organizations: 600, clustersPerOrganization: 1, recordSetsPerZone: 20 },
      ],
    };
    const plan = planHeterogeneousFleetBudget(fleet);
    expect(plan.outcome).toBe('needs-accounts');
    if (plan.outcome !== 'needs-accounts') return;
    expect(plan.organizationsPerAccount).toEqual({
      big: Math.ceil(400 / plan.accounts),
      small: Math.ceil(600 / plan.accounts),
    });
    expect(plan.perAccount.load.requestsPerSecond).toBeLessThanOrEqual(
      plan.perAccount.load.budgetRequestsPerSecond,
    );
    const impossible = planHeterogeneousFleetBudget({
      groups: [
        {
          name: 'huge',
          organizations: 1,
          clustersPerOrganization: 5000,
          recordSetsPerZone: 3000,
          intervalSeconds: 60,
        },
      ],
    });
    expect(impossible.outcome).toBe('impossible');
  });

  it('refuses malformed groups before planning', () => {
    for (const fleet of [
      { groups: [] },
      { groups: [{ name: 'a b', organizations: 1, clustersPerOrganization: 1, recordSetsPerZone: 1 }] },
      {
        groups: [
          { name: 'a', organizations: 1, clustersPerOrganization: 1, recordSetsPerZone: 1 },
          { name: 'a', organizations: 1, clustersPerOrganization: 1, recordSetsPerZone: 1 },
        ],
      },
      {
        groups: [
          {
            name: 'a',
            organizations: 1,
            clustersPerOrganization: 1,
            recordSetsPerZone: 1,
            intervalSeconds: 30,
          },
        ],
      },
    ]) {
      let error: unknown;
      try {
        planHeterogeneousFleetBudget(fleet as HeterogeneousFleet);
      } catch (e) {
        error = e;
      }
      expect(hasErrorCode(error, 'INVALID_INPUT'), JSON.stringify(fleet)).toBe(true);
    }
  });
});

const groupArb = fc.record({
  organizations: fc.integer({ min: 1, max: 400 }),
  clustersPerOrganization: fc.integer({ min: 1, max: 20 }),
  recordSetsPerZone: fc.integer({ min: 0, max: 3000 }),
  changeLoopsPerClusterPerHour: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 120 })),
  intervalSeconds: fc.option(fc.constantFrom(60, 120, 300, 900, 3600), { nil: undefined }),
  zonesCacheSeconds: fc.option(fc.constantFrom(600, 3600, 86_400), { nil: undefined }),
});
const fleetArb = fc.array(groupArb, { minLength: 1, maxLength: 5 }).map(
  (gs): HeterogeneousFleet => ({
    groups: gs.map((g, i) => {
      const { intervalSeconds, zonesCacheSeconds, ...rest } = g;
      return {
        name: `g${i}`,
        ...rest,
        ...(intervalSeconds === undefined ? {} : { intervalSeconds }),
        ...(zonesCacheSeconds === undefined ? {} : { zonesCacheSeconds }),
      };
    }),
  }),
);

describe('planHeterogeneousFleetBudget properties', () => {
  fcTest.prop([fleetArb, fc.constantFrom(0.3, 0.6, 1)], { numRuns: 150 })(
    'every account plan stays within share × refill of every bucket; pins are kept; counts add up',
    (fleet, share) => {
      const plan = planHeterogeneousFleetBudget(fleet, { share });
      if (plan.outcome === 'impossible') return;
      const account = plan.outcome === 'fits' ? plan : plan.perAccount;
      for (const b of account.load.buckets)
        expect(b.requestsPerSecond).toBeLessThanOrEqual(b.budgetRequestsPerSecond);
      // The change loops' burst margin is kept free too.
      expect(account.load.requestsPerSecond + account.load.burstRequestsPerSecond).toBeLessThanOrEqual(
        account.load.budgetRequestsPerSecond + 1e-9,
      );
      expect(account.load.utilisation).toBeLessThanOrEqual(share + 1e-12);
      for (const g of account.groups) {
        const input = fleet.groups.find((x) => x.name === g.name) as FleetGroup;
        if (input.intervalSeconds !== undefined)
          expect(g.settings.intervalSeconds).toBe(input.intervalSeconds);
        if (input.zonesCacheSeconds !== undefined)
          expect(g.settings.zonesCacheSeconds).toBe(input.zonesCacheSeconds);
        expect(g.settings.minEventSyncSeconds).toBeLessThanOrEqual(g.settings.intervalSeconds);
      }
      // Reads and listings alone, recomputed from the call model, never exceed what the plan counts.
      expect(independentRate(fleet, account)).toBeLessThanOrEqual(account.load.requestsPerSecond + 1e-9);
      if (plan.outcome === 'needs-accounts') {
        for (const g of fleet.groups)
          expect((plan.organizationsPerAccount[g.name] ?? 0) * plan.accounts).toBeGreaterThanOrEqual(
            g.organizations,
          );
        // One account fewer does not hold the fleet spread evenly.
        if (plan.accounts > 2) {
          const fewer = plan.accounts - 1;
          const shrunk: HeterogeneousFleet = {
            groups: fleet.groups.map((g) => ({ ...g, organizations: Math.ceil(g.organizations / fewer) })),
          };
          expect(planHeterogeneousFleetBudget(shrunk, { share }).outcome).not.toBe('fits');
        }
      }
    },
  );

  fcTest.prop([fleetArb], { numRuns: 60 })(
    'deterministic, and the group order does not change any group’s settings',
    (fleet) => {
      const a = planHeterogeneousFleetBudget(fleet);
      expect(planHeterogeneousFleetBudget(fleet)).toEqual(a);
      const reversed = planHeterogeneousFleetBudget({ groups: [...fleet.groups].reverse() });
      const settingsOf = (p: HeterogeneousFleetPlan) =>
        p.outcome === 'impossible'
          ? p.outcome
          : Object.fromEntries(
              (p.outcome === 'fits' ? p : p.perAccount).groups.map((g) => [g.name, g.settings]),
            );
      expect(settingsOf(reversed)).toEqual(settingsOf(a));
    },
  );
});
