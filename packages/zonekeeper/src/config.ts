/**
 * Configuration of {@link createZonekeeper}: the base domain, the ports (ready instances or nothing,
 * in which case the embedded in-memory defaults are used), the cluster inventory and the tunables.
 *
 * @packageDocumentation
 */

import type { KeyAlgorithm } from '@zonekeeper/cert-issuer';
import type { Clock, ClusterClient, Logger } from '@zonekeeper/core';
import type { ExternalDnsPolicy, ExternalDnsSource } from '@zonekeeper/externaldns-deployer';
import type { GcPolicyOptions } from '@zonekeeper/gc-policy';
import type { IdentityProvider } from '@zonekeeper/iam-scoper';
import type { SecretStore } from '@zonekeeper/vault-keys';
import type { DnsProvider } from '@zonekeeper/zone-manager';
import type { ClusterInventory } from './inventory.js';

/**
 * Finds the client for a cluster id: a function, or a map from cluster id to client.
 * @public
 */
export type ClusterResolver =
  | ((clusterId: string) => ClusterClient | Promise<ClusterClient>)
  | Readonly<Record<string, ClusterClient>>;

/** Which identity ExternalDNS runs with. @public */
export type IdentityScope = 'organization' | 'cluster';

/** Defaults for every ExternalDNS installation. @public */
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
  /** Identity provider (IAM: `createIamIdentityProvider` from `@zonekeeper/iam-scoper/iam`). */
  readonly identity?: IdentityProvider;
  /** Secret store (Vault: `createVaultSecretStore` from `@zonekeeper/vault-keys/vault`). */
  readonly secrets?: SecretStore;
  /** Cluster clients by id (Kubernetes: `createKubernetesCluster` from `@zonekeeper/externaldns-deployer/kubernetes`). */
  readonly clusters?: ClusterResolver;
  /**
   * The host platform's cluster inventory. Required by `collectGarbage` and `runGarbageCollector`, which
   * refuse (`INVALID_INPUT`) without one rather than treat every organisation as unused.
   */
  readonly inventory?: ClusterInventory;
  /** One IAM identity per organisation (default) or one per cluster. */
  readonly identityScope?: IdentityScope;
  /** Secret path prefix in the store (default `zonekeeper`). */
  readonly secretPrefix?: string;
  readonly externalDns?: ExternalDnsDefaults;
  /** Certificate defaults. */
  readonly certificates?: { readonly keyAlgorithm?: KeyAlgorithm; readonly validityDays?: number };
  /** Garbage-collection policy options and the longest sleep of the collector loop (default 1 h). */
  readonly gc?: GcPolicyOptions & { readonly maxIntervalMs?: number };
  readonly clock?: Clock;
  readonly logger?: Logger;
}
