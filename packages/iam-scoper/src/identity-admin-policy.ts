/**
 * The IAM policy zonekeeper's own credentials need for the identity operations (pure builder).
 *
 * ```
 *  Sid                     Allows                                               On
 *  CreateZonekeeperUsers   iam:CreateUser, only with the tag                    arn:aws:iam::<account>:user/zonekeeper/zk-*
 *                          zonekeeper:managed-by=zonekeeper in the request
 *  ManageZonekeeperUsers   iam:GetUser, TagUser, DeleteUser, ListUserTags,      arn:aws:iam::<account>:user/zonekeeper/zk-*
 *                          List/Get/Put/DeleteUserPolicy,
 *                          List/Create/DeleteAccessKey(s)
 *  LookUpZonekeeperUsers   iam:GetUser                                          arn:aws:iam::<account>:user/zk-*
 *  ListUsers               iam:ListUsers (IAM cannot scope it)                  *
 * ```
 *
 * With `keyless: true` (roles for IRSA, Pod Identity or web identity), also:
 *
 * ```
 *  CreateZonekeeperRoles   iam:CreateRole, iam:TagRole, only with the tag        arn:aws:iam::<account>:role/zonekeeper/zk-*
 *                          zonekeeper:managed-by=zonekeeper in the request
 *  ReadZonekeeperRoles     iam:GetRole, ListRoleTags, ListRolePolicies,          arn:aws:iam::<account>:role/zonekeeper/zk-*
 *                          GetRolePolicy
 *  ManageZonekeeperRoles   iam:TagRole, UpdateAssumeRolePolicy, PutRolePolicy,   arn:aws:iam::<account>:role/zonekeeper/zk-*
 *                          DeleteRolePolicy, DeleteRole, PassRole — only on
 *                          roles tagged zonekeeper:managed-by=zonekeeper
 *  LookUpZonekeeperRoles   iam:GetRole                                           arn:aws:iam::<account>:role/zk-*
 *  ListRoles               iam:ListRoles, iam:ListOpenIDConnectProviders         *   (cannot be scoped)
 *  CreateOidcProviders     iam:CreateOpenIDConnectProvider, TagOpenIDConnect-    arn:aws:iam::<account>:oidc-provider/*
 *                          Provider, only with the ownership tag in the request
 *  ReadOidcProviders       iam:GetOpenIDConnectProvider                          arn:aws:iam::<account>:oidc-provider/*
 *  ManageOidcProviders     iam:TagOpenIDConnectProvider, DeleteOpenIDConnect-    arn:aws:iam::<account>:oidc-provider/*
 *                          Provider — only on providers tagged as ours
 *  AdoptOidcProviders      iam:TagOpenIDConnectProvider with no tag key but       arn:aws:iam::<account>:oidc-provider/*
 *                          zonekeeper:organization (a provider the platform made)
 *
 *  with podIdentity: true
 *  CreatePodIdentity…      eks:CreatePodIdentityAssociation, with the tag        arn:aws:eks:*:<account>:cluster/*
 *  TagNewPodIdentity…      eks:TagResource, with the ownership tag               …:podidentityassociation/<cluster>/<id>
 *  ListPodIdentity…        eks:ListPodIdentityAssociations                       arn:aws:eks:*:<account>:cluster/*
 *  ReadPodIdentity…        eks:DescribePodIdentityAssociation                    …:podidentityassociation/<cluster>/<id>
 *  DeletePodIdentity…      eks:DeletePodIdentityAssociation, only when ours      …:podidentityassociation/<cluster>/<id>
 * ```
 *
 * OIDC provider ARNs carry the issuer URL, not a path, so the ownership tag is what scopes them.
 * Reads stay unconditional so that the gather step can see a foreign role or provider (and refuse it
 * as `NOT_OWNED`) instead of being denied. `iam:PassRole` is what `eks:CreatePodIdentityAssociation`
 * needs on the role.
 *
 * With `baseDomain`, `zk-*` becomes `zk-<b8>.*` (one platform's users, `identityUserNamePrefix`).
 *
 * `LookUpZonekeeperUsers` exists because IAM authorises a call on a user that does **not** exist
 * against the path-less ARN `arn:aws:iam::<account>:user/<name>`: without it, the "does the user exist
 * yet?" read of `ensureZoneIdentity` is denied instead of answering "no such user".
 *
 * @packageDocumentation
 */

import { invalidInput } from '@zonekeeper/core';
import { IDENTITY_TAGS, MANAGED_BY_VALUE } from './identity-plan.js';
import { identityUserNamePrefix } from './naming.js';
import { IAM_POLICY_VERSION, type IamPolicyDocument, type IamPolicyStatement } from './policy.js';

