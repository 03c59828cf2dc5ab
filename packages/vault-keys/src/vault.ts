/**
 * The HashiCorp Vault KV version 2 adapter of the {@link SecretStore} port, on `node-vault` 0.12.
 *
 * @example
 * ```ts
 * import { createVaultSecretStore } from '@zonekeeper/vault-keys/vault';
 * const store = createVaultSecretStore({ endpoint: 'https://vault.example.com:8200', token: process.env.VAULT_TOKEN, mount: 'secret' });
 * ```
 *
 * Notes:
 * - The client is built with `noCustomHTTPVerbs: true` (lists are `GET …?list=true`), which every Vault
 *   accepts and which works through proxies that reject the `LIST` verb.
 * - `node-vault` 0.12 cannot pass an `AbortSignal` to its HTTP layer, so on abort the adapter stops
 *   waiting and re-throws `signal.reason`; the request itself may still reach Vault. A per-request
 *   timeout (`requestTimeoutMs`, default 30 s) bounds every call.
 * - Errors are translated and *sanitised*: the HTTP client's own error objects carry the Vault token and
 *   the request body (the secret) in enumerable fields, so they are never kept as `cause`. The cause is
 *   a plain `Error` with the HTTP status and Vault's error strings only.
 *
 * @packageDocumentation
 */

import { type CallOptions, hasErrorCode, throwIfAborted, ZonekeeperError } from '@zonekeeper/core';
import vault from 'node-vault';
import type { SecretMetadata, SecretStore, SecretVersion } from './ports.js';
import {
  validateCas,
  validateMetadataInput,
  validatePrefix,
  validateSecretData,
  validateSecretPath,
} from './validation.js';

/** The subset of a node-vault client the adapter uses. @public */
export interface VaultClientLike {
  read(path: string, requestOptions?: Record<string, unknown>): Promise<unknown>;
  write(path: string, data: unknown, requestOptions?: Record<string, unknown>): Promise<unknown>;
  list(path: string, requestOptions?: Record<string, unknown>): Promise<unknown>;
  delete(path: string, requestOptions?: Record<string, unknown>): Promise<unknown>;
}

/** Options of {@link createVaultSecretStore}. @public */
export interface VaultSecretStoreOptions {
  /** Vault address (default `VAULT_ADDR`, else `http://127.0.0.1:8200`). Ignored when `client` is given. */
  readonly endpoint?: string;
  /** Vault token (default `VAULT_TOKEN`). Ignored when `client` is given. Never logged. */
  readonly token?: string;
  /** Vault Enterprise namespace (default `VAULT_NAMESPACE`). Ignored when `client` is given. */
  readonly namespace?: string;
  /** The KV version 2 mount (default `secret`). */
  readonly mount?: string;
  /** Per-request timeout in milliseconds (default 30 000). */
  readonly requestTimeoutMs?: number;
  /** A caller-built node-vault client (e.g. after Kubernetes or AppRole login). */
  readonly client?: VaultClientLike;
}

interface VaultFailure {
  readonly status?: number;
  readonly errors: readonly string[];
  readonly network?: string;
}

/** Extracts status and Vault's error strings — nothing else — from whatever node-vault threw. */
function failureOf(error: unknown): VaultFailure {
  const e = error as {
    response?: { statusCode?: unknown; body?: unknown };
    code?: unknown;
    message?: unknown;
  };
  const status = typeof e?.response?.statusCode === 'number' ? e.response.statusCode : undefined;
  const body = e?.response?.body as { errors?: unknown } | undefined;
  const errors = Array.isArray(body?.errors)
    ? body.errors.filter((x): x is string => typeof x === 'string').map((x) => x.slice(0, 300))
    : [];
  if (status !== undefined) return { status, errors };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  return { errors, network: code ?? 'network error' };
}

/**
 * Vault's error strings as one phrase. Vault reports several errors in one string the way
 * hashicorp/go-multierror formats them (`"2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"`);
 * each is taken apart into its items, blank and repeated items are dropped, and the rest joined with
 * `, ` (`permission denied, invalid token`). `''` for none.
 * @internal
 */
