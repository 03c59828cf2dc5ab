/**
 * The operator views and offboarding (issue 13 §2): `listOrganizations`, `describeOrganization` and
 * `deleteOrganization` on the embedded memory backend, and a concurrent attach and delete of one
 * organisation across "processes" sharing the store (the organisation lock).
 */

import { hasErrorCode, systemClock } from '@zonekeeper/core';
import { createMemoryCluster, type MemoryCluster } from '@zonekeeper/externaldns-deployer';
import { createMemoryIdentityProvider, identityUserName } from '@zonekeeper/iam-scoper';
import {
  createMemorySecretStore,
  listSecretsRecursively,
  readAccessKey,
  writeOwnedSecret,
} from '@zonekeeper/vault-keys';
import { createMemoryDnsProvider } from '@zonekeeper/zone-manager';
import { describe, expect, it } from 'vitest';
import { createMemoryInventory } from './inventory.js';
import { BASE, DAY, HOUR, memoryWorld, rejectionOf } from './memory.test.support.js';
import { createZonekeeper } from './zonekeeper.js';

const ACME_USER = identityUserName({ baseDomain: BASE, organization: 'acme' });
const WEB = { name: 'web', namespace: 'web', dnsNames: ['www.acme.example.com'] };

async function withNamespace(w: ReturnType<typeof memoryWorld>, clusterId: string, name: string) {
  await (await w.cluster(clusterId)).apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

describe('describeOrganization and listOrganizations', () => {
  it('describes zone, delegation, identity, key age (IAM date, injected clock), clusters, certificates and the next GC decision', async () => {
    const w = memoryWorld();
    await withNamespace(w, 'c1', 'web');
    w.inventory.set({ organization: 'acme', clusterId: 'c1', running: true });
    const attached = await w.zk.attachCluster('acme', { clusterId: 'c1', certificates: [WEB] });
    await w.zk.issueCertificate('acme', { name: 'api', dnsNames: ['api.acme.example.com'] });
    await w.clock.advance(2 * DAY);
    const before = await w.writes(['c1']);

    const d = await w.zk.describeOrganization('acme');
    expect(await w.writes(['c1'])).toEqual(before); // read-only
    expect(d.exists).toBe(true);
    expect(d.zone?.id).toBe(attached.organizationResult.zone?.id);
    expect(d.zone?.protected).toBe(false);
    expect(d.delegation.state).toBe('present');
    expect(d.identity).toEqual({ userName: ACME_USER, policyOk: true });
    const stored = await readAccessKey(w.secrets, { organization: 'acme' }, w.layout);
    expect(d.accessKey?.accessKeyId).toBe(stored?.accessKeyId);
    expect(d.accessKey?.inIam).toBe(true);
    expect(d.accessKey?.ageMs).toBe(2 * DAY);
    expect(d.clusters).toEqual([
      expect.objectContaining({
        clusterId: 'c1',
        scope: 'organization',
        bound: true,
        tlsSecrets: ['web/web'],
      }),
    ]);
    expect(d.certificates.map((c) => [c.name, c.dnsNames])).toEqual([
      ['api', ['api.acme.example.com']],
      ['web', ['www.acme.example.com']],
    ]);
    expect(d.certificates.every((c) => c.notAfter instanceof Date)).toBe(true);
    expect(d.certificateAuthority?.notAfter).toBeInstanceOf(Date);
    expect(d.garbageCollection).toMatchObject({
      inventory: 'read',
      inUse: true,
      decision: { action: 'keep', reason: 'IN_USE' },
    });
    // Secret-free: no secret access key anywhere in the description.
    expect(JSON.stringify(d)).not.toContain(stored?.secretAccessKey);

    // Unused now: the same decision a dry-run collection makes.
    w.inventory.set({ organization: 'acme', clusterId: 'c1', running: false });
    const unused = await w.zk.describeOrganization('acme');
    const gc = await w.zk.collectGarbage({ dryRun: true });
    expect(unused.garbageCollection.decision).toEqual(gc.plan.decisions.find((x) => x.zoneId === d.zone?.id));

    const list = await w.zk.listOrganizations();
    expect(list).toEqual([
      {
        organization: 'acme',
        status: 'active',
        zones: [{ id: d.zone?.id, name: 'acme.example.com', createdAt: d.zone?.createdAt }],
        userNames: [ACME_USER],
        clusters: ['c1'],
      },
    ]);
  });

  it('reports a missing and a foreign delegation, a policy that is not what an ensure writes, and no inventory', async () => {
    const w = memoryWorld();
    await w.zk.ensureOrganization('acme');
    const parent = w.dns.snapshot().find((z) => z.name === BASE);
    const ns = w.delegation('acme.example.com');
    if (!parent || !ns) throw new Error('no delegation');
    await w.dns.changeRecords(parent.id, [{ action: 'DELETE', recordSet: ns }]);
    expect((await w.zk.describeOrganization('acme')).delegation).toEqual({
      state: 'missing',
      nameServers: [],
    });
    await w.dns.changeRecords(parent.id, [
      { action: 'CREATE', recordSet: { ...ns, values: ['ns1.elsewhere.net.'] } },
    ]);
    const foreign = await w.zk.describeOrganization('acme');
    expect(foreign.delegation).toEqual({ state: 'foreign', nameServers: ['ns1.elsewhere.net.'] });

    await w.identity.putUserPolicy(
      ACME_USER,
      Object.keys(w.identity.snapshot()[0]?.policies ?? {})[0] ?? '',
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"route53:GetChange","Resource":"*"}]}',
    );
    const tampered = await w.zk.describeOrganization('acme');
    expect(tampered.identity?.policyOk).toBe(false);
    expect(tampered.identity?.problem).toMatch(/put-policy/);

    const noInventory = createZonekeeper({ baseDomain: BASE });
    await noInventory.ensureOrganization('beta');
    expect((await noInventory.describeOrganization('beta')).garbageCollection).toEqual({
      inventory: 'not-configured',
    });
    const nothing = await noInventory.describeOrganization('nobody');
    expect(nothing).toMatchObject({ exists: false, delegation: { state: 'no-zone' }, clusters: [] });
  });

  it('lists crash leftovers (an identity without a zone) as leftovers', async () => {
    const w = memoryWorld();
    await w.zk.ensureOrganization('acme');
    const zone = w.dns.snapshot().find((z) => z.name === 'acme.example.com');
    await w.dns.deleteZone(zone?.id as string).catch(() => undefined);
    const list = await w.zk.listOrganizations();
    expect(list.map((o) => [o.organization, o.status])).toEqual([['acme', 'leftovers']]);
  });

  it('listClusters: attachments, a binding an interrupted detach left, and clusters only the inventory knows', async () => {
    const w = memoryWorld();
    await w.zk.attachCluster('acme', { clusterId: 'c1' });
    await w.zk.attachCluster('acme', { clusterId: 'c2', identityScope: 'cluster' });
    await w.zk.attachCluster('globex', { clusterId: 'g1' });
    // An interrupted detach of c2: its records deleted, its binding (removed last) not yet.
    await w.secrets.deleteAll(`${w.layout.prefix}/orgs/acme/clusters/c2/attachment`);
    w.inventory.set({ organization: 'acme', clusterId: 'c1', running: true });
    w.inventory.set({ organization: 'acme', clusterId: 'c3', running: false });
    const all = await w.zk.listClusters();
    expect(all.map((c) => [c.organization, c.clusterId, c.attached, c.bound, c.inventory])).toEqual([
      ['acme', 'c1', true, true, 'running'],
      ['acme', 'c2', false, true, 'absent'],
      ['acme', 'c3', false, false, 'stopped'],
      ['globex', 'g1', true, true, 'absent'],
    ]);
    expect(all[0]).toMatchObject({ scope: 'organization', namespace: 'external-dns' });
    expect((await w.zk.listClusters({ organization: 'globex' })).map((c) => c.clusterId)).toEqual(['g1']);
    // The interrupted detach also blocks offboarding until it is finished.
    await w.zk.detachCluster('acme', 'c1');
    w.inventory.remove('acme', 'c1');
    expect((await rejectionOf(w.zk.deleteOrganization('acme'))) as Error).toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/attached clusters \(c2\)/),
    });
    w.inventory.failNext(1);
    expect(hasErrorCode(await rejectionOf(w.zk.listClusters()), 'UNAVAILABLE')).toBe(true);
  });

  it('refuses a bad name before any call', async () => {
    const w = memoryWorld();
    const calls = await w.callCount();
    expect(hasErrorCode(await rejectionOf(w.zk.describeOrganization('Not_Valid')), 'INVALID_INPUT')).toBe(
      true,
    );
    expect(hasErrorCode(await rejectionOf(w.zk.deleteOrganization('Not_Valid')), 'INVALID_INPUT')).toBe(true);
    expect(await w.callCount()).toBe(calls);
  });
});

