import { hasErrorCode, ZonekeeperError } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import {
  deleteZoneIdentity,
  ensureZoneIdentity,
  issueAccessKey,
  listZoneIdentities,
  reconcileAccessKeys,
  revokeAccessKey,
} from './identity.js';
import {
  createMemoryIdentityProvider,
  type IdentityProviderMethod,
  type MemoryIdentityProvider,
} from './identity-memory.js';
import type { AccessKey } from './identity-ports.js';
import { identityPolicyName, identityUserName } from './naming.js';
import { buildZonePolicy, clusterRecordNames } from './policy.js';
import { capturingLogger, everything, rejectionOf } from './test-helpers.test.util.js';

const SMALL_POLICY =
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"route53:GetChange","Resource":"*"}]}';

const acme = {
  baseDomain: 'example.com',
  organization: 'acme',
  zoneId: 'Z0123456789ABC',
  zoneName: 'acme.example.com',
};
const USER = identityUserName(acme);
const POLICY_NAME = identityPolicyName(acme);

function setup(): { identity: MemoryIdentityProvider; deps: { identity: MemoryIdentityProvider } } {
  const identity = createMemoryIdentityProvider();
  return { identity, deps: { identity } };
}

/** The state that matters, without timestamps and random ids. */
function state(identity: MemoryIdentityProvider) {
  return identity.snapshot().map((u) => ({
    userName: u.userName,
    path: u.path,
    tags: u.tags,
    policies: Object.fromEntries(Object.entries(u.policies).map(([k, v]) => [k, JSON.parse(v) as unknown])),
    keys: u.accessKeys.length,
  }));
}

