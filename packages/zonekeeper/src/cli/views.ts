/**
 * What each command shows: a secret-free view of a facade result (the document of `-o json|yaml`) and
 * its {@link HumanView} (tables and fields, laid out at print time; `wide` columns for `-o wide`). Views
 * whitelist fields; nothing is copied wholesale from a result (an `AttachResult` carries the applied
 * objects, credentials Secret included). Instants are ISO strings with milliseconds in the view (the
 * documents are unchanged) and to the second, or as ages, in the human view.
 *
 * @packageDocumentation
 */

import type { EnsureCertificateResult } from '@zonekeeper/cert-issuer';
import { describeRef, type ObjectRef } from '@zonekeeper/core';
import type {
  AttachResult,
  CollectionResult,
  DetachResult,
  IssueCertificateResult,
  OrganizationResult,
  RotationResult,
} from '../results.js';
import { maskAccessKeyId } from './output.js';
import {
  type Block,
  type Cell,
  fields,
  formatAge,
  formatInstant,
  formatWhen,
  type HumanView,
  table,
  text,
} from './render.js';

/** One planned or applied step, flattened for display. */
export interface StepView {
  readonly stage: string;
  readonly op: string;
  readonly detail: string;
}

const DETAIL_FIELDS = [
  'zoneName',
  'zoneId',
  'recordName',
  'userName',
  'policyName',
  'name',
  'namespace',
  'secretName',
  'cluster',
  'commonName',
  'change',
  'reason',
] as const;

function isRef(value: unknown): value is ObjectRef {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ObjectRef).kind === 'string' &&
    typeof (value as ObjectRef).name === 'string'
  );
}

/** A short, secret-free description of a step: its ref and a few identifying scalar fields. */
export function stepDetail(step: { readonly op: string }): string {
  const s = step as unknown as Record<string, unknown>;
  const parts: string[] = [];
  if (isRef(s.ref)) parts.push(describeRef(s.ref));
  for (const k of DETAIL_FIELDS) {
    const v = s[k];
    if (typeof v === 'string' || typeof v === 'number') parts.push(`${k}=${v}`);
  }
  const ids = s.accessKeyIds;
  if (Array.isArray(ids)) parts.push(`accessKeyIds=${ids.map((x) => maskAccessKeyId(String(x))).join(',')}`);
  return parts.join(' ');
}

function steps(stage: string, list: readonly { readonly op: string }[]): StepView[] {
  return list.map((step) => ({ stage, op: step.op, detail: stepDetail(step) }));
}

function stepsTable(list: readonly StepView[], dryRun: boolean): HumanView {
  if (list.length === 0) return [text('Nothing to do: everything is already in place.')];
  return [
    text(dryRun ? 'Planned steps (dry run, nothing changed):' : 'Steps:'),
    table(
      ['Stage', 'Step', 'Detail'],
      list.map((s) => [s.stage, s.op, s.detail]),
    ),
  ];
}

function date(d: Date | undefined): string | undefined {
  return d?.toISOString();
}

// ───────────────────────────── org ensure ─────────────────────────────

/** The view of `org ensure`. */
export function organizationView(r: OrganizationResult) {
  return {
    organization: r.organization,
    dryRun: r.dryRun,
    zone: r.zone ? { id: r.zone.id, name: r.zone.name, nameServers: [...r.zone.nameServers] } : null,
    userName: r.userName ?? null,
    accessKeyId: maskAccessKeyId(r.accessKeyId) ?? null,
    // The PowerDNS backend: the TSIG key's name (never its secret).
    ...(r.tsigKeyName === undefined ? {} : { tsigKeyName: r.tsigKeyName }),
    duplicateZones: [...r.duplicateZones],
    steps: organizationSteps(r),
  };
}

function organizationSteps(r: OrganizationResult): StepView[] {
  return [
    ...steps('zone', r.plans.zone),
    ...steps('identity', r.plans.identity),
    ...steps('credentials', r.plans.credentials),
    ...steps('certificate authority', r.plans.certificateAuthority),
    ...steps('tsig key', r.plans.tsigKey ?? []),
  ];
}

