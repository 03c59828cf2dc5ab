/**
 * `@zonekeeper/testkit/vault`: a wire-level HashiCorp Vault fake (KV v2, KV v1, token auth with ACL
 * policies, seal/health, mounts) on 127.0.0.1 for tests driven by real Vault clients such as
 * `node-vault`. See `README.vault.md` for what it implements and what it does not.
 *
 * @packageDocumentation
 */

export type {
  VaultFake,
  VaultFakeFailOptions,
  VaultFakeOptions,
  VaultFakeRequest,
  VaultFakeTokenOptions,
} from './fake.js';
export { startVaultFake } from './fake.js';
export type { VaultFakeKvV1Secret, VaultFakeKvV2Secret, VaultFakeKvVersion, VaultFakeSecret } from './kv.js';
export type { VaultCapability, VaultPolicyRules } from './policy.js';
