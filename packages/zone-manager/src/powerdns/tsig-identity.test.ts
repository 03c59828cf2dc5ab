import { hasErrorCode, ZonekeeperError } from '@zonekeeper/core';
import { dig, nsupdate } from '@zonekeeper/testkit/powerdns';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PowerDnsBackend, startPowerDnsBackend } from './pdns.test.support.js';
import type { PowerDnsProvider } from './provider.js';
import { createPowerDnsAdmin, type PowerDnsAdmin, tsigKeyNameForZone } from './tsig.js';
import {
  ensureOrganizationTsigKey,
  type OrganizationTsigState,
  planOrganizationTsig,
  removeOrganizationTsigKey,
  type StoredOrganizationTsigKey,
  type TsigKeyStore,
  tsigSecretFingerprint,
} from './tsig-identity.js';

/** A check-and-set store in memory, standing in for vault-keys' readTsigKey/writeTsigKey. */
function memoryStore(): TsigKeyStore & {
  readonly keys: Map<string, StoredOrganizationTsigKey>;
  failNextWrite?: boolean;
} {
  const keys = new Map<string, StoredOrganizationTsigKey>();
  const store = {
    keys,
    failNextWrite: false,
    async read(org: string) {
      return keys.get(org);
    },
    async write(org: string, key: { name: string; algorithm: string; secret: string }, o: { cas: number }) {
      if (store.failNextWrite) {
        store.failNextWrite = false;
        throw new ZonekeeperError('UNAVAILABLE', 'store down');
      }
      const current = keys.get(org)?.version ?? 0;
      if (current !== o.cas) throw new ZonekeeperError('CONFLICT', 'cas mismatch');
      keys.set(org, { ...key, version: current + 1 });
      return { version: current + 1 };
    },
  };
  return store;
}

let backend: PowerDnsBackend;
let dns: PowerDnsProvider;
let admin: PowerDnsAdmin;
const ACME = 'acme.tsig.test';
const GLOBEX = 'globex.tsig.test';
const server = () => ({ port: backend.server.dnsPort });

beforeAll(async () => {
  backend = await startPowerDnsBackend();
  dns = backend.provider();
  admin = createPowerDnsAdmin(dns.api);
  await dns.createZone({ name: 'tsig.test', callerReference: 'parent' });
  await dns.createZone({ name: ACME, callerReference: 'acme' });
  await dns.createZone({ name: GLOBEX, callerReference: 'globex' });
});
afterAll(() => backend?.stop());

