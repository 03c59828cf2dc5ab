import { hasErrorCode } from '@zonekeeper/core';
import { dig, type NsupdateKey, nsupdate } from '@zonekeeper/testkit/powerdns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PowerDnsBackend, startPowerDnsBackend } from './pdns.test.support.js';
import type { PowerDnsProvider } from './provider.js';
import {
  createPowerDnsAdmin,
  type PowerDnsAdmin,
  renderDnsUpdatePolicy,
  tsigKeyNameForZone,
  tsigKeyNamesForZone,
} from './tsig.js';

/** Two organisations' zones with one key each, on one server. */
interface Orgs {
  readonly dns: PowerDnsProvider;
  readonly admin: PowerDnsAdmin;
  readonly port: number;
  readonly a: { zone: string; key: NsupdateKey };
  readonly b: { zone: string; key: NsupdateKey };
  readonly parent: string;
}

async function setUp(backend: PowerDnsBackend, tag: string): Promise<Orgs> {
  const dns = backend.provider();
  const admin = createPowerDnsAdmin(dns.api);
  const parent = `${tag}.test`;
  await dns.createZone({ name: parent, callerReference: `${tag}-parent` });
  const org = async (name: string) => {
    const zone = `${name}.${parent}`;
    await dns.createZone({ name: zone, callerReference: `${tag}-${name}` });
    const key = await admin.createTsigKey({ name: tsigKeyNameForZone(zone) });
    await admin.setZoneUpdateKeys(zone, [key.name]);
    await admin.setZoneUpdateSources(zone, ['127.0.0.0/8']);
    return { zone, key: { name: key.name, algorithm: key.algorithm, secret: key.secret } };
  };
  return { dns, admin, port: backend.server.dnsPort, parent, a: await org('org-a'), b: await org('org-b') };
}

const server = (o: Orgs) => ({ port: o.port });
const values = async (o: Orgs, name: string, type: string) => (await dig(server(o), name, type)).values;

describe('TSIG keys and update metadata (no policy script)', () => {
  let backend: PowerDnsBackend;
  let o: Orgs;
  beforeAll(async () => {
    backend = await startPowerDnsBackend();
    o = await setUp(backend, 'meta');
  });
  afterAll(() => backend?.stop());

  it('creates, lists, reads and deletes keys; secrets only on create and get', async () => {
    const name = 'scratch.meta.test';
    const created = await o.admin.createTsigKey({ name, algorithm: 'hmac-sha512' });
    expect(created).toMatchObject({ name, algorithm: 'hmac-sha512' });
    expect(Buffer.from(created.secret, 'base64').length).toBeGreaterThanOrEqual(32);
    expect(hasErrorCode(await o.admin.createTsigKey({ name }).catch((e) => e), 'ALREADY_EXISTS')).toBe(true);
    const listed = await o.admin.listTsigKeys();
    expect(listed).toEqual(expect.arrayContaining([{ name, algorithm: 'hmac-sha512' }]));
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    expect((await o.admin.getTsigKey(name))?.secret).toBe(created.secret);
    await o.admin.deleteTsigKey(name);
    await o.admin.deleteTsigKey(name);
    expect(await o.admin.getTsigKey(name)).toBeUndefined();
    expect(await o.admin.getZoneUpdateKeys(o.a.zone)).toEqual([o.a.key.name]);
    expect(await o.admin.getZoneUpdateSources(o.a.zone)).toEqual(['127.0.0.0/8']);
    for (const bad of [
      () => o.admin.createTsigKey({ name: 'bad name' }),
      () => o.admin.createTsigKey({ name: 'x.test', algorithm: 'hmac-md4' as 'hmac-md5' }),
      () => o.admin.setZoneUpdateSources(o.a.zone, ['everyone']),
    ]) {
      expect(hasErrorCode(await bad().catch((e) => e), 'INVALID_INPUT')).toBe(true);
    }
  });

  it("org A's key updates A's zone over real DNS, and is REFUSED on B's zone and the parent, changing nothing", async () => {
    const own = await nsupdate(server(o), {
      zone: o.a.zone,
      key: o.a.key,
      updates: [`add www.${o.a.zone} 60 A 192.0.2.10`, `add www.${o.a.zone} 60 TXT "heritage=external-dns"`],
    });
    expect(own).toMatchObject({ ok: true, rcode: 'NOERROR' });
    expect(await values(o, `www.${o.a.zone}`, 'A')).toEqual(['192.0.2.10']);

    const before = (await o.dns.listRecords((await o.dns.findZonesByName(o.b.zone))[0]?.id as string))
      .recordSets;
    for (const zone of [o.b.zone, o.parent]) {
      const cross = await nsupdate(server(o), {
        zone,
        key: o.a.key,
        updates: [`add evil.${zone} 60 A 203.0.113.66`],
      });
      expect(cross.ok, zone).toBe(false);
      expect(['REFUSED', 'NOTAUTH'], zone).toContain(cross.rcode);
      expect((await dig(server(o), `evil.${zone}`, 'A')).status, zone).toBe('NXDOMAIN');
    }
    const unsigned = await nsupdate(server(o), {
      zone: o.b.zone,
      updates: [`add evil.${o.b.zone} 60 A 203.0.113.66`],
    });
    expect(unsigned).toMatchObject({ ok: false, rcode: 'REFUSED' });
    const forged = await nsupdate(server(o), {
      zone: o.b.zone,
      key: { name: o.b.key.name, secret: o.a.key.secret },
      updates: [`add evil.${o.b.zone} 60 A 203.0.113.66`],
    });
    expect(forged.ok).toBe(false);
    expect(['NOTAUTH', 'REFUSED']).toContain(forged.rcode);
    const after = (await o.dns.listRecords((await o.dns.findZonesByName(o.b.zone))[0]?.id as string))
      .recordSets;
    expect(after).toEqual(before);
  });

  it('cannot restrict record types by metadata: the key may replace its own apex NS (a policy script can)', async () => {
    const update = await nsupdate(server(o), {
      zone: o.a.zone,
      key: o.a.key,
      updates: [`add ${o.a.zone} 60 NS ns.attacker.example`],
    });
    expect(update.ok).toBe(true);
    expect(await values(o, o.a.zone, 'NS')).toContain('ns.attacker.example.');
  });
});

