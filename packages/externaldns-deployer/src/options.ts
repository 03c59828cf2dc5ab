/**
 * The options of {@link renderExternalDns}: public types, defaults and their validation
 * ({@link resolveExternalDnsOptions}). Pure: every bad value is an `INVALID_INPUT` error before anything
 * is rendered, and no message ever contains the secret access key.
 *
 * @packageDocumentation
 */

import {
  invalidInput,
  isZonekeeperError,
  normalizeDomainName,
  normalizeHostedZoneId,
  validateDnsLabel,
} from '@zonekeeper/core';
import {
  type ExternalDnsCredentials,
  type ResolvedExternalDnsCredentials,
  validateExternalDnsCredentials,
} from './credentials.js';
import {
  DEFAULT_EXTERNAL_DNS_IMAGE,
  DEFAULT_TXT_PREFIX,
  DEFAULT_ZONES_CACHE_DURATION,
  EXTERNAL_DNS_ANNOTATION_PREFIX,
  isScopeSafeTxtPrefix,
} from './upstream.js';

// ---------------------------------------------------------------------------------------------------
// Public types and constants
// ---------------------------------------------------------------------------------------------------

/**
 * The ExternalDNS sources this package knows how to grant RBAC for, in canonical order (the order of
 * the `--source` flags). Rules per source follow the upstream chart's `clusterrole.yaml`.
 * @public
 */
export const EXTERNAL_DNS_SOURCES = [
  'service',
  'ingress',
  'node',
  'pod',
  'crd',
  'gateway-httproute',
  'gateway-grpcroute',
  'gateway-tlsroute',
  'gateway-tcproute',
  'gateway-udproute',
] as const;

/** One of {@link EXTERNAL_DNS_SOURCES}. @public */
export type ExternalDnsSource = (typeof EXTERNAL_DNS_SOURCES)[number];

/**
 * ExternalDNS's `--policy` (required since v0.22.0): `upsert-only` never deletes, `create-only` never
 * updates or deletes, `sync` also deletes records it owns whose source is gone.
 * @public
 */
export type ExternalDnsPolicy = 'upsert-only' | 'sync' | 'create-only';

/** The policies accepted by {@link ExternalDnsOptions.policy}. @public */
export const EXTERNAL_DNS_POLICIES: readonly ExternalDnsPolicy[] = ['upsert-only', 'sync', 'create-only'];

/** A container's image pull policy. @public */
export type ImagePullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** CPU and memory quantities, e.g. `{ cpu: '50m', memory: '64Mi' }`. @public */
export interface ResourceQuantities {
  readonly cpu?: string;
  readonly memory?: string;
}

/** Container resource requests and limits. Each quantity given overrides the default one. @public */
export interface ExternalDnsResources {
  readonly requests?: ResourceQuantities;
  readonly limits?: ResourceQuantities;
}

/**
 * The TSIG algorithms ExternalDNS v0.22's rfc2136 provider accepts (`--rfc2136-tsig-secret-alg`). PowerDNS
 * also knows `hmac-md5`; ExternalDNS does not.
 * @public
 */
export const RFC2136_TSIG_ALGORITHMS = [
  'hmac-sha1',
  'hmac-sha224',
  'hmac-sha256',
  'hmac-sha384',
  'hmac-sha512',
] as const;

/** One of {@link RFC2136_TSIG_ALGORITHMS}. @public */
export type Rfc2136TsigAlgorithm = (typeof RFC2136_TSIG_ALGORITHMS)[number];

/** The organisation's TSIG key, as the DNS server issued it. @public */
export interface Rfc2136TsigKey {
  /** The key name, e.g. `zonekeeper-update.acme.example.com` (a DNS name; trailing dot optional): `--rfc2136-tsig-keyname`. */
  readonly name: string;
  /** `--rfc2136-tsig-secret-alg`, one of {@link RFC2136_TSIG_ALGORITHMS}. Default `hmac-sha256`. */
  readonly algorithm?: Rfc2136TsigAlgorithm;
  /** The secret, base64. Written only into the Secret, read by ExternalDNS from its environment; never echoed in an error. */
  readonly secret: string;
}

/**
 * ExternalDNS's rfc2136 provider (RFC 2136 dynamic updates signed with a TSIG key), for organisations
 * whose zone lives on an authoritative server such as PowerDNS. Not the `pdns` provider: its API key is
 * server-wide and would let any tenant change every zone.
 * @public
 */
export interface Rfc2136Settings {
  /** The authoritative server's address or host name: `--rfc2136-host`. */
  readonly host: string;
  /** `--rfc2136-port`. Default 53. */
  readonly port?: number;
  /** The organisation's key. Its secret reaches ExternalDNS as `EXTERNAL_DNS_RFC2136_TSIG_SECRET` from the Secret, never as an argument. */
  readonly tsigKey: Rfc2136TsigKey;
  /**
   * `--rfc2136-axfr`: list the zone's records by a TSIG-signed zone transfer. Default `false`. Without
   * it ExternalDNS cannot read records, so it never updates or deletes one (it behaves as
   * `--policy=create-only`, adding what is missing on every loop). With it, the server must allow the
   * key to transfer the zone (PowerDNS: `TSIG-ALLOW-AXFR`), and whoever holds the key can read the zone whole.
   */
  readonly axfr?: boolean;
}

/** {@link Rfc2136Settings} after validation. @public */
export interface ResolvedRfc2136Settings {
  readonly host: string;
  readonly port: number;
  /** Canonical: lowercase, no trailing dot. */
  readonly tsigKey: {
    readonly name: string;
    readonly algorithm: Rfc2136TsigAlgorithm;
    readonly secret: string;
  };
  readonly axfr: boolean;
}

