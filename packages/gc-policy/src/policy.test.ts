import { hasErrorCode } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import {
  decideZoneFate,
  type GcPolicyOptions,
  nextChargeAt,
  planGarbageCollection,
  type ZoneDecision,
  type ZoneFacts,
} from './index.js';

const H = 3_600_000;
const MIN = 60_000;
const at = (iso: string) => new Date(iso);
const plus = (d: Date, ms: number) => new Date(d.getTime() + ms);
const unused = (createdAt?: Date, extra: Partial<ZoneFacts> = {}): ZoneFacts => ({
  zoneId: 'Z1',
  managed: true,
  inUse: false,
  ...(createdAt ? { createdAt } : {}),
  ...extra,
});

const MID_MARCH = at('2026-03-15T12:00:00.000Z');

describe('nextChargeAt', () => {
  const table: Record<string, [string, string]> = {
    'the middle of a month charges on the 1st of the next': [
      '2026-03-15T12:00:00.000Z',
      '2026-04-01T00:00:00.000Z',
    ],
    'exactly midnight on the 1st is itself a charge, so the next is a month later': [
      '2026-03-01T00:00:00.000Z',
      '2026-04-01T00:00:00.000Z',
    ],
    'one millisecond before midnight on the 1st charges at that midnight': [
      '2026-02-28T23:59:59.999Z',
      '2026-03-01T00:00:00.000Z',
    ],
    'December rolls over to January of the next year': [
      '2026-12-31T23:59:59.999Z',
      '2027-01-01T00:00:00.000Z',
    ],
    'February in a leap year ends on the 29th': ['2028-02-29T12:00:00.000Z', '2028-03-01T00:00:00.000Z'],
    'January 31st charges on February 1st (no day-of-month overflow)': [
      '2026-01-31T18:00:00.000Z',
      '2026-02-01T00:00:00.000Z',
    ],
    'late on the last day in UTC−8 is already the 1st in UTC': [
      '2026-04-01T02:00:00.000Z',
      '2026-05-01T00:00:00.000Z',
    ],
  };
  for (const [sentence, [now, next]] of Object.entries(table)) {
    it(sentence, () => expect(nextChargeAt(at(now)).toISOString()).toBe(next));
  }

  it('rejects an invalid Date', () => {
    expect(() => nextChargeAt(new Date(Number.NaN))).toThrow(/now must be a valid Date/);
    expect(
      hasErrorCode(
        catchError(() => nextChargeAt('2026-03-01' as unknown as Date)),
        'INVALID_INPUT',
      ),
    ).toBe(true);
  });
});

type Row = {
  zone: ZoneFacts;
  now: string;
  action: ZoneDecision['action'];
  reason: ZoneDecision['reason'];
  eligibleAt?: string;
  options?: GcPolicyOptions;
};

