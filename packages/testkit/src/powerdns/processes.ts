/**
 * Lists `pdns_server` processes started by {@link startPowerDns}, so tests can assert that none is
 * left behind.
 *
 * @packageDocumentation
 */

import { scanProcesses } from '../internal/proc.js';

/** A PowerDNS server process found by {@link listPowerDnsProcesses}. @public */
export interface PowerDnsProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** The `--config-dir` argument (the server's temporary directory). */
  readonly configDir: string | undefined;
  /** The command line, one element per argument. */
  readonly args: readonly string[];
}

/** Options of {@link listPowerDnsProcesses}. @public */
export interface ListPowerDnsProcessesOptions {
  /** Only children of this pid; `'any'` lists every one on the machine. Default `process.pid`. */
  readonly parentPid?: number | 'any';
}

/**
 * Lists running `pdns_server` processes whose `--config-dir` is a directory made by
 * {@link startPowerDns} (`zonekeeper-pdns-*`), by default only children of this process. Zombies are
 * not listed. Linux only (reads `/proc`); returns `[]` elsewhere.
 * @public
 */
export function listPowerDnsProcesses(options: ListPowerDnsProcessesOptions = {}): PowerDnsProcessInfo[] {
  return scanProcesses((args) => {
    if (!args.some((a) => /(^|\/)pdns_server$/.test(a))) return undefined;
    const configDir = args.find((a) => a.startsWith('--config-dir='))?.slice('--config-dir='.length);
    return configDir !== undefined && /zonekeeper-pdns-/.test(configDir) ? { configDir } : undefined;
  }, options.parentPid ?? process.pid);
}
