import { isZonekeeperError } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { buildAcmeChallengePolicy } from './acme-policy.js';
import { desiredAcmeIdentity } from './identity.js';
import { ACME_IDENTITY_PURPOSE, IDENTITY_TAGS, planZoneIdentity } from './identity-plan.js';
import {
  acmeIdentityPolicyName,
  acmeIdentityUserName,
  identityUserName,
  identityUserNamePrefix,
  MAX_IAM_USER_NAME_LENGTH,
} from './naming.js';
import { minifyPolicy } from './policy.js';

const BASE = 'example.com';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isZonekeeperError(error) ? error.code : 'not a ZonekeeperError';
  }
  return undefined;
}

describe('acmeIdentityUserName', () => {
  it('is zk-<b8>.<org>+acme, with the platform prefix, distinct from every organisation and cluster name', () => {
    const name = acmeIdentityUserName({ baseDomain: BASE, organization: 'acme' });
    expect(name).toBe(`${identityUserNamePrefix(BASE)}acme+acme`);
    expect(acmeIdentityPolicyName({ baseDomain: BASE, organization: 'acme' })).toBe(`${name}.route53`);
    // A cluster named like the suffix, or an organisation named like the whole, never collides.
    for (const clusterId of ['acme', 'acme-acme', 'x'])
      expect(identityUserName({ baseDomain: BASE, organization: 'acme', clusterId })).not.toBe(name);
    expect(identityUserName({ baseDomain: BASE, organization: 'acme' })).not.toBe(name);
  });

  it('stays within 64 characters, distinct per organisation, for the longest names', () => {
    const long = 'a'.repeat(60);
    const a = acmeIdentityUserName({ baseDomain: BASE, organization: `${long}bcd` });
    const b = acmeIdentityUserName({ baseDomain: BASE, organization: `${long}bce` });
    expect(a.length).toBeLessThanOrEqual(MAX_IAM_USER_NAME_LENGTH);
    expect(a).toMatch(/^zk-[0-9a-f]{8}\.a+\+acme[0-9a-f]{16}$/);
    expect(a).not.toBe(b);
    expect(a).not.toBe(identityUserName({ baseDomain: BASE, organization: `${long}bcd` }));
  });

  it('refuses invalid input', () => {
    expect(codeOf(() => acmeIdentityUserName({ baseDomain: BASE, organization: 'Acme' }))).toBe(
      'INVALID_INPUT',
    );
    expect(codeOf(() => acmeIdentityUserName(null as never))).toBe('INVALID_INPUT');
  });
});

describe('desiredAcmeIdentity', () => {
  const input = {
    baseDomain: BASE,
    organization: 'acme',
    zoneName: 'acme.example.com',
    zoneId: 'Z0123456789',
  };

  it('carries the TXT-only policy and the purpose tag, and no cluster tag', () => {
    const d = desiredAcmeIdentity(input);
    expect(d.path).toBe('/zonekeeper/');
    expect(d.policy).toEqual(
      buildAcmeChallengePolicy({ zoneId: 'Z0123456789', zoneName: 'acme.example.com' }),
    );
    expect(d.tags).toEqual({
      [IDENTITY_TAGS.managedBy]: 'zonekeeper',
      [IDENTITY_TAGS.organization]: 'acme',
      [IDENTITY_TAGS.zoneId]: 'Z0123456789',
      [IDENTITY_TAGS.baseDomain]: BASE,
      [IDENTITY_TAGS.purpose]: ACME_IDENTITY_PURPOSE,
    });
    const planned = desiredAcmeIdentity({ ...input, zoneId: null });
    expect(planned.policy).toBeNull();
    expect(planned.tags[IDENTITY_TAGS.zoneId]).toBeNull();
  });

  it('refuses another organisation’s zone', () => {
    expect(codeOf(() => desiredAcmeIdentity({ ...input, zoneName: 'globex.example.com' }))).toBe(
      'INVALID_INPUT',
    );
  });

  it('plans create + policy for a missing user, nothing when converged', () => {
    const d = desiredAcmeIdentity(input);
    expect(planZoneIdentity({ policyNames: [] }, d).steps.map((s) => s.op)).toEqual([
      'create-user',
      'put-policy',
    ]);
    const converged = planZoneIdentity(
      {
        user: { userName: d.userName, path: d.path, tags: d.tags as Record<string, string> },
        policyNames: [d.policyName],
        policyDocument: minifyPolicy(d.policy as never),
      },
      d,
    );
    expect(converged.steps).toEqual([]);
  });

  it('never adopts a foreign user, another organisation’s, or one of another purpose', () => {
    const d = desiredAcmeIdentity(input);
    const user = (tags: Record<string, string>) => ({
      user: { userName: d.userName, path: d.path, tags },
      policyNames: [],
    });
    expect(codeOf(() => planZoneIdentity(user({}), d))).toBe('NOT_OWNED');
    const ours = d.tags as Record<string, string>;
    expect(codeOf(() => planZoneIdentity(user({ ...ours, [IDENTITY_TAGS.organization]: 'globex' }), d))).toBe(
      'CONFLICT',
    );
    expect(codeOf(() => planZoneIdentity(user({ ...ours, [IDENTITY_TAGS.purpose]: 'other' }), d))).toBe(
      'CONFLICT',
    );
    expect(codeOf(() => planZoneIdentity(user({ ...ours, [IDENTITY_TAGS.cluster]: 'c1' }), d))).toBe(
      'CONFLICT',
    );
  });
});
