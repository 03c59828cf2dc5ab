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
import { IAM_POLICY_VERSION, type IamPolicyDocument } from './policy.js';

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

/** Input of {@link buildIdentityAdminPolicy}. @public */
export interface IdentityAdminPolicyInput {
  /** The 12-digit AWS account id of the IAM users. */
  readonly accountId: string;
  /**
   * Narrows every user resource to one platform's users (`…user/zonekeeper/zk-<b8>.*`,
   * `…user/zk-<b8>.*`), for several platforms sharing an account. Default: every zonekeeper user.
   */
  readonly baseDomain?: string | undefined;
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
    ],
  };
}
