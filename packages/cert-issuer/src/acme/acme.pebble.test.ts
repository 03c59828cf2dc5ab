import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  createServer as createHttpsServer,
  type Server as HttpsServer,
  request as httpsRequest,
} from 'node:https';
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
import { readCertificate, type SecretStore, secretPaths } from '@zonekeeper/vault-keys';
import { createVaultSecretStore } from '@zonekeeper/vault-keys/vault';
import type { DnsProvider, RecordChange } from '@zonekeeper/zone-manager';
import { createPowerDnsProvider } from '@zonekeeper/zone-manager/powerdns';
import { Client } from 'acme-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AcmeDeps, ensureAcmeCertificate, revokeAcmeCertificate } from './ensure.js';
import { acmeCertId, fetchRenewalInfo } from './renewal-info.js';
import { inAcmeScope, pinnedAgent } from './transport.js';

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
  if (pebble.renewalInfoUrl === undefined)
    throw new Error(
      'This Pebble offers no renewalInfo (RFC 9773): run the one bash .ci/build-pebble.sh builds (ZONEKEEPER_PEBBLE).',
    );
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

async function storedPem(s: Setup): Promise<string> {
  const stored = await readCertificate(s.secrets, 'acme', 'web', { prefix: s.deps.secretPrefix as string });
  if (!stored) throw new Error('nothing stored');
  return stored.certificatePem;
}

/**
 * An HTTPS server presenting Pebble's own TLS certificate that serves Pebble's directory rewritten by
 * `rewrite` (e.g. without renewalInfo): every other URL in it still points at the real Pebble.
 */
async function rewrittenDirectory(
  server: PebbleServer,
  rewrite: (directory: Record<string, unknown>) => Record<string, unknown>,
): Promise<{ directoryUrl: string } & AsyncDisposable> {
  const original = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const req = httpsRequest(
      server.directoryUrl,
      { ca: server.tlsCertificatePem, headers: { 'user-agent': 'zonekeeper-test' } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
      },
    );
    req.on('error', reject);
    req.end();
  });
  const https: HttpsServer = createHttpsServer(
    {
      cert: readFileSync(join(server.dataDir, 'tls-cert.pem')),
      key: readFileSync(join(server.dataDir, 'tls-key.pem')),
    },
    (req, res) => {
      if (req.url !== '/dir') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(rewrite(original)));
    },
  );
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', () => r()));
  return {
    directoryUrl: `https://127.0.0.1:${(https.address() as { port: number }).port}/dir`,
    [Symbol.asyncDispose]: () => new Promise<void>((r) => https.close(() => r())),
  };
}

