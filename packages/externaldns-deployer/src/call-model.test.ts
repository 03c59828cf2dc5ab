/**
 * The call model of ExternalDNS v0.22's AWS provider. That these are ExternalDNS's numbers, not only
 * ours, is checked against the real binary by `e2e/src/scenarios/call-model.test.ts` (the IAM
 * enforcer's request log, operation by operation).
 */

import { fc, test } from '@fast-check/vitest';
import { hasErrorCode } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { changeBatches, EXTERNAL_DNS_CALL_MODEL, externalDnsLoopCalls } from './call-model.js';
import { EXTERNAL_DNS_VERSION } from './upstream.js';

describe('externalDnsLoopCalls (ExternalDNS v0.22, one zone matched)', () => {
  it('is the model of the pinned release', () => {
    expect(EXTERNAL_DNS_CALL_MODEL.version).toBe(EXTERNAL_DNS_VERSION);
  });

  it.each([
    // sentence, loop → ListHostedZones, ListResourceRecordSets, ChangeResourceRecordSets
    [
      'cache off, no changes: Records and GetDomainFilter list the zones',
      { accountZones: 133, recordSets: 10, zonesCache: 'off' },
      [4, 1, 0],
    ],
    [
      'cache off, changes: ApplyChanges lists them a third time',
      { accountZones: 133, recordSets: 10, zonesCache: 'off', changedNames: 1 },
      [6, 1, 1],
    ],
    [
      'cache cold: one listing fills it',
      { accountZones: 133, recordSets: 10, zonesCache: 'cold', changedNames: 1 },
      [2, 1, 1],
    ],
    ['cache warm: no listing', { accountZones: 501, recordSets: 10, zonesCache: 'warm' }, [0, 1, 0]],
    ['100 zones are one page, 101 two', { accountZones: 100, recordSets: 0, zonesCache: 'cold' }, [1, 1, 0]],
    ['an empty listing is still one page', { accountZones: 0, recordSets: 0, zonesCache: 'off' }, [2, 1, 0]],
    [
      '300 record sets are one page, 301 two',
      { accountZones: 1, recordSets: 301, zonesCache: 'warm' },
      [0, 2, 0],
    ],
    [
      '5 ALIAS names (20 changes) at batch size 8: two names a batch',
      {
        accountZones: 1,
        recordSets: 900,
        zonesCache: 'warm',
        changedNames: 5,
        changesPerName: 4,
        batchChangeSize: 8,
      },
      [0, 3, 3],
    ],
  ] as const)('%s', (_sentence, loop, [zones, records, changes]) => {
    expect(externalDnsLoopCalls(loop)).toEqual({
      ListHostedZones: zones,
      ListResourceRecordSets: records,
      ChangeResourceRecordSets: changes,
    });
  });

  it('puts all changes in one request when they fit, as batchChangeSet does', () => {
    expect(changeBatches(250, 4, 1000)).toBe(1);
    expect(changeBatches(251, 4, 1000)).toBe(2);
    expect(changeBatches(3, 4, 8)).toBe(2); // 12 > 8: two names a batch
    expect(changeBatches(0, 4, 8)).toBe(0);
  });

  it.each([
    ['a negative zone count', { accountZones: -1, recordSets: 0, zonesCache: 'off' }],
    ['a fractional record count', { accountZones: 1, recordSets: 1.5, zonesCache: 'off' }],
    ['an unknown cache state', { accountZones: 1, recordSets: 1, zonesCache: 'lukewarm' }],
    [
      'a batch above Route 53 limit',
      { accountZones: 1, recordSets: 1, zonesCache: 'off', batchChangeSize: 1001 },
    ],
    [
      'a name that never fits a batch',
      {
        accountZones: 1,
        recordSets: 1,
        zonesCache: 'off',
        changedNames: 1,
        changesPerName: 4,
        batchChangeSize: 3,
      },
    ],
  ])('refuses %s with INVALID_INPUT', (_sentence, loop) => {
    let error: unknown;
    try {
      externalDnsLoopCalls(loop as never);
    } catch (e) {
      error = e;
    }
    expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
  });

  test.prop([
    fc.nat(20_000),
    fc.nat(20_000),
    fc.constantFrom('off', 'cold', 'warm'),
    fc.nat(500),
    fc.integer({ min: 8, max: 1000 }),
  ])(
    'more zones, records or changes never make fewer requests; the cache never adds any',
    (zones, records, cache, names, batch) => {
      const at = (z: number, r: number, n: number, c: 'off' | 'cold' | 'warm') =>
        externalDnsLoopCalls({
          accountZones: z,
          recordSets: r,
          zonesCache: c,
          changedNames: n,
          changesPerName: 4,
          batchChangeSize: batch,
        });
      const base = at(zones, records, names, cache);
      const more = at(zones + 1, records + 1, names + 1, cache);
      for (const action of ['ListHostedZones', 'ListResourceRecordSets', 'ChangeResourceRecordSets'] as const)
        expect(more[action]).toBeGreaterThanOrEqual(base[action]);
      expect(at(zones, records, names, 'warm').ListHostedZones).toBeLessThanOrEqual(
        at(zones, records, names, 'cold').ListHostedZones,
      );
      expect(at(zones, records, names, 'cold').ListHostedZones).toBeLessThanOrEqual(
        at(zones, records, names, 'off').ListHostedZones,
      );
    },
  );
});
