/**
 * `attachCluster` with keyless credentials, on the memory ports: the organisation's role (trust of
 * exactly its keyless clusters, the zone policy), the OIDC provider or Pod Identity association,
 * ExternalDNS without a Secret; detach removing the cluster's trust entry, association and provider;
 * key → role → key with valid credentials at every write; and the isolation attacks.
 */
import { hasErrorCode, type KubernetesObject } from '@zonekeeper/core';
import { IRSA_ROLE_ARN_ANNOTATION, type MemoryCluster } from '@zonekeeper/externaldns-deployer';
import {
  buildPodIdentityTrustPolicy,
  buildWebIdentityTrustPolicy,
  buildZonePolicy,
  clusterRecordNames,
  createMemoryPodIdentityProvider,
  createMemoryRoleProvider,
  identityUserName,
  type MemoryPodIdentityProvider,
  type MemoryRoleProvider,
  minifyPolicy,
} from '@zonekeeper/iam-scoper';
import { deleteClusterBinding, deleteClusterSecrets, readAttachment } from '@zonekeeper/vault-keys';
import { describe, expect, it } from 'vitest';
import { BASE, type MemoryWorld, memoryWorld, rejectionOf } from './memory.test.support.js';

const ACME = identityUserName({ baseDomain: BASE, organization: 'acme' });
const ACCOUNT = '123456789012';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/zonekeeper/${ACME}`;
const ISSUER_C1 = 'https://oidc.eks.eu-west-1.amazonaws.com/id/C1C1C1C1';
const ISSUER_C2 = 'https://oidc.eks.eu-west-1.amazonaws.com/id/C2C2C2C2';
const EKS_C3 = `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/c3`;
const EKS_G1 = `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/g1`;

function world(): MemoryWorld & { roles: MemoryRoleProvider; pods: MemoryPodIdentityProvider } {
  const pods = createMemoryPodIdentityProvider({ clusters: ['c3', 'g1'] });
  const w = memoryWorld({ podIdentity: pods });
  return Object.assign(w, { roles: w.zk.ports.roles as MemoryRoleProvider, pods });
}

type Obj = Record<string, unknown>;
async function deployment(w: MemoryWorld, clusterId: string): Promise<KubernetesObject | undefined> {
  const c = await w.cluster(clusterId);
  return c.get({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    namespace: 'external-dns',
    name: 'external-dns',
  });
}
function envOf(d: KubernetesObject | undefined): Record<string, unknown> {
  const spec = ((d?.spec as Obj)?.template as Obj)?.spec as { containers: { env: Obj[] }[] };
  return Object.fromEntries(spec.containers[0]?.env.map((e) => [e.name, e.value]) ?? []);
}
async function secret(w: MemoryWorld, clusterId: string) {
  const c = await w.cluster(clusterId);
  return c.get({
    apiVersion: 'v1',
    kind: 'Secret',
    namespace: 'external-dns',
    name: 'external-dns-aws-credentials',
  });
}
function trustOf(w: ReturnType<typeof world>): { Statement: Obj[] } | undefined {
  const role = w.roles.snapshot().roles.find((r) => r.roleName === ACME);
  return role ? (JSON.parse(role.trustPolicy) as { Statement: Obj[] }) : undefined;
}
const subjects = (trust: { Statement: Obj[] } | undefined) =>
  (trust?.Statement ?? []).map((s) => JSON.stringify((s.Condition as Obj).StringEquals)).sort();

describe('attachCluster with web identity / IRSA', () => {
  it('creates the OIDC provider and the role (trust of this cluster only, the zone policy), and renders ExternalDNS without a Secret', async () => {
    const w = world();
    const result = await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      credentials: 'web-identity',
      workloadIdentity: { issuerUrl: ISSUER_C1 },
    });
    expect(result.credentials).toBe('web-identity');
    expect(result.roleArn).toBe(ROLE_ARN);
    expect(result.accessKeyId).toBeUndefined();
    const { roles, oidcProviders } = w.roles.snapshot();
    expect(oidcProviders.map((p) => [p.url, p.clientIds, p.tags['zonekeeper:organization']])).toEqual([
      [ISSUER_C1, ['sts.amazonaws.com'], 'acme'],
    ]);
    expect(roles.map((r) => r.arn)).toEqual([ROLE_ARN]);
    expect(subjects(trustOf(w))).toEqual([
      JSON.stringify({
        'oidc.eks.eu-west-1.amazonaws.com/id/C1C1C1C1:aud': 'sts.amazonaws.com',
        'oidc.eks.eu-west-1.amazonaws.com/id/C1C1C1C1:sub': 'system:serviceaccount:external-dns:external-dns',
      }),
    ]);
    const policy = await w.roles.getRolePolicy(ACME, `${ACME}.route53`);
    expect(policy).toContain('hostedzone/');
    const env = envOf(await deployment(w, 'c1'));
    expect(env.AWS_ROLE_ARN).toBe(ROLE_ARN);
    expect(env.AWS_SHARED_CREDENTIALS_FILE).toBeUndefined();
    expect(await secret(w, 'c1')).toBeUndefined();
    // No key for the organisation: nothing uses one.
    expect(w.identity.snapshot().flatMap((u) => u.accessKeys ?? [])).toEqual([]);
    expect((await readAttachment(w.secrets, 'acme', 'c1', w.layout))?.credentials).toEqual({
      mode: 'web-identity',
      issuerUrl: ISSUER_C1,
      audience: 'sts.amazonaws.com',
    });
    // Attaching again changes nothing.
    const again = await w.zk.attachCluster('acme', { clusterId: 'c1' });
    expect(again.plan).toEqual([]);
    expect(again.credentials).toBe('web-identity');
  });

  it('a dry run plans the role and writes nothing, not even the provider', async () => {
    const w = world();
    await w.zk.attachCluster('acme', { clusterId: 'c1' });
    const before = await w.writes(['c1']);
    const planned = await w.zk.attachCluster(
      'acme',
      { clusterId: 'c1', credentials: 'web-identity', workloadIdentity: { issuerUrl: ISSUER_C1 } },
      { dryRun: true },
    );
    expect(planned.dryRun).toBe(true);
    expect(planned.plan.map((s) => s.op)).toContain('ensure-role');
    expect(planned.credentials).toBe('web-identity');
    expect(w.roles.writes()).toBe(0);
    expect(await w.writes(['c1'])).toEqual(before);
    expect(await secret(w, 'c1')).toBeDefined();
  });

  it('irsa annotates the ServiceAccount; two keyless clusters share the role, detach removes exactly one entry, then the role and providers', async () => {
    const w = world();
    await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      credentials: 'web-identity',
      workloadIdentity: { issuerUrl: ISSUER_C1 },
    });
    await w.zk.attachCluster('acme', {
      clusterId: 'c2',
      credentials: 'irsa',
      workloadIdentity: { issuerUrl: ISSUER_C2 },
    });
    const c2 = (await w.cluster('c2')) as MemoryCluster;
    const sa = await c2.get({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      namespace: 'external-dns',
      name: 'external-dns',
    });
    expect(sa?.metadata.annotations?.[IRSA_ROLE_ARN_ANNOTATION]).toBe(ROLE_ARN);
    expect(subjects(trustOf(w)).map((s) => s.includes('C1C1') || s.includes('C2C2'))).toEqual([true, true]);

    const detached = await w.zk.detachCluster('acme', 'c1');
    expect(detached.plan.map((s) => s.op)).toContain('remove-keyless');
    expect(subjects(trustOf(w))).toHaveLength(1);
    expect(subjects(trustOf(w))[0]).toContain('C2C2');
    expect(w.roles.snapshot().oidcProviders.map((p) => p.url)).toEqual([ISSUER_C2]);

    await w.zk.detachCluster('acme', 'c2');
    expect(w.roles.snapshot()).toEqual({ roles: [], oidcProviders: [] });
  });

  it('adopts a provider the platform registered (tags it with the organisation, never deletes it)', async () => {
    const w = world();
    await w.roles.createOidcProvider({
      url: ISSUER_C1,
      clientIds: ['sts.amazonaws.com'],
      tags: { team: 'platform' },
    });
    await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      credentials: 'web-identity',
      workloadIdentity: { issuerUrl: ISSUER_C1 },
    });
    expect(w.roles.snapshot().oidcProviders[0]?.tags).toEqual({
      team: 'platform',
      'zonekeeper:organization': 'acme',
    });
    await w.zk.detachCluster('acme', 'c1');
    expect(w.roles.snapshot().oidcProviders.map((p) => p.url)).toEqual([ISSUER_C1]);
  });
});

describe('attachCluster with EKS Pod Identity', () => {
  it('creates the association to the role and a trust of the session tags; detach deletes both', async () => {
    const w = world();
    const result = await w.zk.attachCluster('acme', {
      clusterId: 'c3',
      credentials: 'pod-identity',
      workloadIdentity: { eksClusterArn: EKS_C3 },
    });
    expect(result.credentials).toBe('pod-identity');
    expect(w.pods.snapshot().map((a) => [a.clusterName, a.namespace, a.serviceAccount, a.roleArn])).toEqual([
      ['c3', 'external-dns', 'external-dns', ROLE_ARN],
    ]);
    expect(JSON.stringify(trustOf(w))).toContain(EKS_C3);
    expect(JSON.stringify(trustOf(w))).toContain('pods.eks.amazonaws.com');
    expect(Object.keys(envOf(await deployment(w, 'c3'))).sort()).toEqual([
      'AWS_DEFAULT_REGION',
      'AWS_REGION',
    ]);
    await w.zk.detachCluster('acme', 'c3');
    expect(w.pods.snapshot()).toEqual([]);
    expect(w.roles.snapshot().roles).toEqual([]);
  });
});

describe('isolation: another organisation cannot be admitted to a role', () => {
  it("refuses another organisation's attach naming acme's cluster issuer, before anything is written", async () => {
    const w = world();
    await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      credentials: 'web-identity',
      workloadIdentity: { issuerUrl: ISSUER_C1 },
    });
    const before = JSON.stringify(w.roles.snapshot());
    const error = await rejectionOf(
      w.zk.attachCluster('globex', {
        clusterId: 'g1',
        credentials: 'irsa',
        workloadIdentity: { issuerUrl: ISSUER_C1 },
      }),
    );
    expect(hasErrorCode(error, 'NOT_OWNED')).toBe(true);
    expect((error as Error).message).toMatch(/belongs to organisation acme/);
    expect(JSON.stringify(w.roles.snapshot())).toBe(before);
    expect(await deployment(w, 'g1')).toBeUndefined();
  });

  it("refuses another organisation's Pod Identity attach of an EKS cluster that runs acme's ExternalDNS", async () => {
    const w = world();
    await w.zk.attachCluster('acme', {
      clusterId: 'c3',
      credentials: 'pod-identity',
      workloadIdentity: { eksClusterArn: EKS_C3 },
    });
    const error = await rejectionOf(
      w.zk.attachCluster('globex', {
        clusterId: 'g1',
        credentials: 'pod-identity',
        workloadIdentity: { eksClusterArn: EKS_C3 },
        externalDns: { namespace: 'dns' },
      }),
    );
    expect(hasErrorCode(error, 'NOT_OWNED')).toBe(true);
    expect(w.pods.snapshot()).toHaveLength(1);
    expect(w.roles.snapshot().roles.map((r) => r.roleName)).toEqual([ACME]);
    // Its own EKS cluster is fine, with its own role.
    await w.zk.attachCluster('globex', {
      clusterId: 'g1',
      credentials: 'pod-identity',
      workloadIdentity: { eksClusterArn: EKS_G1 },
    });
    const globexTrust = w.roles.snapshot().roles.find((r) => r.roleName !== ACME)?.trustPolicy ?? '';
    expect(globexTrust).toContain(EKS_G1);
    expect(globexTrust).not.toContain(EKS_C3);
    expect(trustOf(w) && JSON.stringify(trustOf(w))).not.toContain(EKS_G1);
  });

  it("refuses the attach whose trust entry would not fit the account's trust-policy quota, before anything is written", async () => {
    const w = world();
    const issuer = (i: number) => `https://oidc.eks.eu-west-1.amazonaws.com/id/${String(i).repeat(32)}`;
    let attached = 0;
    let error: unknown;
    for (let i = 1; i <= 9 && error === undefined; i++) {
      try {
        await w.zk.attachCluster('acme', {
          clusterId: `c${i}`,
          credentials: 'irsa',
          workloadIdentity: { issuerUrl: issuer(i) },
        });
        attached++;
      } catch (e) {
        error = e;
      }
    }
    expect(attached).toBeGreaterThanOrEqual(3);
    expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
    expect((error as { details?: { reason?: string } }).details?.reason).toBe('TRUST_POLICY_TOO_LARGE');
    // The refused cluster got nothing: no provider, no trust entry, no ExternalDNS, no record.
    const refused = `c${attached + 1}`;
    expect(w.roles.snapshot().oidcProviders).toHaveLength(attached);
    expect(subjects(trustOf(w))).toHaveLength(attached);
    expect(await deployment(w, refused)).toBeUndefined();
    expect(await readAttachment(w.secrets, 'acme', refused, w.layout)).toBeUndefined();
  });

  it('never takes over a role at the organisation role name that is not zonekeeper’s', async () => {
    const w = world();
    await w.roles.createRole({
      roleName: ACME,
      path: '/zonekeeper/',
      trustPolicy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      }),
      tags: {},
    });
    const error = await rejectionOf(
      w.zk.attachCluster('acme', {
        clusterId: 'c1',
        credentials: 'web-identity',
        workloadIdentity: { issuerUrl: ISSUER_C1 },
      }),
    );
    expect(hasErrorCode(error, 'NOT_OWNED')).toBe(true);
    expect(w.roles.snapshot().oidcProviders).toEqual([]);
  });

  it.each([
    ['a mode that does not exist', { credentials: 'instance-profile' }, /credentials must be one of/],
    ['web identity without an issuer', { credentials: 'web-identity' }, /needs workloadIdentity/],
    [
      'an issuer with a port',
      { credentials: 'irsa', workloadIdentity: { issuerUrl: 'https://oidc.example.com:8443/x' } },
      /port/,
    ],
    [
      'pod identity with an issuer',
      { credentials: 'pod-identity', workloadIdentity: { issuerUrl: ISSUER_C1 } },
      /not used by credentials "pod-identity"/,
    ],
    [
      'an IRSA audience',
      { credentials: 'irsa', workloadIdentity: { issuerUrl: ISSUER_C1, audience: 'x' } },
      /not used by credentials "irsa"/,
    ],
    [
      'workloadIdentity with a key',
      { credentials: 'access-key', workloadIdentity: { issuerUrl: ISSUER_C1 } },
      /takes no workloadIdentity/,
    ],
  ])('refuses %s with INVALID_INPUT before any call', async (_what, extra, message) => {
    const w = world();
    const calls = await w.callCount();
    const error = await rejectionOf(w.zk.attachCluster('acme', { clusterId: 'c1', ...(extra as object) }));
    expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect(await w.callCount()).toBe(calls);
    expect(w.roles.writes()).toBe(0);
  });
});

