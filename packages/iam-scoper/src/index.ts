/**
 * `@zonekeeper/iam-scoper`: the least-privilege IAM policy for one organisation's Route 53 zone (a pure
 * builder, proven with an IAM policy simulator), the deterministic names of the IAM identities that
 * carry it, and the identity operations (ensure the user and its policy; issue, rotate, revoke and
 * reconcile access keys; delete and list identities) on the `IdentityProvider` port, with an in-memory
 * provider. The AWS IAM adapter is on the `@zonekeeper/iam-scoper/iam` subpath, the port's contract
 * suite on `@zonekeeper/iam-scoper/testing`.
 *
 * @packageDocumentation
 */

export {
  ACME_CHALLENGE_LABEL,
  ACME_CHALLENGE_POLICY_SIDS,
  type AcmeChallengePolicyInput,
  acmeChallengeRecordNames,
  buildAcmeChallengePolicy,
} from './acme-policy.js';
export {
  applyZoneIdentityPlan,
  type DeleteZoneIdentityResult,
  type DesiredAcmeIdentityInput,
  deleteZoneIdentity,
  desiredAcmeIdentity,
  desiredZoneIdentity,
  type EnsureZoneIdentityInput,
  type EnsureZoneIdentityResult,
  ensureZoneIdentity,
  gatherZoneIdentity,
  type IdentityCallOptions,
  type IdentityDeps,
  issueAccessKey,
  listZoneIdentities,
  type ReconcileAccessKeysResult,
  type RevokeAccessKeyResult,
  reconcileAccessKeys,
  revokeAccessKey,
  type ZoneIdentity,
} from './identity.js';
export {
  buildIdentityAdminPolicy,
  IDENTITY_ADMIN_ACTIONS,
  type IdentityAdminPolicyInput,
  KEYLESS_ADMIN_ACTIONS,
  POD_IDENTITY_ADMIN_ACTIONS,
} from './identity-admin-policy.js';
export {
  createMemoryIdentityProvider,
  IDENTITY_WRITE_METHODS,
  type IdentityProviderMethod,
  MAX_ACCESS_KEYS_PER_USER,
  type MemoryIdentityFault,
  type MemoryIdentityProvider,
  type MemoryIdentityProviderOptions,
  type MemoryIdentitySnapshotUser,
} from './identity-memory.js';
export {
  ACME_IDENTITY_PURPOSE,
  type AccessKeyReconciliationPlan,
  type CurrentZoneIdentity,
  type DeleteAccessKeyStep,
  type DesiredZoneIdentity,
  IDENTITY_TAGS,
  isManagedIdentity,
  MANAGED_BY_VALUE,
  planAccessKeyReconciliation,
  planZoneIdentity,
  planZoneIdentityDeletion,
  samePolicyDocument,
  type ZoneIdentityDeletionPlan,
  type ZoneIdentityDeletionStep,
  type ZoneIdentityPlan,
  type ZoneIdentityStep,
} from './identity-plan.js';
export {
  type AccessKey,
  type AccessKeyMetadata,
  accessKeyIssuer,
  type IdentityAccessKeys,
  type IdentityProvider,
  type IdentityUser,
  type IdentityUserDirectory,
  type IdentityUserPolicies,
} from './identity-ports.js';
export {
  ACME_IDENTITY_SUFFIX,
  acmeIdentityPolicyName,
  acmeIdentityUserName,
  IDENTITY_PATH,
  IDENTITY_POLICY_SUFFIX,
  type IdentityNameInput,
  identityPolicyName,
  identityUserName,
  identityUserNamePrefix,
  MAX_IAM_USER_NAME_LENGTH,
} from './naming.js';
export {
  createMemoryPodIdentityProvider,
  type MemoryPodIdentityProvider,
  type MemoryPodIdentityProviderOptions,
} from './pod-identity-memory.js';
export type {
  PodIdentityAssociation,
  PodIdentityAssociationFilter,
  PodIdentityAssociationProvider,
  PodIdentityAssociationSpec,
  PodIdentityAssociationSummary,
} from './pod-identity-ports.js';
export {
  buildZonePolicy,
  CHANGE_ARN_PATTERN,
  clusterRecordNames,
  DEFAULT_RECORD_TYPES,
  FORBIDDEN_RECORD_TYPES,
  hostedZoneArn,
  IAM_POLICY_VERSION,
  IAM_USER_INLINE_POLICY_MAX_CHARS,
  type IamConditionValues,
  type IamPolicyDocument,
  type IamPolicyStatement,
  MAX_HOSTED_ZONE_ID_LENGTH,
  minifyPolicy,
  normalizeHostedZoneId,
  policyCharacterCount,
  RECORD_NAMES_CONDITION_KEY,
  RECORD_TYPES_CONDITION_KEY,
  WRITABLE_RECORD_TYPES,
  type WritableRecordType,
  ZONE_POLICY_SIDS,
  type ZonePolicyInput,
} from './policy.js';
export {
  createMemoryRoleProvider,
  type MemoryRoleFault,
  type MemoryRoleProvider,
  type MemoryRoleProviderOptions,
  type MemoryRoleSnapshot,
  ROLE_WRITE_METHODS,
  type RoleProviderMethod,
} from './role-memory.js';
export type {
  IdentityRole,
  OidcProvider,
  OidcProviderRegistry,
  OidcProviderSpec,
  RoleProvider,
  RoleSpec,
} from './role-ports.js';
export {
  type AwsPartition,
  buildPodIdentityTrustPolicy,
  buildWebIdentityTrustPolicy,
  type EksClusterArn,
  type IamTrustPolicyDocument,
  type IamTrustPolicyStatement,
  MAX_OIDC_ISSUER_URL_LENGTH,
  minifyTrustPolicy,
  type OidcIssuer,
  oidcProviderArn,
  POD_IDENTITY_SERVICE_PRINCIPAL,
  POD_IDENTITY_SESSION_TAGS,
  type PodIdentityCluster,
  type PodIdentityTrustPolicyInput,
  parseEksClusterArn,
  parseOidcIssuerUrl,
  ROLE_TRUST_POLICY_DEFAULT_MAX_CHARS,
  ROLE_TRUST_POLICY_MAX_CHARS,
  STS_AUDIENCE,
  serviceAccountSubject,
  TRUST_POLICY_TOO_LARGE,
  trustPolicyCharacterCount,
  validateAccountId,
  validateKubernetesNamespace,
  validateServiceAccountName,
  type WebIdentityCluster,
  type WebIdentityTrustPolicyInput,
} from './trust-policy.js';
