/**
 * Generic web identity, end to end with the real ExternalDNS binary and no key anywhere: the cluster's
 * service-account issuer (a test OIDC issuer on 127.0.0.1) is an IAM OIDC provider in moto, the
 * organisation's role trusts exactly that cluster's ExternalDNS service account
 * (`buildWebIdentityTrustPolicy`) and carries the zone policy (`buildZonePolicy`), and ExternalDNS is
 * rendered with `credentials: { mode: 'web-identity', roleArn }`. Its pod's projected token (signed by
 * the issuer with the volume's audience) is exchanged by the AWS SDK through STS
 * `AssumeRoleWithWebIdentity` for role credentials, and the records appear in the organisation's zone.
 *
 * moto checks nothing in that exchange, so the IAM enforcer checks it as STS does (token, provider,
 * audience, expiry, then the role's trust policy through the IAM simulator), and decides the Route 53
 * calls of the session with the role's policies. The attacks: another organisation's cluster, another
 * namespace and another service account in the right cluster, a token for another audience, a token
 * signed with a key the issuer does not publish — all refused, by the binary's own exchange where it
 * can run one, and nothing written to the organisation's zone.
 */

import { randomBytes } from 'node:crypto';
import type { ClusterClient } from '@zonekeeper/core';
import {
  applyExternalDns,
  type ExternalDnsCredentials,
  renderExternalDns,
} from '@zonekeeper/externaldns-deployer';
import { createKubernetesCluster } from '@zonekeeper/externaldns-deployer/kubernetes';
import {
  buildWebIdentityTrustPolicy,
  buildZonePolicy,
  identityUserName,
  minifyPolicy,
  minifyTrustPolicy,
} from '@zonekeeper/iam-scoper';
import { createIamOidcProviderRegistry, createIamRoleProvider } from '@zonekeeper/iam-scoper/iam';
import { startTestOidcIssuer, type TestOidcIssuer } from '@zonekeeper/testkit/oidc-issuer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  BASE_DOMAIN,
  desiredChanges,
  ELB_HOSTNAME,
  errorLines,
  startWorld,
  type World,
} from '../world.js';

const run = randomBytes(3).toString('hex');
let world: World;
/** acme's cluster c1, globex's cluster g1. */
let issuers: Record<'c1' | 'g1', TestOidcIssuer>;
const roleArns: Record<string, string> = {};

const SERVICE = (name: string, host: string) => `
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: shop
  annotations:
    external-dns.kubernetes.io/hostname: ${host}
spec:
  type: LoadBalancer
  ports: [{ port: 443 }]
`;

async function clusterClient(clusterId: string): Promise<ClusterClient> {
  const fake = await world.cluster(clusterId);
  return createKubernetesCluster({ name: clusterId, kubeconfigYaml: fake.kubeconfig().yaml });
}

/** Renders and applies ExternalDNS of `organization` in `clusterId` with the given credentials. */
async function deploy(
  organization: string,
  clusterId: string,
  credentials: ExternalDnsCredentials,
  extra: { readonly namespace?: string; readonly name?: string } = {},
): Promise<void> {
  const zoneName = `${organization}.${BASE_DOMAIN}`;
  const objects = renderExternalDns({
    clusterId,
    organization,
    zoneName,
    zoneId: await world.zoneId(zoneName),
    credentials,
    createNamespace: true,
    ...extra,
  });
  await applyExternalDns(await clusterClient(clusterId), objects, {}, { rolloutTimeoutMs: 30_000 });
}

/** A direct, unsigned AssumeRoleWithWebIdentity through the enforcer (as the AWS SDK sends it). */
async function exchange(roleArn: string, token: string): Promise<{ status: number; body: string }> {
  const response = await fetch(world.enforcer.endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: new URLSearchParams({
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: roleArn,
      RoleSessionName: 'attacker',
      WebIdentityToken: token,
    }).toString(),
  });
  return { status: response.status, body: await response.text() };
}

