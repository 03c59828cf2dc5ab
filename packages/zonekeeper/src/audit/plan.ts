/**
 * The pure planner of `auditFleet`: from everything gathered about the fleet (JSON data, secret-free),
 * the findings — each a reason code, a severity, a sentence, and the operation (and CLI command) that
 * fixes it. It asks the planners the operations themselves use, so a finding means exactly "this
 * operation would change something here":
 *
 * ```
 *  zone, delegation        zone-manager's planOrganizationZone   create-zone, tag-zone, upsert-delegation,
 *                                                                 duplicates; NOT_OWNED → foreign
 *  identity, policy        iam-scoper's planZoneIdentity         create-user, tag-user, put-policy,
 *                                                                 delete-stale-policies; NOT_OWNED/CONFLICT
 *  keys                    planCredentials (ensure)              delete-unknown-keys, issue-key,
 *                                                                 forget-previous-key
 *  clusters                the stored key and the image the      the Secret's key id, the Deployment's image
 *                          deployer renders
 *  certificates            cert-issuer's renewalTime             due, expired
 *  collection              gc-policy's decideZoneFate            delete now, defer until
 *  TSIG key (PowerDNS)     zone-manager's planOrganizationTsig   create-key, set-update-keys, set-update-
 *                                                                 sources, set-transfer-keys; no zone
 * ```
 *
 * @packageDocumentation
 */

import { renewalTime } from '@zonekeeper/cert-issuer';
import { isZonekeeperError } from '@zonekeeper/core';
import { type CollectionPolicyOptions, decideZoneFate } from '@zonekeeper/gc-policy';
import { type CurrentZoneIdentity, desiredZoneIdentity, planZoneIdentity } from '@zonekeeper/iam-scoper';
import { type OrganizationZoneState, planOrganizationZone } from '@zonekeeper/zone-manager';
import { type OrganizationTsigState, planOrganizationTsig } from '@zonekeeper/zone-manager/powerdns';
import type { IdentityScope } from '../config.js';
import { type CredentialsState, planCredentials } from '../credentials/plan.js';

/**
 * Why a finding was made:
 * - `zone-unreadable`: the organisation's zone (or the parent zone) could not be read;
 * - `zone-missing`: the organisation is in use (attached clusters, running clusters) but has no zone;
 * - `zone-foreign`: a zone with the organisation's name is not zonekeeper's;
 * - `zone-tags-missing`: zonekeeper's zone lacks some of its ownership tags;
 * - `zone-duplicate`: more than one zone of the organisation exists;
 * - `delegation-missing`: the parent zone has no NS record for the organisation's zone;
 * - `delegation-drift`: the NS record points at the organisation's zones but not as `ensure` would set it;
 * - `delegation-foreign`: the NS record in the parent points at name servers of no zone of ours;
 * - `parent-name-taken`: other records in the parent zone at or below the organisation's name;
 * - `organization-leftovers`: identities or secrets of an organisation without zone and not in use;
 * - `identity-missing`: an identity an attached cluster (or the platform's scope) needs does not exist;
 * - `identity-conflict`: a user at the identity's name is not zonekeeper's, or another's;
 * - `identity-tags-drift`: the identity's tags are not what `ensure` sets (e.g. an old zone id);
 * - `identity-unused`: a cluster identity of a cluster not attached with scope `cluster`;
 * - `policy-drift`: the user's inline policies differ from what iam-scoper renders for the zone;
 * - `key-unknown-to-store`: IAM keys of a zonekeeper user that the store does not record (leaked);
 * - `key-missing`: an identity in use has no key in the store;
 * - `key-not-in-iam`: the stored key no longer exists in IAM;
 * - `rotation-unfinished`: the store still records a previous key (a rotation stopped half-way; on
 *   PowerDNS, a previous TSIG key);
 * - `cluster-unreachable`: an attached cluster could not be read;
 * - `external-dns-missing`: an attached cluster has no ExternalDNS Deployment or (with an access key)
 *   credentials Secret;
 * - `cluster-stale-key`: the cluster's ExternalDNS credentials Secret holds another key than the stored one;
 * - `cluster-old-version`: the cluster runs an older ExternalDNS than the deployer renders;
 * - `cluster-image-drift`: the cluster runs another ExternalDNS image (not provably older);
 * - `tls-secret-missing`: a TLS Secret recorded for an attached cluster is not there;
 * - `tls-secret-stale`: a TLS Secret holds a certificate the store no longer has (renewed in the store,
 *   not injected again);
 * - `certificate-due`: a stored certificate (or CA) is within its renewal window;
 * - `certificate-expired`: a stored certificate (or CA) has expired;
 * - `zone-collectable`: the collector would delete the zone, now or at `at`;
 * - `tsig-key-missing` (PowerDNS): the server has no key of the organisation (stored or not);
 * - `tsig-key-differs` (PowerDNS): the server's key is not the stored one (another secret or algorithm),
 *   or the stored key is unusable: ExternalDNS signs with a key the server does not accept;
 * - `tsig-key-not-stored` (PowerDNS): the server has the organisation's key, the store has none (never
 *   adopted: an ensure replaces it);
 * - `tsig-update-permission-drift` (PowerDNS): the zone's `TSIG-ALLOW-DNSUPDATE` is not exactly the
 *   organisation's key (another key listed, or none, so the allowed networks may update without a key);
 * - `tsig-update-sources-drift` (PowerDNS): the zone's `ALLOW-DNSUPDATE-FROM` is not the configured networks;
 * - `tsig-transfer-drift` (PowerDNS): the zone's `TSIG-ALLOW-AXFR` is not what `powerdns.axfr` asks;
 * - `tsig-key-without-zone` (PowerDNS): a stored (or server) key of an organisation without a zone;
 * - `inventory-unreadable`: the cluster inventory could not be read (the collector fails closed).
 * @public
 */
