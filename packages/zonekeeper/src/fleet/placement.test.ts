/**
 * Account placement: table tests keyed by sentences, and properties (fast-check) — a placed
 * organisation never moves, a new one goes to the account with the most headroom (ties to the smallest
 * id), no account is planned over its quota or budget, the same input (in any order) gives the same plan.
 */

import { fc, test as fcTest } from '@fast-check/vitest';
import { hasErrorCode } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { type PlacementAccount, type PlacementInput, planPlacement } from './placement.js';

const ORGS = ['acme', 'globex', 'initech', 'umbrella', 'hooli'] as const;
const IDS = ['111111111111', '222222222222', '333333333333', 'a', 'b'] as const;

const accountArb = (id: string): fc.Arbitrary<PlacementAccount> =>
  fc
    .record({
      zoneQuota: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
      zonesInUse: fc.integer({ min: 0, max: 25 }),
      maxOrganizations: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
    })
    .map((a) => ({
      id,
      zonesInUse: a.zonesInUse,
      ...(a.zoneQuota === undefined ? {} : { zoneQuota: a.zoneQuota }),
      ...(a.maxOrganizations === undefined ? {} : { maxOrganizations: a.maxOrganizations }),
    }));

const inputArb: fc.Arbitrary<PlacementInput> = fc.subarray([...IDS], { minLength: 1 }).chain((ids) =>
  fc.record({
    accounts: fc.tuple(...ids.map(accountArb)),
    placed: fc.array(
      fc.record({
        organization: fc.constantFrom(...ORGS),
        account: fc.constantFrom(...ids),
        source: fc.constantFrom('zone' as const, 'record' as const),
      }),
      { maxLength: 8 },
    ),
    organization: fc.constantFrom(...ORGS),
  }),
);