describe('configuration', () => {
  it('a configured roles provider without keyless.accountId refuses a keyless attach (the ARNs would name the wrong account), not a key attach', async () => {
    const roles = createMemoryRoleProvider();
    const w = memoryWorld({ roles });
    const error = await rejectionOf(
      w.zk.attachCluster('acme', {
        clusterId: 'c1',
        credentials: 'web-identity',
        workloadIdentity: { issuerUrl: ISSUER_C1 },
      }),
    );
    expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
    expect((error as Error).message).toMatch(/keyless\.accountId/);
    expect(roles.writes()).toBe(0);
    await w.zk.attachCluster('acme', { clusterId: 'c2' });
  });
});

/** After every write anywhere, ExternalDNS's Deployment must name credentials that work right then. */
async function instrument(
  w: ReturnType<typeof world>,
  clusterId: string,
  crash: { after?: number | undefined } = {},
  /** What the role ExternalDNS assumes must trust (its issuer or EKS cluster; one of them). */
  trusts: string | readonly string[] = 'C1C1C1C1',
): Promise<{ problems: string[]; events: string[] }> {
  const cluster = await w.cluster(clusterId);
  const problems: string[] = [];
  const events: string[] = [];
  const check = async (what: string) => {
    const d = await cluster.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'external-dns',
      name: 'external-dns',
    });
    if (!d) return;
    const env = envOf(d);
    if (typeof env.AWS_ROLE_ARN === 'string') {
      const role = w.roles.snapshot().roles.find((r) => r.arn === env.AWS_ROLE_ARN);
      if (
        !(typeof trusts === 'string' ? [trusts] : trusts).some((t) => role?.trustPolicy.includes(t)) ||
        !role?.policies[`${role.roleName}.route53`]
      )
        problems.push(
          `after ${what}: the Deployment assumes ${String(env.AWS_ROLE_ARN)}, which does not trust it or has no policy`,
        );
    } else {
      const s = await cluster.get({
        apiVersion: 'v1',
        kind: 'Secret',
        namespace: 'external-dns',
        name: 'external-dns-aws-credentials',
      });
      const file = Buffer.from(
        ((s?.data ?? {}) as Record<string, string>).credentials ?? '',
        'base64',
      ).toString();
      const keyId = /aws_access_key_id = (\S+)/.exec(file)?.[1];
      const live = w.identity.snapshot().some((u) => u.accessKeys.some((k) => k.accessKeyId === keyId));
      if (!keyId || !live)
        problems.push(`after ${what}: the Deployment reads key ${String(keyId)}, which is not live`);
    }
  };
  const wrap = (target: Record<string, unknown>, name: string, methods: readonly string[]) => {
    for (const m of methods) {
      const original = target[m] as (...a: unknown[]) => Promise<unknown>;
      if (typeof original !== 'function') continue;
      target[m] = async (...args: unknown[]) => {
        const out = await original.apply(target, args);
        // The organisation lock's own record is not a step of the move (a crash holding it is the
        // lock's TTL story, reliability.md), so it is neither counted nor a crash point.
        if (name === 'secrets' && String(args[0]).includes('/locks/')) return out;
        events.push(`${name}.${m}`);
        await check(`${name}.${m}`);
        if (crash.after !== undefined && events.length === crash.after)
          throw new Error(`crash after write ${crash.after} (${name}.${m})`);
        return out;
      };
    }
  };
  wrap(cluster as unknown as Record<string, unknown>, 'cluster', ['apply', 'delete', 'replace']);
  wrap(w.roles as unknown as Record<string, unknown>, 'roles', [
    'createRole',
    'updateTrustPolicy',
    'putRolePolicy',
    'deleteRolePolicy',
    'deleteRole',
    'createOidcProvider',
    'deleteOidcProvider',
  ]);
  wrap(w.secrets as unknown as Record<string, unknown>, 'secrets', ['write', 'writeMetadata', 'deleteAll']);
  wrap(w.identity as unknown as Record<string, unknown>, 'identity', [
    'createAccessKey',
    'deleteAccessKey',
    'deleteUser',
  ]);
  return { problems, events };
}

