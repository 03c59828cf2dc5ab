/**
 * The `zonekeeper` command end to end, in-process through `runCli`: Route 53 and IAM on moto behind the
 * fault proxy (to count calls), Vault on the testkit fake, clusters on the Kubernetes API fake through a
 * kubeconfig it wrote. One moto for the file; the tests run in order and build on each other.
 */

import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { maskSecret, type ObjectRef } from '@zonekeeper/core';
import { createIamIdentityProvider, createIamRoleProvider } from '@zonekeeper/iam-scoper/iam';
import { type KubernetesFake, startKubernetesFake } from '@zonekeeper/kube-apiserver-fake';
import { type FaultProxy, startFaultProxy } from '@zonekeeper/testkit/fault-proxy';
import { type MotoServer, startMoto } from '@zonekeeper/testkit/moto';
import { startVaultFake, type VaultFake } from '@zonekeeper/testkit/vault';
import { readAccessKey, readCertificate, type SecretStore } from '@zonekeeper/vault-keys';
import { createVaultSecretStore } from '@zonekeeper/vault-keys/vault';
import type { DnsProvider } from '@zonekeeper/zone-manager';
import { createRoute53Provider } from '@zonekeeper/zone-manager/route53';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clusterIntervalSeconds,
  clusterMinEventSyncSeconds,
  clusterZonesCacheSeconds,
  goDuration,
  planFleetBudget,
} from '../fleet/budget.js';
import { createMemoryInventory } from '../inventory.js';
import { type CliRun, everything, json, run } from './cli.test.support.js';

const BASE = 'example.com';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
/** Where the facade keeps its secrets (the default layout of the base domain). */
const LAYOUT = { prefix: `zonekeeper/platforms/${BASE}`, owner: BASE };

let moto: MotoServer;
let proxy: FaultProxy;
let vault: VaultFake;
let kube: KubernetesFake;
let dir: string;
let kubeconfig: string;
/** Straight to moto (not through the proxy): for seeding and inspecting. */
let dns: DnsProvider;
let iam: ReturnType<typeof createIamIdentityProvider>;
/** Straight to the Vault fake: for inspecting. */
let store: SecretStore;
let env: Record<string, string>;
/** Every secret seen in Vault during the file: none may ever appear in any output. */
const secrets = new Set<string>();

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy({ target: moto.endpoint, seed: 'cli' });
  vault = await startVaultFake();
  kube = await startKubernetesFake({ rolloutDelayMs: 20 });
  dir = await mkdtemp(join(tmpdir(), 'zonekeeper-cli-'));
  kubeconfig = await kube.writeKubeconfig(dir, { name: 'prod-1' });
  dns = createRoute53Provider({ endpoint: moto.endpoint, credentials, requestsPerSecond: 1_000 });
  iam = createIamIdentityProvider({ endpoint: moto.endpoint, credentials });
  store = createVaultSecretStore({ endpoint: vault.endpoint, token: vault.rootToken });
  await dns.createZone({
    name: BASE,
    callerReference: 'cli-test-parent',
    comment: 'parent of the CLI tests',
  });
  env = {
    ZONEKEEPER_BASE_DOMAIN: BASE,
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: 'us-east-1',
    VAULT_ADDR: vault.endpoint,
    VAULT_TOKEN: vault.rootToken,
    KUBECONFIG: kubeconfig,
    HOME: dir,
  };
});

