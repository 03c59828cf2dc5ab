/**
 * `zonekeeper cert issue --acme`, in-process, for real: the organisation's zone is served by a real
 * PowerDNS (zonekeeper's PowerDNS DNS provider, injected as the CLI's DNS port), and a real Pebble
 * validates the DNS-01 challenge by asking it. The files `--out` writes verify with openssl against
 * Pebble's root.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryIdentityProvider } from '@zonekeeper/iam-scoper';
import { type PebbleServer, startPebble } from '@zonekeeper/testkit/pebble';
import { type PowerDnsServer, startPowerDns } from '@zonekeeper/testkit/powerdns';
import { createMemorySecretStore } from '@zonekeeper/vault-keys';
import { createPowerDnsProvider } from '@zonekeeper/zone-manager/powerdns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliDeps } from './backend.js';
import { json, run } from './cli.test.support.js';

const env = { ZONEKEEPER_BASE_DOMAIN: 'example.test' };
let pdns: PowerDnsServer;
let pebble: PebbleServer;
let scratch: string;
let deps: CliDeps;
let acmeFlags: string[];

beforeAll(async () => {
  pdns = await startPowerDns();
  pebble = await startPebble({ dnsServer: { port: pdns.dnsPort } });
  const dns = createPowerDnsProvider({
    apiUrl: pdns.apiUrl,
    apiKey: pdns.apiKey,
    nameServers: ['ns1.zk-dns.test', 'ns2.zk-dns.test'],
  });
  await dns.createZone({ name: 'example.test', callerReference: 'parent' });
  deps = {
    dns,
    identity: createMemoryIdentityProvider(),
    secrets: createMemorySecretStore(),
    acme: {
      propagationPollMs: 100,
      pollIntervalMs: 100,
      validationTimeoutMs: 30_000,
      resolveNameServer: async () => [{ address: '127.0.0.1', port: pdns.dnsPort }],
    },
  };
  scratch = mkdtempSync(join(tmpdir(), 'zonekeeper-cli-acme-'));
  writeFileSync(join(scratch, 'pebble-tls.pem'), pebble.tlsCertificatePem);
  writeFileSync(join(scratch, 'root.pem'), pebble.rootPem);
  acmeFlags = [
    '--acme',
    '--acme-directory',
    pebble.directoryUrl,
    '--agree-tos',
    '--acme-ca-file',
    join(scratch, 'pebble-tls.pem'),
  ];
  const org = await run(['org', 'ensure', 'acme'], env, { deps });
  expect(org.code, org.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await Promise.all([pebble?.stop(), pdns?.stop()]);
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

describe('zonekeeper cert issue --acme', () => {
  it('orders the certificate from the ACME CA, writes it with --out, and the chain verifies', async () => {
    const out = join(scratch, 'tls');
    const r = await run(
      [
        'cert',
        'issue',
        'www.acme.example.test',
        '--org',
        'acme',
        ...acmeFlags,
        '--acme-contact',
        'ops@example.test',
        '--out',
        out,
        '--json',
      ],
      env,
      { deps },
    );
    expect(r.code, r.stderr).toBe(0);
    const doc = json(r);
    expect(doc.result.certificate.issuer).toBe(`acme:${pebble.directoryUrl}`);
    expect(doc.result.certificate.dnsNames).toEqual(['www.acme.example.test']);
    expect(doc.result.steps.map((s: { stage: string; op: string }) => `${s.stage} ${s.op}`)).toEqual([
      'acme create-acme-account',
      'acme order-acme-certificate',
    ]);
    expect(statSync(join(out, 'tls.key')).mode & 0o777).toBe(0o600);
    const verify = spawnSync(
      'openssl',
      [
        'verify',
        '-CAfile',
        join(scratch, 'root.pem'),
        '-untrusted',
        join(out, 'tls.crt'),
        '-purpose',
        'sslserver',
        join(out, 'tls.crt'),
      ],
      { encoding: 'utf8' },
    );
    expect(verify.status, `${verify.stdout}${verify.stderr}`).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(readFileSync(join(out, 'tls.key'), 'utf8').split('\n')[1]);

    const again = await run(
      ['cert', 'issue', 'www.acme.example.test', '--org', 'acme', ...acmeFlags, '--json'],
      env,
      { deps },
    );
    expect(again.code, again.stderr).toBe(0);
    expect(json(again).result.steps).toEqual([]);
    expect(json(again).result.certificate.serialNumber).toBe(doc.result.certificate.serialNumber);
  });

  it('refuses, with exit code 2 and before anything is sent, what it cannot do', async () => {
    const base = ['cert', 'issue', 'api.acme.example.test', '--org', 'acme', '--json'];
    const cases: Array<[string[], Record<string, string>, string]> = [
      [['--acme', '--agree-tos'], env, 'ACME directory'],
      [['--acme', '--acme-directory', pebble.directoryUrl], env, '--agree-tos'],
      [[...acmeFlags, '--validity-days', '30'], env, 'neither --validity-days'],
      [['--acme', '--agree-tos', '--acme-directory', 'http://insecure.test/dir'], env, 'https'],
      [
        ['--acme', '--agree-tos', '--acme-ca-file', join(scratch, 'missing.pem')],
        { ...env, ZONEKEEPER_ACME_DIRECTORY: pebble.directoryUrl },
        'cannot be read',
      ],
    ];
    for (const [flags, environment, message] of cases) {
      const r = await run([...base, ...flags], environment, { deps });
      expect(r.code, flags.join(' ')).toBe(2);
      expect(json(r).error?.code).toBe('INVALID_INPUT');
      expect(json(r).error?.message).toContain(message);
    }
  });
});
