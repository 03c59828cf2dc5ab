/**
 * The AWS IAM adapter of the {@link IdentityProvider} port, on `@aws-sdk/client-iam`.
 *
 * - Lists are paged to the end (`ListUsers`, `ListUserTags`, `ListUserPolicies`, `ListAccessKeys`, with
 *   `Marker`/`IsTruncated`). `ListUsers` does not return tags, so `listUsers` reads each user's tags with
 *   `ListUserTags` (one more call per user).
 * - Inline policy documents come back URL-encoded from `GetUserPolicy`; they are decoded.
 * - Errors are translated to `ZonekeeperError`s (`IAM: …`) without keeping the SDK error object (see
 *   `errors.ts`); `LimitExceeded` is never retried, and `CreateAccessKey` is retried only after
 *   throttling.
 * - Input is validated before anything is sent (`INVALID_INPUT`).
 * - Aborts re-throw `signal.reason`.
 *
 * @packageDocumentation
 */

import {
  CreateAccessKeyCommand,
  type CreateAccessKeyCommandOutput,
  CreateUserCommand,
  type CreateUserCommandOutput,
  DeleteAccessKeyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  GetUserCommand,
  type GetUserCommandOutput,
  GetUserPolicyCommand,
  type GetUserPolicyCommandOutput,
  ListAccessKeysCommand,
  type ListAccessKeysCommandOutput,
  ListUserPoliciesCommand,
  type ListUserPoliciesCommandOutput,
  ListUsersCommand,
  type ListUsersCommandOutput,
  ListUserTagsCommand,
  type ListUserTagsCommandOutput,
  PutUserPolicyCommand,
  type Tag,
  TagUserCommand,
  type User,
} from '@aws-sdk/client-iam';
import { type CallOptions, ZonekeeperError } from '@zonekeeper/core';
import type { AccessKey, AccessKeyMetadata, IdentityProvider, IdentityUser } from '../identity-ports.js';
import {
  validateAccessKeyId,
  validateIamPath,
  validatePathPrefix,
  validatePolicyDocument,
  validatePolicyName,
  validateTags,
  validateUserName,
} from '../identity-validation.js';
import {
  allPages,
  createIamSender,
  decodePolicyDocument,
  type IamClientLike,
  type IamClientOptions,
  malformedAnswer as malformed,
  tagsOf,
  toTagList,
  undefinedIfNotFound,
} from './client.js';

export type { IamClientLike };

/** Options of {@link createIamIdentityProvider} (the same for every IAM adapter). @public */
export type IamIdentityProviderOptions = IamClientOptions;

/**
 * Creates the IAM identity provider.
 *
 * @example
 * ```ts
 * import { createIamIdentityProvider } from '@zonekeeper/iam-scoper/iam';
 * const identity = createIamIdentityProvider({ region: 'us-east-1' }); // credentials from the SDK chain
 * ```
 * @public
 */
