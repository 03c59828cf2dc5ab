import { hasErrorCode } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import {
  buildZonePolicy,
  clusterRecordNames,
  hostedZoneArn,
  IAM_USER_INLINE_POLICY_MAX_CHARS,
  type IamPolicyDocument,
  minifyPolicy,
  normalizeHostedZoneId,
  policyCharacterCount,
  type WritableRecordType,
  type ZonePolicyInput,
} from './index.js';

const NAMES_KEY = 'route53:ChangeResourceRecordSetsNormalizedRecordNames';
const TYPES_KEY = 'route53:ChangeResourceRecordSetsRecordTypes';

/** The document the builder must produce, written out by hand (the oracle for every table row). */
function expected(arn: string, names: readonly string[], types: readonly string[]): IamPolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ChangeRecordsInZone',
        Effect: 'Allow',
        Action: ['route53:ChangeResourceRecordSets'],
        Resource: arn,
        Condition: {
          'ForAllValues:StringLike': { [NAMES_KEY]: names },
          'ForAllValues:StringEquals': { [TYPES_KEY]: types },
          Null: { [NAMES_KEY]: 'false', [TYPES_KEY]: 'false' },
        },
      },
      {
        Sid: 'ReadZone',
        Effect: 'Allow',
        Action: [
          'route53:ListResourceRecordSets',
          'route53:GetHostedZone',
          'route53:ListTagsForResource',
          'route53:ListTagsForResources',
        ],
        Resource: arn,
      },
      {
        Sid: 'ListZones',
        Effect: 'Allow',
        Action: ['route53:ListHostedZones', 'route53:ListHostedZonesByName'],
        Resource: '*',
      },
      {
        Sid: 'GetChanges',
        Effect: 'Allow',
        Action: ['route53:GetChange'],
        Resource: 'arn:aws:route53:::change/*',
      },
    ],
  };
}

