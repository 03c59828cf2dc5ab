/**
 * The adversarial scenarios of issue #10 §3 on the emulators — moto behind the fault proxy (Route 53,
 * IAM), the Vault fake behind a second proxy, a Kubernetes API fake per cluster — through the production
 * adapters: a collection racing a comeback, a collection killed and then a comeback, a cluster shared by
 * two organisations, a foreign delegation at an organisation's name, two platforms on one Vault, and
 * rotations racing each other and an attach across two processes (a fixed interleaving, then seeded
 * schedules). The memory-port versions of these live next to the facade (isolation, concurrency and gc
 * tests); these prove the same promises hold on the wire.
 */

import { type Clock, createManualClock, hasErrorCode, systemClock } from '@zonekeeper/core';
import { identityUserName } from '@zonekeeper/iam-scoper';
import { readAccessKey, readAttachment, readCertificateAuthority } from '@zonekeeper/vault-keys';
import { createVaultSecretStore } from '@zonekeeper/vault-keys/vault';
import { listManagedZones } from '@zonekeeper/zone-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ZonekeeperConfig } from '../config.js';
import { createMemoryInventory, type MemoryInventory } from '../inventory.js';
import type { Zonekeeper } from '../results.js';
import { createZonekeeper } from '../zonekeeper.js';
import { BASE_DOMAIN, type EmulatorBackend, emulatorBackend } from './backends.test.support.js';
import { Harness } from './harness.test.support.js';
import { recordingLogger, report, SecretWatch, START } from './matrix.test.support.js';
import { invariantViolations, snapshotWorld } from './world.test.support.js';

const HOUR = 3_600_000;
const LAYOUT = { prefix: `zonekeeper/platforms/${BASE_DOMAIN}`, owner: BASE_DOMAIN };
const ACME_USER = identityUserName({ baseDomain: BASE_DOMAIN, organization: 'acme' });

let backend: EmulatorBackend;
const watch = new SecretWatch();
const lines: string[] = [];
const logger = recordingLogger(lines);

beforeAll(async () => {
  backend = await emulatorBackend({ seed: 'adversarial' });
  watch.add(backend.vault.rootToken);
});
afterAll(async () => {
  await backend?.stop();
});

interface World {
  readonly clock: Clock;
  readonly inventory: MemoryInventory;
  /** A zonekeeper "process" on the shared backends; `ports` replaces some of them (wrapped ports). */
  zonekeeper(ports?: Partial<ZonekeeperConfig>, harness?: Harness): Zonekeeper;
}

/**
 * Fresh backends. Races run on the system clock: a lock expires on the zonekeeper clock while its holder
 * renews it on real timers, so a manual clock that jumps whenever a waiter sleeps would let waiters
 * outlive a working holder's lock — a race no real deployment has. The crash test uses a manual clock to
 * expire a dead holder's lock at once.
 */
async function freshWorld(clock: Clock = systemClock): Promise<World> {
  await backend.reset(clock);
  const inventory = createMemoryInventory();
  return {
    clock,
    inventory,
    zonekeeper: (ports = {}, harness = new Harness({ onResult: watch.collect })) =>
      createZonekeeper({
        baseDomain: BASE_DOMAIN,
        clock,
        inventory,
        logger,
        ...backend.config(harness),
        ...ports,
      }),
  };
}

async function parentId(base = BASE_DOMAIN): Promise<string> {
  const [parent] = await backend.inspect.dns.findZonesByName(base);
  if (!parent) throw new Error(`no parent zone ${base}`);
  return parent.id;
}

/** The NS record at `name` in the parent zone, if any. */
async function delegation(name: string): Promise<readonly string[] | undefined> {
  const page = await backend.inspect.dns.listRecords(await parentId(), {
    from: { name, type: 'NS' },
    maxItems: 1,
  });
  const r = page.recordSets[0];
  return r && r.name === name && r.type === 'NS' ? r.values : undefined;
}

