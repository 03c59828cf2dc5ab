/**
 * Config resolution: {@link ZonekeeperConfig} in, the validated {@link Context} every operation runs
 * with out — ports (the embedded memory ones when none are configured), clock, the masking logger, the
 * secret layout (per platform), defaults and the organisation lock. Validated once, here: an operation
 * never re-checks its configuration.
 *
 * @internal
 * @packageDocumentation
 */

import { type AcmeSettings, type CertificateDeps, validateAcmeSettings } from '@zonekeeper/cert-issuer';
import {
  type CallOptions,
  type Clock,
  type ClusterClient,
  invalidInput,
  type Logger,
  maskingLogger,
  noopLogger,
  normalizeBaseDomain,
  systemClock,
  validateDnsLabel,
} from '@zonekeeper/core';
import { createMemoryCluster } from '@zonekeeper/externaldns-deployer';
import {
  createMemoryIdentityProvider,
  createMemoryPodIdentityProvider,
  createMemoryRoleProvider,
  type IdentityDeps,
  type IdentityProvider,
  type OidcProviderRegistry,
  type PodIdentityAssociationProvider,
  ROLE_TRUST_POLICY_DEFAULT_MAX_CHARS,
  ROLE_TRUST_POLICY_MAX_CHARS,
  type RoleProvider,
  validateAccountId,
} from '@zonekeeper/iam-scoper';
import {
  createMemorySecretStore,
  type LayoutOptions,
  readTsigKey,
  type SecretStore,
  secretPaths,
  writeTsigKey,
} from '@zonekeeper/vault-keys';
import { createMemoryDnsProvider, type DnsProvider, type ZoneManagerDeps } from '@zonekeeper/zone-manager';
import {
  createPowerDnsAdmin,
  createPowerDnsProvider,
  type PowerDnsAdmin,
  type TsigAlgorithm,
  type TsigKeyStore,
} from '@zonekeeper/zone-manager/powerdns';
import {
  DEFAULT_RESERVED_ORGANIZATION_NAMES,
  type ExternalDnsDefaults,
  type IdentityScope,
  type ZonekeeperConfig,
} from './config.js';
import { type ClusterInventory, createMemoryInventory } from './inventory.js';
import { createTelemetry, type Telemetry } from './telemetry/telemetry.js';

/** The ports of a zonekeeper instance. @public */
export interface ZonekeeperPorts {
  readonly dns: DnsProvider;
  readonly identity: IdentityProvider;
  readonly secrets: SecretStore;
  readonly inventory: ClusterInventory;
  /** Roles and OIDC providers (keyless credentials). */
  readonly roles: RoleProvider & OidcProviderRegistry;
  /** EKS Pod Identity associations. */
  readonly podIdentity: PodIdentityAssociationProvider;
  /** The client of a cluster; an id the configured map does not know is `INVALID_INPUT`. */
  cluster(clusterId: string): Promise<ClusterClient>;
}

/** The PowerDNS backend as an operation runs with it (`powerdns` in the configuration). @internal */
export interface PowerDnsContext {
  /** TSIG keys and zone update metadata, over the provider's API client. */
  readonly admin: PowerDnsAdmin;
  /** The organisations' keys in the secret store (`<prefix>/orgs/<org>/tsig-key`). */
  readonly store: TsigKeyStore;
  readonly dnsUpdate: { readonly host: string; readonly port: number };
  readonly updateSources: readonly string[] | undefined;
  readonly axfr: boolean;
  readonly algorithm: TsigAlgorithm | undefined;
}

