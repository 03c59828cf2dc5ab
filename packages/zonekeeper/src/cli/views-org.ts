/**
 * The views of the operator commands — `org list`, `org show`, `org delete`, `cluster list`: a
 * secret-free view of a facade result (the JSON document of `--json`; fields whitelisted, Dates as ISO
 * strings, access key ids masked) and its rendering as tables.
 *
 * @packageDocumentation
 */

import type {
  ClusterSummary,
  OrganizationDeletionResult,
  OrganizationDescription,
  OrganizationSummary,
} from '../results.js';
import { type Cell, maskAccessKeyId, renderFields, renderTable } from './output.js';
import { stepDetail } from './views.js';

const iso = (d: Date | undefined): string | null => d?.toISOString() ?? null;

/** A duration in days and hours, e.g. `3d 4h`. */
export function formatAge(ms: number): string {
  const hours = Math.floor(ms / 3_600_000);
  const days = Math.floor(hours / 24);
  return days > 0 ? `${days}d ${hours % 24}h` : `${hours}h ${Math.floor((ms % 3_600_000) / 60_000)}m`;
}

// ───────────────────────────── org list ─────────────────────────────

/** The view of `org list`. */
export function organizationListView(list: readonly OrganizationSummary[]) {
  return {
    organizations: list.map((o) => ({
      organization: o.organization,
      status: o.status,
      zones: o.zones.map((z) => ({ id: z.id, name: z.name, createdAt: iso(z.createdAt) })),
      userNames: [...o.userNames],
      clusters: [...o.clusters],
    })),
  };
}

/** Table of `org list`. */
export function renderOrganizationList(view: ReturnType<typeof organizationListView>): string {
  if (view.organizations.length === 0) return 'No organisations on this platform.';
  return renderTable(
    ['Organisation', 'Status', 'Zone', 'Created', 'IAM users', 'Clusters'],
    view.organizations.map((o) => [
      o.organization,
      o.status,
      o.zones.map((z) => `${z.name} (${z.id})`).join('\n'),
      o.zones[0]?.createdAt,
      o.userNames.join('\n'),
      o.clusters.join('\n') || 'none',
    ]),
  );
}

// ───────────────────────────── org show ─────────────────────────────

/** The view of `org show`. */
export function organizationDescriptionView(d: OrganizationDescription) {
  const decision = d.garbageCollection.decision;
  return {
    organization: d.organization,
    zoneName: d.zoneName,
    now: d.now.toISOString(),
    exists: d.exists,
    zone: d.zone
      ? {
          id: d.zone.id,
          name: d.zone.name,
          nameServers: [...d.zone.nameServers],
          createdAt: iso(d.zone.createdAt),
          protected: d.zone.protected,
        }
      : null,
    otherZones: d.otherZones.map((z) => ({ id: z.id, ours: z.ours })),
    delegation: { state: d.delegation.state, nameServers: [...d.delegation.nameServers] },
    identity: d.identity
      ? { userName: d.identity.userName, policyOk: d.identity.policyOk, problem: d.identity.problem ?? null }
      : null,
    accessKey: d.accessKey
      ? {
          accessKeyId: maskAccessKeyId(d.accessKey.accessKeyId) as string,
          inIam: d.accessKey.inIam,
          createdAt: iso(d.accessKey.createdAt),
          ageSeconds: d.accessKey.ageMs === undefined ? null : Math.floor(d.accessKey.ageMs / 1000),
          rotationInFlight: d.accessKey.previousAccessKeyId !== undefined,
        }
      : null,
    clusters: d.clusters.map((c) => ({
      clusterId: c.clusterId,
      scope: c.scope,
      namespace: c.namespace,
      attachedAt: c.attachedAt.toISOString(),
      tlsSecrets: [...c.tlsSecrets],
      bound: c.bound,
    })),
    clusterIdentities: [...d.clusterIdentities],
    certificateAuthority: d.certificateAuthority
      ? {
          serialNumber: d.certificateAuthority.serialNumber ?? null,
          notAfter: iso(d.certificateAuthority.notAfter),
        }
      : null,
    certificates: d.certificates.map((c) => ({
      name: c.name,
      dnsNames: [...c.dnsNames],
      serialNumber: c.serialNumber ?? null,
      notAfter: iso(c.notAfter),
    })),
    garbageCollection: {
      inventory: d.garbageCollection.inventory,
      inUse: d.garbageCollection.inUse ?? null,
      decision: decision
        ? {
            action: decision.action,
            reason: decision.reason,
            message: decision.message,
            eligibleAt: iso(decision.eligibleAt),
            nextChargeAt: iso(decision.nextChargeAt),
          }
        : null,
    },
  };
}

function gcText(g: ReturnType<typeof organizationDescriptionView>['garbageCollection']): string {
  if (g.decision)
    return `${g.decision.action} (${g.decision.reason})${g.decision.eligibleAt ? ` at ${g.decision.eligibleAt}` : ''}: ${g.decision.message}`;
  if (g.inventory === 'not-configured') return 'unknown: pass --inventory to see the collector’s decision';
  if (g.inventory === 'unavailable') return 'unknown: the inventory could not be read';
  return 'no zone';
}

