import { type ClusterClient, hasErrorCode, ZonekeeperError } from '@zonekeeper/core';
import { createMemoryCluster, type MemoryCluster } from '@zonekeeper/externaldns-deployer';
import { describe, expect, it } from 'vitest';
import type { ClusterInventory } from './inventory.js';
import { HOUR, memoryWorld, settle } from './memory.test.support.js';
import { type CollectionResult, createZonekeeper } from './zonekeeper.js';

const MINUTE = 60_000;

interface Seen {
  readonly at: string;
  readonly result?: CollectionResult;
  readonly error?: unknown;
}

function recorder(clock: { now(): Date }) {
  const seen: Seen[] = [];
  return {
    seen,
    onCollection: (o: { result?: CollectionResult; error?: unknown }) => {
      seen.push({ at: clock.now().toISOString(), ...o });
    },
  };
}

/** A memory cluster holding the lease, with a namespace for it. */
async function leaseCluster(clock: {
  now(): Date;
  sleep(ms: number): Promise<void>;
}): Promise<MemoryCluster> {
  const c = createMemoryCluster({ name: 'mgmt', clock: clock as never });
  await c.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'zk' } });
  return c;
}

const holder = (c: MemoryCluster) =>
  (c.objects('Lease')[0]?.spec as { holderIdentity?: string | null } | undefined)?.holderIdentity;

