/**
 * `describeOrganization` and `auditFleet` on the PowerDNS backend, on a real `pdns_server`: the
 * organisation's TSIG key compared between the store and the server by fingerprint, the zone's update
 * permission, and each audit finding provoked by tampering with the server directly over its API.
 * Every result and log is searched for the secrets; the audit is checked to send no write.
 */

import { type PowerDnsServer, startPowerDns } from '@zonekeeper/testkit/powerdns';
import { secretPaths } from '@zonekeeper/vault-keys';
import {
  createPowerDnsAdmin,
  createPowerDnsHttpApi,
  type PowerDnsAdmin,
  type PowerDnsApi,
} from '@zonekeeper/zone-manager/powerdns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everythingIn } from './memory.test.support.js';
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

/** A platform on its own parent zone of the server. */
function platform(base: string) {
  return powerDnsPlatform({ api: rawApi, dnsPort: pdns.dnsPort }, base);
}

/** Replaces the server's key with one of the same name and another secret (the server generates it). */
async function replaceServerKey(name: string) {
  await admin.deleteTsigKey(name);
  return admin.createTsigKey({ name, algorithm: 'hmac-sha256' });
}

describe('describeOrganization on PowerDNS', { timeout: 60_000 }, () => {
  it('shows the TSIG key: name, algorithm, on the server, matching the store, alone allowed to update', async () => {
    const p = await platform('describe.test');
    await p.zk.ensureOrganization('acme');
    const secret = (await p.storedKey('acme'))?.secret as string;
    const d = await p.zk.describeOrganization('acme');
    expect(d.tsigKey).toEqual({
      name: 'zonekeeper-update.acme.describe.test',
      algorithm: 'hmac-sha256',
      stored: true,
      onServer: true,
      matchesStored: true,
      updateKeys: ['zonekeeper-update.acme.describe.test'],
      updateKeysOk: true,
      updateSources: ['127.0.0.1/32'],
    });
    expect(d.identity).toBeUndefined();
    expect(everythingIn(d)).not.toContain(secret);
    expect(p.logger.lines.join('\n')).not.toContain(secret);
  });

  it('a server key with another secret, a foreign update key, a deleted key: each shown, no secret', async () => {
    const p = await platform('tamper.test');
    await p.zk.ensureOrganization('acme');
    const name = 'zonekeeper-update.acme.tamper.test';
    const stored = (await p.storedKey('acme'))?.secret as string;
    const planted = await replaceServerKey(name);
    const foreign = await admin.createTsigKey({ name: 'intruder.tamper.test' });
    await admin.setZoneUpdateKeys('acme.tamper.test', [name, foreign.name]);
    const writes = p.counts.writes;
    const d = await p.zk.describeOrganization('acme');
    expect(p.counts.writes).toBe(writes);
    expect(d.tsigKey).toMatchObject({
      stored: true,
      onServer: true,
      matchesStored: false,
      updateKeys: ['intruder.tamper.test', name],
      updateKeysOk: false,
    });
    const text = everythingIn(d);
    for (const s of [stored, planted.secret, foreign.secret]) expect(text).not.toContain(s);
    await admin.deleteTsigKey(name);
    await admin.setZoneUpdateKeys('acme.tamper.test', []);
    expect((await p.zk.describeOrganization('acme')).tsigKey).toMatchObject({
      stored: true,
      onServer: false,
      matchesStored: false,
      updateKeys: [],
      updateKeysOk: false,
    });
  });

  it('an organisation without a zone shows its stored key as stored, not on the server', async () => {
    const p = await platform('nozone.test');
    await p.zk.ensureOrganization('acme');
    await admin.deleteTsigKey('zonekeeper-update.acme.nozone.test');
    await rawApi.deleteZone('acme.nozone.test.');
    const d = await p.zk.describeOrganization('acme');
    expect(d.zone).toBeUndefined();
    expect(d.exists).toBe(true);
    expect(d.tsigKey).toMatchObject({ stored: true, onServer: false, updateKeys: [], updateKeysOk: false });
  });
});

