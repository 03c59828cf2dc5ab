/**
 * An in-memory {@link RoleProvider} and {@link OidcProviderRegistry} (one object, one account) that
 * behaves like AWS IAM where zonekeeper depends on it — including where moto does not (see
 * docs in `testing.ts` and the contract's capability flags):
 *
 * - role names are unique **ignoring case** (`ALREADY_EXISTS`); IAM's name, path, tag, description and
 *   policy rules are enforced (`INVALID_INPUT`), and trust policies are validated on `createRole` as
 *   well as on `updateTrustPolicy` (moto validates only the latter);
 * - a trust policy over the account's limit (`maxTrustPolicyChars`, 2,048 by default) is `CONFLICT`
 *   (IAM's `LimitExceeded`, "ACLSizePerRole"); inline policies of one role over 10,240 characters too;
 * - a trust policy whose `Federated` principal is an OIDC provider of this account that is not
 *   registered is `INVALID_INPUT` (IAM's `MalformedPolicyDocument`, "Invalid principal in policy"), so
 *   the provider must be registered first (switch off with `requireRegisteredOidcProviders: false`);
 * - deleting a role that still has inline policies is `CONFLICT` (`DeleteConflict`);
 * - one OIDC provider per URL (`ALREADY_EXISTS`); deleting or tagging a missing one is `NOT_FOUND`
 *   (moto silently ignores a delete).
 *
 * Shipped for users' own tests and the demo. Inspection helpers count calls, show a snapshot, and
 * inject faults like the identity memory provider.
 *
 * @packageDocumentation
 */

import { randomBytes } from 'node:crypto';
import { type CallOptions, type Clock, systemClock, throwIfAborted, ZonekeeperError } from '@zonekeeper/core';
import {
  MAX_TAGS_PER_USER,
  nonWhitespaceLength,
  validateIamPath,
  validatePathPrefix,
  validatePolicyDocument,
  validatePolicyName,
  validateTags,
} from './identity-validation.js';
import type {
  IdentityRole,
  OidcProvider,
  OidcProviderRegistry,
  OidcProviderSpec,
  RoleProvider,
} from './role-ports.js';
import {
  ROLE_INLINE_POLICY_MAX_CHARS,
  validateClientIds,
  validateOidcProviderArn,
  validateRoleDescription,
  validateRoleName,
  validateThumbprints,
  validateTrustPolicyDocument,
} from './role-validation.js';
import {
  parseOidcIssuerUrl,
  ROLE_TRUST_POLICY_DEFAULT_MAX_CHARS,
  ROLE_TRUST_POLICY_MAX_CHARS,
  validateAccountId,
} from './trust-policy.js';

/** The methods of the two ports (every member but `kind`). @public */
export type RoleProviderMethod =
  | Exclude<keyof RoleProvider, 'kind'>
  | Exclude<keyof OidcProviderRegistry, 'kind'>;

/** The methods that change state. @public */
export const ROLE_WRITE_METHODS: readonly RoleProviderMethod[] = [
  'createRole',
  'updateTrustPolicy',
  'tagRole',
  'deleteRole',
  'putRolePolicy',
  'deleteRolePolicy',
  'createOidcProvider',
  'tagOidcProvider',
  'deleteOidcProvider',
];

/** A fault for {@link MemoryRoleProvider.injectFault} (see `MemoryIdentityFault`). @public */
export interface MemoryRoleFault {
  readonly method: RoleProviderMethod;
  /** `before`: fail without applying; `after` (default): apply, then fail. */
  readonly when?: 'before' | 'after';
  /** What is thrown. Default: an `UNAVAILABLE` error. */
  readonly error?: unknown;
  /** How many matching calls fail (default 1). */
  readonly times?: number;
}

/** Options of {@link createMemoryRoleProvider}. @public */
export interface MemoryRoleProviderOptions {
  /** Stamps roles and providers (default: the system clock). */
  readonly clock?: Clock;
  /** Random bytes for role ids (default `crypto.randomBytes`). */
  readonly randomBytes?: (size: number) => Uint8Array;
  /** Account id in ARNs (default `123456789012`). */
  readonly accountId?: string;
  /** The account's trust-policy quota (default 2,048, at most 4,096). */
  readonly maxTrustPolicyChars?: number;
  /**
   * Refuse a trust policy that trusts an OIDC provider of this account which is not registered, as
   * IAM does (default true).
   */
  readonly requireRegisteredOidcProviders?: boolean;
}

/** A view of one stored role, for assertions. @public */
export interface MemoryRoleSnapshot {
  readonly roleName: string;
  readonly path: string;
  readonly arn: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly trustPolicy: string;
  /** Inline policy name → document text. */
  readonly policies: Readonly<Record<string, string>>;
}

