/**
 * Starts and stops Pebble, Let's Encrypt's ACME test server ({@link PEBBLE_VERSION}, built by
 * `.ci/build-pebble.sh`), on 127.0.0.1 for tests:
 * the ACME API and the management interface on free ports over TLS with a certificate made here by
 * `openssl`, challenge validation only over DNS at the server given in `dnsServer` (a test PowerDNS),
 * and the CA's root and intermediate fetched from the management interface once it answers.
 *
 * @packageDocumentation
 */

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CallOptions, invalidInput, sleep, ZonekeeperError } from '@zonekeeper/core';
import { type ExitInfo, hasSetpriv, terminate } from '../internal/child.js';
import { trackChild, untrackChild } from '../moto/processes.js';

/**
 * The Pebble release the tests run: the first one Debian does not ship that offers ACME Renewal
 * Information (RFC 9773). `.ci/build-pebble.sh` builds it from the Go module proxy. @public
 */
export const PEBBLE_VERSION = 'v2.10.3';

/** The command that provides the Pebble binary the tests run ({@link PEBBLE_VERSION}). @public */
export const pebbleInstallHint = 'bash .ci/build-pebble.sh (then ZONEKEEPER_PEBBLE=<the path it prints>)';

/** A DNS server Pebble validates DNS-01 challenges against. @public */
export interface PebbleDnsServer {
  /** Default `127.0.0.1`. */
  readonly address?: string;
  readonly port: number;
}

/** Options of {@link startPebble}. @public */
export interface PebbleOptions extends CallOptions {
  /**
   * Where Pebble resolves every challenge (`-dnsserver`): the test's authoritative server, e.g. a
   * `startPowerDns()` server's `{ port: pdns.dnsPort }`. Required: Pebble never asks the system's
   * resolvers, so no validation leaves the machine.
   */
  readonly dnsServer: PebbleDnsServer;
  /**
   * The share of valid nonces Pebble rejects with `badNonce`, 0–100 (`PEBBLE_WFE_NONCEREJECT`).
   * Default 0 (Pebble's own default is 5): tests that survive rejections ask for them.
   */
  readonly nonceRejectPercent?: number;
  /**
   * The share of new orders that reuse a valid authorisation, 0–100 (`PEBBLE_AUTHZREUSE`). Default 0,
   * so every order is validated over DNS again (Pebble's own default is 50).
   */
  readonly authzReusePercent?: number;
  /**
   * The binary. Default: `ZONEKEEPER_PEBBLE`, else `.ci/build-pebble.sh`'s output
   * (`$ZONEKEEPER_CACHE_DIR/bin/pebble-<PEBBLE_VERSION>`, or under the repository's `.cache`) if it
   * exists; otherwise `startPebble` fails naming `bash .ci/build-pebble.sh`.
   */
  readonly pebble?: string;
  /** The openssl binary that makes the server's TLS certificate (default `openssl`). */
  readonly openssl?: string;
  /** How long to wait for the ACME directory to answer (default 20 000 ms). */
  readonly startTimeoutMs?: number;
  /** How long {@link PebbleServer.stop} waits after SIGTERM before SIGKILL (default 3 000 ms). */
  readonly stopGraceMs?: number;
}

/** A certificate's status as Pebble's management interface reports it. @public */
export interface PebbleCertificateStatus {
  readonly status: 'Valid' | 'Revoked';
  /** The RFC 5280 revocation reason code, when revoked. */
  readonly reason?: number;
  readonly revokedAt?: string;
  /** The certificate, PEM. */
  readonly certificatePem: string;
}