describe('ensureOrganizationTsigKey on a real PowerDNS', () => {
  const store = memoryStore();
  const deps = () => ({ admin, store });

  it('a dry run plans creating, storing and allowing the key, and changes nothing', async () => {
    const result = await ensureOrganizationTsigKey(
      deps(),
      { organization: 'acme', zoneName: ACME },
      {
        dryRun: true,
      },
    );
    expect(result.dryRun).toBe(true);
    expect(result.plan.steps.map((s) => `${s.op}:${s.reason}`)).toEqual([
      'store-key:not-stored',
      'create-key:key-missing',
      'set-update-keys:update-keys-missing',
    ]);
    expect(await admin.getTsigKey(tsigKeyNameForZone(ACME))).toBeUndefined();
    expect(store.keys.size).toBe(0);
    expect(await admin.getZoneUpdateKeys(ACME)).toEqual([]);
  });

  it("creates the organisation's key over the API, stores it, and lets only it update the zone", async () => {
    const result = await ensureOrganizationTsigKey(deps(), {
      organization: 'acme',
      zoneName: ACME,
      updateSources: ['127.0.0.0/8'],
    });
    expect(result.keyName).toBe(`zonekeeper-update.${ACME}`);
    const stored = store.keys.get('acme') as StoredOrganizationTsigKey;
    const onServer = await admin.getTsigKey(result.keyName);
    expect(stored).toMatchObject({
      name: result.keyName,
      algorithm: 'hmac-sha256',
      secret: onServer?.secret,
    });
    expect(JSON.stringify(result)).not.toContain(stored.secret);
    expect(await admin.getZoneUpdateKeys(ACME)).toEqual([result.keyName]);
    expect(await admin.getZoneUpdateSources(ACME)).toEqual(['127.0.0.0/8']);
    // Real DNS: the stored key updates acme's zone.
    const own = await nsupdate(server(), {
      zone: ACME,
      key: stored,
      updates: [`add www.${ACME} 60 A 192.0.2.1`],
    });
    expect(own).toMatchObject({ ok: true, rcode: 'NOERROR' });
    expect((await dig(server(), `www.${ACME}`, 'A')).values).toEqual(['192.0.2.1']);
    // Again: nothing to do.
    const again = await ensureOrganizationTsigKey(deps(), {
      organization: 'acme',
      zoneName: ACME,
      updateSources: ['127.0.0.0/8'],
    });
    expect(again.plan.steps).toEqual([]);
  });

  it("acme's key is refused on globex's zone once globex has its own", async () => {
    await ensureOrganizationTsigKey(deps(), {
      organization: 'globex',
      zoneName: GLOBEX,
      updateSources: ['127.0.0.0/8'],
    });
    const acme = store.keys.get('acme') as StoredOrganizationTsigKey;
    const cross = await nsupdate(server(), {
      zone: GLOBEX,
      key: acme,
      updates: [`add evil.${GLOBEX} 60 A 203.0.113.6`],
    });
    expect(cross.ok).toBe(false);
    expect(['REFUSED', 'NOTAUTH']).toContain(cross.rcode);
    expect((await dig(server(), `evil.${GLOBEX}`, 'A')).status).toBe('NXDOMAIN');
  });

  it("repairs a zone whose TSIG-ALLOW-DNSUPDATE was widened to another organisation's key", async () => {
    const globexKey = tsigKeyNameForZone(GLOBEX);
    await admin.setZoneUpdateKeys(ACME, [tsigKeyNameForZone(ACME), globexKey]);
    const globex = store.keys.get('globex') as StoredOrganizationTsigKey;
    // Widened: globex's key now writes to acme's zone.
    expect(
      (await nsupdate(server(), { zone: ACME, key: globex, updates: [`add w1.${ACME} 60 A 203.0.113.7`] }))
        .ok,
    ).toBe(true);
    const repaired = await ensureOrganizationTsigKey(deps(), { organization: 'acme', zoneName: ACME });
    expect(repaired.plan.steps).toEqual([
      {
        op: 'set-update-keys',
        zoneName: ACME,
        keyNames: [tsigKeyNameForZone(ACME)],
        reason: 'update-keys-differ',
      },
    ]);
    const after = await nsupdate(server(), {
      zone: ACME,
      key: globex,
      updates: [`add w2.${ACME} 60 A 203.0.113.7`],
    });
    expect(after.ok).toBe(false);
    expect(['REFUSED', 'NOTAUTH']).toContain(after.rcode);
  });

  it('a run that dies after storing the key and before the server has it is finished by the next run', async () => {
    const fresh = memoryStore();
    const zone = 'initech.tsig.test';
    await dns.createZone({ name: zone, callerReference: 'initech' });
    // The store write fails: nothing reaches the server either (the store is written first).
    fresh.failNextWrite = true;
    const failed = await ensureOrganizationTsigKey(
      { admin, store: fresh },
      { organization: 'initech', zoneName: zone },
    ).catch((e) => e);
    expect(hasErrorCode(failed, 'UNAVAILABLE')).toBe(true);
    expect(await admin.getTsigKey(tsigKeyNameForZone(zone))).toBeUndefined();
    // The server fails after the store write: the stored key is kept and the next run creates it.
    const failingAdmin = {
      ...admin,
      createTsigKey: () => Promise.reject(new ZonekeeperError('UNAVAILABLE', 'down')),
    };
    const half = await ensureOrganizationTsigKey(
      { admin: failingAdmin, store: fresh },
      { organization: 'initech', zoneName: zone },
    ).catch((e) => e);
    expect(hasErrorCode(half, 'UNAVAILABLE')).toBe(true);
    const kept = fresh.keys.get('initech') as StoredOrganizationTsigKey;
    expect(kept.secret).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const next = await ensureOrganizationTsigKey(
      { admin, store: fresh },
      { organization: 'initech', zoneName: zone },
    );
    expect(next.plan.steps.map((s) => `${s.op}:${s.reason}`)).toEqual([
      'create-key:key-missing',
      'set-update-keys:update-keys-missing',
    ]);
    expect((await admin.getTsigKey(tsigKeyNameForZone(zone)))?.secret).toBe(kept.secret);
    expect(fresh.keys.get('initech')).toEqual(kept);
  });

  it("a key on the server that nothing stored (a deleted organisation's) is replaced, never adopted", async () => {
    const zone = 'reused.tsig.test';
    await dns.createZone({ name: zone, callerReference: 'reused' });
    // A former tenant's key, still on the server, whose secret the former tenant kept.
    const former = await admin.createTsigKey({ name: tsigKeyNameForZone(zone) });
    await admin.setZoneUpdateKeys(zone, [former.name]);
    await admin.setZoneUpdateSources(zone, ['127.0.0.0/8']);
    const newcomer = memoryStore();
    const result = await ensureOrganizationTsigKey(
      { admin, store: newcomer },
      { organization: 'reused', zoneName: zone },
    );
    expect(result.plan.steps.map((s) => `${s.op}:${s.reason}`)).toEqual([
      'store-key:not-stored',
      'delete-key:unknown-key',
      'create-key:unknown-key',
    ]);
    const key = newcomer.keys.get('reused') as StoredOrganizationTsigKey;
    expect(key.secret).not.toBe(former.secret);
    const old = await nsupdate(server(), {
      zone,
      key: { name: former.name, secret: former.secret },
      updates: [`add evil.${zone} 60 A 203.0.113.9`],
    });
    expect(old.ok).toBe(false);
    expect(['NOTAUTH', 'REFUSED']).toContain(old.rcode);
    expect((await dig(server(), `evil.${zone}`, 'A')).status).toBe('NXDOMAIN');
    const own = await nsupdate(server(), { zone, key, updates: [`add www.${zone} 60 A 192.0.2.9`] });
    expect(own.ok).toBe(true);
  });

  it('the stored key wins over a different server key: the server gets the stored one back', async () => {
    const stored = store.keys.get('acme') as StoredOrganizationTsigKey;
    await admin.deleteTsigKey(stored.name);
    const swapped = await admin.createTsigKey({ name: stored.name });
    const result = await ensureOrganizationTsigKey(deps(), { organization: 'acme', zoneName: ACME });
    expect(result.plan.steps.map((s) => `${s.op}:${s.reason}`)).toEqual([
      'delete-key:server-key-differs',
      'create-key:server-key-differs',
    ]);
    expect((await admin.getTsigKey(stored.name))?.secret).toBe(stored.secret);
    expect(store.keys.get('acme')).toEqual(stored);
    const withSwapped = await nsupdate(server(), {
      zone: ACME,
      key: { name: stored.name, secret: swapped.secret },
      updates: [`add w3.${ACME} 60 A 203.0.113.7`],
    });
    expect(withSwapped.ok).toBe(false);
  });

  it("allowTransfer: true lets exactly the organisation's key transfer the zone, false takes it away", async () => {
    const keyName = tsigKeyNameForZone(ACME);
    await admin.setZoneTransferKeys(ACME, [tsigKeyNameForZone(GLOBEX)]);
    const on = await ensureOrganizationTsigKey(deps(), {
      organization: 'acme',
      zoneName: ACME,
      allowTransfer: true,
    });
    expect(on.plan.steps).toEqual([
      { op: 'set-transfer-keys', zoneName: ACME, keyNames: [keyName], reason: 'transfer-keys-differ' },
    ]);
    expect(await admin.getZoneTransferKeys(ACME)).toEqual([keyName]);
    expect(
      (await ensureOrganizationTsigKey(deps(), { organization: 'acme', zoneName: ACME, allowTransfer: true }))
        .plan.steps,
    ).toEqual([]);
    // Left alone when not asked.
    expect(
      (await ensureOrganizationTsigKey(deps(), { organization: 'acme', zoneName: ACME })).plan.steps,
    ).toEqual([]);
    const off = await ensureOrganizationTsigKey(deps(), {
      organization: 'acme',
      zoneName: ACME,
      allowTransfer: false,
    });
    expect(off.plan.steps.map((s) => s.reason)).toEqual(['transfer-not-allowed']);
    expect(await admin.getZoneTransferKeys(ACME)).toEqual([]);
  });

  it('refuses a zone that does not exist, and bad input, before writing anything', async () => {
    const missing = await ensureOrganizationTsigKey(deps(), {
      organization: 'nobody',
      zoneName: 'nobody.tsig.test',
    }).catch((e) => e);
    expect(hasErrorCode(missing, 'NOT_FOUND')).toBe(true);
    expect(await admin.getTsigKey(tsigKeyNameForZone('nobody.tsig.test'))).toBeUndefined();
    for (const desired of [
      { organization: 'Acme', zoneName: ACME },
      { organization: 'acme', zoneName: 'bad zone' },
      { organization: 'acme', zoneName: ACME, algorithm: 'hmac-md5' as const },
    ]) {
      expect(
        hasErrorCode(await ensureOrganizationTsigKey(deps(), desired).catch((e) => e), 'INVALID_INPUT'),
      ).toBe(true);
    }
  });

  it('replaces an hmac-md5 key (ExternalDNS cannot sign with it) with one of the chosen algorithm', async () => {
    const zone = 'md5.tsig.test';
    await dns.createZone({ name: zone, callerReference: 'md5' });
    await admin.createTsigKey({ name: tsigKeyNameForZone(zone), algorithm: 'hmac-md5' });
    const result = await ensureOrganizationTsigKey(deps(), {
      organization: 'md5',
      zoneName: zone,
      algorithm: 'hmac-sha512',
    });
    expect(result.plan.steps.map((s) => s.op)).toEqual([
      'store-key',
      'delete-key',
      'create-key',
      'set-update-keys',
    ]);
    expect((await admin.getTsigKey(tsigKeyNameForZone(zone)))?.algorithm).toBe('hmac-sha512');
    expect(store.keys.get('md5')?.secret).toMatch(/^[A-Za-z0-9+/]{86}==$/);
  });
});