/**
 * What every provider's options share. See {@link ExternalDnsOptions}.
 * @public
 */
export interface CommonExternalDnsOptions {
  /** The cluster id (a lowercase DNS label); labels every object and is the default TXT owner id. */
  readonly clusterId: string;
  /** The organisation (a lowercase DNS label); labels every object. */
  readonly organization: string;
  /** The organisation's zone, e.g. `acme.example.com` (lowercased, trailing dot removed): `--domain-filter` unless {@link CommonExternalDnsOptions.domainFilter} narrows it, and `--rfc2136-zone`. */
  readonly zoneName: string;
  /**
   * The names ExternalDNS manages: `zoneName` (the default) or a name below it, such as
   * `c1.acme.example.com` for a cluster-scoped identity, whose IAM policy allows exactly that name and
   * the names below it (iam-scoper's `clusterRecordNames`). Rendered as `--domain-filter`, plus (AWS)
   * `--aws-zone-match-parent` when it is below the zone (so the zone itself is still selected). The TXT
   * prefix must then be scope-safe ({@link isScopeSafeTxtPrefix}).
   */
  readonly domainFilter?: string;
  /** Namespace of the namespaced objects (a DNS label). Default `external-dns`. */
  readonly namespace?: string;
  /** Also render the Namespace (so uninstall may delete it). Default `false`. */
  readonly createNamespace?: boolean;
  /** Name of the ServiceAccount and Deployment, and `app.kubernetes.io/instance` (a DNS label). Default `external-dns`. */
  readonly name?: string;
  /** Container image, pinned by tag or digest. Default {@link DEFAULT_EXTERNAL_DNS_IMAGE}. */
  readonly image?: string;
  /** Sources to watch, each from {@link EXTERNAL_DNS_SOURCES}, no duplicates. Default `['service', 'ingress']`. */
  readonly sources?: readonly ExternalDnsSource[];
  /** `--policy`. Default `upsert-only`. */
  readonly policy?: ExternalDnsPolicy;
  /** `--interval`, a Go duration of at least 1m (Route 53 allows 5 requests/s per account, shared by every cluster). Default `1m`. */
  readonly interval?: string;
  /** `--txt-owner-id`: 1–63 characters of `A-Z a-z 0-9 . _ -`, starting with a letter or digit. Default: `clusterId`. */
  readonly txtOwnerId?: string;
  /**
   * `--txt-prefix`: 1–63 characters of `a-z 0-9 . _ -`, may contain `%{record_type}`. Default
   * {@link DEFAULT_TXT_PREFIX} (`_extdns-%{record_type}.`), which keeps every ownership TXT at or below its
   * record's name, so apex records are owned too. `''` renders no prefix — only for zones whose records
   * an earlier ExternalDNS already owns without one (changing the prefix orphans existing ownership);
   * apex records then get no owner and are never updated or deleted.
   */
  readonly txtPrefix?: string;
  /**
   * `--annotation-prefix`: the prefix of the annotations ExternalDNS reads (`<prefix>hostname`, …); a DNS
   * subdomain followed by `/`. Default {@link EXTERNAL_DNS_ANNOTATION_PREFIX} (`external-dns.kubernetes.io/`,
   * ExternalDNS v0.22's own). A platform whose tenants write `external-dns.alpha.kubernetes.io/hostname`
   * (older ExternalDNS releases, Banzai Cloud Pipeline) sets `LEGACY_ANNOTATION_PREFIX`: v0.22 reads one
   * prefix only and silently ignores the others.
   */
  readonly annotationPrefix?: string;
  /** Resource requests and limits, merged over the defaults (requests 50m CPU / 64Mi, limit 128Mi memory). */
  readonly resources?: ExternalDnsResources;
  /**
   * More ExternalDNS flags (each `--flag` or `--flag=value`, no duplicates), appended after the managed
   * ones. Flags this renderer manages (`--provider`, `--source`, `--domain-filter`, `--zone-id-filter`,
   * `--aws-zone-type`, `--aws-zone-match-parent`, `--aws-zones-cache-duration`, `--registry`,
   * `--txt-owner-id`, `--txt-prefix`, `--annotation-prefix`, `--policy`, `--interval`) are rejected: set
   * the matching option instead. So are flags that would defeat the zone scoping or the pod's wiring:
   * `--txt-suffix`, `--regex-domain-filter`, `--aws-assume-role`, `--aws-assume-role-external-id`,
   * `--aws-profile`, `--kubeconfig`, `--server`, `--metrics-address`, `--once`. Suggested: `--events`.
   */
  readonly extraArgs?: readonly string[];
  /** More labels for every object and the pod template (not the selector). `zonekeeper.io/`, `app.kubernetes.io/`, `kubernetes.io/` and `k8s.io/` keys are reserved. */
  readonly extraLabels?: Readonly<Record<string, string>>;
  /** The container's image pull policy. Default: unset (Kubernetes picks `IfNotPresent` for a tagged image). */
  readonly imagePullPolicy?: ImagePullPolicy;
}

