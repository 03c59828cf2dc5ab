/**
 * The seed's user story: an organisation is ensured, a cluster attached, a tenant annotates a
 * LoadBalancer Service as docs/expose-a-service.md says, and after one loop of the real ExternalDNS
 * the organisation's zone holds the ALIAS records and their ownership TXT — nothing else changed
 * anywhere, and IAM (enforced on the wire) denied nothing.
 */

import {
  DEFAULT_TXT_PREFIX,
  EXTERNAL_DNS_VERSION,
  ownershipRecordName,
} from '@zonekeeper/externaldns-deployer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Rule, rbacAllows } from '../rbac.js';
import { BASE_DOMAIN, desiredChanges, ELB_HOSTNAME, errorLines, startWorld, type World } from '../world.js';

let world: World;

const SERVICE = `
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  annotations:
    external-dns.kubernetes.io/hostname: web.acme.example.com
spec:
  type: LoadBalancer
  selector:
    app: web
  ports:
    - name: https
      port: 443
      targetPort: 8443
`;

beforeAll(async () => {
  world = await startWorld();
  await world.zk.attachCluster('acme', { clusterId: 'acme-prod' });
  await world.zk.attachCluster('globex', { clusterId: 'globex-prod' });
});

afterAll(async () => {
  await world?.stop();
});

describe(`a LoadBalancer Service, ExternalDNS ${EXTERNAL_DNS_VERSION}`, { timeout: 120_000 }, () => {
  it('gets its ALIAS records and their ownership TXT in the organisation zone, and nothing else changes', async () => {
    const globexBefore = await world.records('globex.example.com');
    const parentBefore = await world.records(BASE_DOMAIN);
    const acmeBefore = await world.records('acme.example.com');
    expect(acmeBefore.map((r) => r.split(' ')[1])).toEqual(['NS', 'SOA']);

    await world.kubectl('acme-prod', ['apply', '-f', '-'], SERVICE);
    await world.setLoadBalancer('acme-prod', 'service', 'shop', 'web', ELB_HOSTNAME);
    world.enforcer.clearLog();
    const run = await world.runOnce('acme-prod');

    expect(errorLines(run)).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(desiredChanges(run).sort()).toEqual([
      `CREATE ${ownershipRecordName('web.acme.example.com', 'A', DEFAULT_TXT_PREFIX)} TXT`,
      `CREATE ${ownershipRecordName('web.acme.example.com', 'AAAA', DEFAULT_TXT_PREFIX)} TXT`,
      'CREATE web.acme.example.com A',
      'CREATE web.acme.example.com AAAA',
    ]);
    const records = await world.records('acme.example.com');
    const owner =
      '"heritage=external-dns,external-dns/owner=acme-prod,external-dns/resource=service/shop/web"';
    expect(records).toEqual(
      [
        ...acmeBefore,
        `web.acme.example.com. A ALIAS ${ELB_HOSTNAME}`,
        `web.acme.example.com. AAAA ALIAS ${ELB_HOSTNAME}`,
        `${ownershipRecordName('web.acme.example.com', 'A', DEFAULT_TXT_PREFIX)}. TXT ${owner}`,
        `${ownershipRecordName('web.acme.example.com', 'AAAA', DEFAULT_TXT_PREFIX)}. TXT ${owner}`,
      ].sort(),
    );
    expect(await world.records('globex.example.com')).toEqual(globexBefore);
    expect(await world.records(BASE_DOMAIN)).toEqual(parentBefore);

    // IAM enforced on the wire: every call ExternalDNS made was its organisation key's, and allowed.
    expect(world.enforcer.denials()).toEqual([]);
    expect(world.enforcer.count({ decision: 'unauthenticated' })).toBe(0);
    const keys = new Set(world.enforcer.log.map((e) => e.accessKeyId));
    expect(keys).toEqual(new Set([run.accessKeyId]));
    expect(world.enforcer.count({ operation: 'ChangeResourceRecordSets', decision: 'allowed' })).toBe(1);
  });

  it('needs no more Kubernetes access than the rendered ClusterRole grants', async () => {
    const fake = await world.cluster('acme-prod');
    const role = fake
      .objects({ kind: 'ClusterRole' })
      .find((o) => o.metadata.name === 'zonekeeper:external-dns:external-dns');
    const rules = (role as unknown as { rules: Rule[] }).rules;
    const made = fake.requests.filter((r) => r.userAgent?.startsWith('ExternalDNS/'));
    expect(made.length).toBeGreaterThan(0);
    expect(made.filter((r) => !rbacAllows(rules, r)).map((r) => `${r.verb} ${r.path}`)).toEqual([]);
    // What it reads: the service source's informers and the ingress source's.
    const read = new Set(made.map((r) => r.path.replace(/^\/apis?\/(?:v1|[^/]+\/v1)\//, '')));
    expect(read).toEqual(new Set(['services', 'pods', 'nodes', 'endpointslices', 'ingresses']));
  });

  it('converges: a second loop changes nothing', async () => {
    const before = await world.records('acme.example.com');
    const run = await world.runOnce('acme-prod');
    expect(errorLines(run)).toEqual([]);
    expect(desiredChanges(run)).toEqual([]);
    expect(run.lines.some((l) => l.includes('All records are already up to date'))).toBe(true);
    expect(await world.records('acme.example.com')).toEqual(before);
  });
});
