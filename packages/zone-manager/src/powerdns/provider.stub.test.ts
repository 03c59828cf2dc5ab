import { hasErrorCode } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { createPowerDnsHttpApi, type PowerDnsApi, PowerDnsApiError, type PowerDnsZone } from './client.js';
import {
  createPowerDnsProvider,
  POWERDNS_MARKER_ACCOUNT,
  POWERDNS_MARKER_PREFIX,
  powerDnsZoneId,
} from './provider.js';

/** A stub API over a fixed set of zones, counting calls; methods not given throw. */
function stubApi(zones: Record<string, string | undefined>, overrides: Partial<PowerDnsApi> = {}) {
  const calls: Record<string, number> = {};
  const count = (m: string) => {
    calls[m] = (calls[m] ?? 0) + 1;
  };
  const zoneOf = (name: string): PowerDnsZone => {
    const ref = zones[name.replace(/\.$/, '')];
    return {
      id: name,
      name,
      kind: 'Native',
      rrsets: [
        {
          name,
          type: 'SOA',
          ttl: 60,
          records: [{ content: 'ns1.x. h.x. 1 2 3 4 5', disabled: false }],
          comments:
            ref === undefined
              ? []
              : [
                  {
                    content: `${POWERDNS_MARKER_PREFIX} ${JSON.stringify({ callerReference: ref })}`,
                    account: POWERDNS_MARKER_ACCOUNT,
                  },
                ],
        },
      ],
    };
  };
  const unexpected = (m: string) => async () => {
    throw new Error(`unexpected call ${m}`);
  };
  const api: PowerDnsApi = {
    listZones: async () => {
      count('listZones');
      return Object.keys(zones).map((n) => ({ id: `${n}.`, name: `${n}.`, kind: 'Native' }));
    },
    getZone: async (id) => {
      count('getZone');
      if (!(id.replace(/\.$/, '') in zones)) throw new PowerDnsApiError(404, 'GetZone', 'Not Found');
      return zoneOf(id);
    },
    search: async (q) => {
      count('search');
      return Object.entries(zones)
        .filter(([, ref]) => ref !== undefined)
        .slice(0, q.max)
        .map(([n, ref]) => ({
          object_type: 'comment' as const,
          name: `${n}.`,
          zone: `${n}.`,
          type: 'SOA',
          content: `${POWERDNS_MARKER_PREFIX} ${JSON.stringify({ callerReference: ref })}`,
        }));
    },
    createZone: unexpected('createZone'),
    deleteZone: unexpected('deleteZone'),
    updateZone: unexpected('updateZone'),
    patchRRsets: unexpected('patchRRsets'),
    getMetadata: unexpected('getMetadata'),
    putMetadata: unexpected('putMetadata'),
    deleteMetadata: unexpected('deleteMetadata'),
    listTsigKeys: unexpected('listTsigKeys'),
    getTsigKey: unexpected('getTsigKey'),
    createTsigKey: unexpected('createTsigKey'),
    deleteTsigKey: unexpected('deleteTsigKey'),
    ...overrides,
  };
  return { api, calls };
}

const nameServers = ['ns1.example.net'];

