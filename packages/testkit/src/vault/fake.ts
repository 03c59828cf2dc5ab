/**
 * `startVaultFake`: an in-process, wire-level fake of HashiCorp Vault for tests. It listens on
 * 127.0.0.1, speaks Vault's HTTP API (`/v1/…`, the response envelope, Vault's error bodies and status
 * codes), enforces token ACL policies per request, and serves KV v2 and KV v1 engines. Built only on
 * `node:` modules.
 *
 * @packageDocumentation
 */

import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Engine, type EngineRequest, type EngineResult, nil, type Operation, ok } from './engine.js';
import { startListFront } from './front.js';
import { KvV1Engine, KvV2Engine, type VaultFakeSecret } from './kv.js';
import {
  Acl,
  defaultPolicyRules,
  normalizeRules,
  PolicyParseError,
  parsePolicyDocument,
  type VaultCapability,
  type VaultPolicyRules,
} from './policy.js';
import {
  badRequest,
  envelope,
  fieldBool,
  isJsonObject,
  type Json,
  type JsonObject,
  multiError,
  parseDurationSeconds,
  parseGoBool,
  type Stamp,
  VaultHttpError,
} from './wire.js';

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

interface TokenEntry {
  readonly id: string;
  readonly accessor: string;
  readonly policies: readonly string[];
  readonly displayName: string;
  readonly meta: Readonly<Record<string, string>> | null;
  readonly createdMs: number;
  readonly creationTtl: number;
  ttl: number;
  expireMs: number | null;
  readonly renewable: boolean;
  readonly orphan: boolean;
  readonly path: string;
}

interface Mount {
  readonly path: string;
  readonly type: string;
  readonly description: string;
  readonly options: JsonObject | null;
  readonly accessor: string;
  readonly uuid: string;
  readonly local: boolean;
  readonly sealWrap: boolean;
  readonly engine: Engine;
}

interface PendingFailure {
  remaining: number;
  readonly status: number;
  readonly message: string;
  readonly match: ((request: { readonly method: string; readonly path: string }) => boolean) | undefined;
}

interface Reply {
  readonly status: number;
  readonly body?: JsonObject | string;
  readonly contentType?: string;
}

const defaultTokenTtl = 2_764_800;
const maxBodyBytes = 32 * 1024 * 1024;
const protectedMountPrefixes = ['audit/', 'auth/', 'sys/', 'cubbyhole/', 'identity/'];
const kvPluginVersion = 'v0.21.0+builtin';