/** The memory provider plus inspection helpers. @public */
export interface MemoryRoleProvider extends RoleProvider, OidcProviderRegistry {
  readonly kind: 'memory';
  /** Calls per method since creation or the last {@link MemoryRoleProvider.resetCalls}, failed ones included. */
  readonly calls: Readonly<Partial<Record<RoleProviderMethod, number>>>;
  /** Number of calls to methods that change state ({@link ROLE_WRITE_METHODS}). */
  writes(): number;
  resetCalls(): void;
  /** Every stored role (sorted by name) and OIDC provider (sorted by ARN). */
  snapshot(): {
    readonly roles: readonly MemoryRoleSnapshot[];
    readonly oidcProviders: readonly OidcProvider[];
  };
  injectFault(fault: MemoryRoleFault): void;
  clearFaults(): void;
}

interface StoredRole {
  readonly roleName: string;
  readonly path: string;
  readonly arn: string;
  readonly roleId: string;
  readonly createdAt: Date;
  readonly description: string;
  tags: Record<string, string>;
  trustPolicy: string;
  readonly policies: Map<string, string>;
}

interface StoredProvider {
  readonly arn: string;
  readonly url: string;
  readonly clientIds: string[];
  readonly thumbprints: string[];
  tags: Record<string, string>;
  readonly createdAt: Date;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function failure(
  code: 'NOT_FOUND' | 'ALREADY_EXISTS' | 'CONFLICT' | 'INVALID_INPUT',
  message: string,
  details: Record<string, unknown>,
) {
  return new ZonekeeperError(code, `memory IAM: ${message}`, { details });
}

/**
 * Creates an in-memory role provider and OIDC provider registry with IAM's semantics (see the module
 * notes).
 *
 * @example
 * ```ts
 * const iam = createMemoryRoleProvider();
 * const provider = await iam.createOidcProvider({ url: issuer, clientIds: ['sts.amazonaws.com'], tags });
 * await iam.createRole({ roleName, path: '/zonekeeper/', trustPolicy: minifyTrustPolicy(trust), tags });
 * ```
 * @public
 */
export function createMemoryRoleProvider(options: MemoryRoleProviderOptions = {}): MemoryRoleProvider {
  const clock = options.clock ?? systemClock;
  const random = options.randomBytes ?? ((size: number) => randomBytes(size));
  const accountId = validateAccountId(options.accountId ?? '123456789012');
  const maxTrust = options.maxTrustPolicyChars ?? ROLE_TRUST_POLICY_DEFAULT_MAX_CHARS;
  if (!Number.isInteger(maxTrust) || maxTrust < 1 || maxTrust > ROLE_TRUST_POLICY_MAX_CHARS) {
    throw new TypeError(
      `memory IAM: maxTrustPolicyChars must be an integer from 1 to ${ROLE_TRUST_POLICY_MAX_CHARS}`,
    );
  }
  const requireProviders = options.requireRegisteredOidcProviders ?? true;
  const roles = new Map<string, StoredRole>(); // keyed by lowercased name: IAM ignores case
  const providers = new Map<string, StoredProvider>(); // keyed by ARN
  const calls: Partial<Record<RoleProviderMethod, number>> = {};
  const faults: { fault: MemoryRoleFault; remaining: number }[] = [];

  const faultFor = (method: RoleProviderMethod, when: 'before' | 'after'): unknown => {
    const entry = faults.find((f) => f.fault.method === method && (f.fault.when ?? 'after') === when);
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) faults.splice(faults.indexOf(entry), 1);
    return (
      entry.fault.error ??
      new ZonekeeperError('UNAVAILABLE', `memory IAM: ${method} failed: connection reset (injected fault).`, {
        details: { method, injected: when },
      })
    );
  };
  const run = async <T>(
    method: RoleProviderMethod,
    opts: CallOptions | undefined,
    body: () => T,
  ): Promise<T> => {
    calls[method] = (calls[method] ?? 0) + 1;
    throwIfAborted(opts?.signal);
    const before = faultFor(method, 'before');
    if (before !== undefined) throw before;
    const result = body();
    const after = faultFor(method, 'after');
    if (after !== undefined) throw after;
    return result;
  };

  const find = (roleName: string) => roles.get(roleName.toLowerCase());
  const need = (roleName: string): StoredRole => {
    const role = find(roleName);
    if (!role) throw failure('NOT_FOUND', `the role with name ${roleName} cannot be found.`, { roleName });
    return role;
  };
  const needProvider = (arn: string): StoredProvider => {
    const p = providers.get(arn);
    if (!p) throw failure('NOT_FOUND', `OpenIDConnect provider ${arn} not found.`, { oidcProviderArn: arn });
    return p;
  };

