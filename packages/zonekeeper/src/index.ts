/**
 * `zonekeeper`: per-organisation Route 53 zones, scoped IAM credentials kept in Vault, ExternalDNS and
 * TLS certificates on every cluster, and a billing-aware garbage collector — composed from the
 * `@zonekeeper/*` packages behind small ports, with in-memory defaults.
 *
 * @packageDocumentation
 */

export {
  type AuditFinding,
  type AuditFix,
  type AuditPlan,
  type AuditReason,
  type AuditSeverity,
  type CertificateFacts,
  type ClusterFacts,
  type FleetState,
  type IdentityFacts,
  type ManagedZoneFacts,
  type OrganizationFacts,
  type PlanAuditOptions,
  planAudit,
  type TsigFacts,
  type TsigKeyFingerprint,
} from './audit/plan.js';
export type { ClusterCredentialsMode, KeylessStep, WorkloadIdentityInput } from './clusters/keyless.js';
export {
  type ClusterResolver,
  DEFAULT_RESERVED_ORGANIZATION_NAMES,
  type ExternalDnsDefaults,
  type IdentityScope,
  type LockOptions,
  type PowerDnsBackendConfig,
  type ZonekeeperConfig,
} from './config.js';
export { defaultSecretPrefix, type ZonekeeperPorts } from './context.js';
export {
  type CredentialIntent,
  type CredentialsPlan,
  type CredentialsState,
  planCredentials,
  type StoredKeyFacts,
} from './credentials/plan.js';
export {
  type AccountSweep,
  createFleet,
  type Fleet,
  type FleetAccount,
  type FleetConfig,
  type FleetGarbageCollectorOptions,
  type FleetLocation,
  type InAccount,
  type MoveOrganizationOptions,
  type MoveResult,
} from './fleet/accounts.js';
export {
  clusterIntervalSeconds,
  clusterMinEventSyncSeconds,
  clusterZonesCacheSeconds,
  DEFAULT_FLEET_BUDGET,
  type FleetAccountPlan,
  type FleetBucketLoad,
  type FleetBudgetOptions,
  type FleetBudgetPlan,
  type FleetExternalDnsSettings,
  type FleetFitReason,
  type FleetGroup,
  type FleetGroupPlan,
  type FleetImpossiblePlan,
  type FleetImpossibleReason,
  type FleetLoad,
  type FleetNeedsAccountsPlan,
  type FleetShape,
  type FleetShortfall,
  goDuration,
  type HeterogeneousAccountPlan,
  type HeterogeneousFleet,
  type HeterogeneousFleetPlan,
  planFleetBudget,
  planHeterogeneousFleetBudget,
} from './fleet/budget.js';
export {
  type MovePlan,
  type MoveRefusalReason,
  type MoveState,
  type MoveStep,
  planOrganizationMove,
} from './fleet/move.js';
export {
  type AccountHeadroom,
  DEFAULT_ACCOUNT_ZONE_QUOTA,
  type PlacedOrganization,
  type PlacementAccount,
  type PlacementDecision,
  type PlacementInput,
  type PlacementPlan,
  type PlacementReason,
  type PlacementRefusal,
  type PlacementRefusalReason,
  planPlacement,
  validateAccountId,
} from './fleet/placement.js';
export { createLeaseLock, type LeaseLock, type LeaseOptions } from './gc/lease.js';
export {
  type ClusterInventory,
  type ClusterRecord,
  createMemoryInventory,
  type MemoryInventory,
  readOrganizationsInUse,
} from './inventory.js';
export type { OrganizationPlan } from './organization/plan.js';
export type {
  AttachClusterInput,
  AttachResult,
  AuditFleetOptions,
  AuditResult,
  ClusterCertificate,
  ClusterIdentityResult,
  ClusterStep,
  ClusterSummary,
  CollectionReason,
  CollectionResult,
  CredentialStep,
  DelegationState,
  DescribedCertificate,
  DescribedCluster,
  DescribedTsigKey,
  DetachResult,
  DetachStep,
  GarbageCollectorOptions,
  IssueCertificateInput,
  IssueCertificateResult,
  IssueKeyReason,
  OrganizationDeletionResult,
  OrganizationDeletionStep,
  OrganizationDescription,
  OrganizationResult,
  OrganizationSummary,
  RotationResult,
  ZoneCollection,
  Zonekeeper,
} from './results.js';
export {
  type ApiCallEvent,
  type DecisionEvent,
  type OperationEvent,
  TelemetryAttributes,
  type TelemetryErrorCode,
  type TelemetryOutcome,
  type TelemetryPort,
  type ZonekeeperMetrics,
} from './telemetry/events.js';
export { createOpenTelemetryMetrics, OPENTELEMETRY_METRIC_NAMES } from './telemetry/otel-metrics.js';
export { createZonekeeper } from './zonekeeper.js';
