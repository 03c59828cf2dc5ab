/**
 * The collector at scale: one whole-inventory read per collection, a point query per re-check, and the
 * safety of both against an organisation that comes back between the sweep's read and its deletion.
 */
import { hasErrorCode, type ManualClock } from '@zonekeeper/core';
import { identityUserName } from '@zonekeeper/iam-scoper';
import { readAccessKey } from '@zonekeeper/vault-keys';
import type { MemoryDnsProvider } from '@zonekeeper/zone-manager';
import { describe, expect, it } from 'vitest';
import type { ClusterInventory, ClusterRecord, MemoryInventory } from './inventory.js';
import { BASE, HOUR, type MemoryWorld, memoryWorld } from './memory.test.support.js';
import { createZonekeeper } from './zonekeeper.js';

const LAYOUT = { prefix: `zonekeeper/platforms/${BASE}`, owner: BASE };
const user = (organization: string) => identityUserName({ baseDomain: BASE, organization });

/** An inventory that forwards to the memory one and counts both kinds of read; hooks run after each. */
function counted(
  memory: MemoryInventory,
  hooks: {
    afterList?: (n: number) => Promise<void> | void;
    afterPoint?: (organization: string, n: number) => Promise<void> | void;
  } = {},
) {
  const reads = { list: 0, point: [] as string[] };
  const inventory: ClusterInventory = {
    async listClusters(o) {
      reads.list += 1;
      const answer = await memory.listClusters(o);
      await hooks.afterList?.(reads.list);
      return answer;
    },
    async listClustersOf(organization, o) {
      reads.point.push(organization);
      const answer = await memory.listClustersOf(organization, o);
      await hooks.afterPoint?.(organization, reads.point.length);
      return answer;
    },
  };
  return { inventory, reads };
}

/** `count` organisations with a zone each (and an identity, secrets); none in use; an hour later. */
async function fleet(w: MemoryWorld, count: number): Promise<string[]> {
  const orgs = Array.from({ length: count }, (_, i) => `org-${String(i).padStart(3, '0')}`);
  for (const org of orgs) await w.zk.ensureOrganization(org);
  await w.clock.advance(HOUR);
  return orgs;
}

function zonekeeperOn(w: MemoryWorld, inventory: ClusterInventory, clock: ManualClock, concurrency = 1) {
  return createZonekeeper({
    baseDomain: BASE,
    clock,
    inventory,
    dns: w.dns,
    identity: w.identity,
    secrets: w.secrets,
    clusters: (id) => w.cluster(id),
    gc: { concurrency },
  });
}

