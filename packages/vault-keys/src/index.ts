/**
 * `@zonekeeper/vault-keys`: credentials and TLS material kept in a secret store with check-and-set —
 * the `SecretStore` port, an in-memory store, typed helpers for what zonekeeper stores, and (on the
 * `@zonekeeper/vault-keys/vault` subpath) the HashiCorp Vault KV v2 adapter.
 *
 * @packageDocumentation
 */

export {
  type AccessKeyRef,
  type AccessKeyToStore,
  type AttachmentCredentials,
  type CertificateAuthorityToStore,
  type CertificateToStore,
  type ClusterAttachment,
  type ClusterBinding,
  canonicalJson,
  DEFAULT_SECRET_PREFIX,
  type DeletedSecrets,
  deleteClusterBinding,
  deleteClusterSecrets,
  deleteOrganizationSecrets,
  deleteOwnedSecrets,
  type ExpectedSecret,
  type LayoutOptions,
  listAttachedClusters,
  listClusterBindings,
  listSecretsRecursively,
  listStoredOrganizations,
  readAccessKey,
  readAttachment,
  readCertificate,
  readCertificateAuthority,
  readClusterBinding,
  readClusterSettings,
  readIntermediateCertificateAuthority,
  readOwnedSecret,
  readTsigKey,
  SECRET_MANAGED_BY,
  SECRET_OWNERSHIP,
  type SecretKind,
  type SecretOwnership,
  type StoredAccessKey,
  type StoredCertificate,
  type StoredCertificateAuthority,
  type StoredClusterSettings,
  type StoredTsigKey,
  secretOwnership,
  secretPaths,
  type TsigKeyToStore,
  writeAccessKey,
  writeAttachment,
  writeCertificate,
  writeCertificateAuthority,
  writeClusterBinding,
  writeClusterSettings,
  writeIntermediateCertificateAuthority,
  writeOwnedSecret,
  writeTsigKey,
} from './layout.js';
export {
  type AcquireLockOptions,
  createStoreLock,
  DEFAULT_LOCK_TTL_MS,
  type LockHolder,
  type StoreLock,
  type StoreLockOptions,
} from './lock.js';
export { createMemorySecretStore, type MemorySecretStore, type MemorySecretStoreOptions } from './memory.js';
export type { SecretMetadata, SecretStore, SecretVersion } from './ports.js';
export { validateSecretPath } from './validation.js';
