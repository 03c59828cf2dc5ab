/**
 * The AWS IAM adapters of the {@link RoleProvider} and {@link OidcProviderRegistry} ports, on
 * `@aws-sdk/client-iam`. Same client options, retry guard and error translation as the identity
 * adapter (`LimitExceeded` is never retried).
 *
 * - `ListRoles` returns no tags, so `listRoles` reads each role's tags with `ListRoleTags` (paged);
 *   trust and inline policy documents come back URL-encoded and are decoded.
 * - `ListOpenIDConnectProviders` returns only ARNs; `listOidcProviders` reads each provider with
 *   `GetOpenIDConnectProvider` (which returns its URL without `https://`; the port's `url` has it).
 * - Input is validated before anything is sent (`INVALID_INPUT`), trust policies included (IAM's own
 *   checks, moto's weaker ones: see `testing.ts`).
 *
 * @packageDocumentation
 */

import {
  CreateOpenIDConnectProviderCommand,
  type CreateOpenIDConnectProviderCommandOutput,
  CreateRoleCommand,
  type CreateRoleCommandOutput,
  DeleteOpenIDConnectProviderCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetOpenIDConnectProviderCommand,
  type GetOpenIDConnectProviderCommandOutput,
  GetRoleCommand,
  type GetRoleCommandOutput,
  GetRolePolicyCommand,
  type GetRolePolicyCommandOutput,
  ListOpenIDConnectProvidersCommand,
  type ListOpenIDConnectProvidersCommandOutput,
  ListRolePoliciesCommand,
  type ListRolePoliciesCommandOutput,
  ListRolesCommand,
  type ListRolesCommandOutput,
  ListRoleTagsCommand,
  type ListRoleTagsCommandOutput,
  PutRolePolicyCommand,
  type Role,
  type Tag,
  TagOpenIDConnectProviderCommand,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import type { CallOptions } from '@zonekeeper/core';
import {
  validateIamPath,
  validatePathPrefix,
  validatePolicyDocument,
  validatePolicyName,
  validateTags,
} from '../identity-validation.js';
import type { IdentityRole, OidcProvider, OidcProviderRegistry, RoleProvider } from '../role-ports.js';
import {
  validateClientIds,
  validateOidcProviderArn,
  validateRoleDescription,
  validateRoleName,
  validateThumbprints,
  validateTrustPolicyDocument,
} from '../role-validation.js';
import { parseOidcIssuerUrl } from '../trust-policy.js';
import {
  allPages,
  createIamSender,
  decodePolicyDocument,
  type IamClientOptions,
  malformedAnswer,
  tagsOf,
  toTagList,
  undefinedIfNotFound,
} from './client.js';

function dateOf(value: unknown): Date {
  return value instanceof Date ? value : new Date((value as string | number | undefined) ?? 0);
}

/**
 * Creates the IAM role provider.
 *
 * @example
 * ```ts
 * import { createIamRoleProvider } from '@zonekeeper/iam-scoper/iam';
 * const roles = createIamRoleProvider({ region: 'us-east-1' }); // credentials from the SDK chain
 * ```
 * @public
 */
export function createIamRoleProvider(options: IamClientOptions = {}): RoleProvider {
  const { send, page } = createIamSender(options);

  function toRole(role: Role | undefined, tags: Record<string, string>, op: string): IdentityRole {
    if (!role?.RoleName || !role.Arn || !role.RoleId) throw malformedAnswer(op, 'role');
    return {
      roleName: role.RoleName,
      path: role.Path ?? '/',
      arn: role.Arn,
      roleId: role.RoleId,
      createdAt: dateOf(role.CreateDate),
      tags,
      trustPolicy: decodePolicyDocument(role.AssumeRolePolicyDocument ?? ''),
      description: role.Description ?? '',
    };
  }

  async function listRoleTags(
    roleName: string,
    opts: CallOptions | undefined,
  ): Promise<Record<string, string>> {
    const tags: Tag[] = (
      await allPages((marker) =>
        send<ListRoleTagsCommandOutput>(
          'ListRoleTags',
          { roleName },
          new ListRoleTagsCommand({ RoleName: roleName, ...page, ...marker }),
          opts,
        ),
      )
    ).flatMap((out) => out.Tags ?? []);
    return tagsOf(tags);
  }

  return {
    kind: 'iam',

    async getRole(roleName, opts) {
      validateRoleName(roleName);
      const out = await undefinedIfNotFound(
        send<GetRoleCommandOutput>('GetRole', { roleName }, new GetRoleCommand({ RoleName: roleName }), opts),
      );
      if (!out) return undefined;
      return toRole(out.Role, tagsOf(out.Role?.Tags), 'GetRole');
    },

    async createRole(spec, opts) {
      const roleName = validateRoleName(spec?.roleName);
      const path = validateIamPath(spec.path);
      const tags = validateTags(spec.tags);
      const description = validateRoleDescription(spec.description);
      validateTrustPolicyDocument(spec.trustPolicy);
      const out = await send<CreateRoleCommandOutput>(
        'CreateRole',
        { roleName },
        new CreateRoleCommand({
          RoleName: roleName,
          Path: path,
          AssumeRolePolicyDocument: spec.trustPolicy,
          ...(description === '' ? {} : { Description: description }),
          ...(Object.keys(tags).length === 0 ? {} : { Tags: toTagList(tags) }),
        }),
        opts,
      );
      const role = toRole(out.Role, out.Role?.Tags ? tagsOf(out.Role.Tags) : tags, 'CreateRole');
      // CreateRole echoes the document; keep ours if an implementation leaves it out.
      return role.trustPolicy === '' ? { ...role, trustPolicy: spec.trustPolicy } : role;
    },

    async updateTrustPolicy(roleName, trustPolicy, opts) {
      validateRoleName(roleName);
      validateTrustPolicyDocument(trustPolicy);
      await send(
        'UpdateAssumeRolePolicy',
        { roleName },
        new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: trustPolicy }),
        opts,
      );
    },

    async tagRole(roleName, tags, opts) {
      validateRoleName(roleName);
      const clean = validateTags(tags, { allowEmpty: false });
      await send(
        'TagRole',
        { roleName },
        new TagRoleCommand({ RoleName: roleName, Tags: toTagList(clean) }),
        opts,
      );
    },

    async listRoles(pathPrefix, opts) {
      const prefix = validatePathPrefix(pathPrefix);
      const roles: Role[] = (
        await allPages((marker) =>
          send<ListRolesCommandOutput>(
            'ListRoles',
            {},
            new ListRolesCommand({ PathPrefix: prefix, ...page, ...marker }),
            opts,
          ),
        )
      ).flatMap((out) => out.Roles ?? []);
      const result: IdentityRole[] = [];
      for (const role of roles) {
        if (!role.RoleName) continue;
        // A role deleted between the two calls is simply not listed.
        const tags = await undefinedIfNotFound(listRoleTags(role.RoleName, opts));
        if (tags) result.push(toRole(role, tags, 'ListRoles'));
      }
      return result;
    },

    async deleteRole(roleName, opts) {
      validateRoleName(roleName);
      await send('DeleteRole', { roleName }, new DeleteRoleCommand({ RoleName: roleName }), opts);
    },

    async listRolePolicies(roleName, opts) {
      validateRoleName(roleName);
      const names: string[] = (
        await allPages((marker) =>
          send<ListRolePoliciesCommandOutput>(
            'ListRolePolicies',
            { roleName },
            new ListRolePoliciesCommand({ RoleName: roleName, ...page, ...marker }),
            opts,
          ),
        )
      ).flatMap((out) => out.PolicyNames ?? []);
      return names;
    },

    async getRolePolicy(roleName, policyName, opts) {
      validateRoleName(roleName);
      validatePolicyName(policyName);
      const out = await undefinedIfNotFound(
        send<GetRolePolicyCommandOutput>(
          'GetRolePolicy',
          { roleName, policyName },
          new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }),
          opts,
        ),
      );
      if (!out) return undefined;
      if (typeof out.PolicyDocument !== 'string') throw malformedAnswer('GetRolePolicy', 'policy document');
      return decodePolicyDocument(out.PolicyDocument);
    },

    async putRolePolicy(roleName, policyName, document, opts) {
      validateRoleName(roleName);
      validatePolicyName(policyName);
      validatePolicyDocument(document);
      await send(
        'PutRolePolicy',
        { roleName, policyName },
        new PutRolePolicyCommand({ RoleName: roleName, PolicyName: policyName, PolicyDocument: document }),
        opts,
      );
    },

    async deleteRolePolicy(roleName, policyName, opts) {
      validateRoleName(roleName);
      validatePolicyName(policyName);
      await send(
        'DeleteRolePolicy',
        { roleName, policyName },
        new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }),
        opts,
      );
    },
  } satisfies RoleProvider;
}

