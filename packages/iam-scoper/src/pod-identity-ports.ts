/**
 * The EKS Pod Identity association port, shaped after the EKS API: an association maps a service
 * account in a namespace of one cluster to an IAM role; EKS Pod Identity then assumes the role for the
 * pods of that service account (the role's trust policy, `buildPodIdentityTrustPolicy`, decides whether
 * the association may use it). A provider reads and writes; it never decides ownership, never retries
 * on its own and never implements dry-run.
 *
 * Errors are `ZonekeeperError`s: `NOT_FOUND` (no such cluster or association), `ALREADY_EXISTS` (the
 * service account already has an association in that cluster: EKS's `ResourceInUseException`),
 * `CONFLICT` (`ResourceLimitExceededException`), `INVALID_INPUT` (checked before any request is
 * sent), `THROTTLED`, `UNAVAILABLE`, `PERMISSION_DENIED`. Aborts re-throw `signal.reason`.
 *
 * @packageDocumentation
 */

import type { CallOptions } from '@zonekeeper/core';

/** An association, as `DescribePodIdentityAssociation` returns it. @public */
export interface PodIdentityAssociation {
  readonly associationId: string;
  readonly associationArn: string;
  readonly clusterName: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly roleArn: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly createdAt: Date;
  /** Set when an EKS add-on owns the association (zonekeeper never touches those). */
  readonly ownerArn?: string;
}

/** An association, as `ListPodIdentityAssociations` returns it (no role, no tags). @public */
export interface PodIdentityAssociationSummary {
  readonly associationId: string;
  readonly associationArn: string;
  readonly clusterName: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly ownerArn?: string;
}

/** What {@link PodIdentityAssociationProvider.createAssociation} creates. @public */
export interface PodIdentityAssociationSpec {
  /** The EKS cluster name (not its ARN). */
  readonly clusterName: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** The role EKS Pod Identity assumes, `arn:aws:iam::<account>:role/…`. */
  readonly roleArn: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Idempotency token (1–64 characters): a retried create with the same token creates nothing new. */
  readonly clientRequestToken?: string | undefined;
}

/** Filter of {@link PodIdentityAssociationProvider.listAssociations}. @public */
export interface PodIdentityAssociationFilter {
  readonly namespace?: string | undefined;
  readonly serviceAccount?: string | undefined;
}

/**
 * The EKS Pod Identity association port.
 *
 * @example
 * ```ts
 * const eks = createMemoryPodIdentityProvider({ clusters: ['acme-c1'] });
 * await eks.createAssociation({ clusterName: 'acme-c1', namespace: 'external-dns', serviceAccount: 'external-dns', roleArn, tags });
 * ```
 * @public
 */
export interface PodIdentityAssociationProvider {
  /** `eks`, `memory`, … for messages. */
  readonly kind: string;
  /** Creates an association; `ALREADY_EXISTS` if the service account has one, `NOT_FOUND` without the cluster. */
  createAssociation(spec: PodIdentityAssociationSpec, options?: CallOptions): Promise<PodIdentityAssociation>;
  /** The association, or `undefined` if there is none with this id in the cluster. */
  describeAssociation(
    clusterName: string,
    associationId: string,
    options?: CallOptions,
  ): Promise<PodIdentityAssociation | undefined>;
  /** The cluster's associations (all pages), optionally of one namespace / service account; `NOT_FOUND` without the cluster. */
  listAssociations(
    clusterName: string,
    filter?: PodIdentityAssociationFilter,
    options?: CallOptions,
  ): Promise<readonly PodIdentityAssociationSummary[]>;
  /** Deletes an association; `NOT_FOUND` if absent. */
  deleteAssociation(clusterName: string, associationId: string, options?: CallOptions): Promise<void>;
}
