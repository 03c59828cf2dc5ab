/**
 * The identity operations against the real IAM adapter on moto, behind the fault-injection proxy: the
 * proxy log counts API calls (idempotency, one attempt) and injects crashes and throttling storms.
 */

import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { hasErrorCode } from '@zonekeeper/core';
import { type FaultProxy, startFaultProxy } from '@zonekeeper/testkit/fault-proxy';
import { type MotoServer, startMoto } from '@zonekeeper/testkit/moto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createIamIdentityProvider } from './iam/index.js';
import {
  deleteZoneIdentity,
  ensureZoneIdentity,
  issueAccessKey,
  listZoneIdentities,
  reconcileAccessKeys,
  revokeAccessKey,
} from './identity.js';
import { IDENTITY_ADMIN_ACTIONS } from './identity-admin-policy.js';
import type { IdentityProvider } from './identity-ports.js';
import { identityPolicyName, identityUserName } from './naming.js';
import { buildZonePolicy, clusterRecordNames } from './policy.js';
import { capturingLogger, everything, IAM_WRITE_OPERATIONS, rejectionOf } from './test-helpers.test.util.js';

const SMALL_POLICY =
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"route53:GetChange","Resource":"*"}]}';

let moto: MotoServer;
let proxy: FaultProxy;
beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy({ target: moto.endpoint, seed: 'identity-ops' });
});
afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});
afterEach(() => {
  proxy.setRules([]);
});

const BASE = 'example.com';
/** IAM through the proxy: `attempts` SDK attempts per call, `delayMs` apart. */
function iam(attempts = 3, delayMs = 10): IdentityProvider {
  return createIamIdentityProvider({
    endpoint: proxy.endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    retryStrategy: new ConfiguredRetryStrategy(attempts, () => delayMs),
  });
}

let n = 0;
/** A fresh organisation (its own user names) for each test. */
function org(clusterId?: string) {
  const organization = `org${++n}-${Math.random().toString(36).slice(2, 6)}`;
  const input = {
    baseDomain: BASE,
    organization,
    zoneId: `Z${n}ABCDEF0123`,
    zoneName: `${organization}.${BASE}`,
    ...(clusterId === undefined ? {} : { clusterId }),
  };
  return { input, userName: identityUserName(input), policyName: identityPolicyName(input) };
}

function writes(): number {
  return proxy.count({ operation: IAM_WRITE_OPERATIONS });
}

async function keyIds(identity: IdentityProvider, userName: string): Promise<string[]> {
  return (await identity.listAccessKeys(userName)).map((k) => k.accessKeyId).sort();
}

/**
 * The provider, except that calling the method behind `operation` (`PutUserPolicy` → `putUserPolicy`)
 * runs `abort` 100 ms later, while the request waits in the proxy's injected latency: an abort in flight.
 */
function abortingDuring(identity: IdentityProvider, operation: string, abort: () => void): IdentityProvider {
  const method = `${operation[0]?.toLowerCase()}${operation.slice(1)}` as keyof IdentityProvider;
  const original = identity[method] as (...args: unknown[]) => Promise<unknown>;
  return {
    ...identity,
    [method]: (...args: unknown[]) => {
      setTimeout(abort, 100);
      return original.apply(identity, args);
    },
  } as IdentityProvider;
}

