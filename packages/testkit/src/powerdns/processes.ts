/**
 * Lists `pdns_server` processes started by {@link startPowerDns}, so tests can assert that none is
 * left behind.
 *
 * @packageDocumentation
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';

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
 * Lists running `pdns_server` processes whose `--config-dir` is a directory made by
 * {@link startPowerDns} (`zonekeeper-pdns-*`), by default only children of this process. Zombies are
 * not listed. Linux only (reads `/proc`); returns `[]` elsewhere.
 * @public
 */
export function listPowerDnsProcesses(options: ListPowerDnsProcessesOptions = {}): PowerDnsProcessInfo[] {
  if (!existsSync('/proc/self/stat')) return [];
  const parent = options.parentPid ?? process.pid;
  const found: PowerDnsProcessInfo[] = [];
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
    if (!args.some((a) => /(^|\/)pdns_server$/.test(a))) continue;
    const configDir = args.find((a) => a.startsWith('--config-dir='))?.slice('--config-dir='.length);
    if (configDir === undefined || !/zonekeeper-pdns-/.test(configDir)) continue;
    const s = stat(pid);
    if (s === undefined || s.state === 'Z' || s.state === 'X') continue;
    if (parent !== 'any' && s.ppid !== parent) continue;
    found.push({ pid, ppid: s.ppid, configDir, args });
  }
  return found;
}
