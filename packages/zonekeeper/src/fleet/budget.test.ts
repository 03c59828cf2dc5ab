/**
 * The fleet budget planner: table tests keyed by sentences, and properties (fast-check) — the planned
 * rate never exceeds the share of any bucket, more clusters never shorten the interval or need fewer
 * accounts, a fleet that needs accounts is split into accounts that each fit (and one fewer would not).
 */

import { fc, test as fcTest } from '@fast-check/vitest';
import { hasErrorCode } from '@zonekeeper/core';
import { EXTERNAL_DNS_VERSION } from '@zonekeeper/externaldns-deployer';
import { ROUTE53_THROTTLING_2026 } from '@zonekeeper/zone-manager';
import { describe, expect, it } from 'vitest';
import {
  clusterIntervalSeconds,
  clusterMinEventSyncSeconds,
  clusterZonesCacheSeconds,
  type FleetAccountPlan,
  type FleetBudgetOptions,
  type FleetBudgetPlan,
  type FleetShape,
  goDuration,
  planFleetBudget,
  validateFleetExternalDnsSettings,
  withFleetExternalDnsSettings,
} from './budget.js';

function fits(plan: FleetBudgetPlan): FleetAccountPlan {
  if (plan.outcome !== 'fits') throw new Error(`expected a plan that fits, got ${plan.message}`);
  return plan;
}

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

/** The account total, recomputed from the documented formula (events on, no changes). */
function independentRate(fleet: FleetShape, plan: FleetAccountPlan): number {
  const clusters = plan.organizations * fleet.clustersPerOrganization;
  const zones = plan.organizations + (fleet.otherZonesPerAccount ?? 1);
  const i = plan.settings.intervalSeconds;
  const d = plan.settings.zonesCacheSeconds;
  const records = Math.max(1, Math.ceil(fleet.recordSetsPerZone / 300)) / i;
  const listings = Math.max(1, Math.ceil(zones / 100)) * Math.min(1 / i, 1 / d);
  return clusters * (records + listings);
}

