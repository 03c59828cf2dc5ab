import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import {
  createManualClock,
  hasErrorCode,
  type KubernetesObject,
  type ManualClock,
  noopLogger,
} from '@zonekeeper/core';
import { createMemoryCluster, type MemoryCluster } from '@zonekeeper/externaldns-deployer';
import { type PebbleServer, startPebble } from '@zonekeeper/testkit/pebble';
import { dig, type PowerDnsServer, startPowerDns } from '@zonekeeper/testkit/powerdns';
import { startVaultFake, type VaultFake } from '@zonekeeper/testkit/vault';
import { readCertificate, type SecretStore } from '@zonekeeper/vault-keys';
import { createVaultSecretStore } from '@zonekeeper/vault-keys/vault';
import type { DnsProvider, RecordChange } from '@zonekeeper/zone-manager';
import { createPowerDnsProvider } from '@zonekeeper/zone-manager/powerdns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AcmeDeps, ensureAcmeCertificate, revokeAcmeCertificate } from './ensure.js';

/**
 * Real ACME over real DNS: Pebble validates every DNS-01 challenge by asking a real PowerDNS, which
 * serves the organisations' zones that zonekeeper writes the challenge records into through its
 * PowerDNS DNS provider. Certificates go to the Vault fake (through node-vault) and to a cluster.
 */

const NAME_SERVERS = ['ns1.acme-dns.test', 'ns2.acme-dns.test'];
let pdns: PowerDnsServer;
let pebble: PebbleServer;
let vault: VaultFake;
let scratch: string;
let dns: DnsProvider;
let acmeZoneId: string;
let globexZoneId: string;
let silent: Socket;

beforeAll(async () => {
  [pdns, vault] = await Promise.all([startPowerDns(), startVaultFake()]);
  pebble = await startPebble({ dnsServer: { port: pdns.dnsPort } });
  dns = createPowerDnsProvider({ apiUrl: pdns.apiUrl, apiKey: pdns.apiKey, nameServers: NAME_SERVERS });
  acmeZoneId = (await dns.createZone({ name: 'acme.example.test', callerReference: 'acme' })).zone.id;
  globexZoneId = (await dns.createZone({ name: 'globex.example.test', callerReference: 'globex' })).zone.id;
  scratch = mkdtempSync(join(tmpdir(), 'zonekeeper-acme-test-'));
  writeFileSync(join(scratch, 'root.pem'), pebble.rootPem);
  writeFileSync(join(scratch, 'intermediate.pem'), pebble.intermediatePem);
  silent = createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
}, 60_000);
afterAll(async () => {
  silent?.close();
  await Promise.all([pebble?.stop(), pdns?.stop(), vault?.stop()]);
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

interface Setup {
  readonly clock: ManualClock;
  readonly secrets: SecretStore;
  readonly cluster: MemoryCluster;
  deps: AcmeDeps;
}

let prefixes = 0;
async function setup(
  overrides: Partial<AcmeDeps['acme']> = {},
  server: PebbleServer = pebble,
): Promise<Setup> {
  const clock = createManualClock(new Date());
  const secrets = createVaultSecretStore({ endpoint: vault.endpoint, token: vault.rootToken });
  const cluster = createMemoryCluster({ name: 'prod-1', clock });
  await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } });
  const deps: AcmeDeps = {
    secrets,
    secretPrefix: `t${++prefixes}/zonekeeper`,
    clock,
    dns,
    acme: {
      directoryUrl: server.directoryUrl,
      termsOfServiceAgreed: true,
      contact: ['mailto:ops@example.test'],
      caCertificates: server.tlsCertificatePem,
      propagationPollMs: 100,
      pollIntervalMs: 100,
      validationTimeoutMs: 30_000,
      resolveNameServer: async () => [{ address: '127.0.0.1', port: pdns.dnsPort }],
      ...overrides,
    },
  };
  return { clock, secrets, cluster, deps };
}

const decode = (o: KubernetesObject, k: string) =>
  Buffer.from((o.data as Record<string, string>)[k] as string, 'base64').toString('utf8');

async function tlsSecretOf(cluster: MemoryCluster, name = 'web'): Promise<KubernetesObject> {
  return (await cluster.get({
    apiVersion: 'v1',
    kind: 'Secret',
    namespace: 'web',
    name,
  })) as KubernetesObject;
}

