/**
 * Every name derived from an organisation (and a cluster), validated before anything is read or
 * written: the zone name (≤ 253 characters), the IAM user and policy names (≤ 64 / 128, hashed when
 * long), the CA common name (≤ 64), the per-cluster record names, and the Kubernetes labels (≤ 63).
 * An invalid, reserved or punycode-broken organisation name is `INVALID_INPUT` here, never half-way
 * through an operation.
 *
 * @internal
 * @packageDocumentation
 */

import { defaultCaCommonName } from '@zonekeeper/cert-issuer';
import {
  invalidInput,
  organizationZoneName,
  validateClusterId,
  validateOrganizationName,
} from '@zonekeeper/core';
import { clusterRecordNames, identityPolicyName, identityUserName } from '@zonekeeper/iam-scoper';
import type { Context } from './context.js';

/** The names of one organisation. @internal */
export interface OrganizationNames {
  readonly organization: string;
  readonly zoneName: string;
  /** The organisation identity's IAM user and inline policy. */
  readonly userName: string;
  readonly policyName: string;
  /**
   * What the organisation's CA is planned from: its common name (≤ 64) and the zone its name
   * constraints permit (a CA created or renewed by zonekeeper signs names in the zone only).
   */
  readonly certificateAuthority: {
    readonly organization: string;
    readonly commonName: string;
    readonly permittedDnsDomain: string;
    /** `1` when the platform's CAs may sign cert-manager's intermediate (`certificates.caPathLength`). */
    readonly pathLength?: 0 | 1;
  };
}

/** The names of one cluster of an organisation. @internal */
export interface ClusterNames extends OrganizationNames {
  readonly clusterId: string;
  /** The cluster identity's IAM user and inline policy (identity scope `cluster`). */
  readonly clusterUserName: string;
  readonly clusterPolicyName: string;
}

/**
 * Validates an organisation name and derives its names.
 * @throws `INVALID_INPUT` for an invalid or reserved name, or one whose zone name would be too long.
 * @internal
 */
export function organizationNames(ctx: Context, input: unknown): OrganizationNames {
  const organization = validateOrganizationName(input);
  if (ctx.reservedNames.has(organization))
    throw invalidInput(
      `Organisation name ${JSON.stringify(organization)} is reserved: the platform uses ${organization}.${ctx.baseDomain} itself. Choose another name (the reserved list is the reservedOrganizationNames option).`,
      { organization },
    );
  const zoneName = organizationZoneName(organization, ctx.baseDomain);
  const who = { baseDomain: ctx.baseDomain, organization };
  return {
    organization,
    zoneName,
    userName: identityUserName(who),
    policyName: identityPolicyName(who),
    certificateAuthority: {
      organization,
      commonName: defaultCaCommonName(organization),
      permittedDnsDomain: zoneName,
      ...(ctx.certificates?.caPathLength === 1 ? { pathLength: 1 as const } : {}),
    },
  };
}

/**
 * Validates a cluster id (with its organisation) and derives its names.
 * @throws `INVALID_INPUT` as {@link organizationNames}, for an invalid cluster id, or when
 *   `<cluster>.<zone>` would be too long for a per-cluster scope.
 * @internal
 */
export function clusterNames(ctx: Context, organizationInput: unknown, clusterInput: unknown): ClusterNames {
  const names = organizationNames(ctx, organizationInput);
  const clusterId = validateClusterId(clusterInput);
  clusterRecordNames(names.zoneName, clusterId);
  const who = { baseDomain: ctx.baseDomain, organization: names.organization, clusterId };
  return {
    ...names,
    clusterId,
    clusterUserName: identityUserName(who),
    clusterPolicyName: identityPolicyName(who),
  };
}