describe('ensureZoneIdentity', () => {
  it('creates the user under /zonekeeper/ with its tags and the zone policy, then converges with no write call', async () => {
    const { identity, deps } = setup();
    const first = await ensureZoneIdentity(acme, deps);
    expect(first).toEqual({
      plan: {
        steps: [
          expect.objectContaining({ op: 'create-user', userName: USER, path: '/zonekeeper/' }),
          expect.objectContaining({ op: 'put-policy', userName: USER, policyName: POLICY_NAME }),
        ],
      },
      userName: USER,
      policyName: POLICY_NAME,
      dryRun: false,
    });
    expect(state(identity)).toEqual([
      {
        userName: USER,
        path: '/zonekeeper/',
        tags: {
          'zonekeeper:managed-by': 'zonekeeper',
          'zonekeeper:organization': 'acme',
          'zonekeeper:zone-id': 'Z0123456789ABC',
          'zonekeeper:base-domain': 'example.com',
        },
        policies: { [POLICY_NAME]: buildZonePolicy({ zoneId: acme.zoneId, zoneName: acme.zoneName }) },
        keys: 0,
      },
    ]);
    identity.resetCalls();
    const second = await ensureZoneIdentity(acme, deps);
    expect(second.plan.steps).toEqual([]);
    expect(identity.writes()).toBe(0);
    expect((await ensureZoneIdentity(acme, deps, { dryRun: true })).plan.steps).toEqual([]);
  });

  it('accepts the zone id with its /hostedzone/ prefix, and the names with a trailing dot or in capitals', async () => {
    const { identity, deps } = setup();
    await ensureZoneIdentity(acme, deps);
    identity.resetCalls();
    const again = await ensureZoneIdentity(
      {
        ...acme,
        zoneId: '/hostedzone/Z0123456789ABC',
        zoneName: 'ACME.example.com.',
        baseDomain: 'Example.COM.',
      },
      deps,
    );
    expect(again.plan.steps).toEqual([]);
    expect(identity.writes()).toBe(0);
  });

  it('a per-cluster identity is its own user, tagged with the cluster, whose policy covers only the cluster names', async () => {
    const { identity, deps } = setup();
    await ensureZoneIdentity(acme, deps);
    const result = await ensureZoneIdentity({ ...acme, clusterId: 'c1' }, deps);
    expect(result.userName).toBe(identityUserName({ ...acme, clusterId: 'c1' }));
    expect(result.userName).toMatch(/\.acme\.c1$/);
    const stored = identity.snapshot().find((u) => u.userName === result.userName);
    expect(stored?.tags['zonekeeper:cluster']).toBe('c1');
    const doc = JSON.parse(stored?.policies[result.policyName] ?? '{}');
    expect(doc).toEqual(
      buildZonePolicy({
        zoneId: acme.zoneId,
        zoneName: acme.zoneName,
        recordNames: clusterRecordNames(acme.zoneName, 'c1'),
      }),
    );
    expect(doc.Statement[0].Condition['ForAllValues:StringLike']).toEqual({
      'route53:ChangeResourceRecordSetsNormalizedRecordNames': [
        'c1.acme.example.com',
        '*.c1.acme.example.com',
      ],
    });
    expect(identity.snapshot().length).toBe(2);
  });

  it('dry run plans and changes nothing', async () => {
    const { identity, deps } = setup();
    const result = await ensureZoneIdentity(acme, deps, { dryRun: true });
    expect(result.dryRun).toBe(true);
    expect(result.plan.steps.map((s) => s.op)).toEqual(['create-user', 'put-policy']);
    expect(identity.snapshot()).toEqual([]);
    expect(identity.writes()).toBe(0);
  });

  it('repairs a changed zone id: re-tags and puts the new policy, nothing else', async () => {
    const { identity, deps } = setup();
    await ensureZoneIdentity(acme, deps);
    const moved = { ...acme, zoneId: 'ZNEWZONE0001' };
    const result = await ensureZoneIdentity(moved, deps);
    expect(result.plan.steps).toEqual([
      { op: 'tag-user', userName: USER, tags: { 'zonekeeper:zone-id': 'ZNEWZONE0001' } },
      expect.objectContaining({ op: 'put-policy' }),
    ]);
    expect(JSON.parse(identity.snapshot()[0]?.policies[POLICY_NAME] ?? '')).toEqual(
      buildZonePolicy({ zoneId: 'ZNEWZONE0001', zoneName: acme.zoneName }),
    );
    expect((await ensureZoneIdentity(moved, deps)).plan.steps).toEqual([]);
  });

  it('changing the record types only puts the policy', async () => {
    const { deps } = setup();
    await ensureZoneIdentity(acme, deps);
    const ops = (await ensureZoneIdentity({ ...acme, recordTypes: ['A', 'TXT'] }, deps)).plan.steps.map(
      (s) => s.op,
    );
    expect(ops).toEqual(['put-policy']);
  });

  it('deletes other inline policies on its user before putting its own', async () => {
    const { identity, deps } = setup();
    await ensureZoneIdentity(acme, deps);
    await identity.putUserPolicy(USER, 'legacy', SMALL_POLICY);
    await identity.deleteUserPolicy(USER, POLICY_NAME);
    const steps = (await ensureZoneIdentity(acme, deps)).plan.steps;
    expect(steps).toEqual([
      { op: 'delete-stale-policies', userName: USER, policyNames: ['legacy'] },
      expect.objectContaining({ op: 'put-policy' }),
    ]);
    expect(Object.keys(identity.snapshot()[0]?.policies ?? {})).toEqual([POLICY_NAME]);
  });

  it('never touches a user of that name without the ownership tag (NOT_OWNED, no write)', async () => {
    const { identity, deps } = setup();
    await identity.createUser({ userName: USER, path: '/zonekeeper/', tags: { team: 'dns' } });
    identity.resetCalls();
    const e = await rejectionOf(ensureZoneIdentity(acme, deps));
    expect(hasErrorCode(e, 'NOT_OWNED')).toBe(true);
    expect(e.message).toContain(USER);
    expect(identity.writes()).toBe(0);
    expect(
      hasErrorCode(await rejectionOf(ensureZoneIdentity(acme, deps, { dryRun: true })), 'NOT_OWNED'),
    ).toBe(true);
  });

  it('concurrent ensures converge on one user (the losers adopt the winner’s)', async () => {
    const { identity, deps } = setup();
    const results = await Promise.all([1, 2, 3].map(() => ensureZoneIdentity(acme, deps)));
    expect(results.every((r) => r.userName === USER)).toBe(true);
    expect(identity.calls.createUser).toBe(3);
    expect(identity.snapshot().length).toBe(1);
    expect((await ensureZoneIdentity(acme, deps)).plan.steps).toEqual([]);
  });

  it('adopting a concurrently created user of another zone id re-tags it', async () => {
    const { identity, deps } = setup();
    // Another run creates the user for an older zone id between our read and our create.
    const racing = createRacingProvider(identity, async () => {
      await identity.createUser({
        userName: USER,
        path: '/zonekeeper/',
        tags: {
          'zonekeeper:managed-by': 'zonekeeper',
          'zonekeeper:organization': 'acme',
          'zonekeeper:zone-id': 'ZOLDZONE',
          'zonekeeper:base-domain': 'example.com',
        },
      });
    });
    await ensureZoneIdentity(acme, { identity: racing });
    expect(identity.snapshot()[0]?.tags['zonekeeper:zone-id']).toBe('Z0123456789ABC');
    expect((await ensureZoneIdentity(acme, deps)).plan.steps).toEqual([]);
  });

  it('a racing creator without our tag makes create-user fail with NOT_OWNED', async () => {
    const { identity } = setup();
    const racing = createRacingProvider(identity, async () => {
      await identity.createUser({ userName: USER, path: '/zonekeeper/', tags: {} });
    });
    expect(hasErrorCode(await rejectionOf(ensureZoneIdentity(acme, { identity: racing })), 'NOT_OWNED')).toBe(
      true,
    );
    expect(identity.snapshot()[0]?.policies).toEqual({});
  });
});