/** Everything an operation runs with. @internal */
export interface Context {
  readonly baseDomain: string;
  readonly parentZoneId: string | undefined;
  readonly clock: Clock;
  /** The configured logger, masking access key ids. */
  readonly logger: Logger;
  readonly random: () => number;
  /**
   * The tracing and metrics hooks (`tracer`, `metrics`). The ports below are already wrapped: every
   * port method call made through `ports` or `deps` is traced. Operations run in `traced(ctx, …)`.
   */
  readonly telemetry: Telemetry;
  readonly ports: ZonekeeperPorts;
  /** The PowerDNS backend: organisations' identities are TSIG keys, ExternalDNS renders rfc2136. */
  readonly powerdns?: PowerDnsContext;
  /** Whether an inventory was configured (the collector refuses to run without one). */
  readonly inventoryConfigured: boolean;
  /** The secret layout: prefix and owner (the platform). */
  readonly layout: Required<Pick<LayoutOptions, 'prefix' | 'owner'>>;
  readonly paths: ReturnType<typeof secretPaths>;
  readonly defaultScope: IdentityScope;
  /** The AWS account of keyless credentials' roles. */
  readonly keyless: {
    /** `undefined`: a roles provider is configured without `keyless.accountId` (keyless attaches are refused). */
    readonly accountId: string | undefined;
    readonly partition: 'aws' | 'aws-cn' | 'aws-us-gov';
    readonly maxTrustPolicyChars: number;
  };
  readonly externalDns: ExternalDnsDefaults;
  readonly certificates: ZonekeeperConfig['certificates'];
  /** The ACME settings and their directory URL (as recorded as a certificate's issuer); absent without ACME. */
  readonly acme: { readonly settings: AcmeSettings; readonly directoryUrl: string } | undefined;
  readonly gc: ZonekeeperConfig['gc'];
  readonly reservedNames: ReadonlySet<string>;
  readonly locks: { readonly ttlMs: number; readonly waitTimeoutMs: number; readonly pollMs?: number };
  /** A process-unique prefix of lock holder ids. */
  readonly holderId: string;
  readonly deps: {
    readonly dns: ZoneManagerDeps;
    readonly identity: IdentityDeps;
    readonly certificates: CertificateDeps;
  };
  /**
   * The embedded DNS provider starts empty: creates its parent zone (once) when `create`, and resolves
   * whether it exists. With a configured provider: nothing, and `true`.
   */
  ensureEmbeddedParent(options: CallOptions, create?: boolean): Promise<boolean>;
}

function positiveMs(value: number | undefined, name: string): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0))
    throw invalidInput(`${name} must be a positive number of milliseconds, got ${String(value)}.`);
}

