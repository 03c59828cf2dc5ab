/**
 * Several accounts on memory ports (one memory DNS provider per account, the parent zone in account
 * `a`): headroom placement, stability across re-runs and configuration changes, the quota refusal
 * before any write, two processes placing one new organisation, routing, and the per-account sweeps.
 */

import { hasErrorCode, ZonekeeperError } from '@zonekeeper/core';
import { createMemoryCluster } from '@zonekeeper/externaldns-deployer';
import { createMemorySecretStore, type MemorySecretStore } from '@zonekeeper/vault-keys';
import { createMemoryDnsProvider, type DnsProvider, type MemoryDnsProvider } from '@zonekeeper/zone-manager';
import { createRoute53Provider } from '@zonekeeper/zone-manager/route53';
import { beforeEach, describe, expect, it } from 'vitest';
import { createMemoryInventory, type MemoryInventory } from '../inventory.js';
import { createFleet, type FleetAccount, type FleetConfig, withParentZoneOf } from './accounts.js';

const BASE = 'example.com';
const RECORD = (org: string) => `zonekeeper/platforms/${BASE}/placements/organizations/${org}`;
const KEYS = { accessKeyId: 'test', secretAccessKey: 'test' };

interface World {
  readonly dns: Record<'a' | 'b' | 'c', MemoryDnsProvider>;
  readonly secrets: MemorySecretStore;
  readonly inventory: MemoryInventory;
  fleet(
    quotas?: Partial<Record<'a' | 'b' | 'c', Partial<FleetAccount>>>,
    extra?: Partial<FleetConfig>,
  ): ReturnType<typeof createFleet>;
}

let w: World;

/** The organisations with a zone of ours in a provider. */
function zonesOf(dns: MemoryDnsProvider): string[] {
  return dns
    .snapshot()
    .filter((z) => z.tags['zonekeeper:managed-by'] === 'zonekeeper')
    .map((z) => z.tags['zonekeeper:organization'] as string)
    .sort();
}

function delegations(): string[] {
  const parent = w.dns.a.snapshot().find((z) => z.name === BASE);
  return (parent?.records ?? [])
    .filter((r) => r.type === 'NS' && r.name !== BASE)
    .map((r) => r.name)
    .sort();
}

async function foreignZones(dns: DnsProvider, n: number, tag: string) {
  for (let i = 0; i < n; i++)
    await dns.createZone({ name: `other-${tag}-${i}.test`, callerReference: `${tag}-${i}` });
}

beforeEach(async () => {
  const dns = {
    a: createMemoryDnsProvider({ idPrefix: 'A' }),
    b: createMemoryDnsProvider({ idPrefix: 'B' }),
    c: createMemoryDnsProvider({ idPrefix: 'C' }),
  };
  await dns.a.createZone({ name: BASE, callerReference: 'parent' });
  const secrets = createMemorySecretStore();
  const inventory = createMemoryInventory();
  w = {
    dns,
    secrets,
    inventory,
    fleet: (quotas = {}, extra = {}) =>
      createFleet({
        baseDomain: BASE,
        secrets,
        inventory,
        ...extra,
        parent: { account: 'a' },
        accounts: (['a', 'b', 'c'] as const).map((id) => ({ id, dns: dns[id], ...quotas[id] })),
      }),
  };
});

