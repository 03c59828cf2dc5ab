/**
 * The local backend's kubelet stand-in, with kubectl as the client: an ExternalDNS Deployment rendered by
 * the deployer runs as a process (here a script standing in for the binary, so a crash is on demand)
 * whose Pod kubectl lists and whose output `kubectl logs` reads — the current run, `--previous` after a
 * crash restart, and a new Pod for a new template. The real binary runs in e2e/src/docs/dev-backend.test.ts.
 */

import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KubernetesObject } from '@zonekeeper/core';
import { renderExternalDns } from '@zonekeeper/externaldns-deployer';
import { type KubernetesFake, startKubernetesFake } from '@zonekeeper/kube-apiserver-fake';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevClusterAgents, startDevClusterAgents } from './cluster-agents.js';

const run = promisify(execFile);
let fake: KubernetesFake;
let agents: DevClusterAgents;
let dir: string;
let kubeconfig: string;
const events: string[] = [];

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig, '-n', 'external-dns', ...args], {
    env: { ...process.env, HOME: dir, KUBECONFIG: '' },
    timeout: 20_000,
  });
  return stdout;
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; agents said: ${events.join(' | ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface PodStatus {
  metadata: {
    name: string;
    labels: Record<string, string>;
    ownerReferences: { kind: string; name: string }[];
  };
  spec: { nodeName: string };
  status: {
    phase: string;
    containerStatuses: {
      ready: boolean;
      restartCount: number;
      state: { running?: unknown; waiting?: { reason: string } };
      lastState?: { terminated?: { exitCode: number; reason: string } };
    }[];
  };
}

const pods = () =>
  fake.objects({ apiVersion: 'v1', kind: 'Pod', namespace: 'external-dns' }) as unknown as PodStatus[];

function apply(objects: readonly KubernetesObject[]): void {
  for (const object of objects) fake.put(object);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zk-agents-'));
  // Prints its run number (kept in a file across runs), then exits 3 on the first run only.
  const binary = join(dir, 'external-dns');
  await writeFile(
    binary,
    `#!/bin/sh
n=$(( $(cat "${dir}/runs" 2>/dev/null || echo 0) + 1 )); echo $n > "${dir}/runs"
echo "run $n: starting"
echo "run $n: args $*" | sed 's/--kubeconfig=[^ ]*//'
[ $n -eq 1 ] && { echo "run $n: crashing"; exit 3; }
exec sleep 60
`,
  );
  await chmod(binary, 0o755);
  fake = await startKubernetesFake({ rolloutDelayMs: 0 });
  kubeconfig = await fake.writeKubeconfig(dir);
  agents = startDevClusterAgents({
    fake,
    addressOctet: 1,
    pollMs: 100,
    externalDns: { binary, awsEndpoint: 'http://127.0.0.1:1', workDir: join(dir, 'pods'), output: () => {} },
    log: (line) => events.push(line),
  });
});

afterAll(async () => {
  await agents?.stop();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const manifest = (interval: string) =>
  renderExternalDns({
    clusterId: 'dev-1',
    organization: 'acme',
    zoneName: 'acme.example.com',
    zoneId: 'Z0123456789ABC',
    credentials: { accessKeyId: 'AKIAEXAMPLEEXAMPLE00', secretAccessKey: 'x'.repeat(40) },
    createNamespace: true,
    interval,
  });

describe('the dev cluster agents: ExternalDNS as a Pod kubectl can read', { timeout: 60_000 }, () => {
  it('runs the Deployment as a Pod, restarts it in place after a crash, and serves both runs to kubectl logs', async () => {
    apply(manifest('1m'));
    const crashed = await until('the first run to crash', () =>
      pods().find((p) => p.status?.containerStatuses?.[0]?.lastState?.terminated !== undefined),
    );
    expect(crashed.spec.nodeName).toBe('zonekeeper-dev');
    expect(crashed.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Deployment', name: 'external-dns' }),
    ]);
    expect(crashed.metadata.name).toMatch(/^external-dns-[a-z0-9]{10}-[a-z0-9]{5}$/);
    expect(crashed.status.containerStatuses[0]).toMatchObject({
      ready: false,
      restartCount: 0,
      state: { waiting: { reason: 'CrashLoopBackOff' } },
      lastState: { terminated: { exitCode: 3, reason: 'Error' } },
    });
    // The kubelet's back-off (5 s), then the same Pod runs again.
    const restarted = await until('the restart', () =>
      pods().find(
        (p) =>
          p.status?.containerStatuses?.[0]?.restartCount === 1 && p.status?.containerStatuses?.[0]?.ready,
      ),
    );
    expect(restarted.metadata.name).toBe(crashed.metadata.name);
    expect(pods()).toHaveLength(1);
    const current = await kubectl('logs', 'deployment/external-dns');
    expect(current).toMatch(/^run 2: starting\nrun 2: args .*--interval=1m/);
    expect(await kubectl('logs', restarted.metadata.name, '--previous')).toMatch(
      /^run 1: starting\nrun 1: args .*\nrun 1: crashing\n$/,
    );
    const listed = await kubectl('get', 'pods', '--no-headers');
    expect(listed).toMatch(new RegExp(`^${restarted.metadata.name}\\s+1/1\\s+Running\\s+1 `, 'm'));
  });

  it('makes a new Pod for a new template, and removes the Pod with its Deployment', async () => {
    const before = pods()[0]?.metadata.name;
    apply(manifest('2m'));
    const next = await until('the new Pod', () =>
      pods().find((p) => p.metadata.name !== before && p.status?.containerStatuses?.[0]?.ready),
    );
    expect(pods().map((p) => p.metadata.name)).toEqual([next.metadata.name]);
    expect(await kubectl('logs', 'deployment/external-dns')).toMatch(
      /^run 3: starting\nrun 3: args .*--interval=2m/,
    );
    fake.delete({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'external-dns',
      name: 'external-dns',
    });
    await until('the Pod to go', () => (pods().length === 0 ? true : undefined));
  });
});
