/**
 * The TXT prefix is part of the ownership records' names, so changing it orphans what ExternalDNS made
 * before. A cluster attached without a prefix (what zonekeeper rendered before `_extdns-%{record_type}.`
 * became the default) and re-attached with the new default no longer owns its records: it neither
 * updates nor deletes them. docs/externaldns.md tells such installations to keep `txtPrefix: ''`;
 * this checks both halves of that advice with the real ExternalDNS.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desiredChanges, ELB_HOSTNAME, errorLines, startWorld, type World } from '../world.js';

let world: World;
const MOVED = 'moved-0123456789.us-east-1.elb.amazonaws.com';

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

describe('changing the TXT prefix of a cluster that owns records', { timeout: 120_000 }, () => {
  it('orphans them: with the new default prefix a moved load balancer is not followed', async () => {
    await world.zk.attachCluster('acme', { clusterId: 'old', externalDns: { policy: 'sync' } });
    await world.setLoadBalancer('old', 'service', 'default', 'web', MOVED);
    const run = await world.runOnce('old');
    expect(desiredChanges(run).filter((c) => !c.includes('TXT'))).toEqual([]);
    expect(await world.records('acme.example.com')).toContain(
      `web.acme.example.com. A ALIAS ${ELB_HOSTNAME}`,
    );
  });

  it("keeps them with txtPrefix: '' (the documented advice)", async () => {
    await world.zk.attachCluster('acme', {
      clusterId: 'old',
      externalDns: { policy: 'sync', txtPrefix: '' },
    });
    const run = await world.runOnce('old');
    expect(errorLines(run)).toEqual([]);
    expect(desiredChanges(run)).toEqual(expect.arrayContaining(['UPSERT web.acme.example.com A']));
    expect(await world.records('acme.example.com')).toContain(`web.acme.example.com. A ALIAS ${MOVED}`);
  });
});
