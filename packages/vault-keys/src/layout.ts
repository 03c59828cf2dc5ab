/**
 * What zonekeeper keeps in the secret store, where, and typed helpers to read and write it.
 *
 * Path layout under a configurable prefix (default `zonekeeper`), relative to the KV v2 mount:
 *
 * ```
 * <prefix>/orgs/<org>/aws-access-key                       the organisation's IAM access key
 * <prefix>/orgs/<org>/clusters/<cluster>/aws-access-key    a cluster-scoped IAM access key
 * <prefix>/orgs/<org>/tsig-key                             the organisation's TSIG key (RFC 2136 servers such as PowerDNS)
 * <prefix>/orgs/<org>/clusters/<cluster>/attachment        where ExternalDNS runs on an attached cluster
 * <prefix>/orgs/<org>/clusters/<cluster>/settings          the settings recorded at attach (JSON, secret-free)
 * <prefix>/orgs/<org>/tls/ca                               the organisation's certificate authority
 * <prefix>/orgs/<org>/tls/certs/<name>                     a server certificate and its key
 * <prefix>/clusters/<cluster>                              which organisation a cluster belongs to
 * <prefix>/locks/<org>                                     the organisation's lock (see lock.ts)
 * ```
 *
 * **Ownership.** Every secret zonekeeper writes carries the custom metadata `managed-by: zonekeeper` and,
 * when the layout has an `owner` (the platform: its base domain), `platform: <owner>`. A secret at one of
 * these paths without that mark — written by someone else, or by another platform sharing the prefix —
 * is never read as zonekeeper's, overwritten or deleted: reads and writes refuse with `NOT_OWNED`, and
 * deletions skip it and report it. A new secret gets its mark *before* its first version (the metadata
 * write comes first), so a crash in between leaves a marked, empty key, never an unmarked secret.
 * Secrets written by zonekeeper 0.1 (custom metadata `kind` and `organization`, no `managed-by`) are
 * recognised as zonekeeper's and re-marked on their next write.
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
  signalOnly,
  validateClusterId,
  validateDnsLabel,
  validateOrganizationName,
  ZonekeeperError,
} from '@zonekeeper/core';
import type { SecretStore, SecretVersion } from './ports.js';
import { validateSecretPath } from './validation.js';

/** The default path prefix. @public */
export const DEFAULT_SECRET_PREFIX = 'zonekeeper';

/** The custom-metadata keys of zonekeeper's ownership mark. @public */
export const SECRET_OWNERSHIP = {
  /** Value `zonekeeper` on every secret zonekeeper writes. */
  managedBy: 'managed-by',
  /** The platform (base domain) the secret belongs to, when the layout has an owner. */
  platform: 'platform',
  /** What the secret is (`aws-access-key`, `tls-ca`, …). */
  kind: 'kind',
} as const;

/** The value of {@link SECRET_OWNERSHIP}.managedBy. @public */
export const SECRET_MANAGED_BY = 'zonekeeper';

/** What zonekeeper stores, as recorded in a secret's `kind` metadata. @public */
export type SecretKind =
  | 'aws-access-key'
  | 'tsig-key'
  | 'cluster-attachment'
  | 'cluster-settings'
  | 'cluster-binding'
  | 'tls-ca'
  | 'tls-certificate'
  | 'acme-account'
  | 'lock';

