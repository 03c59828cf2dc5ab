/**
 * The pure planner of an organisation: from everything gathered about it (its zones and the parent's
 * names, its identity, its key, its CA), one plan for all four — as JSON data, with the zone the plan
 * creates referred to as `null` until it exists.
 *
 * ```
 *  zone          zone-manager's planOrganizationZone (refuses foreign zones and parent names)
 *  identity      iam-scoper's planZoneIdentity, its policy for the planned zone (refuses a foreign user)
 *  credentials   planCredentials (issue, repair, resume, rotate)
 *  CA            cert-issuer's planCertificateAuthority
 * ```
 *
 * @internal
 * @packageDocumentation
 */

import { type CertificateAuthorityPlan, planCertificateAuthority } from '@zonekeeper/cert-issuer';
import {
  type CurrentZoneIdentity,
  desiredZoneIdentity,
  planZoneIdentity,
  type ZoneIdentityPlan,
} from '@zonekeeper/iam-scoper';
import type { AttachmentCredentials, StoredCertificateAuthority } from '@zonekeeper/vault-keys';
import {
  type OrganizationZonePlan,
  type OrganizationZoneState,
  planOrganizationZone,
} from '@zonekeeper/zone-manager';
import {
  type OrganizationTsigDesired,
  type OrganizationTsigPlan,
  type OrganizationTsigState,
  planOrganizationTsig,
} from '@zonekeeper/zone-manager/powerdns';
import type { IdentityScope } from '../config.js';
import {
  type CredentialIntent,
  type CredentialsPlan,
  type CredentialsState,
  planCredentials,
} from '../credentials/plan.js';
import type { OrganizationNames } from '../names.js';

/** An attached cluster as the organisation's plan sees it. @internal */
export interface AttachedCluster {
  readonly clusterId: string;
  readonly scope: IdentityScope;
  /** ExternalDNS's namespace (absent in hand-built states). */
  readonly namespace?: string;
  /** Keyless credentials (absent: the cluster runs an access key). */
  readonly credentials?: AttachmentCredentials;
}

/** What the organisation planner needs. @internal */
export interface OrganizationState {
  readonly names: OrganizationNames;
  readonly baseDomain: string;
  readonly now: Date;
  /** The unique part of a new zone's CallerReference (drawn while gathering, so planning stays pure). */
  readonly nonce: string;
  readonly zone: OrganizationZoneState;
  readonly attached: readonly AttachedCluster[];
  /** The organisation identity as gathered; absent when the organisation has none in scope. */
  readonly identity?: CurrentZoneIdentity;
  /** The organisation identity's key facts (secret-free). */
  readonly credentials?: CredentialsState;
  /** The stored CA (its public facts are what the planner reads). */
  readonly ca?: Pick<StoredCertificateAuthority, 'notBefore' | 'notAfter'>;
  /**
   * The PowerDNS backend: the organisation's TSIG key as gathered (fingerprints, no secret) and what it
   * should be. Present only there, and then the organisation has no IAM identity.
   */
  readonly tsig?: { readonly state: OrganizationTsigState; readonly desired: OrganizationTsigDesired };
}

/** What the organisation should have. @internal */
export interface OrganizationDesired {
  /** The identity scope of clusters attached without one. */
  readonly defaultScope: IdentityScope;
  /** `ensure` converges the key; `rotate` replaces it. */
  readonly intent: CredentialIntent;
  /** An attach with identity scope `organization` needs the organisation identity even on a `cluster` platform. */
  readonly needsIdentity?: boolean;
}

/** The plan of an organisation. JSON data. @public */
export interface OrganizationPlan {
  readonly organization: string;
  readonly zoneName: string;
  readonly zone: OrganizationZonePlan;
  /** `null`: the organisation has no organisation-wide identity (every cluster has its own). */
  readonly identity: ZoneIdentityPlan | null;
  readonly credentials: CredentialsPlan | null;
  readonly certificateAuthority: CertificateAuthorityPlan;
  /** The PowerDNS backend only: the organisation's TSIG key (zone-manager's `planOrganizationTsig`). */
  readonly tsigKey?: OrganizationTsigPlan;
}

/**
 * Whether an organisation needs its organisation-wide identity: an attach asks for it, a cluster runs
 * its key, or the platform's default scope is `organization` and no cluster of the organisation has
 * moved to keyless credentials (then the key is retired, and only an access-key attach brings it back).
 * @internal
 */
export function needsOrganizationIdentity(state: OrganizationState, desired: OrganizationDesired): boolean {
  return (
    desired.needsIdentity === true ||
    (desired.defaultScope === 'organization' && !state.attached.some((a) => a.credentials !== undefined)) ||
    state.attached.some((a) => a.scope === 'organization' && a.credentials === undefined)
  );
}

/**
 * Plans an organisation. Pure.
 * @throws `NOT_OWNED` (a zone, a parent name or an IAM user that is not zonekeeper's), `CONFLICT` (an
 *   IAM user of another organisation or platform under our name).
 * @internal
 */
export function planOrganization(state: OrganizationState, desired: OrganizationDesired): OrganizationPlan {
  const { names } = state;
  const zone = planOrganizationZone(
    state.zone,
    { organization: names.organization, baseDomain: state.baseDomain, nonce: state.nonce },
    state.now,
  );
  let identity: ZoneIdentityPlan | null = null;
  let credentials: CredentialsPlan | null = null;
  if (state.tsig === undefined && needsOrganizationIdentity(state, desired)) {
    const wanted = desiredZoneIdentity({
      baseDomain: state.baseDomain,
      organization: names.organization,
      zoneName: names.zoneName,
      zoneId: zone.zoneId,
    });
    identity = planZoneIdentity(state.identity ?? { policyNames: [] }, wanted);
    credentials = planCredentials(
      state.credentials ?? { userName: names.userName, iamKeys: null, consumers: [] },
      desired.intent,
    );
  }
  const certificateAuthority = planCertificateAuthority(state.ca, names.certificateAuthority, state.now);
  // After the zone (the key's metadata lives on it); for a zone this plan creates, gathering saw none.
  const tsigKey = state.tsig ? planOrganizationTsig(state.tsig.state, state.tsig.desired) : undefined;
  return {
    organization: names.organization,
    zoneName: names.zoneName,
    zone,
    identity,
    credentials,
    certificateAuthority,
    ...(tsigKey ? { tsigKey } : {}),
  };
}

/** Whether an organisation plan has nothing to do. @internal */
export function isEmptyOrganizationPlan(plan: OrganizationPlan): boolean {
  return (
    plan.zone.steps.length === 0 &&
    (plan.identity?.steps.length ?? 0) === 0 &&
    (plan.credentials?.steps.length ?? 0) === 0 &&
    plan.certificateAuthority.steps.length === 0 &&
    (plan.tsigKey?.steps.length ?? 0) === 0
  );
}

/** Whether an organisation plan stores a new TSIG key (whose secret exists only once it runs). @internal */
export function storesNewTsigKey(plan: OrganizationPlan): boolean {
  return plan.tsigKey?.steps.some((s) => s.op === 'store-key') ?? false;
}

/**
 * The consumers of the organisation key: clusters attached with identity scope `organization` that run
 * a key (a keyless cluster never gets it published). @internal
 */
export function organizationKeyConsumers(attached: readonly AttachedCluster[]): string[] {
  return attached
    .filter((a) => a.scope === 'organization' && a.credentials === undefined)
    .map((a) => a.clusterId)
    .sort();
}
