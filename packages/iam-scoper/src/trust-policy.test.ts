import { hasErrorCode } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import {
  buildPodIdentityTrustPolicy,
  buildWebIdentityTrustPolicy,
  minifyTrustPolicy,
  oidcProviderArn,
  parseEksClusterArn,
  parseOidcIssuerUrl,
  ROLE_TRUST_POLICY_DEFAULT_MAX_CHARS,
  ROLE_TRUST_POLICY_MAX_CHARS,
  serviceAccountSubject,
  TRUST_POLICY_TOO_LARGE,
  trustPolicyCharacterCount,
} from './index.js';

const ACCOUNT = '123456789012';
const EKS = 'https://oidc.eks.eu-west-1.amazonaws.com/id/5C1A0B7E2F3D4C5B6A7980A1B2C3D4E5';
const eksIssuer = (i: number) =>
  `https://oidc.eks.eu-west-1.amazonaws.com/id/${i.toString(16).toUpperCase().padStart(32, '0')}`;
const eksCluster = (i: number) => ({
  issuerUrl: eksIssuer(i),
  namespace: 'external-dns',
  serviceAccount: 'external-dns',
});
const clusterArn = (i: number) => `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/acme-cluster-${i}`;

function thrown(fn: () => unknown): { code?: string; message: string; details?: Record<string, unknown> } {
  try {
    fn();
  } catch (e) {
    return e as { code?: string; message: string; details?: Record<string, unknown> };
  }
  throw new Error('expected a throw');
}

