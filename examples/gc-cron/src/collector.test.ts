import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createManualClock, ZonekeeperError } from '@zonekeeper/core';
import { createMemoryCluster } from '@zonekeeper/externaldns-deployer';
import { createMemoryDnsProvider, listManagedZones } from '@zonekeeper/zone-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createZonekeeper } from 'zonekeeper';
import {
  buildCollector,
  type Collector,
  collectOnce,
  ExitCode,
  exitCodeOfError,
  formatOutcome,
  runLoop,
  worstExitCode,
} from './collector.js';
import { readConfig } from './config.js';
import { createHttpInventory, trackInventory } from './inventory.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zk-gc-cron-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function inventoryFile(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** A memory collector with acme (running cluster), globex (stopped) and initech (no cluster). */
async function memoryCollector(inventory: string, autoAdvance = true): Promise<Collector> {
  // autoAdvance makes the facade's waits instant; the loop test turns it off, because a lease renewer
  // sleeping on an auto-advancing clock never yields to the event loop (and so to file or HTTP reads).
  const clock = createManualClock(new Date('2026-03-10T08:00:00.000Z'), { autoAdvance });
  const config = readConfig(
    ['--backend', 'memory', '--base-domain', 'example.com', '--inventory', inventory],
    {},
  );
  const collector = await buildCollector(config, { clock });
  for (const org of ['acme', 'globex', 'initech']) await collector.zk.ensureOrganization(org);
  return collector;
}

const orgsLeft = async (c: Collector) =>
  (await listManagedZones({ dns: c.zk.ports.dns }, { baseDomain: 'example.com' }))
    .map((z) => z.organization)
    .sort();

describe('one collection on the memory backend', () => {
  it('deletes the unused zones (free within 12 h), keeps the used one, exits 0', async () => {
    const path = await inventoryFile('ok.json', {
      clusters: [
        { organization: 'acme', clusterId: 'acme-prod', running: true },
        { organization: 'globex', clusterId: 'globex-trial', running: false },
      ],
    });
    const collector = await memoryCollector(path);
    const outcome = await collectOnce(collector);
    expect(outcome.exitCode).toBe(ExitCode.OK);
    const text = formatOutcome(outcome);
    expect(text).toMatch(/acme\.example\.com\s+acme\s+keep\s+IN_USE\n/);
    expect(text).toMatch(/globex\.example\.com\s+globex\s+delete\s+FREE_DELETION_WINDOW\s+deleted/);
    expect(text).toMatch(/initech\.example\.com\s+initech\s+delete\s+FREE_DELETION_WINDOW\s+deleted/);
    expect(text).toMatch(/exit 0: done$/);
    expect(await orgsLeft(collector)).toEqual(['acme']);
    // The organisations' identities went with their zones.
    const users = await collector.zk.ports.identity.listUsers('/zonekeeper/');
    expect(users.map((u) => u.userName)).toEqual(['zk-a379a6f6.acme']);
  });

  it('defers a zone whose month is paid, and says when to look again', async () => {
    const path = await inventoryFile('acme-only.json', [
      { organization: 'acme', clusterId: 'a', running: true },
    ]);
    const collector = await memoryCollector(path);
    const later = new Date('2026-03-10T21:00:00.000Z'); // 13 h after creation: March is charged
    const outcome = await collectOnce(collector, { dryRun: true, now: later });
    expect(outcome.exitCode).toBe(ExitCode.OK);
    const json = JSON.parse(formatOutcome(outcome, { json: true })) as {
      dryRun: boolean;
      nextReviewAt: string;
      zones: { organization: string; decision: string; reason: string; eligibleAt?: string }[];
    };
    expect(json.dryRun).toBe(true);
    expect(json.zones.find((z) => z.organization === 'globex')).toMatchObject({
      decision: 'defer',
      reason: 'ALREADY_CHARGED',
      eligibleAt: '2026-03-31T23:00:00Z',
    });
    expect(json.nextReviewAt).toBe('2026-03-31T23:00:00.000Z');
    expect(await orgsLeft(collector)).toEqual(['acme', 'globex', 'initech']);
  });

  it('fails closed with exit 4 (retry later) when the inventory is unreadable or inconsistent, deleting nothing', async () => {
    for (const [name, content] of [
      ['broken.json', '{"clusters": ['],
      ['shape.json', { clusters: 'none' }],
      [
        'twice.json',
        [
          { organization: 'acme', clusterId: 'a', running: true },
          { organization: 'acme', clusterId: 'a', running: false },
        ],
      ],
      ['bad-record.json', [{ organization: 'Acme', clusterId: 'a', running: true }]],
    ] as const) {
      const collector = await memoryCollector(await inventoryFile(name, content));
      const outcome = await collectOnce(collector);
      expect(outcome.exitCode, name).toBe(ExitCode.RETRY_LATER);
      expect(outcome.inventoryUnavailable, name).toBe(true);
      expect(formatOutcome(outcome)).toMatch(
        /inventory was unavailable: nothing was deleted after that \(fail closed\)\nexit 4: retry later/,
      );
      expect(await orgsLeft(collector)).toEqual(['acme', 'globex', 'initech']);
    }
    const missing = await memoryCollector(join(dir, 'does-not-exist.json'));
    expect((await collectOnce(missing)).exitCode).toBe(ExitCode.RETRY_LATER);
  });

  it("exits by the failing zone's error (4 for UNAVAILABLE), and a second run finishes the job", async () => {
    const clock = createManualClock(new Date('2026-03-10T08:00:00.000Z'), { autoAdvance: true });
    const memory = createMemoryDnsProvider({ clock });
    await memory.createZone({ name: 'example.com', callerReference: 'parent' });
    let failDeletes = 1;
    const dns = {
      ...memory,
      async deleteZone(zoneId: string, options?: { signal?: AbortSignal }) {
        if (failDeletes-- > 0) throw new ZonekeeperError('UNAVAILABLE', 'injected: Route 53 answered 503');
        return memory.deleteZone(zoneId, options);
      },
    };
    const inventory = trackInventory({ listClusters: async () => [] });
    const collector: Collector = {
      zk: createZonekeeper({ baseDomain: 'example.com', dns, inventory, clock }),
      inventory,
    };
    await collector.zk.ensureOrganization('globex');
    const first = await collectOnce(collector);
    expect(first.exitCode).toBe(ExitCode.RETRY_LATER);
    expect(first.inventoryUnavailable).toBe(false);
    expect(formatOutcome(first)).toMatch(
      /globex\.example\.com\s+globex\s+delete\s+FREE_DELETION_WINDOW\s+failed: injected/,
    );
    const second = await collectOnce(collector);
    expect(second.exitCode).toBe(ExitCode.OK);
    expect(await orgsLeft(collector)).toEqual([]);
  });
});

