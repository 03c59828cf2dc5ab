/**
 * `@zonekeeper/iam-scoper/iam`: the AWS IAM adapter of the `IdentityProvider` port
 * (`@aws-sdk/client-iam`), and {@link waitForAccessKey}, which polls STS until a new access key works.
 *
 * @packageDocumentation
 */

export { createIamIdentityProvider, type IamClientLike, type IamIdentityProviderOptions } from './adapter.js';
export { type WaitForAccessKeyOptions, type WaitForAccessKeyResult, waitForAccessKey } from './wait.js';