export type AuditReason =
  | 'zone-unreadable'
  | 'zone-missing'
  | 'zone-foreign'
  | 'zone-tags-missing'
  | 'zone-duplicate'
  | 'delegation-missing'
  | 'delegation-drift'
  | 'delegation-foreign'
  | 'parent-name-taken'
  | 'organization-leftovers'
  | 'identity-missing'
  | 'identity-conflict'
  | 'identity-tags-drift'
  | 'identity-unused'
  | 'policy-drift'
  | 'key-unknown-to-store'
  | 'key-missing'
  | 'key-not-in-iam'
  | 'rotation-unfinished'
  | 'cluster-unreachable'
  | 'external-dns-missing'
  | 'cluster-stale-key'
  | 'cluster-old-version'
  | 'cluster-image-drift'
  | 'tls-secret-missing'
  | 'tls-secret-stale'
  | 'certificate-due'
  | 'certificate-expired'
  | 'zone-collectable'
  | 'inventory-unreadable'
  | 'tsig-key-missing'
  | 'tsig-key-differs'
  | 'tsig-key-not-stored'
  | 'tsig-update-permission-drift'
  | 'tsig-update-sources-drift'
  | 'tsig-transfer-drift'
  | 'tsig-key-without-zone';

/** How bad a finding is: `error` breaks something now, `warning` will or may, `info` is to know. @public */
export type AuditSeverity = 'error' | 'warning' | 'info';

/**
 * What fixes a finding: the facade operation, and the same as a `zonekeeper` command. `manual`: no
 * operation does (zonekeeper never touches what is not its own); `command` is then absent.
 * @public
 */
export interface AuditFix {
  readonly operation:
    | 'ensureOrganization'
    | 'attachCluster'
    | 'detachCluster'
    | 'rotateCredentials'
    | 'issueCertificate'
    | 'collectGarbage'
    | 'manual';
  /** The CLI command, e.g. `zonekeeper credentials rotate acme`. */
  readonly command?: string;
}

/** One finding of {@link planAudit}. JSON data, secret-free. @public */
export interface AuditFinding {
  readonly reason: AuditReason;
  readonly severity: AuditSeverity;
  /** Absent for fleet-wide findings (`inventory-unreadable`). */
  readonly organization?: string;
  readonly clusterId?: string;
  /** What the finding is about: a zone id or name, an IAM user, a secret path, a cluster id. */
  readonly subject: string;
  /** A sentence for people. */
  readonly message: string;
  readonly fix: AuditFix;
  /** When it happens (`certificate-due`: the renewal time; `zone-collectable`: when it is deleted). */
  readonly at?: Date;
}

/** An identity as gathered (no secret). @public */
export interface IdentityFacts {
  readonly userName: string;
  /** Present for a cluster identity. */
  readonly clusterId?: string;
  readonly current: CurrentZoneIdentity;
  /** Its key state; `iamKeys` is `null` when the user does not exist. */
  readonly credentials: CredentialsState;
}

/** An attached cluster as gathered: what its ExternalDNS runs (never the secret). @public */
export interface ClusterFacts {
  readonly clusterId: string;
  readonly scope: IdentityScope;
  readonly namespace: string;
  /** The image the deployer renders for this cluster (its recorded settings, then the platform's). */
  readonly expectedImage: string;
  /** `unreachable`: reading the cluster failed (`error` says why). */
  readonly status: 'read' | 'unreachable';
  readonly error?: { readonly code: string; readonly message: string };
  /** The access key id in ExternalDNS's credentials Secret; `null`: no Secret (or no key in it). */
  readonly secretAccessKeyId?: string | null;
  /**
   * The PowerDNS backend: the fingerprint of the TSIG secret in ExternalDNS's rfc2136 Secret; `null`: no
   * Secret (or no secret in it). Absent on Route 53.
   */
  readonly tsigKeyFingerprint?: string | null;
  /** The PowerDNS backend: the TSIG key name in that Secret; `null`: none there. Absent on Route 53. */
  readonly tsigKeyName?: string | null;
  /** The keyless mode the attachment records (absent: an access key); such a cluster has no Secret. */
  readonly keyless?: 'irsa' | 'pod-identity' | 'web-identity';
  /** The ExternalDNS container image; `null`: no Deployment. */
  readonly image?: string | null;
  /** The TLS Secrets recorded with the attachment: the serial they hold (`null`: no such Secret). */
  readonly tlsSecrets?: readonly { readonly ref: string; readonly serialNumber: string | null }[];
}

