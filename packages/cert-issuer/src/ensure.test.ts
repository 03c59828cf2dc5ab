import { X509Certificate } from 'node:crypto';
import { createManualClock, hasErrorCode, type KubernetesObject } from '@zonekeeper/core';
import { createMemoryCluster } from '@zonekeeper/externaldns-deployer';
import { createMemorySecretStore, readCertificateAuthority } from '@zonekeeper/vault-keys';
import { describe, expect, it } from 'vitest';
import { ensureCertificate, ensureCertificateAuthority } from './ensure.js';

const DAY = 86_400_000;

async function setup() {
  const clock = createManualClock(new Date(Date.now()));
  const secrets = createMemorySecretStore({ clock });
  const cluster = createMemoryCluster({ name: 'prod-1', clock });
  await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } });
  return { clock, secrets, cluster, deps: { secrets, clock } };
}

const decode = (o: KubernetesObject, k: string) =>
  Buffer.from((o.data as Record<string, string>)[k] as string, 'base64').toString('utf8');

describe('ensureCertificate', () => {
  it('creates the CA, issues the certificate and injects a kubernetes.io/tls Secret; a second run changes nothing', async () => {
    const { secrets, cluster, deps } = await setup();
    const input = {
      organization: 'acme',
      name: 'web',
      dnsNames: ['WWW.acme.example.com', '*.apps.acme.example.com'],
      withinDomain: 'acme.example.com',
      target: { cluster, namespace: 'web' },
    };
    const first = await ensureCertificate(input, deps);
    expect(first.authority.plan.steps.map((s) => s.op)).toEqual(['create-ca']);
    expect(first.plan.steps).toEqual([
      {
        op: 'issue-certificate',
        name: 'web',
        reason: 'missing',
        dnsNames: ['www.acme.example.com', '*.apps.acme.example.com'],
      },
      { op: 'apply-tls-secret', cluster: 'prod-1', namespace: 'web', secretName: 'web' },
    ]);
    const secret = (await cluster.get({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: 'web',
      name: 'web',
    })) as KubernetesObject;
    expect(secret.type).toBe('kubernetes.io/tls');
    const leaf = new X509Certificate(decode(secret, 'tls.crt'));
    const ca = new X509Certificate(decode(secret, 'ca.crt'));
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.subjectAltName).toContain('DNS:www.acme.example.com');
    expect(
      leaf.checkPrivateKey((await import('node:crypto')).createPrivateKey(decode(secret, 'tls.key'))),
    ).toBe(true);
    expect(leaf.serialNumber.toLowerCase()).toBe(first.certificate?.serialNumber.toLowerCase());

    // The CA private key never reaches the cluster.
    const caKey = (await readCertificateAuthority(secrets, 'acme'))?.privateKeyPem as string;
    const everything = JSON.stringify(
      cluster.objects().map((o) => ({
        ...o,
        decoded: Object.values((o.data as Record<string, string>) ?? {}).map((v) =>
          Buffer.from(v, 'base64').toString('utf8'),
        ),
      })),
    );
    expect(everything.includes(caKey.trim().split('\n')[1] as string)).toBe(false);

    const writes = secrets.calls.write;
    const applies = cluster.calls.apply;
    const second = await ensureCertificate(input, deps);
    expect(second.plan.steps).toEqual([]);
    expect(second.authority.plan.steps).toEqual([]);
    expect(secrets.calls.write).toBe(writes);
    expect(cluster.calls.apply).toBe(applies);
  });

  it('re-issues when the names change, when renewal is due and when the CA changed', async () => {
    const { clock, cluster, deps } = await setup();
    const base = {
      organization: 'acme',
      name: 'web',
      dnsNames: ['a.acme.example.com'],
      target: { cluster, namespace: 'web' },
    };
    const first = await ensureCertificate(base, deps);
    const renamed = await ensureCertificate(
      { ...base, dnsNames: ['a.acme.example.com', 'b.acme.example.com'] },
      deps,
    );
    expect(renamed.plan.steps[0]).toMatchObject({ op: 'issue-certificate', reason: 'names-changed' });
    expect(renamed.certificate?.serialNumber).not.toBe(first.certificate?.serialNumber);

    await clock.set(new Date(renamed.certificate!.renewAt.getTime() + 1));
    const renewed = await ensureCertificate(
      { ...base, dnsNames: ['b.acme.example.com', 'a.acme.example.com'] },
      deps,
    );
    expect(renewed.plan.steps[0]).toMatchObject({ op: 'issue-certificate', reason: 'renewal-due' });
    expect(renewed.certificate?.notAfter.getTime()).toBeGreaterThan(
      renamed.certificate?.notAfter.getTime() as number,
    );

    // Jump past the CA's renewal time (2/3 of 10 years): the CA is renewed and the leaf follows it.
    await clock.advance(7 * 365 * DAY);
    const rotated = await ensureCertificate(
      { ...base, dnsNames: ['a.acme.example.com', 'b.acme.example.com'] },
      deps,
    );
    expect(rotated.authority.plan.steps.map((s) => s.op)).toEqual(['renew-ca']);
    expect(rotated.plan.steps[0]).toMatchObject({ op: 'issue-certificate', reason: 'ca-changed' });
  });

  it('dry-run plans without writing anything', async () => {
    const { secrets, cluster, deps } = await setup();
    const result = await ensureCertificate(
      {
        organization: 'acme',
        name: 'web',
        dnsNames: ['a.acme.example.com'],
        target: { cluster, namespace: 'web' },
      },
      deps,
      { dryRun: true },
    );
    expect(result.dryRun).toBe(true);
    expect(result.authority.plan.steps.map((s) => s.op)).toEqual(['create-ca']);
    expect(result.plan.steps.map((s) => s.op)).toEqual(['issue-certificate', 'apply-tls-secret']);
    expect(secrets.paths()).toEqual([]);
    expect(cluster.objects('Secret')).toEqual([]);
  });

  it('re-applies a Secret that was changed or deleted in the cluster', async () => {
    const { cluster, deps } = await setup();
    const input = {
      organization: 'acme',
      name: 'web',
      dnsNames: ['a.acme.example.com'],
      target: { cluster, namespace: 'web' },
    };
    await ensureCertificate(input, deps);
    await cluster.delete({ apiVersion: 'v1', kind: 'Secret', namespace: 'web', name: 'web' });
    const again = await ensureCertificate(input, deps);
    expect(again.plan.steps).toEqual([
      { op: 'apply-tls-secret', cluster: 'prod-1', namespace: 'web', secretName: 'web' },
    ]);
    expect(cluster.objects('Secret')).toHaveLength(1);
  });

  it('rejects bad input before reading anything, and refuses a Secret it does not own', async () => {
    const { secrets, cluster, deps } = await setup();
    const bad = [
      { organization: 'acme', name: 'web', dnsNames: ['evil.example.org'], withinDomain: 'acme.example.com' },
      { organization: 'acme', name: 'web', dnsNames: [] },
      { organization: 'acme', name: 'web', dnsNames: ['*.*.acme.example.com'] },
      { organization: 'acme', name: 'web', dnsNames: ['10.0.0.1'] },
      { organization: 'Acme', name: 'web', dnsNames: ['a.acme.example.com'] },
      { organization: 'acme', name: 'Web!', dnsNames: ['a.acme.example.com'] },
    ];
    for (const input of bad)
      expect(hasErrorCode(await ensureCertificate(input, deps).catch((e) => e), 'INVALID_INPUT')).toBe(true);
    expect(secrets.calls.read ?? 0).toBe(0);

    await cluster.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'web', namespace: 'web' },
      type: 'kubernetes.io/tls',
      data: {},
    });
    const e = await ensureCertificate(
      {
        organization: 'acme',
        name: 'web',
        dnsNames: ['a.acme.example.com'],
        target: { cluster, namespace: 'web' },
      },
      deps,
    ).catch((x) => x);
    expect(hasErrorCode(e, 'NOT_OWNED')).toBe(true);
  });
});