/** Where to keep things, and whose they are. @public */
export interface LayoutOptions extends CallOptions {
  /** Path prefix under the mount (default {@link DEFAULT_SECRET_PREFIX}). */
  readonly prefix?: string;
  /**
   * The platform the secrets belong to (its base domain). When set, secrets are marked with it and a
   * secret marked for another platform is `NOT_OWNED`, so two platforms sharing a store (and a prefix)
   * never read, overwrite or delete each other's secrets.
   */
  readonly owner?: string;
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
  readonly clustersRoot: string;
  readonly locksRoot: string;
  organization(organization: string): string;
  accessKey(organization: string, clusterId?: string): string;
  /** The organisation's ACME identity's access key (the TXT-only key cert-manager's solver runs with). */
  acmeChallengeKey(organization: string): string;
  tsigKey(organization: string): string;
  clusterFolder(organization: string, clusterId: string): string;
  attachment(organization: string, clusterId: string): string;
  clusterSettings(organization: string, clusterId: string): string;
  clusterBinding(clusterId: string): string;
  lock(organization: string): string;
  certificateAuthority(organization: string): string;
  /** The name-constrained intermediate CA given to cert-manager's CA `Issuer`. */
  intermediateCertificateAuthority(organization: string): string;
  certificate(organization: string, name: string): string;
  /** The platform's ACME account key (one per platform, whatever the organisation). */
  acmeAccount(): string;
} {
  const prefix = prefixOf(options);
  const org = (o: string) => `${prefix}/orgs/${validateOrganizationName(o)}`;
  const cluster = (o: string, c: string) => `${org(o)}/clusters/${validateClusterId(c)}`;
  return {
    organizationsRoot: `${prefix}/orgs`,
    clustersRoot: `${prefix}/clusters`,
    locksRoot: `${prefix}/locks`,
    organization: org,
    accessKey: (o, c) => (c === undefined ? `${org(o)}/aws-access-key` : `${cluster(o, c)}/aws-access-key`),
    acmeChallengeKey: (o) => `${org(o)}/acme-challenge/aws-access-key`,
    tsigKey: (o) => `${org(o)}/tsig-key`,
    clusterFolder: cluster,
    attachment: (o, c) => `${cluster(o, c)}/attachment`,
    clusterSettings: (o, c) => `${cluster(o, c)}/settings`,
    clusterBinding: (c) => `${prefix}/clusters/${validateClusterId(c)}`,
    lock: (o) => `${prefix}/locks/${validateOrganizationName(o)}`,
    certificateAuthority: (o) => `${org(o)}/tls/ca`,
    intermediateCertificateAuthority: (o) => `${org(o)}/tls/cert-manager-ca`,
    certificate: (o, name) => `${org(o)}/tls/certs/${validateDnsLabel(name, 'Certificate name')}`,
    acmeAccount: () => `${prefix}/acme/account`,
  };
}

// ---------------------------------------------------------------------------------------------------
// Ownership
// ---------------------------------------------------------------------------------------------------

/** Whose a secret is, judged by its custom metadata. @public */
export type SecretOwnership = 'ours' | 'foreign';

/** What a secret at a path should be. @public */
export interface ExpectedSecret {
  readonly kind: SecretKind;
  /** The organisation it belongs to, if any (legacy secrets are recognised by it). */
  readonly organization?: string;
}

/**
 * Whose a secret is, from its custom metadata: ours when it carries zonekeeper's mark (and, with an
 * `owner`, this platform's, or no platform at all: written before platforms were recorded), or when it is
 * a zonekeeper 0.1 secret of the expected kind and organisation. Pure.
 * @public
 */
export function secretOwnership(
  customMetadata: Readonly<Record<string, string>>,
  expected: ExpectedSecret,
  owner?: string,
): SecretOwnership {
  const managedBy = customMetadata[SECRET_OWNERSHIP.managedBy];
  if (managedBy === SECRET_MANAGED_BY) {
    const platform = customMetadata[SECRET_OWNERSHIP.platform];
    return owner === undefined || platform === undefined || platform === owner ? 'ours' : 'foreign';
  }
  if (managedBy !== undefined) return 'foreign';
  // zonekeeper 0.1: no mark, but its kind and organisation.
  const legacy =
    customMetadata[SECRET_OWNERSHIP.kind] === expected.kind &&
    (expected.organization === undefined || customMetadata.organization === expected.organization);
  return legacy ? 'ours' : 'foreign';
}

function notOwned(
  store: SecretStore,
  path: string,
  metadata: Readonly<Record<string, string>>,
  owner?: string,
) {
  const platform = metadata[SECRET_OWNERSHIP.platform];
  const whose =
    metadata[SECRET_OWNERSHIP.managedBy] === SECRET_MANAGED_BY && platform !== undefined
      ? `it belongs to the zonekeeper platform ${platform}, not ${owner ?? '(this one)'}`
      : 'it does not carry zonekeeper\'s mark (custom metadata "managed-by: zonekeeper")';
  return new ZonekeeperError(
    'NOT_OWNED',
    `${store.kind} secret store: ${path} exists but ${whose}, so zonekeeper will neither read, overwrite nor delete it. Move that secret, or give this platform its own secret prefix.`,
    { details: { path } },
  );
}

