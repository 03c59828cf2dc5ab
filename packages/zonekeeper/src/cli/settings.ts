/**
 * Global settings of the `zonekeeper` command: flags and environment resolved and validated into plain
 * data before any client is built (so bad input exits with code 2 and nothing is sent anywhere).
 *
 * @packageDocumentation
 */

import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import {
  invalidInput,
  normalizeBaseDomain,
  normalizeHostname,
  organizationZoneName,
  validateClusterId,
  validateDnsLabel,
} from '@zonekeeper/core';
import type { IdentityScope } from '../config.js';

/** The environment the command reads (`process.env` in the bin). */
export type CliEnv = Readonly<Record<string, string | undefined>>;

/** Static AWS credentials taken from the environment (the first link of the default chain). */
export interface EnvAwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** AWS settings. */
export interface AwsSettings {
  readonly region: string;
  readonly route53Endpoint?: string;
  readonly iamEndpoint?: string;
  /** STS, for the roles of a fleet file's accounts (`--aws-endpoint`, `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`). */
  readonly stsEndpoint?: string;
  /** Absent: the SDK's default provider chain (profiles, SSO, web identity, instance metadata). */
  readonly credentials?: EnvAwsCredentials;
  readonly requestsPerSecond?: number;
  /** The account of keyless credentials' roles (`--aws-account-id`, env `ZONEKEEPER_AWS_ACCOUNT_ID`). */
  readonly accountId?: string;
}

/** Vault settings (the token comes from `VAULT_TOKEN` only, never from a flag). */
export interface VaultSettings {
  readonly endpoint: string | undefined;
  readonly token: string | undefined;
  readonly namespace?: string;
  readonly mount?: string;
}

/**
 * The PowerDNS backend (`--pdns-api-url`): zones on a PowerDNS server, each organisation's identity a
 * TSIG key, ExternalDNS rendered with rfc2136. The API key comes from `ZONEKEEPER_PDNS_API_KEY` only.
 */
export interface PowerDnsSettings {
  readonly apiUrl: string;
  readonly apiKey: string;
  readonly serverId?: string;
  readonly nameServers: readonly string[];
  readonly updateHost: string;
  readonly updatePort: number;
  readonly updateSources?: readonly string[];
  readonly axfr: boolean;
}

/** Kubernetes settings: kubeconfig files (in `KUBECONFIG` order) and cluster id → context overrides. */
export interface KubeSettings {
  readonly files: readonly string[];
  readonly contexts: ReadonlyMap<string, string>;
}

/** Everything the global flags and the environment say. */
export interface CliSettings {
  readonly baseDomain: string;
  readonly parentZoneId?: string;
  readonly aws: AwsSettings;
  readonly vault: VaultSettings;
  readonly kube: KubeSettings;
  /** Absolute path of `--inventory`. */
  readonly inventoryFile?: string;
  /** The platform's default identity scope (absent: the facade's default, `organization`). */
  readonly identityScope?: IdentityScope;
  /** The secret path prefix (absent: the facade's default, per base domain). */
  readonly secretPrefix?: string;
  /** The PowerDNS backend instead of Route 53 and IAM (absent: Route 53). */
  readonly powerdns?: PowerDnsSettings;
  /** Absolute path of `--fleet` (env `ZONEKEEPER_FLEET_FILE`): several AWS accounts (see `fleet-file.ts`). */
  readonly fleetFile?: string;
}

