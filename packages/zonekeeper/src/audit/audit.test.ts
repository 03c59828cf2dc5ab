/**
 * `auditFleet` on the embedded memory backend: a fleet just made by ensure/attach is clean; each kind
 * of drift made behind zonekeeper's back is found, with its fix; the audit never writes.
 */

import type { KubernetesObject } from '@zonekeeper/core';
import { DEFAULT_EXTERNAL_DNS_IMAGE } from '@zonekeeper/externaldns-deployer';
import { identityPolicyName, identityUserName } from '@zonekeeper/iam-scoper';
import { readAccessKey, writeAccessKey } from '@zonekeeper/vault-keys';
import { describe, expect, it } from 'vitest';
import { BASE, DAY, HOUR, type MemoryWorld, memoryWorld } from '../memory.test.support.js';
import { createZonekeeper } from '../zonekeeper.js';

const ACME_USER = identityUserName({ baseDomain: BASE, organization: 'acme' });

/** acme with two clusters (one per identity scope) and a TLS certificate, globex with none. */
async function fleet(): Promise<MemoryWorld> {
  const w = memoryWorld();
  w.inventory.set({ organization: 'acme', clusterId: 'c1', running: true });
  w.inventory.set({ organization: 'acme', clusterId: 'c2', running: true });
  w.inventory.set({ organization: 'globex', clusterId: 'g1', running: true });
  const c1 = await w.cluster('c1');
  await c1.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  await w.zk.attachCluster('acme', {
    clusterId: 'c1',
    certificates: [{ name: 'web', namespace: 'shop', dnsNames: ['www.acme.example.com'] }],
  });
  await w.zk.attachCluster('acme', { clusterId: 'c2', identityScope: 'cluster' });
  await w.zk.ensureOrganization('globex');
  return w;
}

const reasons = (r: { findings: readonly { reason: string }[] }) => r.findings.map((f) => f.reason);

