/**
 * The trust policies under an IAM policy simulator (see trust-simulate.test.util.ts for how web
 * identity is simulated): exactly the ExternalDNS service account of exactly the attached clusters may
 * assume the role.
 */
import { describe, expect, it } from 'vitest';
import {
  buildPodIdentityTrustPolicy,
  buildWebIdentityTrustPolicy,
  type IamTrustPolicyDocument,
} from './trust-policy.js';
import {
  ACCOUNT,
  podIdentityContext,
  simulateTrust,
  webIdentityContext,
} from './trust-simulate.test.util.js';

const EKS_A = 'oidc.eks.eu-west-1.amazonaws.com/id/5C1A0B7E2F3D4C5B6A7980A1B2C3D4E5';
const GENERIC_B = 'oidc.acme-clusters.example.net/clusters/b1';
const OTHER_ORG = 'oidc.eks.eu-west-1.amazonaws.com/id/99999999999999999999999999999999';
const provider = (hostPath: string) => `arn:aws:iam::${ACCOUNT}:oidc-provider/${hostPath}`;
const SA_A = 'system:serviceaccount:external-dns:external-dns';
const SA_B = 'system:serviceaccount:dns:external-dns-b';
const WEB = 'sts:AssumeRoleWithWebIdentity';

const webTrust = buildWebIdentityTrustPolicy({
  accountId: ACCOUNT,
  clusters: [
    { issuerUrl: `https://${EKS_A}`, namespace: 'external-dns', serviceAccount: 'external-dns' },
    {
      issuerUrl: `https://${GENERIC_B}`,
      namespace: 'dns',
      serviceAccount: 'external-dns-b',
      audience: 'zonekeeper',
    },
  ],
});

interface WebCase {
  readonly principal: string;
  readonly action?: string;
  readonly context: Record<string, string>;
  readonly expected: 'Allowed' | 'ImplicitlyDenied';
}

const webCases: Record<string, WebCase> = {
  'the EKS cluster’s ExternalDNS token (aud sts.amazonaws.com) is allowed': {
    principal: provider(EKS_A),
    context: webIdentityContext(EKS_A, { aud: 'sts.amazonaws.com', sub: SA_A }),
    expected: 'Allowed',
  },
  'the generic cluster’s ExternalDNS token with its own audience is allowed': {
    principal: provider(GENERIC_B),
    context: webIdentityContext(GENERIC_B, { aud: 'zonekeeper', sub: SA_B }),
    expected: 'Allowed',
  },
  'another organisation’s cluster (its own OIDC provider) with the same service account is denied': {
    principal: provider(OTHER_ORG),
    context: webIdentityContext(OTHER_ORG, { aud: 'sts.amazonaws.com', sub: SA_A }),
    expected: 'ImplicitlyDenied',
  },
  'another namespace in an attached cluster is denied': {
    principal: provider(EKS_A),
    context: webIdentityContext(EKS_A, {
      aud: 'sts.amazonaws.com',
      sub: 'system:serviceaccount:kube-system:external-dns',
    }),
    expected: 'ImplicitlyDenied',
  },
  'another service account in ExternalDNS’s namespace is denied': {
    principal: provider(EKS_A),
    context: webIdentityContext(EKS_A, {
      aud: 'sts.amazonaws.com',
      sub: 'system:serviceaccount:external-dns:default',
    }),
    expected: 'ImplicitlyDenied',
  },
  'a token without aud is denied': {
    principal: provider(EKS_A),
    context: webIdentityContext(EKS_A, { sub: SA_A }),
    expected: 'ImplicitlyDenied',
  },
  'a token without sub is denied': {
    principal: provider(EKS_A),
    context: webIdentityContext(EKS_A, { aud: 'sts.amazonaws.com' }),
    expected: 'ImplicitlyDenied',
  },
  'a token with another audience is denied': {
    principal: provider(EKS_A),
    context: webIdentityContext(EKS_A, { aud: 'vault', sub: SA_A }),
    expected: 'ImplicitlyDenied',
  },
  'cluster B’s audience on cluster A’s issuer is denied (audiences are per cluster)': {
    principal: provider(EKS_A),
    context: webIdentityContext(EKS_A, { aud: 'zonekeeper', sub: SA_A }),
    expected: 'ImplicitlyDenied',
  },
  'cluster B’s service account on cluster A’s issuer is denied (subjects are per cluster)': {
    principal: provider(EKS_A),
    context: webIdentityContext(EKS_A, { aud: 'sts.amazonaws.com', sub: SA_B }),
    expected: 'ImplicitlyDenied',
  },
  'a wrong issuer: a provider that is not attached, presenting the claims of cluster A, is denied': {
    principal: provider('token.example.org'),
    context: webIdentityContext('token.example.org', { aud: 'sts.amazonaws.com', sub: SA_A }),
    expected: 'ImplicitlyDenied',
  },
  'an issuer whose name only extends an attached one (…/id/<ID>x) is denied': {
    principal: provider(`${EKS_A}x`),
    context: webIdentityContext(`${EKS_A}x`, { aud: 'sts.amazonaws.com', sub: SA_A }),
    expected: 'ImplicitlyDenied',
  },
  'a subject that merely starts with the service account’s is denied (StringEquals, not a prefix)': {
    principal: provider(EKS_A),
    context: webIdentityContext(EKS_A, { aud: 'sts.amazonaws.com', sub: `${SA_A}-evil` }),
    expected: 'ImplicitlyDenied',
  },
  'the literal subject "…:*" is denied (no wildcards)': {
    principal: provider(EKS_A),
    context: webIdentityContext(EKS_A, {
      aud: 'sts.amazonaws.com',
      sub: 'system:serviceaccount:external-dns:*',
    }),
    expected: 'ImplicitlyDenied',
  },
  'sts:AssumeRole by the OIDC provider is denied (only web identity is trusted)': {
    principal: provider(EKS_A),
    action: 'sts:AssumeRole',
    context: {},
    expected: 'ImplicitlyDenied',
  },
  'an IAM user of the same account is denied': {
    principal: `arn:aws:iam::${ACCOUNT}:user/ops/alice`,
    action: 'sts:AssumeRole',
    context: {},
    expected: 'ImplicitlyDenied',
  },
};

