/**
 * The facade's keyless credentials with the real ExternalDNS, on IAM (moto) through the IAM enforcer:
 * a cluster attached with the organisation's key moves to generic web identity
 * (`attachCluster(…, { credentials: 'web-identity', workloadIdentity: { issuerUrl } })`) and back, and
 * ExternalDNS keeps writing the organisation's zone with every call allowed. After the move the key is
 * retired: the pod that still held it (saved before the move) is refused. Another organisation
 * naming the same issuer is refused before anything is written. Last, the cluster moves to a role of
 * its own (identity scope `cluster`), whose session writes the cluster's names.
 */

import { randomBytes } from 'node:crypto';
import { hasErrorCode, type KubernetesObject } from '@zonekeeper/core';
import { createIamIdentityProvider, createIamRoleProvider } from '@zonekeeper/iam-scoper/iam';
import { startTestOidcIssuer, type TestOidcIssuer } from '@zonekeeper/testkit/oidc-issuer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSavedPodOnce } from '../external-dns/pod.js';
import { ADMIN, desiredChanges, ELB_HOSTNAME, errorLines, startWorld, type World } from '../world.js';

const run = randomBytes(3).toString('hex');
let world: World;
let issuer: TestOidcIssuer;

const service = (name: string) => `
apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: shop
  annotations:
    external-dns.kubernetes.io/hostname: ${name}.acme.example.com
spec:
  type: LoadBalancer
  ports: [{ port: 443 }]
`;

async function expose(name: string): Promise<void> {
  await world.kubectl('c1', ['apply', '-f', '-'], service(name));
  await world.setLoadBalancer('c1', 'service', 'shop', name, ELB_HOSTNAME);
}

beforeAll(async () => {
  issuer = await startTestOidcIssuer({ issuer: `https://oidc-${run}.zonekeeper.test/clusters/c1` });
  world = await startWorld({ issuers: { c1: issuer } });
  await world.kubectl('c1', ['create', 'namespace', 'shop']);
}, 120_000);

afterAll(async () => {
  await world?.stop();
  await issuer?.stop();
});