describe('removeOrganizationTsigKey on a real PowerDNS', () => {
  it("offboarding: the key's secret stops working at once, and removing again is a no-op", async () => {
    const store = memoryStore();
    const zone = 'leaving.tsig.test';
    await dns.createZone({ name: zone, callerReference: 'leaving' });
    await ensureOrganizationTsigKey(
      { admin, store },
      { organization: 'leaving', zoneName: zone, allowTransfer: true, updateSources: ['127.0.0.0/8'] },
    );
    const key = store.keys.get('leaving') as StoredOrganizationTsigKey;
    expect((await nsupdate(server(), { zone, key, updates: [`add a.${zone} 60 A 192.0.2.1`] })).ok).toBe(
      true,
    );
    expect(await removeOrganizationTsigKey({ admin }, { zoneName: zone })).toEqual({
      keyName: tsigKeyNameForZone(zone),
      deletedKey: true,
      clearedZone: true,
    });
    const after = await nsupdate(server(), { zone, key, updates: [`add b.${zone} 60 A 192.0.2.2`] });
    expect(after.ok).toBe(false);
    expect(['NOTAUTH', 'REFUSED']).toContain(after.rcode);
    expect(await admin.getTsigKey(tsigKeyNameForZone(zone))).toBeUndefined();
    expect(await admin.getZoneUpdateKeys(zone)).toEqual([]);
    expect(await admin.getZoneTransferKeys(zone)).toEqual([]);
    expect(await admin.getZoneUpdateSources(zone)).toEqual([]);
    // Nor may anyone update the zone unsigned now that no key is required.
    const unsigned = await nsupdate(server(), { zone, updates: [`add c.${zone} 60 A 192.0.2.3`] });
    expect(unsigned).toMatchObject({ ok: false, rcode: 'REFUSED' });
    expect((await dig(server(), `c.${zone}`, 'A')).status).toBe('NXDOMAIN');
    expect(await removeOrganizationTsigKey({ admin }, { zoneName: zone })).toMatchObject({
      deletedKey: false,
    });
    // The zone already gone: the key still goes.
    await admin.createTsigKey({ name: tsigKeyNameForZone('gone.tsig.test') });
    expect(await removeOrganizationTsigKey({ admin }, { zoneName: 'gone.tsig.test' })).toEqual({
      keyName: tsigKeyNameForZone('gone.tsig.test'),
      deletedKey: true,
      clearedZone: false,
    });
  });
});

