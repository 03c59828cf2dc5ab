/**
 * What zonekeeper keeps in the secret store, where, and typed helpers to read and write it.
 *
 * Path layout under a configurable prefix (default `zonekeeper`), relative to the KV v2 mount:
 *
 * ```
 * <prefix>/orgs/<org>/aws-access-key                       the organisation's IAM access key
 * <prefix>/orgs/<org>/clusters/<cluster>/aws-access-key    a cluster-scoped IAM access key
 * <prefix>/orgs/<org>/tls/ca                               the organisation's certificate authority
 * <prefix>/orgs/<org>/tls/certs/<name>                     a server certificate and its key
 * ```
 *
 * Every write uses check-and-set: pass the version you read (0 to create), so two writers can never
 * silently overwrite each other (`CONFLICT`). Custom metadata (kind, ids, dates, serials) is secret-free
 * and readable without the secret itself.
 *
 * @packageDocumentation
 */

import {
  type CallOptions,
  invalidInput,
  normalizeHostname,
  validateClusterId,
  validateDnsLabel,
  validateOrganizationName,
  ZonekeeperError,
} from '@zonekeeper/core';
import type { SecretStore } from './ports.js';
import { validateSecretPath } from './validation.js';

/** The default path prefix. @public */
export const DEFAULT_SECRET_PREFIX = 'zonekeeper';

/** Where to keep things. @public */
export interface LayoutOptions extends CallOptions {
  /** Path prefix under the mount (default {@link DEFAULT_SECRET_PREFIX}). */
  readonly prefix?: string;
}

function prefixOf(options: LayoutOptions | undefined): string {
  const prefix = options?.prefix ?? DEFAULT_SECRET_PREFIX;
  return validateSecretPath(prefix.replace(/\/+$/, ''), 'Secret prefix');
}

/**
 * The path layout, validated. `secretPaths({ prefix: 'platform/zk' }).accessKey('acme')` is
 * `platform/zk/orgs/acme/aws-access-key`.
 * @public
 */
export function secretPaths(options: Pick<LayoutOptions, 'prefix'> = {}): {
  readonly organizationsRoot: string;
  organization(organization: string): string;
  accessKey(organization: string, clusterId?: string): string;
  certificateAuthority(organization: string): string;
  certificate(organization: string, name: string): string;
} {
  const prefix = prefixOf(options);
  const org = (o: string) => `${prefix}/orgs/${validateOrganizationName(o)}`;
  return {
    organizationsRoot: `${prefix}/orgs`,
    organization: org,
    accessKey: (o, c) =>
      c === undefined
        ? `${org(o)}/aws-access-key`
        : `${org(o)}/clusters/${validateClusterId(c)}/aws-access-key`,
    certificateAuthority: (o) => `${org(o)}/tls/ca`,
    certificate: (o, name) => `${org(o)}/tls/certs/${validateDnsLabel(name, 'Certificate name')}`,
  };
}

/** An access key as stored. The secret is a secret: never log it. @public */
export interface StoredAccessKey {
  readonly userName: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly createdAt: Date;
  /**
   * The key this one replaced, while a rotation is in flight: it may still be in use by clusters and is
   * deleted from IAM once every cluster runs the new key. Absent otherwise.
   */
  readonly previousAccessKeyId?: string;
  /** The stored version (pass it as `cas` to the next write). */
  readonly version: number;
}

/** Which access key: the organisation's, or one cluster's. @public */
export interface AccessKeyRef {
  readonly organization: string;
  readonly clusterId?: string;
}

const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;

/**
 * Reads an access key; `undefined` when none is stored.
 * @throws `INTERNAL` when the stored secret is malformed (it was not written by zonekeeper).
 * @public
 */
export async function readAccessKey(
  store: SecretStore,
  ref: AccessKeyRef,
  options: LayoutOptions = {},
): Promise<StoredAccessKey | undefined> {
  const path = secretPaths(options).accessKey(ref.organization, ref.clusterId);
  const secret = await store.read(path, signalOnly(options));
  if (!secret) return undefined;
  const { userName, accessKeyId, secretAccessKey, createdAt, previousAccessKeyId } = secret.data;
  if (!userName || !accessKeyId || !secretAccessKey || !createdAt || Number.isNaN(Date.parse(createdAt))) {
    throw new ZonekeeperError(
      'INTERNAL',
      `${store.kind} secret store: ${path} does not hold a zonekeeper access key (missing fields).`,
      { details: { path } },
    );
  }
  return {
    userName,
    accessKeyId,
    secretAccessKey,
    createdAt: new Date(createdAt),
    ...(previousAccessKeyId ? { previousAccessKeyId } : {}),
    version: secret.version,
  };
}