describe('buildWebIdentityTrustPolicy', () => {
  it('builds one statement per cluster, trusting its OIDC provider with aud and sub', () => {
    expect(
      buildWebIdentityTrustPolicy({
        accountId: ACCOUNT,
        clusters: [{ issuerUrl: EKS, namespace: 'external-dns', serviceAccount: 'external-dns' }],
      }),
    ).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: {
            Federated:
              'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/5C1A0B7E2F3D4C5B6A7980A1B2C3D4E5',
          },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              'oidc.eks.eu-west-1.amazonaws.com/id/5C1A0B7E2F3D4C5B6A7980A1B2C3D4E5:aud': 'sts.amazonaws.com',
              'oidc.eks.eu-west-1.amazonaws.com/id/5C1A0B7E2F3D4C5B6A7980A1B2C3D4E5:sub':
                'system:serviceaccount:external-dns:external-dns',
            },
          },
        },
      ],
    });
  });

  it('is independent of the order of the clusters and merges identical entries', () => {
    const clusters = [eksCluster(3), eksCluster(1), eksCluster(2)];
    const a = buildWebIdentityTrustPolicy({ accountId: ACCOUNT, clusters });
    const b = buildWebIdentityTrustPolicy({
      accountId: ACCOUNT,
      clusters: [...clusters].reverse().concat([eksCluster(1)]),
    });
    expect(minifyTrustPolicy(b)).toBe(minifyTrustPolicy(a));
    expect(a.Statement.length).toBe(3);
  });

  it('uses the partition in the provider ARN', () => {
    const doc = buildWebIdentityTrustPolicy({
      accountId: ACCOUNT,
      partition: 'aws-cn',
      clusters: [eksCluster(1)],
    });
    expect(JSON.stringify(doc.Statement[0]?.Principal)).toMatch(/"arn:aws-cn:iam::/);
  });

  it('rejects bad input with INVALID_INPUT', () => {
    const ok = eksCluster(1);
    const bad: [string, unknown][] = [
      ['no input', null],
      ['short account', { accountId: '1234', clusters: [ok] }],
      ['no clusters', { accountId: ACCOUNT, clusters: [] }],
      ['clusters not an array', { accountId: ACCOUNT, clusters: ok }],
      ['cluster not an object', { accountId: ACCOUNT, clusters: ['x'] }],
      ['http issuer', { accountId: ACCOUNT, clusters: [{ ...ok, issuerUrl: 'http://oidc.example.com' }] }],
      [
        'issuer with port',
        { accountId: ACCOUNT, clusters: [{ ...ok, issuerUrl: 'https://oidc.example.com:8443' }] },
      ],
      [
        'issuer with query',
        { accountId: ACCOUNT, clusters: [{ ...ok, issuerUrl: 'https://oidc.example.com/?a=b' }] },
      ],
      [
        'issuer with fragment',
        { accountId: ACCOUNT, clusters: [{ ...ok, issuerUrl: 'https://oidc.example.com/#x' }] },
      ],
      [
        'issuer with user',
        { accountId: ACCOUNT, clusters: [{ ...ok, issuerUrl: 'https://u@oidc.example.com' }] },
      ],
      [
        'issuer with trailing slash',
        { accountId: ACCOUNT, clusters: [{ ...ok, issuerUrl: 'https://oidc.example.com/' }] },
      ],
      [
        'uppercase host',
        { accountId: ACCOUNT, clusters: [{ ...ok, issuerUrl: 'https://OIDC.example.com' }] },
      ],
      ['single-label host', { accountId: ACCOUNT, clusters: [{ ...ok, issuerUrl: 'https://localhost' }] }],
      [
        'space in path',
        { accountId: ACCOUNT, clusters: [{ ...ok, issuerUrl: 'https://oidc.example.com/a b' }] },
      ],
      [
        'empty path segment',
        { accountId: ACCOUNT, clusters: [{ ...ok, issuerUrl: 'https://oidc.example.com//a' }] },
      ],
      [
        'issuer too long',
        {
          accountId: ACCOUNT,
          clusters: [{ ...ok, issuerUrl: `https://oidc.example.com/${'a'.repeat(240)}` }],
        },
      ],
      ['namespace uppercase', { accountId: ACCOUNT, clusters: [{ ...ok, namespace: 'External-DNS' }] }],
      ['namespace with colon', { accountId: ACCOUNT, clusters: [{ ...ok, namespace: 'a:b' }] }],
      ['namespace too long', { accountId: ACCOUNT, clusters: [{ ...ok, namespace: 'a'.repeat(64) }] }],
      ['service account with colon', { accountId: ACCOUNT, clusters: [{ ...ok, serviceAccount: 'a:b' }] }],
      ['service account wildcard', { accountId: ACCOUNT, clusters: [{ ...ok, serviceAccount: '*' }] }],
      ['service account empty', { accountId: ACCOUNT, clusters: [{ ...ok, serviceAccount: '' }] }],
      ['service account ..', { accountId: ACCOUNT, clusters: [{ ...ok, serviceAccount: 'a..b' }] }],
      ['audience with space', { accountId: ACCOUNT, clusters: [{ ...ok, audience: 'a b' }] }],
      ['audience empty', { accountId: ACCOUNT, clusters: [{ ...ok, audience: '' }] }],
      ['limit too big', { accountId: ACCOUNT, clusters: [ok], maxPolicyChars: 4097 }],
      ['limit not integer', { accountId: ACCOUNT, clusters: [ok], maxPolicyChars: 2048.5 }],
      ['partition unknown', { accountId: ACCOUNT, clusters: [ok], partition: 'aws-mars' }],
    ];
    for (const [why, input] of bad) {
      const e = thrown(() => buildWebIdentityTrustPolicy(input as never));
      expect(hasErrorCode(e, 'INVALID_INPUT'), why).toBe(true);
    }
  });

  it('fits 4 EKS clusters in the default 2,048 characters and 9 in 4,096; beyond, it says how many fit', () => {
    const fitting = (limit: number) => {
      let n = 1;
      for (;;) {
        try {
          buildWebIdentityTrustPolicy({
            accountId: ACCOUNT,
            clusters: Array.from({ length: n + 1 }, (_, i) => eksCluster(i)),
            maxPolicyChars: limit,
          });
          n++;
        } catch {
          return n;
        }
      }
    };
    expect(fitting(ROLE_TRUST_POLICY_DEFAULT_MAX_CHARS)).toBe(4);
    expect(fitting(ROLE_TRUST_POLICY_MAX_CHARS)).toBe(9);

    const five = Array.from({ length: 5 }, (_, i) => eksCluster(i));
    const e = thrown(() => buildWebIdentityTrustPolicy({ accountId: ACCOUNT, clusters: five }));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.details).toMatchObject({ reason: TRUST_POLICY_TOO_LARGE, limit: 2048, clusters: 5, fits: 4 });
    expect(e.message).toMatch(/over the limit of 2048/);
    expect(e.message).toMatch(/its own role/);
    const doc = buildWebIdentityTrustPolicy({ accountId: ACCOUNT, clusters: five, maxPolicyChars: 4096 });
    expect(trustPolicyCharacterCount(doc)).toBe(e.details?.size);
    expect(trustPolicyCharacterCount(doc)).toBeGreaterThan(2048);
  });
});