function opensslVerify(chainPem: string): string {
  const [leaf, ...rest] =
    chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
  const leafPath = join(scratch, 'leaf.pem');
  const untrusted = join(scratch, 'untrusted.pem');
  writeFileSync(leafPath, leaf ?? '');
  writeFileSync(untrusted, rest.join(''));
  const r = spawnSync(
    'openssl',
    [
      'verify',
      '-CAfile',
      join(scratch, 'root.pem'),
      '-untrusted',
      untrusted,
      '-purpose',
      'sslserver',
      leafPath,
    ],
    { encoding: 'utf8' },
  );
  return `${r.stdout}${r.stderr}`;
}

/** Runs `openssl s_client` against a TLS server presenting the Secret's certificate and key. */
async function handshake(secret: KubernetesObject, hostname: string): Promise<string> {
  const server: TlsServer = createTlsServer(
    { cert: decode(secret, 'tls.crt'), key: decode(secret, 'tls.key') },
    (s) => s.end('hello\n'),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  try {
    return await new Promise<string>((resolve) => {
      const child = spawn(
        'openssl',
        [
          's_client',
          '-connect',
          `127.0.0.1:${port}`,
          '-servername',
          hostname,
          '-verify_hostname',
          hostname,
          '-CAfile',
          join(scratch, 'root.pem'),
          '-verify_return_error',
          '-brief',
        ],
        { stdio: ['pipe', 'pipe', 'pipe'], timeout: 10_000 },
      );
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        out += c.toString();
      });
      child.once('close', () => resolve(out));
      child.stdin.end();
    });
  } finally {
    await new Promise((r) => server.close(r));
  }
}

async function challengeAnswer(name: string) {
  return dig({ port: pdns.dnsPort }, `_acme-challenge.${name}`, 'TXT');
}

function input(
  s: Setup,
  dnsNames: readonly string[] = ['www.acme.example.test', '*.apps.acme.example.test'],
) {
  return {
    organization: 'acme',
    name: 'web',
    dnsNames,
    zone: { id: acmeZoneId, name: 'acme.example.test' },
    target: { cluster: s.cluster, namespace: 'web' },
  };
}