/**
 * Creates the IAM OIDC provider registry.
 *
 * @example
 * ```ts
 * import { createIamOidcProviderRegistry } from '@zonekeeper/iam-scoper/iam';
 * const registry = createIamOidcProviderRegistry({ region: 'us-east-1' });
 * ```
 * @public
 */
export function createIamOidcProviderRegistry(options: IamClientOptions = {}): OidcProviderRegistry {
  const { send } = createIamSender(options);

  async function read(arn: string, opts: CallOptions | undefined): Promise<OidcProvider | undefined> {
    const out = await undefinedIfNotFound(
      send<GetOpenIDConnectProviderCommandOutput>(
        'GetOpenIDConnectProvider',
        { oidcProviderArn: arn },
        new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }),
        opts,
      ),
    );
    if (!out) return undefined;
    const raw = out.Url ?? '';
    return {
      arn,
      url: /^https?:\/\//.test(raw) ? raw : `https://${raw}`,
      clientIds: [...(out.ClientIDList ?? [])],
      thumbprints: (out.ThumbprintList ?? []).map((t) => t.toLowerCase()),
      tags: tagsOf(out.Tags),
      createdAt: dateOf(out.CreateDate),
    };
  }

  return {
    kind: 'iam',

    async createOidcProvider(spec, opts) {
      const { url } = parseOidcIssuerUrl(spec?.url);
      const clientIds = validateClientIds(spec.clientIds);
      const thumbprints = validateThumbprints(spec.thumbprints);
      const tags = validateTags(spec.tags);
      const out = await send<CreateOpenIDConnectProviderCommandOutput>(
        'CreateOpenIDConnectProvider',
        {},
        new CreateOpenIDConnectProviderCommand({
          Url: url,
          ClientIDList: clientIds,
          ...(thumbprints.length === 0 ? {} : { ThumbprintList: thumbprints }),
          ...(Object.keys(tags).length === 0 ? {} : { Tags: toTagList(tags) }),
        }),
        opts,
      );
      if (!out.OpenIDConnectProviderArn) throw malformedAnswer('CreateOpenIDConnectProvider', 'provider ARN');
      return {
        arn: out.OpenIDConnectProviderArn,
        url,
        clientIds,
        thumbprints,
        tags: out.Tags ? tagsOf(out.Tags) : tags,
        createdAt: new Date(),
      };
    },

    async getOidcProvider(arn, opts) {
      validateOidcProviderArn(arn);
      return read(arn, opts);
    },

    async listOidcProviders(opts) {
      const out = await send<ListOpenIDConnectProvidersCommandOutput>(
        'ListOpenIDConnectProviders',
        {},
        new ListOpenIDConnectProvidersCommand({}),
        opts,
      );
      const result: OidcProvider[] = [];
      for (const entry of out.OpenIDConnectProviderList ?? []) {
        if (!entry.Arn) continue;
        // A provider deleted between the two calls is simply not listed.
        const p = await read(entry.Arn, opts);
        if (p) result.push(p);
      }
      return result.sort((a, b) => (a.arn < b.arn ? -1 : a.arn > b.arn ? 1 : 0));
    },

    async tagOidcProvider(arn, tags, opts) {
      validateOidcProviderArn(arn);
      const clean = validateTags(tags, { allowEmpty: false });
      await send(
        'TagOpenIDConnectProvider',
        { oidcProviderArn: arn },
        new TagOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, Tags: toTagList(clean) }),
        opts,
      );
    },

    async deleteOidcProvider(arn, opts) {
      validateOidcProviderArn(arn);
      await send(
        'DeleteOpenIDConnectProvider',
        { oidcProviderArn: arn },
        new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }),
        opts,
      );
    },
  } satisfies OidcProviderRegistry;
}