describe('createFleet placement', () => {
  it('places new organisations by headroom (ties to the smallest id), each zone in one account, delegated from the parent account', async () => {
    await foreignZones(w.dns.c, 2, 'c');
    // Headroom: a 5−1 = 4, b 3, c 4−2 = 2.
    const fleet = w.fleet({ a: { zoneQuota: 5 }, b: { zoneQuota: 3 }, c: { zoneQuota: 4 } });
    expect((await fleet.ensureOrganization('acme')).account).toBe('a'); // a 4 > b 3
    expect((await fleet.ensureOrganization('globex')).account).toBe('a'); // a 3 = b 3: a
    expect((await fleet.ensureOrganization('initech')).account).toBe('b'); // b 3 > a 2
    expect((await fleet.ensureOrganization('umbrella')).account).toBe('a'); // a 2 = b 2 = c 2: a
    expect(zonesOf(w.dns.a)).toEqual(['acme', 'globex', 'umbrella']);
    expect(zonesOf(w.dns.b)).toEqual(['initech']);
    expect(zonesOf(w.dns.c)).toEqual([]);
    expect(delegations()).toEqual([
      'acme.example.com',
      'globex.example.com',
      'initech.example.com',
      'umbrella.example.com',
    ]);
    // The delegation of initech names the name servers of its zone in b.
    const ns = w.dns.a
      .snapshot()
      .find((z) => z.name === BASE)
      ?.records.find((r) => r.name === 'initech.example.com');
    const zoneNs = w.dns.b.snapshot().find((z) => z.name === 'initech.example.com')?.nameServers;
    expect(ns?.values.map((v) => v.replace(/\.$/, ''))).toEqual(zoneNs);
  });

  it('never moves a placed organisation: re-runs, other quotas, and a lost record all keep its account', async () => {
    const first = w.fleet({ a: { zoneQuota: 2 } });
    expect((await first.ensureOrganization('acme')).account).toBe('b'); // a 1 < b 500
    // The platform now prefers a (b is nearly full): acme stays in b.
    await foreignZones(w.dns.b, 5, 'b');
    const second = w.fleet({ a: { zoneQuota: 500 }, b: { zoneQuota: 7 }, c: { zoneQuota: 1 } });
    w.dns.a.resetCounters();
    w.dns.b.resetCounters();
    const again = await second.ensureOrganization('acme');
    expect(again.account).toBe('b');
    expect(w.dns.b.writes + w.dns.a.writes).toBe(0); // converged: nothing written
    // Without its record (a platform migrated from before records), its zone decides.
    await w.secrets.deleteAll(RECORD('acme'));
    expect(await second.locate('acme')).toEqual({ placed: true, account: 'b', source: 'zone' });
    expect((await second.ensureOrganization('acme')).account).toBe('b');
    expect((await w.secrets.read(RECORD('acme')))?.data).toEqual({
      account: 'b',
    });
    expect(zonesOf(w.dns.a)).toEqual([]);
    expect(zonesOf(w.dns.c)).toEqual([]);
  });

  it('refuses a new organisation when no account has room, before any write (zone, record or secret)', async () => {
    await foreignZones(w.dns.b, 1, 'b');
    const fleet = w.fleet({ a: { zoneQuota: 1 }, b: { zoneQuota: 1 }, c: { maxOrganizations: 0 } });
    for (const d of Object.values(w.dns)) d.resetCounters();
    const error = await fleet.ensureOrganization('acme').catch((e: unknown) => e);
    expect(hasErrorCode(error, 'CONFLICT')).toBe(true);
    expect((error as ZonekeeperError).details).toMatchObject({ reason: 'no-capacity', organization: 'acme' });
    expect(Object.values(w.dns).map((d) => d.writes)).toEqual([0, 0, 0]);
    expect(w.secrets.paths()).toEqual([]);
    await expect(fleet.attachCluster('acme', { clusterId: 'prod-1' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect(w.secrets.paths()).toEqual([]);
  });

  it('counts the budget: an account at maxOrganizations gets no new organisation, its own still converge', async () => {
    const fleet = w.fleet({
      a: { maxOrganizations: 1 },
      b: { maxOrganizations: 1 },
      c: { maxOrganizations: 0 },
    });
    expect((await fleet.ensureOrganization('acme')).account).toBe('a');
    expect((await fleet.ensureOrganization('globex')).account).toBe('b');
    await expect(fleet.ensureOrganization('initech')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await fleet.ensureOrganization('acme')).account).toBe('a');
  });

  it('two processes placing one new organisation with different views create it in one account only', async () => {
    // Two fleets on the same ports whose views disagree: alone, each would pick another account.
    const left = w.fleet({ a: { zoneQuota: 100 }, b: { zoneQuota: 50 }, c: { zoneQuota: 10 } });
    const right = w.fleet({ a: { zoneQuota: 10 }, b: { zoneQuota: 100 }, c: { zoneQuota: 10 } });
    expect(await left.planPlacement('acme')).toMatchObject({ account: 'a' });
    expect(await right.planPlacement('acme')).toMatchObject({ account: 'b' });
    const results = await Promise.all([left.ensureOrganization('acme'), right.ensureOrganization('acme')]);
    expect(new Set(results.map((r) => r.account)).size).toBe(1);
    const [winner] = results.map((r) => r.account);
    const holding = (['a', 'b', 'c'] as const).filter((id) => zonesOf(w.dns[id]).includes('acme'));
    expect(holding).toEqual([winner]);
    expect(
      w.dns.a
        .snapshot()
        .find((z) => z.name === BASE)
        ?.records.filter((r) => r.name === 'acme.example.com'),
    ).toHaveLength(1);
  });

  it('two processes placing two new organisations at the quota edge never fill one account past its quota', async () => {
    // One free zone in a, one in b, none in c: alone, each organisation would go to a.
    const quotas = { a: { zoneQuota: 2 }, b: { zoneQuota: 1 }, c: { maxOrganizations: 0 } };
    const [left, right] = [w.fleet(quotas), w.fleet(quotas)];
    expect(await left.planPlacement('acme')).toMatchObject({ account: 'a' });
    expect(await right.planPlacement('globex')).toMatchObject({ account: 'a' });
    const results = await Promise.all([left.ensureOrganization('acme'), right.ensureOrganization('globex')]);
    expect(results.map((r) => r.account).sort()).toEqual(['a', 'b']);
    expect(w.dns.a.snapshot()).toHaveLength(2);
    expect(w.dns.b.snapshot()).toHaveLength(1);
    // The lock is free again: a third organisation is refused at once, not after a wait.
    await expect(left.ensureOrganization('initech')).rejects.toMatchObject({
      details: { reason: 'no-capacity' },
    });
  });

  it('writes the placement record before the first zone write of a new organisation (what the race relies on)', async () => {
    const seen: (string | undefined)[] = [];
    const watched: DnsProvider = {
      ...w.dns.b,
      createZone: async (spec, o) => {
        seen.push((await w.secrets.read(RECORD('acme')))?.data.account);
        return w.dns.b.createZone(spec, o);
      },
    };
    const fleet = createFleet({
      baseDomain: BASE,
      secrets: w.secrets,
      parent: { account: 'a' },
      accounts: [
        { id: 'a', dns: w.dns.a, zoneQuota: 1 },
        { id: 'b', dns: watched },
      ],
    });
    expect((await fleet.ensureOrganization('acme')).account).toBe('b');
    expect(seen).toEqual(['b']);
  });

  it('takes the parent zone by id when given, for every account', async () => {
    const parentZone = w.dns.a.snapshot().find((z) => z.name === BASE);
    // A second public zone named like the parent, in a: by name alone, the parent would be ambiguous.
    await w.dns.a.createZone({ name: BASE, callerReference: 'parent-twin' });
    const fleet = w.fleet({ a: { zoneQuota: 2 } }, {});
    await expect(fleet.ensureOrganization('acme')).rejects.toMatchObject({ code: 'CONFLICT' });
    const byId = createFleet({
      baseDomain: BASE,
      secrets: createMemorySecretStore(),
      parent: { account: 'a', zoneId: parentZone?.id as string },
      accounts: (['a', 'b', 'c'] as const).map((id) => ({
        id,
        dns: w.dns[id],
        ...(id === 'a' ? { zoneQuota: 2 } : {}),
      })),
    });
    expect((await byId.ensureOrganization('globex')).account).toBe('b');
    expect(
      w.dns.a
        .snapshot()
        .find((z) => z.id === parentZone?.id)
        ?.records.some((r) => r.name === `globex.${BASE}`),
    ).toBe(true);
  });

  it('a dry run places nothing and records nothing', async () => {
    const fleet = w.fleet();
    for (const d of Object.values(w.dns)) d.resetCounters();
    const r = await fleet.ensureOrganization('acme', { dryRun: true });
    expect(r.account).toBe('b');
    expect(Object.values(w.dns).map((d) => d.writes)).toEqual([0, 0, 0]);
    expect(w.secrets.paths()).toEqual([]);
  });
});

describe('createFleet routing and sweeps', () => {
  it('routes attach, describe, detach and delete to the organisation account; delete removes zone and delegation, the record stays', async () => {
    const fleet = w.fleet({ a: { zoneQuota: 1 } });
    w.inventory.set({ organization: 'acme', clusterId: 'prod-1', running: true });
    const attached = await fleet.attachCluster('acme', { clusterId: 'prod-1' });
    expect(attached.account).toBe('b');
    expect((await fleet.describeOrganization('acme')).account).toBe('b');
    expect((await fleet.detachCluster('acme', 'prod-1')).account).toBe('b');
    w.inventory.remove('acme', 'prod-1');
    const deleted = await fleet.deleteOrganization('acme');
    expect(deleted.account).toBe('b');
    expect(zonesOf(w.dns.b)).toEqual([]);
    expect(delegations()).toEqual([]);
    // The record stays: created again, acme returns to b although a now has more room.
    expect(w.secrets.paths().filter((p) => p.includes('/placements/organizations/'))).toEqual([
      RECORD('acme'),
    ]);
    const roomier = w.fleet({ a: { zoneQuota: 1000 } });
    expect(await roomier.planPlacement('globex')).toMatchObject({ account: 'a' });
    expect((await roomier.ensureOrganization('acme')).account).toBe('b');
    expect(zonesOf(w.dns.b)).toEqual(['acme']);
    expect(zonesOf(w.dns.a)).toEqual([]);
  });

  it('an account on the single-account prefix keeps its secrets there and sweeps none of the others’', async () => {
    const legacy = `zonekeeper/platforms/${BASE}`;
    const fleet = w.fleet({ a: { zoneQuota: 1, secretPrefix: legacy } });
    // acme was a's before the fleet existed (its zone is in a, its secrets under the old prefix).
    await fleet.accounts[0]?.zonekeeper.ensureOrganization('acme');
    expect((await fleet.ensureOrganization('acme')).account).toBe('a');
    expect((await fleet.ensureOrganization('globex')).account).toBe('b');
    expect(w.secrets.paths()).toContain(`${legacy}/orgs/acme/aws-access-key`);
    expect(w.secrets.paths()).toContain(`${legacy}/accounts/b/orgs/globex/aws-access-key`);
    const globexZone = w.dns.b.snapshot().find((z) => z.name === `globex.${BASE}`);
    await w.dns.b.changeTags(globexZone?.id as string, { add: { 'zonekeeper:protected': 'true' } });
    const acmeZone = w.dns.a.snapshot().find((z) => z.name === `acme.${BASE}`);
    await w.dns.a.changeTags(acmeZone?.id as string, { add: { 'zonekeeper:protected': 'true' } });
    const before = w.secrets.paths();
    const collected = await fleet.collectGarbage();
    for (const s of collected.accounts) if ('result' in s) expect(s.result.orphans.secretPaths).toEqual([]);
    expect(w.secrets.paths().filter((p) => !p.includes('/locks/'))).toEqual(
      before.filter((p) => !p.includes('/locks/')),
    );
  });

  it('the collector and the audit sweep every account; one account never sweeps another account’s secrets', async () => {
    const fleet = w.fleet({ a: { zoneQuota: 2 } });
    expect((await fleet.ensureOrganization('acme')).account).toBe('b');
    expect((await fleet.ensureOrganization('globex')).account).toBe('c');
    // Protected zones are kept although no cluster runs: their organisations are nobody's orphans,
    // yet an account that saw the others' secrets would take them for its orphans and delete them.
    for (const [id, org] of [
      ['b', 'acme'],
      ['c', 'globex'],
    ] as const) {
      const zone = w.dns[id].snapshot().find((z) => z.name === `${org}.${BASE}`);
      await w.dns[id].changeTags(zone?.id as string, { add: { 'zonekeeper:protected': 'true' } });
    }
    const before = w.secrets.paths().filter((p) => p.includes('/orgs/'));
    expect(before.some((p) => p.includes('/accounts/b/orgs/acme/'))).toBe(true);
    expect(before.some((p) => p.includes('/accounts/c/orgs/globex/'))).toBe(true);
    const collected = await fleet.collectGarbage();
    expect(collected.accounts.map((s) => s.account)).toEqual(['a', 'b', 'c']);
    for (const s of collected.accounts) {
      expect('result' in s).toBe(true);
      if ('result' in s) expect(s.result.orphans.secretPaths).toEqual([]);
    }
    expect(w.secrets.paths().filter((p) => p.includes('/orgs/'))).toEqual(before);
    const audit = await fleet.auditFleet();
    expect(audit.accounts.map((s) => s.account)).toEqual(['a', 'b', 'c']);
    const one = await fleet.auditFleet({ organization: 'globex' });
    expect(one.accounts.map((s) => s.account)).toEqual(['c']);
  });
});

describe('createFleet collector loop', () => {
  it('runs every account’s loop until the signal stops them, telling each collection’s account', async () => {
    const fleet = w.fleet();
    const seen = new Set<string>();
    const stop = new AbortController();
    const running = fleet.runGarbageCollector({
      signal: stop.signal,
      maxIntervalMs: 20,
      onCollection: (o) => {
        expect(o.error).toBeUndefined();
        seen.add(o.account);
        if (seen.size === 3) stop.abort();
      },
    });
    await running;
    expect([...seen].sort()).toEqual(['a', 'b', 'c']);
  });

  it('takes one Lease per account, named after it', async () => {
    const mgmt = createMemoryCluster({ name: 'mgmt' });
    await mgmt.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'zk' } });
    const fleet = w.fleet();
    const seen = new Set<string>();
    const stop = new AbortController();
    await fleet.runGarbageCollector({
      signal: stop.signal,
      maxIntervalMs: 20,
      lease: { cluster: mgmt, namespace: 'zk', identity: 'replica-1' },
      onCollection: (o) => {
        seen.add(o.account);
        if (seen.size === 3) stop.abort();
      },
    });
    const leases = (await mgmt.list('coordination.k8s.io/v1', 'Lease', { namespace: 'zk' })).map(
      (l) => l.metadata?.name,
    );
    expect(leases.sort()).toEqual(['zonekeeper-gc-a', 'zonekeeper-gc-b', 'zonekeeper-gc-c']);
  });

  it('refuses without an inventory (INVALID_INPUT), like one account', async () => {
    const fleet = createFleet({ baseDomain: BASE, accounts: [{ id: 'a', dns: w.dns.a }] });
    await expect(fleet.runGarbageCollector({ signal: new AbortController().signal })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });
});