function markOf(expected: ExpectedSecret, owner: string | undefined): Record<string, string> {
  return {
    [SECRET_OWNERSHIP.managedBy]: SECRET_MANAGED_BY,
    ...(owner === undefined ? {} : { [SECRET_OWNERSHIP.platform]: owner }),
    [SECRET_OWNERSHIP.kind]: expected.kind,
    ...(expected.organization === undefined ? {} : { organization: expected.organization }),
  };
}

/**
 * Reads the latest version of a secret zonekeeper owns; `undefined` when there is none.
 * @throws `NOT_OWNED` when the path holds a secret that is not zonekeeper's (this platform's).
 * @public
 */
export async function readOwnedSecret(
  store: SecretStore,
  path: string,
  expected: ExpectedSecret,
  options: LayoutOptions = {},
): Promise<SecretVersion | undefined> {
  const secret = await store.read(path, signalOnly(options));
  if (!secret) return undefined;
  if (secretOwnership(secret.customMetadata, expected, options.owner) === 'foreign')
    throw notOwned(store, path, secret.customMetadata, options.owner);
  return secret;
}

/**
 * Writes a secret zonekeeper owns, with check-and-set. It first reads the path's metadata and refuses a
 * path that holds a foreign secret or foreign metadata. Creating (`cas: 0`) then writes the ownership
 * mark and `info`, then the data; updating writes the data, then the mark and `info` (secret-free facts
 * shown by `readMetadata`).
 * @throws `NOT_OWNED` (a foreign secret or mark at the path); `CONFLICT` (check-and-set mismatch).
 * @public
 */
export async function writeOwnedSecret(
  store: SecretStore,
  path: string,
  data: Readonly<Record<string, string>>,
  expected: ExpectedSecret & { readonly info?: Readonly<Record<string, string>> },
  options: LayoutOptions & { readonly cas: number },
): Promise<{ readonly version: number }> {
  const call = signalOnly(options);
  const customMetadata = { ...markOf(expected, options.owner), ...expected.info };
  const existing = await store.readMetadata(path, call);
  // A key with versions, or with metadata of its own, must already be ours to be written to.
  if (
    existing &&
    (existing.currentVersion > 0 || Object.keys(existing.customMetadata).length > 0) &&
    secretOwnership(existing.customMetadata, expected, options.owner) === 'foreign'
  )
    throw notOwned(store, path, existing.customMetadata, options.owner);
  if (options.cas === 0) {
    await store.writeMetadata(path, { customMetadata }, call);
    return store.write(path, data, { ...call, cas: 0 });
  }
  const written = await store.write(path, data, { ...call, cas: options.cas });
  if (!sameStrings(existing?.customMetadata ?? {}, customMetadata))
    await store.writeMetadata(path, { customMetadata }, call);
  return written;
}