describe('attachCluster: key → web identity → key, with the real ExternalDNS', { timeout: 120_000 }, () => {
  let saved: { deployment: KubernetesObject; secret: KubernetesObject } | undefined;

  it('with the key: records written by the IAM user', async () => {
    const attached = await world.zk.attachCluster('acme', { clusterId: 'c1' });
    expect(attached.credentials).toBe('access-key');
    await expose('web');
    world.enforcer.clearLog();
    const result = await world.runOnce('c1');
    expect(errorLines(result)).toEqual([]);
    expect(desiredChanges(result)).toContain('CREATE web.acme.example.com A');
    expect(world.enforcer.denials()).toEqual([]);
    const fake = await world.cluster('c1');
    saved = {
      deployment: fake.get({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        namespace: 'external-dns',
        name: 'external-dns',
      }) as KubernetesObject,
      secret: fake.get({
        apiVersion: 'v1',
        kind: 'Secret',
        namespace: 'external-dns',
        name: 'external-dns-aws-credentials',
      }) as KubernetesObject,
    };
    expect(saved.secret).toBeDefined();
  });

  it('moved to web identity: the role writes the records, the Secret is gone and the IAM user and its key are retired', async () => {
    const moved = await world.zk.attachCluster('acme', {
      clusterId: 'c1',
      credentials: 'web-identity',
      workloadIdentity: { issuerUrl: issuer.issuer },
    });
    expect(moved.plan.map((s) => s.op)).toEqual([
      'ensure-role',
      'apply-external-dns',
      'delete-credentials-secret',
      'record-credentials',
      'retire-organization-key',
    ]);
    await expose('api');
    world.enforcer.clearLog();
    const result = await world.runOnce('c1');
    expect(errorLines(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(desiredChanges(result)).toContain('CREATE api.acme.example.com A');
    expect(world.enforcer.denials()).toEqual([]);
    const exchange = world.enforcer.log.filter((e) => e.operation === 'AssumeRoleWithWebIdentity');
    expect(exchange.map((e) => [e.decision, e.resources[0]])).toEqual([['allowed', moved.roleArn]]);
    for (const w of world.enforcer.log.filter((e) => e.operation === 'ChangeResourceRecordSets'))
      expect(w.principal).toMatch(/:assumed-role\//);
    const iam = createIamIdentityProvider({ endpoint: world.moto.endpoint, credentials: ADMIN });
    // Nothing runs the organisation's IAM user any more: it is gone with its key.
    expect((await iam.listUsers('/zonekeeper/')).filter((u) => u.userName.endsWith('.acme'))).toEqual([]);
    // The pod that never rolled still holds the old key: it is refused now.
    const fake = await world.cluster('c1');
    const stale = await runSavedPodOnce(
      { cluster: fake, awsEndpoint: world.enforcer.endpoint },
      saved?.deployment as KubernetesObject,
      [saved?.secret as KubernetesObject],
    );
    expect(stale.exitCode).not.toBe(0);
    expect(world.enforcer.count({ decision: 'unauthenticated' })).toBeGreaterThan(0);
  });

  it("another organisation naming acme's cluster issuer is refused, and nothing of acme's changes", async () => {
    const roles = createIamRoleProvider({ endpoint: world.moto.endpoint, credentials: ADMIN });
    const before = JSON.stringify(await roles.listRoles('/zonekeeper/'));
    let error: unknown;
    try {
      await world.zk.attachCluster('globex', {
        clusterId: 'g1',
        credentials: 'web-identity',
        workloadIdentity: { issuerUrl: issuer.issuer },
      });
    } catch (e) {
      error = e;
    }
    expect(hasErrorCode(error, 'NOT_OWNED')).toBe(true);
    expect(JSON.stringify(await roles.listRoles('/zonekeeper/'))).toBe(before);
  });

  it('moved back to a key: a new key, the records still written, the role gone', async () => {
    const back = await world.zk.attachCluster('acme', { clusterId: 'c1', credentials: 'access-key' });
    expect(back.accessKeyId).toBeDefined();
    await expose('shop');
    world.enforcer.clearLog();
    const result = await world.runOnce('c1');
    expect(errorLines(result)).toEqual([]);
    expect(result.accessKeyId).toBe(back.accessKeyId);
    expect(desiredChanges(result)).toContain('CREATE shop.acme.example.com A');
    expect(world.enforcer.denials()).toEqual([]);
    const roles = createIamRoleProvider({ endpoint: world.moto.endpoint, credentials: ADMIN });
    expect(await roles.listRoles('/zonekeeper/')).toEqual([]);
    const records = (await world.records('acme.example.com')).map((r) => r.split(' ').slice(0, 2).join(' '));
    for (const name of ['web', 'api', 'shop']) expect(records).toContain(`${name}.acme.example.com. A`);
  });

  it("moved to a role of its own (identity scope cluster): the cluster's role writes the cluster's names, the organisation's key is retired", async () => {
    const own = await world.zk.attachCluster('acme', {
      clusterId: 'c1',
      identityScope: 'cluster',
      credentials: 'web-identity',
      workloadIdentity: { issuerUrl: issuer.issuer },
    });
    expect(own.roleArn).toMatch(/:role\/zonekeeper\/zk-[0-9a-f]{8}\.acme\.c1$/);
    expect(own.plan.map((s) => s.op)).toEqual([
      'record-attachment',
      'ensure-role',
      'apply-external-dns',
      'delete-credentials-secret',
      'record-credentials',
      'retire-organization-key',
    ]);
    const roles = createIamRoleProvider({ endpoint: world.moto.endpoint, credentials: ADMIN });
    expect((await roles.listRoles('/zonekeeper/')).map((r) => r.arn)).toEqual([own.roleArn]);
    await world.kubectl(
      'c1',
      ['apply', '-f', '-'],
      service('own').replace('own.acme.example.com', 'own.c1.acme.example.com'),
    );
    await world.setLoadBalancer('c1', 'service', 'shop', 'own', ELB_HOSTNAME);
    world.enforcer.clearLog();
    const result = await world.runOnce('c1');
    expect(errorLines(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(desiredChanges(result)).toContain('CREATE own.c1.acme.example.com A');
    expect(world.enforcer.denials()).toEqual([]);
    const exchange = world.enforcer.log.filter((e) => e.operation === 'AssumeRoleWithWebIdentity');
    expect(exchange.map((e) => [e.decision, e.resources[0]])).toEqual([['allowed', own.roleArn]]);
    for (const w of world.enforcer.log.filter((e) => e.operation === 'ChangeResourceRecordSets'))
      expect(w.principal).toMatch(/:assumed-role\/zk-[0-9a-f]{8}\.acme\.c1\//);
    const iam = createIamIdentityProvider({ endpoint: world.moto.endpoint, credentials: ADMIN });
    expect((await iam.listUsers('/zonekeeper/')).filter((u) => u.userName.includes('.acme'))).toEqual([]);
    await world.zk.detachCluster('acme', 'c1');
    expect(await roles.listRoles('/zonekeeper/')).toEqual([]);
  });
});