/** The raw global options as commander parsed them. */
export interface RawGlobalOptions {
  readonly baseDomain?: string;
  readonly parentZoneId?: string;
  readonly region?: string;
  readonly awsEndpoint?: string;
  readonly requestsPerSecond?: string;
  readonly vaultAddr?: string;
  readonly vaultMount?: string;
  readonly kubeconfig?: string;
  readonly context?: readonly string[];
  readonly inventory?: string;
  readonly identityScope?: string;
  readonly secretPrefix?: string;
  readonly awsAccountId?: string;
  readonly pdnsApiUrl?: string;
  readonly pdnsServerId?: string;
  readonly pdnsNameServer?: readonly string[];
  readonly pdnsUpdateHost?: string;
  readonly pdnsUpdatePort?: string;
  readonly pdnsUpdateSource?: readonly string[];
  readonly pdnsAxfr?: boolean;
  readonly fleet?: string;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Validates an http(s) URL given by `what`. */
export function parseUrl(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidInput(`${what} ${JSON.stringify(value)} is not a URL (e.g. "http://127.0.0.1:5000").`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw invalidInput(`${what} ${JSON.stringify(value)} must be an http:// or https:// URL.`);
  if (url.username !== '' || url.password !== '')
    throw invalidInput(`${what} must not carry credentials in the URL.`);
  return value.replace(/\/+$/, '');
}

/**
 * Parses an instant for `--now`: a date (`2025-03-01`, midnight UTC) or a date and time with `Z` or an
 * offset (`2025-03-01T12:00:00Z`). A time without a zone is refused: billing is computed in UTC.
 */
export function parseInstant(value: string, what = '--now'): Date {
  const iso = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/i.test(
    value,
  );
  const date = new Date(value);
  if (!iso || Number.isNaN(date.getTime()))
    throw invalidInput(
      `${what} ${JSON.stringify(value)} is not an ISO 8601 instant; use e.g. "2025-03-01" or "2025-03-01T12:00:00Z" (a time needs "Z" or an offset).`,
    );
  return date;
}

/** Parses a positive number given by `what`. */
export function parsePositiveNumber(value: string, what: string, max = Number.POSITIVE_INFINITY): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > max)
    throw invalidInput(
      `${what} must be a positive number${Number.isFinite(max) ? ` of at most ${max}` : ''}, got ${JSON.stringify(value)}.`,
    );
  return n;
}

/** Parses a positive integer given by `what`. */
export function parsePositiveInteger(value: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = parsePositiveNumber(value, what, max);
  if (!Number.isInteger(n))
    throw invalidInput(`${what} must be a whole number, got ${JSON.stringify(value)}.`);
  return n;
}

/** Parses `--context <cluster>=<context>`. */
export function parseContextMapping(spec: string): readonly [string, string] {
  const eq = spec.indexOf('=');
  if (eq <= 0 || eq === spec.length - 1)
    throw invalidInput(
      `--context ${JSON.stringify(spec)} must be <cluster>=<context>, e.g. "prod-1=arn:aws:eks:eu-west-1:1234:cluster/prod-1".`,
    );
  return [validateClusterId(spec.slice(0, eq)), spec.slice(eq + 1)];
}

/** A certificate to inject on `cluster attach`. */
export interface CertSpec {
  readonly name: string;
  readonly namespace: string;
  readonly dnsNames: readonly string[];
}

/**
 * Parses `--cert <name>:<namespace>:<host>[,<host>…]` and checks every host lies within `zoneName`.
 */
export function parseCertSpec(spec: string, zoneName: string): CertSpec {
  const parts = spec.split(':');
  if (parts.length !== 3 || parts.some((p) => p.trim() === ''))
    throw invalidInput(
      `--cert ${JSON.stringify(spec)} must be <name>:<namespace>:<host>[,<host>…], e.g. "web:default:www.${zoneName}".`,
    );
  const [name, namespace, hosts] = parts as [string, string, string];
  validateDnsLabel(name, 'Certificate name');
  validateDnsLabel(namespace, 'Certificate namespace');
  const dnsNames = hosts.split(',').map((h) => normalizeHostname(h.trim()));
  checkWithinZone(dnsNames, zoneName, `Certificate ${name}`);
  return { name, namespace, dnsNames: [...new Set(dnsNames)] };
}