/** Tables of `org ensure`. */
export function renderOrganization(view: ReturnType<typeof organizationView>): HumanView {
  return [
    fields([
      ['Organisation', view.organization],
      ['Zone', view.zone?.name ?? '(created on apply)'],
      ['Zone id', view.zone?.id],
      ['Name servers', view.zone?.nameServers],
      ['IAM user', view.userName],
      ['Access key id', view.accessKeyId],
      ...(view.tsigKeyName
        ? [['TSIG key', view.tsigKeyName] as const satisfies readonly [string, Cell]]
        : []),
      ...(view.duplicateZones.length > 0
        ? [['Duplicate zones', view.duplicateZones] as const satisfies readonly [string, Cell]]
        : []),
    ]),
    ...stepsTable(view.steps, view.dryRun),
  ];
}

// ───────────────────────────── cluster attach / detach ─────────────────────────────

function certificateView(name: string, c: EnsureCertificateResult) {
  return {
    name,
    dnsNames: c.certificate ? [...c.certificate.dnsNames] : [],
    serialNumber: c.certificate?.serialNumber ?? null,
    notBefore: date(c.certificate?.notBefore) ?? null,
    notAfter: date(c.certificate?.notAfter) ?? null,
    renewAt: date(c.certificate?.renewAt) ?? null,
  };
}

/** The view of `cluster attach`. */
export function attachView(r: AttachResult, certificateNames: readonly string[]) {
  const org = organizationView(r.organizationResult);
  return {
    organization: r.organization,
    clusterId: r.clusterId,
    dryRun: r.dryRun,
    zone: org.zone,
    accessKeyId: maskAccessKeyId(r.accessKeyId) ?? null,
    credentials: r.credentials,
    roleArn: r.roleArn ?? null,
    ...(r.tsigKeyName === undefined ? {} : { tsigKeyName: r.tsigKeyName }),
    rollout: r.externalDns?.rollout
      ? {
          generation: r.externalDns.rollout.generation,
          observedGeneration: r.externalDns.rollout.observedGeneration,
          replicas: r.externalDns.rollout.replicas,
          availableReplicas: r.externalDns.rollout.availableReplicas,
        }
      : null,
    certificates: r.certificates.map((c, i) => certificateView(certificateNames[i] ?? `#${i + 1}`, c)),
    clusterUserName: r.clusterIdentity?.userName ?? null,
    steps: [
      ...org.steps,
      ...(r.clusterIdentity
        ? [
            ...steps('cluster identity', r.clusterIdentity.identity),
            ...steps('cluster credentials', r.clusterIdentity.credentials),
          ]
        : []),
      ...steps('cluster', r.plan),
      ...steps('externaldns', r.externalDns?.plan.steps ?? []),
      ...r.certificates.flatMap((c, i) => [
        ...steps(`certificate ${certificateNames[i] ?? i + 1}`, c.authority.plan.steps),
        ...steps(`certificate ${certificateNames[i] ?? i + 1}`, c.plan.steps),
      ]),
    ],
  };
}

/** Tables of `cluster attach`. */
export function renderAttach(view: ReturnType<typeof attachView>): HumanView {
  const blocks: Parameters<typeof fields>[0] = [
    ['Organisation', view.organization],
    ['Cluster', view.clusterId],
    ['Zone', view.zone ? `${view.zone.name} (${view.zone.id})` : '(created on apply)'],
    ...(view.clusterUserName ? [['Cluster IAM user', view.clusterUserName] as const] : []),
    ...(view.roleArn
      ? ([
          ['Credentials', `${view.credentials} (no key)`],
          ['IAM role', view.roleArn],
        ] as const)
      : view.tsigKeyName
        ? ([['TSIG key', view.tsigKeyName]] as const)
        : ([['Access key id', view.accessKeyId]] as const)),
    [
      'ExternalDNS rollout',
      view.rollout
        ? `${view.rollout.availableReplicas}/${view.rollout.replicas} available (generation ${view.rollout.observedGeneration})`
        : undefined,
    ],
  ];
  return [
    fields(blocks),
    ...stepsTable(view.steps, view.dryRun),
    ...(view.certificates.length > 0
      ? [
          text('Certificates:'),
          table(
            [
              'Name',
              'DNS names',
              { header: 'Serial', wide: true },
              { header: 'Not before', wide: true },
              'Not after',
              { header: 'Renew at', wide: true },
            ],
            view.certificates.map((c) => [
              c.name,
              c.dnsNames,
              c.serialNumber,
              formatInstant(c.notBefore),
              formatInstant(c.notAfter),
              formatInstant(c.renewAt),
            ]),
          ),
        ]
      : []),
  ];
}

