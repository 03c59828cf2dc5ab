/**
 * The identity port: the IAM user and access-key calls zonekeeper makes, shaped after AWS IAM. A provider
 * reads and writes; it never decides ownership, never retries on its own and never implements dry-run.
 *
 * Errors are `ZonekeeperError`s: `NOT_FOUND` (no such user/key/policy), `ALREADY_EXISTS` (user exists),
 * `CONFLICT` (the two-keys-per-user limit, `DeleteConflict` while keys or policies remain),
 * `INVALID_INPUT` (malformed policy, invalid name, path or tag; checked before any request is sent),
 * `THROTTLED`, `UNAVAILABLE`, `PERMISSION_DENIED`. Aborts re-throw `signal.reason`.
 *
 * @packageDocumentation
 */

import type { CallOptions, CredentialIssuer } from '@zonekeeper/core';

/** An IAM user. @public */
export interface IdentityUser {
  readonly userName: string;
  /** IAM path, e.g. `/zonekeeper/`. */
  readonly path: string;
  readonly arn: string;
  readonly userId: string;
  readonly createdAt: Date;
  readonly tags: Readonly<Record<string, string>>;
}

/** What IAM tells about an access key after creation (never the secret). @public */
export interface AccessKeyMetadata {
  readonly accessKeyId: string;
  readonly status: 'Active' | 'Inactive';
  readonly createdAt: Date;
}

/**
 * A freshly created access key. The secret exists only in this object: IAM never returns it again.
 * Callers store it (Vault) and must never log it.
 * @public
 */
export interface AccessKey extends AccessKeyMetadata {
  readonly userName: string;
  readonly secretAccessKey: string;
}

/**
 * Users: the directory capability of the identity port (IAM only).
 * @public
 */
export interface IdentityUserDirectory {
  /** `iam`, `memory`, … for messages. */
  readonly kind: string;
  /** The user, or `undefined` if it does not exist. */
  getUser(userName: string, options?: CallOptions): Promise<IdentityUser | undefined>;
  /** Creates a user with path and tags; `ALREADY_EXISTS` if the name is taken. */
  createUser(
    spec: {
      readonly userName: string;
      readonly path: string;
      readonly tags: Readonly<Record<string, string>>;
    },
    options?: CallOptions,
  ): Promise<IdentityUser>;
  /** Adds or overwrites tags (others are kept); `NOT_FOUND` if the user does not exist, `CONFLICT` beyond 50 tags. */
  tagUser(userName: string, tags: Readonly<Record<string, string>>, options?: CallOptions): Promise<void>;
  /** Users under a path prefix (all pages), with their tags (the IAM adapter reads them with one `ListUserTags` per user). */
  listUsers(pathPrefix: string, options?: CallOptions): Promise<readonly IdentityUser[]>;
  /** Deletes a user with no keys and no policies left, else `CONFLICT`; `NOT_FOUND` if absent. */
  deleteUser(userName: string, options?: CallOptions): Promise<void>;
}

/**
 * Inline policies: the permission capability of the identity port (IAM only; a TSIG key's permission is
 * its zone's `TSIG-ALLOW-DNSUPDATE`, not a document).
 * @public
 */
export interface IdentityUserPolicies {
  /** Names of the user's inline policies; `NOT_FOUND` if the user does not exist. */
  listUserPolicies(userName: string, options?: CallOptions): Promise<readonly string[]>;
  /** The inline policy document as JSON text (decoded), or `undefined` (no such policy or user). */
  getUserPolicy(userName: string, policyName: string, options?: CallOptions): Promise<string | undefined>;
  /**
   * Creates or replaces an inline policy; `NOT_FOUND` if the user does not exist, `CONFLICT` when the
   * user's inline policies would exceed IAM's 2,048-character budget.
   */
  putUserPolicy(userName: string, policyName: string, document: string, options?: CallOptions): Promise<void>;
  /** Deletes an inline policy; `NOT_FOUND` if absent. */
  deleteUserPolicy(userName: string, policyName: string, options?: CallOptions): Promise<void>;
}

/**
 * Access keys: the key capability of the identity port, shaped after IAM. The backend-neutral form of
 * it is core's `CredentialIssuer` ({@link accessKeyIssuer} adapts this one; PowerDNS TSIG keys
 * implement it directly).
 * @public
 */
export interface IdentityAccessKeys {
  /** The user's access keys (metadata only); `NOT_FOUND` if the user does not exist. */
  listAccessKeys(userName: string, options?: CallOptions): Promise<readonly AccessKeyMetadata[]>;
  /**
   * Creates an access key; `CONFLICT` (not retried) when the user already has two, `NOT_FOUND` if the
   * user does not exist. The secret is only in the result.
   */
  createAccessKey(userName: string, options?: CallOptions): Promise<AccessKey>;
  /** Deletes an access key; `NOT_FOUND` if absent (or if it belongs to another user). */
  deleteAccessKey(userName: string, accessKeyId: string, options?: CallOptions): Promise<void>;
}

/**
 * The identity provider port: the three capabilities of an IAM-shaped backend (decision 36). Code that
 * only issues keys takes an {@link IdentityAccessKeys} (or core's `CredentialIssuer`).
 * @public
 */
export interface IdentityProvider extends IdentityUserDirectory, IdentityUserPolicies, IdentityAccessKeys {}

/**
 * The access-key capability of an identity provider as core's `CredentialIssuer`: principal = user
 * name, key id = access key id, secret = secret access key; two keys per user (IAM's limit).
 * @public
 */
export function accessKeyIssuer(keys: IdentityAccessKeys & { readonly kind: string }): CredentialIssuer {
  return {
    kind: keys.kind,
    keysPerPrincipal: 2,
    async listKeys(principal, options) {
      return (await keys.listAccessKeys(principal, options)).map((k) => k.accessKeyId).sort();
    },
    async createKey(principal, options) {
      const k = await keys.createAccessKey(principal, options);
      return { principal: k.userName, keyId: k.accessKeyId, secret: k.secretAccessKey };
    },
    deleteKey: (principal, keyId, options) => keys.deleteAccessKey(principal, keyId, options),
  };
}
