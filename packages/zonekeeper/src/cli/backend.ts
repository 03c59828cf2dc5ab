/**
 * Builds the ports the `zonekeeper` command runs on — Route 53, IAM, Vault, Kubernetes clusters from
 * kubeconfig contexts, and a file-backed cluster inventory — from validated {@link CliSettings}, unless
 * the caller injected them (tests).
 *
 * The adapters (AWS SDK, node-vault, @kubernetes/client-node) are imported only when a command needs
 * them, so `--help` and input errors answer at once.
 *
 * @packageDocumentation
 */

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { AcmeSettings } from '@zonekeeper/cert-issuer';
import {
  type CallOptions,
  type Clock,
  type ClusterClient,
  invalidInput,
  isZonekeeperError,
  type Logger,
  validateClusterId,
  ZonekeeperError,
} from '@zonekeeper/core';
import type {
  IdentityProvider,
  OidcProviderRegistry,
  PodIdentityAssociationProvider,
  RoleProvider,
} from '@zonekeeper/iam-scoper';
import type { SecretStore } from '@zonekeeper/vault-keys';
import type { DnsProvider } from '@zonekeeper/zone-manager';
import type { ClusterResolver } from '../config.js';
import { type ClusterInventory, type ClusterRecord, createMemoryInventory } from '../inventory.js';
import type { CliSettings, KubeSettings, VaultSettings } from './settings.js';

/**
 * Ports and runtime a caller (a test, an embedding program) may inject instead of the ones the command
 * builds from flags and the environment.
 */
export interface CliDeps {
  readonly dns?: DnsProvider;
  readonly identity?: IdentityProvider;
  readonly secrets?: SecretStore;
  readonly clusters?: ClusterResolver;
  readonly inventory?: ClusterInventory;
  readonly clock?: Clock;
  /** Receives the libraries' log lines in addition to the progress output. */
  readonly logger?: Logger;
  /** Tests: ACME settings merged over what `cert issue --acme` builds (e.g. `resolveNameServer`). */
  readonly acme?: Partial<AcmeSettings>;
}

/** Checks the Vault settings are complete (before anything is built). */
export function checkVaultSettings(vault: VaultSettings): { endpoint: string; token: string } {
  if (vault.endpoint === undefined)
    throw invalidInput('The Vault address is required: set VAULT_ADDR (or pass --vault-addr <url>).');
  if (vault.token === undefined)
    throw invalidInput(
      'VAULT_TOKEN is not set: export the Vault token in the environment (it is never accepted as a flag, which would show it in `ps`).',
    );
  return { endpoint: vault.endpoint, token: vault.token };
}

/** The Vault secret store. */
export async function buildSecretStore(vault: VaultSettings): Promise<SecretStore> {
  const { endpoint, token } = checkVaultSettings(vault);
  const { createVaultSecretStore } = await import('@zonekeeper/vault-keys/vault');
  return createVaultSecretStore({
    endpoint,
    token,
    ...(vault.namespace === undefined ? {} : { namespace: vault.namespace }),
    ...(vault.mount === undefined ? {} : { mount: vault.mount }),
  });
}

/** The Route 53 provider (credentials from the environment, else the SDK's default chain). */
export async function buildDnsProvider(settings: CliSettings): Promise<DnsProvider> {
  const { aws } = settings;
  const { createRoute53Provider } = await import('@zonekeeper/zone-manager/route53');
  return createRoute53Provider({
    region: aws.region,
    ...(aws.route53Endpoint === undefined ? {} : { endpoint: aws.route53Endpoint }),
    ...(aws.credentials === undefined ? {} : { credentials: aws.credentials }),
    ...(aws.requestsPerSecond === undefined ? {} : { requestsPerSecond: aws.requestsPerSecond }),
  });
}

/** The IAM identity provider. */
export async function buildIdentityProvider(settings: CliSettings): Promise<IdentityProvider> {
  const { aws } = settings;
  const { createIamIdentityProvider } = await import('@zonekeeper/iam-scoper/iam');
  return createIamIdentityProvider({
    region: aws.region,
    ...(aws.iamEndpoint === undefined ? {} : { endpoint: aws.iamEndpoint }),
    ...(aws.credentials === undefined ? {} : { credentials: aws.credentials }),
  });
}