describe('migration: key → role → key, with valid credentials at every write', () => {
  it('moves a cluster from its key to the role and back: role before the roll, key retired after; key before the roll, role trimmed after', async () => {
    const w = world();
    await w.zk.attachCluster('acme', { clusterId: 'c1' });
    expect(await secret(w, 'c1')).toBeDefined();
    const { problems, events } = await instrument(w, 'c1');

    const toRole = await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      credentials: 'web-identity',
      workloadIdentity: { issuerUrl: ISSUER_C1 },
    });
    expect(toRole.plan.map((s) => s.op)).toEqual([
      'ensure-role',
      'apply-external-dns',
      'delete-credentials-secret',
      'record-credentials',
      'retire-organization-key',
    ]);
    expect(problems).toEqual([]);
    expect(events.indexOf('roles.createRole')).toBeLessThan(events.indexOf('cluster.apply'));
    expect(events.lastIndexOf('cluster.apply')).toBeLessThan(events.indexOf('identity.deleteAccessKey'));
    expect(await secret(w, 'c1')).toBeUndefined();
    expect(w.identity.snapshot().flatMap((u) => u.accessKeys ?? [])).toEqual([]);
    // A rotation has nothing to rotate here, and touches nothing.
    const rotation = await rejectionOf(w.zk.rotateCredentials('acme'));
    expect(hasErrorCode(rotation, 'NOT_FOUND')).toBe(true);
    expect((rotation as Error).message).toMatch(/keyless credentials/);
    expect(envOf(await deployment(w, 'c1')).AWS_ROLE_ARN).toBe(ROLE_ARN);

    events.length = 0;
    const toKey = await w.zk.attachCluster('acme', { clusterId: 'c1', credentials: 'access-key' });
    expect(toKey.plan.map((s) => s.op)).toEqual(['record-attachment', 'apply-external-dns', 'trim-role']);
    expect(problems).toEqual([]);
    expect(events.indexOf('identity.createAccessKey')).toBeLessThan(events.indexOf('cluster.apply'));
    expect(events.indexOf('cluster.apply')).toBeLessThan(events.indexOf('roles.deleteRole'));
    expect(toKey.accessKeyId).toBeDefined();
    expect(w.roles.snapshot()).toEqual({ roles: [], oidcProviders: [] });
    expect((await readAttachment(w.secrets, 'acme', 'c1', w.layout))?.credentials).toBeUndefined();
  });

  it('a lost answer or a crash after any write of either move: credentials stay valid, and the next attach finishes the move', async () => {
    const toRole = {
      clusterId: 'c1',
      credentials: 'web-identity',
      workloadIdentity: { issuerUrl: ISSUER_C1 },
    } as const;
    const toKey = { clusterId: 'c1', credentials: 'access-key' } as const;
    for (const [from, to] of [
      [{ clusterId: 'c1' }, toRole],
      [toRole, toKey],
    ] as const) {
      // How many writes the move makes without a crash.
      const clean = world();
      await clean.zk.attachCluster('acme', from);
      const counted = await instrument(clean, 'c1');
      await clean.zk.attachCluster('acme', to);
      const writes = counted.events.length;
      expect(writes).toBeGreaterThan(3);
      for (let k = 1; k <= writes; k++) {
        const w = world();
        await w.zk.attachCluster('acme', from);
        const crash: { after?: number | undefined } = { after: k };
        const { problems } = await instrument(w, 'c1', crash);
        // The write is applied and its answer lost: the run stops there (or, where the facade reads
        // back a lost answer, carries on).
        let crashed = 'no crash';
        try {
          await w.zk.attachCluster('acme', to);
        } catch (error) {
          crashed = String(error);
        }
        expect(crashed).toMatch(/crash after write|no crash/);
        crash.after = undefined;
        const finished = await w.zk.attachCluster('acme', to);
        expect(problems, `crash after write ${k} of ${to.credentials}`).toEqual([]);
        expect(finished.credentials).toBe(to.credentials);
        expect(await w.zk.attachCluster('acme', { clusterId: 'c1' })).toMatchObject({ plan: [] });
        if (to.credentials === 'web-identity') {
          expect(await secret(w, 'c1')).toBeUndefined();
          expect(w.identity.snapshot()).toEqual([]);
        } else {
          expect(w.roles.snapshot().roles).toEqual([]);
          expect(await secret(w, 'c1')).toBeDefined();
        }
      }
    }
  });

  it('after the move, ensureOrganization does not bring the retired key back, and the audit is clean', async () => {
    const w = world();
    await w.zk.attachCluster('acme', { clusterId: 'c1' });
    await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      credentials: 'web-identity',
      workloadIdentity: { issuerUrl: ISSUER_C1 },
    });
    w.inventory.set({ organization: 'acme', clusterId: 'c1', running: true });
    const ensured = await w.zk.ensureOrganization('acme');
    expect(w.identity.snapshot().flatMap((u) => u.accessKeys)).toEqual([]);
    expect(JSON.stringify(ensured)).not.toContain('issue-key');
    const audit = await w.zk.auditFleet({});
    expect(audit.findings.filter((f) => f.organization === 'acme').map((f) => f.reason)).toEqual([]);
  });

  it('keeps the organisation key while another cluster still runs it, and never publishes it to the keyless one', async () => {
    const w = world();
    await w.zk.attachCluster('acme', { clusterId: 'c1' });
    await w.zk.attachCluster('acme', { clusterId: 'c2' });
    const moved = await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      credentials: 'web-identity',
      workloadIdentity: { issuerUrl: ISSUER_C1 },
    });
    expect(moved.plan.map((s) => s.op)).not.toContain('retire-organization-key');
    expect(w.identity.snapshot().flatMap((u) => u.accessKeys ?? [])).toHaveLength(1);
    const rotated = await w.zk.rotateCredentials('acme');
    expect(rotated).toBeDefined();
    expect(envOf(await deployment(w, 'c1')).AWS_ROLE_ARN).toBe(ROLE_ARN);
    expect(await secret(w, 'c1')).toBeUndefined();
    expect(envOf(await deployment(w, 'c2')).AWS_SHARED_CREDENTIALS_FILE).toBeDefined();
  });
});

