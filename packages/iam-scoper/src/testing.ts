/**
 * The contract every {@link IdentityProvider} must satisfy, as a Vitest suite. zonekeeper runs it against
 * the memory provider and against the IAM adapter on moto; run it against your own provider (or a real
 * AWS account):
 *
 * ```ts
 * import { identityProviderContract } from '@zonekeeper/iam-scoper/testing';
 * identityProviderContract({ name: 'my provider', create: async () => ({ provider: myProvider }) });
 * ```
 *
 * The suite creates users under a fresh path `/zk-contract-<random>/` with names starting `zkc-`, and
 * deletes what it created at the end. Requires `vitest` (an optional peer dependency).
 *
 * @packageDocumentation
 */

import { isZonekeeperError } from '@zonekeeper/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samePolicyDocument } from './identity-plan.js';
import type { IdentityProvider } from './identity-ports.js';
import { buildZonePolicy, minifyPolicy } from './policy.js';

/** Behaviours that differ between real IAM and some emulators. Every flag defaults to `true` (real IAM). @public */
export interface IdentityProviderContractCapabilities {
  /** User names are unique ignoring case (`ALREADY_EXISTS` for `A` after `a`). moto: no. */
  readonly caseInsensitiveUserNames?: boolean;
  /** A user's inline policies may not exceed 2,048 non-whitespace characters in total (`CONFLICT`). moto: no. */
  readonly enforcesInlinePolicySizeQuota?: boolean;
}

/** Options of {@link identityProviderContract}. @public */
export interface IdentityProviderContractOptions {
  /** Suite name, e.g. `'iam (moto)'`. */
  readonly name: string;
  /** Creates the provider under test (once per suite); `cleanup` runs after the suite. */
  create(): Promise<{ readonly provider: IdentityProvider; cleanup?(): Promise<void> }>;
  readonly capabilities?: IdentityProviderContractCapabilities;
}

const POLICY = minifyPolicy(buildZonePolicy({ zoneId: 'Z0123456789ABC', zoneName: 'contract.example.com' }));
const OTHER_POLICY = minifyPolicy(
  buildZonePolicy({ zoneId: 'Z9999999999XYZ', zoneName: 'other.example.com' }),
);

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return isZonekeeperError(error)
      ? error.code
      : `not a ZonekeeperError: ${String((error as { name?: unknown })?.name)}`;
  }
  return 'resolved';
}

/**
 * Registers the identity-provider contract suite.
 * @public
 */