/** A stored certificate's public facts. @public */
export interface CertificateFacts {
  /** `ca`: the organisation's CA; otherwise a server certificate's name. */
  readonly kind: 'ca' | 'server';
  readonly name: string;
  readonly path: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly serialNumber?: string;
  readonly dnsNames?: readonly string[];
}

/** A managed zone, for the collector's decision. @public */
export interface ManagedZoneFacts {
  readonly id: string;
  readonly name: string;
  readonly protected: boolean;
  readonly createdAt?: Date;
}

/** A TSIG key as gathered: its name, algorithm and the fingerprint of its secret (never the secret). @public */
export interface TsigKeyFingerprint {
  readonly name: string;
  readonly algorithm: string;
  /** zone-manager's `tsigSecretFingerprint` of the secret. */
  readonly fingerprint: string;
}

/** The PowerDNS backend: an organisation's TSIG key and its zone's update metadata. Secret-free. @public */
export interface TsigFacts {
  /** The key's name in use: `zonekeeper-update.<zone>`, or `zonekeeper-update-b.<zone>` after a rotation. */
  readonly keyName: string;
  /** Whether the server has a zone of the organisation's zone name. */
  readonly zoneExists: boolean;
  /** The server's key of that name. */
  readonly serverKey?: TsigKeyFingerprint;
  /** The stored key, with its version in the store and, while a rotation is under way, the key it replaces. */
  readonly storedKey?: TsigKeyFingerprint & { readonly version: number; readonly previousName?: string };
  /** The server's key under the organisation's other key name (a rotation's previous key, or unstored). */
  readonly otherServerKey?: TsigKeyFingerprint;
  /** `TSIG-ALLOW-DNSUPDATE` of the zone (canonical names, sorted); `[]` without a zone. */
  readonly updateKeys: readonly string[];
  /** `ALLOW-DNSUPDATE-FROM` of the zone (sorted); `[]` without a zone. */
  readonly updateSources: readonly string[];
  /** `TSIG-ALLOW-AXFR` of the zone (sorted); `[]` without a zone. */
  readonly transferKeys: readonly string[];
}

/** Everything gathered about one organisation. JSON data, secret-free. @public */
export interface OrganizationFacts {
  readonly organization: string;
  readonly zoneName: string;
  /** The zone state as `ensure` gathers it, or why it could not be read. */
  readonly zone:
    | { readonly status: 'read'; readonly state: OrganizationZoneState }
    | { readonly status: 'unreadable'; readonly error: { readonly code: string; readonly message: string } };
  /** Its managed zones as the collector lists them. */
  readonly managedZones: readonly ManagedZoneFacts[];
  readonly attached: readonly ClusterFacts[];
  /** The organisation identity (if it exists or is needed) and every cluster identity found. */
  readonly identities: readonly IdentityFacts[];
  readonly certificates: readonly CertificateFacts[];
  /** Secret paths of the organisation in the store (for leftovers). */
  readonly secretPaths: readonly string[];
  /** The PowerDNS backend: its TSIG key (then `identities` is empty). Absent on Route 53. */
  readonly tsig?: TsigFacts;
}

/** The input of {@link planAudit}. JSON data, secret-free. @public */
export interface FleetState {
  readonly baseDomain: string;
  /** The platform's default identity scope. */
  readonly defaultScope: IdentityScope;
  readonly organizations: readonly OrganizationFacts[];
  /** The PowerDNS backend's settings an ensure applies to each zone (absent on Route 53). */
  readonly powerdns?: {
    /** `powerdns.updateSources`; absent: left as it is. */
    readonly updateSources?: readonly string[];
    /** `powerdns.axfr`. */
    readonly axfr: boolean;
  };
  /** The inventory's answer: the organisations with a running cluster. */
  readonly inventory:
    | { readonly status: 'read'; readonly inUse: readonly string[] }
    | { readonly status: 'not-configured' }
    | { readonly status: 'unreadable'; readonly message: string };
}

/** Options of {@link planAudit}. @public */
export interface PlanAuditOptions {
  readonly now: Date;
  /** The collector's policy options (the platform's `gc`). */
  readonly gc?: CollectionPolicyOptions;
}

/** The findings of an audit, worst first. @public */
export interface AuditPlan {
  readonly now: Date;
  readonly findings: readonly AuditFinding[];
  /** Counts per severity. */
  readonly summary: { readonly error: number; readonly warning: number; readonly info: number };
}

const SEVERITY_RANK: Readonly<Record<AuditSeverity, number>> = { error: 0, warning: 1, info: 2 };

