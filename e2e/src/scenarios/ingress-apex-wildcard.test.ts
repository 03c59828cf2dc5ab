/**
 * An Ingress host, the zone apex and a wildcard, published by the real ExternalDNS, then removed when
 * their Service and Ingress are deleted — with the policy docs/expose-a-service.md documents for it
 * (`policy: 'sync'`; the default `upsert-only` never deletes). The apex is the case that needs the
 * apex-safe TXT prefix: without it the apex record's ownership TXT would fall outside the zone, so
 * ExternalDNS could create the record but never own, update or delete it.
 */

import { DEFAULT_TXT_PREFIX, ownershipRecordName } from '@zonekeeper/externaldns-deployer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_DOMAIN, desiredChanges, ELB_HOSTNAME, errorLines, startWorld, type World } from '../world.js';

const INGRESS_LB = 'k8s-shop-ingress-0123456789.us-east-1.elb.amazonaws.com';
let world: World;

const OBJECTS = `
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: shop
spec:
  ingressClassName: nginx
  tls:
    - hosts: [shop.acme.example.com]
      secretName: shop-tls
  rules:
    - host: shop.acme.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: shop
                port:
                  number: 443
---
apiVersion: v1
kind: Service
metadata:
  name: apex
  namespace: shop
  annotations:
    external-dns.kubernetes.io/hostname: acme.example.com
spec:
  type: LoadBalancer
  ports:
    - port: 443
---
apiVersion: v1
kind: Service
metadata:
  name: apps
  namespace: shop
  annotations:
    external-dns.kubernetes.io/hostname: "*.apps.acme.example.com"
spec:
  type: LoadBalancer
  ports:
    - port: 443
`;

const txt = (name: string, type: string) => `${ownershipRecordName(name, type, DEFAULT_TXT_PREFIX)}.`;

beforeAll(async () => {
  world = await startWorld();
  await world.zk.attachCluster('acme', { clusterId: 'acme-prod', externalDns: { policy: 'sync' } });
  await world.zk.ensureOrganization('globex');
});

afterAll(async () => {
  await world?.stop();
});

describe('Ingress host, apex and wildcard (policy sync)', { timeout: 120_000 }, () => {
  it('are published with an owner each, inside the zone', async () => {
    const parentBefore = await world.records(BASE_DOMAIN);
    const globexBefore = await world.records('globex.example.com');
    await world.kubectl('acme-prod', ['apply', '-f', '-'], OBJECTS);
    await world.setLoadBalancer('acme-prod', 'ingress', 'shop', 'shop', INGRESS_LB);
    await world.setLoadBalancer('acme-prod', 'service', 'shop', 'apex', ELB_HOSTNAME);
    await world.setLoadBalancer('acme-prod', 'service', 'shop', 'apps', ELB_HOSTNAME);
    const run = await world.runOnce('acme-prod');
    expect(errorLines(run)).toEqual([]);
    expect(run.exitCode).toBe(0);

    const records = (await world.records('acme.example.com')).filter((r) => !/ (NS|SOA) /.test(r));
    const names = records.map((r) => r.split(' ').slice(0, 2).join(' '));
    expect(names.sort()).toEqual(
      [
        'acme.example.com. A',
        'acme.example.com. AAAA',
        '*.apps.acme.example.com. A',
        '*.apps.acme.example.com. AAAA',
        'shop.acme.example.com. A',
        'shop.acme.example.com. AAAA',
        ...['acme.example.com', '*.apps.acme.example.com', 'shop.acme.example.com'].flatMap((n) => [
          `${txt(n, 'A')} TXT`,
          `${txt(n, 'AAAA')} TXT`,
        ]),
      ].sort(),
    );
    expect(records).toContain(`shop.acme.example.com. A ALIAS ${INGRESS_LB}`);
    expect(records).toContain(`acme.example.com. A ALIAS ${ELB_HOSTNAME}`);
    // Every ownership TXT lies inside the zone (the apex one too).
    for (const r of records.filter((x) => x.includes(' TXT ')))
      expect(r.split(' ')[0]).toMatch(/\.acme\.example\.com\.$/);
    expect(await world.records(BASE_DOMAIN)).toEqual(parentBefore);
    expect(await world.records('globex.example.com')).toEqual(globexBefore);
    expect(world.enforcer.denials()).toEqual([]);
  });

  it('owns the apex: a new load balancer address updates it', async () => {
    const moved = 'moved-9876543210.us-east-1.elb.amazonaws.com';
    await world.setLoadBalancer('acme-prod', 'service', 'shop', 'apex', moved);
    const run = await world.runOnce('acme-prod');
    expect(errorLines(run)).toEqual([]);
    // ExternalDNS's AWS provider writes updates as UPSERTs, the ownership TXT with them.
    expect(desiredChanges(run).sort()).toEqual([
      `UPSERT ${txt('acme.example.com', 'A').replace(/\.$/, '')} TXT`,
      `UPSERT ${txt('acme.example.com', 'AAAA').replace(/\.$/, '')} TXT`,
      'UPSERT acme.example.com A',
      'UPSERT acme.example.com AAAA',
    ]);
    expect(await world.records('acme.example.com')).toContain(`acme.example.com. A ALIAS ${moved}`);
  });

  it('deletes every record and its TXT once the Service and Ingress are gone', async () => {
    await world.kubectl('acme-prod', ['delete', 'ingress', 'shop', '-n', 'shop']);
    await world.kubectl('acme-prod', ['delete', 'service', 'apex', 'apps', '-n', 'shop']);
    const run = await world.runOnce('acme-prod');
    expect(errorLines(run)).toEqual([]);
    expect(desiredChanges(run).every((c) => c.startsWith('DELETE '))).toBe(true);
    expect((await world.records('acme.example.com')).map((r) => r.split(' ')[1])).toEqual(['NS', 'SOA']);
    expect(world.enforcer.denials()).toEqual([]);
  });
});
