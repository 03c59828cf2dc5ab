/**
 * zonekeeper's own IAM permissions for the identity operations, proven with the IAM policy simulator
 * (@cloud-copilot/iam-simulate, AGPL: tests only). That the list of actions is complete is checked
 * against real traffic in identity.iam.test.ts.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { hasErrorCode } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import {
  buildIdentityAdminPolicy,
  IDENTITY_ADMIN_ACTIONS,
  KEYLESS_ADMIN_ACTIONS,
  POD_IDENTITY_ADMIN_ACTIONS,
} from './identity-admin-policy.js';
import { identityUserName } from './naming.js';
import type { IamPolicyDocument } from './policy.js';

const ACCOUNT = '123456789012';
const PRINCIPAL = `arn:aws:iam::${ACCOUNT}:user/platform/zonekeeper-admin`;
const USER = identityUserName({ baseDomain: 'example.com', organization: 'acme' });
const OURS = `arn:aws:iam::${ACCOUNT}:user/zonekeeper/${USER}`;
const PATHLESS = `arn:aws:iam::${ACCOUNT}:user/${USER}`;
const OTHER_PLATFORM = `arn:aws:iam::${ACCOUNT}:user/zonekeeper/${identityUserName({ baseDomain: 'example.org', organization: 'acme' })}`;
const FOREIGN = `arn:aws:iam::${ACCOUNT}:user/ops/alice`;
const TAGGED = {
  'aws:RequestTag/zonekeeper:managed-by': 'zonekeeper',
  'aws:TagKeys': ['zonekeeper:managed-by'],
};

async function decide(
  policy: IamPolicyDocument,
  action: string,
  resource: string,
  context: Record<string, string | string[]> = {},
): Promise<string> {
  const result = await runSimulation(
    {
      identityPolicies: [{ name: 'zonekeeper-admin', policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        action,
        principal: PRINCIPAL,
        resource: { accountId: ACCOUNT, resource },
        contextVariables: context,
      },
    },
    {},
  );
  if (result.resultType !== 'single') throw new Error(`simulation did not run: ${JSON.stringify(result)}`);
  expect(result.result.ignoredContextKeys ?? []).toEqual([]);
  return result.result.analysis.result;
}

describe('buildIdentityAdminPolicy', () => {
  const policy = buildIdentityAdminPolicy({ accountId: ACCOUNT });
  const userActions = IDENTITY_ADMIN_ACTIONS.filter((a) => a !== 'iam:ListUsers' && a !== 'iam:CreateUser');

  for (const action of userActions) {
    it(`allows ${action} on zonekeeper's users and not on anyone else`, async () => {
      expect(await decide(policy, action, OURS)).toBe('Allowed');
      expect(await decide(policy, action, FOREIGN)).toBe('ImplicitlyDenied');
    });
  }

  it('allows CreateUser under /zonekeeper/ only with the ownership tag in the request', async () => {
    expect(await decide(policy, 'iam:CreateUser', OURS, TAGGED)).toBe('Allowed');
    expect(
      await decide(policy, 'iam:CreateUser', OURS, { 'aws:RequestTag/team': 'x', 'aws:TagKeys': ['team'] }),
    ).toBe('ImplicitlyDenied');
    expect(await decide(policy, 'iam:CreateUser', PATHLESS, TAGGED)).toBe('ImplicitlyDenied');
    expect(await decide(policy, 'iam:CreateUser', FOREIGN, TAGGED)).toBe('ImplicitlyDenied');
  });

  it('allows looking up a user that does not exist yet (IAM checks the path-less ARN), and nothing else there', async () => {
    expect(await decide(policy, 'iam:GetUser', PATHLESS)).toBe('Allowed');
    for (const action of ['iam:DeleteUser', 'iam:CreateAccessKey', 'iam:PutUserPolicy', 'iam:TagUser']) {
      expect(await decide(policy, action, PATHLESS)).toBe('ImplicitlyDenied');
    }
  });

  it('allows ListUsers, which IAM cannot scope', async () => {
    expect(await decide(policy, 'iam:ListUsers', '*')).toBe('Allowed');
  });

  it('with a base domain, only that platform’s users', async () => {
    const narrow = buildIdentityAdminPolicy({ accountId: ACCOUNT, baseDomain: 'example.com' });
    expect(await decide(narrow, 'iam:DeleteAccessKey', OURS)).toBe('Allowed');
    expect(await decide(narrow, 'iam:GetUser', PATHLESS)).toBe('Allowed');
    expect(await decide(narrow, 'iam:DeleteAccessKey', OTHER_PLATFORM)).toBe('ImplicitlyDenied');
    expect(await decide(policy, 'iam:DeleteAccessKey', OTHER_PLATFORM)).toBe('Allowed');
  });

  it('never grants anything beyond the identity actions', async () => {
    for (const action of [
      'iam:AttachUserPolicy',
      'iam:CreateLoginProfile',
      'iam:UpdateAccessKey',
      'iam:UpdateUser',
      'iam:UntagUser',
      'iam:PutUserPermissionsBoundary',
    ]) {
      expect(await decide(policy, action, OURS)).toBe('ImplicitlyDenied');
    }
    const actions = policy.Statement.flatMap((s) => s.Action);
    expect([...new Set(actions)].sort()).toEqual([...IDENTITY_ADMIN_ACTIONS].sort());
  });

  it('rejects an account id that is not 12 digits', () => {
    let thrown: unknown;
    try {
      buildIdentityAdminPolicy({ accountId: '1234' });
    } catch (e) {
      thrown = e;
    }
    expect(hasErrorCode(thrown, 'INVALID_INPUT')).toBe(true);
  });
});

describe('buildIdentityAdminPolicy with keyless: true (roles and OIDC providers)', () => {
  const policy = buildIdentityAdminPolicy({ accountId: ACCOUNT, keyless: true });
  const ROLE = `arn:aws:iam::${ACCOUNT}:role/zonekeeper/${USER}`;
  const ROLE_PATHLESS = `arn:aws:iam::${ACCOUNT}:role/${USER}`;
  const FOREIGN_ROLE = `arn:aws:iam::${ACCOUNT}:role/ops/deploy`;
  const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC`;
  const OURS_TAG = { 'aws:ResourceTag/zonekeeper:managed-by': 'zonekeeper' };
  const FOREIGN_TAG = { 'aws:ResourceTag/zonekeeper:managed-by': 'someone-else' };

  it('allows CreateRole (and its tags) under /zonekeeper/ only with the ownership tag in the request', async () => {
    for (const action of ['iam:CreateRole', 'iam:TagRole']) {
      expect(await decide(policy, action, ROLE, TAGGED)).toBe('Allowed');
    }
    expect(
      await decide(policy, 'iam:CreateRole', ROLE, { 'aws:RequestTag/team': 'x', 'aws:TagKeys': ['team'] }),
    ).toBe('ImplicitlyDenied');
    expect(await decide(policy, 'iam:CreateRole', FOREIGN_ROLE, TAGGED)).toBe('ImplicitlyDenied');
    expect(await decide(policy, 'iam:CreateRole', ROLE_PATHLESS, TAGGED)).toBe('ImplicitlyDenied');
  });

  for (const action of ['iam:GetRole', 'iam:ListRoleTags', 'iam:ListRolePolicies', 'iam:GetRolePolicy']) {
    it(`allows reading with ${action} on zonekeeper's roles (also foreign-tagged ones there) and not elsewhere`, async () => {
      expect(await decide(policy, action, ROLE)).toBe('Allowed');
      expect(await decide(policy, action, ROLE, FOREIGN_TAG)).toBe('Allowed');
      expect(await decide(policy, action, FOREIGN_ROLE)).toBe('ImplicitlyDenied');
    });
  }

  for (const action of [
    'iam:TagRole',
    'iam:UpdateAssumeRolePolicy',
    'iam:PutRolePolicy',
    'iam:DeleteRolePolicy',
    'iam:DeleteRole',
    'iam:PassRole',
  ]) {
    it(`allows ${action} only on roles under /zonekeeper/ that carry the ownership tag`, async () => {
      expect(await decide(policy, action, ROLE, OURS_TAG)).toBe('Allowed');
      expect(await decide(policy, action, ROLE, FOREIGN_TAG)).toBe('ImplicitlyDenied');
      expect(await decide(policy, action, ROLE)).toBe('ImplicitlyDenied');
      expect(await decide(policy, action, FOREIGN_ROLE, OURS_TAG)).toBe('ImplicitlyDenied');
    });
  }

  it('allows looking up a role that does not exist yet (path-less ARN), and nothing else there', async () => {
    expect(await decide(policy, 'iam:GetRole', ROLE_PATHLESS)).toBe('Allowed');
    for (const action of ['iam:DeleteRole', 'iam:PutRolePolicy', 'iam:UpdateAssumeRolePolicy']) {
      expect(await decide(policy, action, ROLE_PATHLESS, OURS_TAG)).toBe('ImplicitlyDenied');
    }
  });

  it('allows OIDC providers to be created only with the ownership tag, and changed only when ours', async () => {
    expect(await decide(policy, 'iam:CreateOpenIDConnectProvider', PROVIDER, TAGGED)).toBe('Allowed');
    expect(await decide(policy, 'iam:CreateOpenIDConnectProvider', PROVIDER)).toBe('ImplicitlyDenied');
    expect(await decide(policy, 'iam:GetOpenIDConnectProvider', PROVIDER)).toBe('Allowed');
    for (const action of ['iam:TagOpenIDConnectProvider', 'iam:DeleteOpenIDConnectProvider']) {
      expect(await decide(policy, action, PROVIDER, OURS_TAG)).toBe('Allowed');
      expect(await decide(policy, action, PROVIDER, FOREIGN_TAG)).toBe('ImplicitlyDenied');
    }
    for (const action of [
      'iam:UpdateOpenIDConnectProviderThumbprint',
      'iam:AddClientIDToOpenIDConnectProvider',
    ]) {
      expect(await decide(policy, action, PROVIDER, OURS_TAG)).toBe('ImplicitlyDenied');
    }
  });

  it("allows adopting a provider the platform registered by adding only the organisation's tag, and nothing more", async () => {
    const orgTag = {
      'aws:RequestTag/zonekeeper:organization': 'acme',
      'aws:TagKeys': ['zonekeeper:organization'],
    };
    expect(await decide(policy, 'iam:TagOpenIDConnectProvider', PROVIDER, orgTag)).toBe('Allowed');
    expect(
      await decide(policy, 'iam:TagOpenIDConnectProvider', PROVIDER, {
        'aws:RequestTag/team': 'x',
        'aws:TagKeys': ['team'],
      }),
    ).toBe('ImplicitlyDenied');
    expect(await decide(policy, 'iam:DeleteOpenIDConnectProvider', PROVIDER, orgTag)).toBe(
      'ImplicitlyDenied',
    );
  });

  it('allows ListRoles and ListOpenIDConnectProviders, which IAM cannot scope', async () => {
    expect(await decide(policy, 'iam:ListRoles', '*')).toBe('Allowed');
    expect(await decide(policy, 'iam:ListOpenIDConnectProviders', '*')).toBe('Allowed');
  });

  it('never grants role actions zonekeeper does not use, and lists exactly its actions', async () => {
    for (const action of [
      'iam:AttachRolePolicy',
      'iam:UntagRole',
      'iam:UpdateRole',
      'iam:PutRolePermissionsBoundary',
    ]) {
      expect(await decide(policy, action, ROLE, OURS_TAG)).toBe('ImplicitlyDenied');
    }
    const actions = policy.Statement.flatMap((s) => s.Action);
    expect([...new Set(actions)].sort()).toEqual(
      [...new Set([...IDENTITY_ADMIN_ACTIONS, ...KEYLESS_ADMIN_ACTIONS])].sort(),
    );
  });

  it('without keyless, no role or OIDC provider action is granted', async () => {
    const plain = buildIdentityAdminPolicy({ accountId: ACCOUNT });
    expect(await decide(plain, 'iam:CreateRole', ROLE, TAGGED)).toBe('ImplicitlyDenied');
    expect(await decide(plain, 'iam:CreateOpenIDConnectProvider', PROVIDER, TAGGED)).toBe('ImplicitlyDenied');
  });
});

describe('buildIdentityAdminPolicy with podIdentity: true (EKS Pod Identity associations)', () => {
  const policy = buildIdentityAdminPolicy({ accountId: ACCOUNT, keyless: true, podIdentity: true });
  const CLUSTER = `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/c3`;
  const ASSOCIATION = `arn:aws:eks:eu-west-1:${ACCOUNT}:podidentityassociation/c3/a-0123456789abcdef0`;
  const OTHER_ACCOUNT = `arn:aws:eks:eu-west-1:210987654321:cluster/c3`;
  const OURS_TAG = { 'aws:ResourceTag/zonekeeper:managed-by': 'zonekeeper' };

  it('creates (and tags) associations only with the ownership tag in the request, in this account', async () => {
    expect(await decide(policy, 'eks:CreatePodIdentityAssociation', CLUSTER, TAGGED)).toBe('Allowed');
    expect(await decide(policy, 'eks:CreatePodIdentityAssociation', CLUSTER)).toBe('ImplicitlyDenied');
    expect(await decide(policy, 'eks:TagResource', ASSOCIATION, TAGGED)).toBe('Allowed');
    expect(
      await decide(policy, 'eks:TagResource', ASSOCIATION, {
        'aws:RequestTag/team': 'x',
        'aws:TagKeys': ['team'],
      }),
    ).toBe('ImplicitlyDenied');
    expect(await decide(policy, 'eks:TagResource', CLUSTER, TAGGED)).toBe('ImplicitlyDenied');
  });

  it('lists and reads associations (to see another organisation’s), deletes only ours', async () => {
    expect(await decide(policy, 'eks:ListPodIdentityAssociations', CLUSTER)).toBe('Allowed');
    expect(await decide(policy, 'eks:DescribePodIdentityAssociation', ASSOCIATION)).toBe('Allowed');
    expect(await decide(policy, 'eks:DeletePodIdentityAssociation', ASSOCIATION, OURS_TAG)).toBe('Allowed');
    expect(await decide(policy, 'eks:DeletePodIdentityAssociation', ASSOCIATION)).toBe('ImplicitlyDenied');
    expect(
      await decide(policy, 'eks:DeletePodIdentityAssociation', ASSOCIATION, {
        'aws:ResourceTag/zonekeeper:managed-by': 'x',
      }),
    ).toBe('ImplicitlyDenied');
  });

  it('grants nothing else of EKS, and nothing in another account', async () => {
    for (const action of ['eks:UpdatePodIdentityAssociation', 'eks:DeleteCluster', 'eks:UntagResource'])
      expect(
        await decide(policy, action, action === 'eks:DeleteCluster' ? CLUSTER : ASSOCIATION, OURS_TAG),
      ).toBe('ImplicitlyDenied');
    expect(await decide(policy, 'eks:CreatePodIdentityAssociation', OTHER_ACCOUNT, TAGGED)).toBe(
      'ImplicitlyDenied',
    );
    const eks = [
      ...new Set(policy.Statement.flatMap((s) => s.Action).filter((a) => a.startsWith('eks:'))),
    ].sort();
    expect(eks).toEqual([...POD_IDENTITY_ADMIN_ACTIONS].sort());
  });

  it('without podIdentity, no EKS action is granted', async () => {
    const plain = buildIdentityAdminPolicy({ accountId: ACCOUNT, keyless: true });
    expect(await decide(plain, 'eks:CreatePodIdentityAssociation', CLUSTER, TAGGED)).toBe('ImplicitlyDenied');
    expect(() => buildIdentityAdminPolicy({ accountId: ACCOUNT, podIdentity: 'yes' as never })).toThrow(
      /podIdentity must be a boolean/,
    );
  });
});
