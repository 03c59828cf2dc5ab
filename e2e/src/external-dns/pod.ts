/**
 * Runs ExternalDNS as a process the way the rendered Deployment runs it in a pod, against the
 * Kubernetes API fake and an AWS endpoint on 127.0.0.1.
 *
 * What is taken from the Deployment, never retyped (`externalDnsProcessOf` of the deployer): the
 * container's `args`, its `env` (a `secretKeyRef` read from the applied Secret, as the kubelet does),
 * the files of its Secret volumes (read back from the Secret that was applied) and of its projected
 * service-account token volumes (a token for the pod's namespace and service account, with the
 * volume's audience and lifetime, signed by the cluster's OIDC issuer: what the kubelet asks the API
 * server's TokenRequest for), mounted under a temporary root
 * (`AWS_SHARED_CREDENTIALS_FILE=/etc/zonekeeper/aws/credentials` becomes `<root>/etc/zonekeeper/aws/credentials`).
 *
 * What the harness adds, because a process is not a pod (and nothing else):
 *
 * ```
 *  --kubeconfig=<file>                 in a pod: the in-cluster config of the ServiceAccount
 *  --metrics-address=127.0.0.1:0       in a pod: :7979 on the pod's own network namespace
 *  --once                              runOnce only: one loop, then exit
 *  AWS_ENDPOINT_URL_ROUTE_53=<url>     the AWS SDK for Go v2 reads it (config.LoadDefaultConfig → EnvConfig,
 *                                      service id "Route 53"): Route 53 traffic goes to the IAM enforcer
 *  AWS_ENDPOINT_URL_STS=<url>          the same for STS (web identity's AssumeRoleWithWebIdentity)
 *  AWS_EC2_METADATA_DISABLED=true, HOME=<root>, PATH   a clean environment: no host credentials or config
 * ```
 *
 * {@link startExternalDnsPod} also plays the kubelet for `strategy: Recreate`: when the Deployment's pod
 * template changes (a rotated key changes its credentials-hash annotation), the process is stopped
 * and started again from the new template and Secret.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@zonekeeper/core';
import {
  type ExternalDnsProcessForm,
  externalDnsProcessOf,
  mountExternalDnsProcessForm,
  type ServiceAccountTokenRequest,
} from '@zonekeeper/externaldns-deployer';
import type { KubernetesFake } from '@zonekeeper/kube-apiserver-fake';
import { externalDnsBinary } from './binary.js';

/** What a projected service-account token is requested for (the kubelet's TokenRequest). */
export type TokenRequest = ServiceAccountTokenRequest;

/** Signs a service-account token for a {@link TokenRequest} (the cluster's OIDC issuer). */
export type TokenIssuer = (request: TokenRequest) => string;

/** Where ExternalDNS sends its traffic. */
export interface PodTarget {
  /** The Kubernetes API fake the cluster is. */
  readonly cluster: KubernetesFake;
  /** The AWS endpoint for Route 53 and STS (the IAM enforcer); none for a provider that is not AWS. */
  readonly awsEndpoint?: string;
  /** Signs the pod's projected service-account tokens (the cluster's OIDC issuer), if it has one. */
  readonly tokenIssuer?: TokenIssuer;
}

/** The Deployment to run: where it lives in the cluster. */
export interface DeploymentRef {
  readonly namespace: string;
  readonly name: string;
}

/** What one ExternalDNS process did. */
export interface ExternalDnsRun {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** stderr and stdout lines (logrus text format). */
  readonly lines: readonly string[];
  /** The access key id of the credentials file it ran with (`''` without one: a keyless mode). */
  readonly accessKeyId: string;
  /** The arguments it ran with (the Deployment's, then the harness's). */
  readonly args: readonly string[];
}

function read(target: PodTarget, ref: DeploymentRef): ExternalDnsProcessForm {
  const cluster = target.cluster;
  const deployment = cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', ...ref });
  if (!deployment) throw new Error(`Deployment ${ref.namespace}/${ref.name} does not exist in the cluster`);
  return externalDnsProcessOf(
    deployment,
    (name) => cluster.get({ apiVersion: 'v1', kind: 'Secret', namespace: ref.namespace, name }),
    target.tokenIssuer,
  );
}

interface Started {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<void>;
  readonly accessKeyId: string;
  readonly args: readonly string[];
  readonly root: string;
}