/** A provider whose first createUser is preceded by `race` (another process creating the user first). */
function createRacingProvider(
  inner: MemoryIdentityProvider,
  race: () => Promise<void>,
): MemoryIdentityProvider {
  let raced = false;
  return {
    ...inner,
    async createUser(spec, opts) {
      if (!raced) {
        raced = true;
        await race();
      }
      return inner.createUser(spec, opts);
    },
  };
}

describe('crash safety of ensureZoneIdentity: a failure after any side effect, then a re-run, converges', () => {
  const scenarios: Record<
    string,
    { prepare(identity: MemoryIdentityProvider): Promise<void>; methods: IdentityProviderMethod[] }
  > = {
    'a new identity': { prepare: async () => {}, methods: ['createUser', 'putUserPolicy'] },
    'a repair (new zone id, a stale policy)': {
      prepare: async (identity) => {
        await ensureZoneIdentity({ ...acme, zoneId: 'ZOLDZONE' }, { identity });
        await identity.putUserPolicy(USER, 'legacy', SMALL_POLICY);
      },
      methods: ['tagUser', 'deleteUserPolicy', 'putUserPolicy'],
    },
  };
  for (const [name, scenario] of Object.entries(scenarios)) {
    for (const method of scenario.methods) {
      for (const when of ['after', 'before'] as const) {
        it(`${name}: ${method} fails ${when === 'after' ? 'after IAM applied it' : 'before IAM saw it'}`, async () => {
          const reference = setup();
          await scenario.prepare(reference.identity);
          await ensureZoneIdentity(acme, reference.deps);

          const { identity, deps } = setup();
          await scenario.prepare(identity);
          identity.injectFault({ method, when });
          expect(hasErrorCode(await rejectionOf(ensureZoneIdentity(acme, deps)), 'UNAVAILABLE')).toBe(true);
          await ensureZoneIdentity(acme, deps);
          expect(state(identity)).toEqual(state(reference.identity));
          identity.resetCalls();
          expect((await ensureZoneIdentity(acme, deps)).plan.steps).toEqual([]);
          expect(identity.writes()).toBe(0);
        });
      }
    }
  }

  for (const op of ['put-policy', 'tag-user', 'delete-stale-policies']) {
    it(`an abort just before ${op} leaves a state the next run completes`, async () => {
      const { identity, deps } = setup();
      await scenarios['a repair (new zone id, a stale policy)']?.prepare(identity);
      const c = new AbortController();
      const reason = new Error('shutting down');
      const logger = {
        ...capturingLogger(),
        debug: (m: string) => (m.startsWith(`apply ${op} `) ? c.abort(reason) : undefined),
      };
      expect(await rejectionOf(ensureZoneIdentity(acme, { ...deps, logger }, { signal: c.signal }))).toBe(
        reason,
      );
      await ensureZoneIdentity(acme, deps);
      expect((await ensureZoneIdentity(acme, deps)).plan.steps).toEqual([]);
    });
  }
});

