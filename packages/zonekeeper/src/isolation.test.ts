/**
 * Isolation and ownership under attack (issue #10 §2): each test is a way a hostile tenant or a careless
 * operator broke a promise of the first version. Every one of them failed before the fix it names.
 */

import { createManualClock, hasErrorCode, type KubernetesObject, ZonekeeperError } from '@zonekeeper/core';
import { identityUserName } from '@zonekeeper/iam-scoper';
import {
  createMemorySecretStore,
  readAccessKey,
  readClusterBinding,
  SECRET_MANAGED_BY,
  SECRET_OWNERSHIP,
  writeAccessKey,
} from '@zonekeeper/vault-keys';
import { ZoneTags } from '@zonekeeper/zone-manager';
import { describe, expect, it } from 'vitest';
import { BASE, capturingLogger, DAY, HOUR, memoryWorld, rejectionOf, T0 } from './memory.test.support.js';
import { createZonekeeper } from './zonekeeper.js';

const ACME_USER = identityUserName({ baseDomain: BASE, organization: 'acme' });

const keyIn = (objects: readonly KubernetesObject[]) => {
  const secret = objects.find(
    (o) => o.kind === 'Secret' && o.metadata.name === 'external-dns-aws-credentials',
  );
  const file = Buffer.from(
    ((secret?.data ?? {}) as Record<string, string>).credentials ?? '',
    'base64',
  ).toString();
  return /aws_access_key_id = (\S+)/.exec(file)?.[1];
};