/** ExternalDNS on Route 53 (`--provider=aws`) with a zone-scoped IAM key: the default. @public */
export interface AwsExternalDnsOptions extends CommonExternalDnsOptions {
  /** The Route 53 hosted zone id, `Z…` or `/hostedzone/Z…`: `--zone-id-filter` (bare `Z…` form). */
  readonly zoneId: string;
  /**
   * What ExternalDNS authenticates with: the zone-scoped IAM user's access key (a Secret), or a role
   * it assumes without any key — `{ mode: 'irsa', roleArn }`, `{ mode: 'pod-identity' }` or
   * `{ mode: 'web-identity', roleArn, audience?, expirationSeconds? }` (see `credentials.ts`).
   */
  readonly credentials: ExternalDnsCredentials;
  /** AWS region for the SDK (`AWS_REGION`, `AWS_DEFAULT_REGION`). Default `us-east-1`. */
  readonly region?: string;
  /**
   * `--aws-zones-cache-duration`, a Go duration (`0s` disables the cache). Default
   * {@link DEFAULT_ZONES_CACHE_DURATION} (`1h`): without it every loop lists all of the account's zones
   * 2–3 times, from every cluster.
   */
  readonly zonesCacheDuration?: string;
  readonly rfc2136?: undefined;
}

/** ExternalDNS on an RFC 2136 server (`--provider=rfc2136`) with the organisation's TSIG key. @public */
export interface Rfc2136ExternalDnsOptions extends CommonExternalDnsOptions {
  readonly rfc2136: Rfc2136Settings;
  readonly zoneId?: undefined;
  readonly credentials?: undefined;
  readonly region?: undefined;
  readonly zonesCacheDuration?: undefined;
}

/**
 * Options of {@link renderExternalDns}: Route 53 ({@link AwsExternalDnsOptions}) or, with `rfc2136`, an
 * RFC 2136 server ({@link Rfc2136ExternalDnsOptions}). Everything is validated before anything is
 * rendered; a bad value is an `INVALID_INPUT` `ZonekeeperError`. Unknown option names are rejected too
 * (typos would otherwise be silently ignored), and so are the other provider's options.
 * @public
 */
export type ExternalDnsOptions = AwsExternalDnsOptions | Rfc2136ExternalDnsOptions;

/** What every provider's resolved options share. @public */
export interface ResolvedCommonExternalDnsOptions {
  readonly clusterId: string;
  readonly organization: string;
  /** Lowercase, no trailing dot. */
  readonly zoneName: string;
  readonly namespace: string;
  readonly createNamespace: boolean;
  readonly name: string;
  readonly image: string;
  /** The image tag when it is a valid label value (used for `app.kubernetes.io/version`). */
  readonly version: string | undefined;
  /** In canonical ({@link EXTERNAL_DNS_SOURCES}) order. */
  readonly sources: readonly ExternalDnsSource[];
  readonly policy: ExternalDnsPolicy;
  readonly interval: string;
  readonly txtOwnerId: string;
  /** `undefined` when `txtPrefix: ''` (no prefix rendered). */
  readonly txtPrefix: string | undefined;
  readonly annotationPrefix: string;
  /** Lowercase, no trailing dot; `zoneName` or a name below it. */
  readonly domainFilter: string;
  readonly resources: {
    readonly requests: Readonly<Record<string, string>>;
    readonly limits: Readonly<Record<string, string>>;
  };
  readonly extraArgs: readonly string[];
  readonly extraLabels: Readonly<Record<string, string>>;
  readonly imagePullPolicy: ImagePullPolicy | undefined;
}

/** {@link AwsExternalDnsOptions} after validation, normalisation and defaults. @public */
export interface ResolvedAwsExternalDnsOptions extends ResolvedCommonExternalDnsOptions {
  readonly provider: 'aws';
  /** The bare id, `Z…`. */
  readonly zoneId: string;
  readonly credentials: ResolvedExternalDnsCredentials;
  readonly region: string;
  readonly zonesCacheDuration: string;
}

/** {@link Rfc2136ExternalDnsOptions} after validation, normalisation and defaults. @public */
export interface ResolvedRfc2136ExternalDnsOptions extends ResolvedCommonExternalDnsOptions {
  readonly provider: 'rfc2136';
  readonly rfc2136: ResolvedRfc2136Settings;
}

/** {@link ExternalDnsOptions} after validation, normalisation and defaults; `provider` tells which. @public */
export type ResolvedExternalDnsOptions = ResolvedAwsExternalDnsOptions | ResolvedRfc2136ExternalDnsOptions;

/** The defaults of the optional {@link ExternalDnsOptions}. @public */
export const defaultExternalDnsOptions = Object.freeze({
  region: 'us-east-1',
  namespace: 'external-dns',
  createNamespace: false,
  name: 'external-dns',
  image: DEFAULT_EXTERNAL_DNS_IMAGE,
  sources: Object.freeze(['service', 'ingress'] as const),
  policy: 'upsert-only',
  interval: '1m',
  txtPrefix: DEFAULT_TXT_PREFIX,
  annotationPrefix: EXTERNAL_DNS_ANNOTATION_PREFIX,
  zonesCacheDuration: DEFAULT_ZONES_CACHE_DURATION,
  resources: Object.freeze({
    requests: Object.freeze({ cpu: '50m', memory: '64Mi' }),
    limits: Object.freeze({ memory: '128Mi' }),
  }),
} as const);

// ---------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------

const OPTION_NAMES: ReadonlySet<string> = new Set([
  'clusterId',
  'organization',
  'zoneName',
  'zoneId',
  'credentials',
  'region',
  'namespace',
  'createNamespace',
  'name',
  'image',
  'sources',
  'policy',
  'interval',
  'txtOwnerId',
  'txtPrefix',
  'annotationPrefix',
  'domainFilter',
  'zonesCacheDuration',
  'resources',
  'extraArgs',
  'extraLabels',
  'imagePullPolicy',
  'rfc2136',
]);

