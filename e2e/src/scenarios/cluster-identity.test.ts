/**
 * `identityScope: 'cluster'`: each cluster runs ExternalDNS with its own IAM user, whose policy
 * (iam-scoper `clusterRecordNames`) allows changes to `<cluster>.<zone>` and the names below it only.
 * The rendered flags must agree with that policy: ExternalDNS manages exactly the names the policy
 * allows (`--domain-filter=<cluster>.<zone>`), and every ownership TXT it writes lies inside the scope
 * (an apex-safe `%{record_type}.` prefix). IAM, enforced on the wire, is the second line: a tampered
 * Deployment that asks for more gets AccessDenied and writes nothing out of scope.
 */

import { DEFAULT_TXT_PREFIX, ownershipRecordName } from '@zonekeeper/externaldns-deployer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desiredChanges, ELB_HOSTNAME, errorLines, startWorld, type World } from '../world.js';

let world: World;

const SERVICES = `
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: Service
metadata:
  name: cluster-name
  namespace: shop
  annotations:
    external-dns.kubernetes.io/hostname: c1.acme.example.com
spec:
  type: LoadBalancer
  ports: [{ port: 443 }]
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  annotations:
    external-dns.kubernetes.io/hostname: web.c1.acme.example.com
spec:
  type: LoadBalancer
  ports: [{ port: 443 }]
---
apiVersion: v1
kind: Service
metadata:
  name: outside
  namespace: shop
  annotations:
    external-dns.kubernetes.io/hostname: outside.acme.example.com
spec:
  type: LoadBalancer
  ports: [{ port: 443 }]
`;

const inScope = ['c1.acme.example.com', 'web.c1.acme.example.com'];

beforeAll(async () => {
  world = await startWorld({ identityScope: 'cluster' });
  await world.zk.ensureOrganization('globex');
  const attached = await world.zk.attachCluster('acme', { clusterId: 'c1' });
  expect(attached.clusterIdentity?.userName).toBeDefined();
  await world.kubectl('c1', ['apply', '-f', '-'], SERVICES);
  for (const name of ['cluster-name', 'web', 'outside'])
    await world.setLoadBalancer('c1', 'service', 'shop', name, ELB_HOSTNAME);
});

afterAll(async () => {
  await world?.stop();
});

describe('a cluster-scoped identity', { timeout: 120_000 }, () => {
  it("creates the cluster's own name and the names below it with zero denied calls, and leaves other names alone", async () => {
    const globexBefore = await world.records('globex.example.com');
    world.enforcer.clearLog();
    const run = await world.runOnce('c1');
    expect(errorLines(run)).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(world.enforcer.denials()).toEqual([]);
    const records = (await world.records('acme.example.com')).map((r) => r.split(' ').slice(0, 2).join(' '));
    const expected = inScope.flatMap((n) => [
      `${n}. A`,
      `${n}. AAAA`,
      `${ownershipRecordName(n, 'A', DEFAULT_TXT_PREFIX)}. TXT`,
      `${ownershipRecordName(n, 'AAAA', DEFAULT_TXT_PREFIX)}. TXT`,
    ]);
    expect(records.filter((r) => !/ (NS|SOA)$/.test(r)).sort()).toEqual(expected.sort());
    expect(records.some((r) => r.includes('outside'))).toBe(false);
    // ExternalDNS was told its scope, so it did not even try the name outside it.
    expect(desiredChanges(run).some((c) => c.includes('outside'))).toBe(false);
    const written = world.enforcer.log.flatMap((e) => e.changes.map((c) => c.name));
    expect(written.length).toBeGreaterThan(0);
    for (const name of written) expect(name.replace(/\.$/, '')).toMatch(/(^|\.)c1\.acme\.example\.com$/);
    expect(await world.records('globex.example.com')).toEqual(globexBefore);
  });

  it('is refused by IAM when a tampered Deployment asks for the whole zone, and nothing is written outside the scope', async () => {
    world.enforcer.clearLog();
    const before = await world.records('acme.example.com');
    const run = await world.runOnce('c1', {
      tamper: (args) =>
        args.map((a) => (a.startsWith('--domain-filter=') ? '--domain-filter=acme.example.com' : a)),
    });
    const denied = world.enforcer.denials();
    expect(denied.length).toBeGreaterThan(0);
    expect(denied.every((d) => d.operation === 'ChangeResourceRecordSets')).toBe(true);
    expect(denied.flatMap((d) => d.changes.map((c) => c.name.replace(/\.$/, '')))).toEqual(
      expect.arrayContaining(['outside.acme.example.com']),
    );
    expect(run.lines.some((l) => l.includes('AccessDenied'))).toBe(true);
    expect(await world.records('acme.example.com')).toEqual(before);
  });
});
