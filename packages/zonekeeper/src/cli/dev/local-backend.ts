/**
 * The local backend of `zonekeeper dev`: moto (Route 53 and IAM), the testkit Vault fake and one
 * Kubernetes API fake per cluster, each a detached process on 127.0.0.1, recorded in one state file.
 *
 * - {@link devUp} starts them (or reports the running backend), creates the parent zone in moto, and
 *   writes the kubeconfig (one context per cluster), an empty inventory and the Vault token file.
 * - {@link inspectBackend} tells, per process, whether it runs and answers.
 * - {@link devDown} stops every process it recorded (SIGTERM, then SIGKILL) and removes its files.
 *
 * One `dev up` or `dev down` at a time per directory (a lock file holding the pid). Every state is in
 * memory: `dev down` loses it, `dev up` starts empty.
 *
 * @internal
 * @packageDocumentation
 */

import { execFile } from 'node:child_process';
import { readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { extname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type CallOptions, invalidInput, ZonekeeperError } from '@zonekeeper/core';
import {
  answers,
  DEV_MARKER_VARIABLE,
  freePort,
  isOurs,
  processInfo,
  release,
  type Spawned,
  spawnDetached,
  stopProcess,
} from './processes.js';
import {
  DEV_AWS_CREDENTIALS,
  type DevPaths,
  type DevProcess,
  type DevProcessKind,
  type DevState,
  devPaths,
  MOTO_INSTALL_HINT,
  makeDirectories,
  readState,
  removeStateFiles,
  writePrivateFile,
  writeState,
} from './state.js';

/** What `dev up` is asked to start. */
export interface DevUpOptions extends CallOptions {
  readonly dir: string;
  readonly baseDomain: string;
  readonly region: string;
  readonly clusters: readonly string[];
  /** The Python that has moto (default `python3`). */
  readonly python: string;
  /**
   * An ExternalDNS binary of the version the deployer renders: each cluster then runs every
   * ExternalDNS Deployment applied to it (see `cluster-agents.ts`). Absent: ExternalDNS is deployed
   * but not run.
   */
  readonly externalDns?: string;
  /** How long each process may take to answer (default 60 s). */
  readonly startTimeoutMs?: number;
  /** Progress lines. */
  readonly progress: (line: string) => void;
}

/** One process and how it is doing. */
export interface DevProcessStatus {
  readonly name: string;
  readonly kind: DevProcessKind;
  readonly pid: number;
  readonly endpoint: string | undefined;
  /** `running`: alive and answering; `not-answering`: alive, no 200; `exited`: gone (or the pid is another process's). */
  readonly state: 'running' | 'not-answering' | 'exited';
  readonly log: string;
}

/** A backend and the state of each of its processes. */
export interface DevInspection {
  readonly paths: DevPaths;
  readonly state: DevState;
  readonly processes: readonly DevProcessStatus[];
  /** Every process runs and answers, and `dev up` finished. */
  readonly healthy: boolean;
}

/** The result of {@link devUp}. */
export interface DevUpResult {
  readonly inspection: DevInspection;
  /** True when the backend was already running and nothing was started. */
  readonly reused: boolean;
}

/** The result of {@link devDown}. */
export interface DevDownResult {
  readonly paths: DevPaths;
  /** The processes that were running and are stopped now. */
  readonly stopped: readonly DevProcess[];
  /** Recorded processes that had already exited. */
  readonly alreadyGone: readonly DevProcess[];
  /** False when there was no backend in the directory. */
  readonly found: boolean;
}

/** Per-process status of a recorded backend. */
export async function inspectBackend(paths: DevPaths, state: DevState): Promise<DevInspection> {
  const processes = await Promise.all(
    state.processes.map(async (p): Promise<DevProcessStatus> => {
      const base = { name: p.name, kind: p.kind, pid: p.pid, endpoint: p.endpoint, log: p.log };
      if (!isOurs(p)) return { ...base, state: 'exited' };
      return { ...base, state: (await answers(p)) ? 'running' : 'not-answering' };
    }),
  );
  return {
    paths,
    state,
    processes,
    healthy: state.ready && processes.every((p) => p.state === 'running'),
  };
}

// ---- the lock ------------------------------------------------------------------------------------------

async function acquireLock(paths: DevPaths): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(paths.lock, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return async () => {
        await rm(paths.lock, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(await readFile(paths.lock, 'utf8').catch(() => ''), 10);
    // A lock just created may not hold its pid yet: young and empty counts as held.
    const young = await stat(paths.lock).then(
      (st) => Date.now() - st.mtimeMs < 5_000,
      () => false,
    );
    const held =
      Number.isInteger(holder) && holder > 1 ? holder !== process.pid && processInfo(holder).alive : young;
    if (held)
      throw new ZonekeeperError(
        'CONFLICT',
        `Another 'zonekeeper dev' command (pid ${Number.isInteger(holder) ? holder : 'unknown'}) is working on ${paths.dir}; wait for it to finish and run this again.`,
        { details: { dir: paths.dir } },
      );
    // Left by a command that died: take it over.
    await rm(paths.lock, { force: true });
  }
  throw new ZonekeeperError('CONFLICT', `Cannot take the lock ${paths.lock}; run this again.`);
}

// ---- starting ------------------------------------------------------------------------------------------

/** The fake-server entry next to this module (`.ts` on the workspace sources, `.js` once built). */
function fakeServerEntry(): string {
  const self = fileURLToPath(import.meta.url);
  return join(self, '..', `fake-server${extname(self)}`);
}

/** Node flags to pass on (the TypeScript loader and conditions on the sources), without debugger flags. */
function nodeFlags(): string[] {
  return process.execArgv.filter((a) => !/^--(inspect|debug)/.test(a));
}

/** Checks the packages the fakes come from can be loaded, before anything starts. */
function checkFakePackages(): void {
  const missing: string[] = [];
  for (const specifier of ['@zonekeeper/testkit/vault', '@zonekeeper/kube-apiserver-fake']) {
    try {
      import.meta.resolve(specifier);
    } catch {
      missing.push(specifier.replace('/vault', ''));
    }
  }
  if (missing.length > 0)
    throw new ZonekeeperError(
      'UNAVAILABLE',
      `The local backend needs ${missing.join(' and ')} next to zonekeeper: npm install --save-dev ${missing.join(' ')}.`,
      { retry: 'permanent', details: { missing } },
    );
}

interface Starting {
  readonly name: string;
  readonly kind: DevProcessKind;
  readonly spawned: Spawned;
  readonly log: string;
  readonly argvIncludes: readonly string[];
  /** Moto's endpoint is known before it answers; the fakes report theirs in the ready file. */
  readonly endpoint?: string;
  readonly readyFile?: string;
}

function childEnv(dir: string): NodeJS.ProcessEnv {
  return { ...process.env, [DEV_MARKER_VARIABLE]: dir, PYTHONUNBUFFERED: '1' };
}

async function startMotoProcess(paths: DevPaths, python: string): Promise<Starting> {
  const port = await freePort();
  const log = join(paths.logs, 'moto.log');
  const spawned = await spawnDetached(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    log,
    env: childEnv(paths.dir),
    cwd: process.cwd(),
  });
  return {
    name: 'moto',
    kind: 'moto',
    spawned,
    log,
    argvIncludes: ['moto.server', String(port)],
    endpoint: `http://127.0.0.1:${port}`,
  };
}

async function startFakeProcess(
  paths: DevPaths,
  kind: 'vault' | 'kubernetes' | 'dns',
  name: string,
  flags: readonly string[] = [],
): Promise<Starting> {
  const log = join(paths.logs, `${name}.log`);
  const readyFile = join(paths.run, `${name}.json`);
  await rm(readyFile, { force: true });
  const spawned = await spawnDetached(
    process.execPath,
    [...nodeFlags(), fakeServerEntry(), kind, name, readyFile, ...flags],
    {
      log,
      env: childEnv(paths.dir),
      cwd: process.cwd(),
    },
  );
  return { name, kind, spawned, log, argvIncludes: [readyFile], readyFile };
}

function recorded(s: Starting, extra: Partial<Pick<DevProcess, 'endpoint' | 'ca'>> = {}): DevProcess {
  const endpoint = extra.endpoint ?? s.endpoint;
  return {
    name: s.name,
    kind: s.kind,
    pid: s.spawned.pid,
    log: s.log,
    argvIncludes: s.argvIncludes,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(extra.ca === undefined ? {} : { ca: extra.ca }),
  };
}

async function logTail(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-12).join('\n');
}

