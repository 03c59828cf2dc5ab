/**
 * `@zonekeeper/externaldns-deployer`: ExternalDNS for one cluster as Kubernetes objects (pure,
 * {@link renderExternalDns}), and as a GitOps manifest with Secret values redacted by default
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
  createMemoryCluster,
  MEMORY_CLUSTER_KINDS,
  type MemoryCluster,
  type MemoryClusterOptions,
} from './memory-cluster.js';
export { sameResourceQuantity } from './quantity.js';
export {
  type AwsStaticCredentials,
  CREDENTIALS_HASH_ANNOTATION,
  CREDENTIALS_MOUNT_PATH,
  CREDENTIALS_SECRET_KEY,
  credentialsFile,
  credentialsHash,
  DEFAULT_EXTERNAL_DNS_IMAGE,
  defaultExternalDnsOptions,
  EXTERNAL_DNS_APP_NAME,
  EXTERNAL_DNS_HTTP_PORT,
  EXTERNAL_DNS_POLICIES,
  EXTERNAL_DNS_SOURCES,
  type ExternalDnsManifest,
  type ExternalDnsOptions,
  type ExternalDnsPolicy,
  type ExternalDnsResources,
  type ExternalDnsSource,
  externalDnsArgs,
  externalDnsClusterRoleName,
  externalDnsRbacRules,
  externalDnsSecretName,
  type ImagePullPolicy,
  type PolicyRule,
  type ResolvedExternalDnsOptions,
  type ResourceQuantities,
  renderExternalDns,
  resolveExternalDnsOptions,
} from './render.js';
export { REDACTED_SECRET_VALUE, type ToYamlOptions, toYaml } from './yaml.js';
