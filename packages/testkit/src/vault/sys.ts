/**
 * The system engine mounted at `sys/`: mounts (list, enable, disable, read), ACL policies (both
 * `sys/policy` and `sys/policies/acl`), `capabilities-self`, `seal` and `internal/ui/mounts` (the
 * preflight of the `vault kv` commands).
 * @internal
 */

import { type Engine, type EngineRequest, type EngineResult, nil, ok } from './engine.js';
import { KvV1Engine, KvV2Engine } from './kv.js';
import {
  type Acl,
  normalizeRules,
  PolicyParseError,
  parsePolicyDocument,
  type VaultPolicyRules,
} from './policy.js';
import {
  kvPluginVersion,
  type Mount,
  normalizePolicyName,
  protectedMountPrefixes,
  type VaultState,
} from './state.js';
import type { Tokens } from './tokens.js';
import { badRequest, fieldBool, isJsonObject, type JsonObject, multiError, VaultHttpError } from './wire.js';

/** The system engine of one fake, and the policy writer the test helpers share with it. */
export function createSystem(s: VaultState, tokens: Tokens) {
  const { vaultVersion, mounts, policies, addMount } = s;
  const { aclFor } = tokens;

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
        const caller = s.currentCaller;
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
      if ((path === 'internal/ui/mounts' || path.startsWith('internal/ui/mounts/')) && op === 'read') {
        // The preflight every `vault kv` command sends to learn a mount's KV version: the mounts (or the
        // one holding the path) the caller may use something in; others are a 403, as if absent.
        const caller = s.currentCaller;
        const acl = caller === undefined ? undefined : aclFor(caller);
        const visible = (m: Mount) => acl?.grantsUnder(m.path) === true;
        const rest = path.slice('internal/ui/mounts'.length).replace(/^\/+/, '');
        if (rest === '') {
          const secret: JsonObject = {};
          for (const mount of secretMounts()) if (visible(mount)) secret[mount.path] = mountEntry(mount);
          return ok({ auth: {}, secret });
        }
        const target = `${rest.replace(/\/+$/, '')}/`;
        const mount = secretMounts()
          .filter((m) => target.startsWith(m.path))
          .sort((a, b) => b.path.length - a.path.length)[0];
        if (mount === undefined || !visible(mount)) {
          throw new VaultHttpError(403, [
            `preflight capability check returned 403, please ensure client's policies grant access to path "${target}"`,
          ]);
        }
        return ok({ ...mountEntry(mount), path: mount.path });
      }
      if (path === 'seal' && write) {
        s.sealed = true;
        return nil;
      }
      throw new VaultHttpError(404, [multiError(['unsupported path'])]);
    },
  };

  return { systemEngine, setPolicyDocument };
}
