/**
 * Child-process bookkeeping for moto servers: every server this process starts is tracked until it
 * has exited, and killed synchronously if this process exits or is terminated by a signal first.
 * Also lists moto server processes found on the machine, so tests can assert nothing is left behind.
 *
 * @packageDocumentation
 */

import { type ChildProcess, execFileSync } from 'node:child_process';
import { isMainThread } from 'node:worker_threads';
import { ZonekeeperError } from '@zonekeeper/core';
import { hasProc, readStat, scanProcesses } from '../internal/proc.js';

const tracked = new Set<ChildProcess>();
const forwardedSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let hooksInstalled = false;

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Kills every tracked child with SIGKILL. Synchronous: safe inside an `exit` handler. */
function killTrackedSync(): void {
  for (const child of tracked) {
    if (!isRunning(child)) continue;
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone: nothing to clean up.
    }
  }
}

function onExit(): void {
  killTrackedSync();
}

function onSignal(signal: NodeJS.Signals): void {
  killTrackedSync();
  // We added a listener, which disables Node's default "terminate on signal". If nobody else listens,
  // restore the default and re-raise so the process still dies the way it was asked to.
  if (process.listenerCount(signal) === 1) {
    uninstallHooks();
    process.kill(process.pid, signal);
  }
}

const signalHandlers = new Map<NodeJS.Signals, () => void>(
  forwardedSignals.map((signal) => [signal, () => onSignal(signal)]),
);

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', onExit);
  // Signals are delivered to the main thread only.
  if (isMainThread) for (const [signal, handler] of signalHandlers) process.on(signal, handler);
}

function uninstallHooks(): void {
  if (!hooksInstalled) return;
  hooksInstalled = false;
  process.off('exit', onExit);
  for (const [signal, handler] of signalHandlers) process.off(signal, handler);
}

/**
 * Tracks `child` until it exits: if this process exits (normally, via `process.exit`, or on
 * SIGINT/SIGTERM/SIGHUP) while the child still runs, the child is killed with SIGKILL.
 * Hooks are installed with the first tracked child and removed when none is left.
 * @internal
 */
export function trackChild(child: ChildProcess): void {
  if (!isRunning(child)) return;
  tracked.add(child);
  installHooks();
  child.once('exit', () => untrackChild(child));
}

/** Stops tracking `child`. @internal */
export function untrackChild(child: ChildProcess): void {
  tracked.delete(child);
  if (tracked.size === 0) uninstallHooks();
}

/** Number of moto children this process still tracks (started and not yet exited). @internal */
export function trackedChildCount(): number {
  return tracked.size;
}

/**
 * A moto server process found by {@link listMotoProcesses}.
 * @public
 */
export interface MotoProcessInfo {
  /** Process id. */
  readonly pid: number;
  /** Parent process id. */
  readonly ppid: number;
  /** The port from the `-p`/`--port` argument, when present. */
  readonly port: number | undefined;
  /** The full command line, one element per argument. */
  readonly args: readonly string[];
}

/**
 * Options of {@link listMotoProcesses}.
 * @public
 */
export interface ListMotoProcessesOptions {
  /**
   * Only processes whose parent is this pid; `'any'` lists every moto server on the machine.
   * Default: `process.pid` (servers started by this process).
   */
  readonly parentPid?: number | 'any';
}

function isMotoServerCommand(args: readonly string[]): boolean {
  return args.some((arg) => arg === 'moto.server' || /(^|\/)moto_server$/.test(arg));
}

function portOf(args: readonly string[]): number | undefined {
  for (let i = 0; i < args.length - 1; i++) {
    if (args[i] === '-p' || args[i] === '--port') {
      const port = Number(args[i + 1]);
      return Number.isInteger(port) ? port : undefined;
    }
  }
  return undefined;
}

function listFromProc(): MotoProcessInfo[] {
  return scanProcesses((args) => (isMotoServerCommand(args) ? { port: portOf(args) } : undefined));
}

function listFromPs(): MotoProcessInfo[] {
  let out: string;
  try {
    out = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,stat=,args='], { encoding: 'utf8' });
  } catch (error) {
    throw new ZonekeeperError(
      'UNAVAILABLE',
      'moto: cannot list processes: /proc is missing and `ps` failed. Run on Linux or install procps.',
      { cause: error },
    );
  }
  const found: MotoProcessInfo[] = [];
  for (const line of out.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (match === null) continue;
    const [, pid, ppid, state, command] = match as unknown as [string, string, string, string, string];
    if (state.startsWith('Z')) continue;
    // `ps` joins arguments with spaces; good enough to recognise moto and its port.
    const args = command.split(/\s+/);
    if (!isMotoServerCommand(args)) continue;
    found.push({ pid: Number(pid), ppid: Number(ppid), port: portOf(args), args });
  }
  return found;
}

/**
 * Lists running moto server processes (command line containing `moto.server` or `moto_server`),
 * by default only those whose parent is this process. Zombies (exited, not yet reaped) are not
 * listed. Uses `/proc` on Linux and `ps` elsewhere.
 *
 * @example
 * ```ts
 * await moto.stop();
 * expect(listMotoProcesses()).toEqual([]);
 * ```
 * @public
 */
export function listMotoProcesses(options: ListMotoProcessesOptions = {}): MotoProcessInfo[] {
  const parent = options.parentPid ?? process.pid;
  const all = hasProc() ? listFromProc() : listFromPs();
  return parent === 'any' ? all : all.filter((p) => p.ppid === parent);
}

/**
 * True if a process with this pid exists and is not a zombie. Unlike `process.kill(pid, 0)`, this
 * reports an exited-but-unreaped child (whose parent has not waited for it yet) as not running.
 * @public
 */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // Without /proc, trust kill(0). With it, a zombie (or a process that vanished meanwhile) is not running.
  if (!hasProc()) return true;
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}
