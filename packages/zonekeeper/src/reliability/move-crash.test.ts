/**
 * `Fleet.moveOrganization` under crashes, on memory ports (two accounts: `a` holds the parent zone,
 * acme starts in `b`): the move's own crash matrix. The shared matrix (`matrix.test.support.ts`) drives
 * one zonekeeper; a move spans two accounts and the placement record, so it runs here, in the same way:
 * one uninterrupted run records every write (DNS, IAM, secrets) in order; then, for every write k and
 * each crash mode, a fresh world runs the move with a crash right after write k was applied, a fresh
 * fleet (the restarted process) runs it again, and the end state must equal the uninterrupted run's.
 *
 * Crash modes: `fail` (the write was applied, then the call fails: the process's `finally` blocks run,
 * locks are released) and `kill` (the write was applied and the process is gone: its locks stay until
 * they expire, so the restarted run first waits out the lock's TTL on the injected clock).
 *
 * After **every** write, crashed or not, a resolver's view is checked: the parent's NS record names a
 * zone that answers every one of acme's names with its original records — the move never leaves a gap.
 */

import { createManualClock, type ManualClock, ZonekeeperError } from '@zonekeeper/core';
import { createMemoryCluster, type MemoryCluster } from '@zonekeeper/externaldns-deployer';
import { createMemoryIdentityProvider, type MemoryIdentityProvider } from '@zonekeeper/iam-scoper';
import { createMemorySecretStore, type MemorySecretStore } from '@zonekeeper/vault-keys';
import {
  createMemoryDnsProvider,
  type DnsProvider,
  type MemoryDnsProvider,
  type RecordSet,
} from '@zonekeeper/zone-manager';
import { describe, expect, it } from 'vitest';
import { createFleet, type Fleet } from '../fleet/accounts.js';
import { planOrganizationMove } from '../fleet/move.js';
import { createMemoryInventory } from '../inventory.js';

const BASE = 'example.com';
const ZONE = `acme.${BASE}`;
const RECORD = `zonekeeper/platforms/${BASE}/placements/organizations/acme`;
const START = new Date('2026-03-10T05:00:00.000Z');
const LOCK_TTL_MS = 60_000;
const WRITE =
  /^(create|put|delete|change|tag|untag|update|write|attach|detach|remove|set|destroy|apply|patch)/i;

/** acme's records, as a resolver should always see them (name|type → values). */
const RECORDS: RecordSet[] = [
  { name: `www.${ZONE}`, type: 'A', ttl: 60, values: ['192.0.2.10'] },
  { name: `api.${ZONE}`, type: 'CNAME', ttl: 300, values: [`www.${ZONE}`] },
  { name: ZONE, type: 'TXT', ttl: 300, values: ['"v=spf1 -all"'] },
  { name: ZONE, type: 'MX', ttl: 300, values: ['10 mail.example.net'] },
  { name: `*.apps.${ZONE}`, type: 'A', ttl: 60, values: ['192.0.2.20', '192.0.2.21'] },
];
const expected = RECORDS.map((r) => `${r.name}|${r.type}|${[...r.values].sort().join(',')}`).sort();

interface World {
  readonly dns: Record<'a' | 'b', MemoryDnsProvider>;
  readonly identity: Record<'a' | 'b', MemoryIdentityProvider>;
  readonly secrets: MemorySecretStore;
  /** The organisation's cluster c1 (ExternalDNS attached with an access key, in account b at first). */
  readonly cluster: MemoryCluster;
  readonly clock: ManualClock;
  /** Writes seen, in order (`port.method`). */
  readonly writes: string[];
  /** Crash right after write number `crashAt` (1-based), in `mode`. */
  crashAt?: number;
  mode?: 'fail' | 'kill';
  /** Set once the crash fired: every later call of the "dead" process fails too. */
  dead: boolean;
  /** Resolution gaps seen after a write (described). */
  readonly gaps: string[];
  readonly inventory: ReturnType<typeof createMemoryInventory>;
}

