import { createManualClock, hasErrorCode, ZonekeeperError } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { createMemoryRoleProvider } from './role-memory.js';
import { oidcProviderRegistryContract, roleProviderContract } from './testing.js';
import {
  buildPodIdentityTrustPolicy,
  buildWebIdentityTrustPolicy,
  minifyTrustPolicy,
} from './trust-policy.js';

roleProviderContract({
  name: 'memory',
  create: async () => {
    const iam = createMemoryRoleProvider();
    return { provider: iam, oidcProviders: iam };
  },
});

oidcProviderRegistryContract({
  name: 'memory',
  create: async () => ({ registry: createMemoryRoleProvider() }),
});

const trust = minifyTrustPolicy(
  buildPodIdentityTrustPolicy({
    clusters: [
      {
        clusterArn: 'arn:aws:eks:eu-west-1:123456789012:cluster/c1',
        namespace: 'external-dns',
        serviceAccount: 'external-dns',
      },
    ],
  }),
);

describe('memory role provider', () => {
  it('stamps with the clock, counts calls and shows a snapshot', async () => {
    const clock = createManualClock(new Date('2026-05-01T00:00:00Z'));
    const iam = createMemoryRoleProvider({ clock, accountId: '000011112222' });
    const role = await iam.createRole({
      roleName: 'r',
      path: '/zonekeeper/',
      trustPolicy: trust,
      tags: { a: 'b' },
    });
    expect(role.arn).toBe('arn:aws:iam::000011112222:role/zonekeeper/r');
    expect(role.roleId).toMatch(/^AROA[A-Z2-7]{17}$/);
    expect(role.createdAt.toISOString()).toBe('2026-05-01T00:00:00.000Z');
    await iam.getRole('nobody');
    expect(iam.calls).toEqual({ createRole: 1, getRole: 1 });
    expect(iam.writes()).toBe(1);
    expect(iam.snapshot()).toEqual({
      roles: [
        {
          roleName: 'r',
          path: '/zonekeeper/',
          arn: role.arn,
          tags: { a: 'b' },
          trustPolicy: trust,
          policies: {},
        },
      ],
      oidcProviders: [],
    });
    iam.resetCalls();
    expect(iam.writes()).toBe(0);
  });

  it("injects faults: 'before' changes nothing, 'after' applies the call and then fails", async () => {
    const iam = createMemoryRoleProvider();
    iam.injectFault({ method: 'createRole', when: 'before' });
    expect(
      hasErrorCode(
        await iam.createRole({ roleName: 'r', path: '/', trustPolicy: trust, tags: {} }).catch((e) => e),
        'UNAVAILABLE',
      ),
    ).toBe(true);
    expect(await iam.getRole('r')).toBeUndefined();
    iam.injectFault({ method: 'createRole' });
    expect(
      hasErrorCode(
        await iam.createRole({ roleName: 'r', path: '/', trustPolicy: trust, tags: {} }).catch((e) => e),
        'UNAVAILABLE',
      ),
    ).toBe(true);
    expect((await iam.getRole('r'))?.roleName).toBe('r');
    const custom = new ZonekeeperError('THROTTLED', 'slow down');
    iam.injectFault({ method: 'listOidcProviders', when: 'before', error: custom, times: 2 });
    expect(await iam.listOidcProviders().catch((e) => e)).toBe(custom);
    expect(await iam.listOidcProviders().catch((e) => e)).toBe(custom);
    expect(await iam.listOidcProviders()).toEqual([]);
    iam.injectFault({ method: 'getRole' });
    iam.clearFaults();
    expect((await iam.getRole('r'))?.roleName).toBe('r');
    expect(() => iam.injectFault({ method: 'getRole', times: 0 })).toThrow(TypeError);
  });

  it('honours a raised trust-policy quota, and can accept unregistered OIDC providers', async () => {
    const five = minifyTrustPolicy(
      buildWebIdentityTrustPolicy({
        accountId: '123456789012',
        maxPolicyChars: 4096,
        clusters: Array.from({ length: 5 }, (_, i) => ({
          issuerUrl: `https://oidc.eks.eu-west-1.amazonaws.com/id/${String(i).padStart(32, '0')}`,
          namespace: 'external-dns',
          serviceAccount: 'external-dns',
        })),
      }),
    );
    const strict = createMemoryRoleProvider();
    const e = await strict
      .createRole({ roleName: 'r', path: '/', trustPolicy: five, tags: {} })
      .catch((x) => x);
    // Over the default quota of 2,048: IAM's LimitExceeded.
    expect(hasErrorCode(e, 'CONFLICT')).toBe(true);
    const raised = createMemoryRoleProvider({
      maxTrustPolicyChars: 4096,
      requireRegisteredOidcProviders: false,
    });
    await raised.createRole({ roleName: 'r', path: '/', trustPolicy: five, tags: {} });
    expect((await raised.getRole('R'))?.trustPolicy).toBe(five);
    expect(() => createMemoryRoleProvider({ maxTrustPolicyChars: 5000 })).toThrow(TypeError);
  });
});
