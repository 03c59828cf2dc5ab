/**
 * What the zonekeeper operations return: plans (JSON data, secret-free) and outcomes. A result is safe
 * to log: no secret access key, private key or Vault token ever appears in one.
 *
 * @packageDocumentation
 */

import type {
  AcmeCertificateStep,
  CertificateAuthorityStep,
  CertificateStep,
  CertificateSummary,
  EnsureCertificateResult,
} from '@zonekeeper/cert-issuer';
import type { CallOptions, EnsureOptions, ObjectRef, ZonekeeperError } from '@zonekeeper/core';
import type {
  ApplyExternalDnsResult,
  ApplyObjectStep,
  UninstallStep,
} from '@zonekeeper/externaldns-deployer';
import type {
  CollectionDecision,
  CollectionPlan,
  CollectionReason as ZoneCollectionReason,
} from '@zonekeeper/gc-policy';
import type { ZoneIdentityDeletionStep, ZoneIdentityStep } from '@zonekeeper/iam-scoper';
import type { ManagedZone, OrganizationZoneStep, ZoneDeletionStep } from '@zonekeeper/zone-manager';
import type { OrganizationTsigRotationStep, OrganizationTsigStep } from '@zonekeeper/zone-manager/powerdns';
import type { AuditPlan } from './audit/plan.js';
import type { ClusterCredentialsMode, KeylessStep, WorkloadIdentityInput } from './clusters/keyless.js';
import type { ExternalDnsDefaults, IdentityScope } from './config.js';
import type { ZonekeeperPorts } from './context.js';
import type { CredentialStep } from './credentials/plan.js';
import type { FleetExternalDnsSettings } from './fleet/budget.js';
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
  /**
   * The PowerDNS backend: the name of the organisation's TSIG key (`zonekeeper-update.<zone>`), never
   * its secret, which is in the secret store at `<prefix>/orgs/<org>/tsig-key`.
   */
  readonly tsigKeyName?: string;
  /** The plans of every stage, in order: exactly what the run executed (or a dry run would execute). */
  readonly plans: {
    readonly zone: readonly OrganizationZoneStep[];
    readonly identity: readonly ZoneIdentityStep[];
    readonly credentials: readonly CredentialStep[];
    readonly certificateAuthority: readonly CertificateAuthorityStep[];
    /** The PowerDNS backend only: the TSIG key's steps (zone-manager's `OrganizationTsigStep`s). */
    readonly tsigKey?: readonly OrganizationTsigStep[];
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

/**
 * Who issues a cluster's certificates: `zonekeeper` (the default: zonekeeper issues them from the
 * organisation's CA, or over ACME, and writes the TLS Secrets) or `cert-manager` (zonekeeper gives the
 * cluster's cert-manager per-namespace issuers for the organisation's zone; see docs/certificates.md).
 * @public
 */
export type ClusterCertificateMode = 'zonekeeper' | 'cert-manager';

/** The settings of {@link ClusterCertificateMode} `cert-manager`. Secret-free; recorded. @public */
export interface CertManagerSettings {
  /** The tenant namespaces that get the issuers (1–100, existing). */
  readonly namespaces: readonly string[];
  /**
   * The ACME `Issuer`: its directory URL (default: the `acme` setting of `createZonekeeper`), contact
   * e-mail, and PEM certificates cert-manager trusts for a private ACME server's HTTPS.
   */
  readonly acme?:
    | {
        readonly server?: string;
        readonly email?: string;
        readonly caBundlePem?: string;
      }
    | false;
  /**
   * Also a CA `Issuer` (`zonekeeper-ca`) backed by an intermediate the organisation's CA signs
   * (pathlen:0, name constraints = the zone; kept in Vault and in the namespaces' `zonekeeper-ca`
   * Secret). Needs an organisation CA that may sign intermediates (`certificates.caPathLength: 1`).
   * Default `false`.
   */
  readonly ca?: boolean;
  /** Render approver-policy's `CertificateRequestPolicy` (names under the zone only). Default `true`. */
  readonly approverPolicy?: boolean;
  /**
   * Render a trust-manager `Bundle` that distributes the organisation's CA certificate to the
   * namespaces (ConfigMap `zonekeeper-<org>-ca`, key `ca.crt`). Default `false` (needs trust-manager).
   */
  readonly trustBundle?: boolean;
  /** cert-manager's controller service account; default `cert-manager/cert-manager`. */
  readonly serviceAccount?: { readonly namespace: string; readonly name: string };
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
  /**
   * The ExternalDNS settings `planFleetBudget` planned for the fleet (`plan.settings` of a plan that
   * fits, or `perAccount.settings` for the cluster's account): rendered as this cluster's own
   * `--interval` (the planned one plus its share of the jitter), `--aws-zones-cache-duration`,
   * `--events` and `--aws-batch-change-size`, over `externalDns` (or the recorded settings), and recorded
   * with them. `externalDns` may then not set `interval`, `zonesCacheDuration`, `--events` or
   * `--aws-batch-change-size`. Validated before any call.
   */
  readonly fleetBudget?: FleetExternalDnsSettings;
  /**
   * How ExternalDNS authenticates: `access-key` (the organisation's or cluster's IAM user key, in a
   * Secret), or without any key through the organisation's IAM role — `irsa` (EKS; the ServiceAccount
   * names the role), `pod-identity` (EKS Pod Identity; an association), `web-identity` (any cluster
   * whose service-account issuer is public: a projected token). Recorded; default: the recorded mode,
   * else `access-key`. Keyless modes need identity scope `organization` (see docs/credentials.md).
   */
  readonly credentials?: ClusterCredentialsMode;
  /** What a keyless mode needs of the cluster: its OIDC issuer (irsa, web-identity) or EKS cluster ARN (pod-identity). */
  readonly workloadIdentity?: WorkloadIdentityInput;
  /**
   * Who issues the cluster's certificates. `cert-manager`: the organisation's TXT-only ACME identity
   * is ensured and its key applied, with an ACME `Issuer` (Route 53 DNS-01 in the organisation's zone)
   * in each of `certManager.namespaces`; `zonekeeper` removes those objects again. Recorded; default:
   * the recorded mode (`cert-manager` when `certManager` is given), else `zonekeeper`.
   */
  readonly certificateMode?: ClusterCertificateMode;
  /** The `cert-manager` mode's settings (needed on the first attach in that mode; recorded). */
  readonly certManager?: CertManagerSettings;
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
      /** The credentials mode recorded now (a move to keyless is recorded after ExternalDNS rolled: `record-credentials`). */
      readonly credentials: ClusterCredentialsMode;
    }
  /**
   * The role ExternalDNS moves to — the organisation's, or with identity scope `cluster` the cluster's
   * own — its trust and zone policy, the OIDC provider or Pod Identity association (before ExternalDNS).
   */
  | {
      readonly op: 'ensure-role';
      readonly clusterId: string;
      readonly roleArn: string;
      readonly steps: readonly KeylessStep[];
    }
  | {
      readonly op: 'record-settings';
      readonly clusterId: string;
      readonly externalDns: ExternalDnsDefaults;
      /** The cert-manager mode's settings as recorded (absent: `zonekeeper` mode). */
      readonly certManager?: Readonly<Record<string, unknown>>;
    }
  | {
      readonly op: 'apply-external-dns';
      readonly clusterId: string;
      readonly namespace: string;
      /** The key it runs with; `null`: the key this plan issues, or none (a keyless mode: `ensure-role` names the role; PowerDNS: `tsigKeyName`). */
      readonly accessKeyId: string | null;
      /** The PowerDNS backend: the organisation's TSIG key it signs with (its name). */
      readonly tsigKeyName?: string;
      /** The objects to apply; `null` when they are rendered once the plan's zone or key exists. */
      readonly objects: readonly ApplyObjectStep[] | null;
    }
  /**
   * The cluster's IAM user, its key and their record (identity scope `cluster` with a key): right after
   * ExternalDNS rolled to the organisation's key; after `record-credentials` when it rolled to a role.
   */
  | { readonly op: 'delete-cluster-identity'; readonly clusterId: string; readonly userName: string }
  /** After ExternalDNS rolled to a role: the credentials Secret it no longer reads. */
  | {
      readonly op: 'delete-credentials-secret';
      readonly clusterId: string;
      readonly namespace: string;
      readonly name: string;
    }
  /** After ExternalDNS rolled: the attachment records the keyless mode (the key stops being published to it). */
  | {
      readonly op: 'record-credentials';
      readonly clusterId: string;
      readonly credentials: ClusterCredentialsMode;
    }
  /**
   * After ExternalDNS rolled: the roles without what this cluster no longer uses — the trust entries of
   * a move back to a key, to another issuer or to another identity scope (the organisation role rebuilt
   * from its other clusters; the cluster's own role deleted), its association and OIDC provider.
   */
  | { readonly op: 'trim-role'; readonly clusterId: string; readonly steps: readonly KeylessStep[] }
  /** cert-manager mode: the organisation's TXT-only ACME identity and its key (after the certificates). */
  | {
      readonly op: 'ensure-acme-identity';
      readonly userName: string;
      readonly identity: readonly ZoneIdentityStep[];
      readonly credentials: readonly CredentialStep[];
    }
  /** cert-manager mode: the rendered issuers, policy and credentials Secrets, applied with SSA. */
  | { readonly op: 'apply-cert-manager'; readonly clusterId: string; readonly namespaces: readonly string[] }
  /** Recorded cert-manager objects that are no longer rendered (a move back to `zonekeeper`, a namespace dropped). */
  | { readonly op: 'remove-cert-manager'; readonly clusterId: string; readonly objects: readonly ObjectRef[] }
  /** After ExternalDNS rolled to a role: the organisation's IAM user and key, when no attached cluster runs them any more. */
  | {
      readonly op: 'retire-organization-key';
      readonly userName: string;
      readonly accessKeyIds: readonly string[];
    };

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
  /** The key ExternalDNS runs with (absent in a dry run that would issue it, and in a keyless mode). */
  readonly accessKeyId?: string;
  /** How ExternalDNS authenticates (recorded). */
  readonly credentials: ClusterCredentialsMode;
  /** The role ExternalDNS assumes (keyless modes). */
  readonly roleArn?: string;
  /** The PowerDNS backend: the TSIG key ExternalDNS signs with (its name; absent in a dry run that would store it). */
  readonly tsigKeyName?: string;
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
  /** cert-manager mode: the issuers, policy and credentials Secrets zonekeeper applied. */
  | { readonly op: 'remove-cert-manager'; readonly objects: readonly ObjectRef[] }
  | { readonly op: 'delete-cluster-identity'; readonly userName: string }
  /** A keyless cluster: its trust entry (the role when none remains), its Pod Identity association, its OIDC provider. */
  | { readonly op: 'remove-keyless'; readonly steps: readonly KeylessStep[] }
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
  /**
   * The PowerDNS backend (then `rotations` is empty): the organisation's TSIG key, by name only. The key
   * alternates between `zonekeeper-update.<zone>` and `zonekeeper-update-b.<zone>`.
   */
  readonly tsigKey?: {
    /** `resumed`: it finished a rotation a crash interrupted (no new key was made). */
    readonly outcome: 'rotated' | 'resumed';
    /** The key ExternalDNS signs with now. */
    readonly keyName: string;
    /** The key it replaced (off the server now). */
    readonly previousKeyName: string;
    /** Keys deleted from the server: the previous one, and an unstored key that held the new name. */
    readonly deletedKeyNames: readonly string[];
    readonly clustersUpdated: readonly string[];
    /** The rotation plan it executed (zone-manager's `OrganizationTsigRotationStep`s). */
    readonly plan: readonly OrganizationTsigRotationStep[];
  };
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
  readonly decision?: ZoneCollectionReason;
  /** A sentence for people. */
  readonly message: string;
  readonly error?: ZonekeeperError;
}