/** Revokes a certificate with the platform's account key, leaving it in the store (as an outside revocation would). */
async function revokeBehindOurBack(s: Setup, certificatePem: string): Promise<void> {
  const account = await s.secrets.read(`${s.deps.secretPrefix}/acme/account`);
  const accountKey = (account?.data as { privateKeyPem?: string } | undefined)?.privateKeyPem;
  if (accountKey === undefined) throw new Error('no account key stored');
  await inAcmeScope({ timeoutMs: 10_000, agent: pinnedAgent(pebble.tlsCertificatePem) }, async () => {
    const client = new Client({ directoryUrl: pebble.directoryUrl, accountKey });
    await client.createAccount({ onlyReturnExisting: true });
    await client.revokeCertificate(certificatePem, { reason: 1 });
  });
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

  it('renews at two thirds of the lifetime, not before, when the CA offers no renewalInfo; revokes, and orders anew after revocation', async () => {
    // The same Pebble behind a directory without renewalInfo: a CA without ARI.
    await using noAri = await rewrittenDirectory(pebble, ({ renewalInfo: _, ...rest }) => rest);
    const s = await setup({ directoryUrl: noAri.directoryUrl });
    // An account without contacts is found again on every later run, without an update.
    const { contact: _, ...noContact } = s.deps.acme;
    s.deps = { ...s.deps, acme: noContact };
    const first = await ensureAcmeCertificate(input(s, ['renew.acme.example.test']), s.deps);
    const c = first.certificate;
    if (!c) throw new Error('no certificate');
    const lifetime = c.notAfter.getTime() - c.notBefore.getTime();
    expect(c.renewAt.getTime()).toBe(c.notBefore.getTime() + Math.round((lifetime * 2) / 3));
    s.clock.set(new Date(c.notBefore.getTime() + lifetime * 0.6));
    const early = await ensureAcmeCertificate(input(s, ['renew.acme.example.test']), s.deps);
    expect(early.plan.steps).toEqual([]);
    expect(early.renewal).toMatchObject({
      renew: false,
      basis: 'ari-not-offered',
      reason: 'lifetime-fraction-ahead',
      renewAt: c.renewAt.toISOString(),
    });
    const before = await storedPem(s);
    s.clock.set(new Date(c.renewAt.getTime() + 1_000));
    const renewed = await ensureAcmeCertificate(input(s, ['renew.acme.example.test']), s.deps);
    expect(renewed.plan.steps.map((x) => (x.op === 'order-acme-certificate' ? x.reason : x.op))).toEqual([
      'renewal-due',
      'apply-tls-secret',
    ]);
    expect(renewed.renewal).toMatchObject({ renew: true, basis: 'ari-not-offered' });
    // Even without ARI in the directory, the renewal order names what it replaces, and Pebble accepts it.
    expect(renewed.plan.steps[0]).toMatchObject({ replaces: acmeCertId(before) });
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

describe('ACME Renewal Information (RFC 9773) from Pebble', () => {
  const DAY = 86_400_000;

  it('asks for the suggested window, parses it, and renews at the time picked inside it, naming the certificate it replaces; Pebble accepts the replacement', async () => {
    const s = await setup();
    s.deps = { ...s.deps, random: () => 0.25 };
    const names = ['ari.acme.example.test'];
    const first = await ensureAcmeCertificate(input(s, names), s.deps);
    expect(first.renewal).toBeUndefined();
    const c = first.certificate as NonNullable<typeof first.certificate>;
    const pem = await storedPem(s);

    // Pebble's window: a day either side of two thirds of the validity (notAfter + 1 s − notBefore).
    const validity = c.notAfter.getTime() + 1_000 - c.notBefore.getTime();
    const ideal = c.notAfter.getTime() - Math.floor(validity / 3);
    const second = await ensureAcmeCertificate(input(s, names), s.deps);
    expect(second.plan.steps).toEqual([]);
    const r = second.renewal;
    if (!r?.window) throw new Error(`no window: ${JSON.stringify(r)}`);
    expect(r).toMatchObject({ renew: false, basis: 'ari', reason: 'ari-time-ahead' });
    expect(Math.abs(Date.parse(r.window.start) - (ideal - DAY))).toBeLessThan(1_000);
    expect(Math.abs(Date.parse(r.window.end) - (ideal + DAY))).toBeLessThan(1_000);
    const start = Date.parse(r.window.start);
    const end = Date.parse(r.window.end);
    // The injected random fraction picks the time: a quarter into the window.
    expect(Date.parse(r.renewAt)).toBe(start + Math.floor(0.25 * (end - start)));
    expect(second.certificate?.renewAt.toISOString()).toBe(r.renewAt);
    // Pebble's Retry-After is 6 h: when to ask again.
    expect(Date.parse(r.checkAgainAt as string) - s.clock.now().getTime()).toBe(6 * 3_600_000);

    // Kept until the picked time — after the two-thirds point the fallback would have used.
    s.clock.set(new Date(Date.parse(r.renewAt) - 1_000));
    const before = await ensureAcmeCertificate(input(s, names), s.deps);
    expect(before.plan.steps).toEqual([]);
    expect(before.renewal?.reason).toBe('ari-time-ahead');
    s.clock.set(new Date(Date.parse(r.renewAt)));
    const renewed = await ensureAcmeCertificate(input(s, names), s.deps);
    expect(renewed.renewal).toMatchObject({ renew: true, basis: 'ari', reason: 'ari-time-reached' });
    expect(renewed.plan.steps).toEqual([
      expect.objectContaining({
        op: 'order-acme-certificate',
        reason: 'renewal-suggested',
        replaces: acmeCertId(pem),
      }),
      expect.objectContaining({ op: 'apply-tls-secret' }),
    ]);
    expect(renewed.certificate?.serialNumber).not.toBe(c.serialNumber);
    expect((await pebble.certificateStatus(renewed.certificate?.serialNumber ?? ''))?.status).toBe('Valid');
    expect(pebble.logTail()).toMatch(/ARI: order "?[^ ]+"? is a replacement of/);
  });

  it("after a revocation Pebble's window lies in the past: renewed at once, replacing the revoked certificate", async () => {
    const s = await setup();
    const names = ['revoked.acme.example.test'];
    const first = await ensureAcmeCertificate(input(s, names), s.deps);
    const pem = await storedPem(s);
    await revokeBehindOurBack(s, pem);
    expect(await pebble.certificateStatus(first.certificate?.serialNumber ?? '')).toMatchObject({
      status: 'Revoked',
    });
    const info = await fetchRenewalInfo(pebble.directoryUrl, pem, {
      now: new Date(),
      agent: pinnedAgent(pebble.tlsCertificatePem),
    });
    expect(info.status === 'window' && info.window.end.getTime()).toBeLessThanOrEqual(Date.now());

    // A day after issuance: two thirds are far off, ARI alone says renew.
    s.clock.set(new Date(s.clock.now().getTime() + DAY));
    const renewed = await ensureAcmeCertificate(input(s, names), s.deps);
    expect(renewed.renewal).toMatchObject({ renew: true, basis: 'ari', reason: 'ari-window-passed' });
    expect(renewed.plan.steps[0]).toMatchObject({ reason: 'renewal-suggested', replaces: acmeCertId(pem) });
    expect((await pebble.certificateStatus(renewed.certificate?.serialNumber ?? ''))?.status).toBe('Valid');
    const secret = await tlsSecretOf(s.cluster);
    expect(new X509Certificate(decode(secret, 'tls.crt')).serialNumber.toLowerCase()).toContain(
      renewed.certificate?.serialNumber,
    );
    // The new certificate has its own window, in the future: the next run keeps it.
    const next = await ensureAcmeCertificate(input(s, names), s.deps);
    expect(next.plan.steps).toEqual([]);
    expect(next.renewal).toMatchObject({ basis: 'ari', reason: 'ari-time-ahead' });
  });

  it('a replacement issued but never stored (crash after the side effect): the next run meets alreadyReplaced and orders without replaces', async () => {
    const s = await setup();
    const names = ['crash.acme.example.test'];
    await ensureAcmeCertificate(input(s, names), s.deps);
    const pem = await storedPem(s);
    const past = new Date(Date.now() - 2 * DAY).toISOString();
    await pebble.setRenewalInfo(
      pem,
      JSON.stringify({ suggestedWindow: { start: past, end: new Date(Date.now() - DAY).toISOString() } }),
    );
    // The store refuses the certificate write once: Pebble has issued the replacement, we lost it.
    const certificatePath = secretPaths({ prefix: s.deps.secretPrefix as string }).certificate('acme', 'web');
    let failures = 0;
    const flaky = Object.create(s.secrets) as SecretStore;
    Object.assign(flaky, {
      write: (path: string, ...rest: unknown[]) => {
        if (path === certificatePath && failures++ === 0)
          return Promise.reject(new Error('storage node lost power'));
        return (s.secrets.write as (...a: unknown[]) => Promise<unknown>).call(s.secrets, path, ...rest);
      },
    });
    const crashed = await ensureAcmeCertificate(input(s, names), { ...s.deps, secrets: flaky }).catch(
      (e: unknown) => e,
    );
    expect((crashed as Error).message).toMatch(/lost power/);
    expect(await storedPem(s)).toBe(pem);

    const infos: string[] = [];
    const logger = { ...noopLogger, info: (message: string) => infos.push(message) };
    const recovered = await ensureAcmeCertificate(input(s, names), { ...s.deps, logger });
    expect(recovered.plan.steps[0]).toMatchObject({ reason: 'renewal-suggested', replaces: acmeCertId(pem) });
    expect(infos.some((m) => /already has a replacement/.test(m))).toBe(true);
    expect(await storedPem(s)).not.toBe(pem);
    expect((await pebble.certificateStatus(recovered.certificate?.serialNumber ?? ''))?.status).toBe('Valid');
  });

  it('falls back to two thirds, saying why, when the answer is malformed, the window inverted, or renewalInfo unreachable', async () => {
    const s = await setup();
    const names = ['fallback.acme.example.test'];
    const first = await ensureAcmeCertificate(input(s, names), s.deps);
    const c = first.certificate as NonNullable<typeof first.certificate>;
    const pem = await storedPem(s);
    for (const [response, failure] of [
      ['{"suggestedWindow": not json', 'invalid-response'],
      [
        JSON.stringify({
          suggestedWindow: { start: c.notAfter.toISOString(), end: c.notBefore.toISOString() },
        }),
        'invalid-response',
      ],
    ] as const) {
      await pebble.setRenewalInfo(pem, response);
      const run = await ensureAcmeCertificate(input(s, names), s.deps);
      expect(run.plan.steps).toEqual([]);
      expect(run.renewal).toMatchObject({
        renew: false,
        basis: 'ari-failed',
        reason: 'lifetime-fraction-ahead',
        renewAt: c.renewAt.toISOString(),
        failure: { failure, code: 'UNAVAILABLE', retry: 'transient' },
      });
    }
    // A directory whose renewalInfo answers nothing (a closed port): unreachable, still the fallback.
    const closed = createTcpServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    await using broken = await rewrittenDirectory(pebble, (d) => ({
      ...d,
      renewalInfo: `https://127.0.0.1:${port}/renewalInfo`,
    }));
    const moved = await setup({ directoryUrl: broken.directoryUrl });
    await ensureAcmeCertificate(input(moved, names), moved.deps);
    moved.clock.set(new Date(moved.clock.now().getTime() + 61 * DAY));
    const late = await ensureAcmeCertificate(input(moved, names), moved.deps);
    expect(late.renewal).toMatchObject({
      renew: true,
      basis: 'ari-failed',
      reason: 'lifetime-fraction-reached',
      failure: { failure: 'unreachable', code: 'UNAVAILABLE', retry: 'transient' },
    });
    expect(late.plan.steps[0]).toMatchObject({ reason: 'renewal-due' });
    expect(JSON.stringify(late)).not.toContain('PRIVATE KEY');
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
      // One random fraction for both runs: the second run's time inside the CA's renewal window is the
      // first run's renewAt (with Math.random it is later half the time, and nothing is due yet).
      const deps = { ...s.deps, dns: counting, random: () => 0.5 };
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
