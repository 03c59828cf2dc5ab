import { hasErrorCode } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { organizationCallerReference, ZoneTags } from './ownership.js';
import {
  type ObservedZone,
  type OrganizationZoneState,
  type OrganizationZoneStep,
  planOrganizationZone,
  sortCanonically,
} from './plan-zone.js';

const NOW = new Date('2026-04-10T08:00:00.000Z');
const ZONE = 'acme.example.com';
const desired = { organization: 'acme', baseDomain: 'example.com', nonce: 'abc12345' };
const NS_A = ['ns-1.awsdns-01.com', 'ns-2.awsdns-02.net', 'ns-3.awsdns-03.org', 'ns-4.awsdns-04.co.uk'];
const NS_B = ['ns-5.awsdns-05.com', 'ns-6.awsdns-06.net', 'ns-7.awsdns-07.org', 'ns-8.awsdns-08.co.uk'];
const NS_C = ['ns-9.awsdns-09.com', 'ns-10.awsdns-10.net', 'ns-11.awsdns-11.org', 'ns-12.awsdns-12.co.uk'];

const tagsFor = (org: string, createdAt?: string) => ({
  [ZoneTags.managedBy]: 'zonekeeper',
  [ZoneTags.organization]: org,
  ...(createdAt ? { [ZoneTags.createdAt]: createdAt } : {}),
});

/** A managed zone of acme, fully tagged. */
function managed(
  id: string,
  createdAt: string,
  nameServers = NS_A,
  extra: Partial<ObservedZone> = {},
): ObservedZone {
  return {
    id,
    name: ZONE,
    callerReference: organizationCallerReference(ZONE, new Date(createdAt), 'n'),
    tags: tagsFor('acme', createdAt),
    nameServers,
    recordSetCount: 2,
    ...extra,
  };
}

function state(
  zones: ObservedZone[],
  delegation?: { ttl?: number; values: readonly string[] },
): OrganizationZoneState {
  return {
    zones,
    parent: { id: 'ZPARENT', name: 'example.com' },
    ...(delegation ? { delegation } : {}),
  };
}

const delegated = (ns: readonly string[], ttl = 300) => ({ ttl, values: ns.map((s) => `${s}.`) });

interface Row {
  readonly current: OrganizationZoneState;
  readonly ops: readonly string[];
  readonly zoneId: string | null;
  readonly duplicates?: readonly string[];
  readonly check?: (steps: readonly OrganizationZoneStep[]) => void;
}