/** The IAM roles and OIDC providers (keyless credentials); building them sends nothing. */
export async function buildRoleProvider(settings: CliSettings): Promise<RoleProvider & OidcProviderRegistry> {
  const { aws } = settings;
  const { createIamOidcProviderRegistry, createIamRoleProvider } = await import('@zonekeeper/iam-scoper/iam');
  const options = {
    region: aws.region,
    ...(aws.iamEndpoint === undefined ? {} : { endpoint: aws.iamEndpoint }),
    ...(aws.credentials === undefined ? {} : { credentials: aws.credentials }),
  };
  const roles = createIamRoleProvider(options);
  const registry = createIamOidcProviderRegistry(options);
  return {
    kind: roles.kind,
    getRole: roles.getRole.bind(roles),
    createRole: roles.createRole.bind(roles),
    updateTrustPolicy: roles.updateTrustPolicy.bind(roles),
    tagRole: roles.tagRole.bind(roles),
    listRoles: roles.listRoles.bind(roles),
    deleteRole: roles.deleteRole.bind(roles),
    listRolePolicies: roles.listRolePolicies.bind(roles),
    getRolePolicy: roles.getRolePolicy.bind(roles),
    putRolePolicy: roles.putRolePolicy.bind(roles),
    deleteRolePolicy: roles.deleteRolePolicy.bind(roles),
    createOidcProvider: registry.createOidcProvider.bind(registry),
    getOidcProvider: registry.getOidcProvider.bind(registry),
    listOidcProviders: registry.listOidcProviders.bind(registry),
    tagOidcProvider: registry.tagOidcProvider.bind(registry),
    deleteOidcProvider: registry.deleteOidcProvider.bind(registry),
  };
}

/**
 * EKS Pod Identity associations, loaded on first use: `@aws-sdk/client-eks` (an optional peer of
 * `@zonekeeper/iam-scoper`) is only needed by clusters attached with `--credentials pod-identity`.
 */
export function lazyPodIdentityProvider(settings: CliSettings): PodIdentityAssociationProvider {
  let loaded: Promise<PodIdentityAssociationProvider> | undefined;
  const provider = () => {
    loaded ??= import('@zonekeeper/iam-scoper/eks').then(
      ({ createEksPodIdentityProvider }) => createEksPodIdentityProvider({ region: settings.aws.region }),
      (error: unknown) => {
        loaded = undefined;
        throw invalidInput(
          `EKS Pod Identity needs @aws-sdk/client-eks: install it next to zonekeeper (${(error as Error).message}).`,
        );
      },
    );
    return loaded;
  };
  return {
    kind: 'eks',
    createAssociation: async (...a) => (await provider()).createAssociation(...a),
    describeAssociation: async (...a) => (await provider()).describeAssociation(...a),
    listAssociations: async (...a) => (await provider()).listAssociations(...a),
    deleteAssociation: async (...a) => (await provider()).deleteAssociation(...a),
  };
}

/**
 * A cluster resolver over kubeconfig files: cluster id → the context mapped with `--context`, else the
 * context named like the cluster id, looked up in each file in order (the first file that has it wins).
 * Clients are created once per cluster id. Building a client reads the kubeconfig but sends nothing.
 */
export function kubeconfigResolver(kube: KubeSettings): (clusterId: string) => Promise<ClusterClient> {
  const cache = new Map<string, ClusterClient>();
  return async (clusterIdInput) => {
    const clusterId = validateClusterId(clusterIdInput);
    const cached = cache.get(clusterId);
    if (cached) return cached;
    const context = kube.contexts.get(clusterId) ?? clusterId;
    const existing = kube.files.filter((f) => existsSync(f));
    if (existing.length === 0)
      throw invalidInput(
        `No kubeconfig file found (looked for ${kube.files.join(', ')}); set KUBECONFIG or pass --kubeconfig <file>.`,
      );
    const { createKubernetesCluster } = await import('@zonekeeper/externaldns-deployer/kubernetes');
    const problems: string[] = [];
    for (const file of existing) {
      try {
        const client = createKubernetesCluster({ name: clusterId, kubeconfigPath: file, context });
        cache.set(clusterId, client);
        return client;
      } catch (error) {
        if (!isZonekeeperError(error)) throw error;
        problems.push(`${file}: ${error.message}`);
      }
    }
    throw invalidInput(
      `No kubeconfig context ${JSON.stringify(context)} for cluster ${clusterId} (${problems.join(' ')}) Map the cluster with --context ${clusterId}=<context>.`,
    );
  };
}

function parseInventory(text: string, file: string): ClusterRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalidInput(
      `Inventory ${file} is not valid JSON (${error instanceof Error ? error.message : String(error)}).`,
    );
  }
  if (!Array.isArray(parsed))
    throw invalidInput(
      `Inventory ${file} must be a JSON array of {"organization", "clusterId", "running"} records.`,
    );
  return parsed as ClusterRecord[];
}

/**
 * Reads and checks an inventory file once, before anything else happens: valid JSON, an array of valid
 * records, no cluster listed twice. Throws `INVALID_INPUT` otherwise.
 */
