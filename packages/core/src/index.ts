/**
 * `@zonekeeper/core`: the error family, injected runtime (clock, logger, cancellation), the shared
 * plan/apply shape and DNS name validation used by every zonekeeper package. Dependency-free.
 *
 * @packageDocumentation
 */

export { type ConcurrencyLimit, createConcurrencyLimit, mapConcurrent } from './concurrency.js';
export type { CredentialIssuer, IssuedCredential } from './credentials.js';
export {
  defaultRetryClass,
  type ErrorCode,
  ErrorCodes,
  hasErrorCode,
  invalidInput,
  isAbortError,
  isRetryable,
  isZonekeeperError,
  type RetryClass,
  toZonekeeperError,
  ZonekeeperError,
  type ZonekeeperErrorOptions,
} from './errors.js';
export {
  type ApplyOptions,
  type ClusterClient,
  describeRef,
  type KubernetesMetadata,
  type KubernetesObject,
  type ListOptions,
  type ObjectRef,
  refOf,
  ZONEKEEPER_MANAGER,
  ZonekeeperLabels,
} from './kubernetes.js';
export {
  type HostnameOptions,
  isWithinDomain,
  MAX_DOMAIN_LENGTH,
  MAX_HOSTED_ZONE_ID_LENGTH,
  MAX_LABEL_LENGTH,
  normalizeBaseDomain,
  normalizeDomainName,
  normalizeHostedZoneId,
  normalizeHostname,
  organizationZoneName,
  ROUTE53_RECORD_TYPES,
  type Route53RecordType,
  toFqdn,
  toOrganizationLabel,
  validateClusterId,
  validateDnsLabel,
  validateOrganizationName,
} from './names.js';
export {
  type ApplyStepsOptions,
  applySteps,
  describeStepTarget,
  type EnsureExclusion,
  type EnsureOptions,
  type EnsureOutcome,
  type EnsureParts,
  ensure,
  type PlanStep,
  type RuntimeDeps,
  type StepExecutor,
  type StepOutcome,
  type StepStatus,
  validateDryRun,
} from './plan.js';
export type { ZonePricingModel } from './pricing.js';
export {
  type CallOptions,
  type Clock,
  createManualClock,
  type Logger,
  type ManualClock,
  maskAccessKeyIds,
  maskingLogger,
  maskSecret,
  noopLogger,
  type PollOptions,
  type PollResult,
  pollUntil,
  rethrowIfAborted,
  signalOnly,
  sleep,
  systemClock,
  throwIfAborted,
} from './runtime.js';
export { type DescribeValueOptions, describeValue } from './values.js';
