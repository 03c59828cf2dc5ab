/**
 * Concurrency (issue #10 §2.1): any interleaving of rotations, ensures and attaches — within one process
 * or across processes sharing the store — leaves the stored key live in IAM and on every attached cluster,
 * never more than the two keys IAM allows, and a losing run never deletes the stored key.
 *
 * Two kinds of tests: fixed interleavings (a gate holds one run at the exact point where the first
 * version broke), and seeded random schedules (every port call of every run is delayed by a seeded number
 * of event-loop turns), 200 of them in all, half across "processes" (separate store clients, so the lock is
 * the store's record, not the in-process queue).
 */

import { type Clock, createManualClock, type KubernetesObject, systemClock } from '@zonekeeper/core';
import { createMemoryCluster, type MemoryCluster } from '@zonekeeper/externaldns-deployer';
import {
  createMemoryIdentityProvider,
  identityUserName,
  type MemoryIdentityProvider,
} from '@zonekeeper/iam-scoper';
import { createMemorySecretStore, type MemorySecretStore, readAccessKey } from '@zonekeeper/vault-keys';
import { createMemoryDnsProvider, type MemoryDnsProvider } from '@zonekeeper/zone-manager';
import { describe, expect, it } from 'vitest';
import { createMemoryInventory } from './inventory.js';
import { BASE, settle, T0 } from './memory.test.support.js';
import type { Zonekeeper } from './results.js';
import { createZonekeeper } from './zonekeeper.js';

const ACME_USER = identityUserName({ baseDomain: BASE, organization: 'acme' });
const LAYOUT = { prefix: `zonekeeper/platforms/${BASE}`, owner: BASE };

function keyIn(objects: readonly KubernetesObject[]): string | undefined {
  const secret = objects.find(
    (o) => o.kind === 'Secret' && o.metadata.name === 'external-dns-aws-credentials',
  );
  const file = Buffer.from(
    ((secret?.data ?? {}) as Record<string, string>).credentials ?? '',
    'base64',
  ).toString();
  return /aws_access_key_id = (\S+)/.exec(file)?.[1];
}

/** mulberry32. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Shared {
  readonly clock: Clock;
  readonly dns: MemoryDnsProvider;
  readonly identity: MemoryIdentityProvider;
  readonly secrets: MemorySecretStore;
  readonly clusters: Map<string, MemoryCluster>;
  /** The most keys IAM ever held for acme's user. */
  mostKeys: number;
}

async function shared(clock: Clock): Promise<Shared> {
  const dns = createMemoryDnsProvider({ clock });
  await dns.createZone({ name: BASE, callerReference: 'parent' });
  return {
    clock,
    dns,
    identity: createMemoryIdentityProvider({ clock }),
    secrets: createMemorySecretStore({ clock }),
    clusters: new Map(),
    mostKeys: 0,
  };
}

/**
 * A zonekeeper "process" on the shared backends. `delay` runs before every port call (a schedule);
 * with `ownStoreClient`, the store is reached through another object, as another process would.
 */
function process_(
  world: Shared,
  options: {
    readonly delay?: () => Promise<void>;
    readonly ownStoreClient?: boolean;
    /** Receives the name of every identity call this process makes. */
    readonly calls?: string[];
  } = {},
): Zonekeeper {
  const delayed = <T extends object>(port: T, after?: () => Promise<void>): T =>
    new Proxy(port, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function' || typeof property !== 'string' || property === 'kind') return value;
        return async (...args: unknown[]) => {
          if (after) options.calls?.push(property);
          await options.delay?.();
          const result = await (value as (...a: unknown[]) => unknown).apply(target, args);
          await after?.();
          return result;
        };
      },
    });
  const countKeys = async () => {
    const user = await world.identity.getUser(ACME_USER);
    if (user)
      world.mostKeys = Math.max(world.mostKeys, (await world.identity.listAccessKeys(ACME_USER)).length);
  };
  const store = options.ownStoreClient || options.delay ? delayed(world.secrets) : world.secrets;
  const cluster = (id: string) => {
    let c = world.clusters.get(id);
    if (!c) {
      c = createMemoryCluster({ name: id, clock: world.clock, rolloutDelayMs: 0 } as never);
      world.clusters.set(id, c);
    }
    return options.delay ? delayed(c) : c;
  };
  return createZonekeeper({
    baseDomain: BASE,
    clock: world.clock,
    inventory: createMemoryInventory(),
    dns: options.delay ? delayed(world.dns) : world.dns,
    identity: delayed(world.identity, countKeys),
    secrets: options.ownStoreClient ? store : options.delay ? store : world.secrets,
    clusters: cluster,
    locks: { ttlMs: 3000, pollMs: 2 },
  });
}

/** The invariant: one key for acme, stored, live in IAM, on every cluster attached with its scope. */
async function invariant(world: Shared, clusters: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const stored = await readAccessKey(world.secrets, { organization: 'acme' }, LAYOUT);
  const keys = (await world.identity.listAccessKeys(ACME_USER)).map((k) => k.accessKeyId);
  if (!stored) out.push('no key stored');
  if (stored?.previousAccessKeyId) out.push('a rotation left unfinished');
  if (keys.length !== 1 || keys[0] !== stored?.accessKeyId)
    out.push(`IAM holds ${JSON.stringify(keys)}, the store ${stored?.accessKeyId}`);
  for (const id of clusters) {
    const running = keyIn(world.clusters.get(id)?.objects() ?? []);
    if (running !== stored?.accessKeyId)
      out.push(`cluster ${id} runs ${running}, the store holds ${stored?.accessKeyId}`);
  }
  if (world.mostKeys > 2) out.push(`IAM held ${world.mostKeys} keys`);
  return out;
}