describe('deleteOrganization removes keyless leftovers, in order', () => {
  it('associations → role policies → role → OIDC providers, only the organisation’s, even with its records lost', async () => {
    const w = world();
    await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      credentials: 'web-identity',
      workloadIdentity: { issuerUrl: ISSUER_C1 },
    });
    await w.zk.attachCluster('acme', {
      clusterId: 'c3',
      credentials: 'pod-identity',
      workloadIdentity: { eksClusterArn: EKS_C3 },
    });
    await w.zk.attachCluster('globex', {
      clusterId: 'g1',
      credentials: 'pod-identity',
      workloadIdentity: { eksClusterArn: EKS_G1 },
    });
    // A role of someone else under the path: never touched.
    await w.roles.createRole({
      roleName: 'platform-admin',
      path: '/zonekeeper/',
      trustPolicy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      }),
      tags: { 'zonekeeper:organization': 'acme' },
    });
    // The store lost acme's cluster records (a restore from an old backup): nothing says the clusters exist.
    for (const id of ['c1', 'c3']) {
      await deleteClusterSecrets(w.secrets, 'acme', id, w.layout);
      await deleteClusterBinding(w.secrets, id, 'acme', w.layout);
    }
    const order: string[] = [];
    for (const [target, methods] of [
      [w.roles, ['deleteRolePolicy', 'deleteRole', 'deleteOidcProvider']],
      [w.pods, ['deleteAssociation']],
    ] as const) {
      const t = target as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      for (const m of methods) {
        const original = t[m] as (...a: unknown[]) => Promise<unknown>;
        t[m] = async (...args: unknown[]) => {
          order.push(m);
          return original.apply(target, args);
        };
      }
    }
    const result = await w.zk.deleteOrganization('acme');
    const keyless = result.plan.find((s) => s.op === 'delete-keyless');
    expect(keyless && keyless.op === 'delete-keyless' ? keyless.steps.map((s) => s.op) : []).toEqual([
      'delete-pod-identity-association',
      'delete-role-policy',
      'delete-role',
      'delete-oidc-provider',
    ]);
    expect(order).toEqual(['deleteAssociation', 'deleteRolePolicy', 'deleteRole', 'deleteOidcProvider']);
    expect(w.pods.snapshot().map((a) => a.clusterName)).toEqual(['g1']);
    expect(
      w.roles
        .snapshot()
        .roles.map((r) => r.roleName)
        .sort(),
    ).toEqual([identityUserName({ baseDomain: BASE, organization: 'globex' }), 'platform-admin'].sort());
    expect(w.roles.snapshot().oidcProviders).toEqual([]);
    // Again: nothing left.
    const again = await w.zk.deleteOrganization('acme');
    expect(again.plan.some((s) => s.op === 'delete-keyless')).toBe(false);
  });
});