  /** Validates a trust policy as IAM does for this account (see the module notes). */
  const checkTrust = (text: unknown, roleName: string): string => {
    const doc = validateTrustPolicyDocument(text);
    const size = nonWhitespaceLength(text as string);
    if (size > maxTrust) {
      throw failure(
        'CONFLICT',
        `cannot exceed quota for ACLSizePerRole: ${maxTrust} (role ${roleName}: ${size} characters, LimitExceeded).`,
        { roleName, size, limit: maxTrust },
      );
    }
    if (requireProviders) {
      const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
      for (const st of statements as { Principal?: { Federated?: string | string[] } | '*' }[]) {
        const federated = typeof st.Principal === 'object' ? st.Principal.Federated : undefined;
        for (const arn of federated === undefined ? [] : [federated].flat()) {
          if (arn.startsWith(`arn:aws:iam::${accountId}:oidc-provider/`) && !providers.has(arn)) {
            throw failure(
              'INVALID_INPUT',
              `Invalid principal in policy: "Federated":"${arn}" (MalformedPolicyDocument): register the OIDC provider before the role trusts it.`,
              { roleName, oidcProviderArn: arn },
            );
          }
        }
      }
    }
    return text as string;
  };

  const view = (r: StoredRole): IdentityRole => ({
    roleName: r.roleName,
    path: r.path,
    arn: r.arn,
    roleId: r.roleId,
    createdAt: new Date(r.createdAt),
    tags: { ...r.tags },
    trustPolicy: r.trustPolicy,
    description: r.description,
  });
  const providerView = (p: StoredProvider): OidcProvider => ({
    arn: p.arn,
    url: p.url,
    clientIds: [...p.clientIds],
    thumbprints: [...p.thumbprints],
    tags: { ...p.tags },
    createdAt: new Date(p.createdAt),
  });
  const mergeTags = (current: Record<string, string>, tags: unknown, what: string) => {
    const merged = { ...current, ...validateTags(tags, { allowEmpty: false }) };
    if (Object.keys(merged).length > MAX_TAGS_PER_USER) {
      throw failure(
        'CONFLICT',
        `${what} would have ${Object.keys(merged).length} tags, over IAM's limit of ${MAX_TAGS_PER_USER} (LimitExceeded).`,
        {},
      );
    }
    return merged;
  };