beforeAll(async () => {
  issuers = {
    c1: await startTestOidcIssuer({ issuer: `https://oidc-${run}.zonekeeper.test/clusters/c1` }),
    g1: await startTestOidcIssuer({ issuer: `https://oidc-${run}.zonekeeper.test/clusters/g1` }),
  };
  world = await startWorld({ issuers });
  const aws = { endpoint: world.moto.endpoint, region: 'us-east-1', credentials: ADMIN };
  const roles = createIamRoleProvider(aws);
  const oidc = createIamOidcProviderRegistry(aws);
  const tags = { 'zonekeeper:managed-by': 'zonekeeper' };
  for (const [organization, clusterId] of [
    ['acme', 'c1'],
    ['globex', 'g1'],
  ] as const) {
    await world.zk.ensureOrganization(organization);
    const issuer = issuers[clusterId];
    await oidc.createOidcProvider({ url: issuer.issuer, clientIds: ['sts.amazonaws.com'], tags });
    const roleName = identityUserName({ baseDomain: BASE_DOMAIN, organization });
    const zoneName = `${organization}.${BASE_DOMAIN}`;
    const role = await roles.createRole({
      roleName,
      path: '/zonekeeper/',
      trustPolicy: minifyTrustPolicy(
        buildWebIdentityTrustPolicy({
          accountId: '123456789012',
          clusters: [{ issuerUrl: issuer.issuer, namespace: 'external-dns', serviceAccount: 'external-dns' }],
        }),
      ),
      tags,
    });
    await roles.putRolePolicy(
      roleName,
      `${roleName}.route53`,
      minifyPolicy(buildZonePolicy({ zoneId: await world.zoneId(zoneName), zoneName })),
    );
    roleArns[organization] = role.arn;
  }
  await world.kubectl('c1', ['apply', '-f', '-'], SERVICE('web', 'web.acme.example.com'));
  await world.setLoadBalancer('c1', 'service', 'shop', 'web', ELB_HOSTNAME);
  await world.kubectl('g1', ['apply', '-f', '-'], SERVICE('grab', 'grab.acme.example.com'));
  await world.setLoadBalancer('g1', 'service', 'shop', 'grab', ELB_HOSTNAME);
}, 120_000);

afterAll(async () => {
  await world?.stop();
  for (const i of Object.values(issuers ?? {})) await i?.stop();
});

