/**
 * An in-memory {@link SecretStore} with Vault KV v2 semantics: versions, check-and-set, custom metadata,
 * `max_versions` pruning, folder listing and recursive deletion. Shipped for users' own tests and the
 * embedded demo.
 *
 * @packageDocumentation
 */

import { type CallOptions, type Clock, systemClock, throwIfAborted, ZonekeeperError } from '@zonekeeper/core';
import type { SecretMetadata, SecretStore, SecretVersion } from './ports.js';
import {
  validateCas,
  validateMetadataInput,
  validatePrefix,
  validateSecretData,
  validateSecretPath,
} from './validation.js';

interface StoredVersion {
  readonly data: Readonly<Record<string, string>>;
  readonly createdAt: Date;
  deleted: boolean;
  destroyed: boolean;
}

interface StoredKey {
  readonly createdAt: Date;
  updatedAt: Date;
  currentVersion: number;
  maxVersions: number;
  customMetadata: Record<string, string>;
  readonly versions: Map<number, StoredVersion>;
}

/** Options of {@link createMemorySecretStore}. @public */
export interface MemorySecretStoreOptions {
  /** Stamps versions (default: the system clock). */
  readonly clock?: Clock;
  /** Versions kept per key when the key sets none (Vault's default is 10). */
  readonly defaultMaxVersions?: number;
}

/** A memory store plus inspection helpers for tests. @public */
export interface MemorySecretStore extends SecretStore {
  /** Every key path currently stored, sorted. */
  paths(): readonly string[];
  /** Number of calls per method since creation (for "no write on the second run" assertions). */
  readonly calls: Readonly<Record<string, number>>;
}

/**
 * Creates an in-memory secret store.
 *
 * @example
 * ```ts
 * const store = createMemorySecretStore();
 * const { version } = await store.write('zonekeeper/orgs/acme/aws-access-key', { accessKeyId: 'AKIA…' }, { cas: 0 });
 * ```
 * @public
 */
export function createMemorySecretStore(options: MemorySecretStoreOptions = {}): MemorySecretStore {
  const clock = options.clock ?? systemClock;
  const defaultMax = options.defaultMaxVersions ?? 10;
  const keys = new Map<string, StoredKey>();
  /** Every path, sorted, so `list` reads only the folder asked for (as Vault does), not every path. */
  const sortedPaths: string[] = [];
  const firstAtOrAfter = (value: string) => {
    let lo = 0;
    let hi = sortedPaths.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sortedPaths[mid] as string) < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const remember = (path: string) => {
    if (keys.has(path)) return;
    sortedPaths.splice(firstAtOrAfter(path), 0, path);
  };
  const forget = (path: string) => {
    const i = firstAtOrAfter(path);
    if (sortedPaths[i] === path) sortedPaths.splice(i, 1);
  };
  const calls: Record<string, number> = {};
  const enter = (method: string, opts: CallOptions | undefined) => {
    calls[method] = (calls[method] ?? 0) + 1;
    throwIfAborted(opts?.signal);
  };

  const prune = (key: StoredKey) => {
    const live = [...key.versions.keys()].sort((a, b) => a - b);
    while (live.length > key.maxVersions) key.versions.delete(live.shift() as number);
  };

  const store: MemorySecretStore = {
    kind: 'memory',
    calls,
    paths: () => [...keys.keys()].sort(),
    async read(path, opts = {}) {
      enter('read', opts);
      validateSecretPath(path);
      const key = keys.get(path);
      if (!key) return undefined;
      const n = opts.version ?? key.currentVersion;
      const v = key.versions.get(n);
      if (!v || v.deleted || v.destroyed) return undefined;
      const result: SecretVersion = {
        data: { ...v.data },
        version: n,
        createdAt: new Date(v.createdAt),
        customMetadata: { ...key.customMetadata },
      };
      return result;
    },
    async write(path, data, opts) {
      enter('write', opts);
      validateSecretPath(path);
      const clean = validateSecretData(data);
      const cas = validateCas(opts?.cas);
      const existing = keys.get(path);
      const current = existing?.currentVersion ?? 0;
      if (cas !== current) {
        throw new ZonekeeperError(
          'CONFLICT',
          `memory secret store: check-and-set failed for ${path}: expected version ${cas}, current is ${current}.`,
          {
            retry: 'transient',
            details: { path, expectedVersion: cas, currentVersion: current },
          },
        );
      }
      const now = clock.now();
      const key: StoredKey = existing ?? {
        createdAt: now,
        updatedAt: now,
        currentVersion: 0,
        maxVersions: defaultMax,
        customMetadata: {},
        versions: new Map(),
      };
      key.currentVersion += 1;
      key.updatedAt = now;
      key.versions.set(key.currentVersion, { data: clean, createdAt: now, deleted: false, destroyed: false });
      prune(key);
      remember(path);
      keys.set(path, key);
      return { version: key.currentVersion };
    },
    async readMetadata(path, opts = {}) {
      enter('readMetadata', opts);
      validateSecretPath(path);
      const key = keys.get(path);
      if (!key) return undefined;
      const meta: SecretMetadata = {
        currentVersion: key.currentVersion,
        createdAt: new Date(key.createdAt),
        updatedAt: new Date(key.updatedAt),
        customMetadata: { ...key.customMetadata },
        versions: [...key.versions.entries()]
          .sort(([a], [b]) => a - b)
          .map(([version, v]) => ({
            version,
            createdAt: new Date(v.createdAt),
            deleted: v.deleted,
            destroyed: v.destroyed,
          })),
      };
      return meta;
    },
    async writeMetadata(path, metadata, opts = {}) {
      enter('writeMetadata', opts);
      validateSecretPath(path);
      const { customMetadata: custom, maxVersions } = validateMetadataInput(metadata);
      const now = clock.now();
      const key = keys.get(path) ?? {
        createdAt: now,
        updatedAt: now,
        currentVersion: 0,
        maxVersions: defaultMax,
        customMetadata: {},
        versions: new Map(),
      };
      if (custom) key.customMetadata = { ...custom };
      if (maxVersions !== undefined) key.maxVersions = maxVersions === 0 ? defaultMax : maxVersions;
      key.updatedAt = now;
      prune(key);
      remember(path);
      keys.set(path, key);
    },
    async list(prefix, opts = {}) {
      enter('list', opts);
      const p = validatePrefix(prefix);
      const start = p === '' ? '' : `${p}/`;
      const children = new Set<string>();
      for (let i = firstAtOrAfter(start); i < sortedPaths.length; i++) {
        const path = sortedPaths[i] as string;
        if (!path.startsWith(start)) break;
        const rest = path.slice(start.length);
        const slash = rest.indexOf('/');
        children.add(slash === -1 ? rest : rest.slice(0, slash + 1));
      }
      return [...children].sort();
    },
    async deleteAll(path, opts = {}) {
      enter('deleteAll', opts);
      validateSecretPath(path);
      forget(path);
      return keys.delete(path);
    },
  };
  return store;
}