/** What a resolver sees for acme: the zone the parent's NS record names, and its records. */
function resolve(w: World): string[] | string {
  const parent = w.dns.a.snapshot().find((z) => z.name === BASE);
  const ns = parent?.records.find((r) => r.type === 'NS' && r.name === ZONE);
  if (!ns) return 'no delegation';
  const key = (v: readonly string[]) =>
    v
      .map((x) => x.replace(/\.$/, '').toLowerCase())
      .sort()
      .join(',');
  const zones = [...w.dns.a.snapshot(), ...w.dns.b.snapshot()].filter(
    (z) => z.name === ZONE && key(z.nameServers) === key(ns.values),
  );
  if (zones.length !== 1) return `${zones.length} zones answer the delegation`;
  return (zones[0]?.records ?? [])
    .filter((r) => !(r.name === ZONE && (r.type === 'SOA' || r.type === 'NS')))
    .map((r) => `${r.name}|${r.type}|${[...r.values].sort().join(',')}`)
    .sort();
}

class Crash extends Error {}

/** A port whose writes are counted, checked for resolution afterwards, and crash at `crashAt`. */
function watched<T extends object>(w: World, port: string, target: T): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      const v = Reflect.get(t, prop, receiver);
      if (typeof v !== 'function') return v;
      const name = String(prop);
      return async (...args: unknown[]) => {
        if (w.dead) throw new Crash('the process is gone');
        const out = await (v as (...a: unknown[]) => Promise<unknown>).apply(t, args);
        if (WRITE.test(name)) {
          w.writes.push(`${port}.${name}`);
          const seen = resolve(w);
          if (JSON.stringify(seen) !== JSON.stringify(expected))
            w.gaps.push(`after write ${w.writes.length} (${port}.${name}): ${JSON.stringify(seen)}`);
          if (w.crashAt === w.writes.length) {
            if (w.mode === 'kill') w.dead = true;
            throw new Crash(`crash after write ${w.writes.length} (${port}.${name})`);
          }
        }
        return out;
      };
    },
  });
}

function fleetOf(w: World, watch: boolean): Fleet {
  const wrap = <T extends object>(port: string, t: T) => (watch ? watched(w, port, t) : t);
  return createFleet({
    baseDomain: BASE,
    clock: w.clock,
    secrets: wrap('secrets', w.secrets),
    clusters: (id: string) => {
      if (id !== 'c1') throw new Error(`no cluster ${id}`);
      return wrap('cluster-c1', w.cluster);
    },
    inventory: w.inventory,
    locks: { ttlMs: LOCK_TTL_MS, pollMs: 1_000 },
    parent: { account: 'a' },
    accounts: (['a', 'b'] as const).map((id) => ({
      id,
      dns: wrap(`dns-${id}`, w.dns[id] as DnsProvider),
      identity: wrap(`iam-${id}`, w.identity[id]),
    })),
  });
}

/** A world with acme placed in `b`, its records written, and the uninstrumented setup done. */
async function world(): Promise<World> {
  const clock = createManualClock(START);
  const w: World = {
    dns: {
      a: createMemoryDnsProvider({ idPrefix: 'A', clock }),
      b: createMemoryDnsProvider({ idPrefix: 'B', clock }),
    },
    identity: { a: createMemoryIdentityProvider({ clock }), b: createMemoryIdentityProvider({ clock }) },
    secrets: createMemorySecretStore({ clock }),
    cluster: createMemoryCluster({ name: 'c1', clock }),
    inventory: createMemoryInventory([{ organization: 'acme', clusterId: 'c1', running: true }]),
    clock,
    writes: [],
    dead: false,
    gaps: [],
  };
  await w.dns.a.createZone({ name: BASE, callerReference: 'parent' });
  const fleet = fleetOf(w, false);
  expect((await fleet.ensureOrganization('acme')).account).toBe('b');
  await fleet.attachCluster('acme', { clusterId: 'c1', externalDns: { policy: 'sync' } });
  const zone = w.dns.b.snapshot().find((z) => z.name === ZONE);
  await w.dns.b.changeRecords(
    zone?.id as string,
    RECORDS.map((recordSet) => ({ action: 'CREATE' as const, recordSet })),
  );
  expect(resolve(w)).toEqual(expected);
  return w;
}

