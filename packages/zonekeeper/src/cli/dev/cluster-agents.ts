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
 * - **Its Pod and its log, for kubectl.** Each process is a Pod of its Deployment (the template's labels
 *   and spec, `spec.nodeName: zonekeeper-dev`, owned by the Deployment, no ReplicaSet in between), whose
 *   status follows the process (running, restarts, the last exit), and whose output the fake serves at
 *   `pods/<name>/log` — so `kubectl logs deployment/external-dns`, `-f`, `--tail` and `--previous` (the
 *   run before the last restart) work. A crash keeps the Pod (its restart count goes up); a new template
 *   makes a new Pod, as a rollout would.
 *
 * @internal
 * @packageDocumentation
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import type { KubernetesObject } from '@zonekeeper/core';
import { externalDnsProcessOf, mountExternalDnsProcessForm } from '@zonekeeper/externaldns-deployer';
import type { ContainerLog, KubernetesFake, PodLogLine } from '@zonekeeper/kube-apiserver-fake';
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

/** The lines a process kept for its Pod's log: at most {@link LOG_LINES}, followers told of each new one. */
class LogBuffer implements ContainerLog {
  readonly lines: PodLogLine[] = [];
  private readonly followers = new Set<{ onLine: (l: PodLogLine) => void; onEnd: () => void }>();
  private ended = false;

  append(text: string): void {
    const line = { time: new Date(), text };
    this.lines.push(line);
    if (this.lines.length > LOG_LINES) this.lines.splice(0, this.lines.length - LOG_LINES);
    for (const f of this.followers) f.onLine(line);
  }

  end(): void {
    this.ended = true;
    for (const f of [...this.followers]) f.onEnd();
    this.followers.clear();
  }

  /** The view a log request gets: following only while the process runs. */
  view(): ContainerLog {
    if (this.ended) return { lines: this.lines };
    return {
      lines: this.lines,
      follow: (onLine, onEnd) => {
        const follower = { onLine, onEnd };
        this.followers.add(follower);
        return () => this.followers.delete(follower);
      },
    };
  }
}

/** The Pod a Deployment's process runs as; kept across crash restarts, replaced for a new template. */
interface DevPod {
  readonly name: string;
  readonly namespace: string;
  readonly container: string;
  readonly template: string;
  restarts: number;
  current: LogBuffer;
  previous?: LogBuffer;
}

/** Lines kept per run of a process (a kubelet keeps a file of ~10 MiB; this is of the same order). */
const LOG_LINES = 20_000;
const POD_NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
/** The node every local Pod runs on (a name, for `spec.nodeName` and `kubectl get pods -o wide`). */
const DEV_NODE = 'zonekeeper-dev';