describe('auditFleet', () => {
  it('a fleet just made by ensure and attach has no findings, and the audit writes nothing', async () => {
    const w = await fleet();
    const before = await w.writes(['c1', 'c2']);
    const r = await w.zk.auditFleet();
    expect(r.findings).toEqual([]);
    expect(r.summary).toEqual({ error: 0, warning: 0, info: 0 });
    expect(r.organizations).toEqual(['acme', 'globex']);
    expect(r.inventory).toBe('read');
    expect(await w.writes(['c1', 'c2'])).toEqual(before);
  });

  it('finds an IAM key the store does not record, and a cluster running another key than the stored one', async () => {
    const w = await fleet();
    const stored = await readAccessKey(w.secrets, { organization: 'acme' }, w.layout);
    // The store now holds a new key that was never published: c1 still runs the old one.
    const fresh = await w.identity.createAccessKey(ACME_USER);
    await writeAccessKey(
      w.secrets,
      { organization: 'acme' },
      {
        userName: ACME_USER,
        accessKeyId: fresh.accessKeyId,
        secretAccessKey: fresh.secretAccessKey,
        createdAt: fresh.createdAt,
      },
      { ...w.layout, cas: stored?.version ?? 0 },
    );
    const before = await w.writes(['c1', 'c2']);
    const r = await w.zk.auditFleet();
    expect(await w.writes(['c1', 'c2'])).toEqual(before);
    expect(r.findings).toEqual([
      expect.objectContaining({
        reason: 'key-unknown-to-store',
        severity: 'error',
        organization: 'acme',
        subject: ACME_USER,
        fix: { operation: 'ensureOrganization', command: 'zonekeeper org ensure acme' },
      }),
      expect.objectContaining({
        reason: 'cluster-stale-key',
        severity: 'error',
        organization: 'acme',
        clusterId: 'c1',
        fix: { operation: 'attachCluster', command: 'zonekeeper cluster attach acme c1' },
      }),
    ]);
    expect(r.findings[0]?.message).toContain(stored?.accessKeyId);
    expect(JSON.stringify(r)).not.toContain(fresh.secretAccessKey);
    expect(JSON.stringify(r)).not.toContain(stored?.secretAccessKey);
    // The fixes named do fix it.
    await w.zk.ensureOrganization('acme');
    await w.zk.attachCluster('acme', { clusterId: 'c1' });
    expect((await w.zk.auditFleet()).findings).toEqual([]);
  });

  it('finds a changed policy, a missing delegation and a foreign one', async () => {
    const w = await fleet();
    const policyName = identityPolicyName({ baseDomain: BASE, organization: 'acme' });
    await w.identity.putUserPolicy(
      ACME_USER,
      policyName,
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'route53:*', Resource: '*' }],
      }),
    );
    const parent = w.dns.snapshot().find((z) => z.name === BASE);
    const acme = w.delegation('acme.example.com');
    const globex = w.delegation('globex.example.com');
    if (!parent || !acme || !globex) throw new Error('the fleet has no delegations');
    await w.dns.changeRecords(parent.id, [
      { action: 'DELETE', recordSet: acme },
      { action: 'DELETE', recordSet: globex },
    ]);
    await w.dns.changeRecords(parent.id, [
      {
        action: 'CREATE',
        recordSet: { ...globex, values: ['ns1.elsewhere.example.net.', 'ns2.elsewhere.example.net.'] },
      },
    ]);
    const r = await w.zk.auditFleet();
    expect(reasons(r).sort()).toEqual(['delegation-foreign', 'delegation-missing', 'policy-drift']);
    expect(r.findings.find((f) => f.reason === 'delegation-foreign')).toMatchObject({
      organization: 'globex',
      severity: 'error',
      fix: { operation: 'manual' },
    });
    expect(r.findings.find((f) => f.reason === 'policy-drift')).toMatchObject({
      organization: 'acme',
      subject: ACME_USER,
      fix: { command: 'zonekeeper org ensure acme' },
    });
    expect(r.summary.error).toBe(3);
    await w.zk.ensureOrganization('acme');
    expect(reasons(await w.zk.auditFleet())).toEqual(['delegation-foreign']);
  });

  it('finds an older ExternalDNS, certificates due, and zones the collector would delete, with when', async () => {
    const w = await fleet();
    const c1 = await w.cluster('c1');
    const deployment = (await c1.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'external-dns',
      name: 'external-dns',
    })) as KubernetesObject & { spec: { template: { spec: { containers: { image: string }[] } } } };
    const old = DEFAULT_EXTERNAL_DNS_IMAGE.replace(/:v\d+\.\d+\.\d+$/, ':v0.13.1');
    (deployment.spec.template.spec.containers[0] as { image: string }).image = old;
    await c1.replace(deployment);
    w.inventory.remove('globex', 'g1');

    const r = await w.zk.auditFleet({ now: new Date(w.clock.now().getTime() + 70 * DAY) });
    expect(reasons(r)).toEqual(['certificate-due', 'cluster-old-version', 'zone-collectable']);
    expect(r.findings[1]).toMatchObject({ clusterId: 'c1', message: expect.stringContaining(old) });
    expect(r.findings[0]).toMatchObject({
      organization: 'acme',
      fix: {
        operation: 'issueCertificate',
        command: 'zonekeeper cert issue www.acme.example.com --org acme --name web',
      },
    });
    // Unused since long: deleted just before the next monthly charge (info, with the instant).
    const later = new Date(w.clock.now().getTime() + 70 * DAY);
    expect(r.findings[2]).toMatchObject({ organization: 'globex', severity: 'info' });
    expect(r.findings[2]?.at?.getTime()).toBeGreaterThan(later.getTime());

    // Within the free deletion window of a fresh zone, the collector deletes it now: a warning.
    const soon = new Date(w.clock.now().getTime() + HOUR);
    const now = (await w.zk.auditFleet({ now: soon })).findings.find((f) => f.reason === 'zone-collectable');
    expect(now).toMatchObject({ organization: 'globex', severity: 'warning', at: soon });
  });

  it('--org audits one organisation; without an inventory the collector is not judged', async () => {
    const w = await fleet();
    w.inventory.remove('globex', 'g1');
    const r = await w.zk.auditFleet({ organization: 'acme' });
    expect(r.organizations).toEqual(['acme']);
    expect(reasons(await w.zk.auditFleet())).toContain('zone-collectable');
    const plain = createZonekeeper({ baseDomain: BASE });
    await plain.ensureOrganization('initech');
    const noInventory = await plain.auditFleet({ now: new Date(Date.now() + 40 * DAY) });
    expect(noInventory.inventory).toBe('not-configured');
    expect(noInventory.findings).toEqual([]);
    await expect(w.zk.auditFleet({ organization: 'Not_Valid' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });

  it('finds a TLS Secret the store renewed but did not inject again, and one that is gone; the fix named works', async () => {
    const w = await fleet();
    await w.clock.advance(70 * DAY);
    w.inventory.set({ organization: 'globex', clusterId: 'g1', running: true });
    const renewed = await w.zk.issueCertificate('acme', { name: 'web', dnsNames: ['www.acme.example.com'] });
    expect(renewed.plans.certificate.map((s) => s.op)).toContain('issue-certificate');
    const stale = await w.zk.auditFleet();
    expect(stale.findings).toEqual([
      expect.objectContaining({
        reason: 'tls-secret-stale',
        severity: 'warning',
        clusterId: 'c1',
        subject: 'shop/web',
        fix: {
          operation: 'attachCluster',
          command: 'zonekeeper cluster attach acme c1 --cert web:shop:www.acme.example.com',
        },
      }),
    ]);
    await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      certificates: [{ name: 'web', namespace: 'shop', dnsNames: ['www.acme.example.com'] }],
    });
    expect((await w.zk.auditFleet()).findings).toEqual([]);
    await (await w.cluster('c1')).delete({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: 'shop',
      name: 'web',
    });
    expect(reasons(await w.zk.auditFleet())).toEqual(['tls-secret-missing']);
  });
});