describe('ensureAcmeCertificate against Pebble over real DNS', () => {
  it('issues through DNS-01, stores the chain, injects a kubernetes.io/tls Secret, removes the challenge records; a second run changes nothing', async () => {
    const s = await setup();
    const first = await ensureAcmeCertificate(input(s), s.deps);
    expect(first.plan.steps).toEqual([
      { op: 'create-acme-account', directoryUrl: pebble.directoryUrl },
      {
        op: 'order-acme-certificate',
        name: 'web',
        reason: 'missing',
        dnsNames: ['www.acme.example.test', '*.apps.acme.example.test'],
        directoryUrl: pebble.directoryUrl,
        zone: 'acme.example.test',
        challengeRecords: ['_acme-challenge.apps.acme.example.test', '_acme-challenge.www.acme.example.test'],
      },
      { op: 'apply-tls-secret', cluster: 'prod-1', namespace: 'web', secretName: 'web' },
    ]);
    const secret = await tlsSecretOf(s.cluster);
    expect(secret.type).toBe('kubernetes.io/tls');
    const leaf = new X509Certificate(decode(secret, 'tls.crt'));
    expect(leaf.subjectAltName?.split(', ').sort()).toEqual([
      'DNS:*.apps.acme.example.test',
      'DNS:www.acme.example.test',
    ]);
    expect(leaf.checkIssued(new X509Certificate(pebble.intermediatePem))).toBe(true);
    expect(decode(secret, 'ca.crt')).toContain('BEGIN CERTIFICATE');
    expect(opensslVerify(decode(secret, 'tls.crt'))).toMatch(/leaf\.pem: OK/);
    expect(first.certificate).toMatchObject({
      issuer: `acme:${pebble.directoryUrl}`,
      serialNumber: leaf.serialNumber.toLowerCase().replace(/^0+/, ''),
    });
    expect((await pebble.certificateStatus(first.certificate?.serialNumber ?? ''))?.status).toBe('Valid');
    // Stored in Vault, with the key; the account key too, under the platform.
    const stored = await readCertificate(s.secrets, 'acme', 'web', { prefix: s.deps.secretPrefix as string });
    expect(stored?.chainPem).toBe(decode(secret, 'tls.crt'));
    expect(await s.secrets.read(`${s.deps.secretPrefix}/acme/account`)).toMatchObject({
      data: { privateKeyPem: expect.stringContaining('PRIVATE KEY') },
    });
    // The challenge records are gone from the authoritative server.
    for (const n of ['www.acme.example.test', 'apps.acme.example.test'])
      expect((await challengeAnswer(n)).status, n).toBe('NXDOMAIN');

    // Results are secret-free.
    expect(JSON.stringify(first)).not.toContain('PRIVATE KEY');
    const second = await ensureAcmeCertificate(input(s), s.deps);
    expect(second.plan.steps).toEqual([]);
    expect(second.certificate?.serialNumber).toBe(first.certificate?.serialNumber);
  });

  it('serves a real TLS handshake that openssl s_client verifies for the name, and only for it', async () => {
    const s = await setup();
    await ensureAcmeCertificate(input(s), s.deps);
    const secret = await tlsSecretOf(s.cluster);
    const ok = await handshake(secret, 'www.acme.example.test');
    expect(ok).toMatch(/Verification: OK/);
    expect(ok).toMatch(/Verified peername: www\.acme\.example\.test/);
    expect(await handshake(secret, 'x.apps.acme.example.test')).toMatch(/Verification: OK/);
    // Another organisation's name, or two labels under the wildcard: openssl refuses.
    expect(await handshake(secret, 'www.globex.example.test')).not.toMatch(/Verification: OK/);
    expect(await handshake(secret, 'a.b.apps.acme.example.test')).not.toMatch(/Verification: OK/);
  });

  it('renews at two thirds of the lifetime, not before; revokes, and orders anew after revocation', async () => {
    const s = await setup();
    // An account without contacts is found again on every later run, without an update.
    const { contact: _, ...noContact } = s.deps.acme;
    s.deps = { ...s.deps, acme: noContact };
    const first = await ensureAcmeCertificate(input(s, ['renew.acme.example.test']), s.deps);
    const c = first.certificate;
    if (!c) throw new Error('no certificate');
    const lifetime = c.notAfter.getTime() - c.notBefore.getTime();
    expect(c.renewAt.getTime()).toBe(c.notBefore.getTime() + Math.round((lifetime * 2) / 3));
    s.clock.set(new Date(c.notBefore.getTime() + lifetime * 0.6));
    expect((await ensureAcmeCertificate(input(s, ['renew.acme.example.test']), s.deps)).plan.steps).toEqual(
      [],
    );
    s.clock.set(new Date(c.renewAt.getTime() + 1_000));
    const renewed = await ensureAcmeCertificate(input(s, ['renew.acme.example.test']), s.deps);
    expect(renewed.plan.steps.map((x) => (x.op === 'order-acme-certificate' ? x.reason : x.op))).toEqual([
      'renewal-due',
      'apply-tls-secret',
    ]);
    expect(renewed.certificate?.serialNumber).not.toBe(c.serialNumber);
    const secret = await tlsSecretOf(s.cluster);
    expect(new X509Certificate(decode(secret, 'tls.crt')).serialNumber.toLowerCase()).toContain(
      renewed.certificate?.serialNumber,
    );

    const serial = renewed.certificate?.serialNumber as string;
    const revoked = await revokeAcmeCertificate(
      { organization: 'acme', name: 'web', reason: 'superseded' },
      s.deps,
    );
    expect(revoked).toEqual({ outcome: 'revoked', serialNumber: serial });
    expect(await pebble.certificateStatus(serial)).toMatchObject({ status: 'Revoked', reason: 4 });
    expect(await revokeAcmeCertificate({ organization: 'acme', name: 'web' }, s.deps)).toEqual({
      outcome: 'none',
    });
    const again = await ensureAcmeCertificate(input(s, ['renew.acme.example.test']), s.deps);
    expect(again.plan.steps.map((x) => (x.op === 'order-acme-certificate' ? x.reason : x.op))).toEqual([
      'missing',
      'apply-tls-secret',
    ]);
    expect((await pebble.certificateStatus(again.certificate?.serialNumber ?? ''))?.status).toBe('Valid');
  });
});