const rows: Record<string, Row> = {
  'no zone yet: create it, tag it with the change time, delegate to its name servers': {
    current: state([]),
    ops: ['create-zone', 'tag-zone', 'upsert-delegation'],
    zoneId: null,
    check: (steps) => {
      expect(steps[0]).toEqual({
        op: 'create-zone',
        zoneName: ZONE,
        organization: 'acme',
        callerReference: organizationCallerReference(ZONE, NOW, 'abc12345'),
        comment: 'Managed by zonekeeper for organisation acme',
      });
      expect(steps[1]).toMatchObject({ zoneId: null, createdAt: 'create-change', reason: 'new-zone' });
      expect(steps[2]).toMatchObject({
        parentZoneId: 'ZPARENT',
        recordName: ZONE,
        ttl: 300,
        nameServers: null,
      });
    },
  },
  'a tagged zone delegated correctly: nothing to do': {
    current: state([managed('Z1', '2026-01-01T00:00:00.000Z')], delegated(NS_A)),
    ops: [],
    zoneId: 'Z1',
  },
  'delegation name servers compare as a set, case and trailing dots ignored': {
    current: state([managed('Z1', '2026-01-01T00:00:00.000Z')], {
      ttl: 300,
      values: [...NS_A].reverse().map((s) => `${s.toUpperCase()}.`),
    }),
    ops: [],
    zoneId: 'Z1',
  },
  'a tagged zone without a delegation: add it': {
    current: state([managed('Z1', '2026-01-01T00:00:00.000Z')]),
    ops: ['upsert-delegation'],
    zoneId: 'Z1',
    check: (steps) => expect(steps[0]).toMatchObject({ nameServers: NS_A, ttl: 300 }),
  },
  'a delegation with another TTL: replace it': {
    current: state([managed('Z1', '2026-01-01T00:00:00.000Z')], delegated(NS_A, 86_400)),
    ops: ['upsert-delegation'],
    zoneId: 'Z1',
  },
  'our CallerReference without tags (crash after create): repair all tags, created-at from the reference': {
    current: state([{ ...managed('Z1', '2026-04-10T07:59:00.000Z'), tags: {} }], delegated(NS_A)),
    ops: ['tag-zone'],
    zoneId: 'Z1',
    check: (steps) =>
      expect(steps[0]).toEqual({
        op: 'tag-zone',
        zoneId: 'Z1',
        tags: tagsFor('acme', '2026-04-10T07:59:00.000Z'),
        createdAt: 'caller-reference',
        reason: 'missing-tags',
      }),
  },
  'tagged by us but created-at missing and no reference of ours: created-at is now, and the step says so': {
    current: state(
      [{ ...managed('Z1', '2026-01-01T00:00:00.000Z'), callerReference: 'console-1', tags: tagsFor('acme') }],
      delegated(NS_A),
    ),
    ops: ['tag-zone'],
    zoneId: 'Z1',
    check: (steps) =>
      expect(steps[0]).toMatchObject({ tags: { [ZoneTags.createdAt]: NOW.toISOString() }, createdAt: 'now' }),
  },
  'two zones of ours: the oldest is canonical, the empty younger one is deleted': {
    current: state(
      [managed('Z2', '2026-02-01T00:00:00.000Z', NS_B), managed('Z9', '2026-01-01T00:00:00.000Z')],
      delegated(NS_A),
    ),
    ops: ['delete-duplicate-zone'],
    zoneId: 'Z9',
    duplicates: ['Z2'],
    check: (steps) =>
      expect(steps[0]).toEqual({
        op: 'delete-duplicate-zone',
        zoneId: 'Z2',
        zoneName: ZONE,
        nameServers: NS_B,
        canonicalZoneId: 'Z9',
        canonicalNameServers: NS_A,
        parentZoneId: 'ZPARENT',
      }),
  },
  'equal ages: the lowest id wins': {
    current: state(
      [managed('ZB', '2026-01-01T00:00:00.000Z', NS_B), managed('ZA', '2026-01-01T00:00:00.000Z')],
      delegated(NS_A),
    ),
    ops: ['delete-duplicate-zone'],
    zoneId: 'ZA',
    duplicates: ['ZB'],
  },
  'delegation pointing at a duplicate: re-point it first, then delete the duplicate': {
    current: state(
      [managed('Z1', '2026-01-01T00:00:00.000Z'), managed('Z2', '2026-01-02T00:00:00.000Z', NS_B)],
      delegated(NS_B),
    ),
    ops: ['upsert-delegation', 'delete-duplicate-zone'],
    zoneId: 'Z1',
    duplicates: ['Z2'],
  },
  'a duplicate with records is kept (and tagged), and reported': {
    current: state(
      [
        managed('Z1', '2026-01-01T00:00:00.000Z'),
        { ...managed('Z2', '2026-01-02T00:00:00.000Z', NS_B), recordSetCount: 3, tags: {} },
      ],
      delegated(NS_A),
    ),
    ops: ['tag-zone'],
    zoneId: 'Z1',
    duplicates: ['Z2'],
    check: (steps) => expect(steps[0]).toMatchObject({ zoneId: 'Z2', reason: 'missing-tags' }),
  },
  'a protected duplicate is kept': {
    current: state(
      [
        managed('Z1', '2026-01-01T00:00:00.000Z'),
        managed('Z2', '2026-01-02T00:00:00.000Z', NS_B, {
          tags: { ...tagsFor('acme', '2026-01-02T00:00:00.000Z'), [ZoneTags.protected]: 'true' },
        }),
      ],
      delegated(NS_A),
    ),
    ops: [],
    zoneId: 'Z1',
    duplicates: ['Z2'],
  },
  'a duplicate whose record count is unknown is kept': {
    current: state(
      [
        managed('Z1', '2026-01-01T00:00:00.000Z'),
        { ...managed('Z2', '2026-01-02T00:00:00.000Z', NS_B), recordSetCount: undefined as never },
      ],
      delegated(NS_A),
    ),
    ops: [],
    zoneId: 'Z1',
    duplicates: ['Z2'],
  },
  'an untagged zone of ours is ordered by the instant in its CallerReference': {
    current: state(
      [
        managed('Z1', '2026-03-01T00:00:00.000Z'),
        { ...managed('Z2', '2026-02-01T00:00:00.000Z', NS_B), tags: {} },
      ],
      delegated(NS_A),
    ),
    ops: ['tag-zone', 'upsert-delegation', 'delete-duplicate-zone'],
    zoneId: 'Z2',
    duplicates: ['Z1'],
  },
  'ten concurrent creations (one delegated): one canonical, nine empty duplicates deleted': {
    current: state(
      Array.from({ length: 10 }, (_, i) =>
        managed(
          `Z${i}`,
          `2026-04-10T07:59:5${i}.000Z`,
          i === 0 ? NS_A : i === 7 ? NS_C : NS_B.map((s) => s.replace('ns-', `ns${i}-`)),
        ),
      ),
      delegated(NS_C),
    ),
    ops: ['upsert-delegation', ...Array.from({ length: 9 }, () => 'delete-duplicate-zone')],
    zoneId: 'Z0',
    duplicates: ['Z1', 'Z2', 'Z3', 'Z4', 'Z5', 'Z6', 'Z7', 'Z8', 'Z9'],
  },
};

