/**
 * The call model of `@zonekeeper/externaldns-deployer` (`externalDnsLoopCalls`, read from ExternalDNS
 * v0.22's source) against the real binary: every loop below is one ExternalDNS process (`--once`) or
 * one loop of a long-running pod, and the Route 53 requests it made — counted per operation in the IAM
 * enforcer's log, which sees every request ExternalDNS sends and nothing else — must equal the model's
 * numbers for the zone and record counts read from moto just before the loop. The counts cross page
 * boundaries (1, 2 and 3 pages of hosted zones and of record sets), with the zone cache off, cold and
 * warm, and with change batches cut by `--aws-batch-change-size`. The fleet budget planner
 * (`planFleetBudget`) rests on these numbers.
 */

import {
  type Change,
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListHostedZonesCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import {
  EXTERNAL_DNS_VERSION,
  type ExternalDnsLoop,
  externalDnsLoopCalls,
} from '@zonekeeper/externaldns-deployer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planFleetBudget } from 'zonekeeper';
import { ADMIN, ELB_HOSTNAME, errorLines, startWorld, type World } from '../world.js';

const ZONE = 'acme.example.com';
/** Cluster `acme-a` runs ExternalDNS's own default, no zone cache; `acme-b` the planner's settings (cache 1 h, --events). */
const UNCACHED = 'acme-a';
const CACHED = 'acme-b';
const SERVICES = 5;
/** An ALIAS to a load balancer: A and AAAA, each with its ownership TXT. */
const CHANGES_PER_NAME = 4;
const BATCH = 8;

let world: World;
let r53: Route53Client;
let seeded = 0;

const services = (prefix: string) =>
  Array.from(
    { length: SERVICES },
    (_, i) => `
apiVersion: v1
kind: Service
metadata:
  name: ${prefix}-${i}
  namespace: default
  annotations:
    external-dns.kubernetes.io/hostname: ${prefix}-${i}.${ZONE}
spec:
  type: LoadBalancer
  ports: [{ port: 443 }]
`,
  ).join('\n---\n');

async function accountZones(): Promise<number> {
  let zones = 0;
  let marker: string | undefined;
  for (;;) {
    const page = await r53.send(new ListHostedZonesCommand(marker ? { Marker: marker } : {}));
    zones += page.HostedZones?.length ?? 0;
    if (!page.IsTruncated) return zones;
    marker = page.NextMarker;
  }
}

async function addZones(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const name = `tenant-${seeded++}.other.test`;
    await r53.send(new CreateHostedZoneCommand({ Name: name, CallerReference: name }));
  }
}

/** Record sets no ExternalDNS owns (no ownership TXT): read on every loop, never changed. */
async function addRecords(n: number): Promise<void> {
  const zoneId = await world.zoneId(ZONE);
  const start = (await world.records(ZONE)).length;
  const changes: Change[] = Array.from({ length: n }, (_, i) => ({
    Action: 'CREATE',
    ResourceRecordSet: {
      Name: `seed-${start + i}.${ZONE}`,
      Type: 'A',
      TTL: 300,
      ResourceRecords: [{ Value: '192.0.2.1' }],
    },
  }));
  for (let i = 0; i < changes.length; i += 500) {
    await r53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: { Changes: changes.slice(i, i + 500) },
      }),
    );
  }
}

/** Requests in the enforcer's log, per operation. */
function tally(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of world.enforcer.log) out[entry.operation] = (out[entry.operation] ?? 0) + 1;
  return out;
}

/** The model's numbers, without the actions it says are not called (the log has no zero entries). */
function expected(loop: ExternalDnsLoop): Record<string, number> {
  return Object.fromEntries(Object.entries(externalDnsLoopCalls(loop)).filter(([, n]) => n > 0));
}

/** What the model is given for the next loop: the account's zones and the zone's record sets, from moto. */
async function facts(): Promise<{ accountZones: number; recordSets: number }> {
  return { accountZones: await accountZones(), recordSets: (await world.records(ZONE)).length };
}

/** One `--once` loop of a cluster; the requests it made, per operation, and the loop the model is given. */
async function once(
  cluster: string,
  loop: Omit<ExternalDnsLoop, 'accountZones' | 'recordSets'>,
): Promise<{ measured: Record<string, number>; model: Record<string, number>; label: string }> {
  const given = { ...(await facts()), ...loop };
  world.enforcer.clearLog();
  const run = await world.runOnce(cluster);
  expect(run.exitCode, run.lines.join('\n')).toBe(0);
  expect(errorLines(run)).toEqual([]);
  expect(world.enforcer.denials()).toEqual([]);
  return { measured: tally(), model: expected(given), label: JSON.stringify(given) };
}