/** The options that belong to the AWS provider only. */
const AWS_ONLY_OPTIONS = ['zoneId', 'credentials', 'region', 'zonesCacheDuration'] as const;

/** Flags the renderer sets itself; `extraArgs` may not repeat or override them. */
const MANAGED_FLAGS: ReadonlySet<string> = new Set([
  'provider',
  'source',
  'domain-filter',
  'zone-id-filter',
  'aws-zone-type',
  'aws-zone-match-parent',
  'aws-zones-cache-duration',
  'registry',
  'txt-owner-id',
  'txt-prefix',
  'annotation-prefix',
  'policy',
  'interval',
  'rfc2136-host',
  'rfc2136-port',
  'rfc2136-zone',
  'rfc2136-tsig-keyname',
  'rfc2136-tsig-secret-alg',
  'rfc2136-axfr',
]);

/** Flags `extraArgs` may not set at all, and why. */
const FORBIDDEN_FLAGS: Readonly<Record<string, string>> = {
  'txt-suffix': 'it excludes --txt-prefix, which zonekeeper renders (set txtPrefix instead)',
  'regex-domain-filter': 'it replaces --domain-filter, widening what ExternalDNS manages beyond the zone',
  'aws-assume-role': 'it switches ExternalDNS away from the zone-scoped key zonekeeper issued',
  'aws-assume-role-external-id': "it belongs to --aws-assume-role, which switches away from zonekeeper's key",
  'aws-profile': "it selects another profile than the one in zonekeeper's credentials file",
  kubeconfig: 'the pod talks to its own cluster with its ServiceAccount',
  server: 'the pod talks to its own cluster with its ServiceAccount',
  'metrics-address': `the probes expect port ${7979}`,
  once: 'a Deployment that exits after one loop restarts for ever',
  'rfc2136-tsig-secret':
    'on the command line the secret is visible to anyone who can read the Deployment or the process list; zonekeeper passes it from the Secret as EXTERNAL_DNS_RFC2136_TSIG_SECRET',
  'rfc2136-insecure': 'it sends updates unsigned, without the organisation key',
  'rfc2136-tsig-axfr': 'it is deprecated; set rfc2136.axfr instead',
  'rfc2136-gss-tsig': "it switches ExternalDNS away from the organisation's TSIG key",
  'rfc2136-kerberos-username':
    "it belongs to --rfc2136-gss-tsig, which switches away from the organisation's key",
  'rfc2136-kerberos-password':
    "it belongs to --rfc2136-gss-tsig, which switches away from the organisation's key",
  'rfc2136-kerberos-realm':
    "it belongs to --rfc2136-gss-tsig, which switches away from the organisation's key",
  'pdns-api-key':
    "the PowerDNS API key is server-wide: it would let this cluster change every organisation's zone",
};

const RESERVED_LABEL_PREFIXES = ['zonekeeper.io/', 'app.kubernetes.io/', 'kubernetes.io/', 'k8s.io/'];

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const GO_DURATION = /^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const GO_DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;
const TXT_OWNER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const TXT_PREFIX = /^(?:[a-z0-9._-]|%\{record_type\})+$/;
const ANNOTATION_PREFIX =
  /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\/$/;