  const provider: MemoryRoleProvider = {
    kind: 'memory',
    calls,
    writes: () => ROLE_WRITE_METHODS.reduce((n, m) => n + (calls[m] ?? 0), 0),
    resetCalls() {
      for (const key of Object.keys(calls)) delete calls[key as RoleProviderMethod];
    },
    snapshot: () => ({
      roles: [...roles.values()]
        .sort((a, b) => (a.roleName < b.roleName ? -1 : a.roleName > b.roleName ? 1 : 0))
        .map((r) => ({
          roleName: r.roleName,
          path: r.path,
          arn: r.arn,
          tags: { ...r.tags },
          trustPolicy: r.trustPolicy,
          policies: Object.fromEntries([...r.policies.entries()].sort(([a], [b]) => (a < b ? -1 : 1))),
        })),
      oidcProviders: [...providers.values()].sort((a, b) => (a.arn < b.arn ? -1 : 1)).map(providerView),
    }),
    injectFault(fault) {
      const times = fault.times ?? 1;
      if (!Number.isInteger(times) || times < 1)
        throw new TypeError('injectFault: times must be an integer ≥ 1');
      faults.push({ fault, remaining: times });
    },
    clearFaults() {
      faults.length = 0;
    },

    getRole: (roleName, opts) =>
      run('getRole', opts, () => {
        validateRoleName(roleName);
        const role = find(roleName);
        return role ? view(role) : undefined;
      }),

    createRole: (spec, opts) =>
      run('createRole', opts, () => {
        const roleName = validateRoleName(spec?.roleName);
        const path = validateIamPath(spec.path);
        const tags = validateTags(spec.tags);
        const description = validateRoleDescription(spec.description);
        validateTrustPolicyDocument(spec.trustPolicy);
        if (find(roleName)) {
          throw failure('ALREADY_EXISTS', `role with name ${roleName} already exists.`, { roleName });
        }
        const trustPolicy = checkTrust(spec.trustPolicy, roleName);
        const bytes = random(17);
        let suffix = '';
        for (let i = 0; i < 17; i++) suffix += BASE32[(bytes[i] ?? 0) % 32];
        const role: StoredRole = {
          roleName,
          path,
          arn: `arn:aws:iam::${accountId}:role${path}${roleName}`,
          roleId: `AROA${suffix}`,
          createdAt: clock.now(),
          description,
          tags,
          trustPolicy,
          policies: new Map(),
        };
        roles.set(roleName.toLowerCase(), role);
        return view(role);
      }),

    updateTrustPolicy: (roleName, trustPolicy, opts) =>
      run('updateTrustPolicy', opts, () => {
        validateRoleName(roleName);
        validateTrustPolicyDocument(trustPolicy);
        const role = need(roleName);
        role.trustPolicy = checkTrust(trustPolicy, role.roleName);
      }),

    tagRole: (roleName, tags, opts) =>
      run('tagRole', opts, () => {
        validateRoleName(roleName);
        validateTags(tags, { allowEmpty: false });
        const role = need(roleName);
        role.tags = mergeTags(role.tags, tags, `role ${role.roleName}`);
      }),

    listRoles: (pathPrefix, opts) =>
      run('listRoles', opts, () => {
        const prefix = validatePathPrefix(pathPrefix);
        return [...roles.values()]
          .filter((r) => r.path.startsWith(prefix))
          .sort((a, b) => (a.roleName.toLowerCase() < b.roleName.toLowerCase() ? -1 : 1))
          .map(view);
      }),

    deleteRole: (roleName, opts) =>
      run('deleteRole', opts, () => {
        validateRoleName(roleName);
        const role = need(roleName);
        if (role.policies.size > 0) {
          throw failure(
            'CONFLICT',
            `cannot delete role ${role.roleName}: delete its ${role.policies.size} inline policy(ies) first (DeleteConflict).`,
            { roleName: role.roleName, inlinePolicies: role.policies.size },
          );
        }
        roles.delete(role.roleName.toLowerCase());
      }),

    listRolePolicies: (roleName, opts) =>
      run('listRolePolicies', opts, () => {
        validateRoleName(roleName);
        return [...need(roleName).policies.keys()].sort();
      }),

    getRolePolicy: (roleName, policyName, opts) =>
      run('getRolePolicy', opts, () => {
        validateRoleName(roleName);
        validatePolicyName(policyName);
        return find(roleName)?.policies.get(policyName);
      }),

    putRolePolicy: (roleName, policyName, document, opts) =>
      run('putRolePolicy', opts, () => {
        validateRoleName(roleName);
        validatePolicyName(policyName);
        validatePolicyDocument(document);
        const role = need(roleName);
        let total = nonWhitespaceLength(document);
        for (const [name, doc] of role.policies) if (name !== policyName) total += nonWhitespaceLength(doc);
        if (total > ROLE_INLINE_POLICY_MAX_CHARS) {
          throw failure(
            'CONFLICT',
            `the inline policies of role ${role.roleName} would total ${total} characters, over IAM's budget of ${ROLE_INLINE_POLICY_MAX_CHARS} (LimitExceeded).`,
            { roleName: role.roleName, policyName, size: total },
          );
        }
        role.policies.set(policyName, document);
      }),

    deleteRolePolicy: (roleName, policyName, opts) =>
      run('deleteRolePolicy', opts, () => {
        validateRoleName(roleName);
        validatePolicyName(policyName);
        const role = need(roleName);
        if (!role.policies.delete(policyName)) {
          throw failure('NOT_FOUND', `policy ${policyName} of role ${role.roleName} not found.`, {
            roleName: role.roleName,
            policyName,
          });
        }
      }),

    createOidcProvider: (spec: OidcProviderSpec, opts) =>
      run('createOidcProvider', opts, () => {
        const { url, hostPath } = parseOidcIssuerUrl(spec?.url);
        const clientIds = validateClientIds(spec.clientIds);
        const thumbprints = validateThumbprints(spec.thumbprints);
        const tags = validateTags(spec.tags);
        const arn = `arn:aws:iam::${accountId}:oidc-provider/${hostPath}`;
        if (providers.has(arn)) {
          throw failure('ALREADY_EXISTS', `an OpenIDConnect provider for ${url} already exists.`, {
            oidcProviderArn: arn,
          });
        }
        const stored: StoredProvider = { arn, url, clientIds, thumbprints, tags, createdAt: clock.now() };
        providers.set(arn, stored);
        return providerView(stored);
      }),

    getOidcProvider: (arn, opts) =>
      run('getOidcProvider', opts, () => {
        validateOidcProviderArn(arn);
        const p = providers.get(arn);
        return p ? providerView(p) : undefined;
      }),

    listOidcProviders: (opts) =>
      run('listOidcProviders', opts, () =>
        [...providers.values()].sort((a, b) => (a.arn < b.arn ? -1 : 1)).map(providerView),
      ),

    tagOidcProvider: (arn, tags, opts) =>
      run('tagOidcProvider', opts, () => {
        validateOidcProviderArn(arn);
        validateTags(tags, { allowEmpty: false });
        const p = needProvider(arn);
        p.tags = mergeTags(p.tags, tags, `OIDC provider ${arn}`);
      }),

    deleteOidcProvider: (arn, opts) =>
      run('deleteOidcProvider', opts, () => {
        validateOidcProviderArn(arn);
        needProvider(arn);
        providers.delete(arn);
      }),
  };
  return provider;
}