describe('runGarbageCollector', () => {
  it('collects at once, then sleeps until nextReviewAt, bounded by maxIntervalMs', async () => {
    const w = memoryWorld();
    await w.zk.ensureOrganization('initech'); // 10 Mar 05:00
    w.inventory.set({ organization: 'initech', clusterId: 'i1', running: false });
    await w.clock.advance(13 * HOUR); // paid for: deferred to 31 Mar 23:00
    const r = recorder(w.clock);
    const stop = new AbortController();
    const loop = w.zk.runGarbageCollector({ signal: stop.signal, maxIntervalMs: 6 * HOUR, ...r });
    await settle();
    expect(r.seen.map((s) => s.at)).toEqual(['2026-03-10T18:00:00.000Z']);
    expect(r.seen[0]?.result?.nextReviewAt?.toISOString()).toBe('2026-03-31T23:00:00.000Z');

    await w.clock.advance(6 * HOUR - 1);
    await settle();
    expect(r.seen).toHaveLength(1);
    await w.clock.advance(1);
    await settle();
    expect(r.seen.map((s) => s.at)[1]).toBe('2026-03-11T00:00:00.000Z'); // maxIntervalMs

    await w.clock.set(new Date('2026-03-31T22:30:00.000Z'));
    await settle();
    expect(r.seen.at(-1)?.at).toBe('2026-03-31T22:30:00.000Z');
    expect(r.seen.at(-1)?.result?.results).toEqual([]);
    await w.clock.advance(30 * MINUTE); // exactly nextReviewAt, not a maxIntervalMs later
    await settle();
    expect(r.seen.at(-1)?.at).toBe('2026-03-31T23:00:00.000Z');
    expect(r.seen.at(-1)?.result?.results.map((x) => x.status)).toEqual(['deleted']);

    stop.abort();
    await loop;
    expect(w.clock.pendingSleeps).toBe(0);
  });

  it('wakes early when the inventory changes', async () => {
    const w = memoryWorld();
    w.inventory.set({ organization: 'acme', clusterId: 'c1', running: true });
    await w.zk.ensureOrganization('acme');
    const r = recorder(w.clock);
    const stop = new AbortController();
    const loop = w.zk.runGarbageCollector({ signal: stop.signal, maxIntervalMs: HOUR, ...r });
    await settle();
    expect(r.seen).toHaveLength(1);
    expect(r.seen[0]?.result?.results).toEqual([]);
    w.inventory.set({ organization: 'acme', clusterId: 'c1', running: false }); // no clock movement
    await settle();
    expect(r.seen).toHaveLength(2);
    expect(r.seen[1]?.at).toBe(r.seen[0]?.at);
    expect(r.seen[1]?.result?.results.map((x) => x.status)).toEqual(['deleted']);
    stop.abort();
    await loop;
  });

  it('retries after a failed collection, and after a zone it could not delete, after retryDelayMs', async () => {
    const w = memoryWorld();
    await w.zk.ensureOrganization('acme');
    w.inventory.set({ organization: 'acme', clusterId: 'c1', running: false });
    w.inventory.failNext(1);
    const deleteZone = w.dns.deleteZone.bind(w.dns);
    let zoneFailures = 1;
    w.dns.deleteZone = async (id, o) => {
      if (zoneFailures-- > 0) throw new ZonekeeperError('UNAVAILABLE', 'memory DNS: 503 (injected)');
      return deleteZone(id, o);
    };
    const r = recorder(w.clock);
    const stop = new AbortController();
    const loop = w.zk.runGarbageCollector({
      signal: stop.signal,
      maxIntervalMs: HOUR,
      retryDelayMs: 5 * MINUTE,
      ...r,
    });
    await settle();
    expect(hasErrorCode(r.seen[0]?.error, 'UNAVAILABLE')).toBe(true); // inventory down: fail closed
    await w.clock.advance(5 * MINUTE - 1);
    await settle();
    expect(r.seen).toHaveLength(1);
    await w.clock.advance(1);
    await settle();
    expect(r.seen[1]?.result?.results.map((x) => x.status)).toEqual(['failed']);
    await w.clock.advance(5 * MINUTE); // not an hour
    await settle();
    expect(r.seen[2]?.result?.results.map((x) => x.status)).toEqual(['deleted']);
    expect(w.logger.lines.some((l) => l.startsWith('warn') && l.includes('retrying later'))).toBe(true);
    stop.abort();
    await loop;
  });

  it('stops on abort, releases its lease and leaves no sleep or listener behind', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const w = memoryWorld();
      const mgmt = await leaseCluster(w.clock);
      const stop = new AbortController();
      const r = recorder(w.clock);
      const loop = w.zk.runGarbageCollector({
        signal: stop.signal,
        maxIntervalMs: MINUTE,
        lease: { cluster: mgmt, namespace: 'zk', identity: 'replica-a', durationMs: 15_000 },
        ...r,
      });
      for (let i = 0; i < 40; i++) {
        await w.clock.advance(MINUTE);
        await settle(5);
      }
      expect(r.seen.length).toBeGreaterThanOrEqual(40);
      expect(holder(mgmt)).toBe('replica-a');
      stop.abort();
      await loop;
      expect(holder(mgmt)).toBeNull();
      expect(w.clock.pendingSleeps).toBe(0);
      await settle();
      expect(warnings.filter((x) => x.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('with a lease, two replicas never collect at once; the other takes over when the holder stops', async () => {
    const w = memoryWorld();
    await w.zk.ensureOrganization('acme');
    w.inventory.set({ organization: 'acme', clusterId: 'c1', running: true });
    const mgmt = await leaseCluster(w.clock);
    const lease = (identity: string) => ({ cluster: mgmt, namespace: 'zk', identity, durationMs: 30_000 });
    const a = recorder(w.clock);
    const b = recorder(w.clock);
    const stopA = new AbortController();
    const stopB = new AbortController();
    const loopA = w.zk.runGarbageCollector({
      signal: stopA.signal,
      maxIntervalMs: MINUTE,
      lease: lease('a'),
      ...a,
    });
    await settle();
    const loopB = w.zk.runGarbageCollector({
      signal: stopB.signal,
      maxIntervalMs: MINUTE,
      lease: lease('b'),
      ...b,
    });
    for (let i = 0; i < 10; i++) {
      await w.clock.advance(10_000);
      await settle(5);
    }
    expect(a.seen.length).toBeGreaterThanOrEqual(2);
    expect(b.seen).toEqual([]);
    expect(holder(mgmt)).toBe('a');
    // The non-holder polls the lease at a steady pace — no busy loop, even after an inventory change.
    const gets = mgmt.calls.get ?? 0;
    w.inventory.set({ organization: 'acme', clusterId: 'c2', running: true });
    await settle();
    expect((mgmt.calls.get ?? 0) - gets).toBeLessThanOrEqual(4);

    stopA.abort();
    await loopA;
    expect(holder(mgmt)).toBeNull();
    const taken = w.clock.now().getTime();
    await w.clock.advance(10_000); // B's next attempt (every third of the lease)
    await settle();
    expect(holder(mgmt)).toBe('b');
    expect(b.seen).toHaveLength(1); // collects as soon as it takes over
    expect(Date.parse(b.seen[0]?.at as string) - taken).toBeLessThanOrEqual(10_000);
    stopB.abort();
    await loopB;
  });

  it('a crashed holder (no release): the other replica takes over once the lease expires, not before', async () => {
    const w = memoryWorld();
    const mgmt = await leaseCluster(w.clock);
    let dead = false;
    const deadable: ClusterClient = new Proxy(mgmt, {
      get(target, p, receiver) {
        const v = Reflect.get(target, p, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) =>
          dead
            ? Promise.reject(new ZonekeeperError('UNAVAILABLE', 'Kubernetes: connection refused (injected)'))
            : (v as (...a: unknown[]) => unknown).apply(target, args);
      },
    });
    const a = recorder(w.clock);
    const b = recorder(w.clock);
    const stopA = new AbortController();
    const stopB = new AbortController();
    const loopA = w.zk.runGarbageCollector({
      signal: stopA.signal,
      maxIntervalMs: MINUTE,
      lease: { cluster: deadable, namespace: 'zk', identity: 'a', durationMs: 30_000 },
      ...a,
    });
    await settle();
    const loopB = w.zk.runGarbageCollector({
      signal: stopB.signal,
      maxIntervalMs: MINUTE,
      lease: { cluster: mgmt, namespace: 'zk', identity: 'b', durationMs: 30_000 },
      ...b,
    });
    await settle();
    const lastRenew = Date.parse(((mgmt.objects('Lease')[0]?.spec ?? {}) as { renewTime: string }).renewTime);
    dead = true; // A can reach nothing any more (its process is as good as dead)
    const collectedByA = a.seen.length;
    for (let i = 0; i < 6; i++) {
      await w.clock.advance(5_000);
      await settle(5);
      if (b.seen.length > 0) break;
    }
    expect(holder(mgmt)).toBe('b');
    expect(Date.parse(b.seen[0]?.at as string)).toBeGreaterThanOrEqual(lastRenew + 30_000);
    expect(a.seen).toHaveLength(collectedByA);
    stopA.abort();
    stopB.abort();
    await Promise.all([loopA, loopB]);
  });

  it('a lease lost during a collection aborts it before anything is deleted', async () => {
    const w = memoryWorld();
    await w.zk.ensureOrganization('acme');
    const mgmt = await leaseCluster(w.clock);
    let reads = 0;
    let release: (() => void) | undefined;
    const blocking: ClusterInventory = {
      listClusters: (o) => {
        reads += 1;
        if (reads !== 2) return Promise.resolve([{ organization: 'acme', clusterId: 'c1', running: false }]);
        // The re-check before the deletion hangs (a slow inventory) until the collection is aborted.
        return new Promise((resolve, reject) => {
          release = () => resolve([]);
          o?.signal?.addEventListener('abort', () => reject(o.signal?.reason), { once: true });
        });
      },
    };
    const zk = createZonekeeper({
      baseDomain: 'example.com',
      clock: w.clock,
      inventory: blocking,
      dns: w.dns,
      identity: w.identity,
      secrets: w.secrets,
      logger: w.logger,
    });
    const r = recorder(w.clock);
    const stop = new AbortController();
    const loop = zk.runGarbageCollector({
      signal: stop.signal,
      maxIntervalMs: HOUR,
      lease: { cluster: mgmt, namespace: 'zk', identity: 'a', durationMs: 30_000 },
      ...r,
    });
    await settle();
    expect(release).toBeDefined();
    // Someone else takes the lease (another replica that saw it expire, or an operator).
    const lease = mgmt.objects('Lease')[0];
    await mgmt.replace({
      ...(lease as NonNullable<typeof lease>),
      spec: {
        ...(lease?.spec as object),
        holderIdentity: 'b',
        renewTime: `${w.clock.now().toISOString().slice(0, 23)}000Z`,
      },
    });
    await w.clock.advance(10_000); // A's renewal finds B holding
    await settle();
    expect(r.seen).toHaveLength(1);
    expect(hasErrorCode(r.seen[0]?.error, 'CONFLICT')).toBe(true);
    expect(String((r.seen[0]?.error as Error | undefined)?.message)).toMatch(
      /lost the garbage-collector lease/,
    );
    expect(w.dns.snapshot().some((z) => z.name === 'acme.example.com')).toBe(true);
    expect(w.logger.lines.some((l) => l.includes('lost the garbage-collector lease'))).toBe(true);
    stop.abort();
    await loop;
    expect(holder(mgmt)).toBe('b'); // A does not release a lease it no longer holds
  });

  it('rejects bad options before any call', async () => {
    const w = memoryWorld();
    const mgmt = await leaseCluster(w.clock);
    const signal = new AbortController().signal;
    const bad = [
      { signal, maxIntervalMs: 0 },
      { signal, retryDelayMs: -1 },
      { signal, lease: { cluster: mgmt, namespace: 'zk', identity: '' } },
      { signal, lease: { cluster: mgmt, namespace: 'Zk', identity: 'a' } },
      { signal, lease: { cluster: mgmt, namespace: 'zk', identity: 'a', durationMs: 100 } },
      { signal: undefined as unknown as AbortSignal },
    ];
    const calls = mgmt.calls.get ?? 0;
    for (const options of bad) {
      const e = await w.zk.runGarbageCollector(options).catch((x: unknown) => x);
      expect(hasErrorCode(e, 'INVALID_INPUT'), JSON.stringify(Object.keys(options))).toBe(true);
    }
    expect(mgmt.calls.get ?? 0).toBe(calls);
    expect(await w.callCount()).toBe(0);
    expect(() => createZonekeeper({ baseDomain: 'example.com', gc: { maxIntervalMs: -5 } })).toThrow(
      /maxIntervalMs/,
    );
  });
});