function invalid(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(hasErrorCode(e, 'INVALID_INPUT')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected INVALID_INPUT');
}

const ARN = 'arn:aws:route53:::hostedzone/Z0123456789ABC';
const DEFAULT_TYPES = ['A', 'AAAA', 'CNAME', 'TXT'];
const label = (n: number, c = 'a') => c.repeat(n);
/** A valid 253-character zone name: three 63-character labels and one of 61. */
const LONGEST_ZONE = [label(63, 'a'), label(63, 'b'), label(63, 'c'), label(61, 'd')].join('.');

describe('buildZonePolicy: the exact document', () => {
  it('the defaults allow A, AAAA, CNAME and TXT on the apex and everything below it, as a literal document', () => {
    const doc = buildZonePolicy({ zoneId: 'Z0123456789ABC', zoneName: 'acme.example.com' });
    expect(JSON.parse(minifyPolicy(doc))).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ChangeRecordsInZone',
          Effect: 'Allow',
          Action: ['route53:ChangeResourceRecordSets'],
          Resource: 'arn:aws:route53:::hostedzone/Z0123456789ABC',
          Condition: {
            'ForAllValues:StringLike': {
              'route53:ChangeResourceRecordSetsNormalizedRecordNames': [
                'acme.example.com',
                '*.acme.example.com',
              ],
            },
            'ForAllValues:StringEquals': {
              'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'AAAA', 'CNAME', 'TXT'],
            },
            Null: {
              'route53:ChangeResourceRecordSetsNormalizedRecordNames': 'false',
              'route53:ChangeResourceRecordSetsRecordTypes': 'false',
            },
          },
        },
        {
          Sid: 'ReadZone',
          Effect: 'Allow',
          Action: [
            'route53:ListResourceRecordSets',
            'route53:GetHostedZone',
            'route53:ListTagsForResource',
            'route53:ListTagsForResources',
          ],
          Resource: 'arn:aws:route53:::hostedzone/Z0123456789ABC',
        },
        {
          Sid: 'ListZones',
          Effect: 'Allow',
          Action: ['route53:ListHostedZones', 'route53:ListHostedZonesByName'],
          Resource: '*',
        },
        {
          Sid: 'GetChanges',
          Effect: 'Allow',
          Action: ['route53:GetChange'],
          Resource: 'arn:aws:route53:::change/*',
        },
      ],
    });
  });

  const table: Record<string, [ZonePolicyInput, IamPolicyDocument]> = {
    'a "/hostedzone/" id is reduced to the bare id': [
      { zoneId: '/hostedzone/Z0123456789ABC', zoneName: 'acme.example.com' },
      expected(ARN, ['acme.example.com', '*.acme.example.com'], DEFAULT_TYPES),
    ],
    'a "hostedzone/" id without the leading slash is reduced too': [
      { zoneId: 'hostedzone/Z0123456789ABC', zoneName: 'acme.example.com' },
      expected(ARN, ['acme.example.com', '*.acme.example.com'], DEFAULT_TYPES),
    ],
    'a zone name with a trailing dot and uppercase letters is normalised as AWS presents names': [
      { zoneId: 'Z0123456789ABC', zoneName: 'Acme.Example.COM.' },
      expected(ARN, ['acme.example.com', '*.acme.example.com'], DEFAULT_TYPES),
    ],
    'explicit undefined options mean the defaults': [
      {
        zoneId: 'Z0123456789ABC',
        zoneName: 'acme.example.com',
        recordNames: undefined,
        recordTypes: undefined,
      },
      expected(ARN, ['acme.example.com', '*.acme.example.com'], DEFAULT_TYPES),
    ],
    'custom record names are lowercased, lose the trailing dot and keep their order': [
      {
        zoneId: 'Z0123456789ABC',
        zoneName: 'acme.example.com',
        recordNames: ['WWW.acme.example.com.', '*.Apps.acme.example.com', '_acme-challenge.acme.example.com'],
      },
      expected(
        ARN,
        ['www.acme.example.com', '*.apps.acme.example.com', '_acme-challenge.acme.example.com'],
        DEFAULT_TYPES,
      ),
    ],
    'duplicate record names (after normalisation) appear once': [
      {
        zoneId: 'Z0123456789ABC',
        zoneName: 'acme.example.com',
        recordNames: [
          'app.acme.example.com',
          'APP.acme.example.com.',
          '*.acme.example.com',
          '*.acme.example.com',
        ],
      },
      expected(ARN, ['app.acme.example.com', '*.acme.example.com'], DEFAULT_TYPES),
    ],
    'the apex alone can be allowed': [
      { zoneId: 'Z0123456789ABC', zoneName: 'acme.example.com', recordNames: ['acme.example.com'] },
      expected(ARN, ['acme.example.com'], DEFAULT_TYPES),
    ],
    'custom record types keep their order': [
      {
        zoneId: 'Z0123456789ABC',
        zoneName: 'acme.example.com',
        recordTypes: ['TXT', 'CAA', 'MX', 'SRV', 'HTTPS'],
      },
      expected(ARN, ['acme.example.com', '*.acme.example.com'], ['TXT', 'CAA', 'MX', 'SRV', 'HTTPS']),
    ],
    'record types given in lowercase by a JavaScript caller are uppercased and deduplicated': [
      {
        zoneId: 'Z0123456789ABC',
        zoneName: 'acme.example.com',
        recordTypes: ['txt', 'TXT', 'a'] as unknown as WritableRecordType[],
      },
      expected(ARN, ['acme.example.com', '*.acme.example.com'], ['TXT', 'A']),
    ],
    'a per-cluster scope built with clusterRecordNames': [
      {
        zoneId: 'Z0123456789ABC',
        zoneName: 'acme.example.com',
        recordNames: clusterRecordNames('acme.example.com', 'c1'),
      },
      expected(ARN, ['c1.acme.example.com', '*.c1.acme.example.com'], DEFAULT_TYPES),
    ],
    'a single-digit id and a single-label zone are accepted': [
      { zoneId: '7', zoneName: 'internal' },
      expected('arn:aws:route53:::hostedzone/7', ['internal', '*.internal'], DEFAULT_TYPES),
    ],
  };
  for (const [sentence, [input, doc]] of Object.entries(table)) {
    it(sentence, () => expect(buildZonePolicy(input)).toEqual(doc));
  }

  it('does not keep references to the caller’s arrays', () => {
    const recordNames = ['app.acme.example.com'];
    const recordTypes: WritableRecordType[] = ['A'];
    const doc = buildZonePolicy({ zoneId: 'Z1', zoneName: 'acme.example.com', recordNames, recordTypes });
    recordNames.push('evil.acme.example.com');
    recordTypes.push('MX');
    expect(doc).toEqual(expected('arn:aws:route53:::hostedzone/Z1', ['app.acme.example.com'], ['A']));
  });

  it('is deterministic: the same input gives byte-identical JSON', () => {
    const input = { zoneId: 'Z1', zoneName: 'acme.example.com', recordTypes: ['A', 'TXT'] as const };
    expect(minifyPolicy(buildZonePolicy(input))).toBe(minifyPolicy(buildZonePolicy(input)));
  });
});