describe('authorisations the CA reuses', () => {
  it('writes no challenge record when every authorisation of the order is already valid', async () => {
    const reusing = await startPebble({ dnsServer: { port: pdns.dnsPort }, authzReusePercent: 100 });
    try {
      const s = await setup({}, reusing);
      const changes: RecordChange[][] = [];
      const counting: DnsProvider = {
        ...dns,
        kind: dns.kind,
        getZone: (id, o) => dns.getZone(id, o),
        changeRecords: (id, c, o) => {
          changes.push([...c]);
          return dns.changeRecords(id, c, o);
        },
      } as DnsProvider;
      const deps = { ...s.deps, dns: counting };
      const first = await ensureAcmeCertificate(input(s, ['reuse.acme.example.test']), deps);
      expect(changes.map((batch) => batch.map((c) => c.action))).toEqual([['UPSERT'], ['DELETE']]);
      s.clock.set(new Date((first.certificate as { renewAt: Date }).renewAt.getTime() + 1));
      changes.length = 0;
      const renewed = await ensureAcmeCertificate(input(s, ['reuse.acme.example.test']), deps);
      expect(renewed.certificate?.serialNumber).not.toBe(first.certificate?.serialNumber);
      expect(changes).toEqual([]);
    } finally {
      await reusing.stop();
    }
  });
});

