/**
 * `startVaultFake`: an in-process, wire-level fake of HashiCorp Vault for tests. It listens on
 * 127.0.0.1, speaks Vault's HTTP API (`/v1/…`, the response envelope, Vault's error bodies and status
 * codes), enforces token ACL policies per request, and serves KV v2 and KV v1 engines. Built only on
 * `node:` modules. This module holds the public API and wires the parts: `state.ts` (shared state),
 * `tokens.ts` (tokens, ACLs, `auth/token/`), `sys.ts` (`sys/` mounts and policies), `health.ts`
 * (unauthenticated endpoints) and `router.ts` (request handling).
 *
 * @packageDocumentation
 */

import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startListFront } from './front.js';
import { createHealth } from './health.js';
import { KvV1Engine, KvV2Engine, type VaultFakeSecret } from './kv.js';
import { defaultPolicyRules, type VaultPolicyRules } from './policy.js';
import { createRouter } from './router.js';
import { createVaultState, type Mount, randomHex, randomToken, UnimplementedEngine } from './state.js';
import { createSystem } from './sys.js';
import { createTokens } from './tokens.js';
import { isJsonObject, type Json, type JsonObject, VaultHttpError } from './wire.js';

/**
 * Options of {@link startVaultFake}.
 * @public
 */
export interface VaultFakeOptions {
  /** The root token (policy `root`). Default: a random `hvs.` token, see {@link VaultFake.rootToken}. */
  readonly rootToken?: string;
  /**
   * Source of time for created/deleted times, `delete_version_after` and token TTLs. Any object with
   * `now(): Date` works, e.g. a `ManualClock` from `@zonekeeper/core`. Default: the system clock.
   */
  readonly clock?: { now(): Date };
  /** The version reported by `sys/health` and `sys/seal-status`. Default `1.19.0`. */
  readonly version?: string;
  /** The cluster name reported by `sys/health`. Default `vault-cluster-fake`. */
  readonly clusterName?: string;
  /** Aborts the start; the promise rejects with `signal.reason`. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Options of {@link VaultFake.createToken}.
 * @public
 */
export interface VaultFakeTokenOptions {
  /**
   * The token's policies: inline path rules (one policy, named `fake-inline-<n>`), or a list whose items
   * are policy names (`root`, `default`, or names set with {@link VaultFake.setPolicy} or `sys/policy`)
   * or inline rules. `default` is added unless `noDefaultPolicy` is set. Default: no policy but `default`.
   */
  readonly policies?: VaultPolicyRules | readonly (string | VaultPolicyRules)[];
  /** The token string to use. Default: a random `hvs.` token. */
  readonly token?: string;
  /** Time to live in seconds; 0 means it never expires. Default 2 764 800 (768 h, Vault's default). */
  readonly ttlSeconds?: number;
  /** Leave out the `default` policy. Default false. */
  readonly noDefaultPolicy?: boolean;
  /** Shown by `lookup-self` as `token-<displayName>`. Default `token`. */
  readonly displayName?: string;
  /** Token metadata shown by `lookup-self`. */
  readonly meta?: Readonly<Record<string, string>>;
}

/**
 * One request the fake answered, for assertions. Never contains a token or a body.
 * @public
 */
export interface VaultFakeRequest {
  /** The HTTP method as the client sent it (`LIST` for Vault's custom verb). */
  readonly method: string;
  /** The URL path, e.g. `/v1/secret/data/app`. */
  readonly path: string;
  /** The query string without `?` (`''` when none), e.g. `version=2` or `list=true`. */
  readonly query: string;
  /** The HTTP status answered. */
  readonly status: number;
  /** True when the answer came from {@link VaultFake.failNext}. */
  readonly injected: boolean;
}

/**
 * Options of {@link VaultFake.failNext}.
 * @public
 */
export interface VaultFakeFailOptions {
  /** The error message in `{"errors":[…]}`. Default `internal error` (Vault's own 500 message). */
  readonly message?: string;
  /** Only requests this returns true for are failed (and counted). Default: every request. */
  readonly match?: (request: { readonly method: string; readonly path: string }) => boolean;
}

/**
 * A running Vault fake, from {@link startVaultFake}. Dispose it with `await using` or call
 * {@link VaultFake.stop}.
 * @public
 */
export interface VaultFake extends AsyncDisposable {
  /** Base URL for clients (`VAULT_ADDR`), e.g. `http://127.0.0.1:41234`. No trailing slash. */
  readonly endpoint: string;
  /** The TCP port on 127.0.0.1. */
  readonly port: number;
  /** The root token (policy `root`). A secret: never log it. */
  readonly rootToken: string;
  /** The single unseal key accepted by `PUT sys/unseal` (threshold 1 of 1). */
  readonly unsealKey: string;
  /** Whether the fake is sealed. */
  readonly sealed: boolean;
  /** Every request answered so far, oldest first (a copy). */
  readonly requests: readonly VaultFakeRequest[];
  /** Creates a token and returns it. See {@link VaultFakeTokenOptions}. */
  createToken(options?: VaultFakeTokenOptions): string;
  /** Revokes a token; later requests with it get 403 `invalid token`. Returns false if it was unknown. */
  revokeToken(token: string): boolean;
  /**
   * Creates or replaces a named ACL policy, from path rules or from a policy document in Vault's HCL
   * or JSON syntax (only `capabilities` and `policy` are supported in a rule). `root` cannot be set.
   */
  setPolicy(name: string, policy: VaultPolicyRules | string): void;
  /** Seals: every request except `sys/health`, `sys/seal-status` and `sys/unseal` gets 503 `Vault is sealed`. */
  seal(): void;
  /** Unseals. */
  unseal(): void;
  /** Reports the node as a standby in `sys/health` (429 unless `standbyok`). Requests are still served. */
  setStandby(standby: boolean): void;
  /**
   * Makes the next `count` requests (matching `options.match`, if given) fail with `status` (default
   * 500) and `{"errors":["internal error"]}`. Repeated calls add up. `status` must be 429 or 5xx.
   */
  failNext(count: number, status?: number, options?: VaultFakeFailOptions): void;
  /**
   * Reads a key directly, bypassing HTTP, tokens and the request log: `peek('secret', 'app/db')`.
   * `undefined` when the key does not exist. Throws if `mount` is not a KV mount.
   */
  peek(mount: string, path: string): VaultFakeSecret | undefined;
  /**
   * Writes a key directly (a new version on KV v2, without check-and-set), bypassing HTTP. Returns the
   * new version, or 0 on KV v1. Throws if `mount` is not a KV mount.
   */
  seed(mount: string, path: string, data: Readonly<Record<string, unknown>>): number;
  /** Empties the request log. */
  clearRequests(): void;
  /**
   * Back to the state after start: only `secret/` (KV v2, empty), only the root token and the `default`
   * policy, unsealed, active, no pending failures, empty request log.
   */
  reset(): void;
  /** Stops listening and closes every connection. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a Vault fake on a free port of 127.0.0.1 and resolves once it accepts connections.
 *
 * It starts unsealed and active, with the `secret/` KV v2 mount (like `vault server -dev`), a root
 * token and the built-in `default` policy. Clients may send Vault's `LIST` method or `GET …?list=true`.
 *
 * @example
 * ```ts
 * await using fake = await startVaultFake();
 * const client = vault({ endpoint: fake.endpoint, token: fake.rootToken });
 * await client.write('secret/data/app', { data: { password: 'p' }, options: { cas: 0 } });
 * ```
 * @public
 */
export async function startVaultFake(options: VaultFakeOptions = {}): Promise<VaultFake> {
  options.signal?.throwIfAborted();
  const s = createVaultState({
    clock: options.clock ?? { now: () => new Date() },
    vaultVersion: options.version ?? '1.19.0',
    clusterName: options.clusterName ?? 'vault-cluster-fake',
    rootToken: options.rootToken ?? randomToken(),
  });
  const { rootToken, unsealKey, tokens, policies, mounts, addMount, now } = s;
  const tokensApi = createTokens(s);
  const { issueRootToken, storeInlinePolicy, createTokenEntry, tokenEngine } = tokensApi;
  const { systemEngine, setPolicyDocument } = createSystem(s, tokensApi);
  const { onRequest } = createRouter(s, tokensApi, createHealth(s));
  const listMarker = s.listMarker;

  function initialState(): void {
    s.sealed = false;
    s.standby = false;
    s.requestLog = [];
    s.failures = [];
    s.inlineCounter = 0;
    tokens.clear();
    policies.clear();
    mounts.clear();
    policies.set('default', defaultPolicyRules);
    issueRootToken();
    addMount('cubbyhole/', 'cubbyhole', new UnimplementedEngine('cubbyhole'), {
      description: 'per-token private secret storage',
      local: true,
    });
    addMount('identity/', 'identity', new UnimplementedEngine('identity'), { description: 'identity store' });
    addMount('secret/', 'kv', new KvV2Engine(), {
      description: 'key/value secret storage',
      options: { version: '2' },
    });
    addMount('sys/', 'system', systemEngine, {
      description: 'system endpoints used for control, policy and debugging',
      sealWrap: true,
    });
    mounts.set('auth/token/', {
      path: 'auth/token/',
      type: 'token',
      description: 'token based credentials',
      options: null,
      accessor: `auth_token_${randomHex(8)}`,
      uuid: randomUUID(),
      local: false,
      sealWrap: false,
      engine: tokenEngine,
    });
  }

  initialState();

  // ---- servers ---------------------------------------------------------------------------------------

  const api: Server = createServer((req, res) => {
    onRequest(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    api.once('error', reject);
    api.listen(0, '127.0.0.1', () => {
      api.off('error', reject);
      resolve();
    });
  });
  const apiPort = (api.address() as AddressInfo).port;
  const front = await startListFront(apiPort, `${listMarker}: 1`).catch(async (error: unknown) => {
    await new Promise<void>((resolve) => api.close(() => resolve()));
    throw error;
  });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await front.close();
      api.closeAllConnections();
      await new Promise<void>((resolve) => api.close(() => resolve()));
    })();
    return stopped;
  };
  if (options.signal?.aborted) {
    await stop();
    options.signal.throwIfAborted();
  }