describe('buildZonePolicy: invalid input', () => {
  const zoneName = 'acme.example.com';
  const cases: Record<string, [() => unknown, RegExp]> = {
    'the input is not an object': [
      () => buildZonePolicy(null as unknown as ZonePolicyInput),
      /input must be an object/,
    ],
    'the zone id is missing': [
      () => buildZonePolicy({ zoneName } as unknown as ZonePolicyInput),
      /hosted zone id must be a string, got undefined/,
    ],
    'the zone id is a number': [
      () => buildZonePolicy({ zoneId: 42 as unknown as string, zoneName }),
      /hosted zone id must be a string, got 42\./,
    ],
    'the zone id is empty': [() => buildZonePolicy({ zoneId: '', zoneName }), /is empty/],
    'the zone id is only the "/hostedzone/" prefix': [
      () => buildZonePolicy({ zoneId: '/hostedzone/', zoneName }),
      /is empty/,
    ],
    'the zone id has lowercase letters': [
      () => buildZonePolicy({ zoneId: 'z0123abc', zoneName }),
      /only uppercase letters and digits/,
    ],
    'the zone id has a hyphen': [
      () => buildZonePolicy({ zoneId: 'Z-1', zoneName }),
      /only uppercase letters and digits/,
    ],
    'the zone id is a wildcard': [() => buildZonePolicy({ zoneId: '*', zoneName }), /only uppercase letters/],
    'the zone id is a change id path': [
      () => buildZonePolicy({ zoneId: '/change/C1', zoneName }),
      /only uppercase letters and digits/,
    ],
    'the zone id carries an extra path segment': [
      () => buildZonePolicy({ zoneId: '/hostedzone/Z1/Z2', zoneName }),
      /only uppercase letters and digits/,
    ],
    'the zone id is longer than 32 characters': [
      () => buildZonePolicy({ zoneId: `Z${'1'.repeat(32)}`, zoneName }),
      /33 characters long/,
    ],
    'the zone name is missing': [
      () => buildZonePolicy({ zoneId: 'Z1' } as unknown as ZonePolicyInput),
      /zone name must be a string/,
    ],
    'the zone name is the root': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName: '.' }),
      /must not be empty/,
    ],
    'the zone name contains a space': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName: 'ac me.example.com' }),
      /whitespace/,
    ],
    'the zone name contains a wildcard': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName: '*.example.com' }),
      /only a-z, 0-9/,
    ],
    'the zone name is 254 characters long': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName: `e${LONGEST_ZONE}` }),
      /254 characters long/,
    ],
    'the zone name ends in an all-numeric label': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName: 'acme.123' }),
      /all-numeric/,
    ],
    'recordNames is not an array': [
      () =>
        buildZonePolicy({
          zoneId: 'Z1',
          zoneName,
          recordNames: 'app.acme.example.com' as unknown as string[],
        }),
      /recordNames must be an array/,
    ],
    'recordNames is empty': [() => buildZonePolicy({ zoneId: 'Z1', zoneName, recordNames: [] }), /is empty/],
    'a record name is not a string': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordNames: [7 as unknown as string] }),
      /recordNames\[0\] must be a string/,
    ],
    'a record name is empty': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordNames: [''] }),
      /is empty/,
    ],
    'a record name is just "*"': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordNames: ['*'] }),
      /not the whole left-most label/,
    ],
    'a record name is "*." with nothing after it': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordNames: ['*.'] }),
      /not the whole left-most label/,
    ],
    'a record name lies in another organisation’s zone': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordNames: ['app.beta.example.com'] }),
      /lies outside the zone "acme.example.com"/,
    ],
    'a record name only shares a suffix with the zone (no dot boundary)': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordNames: ['notacme.example.com'] }),
      /lies outside the zone/,
    ],
    'a record name is the parent domain': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordNames: ['example.com'] }),
      /lies outside the zone/,
    ],
    'a wildcard pattern covers the parent domain': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordNames: ['*.example.com'] }),
      /lies outside the zone/,
    ],
    'a record name puts the zone in front of another domain': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordNames: ['acme.example.com.evil.com'] }),
      /lies outside the zone/,
    ],
    'a wildcard is part of a label': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordNames: ['app*.acme.example.com'] }),
      /not the whole left-most label/,
    ],
    'a wildcard is in a middle label': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordNames: ['x.*.acme.example.com'] }),
      /not the whole left-most label/,
    ],
    'two wildcard labels': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordNames: ['*.*.acme.example.com'] }),
      /not the whole left-most label/,
    ],
    'an IAM "?" wildcard': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordNames: ['ap?.acme.example.com'] }),
      /invalid label "ap\?"/,
    ],
    'an already-escaped octal name (pass "*." instead)': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordNames: ['\\052.acme.example.com'] }),
      /invalid label/,
    ],
    'an IAM policy variable': [
      () =>
        buildZonePolicy({ zoneId: 'Z1', zoneName, recordNames: ['$' + '{aws:username}.acme.example.com'] }),
      /invalid label/,
    ],
    'an empty label': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordNames: ['a..acme.example.com'] }),
      /invalid label ""/,
    ],
    'a label of 64 characters': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordNames: [`${label(64)}.acme.example.com`] }),
      /invalid label/,
    ],
    'a record name longer than 253 characters': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName: LONGEST_ZONE, recordNames: [`a.${LONGEST_ZONE}`] }),
      /longer than 253/,
    ],
    'the second record name is invalid (the index is named)': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordNames: ['acme.example.com', 'evil.com'] }),
      /recordNames\[1\] "evil.com" lies outside/,
    ],
    'recordTypes is not an array': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordTypes: 'A' as unknown as WritableRecordType[] }),
      /recordTypes must be an array/,
    ],
    'recordTypes is empty': [() => buildZonePolicy({ zoneId: 'Z1', zoneName, recordTypes: [] }), /is empty/],
    'a record type is not a string': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordTypes: [1 as unknown as WritableRecordType] }),
      /recordTypes\[0\] must be a string/,
    ],
    'NS is requested': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordTypes: ['A', 'NS' as WritableRecordType] }),
      /record type NS can never be allowed/,
    ],
    'SOA is requested': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordTypes: ['SOA' as WritableRecordType] }),
      /record type SOA can never be allowed/,
    ],
    'ns is requested in lowercase': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordTypes: ['ns' as WritableRecordType] }),
      /record type NS can never be allowed/,
    ],
    'an unknown record type': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordTypes: ['FOO' as WritableRecordType] }),
      /"FOO" is not a Route 53 record type/,
    ],
    'a record type with a space': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordTypes: ['A ' as WritableRecordType] }),
      /is not a Route 53 record type/,
    ],
    'a record type that is an IAM wildcard': [
      () => buildZonePolicy({ zoneId: 'Z1', zoneName, recordTypes: ['*' as WritableRecordType] }),
      /is not a Route 53 record type/,
    ],
  };
  for (const [sentence, [fn, message]] of Object.entries(cases)) {
    it(`rejects: ${sentence}`, () => expect(invalid(fn)).toMatch(message));
  }

  it('rejects record names that would push the document over the 2,048-character budget, saying so', () => {
    const zone = 'acme.example.com';
    const names = Array.from({ length: 40 }, (_, i) => `service-${i}-${label(20, 'x')}.${zone}`);
    const message = invalid(() => buildZonePolicy({ zoneId: 'Z1', zoneName: zone, recordNames: names }));
    expect(message).toMatch(/would be \d+ characters, over IAM's budget of 2048/);
    expect(message).toMatch(/fewer or shorter recordNames/);
  });

  it('accepts record names up to the budget and rejects the next one (the check is exact)', () => {
    const zone = 'acme.example.com';
    const names: string[] = [];
    let last: IamPolicyDocument | undefined;
    for (let i = 0; ; i++) {
      names.push(`n${i}.${zone}`);
      try {
        last = buildZonePolicy({ zoneId: 'Z1', zoneName: zone, recordNames: names });
      } catch (e) {
        expect(hasErrorCode(e, 'INVALID_INPUT')).toBe(true);
        break;
      }
    }
    expect(last).toBeDefined();
    const size = policyCharacterCount(last as IamPolicyDocument);
    expect(size).toBeLessThanOrEqual(IAM_USER_INLINE_POLICY_MAX_CHARS);
    // One more name (at least `"nNN.acme.example.com",` = 20+ characters) would not fit.
    expect(size).toBeGreaterThan(IAM_USER_INLINE_POLICY_MAX_CHARS - 30);
  });
});

