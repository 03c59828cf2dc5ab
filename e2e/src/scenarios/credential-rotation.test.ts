/**
 * Credentials rotated while ExternalDNS runs. `rotateCredentials` issues a new key, stores it, applies
 * the new Secret and Deployment (whose credentials-hash annotation changed, so the pod rolls:
 * `strategy: Recreate`) and deletes the old key. The long-running "pod" here is restarted from the new
 * template the way the kubelet would; its next loop works with the new key. A pod that had not rolled
 * would be locked out: IAM no longer knows the old key.
 *
 * The cluster is attached with `extraArgs: ['--events']` (through attachCluster): ExternalDNS then
 * reconciles within seconds of a Service change instead of waiting for its 1-minute interval.
 */

import type { KubernetesObject } from '@zonekeeper/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExternalDnsPod, runSavedPodOnce } from '../external-dns/pod.js';
import { ELB_HOSTNAME, startWorld, type World } from '../world.js';

let world: World;
let pod: ExternalDnsPod;

const service = (name: string) => `
apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: default
  annotations:
    external-dns.kubernetes.io/hostname: ${name}.acme.example.com
spec:
  type: LoadBalancer
  ports: [{ port: 443 }]
`;

const LOOP_END = (l: string) =>
  /All records are already up to date|record\(s\) were successfully updated|Failed to do run once/.test(l);

async function until<T>(
  read: () => Promise<T>,
  done: (v: T) => boolean,
  what: string,
  ms = 45_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function publish(name: string): Promise<void> {
  await world.kubectl('acme-prod', ['apply', '-f', '-'], service(name));
  await world.setLoadBalancer('acme-prod', 'service', 'default', name, ELB_HOSTNAME);
}

const hasA = (name: string) => (records: string[]) =>
  records.some((r) => r.startsWith(`${name}.acme.example.com. A `));

beforeAll(async () => {
  world = await startWorld();
  await world.zk.attachCluster('acme', { clusterId: 'acme-prod', externalDns: { extraArgs: ['--events'] } });
  await world.zk.attachCluster('globex', { clusterId: 'globex-prod' });
  pod = await world.startPod('acme-prod');
  await pod.waitForLine(LOOP_END);
});

afterAll(async () => {
  await pod?.stop();
  await world?.stop();
});

describe('credential rotation while ExternalDNS runs', { timeout: 180_000 }, () => {
  let oldDeployment: KubernetesObject;
  let oldSecret: KubernetesObject;

  it('publishes with the first key', async () => {
    await publish('before');
    await until(() => world.records('acme.example.com'), hasA('before'), 'the first record');
    const fake = await world.cluster('acme-prod');
    oldDeployment = fake.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'external-dns',
      name: 'external-dns',
    }) as KubernetesObject;
    oldSecret = fake.get({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: 'external-dns',
      name: 'external-dns-aws-credentials',
    }) as KubernetesObject;
    expect(pod.generations).toHaveLength(1);
    expect(world.enforcer.denials()).toEqual([]);
  });

  it('rolls the pod on rotation, and the next loop works with the new key', async () => {
    const oldKey = pod.generations[0]?.accessKeyId as string;
    const globex = await world.cluster('globex-prod');
    const globexSecret = () =>
      JSON.stringify(
        globex.get({
          apiVersion: 'v1',
          kind: 'Secret',
          namespace: 'external-dns',
          name: 'external-dns-aws-credentials',
        }),
      );
    const globexBefore = globexSecret();
    await world.zk.rotateCredentials('acme');
    // The other organisation's cluster keeps its own key.
    expect(globexSecret()).toBe(globexBefore);
    const generations = await until(
      async () => pod.generations,
      (g) => g.length === 2,
      'the pod restart after the rotation',
    );
    const newKey = generations[1]?.accessKeyId as string;
    expect(newKey).toMatch(/^AKIA/);
    expect(newKey).not.toBe(oldKey);
    await pod.waitForLine(LOOP_END);
    world.enforcer.clearLog();
    await publish('after');
    await until(
      () => world.records('acme.example.com'),
      hasA('after'),
      'the record published after the rotation',
    );
    const writes = world.enforcer.log.filter((e) => e.operation === 'ChangeResourceRecordSets');
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.every((e) => e.accessKeyId === newKey && e.decision === 'allowed')).toBe(true);
    expect(world.enforcer.denials()).toEqual([]);
  });

  it('locks out a pod that did not roll: IAM no longer knows the old key', async () => {
    const before = await world.records('acme.example.com');
    world.enforcer.clearLog();
    const fake = await world.cluster('acme-prod');
    const run = await runSavedPodOnce(
      { cluster: fake, awsEndpoint: world.enforcer.endpoint },
      oldDeployment,
      [oldSecret],
    );
    expect(run.accessKeyId).toBe(pod.generations[0]?.accessKeyId);
    expect(world.enforcer.count({ decision: 'unauthenticated' })).toBeGreaterThan(0);
    expect(world.enforcer.count({ decision: 'allowed' })).toBe(0);
    expect(run.lines.some((l) => l.includes('InvalidClientTokenId'))).toBe(true);
    expect(await world.records('acme.example.com')).toEqual(before);
  });
});