function sameStrings(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** What {@link deleteOwnedSecrets} did. @public */
export interface DeletedSecrets {
  /** Paths deleted (every version and the metadata). */
  readonly deleted: readonly string[];
  /** Paths kept because they are not zonekeeper's (this platform's). */
  readonly foreign: readonly string[];
}

/**
 * Deletes every secret under a folder that zonekeeper owns (all versions and metadata), recursively;
 * secrets that are not zonekeeper's (this platform's) are kept and reported. Idempotent.
 * @public
 */
export async function deleteOwnedSecrets(
  store: SecretStore,
  folder: string,
  organization: string | undefined,
  options: LayoutOptions = {},
): Promise<DeletedSecrets> {
  const call = signalOnly(options);
  const deleted: string[] = [];
  const foreign: string[] = [];
  for (const path of await listSecretsRecursively(store, folder, call)) {
    const meta = await store.readMetadata(path, call);
    if (!meta) continue;
    const kind = (meta.customMetadata[SECRET_OWNERSHIP.kind] ?? 'aws-access-key') as SecretKind;
    const expected = organization === undefined ? { kind } : { kind, organization };
    if (secretOwnership(meta.customMetadata, expected, options.owner) === 'foreign') {
      foreign.push(path);
      continue;
    }
    if (await store.deleteAll(path, call)) deleted.push(path);
  }
  return { deleted, foreign };
}

// ---------------------------------------------------------------------------------------------------
// Access keys
// ---------------------------------------------------------------------------------------------------

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

/** Which access key: the organisation's, one cluster's, or the organisation's ACME identity's. @public */
export interface AccessKeyRef {
  readonly organization: string;
  readonly clusterId?: string;
  /** `acme-challenge`: the ACME identity's key (then without `clusterId`). */
  readonly purpose?: 'acme-challenge';
}

function accessKeyPath(options: LayoutOptions, ref: AccessKeyRef): string {
  const paths = secretPaths(options);
  if (ref.purpose === undefined) return paths.accessKey(ref.organization, ref.clusterId);
  if (ref.purpose !== 'acme-challenge' || ref.clusterId !== undefined)
    throw invalidInput('An access key purpose must be "acme-challenge", without a cluster id.');
  return paths.acmeChallengeKey(ref.organization);
}

const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;

/**
 * Reads an access key; `undefined` when none is stored.
 * @throws `NOT_OWNED` when the path holds a secret that is not zonekeeper's; `INTERNAL` when the stored
 *   secret is malformed.
 * @public
 */
export async function readAccessKey(
  store: SecretStore,
  ref: AccessKeyRef,
  options: LayoutOptions = {},
): Promise<StoredAccessKey | undefined> {
  const path = accessKeyPath(options, ref);
  const secret = await readOwnedSecret(
    store,
    path,
    { kind: 'aws-access-key', organization: ref.organization },
    options,
  );
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
 * @throws `CONFLICT` when another writer got there first; `NOT_OWNED`; `INVALID_INPUT` for a malformed key.
 * @public
 */
export async function writeAccessKey(
  store: SecretStore,
  ref: AccessKeyRef,
  key: AccessKeyToStore,
  options: LayoutOptions & { readonly cas: number },
): Promise<{ readonly version: number }> {
  const path = accessKeyPath(options, ref);
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
  return writeOwnedSecret(
    store,
    path,
    data,
    {
      kind: 'aws-access-key',
      organization: ref.organization,
      info: {
        ...(ref.clusterId ? { cluster: ref.clusterId } : {}),
        ...(ref.purpose ? { purpose: ref.purpose } : {}),
        'user-name': key.userName,
        'access-key-id': key.accessKeyId,
        'created-at': key.createdAt.toISOString(),
      },
    },
    options,
  );
}

// ---------------------------------------------------------------------------------------------------
// TSIG keys
// ---------------------------------------------------------------------------------------------------

/** An organisation's TSIG key as stored. The secret is a secret: never log it. @public */
export interface StoredTsigKey {
  /** The key name, e.g. `zonekeeper-update.acme.example.com`. */
  readonly name: string;
  /** e.g. `hmac-sha256`. */
  readonly algorithm: string;
  /** base64. */
  readonly secret: string;
  /** The stored version (pass it as `cas` to the next write). */
  readonly version: number;
  /** The name of the key this one replaces while a rotation is under way; absent otherwise. */
  readonly previousName?: string;
}

/** What {@link writeTsigKey} stores. @public */
export type TsigKeyToStore = Omit<StoredTsigKey, 'version'>;

const TSIG_KEY_NAME = /^[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*$/;
const TSIG_ALGORITHM = /^hmac-(?:md5|sha1|sha224|sha256|sha384|sha512)$/;
const TSIG_SECRET = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Reads an organisation's TSIG key; `undefined` when none is stored.
 * @throws `NOT_OWNED` when the path holds a secret that is not zonekeeper's; `INTERNAL` when the stored
 *   secret is malformed.
 * @public
 */
export async function readTsigKey(
  store: SecretStore,
  ref: { readonly organization: string },
  options: LayoutOptions = {},
): Promise<StoredTsigKey | undefined> {
  const path = secretPaths(options).tsigKey(ref.organization);
  const secret = await readOwnedSecret(
    store,
    path,
    { kind: 'tsig-key', organization: ref.organization },
    options,
  );
  if (!secret) return undefined;
  const { name, algorithm, secret: value, previousName } = secret.data;
  if (!name || !algorithm || !value) {
    throw new ZonekeeperError(
      'INTERNAL',
      `${store.kind} secret store: ${path} does not hold a zonekeeper TSIG key (missing fields).`,
      { details: { path } },
    );
  }
  return {
    name,
    algorithm,
    secret: value,
    version: secret.version,
    ...(previousName ? { previousName } : {}),
  };
}

/**
 * Stores an organisation's TSIG key with check-and-set (`cas`: the version read, 0 to create) and
 * records its name and algorithm as custom metadata (never the secret).
 * @throws `CONFLICT` when another writer got there first; `NOT_OWNED`; `INVALID_INPUT` for a malformed
 *   key (the message never contains the secret).
 * @public
 */
export async function writeTsigKey(
  store: SecretStore,
  ref: { readonly organization: string },
  key: TsigKeyToStore,
  options: LayoutOptions & { readonly cas: number },
): Promise<{ readonly version: number }> {
  const path = secretPaths(options).tsigKey(ref.organization);
  if (typeof key.name !== 'string' || key.name.length > 253 || !TSIG_KEY_NAME.test(key.name))
    throw invalidInput('TSIG key name must be a lowercase DNS name without a trailing dot.');
  if (typeof key.algorithm !== 'string' || !TSIG_ALGORITHM.test(key.algorithm))
    throw invalidInput(
      'TSIG algorithm must be one of hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512.',
    );
  if (typeof key.secret !== 'string' || key.secret.length === 0 || !TSIG_SECRET.test(key.secret))
    throw invalidInput('TSIG secret must be a non-empty base64 string (not shown).');
  const previous = key.previousName;
  if (
    previous !== undefined &&
    (typeof previous !== 'string' || previous.length > 253 || !TSIG_KEY_NAME.test(previous))
  )
    throw invalidInput('The previous TSIG key name must be a lowercase DNS name without a trailing dot.');
  return writeOwnedSecret(
    store,
    path,
    {
      name: key.name,
      algorithm: key.algorithm,
      secret: key.secret,
      ...(previous === undefined ? {} : { previousName: previous }),
    },
    {
      kind: 'tsig-key',
      organization: ref.organization,
      info: { 'key-name': key.name, algorithm: key.algorithm },
    },
    options,
  );
}

// ---------------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------------

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
  /**
   * Who issued it, when not the organisation's CA: `acme:<directory URL>` for an ACME certificate.
   * Absent for certificates of the organisation's CA (and for every certificate stored before ACME).
   */
  readonly issuer?: string;
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
 * @throws `NOT_OWNED` when the path holds a secret that is not zonekeeper's.
 * @public
 */
export async function readCertificateAuthority(
  store: SecretStore,
  organization: string,
  options: LayoutOptions = {},
): Promise<StoredCertificateAuthority | undefined> {
  return readCaAt(store, secretPaths(options).certificateAuthority(organization), organization, options);
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
  return writeCaAt(store, path, organization, ca, {}, options);
}

/**
 * Reads the organisation's intermediate CA for cert-manager; `undefined` when none is stored.
 * @throws `NOT_OWNED` when the path holds a secret that is not zonekeeper's.
 * @public
 */
export async function readIntermediateCertificateAuthority(
  store: SecretStore,
  organization: string,
  options: LayoutOptions = {},
): Promise<StoredCertificateAuthority | undefined> {
  const path = secretPaths(options).intermediateCertificateAuthority(organization);
  return readCaAt(store, path, organization, options);
}

/**
 * Stores the organisation's intermediate CA for cert-manager with check-and-set.
 * @public
 */
export async function writeIntermediateCertificateAuthority(
  store: SecretStore,
  organization: string,
  ca: CertificateAuthorityToStore,
  options: LayoutOptions & { readonly cas: number },
): Promise<{ readonly version: number }> {
  const path = secretPaths(options).intermediateCertificateAuthority(organization);
  return writeCaAt(store, path, organization, ca, { role: 'cert-manager' }, options);
}

/** A CA (root or intermediate) at `path`: its certificate fields and the store's version. */
async function readCaAt(
  store: SecretStore,
  path: string,
  organization: string,
  options: LayoutOptions,
): Promise<StoredCertificateAuthority | undefined> {
  const secret = await readOwnedSecret(store, path, { kind: 'tls-ca', organization }, options);
  return secret && { ...parseCertificateFields(path, store.kind, secret.data), version: secret.version };
}

/** Writes a CA at `path` with check-and-set; `info` adds to the serial and expiry recorded. */
function writeCaAt(
  store: SecretStore,
  path: string,
  organization: string,
  ca: CertificateAuthorityToStore,
  info: Readonly<Record<string, string>>,
  options: LayoutOptions & { readonly cas: number },
): Promise<{ readonly version: number }> {
  return writeOwnedSecret(
    store,
    path,
    certificateFields(ca),
    {
      kind: 'tls-ca',
      organization,
      info: { serial: ca.serialNumber, 'not-after': ca.notAfter.toISOString(), ...info },
    },
    options,
  );
}

/**
 * Reads a server certificate by name; `undefined` when none is stored.
 * @throws `NOT_OWNED` when the path holds a secret that is not zonekeeper's.
 * @public
 */
export async function readCertificate(
  store: SecretStore,
  organization: string,
  name: string,
  options: LayoutOptions = {},
): Promise<StoredCertificate | undefined> {
  const path = secretPaths(options).certificate(organization, name);
  const secret = await readOwnedSecret(store, path, { kind: 'tls-certificate', organization }, options);
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
  const issuer = secret.data.issuer;
  return {
    ...base,
    chainPem,
    caPem,
    dnsNames: dnsNames.split(','),
    ...(issuer ? { issuer } : {}),
    version: secret.version,
  };
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
    ...(certificate.issuer === undefined ? {} : { issuer: certificate.issuer }),
  };
  return writeOwnedSecret(
    store,
    path,
    data,
    {
      kind: 'tls-certificate',
      organization,
      info: {
        serial: certificate.serialNumber,
        'not-after': certificate.notAfter.toISOString(),
        'dns-names': dnsNames.join(',').slice(0, 512),
      },
    },
    options,
  );
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
  const call = signalOnly(options);
  const walk = async (dir: string) => {
    for (const child of await store.list(dir, call)) {
      if (child.endsWith('/')) await walk(`${dir}/${child.slice(0, -1)}`);
      else out.push(`${dir}/${child}`);
    }
  };
  await walk(validateSecretPath(folder, 'Secret folder'));
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Clusters: attachment records, recorded settings, bindings
// ---------------------------------------------------------------------------------------------------

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
  /**
   * How the cluster's ExternalDNS authenticates, when it holds no key: the keyless mode and what the
   * role's trust needs of the cluster. Absent: an access key (every record written before keyless
   * modes existed).
   */
  readonly credentials?: AttachmentCredentials;
  /** The stored version (pass it as `cas` to the next write). */
  readonly version: number;
}

/** A keyless cluster's credentials, as its attachment records them (secret-free). @public */
export type AttachmentCredentials =
  | {
      readonly mode: 'irsa' | 'web-identity';
      /** The cluster's service-account issuer (an IAM OIDC provider). */
      readonly issuerUrl: string;
      /** The token audience. */
      readonly audience: string;
    }
  | {
      readonly mode: 'pod-identity';
      /** The EKS cluster's ARN. */
      readonly clusterArn: string;
    };

function parseAttachmentCredentials(
  text: string | undefined,
  path: string,
): AttachmentCredentials | undefined {
  if (text === undefined || text === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const v = value as Record<string, unknown> | undefined;
  if (
    v &&
    (((v.mode === 'irsa' || v.mode === 'web-identity') &&
      typeof v.issuerUrl === 'string' &&
      typeof v.audience === 'string') ||
      (v.mode === 'pod-identity' && typeof v.clusterArn === 'string'))
  )
    return v as unknown as AttachmentCredentials;
  throw new ZonekeeperError('INTERNAL', `secret store: ${path} holds unreadable keyless credentials.`, {
    details: { path },
  });
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
  const path = secretPaths(options).attachment(organization, clusterId);
  const secret = await readOwnedSecret(store, path, { kind: 'cluster-attachment', organization }, options);
  if (!secret) return undefined;
  const { namespace, scope, tlsSecrets, attachedAt, credentials } = secret.data;
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
    ...(() => {
      const parsed = parseAttachmentCredentials(credentials, path);
      return parsed ? { credentials: parsed } : {};
    })(),
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
  const path = secretPaths(options).attachment(attachment.organization, attachment.clusterId);
  const data = {
    namespace: validateDnsLabel(attachment.namespace, 'Namespace'),
    scope: attachment.scope,
    tlsSecrets: [...attachment.tlsSecrets].sort().join(','),
    attachedAt: attachment.attachedAt.toISOString(),
    // Written only for a keyless cluster: an access-key record stays exactly as before.
    ...(attachment.credentials ? { credentials: canonicalJson(attachment.credentials) } : {}),
  };
  return writeOwnedSecret(
    store,
    path,
    data,
    {
      kind: 'cluster-attachment',
      organization: attachment.organization,
      info: { cluster: attachment.clusterId },
    },
    options,
  );
}

/** Settings recorded for a cluster at attach time (a JSON object, secret-free). @public */
export interface StoredClusterSettings {
  /** The settings object, as written. */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly version: number;
}

/**
 * Reads the settings recorded for a cluster; `undefined` when none are.
 * @throws `NOT_OWNED`; `INTERNAL` when the record is not a JSON object.
 * @public
 */
export async function readClusterSettings(
  store: SecretStore,
  organization: string,
  clusterId: string,
  options: LayoutOptions = {},
): Promise<StoredClusterSettings | undefined> {
  const path = secretPaths(options).clusterSettings(organization, clusterId);
  const secret = await readOwnedSecret(store, path, { kind: 'cluster-settings', organization }, options);
  if (!secret) return undefined;
  let settings: unknown;
  try {
    settings = JSON.parse(secret.data.settings ?? '');
  } catch {
    settings = undefined;
  }
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings))
    throw new ZonekeeperError(
      'INTERNAL',
      `${store.kind} secret store: ${path} does not hold zonekeeper's cluster settings; attach the cluster again.`,
      { details: { path } },
    );
  return { settings: settings as Record<string, unknown>, version: secret.version };
}

/**
 * Records a cluster's settings (a JSON object; keys are written sorted, so equal settings are equal
 * text) with check-and-set.
 * @public
 */
export async function writeClusterSettings(
  store: SecretStore,
  organization: string,
  clusterId: string,
  settings: Readonly<Record<string, unknown>>,
  options: LayoutOptions & { readonly cas: number },
): Promise<{ readonly version: number }> {
  const path = secretPaths(options).clusterSettings(organization, clusterId);
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings))
    throw invalidInput('Cluster settings must be an object.');
  return writeOwnedSecret(
    store,
    path,
    { settings: canonicalJson(settings) },
    { kind: 'cluster-settings', organization, info: { cluster: clusterId } },
    options,
  );
}