export async function checkInventoryFile(file: string, options: CallOptions = {}): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, { encoding: 'utf8', ...(options.signal ? { signal: options.signal } : {}) });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    const code = (error as { code?: unknown }).code;
    throw invalidInput(`Inventory ${file} cannot be read (${typeof code === 'string' ? code : 'error'}).`);
  }
  const records = parseInventory(text, file);
  const seen = new Set<string>();
  for (const [i, r] of records.entries()) {
    try {
      createMemoryInventory([r]);
    } catch (error) {
      throw invalidInput(
        `Inventory ${file}, record ${i + 1}: ${isZonekeeperError(error) ? error.message : String(error)}`,
      );
    }
    const key = `${r.organization}/${r.clusterId}`;
    if (seen.has(key)) throw invalidInput(`Inventory ${file} lists ${key} twice.`);
    seen.add(key);
  }
  return records.length;
}

/**
 * A cluster inventory backed by a JSON file (an array of `{organization, clusterId, running}`), read
 * again on every call — so the collector's re-check before each deletion sees the file as it is then.
 * Any read or parse failure is thrown, and the collector then deletes nothing (fail closed).
 */
export function createFileInventory(file: string): ClusterInventory {
  return {
    async listClusters(options: CallOptions = {}) {
      const text = await readFile(file, {
        encoding: 'utf8',
        ...(options.signal ? { signal: options.signal } : {}),
      });
      return parseInventory(text, file);
    },
  };
}

/** Refresh assumed-role credentials this long before they expire. */
const REFRESH_BEFORE_MS = 5 * 60_000;

/**
 * Credentials of a fleet account's role, from STS `AssumeRole` signed with the environment's
 * credentials (else the SDK's default chain), cached until five minutes before they expire. Nothing is
 * sent until the first AWS call needs them. A failure is a `ZonekeeperError` naming the account and the
 * role — `PERMISSION_DENIED` (the role cannot be assumed), `THROTTLED`, or `UNAVAILABLE` — never the
 * credentials.
 */
export function assumedRoleCredentials(
  settings: CliSettings,
  account: { readonly id: string; readonly roleArn: string; readonly externalId?: string },
): () => Promise<{
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration?: Date;
}> {
  type Assumed = { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration?: Date };
  let cached: Promise<Assumed> | undefined;
  const fresh = (c: Assumed) =>
    c.expiration === undefined || c.expiration.getTime() - Date.now() > REFRESH_BEFORE_MS;
  const assume = async (): Promise<Assumed> => {
    const { STSClient, AssumeRoleCommand } = await import('@aws-sdk/client-sts');
    const { aws } = settings;
    const sts = new STSClient({
      region: aws.region,
      ...(aws.stsEndpoint === undefined ? {} : { endpoint: aws.stsEndpoint }),
      ...(aws.credentials === undefined ? {} : { credentials: aws.credentials }),
    });
    try {
      const out = await sts.send(
        new AssumeRoleCommand({
          RoleArn: account.roleArn,
          RoleSessionName: 'zonekeeper',
          ...(account.externalId === undefined ? {} : { ExternalId: account.externalId }),
        }),
      );
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken)
        throw new ZonekeeperError(
          'UNAVAILABLE',
          `Account ${account.id}: AssumeRole of ${account.roleArn} returned no credentials.`,
          { details: { account: account.id } },
        );
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        ...(c.Expiration ? { expiration: c.Expiration } : {}),
      };
    } catch (error) {
      if (isZonekeeperError(error)) throw error;
      const e = error as { name?: unknown; $metadata?: { httpStatusCode?: number } };
      const name = typeof e.name === 'string' ? e.name : 'Error';
      const status = e.$metadata?.httpStatusCode;
      const code =
        /Throttl/i.test(name) || status === 429
          ? 'THROTTLED'
          : status === undefined || status >= 500
            ? 'UNAVAILABLE'
            : 'PERMISSION_DENIED';
      throw new ZonekeeperError(
        code,
        `Account ${account.id}: cannot assume ${account.roleArn} (${name}); check the role's trust policy allows the caller to sts:AssumeRole${account.externalId === undefined ? '' : ' with this ExternalId'}.`,
        { details: { account: account.id, roleArn: account.roleArn } },
      );
    } finally {
      sts.destroy();
    }
  };
  return async () => {
    const current = cached === undefined ? undefined : await cached.catch(() => undefined);
    if (current !== undefined && fresh(current)) return current;
    const next = assume();
    cached = next;
    next.catch(() => {
      if (cached === next) cached = undefined;
    });
    return next;
  };
}
