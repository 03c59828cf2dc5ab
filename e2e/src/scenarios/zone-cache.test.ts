/**
 * ListHostedZones per ExternalDNS loop, counted from the proxy log, without and with the zone cache.
 * ExternalDNS pages through every hosted zone of the account (not only the organisation's), 2–3 times
 * per loop unless `--aws-zones-cache-duration` is set; on a platform with many organisations that is
 * most of the account's Route 53 request budget. zonekeeper renders a cache by default
 * (`zonesCacheDuration`, default `1h`); a cluster attached with `zonesCacheDuration: '0s'` shows
 * ExternalDNS's own default next to it, in the same run.
 */

import { CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { DEFAULT_ZONES_CACHE_DURATION } from '@zonekeeper/externaldns-deployer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExternalDnsPod } from '../external-dns/pod.js';
import { ADMIN, ELB_HOSTNAME, startWorld, type World } from '../world.js';

/** Zones of other tenants in the account: 130 + the parent + 2 organisations = 2 ListHostedZones pages. */
const OTHER_ZONES = 130;
const LOOPS = 3;
let world: World;

const LOOP_END = (l: string) =>
  /All records are already up to date|record\(s\) were successfully updated/.test(l);

const service = (org: string) => `
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
  annotations:
    external-dns.kubernetes.io/hostname: web.${org}.example.com
spec:
  type: LoadBalancer
  ports: [{ port: 443 }]
`;

beforeAll(async () => {
  world = await startWorld();
  const r53 = new Route53Client({ endpoint: world.moto.endpoint, region: 'us-east-1', credentials: ADMIN });
  for (let i = 0; i < OTHER_ZONES; i++) {
    await r53.send(
      new CreateHostedZoneCommand({ Name: `tenant-${i}.other.test`, CallerReference: `other-${i}` }),
    );
  }
  await world.zk.attachCluster('acme', {
    clusterId: 'acme-prod',
    externalDns: { extraArgs: ['--events'], zonesCacheDuration: '0s' },
  });
  await world.zk.attachCluster('globex', {
    clusterId: 'globex-prod',
    externalDns: { extraArgs: ['--events'] },
  });
  for (const [cluster, org] of [
    ['acme-prod', 'acme'],
    ['globex-prod', 'globex'],
  ] as const) {
    await world.kubectl(cluster, ['apply', '-f', '-'], service(org));
    await world.setLoadBalancer(cluster, 'service', 'default', 'web', ELB_HOSTNAME);
  }
});

afterAll(async () => {
  await world?.stop();
});

/** ListHostedZones calls of each of `LOOPS` loops of a long-running pod (loops 2… triggered by Service events). */
async function perLoop(cluster: string): Promise<number[]> {
  world.enforcer.clearLog();
  const pod: ExternalDnsPod = await world.startPod(cluster);
  try {
    const counts: number[] = [];
    let seen = 0;
    for (let loop = 1; loop <= LOOPS; loop++) {
      if (loop > 1) {
        await world.kubectl(cluster, [
          'annotate',
          'service',
          'web',
          '-n',
          'default',
          `loop=${loop}`,
          '--overwrite',
        ]);
      }
      await pod.waitForLine(LOOP_END, { count: loop, timeoutMs: 60_000 });
      const total = world.enforcer.count({ operation: 'ListHostedZones' });
      counts.push(total - seen);
      seen = total;
    }
    expect(world.enforcer.denials()).toEqual([]);
    return counts;
  } finally {
    await pod.stop();
  }
}

describe('the zone cache', { timeout: 240_000 }, () => {
  it(`lists the account's zones on the first loop only (zonesCacheDuration ${DEFAULT_ZONES_CACHE_DURATION}), instead of on every loop (0s)`, async () => {
    const uncached = await perLoop('acme-prod');
    const cached = await perLoop('globex-prod');
    // Printed for docs/externaldns.md: calls per loop, loops 1..LOOPS.
    console.log(
      `ListHostedZones per loop (${OTHER_ZONES + 3} zones): 0s ${uncached.join(', ')}; ${DEFAULT_ZONES_CACHE_DURATION} ${cached.join(', ')}`,
    );
    const pages = 2;
    for (const n of uncached) expect(n).toBeGreaterThanOrEqual(2 * pages);
    expect(cached[0]).toBeGreaterThanOrEqual(pages);
    expect(cached.slice(1)).toEqual(Array(LOOPS - 1).fill(0));
    expect(await world.records('globex.example.com')).toEqual(
      expect.arrayContaining([`web.globex.example.com. A ALIAS ${ELB_HOSTNAME}`]),
    );
  });
});
