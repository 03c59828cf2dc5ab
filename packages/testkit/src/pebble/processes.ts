/**
 * Lists `pebble` processes started by `startPebble`, so tests can assert that none is left
 * behind.
 *
 * @packageDocumentation
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** A Pebble process found by {@link listPebbleProcesses}. @public */
export interface PebbleProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** The `-config` argument (a file in the server's temporary directory). */
  readonly configPath: string | undefined;
  /** The command line, one element per argument. */
  readonly args: readonly string[];
}

/** Options of {@link listPebbleProcesses}. @public */
export interface ListPebbleProcessesOptions {
  /** Only children of this pid; `'any'` lists every one on the machine. Default `process.pid`. */
  readonly parentPid?: number | 'any';
}

function stat(pid: number): { ppid: number; state: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '?', ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/**
 * Lists running `pebble` processes whose `-config` lies in a directory made by `startPebble`
 * (`zonekeeper-pebble-*`), by default only children of this process. Zombies are not listed. Linux
 * only (reads `/proc`); returns `[]` elsewhere.
 * @public
 */
export function listPebbleProcesses(options: ListPebbleProcessesOptions = {}): PebbleProcessInfo[] {
  if (!existsSync('/proc/self/stat')) return [];
  const parent = options.parentPid ?? process.pid;
  const found: PebbleProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        .split('\0')
        .filter((a) => a.length > 0);
    } catch {
      continue;
    }
    // setpriv execs pebble in place: a process whose first argument is still setpriv is not Pebble yet.
    if (!/(^|\/)pebble$/.test(args[0] ?? '')) continue;
    const configPath = args[args.indexOf('-config') + 1];
    if (!args.includes('-config') || configPath === undefined || !/zonekeeper-pebble-/.test(configPath))
      continue;
    const s = stat(pid);
    if (s === undefined || s.state === 'Z' || s.state === 'X') continue;
    if (parent !== 'any' && s.ppid !== parent) continue;
    found.push({ pid, ppid: s.ppid, configPath, args });
  }
  return found;
}