async function withKey(): Promise<{
  identity: MemoryIdentityProvider;
  deps: { identity: MemoryIdentityProvider };
  key: AccessKey;
}> {
  const s = setup();
  await ensureZoneIdentity(acme, s.deps);
  const key = await issueAccessKey({ userName: USER }, s.deps);
  return { ...s, key };
}

const ids = async (identity: MemoryIdentityProvider) =>
  (await identity.listAccessKeys(USER)).map((k) => k.accessKeyId).sort();

describe('access keys', () => {
  it('issueAccessKey returns the only copy of the secret', async () => {
    const { identity, key } = await withKey();
    expect(key).toMatchObject({ userName: USER, status: 'Active' });
    expect(key.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(key.secretAccessKey).toHaveLength(40);
    expect(JSON.stringify(identity.snapshot())).not.toContain(key.secretAccessKey);
  });

  it('issueAccessKey refuses a third key with CONFLICT before calling CreateAccessKey', async () => {
    const { identity, deps } = await withKey();
    await issueAccessKey({ userName: USER }, deps);
    identity.resetCalls();
    const e = await rejectionOf(issueAccessKey({ userName: USER }, deps));
    expect(hasErrorCode(e, 'CONFLICT')).toBe(true);
    expect(e.message).toContain('reconcileAccessKeys');
    expect(identity.calls.createAccessKey).toBeUndefined();
  });

  it('a crash after CreateAccessKey leaks one key, which reconcileAccessKeys with the known ids removes', async () => {
    const { identity, deps, key } = await withKey();
    identity.injectFault({ method: 'createAccessKey', when: 'after' });
    expect(hasErrorCode(await rejectionOf(issueAccessKey({ userName: USER }, deps)), 'UNAVAILABLE')).toBe(
      true,
    );
    expect((await ids(identity)).length).toBe(2);
    const dry = await reconcileAccessKeys({ userName: USER, knownAccessKeyIds: [key.accessKeyId] }, deps, {
      dryRun: true,
    });
    expect(dry.deleted).toEqual([]);
    expect(dry.plan.steps.length).toBe(1);
    expect((await ids(identity)).length).toBe(2);
    const leaked = (await ids(identity)).find((id) => id !== key.accessKeyId);
    const result = await reconcileAccessKeys({ userName: USER, knownAccessKeyIds: [key.accessKeyId] }, deps);
    expect(result).toEqual({
      plan: { steps: [{ op: 'delete-access-key', userName: USER, accessKeyId: leaked }] },
      deleted: [leaked],
      dryRun: false,
    });
    expect(await ids(identity)).toEqual([key.accessKeyId]);
    expect(
      (await reconcileAccessKeys({ userName: USER, knownAccessKeyIds: [key.accessKeyId] }, deps)).plan.steps,
    ).toEqual([]);
  });

  it('revokeAccessKey is idempotent and has a dry run', async () => {
    const { identity, deps, key } = await withKey();
    expect(
      await revokeAccessKey({ userName: USER, accessKeyId: key.accessKeyId }, deps, { dryRun: true }),
    ).toEqual({ revoked: true, dryRun: true });
    expect(await ids(identity)).toEqual([key.accessKeyId]);
    expect(await revokeAccessKey({ userName: USER, accessKeyId: key.accessKeyId }, deps)).toEqual({
      revoked: true,
      dryRun: false,
    });
    expect(await revokeAccessKey({ userName: USER, accessKeyId: key.accessKeyId }, deps)).toEqual({
      revoked: false,
      dryRun: false,
    });
    expect(await ids(identity)).toEqual([]);
  });

  it('every key operation refuses a user without the ownership tag (NOT_OWNED) and a missing user (NOT_FOUND)', async () => {
    const { identity, deps } = setup();
    await identity.createUser({ userName: 'someone-else', path: '/zonekeeper/', tags: {} });
    const key = await identity.createAccessKey('someone-else');
    identity.resetCalls();
    const calls = (userName: string) => [
      () => issueAccessKey({ userName }, deps),
      () => revokeAccessKey({ userName, accessKeyId: key.accessKeyId }, deps),
      () => reconcileAccessKeys({ userName, knownAccessKeyIds: [] }, deps),
    ];
    for (const call of calls('someone-else'))
      expect(hasErrorCode(await rejectionOf(call()), 'NOT_OWNED')).toBe(true);
    for (const call of calls('nobody'))
      expect(hasErrorCode(await rejectionOf(call()), 'NOT_FOUND')).toBe(true);
    expect(identity.writes()).toBe(0);
    expect((await identity.listAccessKeys('someone-else')).length).toBe(1);
  });
});

describe('deleteZoneIdentity', () => {
  it('removes keys, then inline policies, then the user; a second run plans nothing', async () => {
    const { identity, deps, key } = await withKey();
    const k2 = await issueAccessKey({ userName: USER }, deps);
    await identity.putUserPolicy(USER, 'legacy', SMALL_POLICY);
    const dry = await deleteZoneIdentity({ userName: USER }, deps, { dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(identity.snapshot().length).toBe(1);
    const result = await deleteZoneIdentity({ userName: USER }, deps);
    expect(result.plan).toEqual(dry.plan);
    expect(result.plan.steps).toEqual([
      { op: 'delete-access-key', userName: USER, accessKeyId: key.accessKeyId },
      { op: 'delete-access-key', userName: USER, accessKeyId: k2.accessKeyId },
      { op: 'delete-policy', userName: USER, policyName: 'legacy' },
      { op: 'delete-policy', userName: USER, policyName: POLICY_NAME },
      { op: 'delete-user', userName: USER },
    ]);
    expect(identity.snapshot()).toEqual([]);
    expect(await deleteZoneIdentity({ userName: USER }, deps)).toEqual({
      plan: { steps: [] },
      dryRun: false,
    });
  });

  for (const method of ['deleteAccessKey', 'deleteUserPolicy', 'deleteUser'] as const) {
    it(`a failure after ${method} was applied, then a re-run, leaves nothing`, async () => {
      const { identity, deps } = await withKey();
      identity.injectFault({ method, when: 'after' });
      expect(
        hasErrorCode(await rejectionOf(deleteZoneIdentity({ userName: USER }, deps)), 'UNAVAILABLE'),
      ).toBe(true);
      await deleteZoneIdentity({ userName: USER }, deps);
      expect(identity.snapshot()).toEqual([]);
    });
  }

  it('refuses a user without the ownership tag (NOT_OWNED), deleting nothing', async () => {
    const { identity, deps } = setup();
    await identity.createUser({
      userName: USER,
      path: '/zonekeeper/',
      tags: { 'zonekeeper:managed-by': 'terraform' },
    });
    await identity.createAccessKey(USER);
    identity.resetCalls();
    expect(hasErrorCode(await rejectionOf(deleteZoneIdentity({ userName: USER }, deps)), 'NOT_OWNED')).toBe(
      true,
    );
    expect(identity.writes()).toBe(0);
    expect(identity.snapshot()[0]?.accessKeys.length).toBe(1);
  });
});

describe('listZoneIdentities', () => {
  it("lists the platform's identities (optionally one organisation's) with what their tags say", async () => {
    const { identity, deps } = setup();
    await ensureZoneIdentity(acme, deps);
    await ensureZoneIdentity({ ...acme, clusterId: 'c1' }, deps);
    await ensureZoneIdentity(
      { ...acme, organization: 'beta', zoneName: 'beta.example.com', zoneId: 'ZBETA' },
      deps,
    );
    await ensureZoneIdentity({ ...acme, baseDomain: 'example.org', zoneName: 'acme.example.org' }, deps); // another platform
    await identity.createUser({ userName: `${USER}x`, path: '/zonekeeper/', tags: {} }); // not ours
    await identity.createUser({
      userName: 'not-prefixed',
      path: '/zonekeeper/',
      tags: {
        'zonekeeper:managed-by': 'zonekeeper',
        'zonekeeper:organization': 'acme',
        'zonekeeper:base-domain': 'example.com',
      },
    });
    const all = await listZoneIdentities({ baseDomain: 'example.com' }, deps);
    const expected = [
      { organization: 'acme' },
      { organization: 'acme', clusterId: 'c1' },
      { organization: 'beta' },
    ].map((who) => identityUserName({ baseDomain: 'example.com', ...who }));
    expect(all.map((i) => i.userName)).toEqual([...expected].sort());
    expect(all.find((i) => i.organization === 'beta')?.zoneId).toBe('ZBETA');
    const acmeOnly = await listZoneIdentities({ baseDomain: 'EXAMPLE.com.', organization: 'acme' }, deps);
    expect(acmeOnly.map((i) => i.userName)).toEqual([USER, identityUserName({ ...acme, clusterId: 'c1' })]);
    expect(acmeOnly[0]).toMatchObject({
      userName: USER,
      baseDomain: 'example.com',
      organization: 'acme',
      zoneId: 'Z0123456789ABC',
      arn: `arn:aws:iam::123456789012:user/zonekeeper/${USER}`,
    });
    expect(acmeOnly[0]?.createdAt).toBeInstanceOf(Date);
    expect(acmeOnly[0]).not.toHaveProperty('clusterId');
  });
});

describe('secrets and input', () => {
  it('a capturing logger across ensure, issue, revoke, reconcile and delete never sees a secret access key', async () => {
    const { identity } = setup();
    const logger = capturingLogger();
    const deps = { identity, logger };
    const secrets: string[] = [];
    await ensureZoneIdentity(acme, deps);
    const k1 = await issueAccessKey({ userName: USER }, deps);
    secrets.push(k1.secretAccessKey);
    const newKey = await issueAccessKey({ userName: USER }, deps);
    secrets.push(newKey.secretAccessKey);
    await revokeAccessKey({ userName: USER, accessKeyId: k1.accessKeyId }, deps);
    identity.injectFault({ method: 'createAccessKey', when: 'after' });
    await rejectionOf(issueAccessKey({ userName: USER }, deps));
    await reconcileAccessKeys({ userName: USER, knownAccessKeyIds: [newKey.accessKeyId] }, deps);
    await revokeAccessKey({ userName: USER, accessKeyId: newKey.accessKeyId }, deps);
    await deleteZoneIdentity({ userName: USER }, deps);
    expect(logger.lines.length).toBeGreaterThan(5);
    expect(logger.lines.some((l) => l.includes(k1.accessKeyId))).toBe(true); // ids are logged, and are not secret
    const text = logger.lines.join('\n');
    for (const s of secrets) expect(text).not.toContain(s);
  });

  it('errors thrown after a key exists never carry its secret', async () => {
    const { identity, deps, key } = await withKey();
    const k2 = await issueAccessKey({ userName: USER }, deps);
    const errors = [
      await rejectionOf(issueAccessKey({ userName: USER }, deps)),
      await rejectionOf(identity.createAccessKey(USER)),
      await rejectionOf(identity.deleteUser(USER)),
    ];
    for (const e of errors) {
      expect(hasErrorCode(e, 'CONFLICT')).toBe(true);
      const all = everything(e) + JSON.stringify(e);
      expect(all).not.toContain(key.secretAccessKey);
      expect(all).not.toContain(k2.secretAccessKey);
    }
  });

  it('rejects bad input with INVALID_INPUT before any call to the provider', async () => {
    const { identity, deps } = setup();
    const bad: Record<string, () => Promise<unknown>> = {
      'an uppercase organisation': () => ensureZoneIdentity({ ...acme, organization: 'Acme' }, deps),
      'a zone name that is not <org>.<base>': () =>
        ensureZoneIdentity({ ...acme, zoneName: 'other.example.com' }, deps),
      'a base domain that is a TLD': () =>
        ensureZoneIdentity({ ...acme, baseDomain: 'com', zoneName: 'acme.com' }, deps),
      'a lowercase zone id': () => ensureZoneIdentity({ ...acme, zoneId: 'zabc' }, deps),
      'an invalid cluster id': () => ensureZoneIdentity({ ...acme, clusterId: 'c_1' }, deps),
      'NS as a record type': () => ensureZoneIdentity({ ...acme, recordTypes: ['NS' as 'A'] }, deps),
      'a non-boolean dryRun': () => ensureZoneIdentity(acme, deps, { dryRun: 'yes' as unknown as boolean }),
      'no input object': () => ensureZoneIdentity(undefined as never, deps),
      'a missing identity provider': () => ensureZoneIdentity(acme, {} as never),
      'an invalid user name to issue for': () => issueAccessKey({ userName: 'has space' }, deps),
      'a non-boolean dryRun to revoke': () =>
        revokeAccessKey({ userName: USER, accessKeyId: 'AKIAIOSFODNN7EXAMPLE' }, deps, {
          dryRun: 1 as unknown as boolean,
        }),
      'an invalid key id to revoke': () => revokeAccessKey({ userName: USER, accessKeyId: '' }, deps),
      'known ids that are not an array': () =>
        reconcileAccessKeys({ userName: USER, knownAccessKeyIds: 'AKIAIOSFODNN7EXAMPLE' as never }, deps),
      'an invalid known id': () =>
        reconcileAccessKeys({ userName: USER, knownAccessKeyIds: ['AKIAIOSFODNN7EXAMPLE', 'x'] }, deps),
      'an invalid user name to delete': () => deleteZoneIdentity({ userName: 'a'.repeat(65) }, deps),
      'an invalid base domain to list': () => listZoneIdentities({ baseDomain: 'no_underscores.com' }, deps),
      'an invalid organisation to list': () =>
        listZoneIdentities({ baseDomain: 'example.com', organization: '-x' }, deps),
    };
    for (const [what, attempt] of Object.entries(bad)) {
      const e = await rejectionOf(attempt());
      expect(hasErrorCode(e, 'INVALID_INPUT'), `${what}: ${e.message}`).toBe(true);
    }
    expect(identity.calls).toEqual({});
  });

  it('provider errors pass through unchanged (code and message)', async () => {
    const { identity, deps } = setup();
    const throttled = new ZonekeeperError('THROTTLED', 'IAM: GetUser failed: Rate exceeded.');
    identity.injectFault({ method: 'getUser', when: 'before', error: throttled });
    expect(await rejectionOf(ensureZoneIdentity(acme, deps))).toBe(throttled);
  });
});