async function exitedError(s: Starting, python: string): Promise<ZonekeeperError> {
  const tail = await logTail(s.log);
  if (s.kind === 'moto') {
    const missing =
      s.spawned.spawnError?.code === 'ENOENT' || /No module named|ModuleNotFoundError|ImportError/.test(tail);
    const why =
      s.spawned.spawnError?.code === 'ENOENT'
        ? `${python} was not found`
        : missing
          ? `${python} cannot import moto`
          : `moto (${python} -m moto.server) exited before it answered`;
    return new ZonekeeperError(
      'UNAVAILABLE',
      `${why}. Install moto with: ${MOTO_INSTALL_HINT} (or set ZONEKEEPER_MOTO_PYTHON to a Python that has it).${tail ? ` Its log (${s.log}) ends with: ${tail}` : ''}`,
      { retry: 'permanent', details: { python, log: s.log } },
    );
  }
  const what =
    s.kind === 'vault'
      ? 'Vault fake'
      : s.kind === 'dns'
        ? 'DNS server'
        : `Kubernetes API fake (cluster ${s.name})`;
  return new ZonekeeperError(
    'UNAVAILABLE',
    `The ${what} exited before it listened.${tail ? ` Its log (${s.log}) ends with: ${tail}` : ''}`,
    { details: { log: s.log } },
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until a process answers (moto) or reports its address (the fakes); returns what it reported. */
async function waitReady(
  s: Starting,
  python: string,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<{ process: DevProcess; token?: string }> {
  let exited = false;
  void s.spawned.exited.then(() => {
    exited = true;
  });
  while (true) {
    signal?.throwIfAborted();
    if (exited || s.spawned.spawnError !== undefined) throw await exitedError(s, python);
    if (s.readyFile !== undefined) {
      const text = await readFile(s.readyFile, 'utf8').catch(() => undefined);
      if (text !== undefined) {
        const ready = JSON.parse(text) as { endpoint: string; token: string; ca?: string };
        const p = recorded(s, { endpoint: ready.endpoint, ...(ready.ca ? { ca: ready.ca } : {}) });
        if (await answers(p)) return { process: p, token: ready.token };
      }
    } else {
      const p = recorded(s);
      if (await answers(p, 1_000)) return { process: p };
    }
    if (Date.now() > deadline)
      throw new ZonekeeperError(
        'TIMEOUT',
        `${s.name} (pid ${s.spawned.pid}) did not answer in time; its log is ${s.log}.`,
        { details: { log: s.log } },
      );
    await sleep(100);
  }
}

/** The kubeconfig of the clusters: one context, cluster and user per cluster id (JSON is valid YAML). */
function kubeconfigOf(
  clusters: readonly { id: string; endpoint: string; token: string; ca: string }[],
): string {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: clusters.map((c) => ({
      name: c.id,
      cluster: { server: c.endpoint, 'certificate-authority-data': Buffer.from(c.ca).toString('base64') },
    })),
    users: clusters.map((c) => ({ name: c.id, user: { token: c.token } })),
    contexts: clusters.map((c) => ({ name: c.id, context: { cluster: c.id, user: c.id } })),
    'current-context': clusters[0]?.id ?? '',
    preferences: {},
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

async function createParentZone(moto: string, baseDomain: string, region: string, options: CallOptions) {
  const { createRoute53Provider } = await import('@zonekeeper/zone-manager/route53');
  const dns = createRoute53Provider({ endpoint: moto, region, credentials: DEV_AWS_CREDENTIALS });
  const existing = await dns.findZonesByName(baseDomain, options);
  if (existing[0]) return existing[0].id;
  const zone = await dns.createZone(
    {
      name: baseDomain,
      callerReference: `zonekeeper-dev-${Date.now()}`,
      comment: 'The parent zone of the zonekeeper local backend',
    },
    options,
  );
  return zone.zone.id;
}

function sameBackend(state: DevState, options: DevUpOptions): string | undefined {
  const differences: string[] = [];
  if (state.baseDomain !== options.baseDomain)
    differences.push(`base domain ${state.baseDomain}, not ${options.baseDomain}`);
  if (state.clusters.join(',') !== options.clusters.join(','))
    differences.push(`clusters ${state.clusters.join(',')}, not ${options.clusters.join(',')}`);
  if (state.externalDns !== options.externalDns)
    differences.push(
      state.externalDns === undefined ? 'no ExternalDNS running' : `ExternalDNS ${state.externalDns} running`,
    );
  return differences.length === 0 ? undefined : differences.join('; ');
}

async function stopAll(processes: readonly Pick<DevProcess, 'pid'>[]): Promise<void> {
  await Promise.all(processes.map((p) => (p.pid > 1 ? stopProcess(p.pid) : Promise.resolve(true))));
}

/**
 * Starts the local backend in `options.dir`, or reports the one running there. On any failure (and on
 * abort) the processes it started are stopped and its files removed before the error is thrown.
 */
export async function devUp(options: DevUpOptions): Promise<DevUpResult> {
  const paths = devPaths(options.dir);
  const { signal, progress } = options;
  await makeDirectories(paths);
  const unlock = await acquireLock(paths);
  try {
    const existing = await readState(paths);
    if (existing !== undefined) {
      const inspection = await inspectBackend(paths, existing);
      if (!inspection.healthy) {
        const down = inspection.processes
          .filter((p) => p.state !== 'running')
          .map((p) => `${p.name} ${p.state}`);
        throw new ZonekeeperError(
          'UNAVAILABLE',
          `The local backend in ${paths.dir} is ${existing.ready ? 'partly down' : 'incomplete (an earlier dev up did not finish)'}${down.length > 0 ? ` (${down.join(', ')})` : ''}. Run 'zonekeeper dev down' (it stops what is left), then 'zonekeeper dev up' for a new, empty backend.`,
          { details: { dir: paths.dir } },
        );
      }
      const different = sameBackend(existing, options);
      if (different !== undefined)
        throw new ZonekeeperError(
          'CONFLICT',
          `A local backend already runs in ${paths.dir} with ${different}. Run 'zonekeeper dev down' first, or pass --dir <dir> for a second one.`,
          { details: { dir: paths.dir } },
        );
      progress(`zonekeeper dev up: already running (${paths.state}); nothing started.`);
      return { inspection, reused: true };
    }

    checkFakePackages();
    signal?.throwIfAborted();
    const started: Starting[] = [];
    const startedAt = new Date().toISOString();
    const base = {
      version: 1 as const,
      startedAt,
      baseDomain: options.baseDomain,
      region: options.region,
      clusters: options.clusters,
      ...(options.externalDns === undefined ? {} : { externalDns: options.externalDns }),
    };
    try {
      progress(
        `zonekeeper dev up: starting moto, the Vault fake, a DNS server and ${options.clusters.length} Kubernetes API fake(s) (${options.clusters.join(', ')})${options.externalDns === undefined ? '' : ', each running ExternalDNS,'} in ${paths.dir}…`,
      );
      const moto = await startMotoProcess(paths, options.python);
      const aws = moto.endpoint ?? '';
      started.push(moto);
      started.push(await startFakeProcess(paths, 'vault', 'vault'));
      started.push(await startFakeProcess(paths, 'dns', 'dns', ['--aws', aws, '--region', options.region]));
      for (const [index, id] of options.clusters.entries()) {
        const flags = ['--octet', String(index + 1)];
        if (options.externalDns !== undefined)
          flags.push(
            ...['--external-dns', options.externalDns, '--aws', aws],
            ...[
              '--output',
              join(paths.logs, `${id}.external-dns.log`),
              '--work',
              join(paths.run, `${id}.pods`),
            ],
          );
        started.push(await startFakeProcess(paths, 'kubernetes', id, flags));
      }
      // Recorded at once, so that `dev down` finds them even if this command is killed now.
      await writeState(paths, { ...base, ready: false, processes: started.map((s) => recorded(s)) });

      const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
      const ready = await Promise.all(started.map((s) => waitReady(s, options.python, deadline, signal)));
      const processes = ready.map((r) => r.process);
      const motoEndpoint = processes.find((p) => p.kind === 'moto')?.endpoint ?? '';
      const vaultToken = ready.find((r) => r.process.kind === 'vault')?.token ?? '';
      const parentZoneId = await createParentZone(motoEndpoint, options.baseDomain, options.region, {
        ...(signal ? { signal } : {}),
      });
      await writePrivateFile(
        paths.kubeconfig,
        kubeconfigOf(
          ready
            .filter((r) => r.process.kind === 'kubernetes')
            .map((r) => ({
              id: r.process.name,
              endpoint: r.process.endpoint ?? '',
              token: r.token ?? '',
              ca: r.process.ca ?? '',
            })),
        ),
      );
      await writePrivateFile(paths.inventory, '[]\n');
      await writePrivateFile(paths.vaultToken, vaultToken);
      const state: DevState = { ...base, ready: true, parentZoneId, processes, vaultToken };
      await writeState(paths, state);
      for (const s of started) release(s.spawned);
      for (const p of processes)
        progress(
          `  · ${p.name}: pid ${p.pid}, ${p.endpoint}${p.kind === 'kubernetes' ? ` (context ${p.name})` : p.kind === 'dns' ? ` (dig @127.0.0.1 -p ${p.endpoint?.replace(/^.*:/, '')} …)` : ''}`,
        );
      progress(`  · parent zone ${options.baseDomain} (${parentZoneId}) created in moto`);
      return { inspection: await inspectBackend(paths, state), reused: false };
    } catch (error) {
      await stopAll(started.map((s) => ({ pid: s.spawned.pid })));
      for (const s of started) release(s.spawned);
      await removeStateFiles(
        paths,
        { ...base, ready: false, processes: started.map((s) => recorded(s)) },
        { keepLogs: true },
      );
      throw error;
    }
  } finally {
    await unlock();
    await rmdir(paths.dir).catch(() => {});
  }
}

/**
 * Stops every process of the backend in `dir` that is still ours and removes the backend's files.
 * Throws `UNAVAILABLE` (and keeps the state file) if a process survives SIGKILL.
 */
export async function devDown(dir: string, progress: (line: string) => void): Promise<DevDownResult> {
  const paths = devPaths(dir);
  const state = await readState(paths);
  if (state === undefined) return { paths, stopped: [], alreadyGone: [], found: false };
  const unlock = await acquireLock(paths);
  try {
    const stopped: DevProcess[] = [];
    const alreadyGone: DevProcess[] = [];
    const survivors: DevProcess[] = [];
    await Promise.all(
      state.processes.map(async (p) => {
        if (!isOurs(p)) {
          alreadyGone.push(p);
          return;
        }
        if (await stopProcess(p.pid)) {
          stopped.push(p);
          progress(`  · ${p.name}: pid ${p.pid} stopped`);
        } else survivors.push(p);
      }),
    );
    if (survivors.length > 0)
      throw new ZonekeeperError(
        'UNAVAILABLE',
        `Could not stop ${survivors.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}; the state ${paths.state} is kept.`,
        { details: { pids: survivors.map((p) => p.pid) } },
      );
    await removeStateFiles(paths, state);
    return { paths, stopped, alreadyGone, found: true };
  } finally {
    await unlock();
    await rmdir(paths.dir).catch(() => {});
  }
}

/** The backend in `dir`, or `NOT_FOUND` naming `dev up`. */
export async function requireState(dir: string): Promise<{ paths: DevPaths; state: DevState }> {
  const paths = devPaths(dir);
  const state = await readState(paths);
  if (state === undefined)
    throw new ZonekeeperError(
      'NOT_FOUND',
      `No local backend in ${paths.dir} (no ${paths.state}); start one with 'zonekeeper dev up'.`,
      { details: { dir: paths.dir } },
    );
  return { paths, state };
}

/** Checks the Python executable name given by `ZONEKEEPER_MOTO_PYTHON`. */
export function motoPython(value: string | undefined): string {
  const python = value?.trim() || 'python3';
  if (/[\0\n]/.test(python)) throw invalidInput('ZONEKEEPER_MOTO_PYTHON must be an executable name or path.');
  return python;
}

/** How to get an ExternalDNS binary of the rendered version, named in every error about it. */
export const EXTERNAL_DNS_BUILD_HINT =
  'go install sigs.k8s.io/external-dns@<version> (or, from a zonekeeper clone, bash .ci/build-external-dns.sh)';

/**
 * Checks `binary` (from `--external-dns` or `ZONEKEEPER_EXTERNAL_DNS`) runs and is the ExternalDNS
 * version the deployer renders, before anything starts; returns its absolute path.
 *
 * @throws ZonekeeperError `INVALID_INPUT` (a missing or non-executable file, another version).
 */
export async function checkExternalDnsBinary(binary: string, cwd: string): Promise<string> {
  const { EXTERNAL_DNS_VERSION } = await import('@zonekeeper/externaldns-deployer');
  const path = resolvePath(cwd, binary);
  const hint = EXTERNAL_DNS_BUILD_HINT.replace('<version>', EXTERNAL_DNS_VERSION);
  let reported: string;
  try {
    const { stdout, stderr } = await promisify(execFile)(path, ['--version'], { timeout: 30_000 });
    reported = `${stdout}${stderr}`.trim(); // kingpin prints the version on stderr
  } catch (error) {
    throw invalidInput(
      `--external-dns ${path} does not run (${(error as NodeJS.ErrnoException).code ?? 'failed'}); get ExternalDNS ${EXTERNAL_DNS_VERSION} with: ${hint}.`,
      { binary: path },
    );
  }
  const firstLine = (reported.split('\n')[0] ?? '').slice(0, 60);
  if (reported !== EXTERNAL_DNS_VERSION)
    throw invalidInput(
      `--external-dns ${path} reports version ${JSON.stringify(firstLine)}, but zonekeeper renders ExternalDNS ${EXTERNAL_DNS_VERSION}; get that one with: ${hint}.`,
      { binary: path, version: firstLine },
    );
  return path;
}
