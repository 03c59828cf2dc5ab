import { createManualClock, hasErrorCode, type Logger, ZonekeeperError } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { createMemoryDnsProvider, type MemoryDnsProvider } from './memory.js';
import { organizationCallerReference, ZoneTags } from './ownership.js';
import { planOrganizationZone } from './plan-zone.js';
import type { DnsProvider, RecordSet } from './ports.js';
import {
  deleteOrganizationZone,
  ensureOrganizationZone,
  gatherOrganizationZone,
  gatherZoneDeletion,
  listManagedZones,
} from './zones.js';

const input = { organization: 'acme', baseDomain: 'example.com' } as const;
const ZONE = 'acme.example.com';
const T0 = new Date('2026-05-04T10:00:00.000Z');

async function setup(options: { syncDelayMs?: number; autoAdvance?: boolean } = {}) {
  const clock = createManualClock(T0, { autoAdvance: options.autoAdvance ?? true });
  const dns = createMemoryDnsProvider({ clock, changeSyncDelayMs: options.syncDelayMs ?? 0 });
  const parent = await dns.createZone({ name: 'example.com', callerReference: 'parent' });
  let r = 0;
  const random = () => {
    r = (r + 0.137) % 1;
    return r;
  };
  dns.resetCounters();
  return { dns, clock, parentId: parent.zone.id, deps: { dns, clock, random } };
}

async function delegationOf(dns: DnsProvider, parentId: string, name = ZONE): Promise<RecordSet | undefined> {
  const page = await dns.listRecords(parentId, { from: { name, type: 'NS' }, maxItems: 1 });
  const r = page.recordSets[0];
  return r?.name === name && r.type === 'NS' ? r : undefined;
}

const zonesNamed = (dns: MemoryDnsProvider, name = ZONE) => dns.snapshot().filter((z) => z.name === name);

/** Asserts the end state: one zone for acme, fully tagged, delegated from the parent. */
async function expectConverged(dns: MemoryDnsProvider, parentId: string) {
  const zones = zonesNamed(dns);
  expect(zones).toHaveLength(1);
  const zone = zones[0] as (typeof zones)[number];
  expect(zone.tags).toMatchObject({ [ZoneTags.managedBy]: 'zonekeeper', [ZoneTags.organization]: 'acme' });
  expect(Number.isNaN(new Date(zone.tags[ZoneTags.createdAt] as string).getTime())).toBe(false);
  const d = await delegationOf(dns, parentId);
  expect(d?.values.map((v) => v.replace(/\.$/, '')).sort()).toEqual([...zone.nameServers].sort());
  return zone;
}

/**
 * Wraps a provider so that the n-th write call "crashes": `after` lets the write happen and then fails
 * (a lost response), `before` fails without writing.
 */
function crashing(dns: DnsProvider, n: number, when: 'before' | 'after'): DnsProvider {
  let writes = 0;
  const writeMethods = new Set(['createZone', 'deleteZone', 'changeTags', 'changeRecords']);
  return new Proxy(dns, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || !writeMethods.has(prop) || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        writes++;
        const crash = () =>
          new ZonekeeperError('UNAVAILABLE', `simulated crash ${when} write ${writes} (${prop})`);
        if (writes === n && when === 'before') throw crash();
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (writes === n) throw crash();
        return result;
      };
    },
  });
}

