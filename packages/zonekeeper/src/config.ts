/**
 * Configuration of {@link createZonekeeper}: the base domain, the ports (ready instances or nothing,
 * in which case the embedded in-memory defaults are used), the cluster inventory and the tunables.
 *
 * @packageDocumentation
 */

import type { Tracer } from '@opentelemetry/api';
import type { AcmeSettings, KeyAlgorithm } from '@zonekeeper/cert-issuer';
import type { Clock, ClusterClient, Logger } from '@zonekeeper/core';
import type { ExternalDnsPolicy, ExternalDnsSource } from '@zonekeeper/externaldns-deployer';
import type { CollectionPolicyOptions } from '@zonekeeper/gc-policy';
import type {
  IdentityProvider,
  OidcProviderRegistry,
  PodIdentityAssociationProvider,
  RoleProvider,
} from '@zonekeeper/iam-scoper';
import type { SecretStore } from '@zonekeeper/vault-keys';
import type { DnsProvider } from '@zonekeeper/zone-manager';
import type { PowerDnsProviderOptions, TsigAlgorithm } from '@zonekeeper/zone-manager/powerdns';
import type { ClusterInventory } from './inventory.js';
import type { ZonekeeperMetrics } from './telemetry/events.js';

/**
 * Finds the client for a cluster id: a function, or a map from cluster id to client.
 * @public
 */
export type ClusterResolver =
  | ((clusterId: string) => ClusterClient | Promise<ClusterClient>)
  | Readonly<Record<string, ClusterClient>>;

/**
 * Which identity a cluster's ExternalDNS runs with: the organisation's (shared by its clusters, Pipeline's
 * model) or its own, whose policy covers only `<cluster>.<zone>` and the names below it. Chosen per
 * cluster at attach time and recorded, so later operations (a rotation, a re-attach without the option)
 * keep it.
 * @public
 */
export type IdentityScope = 'organization' | 'cluster';

/** Defaults for every ExternalDNS installation (and per-cluster overrides on attach). @public */
export interface ExternalDnsDefaults {
  /** Default `registry.k8s.io/external-dns/external-dns:v0.22.0`. */
  readonly image?: string;
  /** Default `external-dns`. */
  readonly namespace?: string;
  /** Create the namespace (and delete it on detach). Default true. */
  readonly createNamespace?: boolean;
  /** Default `upsert-only`. */
  readonly policy?: ExternalDnsPolicy;
  /** Default `1m`. */
  readonly interval?: string;
  /** Default `['service', 'ingress']`. */
  readonly sources?: readonly ExternalDnsSource[];
  /** AWS region written into the credentials environment (default `us-east-1`). */
  readonly region?: string;
  /**
   * `--txt-prefix` of ExternalDNS's TXT registry. Default `_extdns-%{record_type}.` (apex-safe: every
   * ownership TXT lies at or below its record's name). `''` renders none (a zone an earlier ExternalDNS
   * already owns without a prefix); a cluster-scoped identity needs a prefix with `%{record_type}` ending in `.`.
   */
  readonly txtPrefix?: string;
  /**
   * `--annotation-prefix`: what tenants write (`<prefix>hostname`). Default `external-dns.kubernetes.io/`;
   * platforms migrating `external-dns.alpha.kubernetes.io/` manifests (Pipeline) set that one.
   */
  readonly annotationPrefix?: string;
  /** `--aws-zones-cache-duration`, a Go duration (default `1h`; `0s` lists every zone on every loop). */
  readonly zonesCacheDuration?: string;
  /**
   * More ExternalDNS flags (`--flag` or `--flag=value`), e.g. `--events`; flags zonekeeper manages or
   * that would defeat the zone scoping are refused with `INVALID_INPUT` (see `ExternalDnsOptions.extraArgs`).
   */
  readonly extraArgs?: readonly string[];
  /** Rollout timeout (default 300 000 ms). */
  readonly rolloutTimeoutMs?: number;
}

/**
 * The PowerDNS backend (docs/powerdns.md): zones on your own PowerDNS Authoritative Server over its
 * HTTP API, one TSIG key per organisation as its identity, and ExternalDNS rendered with
 * `--provider=rfc2136` signing with that key. The provider options are `createPowerDnsProvider`'s.
 * @public
 */
