/**
 * Real DNS from tests: `dig` and `nsupdate` (Debian `bind9-dnsutils`) run as processes against a server
 * on 127.0.0.1, with their answers parsed. Nothing here reads a record through an API.
 *
 * @packageDocumentation
 */

import { spawn } from 'node:child_process';
import { type CallOptions, invalidInput, ZonekeeperError } from '@zonekeeper/core';

/** The Debian package that provides `dig` and `nsupdate`. @public */
export const dnsUtilsInstallHint = 'apt-get install -y bind9-dnsutils';

/** A DNS server address for {@link dig} and {@link nsupdate}. @public */
export interface DnsServerAddress {
  /** Default `127.0.0.1`. */
  readonly address?: string;
  readonly port: number;
}

/** One resource record as `dig` prints it. @public */
export interface DigRecord {
  /** Owner name, lowercase, without the trailing dot. */
  readonly name: string;
  readonly ttl: number;
  readonly type: string;
  /** The rdata in presentation format, as printed (`"a b" "c"` for a TXT record). */
  readonly data: string;
}

/** What {@link dig} saw. @public */
export interface DigAnswer {
  /** The response code: `NOERROR`, `NXDOMAIN`, `REFUSED`, `SERVFAIL`, `NOTAUTH`, … */
  readonly status: string;
  /** Header flags, e.g. `['qr', 'aa']`. */
  readonly flags: readonly string[];
  /** True if the `aa` flag is set. */
  readonly authoritative: boolean;
  readonly answer: readonly DigRecord[];
  readonly authority: readonly DigRecord[];
  readonly additional: readonly DigRecord[];
  /** The record data of the answer section whose type is the queried one, sorted. */
  readonly values: readonly string[];
}

/** Options of {@link dig}. @public */
export interface DigOptions extends CallOptions {
  /** Use TCP (`+tcp`; default UDP). */
  readonly tcp?: boolean;
  /** Seconds per try (default 2). */
  readonly timeSeconds?: number;
  /** Tries (default 1). */
  readonly tries?: number;
  /** The dig binary (default `dig`). */
  readonly binary?: string;
}

/** A TSIG key for {@link nsupdate}. The secret goes to nsupdate's standard input, never its arguments. @public */
export interface NsupdateKey {
  readonly name: string;
  /** Default `hmac-sha256`. */
  readonly algorithm?: string;
  /** Base64. A secret: never log it. */
  readonly secret: string;
}

/** Options of {@link nsupdate}. @public */
export interface NsupdateOptions extends CallOptions {
  /** The zone to update (`zone` statement). */
  readonly zone: string;
  /** Update lines without the `update ` prefix, e.g. `add www.example.com 60 A 192.0.2.1`. */
  readonly updates: readonly string[];
  /** Sign with this key (default: unsigned). */
  readonly key?: NsupdateKey;
  /** Seconds to wait for the answer (default 5). */
  readonly timeoutSeconds?: number;
  /** The nsupdate binary (default `nsupdate`). */
  readonly binary?: string;
}

/** What {@link nsupdate} saw. @public */
export interface NsupdateResult {
  /** True if the server answered NOERROR. */
  readonly ok: boolean;
  /** The response code: `NOERROR`, `REFUSED`, `NOTAUTH`, `SERVFAIL`, `NOTZONE`, … or `TIMEOUT`. */
  readonly rcode: string;
  /** nsupdate's standard error, trimmed (never contains the key). */
  readonly stderr: string;
}

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runTool(
  binary: string,
  args: readonly string[],
  input: string | undefined,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const child = spawn(binary, [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const onAbort = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(
        error.code === 'ENOENT'
          ? new ZonekeeperError(
              'UNAVAILABLE',
              `${binary} was not found. Install it with: ${dnsUtilsInstallHint} (.ci/run installs it).`,
              { retry: 'permanent', cause: error },
            )
          : error,
      );
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) reject(signal.reason);
      else resolve({ code, stdout, stderr });
    });
    // A tool that exits before reading its input (dig never reads it) closes the pipe: EPIPE on stdin
    // is not an error of the run, whose exit code and output say what happened.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

function parseRecord(line: string): DigRecord | undefined {
  const m = /^(\S+)\s+(\d+)\s+IN\s+(\S+)\s+(.*)$/.exec(line.trim());
  if (!m) return undefined;
  const [, owner, ttl, type, data] = m as unknown as [string, string, string, string, string];
  return { name: owner.replace(/\.$/, '').toLowerCase(), ttl: Number(ttl), type, data: data.trim() };
}