async function acmeZones(): Promise<string[]> {
  return (await backend.inspect.dns.findZonesByName(`acme.${BASE_DOMAIN}`))
    .filter((z) => z.name === `acme.${BASE_DOMAIN}`)
    .map((z) => z.id);
}

/** acme with a cluster that has stopped (unused): the next collection deletes its zone. */
async function unusedAcme(world: World): Promise<Date> {
  await world.zonekeeper().attachCluster('acme', { clusterId: 'c1' });
  await world.zonekeeper().detachCluster('acme', 'c1');
  const zones = await listManagedZones({ dns: backend.inspect.dns }, { baseDomain: BASE_DOMAIN });
  const acme = zones.find((z) => z.organization === 'acme');
  return new Date((acme?.createdAt ?? START).getTime() + HOUR);
}

/** Every invariant of the end state, for the organisations expected to exist. */
async function violations(world: World, clusters: readonly string[], organizations: readonly string[]) {
  const end = await snapshotWorld(backend.inspect, clusters, world.clock.now());
  return invariantViolations(end, { organizations });
}

/** The port with `hook` run (and awaited) right after every successful `method` call. */
function hooked<T extends object>(port: T, method: string, hook: () => void | Promise<void>): T {
  return new Proxy(port, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property !== method || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        await hook();
        return result;
      };
    },
  });
}

describe('a collection racing a comeback (§2.4)', () => {
  it('a cluster registered while the zone is deleted: its attach waits for the collection, then finds its identity and key kept', async () => {
    const world = await freshWorld();
    const now = await unusedAcme(world);
    const key = await readAccessKey(backend.inspect.secrets, { organization: 'acme' }, LAYOUT);
    let comeback: Promise<string | undefined> | undefined;
    const ports = backend.config(new Harness({ onResult: watch.collect }));
    const racing = hooked(ports.dns as object, 'deleteZone', () => {
      world.inventory.set({ organization: 'acme', clusterId: 'c2', running: true });
      comeback ??= world
        .zonekeeper()
        .attachCluster('acme', { clusterId: 'c2' })
        .then((r) => r.organizationResult.zone?.id);
    }) as NonNullable<ZonekeeperConfig['dns']>;
    const r = await world.zonekeeper({ ...ports, dns: racing }).collectGarbage({ now });
    const newZone = await comeback;
    expect(r.results.map((x) => x.status)).toEqual(['deleted']);
    expect(await acmeZones()).toEqual([newZone]);
    // The identity and its key were kept (acme was in use again before their deletion), re-tagged for the
    // new zone, and the store still holds the same key.
    const user = await backend.inspect.identity.getUser(ACME_USER);
    expect(user?.tags['zonekeeper:zone-id']).toBe(newZone);
    const stored = await readAccessKey(backend.inspect.secrets, { organization: 'acme' }, LAYOUT);
    expect(stored?.accessKeyId).toBe(key?.accessKeyId);
    expect(await delegation(`acme.${BASE_DOMAIN}`)).toBeDefined();
    expect(await readAttachment(backend.inspect.secrets, 'acme', 'c2', LAYOUT)).toBeDefined();
    expect(await violations(world, ['c2'], ['acme'])).toEqual([]);
  }, 60_000);

  it('a comeback not yet in the inventory: the attach waits, recreates what the collection deleted, and nothing it made is deleted', async () => {
    const world = await freshWorld();
    const now = await unusedAcme(world);
    let comeback: Promise<unknown> | undefined;
    const ports = backend.config(new Harness({ onResult: watch.collect }));
    const racing = hooked(ports.dns as object, 'deleteZone', async () => {
      comeback ??= world.zonekeeper().attachCluster('acme', { clusterId: 'c2' });
      // The collector pauses between the zone and the identity, long enough for an unserialised attach
      // to create its zone, identity, key and CA — which the collector would then delete.
      await new Promise((r) => setTimeout(r, 1_500));
    }) as NonNullable<ZonekeeperConfig['dns']>;
    const r = await world.zonekeeper({ ...ports, dns: racing }).collectGarbage({ now });
    await comeback;
    expect(r.results.map((x) => x.status)).toEqual(['deleted']);
    const zones = await acmeZones();
    expect(zones).toHaveLength(1);
    const user = await backend.inspect.identity.getUser(ACME_USER);
    expect(user?.tags['zonekeeper:zone-id']).toBe(zones[0]);
    const keys = await backend.inspect.identity.listAccessKeys(ACME_USER);
    const stored = await readAccessKey(backend.inspect.secrets, { organization: 'acme' }, LAYOUT);
    expect(keys.map((k) => k.accessKeyId)).toEqual([stored?.accessKeyId]);
    expect(await readCertificateAuthority(backend.inspect.secrets, 'acme', LAYOUT)).toBeDefined();
    expect(await readAttachment(backend.inspect.secrets, 'acme', 'c2', LAYOUT)).toBeDefined();
    // The next collection (acme now runs c2) deletes nothing.
    world.inventory.set({ organization: 'acme', clusterId: 'c2', running: true });
    const again = await world.zonekeeper().collectGarbage({ now: new Date(now.getTime() + HOUR) });
    expect(again.results.filter((x) => x.status === 'deleted')).toEqual([]);
    expect(await violations(world, ['c2'], ['acme'])).toEqual([]);
  }, 60_000);
});