describe('ensureCertificateAuthority', () => {
  it('converges concurrent creators on one CA', async () => {
    const { secrets, deps } = await setup();
    const results = await Promise.all([
      ensureCertificateAuthority({ organization: 'acme' }, deps),
      ensureCertificateAuthority({ organization: 'acme' }, deps),
    ]);
    const stored = await readCertificateAuthority(secrets, 'acme');
    expect(results.map((r) => r.ca?.serialNumber)).toEqual([stored?.serialNumber, stored?.serialNumber]);
    expect(stored?.version).toBe(1);
  });
});

describe('ensureCertificateAuthority: name constraints', () => {
  it("gives a new CA critical name constraints for the organisation's zone", async () => {
    const { deps } = await setup();
    const result = await ensureCertificate(
      {
        organization: 'acme',
        name: 'web',
        dnsNames: ['www.acme.example.com'],
        withinDomain: 'acme.example.com',
      },
      deps,
    );
    expect(result.authority.plan.steps.map((s) => s.op)).toEqual(['create-ca']);
    expect(result.authority.ca?.permittedDnsDomains).toEqual(['acme.example.com']);
    const again = await ensureCertificateAuthority(
      { organization: 'acme', permittedDnsDomain: 'acme.example.com' },
      deps,
    );
    expect(again.plan.steps).toEqual([]);
  });

  it('keeps an existing CA without constraints (no re-issue), and constrains it at its renewal', async () => {
    const { clock, deps } = await setup();
    const before = await ensureCertificateAuthority({ organization: 'acme', validityDays: 30 }, deps);
    expect(before.ca?.permittedDnsDomains).toBeUndefined();
    const kept = await ensureCertificate(
      {
        organization: 'acme',
        name: 'web',
        dnsNames: ['www.acme.example.com'],
        withinDomain: 'acme.example.com',
        validityDays: 7,
      },
      deps,
    );
    expect(kept.authority.plan.steps).toEqual([]);
    expect(kept.authority.ca?.serialNumber).toBe(before.ca?.serialNumber);
    expect(kept.authority.ca?.permittedDnsDomains).toBeUndefined();
    // At two thirds of its 30 days the CA is renewed, and the new one carries the constraints.
    await clock.advance(21 * DAY);
    const renewed = await ensureCertificateAuthority(
      { organization: 'acme', permittedDnsDomain: 'acme.example.com', validityDays: 30 },
      deps,
    );
    expect(renewed.plan.steps.map((s) => s.op)).toEqual(['renew-ca']);
    expect(renewed.ca?.serialNumber).not.toBe(before.ca?.serialNumber);
    expect(renewed.ca?.permittedDnsDomains).toEqual(['acme.example.com']);
  });

  it('rejects a bad permittedDnsDomain before reading the store', async () => {
    const { deps } = await setup();
    const error = await ensureCertificateAuthority(
      { organization: 'acme', permittedDnsDomain: 'not a domain' },
      { ...deps, secrets: undefined as never },
    ).catch((e) => e);
    expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
  });
});
