import { hasErrorCode } from '@zonekeeper/core';
import { dig } from '@zonekeeper/testkit/powerdns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordSet } from '../ports.js';
import { deleteOrganizationZone, ensureOrganizationZone, listManagedZones } from '../zones.js';
import { type PowerDnsBackend, startPowerDnsBackend, TEST_NAME_SERVERS } from './pdns.test.support.js';
import { createPowerDnsProvider, POWERDNS_TAGS_METADATA_KIND, type PowerDnsProvider } from './provider.js';

let backend: PowerDnsBackend;
let dns: PowerDnsProvider;
beforeAll(async () => {
  backend = await startPowerDnsBackend();
  dns = backend.provider();
});
afterAll(() => backend?.stop());

const raw = async (path: string, init: RequestInit = {}) => {
  const res = await fetch(`${backend.server.apiUrl}/servers/localhost${path}`, {
    ...init,
    headers: { 'X-API-Key': backend.server.apiKey, 'Content-Type': 'application/json' },
  });
  return { status: res.status, body: res.status === 204 ? undefined : await res.json() };
};
const server = () => ({ port: backend.server.dnsPort });

describe('PowerDNS adapter: what lands where on the server', () => {
  it('marks a zone atomically with an apex SOA comment, publishes the configured name servers, stores tags as metadata', async () => {
    const { zone } = await dns.createZone({
      name: 'marks.test',
      callerReference: 'zk1:abc',
      comment: 'hello',
    });
    const soa = await dig(server(), 'marks.test', 'SOA');
    expect(soa.values[0]).toMatch(/^ns1\.pdns\.test\. hostmaster\.marks\.test\. \d+ /);
    expect((await dig(server(), 'marks.test', 'NS')).values).toEqual(
      TEST_NAME_SERVERS.map((n) => `${n}.`).sort(),
    );
    const apex = (await raw('/zones/marks.test.?rrset_name=marks.test.')).body as {
      rrsets: { type: string; comments: { account: string; content: string }[] }[];
    };
    expect(apex.rrsets.find((r) => r.type === 'SOA')?.comments).toEqual([
      expect.objectContaining({
        account: 'zonekeeper',
        content: 'zonekeeper:zone:v1 {"callerReference":"zk1:abc","comment":"hello"}',
      }),
    ]);
    await dns.changeTags(zone.id, { add: { 'zonekeeper:managed-by': 'zonekeeper', 'a=b': 'c=d' } });
    const meta = await raw(`/zones/marks.test./metadata/${POWERDNS_TAGS_METADATA_KIND}`);
    expect(meta.body).toMatchObject({ metadata: ['a%3Db=c=d', 'zonekeeper:managed-by=zonekeeper'] });
    expect((await dns.getTags([zone.id])).get(zone.id)).toEqual({
      'zonekeeper:managed-by': 'zonekeeper',
      'a=b': 'c=d',
    });
    await dns.changeTags(zone.id, { remove: ['zonekeeper:managed-by', 'a=b'] });
    expect((await raw(`/zones/marks.test./metadata/${POWERDNS_TAGS_METADATA_KIND}`)).body).toMatchObject({
      metadata: [],
    });
  });

  it('writes names in name-valued records absolute, and matches DELETEs however they are spelled', async () => {
    const { zone } = await dns.createZone({ name: 'content.test', callerReference: 'content' });
    await dns.changeRecords(zone.id, [
      {
        action: 'CREATE',
        recordSet: { name: 'www.content.test', type: 'CNAME', ttl: 60, values: ['Host.Example.org'] },
      },
      {
        action: 'CREATE',
        recordSet: { name: 'v6.content.test', type: 'AAAA', ttl: 60, values: ['2001:DB8:0::1'] },
      },
      {
        action: 'CREATE',
        recordSet: { name: 'content.test', type: 'MX', ttl: 60, values: ['10 mail.example.org'] },
      },
    ]);
    expect((await dig(server(), 'www.content.test', 'CNAME')).values).toEqual(['Host.Example.org.']);
    expect((await dig(server(), 'v6.content.test', 'AAAA')).values).toEqual(['2001:db8::1']);
    await dns.changeRecords(zone.id, [
      {
        action: 'DELETE',
        recordSet: { name: 'www.content.test', type: 'CNAME', ttl: 60, values: ['host.example.org.'] },
      },
      {
        action: 'DELETE',
        recordSet: { name: 'v6.content.test', type: 'AAAA', ttl: 60, values: ['2001:db8::1'] },
      },
      {
        action: 'DELETE',
        recordSet: { name: 'content.test', type: 'MX', ttl: 60, values: ['10 Mail.example.org.'] },
      },
    ]);
    expect((await dig(server(), 'www.content.test', 'CNAME')).status).toBe('NXDOMAIN');
    // Content PowerDNS itself rejects is CONFLICT, and nothing of the batch is applied.
    const error = await dns
      .changeRecords(zone.id, [
        {
          action: 'CREATE',
          recordSet: { name: 'ok.content.test', type: 'A', ttl: 60, values: ['192.0.2.1'] },
        },
        {
          action: 'CREATE',
          recordSet: { name: 'bad.content.test', type: 'CAA', ttl: 60, values: ['not caa'] },
        },
      ])
      .catch((e) => e);
    expect(hasErrorCode(error, 'CONFLICT')).toBe(true);
    expect((error as Error).message).toMatch(/^PowerDNS: PatchZone/);
    expect((await dig(server(), 'ok.content.test', 'A')).status).toBe('NXDOMAIN');
  });

  it('keeps disabled records of an RRset through an UPSERT of the set as read', async () => {
    const { zone } = await dns.createZone({ name: 'disabled.test', callerReference: 'disabled' });
    await raw('/zones/disabled.test.', {
      method: 'PATCH',
      body: JSON.stringify({
        rrsets: [
          {
            name: 'x.disabled.test.',
            type: 'A',
            ttl: 60,
            changetype: 'REPLACE',
            records: [
              { content: '192.0.2.1', disabled: false },
              { content: '192.0.2.2', disabled: true },
            ],
          },
        ],
      }),
    });
    const read = (await dns.listRecords(zone.id)).recordSets.find((r) => r.name === 'x.disabled.test');
    expect(read).toMatchObject({ values: ['192.0.2.1'], providerFields: { disabledRecords: ['192.0.2.2'] } });
    await dns.changeRecords(zone.id, [{ action: 'UPSERT', recordSet: { ...(read as RecordSet), ttl: 120 } }]);
    const again = (await dns.listRecords(zone.id)).recordSets.find((r) => r.name === 'x.disabled.test');
    expect(again).toMatchObject({
      ttl: 120,
      values: ['192.0.2.1'],
      providerFields: { disabledRecords: ['192.0.2.2'] },
    });
  });

  it('never adopts a zone created outside zonekeeper (no marker): ensureOrganizationZone is NOT_OWNED', async () => {
    await dns.createZone({ name: 'foreign-base.test', callerReference: 'base' });
    await raw('/zones', {
      method: 'POST',
      body: JSON.stringify({
        name: 'acme.foreign-base.test.',
        kind: 'Native',
        nameservers: ['ns.other.test.'],
      }),
    });
    const [found] = await dns.findZonesByName('acme.foreign-base.test');
    expect(found).toMatchObject({ callerReference: '', privateZone: false });
    const error = await ensureOrganizationZone(
      { organization: 'acme', baseDomain: 'foreign-base.test' },
      { dns },
    ).catch((e) => e);
    expect(hasErrorCode(error, 'NOT_OWNED')).toBe(true);
  });

  it('ensures, lists and deletes an organisation zone; the delegation is served over DNS and removed', async () => {
    await dns.createZone({ name: 'org-base.test', callerReference: 'org-base' });
    const first = await ensureOrganizationZone(
      { organization: 'globex', baseDomain: 'org-base.test' },
      { dns },
    );
    expect(first.plan.steps.map((s) => s.op)).toEqual(['create-zone', 'tag-zone', 'upsert-delegation']);
    const again = await ensureOrganizationZone(
      { organization: 'globex', baseDomain: 'org-base.test' },
      { dns },
    );
    expect(again.plan.steps).toEqual([]);
    const managed = await listManagedZones({ dns }, { baseDomain: 'org-base.test' });
    expect(managed).toEqual([
      expect.objectContaining({
        id: first.zone?.id,
        name: 'globex.org-base.test',
        organization: 'globex',
        protected: false,
      }),
    ]);
    expect(managed[0]?.createdAt).toBeInstanceOf(Date);
    // Another process (a fresh provider, empty id cache) finds the zone by its id.
    const other = backend.provider();
    expect((await other.getZone(first.zone?.id as string))?.zone.name).toBe('globex.org-base.test');
    const deleted = await deleteOrganizationZone(first.zone?.id as string, { dns: other });
    expect(deleted.plan.steps.map((s) => s.op)).toEqual(['delete-delegation', 'delete-zone']);
    expect((await dig(server(), 'globex.org-base.test', 'SOA')).authoritative).toBe(true); // the parent answers now
    expect((await dig(server(), 'globex.org-base.test', 'NS')).values).toEqual([]);
    expect(await dns.findZonesByName('globex.org-base.test')).toEqual([]);
  });

  it('translates a wrong API key to PERMISSION_DENIED and a stopped server to UNAVAILABLE (transient)', async () => {
    const wrong = createPowerDnsProvider({
      apiUrl: backend.server.apiUrl,
      apiKey: 'wrong-key-123',
      nameServers: TEST_NAME_SERVERS,
    });
    const denied = await wrong.listZones().catch((e) => e);
    expect(denied).toMatchObject({ code: 'PERMISSION_DENIED', retry: 'permanent' });
    expect((denied as Error).message).not.toContain('wrong-key-123');
    const down = createPowerDnsProvider({
      apiUrl: 'http://127.0.0.1:9',
      apiKey: 'k',
      nameServers: TEST_NAME_SERVERS,
    });
    expect(await down.listZones().catch((e) => e)).toMatchObject({ code: 'UNAVAILABLE', retry: 'transient' });
  });
});