describe('a collection killed, then a comeback (§2.6)', () => {
  it('killed right after removing the delegation: the organisation comes back, its ensure restores the delegation, the next collection deletes nothing', async () => {
    // Find the collection's first DNS write (the delegation), then crash a collection right after it.
    const reference = await freshWorld();
    const referenceNow = await unusedAcme(reference);
    const recorder = new Harness();
    await reference.zonekeeper({}, recorder).collectGarbage({ now: referenceNow });
    const at = recorder.writes.find((w) => w.port === 'dns' && w.method === 'changeRecords')?.index;
    expect(at).toBeGreaterThan(0);

    const clock = createManualClock(START, { autoAdvance: true });
    const crashed = await freshWorld(clock);
    const crashNow = await unusedAcme(crashed);
    const before = await delegation(`acme.${BASE_DOMAIN}`);
    expect(before).toBeDefined();
    const killer = new Harness({ onResult: watch.collect }).arm(at as number, 'kill');
    const error = await crashed
      .zonekeeper({}, killer)
      .collectGarbage({ now: crashNow })
      .then(
        (r) => r.results.find((x) => x.error)?.error,
        (e: unknown) => e,
      );
    expect(killer.fired?.method).toBe('changeRecords');
    watch.error(error);
    expect(await delegation(`acme.${BASE_DOMAIN}`)).toBeUndefined();
    expect(await acmeZones()).toHaveLength(1);
    // The process restarts after the dead collector's lock expired; acme is back.
    await clock.advance(60_000);
    crashed.inventory.set({ organization: 'acme', clusterId: 'c2', running: true });
    const back = await crashed.zonekeeper().ensureOrganization('acme');
    expect(back.plans.zone.map((s) => s.op)).toContain('upsert-delegation');
    expect(await delegation(`acme.${BASE_DOMAIN}`)).toEqual(before);
    await crashed.zonekeeper().attachCluster('acme', { clusterId: 'c2' });
    const next = await crashed.zonekeeper().collectGarbage({ now: new Date(crashNow.getTime() + 2 * HOUR) });
    expect(next.results.filter((x) => x.status === 'deleted')).toEqual([]);
    expect(await acmeZones()).toHaveLength(1);
    expect(await violations(crashed, ['c2'], ['acme'])).toEqual([]);
  }, 90_000);
});

