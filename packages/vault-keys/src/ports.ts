/**
 * The secret-store port, shaped after Vault's KV version 2 engine: versioned secrets with
 * check-and-set, custom metadata and recursive deletion. A store reads and writes; it never retries on
 * its own and never implements dry-run.
 *
 * Paths are relative to the store's mount (`zonekeeper/orgs/acme/aws-access-key`), without a leading
 * or trailing slash.
 *
 * Errors are `ZonekeeperError`s: `CONFLICT` (check-and-set mismatch), `PERMISSION_DENIED` (403),
 * `NOT_FOUND` (where a method says so), `UNAVAILABLE` (sealed, 5xx, network), `INVALID_INPUT`. Secret
 * values never appear in an error message, a log line or an enumerable property of a thrown error.
 *
 * @packageDocumentation
 */

import type { CallOptions } from '@zonekeeper/core';

/** One version of a secret. @public */
export interface SecretVersion {
  /** The key/value map. Values are secrets; never log them. */
  readonly data: Readonly<Record<string, string>>;
  readonly version: number;
  readonly createdAt: Date;
  /** Secret-free metadata of the key (shared by all versions). */
  readonly customMetadata: Readonly<Record<string, string>>;
}

/** Metadata of a key. @public */
export interface SecretMetadata {
  /** 0 when no version was ever written. */
  readonly currentVersion: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly customMetadata: Readonly<Record<string, string>>;
  /** Versions still stored (not destroyed), ascending. */
  readonly versions: readonly {
    readonly version: number;
    readonly createdAt: Date;
    readonly deleted: boolean;
    readonly destroyed: boolean;
  }[];
}

/**
 * The secret-store port.
 *
 * @example
 * ```ts
 * const store = createMemorySecretStore();
 * await store.write('zonekeeper/orgs/acme/aws-access-key', { accessKeyId: 'AKIA…', secretAccessKey: '…' }, { cas: 0 });
 * ```
 * @public
 */
export interface SecretStore {
  /** `vault`, `memory`, … for messages. */
  readonly kind: string;
  /** The latest (or the given) version; `undefined` when the key does not exist or that version is deleted or destroyed. */
  read(
    path: string,
    options?: CallOptions & { readonly version?: number },
  ): Promise<SecretVersion | undefined>;
  /**
   * Writes a new version with check-and-set: `cas: 0` creates only; `cas: n` succeeds only if the current
   * version is `n`. A mismatch is `CONFLICT`. Returns the new version number.
   */
  write(
    path: string,
    data: Readonly<Record<string, string>>,
    options: CallOptions & { readonly cas: number },
  ): Promise<{ readonly version: number }>;
  /** Key metadata, or `undefined` when the key does not exist. */
  readMetadata(path: string, options?: CallOptions): Promise<SecretMetadata | undefined>;
  /** Sets custom metadata (secret-free) and optional max versions. */
  writeMetadata(
    path: string,
    metadata: { readonly customMetadata?: Readonly<Record<string, string>>; readonly maxVersions?: number },
    options?: CallOptions,
  ): Promise<void>;
  /** Direct children of a prefix: leaf keys and folders (folders end with `/`). Empty when nothing is there. */
  list(prefix: string, options?: CallOptions): Promise<readonly string[]>;
  /** Deletes a key with every version and its metadata. Resolves `false` if it did not exist. */
  deleteAll(path: string, options?: CallOptions): Promise<boolean>;
}