describe('one organisation cannot touch another organisation’s cluster (§2.2)', () => {
  it('attach of acme’s cluster for globex is NOT_OWNED before anything is written; detach too', async () => {
    const w = memoryWorld();
    await w.zk.attachCluster('acme', { clusterId: 'c1' });
    const c1 = await w.cluster('c1');
    const before = JSON.stringify(c1.objects());
    const writes = await w.writes(['c1']);
    const attach = await rejectionOf(w.zk.attachCluster('globex', { clusterId: 'c1' }));
    expect(hasErrorCode(attach, 'NOT_OWNED')).toBe(true);
    expect((attach as Error).message).toMatch(/Cluster c1 belongs to organisation acme/);
    const detach = await rejectionOf(w.zk.detachCluster('globex', 'c1'));
    expect(hasErrorCode(detach, 'NOT_OWNED')).toBe(true);
    expect(JSON.stringify(c1.objects())).toBe(before);
    // Not even globex's zone was created: the binding is checked before the first write.
    expect(await w.writes(['c1'])).toEqual(writes);
    expect(w.dns.snapshot().some((z) => z.name === `globex.${BASE}`)).toBe(false);
    expect((await readClusterBinding(w.secrets, 'c1', w.layout))?.organization).toBe('acme');
  });

  it('objects labelled for another organisation (no binding recorded) are NOT_OWNED, never replaced', async () => {
    const w = memoryWorld();
    await w.zk.attachCluster('acme', { clusterId: 'c1' });
    // An installation from before bindings existed: drop the binding, keep acme's objects.
    await w.secrets.deleteAll(`${w.layout.prefix}/clusters/c1`);
    const c1 = await w.cluster('c1');
    const before = JSON.stringify(c1.objects());
    const e = await rejectionOf(w.zk.attachCluster('globex', { clusterId: 'c1' }));
    expect(hasErrorCode(e, 'NOT_OWNED')).toBe(true);
    expect((e as Error).message).toMatch(/belongs to organisation acme, not globex/);
    expect(JSON.stringify(c1.objects())).toBe(before);
    // …and globex's detach removes nothing of acme's.
    const detached = await w.zk.detachCluster('globex', 'c1');
    expect(detached.uninstalled).toEqual([]);
    expect(JSON.stringify(c1.objects())).toBe(before);
  });

  it('two organisations racing for one free cluster: exactly one gets it', async () => {
    const w = memoryWorld();
    const results = await Promise.allSettled([
      w.zk.attachCluster('acme', { clusterId: 'c1' }),
      w.zk.attachCluster('globex', { clusterId: 'c1' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(hasErrorCode(lost.reason, 'NOT_OWNED')).toBe(true);
    const owner = (await readClusterBinding(w.secrets, 'c1', w.layout))?.organization;
    const labels = new Set(
      (await w.cluster('c1')).objects().map((o) => o.metadata.labels?.['zonekeeper.io/organization']),
    );
    labels.delete(undefined);
    expect([...labels]).toEqual([owner]);
  });
});

describe('the parent zone is not ours to overwrite (§2.3)', () => {
  it('an NS record that points elsewhere: NOT_OWNED, nothing written, and the collector leaves it alone', async () => {
    const w = memoryWorld();
    await w.zk.ensureOrganization('globex'); // the parent zone exists
    const parent = w.dns.snapshot().find((z) => z.name === BASE)?.id as string;
    await w.dns.changeRecords(parent, [
      {
        action: 'CREATE',
        recordSet: { name: `status2.${BASE}`, type: 'NS', ttl: 300, values: ['ns1.statuspage.io.'] },
      },
    ]);
    const writes = await w.writes();
    const e = await rejectionOf(w.zk.ensureOrganization('status2'));
    expect(hasErrorCode(e, 'NOT_OWNED')).toBe(true);
    expect(await w.writes()).toEqual(writes);
    expect(w.identity.snapshot().map((u) => u.userName)).not.toContain(
      identityUserName({ baseDomain: BASE, organization: 'status2' }),
    );
    await w.clock.advance(DAY);
    await w.zk.collectGarbage();
    expect(w.delegation(`status2.${BASE}`)?.values).toEqual(['ns1.statuspage.io.']);
  });

  it('an A record at the name (www next to an NS): NOT_OWNED, nothing written', async () => {
    const w = memoryWorld({ reservedOrganizationNames: [] });
    await w.zk.ensureOrganization('globex');
    const parent = w.dns.snapshot().find((z) => z.name === BASE)?.id as string;
    await w.dns.changeRecords(parent, [
      { action: 'CREATE', recordSet: { name: `www.${BASE}`, type: 'A', ttl: 300, values: ['192.0.2.80'] } },
    ]);
    const writes = await w.writes();
    expect(hasErrorCode(await rejectionOf(w.zk.ensureOrganization('www')), 'NOT_OWNED')).toBe(true);
    expect(await w.writes()).toEqual(writes);
  });

  it('reserved names are INVALID_INPUT before any call; the list is configurable', async () => {
    const w = memoryWorld();
    for (const name of ['www', 'mail', 'api', 'status']) {
      const e = await rejectionOf(w.zk.ensureOrganization(name));
      expect(hasErrorCode(e, 'INVALID_INPUT'), name).toBe(true);
      expect((e as Error).message).toMatch(/reserved/);
    }
    expect(await w.callCount()).toBe(0);
    const open = memoryWorld({ reservedOrganizationNames: ['acme'] });
    expect(hasErrorCode(await rejectionOf(open.zk.ensureOrganization('acme')), 'INVALID_INPUT')).toBe(true);
    expect((await open.zk.ensureOrganization('api')).zone?.name).toBe(`api.${BASE}`);
  });
});

describe('the collection is the organisation’s own: its delegation is healed (§2.6)', () => {
  it('a collection that crashed after removing the delegation of a zone whose organisation came back: the next one restores it', async () => {
    const w = memoryWorld();
    w.inventory.set({ organization: 'acme', clusterId: 'c1', running: true });
    const r = await w.zk.attachCluster('acme', { clusterId: 'c1' });
    // What the crashed collection left: the delegation gone, the zone and everything else there.
    const parent = w.dns.snapshot().find((z) => z.name === BASE)?.id as string;
    const delegation = w.delegation(`acme.${BASE}`);
    await w.dns.changeRecords(parent, [{ action: 'DELETE', recordSet: delegation as never }]);
    expect(w.delegation(`acme.${BASE}`)).toBeUndefined();
    const collected = await w.zk.collectGarbage();
    expect(collected.delegationsRestored).toEqual(['acme']);
    expect(w.delegation(`acme.${BASE}`)?.values).toEqual(delegation?.values);
    expect(r.organizationResult.zone?.id).toBe(w.dns.snapshot().find((z) => z.name === `acme.${BASE}`)?.id);
    // …and a rotation heals it too.
    await w.dns.changeRecords(parent, [{ action: 'DELETE', recordSet: delegation as never }]);
    const rotation = await w.zk.rotateCredentials('acme');
    expect(rotation.zone.map((s) => s.op)).toEqual(['upsert-delegation']);
    expect(w.delegation(`acme.${BASE}`)?.values).toEqual(delegation?.values);
  });
});

describe('everything is validated before the first write (§2.7)', () => {
  it('an organisation name of 51–63 characters works end to end (the CA common name fits)', async () => {
    for (const length of [51, 63]) {
      const w = memoryWorld();
      const org = 'a'.repeat(length);
      const r = await w.zk.attachCluster(org, { clusterId: 'c1' });
      expect(r.organizationResult.plans.certificateAuthority.map((s) => s.op)).toEqual(['create-ca']);
    }
  });

  it('bad ExternalDNS settings, a missing certificate namespace, a dryRun that is not a boolean, invalid punycode: refused, nothing written', async () => {
    const w = memoryWorld();
    const refusals: [string, () => Promise<unknown>, string][] = [
      [
        'bad interval',
        () => w.zk.attachCluster('acme', { clusterId: 'c1', externalDns: { interval: '5s' } }),
        'INVALID_INPUT',
      ],
      [
        'bad image',
        () => w.zk.attachCluster('acme', { clusterId: 'c1', externalDns: { image: 'nope nope' } }),
        'INVALID_INPUT',
      ],
      [
        'unknown setting',
        () => w.zk.attachCluster('acme', { clusterId: 'c1', externalDns: { replicas: 3 } as never }),
        'INVALID_INPUT',
      ],
      ['dryRun "yes"', () => w.zk.ensureOrganization('acme', { dryRun: 'yes' as never }), 'INVALID_INPUT'],
      ['xn--acme', () => w.zk.ensureOrganization('xn--acme'), 'INVALID_INPUT'],
      [
        'scope "team"',
        () => w.zk.attachCluster('acme', { clusterId: 'c1', identityScope: 'team' as never }),
        'INVALID_INPUT',
      ],
    ];
    for (const [what, call, code] of refusals) {
      const e = await rejectionOf(call());
      expect(hasErrorCode(e, code as never), `${what}: ${String(e)}`).toBe(true);
    }
    expect(await w.callCount()).toBe(0);
    // A certificate for a namespace the cluster does not have: refused after reading, before writing.
    const e = await rejectionOf(
      w.zk.attachCluster('acme', {
        clusterId: 'c1',
        certificates: [{ name: 'web', namespace: 'missing', dnsNames: [`www.acme.${BASE}`] }],
      }),
    );
    expect(hasErrorCode(e, 'NOT_FOUND')).toBe(true);
    expect((e as Error).message).toMatch(/Namespace missing does not exist in cluster c1/);
    expect(await w.writes(['c1'])).toEqual({ dns: 1, identity: 0, secrets: 0, 'cluster:c1': 0 }); // the embedded parent zone only
  });
});

describe('foreign state is refused before any write (§2.8)', () => {
  it('an IAM user of our name without our tags: NOT_OWNED before the zone is created', async () => {
    const w = memoryWorld();
    await w.identity.createUser({ userName: ACME_USER, path: '/zonekeeper/', tags: {} });
    const e = await rejectionOf(w.zk.ensureOrganization('acme'));
    expect(hasErrorCode(e, 'NOT_OWNED')).toBe(true);
    expect(w.dns.snapshot().some((z) => z.name === `acme.${BASE}`)).toBe(false);
    expect(w.secrets.paths()).toEqual([]);
  });

  it('a Vault secret at our path without our mark: neither overwritten nor deleted', async () => {
    const w = memoryWorld();
    const path = `${w.layout.prefix}/orgs/acme/aws-access-key`;
    await w.secrets.write(
      path,
      { accessKeyId: 'AKIAFOREIGN000000001', secretAccessKey: 'theirs' },
      { cas: 0 },
    );
    const e = await rejectionOf(w.zk.ensureOrganization('acme'));
    expect(hasErrorCode(e, 'NOT_OWNED')).toBe(true);
    expect(w.dns.snapshot().some((z) => z.name === `acme.${BASE}`)).toBe(false);
    // The orphan sweep sees an organisation with secrets but keeps the foreign one.
    const sweep = await w.zk.collectGarbage();
    expect(sweep.orphans.secretPaths).toEqual([]);
    expect((await w.secrets.read(path))?.data.secretAccessKey).toBe('theirs');
  });

  it('a zone named acme.<base> but tagged for globex is never collected as either’s', async () => {
    const w = memoryWorld();
    const { zone } = await w.dns.createZone({ name: `acme.${BASE}`, callerReference: 'someone' });
    await w.dns.changeTags(zone.id, {
      add: { [ZoneTags.managedBy]: 'zonekeeper', [ZoneTags.organization]: 'globex' },
    });
    await w.zk.ensureOrganization('initech'); // the parent zone, and something else to look at
    await w.clock.advance(HOUR);
    const r = await w.zk.collectGarbage();
    expect(r.zones.map((z) => z.name)).toEqual([`initech.${BASE}`]);
    expect(w.dns.snapshot().some((z) => z.id === zone.id)).toBe(true);
  });
});

describe('two platforms sharing one Vault (§2.9)', () => {
  it('default layouts never meet; a shared prefix is refused, never overwritten or swept', async () => {
    const secrets = createMemorySecretStore();
    const inventory = (await import('./inventory.js')).createMemoryInventory();
    const clock = createManualClock(T0);
    const one = createZonekeeper({ baseDomain: 'one.example', secrets, inventory, clock });
    const two = createZonekeeper({ baseDomain: 'two.example', secrets, inventory, clock });
    const a = await one.ensureOrganization('acme');
    const b = await two.ensureOrganization('acme');
    expect(a.accessKeyId).not.toBe(b.accessKeyId);
    await clock.advance(HOUR);
    await two.collectGarbage();
    expect((await readAccessKey(secrets, { organization: 'acme' }, one.secretLayout))?.accessKeyId).toBe(
      a.accessKeyId,
    );
    // The same explicit prefix for both: the second platform is refused at the first secret it meets.
    const shared = createMemorySecretStore();
    const p1 = createZonekeeper({
      baseDomain: 'one.example',
      secrets: shared,
      secretPrefix: 'zonekeeper',
      clock,
    });
    const p2 = createZonekeeper({
      baseDomain: 'two.example',
      secrets: shared,
      secretPrefix: 'zonekeeper',
      clock,
    });
    const first = await p1.ensureOrganization('acme');
    const e = await rejectionOf(p2.ensureOrganization('acme'));
    expect(hasErrorCode(e, 'NOT_OWNED')).toBe(true);
    expect((e as Error).message).toMatch(/belongs to the zonekeeper platform one\.example/);
    const stored = await readAccessKey(shared, { organization: 'acme' }, p1.secretLayout);
    expect(stored?.accessKeyId).toBe(first.accessKeyId);
    const meta = await shared.readMetadata('zonekeeper/orgs/acme/aws-access-key');
    expect(meta?.customMetadata).toMatchObject({
      [SECRET_OWNERSHIP.managedBy]: SECRET_MANAGED_BY,
      [SECRET_OWNERSHIP.platform]: 'one.example',
    });
  });
});

describe('settings that change security are recorded (§2.10)', () => {
  it('a cluster attached with identity scope cluster keeps its own key through a rotation without the flag', async () => {
    const w = memoryWorld();
    await w.zk.attachCluster('acme', { clusterId: 'shared' });
    await w.zk.attachCluster('acme', { clusterId: 'isolated', identityScope: 'cluster' });
    const again = await w.zk.attachCluster('acme', { clusterId: 'isolated' }); // no scope: the recorded one
    expect(again.identityScope).toBe('cluster');
    const r = await w.zk.rotateCredentials('acme');
    expect(r.rotations.map((x) => [x.userName, x.clustersUpdated])).toEqual([
      [ACME_USER, ['shared']],
      [identityUserName({ baseDomain: BASE, organization: 'acme', clusterId: 'isolated' }), ['isolated']],
    ]);
    const orgKey = await readAccessKey(w.secrets, { organization: 'acme' }, w.layout);
    const ownKey = await readAccessKey(w.secrets, { organization: 'acme', clusterId: 'isolated' }, w.layout);
    expect(keyIn((await w.cluster('shared')).objects())).toBe(orgKey?.accessKeyId);
    expect(keyIn((await w.cluster('isolated')).objects())).toBe(ownKey?.accessKeyId);
    expect(ownKey?.accessKeyId).not.toBe(orgKey?.accessKeyId);
  });

  it('moving a cluster back to the organisation scope switches its key first, then deletes its identity', async () => {
    const w = memoryWorld();
    await w.zk.attachCluster('acme', { clusterId: 'c1', identityScope: 'cluster' });
    const r = await w.zk.attachCluster('acme', { clusterId: 'c1', identityScope: 'organization' });
    expect(r.plan.map((s) => s.op)).toEqual([
      'record-attachment',
      'apply-external-dns',
      'delete-cluster-identity',
    ]);
    const orgKey = await readAccessKey(w.secrets, { organization: 'acme' }, w.layout);
    expect(keyIn((await w.cluster('c1')).objects())).toBe(orgKey?.accessKeyId);
    expect(w.identity.snapshot().map((u) => u.userName)).toEqual([ACME_USER]);
  });
});

describe('unknown organisations, CLI words and masked logs (§2.11)', () => {
  it('issueCertificate for an organisation that does not exist: NOT_FOUND, nothing written', async () => {
    const w = memoryWorld();
    const e = await rejectionOf(
      w.zk.issueCertificate('ghost', { name: 'web', dnsNames: [`www.ghost.${BASE}`] }),
    );
    expect(hasErrorCode(e, 'NOT_FOUND')).toBe(true);
    expect(await w.writes()).toEqual({ dns: 0, identity: 0, secrets: 0 });
    expect(w.secrets.paths()).toEqual([]);
  });

  it('the library’s logger masks access key ids as the CLI does', async () => {
    const logger = capturingLogger();
    const w = memoryWorld({ logger } as never);
    const r = await w.zk.ensureOrganization('acme');
    const lines = [...logger.lines, ...w.logger.lines].join('\n');
    expect(lines).toContain(`********${r.accessKeyId?.slice(-4)}`);
    expect(lines).not.toContain(r.accessKeyId);
  });
});

describe('a lost CreateAccessKey answer is recovered in the same run (§2.5)', () => {
  it('IAM created the key, the answer was a 503: the unknown key is deleted and one more is created', async () => {
    const w = memoryWorld();
    await w.zk.ensureOrganization('globex');
    const create = w.identity.createAccessKey.bind(w.identity);
    let failed = false;
    w.identity.createAccessKey = async (user, options) => {
      const key = await create(user, options);
      if (!failed && user === ACME_USER) {
        failed = true;
        throw new ZonekeeperError('UNAVAILABLE', 'IAM: CreateAccessKey failed with HTTP 503 (injected).');
      }
      return key;
    };
    const r = await w.zk.ensureOrganization('acme');
    expect(failed).toBe(true);
    const stored = await readAccessKey(w.secrets, { organization: 'acme' }, w.layout);
    const user = w.identity.snapshot().find((u) => u.userName === ACME_USER);
    expect(user?.accessKeys.map((k) => k.accessKeyId)).toEqual([stored?.accessKeyId]);
    expect(r.accessKeyId).toBe(stored?.accessKeyId);
    // A rotation afterwards works (it would fail on IAM's two-key limit with the leaked key left).
    await w.zk.rotateCredentials('acme');
    expect(w.identity.snapshot().find((u) => u.userName === ACME_USER)?.accessKeys).toHaveLength(1);
  });

  it('a key left by an earlier crash (unknown to the store) never blocks a rotation', async () => {
    const w = memoryWorld();
    await w.zk.attachCluster('acme', { clusterId: 'c1' });
    const stored = await readAccessKey(w.secrets, { organization: 'acme' }, w.layout);
    await w.identity.createAccessKey(ACME_USER); // IAM now has 2 keys
    const r = await w.zk.rotateCredentials('acme');
    expect(r.rotations[0]?.deletedAccessKeyIds).toHaveLength(2);
    expect(w.identity.snapshot()[0]?.accessKeys).toHaveLength(1);
    expect(r.rotations[0]?.newAccessKeyId).not.toBe(stored?.accessKeyId);
    // Writing a key record by hand with the wrong layout is not ours to read back.
    await writeAccessKey(
      w.secrets,
      { organization: 'acme' },
      { ...stored, accessKeyId: 'AKIAHANDWRITTEN00001' } as never,
      {
        cas: 0,
      },
    );
    expect((await readAccessKey(w.secrets, { organization: 'acme' }, w.layout))?.accessKeyId).toBe(
      r.rotations[0]?.newAccessKeyId,
    );
  });
});