describe('the HTTP inventory', () => {
  let server: Server;
  let url: string;
  let answer: { status: number; body: unknown } = { status: 200, body: [] };
  const seen: (string | undefined)[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/internal/clusters`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads the platform endpoint with the bearer token, and fails closed on an error answer', async () => {
    answer = { status: 200, body: { clusters: [{ organization: 'acme', clusterId: 'a', running: true }] } };
    const collector = await memoryCollector(url);
    const token = 'inventory-token-123';
    const withToken: Collector = {
      ...collector,
      inventory: trackInventory(createHttpInventory(url, { token })),
    };
    expect(await withToken.inventory.listClusters()).toEqual([
      { organization: 'acme', clusterId: 'a', running: true },
    ]);
    expect(seen.at(-1)).toBe(`Bearer ${token}`);

    const ok = await collectOnce(collector);
    expect(ok.exitCode).toBe(ExitCode.OK);
    expect(await orgsLeft(collector)).toEqual(['acme']);

    answer = { status: 500, body: { error: 'database down' } };
    const again = await memoryCollector(url);
    const failed = await collectOnce(again);
    expect(failed.exitCode).toBe(ExitCode.RETRY_LATER);
    expect(await orgsLeft(again)).toEqual(['acme', 'globex', 'initech']);
  });
});

describe('the loop', () => {
  it('collects while holding the Lease, prints a summary per collection, and releases the Lease on stop', async () => {
    const path = await inventoryFile('loop.json', [{ organization: 'acme', clusterId: 'a', running: true }]);
    const collector = await memoryCollector(path, false);
    const leaseCluster = createMemoryCluster({ name: 'lease' });
    await leaseCluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'zonekeeper' } });
    const lease = { namespace: 'zonekeeper', name: 'zonekeeper-gc', identity: 'gc-0' };
    const controller = new AbortController();
    const printed: string[] = [];
    await runLoop({ ...collector, leaseCluster }, { lease, json: false }, controller.signal, (text) => {
      printed.push(text);
      controller.abort();
    });
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/globex\.example\.com\s+globex\s+delete\s+FREE_DELETION_WINDOW\s+deleted/);
    expect(await orgsLeft(collector)).toEqual(['acme']);
    const stored = await leaseCluster.get({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease });
    expect(
      (stored?.spec as { holderIdentity?: string | null } | undefined)?.holderIdentity ?? null,
    ).toBeNull();
  });
});

describe('exit codes', () => {
  it('map a failure by its zonekeeper error code, the worst one winning', () => {
    const code = (c: ConstructorParameters<typeof ZonekeeperError>[0]) =>
      exitCodeOfError(new ZonekeeperError(c, c));
    expect(code('INVALID_INPUT')).toBe(ExitCode.USAGE);
    for (const c of ['NOT_OWNED', 'PERMISSION_DENIED', 'CONFLICT', 'NOT_FOUND', 'ALREADY_EXISTS'] as const)
      expect(code(c), c).toBe(ExitCode.REFUSED);
    for (const c of ['THROTTLED', 'UNAVAILABLE', 'TIMEOUT', 'PENDING'] as const)
      expect(code(c), c).toBe(ExitCode.RETRY_LATER);
    expect(code('INTERNAL')).toBe(ExitCode.FAILED);
    expect(exitCodeOfError(new Error('boom'))).toBe(ExitCode.FAILED);
    expect(worstExitCode([])).toBe(ExitCode.OK);
    expect(worstExitCode([ExitCode.USAGE, ExitCode.REFUSED])).toBe(ExitCode.REFUSED);
    expect(worstExitCode([ExitCode.REFUSED, ExitCode.RETRY_LATER, ExitCode.OK])).toBe(ExitCode.RETRY_LATER);
    expect(worstExitCode([ExitCode.RETRY_LATER, ExitCode.FAILED])).toBe(ExitCode.FAILED);
  });
});