/** A running Pebble from {@link startPebble}. Dispose with `await using` or `stop()`. @public */
export interface PebbleServer extends AsyncDisposable {
  /** The ACME directory, e.g. `https://127.0.0.1:41234/dir`. */
  readonly directoryUrl: string;
  /** The management interface's base URL, e.g. `https://127.0.0.1:41235`. No trailing slash. */
  readonly managementUrl: string;
  /**
   * The self-signed certificate both of Pebble's HTTPS listeners present (SANs `127.0.0.1` and
   * `localhost`): what an ACME client must trust to talk to this server. It is not Pebble's CA.
   */
  readonly tlsCertificatePem: string;
  /** The root of the CA that signs issued certificates (`/roots/0`), regenerated at every start. */
  readonly rootPem: string;
  /** The intermediate that signs issued certificates (`/intermediates/0`). */
  readonly intermediatePem: string;
  /** The DNS server Pebble validates against, as `address:port`. */
  readonly dnsServer: string;
  /**
   * The directory's `renewalInfo` URL (ACME Renewal Information, RFC 9773), or `undefined` for a
   * Pebble without it (Debian's 2.4).
   */
  readonly renewalInfoUrl: string | undefined;
  readonly pid: number;
  /** True once the process has exited. */
  readonly exited: boolean;
  /** The temporary directory with the config and the TLS key (removed by stop). */
  readonly dataDir: string;
  /** A certificate's status by serial (lowercase hex, no leading zeros needed); `undefined` if unknown. */
  certificateStatus(serialHex: string, options?: CallOptions): Promise<PebbleCertificateStatus | undefined>;
  /**
   * Overrides what Pebble answers to the renewalInfo request of one certificate it issued (its
   * management interface's `/set-renewal-info/`): `response` is sent verbatim, so it may be a window
   * (`{"suggestedWindow":{"start":…,"end":…}}`) or deliberately malformed.
   */
  setRenewalInfo(certificatePem: string, response: string, options?: CallOptions): Promise<void>;
  /** The last lines Pebble logged (bounded), for failure messages. */
  logTail(): string;
  /** SIGTERM, then SIGKILL after `stopGraceMs`; resolves once the process is reaped. Idempotent. */
  stop(): Promise<void>;
}

const loopback = '127.0.0.1';