/** What {@link Zonekeeper.collectGarbage} did. @public */
export interface CollectionResult {
  readonly now: Date;
  readonly dryRun: boolean;
  readonly plan: CollectionPlan;
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
  /**
   * Order the certificate from the ACME CA configured by `createZonekeeper({ acme })` (DNS-01 through
   * the organisation's zone) instead of issuing it from the organisation's CA. The CA decides the
   * validity, so `validityDays` and `keyAlgorithm` are refused with it. Default `false`.
   */
  readonly acme?: boolean;
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
    /** With `acme`: the ACME plan (account, order); the two above are then empty. */
    readonly acme?: readonly AcmeCertificateStep[];
  };
  /** `issuer` is `organisation-ca` or `acme:<directory URL>`. */
  readonly certificate?: CertificateSummary & {
    readonly dnsNames: readonly string[];
    readonly issuer?: string;
  };
}

/**
 * A step of {@link Zonekeeper.deleteOrganization}, in the collector's order: each zone (its delegation →
 * records → the zone, zone-manager's plan), then identities → secrets → cluster bindings, then the
 * organisation's lock record. JSON data.
 * @public
 */
export type OrganizationDeletionStep =
  | {
      readonly op: 'delete-organization-zone';
      readonly zoneId: string;
      readonly zoneName: string;
      /** zone-manager's `planZoneDeletion` steps: `delete-delegation`, `delete-records`, `delete-zone`. */
      readonly steps: readonly ZoneDeletionStep[];
    }
  | {
      readonly op: 'delete-identity';
      readonly userName: string;
      /** Present for a cluster identity. */
      readonly clusterId?: string;
      /** iam-scoper's deletion steps: access keys → inline policies → the user. */
      readonly steps: readonly ZoneIdentityDeletionStep[];
    }
  /** Keyless leftovers, in order: Pod Identity associations → the roles' inline policies → roles → OIDC providers. */
  | { readonly op: 'delete-keyless'; readonly steps: readonly KeylessStep[] }
  | {
      /** The PowerDNS backend: the organisation's TSIG key, off the server (after its zone, before its secrets). */
      readonly op: 'delete-tsig-key';
      readonly keyName: string;
      readonly zoneName: string;
    }
  | { readonly op: 'delete-secrets'; readonly paths: readonly string[] }
  | { readonly op: 'unbind-cluster'; readonly clusterId: string }
  | { readonly op: 'forget-lock'; readonly path: string };

