import { hasErrorCode, isRetryable } from '@zonekeeper/core';
import { identityUserName } from '@zonekeeper/iam-scoper';
import { readAccessKey, readCertificateAuthority } from '@zonekeeper/vault-keys';
import { describe, expect, it } from 'vitest';
import { BASE, everythingIn, memoryWorld, rejectionOf } from './memory.test.support.js';
import { createZonekeeper } from './zonekeeper.js';

const ACME_USER = identityUserName({ baseDomain: BASE, organization: 'acme' });

describe('ensureOrganization on the embedded memory backend', () => {
  it('creates the zone, its delegation, the scoped identity, a key held by the store and the CA', async () => {
    const w = memoryWorld();
    const r = await w.zk.ensureOrganization('acme');

    expect(r.dryRun).toBe(false);
    expect(r.zone?.name).toBe('acme.example.com');
    const zone = w.dns.snapshot().find((z) => z.name === 'acme.example.com');
    expect(zone?.id).toBe(r.zone?.id);
    expect(zone?.tags).toMatchObject({
      'zonekeeper:managed-by': 'zonekeeper',
      'zonekeeper:organization': 'acme',
      'zonekeeper:created-at': expect.any(String),
    });
    expect([...(w.delegation('acme.example.com')?.values ?? [])].sort()).toEqual(
      [...(zone?.nameServers ?? [])].map((n) => `${n}.`).sort(),
    );

    const [user] = w.identity.snapshot();
    expect(user?.userName).toBe(ACME_USER);
    expect(r.userName).toBe(ACME_USER);
    expect(user?.tags).toMatchObject({ 'zonekeeper:organization': 'acme', 'zonekeeper:zone-id': r.zone?.id });
    const policy = JSON.parse(Object.values(user?.policies ?? {})[0] ?? '{}') as {
      Statement: { Sid: string; Resource: string | string[] }[];
    };
    expect(policy.Statement.find((s) => s.Sid === 'ChangeRecordsInZone')?.Resource).toEqual(
      `arn:aws:route53:::hostedzone/${r.zone?.id}`,
    );

    const stored = await readAccessKey(w.secrets, { organization: 'acme' }, w.layout);
    expect(user?.accessKeys.map((k) => k.accessKeyId)).toEqual([stored?.accessKeyId]);
    expect(r.accessKeyId).toBe(stored?.accessKeyId);
    expect(await readCertificateAuthority(w.secrets, 'acme', w.layout)).toMatchObject({
      certificatePem: expect.stringContaining('BEGIN CERTIFICATE'),
    });
    expect(r.plans.zone.map((s) => s.op)).toEqual(['create-zone', 'tag-zone', 'upsert-delegation']);
    expect(r.plans.identity.map((s) => s.op)).toEqual(['create-user', 'put-policy']);
    expect(r.plans.credentials).toEqual([
      { op: 'issue-key', userName: ACME_USER, reason: 'missing', previousAccessKeyId: null },
    ]);
    expect(r.plans.certificateAuthority.map((s) => s.op)).toEqual(['create-ca']);
  });

  it('converges: the second run plans nothing and makes no write call on any port', async () => {
    const w = memoryWorld();
    const first = await w.zk.ensureOrganization('acme');
    const before = await w.writes();
    const second = await w.zk.ensureOrganization('acme');
    expect(await w.writes()).toEqual(before);
    expect(second.plans).toEqual({ zone: [], identity: [], credentials: [], certificateAuthority: [] });
    expect(second.zone).toEqual(first.zone);
    expect(second.accessKeyId).toBe(first.accessKeyId);
    expect(second.duplicateZones).toEqual([]);
  });

  it('dry run on a new organisation plans every stage and changes nothing', async () => {
    const w = memoryWorld();
    await w.zk.ensureOrganization('globex'); // creates the parent zone; acme stays untouched
    const before = await w.writes();
    const r = await w.zk.ensureOrganization('acme', { dryRun: true });
    expect(await w.writes()).toEqual(before);
    expect(r.dryRun).toBe(true);
    expect(r.zone).toBeUndefined();
    expect(r.plans.zone.map((s) => s.op)).toEqual(['create-zone', 'tag-zone', 'upsert-delegation']);
    expect(r.plans.identity.map((s) => s.op)).toEqual(['create-user', 'put-policy']);
    expect(r.plans.credentials.map((s) => s.op)).toEqual(['issue-key']);
    expect(r.plans.certificateAuthority.map((s) => s.op)).toEqual(['create-ca']);
    expect(w.dns.snapshot().some((z) => z.name === 'acme.example.com')).toBe(false);
    expect(await readAccessKey(w.secrets, { organization: 'acme' }, w.layout)).toBeUndefined();
  });

  it('dry run after a key vanished from IAM plans only the new key, and the real run repairs it', async () => {
    const w = memoryWorld();
    const first = await w.zk.ensureOrganization('acme');
    await w.identity.deleteAccessKey(ACME_USER, first.accessKeyId as string);
    const before = await w.writes();
    const dry = await w.zk.ensureOrganization('acme', { dryRun: true });
    expect(await w.writes()).toEqual(before);
    expect(dry.plans.zone).toEqual([]);
    expect(dry.plans.identity).toEqual([]);
    expect(dry.plans.credentials).toEqual([
      { op: 'issue-key', userName: ACME_USER, reason: 'not-in-iam', previousAccessKeyId: null },
    ]);

    const real = await w.zk.ensureOrganization('acme');
    expect(real.accessKeyId).not.toBe(first.accessKeyId);
    const stored = await readAccessKey(w.secrets, { organization: 'acme' }, w.layout);
    expect(stored?.accessKeyId).toBe(real.accessKeyId);
    expect(stored?.previousAccessKeyId).toBeUndefined();
    expect(w.identity.snapshot()[0]?.accessKeys.map((k) => k.accessKeyId)).toEqual([real.accessKeyId]);
  });

  it('deletes an IAM key the store does not know (a crash between issuing and storing)', async () => {
    const w = memoryWorld();
    const first = await w.zk.ensureOrganization('acme');
    const leaked = await w.identity.createAccessKey(ACME_USER);
    const r = await w.zk.ensureOrganization('acme');
    expect(r.plans.credentials).toEqual([
      { op: 'delete-unknown-keys', userName: ACME_USER, accessKeyIds: [leaked.accessKeyId] },
    ]);
    expect(w.identity.snapshot()[0]?.accessKeys.map((k) => k.accessKeyId)).toEqual([first.accessKeyId]);
    expect(w.logger.lines.join('\n')).not.toContain(leaked.secretAccessKey);
  });

  it('a lost answer of the store write keeps the key the store holds (no dead key in the store)', async () => {
    const w = memoryWorld();
    await w.zk.ensureOrganization('globex');
    // The write lands, then the connection drops: the caller sees UNAVAILABLE.
    const write = w.secrets.write.bind(w.secrets);
    let dropped = false;
    w.secrets.write = async (path, data, options) => {
      const result = await write(path, data, options);
      if (!dropped && path.endsWith('/acme/aws-access-key')) {
        dropped = true;
        const { ZonekeeperError } = await import('@zonekeeper/core');
        throw new ZonekeeperError('UNAVAILABLE', 'memory store: connection reset (injected).');
      }
      return result;
    };
    const r = await w.zk.ensureOrganization('acme');
    expect(dropped).toBe(true);
    const stored = await readAccessKey(w.secrets, { organization: 'acme' }, w.layout);
    const user = w.identity.snapshot().find((u) => u.userName === ACME_USER);
    expect(user?.accessKeys.map((k) => k.accessKeyId)).toEqual([stored?.accessKeyId]);
    expect(r.accessKeyId).toBe(stored?.accessKeyId);
  });

  it('rejects bad organisation names with INVALID_INPUT before any remote call', async () => {
    for (const bad of ['Acme', '', '-acme', 'a'.repeat(64), 'ac me', 'acme.corp', 42 as unknown as string]) {
      const w = memoryWorld();
      const e = await rejectionOf(w.zk.ensureOrganization(bad));
      expect(hasErrorCode(e, 'INVALID_INPUT'), String(bad)).toBe(true);
      expect(await w.callCount()).toBe(0);
    }
  });

  it('rejects an organisation whose zone name would be too long, before any call', async () => {
    const w = memoryWorld();
    const zk = createZonekeeper({ baseDomain: `${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com` });
    const e = await rejectionOf(zk.ensureOrganization('a'.repeat(63)));
    expect(hasErrorCode(e, 'INVALID_INPUT')).toBe(true);
    expect(await w.callCount()).toBe(0);
  });

  it('ten concurrent runs, then one more: one zone, one user, one key — and the store holds it', async () => {
    const w = memoryWorld();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => w.zk.ensureOrganization('acme')),
    );
    for (const o of outcomes) {
      // A concurrent run may lose a race (check-and-set, IAM's two-key limit); it must say "run again".
      if (o.status === 'rejected')
        expect(isRetryable(o.reason) || hasErrorCode(o.reason, 'CONFLICT')).toBe(true);
    }
    const last = await w.zk.ensureOrganization('acme');
    const zones = w.dns.snapshot().filter((z) => z.name === 'acme.example.com');
    expect(zones.map((z) => z.id)).toEqual([last.zone?.id]);
    const users = w.identity.snapshot();
    expect(users.map((u) => u.userName)).toEqual([ACME_USER]);
    const stored = await readAccessKey(w.secrets, { organization: 'acme' }, w.layout);
    expect(users[0]?.accessKeys.map((k) => k.accessKeyId)).toEqual([stored?.accessKeyId]);
    expect(users[0]?.tags['zonekeeper:zone-id']).toBe(last.zone?.id);
    expect(w.delegation('acme.example.com')).toBeDefined();
    const again = await w.zk.ensureOrganization('acme');
    expect(again.plans).toEqual({ zone: [], identity: [], credentials: [], certificateAuthority: [] });
  });

  it('never logs or throws a secret', async () => {
    const w = memoryWorld();
    await w.zk.ensureOrganization('acme');
    const stored = await readAccessKey(w.secrets, { organization: 'acme' }, w.layout);
    w.identity.injectFault({ method: 'listAccessKeys', when: 'before' });
    const e = await rejectionOf(w.zk.ensureOrganization('acme'));
    const text = `${w.logger.lines.join('\n')}\n${everythingIn(e)}`;
    expect(text).not.toContain(stored?.secretAccessKey);
    expect(text).not.toContain('PRIVATE KEY');
  });
});