describe('the rest of the facade sees a keyless cluster as healthy', () => {
  it('auditFleet reports nothing about a keyless cluster (no credentials Secret is expected)', async () => {
    const w = world();
    await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      credentials: 'web-identity',
      workloadIdentity: { issuerUrl: ISSUER_C1 },
    });
    w.inventory.set({ organization: 'acme', clusterId: 'c1', running: true });
    const audit = await w.zk.auditFleet({});
    const aboutC1 = audit.findings.filter((f) => JSON.stringify(f).includes('c1'));
    expect(aboutC1.map((f) => f.reason)).toEqual([]);
    const described = await w.zk.describeOrganization('acme');
    expect(described.clusters.map((c) => [c.clusterId, c.credentials])).toEqual([['c1', 'web-identity']]);
  });

  it('a new issuer for the same cluster (rebuilt): nothing to roll, the trust moves to the new issuer and the old provider goes', async () => {
    const w = world();
    await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      credentials: 'web-identity',
      workloadIdentity: { issuerUrl: ISSUER_C1 },
    });
    const moved = await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      credentials: 'web-identity',
      workloadIdentity: { issuerUrl: ISSUER_C2 },
    });
    expect(moved.plan.map((s) => s.op)).toEqual(['ensure-role', 'record-credentials', 'trim-role']);
    expect(subjects(trustOf(w))).toHaveLength(1);
    expect(subjects(trustOf(w))[0]).toContain('C2C2');
    expect(w.roles.snapshot().oidcProviders.map((p) => p.url)).toEqual([ISSUER_C2]);
  });

  it('a move between keyless modes (Pod Identity → web identity) trusts both while ExternalDNS rolls, then only the new one', async () => {
    const w = world();
    await w.zk.attachCluster('acme', {
      clusterId: 'c3',
      credentials: 'pod-identity',
      workloadIdentity: { eksClusterArn: EKS_C3 },
    });
    const trusts: string[] = [];
    const cluster = await w.cluster('c3');
    const apply = cluster.apply.bind(cluster);
    (cluster as unknown as { apply: typeof apply }).apply = async (...args) => {
      trusts.push(JSON.stringify(trustOf(w)));
      return apply(...args);
    };
    const moved = await w.zk.attachCluster('acme', {
      clusterId: 'c3',
      credentials: 'web-identity',
      workloadIdentity: { issuerUrl: ISSUER_C1 },
    });
    expect(moved.plan.map((s) => s.op)).toEqual([
      'ensure-role',
      'apply-external-dns',
      'record-credentials',
      'trim-role',
    ]);
    expect(trusts.length).toBeGreaterThan(0);
    for (const t of trusts) {
      expect(t).toContain(EKS_C3);
      expect(t).toContain('C1C1C1C1');
    }
    expect(JSON.stringify(trustOf(w))).not.toContain(EKS_C3);
    expect(JSON.stringify(trustOf(w))).toContain('C1C1C1C1');
    expect(w.pods.snapshot()).toEqual([]);
    expect(envOf(await deployment(w, 'c3')).AWS_ROLE_ARN).toBe(ROLE_ARN);
  });
});