/** The end state that matters: zones, delegation, identities, secrets, the record. */
async function endState(w: World) {
  const zones = (dns: MemoryDnsProvider) =>
    dns
      .snapshot()
      .filter((z) => z.name === ZONE)
      .map((z) => ({ tags: z.tags, records: z.records.filter((r) => r.type !== 'SOA' && r.type !== 'NS') }));
  return {
    resolved: resolve(w),
    zonesA: zones(w.dns.a),
    zonesB: zones(w.dns.b),
    usersA: w.identity.a.snapshot().map((u) => u.userName),
    usersB: w.identity.b.snapshot().map((u) => u.userName),
    secretPaths: w.secrets.paths().filter((p) => !p.includes('/locks') && !p.endsWith('/lock')),
    externalDns: externalDnsOf(w),
    record: (await w.secrets.read(RECORD))?.data ?? null,
  };
}

/** c1's ExternalDNS: the zone it writes to (its zone id filter, as an account letter) and its policy. */
function externalDnsOf(w: World) {
  const deployments = w.cluster.objects('Deployment') as unknown as {
    metadata: { namespace?: string; name: string };
    spec: { template: { spec: { containers: { args?: string[] }[] } } };
  }[];
  return deployments.map((d) => {
    const args = d.spec.template.spec.containers[0]?.args ?? [];
    const zone = args.find((a) => a.startsWith('--zone-id-filter='))?.slice('--zone-id-filter='.length) ?? '';
    return {
      name: `${d.metadata.namespace}/${d.metadata.name}`,
      zoneAccount: w.dns.a.snapshot().some((z) => z.id === zone.replace(/^\/?hostedzone\//, ''))
        ? 'A'
        : w.dns.b.snapshot().some((z) => z.id === zone.replace(/^\/?hostedzone\//, ''))
          ? 'B'
          : `? ${zone}`,
      policy: args.find((a) => a.startsWith('--policy=')),
    };
  });
}

async function readRecord(w: World) {
  return (await w.secrets.read(RECORD))?.data;
}

/** Runs the move to `a` until it is complete (a crash, then a restarted process). */
async function moveToA(_w: World, fleet: Fleet) {
  return fleet.moveOrganization('acme', 'a', { drainMs: 0 });
}

describe('moveOrganization: the move itself', () => {
  it('moves acme from b to a: records copied, delegation moved, identity re-issued, old zone gone, no gap', async () => {
    const w = await world();
    const before = (await readRecord(w)) ?? {};
    expect(before.account).toBe('b');
    const fleet = fleetOf(w, true);
    const r = await moveToA(w, fleet);
    expect(r.status).toBe('moved');
    expect(r.from).toBe('b');
    expect(r.applied).toEqual([
      'mark-moving',
      'create-zone',
      'tag-zone',
      'copy-records',
      'upsert-delegation',
      'mark-moved',
      'ensure-target',
      'attach-cluster',
      'release-cluster',
      'delete-source',
      'mark-done',
    ]);
    // c1's ExternalDNS now writes to the zone in a, with its recorded settings kept.
    expect(externalDnsOf(w)).toEqual([
      { name: 'external-dns/external-dns', zoneAccount: 'A', policy: '--policy=sync' },
    ]);
    expect(
      (await fleet.accounts[0]?.zonekeeper.listClusters())?.map((c) => [c.clusterId, c.attached]),
    ).toEqual([['c1', true]]);
    expect(await fleet.accounts[1]?.zonekeeper.listClusters()).toEqual([
      expect.objectContaining({ clusterId: 'c1', attached: false, bound: false, inventory: 'running' }),
    ]);
    expect(w.gaps).toEqual([]);
    expect(resolve(w)).toEqual(expected);
    expect(await readRecord(w)).toEqual({ account: 'a' });
    expect(w.dns.b.snapshot().filter((z) => z.name === ZONE)).toEqual([]);
    expect(w.identity.b.snapshot()).toEqual([]);
    expect(w.identity.a.snapshot().map((u) => u.userName)).toHaveLength(1);
    expect(w.secrets.paths().some((p) => p.includes('/accounts/b/orgs/'))).toBe(false);
    expect(w.secrets.paths().some((p) => p.includes('/accounts/a/orgs/acme'))).toBe(true);
    // The fleet now routes acme to a, and a re-run is a no-op.
    expect((await fleet.describeOrganization('acme')).account).toBe('a');
    const writes = w.writes.length;
    const again = await moveToA(w, fleet);
    expect([again.status, again.applied]).toEqual(['in-place', []]);
    expect(w.writes.length).toBe(writes);
    const audit = await fleet.auditFleet();
    for (const a of audit.accounts)
      if ('result' in a)
        expect(a.result.findings.filter((f) => f.severity === 'error').map((f) => f.reason)).toEqual([]);
  });

  it('keeps the old zone while resolvers may cache the old delegation, then finishes on a later run', async () => {
    const w = await world();
    const fleet = fleetOf(w, true);
    const r = await fleet.moveOrganization('acme', 'a');
    expect(r.status).toBe('draining');
    // The delegation's TTL (300 s) and the memory zone's apex NS TTL, whichever is longer.
    expect(r.deleteSourceAt?.getTime()).toBeGreaterThanOrEqual(START.getTime() + 300_000);
    expect(w.dns.b.snapshot().filter((z) => z.name === ZONE)).toHaveLength(1);
    expect(resolve(w)).toEqual(expected);
    // The cluster moved at once; only the old zone waits.
    expect(externalDnsOf(w).map((d) => d.zoneAccount)).toEqual(['A']);
    // Writes through the fleet go to a already; the move is not finished.
    expect((await fleet.locate('acme')).placed && (await fleet.locate('acme'))).toMatchObject({
      account: 'a',
    });
    const early = await fleet.moveOrganization('acme', 'a');
    expect(early.status).toBe('draining');
    await w.clock.set(new Date((r.deleteSourceAt as Date).getTime() + 1));
    const done = await fleet.moveOrganization('acme', 'a');
    expect(done.status).toBe('moved');
    expect(done.applied).toContain('delete-source');
    expect(w.dns.b.snapshot().filter((z) => z.name === ZONE)).toEqual([]);
    expect(w.gaps).toEqual([]);
  });

  it('refuses before any write: a foreign zone or identity in the target, a cluster with TLS Secrets, a foreign delegation; the same account is a no-op', async () => {
    const cases: [string, (w: World) => Promise<void>, string][] = [
      [
        'a foreign zone at acme.example.com in a',
        async (w) => {
          await w.dns.a.createZone({ name: ZONE, callerReference: 'someone-else' });
        },
        'foreign-zone',
      ],
      [
        'a foreign IAM user at acme’s name in a',
        async (w) => {
          const [user] = w.identity.b.snapshot();
          await w.identity.a.createUser({ userName: user?.userName as string, path: '/', tags: {} });
        },
        'foreign-identity',
      ],
      [
        'a foreign delegation in the parent',
        async (w) => {
          const parent = w.dns.a.snapshot().find((z) => z.name === BASE);
          await w.dns.a.changeRecords(parent?.id as string, [
            {
              action: 'UPSERT',
              recordSet: { name: ZONE, type: 'NS', ttl: 300, values: ['ns.attacker.example.'] },
            },
          ]);
        },
        'foreign-delegation',
      ],
    ];
    for (const [what, arrange, reason] of cases) {
      const w = await world();
      await arrange(w);
      const before = await endState(w);
      const fleet = fleetOf(w, true);
      const error = await fleet.moveOrganization('acme', 'a', { drainMs: 0 }).catch((e: unknown) => e);
      expect(error, what).toBeInstanceOf(ZonekeeperError);
      expect((error as ZonekeeperError).details?.reason, what).toBe(reason);
      expect(w.writes, what).toEqual([]);
      expect(await endState(w), what).toEqual(before);
    }
    const w = await world();
    const fleet = fleetOf(w, true);
    // Already there: nothing to do, nothing written.
    const same = await fleet.moveOrganization('acme', 'b');
    expect([same.status, same.applied]).toEqual(['in-place', []]);
    expect(w.writes).toEqual([]);
    // A cluster with TLS Secrets of the organisation's CA (which the target issues anew) stays behind.
    await w.cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } });
    await fleet.attachCluster('acme', {
      clusterId: 'c1',
      certificates: [{ name: 'web', namespace: 'web', dnsNames: [`www.${ZONE}`] }],
    });
    w.writes.length = 0;
    const withCerts = await fleet.moveOrganization('acme', 'a').catch((e: unknown) => e);
    expect((withCerts as ZonekeeperError).details?.reason).toBe('cluster-unmovable');
    expect((withCerts as ZonekeeperError).message).toContain('c1 (1 TLS Secret(s)');
    expect(w.writes).toEqual([]);
    const unknown = await fleet.moveOrganization('acme', 'zz').catch((e: unknown) => e);
    expect((unknown as ZonekeeperError).code).toBe('INVALID_INPUT');
  });

  it('two concurrent moves of acme (to a, and again to a) are serialised: one set of writes, one zone in a', async () => {
    const w = await world();
    // The loser waits for the placement lock on the injected clock: keep it moving.
    const ticking = setInterval(() => void w.clock.advance(1_000), 2);
    const [x, y] = await Promise.all([
      fleetOf(w, true).moveOrganization('acme', 'a', { drainMs: 0 }),
      fleetOf(w, true).moveOrganization('acme', 'a', { drainMs: 0 }),
    ]);
    clearInterval(ticking);
    expect([x.status, y.status].sort()).toEqual(['in-place', 'moved']);
    expect(w.writes.filter((x) => x === 'dns-a.createZone')).toHaveLength(1);
    expect(w.dns.a.snapshot().filter((z) => z.name === ZONE)).toHaveLength(1);
    expect(w.gaps).toEqual([]);
  });

  it('writes routed to acme are refused while its move is under way', async () => {
    const w = await world();
    w.crashAt = 2; // after mark-moving and the zone's creation in a
    w.mode = 'fail';
    await expect(fleetOf(w, true).moveOrganization('acme', 'a', { drainMs: 0 })).rejects.toBeInstanceOf(
      Crash,
    );
    expect((await readRecord(w))?.movingTo).toBe('a');
    delete w.crashAt;
    const fleet = fleetOf(w, false);
    const refused = await fleet.rotateCredentials('acme').catch((e: unknown) => e);
    expect((refused as ZonekeeperError).details?.reason).toBe('moving');
    const ensure = await fleet.ensureOrganization('acme').catch((e: unknown) => e);
    expect((ensure as ZonekeeperError).details?.reason).toBe('moving');
    // Reads still work, from the source account.
    expect((await fleet.describeOrganization('acme')).account).toBe('b');
    expect((await fleet.moveOrganization('acme', 'a', { drainMs: 0 })).status).toBe('moved');
  });
});

describe('moveOrganization: a crash after every write converges to the uninterrupted end state', () => {
  it('fail and kill after each write; the restarted run finishes; no resolution gap at any write', async () => {
    const reference = await world();
    await moveToA(reference, fleetOf(reference, true));
    const writes = [...reference.writes];
    const want = await endState(reference);
    expect(writes.length).toBe(43);
    let cases = 0;
    for (const mode of ['fail', 'kill'] as const)
      for (let k = 1; k <= writes.length; k++) {
        const w = await world();
        w.crashAt = k;
        w.mode = mode;
        const crashed = await moveToA(w, fleetOf(w, true)).catch((e: unknown) => e);
        expect(w.writes.length, `${mode} after write ${k}`).toBeGreaterThanOrEqual(k);
        // The crash fired. It surfaces as itself or wrapped by a step runner, or not at all: a failure
        // after a key's store write is recovered within the run, and a lock's release swallows errors.
        void crashed;
        delete w.crashAt;
        w.dead = false;
        // The restarted process: a dead one's locks (and a lock whose release the crash cut off) expire
        // after their TTL; time passes on the injected clock while it waits.
        if (mode === 'kill') await w.clock.advance(LOCK_TTL_MS + 1);
        const ticking = setInterval(() => void w.clock.advance(1_000), 2);
        const r = await moveToA(w, fleetOf(w, true)).finally(() => clearInterval(ticking));
        // `in-place`: the crashed run had written the final record already (a crash after the last
        // write, or while releasing the lock), so nothing was left; the end state below is what counts.
        expect(['moved', 'in-place'], `${mode} after write ${k}`).toContain(r.status);
        const got = await endState(w);
        expect(
          {
            ...got,
            zonesA: got.zonesA.map((z) => ({ ...z, tags: { ...z.tags, 'zonekeeper:created-at': '' } })),
          },
          `${mode} after write ${k} (${writes[k - 1]})`,
        ).toEqual({
          ...want,
          zonesA: want.zonesA.map((z) => ({ ...z, tags: { ...z.tags, 'zonekeeper:created-at': '' } })),
        });
        expect(w.gaps, `${mode} after write ${k}`).toEqual([]);
        cases += 1;
      }
    expect(cases).toBe(writes.length * 2);
  }, 300_000);
});

describe('planOrganizationMove (pure)', () => {
  const state = {
    organization: 'acme',
    zoneName: ZONE,
    to: 'a',
    from: 'b',
    source: {
      zone: { id: 'B1', nameServers: ['ns-b.example'] },
      records: RECORDS,
      clusters: [],
    },
    target: { zones: [], records: [], foreignIdentity: false, headroom: 10 },
    parent: { zoneId: 'A0', delegation: { values: ['ns-b.example.'], ttl: 300 } },
    drainMs: 0,
    now: START.toISOString(),
  } as const;

  it('is deterministic JSON data, and a finished move plans nothing', () => {
    const p = planOrganizationMove(state);
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
    expect(planOrganizationMove(state)).toEqual(p);
    expect(planOrganizationMove({ ...state, record: { version: 4, account: 'a' } })).toMatchObject({
      outcome: 'steps',
      steps: [],
      phase: 'done',
    });
  });

  it('a move to a third account while another drains is refused', () => {
    expect(
      planOrganizationMove({
        ...state,
        to: 'c',
        record: { version: 3, account: 'a', movedFrom: 'b', delegationMovedAt: START.toISOString() },
      }),
    ).toMatchObject({ outcome: 'refused', reason: 'moving-elsewhere' });
  });

  it('no capacity in the target is refused; an existing zone of ours in the target is reused', () => {
    expect(planOrganizationMove({ ...state, target: { ...state.target, headroom: 0 } })).toMatchObject({
      outcome: 'refused',
      reason: 'no-capacity',
    });
    const reused = planOrganizationMove({
      ...state,
      record: { version: 2, account: 'b', movingTo: 'a' },
      target: {
        ...state.target,
        zones: [{ id: 'A1', ours: true, tagged: true, nameServers: ['ns-a.example'] }],
        records: RECORDS.slice(0, 2),
      },
    });
    expect(reused.outcome === 'steps' && reused.steps.map((s) => s.op)).toEqual([
      'copy-records',
      'upsert-delegation',
      'mark-moved',
    ]);
  });
});