describe('ensureOrganizationZone (memory provider)', () => {
  it('creates the zone, tags it with the change time, delegates it and converges', async () => {
    const { dns, parentId, deps } = await setup();
    const result = await ensureOrganizationZone(input, deps);
    expect(result.dryRun).toBe(false);
    expect(result.plan.steps.map((s) => s.op)).toEqual(['create-zone', 'tag-zone', 'upsert-delegation']);
    const zone = await expectConverged(dns, parentId);
    expect(result.zone).toEqual({ id: zone.id, name: ZONE, nameServers: zone.nameServers, createdAt: T0 });
    expect(zone.tags[ZoneTags.createdAt]).toBe(T0.toISOString());
    expect(zone.comment).toBe('Managed by zonekeeper for organisation acme');
    expect(zone.callerReference).toMatch(/^zk1:[0-9a-f]{16}:[0-9a-z]+-[0-9a-z]{8}$/);
    expect((await delegationOf(dns, parentId))?.ttl).toBe(300);
    expect(result.duplicates).toEqual([]);
    // Convergence: planning again yields no steps.
    const again = planOrganizationZone(
      await gatherOrganizationZone({ zoneName: ZONE, baseDomain: 'example.com' }, dns),
      input,
      T0,
    );
    expect(again.steps).toEqual([]);
  });

  it('is idempotent: a second run makes no write call and returns the same zone', async () => {
    const { dns, deps } = await setup();
    const first = await ensureOrganizationZone(input, deps);
    dns.resetCounters();
    const second = await ensureOrganizationZone(input, deps);
    expect(dns.writes).toBe(0);
    expect(second.plan.steps).toEqual([]);
    expect(second.zone).toEqual(first.zone);
    expect(dns.requests).toEqual({
      ListHostedZonesByName: 2,
      ListTagsForResources: 1,
      GetHostedZone: 1,
      ListResourceRecordSets: 1,
    });
  });

  it('returns the plan and changes nothing in a dry run', async () => {
    const { dns, deps } = await setup();
    const result = await ensureOrganizationZone(input, deps, { dryRun: true });
    expect(result).toMatchObject({ dryRun: true, duplicates: [] });
    expect(result.zone).toBeUndefined();
    expect(result.plan.steps.map((s) => s.op)).toEqual(['create-zone', 'tag-zone', 'upsert-delegation']);
    expect(dns.writes).toBe(0);
    expect(zonesNamed(dns)).toEqual([]);
  });

  it('waits for the delegation change to be INSYNC, polling with backoff on the injected clock', async () => {
    const { dns, clock, deps } = await setup({ syncDelayMs: 45_000 });
    await ensureOrganizationZone(input, deps);
    expect(clock.now().getTime() - T0.getTime()).toBeGreaterThanOrEqual(45_000);
    const polls = dns.calls.getChange ?? 0;
    expect(polls).toBeGreaterThanOrEqual(3);
    expect(polls).toBeLessThanOrEqual(8);
  });

  it('does not poll when waitForSync is false', async () => {
    const { dns, clock, deps } = await setup({ syncDelayMs: 60_000 });
    await ensureOrganizationZone(input, deps, { waitForSync: false });
    expect(dns.calls.getChange ?? 0).toBe(0);
    expect(clock.now()).toEqual(T0);
  });

  it('gives up with TIMEOUT when the change never syncs, and a re-run converges', async () => {
    const { dns, parentId, deps } = await setup({ syncDelayMs: 600_000 });
    const error = await ensureOrganizationZone(input, deps, { syncTimeoutMs: 20_000 }).catch((e) => e);
    expect(hasErrorCode(error, 'TIMEOUT')).toBe(true);
    expect(error.message).toMatch(/INSYNC/);
    await expectConverged(dns, parentId);
    dns.resetCounters();
    expect((await ensureOrganizationZone(input, deps)).plan.steps).toEqual([]);
    expect(dns.writes).toBe(0);
  });

  it('stops on abort while waiting for INSYNC (signal.reason), and a re-run converges', async () => {
    const { dns, clock, parentId, deps } = await setup({ syncDelayMs: 30_000, autoAdvance: false });
    const controller = new AbortController();
    const pending = ensureOrganizationZone(input, deps, { signal: controller.signal }).catch((e) => e);
    for (let i = 0; i < 100 && clock.pendingSleeps === 0; i++) await new Promise((r) => setImmediate(r));
    expect(clock.pendingSleeps).toBe(1);
    controller.abort(new Error('shutting down'));
    expect(await pending).toBe(controller.signal.reason);
    await clock.advance(30_000);
    const rerun = await ensureOrganizationZone(input, deps);
    expect(rerun.plan.steps).toEqual([]);
    await expectConverged(dns, parentId);
  });

  for (const when of ['before', 'after'] as const) {
    for (const [n, op] of [
      [1, 'create-zone'],
      [2, 'tag-zone'],
      [3, 'upsert-delegation'],
    ] as const) {
      it(`converges on a re-run after a crash ${when} the ${op} step`, async () => {
        const { dns, parentId, deps } = await setup();
        const error = await ensureOrganizationZone(input, { ...deps, dns: crashing(dns, n, when) }).catch(
          (e) => e,
        );
        expect(error.message).toContain(`simulated crash ${when} write ${n}`);
        const rerun = await ensureOrganizationZone(input, deps);
        const zone = await expectConverged(dns, parentId);
        expect(rerun.zone?.id).toBe(zone.id);
        if (op === 'create-zone' && when === 'after') {
          expect(rerun.plan.steps.map((s) => s.op)).toEqual(['tag-zone', 'upsert-delegation']);
          expect(rerun.plan.steps[0]).toMatchObject({ createdAt: 'caller-reference' });
          expect(zone.tags[ZoneTags.createdAt]).toBe(T0.toISOString());
        }
        dns.resetCounters();
        expect((await ensureOrganizationZone(input, deps)).plan.steps).toEqual([]);
        expect(dns.writes).toBe(0);
      });
    }
  }

  it('adopts its own zone when CreateHostedZone reports the CallerReference as already used (a retried create)', async () => {
    const { dns, parentId, deps } = await setup();
    let created = false;
    const retrying = new Proxy(dns, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== 'createZone') return value;
        return async (spec: Parameters<DnsProvider['createZone']>[0], opts?: { signal?: AbortSignal }) => {
          // The first attempt succeeds but its answer is lost; the retry hits the used CallerReference.
          if (!created) {
            created = true;
            await target.createZone(spec, opts);
          }
          return target.createZone(spec, opts);
        };
      },
    });
    const result = await ensureOrganizationZone(input, { ...deps, dns: retrying });
    const zone = await expectConverged(dns, parentId);
    expect(result.zone?.id).toBe(zone.id);
    expect(result.zone?.createdAt).toEqual(T0);
  });

  it('ten concurrent runs for one organisation, then one more, converge to one canonical zone', async () => {
    const { dns, parentId, deps } = await setup();
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => ensureOrganizationZone(input, deps)),
    );
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThan(0);
    const created = zonesNamed(dns);
    expect(created.length).toBeGreaterThan(1); // the race really produced duplicates
    const final = await ensureOrganizationZone(input, deps);
    const zone = await expectConverged(dns, parentId);
    expect(final.zone?.id).toBe(zone.id);
    expect(zone.id).toBe(created[0]?.id); // oldest, then lowest id
    expect(final.duplicates).toHaveLength(created.length - 1);
    expect(final.plan.steps.filter((s) => s.op === 'delete-duplicate-zone')).toHaveLength(created.length - 1);
    expect((await ensureOrganizationZone(input, deps)).plan.steps).toEqual([]);
  });

  it('keeps and reports a duplicate that has records, repairing its tags', async () => {
    const { dns, deps } = await setup();
    const { zone } = (await ensureOrganizationZone(input, deps)) as { zone: { id: string } };
    const dup = await dns.createZone({
      name: ZONE,
      callerReference: organizationCallerReference(ZONE, new Date(T0.getTime() + 1), 'd'),
    });
    await dns.changeRecords(dup.zone.id, [
      { action: 'CREATE', recordSet: { name: `x.${ZONE}`, type: 'A', ttl: 60, values: ['192.0.2.1'] } },
    ]);
    const result = await ensureOrganizationZone(input, deps);
    expect(result.zone?.id).toBe(zone.id);
    expect(result.duplicates).toEqual([dup.zone.id]);
    expect(result.plan.steps.map((s) => s.op)).toEqual(['tag-zone']);
    expect(zonesNamed(dns)).toHaveLength(2);
    expect((await listManagedZones(deps)).map((z) => z.id).sort()).toEqual([zone.id, dup.zone.id].sort());
  });

  it('never adopts a zone it does not own (NOT_OWNED), and writes nothing', async () => {
    const { dns, deps } = await setup();
    await dns.createZone({ name: ZONE, callerReference: 'created-by-terraform' });
    dns.resetCounters();
    const error = await ensureOrganizationZone(input, deps).catch((e) => e);
    expect(hasErrorCode(error, 'NOT_OWNED')).toBe(true);
    expect(dns.writes).toBe(0);
  });

  it('refuses a zone tagged for another organisation (NOT_OWNED)', async () => {
    const { dns, deps } = await setup();
    const other = await dns.createZone({ name: ZONE, callerReference: 'x' });
    await dns.changeTags(other.zone.id, {
      add: { [ZoneTags.managedBy]: 'zonekeeper', [ZoneTags.organization]: 'globex' },
    });
    expect(hasErrorCode(await ensureOrganizationZone(input, deps).catch((e) => e), 'NOT_OWNED')).toBe(true);
  });

  it('finds the parent by name, or uses parentZoneId, and explains a missing or ambiguous parent', async () => {
    const { dns, parentId, deps } = await setup();
    const second = await dns.createZone({ name: 'example.com', callerReference: 'parent-2' });
    const ambiguous = await ensureOrganizationZone(input, deps).catch((e) => e);
    expect(hasErrorCode(ambiguous, 'CONFLICT')).toBe(true);
    expect(ambiguous.message).toMatch(/pass parentZoneId/);
    await ensureOrganizationZone({ ...input, parentZoneId: second.zone.id }, deps);
    expect(await delegationOf(dns, second.zone.id)).toBeDefined();
    expect(await delegationOf(dns, parentId)).toBeUndefined();
    const wrong = await dns.createZone({ name: 'example.org', callerReference: 'other' });
    const mismatch = await ensureOrganizationZone({ ...input, parentZoneId: wrong.zone.id }, deps).catch(
      (e) => e,
    );
    expect(hasErrorCode(mismatch, 'CONFLICT')).toBe(true);
    const missing = await ensureOrganizationZone(
      { organization: 'acme', baseDomain: 'example.net' },
      deps,
    ).catch((e) => e);
    expect(hasErrorCode(missing, 'NOT_FOUND')).toBe(true);
    expect(missing.message).toMatch(/create the parent zone/);
    const gone = await ensureOrganizationZone({ ...input, parentZoneId: 'Z9999999999999' }, deps).catch(
      (e) => e,
    );
    expect(hasErrorCode(gone, 'NOT_FOUND')).toBe(true);
  });

  it('refuses (NOT_OWNED, nothing written) when someone re-pointed the delegation elsewhere', async () => {
    const { dns, parentId, deps } = await setup();
    await ensureOrganizationZone(input, deps);
    await dns.changeRecords(parentId, [
      { action: 'UPSERT', recordSet: { name: ZONE, type: 'NS', ttl: 300, values: ['ns.attacker.example.'] } },
    ]);
    const before = dns.snapshot();
    const error = await ensureOrganizationZone({ ...input, delegationTtl: 120 }, deps).catch((e) => e);
    expect(hasErrorCode(error, 'NOT_OWNED')).toBe(true);
    expect(error.message).toContain('ns.attacker.example.');
    expect(dns.snapshot()).toEqual(before);
    expect((await delegationOf(dns, parentId))?.values).toEqual(['ns.attacker.example.']);
  });

  it('refuses (NOT_OWNED, nothing created) when the parent already has records at the name', async () => {
    const { dns, parentId, deps } = await setup();
    await dns.changeRecords(parentId, [
      { action: 'CREATE', recordSet: { name: ZONE, type: 'A', ttl: 300, values: ['192.0.2.1'] } },
    ]);
    const before = dns.snapshot();
    const error = await ensureOrganizationZone(input, deps).catch((e) => e);
    expect(hasErrorCode(error, 'NOT_OWNED')).toBe(true);
    expect(error.message).toMatch(new RegExp(`${ZONE.replaceAll('.', '\\.')} A`));
    expect(dns.snapshot()).toEqual(before);
  });

  it('rejects bad input with INVALID_INPUT before any remote call', async () => {
    const { dns, deps } = await setup();
    const bad: [string, () => Promise<unknown>][] = [
      [
        'uppercase organisation',
        () => ensureOrganizationZone({ organization: 'Acme', baseDomain: 'example.com' }, deps),
      ],
      [
        'organisation with underscore',
        () => ensureOrganizationZone({ organization: 'a_b', baseDomain: 'example.com' }, deps),
      ],
      [
        'empty organisation',
        () => ensureOrganizationZone({ organization: '', baseDomain: 'example.com' }, deps),
      ],
      ['TLD base domain', () => ensureOrganizationZone({ organization: 'acme', baseDomain: 'com' }, deps)],
      [
        'base domain with space',
        () => ensureOrganizationZone({ organization: 'acme', baseDomain: 'exa mple.com' }, deps),
      ],
      ['bad parentZoneId', () => ensureOrganizationZone({ ...input, parentZoneId: 'not/an id' }, deps)],
      ['zero TTL', () => ensureOrganizationZone({ ...input, delegationTtl: 0 }, deps)],
      ['negative sync timeout', () => ensureOrganizationZone(input, deps, { syncTimeoutMs: -1 })],
      ['missing input', () => ensureOrganizationZone(undefined as never, deps)],
      ['bad zone id to delete', () => deleteOrganizationZone('../Z1', deps)],
      ['bad base domain to list', () => listManagedZones(deps, { baseDomain: 'not a domain' })],
    ];
    for (const [what, call] of bad) {
      expect(hasErrorCode(await call().catch((e) => e), 'INVALID_INPUT'), what).toBe(true);
    }
    expect(dns.calls).toEqual({});
  });

  it('logs duplicates through the injected logger only', async () => {
    const { dns, deps } = await setup();
    await ensureOrganizationZone(input, deps);
    await dns.createZone({
      name: ZONE,
      callerReference: organizationCallerReference(ZONE, new Date(T0.getTime() + 5), 'z'),
    });
    const lines: string[] = [];
    const logger: Logger = {
      debug: () => {},
      info: (m) => lines.push(m),
      warn: (m) => lines.push(m),
      error: () => {},
    };
    await ensureOrganizationZone(input, { ...deps, logger });
    expect(lines.some((l) => l.includes('duplicates'))).toBe(true);
    expect(lines.some((l) => l.includes('deleted duplicate zone'))).toBe(true);
  });
});