describe('refusals before any request', () => {
  let counter: TcpServer;
  let connections = 0;
  beforeAll(async () => {
    counter = createTcpServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((r) => counter.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(() => new Promise((r) => counter.close(r)));

  function countingDns(): DnsProvider & { changes: RecordChange[][] } {
    const changes: RecordChange[][] = [];
    return {
      ...dns,
      kind: dns.kind,
      getZone: (id, o) => dns.getZone(id, o),
      changeRecords: (id, c, o) => {
        changes.push([...c]);
        return dns.changeRecords(id, c, o);
      },
      changes,
    } as DnsProvider & { changes: RecordChange[][] };
  }

  it("refuses a name in another organisation's zone, or outside it by a suffix trick, with no DNS write and no ACME request", async () => {
    const s = await setup({
      directoryUrl: `https://127.0.0.1:${(counter.address() as { port: number }).port}/dir`,
    });
    const counting = countingDns();
    const deps = { ...s.deps, dns: counting };
    for (const names of [
      ['www.globex.example.test'],
      ['www.acme.example.test', '*.globex.example.test'],
      ['acme.example.test.globex.example.test'],
      ['www.evilacme.example.test'],
      ['*.example.test'],
    ]) {
      const error = await ensureAcmeCertificate(input(s, names), deps).catch((e: unknown) => e);
      expect(hasErrorCode(error, 'INVALID_INPUT'), names.join()).toBe(true);
      expect((error as { details?: { reason?: string } }).details?.reason).toBe('outside-zone');
    }
    // The right names with another organisation's zone id: refused before any challenge is written.
    const mismatch = await ensureAcmeCertificate(
      { ...input(s), zone: { id: globexZoneId, name: 'acme.example.test' } },
      deps,
    ).catch((e: unknown) => e);
    expect(hasErrorCode(mismatch, 'CONFLICT')).toBe(true);
    expect((mismatch as { details?: { reason?: string } }).details?.reason).toBe('zone-mismatch');
    expect(counting.changes).toEqual([]);
    expect(connections).toBe(0);
    expect(await s.secrets.read(`${s.deps.secretPrefix}/acme/account`)).toBeUndefined();
  });
});

describe('failures are survived or reported cleanly, and leave no challenge record', () => {
  it("survives Pebble's nonce rejections (PEBBLE_WFE_NONCEREJECT=50)", async () => {
    const rejecting = await startPebble({ dnsServer: { port: pdns.dnsPort }, nonceRejectPercent: 50 });
    try {
      const s = await setup({}, rejecting);
      const seen: unknown[] = [];
      const logger = {
        ...noopLogger,
        debug: (message: string, ...meta: unknown[]) => seen.push({ message, meta }),
      };
      const result = await ensureAcmeCertificate(input(s, ['nonce.acme.example.test']), {
        ...s.deps,
        logger,
      });
      const problems = seen.flatMap(
        (e) => (e as { meta: { problems?: string[] }[] }).meta[0]?.problems ?? [],
      );
      expect(problems.filter((p) => p === 'badNonce').length, 'Pebble rejected nonces').toBeGreaterThan(0);
      // The only other problem: the first lookup of a new account key.
      expect(new Set(problems)).toEqual(new Set(['badNonce', 'accountDoesNotExist']));
      expect(result.certificate?.issuer).toBe(`acme:${rejecting.directoryUrl}`);
      expect((await rejecting.certificateStatus(result.certificate?.serialNumber ?? ''))?.status).toBe(
        'Valid',
      );
    } finally {
      await rejecting.stop();
    }
  });

  it('reports nonces rejected every time as badNonce: UNAVAILABLE, transient', async () => {
    const rejecting = await startPebble({ dnsServer: { port: pdns.dnsPort }, nonceRejectPercent: 100 });
    try {
      const s = await setup({}, rejecting);
      const error = await ensureAcmeCertificate(input(s, ['nonce2.acme.example.test']), s.deps).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        code: 'UNAVAILABLE',
        retry: 'transient',
        details: { acmeProblem: 'badNonce' },
      });
      expect((await challengeAnswer('nonce2.acme.example.test')).status).toBe('NXDOMAIN');
    } finally {
      await rejecting.stop();
    }
  });

  it('reports a failed authorisation (the CA sees a wrong TXT value) as PERMISSION_DENIED, with the record removed', async () => {
    // A second authoritative server, where the CA looks, serves the zone with a stale, wrong challenge value.
    const elsewhere = await startPowerDns();
    const misdirected = await startPebble({ dnsServer: { port: elsewhere.dnsPort } });
    try {
      const other = createPowerDnsProvider({
        apiUrl: elsewhere.apiUrl,
        apiKey: elsewhere.apiKey,
        nameServers: NAME_SERVERS,
      });
      const { zone } = await other.createZone({ name: 'acme.example.test', callerReference: 'stale' });
      await other.changeRecords(zone.id, [
        {
          action: 'CREATE',
          recordSet: {
            name: '_acme-challenge.bad.acme.example.test',
            type: 'TXT',
            ttl: 60,
            values: ['"not-the-digest"'],
          },
        },
      ]);
      const s = await setup({}, misdirected);
      const error = await ensureAcmeCertificate(input(s, ['bad.acme.example.test']), s.deps).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        code: 'PERMISSION_DENIED',
        retry: 'permanent',
        details: { acmeProblem: 'unauthorized', identifier: 'bad.acme.example.test' },
      });
      expect((error as Error).message).toMatch(/bad\.acme\.example\.test/);
      expect((await challengeAnswer('bad.acme.example.test')).status).toBe('NXDOMAIN');
      expect(
        await readCertificate(s.secrets, 'acme', 'web', { prefix: s.deps.secretPrefix as string }),
      ).toBeUndefined();
    } finally {
      await misdirected.stop();
      await elsewhere.stop();
    }
  });

  it('gives up waiting for lagging name servers with TIMEOUT, and on abort with its reason; records removed both times', async () => {
    const lagging = async () => [{ address: '127.0.0.1', port: silent.address().port }];
    const s = await setup({ resolveNameServer: lagging, propagationTimeoutMs: 800 });
    const timedOut = await ensureAcmeCertificate(input(s, ['slow.acme.example.test']), s.deps).catch(
      (e: unknown) => e,
    );
    expect(timedOut).toMatchObject({ code: 'TIMEOUT', retry: 'transient' });
    expect((await challengeAnswer('slow.acme.example.test')).status).toBe('NXDOMAIN');

    const s2 = await setup({ resolveNameServer: lagging, propagationTimeoutMs: 60_000 });
    const controller = new AbortController();
    const reason = new Error('operator pressed ^C');
    const pending = ensureAcmeCertificate(input(s2, ['abort.acme.example.test']), s2.deps, {
      signal: controller.signal,
    });
    // Abort once the record is really published (the wait has begun).
    for (let i = 0; i < 100 && (await challengeAnswer('abort.acme.example.test')).status !== 'NOERROR'; i++)
      await new Promise((r) => setTimeout(r, 50));
    controller.abort(reason);
    expect(await pending.catch((e: unknown) => e)).toBe(reason);
    expect((await challengeAnswer('abort.acme.example.test')).status).toBe('NXDOMAIN');
  });
});