  function kvMount(name: string): Mount {
    const path = `${name.replace(/^\/+|\/+$/g, '')}/`;
    const mount = mounts.get(path);
    if (mount === undefined || mount.type !== 'kv')
      throw new Error(`Vault fake: there is no KV mount at "${path}"`);
    return mount;
  }

  function jsonObject(data: Readonly<Record<string, unknown>>): JsonObject {
    const parsed: Json = JSON.parse(JSON.stringify(data ?? null));
    if (!isJsonObject(parsed)) throw new TypeError('Vault fake: seed data must be a JSON object');
    return parsed;
  }

  const fake: VaultFake = {
    endpoint: `http://127.0.0.1:${front.port}`,
    port: front.port,
    rootToken,
    unsealKey,
    get sealed() {
      return s.sealed;
    },
    get requests() {
      return [...s.requestLog];
    },
    createToken(tokenOptions: VaultFakeTokenOptions = {}) {
      const given = tokenOptions.policies ?? [];
      const items: readonly (string | VaultPolicyRules)[] = Array.isArray(given)
        ? (given as readonly (string | VaultPolicyRules)[])
        : [given as VaultPolicyRules];
      const names = items.map((item) => (typeof item === 'string' ? item : storeInlinePolicy(item)));
      const ttl = tokenOptions.ttlSeconds;
      if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 0)) {
        throw new RangeError('Vault fake: ttlSeconds must be a whole number of seconds, 0 or more');
      }
      return createTokenEntry({
        policies: names,
        id: tokenOptions.token,
        ttl,
        noDefaultPolicy: tokenOptions.noDefaultPolicy,
        displayName: tokenOptions.displayName,
        meta: tokenOptions.meta,
        orphan: false,
      }).id;
    },
    revokeToken(token: string) {
      return tokens.delete(token);
    },
    setPolicy(name: string, policy: VaultPolicyRules | string) {
      try {
        setPolicyDocument(name, policy);
      } catch (error) {
        if (error instanceof VaultHttpError)
          throw new Error(`Vault fake: ${error.errors[0] ?? 'invalid policy'}`);
        throw error;
      }
    },
    seal() {
      s.sealed = true;
    },
    unseal() {
      s.sealed = false;
    },
    setStandby(value: boolean) {
      s.standby = value;
    },
    failNext(count: number, status = 500, failOptions: VaultFakeFailOptions = {}) {
      if (!Number.isInteger(count) || count < 0)
        throw new RangeError('Vault fake: failNext count must be a whole number');
      if (!(status === 429 || (status >= 500 && status <= 599))) {
        throw new RangeError(`Vault fake: failNext status must be 429 or 5xx, got ${status}`);
      }
      if (count === 0) return;
      s.failures.push({
        remaining: count,
        status,
        message: failOptions.message ?? 'internal error',
        match: failOptions.match,
      });
    },
    peek(mount: string, path: string) {
      const engine = kvMount(mount).engine;
      const key = path.replace(/^\/+/, '');
      if (engine instanceof KvV2Engine) return engine.peek(key, key, now());
      if (engine instanceof KvV1Engine) return engine.peek(key, key);
      return undefined;
    },
    seed(mount: string, path: string, data: Readonly<Record<string, unknown>>) {
      const engine = kvMount(mount).engine;
      const key = path.replace(/^\/+/, '');
      if (key === '' || key.endsWith('/'))
        throw new TypeError('Vault fake: seed needs a key path, not a folder');
      const value = jsonObject(data);
      if (engine instanceof KvV2Engine) return engine.seed(key, value, now());
      if (engine instanceof KvV1Engine) engine.seed(key, value);
      return 0;
    },
    clearRequests() {
      s.requestLog = [];
    },
    reset() {
      initialState();
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
  return fake;
}
