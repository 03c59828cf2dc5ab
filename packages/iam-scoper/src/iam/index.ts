/**
 * `@zonekeeper/iam-scoper/iam`: the AWS IAM adapters (`@aws-sdk/client-iam`) of the `IdentityProvider`
 * (users and access keys), `RoleProvider` (roles) and `OidcProviderRegistry` (OIDC providers) ports,
 * and {@link waitForAccessKey}, which polls STS until a new access key works.
 *
 * @packageDocumentation
 */

export { createIamIdentityProvider, type IamClientLike, type IamIdentityProviderOptions } from './adapter.js';
export type { IamClientOptions } from './client.js';
export { createIamOidcProviderRegistry, createIamRoleProvider } from './roles.js';
export { type WaitForAccessKeyOptions, type WaitForAccessKeyResult, waitForAccessKey } from './wait.js';