const QUANTITY = /^(\d+(?:\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const LABEL_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IMAGE_NAME =
  /^(?:[A-Za-z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const IMAGE_DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[A-Fa-f0-9]{32,}$/;
const CONTROL_CHARS = /\p{Cc}/u;

const DURATION_UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};
const MIN_INTERVAL_MS = 60_000;

const QUANTITY_FACTOR: Readonly<Record<string, number>> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A description of a non-secret value for messages. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  // Never truncated: the secret masking in resolveExternalDnsOptions must see whole values.
  if (typeof value === 'string') return JSON.stringify(value);
  return `a ${typeof value}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const PREFIX = 'ExternalDNS options';

function fail(message: string, details?: Readonly<Record<string, unknown>>): never {
  throw invalidInput(`${PREFIX}: ${message}`, details);
}

function optionalString(options: Record<string, unknown>, key: string): string | undefined {
  const value = options[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') fail(`${key} must be a string, got ${describe(value)}.`, { option: key });
  return value;
}

function validateZoneId(value: unknown): string {
  if (typeof value !== 'string')
    fail(`zoneId is required: a string, got ${describe(value)}.`, { option: 'zoneId' });
  try {
    return normalizeHostedZoneId(value, 'zoneId');
  } catch (error) {
    fail(`${(error as Error).message}`, { option: 'zoneId', value });
  }
}

function validateZoneName(value: unknown): string {
  const zone = normalizeDomainName(value, `${PREFIX}: zoneName`);
  if (!zone.includes('.')) {
    fail(
      `zoneName ${describe(value)} is a top-level domain; expected an organisation zone such as "acme.example.com".`,
      {
        option: 'zoneName',
        value,
      },
    );
  }
  return zone;
}

function parseGoDurationMs(text: string): number {
  let total = 0;
  for (const match of text.matchAll(GO_DURATION_PART)) {
    total += Number(match[1]) * (DURATION_UNIT_MS[match[2] as string] as number);
  }
  return total;
}

function validateInterval(value: string): string {
  if (!GO_DURATION.test(value)) {
    fail(`interval ${describe(value)} is not a Go duration such as "1m", "90s" or "1h30m".`, {
      option: 'interval',
      value,
    });
  }
  if (parseGoDurationMs(value) < MIN_INTERVAL_MS) {
    fail(
      `interval ${describe(value)} is shorter than 1m; Route 53 refills 10 requests per second per AWS account (a token bucket, since 2026-07-30), shared by every cluster, so use "1m" or more (add "--events" to extraArgs for faster reactions).`,
      { option: 'interval', value },
    );
  }
  return value;
}

function validateZonesCacheDuration(value: string): string {
  if (!GO_DURATION.test(value)) {
    fail(
      `zonesCacheDuration ${describe(value)} is not a Go duration such as "1h", "30m" or "0s" (0s disables the cache).`,
      { option: 'zonesCacheDuration', value },
    );
  }
  return value;
}

function validateAnnotationPrefix(value: string): string {
  if (value.length > 254 || !ANNOTATION_PREFIX.test(value)) {
    fail(
      `annotationPrefix ${describe(value)} must be a lowercase DNS subdomain followed by "/", such as "external-dns.kubernetes.io/" or "external-dns.alpha.kubernetes.io/".`,
      { option: 'annotationPrefix', value },
    );
  }
  return value;
}

function validateDomainFilter(value: unknown, zone: string): string {
  if (value === undefined) return zone;
  const name = normalizeDomainName(value, `${PREFIX}: domainFilter`);
  if (name !== zone && !name.endsWith(`.${zone}`)) {
    fail(`domainFilter ${describe(value)} is not ${describe(zone)} or a name below it.`, {
      option: 'domainFilter',
      value,
    });
  }
  return name;
}

function parseImage(value: string): { image: string; version: string | undefined } {
  const problem = (why: string): never => fail(`image ${describe(value)} ${why}`, { option: 'image', value });
  if (value.length === 0) problem('is empty.');
  if (/\s/.test(value) || CONTROL_CHARS.test(value)) problem('contains whitespace.');
  const at = value.indexOf('@');
  const withoutDigest = at === -1 ? value : value.slice(0, at);
  const digest = at === -1 ? undefined : value.slice(at + 1);
  if (digest !== undefined && !IMAGE_DIGEST.test(digest))
    problem('has an invalid digest (expected "@sha256:<hex>").');
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  const name = colon === -1 ? withoutDigest : withoutDigest.slice(0, colon);
  const tag = colon === -1 ? undefined : withoutDigest.slice(colon + 1);
  if (!IMAGE_NAME.test(name)) problem('is not a valid image reference (registry/repository:tag).');
  if (tag !== undefined && !IMAGE_TAG.test(tag)) problem('has an invalid tag.');
  if (tag === undefined && digest === undefined) {
    problem(`is not pinned: add a tag or a digest (e.g. ${JSON.stringify(DEFAULT_EXTERNAL_DNS_IMAGE)}).`);
  }
  const version = tag !== undefined && tag.length <= 63 && LABEL_VALUE.test(tag) ? tag : undefined;
  return { image: value, version };
}

function validateSources(value: unknown): readonly ExternalDnsSource[] {
  if (value === undefined) return defaultExternalDnsOptions.sources;
  if (!Array.isArray(value)) fail(`sources must be an array, got ${describe(value)}.`, { option: 'sources' });
  if (value.length === 0) {
    fail(`sources must not be empty; choose from ${EXTERNAL_DNS_SOURCES.join(', ')}.`, { option: 'sources' });
  }
  const known: readonly string[] = EXTERNAL_DNS_SOURCES;
  const seen = new Set<string>();
  for (const [i, source] of value.entries()) {
    if (typeof source !== 'string' || !known.includes(source)) {
      fail(`sources[${i}] ${describe(source)} is not a supported source; choose from ${known.join(', ')}.`, {
        option: 'sources',
        value: source,
      });
    }
    if (seen.has(source))
      fail(`sources lists ${describe(source)} twice.`, { option: 'sources', value: source });
    seen.add(source);
  }
  return EXTERNAL_DNS_SOURCES.filter((s) => seen.has(s));
}

function quantityValue(text: string): number {
  const match = QUANTITY.exec(text) as RegExpExecArray;
  return Number(match[1]) * (QUANTITY_FACTOR[match[2] ?? ''] as number);
}

function validateQuantities(
  value: unknown,
  path: string,
  defaults: Readonly<Record<string, string>>,
): Record<string, string> {
  if (value === undefined) return { ...defaults };
  if (!isPlainObject(value)) fail(`${path} must be an object { cpu?, memory? }, got ${describe(value)}.`);
  const merged: Record<string, string> = { ...defaults };
  for (const [key, quantity] of Object.entries(value)) {
    if (key !== 'cpu' && key !== 'memory') fail(`${path}.${key} is not supported; only cpu and memory are.`);
    if (quantity === undefined) continue;
    if (typeof quantity !== 'string' || !QUANTITY.test(quantity)) {
      fail(
        `${path}.${key} ${describe(quantity)} is not a Kubernetes quantity such as "100m", "0.5", "64Mi" or "1Gi".`,
        {
          option: `${path}.${key}`,
          value: quantity,
        },
      );
    }
    merged[key] = quantity;
  }
  return merged;
}

function validateResources(value: unknown): ResolvedExternalDnsOptions['resources'] {
  if (value !== undefined && !isPlainObject(value)) {
    fail(`resources must be an object { requests?, limits? }, got ${describe(value)}.`, {
      option: 'resources',
    });
  }
  const given = value ?? {};
  for (const key of Object.keys(given)) {
    if (key !== 'requests' && key !== 'limits')
      fail(`resources.${key} is not supported; only requests and limits are.`);
  }
  const defaults = defaultExternalDnsOptions.resources;
  const requests = validateQuantities(given.requests, 'resources.requests', defaults.requests);
  const limits = validateQuantities(given.limits, 'resources.limits', defaults.limits);
  for (const key of ['cpu', 'memory'] as const) {
    const request = requests[key];
    const limit = limits[key];
    if (request !== undefined && limit !== undefined && quantityValue(limit) < quantityValue(request)) {
      fail(`resources.limits.${key} (${limit}) is lower than resources.requests.${key} (${request}).`, {
        option: `resources.limits.${key}`,
      });
    }
  }
  return { requests, limits };
}

function validateExtraArgs(value: unknown): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(`extraArgs must be an array of strings, got ${describe(value)}.`);
  return value.map((arg, i) => {
    if (typeof arg !== 'string') fail(`extraArgs[${i}] must be a string, got ${describe(arg)}.`);
    const flag = /^--([a-z0-9][a-z0-9-]*)(?:=|$)/.exec(arg);
    if (!flag) {
      fail(`extraArgs[${i}] ${describe(arg)} is not a flag; write "--flag" or "--flag=value".`, {
        option: 'extraArgs',
        index: i,
      });
    }
    if (CONTROL_CHARS.test(arg)) {
      fail(`extraArgs[${i}] contains a control character or line break.`, { option: 'extraArgs', index: i });
    }
    const name = flag[1] as string;
    if (MANAGED_FLAGS.has(name)) {
      fail(
        `extraArgs[${i}] sets --${name}, which the renderer manages; use the matching option instead (zoneName, zoneId, domainFilter, sources, policy, interval, txtOwnerId, txtPrefix, annotationPrefix, zonesCacheDuration, rfc2136).`,
        { option: 'extraArgs', index: i, flag: `--${name}` },
      );
    }
    const why = FORBIDDEN_FLAGS[name];
    if (why !== undefined) {
      fail(`extraArgs[${i}] sets --${name}, which zonekeeper does not allow: ${why}.`, {
        option: 'extraArgs',
        index: i,
        flag: `--${name}`,
      });
    }
    if (value.indexOf(arg) !== i) {
      fail(`extraArgs lists ${describe(arg)} twice.`, { option: 'extraArgs', index: i });
    }
    return arg;
  });
}

function validateLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash === -1) return LABEL_NAME.test(key);
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix) && LABEL_NAME.test(key.slice(slash + 1));
}

function validateExtraLabels(value: unknown): Readonly<Record<string, string>> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) fail(`extraLabels must be an object of strings, got ${describe(value)}.`);
  const labels: Record<string, string> = {};
  for (const key of Object.keys(value).sort()) {
    const label = value[key];
    if (!validateLabelKey(key)) {
      fail(
        `extraLabels key ${describe(key)} is not a valid label key ([prefix/]name, name ≤ 63 characters).`,
        {
          option: 'extraLabels',
          key,
        },
      );
    }
    const reserved = RESERVED_LABEL_PREFIXES.find((p) => key.startsWith(p) || key.includes(`.${p}`));
    if (reserved !== undefined) {
      fail(`extraLabels key ${describe(key)} uses the reserved prefix ${describe(reserved)}.`, {
        option: 'extraLabels',
        key,
      });
    }
    if (typeof label !== 'string' || label.length > 63 || !LABEL_VALUE.test(label)) {
      fail(
        `extraLabels[${describe(key)}] ${describe(label)} is not a valid label value (≤ 63 characters of A-Z a-z 0-9 . _ -, starting and ending with a letter or digit).`,
        { option: 'extraLabels', key },
      );
    }
    labels[key] = label;
  }
  return labels;
}

/**
 * Validates `options`, applies the defaults and normalises names (zone name lowercased, zone id bare,
 * sources in canonical order). Throws `INVALID_INPUT` on the first problem; no message or detail ever
 * contains the secret access key or the TSIG secret.
 * @public
 */
export function resolveExternalDnsOptions(options: ExternalDnsOptions): ResolvedExternalDnsOptions {
  try {
    return resolve(options);
  } catch (error) {
    throw scrubSecret(error, options);
  }
}

/**
 * Defence in depth: if the secret access key or the TSIG secret was passed in a field that is echoed
 * (say `region`), the error must still not contain it. Rebuilds the error with every occurrence masked.
 */
function scrubSecret(error: unknown, options: unknown): unknown {
  const credentials = isPlainObject(options) ? options.credentials : undefined;
  const rfc2136 = isPlainObject(options) ? options.rfc2136 : undefined;
  const tsigKey = isPlainObject(rfc2136) ? rfc2136.tsigKey : undefined;
  const awsSecret = isPlainObject(credentials) ? credentials.secretAccessKey : undefined;
  const tsigSecret = isPlainObject(tsigKey) ? tsigKey.secret : undefined;
  let masked = error;
  for (const secret of [awsSecret, tsigSecret]) masked = scrubOne(masked, secret);
  return masked;
}

function scrubOne(error: unknown, secret: unknown): unknown {
  if (typeof secret !== 'string' || secret.length === 0 || !isZonekeeperError(error)) return error;
  const escaped = JSON.stringify(secret).slice(1, -1); // as describe() quotes it
  const mask = (text: string): string => text.split(secret).join('********').split(escaped).join('********');
  const maskDeep = (value: unknown): unknown => {
    if (typeof value === 'string') return mask(value);
    if (Array.isArray(value)) return value.map(maskDeep);
    if (isPlainObject(value))
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [mask(k), maskDeep(v)]));
    return value;
  };
  return invalidInput(
    mask(error.message),
    error.details === undefined ? undefined : (maskDeep(error.details) as Record<string, unknown>),
  );
}

function resolve(options: ExternalDnsOptions): ResolvedExternalDnsOptions {
  const raw: unknown = options;
  if (!isPlainObject(raw))
    fail(`expected an options object, got ${raw === undefined ? 'nothing' : describe(raw)}.`);
  for (const key of Object.keys(raw)) {
    if (!OPTION_NAMES.has(key)) {
      fail(`unknown option ${describe(key)}; known options: ${[...OPTION_NAMES].join(', ')}.`, {
        option: key,
      });
    }
  }

  const rfc2136Given = raw.rfc2136 !== undefined;
  if (rfc2136Given) {
    for (const key of AWS_ONLY_OPTIONS) {
      if (raw[key] !== undefined) {
        fail(`${key} belongs to the AWS provider; with rfc2136 it must not be given.`, { option: key });
      }
    }
  }
  const required: ReadonlyArray<readonly [string, string]> = [
    ['clusterId', 'the cluster id, a DNS label such as "prod-eu"'],
    ['organization', 'the organisation, a DNS label such as "acme"'],
    ['zoneName', 'the organisation zone, such as "acme.example.com"'],
    ...(rfc2136Given
      ? []
      : ([
          ['zoneId', 'the Route 53 hosted zone id, "Z…" (or give rfc2136 for an RFC 2136 server)'],
          [
            'credentials',
            'the IAM access key, { accessKeyId, secretAccessKey }, or a role: { mode: "irsa" | "pod-identity" | "web-identity", roleArn }',
          ],
        ] as const)),
  ];
  for (const [key, what] of required) {
    if (raw[key] === undefined || raw[key] === null) fail(`${key} is required (${what}).`, { option: key });
  }
  const clusterId = validateDnsLabel(raw.clusterId, `${PREFIX}: clusterId`);
  const organization = validateDnsLabel(raw.organization, `${PREFIX}: organization`);
  const zoneName = validateZoneName(raw.zoneName);
  const provider = rfc2136Given ? validateRfc2136(raw.rfc2136) : validateAws(raw);
  const namespace = validateDnsLabel(
    optionalString(raw, 'namespace') ?? defaultExternalDnsOptions.namespace,
    `${PREFIX}: namespace`,
  );
  const createNamespace = raw.createNamespace ?? defaultExternalDnsOptions.createNamespace;
  if (typeof createNamespace !== 'boolean') {
    fail(`createNamespace must be a boolean, got ${describe(createNamespace)}.`, {
      option: 'createNamespace',
    });
  }
  const name = validateDnsLabel(
    optionalString(raw, 'name') ?? defaultExternalDnsOptions.name,
    `${PREFIX}: name`,
  );
  const { image, version } = parseImage(optionalString(raw, 'image') ?? defaultExternalDnsOptions.image);
  const sources = validateSources(raw.sources);
  const policy = raw.policy ?? defaultExternalDnsOptions.policy;
  if (typeof policy !== 'string' || !(EXTERNAL_DNS_POLICIES as readonly string[]).includes(policy)) {
    fail(`policy ${describe(policy)} is not one of ${EXTERNAL_DNS_POLICIES.join(', ')}.`, {
      option: 'policy',
      value: policy,
    });
  }
  const interval = validateInterval(optionalString(raw, 'interval') ?? defaultExternalDnsOptions.interval);
  const txtOwnerId = optionalString(raw, 'txtOwnerId') ?? clusterId;
  if (!TXT_OWNER_ID.test(txtOwnerId)) {
    fail(
      `txtOwnerId ${describe(txtOwnerId)} must be 1–63 characters of A-Z, a-z, 0-9, ".", "_" and "-", starting with a letter or digit.`,
      { option: 'txtOwnerId', value: txtOwnerId },
    );
  }
  const givenPrefix = optionalString(raw, 'txtPrefix') ?? defaultExternalDnsOptions.txtPrefix;
  if (givenPrefix !== '' && (givenPrefix.length > 63 || !TXT_PREFIX.test(givenPrefix))) {
    fail(
      `txtPrefix ${describe(givenPrefix)} must be 1–63 characters of a-z, 0-9, ".", "_" and "-" (it may contain "%{record_type}"), or "" for none.`,
      { option: 'txtPrefix', value: givenPrefix },
    );
  }
  const txtPrefix = givenPrefix === '' ? undefined : givenPrefix;
  const domainFilter = validateDomainFilter(raw.domainFilter, zoneName);
  if (domainFilter !== zoneName && !isScopeSafeTxtPrefix(txtPrefix)) {
    fail(
      `txtPrefix ${describe(givenPrefix)} does not keep ownership records inside domainFilter ${describe(domainFilter)}: ExternalDNS would write TXT records outside it (denied by a scoped IAM policy on every loop). Use a prefix that contains "%{record_type}" and ends with "." (the default ${describe(DEFAULT_TXT_PREFIX)}).`,
      { option: 'txtPrefix', value: givenPrefix },
    );
  }
  const annotationPrefix = validateAnnotationPrefix(
    optionalString(raw, 'annotationPrefix') ?? defaultExternalDnsOptions.annotationPrefix,
  );
  const resources = validateResources(raw.resources);
  const extraArgs = validateExtraArgs(raw.extraArgs);
  const extraLabels = validateExtraLabels(raw.extraLabels);
  const imagePullPolicy = raw.imagePullPolicy;
  if (
    imagePullPolicy !== undefined &&
    imagePullPolicy !== 'Always' &&
    imagePullPolicy !== 'IfNotPresent' &&
    imagePullPolicy !== 'Never'
  ) {
    fail(`imagePullPolicy ${describe(imagePullPolicy)} is not one of Always, IfNotPresent, Never.`, {
      option: 'imagePullPolicy',
      value: imagePullPolicy,
    });
  }

  const common: ResolvedCommonExternalDnsOptions = {
    clusterId,
    organization,
    zoneName,
    namespace,
    createNamespace,
    name,
    image,
    version,
    sources,
    policy: policy as ExternalDnsPolicy,
    interval,
    txtOwnerId,
    txtPrefix,
    annotationPrefix,
    domainFilter,
    resources,
    extraArgs,
    extraLabels,
    imagePullPolicy,
  };
  return provider.provider === 'aws'
    ? { ...common, ...provider }
    : { ...common, provider: 'rfc2136', rfc2136: provider.rfc2136 };
}

type AwsPart = Pick<
  ResolvedAwsExternalDnsOptions,
  'provider' | 'zoneId' | 'credentials' | 'region' | 'zonesCacheDuration'
>;

function validateAws(raw: Record<string, unknown>): AwsPart {
  const zoneId = validateZoneId(raw.zoneId);
  const credentials = validateExternalDnsCredentials(raw.credentials);
  const region = optionalString(raw, 'region') ?? defaultExternalDnsOptions.region;
  if (!REGION.test(region)) {
    fail(`region ${describe(region)} is not an AWS region such as "us-east-1" or "eu-central-1".`, {
      option: 'region',
      value: region,
    });
  }
  const zonesCacheDuration = validateZonesCacheDuration(
    optionalString(raw, 'zonesCacheDuration') ?? defaultExternalDnsOptions.zonesCacheDuration,
  );
  return { provider: 'aws', zoneId, credentials, region, zonesCacheDuration };
}

const RFC2136_KEYS: ReadonlySet<string> = new Set(['host', 'port', 'tsigKey', 'axfr']);
const TSIG_KEY_KEYS: ReadonlySet<string> = new Set(['name', 'algorithm', 'secret']);
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function validateRfc2136(value: unknown): { provider: 'rfc2136'; rfc2136: ResolvedRfc2136Settings } {
  if (!isPlainObject(value)) {
    fail(`rfc2136 must be an object { host, port?, tsigKey, axfr? }, got ${describe(value)}.`, {
      option: 'rfc2136',
    });
  }
  for (const key of Object.keys(value)) {
    if (!RFC2136_KEYS.has(key)) {
      fail(`rfc2136.${key} is not supported; known: ${[...RFC2136_KEYS].join(', ')}.`, {
        option: `rfc2136.${key}`,
      });
    }
  }
  const host = value.host;
  if (
    typeof host !== 'string' ||
    !(IPV4.test(host) || (host.includes(':') && IPV6.test(host)) || HOST_NAME.test(host))
  ) {
    fail(`rfc2136.host ${describe(host)} is not an IP address or host name.`, { option: 'rfc2136.host' });
  }
  const port = value.port ?? 53;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    fail(`rfc2136.port ${describe(port)} is not a port number (1–65535).`, { option: 'rfc2136.port' });
  }
  const axfr = value.axfr ?? false;
  if (typeof axfr !== 'boolean')
    fail(`rfc2136.axfr must be a boolean, got ${describe(axfr)}.`, { option: 'rfc2136.axfr' });
  const key = value.tsigKey;
  // Never echo the key object or its secret: only kinds of values.
  if (!isPlainObject(key)) {
    fail(
      `rfc2136.tsigKey is required: an object { name, algorithm?, secret }, got ${key === undefined ? 'nothing' : Array.isArray(key) ? 'an array' : `a ${key === null ? 'null' : typeof key}`}.`,
      {
        option: 'rfc2136.tsigKey',
      },
    );
  }
  for (const k of Object.keys(key)) {
    if (!TSIG_KEY_KEYS.has(k))
      fail(`rfc2136.tsigKey has an unknown field (known: name, algorithm, secret).`, {
        option: 'rfc2136.tsigKey',
      });
  }
  const name = normalizeDomainName(key.name, `${PREFIX}: rfc2136.tsigKey.name`);
  const algorithm = key.algorithm ?? 'hmac-sha256';
  if (typeof algorithm !== 'string' || !(RFC2136_TSIG_ALGORITHMS as readonly string[]).includes(algorithm)) {
    fail(
      `rfc2136.tsigKey.algorithm ${describe(algorithm)} is not one ExternalDNS supports: ${RFC2136_TSIG_ALGORITHMS.join(', ')}.`,
      { option: 'rfc2136.tsigKey.algorithm' },
    );
  }
  const secret = key.secret;
  if (typeof secret !== 'string' || secret.length === 0) {
    fail(
      `rfc2136.tsigKey.secret is required: a non-empty base64 string, got ${secret === '' ? 'an empty string' : secret === undefined ? 'nothing' : `a ${secret === null ? 'null' : typeof secret}`}.`,
      {
        option: 'rfc2136.tsigKey.secret',
      },
    );
  }
  if (secret.length > 1024 || !BASE64.test(secret)) {
    fail(`rfc2136.tsigKey.secret is not base64 (a string of ${secret.length} characters, not shown).`, {
      option: 'rfc2136.tsigKey.secret',
    });
  }
  return {
    provider: 'rfc2136',
    rfc2136: {
      host: host.replace(/\.$/, ''),
      port,
      axfr,
      tsigKey: { name, algorithm: algorithm as Rfc2136TsigAlgorithm, secret },
    },
  };
}