/** Parses `dig` output (default format). @internal */
export function parseDigOutput(output: string, queriedType: string): DigAnswer {
  const header = /->>HEADER<<-.*status: ([A-Z]+)/.exec(output);
  const flagsLine = /;; flags:([^;]*);/.exec(output);
  const flags = (flagsLine?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
  const sections: Record<'answer' | 'authority' | 'additional', DigRecord[]> = {
    answer: [],
    authority: [],
    additional: [],
  };
  let current: keyof typeof sections | undefined;
  for (const line of output.split('\n')) {
    const section = /^;; (ANSWER|AUTHORITY|ADDITIONAL) SECTION:/.exec(line);
    if (section) {
      current = (section[1] as string).toLowerCase() as keyof typeof sections;
      continue;
    }
    if (line.trim() === '' || line.startsWith(';')) {
      if (line.trim() === '') current = undefined;
      continue;
    }
    const record = current && parseRecord(line);
    if (current && record) sections[current].push(record);
  }
  const type = queriedType.toUpperCase();
  return {
    status: header?.[1] ?? 'UNKNOWN',
    flags,
    authoritative: flags.includes('aa'),
    ...sections,
    values: sections.answer
      .filter((r) => r.type === type)
      .map((r) => r.data)
      .sort(),
  };
}

const NAME = /^[A-Za-z0-9_*.-]{1,253}$/;
const TYPE = /^[A-Za-z0-9]{1,10}$/;

/**
 * Asks `server` one question with `dig` (no recursion) and parses the answer.
 *
 * @example
 * ```ts
 * const a = await dig({ port: pdns.dnsPort }, 'www.acme.example.com', 'A');
 * expect(a.status).toBe('NOERROR');
 * expect(a.values).toEqual(['192.0.2.10']);
 * ```
 * @throws ZonekeeperError `INVALID_INPUT` for a bad name or type; `UNAVAILABLE` (permanent) naming
 * `apt-get install -y bind9-dnsutils` when dig is missing; `TIMEOUT` when dig gets no answer.
 * @public
 */
export async function dig(
  server: DnsServerAddress,
  name: string,
  type: string,
  options: DigOptions = {},
): Promise<DigAnswer> {
  if (!NAME.test(name)) throw invalidInput(`dig: ${JSON.stringify(name)} is not a DNS name.`);
  if (!TYPE.test(type)) throw invalidInput(`dig: ${JSON.stringify(type)} is not a record type.`);
  if (!Number.isInteger(server.port) || server.port < 1 || server.port > 65_535) {
    throw invalidInput(`dig: port ${String(server.port)} is not a port number.`);
  }
  const time = options.timeSeconds ?? 2;
  const tries = options.tries ?? 1;
  const args = [
    `@${server.address ?? '127.0.0.1'}`,
    '-p',
    String(server.port),
    '+norecurse',
    `+time=${time}`,
    `+tries=${tries}`,
    '+nocmd',
    '+nostats',
    ...(options.tcp ? ['+tcp'] : []),
    name,
    type.toUpperCase(),
  ];
  const ran = await runTool(
    options.binary ?? 'dig',
    args,
    undefined,
    (time * tries + 5) * 1_000,
    options.signal,
  );
  if (!/->>HEADER<<-/.test(ran.stdout)) {
    throw new ZonekeeperError(
      'TIMEOUT',
      `dig: no answer from ${server.address ?? '127.0.0.1'}:${server.port} for ${name} ${type}: ${(ran.stdout + ran.stderr).trim().slice(-300)}`,
    );
  }
  return parseDigOutput(ran.stdout, type);
}

/**
 * Sends one RFC 2136 update with `nsupdate`, signed with `key` if given. The key goes to nsupdate's
 * standard input (a `key` statement), never to its command line.
 *
 * @example
 * ```ts
 * const r = await nsupdate({ port: pdns.dnsPort }, {
 *   zone: 'acme.example.com', key, updates: ['add www.acme.example.com 60 A 192.0.2.10'],
 * });
 * expect(r.rcode).toBe('NOERROR');
 * ```
 * @throws ZonekeeperError `INVALID_INPUT` for lines with newlines or a bad zone; `UNAVAILABLE`
 * (permanent) naming `apt-get install -y bind9-dnsutils` when nsupdate is missing.
 * @public
 */
export async function nsupdate(server: DnsServerAddress, options: NsupdateOptions): Promise<NsupdateResult> {
  if (!NAME.test(options.zone))
    throw invalidInput(`nsupdate: ${JSON.stringify(options.zone)} is not a zone.`);
  const unsafe = (s: string) => /[\r\n]/.test(s);
  if (options.updates.length === 0 || options.updates.some(unsafe)) {
    throw invalidInput('nsupdate: give at least one update line, without newlines.');
  }
  const key = options.key;
  if (
    key &&
    (unsafe(key.name) || unsafe(key.secret) || unsafe(key.algorithm ?? '') || !NAME.test(key.name))
  ) {
    throw invalidInput('nsupdate: the key name, algorithm and secret must be single-line values.');
  }
  const timeout = options.timeoutSeconds ?? 5;
  const script = [
    `server ${server.address ?? '127.0.0.1'} ${server.port}`,
    `zone ${options.zone}`,
    ...(key ? [`key ${key.algorithm ?? 'hmac-sha256'}:${key.name} ${key.secret}`] : []),
    ...options.updates.map((u) => `update ${u}`),
    'send',
    '',
  ].join('\n');
  const ran = await runTool(
    options.binary ?? 'nsupdate',
    ['-t', String(timeout), '-v'],
    script,
    (timeout + 5) * 1_000,
    options.signal,
  );
  const stderr = (key ? ran.stderr.split(key.secret).join('<secret>') : ran.stderr).trim();
  if (ran.code === 0) return { ok: true, rcode: 'NOERROR', stderr };
  const failed = /update failed: ([A-Z]+)(?:\(([A-Z]+)\))?/.exec(stderr);
  const rcode =
    failed?.[1] ?? (/timed out|no response|connection refused/i.test(stderr) ? 'TIMEOUT' : 'ERROR');
  return { ok: false, rcode, stderr };
}