/** The view of `cluster detach`. */
export function detachView(r: DetachResult) {
  return {
    organization: r.organization,
    clusterId: r.clusterId,
    dryRun: r.dryRun,
    uninstalled: r.uninstalled.map((s) => describeRef(s.ref)),
    deletedIdentities: [...r.deletedIdentities],
    deletedSecrets: [...r.deletedSecrets],
  };
}

/** Tables of `cluster detach`. */
export function renderDetach(view: ReturnType<typeof detachView>): HumanView {
  const rows: Cell[][] = [
    ...view.uninstalled.map((o): Cell[] => ['Kubernetes object', o]),
    ...view.deletedIdentities.map((u): Cell[] => ['IAM identity', u]),
    ...view.deletedSecrets.map((p): Cell[] => ['Vault secret', p]),
  ];
  const head = `${view.dryRun ? 'Would remove (dry run, nothing changed)' : 'Removed'} for cluster ${view.clusterId} of ${view.organization}:`;
  return rows.length === 0
    ? [text(`Nothing to remove for cluster ${view.clusterId} of ${view.organization}.`)]
    : [text(head), table(['What', 'Name'], rows)];
}

// ───────────────────────────── credentials rotate ─────────────────────────────

/** The view of `credentials rotate`. */
export function rotationView(r: RotationResult) {
  return {
    organization: r.organization,
    rotations: r.rotations.map((x) => ({
      userName: x.userName,
      clusterId: x.clusterId ?? null,
      outcome: x.outcome,
      newAccessKeyId: maskAccessKeyId(x.newAccessKeyId),
      deletedAccessKeyIds: x.deletedAccessKeyIds.map((id) => maskAccessKeyId(id) as string),
      clustersUpdated: [...x.clustersUpdated],
    })),
    ...(r.tsigKey
      ? {
          tsigKey: {
            outcome: r.tsigKey.outcome,
            keyName: r.tsigKey.keyName,
            previousKeyName: r.tsigKey.previousKeyName,
            deletedKeyNames: [...r.tsigKey.deletedKeyNames],
            clustersUpdated: [...r.tsigKey.clustersUpdated],
          },
        }
      : {}),
  };
}

/** Tables of `credentials rotate`. */
export function renderRotation(view: ReturnType<typeof rotationView>): HumanView {
  const t = view.tsigKey;
  if (t)
    return [
      table(
        ['TSIG key', 'Outcome', 'Replaced', { header: 'Deleted keys', wide: true }, 'Clusters updated'],
        [
          [
            t.keyName,
            t.outcome,
            t.previousKeyName,
            t.deletedKeyNames,
            t.clustersUpdated.length > 0 ? t.clustersUpdated : 'none',
          ],
        ],
      ),
    ];
  if (view.rotations.length === 0) return [text(`No credentials to rotate for ${view.organization}.`)];
  return [
    table(
      [
        'IAM user',
        'Cluster',
        'Outcome',
        'New key',
        { header: 'Deleted keys', wide: true },
        'Clusters updated',
      ],
      view.rotations.map((r) => [
        r.userName,
        r.clusterId,
        r.outcome,
        r.newAccessKeyId,
        r.deletedAccessKeyIds,
        r.clustersUpdated.length > 0 ? r.clustersUpdated : 'none',
      ]),
    ),
  ];
}

// ───────────────────────────── gc plan / run ─────────────────────────────

/** The view of `gc plan` and `gc run`. */
export function collectionView(r: CollectionResult) {
  const decisions = new Map(r.plan.decisions.map((d) => [d.zoneId, d]));
  const results = new Map(r.results.map((x) => [x.zoneId, x]));
  return {
    now: r.now.toISOString(),
    dryRun: r.dryRun,
    zones: r.zones.map((z) => {
      const d = decisions.get(z.id);
      const x = results.get(z.id);
      return {
        zoneId: z.id,
        name: z.name,
        organization: z.organization,
        createdAt: date(z.createdAt) ?? null,
        protected: z.protected,
        action: d?.action ?? null,
        reason: d?.reason ?? null,
        message: d?.message ?? null,
        nextChargeAt: date(d?.nextChargeAt) ?? null,
        eligibleAt: date(d?.eligibleAt) ?? null,
        result: x
          ? {
              status: x.status,
              reason: x.reason,
              message: x.message,
              error: x.error ? { code: x.error.code, message: x.error.message } : null,
            }
          : null,
      };
    }),
    toDelete: [...r.plan.toDelete],
    nextReviewAt: date(r.nextReviewAt) ?? null,
    delegationsRestored: [...r.delegationsRestored],
    orphans: {
      identities: [...r.orphans.identities],
      secretPaths: [...r.orphans.secretPaths],
      busy: [...r.orphans.busy],
    },
  };
}

