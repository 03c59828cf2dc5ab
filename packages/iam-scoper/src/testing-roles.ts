/**
 * The contracts of the {@link RoleProvider} and {@link OidcProviderRegistry} ports, as Vitest suites.
 * zonekeeper runs them against the memory provider and against the IAM adapters on moto.
 *
 * Where moto 5.2 is more lenient than IAM (each a capability flag below, `false` for moto; the memory
 * provider behaves like IAM and runs every test):
 * - role names are compared with case (IAM: without);
 * - `CreateRole` does not validate the trust policy at all (`UpdateAssumeRolePolicy` does); the IAM
 *   adapter validates it before sending, so the port behaves the same;
 * - the trust-policy quota (ACLSizePerRole, 2,048 characters) and the 10,240-character budget of a
 *   role's inline policies are not enforced;
 * - a trust policy may name an OIDC provider that is not registered;
 * - deleting a missing OIDC provider succeeds (IAM: `NoSuchEntity`);
 * - `CreateOpenIDConnectProvider` takes `http://` URLs and ports (the adapters refuse them first);
 * - `AssumeRoleWithWebIdentity` checks nothing: not the token, not the trust policy, not even that the
 *   role exists (see `web-identity.moto.test.ts`).
 *
 * @packageDocumentation
 */

import { isZonekeeperError } from '@zonekeeper/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samePolicyDocument } from './identity-plan.js';
import { buildZonePolicy, minifyPolicy } from './policy.js';
import type { OidcProviderRegistry, RoleProvider } from './role-ports.js';
import {
  buildPodIdentityTrustPolicy,
  buildWebIdentityTrustPolicy,
  minifyTrustPolicy,
} from './trust-policy.js';

/** Behaviours that differ between real IAM and moto. Every flag defaults to `true` (real IAM). @public */
export interface RoleProviderContractCapabilities {
  /** Role names are unique ignoring case. moto: no. */
  readonly caseInsensitiveRoleNames?: boolean;
  /** A trust policy over 2,048 characters is `CONFLICT` (the default quota). moto: no. */
  readonly enforcesTrustPolicySizeQuota?: boolean;
  /** A role's inline policies may not exceed 10,240 characters in total (`CONFLICT`). moto: no. */
  readonly enforcesRoleInlinePolicySizeQuota?: boolean;
  /** A trust policy that names an unregistered OIDC provider of the account is `INVALID_INPUT`. moto: no. */
  readonly requiresRegisteredOidcProviders?: boolean;
}

/** Options of {@link roleProviderContract}. @public */
export interface RoleProviderContractOptions {
  /** Suite name, e.g. `'iam (moto)'`. */
  readonly name: string;
  /**
   * Creates the provider under test (once per suite) and the OIDC registry of the same account (for
   * the trust-policy and lifecycle tests); `cleanup` runs after the suite.
   */
  create(): Promise<{
    readonly provider: RoleProvider;
    readonly oidcProviders: OidcProviderRegistry;
    /** The account id in ARNs (default `123456789012`, moto's and the memory provider's). */
    readonly accountId?: string;
    cleanup?(): Promise<void>;
  }>;
  readonly capabilities?: RoleProviderContractCapabilities;
}

/** Behaviours of OIDC registries that differ between real IAM and moto. @public */
export interface OidcProviderRegistryContractCapabilities {
  /** Deleting a missing provider is `NOT_FOUND`. moto: no (it succeeds). */
  readonly deleteOfMissingProviderIsNotFound?: boolean;
}

