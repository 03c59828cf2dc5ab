/**
 * `@zonekeeper/zone-manager`: one managed public hosted zone per organisation, delegated from the parent
 * zone — the `DnsProvider` port, an in-memory provider, the pure planners and the ensure / list / delete
 * operations, `verifyDelegation` (the delegation checked over real DNS) and `lookupTxt` (one TXT question to
 * one authoritative server, for ACME DNS-01). The Route 53 adapter is on
 * `@zonekeeper/zone-manager/route53`, the PowerDNS adapter on `@zonekeeper/zone-manager/powerdns`, the
 * provider contract suite on `@zonekeeper/zone-manager/testing`.
 *
 * @packageDocumentation
 */

export type { DnsServerAddress } from './delegation/dns-query.js';
export { type LookupTxtOptions, lookupTxt, type TxtLookup, type TxtLookupStatus } from './delegation/txt.js';
export {
  assessDelegation,
  type ChildServerCheck,
  type ChildServerStatus,
  type DelegationEvidence,
  type DelegationProblem,
  type DelegationProblemCode,
  type DelegationReport,
  type DelegationStatus,
  type ParentServerCheck,
  type ParentServerStatus,
  type VerifyDelegationInput,
  type VerifyDelegationOptions,
  verifyDelegation,
} from './delegation/verify.js';
export {
  createMemoryDnsProvider,
  type MemoryDnsProvider,
  type MemoryDnsProviderOptions,
  type MemoryZoneSnapshot,
} from './memory.js';
export { canonicalRecordName, encodeRecordName, normalizeZoneId } from './names.js';
export {
  CALLER_REFERENCE_PREFIX,
  type CallerReferenceFacts,
  organizationCallerReference,
  organizationZoneComment,
  readCallerReference,
  ZONEKEEPER_MANAGED_BY,
  ZoneTags,
} from './ownership.js';
export {
  type BatchLimits,
  batchRecordChanges,
  type DeleteDelegationStep,
  type DeleteRecordsStep,
  type DeleteZoneStep,
  MAX_BATCH_CHARACTERS,
  MAX_BATCH_RECORDS,
  planZoneDeletion,
  type ZoneDeletionPlan,
  type ZoneDeletionState,
  type ZoneDeletionStep,
} from './plan-deletion.js';
export {
  type CreateZoneStep,
  DEFAULT_DELEGATION_TTL,
  type DeleteDuplicateZoneStep,
  type ObservedZone,
  type OrganizationZoneDesired,
  type OrganizationZonePlan,
  type OrganizationZoneState,
  type OrganizationZoneStep,
  planOrganizationZone,
  sortCanonically,
  type TagZoneStep,
  type UpsertDelegationStep,
  zoneOwnership,
} from './plan-zone.js';
export type {
  AliasTarget,
  ChangeInfo,
  DnsProvider,
  HostedZone,
  HostedZoneDetails,
  ListZonesOptions,
  RecordChange,
  RecordPage,
  RecordSet,
  Tags,
} from './ports.js';
// The throttling table, also here (not only on ./route53) so that pure planners can read Route 53's
// budget without loading the AWS SDK.
export {
  DEFAULT_ROUTE53_REQUESTS_PER_SECOND,
  ROUTE53_THROTTLING_2026,
  type Route53BucketSpec,
  type Route53ThrottlingTable,
  resolveRoute53ThrottlingTable,
} from './route53/rate-limiter.js';
export {
  applyOrganizationZonePlan,
  applyZoneDeletionPlan,
  DEFAULT_READ_CONCURRENCY,
  type DeleteOrganizationZoneOptions,
  type DeleteOrganizationZoneResult,
  deleteOrganizationZone,
  type EnsureOrganizationZoneInput,
  type EnsureOrganizationZoneOptions,
  type EnsureOrganizationZoneResult,
  ensureOrganizationZone,
  gatherOrganizationZone,
  gatherZoneDeletion,
  keptOrganizationZone,
  type ListManagedZonesOptions,
  listManagedZones,
  type ManagedZone,
  type OrganizationZone,
  type SyncOptions,
  type ZoneManagerDeps,
} from './zones.js';
