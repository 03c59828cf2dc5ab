/**
 * The command over several AWS accounts (`--fleet <file>`), end to end through `runCli` with nothing
 * injected: the command reads the fleet file, assumes each account's role through STS on moto (behind
 * the fault proxy), builds Route 53 and IAM per account and Vault from the environment. moto answers
 * each request in the account of the credentials that signed it, so a zone made through account 222's
 * role exists only in 222. The tests run in order and build on each other.
 */

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IAMClient, ListAccessKeysCommand, ListUsersCommand } from '@aws-sdk/client-iam';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { type KubernetesFake, startKubernetesFake } from '@zonekeeper/kube-apiserver-fake';
import { type FaultProxy, startFaultProxy } from '@zonekeeper/testkit/fault-proxy';
import { type MotoServer, startMoto } from '@zonekeeper/testkit/moto';
import { startVaultFake, type VaultFake } from '@zonekeeper/testkit/vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everything, json, run } from './cli.test.support.js';

const BASE = 'example.com';
const ROOT = { accessKeyId: 'test', secretAccessKey: 'test' };
const A = '111111111111';
const B = '222222222222';
/** moto's account for credentials that assumed nothing. */
const DEFAULT = '123456789012';
const region = 'us-east-1';
const WRITES = /^(Create|Put|Change|Delete|Tag|Untag)/;

let moto: MotoServer;
let proxy: FaultProxy;
let vault: VaultFake;
let kube: KubernetesFake;
let dir: string;
let env: Record<string, string>;
let fleetFile: string;
let mixedFile: string;
let inventoryFile: string;
const credentialsOf = new Map<
  string,
  { accessKeyId: string; secretAccessKey: string; sessionToken: string }
>();