export function createIamIdentityProvider(options: IamIdentityProviderOptions = {}): IdentityProvider {
  const { send, page } = createIamSender(options);

  function toUser(user: User | undefined, tags: Record<string, string>, op: string): IdentityUser {
    if (!user?.UserName || !user.Arn || !user.UserId) throw malformed(op, 'user');
    return {
      userName: user.UserName,
      path: user.Path ?? '/',
      arn: user.Arn,
      userId: user.UserId,
      createdAt: user.CreateDate instanceof Date ? user.CreateDate : new Date(user.CreateDate ?? 0),
      tags,
    };
  }

  async function listUserTags(
    userName: string,
    opts: CallOptions | undefined,
  ): Promise<Record<string, string>> {
    const tags: Tag[] = (
      await allPages((marker) =>
        send<ListUserTagsCommandOutput>(
          'ListUserTags',
          { userName },
          new ListUserTagsCommand({ UserName: userName, ...page, ...marker }),
          opts,
        ),
      )
    ).flatMap((out) => out.Tags ?? []);
    return tagsOf(tags);
  }

  const provider: IdentityProvider = {
    kind: 'iam',

    async getUser(userName, opts) {
      validateUserName(userName);
      const out = await undefinedIfNotFound(
        send<GetUserCommandOutput>('GetUser', { userName }, new GetUserCommand({ UserName: userName }), opts),
      );
      if (!out) return undefined;
      return toUser(out.User, tagsOf(out.User?.Tags), 'GetUser');
    },

    async createUser(spec, opts) {
      const userName = validateUserName(spec?.userName);
      const path = validateIamPath(spec.path);
      const tags = validateTags(spec.tags);
      const out = await send<CreateUserCommandOutput>(
        'CreateUser',
        { userName },
        new CreateUserCommand({
          UserName: userName,
          Path: path,
          ...(Object.keys(tags).length === 0 ? {} : { Tags: toTagList(tags) }),
        }),
        opts,
      );
      // CreateUser echoes the tags it was given; use ours if an implementation leaves them out.
      return toUser(out.User, out.User?.Tags ? tagsOf(out.User.Tags) : tags, 'CreateUser');
    },

    async tagUser(userName, tags, opts) {
      validateUserName(userName);
      const clean = validateTags(tags, { allowEmpty: false });
      await send(
        'TagUser',
        { userName },
        new TagUserCommand({ UserName: userName, Tags: toTagList(clean) }),
        opts,
      );
    },

    async listUsers(pathPrefix, opts) {
      const prefix = validatePathPrefix(pathPrefix);
      const users: User[] = (
        await allPages((marker) =>
          send<ListUsersCommandOutput>(
            'ListUsers',
            {},
            new ListUsersCommand({ PathPrefix: prefix, ...page, ...marker }),
            opts,
          ),
        )
      ).flatMap((out) => out.Users ?? []);
      const result: IdentityUser[] = [];
      for (const user of users) {
        if (!user.UserName) continue;
        // A user deleted between the two calls is simply not listed.
        const tags = await undefinedIfNotFound(listUserTags(user.UserName, opts));
        if (tags) result.push(toUser(user, tags, 'ListUsers'));
      }
      return result;
    },

    async deleteUser(userName, opts) {
      validateUserName(userName);
      await send('DeleteUser', { userName }, new DeleteUserCommand({ UserName: userName }), opts);
    },

    async listUserPolicies(userName, opts) {
      validateUserName(userName);
      const names: string[] = (
        await allPages((marker) =>
          send<ListUserPoliciesCommandOutput>(
            'ListUserPolicies',
            { userName },
            new ListUserPoliciesCommand({ UserName: userName, ...page, ...marker }),
            opts,
          ),
        )
      ).flatMap((out) => out.PolicyNames ?? []);
      return names;
    },

    async getUserPolicy(userName, policyName, opts) {
      validateUserName(userName);
      validatePolicyName(policyName);
      const out = await undefinedIfNotFound(
        send<GetUserPolicyCommandOutput>(
          'GetUserPolicy',
          { userName, policyName },
          new GetUserPolicyCommand({ UserName: userName, PolicyName: policyName }),
          opts,
        ),
      );
      if (!out) return undefined;
      if (typeof out.PolicyDocument !== 'string') throw malformed('GetUserPolicy', 'policy document');
      return decodePolicyDocument(out.PolicyDocument);
    },

    async putUserPolicy(userName, policyName, document, opts) {
      validateUserName(userName);
      validatePolicyName(policyName);
      validatePolicyDocument(document);
      await send(
        'PutUserPolicy',
        { userName, policyName },
        new PutUserPolicyCommand({ UserName: userName, PolicyName: policyName, PolicyDocument: document }),
        opts,
      );
    },

    async deleteUserPolicy(userName, policyName, opts) {
      validateUserName(userName);
      validatePolicyName(policyName);
      await send(
        'DeleteUserPolicy',
        { userName, policyName },
        new DeleteUserPolicyCommand({ UserName: userName, PolicyName: policyName }),
        opts,
      );
    },

    async listAccessKeys(userName, opts) {
      validateUserName(userName);
      const pages = await allPages(async (marker) => {
        const out = await send<ListAccessKeysCommandOutput>(
          'ListAccessKeys',
          { userName },
          new ListAccessKeysCommand({ UserName: userName, ...page, ...marker }),
          opts,
        );
        // A page without key ids stops the listing there, before the next page is asked for.
        if ((out.AccessKeyMetadata ?? []).some((k) => !k.AccessKeyId))
          throw malformed('ListAccessKeys', 'access key id');
        return out;
      });
      const keys: AccessKeyMetadata[] = pages.flatMap((out) =>
        (out.AccessKeyMetadata ?? []).map((k) => ({
          accessKeyId: k.AccessKeyId as string,
          status: k.Status === 'Inactive' ? 'Inactive' : 'Active',
          createdAt: k.CreateDate instanceof Date ? k.CreateDate : new Date(k.CreateDate ?? 0),
        })),
      );
      return keys;
    },

    async createAccessKey(userName, opts) {
      validateUserName(userName);
      const out = await send<CreateAccessKeyCommandOutput>(
        'CreateAccessKey',
        { userName },
        new CreateAccessKeyCommand({ UserName: userName }),
        opts,
      );
      const k = out.AccessKey;
      if (!k?.AccessKeyId || !k.SecretAccessKey) {
        throw new ZonekeeperError(
          'INTERNAL',
          `IAM: CreateAccessKey (user ${userName}) returned no key; if IAM created one, run reconcileAccessKeys with the known ids.`,
          { details: { operation: 'CreateAccessKey', userName } },
        );
      }
      return {
        userName: k.UserName ?? userName,
        accessKeyId: k.AccessKeyId,
        status: k.Status === 'Inactive' ? 'Inactive' : 'Active',
        createdAt: k.CreateDate instanceof Date ? k.CreateDate : new Date(k.CreateDate ?? 0),
        secretAccessKey: k.SecretAccessKey,
      } satisfies AccessKey;
    },

    async deleteAccessKey(userName, accessKeyId, opts) {
      validateUserName(userName);
      validateAccessKeyId(accessKeyId);
      await send(
        'DeleteAccessKey',
        { userName, accessKeyId },
        new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId }),
        opts,
      );
    },
  };
  return provider;
}