const rows: Record<string, Row> = {
  // Rules 1-3: never touched.
  'an unmanaged zone is kept even when unused and new': {
    zone: unused(MID_MARCH, { managed: false }),
    now: MID_MARCH.toISOString(),
    action: 'keep',
    reason: 'NOT_MANAGED',
  },
  'a protected zone is kept even in the charge lead window': {
    zone: unused(undefined, { protected: true }),
    now: '2026-03-31T23:30:00.000Z',
    action: 'keep',
    reason: 'PROTECTED',
  },
  'a zone in use is kept even when it could be deleted free': {
    zone: unused(MID_MARCH, { inUse: true }),
    now: MID_MARCH.toISOString(),
    action: 'keep',
    reason: 'IN_USE',
  },
  // Precedence between rules.
  'not managed wins over protected and in use': {
    zone: unused(MID_MARCH, { managed: false, protected: true, inUse: true }),
    now: MID_MARCH.toISOString(),
    action: 'keep',
    reason: 'NOT_MANAGED',
  },
  'protected wins over in use': {
    zone: unused(MID_MARCH, { protected: true, inUse: true }),
    now: MID_MARCH.toISOString(),
    action: 'keep',
    reason: 'PROTECTED',
  },
  'in use wins over a skewed creation time': {
    zone: unused(plus(MID_MARCH, 24 * H), { inUse: true }),
    now: MID_MARCH.toISOString(),
    action: 'keep',
    reason: 'IN_USE',
  },
  'clock skew wins over the charge lead window': {
    zone: unused(at('2026-04-01T00:00:00.000Z')),
    now: '2026-03-31T23:30:00.000Z',
    action: 'keep',
    reason: 'CLOCK_SKEW',
  },
  'the free window wins over the charge lead window (reported as free)': {
    zone: unused(at('2026-03-31T20:00:00.000Z')),
    now: '2026-03-31T23:30:00.000Z',
    action: 'delete',
    reason: 'FREE_DELETION_WINDOW',
  },
  // Rule 4: clock skew.
  'a creation time 5 min in the future counts as age 0 and is free': {
    zone: unused(plus(MID_MARCH, 5 * MIN)),
    now: MID_MARCH.toISOString(),
    action: 'delete',
    reason: 'FREE_DELETION_WINDOW',
  },
  'a creation time 5 min + 1 ms in the future is clock skew': {
    zone: unused(plus(MID_MARCH, 5 * MIN + 1)),
    now: MID_MARCH.toISOString(),
    action: 'keep',
    reason: 'CLOCK_SKEW',
  },
  'a zero skew tolerance keeps any future creation time': {
    zone: unused(plus(MID_MARCH, 1)),
    now: MID_MARCH.toISOString(),
    action: 'keep',
    reason: 'CLOCK_SKEW',
    options: { clockSkewToleranceMs: 0 },
  },
  // Rule 5: the free window, 12 h minus a 15 min margin = 11 h 45 min.
  'a zone created just now is deleted free': {
    zone: unused(MID_MARCH),
    now: MID_MARCH.toISOString(),
    action: 'delete',
    reason: 'FREE_DELETION_WINDOW',
  },
  'at 11 h 45 min − 1 ms it is still free': {
    zone: unused(MID_MARCH),
    now: plus(MID_MARCH, 11 * H + 45 * MIN - 1).toISOString(),
    action: 'delete',
    reason: 'FREE_DELETION_WINDOW',
  },
  'at exactly 11 h 45 min it is no longer free and waits for the next charge': {
    zone: unused(MID_MARCH),
    now: plus(MID_MARCH, 11 * H + 45 * MIN).toISOString(),
    action: 'defer',
    reason: 'ALREADY_CHARGED',
    eligibleAt: '2026-03-31T23:00:00.000Z',
  },
  'at 11 h 45 min + 1 ms it waits for the next charge': {
    zone: unused(MID_MARCH),
    now: plus(MID_MARCH, 11 * H + 45 * MIN + 1).toISOString(),
    action: 'defer',
    reason: 'ALREADY_CHARGED',
    eligibleAt: '2026-03-31T23:00:00.000Z',
  },
  'a custom window and margin move the boundary': {
    zone: unused(MID_MARCH),
    now: plus(MID_MARCH, 2 * H - 1).toISOString(),
    action: 'delete',
    reason: 'FREE_DELETION_WINDOW',
    options: { freeDeletionWindowMs: 3 * H, freeDeletionMarginMs: H },
  },
  'a margin equal to the window disables free deletion': {
    zone: unused(MID_MARCH),
    now: MID_MARCH.toISOString(),
    action: 'defer',
    reason: 'ALREADY_CHARGED',
    eligibleAt: '2026-03-31T23:00:00.000Z',
    options: { freeDeletionMarginMs: 12 * H },
  },
  // Unknown creation time.
  'an unknown creation time never counts as free': {
    zone: unused(undefined),
    now: MID_MARCH.toISOString(),
    action: 'defer',
    reason: 'ALREADY_CHARGED',
    eligibleAt: '2026-03-31T23:00:00.000Z',
  },
  'an unknown creation time is deleted in the lead window': {
    zone: unused(undefined),
    now: '2026-03-31T23:00:00.000Z',
    action: 'delete',
    reason: 'BEFORE_NEXT_CHARGE',
  },
  // Rule 6 and 7: the charge lead window (1 h before 00:00 UTC on the 1st).
  'one millisecond before the lead window the zone is deferred to its start': {
    zone: unused(at('2026-01-10T00:00:00.000Z')),
    now: '2026-03-31T22:59:59.999Z',
    action: 'defer',
    reason: 'ALREADY_CHARGED',
    eligibleAt: '2026-03-31T23:00:00.000Z',
  },
  'at the first millisecond of the lead window the zone is deleted': {
    zone: unused(at('2026-01-10T00:00:00.000Z')),
    now: '2026-03-31T23:00:00.000Z',
    action: 'delete',
    reason: 'BEFORE_NEXT_CHARGE',
  },
  'at the last millisecond before midnight on the 1st it is still deleted': {
    zone: unused(at('2026-01-10T00:00:00.000Z')),
    now: '2026-03-31T23:59:59.999Z',
    action: 'delete',
    reason: 'BEFORE_NEXT_CHARGE',
  },
  'at exactly midnight on the 1st the new month is paid, so it waits a month': {
    zone: unused(at('2026-01-10T00:00:00.000Z')),
    now: '2026-04-01T00:00:00.000Z',
    action: 'defer',
    reason: 'ALREADY_CHARGED',
    eligibleAt: '2026-04-30T23:00:00.000Z',
  },
  'February of a common year: eligible at 23:00 on the 28th': {
    zone: unused(undefined),
    now: '2026-02-15T00:00:00.000Z',
    action: 'defer',
    reason: 'ALREADY_CHARGED',
    eligibleAt: '2026-02-28T23:00:00.000Z',
  },
  'February of a leap year: eligible at 23:00 on the 29th': {
    zone: unused(undefined),
    now: '2028-02-15T00:00:00.000Z',
    action: 'defer',
    reason: 'ALREADY_CHARGED',
    eligibleAt: '2028-02-29T23:00:00.000Z',
  },
  'February 28th of a leap year is not yet in the window': {
    zone: unused(undefined),
    now: '2028-02-28T23:30:00.000Z',
    action: 'defer',
    reason: 'ALREADY_CHARGED',
    eligibleAt: '2028-02-29T23:00:00.000Z',
  },
  'December: eligible at 23:00 on New Year’s Eve': {
    zone: unused(undefined),
    now: '2026-12-01T00:00:00.000Z',
    action: 'defer',
    reason: 'ALREADY_CHARGED',
    eligibleAt: '2026-12-31T23:00:00.000Z',
  },
  'New Year’s Eve at 23:30 is deleted before January’s charge': {
    zone: unused(undefined),
    now: '2026-12-31T23:30:00.000Z',
    action: 'delete',
    reason: 'BEFORE_NEXT_CHARGE',
  },
  'a long lead time starts the window earlier': {
    zone: unused(undefined),
    now: '2026-03-29T00:00:00.000Z',
    action: 'delete',
    reason: 'BEFORE_NEXT_CHARGE',
    options: { chargeLeadTimeMs: 3 * 24 * H },
  },
  'a zone created 12 h before the charge is free until 11 h 45 min': {
    zone: unused(at('2026-03-31T12:00:00.000Z')),
    now: '2026-03-31T23:44:59.999Z',
    action: 'delete',
    reason: 'FREE_DELETION_WINDOW',
  },
};