const fixes = {
  ensure: (org: string): AuditFix => ({
    operation: 'ensureOrganization',
    command: `zonekeeper org ensure ${org}`,
  }),
  attach: (org: string, clusterId: string): AuditFix => ({
    operation: 'attachCluster',
    command: `zonekeeper cluster attach ${org} ${clusterId}`,
  }),
  detach: (org: string, clusterId: string): AuditFix => ({
    operation: 'detachCluster',
    command: `zonekeeper cluster detach ${org} ${clusterId}`,
  }),
  rotate: (org: string): AuditFix => ({
    operation: 'rotateCredentials',
    command: `zonekeeper credentials rotate ${org}`,
  }),
  attachCert: (org: string, clusterId: string, ref: string, c: CertificateFacts | undefined): AuditFix => {
    const [namespace, name] = ref.split('/') as [string, string];
    return {
      operation: 'attachCluster',
      command: `zonekeeper cluster attach ${org} ${clusterId} --cert ${c ? `${c.name}:${namespace}:${(c.dnsNames ?? []).join(',')}` : `${name}:${namespace}:<host>[,<host>…]`}`,
    };
  },
  issue: (org: string, c: CertificateFacts): AuditFix => ({
    operation: 'issueCertificate',
    command: `zonekeeper cert issue ${(c.dnsNames ?? []).join(' ')} --org ${org} --name ${c.name}`,
  }),
  collect: (): AuditFix => ({ operation: 'collectGarbage', command: 'zonekeeper gc run --inventory <file>' }),
  manual: (): AuditFix => ({ operation: 'manual' }),
};

/** A zonekeeper error's details, for the foreign-state findings. */
function detailsOf(error: unknown): Readonly<Record<string, unknown>> {
  return isZonekeeperError(error) ? ((error.details ?? {}) as Record<string, unknown>) : {};
}

