import { hasErrorCode } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { ZoneTags } from './ownership.js';
import { batchRecordChanges, planZoneDeletion, type ZoneDeletionState } from './plan-deletion.js';
import type { RecordSet } from './ports.js';

const NS = ['ns-1.awsdns-01.com', 'ns-2.awsdns-02.net', 'ns-3.awsdns-03.org', 'ns-4.awsdns-04.co.uk'];
const ZONE = 'acme.example.com';
const managedTags = { [ZoneTags.managedBy]: 'zonekeeper', [ZoneTags.organization]: 'acme' };
const apex: RecordSet[] = [
  { name: ZONE, type: 'NS', ttl: 172_800, values: NS.map((s) => `${s}.`) },
  {
    name: ZONE,
    type: 'SOA',
    ttl: 900,
    values: ['ns-1.awsdns-01.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400'],
  },
];
const a = (i: number): RecordSet => ({
  name: `h${i}.${ZONE}`,
  type: 'A',
  ttl: 60,
  values: [`10.0.${i >> 8}.${i & 255}`],
});
const delegation = (values: readonly string[], parentZoneId = 'ZP') => ({
  parentZoneId,
  parentZoneName: 'example.com',
  record: { name: ZONE, type: 'NS', ttl: 300, values: values.map((v) => `${v}.`) },
});

function state(
  over: Partial<ZoneDeletionState> = {},
  tags: Record<string, string> = managedTags,
): ZoneDeletionState {
  return { zone: { id: 'Z1', name: ZONE, nameServers: NS, tags }, delegations: [], records: apex, ...over };
}

const rows: Record<string, { current: ZoneDeletionState; ops: string[] }> = {
  'a zone already gone: nothing to do': { current: { delegations: [], records: [] }, ops: [] },
  'an empty zone without delegation: delete the zone only': { current: state(), ops: ['delete-zone'] },
  'a delegation pointing at this zone goes first': {
    current: state({ delegations: [delegation(NS)], records: [...apex, a(1)] }),
    ops: ['delete-delegation', 'delete-records', 'delete-zone'],
  },
  'a delegation pointing at other name servers is kept': {
    current: state({ delegations: [delegation(['ns-9.example.net'])] }),
    ops: ['delete-zone'],
  },
  'delegations in several parent zones are each checked': {
    current: state({
      delegations: [
        delegation(NS, 'ZP1'),
        delegation(['other.example.net'], 'ZP2'),
        delegation([...NS].reverse(), 'ZP3'),
      ],
    }),
    ops: ['delete-delegation', 'delete-delegation', 'delete-zone'],
  },
  '5,000 records: five batches of 1,000, apex SOA and NS kept': {
    current: state({ records: [...apex, ...Array.from({ length: 5000 }, (_, i) => a(i))] }),
    ops: [
      'delete-records',
      'delete-records',
      'delete-records',
      'delete-records',
      'delete-records',
      'delete-zone',
    ],
  },
};

describe('planZoneDeletion', () => {
  for (const [sentence, row] of Object.entries(rows)) {
    it(sentence, () => {
      const plan = planZoneDeletion(row.current, 'Z1');
      expect(plan.steps.map((s) => s.op)).toEqual(row.ops);
      for (const step of plan.steps) {
        if (step.op === 'delete-records') {
          expect(step.records.length).toBeLessThanOrEqual(1000);
          expect(step.records.some((r) => r.name === ZONE && (r.type === 'NS' || r.type === 'SOA'))).toBe(
            false,
          );
        }
      }
      expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
    });
  }

  it('reports delegations it keeps', () => {
    const plan = planZoneDeletion(state({ delegations: [delegation(['ns-9.example.net'])] }), 'Z1');
    expect(plan.keptDelegations).toEqual([{ parentZoneId: 'ZP', values: ['ns-9.example.net.'] }]);
  });

  it('refuses a zone without our managed-by tag (NOT_OWNED) and a protected one (CONFLICT)', () => {
    const attempt = (s: ZoneDeletionState) => {
      try {
        planZoneDeletion(s, 'Z1');
      } catch (e) {
        return e;
      }
      return undefined;
    };
    expect(hasErrorCode(attempt(state({}, {})), 'NOT_OWNED')).toBe(true);
    expect(hasErrorCode(attempt(state({}, { [ZoneTags.managedBy]: 'terraform' })), 'NOT_OWNED')).toBe(true);
    expect(
      hasErrorCode(attempt(state({}, { ...managedTags, [ZoneTags.protected]: 'true' })), 'CONFLICT'),
    ).toBe(true);
  });
});

describe('batchRecordChanges', () => {
  it('splits at 32,000 characters of values', () => {
    const big = (i: number): RecordSet => ({
      name: `t${i}.${ZONE}`,
      type: 'TXT',
      ttl: 60,
      values: [`"${'x'.repeat(3_998)}"`],
    });
    const batches = batchRecordChanges(Array.from({ length: 17 }, (_, i) => big(i)));
    expect(batches.map((b) => b.length)).toEqual([8, 8, 1]);
  });

  it('counts every value of a record set, and gives an oversized set a batch of its own', () => {
    const multi = (i: number, n: number): RecordSet => ({
      name: `m${i}.${ZONE}`,
      type: 'A',
      ttl: 60,
      values: Array.from({ length: n }, (_, j) => `10.1.${i}.${j}`),
    });
    expect(batchRecordChanges([multi(1, 400), multi(2, 400), multi(3, 400)]).map((b) => b.length)).toEqual([
      2, 1,
    ]);
    expect(batchRecordChanges([multi(1, 2), multi(2, 5)], { maxRecords: 3 }).map((b) => b.length)).toEqual([
      1, 1,
    ]);
  });

  it('keeps order and loses nothing', () => {
    const records = Array.from({ length: 2500 }, (_, i) => a(i));
    expect(batchRecordChanges(records).flat()).toEqual(records);
  });
});
