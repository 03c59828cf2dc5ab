/**
 * The fault scenarios of the reliability suite (issue 6) on moto behind the fault proxy and the Vault
 * fake: concurrency, throttling storms, 5xx bursts, an inventory that fails or flips during collections,
 * and — across all of it — a capturing logger and every thrown error checked for secrets.
 * See docs/reliability.md for what each scenario proves.
 */

import {
  createManualClock,
  hasErrorCode,
  isRetryable,
  type ManualClock,
  systemClock,
  ZonekeeperError,
} from '@zonekeeper/core';
import { identityUserName } from '@zonekeeper/iam-scoper';
import type { FaultRule } from '@zonekeeper/testkit/fault-proxy';
import { readAccessKey } from '@zonekeeper/vault-keys';
import { listManagedZones } from '@zonekeeper/zone-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryInventory, type MemoryInventory } from '../inventory.js';
import { createZonekeeper, type Zonekeeper } from '../zonekeeper.js';
import {
  BASE_DOMAIN,
  type EmulatorBackend,
  emulatorBackend,
  IAM_WRITES,
  ROUTE53_WRITES,
} from './backends.test.support.js';
import { Harness } from './harness.test.support.js';
import { inventoryFuzz } from './inventory-fuzz.test.support.js';
import { recordingLogger, report, SecretWatch, START } from './matrix.test.support.js';
import { describeDifference, invariantViolations, snapshotWorld } from './world.test.support.js';

const HOUR = 3_600_000;
const WEB = { name: 'web', namespace: 'web', dnsNames: ['www.acme.example.com'] };

let backend: EmulatorBackend;
const watch = new SecretWatch();
const lines: string[] = [];
const logger = recordingLogger(lines);
const LAYOUT = { prefix: `zonekeeper/platforms/${BASE_DOMAIN}`, owner: BASE_DOMAIN };

beforeAll(async () => {
  backend = await emulatorBackend({ maxAttempts: 12, seed: 'faults' });
  watch.add(backend.vault.rootToken);
});
afterAll(async () => {
  await backend?.stop();
});

interface World {
  readonly clock: ManualClock;
  readonly inventory: MemoryInventory;
  zonekeeper(): Zonekeeper;
}

async function freshWorld(): Promise<World> {
  const clock = createManualClock(START, { autoAdvance: true });
  await backend.reset(clock);
  const inventory = createMemoryInventory();
  return {
    clock,
    inventory,
    zonekeeper: () =>
      createZonekeeper({
        baseDomain: BASE_DOMAIN,
        clock,
        inventory,
        logger,
        ...backend.config(new Harness({ onResult: watch.collect })),
      }),
  };
}

type Step = (name: string, op: () => Promise<unknown>) => Promise<void>;

/**
 * The whole story once: two organisations, two clusters (one with a TLS certificate), a rotation, a
 * detach, and a collection that deletes globex's zone while acme's stays in use.
 */
async function lifecycle(world: World, step: Step): Promise<void> {
  const zk = world.zonekeeper();
  const c1 = await backend.clusters.client('c1');
  await c1.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } });
  await step('ensureOrganization acme', () => zk.ensureOrganization('acme'));
  world.inventory.set({ organization: 'acme', clusterId: 'c1', running: true });
  world.inventory.set({ organization: 'globex', clusterId: 'g1', running: true });
  await step('attachCluster acme/c1', () =>
    zk.attachCluster('acme', { clusterId: 'c1', certificates: [WEB] }),
  );
  await step('attachCluster globex/g1', () => zk.attachCluster('globex', { clusterId: 'g1' }));
  await step('rotateCredentials acme', () => zk.rotateCredentials('acme'));
  await step('detachCluster globex/g1', () => zk.detachCluster('globex', 'g1'));
  world.inventory.remove('globex', 'g1');
  const zones = await listManagedZones({ dns: backend.inspect.dns }, { baseDomain: BASE_DOMAIN });
  const globex = zones.find((z) => z.organization === 'globex');
  const now = new Date((globex?.createdAt ?? START).getTime() + HOUR);
  await step('collectGarbage', async () => {
    const result = await zk.collectGarbage({ now });
    // A collection reports what it could not finish in its result; the caller (or the collector loop)
    // runs it again.
    const failed = result.results.find((r) => r.status !== 'deleted' || r.error);
    if (failed) throw failed.error ?? new ZonekeeperError('UNAVAILABLE', `collection: ${failed.message}`);
    if (result.orphans.error) throw result.orphans.error;
    if (result.results.length > 1)
      throw new Error(`expected one zone collected, got ${result.results.length}`);
  });
}