/** What {@link Zonekeeper.deleteOrganization} did. @public */
export interface OrganizationDeletionResult {
  readonly organization: string;
  readonly dryRun: boolean;
  /** Whether anything of the organisation existed (`false`: the plan is empty, nothing was written). */
  readonly existed: boolean;
  /** The plan, in order: exactly what the run executed (or a dry run would execute). */
  readonly plan: readonly OrganizationDeletionStep[];
  /** Zone ids deleted (in a dry run: that would be deleted). */
  readonly deletedZones: readonly string[];
  readonly deletedIdentities: readonly string[];
  readonly deletedSecrets: readonly string[];
  /** The PowerDNS backend: the TSIG keys removed from the server (names only); absent when none. */
  readonly deletedTsigKeys?: readonly string[];
  /** Zones named like the organisation's that are not zonekeeper's: kept. */
  readonly keptZones: readonly string[];
  /** Secrets in the organisation's folder that are not zonekeeper's (this platform's): kept. */
  readonly keptSecrets: readonly string[];
}

/** One organisation of {@link Zonekeeper.listOrganizations}. @public */
export interface OrganizationSummary {
  readonly organization: string;
  /**
   * `active`: it has a managed zone; `leftovers`: only identities, secrets or bindings remain (an
   * interrupted deletion; the collector's orphan sweep or `deleteOrganization` removes them).
   */
  readonly status: 'active' | 'leftovers';
  /** Its managed zones (more than one: duplicates an ensure removes). */
  readonly zones: readonly { readonly id: string; readonly name: string; readonly createdAt?: Date }[];
  /** Its IAM users (the organisation identity and cluster identities). */
  readonly userNames: readonly string[];
  /** Its attached clusters (attachment records in the store). */
  readonly clusters: readonly string[];
}