/** `<deployment>-<template hash>-<5 random>`, the shape of a Deployment's Pod names. */
function podName(deployment: string, template: string): string {
  const digest = createHash('sha256').update(template).digest();
  const pick = (byte: number) => POD_NAME_ALPHABET[byte % POD_NAME_ALPHABET.length] as string;
  const hash = [...digest.subarray(0, 10)].map(pick).join('');
  const suffix = [...randomBytes(5)].map(pick).join('');
  return `${deployment}-${hash}-${suffix}`;
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
  const pods = new Map<string, DevPod>();
  let stopping = false;
  let busy = false;

  fake.setPodLogs(({ namespace, pod, container, previous }) => {
    const found = [...pods.values()].find(
      (p) => p.namespace === namespace && p.name === pod && p.container === container,
    );
    return (previous ? found?.previous : found?.current)?.view();
  });

  const podPath = (pod: DevPod) => `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}`;
  const removePod = (key: string) => {
    const pod = pods.get(key);
    if (pod === undefined) return;
    pods.delete(key);
    fake.delete({ apiVersion: 'v1', kind: 'Pod', namespace: pod.namespace, name: pod.name });
  };
  /** The Pod of this launch: the same one after a crash (one more restart), a new one for a new template. */
  const podFor = (key: string, deployment: KubernetesObject, template: string): DevPod => {
    const existing = pods.get(key);
    if (existing !== undefined && existing.template === template) {
      existing.previous = existing.current;
      existing.current = new LogBuffer();
      existing.restarts += 1;
      return existing;
    }
    removePod(key);
    const namespace = deployment.metadata.namespace ?? 'default';
    const spec = (
      deployment as {
        spec?: {
          template?: {
            metadata?: { labels?: Record<string, string> };
            spec?: { containers?: { name?: string }[] };
          };
        };
      }
    ).spec?.template;
    const pod: DevPod = {
      name: podName(deployment.metadata.name, template),
      namespace,
      container: spec?.spec?.containers?.[0]?.name ?? 'external-dns',
      template,
      restarts: 0,
      current: new LogBuffer(),
    };
    fake.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: pod.name,
        namespace,
        labels: { ...(spec?.metadata?.labels ?? {}) },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: deployment.metadata.name,
            uid: deployment.metadata.uid ?? '',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: { ...(spec?.spec ?? {}), nodeName: DEV_NODE },
    } as KubernetesObject);
    pods.set(key, pod);
    return pod;
  };
  const instant = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  /** The Pod's status as a kubelet reports it: running, or waiting to restart after the last exit. */
  const reportPod = async (pod: DevPod, startedAt: number, exit?: { code: number | null; at: number }) => {
    const terminated = (code: number | null, at: number) => ({
      terminated: {
        exitCode: code ?? 137,
        reason: code === 0 ? 'Completed' : 'Error',
        startedAt: instant(startedAt),
        finishedAt: instant(at),
      },
    });
    const status =
      exit === undefined
        ? {
            phase: 'Running',
            hostIP: '127.0.0.1',
            podIP: '127.0.0.1',
            startTime: instant(startedAt),
            conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: instant(startedAt) }],
            containerStatuses: [
              {
                name: pod.container,
                image: 'external-dns',
                imageID: '',
                ready: true,
                started: true,
                restartCount: pod.restarts,
                state: { running: { startedAt: instant(startedAt) } },
              },
            ],
          }
        : {
            phase: 'Running',
            conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: instant(exit.at) }],
            containerStatuses: [
              {
                name: pod.container,
                image: 'external-dns',
                imageID: '',
                ready: false,
                started: false,
                restartCount: pod.restarts,
                state: { waiting: { reason: 'CrashLoopBackOff' } },
                lastState: terminated(exit.code, exit.at),
              },
            ],
          };
    await patchStatus(fake, podPath(pod), status);
  };

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

  /** Stops a process; its Pod goes too unless it restarts in it (`keepPod`: a crash restart). */
  const stopProcess = async (key: string, keepPod = false) => {
    if (!keepPod && !stopping) removePod(key);
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
    const pod = podFor(key, deployment, template);
    const startedAt = Date.now();
    await reportPod(pod, startedAt);
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
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue;
        dns.output(prefix + line);
        pod.current.append(line);
      }
    };
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    const entry: Running = {
      child,
      template,
      root,
      failures,
      exited: new Promise<void>((resolve) => {
        const exited = (code: number | null) => {
          const at = Date.now();
          entry.exitedAt = at;
          pod.current.end();
          if (!stopping && pods.get(key) === pod)
            reportPod(pod, startedAt, { code, at }).catch((error: unknown) =>
              log(`external-dns: ${key} status: ${error instanceof Error ? error.message : String(error)}`),
            );
        };
        child.once('exit', (code, signal) => {
          exited(code);
          if (!stopping) log(`external-dns: ${key} exited (${signal ?? `code ${code}`})`);
          resolve();
        });
        child.once('error', (error) => {
          exited(null);
          log(`external-dns: ${key} could not start: ${error.message}`);
          resolve();
        });
      }),
    };
    running.set(key, entry);
    log(`external-dns: ${key} started (pid ${child.pid ?? '?'}) as pod ${pod.name}`);
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
        await stopProcess(key, true);
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
      fake.setPodLogs(undefined);
    },
  };
}
