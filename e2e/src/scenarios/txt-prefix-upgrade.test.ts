/**
 * The TXT prefix is part of the ownership records' names, so changing it orphans what ExternalDNS made
 * before. A cluster attached without a prefix (what zonekeeper 0.1 rendered, before
 * `_extdns-%{record_type}.` became the default) keeps the prefix it runs when it is re-attached without
 * one (decision 24), so it still owns its records; only an explicit new prefix orphans them, as
 * docs/externaldns.md warns. Both halves, with the real ExternalDNS.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desiredChanges, ELB_HOSTNAME, errorLines, startWorld, type World } from '../world.js';

let world: World;
const MOVED = 'moved-0123456789.us-east-1.elb.amazonaws.com';
const MOVED_AGAIN = 'again-0123456789.us-east-1.elb.amazonaws.com';

const SERVICE = `
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
  annotations:
    external-dns.kubernetes.io/hostname: web.acme.example.com
spec:
  type: LoadBalancer
  ports: [{ port: 443 }]
`;

beforeAll(async () => {
  world = await startWorld();
  await world.zk.ensureOrganization('globex');
  await world.zk.attachCluster('acme', { clusterId: 'old', externalDns: { txtPrefix: '', policy: 'sync' } });
  await world.kubectl('old', ['apply', '-f', '-'], SERVICE);
  await world.setLoadBalancer('old', 'service', 'default', 'web', ELB_HOSTNAME);
  const run = await world.runOnce('old');
  expect(errorLines(run)).toEqual([]);
  expect(await world.records('acme.example.com')).toContain(
    'a-web.acme.example.com. TXT "heritage=external-dns,external-dns/owner=old,external-dns/resource=service/default/web"',
  );
});

afterAll(async () => {
  await world?.stop();
});

describe('re-attaching a cluster that owns records under another TXT prefix', { timeout: 120_000 }, () => {
  it('keeps the prefix it runs when none is chosen: a moved load balancer is followed', async () => {
    await world.zk.attachCluster('acme', { clusterId: 'old', externalDns: { policy: 'sync' } });
    await world.setLoadBalancer('old', 'service', 'default', 'web', MOVED);
    const run = await world.runOnce('old');
    expect(errorLines(run)).toEqual([]);
    expect(desiredChanges(run)).toEqual(expect.arrayContaining(['UPSERT web.acme.example.com A']));
    expect(await world.records('acme.example.com')).toContain(`web.acme.example.com. A ALIAS ${MOVED}`);
  });

  it('orphans them when a new prefix is chosen explicitly: the next move is not followed', async () => {
    await world.zk.attachCluster('acme', {
      clusterId: 'old',
      externalDns: { policy: 'sync', txtPrefix: '_extdns-%{record_type}.' },
    });
    await world.setLoadBalancer('old', 'service', 'default', 'web', MOVED_AGAIN);
    const run = await world.runOnce('old');
    expect(desiredChanges(run).filter((c) => !c.includes('TXT'))).toEqual([]);
    expect(await world.records('acme.example.com')).toContain(`web.acme.example.com. A ALIAS ${MOVED}`);
  });
});