/**
 * The delegation of an organisation's zone in the parent zone:
 * - `present`: the parent's NS record names exactly the zone's name servers;
 * - `missing`: the parent has no NS record at the zone's name (an ensure or the collector restores it);
 * - `foreign`: the parent's NS record names other name servers;
 * - `no-zone`: the organisation has no zone.
 * @public
 */
export type DelegationState = 'present' | 'missing' | 'foreign' | 'no-zone';

/** An attached cluster of {@link OrganizationDescription}. @public */
export interface DescribedCluster {
  readonly clusterId: string;
  readonly scope: IdentityScope;
  /** Namespace of its ExternalDNS. */
  readonly namespace: string;
  readonly attachedAt: Date;
  /** TLS Secrets injected, as `namespace/name`. */
  readonly tlsSecrets: readonly string[];
  /** Whether the cluster is bound to this organisation (`false`: an attach or detach was interrupted). */
  readonly bound: boolean;
  /** How its ExternalDNS authenticates (recorded with the attachment). */
  readonly credentials: ClusterCredentialsMode;
}

/** A stored certificate (or the CA), from its secret-free metadata. @public */
export interface DescribedCertificate {
  readonly name: string;
  readonly serialNumber?: string;
  readonly notAfter?: Date;
  readonly dnsNames: readonly string[];
}

