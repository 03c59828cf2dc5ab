import { describe, expect, it } from 'vitest';
import { createMemoryPodIdentityProvider } from './pod-identity-memory.js';
import { podIdentityAssociationContract } from './testing.js';

const ROLE = 'arn:aws:iam::123456789012:role/zonekeeper/zk-a379a6f6.acme';

podIdentityAssociationContract({
  name: 'memory',
  create: async () => ({
    provider: createMemoryPodIdentityProvider({ clusters: ['acme-c1'] }),
    clusterName: 'acme-c1',
    roleArn: ROLE,
  }),
});

describe('memory Pod Identity provider', () => {
  it('draws ids from the injected random source, counts calls, adds clusters and shows a snapshot', async () => {
    let next = 0;
    const eks = createMemoryPodIdentityProvider({
      randomBytes: (size) => Uint8Array.from({ length: size }, () => next++),
      accountId: '000011112222',
      region: 'us-east-1',
    });
    expect(await eks.listAssociations('c1').catch((e) => e.code)).toBe('NOT_FOUND');
    eks.addCluster('c1');
    const a = await eks.createAssociation({
      clusterName: 'c1',
      namespace: 'external-dns',
      serviceAccount: 'external-dns',
      roleArn: ROLE,
      tags: {},
    });
    expect(a.associationId).toBe('a-abcdefghijklmnopq');
    expect(a.associationArn).toBe(
      'arn:aws:eks:us-east-1:000011112222:podidentityassociation/c1/a-abcdefghijklmnopq',
    );
    expect(eks.snapshot()).toEqual([a]);
    expect(eks.calls).toEqual({ listAssociations: 1, createAssociation: 1 });
  });

  it('refuses a reused client request token with a different role', async () => {
    const eks = createMemoryPodIdentityProvider({ clusters: ['c1'] });
    const spec = {
      clusterName: 'c1',
      namespace: 'external-dns',
      serviceAccount: 'external-dns',
      roleArn: ROLE,
      tags: {},
      clientRequestToken: 't1',
    };
    await eks.createAssociation(spec);
    const e = await eks.createAssociation({ ...spec, roleArn: `${ROLE}-other` }).catch((x) => x);
    expect(e.code).toBe('INVALID_INPUT');
  });
});