export function identityProviderContract(options: IdentityProviderContractOptions): void {
  const caps = {
    caseInsensitiveUserNames: options.capabilities?.caseInsensitiveUserNames ?? true,
    enforcesInlinePolicySizeQuota: options.capabilities?.enforcesInlinePolicySizeQuota ?? true,
  };

  describe(`IdentityProvider contract: ${options.name}`, () => {
    let p: IdentityProvider;
    let cleanup: (() => Promise<void>) | undefined;
    const run = Math.random().toString(36).slice(2, 8);
    const path = `/zk-contract-${run}/`;
    let n = 0;
    const fresh = () => `zkc-${run}-${++n}`;
    const created: string[] = [];
    const newUser = async (tags: Record<string, string> = { 'zonekeeper:managed-by': 'zonekeeper' }) => {
      const userName = fresh();
      const user = await p.createUser({ userName, path, tags });
      created.push(userName);
      return user;
    };

    beforeAll(async () => {
      const made = await options.create();
      p = made.provider;
      cleanup = made.cleanup;
    });
    afterAll(async () => {
      for (const userName of created) {
        try {
          for (const k of await p.listAccessKeys(userName)) await p.deleteAccessKey(userName, k.accessKeyId);
          for (const name of await p.listUserPolicies(userName)) await p.deleteUserPolicy(userName, name);
          await p.deleteUser(userName);
        } catch {
          // already gone
        }
      }
      await cleanup?.();
    });

    it('has a kind', () => {
      expect(typeof p.kind).toBe('string');
      expect(p.kind.length).toBeGreaterThan(0);
    });

    it('reports a missing user as undefined, and NOT_FOUND for calls on it', async () => {
      const ghost = fresh();
      expect(await p.getUser(ghost)).toBeUndefined();
      expect(await p.getUserPolicy(ghost, 'p')).toBeUndefined();
      expect(await codeOf(p.listAccessKeys(ghost))).toBe('NOT_FOUND');
      expect(await codeOf(p.listUserPolicies(ghost))).toBe('NOT_FOUND');
      expect(await codeOf(p.tagUser(ghost, { a: 'b' }))).toBe('NOT_FOUND');
      expect(await codeOf(p.createAccessKey(ghost))).toBe('NOT_FOUND');
      expect(await codeOf(p.putUserPolicy(ghost, 'p', POLICY))).toBe('NOT_FOUND');
      expect(await codeOf(p.deleteUser(ghost))).toBe('NOT_FOUND');
    });

    it('creates a user with path and tags, and reads it back', async () => {
      const before = Date.now();
      const user = await newUser({
        'zonekeeper:managed-by': 'zonekeeper',
        'zonekeeper:organization': 'acme',
      });
      expect(user.path).toBe(path);
      expect(user.arn).toMatch(new RegExp(`^arn:aws:iam::\\d{12}:user${path}${user.userName}$`));
      expect(user.userId.length).toBeGreaterThan(0);
      expect(user.createdAt.getTime()).toBeGreaterThan(before - 300_000);
      expect(user.tags).toEqual({ 'zonekeeper:managed-by': 'zonekeeper', 'zonekeeper:organization': 'acme' });
      const read = await p.getUser(user.userName);
      expect(read).toMatchObject({ userName: user.userName, path, arn: user.arn, userId: user.userId });
      expect(read?.tags).toEqual(user.tags);
    });

    it('refuses a taken name with ALREADY_EXISTS and leaves the user as it was', async () => {
      const user = await newUser({ 'zonekeeper:managed-by': 'zonekeeper' });
      expect(await codeOf(p.createUser({ userName: user.userName, path: '/', tags: { x: 'y' } }))).toBe(
        'ALREADY_EXISTS',
      );
      const read = await p.getUser(user.userName);
      expect(read?.path).toBe(path);
      expect(read?.tags).toEqual({ 'zonekeeper:managed-by': 'zonekeeper' });
    });

    if (caps.caseInsensitiveUserNames) {
      it('compares user names without case', async () => {
        const user = await newUser();
        expect(await codeOf(p.createUser({ userName: user.userName.toUpperCase(), path, tags: {} }))).toBe(
          'ALREADY_EXISTS',
        );
      });
    }

    it('adds and overwrites tags, keeping the others', async () => {
      const user = await newUser({ 'zonekeeper:managed-by': 'zonekeeper', 'zonekeeper:zone-id': 'ZOLD' });
      await p.tagUser(user.userName, { 'zonekeeper:zone-id': 'ZNEW', extra: 'v 1' });
      expect((await p.getUser(user.userName))?.tags).toEqual({
        'zonekeeper:managed-by': 'zonekeeper',
        'zonekeeper:zone-id': 'ZNEW',
        extra: 'v 1',
      });
    });

    it('lists the users under a path prefix with their tags, and no others', async () => {
      const a = await newUser({ 'zonekeeper:managed-by': 'zonekeeper', k: 'a' });
      const b = await newUser({ k: 'b' });
      const elsewhere = fresh();
      await p.createUser({ userName: elsewhere, path: `/zk-contract-other-${run}/`, tags: {} });
      created.push(elsewhere);
      const listed = await p.listUsers(path);
      const mine = listed.filter((u) => u.userName === a.userName || u.userName === b.userName);
      expect(mine.map((u) => u.userName).sort()).toEqual([a.userName, b.userName].sort());
      expect(mine.find((u) => u.userName === a.userName)?.tags).toEqual({
        'zonekeeper:managed-by': 'zonekeeper',
        k: 'a',
      });
      expect(mine.find((u) => u.userName === b.userName)?.arn).toBe(b.arn);
      expect(listed.every((u) => u.path.startsWith(path))).toBe(true);
      expect(listed.some((u) => u.userName === elsewhere)).toBe(false);
    });

    it('puts, reads (decoded), replaces, lists and deletes inline policies', async () => {
      const user = await newUser();
      expect(await p.listUserPolicies(user.userName)).toEqual([]);
      expect(await p.getUserPolicy(user.userName, 'zone')).toBeUndefined();
      await p.putUserPolicy(user.userName, 'zone', POLICY);
      const stored = await p.getUserPolicy(user.userName, 'zone');
      expect(typeof stored).toBe('string');
      expect(JSON.parse(stored as string)).toEqual(JSON.parse(POLICY));
      await p.putUserPolicy(user.userName, 'zone', OTHER_POLICY);
      expect(samePolicyDocument(String(await p.getUserPolicy(user.userName, 'zone')), OTHER_POLICY)).toBe(
        true,
      );
      expect(await p.listUserPolicies(user.userName)).toEqual(['zone']);
      await p.deleteUserPolicy(user.userName, 'zone');
      expect(await p.listUserPolicies(user.userName)).toEqual([]);
      expect(await codeOf(p.deleteUserPolicy(user.userName, 'zone'))).toBe('NOT_FOUND');
    });

    it('rejects a malformed policy document with INVALID_INPUT', async () => {
      const user = await newUser();
      expect(await codeOf(p.putUserPolicy(user.userName, 'bad', 'not json'))).toBe('INVALID_INPUT');
      expect(await codeOf(p.putUserPolicy(user.userName, 'bad', '{"x":1}'))).toBe('INVALID_INPUT');
      expect(await p.listUserPolicies(user.userName)).toEqual([]);
    });

    if (caps.enforcesInlinePolicySizeQuota) {
      it("refuses inline policies beyond the user's 2,048-character budget with CONFLICT", async () => {
        const user = await newUser();
        const big = (sid: string) =>
          JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Sid: sid,
                Effect: 'Allow',
                Action: ['route53:GetChange'],
                Resource: `arn:aws:route53:::change/${'C'.repeat(1_000)}`,
              },
            ],
          });
        await p.putUserPolicy(user.userName, 'one', big('One'));
        expect(await codeOf(p.putUserPolicy(user.userName, 'two', big('Two')))).toBe('CONFLICT');
        expect(await p.listUserPolicies(user.userName)).toEqual(['one']);
      });
    }

    it('creates AKIA-style access keys, lists them without secrets, and enforces two per user with CONFLICT', async () => {
      const user = await newUser();
      const k1 = await p.createAccessKey(user.userName);
      const k2 = await p.createAccessKey(user.userName);
      for (const k of [k1, k2]) {
        expect(k.accessKeyId).toMatch(/^AKIA[A-Z0-9]{16}$/);
        expect(k.secretAccessKey).toMatch(/^[A-Za-z0-9/+]{40}$/);
        expect(k.status).toBe('Active');
        expect(k.userName).toBe(user.userName);
        expect(k.createdAt).toBeInstanceOf(Date);
      }
      expect(k1.accessKeyId).not.toBe(k2.accessKeyId);
      expect(k1.secretAccessKey).not.toBe(k2.secretAccessKey);
      const listed = await p.listAccessKeys(user.userName);
      expect(listed.map((k) => k.accessKeyId).sort()).toEqual([k1.accessKeyId, k2.accessKeyId].sort());
      const text = JSON.stringify([listed, await p.getUser(user.userName), await p.listUsers(path)]);
      expect(text).not.toContain(k1.secretAccessKey);
      expect(text).not.toContain(k2.secretAccessKey);
      expect(listed.every((k) => !('secretAccessKey' in k))).toBe(true);
      expect(await codeOf(p.createAccessKey(user.userName))).toBe('CONFLICT');
      expect((await p.listAccessKeys(user.userName)).length).toBe(2);
      await p.deleteAccessKey(user.userName, k1.accessKeyId);
      const k3 = await p.createAccessKey(user.userName);
      expect((await p.listAccessKeys(user.userName)).map((k) => k.accessKeyId).sort()).toEqual(
        [k2.accessKeyId, k3.accessKeyId].sort(),
      );
    });

    it("deletes keys idempotently: a missing key, or another user's, is NOT_FOUND", async () => {
      const a = await newUser();
      const b = await newUser();
      const key = await p.createAccessKey(a.userName);
      expect(await codeOf(p.deleteAccessKey(b.userName, key.accessKeyId))).toBe('NOT_FOUND');
      expect(await codeOf(p.deleteAccessKey(a.userName, 'AKIAAAAAAAAAAAAAAAAA'))).toBe('NOT_FOUND');
      await p.deleteAccessKey(a.userName, key.accessKeyId);
      expect(await codeOf(p.deleteAccessKey(a.userName, key.accessKeyId))).toBe('NOT_FOUND');
      expect(await p.listAccessKeys(a.userName)).toEqual([]);
    });

    it('refuses to delete a user with keys or inline policies (CONFLICT), then deletes it', async () => {
      const user = await newUser();
      const key = await p.createAccessKey(user.userName);
      await p.putUserPolicy(user.userName, 'zone', POLICY);
      expect(await codeOf(p.deleteUser(user.userName))).toBe('CONFLICT');
      await p.deleteAccessKey(user.userName, key.accessKeyId);
      expect(await codeOf(p.deleteUser(user.userName))).toBe('CONFLICT');
      await p.deleteUserPolicy(user.userName, 'zone');
      await p.deleteUser(user.userName);
      expect(await p.getUser(user.userName)).toBeUndefined();
      expect(await codeOf(p.deleteUser(user.userName))).toBe('NOT_FOUND');
    });

    it('rejects invalid names, paths, tags and key ids with INVALID_INPUT and changes nothing', async () => {
      const name = fresh();
      expect(await codeOf(p.createUser({ userName: 'bad name!', path, tags: {} }))).toBe('INVALID_INPUT');
      expect(await codeOf(p.createUser({ userName: 'a'.repeat(65), path, tags: {} }))).toBe('INVALID_INPUT');
      expect(await codeOf(p.createUser({ userName: name, path: 'no-slashes', tags: {} }))).toBe(
        'INVALID_INPUT',
      );
      expect(await codeOf(p.createUser({ userName: name, path, tags: { 'aws:reserved': 'x' } }))).toBe(
        'INVALID_INPUT',
      );
      expect(await codeOf(p.createUser({ userName: name, path, tags: { ok: 'bad\u0000value' } }))).toBe(
        'INVALID_INPUT',
      );
      expect(await codeOf(p.getUser(''))).toBe('INVALID_INPUT');
      expect(await codeOf(p.listUsers('no-slash'))).toBe('INVALID_INPUT');
      expect(await codeOf(p.deleteAccessKey(name, 'short'))).toBe('INVALID_INPUT');
      expect(await codeOf(p.getUserPolicy(name, 'bad policy name'))).toBe('INVALID_INPUT');
      expect(await p.getUser(name)).toBeUndefined();
    });

    it('re-throws the abort reason without calling on', async () => {
      const user = await newUser();
      const c = new AbortController();
      c.abort();
      await expect(p.getUser(user.userName, { signal: c.signal })).rejects.toMatchObject({
        name: 'AbortError',
      });
      await expect(p.createAccessKey(user.userName, { signal: c.signal })).rejects.toMatchObject({
        name: 'AbortError',
      });
      expect(await p.listAccessKeys(user.userName)).toEqual([]);
    });
  });
}

export {
  type CredentialIssuerContractCapabilities,
  type CredentialIssuerContractOptions,
  credentialIssuerContract,
} from './testing-credentials.js';
export {
  type PodIdentityAssociationContractOptions,
  podIdentityAssociationContract,
} from './testing-pod-identity.js';
export {
  type OidcProviderRegistryContractCapabilities,
  type OidcProviderRegistryContractOptions,
  oidcProviderRegistryContract,
  type RoleProviderContractCapabilities,
  type RoleProviderContractOptions,
  roleProviderContract,
} from './testing-roles.js';
