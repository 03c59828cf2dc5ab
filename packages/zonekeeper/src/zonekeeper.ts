/**
 * The zonekeeper facade: the platform operations composed from the packages' ports.
 *
 * ```
 *  ensureOrganization  zone + delegation ─► IAM identity + policy ─► access key in Vault ─► organisation CA
 *  attachCluster       ensureOrganization ─► (cluster identity) ─► ExternalDNS applied, rolled out ─► TLS Secrets
 *  detachCluster       uninstall ExternalDNS and TLS Secrets ─► cluster identity and secrets removed
 *  rotateCredentials   new key ─► Vault (old one kept as "previous") ─► every attached cluster ─► old key deleted
 *  collectGarbage      managed zones + inventory ─► planGarbageCollection ─► per zone: re-check, then
 *                      delegation ─► records ─► zone ─► identities ─► Vault secrets
 * ```
 *
 * @packageDocumentation
 */

import {
  type EnsureCertificateAuthorityResult,
  type EnsureCertificateResult,
  ensureCertificate,
  ensureCertificateAuthority,
} from '@zonekeeper/cert-issuer';
import {
  type CallOptions,
  type Clock,
  type ClusterClient,
  type EnsureOptions,
  hasErrorCode,
  invalidInput,
  isAbortError,
  isWithinDomain,
  type Logger,
  noopLogger,
  normalizeBaseDomain,
  normalizeHostname,
  organizationZoneName,
  systemClock,
  throwIfAborted,
  toZonekeeperError,
  validateClusterId,
  validateDnsLabel,
  validateOrganizationName,
  type ZonekeeperError,
} from '@zonekeeper/core';
import {
  type ApplyExternalDnsResult,
  applyExternalDns,
  createMemoryCluster,
  renderExternalDns,
  type UninstallStep,
  uninstallExternalDns,
} from '@zonekeeper/externaldns-deployer';
import { decideZoneFate, type GcPlan, planGarbageCollection, type ZoneFacts } from '@zonekeeper/gc-policy';
import {
  type AccessKey,
  createMemoryIdentityProvider,
  deleteZoneIdentity,
  ensureZoneIdentity,
  type IdentityProvider,
  identityUserName,
  issueAccessKey,
  listZoneIdentities,
  reconcileAccessKeys,
  rotateAccessKey,
} from '@zonekeeper/iam-scoper';
import {
  createMemorySecretStore,
  deleteClusterSecrets,
  deleteOrganizationSecrets,
  listAttachedClusters,
  listStoredOrganizations,
  readAccessKey,
  readAttachment,
  type SecretStore,
  type StoredAccessKey,
  writeAccessKey,
  writeAttachment,
} from '@zonekeeper/vault-keys';
import {
  createMemoryDnsProvider,
  type DnsProvider,
  deleteOrganizationZone,
  ensureOrganizationZone,
  listManagedZones,
  type ManagedZone,
} from '@zonekeeper/zone-manager';
import type { ClusterResolver, ExternalDnsDefaults, IdentityScope, ZonekeeperConfig } from './config.js';
import { type ClusterInventory, createMemoryInventory, readOrganizationsInUse } from './inventory.js';
import { createLeaseLock, type LeaseOptions } from './lease.js';

/** What {@link Zonekeeper.ensureOrganization} did. @public */
export interface OrganizationResult {
  readonly organization: string;
  readonly dryRun: boolean;
  /** The organisation zone (absent in a dry run that would create it). */
  readonly zone?: { readonly id: string; readonly name: string; readonly nameServers: readonly string[] };
  /** The IAM user name of the organisation identity (absent with per-cluster scope). */
  readonly userName?: string;
  /** The access key id in use (never the secret). */
  readonly accessKeyId?: string;
  /** The plans of every stage, in order. */
  readonly plans: {
    readonly zone: readonly { readonly op: string }[];
    readonly identity: readonly { readonly op: string }[];
    readonly credentials: readonly CredentialStep[];
    readonly certificateAuthority: EnsureCertificateAuthorityResult['plan']['steps'];
  };
  /** Duplicate zones found for this organisation (reported; empty ones are deleted by zone-manager). */
  readonly duplicateZones: readonly string[];
}

/** A credentials step. @public */
export type CredentialStep =
  | {
      readonly op: 'delete-unknown-keys';
      readonly userName: string;
      readonly accessKeyIds: readonly string[];
    }
  | { readonly op: 'issue-key'; readonly userName: string; readonly reason: 'missing' | 'not-in-iam' };