describe('planOrganizationZone', () => {
  for (const [sentence, row] of Object.entries(rows)) {
    it(sentence, () => {
      const plan = planOrganizationZone(row.current, desired, NOW);
      expect(plan.steps.map((s) => s.op)).toEqual(row.ops);
      expect(plan.zoneId).toBe(row.zoneId);
      expect(plan.duplicates).toEqual(row.duplicates ?? []);
      expect(plan.zoneName).toBe(ZONE);
      row.check?.(plan.steps);
      // Plans are JSON data and deterministic.
      expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
      expect(planOrganizationZone(row.current, desired, NOW)).toEqual(plan);
    });
  }

  const notOwned: Record<string, ObservedZone> = {
    'a zone with the name but neither our tags nor our CallerReference is NOT_OWNED': {
      ...managed('ZX', '2026-01-01T00:00:00.000Z'),
      callerReference: 'terraform-123',
      tags: {},
    },
    'a zone tagged by zonekeeper for another organisation is NOT_OWNED': {
      ...managed('ZX', '2026-01-01T00:00:00.000Z'),
      tags: tagsFor('globex', '2026-01-01T00:00:00.000Z'),
    },
    'a zone tagged managed-by someone else is NOT_OWNED even with our CallerReference': {
      ...managed('ZX', '2026-01-01T00:00:00.000Z'),
      tags: { [ZoneTags.managedBy]: 'terraform' },
    },
    'a CallerReference of ours for another name is not ours': {
      ...managed('ZX', '2026-01-01T00:00:00.000Z'),
      callerReference: organizationCallerReference('globex.example.com', NOW, 'x'),
      tags: {},
    },
  };
  for (const [sentence, zone] of Object.entries(notOwned)) {
    it(sentence, () => {
      let error: unknown;
      try {
        planOrganizationZone(
          state([managed('Z1', '2026-01-01T00:00:00.000Z'), zone], delegated(NS_A)),
          desired,
          NOW,
        );
      } catch (e) {
        error = e;
      }
      expect(hasErrorCode(error, 'NOT_OWNED')).toBe(true);
      expect((error as Error).message).toContain('ZX');
      expect((error as Error).message).toContain('never adopts');
    });
  }

  const foreignParent: Record<string, OrganizationZoneState> = {
    'no zone yet and the parent delegates the name elsewhere (issue #10: never UPSERT over it)': state(
      [],
      delegated(NS_B),
    ),
    'our zone exists but the parent delegates the name to other name servers': state(
      [managed('Z1', '2026-01-01T00:00:00.000Z')],
      delegated(NS_B),
    ),
    'the parent holds an A record at the name (www next to an NS)': {
      ...state([]),
      parentRecords: [{ name: ZONE, type: 'A' }],
    },
    'the parent holds a record below the name, which a delegation would hide': {
      ...state([managed('Z1', '2026-01-01T00:00:00.000Z')], delegated(NS_A)),
      parentRecords: [{ name: `www.${ZONE}`, type: 'CNAME' }],
    },
  };
  for (const [sentence, current] of Object.entries(foreignParent)) {
    it(`refuses, NOT_OWNED, when ${sentence}`, () => {
      let error: unknown;
      try {
        planOrganizationZone(current, desired, NOW);
      } catch (e) {
        error = e;
      }
      expect(hasErrorCode(error, 'NOT_OWNED')).toBe(true);
      expect((error as Error).message).toMatch(/parent zone example\.com/);
      expect((error as Error).message).toMatch(/refuses|never replaces/);
    });
  }

  it('a delegation to any of our zones (a duplicate) is ours to re-point', () => {
    const plan = planOrganizationZone(
      state(
        [managed('Z1', '2026-01-01T00:00:00.000Z'), managed('Z2', '2026-02-01T00:00:00.000Z', NS_B)],
        delegated(NS_B),
      ),
      desired,
      NOW,
    );
    expect(plan.steps.map((s) => s.op)).toEqual(['upsert-delegation', 'delete-duplicate-zone']);
  });

  it('rejects bad desired values and now with INVALID_INPUT', () => {
    const bad: [string, () => unknown][] = [
      [
        'uppercase organisation',
        () => planOrganizationZone(state([]), { ...desired, organization: 'Acme' }, NOW),
      ],
      ['TLD base domain', () => planOrganizationZone(state([]), { ...desired, baseDomain: 'com' }, NOW)],
      ['zero TTL', () => planOrganizationZone(state([]), { ...desired, delegationTtl: 0 }, NOW)],
      ['invalid now', () => planOrganizationZone(state([]), desired, new Date(Number.NaN))],
    ];
    for (const [what, call] of bad) {
      let error: unknown;
      try {
        call();
      } catch (e) {
        error = e;
      }
      expect(hasErrorCode(error, 'INVALID_INPUT'), what).toBe(true);
    }
  });

  it('uses a configured delegation TTL', () => {
    const plan = planOrganizationZone(
      state([managed('Z1', '2026-01-01T00:00:00.000Z')], delegated(NS_A)),
      { ...desired, delegationTtl: 60 },
      NOW,
    );
    expect(plan.steps).toEqual([expect.objectContaining({ op: 'upsert-delegation', ttl: 60 })]);
  });

  it('orders canonically regardless of input order', () => {
    const zones = [
      managed('Z3', '2026-01-03T00:00:00.000Z'),
      managed('Z1', '2026-01-01T00:00:00.000Z'),
      { ...managed('Z0', '2026-01-01T00:00:00.000Z'), callerReference: 'x', tags: tagsFor('acme') },
      managed('Z2', '2026-01-01T00:00:00.000Z'),
    ];
    expect(sortCanonically(zones, ZONE).map((z) => z.id)).toEqual(['Z1', 'Z2', 'Z3', 'Z0']);
    expect(sortCanonically([...zones].reverse(), ZONE).map((z) => z.id)).toEqual(['Z1', 'Z2', 'Z3', 'Z0']);
  });
});
