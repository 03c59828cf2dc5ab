import { createManualClock, hasErrorCode } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { createMemoryDnsProvider } from './memory.js';
import { dnsProviderContract } from './testing.js';

const strict = {
  callerReferenceIdempotency: true,
  strictChangeBatchValidation: true,
  plainSoa: true,
  unknownChangeNotFound: true,
  zonesByNamePaging: true,
} as const;

dnsProviderContract({
  name: 'memory (changes INSYNC at once)',
  create: async () => ({ provider: createMemoryDnsProvider() }),
  capabilities: strict,
});

dnsProviderContract({
  name: 'memory (manual clock, changes PENDING for 30 s)',
  create: async () => {
    const clock = createManualClock(new Date('2026-03-01T00:00:00Z'));
    return {
      provider: createMemoryDnsProvider({ clock, changeSyncDelayMs: 30_000 }),
      advanceTime: (ms) => clock.advance(ms),
    };
  },
  capabilities: { ...strict, pendingChanges: true },
});

describe('memory DNS provider', () => {
  it('counts port calls, the Route 53 requests they stand for, and writes', async () => {
    const dns = createMemoryDnsProvider();
    for (let i = 0; i < 150; i++)
      await dns.createZone({ name: `z${i}.example.com`, callerReference: `r${i}` });
    dns.resetCounters();
    await dns.listZones();
    await dns.getTags(['Z0000000000001']);
    expect(dns.calls).toEqual({ listZones: 1, getTags: 1 });
    expect(dns.requests).toEqual({ ListHostedZones: 2, ListTagsForResources: 1 });
    expect(dns.writes).toBe(0);
    await dns.changeTags('Z0000000000001', { add: { a: 'b' } });
    expect(dns.writes).toBe(1);
  });

  it('stamps changes with the injected clock and syncs them after the configured delay', async () => {
    const clock = createManualClock(new Date('2026-03-01T12:00:00Z'));
    const dns = createMemoryDnsProvider({ clock, changeSyncDelayMs: 10_000 });
    const { change, zone } = await dns.createZone({ name: 'acme.example.com', callerReference: 'r' });
    expect(change).toMatchObject({ status: 'PENDING', submittedAt: new Date('2026-03-01T12:00:00Z') });
    await clock.advance(9_999);
    expect((await dns.getChange(change.id)).status).toBe('PENDING');
    await clock.advance(1);
    expect((await dns.getChange(change.id)).status).toBe('INSYNC');
    expect(dns.snapshot()).toEqual([
      expect.objectContaining({
        id: zone.id,
        name: 'acme.example.com',
        tags: {},
        records: expect.any(Array),
      }),
    ]);
  });

  it('enforces Route 53 batch limits: 1,000 records and 32,000 characters, UPSERT counting twice', async () => {
    const dns = createMemoryDnsProvider();
    const { zone } = await dns.createZone({ name: 'big.example.com', callerReference: 'r' });
    const records = (n: number, action: 'CREATE' | 'UPSERT') =>
      Array.from({ length: n }, (_, i) => ({
        action,
        recordSet: {
          name: `h${i}.big.example.com`,
          type: 'A',
          ttl: 60,
          values: [`10.0.${i >> 8}.${i & 255}`],
        },
      }));
    await dns.changeRecords(zone.id, records(1000, 'CREATE'));
    expect(
      hasErrorCode(await dns.changeRecords(zone.id, records(501, 'UPSERT')).catch((e) => e), 'CONFLICT'),
    ).toBe(true);
    const long = `"${'x'.repeat(3_998)}"`;
    const txt = Array.from({ length: 9 }, (_, i) => ({
      action: 'CREATE' as const,
      recordSet: { name: `t${i}.big.example.com`, type: 'TXT', ttl: 60, values: [long] },
    }));
    expect(hasErrorCode(await dns.changeRecords(zone.id, txt).catch((e) => e), 'CONFLICT')).toBe(true);
    await dns.changeRecords(zone.id, txt.slice(0, 8));
  });

  it('refuses to delete the apex SOA or NS and a CNAME at the apex', async () => {
    const dns = createMemoryDnsProvider();
    const { zone } = await dns.createZone({ name: 'apex.example.com', callerReference: 'r' });
    const apex = (await dns.listRecords(zone.id)).recordSets;
    for (const recordSet of apex) {
      const e = await dns.changeRecords(zone.id, [{ action: 'DELETE', recordSet }]).catch((x) => x);
      expect(hasErrorCode(e, 'CONFLICT')).toBe(true);
    }
    const cname = { name: 'apex.example.com', type: 'CNAME', ttl: 60, values: ['x.example.org'] };
    expect(
      hasErrorCode(
        await dns.changeRecords(zone.id, [{ action: 'CREATE', recordSet: cname }]).catch((x) => x),
        'CONFLICT',
      ),
    ).toBe(true);
  });
});

describe('memory DNS provider idPrefix', () => {
  it('gives providers standing for different accounts different zone and change ids', async () => {
    const a = createMemoryDnsProvider({ idPrefix: 'A1' });
    const b = createMemoryDnsProvider();
    const za = await a.createZone({ name: 'a.test', callerReference: 'r' });
    const zb = await b.createZone({ name: 'b.test', callerReference: 'r' });
    expect(za.zone.id).toMatch(/^ZA1\d{13}$/);
    expect(za.change.id).toMatch(/^CA1\d{13}$/);
    expect(za.zone.id).not.toBe(zb.zone.id);
    expect((await a.getChange(za.change.id)).id).toBe(za.change.id);
  });

  it.each(['a', 'TOOLONG123', 'A-B'])('refuses idPrefix %j with INVALID_INPUT', (idPrefix) => {
    let error: unknown;
    try {
      createMemoryDnsProvider({ idPrefix });
    } catch (e) {
      error = e;
    }
    expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
  });
});