export function vaultErrorText(errors: readonly string[]): string {
  const items: string[] = [];
  for (const raw of errors) {
    const text = raw.replace(/^\s*\d+ errors? occurred:\s*/, '');
    const parts = /(^|\n)\s*\*\s/.test(text) ? text.split(/\n\s*\*\s+|^\s*\*\s+/) : [text];
    for (const part of parts) {
      const item = part
        .replace(/\s+/g, ' ')
        .trim()
        .replace(/[.;]+$/, '');
      if (item !== '' && !items.some((x) => x.toLowerCase() === item.toLowerCase())) items.push(item);
    }
  }
  return items.join(', ');
}

function translate(error: unknown, op: string, path: string): ZonekeeperError {
  const f = failureOf(error);
  const what = `Vault: ${op} ${path}`;
  const errorText = vaultErrorText(f.errors);
  const said = errorText === '' ? '' : ` (${errorText})`;
  const cause = new Error(
    f.status === undefined ? `Vault request failed (${f.network})` : `Vault answered HTTP ${f.status}${said}`,
  );
  const details = { path, operation: op, ...(f.status === undefined ? {} : { status: f.status }) };
  if (f.status === undefined) {
    return new ZonekeeperError(
      'UNAVAILABLE',
      `${what} failed: Vault is unreachable (${f.network}); check the address and network, then retry.`,
      { cause, details },
    );
  }
  if (f.status === 403 || f.status === 401) {
    return new ZonekeeperError(
      'PERMISSION_DENIED',
      `${what} was denied${said}; check that the token is valid and its policy covers this path.`,
      { cause, details },
    );
  }
  if (f.status === 404) return new ZonekeeperError('NOT_FOUND', `${what}: not found.`, { cause, details });
  if (f.status === 400 && f.errors.some((m) => m.includes('check-and-set'))) {
    return new ZonekeeperError(
      'CONFLICT',
      `${what}: check-and-set failed${said}; another writer changed it. Read it again and retry.`,
      {
        cause,
        details,
        retry: 'transient',
      },
    );
  }
  if (f.status === 429)
    return new ZonekeeperError('THROTTLED', `${what} was rate-limited by Vault; retry later.`, {
      cause,
      details,
    });
  if (f.status === 503 && f.errors.some((m) => m.toLowerCase().includes('sealed'))) {
    return new ZonekeeperError('UNAVAILABLE', `${what} failed: Vault is sealed; unseal it and retry.`, {
      cause,
      details,
    });
  }
  if (f.status >= 500)
    return new ZonekeeperError('UNAVAILABLE', `${what} failed with HTTP ${f.status}${said}; retry later.`, {
      cause,
      details,
    });
  return new ZonekeeperError('INVALID_INPUT', `${what} was rejected with HTTP ${f.status}${said}.`, {
    cause,
    details,
  });
}

function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

interface KvReadBody {
  data?: {
    data?: Record<string, unknown> | null;
    metadata?: { version?: number; created_time?: string; custom_metadata?: Record<string, string> | null };
  };
}
interface KvMetadataBody {
  data?: {
    current_version?: number;
    created_time?: string;
    updated_time?: string;
    custom_metadata?: Record<string, string> | null;
    versions?: Record<string, { created_time?: string; deletion_time?: string; destroyed?: boolean }>;
  };
}

function strings(record: Record<string, unknown> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record ?? {})) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}

/**
 * Creates the Vault KV version 2 secret store.
 * @public
 */