/** Options of {@link oidcProviderRegistryContract}. @public */
export interface OidcProviderRegistryContractOptions {
  readonly name: string;
  create(): Promise<{
    readonly registry: OidcProviderRegistry;
    readonly accountId?: string;
    cleanup?(): Promise<void>;
  }>;
  readonly capabilities?: OidcProviderRegistryContractCapabilities;
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

const podTrust = (name: string) =>
  minifyTrustPolicy(
    buildPodIdentityTrustPolicy({
      clusters: [
        {
          clusterArn: `arn:aws:eks:eu-west-1:123456789012:cluster/${name}`,
          namespace: 'external-dns',
          serviceAccount: 'external-dns',
        },
      ],
    }),
  );

/**
 * Registers the role-provider contract suite.
 * @public
 */
export function roleProviderContract(options: RoleProviderContractOptions): void {
  const caps = {
    caseInsensitiveRoleNames: options.capabilities?.caseInsensitiveRoleNames ?? true,
    enforcesTrustPolicySizeQuota: options.capabilities?.enforcesTrustPolicySizeQuota ?? true,
    enforcesRoleInlinePolicySizeQuota: options.capabilities?.enforcesRoleInlinePolicySizeQuota ?? true,
    requiresRegisteredOidcProviders: options.capabilities?.requiresRegisteredOidcProviders ?? true,
  };

  describe(`RoleProvider contract: ${options.name}`, () => {
    let p: RoleProvider;
    let oidc: OidcProviderRegistry | undefined;
    let account = '123456789012';
    let cleanup: (() => Promise<void>) | undefined;
    const run = Math.random().toString(36).slice(2, 8);
    const path = `/zk-contract-${run}/`;
    let n = 0;
    const fresh = () => `zkc-${run}-${++n}`;
    const created: string[] = [];
    const createdProviders: string[] = [];
    const newRole = async (tags: Record<string, string> = { 'zonekeeper:managed-by': 'zonekeeper' }) => {
      const roleName = fresh();
      const role = await p.createRole({ roleName, path, trustPolicy: podTrust(roleName), tags });
      created.push(roleName);
      return role;
    };

    beforeAll(async () => {
      const made = await options.create();
      p = made.provider;
      oidc = made.oidcProviders;
      account = made.accountId ?? account;
      cleanup = made.cleanup;
    });
    afterAll(async () => {
      for (const roleName of created) {
        try {
          for (const name of await p.listRolePolicies(roleName)) await p.deleteRolePolicy(roleName, name);
          await p.deleteRole(roleName);
        } catch {
          // already gone
        }
      }
      for (const arn of createdProviders) await oidc?.deleteOidcProvider(arn).catch(() => undefined);
      await cleanup?.();
    });

    it('has a kind', () => {
      expect(typeof p.kind).toBe('string');
      expect(p.kind.length).toBeGreaterThan(0);
    });

    it('reports a missing role as undefined, and NOT_FOUND for calls on it', async () => {
      const ghost = fresh();
      expect(await p.getRole(ghost)).toBeUndefined();
      expect(await p.getRolePolicy(ghost, 'p')).toBeUndefined();
      expect(await codeOf(p.listRolePolicies(ghost))).toBe('NOT_FOUND');
      expect(await codeOf(p.tagRole(ghost, { a: 'b' }))).toBe('NOT_FOUND');
      expect(await codeOf(p.updateTrustPolicy(ghost, podTrust(ghost)))).toBe('NOT_FOUND');
      expect(await codeOf(p.putRolePolicy(ghost, 'p', POLICY))).toBe('NOT_FOUND');
      expect(await codeOf(p.deleteRole(ghost))).toBe('NOT_FOUND');
    });

    it('creates a role with path, trust policy, tags and description, and reads it back', async () => {
      const before = Date.now();
      const roleName = fresh();
      const trustPolicy = podTrust(roleName);
      const role = await p.createRole({
        roleName,
        path,
        trustPolicy,
        tags: { 'zonekeeper:managed-by': 'zonekeeper', 'zonekeeper:organization': 'acme' },
        description: 'zonekeeper: ExternalDNS of acme',
      });
      created.push(roleName);
      expect(role.path).toBe(path);
      expect(role.arn).toBe(`arn:aws:iam::${account}:role${path}${roleName}`);
      expect(role.roleId.length).toBeGreaterThan(0);
      expect(role.createdAt.getTime()).toBeGreaterThan(before - 300_000);
      expect(role.tags).toEqual({ 'zonekeeper:managed-by': 'zonekeeper', 'zonekeeper:organization': 'acme' });
      expect(JSON.parse(role.trustPolicy)).toEqual(JSON.parse(trustPolicy));
      const read = await p.getRole(roleName);
      expect(read).toMatchObject({
        roleName,
        path,
        arn: role.arn,
        roleId: role.roleId,
        description: 'zonekeeper: ExternalDNS of acme',
      });
      expect(read?.tags).toEqual(role.tags);
      expect(read?.trustPolicy).toBe(trustPolicy);
    });

    it('creates the roles of two clusters at once: each with its own trust and cluster tag', async () => {
      const tags = (cluster: string) => ({
        'zonekeeper:managed-by': 'zonekeeper',
        'zonekeeper:organization': 'acme',
        'zonekeeper:cluster': cluster,
      });
      const [a, b] = [fresh(), fresh()];
      created.push(a, b);
      await Promise.all([
        p.createRole({ roleName: a, path, trustPolicy: podTrust('c1'), tags: tags('c1') }),
        p.createRole({ roleName: b, path, trustPolicy: podTrust('c2'), tags: tags('c2') }),
      ]);
      const [ra, rb] = [await p.getRole(a), await p.getRole(b)];
      expect(ra?.tags).toEqual(tags('c1'));
      expect(rb?.tags).toEqual(tags('c2'));
      expect(ra?.trustPolicy).toBe(podTrust('c1'));
      expect(rb?.trustPolicy).toBe(podTrust('c2'));
    });

    it('two creates of one name at once: one role, the other create is ALREADY_EXISTS', async () => {
      const roleName = fresh();
      created.push(roleName);
      const results = await Promise.allSettled([
        p.createRole({ roleName, path, trustPolicy: podTrust('c1'), tags: {} }),
        p.createRole({ roleName, path, trustPolicy: podTrust('c2'), tags: {} }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(await codeOf(Promise.reject(refused?.reason))).toBe('ALREADY_EXISTS');
    });

    it('refuses a taken name with ALREADY_EXISTS and leaves the role as it was', async () => {
      const role = await newRole();
      const other = podTrust('other-cluster');
      expect(
        await codeOf(p.createRole({ roleName: role.roleName, path: '/', trustPolicy: other, tags: {} })),
      ).toBe('ALREADY_EXISTS');
      const read = await p.getRole(role.roleName);
      expect(read?.path).toBe(path);
      expect(read?.trustPolicy).toBe(role.trustPolicy);
    });

    if (caps.caseInsensitiveRoleNames) {
      it('compares role names without case', async () => {
        const role = await newRole();
        expect(
          await codeOf(
            p.createRole({
              roleName: role.roleName.toUpperCase(),
              path,
              trustPolicy: role.trustPolicy,
              tags: {},
            }),
          ),
        ).toBe('ALREADY_EXISTS');
      });
    }

    it('replaces the trust policy (attach and detach a cluster)', async () => {
      const role = await newRole();
      const two = minifyTrustPolicy(
        buildPodIdentityTrustPolicy({
          clusters: ['c1', 'c2'].map((c) => ({
            clusterArn: `arn:aws:eks:eu-west-1:123456789012:cluster/${c}`,
            namespace: 'external-dns',
            serviceAccount: 'external-dns',
          })),
        }),
      );
      await p.updateTrustPolicy(role.roleName, two);
      expect((await p.getRole(role.roleName))?.trustPolicy).toBe(two);
      await p.updateTrustPolicy(role.roleName, role.trustPolicy);
      expect((await p.getRole(role.roleName))?.trustPolicy).toBe(role.trustPolicy);
    });

    it('adds and overwrites tags, keeping the others', async () => {
      const role = await newRole({ 'zonekeeper:managed-by': 'zonekeeper', 'zonekeeper:zone-id': 'ZOLD' });
      await p.tagRole(role.roleName, { 'zonekeeper:zone-id': 'ZNEW', extra: 'v 1' });
      expect((await p.getRole(role.roleName))?.tags).toEqual({
        'zonekeeper:managed-by': 'zonekeeper',
        'zonekeeper:zone-id': 'ZNEW',
        extra: 'v 1',
      });
    });

    it('lists the roles under a path prefix with tags and trust policy, and no others', async () => {
      const a = await newRole({ 'zonekeeper:managed-by': 'zonekeeper', k: 'a' });
      const b = await newRole({ k: 'b' });
      const elsewhere = fresh();
      await p.createRole({
        roleName: elsewhere,
        path: `/zk-contract-other-${run}/`,
        trustPolicy: podTrust(elsewhere),
        tags: {},
      });
      created.push(elsewhere);
      const listed = await p.listRoles(path);
      const mine = listed.filter((r) => r.roleName === a.roleName || r.roleName === b.roleName);
      expect(mine.map((r) => r.roleName).sort()).toEqual([a.roleName, b.roleName].sort());
      expect(mine.find((r) => r.roleName === a.roleName)?.tags).toEqual({
        'zonekeeper:managed-by': 'zonekeeper',
        k: 'a',
      });
      expect(mine.find((r) => r.roleName === b.roleName)?.trustPolicy).toBe(b.trustPolicy);
      expect(listed.every((r) => r.path.startsWith(path))).toBe(true);
      expect(listed.some((r) => r.roleName === elsewhere)).toBe(false);
    });

    it('puts, reads (decoded), replaces, lists and deletes inline policies', async () => {
      const role = await newRole();
      expect(await p.listRolePolicies(role.roleName)).toEqual([]);
      expect(await p.getRolePolicy(role.roleName, 'zone')).toBeUndefined();
      await p.putRolePolicy(role.roleName, 'zone', POLICY);
      expect(await p.getRolePolicy(role.roleName, 'zone')).toBe(POLICY);
      await p.putRolePolicy(role.roleName, 'zone', OTHER_POLICY);
      expect(samePolicyDocument(String(await p.getRolePolicy(role.roleName, 'zone')), OTHER_POLICY)).toBe(
        true,
      );
      expect(await p.listRolePolicies(role.roleName)).toEqual(['zone']);
      await p.deleteRolePolicy(role.roleName, 'zone');
      expect(await p.listRolePolicies(role.roleName)).toEqual([]);
      expect(await codeOf(p.deleteRolePolicy(role.roleName, 'zone'))).toBe('NOT_FOUND');
    });

    it('rejects malformed permission and trust policies with INVALID_INPUT and changes nothing', async () => {
      const role = await newRole();
      expect(await codeOf(p.putRolePolicy(role.roleName, 'bad', 'not json'))).toBe('INVALID_INPUT');
      expect(await codeOf(p.putRolePolicy(role.roleName, 'bad', '{"x":1}'))).toBe('INVALID_INPUT');
      const withResource = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'pods.eks.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Resource: '*',
          },
        ],
      });
      const wrongAction = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: 's3:GetObject' },
        ],
      });
      const noPrincipal = JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }],
      });
      for (const bad of ['not json', '{}', withResource, wrongAction, noPrincipal]) {
        expect(await codeOf(p.updateTrustPolicy(role.roleName, bad)), bad).toBe('INVALID_INPUT');
        const name = fresh();
        expect(await codeOf(p.createRole({ roleName: name, path, trustPolicy: bad, tags: {} })), bad).toBe(
          'INVALID_INPUT',
        );
        expect(await p.getRole(name)).toBeUndefined();
      }
      expect(await p.listRolePolicies(role.roleName)).toEqual([]);
      expect((await p.getRole(role.roleName))?.trustPolicy).toBe(role.trustPolicy);
    });

    it('rejects a trust policy that no account may have (over 4,096 characters) with INVALID_INPUT', async () => {
      const role = await newRole();
      const huge = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'pods.eks.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'aws:RequestTag/kubernetes-namespace': 'x'.repeat(4_100) } },
          },
        ],
      });
      expect(await codeOf(p.updateTrustPolicy(role.roleName, huge))).toBe('INVALID_INPUT');
    });

    if (caps.enforcesTrustPolicySizeQuota) {
      it("refuses a trust policy over the account's default limit of 2,048 characters with CONFLICT", async () => {
        const role = await newRole();
        const big = minifyTrustPolicy(
          buildWebIdentityTrustPolicy({
            accountId: account,
            maxPolicyChars: 4096,
            clusters: Array.from({ length: 6 }, (_, i) => ({
              issuerUrl: `https://oidc.eks.eu-west-1.amazonaws.com/id/${String(i).padStart(32, '0')}`,
              namespace: 'external-dns',
              serviceAccount: 'external-dns',
            })),
          }),
        );
        expect(await codeOf(p.updateTrustPolicy(role.roleName, big))).toBe('CONFLICT');
        expect((await p.getRole(role.roleName))?.trustPolicy).toBe(role.trustPolicy);
      });
    }

    if (caps.enforcesRoleInlinePolicySizeQuota) {
      it("refuses inline policies beyond the role's 10,240-character budget with CONFLICT", async () => {
        const role = await newRole();
        const big = (sid: string) =>
          JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Sid: sid,
                Effect: 'Allow',
                Action: ['route53:GetChange'],
                Resource: `arn:aws:route53:::change/${'C'.repeat(6_000)}`,
              },
            ],
          });
        await p.putRolePolicy(role.roleName, 'one', big('One'));
        expect(await codeOf(p.putRolePolicy(role.roleName, 'two', big('Two')))).toBe('CONFLICT');
        expect(await p.listRolePolicies(role.roleName)).toEqual(['one']);
      });
    }

    if (caps.requiresRegisteredOidcProviders) {
      it('refuses a trust policy that trusts an unregistered OIDC provider of the account with INVALID_INPUT', async () => {
        const role = await newRole();
        const trust = minifyTrustPolicy(
          buildWebIdentityTrustPolicy({
            accountId: account,
            clusters: [
              {
                issuerUrl: `https://unregistered-${run}.oidc.example.com`,
                namespace: 'external-dns',
                serviceAccount: 'external-dns',
              },
            ],
          }),
        );
        expect(await codeOf(p.updateTrustPolicy(role.roleName, trust))).toBe('INVALID_INPUT');
      });
    }

    it('refuses to delete a role with inline policies (CONFLICT), then deletes it', async () => {
      const role = await newRole();
      await p.putRolePolicy(role.roleName, 'zone', POLICY);
      expect(await codeOf(p.deleteRole(role.roleName))).toBe('CONFLICT');
      expect((await p.getRole(role.roleName))?.roleName).toBe(role.roleName);
      await p.deleteRolePolicy(role.roleName, 'zone');
      await p.deleteRole(role.roleName);
      expect(await p.getRole(role.roleName)).toBeUndefined();
      expect(await codeOf(p.deleteRole(role.roleName))).toBe('NOT_FOUND');
    });

    it('rejects invalid names, paths, tags and descriptions with INVALID_INPUT and changes nothing', async () => {
      const name = fresh();
      const trustPolicy = podTrust(name);
      const attempts: Promise<unknown>[] = [
        p.createRole({ roleName: 'bad name!', path, trustPolicy, tags: {} }),
        p.createRole({ roleName: 'a'.repeat(65), path, trustPolicy, tags: {} }),
        p.createRole({ roleName: name, path: 'no-slashes', trustPolicy, tags: {} }),
        p.createRole({ roleName: name, path, trustPolicy, tags: { 'aws:reserved': 'x' } }),
        p.createRole({ roleName: name, path, trustPolicy, tags: {}, description: 'x'.repeat(1001) }),
        p.getRole(''),
        p.listRoles('no-slash'),
        p.getRolePolicy(name, 'bad policy name'),
        p.tagRole(name, {}),
      ];
      for (const attempt of attempts) expect(await codeOf(attempt)).toBe('INVALID_INPUT');
      expect(await p.getRole(name)).toBeUndefined();
    });

    it('re-throws the abort reason without calling on', async () => {
      const role = await newRole();
      const c = new AbortController();
      c.abort();
      await expect(p.getRole(role.roleName, { signal: c.signal })).rejects.toMatchObject({
        name: 'AbortError',
      });
      await expect(
        p.putRolePolicy(role.roleName, 'zone', POLICY, { signal: c.signal }),
      ).rejects.toMatchObject({
        name: 'AbortError',
      });
      expect(await p.listRolePolicies(role.roleName)).toEqual([]);
    });

    it('runs the web-identity lifecycle in the collector’s order (with the OIDC registry)', async () => {
      if (!oidc)
        throw new Error(
          'roleProviderContract: create() must return oidcProviders (the OIDC registry of the same account)',
        );
      const issuer = (c: string) => `https://${c}-${run}.oidc.example.com/clusters/${c}`;
      const clusters = ['c1', 'c2'].map((c) => ({
        issuerUrl: issuer(c),
        namespace: 'external-dns',
        serviceAccount: 'external-dns',
      }));
      const providers = [];
      for (const c of clusters) {
        const made = await oidc.createOidcProvider({
          url: c.issuerUrl,
          clientIds: ['sts.amazonaws.com'],
          tags: { 'zonekeeper:managed-by': 'zonekeeper' },
        });
        createdProviders.push(made.arn);
        providers.push(made);
      }
      const roleName = fresh();
      const one = minifyTrustPolicy(
        buildWebIdentityTrustPolicy({ accountId: account, clusters: clusters.slice(0, 1) }),
      );
      await p.createRole({
        roleName,
        path,
        trustPolicy: one,
        tags: { 'zonekeeper:managed-by': 'zonekeeper' },
      });
      created.push(roleName);
      await p.putRolePolicy(roleName, `${roleName}.route53`, POLICY);
      const both = minifyTrustPolicy(buildWebIdentityTrustPolicy({ accountId: account, clusters }));
      await p.updateTrustPolicy(roleName, both); // attach c2
      expect((await p.getRole(roleName))?.trustPolicy).toBe(both);
      await p.updateTrustPolicy(roleName, one); // detach c2 …
      await oidc.deleteOidcProvider(providers[1]?.arn as string); // … then its provider
      // Teardown: inline policies, then the role, then the provider.
      expect(await codeOf(p.deleteRole(roleName))).toBe('CONFLICT');
      for (const name of await p.listRolePolicies(roleName)) await p.deleteRolePolicy(roleName, name);
      await p.deleteRole(roleName);
      await oidc.deleteOidcProvider(providers[0]?.arn as string);
      expect(await p.getRole(roleName)).toBeUndefined();
      expect(await oidc.getOidcProvider(providers[0]?.arn as string)).toBeUndefined();
    });
  });
}

