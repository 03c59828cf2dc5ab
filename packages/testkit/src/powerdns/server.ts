/**
 * Starts and stops a real PowerDNS Authoritative Server (`pdns_server`, Debian `pdns-server` with
 * `pdns-backend-sqlite3`) on 127.0.0.1 for tests: a fresh sqlite3 database made from the schema the
 * package ships, a free DNS port (UDP and TCP), a free HTTP API port with a random API key, and RFC 2136
 * dynamic updates enabled.
 *
 * @packageDocumentation
 */

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CallOptions, invalidInput, sleep, ZonekeeperError } from '@zonekeeper/core';
import { type ExitInfo, hasSetpriv, terminate } from '../internal/child.js';
import { trackChild, untrackChild } from '../moto/processes.js';

/** The Debian packages that provide `pdns_server`, its sqlite3 backend and the sqlite3 CLI. @public */
export const powerDnsInstallHint = 'apt-get install -y pdns-server pdns-backend-sqlite3 sqlite3';

/** Where Debian's `pdns-backend-sqlite3` ships its schema (first existing path wins). @public */
export const POWERDNS_SQLITE_SCHEMA_PATHS: readonly string[] = [
  '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql',
  '/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql',
];

/** RFC 2136 settings of the test server. @public */
export interface PowerDnsUpdateOptions {
  /**
   * `allow-dnsupdate-from`: networks allowed to update *every* zone without per-zone metadata
   * (default `[]`: none, so a zone is updatable only through its own `ALLOW-DNSUPDATE-FROM` and
   * `TSIG-ALLOW-DNSUPDATE` metadata — PowerDNS's own default, `127.0.0.0/8`, would let any local
   * process change any zone without a key).
   */
  readonly allowFrom?: readonly string[];
  /**
   * Lua source of a `lua-dnsupdate-policy-script` (function `updatepolicy`). When set, PowerDNS hands
   * every authorisation decision of an update to it and ignores `allow-dnsupdate-from`,
   * `ALLOW-DNSUPDATE-FROM` and `TSIG-ALLOW-DNSUPDATE` (PowerDNS 4.7). Default: none.
   */
  readonly policyScript?: string;
}

/** Options of {@link startPowerDns}. @public */
export interface PowerDnsOptions extends CallOptions {
  /**
   * The server binary. Default: the `ZONEKEEPER_PDNS_SERVER` environment variable, else
   * `/usr/sbin/pdns_server` if it exists, else `pdns_server` on `PATH`.
   */
  readonly pdnsServer?: string;
  /** The sqlite3 command-line tool used to create the database (default `sqlite3` on `PATH`). */
  readonly sqlite3?: string;
  /** The schema file (default: the first of {@link POWERDNS_SQLITE_SCHEMA_PATHS} that exists). */
  readonly schemaPath?: string;
  /** The API key (default: 32 random bytes, hex). Never logged. */
  readonly apiKey?: string;
  /** Dynamic DNS update settings (updates are always enabled: `dnsupdate=yes`). */
  readonly dnsUpdate?: PowerDnsUpdateOptions;
  /**
   * Extra `pdns.conf` settings, name → value, written after zonekeeper's own (a later line wins), e.g.
   * `{ 'default-ttl': '60' }`. Do not override the listening addresses or ports.
   */
  readonly settings?: Readonly<Record<string, string>>;
  /** How long to wait for the API and DNS to answer (default 20 000 ms). */
  readonly startTimeoutMs?: number;
  /** How long {@link PowerDnsServer.stop} waits after SIGTERM before SIGKILL (default 3 000 ms). */
  readonly stopGraceMs?: number;
}

