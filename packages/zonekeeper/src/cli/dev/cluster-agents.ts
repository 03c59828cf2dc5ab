/**
 * What a real cluster does that the Kubernetes API fake does not, for the local backend
 * (`zonekeeper dev up`): run inside each cluster's fake-server process.
 *
 * - **A load-balancer controller.** A `LoadBalancer` Service or an Ingress without an address gets one,
 *   `127.0.<cluster>.<n>` (written through the `/status` subresource, as a cloud controller does), so
 *   ExternalDNS has something to publish. The addresses are for DNS answers, not for connecting.
 * - **A kubelet for ExternalDNS** (only with `--external-dns <binary>`): every ExternalDNS Deployment
 *   zonekeeper applied (its `part-of=zonekeeper` and `name=external-dns` labels) runs as a process, with
 *   exactly its container's args, env and Secret files ({@link externalDnsProcessOf}), Route 53 traffic
 *   sent to moto, and `--kubeconfig` pointing at this fake. A changed pod template (a rotated key) stops
 *   the process and starts the new one (`Recreate`); a deleted Deployment stops it; a process that exits
 *   on its own is restarted after a back-off (5 s, doubling to 60 s), as a kubelet does.
 *
 * @internal
 * @packageDocumentation
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import type { KubernetesObject } from '@zonekeeper/core';
import { externalDnsProcessOf, mountExternalDnsProcessForm } from '@zonekeeper/externaldns-deployer';
import type { KubernetesFake } from '@zonekeeper/kube-apiserver-fake';
import { DEV_MARKER_VARIABLE } from './processes.js';

/** Where the ExternalDNS processes send their traffic and their output. */
export interface DevExternalDnsOptions {
  /** The ExternalDNS binary (its version checked by `dev up`). */
  readonly binary: string;
  /** Route 53 endpoint: moto. */
  readonly awsEndpoint: string;
  /** A private directory for each process's mounted files and kubeconfig. */
  readonly workDir: string;
  /** One line of a process's output, prefixed with its Deployment. */
  readonly output: (line: string) => void;
}

/** Options of {@link startDevClusterAgents}. */
export interface DevClusterAgentsOptions {
  readonly fake: KubernetesFake;
  /** The third octet of this cluster's load-balancer addresses (1–254). */
  readonly addressOctet: number;
  /** Run ExternalDNS; absent: only the load-balancer controller runs. */
  readonly externalDns?: DevExternalDnsOptions;
  /** How often the agents look at the cluster (default 500 ms). */
  readonly pollMs?: number;
  /** What the agents did, one line each. */
  readonly log: (line: string) => void;
}

/** Running agents. */
export interface DevClusterAgents {
  stop(): Promise<void>;
}

interface Running {
  readonly child: ChildProcess;
  readonly template: string;
  readonly root: string;
  readonly exited: Promise<void>;
  exitedAt?: number;
  failures: number;
}

const EXTERNAL_DNS_SELECTOR = 'app.kubernetes.io/part-of=zonekeeper,app.kubernetes.io/name=external-dns';