/**
 * Tables of `gc plan` and `gc run`: per zone its age and decision; `-o wide` adds the zone id, the
 * creation instant, the next charge and the decision's message.
 */
export function renderCollection(view: ReturnType<typeof collectionView>, run: boolean): HumanView {
  const blocks: Block[] = [
    text(
      `Managed zones at ${formatInstant(view.now)}${view.dryRun && run ? ' (dry run, nothing deleted)' : ''}:`,
    ),
  ];
  if (view.zones.length === 0) blocks.push(text('No managed zones.'));
  else {
    const withResult = run && !view.dryRun;
    blocks.push(
      table(
        [
          'Zone',
          { header: 'Zone id', wide: true },
          'Organisation',
          'Age',
          { header: 'Created', wide: true },
          'Decision',
          'Reason',
          'When',
          { header: 'Next charge', wide: true },
          ...(withResult ? ['Result'] : []),
          { header: 'Message', wide: true },
        ],
        view.zones.map((z) => [
          z.name,
          z.zoneId,
          z.organization,
          formatAge(z.createdAt, view.now),
          formatInstant(z.createdAt),
          z.action,
          z.reason,
          z.action === 'defer'
            ? `delete at ${formatWhen(z.eligibleAt, view.now)}`
            : z.action === 'delete'
              ? 'now'
              : undefined,
          formatInstant(z.nextChargeAt),
          ...(withResult
            ? [z.result ? `${z.result.status}${z.result.reason ? `: ${z.result.reason}` : ''}` : undefined]
            : []),
          z.result?.error?.message ?? z.message,
        ]),
      ),
    );
  }
  if (view.orphans.identities.length + view.orphans.secretPaths.length > 0)
    blocks.push(
      text(
        `Leftovers of organisations without a zone or a running cluster ${view.dryRun ? 'that would be removed' : 'removed'}: ${[...view.orphans.identities, ...view.orphans.secretPaths].join(', ')}.`,
      ),
    );
  blocks.push(
    text(
      view.nextReviewAt
        ? `Next review: ${formatWhen(view.nextReviewAt, view.now)}.`
        : 'Next review: nothing deferred.',
    ),
  );
  return blocks;
}

// ───────────────────────────── cert issue ─────────────────────────────

/** The view of `cert issue` (PEMs and file paths are added by the command). */
export function certificateIssueView(r: IssueCertificateResult) {
  return {
    organization: r.organization,
    name: r.name,
    dryRun: r.dryRun,
    certificate: r.certificate
      ? {
          dnsNames: [...r.certificate.dnsNames],
          serialNumber: r.certificate.serialNumber,
          notBefore: r.certificate.notBefore.toISOString(),
          notAfter: r.certificate.notAfter.toISOString(),
          renewAt: r.certificate.renewAt.toISOString(),
          ...(r.certificate.issuer === undefined ? {} : { issuer: r.certificate.issuer }),
        }
      : null,
    steps: [
      ...steps('certificate authority', r.plans.certificateAuthority),
      ...steps('certificate', r.plans.certificate),
      ...steps('acme', r.plans.acme ?? []),
    ],
  };
}

/** Tables of `cert issue`. */
export function renderCertificateIssue(
  view: ReturnType<typeof certificateIssueView>,
  files: Readonly<Record<string, string>> | undefined,
): HumanView {
  const c = view.certificate;
  return [
    fields([
      ['Organisation', view.organization],
      ['Certificate', view.name],
      ['DNS names', c?.dnsNames ?? '(issued on apply)'],
      ['Serial', c?.serialNumber],
      ['Not before', formatInstant(c?.notBefore)],
      ['Not after', formatInstant(c?.notAfter)],
      ['Renew at', formatInstant(c?.renewAt)],
      ...(c?.issuer === undefined ? [] : [['Issuer', c.issuer] as const]),
      ...Object.entries(files ?? {}).map(([k, v]) => [`File ${k}`, v] as const),
    ]),
    ...stepsTable(view.steps, view.dryRun),
  ];
}