/** Throws `INVALID_INPUT` unless every name lies within `zoneName`. */
export function checkWithinZone(dnsNames: readonly string[], zoneName: string, what: string): void {
  const z = zoneName.toLowerCase();
  const outside = dnsNames.filter((n) => {
    const host = n.replace(/^\*\./, '');
    return host !== z && !host.endsWith(`.${z}`);
  });
  if (outside.length > 0)
    throw invalidInput(
      `${what}: ${outside.join(', ')} ${outside.length === 1 ? 'is' : 'are'} not within the organisation's zone ${zoneName}.`,
    );
}

/**
 * The default certificate name for `cert issue`: the first host relative to the organisation's zone,
 * dots turned into `-` and `*` into `wildcard` (`www.acme.example.com` → `www`, `*.api.acme…` →
 * `wildcard-api`, the apex → `apex`).
 */
export function defaultCertificateName(firstHost: string, zoneName: string): string {
  const relative = firstHost === zoneName ? '' : firstHost.slice(0, -(zoneName.length + 1));
  const label = relative.replace(/\*/g, 'wildcard').replace(/\./g, '-').slice(0, 63).replace(/-+$/, '');
  const name = label === '' ? 'apex' : label;
  try {
    return validateDnsLabel(name, 'Certificate name');
  } catch {
    throw invalidInput(
      `No certificate name can be derived from ${firstHost}; give one with --name <name> (a DNS label).`,
    );
  }
}

/** The `--pdns-*` options and `ZONEKEEPER_PDNS_*` variables; absent without an API URL. */
function resolvePowerDnsSettings(raw: RawGlobalOptions, env: CliEnv): PowerDnsSettings | undefined {
  const url = nonEmpty(raw.pdnsApiUrl) ?? nonEmpty(env.ZONEKEEPER_PDNS_API_URL);
  const others = [
    raw.pdnsServerId && '--pdns-server-id',
    raw.pdnsNameServer && '--pdns-name-server',
    raw.pdnsUpdateHost && '--pdns-update-host',
    raw.pdnsUpdatePort && '--pdns-update-port',
    raw.pdnsUpdateSource && '--pdns-update-source',
    raw.pdnsAxfr && '--pdns-axfr',
  ].filter((x): x is string => typeof x === 'string');
  if (url === undefined) {
    if (others.length > 0)
      throw invalidInput(
        `${others.join(', ')} need the PowerDNS backend: pass --pdns-api-url <url> (or set ZONEKEEPER_PDNS_API_URL).`,
      );
    return undefined;
  }
  const apiUrl = parseUrl(url, 'PowerDNS API URL');
  const apiKey = nonEmpty(env.ZONEKEEPER_PDNS_API_KEY);
  if (apiKey === undefined)
    throw invalidInput(
      'ZONEKEEPER_PDNS_API_KEY is not set: export the PowerDNS API key in the environment (it is never accepted as a flag, which would show it in `ps`).',
    );
  const nameServers = (
    raw.pdnsNameServer ??
    (nonEmpty(env.ZONEKEEPER_PDNS_NAME_SERVERS) ?? '').split(',').filter((n) => n.trim() !== '')
  ).map((n) => normalizeHostname(n.trim()));
  if (nameServers.length === 0)
    throw invalidInput(
      'The PowerDNS backend needs the name servers new zones publish: pass --pdns-name-server <host> (repeatable) or set ZONEKEEPER_PDNS_NAME_SERVERS (comma-separated).',
    );
  const updateHost = nonEmpty(raw.pdnsUpdateHost) ?? nonEmpty(env.ZONEKEEPER_PDNS_UPDATE_HOST);
  if (updateHost === undefined)
    throw invalidInput(
      "The PowerDNS backend needs the address clusters' ExternalDNS sends RFC 2136 updates to: pass --pdns-update-host <host> (or set ZONEKEEPER_PDNS_UPDATE_HOST).",
    );
  const portText = nonEmpty(raw.pdnsUpdatePort) ?? nonEmpty(env.ZONEKEEPER_PDNS_UPDATE_PORT);
  const updatePort = portText === undefined ? 53 : Number(portText);
  if (!Number.isInteger(updatePort) || updatePort < 1 || updatePort > 65_535)
    throw invalidInput(
      `--pdns-update-port must be an integer from 1 to 65535, got ${JSON.stringify(portText)}.`,
    );
  const serverId = nonEmpty(raw.pdnsServerId) ?? nonEmpty(env.ZONEKEEPER_PDNS_SERVER_ID);
  return {
    apiUrl,
    apiKey,
    ...(serverId === undefined ? {} : { serverId }),
    nameServers,
    updateHost,
    updatePort,
    ...(raw.pdnsUpdateSource === undefined
      ? {}
      : { updateSources: raw.pdnsUpdateSource.map((s) => s.trim()) }),
    axfr: raw.pdnsAxfr === true,
  };
}