/** Merge-patches an object's `/status` through the fake's API, as a controller would. */
function patchStatus(fake: KubernetesFake, path: string, status: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ status });
    const req = request(
      `${fake.endpoint}${path}/status`,
      {
        method: 'PATCH',
        headers: {
          authorization: `Bearer ${fake.token}`,
          'content-type': 'application/merge-patch+json',
          'content-length': Buffer.byteLength(body),
        },
        ...(fake.ca === undefined ? {} : { ca: fake.ca }),
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          (res.statusCode ?? 0) < 300
            ? resolve()
            : reject(new Error(`PATCH ${path}/status: ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function hasAddress(object: KubernetesObject): boolean {
  const ingress = (object as { status?: { loadBalancer?: { ingress?: unknown[] } } }).status?.loadBalancer
    ?.ingress;
  return Array.isArray(ingress) && ingress.length > 0;
}

/** Starts the agents; see the module notes. */
export function startDevClusterAgents(options: DevClusterAgentsOptions): DevClusterAgents {
  const { fake, log } = options;
  const assigned = new Map<string, string>();
  let next = 1;
  const running = new Map<string, Running>();
  let stopping = false;
  let busy = false;

  const loadBalancers = async () => {
    const candidates = [
      ...fake
        .objects({ apiVersion: 'v1', kind: 'Service' })
        .filter((s) => (s as { spec?: { type?: string } }).spec?.type === 'LoadBalancer')
        .map((s) => ({
          object: s,
          path: `/api/v1/namespaces/${s.metadata.namespace}/services/${s.metadata.name}`,
        })),
      ...fake.objects({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' }).map((i) => ({
        object: i,
        path: `/apis/networking.k8s.io/v1/namespaces/${i.metadata.namespace}/ingresses/${i.metadata.name}`,
      })),
    ];
    for (const { object, path } of candidates) {
      if (hasAddress(object)) continue;
      const key = `${object.kind}/${object.metadata.namespace}/${object.metadata.name}`;
      let ip = assigned.get(key);
      if (ip === undefined) {
        if (next > 254) continue;
        ip = `127.0.${options.addressOctet}.${next++}`;
        assigned.set(key, ip);
      }
      await patchStatus(fake, path, { loadBalancer: { ingress: [{ ip }] } });
      log(`load balancer: ${key} has address ${ip}`);
    }
  };

  const stopProcess = async (key: string) => {
    const current = running.get(key);
    if (current === undefined) return;
    running.delete(key);
    if (current.child.exitCode === null && current.child.signalCode === null) current.child.kill('SIGTERM');
    const killer = setTimeout(() => current.child.kill('SIGKILL'), 10_000);
    await current.exited;
    clearTimeout(killer);
    await rm(current.root, { recursive: true, force: true });
  };

  const launch = async (key: string, deployment: KubernetesObject, template: string, failures: number) => {
    const dns = options.externalDns as DevExternalDnsOptions;
    const namespace = deployment.metadata.namespace ?? 'default';
    const form = externalDnsProcessOf(deployment, (name) =>
      fake.get({ apiVersion: 'v1', kind: 'Secret', namespace, name }),
    );
    const root = join(dns.workDir, `${namespace}.${deployment.metadata.name}`);
    await rm(root, { recursive: true, force: true });
    const env = await mountExternalDnsProcessForm(form, root);
    const kubeconfig = await fake.writeKubeconfig(root);
    const child = spawn(
      dns.binary,
      [...form.args, `--kubeconfig=${kubeconfig}`, '--metrics-address=127.0.0.1:0'],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          // The backend's marker, so audits (and dev down's tests) find this process too.
          ...(process.env[DEV_MARKER_VARIABLE] === undefined
            ? {}
            : { [DEV_MARKER_VARIABLE]: process.env[DEV_MARKER_VARIABLE] }),
          HOME: root,
          AWS_EC2_METADATA_DISABLED: 'true',
          ...env,
          AWS_ENDPOINT_URL_ROUTE_53: dns.awsEndpoint,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const prefix = `[${namespace}/${deployment.metadata.name}] `;
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') dns.output(prefix + line);
    };
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    const entry: Running = {
      child,
      template,
      root,
      failures,
      exited: new Promise<void>((resolve) => {
        child.once('exit', (code, signal) => {
          entry.exitedAt = Date.now();
          if (!stopping) log(`external-dns: ${key} exited (${signal ?? `code ${code}`})`);
          resolve();
        });
        child.once('error', (error) => {
          entry.exitedAt = Date.now();
          log(`external-dns: ${key} could not start: ${error.message}`);
          resolve();
        });
      }),
    };
    running.set(key, entry);
    log(`external-dns: ${key} started (pid ${child.pid ?? '?'})`);
  };

  const externalDns = async () => {
    if (options.externalDns === undefined) return;
    const deployments = fake.objects({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      labelSelector: EXTERNAL_DNS_SELECTOR,
    });
    const seen = new Set<string>();
    for (const deployment of deployments) {
      const key = `${deployment.metadata.namespace}/${deployment.metadata.name}`;
      seen.add(key);
      const template = JSON.stringify(
        (deployment as { spec?: { template?: unknown } }).spec?.template ?? null,
      );
      const current = running.get(key);
      if (current !== undefined && current.template === template) {
        if (current.exitedAt === undefined) continue;
        const backoff = Math.min(60_000, 5_000 * 2 ** current.failures);
        if (Date.now() - current.exitedAt < backoff) continue;
        await stopProcess(key);
        await launch(key, deployment, template, current.failures + 1);
        continue;
      }
      await stopProcess(key);
      await launch(key, deployment, template, 0);
    }
    for (const key of [...running.keys()]) if (!seen.has(key)) await stopProcess(key);
  };

  const tick = async () => {
    if (busy || stopping) return;
    busy = true;
    try {
      await loadBalancers();
      await externalDns();
    } catch (error) {
      log(`agents: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), options.pollMs ?? 500);
  void tick();

  return {
    stop: async () => {
      stopping = true;
      clearInterval(timer);
      while (busy) await new Promise((r) => setTimeout(r, 20));
      await Promise.all([...running.keys()].map((key) => stopProcess(key)));
    },
  };
}