async function launch(target: PodTarget, spec: ExternalDnsProcessForm, once: boolean): Promise<Started> {
  const binary = await externalDnsBinary();
  const root = await mkdtemp(join(tmpdir(), 'zk-external-dns-'));
  const env = await mountExternalDnsProcessForm(spec, root);
  const kubeconfig = await target.cluster.writeKubeconfig(root);
  const args = [
    ...spec.args,
    `--kubeconfig=${kubeconfig}`,
    '--metrics-address=127.0.0.1:0',
    ...(once ? ['--once'] : []),
  ];
  const credentials = Object.values(spec.files).find((c) => c.includes('aws_access_key_id')) ?? '';
  const accessKeyId = /aws_access_key_id = (\S+)/.exec(credentials)?.[1] ?? '';
  const child = spawn(binary, args, {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: root,
      AWS_EC2_METADATA_DISABLED: 'true',
      ...env,
      ...(target.awsEndpoint === undefined
        ? {}
        : { AWS_ENDPOINT_URL_ROUTE_53: target.awsEndpoint, AWS_ENDPOINT_URL_STS: target.awsEndpoint }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const collect = (chunk: Buffer) =>
    lines.push(
      ...chunk
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== ''),
    );
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, lines, exited, accessKeyId, args, root };
}

async function finish(started: Started): Promise<ExternalDnsRun> {
  await started.exited;
  await rm(started.root, { recursive: true, force: true });
  return {
    exitCode: started.child.exitCode,
    signal: started.child.signalCode,
    lines: started.lines,
    accessKeyId: started.accessKeyId,
    args: started.args,
  };
}

/** Options of {@link runExternalDnsOnce}. */
export interface RunOnceOptions {
  /** Kill the process after this long (default 60 s); the run then has `signal: 'SIGKILL'`. */
  readonly timeoutMs?: number;
  /** Rewrites the Deployment's arguments before the harness adds its own (tamper scenarios only). */
  readonly tamper?: (args: readonly string[]) => readonly string[];
}

/**
 * One ExternalDNS loop (`--once`) of a Deployment and Secret given as objects (say, saved before a
 * rotation: a pod that never rolled).
 */
export async function runSavedPodOnce(
  target: PodTarget,
  deployment: KubernetesObject,
  secrets: readonly KubernetesObject[],
  options: { readonly timeoutMs?: number } = {},
): Promise<ExternalDnsRun> {
  const spec = externalDnsProcessOf(
    deployment,
    (name) => secrets.find((s) => s.metadata.name === name),
    target.tokenIssuer,
  );
  const started = await launch(target, spec, true);
  const timer = setTimeout(() => started.child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  try {
    return await finish(started);
  } finally {
    clearTimeout(timer);
  }
}

/** One ExternalDNS loop (`--once`) of the Deployment as it is now in the cluster. */
export async function runExternalDnsOnce(
  target: PodTarget,
  ref: DeploymentRef,
  options: RunOnceOptions = {},
): Promise<ExternalDnsRun> {
  const spec = read(target, ref);
  const started = await launch(
    target,
    options.tamper ? { ...spec, args: options.tamper(spec.args) } : spec,
    true,
  );
  const timer = setTimeout(() => started.child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  try {
    return await finish(started);
  } finally {
    clearTimeout(timer);
  }
}

/** A long-running ExternalDNS "pod" (see the module notes). */
export interface ExternalDnsPod extends AsyncDisposable {
  /** Every process run so far, the current one last (its `exitCode` is null while it runs). */
  readonly generations: readonly { readonly accessKeyId: string; readonly lines: readonly string[] }[];
  /** Resolves once `count` (default 1) of the current process's log lines satisfy `predicate`. */
  waitForLine(
    predicate: (line: string) => boolean,
    options?: { count?: number; timeoutMs?: number },
  ): Promise<string>;
  stop(): Promise<void>;
}

function templateOf(cluster: KubernetesFake, ref: DeploymentRef): string {
  const d = cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', ...ref }) as
    | { spec?: { template?: unknown } }
    | undefined;
  return JSON.stringify(d?.spec?.template ?? null);
}

/**
 * Runs the Deployment as a long-lived process and restarts it (stop, then start: `Recreate`) whenever
 * the Deployment's pod template changes, re-reading its Secret.
 */
export async function startExternalDnsPod(
  target: PodTarget,
  ref: DeploymentRef,
  options: { readonly pollMs?: number } = {},
): Promise<ExternalDnsPod> {
  const generations: Started[] = [];
  let template = templateOf(target.cluster, ref);
  let current = await launch(target, read(target, ref), false);
  generations.push(current);
  let stopping = false;
  let busy = false;
  const timer = setInterval(() => {
    if (busy || stopping) return;
    const next = templateOf(target.cluster, ref);
    if (next === template) return;
    busy = true;
    (async () => {
      template = next;
      current.child.kill('SIGTERM');
      await current.exited;
      if (stopping) return;
      current = await launch(target, read(target, ref), false);
      generations.push(current);
    })().finally(() => {
      busy = false;
    });
  }, options.pollMs ?? 100);
  const stop = async () => {
    stopping = true;
    clearInterval(timer);
    while (busy) await new Promise((r) => setTimeout(r, 20));
    current.child.kill('SIGTERM');
    await Promise.all(generations.map((g) => finish(g)));
  };
  return {
    get generations() {
      return generations.map((g) => ({ accessKeyId: g.accessKeyId, lines: [...g.lines] }));
    },
    async waitForLine(predicate, { count = 1, timeoutMs = 30_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const matching = current.lines.filter(predicate);
        if (matching.length >= count) return matching[count - 1] as string;
        if (Date.now() > deadline) {
          throw new Error(
            `ExternalDNS did not log the expected line within ${timeoutMs} ms; last lines:\n${current.lines.slice(-15).join('\n')}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
