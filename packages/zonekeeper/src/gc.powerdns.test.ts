/**
 * The collector with the provider's pricing model: organisations' zones on a real PowerDNS, where a
 * zone costs nothing to keep or re-create (the provider reports `pricing: { kind: 'free' }`), are
 * deleted as soon as they are unused (or after a grace period), while Route 53's rules would keep a
 * paid-for zone until just before the next charge.
 */

import { createManualClock } from '@zonekeeper/core';
import { FREE_PRICING, nextChargeAt } from '@zonekeeper/gc-policy';
import { createMemoryIdentityProvider } from '@zonekeeper/iam-scoper';
import { dig, type PowerDnsServer, startPowerDns } from '@zonekeeper/testkit/powerdns';
import { createMemorySecretStore } from '@zonekeeper/vault-keys';
import { createPowerDnsProvider, type PowerDnsProvider } from '@zonekeeper/zone-manager/powerdns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ZonekeeperConfig } from './config.js';
import { createMemoryInventory } from './inventory.js';
import { createZonekeeper } from './zonekeeper.js';

const HOUR = 3_600_000;
let pdns: PowerDnsServer;
let dns: PowerDnsProvider;

beforeAll(async () => {
  pdns = await startPowerDns();
  dns = createPowerDnsProvider({ apiUrl: pdns.apiUrl, apiKey: pdns.apiKey, nameServers: ['ns1.pdns.test'] });
});
afterAll(() => pdns?.stop());

/** A platform on its own parent zone of the server, with a manual clock. */
async function platform(base: string, gc?: ZonekeeperConfig['gc']) {
  // PowerDNS dates a zone by its own clock (the marker comment's modified_at): start at the real now.
  const clock = createManualClock(new Date(Math.ceil(Date.now() / 1000) * 1000));
  await dns.createZone({ name: base, callerReference: `parent-${base}` });
  const inventory = createMemoryInventory();
  const zk = createZonekeeper({
    baseDomain: base,
    clock,
    dns,
    identity: createMemoryIdentityProvider({ clock }),
    secrets: createMemorySecretStore({ clock }),
    inventory,
    clusters: () => {
      throw new Error('no clusters in this test');
    },
    ...(gc ? { gc } : {}),
  });
  const soa = async (org: string) => (await dig({ port: pdns.dnsPort }, `${org}.${base}`, 'SOA')).status;
  return { clock, zk, inventory, soa };
}

describe('collectGarbage on PowerDNS with the free pricing model', { timeout: 60_000 }, () => {
  it('deletes an unused zone at once, where Route 53 pricing would keep its paid month', async () => {
    const free = await platform('free.test', { pricing: FREE_PRICING });
    const r53 = await platform('paid.test', { pricing: { kind: 'calendar-month' } });
    for (const p of [free, r53]) {
      await p.zk.ensureOrganization('acme');
      await p.zk.ensureOrganization('globex');
      p.inventory.set({ organization: 'globex', clusterId: 'g1', running: true });
      // Past Route 53's 12-hour free window: its month is paid for (and not within 2 h of the next
      // charge, where Route 53's rules would delete it too).
      const target = new Date(p.clock.now().getTime() + 13 * HOUR);
      const nearCharge = nextChargeAt(target).getTime() - target.getTime() < 2 * HOUR;
      await p.clock.advance(13 * HOUR + (nearCharge ? 3 * HOUR : 0));
    }
    expect(await free.soa('acme')).toBe('NOERROR');

    const paid = await r53.zk.collectGarbage();
    expect(paid.results).toEqual([]);
    expect(paid.plan.decisions.map((d) => d.reason).sort()).toEqual(['ALREADY_CHARGED', 'IN_USE']);

    const r = await free.zk.collectGarbage();
    expect(r.results).toEqual([
      expect.objectContaining({ organization: 'acme', status: 'deleted', decision: 'FREE_TO_RECREATE' }),
    ]);
    expect(r.plan.decisions.map((d) => d.reason).sort()).toEqual(['FREE_TO_RECREATE', 'IN_USE']);
    expect(r.plan.decisions.every((d) => d.nextChargeAt === undefined)).toBe(true);
    expect(r.nextReviewAt).toBeUndefined();
    // Gone from the server (DNS says so), and the delegation with it; globex, in use, is kept.
    expect(await free.soa('acme')).not.toBe('NOERROR');
    expect(await free.soa('globex')).toBe('NOERROR');
    expect((await dns.findZonesByName('acme.free.test')).length).toBe(0);
    const parent = (await dns.findZonesByName('free.test'))[0];
    const parentRecords = (await dns.listRecords(parent?.id as string)).recordSets;
    expect(parentRecords.some((s) => s.name === 'acme.free.test' && s.type === 'NS')).toBe(false);
  });

  it('takes the pricing model from the provider: PowerDNS reports free, the configuration may override it', async () => {
    expect(dns.pricing).toEqual({ kind: 'free' });
    const byProvider = await platform('provider.test');
    const overridden = await platform('override.test', { pricing: { kind: 'calendar-month' } });
    for (const p of [byProvider, overridden]) {
      await p.zk.ensureOrganization('acme');
      const target = new Date(p.clock.now().getTime() + 13 * HOUR);
      const nearCharge = nextChargeAt(target).getTime() - target.getTime() < 2 * HOUR;
      await p.clock.advance(13 * HOUR + (nearCharge ? 3 * HOUR : 0));
    }
    expect((await byProvider.zk.collectGarbage()).results).toEqual([
      expect.objectContaining({ organization: 'acme', status: 'deleted', decision: 'FREE_TO_RECREATE' }),
    ]);
    const kept = await overridden.zk.collectGarbage();
    expect(kept.results).toEqual([]);
    expect(kept.plan.decisions.map((d) => d.reason)).toEqual(['ALREADY_CHARGED']);
  });

  it('keeps an unused zone for the grace period, then deletes it', async () => {
    const p = await platform('grace.test', { pricing: { kind: 'free', gracePeriodMs: 2 * HOUR } });
    await p.zk.ensureOrganization('acme');
    await p.clock.advance(HOUR);
    const early = await p.zk.collectGarbage();
    const created = early.zones[0]?.createdAt as Date;
    expect(created).toBeInstanceOf(Date);
    expect(early.results).toEqual([]);
    expect(early.plan.decisions).toEqual([
      expect.objectContaining({ action: 'defer', reason: 'GRACE_PERIOD' }),
    ]);
    expect(early.nextReviewAt?.getTime()).toBe(created.getTime() + 2 * HOUR);
    expect(await p.soa('acme')).toBe('NOERROR');

    await p.clock.set(early.nextReviewAt as Date);
    const later = await p.zk.collectGarbage();
    expect(later.results).toEqual([
      expect.objectContaining({ organization: 'acme', status: 'deleted', decision: 'FREE_TO_RECREATE' }),
    ]);
    expect(await p.soa('acme')).not.toBe('NOERROR');
  });

  it('refuses a malformed pricing model without deleting anything', async () => {
    const p = await platform('bad.test', { pricing: { kind: 'hourly' } as never });
    await p.zk.ensureOrganization('acme');
    await expect(p.zk.collectGarbage()).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await p.soa('acme')).toBe('NOERROR');
  });
});
