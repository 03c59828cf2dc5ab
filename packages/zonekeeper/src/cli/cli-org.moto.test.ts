/**
 * The operator commands end to end — `org list`, `org show`, `org delete`, `cluster list` — in-process
 * through `runCli` (Route 53 and IAM on moto behind the fault proxy, Vault on the testkit fake, the
 * cluster on the Kubernetes API fake), and the confirmation prompt through the real bin on a terminal
 * (`script` gives it a pseudo-terminal). The tests run in order and build on each other.
 */

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { maskSecret } from '@zonekeeper/core';
import { createIamIdentityProvider } from '@zonekeeper/iam-scoper/iam';
import { type KubernetesFake, startKubernetesFake } from '@zonekeeper/kube-apiserver-fake';
import { type FaultProxy, startFaultProxy } from '@zonekeeper/testkit/fault-proxy';
import { type MotoServer, startMoto } from '@zonekeeper/testkit/moto';
import { startVaultFake, type VaultFake } from '@zonekeeper/testkit/vault';
import { listSecretsRecursively, readAccessKey, type SecretStore } from '@zonekeeper/vault-keys';
import { createVaultSecretStore } from '@zonekeeper/vault-keys/vault';
import type { DnsProvider } from '@zonekeeper/zone-manager';
import { createRoute53Provider } from '@zonekeeper/zone-manager/route53';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, json, run } from './cli.test.support.js';

const BASE = 'example.com';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const LAYOUT = { prefix: `zonekeeper/platforms/${BASE}`, owner: BASE };
const WRITES = /^(Create|Put|Change|Delete|Tag|Untag)/;

let moto: MotoServer;
let proxy: FaultProxy;
let vault: VaultFake;
let kube: KubernetesFake;
let dir: string;
let dns: DnsProvider;
let iam: ReturnType<typeof createIamIdentityProvider>;
let store: SecretStore;
let env: Record<string, string>;
let inventoryFile: string;
const secrets = new Set<string>();

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy({ target: moto.endpoint, seed: 'cli-org' });
  vault = await startVaultFake();
  kube = await startKubernetesFake({ rolloutDelayMs: 20 });
  dir = await mkdtemp(join(tmpdir(), 'zonekeeper-cli-org-'));
  const kubeconfig = await kube.writeKubeconfig(dir, { name: 'prod-1' });
  dns = createRoute53Provider({ endpoint: moto.endpoint, credentials, requestsPerSecond: 1_000 });
  iam = createIamIdentityProvider({ endpoint: moto.endpoint, credentials });
  store = createVaultSecretStore({ endpoint: vault.endpoint, token: vault.rootToken });
  await dns.createZone({ name: BASE, callerReference: 'cli-org-parent', comment: 'parent' });
  inventoryFile = join(dir, 'inventory.json');
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

/** Route 53 through the proxy without the default rate limit's waits. */
const shim = () => ({
  deps: { dns: createRoute53Provider({ endpoint: proxy.endpoint, credentials, requestsPerSecond: 1_000 }) },
});

function expectClean(r: CliRun) {
  const text = `${r.stdout}\n${r.stderr}`;
  expect(text).not.toContain('PRIVATE KEY');
  for (const s of secrets) expect(text).not.toContain(s);
}

/** A terminal's stdin that answers `line`. */
const tty = (line: string) => Object.assign(Readable.from([`${line}\n`]), { isTTY: true });

async function acmeKeyId(): Promise<string> {
  const key = await readAccessKey(store, { organization: 'acme' }, LAYOUT);
  if (key) secrets.add(key.secretAccessKey);
  return key?.accessKeyId as string;
}