/** A TLS certificate to inject on attach. @public */
export interface ClusterCertificate {
  /** Certificate name (a DNS label) — also the Secret name unless `secretName` is set. */
  readonly name: string;
  /** SANs; each must lie within the organisation's zone. */
  readonly dnsNames: readonly string[];
  /** Namespace of the `kubernetes.io/tls` Secret (must exist). */
  readonly namespace: string;
  readonly secretName?: string;
}

/** Input of {@link Zonekeeper.attachCluster}. @public */
export interface AttachClusterInput {
  /** The cluster id (a DNS label); also ExternalDNS's TXT owner id. */
  readonly clusterId: string;
  /** Certificates to issue and inject. */
  readonly certificates?: readonly ClusterCertificate[];
  /** Per-cluster overrides of the ExternalDNS defaults. */
  readonly externalDns?: ExternalDnsDefaults;
}

/** What {@link Zonekeeper.attachCluster} did. @public */
export interface AttachResult {
  readonly organization: string;
  readonly clusterId: string;
  readonly dryRun: boolean;
  readonly organizationResult: OrganizationResult;
  readonly externalDns: ApplyExternalDnsResult;
  readonly certificates: readonly EnsureCertificateResult[];
  readonly accessKeyId?: string;
}

/** What {@link Zonekeeper.detachCluster} did. @public */
export interface DetachResult {
  readonly organization: string;
  readonly clusterId: string;
  readonly dryRun: boolean;
  readonly uninstalled: readonly UninstallStep[];
  readonly deletedIdentities: readonly string[];
  readonly deletedSecrets: readonly string[];
}

/** What {@link Zonekeeper.rotateCredentials} did, per identity. @public */
export interface RotationResult {
  readonly organization: string;
  readonly rotations: readonly {
    readonly userName: string;
    readonly clusterId?: string;
    /** `resumed` finished a rotation a crash interrupted. */
    readonly outcome: 'rotated' | 'resumed';
    readonly newAccessKeyId: string;
    readonly deletedAccessKeyIds: readonly string[];
    readonly clustersUpdated: readonly string[];
  }[];
}

/** The outcome of one zone in a collection. @public */
export interface ZoneCollection {
  readonly zoneId: string;
  readonly organization: string;
  readonly status: 'deleted' | 'skipped' | 'failed';
  /** Why it was skipped or failed. */
  readonly reason?: string;
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
  /** Identities and secrets of organisations without a zone and without a running cluster (crash leftovers), removed. */
  readonly orphans: { readonly identities: readonly string[]; readonly secretPaths: readonly string[] };
  /** When the collector should look again (earliest deferral). */
  readonly nextReviewAt?: Date;
}

/** Options of {@link Zonekeeper.runGarbageCollector}. @public */
export interface GarbageCollectorOptions {
  /** Stops the loop (it then releases the lease and resolves). */
  readonly signal: AbortSignal;
  /** Collect only while holding this Kubernetes Lease. */
  readonly lease?: LeaseOptions;
  /** Longest sleep between collections (default: config `gc.maxIntervalMs`, else 1 h). */
  readonly maxIntervalMs?: number;
  /** Sleep after a failed collection (default 60 000 ms). */
  readonly retryDelayMs?: number;
  /** Called after every collection attempt. */
  readonly onCollection?: (outcome: { readonly result?: CollectionResult; readonly error?: unknown }) => void;
}

/** The zonekeeper instance. @public */
export interface Zonekeeper {
  readonly baseDomain: string;
  /** The ports in use (the memory ones when none were configured). */
  readonly ports: {
    readonly dns: DnsProvider;
    readonly identity: IdentityProvider;
    readonly secrets: SecretStore;
    readonly inventory: ClusterInventory;
    cluster(clusterId: string): Promise<ClusterClient>;
  };
  ensureOrganization(organization: string, options?: EnsureOptions): Promise<OrganizationResult>;
  attachCluster(
    organization: string,
    input: AttachClusterInput,
    options?: EnsureOptions,
  ): Promise<AttachResult>;
  detachCluster(
    organization: string,
    clusterId: string,
    options?: EnsureOptions & { readonly skipCluster?: boolean },
  ): Promise<DetachResult>;
  rotateCredentials(organization: string, options?: CallOptions): Promise<RotationResult>;
  collectGarbage(options?: EnsureOptions & { readonly now?: Date }): Promise<CollectionResult>;
  runGarbageCollector(options: GarbageCollectorOptions): Promise<void>;
}

function signalOf(options: CallOptions): CallOptions {
  return options.signal === undefined ? {} : { signal: options.signal };
}