describe('identity scope cluster: a role per cluster', () => {
  const C1_ROLE = identityUserName({ baseDomain: BASE, organization: 'acme', clusterId: 'c1' });
  const C2_ROLE = identityUserName({ baseDomain: BASE, organization: 'acme', clusterId: 'c2' });
  const C3_ROLE = identityUserName({ baseDomain: BASE, organization: 'acme', clusterId: 'c3' });
  const arnOf = (roleName: string) => `arn:aws:iam::${ACCOUNT}:role/zonekeeper/${roleName}`;
  const roleOf = (w: ReturnType<typeof world>, roleName: string) =>
    w.roles.snapshot().roles.find((r) => r.roleName === roleName);
  const webC1 = {
    clusterId: 'c1',
    identityScope: 'cluster',
    credentials: 'web-identity',
    workloadIdentity: { issuerUrl: ISSUER_C1 },
  } as const;

  it("creates the cluster's own role: its tags, a trust of its service account only (the builder's document), the cluster's zone policy; ExternalDNS gets that role", async () => {
    const w = world();
    const result = await w.zk.attachCluster('acme', webC1);
    expect(result.identityScope).toBe('cluster');
    expect(result.roleArn).toBe(arnOf(C1_ROLE));
    expect(w.roles.snapshot().roles.map((r) => r.roleName)).toEqual([C1_ROLE]);
    const role = roleOf(w, C1_ROLE);
    expect(role?.tags).toEqual({
      'zonekeeper:managed-by': 'zonekeeper',
      'zonekeeper:organization': 'acme',
      'zonekeeper:base-domain': BASE,
      'zonekeeper:cluster': 'c1',
    });
    // Exactly what the simulated builder makes for one cluster (trust-policy.simulate.test.ts, "a role per cluster").
    expect(JSON.parse(role?.trustPolicy ?? '{}')).toEqual(
      buildWebIdentityTrustPolicy({
        accountId: ACCOUNT,
        clusters: [{ issuerUrl: ISSUER_C1, namespace: 'external-dns', serviceAccount: 'external-dns' }],
      }),
    );
    // The cluster IAM user's policy: the cluster's names only.
    const zoneId = result.organizationResult.zone?.id as string;
    expect(role?.policies[`${C1_ROLE}.route53`]).toBe(
      minifyPolicy(
        buildZonePolicy({
          zoneId,
          zoneName: 'acme.example.com',
          recordNames: clusterRecordNames('acme.example.com', 'c1'),
        }),
      ),
    );
    const env = envOf(await deployment(w, 'c1'));
    expect(env.AWS_ROLE_ARN).toBe(arnOf(C1_ROLE));
    expect(await secret(w, 'c1')).toBeUndefined();
    // No IAM user at all: neither the organisation's nor the cluster's.
    expect(w.identity.snapshot()).toEqual([]);
    expect(await readAttachment(w.secrets, 'acme', 'c1', w.layout)).toMatchObject({
      scope: 'cluster',
      credentials: { mode: 'web-identity', issuerUrl: ISSUER_C1 },
    });
    expect((await w.zk.attachCluster('acme', { clusterId: 'c1' })).plan).toEqual([]);
    // Nothing to rotate, and the audit has nothing to say about it.
    expect(hasErrorCode(await rejectionOf(w.zk.rotateCredentials('acme')), 'NOT_FOUND')).toBe(true);
    w.inventory.set({ organization: 'acme', clusterId: 'c1', running: true });
    const audit = await w.zk.auditFleet({});
    expect(audit.findings.filter((f) => f.organization === 'acme').map((f) => f.reason)).toEqual([]);
  });

  it('two clusters attached at once get two roles, each trusting only itself; detach removes exactly its role, policy and provider', async () => {
    const w = world();
    await w.zk.ensureOrganization('acme');
    const [r1, r2] = await Promise.all([
      w.zk.attachCluster('acme', webC1),
      w.zk.attachCluster('acme', {
        clusterId: 'c2',
        identityScope: 'cluster',
        credentials: 'irsa',
        workloadIdentity: { issuerUrl: ISSUER_C2 },
      }),
    ]);
    expect([r1.roleArn, r2.roleArn]).toEqual([arnOf(C1_ROLE), arnOf(C2_ROLE)]);
    expect(
      w.roles
        .snapshot()
        .roles.map((r) => r.roleName)
        .sort(),
    ).toEqual([C1_ROLE, C2_ROLE].sort());
    const t1 = roleOf(w, C1_ROLE)?.trustPolicy ?? '';
    const t2 = roleOf(w, C2_ROLE)?.trustPolicy ?? '';
    expect(t1).toContain('C1C1C1C1');
    expect(t1).not.toContain('C2C2C2C2');
    expect(t2).toContain('C2C2C2C2');
    expect(t2).not.toContain('C1C1C1C1');
    const c2 = await w.cluster('c2');
    const sa = await c2.get({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      namespace: 'external-dns',
      name: 'external-dns',
    });
    expect(sa?.metadata.annotations?.[IRSA_ROLE_ARN_ANNOTATION]).toBe(arnOf(C2_ROLE));

    await w.zk.detachCluster('acme', 'c1');
    expect(w.roles.snapshot().roles.map((r) => r.roleName)).toEqual([C2_ROLE]);
    expect(w.roles.snapshot().oidcProviders.map((p) => p.url)).toEqual([ISSUER_C2]);
    expect(roleOf(w, C2_ROLE)?.trustPolicy).toBe(t2);
    await w.zk.detachCluster('acme', 'c2');
    expect(w.roles.snapshot()).toEqual({ roles: [], oidcProviders: [] });
  });

  it("a cluster's role and the organisation role side by side: neither trusts the other's clusters, and a shared issuer stays while one uses it", async () => {
    const w = world();
    await w.zk.attachCluster('acme', webC1);
    // c2 shares c1's issuer (one OIDC provider), with the organisation role.
    await w.zk.attachCluster('acme', {
      clusterId: 'c2',
      credentials: 'web-identity',
      workloadIdentity: { issuerUrl: ISSUER_C1 },
      externalDns: { namespace: 'dns' },
    });
    const orgTrust = roleOf(w, ACME)?.trustPolicy ?? '';
    expect(orgTrust).toContain('system:serviceaccount:dns:external-dns');
    expect(orgTrust).not.toContain('system:serviceaccount:external-dns:external-dns');
    expect(roleOf(w, C1_ROLE)?.trustPolicy).not.toContain('system:serviceaccount:dns:');
    expect(w.roles.snapshot().oidcProviders).toHaveLength(1);
    await w.zk.detachCluster('acme', 'c1');
    expect(w.roles.snapshot().roles.map((r) => r.roleName)).toEqual([ACME]);
    expect(w.roles.snapshot().oidcProviders).toHaveLength(1);
    expect(roleOf(w, ACME)?.trustPolicy).toBe(orgTrust);
  });

  it('Pod Identity: the association names the cluster’s role; detach deletes the association, the policy and the role', async () => {
    const w = world();
    const result = await w.zk.attachCluster('acme', {
      clusterId: 'c3',
      identityScope: 'cluster',
      credentials: 'pod-identity',
      workloadIdentity: { eksClusterArn: EKS_C3 },
    });
    expect(result.roleArn).toBe(arnOf(C3_ROLE));
    expect(w.pods.snapshot().map((a) => [a.clusterName, a.roleArn, a.tags['zonekeeper:cluster']])).toEqual([
      ['c3', arnOf(C3_ROLE), 'c3'],
    ]);
    expect(JSON.parse(roleOf(w, C3_ROLE)?.trustPolicy ?? '{}')).toEqual(
      buildPodIdentityTrustPolicy({
        clusters: [{ clusterArn: EKS_C3, namespace: 'external-dns', serviceAccount: 'external-dns' }],
      }),
    );
    expect(roleOf(w, ACME)).toBeUndefined();
    const order: string[] = [];
    for (const [target, methods] of [
      [w.roles, ['deleteRolePolicy', 'deleteRole']],
      [w.pods, ['deleteAssociation']],
    ] as const) {
      const t = target as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      for (const m of methods) {
        const original = t[m] as (...a: unknown[]) => Promise<unknown>;
        t[m] = async (...args: unknown[]) => {
          order.push(m);
          return original.apply(target, args);
        };
      }
    }
    await w.zk.detachCluster('acme', 'c3');
    expect(order).toEqual(['deleteAssociation', 'deleteRolePolicy', 'deleteRole']);
    expect(w.pods.snapshot()).toEqual([]);
    expect(w.roles.snapshot().roles).toEqual([]);
  });

  it.each([
    ['not zonekeeper’s', {}, 'NOT_OWNED' as const],
    [
      'another organisation’s',
      { 'zonekeeper:managed-by': 'zonekeeper', 'zonekeeper:organization': 'globex' },
      'CONFLICT' as const,
    ],
    [
      'the organisation’s, without the cluster tag',
      { 'zonekeeper:managed-by': 'zonekeeper', 'zonekeeper:organization': 'acme' },
      'CONFLICT' as const,
    ],
    [
      'another cluster’s',
      {
        'zonekeeper:managed-by': 'zonekeeper',
        'zonekeeper:organization': 'acme',
        'zonekeeper:cluster': 'c9',
      },
      'CONFLICT' as const,
    ],
  ])(
    'never takes over a role at the cluster’s role name that is %s, and writes nothing',
    async (_what, tags, code) => {
      const w = world();
      const foreignTrust = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      });
      await w.roles.createRole({ roleName: C1_ROLE, path: '/zonekeeper/', trustPolicy: foreignTrust, tags });
      const before = JSON.stringify(w.roles.snapshot());
      const error = await rejectionOf(w.zk.attachCluster('acme', webC1));
      expect(hasErrorCode(error, code)).toBe(true);
      expect(JSON.stringify(w.roles.snapshot())).toBe(before);
      expect(await deployment(w, 'c1')).toBeUndefined();
      // A detach and an offboarding leave it too.
      await w.zk.detachCluster('acme', 'c1');
      await w.zk.deleteOrganization('acme');
      expect(roleOf(w, C1_ROLE)?.trustPolicy).toBe(foreignTrust);
    },
  );

  it("names never collide: acme's cluster c1 and an organisation named like it, and another organisation's c1, each have their own role", async () => {
    const w = world();
    await w.zk.attachCluster('acme', webC1);
    await w.zk.attachCluster('globex', {
      clusterId: 'g1',
      identityScope: 'cluster',
      credentials: 'web-identity',
      workloadIdentity: { issuerUrl: ISSUER_C2 },
    });
    const names = w.roles.snapshot().roles.map((r) => r.roleName);
    expect(new Set(names).size).toBe(2);
    expect(names).toContain(C1_ROLE);
    expect(names).toContain(identityUserName({ baseDomain: BASE, organization: 'globex', clusterId: 'g1' }));
    expect(C1_ROLE).not.toBe(ACME);
    // A cluster id of another organisation cannot reuse acme's issuer (the provider is acme's).
    const error = await rejectionOf(
      w.zk.attachCluster('globex', {
        clusterId: 'g2',
        identityScope: 'cluster',
        credentials: 'web-identity',
        workloadIdentity: { issuerUrl: ISSUER_C1 },
      }),
    );
    expect(hasErrorCode(error, 'NOT_OWNED')).toBe(true);
  });

  const KEY_ORG = { clusterId: 'c1', identityScope: 'organization', credentials: 'access-key' } as const;
  const KEY_CLUSTER = { clusterId: 'c1', identityScope: 'cluster', credentials: 'access-key' } as const;
  const WEB_ORG = {
    clusterId: 'c1',
    identityScope: 'organization',
    credentials: 'web-identity',
    workloadIdentity: { issuerUrl: ISSUER_C1 },
  } as const;
  const WEB_ORG_C2 = { ...WEB_ORG, workloadIdentity: { issuerUrl: ISSUER_C2 } } as const;
  type Move = readonly [string, object, object];
  /** The cluster was rebuilt with a new issuer in one move: its ExternalDNS may run with either. */
  const ISSUERS = ['C1C1C1C1', 'C2C2C2C2'];
  const MOVES: readonly Move[] = [
    ['key (cluster) → own role', KEY_CLUSTER, webC1],
    ['own role → key (cluster)', webC1, KEY_CLUSTER],
    ['key (organisation) → own role', KEY_ORG, webC1],
    ['own role → key (organisation)', webC1, KEY_ORG],
    ['organisation role → own role', WEB_ORG, webC1],
    ['own role → organisation role', webC1, WEB_ORG],
    ['organisation role (another issuer) → own role', WEB_ORG_C2, webC1],
  ];

  /** The end state of a move: only what the target mode uses is left. */
  async function expectMoved(w: ReturnType<typeof world>, to: object): Promise<void> {
    const target = to as { credentials?: string; identityScope?: string };
    const roles = w.roles
      .snapshot()
      .roles.map((r) => r.roleName)
      .sort();
    const users = w.identity
      .snapshot()
      .map((u) => u.userName)
      .sort();
    const env = envOf(await deployment(w, 'c1'));
    if (target.credentials === 'web-identity') {
      const own = target.identityScope === 'cluster';
      expect(roles).toEqual([own ? C1_ROLE : ACME]);
      expect(env.AWS_ROLE_ARN).toBe(arnOf(own ? C1_ROLE : ACME));
      expect(users).toEqual([]);
      expect(await secret(w, 'c1')).toBeUndefined();
      expect(subjects(JSON.parse(roleOf(w, own ? C1_ROLE : ACME)?.trustPolicy ?? '{}'))).toHaveLength(1);
      expect(w.roles.snapshot().oidcProviders.map((p) => p.url)).toEqual([ISSUER_C1]);
    } else {
      expect(roles).toEqual([]);
      expect(w.roles.snapshot().oidcProviders).toEqual([]);
      // The cluster's IAM user is named like its role; the organisation's exists on this platform
      // (default scope organization) once no cluster is keyless.
      expect(users).toEqual(target.identityScope === 'cluster' ? [ACME, C1_ROLE] : [ACME]);
      expect(env.AWS_SHARED_CREDENTIALS_FILE).toBeDefined();
      expect(await secret(w, 'c1')).toBeDefined();
    }
  }

  it.each(MOVES)(
    '%s: the role before the roll, the old credentials gone after, valid credentials at every write',
    async (_what, from, to) => {
      const w = world();
      await w.zk.attachCluster('acme', from as Parameters<typeof w.zk.attachCluster>[1]);
      const { problems, events } = await instrument(w, 'c1', {}, ISSUERS);
      const moved = await w.zk.attachCluster('acme', to as Parameters<typeof w.zk.attachCluster>[1]);
      expect(problems).toEqual([]);
      expect(events.length).toBeGreaterThan(2);
      const ops = moved.plan.map((s) => s.op);
      // ExternalDNS rolls after the role or the key it moves to exists, before what it leaves goes.
      expect(ops).toContain('apply-external-dns');
      await expectMoved(w, to);
      expect((await w.zk.attachCluster('acme', { clusterId: 'c1' })).plan).toEqual([]);
    },
  );

  it.each(MOVES)(
    '%s: a crash after any write leaves valid credentials, and the next attach finishes the move',
    async (_what, from, to) => {
      const clean = world();
      await clean.zk.attachCluster('acme', from as Parameters<typeof clean.zk.attachCluster>[1]);
      const counted = await instrument(clean, 'c1', {}, ISSUERS);
      await clean.zk.attachCluster('acme', to as Parameters<typeof clean.zk.attachCluster>[1]);
      const writes = counted.events.length;
      expect(writes).toBeGreaterThan(2);
      for (let k = 1; k <= writes; k++) {
        const w = world();
        await w.zk.attachCluster('acme', from as Parameters<typeof w.zk.attachCluster>[1]);
        const crash: { after?: number | undefined } = { after: k };
        const { problems } = await instrument(w, 'c1', crash, ISSUERS);
        let crashed = 'no crash';
        try {
          await w.zk.attachCluster('acme', to as Parameters<typeof w.zk.attachCluster>[1]);
        } catch (error) {
          crashed = String(error);
        }
        expect(crashed).toMatch(/crash after write|no crash/);
        crash.after = undefined;
        await w.zk.attachCluster('acme', to as Parameters<typeof w.zk.attachCluster>[1]);
        expect(problems, `crash after write ${k} of ${writes}`).toEqual([]);
        await expectMoved(w, to);
        expect((await w.zk.attachCluster('acme', { clusterId: 'c1' })).plan, `after crash ${k}`).toEqual([]);
      }
    },
  );

  it('refuses to move a Pod Identity cluster to another scope’s role (the association would be re-pointed), before anything is written', async () => {
    const w = world();
    const pod = {
      clusterId: 'c3',
      credentials: 'pod-identity',
      workloadIdentity: { eksClusterArn: EKS_C3 },
    } as const;
    await w.zk.attachCluster('acme', pod);
    const before = JSON.stringify([w.roles.snapshot(), w.pods.snapshot()]);
    const error = await rejectionOf(w.zk.attachCluster('acme', { ...pod, identityScope: 'cluster' }));
    expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
    expect(JSON.stringify([w.roles.snapshot(), w.pods.snapshot()])).toBe(before);
  });

  it("deleteOrganization removes every cluster's role (associations → policies → roles → providers), found by tag with the records lost", async () => {
    const w = world();
    await w.zk.attachCluster('acme', webC1);
    await w.zk.attachCluster('acme', {
      clusterId: 'c3',
      identityScope: 'cluster',
      credentials: 'pod-identity',
      workloadIdentity: { eksClusterArn: EKS_C3 },
    });
    await w.zk.attachCluster('globex', {
      clusterId: 'g1',
      identityScope: 'cluster',
      credentials: 'pod-identity',
      workloadIdentity: { eksClusterArn: EKS_G1 },
    });
    for (const id of ['c1', 'c3']) {
      await deleteClusterSecrets(w.secrets, 'acme', id, w.layout);
      await deleteClusterBinding(w.secrets, id, 'acme', w.layout);
    }
    const result = await w.zk.deleteOrganization('acme');
    const keyless = result.plan.find((s) => s.op === 'delete-keyless');
    expect(keyless && keyless.op === 'delete-keyless' ? keyless.steps.map((s) => s.op) : []).toEqual([
      'delete-pod-identity-association',
      'delete-role-policy',
      'delete-role',
      'delete-role-policy',
      'delete-role',
      'delete-oidc-provider',
    ]);
    expect(w.roles.snapshot().roles.map((r) => r.roleName)).toEqual([
      identityUserName({ baseDomain: BASE, organization: 'globex', clusterId: 'g1' }),
    ]);
    expect(w.roles.snapshot().oidcProviders).toEqual([]);
    expect(w.pods.snapshot().map((a) => a.clusterName)).toEqual(['g1']);
  });

  it('the collector, deleting an unused organisation, removes its cluster roles too', async () => {
    const w = world();
    w.inventory.set({ organization: 'acme', clusterId: 'c1', running: true });
    await w.zk.attachCluster('acme', webC1);
    w.inventory.set({ organization: 'acme', clusterId: 'c1', running: false });
    await w.clock.advance(3_600_000);
    const collected = await w.zk.collectGarbage();
    expect(collected.results.map((r) => [r.organization, r.status])).toEqual([['acme', 'deleted']]);
    expect(w.roles.snapshot()).toEqual({ roles: [], oidcProviders: [] });
  });
});
