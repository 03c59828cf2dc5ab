/**
 * The zonekeeper facade: the platform operations composed from the packages' ports.
 *
 * ```
 *  ensureOrganization  zone + delegation ─► IAM identity + policy ─► access key in Vault ─► organisation CA
 *                      (─► the zone still exists? else once more: a collection may have raced us)
 *  attachCluster       ensureOrganization ─► (cluster identity) ─► attachment record ─► ExternalDNS applied,
 *                      rolled out ─► TLS Secrets
 *  detachCluster       uninstall ExternalDNS and TLS Secrets ─► cluster identity ─► cluster secrets
 *  rotateCredentials   new key ─► Vault (old one kept as "previous") ─► every attached cluster ─► old key
 *                      deleted ─► Vault ("previous" dropped); an interrupted rotation is rolled forward
 *  collectGarbage      managed zones + inventory ─► planGarbageCollection ─► per organisation: re-check,
 *                      then delegation ─► records ─► zone (each destructive call re-checks the inventory)
 *                      ─► identities ─► Vault secrets ─► orphan sweep
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
  ZonekeeperError,
} from '@zonekeeper/core';
import {
  type ApplyExternalDnsResult,
  applyExternalDns,
  createMemoryCluster,
  renderExternalDns,
  resolveExternalDnsOptions,
  type UninstallStep,
  uninstallExternalDns,
} from '@zonekeeper/externaldns-deployer';
import { decideZoneFate, type GcPlan, planGarbageCollection, type ZoneFacts } from '@zonekeeper/gc-policy';
import {
  type AccessKeyMetadata,
  clusterRecordNames,
  createMemoryIdentityProvider,
  deleteZoneIdentity,
  ensureZoneIdentity,
  type IdentityProvider,
  identityUserName,
  issueAccessKey,
  listZoneIdentities,
  reconcileAccessKeys,
} from '@zonekeeper/iam-scoper';
import {
  type AccessKeyRef,
  type AccessKeyToStore,
  createMemorySecretStore,
  deleteClusterSecrets,
  deleteOrganizationSecrets,
  listAttachedClusters,
  listSecretsRecursively,
  listStoredOrganizations,
  readAccessKey,
  readAttachment,
  type SecretStore,
  type StoredAccessKey,
  secretPaths,
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
  type ObservedZone,
  sortCanonically,
  type Tags,
  zoneOwnership,
} from '@zonekeeper/zone-manager';
import type { ClusterResolver, ExternalDnsDefaults, IdentityScope, ZonekeeperConfig } from './config.js';
import { type ClusterInventory, createMemoryInventory, readOrganizationsInUse } from './inventory.js';
import { createLeaseLock, type LeaseLock, type LeaseOptions } from './lease.js';

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
  /**
   * Per-cluster overrides of the ExternalDNS defaults. They are recorded with the attachment, so a later
   * {@link Zonekeeper.rotateCredentials} renders the cluster's ExternalDNS with the same overrides.
   */
  readonly externalDns?: ExternalDnsDefaults;
}

/** The cluster-scoped identity of an attach (identity scope `cluster` only). @public */
export interface ClusterIdentityResult {
  /** The IAM user of the cluster. */
  readonly userName: string;
  /** The identity plan (`create-user`, `tag-user`, `delete-stale-policies`, `put-policy`). */
  readonly identity: readonly { readonly op: string }[];
  /** The credentials plan. */
  readonly credentials: readonly CredentialStep[];
}

/** What {@link Zonekeeper.attachCluster} did. @public */
export interface AttachResult {
  readonly organization: string;
  readonly clusterId: string;
  readonly dryRun: boolean;
  readonly organizationResult: OrganizationResult;
  /**
   * The ExternalDNS plan and what was applied. The credentials Secret in `objects` has its values
   * replaced by `REDACTED_SECRET_VALUE` (a result must be safe to log). In a dry run whose credentials
   * (or zone) do not exist yet, the plan is computed against placeholders: the Secret and Deployment then
   * show as changed.
   */
  readonly externalDns: ApplyExternalDnsResult;
  readonly certificates: readonly EnsureCertificateResult[];
  /** The key ExternalDNS runs with (absent in a dry run that would issue it). */
  readonly accessKeyId?: string;
  /** The cluster identity (identity scope `cluster` only). */
  readonly clusterIdentity?: ClusterIdentityResult;
}

/** What {@link Zonekeeper.detachCluster} did. @public */
export interface DetachResult {
  readonly organization: string;
  readonly clusterId: string;
  readonly dryRun: boolean;
  readonly uninstalled: readonly UninstallStep[];
  readonly deletedIdentities: readonly string[];
  /** Secret paths deleted (in a dry run: that would be deleted). */
  readonly deletedSecrets: readonly string[];
}

/** What {@link Zonekeeper.rotateCredentials} did, per identity. @public */
export interface RotationResult {
  readonly organization: string;
  readonly rotations: readonly {
    readonly userName: string;
    readonly clusterId?: string;
    /** `resumed` finished (rolled forward) a rotation a crash interrupted, or replaced a key IAM lost. */
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
  /**
   * Why it was skipped or failed — or, for a deleted zone with an `error`, that the organisation's
   * identities and secrets could not all be removed yet (the next collection's orphan sweep retries).
   */
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
  /**
   * Identities and secrets of organisations without a zone and without a running cluster (crash
   * leftovers), removed — in a dry run, those that would be removed.
   */
  readonly orphans: {
    readonly identities: readonly string[];
    readonly secretPaths: readonly string[];
    /** Why the sweep stopped early, if it did (the next collection retries). */
    readonly error?: ZonekeeperError;
  };
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
  /** Sleep after a failed collection, or one that could not delete a zone (default 60 000 ms). */
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

/** How often ensureOrganization starts over when its zone vanished under it (a racing collection). */
const ENSURE_ATTEMPTS = 3;
/** How often the credentials of one identity are looked at again after a conflict with a concurrent run. */
const CREDENTIAL_ATTEMPTS = 5;
/** Placeholders a dry run renders with when the credentials or the zone do not exist yet. */
const PLANNED_ACCESS_KEY = { accessKeyId: 'AKIADRYRUNPLACEHOLDER', secretAccessKey: 'dry-run-placeholder' };
const PLANNED_ZONE_ID = 'ZDRYRUNPLACEHOLDER';
/** The reason of a zone skipped because the inventory could not be trusted. */
const FAIL_CLOSED = 'inventory unavailable (fail closed)';

function signalOf(options: CallOptions): CallOptions {
  return options.signal === undefined ? {} : { signal: options.signal };
}

/** Re-throws `signal.reason` when the signal is aborted (whatever the reason's type). */
function rethrowIfAborted(options: CallOptions): void {
  if (options.signal?.aborted) throw options.signal.reason;
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

function positiveMs(value: number | undefined, name: string): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0))
    throw invalidInput(`${name} must be a positive number of milliseconds, got ${String(value)}.`);
}