describe('deleteOrganization', () => {
  it('refuses while a cluster is attached (CONFLICT naming detachCluster), writing nothing', async () => {
    const w = memoryWorld();
    await w.zk.attachCluster('acme', { clusterId: 'c1' });
    const before = await w.writes(['c1']);
    const e = await rejectionOf(w.zk.deleteOrganization('acme'));
    expect(hasErrorCode(e, 'CONFLICT')).toBe(true);
    expect((e as Error).message).toMatch(/attached clusters \(c1\); run detachCluster/);
    expect(
      hasErrorCode(await rejectionOf(w.zk.deleteOrganization('acme', { dryRun: true })), 'CONFLICT'),
    ).toBe(true);
    expect(await w.writes(['c1'])).toEqual(before);
  });

  it('refuses while the inventory lists a running cluster, or the zone is protected', async () => {
    const w = memoryWorld();
    const r = await w.zk.ensureOrganization('acme');
    w.inventory.set({ organization: 'acme', clusterId: 'c9', running: true });
    expect((await rejectionOf(w.zk.deleteOrganization('acme'))) as Error).toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/running clusters of organisation acme \(c9\)/),
    });
    w.inventory.remove('acme', 'c9');
    await w.dns.changeTags(r.zone?.id as string, { add: { 'zonekeeper:protected': 'true' }, remove: [] });
    expect((await rejectionOf(w.zk.deleteOrganization('acme'))) as Error).toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/protected/),
    });
    expect(w.dns.snapshot().some((z) => z.name === 'acme.example.com')).toBe(true);
  });

  it('after a detach: the dry run plans exactly what the real run executes, in the collector order; then nothing is left', async () => {
    const w = memoryWorld({ identityScope: 'cluster' });
    await withNamespace(w, 'c1', 'web');
    const attached = await w.zk.attachCluster('acme', { clusterId: 'c1', certificates: [WEB] });
    await w.zk.ensureOrganization('globex');
    const zoneId = attached.organizationResult.zone?.id as string;
    await w.dns.changeRecords(zoneId, [
      {
        action: 'CREATE',
        recordSet: { name: 'www.acme.example.com', type: 'A', ttl: 300, values: ['192.0.2.1'] },
      },
    ]);
    await w.zk.detachCluster('acme', 'c1');
    const before = await w.writes();

    const dry = await w.zk.deleteOrganization('acme', { dryRun: true });
    expect(await w.writes()).toEqual(before);
    expect(dry.existed).toBe(true);
    const real = await w.zk.deleteOrganization('acme');
    expect(real.plan).toEqual(dry.plan);
    expect(real.plan.map((s) => s.op)).toEqual(['delete-organization-zone', 'delete-secrets', 'forget-lock']);
    const zoneStep = real.plan[0];
    if (zoneStep?.op !== 'delete-organization-zone') throw new Error('no zone step');
    expect(zoneStep.steps.map((s) => s.op)).toEqual(['delete-delegation', 'delete-records', 'delete-zone']);
    expect(real.deletedZones).toEqual([zoneId]);
    expect(real.deletedSecrets).toEqual(dry.deletedSecrets);
    expect(real.deletedSecrets.length).toBeGreaterThan(0);

    expect(w.dns.snapshot().some((z) => z.name === 'acme.example.com')).toBe(false);
    expect(w.delegation('acme.example.com')).toBeUndefined();
    // Per-cluster identities: the cluster's went with the detach; globex has none either.
    expect(w.identity.snapshot()).toEqual([]);
    expect(await listSecretsRecursively(w.secrets, `${w.layout.prefix}/orgs/acme`)).toEqual([]);
    expect(await w.secrets.read(`${w.layout.prefix}/locks/acme`)).toBeUndefined();
    // globex is untouched.
    expect((await w.zk.describeOrganization('globex')).delegation.state).toBe('present');

    // Converged: the next run plans nothing, takes no lock and writes nothing.
    const after = await w.writes();
    const again = await w.zk.deleteOrganization('acme');
    expect(again).toMatchObject({ existed: false, plan: [] });
    expect(await w.writes()).toEqual(after);
    expect((await w.zk.listOrganizations()).map((o) => o.organization)).toEqual(['globex']);
  });

  it('deletes an organisation identity too, keeps a foreign secret and a foreign zone of the name', async () => {
    const w = memoryWorld();
    await w.zk.ensureOrganization('acme');
    await writeOwnedSecret(
      w.secrets,
      `${w.layout.prefix}/orgs/acme/notes`,
      { text: 'not zonekeeper’s' },
      { kind: 'aws-access-key', organization: 'acme' },
      { owner: 'another-platform.net', cas: 0 },
    );
    await w.dns.createZone({ name: 'acme.example.com', callerReference: 'someone-else' });
    const r = await w.zk.deleteOrganization('acme');
    expect(r.plan.map((s) => s.op)).toEqual([
      'delete-organization-zone',
      'delete-identity',
      'delete-secrets',
      'forget-lock',
    ]);
    const identityStep = r.plan[1];
    if (identityStep?.op !== 'delete-identity') throw new Error('no identity step');
    expect(identityStep.steps.map((s) => s.op)).toEqual([
      'delete-access-key',
      'delete-policy',
      'delete-user',
    ]);
    expect(r.deletedIdentities).toEqual([ACME_USER]);
    expect(r.keptSecrets).toEqual([`${w.layout.prefix}/orgs/acme/notes`]);
    expect(r.keptZones).toHaveLength(1);
    expect(
      w.dns
        .snapshot()
        .filter((z) => z.name === 'acme.example.com')
        .map((z) => z.id),
    ).toEqual(r.keptZones);
    expect(w.identity.snapshot()).toEqual([]);
    expect(await listSecretsRecursively(w.secrets, `${w.layout.prefix}/orgs/acme`)).toEqual([
      `${w.layout.prefix}/orgs/acme/notes`,
    ]);
    expect(w.logger.lines.some((l) => l.includes('kept') && l.includes('notes'))).toBe(true);
  });

  it('a deletion that stopped half-way (zone gone, identity left) is finished by the next run', async () => {
    const w = memoryWorld();
    const r = await w.zk.ensureOrganization('acme');
    const ac = new AbortController();
    const del = w.identity.deleteAccessKey.bind(w.identity);
    w.identity.deleteAccessKey = async (...args) => {
      await del(...args);
      ac.abort(new Error('crash'));
    };
    await rejectionOf(w.zk.deleteOrganization('acme', { signal: ac.signal }));
    w.identity.deleteAccessKey = del;
    expect(w.dns.snapshot().some((z) => z.id === r.zone?.id)).toBe(false);
    expect(w.identity.snapshot()).toHaveLength(1);
    await w.clock.advance(HOUR); // the lock a crashed run left expires
    const again = await w.zk.deleteOrganization('acme');
    expect(again.plan.map((s) => s.op)).toEqual(['delete-identity', 'delete-secrets', 'forget-lock']);
    expect(w.identity.snapshot()).toEqual([]);
    expect(await listSecretsRecursively(w.secrets, w.layout.prefix)).toEqual([]);
  });
});