/** Tables of `org show`. */
export function renderOrganizationDescription(view: ReturnType<typeof organizationDescriptionView>): string {
  if (!view.exists) return `Organisation ${view.organization} has nothing on this platform.`;
  const key = view.accessKey;
  const fields: [string, Cell][] = [
    ['Organisation', view.organization],
    ['Zone', view.zone ? `${view.zone.name} (${view.zone.id})` : 'none'],
    ['Zone created', view.zone?.createdAt],
    ['Protected', view.zone ? (view.zone.protected ? 'yes' : 'no') : undefined],
    ['Name servers', view.zone?.nameServers.join('\n')],
    [
      'Delegation',
      `${view.delegation.state}${view.delegation.state === 'foreign' ? `: ${view.delegation.nameServers.join(', ')}` : ''}`,
    ],
    [
      'IAM user',
      view.identity
        ? `${view.identity.userName}${view.identity.policyOk ? ' (policy ok)' : ` (policy NOT ok: ${view.identity.problem})`}`
        : 'none',
    ],
    [
      'Access key',
      key
        ? `${key.accessKeyId}${key.inIam ? `, created ${key.createdAt}, age ${formatAge((key.ageSeconds ?? 0) * 1000)}` : ', NOT in IAM'}${key.rotationInFlight ? ', rotation in flight' : ''}`
        : 'none',
    ],
    [
      'CA',
      view.certificateAuthority
        ? `serial ${view.certificateAuthority.serialNumber}, not after ${view.certificateAuthority.notAfter}`
        : 'none',
    ],
    ['Garbage collection', gcText(view.garbageCollection)],
  ];
  if (view.otherZones.length > 0)
    fields.push([
      'Other zones of the name',
      view.otherZones.map((z) => `${z.id}${z.ours ? ' (duplicate)' : ' (not ours)'}`).join('\n'),
    ]);
  if (view.clusterIdentities.length > 0)
    fields.push(['Cluster identities', view.clusterIdentities.join('\n')]);
  let text = renderFields(fields);
  text += `\nClusters:\n${
    view.clusters.length === 0
      ? 'none'
      : renderTable(
          ['Cluster', 'Scope', 'Namespace', 'Attached', 'TLS Secrets', 'Bound'],
          view.clusters.map((c) => [
            c.clusterId,
            c.scope,
            c.namespace,
            c.attachedAt,
            c.tlsSecrets.join('\n'),
            c.bound ? 'yes' : 'NO (run the attach or detach again)',
          ]),
        )
  }`;
  text += `\nCertificates:\n${
    view.certificates.length === 0
      ? 'none'
      : renderTable(
          ['Name', 'DNS names', 'Serial', 'Not after'],
          view.certificates.map((c) => [c.name, c.dnsNames.join('\n'), c.serialNumber, c.notAfter]),
        )
  }`;
  return text;
}

// ───────────────────────────── org delete ─────────────────────────────

/** One step of an offboarding, flattened for display. */
export interface DeletionStepView {
  readonly stage: string;
  readonly op: string;
  readonly detail: string;
}

/** The view of `org delete`. */
export function organizationDeletionView(r: OrganizationDeletionResult) {
  return {
    organization: r.organization,
    dryRun: r.dryRun,
    existed: r.existed,
    steps: r.plan.flatMap((s): DeletionStepView[] => {
      switch (s.op) {
        case 'delete-organization-zone':
          return s.steps.map((z) => ({ stage: `zone ${s.zoneId}`, op: z.op, detail: stepDetail(z) }));
        case 'delete-identity':
          return s.steps.map((i) => ({ stage: `identity ${s.userName}`, op: i.op, detail: stepDetail(i) }));
        case 'delete-secrets':
          return [{ stage: 'secrets', op: s.op, detail: `${s.paths.length} secret(s)` }];
        case 'unbind-cluster':
          return [{ stage: 'clusters', op: s.op, detail: `cluster=${s.clusterId}` }];
        case 'forget-lock':
          return [{ stage: 'lock', op: s.op, detail: s.path }];
      }
      return [];
    }),
    deletedZones: [...r.deletedZones],
    deletedIdentities: [...r.deletedIdentities],
    deletedSecrets: [...r.deletedSecrets],
    keptZones: [...r.keptZones],
    keptSecrets: [...r.keptSecrets],
  };
}

/** Tables of `org delete`. */
export function renderOrganizationDeletion(view: ReturnType<typeof organizationDeletionView>): string {
  if (!view.existed)
    return `Nothing to delete: organisation ${view.organization} has nothing on this platform.`;
  let text = `${view.dryRun ? `Would delete organisation ${view.organization} (dry run, nothing changed):` : `Deleted organisation ${view.organization}:`}\n${renderTable(
    ['Stage', 'Step', 'Detail'],
    view.steps.map((s) => [s.stage, s.op, s.detail]),
  )}`;
  const kept = [...view.keptZones.map((z) => `zone ${z}`), ...view.keptSecrets];
  if (kept.length > 0) text += `\nKept (not zonekeeper's): ${kept.join(', ')}.`;
  return text;
}

// ───────────────────────────── cluster list ─────────────────────────────

/** The view of `cluster list`. */
export function clusterListView(list: readonly ClusterSummary[]) {
  return {
    clusters: list.map((c) => ({
      organization: c.organization,
      clusterId: c.clusterId,
      attached: c.attached,
      bound: c.bound,
      scope: c.scope ?? null,
      namespace: c.namespace ?? null,
      attachedAt: iso(c.attachedAt),
      inventory: c.inventory,
    })),
  };
}

/** Table of `cluster list`. */
export function renderClusterList(view: ReturnType<typeof clusterListView>): string {
  if (view.clusters.length === 0) return 'No clusters.';
  return renderTable(
    ['Organisation', 'Cluster', 'Attached', 'Scope', 'Namespace', 'Attached at', 'Inventory'],
    view.clusters.map((c) => [
      c.organization,
      c.clusterId,
      c.attached ? 'yes' : c.bound ? 'bound only (interrupted: attach or detach again)' : 'no',
      c.scope,
      c.namespace,
      c.attachedAt,
      c.inventory,
    ]),
  );
}