describe('zonekeeper org list / org show / cluster list', () => {
  it('setup: acme with a cluster and a certificate, globex without', async () => {
    const a = await run(['cluster', 'attach', 'acme', 'prod-1'], env, shim());
    expect(a.code, a.stderr).toBe(0);
    const c = await run(
      ['cert', 'issue', 'www.acme.example.com', '--org', 'acme', '--name', 'web', '--quiet'],
      env,
      shim(),
    );
    expect(c.code, c.stderr).toBe(0);
    const g = await run(['org', 'ensure', 'globex'], env, shim());
    expect(g.code, g.stderr).toBe(0);
    await acmeKeyId();
  });

  it('org list: both organisations, with zones, IAM users and clusters; reads only', async () => {
    proxy.clearLog();
    const r = await run(['org', 'list', '--json'], env, shim());
    expect(r.code, r.stderr).toBe(0);
    const list = json(r).result.organizations;
    expect(list.map((o: { organization: string }) => o.organization)).toEqual(['acme', 'globex']);
    expect(list[0]).toMatchObject({ status: 'active', clusters: ['prod-1'] });
    expect(list[0].zones[0].name).toBe('acme.example.com');
    expect(list[0].userNames).toHaveLength(1);
    expect(proxy.count({ operation: WRITES })).toBe(0);
    const text = await run(['org', 'list'], env, shim());
    expect(text.stdout).toMatch(/^acme {3,}active {3,}acme\.example\.com /m);
    expect(text.stdout).toContain('globex.example.com');
  });

  it('org show: zone, delegation, identity, masked key with its IAM age, cluster, certificate; the GC decision with --inventory', async () => {
    await writeFile(
      inventoryFile,
      JSON.stringify([{ organization: 'acme', clusterId: 'prod-1', running: true }]),
    );
    proxy.clearLog();
    vault.clearRequests();
    const r = await run(['org', 'show', 'acme', '--inventory', inventoryFile, '--json'], env, shim());
    expect(r.code, r.stderr).toBe(0);
    const d = json(r).result;
    const keyId = await acmeKeyId();
    expect(d).toMatchObject({
      organization: 'acme',
      exists: true,
      zone: { name: 'acme.example.com', protected: false },
      delegation: { state: 'present' },
      identity: { policyOk: true, problem: null },
      accessKey: { accessKeyId: maskSecret(keyId, 4), inIam: true },
      clusters: [{ clusterId: 'prod-1', scope: 'organization', bound: true }],
      certificates: [{ name: 'web', dnsNames: ['www.acme.example.com'] }],
      garbageCollection: { inventory: 'read', inUse: true, decision: { action: 'keep', reason: 'IN_USE' } },
    });
    expect(d.accessKey.ageSeconds).toBeGreaterThanOrEqual(0);
    expect(r.stdout).not.toContain(keyId);
    expectClean(r);
    expect(proxy.count({ operation: WRITES })).toBe(0);
    expect(vault.requests.filter((q) => q.method !== 'GET' && q.method !== 'LIST')).toEqual([]);

    const text = await run(['org', 'show', 'acme'], env, shim());
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^Delegation: +present$/m);
    expect(text.stdout).toMatch(/pass --inventory/);
    expect(text.stdout).toContain(maskSecret(keyId, 4));
    expectClean(text);
  });

  it('cluster list: attachments with the inventory view; --org filters', async () => {
    await writeFile(
      inventoryFile,
      JSON.stringify([
        { organization: 'acme', clusterId: 'prod-1', running: true },
        { organization: 'globex', clusterId: 'g-1', running: false },
      ]),
    );
    const r = await run(['cluster', 'list', '--inventory', inventoryFile, '--json'], env, shim());
    expect(r.code, r.stderr).toBe(0);
    expect(json(r).result.clusters).toEqual([
      expect.objectContaining({
        organization: 'acme',
        clusterId: 'prod-1',
        attached: true,
        bound: true,
        scope: 'organization',
        namespace: 'external-dns',
        inventory: 'running',
      }),
      expect.objectContaining({
        organization: 'globex',
        clusterId: 'g-1',
        attached: false,
        inventory: 'stopped',
      }),
    ]);
    const only = await run(['cluster', 'list', '--org', 'globex', '--json'], env, shim());
    expect(json(only).result.clusters).toEqual([]);
    const bad = await run(['cluster', 'list', '--org', 'Bad_Org'], env, shim());
    expect(bad.code).toBe(2);
  });
});