describe('the size budget', () => {
  it('IAM’s inline-policy budget for a user is 2,048 non-whitespace characters', () => {
    expect(IAM_USER_INLINE_POLICY_MAX_CHARS).toBe(2048);
  });

  it('the default policy for the longest valid zone name (253 characters) and id (32) fits', () => {
    expect(LONGEST_ZONE).toHaveLength(253);
    const doc = buildZonePolicy({ zoneId: 'Z'.repeat(32), zoneName: LONGEST_ZONE });
    const json = minifyPolicy(doc);
    expect(json).toContain(`"*.${LONGEST_ZONE}"`);
    expect(json.length).toBeLessThanOrEqual(2048);
  });

  it('every writable record type for the longest zone still fits', () => {
    const all: WritableRecordType[] = [
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
    const doc = buildZonePolicy({ zoneId: 'Z'.repeat(32), zoneName: LONGEST_ZONE, recordTypes: all });
    expect(policyCharacterCount(doc)).toBeLessThanOrEqual(2048);
  });
});

describe('minifyPolicy and policyCharacterCount', () => {
  const doc = buildZonePolicy({ zoneId: 'Z1', zoneName: 'acme.example.com' });

  it('minifyPolicy is JSON without whitespace that parses back to the same document', () => {
    const json = minifyPolicy(doc);
    expect(json).not.toMatch(/\s/);
    expect(json.startsWith('{"Version":"2012-10-17","Statement":[{"Sid":"ChangeRecordsInZone"')).toBe(true);
    expect(JSON.parse(json)).toEqual(doc);
  });

  it('policyCharacterCount ignores whitespace, as IAM does', () => {
    const pretty = JSON.stringify(doc, null, 2);
    expect(pretty.length).toBeGreaterThan(minifyPolicy(doc).length);
    expect(policyCharacterCount(doc)).toBe(pretty.replace(/\s/g, '').length);
    expect(policyCharacterCount(doc)).toBe(minifyPolicy(doc).length);
  });
});

describe('zone ids', () => {
  it('normalizeHostedZoneId strips "/hostedzone/" and keeps a bare id', () => {
    expect(normalizeHostedZoneId('/hostedzone/Z0123456789ABC')).toBe('Z0123456789ABC');
    expect(normalizeHostedZoneId('hostedzone/Z0123456789ABC')).toBe('Z0123456789ABC');
    expect(normalizeHostedZoneId('Z0123456789ABC')).toBe('Z0123456789ABC');
  });

  it('hostedZoneArn has no region or account, as Route 53 ARNs', () => {
    expect(hostedZoneArn('/hostedzone/Z9')).toBe('arn:aws:route53:::hostedzone/Z9');
    expect(invalid(() => hostedZoneArn('z9'))).toMatch(/uppercase/);
  });
});

describe('clusterRecordNames', () => {
  it('gives the cluster’s name and every name below it', () => {
    expect(clusterRecordNames('acme.example.com', 'c1')).toEqual([
      'c1.acme.example.com',
      '*.c1.acme.example.com',
    ]);
  });

  it('normalises the zone name', () => {
    expect(clusterRecordNames('ACME.example.com.', 'prod-eu-1')).toEqual([
      'prod-eu-1.acme.example.com',
      '*.prod-eu-1.acme.example.com',
    ]);
  });

  const rejected: Record<string, [string, string, RegExp]> = {
    'an uppercase cluster id': ['acme.example.com', 'C1', /Cluster id "C1" contains uppercase/],
    'a cluster id with an underscore': ['acme.example.com', 'c_1', /Cluster id "c_1" contains "_"/],
    'an empty cluster id': ['acme.example.com', '', /Cluster id must not be empty/],
    'a cluster id with a dot (two labels)': ['acme.example.com', 'a.b', /Cluster id "a.b" contains "."/],
    'a wildcard cluster id': ['acme.example.com', '*', /Cluster id "\*" contains "\*"/],
    'an invalid zone name': ['acme..example.com', 'c1', /Zone name "acme..example.com": label 2/],
    'a scope longer than 253 characters': [LONGEST_ZONE, 'c1', /would be 256 characters long/],
  };
  for (const [sentence, [zone, cluster, message]] of Object.entries(rejected)) {
    it(`rejects ${sentence}`, () =>
      expect(invalid(() => clusterRecordNames(zone, cluster))).toMatch(message));
  }
});