describe('listManagedZones (memory provider)', () => {
  it('reads 250 zones with ⌈N/100⌉ list calls and ⌈N/10⌉ tag calls, fewer with baseDomain', async () => {
    const { dns, deps } = await setup();
    for (let i = 0; i < 200; i++) {
      const { zone } = await dns.createZone({ name: `o${i}.example.com`, callerReference: `o${i}` });
      if (i % 2 === 0) {
        await dns.changeTags(zone.id, {
          add: {
            [ZoneTags.managedBy]: 'zonekeeper',
            [ZoneTags.organization]: `o${i}`,
            [ZoneTags.createdAt]: '2026-01-02T03:04:05.000Z',
            ...(i === 4 ? { [ZoneTags.protected]: 'true' } : {}),
          },
        });
      }
    }
    for (let i = 0; i < 29; i++) await dns.createZone({ name: `x${i}.other.org`, callerReference: `x${i}` });
    for (let i = 0; i < 20; i++)
      await dns.createZone({ name: `deep.o${i}.example.com`, callerReference: `d${i}` });
    expect(dns.snapshot()).toHaveLength(250); // with the parent zone
    dns.resetCounters();
    const all = await listManagedZones(deps);
    expect(dns.requests).toEqual({ ListHostedZones: 3, ListTagsForResources: 25 });
    expect(all).toHaveLength(100);
    expect(all.find((z) => z.name === 'o4.example.com')).toMatchObject({
      organization: 'o4',
      protected: true,
      callerReference: 'o4',
    });
    expect(all.find((z) => z.name === 'o6.example.com')).toMatchObject({
      protected: false,
      createdAt: new Date('2026-01-02T03:04:05.000Z'),
    });
    dns.resetCounters();
    const under = await listManagedZones(deps, { baseDomain: 'example.com' });
    expect(under).toHaveLength(100);
    expect(dns.requests).toEqual({ ListHostedZones: 3, ListTagsForResources: 20 });
  });
});

