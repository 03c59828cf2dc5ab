/**
 * Starts and stops a real kube-apiserver (with an embedded etcd, built from `tools/kube-apiserver` in
 * the zonekeeper repository, or any binary with the same interface) on 127.0.0.1 for tests.
 *
 * The server runs without a controller manager, scheduler or kubelet: it is the API server alone —
 * validation, defaulting, admission (NamespaceLifecycle, …), RBAC, optimistic concurrency, server-side
 * apply — which is what differential and contract tests need. Nothing finalises namespaces or
 * garbage-collects, so deleted namespaces stay `Terminating` and foreground deletions keep their
 * finalizer.
 *
 * ```ts
 * import { startKubeApiServer } from '@zonekeeper/testkit/kube-apiserver';
 * await using server = await startKubeApiServer(); // needs ZONEKEEPER_KUBE_APISERVER or the repo's .cache build
 * const kc = new KubeConfig();
 * kc.loadFromString(server.kubeconfig());
 * ```
 *
 * @packageDocumentation
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CallOptions, ZonekeeperError } from '@zonekeeper/core';
import { stringify } from 'yaml';
import { trackChild, untrackChild } from '../moto/processes.js';

/** Options of {@link startKubeApiServer}. @public */
export interface KubeApiServerOptions extends CallOptions {
  /**
   * The binary. Default: the `ZONEKEEPER_KUBE_APISERVER` environment variable, else
   * `.cache/kube-apiserver/bin/kube-apiserver` at the repository root (what
   * `bash tools/kube-apiserver/build.sh` builds).
   */
  readonly binary?: string;
  /** How long to wait for `/readyz` (default 120 000 ms: the first start bootstraps RBAC policy). */
  readonly startTimeoutMs?: number;
  /** Extra kube-apiserver flags (`--name=value`), appended to the defaults. */
  readonly extraArgs?: readonly string[];
}

/** A running kube-apiserver from {@link startKubeApiServer}. @public */
export interface KubeApiServer extends AsyncDisposable {
  /** `https://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** The bearer token of a `system:masters` user. */
  readonly token: string;
  /** PEM bundle that verifies the serving certificate. */
  readonly ca: string;
  /** Process id. */
  readonly pid: number;
  /** Milliseconds from spawn to the first `200` from `/readyz`. */
  readonly startMs: number;
  /** A kubeconfig (YAML) for this server; `token` overrides the user's token. */
  kubeconfig(options?: { readonly token?: string }): string;
  /** Writes {@link KubeApiServer.kubeconfig} to `<dir>/kubeconfig` (mode 0600) and returns the path. */
  writeKubeconfig(dir: string): Promise<string>;
  /** SIGTERM, then SIGKILL after 5 s; removes the data directory. Idempotent. */
  stop(): Promise<void>;
}

/** The command that builds the default binary, named in every "binary missing" error. @public */
export const kubeApiServerBuildHint = 'bash tools/kube-apiserver/build.sh';

/** The repository's default binary path, if this file sits inside the zonekeeper repository. */
function defaultBinary(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, '../../../../.cache/kube-apiserver/bin/kube-apiserver');
}

/** Where {@link startKubeApiServer} looks for the binary without a `binary` option. @public */
export function kubeApiServerBinary(): string {
  return process.env.ZONEKEEPER_KUBE_APISERVER || defaultBinary();
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

function probe(url: string, ca: string | undefined, token: string): Promise<number> {
  return new Promise((done) => {
    const req = httpsRequest(
      url,
      {
        agent: false,
        timeout: 2_000,
        headers: { Authorization: `Bearer ${token}` },
        ...(ca ? { ca } : { rejectUnauthorized: false }),
      },
      (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(0));
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a kube-apiserver on a free 127.0.0.1 port, with a generated service-account key pair, a
 * static token file (one `system:masters` user) and its own self-signed serving certificate, and
 * waits for `/readyz`.
 * @throws `NOT_FOUND` when the binary is missing (with the command that builds it), `UNAVAILABLE`
 * when it exits or is not ready in time (with the end of its log).
 * @public
 */
export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  options.signal?.throwIfAborted();
  const binary = options.binary ?? kubeApiServerBinary();
  if (!existsSync(binary)) {
    throw new ZonekeeperError(
      'NOT_FOUND',
      `kube-apiserver: no binary at ${binary}. Build it with \`${kubeApiServerBuildHint}\` (Go and the module proxy), or set ZONEKEEPER_KUBE_APISERVER.`,
      { details: { binary } },
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'zk-kube-apiserver-'));
  const certDir = join(dir, 'certs');
  await mkdir(certDir);
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  await writeFile(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const token = randomBytes(24).toString('hex');
  await writeFile(join(dir, 'tokens.csv'), `${token},zonekeeper-admin,zonekeeper-admin,system:masters\n`, {
    mode: 0o600,
  });
  const port = await freePort();
  const args = [
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${certDir}`,
    `--token-auth-file=${join(dir, 'tokens.csv')}`,
    '--authorization-mode=Node,RBAC',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    '--service-cluster-ip-range=10.96.0.0/16',
    '--enable-priority-and-fairness=false',
    '--profiling=false',
    '--v=0',
    ...(options.extraArgs ?? []),
  ];
  const started = Date.now();
  const child: ChildProcess = spawn(binary, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      ZONEKEEPER_ETCD_DIR: join(dir, 'etcd'),
      ZONEKEEPER_PARENT_PID: String(process.pid),
    },
  });
  trackChild(child);
  let log = '';
  child.stderr?.on('data', (c: Buffer) => {
    log = (log + c.toString()).slice(-6_000);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    untrackChild(child);
    await rm(dir, { recursive: true, force: true });
  };
  const tail = () => log.trimEnd().split('\n').slice(-15).join('\n');
  const deadline = started + (options.startTimeoutMs ?? 120_000);
  let ca: string | undefined;
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new ZonekeeperError(
          'UNAVAILABLE',
          `kube-apiserver exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${tail()}`,
        );
      }
      if (Date.now() > deadline) {
        throw new ZonekeeperError('UNAVAILABLE', `kube-apiserver not ready in time:\n${tail()}`);
      }
      if (ca === undefined && existsSync(join(certDir, 'apiserver.crt'))) {
        const pem = await readFile(join(certDir, 'apiserver.crt'), 'utf8');
        if (pem.includes('END CERTIFICATE')) ca = pem;
      }
      if (ca !== undefined && (await probe(`https://127.0.0.1:${port}/readyz`, ca, token)) === 200) break;
      await sleep(100);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const startMs = Date.now() - started;
  const endpoint = `https://127.0.0.1:${port}`;
  const serverCa = ca;
  const kubeconfig = (o: { readonly token?: string } = {}) =>
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'kube-apiserver',
          cluster: {
            server: endpoint,
            'certificate-authority-data': Buffer.from(serverCa).toString('base64'),
          },
        },
      ],
      users: [{ name: 'admin', user: { token: o.token ?? token } }],
      contexts: [{ name: 'kube-apiserver', context: { cluster: 'kube-apiserver', user: 'admin' } }],
      'current-context': 'kube-apiserver',
    });
  return {
    endpoint,
    token,
    ca: serverCa,
    pid: child.pid as number,
    startMs,
    kubeconfig,
    async writeKubeconfig(target) {
      const path = join(target, 'kubeconfig');
      await writeFile(path, kubeconfig(), { mode: 0o600 });
      return path;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

export { type GoModuleFiles, goModDownloadCommand, goModuleFiles } from './go-modules.js';
