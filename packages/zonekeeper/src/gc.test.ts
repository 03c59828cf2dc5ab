import { createManualClock, hasErrorCode, type ManualClock, ZonekeeperError } from '@zonekeeper/core';
import { createMemoryCluster, type MemoryCluster } from '@zonekeeper/externaldns-deployer';
import {
  createMemoryIdentityProvider,
  identityUserName,
  type MemoryIdentityProvider,
} from '@zonekeeper/iam-scoper';
import { createMemorySecretStore, type MemorySecretStore, readAccessKey } from '@zonekeeper/vault-keys';
import {
  createMemoryDnsProvider,
  deleteOrganizationZone,
  type MemoryDnsProvider,
  organizationCallerReference,
} from '@zonekeeper/zone-manager';
import { describe, expect, it } from 'vitest';
import { type ClusterInventory, createMemoryInventory, type MemoryInventory } from './inventory.js';
import { BASE, DAY, HOUR, memoryWorld, T0 } from './memory.test.support.js';
import { memoryBackend } from './reliability/backends.test.support.js';
import { Harness } from './reliability/harness.test.support.js';
import { inventoryFuzz } from './reliability/inventory-fuzz.test.support.js';
import { report } from './reliability/matrix.test.support.js';
import { createZonekeeper, type Zonekeeper } from './zonekeeper.js';

const user = (organization: string) => identityUserName({ baseDomain: BASE, organization });
const LAYOUT = { prefix: `zonekeeper/platforms/${BASE}`, owner: BASE };

/** Memory ports the tests can wrap and inspect, with a zonekeeper on them. */
interface Ports {
  readonly clock: ManualClock;
  readonly dns: MemoryDnsProvider;
  readonly identity: MemoryIdentityProvider;
  readonly secrets: MemorySecretStore;
  readonly inventory: MemoryInventory;
  cluster(id: string): MemoryCluster;
  zonekeeper(options?: {
    harness?: Harness;
    inventory?: ClusterInventory;
    dns?: MemoryDnsProvider;
  }): Zonekeeper;
}

async function ports(): Promise<Ports> {
  const clock = createManualClock(T0);
  const dns = createMemoryDnsProvider({ clock });
  const identity = createMemoryIdentityProvider({ clock });
  const secrets = createMemorySecretStore({ clock });
  const inventory = createMemoryInventory();
  await dns.createZone({ name: BASE, callerReference: 'parent' });
  const clusters = new Map<string, MemoryCluster>();
  const cluster = (id: string) => {
    if (!clusters.has(id)) clusters.set(id, createMemoryCluster({ name: id, clock }));
    return clusters.get(id) as MemoryCluster;
  };
  return {
    clock,
    dns,
    identity,
    secrets,
    inventory,
    cluster,
    zonekeeper: (o = {}) => {
      const h = o.harness;
      const wrap = <T extends object>(p: T, kind: 'dns' | 'identity' | 'secrets') =>
        h ? h.wrap(p, kind) : p;
      return createZonekeeper({
        baseDomain: BASE,
        clock,
        inventory: o.inventory ?? inventory,
        dns: wrap(o.dns ?? dns, 'dns'),
        identity: wrap(identity, 'identity'),
        secrets: wrap(secrets, 'secrets'),
        clusters: (id) => (h ? h.wrap(cluster(id), 'cluster', id) : cluster(id)),
      });
    },
  };
}

const zoneOf = (p: { dns: MemoryDnsProvider }, org: string) =>
  p.dns.snapshot().filter((z) => z.name === `${org}.${BASE}`);