describe('the collector at scale', () => {
  it('reads the whole inventory twice per collection (plan, orphan sweep) and re-checks by point query, a constant number per deletion', async () => {
    for (const size of [4, 16]) {
      const w = memoryWorld();
      const orgs = await fleet(w, size);
      for (const org of orgs.slice(0, size / 2))
        w.inventory.set({ organization: org, clusterId: 'c1', running: true });
      const { inventory, reads } = counted(w.inventory);
      const r = await zonekeeperOn(w, inventory, w.clock).collectGarbage();
      const deleted = r.results.filter((x) => x.status === 'deleted');
      expect(deleted).toHaveLength(size / 2);
      expect(reads.list, `${size} organisations`).toBe(2);
      // The re-check before the deletion, one per destructive call (delegation, records, zone) and the
      // "is it back?" check before its identity goes: 4 per deleted organisation, only for those.
      expect(reads.point).toHaveLength(4 * deleted.length);
      expect(new Set(reads.point)).toEqual(new Set(deleted.map((x) => x.organization)));
    }
  });

  it('an organisation re-attached between the sweep’s read and its deletion is not deleted', async () => {
    const w = memoryWorld();
    w.inventory.set({ organization: 'acme', clusterId: 'c1', running: true });
    await w.zk.attachCluster('acme', { clusterId: 'c1' });
    w.inventory.set({ organization: 'acme', clusterId: 'c1', running: false });
    await w.clock.advance(HOUR);
    const zoneId = w.dns.snapshot().find((z) => z.name === `acme.${BASE}`)?.id as string;
    let attached: Promise<unknown> | undefined;
    // The sweep has read the inventory (acme unused) and planned acme's deletion; before the collector
    // takes acme's lock the platform registers a new cluster and attaches it, to the end.
    const { inventory, reads } = counted(w.inventory, {
      afterList: async (n) => {
        if (n !== 1) return;
        w.inventory.set({ organization: 'acme', clusterId: 'c2', running: true });
        attached = w.zk.attachCluster('acme', { clusterId: 'c2' });
        await attached;
      },
    });
    const r = await zonekeeperOn(w, inventory, w.clock).collectGarbage();
    await attached;
    expect(r.plan.toDelete).toEqual([zoneId]);
    expect(r.results).toEqual([
      expect.objectContaining({ zoneId, status: 'skipped', reason: 'in-use-again', decision: 'IN_USE' }),
    ]);
    expect(reads.point).toEqual(['acme']);
    // Everything of acme is there and consistent: zone (the same one), delegation, identity and key.
    expect(w.dns.snapshot().filter((z) => z.name === `acme.${BASE}`)).toHaveLength(1);
    expect(w.delegation(`acme.${BASE}`)?.type).toBe('NS');
    const key = await readAccessKey(w.secrets, { organization: 'acme' }, LAYOUT);
    expect(w.identity.snapshot().find((u) => u.userName === user('acme'))?.accessKeys).toEqual([
      expect.objectContaining({ accessKeyId: key?.accessKeyId }),
    ]);
  });

  it('an organisation re-registered after its re-check, before a destructive call, keeps its zone and delegation (point query path)', async () => {
    const w = memoryWorld();
    await fleet(w, 1);
    const org = 'org-000';
    // The re-check said "unused"; the point query of the first destructive call sees it running.
    const { inventory } = counted(w.inventory, {
      afterPoint: (_o, n) => {
        if (n === 1) w.inventory.set({ organization: org, clusterId: 'c9', running: true });
      },
    });
    const r = await zonekeeperOn(w, inventory, w.clock).collectGarbage();
    expect(r.results[0]).toMatchObject({ organization: org, status: 'skipped', reason: 'came-back' });
    expect(w.dns.snapshot().filter((z) => z.name === `${org}.${BASE}`)).toHaveLength(1);
    expect(w.delegation(`${org}.${BASE}`)?.type).toBe('NS');
    expect(w.identity.snapshot().map((u) => u.userName)).toEqual([user(org)]);
  });

  it('fails closed on a point query that fails, answers another organisation, lists a cluster twice or is not a list', async () => {
    const lies: [string, (org: string) => Promise<readonly ClusterRecord[]>][] = [
      ['fails', async () => Promise.reject(new Error('inventory: 503'))],
      ['another organisation', async () => [{ organization: 'globex', clusterId: 'g1', running: false }]],
      [
        'duplicate',
        async (org) => [
          { organization: org, clusterId: 'c1', running: false },
          { organization: org, clusterId: 'c1', running: false },
        ],
      ],
      ['not a list', async () => ({}) as never],
      ['invalid record', async (org) => [{ organization: org, clusterId: 'C_1', running: false }]],
    ];
    for (const [what, answer] of lies) {
      const w = memoryWorld();
      await fleet(w, 2);
      const inventory: ClusterInventory = {
        listClusters: (o) => w.inventory.listClusters(o),
        listClustersOf: answer,
      };
      const writes = await w.writes();
      const r = await zonekeeperOn(w, inventory, w.clock).collectGarbage();
      expect(
        r.results.map((x) => x.reason),
        what,
      ).toEqual(['fail-closed', 'fail-closed']);
      expect(r.orphans, what).toEqual({ identities: [], secretPaths: [], busy: [] });
      // Only the two lock writes and their releases; nothing deleted.
      expect(
        w.dns.snapshot().filter((z) => z.name !== BASE),
        what,
      ).toHaveLength(2);
      expect((await w.writes()).dns, what).toBe(writes.dns);
      expect((await w.writes()).identity, what).toBe(writes.identity);
    }
  });

  it('without a point query, the re-checks read the whole inventory (the old cost, same safety)', async () => {
    const w = memoryWorld();
    await fleet(w, 3);
    let lists = 0;
    const inventory: ClusterInventory = {
      listClusters: (o) => {
        lists += 1;
        return w.inventory.listClusters(o);
      },
    };
    const r = await zonekeeperOn(w, inventory, w.clock).collectGarbage();
    expect(r.results.map((x) => x.status)).toEqual(['deleted', 'deleted', 'deleted']);
    expect(lists).toBe(2 + 4 * 3);
  });

  it('lists identities and cluster bindings once per collection, not once per deleted organisation', async () => {
    const w = memoryWorld();
    for (const org of ['acme', 'globex', 'initech']) {
      w.inventory.set({ organization: org, clusterId: `${org}-1`, running: true });
      await w.zk.attachCluster(org, { clusterId: `${org}-1` });
      w.inventory.set({ organization: org, clusterId: `${org}-1`, running: false });
    }
    await w.clock.advance(HOUR);
    const listUsers = () => w.identity.calls.listUsers ?? 0;
    const before = listUsers();
    const r = await w.zk.collectGarbage();
    expect(r.results.map((x) => x.status)).toEqual(['deleted', 'deleted', 'deleted']);
    // One for the leftovers of all three, one for the orphan sweep.
    expect(listUsers() - before).toBe(2);
    expect(w.identity.snapshot()).toEqual([]);
    expect(w.secrets.paths()).toEqual([]);
  });

  it('an identity deleted by someone else after the collection listed it is skipped, the rest still goes', async () => {
    const w = memoryWorld();
    await fleet(w, 2);
    const dns = w.dns;
    const deleteZone = dns.deleteZone.bind(dns);
    let deletedOther = false;
    // After the first organisation's zone is gone (and its clean-up listed every identity), the second
    // organisation's identity is removed by hand.
    const racing: MemoryDnsProvider = Object.create(dns, {
      deleteZone: {
        value: async (...args: Parameters<MemoryDnsProvider['deleteZone']>) => {
          const out = await deleteZone(...args);
          if (!deletedOther && w.identity.snapshot().length === 1) {
            deletedOther = true;
            const u = w.identity.snapshot()[0];
            for (const k of u?.accessKeys ?? [])
              await w.identity.deleteAccessKey(u?.userName ?? '', k.accessKeyId);
            for (const p of await w.identity.listUserPolicies(u?.userName ?? ''))
              await w.identity.deleteUserPolicy(u?.userName ?? '', p);
            await w.identity.deleteUser(u?.userName ?? '');
          }
          return out;
        },
      },
    });
    const zk = createZonekeeper({
      baseDomain: BASE,
      clock: w.clock,
      inventory: w.inventory,
      dns: racing,
      identity: w.identity,
      secrets: w.secrets,
    });
    const r = await zk.collectGarbage();
    expect(deletedOther).toBe(true);
    expect(r.results.map((x) => [x.status, x.reason])).toEqual([
      ['deleted', 'deleted'],
      ['deleted', 'deleted'],
    ]);
    expect(w.identity.snapshot()).toEqual([]);
    expect(w.secrets.paths()).toEqual([]);
  });
});