describe('fixed interleavings', () => {
  for (const across of [false, true]) {
    it(`a rotation waits for another that is between creating its key and storing it (${across ? 'two processes' : 'one process'})`, async () => {
      const world = await shared(systemClock);
      const a = process_(world);
      await a.attachCluster('acme', { clusterId: 'c1' });
      await a.attachCluster('acme', { clusterId: 'c2' });
      const bCalls: string[] = [];
      const b = process_(world, { ownStoreClient: across, calls: bCalls });
      // Gate A right after IAM created its new key (the first version's B then read the store, saw
      // only the old key, and deleted A's new one as unknown).
      const create = world.identity.createAccessKey.bind(world.identity);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let gated = false;
      world.identity.createAccessKey = async (user, o) => {
        const key = await create(user, o);
        if (!gated) {
          gated = true;
          await gate;
        }
        return key;
      };
      const first = a.rotateCredentials('acme');
      while (!gated) await settle(1);
      const second = b.rotateCredentials('acme');
      await new Promise((r) => setTimeout(r, 50));
      // B may read (its plan is made again under the lock), but writes nothing while A holds the lock:
      // the first version's B deleted A's new key here, as unknown.
      expect(bCalls.filter((c) => /^(create|delete|put|tag)/.test(c))).toEqual([]);
      const reads = bCalls.length;
      await new Promise((r) => setTimeout(r, 50));
      expect(bCalls.length).toBe(reads); // …and it waits: no further calls until A is done
      release();
      const [r1, r2] = await Promise.all([first, second]);
      expect(r1.rotations[0]?.outcome).toBe('rotated');
      expect(r2.rotations[0]?.outcome).toBe('rotated');
      expect(r2.rotations[0]?.newAccessKeyId).not.toBe(r1.rotations[0]?.newAccessKeyId);
      expect(await invariant(world, ['c1', 'c2'])).toEqual([]);
    });
  }

  it('an attach racing a rotation: the new cluster gets the key the store ends with', async () => {
    const world = await shared(systemClock);
    const a = process_(world);
    await a.attachCluster('acme', { clusterId: 'c1' });
    const b = process_(world, { ownStoreClient: true });
    const [, attached] = await Promise.all([
      a.rotateCredentials('acme'),
      b.attachCluster('acme', { clusterId: 'c2' }),
    ]);
    expect(attached.clusterId).toBe('c2');
    expect(await invariant(world, ['c1', 'c2'])).toEqual([]);
  });

  it('a crashed holder (a manual clock) keeps everyone out until its lock expires, then a rotation finishes', async () => {
    const clock = createManualClock(T0, { autoAdvance: true });
    const world = await shared(clock);
    const a = process_(world);
    await a.attachCluster('acme', { clusterId: 'c1' });
    // The lock record of a process that died holding it (written by hand: the holder is gone).
    await world.secrets.write(
      `${LAYOUT.prefix}/locks/acme`,
      {
        holder: 'dead',
        purpose: 'rotateCredentials acme',
        acquiredAt: clock.now().toISOString(),
        renewedAt: clock.now().toISOString(),
        ttlMs: '3000',
      },
      { cas: (await world.secrets.read(`${LAYOUT.prefix}/locks/acme`))?.version ?? 0 },
    );
    const before = clock.now().getTime();
    const r = await process_(world, { ownStoreClient: true }).rotateCredentials('acme');
    expect(clock.now().getTime() - before).toBeGreaterThanOrEqual(3000);
    expect(r.rotations[0]?.outcome).toBe('rotated');
    expect(await invariant(world, ['c1'])).toEqual([]);
  });
});

describe('seeded random schedules', () => {
  const SCHEDULES = 200;
  it(`${SCHEDULES} schedules of two rotations, an ensure and two attaches (half across processes): the invariant always holds`, async () => {
    const failures: string[] = [];
    let waitedAcross = 0;
    for (let seed = 1; seed <= SCHEDULES; seed++) {
      const world = await shared(systemClock);
      await process_(world).attachCluster('acme', { clusterId: 'c1' });
      world.mostKeys = 0;
      const random = prng(seed);
      const delay = async () => {
        const turns = Math.floor(random() * 4);
        for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
      };
      const across = seed % 2 === 0;
      const p1 = process_(world, { delay });
      const p2 = process_(world, { delay, ownStoreClient: across });
      const runs = [
        p1.rotateCredentials('acme'),
        p2.rotateCredentials('acme'),
        p1.ensureOrganization('acme'),
        p2.attachCluster('acme', { clusterId: 'c2' }),
        p1.attachCluster('acme', { clusterId: 'c3' }),
      ];
      const outcomes = await Promise.allSettled(runs);
      const rejected = outcomes.filter((o) => o.status === 'rejected');
      if (rejected.length > 0)
        failures.push(
          `seed ${seed}: ${rejected.map((o) => String((o as PromiseRejectedResult).reason)).join('; ')}`,
        );
      const problems = await invariant(world, ['c1', 'c2', 'c3']);
      if (problems.length > 0) failures.push(`seed ${seed}: ${problems.join('; ')}`);
      if (across) waitedAcross += 1;
    }
    expect(failures).toEqual([]);
    expect(waitedAcross).toBe(SCHEDULES / 2);
  }, 180_000);
});