/** JSON with object keys sorted, recursively (equal values give equal text). @public */
export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    return v;
  };
  return JSON.stringify(sort(value));
}

/** Which organisation a cluster belongs to. @public */
export interface ClusterBinding {
  readonly clusterId: string;
  readonly organization: string;
  readonly boundAt: Date;
  readonly version: number;
}

/**
 * Reads which organisation a cluster is bound to; `undefined` when it is bound to none.
 * @public
 */
export async function readClusterBinding(
  store: SecretStore,
  clusterId: string,
  options: LayoutOptions = {},
): Promise<ClusterBinding | undefined> {
  const path = secretPaths(options).clusterBinding(clusterId);
  const secret = await readOwnedSecret(store, path, { kind: 'cluster-binding' }, options);
  if (!secret) return undefined;
  const { organization, boundAt } = secret.data;
  if (!organization || !boundAt || Number.isNaN(Date.parse(boundAt)))
    throw new ZonekeeperError(
      'INTERNAL',
      `${store.kind} secret store: ${path} does not hold a zonekeeper cluster binding.`,
      { details: { path } },
    );
  return { clusterId, organization, boundAt: new Date(boundAt), version: secret.version };
}

/**
 * Binds a cluster to an organisation. Create-only (`cas: 0`): two organisations racing for one cluster
 * cannot both win (`CONFLICT` for the loser).
 * @public
 */