/**
 * Registers the OIDC-provider registry contract suite. Providers are created for issuers
 * `https://zkc-<random>-<n>.oidc.example.com/…` and deleted at the end.
 * @public
 */
export function oidcProviderRegistryContract(options: OidcProviderRegistryContractOptions): void {
  const caps = {
    deleteOfMissingProviderIsNotFound: options.capabilities?.deleteOfMissingProviderIsNotFound ?? true,
  };
  describe(`OidcProviderRegistry contract: ${options.name}`, () => {
    let r: OidcProviderRegistry;
    let account = '123456789012';
    let cleanup: (() => Promise<void>) | undefined;
    const run = Math.random().toString(36).slice(2, 8);
    let n = 0;
    const freshUrl = () => `https://zkc-${run}-${++n}.oidc.example.com/id/ABC${n}`;
    const created: string[] = [];
    const newProvider = async (tags: Record<string, string> = { 'zonekeeper:managed-by': 'zonekeeper' }) => {
      const made = await r.createOidcProvider({ url: freshUrl(), clientIds: ['sts.amazonaws.com'], tags });
      created.push(made.arn);
      return made;
    };

    beforeAll(async () => {
      const made = await options.create();
      r = made.registry;
      account = made.accountId ?? account;
      cleanup = made.cleanup;
    });
    afterAll(async () => {
      for (const arn of created) await r.deleteOidcProvider(arn).catch(() => undefined);
      await cleanup?.();
    });

    it('has a kind', () => {
      expect(r.kind.length).toBeGreaterThan(0);
    });

    it('registers an issuer with client ids, thumbprints and tags, and reads it back', async () => {
      const url = freshUrl();
      const thumbprint = '9E99A48A9960B14926BB7F3B02E22DA2B0AB7280';
      const made = await r.createOidcProvider({
        url,
        clientIds: ['sts.amazonaws.com', 'zonekeeper'],
        thumbprints: [thumbprint],
        tags: { 'zonekeeper:managed-by': 'zonekeeper' },
      });
      created.push(made.arn);
      expect(made.arn).toBe(`arn:aws:iam::${account}:oidc-provider/${url.slice('https://'.length)}`);
      const read = await r.getOidcProvider(made.arn);
      expect(read).toMatchObject({
        arn: made.arn,
        url,
        clientIds: ['sts.amazonaws.com', 'zonekeeper'],
        thumbprints: [thumbprint.toLowerCase()],
        tags: { 'zonekeeper:managed-by': 'zonekeeper' },
      });
      expect(read?.createdAt).toBeInstanceOf(Date);
    });

    it('has one provider per URL: a second one is ALREADY_EXISTS', async () => {
      const made = await newProvider();
      expect(await codeOf(r.createOidcProvider({ url: made.url, clientIds: ['other'], tags: {} }))).toBe(
        'ALREADY_EXISTS',
      );
      expect((await r.getOidcProvider(made.arn))?.clientIds).toEqual(['sts.amazonaws.com']);
    });

    it('lists the providers with their tags', async () => {
      const a = await newProvider({ 'zonekeeper:managed-by': 'zonekeeper', k: 'a' });
      const listed = await r.listOidcProviders();
      expect(listed.find((p) => p.arn === a.arn)?.tags).toEqual({
        'zonekeeper:managed-by': 'zonekeeper',
        k: 'a',
      });
    });

    it('adds and overwrites tags; tagging a missing provider is NOT_FOUND', async () => {
      const a = await newProvider({ 'zonekeeper:managed-by': 'zonekeeper', k: 'old' });
      await r.tagOidcProvider(a.arn, { k: 'new', extra: 'x' });
      expect((await r.getOidcProvider(a.arn))?.tags).toEqual({
        'zonekeeper:managed-by': 'zonekeeper',
        k: 'new',
        extra: 'x',
      });
      const ghost = `arn:aws:iam::${account}:oidc-provider/zkc-${run}-ghost.oidc.example.com`;
      expect(await codeOf(r.tagOidcProvider(ghost, { a: 'b' }))).toBe('NOT_FOUND');
      expect(await r.getOidcProvider(ghost)).toBeUndefined();
    });

    it('deletes a provider', async () => {
      const a = await newProvider();
      await r.deleteOidcProvider(a.arn);
      expect(await r.getOidcProvider(a.arn)).toBeUndefined();
      expect((await r.listOidcProviders()).some((p) => p.arn === a.arn)).toBe(false);
      if (caps.deleteOfMissingProviderIsNotFound)
        expect(await codeOf(r.deleteOidcProvider(a.arn))).toBe('NOT_FOUND');
    });

    it('rejects invalid URLs, client ids, thumbprints, tags and ARNs with INVALID_INPUT', async () => {
      const url = freshUrl();
      const attempts: Promise<unknown>[] = [
        r.createOidcProvider({ url: url.replace('https://', 'http://'), clientIds: [], tags: {} }),
        r.createOidcProvider({ url: url.replace('.com/', '.com:8443/'), clientIds: [], tags: {} }),
        r.createOidcProvider({ url: `${url}?q=1`, clientIds: [], tags: {} }),
        r.createOidcProvider({ url, clientIds: ['has space'], tags: {} }),
        r.createOidcProvider({ url, clientIds: Array.from({ length: 101 }, (_, i) => `c${i}`), tags: {} }),
        r.createOidcProvider({ url, clientIds: [], thumbprints: ['abc'], tags: {} }),
        r.createOidcProvider({
          url,
          clientIds: [],
          thumbprints: Array.from({ length: 6 }, () => 'a'.repeat(40)),
          tags: {},
        }),
        r.createOidcProvider({ url, clientIds: [], tags: { 'aws:x': 'y' } }),
        r.getOidcProvider('arn:aws:iam::123:oidc-provider/x.example.com'),
        r.deleteOidcProvider('not-an-arn'),
      ];
      for (const attempt of attempts) expect(await codeOf(attempt)).toBe('INVALID_INPUT');
      expect((await r.listOidcProviders()).some((p) => p.url === url)).toBe(false);
    });

    it('re-throws the abort reason without calling on', async () => {
      const c = new AbortController();
      c.abort();
      const url = freshUrl();
      await expect(
        r.createOidcProvider({ url, clientIds: [], tags: {} }, { signal: c.signal }),
      ).rejects.toMatchObject({
        name: 'AbortError',
      });
      expect((await r.listOidcProviders()).some((p) => p.url === url)).toBe(false);
    });
  });
}
