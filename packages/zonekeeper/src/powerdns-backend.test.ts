/**
 * The facade on the PowerDNS backend (`createZonekeeper({ powerdns })`), on a real `pdns_server`, the
 * memory secret store and memory clusters: each organisation's identity is one TSIG key, stored first,
 * ExternalDNS is rendered with `--provider=rfc2136` and that key, and offboarding removes it. Every
 * promise is checked by trying to break it: another organisation's key, a key planted on the server,
 * secrets in results and logs, bad configuration before any request.
 */

import { hasErrorCode, type KubernetesObject } from '@zonekeeper/core';
import type { MemoryCluster } from '@zonekeeper/externaldns-deployer';
import { dig, nsupdate, type PowerDnsServer, startPowerDns } from '@zonekeeper/testkit/powerdns';
import { secretPaths, writeTsigKey } from '@zonekeeper/vault-keys';
import {
  createPowerDnsAdmin,
  createPowerDnsHttpApi,
  createPowerDnsProvider,
  type PowerDnsApi,
} from '@zonekeeper/zone-manager/powerdns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PowerDnsBackendConfig, ZonekeeperConfig } from './config.js';
import { everythingIn, rejectionOf } from './memory.test.support.js';
import { powerDnsPlatform } from './powerdns.test.support.js';
import { createZonekeeper } from './zonekeeper.js';

let pdns: PowerDnsServer;
let rawApi: PowerDnsApi;

beforeAll(async () => {
  pdns = await startPowerDns();
  rawApi = createPowerDnsHttpApi({ apiUrl: pdns.apiUrl, apiKey: pdns.apiKey });
});
afterAll(() => pdns?.stop());

/** A platform on its own parent zone of the server. */
async function platform(base: string, extra: Partial<PowerDnsBackendConfig> = {}) {
  const p = await powerDnsPlatform({ api: rawApi, dnsPort: pdns.dnsPort }, base, { extra, inventory: true });
  if (p.inventory === undefined) throw new Error('the platform has no inventory');
  return { ...p, inventory: p.inventory };
}

function deploymentArgs(c: MemoryCluster): string[] {
  const d = c.objects('Deployment').find((o) => o.metadata.name === 'external-dns') as
    | (KubernetesObject & { spec: { template: { spec: { containers: { args: string[] }[] } } } })
    | undefined;
  return d?.spec.template.spec.containers[0]?.args ?? [];
}

function tsigKeyNameOf(c: MemoryCluster): string {
  const s = c.objects('Secret').find((o) => o.metadata.name === 'external-dns-rfc2136-tsig');
  const data = (s?.data ?? {}) as Record<string, string>;
  return Buffer.from(data['tsig-keyname'] ?? '', 'base64').toString('utf8');
}

function tsigSecretOf(c: MemoryCluster): string {
  const s = c.objects('Secret').find((o) => o.metadata.name === 'external-dns-rfc2136-tsig');
  const data = (s?.data ?? {}) as Record<string, string>;
  return Buffer.from(data['tsig-secret'] ?? '', 'base64').toString('utf8');
}

const update = (zone: string, secret: string, keyName: string, name: string) =>
  nsupdate(
    { port: pdns.dnsPort },
    {
      zone,
      key: { name: keyName, algorithm: 'hmac-sha256', secret },
      updates: [`add ${name} 60 A 192.0.2.10`],
    },
  );

