import { hasErrorCode } from '@zonekeeper/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDigOutput } from './dig.js';
import { dig, nsupdate, type PowerDnsServer, startPowerDns } from './index.js';

let pdns: PowerDnsServer;
const headers = () => ({ 'X-API-Key': pdns.apiKey, 'Content-Type': 'application/json' });
const api = async (path: string, method: string, body?: unknown) => {
  const res = await fetch(`${pdns.apiUrl}/servers/localhost${path}`, {
    method,
    headers: headers(),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBeLessThan(300);
  return res.status === 204 ? undefined : ((await res.json()) as Record<string, unknown>);
};

beforeAll(async () => {
  pdns = await startPowerDns();
});
afterAll(() => pdns?.stop());

describe('parseDigOutput', () => {
  it('reads the status, flags and sections of dig output', () => {
    const out = [
      ';; Got answer:',
      ';; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1',
      ';; flags: qr aa; QUERY: 1, ANSWER: 2, AUTHORITY: 1, ADDITIONAL: 1',
      '',
      ';; ANSWER SECTION:',
      'T.Example.test.\t60\tIN\tTXT\t"a b" "c"',
      't.example.test.\t60\tIN\tRRSIG\tTXT 8 3 60 x',
      '',
      ';; AUTHORITY SECTION:',
      'example.test.\t300\tIN\tNS\tns1.example.net.',
      '',
    ].join('\n');
    expect(parseDigOutput(out, 'txt')).toEqual({
      status: 'NOERROR',
      flags: ['qr', 'aa'],
      authoritative: true,
      answer: [
        { name: 't.example.test', ttl: 60, type: 'TXT', data: '"a b" "c"' },
        { name: 't.example.test', ttl: 60, type: 'RRSIG', data: 'TXT 8 3 60 x' },
      ],
      authority: [{ name: 'example.test', ttl: 300, type: 'NS', data: 'ns1.example.net.' }],
      additional: [],
      values: ['"a b" "c"'],
    });
  });
});

describe('dig and nsupdate against PowerDNS', () => {
  it('applies a TSIG-signed update that only the zone key may make, and dig sees it', async () => {
    await api('/zones', 'POST', { name: 'upd.test.', kind: 'Native', nameservers: ['ns1.upd.test.'] });
    const key = (await api('/tsigkeys', 'POST', { name: 'upd-key', algorithm: 'hmac-sha256' })) as {
      key: string;
    };
    const other = (await api('/tsigkeys', 'POST', { name: 'other-key', algorithm: 'hmac-sha256' })) as {
      key: string;
    };
    await api('/zones/upd.test./metadata/TSIG-ALLOW-DNSUPDATE', 'PUT', { metadata: ['upd-key'] });
    await api('/zones/upd.test./metadata/ALLOW-DNSUPDATE-FROM', 'PUT', { metadata: ['127.0.0.0/8'] });
    const server = { port: pdns.dnsPort };
    const updates = ['add www.upd.test 60 A 192.0.2.7', 'add www.upd.test 60 TXT "hi there"'];

    const wrong = await nsupdate(server, {
      zone: 'upd.test',
      updates,
      key: { name: 'other-key', secret: other.key },
    });
    expect(wrong).toMatchObject({ ok: false, rcode: 'REFUSED' });
    expect(wrong.stderr).not.toContain(other.key);
    const forged = await nsupdate(server, {
      zone: 'upd.test',
      updates,
      key: { name: 'upd-key', secret: other.key },
    });
    expect(forged.ok).toBe(false);
    expect(['NOTAUTH', 'REFUSED']).toContain(forged.rcode);
    expect((await dig(server, 'www.upd.test', 'A')).status).toBe('NXDOMAIN');

    const right = await nsupdate(server, {
      zone: 'upd.test',
      updates,
      key: { name: 'upd-key', secret: key.key },
    });
    expect(right).toMatchObject({ ok: true, rcode: 'NOERROR' });
    expect((await dig(server, 'www.upd.test', 'A')).values).toEqual(['192.0.2.7']);
    expect((await dig(server, 'www.upd.test', 'TXT')).values).toEqual(['"hi there"']);
  });

  it('rejects malformed input before running anything, and reports a silent server as a timeout', async () => {
    const server = { port: pdns.dnsPort };
    for (const call of [
      () => dig(server, 'bad name', 'A'),
      () => dig(server, 'x.test', 'A;rm'),
      () => dig({ port: 0 }, 'x.test', 'A'),
      () => nsupdate(server, { zone: 'x.test', updates: [] }),
      () => nsupdate(server, { zone: 'x.test', updates: ['add a 60 A 192.0.2.1\nsend'] }),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
    }
    const { createSocket } = await import('node:dgram');
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    const port = silent.address().port;
    const started = Date.now();
    const error = await dig({ port }, 'x.test', 'A', { timeSeconds: 1 }).catch((e: unknown) => e);
    silent.close();
    expect(hasErrorCode(error, 'TIMEOUT')).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