/** The tag of an image reference (`repo:v0.22.0` → `v0.22.0`; a digest or no tag → undefined). */
function versionOf(image: string): readonly number[] | undefined {
  const at = image.indexOf('@');
  const ref = at >= 0 ? image.slice(0, at) : image;
  const colon = ref.lastIndexOf(':');
  if (colon < 0 || ref.slice(colon).includes('/')) return undefined;
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(ref.slice(colon + 1));
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function repositoryOf(image: string): string {
  const ref = image.split('@')[0] as string;
  const colon = ref.lastIndexOf(':');
  return colon < 0 || ref.slice(colon).includes('/') ? ref : ref.slice(0, colon);
}

/** Whether `running` is an older release of the same repository than `expected`. */
function isOlder(running: string, expected: string): boolean {
  const a = versionOf(running);
  const b = versionOf(expected);
  if (!a || !b || repositoryOf(running) !== repositoryOf(expected)) return false;
  for (let i = 0; i < 3; i++)
    if ((a[i] as number) !== (b[i] as number)) return (a[i] as number) < (b[i] as number);
  return false;
}

function auditZone(
  org: OrganizationFacts,
  baseDomain: string,
  inUse: boolean,
  now: Date,
  out: AuditFinding[],
): string | null {
  const o = org.organization;
  if (org.zone.status === 'unreadable') {
    out.push({
      reason: 'zone-unreadable',
      severity: 'error',
      organization: o,
      subject: org.zoneName,
      message: `The zone ${org.zoneName} could not be read: ${org.zone.error.message}`,
      fix: fixes.manual(),
    });
    return null;
  }
  const state = org.zone.state;
  const hasZone = state.zones.length > 0;
  if (!hasZone && !inUse) {
    // Nothing to repair: leftovers (if any) are the collector's orphan sweep's.
    if (org.identities.some((i) => i.current.user) || org.secretPaths.length > 0)
      out.push({
        reason: 'organization-leftovers',
        severity: 'warning',
        organization: o,
        subject: o,
        message: `Organisation ${o} has no zone and no cluster, but ${[
          ...org.identities.filter((i) => i.current.user).map((i) => `IAM user ${i.userName}`),
          ...(org.secretPaths.length > 0 ? [`${org.secretPaths.length} secret(s)`] : []),
        ].join(
          ', ',
        )} remain: the collector's orphan sweep removes them (or ensure the organisation to bring it back).`,
        fix: fixes.collect(),
      });
    return null;
  }
  let plan: ReturnType<typeof planOrganizationZone>;
  try {
    plan = planOrganizationZone(state, { organization: o, baseDomain, nonce: '0' }, now);
  } catch (error) {
    const d = detailsOf(error);
    const reason: AuditReason = Array.isArray(d.zoneIds)
      ? 'zone-foreign'
      : Array.isArray(d.records)
        ? 'parent-name-taken'
        : 'delegation-foreign';
    out.push({
      reason,
      severity: 'error',
      organization: o,
      subject: org.zoneName,
      message: error instanceof Error ? error.message : String(error),
      fix: fixes.manual(),
    });
    return null;
  }
  for (const step of plan.steps) {
    switch (step.op) {
      case 'create-zone':
        out.push({
          reason: 'zone-missing',
          severity: 'error',
          organization: o,
          subject: org.zoneName,
          message: `Organisation ${o} is in use (attached or running clusters) but has no zone ${org.zoneName}: its records cannot be published.`,
          fix: fixes.ensure(o),
        });
        return null;
      case 'tag-zone':
        out.push({
          reason: 'zone-tags-missing',
          severity: 'warning',
          organization: o,
          subject: step.zoneId ?? org.zoneName,
          message: `Zone ${step.zoneId} of ${o} lacks the tag(s) ${Object.keys(step.tags).join(', ')}: the collector cannot judge it until they are set.`,
          fix: fixes.ensure(o),
        });
        break;
      case 'upsert-delegation':
        out.push(
          step.previous
            ? {
                reason: 'delegation-drift',
                severity: 'warning',
                organization: o,
                subject: org.zoneName,
                message: `The delegation of ${org.zoneName} in ${step.parentZoneName} (${step.previous.values.join(', ')}, TTL ${step.previous.ttl ?? '?'}) is not the canonical zone's (${(step.nameServers ?? []).join(', ')}, TTL ${step.ttl}).`,
                fix: fixes.ensure(o),
              }
            : {
                reason: 'delegation-missing',
                severity: 'error',
                organization: o,
                subject: org.zoneName,
                message: `The parent zone ${step.parentZoneName} has no NS record for ${org.zoneName}: its names do not resolve.`,
                fix: fixes.ensure(o),
              },
        );
        break;
      case 'delete-duplicate-zone':
        break; // reported with the duplicates below
    }
  }
  if (plan.duplicates.length > 0)
    out.push({
      reason: 'zone-duplicate',
      severity: 'warning',
      organization: o,
      subject: plan.duplicates.join(', '),
      message: `Organisation ${o} has ${plan.duplicates.length + 1} zones named ${org.zoneName}; ${plan.zoneId} is the canonical one. Each zone is charged monthly.`,
      fix: fixes.ensure(o),
    });
  return plan.zoneId;
}

function auditIdentities(
  org: OrganizationFacts,
  state: FleetState,
  zoneId: string | null,
  out: AuditFinding[],
): void {
  const o = org.organization;
  // As the organisation planner decides it: a keyless cluster retires the organisation identity.
  const orgNeeded =
    (state.defaultScope === 'organization' && !org.attached.some((a) => a.keyless !== undefined)) ||
    org.attached.some((a) => a.scope === 'organization' && a.keyless === undefined);
  // A keyless cluster with identity scope `cluster` runs its own role, not an IAM user.
  const clusterScoped = new Set(
    org.attached.filter((a) => a.scope === 'cluster' && a.keyless === undefined).map((a) => a.clusterId),
  );
  for (const identity of org.identities) {
    const { clusterId, userName } = identity;
    const needed = clusterId === undefined ? orgNeeded : clusterScoped.has(clusterId);
    const fix = clusterId === undefined ? fixes.ensure(o) : fixes.attach(o, clusterId);
    const where = { organization: o, ...(clusterId === undefined ? {} : { clusterId }) };
    if (!identity.current.user) {
      if (needed && zoneId !== null)
        out.push({
          reason: 'identity-missing',
          severity: 'error',
          ...where,
          subject: userName,
          message: `IAM user ${userName} does not exist, but ${clusterId === undefined ? `organisation ${o}` : `cluster ${clusterId}`} needs it.`,
          fix,
        });
      continue;
    }
    if (clusterId !== undefined && !needed) {
      out.push({
        reason: 'identity-unused',
        severity: 'warning',
        ...where,
        subject: userName,
        message: `IAM user ${userName} is the identity of cluster ${clusterId}, which is not attached to ${o} with identity scope cluster.`,
        // Attached with scope organization: an attach deletes the cluster identity; not attached: a detach.
        fix: org.attached.some((a) => a.clusterId === clusterId)
          ? fixes.attach(o, clusterId)
          : fixes.detach(o, clusterId),
      });
    }
    if (zoneId !== null) {
      try {
        const desired = desiredZoneIdentity({
          baseDomain: state.baseDomain,
          organization: o,
          ...(clusterId === undefined ? {} : { clusterId }),
          zoneName: org.zoneName,
          zoneId,
        });
        const plan = planZoneIdentity(identity.current, desired);
        const tags = plan.steps.find((s) => s.op === 'tag-user');
        if (tags?.op === 'tag-user')
          out.push({
            reason: 'identity-tags-drift',
            severity: 'warning',
            ...where,
            subject: userName,
            message: `IAM user ${userName} has tag(s) ${Object.keys(tags.tags).join(', ')} that differ from what zonekeeper sets.`,
            fix,
          });
        const stale = plan.steps.find((s) => s.op === 'delete-stale-policies');
        const put = plan.steps.find((s) => s.op === 'put-policy');
        if (stale || put)
          out.push({
            reason: 'policy-drift',
            severity: 'error',
            ...where,
            subject: userName,
            message: `IAM user ${userName}'s inline policies differ from the policy for zone ${zoneId}${stale?.op === 'delete-stale-policies' ? ` (extra: ${stale.policyNames.join(', ')})` : ''}${put ? ` (${identity.current.policyDocument === undefined ? 'its policy is missing' : 'its policy was changed'})` : ''}.`,
            fix,
          });
      } catch (error) {
        out.push({
          reason: 'identity-conflict',
          severity: 'error',
          ...where,
          subject: userName,
          message: error instanceof Error ? error.message : String(error),
          fix: fixes.manual(),
        });
        continue;
      }
    }
    auditKeys(identity, needed, where, fix, o, out);
  }
}

function auditKeys(
  identity: IdentityFacts,
  needed: boolean,
  where: { readonly organization: string; readonly clusterId?: string },
  fix: AuditFix,
  o: string,
  out: AuditFinding[],
): void {
  const { userName } = identity;
  const plan = planCredentials(identity.credentials, 'ensure');
  for (const step of plan.steps) {
    switch (step.op) {
      case 'delete-unknown-keys':
        out.push({
          reason: 'key-unknown-to-store',
          severity: 'error',
          ...where,
          subject: userName,
          message: `IAM user ${userName} has access key(s) ${step.accessKeyIds.join(', ')} that the store does not record (leaked by a crash, or made outside zonekeeper).`,
          fix,
        });
        break;
      case 'issue-key':
        if (!needed && step.reason === 'missing') break;
        out.push({
          reason: step.reason === 'not-in-iam' ? 'key-not-in-iam' : 'key-missing',
          severity: 'error',
          ...where,
          subject: userName,
          message:
            step.reason === 'not-in-iam'
              ? `The stored access key ${identity.credentials.stored?.accessKeyId} of ${userName} no longer exists in IAM: ExternalDNS cannot authenticate.`
              : `IAM user ${userName} has no access key in the store.`,
          fix,
        });
        break;
      case 'forget-previous-key':
        out.push({
          reason: 'rotation-unfinished',
          severity: 'warning',
          ...where,
          subject: userName,
          message: `The store still records the previous key ${step.accessKeyId} of ${userName}: a rotation stopped half-way.`,
          fix: fixes.rotate(o),
        });
        break;
      default:
        break;
    }
  }
}

function auditClusters(org: OrganizationFacts, out: AuditFinding[]): void {
  const o = org.organization;
  for (const c of org.attached) {
    const where = { organization: o, clusterId: c.clusterId, subject: c.clusterId };
    if (c.status === 'unreachable') {
      out.push({
        reason: 'cluster-unreachable',
        severity: 'error',
        ...where,
        message: `Cluster ${c.clusterId} could not be read: ${c.error?.message ?? 'unknown error'}`,
        fix: fixes.manual(),
      });
      continue;
    }
    const noCredentials =
      c.tsigKeyFingerprint !== undefined
        ? c.tsigKeyFingerprint === null
        : c.secretAccessKeyId === null && c.keyless === undefined;
    if (c.image === null || noCredentials) {
      out.push({
        reason: 'external-dns-missing',
        severity: 'error',
        ...where,
        message: `Cluster ${c.clusterId} is attached to ${o} but has no ExternalDNS ${c.image === null ? 'Deployment' : 'credentials Secret'} in namespace ${c.namespace}.`,
        fix: fixes.attach(o, c.clusterId),
      });
      continue;
    }
    const storedTsig = org.tsig?.storedKey;
    const otherSecret =
      typeof c.tsigKeyFingerprint === 'string' &&
      storedTsig !== undefined &&
      c.tsigKeyFingerprint !== storedTsig.fingerprint;
    const otherName =
      typeof c.tsigKeyName === 'string' && storedTsig !== undefined && c.tsigKeyName !== storedTsig.name;
    if (otherSecret || otherName)
      out.push({
        reason: 'cluster-stale-key',
        severity: 'error',
        ...where,
        message: otherSecret
          ? `ExternalDNS on cluster ${c.clusterId} signs with another TSIG secret than the stored key ${org.tsig?.keyName}'s.`
          : `ExternalDNS on cluster ${c.clusterId} signs as TSIG key ${c.tsigKeyName}, not as the stored key ${storedTsig?.name}.`,
        fix: fixes.attach(o, c.clusterId),
      });
    const identity = org.identities.find((i) =>
      c.scope === 'cluster' ? i.clusterId === c.clusterId : i.clusterId === undefined,
    );
    const stored = identity?.credentials.stored?.accessKeyId;
    if (
      c.keyless === undefined &&
      stored !== undefined &&
      typeof c.secretAccessKeyId === 'string' &&
      c.secretAccessKeyId !== stored
    )
      out.push({
        reason: 'cluster-stale-key',
        severity: 'error',
        ...where,
        message: `ExternalDNS on cluster ${c.clusterId} runs access key ${c.secretAccessKeyId}, not the stored ${stored}${identity?.credentials.iamKeys?.includes(c.secretAccessKeyId) ? '' : ' (its key is gone from IAM: it cannot authenticate)'}.`,
        fix: fixes.attach(o, c.clusterId),
      });
    for (const t of c.tlsSecrets ?? []) {
      const name = t.ref.split('/')[1];
      const byName = org.certificates.find((x) => x.kind === 'server' && x.name === name);
      if (t.serialNumber === null)
        out.push({
          reason: 'tls-secret-missing',
          severity: 'error',
          ...where,
          subject: t.ref,
          message: `The TLS Secret ${t.ref} recorded for cluster ${c.clusterId} is not there.`,
          fix: fixes.attachCert(o, c.clusterId, t.ref, byName),
        });
      else if (!org.certificates.some((x) => x.kind === 'server' && x.serialNumber === t.serialNumber))
        out.push({
          reason: 'tls-secret-stale',
          severity: 'warning',
          ...where,
          subject: t.ref,
          message: `The TLS Secret ${t.ref} on cluster ${c.clusterId} holds certificate ${t.serialNumber}, which the store no longer has (renewed, not injected again).`,
          fix: fixes.attachCert(o, c.clusterId, t.ref, byName),
        });
    }
    if (c.image !== undefined && c.image !== c.expectedImage)
      out.push(
        isOlder(c.image, c.expectedImage)
          ? {
              reason: 'cluster-old-version',
              severity: 'warning',
              ...where,
              message: `Cluster ${c.clusterId} runs ExternalDNS ${c.image}, older than ${c.expectedImage}.`,
              fix: fixes.attach(o, c.clusterId),
            }
          : {
              reason: 'cluster-image-drift',
              severity: 'warning',
              ...where,
              message: `Cluster ${c.clusterId} runs ExternalDNS ${c.image}, not ${c.expectedImage}.`,
              fix: fixes.attach(o, c.clusterId),
            },
      );
  }
}

function tsigStateOf(t: TsigFacts): OrganizationTsigState {
  return {
    zoneExists: t.zoneExists,
    ...(t.serverKey ? { serverKey: t.serverKey } : {}),
    ...(t.storedKey ? { storedKey: t.storedKey } : {}),
    ...(t.otherServerKey ? { otherServerKey: t.otherServerKey } : {}),
    updateKeys: t.updateKeys,
    updateSources: t.updateSources,
    transferKeys: t.transferKeys,
  };
}

/** The PowerDNS backend: the organisation's TSIG key, as zone-manager's planOrganizationTsig judges it. */
function auditTsig(
  org: OrganizationFacts,
  t: TsigFacts,
  state: FleetState,
  zoneId: string | null,
  inUse: boolean,
  out: AuditFinding[],
): void {
  const o = org.organization;
  const where = { organization: o, subject: t.keyName };
  if (!t.zoneExists) {
    if (t.storedKey === undefined && t.serverKey === undefined) return;
    const held = [...(t.storedKey ? ['stored'] : []), ...(t.serverKey ? ['on the server'] : [])].join(
      ' and ',
    );
    out.push({
      reason: 'tsig-key-without-zone',
      severity: 'warning',
      ...where,
      message: `Organisation ${o} has no zone ${org.zoneName}, but its TSIG key ${t.keyName} is ${held}: ${inUse ? 'an ensure creates the zone for it' : "the collector's orphan sweep removes it (or ensure the organisation to bring it back)"}.`,
      fix: inUse ? fixes.ensure(o) : fixes.collect(),
    });
    return;
  }
  if (zoneId === null) return; // a zone zonekeeper does not own (or cannot judge): reported by auditZone
  const previous = t.storedKey?.previousName;
  if (previous !== undefined)
    out.push({
      reason: 'rotation-unfinished',
      severity: 'warning',
      ...where,
      message: `The store still records the previous TSIG key ${previous} of ${o}: a rotation stopped half-way (both keys may update ${org.zoneName} until it finishes).`,
      fix: fixes.rotate(o),
    });
  const plan = planOrganizationTsig(tsigStateOf(t), {
    organization: o,
    zoneName: org.zoneName,
    ...(state.powerdns?.updateSources === undefined ? {} : { updateSources: state.powerdns.updateSources }),
    ...(state.powerdns === undefined ? {} : { allowTransfer: state.powerdns.axfr }),
  });
  const fix = fixes.ensure(o);
  for (const step of plan.steps) {
    switch (step.op) {
      case 'create-key':
        out.push(
          step.reason === 'key-missing'
            ? {
                reason: 'tsig-key-missing',
                severity: 'error',
                ...where,
                message: `PowerDNS has no TSIG key ${t.keyName}${t.storedKey ? ' (the store has it)' : ' and the store has none'}: ExternalDNS's updates of ${org.zoneName} are refused.`,
                fix,
              }
            : step.reason === 'unknown-key'
              ? {
                  reason: 'tsig-key-not-stored',
                  severity: 'error',
                  ...where,
                  message: `PowerDNS has a TSIG key ${t.keyName} that the store does not record${t.storedKey ? ' usably' : ''}: it is not zonekeeper's to adopt, and whoever holds it may update ${org.zoneName}. An ensure replaces it.`,
                  fix,
                }
              : {
                  reason: 'tsig-key-differs',
                  severity: 'error',
                  ...where,
                  message: `PowerDNS's TSIG key ${t.keyName} is not the stored one (${t.serverKey?.algorithm === t.storedKey?.algorithm ? 'another secret' : `algorithm ${t.serverKey?.algorithm}, stored ${t.storedKey?.algorithm}`}): ExternalDNS's updates are refused, and whoever holds the server's secret may update ${org.zoneName}.`,
                  fix,
                },
        );
        break;
      case 'set-update-keys':
        out.push({
          reason: 'tsig-update-permission-drift',
          severity: 'error',
          ...where,
          subject: org.zoneName,
          message:
            step.reason === 'update-keys-missing'
              ? `Zone ${org.zoneName} requires no TSIG key for updates (TSIG-ALLOW-DNSUPDATE is unset): any update from ${t.updateSources.length > 0 ? t.updateSources.join(', ') : "the server's allow-dnsupdate-from"} is accepted without a key.`
              : `Zone ${org.zoneName} may be updated with ${t.updateKeys.join(', ')}, not only with its key ${t.keyName}.`,
          fix,
        });
        break;
      case 'set-update-sources':
        out.push({
          reason: 'tsig-update-sources-drift',
          severity: 'warning',
          ...where,
          subject: org.zoneName,
          message: `Zone ${org.zoneName} takes updates from ${t.updateSources.length > 0 ? t.updateSources.join(', ') : "the server's allow-dnsupdate-from"}, not the configured ${step.networks.join(', ') || '(none)'}.`,
          fix,
        });
        break;
      case 'set-transfer-keys':
        out.push({
          reason: 'tsig-transfer-drift',
          severity: 'warning',
          ...where,
          subject: org.zoneName,
          message: `Zone ${org.zoneName} may be transferred (AXFR) with ${t.transferKeys.join(', ') || 'no key'}, not ${step.keyNames.join(', ') || 'by nobody'} as powerdns.axfr asks.`,
          fix,
        });
        break;
      default:
        break; // store-key, delete-key: part of the create-key finding
    }
  }
}

function auditCertificates(org: OrganizationFacts, now: Date, out: AuditFinding[]): void {
  const o = org.organization;
  for (const c of org.certificates) {
    let renewAt: Date;
    try {
      renewAt = renewalTime(c);
    } catch {
      continue; // an unreadable validity: not a renewal question
    }
    if (now.getTime() < renewAt.getTime()) continue;
    const expired = now.getTime() >= c.notAfter.getTime();
    const what = c.kind === 'ca' ? `The CA of ${o}` : `Certificate ${c.name} of ${o}`;
    out.push({
      reason: expired ? 'certificate-expired' : 'certificate-due',
      severity: expired ? 'error' : 'warning',
      organization: o,
      subject: c.path,
      message: expired
        ? `${what} expired at ${c.notAfter.toISOString()}.`
        : `${what} is due for renewal since ${renewAt.toISOString()} (expires ${c.notAfter.toISOString()}).`,
      fix: c.kind === 'ca' ? fixes.ensure(o) : fixes.issue(o, c),
      at: expired ? c.notAfter : renewAt,
    });
  }
}

function auditCollection(
  org: OrganizationFacts,
  inUse: ReadonlySet<string>,
  now: Date,
  gc: CollectionPolicyOptions | undefined,
  out: AuditFinding[],
): void {
  for (const z of org.managedZones) {
    const decision = decideZoneFate(
      {
        zoneId: z.id,
        managed: true,
        inUse: inUse.has(org.organization),
        protected: z.protected,
        ...(z.createdAt ? { createdAt: z.createdAt } : {}),
      },
      now,
      gc,
    );
    if (decision.action === 'keep') continue;
    const at = decision.action === 'delete' ? now : (decision.eligibleAt as Date);
    out.push({
      reason: 'zone-collectable',
      severity: decision.action === 'delete' ? 'warning' : 'info',
      organization: org.organization,
      subject: z.id,
      message: `${decision.action === 'delete' ? 'The collector deletes' : `The collector deletes at ${at.toISOString()}`} zone ${z.name} (${z.id}) of ${org.organization}, with its identities and secrets: ${decision.message} Register a running cluster in the inventory to keep it.`,
      fix: fixes.collect(),
      at,
    });
  }
}

/**
 * Plans an audit of the fleet. Pure and deterministic: the same state and options give the same
 * findings, in the same order (worst first, then by organisation, cluster, reason and subject), and the
 * order of the organisations in `state` does not matter.
 * @public
 */
export function planAudit(state: FleetState, options: PlanAuditOptions): AuditPlan {
  const { now } = options;
  const out: AuditFinding[] = [];
  const inventory = state.inventory;
  const inUse = new Set(inventory.status === 'read' ? inventory.inUse : []);
  if (inventory.status === 'unreadable')
    out.push({
      reason: 'inventory-unreadable',
      severity: 'warning',
      subject: 'inventory',
      message: `The cluster inventory could not be read (${inventory.message}): the collector deletes nothing until it can (fail closed).`,
      fix: fixes.manual(),
    });
  for (const org of state.organizations) {
    const used = inUse.has(org.organization) || org.attached.length > 0;
    const zoneId = auditZone(org, state.baseDomain, used, now, out);
    if (org.tsig) auditTsig(org, org.tsig, state, zoneId, used, out);
    else auditIdentities(org, state, zoneId, out);
    auditClusters(org, out);
    auditCertificates(org, now, out);
    if (inventory.status === 'read') auditCollection(org, inUse, now, options.gc, out);
  }
  const key = (f: AuditFinding) =>
    [f.organization ?? '', f.clusterId ?? '', f.reason, f.subject, f.message].join('\u0000');
  out.sort((a, b) => {
    const s = SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity];
    if (s !== 0) return s;
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  return {
    now,
    findings: out,
    summary: {
      error: out.filter((f) => f.severity === 'error').length,
      warning: out.filter((f) => f.severity === 'warning').length,
      info: out.filter((f) => f.severity === 'info').length,
    },
  };
}
