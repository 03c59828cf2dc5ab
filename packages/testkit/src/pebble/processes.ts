/**
 * Lists `pebble` processes started by `startPebble`, so tests can assert that none is left
 * behind.
 *
 * @packageDocumentation
 */

import { scanProcesses } from '../internal/proc.js';

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

/**
 * Lists running `pebble` processes whose `-config` lies in a directory made by `startPebble`
 * (`zonekeeper-pebble-*`), by default only children of this process. Zombies are not listed. Linux
 * only (reads `/proc`); returns `[]` elsewhere.
 * @public
 */
export function listPebbleProcesses(options: ListPebbleProcessesOptions = {}): PebbleProcessInfo[] {
  return scanProcesses((args) => {
    // setpriv execs pebble in place: a process whose first argument is still setpriv is not Pebble yet.
    if (!/(^|\/)pebble(-v[0-9][0-9.]*)?$/.test(args[0] ?? '') || !args.includes('-config')) return undefined;
    const configPath = args[args.indexOf('-config') + 1];
    return configPath !== undefined && /zonekeeper-pebble-/.test(configPath) ? { configPath } : undefined;
  }, options.parentPid ?? process.pid);
}
