/**
 * What the zonekeeper operations return: plans (JSON data, secret-free) and outcomes. A result is safe
 * to log: no secret access key, private key or Vault token ever appears in one.
 *
 * @packageDocumentation
 */

import type {
  CertificateAuthorityStep,
  CertificateStep,
  CertificateSummary,
  EnsureCertificateResult,
} from '@zonekeeper/cert-issuer';
import type { CallOptions, EnsureOptions, ZonekeeperError } from '@zonekeeper/core';
import type {
  ApplyExternalDnsResult,
  ApplyObjectStep,
  UninstallStep,
} from '@zonekeeper/externaldns-deployer';
import type { GcPlan, ZoneDecisionReason } from '@zonekeeper/gc-policy';
import type { ZoneIdentityStep } from '@zonekeeper/iam-scoper';
import type { ManagedZone, OrganizationZoneStep } from '@zonekeeper/zone-manager';
import type { AuditPlan } from './audit/plan.js';
import type { ExternalDnsDefaults, IdentityScope } from './config.js';
import type { ZonekeeperPorts } from './context.js';
import type { CredentialStep } from './credentials/plan.js';
import type { LeaseOptions } from './gc/lease.js';

export type {
  AuditFinding,
  AuditFix,
  AuditReason,
  AuditSeverity,
} from './audit/plan.js';
export type { CredentialStep, IssueKeyReason } from './credentials/plan.js';

/** What {@link Zonekeeper.ensureOrganization} did. @public */
export interface OrganizationResult {
  readonly organization: string;
  readonly dryRun: boolean;
  /** The organisation zone (absent in a dry run that would create it). */
  readonly zone?: { readonly id: string; readonly name: string; readonly nameServers: readonly string[] };
  /** The IAM user of the organisation identity (absent when every cluster has its own identity). */
  readonly userName?: string;
  /** The access key id in use (never the secret); absent in a dry run that would issue it. */
  readonly accessKeyId?: string;
  /** The plans of every stage, in order: exactly what the run executed (or a dry run would execute). */
  readonly plans: {
    readonly zone: readonly OrganizationZoneStep[];
    readonly identity: readonly ZoneIdentityStep[];
    readonly credentials: readonly CredentialStep[];
    readonly certificateAuthority: readonly CertificateAuthorityStep[];
  };
  /** Duplicate zones found for this organisation (reported; empty ones are deleted). */
  readonly duplicateZones: readonly string[];
}

/** A TLS certificate to inject on attach. @public */
export interface ClusterCertificate {
  /** Certificate name (a DNS label) — also the Secret name unless `secretName` is set. */
  readonly name: string;
  /** SANs; each must lie within the organisation's zone. */
  readonly dnsNames: readonly string[];
  /** Namespace of the `kubernetes.io/tls` Secret (must exist: checked before anything is written). */
  readonly namespace: string;
  readonly secretName?: string;
}

/** Input of {@link Zonekeeper.attachCluster}. @public */
export interface AttachClusterInput {
  /** The cluster id (a DNS label); also ExternalDNS's TXT owner id. */
  readonly clusterId: string;
  /** Certificates to issue and inject. */
  readonly certificates?: readonly ClusterCertificate[];
  /**
   * Per-cluster ExternalDNS settings. They are recorded with the attachment, so later operations (a
   * rotation) render the cluster's ExternalDNS with the same settings. An attach without them keeps
   * the recorded ones.
   */
  readonly externalDns?: ExternalDnsDefaults;
  /**
   * The cluster's identity scope. Recorded: a later attach without it, and every rotation, keep it.
   * Default: the recorded scope, else the platform's `identityScope`.
   */
  readonly identityScope?: IdentityScope;
}

/** A step of an attach's cluster part. JSON data. @public */
export type ClusterStep =
  | { readonly op: 'bind-cluster'; readonly clusterId: string; readonly organization: string }
  | {
      readonly op: 'record-attachment';
      readonly clusterId: string;
      readonly namespace: string;
      readonly scope: IdentityScope;
      readonly tlsSecrets: readonly string[];
    }
  | { readonly op: 'record-settings'; readonly clusterId: string; readonly externalDns: ExternalDnsDefaults }
  | {
      readonly op: 'apply-external-dns';
      readonly clusterId: string;
      readonly namespace: string;
      /** The key it runs with; `null`: the key this plan issues. */
      readonly accessKeyId: string | null;
      /** The objects to apply; `null` when they are rendered once the plan's zone or key exists. */
      readonly objects: readonly ApplyObjectStep[] | null;
    }
  | { readonly op: 'delete-cluster-identity'; readonly clusterId: string; readonly userName: string };

/** The cluster-scoped identity of an attach (identity scope `cluster` only). @public */
export interface ClusterIdentityResult {
  /** The IAM user of the cluster. */
  readonly userName: string;
  /** The identity plan (`create-user`, `tag-user`, `delete-stale-policies`, `put-policy`). */
  readonly identity: readonly ZoneIdentityStep[];
  /** The credentials plan. */
  readonly credentials: readonly CredentialStep[];
}

