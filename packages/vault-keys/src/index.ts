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
  type CertificateAuthorityToStore,
  type CertificateToStore,
  type ClusterAttachment,
  DEFAULT_SECRET_PREFIX,
  deleteClusterSecrets,
  deleteOrganizationSecrets,
  type LayoutOptions,
  listAttachedClusters,
  listSecretsRecursively,
  listStoredOrganizations,
  readAccessKey,
  readAttachment,
  readCertificate,
  readCertificateAuthority,
  type StoredAccessKey,
  type StoredCertificate,
  type StoredCertificateAuthority,
  secretPaths,
  writeAccessKey,
  writeAttachment,
  writeCertificate,
  writeCertificateAuthority,
} from './layout.js';
export { createMemorySecretStore, type MemorySecretStore, type MemorySecretStoreOptions } from './memory.js';
export type { SecretMetadata, SecretStore, SecretVersion } from './ports.js';
export { validateSecretPath } from './validation.js';