/** Resolves and validates the global options and the environment. No client is built. */
export function resolveSettings(raw: RawGlobalOptions, env: CliEnv, cwd: string): CliSettings {
  const base = nonEmpty(raw.baseDomain) ?? nonEmpty(env.ZONEKEEPER_BASE_DOMAIN);
  if (base === undefined)
    throw invalidInput(
      'The base domain is required: pass --base-domain <domain> or set ZONEKEEPER_BASE_DOMAIN (e.g. "example.com").',
    );
  const baseDomain = normalizeBaseDomain(base);
  // Checks there is room for an organisation label under it.
  organizationZoneName('a', baseDomain);

  let parentZoneId: string | undefined;
  if (raw.parentZoneId !== undefined) {
    parentZoneId = raw.parentZoneId.trim().replace(/^\/?hostedzone\//, '');
    if (!/^[A-Za-z0-9]{1,32}$/.test(parentZoneId))
      throw invalidInput(
        `--parent-zone-id ${JSON.stringify(raw.parentZoneId)} is not a Route 53 hosted zone id (e.g. "Z0123456789ABCDEFGHIJ").`,
      );
  }

  const region =
    nonEmpty(raw.region) ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? 'us-east-1';
  if (!/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(region))
    throw invalidInput(`AWS region ${JSON.stringify(region)} is not a region name (e.g. "eu-west-1").`);
  const sharedEndpoint = nonEmpty(raw.awsEndpoint) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  const route53Endpoint =
    nonEmpty(raw.awsEndpoint) ?? nonEmpty(env.AWS_ENDPOINT_URL_ROUTE_53) ?? sharedEndpoint;
  const iamEndpoint = nonEmpty(raw.awsEndpoint) ?? nonEmpty(env.AWS_ENDPOINT_URL_IAM) ?? sharedEndpoint;
  const stsEndpoint = nonEmpty(raw.awsEndpoint) ?? nonEmpty(env.AWS_ENDPOINT_URL_STS) ?? sharedEndpoint;
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN);
  const accountId = nonEmpty(raw.awsAccountId) ?? nonEmpty(env.ZONEKEEPER_AWS_ACCOUNT_ID);
  if (accountId !== undefined && !/^\d{12}$/.test(accountId))
    throw invalidInput(`--aws-account-id ${JSON.stringify(accountId)} is not a 12-digit AWS account id.`);
  const aws: AwsSettings = {
    region,
    ...(accountId === undefined ? {} : { accountId }),
    ...(route53Endpoint === undefined ? {} : { route53Endpoint: parseUrl(route53Endpoint, 'AWS endpoint') }),
    ...(iamEndpoint === undefined ? {} : { iamEndpoint: parseUrl(iamEndpoint, 'AWS endpoint') }),
    ...(stsEndpoint === undefined ? {} : { stsEndpoint: parseUrl(stsEndpoint, 'AWS endpoint') }),
    ...(accessKeyId !== undefined && secretAccessKey !== undefined
      ? {
          credentials: {
            accessKeyId,
            secretAccessKey,
            ...(sessionToken === undefined ? {} : { sessionToken }),
          },
        }
      : {}),
    ...(raw.requestsPerSecond === undefined
      ? {}
      : { requestsPerSecond: parsePositiveNumber(raw.requestsPerSecond, '--requests-per-second', 1_000) }),
  };

  const vaultEndpoint = nonEmpty(raw.vaultAddr) ?? nonEmpty(env.VAULT_ADDR);
  const vaultNamespace = nonEmpty(env.VAULT_NAMESPACE);
  let mount: string | undefined;
  if (raw.vaultMount !== undefined) {
    mount = raw.vaultMount.trim().replace(/^\/+|\/+$/g, '');
    if (
      !/^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/.test(mount) ||
      mount.split('/').some((segment) => segment === '.' || segment === '..')
    )
      throw invalidInput(
        `--vault-mount ${JSON.stringify(raw.vaultMount)} is not a Vault mount path (e.g. "secret").`,
      );
  }
  const vault: VaultSettings = {
    endpoint: vaultEndpoint === undefined ? undefined : parseUrl(vaultEndpoint, 'Vault address'),
    token: nonEmpty(env.VAULT_TOKEN),
    ...(vaultNamespace === undefined ? {} : { namespace: vaultNamespace }),
    ...(mount === undefined ? {} : { mount }),
  };

  const kubeconfigEnv = nonEmpty(env.KUBECONFIG);
  const files =
    raw.kubeconfig !== undefined
      ? [resolve(cwd, raw.kubeconfig)]
      : kubeconfigEnv !== undefined
        ? kubeconfigEnv
            .split(delimiter)
            .filter((f) => f !== '')
            .map((f) => resolve(cwd, f))
        : [join(nonEmpty(env.HOME) ?? homedir(), '.kube', 'config')];
  const contexts = new Map<string, string>();
  for (const spec of raw.context ?? []) {
    const [cluster, context] = parseContextMapping(spec);
    if (contexts.has(cluster) && contexts.get(cluster) !== context)
      throw invalidInput(`--context maps cluster ${cluster} twice.`);
    contexts.set(cluster, context);
  }

  const scope = raw.identityScope;
  if (scope !== undefined && scope !== 'organization' && scope !== 'cluster')
    throw invalidInput(`--identity-scope must be "organization" or "cluster", got ${JSON.stringify(scope)}.`);
  const secretPrefix = nonEmpty(raw.secretPrefix) ?? nonEmpty(env.ZONEKEEPER_SECRET_PREFIX);
  if (secretPrefix !== undefined && !/^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/.test(secretPrefix))
    throw invalidInput(
      `--secret-prefix ${JSON.stringify(secretPrefix)} is not a secret path (e.g. "zonekeeper/platforms/example.com").`,
    );

  const powerdns = resolvePowerDnsSettings(raw, env);
  if (powerdns && scope === 'cluster')
    throw invalidInput(
      "--identity-scope cluster is not available with the PowerDNS backend: a TSIG key cannot be limited to a cluster's names.",
    );

  const fleet = nonEmpty(raw.fleet) ?? nonEmpty(env.ZONEKEEPER_FLEET_FILE);
  if (fleet !== undefined) {
    if (powerdns)
      throw invalidInput(
        '--fleet (several AWS accounts) cannot be combined with the PowerDNS backend (--pdns-api-url).',
      );
    if (parentZoneId !== undefined)
      throw invalidInput(
        '--parent-zone-id cannot be combined with --fleet: give the parent zone in the fleet file ("parent": {"account": …, "zoneId": …}).',
      );
  }

  return {
    baseDomain,
    ...(fleet === undefined ? {} : { fleetFile: resolve(cwd, fleet) }),
    ...(parentZoneId === undefined ? {} : { parentZoneId }),
    ...(powerdns === undefined ? {} : { powerdns }),
    aws,
    vault,
    kube: { files, contexts },
    ...(raw.inventory === undefined ? {} : { inventoryFile: resolve(cwd, raw.inventory) }),
    ...(scope === undefined ? {} : { identityScope: scope }),
    ...(secretPrefix === undefined ? {} : { secretPrefix }),
  };
}