describe('planPlacement', () => {
  it('sends a new organisation to the account with the most headroom', () => {
    const plan = planPlacement({
      accounts: [
        { id: '111111111111', zonesInUse: 480 },
        { id: '222222222222', zonesInUse: 12 },
      ],
      placed: [],
      organization: 'acme',
    });
    expect(plan).toMatchObject({ outcome: 'placed', account: '222222222222', reason: 'most-headroom' });
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });

  it('counts the budget: an account whose budget is full gets no new organisation', () => {
    const plan = planPlacement({
      accounts: [
        { id: 'a', zonesInUse: 2, maxOrganizations: 2 },
        { id: 'b', zonesInUse: 300, maxOrganizations: 100 },
      ],
      placed: [
        { organization: 'acme', account: 'a', source: 'zone' },
        { organization: 'globex', account: 'a', source: 'record' },
      ],
      organization: 'initech',
    });
    expect(plan).toMatchObject({ outcome: 'placed', account: 'b' });
    expect(plan.headroom[0]).toEqual({ account: 'a', zoneHeadroom: 498, budgetHeadroom: 0, headroom: 0 });
  });

  it('keeps a placed organisation where it is, even in a full account', () => {
    const plan = planPlacement({
      accounts: [
        { id: 'a', zonesInUse: 500 },
        { id: 'b', zonesInUse: 0 },
      ],
      placed: [{ organization: 'acme', account: 'a', source: 'zone' }],
      organization: 'acme',
    });
    expect(plan).toMatchObject({ outcome: 'placed', account: 'a', reason: 'already-placed' });
  });

  it('refuses with no-capacity when every account is at its quota', () => {
    const plan = planPlacement({
      accounts: [
        { id: 'a', zonesInUse: 500 },
        { id: 'b', zoneQuota: 10, zonesInUse: 10 },
      ],
      placed: [],
      organization: 'acme',
    });
    expect(plan).toMatchObject({ outcome: 'refused', reason: 'no-capacity', accounts: [] });
  });

  it('refuses an organisation placed in two accounts, and one placed in an unknown account', () => {
    const accounts = [
      { id: 'a', zonesInUse: 0 },
      { id: 'b', zonesInUse: 0 },
    ];
    expect(
      planPlacement({
        accounts,
        placed: [
          { organization: 'acme', account: 'b', source: 'zone' },
          { organization: 'acme', account: 'a', source: 'record' },
        ],
        organization: 'acme',
      }),
    ).toMatchObject({ outcome: 'refused', reason: 'placed-in-several-accounts', accounts: ['a', 'b'] });
    expect(
      planPlacement({
        accounts,
        placed: [{ organization: 'acme', account: 'c', source: 'record' }],
        organization: 'acme',
      }),
    ).toMatchObject({ outcome: 'refused', reason: 'unknown-account', accounts: ['c'] });
  });

  it.each([
    ['no accounts', { accounts: [], placed: [], organization: 'acme' }],
    [
      'a duplicate account',
      {
        accounts: [
          { id: 'a', zonesInUse: 0 },
          { id: 'a', zonesInUse: 1 },
        ],
        placed: [],
        organization: 'acme',
      },
    ],
    [
      'a fractional quota',
      { accounts: [{ id: 'a', zonesInUse: 0, zoneQuota: 1.5 }], placed: [], organization: 'acme' },
    ],
    ['a negative zone count', { accounts: [{ id: 'a', zonesInUse: -1 }], placed: [], organization: 'acme' }],
    ['an invalid account id', { accounts: [{ id: 'a/b', zonesInUse: 0 }], placed: [], organization: 'acme' }],
    [
      'an invalid organisation',
      { accounts: [{ id: 'a', zonesInUse: 0 }], placed: [], organization: 'Not An Org' },
    ],
  ])('refuses %s with INVALID_INPUT', (_name, input) => {
    let error: unknown;
    try {
      planPlacement(input as PlacementInput);
    } catch (e) {
      error = e;
    }
    expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
  });

  fcTest.prop([inputArb])('an organisation placed in exactly one known account never moves', (input) => {
    const where = new Set(
      input.placed.filter((p) => p.organization === input.organization).map((p) => p.account),
    );
    fc.pre(where.size === 1);
    const plan = planPlacement(input);
    expect(plan).toMatchObject({ outcome: 'placed', account: [...where][0], reason: 'already-placed' });
  });

  fcTest.prop([inputArb])(
    'a new organisation goes to the account with the most headroom, ties to the smallest id, within quota and budget',
    (input) => {
      fc.pre(!input.placed.some((p) => p.organization === input.organization));
      const plan = planPlacement(input);
      const room = (a: PlacementAccount) => {
        const orgs = new Set(input.placed.filter((p) => p.account === a.id).map((p) => p.organization)).size;
        const zones = (a.zoneQuota ?? 500) - a.zonesInUse;
        return a.maxOrganizations === undefined ? zones : Math.min(zones, a.maxOrganizations - orgs);
      };
      const candidates = input.accounts.filter((a) => room(a) >= 1);
      if (candidates.length === 0) {
        expect(plan).toMatchObject({ outcome: 'refused', reason: 'no-capacity' });
        return;
      }
      const most = Math.max(...candidates.map(room));
      const expected = candidates
        .filter((a) => room(a) === most)
        .map((a) => a.id)
        .sort()[0];
      expect(plan).toMatchObject({ outcome: 'placed', account: expected, reason: 'most-headroom' });
      const chosen = input.accounts.find((a) => a.id === (plan as { account: string }).account);
      expect(chosen && chosen.zonesInUse + 1).toBeLessThanOrEqual(chosen?.zoneQuota ?? 500);
    },
  );

  fcTest.prop([inputArb, fc.integer()])(
    'the same input, in any order, gives the same plan',
    (input, seed) => {
      const shuffle = <T>(xs: readonly T[]) =>
        xs
          .map((x, i) => ({ x, k: Math.imul(i + 1, seed | 1) >>> 0 }))
          .sort((a, b) => a.k - b.k)
          .map((e) => e.x);
      const a = planPlacement(input);
      expect(planPlacement(structuredClone(input))).toEqual(a);
      expect(
        planPlacement({ ...input, accounts: shuffle(input.accounts), placed: shuffle(input.placed) }),
      ).toEqual(a);
    },
  );
});
