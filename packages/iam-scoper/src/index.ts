/**
 * `@zonekeeper/iam-scoper`: the least-privilege IAM policy for one organisation's Route 53 zone (a pure
 * builder, proven with an IAM policy simulator) and the deterministic names of the IAM identities that
 * carry it. The IAM adapter (users, access keys) comes later on its own subpath.
 *
 * @packageDocumentation
 */

export {
  IDENTITY_PATH,
  IDENTITY_POLICY_SUFFIX,
  type IdentityNameInput,
  identityPolicyName,
  identityUserName,
  identityUserNamePrefix,
  MAX_IAM_USER_NAME_LENGTH,
} from './naming.js';
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