/** acme attached to c1 (so it has an attachment, a CA and a key), then its cluster stopped; one hour later. */
async function unusedAcme(p: Ports) {
  p.inventory.set({ organization: 'acme', clusterId: 'c1', running: true });
  const r = await p.zonekeeper().attachCluster('acme', { clusterId: 'c1' });
  const zoneId = r.organizationResult.zone?.id as string;
  await p.dns.changeRecords(zoneId, [
    { action: 'CREATE', recordSet: { name: `www.acme.${BASE}`, type: 'A', ttl: 300, values: ['192.0.2.1'] } },
  ]);
  p.inventory.set({ organization: 'acme', clusterId: 'c1', running: false });
  await p.clock.advance(HOUR);
  return zoneId;
}

describe('collectGarbage', () => {
  it('decides per gc-policy: deletes a free zone, keeps one in use, defers a paid one to just before the 1st', async () => {
    const w = memoryWorld();
    await w.zk.ensureOrganization('initech'); // 10 Mar 05:00
    await w.clock.advance(13 * HOUR);
    await w.zk.ensureOrganization('globex'); // 10 Mar 18:00
    await w.zk.ensureOrganization('acme');
    w.inventory.set({ organization: 'globex', clusterId: 'g1', running: true });
    w.inventory.set({ organization: 'acme', clusterId: 'a1', running: false });
    w.inventory.set({ organization: 'initech', clusterId: 'i1', running: false });
    await w.clock.advance(HOUR);

    const r = await w.zk.collectGarbage();
    const id = (org: string) => w.dns.snapshot().find((z) => z.name === `${org}.${BASE}`)?.id;
    const byOrg = Object.fromEntries(
      r.zones.map((z) => [z.organization, r.plan.decisions.find((d) => d.zoneId === z.id)]),
    );
    expect(byOrg.acme).toMatchObject({ action: 'delete', reason: 'FREE_DELETION_WINDOW' });
    expect(byOrg.globex).toMatchObject({ action: 'keep', reason: 'IN_USE' });
    expect(byOrg.initech).toMatchObject({ action: 'defer', reason: 'ALREADY_CHARGED' });
    expect(r.nextReviewAt?.toISOString()).toBe('2026-03-31T23:00:00.000Z');
    expect(r.results).toEqual([
      {
        zoneId: r.plan.toDelete[0],
        organization: 'acme',
        status: 'deleted',
        reason: 'deleted',
        decision: 'FREE_DELETION_WINDOW',
        message: expect.stringMatching(/^Deleted: /),
      },
    ]);
    expect(id('acme')).toBeUndefined();
    expect(id('globex')).toBeDefined();
    expect(
      w.identity
        .snapshot()
        .map((u) => u.userName)
        .sort(),
    ).toEqual([user('globex'), user('initech')].sort());
    expect(w.secrets.paths().some((p) => p.includes('/orgs/acme/'))).toBe(false);

    // Just before April's charge, initech goes too.
    await w.clock.set(new Date('2026-03-31T23:00:00.000Z'));
    const later = await w.zk.collectGarbage();
    expect(later.results).toEqual([
      expect.objectContaining({ organization: 'initech', status: 'deleted', decision: 'BEFORE_NEXT_CHARGE' }),
    ]);
    expect(later.plan.decisions.find((d) => d.action === 'delete')?.reason).toBe('BEFORE_NEXT_CHARGE');
    expect(id('initech')).toBeUndefined();
  });

  it('deletes in order: delegation → records → zone → identity (keys, policy, user) → secrets', async () => {
    const p = await ports();
    await unusedAcme(p);
    const harness = new Harness();
    const r = await p.zonekeeper({ harness }).collectGarbage();
    expect(r.results.map((x) => x.status)).toEqual(['deleted']);
    const parentId = p.dns.snapshot().find((z) => z.name === BASE)?.id;
    const order = harness.writes.map((w) => `${w.port}.${w.method}`);
    expect(order).toEqual([
      'secrets.write', // the organisation's lock, held until the end
      'dns.changeRecords', // the delegation, in the parent
      'dns.changeRecords', // the records
      'dns.deleteZone',
      'identity.deleteAccessKey',
      'identity.deleteUserPolicy',
      'identity.deleteUser',
      'secrets.deleteAll', // its key
      'secrets.deleteAll', // the attachment of c1
      'secrets.deleteAll', // the settings of c1
      'secrets.deleteAll', // the CA
      'secrets.deleteAll', // the binding of c1
      'secrets.deleteAll', // the lock, last
    ]);
    expect(parentId).toBeDefined();
    expect(
      p.dns
        .snapshot()
        .find((z) => z.name === BASE)
        ?.records.some((x) => x.name === `acme.${BASE}`),
    ).toBe(false);
    expect(p.secrets.paths()).toEqual([]);
    expect(p.identity.snapshot()).toEqual([]);
  });

  it('dry run plans and lists orphans, and changes nothing', async () => {
    const p = await ports();
    await unusedAcme(p);
    await p.zonekeeper().ensureOrganization('oldco');
    await deleteOrganizationZone(zoneOf(p, 'oldco')[0]?.id as string, { dns: p.dns });
    const writes = () => p.dns.writes + p.identity.writes() + (p.secrets.calls.deleteAll ?? 0);
    const before = writes();
    const r = await p.zonekeeper().collectGarbage({ dryRun: true });
    expect(writes()).toBe(before);
    expect(r.dryRun).toBe(true);
    expect(r.plan.toDelete).toHaveLength(1);
    expect(r.results).toEqual([]);
    expect(r.orphans.identities).toEqual([user('oldco')]);
    expect([...r.orphans.secretPaths].sort()).toEqual([
      `zonekeeper/platforms/${BASE}/orgs/oldco/aws-access-key`,
      `zonekeeper/platforms/${BASE}/orgs/oldco/tls/ca`,
    ]);
  });

  it('re-checks the inventory right before each deletion: a cluster back between plan and deletion keeps the zone', async () => {
    const p = await ports();
    const zoneId = await unusedAcme(p);
    let reads = 0;
    const inventory: ClusterInventory = {
      listClusters: async (o) => {
        reads += 1;
        if (reads === 2) p.inventory.set({ organization: 'acme', clusterId: 'c2', running: true });
        return p.inventory.listClusters(o);
      },
    };
    const r = await p.zonekeeper({ inventory }).collectGarbage();
    expect(r.plan.toDelete).toEqual([zoneId]);
    expect(r.results).toEqual([
      expect.objectContaining({
        zoneId,
        organization: 'acme',
        status: 'skipped',
        reason: 'in-use-again',
        decision: 'IN_USE',
      }),
    ]);
    expect(zoneOf(p, 'acme')).toHaveLength(1);
    expect(p.identity.snapshot()).toHaveLength(1);
  });

  it('a cluster back while the zone is being deleted keeps the zone, its records and credentials, and restores the delegation', async () => {
    const p = await ports();
    const zoneId = await unusedAcme(p);
    const dns = p.dns;
    const changeRecords = dns.changeRecords.bind(dns);
    let hooked = false;
    const racing: MemoryDnsProvider = Object.create(dns, {
      changeRecords: {
        value: async (...args: Parameters<MemoryDnsProvider['changeRecords']>) => {
          const result = await changeRecords(...args);
          if (!hooked) {
            hooked = true; // the delegation is gone; now a cluster of acme starts
            p.inventory.set({ organization: 'acme', clusterId: 'c2', running: true });
          }
          return result;
        },
      },
    });
    const r = await p.zonekeeper({ dns: racing }).collectGarbage();
    expect(r.results[0]).toMatchObject({ zoneId, status: 'skipped', reason: 'came-back' });
    expect(r.results[0]?.message).toMatch(/running cluster again/);
    const zone = zoneOf(p, 'acme');
    expect(zone).toHaveLength(1);
    expect(zone[0]?.records.some((x) => x.name === `www.acme.${BASE}`)).toBe(true);
    const delegation = p.dns
      .snapshot()
      .find((z) => z.name === BASE)
      ?.records.find((x) => x.name === `acme.${BASE}`);
    expect(delegation?.type).toBe('NS');
    const key = await readAccessKey(p.secrets, { organization: 'acme' }, LAYOUT);
    expect(p.identity.snapshot()[0]?.accessKeys.map((k) => k.accessKeyId)).toEqual([key?.accessKeyId]);
  });

  it('a comeback registered while the collection deletes the zone waits for it, then finds its identity and key kept', async () => {
    const p = await ports();
    await unusedAcme(p);
    const dns = p.dns;
    const deleteZone = dns.deleteZone.bind(dns);
    let comeback: Promise<string | undefined> | undefined;
    const racing: MemoryDnsProvider = Object.create(dns, {
      deleteZone: {
        value: async (...args: Parameters<MemoryDnsProvider['deleteZone']>) => {
          const result = await deleteZone(...args);
          // A new cluster is registered and attached while the collector is between zone and identity:
          // the attach waits for the organisation's lock.
          p.inventory.set({ organization: 'acme', clusterId: 'c2', running: true });
          comeback = p
            .zonekeeper()
            .attachCluster('acme', { clusterId: 'c2' })
            .then((x) => x.organizationResult.zone?.id);
          return result;
        },
      },
    });
    const r = await p.zonekeeper({ dns: racing }).collectGarbage();
    const newZone = await comeback;
    expect(r.results.map((x) => x.status)).toEqual(['deleted']);
    expect(zoneOf(p, 'acme').map((z) => z.id)).toEqual([newZone]);
    const u = p.identity.snapshot()[0];
    expect(u?.tags['zonekeeper:zone-id']).toBe(newZone);
    const key = await readAccessKey(p.secrets, { organization: 'acme' }, LAYOUT);
    expect(u?.accessKeys.map((k) => k.accessKeyId)).toEqual([key?.accessKeyId]);
    expect(r.orphans).toEqual({ identities: [], secretPaths: [], busy: [] });
  });

  it('a comeback not yet in the inventory waits for the collection, then recreates what it deleted (issue #10)', async () => {
    const p = await ports();
    await unusedAcme(p);
    const dns = p.dns;
    const deleteZone = dns.deleteZone.bind(dns);
    let comeback: Promise<unknown> | undefined;
    const racing: MemoryDnsProvider = Object.create(dns, {
      deleteZone: {
        value: async (...args: Parameters<MemoryDnsProvider['deleteZone']>) => {
          const result = await deleteZone(...args);
          // The platform re-registers acme and attaches c2 before the inventory knows the cluster.
          comeback = p.zonekeeper().attachCluster('acme', { clusterId: 'c2' });
          return result;
        },
      },
    });
    const r = await p.zonekeeper({ dns: racing }).collectGarbage();
    await comeback;
    expect(r.results.map((x) => x.status)).toEqual(['deleted']);
    // The collection deleted the old identity, key and CA before the attach could write; the attach then
    // recreated them, and nothing it created was deleted.
    const zones = zoneOf(p, 'acme');
    expect(zones).toHaveLength(1);
    const users = p.identity.snapshot();
    expect(users.map((u) => u.tags['zonekeeper:zone-id'])).toEqual([zones[0]?.id]);
    const key = await readAccessKey(p.secrets, { organization: 'acme' }, LAYOUT);
    expect(users[0]?.accessKeys.map((k) => k.accessKeyId)).toEqual([key?.accessKeyId]);
    const secret = p
      .cluster('c2')
      .objects()
      .find((o) => o.kind === 'Secret');
    expect(
      Buffer.from(((secret?.data ?? {}) as Record<string, string>).credentials ?? '', 'base64').toString(),
    ).toContain(key?.accessKeyId);
    expect(p.secrets.paths()).toEqual(
      expect.arrayContaining([
        `${LAYOUT.prefix}/orgs/acme/clusters/c2/attachment`,
        `${LAYOUT.prefix}/orgs/acme/tls/ca`,
        `${LAYOUT.prefix}/clusters/c2`,
      ]),
    );
  });

  it('fails closed when the inventory cannot be read or contradicts itself at the start', async () => {
    const broken: [string, ClusterInventory][] = [
      ['fails', { listClusters: async () => Promise.reject(new Error('503')) }],
      ['not a list', { listClusters: async () => ({}) as never }],
      [
        'duplicates',
        {
          listClusters: async () => [
            { organization: 'acme', clusterId: 'c1', running: false },
            { organization: 'acme', clusterId: 'c1', running: true },
          ],
        },
      ],
      [
        'invalid record',
        { listClusters: async () => [{ organization: 'ACME', clusterId: 'c1', running: false }] },
      ],
      [
        'non-boolean',
        { listClusters: async () => [{ organization: 'acme', clusterId: 'c1', running: 'no' as never }] },
      ],
    ];
    for (const [what, inventory] of broken) {
      const p = await ports();
      await unusedAcme(p);
      const writes = p.dns.writes + p.identity.writes() + (p.secrets.calls.deleteAll ?? 0);
      const e = await p
        .zonekeeper({ inventory })
        .collectGarbage()
        .catch((x: unknown) => x);
      expect(hasErrorCode(e, 'UNAVAILABLE'), what).toBe(true);
      expect((e as Error).message, what).toMatch(/fail closed/);
      expect(p.dns.writes + p.identity.writes() + (p.secrets.calls.deleteAll ?? 0), what).toBe(writes);
    }
  });

  it('fails closed when the inventory fails during the sweep: nothing more is deleted, no orphan is swept', async () => {
    const p = await ports();
    p.inventory.set({ organization: 'globex', clusterId: 'g1', running: false });
    await p.zonekeeper().ensureOrganization('globex');
    await unusedAcme(p);
    await p.zonekeeper().ensureOrganization('oldco');
    await deleteOrganizationZone(zoneOf(p, 'oldco')[0]?.id as string, { dns: p.dns });
    let reads = 0;
    const inventory: ClusterInventory = {
      listClusters: async (o) => {
        reads += 1;
        // The plan, then acme's re-check, guards and clean-up check; then it breaks.
        if (reads > 6) throw new Error('inventory: 503');
        return p.inventory.listClusters(o);
      },
    };
    const r = await p.zonekeeper({ inventory }).collectGarbage();
    expect(r.results.map((x) => x.status)).toEqual(['deleted', 'skipped']);
    const [gone, kept] = r.results.map((x) => x.organization) as [string, string];
    expect(r.results[1]?.reason).toBe('fail-closed');
    expect(zoneOf(p, gone)).toHaveLength(0);
    expect(zoneOf(p, kept)).toHaveLength(1);
    // Nothing of the kept organisation was touched, not even its delegation.
    expect(
      p.dns
        .snapshot()
        .find((z) => z.name === BASE)
        ?.records.some((x) => x.name === `${kept}.${BASE}`),
    ).toBe(true);
    expect(p.identity.snapshot().map((u) => u.userName)).toContain(user(kept));
    expect(r.orphans).toEqual({ identities: [], secretPaths: [], busy: [] });
    expect(p.identity.snapshot().map((u) => u.userName)).toContain(user('oldco'));
  });

  it('never deletes a protected zone, even one protected between the plan and the deletion', async () => {
    const p = await ports();
    const zoneId = await unusedAcme(p);
    await p.dns.changeTags(zoneId, { add: { 'zonekeeper:protected': 'true' } });
    const r = await p.zonekeeper().collectGarbage();
    expect(r.plan.decisions[0]).toMatchObject({ action: 'keep', reason: 'PROTECTED' });
    expect(r.results).toEqual([]);

    await p.dns.changeTags(zoneId, { remove: ['zonekeeper:protected'] });
    let reads = 0;
    const inventory: ClusterInventory = {
      listClusters: async (o) => {
        reads += 1;
        if (reads === 2) await p.dns.changeTags(zoneId, { add: { 'zonekeeper:protected': 'true' } });
        return p.inventory.listClusters(o);
      },
    };
    const again = await p.zonekeeper({ inventory }).collectGarbage();
    expect(again.results[0]).toMatchObject({ zoneId, status: 'failed' });
    expect(hasErrorCode(again.results[0]?.error, 'CONFLICT')).toBe(true);
    expect(zoneOf(p, 'acme')).toHaveLength(1);
    expect(p.identity.snapshot()).toHaveLength(1);
  });

  it('sweeps orphans: identities and secrets of organisations without zone and without running cluster', async () => {
    const p = await ports();
    const zk = p.zonekeeper();
    for (const org of ['oldco', 'busyco', 'halfco']) {
      p.inventory.set({ organization: org, clusterId: `${org}-1`, running: true });
      await zk.ensureOrganization(org);
    }
    for (const org of ['oldco', 'busyco'])
      await deleteOrganizationZone(zoneOf(p, org)[0]?.id as string, { dns: p.dns });
    p.inventory.set({ organization: 'oldco', clusterId: 'oldco-1', running: false });
    // halfco's zone lost its tags (as after a crash between creation and tagging): it still has a zone.
    await p.dns.changeTags(zoneOf(p, 'halfco')[0]?.id as string, {
      remove: ['zonekeeper:managed-by', 'zonekeeper:organization', 'zonekeeper:created-at'],
    });
    p.inventory.set({ organization: 'halfco', clusterId: 'halfco-1', running: false });
    const r = await zk.collectGarbage();
    expect(r.orphans.identities).toEqual([user('oldco')]);
    expect([...r.orphans.secretPaths].sort()).toEqual([
      `zonekeeper/platforms/${BASE}/orgs/oldco/aws-access-key`,
      `zonekeeper/platforms/${BASE}/orgs/oldco/tls/ca`,
    ]);
    expect(
      p.identity
        .snapshot()
        .map((u) => u.userName)
        .sort(),
    ).toEqual([user('busyco'), user('halfco')].sort());
  });

  it('deletes identities only once every zone of the organisation is gone (duplicate zones)', async () => {
    const p = await ports();
    await unusedAcme(p);
    // A second, empty zone of acme (a duplicate a concurrent run left behind), created a day later.
    await p.clock.advance(DAY);
    const dup = await p.dns.createZone({
      name: `acme.${BASE}`,
      callerReference: organizationCallerReference(`acme.${BASE}`, p.clock.now(), 'dup00001'),
    });
    await p.dns.changeTags(dup.zone.id, {
      add: {
        'zonekeeper:managed-by': 'zonekeeper',
        'zonekeeper:organization': 'acme',
        'zonekeeper:created-at': p.clock.now().toISOString(),
      },
    });
    await p.clock.advance(HOUR);
    // The old zone is paid for (deferred); the duplicate is free (deleted): the identity must stay.
    const r = await p.zonekeeper().collectGarbage();
    expect(r.results).toEqual([
      expect.objectContaining({
        zoneId: dup.zone.id,
        organization: 'acme',
        status: 'deleted',
        reason: 'deleted',
      }),
    ]);
    expect(p.identity.snapshot()).toHaveLength(1);
    expect(p.secrets.paths().some((x) => x.endsWith('/acme/aws-access-key'))).toBe(true);

    // Both deleted in one collection, the second fails: the identity still stays.
    const q = await ports();
    await unusedAcme(q);
    const dup2 = await q.dns.createZone({
      name: `acme.${BASE}`,
      callerReference: organizationCallerReference(`acme.${BASE}`, q.clock.now(), 'dup00002'),
    });
    await q.dns.changeTags(dup2.zone.id, {
      add: {
        'zonekeeper:managed-by': 'zonekeeper',
        'zonekeeper:organization': 'acme',
        'zonekeeper:created-at': q.clock.now().toISOString(),
      },
    });
    const deleteZone = q.dns.deleteZone.bind(q.dns);
    const flaky: MemoryDnsProvider = Object.create(q.dns, {
      deleteZone: {
        value: async (id: string, o?: { signal?: AbortSignal }) => {
          if (id === dup2.zone.id) throw new ZonekeeperError('UNAVAILABLE', 'memory DNS: 503 (injected)');
          return deleteZone(id, o);
        },
      },
    });
    const both = await q.zonekeeper({ dns: flaky }).collectGarbage();
    expect(both.plan.toDelete).toHaveLength(2);
    expect(both.results.map((x) => x.status).sort()).toEqual(['deleted', 'failed']);
    expect(q.identity.snapshot()).toHaveLength(1);
    expect(q.secrets.paths().some((x) => x.endsWith('/acme/aws-access-key'))).toBe(true);
  });

  it('reports identity and secret clean-up it could not finish, and the next collection finishes it', async () => {
    const p = await ports();
    await unusedAcme(p);
    const deleteAll = p.secrets.deleteAll.bind(p.secrets);
    let failing = 2;
    p.secrets.deleteAll = async (path, o) => {
      if (failing-- > 0) throw new ZonekeeperError('UNAVAILABLE', 'memory store: 503 (injected)');
      return deleteAll(path, o);
    };
    const r = await p.zonekeeper().collectGarbage();
    expect(r.results[0]?.status).toBe('deleted');
    expect(hasErrorCode(r.results[0]?.error, 'UNAVAILABLE')).toBe(true);
    expect(r.results[0]?.reason).toBe('leftovers-remain');
    expect(r.results[0]?.message).toMatch(/not all removed/);
    expect(hasErrorCode(r.orphans.error, 'UNAVAILABLE')).toBe(true);
    const again = await p.zonekeeper().collectGarbage();
    expect(again.orphans.error).toBeUndefined();
    expect(p.secrets.paths()).toEqual([]);
  });

  it('rejects an invalid now before any call', async () => {
    const w = memoryWorld();
    const e = await w.zk.collectGarbage({ now: new Date(Number.NaN) }).catch((x: unknown) => x);
    expect(hasErrorCode(e, 'INVALID_INPUT')).toBe(true);
    expect(await w.callCount()).toBe(0);
  });

  it('under an inventory that flips and fails at random, never touches a zone, identity or secret in use', async () => {
    const backend = memoryBackend();
    const figures = await inventoryFuzz(backend, {
      organizations: ['acme', 'globex', 'initech', 'umbrella'],
      rounds: 60,
      seed: 20260310,
      flip: 0.15,
      fail: 0.05,
    });
    report({
      suite: 'inventory-fuzz',
      backend: backend.name,
      ...figures,
      violations: figures.violations.length,
    });
    expect(figures.violations).toEqual([]);
    expect(figures.zonesDeleted).toBeGreaterThan(20);
    expect(figures.deletionsRefused).toBeGreaterThan(0);
    expect(figures.collectionsFailedClosed).toBeGreaterThan(0);
  });
});

describe('collectGarbage without an inventory', () => {
  it('refuses before reading anything instead of treating every organisation as unused', async () => {
    const zk = createZonekeeper({ baseDomain: 'example.com' });
    await zk.ensureOrganization('acme');
    const e = await zk.collectGarbage().catch((x) => x);
    expect(hasErrorCode(e, 'INVALID_INPUT')).toBe(true);
    expect(e.message).toMatch(/needs a cluster inventory/);
    expect((await zk.ports.dns.findZonesByName('acme.example.com')).length).toBe(1);
    const loop = await zk.runGarbageCollector({ signal: new AbortController().signal }).catch((x) => x);
    expect(hasErrorCode(loop, 'INVALID_INPUT')).toBe(true);
  });
});