/** Every IAM action the identity operations and the IAM adapter use. @public */
export const IDENTITY_ADMIN_ACTIONS = [
  'iam:CreateUser',
  'iam:GetUser',
  'iam:TagUser',
  'iam:DeleteUser',
  'iam:ListUserTags',
  'iam:ListUsers',
  'iam:ListUserPolicies',
  'iam:GetUserPolicy',
  'iam:PutUserPolicy',
  'iam:DeleteUserPolicy',
  'iam:ListAccessKeys',
  'iam:CreateAccessKey',
  'iam:DeleteAccessKey',
] as const;

/** The IAM actions the role and OIDC adapters use (`keyless: true`). @public */
export const KEYLESS_ADMIN_ACTIONS = [
  'iam:CreateRole',
  'iam:GetRole',
  'iam:TagRole',
  'iam:UpdateAssumeRolePolicy',
  'iam:ListRoles',
  'iam:ListRoleTags',
  'iam:DeleteRole',
  'iam:ListRolePolicies',
  'iam:GetRolePolicy',
  'iam:PutRolePolicy',
  'iam:DeleteRolePolicy',
  'iam:PassRole',
  'iam:CreateOpenIDConnectProvider',
  'iam:GetOpenIDConnectProvider',
  'iam:TagOpenIDConnectProvider',
  'iam:ListOpenIDConnectProviders',
  'iam:DeleteOpenIDConnectProvider',
] as const;

/**
 * The EKS actions of EKS Pod Identity associations (`podIdentity: true`): created and tagged only with
 * the ownership tag, read and listed freely (to see another organisation's), deleted only when ours.
 * @public
 */
export const POD_IDENTITY_ADMIN_ACTIONS = [
  'eks:CreatePodIdentityAssociation',
  'eks:TagResource',
  'eks:ListPodIdentityAssociations',
  'eks:DescribePodIdentityAssociation',
  'eks:DeletePodIdentityAssociation',
] as const;

/** Input of {@link buildIdentityAdminPolicy}. @public */
export interface IdentityAdminPolicyInput {
  /** The 12-digit AWS account id of the IAM users. */
  readonly accountId: string;
  /**
   * Narrows every user resource to one platform's users (`…user/zonekeeper/zk-<b8>.*`,
   * `…user/zk-<b8>.*`), for several platforms sharing an account. Default: every zonekeeper user.
   */
  readonly baseDomain?: string | undefined;
  /** Also allow the role and OIDC provider calls of the keyless credential modes (default false). */
  readonly keyless?: boolean | undefined;
  /** Also allow the EKS Pod Identity association calls ({@link POD_IDENTITY_ADMIN_ACTIONS}; default false). */
  readonly podIdentity?: boolean | undefined;
}

/**
 * Builds the least-privilege IAM policy for the credentials zonekeeper itself runs with (the identity
 * half; zone management needs its own Route 53 permissions). See the module table. Pure.
 * @throws `INVALID_INPUT` unless `accountId` is 12 digits.
 * @public
 */
