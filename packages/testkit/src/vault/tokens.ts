/**
 * Tokens and their policies: the root token, lookups with expiry, ACLs, token creation (also from
 * `auth/token/create`), and the token auth engine mounted at `auth/token/`.
 * @internal
 */

import { type Engine, type EngineRequest, type EngineResult, nil, ok } from './engine.js';
import { Acl, normalizeRules, type VaultPolicyRules } from './policy.js';
import {
  defaultTokenTtl,
  normalizePolicyName,
  randomToken,
  type TokenEntry,
  type VaultState,
} from './state.js';
import {
  badRequest,
  fieldBool,
  isJsonObject,
  type JsonObject,
  multiError,
  parseDurationSeconds,
  VaultHttpError,
} from './wire.js';

/** The token functions of one fake. */
export function createTokens(s: VaultState) {
  const { clock, rootToken, tokens, policies } = s;

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
    s.inlineCounter += 1;
    const name = `fake-inline-${s.inlineCounter}`;
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

  const tokenEngine: Engine = {
    type: 'token',
    exists: () => undefined,
    handle(request: EngineRequest): EngineResult {
      const caller = s.currentCaller;
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

  return { issueRootToken, liveToken, aclFor, storeInlinePolicy, createTokenEntry, tokenEngine };
}

/** What {@link createTokens} returns. */
export type Tokens = ReturnType<typeof createTokens>;