describe('decideZoneFate: the rules, their boundaries and precedence', () => {
  for (const [sentence, row] of Object.entries(rows)) {
    it(sentence, () => {
      const now = at(row.now);
      const d = decideZoneFate(row.zone, now, row.options);
      expect({ action: d.action, reason: d.reason }).toEqual({ action: row.action, reason: row.reason });
      expect(d.zoneId).toBe('Z1');
      expect(d.nextChargeAt.toISOString()).toBe(nextChargeAt(now).toISOString());
      if (row.action === 'defer') expect(d.eligibleAt?.toISOString()).toBe(row.eligibleAt);
      else expect('eligibleAt' in d).toBe(false);
      expect(d.message).toMatch(/^Zone Z1 .+\.$/);
      expect(d.message).not.toMatch(/\n/);
    });
  }

  it('messages say what will happen and when', () => {
    expect(decideZoneFate(unused(undefined), at('2026-03-15T00:00:00.000Z')).message).toBe(
      'Zone Z1 is unused but its month is already paid for, so it is kept until 2026-03-31T23:00:00.000Z, just before the next charge at 2026-04-01T00:00:00.000Z.',
    );
    expect(decideZoneFate(unused(MID_MARCH), plus(MID_MARCH, 3 * H + 10 * MIN)).message).toBe(
      'Zone Z1 is unused and 3 h 10 min old, so deleting it now is free (zones deleted within 12 h of creation are not charged).',
    );
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('bad input throws INVALID_INPUT', () => {
  const now = MID_MARCH;
  const cases: Record<string, [() => unknown, RegExp]> = {
    'an invalid now': [() => decideZoneFate(unused(), new Date('nope')), /now must be a valid Date/],
    'a string as now': [
      () => planGarbageCollection([], '2026-03-01T00:00:00Z' as unknown as Date),
      /now must be a valid Date, got the string/,
    ],
    'an invalid createdAt': [
      () => decideZoneFate(unused(new Date(Number.NaN)), now),
      /createdAt must be a valid Date/,
    ],
    'a string createdAt': [
      () => decideZoneFate({ ...unused(), createdAt: '2026-01-01' as unknown as Date }, now),
      /createdAt must be a valid Date/,
    ],
    'an empty zoneId': [() => decideZoneFate({ ...unused(), zoneId: '' }, now), /empty or missing zoneId/],
    'a missing managed flag': [
      () => decideZoneFate({ zoneId: 'Z', inUse: false } as unknown as ZoneFacts, now),
      /managed must be a boolean/,
    ],
    'a negative option': [
      () => decideZoneFate(unused(), now, { clockSkewToleranceMs: -1 }),
      /clockSkewToleranceMs must be a finite number ≥ 0/,
    ],
    'an infinite option': [
      () => decideZoneFate(unused(), now, { freeDeletionWindowMs: Number.POSITIVE_INFINITY }),
      /freeDeletionWindowMs must be a finite number/,
    ],
    'NaN as an option': [
      () => decideZoneFate(unused(), now, { freeDeletionMarginMs: Number.NaN }),
      /freeDeletionMarginMs must be a finite number/,
    ],
    'a string option': [
      () => decideZoneFate(unused(), now, { chargeLeadTimeMs: '5' as unknown as number }),
      /chargeLeadTimeMs must be a finite number/,
    ],
    'a margin larger than the window': [
      () => decideZoneFate(unused(), now, { freeDeletionWindowMs: H, freeDeletionMarginMs: 2 * H }),
      /must not exceed freeDeletionWindowMs/,
    ],
    'a zero lead time': [
      () => decideZoneFate(unused(), now, { chargeLeadTimeMs: 0 }),
      /postpone deletion forever/,
    ],
    'a lead time of exactly 28 days': [
      () => decideZoneFate(unused(), now, { chargeLeadTimeMs: 28 * 24 * H }),
      /less than 28 days/,
    ],
    'duplicate zoneIds in a plan': [
      () => planGarbageCollection([unused(), unused()], now),
      /Z1 appears more than once/,
    ],
    'a non-array of zones': [
      () => planGarbageCollection({} as unknown as ZoneFacts[], now),
      /zones must be an array/,
    ],
  };
  for (const [sentence, [fn, message]] of Object.entries(cases)) {
    it(`for ${sentence}`, () => {
      const e = catchError(fn);
      expect(hasErrorCode(e, 'INVALID_INPUT')).toBe(true);
      expect((e as Error).message).toMatch(message);
    });
  }

  it('accepts a lead time just under 28 days', () => {
    expect(decideZoneFate(unused(), now, { chargeLeadTimeMs: 28 * 24 * H - 1 }).action).toBe('delete');
  });
});

describe('planGarbageCollection', () => {
  it('keeps input order, lists deletions in order and reviews at the earliest deferral', () => {
    const now = at('2026-02-15T00:00:00.000Z');
    const plan = planGarbageCollection(
      [
        { zoneId: 'Zold', managed: true, inUse: false, createdAt: at('2025-11-01T00:00:00.000Z') },
        { zoneId: 'Znew', managed: true, inUse: false, createdAt: at('2026-02-14T20:00:00.000Z') },
        { zoneId: 'Zused', managed: true, inUse: true },
        { zoneId: 'Zforeign', managed: false, inUse: false },
        { zoneId: 'Znew2', managed: true, inUse: false, createdAt: at('2026-02-14T23:00:00.000Z') },
      ],
      now,
    );
    expect(plan.decisions.map((d) => `${d.zoneId}:${d.action}:${d.reason}`)).toEqual([
      'Zold:defer:ALREADY_CHARGED',
      'Znew:delete:FREE_DELETION_WINDOW',
      'Zused:keep:IN_USE',
      'Zforeign:keep:NOT_MANAGED',
      'Znew2:delete:FREE_DELETION_WINDOW',
    ]);
    expect(plan.toDelete).toEqual(['Znew', 'Znew2']);
    expect(plan.nextReviewAt?.toISOString()).toBe('2026-02-28T23:00:00.000Z');
    expect(plan.now).toEqual(now);
    expect(plan.now).not.toBe(now);
  });

  it('has no nextReviewAt when nothing is deferred, and handles an empty fleet', () => {
    const plan = planGarbageCollection([], MID_MARCH);
    expect(plan).toEqual({ now: MID_MARCH, decisions: [], toDelete: [] });
    expect('nextReviewAt' in plan).toBe(false);
  });

  it('returns fresh Dates: mutating a result does not affect the next one', () => {
    const plan = planGarbageCollection(
      [unused(undefined), { ...unused(undefined), zoneId: 'Z2' }],
      MID_MARCH,
    );
    const [a, b] = plan.decisions as [ZoneDecision, ZoneDecision];
    expect(a.nextChargeAt).not.toBe(b.nextChargeAt);
    expect(a.eligibleAt).not.toBe(plan.nextReviewAt);
    a.nextChargeAt.setTime(0);
    expect(b.nextChargeAt.toISOString()).toBe('2026-04-01T00:00:00.000Z');
  });

  it('validates every zone before deciding anything', () => {
    expect(() => planGarbageCollection([unused(), { ...unused(), zoneId: '' }], MID_MARCH)).toThrow(
      /Zone #2 has an empty or missing zoneId/,
    );
  });
});

describe('planGarbageCollection builds its decisions once, from what it decided', () => {
  it('keeps decisions, toDelete and nextReviewAt consistent when the input changes after planning', () => {
    const zones: ZoneFacts[] = [
      unused(at('2026-03-15T11:00:00.000Z'), { zoneId: 'Zfresh' }),
      unused(at('2025-12-01T00:00:00.000Z'), { zoneId: 'Zold' }),
      { zoneId: 'Zused', managed: true, inUse: true },
    ];
    const plan = planGarbageCollection(zones, MID_MARCH);
    // The caller reuses its objects before reading the decisions.
    zones[0] = { zoneId: 'Zother', managed: false, inUse: false };
    (zones[1] as { inUse: boolean }).inUse = true;
    zones.pop();
    expect(plan.decisions.map((d) => `${d.zoneId}:${d.reason}`)).toEqual([
      'Zfresh:FREE_DELETION_WINDOW',
      'Zold:ALREADY_CHARGED',
      'Zused:IN_USE',
    ]);
    expect(plan.decisions[0]?.message).toBe(
      'Zone Zfresh is unused and 1 h old, so deleting it now is free (zones deleted within 12 h of creation are not charged).',
    );
    expect(plan.toDelete).toEqual(['Zfresh']);
    expect(plan.nextReviewAt?.toISOString()).toBe('2026-03-31T23:00:00.000Z');
    expect(plan.decisions).toBe(plan.decisions); // built once
    expect(JSON.parse(JSON.stringify(plan)).decisions).toHaveLength(3);
    expect(Object.keys(plan)).toEqual(['now', 'decisions', 'toDelete', 'nextReviewAt']);
  });
});