describe('zonekeeper org delete', () => {
  it('without --yes and without a terminal: exit 2 naming --yes, before any call', async () => {
    proxy.clearLog();
    vault.clearRequests();
    const r = await run(['org', 'delete', 'acme'], env, shim());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pass --yes/);
    expect(proxy.count()).toBe(0);
    expect(vault.requests).toHaveLength(0);
  });

  it('refused while a cluster is attached: exit 3 naming cluster detach, nothing deleted', async () => {
    proxy.clearLog();
    const r = await run(['org', 'delete', 'acme', '--yes', '--json'], env, shim());
    expect(r.code).toBe(3);
    expect(json(r)).toMatchObject({ ok: false, exitCode: 3, error: { code: 'CONFLICT' } });
    expect(r.stderr).toMatch(/attached clusters \(prod-1\); run 'zonekeeper cluster detach acme <cluster>'/);
    expect(proxy.count({ operation: WRITES })).toBe(0);
  });

  it('after a detach, --dry-run lists the plan and changes nothing', async () => {
    const d = await run(['cluster', 'detach', 'acme', 'prod-1'], env, shim());
    expect(d.code, d.stderr).toBe(0);
    proxy.clearLog();
    const r = await run(['org', 'delete', 'acme', '--dry-run', '--json'], env, shim());
    expect(r.code, r.stderr).toBe(0);
    const view = json(r).result;
    expect(view).toMatchObject({ organization: 'acme', dryRun: true, existed: true });
    expect(view.steps.map((s: { op: string }) => s.op)).toEqual([
      'delete-delegation',
      'delete-zone',
      'delete-access-key',
      'delete-policy',
      'delete-user',
      'delete-secrets',
      'forget-lock',
    ]);
    expect(proxy.count({ operation: WRITES })).toBe(0);
    expect(await dns.findZonesByName('acme.example.com')).toHaveLength(1);
    expectClean(r);
  });

  it('on a terminal, a wrong name refuses (exit 2) and deletes nothing', async () => {
    proxy.clearLog();
    const r = await run(['org', 'delete', 'acme'], env, { ...shim(), stdin: tty('acmx') });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Type its name \(acme\) to confirm/);
    expect(r.stderr).toMatch(/did not match/);
    expect(proxy.count({ operation: WRITES })).toBe(0);
    expect(await dns.findZonesByName('acme.example.com')).toHaveLength(1);
  });

  it('the real bin on a terminal: typing the name deletes zone, identity and secrets; globex stays', async () => {
    const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
    const command = [
      process.execPath,
      '--import',
      'tsx',
      '--conditions=@zonekeeper/source',
      'src/cli/bin.ts',
      'org',
      'delete',
      'acme',
      '--requests-per-second',
      '100',
    ]
      .map((a) => `'${a}'`)
      .join(' ');
    const child = spawn('script', ['-qefc', command, '/dev/null'], {
      cwd: packageRoot,
      env: { ...process.env, ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      output += s;
      if (/to confirm:/.test(output) && !child.stdin.writableEnded) child.stdin.end('acme\n');
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    expect(code, output).toBe(0);
    expect(output).toMatch(/Deleted organisation acme/);
    expect(await dns.findZonesByName('acme.example.com')).toHaveLength(0);
    const parent = (await dns.findZonesByName(BASE))[0];
    const records = await dns.listRecords(parent?.id as string, { maxItems: 300 });
    expect(records.recordSets.filter((s) => s.name === 'acme.example.com')).toEqual([]);
    expect(records.recordSets.some((s) => s.name === 'globex.example.com' && s.type === 'NS')).toBe(true);
    expect((await iam.listUsers('/zonekeeper/')).map((u) => u.tags['zonekeeper:organization'])).toEqual([
      'globex',
    ]);
    expect(await listSecretsRecursively(store, `${LAYOUT.prefix}/orgs/acme`)).toEqual([]);
    expect(await store.read(`${LAYOUT.prefix}/locks/acme`)).toBeUndefined();
    for (const s of secrets) expect(output).not.toContain(s);
  }, 120_000);

  it('again with --yes: nothing to delete, exit 0, no write', async () => {
    proxy.clearLog();
    const r = await run(['org', 'delete', 'acme', '--yes'], env, shim());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Nothing to delete/);
    expect(proxy.count({ operation: WRITES })).toBe(0);
    const list = await run(['org', 'list', '--json'], env, shim());
    expect(json(list).result.organizations.map((o: { organization: string }) => o.organization)).toEqual([
      'globex',
    ]);
  });
});
