/**
 * The contract every {@link DnsProvider} must satisfy, as a Vitest suite. zonekeeper runs it against the
 * memory provider (strict: every capability), the Route 53 adapter on moto (capabilities moto lacks
 * turned off) and the PowerDNS adapter on a real `pdns_server` (unique zone names); run it against your
 * own provider or a real AWS account:
 *
 * ```ts
 * import { dnsProviderContract } from '@zonekeeper/zone-manager/testing';
 * dnsProviderContract({
 *   name: 'my provider',
 *   create: async () => ({ provider: myProvider }),
 *   capabilities: { callerReferenceIdempotency: true, strictChangeBatchValidation: true },
 * });
 * ```
 *
 * Zones are created under `contract-zonekeeper.test` with unique names and deleted again by the tests
 * that create them where they can be. Requires `vitest` (an optional peer dependency).
 *
 * @packageDocumentation
 */

import { type ErrorCode, hasErrorCode } from '@zonekeeper/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeInfo, DnsProvider, HostedZone, RecordSet } from './ports.js';

/**
 * What a provider under test does where providers legitimately differ. Most flags are behaviours of
 * real Route 53 that some providers (moto, notably) lack: each turns on the strict tests of one
 * behaviour, and the memory provider passes all of them. `uniqueZoneNames` instead selects which of
 * two semantics is tested (Route 53's duplicate names, or one zone per name as on PowerDNS).
 * @public
 */
export interface DnsProviderCapabilities {
  /** A reused CallerReference is `ALREADY_EXISTS`, also after the zone was deleted. moto: no. */
  readonly callerReferenceIdempotency?: boolean;
  /**
   * Every `InvalidChangeBatch` rule is `CONFLICT`: CREATE over a different value, a CNAME beside another
   * type, bad A/AAAA rdata, unquoted TXT, DELETE of a missing or non-matching record. moto: no.
   */
  readonly strictChangeBatchValidation?: boolean;
  /** The apex SOA value is plain rdata. moto: no (a Python dict rendered as text). */
  readonly plainSoa?: boolean;
  /** `getChange` of an unknown id is `NOT_FOUND`. moto: no (it answers `INSYNC`). */
  readonly unknownChangeNotFound?: boolean;
  /** Changes are `PENDING` until `advanceTime` moves past the provider's sync delay. Needs `advanceTime`. */
  readonly pendingChanges?: boolean;
  /**
   * More than 100 zones of one name are all found (Route 53 pages `ListHostedZonesByName` by 100).
   * Creates and deletes 101 zones. moto: off (it ignores MaxItems, so nothing pages; the adapter's
   * paging is unit-tested against an SDK stub).
   */
  readonly zonesByNamePaging?: boolean;
  /**
   * Zone names are unique on the server (PowerDNS): a second `createZone` with a taken name is
   * `ALREADY_EXISTS` when it carries the existing zone's CallerReference (a retried create) and
   * `CONFLICT` otherwise, and leaves the existing zone as it was. When off (Route 53, moto, memory),
   * several zones may share a name and each is found by `findZonesByName`.
   */
  readonly uniqueZoneNames?: boolean;
}

/** What {@link DnsProviderContractOptions.create} returns. @public */
export interface DnsProviderUnderTest {
  readonly provider: DnsProvider;
  /** Runs after the suite. */
  cleanup?(): Promise<void>;
  /** Moves the provider's clock forward (for providers on a manual clock). */
  advanceTime?(ms: number): Promise<void>;
}

/** Options of {@link dnsProviderContract}. @public */
export interface DnsProviderContractOptions {
  /** Suite name, e.g. `'route53 (moto)'`. */
  readonly name: string;
  /** Creates the provider under test (once per suite). */
  create(): Promise<DnsProviderUnderTest>;
  /** Which strict behaviours to test (default: none). */
  readonly capabilities?: DnsProviderCapabilities;
}

const DOMAIN = 'contract-zonekeeper.test';

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

function expectCode(error: unknown, code: ErrorCode | readonly ErrorCode[]): void {
  const shown = (error as { code?: unknown; message?: unknown }) ?? {};
  expect(
    hasErrorCode(error, code),
    `expected ${JSON.stringify(code)}, got ${String(shown.code)}: ${String(shown.message)}`,
  ).toBe(true);
}