/** The ExternalDNS overrides worth recording (a stable JSON form; `{}` when none). */
function overridesJson(overrides: ExternalDnsDefaults | undefined): string {
  const o = overrides ?? {};
  const keys = Object.keys(o).sort() as (keyof ExternalDnsDefaults)[];
  return JSON.stringify(Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])));
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
  positiveMs(config.gc?.maxIntervalMs, 'gc.maxIntervalMs');
  const embeddedDns = config.dns === undefined;
  const dns = config.dns ?? createMemoryDnsProvider({ clock });
  const identity = config.identity ?? createMemoryIdentityProvider({ clock });
  const secrets = config.secrets ?? createMemorySecretStore({ clock });
  const inventory = config.inventory ?? createMemoryInventory();
  const cluster = resolverOf(config.clusters, clock);
  const layout = config.secretPrefix === undefined ? {} : { prefix: config.secretPrefix };
  const paths = secretPaths(layout);
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
  const at = (options: CallOptions) => ({ ...layout, ...signalOf(options) });
  const parentInput = config.parentZoneId ? { parentZoneId: config.parentZoneId } : {};

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
    try {
      await parentReady;
    } catch (error) {
      parentReady = undefined;
      throw error;
    }
  }

  /**
   * The organisation's canonical zone, read by name (`ListHostedZonesByName` + one tags call), never by
   * listing the whole account.
   */
  async function findOrganizationZone(
    organization: string,
    options: CallOptions,
  ): Promise<{ id: string; name: string }> {
    const name = organizationZoneName(organization, baseDomain);
    const listed = (await dns.findZonesByName(name, signalOf(options))).filter((z) => !z.privateZone);
    const tags = new Map<string, Tags>();
    for (let i = 0; i < listed.length; i += 10) {
      const batch = listed.slice(i, i + 10).map((z) => z.id);
      for (const [id, t] of await dns.getTags(batch, signalOf(options))) tags.set(id, t);
    }
    const ours = listed
      .map(
        (z): ObservedZone => ({
          id: z.id,
          name: z.name,
          callerReference: z.callerReference,
          tags: tags.get(z.id) ?? {},
          nameServers: [],
        }),
      )
      .filter((z) => zoneOwnership(z, name, organization) === 'ours');
    const zone = sortCanonically(ours, name)[0];
    if (!zone)
      throw new ZonekeeperError(
        'NOT_FOUND',
        `Organisation ${organization} has no zone ${name}; run ensureOrganization (or attachCluster) first.`,
        { details: { organization, zoneName: name } },
      );
    return { id: zone.id, name };
  }

  /** The ids of the attached clusters that use an identity (the organisation's, or one cluster's). */
  async function consumersOf(
    organization: string,
    clusterId: string | undefined,
    options: CallOptions,
  ): Promise<string[]> {
    const attached = await listAttachedClusters(secrets, organization, at(options));
    return clusterId === undefined ? [...attached] : attached.filter((id) => id === clusterId);
  }

  /** The ExternalDNS overrides recorded for a cluster at attach time. */
  function overridesPath(organization: string, clusterId: string): string {
    return `${paths.organization(organization)}/clusters/${validateClusterId(clusterId)}/external-dns`;
  }

  async function readOverrides(
    organization: string,
    clusterId: string,
    options: CallOptions,
  ): Promise<{ json: string; overrides: ExternalDnsDefaults; version: number }> {
    const path = overridesPath(organization, clusterId);
    const stored = await secrets.read(path, signalOf(options));
    const json = stored?.data.overrides ?? '{}';
    let overrides: unknown;
    try {
      overrides = JSON.parse(json);
    } catch {
      overrides = undefined;
    }
    if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides))
      throw new ZonekeeperError(
        'INTERNAL',
        `${secrets.kind} secret store: ${path} does not hold zonekeeper's ExternalDNS overrides; attach the cluster again.`,
        { details: { path } },
      );
    return { json, overrides: overrides as ExternalDnsDefaults, version: stored?.version ?? 0 };
  }

  function externalDnsOptions(
    organization: string,
    clusterId: string,
    zone: { id: string; name: string },
    key: { readonly accessKeyId: string; readonly secretAccessKey: string },
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
      ...(o.txtPrefix === undefined ? {} : { txtPrefix: o.txtPrefix }),
      ...(o.annotationPrefix ? { annotationPrefix: o.annotationPrefix } : {}),
      ...(o.zonesCacheDuration ? { zonesCacheDuration: o.zonesCacheDuration } : {}),
      ...(o.extraArgs ? { extraArgs: o.extraArgs } : {}),
      // A cluster identity may write <cluster>.<zone> and below only: ExternalDNS is told the same scope.
      ...(scope === 'cluster' ? { domainFilter: clusterRecordNames(zone.name, clusterId)[0] } : {}),
    };
  }

  function rolloutOptions(overrides: ExternalDnsDefaults | undefined) {
    const timeout = overrides?.rolloutTimeoutMs ?? edns.rolloutTimeoutMs;
    return timeout === undefined ? {} : { rolloutTimeoutMs: timeout };
  }

  /** Pushes an identity's current key to every cluster that uses it (rendered with its recorded overrides). */
  async function publishKey(
    organization: string,
    clusterIds: readonly string[],
    key: StoredAccessKey,
    zone: { id: string; name: string },
    options: CallOptions,
  ): Promise<string[]> {
    const updated: string[] = [];
    for (const id of clusterIds) {
      throwIfAborted(options.signal);
      const attachment = await readAttachment(secrets, organization, id, at(options));
      const recorded = (await readOverrides(organization, id, options)).overrides;
      const overrides = { ...recorded, ...(attachment ? { namespace: attachment.namespace } : {}) };
      const client = await cluster(id);
      await applyExternalDns(
        client,
        renderExternalDns(externalDnsOptions(organization, id, zone, key, overrides)),
        { clock, logger },
        { ...signalOf(options), ...rolloutOptions(overrides) },
      );
      updated.push(id);
    }
    return updated;
  }

  /**
   * Stores a key just issued. When the write fails: if it reached the store anyway (its answer, or the
   * metadata write after it, was lost) carry on with it; otherwise take the key back from IAM so that IAM
   * never keeps a key the store does not hold, and re-throw (a check-and-set `CONFLICT` means a
   * concurrent run stored first). After an abort nothing more is called: the next run's reconciliation
   * deletes the key if the store does not hold it.
   */
  async function storeIssuedKey(
    ref: AccessKeyRef,
    key: AccessKeyToStore,
    cas: number,
    options: CallOptions,
  ): Promise<StoredAccessKey> {
    try {
      const { version } = await writeAccessKey(secrets, ref, key, { ...at(options), cas });
      return { ...key, version };
    } catch (error) {
      rethrowIfAborted(options);
      let now: StoredAccessKey | undefined;
      try {
        now = await readAccessKey(secrets, ref, at(options));
      } catch {
        throw error; // the store is unreachable: the next run reconciles the key
      }
      if (now?.accessKeyId === key.accessKeyId) return now;
      await identity.deleteAccessKey(key.userName, key.accessKeyId, signalOf(options)).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Finishes a rotation whose new key is stored (with `previousAccessKeyId`): the key goes to every
   * consumer, the previous key is deleted from IAM, then the store forgets it.
   */
  async function finishRotation(
    ref: AccessKeyRef,
    stored: StoredAccessKey,
    consumers: readonly string[],
    zone: () => Promise<{ id: string; name: string }>,
    options: CallOptions,
  ): Promise<{ clustersUpdated: string[]; deleted: string[] }> {
    const clustersUpdated =
      consumers.length === 0
        ? []
        : await publishKey(ref.organization, consumers, stored, await zone(), options);
    const deleted: string[] = [];
    const previous = stored.previousAccessKeyId;
    if (previous) {
      throwIfAborted(options.signal);
      try {
        await identity.deleteAccessKey(stored.userName, previous, signalOf(options));
      } catch (error) {
        if (!hasErrorCode(error, 'NOT_FOUND')) throw error;
      }
      deleted.push(previous);
      const { previousAccessKeyId: _done, version, ...rest } = stored;
      await writeAccessKey(secrets, ref, rest, { ...at(options), cas: version });
    }
    return { clustersUpdated, deleted };
  }

  /**
   * Replaces an identity's key, rolling forward: reconcile (only `from` survives), issue a new key, store
   * it with `previousAccessKeyId: from`, publish it, delete `from`, store without it. A crash anywhere
   * leaves at most two keys, both known to the store, and the next run finishes the job.
   */
  async function replaceKey(
    ref: AccessKeyRef,
    userName: string,
    from: string | undefined,
    cas: number,
    consumers: readonly string[],
    zone: () => Promise<{ id: string; name: string }>,
    options: CallOptions,
  ): Promise<{ key: StoredAccessKey; clustersUpdated: string[]; deleted: string[] }> {
    const reconciled = await reconcileAccessKeys(
      { userName, knownAccessKeyIds: from ? [from] : [] },
      idDeps,
      signalOf(options),
    );
    const issued = await issueAccessKey({ userName }, idDeps, signalOf(options));
    const key = await storeIssuedKey(
      ref,
      {
        userName,
        accessKeyId: issued.accessKeyId,
        secretAccessKey: issued.secretAccessKey,
        createdAt: issued.createdAt,
        ...(from ? { previousAccessKeyId: from } : {}),
      },
      cas,
      options,
    );
    const { clustersUpdated, deleted } = await finishRotation(ref, key, consumers, zone, options);
    const { previousAccessKeyId: _done, ...current } = key;
    return {
      key: current,
      clustersUpdated,
      deleted: [...reconciled.deleted, ...deleted],
    };
  }

  /**
   * Makes the access key of one identity converge: delete IAM keys the store does not know (leaks after
   * a crash), and when the store holds no key IAM still has, issue one, store it and give it to the
   * identity's attached clusters (keeping a still-live previous key until they have it). A conflict with
   * a concurrent run (IAM's two-key limit, a check-and-set mismatch) makes it look again, a few times:
   * usually the other run has stored a key by then, and that key is used.
   */
  async function ensureCredentials(
    ref: AccessKeyRef,
    userName: string,
    zone: { id: string; name: string },
    options: EnsureOptions,
  ): Promise<{ steps: CredentialStep[]; stored?: StoredAccessKey }> {
    let planned: CredentialStep[] | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await ensureCredentialsOnce(ref, userName, zone, options, (steps) => {
          planned ??= steps;
        });
        return { ...result, steps: planned ?? result.steps };
      } catch (error) {
        rethrowIfAborted(options);
        if (!hasErrorCode(error, 'CONFLICT')) throw error;
        if (attempt >= CREDENTIAL_ATTEMPTS)
          throw new ZonekeeperError(
            'CONFLICT',
            `The access key of ${userName} kept changing under concurrent runs (${error.message}); run again.`,
            { retry: 'transient', cause: error, details: { userName } },
          );
        logger.debug(
          `zonekeeper: the access key of ${userName} changed under a concurrent run; looking again.`,
        );
      }
    }
  }

  async function ensureCredentialsOnce(
    ref: AccessKeyRef,
    userName: string,
    zone: { id: string; name: string },
    options: EnsureOptions,
    onPlan: (steps: CredentialStep[]) => void,
  ): Promise<{ steps: CredentialStep[]; stored?: StoredAccessKey }> {
    const stored = await readAccessKey(secrets, ref, at(options));
    const mine = stored?.userName === userName ? stored : undefined;
    const keys: readonly AccessKeyMetadata[] = await identity.listAccessKeys(userName, signalOf(options));
    const ids = new Set(keys.map((k) => k.accessKeyId));
    const known = new Set(
      [mine?.accessKeyId, mine?.previousAccessKeyId].filter((x): x is string => x !== undefined),
    );
    const unknown = [...ids].filter((id) => !known.has(id));
    const live = mine !== undefined && ids.has(mine.accessKeyId);
    const steps: CredentialStep[] = [];
    if (unknown.length > 0 && live)
      steps.push({ op: 'delete-unknown-keys', userName, accessKeyIds: unknown });
    if (!live) {
      const stale = [...ids].filter((id) => id !== mine?.previousAccessKeyId);
      if (stale.length > 0) steps.push({ op: 'delete-unknown-keys', userName, accessKeyIds: stale });
      steps.push({ op: 'issue-key', userName, reason: mine ? 'not-in-iam' : 'missing' });
    }
    onPlan(steps);
    if (options.dryRun) return { steps, ...(mine ? { stored: mine } : {}) };

    if (live) {
      if (unknown.length > 0)
        await reconcileAccessKeys({ userName, knownAccessKeyIds: [...known] }, idDeps, signalOf(options));
      return { steps, stored: mine };
    }
    const previous =
      mine?.previousAccessKeyId && ids.has(mine.previousAccessKeyId) ? mine.previousAccessKeyId : undefined;
    const consumers = await consumersOf(ref.organization, ref.clusterId, options);
    const { key } = await replaceKey(
      ref,
      userName,
      previous,
      stored?.version ?? 0,
      consumers,
      async () => zone,
      options,
    );
    return { steps, stored: key };
  }

  async function ensureOrganizationOnce(
    organization: string,
    options: EnsureOptions,
  ): Promise<OrganizationResult> {
    await ensureEmbeddedParent(signalOf(options));
    const zoneResult = await ensureOrganizationZone(
      { organization, baseDomain, ...parentInput },
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
          const c = await ensureCredentials({ organization }, userName, zone, options);
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

  async function ensureOrganization(
    organizationInput: string,
    options: EnsureOptions = {},
  ): Promise<OrganizationResult> {
    const organization = validateOrganizationName(organizationInput);
    organizationZoneName(organization, baseDomain);
    throwIfAborted(options.signal);
    for (let attempt = 1; ; attempt++) {
      const result = await ensureOrganizationOnce(organization, options);
      if (options.dryRun || !result.zone) return result;
      // A collection (or a concurrent run removing a duplicate) may have deleted the zone while we worked.
      if (await dns.getZone(result.zone.id, signalOf(options))) return result;
      if (attempt >= ENSURE_ATTEMPTS)
        throw new ZonekeeperError(
          'CONFLICT',
          `Zone ${result.zone.id} of ${organization} was deleted while it was being ensured, ${attempt} times (a garbage collection or a concurrent run); run ensureOrganization again.`,
          { retry: 'transient', details: { organization, zoneId: result.zone.id } },
        );
      logger.warn(
        `zonekeeper: zone ${result.zone.id} of ${organization} was deleted while it was being ensured; ensuring again.`,
      );
    }
  }

  function validateCertificates(certificates: readonly ClusterCertificate[], zoneName: string): void {
    if (!Array.isArray(certificates)) throw invalidInput('certificates must be an array.');
    const names = new Set<string>();
    for (const c of certificates) {
      if (typeof c !== 'object' || c === null) throw invalidInput('Each certificate must be an object.');
      validateDnsLabel(c.name, 'Certificate name');
      validateDnsLabel(c.namespace, 'Certificate namespace');
      if (c.secretName !== undefined) validateDnsLabel(c.secretName, 'Certificate secretName');
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

  /** The cluster identity of a per-cluster attach: user, policy for `<cluster>.<zone>` only, key. */
  async function ensureClusterIdentity(
    organization: string,
    clusterId: string,
    zone: { id: string; name: string } | undefined,
    options: EnsureOptions,
  ): Promise<ClusterIdentityResult & { stored?: StoredAccessKey }> {
    const userName = identityUserName({ baseDomain, organization, clusterId });
    if (!zone) {
      // Dry run of a brand-new organisation: everything would be created.
      return {
        userName,
        identity: [{ op: 'create-user' }, { op: 'put-policy' }],
        credentials: [{ op: 'issue-key', userName, reason: 'missing' }],
      };
    }
    const idResult = await ensureZoneIdentity(
      { baseDomain, organization, clusterId, zoneId: zone.id, zoneName: zone.name },
      idDeps,
      options,
    );
    if (options.dryRun && !(await identity.getUser(userName, signalOf(options))))
      return {
        userName,
        identity: idResult.plan.steps,
        credentials: [{ op: 'issue-key', userName, reason: 'missing' }],
      };
    const c = await ensureCredentials({ organization, clusterId }, userName, zone, options);
    return {
      userName,
      identity: idResult.plan.steps,
      credentials: c.steps,
      ...(c.stored ? { stored: c.stored } : {}),
    };
  }

  async function attachCluster(
    organizationInput: string,
    input: AttachClusterInput,
    options: EnsureOptions = {},
  ): Promise<AttachResult> {
    const organization = validateOrganizationName(organizationInput);
    if (typeof input !== 'object' || input === null)
      throw invalidInput('attachCluster needs an input object with a clusterId.');
    const clusterId = validateClusterId(input.clusterId);
    const zoneName = organizationZoneName(organization, baseDomain);
    const certificates = input.certificates ?? [];
    validateCertificates(certificates, zoneName);
    const overrides = input.externalDns ?? {};
    const namespace = validateDnsLabel(overrides.namespace ?? edns.namespace ?? 'external-dns', 'Namespace');
    positiveMs(overrides.rolloutTimeoutMs, 'externalDns.rolloutTimeoutMs');
    // Bad ExternalDNS options (extraArgs, prefixes, durations) fail here, before any remote call.
    resolveExternalDnsOptions(
      externalDnsOptions(
        organization,
        clusterId,
        { id: PLANNED_ZONE_ID, name: zoneName },
        PLANNED_ACCESS_KEY,
        overrides,
      ),
    );
    throwIfAborted(options.signal);
    // An unknown cluster (a map without it) is bad input: say so before anything is written.
    const client = await cluster(clusterId);

    const org = await ensureOrganization(organization, options);
    let key: StoredAccessKey | undefined;
    let clusterIdentity: ClusterIdentityResult | undefined;
    if (scope === 'organization') {
      key = org.zone ? await readAccessKey(secrets, { organization }, at(options)) : undefined;
    } else {
      const { stored, ...result } = await ensureClusterIdentity(organization, clusterId, org.zone, options);
      key = stored;
      clusterIdentity = result;
    }
    if (!options.dryRun && (!org.zone || !key))
      throw new ZonekeeperError(
        'INTERNAL',
        `zonekeeper: no zone or access key for ${organization} after ensuring them; run attachCluster again.`,
        { details: { organization, clusterId } },
      );

    // Record the attachment before touching the cluster: rotation and detach then always know about it,
    // even if this run dies half-way through.
    if (!options.dryRun) {
      const existing = await readAttachment(secrets, organization, clusterId, at(options));
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
          { ...at(options), cas: existing?.version ?? 0 },
        );
      }
      const recorded = await readOverrides(organization, clusterId, options);
      const desired = overridesJson(overrides);
      if (recorded.json !== desired)
        await secrets.write(
          overridesPath(organization, clusterId),
          { overrides: desired },
          { cas: recorded.version, ...signalOf(options) },
        );
    }

    const objects = renderExternalDns(
      externalDnsOptions(
        organization,
        clusterId,
        org.zone ?? { id: PLANNED_ZONE_ID, name: zoneName },
        key ?? PLANNED_ACCESS_KEY,
        overrides,
      ),
    );
    const externalDns = await applyExternalDns(
      client,
      objects,
      { clock, logger },
      { ...options, ...rolloutOptions(overrides) },
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
    return {
      organization,
      clusterId,
      dryRun: options.dryRun === true,
      organizationResult: org,
      externalDns,
      certificates: issued,
      ...(key ? { accessKeyId: key.accessKeyId } : {}),
      ...(clusterIdentity ? { clusterIdentity } : {}),
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
    const attachment = await readAttachment(secrets, organization, clusterId, at(options));
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
    // The attachment record goes last: until then a re-run (or a rotation) still knows the cluster.
    const deletedSecrets = options.dryRun
      ? await listSecretsRecursively(
          secrets,
          `${paths.organization(organization)}/clusters/${clusterId}`,
          signalOf(options),
        )
      : await deleteClusterSecrets(secrets, organization, clusterId, at(options));
    return {
      organization,
      clusterId,
      dryRun: options.dryRun === true,
      uninstalled,
      deletedIdentities,
      deletedSecrets: [...deletedSecrets],
    };
  }

  async function rotateOne(
    organization: string,
    clusterId: string | undefined,
    consumers: readonly string[],
    options: CallOptions,
  ): Promise<RotationResult['rotations'][number]> {
    const ref: AccessKeyRef = clusterId === undefined ? { organization } : { organization, clusterId };
    const userName = identityUserName({ baseDomain, organization, ...(clusterId ? { clusterId } : {}) });
    const stored = await readAccessKey(secrets, ref, at(options));
    if (!stored || stored.userName !== userName)
      throw invalidInput(
        `No access key is stored for ${userName}; run ensureOrganization (or attachCluster) first.`,
      );
    const base = { userName, ...(clusterId ? { clusterId } : {}) };
    let zone: { id: string; name: string } | undefined;
    const zoneOf = async () => {
      zone ??= await findOrganizationZone(organization, options);
      return zone;
    };
    const ids = new Set(
      (await identity.listAccessKeys(userName, signalOf(options))).map((k) => k.accessKeyId),
    );
    if (stored.previousAccessKeyId && ids.has(stored.accessKeyId)) {
      // A crash interrupted a rotation after the new key was stored: roll it forward.
      const unknown = [...ids].filter((id) => id !== stored.accessKeyId && id !== stored.previousAccessKeyId);
      const reconciled =
        unknown.length === 0
          ? []
          : (
              await reconcileAccessKeys(
                {
                  userName,
                  knownAccessKeyIds: [stored.accessKeyId, stored.previousAccessKeyId],
                },
                idDeps,
                signalOf(options),
              )
            ).deleted;
      const { clustersUpdated, deleted } = await finishRotation(ref, stored, consumers, zoneOf, options);
      return {
        ...base,
        outcome: 'resumed',
        newAccessKeyId: stored.accessKeyId,
        deletedAccessKeyIds: [...reconciled, ...deleted],
        clustersUpdated,
      };
    }
    // Rotate from the key IAM still holds: normally the stored one; after a rotation whose new key was
    // lost, the previous one; when IAM holds neither, from nothing.
    const from = ids.has(stored.accessKeyId)
      ? stored.accessKeyId
      : stored.previousAccessKeyId && ids.has(stored.previousAccessKeyId)
        ? stored.previousAccessKeyId
        : undefined;
    const { key, clustersUpdated, deleted } = await replaceKey(
      ref,
      userName,
      from,
      stored.version,
      consumers,
      zoneOf,
      options,
    );
    return {
      ...base,
      outcome: from === stored.accessKeyId ? 'rotated' : 'resumed',
      newAccessKeyId: key.accessKeyId,
      deletedAccessKeyIds: deleted,
      clustersUpdated,
    };
  }

  async function rotateCredentials(
    organizationInput: string,
    options: CallOptions = {},
  ): Promise<RotationResult> {
    const organization = validateOrganizationName(organizationInput);
    throwIfAborted(options.signal);
    const attached = await listAttachedClusters(secrets, organization, at(options));
    const rotations: RotationResult['rotations'][number][] = [];
    if (scope === 'organization') {
      rotations.push(await rotateOne(organization, undefined, attached, options));
    } else {
      for (const id of attached) rotations.push(await rotateOne(organization, id, [id], options));
    }
    return { organization, rotations };
  }

  /** What the inventory reads of one collection found. */
  interface GuardState {
    /** An inventory read failed or contradicted itself: nothing more is deleted (fail closed). */
    inventoryFailed: boolean;
    /** The organisation of the zone being deleted has a running cluster again. */
    cameBack: boolean;
  }

  /** Reads the organisations in use; any failure marks the collection failed closed. */
  async function inUseNow(state: GuardState, options: CallOptions): Promise<ReadonlySet<string>> {
    try {
      return await readOrganizationsInUse(inventory, signalOf(options));
    } catch (error) {
      if (!options.signal?.aborted) state.inventoryFailed = true;
      throw error;
    }
  }

  /**
   * The DNS port for deleting one organisation's zone: every destructive call (delegation and record
   * deletions, the zone deletion) first reads the inventory again and refuses when the organisation has a
   * running cluster by then — so a cluster that appears during a long deletion (Route 53 changes take
   * tens of seconds to be INSYNC) keeps its zone. An unreadable inventory refuses too (fail closed).
   */
  function guardedDns(organization: string, state: GuardState): DnsProvider {
    const guard = async (options: CallOptions | undefined, what: string) => {
      const inUse = await inUseNow(state, options ?? {});
      if (inUse.has(organization)) {
        state.cameBack = true;
        throw new ZonekeeperError(
          'CONFLICT',
          `Organisation ${organization} has a running cluster again; ${what} was not done and its zone is kept.`,
          { details: { organization } },
        );
      }
    };
    return {
      kind: dns.kind,
      listZones: (o) => dns.listZones(o),
      findZonesByName: (n, o) => dns.findZonesByName(n, o),
      getZone: (id, o) => dns.getZone(id, o),
      createZone: (spec, o) => dns.createZone(spec, o),
      getTags: (ids, o) => dns.getTags(ids, o),
      changeTags: (id, change, o) => dns.changeTags(id, change, o),
      listRecords: (id, page, o) => dns.listRecords(id, page, o),
      getChange: (id, o) => dns.getChange(id, o),
      changeRecords: async (id, changes, o) => {
        await guard(o, `changing records of zone ${id}`);
        return dns.changeRecords(id, changes, o);
      },
      deleteZone: async (id, o) => {
        await guard(o, `deleting zone ${id}`);
        return dns.deleteZone(id, o);
      },
    };
  }

  /** Whether an organisation's zone exists (any public zone of that name) or it has a running cluster. */
  async function organizationIsBack(
    organization: string,
    state: GuardState,
    options: CallOptions,
  ): Promise<string | undefined> {
    const name = organizationZoneName(organization, baseDomain);
    if ((await dns.findZonesByName(name, signalOf(options))).some((z) => !z.privateZone))
      return 'a zone of the organisation exists';
    if ((await inUseNow(state, options)).has(organization)) return 'the organisation has a running cluster';
    return undefined;
  }

  async function deleteOrganizationLeftovers(
    organization: string,
    options: CallOptions,
  ): Promise<{ identities: string[]; secretPaths: string[] }> {
    const identities: string[] = [];
    for (const user of await listZoneIdentities({ baseDomain, organization }, idDeps, signalOf(options))) {
      throwIfAborted(options.signal);
      await deleteZoneIdentity({ userName: user.userName }, idDeps, signalOf(options));
      identities.push(user.userName);
    }
    const secretPathsDeleted = await deleteOrganizationSecrets(secrets, organization, at(options));
    return { identities, secretPaths: [...secretPathsDeleted] };
  }

  /**
   * Identities and secrets of organisations that have no managed zone and no running cluster (crash
   * leftovers). Each candidate is checked again by name right before anything is deleted: a zone of
   * that name (even one whose tags are not written yet) or a running cluster keeps it.
   */
  async function sweepOrphans(
    managedOrganizations: ReadonlySet<string>,
    dryRun: boolean,
    state: GuardState,
    options: CallOptions,
    out: { identities: string[]; secretPaths: string[] } = { identities: [], secretPaths: [] },
  ): Promise<{ identities: string[]; secretPaths: string[] }> {
    const using = await inUseNow(state, options);
    const candidate = (org: string) => !managedOrganizations.has(org) && !using.has(org);
    const identities = (await listZoneIdentities({ baseDomain }, idDeps, signalOf(options))).filter((u) =>
      candidate(u.organization),
    );
    const stored = (await listStoredOrganizations(secrets, at(options))).filter(candidate);
    const organizations = [...new Set([...identities.map((u) => u.organization), ...stored])].sort();
    for (const org of organizations) {
      throwIfAborted(options.signal);
      const back = await organizationIsBack(org, state, options);
      if (back) {
        logger.debug(`zonekeeper: orphan sweep keeps ${org}: ${back}.`);
        continue;
      }
      if (dryRun) {
        out.identities.push(...identities.filter((u) => u.organization === org).map((u) => u.userName));
        out.secretPaths.push(
          ...(await listSecretsRecursively(secrets, paths.organization(org), signalOf(options))),
        );
        continue;
      }
      const removed = await deleteOrganizationLeftovers(org, options);
      out.identities.push(...removed.identities);
      out.secretPaths.push(...removed.secretPaths);
      logger.info(`zonekeeper: orphan sweep removed the identities and secrets of ${org}.`);
    }
    return out;
  }

  /**
   * Garbage collection needs to know which organisations are in use. Without a configured inventory the
   * default one is empty, which would make every organisation look unused: refuse instead.
   */
  function requireInventory(operation: string): void {
    if (config.inventory === undefined) {
      throw invalidInput(
        `${operation} needs a cluster inventory (config.inventory): without one zonekeeper cannot tell which organisations are in use, so it deletes nothing.`,
      );
    }
  }

  async function collectGarbage(
    options: EnsureOptions & { readonly now?: Date } = {},
  ): Promise<CollectionResult> {
    if (options.now !== undefined && !(options.now instanceof Date && Number.isFinite(options.now.getTime())))
      throw invalidInput('collectGarbage: now must be a valid Date.');
    requireInventory('collectGarbage');
    throwIfAborted(options.signal);
    const call = signalOf(options);
    const zones = await listManagedZones(dnsDeps, { baseDomain, ...call });
    const inUse = await readOrganizationsInUse(inventory, call);
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
    const base = {
      now,
      dryRun: options.dryRun === true,
      plan,
      zones,
      ...(plan.nextReviewAt ? { nextReviewAt: plan.nextReviewAt } : {}),
    };
    const managedOrganizations = new Set(zones.map((z) => z.organization));
    const state: GuardState = { inventoryFailed: false, cameBack: false };
    if (options.dryRun)
      return { ...base, results: [], orphans: await sweepOrphans(managedOrganizations, true, state, call) };

    const results: ZoneCollection[] = [];
    const byOrganization = new Map<string, ManagedZone[]>();
    for (const zoneId of plan.toDelete) {
      const zone = zones.find((z) => z.id === zoneId) as ManagedZone;
      byOrganization.set(zone.organization, [...(byOrganization.get(zone.organization) ?? []), zone]);
    }
    const deletedIds = new Set<string>();
    for (const [organization, doomed] of byOrganization) {
      let deleted = 0;
      for (const zone of doomed) {
        const zoneId = zone.id;
        if (state.inventoryFailed) {
          results.push({ zoneId, organization, status: 'skipped', reason: FAIL_CLOSED });
          continue;
        }
        try {
          throwIfAborted(options.signal);
          // "Unused" is re-checked immediately before each deletion, against a fresh inventory and clock.
          let fresh: ReadonlySet<string>;
          try {
            fresh = await inUseNow(state, call);
          } catch (error) {
            rethrowIfAborted(options);
            logger.warn(`zonekeeper: ${toZonekeeperError(error).message}`);
            results.push({ zoneId, organization, status: 'skipped', reason: FAIL_CLOSED });
            continue;
          }
          const again = decideZoneFate(facts(fresh, zone), options.now ?? clock.now(), config.gc);
          if (again.action !== 'delete') {
            results.push({ zoneId, organization, status: 'skipped', reason: `re-check: ${again.reason}` });
            continue;
          }
          state.cameBack = false;
          await deleteOrganizationZone(zoneId, { ...dnsDeps, dns: guardedDns(organization, state) }, call);
          deleted += 1;
          deletedIds.add(zoneId);
          results.push({ zoneId, organization, status: 'deleted' });
          logger.info(`zonekeeper: collected zone ${zoneId} of ${organization} (${again.reason})`);
        } catch (error) {
          rethrowIfAborted(options);
          const e = toZonekeeperError(error);
          if (state.cameBack) {
            results.push({ zoneId, organization, status: 'skipped', reason: `re-check: ${e.message}` });
            await restoreDelegation(organization, call);
          } else if (state.inventoryFailed) {
            results.push({ zoneId, organization, status: 'skipped', reason: FAIL_CLOSED, error: e });
          } else {
            results.push({ zoneId, organization, status: 'failed', error: e, reason: e.message });
            logger.warn(`zonekeeper: collecting zone ${zoneId} of ${organization} failed: ${e.message}`);
          }
        }
      }
      if (deleted === 0 || deleted < doomed.length || state.inventoryFailed) continue;
      // Every zone of the organisation went: its identities, then its secrets — unless it came back.
      try {
        throwIfAborted(options.signal);
        const back = await organizationIsBack(organization, state, call);
        if (back) {
          logger.info(`zonekeeper: keeping the identities and secrets of ${organization}: ${back}.`);
          continue;
        }
        await deleteOrganizationLeftovers(organization, call);
      } catch (error) {
        rethrowIfAborted(options);
        const e = toZonekeeperError(error);
        if (state.inventoryFailed) logger.warn(`zonekeeper: ${e.message}`);
        logger.warn(
          `zonekeeper: removing the identities and secrets of ${organization} failed (the orphan sweep retries): ${e.message}`,
        );
        const last = results.findLastIndex((r) => r.organization === organization && r.status === 'deleted');
        const entry = results[last];
        if (entry)
          results[last] = {
            ...entry,
            error: e,
            reason: `zone deleted; its identities and secrets were not all removed (the next collection retries): ${e.message}`,
          };
      }
    }

    // Crash leftovers: identities and secrets of organisations that have no zone and no running cluster.
    let orphans: CollectionResult['orphans'] = { identities: [], secretPaths: [] };
    if (!state.inventoryFailed) {
      const remaining = new Set(zones.filter((z) => !deletedIds.has(z.id)).map((z) => z.organization));
      const swept = { identities: [] as string[], secretPaths: [] as string[] };
      try {
        orphans = await sweepOrphans(remaining, false, state, call, swept);
      } catch (error) {
        rethrowIfAborted(options);
        const e = toZonekeeperError(error);
        logger.warn(`zonekeeper: orphan sweep failed: ${e.message}`);
        orphans = { ...swept, error: e };
      }
    }
    return { ...base, results, orphans };
  }

  /** A deletion stopped because the organisation came back: put its delegation back (best effort). */
  async function restoreDelegation(organization: string, options: CallOptions): Promise<void> {
    logger.warn(
      `zonekeeper: ${organization} came back during its zone's deletion; restoring its delegation.`,
    );
    try {
      await ensureOrganizationZone({ organization, baseDomain, ...parentInput }, dnsDeps, options);
    } catch (error) {
      rethrowIfAborted(options);
      logger.warn(
        `zonekeeper: restoring the delegation of ${organization} failed (ensureOrganization repairs it): ${toZonekeeperError(error).message}`,
      );
    }
  }

  async function runGarbageCollector(options: GarbageCollectorOptions): Promise<void> {
    const signal = options?.signal;
    if (typeof signal?.aborted !== 'boolean' || typeof signal.addEventListener !== 'function')
      throw invalidInput('runGarbageCollector needs a signal (an AbortSignal) to be stopped with.');
    positiveMs(options.maxIntervalMs, 'maxIntervalMs');
    positiveMs(options.retryDelayMs, 'retryDelayMs');
    requireInventory('runGarbageCollector');
    const maxInterval = options.maxIntervalMs ?? config.gc?.maxIntervalMs ?? 3_600_000;
    const retryDelay = options.retryDelayMs ?? 60_000;
    const lock = options.lease ? createLeaseLock(options.lease, { clock }) : undefined;
    const renewEvery = lock ? Math.floor(lock.durationMs / 3) : Number.POSITIVE_INFINITY;
    let changed = false;
    let wake: ((reason: 'change' | 'abort') => void) | undefined;
    const unwatch = inventory.watch?.(() => {
      changed = true;
      wake?.('change');
    });
    const onAbort = () => wake?.('abort');
    signal.addEventListener('abort', onAbort);
    /** Sleeps on the clock; an abort always ends it early, an inventory change only if `onChange`. */
    const sleep = async (ms: number, onChange: boolean): Promise<void> => {
      if (signal.aborted || (onChange && changed)) return;
      const inner = new AbortController();
      wake = (reason) => {
        if (reason === 'abort' || onChange) inner.abort();
      };
      try {
        await clock.sleep(ms, { signal: inner.signal });
      } catch {
        // woken early
      } finally {
        wake = undefined;
      }
    };
    let nextCollectAt = Number.NEGATIVE_INFINITY;
    let holding = lock === undefined;
    try {
      while (!signal.aborted) {
        if (lock) {
          const before = holding;
          holding = await lock.tryAcquireOrRenew(signalOf(options)).catch(() => false);
          if (signal.aborted) break;
          // Just took over: collect now; the previous holder's schedule is unknown.
          if (holding && !before) nextCollectAt = Number.NEGATIVE_INFINITY;
          if (!holding) {
            changed = false; // the holder sees the same change
            await sleep(renewEvery, false);
            continue;
          }
        }
        if (changed || clock.now().getTime() >= nextCollectAt) {
          changed = false;
          const cycle = new AbortController();
          const stop = () => cycle.abort(signal.reason);
          signal.addEventListener('abort', stop, { once: true });
          // Keep the lease while a long collection runs; losing it aborts the collection.
          const renewer = lock ? keepLease(lock, cycle, clock) : undefined;
          try {
            const result = await collectGarbage({ signal: cycle.signal });
            const review = result.nextReviewAt?.getTime() ?? Number.POSITIVE_INFINITY;
            const incomplete =
              result.orphans.error !== undefined ||
              result.results.some(
                (r) => r.status === 'failed' || r.error !== undefined || r.reason === FAIL_CLOSED,
              );
            const t = clock.now().getTime();
            nextCollectAt = Math.min(
              review,
              t + maxInterval,
              incomplete ? t + retryDelay : Number.POSITIVE_INFINITY,
            );
            options.onCollection?.({ result });
          } catch (error) {
            if (signal.aborted) break;
            if (lock && cycle.signal.aborted) {
              holding = false;
              logger.warn('zonekeeper: lost the garbage-collector lease; the collection was stopped.');
            } else {
              nextCollectAt = clock.now().getTime() + retryDelay;
              logger.warn(
                `zonekeeper: garbage collection failed, retrying later: ${toZonekeeperError(error).message}`,
              );
            }
            options.onCollection?.({ error });
          } finally {
            signal.removeEventListener('abort', stop);
            cycle.abort();
            await renewer;
          }
          continue;
        }
        const untilCollect = nextCollectAt - clock.now().getTime();
        await sleep(Math.max(1, Math.min(untilCollect, renewEvery, maxInterval)), true);
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
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

/**
 * Renews `lock` every third of its duration until `cycle` ends. Aborts `cycle` when someone else holds
 * the lease, or when renewing keeps failing until the lease may have expired.
 */
async function keepLease(lock: LeaseLock, cycle: AbortController, clock: Clock): Promise<void> {
  const every = Math.floor(lock.durationMs / 3);
  let validUntil = clock.now().getTime() + lock.durationMs;
  const lost = () =>
    cycle.abort(
      new ZonekeeperError(
        'CONFLICT',
        'zonekeeper: lost the garbage-collector lease; the collection was stopped.',
        {
          retry: 'transient',
        },
      ),
    );
  while (!cycle.signal.aborted) {
    try {
      await clock.sleep(every, { signal: cycle.signal });
    } catch {
      return;
    }
    let ok: boolean;
    try {
      ok = await lock.tryAcquireOrRenew();
    } catch {
      // The lease API failed: we hold the lease until it expires, no longer.
      if (clock.now().getTime() + every >= validUntil) {
        lost();
        return;
      }
      continue;
    }
    if (!ok) {
      lost();
      return;
    }
    validUntil = clock.now().getTime() + lock.durationMs;
  }
}