/**
 * The organisation's TSIG key on the PowerDNS backend, as {@link Zonekeeper.describeOrganization} found
 * it: names and comparisons only. The stored and the server's secrets are compared by a hash
 * (zone-manager's `tsigSecretFingerprint`); neither the secrets nor their hashes are in it.
 * @public
 */
export interface DescribedTsigKey {
  /** The key's name: `zonekeeper-update.<zone>`, or `zonekeeper-update-b.<zone>` after a rotation. */
  readonly name: string;
  /** While a rotation is under way: the key it replaces (still allowed until the rotation finishes). */
  readonly previousName?: string;
  /** The stored key's algorithm (the server's when nothing is stored); absent when neither has the key. */
  readonly algorithm?: string;
  /** Whether the secret store holds the organisation's key. */
  readonly stored: boolean;
  /** Whether the server has a key of that name. */
  readonly onServer: boolean;
  /** Whether the server's key is the stored one (same algorithm and secret). */
  readonly matchesStored: boolean;
  /** The zone's `TSIG-ALLOW-DNSUPDATE`: the keys that may update it (`[]`: none is required). */
  readonly updateKeys: readonly string[];
  /** Whether `TSIG-ALLOW-DNSUPDATE` is exactly this key. */
  readonly updateKeysOk: boolean;
  /** The zone's `ALLOW-DNSUPDATE-FROM`: the networks updates may come from. */
  readonly updateSources: readonly string[];
}

