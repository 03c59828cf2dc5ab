/**
 * The ports of keyless credentials, shaped after AWS IAM: {@link RoleProvider} (roles, their trust
 * policies and inline policies) and {@link OidcProviderRegistry} (the account's IAM OIDC identity
 * providers). Like {@link IdentityProvider}, a provider reads and writes; it never decides ownership,
 * never retries on its own and never implements dry-run.
 *
 * Why two new ports instead of more methods on `IdentityProvider`: ports are small and split by
 * capability (style anchors B3). Roles are needed by every keyless mode, OIDC providers only by web
 * identity (IRSA on EKS, or any OIDC issuer), and neither by the access-key mode; an implementation of
 * `IdentityProvider` written by a user keeps compiling, and each port has its own contract suite.
 * One AWS client can back all three (the IAM adapters accept the same `client`).
 *
 * Errors are `ZonekeeperError`s: `NOT_FOUND`, `ALREADY_EXISTS` (role name taken — compared without
 * case — or provider URL registered), `CONFLICT` (`DeleteConflict` while inline policies remain;
 * `LimitExceeded`: a trust policy over the account's limit, 2,048 characters by default, or inline
 * policies over 10,240), `INVALID_INPUT` (malformed trust or permission policy, invalid name, path, tag,
 * URL, client id or thumbprint; checked before any request is sent), `THROTTLED`, `UNAVAILABLE`,
 * `PERMISSION_DENIED`. Aborts re-throw `signal.reason`.
 *
 * @packageDocumentation
 */

import type { CallOptions } from '@zonekeeper/core';

/** An IAM role. @public */
export interface IdentityRole {
  readonly roleName: string;
  /** IAM path, e.g. `/zonekeeper/`. */
  readonly path: string;
  readonly arn: string;
  readonly roleId: string;
  readonly createdAt: Date;
  readonly tags: Readonly<Record<string, string>>;
  /** The trust policy ("assume role policy document") as JSON text, decoded. */
  readonly trustPolicy: string;
  /** The role's description (empty when none). */
  readonly description: string;
}

/** What {@link RoleProvider.createRole} creates. @public */
export interface RoleSpec {
  readonly roleName: string;
  readonly path: string;
  /** The trust policy as JSON text (`minifyTrustPolicy(buildWebIdentityTrustPolicy(…))`). */
  readonly trustPolicy: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Up to 1,000 characters. */
  readonly description?: string | undefined;
}

/**
 * The role port.
 *
 * @example
 * ```ts
 * const roles = createMemoryRoleProvider();
 * await roles.createRole({ roleName: 'zk-a379a6f6.acme', path: '/zonekeeper/', trustPolicy, tags });
 * await roles.putRolePolicy('zk-a379a6f6.acme', 'zk-a379a6f6.acme.route53', minifyPolicy(zonePolicy));
 * ```
 * @public
 */
export interface RoleProvider {
  /** `iam`, `memory`, … for messages. */
  readonly kind: string;
  /** The role, or `undefined` if it does not exist. */
  getRole(roleName: string, options?: CallOptions): Promise<IdentityRole | undefined>;
  /** Creates a role with path, trust policy and tags; `ALREADY_EXISTS` if the name is taken. */
  createRole(spec: RoleSpec, options?: CallOptions): Promise<IdentityRole>;
  /** Replaces the trust policy; `NOT_FOUND` if the role does not exist. */
  updateTrustPolicy(roleName: string, trustPolicy: string, options?: CallOptions): Promise<void>;
  /** Adds or overwrites tags (others are kept); `NOT_FOUND`, or `CONFLICT` beyond 50 tags. */
  tagRole(roleName: string, tags: Readonly<Record<string, string>>, options?: CallOptions): Promise<void>;
  /** Roles under a path prefix (all pages), with tags and trust policy. */
  listRoles(pathPrefix: string, options?: CallOptions): Promise<readonly IdentityRole[]>;
  /** Deletes a role without inline policies, else `CONFLICT` (`DeleteConflict`); `NOT_FOUND` if absent. */
  deleteRole(roleName: string, options?: CallOptions): Promise<void>;
  /** Names of the role's inline policies; `NOT_FOUND` if the role does not exist. */
  listRolePolicies(roleName: string, options?: CallOptions): Promise<readonly string[]>;
  /** The inline policy document as JSON text (decoded), or `undefined` (no such policy or role). */
  getRolePolicy(roleName: string, policyName: string, options?: CallOptions): Promise<string | undefined>;
  /**
   * Creates or replaces an inline policy; `NOT_FOUND` if the role does not exist, `CONFLICT` when the
   * role's inline policies would exceed IAM's 10,240-character budget.
   */
  putRolePolicy(roleName: string, policyName: string, document: string, options?: CallOptions): Promise<void>;
  /** Deletes an inline policy; `NOT_FOUND` if absent. */
  deleteRolePolicy(roleName: string, policyName: string, options?: CallOptions): Promise<void>;
}

/** An IAM OIDC identity provider. @public */
export interface OidcProvider {
  /** `arn:aws:iam::<account>:oidc-provider/<host/path>`. */
  readonly arn: string;
  /** The issuer URL, with `https://`. */
  readonly url: string;
  /** Audiences (client ids) tokens may carry. */
  readonly clientIds: readonly string[];
  /** SHA-1 thumbprints (40 hex digits) of the issuer's certificate chain (IAM may ignore them for well-known CAs). */
  readonly thumbprints: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
  readonly createdAt: Date;
}

/** What {@link OidcProviderRegistry.createOidcProvider} registers. @public */
export interface OidcProviderSpec {
  /** The issuer URL (see `parseOidcIssuerUrl`). */
  readonly url: string;
  /** 0–100 client ids of 1–255 characters; `sts.amazonaws.com` for IRSA. */
  readonly clientIds: readonly string[];
  /** 0–5 thumbprints of 40 hex digits. */
  readonly thumbprints?: readonly string[] | undefined;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * The OIDC provider port. Providers are named by their URL: one per issuer and account.
 *
 * @example
 * ```ts
 * const registry = createMemoryRoleProvider();
 * const p = await registry.createOidcProvider({ url: issuer, clientIds: ['sts.amazonaws.com'], tags });
 * ```
 * @public
 */
export interface OidcProviderRegistry {
  /** `iam`, `memory`, … for messages. */
  readonly kind: string;
  /** Registers an issuer; `ALREADY_EXISTS` if the account has a provider for this URL. */
  createOidcProvider(spec: OidcProviderSpec, options?: CallOptions): Promise<OidcProvider>;
  /** The provider, or `undefined` if there is none with this ARN. */
  getOidcProvider(arn: string, options?: CallOptions): Promise<OidcProvider | undefined>;
  /** Every OIDC provider of the account, with tags (the IAM adapter reads each with `GetOpenIDConnectProvider`). */
  listOidcProviders(options?: CallOptions): Promise<readonly OidcProvider[]>;
  /** Adds or overwrites tags; `NOT_FOUND` if absent. */
  tagOidcProvider(arn: string, tags: Readonly<Record<string, string>>, options?: CallOptions): Promise<void>;
  /** Deletes the provider; `NOT_FOUND` if absent. */
  deleteOidcProvider(arn: string, options?: CallOptions): Promise<void>;
}