describe('planFleetBudget', () => {
  it('fits a small fleet at the shortest interval, ExternalDNS default cache off replaced by 1 h', () => {
    const fleet = { organizations: 50, clustersPerOrganization: 2, recordSetsPerZone: 40 };
    const plan = fits(planFleetBudget(fleet));
    expect(plan.settings).toEqual({
      externalDnsVersion: EXTERNAL_DNS_VERSION,
      intervalSeconds: 60,
      interval: '1m',
      jitterSeconds: 17, // 100 clusters × 1 read ÷ 6 requests/s
      zonesCacheSeconds: 3600,
      zonesCacheDuration: '1h',
      zonesCacheJitterSeconds: 3600,
      events: true,
      // Churn: 100 clusters reading 1 page a loop may loop every 11 s within the account's 10/s.
      minEventSyncSeconds: 11,
      minEventSyncInterval: '11s',
      minEventSyncJitterSeconds: 11,
      batchChangeSize: 1000,
    });
    expect(plan.reasons).toEqual(['minimum-interval', 'event-sync-raised']);
    expect(plan.load.churnRequestsPerSecond).toBeLessThanOrEqual(10);
    expect(plan.zones).toBe(51);
    expect(plan.load.requestsPerSecond).toBeCloseTo(independentRate(fleet, plan), 12);
    expect(plan.load.budgetRequestsPerSecond).toBe(6);
    // Restart: every cluster lists 1 page of zones and reads 1 page of records.
    expect(plan.load.restartRequests).toBe(200);
  });

  it('raises the interval when the fleet outgrows the shortest one', () => {
    const fleet = { organizations: 200, clustersPerOrganization: 3, recordSetsPerZone: 400 };
    const plan = fits(planFleetBudget(fleet));
    // 600 clusters × 2 pages = 1,200 reads per round; at 6/s a round needs ≥ 200 s: 4 min.
    expect(plan.settings.interval).toBe('4m');
    expect(plan.reasons).toEqual(['interval-raised', 'event-sync-raised']);
    expect(plan.load.requestsPerSecond).toBeLessThanOrEqual(6);
  });

  it('needs a second account for the 500th organisation zone (the parent zone takes one of the quota)', () => {
    const plan = planFleetBudget({ organizations: 500, clustersPerOrganization: 1, recordSetsPerZone: 10 });
    expect(plan).toMatchObject({
      outcome: 'needs-accounts',
      accounts: 2,
      organizationsPerAccount: 250,
      reasons: ['zone-quota'],
    });
    expect(
      fits(planFleetBudget({ organizations: 499, clustersPerOrganization: 1, recordSetsPerZone: 10 })),
    ).toMatchObject({ zones: 500 });
  });

  it('needs accounts for the request budget alone when the interval may not grow', () => {
    const plan = planFleetBudget(
      { organizations: 100, clustersPerOrganization: 10, recordSetsPerZone: 100 },
      { maxIntervalSeconds: 60 },
    );
    // 1,000 clusters × 1 read a minute = 16.7/s; 6/s per account: 3 accounts (34 organisations, 340 clusters, 5.8/s).
    expect(plan).toMatchObject({ outcome: 'needs-accounts', accounts: 3, reasons: ['request-budget'] });
  });

  it('says impossible when one organisation alone exceeds an account, or other zones fill the quota', () => {
    expect(
      planFleetBudget(
        { organizations: 3, clustersPerOrganization: 400, recordSetsPerZone: 10 },
        { maxIntervalSeconds: 60 },
      ),
    ).toMatchObject({ outcome: 'impossible', reasons: ['organization-exceeds-budget'] });
    expect(
      planFleetBudget({
        organizations: 3,
        clustersPerOrganization: 1,
        recordSetsPerZone: 10,
        otherZonesPerAccount: 500,
      }),
    ).toMatchObject({ outcome: 'impossible', reasons: ['no-zone-room'] });
  });

  it('follows the throttling table: a slower account bucket, or a slow action bucket, raises the interval', () => {
    const fleet = { organizations: 100, clustersPerOrganization: 2, recordSetsPerZone: 10 };
    expect(fits(planFleetBudget(fleet)).settings.interval).toBe('1m');
    const slowAccount = { ...ROUTE53_THROTTLING_2026, account: { capacity: 50, refillPerSecond: 2 } };
    const a = fits(planFleetBudget(fleet, { table: slowAccount }));
    expect(a.settings.interval).toBe('3m'); // 200 reads per round at 1.2/s ≥ 167 s
    const slowReads = {
      ...ROUTE53_THROTTLING_2026,
      actions: {
        ...ROUTE53_THROTTLING_2026.actions,
        ListResourceRecordSets: { capacity: 10, refillPerSecond: 1 },
      },
    };
    const b = fits(planFleetBudget(fleet, { table: slowReads }));
    expect(b.settings.interval).toBe('6m'); // 200 reads per round at 0.6/s ≥ 333 s
    const reads = b.load.buckets.find((x) => x.bucket === 'ListResourceRecordSets');
    expect(reads?.requestsPerSecond).toBeLessThanOrEqual(reads?.budgetRequestsPerSecond ?? 0);
  });

  it('bounds the batch size by the change bucket when the table has one', () => {
    const table = { ...ROUTE53_THROTTLING_2026, changes: { capacity: 100, refillPerSecond: 10 } };
    const plan = fits(
      planFleetBudget({ organizations: 10, clustersPerOrganization: 1, recordSetsPerZone: 10 }, { table }),
    );
    expect(plan.settings.batchChangeSize).toBe(60);
    expect(plan.reasons).toContain('change-bucket');
  });

  it('keeps record changes within the change bucket: too many changes need another account', () => {
    const table = { ...ROUTE53_THROTTLING_2026, changes: { capacity: 100, refillPerSecond: 1 } };
    // 100 clusters × 18 change loops an hour × 4 changes = 2 changes/s, above 60 % of 1/s.
    const fleet = {
      organizations: 50,
      clustersPerOrganization: 2,
      recordSetsPerZone: 10,
      changeLoopsPerClusterPerHour: 18,
    };
    const plan = planFleetBudget(fleet, { table });
    expect(plan).toMatchObject({ outcome: 'needs-accounts', accounts: 4, reasons: ['request-budget'] });
    if (plan.outcome !== 'needs-accounts') return;
    const changes = plan.perAccount.load.buckets.find((b) => b.bucket === 'changes');
    expect(changes?.requestsPerSecond).toBeCloseTo((26 * 18 * 4) / 3600, 12); // 13 organisations, 26 clusters
    expect(changes?.requestsPerSecond).toBeLessThanOrEqual(changes?.budgetRequestsPerSecond ?? 0);
    // Without a change bucket in the table, the same fleet fits one account.
    expect(planFleetBudget(fleet).outcome).toBe('fits');
  });

  it('counts change loops: with --events each is a loop of its own; without, they wait for the next loop', () => {
    const fleet = {
      organizations: 2,
      clustersPerOrganization: 10,
      recordSetsPerZone: 10,
      changeLoopsPerClusterPerHour: 120,
    };
    const on = fits(planFleetBudget(fleet));
    const off = fits(planFleetBudget(fleet, { events: false }));
    const changes = (p: FleetAccountPlan) =>
      p.load.buckets.find((b) => b.bucket === 'ChangeResourceRecordSets')?.requestsPerSecond;
    expect(changes(on)).toBeCloseTo((20 * 120) / 3600, 12);
    expect(changes(off)).toBeCloseTo(20 / 60, 12); // at most one change loop a minute
    expect(off.reasons).toContain('events-off');
  });

  it('keeps burstSigmas standard deviations of the change loops free above their mean', () => {
    // 40 record sets: one page per read; 4 changes per name: one batch. A change loop costs 2 calls.
    const fleet = {
      organizations: 100,
      clustersPerOrganization: 2,
      recordSetsPerZone: 40,
      changeLoopsPerClusterPerHour: 2,
    };
    const plan = fits(planFleetBudget(fleet));
    const rate = Math.min(2 / 3600, 1 / plan.settings.minEventSyncSeconds);
    // Poisson: the variance of a minute's count is its mean, 200 clusters × rate × 60 s; calls² = 4.
    expect(plan.load.burstRequestsPerSecond).toBeCloseTo((3 * Math.sqrt(200 * rate * 60 * 4)) / 60, 12);
    expect(plan.load.requestsPerSecond + plan.load.burstRequestsPerSecond).toBeLessThanOrEqual(
      plan.load.budgetRequestsPerSecond,
    );
    const meanOnly = fits(planFleetBudget(fleet, { burstSigmas: 0 }));
    expect(meanOnly.load.burstRequestsPerSecond).toBe(0);
    expect(meanOnly.settings).toEqual(plan.settings);
    // Without changes there is nothing random to keep room for.
    const still = fits(planFleetBudget({ ...fleet, changeLoopsPerClusterPerHour: 0 }));
    expect(still.load.burstRequestsPerSecond).toBe(0);
  });

  it('needs a longer interval or more accounts for a fleet whose mean fits only without the burst margin', () => {
    // Large zones (7 pages a read) and frequent changes: the change loops' spread is most of the load.
    const fleet = {
      organizations: 40,
      clustersPerOrganization: 10,
      recordSetsPerZone: 2000,
      changeLoopsPerClusterPerHour: 6,
    };
    const meanOnly = planFleetBudget(fleet, { burstSigmas: 0 });
    const planned = planFleetBudget(fleet);
    const account = (p: typeof planned) =>
      p.outcome === 'fits' ? p : p.outcome === 'needs-accounts' ? p.perAccount : undefined;
    const a = account(planned) as FleetAccountPlan;
    const m = account(meanOnly) as FleetAccountPlan;
    expect(m.load.requestsPerSecond + a.load.burstRequestsPerSecond).toBeGreaterThan(
      m.load.budgetRequestsPerSecond,
    );
    expect(a.load.requestsPerSecond + a.load.burstRequestsPerSecond).toBeLessThanOrEqual(
      a.load.budgetRequestsPerSecond,
    );
    expect(
      planned.outcome !== meanOnly.outcome ||
        (planned.outcome === 'needs-accounts' &&
          meanOnly.outcome === 'needs-accounts' &&
          planned.accounts > meanOnly.accounts) ||
        a.settings.intervalSeconds > m.settings.intervalSeconds,
    ).toBe(true);
  });

  it.each<[string, FleetShape, FleetBudgetOptions?]>([
    ['no organisations', { organizations: 0, clustersPerOrganization: 1, recordSetsPerZone: 1 }],
    ['half an organisation', { organizations: 1.5, clustersPerOrganization: 1, recordSetsPerZone: 1 }],
    ['negative records', { organizations: 1, clustersPerOrganization: 1, recordSetsPerZone: -1 }],
    [
      'a negative change rate',
      {
        organizations: 1,
        clustersPerOrganization: 1,
        recordSetsPerZone: 1,
        changeLoopsPerClusterPerHour: -1,
      },
    ],
    ['a share of 0', { organizations: 1, clustersPerOrganization: 1, recordSetsPerZone: 1 }, { share: 0 }],
    [
      'a share above 1',
      { organizations: 1, clustersPerOrganization: 1, recordSetsPerZone: 1 },
      { share: 1.5 },
    ],
    [
      'an interval under 1 min',
      { organizations: 1, clustersPerOrganization: 1, recordSetsPerZone: 1 },
      { minIntervalSeconds: 30 },
    ],
    [
      'a longest interval under the shortest',
      { organizations: 1, clustersPerOrganization: 1, recordSetsPerZone: 1 },
      { minIntervalSeconds: 600, maxIntervalSeconds: 300 },
    ],
    [
      'a malformed table',
      { organizations: 1, clustersPerOrganization: 1, recordSetsPerZone: 1 },
      { table: { account: { capacity: 0, refillPerSecond: 1 } } as never },
    ],
    [
      'events that are not a boolean',
      { organizations: 1, clustersPerOrganization: 1, recordSetsPerZone: 1 },
      { events: 'yes' as never },
    ],
    [
      'negative burst sigmas',
      { organizations: 1, clustersPerOrganization: 1, recordSetsPerZone: 1 },
      { burstSigmas: -1 },
    ],
    [
      'burst sigmas above 10',
      { organizations: 1, clustersPerOrganization: 1, recordSetsPerZone: 1 },
      { burstSigmas: 11 },
    ],
  ])('refuses %s with INVALID_INPUT', (_sentence, fleet, options) => {
    expect(
      hasErrorCode(
        errorOf(() => planFleetBudget(fleet, options)),
        'INVALID_INPUT',
      ),
    ).toBe(true);
  });

  it('gives each cluster a stable interval and zone cache within their jitter windows', () => {
    const { settings } = fits(
      planFleetBudget({ organizations: 50, clustersPerOrganization: 2, recordSetsPerZone: 40 }),
    );
    const ids = Array.from({ length: 200 }, (_, i) => `cluster-${i}`);
    const intervals = ids.map((id) => clusterIntervalSeconds(settings, id));
    for (const s of intervals) {
      expect(s).toBeGreaterThanOrEqual(settings.intervalSeconds);
      expect(s).toBeLessThanOrEqual(settings.intervalSeconds + settings.jitterSeconds);
    }
    expect(new Set(intervals).size).toBeGreaterThan(settings.jitterSeconds / 2); // spread, not one value
    expect(ids.map((id) => clusterIntervalSeconds(settings, id))).toEqual(intervals);
    const caches = ids.map((id) => clusterZonesCacheSeconds(settings, id));
    for (const s of caches) {
      expect(s).toBeGreaterThanOrEqual(settings.zonesCacheSeconds);
      expect(s).toBeLessThanOrEqual(settings.zonesCacheSeconds + settings.zonesCacheJitterSeconds);
    }
    expect(new Set(caches).size).toBeGreaterThan(150); // 200 clusters over 3,601 values: nearly all distinct
  });

  it.each([
    [0, '0s'],
    [59, '59s'],
    [90, '1m30s'],
    [3600, '1h'],
    [3690, '1h1m30s'],
  ])('goDuration(%i) is %s', (seconds, text) => {
    expect(goDuration(seconds)).toBe(text);
  });
});

