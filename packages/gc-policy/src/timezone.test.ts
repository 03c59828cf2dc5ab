import { describe, expect, it } from 'vitest';
import { nextChargeAt, planGarbageCollection } from './index.js';

/**
 * The suite runs once in the host's zone and again as `gc-policy (TZ=…)` projects (see
 * vitest.workspace.ts). This file proves the zone took effect there, and pins results that a
 * local-time implementation would get wrong in every zone except UTC.
 */
describe('host time zone', () => {
  it('is the one this project was started with', () => {
    const expected = process.env.ZONEKEEPER_EXPECTED_TZ;
    if (expected === undefined) return; // the default project: whatever the host uses
    expect(Intl.DateTimeFormat().resolvedOptions().timeZone).toBe(expected);
    // Kiritimati is UTC+14 and Los Angeles UTC−8/−7: neither has a zero offset.
    expect(new Date('2026-03-15T00:00:00Z').getTimezoneOffset()).not.toBe(0);
  });

  it('does not move the charge: the local date differs from the UTC date here, the result does not', () => {
    // 2026-03-31T20:00Z is already April 1st in Kiritimati; 2026-04-01T03:00Z is still March 31st in Los Angeles.
    expect(nextChargeAt(new Date('2026-03-31T20:00:00.000Z')).toISOString()).toBe('2026-04-01T00:00:00.000Z');
    expect(nextChargeAt(new Date('2026-04-01T03:00:00.000Z')).toISOString()).toBe('2026-05-01T00:00:00.000Z');
    const plan = planGarbageCollection(
      [{ zoneId: 'Z', managed: true, inUse: false, createdAt: new Date('2026-01-01T00:00:00Z') }],
      new Date('2026-03-31T22:30:00.000Z'),
    );
    expect(plan.decisions[0]?.eligibleAt?.toISOString()).toBe('2026-03-31T23:00:00.000Z');
  });
});