describe('buildPodIdentityTrustPolicy', () => {
  it('groups clusters by namespace and service account, conditions on the documented session tags', () => {
    expect(
      buildPodIdentityTrustPolicy({
        clusters: [
          { clusterArn: clusterArn(2), namespace: 'external-dns', serviceAccount: 'external-dns' },
          { clusterArn: clusterArn(1), namespace: 'external-dns', serviceAccount: 'external-dns' },
          { clusterArn: clusterArn(3), namespace: 'dns', serviceAccount: 'edns' },
        ],
      }),
    ).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'pods.eks.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Condition: {
            StringEquals: {
              'aws:RequestTag/eks-cluster-arn': clusterArn(3),
              'aws:RequestTag/kubernetes-namespace': 'dns',
              'aws:RequestTag/kubernetes-service-account': 'edns',
            },
          },
        },
        {
          Effect: 'Allow',
          Principal: { Service: 'pods.eks.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Condition: {
            StringEquals: {
              'aws:RequestTag/eks-cluster-arn': [clusterArn(1), clusterArn(2)],
              'aws:RequestTag/kubernetes-namespace': 'external-dns',
              'aws:RequestTag/kubernetes-service-account': 'external-dns',
            },
          },
        },
      ],
    });
  });

  it('rejects bad input with INVALID_INPUT', () => {
    const ok = { clusterArn: clusterArn(1), namespace: 'external-dns', serviceAccount: 'external-dns' };
    const bad: [string, unknown][] = [
      ['no clusters', { clusters: [] }],
      ['not an ARN', { clusters: [{ ...ok, clusterArn: 'acme-cluster-1' }] }],
      ['not EKS', { clusters: [{ ...ok, clusterArn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/x` }] }],
      ['bad region', { clusters: [{ ...ok, clusterArn: `arn:aws:eks:europe:${ACCOUNT}:cluster/x` }] }],
      ['bad account', { clusters: [{ ...ok, clusterArn: 'arn:aws:eks:eu-west-1:1234:cluster/x' }] }],
      [
        'not a cluster',
        { clusters: [{ ...ok, clusterArn: `arn:aws:eks:eu-west-1:${ACCOUNT}:nodegroup/x` }] },
      ],
      ['bad name', { clusters: [{ ...ok, clusterArn: `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/-x` }] }],
      ['wildcard name', { clusters: [{ ...ok, clusterArn: `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/*` }] }],
      ['bad namespace', { clusters: [{ ...ok, namespace: '' }] }],
      ['bad service account', { clusters: [{ ...ok, serviceAccount: 'A' }] }],
      ['limit', { clusters: [ok], maxPolicyChars: 0 }],
    ];
    for (const [why, input] of bad) {
      expect(
        hasErrorCode(
          thrown(() => buildPodIdentityTrustPolicy(input as never)),
          'INVALID_INPUT',
        ),
        why,
      ).toBe(true);
    }
  });

  it('fits 28 clusters (ARNs of ~55 characters) sharing a service account in 2,048 characters; beyond, it says how many fit', () => {
    const many = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        clusterArn: clusterArn(i),
        namespace: 'external-dns',
        serviceAccount: 'external-dns',
      }));
    expect(
      trustPolicyCharacterCount(buildPodIdentityTrustPolicy({ clusters: many(28) })),
    ).toBeLessThanOrEqual(2048);
    const e = thrown(() => buildPodIdentityTrustPolicy({ clusters: many(29) }));
    expect(e.details).toMatchObject({ reason: TRUST_POLICY_TOO_LARGE, clusters: 29, fits: 28 });
  });
});

describe('helpers', () => {
  it('parses issuer URLs and names their OIDC providers as IAM does', () => {
    expect(parseOidcIssuerUrl('https://oidc.example.com/clusters/a-1_b.c~d')).toEqual({
      url: 'https://oidc.example.com/clusters/a-1_b.c~d',
      hostPath: 'oidc.example.com/clusters/a-1_b.c~d',
    });
    expect(oidcProviderArn(ACCOUNT, 'https://oidc.example.com')).toBe(
      'arn:aws:iam::123456789012:oidc-provider/oidc.example.com',
    );
  });

  it('builds service-account subjects and parses EKS cluster ARNs', () => {
    expect(serviceAccountSubject('external-dns', 'external-dns')).toBe(
      'system:serviceaccount:external-dns:external-dns',
    );
    expect(parseEksClusterArn(`arn:aws-us-gov:eks:us-gov-west-1:${ACCOUNT}:cluster/Prod_1`)).toEqual({
      arn: `arn:aws-us-gov:eks:us-gov-west-1:${ACCOUNT}:cluster/Prod_1`,
      partition: 'aws-us-gov',
      region: 'us-gov-west-1',
      accountId: ACCOUNT,
      name: 'Prod_1',
    });
  });
});
