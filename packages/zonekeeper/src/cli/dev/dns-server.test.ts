/**
 * The local backend's DNS server, asked by the real `dig` (bind9-dnsutils) over UDP and TCP, serving
 * zones from the memory DNS provider: what ExternalDNS writes through the port is what dig answers.
 */

import { dig } from '@zonekeeper/testkit/powerdns';
import { createMemoryDnsProvider, type DnsProvider } from '@zonekeeper/zone-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevDnsServer, startDevDnsServer } from './dns-server.js';

let dns: DnsProvider;
let server: DevDnsServer;
let acmeId: string;

beforeAll(async () => {
  dns = createMemoryDnsProvider();
  await dns.createZone({ name: 'example.com', callerReference: 'parent' });
  const acme = await dns.createZone({ name: 'acme.example.com', callerReference: 'acme' });
  acmeId = acme.zone.id;
  await dns.changeRecords(acmeId, [
    {
      action: 'CREATE',
      recordSet: { name: 'web.acme.example.com', type: 'A', ttl: 300, values: ['127.0.1.1'] },
    },
    {
      action: 'CREATE',
      recordSet: {
        name: '_extdns-a.web.acme.example.com',
        type: 'TXT',
        ttl: 300,
        values: ['"heritage=external-dns,external-dns/owner=dev-1,external-dns/resource=service/web/web"'],
      },
    },
    {
      action: 'CREATE',
      recordSet: { name: 'mail.acme.example.com', type: 'MX', ttl: 300, values: ['10 mx.acme.example.com'] },
    },
  ]);
  server = await startDevDnsServer({ dns, cacheMs: 0 });
});

afterAll(async () => {
  await server?.stop();
});

describe('the dev DNS server', () => {
  it('answers A, TXT and MX authoritatively over UDP, as dig parses them', async () => {
    const a = await dig({ port: server.port }, 'web.acme.example.com', 'A');
    expect(a).toMatchObject({ status: 'NOERROR', authoritative: true, values: ['127.0.1.1'] });
    const txt = await dig({ port: server.port }, '_extdns-a.web.acme.example.com', 'TXT');
    expect(txt.values).toEqual([
      '"heritage=external-dns,external-dns/owner=dev-1,external-dns/resource=service/web/web"',
    ]);
    const mx = await dig({ port: server.port }, 'mail.acme.example.com', 'MX');
    expect(mx.values).toEqual(['10 mx.acme.example.com.']);
  });

  it('answers over TCP too, and NXDOMAIN with the SOA for a missing name', async () => {
    const a = await dig({ port: server.port }, 'web.acme.example.com', 'A', { tcp: true });
    expect(a.values).toEqual(['127.0.1.1']);
    const missing = await dig({ port: server.port }, 'nothing.acme.example.com', 'A');
    expect(missing.status).toBe('NXDOMAIN');
    expect(missing.authority.map((r) => r.type)).toEqual(['SOA']);
  });

  it('refuses names outside its zones', async () => {
    expect((await dig({ port: server.port }, 'www.example.org', 'A')).status).toBe('REFUSED');
  });

  it('sees a change at the next question (cache 0) and serves the child zone NS set', async () => {
    await dns.changeRecords(acmeId, [
      {
        action: 'UPSERT',
        recordSet: { name: 'web.acme.example.com', type: 'A', ttl: 300, values: ['127.0.1.9'] },
      },
    ]);
    expect((await dig({ port: server.port }, 'web.acme.example.com', 'A')).values).toEqual(['127.0.1.9']);
    const ns = await dig({ port: server.port }, 'acme.example.com', 'NS');
    expect(ns.authoritative).toBe(true);
    expect(ns.values.length).toBeGreaterThan(0);
  });

  it('answers SERVFAIL, not a stale or empty answer, when the zones cannot be read', async () => {
    const failing: DnsProvider = {
      ...dns,
      listZones: () => Promise.reject(new Error('moto is down')),
    };
    const broken = await startDevDnsServer({ dns: failing, cacheMs: 0 });
    try {
      expect((await dig({ port: broken.port }, 'web.acme.example.com', 'A')).status).toBe('SERVFAIL');
    } finally {
      await broken.stop();
    }
  });
});