afterAll(async () => {
  await kube?.stop();
  await vault?.stop();
  await proxy?.stop();
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Remembers the organisation's current secret access key (to search outputs for it later). */
async function rememberKey(organization: string, clusterId?: string) {
  const key = await readAccessKey(store, clusterId ? { organization, clusterId } : { organization }, LAYOUT);
  if (key) secrets.add(key.secretAccessKey);
  return key;
}

function expectClean(r: CliRun) {
  const text = `${r.stdout}\n${r.stderr}`;
  expect(text).not.toContain('PRIVATE KEY');
  for (const s of secrets) expect(text).not.toContain(s);
}

const zonesNamed = (name: string) => dns.findZonesByName(name);
const objectRef = (kind: string, namespace: string, name: string, apiVersion = 'v1'): ObjectRef => ({
  apiVersion,
  kind,
  namespace,
  name,
});
const deploymentRef = objectRef('Deployment', 'external-dns', 'external-dns', 'apps/v1');

describe('zonekeeper org ensure', () => {
  it('creates the zone, identity, key and CA; prints a table with the key id masked', async () => {
    proxy.clearLog();
    const r = await run(['org', 'ensure', 'acme'], env);
    expect(r.stderr).toContain('zonekeeper org ensure: acme');
    expect(r.code, r.stderr).toBe(0);
    const key = await rememberKey('acme');
    expect(key).toBeDefined();
    const keyId = key?.accessKeyId as string;
    expect(r.stdout).toContain('acme.example.com');
    expect(r.stdout).toContain(maskSecret(keyId, 4));
    expect(r.stdout).not.toContain(keyId);
    expect(r.stderr).not.toContain(keyId);
    expect(r.stdout).toMatch(/create-zone/);
    expectClean(r);
    expect(proxy.count({ operation: 'CreateHostedZone' })).toBe(1);
    expect(proxy.count({ operation: 'CreateAccessKey' })).toBe(1);
    expect(await zonesNamed('acme.example.com')).toHaveLength(1);
  });

  it('--json: one document, converged (no steps), key id masked, no secret', async () => {
    proxy.clearLog();
    const r = await run(['org', 'ensure', 'acme', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const doc = json(r);
    const key = await rememberKey('acme');
    expect(doc).toMatchObject({ ok: true, command: 'org ensure', exitCode: 0 });
    expect(doc.result.steps).toEqual([]);
    expect(doc.result.zone.name).toBe('acme.example.com');
    expect(doc.result.accessKeyId).toBe(maskSecret(key?.accessKeyId as string, 4));
    expect(doc.result.accessKeyId).toMatch(/^\*{8}[A-Z0-9]{4}$/);
    expect(r.stdout).not.toContain(key?.accessKeyId);
    expectClean(r);
    expect(proxy.count({ operation: /^(Create|Put|Change|Delete|Tag)/ })).toBe(0);
  });

  it('--dry-run of a new organisation plans and changes nothing', async () => {
    proxy.clearLog();
    const r = await run(['org', 'ensure', 'beta', '--dry-run', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r).result.steps.map((s: { op: string }) => s.op)).toEqual(
      expect.arrayContaining(['create-zone', 'create-user', 'issue-key', 'create-ca']),
    );
    expect(proxy.count({ operation: /^(Create|Put|Change|Delete|Tag)/ })).toBe(0);
    expect(await zonesNamed('beta.example.com')).toHaveLength(0);
  });

  it('an invalid organisation name exits 2 with the message, before any call', async () => {
    proxy.clearLog();
    vault.clearRequests();
    const r = await run(['org', 'ensure', 'Bad_Org'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/INVALID_INPUT: Organisation name "Bad_Org"/);
    expect(r.stdout).toBe('');
    expect(proxy.count()).toBe(0);
    expect(vault.requests).toHaveLength(0);
  });

  it('a same-named zone zonekeeper does not own: NOT_OWNED, exit 3, nothing created', async () => {
    await dns.createZone({ name: 'taken.example.com', callerReference: 'someone-else', comment: 'not ours' });
    proxy.clearLog();
    const r = await run(['org', 'ensure', 'taken', '--json'], env);
    expect(r.code).toBe(3);
    expect(json(r)).toMatchObject({ ok: false, exitCode: 3, error: { code: 'NOT_OWNED' } });
    expect(r.stderr).toMatch(/NOT_OWNED/);
    expect(proxy.count({ operation: /^(Create|Put|Change|Delete|Tag)/ })).toBe(0);
    expect(await zonesNamed('taken.example.com')).toHaveLength(1);
  });
});

describe('zonekeeper cluster attach / credentials rotate / cluster detach (Kubernetes fake)', () => {
  /** Route 53 through the proxy with a generous rate limit, so the tests do not wait on the 5 req/s default. */
  const shim = () => ({
    deps: { dns: createRoute53Provider({ endpoint: proxy.endpoint, credentials, requestsPerSecond: 1_000 }) },
  });

  it('attach deploys ExternalDNS and a TLS Secret, rollout awaited; no secret printed', async () => {
    const r = await run(
      [
        'cluster',
        'attach',
        'acme',
        'prod-1',
        '--cert',
        'web:default:www.acme.example.com,api.acme.example.com',
      ],
      env,
      shim(),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ExternalDNS rollout: +1\/1 available/m);
    expect(r.stdout).toContain('Deployment/external-dns/external-dns');
    const deployment = kube.get(deploymentRef);
    expect(deployment).toBeDefined();
    const tls = kube.get(objectRef('Secret', 'default', 'web'));
    expect(tls?.type).toBe('kubernetes.io/tls');
    const cert = await readCertificate(store, 'acme', 'web', LAYOUT);
    secrets.add(cert?.privateKeyPem as string);
    await rememberKey('acme');
    expectClean(r);
  });

  it('attach again with --json converges (no ExternalDNS change) and prints no secret', async () => {
    const r = await run(
      [
        'cluster',
        'attach',
        'acme',
        'prod-1',
        '--cert',
        'web:default:www.acme.example.com,api.acme.example.com',
        '--json',
      ],
      env,
      shim(),
    );
    expect(r.code, r.stderr).toBe(0);
    const doc = json(r);
    expect(doc.result.steps).toEqual([]);
    expect(doc.result.certificates[0]).toMatchObject({
      name: 'web',
      dnsNames: ['www.acme.example.com', 'api.acme.example.com'],
    });
    expectClean(r);
  });

  it('a cluster without a kubeconfig context exits 2 before any AWS call', async () => {
    proxy.clearLog();
    const r = await run(['cluster', 'attach', 'acme', 'nowhere'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/context "nowhere"/);
    expect(r.stderr).toMatch(/--context nowhere=<context>/);
    expect(proxy.count()).toBe(0);
  });

  it('bad ExternalDNS flags exit 2 before any call', async () => {
    proxy.clearLog();
    vault.clearRequests();
    kube.clearRequests();
    for (const extra of [
      ['--interval', '10s'],
      ['--policy', 'delete-everything'],
      ['--image', 'external-dns'],
      ['--cert', 'web:default:www.elsewhere.org'],
    ]) {
      const r = await run(['cluster', 'attach', 'acme', 'prod-1', ...extra], env);
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/INVALID_INPUT/);
    }
    expect(proxy.count()).toBe(0);
    expect(vault.requests).toHaveLength(0);
    expect(kube.requests).toHaveLength(0);
  });

  it('--context maps another cluster id to a kubeconfig context', async () => {
    const r = await run(
      ['cluster', 'attach', 'acme', 'edge', '--context', 'edge=prod-1', '--dry-run', '--json'],
      env,
      shim(),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(json(r).result).toMatchObject({ clusterId: 'edge', dryRun: true });
  });

  it('credentials rotate: new key in Vault and in the cluster, old key deleted; masked output', async () => {
    const before = await rememberKey('acme');
    const secretBefore = kube.get(objectRef('Secret', 'external-dns', 'external-dns-aws-credentials'));
    const r = await run(['credentials', 'rotate', 'acme', '--json'], env, shim());
    expect(r.code, r.stderr).toBe(0);
    const after = await rememberKey('acme');
    expect(after?.accessKeyId).not.toBe(before?.accessKeyId);
    const doc = json(r);
    expect(doc.result.rotations).toEqual([
      expect.objectContaining({
        outcome: 'rotated',
        newAccessKeyId: maskSecret(after?.accessKeyId as string, 4),
        deletedAccessKeyIds: [maskSecret(before?.accessKeyId as string, 4)],
        clustersUpdated: ['prod-1'],
      }),
    ]);
    const keys = await iam.listAccessKeys(after?.userName as string);
    expect(keys.map((k) => k.accessKeyId)).toEqual([after?.accessKeyId]);
    const secretAfter = kube.get(objectRef('Secret', 'external-dns', 'external-dns-aws-credentials'));
    if (secretBefore) expect(secretAfter?.data).not.toEqual(secretBefore.data);
    expect(r.stdout).not.toContain(after?.accessKeyId);
    expect(r.stdout).not.toContain(before?.accessKeyId);
    expectClean(r);
  });

  it('an interrupt (abort) during the rollout wait exits 130; the next run finishes the job', async () => {
    // A second cluster whose rollouts take a minute.
    const slow = await startKubernetesFake({ rolloutDelayMs: 60_000 });
    try {
      const slowConfig = await slow.writeKubeconfig(await mkdtemp(join(dir, 'slow-')), { name: 'slow' });
      const controller = new AbortController();
      const started = Date.now();
      const pending = run(['cluster', 'attach', 'acme', 'slow', '--kubeconfig', slowConfig], env, {
        ...shim(),
        signal: controller.signal,
      });
      const deployment = async () => {
        while (!slow.get(deploymentRef)) await new Promise((r) => setTimeout(r, 20));
      };
      await deployment();
      controller.abort(new DOMException('Interrupted by SIGINT.', 'AbortError'));
      const r = await pending;
      expect(r.code, r.stderr).toBe(130);
      expect(r.stderr).toMatch(/interrupted/);
      expect(Date.now() - started).toBeLessThan(20_000);
      const doc = await run(
        ['cluster', 'attach', 'acme', 'slow', '--kubeconfig', slowConfig, '--json'],
        env,
        {
          ...shim(),
          signal: AbortSignal.abort(new DOMException('Interrupted by SIGINT.', 'AbortError')),
        },
      );
      expect(doc.code).toBe(130);
      expect(json(doc)).toMatchObject({ ok: false, exitCode: 130, error: { code: 'ABORTED' } });
      // The next run finishes the job (a changed interval makes a new rollout, which now completes quickly).
      slow.setRolloutDelay(10);
      const again = await run(
        ['cluster', 'attach', 'acme', 'slow', '--kubeconfig', slowConfig, '--interval', '2m'],
        env,
        shim(),
      );
      expect(again.code, again.stderr).toBe(0);
      const detach = await run(
        ['cluster', 'detach', 'acme', 'slow', '--kubeconfig', slowConfig],
        env,
        shim(),
      );
      expect(detach.code, detach.stderr).toBe(0);
    } finally {
      await slow.stop();
    }
  });

  it('cluster detach removes ExternalDNS and the TLS Secret', async () => {
    const dry = await run(['cluster', 'detach', 'acme', 'prod-1', '--dry-run'], env, shim());
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/dry run/);
    expect(kube.get(deploymentRef)).toBeDefined();
    const r = await run(['cluster', 'detach', 'acme', 'prod-1'], env, shim());
    expect(r.code, r.stderr).toBe(0);
    await kube.settle();
    expect(kube.get(deploymentRef)).toBeUndefined();
    expect(kube.get(objectRef('Secret', 'default', 'web'))).toBeUndefined();
    expectClean(r);
  });

  it('--identity-scope cluster: a cluster-scoped IAM user, removed again on detach', async () => {
    const r = await run(
      [
        'cluster',
        'attach',
        'delta',
        'prod-1',
        '--identity-scope',
        'cluster',
        '--annotation-prefix',
        'external-dns.alpha.kubernetes.io/',
        '--zones-cache-duration',
        '30m',
        '--external-dns-arg=--events',
        '--json',
      ],
      env,
      shim(),
    );
    expect(r.code, r.stderr).toBe(0);
    // The ExternalDNS flags reach the Deployment, and the cluster scope narrows its domain filter.
    const args = (
      kube.get(deploymentRef) as unknown as {
        spec: { template: { spec: { containers: { args: string[] }[] } } };
      }
    ).spec.template.spec.containers[0]?.args;
    expect(args).toEqual(
      expect.arrayContaining([
        '--annotation-prefix=external-dns.alpha.kubernetes.io/',
        '--aws-zones-cache-duration=30m',
        '--aws-zone-match-parent',
        '--txt-prefix=_extdns-%{record_type}.',
        '--events',
      ]),
    );
    expect(args?.find((a) => a.startsWith('--domain-filter='))).toMatch(/^--domain-filter=prod-1\.delta\./);
    const doc = json(r);
    const user = doc.result.clusterUserName as string;
    expect(user).toMatch(/delta/);
    expect(doc.result.steps.map((s: { stage: string }) => s.stage)).toContain('cluster identity');
    await rememberKey('delta', 'prod-1');
    expect(await iam.getUser(user)).toBeDefined();
    expectClean(r);
    const d = await run(
      ['cluster', 'detach', 'delta', 'prod-1', '--identity-scope', 'cluster', '--json'],
      env,
      shim(),
    );
    expect(d.code, d.stderr).toBe(0);
    expect(json(d).result.deletedIdentities).toEqual([user]);
    expect(await iam.getUser(user)).toBeUndefined();
  });

  it("--fleet-budget renders the planner's settings: the cluster's own interval and cache, --events, the event spacing, the batch size", async () => {
    const plan = planFleetBudget({ organizations: 300, clustersPerOrganization: 3, recordSetsPerZone: 40 });
    if (plan.outcome !== 'fits') throw new Error(plan.message);
    const file = join(dir, 'fleet-plan.json');
    await writeFile(file, JSON.stringify(plan));
    const r = await run(
      ['cluster', 'attach', 'delta', 'prod-1', '--fleet-budget', file, '--json'],
      env,
      shim(),
    );
    expect(r.code, r.stderr).toBe(0);
    await rememberKey('delta');
    const args = (
      kube.get(deploymentRef) as unknown as {
        spec: { template: { spec: { containers: { args: string[] }[] } } };
      }
    ).spec.template.spec.containers[0]?.args;
    const s = plan.settings;
    expect(args).toEqual(
      expect.arrayContaining([
        `--interval=${goDuration(clusterIntervalSeconds(s, 'prod-1'))}`,
        `--aws-zones-cache-duration=${goDuration(clusterZonesCacheSeconds(s, 'prod-1'))}`,
        '--events',
        `--min-event-sync-interval=${goDuration(clusterMinEventSyncSeconds(s, 'prod-1'))}`,
        `--aws-batch-change-size=${s.batchChangeSize}`,
      ]),
    );
    expectClean(r);
    const d = await run(['cluster', 'detach', 'delta', 'prod-1', '--json'], env, shim());
    expect(d.code, d.stderr).toBe(0);
  });
});

describe('zonekeeper cluster attach --credentials', () => {
  const issuer = 'https://oidc.zonekeeper.test/clusters/prod-1';
  const roles = () => createIamRoleProvider({ endpoint: moto.endpoint, credentials });
  const shim = () => ({
    deps: { dns: createRoute53Provider({ endpoint: proxy.endpoint, credentials, requestsPerSecond: 1_000 }) },
  });

  it('web-identity: the role on IAM (trust of the cluster, zone policy), ExternalDNS without a Secret; detach removes them', async () => {
    const refused = await run(
      [
        'cluster',
        'attach',
        'epsilon',
        'prod-1',
        '--credentials',
        'web-identity',
        '--oidc-issuer',
        issuer,
        '--json',
      ],
      env,
      shim(),
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr + refused.stdout).toMatch(/--aws-account-id/);
    const r = await run(
      [
        'cluster',
        'attach',
        'epsilon',
        'prod-1',
        '--credentials',
        'web-identity',
        '--oidc-issuer',
        issuer,
        '--aws-account-id',
        '123456789012',
        '--namespace',
        'dns-keyless',
        '--json',
      ],
      env,
      shim(),
    );
    expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0);
    const doc = json(r);
    expect(doc.result.credentials).toBe('web-identity');
    expect(doc.result.accessKeyId ?? null).toBeNull();
    const roleArn = doc.result.roleArn as string;
    expect(roleArn).toMatch(/^arn:aws:iam::123456789012:role\/zonekeeper\/zk-[0-9a-f]{8}\.epsilon$/);
    const role = await roles().getRole(roleArn.split('/').pop() as string);
    expect(role?.trustPolicy).toContain('oidc.zonekeeper.test/clusters/prod-1:sub');
    const env0 = (
      kube.get(objectRef('Deployment', 'dns-keyless', 'external-dns', 'apps/v1')) as unknown as {
        spec: { template: { spec: { containers: { env: { name: string; value: string }[] }[] } } };
      }
    ).spec.template.spec.containers[0]?.env;
    expect(env0?.find((e) => e.name === 'AWS_ROLE_ARN')?.value).toBe(roleArn);
    expect(kube.get(objectRef('Secret', 'dns-keyless', 'external-dns-aws-credentials'))).toBeUndefined();
    expectClean(r);
    const d = await run(
      ['cluster', 'detach', 'epsilon', 'prod-1', '--aws-account-id', '123456789012', '--json'],
      env,
      shim(),
    );
    expect(d.code, d.stderr).toBe(0);
    expect(await roles().getRole(roleArn.split('/').pop() as string)).toBeUndefined();
  });

  it('--scope cluster: the cluster’s own role on IAM (tagged with it, trust of it alone, the cluster’s names); detach removes it', async () => {
    const r = await run(
      [
        'cluster',
        'attach',
        'zeta',
        'prod-1',
        '--scope',
        'cluster',
        '--credentials',
        'web-identity',
        '--oidc-issuer',
        issuer,
        '--aws-account-id',
        '123456789012',
        '--namespace',
        'dns-own',
        '--json',
      ],
      env,
      shim(),
    );
    expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0);
    const doc = json(r);
    const roleArn = doc.result.roleArn as string;
    expect(roleArn).toMatch(/^arn:aws:iam::123456789012:role\/zonekeeper\/zk-[0-9a-f]{8}\.zeta\.prod-1$/);
    const roleName = roleArn.split('/').pop() as string;
    const role = await roles().getRole(roleName);
    expect(role?.tags).toMatchObject({ 'zonekeeper:organization': 'zeta', 'zonekeeper:cluster': 'prod-1' });
    const trust = JSON.parse(role?.trustPolicy ?? '{}') as { Statement: unknown[] };
    expect(trust.Statement).toHaveLength(1);
    expect(role?.trustPolicy).toContain('system:serviceaccount:dns-own:external-dns');
    const policy = await roles().getRolePolicy(roleName, `${roleName}.route53`);
    expect(policy).toContain('prod-1.zeta.');
    // Neither an organisation role nor an IAM user for it.
    expect((await roles().listRoles('/zonekeeper/')).map((x) => x.roleName)).toEqual([roleName]);
    expect((await iam.listUsers('/zonekeeper/')).filter((u) => u.userName.includes('.zeta'))).toEqual([]);
    const env0 = (
      kube.get(objectRef('Deployment', 'dns-own', 'external-dns', 'apps/v1')) as unknown as {
        spec: { template: { spec: { containers: { env: { name: string; value: string }[] }[] } } };
      }
    ).spec.template.spec.containers[0]?.env;
    expect(env0?.find((e) => e.name === 'AWS_ROLE_ARN')?.value).toBe(roleArn);
    expectClean(r);
    const d = await run(
      ['cluster', 'detach', 'zeta', 'prod-1', '--aws-account-id', '123456789012', '--json'],
      env,
      shim(),
    );
    expect(d.code, d.stderr).toBe(0);
    expect(await roles().getRole(roleName)).toBeUndefined();
    expect(await roles().listRoles('/zonekeeper/')).toEqual([]);
  });
});

describe('zonekeeper cert issue', () => {
  it('--out writes tls.crt (chain), tls.key (0600) and ca.crt; openssl reads the certificate', async () => {
    const out = join(dir, 'certs');
    const r = await run(
      ['cert', 'issue', 'shop.acme.example.com', '*.shop.acme.example.com', '--org', 'acme', '--out', out],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const again = await run(
      [
        'cert',
        'issue',
        'shop.acme.example.com',
        '*.shop.acme.example.com',
        '--org',
        'acme',
        '--out',
        out,
        '--json',
      ],
      env,
    );
    expect(again.code, again.stderr).toBe(0);
    expect(json(again).result).toMatchObject({
      steps: [],
      files: {
        'tls.crt': join(out, 'tls.crt'),
        'tls.key': join(out, 'tls.key'),
        'ca.crt': join(out, 'ca.crt'),
      },
    });
    const mode = async (f: string) => (await stat(join(out, f))).mode & 0o777;
    expect(await mode('tls.key')).toBe(0o600);
    expect(await mode('tls.crt')).toBe(0o644);
    expect(await mode('ca.crt')).toBe(0o644);
    const key = await readFile(join(out, 'tls.key'), 'utf8');
    expect(key).toContain('PRIVATE KEY');
    secrets.add(key.trim());
    const chain = await readFile(join(out, 'tls.crt'), 'utf8');
    expect(chain.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    const subject = execFileSync('openssl', ['x509', '-noout', '-subject', '-in', join(out, 'tls.crt')], {
      encoding: 'utf8',
    });
    expect(subject).toMatch(/CN\s*=\s*shop\.acme\.example\.com/);
    execFileSync('openssl', ['verify', '-CAfile', join(out, 'ca.crt'), join(out, 'tls.crt')]);
    expect(r.stdout).toContain('tls.key');
    expectClean(r);
  });

  it('without --out prints the summary and the PEM chain, never the private key', async () => {
    const r = await run(
      ['cert', 'issue', 'shop.acme.example.com', '*.shop.acme.example.com', '--org', 'acme'],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('-----BEGIN CERTIFICATE-----');
    expect(r.stdout).toMatch(/^Certificate: +shop$/m);
    const stored = await readCertificate(store, 'acme', 'shop', LAYOUT);
    expect(r.stdout).toContain(stored?.chainPem.trim());
    expectClean(r);

    const quiet = await run(
      ['cert', 'issue', 'shop.acme.example.com', '*.shop.acme.example.com', '--org', 'acme', '-q'],
      env,
    );
    expect(quiet.code).toBe(0);
    expect(quiet.stdout.trim()).toBe(stored?.chainPem.trim());
    expect(quiet.stderr).toBe('');

    const doc = await run(
      ['cert', 'issue', 'shop.acme.example.com', '--name', 'shop2', '--org', 'acme', '--json'],
      env,
    );
    expect(doc.code, doc.stderr).toBe(0);
    const parsed = json(doc);
    expect(parsed.result.certificatePem).toContain('BEGIN CERTIFICATE');
    expect(parsed.result.certificate.dnsNames).toEqual(['shop.acme.example.com']);
    const shop2 = await readCertificate(store, 'acme', 'shop2', LAYOUT);
    secrets.add(shop2?.privateKeyPem as string);
    expectClean(doc);
  });

  it('names outside the organisation zone exit 2 before Vault is asked', async () => {
    vault.clearRequests();
    const r = await run(['cert', 'issue', 'www.other.org', '--org', 'acme'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not within the organisation's zone acme\.example\.com/);
    expect(vault.requests).toHaveLength(0);
  });
});

describe('zonekeeper gc plan / gc run with an inventory file', () => {
  const inventoryFile = () => join(dir, 'inventory.json');
  const writeInventory = (records: unknown) => writeFile(inventoryFile(), JSON.stringify(records));

  it('without --inventory: fails closed, nonzero exit, nothing read or deleted', async () => {
    proxy.clearLog();
    vault.clearRequests();
    for (const cmd of [
      ['gc', 'plan'],
      ['gc', 'run'],
    ]) {
      const r = await run(cmd, env);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/needs the cluster inventory: pass --inventory/);
      expect(r.stderr).toMatch(/fail closed/);
    }
    expect(proxy.count()).toBe(0);
    expect(vault.requests).toHaveLength(0);
    expect(await zonesNamed('acme.example.com')).toHaveLength(1);
  });

  it('a malformed inventory file exits 2, nothing deleted', async () => {
    await writeFile(inventoryFile(), '{"organization": "acme"');
    proxy.clearLog();
    const r = await run(['gc', 'run', '--inventory', inventoryFile()], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not valid JSON/);
    await writeInventory([{ organization: 'acme', clusterId: 'prod-1', running: 'yes' }]);
    const r2 = await run(['gc', 'run', '--inventory', inventoryFile()], env);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/running must be a boolean/);
    expect(proxy.count()).toBe(0);
  });

  it('a running cluster keeps the zone', async () => {
    await writeInventory([{ organization: 'acme', clusterId: 'prod-1', running: true }]);
    const r = await run(['gc', 'run', '--inventory', inventoryFile(), '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const zone = json(r).result.zones.find((z: { organization: string }) => z.organization === 'acme');
    expect(zone).toMatchObject({ action: 'keep', reason: 'IN_USE', result: null });
    expect(await zonesNamed('acme.example.com')).toHaveLength(1);
  });

  it('gc plan --now: a week later the unused zone waits for the charge', async () => {
    await writeInventory([{ organization: 'acme', clusterId: 'prod-1', running: false }]);
    const weekLater = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const r = await run(['gc', 'plan', '--inventory', inventoryFile(), '--now', weekLater], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/acme\.example\.com/);
    expect(r.stdout).toMatch(/ALREADY_CHARGED|BEFORE_NEXT_CHARGE/);
    expect(await zonesNamed('acme.example.com')).toHaveLength(1);
  });

  it('gc run --dry-run deletes nothing; gc run deletes the fresh unused zone for free, with identity and secrets', async () => {
    proxy.clearLog();
    const dry = await run(['gc', 'run', '--dry-run', '--inventory', inventoryFile()], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/FREE_DELETION_WINDOW/);
    expect(proxy.count({ operation: 'DeleteHostedZone' })).toBe(0);

    const userName = (await readAccessKey(store, { organization: 'acme' }, LAYOUT))?.userName as string;
    const r = await run(['gc', 'run', '--inventory', inventoryFile(), '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const zone = json(r).result.zones.find((z: { organization: string }) => z.organization === 'acme');
    expect(zone).toMatchObject({
      action: 'delete',
      reason: 'FREE_DELETION_WINDOW',
      result: { status: 'deleted' },
    });
    expect(await zonesNamed('acme.example.com')).toHaveLength(0);
    expect(await iam.getUser(userName)).toBeUndefined();
    expect(await readAccessKey(store, { organization: 'acme' }, LAYOUT)).toBeUndefined();
    expect(await zonesNamed('taken.example.com')).toHaveLength(1);
    expectClean(r);
  });

  it('an injected inventory that cannot be read: nothing deleted, exit 4', async () => {
    const ok = await run(['org', 'ensure', 'gamma'], env);
    expect(ok.code, ok.stderr).toBe(0);
    await rememberKey('gamma');
    const inventory = createMemoryInventory();
    inventory.failNext(1);
    const r = await run(['gc', 'run'], env, { deps: { inventory } });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/UNAVAILABLE: Cluster inventory could not be read/);
    expect(await zonesNamed('gamma.example.com')).toHaveLength(1);
  });
});

describe('exit codes of unreachable services', () => {
  it('an unreachable Vault exits 4 (retry later)', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    proxy.clearLog();
    const r = await run(['credentials', 'rotate', 'gamma', '--json'], {
      ...env,
      VAULT_ADDR: `http://127.0.0.1:${port}`,
    });
    expect(r.code).toBe(4);
    expect(json(r)).toMatchObject({ ok: false, exitCode: 4, error: { code: 'UNAVAILABLE' } });
    expect(r.stderr).toMatch(/Vault is unreachable/);
    expect(r.stderr).not.toContain(vault.rootToken);
  });

  it('no VAULT_TOKEN exits 2 and says where the token comes from', async () => {
    const { VAULT_TOKEN: _token, ...rest } = env;
    const r = await run(['org', 'ensure', 'acme'], rest);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/VAULT_TOKEN is not set/);
  });
});

describe('secrets in output', () => {
  it('no output of this file contains a secret access key, a private key or the Vault token', async () => {
    await rememberKey('gamma');
    const text = everything();
    expect(secrets.size).toBeGreaterThanOrEqual(4);
    for (const s of secrets) expect(text).not.toContain(s);
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain(vault.rootToken);
    expect(text).not.toMatch(/\bAKIA[A-Z0-9]{16}\b/);
  });
});