describe('PowerDNS adapter (stubbed API)', () => {
  it('lists every zone with one listing and one comment search, ids from name and CallerReference', async () => {
    const { api, calls } = stubApi({ 'a.test': 'ref-a', 'b.test': undefined, 'c.test': 'ref-c' });
    const dns = createPowerDnsProvider({ api, nameServers });
    const zones = await dns.listZones();
    expect(zones.map((z) => [z.name, z.id, z.callerReference])).toEqual([
      ['a.test', powerDnsZoneId('a.test', 'ref-a'), 'ref-a'],
      ['b.test', powerDnsZoneId('b.test', ''), ''],
      ['c.test', powerDnsZoneId('c.test', 'ref-c'), 'ref-c'],
    ]);
    expect(calls).toEqual({ listZones: 1, search: 1 });
    expect(powerDnsZoneId('a.test', 'ref-a')).toMatch(/^P[A-Z2-7]{25}$/);
    expect(powerDnsZoneId('a.test', 'ref-a')).not.toBe(powerDnsZoneId('a.test', 'ref-b'));
  });

  it('reads every apex when the comment search may have been cut short', async () => {
    const { api, calls } = stubApi(
      { 'a.test': 'ref-a' },
      {
        search: async (q) =>
          Array.from({ length: q.max }, () => ({ object_type: 'comment' as const, name: 'x.' })),
      },
    );
    const dns = createPowerDnsProvider({ api, nameServers });
    expect((await dns.listZones()).map((z) => z.callerReference)).toEqual(['ref-a']);
    expect(calls).toEqual({ listZones: 1, getZone: 1 });
  });

  it('resolves an id it has not seen by one index, then from its cache; a stale id is missing', async () => {
    const zones: Record<string, string | undefined> = { 'a.test': 'ref-a' };
    const { api, calls } = stubApi(zones);
    const dns = createPowerDnsProvider({ api, nameServers });
    const id = powerDnsZoneId('a.test', 'ref-a');
    expect((await dns.getZone(id))?.zone.name).toBe('a.test');
    expect((await dns.getZone(id))?.zone.name).toBe('a.test');
    expect(calls).toEqual({ listZones: 1, search: 1, getZone: 2 });
    zones['a.test'] = 'ref-new'; // deleted and re-created meanwhile
    expect(await dns.getZone(id)).toBeUndefined();
    expect(hasErrorCode(await dns.listRecords(id).catch((e) => e), 'NOT_FOUND')).toBe(true);
  });

  it('answers getChange INSYNC with the submit time for its own ids and NOT_FOUND for others', async () => {
    const { api } = stubApi({});
    const dns = createPowerDnsProvider({ api, nameServers });
    const forged = `PC${'X'.repeat(20)}`;
    expect(hasErrorCode(await dns.getChange(forged).catch((e) => e), 'NOT_FOUND')).toBe(true);
    expect(hasErrorCode(await dns.getChange('C2682N5HXP0BZ4').catch((e) => e), 'NOT_FOUND')).toBe(true);
  });

  it('rejects alias targets and set identifiers with INVALID_INPUT before any call', async () => {
    const { api, calls } = stubApi({ 'a.test': 'r' });
    const dns = createPowerDnsProvider({ api, nameServers });
    const id = powerDnsZoneId('a.test', 'r');
    for (const recordSet of [
      { name: 'x.a.test', type: 'A', ttl: 60, values: ['192.0.2.1'], setIdentifier: 'w1' },
      {
        name: 'x.a.test',
        type: 'A',
        values: [],
        aliasTarget: { hostedZoneId: 'Z1', dnsName: 'lb.test', evaluateTargetHealth: false },
      },
    ]) {
      const error = await dns.changeRecords(id, [{ action: 'UPSERT', recordSet }]).catch((e) => e);
      expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
    }
    expect(calls).toEqual({});
  });

  it('rejects bad options with INVALID_INPUT', () => {
    for (const options of [
      { apiUrl: 'not a url', apiKey: 'k', nameServers },
      { apiUrl: 'ftp://x', apiKey: 'k', nameServers },
      { apiUrl: 'http://x', apiKey: '', nameServers },
      { apiUrl: 'http://x', apiKey: 'k', nameServers: [] },
      { apiUrl: 'http://x', apiKey: 'k', nameServers: ['bad name'] },
      { apiUrl: 'http://x', apiKey: 'k', nameServers, nameServerTtl: 0 },
    ]) {
      let error: unknown;
      try {
        createPowerDnsProvider(options);
      } catch (e) {
        error = e;
      }
      expect(hasErrorCode(error, 'INVALID_INPUT'), JSON.stringify(options)).toBe(true);
    }
  });

  it('sends the API key only in the X-API-Key header and keeps it out of errors', async () => {
    const seen: { url: string; headers: Record<string, string> }[] = [];
    const api = createPowerDnsHttpApi({
      apiUrl: 'http://127.0.0.1:1/api/v1/',
      apiKey: 'sekrit-key',
      fetch: async (url, init) => {
        seen.push({ url: String(url), headers: init?.headers as Record<string, string> });
        return new Response(JSON.stringify({ error: 'bad key sekrit-key' }), { status: 401 });
      },
    });
    const error = (await api.listZones({}).catch((e) => e)) as PowerDnsApiError;
    expect(error).toMatchObject({ name: 'PowerDnsApiError', status: 401 });
    expect(error.message).not.toContain('sekrit-key');
    expect(seen[0]?.url).toBe('http://127.0.0.1:1/api/v1/servers/localhost/zones?dnssec=false');
    expect(seen[0]?.headers['X-API-Key']).toBe('sekrit-key');
  });
});
