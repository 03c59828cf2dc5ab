/**
 * `issueCertificate(…, { acme: true })` through the facade, for real: the organisation's zone lives in a
 * real PowerDNS (zonekeeper's PowerDNS DNS provider), and a real Pebble validates the DNS-01 challenge
 * by asking that PowerDNS. Debian's `pebble` and `pdns-server` are needed (the testkit names the
 * packages when they are missing).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isZonekeeperError } from '@zonekeeper/core';
import { type PebbleServer, startPebble } from '@zonekeeper/testkit/pebble';
import { type PowerDnsServer, startPowerDns } from '@zonekeeper/testkit/powerdns';
import { createMemorySecretStore, readCertificate } from '@zonekeeper/vault-keys';
import type { DnsProvider } from '@zonekeeper/zone-manager';
import { createPowerDnsProvider } from '@zonekeeper/zone-manager/powerdns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createZonekeeper, type Zonekeeper } from '../index.js';

const BASE = 'example.test';
let pdns: PowerDnsServer;
let pebble: PebbleServer;
let dns: DnsProvider;
let scratch: string;
let zk: Zonekeeper;
const secrets = createMemorySecretStore();

beforeAll(async () => {
  pdns = await startPowerDns();
  pebble = await startPebble({ dnsServer: { port: pdns.dnsPort } });
  dns = createPowerDnsProvider({
    apiUrl: pdns.apiUrl,
    apiKey: pdns.apiKey,
    nameServers: ['ns1.zk-dns.test', 'ns2.zk-dns.test'],
  });
  await dns.createZone({ name: BASE, callerReference: 'parent' });
  zk = createZonekeeper({
    baseDomain: BASE,
    dns,
    secrets,
    acme: {
      directoryUrl: pebble.directoryUrl,
      termsOfServiceAgreed: true,
      contact: ['mailto:ops@example.test'],
      caCertificates: pebble.tlsCertificatePem,
      propagationPollMs: 100,
      pollIntervalMs: 100,
      validationTimeoutMs: 30_000,
      resolveNameServer: async () => [{ address: '127.0.0.1', port: pdns.dnsPort }],
    },
  });
  await zk.ensureOrganization('acme');
  scratch = mkdtempSync(join(tmpdir(), 'zonekeeper-facade-acme-'));
  writeFileSync(join(scratch, 'root.pem'), pebble.rootPem);
}, 120_000);

afterAll(async () => {
  await Promise.all([pebble?.stop(), pdns?.stop()]);
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

function opensslVerify(chainPem: string): { code: number | null; out: string } {
  const [leaf, ...rest] =
    chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
  writeFileSync(join(scratch, 'leaf.pem'), leaf ?? '');
  writeFileSync(join(scratch, 'untrusted.pem'), rest.join(''));
  const r = spawnSync(
    'openssl',
    [
      'verify',
      '-CAfile',
      join(scratch, 'root.pem'),
      '-untrusted',
      join(scratch, 'untrusted.pem'),
      '-purpose',
      'sslserver',
      join(scratch, 'leaf.pem'),
    ],
    { encoding: 'utf8' },
  );
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('issueCertificate with acme', () => {
  it('orders a certificate from the ACME CA by DNS-01 in the organisation’s zone, once', async () => {
    const dry = await zk.issueCertificate(
      'acme',
      { name: 'www', dnsNames: ['www.acme.example.test'], acme: true },
      { dryRun: true },
    );
    expect(dry.dryRun).toBe(true);
    expect(dry.plans.acme?.map((s) => s.op)).toEqual(['create-acme-account', 'order-acme-certificate']);
    expect(dry.certificate).toBeUndefined();

    const issued = await zk.issueCertificate('acme', {
      name: 'www',
      dnsNames: ['www.acme.example.test', '*.apps.acme.example.test'],
      acme: true,
    });
    expect(issued.plans.certificateAuthority).toEqual([]);
    expect(issued.plans.certificate).toEqual([]);
    expect(issued.plans.acme?.find((s) => s.op === 'order-acme-certificate')).toMatchObject({
      reason: 'missing',
      zone: 'acme.example.test',
      challengeRecords: ['_acme-challenge.apps.acme.example.test', '_acme-challenge.www.acme.example.test'],
    });
    expect(issued.certificate?.issuer).toBe(`acme:${pebble.directoryUrl}`);
    expect(issued.certificate?.dnsNames).toEqual(['www.acme.example.test', '*.apps.acme.example.test']);

    const stored = await readCertificate(secrets, 'acme', 'www', { prefix: `zonekeeper/platforms/${BASE}` });
    const verified = opensslVerify(stored?.chainPem ?? '');
    expect(verified.code, verified.out).toBe(0);

    const again = await zk.issueCertificate('acme', {
      name: 'www',
      dnsNames: ['www.acme.example.test', '*.apps.acme.example.test'],
      acme: true,
    });
    expect(again.plans.acme).toEqual([]);
    expect(again.certificate?.serialNumber).toBe(issued.certificate?.serialNumber);
    // The kept certificate renews inside Pebble's ARI window (RFC 9773): a day either side of two thirds.
    const c = issued.certificate as NonNullable<typeof issued.certificate>;
    const twoThirds = c.notBefore.getTime() + ((c.notAfter.getTime() - c.notBefore.getTime()) * 2) / 3;
    const renewAt = again.certificate?.renewAt.getTime() as number;
    expect(Math.abs(renewAt - twoThirds)).toBeLessThanOrEqual(86_400_000 + 2_000);
    expect(renewAt).not.toBe(c.renewAt.getTime());
  });

  it('refuses before any request: foreign names, a missing organisation, CA-only options, no ACME configured', async () => {
    const cases: Array<[() => Promise<unknown>, string]> = [
      [
        () => zk.issueCertificate('acme', { name: 'x', dnsNames: ['www.globex.example.test'], acme: true }),
        'INVALID_INPUT',
      ],
      [
        () => zk.issueCertificate('globex', { name: 'x', dnsNames: ['www.globex.example.test'], acme: true }),
        'NOT_FOUND',
      ],
      [
        () =>
          zk.issueCertificate('acme', {
            name: 'x',
            dnsNames: ['a.acme.example.test'],
            acme: true,
            validityDays: 30,
          }),
        'INVALID_INPUT',
      ],
      [
        () =>
          createZonekeeper({ baseDomain: BASE, dns, secrets }).issueCertificate('acme', {
            name: 'x',
            dnsNames: ['a.acme.example.test'],
            acme: true,
          }),
        'INVALID_INPUT',
      ],
    ];
    for (const [run, code] of cases) {
      const error = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isZonekeeperError(error) && error.code).toBe(code);
    }
    expect(() =>
      createZonekeeper({
        baseDomain: BASE,
        acme: { directoryUrl: 'http://insecure.test/dir', termsOfServiceAgreed: true },
      }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});
