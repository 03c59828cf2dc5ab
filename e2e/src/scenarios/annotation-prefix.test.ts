/**
 * Which annotation a tenant writes. ExternalDNS v0.22 reads `external-dns.kubernetes.io/` and nothing
 * else by default (no fallback to the `external-dns.alpha.kubernetes.io/` of older releases, of Banzai
 * Cloud Pipeline's users and of most manifests on the internet): zonekeeper renders the prefix
 * explicitly (`annotationPrefix`, default `external-dns.kubernetes.io/`), and a platform migrating
 * alpha-annotated manifests attaches its clusters with `annotationPrefix: LEGACY_ANNOTATION_PREFIX`.
 */

import { EXTERNAL_DNS_ANNOTATION_PREFIX, LEGACY_ANNOTATION_PREFIX } from '@zonekeeper/externaldns-deployer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desiredChanges, ELB_HOSTNAME, errorLines, startWorld, type World } from '../world.js';

let world: World;

const services = (names: readonly string[]) => `
apiVersion: v1
kind: Service
metadata:
  name: current
  namespace: default
  annotations:
    ${EXTERNAL_DNS_ANNOTATION_PREFIX}hostname: ${names[0]}
spec:
  type: LoadBalancer
  ports: [{ port: 443 }]
---
apiVersion: v1
kind: Service
metadata:
  name: legacy
  namespace: default
  annotations:
    ${LEGACY_ANNOTATION_PREFIX}hostname: ${names[1]}
spec:
  type: LoadBalancer
  ports: [{ port: 443 }]
`;

beforeAll(async () => {
  world = await startWorld();
  await world.zk.ensureOrganization('globex');
  await world.zk.attachCluster('acme', { clusterId: 'new-platform' });
  await world.zk.attachCluster('acme', {
    clusterId: 'migrated',
    externalDns: { annotationPrefix: LEGACY_ANNOTATION_PREFIX },
  });
  await world.kubectl(
    'new-platform',
    ['apply', '-f', '-'],
    services(['current.acme.example.com', 'legacy.acme.example.com']),
  );
  await world.kubectl(
    'migrated',
    ['apply', '-f', '-'],
    services(['m-current.acme.example.com', 'm-legacy.acme.example.com']),
  );
  for (const cluster of ['new-platform', 'migrated'])
    for (const name of ['current', 'legacy'])
      await world.setLoadBalancer(cluster, 'service', 'default', name, ELB_HOSTNAME);
});

afterAll(async () => {
  await world?.stop();
});

const published = (records: string[]) =>
  [...new Set(records.filter((r) => / A ALIAS /.test(r)).map((r) => r.split(' ')[0]))].sort();

describe('the annotation prefix', { timeout: 120_000 }, () => {
  it(`is ${EXTERNAL_DNS_ANNOTATION_PREFIX} by default, rendered explicitly; the alpha annotation is ignored`, async () => {
    const fake = await world.cluster('new-platform');
    const deployment = fake.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'external-dns',
      name: 'external-dns',
    });
    const args = (
      deployment as unknown as { spec: { template: { spec: { containers: { args: string[] }[] } } } }
    ).spec.template.spec.containers[0]?.args;
    expect(args).toContain(`--annotation-prefix=${EXTERNAL_DNS_ANNOTATION_PREFIX}`);
    const run = await world.runOnce('new-platform');
    expect(errorLines(run)).toEqual([]);
    expect(desiredChanges(run).filter((c) => c.endsWith(' A'))).toEqual([
      'CREATE current.acme.example.com A',
    ]);
    expect(published(await world.records('acme.example.com'))).toEqual(['current.acme.example.com.']);
  });

  it('is the alpha prefix for a cluster attached with annotationPrefix: LEGACY_ANNOTATION_PREFIX', async () => {
    const run = await world.runOnce('migrated');
    expect(errorLines(run)).toEqual([]);
    expect(desiredChanges(run).filter((c) => c.endsWith(' A'))).toEqual([
      'CREATE m-legacy.acme.example.com A',
    ]);
    expect(published(await world.records('acme.example.com'))).toEqual([
      'current.acme.example.com.',
      'm-legacy.acme.example.com.',
    ]);
    expect(world.enforcer.denials()).toEqual([]);
    expect((await world.records('globex.example.com')).map((r) => r.split(' ')[1])).toEqual(['NS', 'SOA']);
  });
});
