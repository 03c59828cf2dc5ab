import { runSimulation } from '@cloud-copilot/iam-simulate';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildZonePolicy,
  clusterRecordNames,
  type IamPolicyDocument,
  minifyPolicy,
  policyCharacterCount,
  type WritableRecordType,
} from './index.js';

/** Written out independently of policy.ts. */
const ALL_TYPES: readonly WritableRecordType[] = [
  'A',
  'AAAA',
  'CAA',
  'CNAME',
  'DS',
  'HTTPS',
  'MX',
  'NAPTR',
  'PTR',
  'SPF',
  'SRV',
  'SSHFP',
  'SVCB',
  'TLSA',
  'TXT',
];
const EXPECTED_ACTIONS = [
  'route53:ChangeResourceRecordSets',
  'route53:GetChange',
  'route53:GetHostedZone',
  'route53:ListHostedZones',
  'route53:ListHostedZonesByName',
  'route53:ListResourceRecordSets',
  'route53:ListTagsForResource',
  'route53:ListTagsForResources',
];
const UNSCOPABLE = new Set(['route53:ListHostedZones', 'route53:ListHostedZonesByName']);

// An `xn--` label must be valid punycode; random ones are not (core rejects them).
const notAce = (l: string): boolean => !l.startsWith('xn--');
const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/).filter(notAce);
const topLabel = fc.stringMatching(/^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/).filter(notAce);
/** Any valid zone name up to 253 characters. */
const anyZone = fc
  .tuple(fc.array(label, { minLength: 0, maxLength: 6 }), topLabel)
  .map(([labels, top]) => [...labels, top].join('.'))
  .filter((name) => name.length <= 253);
/** Zone names of exactly 253 characters, the longest valid ones. */
const longestZone = fc
  .tuple(
    fc.stringMatching(/^[a-z0-9][a-z0-9-]{61}[a-z0-9]$/).filter(notAce),
    fc.stringMatching(/^[a-z0-9][a-z0-9-]{61}[a-z0-9]$/).filter(notAce),
    fc.stringMatching(/^[a-z0-9][a-z0-9-]{61}[a-z0-9]$/).filter(notAce),
    fc.stringMatching(/^[a-z][a-z0-9-]{59}[a-z0-9]$/).filter(notAce),
  )
  .map((labels) => labels.join('.'));
const zoneName = fc.oneof(anyZone, longestZone);
const bareId = fc.stringMatching(/^[A-Z0-9]{1,32}$/);
const zoneId = fc.tuple(bareId, fc.constantFrom('', '/hostedzone/', 'hostedzone/'));
const recordTypes = fc.option(fc.shuffledSubarray([...ALL_TYPES], { minLength: 1 }), { nil: undefined });

const input = fc
  .record({ zone: zoneName, id: zoneId, types: recordTypes, cluster: fc.option(label, { nil: undefined }) })
  .filter(({ zone, cluster }) => cluster === undefined || cluster.length + 1 + zone.length <= 253);

interface Generated {
  readonly zone: string;
  readonly id: [bare: string, prefix: string];
  readonly types: WritableRecordType[] | undefined;
  readonly cluster: string | undefined;
}

function build(i: Generated): IamPolicyDocument {
  return buildZonePolicy({
    zoneId: i.id[1] + i.id[0],
    zoneName: i.zone,
    recordTypes: i.types,
    recordNames: i.cluster === undefined ? undefined : clusterRecordNames(i.zone, i.cluster),
  });
}

