/**
 * The role and OIDC adapters against moto: the contract suites, error translation through the fault
 * proxy, and the places where moto is more lenient than IAM (asserted with raw SDK calls, so that a
 * stricter moto shows up as a failing test and its capability flag can be switched on).
 */
import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  DeleteOpenIDConnectProviderCommand,
  DeleteRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { hasErrorCode } from '@zonekeeper/core';
import { type FaultProxy, startFaultProxy } from '@zonekeeper/testkit/fault-proxy';
import { type MotoServer, startMoto } from '@zonekeeper/testkit/moto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KEYLESS_ADMIN_ACTIONS } from '../identity-admin-policy.js';
import type { RoleProvider } from '../role-ports.js';
import { rejectionOf } from '../test-helpers.test.util.js';
import { oidcProviderRegistryContract, roleProviderContract } from '../testing.js';
import {
  buildPodIdentityTrustPolicy,
  buildWebIdentityTrustPolicy,
  minifyTrustPolicy,
} from '../trust-policy.js';
import { createIamOidcProviderRegistry, createIamRoleProvider } from './index.js';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

let moto: MotoServer;
let proxy: FaultProxy;
beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy({ target: moto.endpoint, seed: 'iam-roles' });
});
afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});
afterEach(() => {
  proxy.setRules([]);
});

const options = (attempts = 3) => ({
  endpoint: proxy.endpoint,
  region: 'us-east-1',
  credentials,
  retryStrategy: new ConfiguredRetryStrategy(attempts, () => 10),
});

roleProviderContract({
  name: 'iam adapter (moto behind the fault proxy)',
  create: async () => ({
    provider: createIamRoleProvider(options()),
    oidcProviders: createIamOidcProviderRegistry(options()),
  }),
  capabilities: {
    caseInsensitiveRoleNames: false,
    enforcesTrustPolicySizeQuota: false,
    enforcesRoleInlinePolicySizeQuota: false,
    requiresRegisteredOidcProviders: false,
  },
});

oidcProviderRegistryContract({
  name: 'iam adapter (moto behind the fault proxy)',
  create: async () => ({ registry: createIamOidcProviderRegistry(options()) }),
  capabilities: { deleteOfMissingProviderIsNotFound: false },
});

const trust = (name: string) =>
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
let n = 0;
async function role(p: RoleProvider): Promise<string> {
  const roleName = `zk-roles-${++n}`;
  await p.createRole({
    roleName,
    path: '/zonekeeper/',
    trustPolicy: trust(roleName),
    tags: { 'zonekeeper:managed-by': 'zonekeeper' },
  });
  return roleName;
}