describe('a cluster shared by two organisations (§2.2)', () => {
  it("globex's attach and detach of acme's cluster are NOT_OWNED and send no write request at all", async () => {
    const world = await freshWorld();
    await world.zonekeeper().attachCluster('acme', { clusterId: 'c1' });
    const c1 = await backend.inspect.cluster('c1');
    const objects = async () =>
      JSON.stringify(
        (await c1.list('apps/v1', 'Deployment', { namespace: 'external-dns' })).map((o) => o.metadata),
      );
    const deployments = await objects();
    backend.mark?.();
    const attach = await world
      .zonekeeper()
      .attachCluster('globex', { clusterId: 'c1' })
      .catch((e: unknown) => e);
    expect(hasErrorCode(attach, 'NOT_OWNED')).toBe(true);
    const detach = await world
      .zonekeeper()
      .detachCluster('globex', 'c1')
      .catch((e: unknown) => e);
    expect(hasErrorCode(detach, 'NOT_OWNED')).toBe(true);
    watch.error(attach);
    watch.error(detach);
    expect(backend.wireWrites?.()).toEqual({ aws: 0, vault: 0 });
    expect(await objects()).toBe(deployments);
    expect(await backend.inspect.dns.findZonesByName(`globex.${BASE_DOMAIN}`)).toEqual([]);
  }, 60_000);
});

describe('a foreign delegation at an organisation’s name (§2.3)', () => {
  it('an NS record pointing elsewhere: NOT_OWNED with no write request, and the collector leaves it', async () => {
    const world = await freshWorld();
    const foreign = ['ns1.elsewhere.example.net.', 'ns2.elsewhere.example.net.'];
    await backend.inspect.dns.changeRecords(await parentId(), [
      {
        action: 'CREATE',
        recordSet: { name: `initech.${BASE_DOMAIN}`, type: 'NS', ttl: 300, values: foreign },
      },
    ]);
    backend.mark?.();
    const e = await world
      .zonekeeper()
      .ensureOrganization('initech')
      .catch((x: unknown) => x);
    watch.error(e);
    expect(hasErrorCode(e, 'NOT_OWNED')).toBe(true);
    expect(backend.wireWrites?.()).toEqual({ aws: 0, vault: 0 });
    await world.zonekeeper().collectGarbage({ now: new Date(world.clock.now().getTime() + 24 * HOUR) });
    expect(await delegation(`initech.${BASE_DOMAIN}`)).toEqual(foreign);
  }, 60_000);
});

describe('two platforms on one Vault (and one AWS account) (§2.9)', () => {
  it('default layouts never meet; a shared prefix is refused at the first foreign secret, never overwritten or swept', async () => {
    const world = await freshWorld();
    const OTHER = 'example.org';
    await backend.inspect.dns.createZone({ name: OTHER, callerReference: `parent-${OTHER}-${Date.now()}` });
    const platform = (baseDomain: string, extra: Partial<ZonekeeperConfig> = {}) =>
      createZonekeeper({
        baseDomain,
        clock: world.clock,
        inventory: world.inventory,
        logger,
        ...backend.config(new Harness({ onResult: watch.collect })),
        ...extra,
      });
    const one = platform(BASE_DOMAIN);
    const two = platform(OTHER);
    const a = await one.ensureOrganization('acme');
    const b = await two.ensureOrganization('acme');
    expect(a.accessKeyId).not.toBe(b.accessKeyId);
    // Platform two's acme is unused: its collection deletes its own zone and secrets, never one's.
    const collected = await two.collectGarbage({ now: new Date(world.clock.now().getTime() + HOUR) });
    expect(collected.results.map((r) => r.status)).toEqual(['deleted']);
    expect(
      (await readAccessKey(backend.inspect.secrets, { organization: 'acme' }, LAYOUT))?.accessKeyId,
    ).toBe(a.accessKeyId);
    expect(await acmeZones()).toEqual([a.zone?.id]);
    // The same explicit prefix for both platforms: the second is refused, the first keeps its key.
    const p1 = platform(BASE_DOMAIN, { secretPrefix: 'zonekeeper/shared' });
    const p2 = platform(OTHER, { secretPrefix: 'zonekeeper/shared' });
    const first = await p1.ensureOrganization('globex');
    backend.mark?.();
    const refused = await p2.ensureOrganization('globex').catch((e: unknown) => e);
    watch.error(refused);
    expect(hasErrorCode(refused, 'NOT_OWNED')).toBe(true);
    expect((refused as Error).message).toMatch(/belongs to the zonekeeper platform example\.com/);
    expect(
      (
        await readAccessKey(
          backend.inspect.secrets,
          { organization: 'globex' },
          { prefix: 'zonekeeper/shared', owner: BASE_DOMAIN },
        )
      )?.accessKeyId,
    ).toBe(first.accessKeyId);
    // Refused before its first Vault write.
    expect(backend.wireWrites?.().vault).toBe(0);
  }, 90_000);
});