/** What {@link Zonekeeper.attachCluster} did. @public */
export interface AttachResult {
  readonly organization: string;
  readonly clusterId: string;
  readonly dryRun: boolean;
  /** The identity scope the cluster has (recorded). */
  readonly identityScope: IdentityScope;
  readonly organizationResult: OrganizationResult;
  /** The cluster part of the plan, in order. */
  readonly plan: readonly ClusterStep[];
  /**
   * What applying ExternalDNS did (its object plan, and the objects as stored, Secret values replaced by
   * `REDACTED_SECRET_VALUE`); an empty plan when nothing needed applying. Absent only in a dry run whose
   * key or zone does not exist yet: the plan's `apply-external-dns` step then has `objects: null`.
   */
  readonly externalDns?: ApplyExternalDnsResult;
  readonly certificates: readonly EnsureCertificateResult[];
  /** The key ExternalDNS runs with (absent in a dry run that would issue it). */
  readonly accessKeyId?: string;
  /** The cluster identity (identity scope `cluster` only). */
  readonly clusterIdentity?: ClusterIdentityResult;
}

/** A step of a detach. JSON data. @public */
export type DetachStep =
  | {
      readonly op: 'uninstall-external-dns';
      readonly namespace: string;
      readonly objects: readonly UninstallStep[];
    }
  | { readonly op: 'delete-tls-secret'; readonly namespace: string; readonly name: string }
  | { readonly op: 'delete-cluster-identity'; readonly userName: string }
  | { readonly op: 'delete-cluster-secrets'; readonly paths: readonly string[] }
  | { readonly op: 'unbind-cluster'; readonly clusterId: string };

/** What {@link Zonekeeper.detachCluster} did. @public */
export interface DetachResult {
  readonly organization: string;
  readonly clusterId: string;
  readonly dryRun: boolean;
  /** The plan, in order. */
  readonly plan: readonly DetachStep[];
  readonly uninstalled: readonly UninstallStep[];
  readonly deletedIdentities: readonly string[];
  /** Secret paths deleted (in a dry run: that would be deleted). */
  readonly deletedSecrets: readonly string[];
}

/** What {@link Zonekeeper.rotateCredentials} did, per identity. @public */
export interface RotationResult {
  readonly organization: string;
  /** Delegation repairs the rotation made first (a collection that crashed after removing it). */
  readonly zone: readonly OrganizationZoneStep[];
  readonly rotations: readonly {
    readonly userName: string;
    readonly clusterId?: string;
    /** `resumed`: it also finished a rotation a crash interrupted, or replaced a key IAM lost. */
    readonly outcome: 'rotated' | 'resumed';
    readonly newAccessKeyId: string;
    readonly deletedAccessKeyIds: readonly string[];
    readonly clustersUpdated: readonly string[];
    /** The credentials plan it executed. */
    readonly plan: readonly CredentialStep[];
  }[];
}

/**
 * Why a zone of a collection ended as it did:
 * - `deleted`: the zone, then (once every zone of the organisation was gone) its identities and secrets;
 * - `leftovers-remain`: the zone was deleted, its identities or secrets not all (the next collection's
 *   orphan sweep finishes);
 * - `fail-closed`: the inventory could not be read or contradicted itself: nothing more is deleted;
 * - `in-use-again`: the re-check right before deleting found a running cluster;
 * - `not-due-again`: the re-check found the zone no longer due (protected, or the decision changed);
 * - `came-back`: a cluster appeared while the zone was being deleted: the zone is kept, its delegation
 *   restored;
 * - `organization-busy`: another operation holds the organisation's lock: looked at next time;
 * - `failed`: a call failed (see `error`).
 * @public
 */
export type CollectionReason =
  | 'deleted'
  | 'leftovers-remain'
  | 'fail-closed'
  | 'in-use-again'
  | 'not-due-again'
  | 'came-back'
  | 'organization-busy'
  | 'failed';

/** The outcome of one zone in a collection. @public */
export interface ZoneCollection {
  readonly zoneId: string;
  readonly organization: string;
  readonly status: 'deleted' | 'skipped' | 'failed';
  readonly reason: CollectionReason;
  /** gc-policy's reason at the re-check (for `deleted` and `not-due-again`). */
  readonly decision?: ZoneDecisionReason;
  /** A sentence for people. */
  readonly message: string;
  readonly error?: ZonekeeperError;
}

/** What {@link Zonekeeper.collectGarbage} did. @public */
export interface CollectionResult {
  readonly now: Date;
  readonly dryRun: boolean;
  readonly plan: GcPlan;
  /** Managed zones, with their organisations. */
  readonly zones: readonly ManagedZone[];
  readonly results: readonly ZoneCollection[];
  /** Delegations restored for zones that are kept (a collection that crashed after removing one). */
  readonly delegationsRestored: readonly string[];
  /**
   * Identities and secrets of organisations without a zone and without a running cluster (crash
   * leftovers), removed — in a dry run, those that would be removed.
   */
  readonly orphans: {
    readonly identities: readonly string[];
    readonly secretPaths: readonly string[];
    /** Organisations skipped because another operation held their lock. */
    readonly busy: readonly string[];
    /** Why the sweep stopped early, if it did (the next collection retries). */
    readonly error?: ZonekeeperError;
  };
  /** When the collector should look again (earliest deferral). */
  readonly nextReviewAt?: Date;
}