describe('IAM role adapter: error translation', () => {
  const cases: Record<
    string,
    {
      op: string;
      code: string;
      status: number;
      expected: string;
      call(p: RoleProvider, r: string): Promise<unknown>;
    }
  > = {
    'LimitExceeded on UpdateAssumeRolePolicy (ACLSizePerRole) is CONFLICT, sent once': {
      op: 'UpdateAssumeRolePolicy',
      code: 'LimitExceeded',
      status: 409,
      expected: 'CONFLICT',
      call: (p, r) => p.updateTrustPolicy(r, trust('other')),
    },
    'MalformedPolicyDocument on CreateRole (e.g. an unknown principal) is INVALID_INPUT': {
      op: 'CreateRole',
      code: 'MalformedPolicyDocument',
      status: 400,
      expected: 'INVALID_INPUT',
      call: (p) =>
        p.createRole({
          roleName: `zk-roles-x-${++n}`,
          path: '/zonekeeper/',
          trustPolicy: trust('x'),
          tags: {},
        }),
    },
    'DeleteConflict on DeleteRole is CONFLICT': {
      op: 'DeleteRole',
      code: 'DeleteConflict',
      status: 409,
      expected: 'CONFLICT',
      call: (p, r) => p.deleteRole(r),
    },
    'AccessDenied on ListRoles is PERMISSION_DENIED': {
      op: 'ListRoles',
      code: 'AccessDenied',
      status: 403,
      expected: 'PERMISSION_DENIED',
      call: (p) => p.listRoles('/zonekeeper/'),
    },
  };
  for (const [sentence, c] of Object.entries(cases)) {
    it(sentence, async () => {
      const p = createIamRoleProvider(options(5));
      const r = await role(p);
      proxy.setRules([
        {
          operation: c.op,
          fault: { kind: 'error', code: c.code, status: c.status, message: `injected ${c.code}` },
        },
      ]);
      proxy.clearLog();
      const e = await rejectionOf(c.call(p, r));
      expect(e.code).toBe(c.expected);
      expect(e.message).toMatch(new RegExp(`^IAM: ${c.op}`));
      expect(e.details).toMatchObject({ operation: c.op, awsCode: c.code, httpStatusCode: c.status });
      if (c.code === 'LimitExceeded') {
        expect(proxy.count({ operation: c.op })).toBe(1);
        expect(e.message).toContain('ACLSizePerRole');
      }
      if (c.code === 'AccessDenied') expect(e.message).toContain('role/zonekeeper/*');
    });
  }

  it('rejects bad input before any request is sent', async () => {
    const p = createIamRoleProvider(options());
    const r = createIamOidcProviderRegistry(options());
    proxy.clearLog();
    const attempts: (() => Promise<unknown>)[] = [
      () => p.createRole({ roleName: 'ok', path: '/', trustPolicy: 'not json', tags: {} }),
      () =>
        p.updateTrustPolicy(
          'ok',
          '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*"}]}',
        ),
      () => p.getRole('has space'),
      () => r.createOidcProvider({ url: 'http://127.0.0.1:9999/x', clientIds: [], tags: {} }),
      () => r.deleteOidcProvider('arn:aws:iam::123456789012:oidc-provider/'),
    ];
    for (const attempt of attempts)
      expect(hasErrorCode(await rejectionOf(attempt()), 'INVALID_INPUT')).toBe(true);
    expect(proxy.count()).toBe(0);
  });
});

describe('the keyless admin policy lists every IAM call the adapters make', () => {
  it('a whole lifecycle uses only KEYLESS_ADMIN_ACTIONS', async () => {
    const p = createIamRoleProvider(options());
    const r = createIamOidcProviderRegistry(options());
    proxy.clearLog();
    const provider = await r.createOidcProvider({
      url: 'https://lifecycle.oidc.example.com/c1',
      clientIds: ['sts.amazonaws.com'],
      tags: { 'zonekeeper:managed-by': 'zonekeeper' },
    });
    await r.tagOidcProvider(provider.arn, { 'zonekeeper:organization': 'acme' });
    await r.getOidcProvider(provider.arn);
    await r.listOidcProviders();
    const roleName = await role(p);
    await p.getRole(roleName);
    await p.tagRole(roleName, { 'zonekeeper:zone-id': 'Z1' });
    await p.updateTrustPolicy(roleName, trust('c2'));
    await p.putRolePolicy(
      roleName,
      'zone',
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"route53:GetChange","Resource":"*"}]}',
    );
    await p.getRolePolicy(roleName, 'zone');
    await p.listRoles('/zonekeeper/');
    for (const name of await p.listRolePolicies(roleName)) await p.deleteRolePolicy(roleName, name);
    await p.deleteRole(roleName);
    await r.deleteOidcProvider(provider.arn);
    const used = new Set(proxy.requests.map((q) => `iam:${q.operation}`));
    expect(used.size).toBeGreaterThanOrEqual(15);
    for (const action of used) expect(KEYLESS_ADMIN_ACTIONS as readonly string[]).toContain(action);
  });
});

