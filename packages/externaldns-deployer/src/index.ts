/**
 * `@zonekeeper/externaldns-deployer`: ExternalDNS for one cluster as Kubernetes objects (pure,
 * {@link renderExternalDns}) with an access key or a role (IRSA, EKS Pod Identity, web identity), and as a GitOps manifest with Secret values redacted by default
 * ({@link toYaml}).
 *
 * @packageDocumentation
 */

export {
  type ApplyDeps,
  type ApplyExternalDnsOptions,
  type ApplyExternalDnsResult,
  type ApplyObjectStep,
  applyExternalDns,
  applyExternalDnsPlan,
  applyUninstallPlan,
  gatherExternalDns,
  gatherUninstall,
  isSubsetOf,
  NAMESPACE_TERMINATING,
  planApply,
  planUninstall,
  type RolloutStatus,
  type UninstallPlan,
  type UninstallState,
  type UninstallStep,
  type UninstallTarget,
  uninstallExternalDns,
  waitForRollout,
} from './apply.js';
export {
  changeBatches,
  EXTERNAL_DNS_CALL_MODEL,
  EXTERNAL_DNS_ROUTE53_ACTIONS,
  type ExternalDnsCallModel,
  type ExternalDnsLoop,
  type ExternalDnsLoopCalls,
  type ExternalDnsRoute53Action,
  externalDnsLoopCalls,
  type ZonesCacheState,
} from './call-model.js';
export {
  type AccessKeyCredentials,
  type AwsStaticCredentials,
  CREDENTIALS_HASH_ANNOTATION,
  CREDENTIALS_MODE_ANNOTATION,
  CREDENTIALS_MODES,
  CREDENTIALS_MOUNT_PATH,
  CREDENTIALS_SECRET_KEY,
  type CredentialsMode,
  credentialsFile,
  credentialsHash,
  DEFAULT_TOKEN_AUDIENCE,
  DEFAULT_TOKEN_EXPIRATION_SECONDS,
  type ExternalDnsCredentials,
  IRSA_ROLE_ARN_ANNOTATION,
  type IrsaCredentials,
  type KeylessCredentials,
  MAX_TOKEN_EXPIRATION_SECONDS,
  MIN_TOKEN_EXPIRATION_SECONDS,
  type PodIdentityCredentials,
  type ResolvedExternalDnsCredentials,
  TSIG_SECRET_ENV,
  TSIG_SECRET_KEY,
  tsigKeyHash,
  validateExternalDnsCredentials,
  WEB_IDENTITY_TOKEN_FILE_NAME,
  WEB_IDENTITY_TOKEN_MOUNT_PATH,
  type WebIdentityCredentials,
} from './credentials.js';
export {
  createMemoryCluster,
  MEMORY_CLUSTER_KINDS,
  type MemoryCluster,
  type MemoryClusterOptions,
} from './memory-cluster.js';
export {
  EXTERNAL_DNS_APP_NAME,
  EXTERNAL_DNS_HTTP_PORT,
  type ExternalDnsManifest,
  externalDnsArgs,
  externalDnsSecretName,
  externalDnsTsigSecretName,
  renderExternalDns,
  WEB_IDENTITY_TOKEN_VOLUME,
  webIdentitySessionName,
} from './objects.js';
export {
  type AwsExternalDnsOptions,
  type CommonExternalDnsOptions,
  defaultExternalDnsOptions,
  EXTERNAL_DNS_POLICIES,
  EXTERNAL_DNS_SOURCES,
  type ExternalDnsOptions,
  type ExternalDnsPolicy,
  type ExternalDnsResources,
  type ExternalDnsSource,
  type ImagePullPolicy,
  type ResolvedAwsExternalDnsOptions,
  type ResolvedCommonExternalDnsOptions,
  type ResolvedExternalDnsOptions,
  type ResolvedRfc2136ExternalDnsOptions,
  type ResolvedRfc2136Settings,
  type ResourceQuantities,
  RFC2136_TSIG_ALGORITHMS,
  type Rfc2136ExternalDnsOptions,
  type Rfc2136Settings,
  type Rfc2136TsigAlgorithm,
  type Rfc2136TsigKey,
  resolveExternalDnsOptions,
} from './options.js';
export {
  type ExternalDnsProcessForm,
  externalDnsProcessOf,
  type ServiceAccountTokenRequest,
} from './process-form.js';
export { sameResourceQuantity } from './quantity.js';
export { externalDnsClusterRoleName, externalDnsRbacRules, type PolicyRule } from './rbac.js';
export {
  annotationKey,
  DEFAULT_EXTERNAL_DNS_IMAGE,
  DEFAULT_TXT_PREFIX,
  DEFAULT_ZONES_CACHE_DURATION,
  deployedTxtPrefix,
  EXTERNAL_DNS_ANNOTATION_PREFIX,
  EXTERNAL_DNS_GO_MODULE,
  EXTERNAL_DNS_IMAGE_REPOSITORY,
  EXTERNAL_DNS_VERSION,
  isScopeSafeTxtPrefix,
  LEGACY_ANNOTATION_PREFIX,
  ownershipRecordName,
  RECORD_TYPE_PLACEHOLDER,
} from './upstream.js';
export { REDACTED_SECRET_VALUE, type ToYamlOptions, toYaml } from './yaml.js';
