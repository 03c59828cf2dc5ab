/**
 * ExternalDNS of one attached cluster: its render options (platform defaults, then the settings
 * recorded when the cluster was attached), validation of those settings before anything is written,
 * and publishing a key (render, server-side apply, rollout).
 *
 * @internal
 * @packageDocumentation
 */

import {
  type CallOptions,
  invalidInput,
  isZonekeeperError,
  type KubernetesObject,
  ZONEKEEPER_MANAGER,
  ZonekeeperLabels,
} from '@zonekeeper/core';
import {
  applyExternalDns,
  DEFAULT_TXT_PREFIX,
  deployedTxtPrefix,
  type ExternalDnsOptions,
  type KeylessCredentials,
  type Rfc2136TsigAlgorithm,
  renderExternalDns,
  resolveExternalDnsOptions,
} from '@zonekeeper/externaldns-deployer';
import { clusterRecordNames } from '@zonekeeper/iam-scoper';
import { readAttachment, readClusterSettings } from '@zonekeeper/vault-keys';
import type { ExternalDnsDefaults, IdentityScope } from '../config.js';
import type { Context } from '../context.js';

/** The ExternalDNS settings a cluster records at attach (secret-free, JSON). @internal */
export interface RecordedClusterSettings {
  readonly externalDns: ExternalDnsDefaults;
  /** The cert-manager mode's settings (absent: `zonekeeper` mode). */
  readonly certManager?: unknown;
}

const OVERRIDE_KEYS: readonly (keyof ExternalDnsDefaults)[] = [
  'image',
  'namespace',
  'createNamespace',
  'policy',
  'interval',
  'sources',
  'region',
  'txtPrefix',
  'annotationPrefix',
  'zonesCacheDuration',
  'extraArgs',
  'rolloutTimeoutMs',
];

/** The overrides worth recording: known keys, defined values, in a stable order. @internal */
export function normalizeOverrides(overrides: ExternalDnsDefaults | undefined): ExternalDnsDefaults {
  if (overrides === undefined) return {};
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides))
    throw invalidInput('externalDns must be an object of ExternalDNS settings.');
  const unknown = Object.keys(overrides).filter((k) => !(OVERRIDE_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0)
    throw invalidInput(
      `externalDns: unknown setting${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}; known: ${OVERRIDE_KEYS.join(', ')}.`,
    );
  const out: Record<string, unknown> = {};
  for (const k of OVERRIDE_KEYS) if (overrides[k] !== undefined) out[k] = overrides[k];
  return out as ExternalDnsDefaults;
}

/** Which cluster's ExternalDNS, and with which identity's key it runs. @internal */
export interface ExternalDnsTarget {
  readonly organization: string;
  readonly clusterId: string;
  /** `cluster`: the key is the cluster identity's, which may write `<cluster>.<zone>` and below only. */
  readonly scope: IdentityScope;
}

/** An organisation's TSIG key as ExternalDNS signs with it (the PowerDNS backend). @internal */
export interface ClusterTsigKey {
  readonly name: string;
  readonly algorithm: string;
  readonly secret: string;
}

/** A key a cluster's ExternalDNS runs with: an IAM access key (Route 53) or the organisation's TSIG key. @internal */
export type ClusterKey = { readonly accessKeyId: string; readonly secretAccessKey: string } | ClusterTsigKey;

/** What a cluster's ExternalDNS runs with: a key, or a role (keyless, Route 53 only). @internal */
export type ClusterRunCredentials = ClusterKey | KeylessCredentials;

/** Whether credentials are a TSIG key. @internal */
export function isTsigKey(key: ClusterRunCredentials): key is ClusterTsigKey {
  return 'algorithm' in key && 'secret' in key && !('mode' in key);
}

/** How credentials are named in logs and results: access key id, TSIG key name or role, never a secret. @internal */
export function keyLabel(key: ClusterRunCredentials): string {
  if ('mode' in key)
    return `${key.mode} role ${'roleArn' in key && key.roleArn ? key.roleArn : '(association)'}`;
  return isTsigKey(key) ? `TSIG key ${key.name}` : `access key ${key.accessKeyId}`;
}