beforeAll(async () => {
  world = await startWorld();
  r53 = new Route53Client({ endpoint: world.moto.endpoint, region: 'us-east-1', credentials: ADMIN });
  await world.zk.attachCluster('acme', {
    clusterId: UNCACHED,
    externalDns: { zonesCacheDuration: '0s' },
  });
  // The planner's settings, rendered by attachCluster; a small batch so that 5 names take 3 batches.
  const plan = planFleetBudget({ organizations: 1, clustersPerOrganization: 2, recordSetsPerZone: 700 });
  if (plan.outcome !== 'fits') throw new Error(plan.message);
  await world.zk.attachCluster('acme', {
    clusterId: CACHED,
    fleetBudget: { ...plan.settings, zonesCacheJitterSeconds: 0, batchChangeSize: BATCH },
  });
}, 120_000);

afterAll(async () => {
  await world?.stop();
});

describe(`the call model equals the requests of ExternalDNS ${EXTERNAL_DNS_VERSION}`, {
  timeout: 300_000,
}, () => {
  it('loop by loop, for 1 to 3 pages of zones and of record sets, cache off and cold, with and without changes', async () => {
    const rows: string[] = [];
    const check = async (cluster: string, loop: Omit<ExternalDnsLoop, 'accountZones' | 'recordSets'>) => {
      const r = await once(cluster, loop);
      rows.push(`${cluster} ${r.label} → ${JSON.stringify(r.measured)}`);
      expect(r.measured, r.label).toEqual(r.model);
      return r;
    };

    // 1 page of zones (the parent and acme), 1 page of records (SOA, NS).
    await check(UNCACHED, { zonesCache: 'off' });
    await check(CACHED, { zonesCache: 'cold', batchChangeSize: BATCH });

    // 2 pages of each: 152 zones, 342 record sets.
    await addZones(150);
    await addRecords(340);
    expect(await facts()).toEqual({ accountZones: 152, recordSets: 342 });
    await check(UNCACHED, { zonesCache: 'off' });
    await check(CACHED, { zonesCache: 'cold', batchChangeSize: BATCH });

    // 3 pages of each: 252 zones, 642 record sets.
    await addZones(100);
    await addRecords(300);
    await check(UNCACHED, { zonesCache: 'off' });
    await check(CACHED, { zonesCache: 'cold', batchChangeSize: BATCH });

    // Changes: 5 ALIAS names per cluster. Uncached: a third listing, one batch (20 changes ≤ 1000);
    // cached, batch size 8: two names (8 changes) a batch, so 3 batches.
    for (const [cluster, prefix] of [
      [UNCACHED, 'a'],
      [CACHED, 'b'],
    ] as const) {
      await world.kubectl(cluster, ['apply', '-f', '-'], services(prefix));
      for (let i = 0; i < SERVICES; i++)
        await world.setLoadBalancer(cluster, 'service', 'default', `${prefix}-${i}`, ELB_HOSTNAME);
    }
    const changed = { changedNames: SERVICES, changesPerName: CHANGES_PER_NAME };
    const a = await check(UNCACHED, { zonesCache: 'off', ...changed });
    const b = await check(CACHED, { zonesCache: 'cold', batchChangeSize: BATCH, ...changed });
    expect([a.measured.ChangeResourceRecordSets, b.measured.ChangeResourceRecordSets]).toEqual([1, 3]);
    const records = await world.records(ZONE);
    for (const name of ['a-0', 'a-4', 'b-0', 'b-4'])
      expect(records).toContain(`${name}.${ZONE}. A ALIAS ${ELB_HOSTNAME}`);

    // Nothing left to change: back to two listings (uncached) and one (cold).
    await check(UNCACHED, { zonesCache: 'off' });
    await check(CACHED, { zonesCache: 'cold', batchChangeSize: BATCH });
    const args = (await world.cluster(CACHED)).get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'external-dns',
      name: 'external-dns',
    }) as unknown as { spec: { template: { spec: { containers: { args: string[] }[] } } } };
    expect(args.spec.template.spec.containers[0]?.args).toEqual(
      expect.arrayContaining([
        '--aws-zones-cache-duration=1h',
        '--events',
        `--aws-batch-change-size=${BATCH}`,
      ]),
    );
    console.log(
      `ExternalDNS ${EXTERNAL_DNS_VERSION} requests per loop (model = measured):\n${rows.join('\n')}`,
    );
  });

  it('a warm zone cache: a long-running pod lists the zones on its first loop only', async () => {
    const LOOP_END = (l: string) =>
      /All records are already up to date|record\(s\) were successfully updated/.test(l);
    const first = await facts();
    world.enforcer.clearLog();
    const pod = await world.startPod(CACHED);
    try {
      await pod.waitForLine(LOOP_END, { timeoutMs: 60_000 });
      const loop1 = tally();
      expect(loop1).toEqual(expected({ ...first, zonesCache: 'cold' }));
      const second = await facts();
      world.enforcer.clearLog();
      // --events: a changed Service triggers the next loop (within --min-event-sync-interval, 5 s).
      await world.kubectl(CACHED, ['annotate', 'service', 'b-0', '-n', 'default', 'loop=2', '--overwrite']);
      await pod.waitForLine(LOOP_END, { count: 2, timeoutMs: 60_000 });
      expect(tally()).toEqual(expected({ ...second, zonesCache: 'warm' }));
      expect(world.enforcer.denials()).toEqual([]);
    } finally {
      await pod.stop();
    }
  });
});