/** Highest number of keys acme's IAM user held at any point a wrapper saw. */
function keyWatch() {
  let most = 0;
  return {
    get most() {
      return most;
    },
    async sample() {
      const user = await backend.inspect.identity.getUser(ACME_USER);
      if (user) most = Math.max(most, (await backend.inspect.identity.listAccessKeys(ACME_USER)).length);
    },
  };
}

/** The invariant of §2.1: the stored key exists in IAM, alone, and is the key on every attached cluster. */
async function keyInvariant(clusters: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const stored = await readAccessKey(backend.inspect.secrets, { organization: 'acme' }, LAYOUT);
  const keys = (await backend.inspect.identity.listAccessKeys(ACME_USER)).map((k) => k.accessKeyId);
  if (!stored) out.push('no key stored');
  if (keys.length !== 1 || keys[0] !== stored?.accessKeyId)
    out.push(`IAM holds ${JSON.stringify(keys)}, the store ${stored?.accessKeyId}`);
  for (const id of clusters) {
    const cluster = await backend.inspect.cluster(id);
    const secret = await cluster.get({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: 'external-dns',
      name: 'external-dns-aws-credentials',
    });
    const file = Buffer.from(
      ((secret?.data ?? {}) as Record<string, string>).credentials ?? '',
      'base64',
    ).toString();
    const running = /aws_access_key_id = (\S+)/.exec(file)?.[1];
    if (running !== stored?.accessKeyId)
      out.push(`cluster ${id} runs ${running}, the store ${stored?.accessKeyId}`);
  }
  return out;
}

/** A second "process": its own Vault client (the lock is the store's record, not an in-process queue). */
function otherProcessStore() {
  return createVaultSecretStore({
    endpoint: backend.vaultProxy.endpoint,
    token: backend.vault.rootToken,
    requestTimeoutMs: 10_000,
  });
}

