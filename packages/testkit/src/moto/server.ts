/**
 * Starts and stops a moto server (`python3 -m moto.server`) on 127.0.0.1 for tests.
 *
 * @packageDocumentation
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { type CallOptions, invalidInput, sleep, ZonekeeperError } from '@zonekeeper/core';
import { type ExitInfo, terminate } from '../internal/child.js';
import { trackChild, untrackChild } from './processes.js';

/**
 * Options of {@link startMoto}.
 * @public
 */
export interface MotoOptions extends CallOptions {
  /**
   * The Python interpreter that has moto installed. Default: the `ZONEKEEPER_MOTO_PYTHON` environment
   * variable if set, else `python3` (looked up on `PATH`).
   */
  readonly python?: string;
  /** How long to wait for the server to answer HTTP before giving up (default 20 000 ms). */
  readonly startTimeoutMs?: number;
  /**
   * How long {@link MotoServer.stop} waits after SIGTERM before sending SIGKILL (default 3 000 ms).
   */
  readonly stopGraceMs?: number;
  /**
   * Extra environment variables for the server process, merged over this process's environment.
   * A value of `undefined` removes an inherited variable.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The Python module to run (default `moto.server`). Only for tests of this helper and unusual
   * installations; it is run with `-H 127.0.0.1 -p <port>`.
   */
  readonly module?: string;
}

/**
 * A running moto server, from {@link startMoto}. Dispose it with `await using` or call
 * {@link MotoServer.stop}.
 * @public
 */
export interface MotoServer extends AsyncDisposable {
  /** Base URL for SDK clients (`endpoint` option), e.g. `http://127.0.0.1:41234`. No trailing slash. */
  readonly endpoint: string;
  /** The TCP port on 127.0.0.1. */
  readonly port: number;
  /** Process id of the server. */
  readonly pid: number;
  /** True once the server process has exited (after {@link MotoServer.stop}, or if it died). */
  readonly exited: boolean;
  /** Deletes all state in every moto backend (`POST /moto-api/reset`). */
  reset(options?: CallOptions): Promise<void>;
  /**
   * Stops the server: SIGTERM, then SIGKILL after `stopGraceMs`; resolves once the process is gone
   * (reaped). Idempotent.
   */
  stop(): Promise<void>;
}

/** The install command named in every "moto is missing" error. @public */
export const motoInstallHint = 'pip install "moto[server]"';

const defaultModule = 'moto.server';
const loopback = '127.0.0.1';
const stderrTailBytes = 4_000;
const stderrTailLines = 20;
const pollIntervalMs = 50;

/**
 * Runs the module like `python -m <module>`, after making sure the server dies with its parent:
 * PR_SET_PDEATHSIG on Linux, plus a watcher thread that exits when the parent pid changes (covers a
 * parent killed with SIGKILL, where no exit handler can run, and non-Linux systems).
 */
const bootstrap = [
  'import os, sys, threading, time, runpy',
  "parent = int(os.environ.get('ZONEKEEPER_MOTO_PARENT_PID') or 0)",
  'try:',
  '    import ctypes, signal',
  '    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)',
  'except Exception:',
  '    pass',
  'if parent:',
  '    if os.getppid() != parent:',
  '        os._exit(0)',
  '    def _watch():',
  '        while os.getppid() == parent:',
  '            time.sleep(0.5)',
  '        os._exit(0)',
  '    threading.Thread(target=_watch, daemon=True).start()',
  'name = sys.argv[1]',
  'sys.argv = [name] + sys.argv[2:]',
  "runpy.run_module(name, run_name='__main__', alter_sys=True)",
].join('\n');

/** Last part of a stream's output, bounded in bytes. */
class Tail {
  private text = '';
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-stderrTailBytes);
  }
  lines(): string {
    return this.text.trimEnd().split('\n').slice(-stderrTailLines).join('\n');
  }
}