describe('auditFleet on PowerDNS', { timeout: 90_000 }, () => {
  it('finds each tampering of the server, writes nothing, never shows a secret; an ensure repairs it', async () => {
    const p = await platform('audit.test');
    const key = (org: string) => `zonekeeper-update.${org}.audit.test`;
    for (const org of ['clean', 'gone', 'swapped', 'foreign', 'open', 'wide', 'orphan'])
      await p.zk.ensureOrganization(org);
    await p.zk.attachCluster('clean', { clusterId: 'c1' });
    // Tampering, straight through the PowerDNS API.
    await admin.deleteTsigKey(key('gone'));
    const swapped = await replaceServerKey(key('swapped'));
    const intruder = await admin.createTsigKey({ name: 'intruder.audit.test' });
    await admin.setZoneUpdateKeys('foreign.audit.test', [key('foreign'), intruder.name]);
    await admin.setZoneUpdateKeys('open.audit.test', []);
    await admin.setZoneUpdateSources('wide.audit.test', ['0.0.0.0/0']);
    await rawApi.deleteZone('orphan.audit.test.');
    await admin.deleteTsigKey(key('orphan'));

    const keysBefore = await admin.listTsigKeys();
    const metaBefore = await admin.getZoneUpdateKeys('foreign.audit.test');
    const before = { ...p.counts };
    const r = await p.zk.auditFleet();
    expect(p.counts.writes).toBe(before.writes);
    expect(p.counts.calls).toBeGreaterThan(before.calls);
    expect(await admin.listTsigKeys()).toEqual(keysBefore);
    expect(await admin.getZoneUpdateKeys('foreign.audit.test')).toEqual(metaBefore);

    const of = (org: string) => r.findings.filter((f) => f.organization === org).map((f) => f.reason);
    expect(of('clean')).toEqual([]);
    expect(of('gone')).toEqual(['tsig-key-missing']);
    expect(of('swapped')).toEqual(['tsig-key-differs']);
    expect(of('foreign')).toEqual(['tsig-update-permission-drift']);
    expect(of('open')).toEqual(['tsig-update-permission-drift']);
    expect(of('wide')).toEqual(['tsig-update-sources-drift']);
    expect(of('orphan').sort()).toEqual(['organization-leftovers', 'tsig-key-without-zone']);
    // No IAM findings on PowerDNS: the identity is the key.
    expect(r.findings.some((f) => f.reason.startsWith('identity') || f.reason.startsWith('key-'))).toBe(
      false,
    );
    const finding = (org: string) => r.findings.find((f) => f.organization === org);
    expect(finding('open')?.message).toContain('without a key');
    expect(finding('foreign')?.message).toContain('intruder.audit.test');
    expect(finding('gone')).toMatchObject({
      severity: 'error',
      subject: key('gone'),
      fix: { operation: 'ensureOrganization', command: 'zonekeeper org ensure gone' },
    });
    expect(r.findings.find((f) => f.reason === 'tsig-key-without-zone')?.message).toContain('stored');

    const secrets = [swapped.secret, intruder.secret];
    for (const org of ['clean', 'gone', 'swapped', 'foreign', 'open', 'wide', 'orphan'])
      secrets.push((await p.storedKey(org))?.secret as string);
    const text = everythingIn(r) + p.logger.lines.join('\n');
    for (const s of secrets) expect(text).not.toContain(s);

    // Each finding's fix repairs it.
    for (const org of ['gone', 'swapped', 'foreign', 'open', 'wide']) await p.zk.ensureOrganization(org);
    const again = await p.zk.auditFleet();
    expect(again.findings.filter((f) => f.organization !== 'orphan')).toEqual([]);
  });

  it('a cluster whose rfc2136 Secret is missing or holds another secret is found', async () => {
    const p = await platform('clusters.test');
    await p.zk.attachCluster('acme', { clusterId: 'c1' });
    await p.zk.attachCluster('acme', { clusterId: 'c2' });
    const c1 = p.cluster('c1');
    await c1.delete({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: 'external-dns',
      name: 'external-dns-rfc2136-tsig',
    });
    const c2 = p.cluster('c2');
    const s = c2.objects('Secret').find((o) => o.metadata.name === 'external-dns-rfc2136-tsig');
    await c2.apply({ ...s, data: { 'tsig-secret': Buffer.from('stale').toString('base64') } } as never);
    const r = await p.zk.auditFleet({ organization: 'acme' });
    expect(r.findings.map((f) => [f.clusterId, f.reason])).toEqual([
      ['c1', 'external-dns-missing'],
      ['c2', 'cluster-stale-key'],
    ]);
    // The right secret under another key name (the Secret carries the name since decision 36).
    await p.zk.attachCluster('acme', { clusterId: 'c3' });
    const c3 = p.cluster('c3');
    const s3 = c3.objects('Secret').find((o) => o.metadata.name === 'external-dns-rfc2136-tsig');
    const data3 = (s3?.data ?? {}) as Record<string, string>;
    await c3.apply({
      ...s3,
      data: {
        ...data3,
        'tsig-keyname': Buffer.from('zonekeeper-update-b.acme.clusters.test').toString('base64'),
      },
    } as never);
    const named = await p.zk.auditFleet({ organization: 'acme' });
    const f3 = named.findings.find((f) => f.clusterId === 'c3');
    expect(f3?.reason).toBe('cluster-stale-key');
    expect(f3?.message).toContain('zonekeeper-update-b.acme.clusters.test');
  });

  it('a server key the store does not record, with a zone or alone, is found and never adopted', async () => {
    const p = await platform('unstored.test');
    await p.zk.ensureOrganization('lost');
    await p.zk.ensureOrganization('left');
    const paths = secretPaths(p.zk.secretLayout);
    // The stored key of `lost` is gone; `left` lost its zone and its stored key, its server key remains.
    await p.secrets.deleteAll(paths.tsigKey('lost'));
    await rawApi.deleteZone('left.unstored.test.');
    await p.secrets.deleteAll(paths.tsigKey('left'));
    // `ghost` is nothing but a key on the server: found by listing the server's keys.
    const ghost = await admin.createTsigKey({ name: 'zonekeeper-update.ghost.unstored.test' });
    const writes = p.counts.writes;
    const r = await p.zk.auditFleet();
    expect(p.counts.writes).toBe(writes);
    expect(r.findings.map((f) => [f.organization, f.reason])).toEqual([
      ['lost', 'tsig-key-not-stored'],
      ['ghost', 'tsig-key-without-zone'],
      ['left', 'organization-leftovers'],
      ['left', 'tsig-key-without-zone'],
    ]);
    expect(r.organizations).toEqual(['ghost', 'left', 'lost']);
    expect(r.findings[1]?.message).toContain('is on the server');
    // The server's secret is in no finding.
    const server = await admin.getTsigKey('zonekeeper-update.lost.unstored.test');
    expect(everythingIn(r)).not.toContain(server?.secret as string);
    expect(everythingIn(r)).not.toContain(ghost.secret);
  });
});