describe('rotations racing each other and an attach, across two processes (§2.1)', () => {
  it('a rotation held right after IAM created its key: the other process waits, writes nothing, then rotates from the stored key', async () => {
    const world = await freshWorld();
    await world.zonekeeper().attachCluster('acme', { clusterId: 'c1' });
    const keys = keyWatch();
    const ports = backend.config(new Harness({ onResult: watch.collect }));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let gated = false;
    const gatedIdentity = new Proxy(ports.identity as object, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property !== 'createAccessKey' || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const key = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          await keys.sample();
          if (!gated) {
            gated = true;
            await gate;
          }
          return key;
        };
      },
    }) as NonNullable<ZonekeeperConfig['identity']>;
    const a = world.zonekeeper({ ...ports, identity: gatedIdentity, locks: { pollMs: 5 } });
    const b = world.zonekeeper({ secrets: otherProcessStore(), locks: { pollMs: 5 } });
    const first = a.rotateCredentials('acme');
    while (!gated) await new Promise((r) => setTimeout(r, 5));
    backend.mark?.();
    const second = b.rotateCredentials('acme');
    const attach = b.attachCluster('acme', { clusterId: 'c2' });
    await new Promise((r) => setTimeout(r, 300));
    // While A holds the lock, B sends no write at all (the first version's B deleted A's new key here).
    expect(backend.wireWrites?.().aws).toBe(0);
    release();
    const [r1, r2] = await Promise.all([first, second, attach]);
    await keys.sample();
    expect(r1.rotations[0]?.outcome).toBe('rotated');
    expect(r2.rotations[0]?.outcome).toBe('rotated');
    expect(keys.most).toBeLessThanOrEqual(2);
    expect(await keyInvariant(['c1', 'c2'])).toEqual([]);
    expect(await violations(world, ['c1', 'c2'], ['acme'])).toEqual([]);
  }, 90_000);

  // 24 seeded schedules in CI, 1–4 s each on moto; ZONEKEEPER_WIRE_SCHEDULES=200 is the long run
  // (docs/reliability.md records one; the 200 of concurrency.test.ts run on the memory ports in CI).
  const SCHEDULES = Number(process.env.ZONEKEEPER_WIRE_SCHEDULES || 24);
  it(`${SCHEDULES} seeded schedules of two rotations, an ensure and an attach in two processes: the invariant always holds`, async () => {
    const failures: string[] = [];
    let calls = 0;
    expect(Number.isInteger(SCHEDULES) && SCHEDULES > 0, 'ZONEKEEPER_WIRE_SCHEDULES').toBe(true);
    for (let seed = 1; seed <= SCHEDULES; seed++) {
      const world = await freshWorld();
      await world.zonekeeper().attachCluster('acme', { clusterId: 'c1' });
      let s = seed * 2_654_435_761;
      const random = () => {
        s = (s * 1_103_515_245 + 12_345) >>> 0;
        return s / 4_294_967_296;
      };
      // Every port call of both processes first waits a seeded 0–3 ms: a different interleaving per seed.
      const jitter = <T extends object>(port: T): T =>
        new Proxy(port, {
          get(target, property, receiver) {
            const value = Reflect.get(target, property, receiver) as unknown;
            if (typeof value !== 'function' || typeof property !== 'string') return value;
            return async (...args: unknown[]) => {
              calls += 1;
              await new Promise((r) => setTimeout(r, Math.floor(random() * 4)));
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          },
        });
      const ports = backend.config(new Harness({ onResult: watch.collect }));
      const p1 = world.zonekeeper({
        dns: jitter(ports.dns as object) as NonNullable<ZonekeeperConfig['dns']>,
        identity: jitter(ports.identity as object) as NonNullable<ZonekeeperConfig['identity']>,
        secrets: jitter(ports.secrets as object) as NonNullable<ZonekeeperConfig['secrets']>,
        locks: { pollMs: 5 },
      });
      const p2 = world.zonekeeper({
        identity: jitter(ports.identity as object) as NonNullable<ZonekeeperConfig['identity']>,
        secrets: jitter(otherProcessStore()),
        locks: { pollMs: 5 },
      });
      const outcomes = await Promise.allSettled([
        p1.rotateCredentials('acme'),
        p2.rotateCredentials('acme'),
        p1.ensureOrganization('acme'),
        p2.attachCluster('acme', { clusterId: 'c2' }),
      ]);
      for (const o of outcomes)
        if (o.status === 'rejected') failures.push(`seed ${seed}: ${(o.reason as Error).message}`);
      const problems = [
        ...(await keyInvariant(['c1', 'c2'])),
        ...(await violations(world, ['c1', 'c2'], ['acme'])),
      ];
      if (problems.length > 0) failures.push(`seed ${seed}: ${problems.join('; ')}`);
    }
    expect(failures).toEqual([]);
    report({ suite: 'concurrency-emulators', schedules: SCHEDULES, portCalls: calls });
  }, 1_200_000);
});

describe('secrets across the adversarial scenarios', () => {
  it('no log line and no thrown error holds a secret access key, a private key or the Vault token', () => {
    expect(watch.leaks(lines)).toEqual([]);
    expect(lines.length).toBeGreaterThan(50);
  });
});
