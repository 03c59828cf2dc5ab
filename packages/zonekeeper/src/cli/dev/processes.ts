/**
 * The local backend's processes: spawning them detached (their own process group, output to a log
 * file, not tied to the command that started them), telling whether one still runs and is still ours,
 * asking it over HTTP whether it answers, and stopping it with its whole process group.
 *
 * @internal
 * @packageDocumentation
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import type { DevProcess } from './state.js';

/** The environment variable every backend process carries: the backend directory (for audits and tests). */
export const DEV_MARKER_VARIABLE = 'ZONEKEEPER_DEV_BACKEND';

/** A process just spawned, with the handle `dev up` watches until it is ready. */
export interface Spawned {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Settles when the process exits (while this command still runs). */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
  /** Set when the spawn itself failed (e.g. `ENOENT`: the executable does not exist). */
  spawnError: NodeJS.ErrnoException | undefined;
}

/**
 * Spawns `command args` detached: a new session and process group, stdin closed, stdout and stderr
 * appended to `log`, and no reference keeping this process's event loop alive. It outlives the command.
 */
export async function spawnDetached(
  command: string,
  args: readonly string[],
  options: { readonly log: string; readonly env: NodeJS.ProcessEnv; readonly cwd: string },
): Promise<Spawned> {
  const fd = openSync(options.log, 'a', 0o600);
  try {
    const child = spawn(command, [...args], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: options.env,
      cwd: options.cwd,
    });
    const spawned: Spawned = {
      child,
      pid: child.pid ?? 0,
      exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
      spawnError: undefined,
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      spawned.spawnError = error;
    });
    // Let a spawn error (ENOENT) surface before the caller looks at the pid.
    await new Promise<void>((resolve) => setImmediate(resolve));
    return spawned;
  } finally {
    closeSync(fd);
  }
}

/** Releases the handle: the command may exit while the process keeps running. */
export function release(spawned: Spawned): void {
  spawned.child.unref();
}

/** What the operating system says about a pid. */
export interface ProcessInfo {
  /** Running (a zombie — exited, waiting to be reaped — counts as gone). */
  readonly alive: boolean;
  /** Its arguments, when they could be read. */
  readonly argv?: readonly string[];
}

function psInfo(pid: number): ProcessInfo {
  try {
    const out = execFileSync('ps', ['-o', 'stat=', '-o', 'command=', '-p', String(pid)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (out === '') return { alive: false };
    const [stat = '', ...rest] = out.split(/\s+/);
    return { alive: !stat.startsWith('Z'), argv: rest };
  } catch {
    return { alive: false };
  }
}

/** Whether `pid` runs, and its arguments (Linux: `/proc`; elsewhere `ps`). */
export function processInfo(pid: number): ProcessInfo {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user, so it is not one of ours.
    return { alive: (error as NodeJS.ErrnoException).code === 'EPERM', argv: [] };
  }
  if (!existsSync('/proc/self/stat')) return psInfo(pid);
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((a) => a !== '');
    return { alive: state !== 'Z' && state !== 'X', argv };
  } catch {
    return { alive: false };
  }
}

/** Whether the process recorded in the state still runs and is the one `dev up` started. */
export function isOurs(p: DevProcess): boolean {
  const info = processInfo(p.pid);
  if (!info.alive || info.argv === undefined) return false;
  // `ps` joins arguments with spaces, so compare against the joined command line there.
  const line = info.argv.join(' ');
  return p.argvIncludes.every((a) => info.argv?.includes(a) || line.includes(a));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sends `signal` to the process group of `pid` (each backend process leads its own), else to `pid`. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!processInfo(pid).alive) return true;
    await sleep(50);
  }
  return !processInfo(pid).alive;
}

/**
 * Stops a process and its group: SIGTERM, then SIGKILL after `graceMs`. Resolves `true` once it is gone
 * (a zombie counts as gone), `false` if it still runs after the SIGKILL.
 */
export async function stopProcess(pid: number, graceMs = 3_000): Promise<boolean> {
  if (!processInfo(pid).alive) return true;
  signalGroup(pid, 'SIGTERM');
  if (await waitGone(pid, graceMs)) return true;
  signalGroup(pid, 'SIGKILL');
  return waitGone(pid, 2_000);
}

/** A free TCP port on 127.0.0.1 (bound to port 0, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One GET without keep-alive; resolves the status, or `undefined` when nothing answers in time. */
export function httpStatus(
  url: string,
  options: { readonly ca?: string; readonly timeoutMs?: number } = {},
): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = request(
      url,
      {
        method: 'GET',
        agent: false,
        timeout: options.timeoutMs ?? 2_000,
        ...(options.ca ? { ca: options.ca } : {}),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
        res.on('error', () => resolve(res.statusCode));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** The URL whose 200 says a backend process serves. */
export function healthUrl(p: Pick<DevProcess, 'kind' | 'endpoint'>): string | undefined {
  if (p.endpoint === undefined) return undefined;
  switch (p.kind) {
    case 'moto':
      return `${p.endpoint}/moto-api/`;
    case 'vault':
      return `${p.endpoint}/v1/sys/health`;
    case 'kubernetes':
      return `${p.endpoint}/readyz`;
    case 'dns':
      return undefined;
  }
}

/** Whether a DNS server at `dns://127.0.0.1:<port>` answers a question (any answer counts, REFUSED too). */
async function dnsAnswers(endpoint: string, timeoutMs: number): Promise<boolean> {
  const port = Number(/^dns:\/\/127\.0\.0\.1:(\d+)$/.exec(endpoint)?.[1] ?? Number.NaN);
  if (!Number.isInteger(port)) return false;
  const { lookupTxt } = await import('@zonekeeper/zone-manager');
  const { status } = await lookupTxt({ address: '127.0.0.1', port }, 'health.zonekeeper.invalid', {
    timeoutMs,
    attempts: 1,
  });
  return status !== 'timeout' && status !== 'error';
}

/** Whether a backend process answers its health URL with 200. */
export async function answers(p: DevProcess, timeoutMs = 2_000): Promise<boolean> {
  if (p.kind === 'dns') return p.endpoint === undefined ? false : dnsAnswers(p.endpoint, timeoutMs);
  const url = healthUrl(p);
  if (url === undefined) return false;
  return (await httpStatus(url, { timeoutMs, ...(p.ca ? { ca: p.ca } : {}) })) === 200;
}