/** mulberry32. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('a concurrent attach and delete of one organisation (two processes, the lock)', () => {
  it('never leaves a half-deleted organisation with an attached cluster (24 seeded schedules)', async () => {
    const outcomes = new Set<string>();
    for (let seed = 1; seed <= 24; seed++) {
      const dns = createMemoryDnsProvider({ clock: systemClock });
      await dns.createZone({ name: BASE, callerReference: 'parent' });
      const identity = createMemoryIdentityProvider({ clock: systemClock });
      const secrets = createMemorySecretStore({ clock: systemClock });
      const clusters = new Map<string, MemoryCluster>();
      const random = prng(seed);
      const delayed = <T extends object>(port: T): T =>
        new Proxy(port, {
          get: (target, property, receiver) => {
            const value = Reflect.get(target, property, receiver) as unknown;
            if (typeof value !== 'function' || typeof property !== 'string') return value;
            return async (...args: unknown[]) => {
              for (let i = Math.floor(random() * 4); i > 0; i--) await new Promise((r) => setImmediate(r));
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          },
        });
      // Each "process" reaches the store through its own object (so the lock is the store's record).
      const process_ = () =>
        createZonekeeper({
          baseDomain: BASE,
          clock: systemClock,
          inventory: createMemoryInventory(),
          dns: delayed(dns),
          identity: delayed(identity),
          secrets: delayed(secrets),
          clusters: (id: string) => {
            let c = clusters.get(id);
            if (!c) {
              c = createMemoryCluster({ name: id, clock: systemClock });
              clusters.set(id, c);
            }
            return c;
          },
          locks: { ttlMs: 3000, pollMs: 2 },
        });
      const a = process_();
      const b = process_();
      await a.ensureOrganization('acme');
      const [attach, del] = await Promise.allSettled([
        a.attachCluster('acme', { clusterId: 'c1' }),
        b.deleteOrganization('acme'),
      ]);
      expect(attach.status, `seed ${seed}: ${String((attach as PromiseRejectedResult).reason)}`).toBe(
        'fulfilled',
      );
      if (del.status === 'rejected') expect(hasErrorCode(del.reason, 'CONFLICT'), `seed ${seed}`).toBe(true);
      outcomes.add(del.status === 'rejected' ? 'delete refused' : 'deleted, then attached anew');
      // Whatever the order: the attached cluster's organisation is whole.
      const d = await process_().describeOrganization('acme');
      expect(
        d.clusters.map((c) => c.clusterId),
        `seed ${seed}`,
      ).toEqual(['c1']);
      expect(d.zone, `seed ${seed}`).toBeDefined();
      expect(d.delegation.state, `seed ${seed}`).toBe('present');
      expect(d.identity?.policyOk, `seed ${seed}`).toBe(true);
      expect(d.accessKey?.inIam, `seed ${seed}`).toBe(true);
      const running = clusters
        .get('c1')
        ?.objects()
        .find((o) => o.kind === 'Secret' && o.metadata.name === 'external-dns-aws-credentials');
      const file = Buffer.from(
        ((running?.data ?? {}) as Record<string, string>).credentials ?? '',
        'base64',
      ).toString();
      expect(file, `seed ${seed}`).toContain(d.accessKey?.accessKeyId as string);
    }
    // Both orders happened across the schedules.
    expect([...outcomes].sort()).toEqual(['delete refused', 'deleted, then attached anew']);
  });
});