describe('createZonekeeper({ powerdns })', { timeout: 60_000 }, () => {
  it('ensureOrganization: zone, delegation and one TSIG key, stored first; names only in the result', async () => {
    const p = await platform('ensure.test');
    const r = await p.zk.ensureOrganization('acme');
    const stored = await p.storedKey('acme');
    expect(stored?.name).toBe('zonekeeper-update.acme.ensure.test');
    expect(r.tsigKeyName).toBe('zonekeeper-update.acme.ensure.test');
    expect(r.plans.tsigKey?.map((s) => s.op)).toEqual([
      'store-key',
      'create-key',
      'set-update-keys',
      'set-update-sources',
    ]);
    // No IAM identity on PowerDNS.
    expect(r.userName).toBeUndefined();
    expect(r.accessKeyId).toBeUndefined();
    expect(r.plans.identity).toEqual([]);
    // The secret is in the store and on the server, nowhere else.
    const secret = stored?.secret as string;
    expect(JSON.stringify(r)).not.toContain(secret);
    expect(p.logger.lines.join('\n')).not.toContain(secret);
    const server = await createPowerDnsAdmin(rawApi).getTsigKey(stored?.name as string);
    expect(server?.secret).toBe(secret);
    // Delegated, and the stored key may update the zone over RFC 2136.
    expect((await dig({ port: pdns.dnsPort }, 'acme.ensure.test', 'SOA')).status).toBe('NOERROR');
    expect(
      (await update('acme.ensure.test', secret, stored?.name as string, 'www.acme.ensure.test')).rcode,
    ).toBe('NOERROR');
    expect((await dig({ port: pdns.dnsPort }, 'www.acme.ensure.test', 'A')).values).toEqual(['192.0.2.10']);
  });

  it('attachCluster renders rfc2136 with the organisation key; a warm re-run writes nothing', async () => {
    const p = await platform('attach.test');
    const r = await p.zk.attachCluster('acme', { clusterId: 'c1' });
    const stored = await p.storedKey('acme');
    const c1 = p.cluster('c1');
    const args = deploymentArgs(c1);
    expect(args).toEqual(
      expect.arrayContaining([
        '--provider=rfc2136',
        '--rfc2136-host=127.0.0.1',
        `--rfc2136-port=${pdns.dnsPort}`,
        '--rfc2136-zone=acme.attach.test',
        '--domain-filter=acme.attach.test',
      ]),
    );
    expect(args.some((a) => a.startsWith('--provider=aws'))).toBe(false);
    expect(tsigSecretOf(c1)).toBe(stored?.secret);
    // The key name travels with the secret, in the Secret (decision 36), not as an argument.
    expect(tsigKeyNameOf(c1)).toBe('zonekeeper-update.acme.attach.test');
    expect(args.some((a) => a.startsWith('--rfc2136-tsig-keyname'))).toBe(false);
    expect(JSON.stringify(c1.objects('Deployment'))).not.toContain(stored?.secret);
    expect(c1.objects('Secret').some((o) => o.metadata.name === 'external-dns-aws-credentials')).toBe(false);
    expect(r.tsigKeyName).toBe('zonekeeper-update.acme.attach.test');
    expect(r.accessKeyId).toBeUndefined();
    expect(r.plan.find((s) => s.op === 'apply-external-dns')).toMatchObject({
      accessKeyId: null,
      tsigKeyName: 'zonekeeper-update.acme.attach.test',
    });
    expect(JSON.stringify(r)).not.toContain(stored?.secret);
    expect(p.logger.lines.join('\n')).not.toContain(stored?.secret);

    // Warm: nothing planned, nothing written anywhere (server, store, cluster).
    const before = { ...p.counts };
    const storeWrites = () => (p.secrets.calls.write ?? 0) + (p.secrets.calls.deleteAll ?? 0);
    const secretsBefore = storeWrites();
    const clusterWrites = () => (c1.calls.apply ?? 0) + (c1.calls.delete ?? 0) + (c1.calls.replace ?? 0);
    const clusterBefore = clusterWrites();
    const again = await p.zk.attachCluster('acme', { clusterId: 'c1' });
    const ensured = await p.zk.ensureOrganization('acme');
    expect(again.plan).toEqual([]);
    expect(again.organizationResult.plans.tsigKey).toEqual([]);
    expect(ensured.plans.tsigKey).toEqual([]);
    expect(ensured.plans.zone).toEqual([]);
    expect(p.counts.writes).toBe(before.writes);
    expect(storeWrites()).toBe(secretsBefore);
    expect(clusterWrites()).toBe(clusterBefore);
    expect((await p.storedKey('acme'))?.version).toBe(stored?.version);
  });

  it("isolation: B's clusters never get A's key, and B's key cannot update A's zone", async () => {
    const p = await platform('iso.test');
    await p.zk.attachCluster('acme', { clusterId: 'a1' });
    await p.zk.attachCluster('globex', { clusterId: 'b1' });
    const a = await p.storedKey('acme');
    const b = await p.storedKey('globex');
    expect(a?.secret).not.toBe(b?.secret);
    expect(tsigSecretOf(p.cluster('b1'))).toBe(b?.secret);
    expect(JSON.stringify(p.cluster('b1').objects())).not.toContain(a?.secret);
    expect(tsigKeyNameOf(p.cluster('b1'))).toBe('zonekeeper-update.globex.iso.test');
    // B's key against A's zone, and against the parent zone: refused by the server.
    const cross = await update('acme.iso.test', b?.secret as string, b?.name as string, 'x.acme.iso.test');
    expect(cross.rcode).toBe('REFUSED');
    const parent = await update('iso.test', b?.secret as string, b?.name as string, 'x.iso.test');
    expect(parent.rcode).toBe('REFUSED');
    // A cluster of A cannot be attached to B.
    expect(
      hasErrorCode(await rejectionOf(p.zk.attachCluster('globex', { clusterId: 'a1' })), 'NOT_OWNED'),
    ).toBe(true);
  });

  it('a key planted on the server under the organisation’s name is replaced, never adopted', async () => {
    const p = await platform('planted.test');
    const admin = createPowerDnsAdmin(rawApi);
    const planted = await admin.createTsigKey({ name: 'zonekeeper-update.evil.planted.test' });
    const r = await p.zk.attachCluster('evil', { clusterId: 'e1' });
    expect(r.organizationResult.plans.tsigKey).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ op: 'delete-key', reason: 'unknown-key' }),
        expect.objectContaining({ op: 'create-key', reason: 'unknown-key' }),
      ]),
    );
    const stored = await p.storedKey('evil');
    expect(stored?.secret).not.toBe(planted.secret);
    expect((await admin.getTsigKey(planted.name))?.secret).toBe(stored?.secret);
    expect(tsigSecretOf(p.cluster('e1'))).toBe(stored?.secret);
    // Whoever planted it cannot sign with it any more; the stored key can.
    const old = await update('evil.planted.test', planted.secret, planted.name, 'x.evil.planted.test');
    expect(old.ok).toBe(false);
    expect(['NOTAUTH', 'REFUSED']).toContain(old.rcode);
    const now = await update(
      'evil.planted.test',
      stored?.secret as string,
      planted.name,
      'y.evil.planted.test',
    );
    expect(now.rcode).toBe('NOERROR');
  });

  it("a key in the store that is another platform's is refused (NOT_OWNED) before anything is written", async () => {
    const p = await platform('foreign.test');
    await writeTsigKey(
      p.secrets,
      { organization: 'globex' },
      { name: 'zonekeeper-update.globex.foreign.test', algorithm: 'hmac-sha256', secret: 'c3RvbGVu' },
      { prefix: p.zk.secretLayout.prefix, owner: 'other-platform.test', cas: 0 },
    );
    const error = await rejectionOf(p.zk.ensureOrganization('globex'));
    expect(hasErrorCode(error, 'NOT_OWNED')).toBe(true);
    expect(everythingIn(error)).not.toContain('c3RvbGVu');
    expect(p.counts.writes).toBe(0);
    expect(
      await createPowerDnsAdmin(rawApi).getTsigKey('zonekeeper-update.globex.foreign.test'),
    ).toBeUndefined();
  });

  it('an rfc2136 Secret of another organisation in the cluster is refused, never overwritten', async () => {
    const p = await platform('objects.test');
    const shared = p.cluster('shared');
    await shared.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'external-dns' } });
    await shared.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'external-dns-rfc2136-tsig',
        namespace: 'external-dns',
        labels: { 'zonekeeper.io/managed-by': 'zonekeeper', 'zonekeeper.io/organization': 'acme' },
      },
      data: { 'tsig-secret': Buffer.from('acme-secret').toString('base64') },
    });
    const error = await rejectionOf(p.zk.attachCluster('globex', { clusterId: 'shared' }));
    expect(hasErrorCode(error, 'NOT_OWNED')).toBe(true);
    expect(tsigSecretOf(shared)).toBe('acme-secret');
    expect(p.counts.writes).toBe(0);
  });

  it('detach, then deleteOrganization: zone first, then the key, then the stored secret', async () => {
    const p = await platform('delete.test');
    await p.zk.attachCluster('acme', { clusterId: 'c1' });
    const stored = await p.storedKey('acme');
    // Still attached: refused, nothing deleted.
    expect(hasErrorCode(await rejectionOf(p.zk.deleteOrganization('acme')), 'CONFLICT')).toBe(true);
    await p.zk.detachCluster('acme', 'c1');
    expect(p.cluster('c1').objects('Secret')).toEqual([]);
    const dry = await p.zk.deleteOrganization('acme', { dryRun: true });
    expect(dry.plan.map((s) => s.op)).toEqual([
      'delete-organization-zone',
      'delete-tsig-key',
      'delete-secrets',
      'forget-lock',
    ]);
    expect(await createPowerDnsAdmin(rawApi).getTsigKey(stored?.name as string)).toBeDefined();

    const r = await p.zk.deleteOrganization('acme');
    expect(r.deletedTsigKeys).toEqual(['zonekeeper-update.acme.delete.test']);
    expect(r.deletedZones).toHaveLength(1);
    expect(JSON.stringify(r)).not.toContain(stored?.secret);
    expect(await createPowerDnsAdmin(rawApi).getTsigKey(stored?.name as string)).toBeUndefined();
    expect(await p.storedKey('acme')).toBeUndefined();
    expect((await dig({ port: pdns.dnsPort }, 'acme.delete.test', 'SOA')).status).not.toBe('NOERROR');
    // Converged: a second run plans nothing.
    expect((await p.zk.deleteOrganization('acme')).plan).toEqual([]);
  });

  it('a dry run on a new organisation plans the key and writes nothing', async () => {
    const p = await platform('dry.test');
    const r = await p.zk.ensureOrganization('acme', { dryRun: true });
    expect(r.dryRun).toBe(true);
    expect(r.plans.zone.length).toBeGreaterThan(0);
    expect(r.plans.tsigKey?.map((s) => s.op)).toEqual([
      'store-key',
      'create-key',
      'set-update-keys',
      'set-update-sources',
    ]);
    expect(p.counts.writes).toBe(0);
    expect(await p.storedKey('acme')).toBeUndefined();
  });

  it('a lost stored key: a new secret, the server key replaced, and the attached cluster gets it', async () => {
    const p = await platform('lost.test');
    await p.zk.attachCluster('acme', { clusterId: 'c1' });
    const before = await p.storedKey('acme');
    await p.secrets.deleteAll(secretPaths(p.zk.secretLayout).tsigKey('acme'));
    const r = await p.zk.ensureOrganization('acme');
    expect(r.plans.tsigKey?.map((s) => `${s.op}:${s.reason}`)).toEqual([
      'store-key:not-stored',
      'delete-key:unknown-key',
      'create-key:unknown-key',
    ]);
    const after = await p.storedKey('acme');
    expect(after?.secret).not.toBe(before?.secret);
    expect(tsigSecretOf(p.cluster('c1'))).toBe(after?.secret);
    const stale = await update(
      'acme.lost.test',
      before?.secret as string,
      before?.name as string,
      'x.acme.lost.test',
    );
    expect(stale.ok).toBe(false);
    const fresh = await update(
      'acme.lost.test',
      after?.secret as string,
      after?.name as string,
      'y.acme.lost.test',
    );
    expect(fresh.rcode).toBe('NOERROR');
  });

  it('the collector deletes an unused organisation with its key', async () => {
    const p = await platform('gc.test');
    await p.zk.ensureOrganization('acme');
    await p.zk.ensureOrganization('globex');
    p.inventory.set({ organization: 'globex', clusterId: 'g1', running: true });
    const r = await p.zk.collectGarbage();
    expect(r.results).toEqual([expect.objectContaining({ organization: 'acme', status: 'deleted' })]);
    const admin = createPowerDnsAdmin(rawApi);
    expect(await admin.getTsigKey('zonekeeper-update.acme.gc.test')).toBeUndefined();
    expect(await p.storedKey('acme')).toBeUndefined();
    expect(await admin.getTsigKey('zonekeeper-update.globex.gc.test')).toBeDefined();
    expect(await p.storedKey('globex')).toBeDefined();
  });

  it('refuses bad configuration with INVALID_INPUT before any request, never echoing the API key', async () => {
    const key = 'very-secret-api-key-0123456789';
    const base: ZonekeeperConfig = {
      baseDomain: 'bad.test',
      powerdns: {
        apiUrl: pdns.apiUrl,
        apiKey: key,
        nameServers: ['ns1.pdns.test'],
        dnsUpdate: { host: '127.0.0.1' },
      },
    };
    const bad: ZonekeeperConfig[] = [
      { ...base, powerdns: { ...(base.powerdns as PowerDnsBackendConfig), apiUrl: 'ftp://x' } },
      {
        ...base,
        powerdns: { ...(base.powerdns as PowerDnsBackendConfig), dnsUpdate: { host: '127.0.0.1', port: 0 } },
      },
      { ...base, powerdns: { ...(base.powerdns as PowerDnsBackendConfig), dnsUpdate: { host: 'a b' } } },
      { ...base, powerdns: { ...(base.powerdns as PowerDnsBackendConfig), nameServers: [] } },
      { ...base, powerdns: { ...(base.powerdns as PowerDnsBackendConfig), tsigAlgorithm: 'hmac-md5' } },
      {
        ...base,
        powerdns: { ...(base.powerdns as PowerDnsBackendConfig), axfr: 'yes' as unknown as boolean },
      },
      { ...base, identityScope: 'cluster' },
      { ...base, dns: createPowerDnsProvider({ api: rawApi, nameServers: ['ns1.pdns.test'] }) },
    ];
    for (const config of bad) {
      let error: unknown;
      try {
        createZonekeeper(config);
      } catch (e) {
        error = e;
      }
      expect(hasErrorCode(error, 'INVALID_INPUT'), JSON.stringify(Object.keys(config))).toBe(true);
      expect(everythingIn(error)).not.toContain(key);
    }
    // Per call: a cluster-scoped identity cannot be expressed by a TSIG key; refused before any request.
    const p = await platform('scope.test');
    const error = await rejectionOf(
      p.zk.attachCluster('acme', { clusterId: 'c1', identityScope: 'cluster' }),
    );
    expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
    expect(p.counts.calls).toBe(0);
    // Route 53 settings have no meaning for rfc2136.
    const region = await rejectionOf(
      p.zk.attachCluster('acme', { clusterId: 'c1', externalDns: { region: 'eu-west-1' } }),
    );
    expect(hasErrorCode(region, 'INVALID_INPUT')).toBe(true);
    expect(p.counts.calls).toBe(0);
    // A bad organisation name for a rotation (powerdns-rotation.test.ts): refused before any request.
    expect(hasErrorCode(await rejectionOf(p.zk.rotateCredentials('Acme!')), 'INVALID_INPUT')).toBe(true);
    expect(p.counts.calls).toBe(0);
  });
});