/** What {@link writeAccessKey} stores. @public */
export interface AccessKeyToStore {
  readonly userName: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly createdAt: Date;
  readonly previousAccessKeyId?: string;
}

/**
 * Stores an access key with check-and-set (`cas`: the version read, 0 to create) and records its id
 * and creation time as custom metadata (never the secret).
 * @throws `CONFLICT` when another writer got there first; `INVALID_INPUT` for a malformed key.
 * @public
 */
export async function writeAccessKey(
  store: SecretStore,
  ref: AccessKeyRef,
  key: AccessKeyToStore,
  options: LayoutOptions & { readonly cas: number },
): Promise<{ readonly version: number }> {
  const path = secretPaths(options).accessKey(ref.organization, ref.clusterId);
  if (!ACCESS_KEY_ID.test(key.accessKeyId))
    throw invalidInput('Access key id must be 16–128 uppercase letters and digits.');
  if (typeof key.secretAccessKey !== 'string' || key.secretAccessKey.length === 0)
    throw invalidInput('Secret access key must be a non-empty string.');
  if (typeof key.userName !== 'string' || key.userName.length === 0)
    throw invalidInput('User name must be a non-empty string.');
  if (!(key.createdAt instanceof Date) || Number.isNaN(key.createdAt.getTime()))
    throw invalidInput('createdAt must be a valid Date.');
  if (key.previousAccessKeyId !== undefined && !ACCESS_KEY_ID.test(key.previousAccessKeyId)) {
    throw invalidInput('Previous access key id must be 16–128 uppercase letters and digits.');
  }
  const data: Record<string, string> = {
    userName: key.userName,
    accessKeyId: key.accessKeyId,
    secretAccessKey: key.secretAccessKey,
    createdAt: key.createdAt.toISOString(),
    ...(key.previousAccessKeyId ? { previousAccessKeyId: key.previousAccessKeyId } : {}),
  };
  const written = await store.write(path, data, { cas: options.cas, ...signalOnly(options) });
  await store.writeMetadata(
    path,
    {
      customMetadata: {
        kind: 'aws-access-key',
        organization: ref.organization,
        ...(ref.clusterId ? { cluster: ref.clusterId } : {}),
        'user-name': key.userName,
        'access-key-id': key.accessKeyId,
        'created-at': key.createdAt.toISOString(),
      },
    },
    signalOnly(options),
  );
  return written;
}

/** A certificate authority as stored (mirrors cert-issuer's `CertificateAuthority`). @public */
export interface StoredCertificateAuthority {
  readonly certificatePem: string;
  /** PKCS#8 PEM. Never leaves the store except to sign. */
  readonly privateKeyPem: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly serialNumber: string;
  readonly version: number;
}

/** A server certificate as stored (mirrors cert-issuer's `IssuedCertificate`). @public */
export interface StoredCertificate extends StoredCertificateAuthority {
  readonly chainPem: string;
  readonly caPem: string;
  readonly dnsNames: readonly string[];
}

/** What {@link writeCertificateAuthority} stores. @public */
export type CertificateAuthorityToStore = Omit<StoredCertificateAuthority, 'version'>;
/** What {@link writeCertificate} stores. @public */
export type CertificateToStore = Omit<StoredCertificate, 'version'>;

function certificateFields(c: CertificateAuthorityToStore): Record<string, string> {
  for (const f of ['certificatePem', 'privateKeyPem', 'serialNumber'] as const) {
    if (typeof c[f] !== 'string' || c[f].length === 0) throw invalidInput(`${f} must be a non-empty string.`);
  }
  for (const f of ['notBefore', 'notAfter'] as const) {
    if (!(c[f] instanceof Date) || Number.isNaN(c[f].getTime()))
      throw invalidInput(`${f} must be a valid Date.`);
  }
  return {
    certificatePem: c.certificatePem,
    privateKeyPem: c.privateKeyPem,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    serialNumber: c.serialNumber,
  };
}

function parseCertificateFields(
  path: string,
  kind: string,
  data: Readonly<Record<string, string>>,
): CertificateAuthorityToStore {
  const { certificatePem, privateKeyPem, notBefore, notAfter, serialNumber } = data;
  if (
    !certificatePem ||
    !privateKeyPem ||
    !notBefore ||
    !notAfter ||
    !serialNumber ||
    Number.isNaN(Date.parse(notBefore)) ||
    Number.isNaN(Date.parse(notAfter))
  ) {
    throw new ZonekeeperError(
      'INTERNAL',
      `${kind} secret store: ${path} does not hold a zonekeeper certificate (missing fields).`,
      { details: { path } },
    );
  }
  return {
    certificatePem,
    privateKeyPem,
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
    serialNumber,
  };
}