export async function writeClusterBinding(
  store: SecretStore,
  binding: Omit<ClusterBinding, 'version'>,
  options: LayoutOptions,
): Promise<{ readonly version: number }> {
  const path = secretPaths(options).clusterBinding(binding.clusterId);
  const organization = validateOrganizationName(binding.organization);
  return writeOwnedSecret(
    store,
    path,
    { organization, boundAt: binding.boundAt.toISOString() },
    { kind: 'cluster-binding', info: { organization, cluster: binding.clusterId } },
    { ...options, cas: 0 },
  );
}

/**
 * Removes a cluster's binding, if it is zonekeeper's and names `organization`. Idempotent.
 * @throws `NOT_OWNED` when the cluster is bound to another organisation (or the record is foreign).
 * @public
 */
export async function deleteClusterBinding(
  store: SecretStore,
  clusterId: string,
  organization: string,
  options: LayoutOptions = {},
): Promise<boolean> {
  const binding = await readClusterBinding(store, clusterId, options);
  if (!binding) return false;
  if (binding.organization !== organization)
    throw new ZonekeeperError(
      'NOT_OWNED',
      `Cluster ${clusterId} belongs to organisation ${binding.organization}, not ${organization}; its binding is kept.`,
      { details: { clusterId, organization: binding.organization } },
    );
  return store.deleteAll(secretPaths(options).clusterBinding(clusterId), signalOnly(options));
}

