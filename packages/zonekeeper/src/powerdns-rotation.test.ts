/**
 * `rotateCredentials` on the PowerDNS backend, on a real `pdns_server` (memory store and clusters),
 * proven with signed RFC 2136 updates (`nsupdate`): after a rotation the new key updates the
 * organisation's zone, the old key is refused, another organisation's key is still refused; a foreign
 * key survives; an unstored key under the new name is replaced, never adopted; a crash left half-way is
 * finished by a re-run; no secret in results or logs.
 */

import { hasErrorCode } from '@zonekeeper/core';
import type { MemoryCluster } from '@zonekeeper/externaldns-deployer';
import { nsupdate, type PowerDnsServer, startPowerDns } from '@zonekeeper/testkit/powerdns';
import { readTsigKey, secretPaths } from '@zonekeeper/vault-keys';
import {
  createPowerDnsAdmin,
  createPowerDnsHttpApi,
  type PowerDnsAdmin,
  type PowerDnsApi,
} from '@zonekeeper/zone-manager/powerdns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everythingIn, rejectionOf } from './memory.test.support.js';
import { powerDnsPlatform } from './powerdns.test.support.js';

let pdns: PowerDnsServer;
let rawApi: PowerDnsApi;
let admin: PowerDnsAdmin;

beforeAll(async () => {
  pdns = await startPowerDns();
  rawApi = createPowerDnsHttpApi({ apiUrl: pdns.apiUrl, apiKey: pdns.apiKey });
  admin = createPowerDnsAdmin(rawApi);
});
afterAll(() => pdns?.stop());

const platform = (base: string) => powerDnsPlatform({ api: rawApi, dnsPort: pdns.dnsPort }, base);

const update = (zone: string, key: { name: string; secret: string; algorithm?: string }, name: string) =>
  nsupdate({ port: pdns.dnsPort }, { zone, key, updates: [`add ${name} 60 TXT "rotation"`] });