describe('generic web identity with the real ExternalDNS', { timeout: 120_000 }, () => {
  it("exchanges the pod's projected token for the role's credentials and writes the records, every call allowed", async () => {
    await deploy('acme', 'c1', { mode: 'web-identity', roleArn: roleArns.acme as string });
    // No credentials Secret in the cluster: the only AWS credential is the role session.
    const fake = await world.cluster('c1');
    expect(
      fake.get({
        apiVersion: 'v1',
        kind: 'Secret',
        namespace: 'external-dns',
        name: 'external-dns-aws-credentials',
      }),
    ).toBeUndefined();
    world.enforcer.clearLog();
    const result = await world.runOnce('c1');
    expect(errorLines(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(result.accessKeyId).toBe('');
    expect(desiredChanges(result)).toContain('CREATE web.acme.example.com A');

    const exchanges = world.enforcer.log.filter((e) => e.operation === 'AssumeRoleWithWebIdentity');
    expect(exchanges.map((e) => [e.decision, e.webIdentity?.sub, e.resources[0]])).toEqual([
      ['allowed', 'system:serviceaccount:external-dns:external-dns', roleArns.acme],
    ]);
    expect(world.enforcer.denials()).toEqual([]);
    const writes = world.enforcer.log.filter((e) => e.operation === 'ChangeResourceRecordSets');
    expect(writes.length).toBeGreaterThan(0);
    for (const w of writes) {
      expect(w.decision).toBe('allowed');
      expect(w.principal).toMatch(
        /^arn:aws:sts::123456789012:assumed-role\/zk-[0-9a-f]{8}\.acme\/external-dns\.c1$/,
      );
    }
    const records = (await world.records('acme.example.com')).map((r) => r.split(' ').slice(0, 2).join(' '));
    expect(records).toContain('web.acme.example.com. A');
  });

  it("another organisation's cluster pointed at acme's role gets no credentials, and writes nothing", async () => {
    // globex's ExternalDNS, tampered to assume acme's role (its own issuer is registered and trusted by globex's role).
    await deploy('globex', 'g1', { mode: 'web-identity', roleArn: roleArns.acme as string });
    const before = await world.records('acme.example.com');
    world.enforcer.clearLog();
    const result = await world.runOnce('g1', { timeoutMs: 60_000 });
    expect(result.exitCode).not.toBe(0);
    const exchanges = world.enforcer.log.filter((e) => e.operation === 'AssumeRoleWithWebIdentity');
    expect(exchanges.length).toBeGreaterThan(0);
    for (const e of exchanges)
      expect([e.decision, e.webIdentity?.refusal]).toEqual(['denied', 'AccessDenied']);
    expect(world.enforcer.count({ operation: 'ChangeResourceRecordSets' })).toBe(0);
    expect(await world.records('acme.example.com')).toEqual(before);
  });

  it('in the right cluster, another namespace or another service account is refused by the trust policy', async () => {
    const acme = roleArns.acme as string;
    const c1 = issuers.c1;
    const cases = [
      c1.serviceAccountToken({ namespace: 'shop', serviceAccount: 'external-dns' }),
      c1.serviceAccountToken({ namespace: 'external-dns', serviceAccount: 'default' }),
      c1.serviceAccountToken({ namespace: 'kube-system', serviceAccount: 'external-dns' }),
    ];
    for (const token of cases) {
      const { status, body } = await exchange(acme, token);
      expect(status).toBe(403);
      expect(body).toContain('<Code>AccessDenied</Code>');
      expect(body).not.toContain('<AccessKeyId>');
    }
    // The real binary in the same cluster, under another service account: refused as well.
    await deploy(
      'acme',
      'c1',
      { mode: 'web-identity', roleArn: acme },
      { namespace: 'dns', name: 'intruder' },
    );
    world.enforcer.clearLog();
    const result = await world.runOnce('c1', { ref: { namespace: 'dns', name: 'intruder' } });
    expect(result.exitCode).not.toBe(0);
    const refused = world.enforcer.log.filter((e) => e.operation === 'AssumeRoleWithWebIdentity');
    expect(refused.length).toBeGreaterThan(0);
    for (const e of refused)
      expect([e.decision, e.webIdentity?.sub]).toEqual(['denied', 'system:serviceaccount:dns:intruder']);
  });

  it('a token for another audience, expired, or signed with an unpublished key gets no credentials', async () => {
    const acme = roleArns.acme as string;
    const c1 = issuers.c1;
    const who = { namespace: 'external-dns', serviceAccount: 'external-dns' };
    const cases: [string, string, string][] = [
      ['audience', c1.serviceAccountToken({ ...who, audience: 'vault' }), 'InvalidIdentityToken'],
      ['expired', c1.serviceAccountToken({ ...who, lifetimeSeconds: -60 }), 'ExpiredTokenException'],
      ['forged', c1.serviceAccountToken(who, { key: 'unknown' }), 'InvalidIdentityToken'],
      ['garbage', 'not-a-jwt', 'InvalidIdentityToken'],
    ];
    for (const [what, token, code] of cases) {
      const { status, body } = await exchange(acme, token);
      expect([what, status >= 400, body.includes(`<Code>${code}</Code>`)]).toEqual([what, true, true]);
      expect(body).not.toContain('<AccessKeyId>');
    }
    // The right token gets credentials (the refusals above are the checks, not a broken exchange).
    const ok = await exchange(acme, c1.serviceAccountToken(who));
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('<AccessKeyId>');
  });

  it("a role session's key is worth nothing without its session token", async () => {
    const ok = await exchange(
      roleArns.acme as string,
      issuers.c1.serviceAccountToken({ namespace: 'external-dns', serviceAccount: 'external-dns' }),
    );
    const keyId = /<AccessKeyId>([^<]+)</.exec(ok.body)?.[1] as string;
    const response = await fetch(`${world.enforcer.endpoint}/2013-04-01/hostedzone`, {
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=${keyId}/20260101/us-east-1/route53/aws4_request, SignedHeaders=host, Signature=00`,
        'x-amz-security-token': 'forged',
      },
    });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('InvalidClientTokenId');
  });
});