/** Finds a free TCP port on 127.0.0.1 (bind to port 0, read it, release it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, loopback, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface HttpResult {
  readonly status: number;
  readonly body: string;
}

/** One HTTP request without keep-alive (no pooled socket holds the event loop open). */
function httpCall(
  url: string,
  method: string,
  options: { readonly timeoutMs: number; readonly signal?: AbortSignal | undefined },
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent: false, timeout: options.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    if (options.signal !== undefined) {
      const signal = options.signal;
      const onAbort = () => req.destroy(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      req.once('close', () => signal.removeEventListener('abort', onAbort));
    }
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Resets all state of the moto server at `endpoint` (`POST /moto-api/reset`). Use it from test files
 * that share one server started by {@link createMotoGlobalSetup}.
 * @throws ZonekeeperError `UNAVAILABLE` if the server does not answer 200.
 * @public
 */
export async function resetMoto(endpoint: string, options: CallOptions = {}): Promise<void> {
  options.signal?.throwIfAborted();
  const url = `${endpoint.replace(/\/+$/, '')}/moto-api/reset`;
  let result: HttpResult;
  try {
    result = await httpCall(url, 'POST', { timeoutMs: 10_000, signal: options.signal });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw new ZonekeeperError(
      'UNAVAILABLE',
      `moto: reset failed, ${url} did not answer. Is the server running?`,
      {
        cause: error,
        details: { endpoint },
      },
    );
  }
  if (result.status !== 200) {
    throw new ZonekeeperError('UNAVAILABLE', `moto: reset failed, ${url} answered HTTP ${result.status}.`, {
      details: { endpoint, status: result.status },
    });
  }
}

type StartOutcome =
  | { readonly kind: 'ready' }
  | { readonly kind: 'exited'; readonly exit: ExitInfo }
  | { readonly kind: 'spawn-error'; readonly error: NodeJS.ErrnoException }
  | { readonly kind: 'timeout' };

function validate(options: MotoOptions): void {
  for (const key of ['startTimeoutMs', 'stopGraceMs'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      throw invalidInput(`moto: ${key} must be a positive number of milliseconds, got ${String(value)}.`, {
        [key]: value,
      });
    }
  }
  if (options.python !== undefined && options.python.trim() === '') {
    throw invalidInput('moto: python must be a non-empty executable name or path.');
  }
  if (options.module !== undefined && !/^[A-Za-z_][\w.]*$/.test(options.module)) {
    throw invalidInput(
      `moto: module must be a dotted Python module name, got ${JSON.stringify(options.module)}.`,
    );
  }
}

function childEnv(options: MotoOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  env.ZONEKEEPER_MOTO_PARENT_PID = String(process.pid);
  env.PYTHONUNBUFFERED = '1';
  return env;
}

/**
 * Waits until the server answers `GET /moto-api/` with 200, the process exits, the deadline passes
 * or the signal aborts (abort rejects with `signal.reason`).
 */
async function waitUntilReady(
  child: ChildProcess,
  endpoint: string,
  exited: Promise<ExitInfo>,
  spawnFailed: Promise<NodeJS.ErrnoException>,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<StartOutcome> {
  const stop = new AbortController();
  const stopSignal = signal === undefined ? stop.signal : AbortSignal.any([signal, stop.signal]);
  const terminal = Promise.race([
    exited.then((exit): StartOutcome => ({ kind: 'exited', exit })),
    spawnFailed.then((error): StartOutcome => ({ kind: 'spawn-error', error })),
  ]);
  const poll = async (): Promise<StartOutcome> => {
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      try {
        const result = await httpCall(`${endpoint}/moto-api/`, 'GET', {
          timeoutMs: Math.max(100, Math.min(2_000, deadline - Date.now())),
          signal: stopSignal,
        });
        if (result.status === 200) return { kind: 'ready' };
      } catch {
        if (stopSignal.aborted) break;
        // Not listening yet.
      }
      await sleep(Math.min(pollIntervalMs, Math.max(0, deadline - Date.now())), stopSignal).catch(() => {});
      if (stopSignal.aborted) break;
    }
    return { kind: 'timeout' };
  };
  try {
    const outcome = await Promise.race([poll(), terminal]);
    if (signal?.aborted) throw signal.reason;
    return outcome;
  } finally {
    stop.abort();
  }
}

function missingMotoError(
  python: string,
  module: string,
  exit: ExitInfo,
  stderr: string,
  port: number,
  pid: number | undefined,
): ZonekeeperError {
  const importFailed = /ModuleNotFoundError|No module named|ImportError/.test(stderr);
  const how = exit.signal === null ? `exit code ${String(exit.code)}` : `signal ${exit.signal}`;
  const headline = importFailed
    ? `moto: ${python} cannot import ${module}. Install moto with: ${motoInstallHint} (or pass the \`python\` option / set ZONEKEEPER_MOTO_PYTHON to an interpreter that has it).`
    : `moto: the server process (${python} -m ${module}) exited with ${how} before it answered on 127.0.0.1:${port}. If moto is not installed, install it with: ${motoInstallHint}.`;
  return new ZonekeeperError(
    'UNAVAILABLE',
    `${headline}\n--- stderr (last lines) ---\n${stderr || '(empty)'}`,
    {
      retry: 'permanent',
      details: {
        python,
        module,
        port,
        pid,
        exitCode: exit.code,
        exitSignal: exit.signal,
        stderrTail: stderr,
      },
    },
  );
}

/**
 * Starts `python3 -m moto.server -H 127.0.0.1 -p <free port>` and resolves once it answers HTTP.
 *
 * The server listens on 127.0.0.1 only. It is tracked: if this process exits or is killed by
 * SIGINT/SIGTERM/SIGHUP without calling {@link MotoServer.stop}, the server is killed synchronously;
 * if this process dies without running any handler (SIGKILL), the server notices its parent is gone
 * and exits by itself (Linux parent-death signal, plus a parent-pid watcher). The child does not keep
 * the Node event loop alive.
 *
 * @example
 * ```ts
 * let moto: MotoServer;
 * beforeAll(async () => { moto = await startMoto(); });
 * afterAll(() => moto.stop());
 * const r53 = new Route53Client({ endpoint: moto.endpoint, region: 'us-east-1',
 *   credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
 * ```
 * @throws ZonekeeperError `INVALID_INPUT` for bad options; `UNAVAILABLE` (retry `permanent`) if
 * python or moto is missing or the server exits early, with the message naming
 * `pip install "moto[server]"` and the server's stderr tail; `TIMEOUT` if it does not answer within
 * `startTimeoutMs`. An abort re-throws `signal.reason`. In every failure the process is stopped first.
 * @public
 */
export async function startMoto(options: MotoOptions = {}): Promise<MotoServer> {
  validate(options);
  const { signal } = options;
  signal?.throwIfAborted();
  const python = options.python ?? process.env.ZONEKEEPER_MOTO_PYTHON ?? 'python3';
  const module = options.module ?? defaultModule;
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  const stopGraceMs = options.stopGraceMs ?? 3_000;
  const deadline = Date.now() + startTimeoutMs;
  const env = childEnv(options);

  // A port found free can be taken before moto binds it; try a few ports in that case.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const endpoint = `http://${loopback}:${port}`;
    const child = spawn(python, ['-c', bootstrap, module, '-H', loopback, '-p', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    const stderr = new Tail();
    child.stdout?.on('data', (c: Buffer) => stderr.push(c));
    child.stderr?.on('data', (c: Buffer) => stderr.push(c));
    const exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, exitSignal) => resolve({ code, signal: exitSignal }));
    });
    const spawnFailed = new Promise<NodeJS.ErrnoException>((resolve) => {
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (child.pid === undefined) resolve(error);
      });
    });
    if (child.pid !== undefined) trackChild(child);

    let outcome: StartOutcome;
    try {
      outcome = await waitUntilReady(child, endpoint, exited, spawnFailed, deadline, signal);
    } catch (error) {
      await terminate(child, exited, stopGraceMs);
      throw error;
    }

    if (outcome.kind === 'spawn-error') {
      const notFound = outcome.error.code === 'ENOENT';
      throw new ZonekeeperError(
        'UNAVAILABLE',
        notFound
          ? `moto: the Python interpreter ${JSON.stringify(python)} was not found. Install Python 3 and moto (${motoInstallHint}), or pass the \`python\` option / set ZONEKEEPER_MOTO_PYTHON.`
          : `moto: could not start ${JSON.stringify(python)}: ${outcome.error.message}. Check the \`python\` option; moto is installed with ${motoInstallHint}.`,
        { retry: 'permanent', cause: outcome.error, details: { python, module, errno: outcome.error.code } },
      );
    }
    if (outcome.kind === 'exited') {
      const tail = stderr.lines();
      if (/Address already in use/i.test(tail) && attempt < 3 && Date.now() < deadline) continue;
      throw missingMotoError(python, module, outcome.exit, tail, port, child.pid);
    }
    if (outcome.kind === 'timeout') {
      await terminate(child, exited, stopGraceMs);
      throw new ZonekeeperError(
        'TIMEOUT',
        `moto: the server (${python} -m ${module}) did not answer on ${endpoint} within ${startTimeoutMs} ms. Raise startTimeoutMs on a slow machine.\n--- stderr (last lines) ---\n${stderr.lines() || '(empty)'}`,
        { details: { python, module, port, pid: child.pid, startTimeoutMs } },
      );
    }

    // Ready. Don't let the server (or its pipes) keep this process alive; the exit hooks kill it.
    child.unref();
    for (const stream of [child.stdout, child.stderr]) {
      (stream as unknown as { unref?: () => void } | null)?.unref?.();
    }
    return motoHandle(child, endpoint, port, exited, stopGraceMs);
  }
}

function motoHandle(
  child: ChildProcess,
  endpoint: string,
  port: number,
  exited: Promise<ExitInfo>,
  stopGraceMs: number,
): MotoServer {
  let stopping: Promise<void> | undefined;
  const pid = child.pid as number;
  const stop = (): Promise<void> => {
    stopping ??= terminate(child, exited, stopGraceMs).finally(() => untrackChild(child));
    return stopping;
  };
  return {
    endpoint,
    port,
    pid,
    get exited() {
      return child.exitCode !== null || child.signalCode !== null;
    },
    reset: (options?: CallOptions) => resetMoto(endpoint, options),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