export function createVaultSecretStore(options: VaultSecretStoreOptions = {}): SecretStore {
  const mount = validateSecretPath((options.mount ?? 'secret').replace(/^\/+|\/+$/g, ''), 'Vault mount');
  const timeout = options.requestTimeoutMs ?? 30_000;
  const client: VaultClientLike =
    options.client ??
    vault({
      apiVersion: 'v1',
      noCustomHTTPVerbs: true,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.token ? { token: options.token } : {}),
      ...(options.namespace ? { namespace: options.namespace } : {}),
    });
  const req = { timeout };

  async function call<T>(
    op: string,
    path: string,
    signal: AbortSignal | undefined,
    run: () => Promise<unknown>,
  ): Promise<T> {
    throwIfAborted(signal);
    try {
      return (await raceSignal(run(), signal)) as T;
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      throw translate(error, op, path);
    }
  }

  const readMetadata = async (path: string, opts: CallOptions = {}): Promise<SecretMetadata | undefined> => {
    validateSecretPath(path);
    let body: KvMetadataBody;
    try {
      body = await call<KvMetadataBody>('read metadata of', path, opts.signal, () =>
        client.read(`${mount}/metadata/${path}`, req),
      );
    } catch (e) {
      if (hasErrorCode(e, 'NOT_FOUND')) return undefined;
      throw e;
    }
    const d = body.data ?? {};
    return {
      currentVersion: d.current_version ?? 0,
      createdAt: new Date(d.created_time ?? 0),
      updatedAt: new Date(d.updated_time ?? d.created_time ?? 0),
      customMetadata: strings(d.custom_metadata),
      versions: Object.entries(d.versions ?? {})
        .map(([n, v]) => ({
          version: Number(n),
          createdAt: new Date(v.created_time ?? 0),
          deleted: Boolean(v.deletion_time),
          destroyed: v.destroyed === true,
        }))
        .sort((a, b) => a.version - b.version),
    };
  };

  return {
    kind: 'vault',
    async read(path, opts = {}) {
      validateSecretPath(path);
      if (opts.version !== undefined && (!Number.isInteger(opts.version) || opts.version < 1)) {
        throw new ZonekeeperError('INVALID_INPUT', 'Secret version must be an integer ≥ 1.');
      }
      const query = opts.version === undefined ? '' : `?version=${opts.version}`;
      let body: KvReadBody;
      try {
        body = await call<KvReadBody>('read', path, opts.signal, () =>
          client.read(`${mount}/data/${path}${query}`, req),
        );
      } catch (e) {
        // 404 covers "never written" and "deleted or destroyed version" (the latter with a body).
        if (hasErrorCode(e, 'NOT_FOUND')) return undefined;
        throw e;
      }
      const data = body.data?.data;
      const meta = body.data?.metadata;
      if (!data || !meta?.version) return undefined;
      const result: SecretVersion = {
        data: strings(data),
        version: meta.version,
        createdAt: new Date(meta.created_time ?? 0),
        customMetadata: strings(meta.custom_metadata),
      };
      return result;
    },
    async write(path, data, opts) {
      validateSecretPath(path);
      const clean = validateSecretData(data);
      const cas = validateCas(opts?.cas);
      const body = await call<{ data?: { version?: number } }>('write', path, opts.signal, () =>
        client.write(`${mount}/data/${path}`, { data: clean, options: { cas } }, req),
      );
      const version = body.data?.version;
      if (typeof version !== 'number')
        throw new ZonekeeperError('INTERNAL', `Vault: write ${path} returned no version.`, {
          details: { path },
        });
      return { version };
    },
    readMetadata,
    async writeMetadata(path, metadata, opts = {}) {
      validateSecretPath(path);
      const { customMetadata: custom, maxVersions } = validateMetadataInput(metadata);
      const payload = {
        ...(custom ? { custom_metadata: custom } : {}),
        ...(maxVersions === undefined ? {} : { max_versions: maxVersions }),
      };
      await call('write metadata of', path, opts.signal, () =>
        client.write(`${mount}/metadata/${path}`, payload, req),
      );
    },
    async list(prefix, opts = {}) {
      const p = validatePrefix(prefix);
      try {
        const body = await call<{ data?: { keys?: unknown } }>('list', p || '/', opts.signal, () =>
          client.list(`${mount}/metadata/${p}`, req),
        );
        const keys = body.data?.keys;
        return Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string') : [];
      } catch (e) {
        if (hasErrorCode(e, 'NOT_FOUND')) return [];
        throw e;
      }
    },
    async deleteAll(path, opts = {}) {
      validateSecretPath(path);
      const existing = await readMetadata(path, opts);
      if (!existing) return false;
      await call('delete', path, opts.signal, () => client.delete(`${mount}/metadata/${path}`, req));
      return true;
    },
  };
}
