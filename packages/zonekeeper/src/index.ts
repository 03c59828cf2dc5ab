/**
 * `zonekeeper`: per-organisation Route 53 zones, scoped IAM credentials kept in Vault, ExternalDNS and
 * TLS certificates on every cluster, and a billing-aware garbage collector — composed from the
 * `@zonekeeper/*` packages behind small ports, with in-memory defaults.
 *
 * @packageDocumentation
 */

export type { ClusterResolver, ExternalDnsDefaults, IdentityScope, ZonekeeperConfig } from './config.js';
export {
  type ClusterInventory,
  type ClusterRecord,
  createMemoryInventory,
  type MemoryInventory,
  readOrganizationsInUse,
} from './inventory.js';
export { createLeaseLock, type LeaseLock, type LeaseOptions } from './lease.js';
export {
  type AttachClusterInput,
  type AttachResult,
  type ClusterCertificate,
  type ClusterIdentityResult,
  type CollectionResult,
  type CredentialStep,
  createZonekeeper,
  type DetachResult,
  type GarbageCollectorOptions,
  type OrganizationResult,
  type RotationResult,
  type ZoneCollection,
  type Zonekeeper,
} from './zonekeeper.js';
