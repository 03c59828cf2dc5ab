import { createSocket, type Socket } from 'node:dgram';
import { hasErrorCode } from '@zonekeeper/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PowerDnsBackend, startPowerDnsBackend } from '../powerdns/pdns.test.support.js';
import type { PowerDnsProvider } from '../powerdns/provider.js';
import { lookupTxt } from './txt.js';

/** A real PowerDNS serving `txt.test`, and a UDP socket that never answers. */
let backend: PowerDnsBackend;
let dns: PowerDnsProvider;
let silent: Socket;
let zoneId: string;

beforeAll(async () => {
  backend = await startPowerDnsBackend();
  dns = backend.provider();
  zoneId = (await dns.createZone({ name: 'txt.test', callerReference: 'txt' })).zone.id;
  await dns.changeRecords(zoneId, [
    {
      action: 'CREATE',
      recordSet: {
        name: '_acme-challenge.www.txt.test',
        type: 'TXT',
        ttl: 60,
        values: ['"one-token"', '"split" "in-two"', `"${'a'.repeat(255)}" "${'b'.repeat(100)}"`],
      },
    },
    { action: 'CREATE', recordSet: { name: 'host.txt.test', type: 'A', ttl: 60, values: ['192.0.2.1'] } },
  ]);
  silent = createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
});
afterAll(async () => {
  silent?.close();
  await backend?.stop();
});

const server = () => ({ address: '127.0.0.1', port: backend.server.dnsPort });

describe('lookupTxt', () => {
  it('reads TXT values from the authoritative server, each record’s strings joined', async () => {
    const r = await lookupTxt(server(), '_acme-challenge.WWW.txt.test.');
    expect(r.status).toBe('answer');
    expect(r.values).toEqual(['a'.repeat(255) + 'b'.repeat(100), 'one-token', 'splitin-two'].sort());
  });

  it('tells no data, no such name and not my zone apart', async () => {
    expect((await lookupTxt(server(), 'host.txt.test')).status).toBe('no-data');
    expect((await lookupTxt(server(), '_acme-challenge.nothing.txt.test')).status).toBe('nxdomain');
    expect((await lookupTxt(server(), '_acme-challenge.other.test')).status).toBe('refused');
  });

  it('reports a silent server as timeout, within its bound, and an abort with its reason', async () => {
    const started = Date.now();
    const r = await lookupTxt({ address: '127.0.0.1', port: silent.address().port }, 'x.txt.test', {
      timeoutMs: 150,
      attempts: 2,
    });
    expect(r.status).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
    const controller = new AbortController();
    const pending = lookupTxt({ address: '127.0.0.1', port: silent.address().port }, 'x.txt.test', {
      timeoutMs: 5_000,
      signal: controller.signal,
    });
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });

  it('refuses a name that is not a DNS name before sending anything', async () => {
    for (const bad of ['', 'nodots', 'a..b', 'spa ce.test', `${'x'.repeat(64)}.test`]) {
      await expect(lookupTxt(server(), bad)).rejects.toSatisfy((e) => hasErrorCode(e, 'INVALID_INPUT'));
    }
  });
});
