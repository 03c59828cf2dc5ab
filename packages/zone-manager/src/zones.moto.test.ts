import {
  ChangeResourceRecordSetsCommand,
  ChangeTagsForResourceCommand,
  CreateHostedZoneCommand,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import { hasErrorCode } from '@zonekeeper/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DnsProvider } from './ports.js';
import { type Route53Backend, startRoute53Backend, WRITE_OPERATIONS } from './route53/moto.test.support.js';
import type { Route53Provider } from './route53/provider.js';
import { deleteOrganizationZone, ensureOrganizationZone, listManagedZones } from './zones.js';

let backend: Route53Backend;
beforeAll(async () => {
  backend = await startRoute53Backend('zones');
});
afterAll(async () => {
  await backend?.stop();
});

let n = 0;
/** A fresh base domain (and its parent zone) per test: moto is shared by the file. */
async function freshBase(dns: DnsProvider): Promise<{ baseDomain: string; parentId: string }> {
  const baseDomain = `b${++n}-${Date.now().toString(36)}.example.com`;
  const parent = await dns.createZone({ name: baseDomain, callerReference: `parent-${baseDomain}` });
  return { baseDomain, parentId: parent.zone.id };
}

async function zonesNamed(dns: DnsProvider, name: string) {
  return dns.findZonesByName(name);
}

async function delegationValues(dns: DnsProvider, parentId: string, name: string) {
  const page = await dns.listRecords(parentId, { from: { name, type: 'NS' }, maxItems: 1 });
  const r = page.recordSets[0];
  return r?.name === name && r.type === 'NS' ? r.values.map((v) => v.replace(/\.$/, '')).sort() : undefined;
}

/** One zone named `<org>.<base>`, tagged, delegated. */
async function expectConverged(dns: Route53Provider, org: string, baseDomain: string, parentId: string) {
  const name = `${org}.${baseDomain}`;
  const zones = await zonesNamed(dns, name);
  expect(zones).toHaveLength(1);
  const id = (zones[0] as { id: string }).id;
  const tags = (await dns.getTags([id])).get(id);
  expect(tags).toMatchObject({ 'zonekeeper:managed-by': 'zonekeeper', 'zonekeeper:organization': org });
  expect(tags?.['zonekeeper:created-at']).toMatch(/^\d{4}-\d\d-\d\dT/);
  const details = await dns.getZone(id);
  expect(await delegationValues(dns, parentId, name)).toEqual([...(details?.nameServers ?? [])].sort());
  return id;
}

beforeEach(() => {
  backend.proxy.setRules([]);
  backend.proxy.clearLog();
});

describe('zone operations on moto (Route 53 adapter through the fault proxy)', () => {
  it('is idempotent: the second ensure makes no write call (counted on the wire)', async () => {
    const dns = backend.provider();
    const { baseDomain, parentId } = await freshBase(dns);
    const first = await ensureOrganizationZone({ organization: 'acme', baseDomain }, { dns });
    expect(first.plan.steps.map((s) => s.op)).toEqual(['create-zone', 'tag-zone', 'upsert-delegation']);
    expect(first.zone?.createdAt).toBeInstanceOf(Date);
    await expectConverged(dns, 'acme', baseDomain, parentId);
    backend.proxy.clearLog();
    const second = await ensureOrganizationZone({ organization: 'acme', baseDomain }, { dns });
    expect(second.plan.steps).toEqual([]);
    expect(second.zone).toEqual(first.zone);
    expect(backend.proxy.count({ operation: WRITE_OPERATIONS })).toBe(0);
    expect(backend.proxy.count()).toBe(5);
  });

  it('refuses a name the parent already uses (foreign NS, an A record, a record below): nothing written', async () => {
    const dns = backend.provider();
    const { baseDomain, parentId } = await freshBase(dns);
    const records = [
      { org: 'status', name: `status.${baseDomain}`, type: 'NS' as const, values: ['ns1.elsewhere.net.'] },
      { org: 'www', name: `www.${baseDomain}`, type: 'A' as const, values: ['192.0.2.10'] },
      { org: 'mail', name: `smtp.mail.${baseDomain}`, type: 'A' as const, values: ['192.0.2.11'] },
      // The record right before the name (a sibling that sorts first) must not be taken for it.
      { org: 'zeta', name: `zet.${baseDomain}`, type: 'TXT' as const, values: ['"v=1"'] },
    ];
    for (const r of records) {
      await dns.changeRecords(parentId, [
        { action: 'CREATE', recordSet: { name: r.name, type: r.type, ttl: 300, values: r.values } },
      ]);
    }
    for (const org of ['status', 'www', 'mail']) {
      backend.proxy.clearLog();
      const error = await ensureOrganizationZone({ organization: org, baseDomain }, { dns }).catch((e) => e);
      expect(hasErrorCode(error, 'NOT_OWNED'), `${org}: ${String(error)}`).toBe(true);
      expect(backend.proxy.count({ operation: WRITE_OPERATIONS })).toBe(0);
      expect(await zonesNamed(dns, `${org}.${baseDomain}`)).toEqual([]);
    }
    // A sibling name sorting before (zet.) does not block zeta.
    const zeta = await ensureOrganizationZone({ organization: 'zeta', baseDomain }, { dns });
    expect(zeta.plan.steps.map((s) => s.op)).toEqual(['create-zone', 'tag-zone', 'upsert-delegation']);
    expect(await delegationValues(dns, parentId, `status.${baseDomain}`)).toEqual(['ns1.elsewhere.net']);
  });

  it('ten concurrent ensures for one organisation, then one more, converge to one canonical zone', async () => {
    const dns = backend.provider();
    const { baseDomain, parentId } = await freshBase(dns);
    const input = { organization: 'race', baseDomain };
    const settled = await Promise.allSettled(
      Array.from({ length: 10 }, () => ensureOrganizationZone(input, { dns })),
    );
    expect(settled.some((r) => r.status === 'fulfilled')).toBe(true);
    const before = await zonesNamed(dns, `race.${baseDomain}`);
    expect(before.length).toBeGreaterThan(1);
    const final = await ensureOrganizationZone(input, { dns });
    const id = await expectConverged(dns, 'race', baseDomain, parentId);
    expect(final.zone?.id).toBe(id);
    expect(final.duplicates).toHaveLength(before.length - 1);
    backend.proxy.clearLog();
    expect((await ensureOrganizationZone(input, { dns })).plan.steps).toEqual([]);
    expect(backend.proxy.count({ operation: WRITE_OPERATIONS })).toBe(0);
  });

  const crashes: [string, string][] = [
    ['CreateHostedZone', 'create-zone'],
    ['ChangeTagsForResource', 'tag-zone'],
    ['ChangeResourceRecordSets', 'upsert-delegation'],
  ];
  for (const [operation, step] of crashes) {
    it(`converges on a re-run after the connection drops right after ${operation} (${step}) took effect`, async () => {
      const dns = backend.provider({ maxAttempts: 2 });
      const { baseDomain, parentId } = await freshBase(dns);
      const input = { organization: 'crash', baseDomain };
      backend.proxy.setRules([{ operation, fault: { kind: 'drop', when: 'after' } }]);
      const error = await ensureOrganizationZone(input, { dns }).catch((e) => e);
      expect(hasErrorCode(error, 'UNAVAILABLE')).toBe(true);
      expect(error.message).toMatch(/^Route 53: /);
      expect(backend.proxy.count({ operation, fault: 'drop:after' })).toBe(2);
      backend.proxy.setRules([]);
      await ensureOrganizationZone(input, { dns });
      await expectConverged(dns, 'crash', baseDomain, parentId);
      expect((await ensureOrganizationZone(input, { dns })).plan.steps).toEqual([]);
    });
  }

  it('converges on a re-run after an abort in the middle of the delegation change', async () => {
    const dns = backend.provider();
    const { baseDomain, parentId } = await freshBase(dns);
    const input = { organization: 'abort', baseDomain };
    backend.proxy.setRules([
      { operation: 'ChangeResourceRecordSets', fault: { kind: 'latency', ms: 1_000 } },
    ]);
    const controller = new AbortController();
    const pending = ensureOrganizationZone(input, { dns }, { signal: controller.signal }).catch((e) => e);
    for (let i = 0; i < 200 && backend.proxy.count({ operation: 'ChangeTagsForResource' }) === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    expect(await pending).toBe(controller.signal.reason);
    backend.proxy.setRules([]);
    await ensureOrganizationZone(input, { dns });
    await expectConverged(dns, 'abort', baseDomain, parentId);
    // Let the abandoned, delayed request finish so it cannot land in a later test's log.
    for (let i = 0; i < 100 && backend.proxy.count({ fault: 'latency:1000' }) === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(backend.proxy.count({ fault: 'latency:1000' })).toBe(1);
  });

  it('completes ensure, list and delete through a throttling storm (30% of calls Throttling)', async () => {
    const dns = backend.provider({ maxAttempts: 10 });
    const { baseDomain, parentId } = await freshBase(dns);
    // Seeded: the same request sequence gets the same faults. A call fails only after 10 throttles in a
    // row (0.3^10 ≈ 6e-6 per call).
    backend.proxy.setRules([{ service: 'route53', fault: 'Throttling', probability: 0.3 }], 'storm-1');
    const orgs = ['s1', 's2', 's3'];
    for (const organization of orgs) await ensureOrganizationZone({ organization, baseDomain }, { dns });
    const listed = await listManagedZones({ dns }, { baseDomain });
    expect(listed.map((z) => z.organization).sort()).toEqual(orgs);
    for (const z of listed) await deleteOrganizationZone(z.id, { dns });
    const faulted = backend.proxy.count({ faulted: true });
    const total = backend.proxy.count();
    expect(faulted).toBeGreaterThan(5);
    expect(faulted / total).toBeGreaterThan(0.15);
    expect(backend.proxy.count({ fault: 'error:Throttling' })).toBe(faulted);
    backend.proxy.setRules([]);
    expect(await listManagedZones({ dns }, { baseDomain })).toEqual([]);
    for (const organization of orgs)
      expect(await delegationValues(dns, parentId, `${organization}.${baseDomain}`)).toBeUndefined();
  });

  it('deletes a zone with 5,000 records: delegation, five 1,000-record batches, zone', async () => {
    const dns = backend.provider();
    const { baseDomain, parentId } = await freshBase(dns);
    const { zone } = await ensureOrganizationZone({ organization: 'big', baseDomain }, { dns });
    const zoneId = (zone as { id: string }).id;
    for (let b = 0; b < 5; b++) {
      await backend.raw.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          ChangeBatch: {
            Changes: Array.from({ length: 1000 }, (_, i) => ({
              Action: 'CREATE' as const,
              ResourceRecordSet: {
                Name: `h${b}-${i}.big.${baseDomain}.`,
                Type: 'A' as const,
                TTL: 60,
                ResourceRecords: [{ Value: `10.${b}.${i >> 8}.${i & 255}` }],
              },
            })),
          },
        }),
      );
    }
    backend.proxy.clearLog();
    const result = await deleteOrganizationZone(zoneId, { dns });
    expect(result.plan.steps.map((s) => s.op)).toEqual([
      'delete-delegation',
      'delete-records',
      'delete-records',
      'delete-records',
      'delete-records',
      'delete-records',
      'delete-zone',
    ]);
    // Count answered requests for these two zones only (a delayed request of an earlier test may land
    // in the log; an SDK retry after a reset keep-alive socket is not a second change).
    const answered = (operation: string, zone = zoneId) =>
      backend.proxy.requests.filter(
        (r) => r.operation === operation && r.status === 200 && r.path.includes(zone),
      ).length;
    expect(answered('ChangeResourceRecordSets')).toBe(5);
    expect(answered('ChangeResourceRecordSets', parentId)).toBe(1);
    expect(answered('ListResourceRecordSets')).toBe(Math.ceil(5002 / 300));
    expect(answered('ListResourceRecordSets', parentId)).toBe(1);
    expect(answered('DeleteHostedZone')).toBe(1);
    expect(await dns.getZone(zoneId)).toBeUndefined();
    expect(await delegationValues(dns, parentId, `big.${baseDomain}`)).toBeUndefined();
    expect((await deleteOrganizationZone(zoneId, { dns })).plan.steps).toEqual([]);
  }, 90_000); // 14–17 s alone; over 30 s when the full suite shares 2 cores (moto is CPU-bound here).

  it('lists 250 zones with ⌈N/100⌉ ListHostedZones and ⌈N/10⌉ ListTagsForResources calls, fewer with baseDomain', async () => {
    await backend.moto.reset();
    const raw: Route53Client = backend.raw;
    const create = async (name: string, tags?: Record<string, string>) => {
      const out = await raw.send(new CreateHostedZoneCommand({ Name: name, CallerReference: `l-${name}` }));
      const id = (out.HostedZone?.Id ?? '').replace('/hostedzone/', '');
      if (tags) {
        await raw.send(
          new ChangeTagsForResourceCommand({
            ResourceType: 'hostedzone',
            ResourceId: id,
            AddTags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
          }),
        );
      }
      return id;
    };
    const managed = (org: string) => ({
      'zonekeeper:managed-by': 'zonekeeper',
      'zonekeeper:organization': org,
      'zonekeeper:created-at': '2026-02-03T04:05:06.000Z',
    });
    for (let i = 0; i < 200; i++)
      await create(`o${i}.list.example`, i % 4 === 0 ? managed(`o${i}`) : undefined);
    for (let i = 0; i < 30; i++) await create(`x${i}.other.example`, i === 0 ? managed('x0') : undefined);
    for (let i = 0; i < 20; i++)
      await create(`deep.o${i}.list.example`, i === 0 ? managed('deep') : undefined);
    const dns = backend.provider();
    backend.proxy.clearLog();
    const all = await listManagedZones({ dns });
    expect(backend.proxy.count({ operation: 'ListHostedZones' })).toBe(3);
    expect(backend.proxy.count({ operation: 'ListTagsForResources' })).toBe(25);
    expect(backend.proxy.count()).toBe(28);
    expect(all).toHaveLength(52);
    expect(all.find((z) => z.name === 'o8.list.example')).toEqual({
      id: expect.any(String),
      name: 'o8.list.example',
      organization: 'o8',
      createdAt: new Date('2026-02-03T04:05:06.000Z'),
      protected: false,
      callerReference: 'l-o8.list.example',
    });
    backend.proxy.clearLog();
    const under = await listManagedZones({ dns }, { baseDomain: 'list.example' });
    expect(under).toHaveLength(50);
    expect(backend.proxy.count({ operation: 'ListHostedZones' })).toBe(3);
    expect(backend.proxy.count({ operation: 'ListTagsForResources' })).toBe(20);
  });

  it('rejects bad input before any remote call', async () => {
    const dns = backend.provider();
    const attempts = [
      ensureOrganizationZone({ organization: 'Acme', baseDomain: 'example.com' }, { dns }),
      ensureOrganizationZone({ organization: 'acme', baseDomain: 'localhost' }, { dns }),
      ensureOrganizationZone(
        { organization: 'acme', baseDomain: 'example.com', parentZoneId: 'lower' },
        { dns },
      ),
      deleteOrganizationZone('/hostedzone/not valid', { dns }),
      listManagedZones({ dns }, { baseDomain: '-bad-.com' }),
    ];
    for (const attempt of attempts)
      expect(hasErrorCode(await attempt.catch((e) => e), 'INVALID_INPUT')).toBe(true);
    expect(backend.proxy.count()).toBe(0);
  });
});