describe('planOrganizationTsig (pure)', () => {
  const desired = { organization: 'acme', zoneName: 'acme.example.com' } as const;
  const keyName = tsigKeyNameForZone(desired.zoneName);
  const fp = fc.constantFrom(tsigSecretFingerprint('a'), tsigSecretFingerprint('b'));
  const stateArb: fc.Arbitrary<OrganizationTsigState> = fc.record({
    zoneExists: fc.constant(true),
    serverKey: fc.option(
      fc.record({
        name: fc.constant(keyName),
        algorithm: fc.constantFrom('hmac-sha256', 'hmac-sha512'),
        fingerprint: fp,
      }),
      { nil: undefined },
    ),
    storedKey: fc.option(
      fc.record({
        name: fc.constantFrom(keyName, 'other.example.com'),
        algorithm: fc.constantFrom('hmac-sha256', 'hmac-sha512', 'hmac-md5'),
        fingerprint: fp,
        version: fc.integer({ min: 1, max: 9 }),
      }),
      { nil: undefined },
    ),
    updateKeys: fc.subarray([keyName, 'zonekeeper-update.globex.example.com', 'legacy.example.com']),
    updateSources: fc.subarray(['10.0.0.0/8', '127.0.0.0/8']),
    transferKeys: fc.subarray([keyName, 'zonekeeper-update.globex.example.com']),
  }) as fc.Arbitrary<OrganizationTsigState>;

  /** The model of the server and store after the steps. */
  function applyModel(state: OrganizationTsigState, steps: ReturnType<typeof planOrganizationTsig>['steps']) {
    let s = { ...state };
    for (const step of steps) {
      if (step.op === 'store-key') {
        expect(step.cas).toBe(s.storedKey?.version ?? 0);
        s = {
          ...s,
          storedKey: {
            name: step.name,
            algorithm: step.algorithm,
            fingerprint: `new-${step.cas}`,
            version: step.cas + 1,
          },
        };
      }
      if (step.op === 'delete-key') {
        expect(s.serverKey).toBeDefined();
        const { serverKey: _gone, ...rest } = s;
        s = rest;
      }
      if (step.op === 'create-key') {
        expect(s.serverKey).toBeUndefined(); // PowerDNS refuses a second key of the same name
        const stored = s.storedKey as NonNullable<typeof s.storedKey>;
        s = {
          ...s,
          serverKey: { name: stored.name, algorithm: stored.algorithm, fingerprint: stored.fingerprint },
        };
      }
      if (step.op === 'set-update-keys') s = { ...s, updateKeys: step.keyNames };
      if (step.op === 'set-update-sources') s = { ...s, updateSources: step.networks };
      if (step.op === 'set-transfer-keys') s = { ...s, transferKeys: step.keyNames };
    }
    return s;
  }

  it('converges: after the steps, the key is on the server, stored, alone allowed; planning again is empty', () => {
    fc.assert(
      fc.property(
        stateArb,
        fc.option(fc.subarray(['10.0.0.0/8', '192.0.2.0/24']), { nil: undefined }),
        fc.option(fc.boolean(), { nil: undefined }),
        (state, sources, transfer) => {
          const want = {
            ...desired,
            ...(sources === undefined ? {} : { updateSources: sources }),
            ...(transfer === undefined ? {} : { allowTransfer: transfer }),
          };
          const plan = planOrganizationTsig(state, want);
          expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
          const after = applyModel(state, plan.steps);
          expect(after.serverKey?.name).toBe(keyName);
          expect(after.storedKey).toMatchObject({
            name: after.serverKey?.name,
            fingerprint: after.serverKey?.fingerprint,
          });
          expect(after.updateKeys).toEqual([keyName]);
          if (transfer === true) expect(after.transferKeys).toEqual([keyName]);
          if (transfer === false) expect(after.transferKeys).toEqual([]);
          if (transfer === undefined) expect(after.transferKeys).toEqual(state.transferKeys);
          expect(planOrganizationTsig(after, want).steps).toEqual([]);
          // A server key is kept exactly when it is the stored key: clusters running it keep working, and
          // a key nobody stored (a former tenant's) is never adopted.
          const storedOk =
            state.storedKey !== undefined &&
            state.storedKey.name === keyName &&
            ['hmac-sha256', 'hmac-sha512'].includes(state.storedKey.algorithm);
          const keeps =
            storedOk &&
            state.serverKey !== undefined &&
            state.serverKey.algorithm === state.storedKey?.algorithm &&
            state.serverKey.fingerprint === state.storedKey?.fingerprint;
          expect(plan.steps.some((s) => s.op === 'create-key')).toBe(!keeps);
          expect(plan.steps.some((s) => s.op === 'store-key')).toBe(!storedOk);
          // The store is always written before the server.
          const ops = plan.steps.map((s) => s.op);
          if (ops.includes('store-key')) expect(ops.indexOf('store-key')).toBe(0);
          // The key requirement before the networks: ALLOW-DNSUPDATE-FROM without TSIG-ALLOW-DNSUPDATE
          // lets those networks update unsigned.
          if (ops.includes('set-update-keys') && ops.includes('set-update-sources'))
            expect(ops.indexOf('set-update-keys')).toBeLessThan(ops.indexOf('set-update-sources'));
        },
      ),
    );
  });
});