function randomToken(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(24);
  let out = 'hvs.';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

function randomHex(length: number): string {
  return randomBytes(Math.ceil(length / 2))
    .toString('hex')
    .slice(0, length);
}

function errorBody(errors: readonly string[]): JsonObject {
  return { errors: [...errors] };
}

/** Answers every request to an engine the fake lists in `sys/mounts` but does not implement. */
class UnimplementedEngine implements Engine {
  constructor(readonly type: string) {}
  exists(): boolean | undefined {
    return undefined;
  }
  handle(): EngineResult {
    throw new VaultHttpError(501, [`the Vault fake does not implement the ${this.type} secrets engine`]);
  }
}

function normalizePolicyName(name: string): string {
  return name.trim().toLowerCase();
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
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
  const clock = options.clock ?? { now: () => new Date() };
  const vaultVersion = options.version ?? '1.19.0';
  const clusterName = options.clusterName ?? 'vault-cluster-fake';
  const clusterId = randomUUID();
  const rootToken = options.rootToken ?? randomToken();
  const unsealKey = randomBytes(32).toString('base64');
  const listMarker = `x-zonekeeper-vault-fake-list-${randomHex(16)}`;

  let sealed = false;
  let standby = false;
  let requestLog: VaultFakeRequest[] = [];
  let failures: PendingFailure[] = [];
  let inlineCounter = 0;
  let lastStamp: Stamp = { ms: 0, subMs: 0 };
  const tokens = new Map<string, TokenEntry>();
  const policies = new Map<string, VaultPolicyRules>();
  const mounts = new Map<string, Mount>();

  /** The current time, strictly after the previous stamp (so a delete and a read never share an instant). */
  function now(): Stamp {
    const ms = clock.now().getTime();
    let next: Stamp;
    if (ms > lastStamp.ms) next = { ms, subMs: (ms * 7 + 104_729) % 1_000_000 };
    else {
      const subMs = lastStamp.subMs + 1_013;
      next =
        subMs < 1_000_000 ? { ms: lastStamp.ms, subMs } : { ms: lastStamp.ms + 1, subMs: subMs - 1_000_000 };
    }
    lastStamp = next;
    return next;
  }

  function addMount(path: string, type: string, engine: Engine, extra: Partial<Mount> = {}): void {
    mounts.set(path, {
      path,
      type,
      description: extra.description ?? '',
      options: extra.options ?? null,
      accessor: `${type}_${randomHex(8)}`,
      uuid: randomUUID(),
      local: extra.local ?? false,
      sealWrap: extra.sealWrap ?? false,
      engine,
    });
  }

  function issueRootToken(): void {
    tokens.set(rootToken, {
      id: rootToken,
      accessor: randomToken().slice(4),
      policies: ['root'],
      displayName: 'root',
      meta: null,
      createdMs: clock.now().getTime(),
      creationTtl: 0,
      ttl: 0,
      expireMs: null,
      renewable: false,
      orphan: true,
      path: 'auth/token/root',
    });
  }

  function initialState(): void {
    sealed = false;
    standby = false;
    requestLog = [];
    failures = [];
    inlineCounter = 0;
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

  // ---- tokens and policies -------------------------------------------------------------------------

  function liveToken(id: string): TokenEntry | undefined {
    const entry = tokens.get(id);
    if (entry === undefined) return undefined;
    if (entry.expireMs !== null && clock.now().getTime() >= entry.expireMs) {
      tokens.delete(id);
      return undefined;
    }
    return entry;
  }

  function aclFor(entry: TokenEntry): Acl {
    if (entry.policies.includes('root')) return new Acl([], true);
    const rules = entry.policies.map((name) => policies.get(name)).filter((r) => r !== undefined);
    return new Acl(rules);
  }

  function storeInlinePolicy(rules: VaultPolicyRules): string {
    inlineCounter += 1;
    const name = `fake-inline-${inlineCounter}`;
    policies.set(name, normalizeRules(rules));
    return name;
  }

  function createTokenEntry(input: {
    policies: readonly string[];
    id?: string | undefined;
    ttl?: number | undefined;
    noDefaultPolicy?: boolean | undefined;
    displayName?: string | undefined;
    meta?: Readonly<Record<string, string>> | null | undefined;
    renewable?: boolean | undefined;
    orphan: boolean;
  }): TokenEntry {
    const names = new Set(input.policies.map(normalizePolicyName).filter((p) => p !== ''));
    if (!input.noDefaultPolicy && !names.has('root')) names.add('default');
    const ttl = input.ttl ?? defaultTokenTtl;
    const createdMs = clock.now().getTime();
    const id = input.id ?? randomToken();
    if (tokens.has(id)) throw badRequest('cannot create a token with a duplicate ID');
    const entry: TokenEntry = {
      id,
      accessor: randomToken().slice(4),
      policies: [...names].sort(),
      displayName: `token${input.displayName ? `-${input.displayName}` : ''}`,
      meta: input.meta && Object.keys(input.meta).length > 0 ? { ...input.meta } : null,
      createdMs,
      creationTtl: ttl,
      ttl,
      expireMs: ttl > 0 ? createdMs + ttl * 1000 : null,
      renewable: input.renewable ?? true,
      orphan: input.orphan,
      path: 'auth/token/create',
    };
    tokens.set(id, entry);
    return entry;
  }

  function tokenData(entry: TokenEntry): JsonObject {
    const nowMs = clock.now().getTime();
    const root = entry.path === 'auth/token/root';
    const data: JsonObject = {
      accessor: entry.accessor,
      creation_time: Math.floor(entry.createdMs / 1000),
      creation_ttl: entry.creationTtl,
      display_name: entry.displayName,
      entity_id: '',
      expire_time: entry.expireMs === null ? null : new Date(entry.expireMs).toISOString(),
      explicit_max_ttl: 0,
      id: entry.id,
      meta: entry.meta === null ? null : { ...entry.meta },
      num_uses: 0,
      orphan: entry.orphan,
      path: entry.path,
      policies: [...entry.policies],
      renewable: entry.renewable,
      ttl: entry.expireMs === null ? 0 : Math.max(0, Math.round((entry.expireMs - nowMs) / 1000)),
      type: 'service',
    };
    if (!root) data.issue_time = new Date(entry.createdMs).toISOString();
    return data;
  }

  function authBlock(entry: TokenEntry): JsonObject {
    return {
      client_token: entry.id,
      accessor: entry.accessor,
      policies: [...entry.policies],
      token_policies: [...entry.policies],
      metadata: entry.meta === null ? null : { ...entry.meta },
      lease_duration: entry.ttl,
      renewable: entry.renewable,
      entity_id: '',
      token_type: 'service',
      orphan: entry.orphan,
      mfa_requirement: null,
      num_uses: 0,
    };
  }

  // ---- the token engine (auth/token/) ----------------------------------------------------------------

  let currentCaller: TokenEntry | undefined;

  const tokenEngine: Engine = {
    type: 'token',
    exists: () => undefined,
    handle(request: EngineRequest): EngineResult {
      const caller = currentCaller;
      if (caller === undefined) throw new VaultHttpError(500, ['internal error']);
      const { operation: op, path } = request;
      const body = request.body ?? {};
      const write = op === 'create' || op === 'update';
      switch (path) {
        case 'lookup-self':
          if (op === 'read' || write) return ok(tokenData(caller));
          break;
        case 'lookup': {
          if (!write && op !== 'read') break;
          const id = typeof body.token === 'string' ? body.token : (request.query.get('token') ?? '');
          const entry = liveToken(id);
          if (entry === undefined) throw badRequest('bad token');
          return ok(tokenData(entry));
        }
        case 'renew-self': {
          if (!write) break;
          if (!caller.renewable) throw badRequest('lease is not renewable');
          const increment = parseDurationSeconds(body.increment);
          const ttl = increment !== undefined && increment > 0 ? increment : caller.creationTtl;
          caller.ttl = ttl;
          caller.expireMs = ttl > 0 ? clock.now().getTime() + ttl * 1000 : null;
          return ok(null, { auth: authBlock(caller) });
        }
        case 'revoke-self':
          if (!write) break;
          tokens.delete(caller.id);
          return nil;
        case 'revoke': {
          if (!write) break;
          if (typeof body.token !== 'string' || body.token === '') throw badRequest('missing token ID');
          tokens.delete(body.token);
          return nil;
        }
        case 'create':
        case 'create-orphan': {
          if (!write) break;
          return ok(null, { auth: authBlock(createFromRequest(caller, body, path === 'create-orphan')) });
        }
        default:
          throw new VaultHttpError(404, [multiError(['unsupported path'])]);
      }
      throw new VaultHttpError(405, [multiError(['unsupported operation'])]);
    },
  };

  function createFromRequest(caller: TokenEntry, body: JsonObject, orphanPath: boolean): TokenEntry {
    const callerIsRoot = caller.policies.includes('root');
    for (const unsupported of ['num_uses', 'period', 'explicit_max_ttl', 'entity_alias', 'role_name']) {
      const value = body[unsupported];
      if (value !== undefined && value !== null && value !== 0 && value !== '' && value !== '0') {
        throw badRequest(`the Vault fake does not support "${unsupported}" on token creation`);
      }
    }
    if (body.type !== undefined && body.type !== 'service' && body.type !== 'default') {
      throw badRequest('the Vault fake only creates service tokens');
    }
    const rawPolicies = body.policies;
    const requested =
      typeof rawPolicies === 'string'
        ? rawPolicies.split(',')
        : Array.isArray(rawPolicies)
          ? rawPolicies.map((p) => String(p))
          : rawPolicies === undefined || rawPolicies === null
            ? caller.policies.filter((p) => p !== 'root' || callerIsRoot)
            : undefined;
    if (requested === undefined) throw badRequest('policies must be a list of names');
    const names = requested.map(normalizePolicyName).filter((p) => p !== '');
    if (!callerIsRoot) {
      const allowed = new Set(caller.policies);
      if (names.some((p) => p !== 'default' && !allowed.has(p))) {
        throw badRequest('child policies must be subset of parent');
      }
      if (typeof body.id === 'string' && body.id !== '')
        throw badRequest('root or sudo privileges required to specify token id');
    }
    const ttl = body.ttl === undefined ? undefined : parseDurationSeconds(body.ttl);
    if (ttl === undefined && body.ttl !== undefined) throw badRequest('invalid ttl');
    const meta: Record<string, string> = {};
    if (isJsonObject(body.meta)) for (const [k, v] of Object.entries(body.meta)) meta[k] = String(v);
    return createTokenEntry({
      policies: names,
      id: typeof body.id === 'string' && body.id !== '' ? body.id : undefined,
      ttl,
      noDefaultPolicy: fieldBool(body.no_default_policy) ?? false,
      displayName: typeof body.display_name === 'string' ? body.display_name : undefined,
      meta,
      renewable: fieldBool(body.renewable),
      orphan: orphanPath || fieldBool(body.no_parent) === true,
    });
  }

  // ---- the system engine (sys/) -----------------------------------------------------------------------

  function mountEntry(mount: Mount): JsonObject {
    const system = mount.type === 'system';
    return {
      accessor: mount.accessor,
      config: {
        default_lease_ttl: 0,
        force_no_cache: false,
        max_lease_ttl: 0,
        ...(system ? { passthrough_request_headers: ['Accept'] } : {}),
      },
      deprecation_status: mount.type === 'kv' ? 'supported' : '',
      description: mount.description,
      external_entropy_access: false,
      local: mount.local,
      options: mount.options === null ? null : { ...mount.options },
      plugin_version: '',
      running_plugin_version: mount.type === 'kv' ? kvPluginVersion : `v${vaultVersion}+builtin.vault`,
      running_sha256: '',
      seal_wrap: mount.sealWrap,
      type: mount.type,
      uuid: mount.uuid,
    };
  }

  function secretMounts(): Mount[] {
    return [...mounts.values()].filter((m) => m.type !== 'token').sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  function enableMount(rawPath: string, body: JsonObject): EngineResult {
    const path = `${rawPath.replace(/^\/+|\/+$/g, '')}/`;
    if (path === '/') throw badRequest('missing mount point');
    const type = typeof body.type === 'string' ? body.type : '';
    if (type === '') throw badRequest('backend type must be specified');
    for (const prefix of protectedMountPrefixes) {
      if (path.startsWith(prefix)) throw badRequest(`cannot mount "${path}"`);
    }
    for (const existing of mounts.keys()) {
      if (existing.startsWith(path) || path.startsWith(existing))
        throw badRequest(`path is already in use at ${existing}`);
    }
    const rawOptions = body.options;
    const options = isJsonObject(rawOptions) ? rawOptions : {};
    let version: string;
    if (type === 'kv-v2') version = '2';
    else if (type === 'generic') version = '1';
    else if (type === 'kv') version = String(options.version ?? '1') === '2' ? '2' : '1';
    else
      throw badRequest(
        `the Vault fake can only mount kv secrets engines (kv, kv-v2, generic), not "${type}"`,
      );
    if (type === 'kv' && options.version !== undefined && !['1', '2'].includes(String(options.version))) {
      throw badRequest(`invalid kv version "${String(options.version)}"`);
    }
    addMount(path, 'kv', version === '2' ? new KvV2Engine() : new KvV1Engine(), {
      description: typeof body.description === 'string' ? body.description : '',
      options: { ...options, version },
      local: fieldBool(body.local) ?? false,
      sealWrap: fieldBool(body.seal_wrap) ?? false,
    });
    return nil;
  }

  function disableMount(rawPath: string): EngineResult {
    const path = `${rawPath.replace(/^\/+|\/+$/g, '')}/`;
    for (const prefix of protectedMountPrefixes) {
      if (path.startsWith(prefix)) throw badRequest(`cannot unmount "${path}"`);
    }
    mounts.delete(path);
    return nil;
  }

  function setPolicyDocument(name: string, document: string | VaultPolicyRules): void {
    const normalized = normalizePolicyName(name);
    if (normalized === '') throw badRequest('missing policy name');
    if (normalized === 'root') throw badRequest('cannot update "root" policy');
    try {
      policies.set(
        normalized,
        typeof document === 'string' ? parsePolicyDocument(document) : normalizeRules(document),
      );
    } catch (error) {
      if (error instanceof PolicyParseError) throw badRequest(`failed to parse policy: ${error.message}`);
      throw error;
    }
  }

  function policyText(rules: VaultPolicyRules): string {
    return Object.entries(rules)
      .map(([path, caps]) => `path ${JSON.stringify(path)} {\n  capabilities = ${JSON.stringify(caps)}\n}`)
      .join('\n\n');
  }

  function capabilityList(acl: Acl, path: string): string[] {
    if (acl.root) return ['root'];
    const caps = [...acl.capabilities(path)].sort();
    return caps.length === 0 ? ['deny'] : caps;
  }

  const systemEngine: Engine = {
    type: 'system',
    exists: () => undefined,
    handle(request: EngineRequest): EngineResult {
      const { operation: op, path } = request;
      const body = request.body ?? {};
      const write = op === 'create' || op === 'update';
      if (path === 'mounts') {
        if (op !== 'read') throw new VaultHttpError(405, [multiError(['unsupported operation'])]);
        const data: JsonObject = {};
        for (const mount of secretMounts()) data[mount.path] = mountEntry(mount);
        return ok(data);
      }
      if (path.startsWith('mounts/')) {
        const rest = path.slice('mounts/'.length);
        if (rest.endsWith('/tune') || rest === '')
          throw new VaultHttpError(404, [multiError(['unsupported path'])]);
        if (write) return enableMount(rest, body);
        if (op === 'delete') return disableMount(rest);
        if (op === 'read') {
          const mount = mounts.get(`${rest.replace(/^\/+|\/+$/g, '')}/`);
          if (mount === undefined || mount.type === 'token') {
            throw badRequest(`No secret engine mount at ${rest.replace(/\/+$/, '')}/`);
          }
          return ok(mountEntry(mount));
        }
        throw new VaultHttpError(405, [multiError(['unsupported operation'])]);
      }
      if (path === 'policy' || path === 'policy/' || path === 'policies/acl/') {
        if (op !== 'read' && op !== 'list')
          throw new VaultHttpError(405, [multiError(['unsupported operation'])]);
        const names = [...policies.keys(), 'root'].sort();
        return path === 'policies/acl/' ? ok({ keys: names }) : ok({ keys: names, policies: names });
      }
      const named = /^(policy|policies\/acl)\/(.+)$/.exec(path);
      if (named !== null) {
        const acl = named[1] === 'policies/acl';
        const name = normalizePolicyName(named[2] ?? '');
        if (op === 'read') {
          if (name === 'root') return ok(acl ? { name, policy: '' } : { name, rules: '' });
          const rules = policies.get(name);
          if (rules === undefined) return nil;
          return ok(acl ? { name, policy: policyText(rules) } : { name, rules: policyText(rules) });
        }
        if (write) {
          const text = body.policy ?? body.rules;
          if (typeof text !== 'string') throw badRequest("'policy' parameter not supplied or empty");
          setPolicyDocument(name, text);
          return nil;
        }
        if (op === 'delete') {
          if (name === 'root' || name === 'default') throw badRequest(`cannot delete "${name}" policy`);
          policies.delete(name);
          return nil;
        }
        throw new VaultHttpError(405, [multiError(['unsupported operation'])]);
      }
      if (path === 'capabilities-self' && write) {
        const caller = currentCaller;
        if (caller === undefined) throw new VaultHttpError(500, ['internal error']);
        const acl = aclFor(caller);
        const paths = Array.isArray(body.paths)
          ? body.paths.map(String)
          : typeof body.path === 'string'
            ? [body.path]
            : typeof body.paths === 'string'
              ? body.paths.split(',')
              : [];
        if (paths.length === 0) throw badRequest('missing paths');
        const data: JsonObject = {};
        const all = new Set<string>();
        for (const p of paths) {
          const caps = capabilityList(acl, p.replace(/^\/+/, ''));
          data[p] = caps;
          for (const c of caps) all.add(c);
        }
        data.capabilities = [...all].sort();
        return ok(data);
      }
      if (path === 'seal' && write) {
        sealed = true;
        return nil;
      }
      throw new VaultHttpError(404, [multiError(['unsupported path'])]);
    },
  };

  initialState();

  // ---- unauthenticated sys endpoints ------------------------------------------------------------------

  function healthReply(query: URLSearchParams, head: boolean): Reply {
    const codes: Record<string, number> = {
      activecode: 200,
      standbycode: 429,
      drsecondarycode: 472,
      performancestandbycode: 473,
      sealedcode: 503,
      uninitcode: 501,
    };
    for (const name of Object.keys(codes)) {
      const text = query.get(name);
      if (text === null) continue;
      const code = Number.parseInt(text, 10);
      if (!/^\d+$/.test(text) || code < 1) return { status: 400, body: errorBody([]) };
      codes[name] = code;
    }
    let standbyOk = false;
    const standbyText = query.get('standbyok');
    if (standbyText !== null) {
      const parsed = standbyText === '' ? true : parseGoBool(standbyText);
      if (parsed === undefined) {
        return { status: 400, body: errorBody([`bad value for standbyok parameter: invalid syntax`]) };
      }
      standbyOk = parsed;
    }
    let status = codes.activecode ?? 200;
    if (sealed) status = codes.sealedcode ?? 503;
    else if (standby && !standbyOk) status = codes.standbycode ?? 429;
    const body: JsonObject = {
      initialized: true,
      sealed,
      standby: sealed || standby,
      performance_standby: false,
      replication_performance_mode: sealed ? 'unknown' : 'disabled',
      replication_dr_mode: sealed ? 'unknown' : 'disabled',
      server_time_utc: Math.floor(clock.now().getTime() / 1000),
      version: vaultVersion,
      enterprise: false,
      ...(sealed ? {} : { cluster_name: clusterName, cluster_id: clusterId }),
      echo_duration_ms: 0,
      clock_skew_ms: 0,
      replication_primary_canary_age_ms: 0,
      removed_from_cluster: false,
    };
    return head ? { status } : { status, body };
  }

  function sealStatus(): JsonObject {
    return {
      type: 'shamir',
      initialized: true,
      sealed,
      t: 1,
      n: 1,
      progress: 0,
      nonce: '',
      version: vaultVersion,
      build_date: '2025-01-01T00:00:00Z',
      migration: false,
      ...(sealed ? {} : { cluster_name: clusterName, cluster_id: clusterId }),
      recovery_seal: false,
      storage_type: 'inmem',
      removed_from_cluster: false,
    };
  }

  function unauthenticated(
    method: string,
    path: string,
    query: URLSearchParams,
    body: JsonObject | null,
  ): Reply | undefined {
    switch (path) {
      case 'sys/health':
        if (method === 'GET' || method === 'HEAD') return healthReply(query, method === 'HEAD');
        return { status: 405, body: errorBody([]) };
      case 'sys/seal-status':
        if (method === 'GET') return { status: 200, body: sealStatus() };
        return { status: 405, body: errorBody([]) };
      case 'sys/init':
        if (method === 'GET') return { status: 200, body: { initialized: true } };
        return { status: 400, body: errorBody(['Vault is already initialized']) };
      case 'sys/unseal': {
        if (method !== 'PUT' && method !== 'POST') return { status: 405, body: errorBody([]) };
        if (fieldBool(body?.reset ?? null) === true) return { status: 200, body: sealStatus() };
        const key = body?.key;
        if (typeof key !== 'string' || key === '') {
          return {
            status: 400,
            body: errorBody(["'key' must be specified in request body as JSON, or 'reset' set to true"]),
          };
        }
        if (key !== unsealKey) return { status: 400, body: errorBody(['Unseal failed, invalid key']) };
        sealed = false;
        return { status: 200, body: sealStatus() };
      }
      default:
        return undefined;
    }
  }

  // ---- request handling ----------------------------------------------------------------------------

  function findMount(path: string): Mount | undefined {
    let best: Mount | undefined;
    for (const candidate of [path, `${path}/`]) {
      for (const mount of mounts.values()) {
        if (
          candidate.startsWith(mount.path) &&
          (best === undefined || mount.path.length > best.path.length)
        ) {
          best = mount;
        }
      }
      if (best !== undefined) return best;
    }
    return undefined;
  }

  function needsSudo(path: string): boolean {
    return path === 'sys/seal' || path === 'auth/token/create-orphan';
  }

  function renderResult(result: EngineResult, op: Operation, mount: Mount, requestId: string): Reply {
    const mountType = mount.type;
    if (result.kind === 'nil') {
      return op === 'read' || op === 'list' ? { status: 404, body: errorBody([]) } : { status: 204 };
    }
    if (result.kind === 'raw') {
      if (result.fields === null) return { status: result.status, body: '' };
      return { status: result.status, body: envelope(requestId, result.fields, '') };
    }
    const body = envelope(requestId, result.fields, mountType);
    const data = result.fields.data;
    if (mountType === 'system' && data) return { status: 200, body: { ...data, ...body } };
    return { status: 200, body };
  }

  function handle(
    method: string,
    rawPath: string,
    query: URLSearchParams,
    headers: IncomingMessage['headers'],
    rawBody: Buffer,
  ): Reply {
    let path: string;
    try {
      path = decodeURIComponent(rawPath.slice('/v1/'.length));
    } catch {
      return { status: 400, body: errorBody([]) };
    }

    let op: Operation;
    let bodyNeeded = false;
    switch (method) {
      case 'GET': {
        op = 'read';
        const list = query.get('list');
        if (list !== null && list !== '') {
          const parsed = parseGoBool(list);
          if (parsed === undefined) return { status: 400, body: errorBody([]) };
          if (parsed) op = 'list';
        }
        break;
      }
      case 'LIST':
        op = 'list';
        break;
      case 'POST':
      case 'PUT':
        op = 'update';
        bodyNeeded = true;
        break;
      case 'PATCH': {
        op = 'patch';
        bodyNeeded = true;
        const contentType = (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
        if (contentType === '') return { status: 400, body: errorBody(['mime: no media type']) };
        if (contentType !== 'application/merge-patch+json') {
          return {
            status: 415,
            body: errorBody([
              `PATCH requires Content-Type of application/merge-patch+json, provided ${contentType}`,
            ]),
          };
        }
        break;
      }
      case 'DELETE':
        op = 'delete';
        break;
      case 'HEAD':
        if (path === 'sys/health') return healthReply(query, true);
        return { status: 405 };
      default:
        return { status: 405, body: errorBody([]) };
    }
    if (op === 'list' && !path.endsWith('/')) path += '/';

    let body: JsonObject | null = null;
    if (bodyNeeded && rawBody.length > 0 && rawBody.toString('utf8').trim() !== '') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(rawBody.toString('utf8'));
      } catch {
        return { status: 400, body: errorBody(['error parsing JSON']) };
      }
      if (parsed !== null && !isJsonObject(parsed))
        return { status: 400, body: errorBody(['error parsing JSON']) };
      body = parsed as JsonObject | null;
    }

    const early = unauthenticated(method, path, query, body);
    if (early !== undefined) return early;
    if (sealed) return { status: 503, body: errorBody(['Vault is sealed']) };

    const header = headers['x-vault-token'];
    const bearer = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1];
    const tokenId = (Array.isArray(header) ? header[0] : header) || bearer || '';
    if (tokenId === '') return { status: 403, body: errorBody(['permission denied']) };
    const caller = liveToken(tokenId);
    if (caller === undefined) {
      return { status: 403, body: errorBody([multiError(['permission denied', 'invalid token'])]) };
    }

    const mount = findMount(path);
    const relative =
      mount === undefined ? '' : path.length < mount.path.length ? '' : path.slice(mount.path.length);
    if (op === 'update' && mount !== undefined && mount.engine.exists(relative) === false) op = 'create';
    const acl = aclFor(caller);
    if (!acl.allows(path, op satisfies VaultCapability, needsSudo(path), op === 'list')) {
      return { status: 403, body: errorBody([multiError(['permission denied'])]) };
    }
    if (mount === undefined) {
      return {
        status: 404,
        body: errorBody([`no handler for route ${JSON.stringify(path)}. route entry not found.`]),
      };
    }

    const requestId = randomUUID();
    currentCaller = caller;
    try {
      const result = mount.engine.handle({ operation: op, path: relative, query, body, now: now() });
      return renderResult(result, op, mount, requestId);
    } catch (error) {
      if (error instanceof VaultHttpError) return { status: error.status, body: errorBody(error.errors) };
      // never echo the exception: its message could carry request data
      return { status: 500, body: errorBody([multiError(['internal error'])]) };
    } finally {
      currentCaller = undefined;
    }
  }

  function takeFailure(method: string, path: string): PendingFailure | undefined {
    const failure = failures.find(
      (f) => f.remaining > 0 && (f.match === undefined || f.match({ method, path })),
    );
    if (failure === undefined) return undefined;
    failure.remaining -= 1;
    failures = failures.filter((f) => f.remaining > 0);
    return failure;
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const listed = req.method === 'GET' && req.headers[listMarker] !== undefined;
    const method = listed ? 'LIST' : (req.method ?? 'GET');
    const path = url.pathname;
    const query = url.search.replace(/^\?/, '');
    let reply: Reply;
    let injected = false;
    const raw = await readBody(req).catch(() => Buffer.alloc(0));
    const failure = takeFailure(method, path);
    if (failure !== undefined) {
      injected = true;
      reply = { status: failure.status, body: errorBody([failure.message]) };
    } else if (raw === 'too-large') {
      reply = { status: 413, body: errorBody(['http: request body too large']) };
    } else if (!path.startsWith('/v1/')) {
      reply = { status: 404, body: '404 page not found\n', contentType: 'text/plain; charset=utf-8' };
    } else {
      reply = handle(method, path, url.searchParams, req.headers, raw);
    }
    requestLog.push({ method, path, query, status: reply.status, injected });
    const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
    let payload = '';
    if (reply.body !== undefined && reply.status !== 204) {
      payload = typeof reply.body === 'string' ? reply.body : `${JSON.stringify(reply.body)}\n`;
    }
    headers['Content-Type'] = reply.contentType ?? 'application/json';
    if (reply.status !== 204) headers['Content-Length'] = String(Buffer.byteLength(payload));
    res.writeHead(reply.status, headers);
    res.end(method === 'HEAD' || reply.status === 204 ? undefined : payload);
  }

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
      return sealed;
    },
    get requests() {
      return [...requestLog];
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
      sealed = true;
    },
    unseal() {
      sealed = false;
    },
    setStandby(value: boolean) {
      standby = value;
    },
    failNext(count: number, status = 500, failOptions: VaultFakeFailOptions = {}) {
      if (!Number.isInteger(count) || count < 0)
        throw new RangeError('Vault fake: failNext count must be a whole number');
      if (!(status === 429 || (status >= 500 && status <= 599))) {
        throw new RangeError(`Vault fake: failNext status must be 429 or 5xx, got ${status}`);
      }
      if (count === 0) return;
      failures.push({
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
      requestLog = [];
    },
    reset() {
      initialState();
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
  return fake;
}