class Tail {
  private text = '';
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-8_000);
  }
  lines(): string {
    return this.text.trimEnd().split('\n').slice(-30).join('\n');
  }
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<import('node:net').Server>((resolve, reject) => {
          const server = createServer();
          server.unref();
          server.once('error', reject);
          server.listen(0, loopback, () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function missingError(what: string, hint: string, cause?: unknown): ZonekeeperError {
  return new ZonekeeperError('UNAVAILABLE', `Pebble: ${what}. Provide it with: ${hint} (.ci/run does).`, {
    retry: 'permanent',
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The repository's root (this file is `packages/testkit/{src,dist}/pebble/server.*`). */
const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/** Where `.ci/build-pebble.sh` puts the binary. */
function builtBinary(): string {
  const cache = process.env.ZONEKEEPER_CACHE_DIR?.trim() || join(repositoryRoot, '.cache');
  return join(cache, 'bin', `pebble-${PEBBLE_VERSION}`);
}

function defaultBinary(): string {
  const fromEnv = process.env.ZONEKEEPER_PEBBLE;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv;
  const built = builtBinary();
  if (existsSync(built)) return built;
  throw missingError(
    `Pebble ${PEBBLE_VERSION} is not built (no ZONEKEEPER_PEBBLE, nothing at ${built})`,
    pebbleInstallHint,
  );
}

function percent(name: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (!Number.isInteger(value) || value < 0 || value > 100)
    throw invalidInput(`Pebble: ${name} must be a whole number from 0 to 100, got ${String(value)}.`);
  return value;
}

function validate(options: PebbleOptions): void {
  const dns = options.dnsServer as PebbleDnsServer | undefined;
  if (dns === undefined || !Number.isInteger(dns.port) || dns.port < 1 || dns.port > 65_535)
    throw invalidInput(
      'Pebble: dnsServer.port must be a port number (the test DNS server Pebble validates against).',
    );
  if (dns.address !== undefined && !/^[0-9.]+$|^[0-9a-fA-F:]+$/.test(dns.address))
    throw invalidInput(
      `Pebble: dnsServer.address must be an IP address, got ${JSON.stringify(dns.address)}.`,
    );
  for (const key of ['startTimeoutMs', 'stopGraceMs'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isFinite(value) && value > 0))
      throw invalidInput(`Pebble: ${key} must be a positive number of milliseconds, got ${String(value)}.`);
  }
  percent('nonceRejectPercent', options.nonceRejectPercent);
  percent('authzReusePercent', options.authzReusePercent);
}

/** `GET` over HTTPS trusting only `ca`; resolves with the status and body, or rejects. */
function httpsGet(
  url: string,
  ca: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // Pebble (since 2.5) refuses requests without a User-Agent, as RFC 8555 §6.1 lets a server do.
    const headers = { 'user-agent': 'zonekeeper-testkit' };
    const req = httpsRequest(
      url,
      { method: 'GET', ca, agent: false, timeout: timeoutMs, signal, headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** `POST` of a JSON body over HTTPS trusting only `ca`. */
function httpsPost(
  url: string,
  json: string,
  ca: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: 'POST',
        ca,
        agent: false,
        timeout: timeoutMs,
        signal,
        headers: {
          'user-agent': 'zonekeeper-testkit',
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(json),
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(json);
  });
}

function makeTlsCertificate(openssl: string, dir: string): Promise<string> {
  const keyPath = join(dir, 'tls-key.pem');
  const certPath = join(dir, 'tls-cert.pem');
  const args = [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    '2',
    '-subj',
    '/CN=zonekeeper test pebble',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ];
  return new Promise((resolve, reject) => {
    execFile(openssl, args, { timeout: 20_000 }, (error, _stdout, stderr) => {
      if (error) {
        reject(
          (error as NodeJS.ErrnoException).code === 'ENOENT'
            ? missingError(`${JSON.stringify(openssl)} was not found`, 'apt-get install -y openssl', error)
            : new ZonekeeperError(
                'UNAVAILABLE',
                `Pebble: openssl could not make the TLS certificate: ${String(stderr).slice(0, 500)}`,
                { retry: 'permanent', cause: error },
              ),
        );
        return;
      }
      resolve(readFileSync(certPath, 'utf8'));
    });
  });
}

/**
 * Starts Pebble on 127.0.0.1 and resolves once its ACME directory answers and the CA's root and
 * intermediate have been fetched from the management interface.
 *
 * What it runs: `pebble -config <dir>/pebble-config.json -dnsserver <dnsServer> -strict=false` as a
 * tracked child of this process, with the ACME API, the management interface and the (unused)
 * HTTP-01 / TLS-ALPN-01 validation ports all on free ports of 127.0.0.1. Its environment is built from
 * scratch: `PEBBLE_VA_NOSLEEP=1`, `PEBBLE_WFE_NONCEREJECT` and `PEBBLE_AUTHZREUSE` from the options,
 * and never `PEBBLE_VA_ALWAYS_VALID` (a challenge is only valid when the DNS server really answers it),
 * whatever this process's environment holds. Like `startPowerDns`, the server is killed if this
 * process exits or is killed by SIGINT/SIGTERM/SIGHUP, and by the kernel if it dies of SIGKILL
 * (`setpriv --pdeathsig KILL`).
 *
 * @example
 * ```ts
 * const pdns = await startPowerDns();
 * const pebble = await startPebble({ dnsServer: { port: pdns.dnsPort } });
 * // new acme.Client({ directoryUrl: pebble.directoryUrl, … }), trusting pebble.tlsCertificatePem
 * await pebble.stop();
 * ```
 * @throws ZonekeeperError `INVALID_INPUT` for bad options; `UNAVAILABLE` (retry `permanent`) naming
 * `bash .ci/build-pebble.sh` when the binary is missing or exits early (with its log tail); `TIMEOUT`
 * when it does not answer within `startTimeoutMs`. An abort re-throws `signal.reason`. The process is
 * stopped first.
 * @public
 */
export async function startPebble(options: PebbleOptions): Promise<PebbleServer> {
  validate(options);
  const { signal } = options;
  signal?.throwIfAborted();
  const binary = options.pebble ?? defaultBinary();
  let renewalInfoUrl: string | undefined;
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  const stopGraceMs = options.stopGraceMs ?? 3_000;
  const deadline = Date.now() + startTimeoutMs;
  const dnsServer = `${options.dnsServer.address ?? loopback}:${options.dnsServer.port}`;

  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'zonekeeper-pebble-'));
    const removeDir = () => rmSync(dir, { recursive: true, force: true });
    let tlsCertificatePem: string;
    try {
      tlsCertificatePem = await makeTlsCertificate(options.openssl ?? 'openssl', dir);
      signal?.throwIfAborted();
    } catch (error) {
      removeDir();
      throw error;
    }
    const [acmePort, managementPort, httpPort, tlsPort] = (await freePorts(4)) as [
      number,
      number,
      number,
      number,
    ];
    const configPath = join(dir, 'pebble-config.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        pebble: {
          listenAddress: `${loopback}:${acmePort}`,
          managementListenAddress: `${loopback}:${managementPort}`,
          certificate: join(dir, 'tls-cert.pem'),
          privateKey: join(dir, 'tls-key.pem'),
          httpPort,
          tlsPort,
          ocspResponderURL: '',
          externalAccountBindingRequired: false,
        },
      }),
      { mode: 0o600 },
    );
    const args = ['-config', configPath, '-dnsserver', dnsServer, '-strict=false'];
    const [command, commandArgs] = hasSetpriv()
      ? ['setpriv', ['--pdeathsig', 'KILL', '--', binary, ...args]]
      : [binary, args];
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      PEBBLE_VA_NOSLEEP: '1',
      PEBBLE_WFE_NONCEREJECT: String(percent('nonceRejectPercent', options.nonceRejectPercent)),
      PEBBLE_AUTHZREUSE: String(percent('authzReusePercent', options.authzReusePercent)),
    };
    const child = spawn(command, commandArgs as string[], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
      cwd: dir,
    });
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
    const directoryUrl = `https://${loopback}:${acmePort}/dir`;
    const managementUrl = `https://${loopback}:${managementPort}`;

    type Ready = { rootPem: string; intermediatePem: string };
    type Outcome = Ready | 'timeout' | { exit: ExitInfo } | { spawnError: NodeJS.ErrnoException };
    const stopPolling = new AbortController();
    const pollSignal =
      signal === undefined ? stopPolling.signal : AbortSignal.any([signal, stopPolling.signal]);
    const poll = async (): Promise<Outcome> => {
      while (Date.now() < deadline && !pollSignal.aborted) {
        const left = Math.max(100, Math.min(2_000, deadline - Date.now()));
        try {
          const dirResponse = await httpsGet(directoryUrl, tlsCertificatePem, left, pollSignal);
          if (dirResponse.status === 200 && dirResponse.body.includes('newOrder')) {
            const entry = (JSON.parse(dirResponse.body) as { renewalInfo?: unknown }).renewalInfo;
            renewalInfoUrl = typeof entry === 'string' ? entry : undefined;
            const root = await httpsGet(`${managementUrl}/roots/0`, tlsCertificatePem, left, pollSignal);
            const intermediate = await httpsGet(
              `${managementUrl}/intermediates/0`,
              tlsCertificatePem,
              left,
              pollSignal,
            );
            if (root.status === 200 && intermediate.status === 200)
              return { rootPem: root.body, intermediatePem: intermediate.body };
          }
        } catch {
          // Not listening yet.
        }
        await sleep(50, pollSignal).catch(() => {});
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

    if (typeof outcome === 'object' && 'rootPem' in outcome) {
      child.unref();
      for (const stream of [child.stdout, child.stderr])
        (stream as unknown as { unref?: () => void } | null)?.unref?.();
      return handle(child, exited, {
        directoryUrl,
        managementUrl,
        tlsCertificatePem,
        ...outcome,
        dnsServer,
        renewalInfoUrl,
        dir,
        log,
        stopGraceMs,
      });
    }
    if (typeof outcome === 'object' && 'spawnError' in outcome) {
      removeDir();
      throw outcome.spawnError.code === 'ENOENT'
        ? missingError(
            `${JSON.stringify(hasSetpriv() ? 'setpriv' : binary)} was not found (set the pebble option or ZONEKEEPER_PEBBLE for another path)`,
            pebbleInstallHint,
            outcome.spawnError,
          )
        : new ZonekeeperError(
            'UNAVAILABLE',
            `Pebble: could not start ${binary}: ${outcome.spawnError.message}`,
            {
              retry: 'permanent',
              cause: outcome.spawnError,
            },
          );
    }
    const tail = log.lines();
    if (typeof outcome === 'object') {
      removeDir();
      // A port taken between our check and Pebble's bind: try other ports.
      if (/address already in use/i.test(tail) && attempt < 3 && Date.now() < deadline) continue;
      const how =
        outcome.exit.signal === null
          ? `exit code ${String(outcome.exit.code)}`
          : `signal ${outcome.exit.signal}`;
      const notInstalled = /No such file|not found|execvp/i.test(tail);
      throw new ZonekeeperError(
        'UNAVAILABLE',
        `Pebble: ${binary} exited with ${how} before it answered on ${directoryUrl}.${notInstalled ? ` Is it installed? ${pebbleInstallHint}` : ''}\n--- log (last lines) ---\n${tail || '(empty)'}`,
        { retry: 'permanent', details: { binary, acmePort, exitCode: outcome.exit.code } },
      );
    }
    await terminate(child, exited, stopGraceMs);
    removeDir();
    throw new ZonekeeperError(
      'TIMEOUT',
      `Pebble: ${binary} did not answer on ${directoryUrl} within ${startTimeoutMs} ms. Raise startTimeoutMs on a slow machine.\n--- log (last lines) ---\n${tail || '(empty)'}`,
      { details: { binary, acmePort, startTimeoutMs } },
    );
  }
}

function handle(
  child: ChildProcess,
  exited: Promise<ExitInfo>,
  facts: {
    directoryUrl: string;
    managementUrl: string;
    tlsCertificatePem: string;
    rootPem: string;
    intermediatePem: string;
    dnsServer: string;
    renewalInfoUrl: string | undefined;
    dir: string;
    log: Tail;
    stopGraceMs: number;
  },
): PebbleServer {
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= terminate(child, exited, facts.stopGraceMs).finally(() => {
      untrackChild(child);
      rmSync(facts.dir, { recursive: true, force: true });
    });
    return stopping;
  };
  const certificateStatus = async (
    serialHex: string,
    options: CallOptions = {},
  ): Promise<PebbleCertificateStatus | undefined> => {
    if (!/^[0-9a-fA-F]{1,64}$/.test(serialHex)) throw invalidInput('Pebble: a serial is 1–64 hex digits.');
    const serial = serialHex.toLowerCase().replace(/^0+(?=.)/, '');
    const { status, body } = await httpsGet(
      `${facts.managementUrl}/cert-status-by-serial/${serial}`,
      facts.tlsCertificatePem,
      5_000,
      options.signal,
    );
    if (status === 404) return undefined;
    if (status !== 200)
      throw new ZonekeeperError(
        'UNAVAILABLE',
        `Pebble: cert-status-by-serial answered ${status}: ${body.slice(0, 200)}`,
      );
    const parsed = JSON.parse(body) as {
      Status: 'Valid' | 'Revoked';
      Reason?: number;
      RevokedAt?: string;
      Certificate: string;
    };
    return {
      status: parsed.Status,
      certificatePem: parsed.Certificate,
      ...(parsed.Status === 'Revoked' && parsed.Reason !== undefined ? { reason: parsed.Reason } : {}),
      ...(parsed.Status === 'Revoked' && parsed.RevokedAt !== undefined
        ? { revokedAt: parsed.RevokedAt }
        : {}),
    };
  };
  const setRenewalInfo = async (
    certificatePem: string,
    response: string,
    options: CallOptions = {},
  ): Promise<void> => {
    const { status, body } = await httpsPost(
      `${facts.managementUrl}/set-renewal-info/`,
      JSON.stringify({ Certificate: certificatePem, ARIResponse: response }),
      facts.tlsCertificatePem,
      5_000,
      options.signal,
    );
    if (status !== 200)
      throw new ZonekeeperError(
        'UNAVAILABLE',
        `Pebble: set-renewal-info answered ${status}: ${body.slice(0, 200)}`,
      );
  };
  return {
    directoryUrl: facts.directoryUrl,
    managementUrl: facts.managementUrl,
    tlsCertificatePem: facts.tlsCertificatePem,
    rootPem: facts.rootPem,
    intermediatePem: facts.intermediatePem,
    dnsServer: facts.dnsServer,
    renewalInfoUrl: facts.renewalInfoUrl,
    pid: child.pid as number,
    get exited() {
      return child.exitCode !== null || child.signalCode !== null;
    },
    dataDir: facts.dir,
    certificateStatus,
    setRenewalInfo,
    logTail: () => facts.log.lines(),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