/**
 * Reads the organisation's certificate authority; `undefined` when none is stored.
 * @public
 */
export async function readCertificateAuthority(
  store: SecretStore,
  organization: string,
  options: LayoutOptions = {},
): Promise<StoredCertificateAuthority | undefined> {
  const path = secretPaths(options).certificateAuthority(organization);
  const secret = await store.read(path, signalOnly(options));
  return secret && { ...parseCertificateFields(path, store.kind, secret.data), version: secret.version };
}

/**
 * Stores the organisation's certificate authority with check-and-set.
 * @public
 */
export async function writeCertificateAuthority(
  store: SecretStore,
  organization: string,
  ca: CertificateAuthorityToStore,
  options: LayoutOptions & { readonly cas: number },
): Promise<{ readonly version: number }> {
  const path = secretPaths(options).certificateAuthority(organization);
  const written = await store.write(path, certificateFields(ca), {
    cas: options.cas,
    ...signalOnly(options),
  });
  await store.writeMetadata(
    path,
    {
      customMetadata: {
        kind: 'tls-ca',
        organization,
        serial: ca.serialNumber,
        'not-after': ca.notAfter.toISOString(),
      },
    },
    signalOnly(options),
  );
  return written;
}

/**
 * Reads a server certificate by name; `undefined` when none is stored.
 * @public
 */
export async function readCertificate(
  store: SecretStore,
  organization: string,
  name: string,
  options: LayoutOptions = {},
): Promise<StoredCertificate | undefined> {
  const path = secretPaths(options).certificate(organization, name);
  const secret = await store.read(path, signalOnly(options));
  if (!secret) return undefined;
  const base = parseCertificateFields(path, store.kind, secret.data);
  const { chainPem, caPem, dnsNames } = secret.data;
  if (!chainPem || !caPem || !dnsNames) {
    throw new ZonekeeperError(
      'INTERNAL',
      `${store.kind} secret store: ${path} does not hold a zonekeeper server certificate (missing fields).`,
      { details: { path } },
    );
  }
  return { ...base, chainPem, caPem, dnsNames: dnsNames.split(','), version: secret.version };
}

/**
 * Stores a server certificate under a name (a DNS label, e.g. `web`) with check-and-set.
 * @public
 */
export async function writeCertificate(
  store: SecretStore,
  organization: string,
  name: string,
  certificate: CertificateToStore,
  options: LayoutOptions & { readonly cas: number },
): Promise<{ readonly version: number }> {
  const path = secretPaths(options).certificate(organization, name);
  if (!Array.isArray(certificate.dnsNames) || certificate.dnsNames.length === 0)
    throw invalidInput('dnsNames must be a non-empty array.');
  const dnsNames = certificate.dnsNames.map((n) => normalizeHostname(n));
  for (const f of ['chainPem', 'caPem'] as const) {
    if (typeof certificate[f] !== 'string' || certificate[f].length === 0)
      throw invalidInput(`${f} must be a non-empty string.`);
  }
  const data = {
    ...certificateFields(certificate),
    chainPem: certificate.chainPem,
    caPem: certificate.caPem,
    dnsNames: dnsNames.join(','),
  };
  const written = await store.write(path, data, { cas: options.cas, ...signalOnly(options) });
  await store.writeMetadata(
    path,
    {
      customMetadata: {
        kind: 'tls-certificate',
        organization,
        serial: certificate.serialNumber,
        'not-after': certificate.notAfter.toISOString(),
        'dns-names': dnsNames.join(',').slice(0, 512),
      },
    },
    signalOnly(options),
  );
  return written;
}

/**
 * Lists every key under a folder, recursively (depth-first, sorted).
 * @public
 */
export async function listSecretsRecursively(
  store: SecretStore,
  folder: string,
  options: CallOptions = {},
): Promise<readonly string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const child of await store.list(dir, options)) {
      if (child.endsWith('/')) await walk(`${dir}/${child.slice(0, -1)}`);
      else out.push(`${dir}/${child}`);
    }
  };
  await walk(validateSecretPath(folder, 'Secret folder'));
  return out;
}

/** Where and how ExternalDNS is installed on a cluster, recorded by the facade (secret-free). @public */
export interface ClusterAttachment {
  readonly organization: string;
  readonly clusterId: string;
  /** Namespace of the ExternalDNS installation. */
  readonly namespace: string;
  /** Whether the cluster has its own scoped identity. */
  readonly scope: 'organization' | 'cluster';
  /** TLS Secrets injected into the cluster, as `namespace/name`. */
  readonly tlsSecrets: readonly string[];
  readonly attachedAt: Date;
  /** The stored version (pass it as `cas` to the next write). */
  readonly version: number;
}

