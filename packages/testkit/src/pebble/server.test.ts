import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasErrorCode } from '@zonekeeper/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProcessRunning } from '../moto/processes.js';
import { type PowerDnsServer, startPowerDns } from '../powerdns/index.js';
import {
  listPebbleProcesses,
  PEBBLE_VERSION,
  type PebbleServer,
  pebbleInstallHint,
  startPebble,
} from './index.js';

let pdns: PowerDnsServer;
let pebble: PebbleServer;
let scratch: string;
const strayEnv = process.env.PEBBLE_VA_ALWAYS_VALID;

beforeAll(async () => {
  // A stray variable in the test's environment must not reach Pebble (it would accept every challenge).
  process.env.PEBBLE_VA_ALWAYS_VALID = '1';
  pdns = await startPowerDns();
  pebble = await startPebble({ dnsServer: { port: pdns.dnsPort }, nonceRejectPercent: 0 });
  scratch = mkdtempSync(join(tmpdir(), 'zonekeeper-pebble-test-'));
});
afterAll(async () => {
  if (strayEnv === undefined) delete process.env.PEBBLE_VA_ALWAYS_VALID;
  else process.env.PEBBLE_VA_ALWAYS_VALID = strayEnv;
  await pebble?.stop();
  await pdns?.stop();
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

/** Local addresses with a TCP socket listening on `port`. */
function listening(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[3] === '0A' && f[1]?.endsWith(`:${hexPort}`))
      .map((f) => f[1]?.split(':')[0] ?? ''),
  );
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

function environOf(pid: number): Record<string, string> {
  return Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

describe('startPebble', () => {
  it('serves the ACME directory over TLS on 127.0.0.1 only, as a tracked child validating against the test DNS', async () => {
    const url = new URL(pebble.directoryUrl);
    expect(url.hostname).toBe('127.0.0.1');
    expect(listening(Number(url.port))).toEqual(['0100007F']);
    expect(listening(Number(new URL(pebble.managementUrl).port))).toEqual(['0100007F']);
    const mine = listPebbleProcesses().find((p) => p.pid === pebble.pid);
    expect(mine?.ppid).toBe(process.pid);
    expect(mine?.args).toEqual(
      expect.arrayContaining(['-dnsserver', `127.0.0.1:${pdns.dnsPort}`, '-strict=false']),
    );
    // The system's trust store does not know the listener's certificate: only the one we were given works.
    await expect(fetch(pebble.directoryUrl)).rejects.toThrow();
    const config = JSON.parse(readFileSync(mine?.configPath ?? '', 'utf8')) as {
      pebble: Record<string, unknown>;
    };
    for (const key of ['listenAddress', 'managementListenAddress'])
      expect(String(config.pebble[key])).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(config.pebble.externalAccountBindingRequired).toBe(false);
  });

  it('runs with validation really done and no sleeps, whatever the parent environment says', () => {
    const env = environOf(pebble.pid);
    expect(env.PEBBLE_VA_ALWAYS_VALID).toBeUndefined();
    expect(env).toMatchObject({
      PEBBLE_VA_NOSLEEP: '1',
      PEBBLE_WFE_NONCEREJECT: '0',
      PEBBLE_AUTHZREUSE: '0',
    });
  });

  it('fetched a root and an intermediate that openssl chains, and a listener certificate for 127.0.0.1', () => {
    const root = join(scratch, 'root.pem');
    const intermediate = join(scratch, 'intermediate.pem');
    writeFileSync(root, pebble.rootPem);
    writeFileSync(intermediate, pebble.intermediatePem);
    expect(
      execFileSync('openssl', ['verify', '-CAfile', root, intermediate], { encoding: 'utf8' }),
    ).toContain(': OK');
    expect(pebble.rootPem).not.toBe(pebble.intermediatePem);
    const text = execFileSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName'], {
      input: pebble.tlsCertificatePem,
      encoding: 'utf8',
    });
    expect(text).toContain('IP Address:127.0.0.1');
  });

  it('answers an unknown serial with undefined and refuses a malformed one before any request', async () => {
    expect(await pebble.certificateStatus('1234abcd')).toBeUndefined();
    expect(hasErrorCode(await failure(pebble.certificateStatus('../roots/0')), 'INVALID_INPUT')).toBe(true);
  });

  it('stops: the process is reaped, its port closes, its directory (with the TLS key) is removed; idempotent', async () => {
    const other = await startPebble({ dnsServer: { port: pdns.dnsPort } });
    expect(other.directoryUrl).not.toBe(pebble.directoryUrl);
    expect(existsSync(join(other.dataDir, 'tls-key.pem'))).toBe(true);
    // Another start, another CA.
    expect(other.rootPem).not.toBe(pebble.rootPem);
    await Promise.all([other.stop(), other.stop()]);
    expect(other.exited).toBe(true);
    expect(isProcessRunning(other.pid)).toBe(false);
    expect(existsSync(other.dataDir)).toBe(false);
    expect(listening(Number(new URL(other.directoryUrl).port))).toEqual([]);
    expect(listPebbleProcesses().map((p) => p.pid)).toEqual([pebble.pid]);
  });

  it('fails loudly with the install command when pebble is missing', async () => {
    const error = await failure(
      startPebble({ dnsServer: { port: pdns.dnsPort }, pebble: '/nonexistent/pebble' }),
    );
    expect(hasErrorCode(error, 'UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toContain(pebbleInstallHint);
    expect((error as { retry?: string }).retry).toBe('permanent');
  });

  it('runs the Pebble the tests pin, which offers ACME Renewal Information (RFC 9773)', () => {
    const binary = listPebbleProcesses().find((p) => p.pid === pebble.pid)?.args[0] as string;
    expect(execFileSync(binary, ['-version'], { encoding: 'utf8' })).toContain(
      `Pebble version: ${PEBBLE_VERSION}`,
    );
    expect(pebble.renewalInfoUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/.*renewalInfo$/);
  });

  it('fails loudly naming the build command when no binary is given and none is built', async () => {
    const saved = { pebble: process.env.ZONEKEEPER_PEBBLE, cache: process.env.ZONEKEEPER_CACHE_DIR };
    delete process.env.ZONEKEEPER_PEBBLE;
    process.env.ZONEKEEPER_CACHE_DIR = join(scratch, 'empty-cache');
    try {
      const before = listPebbleProcesses().length;
      const error = await failure(startPebble({ dnsServer: { port: pdns.dnsPort } }));
      expect(error).toMatchObject({ code: 'UNAVAILABLE', retry: 'permanent' });
      expect((error as Error).message).toContain('bash .ci/build-pebble.sh');
      expect((error as Error).message).toContain(
        join(scratch, 'empty-cache', 'bin', `pebble-${PEBBLE_VERSION}`),
      );
      expect(listPebbleProcesses().length).toBe(before);
    } finally {
      for (const [key, value] of [
        ['ZONEKEEPER_PEBBLE', saved.pebble],
        ['ZONEKEEPER_CACHE_DIR', saved.cache],
      ] as const)
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
    }
  });

  it('rejects bad options with INVALID_INPUT before starting anything, and an abort with its reason', async () => {
    for (const options of [
      {},
      { dnsServer: { port: 0 } },
      { dnsServer: { port: 53, address: 'dns.example.com' } },
      { dnsServer: { port: 53 }, nonceRejectPercent: 101 },
      { dnsServer: { port: 53 }, authzReusePercent: 0.5 },
      { dnsServer: { port: 53 }, startTimeoutMs: -1 },
    ]) {
      expect(
        hasErrorCode(await failure(startPebble(options as never)), 'INVALID_INPUT'),
        JSON.stringify(options),
      ).toBe(true);
    }
    const late = new AbortController();
    const started = startPebble({ dnsServer: { port: pdns.dnsPort }, signal: late.signal });
    setTimeout(() => late.abort(), 30);
    expect(await failure(started)).toBe(late.signal.reason);
    expect(listPebbleProcesses().map((p) => p.pid)).toEqual([pebble.pid]);
  });
});
