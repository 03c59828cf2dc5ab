/**
 * `@zonekeeper/iam-scoper/eks`: the EKS adapter (`@aws-sdk/client-eks`, an optional peer dependency)
 * of the `PodIdentityAssociationProvider` port.
 *
 * @packageDocumentation
 */

export {
  createEksPodIdentityProvider,
  type EksClientLike,
  type EksPodIdentityProviderOptions,
} from './adapter.js';