const plainly: Step = async (name, op) => {
  watch.result(await op(), name);
};

let reference: unknown;

describe('faults on moto + the Vault fake', () => {
  it('the uninterrupted lifecycle ends clean (the reference for the fault runs)', async () => {
    const world = await freshWorld();
    await lifecycle(world, plainly);
    const end = await snapshotWorld(backend.inspect, ['c1', 'g1'], world.clock.now());
    expect(invariantViolations(end, { organizations: ['acme'] })).toEqual([]);
    reference = end.normalised;
  }, 60_000);

  it('ten concurrent ensureOrganization for one organisation, then one more: none rejected, one zone created, one key issued', async () => {
    // The system clock: the organisation lock expires on the zonekeeper clock while its holder renews it
    // on real timers, so a manual clock that jumps whenever a waiter sleeps would expire a working
    // holder's lock (see adversarial.test.ts).
    await backend.reset(systemClock);
    const inventory = createMemoryInventory();
    const zonekeeper = () =>
      createZonekeeper({
        baseDomain: BASE_DOMAIN,
        inventory,
        logger,
        locks: { pollMs: 5 },
        ...backend.config(new Harness({ onResult: watch.collect })),
      });
    backend.mark?.();
    const zk = zonekeeper();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => zk.ensureOrganization('acme')),
    );
    const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    for (const o of rejected) watch.error(o.reason);
    // The runs serialise on the organisation's lock: the first creates, the others find it converged.
    expect(rejected.map((o) => (o.reason as Error).message)).toEqual([]);
    const last = await zonekeeper().ensureOrganization('acme');
    expect(last.plans.zone).toEqual([]);
    expect(last.plans.credentials).toEqual([]);
    expect(backend.awsProxy.count({ operation: 'CreateHostedZone' })).toBe(1);
    expect(backend.awsProxy.count({ operation: 'CreateUser' })).toBe(1);
    expect(backend.awsProxy.count({ operation: 'CreateAccessKey' })).toBe(1);
    expect(backend.awsProxy.count({ operation: 'DeleteHostedZone' })).toBe(0);
    const zones = (await backend.inspect.dns.findZonesByName('acme.example.com')).map((z) => z.id);
    expect(zones).toEqual([last.zone?.id]);
    const users = await backend.inspect.identity.listUsers('/zonekeeper/');
    expect(users.map((u) => u.userName)).toEqual([
      identityUserName({ baseDomain: BASE_DOMAIN, organization: 'acme' }),
    ]);
    const keys = await backend.inspect.identity.listAccessKeys(users[0]?.userName as string);
    const stored = await readAccessKey(backend.inspect.secrets, { organization: 'acme' }, LAYOUT);
    expect(keys.map((k) => k.accessKeyId)).toEqual([stored?.accessKeyId]);
    const end = await snapshotWorld(backend.inspect, [], new Date());
    expect(invariantViolations(end, { organizations: ['acme'] })).toEqual([]);
    report({
      suite: 'concurrency',
      runs: 11,
      rejected: rejected.length,
      zonesCreated: backend.awsProxy.count({ operation: 'CreateHostedZone' }),
      keysIssued: backend.awsProxy.count({ operation: 'CreateAccessKey' }),
    });
  }, 60_000);

  it('a throttling storm (30% Throttling / PriorRequestNotComplete on Route 53 and IAM): every operation completes', async () => {
    const world = await freshWorld();
    const storm: FaultRule[] = [
      { service: 'route53', fault: 'Throttling', probability: 0.15, label: 'storm' },
      { service: 'route53', fault: 'PriorRequestNotComplete', probability: 0.15 / 0.85, label: 'storm' },
      { service: 'iam', fault: 'Throttling', probability: 0.3, label: 'storm' },
    ];
    backend.setAwsRules(storm);
    backend.mark?.();
    const before = backend.counters();
    await lifecycle(world, plainly);
    const requests = backend.awsProxy.count();
    const throttled = backend.awsProxy.count({ fault: /^error:(Throttling|PriorRequestNotComplete)$/ });
    backend.setAwsRules([]);
    const after = backend.counters();
    // 30% of every attempt, retries included, is throttled (the proxy's seeded draws).
    expect(throttled).toBeGreaterThan(30);
    expect(throttled / requests).toBeGreaterThan(0.2);
    expect(throttled / requests).toBeLessThan(0.5);
    const end = await snapshotWorld(backend.inspect, ['c1', 'g1'], world.clock.now());
    expect(invariantViolations(end, { organizations: ['acme'] })).toEqual([]);
    expect(describeDifference(reference, end.normalised)).toBe('');
    report({
      suite: 'storm',
      requests,
      throttled,
      apiCalls: after.apiCalls - before.apiCalls,
      faults: after.faults - before.faults,
    });
  }, 120_000);

  it('5xx bursts (AWS 503/500, Vault 500/503/429, cluster 503): AWS calls are retried by the SDK, the rest fail retryably and a re-run converges', async () => {
    const world = await freshWorld();
    backend.setAwsRules([
      { service: /route53|iam/, fault: 'ServiceUnavailable', probability: 0.1, label: 'burst' },
      { service: /route53|iam/, fault: 'InternalFailure', probability: 0.05, label: 'burst' },
    ]);
    const failures: { step: string; error: unknown }[] = [];
    const before = backend.counters();
    let steps = 0;
    const converge: Step = async (name, op) => {
      steps += 1;
      // A burst right before every operation: the next Vault request (alternating 500, 503, 429), the
      // next Vault write, and the next cluster write.
      backend.vault.failNext(1, [500, 503, 429][steps % 3]);
      backend.vault.failNext(1, 500, { match: (r) => r.method !== 'GET' });
      backend.clusters.failNext(1, (m) => m === 'apply' || m === 'delete');
      for (let attempt = 1; ; attempt++) {
        try {
          watch.result(await op(), name);
          return;
        } catch (error) {
          watch.error(error);
          failures.push({ step: name, error });
          if (!isRetryable(error) || attempt >= 6) throw error;
        }
      }
    };
    await lifecycle(world, converge);
    backend.setAwsRules([]);
    const after = backend.counters();
    // The only AWS failures that reach the caller are CreateAccessKey's and CreateUser's: they are never
    // retried on a 5xx, because IAM may have applied them before the answer was lost.
    for (const { error } of failures) {
      expect(hasErrorCode(error, ['UNAVAILABLE', 'THROTTLED'])).toBe(true);
      const message = (error as Error).message;
      if (message.startsWith('IAM:'))
        expect(['CreateAccessKey', 'CreateUser']).toContain((error as ZonekeeperError).details?.operation);
      expect(message.startsWith('Route 53:')).toBe(false);
    }
    expect(failures.some((f) => (f.error as Error).message.startsWith('Vault:'))).toBe(true);
    expect(failures.some((f) => (f.error as Error).message.startsWith('Kubernetes:'))).toBe(true);
    expect(backend.awsProxy.count({ fault: /^error:(ServiceUnavailable|InternalFailure)$/ })).toBeGreaterThan(
      5,
    );
    const end = await snapshotWorld(backend.inspect, ['c1', 'g1'], world.clock.now());
    expect(invariantViolations(end, { organizations: ['acme'] })).toEqual([]);
    expect(describeDifference(reference, end.normalised)).toBe('');
    report({
      suite: 'bursts',
      operations: steps,
      reruns: failures.length,
      apiCalls: after.apiCalls - before.apiCalls,
      faults: after.faults - before.faults,
    });
  }, 120_000);

  it('an inventory that fails or contradicts itself at the start: the collection deletes nothing', async () => {
    const world = await freshWorld();
    const zk = world.zonekeeper();
    await zk.ensureOrganization('acme');
    const now = new Date(Date.now() + HOUR);
    const bad = [
      () => world.inventory.failNext(1),
      () => {
        // Duplicates: the same cluster listed twice.
        const list = world.inventory.listClusters.bind(world.inventory);
        world.inventory.listClusters = async (o) => {
          world.inventory.listClusters = list;
          const r = await list(o);
          return [...r, ...r];
        };
      },
      () => {
        const list = world.inventory.listClusters.bind(world.inventory);
        world.inventory.listClusters = async () => {
          world.inventory.listClusters = list;
          return [{ organization: 'Acme', clusterId: 'x', running: 'yes' as unknown as boolean }];
        };
      },
    ];
    world.inventory.set({ organization: 'acme', clusterId: 'c1', running: false });
    for (const breakIt of bad) {
      breakIt();
      backend.mark?.();
      const e = await zk.collectGarbage({ now }).catch((x: unknown) => x);
      watch.error(e);
      expect(hasErrorCode(e, 'UNAVAILABLE')).toBe(true);
      expect(backend.awsProxy.count({ operation: ROUTE53_WRITES })).toBe(0);
      expect(backend.awsProxy.count({ operation: IAM_WRITES })).toBe(0);
    }
    expect(await backend.inspect.dns.findZonesByName('acme.example.com')).toHaveLength(1);
  }, 60_000);

  it('an inventory whose re-check fails: the zone is skipped (fail closed, logged) and nothing is written', async () => {
    const world = await freshWorld();
    const zk = world.zonekeeper();
    await zk.ensureOrganization('acme');
    world.inventory.set({ organization: 'acme', clusterId: 'c1', running: false });
    const now = new Date(Date.now() + HOUR);
    // The plan's whole read answers; the point query right before the deletion fails, once.
    const pointQuery = world.inventory.listClustersOf.bind(world.inventory);
    world.inventory.listClustersOf = async () => {
      world.inventory.listClustersOf = pointQuery;
      throw new Error('inventory service: 503 (injected)');
    };
    const warnings = lines.filter((l) => l.startsWith('warn')).length;
    backend.mark?.();
    const r = await zk.collectGarbage({ now });
    watch.result(r, 'collectGarbage (re-check fails)');
    expect(r.results).toEqual([
      expect.objectContaining({ organization: 'acme', status: 'skipped', reason: 'fail-closed' }),
    ]);
    expect(r.orphans).toEqual({ identities: [], secretPaths: [], busy: [] });
    expect(backend.awsProxy.count({ operation: ROUTE53_WRITES })).toBe(0);
    expect(backend.awsProxy.count({ operation: IAM_WRITES })).toBe(0);
    expect(lines.filter((l) => l.startsWith('warn')).length).toBeGreaterThan(warnings);
    expect(await backend.inspect.dns.findZonesByName('acme.example.com')).toHaveLength(1);
  }, 60_000);

  it('an inventory that flips and fails while collections run: no in-use zone is ever touched', async () => {
    const figures = await inventoryFuzz(backend, {
      organizations: ['acme', 'globex', 'initech'],
      rounds: 6,
      seed: 6,
      flip: 0.2,
      fail: 0.08,
      logger,
    });
    expect(figures.violations).toEqual([]);
    expect(figures.zonesDeleted).toBeGreaterThan(0);
    expect(figures.flips).toBeGreaterThan(0);
    expect(figures.deletionsRefused + figures.collectionsFailedClosed).toBeGreaterThan(0);
    report({
      suite: 'inventory-fuzz',
      backend: backend.name,
      ...figures,
      violations: figures.violations.length,
    });
  }, 120_000);

  it('no log line (any level) and no thrown error holds a secret access key, a private key or a Vault token', () => {
    expect(watch.leaks(lines)).toEqual([]);
    expect(watch.secretsWatched).toBeGreaterThan(5);
    expect(lines.some((l) => l.startsWith('warn'))).toBe(true);
    report({
      suite: 'secrets',
      file: 'faults',
      lines: watch.linesScanned,
      errors: watch.errorsScanned,
      results: watch.resultsScanned,
      secrets: watch.secretsWatched,
    });
  });
});
