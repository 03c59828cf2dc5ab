import { describe, expect, it } from 'vitest';
import {
  ACME_CHALLENGE_POLICY_SIDS,
  acmeChallengeRecordNames,
  buildAcmeChallengePolicy,
  minifyPolicy,
} from './index.js';

describe('buildAcmeChallengePolicy', () => {
  it('allows TXT changes at the zone’s challenge names and GetChange, nothing else', () => {
    const policy = buildAcmeChallengePolicy({ zoneId: '/hostedzone/Z1ACME', zoneName: 'Acme.Example.com.' });
    expect(policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: ACME_CHALLENGE_POLICY_SIDS.change,
          Effect: 'Allow',
          Action: ['route53:ChangeResourceRecordSets'],
          Resource: 'arn:aws:route53:::hostedzone/Z1ACME',
          Condition: {
            'ForAllValues:StringLike': {
              'route53:ChangeResourceRecordSetsNormalizedRecordNames': [
                '_acme-challenge.acme.example.com',
                '_acme-challenge.*.acme.example.com',
              ],
            },
            'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsRecordTypes': ['TXT'] },
            Null: {
              'route53:ChangeResourceRecordSetsNormalizedRecordNames': 'false',
              'route53:ChangeResourceRecordSetsRecordTypes': 'false',
            },
          },
        },
        {
          Sid: ACME_CHALLENGE_POLICY_SIDS.getChange,
          Effect: 'Allow',
          Action: ['route53:GetChange'],
          Resource: 'arn:aws:route53:::change/*',
        },
      ],
    });
    expect(minifyPolicy(policy)).not.toMatch(/\s/);
  });

  it('refuses bad input with INVALID_INPUT', () => {
    expect(() => buildAcmeChallengePolicy(null as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    expect(() => buildAcmeChallengePolicy({ zoneId: 'z1', zoneName: 'acme.example.com' })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    expect(() => buildAcmeChallengePolicy({ zoneId: 'Z1', zoneName: '*.acme.example.com' })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(50)}`;
    expect(() => acmeChallengeRecordNames(long)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});