/** The provider part of the render options: Route 53 with a key or a role, or rfc2136 with the TSIG key. */
function providerOptions(
  ctx: Context,
  zone: { readonly id: string; readonly name: string },
  key: ClusterRunCredentials,
  o: ExternalDnsDefaults,
) {
  if (!ctx.powerdns || !isTsigKey(key)) {
    if (isTsigKey(key)) throw invalidInput('A TSIG key needs the powerdns backend.');
    if (ctx.powerdns)
      throw invalidInput('The powerdns backend renders rfc2136 with a TSIG key, not AWS credentials.');
    return {
      zoneId: zone.id,
      credentials:
        'mode' in key ? key : { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
      ...(o.region ? { region: o.region } : {}),
      ...(o.zonesCacheDuration ? { zonesCacheDuration: o.zonesCacheDuration } : {}),
    };
  }
  if (o.region !== undefined || o.zonesCacheDuration !== undefined)
    throw invalidInput(
      'externalDns.region and externalDns.zonesCacheDuration are Route 53 settings; the powerdns backend renders rfc2136.',
    );
  return {
    rfc2136: {
      host: ctx.powerdns.dnsUpdate.host,
      port: ctx.powerdns.dnsUpdate.port,
      tsigKey: { name: key.name, algorithm: key.algorithm as Rfc2136TsigAlgorithm, secret: key.secret },
      axfr: ctx.powerdns.axfr,
    },
  };
}

/** The render options of a cluster's ExternalDNS. Pure. @internal */
export function externalDnsOptions(
  ctx: Context,
  target: ExternalDnsTarget,
  zone: { readonly id: string; readonly name: string },
  key: ClusterRunCredentials,
  overrides: ExternalDnsDefaults,
  namespace?: string,
): ExternalDnsOptions {
  const o = { ...ctx.externalDns, ...overrides, ...(namespace ? { namespace } : {}) };
  return {
    clusterId: target.clusterId,
    organization: target.organization,
    zoneName: zone.name,
    ...providerOptions(ctx, zone, key, o),
    createNamespace: o.createNamespace ?? true,
    ...(o.namespace ? { namespace: o.namespace } : {}),
    ...(o.image ? { image: o.image } : {}),
    ...(o.policy ? { policy: o.policy } : {}),
    ...(o.interval ? { interval: o.interval } : {}),
    ...(o.sources ? { sources: o.sources } : {}),
    ...(o.txtPrefix === undefined ? {} : { txtPrefix: o.txtPrefix }),
    ...(o.annotationPrefix ? { annotationPrefix: o.annotationPrefix } : {}),
    ...(o.extraArgs ? { extraArgs: o.extraArgs } : {}),
    // A cluster identity may write <cluster>.<zone> and below only: ExternalDNS is told the same scope.
    ...(target.scope === 'cluster'
      ? { domainFilter: clusterRecordNames(zone.name, target.clusterId)[0] as string }
      : {}),
  };
}

/**
 * Validates a cluster's ExternalDNS settings with the renderer's own rules, before anything is read or
 * written. The zone id and the key may not exist yet, so they are syntactically valid stand-ins used for
 * this check only: their result is discarded, never rendered into a plan or applied.
 * @throws `INVALID_INPUT` naming the bad setting.
 * @internal
 */
export function validateExternalDnsSettings(
  ctx: Context,
  target: ExternalDnsTarget & { readonly zoneName: string },
  overrides: ExternalDnsDefaults,
): void {
  const o = { ...ctx.externalDns, ...overrides };
  if (o.rolloutTimeoutMs !== undefined && !(Number.isFinite(o.rolloutTimeoutMs) && o.rolloutTimeoutMs > 0))
    throw invalidInput(
      `externalDns.rolloutTimeoutMs must be a positive number of milliseconds, got ${String(o.rolloutTimeoutMs)}.`,
    );
  try {
    resolveExternalDnsOptions(
      externalDnsOptions(
        ctx,
        target,
        { id: 'ZVALIDATIONONLY', name: target.zoneName },
        ctx.powerdns
          ? { name: 'validation-only.invalid', algorithm: 'hmac-sha256', secret: 'dmFsaWRhdGlvbi1vbmx5' }
          : { accessKeyId: 'AKIAVALIDATIONONLY00', secretAccessKey: 'validation-only' },
        overrides,
      ),
    );
  } catch (error) {
    if (isZonekeeperError(error)) throw invalidInput(`externalDns: ${error.message}`, error.details);
    throw error;
  }
}

/**
 * The settings a cluster's ExternalDNS is re-rendered with, keeping the TXT prefix of the ExternalDNS it
 * already runs when nothing chose one: the TXT prefix is part of every ownership record's name, and a
 * Deployment re-rendered with another prefix no longer finds — so never updates or deletes — the records
 * it made (docs/decisions.md, decision 24). So when `overrides` leave `txtPrefix` to the platform default
 * and the cluster runs our ExternalDNS of this organisation with a different prefix (a cluster attached
 * by zonekeeper 0.1, which rendered none, or before the platform changed its default), that prefix is
 * pinned into the settings (and recorded with them by an attach). An explicit `txtPrefix` always wins: a
 * deliberate change is the caller's. A deployed prefix the cluster's scope cannot use (none, on a
 * per-cluster identity: its TXT records fall outside `*.<cluster>.<zone>` and were denied on every loop)
 * is not kept. Pure.
 * @internal
 */
export function keepDeployedTxtPrefix(
  ctx: Context,
  target: ExternalDnsTarget & { readonly zoneName: string },
  overrides: ExternalDnsDefaults,
  deployment: KubernetesObject | undefined,
): ExternalDnsDefaults {
  if (overrides.txtPrefix !== undefined || deployment === undefined) return overrides;
  const labels = deployment.metadata.labels ?? {};
  if (
    labels[ZonekeeperLabels.managedBy] !== ZONEKEEPER_MANAGER ||
    labels[ZonekeeperLabels.organization] !== target.organization
  )
    return overrides;
  const deployed = deployedTxtPrefix(deployment);
  if (deployed === undefined || deployed === (ctx.externalDns.txtPrefix ?? DEFAULT_TXT_PREFIX))
    return overrides;
  const pinned = { ...overrides, txtPrefix: deployed };
  try {
    validateExternalDnsSettings(ctx, target, pinned);
  } catch (error) {
    if (isZonekeeperError(error) && error.code === 'INVALID_INPUT') return overrides;
    throw error;
  }
  return pinned;
}

/** The rollout options of a cluster. */
function rolloutOptions(ctx: Context, overrides: ExternalDnsDefaults): { rolloutTimeoutMs?: number } {
  const timeout = overrides.rolloutTimeoutMs ?? ctx.externalDns.rolloutTimeoutMs;
  return timeout === undefined ? {} : { rolloutTimeoutMs: timeout };
}

/** Renders a cluster's ExternalDNS. @internal */
export function renderClusterExternalDns(
  ctx: Context,
  target: ExternalDnsTarget,
  zone: { readonly id: string; readonly name: string },
  key: ClusterRunCredentials,
  overrides: ExternalDnsDefaults,
  namespace?: string,
): readonly KubernetesObject[] {
  return renderExternalDns(externalDnsOptions(ctx, target, zone, key, overrides, namespace));
}

/**
 * Applies a cluster's ExternalDNS with `key` (its recorded settings and namespace) and waits for the
 * rollout.
 * @internal
 */
export async function applyClusterExternalDns(
  ctx: Context,
  target: ExternalDnsTarget,
  zone: { readonly id: string; readonly name: string },
  key: ClusterRunCredentials,
  overrides: ExternalDnsDefaults,
  namespace: string | undefined,
  call: CallOptions,
) {
  const client = await ctx.ports.cluster(target.clusterId);
  return applyExternalDns(
    client,
    renderClusterExternalDns(ctx, target, zone, key, overrides, namespace),
    { clock: ctx.clock, logger: ctx.logger },
    { ...call, ...rolloutOptions(ctx, overrides) },
  );
}

/**
 * Publishes an identity's key to attached clusters: each cluster's ExternalDNS rendered with its recorded
 * namespace and settings.
 * @internal
 */
export async function publishKey(
  ctx: Context,
  organization: string,
  zone: { readonly id: string; readonly name: string },
  clusterIds: readonly string[],
  key: ClusterKey,
  call: CallOptions,
): Promise<void> {
  const at = { ...ctx.layout, ...call };
  for (const clusterId of clusterIds) {
    call.signal?.throwIfAborted();
    const attachment = await readAttachment(ctx.ports.secrets, organization, clusterId, at);
    const recorded = await readClusterSettings(ctx.ports.secrets, organization, clusterId, at);
    const settings = ((recorded?.settings as RecordedClusterSettings | undefined)?.externalDns ??
      {}) as ExternalDnsDefaults;
    const target = { organization, clusterId, scope: attachment?.scope ?? ('organization' as const) };
    const namespace =
      attachment?.namespace ?? settings.namespace ?? ctx.externalDns.namespace ?? 'external-dns';
    // A cluster attached before its settings were recorded (0.1) runs whatever prefix it was rendered with.
    const overrides =
      settings.txtPrefix === undefined
        ? keepDeployedTxtPrefix(
            ctx,
            { ...target, zoneName: zone.name },
            settings,
            await (await ctx.ports.cluster(clusterId)).get(
              { apiVersion: 'apps/v1', kind: 'Deployment', name: 'external-dns', namespace },
              call,
            ),
          )
        : settings;
    await applyClusterExternalDns(ctx, target, zone, key, overrides, attachment?.namespace, call);
    ctx.logger.info(`zonekeeper: cluster ${clusterId} of ${organization} runs ${keyLabel(key)}.`);
  }
}