export interface PowerDnsBackendConfig extends Omit<PowerDnsProviderOptions, 'clock'> {
  /** Where clusters' ExternalDNS sends RFC 2136 updates (`--rfc2136-host`, `--rfc2136-port`, default 53). */
  readonly dnsUpdate: { readonly host: string; readonly port?: number };
  /**
   * The networks updates may come from (each zone's `ALLOW-DNSUPDATE-FROM`, the clusters' egress).
   * Default: left as the zone has it.
   */
  readonly updateSources?: readonly string[];
  /**
   * Let the organisation's key (only it) transfer its zone, so ExternalDNS can read records and update
   * and delete them (`--rfc2136-axfr`; the server needs `disable-axfr=no` and an empty
   * `allow-axfr-ips`). Default false: ExternalDNS only adds.
   */
  readonly axfr?: boolean;
  /** The algorithm of new keys (default `hmac-sha256`; not `hmac-md5`). */
  readonly tsigAlgorithm?: TsigAlgorithm;
}

/** The organisation lock every write of one organisation holds (see `docs/reliability.md`). @public */
export interface LockOptions {
  /** How long a lock stays valid without renewal; a crashed holder's lock expires after it (default 60 000 ms). */
  readonly ttlMs?: number;
  /** How long an operation waits for another process's lock before `CONFLICT` (default 600 000 ms). */
  readonly waitTimeoutMs?: number;
  /** How often a waiting operation looks at another process's lock (default `min(1000, ttlMs / 20)` ms). */
  readonly pollMs?: number;
}

/**
 * Names an organisation may not have, because the platform uses them in the parent zone (`www`,
 * `mail`, …). zonekeeper also refuses, per operation, any name under which the parent zone already holds
 * records that are not the organisation's delegation.
 * @public
 */
export const DEFAULT_RESERVED_ORGANIZATION_NAMES: readonly string[] = Object.freeze([
  'www',
  'mail',
  'smtp',
  'imap',
  'pop',
  'mx',
  'ns',
  'ns1',
  'ns2',
  'dns',
  'api',
  'app',
  'admin',
  'status',
  'auth',
  'login',
  'sso',
  'id',
  'cdn',
  'static',
  'assets',
  'docs',
  'blog',
  'support',
  'help',
  'billing',
  'vpn',
  'ftp',
  'autodiscover',
  'autoconfig',
  'localhost',
  'wpad',
  'isatap',
]);

/**
 * Everything {@link createZonekeeper} needs. Only `baseDomain` is required: with no ports given, the
 * embedded in-memory implementations are used (and the parent zone of `baseDomain` is created in the
 * memory DNS provider), which is what the demo and users' tests run on.
 * @public
 */