function attachmentPath(options: LayoutOptions, organization: string, clusterId: string): string {
  return `${secretPaths(options).organization(organization)}/clusters/${validateClusterId(clusterId)}/attachment`;
}

/**
 * Reads a cluster's attachment record; `undefined` when the cluster is not attached.
 * @public
 */
export async function readAttachment(
  store: SecretStore,
  organization: string,
  clusterId: string,
  options: LayoutOptions = {},
): Promise<ClusterAttachment | undefined> {
  const path = attachmentPath(options, organization, clusterId);
  const secret = await store.read(path, signalOnly(options));
  if (!secret) return undefined;
  const { namespace, scope, tlsSecrets, attachedAt } = secret.data;
  if (
    !namespace ||
    (scope !== 'organization' && scope !== 'cluster') ||
    tlsSecrets === undefined ||
    !attachedAt
  ) {
    throw new ZonekeeperError(
      'INTERNAL',
      `${store.kind} secret store: ${path} does not hold a zonekeeper attachment record.`,
      { details: { path } },
    );
  }
  return {
    organization,
    clusterId,
    namespace,
    scope,
    tlsSecrets: tlsSecrets === '' ? [] : tlsSecrets.split(','),
    attachedAt: new Date(attachedAt),
    version: secret.version,
  };
}

/**
 * Records (with check-and-set) that a cluster is attached: where ExternalDNS runs and which TLS Secrets
 * were injected, so rotation and detach know where to act.
 * @public
 */
export async function writeAttachment(
  store: SecretStore,
  attachment: Omit<ClusterAttachment, 'version'>,
  options: LayoutOptions & { readonly cas: number },
): Promise<{ readonly version: number }> {
  const path = attachmentPath(options, attachment.organization, attachment.clusterId);
  const data = {
    namespace: validateDnsLabel(attachment.namespace, 'Namespace'),
    scope: attachment.scope,
    tlsSecrets: [...attachment.tlsSecrets].sort().join(','),
    attachedAt: attachment.attachedAt.toISOString(),
  };
  const written = await store.write(path, data, { cas: options.cas, ...signalOnly(options) });
  await store.writeMetadata(
    path,
    {
      customMetadata: {
        kind: 'cluster-attachment',
        organization: attachment.organization,
        cluster: attachment.clusterId,
      },
    },
    signalOnly(options),
  );
  return written;
}

/**
 * The ids of an organisation's attached clusters.
 * @public
 */
export async function listAttachedClusters(
  store: SecretStore,
  organization: string,
  options: LayoutOptions = {},
): Promise<readonly string[]> {
  const folder = `${secretPaths(options).organization(organization)}/clusters`;
  const out: string[] = [];
  for (const entry of await store.list(folder, signalOnly(options))) {
    if (!entry.endsWith('/')) continue;
    const id = entry.slice(0, -1);
    if ((await store.list(`${folder}/${id}`, signalOnly(options))).includes('attachment')) out.push(id);
  }
  return out;
}

async function deleteFolder(
  store: SecretStore,
  folder: string,
  options: CallOptions,
): Promise<readonly string[]> {
  const deleted: string[] = [];
  for (const path of await listSecretsRecursively(store, folder, options)) {
    if (await store.deleteAll(path, options)) deleted.push(path);
  }
  return deleted;
}

/**
 * Deletes every secret of an organisation (all versions and metadata), e.g. after its zone was collected.
 * Idempotent. Returns the paths deleted.
 * @public
 */
export async function deleteOrganizationSecrets(
  store: SecretStore,
  organization: string,
  options: LayoutOptions = {},
): Promise<readonly string[]> {
  return deleteFolder(store, secretPaths(options).organization(organization), signalOnly(options));
}

/**
 * Deletes one cluster's secrets (its scoped access key). Idempotent. Returns the paths deleted.
 * @public
 */
export async function deleteClusterSecrets(
  store: SecretStore,
  organization: string,
  clusterId: string,
  options: LayoutOptions = {},
): Promise<readonly string[]> {
  const folder = `${secretPaths(options).organization(organization)}/clusters/${validateClusterId(clusterId)}`;
  return deleteFolder(store, folder, signalOnly(options));
}

/**
 * Organisations that have anything stored (to find orphans).
 * @public
 */
export async function listStoredOrganizations(
  store: SecretStore,
  options: LayoutOptions = {},
): Promise<readonly string[]> {
  const entries = await store.list(secretPaths(options).organizationsRoot, signalOnly(options));
  return entries.filter((e) => e.endsWith('/')).map((e) => e.slice(0, -1));
}

function signalOnly(options: CallOptions): CallOptions {
  return options.signal === undefined ? {} : { signal: options.signal };
}