/**
 * The clusters bound to an organisation (one read per bound cluster of the platform).
 * @public
 */
export async function listClusterBindings(
  store: SecretStore,
  options: LayoutOptions = {},
): Promise<readonly ClusterBinding[]> {
  const call = signalOnly(options);
  const out: ClusterBinding[] = [];
  for (const entry of await store.list(secretPaths(options).clustersRoot, call)) {
    if (entry.endsWith('/')) continue;
    try {
      const binding = await readClusterBinding(store, entry, options);
      if (binding) out.push(binding);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'NOT_OWNED') throw error;
    }
  }
  return out;
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
  const call = signalOnly(options);
  const out: string[] = [];
  for (const entry of await store.list(folder, call)) {
    if (!entry.endsWith('/')) continue;
    const id = entry.slice(0, -1);
    if ((await store.list(`${folder}/${id}`, call)).includes('attachment')) out.push(id);
  }
  return out;
}

/**
 * Deletes every secret of an organisation that zonekeeper owns (all versions and metadata), e.g. after
 * its zone was collected; foreign secrets in its folder are kept and reported. Idempotent.
 * @public
 */
export async function deleteOrganizationSecrets(
  store: SecretStore,
  organization: string,
  options: LayoutOptions = {},
): Promise<DeletedSecrets> {
  return deleteOwnedSecrets(store, secretPaths(options).organization(organization), organization, options);
}

/**
 * Deletes one cluster's secrets that zonekeeper owns (its scoped access key, attachment, settings).
 * Idempotent.
 * @public
 */
export async function deleteClusterSecrets(
  store: SecretStore,
  organization: string,
  clusterId: string,
  options: LayoutOptions = {},
): Promise<DeletedSecrets> {
  return deleteOwnedSecrets(
    store,
    secretPaths(options).clusterFolder(organization, clusterId),
    organization,
    options,
  );
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