describe('listManagedZones: a zone tagged for another organisation than its name', () => {
  it("is nobody's: neither listed as the tag's organisation nor as the name's", async () => {
    const { dns, deps } = await setup();
    const { zone } = await ensureOrganizationZone(input, deps);
    const { zone: odd } = await dns.createZone({ name: 'acme2.example.com', callerReference: 'odd' });
    await dns.changeTags(odd.id, {
      add: { [ZoneTags.managedBy]: 'zonekeeper', [ZoneTags.organization]: 'globex' },
    });
    const listed = await listManagedZones(deps, { baseDomain: 'example.com' });
    expect(listed.map((z) => [z.name, z.organization])).toEqual([[ZONE, 'acme']]);
    expect(listed[0]?.id).toBe(zone?.id);
    expect((await listManagedZones(deps)).map((z) => z.id)).toEqual([zone?.id]);
  });
});

describe('deleteOrganizationZone (memory provider)', () => {
  async function withRecords(n: number) {
    const ctx = await setup();
    const { zone } = (await ensureOrganizationZone(input, ctx.deps)) as { zone: { id: string } };
    const records = Array.from({ length: n }, (_, i) => ({
      action: 'CREATE' as const,
      recordSet: { name: `h${i}.${ZONE}`, type: 'A', ttl: 60, values: [`10.0.${i >> 8}.${i & 255}`] },
    }));
    for (let i = 0; i < records.length; i += 1000)
      await ctx.dns.changeRecords(zone.id, records.slice(i, i + 1000));
    await ctx.dns.changeRecords(zone.id, [
      {
        action: 'CREATE',
        recordSet: { name: `*.apps.${ZONE}`, type: 'CNAME', ttl: 60, values: ['lb.example.net'] },
      },
      {
        action: 'CREATE',
        recordSet: { name: `a-www.${ZONE}`, type: 'TXT', ttl: 300, values: ['"heritage=external-dns"'] },
      },
    ]);
    ctx.dns.resetCounters();
    return { ...ctx, zoneId: zone.id };
  }

  it('removes the delegation, every record in batches, then the zone; a second call is a no-op', async () => {
    const { dns, parentId, deps, zoneId } = await withRecords(2_500);
    const result = await deleteOrganizationZone(zoneId, deps);
    expect(result.plan.steps.map((s) => s.op)).toEqual([
      'delete-delegation',
      'delete-records',
      'delete-records',
      'delete-records',
      'delete-zone',
    ]);
    expect(dns.snapshot().map((z) => z.name)).toEqual(['example.com']);
    expect(await delegationOf(dns, parentId)).toBeUndefined();
    const again = await deleteOrganizationZone(zoneId, deps);
    expect(again.plan.steps).toEqual([]);
  });

  it('leaves a delegation that points elsewhere', async () => {
    const { dns, parentId, deps, zoneId } = await withRecords(1);
    await dns.changeRecords(parentId, [
      { action: 'UPSERT', recordSet: { name: ZONE, type: 'NS', ttl: 300, values: ['ns.new-home.example.'] } },
    ]);
    const result = await deleteOrganizationZone(zoneId, deps);
    expect(result.plan.steps.map((s) => s.op)).toEqual(['delete-records', 'delete-zone']);
    expect(result.plan.keptDelegations).toHaveLength(1);
    expect((await delegationOf(dns, parentId))?.values).toEqual(['ns.new-home.example.']);
  });

  it('plans without changing anything in a dry run', async () => {
    const { dns, deps, zoneId } = await withRecords(10);
    const result = await deleteOrganizationZone(zoneId, deps, { dryRun: true });
    expect(result.dryRun).toBe(true);
    expect(result.plan.steps.at(-1)).toEqual({ op: 'delete-zone', zoneId, zoneName: ZONE });
    expect(dns.writes).toBe(0);
  });

  it('refuses a zone without our tag (NOT_OWNED) and a protected zone (CONFLICT), reading no records', async () => {
    const { dns, deps } = await setup();
    const foreign = await dns.createZone({ name: 'foreign.example.com', callerReference: 'f' });
    dns.resetCounters();
    expect(
      hasErrorCode(await deleteOrganizationZone(foreign.zone.id, deps).catch((e) => e), 'NOT_OWNED'),
    ).toBe(true);
    expect(dns.calls.listRecords ?? 0).toBe(0);
    const { zone } = (await ensureOrganizationZone(input, deps)) as { zone: { id: string } };
    await dns.changeTags(zone.id, { add: { [ZoneTags.protected]: 'true' } });
    expect(hasErrorCode(await deleteOrganizationZone(zone.id, deps).catch((e) => e), 'CONFLICT')).toBe(true);
    expect(zonesNamed(dns)).toHaveLength(1);
  });

  for (const n of [1, 2, 3, 4]) {
    it(`converges on a re-run after a crash after write ${n} of the deletion`, async () => {
      const { dns, parentId, deps, zoneId } = await withRecords(1_500);
      const error = await deleteOrganizationZone(zoneId, { ...deps, dns: crashing(dns, n, 'after') }).catch(
        (e) => e,
      );
      expect(error.message).toContain(`simulated crash after write ${n}`);
      await deleteOrganizationZone(zoneId, deps);
      expect(dns.snapshot().map((z) => z.name)).toEqual(['example.com']);
      expect(await delegationOf(dns, parentId)).toBeUndefined();
      expect((await gatherZoneDeletion(zoneId, dns)).zone).toBeUndefined();
    });
  }
});