const fleetArb = fc.record({
  organizations: fc.integer({ min: 1, max: 3000 }),
  clustersPerOrganization: fc.integer({ min: 1, max: 40 }),
  recordSetsPerZone: fc.integer({ min: 0, max: 5000 }),
  otherZonesPerAccount: fc.integer({ min: 0, max: 200 }),
  changeLoopsPerClusterPerHour: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 60, noNaN: true })),
});
const optionsArb = fc.record(
  {
    share: fc.double({ min: 0.05, max: 1, noNaN: true }),
    maxIntervalSeconds: fc.integer({ min: 60, max: 7200 }),
    maxZonesCacheSeconds: fc.integer({ min: 1, max: 86_400 }),
    events: fc.boolean(),
    // Sometimes a change-throughput bucket, which the default table does not have.
    table: fc
      .record({
        capacity: fc.integer({ min: 1, max: 500 }),
        refillPerSecond: fc.double({ min: 0.1, max: 20, noNaN: true }),
      })
      .map((changes) => ({ ...ROUTE53_THROTTLING_2026, changes })),
  },
  { requiredKeys: [] },
);

describe('planFleetBudget properties (fast-check)', () => {
  fcTest.prop([fleetArb, optionsArb])(
    'a plan that fits stays within the share of every bucket',
    (fleet, options) => {
      const plan = planFleetBudget(fleet, options);
      const account =
        plan.outcome === 'fits' ? plan : plan.outcome === 'needs-accounts' ? plan.perAccount : undefined;
      if (account === undefined) return;
      for (const b of account.load.buckets)
        expect(b.requestsPerSecond).toBeLessThanOrEqual(b.budgetRequestsPerSecond);
      expect(account.load.requestsPerSecond + account.load.burstRequestsPerSecond).toBeLessThanOrEqual(
        account.load.budgetRequestsPerSecond + 1e-9,
      );
      expect(account.load.utilisation).toBeLessThanOrEqual(options.share ?? 0.6);
      // Constant churn on every cluster may take the rest of the account, never more.
      expect(account.load.churnRequestsPerSecond).toBeLessThanOrEqual(10);
      expect(account.settings.minEventSyncSeconds).toBeGreaterThanOrEqual(5);
      expect(account.settings.minEventSyncSeconds).toBeLessThanOrEqual(account.settings.intervalSeconds);
      expect(account.zones).toBeLessThanOrEqual(500);
      if (!fleet.changeLoopsPerClusterPerHour && (options.events ?? true))
        expect(account.load.requestsPerSecond).toBeCloseTo(independentRate(fleet, account), 9);
    },
  );

  fcTest.prop([fleetArb, optionsArb, fc.integer({ min: 1, max: 20 })])(
    'more clusters per organisation never shorten the interval nor need fewer accounts',
    (fleet, options, more) => {
      const a = planFleetBudget(fleet, options);
      const b = planFleetBudget(
        { ...fleet, clustersPerOrganization: fleet.clustersPerOrganization + more },
        options,
      );
      const accounts = (p: FleetBudgetPlan) =>
        p.outcome === 'impossible' ? Number.POSITIVE_INFINITY : p.accounts;
      expect(accounts(b)).toBeGreaterThanOrEqual(accounts(a));
      if (a.outcome === 'fits' && b.outcome === 'fits') {
        expect(b.settings.intervalSeconds).toBeGreaterThanOrEqual(a.settings.intervalSeconds);
        expect(
          b.settings.zonesCacheSeconds >= a.settings.zonesCacheSeconds ||
            b.settings.intervalSeconds > a.settings.intervalSeconds,
        ).toBe(true);
      }
    },
  );

  fcTest.prop([fleetArb, optionsArb, fc.integer({ min: 1, max: 3000 })])(
    'more organisations never need fewer accounts',
    (fleet, options, more) => {
      const accounts = (p: FleetBudgetPlan) =>
        p.outcome === 'impossible' ? Number.POSITIVE_INFINITY : p.accounts;
      const a = planFleetBudget(fleet, options);
      const b = planFleetBudget({ ...fleet, organizations: fleet.organizations + more }, options);
      expect(accounts(b)).toBeGreaterThanOrEqual(accounts(a));
    },
  );

  fcTest.prop([fleetArb, optionsArb])(
    'a fleet that needs accounts: at least 2, each account fits, one fewer would not',
    (fleet, options) => {
      const plan = planFleetBudget(fleet, options);
      if (plan.outcome !== 'needs-accounts') return;
      expect(plan.accounts).toBeGreaterThanOrEqual(2);
      expect(plan.organizationsPerAccount).toBe(Math.ceil(fleet.organizations / plan.accounts));
      expect(plan.perAccount.organizations).toBe(plan.organizationsPerAccount);
      // The fullest account fits, and so does the emptiest.
      const emptiest = Math.floor(fleet.organizations / plan.accounts);
      if (emptiest > 0)
        expect(planFleetBudget({ ...fleet, organizations: emptiest }, options).outcome).toBe('fits');
      const fewer = Math.ceil(fleet.organizations / (plan.accounts - 1));
      expect(planFleetBudget({ ...fleet, organizations: fewer }, options).outcome).not.toBe('fits');
    },
  );

  fcTest.prop([fleetArb, optionsArb, fc.string({ minLength: 1, maxLength: 63 })])(
    'every planned setting is one attachCluster accepts and renders within its windows',
    (fleet, options, clusterId) => {
      const plan = planFleetBudget(fleet, options);
      const account =
        plan.outcome === 'fits' ? plan : plan.outcome === 'needs-accounts' ? plan.perAccount : undefined;
      if (account === undefined) return;
      expect(validateFleetExternalDnsSettings(account.settings)).toEqual(account.settings);
      const rendered = withFleetExternalDnsSettings({}, account.settings, clusterId);
      const interval = clusterIntervalSeconds(account.settings, clusterId);
      expect(rendered.interval).toBe(goDuration(interval));
      expect(interval - account.settings.intervalSeconds).toBeLessThanOrEqual(account.settings.jitterSeconds);
      expect(rendered.extraArgs).toContain(`--aws-batch-change-size=${account.settings.batchChangeSize}`);
      const sync = clusterMinEventSyncSeconds(account.settings, clusterId);
      expect(sync - account.settings.minEventSyncSeconds).toBeLessThanOrEqual(
        account.settings.minEventSyncJitterSeconds,
      );
      expect(rendered.extraArgs.includes(`--min-event-sync-interval=${goDuration(sync)}`)).toBe(
        account.settings.events,
      );
    },
  );

  fcTest.prop([fleetArb, optionsArb])('is JSON data and deterministic', (fleet, options) => {
    const plan = planFleetBudget(fleet, options);
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
    expect(planFleetBudget(fleet, options)).toEqual(plan);
  });
});
