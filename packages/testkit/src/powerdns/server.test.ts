import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { hasErrorCode } from '@zonekeeper/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProcessRunning } from '../moto/processes.js';
import {
  dig,
  listPowerDnsProcesses,
  type PowerDnsServer,
  powerDnsInstallHint,
  startPowerDns,
} from './index.js';

let pdns: PowerDnsServer;
beforeAll(async () => {
  pdns = await startPowerDns();
});
afterAll(async () => {
  await pdns?.stop();
});

/** Local addresses listening on `port` (TCP LISTEN in /proc/net/tcp{,6}, or bound UDP sockets). */
function bound(port: number, protocol: 'tcp' | 'udp'): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return [`/proc/net/${protocol}`, `/proc/net/${protocol}6`].flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => (protocol === 'udp' || f[3] === '0A') && f[1]?.endsWith(`:${hexPort}`))
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

const api = (path: string, init: RequestInit = {}, key: string | null = pdns.apiKey) =>
  fetch(`${pdns.apiUrl}${path}`, {
    ...init,
    headers: { ...(key === null ? {} : { 'X-API-Key': key }), 'Content-Type': 'application/json' },
  });

describe('startPowerDns', () => {
  it('runs pdns_server as a tracked child, DNS and API on 127.0.0.1 only', () => {
    expect(pdns.apiUrl).toBe(`http://127.0.0.1:${pdns.apiPort}/api/v1`);
    expect(bound(pdns.dnsPort, 'tcp')).toEqual(['0100007F']);
    expect(bound(pdns.dnsPort, 'udp')).toEqual(['0100007F']);
    expect(bound(pdns.apiPort, 'tcp')).toEqual(['0100007F']);
    const mine = listPowerDnsProcesses().find((p) => p.pid === pdns.pid);
    expect(mine).toMatchObject({ ppid: process.pid, configDir: pdns.dataDir });
    expect(pdns.exited).toBe(false);
  });

  it('answers the API only with the random API key, which stays out of the command line', async () => {
    expect(pdns.apiKey).toMatch(/^[0-9a-f]{64}$/);
    expect((await api('/servers/localhost', {}, null)).status).toBe(401);
    expect((await api('/servers/localhost', {}, 'wrong-key-1234')).status).toBe(401);
    const server = (await (await api('/servers/localhost')).json()) as {
      version: string;
      daemon_type: string;
    };
    expect(server.daemon_type).toBe('authoritative');
    expect(server.version).toMatch(/^4\./);
    const mine = listPowerDnsProcesses().find((p) => p.pid === pdns.pid);
    expect(mine?.args.join(' ')).not.toContain(pdns.apiKey);
  });

  it('serves a zone created over the API over real DNS at once, with a fresh sqlite3 database', async () => {
    expect((await (await api('/servers/localhost/zones')).json()) as unknown[]).toEqual([]);
    const created = await api('/servers/localhost/zones', {
      method: 'POST',
      body: JSON.stringify({ name: 'life.test.', kind: 'Native', nameservers: ['ns1.life.test.'] }),
    });
    expect(created.status).toBe(201);
    const patched = await api('/servers/localhost/zones/life.test.', {
      method: 'PATCH',
      body: JSON.stringify({
        rrsets: [
          {
            name: 'www.life.test.',
            type: 'A',
            ttl: 60,
            changetype: 'REPLACE',
            records: [{ content: '192.0.2.44', disabled: false }],
          },
        ],
      }),
    });
    expect(patched.status).toBe(204);
    const answer = await dig({ port: pdns.dnsPort }, 'www.life.test', 'A');
    expect(answer).toMatchObject({ status: 'NOERROR', authoritative: true, values: ['192.0.2.44'] });
    expect((await dig({ port: pdns.dnsPort }, 'www.life.test', 'A', { tcp: true })).values).toEqual([
      '192.0.2.44',
    ]);
    // Not a zone of this server: refused, not recursed.
    expect((await dig({ port: pdns.dnsPort }, 'example.org', 'A')).status).toBe('REFUSED');
  });

  it('refuses zone transfers and unsigned updates of a zone without update metadata', async () => {
    await api('/servers/localhost/zones', {
      method: 'POST',
      body: JSON.stringify({ name: 'closed.test.', kind: 'Native', nameservers: ['ns1.closed.test.'] }),
    });
    const axfr = execFileSync(
      'dig',
      ['@127.0.0.1', '-p', String(pdns.dnsPort), '+nocmd', 'closed.test', 'AXFR'],
      {
        encoding: 'utf8',
      },
    );
    expect(axfr).toMatch(/Transfer failed/);
    expect(axfr).not.toMatch(/\tSOA\t/);
    const { nsupdate } = await import('./index.js');
    const update = await nsupdate(
      { port: pdns.dnsPort },
      { zone: 'closed.test', updates: ['add x.closed.test 60 A 192.0.2.1'] },
    );
    expect(update).toMatchObject({ ok: false, rcode: 'REFUSED' });
    expect((await dig({ port: pdns.dnsPort }, 'x.closed.test', 'A')).status).toBe('NXDOMAIN');
  });

  it('stops: the process is reaped, its ports close and its directory is removed; stop is idempotent', async () => {
    const other = await startPowerDns();
    expect(other.dnsPort).not.toBe(pdns.dnsPort);
    expect(existsSync(other.dataDir)).toBe(true);
    await Promise.all([other.stop(), other.stop()]);
    expect(other.exited).toBe(true);
    expect(isProcessRunning(other.pid)).toBe(false);
    expect(existsSync(other.dataDir)).toBe(false);
    expect(bound(other.dnsPort, 'udp')).toEqual([]);
    expect(listPowerDnsProcesses().map((p) => p.pid)).not.toContain(other.pid);
    expect(isProcessRunning(pdns.pid)).toBe(true);
  });

  it('fails loudly with the install command when pdns_server is missing', async () => {
    const error = await failure(startPowerDns({ pdnsServer: '/nonexistent/pdns_server' }));
    expect(hasErrorCode(error, 'UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toContain(powerDnsInstallHint);
    expect((error as { retry?: string }).retry).toBe('permanent');
    const noSqlite = await failure(startPowerDns({ sqlite3: '/nonexistent/sqlite3' }));
    expect((noSqlite as Error).message).toContain(powerDnsInstallHint);
    const noSchema = await failure(startPowerDns({ schemaPath: '/nonexistent/schema.sql' }));
    expect((noSchema as Error).message).toContain(powerDnsInstallHint);
  });

  it('rejects bad options with INVALID_INPUT and an aborted signal with its reason', async () => {
    for (const options of [
      { startTimeoutMs: 0 },
      { apiKey: 'short' },
      { settings: { 'Bad Name': 'x' } },
      { settings: { 'default-ttl': 'a\nlaunch=bind' } },
      { dnsUpdate: { allowFrom: ['0.0.0.0/0; rm'] } },
    ]) {
      expect(
        hasErrorCode(await failure(startPowerDns(options)), 'INVALID_INPUT'),
        JSON.stringify(options),
      ).toBe(true);
    }
    const controller = new AbortController();
    controller.abort();
    expect(await failure(startPowerDns({ signal: controller.signal }))).toBe(controller.signal.reason);
    const late = new AbortController();
    const started = startPowerDns({ signal: late.signal });
    setTimeout(() => late.abort(), 20);
    expect(await failure(started)).toBe(late.signal.reason);
    expect(listPowerDnsProcesses().map((p) => p.pid)).toEqual([pdns.pid]);
  });
});
