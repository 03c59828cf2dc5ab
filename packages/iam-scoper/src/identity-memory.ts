/**
 * An in-memory {@link IdentityProvider} that behaves like AWS IAM where zonekeeper depends on it:
 *
 * - user names are unique **ignoring case** (`ALREADY_EXISTS`), and IAM's name, path, tag and policy
 *   rules are enforced (`INVALID_INPUT`);
 * - a missing user, policy or key is `NOT_FOUND` (a key of another user counts as missing);
 * - a third access key is `CONFLICT` (IAM's `LimitExceeded`, "AccessKeysPerUser: 2");
 * - inline policies of one user may not exceed 2,048 non-whitespace characters in total (`CONFLICT`,
 *   IAM's `LimitExceeded`);
 * - deleting a user that still has access keys or inline policies is `CONFLICT` (IAM's `DeleteConflict`);
 * - access key ids look like `AKIA` + 16 characters of `A-Z2-7`, secrets are 40 characters of base64,
 *   drawn from an injectable random source; the secret is returned by `createAccessKey` only and is not
 *   kept.
 *
 * Shipped for users' own tests and the demo. Inspection helpers count calls, show a secret-free
 * snapshot, and inject faults (`before`: nothing applied; `after`: applied, then the call fails — a
 * crash after the side effect).
 *
 * @packageDocumentation
 */

import { randomBytes } from 'node:crypto';
import { type CallOptions, type Clock, systemClock, throwIfAborted, ZonekeeperError } from '@zonekeeper/core';
import type { AccessKey, AccessKeyMetadata, IdentityProvider, IdentityUser } from './identity-ports.js';
import {
  MAX_TAGS_PER_USER,
  nonWhitespaceLength,
  validateAccessKeyId,
  validateIamPath,
  validatePathPrefix,
  validatePolicyDocument,
  validatePolicyName,
  validateTags,
  validateUserName,
} from './identity-validation.js';
import { IAM_USER_INLINE_POLICY_MAX_CHARS } from './policy.js';

/** The methods of {@link IdentityProvider} (every member but `kind`). @public */
export type IdentityProviderMethod = Exclude<keyof IdentityProvider, 'kind'>;

/** The methods that change state. @public */
export const IDENTITY_WRITE_METHODS: readonly IdentityProviderMethod[] = [
  'createUser',
  'tagUser',
  'deleteUser',
  'putUserPolicy',
  'deleteUserPolicy',
  'createAccessKey',
  'deleteAccessKey',
];

/** IAM's limit on access keys per user. @public */
export const MAX_ACCESS_KEYS_PER_USER = 2;

/**
 * A fault for {@link MemoryIdentityProvider.injectFault}.
 * @public
 */
export interface MemoryIdentityFault {
  /** The method to fail. */
  readonly method: IdentityProviderMethod;
  /**
   * `before`: fail without applying anything. `after`: apply the call, then fail as if the connection
   * dropped before the answer arrived (the side effect happened, the caller saw an error). Default
   * `after`.
   */
  readonly when?: 'before' | 'after';
  /** What is thrown. Default: an `UNAVAILABLE` error ("connection reset"). */
  readonly error?: unknown;
  /** How many matching calls fail (default 1). */
  readonly times?: number;
}

/** Options of {@link createMemoryIdentityProvider}. @public */
export interface MemoryIdentityProviderOptions {
  /** Stamps users and keys (default: the system clock). */
  readonly clock?: Clock;
  /** Random bytes for ids and secrets (default `crypto.randomBytes`). */
  readonly randomBytes?: (size: number) => Uint8Array;
  /** Account id in ARNs (default `123456789012`). */
  readonly accountId?: string;
}

/** A secret-free view of one stored user, for assertions. @public */
export interface MemoryIdentitySnapshotUser {
  readonly userName: string;
  readonly path: string;
  readonly arn: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Inline policy name → document text. */
  readonly policies: Readonly<Record<string, string>>;
  readonly accessKeys: readonly AccessKeyMetadata[];
}

/** The memory provider plus inspection helpers. @public */
export interface MemoryIdentityProvider extends IdentityProvider {
  /** Calls per method since creation or the last {@link MemoryIdentityProvider.resetCalls}, failed ones included. */
  readonly calls: Readonly<Partial<Record<IdentityProviderMethod, number>>>;
  /** Number of calls to methods that change state ({@link IDENTITY_WRITE_METHODS}). */
  writes(): number;
  /** Sets every call counter to zero. */
  resetCalls(): void;
  /** Every stored user, sorted by name, without secrets. */
  snapshot(): readonly MemoryIdentitySnapshotUser[];
  /** Makes the next matching call(s) fail; see {@link MemoryIdentityFault}. */
  injectFault(fault: MemoryIdentityFault): void;
  /** Removes every pending fault. */
  clearFaults(): void;
}

interface StoredKey {
  readonly accessKeyId: string;
  status: 'Active' | 'Inactive';
  readonly createdAt: Date;
}