const C1 = `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/acme-c1`;
const C2 = `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/acme-c2`;
const C3 = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/acme-c3`;
const podTrust = buildPodIdentityTrustPolicy({
  clusters: [
    { clusterArn: C1, namespace: 'external-dns', serviceAccount: 'external-dns' },
    { clusterArn: C2, namespace: 'external-dns', serviceAccount: 'external-dns' },
    { clusterArn: C3, namespace: 'dns', serviceAccount: 'edns' },
  ],
});
const POD = 'pods.eks.amazonaws.com';

interface PodCase {
  readonly principal?: string;
  readonly action: string;
  readonly context: Record<string, string | string[]>;
  readonly expected: 'Allowed' | 'ImplicitlyDenied';
}

const tags = (clusterArn: string, namespace = 'external-dns', serviceAccount = 'external-dns') =>
  podIdentityContext({ clusterArn, namespace, serviceAccount });

const podCases: Record<string, PodCase> = {
  'AssumeRole for ExternalDNS in attached cluster c1 is allowed': {
    action: 'sts:AssumeRole',
    context: tags(C1),
    expected: 'Allowed',
  },
  'TagSession for ExternalDNS in attached cluster c1 is allowed': {
    action: 'sts:TagSession',
    context: tags(C1),
    expected: 'Allowed',
  },
  'AssumeRole for ExternalDNS in attached cluster c2 is allowed': {
    action: 'sts:AssumeRole',
    context: tags(C2),
    expected: 'Allowed',
  },
  'AssumeRole for cluster c3’s own namespace and service account is allowed': {
    action: 'sts:AssumeRole',
    context: tags(C3, 'dns', 'edns'),
    expected: 'Allowed',
  },
  'another organisation’s cluster is denied': {
    action: 'sts:AssumeRole',
    context: tags(`arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/beta-c1`),
    expected: 'ImplicitlyDenied',
  },
  'a cluster of the same name in another account is denied': {
    action: 'sts:AssumeRole',
    context: tags('arn:aws:eks:eu-west-1:210987654321:cluster/acme-c1'),
    expected: 'ImplicitlyDenied',
  },
  'a cluster of the same name in another region is denied': {
    action: 'sts:AssumeRole',
    context: tags(`arn:aws:eks:eu-central-1:${ACCOUNT}:cluster/acme-c1`),
    expected: 'ImplicitlyDenied',
  },
  'another namespace in an attached cluster is denied': {
    action: 'sts:AssumeRole',
    context: tags(C1, 'default'),
    expected: 'ImplicitlyDenied',
  },
  'another service account in ExternalDNS’s namespace is denied': {
    action: 'sts:AssumeRole',
    context: tags(C1, 'external-dns', 'default'),
    expected: 'ImplicitlyDenied',
  },
  'TagSession for another service account is denied': {
    action: 'sts:TagSession',
    context: tags(C1, 'external-dns', 'default'),
    expected: 'ImplicitlyDenied',
  },
  'c3’s service account in c1 is denied (groups do not mix)': {
    action: 'sts:AssumeRole',
    context: tags(C1, 'dns', 'edns'),
    expected: 'ImplicitlyDenied',
  },
  'c1’s service account in c3 is denied (groups do not mix)': {
    action: 'sts:AssumeRole',
    context: tags(C3),
    expected: 'ImplicitlyDenied',
  },
  'a session without tags is denied': {
    action: 'sts:AssumeRole',
    context: {},
    expected: 'ImplicitlyDenied',
  },
  'another service principal (ec2.amazonaws.com) with the right tags is denied': {
    principal: 'ec2.amazonaws.com',
    action: 'sts:AssumeRole',
    context: tags(C1),
    expected: 'ImplicitlyDenied',
  },
  'an IAM user of the same account with the right tags is denied': {
    principal: `arn:aws:iam::${ACCOUNT}:user/ops/alice`,
    action: 'sts:AssumeRole',
    context: tags(C1),
    expected: 'ImplicitlyDenied',
  },
};

describe('the web-identity trust policy under an IAM policy simulator', () => {
  for (const [sentence, c] of Object.entries(webCases)) {
    it(sentence, async () => {
      const result = await simulateTrust(webTrust, {
        action: c.action ?? WEB,
        principal: c.principal,
        context: c.context,
      });
      // A misspelt or inapplicable context key would be dropped silently and then count as absent.
      expect(result.ignoredContextKeys).toEqual([]);
      expect(result.decision).toBe(c.expected);
    });
  }

  it('a misspelt claim key is reported as ignored, not silently accepted', async () => {
    const result = await simulateTrust(webTrust, {
      action: WEB,
      principal: provider(EKS_A),
      context: { [`${EKS_A}:aud`]: 'sts.amazonaws.com', [`${EKS_A}:subject`]: SA_A },
    });
    expect(result.ignoredContextKeys).toEqual([`${EKS_A}:subject`]);
    expect(result.decision).toBe('ImplicitlyDenied');
  });

  it('without the sub condition, another service account would be allowed (the condition is what denies it)', async () => {
    const weakened: IamTrustPolicyDocument = {
      ...webTrust,
      Statement: webTrust.Statement.map((s) => ({
        ...s,
        Condition: {
          StringEquals: Object.fromEntries(
            Object.entries(s.Condition.StringEquals ?? {}).filter(([k]) => !k.endsWith(':sub')),
          ),
        },
      })),
    };
    const request = {
      action: WEB,
      principal: provider(EKS_A),
      context: webIdentityContext(EKS_A, {
        aud: 'sts.amazonaws.com',
        sub: 'system:serviceaccount:external-dns:default',
      }),
    };
    expect((await simulateTrust(weakened, request)).decision).toBe('Allowed');
    expect((await simulateTrust(webTrust, request)).decision).toBe('ImplicitlyDenied');
  });
});

describe('the Pod Identity trust policy under an IAM policy simulator', () => {
  for (const [sentence, c] of Object.entries(podCases)) {
    it(sentence, async () => {
      const result = await simulateTrust(podTrust, {
        action: c.action,
        principal: c.principal ?? POD,
        context: c.context,
      });
      expect(result.ignoredContextKeys).toEqual([]);
      expect(result.decision).toBe(c.expected);
    });
  }

  it('a misspelt session-tag key is reported as ignored', async () => {
    const result = await simulateTrust(podTrust, {
      action: 'sts:AssumeRole',
      principal: POD,
      context: { ...tags(C1), 'aws:RequestTagg/kubernetes-namespace': 'external-dns' },
    });
    expect(result.ignoredContextKeys).toEqual(['aws:RequestTagg/kubernetes-namespace']);
  });
});

describe('a role per cluster (identity scope cluster): the trust of one cluster under the simulator', () => {
  // zonekeeper builds a cluster's own role's trust with the same builders, from that cluster alone
  // (keyless.test.ts checks the document it writes is exactly this one).
  const ROLE_C1 = `arn:aws:iam::${ACCOUNT}:role/zonekeeper/zk-a379a6f6.acme.c1`;
  const EKS_A2 = 'oidc.eks.eu-west-1.amazonaws.com/id/A2A2A2A2A2A2A2A2A2A2A2A2A2A2A2A2';
  const webC1 = buildWebIdentityTrustPolicy({
    accountId: ACCOUNT,
    clusters: [{ issuerUrl: `https://${EKS_A}`, namespace: 'external-dns', serviceAccount: 'external-dns' }],
  });
  const podC1 = buildPodIdentityTrustPolicy({
    clusters: [{ clusterArn: C1, namespace: 'external-dns', serviceAccount: 'external-dns' }],
  });
  const web: Record<string, WebCase> = {
    'the cluster’s own ExternalDNS is allowed': {
      principal: provider(EKS_A),
      context: webIdentityContext(EKS_A, { aud: 'sts.amazonaws.com', sub: SA_A }),
      expected: 'Allowed',
    },
    'another cluster of the same organisation (its own issuer, the same service account) is denied': {
      principal: provider(EKS_A2),
      context: webIdentityContext(EKS_A2, { aud: 'sts.amazonaws.com', sub: SA_A }),
      expected: 'ImplicitlyDenied',
    },
    'another organisation’s cluster is denied': {
      principal: provider(OTHER_ORG),
      context: webIdentityContext(OTHER_ORG, { aud: 'sts.amazonaws.com', sub: SA_A }),
      expected: 'ImplicitlyDenied',
    },
    'another namespace on the cluster’s issuer is denied': {
      principal: provider(EKS_A),
      context: webIdentityContext(EKS_A, {
        aud: 'sts.amazonaws.com',
        sub: 'system:serviceaccount:dns:external-dns',
      }),
      expected: 'ImplicitlyDenied',
    },
    'another service account in ExternalDNS’s namespace is denied': {
      principal: provider(EKS_A),
      context: webIdentityContext(EKS_A, {
        aud: 'sts.amazonaws.com',
        sub: 'system:serviceaccount:external-dns:default',
      }),
      expected: 'ImplicitlyDenied',
    },
    'a token without aud is denied': {
      principal: provider(EKS_A),
      context: webIdentityContext(EKS_A, { sub: SA_A }),
      expected: 'ImplicitlyDenied',
    },
  };
  for (const [sentence, c] of Object.entries(web)) {
    it(`web identity: ${sentence}`, async () => {
      const result = await simulateTrust(webC1, {
        action: c.action ?? WEB,
        principal: c.principal,
        context: c.context,
        roleArn: ROLE_C1,
      });
      expect(result.ignoredContextKeys).toEqual([]);
      expect(result.decision).toBe(c.expected);
    });
  }
  const pod: Record<string, PodCase> = {
    'the cluster’s own ExternalDNS is allowed': {
      action: 'sts:AssumeRole',
      context: tags(C1),
      expected: 'Allowed',
    },
    'another cluster of the same organisation is denied': {
      action: 'sts:AssumeRole',
      context: tags(C2),
      expected: 'ImplicitlyDenied',
    },
    'another organisation’s cluster is denied': {
      action: 'sts:AssumeRole',
      context: tags(`arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/beta-c1`),
      expected: 'ImplicitlyDenied',
    },
    'another namespace is denied': {
      action: 'sts:AssumeRole',
      context: tags(C1, 'dns'),
      expected: 'ImplicitlyDenied',
    },
    'another service account is denied': {
      action: 'sts:TagSession',
      context: tags(C1, 'external-dns', 'default'),
      expected: 'ImplicitlyDenied',
    },
  };
  for (const [sentence, c] of Object.entries(pod)) {
    it(`Pod Identity: ${sentence}`, async () => {
      const result = await simulateTrust(podC1, {
        action: c.action,
        principal: c.principal ?? POD,
        context: c.context,
        roleArn: ROLE_C1,
      });
      expect(result.ignoredContextKeys).toEqual([]);
      expect(result.decision).toBe(c.expected);
    });
  }
});