function resolverOf(
  clusters: ZonekeeperConfig['clusters'],
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
 * Validates the `powerdns` section (the provider validates its own options; the API key is never in a
 * message) and builds the provider and its admin client. Touches no remote system.
 */
function resolvePowerDns(
  config: ZonekeeperConfig,
  clock: Clock,
): { dns: DnsProvider; admin: PowerDnsAdmin; rest: Omit<PowerDnsContext, 'admin' | 'store'> } {
  const p = config.powerdns;
  if (typeof p !== 'object' || p === null || Array.isArray(p))
    throw invalidInput('powerdns must be an object (apiUrl, apiKey, nameServers, dnsUpdate).');
  if (config.dns !== undefined)
    throw invalidInput('Give either dns or powerdns: powerdns builds the DNS provider itself.');
  if (config.identity !== undefined)
    throw invalidInput(
      "identity is not used with powerdns: an organisation's identity is its TSIG key. Remove identity.",
    );
  if ((config.identityScope ?? 'organization') !== 'organization')
    throw invalidInput(
      'identityScope "cluster" is not available with powerdns: a TSIG key cannot be limited to a cluster\'s names.',
    );
  const u = p.dnsUpdate;
  if (typeof u !== 'object' || u === null)
    throw invalidInput('powerdns.dnsUpdate must be an object with the host (and port) of RFC 2136 updates.');
  if (typeof u.host !== 'string' || !/^[A-Za-z0-9.:_-]{1,253}$/.test(u.host))
    throw invalidInput('powerdns.dnsUpdate.host must be a host name or an IP address.');
  const port = u.port ?? 53;
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw invalidInput(`powerdns.dnsUpdate.port must be an integer from 1 to 65535, got ${String(port)}.`);
  if (p.axfr !== undefined && typeof p.axfr !== 'boolean')
    throw invalidInput('powerdns.axfr must be a boolean.');
  const sources = p.updateSources;
  if (sources !== undefined && (!Array.isArray(sources) || sources.some((s) => typeof s !== 'string')))
    throw invalidInput('powerdns.updateSources must be an array of networks (CIDR).');
  const { dnsUpdate: _u, updateSources: _s, axfr: _a, tsigAlgorithm, ...providerOptions } = p;
  if (
    tsigAlgorithm !== undefined &&
    (typeof tsigAlgorithm !== 'string' || !/^hmac-sha(1|224|256|384|512)$/.test(tsigAlgorithm))
  )
    throw invalidInput(
      'powerdns.tsigAlgorithm must be one of hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512.',
    );
  const provider = createPowerDnsProvider({ ...providerOptions, clock });
  return {
    dns: provider,
    admin: createPowerDnsAdmin(provider.api),
    rest: {
      dnsUpdate: { host: u.host, port },
      updateSources: sources,
      axfr: p.axfr ?? false,
      algorithm: tsigAlgorithm,
    },
  };
}

/** The default secret prefix of a platform: its own folder, so platforms sharing a store never collide. */
export function defaultSecretPrefix(baseDomain: string): string {
  return `zonekeeper/platforms/${baseDomain}`;
}

/**
 * Validates the configuration and builds the context. Throws `INVALID_INPUT` for anything invalid;
 * touches no remote system.
 * @internal
 */
export function resolveContext(config: ZonekeeperConfig): Context {
  if (typeof config !== 'object' || config === null)
    throw invalidInput('createZonekeeper needs a configuration object with a baseDomain.');
  const baseDomain = normalizeBaseDomain(config.baseDomain);
  const clock = config.clock ?? systemClock;
  const logger = maskingLogger(config.logger ?? noopLogger);
  const random = config.random ?? Math.random;
  const scope: IdentityScope = config.identityScope ?? 'organization';
  if (scope !== 'organization' && scope !== 'cluster')
    throw invalidInput(`identityScope must be "organization" or "cluster", got ${String(scope)}.`);
  positiveMs(config.gc?.maxIntervalMs, 'gc.maxIntervalMs');
  const gcConcurrency = config.gc?.concurrency;
  if (
    gcConcurrency !== undefined &&
    !(Number.isInteger(gcConcurrency) && gcConcurrency >= 1 && gcConcurrency <= 64)
  )
    throw invalidInput(`gc.concurrency must be an integer from 1 to 64, got ${String(gcConcurrency)}.`);
  const ttlMs = config.locks?.ttlMs ?? 60_000;
  if (!Number.isInteger(ttlMs) || ttlMs < 3000) throw invalidInput('locks.ttlMs must be an integer ≥ 3000.');
  const waitTimeoutMs = config.locks?.waitTimeoutMs ?? 600_000;
  positiveMs(waitTimeoutMs, 'locks.waitTimeoutMs');
  const pollMs = config.locks?.pollMs;
  positiveMs(pollMs, 'locks.pollMs');
  const reserved = config.reservedOrganizationNames ?? DEFAULT_RESERVED_ORGANIZATION_NAMES;
  if (!Array.isArray(reserved))
    throw invalidInput('reservedOrganizationNames must be an array of organisation names.');
  const reservedNames = new Set(reserved.map((n) => validateDnsLabel(n, 'Reserved organisation name')));
  const edns = config.externalDns ?? {};
  positiveMs(edns.rolloutTimeoutMs, 'externalDns.rolloutTimeoutMs');
  const caPathLength = config.certificates?.caPathLength;
  if (caPathLength !== undefined && caPathLength !== 0 && caPathLength !== 1)
    throw invalidInput(`certificates.caPathLength must be 0 or 1, got ${JSON.stringify(caPathLength)}.`);

  const acme =
    config.acme === undefined
      ? undefined
      : { settings: config.acme, directoryUrl: validateAcmeSettings(config.acme) };

  const telemetry = createTelemetry(config.tracer, config.metrics, logger);

  // The ports, wrapped once for telemetry (the same instances when it is off): every call below goes
  // through them, also the embedded parent zone's and the operations' `deps`.
  const pdns = config.powerdns === undefined ? undefined : resolvePowerDns(config, clock);
  const configuredDns = pdns?.dns ?? config.dns;
  const embeddedDns = configuredDns === undefined;
  const dns = telemetry.port(configuredDns ?? createMemoryDnsProvider({ clock }), 'dns');
  const identity = telemetry.port(config.identity ?? createMemoryIdentityProvider({ clock }), 'identity');
  const secrets = telemetry.port(config.secrets ?? createMemorySecretStore({ clock }), 'secrets');
  const inventory = telemetry.port(config.inventory ?? createMemoryInventory(), 'inventory');
  // The embedded memory provider's account unless one is configured. With a configured roles provider
  // and no account, or a configured identity provider and no roles provider (its roles would otherwise
  // be the memory ones), a keyless attach is refused.
  const keylessAccountId =
    config.keyless?.accountId !== undefined
      ? validateAccountId(config.keyless.accountId, 'keyless.accountId')
      : config.roles === undefined && config.identity === undefined
        ? '123456789012' // the embedded backend: the memory providers' account
        : undefined; // a configured identity or roles provider without keyless.accountId: keyless refused
  const partition = config.keyless?.partition ?? 'aws';
  if (partition !== 'aws' && partition !== 'aws-cn' && partition !== 'aws-us-gov')
    throw invalidInput(
      `keyless.partition must be "aws", "aws-cn" or "aws-us-gov", got ${JSON.stringify(partition)}.`,
    );
  const maxTrustPolicyChars = config.keyless?.maxTrustPolicyChars ?? ROLE_TRUST_POLICY_DEFAULT_MAX_CHARS;
  if (
    !Number.isInteger(maxTrustPolicyChars) ||
    maxTrustPolicyChars < 1 ||
    maxTrustPolicyChars > ROLE_TRUST_POLICY_MAX_CHARS
  )
    throw invalidInput(
      `keyless.maxTrustPolicyChars must be an integer from 1 to ${ROLE_TRUST_POLICY_MAX_CHARS}.`,
    );
  const roles = telemetry.port(
    config.roles ??
      createMemoryRoleProvider({ clock, accountId: keylessAccountId ?? '123456789012', maxTrustPolicyChars }),
    'roles',
  );
  const podIdentity = telemetry.port(
    config.podIdentity ??
      createMemoryPodIdentityProvider({ clock, accountId: keylessAccountId ?? '123456789012' }),
    'podIdentity',
  );
  const resolve = resolverOf(config.clusters, clock);
  const cluster = telemetry.enabled
    ? async (id: string) => telemetry.port(await resolve(id), 'cluster', id)
    : resolve;
  const layout = { prefix: config.secretPrefix ?? defaultSecretPrefix(baseDomain), owner: baseDomain };
  const paths = secretPaths(layout);
  const powerdns: PowerDnsContext | undefined = pdns && {
    ...pdns.rest,
    admin: telemetry.port(pdns.admin, 'dns'),
    store: {
      read: (organization, o) => readTsigKey(secrets, { organization }, { ...layout, ...o }),
      write: (organization, key, o) => writeTsigKey(secrets, { organization }, key, { ...layout, ...o }),
    },
  };
  let parentReady: Promise<void> | undefined;

  return {
    baseDomain,
    parentZoneId: config.parentZoneId,
    clock,
    logger,
    random,
    telemetry,
    ports: { dns, identity, secrets, inventory, roles, podIdentity, cluster },
    ...(powerdns ? { powerdns } : {}),
    inventoryConfigured: config.inventory !== undefined,
    layout,
    paths,
    defaultScope: scope,
    keyless: { accountId: keylessAccountId, partition, maxTrustPolicyChars },
    externalDns: edns,
    certificates: config.certificates,
    acme,
    // The provider's pricing model unless the configuration names one (docs/billing-model.md).
    gc:
      config.gc?.pricing !== undefined || configuredDns?.pricing === undefined
        ? config.gc
        : { ...config.gc, pricing: configuredDns.pricing },
    reservedNames,
    locks: { ttlMs, waitTimeoutMs, ...(pollMs === undefined ? {} : { pollMs }) },
    holderId: `${process.pid}-${Math.floor(random() * 36 ** 8).toString(36)}`,
    deps: {
      dns: { dns, clock, logger, random },
      identity: { identity, clock, logger },
      certificates: { secrets, clock, logger, secretPrefix: layout.prefix, secretOwner: layout.owner },
    },
    async ensureEmbeddedParent(options, create = true) {
      if (!embeddedDns) return true;
      if (!create) return (await dns.findZonesByName(baseDomain, options)).length > 0;
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
        return true;
      } catch (error) {
        parentReady = undefined;
        throw error;
      }
    },
  };
}
