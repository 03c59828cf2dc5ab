/**
 * A tenant of organisation acme annotates a Service with a host in organisation globex's zone (and
 * one in the platform's parent zone). Nothing is written anywhere: ExternalDNS is scoped to acme's
 * zone by its flags, and — should those be tampered with — IAM refuses acme's key everything outside
 * acme's zone, reads included.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_DOMAIN, ELB_HOSTNAME, errorLines, startWorld, type World } from '../world.js';

let world: World;

const HOSTILE = `
apiVersion: v1
kind: Service
metadata:
  name: takeover
  namespace: default
  annotations:
    external-dns.kubernetes.io/hostname: www.globex.example.com,shop.example.com
spec:
  type: LoadBalancer
  ports: [{ port: 443 }]
`;

let snapshot: () => Promise<Record<string, string[]>>;

beforeAll(async () => {
  world = await startWorld();
  await world.zk.attachCluster('acme', { clusterId: 'acme-prod' });
  await world.zk.attachCluster('globex', { clusterId: 'globex-prod' });
  snapshot = async () => ({
    acme: await world.records('acme.example.com'),
    globex: await world.records('globex.example.com'),
    parent: await world.records(BASE_DOMAIN),
  });
  await world.kubectl('acme-prod', ['apply', '-f', '-'], HOSTILE);
  await world.setLoadBalancer('acme-prod', 'service', 'default', 'takeover', ELB_HOSTNAME);
});

afterAll(async () => {
  await world?.stop();
});

describe("a hostile annotation naming another organisation's host", { timeout: 120_000 }, () => {
  it('writes nothing anywhere with the rendered Deployment (the names are outside its domain filter)', async () => {
    const before = await snapshot();
    world.enforcer.clearLog();
    const run = await world.runOnce('acme-prod');
    expect(errorLines(run)).toEqual([]);
    expect(await snapshot()).toEqual(before);
    expect(world.enforcer.count({ operation: 'ChangeResourceRecordSets' })).toBe(0);
    expect(world.enforcer.denials()).toEqual([]);
  });

  it('writes nothing anywhere when the Deployment is tampered to drop its zone filters: IAM denies it', async () => {
    const before = await snapshot();
    world.enforcer.clearLog();
    const run = await world.runOnce('acme-prod', {
      tamper: (args) =>
        args.filter((a) => !a.startsWith('--domain-filter=') && !a.startsWith('--zone-id-filter=')),
    });
    expect(await snapshot()).toEqual(before);
    const denied = world.enforcer.denials();
    expect(denied.length).toBeGreaterThan(0);
    // Reading the other zones is refused first, so ExternalDNS never gets to plan a write there.
    const globex = await world.zoneId('globex.example.com');
    const parent = await world.zoneId(BASE_DOMAIN);
    const deniedZones = new Set(denied.flatMap((d) => d.resources));
    expect([...deniedZones].some((r) => r.endsWith(`/${globex}`) || r.endsWith(`/${parent}`))).toBe(true);
    expect(world.enforcer.count({ operation: 'ChangeResourceRecordSets', decision: 'allowed' })).toBe(0);
    expect(run.lines.some((l) => l.includes('AccessDenied'))).toBe(true);
  });
});
