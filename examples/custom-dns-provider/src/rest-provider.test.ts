import { createManualClock, type ZonekeeperError } from '@zonekeeper/core';
import { deleteOrganizationZone, ensureOrganizationZone, listManagedZones } from '@zonekeeper/zone-manager';
import { dnsProviderContract } from '@zonekeeper/zone-manager/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeDnsApi, startFakeDnsApi } from './fake-api.js';
import { createRestDnsProvider } from './rest-provider.js';

const TOKEN = 'zk-example-token-0123456789abcdef';

// The same suite the memory provider and the Route 53 adapter pass. The fake service keeps zonekeeper's
// memory semantics, so every strict capability is on; a real service would turn off what it lacks.
dnsProviderContract({
  name: 'REST DNS API (in-process fake)',
  async create() {
    const clock = createManualClock(new Date('2026-03-10T08:00:00.000Z'));
    const api = await startFakeDnsApi({ token: TOKEN, clock, changeSyncDelayMs: 5_000 });
    return {
      provider: createRestDnsProvider({ baseUrl: api.url, token: TOKEN }),
      advanceTime: (ms) => clock.advance(ms),
      cleanup: () => api.close(),
    };
  },
  capabilities: {
    callerReferenceIdempotency: true,
    strictChangeBatchValidation: true,
    plainSoa: true,
    unknownChangeNotFound: true,
    pendingChanges: true,
    zonesByNamePaging: true,
  },
});

async function failure(promise: Promise<unknown>): Promise<ZonekeeperError> {
  try {
    await promise;
  } catch (error) {
    return error as ZonekeeperError;
  }
  throw new Error('expected the call to fail');
}

/** Every string reachable from an error: message, details, cause chain, own properties. */
function everything(error: unknown): string {
  const seen = new Set<unknown>();
  const walk = (v: unknown): string => {
    if (v === null || v === undefined || seen.has(v)) return '';
    if (typeof v !== 'object') return String(v);
    seen.add(v);
    return Object.getOwnPropertyNames(v)
      .map((k) => `${k}=${walk((v as Record<string, unknown>)[k])}`)
      .join(' ');
  };
  return walk(error);
}

describe('the REST provider at its boundary', () => {
  let api: FakeDnsApi;
  beforeAll(async () => {
    api = await startFakeDnsApi({ token: TOKEN });
  });
  afterAll(() => api.close());

  it('translates HTTP failures into zonekeeper errors that say what to do next', async () => {
    const dns = createRestDnsProvider({ baseUrl: api.url, token: TOKEN });
    api.failNext(429, { retryAfterSeconds: 3 });
    const throttled = await failure(dns.listZones());
    expect(throttled.code).toBe('THROTTLED');
    expect(throttled.retry).toBe('transient');
    expect(throttled.retryAfterMs).toBe(3000);
    expect(throttled.message).toMatch(/^DNS API: listZones failed with HTTP 429.*retry later\.$/);

    api.failNext(503);
    expect((await failure(dns.listZones())).code).toBe('UNAVAILABLE');

    const missing = await failure(dns.deleteZone('Z404'));
    expect(missing.code).toBe('NOT_FOUND');
    expect(await dns.getZone('Z404')).toBeUndefined();

    const zone = await dns.createZone({ name: 'boundary.example.org', callerReference: 'boundary-1' });
    const reused = await failure(
      dns.createZone({ name: 'other.example.org', callerReference: 'boundary-1' }),
    );
    expect(reused.code).toBe('ALREADY_EXISTS');
    await dns.changeRecords(zone.zone.id, [
      {
        action: 'CREATE',
        recordSet: { name: 'www.boundary.example.org', type: 'A', ttl: 60, values: ['192.0.2.1'] },
      },
    ]);
    const notEmpty = await failure(dns.deleteZone(zone.zone.id));
    expect(notEmpty.code).toBe('CONFLICT');
    expect(notEmpty.message).toMatch(/record sets besides the apex/);
  });

  it('refuses ids that are not ids before sending anything', async () => {
    const dns = createRestDnsProvider({ baseUrl: api.url, token: TOKEN });
    const before = api.requests;
    for (const call of [
      dns.getZone('../../admin'),
      dns.deleteZone('Z1/labels'),
      dns.listRecords('z lower'),
      dns.getChange('c1?x=1'),
      dns.getTags([]),
    ]) {
      expect((await failure(call)).code).toBe('INVALID_INPUT');
    }
    expect(api.requests).toBe(before);
  });

  it('keeps the token out of every error, also when the service rejects it', async () => {
    const wrong = 'zk-wrong-token-fedcba9876543210';
    const dns = createRestDnsProvider({ baseUrl: api.url, token: wrong });
    const denied = await failure(dns.listZones());
    expect(denied.code).toBe('PERMISSION_DENIED');
    expect(denied.message).toMatch(/check the API token/);
    expect(everything(denied)).not.toContain(wrong);
    expect(JSON.stringify(denied)).not.toContain(wrong);
  });

  it('reports an unreachable service as UNAVAILABLE, and re-throws an abort untouched', async () => {
    const closed = await startFakeDnsApi({ token: TOKEN });
    const url = closed.url;
    await closed.close();
    const down = createRestDnsProvider({ baseUrl: url, token: TOKEN });
    const unreachable = await failure(down.listZones());
    expect(unreachable.code).toBe('UNAVAILABLE');
    expect(unreachable.message).toMatch(/unreachable \(ECONNREFUSED\)/);
    expect(everything(unreachable)).not.toContain(TOKEN);

    const controller = new AbortController();
    const dns = createRestDnsProvider({ baseUrl: api.url, token: TOKEN });
    const pending = dns.listZones({ signal: controller.signal });
    controller.abort(new Error('stop'));
    expect(await pending.catch((e: unknown) => e)).toBe(controller.signal.reason);
  });

  it('carries a whole organisation zone lifecycle through ensureOrganizationZone', async () => {
    const dns = createRestDnsProvider({ baseUrl: api.url, token: TOKEN });
    await dns.createZone({ name: 'example.com', callerReference: 'parent-lifecycle' });
    const first = await ensureOrganizationZone({ organization: 'acme', baseDomain: 'example.com' }, { dns });
    expect(first.plan.steps.map((s) => s.op)).toEqual(['create-zone', 'tag-zone', 'upsert-delegation']);
    const second = await ensureOrganizationZone({ organization: 'acme', baseDomain: 'example.com' }, { dns });
    expect(second.plan.steps).toEqual([]);
    expect(second.zone?.id).toBe(first.zone?.id);
    const managed = await listManagedZones({ dns }, { baseDomain: 'example.com' });
    expect(managed.map((z) => [z.name, z.organization])).toEqual([['acme.example.com', 'acme']]);
    const deleted = await deleteOrganizationZone(managed[0]?.id ?? '', { dns });
    expect(deleted.plan.steps.map((s) => s.op)).toEqual(['delete-delegation', 'delete-zone']);
    expect(await listManagedZones({ dns }, { baseDomain: 'example.com' })).toEqual([]);
  });
});