describe('createFleet sweeps with one account down', () => {
  it('the collector reports the failing account and still collects the others', async () => {
    const down: DnsProvider = {
      ...w.dns.b,
      listZones: async () => {
        throw new ZonekeeperError('UNAVAILABLE', 'account b is unreachable');
      },
    };
    const fleet = createFleet({
      baseDomain: BASE,
      secrets: w.secrets,
      inventory: w.inventory,
      parent: { account: 'a' },
      accounts: [
        { id: 'a', dns: w.dns.a },
        { id: 'b', dns: down },
        { id: 'c', dns: w.dns.c },
      ],
    });
    const collected = await fleet.collectGarbage({ dryRun: true });
    expect(collected.accounts.map((s) => [s.account, 'error' in s ? s.error.code : 'ok'])).toEqual([
      ['a', 'ok'],
      ['b', 'UNAVAILABLE'],
      ['c', 'ok'],
    ]);
    // A new organisation cannot be placed while one account cannot be read: its zones are unknown.
    await expect(fleet.ensureOrganization('acme')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(w.secrets.paths()).toEqual([]);
  });
});

describe('createFleet input and records', () => {
  it('refuses a reserved or invalid name, or an invalid cluster id, before any call: no record is left', async () => {
    const fleet = w.fleet();
    for (const d of Object.values(w.dns)) d.resetCounters();
    await expect(fleet.ensureOrganization('www')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(fleet.ensureOrganization('Not-Valid!')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(fleet.attachCluster('acme', { clusterId: 'Bad Id' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect(Object.values(w.dns).map((d) => Object.keys(d.calls).length)).toEqual([0, 0, 0]);
    expect(w.secrets.paths()).toEqual([]);
  });

  it('refuses an organisation recorded in an account that is not configured (it never moves)', async () => {
    await w.secrets.write(RECORD('acme'), { account: 'gone' }, { cas: 0 });
    const fleet = w.fleet();
    const error = await fleet.ensureOrganization('acme').catch((e: unknown) => e);
    expect(hasErrorCode(error, 'CONFLICT')).toBe(true);
    expect((error as ZonekeeperError).details).toMatchObject({
      reason: 'unknown-account',
      accounts: ['gone'],
    });
    expect(Object.values(w.dns).map((d) => d.writes)).toEqual([1, 0, 0]); // the parent zone only
  });

  it('refuses an organisation whose zones are in two accounts', async () => {
    const fleet = w.fleet();
    await fleet.ensureOrganization('acme'); // b
    await w.secrets.deleteAll(RECORD('acme'));
    // An account's own zonekeeper, bypassing the fleet, does not take acme's delegation over…
    const direct = await fleet.accounts[2]?.zonekeeper.ensureOrganization('acme').catch((e: unknown) => e);
    expect(direct).toMatchObject({ name: 'ZonekeeperError', code: 'NOT_OWNED' });
    expect(zonesOf(w.dns.c)).toEqual([]);
    // …but a zone of ours for acme can still appear in c (by hand, a restored backup).
    const { zone } = await w.dns.c.createZone({ name: `acme.${BASE}`, callerReference: 'by-hand' });
    await w.dns.c.changeTags(zone.id, {
      add: { 'zonekeeper:managed-by': 'zonekeeper', 'zonekeeper:organization': 'acme' },
    });
    await expect(fleet.ensureOrganization('acme')).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { reason: 'placed-in-several-accounts', accounts: ['b', 'c'] },
    });
  });

  it('lists every account’s organisations and routes certificates to the organisation’s account', async () => {
    const fleet = w.fleet({ a: { zoneQuota: 1 } });
    await fleet.ensureOrganization('acme'); // b
    await fleet.ensureOrganization('globex'); // c
    const listed = await fleet.listOrganizations();
    expect(listed.map((o) => [o.account, o.organization])).toEqual([
      ['b', 'acme'],
      ['c', 'globex'],
    ]);
    const cert = await fleet.issueCertificate('globex', {
      name: 'web',
      dnsNames: ['web.globex.example.com'],
    });
    expect(cert.account).toBe('c');
    expect(w.secrets.paths()).toContain(`zonekeeper/platforms/${BASE}/accounts/c/orgs/globex/tls/certs/web`);
  });
});

describe('withParentZoneOf', () => {
  it('sends the parent zone’s name, id and changes to the parent account, everything else to the account', async () => {
    const parent = createMemoryDnsProvider({ idPrefix: 'P' });
    const own = createMemoryDnsProvider({ idPrefix: 'O' });
    const { zone: parentZone } = await parent.createZone({ name: BASE, callerReference: 'p' });
    const dns = withParentZoneOf(own, parent, BASE, undefined);
    const { zone } = await dns.createZone({ name: `acme.${BASE}`, callerReference: 'o' });
    expect(zone.id).toMatch(/^ZO/);
    expect((await dns.findZonesByName(BASE)).map((z) => z.id)).toEqual([parentZone.id]);
    expect((await dns.findZonesByName(`acme.${BASE}`)).map((z) => z.id)).toEqual([zone.id]);
    expect((await dns.listZones()).map((z) => z.id)).toEqual([zone.id]);
    const change = await dns.changeRecords(parentZone.id, [
      { action: 'UPSERT', recordSet: { name: `acme.${BASE}`, type: 'NS', ttl: 300, values: ['ns-1.test.'] } },
    ]);
    expect((await dns.getChange(change.id)).id).toBe(change.id);
    expect(parent.snapshot()[0]?.records.some((r) => r.name === `acme.${BASE}` && r.type === 'NS')).toBe(
      true,
    );
    expect(own.snapshot()[0]?.records.some((r) => r.values.includes('ns-1.test.'))).toBe(false);
    await dns.changeTags(parentZone.id, { add: { k: 'parent' } });
    await dns.changeTags(zone.id, { add: { k: 'own' } });
    const tags = await dns.getTags([parentZone.id, zone.id]);
    expect([tags.get(parentZone.id)?.k, tags.get(zone.id)?.k]).toEqual(['parent', 'own']);
    expect((await dns.listRecords(parentZone.id)).recordSets.some((r) => r.name === `acme.${BASE}`)).toBe(
      true,
    );
  });
});

describe('createFleet configuration', () => {
  const dns = () => createMemoryDnsProvider();
  it.each<[string, () => unknown]>([
    ['no accounts', () => createFleet({ baseDomain: BASE, accounts: [] })],
    [
      'a duplicate account',
      () =>
        createFleet({
          baseDomain: BASE,
          accounts: [
            { id: 'a', dns: dns() },
            { id: 'a', dns: dns() },
          ],
        }),
    ],
    [
      'a role of another account',
      () =>
        createFleet({
          baseDomain: BASE,
          accounts: [{ id: '111111111111', roleArn: 'arn:aws:iam::222222222222:role/zk', dns: dns() }],
        }),
    ],
    [
      'an invalid role ARN',
      () => createFleet({ baseDomain: BASE, accounts: [{ id: 'a', roleArn: 'zk', dns: dns() }] }),
    ],
    [
      'two accounts sharing one limiter',
      () => {
        const rateLimiter = {};
        return createFleet({
          baseDomain: BASE,
          accounts: [
            { id: 'a', dns: { ...dns(), rateLimiter } as DnsProvider },
            { id: 'b', dns: { ...dns(), rateLimiter } as DnsProvider },
          ],
        });
      },
    ],
    [
      'two Route 53 providers left on the process-wide limiter',
      () =>
        createFleet({
          baseDomain: BASE,
          accounts: [
            { id: 'a', dns: createRoute53Provider({ credentials: KEYS }) },
            { id: 'b', dns: createRoute53Provider({ credentials: KEYS }) },
          ],
        }),
    ],
    [
      'a zone quota of 0',
      () => createFleet({ baseDomain: BASE, accounts: [{ id: 'a', dns: dns(), zoneQuota: 0 }] }),
    ],
    [
      'a fractional maxOrganizations',
      () => createFleet({ baseDomain: BASE, accounts: [{ id: 'a', dns: dns(), maxOrganizations: 2.5 }] }),
    ],
    [
      'two accounts with one secret prefix',
      () =>
        createFleet({
          baseDomain: BASE,
          accounts: [
            { id: 'a', dns: dns(), secretPrefix: 'zk/x' },
            { id: 'b', dns: dns(), secretPrefix: 'zk/x' },
          ],
        }),
    ],
    [
      'a secret prefix inside the placements',
      () =>
        createFleet({
          baseDomain: BASE,
          accounts: [{ id: 'a', dns: dns(), secretPrefix: `zonekeeper/platforms/${BASE}/placements/a` }],
        }),
    ],
    [
      'overlapping secret prefixes',
      () =>
        createFleet({
          baseDomain: BASE,
          accounts: [
            { id: 'a', dns: dns(), secretPrefix: 'zk/x' },
            { id: 'b', dns: dns(), secretPrefix: 'zk/x/orgs/y' },
          ],
        }),
    ],
    [
      'a parent account that is not configured',
      () => createFleet({ baseDomain: BASE, parent: { account: 'z' }, accounts: [{ id: 'a', dns: dns() }] }),
    ],
  ])('refuses %s with INVALID_INPUT', (_name, build) => {
    let error: unknown;
    try {
      build();
    } catch (e) {
      error = e;
    }
    expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
  });
});