/** A running PowerDNS server from {@link startPowerDns}. Dispose with `await using` or `stop()`. @public */
export interface PowerDnsServer extends AsyncDisposable {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:41234/api/v1`. No trailing slash. */
  readonly apiUrl: string;
  /** The API key (`X-API-Key`). A secret: never log it. */
  readonly apiKey: string;
  /** The server id in API paths: `localhost`. */
  readonly serverId: string;
  /** `127.0.0.1`. */
  readonly dnsAddress: string;
  /** The DNS port, UDP and TCP, on 127.0.0.1. */
  readonly dnsPort: number;
  /** The HTTP API port on 127.0.0.1. */
  readonly apiPort: number;
  /** Process id of `pdns_server`. */
  readonly pid: number;
  /** True once the process has exited. */
  readonly exited: boolean;
  /** The temporary directory with `pdns.conf`, the database and the control socket (removed by stop). */
  readonly dataDir: string;
  /** The last lines the server logged (bounded), for failure messages. */
  logTail(): string;
  /** SIGTERM, then SIGKILL after `stopGraceMs`; resolves once the process is reaped. Idempotent. */
  stop(): Promise<void>;
}

const loopback = '127.0.0.1';
const logTailBytes = 8_000;
const logTailLines = 30;
const pollIntervalMs = 50;

class Tail {
  private text = '';
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-logTailBytes);
  }
  lines(): string {
    return this.text.trimEnd().split('\n').slice(-logTailLines).join('\n');
  }
}

/** A port free on 127.0.0.1 for TCP and, when asked, for UDP too (bind both, read, release). */
async function freePort(udpToo: boolean): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.once('error', reject);
      server.listen(0, loopback, () => {
        const address = server.address();
        const p = typeof address === 'object' && address !== null ? address.port : 0;
        server.close(() => resolve(p));
      });
    });
    if (!udpToo) return port;
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.unref();
      socket.once('error', () => resolve(false));
      socket.bind(port, loopback, () => socket.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new ZonekeeperError('UNAVAILABLE', 'PowerDNS: found no port free for both UDP and TCP on 127.0.0.1.');
}

function httpStatus(url: string, apiKey: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = httpRequest(
      url,
      { method: 'GET', agent: false, timeout: timeoutMs, headers: { 'X-API-Key': apiKey } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** Sends one `. SOA` query over UDP; true if any response with our id arrives within `timeoutMs`. */
function dnsAnswers(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const id = randomBytes(2);
    // Header: id, flags 0 (no recursion), 1 question; question: root name, type SOA (6), class IN (1).
    const query = Buffer.concat([
      id,
      Buffer.from([0, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
      Buffer.from([0, 0, 6, 0, 1]),
    ]);
    const socket = createSocket('udp4');
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('error', () => done(false));
    socket.on('message', (msg) => {
      if (msg.length >= 2 && msg[0] === id[0] && msg[1] === id[1]) done(true);
    });
    socket.send(query, port, loopback);
  });
}

function run(command: string, args: readonly string[], input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, [...args], { timeout: 20_000 }, (error, _stdout, stderr) => {
      if (error) reject(Object.assign(error, { stderr: String(stderr) }));
      else resolve();
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

function defaultBinary(): string {
  const fromEnv = process.env.ZONEKEEPER_PDNS_SERVER;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv;
  return existsSync('/usr/sbin/pdns_server') ? '/usr/sbin/pdns_server' : 'pdns_server';
}

function validate(options: PowerDnsOptions): void {
  for (const key of ['startTimeoutMs', 'stopGraceMs'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      throw invalidInput(`PowerDNS: ${key} must be a positive number of milliseconds, got ${String(value)}.`);
    }
  }
  if (options.apiKey !== undefined && !/^[\x21-\x7e]{8,256}$/.test(options.apiKey)) {
    throw invalidInput('PowerDNS: apiKey must be 8–256 printable ASCII characters without spaces.');
  }
  for (const [name, value] of Object.entries(options.settings ?? {})) {
    if (!/^[a-z0-9-]+$/.test(name) || /[\r\n]/.test(value)) {
      throw invalidInput(
        `PowerDNS: setting ${JSON.stringify(name)} must be a lowercase pdns.conf name with a one-line value.`,
      );
    }
  }
  for (const net of options.dnsUpdate?.allowFrom ?? []) {
    if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(net)) {
      throw invalidInput(`PowerDNS: allowFrom entry ${JSON.stringify(net)} is not an address or CIDR.`);
    }
  }
}

function missingError(what: string, cause?: unknown): ZonekeeperError {
  return new ZonekeeperError(
    'UNAVAILABLE',
    `PowerDNS: ${what}. Install it with: ${powerDnsInstallHint} (Debian packages; .ci/run installs them).`,
    { retry: 'permanent', ...(cause === undefined ? {} : { cause }) },
  );
}

function configText(
  dir: string,
  dnsPort: number,
  apiPort: number,
  apiKey: string,
  options: PowerDnsOptions,
): string {
  const update = options.dnsUpdate ?? {};
  const lines = [
    'daemon=no',
    'guardian=no',
    'disable-syslog=yes',
    'log-timestamp=no',
    'loglevel=4',
    `socket-dir=${dir}`,
    `local-address=${loopback}`,
    `local-port=${dnsPort}`,
    'launch=gsqlite3',
    `gsqlite3-database=${join(dir, 'pdns.sqlite3')}`,
    'gsqlite3-pragma-synchronous=0',
    'webserver=yes',
    `webserver-address=${loopback}`,
    `webserver-port=${apiPort}`,
    `webserver-allow-from=${loopback}`,
    'api=yes',
    `api-key=${apiKey}`,
    'dnsupdate=yes',
    `allow-dnsupdate-from=${(update.allowFrom ?? []).join(' ')}`,
    // No zone transfers: AXFR would let anyone on loopback read every zone.
    'disable-axfr=yes',
    // No outgoing DNS: no security polling, no NOTIFY to the zones' name servers.
    'security-poll-suffix=',
    'only-notify=',
    // Answers reflect API and RFC 2136 changes at once.
    'cache-ttl=0',
    'negquery-cache-ttl=0',
    'query-cache-ttl=0',
    'zone-cache-refresh-interval=0',
  ];
  if (update.policyScript !== undefined) {
    const script = join(dir, 'dnsupdate-policy.lua');
    writeFileSync(script, update.policyScript, { mode: 0o600 });
    lines.push(`lua-dnsupdate-policy-script=${script}`);
  }
  for (const [name, value] of Object.entries(options.settings ?? {})) lines.push(`${name}=${value}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Starts `pdns_server` on 127.0.0.1 with a fresh sqlite3 database and resolves once both its HTTP API
 * and its DNS port answer.
 *
 * The server runs in the foreground (`daemon=no`, `guardian=no`) as a child of this process, listens
 * on 127.0.0.1 only (DNS on a free UDP+TCP port, the API on another free port, `X-API-Key` random), has
 * `dnsupdate=yes` with `allow-dnsupdate-from` empty (per-zone metadata decides), AXFR disabled, no
 * outgoing queries and no caches. If this process exits or is killed by SIGINT/SIGTERM/SIGHUP, the server
 * is killed synchronously; if it dies without running any handler (SIGKILL), the kernel kills the
 * server (parent-death signal set with `setpriv --pdeathsig KILL`, util-linux).
 *
 * @example
 * ```ts
 * let pdns: PowerDnsServer;
 * beforeAll(async () => { pdns = await startPowerDns(); });
 * afterAll(() => pdns.stop());
 * // fetch(`${pdns.apiUrl}/servers/localhost/zones`, { headers: { 'X-API-Key': pdns.apiKey } })
 * ```
 * @throws ZonekeeperError `INVALID_INPUT` for bad options; `UNAVAILABLE` (retry `permanent`) naming
 * `apt-get install -y pdns-server pdns-backend-sqlite3 sqlite3` when the binary, the backend, the
 * schema or sqlite3 is missing or the server exits early (with its log tail); `TIMEOUT` if it does not
 * answer within `startTimeoutMs`. An abort re-throws `signal.reason`. The process is stopped first.
 * @public
 */
export async function startPowerDns(options: PowerDnsOptions = {}): Promise<PowerDnsServer> {
  validate(options);
  const { signal } = options;
  signal?.throwIfAborted();
  const binary = options.pdnsServer ?? defaultBinary();
  const sqlite3 = options.sqlite3 ?? 'sqlite3';
  const schema = options.schemaPath ?? POWERDNS_SQLITE_SCHEMA_PATHS.find((p) => existsSync(p));
  if (schema === undefined || !existsSync(schema)) {
    throw missingError(
      `the sqlite3 schema of pdns-backend-sqlite3 was not found (looked in ${(options.schemaPath === undefined ? POWERDNS_SQLITE_SCHEMA_PATHS : [options.schemaPath]).join(', ')})`,
    );
  }
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  const stopGraceMs = options.stopGraceMs ?? 3_000;
  const deadline = Date.now() + startTimeoutMs;
  const apiKey = options.apiKey ?? randomBytes(32).toString('hex');

  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'zonekeeper-pdns-'));
    const removeDir = () => rmSync(dir, { recursive: true, force: true });
    try {
      await run(sqlite3, [join(dir, 'pdns.sqlite3')], `.read ${schema}\n`);
    } catch (error) {
      removeDir();
      const notFound = (error as NodeJS.ErrnoException).code === 'ENOENT';
      throw notFound
        ? missingError(`the sqlite3 command-line tool ${JSON.stringify(sqlite3)} was not found`, error)
        : new ZonekeeperError(
            'UNAVAILABLE',
            `PowerDNS: creating the database from ${schema} failed: ${String((error as { stderr?: unknown }).stderr ?? error).slice(0, 500)}`,
            { retry: 'permanent', cause: error },
          );
    }
    const dnsPort = await freePort(true);
    const apiPort = await freePort(false);
    writeFileSync(join(dir, 'pdns.conf'), configText(dir, dnsPort, apiPort, apiKey, options), {
      mode: 0o600,
    });
    // The API key is in pdns.conf (mode 0600), never on the command line.
    const args = [`--config-dir=${dir}`];
    const [command, commandArgs] = hasSetpriv()
      ? ['setpriv', ['--pdeathsig', 'KILL', '--', binary, ...args]]
      : [binary, args];
    const child = spawn(command, commandArgs as string[], { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = new Tail();
    child.stdout?.on('data', (c: Buffer) => log.push(c));
    child.stderr?.on('data', (c: Buffer) => log.push(c));
    const exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, exitSignal) => resolve({ code, signal: exitSignal }));
    });
    const spawnFailed = new Promise<NodeJS.ErrnoException>((resolve) => {
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (child.pid === undefined) resolve(error);
      });
    });
    if (child.pid !== undefined) trackChild(child);
    const apiUrl = `http://${loopback}:${apiPort}/api/v1`;

    type Outcome = 'ready' | 'timeout' | { exit: ExitInfo } | { spawnError: NodeJS.ErrnoException };
    const stopPolling = new AbortController();
    const pollSignal =
      signal === undefined ? stopPolling.signal : AbortSignal.any([signal, stopPolling.signal]);
    const poll = async (): Promise<Outcome> => {
      let apiReady = false;
      while (Date.now() < deadline && !pollSignal.aborted) {
        const left = Math.max(100, Math.min(2_000, deadline - Date.now()));
        if (!apiReady) apiReady = (await httpStatus(`${apiUrl}/servers/localhost`, apiKey, left)) === 200;
        if (apiReady && (await dnsAnswers(dnsPort, Math.min(left, 500)))) return 'ready';
        await sleep(pollIntervalMs, pollSignal).catch(() => {});
      }
      return 'timeout';
    };
    let outcome: Outcome;
    try {
      outcome = await Promise.race([
        poll(),
        exited.then((exit): Outcome => ({ exit })),
        spawnFailed.then((spawnError): Outcome => ({ spawnError })),
      ]);
      if (signal?.aborted) throw signal.reason;
    } catch (error) {
      await terminate(child, exited, stopGraceMs);
      removeDir();
      throw error;
    } finally {
      stopPolling.abort();
    }

    if (outcome === 'ready') {
      child.unref();
      for (const stream of [child.stdout, child.stderr]) {
        (stream as unknown as { unref?: () => void } | null)?.unref?.();
      }
      return handle(child, exited, { apiUrl, apiKey, dnsPort, apiPort, dir, log, stopGraceMs });
    }
    if (typeof outcome === 'object' && 'spawnError' in outcome) {
      removeDir();
      throw outcome.spawnError.code === 'ENOENT'
        ? missingError(
            `${JSON.stringify(hasSetpriv() ? 'setpriv' : binary)} was not found (set the pdnsServer option or ZONEKEEPER_PDNS_SERVER for another path)`,
            outcome.spawnError,
          )
        : new ZonekeeperError(
            'UNAVAILABLE',
            `PowerDNS: could not start ${binary}: ${outcome.spawnError.message}`,
            {
              retry: 'permanent',
              cause: outcome.spawnError,
            },
          );
    }
    const tail = log.lines();
    if (typeof outcome === 'object') {
      removeDir();
      // A port taken between our check and the server's bind: try other ports.
      if (/Unable to bind|Address already in use/i.test(tail) && attempt < 3 && Date.now() < deadline)
        continue;
      const how =
        outcome.exit.signal === null
          ? `exit code ${String(outcome.exit.code)}`
          : `signal ${outcome.exit.signal}`;
      const notInstalled = /No such file|not found|Unable to load module|execvp/i.test(tail);
      throw new ZonekeeperError(
        'UNAVAILABLE',
        `PowerDNS: ${binary} exited with ${how} before it answered on 127.0.0.1:${dnsPort}.${notInstalled ? ` Is it installed? ${powerDnsInstallHint}` : ''}\n--- log (last lines) ---\n${tail || '(empty)'}`,
        { retry: 'permanent', details: { binary, dnsPort, apiPort, exitCode: outcome.exit.code } },
      );
    }
    await terminate(child, exited, stopGraceMs);
    removeDir();
    throw new ZonekeeperError(
      'TIMEOUT',
      `PowerDNS: ${binary} did not answer on 127.0.0.1:${dnsPort} (DNS) and :${apiPort} (API) within ${startTimeoutMs} ms. Raise startTimeoutMs on a slow machine.\n--- log (last lines) ---\n${tail || '(empty)'}`,
      { details: { binary, dnsPort, apiPort, startTimeoutMs } },
    );
  }
}

function handle(
  child: ChildProcess,
  exited: Promise<ExitInfo>,
  facts: {
    apiUrl: string;
    apiKey: string;
    dnsPort: number;
    apiPort: number;
    dir: string;
    log: Tail;
    stopGraceMs: number;
  },
): PowerDnsServer {
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= terminate(child, exited, facts.stopGraceMs).finally(() => {
      untrackChild(child);
      rmSync(facts.dir, { recursive: true, force: true });
    });
    return stopping;
  };
  return {
    apiUrl: facts.apiUrl,
    apiKey: facts.apiKey,
    serverId: 'localhost',
    dnsAddress: loopback,
    dnsPort: facts.dnsPort,
    apiPort: facts.apiPort,
    pid: child.pid as number,
    get exited() {
      return child.exitCode !== null || child.signalCode !== null;
    },
    dataDir: facts.dir,
    logTail: () => facts.log.lines(),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