describe('listManagedZones: tag reads concurrent with the listing', () => {
  /** 230 public zones under example.com, every third one tagged, plus 7 elsewhere; a paging wrapper. */
  async function paged(options: { pages?: boolean; failTagsAt?: number } = {}) {
    const { dns } = await setup();
    for (let i = 0; i < 230; i++) {
      const { zone } = await dns.createZone({ name: `o${i}.example.com`, callerReference: `o${i}` });
      if (i % 3 === 0)
        await dns.changeTags(zone.id, {
          add: { [ZoneTags.managedBy]: 'zonekeeper', [ZoneTags.organization]: `o${i}` },
        });
    }
    for (let i = 0; i < 7; i++) await dns.createZone({ name: `x${i}.other.org`, callerReference: `x${i}` });
    const log: string[] = [];
    let active = 0;
    let peak = 0;
    let tagCalls = 0;
    const tick = () => new Promise((resolve) => setTimeout(resolve, 2));
    const provider: DnsProvider = {
      ...dns,
      kind: dns.kind,
      async listZones(o) {
        const all = await dns.listZones({ ...(o?.signal ? { signal: o.signal } : {}) });
        if (options.pages !== false)
          for (let i = 0; i < all.length; i += 100) {
            await tick();
            log.push(`page ${i / 100}`);
            o?.onPage?.(all.slice(i, i + 100));
          }
        log.push('listed');
        return all;
      },
      async getTags(ids, o) {
        tagCalls += 1;
        const n = tagCalls;
        active += 1;
        peak = Math.max(peak, active);
        log.push(`tags ${n}`);
        try {
          await tick();
          if (n === options.failTagsAt) throw new ZonekeeperError('UNAVAILABLE', 'tags: 503');
          return await dns.getTags(ids, o);
        } finally {
          active -= 1;
          log.push(`tags ${n} done`);
        }
      },
    };
    return { dns, provider, log, peak: () => peak, active: () => active, tagCalls: () => tagCalls };
  }

  it('starts tag reads as pages arrive, keeps at most `concurrency` in flight and makes exactly ⌈M/10⌉ of them', async () => {
    const p = await paged();
    const zones = await listManagedZones({ dns: p.provider }, { baseDomain: 'example.com', concurrency: 3 });
    // The 230 zones one label under example.com are tag-queried, 10 per call.
    expect(p.tagCalls()).toBe(Math.ceil(230 / 10));
    expect(p.peak()).toBe(3);
    expect(p.log.indexOf('tags 1')).toBeLessThan(p.log.indexOf('listed'));
    expect(p.active()).toBe(0);
    expect(zones).toHaveLength(77);
    // The same answer as a provider that hands over no page.
    const q = await paged({ pages: false });
    const again = await listManagedZones({ dns: q.provider }, { baseDomain: 'example.com', concurrency: 3 });
    expect(again.map((z) => z.id)).toEqual(zones.map((z) => z.id));
    expect(q.tagCalls()).toBe(23);
  });

  it('a failing tag read fails the listing, after the reads in flight settled, and starts no further one', async () => {
    const p = await paged({ failTagsAt: 2 });
    const e = await listManagedZones(
      { dns: p.provider },
      { baseDomain: 'example.com', concurrency: 2 },
    ).catch((x: unknown) => x);
    expect(hasErrorCode(e, 'UNAVAILABLE')).toBe(true);
    expect(p.active()).toBe(0);
    const failedAt = p.log.indexOf('tags 2 done');
    const startedAfter = p.log.slice(failedAt + 1).filter((l) => /^tags \d+$/.test(l));
    expect(startedAfter).toEqual([]);
  });

  it('rejects a bad concurrency with INVALID_INPUT before any call', async () => {
    const p = await paged();
    const e = await listManagedZones({ dns: p.provider }, { concurrency: 0 }).catch((x: unknown) => x);
    expect(hasErrorCode(e, 'INVALID_INPUT')).toBe(true);
    expect(p.log).toEqual([]);
  });
});