describe('moto is more lenient than IAM here (the memory provider’s contract covers each)', () => {
  let raw: IAMClient;
  beforeAll(() => {
    raw = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials, maxAttempts: 1 });
  });
  afterAll(() => raw.destroy());

  it('CreateRole accepts a trust policy that is not even JSON (UpdateAssumeRolePolicy does validate)', async () => {
    await raw.send(new CreateRoleCommand({ RoleName: 'zk-lenient-1', AssumeRolePolicyDocument: 'not json' }));
    const e = await rejectionOf(
      raw.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'zk-lenient-1', PolicyDocument: 'not json' })),
    );
    expect(e.name).toBe('MalformedPolicyDocumentException');
    await raw.send(new DeleteRoleCommand({ RoleName: 'zk-lenient-1' }));
  });

  it('role names are compared with case, and the trust-policy quota is not enforced', async () => {
    const big = minifyTrustPolicy(
      buildWebIdentityTrustPolicy({
        accountId: '123456789012',
        maxPolicyChars: 4096,
        clusters: Array.from({ length: 9 }, (_, i) => ({
          issuerUrl: `https://oidc.eks.eu-west-1.amazonaws.com/id/${String(i).padStart(32, '0')}`,
          namespace: 'external-dns',
          serviceAccount: 'external-dns',
        })),
      }),
    );
    expect(big.length).toBeGreaterThan(2048);
    await raw.send(new CreateRoleCommand({ RoleName: 'zk-lenient-2', AssumeRolePolicyDocument: big }));
    await raw.send(new CreateRoleCommand({ RoleName: 'ZK-LENIENT-2', AssumeRolePolicyDocument: big }));
    await raw.send(new DeleteRoleCommand({ RoleName: 'zk-lenient-2' }));
    await raw.send(new DeleteRoleCommand({ RoleName: 'ZK-LENIENT-2' }));
  });

  it('inline policies of a role may exceed 10,240 characters', async () => {
    await raw.send(new CreateRoleCommand({ RoleName: 'zk-lenient-3', AssumeRolePolicyDocument: trust('c') }));
    const doc = (sid: string) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: sid,
            Effect: 'Allow',
            Action: 'route53:GetChange',
            Resource: `arn:aws:route53:::change/${'C'.repeat(6000)}`,
          },
        ],
      });
    await raw.send(
      new PutRolePolicyCommand({ RoleName: 'zk-lenient-3', PolicyName: 'a', PolicyDocument: doc('A') }),
    );
    await raw.send(
      new PutRolePolicyCommand({ RoleName: 'zk-lenient-3', PolicyName: 'b', PolicyDocument: doc('B') }),
    );
    // DeleteConflict, on the other hand, is enforced:
    expect((await rejectionOf(raw.send(new DeleteRoleCommand({ RoleName: 'zk-lenient-3' })))).name).toBe(
      'DeleteConflictException',
    );
  });

  it('OIDC providers: http:// and ports are accepted, and deleting a missing provider succeeds', async () => {
    const out = await raw.send(
      new CreateOpenIDConnectProviderCommand({ Url: 'http://127.0.0.1:9999/lenient', ClientIDList: ['a'] }),
    );
    expect(out.OpenIDConnectProviderArn).toBe(
      'arn:aws:iam::123456789012:oidc-provider/127.0.0.1:9999/lenient',
    );
    await raw.send(
      new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: out.OpenIDConnectProviderArn }),
    );
    await raw.send(
      new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: out.OpenIDConnectProviderArn }),
    );
  });

  it('a trust policy may trust an OIDC provider that is not registered', async () => {
    const unregistered = minifyTrustPolicy(
      buildWebIdentityTrustPolicy({
        accountId: '123456789012',
        clusters: [
          {
            issuerUrl: 'https://never-registered.example.com',
            namespace: 'external-dns',
            serviceAccount: 'external-dns',
          },
        ],
      }),
    );
    await raw.send(
      new CreateRoleCommand({ RoleName: 'zk-lenient-4', AssumeRolePolicyDocument: unregistered }),
    );
    await raw.send(
      new UpdateAssumeRolePolicyCommand({ RoleName: 'zk-lenient-4', PolicyDocument: unregistered }),
    );
    await raw.send(new DeleteRoleCommand({ RoleName: 'zk-lenient-4' }));
  });
});