/** What {@link Zonekeeper.describeOrganization} found. Secret-free. @public */
export interface OrganizationDescription {
  readonly organization: string;
  readonly zoneName: string;
  /** The instant of the description (the injected clock). */
  readonly now: Date;
  /** Whether anything of the organisation exists on this platform. */
  readonly exists: boolean;
  /** The organisation's managed zone (the oldest, when there are duplicates). */
  readonly zone?: {
    readonly id: string;
    readonly name: string;
    readonly nameServers: readonly string[];
    readonly createdAt?: Date;
    readonly protected: boolean;
  };
  /** Further zones of the name: duplicates of ours, or foreign ones. */
  readonly otherZones: readonly { readonly id: string; readonly ours: boolean }[];
  readonly delegation: {
    readonly state: DelegationState;
    /** The name servers of the parent's NS record at the zone's name. */
    readonly nameServers: readonly string[];
  };
  /** The organisation identity (absent when it has none). */
  readonly identity?: {
    readonly userName: string;
    /** Whether the user carries zonekeeper's tags and exactly the policy an ensure would write. */
    readonly policyOk: boolean;
    /** Why not, when `policyOk` is false. */
    readonly problem?: string;
  };
  /** The stored access key (the id only) and IAM's facts about it. */
  readonly accessKey?: {
    readonly accessKeyId: string;
    /** IAM's creation date; absent when IAM does not have the key. */
    readonly createdAt?: Date;
    /** `now - createdAt`, in milliseconds. */
    readonly ageMs?: number;
    readonly inIam: boolean;
    /** A rotation in flight: the key it replaces. */
    readonly previousAccessKeyId?: string;
  };
  /** The PowerDNS backend: the organisation's TSIG key (absent on Route 53). Never its secret. */
  readonly tsigKey?: DescribedTsigKey;
  readonly clusters: readonly DescribedCluster[];
  /** Cluster identities (identity scope `cluster`). */
  readonly clusterIdentities: readonly string[];
  readonly certificateAuthority?: DescribedCertificate;
  readonly certificates: readonly DescribedCertificate[];
  /**
   * The collector's next decision for the zone (gc-policy's `decideZoneFate` with the inventory), as a
   * `collectGarbage({ dryRun: true })` now would decide it. Absent without a zone; `inventory` says why
   * there is no decision.
   */
  readonly garbageCollection: {
    readonly inventory: 'read' | 'not-configured' | 'unavailable';
    readonly inUse?: boolean;
    readonly decision?: CollectionDecision;
  };
}

/** One cluster of {@link Zonekeeper.listClusters}. @public */
export interface ClusterSummary {
  /** The organisation it is attached or bound to (else the inventory's). */
  readonly organization: string;
  readonly clusterId: string;
  /** Whether an attachment record exists (ExternalDNS was deployed by an attach). */
  readonly attached: boolean;
  /** Whether the cluster is bound to the organisation (a binding without an attachment: an attach or detach was interrupted; run it again). */
  readonly bound: boolean;
  readonly scope?: IdentityScope;
  readonly namespace?: string;
  readonly attachedAt?: Date;
  /** What the inventory says: `unknown` when none is configured. */
  readonly inventory: 'running' | 'stopped' | 'absent' | 'unknown';
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
  /**
   * The organisations of this platform: every one with a managed zone, an identity, a stored secret or
   * a cluster binding. Reads only.
   */
  listOrganizations(options?: CallOptions): Promise<readonly OrganizationSummary[]>;
  /**
   * The clusters of this platform (of one organisation with `organization`): attachment records and
   * cluster bindings in the store, with the inventory's view when one is configured (clusters only the
   * inventory knows are listed too, `attached: false`). Reads only.
   */
  listClusters(
    options?: CallOptions & { readonly organization?: string },
  ): Promise<readonly ClusterSummary[]>;
  /**
   * Everything about one organisation: zone, delegation, identity, key age, clusters, certificates and
   * the collector's next decision. Reads only; secret-free.
   * @throws `INVALID_INPUT` for a bad name (before any call).
   */
  describeOrganization(organization: string, options?: CallOptions): Promise<OrganizationDescription>;
  /**
   * Offboards an organisation, holding its lock: each zone (delegation → records → zone), then its
   * identities → secrets, then its lock record — the collector's order and steps. Idempotent and
   * crash-safe (a re-run finishes); an organisation with nothing left is an empty plan.
   * @throws `CONFLICT` while a cluster is attached or bound (detach it first with `detachCluster`), or
   *   running according to the inventory; `CONFLICT` for a protected zone. Nothing is deleted then.
   */
  deleteOrganization(organization: string, options?: EnsureOptions): Promise<OrganizationDeletionResult>;
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
