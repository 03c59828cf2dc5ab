/**
 * One scan of Linux's `/proc` for the servers testkit starts (moto, PowerDNS, Pebble), so each
 * module's `list…Processes` is its recogniser and nothing else.
 *
 * @internal
 * @packageDocumentation
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** A live process: pid, parent pid and command line. */
export interface ScannedProcess {
  readonly pid: number;
  readonly ppid: number;
  /** The command line, one element per argument. */
  readonly args: readonly string[];
}

/** Whether `/proc` can be scanned (Linux). */
export function hasProc(): boolean {
  return existsSync('/proc/self/stat');
}

/** Parent pid and state from `/proc/<pid>/stat` (the command name, in parentheses, may hold spaces). */
export function readStat(pid: number): { readonly ppid: number; readonly state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '?', ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/**
 * The live processes (zombies left out) whose command line `recognise` turns into a record, each with
 * its pid and parent pid; only children of `parentPid` unless it is `'any'`. `[]` without `/proc`.
 */
export function scanProcesses<T extends object>(
  recognise: (args: readonly string[]) => T | undefined,
  parentPid: number | 'any' = 'any',
): (T & ScannedProcess)[] {
  if (!hasProc()) return [];
  const found: (T & ScannedProcess)[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        .split('\0')
        .filter((a) => a.length > 0);
    } catch {
      continue; // exited while we looked
    }
    const record = recognise(args);
    if (record === undefined) continue;
    const stat = readStat(pid);
    // Zombies (exited, not yet reaped) have an empty cmdline, but check the state too.
    if (stat === undefined || stat.state === 'Z' || stat.state === 'X') continue;
    if (parentPid !== 'any' && stat.ppid !== parentPid) continue;
    found.push({ ...record, pid, ppid: stat.ppid, args });
  }
  return found;
}
