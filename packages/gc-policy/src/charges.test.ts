import { hasErrorCode } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { zoneChargeInstants, zoneCost } from './charges.js';

const d = (iso: string) => new Date(iso);
const iso = (dates: readonly Date[]) => dates.map((x) => x.toISOString());
const YEAR_END = d('2027-01-01T00:00:00Z');

describe('zoneChargeInstants', () => {
  const table: Record<string, [string, string | undefined, string[]]> = {
    'a zone deleted within 12 hours is free': ['2026-03-10T05:00:00Z', '2026-03-10T16:59:59Z', []],
    'a zone deleted at exactly 12 hours is charged once': [
      '2026-03-10T05:00:00Z',
      '2026-03-10T17:00:01Z',
      ['2026-03-10T17:00:00.000Z'],
    ],
    'a zone deleted just before the 1st is charged for its creation month only': [
      '2026-03-10T05:00:00Z',
      '2026-03-31T23:00:00Z',
      ['2026-03-10T17:00:00.000Z'],
    ],
    'a zone alive at midnight on the 1st pays that month too': [
      '2026-03-10T05:00:00Z',
      '2026-04-01T00:00:01Z',
      ['2026-03-10T17:00:00.000Z', '2026-04-01T00:00:00.000Z'],
    ],
    'created late on the last day and kept: two charges, both months': [
      '2026-03-31T20:00:00Z',
      '2026-04-02T00:00:00Z',
      ['2026-04-01T00:00:00.000Z', '2026-04-01T08:00:00.000Z'],
    ],
    'created late on the last day and deleted within 12 h: free': [
      '2026-03-31T20:00:00Z',
      '2026-04-01T07:00:00Z',
      [],
    ],
    'never deleted: every month until the horizon': [
      '2026-10-15T00:00:00Z',
      undefined,
      ['2026-10-15T12:00:00.000Z', '2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
    ],
  };
  for (const [sentence, [created, deleted, expected]] of Object.entries(table)) {
    it(sentence, () => {
      expect(
        iso(
          zoneChargeInstants(
            { createdAt: d(created), ...(deleted ? { deletedAt: d(deleted) } : {}) },
            YEAR_END,
          ),
        ),
      ).toEqual(expected);
    });
  }

  it('rejects invalid lifetimes', () => {
    expect(
      hasErrorCode(
        catchIt(() => zoneChargeInstants({ createdAt: d('x') }, YEAR_END)),
        'INVALID_INPUT',
      ),
    ).toBe(true);
    expect(
      hasErrorCode(
        catchIt(() =>
          zoneChargeInstants(
            { createdAt: d('2026-02-01T00:00:00Z'), deletedAt: d('2026-01-01T00:00:00Z') },
            YEAR_END,
          ),
        ),
        'INVALID_INPUT',
      ),
    ).toBe(true);
  });
});

describe('zoneCost', () => {
  it('prices charges per billing month with the first-tier price for the first 25 zones', () => {
    const month = Array.from({ length: 30 }, () => ({
      createdAt: d('2026-03-01T00:00:00Z'),
      deletedAt: d('2026-03-20T00:00:00Z'),
    }));
    expect(zoneCost(month, YEAR_END)).toBe(25 * 0.5 + 5 * 0.1);
    expect(zoneCost(month.slice(0, 2), YEAR_END, { firstTierPrice: 1 })).toBe(2);
  });

  it('bills a creation charge that lands after the month turned to the creation month', () => {
    // Created 31 Mar 20:00, kept into April: March (creation) and April are both charged once.
    expect(
      zoneCost([{ createdAt: d('2026-03-31T20:00:00Z'), deletedAt: d('2026-04-10T00:00:00Z') }], YEAR_END),
    ).toBe(1);
  });
});

function catchIt(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}