function deploymentArgs(c: MemoryCluster): string[] {
  const d = c.objects('Deployment').find((o) => o.metadata.name === 'external-dns') as
    | { spec: { template: { spec: { containers: { args: string[] }[] } } } }
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

describe('rotateCredentials on PowerDNS', { timeout: 90_000 }, () => {
  it('new key → store → both allowed → clusters → old key gone; proven by signed updates', async () => {
    const p = await platform('rot.test');
    for (const id of ['c1', 'c2']) await p.zk.attachCluster('acme', { clusterId: id });
    await p.zk.ensureOrganization('globex');
    const zone = 'acme.rot.test';
    const before = await p.storedKey('acme');
    const globex = await p.storedKey('globex');
    if (!before || !globex) throw new Error('no stored keys');
    expect(before.name).toBe(`zonekeeper-update.${zone}`);
    // An operator's key listed on the zone by hand, and one not listed: neither is ever deleted.
    await admin.createTsigKey({ name: 'ops-admin.rot.test' });
    await admin.setZoneUpdateKeys(zone, [before.name, 'ops-admin.rot.test']);

    const r = await p.zk.rotateCredentials('acme');
    const after = await p.storedKey('acme');
    if (!after) throw new Error('no stored key');
    expect(after.name).toBe(`zonekeeper-update-b.${zone}`);
    expect(after.previousName).toBeUndefined();
    expect(after.secret).not.toBe(before.secret);
    expect(r.rotations).toEqual([]);
    expect(r.tsigKey).toMatchObject({
      outcome: 'rotated',
      keyName: after.name,
      previousKeyName: before.name,
      deletedKeyNames: [before.name],
      clustersUpdated: ['c1', 'c2'],
    });
    expect(r.tsigKey?.plan.map((s) => s.op)).toEqual([
      'store-key',
      'create-key',
      'set-update-keys',
      'publish-key',
      'set-update-keys',
      'delete-key',
      'forget-previous-key',
    ]);

    // The server: the new key alone allowed; the old key gone; the foreign keys still there.
    expect(await admin.getZoneUpdateKeys(zone)).toEqual([after.name]);
    expect(await admin.getTsigKey(before.name)).toBeUndefined();
    expect((await admin.getTsigKey(after.name))?.secret).toBe(after.secret);
    expect(await admin.getTsigKey('ops-admin.rot.test')).toBeDefined();
    expect(await admin.getTsigKey(globex.name)).toBeDefined();

    // The clusters run the new key.
    for (const id of ['c1', 'c2']) {
      const c = p.cluster(id);
      expect(tsigSecretOf(c)).toBe(after.secret);
      expect(tsigKeyNameOf(c)).toBe(after.name);
      expect(deploymentArgs(c).some((a) => a.startsWith('--rfc2136-tsig-keyname'))).toBe(false);
    }

    // DNS: the new key updates acme's zone; the old one is refused; globex's key is refused on acme's
    // zone and acme's new key on globex's.
    expect((await update(zone, after, `new.${zone}`)).rcode).toBe('NOERROR');
    const old = await update(zone, before, `old.${zone}`);
    expect(old.ok).toBe(false);
    expect(['NOTAUTH', 'REFUSED']).toContain(old.rcode);
    expect((await update(zone, globex, `globex.${zone}`)).rcode).toBe('REFUSED');
    expect((await update('globex.rot.test', after, 'acme.globex.rot.test')).rcode).toBe('REFUSED');
    expect((await update('globex.rot.test', globex, 'www.globex.rot.test')).rcode).toBe('NOERROR');

    // Secrets: not in the result, not in any log line.
    for (const s of [before.secret, after.secret, globex.secret]) {
      expect(everythingIn(r)).not.toContain(s);
      expect(p.logger.lines.join('\n')).not.toContain(s);
    }

    // Another rotation goes back to the first name; an ensure afterwards changes nothing.
    const again = await p.zk.rotateCredentials('acme');
    const third = await p.storedKey('acme');
    expect(again.tsigKey?.keyName).toBe(`zonekeeper-update.${zone}`);
    expect(third?.name).toBe(`zonekeeper-update.${zone}`);
    expect((await update(zone, third as typeof after, `third.${zone}`)).rcode).toBe('NOERROR');
    expect((await update(zone, after, `second.${zone}`)).ok).toBe(false);
    const warm = await p.zk.ensureOrganization('acme');
    expect(warm.plans.tsigKey).toEqual([]);
    expect(warm.tsigKeyName).toBe(`zonekeeper-update.${zone}`);
  });

  it('an unstored key planted under the new name is replaced, never adopted', async () => {
    const p = await platform('plant.test');
    await p.zk.attachCluster('acme', { clusterId: 'c1' });
    const zone = 'acme.plant.test';
    const planted = await admin.createTsigKey({ name: `zonekeeper-update-b.${zone}` });
    const r = await p.zk.rotateCredentials('acme');
    expect(r.tsigKey?.plan[0]).toEqual({ op: 'delete-key', name: planted.name, reason: 'unknown-key' });
    const after = await p.storedKey('acme');
    expect(after?.name).toBe(planted.name);
    expect(after?.secret).not.toBe(planted.secret);
    expect((await update(zone, planted, `planted.${zone}`)).ok).toBe(false);
    expect((await update(zone, after as typeof planted, `mine.${zone}`)).rcode).toBe('NOERROR');
    expect(everythingIn(r)).not.toContain(planted.secret);
  });

  it('a rotation stopped after both keys were allowed: an ensure keeps both, a re-run finishes it', async () => {
    const p = await platform('resume.test');
    await p.zk.attachCluster('acme', { clusterId: 'c1' });
    const zone = 'acme.resume.test';
    const first = await p.storedKey('acme');
    if (!first) throw new Error('no stored key');
    // The rollout on c1 fails after the overlap was set: the rotation stops half-way.
    const c1 = p.cluster('c1');
    c1.setRolloutFailure('external-dns', 'external-dns', true);
    const failed = await rejectionOf(p.zk.rotateCredentials('acme'));
    expect(failed).toBeDefined();
    expect(everythingIn(failed)).not.toContain(first.secret);
    const mid = await p.storedKey('acme');
    if (!mid) throw new Error('no stored key');
    expect(mid.previousName).toBe(first.name);
    expect(await admin.getZoneUpdateKeys(zone)).toEqual([first.name, mid.name].sort());
    expect(everythingIn(failed)).not.toContain(mid.secret);
    // Whichever key a pod of c1 runs, it works: both are allowed.
    expect((await update(zone, first, `old.${zone}`)).rcode).toBe('NOERROR');
    expect((await update(zone, mid, `mid.${zone}`)).rcode).toBe('NOERROR');
    c1.setRolloutFailure('external-dns', 'external-dns', false);
    // The audit sees an unfinished rotation, not a permission drift (both keys allowed is expected).
    const audit = await p.zk.auditFleet({ organization: 'acme' });
    const reasons = audit.findings.map((f) => f.reason);
    expect(reasons).toContain('rotation-unfinished');
    expect(reasons).not.toContain('tsig-update-permission-drift');
    expect(audit.findings.find((f) => f.reason === 'rotation-unfinished')?.fix.operation).toBe(
      'rotateCredentials',
    );
    expect(everythingIn(audit)).not.toContain(mid.secret);
    // An ensure in between leaves the old key allowed (the cluster still signs with it).
    const ensured = await p.zk.ensureOrganization('acme');
    expect(ensured.plans.tsigKey).toEqual([]);
    expect((await update(zone, first, `old2.${zone}`)).rcode).toBe('NOERROR');
    const done = await p.zk.rotateCredentials('acme');
    expect(done.tsigKey?.outcome).toBe('resumed');
    expect(done.tsigKey?.keyName).toBe(mid?.name);
    const end = await p.storedKey('acme');
    expect(end?.previousName).toBeUndefined();
    expect(end?.secret).toBe(mid?.secret);
    expect(tsigSecretOf(c1)).toBe(end?.secret);
    expect((await update(zone, first, `old3.${zone}`)).ok).toBe(false);
    expect((await update(zone, end as typeof first, `new.${zone}`)).rcode).toBe('NOERROR');
    const clean = await p.zk.auditFleet({ organization: 'acme' });
    expect(
      clean.findings.filter((f) => f.reason.startsWith('tsig') || f.reason === 'rotation-unfinished'),
    ).toEqual([]);
  });

  it('offboarding in the middle of a rotation removes both keys', async () => {
    const p = await platform('offboard.test');
    await p.zk.attachCluster('acme', { clusterId: 'c1' });
    const zone = 'acme.offboard.test';
    const first = await p.storedKey('acme');
    p.cluster('c1').setRolloutFailure('external-dns', 'external-dns', true);
    expect(await rejectionOf(p.zk.rotateCredentials('acme'))).toBeDefined();
    const mid = await p.storedKey('acme');
    if (!first || !mid) throw new Error('no stored key');
    p.cluster('c1').setRolloutFailure('external-dns', 'external-dns', false);
    expect(mid.previousName).toBe(first.name);
    await p.zk.detachCluster('acme', 'c1');
    await p.zk.deleteOrganization('acme');
    expect(await admin.getTsigKey(first.name)).toBeUndefined();
    expect(await admin.getTsigKey(mid.name)).toBeUndefined();
    for (const k of [first, mid]) expect((await update(zone, k, `back.${zone}`)).ok).toBe(false);
  });

  it('refuses an organisation without a key, before any write', async () => {
    const p = await platform('none.test');
    const error = await rejectionOf(p.zk.rotateCredentials('acme'));
    expect(hasErrorCode(error, 'NOT_FOUND')).toBe(true);
    expect(await readTsigKey(p.secrets, { organization: 'acme' }, p.zk.secretLayout)).toBeUndefined();
    expect(secretPaths(p.zk.secretLayout).tsigKey('acme')).toContain('acme');
  });
});