describe('zone policy properties', () => {
  it('is always within IAM’s 2,048-character budget for a user’s inline policies', () => {
    fc.assert(
      fc.property(input, (i) => {
        const doc = build(i);
        const json = minifyPolicy(doc);
        expect(json).not.toMatch(/\s/);
        expect(json.length).toBe(policyCharacterCount(doc));
        expect(json.length).toBeLessThanOrEqual(2048);
      }),
      { numRuns: 1000 },
    );
  });

  it('always contains exactly the expected actions, each once', () => {
    fc.assert(
      fc.property(input, (i) => {
        const actions = build(i).Statement.flatMap((s) => s.Action);
        expect([...actions].sort()).toEqual(EXPECTED_ACTIONS);
        expect(build(i).Statement.every((s) => s.Effect === 'Allow')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('every Resource is the zone’s ARN, "*" (only for the two list actions) or change/*', () => {
    fc.assert(
      fc.property(input, (i) => {
        const zoneArn = `arn:aws:route53:::hostedzone/${i.id[0]}`;
        for (const s of build(i).Statement) {
          expect([zoneArn, '*', 'arn:aws:route53:::change/*']).toContain(s.Resource);
          if (s.Resource === '*') expect(s.Action.every((a) => UNSCOPABLE.has(a))).toBe(true);
          if (s.Resource === 'arn:aws:route53:::change/*') expect(s.Action).toEqual(['route53:GetChange']);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('only ChangeResourceRecordSets is conditional, and its names lie in the zone and its types exclude NS/SOA', () => {
    fc.assert(
      fc.property(input, (i) => {
        const [change, ...others] = build(i).Statement;
        expect(others.every((s) => s.Condition === undefined)).toBe(true);
        const condition = change?.Condition ?? {};
        expect(Object.keys(condition).sort()).toEqual([
          'ForAllValues:StringEquals',
          'ForAllValues:StringLike',
          'Null',
        ]);
        const names =
          condition['ForAllValues:StringLike']?.['route53:ChangeResourceRecordSetsNormalizedRecordNames'];
        const types = condition['ForAllValues:StringEquals']?.['route53:ChangeResourceRecordSetsRecordTypes'];
        expect(Array.isArray(names) && names.length > 0).toBe(true);
        for (const n of names as string[]) {
          const rest = n.startsWith('*.') ? n.slice(2) : n;
          expect(rest === i.zone || rest.endsWith(`.${i.zone}`)).toBe(true);
        }
        expect(types).toEqual(i.types ?? ['A', 'AAAA', 'CNAME', 'TXT']);
        expect(types).not.toContain('NS');
        expect(types).not.toContain('SOA');
      }),
      { numRuns: 500 },
    );
  });

  it('the zone name’s case and trailing dot do not change the document', () => {
    fc.assert(
      fc.property(anyZone, bareId, (zone, id) => {
        const canonical = minifyPolicy(buildZonePolicy({ zoneId: id, zoneName: zone }));
        expect(
          minifyPolicy(buildZonePolicy({ zoneId: `/hostedzone/${id}`, zoneName: `${zone.toUpperCase()}.` })),
        ).toBe(canonical);
      }),
    );
  });

  it('under the simulator: an allowed type on any name in the own zone is allowed, the same change elsewhere is not', async () => {
    const sub = fc.array(fc.stringMatching(/^[a-z0-9_](?:[a-z0-9_-]{0,10})$/), {
      minLength: 0,
      maxLength: 3,
    });
    await fc.assert(
      fc.asyncProperty(
        anyZone,
        bareId,
        bareId,
        sub,
        fc.constantFrom(...ALL_TYPES),
        async (zone, id, other, labels, type) => {
          fc.pre(id !== other);
          const name = [...labels, zone].join('.');
          fc.pre(name.length <= 253);
          const policy = buildZonePolicy({ zoneId: id, zoneName: zone, recordTypes: [type] });
          const run = (zid: string, types: string[]) =>
            runSimulation(
              {
                identityPolicies: [{ name: 'p', policy }],
                serviceControlPolicies: [],
                resourceControlPolicies: [],
                request: {
                  action: 'route53:ChangeResourceRecordSets',
                  principal: 'arn:aws:iam::123456789012:user/zonekeeper/u',
                  resource: { accountId: '123456789012', resource: `arn:aws:route53:::hostedzone/${zid}` },
                  contextVariables: {
                    'route53:ChangeResourceRecordSetsNormalizedRecordNames': [name],
                    'route53:ChangeResourceRecordSetsRecordTypes': types,
                  },
                },
              },
              {},
            );
          const own = await run(id, [type]);
          const elsewhere = await run(other, [type]);
          const ns = await run(id, [type, 'NS']);
          for (const r of [own, elsewhere, ns]) {
            if (r.resultType !== 'single') throw new Error(`simulation did not run: ${JSON.stringify(r)}`);
            expect(r.result.ignoredContextKeys).toEqual([]);
          }
          expect(own.resultType === 'single' && own.overallResult).toBe('Allowed');
          expect(elsewhere.resultType === 'single' && elsewhere.overallResult).toBe('ImplicitlyDenied');
          expect(ns.resultType === 'single' && ns.overallResult).toBe('ImplicitlyDenied');
        },
      ),
      { numRuns: 60 },
    );
  });
});