function a(name: string, value: string, ttl = 60): RecordSet {
  return { name, type: 'A', ttl, values: [value] };
}

/**
 * Registers the DNS provider contract suite.
 * @public
 */
export function dnsProviderContract(options: DnsProviderContractOptions): void {
  const caps = options.capabilities ?? {};
  describe(`DnsProvider contract: ${options.name}`, () => {
    let dns: DnsProvider;
    let made: DnsProviderUnderTest;
    let n = 0;
    const run = Math.random().toString(36).slice(2, 8);
    const fresh = () => `c${++n}-${run}.${DOMAIN}`;
    const ref = () => `contract-${run}-${++n}-${Math.random().toString(36).slice(2)}`;
    const newZone = async (name = fresh()) => {
      const created = await dns.createZone({ name, callerReference: ref(), comment: 'zonekeeper contract' });
      return { ...created, name };
    };
    const insync = async (change: ChangeInfo): Promise<ChangeInfo> => {
      let c = change;
      for (let i = 0; i < 60 && c.status !== 'INSYNC'; i++) {
        if (made.advanceTime) await made.advanceTime(1_000);
        else await new Promise((r) => setTimeout(r, 50));
        c = await dns.getChange(change.id);
      }
      return c;
    };

    beforeAll(async () => {
      made = await options.create();
      dns = made.provider;
    });
    afterAll(async () => {
      await made?.cleanup?.();
    });

    it('creates a public zone marked by its CallerReference and Comment, with four name servers', async () => {
      const name = fresh();
      const callerReference = ref();
      const created = await dns.createZone({
        name: `${name.toUpperCase()}.`,
        callerReference,
        comment: 'hello',
      });
      expect(created.zone.id).toMatch(/^[A-Z0-9]{1,32}$/);
      expect(created.zone).toMatchObject({ name, callerReference, comment: 'hello', privateZone: false });
      expect(created.nameServers).toHaveLength(4);
      for (const ns of created.nameServers) expect(ns).toMatch(/^[a-z0-9.-]+[a-z]$/);
      expect(created.change.id).toMatch(/^[A-Z0-9]+$/);
      expect(created.change.submittedAt).toBeInstanceOf(Date);
      expect(Number.isNaN(created.change.submittedAt.getTime())).toBe(false);
      const got = await dns.getZone(created.zone.id);
      expect(got?.zone).toMatchObject({ id: created.zone.id, name, callerReference, comment: 'hello' });
      expect([...(got?.nameServers ?? [])].sort()).toEqual([...created.nameServers].sort());
    });

    it('gives a new zone an apex SOA and an apex NS record with its name servers', async () => {
      const z = await newZone();
      const page = await dns.listRecords(z.zone.id);
      const apex = page.recordSets.filter((r) => r.name === z.name);
      expect(apex.map((r) => r.type).sort()).toEqual(['NS', 'SOA']);
      const ns = apex.find((r) => r.type === 'NS') as RecordSet;
      expect(ns.values.map((v) => v.replace(/\.$/, '')).sort()).toEqual([...z.nameServers].sort());
      if (caps.plainSoa) {
        const soa = apex.find((r) => r.type === 'SOA') as RecordSet;
        expect(soa.values[0]).toMatch(/^\S+\.? \S+\.? \d+ \d+ \d+ \d+ \d+$/);
      }
      expect((await dns.getZone(z.zone.id))?.zone.recordSetCount ?? 2).toBe(2);
    });

    if (caps.uniqueZoneNames) {
      it('keeps zone names unique: a retried create is ALREADY_EXISTS, another one CONFLICT, the zone unchanged', async () => {
        const name = fresh();
        const callerReference = ref();
        const one = await dns.createZone({ name, callerReference, comment: 'first' });
        expectCode(await failure(dns.createZone({ name, callerReference })), 'ALREADY_EXISTS');
        expectCode(
          await failure(dns.createZone({ name, callerReference: ref(), comment: 'second' })),
          'CONFLICT',
        );
        const found = await dns.findZonesByName(name);
        expect(found).toHaveLength(1);
        expect(found[0]).toMatchObject({ id: one.zone.id, callerReference, comment: 'first' });
      });
    } else {
      it('allows several zones with one name', async () => {
        const name = fresh();
        const one = await newZone(name);
        const two = await newZone(name);
        expect(one.zone.id).not.toBe(two.zone.id);
        const found = await dns.findZonesByName(name);
        expect(found.map((z) => z.id).sort()).toEqual([one.zone.id, two.zone.id].sort());
      });
    }

    it('finds zones by exact name only, and lists every zone once', async () => {
      const name = fresh();
      const one = await newZone(name);
      const child = await newZone(`sub.${name}`);
      const found = await dns.findZonesByName(name);
      expect(found.map((z) => z.id)).toEqual([one.zone.id]);
      expect(found.every((z) => z.name === name && !z.privateZone)).toBe(true);
      expect(found[0]?.callerReference).toBe(one.zone.callerReference);
      expect(await dns.findZonesByName(`nothing-${name}`)).toEqual([]);
      const listed = await dns.listZones();
      const all = listed.map((z) => z.id);
      expect(all).toEqual(expect.arrayContaining([one.zone.id, child.zone.id]));
      expect(new Set(all).size).toBe(all.length);
      expect(listed.find((z) => z.id === one.zone.id)).toMatchObject({
        name,
        callerReference: one.zone.callerReference,
        comment: 'zonekeeper contract',
      });
      // Pages handed over with onPage (if any) are, in order, exactly the listing.
      const pages: (readonly HostedZone[])[] = [];
      const again = await dns.listZones({ onPage: (page) => pages.push(page) });
      if (pages.length > 0) expect(pages.flat().map((z) => z.id)).toEqual(again.map((z) => z.id));
      expect(again.map((z) => z.id)).toEqual(expect.arrayContaining([one.zone.id, child.zone.id]));
    });

    it("gives a zone re-created under a deleted zone's name a new id; the old id stays missing", async () => {
      const name = fresh();
      const first = await newZone(name);
      await dns.deleteZone(first.zone.id);
      const second = await newZone(name);
      expect(second.zone.id).not.toBe(first.zone.id);
      expect(await dns.getZone(first.zone.id)).toBeUndefined();
      expectCode(await failure(dns.listRecords(first.zone.id)), 'NOT_FOUND');
      expectCode(await failure(dns.deleteZone(first.zone.id)), 'NOT_FOUND');
      expect((await dns.getZone(second.zone.id))?.zone.name).toBe(name);
    });

    if (caps.zonesByNamePaging) {
      it('finds more than 100 zones of one name, across ListHostedZonesByName pages', async () => {
        const name = fresh();
        const ids: string[] = [];
        for (let i = 0; i < 101; i++)
          ids.push((await dns.createZone({ name, callerReference: ref() })).zone.id);
        const found = await dns.findZonesByName(name);
        expect(found.map((z) => z.id).sort()).toEqual([...ids].sort());
        for (const id of ids) await dns.deleteZone(id);
        expect(await dns.findZonesByName(name)).toEqual([]);
      });
    }

    if (caps.callerReferenceIdempotency) {
      it('refuses a reused CallerReference with ALREADY_EXISTS, also after the zone was deleted', async () => {
        const callerReference = ref();
        const first = await dns.createZone({ name: fresh(), callerReference });
        expectCode(await failure(dns.createZone({ name: fresh(), callerReference })), 'ALREADY_EXISTS');
        await dns.deleteZone(first.zone.id);
        expectCode(await failure(dns.createZone({ name: fresh(), callerReference })), 'ALREADY_EXISTS');
      });
    }

    it('reports a missing zone: getZone is undefined, writes are NOT_FOUND', async () => {
      const z = await newZone();
      await dns.deleteZone(z.zone.id);
      const id = z.zone.id;
      expect(await dns.getZone(id)).toBeUndefined();
      expectCode(await failure(dns.deleteZone(id)), 'NOT_FOUND');
      expectCode(await failure(dns.changeTags(id, { add: { k: 'v' } })), 'NOT_FOUND');
      expectCode(await failure(dns.listRecords(id)), 'NOT_FOUND');
      expectCode(
        await failure(
          dns.changeRecords(id, [{ action: 'CREATE', recordSet: a(`x.${z.name}`, '192.0.2.1') }]),
        ),
        'NOT_FOUND',
      );
      expect((await dns.findZonesByName(z.name)).map((x) => x.id)).not.toContain(id);
      // A missing zone is omitted from a tag batch, or has no tags.
      expect((await dns.getTags([id])).get(id) ?? {}).toEqual({});
    });

    it('adds, overwrites and removes tags, and reads the tags of up to 10 zones in one call', async () => {
      const zones = [await newZone(), await newZone(), await newZone()];
      const [z1, z2, z3] = zones.map((z) => z.zone.id) as [string, string, string];
      await dns.changeTags(z1, { add: { 'zonekeeper:managed-by': 'zonekeeper', a: '1' } });
      await dns.changeTags(z1, { add: { a: '2', b: '' }, remove: ['zonekeeper:managed-by'] });
      await dns.changeTags(z2, { add: { c: '3' } });
      const tags = await dns.getTags([z1, z2, z3]);
      expect(tags.get(z1)).toEqual({ a: '2', b: '' });
      expect(tags.get(z2)).toEqual({ c: '3' });
      expect(tags.get(z3) ?? {}).toEqual({});
      expectCode(await failure(dns.getTags(Array.from({ length: 11 }, () => z1))), 'INVALID_INPUT');
      expectCode(await failure(dns.getTags([])), 'INVALID_INPUT');
    });

    it('creates, upserts and deletes records, reading names back canonical (a wildcard as *)', async () => {
      const z = await newZone();
      const id = z.zone.id;
      const change = await dns.changeRecords(
        id,
        [
          { action: 'CREATE', recordSet: a(`www.${z.name}`, '192.0.2.1') },
          { action: 'CREATE', recordSet: a(`*.apps.${z.name}`, '192.0.2.2') },
          {
            action: 'CREATE',
            recordSet: { name: `t.${z.name}`, type: 'TXT', ttl: 300, values: ['"a b" "c"'] },
          },
          {
            action: 'CREATE',
            recordSet: { name: `Sub.${z.name}.`, type: 'NS', ttl: 300, values: ['ns1.example.net.'] },
          },
        ],
        { comment: 'contract' },
      );
      expect(change.submittedAt).toBeInstanceOf(Date);
      await dns.changeRecords(id, [{ action: 'UPSERT', recordSet: a(`www.${z.name}`, '192.0.2.9', 120) }]);
      const records = (await dns.listRecords(id)).recordSets;
      const byKey = new Map(records.map((r) => [`${r.name} ${r.type}`, r]));
      expect(byKey.get(`www.${z.name} A`)).toMatchObject({ ttl: 120, values: ['192.0.2.9'] });
      expect(byKey.get(`*.apps.${z.name} A`)).toMatchObject({ ttl: 60, values: ['192.0.2.2'] });
      expect(byKey.get(`t.${z.name} TXT`)).toMatchObject({ values: ['"a b" "c"'] });
      expect(byKey.get(`sub.${z.name} NS`)).toMatchObject({ values: ['ns1.example.net.'] });
      // Records as read can be deleted as read (whatever spelling the provider keeps).
      const toDelete = records.filter((r) => r.name !== z.name);
      await dns.changeRecords(
        id,
        toDelete.map((recordSet) => ({ action: 'DELETE', recordSet })),
      );
      expect((await dns.listRecords(id)).recordSets.map((r) => r.type).sort()).toEqual(['NS', 'SOA']);
      await dns.deleteZone(id);
    });

    it('applies a batch atomically: one rejected change leaves the zone unchanged (CONFLICT)', async () => {
      const z = await newZone();
      await dns.changeRecords(z.zone.id, [{ action: 'CREATE', recordSet: a(`dup.${z.name}`, '192.0.2.1') }]);
      const error = await failure(
        dns.changeRecords(z.zone.id, [
          { action: 'CREATE', recordSet: a(`new.${z.name}`, '192.0.2.5') },
          { action: 'CREATE', recordSet: a(`dup.${z.name}`, '192.0.2.1') },
        ]),
      );
      expectCode(error, 'CONFLICT');
      expect((error as Error).message).toMatch(/already exists/);
      const names = (await dns.listRecords(z.zone.id)).recordSets.map((r) => r.name);
      expect(names).not.toContain(`new.${z.name}`);
      expect(names).toContain(`dup.${z.name}`);
    });

    it('rejects a record outside the zone with CONFLICT', async () => {
      const z = await newZone();
      expectCode(
        await failure(
          dns.changeRecords(z.zone.id, [
            { action: 'CREATE', recordSet: a('elsewhere.example.org', '192.0.2.1') },
          ]),
        ),
        'CONFLICT',
      );
    });

    it('rejects a DELETE of a record that does not exist', async () => {
      const z = await newZone();
      const error = await failure(
        dns.changeRecords(z.zone.id, [{ action: 'DELETE', recordSet: a(`ghost.${z.name}`, '192.0.2.1') }]),
      );
      expectCode(error, caps.strictChangeBatchValidation ? 'CONFLICT' : ['CONFLICT', 'INVALID_INPUT']);
    });

    if (caps.strictChangeBatchValidation) {
      it('rejects every InvalidChangeBatch case with CONFLICT and changes nothing', async () => {
        const z = await newZone();
        const id = z.zone.id;
        await dns.changeRecords(id, [
          { action: 'CREATE', recordSet: a(`host.${z.name}`, '192.0.2.1') },
          {
            action: 'CREATE',
            recordSet: { name: `alias.${z.name}`, type: 'CNAME', ttl: 60, values: ['host.example.org'] },
          },
        ]);
        const cases: [string, RecordSet, 'CREATE' | 'UPSERT' | 'DELETE'][] = [
          ['CREATE of the same name and type with another value', a(`host.${z.name}`, '192.0.2.7'), 'CREATE'],
          [
            'a CNAME beside an A record',
            { name: `host.${z.name}`, type: 'CNAME', ttl: 60, values: ['x.example.org'] },
            'CREATE',
          ],
          ['an A record beside a CNAME', a(`alias.${z.name}`, '192.0.2.1'), 'UPSERT'],
          ['an A value that is not an IPv4 address', a(`bad.${z.name}`, 'not-an-ip'), 'CREATE'],
          [
            'an AAAA value that is not an IPv6 address',
            { name: `bad6.${z.name}`, type: 'AAAA', ttl: 60, values: ['192.0.2.1'] },
            'CREATE',
          ],
          [
            'an unquoted TXT value',
            { name: `txt.${z.name}`, type: 'TXT', ttl: 60, values: ['unquoted'] },
            'CREATE',
          ],
          ['a DELETE with another TTL', a(`host.${z.name}`, '192.0.2.1', 61), 'DELETE'],
          ['a DELETE with other values', a(`host.${z.name}`, '192.0.2.2'), 'DELETE'],
        ];
        for (const [what, recordSet, action] of cases) {
          const error = await failure(dns.changeRecords(id, [{ action, recordSet }]));
          expect(hasErrorCode(error, 'CONFLICT'), what).toBe(true);
        }
        const records = (await dns.listRecords(id)).recordSets;
        expect(records.find((r) => r.name === `host.${z.name}` && r.type === 'A')?.values).toEqual([
          '192.0.2.1',
        ]);
        expect(records).toHaveLength(4);
      });
    }

    it('pages record sets in name-then-type order without gaps or repeats', async () => {
      const z = await newZone();
      const names = ['b', 'a', 'a.b', 'c', 'd-1', 'e'].map((l) => `${l}.${z.name}`);
      await dns.changeRecords(z.zone.id, [
        ...names.map((name, i) => ({ action: 'CREATE' as const, recordSet: a(name, `192.0.2.${i + 1}`) })),
        { action: 'CREATE', recordSet: { name: `a.${z.name}`, type: 'TXT', ttl: 60, values: ['"x"'] } },
      ]);
      const full = (await dns.listRecords(z.zone.id)).recordSets;
      const paged: RecordSet[] = [];
      let from: { name: string; type: string; setIdentifier?: string } | undefined;
      let pages = 0;
      do {
        const page = await dns.listRecords(z.zone.id, { ...(from ? { from } : {}), maxItems: 3 });
        expect(page.recordSets.length).toBeLessThanOrEqual(3);
        paged.push(...page.recordSets);
        from = page.next;
        pages++;
      } while (from && pages < 20);
      expect(paged).toEqual(full);
      expect(full).toHaveLength(9);
      expect(pages).toBe(3);
      const order = full.map((r) => `${r.name} ${r.type}`);
      expect(order).toEqual([
        `${z.name} NS`,
        `${z.name} SOA`,
        `a.${z.name} A`,
        `a.${z.name} TXT`,
        `b.${z.name} A`,
        `a.b.${z.name} A`,
        `c.${z.name} A`,
        `d-1.${z.name} A`,
        `e.${z.name} A`,
      ]);
    });

    it('refuses to delete a zone with records besides the apex SOA and NS (CONFLICT), then deletes it empty', async () => {
      const z = await newZone();
      await dns.changeRecords(z.zone.id, [{ action: 'CREATE', recordSet: a(`x.${z.name}`, '192.0.2.1') }]);
      expectCode(await failure(dns.deleteZone(z.zone.id)), 'CONFLICT');
      await dns.changeRecords(z.zone.id, [{ action: 'DELETE', recordSet: a(`x.${z.name}`, '192.0.2.1') }]);
      const change = await dns.deleteZone(z.zone.id);
      expect(change.submittedAt).toBeInstanceOf(Date);
      expect(await dns.getZone(z.zone.id)).toBeUndefined();
    });

    it('reports changes by id until they are INSYNC', async () => {
      const z = await newZone();
      const change = await dns.changeRecords(z.zone.id, [
        { action: 'UPSERT', recordSet: a(`s.${z.name}`, '192.0.2.1') },
      ]);
      if (caps.pendingChanges) {
        expect(change.status).toBe('PENDING');
        expect((await dns.getChange(change.id)).status).toBe('PENDING');
      }
      const done = await insync(change);
      expect(done.status).toBe('INSYNC');
      expect(done.id).toBe(change.id);
      if (caps.unknownChangeNotFound) expectCode(await failure(dns.getChange('CNOSUCHCHANGE0')), 'NOT_FOUND');
    });

    it('rejects malformed input with INVALID_INPUT', async () => {
      const z = await newZone();
      // Thunks, called one at a time: started together, a provider that rejects some input only after a
      // round trip would leave the other rejections unobserved for a while (unhandled-rejection noise).
      const bad: [string, () => Promise<unknown>][] = [
        ['zone name', () => dns.createZone({ name: 'not a domain', callerReference: ref() })],
        ['empty CallerReference', () => dns.createZone({ name: fresh(), callerReference: '' })],
        ['long CallerReference', () => dns.createZone({ name: fresh(), callerReference: 'x'.repeat(129) })],
        ['zone id', () => dns.getZone('../../etc/passwd')],
        ['zone id', () => dns.listRecords('z lower case')],
        ['maxItems', () => dns.listRecords(z.zone.id, { maxItems: 0 })],
        ['empty batch', () => dns.changeRecords(z.zone.id, [])],
        [
          'record name',
          () =>
            dns.changeRecords(z.zone.id, [
              { action: 'CREATE', recordSet: a('bad name.example.org', '192.0.2.1') },
            ]),
        ],
        [
          'TTL and alias',
          () =>
            dns.changeRecords(z.zone.id, [
              { action: 'CREATE', recordSet: { name: `n.${z.name}`, type: 'A', values: [] } },
            ]),
        ],
        [
          'action',
          () =>
            dns.changeRecords(z.zone.id, [
              { action: 'MERGE' as 'CREATE', recordSet: a(`m.${z.name}`, '192.0.2.1') },
            ]),
        ],
      ];
      for (const [what, call] of bad) {
        const error = await failure(call());
        expect(hasErrorCode(error, 'INVALID_INPUT'), what).toBe(true);
      }
    });

    it('rejects with signal.reason when the signal is aborted, changing nothing', async () => {
      const controller = new AbortController();
      controller.abort();
      const name = fresh();
      const error = await failure(
        dns.createZone({ name, callerReference: ref() }, { signal: controller.signal }),
      );
      expect(error).toBe(controller.signal.reason);
      expect(await failure(dns.listZones({ signal: controller.signal }))).toBe(controller.signal.reason);
      expect(await dns.findZonesByName(name)).toEqual([]);
    });
  });
}