/** Waits until the proxy has logged a finished `operation` that reached moto (an aborted call's request still does). */
async function untilForwarded(operation: string): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (proxy.requests.some((r) => r.operation === operation && r.upstreamStatus !== null)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${operation} never reached moto`);
}

describe('ensureZoneIdentity on IAM (moto)', () => {
  it('creates the identity; a second run plans nothing and makes no write call', async () => {
    const identity = iam();
    const { input, userName, policyName } = org();
    proxy.clearLog();
    const first = await ensureZoneIdentity(input, { identity });
    expect(first.plan.steps.map((s) => s.op)).toEqual(['create-user', 'put-policy']);
    expect(proxy.count({ operation: 'CreateUser' })).toBe(1);
    expect(proxy.count({ operation: 'PutUserPolicy' })).toBe(1);

    const user = await identity.getUser(userName);
    expect(user?.path).toBe('/zonekeeper/');
    expect(user?.arn).toBe(`arn:aws:iam::123456789012:user/zonekeeper/${userName}`);
    expect(user?.tags).toEqual({
      'zonekeeper:managed-by': 'zonekeeper',
      'zonekeeper:organization': input.organization,
      'zonekeeper:zone-id': input.zoneId,
      'zonekeeper:base-domain': BASE,
    });
    expect(JSON.parse((await identity.getUserPolicy(userName, policyName)) ?? '')).toEqual(
      buildZonePolicy({ zoneId: input.zoneId, zoneName: input.zoneName }),
    );

    proxy.clearLog();
    const second = await ensureZoneIdentity(input, { identity });
    expect(second.plan.steps).toEqual([]);
    expect(writes()).toBe(0);
    expect(proxy.requests.map((r) => r.operation)).toEqual(['GetUser', 'ListUserPolicies', 'GetUserPolicy']);
  });

  it('a per-cluster identity carries a policy for the cluster names only', async () => {
    const identity = iam();
    const { input, userName, policyName } = org('c1');
    await ensureZoneIdentity(input, { identity });
    expect(userName.endsWith(`.${input.organization}.c1`)).toBe(true);
    const stored = JSON.parse((await identity.getUserPolicy(userName, policyName)) ?? '');
    expect(stored).toEqual(
      buildZonePolicy({
        zoneId: input.zoneId,
        zoneName: input.zoneName,
        recordNames: clusterRecordNames(input.zoneName, 'c1'),
      }),
    );
    expect(
      stored.Statement[0].Condition['ForAllValues:StringLike'][
        'route53:ChangeResourceRecordSetsNormalizedRecordNames'
      ],
    ).toEqual([`c1.${input.zoneName}`, `*.c1.${input.zoneName}`]);
    expect((await identity.getUser(userName))?.tags['zonekeeper:cluster']).toBe('c1');
    const listed = await listZoneIdentities(
      { baseDomain: BASE, organization: input.organization },
      { identity },
    );
    expect(listed.map((i) => ({ userName: i.userName, clusterId: i.clusterId, zoneId: i.zoneId }))).toEqual([
      { userName, clusterId: 'c1', zoneId: input.zoneId },
    ]);
  });

  it('never touches a user of that name without the ownership tag (NOT_OWNED, no write call)', async () => {
    const identity = iam();
    const { input, userName } = org();
    await identity.createUser({ userName, path: '/zonekeeper/', tags: { owner: 'someone-else' } });
    const key = await identity.createAccessKey(userName);
    proxy.clearLog();
    const attempts = [
      () => ensureZoneIdentity(input, { identity }),
      () => issueAccessKey({ userName }, { identity }),
      () => revokeAccessKey({ userName, accessKeyId: key.accessKeyId }, { identity }),
      () => reconcileAccessKeys({ userName, knownAccessKeyIds: [] }, { identity }),
      () => deleteZoneIdentity({ userName }, { identity }),
    ];
    for (const attempt of attempts)
      expect(hasErrorCode(await rejectionOf(attempt()), 'NOT_OWNED')).toBe(true);
    expect(writes()).toBe(0);
    expect(await keyIds(identity, userName)).toEqual([key.accessKeyId]);
  });

  it('rejects bad input before any request reaches IAM', async () => {
    const identity = iam();
    const { input, userName } = org();
    proxy.clearLog();
    const attempts = [
      () => ensureZoneIdentity({ ...input, organization: 'Bad_Org' }, { identity }),
      () => ensureZoneIdentity({ ...input, zoneName: 'elsewhere.example.net' }, { identity }),
      () => ensureZoneIdentity({ ...input, recordTypes: ['SOA' as 'A'] }, { identity }),
      () => ensureZoneIdentity({ ...input, clusterId: 'UPPER' }, { identity }),
      () => issueAccessKey({ userName: 'bad/name' }, { identity }),
      () => revokeAccessKey({ userName, accessKeyId: 'x' }, { identity }),
      () => reconcileAccessKeys({ userName, knownAccessKeyIds: ['not a key'] }, { identity }),
      () => deleteZoneIdentity({ userName: '' }, { identity }),
      () => listZoneIdentities({ baseDomain: 'localhost' }, { identity }),
    ];
    for (const attempt of attempts)
      expect(hasErrorCode(await rejectionOf(attempt()), 'INVALID_INPUT')).toBe(true);
    expect(proxy.count()).toBe(0);
  });
});

describe('crash after a side-effecting IAM call, then a re-run, converges', () => {
  /** The steps of each scenario, and how to reach the op under test. */
  const ensureCases = {
    CreateUser: { prepare: async () => {} },
    TagUser: {
      // an existing identity whose zone was re-created: tag-user, then put-policy
      prepare: async (identity: IdentityProvider, input: ReturnType<typeof org>['input']) => {
        await ensureZoneIdentity({ ...input, zoneId: 'ZOLDZONE1' }, { identity });
      },
    },
    PutUserPolicy: { prepare: async () => {} },
  };

  const stepOf: Record<string, string> = {
    CreateUser: 'create-user',
    TagUser: 'tag-user',
    PutUserPolicy: 'put-policy',
  };

  for (const [operation, { prepare }] of Object.entries(ensureCases)) {
    it(`${operation}: IAM applied it, the connection dropped (no SDK retry)`, async () => {
      const identity = iam(1);
      const { input, userName } = org();
      await prepare(identity, input);
      proxy.setRules([{ service: 'iam', operation, fault: { kind: 'drop', when: 'after' }, times: 1 }]);
      const e = await rejectionOf(ensureZoneIdentity(input, { identity }));
      expect(hasErrorCode(e, 'UNAVAILABLE')).toBe(true);
      expect(proxy.count({ operation, fault: 'drop:after' })).toBe(1);
      proxy.setRules([]);
      const rerun = await ensureZoneIdentity(input, { identity });
      expect(rerun.plan.steps.map((x) => x.op)).not.toContain(stepOf[operation]); // IAM had applied it
      proxy.clearLog();
      expect((await ensureZoneIdentity(input, { identity })).plan.steps).toEqual([]);
      expect(writes()).toBe(0);
      expect((await identity.getUser(userName))?.tags['zonekeeper:zone-id']).toBe(input.zoneId);
    });

    it(`${operation}: aborted while in flight, IAM applied it anyway`, async () => {
      const identity = iam();
      const { input } = org();
      await prepare(identity, input);
      proxy.setRules([{ service: 'iam', operation, fault: { kind: 'latency', ms: 500 }, times: 1 }]);
      proxy.clearLog();
      const c = new AbortController();
      const reason = new Error('deploy interrupted');
      const pending = ensureZoneIdentity(
        input,
        { identity: abortingDuring(identity, operation, () => c.abort(reason)) },
        { signal: c.signal },
      );
      expect(await rejectionOf(pending)).toBe(reason);
      await untilForwarded(operation);
      const rerun = await ensureZoneIdentity(input, { identity });
      expect(rerun.plan.steps.map((x) => x.op)).not.toContain(stepOf[operation]); // IAM had applied it
      proxy.clearLog();
      expect((await ensureZoneIdentity(input, { identity })).plan.steps).toEqual([]);
      expect(writes()).toBe(0);
    });
  }

  it('CreateUser: a dropped answer is not retried blindly (one request, UNAVAILABLE); the re-run adopts the user', async () => {
    const identity = iam(3);
    const { input, userName } = org();
    proxy.setRules([
      { service: 'iam', operation: 'CreateUser', fault: { kind: 'drop', when: 'after' }, times: 1 },
    ]);
    proxy.clearLog();
    const error = await rejectionOf(ensureZoneIdentity(input, { identity }));
    expect(hasErrorCode(error, 'UNAVAILABLE')).toBe(true);
    expect(proxy.count({ operation: 'CreateUser' })).toBe(1);
    expect((await identity.getUser(userName))?.userName).toBe(userName);
    const again = await ensureZoneIdentity(input, { identity });
    expect(again.plan.steps.map((s) => s.op)).toEqual(['put-policy']);
    expect((await ensureZoneIdentity(input, { identity })).plan.steps).toEqual([]);
  });

  for (const variant of ['dropped connection', 'abort in flight'] as const) {
    it(`CreateAccessKey (${variant}): the leaked key is removed by reconcileAccessKeys with the known ids`, async () => {
      const identity = iam(3);
      const { input, userName } = org();
      await ensureZoneIdentity(input, { identity });
      const known = await issueAccessKey({ userName }, { identity });
      proxy.clearLog();
      if (variant === 'dropped connection') {
        proxy.setRules([
          { service: 'iam', operation: 'CreateAccessKey', fault: { kind: 'drop', when: 'after' }, times: 1 },
        ]);
        expect(
          hasErrorCode(await rejectionOf(issueAccessKey({ userName }, { identity })), 'UNAVAILABLE'),
        ).toBe(true);
      } else {
        proxy.setRules([
          { service: 'iam', operation: 'CreateAccessKey', fault: { kind: 'latency', ms: 500 }, times: 1 },
        ]);
        const c = new AbortController();
        const pending = issueAccessKey(
          { userName },
          { identity: abortingDuring(identity, 'CreateAccessKey', () => c.abort(new Error('crash'))) },
          { signal: c.signal },
        );
        expect((await rejectionOf(pending)).message).toBe('crash');
        await untilForwarded('CreateAccessKey');
      }
      expect(proxy.count({ operation: 'CreateAccessKey' })).toBe(1); // never retried
      const all = await keyIds(identity, userName);
      expect(all.length).toBe(2); // one of them is unknown: its secret is lost
      const result = await reconcileAccessKeys(
        { userName, knownAccessKeyIds: [known.accessKeyId] },
        { identity },
      );
      expect(result.deleted).toEqual(all.filter((id) => id !== known.accessKeyId));
      expect(await keyIds(identity, userName)).toEqual([known.accessKeyId]);
      expect(
        (await reconcileAccessKeys({ userName, knownAccessKeyIds: [known.accessKeyId] }, { identity })).plan
          .steps,
      ).toEqual([]);
    });
  }

  it('issueAccessKey: a LimitExceeded from IAM (a racing issuer) is a CONFLICT after exactly one attempt', async () => {
    const identity = iam(5);
    const { input, userName } = org();
    await ensureZoneIdentity(input, { identity });
    proxy.setRules([
      {
        service: 'iam',
        operation: 'CreateAccessKey',
        fault: {
          kind: 'error',
          code: 'LimitExceeded',
          status: 409,
          message: 'Cannot exceed quota for AccessKeysPerUser: 2',
        },
      },
    ]);
    proxy.clearLog();
    const e = await rejectionOf(issueAccessKey({ userName }, { identity }));
    expect(hasErrorCode(e, 'CONFLICT')).toBe(true);
    expect(proxy.count({ operation: 'CreateAccessKey' })).toBe(1);
  });
});

describe('access key lifecycle on IAM (moto)', () => {
  it('a rotation from the primitives: issue the new key, revoke the old one — one write each on the wire', async () => {
    const identity = iam();
    const { input, userName } = org();
    await ensureZoneIdentity(input, { identity });
    const old = await issueAccessKey({ userName }, { identity });
    proxy.clearLog();
    const next = await issueAccessKey({ userName }, { identity });
    expect(await revokeAccessKey({ userName, accessKeyId: old.accessKeyId }, { identity })).toEqual({
      revoked: true,
      dryRun: false,
    });
    expect(await keyIds(identity, userName)).toEqual([next.accessKeyId]);
    expect(
      proxy.requests.filter((r) => IAM_WRITE_OPERATIONS.test(r.operation)).map((r) => r.operation),
    ).toEqual(['CreateAccessKey', 'DeleteAccessKey']);
  });

  it('delete removes keys, inline policies and the user; a second run plans nothing', async () => {
    const identity = iam();
    const { input, userName } = org();
    await ensureZoneIdentity(input, { identity });
    await issueAccessKey({ userName }, { identity });
    await issueAccessKey({ userName }, { identity });
    await identity.putUserPolicy(userName, 'leftover', SMALL_POLICY);
    const result = await deleteZoneIdentity({ userName }, { identity });
    expect(result.plan.steps.map((s) => s.op)).toEqual([
      'delete-access-key',
      'delete-access-key',
      'delete-policy',
      'delete-policy',
      'delete-user',
    ]);
    expect(await identity.getUser(userName)).toBeUndefined();
    proxy.clearLog();
    expect((await deleteZoneIdentity({ userName }, { identity })).plan.steps).toEqual([]);
    expect(writes()).toBe(0);
  });

  it('delete after a dropped DeleteAccessKey answer converges on the re-run', async () => {
    const identity = iam(1);
    const { input, userName } = org();
    await ensureZoneIdentity(input, { identity });
    await issueAccessKey({ userName }, { identity });
    proxy.setRules([
      { service: 'iam', operation: /^Delete/, fault: { kind: 'drop', when: 'after' }, times: 1 },
    ]);
    expect(
      hasErrorCode(await rejectionOf(deleteZoneIdentity({ userName }, { identity })), 'UNAVAILABLE'),
    ).toBe(true);
    proxy.setRules([]);
    await deleteZoneIdentity({ userName }, { identity });
    expect(await identity.getUser(userName)).toBeUndefined();
  });

  it('a capturing logger across ensure, issue, revoke, reconcile and delete never sees a secret; nor do the errors', async () => {
    const identity = iam();
    const logger = capturingLogger();
    const deps = { identity, logger };
    const { input, userName } = org();
    const secrets: string[] = [];
    const errors: unknown[] = [];
    await ensureZoneIdentity(input, deps);
    const k1 = await issueAccessKey({ userName }, deps);
    secrets.push(k1.secretAccessKey);
    const newKey = await issueAccessKey({ userName }, deps);
    secrets.push(newKey.secretAccessKey);
    await revokeAccessKey({ userName, accessKeyId: k1.accessKeyId }, deps);
    const k3 = await issueAccessKey({ userName }, deps);
    secrets.push(k3.secretAccessKey);
    errors.push(await rejectionOf(issueAccessKey({ userName }, deps)));
    errors.push(await rejectionOf(identity.createAccessKey(userName)));
    errors.push(await rejectionOf(identity.deleteUser(userName)));
    proxy.setRules([
      {
        service: 'iam',
        operation: 'DeleteAccessKey',
        fault: { kind: 'error', code: 'AccessDenied', status: 403 },
      },
    ]);
    errors.push(
      await rejectionOf(reconcileAccessKeys({ userName, knownAccessKeyIds: [newKey.accessKeyId] }, deps)),
    );
    proxy.setRules([]);
    await reconcileAccessKeys({ userName, knownAccessKeyIds: [newKey.accessKeyId] }, deps);
    await deleteZoneIdentity({ userName }, deps);
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual([
      'CONFLICT',
      'CONFLICT',
      'CONFLICT',
      'PERMISSION_DENIED',
    ]);
    const logged = logger.lines.join('\n');
    expect(logged).toContain(k1.accessKeyId);
    for (const secret of secrets) {
      expect(logged).not.toContain(secret);
      for (const e of errors) {
        expect(everything(e)).not.toContain(secret);
        expect(JSON.stringify(e)).not.toContain(secret);
      }
    }
  });
});

describe('throttling storms', () => {
  it('with 30% of IAM calls throttled, a full lifecycle still completes', async () => {
    const identity = iam(10, 5);
    const a = org();
    const c = org('c1');
    proxy.setRules([{ service: 'iam', fault: 'Throttling', probability: 0.3 }], 'storm-1');
    proxy.clearLog();
    await ensureZoneIdentity(a.input, { identity });
    await ensureZoneIdentity(c.input, { identity });
    expect((await ensureZoneIdentity(a.input, { identity })).plan.steps).toEqual([]);
    const key = await issueAccessKey({ userName: a.userName }, { identity });
    const newKey = await issueAccessKey({ userName: a.userName }, { identity });
    await revokeAccessKey({ userName: a.userName, accessKeyId: key.accessKeyId }, { identity });
    await reconcileAccessKeys(
      { userName: a.userName, knownAccessKeyIds: [newKey.accessKeyId] },
      { identity },
    );
    const listed = await listZoneIdentities(
      { baseDomain: BASE, organization: a.input.organization },
      { identity },
    );
    expect(listed.map((i) => i.userName)).toEqual([a.userName]);
    await deleteZoneIdentity({ userName: a.userName }, { identity });
    await deleteZoneIdentity({ userName: c.userName }, { identity });
    // Every IAM action used is one the documented admin policy grants.
    const used = new Set(proxy.requests.map((r) => `${r.service}:${r.operation}`));
    expect([...used].filter((a) => !(IDENTITY_ADMIN_ACTIONS as readonly string[]).includes(a))).toEqual([]);
    expect(used.size).toBeGreaterThanOrEqual(12);
    const throttled = proxy.count({ fault: 'error:Throttling' });
    const total = proxy.count();
    expect(throttled).toBeGreaterThan(10);
    expect(throttled / total).toBeGreaterThan(0.15);
    proxy.setRules([]);
    expect(await identity.getUser(a.userName)).toBeUndefined();
    expect(await identity.getUser(c.userName)).toBeUndefined();
  });
});