export interface ZonekeeperConfig {
  /** The parent domain of every organisation zone, e.g. `example.com`. */
  readonly baseDomain: string;
  /** The parent zone's id; found by name when absent. */
  readonly parentZoneId?: string;
  /** DNS provider (Route 53: `createRoute53Provider` from `@zonekeeper/zone-manager/route53`). */
  readonly dns?: DnsProvider;
  /**
   * The PowerDNS backend instead of `dns` (and of the identity port, which it does not use): builds
   * the provider, and makes each organisation's identity a TSIG key. Giving both `dns` and `powerdns`
   * is `INVALID_INPUT`.
   */
  readonly powerdns?: PowerDnsBackendConfig;
  /** Identity provider (IAM: `createIamIdentityProvider` from `@zonekeeper/iam-scoper/iam`). */
  readonly identity?: IdentityProvider;
  /**
   * Roles and OIDC providers, for clusters attached with keyless credentials (IAM: one object that is
   * both, e.g. `{ ...createIamRoleProvider(o), ...createIamOidcProviderRegistry(o) }` from
   * `@zonekeeper/iam-scoper/iam`). Default: the embedded memory provider.
   */
  readonly roles?: RoleProvider & OidcProviderRegistry;
  /** EKS Pod Identity associations (`createEksPodIdentityProvider` from `@zonekeeper/iam-scoper/eks`). Default: memory. */
  readonly podIdentity?: PodIdentityAssociationProvider;
  /**
   * The AWS account of the roles and OIDC providers (keyless credentials): its id, partition and
   * trust-policy quota (default 2,048 characters). Required with a configured `roles` provider.
   */
  readonly keyless?: {
    readonly accountId: string;
    readonly partition?: 'aws' | 'aws-cn' | 'aws-us-gov';
    readonly maxTrustPolicyChars?: number;
  };
  /** Secret store (Vault: `createVaultSecretStore` from `@zonekeeper/vault-keys/vault`). */
  readonly secrets?: SecretStore;
  /** Cluster clients by id (Kubernetes: `createKubernetesCluster` from `@zonekeeper/externaldns-deployer/kubernetes`). */
  readonly clusters?: ClusterResolver;
  /**
   * The host platform's cluster inventory. Required by `collectGarbage` and `runGarbageCollector`, which
   * refuse (`INVALID_INPUT`) without one rather than treat every organisation as unused.
   */
  readonly inventory?: ClusterInventory;
  /**
   * The identity scope of clusters attached without one (default `organization`). Each attach records
   * the scope it used; changing this default never changes an attached cluster's scope.
   */
  readonly identityScope?: IdentityScope;
  /**
   * Secret path prefix in the store. Default `zonekeeper/platforms/<baseDomain>`, so platforms sharing a
   * store never share paths (zonekeeper 0.1 used `zonekeeper`: set that to keep a 0.1 layout).
   */
  readonly secretPrefix?: string;
  readonly externalDns?: ExternalDnsDefaults;
  /** Certificate defaults. */
  readonly certificates?: {
    readonly keyAlgorithm?: KeyAlgorithm;
    readonly validityDays?: number;
    /**
     * The basic constraints path length of organisation CAs created or renewed from now on: `0`
     * (default) signs server certificates only; `1` also signs the name-constrained intermediate that
     * cert-manager mode's CA `Issuer` holds (`certManager.ca`). Checked by `createZonekeeper`.
     */
    readonly caPathLength?: 0 | 1;
  };
  /**
   * The ACME CA for publicly trusted certificates (`issueCertificate(…, { acme: true })`, the CLI's
   * `cert issue --acme`): directory URL (https), `termsOfServiceAgreed: true`, contacts, timings
   * (`AcmeSettings` of `@zonekeeper/cert-issuer`). Checked by `createZonekeeper`. Absent: no ACME.
   */
  readonly acme?: AcmeSettings;
  /**
   * Garbage-collection policy options, the longest sleep of the collector loop (default 1 h), and
   * `concurrency`: how many organisations one collection deletes at the same time (an integer from 1 to
   * 64; default 1). Independent reads (the sweep's tag reads) keep max(8, 2 × concurrency) in flight.
   * Every call still waits for the providers' rate limiters; each organisation is deleted under its own
   * lock. Above 1, a month-end deletion under real latency can keep the account's request budget busy;
   * the price is that an inventory failure stops the other organisations at their next re-check rather
   * than at once (docs/decisions.md 27).
   */
  readonly gc?: CollectionPolicyOptions & { readonly maxIntervalMs?: number; readonly concurrency?: number };
  /**
   * Organisation names that are refused (`INVALID_INPUT`, before any call). Default
   * {@link DEFAULT_RESERVED_ORGANIZATION_NAMES}; pass `[]` to reserve nothing.
   */
  readonly reservedOrganizationNames?: readonly string[];
  /** The organisation lock's timing. */
  readonly locks?: LockOptions;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /**
   * An OpenTelemetry tracer (`trace.getTracer('zonekeeper')` from `@opentelemetry/api`, an optional peer
   * dependency): one span per operation, one child span per port call (see `docs/observability.md`).
   * Spans nest through the registered context manager (every OpenTelemetry Node SDK setup registers
   * one). Absent: no tracing, and no wrapping at all.
   */
  readonly tracer?: Tracer;
  /** The metrics hook: callbacks per operation, port call and collector decision ({@link ZonekeeperMetrics}). */
  readonly metrics?: ZonekeeperMetrics;
  /** Random source in [0, 1) for new CallerReferences and lock holder ids (default `Math.random`). */
  readonly random?: () => number;
}