function resolverOf(
  clusters: ClusterResolver | undefined,
  clock: Clock,
): (id: string) => Promise<ClusterClient> {
  if (typeof clusters === 'function') return async (id) => clusters(id);
  if (clusters) {
    return async (id) => {
      const c = clusters[id];
      if (!c) throw invalidInput(`No cluster client is configured for cluster ${id}.`);
      return c;
    };
  }
  // Embedded default: one memory cluster per id, created on first use.
  const memory = new Map<string, ClusterClient>();
  return async (id) => {
    let c = memory.get(id);
    if (!c) {
      c = createMemoryCluster({ name: id, clock });
      memory.set(id, c);
    }
    return c;
  };
}

/**
 * Creates a zonekeeper instance. With only `baseDomain`, everything runs on the embedded in-memory
 * ports (the parent zone is created in the memory DNS provider on first use).
 *
 * @example
 * ```ts
 * const zk = createZonekeeper({ baseDomain: 'example.com' });
 * await zk.ensureOrganization('acme');
 * await zk.attachCluster('acme', { clusterId: 'prod-1' });
 * ```
 * @public
 */
export function createZonekeeper(config: ZonekeeperConfig): Zonekeeper {
  const baseDomain = normalizeBaseDomain(config.baseDomain);
  const clock = config.clock ?? systemClock;
  const logger: Logger = config.logger ?? noopLogger;
  const scope: IdentityScope = config.identityScope ?? 'organization';
  if (scope !== 'organization' && scope !== 'cluster')
    throw invalidInput(`identityScope must be "organization" or "cluster", got ${String(scope)}.`);
  const embeddedDns = config.dns === undefined;
  const dns = config.dns ?? createMemoryDnsProvider({ clock });
  const identity = config.identity ?? createMemoryIdentityProvider({ clock });
  const secrets = config.secrets ?? createMemorySecretStore({ clock });
  const inventory = config.inventory ?? createMemoryInventory();
  const cluster = resolverOf(config.clusters, clock);
  const layout = config.secretPrefix === undefined ? {} : { prefix: config.secretPrefix };
  const edns = config.externalDns ?? {};
  let parentReady: Promise<void> | undefined;

  const dnsDeps = { dns, clock, logger };
  const idDeps = { identity, clock, logger };
  const certDeps = {
    secrets,
    clock,
    logger,
    ...(config.secretPrefix === undefined ? {} : { secretPrefix: config.secretPrefix }),
  };

  /** The embedded DNS provider starts empty: create the parent zone once. */
  async function ensureEmbeddedParent(options: CallOptions): Promise<void> {
    if (!embeddedDns) return;
    parentReady ??= (async () => {
      if ((await dns.findZonesByName(baseDomain, options)).length === 0) {
        await dns.createZone(
          {
            name: baseDomain,
            callerReference: `embedded-parent:${baseDomain}`,
            comment: 'Parent zone of the embedded zonekeeper backend',
          },
          options,
        );
      }
    })();
    await parentReady;
  }

  /**
   * Makes the access key of one identity converge: delete IAM keys the store does not know (leaks
   * after a crash), then issue and store a key when the store has none that IAM still holds.
   */
  async function ensureCredentials(
    ref: { organization: string; clusterId?: string },
    userName: string,
    options: EnsureOptions,
  ): Promise<{ steps: CredentialStep[]; stored?: StoredAccessKey }> {
    const stored = await readAccessKey(secrets, ref, { ...layout, ...signalOf(options) });
    const mine = stored?.userName === userName ? stored : undefined;
    const keys = await identity.listAccessKeys(userName, signalOf(options));
    const known = new Set(
      [mine?.accessKeyId, mine?.previousAccessKeyId].filter((x): x is string => x !== undefined),
    );
    const unknown = keys.map((k) => k.accessKeyId).filter((id) => !known.has(id));
    const steps: CredentialStep[] = [];
    if (unknown.length > 0) steps.push({ op: 'delete-unknown-keys', userName, accessKeyIds: unknown });
    const live = mine !== undefined && keys.some((k) => k.accessKeyId === mine.accessKeyId);
    if (!live) steps.push({ op: 'issue-key', userName, reason: mine ? 'not-in-iam' : 'missing' });
    if (options.dryRun) return { steps, ...(mine ? { stored: mine } : {}) };

    if (unknown.length > 0)
      await reconcileAccessKeys({ userName, knownAccessKeyIds: [...known] }, idDeps, signalOf(options));
    if (live) return { steps, stored: mine };
    let key: AccessKey;
    try {
      key = await issueAccessKey({ userName }, idDeps, signalOf(options));
    } catch (error) {
      // Two keys already (a concurrent run issued one): let the next run reconcile.
      throw toZonekeeperError(error);
    }
    try {
      await writeAccessKey(
        secrets,
        ref,
        {
          userName,
          accessKeyId: key.accessKeyId,
          secretAccessKey: key.secretAccessKey,
          createdAt: key.createdAt,
        },
        { ...layout, cas: stored?.version ?? 0, ...signalOf(options) },
      );
    } catch (error) {
      // Never leave a key the store does not hold: take ours back (a crash here is repaired by the next run).
      await identity.deleteAccessKey(userName, key.accessKeyId, signalOf(options)).catch(() => undefined);
      if (!hasErrorCode(error, 'CONFLICT')) throw error;
      const winner = await readAccessKey(secrets, ref, { ...layout, ...signalOf(options) });
      return { steps, ...(winner ? { stored: winner } : {}) };
    }
    const now = await readAccessKey(secrets, ref, { ...layout, ...signalOf(options) });
    return { steps, ...(now ? { stored: now } : {}) };
  }

  async function ensureOrganization(
    organizationInput: string,
    options: EnsureOptions = {},
  ): Promise<OrganizationResult> {
    const organization = validateOrganizationName(organizationInput);
    organizationZoneName(organization, baseDomain);
    throwIfAborted(options.signal);
    await ensureEmbeddedParent(signalOf(options));
    const zoneResult = await ensureOrganizationZone(
      { organization, baseDomain, ...(config.parentZoneId ? { parentZoneId: config.parentZoneId } : {}) },
      dnsDeps,
      options,
    );
    const zone = zoneResult.zone;
    let identityPlan: readonly { op: string }[] = [];
    let credentials: CredentialStep[] = [];
    let userName: string | undefined;
    let accessKeyId: string | undefined;
    if (scope === 'organization') {
      userName = identityUserName({ baseDomain, organization });
      if (zone) {
        const idResult = await ensureZoneIdentity(
          { baseDomain, organization, zoneId: zone.id, zoneName: zone.name },
          idDeps,
          options,
        );
        identityPlan = idResult.plan.steps;
        if (!options.dryRun || (await identity.getUser(userName, signalOf(options)))) {
          const c = await ensureCredentials({ organization }, userName, options);
          credentials = c.steps;
          accessKeyId = c.stored?.accessKeyId;
        } else {
          credentials = [{ op: 'issue-key', userName, reason: 'missing' }];
        }
      } else {
        identityPlan = [{ op: 'create-user' }, { op: 'put-policy' }];
        credentials = [{ op: 'issue-key', userName, reason: 'missing' }];
      }
    }
    const ca = await ensureCertificateAuthority({ organization }, certDeps, options);
    return {
      organization,
      dryRun: options.dryRun === true,
      ...(zone ? { zone: { id: zone.id, name: zone.name, nameServers: zone.nameServers } } : {}),
      ...(userName ? { userName } : {}),
      ...(accessKeyId ? { accessKeyId } : {}),
      plans: {
        zone: zoneResult.plan.steps,
        identity: identityPlan,
        credentials,
        certificateAuthority: ca.plan.steps,
      },
      duplicateZones: zoneResult.duplicates,
    };
  }

  function validateCertificates(certificates: readonly ClusterCertificate[], zoneName: string): void {
    const names = new Set<string>();
    for (const c of certificates) {
      validateDnsLabel(c.name, 'Certificate name');
      validateDnsLabel(c.namespace, 'Certificate namespace');
      if (names.has(c.name)) throw invalidInput(`Certificate name ${c.name} is used twice.`);
      names.add(c.name);
      if (!Array.isArray(c.dnsNames) || c.dnsNames.length === 0)
        throw invalidInput(`Certificate ${c.name} needs at least one DNS name.`);
      for (const n of c.dnsNames) {
        const host = normalizeHostname(n);
        if (!isWithinDomain(host.replace(/^\*\./, ''), zoneName))
          throw invalidInput(
            `Certificate ${c.name}: ${host} is not within the organisation's zone ${zoneName}.`,
          );
      }
    }
  }

  async function credentialsFor(
    organization: string,
    clusterId: string,
    zone: { id: string; name: string },
    options: EnsureOptions,
  ): Promise<StoredAccessKey | undefined> {
    if (scope === 'organization')
      return readAccessKey(secrets, { organization }, { ...layout, ...signalOf(options) });
    const userName = identityUserName({ baseDomain, organization, clusterId });
    await ensureZoneIdentity(
      { baseDomain, organization, clusterId, zoneId: zone.id, zoneName: zone.name },
      idDeps,
      options,
    );
    if (options.dryRun && !(await identity.getUser(userName, signalOf(options)))) return undefined;
    return (await ensureCredentials({ organization, clusterId }, userName, options)).stored;
  }

  function externalDnsOptions(
    organization: string,
    clusterId: string,
    zone: { id: string; name: string },
    key: StoredAccessKey,
    overrides: ExternalDnsDefaults = {},
  ) {
    const o = { ...edns, ...overrides };
    return {
      clusterId,
      organization,
      zoneName: zone.name,
      zoneId: zone.id,
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
      createNamespace: o.createNamespace ?? true,
      ...(o.namespace ? { namespace: o.namespace } : {}),
      ...(o.image ? { image: o.image } : {}),
      ...(o.policy ? { policy: o.policy } : {}),
      ...(o.interval ? { interval: o.interval } : {}),
      ...(o.sources ? { sources: o.sources } : {}),
      ...(o.region ? { region: o.region } : {}),
    };
  }

  async function attachCluster(
    organizationInput: string,
    input: AttachClusterInput,
    options: EnsureOptions = {},
  ): Promise<AttachResult> {
    const organization = validateOrganizationName(organizationInput);
    const clusterId = validateClusterId(input?.clusterId);
    const zoneName = organizationZoneName(organization, baseDomain);
    const certificates = input.certificates ?? [];
    validateCertificates(certificates, zoneName);
    const namespace = validateDnsLabel(
      input.externalDns?.namespace ?? edns.namespace ?? 'external-dns',
      'Namespace',
    );
    throwIfAborted(options.signal);

    const org = await ensureOrganization(organization, options);
    const client = await cluster(clusterId);
    if (!org.zone) {
      // Dry run of a brand-new organisation: nothing exists yet to render against.
      return {
        organization,
        clusterId,
        dryRun: true,
        organizationResult: org,
        externalDns: { plan: { steps: [] }, dryRun: true },
        certificates: [],
      };
    }
    const key = await credentialsFor(organization, clusterId, org.zone, options);
    if (!key) {
      return {
        organization,
        clusterId,
        dryRun: true,
        organizationResult: org,
        externalDns: { plan: { steps: [] }, dryRun: true },
        certificates: [],
      };
    }
    const objects = renderExternalDns(
      externalDnsOptions(organization, clusterId, org.zone, key, input.externalDns),
    );
    const externalDns = await applyExternalDns(
      client,
      objects,
      { clock, logger },
      {
        ...options,
        ...((input.externalDns?.rolloutTimeoutMs ?? edns.rolloutTimeoutMs) === undefined
          ? {}
          : { rolloutTimeoutMs: input.externalDns?.rolloutTimeoutMs ?? edns.rolloutTimeoutMs }),
      },
    );
    const issued: EnsureCertificateResult[] = [];
    for (const c of certificates) {
      issued.push(
        await ensureCertificate(
          {
            organization,
            name: c.name,
            dnsNames: c.dnsNames,
            withinDomain: zoneName,
            ...(config.certificates?.validityDays ? { validityDays: config.certificates.validityDays } : {}),
            ...(config.certificates?.keyAlgorithm ? { keyAlgorithm: config.certificates.keyAlgorithm } : {}),
            target: {
              cluster: client,
              namespace: c.namespace,
              ...(c.secretName ? { secretName: c.secretName } : {}),
            },
          },
          certDeps,
          options,
        ),
      );
    }
    if (!options.dryRun) {
      const existing = await readAttachment(secrets, organization, clusterId, {
        ...layout,
        ...signalOf(options),
      });
      const tlsSecrets = certificates.map((c) => `${c.namespace}/${c.secretName ?? c.name}`);
      const union = [...new Set([...(existing?.tlsSecrets ?? []), ...tlsSecrets])].sort();
      const changed =
        !existing ||
        existing.namespace !== namespace ||
        existing.scope !== scope ||
        union.join(',') !== [...existing.tlsSecrets].sort().join(',');
      if (changed) {
        await writeAttachment(
          secrets,
          {
            organization,
            clusterId,
            namespace,
            scope,
            tlsSecrets: union,
            attachedAt: existing?.attachedAt ?? clock.now(),
          },
          {
            ...layout,
            cas: existing?.version ?? 0,
            ...signalOf(options),
          },
        );
      }
    }
    return {
      organization,
      clusterId,
      dryRun: options.dryRun === true,
      organizationResult: org,
      externalDns,
      certificates: issued,
      accessKeyId: key.accessKeyId,
    };
  }

  async function detachCluster(
    organizationInput: string,
    clusterIdInput: string,
    options: EnsureOptions & { readonly skipCluster?: boolean } = {},
  ): Promise<DetachResult> {
    const organization = validateOrganizationName(organizationInput);
    const clusterId = validateClusterId(clusterIdInput);
    throwIfAborted(options.signal);
    const attachment = await readAttachment(secrets, organization, clusterId, {
      ...layout,
      ...signalOf(options),
    });
    const namespace = attachment?.namespace ?? edns.namespace ?? 'external-dns';
    let uninstalled: readonly UninstallStep[] = [];
    if (!options.skipCluster) {
      const client = await cluster(clusterId);
      const result = await uninstallExternalDns(client, { namespace }, { clock, logger }, options);
      uninstalled = result.plan.steps;
      for (const tls of attachment?.tlsSecrets ?? []) {
        const [ns, name] = tls.split('/') as [string, string];
        const ref = { apiVersion: 'v1', kind: 'Secret', namespace: ns, name };
        const existing = await client.get(ref, signalOf(options));
        if (existing?.metadata.labels?.['zonekeeper.io/managed-by'] === 'zonekeeper') {
          uninstalled = [...uninstalled, { op: 'delete-object', ref }];
          if (!options.dryRun) await client.delete(ref, signalOf(options));
        }
      }
    }
    const deletedIdentities: string[] = [];
    const clusterUser = identityUserName({ baseDomain, organization, clusterId });
    if (await identity.getUser(clusterUser, signalOf(options))) {
      deletedIdentities.push(clusterUser);
      if (!options.dryRun) await deleteZoneIdentity({ userName: clusterUser }, idDeps, options);
    }
    const deletedSecrets = options.dryRun
      ? []
      : await deleteClusterSecrets(secrets, organization, clusterId, { ...layout, ...signalOf(options) });
    return {
      organization,
      clusterId,
      dryRun: options.dryRun === true,
      uninstalled,
      deletedIdentities,
      deletedSecrets,
    };
  }

  /** Pushes an identity's current key to every cluster that uses it. */
  async function publishKey(
    organization: string,
    clusterIds: readonly string[],
    key: StoredAccessKey,
    options: CallOptions,
  ): Promise<string[]> {
    const zone = (await listManagedZones(dnsDeps, { baseDomain, ...signalOf(options) })).find(
      (z) => z.organization === organization,
    );
    if (!zone) throw invalidInput(`Organisation ${organization} has no zone; run ensureOrganization first.`);
    const updated: string[] = [];
    for (const id of clusterIds) {
      const attachment = await readAttachment(secrets, organization, id, { ...layout, ...signalOf(options) });
      const client = await cluster(id);
      const objects = renderExternalDns(
        externalDnsOptions(
          organization,
          id,
          zone,
          key,
          attachment ? { namespace: attachment.namespace } : {},
        ),
      );
      await applyExternalDns(
        client,
        objects,
        { clock, logger },
        {
          ...signalOf(options),
          ...(edns.rolloutTimeoutMs ? { rolloutTimeoutMs: edns.rolloutTimeoutMs } : {}),
        },
      );
      updated.push(id);
    }
    return updated;
  }

  async function rotateOne(
    organization: string,
    clusterId: string | undefined,
    consumers: readonly string[],
    options: CallOptions,
  ): Promise<RotationResult['rotations'][number]> {
    const ref = clusterId === undefined ? { organization } : { organization, clusterId };
    const userName = identityUserName({ baseDomain, organization, ...(clusterId ? { clusterId } : {}) });
    let stored = await readAccessKey(secrets, ref, { ...layout, ...signalOf(options) });
    if (!stored || stored.userName !== userName)
      throw invalidInput(
        `No access key is stored for ${userName}; run ensureOrganization (or attachCluster) first.`,
      );
    const base = { userName, ...(clusterId ? { clusterId } : {}) };
    if (stored.previousAccessKeyId) {
      // A crash interrupted a rotation after the new key was stored: finish it.
      const previous = stored.previousAccessKeyId;
      const clustersUpdated = await publishKey(organization, consumers, stored, options);
      await identity.deleteAccessKey(userName, previous, signalOf(options)).catch((e) => {
        if (!hasErrorCode(e, 'NOT_FOUND')) throw e;
      });
      const { previousAccessKeyId: _done, version, ...rest } = stored;
      await writeAccessKey(secrets, ref, rest, { ...layout, cas: version, ...signalOf(options) });
      return {
        ...base,
        outcome: 'resumed',
        newAccessKeyId: stored.accessKeyId,
        deletedAccessKeyIds: [previous],
        clustersUpdated,
      };
    }
    // Leaks (a crash between issuing and storing a key) must go first: IAM allows only two keys.
    await reconcileAccessKeys(
      { userName, knownAccessKeyIds: [stored.accessKeyId] },
      idDeps,
      signalOf(options),
    );
    let clustersUpdated: string[] = [];
    const current = stored;
    const { newKey, deletedAccessKeyId } = await rotateAccessKey(
      {
        userName,
        currentAccessKeyId: current.accessKeyId,
        publish: async (key: AccessKey) => {
          const next = {
            userName,
            accessKeyId: key.accessKeyId,
            secretAccessKey: key.secretAccessKey,
            createdAt: key.createdAt,
            previousAccessKeyId: current.accessKeyId,
          };
          const { version } = await writeAccessKey(secrets, ref, next, {
            ...layout,
            cas: current.version,
            ...signalOf(options),
          });
          stored = { ...next, version };
          clustersUpdated = await publishKey(organization, consumers, stored, options);
        },
      },
      idDeps,
      signalOf(options),
    );
    const { previousAccessKeyId: _done, version, ...rest } = stored;
    await writeAccessKey(secrets, ref, rest, { ...layout, cas: version, ...signalOf(options) });
    return {
      ...base,
      outcome: 'rotated',
      newAccessKeyId: newKey.accessKeyId,
      deletedAccessKeyIds: [deletedAccessKeyId],
      clustersUpdated,
    };
  }

  async function rotateCredentials(
    organizationInput: string,
    options: CallOptions = {},
  ): Promise<RotationResult> {
    const organization = validateOrganizationName(organizationInput);
    throwIfAborted(options.signal);
    const attached = await listAttachedClusters(secrets, organization, { ...layout, ...signalOf(options) });
    const rotations: RotationResult['rotations'][number][] = [];
    if (scope === 'organization') {
      rotations.push(await rotateOne(organization, undefined, attached, options));
    } else {
      for (const id of attached) rotations.push(await rotateOne(organization, id, [id], options));
    }
    return { organization, rotations };
  }

  async function collectGarbage(
    options: EnsureOptions & { readonly now?: Date } = {},
  ): Promise<CollectionResult> {
    throwIfAborted(options.signal);
    const zones = await listManagedZones(dnsDeps, { baseDomain, ...signalOf(options) });
    const inUse = await readOrganizationsInUse(inventory, signalOf(options));
    const now = options.now ?? clock.now();
    const facts = (using: ReadonlySet<string>, z: ManagedZone): ZoneFacts => ({
      zoneId: z.id,
      managed: true,
      inUse: using.has(z.organization),
      protected: z.protected,
      ...(z.createdAt ? { createdAt: z.createdAt } : {}),
    });
    const plan = planGarbageCollection(
      zones.map((z) => facts(inUse, z)),
      now,
      config.gc,
    );
    const results: ZoneCollection[] = [];
    const orphans = { identities: [] as string[], secretPaths: [] as string[] };
    const base = {
      now,
      dryRun: options.dryRun === true,
      plan,
      zones,
      ...(plan.nextReviewAt ? { nextReviewAt: plan.nextReviewAt } : {}),
    };
    if (options.dryRun) return { ...base, results, orphans };

    let inventoryFailed: unknown;
    for (const zoneId of plan.toDelete) {
      const zone = zones.find((z) => z.id === zoneId) as ManagedZone;
      const organization = zone.organization;
      if (inventoryFailed) {
        results.push({
          zoneId,
          organization,
          status: 'skipped',
          reason: 'inventory unavailable (fail closed)',
        });
        continue;
      }
      try {
        throwIfAborted(options.signal);
        // "Unused" is re-checked immediately before each deletion, against a fresh inventory and clock.
        let fresh: ReadonlySet<string>;
        try {
          fresh = await readOrganizationsInUse(inventory, signalOf(options));
        } catch (error) {
          if (isAbortError(error)) throw error;
          inventoryFailed = error;
          results.push({
            zoneId,
            organization,
            status: 'skipped',
            reason: 'inventory unavailable (fail closed)',
          });
          continue;
        }
        const again = decideZoneFate(facts(fresh, zone), options.now ?? clock.now(), config.gc);
        if (again.action !== 'delete') {
          results.push({ zoneId, organization, status: 'skipped', reason: `re-check: ${again.reason}` });
          continue;
        }
        await deleteOrganizationZone(zoneId, dnsDeps, signalOf(options));
        const otherZones = zones.some(
          (z) => z.organization === organization && z.id !== zoneId && !plan.toDelete.includes(z.id),
        );
        if (!otherZones) {
          for (const user of await listZoneIdentities(
            { baseDomain, organization },
            idDeps,
            signalOf(options),
          )) {
            await deleteZoneIdentity({ userName: user.userName }, idDeps, signalOf(options));
          }
          await deleteOrganizationSecrets(secrets, organization, { ...layout, ...signalOf(options) });
        }
        results.push({ zoneId, organization, status: 'deleted' });
        logger.info(`zonekeeper: collected zone ${zoneId} of ${organization} (${again.reason})`);
      } catch (error) {
        if (isAbortError(error)) throw error;
        const e = toZonekeeperError(error);
        results.push({ zoneId, organization, status: 'failed', error: e, reason: e.message });
        logger.warn(`zonekeeper: collecting zone ${zoneId} of ${organization} failed: ${e.message}`);
      }
    }

    // Crash leftovers: identities and secrets of organisations that have no zone and no running cluster.
    if (!inventoryFailed) {
      try {
        const remaining = await listManagedZones(dnsDeps, { baseDomain, ...signalOf(options) });
        const withZone = new Set(remaining.map((z) => z.organization));
        const using = await readOrganizationsInUse(inventory, signalOf(options));
        const orphaned = (org: string) => !withZone.has(org) && !using.has(org);
        for (const user of await listZoneIdentities({ baseDomain }, idDeps, signalOf(options))) {
          if (orphaned(user.organization)) {
            await deleteZoneIdentity({ userName: user.userName }, idDeps, signalOf(options));
            orphans.identities.push(user.userName);
          }
        }
        for (const org of await listStoredOrganizations(secrets, { ...layout, ...signalOf(options) })) {
          if (orphaned(org))
            orphans.secretPaths.push(
              ...(await deleteOrganizationSecrets(secrets, org, { ...layout, ...signalOf(options) })),
            );
        }
      } catch (error) {
        if (isAbortError(error)) throw error;
        logger.warn(`zonekeeper: orphan sweep failed: ${toZonekeeperError(error).message}`);
      }
    }
    return { ...base, results, orphans };
  }

  async function runGarbageCollector(options: GarbageCollectorOptions): Promise<void> {
    const { signal } = options;
    const maxInterval = options.maxIntervalMs ?? config.gc?.maxIntervalMs ?? 3_600_000;
    const retryDelay = options.retryDelayMs ?? 60_000;
    const lock = options.lease ? createLeaseLock(options.lease, { clock }) : undefined;
    let woken = false;
    let wake: (() => void) | undefined;
    const unwatch = inventory.watch?.(() => {
      woken = true;
      wake?.();
    });
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        if (woken || signal.aborted) {
          resolve();
          return;
        }
        const inner = new AbortController();
        const done = () => {
          inner.abort();
          resolve();
        };
        wake = done;
        signal.addEventListener('abort', done, { once: true });
        clock.sleep(Math.max(0, ms), { signal: inner.signal }).then(done, () => undefined);
      });
    let nextCollectAt = clock.now().getTime();
    try {
      while (!signal.aborted) {
        const holding = lock ? await lock.tryAcquireOrRenew(signalOf(options)).catch(() => false) : true;
        const now = clock.now().getTime();
        if (holding && (woken || now >= nextCollectAt)) {
          woken = false;
          const cycle = new AbortController();
          const stop = () => cycle.abort(signal.reason);
          signal.addEventListener('abort', stop, { once: true });
          // Keep the lease while a long collection runs; losing it aborts the collection.
          const renewer = lock ? keepLease(lock, cycle, clock) : undefined;
          try {
            const result = await collectGarbage({ signal: cycle.signal });
            const review = result.nextReviewAt?.getTime() ?? Number.POSITIVE_INFINITY;
            nextCollectAt = Math.min(review, clock.now().getTime() + maxInterval);
            options.onCollection?.({ result });
          } catch (error) {
            if (signal.aborted) break;
            nextCollectAt = clock.now().getTime() + retryDelay;
            logger.warn(
              `zonekeeper: garbage collection failed, retrying later: ${toZonekeeperError(error).message}`,
            );
            options.onCollection?.({ error });
          } finally {
            signal.removeEventListener('abort', stop);
            cycle.abort();
            await renewer;
          }
        }
        const untilCollect = nextCollectAt - clock.now().getTime();
        const untilRenew = lock ? Math.floor(lock.durationMs / 3) : Number.POSITIVE_INFINITY;
        await sleep(Math.min(untilCollect, untilRenew, maxInterval));
      }
    } finally {
      unwatch?.();
      if (lock?.held) await lock.release().catch(() => undefined);
    }
  }

  return {
    baseDomain,
    ports: { dns, identity, secrets, inventory, cluster },
    ensureOrganization,
    attachCluster,
    detachCluster,
    rotateCredentials,
    collectGarbage,
    runGarbageCollector,
  };
}

/** Renews `lock` every third of its duration until `cycle` ends; aborts `cycle` when the lease is lost. */
async function keepLease(
  lock: ReturnType<typeof createLeaseLock>,
  cycle: AbortController,
  clock: Clock,
): Promise<void> {
  while (!cycle.signal.aborted) {
    try {
      await clock.sleep(Math.floor(lock.durationMs / 3), { signal: cycle.signal });
    } catch {
      return;
    }
    const ok = await lock.tryAcquireOrRenew().catch(() => false);
    if (!ok) {
      cycle.abort(new Error('zonekeeper: lost the garbage-collector lease'));
      return;
    }
  }
}