/** Input of {@link Zonekeeper.issueCertificate}. @public */
export interface IssueCertificateInput {
  /** Certificate name in the store (a DNS label). */
  readonly name: string;
  /** SANs within the organisation's zone. */
  readonly dnsNames: readonly string[];
  readonly validityDays?: number;
  readonly keyAlgorithm?: import('@zonekeeper/cert-issuer').KeyAlgorithm;
}

/** What {@link Zonekeeper.issueCertificate} did. @public */
export interface IssueCertificateResult {
  readonly organization: string;
  readonly name: string;
  readonly dryRun: boolean;
  /** The CA's plan (created or renewed first when due), then the certificate's. */
  readonly plans: {
    readonly certificateAuthority: readonly CertificateAuthorityStep[];
    readonly certificate: readonly CertificateStep[];
  };
  readonly certificate?: CertificateSummary & { readonly dnsNames: readonly string[] };
}

/** Options of {@link Zonekeeper.runGarbageCollector}. @public */
export interface GarbageCollectorOptions {
  /** Stops the loop (it then releases the lease and resolves). */
  readonly signal: AbortSignal;
  /** Collect only while holding this Kubernetes Lease. */
  readonly lease?: LeaseOptions;
  /** Longest sleep between collections (default: config `gc.maxIntervalMs`, else 1 h). */
  readonly maxIntervalMs?: number;
  /** Sleep after a failed collection, or one that could not delete a zone (default 60 000 ms). */
  readonly retryDelayMs?: number;
  /** Called after every collection attempt. */
  readonly onCollection?: (outcome: { readonly result?: CollectionResult; readonly error?: unknown }) => void;
}

/** Options of {@link Zonekeeper.auditFleet}. @public */
export interface AuditFleetOptions extends CallOptions {
  /** Audit one organisation only (default: every organisation of the platform). */
  readonly organization?: string;
  /** The instant to judge renewals and the collector's decisions at (default: the clock's now). */
  readonly now?: Date;
}

/** What {@link Zonekeeper.auditFleet} found. JSON data, secret-free. @public */
export interface AuditResult extends AuditPlan {
  /** The organisations audited (those with a zone, an identity or secrets; or the one asked for). */
  readonly organizations: readonly string[];
  /**
   * Whether the inventory was read: `not-configured` leaves out the collector's decisions
   * (`zone-collectable`); `unreadable` is also a finding.
   */
  readonly inventory: 'read' | 'not-configured' | 'unreadable';
}

/** The zonekeeper instance. @public */
export interface Zonekeeper {
  readonly baseDomain: string;
  /** The ports in use (the memory ones when none were configured). */
  readonly ports: ZonekeeperPorts;
  /**
   * Where (and as whose) the secrets live: pass it to `@zonekeeper/vault-keys`' readers, e.g.
   * `readAccessKey(zk.ports.secrets, { organization }, zk.secretLayout)`.
   */
  readonly secretLayout: { readonly prefix: string; readonly owner: string };
  /** Creates or repairs an organisation: zone + delegation, identity, key in the store, CA. */
  ensureOrganization(organization: string, options?: EnsureOptions): Promise<OrganizationResult>;
  /** Ensures the organisation, binds the cluster to it, deploys ExternalDNS and injects TLS Secrets. */
  attachCluster(
    organization: string,
    input: AttachClusterInput,
    options?: EnsureOptions,
  ): Promise<AttachResult>;
  /** Removes ExternalDNS, the TLS Secrets, a cluster identity and the cluster's records and binding. */
  detachCluster(
    organization: string,
    clusterId: string,
    options?: EnsureOptions & { readonly skipCluster?: boolean },
  ): Promise<DetachResult>;
  /** Replaces the organisation's key(s) on every attached cluster, then deletes the old ones. */
  rotateCredentials(organization: string, options?: CallOptions): Promise<RotationResult>;
  /** Issues (or renews when due) a server certificate of an existing organisation into the store. */
  issueCertificate(
    organization: string,
    input: IssueCertificateInput,
    options?: EnsureOptions,
  ): Promise<IssueCertificateResult>;
  /** One billing-aware collection of unused organisation zones. */
  collectGarbage(options?: EnsureOptions & { readonly now?: Date }): Promise<CollectionResult>;
  /**
   * One read-only audit of the fleet: zones and delegations, identities and policies, keys, the
   * clusters' ExternalDNS (key and version), certificates and the collector's decisions — as findings
   * with a reason code, a severity and the operation that fixes each. Writes nothing, takes no lock.
   */
  auditFleet(options?: AuditFleetOptions): Promise<AuditResult>;
  /** The collector as a loop (optionally Lease-held) until `signal` aborts. */
  runGarbageCollector(options: GarbageCollectorOptions): Promise<void>;
}