interface StoredUser {
  readonly userName: string;
  readonly path: string;
  readonly arn: string;
  readonly userId: string;
  readonly createdAt: Date;
  tags: Record<string, string>;
  readonly policies: Map<string, string>;
  readonly keys: StoredKey[];
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function draw(random: (size: number) => Uint8Array, alphabet: string, length: number): string {
  const bytes = random(length);
  if (bytes.length < length)
    throw new TypeError('memory identity provider: randomBytes returned too few bytes');
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[(bytes[i] as number) % alphabet.length];
  return out;
}

function failure(
  code: 'NOT_FOUND' | 'ALREADY_EXISTS' | 'CONFLICT',
  message: string,
  details: Record<string, unknown>,
) {
  return new ZonekeeperError(code, `memory IAM: ${message}`, { details });
}

/**
 * Creates an in-memory identity provider with IAM's semantics (see the module notes).
 *
 * @example
 * ```ts
 * const identity = createMemoryIdentityProvider();
 * const { userName } = await ensureZoneIdentity(
 *   { baseDomain: 'example.com', organization: 'acme', zoneId: 'Z0123456789ABC', zoneName: 'acme.example.com' },
 *   { identity },
 * );
 * const key = await issueAccessKey({ userName }, { identity });
 * ```
 * @public
 */
export function createMemoryIdentityProvider(
  options: MemoryIdentityProviderOptions = {},
): MemoryIdentityProvider {
  const clock = options.clock ?? systemClock;
  const random = options.randomBytes ?? ((size: number) => randomBytes(size));
  const accountId = options.accountId ?? '123456789012';
  const users = new Map<string, StoredUser>(); // keyed by lowercased name: IAM ignores case
  const calls: Partial<Record<IdentityProviderMethod, number>> = {};
  const faults: { fault: MemoryIdentityFault; remaining: number }[] = [];

  const faultFor = (method: IdentityProviderMethod, when: 'before' | 'after'): unknown => {
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

  /** Counts the call, honours the signal and `before` faults, runs `body`, then `after` faults. */
  const run = async <T>(
    method: IdentityProviderMethod,
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

  const find = (userName: string): StoredUser | undefined => users.get(userName.toLowerCase());
  const need = (userName: string): StoredUser => {
    const user = find(userName);
    if (!user) {
      throw failure('NOT_FOUND', `the user with name ${userName} cannot be found.`, { userName });
    }
    return user;
  };
  const view = (u: StoredUser): IdentityUser => ({
    userName: u.userName,
    path: u.path,
    arn: u.arn,
    userId: u.userId,
    createdAt: new Date(u.createdAt),
    tags: { ...u.tags },
  });
  const keyView = (k: StoredKey): AccessKeyMetadata => ({
    accessKeyId: k.accessKeyId,
    status: k.status,
    createdAt: new Date(k.createdAt),
  });
  const freshKeyId = (): string => {
    for (;;) {
      const id = `AKIA${draw(random, BASE32, 16)}`;
      if (![...users.values()].some((u) => u.keys.some((k) => k.accessKeyId === id))) return id;
    }
  };

  const provider: MemoryIdentityProvider = {
    kind: 'memory',
    calls,
    writes: () => IDENTITY_WRITE_METHODS.reduce((n, m) => n + (calls[m] ?? 0), 0),
    resetCalls() {
      for (const key of Object.keys(calls)) delete calls[key as IdentityProviderMethod];
    },
    snapshot: () =>
      [...users.values()]
        .sort((a, b) => (a.userName < b.userName ? -1 : a.userName > b.userName ? 1 : 0))
        .map((u) => ({
          userName: u.userName,
          path: u.path,
          arn: u.arn,
          tags: { ...u.tags },
          policies: Object.fromEntries([...u.policies.entries()].sort(([a], [b]) => (a < b ? -1 : 1))),
          accessKeys: u.keys.map(keyView),
        })),
    injectFault(fault) {
      const times = fault.times ?? 1;
      if (!Number.isInteger(times) || times < 1)
        throw new TypeError('injectFault: times must be an integer ≥ 1');
      faults.push({ fault, remaining: times });
    },
    clearFaults() {
      faults.length = 0;
    },

    getUser: (userName, opts) =>
      run('getUser', opts, () => {
        validateUserName(userName);
        const user = find(userName);
        return user ? view(user) : undefined;
      }),

    createUser: (spec, opts) =>
      run('createUser', opts, () => {
        const userName = validateUserName(spec?.userName);
        const path = validateIamPath(spec.path);
        const tags = validateTags(spec.tags);
        if (find(userName)) {
          throw failure('ALREADY_EXISTS', `user with name ${userName} already exists.`, { userName });
        }
        const user: StoredUser = {
          userName,
          path,
          arn: `arn:aws:iam::${accountId}:user${path}${userName}`,
          userId: `AIDA${draw(random, BASE32, 17)}`,
          createdAt: clock.now(),
          tags,
          policies: new Map(),
          keys: [],
        };
        users.set(userName.toLowerCase(), user);
        return view(user);
      }),

    tagUser: (userName, tags, opts) =>
      run('tagUser', opts, () => {
        validateUserName(userName);
        const clean = validateTags(tags, { allowEmpty: false });
        const user = need(userName);
        const merged = { ...user.tags, ...clean };
        if (Object.keys(merged).length > MAX_TAGS_PER_USER) {
          throw failure(
            'CONFLICT',
            `user ${user.userName} would have ${Object.keys(merged).length} tags, over IAM's limit of ${MAX_TAGS_PER_USER} (LimitExceeded).`,
            { userName: user.userName },
          );
        }
        user.tags = merged;
      }),

    listUsers: (pathPrefix, opts) =>
      run('listUsers', opts, () => {
        const prefix = validatePathPrefix(pathPrefix);
        return [...users.values()]
          .filter((u) => u.path.startsWith(prefix))
          .sort((a, b) => (a.userName.toLowerCase() < b.userName.toLowerCase() ? -1 : 1))
          .map(view);
      }),

    deleteUser: (userName, opts) =>
      run('deleteUser', opts, () => {
        validateUserName(userName);
        const user = need(userName);
        if (user.keys.length > 0 || user.policies.size > 0) {
          throw failure(
            'CONFLICT',
            `cannot delete user ${user.userName}: delete its ${user.keys.length} access key(s) and ${user.policies.size} inline policy(ies) first (DeleteConflict).`,
            { userName: user.userName, accessKeys: user.keys.length, inlinePolicies: user.policies.size },
          );
        }
        users.delete(user.userName.toLowerCase());
      }),

    listUserPolicies: (userName, opts) =>
      run('listUserPolicies', opts, () => {
        validateUserName(userName);
        return [...need(userName).policies.keys()].sort();
      }),

    getUserPolicy: (userName, policyName, opts) =>
      run('getUserPolicy', opts, () => {
        validateUserName(userName);
        validatePolicyName(policyName);
        return find(userName)?.policies.get(policyName);
      }),

    putUserPolicy: (userName, policyName, document, opts) =>
      run('putUserPolicy', opts, () => {
        validateUserName(userName);
        validatePolicyName(policyName);
        validatePolicyDocument(document);
        const user = need(userName);
        let total = nonWhitespaceLength(document);
        for (const [name, doc] of user.policies) if (name !== policyName) total += nonWhitespaceLength(doc);
        if (total > IAM_USER_INLINE_POLICY_MAX_CHARS) {
          throw failure(
            'CONFLICT',
            `the inline policies of user ${user.userName} would total ${total} characters, over IAM's budget of ${IAM_USER_INLINE_POLICY_MAX_CHARS} (LimitExceeded).`,
            { userName: user.userName, policyName, size: total },
          );
        }
        user.policies.set(policyName, document);
      }),

    deleteUserPolicy: (userName, policyName, opts) =>
      run('deleteUserPolicy', opts, () => {
        validateUserName(userName);
        validatePolicyName(policyName);
        const user = need(userName);
        if (!user.policies.delete(policyName)) {
          throw failure('NOT_FOUND', `policy ${policyName} of user ${user.userName} not found.`, {
            userName: user.userName,
            policyName,
          });
        }
      }),

    listAccessKeys: (userName, opts) =>
      run('listAccessKeys', opts, () => {
        validateUserName(userName);
        return need(userName).keys.map(keyView);
      }),

    createAccessKey: (userName, opts) =>
      run('createAccessKey', opts, (): AccessKey => {
        validateUserName(userName);
        const user = need(userName);
        if (user.keys.length >= MAX_ACCESS_KEYS_PER_USER) {
          throw failure(
            'CONFLICT',
            `cannot exceed quota for AccessKeysPerUser: ${MAX_ACCESS_KEYS_PER_USER} (user ${user.userName}, LimitExceeded).`,
            { userName: user.userName, accessKeyIds: user.keys.map((k) => k.accessKeyId) },
          );
        }
        const key: StoredKey = { accessKeyId: freshKeyId(), status: 'Active', createdAt: clock.now() };
        user.keys.push(key);
        return {
          userName: user.userName,
          accessKeyId: key.accessKeyId,
          status: key.status,
          createdAt: new Date(key.createdAt),
          secretAccessKey: draw(random, BASE64, 40),
        };
      }),

    deleteAccessKey: (userName, accessKeyId, opts) =>
      run('deleteAccessKey', opts, () => {
        validateUserName(userName);
        validateAccessKeyId(accessKeyId);
        const user = need(userName);
        const index = user.keys.findIndex((k) => k.accessKeyId === accessKeyId);
        if (index < 0) {
          throw failure('NOT_FOUND', `the access key with id ${accessKeyId} cannot be found.`, {
            userName: user.userName,
            accessKeyId,
          });
        }
        user.keys.splice(index, 1);
      }),
  };
  return provider;
}