async function assume(account: string) {
  const sts = new STSClient({ region, endpoint: moto.endpoint, credentials: ROOT });
  const out = await sts.send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/zonekeeper`, RoleSessionName: 'test' }),
  );
  sts.destroy();
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error('no credentials');
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

/** A Route 53 client acting in `account` (straight to moto, not through the proxy). */
function route53In(account: string): Route53Client {
  const credentials = account === DEFAULT ? ROOT : (credentialsOf.get(account) ?? ROOT);
  return new Route53Client({ region, endpoint: moto.endpoint, credentials, maxAttempts: 1 });
}

async function zonesNamed(account: string, name: string): Promise<{ id: string; name: string }[]> {
  const r53 = route53In(account);
  try {
    const out = await r53.send(new ListHostedZonesByNameCommand({ DNSName: name }));
    return (out.HostedZones ?? [])
      .filter((z) => z.Name === `${name}.`)
      .map((z) => ({ id: (z.Id ?? '').replace('/hostedzone/', ''), name: z.Name ?? '' }));
  } finally {
    r53.destroy();
  }
}

async function usersIn(account: string): Promise<string[]> {
  const iam = new IAMClient({
    region,
    endpoint: moto.endpoint,
    credentials: credentialsOf.get(account) ?? ROOT,
  });
  const out = await iam.send(new ListUsersCommand({}));
  iam.destroy();
  return (out.Users ?? []).map((u) => u.UserName ?? '');
}

const roled = (id: string) => ({
  id,
  roleArn: `arn:aws:iam::${id}:role/zonekeeper`,
  requestsPerSecond: 1_000,
});

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy({ target: moto.endpoint, seed: 'cli-fleet' });
  vault = await startVaultFake();
  kube = await startKubernetesFake({ rolloutDelayMs: 20 });
  dir = await mkdtemp(join(tmpdir(), 'zonekeeper-cli-fleet-'));
  const kubeconfig = await kube.writeKubeconfig(dir, { name: 'prod-9' });
  for (const account of [A, B]) credentialsOf.set(account, await assume(account));
  // The parent zone: in A for the two-role fleet, in moto's default account for the mixed one.
  for (const account of [A, DEFAULT]) {
    const r53 = route53In(account);
    await r53.send(new CreateHostedZoneCommand({ Name: BASE, CallerReference: `parent-${account}` }));
    r53.destroy();
  }
  fleetFile = join(dir, 'fleet.json');
  await writeFile(fleetFile, JSON.stringify({ parent: { account: A }, accounts: [roled(A), roled(B)] }));
  // One account with the environment's own credentials (moto's default account), one through a role.
  mixedFile = join(dir, 'mixed.json');
  await writeFile(
    mixedFile,
    JSON.stringify({ accounts: [{ id: DEFAULT, requestsPerSecond: 1_000 }, roled(B)] }),
  );
  inventoryFile = join(dir, 'inventory.json');
  await writeFile(
    inventoryFile,
    JSON.stringify([
      { organization: 'acme', clusterId: 'prod-1', running: true },
      { organization: 'globex', clusterId: 'prod-2', running: true },
    ]),
  );
  env = {
    ZONEKEEPER_BASE_DOMAIN: BASE,
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ACCESS_KEY_ID: ROOT.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ROOT.secretAccessKey,
    AWS_REGION: region,
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

describe('zonekeeper --fleet over two accounts on moto', () => {
  it('org ensure places acme and globex in different accounts, each zone in its account only', async () => {
    proxy.clearLog();
    const a = await run(['org', 'ensure', 'acme', '--fleet', fleetFile, '--json'], env);
    expect(a.code, a.stderr).toBe(0);
    // A holds the parent zone (499 free), B is empty (500): acme goes to B.
    expect(json(a).result.account).toBe(B);
    const g = await run(['org', 'ensure', 'globex', '--fleet', fleetFile, '--json'], env);
    expect(g.code, g.stderr).toBe(0);
    expect(json(g).result.account).toBe(A);
    // The roles were assumed through STS (on the wire, through the proxy).
    expect(proxy.count({ service: 'sts', operation: 'AssumeRole' })).toBeGreaterThanOrEqual(2);

    expect(await zonesNamed(B, `acme.${BASE}`)).toHaveLength(1);
    expect(await zonesNamed(A, `acme.${BASE}`)).toHaveLength(0);
    expect(await zonesNamed(A, `globex.${BASE}`)).toHaveLength(1);
    expect(await zonesNamed(B, `globex.${BASE}`)).toHaveLength(0);
    expect(await zonesNamed(DEFAULT, `acme.${BASE}`)).toHaveLength(0);
  });

  it('org list names the account of every organisation (JSON rows and the table column); reads only', async () => {
    proxy.clearLog();
    const r = await run(['org', 'list', '--fleet', fleetFile, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const doc = json(r).result;
    expect(doc.accounts).toEqual([
      { account: A, ok: true },
      { account: B, ok: true },
    ]);
    expect(
      doc.organizations.map((o: { account: string; organization: string }) => [o.organization, o.account]),
    ).toEqual([
      ['globex', A],
      ['acme', B],
    ]);
    expect(proxy.count({ operation: WRITES })).toBe(0);

    const t = await run(['org', 'list', '--fleet', fleetFile], env);
    expect(t.code, t.stderr).toBe(0);
    // Plain columns off a terminal, headers in capitals: the account first.
    const header = t.stdout.split('\n').find((l) => l.includes('ORGANISATION')) ?? '';
    expect(header.trim().startsWith('ACCOUNT')).toBe(true);
    const acmeRow = t.stdout.split('\n').find((l) => l.includes('acme.example.com')) ?? '';
    expect(acmeRow.trim().startsWith(B)).toBe(true);
  });

  it('org show finds the organisation’s account; the delegation in A names the zone in B', async () => {
    const r = await run(['org', 'show', 'acme', '--fleet', fleetFile, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const d = json(r).result;
    expect(d.account).toBe(B);
    expect(d.delegation.state).toBe('present');
    const missing = await run(['org', 'show', 'initech', '--fleet', fleetFile, '--json'], env);
    expect(missing.code).toBe(3);
    expect(json(missing).error?.code).toBe('NOT_FOUND');
  });

  it('doctor audits every account (rows name their account), sends no write, exits 0 when clean', async () => {
    proxy.clearLog();
    const r = await run(['doctor', '--fleet', fleetFile, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const doc = json(r).result;
    expect(doc.accounts).toEqual([
      { account: A, ok: true },
      { account: B, ok: true },
    ]);
    expect([...doc.organizations].sort()).toEqual(['acme', 'globex']);
    expect(doc.summary.error).toBe(0);
    for (const f of doc.findings) expect([A, B]).toContain(f.account);
    expect(proxy.count({ operation: WRITES })).toBe(0);
  });

  it('doctor exits 5 for an error finding in one account, and the row names that account', async () => {
    // Remove acme's delegation from the parent zone in A by hand.
    const r53 = route53In(A);
    const [parent] = await zonesNamed(A, BASE);
    const records = await r53.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: parent?.id,
        StartRecordName: `acme.${BASE}`,
        StartRecordType: 'NS',
      }),
    );
    const ns = (records.ResourceRecordSets ?? []).find((x) => x.Name === `acme.${BASE}.` && x.Type === 'NS');
    expect(ns).toBeDefined();
    await r53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: parent?.id,
        ChangeBatch: { Changes: [{ Action: 'DELETE', ResourceRecordSet: ns }] },
      }),
    );
    r53.destroy();

    const r = await run(['doctor', '--fleet', fleetFile, '--json'], env);
    expect(r.code, r.stderr).toBe(5);
    const doc = json(r).result;
    const errors = doc.findings.filter((f: { severity: string }) => f.severity === 'error');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((f: { account: string; organization: string }) => f.organization === 'acme')).toBe(
      true,
    );
    expect(errors.every((f: { account: string }) => f.account === B)).toBe(true);
    const table = await run(['doctor', '--fleet', fleetFile], env);
    expect(table.code).toBe(5);
    const row = table.stdout.split('\n').find((l) => l.includes('delegation-missing')) ?? '';
    expect(row.trim().startsWith(`${B} `)).toBe(true);

    // The fix runs in acme's account and writes the delegation into A's parent zone.
    const fix = await run(['org', 'ensure', 'acme', '--fleet', fleetFile, '--json'], env);
    expect(fix.code, fix.stderr).toBe(0);
    expect((await run(['doctor', '--fleet', fleetFile, '--json'], env)).code).toBe(0);
  });

  it('gc plan sweeps every account; each zone names its account; nothing is deleted', async () => {
    proxy.clearLog();
    const r = await run(['gc', 'plan', '--fleet', fleetFile, '--inventory', inventoryFile, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const doc = json(r).result;
    expect(doc.accounts).toEqual([
      { account: A, ok: true },
      { account: B, ok: true },
    ]);
    const zones = doc.zones.map((z: { name: string; account: string; action: string }) => [
      z.name,
      z.account,
      z.action,
    ]);
    expect(zones).toEqual(
      expect.arrayContaining([
        [`globex.${BASE}`, A, 'keep'],
        [`acme.${BASE}`, B, 'keep'],
      ]),
    );
    expect(zones).toHaveLength(2);
    expect(proxy.count({ operation: WRITES })).toBe(0);
    const run1 = await run(['gc', 'run', '--fleet', fleetFile, '--inventory', inventoryFile, '--json'], env);
    expect(run1.code, run1.stderr).toBe(0);
    expect(json(run1).result.zones).toHaveLength(2);
  });

  it('the real bin (a separate process) sweeps both accounts: doctor --fleet exits 0 with both listed', async () => {
    const packageRoot = fileURLToPath(new URL('../..', import.meta.url));
    const base: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env))
      if (v !== undefined && !/^(AWS_|VAULT_|KUBECONFIG$|ZONEKEEPER_)/.test(k)) base[k] = v;
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@zonekeeper/source',
        'src/cli/bin.ts',
        'doctor',
        '--fleet',
        fleetFile,
        '-o',
        'json',
      ],
      { cwd: packageRoot, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(0);
    const doc = JSON.parse(stdout) as { result: { accounts: { account: string; ok: boolean }[] } };
    expect(doc.result.accounts).toEqual([
      { account: A, ok: true },
      { account: B, ok: true },
    ]);
  }, 60_000);

  it('gc run --watch runs every account’s loop; SIGTERM stops them all and exits 0', async () => {
    const controller = new AbortController();
    const stop = setTimeout(
      () => controller.abort(Object.assign(new Error('SIGTERM'), { signal: 'SIGTERM' })),
      4_000,
    );
    const r = await run(
      [
        'gc',
        'run',
        '--watch',
        '--fleet',
        fleetFile,
        '--inventory',
        inventoryFile,
        '--interval',
        '1s',
        '-o',
        'json',
      ],
      env,
      { signal: controller.signal },
    ).finally(() => clearTimeout(stop));
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const passes = lines.filter((l) => l.event === 'gc-pass');
    expect(new Set(passes.map((p) => p.account))).toEqual(new Set([A, B]));
    expect(passes.every((p) => p.ok)).toBe(true);
    expect(r.stderr).toContain(`account ${A}: gc pass 1`);
    const final = lines.at(-1);
    expect(final.result.stoppedBy).toBe('SIGTERM');
    expect(final.result.accounts.map((a: { account: string }) => a.account)).toEqual([A, B]);
  }, 30_000);

  it('cluster list sweeps every account', async () => {
    const r = await run(
      ['cluster', 'list', '--fleet', fleetFile, '--inventory', inventoryFile, '--json'],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const doc = json(r).result;
    expect(doc.accounts).toHaveLength(2);
    // Only the inventory knows these clusters (none attached): each is listed once.
    expect(doc.clusters.map((c: { clusterId: string }) => c.clusterId).sort()).toEqual(['prod-1', 'prod-2']);
  });
});

describe('zonekeeper org move --fleet on moto', () => {
  it('moves acme from B to A: zone, records, delegation, identity; the old zone and identity go', async () => {
    const [zone] = await zonesNamed(B, `acme.${BASE}`);
    const r53 = route53In(B);
    await r53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zone?.id,
        ChangeBatch: {
          Changes: [
            {
              Action: 'CREATE',
              ResourceRecordSet: {
                Name: `www.acme.${BASE}`,
                Type: 'A',
                TTL: 60,
                ResourceRecords: [{ Value: '192.0.2.7' }],
              },
            },
          ],
        },
      }),
    );
    r53.destroy();

    const plan = await run(
      ['org', 'move', 'acme', '--to', A, '--fleet', fleetFile, '--dry-run', '--json'],
      env,
    );
    expect(plan.code, plan.stderr).toBe(0);
    expect(json(plan).result).toMatchObject({ status: 'planned', from: B, to: A, applied: [] });
    expect(json(plan).result.planned).toEqual([
      'mark-moving',
      'create-zone',
      'tag-zone',
      'copy-records',
      'upsert-delegation',
      'mark-moved',
    ]);
    expect(await zonesNamed(A, `acme.${BASE}`)).toHaveLength(0);

    const r = await run(
      ['org', 'move', 'acme', '--to', A, '--drain', '0', '--fleet', fleetFile, '--json'],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(json(r).result).toMatchObject({ status: 'moved', from: B, to: A });
    expect(await zonesNamed(B, `acme.${BASE}`)).toHaveLength(0);
    const [moved] = await zonesNamed(A, `acme.${BASE}`);
    expect(moved).toBeDefined();
    const a53 = route53In(A);
    const records = await a53.send(new ListResourceRecordSetsCommand({ HostedZoneId: moved?.id }));
    a53.destroy();
    expect(
      (records.ResourceRecordSets ?? []).find((x) => x.Name === `www.acme.${BASE}.` && x.Type === 'A')
        ?.ResourceRecords,
    ).toEqual([{ Value: '192.0.2.7' }]);
    expect((await usersIn(B)).filter((u) => u.includes('acme'))).toEqual([]);
    expect((await usersIn(A)).filter((u) => u.includes('acme'))).toHaveLength(1);
    const show = await run(['org', 'show', 'acme', '--fleet', fleetFile, '--json'], env);
    expect(json(show).result).toMatchObject({ account: A, delegation: { state: 'present' } });
    expect(json(show).result.identity?.userName).toBeDefined();
    const again = await run(['org', 'move', 'acme', '--to', A, '--fleet', fleetFile, '--json'], env);
    expect(json(again).result).toMatchObject({ status: 'in-place', applied: [] });
    const doctor = await run(['doctor', '--fleet', fleetFile, '--json'], env);
    expect(doctor.code, JSON.stringify(json(doctor).result.findings)).toBe(0);
  });

  it('refuses a foreign zone at the organisation’s name in the target account, before any write', async () => {
    const r53 = route53In(B);
    await r53.send(new CreateHostedZoneCommand({ Name: `globex.${BASE}`, CallerReference: 'not-ours' }));
    r53.destroy();
    proxy.clearLog();
    const r = await run(['org', 'move', 'globex', '--to', B, '--fleet', fleetFile, '--json'], env);
    expect(r.code).toBe(3);
    expect(json(r).error?.code).toBe('CONFLICT');
    expect(json(r).error?.message).toContain('never adopts');
    expect(proxy.count({ operation: WRITES })).toBe(0);
    const bad = await run(
      ['org', 'move', 'globex', '--to', '999999999999', '--fleet', fleetFile, '--json'],
      env,
    );
    expect(bad.code).toBe(2);
    const single = await run(['org', 'move', 'globex', '--to', B, '--json'], env);
    expect(single.code).toBe(2);
  });
});

describe('zonekeeper org move --fleet with an attached cluster', () => {
  /** The cluster's ExternalDNS: the zone id it is filtered to, and the access key id of its Secret. */
  function externalDnsOnCluster() {
    const [deployment] = kube.objects({ kind: 'Deployment', namespace: 'external-dns' }) as unknown as {
      spec: { template: { spec: { containers: { args?: string[] }[] } } };
    }[];
    const args = deployment?.spec.template.spec.containers[0]?.args ?? [];
    const zoneId = args.find((a) => a.startsWith('--zone-id-filter='))?.slice('--zone-id-filter='.length);
    const secrets = kube.objects({ kind: 'Secret', namespace: 'external-dns' }) as unknown as {
      data?: Record<string, string>;
    }[];
    const text = secrets
      .flatMap((x) => Object.values(x.data ?? {}))
      .map((v) => Buffer.from(v, 'base64').toString('utf8'))
      .join('\n');
    return { zoneId, keyIds: [...text.matchAll(/aws_access_key_id\s*=\s*(\S+)/g)].map((m) => m[1]) };
  }

  async function keyIdsIn(account: string, userPart: string): Promise<string[]> {
    const iam = new IAMClient({
      region,
      endpoint: moto.endpoint,
      credentials: credentialsOf.get(account) ?? ROOT,
    });
    try {
      const users = ((await iam.send(new ListUsersCommand({}))).Users ?? []).filter((u) =>
        (u.UserName ?? '').includes(userPart),
      );
      const ids: string[] = [];
      for (const u of users)
        for (const k of (await iam.send(new ListAccessKeysCommand({ UserName: u.UserName })))
          .AccessKeyMetadata ?? [])
          ids.push(k.AccessKeyId ?? '');
      return ids;
    } finally {
      iam.destroy();
    }
  }

  it('cluster attach --fleet places initech and attaches its cluster there; org move rolls the cluster to the target account', async () => {
    const a = await run(['cluster', 'attach', 'initech', 'prod-9', '--fleet', fleetFile, '--json'], env);
    expect(a.code, a.stderr).toBe(0);
    const from = json(a).result.account as string;
    const to = from === A ? B : A;
    const [zoneBefore] = await zonesNamed(from, `initech.${BASE}`);
    const before = externalDnsOnCluster();
    expect(before.zoneId).toBe(zoneBefore?.id);
    expect(before.keyIds).toEqual(await keyIdsIn(from, 'initech'));

    const r = await run(
      ['org', 'move', 'initech', '--to', to, '--drain', '0', '--fleet', fleetFile, '--json'],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(json(r).result.applied).toEqual(
      expect.arrayContaining(['attach-cluster', 'release-cluster', 'delete-source']),
    );
    const [zoneAfter] = await zonesNamed(to, `initech.${BASE}`);
    expect(await zonesNamed(from, `initech.${BASE}`)).toEqual([]);
    const after = externalDnsOnCluster();
    // ExternalDNS now writes to the zone in the target account, with the target account's key.
    expect(after.zoneId).toBe(zoneAfter?.id);
    expect(after.keyIds).toHaveLength(1);
    expect(await keyIdsIn(to, 'initech')).toEqual(after.keyIds);
    expect(await keyIdsIn(from, 'initech')).toEqual([]);
    const list = await run(['cluster', 'list', '--fleet', fleetFile, '--org', 'initech', '--json'], env);
    expect(json(list).result.clusters).toEqual([
      expect.objectContaining({ account: to, clusterId: 'prod-9', attached: true }),
    ]);
    const detach = await run(['cluster', 'detach', 'initech', 'prod-9', '--fleet', fleetFile, '--json'], env);
    expect(detach.code, detach.stderr).toBe(0);
    expect(json(detach).result.account).toBe(to);
  }, 120_000);
});

describe('zonekeeper --fleet with one account failing', () => {
  it('doctor, org list and gc plan report the failed account, run the other, and exit with its code', async () => {
    // B's role cannot be assumed; the other account acts with the environment's own credentials.
    proxy.setRules([
      {
        service: 'sts',
        operation: 'AssumeRole',
        fault: { kind: 'error', code: 'AccessDenied', status: 403, message: 'not authorized to assume' },
      },
    ]);
    try {
      const d = await run(['doctor', '--fleet', mixedFile, '--json'], env);
      const doc = json(d).result;
      expect(doc.accounts[0]).toEqual({ account: DEFAULT, ok: true });
      expect(doc.accounts[1]).toMatchObject({ account: B, ok: false, error: { code: 'PERMISSION_DENIED' } });
      expect(doc.accounts[1].error.message).toContain(`arn:aws:iam::${B}:role/zonekeeper`);
      // PERMISSION_DENIED: exit 3, as for one account whose calls are refused.
      expect(d.code, d.stderr).toBe(3);
      expect(d.stderr).toContain(`account ${B}: PERMISSION_DENIED`);
      expect(d.stderr).toContain('1 other account(s) ran');

      const t = await run(['doctor', '--fleet', mixedFile], env);
      expect(t.code).toBe(3);
      expect(t.stdout).toContain(`Account ${B}: not audited: PERMISSION_DENIED`);
      expect(t.stdout).toContain('1 of 2 account(s) audited');

      const l = await run(['org', 'list', '--fleet', mixedFile, '--json'], env);
      expect(l.code).toBe(3);
      expect(json(l).result.accounts.map((a: { ok: boolean }) => a.ok)).toEqual([true, false]);

      const g = await run(['gc', 'plan', '--fleet', mixedFile, '--inventory', inventoryFile, '--json'], env);
      expect(g.code).toBe(3);
      expect(json(g).result.accounts.map((a: { ok: boolean }) => a.ok)).toEqual([true, false]);
      // Every AssumeRole of B was refused; the default account's calls went out.
      expect(proxy.count({ service: 'route53', faulted: false })).toBeGreaterThan(0);
    } finally {
      proxy.setRules([]);
    }
  });
});

describe('zonekeeper --fleet refuses bad input before any call', () => {
  it('a bad fleet file, an unknown key, a role of another account, a single-account command: exit 2, nothing sent', async () => {
    const bad = join(dir, 'bad.json');
    const cases: [string, string][] = [
      ['{"accounts": []}', 'non-empty'],
      [JSON.stringify({ accounts: [{ id: A, zoneQuta: 3 }] }), 'unknown key "zoneQuta"'],
      [JSON.stringify({ accounts: [{ id: A, roleArn: `arn:aws:iam::${B}:role/x` }] }), `account ${B}`],
      [JSON.stringify({ accounts: [{ id: A }, { id: A }] }), 'listed twice'],
      [JSON.stringify({ parent: { account: B }, accounts: [{ id: A }] }), 'not one of the accounts'],
      ['not json', 'not valid JSON'],
    ];
    proxy.clearLog();
    for (const [content, message] of cases) {
      await writeFile(bad, content);
      const r = await run(['doctor', '--fleet', bad, '--json'], env);
      expect(r.code, content).toBe(2);
      expect(json(r).error?.message).toContain(message);
    }
    const rotate = await run(['credentials', 'rotate', 'acme', '--fleet', fleetFile, '--json'], env);
    expect(rotate.code).toBe(2);
    expect(json(rotate).error?.message).toContain('does not take --fleet');
    const keyless = await run(
      [
        'cluster',
        'attach',
        'acme',
        'prod-9',
        '--credentials',
        'irsa',
        '--oidc-issuer',
        'https://oidc.example.com',
        '--fleet',
        fleetFile,
        '--json',
      ],
      env,
    );
    expect(keyless.code).toBe(2);
    expect(json(keyless).error?.message).toContain('access keys only');
    const both = await run(['doctor', '--fleet', fleetFile, '--parent-zone-id', 'Z123', '--json'], env);
    expect(both.code).toBe(2);
    expect(proxy.count()).toBe(0);
  });

  it('no private key in any output', () => {
    expect(everything()).not.toContain('PRIVATE KEY');
  });
});
