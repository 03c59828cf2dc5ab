/**
 * The views of the operator commands — `org list`, `org show`, `org delete`, `cluster list`: a
 * secret-free view of a facade result (the JSON document of `--json`; fields whitelisted, Dates as ISO
 * strings, access key ids masked) and its {@link HumanView} (ages and instants to the second; `-o wide`
 * adds ids and exact instants).
 *
 * @packageDocumentation
 */

import type {
  ClusterSummary,
  OrganizationDeletionResult,
  OrganizationDescription,
  OrganizationSummary,
} from '../results.js';
import { maskAccessKeyId } from './output.js';
import {
  type Block,
  type Cell,
  fields,
  formatAge,
  formatDuration,
  formatInstant,
  formatWhen,
  type HumanView,
  table,
  text,
} from './render.js';
import { stepDetail } from './views.js';

const iso = (d: Date | undefined): string | null => d?.toISOString() ?? null;

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

/**
 * The human view of `org list`: per organisation its status, zone, zone age and clusters; `-o wide`
 * adds the zone id, the zone's creation instant and the IAM users. Ages are measured from `now`.
 */
export function renderOrganizationList(
  view: ReturnType<typeof organizationListView>,
  now: Date | string,
): HumanView {
  if (view.organizations.length === 0) return [text('No organisations on this platform.')];
  return [
    table(
      [
        'Organisation',
        'Status',
        'Zone',
        { header: 'Zone id', wide: true },
        'Age',
        { header: 'Created', wide: true },
        { header: 'IAM users', wide: true },
        'Clusters',
      ],
      view.organizations.map((o): Cell[] => [
        o.organization,
        o.status,
        o.zones.map((z) => z.name),
        o.zones.map((z) => z.id),
        formatAge(o.zones[0]?.createdAt, now),
        formatInstant(o.zones[0]?.createdAt),
        o.userNames,
        o.clusters.length > 0 ? o.clusters : 'none',
      ]),
    ),
  ];
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
    // The PowerDNS backend only (a Route 53 view has no such field): names and booleans, no secret.
    ...(d.tsigKey
      ? {
          tsigKey: {
            name: d.tsigKey.name,
            rotationInFlight: d.tsigKey.previousName !== undefined,
            algorithm: d.tsigKey.algorithm ?? null,
            stored: d.tsigKey.stored,
            onServer: d.tsigKey.onServer,
            matchesStored: d.tsigKey.matchesStored,
            updateKeys: [...d.tsigKey.updateKeys],
            updateKeysOk: d.tsigKey.updateKeysOk,
            updateSources: [...d.tsigKey.updateSources],
          },
        }
      : {}),
    clusters: d.clusters.map((c) => ({
      clusterId: c.clusterId,
      scope: c.scope,
      namespace: c.namespace,
      attachedAt: c.attachedAt.toISOString(),
      tlsSecrets: [...c.tlsSecrets],
      bound: c.bound,
      credentials: c.credentials,
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

function gcText(g: ReturnType<typeof organizationDescriptionView>['garbageCollection'], now: string): string {
  if (g.decision)
    return `${g.decision.action} (${g.decision.reason})${g.decision.eligibleAt ? ` at ${formatWhen(g.decision.eligibleAt, now)}` : ''}: ${g.decision.message}`;
  if (g.inventory === 'not-configured') return 'unknown: pass --inventory to see the collector’s decision';
  if (g.inventory === 'unavailable') return 'unknown: the inventory could not be read';
  return 'no zone';
}

/**
 * The human view of `org show`: the organisation's fields, then its clusters and certificates; `-o wide`
 * adds the zone id, exact creation instants and serial numbers.
 */
export function renderOrganizationDescription(
  view: ReturnType<typeof organizationDescriptionView>,
): HumanView {
  if (!view.exists) return [text(`Organisation ${view.organization} has nothing on this platform.`)];
  const key = view.accessKey;
  const ca = view.certificateAuthority;
  const pairs: (readonly [string, Cell] | readonly [string, Cell, 'wide'])[] = [
    ['Organisation', view.organization],
    ['Zone', view.zone ? view.zone.name : 'none'],
    ['Zone id', view.zone?.id, 'wide'],
    ['Zone age', formatAge(view.zone?.createdAt, view.now)],
    ['Zone created', formatInstant(view.zone?.createdAt), 'wide'],
    ['Protected', view.zone ? (view.zone.protected ? 'yes' : 'no') : undefined],
    ['Name servers', view.zone?.nameServers],
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
        ? `${key.accessKeyId}${key.inIam ? (key.ageSeconds === null ? '' : `, age ${formatDuration(key.ageSeconds * 1000)}`) : ', NOT in IAM'}${key.rotationInFlight ? ', rotation in flight' : ''}`
        : 'none',
    ],
    ['Access key created', formatInstant(key?.createdAt), 'wide'],
    ['CA', ca ? `expires ${formatWhen(ca.notAfter, view.now) ?? 'unknown'}` : 'none'],
    ['CA serial', ca?.serialNumber, 'wide'],
    ['Garbage collection', gcText(view.garbageCollection, view.now)],
  ];
  const tsig = view.tsigKey;
  if (tsig) {
    const problems = [
      ...(tsig.stored ? [] : ['NOT stored']),
      ...(tsig.onServer
        ? tsig.matchesStored || !tsig.stored
          ? []
          : ['server key NOT the stored one']
        : ['NOT on the server']),
      ...(tsig.rotationInFlight ? ['rotation in flight'] : []),
      ...(tsig.updateKeysOk || tsig.rotationInFlight
        ? []
        : [
            tsig.updateKeys.length === 0
              ? 'updates need NO key'
              : `updates also by ${tsig.updateKeys.filter((k) => k !== tsig.name).join(', ') || 'none'}`,
          ]),
    ];
    pairs.push([
      'TSIG key',
      `${tsig.name}${tsig.algorithm ? ` (${tsig.algorithm})` : ''}: ${problems.length === 0 ? 'ok' : problems.join(', ')}`,
    ]);
    pairs.push([
      'Update sources',
      tsig.updateSources.length > 0 ? tsig.updateSources : 'any the server allows',
    ]);
  }
  if (view.otherZones.length > 0)
    pairs.push([
      'Other zones of the name',
      view.otherZones.map((z) => `${z.id}${z.ours ? ' (duplicate)' : ' (not ours)'}`),
    ]);
  if (view.clusterIdentities.length > 0) pairs.push(['Cluster identities', view.clusterIdentities]);
  const blocks: Block[] = [fields(pairs)];
  blocks.push(text('Clusters:'));
  blocks.push(
    view.clusters.length === 0
      ? text('none')
      : table(
          [
            'Cluster',
            'Scope',
            'Namespace',
            'Age',
            { header: 'Attached at', wide: true },
            'TLS Secrets',
            'Bound',
          ],
          view.clusters.map((c): Cell[] => [
            c.clusterId,
            c.scope,
            c.namespace,
            formatAge(c.attachedAt, view.now),
            formatInstant(c.attachedAt),
            c.tlsSecrets,
            c.bound ? 'yes' : 'NO (run the attach or detach again)',
          ]),
        ),
  );
  blocks.push(text('Certificates:'));
  blocks.push(
    view.certificates.length === 0
      ? text('none')
      : table(
          ['Name', 'DNS names', { header: 'Serial', wide: true }, 'Not after'],
          view.certificates.map((c): Cell[] => [
            c.name,
            c.dnsNames,
            c.serialNumber,
            formatInstant(c.notAfter),
          ]),
        ),
  );
  return blocks;
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
        case 'delete-keyless':
          return s.steps.map((k) => ({
            stage: 'keyless',
            op: k.op,
            detail:
              'roleName' in k
                ? `role=${k.roleName}${'policyName' in k ? ` policy=${k.policyName}` : ''}`
                : 'arn' in k
                  ? k.arn
                  : 'associationId' in k
                    ? `cluster=${k.clusterName} association=${k.associationId}`
                    : '',
          }));
        case 'delete-tsig-key':
          return [{ stage: 'tsig-key', op: s.op, detail: `key=${s.keyName}` }];
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

/** The human view of `org delete`: the steps done (or planned), and what was kept. */
export function renderOrganizationDeletion(view: ReturnType<typeof organizationDeletionView>): HumanView {
  if (!view.existed)
    return [text(`Nothing to delete: organisation ${view.organization} has nothing on this platform.`)];
  const blocks: Block[] = [
    text(
      view.dryRun
        ? `Would delete organisation ${view.organization} (dry run, nothing changed):`
        : `Deleted organisation ${view.organization}:`,
    ),
    table(
      ['Stage', 'Step', 'Detail'],
      view.steps.map((s) => [s.stage, s.op, s.detail]),
    ),
  ];
  const kept = [...view.keptZones.map((z) => `zone ${z}`), ...view.keptSecrets];
  if (kept.length > 0) blocks.push(text(`Kept (not zonekeeper's): ${kept.join(', ')}.`));
  return blocks;
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

/**
 * The human view of `cluster list`: per cluster its attachment, scope, namespace, age (from `now`) and
 * what the inventory says; `-o wide` adds the exact attachment instant.
 */
export function renderClusterList(view: ReturnType<typeof clusterListView>, now: Date | string): HumanView {
  if (view.clusters.length === 0) return [text('No clusters.')];
  return [
    table(
      [
        'Organisation',
        'Cluster',
        'Attached',
        'Scope',
        'Namespace',
        'Age',
        { header: 'Attached at', wide: true },
        'Inventory',
      ],
      view.clusters.map((c): Cell[] => [
        c.organization,
        c.clusterId,
        c.attached ? 'yes' : c.bound ? 'bound only (interrupted: attach or detach again)' : 'no',
        c.scope,
        c.namespace,
        formatAge(c.attachedAt, now),
        formatInstant(c.attachedAt),
        c.inventory,
      ]),
    ),
  ];
}