describe('the zonekeeper update policy script (lua-dnsupdate-policy-script)', () => {
  let backend: PowerDnsBackend;
  let o: Orgs;
  beforeAll(async () => {
    backend = await startPowerDnsBackend({ dnsUpdate: { policyScript: renderDnsUpdatePolicy() } });
    o = await setUp(backend, 'lua');
  });
  afterAll(() => backend?.stop());

  const send = (key: NsupdateKey | undefined, zone: string, updates: string[]) =>
    nsupdate(server(o), { zone, updates, ...(key ? { key } : {}) });

  it('lets a key add and delete A, AAAA, CNAME and TXT records in its own zone', async () => {
    const z = o.a.zone;
    const ok = await send(o.a.key, z, [
      `add app.${z} 60 A 192.0.2.20`,
      `add app.${z} 60 AAAA 2001:db8::20`,
      `add app.${z} 60 TXT "owner=a"`,
      `add alias.${z} 60 CNAME app.${z}.`,
    ]);
    expect(ok).toMatchObject({ ok: true, rcode: 'NOERROR' });
    expect(await values(o, `app.${z}`, 'AAAA')).toEqual(['2001:db8::20']);
    expect(await values(o, `alias.${z}`, 'CNAME')).toEqual([`app.${z}.`]);
    expect((await send(o.a.key, z, [`delete app.${z} A 192.0.2.20`])).ok).toBe(true);
    expect(await values(o, `app.${z}`, 'A')).toEqual([]);
  });

  it('refuses NS, SOA, MX and delete-everything updates as a whole (SERVFAIL), changing nothing', async () => {
    const z = o.a.zone;
    const nsBefore = await values(o, z, 'NS');
    const soaBefore = await values(o, z, 'SOA');
    const cases: [string, string[]][] = [
      ['apex NS', [`add ${z} 60 NS ns.attacker.example.`]],
      ['a sub-delegation', [`add sub.${z} 60 NS ns.attacker.example.`]],
      ['SOA', [`add ${z} 60 SOA ns.attacker.example. h.example. 999999 1 1 1 1`]],
      ['MX', [`add mail.${z} 60 MX 10 mx.attacker.example.`]],
      [
        'an A beside an NS (all or nothing)',
        [`add mixed.${z} 60 A 192.0.2.30`, `add mixed.${z} 60 NS ns.attacker.example.`],
      ],
      ['every type at the apex', [`delete ${z}`]],
    ];
    for (const [what, updates] of cases) {
      const r = await send(o.a.key, z, updates);
      expect(r, what).toMatchObject({ ok: false, rcode: 'SERVFAIL' });
    }
    expect(await values(o, `mixed.${z}`, 'A')).toEqual([]);
    expect(await values(o, `sub.${z}`, 'NS')).toEqual([]);
    expect(await values(o, z, 'NS')).toEqual(nsBefore);
    expect(await values(o, z, 'SOA')).toEqual(soaBefore);
  });

  it("refuses org A's key on B's zone and on the parent, and unsigned or forged updates, changing nothing", async () => {
    for (const zone of [o.b.zone, o.parent]) {
      const r = await send(o.a.key, zone, [`add evil.${zone} 60 A 203.0.113.66`]);
      expect(r.ok, zone).toBe(false);
      expect(r.rcode, zone).toBe('SERVFAIL');
      expect((await dig(server(o), `evil.${zone}`, 'A')).status, zone).toBe('NXDOMAIN');
    }
    expect((await send(undefined, o.b.zone, [`add evil.${o.b.zone} 60 A 203.0.113.66`])).ok).toBe(false);
    const forged = await send({ name: o.b.key.name, secret: o.a.key.secret }, o.b.zone, [
      `add evil.${o.b.zone} 60 A 203.0.113.66`,
    ]);
    expect(forged.ok).toBe(false);
    expect(['NOTAUTH', 'REFUSED']).toContain(forged.rcode);
    expect((await dig(server(o), `evil.${o.b.zone}`, 'A')).status).toBe('NXDOMAIN');
    // B's own key still works.
    expect((await send(o.b.key, o.b.zone, [`add ok.${o.b.zone} 60 A 192.0.2.40`])).ok).toBe(true);
  });

  it("passes a rotated key (<label>-b.<zone>) in its own zone only; B's rotated key is refused on A's zone", async () => {
    const [, rotatedA] = tsigKeyNamesForZone(o.a.zone);
    const [, rotatedB] = tsigKeyNamesForZone(o.b.zone);
    expect(rotatedA).toBe(`zonekeeper-update-b.${o.a.zone}`);
    const a = await o.admin.createTsigKey({ name: rotatedA });
    const b = await o.admin.createTsigKey({ name: rotatedB });
    expect((await send(a, o.a.zone, [`add rotated.${o.a.zone} 60 TXT "a"`])).rcode).toBe('NOERROR');
    expect((await send(b, o.a.zone, [`add evil2.${o.a.zone} 60 TXT "b"`])).rcode).toBe('SERVFAIL');
    // A key named like a rotated key of a zone that does not exist ("-c") is refused.
    const c = await o.admin.createTsigKey({ name: `zonekeeper-update-c.${o.a.zone}` });
    expect((await send(c, o.a.zone, [`add evil3.${o.a.zone} 60 TXT "c"`])).rcode).toBe('SERVFAIL');
    expect((await dig(server(o), `evil2.${o.a.zone}`, 'TXT')).status).toBe('NXDOMAIN');
  });
});

describe('renderDnsUpdatePolicy', () => {
  it('lists the allowed types and binds keys to zones by name; NS and SOA can never be allowed', () => {
    const lua = renderDnsUpdatePolicy({ recordTypes: ['txt', 'A'], keyLabel: 'edns' });
    expect(lua).toContain('[pdns.A] = true');
    expect(lua).toContain('[pdns.TXT] = true');
    expect(lua).not.toContain('pdns.AAAA');
    expect(lua).toContain('local label = "edns."');
    for (const recordTypes of [['NS'], ['SOA'], ['A', 'ANY'], []]) {
      expect(
        hasErrorCode(
          (() => {
            try {
              renderDnsUpdatePolicy({ recordTypes });
            } catch (e) {
              return e;
            }
          })(),
          'INVALID_INPUT',
        ),
      ).toBe(true);
    }
    expect(tsigKeyNameForZone('Acme.Example.com.')).toBe('zonekeeper-update.acme.example.com');
  });
});