describe('gc.concurrency', () => {
  it('deletes several organisations at once, each under its lock, with every result in the plan’s order', async () => {
    const w = memoryWorld();
    const orgs = await fleet(w, 6);
    let active = 0;
    let peak = 0;
    const dns = w.dns;
    const deleteZone = dns.deleteZone.bind(dns);
    const slow: MemoryDnsProvider = Object.create(dns, {
      deleteZone: {
        value: async (...args: Parameters<MemoryDnsProvider['deleteZone']>) => {
          active += 1;
          peak = Math.max(peak, active);
          await new Promise((resolve) => setTimeout(resolve, 5));
          active -= 1;
          return deleteZone(...args);
        },
      },
    });
    const zk = createZonekeeper({
      baseDomain: BASE,
      clock: w.clock,
      inventory: w.inventory,
      dns: slow,
      identity: w.identity,
      secrets: w.secrets,
      gc: { concurrency: 3 },
    });
    const r = await zk.collectGarbage();
    expect(peak).toBe(3);
    expect(r.results.map((x) => x.status)).toEqual(orgs.map(() => 'deleted'));
    expect(r.results.map((x) => x.zoneId)).toEqual(r.plan.toDelete);
    expect(w.dns.snapshot().map((z) => z.name)).toEqual([BASE]);
    expect(w.identity.snapshot()).toEqual([]);
    expect(w.secrets.paths()).toEqual([]);
  });

  it('every destructive call follows a successful re-check of its own organisation that saw it unused; after a failed read no organisation starts', async () => {
    const w = memoryWorld();
    await fleet(w, 8);
    const events: string[] = [];
    let points = 0;
    const inventory: ClusterInventory = {
      listClusters: (o) => w.inventory.listClusters(o),
      async listClustersOf(organization, o) {
        points += 1;
        if (points === 6) {
          events.push(`fail ${organization}`);
          throw new Error('inventory: 503');
        }
        const answer = await w.inventory.listClustersOf(organization, o);
        events.push(`ok ${organization}`);
        return answer;
      },
    };
    const dns = w.dns;
    const monitored = new Proxy(dns, {
      get(object, property, receiver) {
        const value = Reflect.get(object, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          if (property === 'deleteZone' || property === 'changeRecords') {
            const id = args[0] as string;
            const zone = object.snapshot().find((z) => z.id === id);
            const org =
              zone?.name === BASE
                ? (args[1] as { recordSet: { name: string } }[])[0]?.recordSet.name.split('.')[0]
                : zone?.name.split('.')[0];
            events.push(`write ${org}`);
          }
          return (value as (...a: unknown[]) => Promise<unknown>).apply(object, args);
        };
      },
    });
    const zk = createZonekeeper({
      baseDomain: BASE,
      clock: w.clock,
      inventory,
      dns: monitored,
      identity: w.identity,
      secrets: w.secrets,
      gc: { concurrency: 2 },
    });
    const r = await zk.collectGarbage();
    const failedAt = events.findIndex((e) => e.startsWith('fail'));
    expect(failedAt).toBeGreaterThan(0);
    // Each write of an organisation comes after an "ok" of that organisation with no write of it
    // between; a write after the failure only if its check passed before the failure (in flight).
    const lastOk = new Map<string, number>();
    events.forEach((e, i) => {
      const [kind, org] = e.split(' ') as [string, string];
      if (kind === 'ok') lastOk.set(org, i);
      if (kind === 'write') {
        const ok = lastOk.get(org);
        expect(ok, `${e} at ${i}: ${events.join(', ')}`).toBeDefined();
        if (i > failedAt) expect(ok as number, `${e} at ${i}: ${events.join(', ')}`).toBeLessThan(failedAt);
        lastOk.delete(org);
      }
    });
    // No re-check of an organisation that had not started yet happens after the failure.
    const startedBefore = new Set(events.slice(0, failedAt + 1).map((e) => e.split(' ')[1] as string));
    for (const e of events.slice(failedAt + 1))
      expect(startedBefore.has(e.split(' ')[1] as string), e).toBe(true);
    expect(r.results.filter((x) => x.reason === 'fail-closed').length).toBeGreaterThan(0);
    expect(r.orphans).toEqual({ identities: [], secretPaths: [], busy: [] });
    // Nothing of an organisation that was not deleted lost its identity.
    for (const x of r.results.filter((y) => y.status !== 'deleted'))
      expect(w.identity.snapshot().map((u) => u.userName)).toContain(user(x.organization));
  });

  it('rejects a bad concurrency with INVALID_INPUT, before any call', () => {
    for (const bad of [0, 65, 1.5, Number.NaN]) {
      let error: unknown;
      try {
        createZonekeeper({ baseDomain: BASE, gc: { concurrency: bad } });
      } catch (e) {
        error = e;
      }
      expect(hasErrorCode(error, 'INVALID_INPUT'), String(bad)).toBe(true);
    }
  });
});