export function buildIdentityAdminPolicy(input: IdentityAdminPolicyInput): IamPolicyDocument {
  const accountId = (input as { accountId?: unknown } | null)?.accountId;
  if (typeof accountId !== 'string' || !/^\d{12}$/.test(accountId)) {
    throw invalidInput(
      `Identity admin policy: accountId must be a 12-digit AWS account id, got ${JSON.stringify(accountId)}.`,
    );
  }
  const baseDomain = (input as { baseDomain?: unknown }).baseDomain;
  const names = baseDomain === undefined ? 'zk-*' : `${identityUserNamePrefix(baseDomain as string)}*`;
  const users = `arn:aws:iam::${accountId}:user/zonekeeper/${names}`;
  const keyless = (input as { keyless?: unknown }).keyless;
  if (keyless !== undefined && typeof keyless !== 'boolean') {
    throw invalidInput(`Identity admin policy: keyless must be a boolean, got ${JSON.stringify(keyless)}.`);
  }
  const roles = `arn:aws:iam::${accountId}:role/zonekeeper/${names}`;
  const oidcProviders = `arn:aws:iam::${accountId}:oidc-provider/*`;
  const requestTag = { StringEquals: { [`aws:RequestTag/${IDENTITY_TAGS.managedBy}`]: MANAGED_BY_VALUE } };
  const resourceTag = { StringEquals: { [`aws:ResourceTag/${IDENTITY_TAGS.managedBy}`]: MANAGED_BY_VALUE } };
  const keylessStatements: IamPolicyStatement[] = !keyless
    ? []
    : [
        {
          Sid: 'CreateZonekeeperRoles',
          Effect: 'Allow',
          Action: ['iam:CreateRole', 'iam:TagRole'],
          Resource: roles,
          Condition: requestTag,
        },
        {
          Sid: 'ReadZonekeeperRoles',
          Effect: 'Allow',
          Action: ['iam:GetRole', 'iam:ListRoleTags', 'iam:ListRolePolicies', 'iam:GetRolePolicy'],
          Resource: roles,
        },
        {
          Sid: 'ManageZonekeeperRoles',
          Effect: 'Allow',
          Action: [
            'iam:TagRole',
            'iam:UpdateAssumeRolePolicy',
            'iam:PutRolePolicy',
            'iam:DeleteRolePolicy',
            'iam:DeleteRole',
            'iam:PassRole',
          ],
          Resource: roles,
          Condition: resourceTag,
        },
        {
          Sid: 'LookUpZonekeeperRoles',
          Effect: 'Allow',
          Action: ['iam:GetRole'],
          Resource: `arn:aws:iam::${accountId}:role/${names}`,
        },
        {
          Sid: 'ListRoles',
          Effect: 'Allow',
          Action: ['iam:ListRoles', 'iam:ListOpenIDConnectProviders'],
          Resource: '*',
        },
        {
          Sid: 'CreateOidcProviders',
          Effect: 'Allow',
          Action: ['iam:CreateOpenIDConnectProvider', 'iam:TagOpenIDConnectProvider'],
          Resource: oidcProviders,
          Condition: requestTag,
        },
        {
          Sid: 'ReadOidcProviders',
          Effect: 'Allow',
          Action: ['iam:GetOpenIDConnectProvider'],
          Resource: oidcProviders,
        },
        {
          Sid: 'ManageOidcProviders',
          Effect: 'Allow',
          Action: ['iam:TagOpenIDConnectProvider', 'iam:DeleteOpenIDConnectProvider'],
          Resource: oidcProviders,
          Condition: resourceTag,
        },

        {
          // Adopting a provider the platform registered (eksctl, Terraform): only the organisation's
          // tag may be added, which binds the issuer to one organisation; never the ownership tag.
          Sid: 'AdoptOidcProviders',
          Effect: 'Allow',
          Action: ['iam:TagOpenIDConnectProvider'],
          Resource: oidcProviders,
          Condition: {
            'ForAllValues:StringEquals': { 'aws:TagKeys': [IDENTITY_TAGS.organization] },
            Null: { 'aws:TagKeys': 'false' },
          },
        },
      ];
  const podIdentity = (input as { podIdentity?: unknown }).podIdentity;
  if (podIdentity !== undefined && typeof podIdentity !== 'boolean') {
    throw invalidInput(
      `Identity admin policy: podIdentity must be a boolean, got ${JSON.stringify(podIdentity)}.`,
    );
  }
  const eksClusters = `arn:aws:eks:*:${accountId}:cluster/*`;
  const associations = `arn:aws:eks:*:${accountId}:podidentityassociation/*/*`;
  const podIdentityStatements: IamPolicyStatement[] = !podIdentity
    ? []
    : [
        {
          Sid: 'CreatePodIdentityAssociations',
          Effect: 'Allow',
          Action: ['eks:CreatePodIdentityAssociation'],
          Resource: eksClusters,
          Condition: requestTag,
        },
        {
          Sid: 'TagNewPodIdentityAssociations',
          Effect: 'Allow',
          Action: ['eks:TagResource'],
          Resource: associations,
          Condition: requestTag,
        },
        {
          Sid: 'ListPodIdentityAssociations',
          Effect: 'Allow',
          Action: ['eks:ListPodIdentityAssociations'],
          Resource: eksClusters,
        },
        {
          Sid: 'ReadPodIdentityAssociations',
          Effect: 'Allow',
          Action: ['eks:DescribePodIdentityAssociation'],
          Resource: associations,
        },
        {
          Sid: 'DeletePodIdentityAssociations',
          Effect: 'Allow',
          Action: ['eks:DeletePodIdentityAssociation'],
          Resource: associations,
          Condition: resourceTag,
        },
      ];
  return {
    Version: IAM_POLICY_VERSION,
    Statement: [
      {
        Sid: 'CreateZonekeeperUsers',
        Effect: 'Allow',
        Action: ['iam:CreateUser'],
        Resource: users,
        Condition: { StringEquals: { [`aws:RequestTag/${IDENTITY_TAGS.managedBy}`]: MANAGED_BY_VALUE } },
      },
      {
        Sid: 'ManageZonekeeperUsers',
        Effect: 'Allow',
        Action: IDENTITY_ADMIN_ACTIONS.filter((a) => a !== 'iam:CreateUser' && a !== 'iam:ListUsers'),
        Resource: users,
      },
      {
        Sid: 'LookUpZonekeeperUsers',
        Effect: 'Allow',
        Action: ['iam:GetUser'],
        Resource: `arn:aws:iam::${accountId}:user/${names}`,
      },
      { Sid: 'ListUsers', Effect: 'Allow', Action: ['iam:ListUsers'], Resource: '*' },
      ...keylessStatements,
      ...podIdentityStatements,
    ],
  };
}
