/**
 * Issued certificates checked by a client nobody here wrote: the `openssl` command line (OpenSSL 3.0)
 * parses them, verifies chains with `-purpose sslserver -x509_strict`, accepts the PKCS#8 keys and
 * completes real TLS handshakes against a Node `tls` server with hostname verification.
 *
 * The certificates are issued for the real current time (`now` captured once), because `openssl
 * s_client` verifies against the clock. Files go to a per-test temporary directory that is removed
 * afterwards. No private key is ever printed: key checks compare public keys or exit codes.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { isZonekeeperError } from '@zonekeeper/core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type CertificateAuthority,
  createCertificateAuthority,
  type IssuedCertificate,
  issueServerCertificate,
  type KeyAlgorithm,
} from './index.js';

const OPENSSL = '/usr/bin/openssl';
const MINUTE = 60_000;
const DAY = 86_400_000;

interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs openssl with stdin closed and a timeout. Resolves with the exit code; rejects only when openssl
 * could not run or timed out (so a missing binary fails loudly instead of passing). */
function openssl(args: readonly string[], timeoutMs = 10_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      OPENSSL,
      args,
      { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ code: 0, stdout, stderr });
        } else if (typeof error.code === 'number') {
          resolve({ code: error.code, stdout, stderr });
        } else {
          const why = error.killed ? `timed out after ${timeoutMs} ms` : String(error.code);
          reject(new Error(`openssl ${args[0]} did not complete: ${why}`));
        }
      },
    );
    child.stdin?.end();
  });
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zonekeeper-cert-issuer-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content, { mode: 0o600 });
  return path;
}

/** The extensions of a certificate as openssl prints them: name → { critical, value }. */
async function extensions(certPath: string): Promise<Map<string, { critical: boolean; value: string }>> {
  const names =
    'basicConstraints,keyUsage,extendedKeyUsage,subjectAltName,subjectKeyIdentifier,authorityKeyIdentifier';
  const result = await openssl(['x509', '-in', certPath, '-noout', '-ext', names]);
  expect(result.code, result.stderr).toBe(0);
  const map = new Map<string, { critical: boolean; value: string }>();
  let current: { critical: boolean; value: string } | undefined;
  for (const line of result.stdout.split('\n')) {
    const header = /^(X509v3 [A-Za-z ]+):( critical)?\s*$/.exec(line);
    if (header) {
      current = { critical: header[2] !== undefined, value: '' };
      map.set(header[1] as string, current);
    } else if (current && line.trim() !== '') {
      current.value = current.value === '' ? line.trim() : `${current.value}\n${line.trim()}`;
    }
  }
  return map;
}

function ext(map: Map<string, { critical: boolean; value: string }>, name: string) {
  const found = map.get(name);
  expect(found, `${name} present`).toBeDefined();
  return found as { critical: boolean; value: string };
}

/** `YYYY-MM-DD HH:MM:SSZ`, as `openssl x509 -dateopt iso_8601` prints a time. */
function isoSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

async function datesOf(certPath: string): Promise<{ notBefore: string; notAfter: string }> {
  const result = await openssl([
    'x509',
    '-in',
    certPath,
    '-noout',
    '-startdate',
    '-enddate',
    '-dateopt',
    'iso_8601',
  ]);
  expect(result.code, result.stderr).toBe(0);
  return {
    notBefore: /notBefore=(.+)/.exec(result.stdout)?.[1] ?? '',
    notAfter: /notAfter=(.+)/.exec(result.stdout)?.[1] ?? '',
  };
}

async function serialOf(certPath: string): Promise<string> {
  const result = await openssl(['x509', '-in', certPath, '-noout', '-serial']);
  expect(result.code, result.stderr).toBe(0);
  return /^serial=(-?[0-9A-F]+)$/m.exec(result.stdout)?.[1] ?? '';
}

async function text(certPath: string): Promise<string> {
  const result = await openssl(['x509', '-in', certPath, '-noout', '-text']);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

const SIGNATURE: Record<KeyAlgorithm, string> = {
  ECDSA_P256: 'ecdsa-with-SHA256',
  RSA_2048: 'sha256WithRSAEncryption',
};
const PUBLIC_KEY: Record<KeyAlgorithm, RegExp> = {
  ECDSA_P256: /Public Key Algorithm: id-ecPublicKey[\s\S]*Public-Key: \(256 bit\)[\s\S]*NIST CURVE: P-256/,
  RSA_2048: /Public Key Algorithm: rsaEncryption[\s\S]*Public-Key: \(2048 bit\)/,
};

const NAMES = [
  'WWW.Acme.Example.com',
  '*.apps.acme.example.com',
  'acme.example.com',
  'www.acme.example.com.',
];
const EXPECTED_NAMES = ['www.acme.example.com', '*.apps.acme.example.com', 'acme.example.com'];
const COMBOS = [
  ['ECDSA_P256', 'ECDSA_P256'],
  ['ECDSA_P256', 'RSA_2048'],
  ['RSA_2048', 'ECDSA_P256'],
  ['RSA_2048', 'RSA_2048'],
] as const satisfies ReadonlyArray<readonly [KeyAlgorithm, KeyAlgorithm]>;

let now: Date;
let nowSeconds: number;
const cas = new Map<KeyAlgorithm, CertificateAuthority>();
const leaves = new Map<string, IssuedCertificate>();
let otherCaSameName: CertificateAuthority;

beforeAll(async () => {
  const version = await openssl(['version']);
  expect(version.stdout).toMatch(/^OpenSSL 3\./);
  now = new Date();
  nowSeconds = Math.floor(now.getTime() / 1000) * 1000;
  for (const algorithm of ['ECDSA_P256', 'RSA_2048'] as const) {
    cas.set(
      algorithm,
      await createCertificateAuthority({ commonName: `acme ${algorithm} CA`, keyAlgorithm: algorithm, now }),
    );
  }
  for (const [caAlgorithm, leafAlgorithm] of COMBOS) {
    const ca = cas.get(caAlgorithm) as CertificateAuthority;
    leaves.set(
      `${caAlgorithm}/${leafAlgorithm}`,
      await issueServerCertificate(ca, {
        dnsNames: NAMES,
        keyAlgorithm: leafAlgorithm,
        validityDays: 45,
        now,
      }),
    );
  }
  otherCaSameName = await createCertificateAuthority({ commonName: 'acme ECDSA_P256 CA', now });
});

function leafOf(caAlgorithm: KeyAlgorithm, leafAlgorithm: KeyAlgorithm): IssuedCertificate {
  return leaves.get(`${caAlgorithm}/${leafAlgorithm}`) as IssuedCertificate;
}

describe.each(['ECDSA_P256', 'RSA_2048'] as const)(
  '%s certificate authority, as openssl reads it',
  (algorithm) => {
    it('is a critical CA:TRUE, pathlen:0 with keyCertSign and cRLSign, an SKI and the right dates', async () => {
      const ca = cas.get(algorithm) as CertificateAuthority;
      const caPath = await file('ca.pem', ca.certificatePem);
      const exts = await extensions(caPath);
      expect(ext(exts, 'X509v3 Basic Constraints')).toEqual({ critical: true, value: 'CA:TRUE, pathlen:0' });
      expect(ext(exts, 'X509v3 Key Usage')).toEqual({ critical: true, value: 'Certificate Sign, CRL Sign' });
      expect(ext(exts, 'X509v3 Subject Key Identifier').value).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
      const body = await text(caPath);
      expect(body).toContain(`Subject: CN = acme ${algorithm} CA`);
      expect(body).toContain(`Issuer: CN = acme ${algorithm} CA`);
      expect(body).toContain(`Signature Algorithm: ${SIGNATURE[algorithm]}`);
      expect(body).toMatch(PUBLIC_KEY[algorithm]);
      expect(await datesOf(caPath)).toEqual({
        notBefore: isoSeconds(nowSeconds - 5 * MINUTE),
        notAfter: isoSeconds(nowSeconds + 3650 * DAY),
      });
      const serial = await serialOf(caPath);
      expect(serial).toBe(ca.serialNumber.toUpperCase());
      expect(BigInt(`0x${serial}`) >= 2n ** 63n).toBe(true);
      // A self-signed trust anchor that passes strict RFC 5280 checks.
      const verify = await openssl(['verify', '-x509_strict', '-CAfile', caPath, caPath]);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    });

    it('has a PKCS#8 private key that openssl accepts and that matches the certificate', async () => {
      const ca = cas.get(algorithm) as CertificateAuthority;
      await expectKeyMatches(ca.certificatePem, ca.privateKeyPem);
    });
  },
);

async function expectKeyMatches(certificatePem: string, privateKeyPem: string): Promise<void> {
  expect(privateKeyPem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
  const keyPath = await file('key.pem', privateKeyPem);
  const certPath = await file('cert.pem', certificatePem);
  const check = await openssl(['pkey', '-in', keyPath, '-noout']);
  expect(check.code, check.stderr).toBe(0);
  const fromKey = await openssl(['pkey', '-in', keyPath, '-pubout']);
  const fromCert = await openssl(['x509', '-in', certPath, '-noout', '-pubkey']);
  expect(fromKey.code).toBe(0);
  expect(fromCert.code).toBe(0);
  expect(fromKey.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  expect(fromKey.stdout).toBe(fromCert.stdout);
}

describe.each(COMBOS)('%s CA, %s server certificate', (caAlgorithm, leafAlgorithm) => {
  it('has the SANs, CN, EKU, key usage, basic constraints, SKI/AKI, serial, dates and signature', async () => {
    const ca = cas.get(caAlgorithm) as CertificateAuthority;
    const leaf = leafOf(caAlgorithm, leafAlgorithm);
    const leafPath = await file('leaf.pem', leaf.certificatePem);
    const caPath = await file('ca.pem', ca.certificatePem);
    const exts = await extensions(leafPath);
    expect(ext(exts, 'X509v3 Subject Alternative Name')).toEqual({
      critical: false,
      value: EXPECTED_NAMES.map((n) => `DNS:${n}`).join(', '),
    });
    expect(ext(exts, 'X509v3 Extended Key Usage').value).toBe('TLS Web Server Authentication');
    expect(ext(exts, 'X509v3 Key Usage')).toEqual({
      critical: true,
      value: leafAlgorithm === 'RSA_2048' ? 'Digital Signature, Key Encipherment' : 'Digital Signature',
    });
    expect(ext(exts, 'X509v3 Basic Constraints')).toEqual({ critical: true, value: 'CA:FALSE' });
    const ski = ext(exts, 'X509v3 Subject Key Identifier').value;
    const aki = ext(exts, 'X509v3 Authority Key Identifier').value.replace(/^keyid:/, '');
    const caSki = ext(await extensions(caPath), 'X509v3 Subject Key Identifier').value;
    expect(ski).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    expect(aki).toBe(caSki);
    expect(ski).not.toBe(caSki);

    const body = await text(leafPath);
    expect(body).toContain('Subject: CN = www.acme.example.com');
    expect(body).toContain(`Issuer: CN = acme ${caAlgorithm} CA`);
    expect(body).toContain(`Signature Algorithm: ${SIGNATURE[caAlgorithm]}`);
    expect(body).not.toContain(
      `Signature Algorithm: ${SIGNATURE[caAlgorithm === 'RSA_2048' ? 'ECDSA_P256' : 'RSA_2048']}`,
    );
    expect(body).toMatch(PUBLIC_KEY[leafAlgorithm]);
    expect(body).not.toContain('Negative');

    const serial = await serialOf(leafPath);
    expect(serial).toBe(leaf.serialNumber.toUpperCase());
    expect(BigInt(`0x${serial}`) >= 2n ** 63n).toBe(true);
    expect(await datesOf(leafPath)).toEqual({
      notBefore: isoSeconds(nowSeconds - 5 * MINUTE),
      notAfter: isoSeconds(nowSeconds + 45 * DAY),
    });
  });

  it('verifies against its CA for the sslserver purpose (strict), and not against other CAs', async () => {
    const leaf = leafOf(caAlgorithm, leafAlgorithm);
    const leafPath = await file('leaf.pem', leaf.certificatePem);
    const caPath = await file('ca.pem', leaf.caPem);
    const ok = await openssl([
      'verify',
      '-x509_strict',
      '-CAfile',
      caPath,
      '-purpose',
      'sslserver',
      leafPath,
    ]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toBe(`${leafPath}: OK`);

    const otherAlgorithm = caAlgorithm === 'RSA_2048' ? 'ECDSA_P256' : 'RSA_2048';
    const otherPath = await file(
      'other.pem',
      (cas.get(otherAlgorithm) as CertificateAuthority).certificatePem,
    );
    const wrong = await openssl(['verify', '-CAfile', otherPath, '-purpose', 'sslserver', leafPath]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stdout + wrong.stderr).toContain('unable to get local issuer certificate');
  });

  it('has a PKCS#8 private key that openssl accepts and that matches the certificate', async () => {
    const leaf = leafOf(caAlgorithm, leafAlgorithm);
    await expectKeyMatches(leaf.certificatePem, leaf.privateKeyPem);
  });

  it('presents a chain that is the leaf then the CA', async () => {
    const leaf = leafOf(caAlgorithm, leafAlgorithm);
    const chainPath = await file('chain.pem', leaf.chainPem);
    const caPath = await file('ca.pem', leaf.caPem);
    // `-untrusted chain.pem` plus the leaf: the chain's CA is not trusted, only the -CAfile one is.
    const result = await openssl([
      'verify',
      '-CAfile',
      caPath,
      '-untrusted',
      chainPath,
      '-show_chain',
      chainPath,
    ]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/depth=0: CN = www\.acme\.example\.com[\s\S]*depth=1: CN = acme .* CA/);
  });
});

it('does not verify a leaf against a different CA that has the same name', async () => {
  const leaf = leafOf('ECDSA_P256', 'ECDSA_P256');
  const leafPath = await file('leaf.pem', leaf.certificatePem);
  const impostor = await file('impostor.pem', otherCaSameName.certificatePem);
  const result = await openssl(['verify', '-CAfile', impostor, '-purpose', 'sslserver', leafPath]);
  expect(result.code).not.toBe(0);
  expect(result.stdout + result.stderr).toMatch(/error \d+ at 0 depth lookup/);
});

it('marks the SAN critical and leaves the subject empty when the first name does not fit in a CN', async () => {
  const longName = `${'a'.repeat(60)}.acme.example.com`;
  const leaf = await issueServerCertificate(cas.get('ECDSA_P256') as CertificateAuthority, {
    dnsNames: [longName],
    now,
  });
  const leafPath = await file('leaf.pem', leaf.certificatePem);
  const caPath = await file('ca.pem', leaf.caPem);
  expect(ext(await extensions(leafPath), 'X509v3 Subject Alternative Name')).toEqual({
    critical: true,
    value: `DNS:${longName}`,
  });
  const subject = await openssl(['x509', '-in', leafPath, '-noout', '-subject']);
  expect(subject.stdout.trim()).toBe('subject=');
  const verify = await openssl([
    'verify',
    '-x509_strict',
    '-CAfile',
    caPath,
    '-purpose',
    'sslserver',
    leafPath,
  ]);
  expect(verify.code, verify.stdout + verify.stderr).toBe(0);
});

// ---------------------------------------------------------------------------------------------------
// Real TLS handshakes
// ---------------------------------------------------------------------------------------------------

interface TlsServer {
  readonly port: number;
  /** The SNI names of the connections whose handshake completed on the server side. */
  readonly established: string[];
  close(): Promise<void>;
}

async function startTlsServer(issued: IssuedCertificate): Promise<TlsServer> {
  const sockets = new Set<tls.TLSSocket>();
  const established: string[] = [];
  const server = tls.createServer({ cert: issued.chainPem, key: issued.privateKeyPem }, (socket) => {
    sockets.add(socket);
    established.push(String(socket.servername));
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.write('hello from zonekeeper\n');
  });
  server.on('tlsClientError', () => {}); // clients that reject our certificate abort the handshake
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    established,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Waits up to `ms` for `condition` (the server may see the handshake end after the client exits). */
async function eventually(condition: () => boolean, ms = 2_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  return condition();
}

function connect(port: number, hostname: string, caFile: string): Promise<RunResult> {
  return openssl([
    's_client',
    '-connect',
    `127.0.0.1:${port}`,
    '-servername',
    hostname,
    '-verify_hostname',
    hostname,
    '-CAfile',
    caFile,
    '-verify_return_error',
  ]);
}

describe.each([
  ['ECDSA_P256', 'ECDSA_P256'],
  ['RSA_2048', 'RSA_2048'],
  ['RSA_2048', 'ECDSA_P256'],
] as const)('TLS handshake with openssl s_client: %s CA, %s server key', (caAlgorithm, leafAlgorithm) => {
  let server: TlsServer;
  beforeEach(async () => {
    server = await startTlsServer(leafOf(caAlgorithm, leafAlgorithm));
  });
  afterEach(async () => {
    await server.close();
  });

  it.each([
    ['www.acme.example.com', 'www.acme.example.com'],
    ['acme.example.com', 'acme.example.com'],
    ['api.apps.acme.example.com', '*.apps.acme.example.com'],
  ])('verifies %s (matched by %s)', async (hostname, matched) => {
    const caPath = await file('ca.pem', leafOf(caAlgorithm, leafAlgorithm).caPem);
    const result = await connect(server.port, hostname, caPath);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Verify return code: 0 (ok)');
    expect(result.stdout).toContain(`Verified peername: ${matched}`);
    expect(await eventually(() => server.established.includes(hostname))).toBe(true);
  });

  it.each(['a.b.apps.acme.example.com', 'apps.acme.example.com', 'other.example.com'])(
    'rejects %s (not covered: a wildcard covers exactly one label)',
    async (hostname) => {
      const caPath = await file('ca.pem', leafOf(caAlgorithm, leafAlgorithm).caPem);
      const result = await connect(server.port, hostname, caPath);
      expect(result.code).not.toBe(0);
      expect(result.stdout + result.stderr).toContain('hostname mismatch');
      expect(server.established).toEqual([]);
    },
  );

  it('rejects the server when the client trusts another CA', async () => {
    const otherPath = await file('other.pem', otherCaSameName.certificatePem);
    const result = await connect(server.port, 'www.acme.example.com', otherPath);
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(
      /verify error|unable to get local issuer|certificate signature failure/,
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// CAs made by openssl (interoperability and the checks on a caller's CA)
// ---------------------------------------------------------------------------------------------------

async function opensslCa(keyArgs: readonly string[], keyUsage: string): Promise<CertificateAuthority> {
  const keyPath = join(dir, 'foreign.key');
  const certPath = join(dir, 'foreign.pem');
  const made = await openssl([
    'req',
    '-x509',
    '-new',
    ...keyArgs,
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-subj',
    '/O=Foreign/CN=Foreign CA',
    '-days',
    '30',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    `keyUsage=critical,${keyUsage}`,
  ]);
  expect(made.code, made.stderr).toBe(0);
  const certificatePem = await readFile(certPath, 'utf8');
  return {
    certificatePem,
    privateKeyPem: await readFile(keyPath, 'utf8'),
    notBefore: new Date(0),
    notAfter: new Date(0),
    serialNumber: '',
  };
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isZonekeeperError(error) && error.code === 'INVALID_INPUT').toBe(true);
  return (error as Error).message;
}

describe('a CA made by openssl', () => {
  it('issues certificates that openssl verifies, with the AKI taken from the CA', async () => {
    const ca = await opensslCa(
      ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
      'keyCertSign,cRLSign',
    );
    const leaf = await issueServerCertificate(ca, {
      dnsNames: ['foreign.example.com'],
      validityDays: 10,
      keyAlgorithm: 'RSA_2048',
    });
    const leafPath = await file('leaf.pem', leaf.certificatePem);
    const caPath = await file('ca.pem', leaf.caPem);
    const verify = await openssl([
      'verify',
      '-x509_strict',
      '-CAfile',
      caPath,
      '-purpose',
      'sslserver',
      leafPath,
    ]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const caSki = ext(await extensions(caPath), 'X509v3 Subject Key Identifier').value;
    expect(
      ext(await extensions(leafPath), 'X509v3 Authority Key Identifier').value.replace(/^keyid:/, ''),
    ).toBe(caSki);
    const subject = await openssl(['x509', '-in', leafPath, '-noout', '-issuer']);
    expect(subject.stdout.trim()).toBe('issuer=O = Foreign, CN = Foreign CA');
  });

  it('is refused without keyCertSign', async () => {
    const ca = await opensslCa(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'digitalSignature');
    expect(await rejection(issueServerCertificate(ca, { dnsNames: ['x.example.com'] }))).toMatch(
      /may not sign certificates: key usage keyCertSign is missing/,
    );
  });

  it.each([
    ['a P-384 key', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384']],
    ['an RSA-1024 key', ['-newkey', 'rsa:1024']],
    ['an Ed25519 key', ['-newkey', 'ed25519']],
  ])('is refused with %s', async (_name, keyArgs) => {
    const ca = await opensslCa(keyArgs, 'keyCertSign,cRLSign');
    expect(await rejection(issueServerCertificate(ca, { dnsNames: ['x.example.com'] }))).toMatch(
      /unsupported type; cert-issuer signs with ECDSA P-256 or RSA \(2048 bits or more\)/,
    );
  });
});

describe('name constraints: the organisation CA may certify only its own zone', () => {
  const zone = 'acme.example.com';
  let constrained: CertificateAuthority;
  beforeAll(async () => {
    constrained = await createCertificateAuthority({
      commonName: 'acme zonekeeper CA',
      permittedDnsDomains: [zone],
    });
  });

  /** A leaf for `dnsName` signed by `ca` with openssl itself (so no check of ours can refuse it). */
  async function opensslLeaf(ca: CertificateAuthority, dnsName: string): Promise<string> {
    const caPath = await file('ca.pem', ca.certificatePem);
    const caKey = await file('ca.key', ca.privateKeyPem);
    const key = join(dir, 'leaf.key');
    const csr = join(dir, 'leaf.csr');
    const leaf = join(dir, 'leaf.pem');
    const ext = await file('ext.cnf', `subjectAltName=DNS:${dnsName}\nextendedKeyUsage=serverAuth\n`);
    const req = await openssl(
      ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'].concat([
        '-keyout',
        key,
        '-subj',
        `/CN=${dnsName}`,
        '-out',
        csr,
      ]),
    );
    expect(req.code, req.stderr).toBe(0);
    const signed = await openssl(
      ['x509', '-req', '-in', csr, '-CA', caPath, '-CAkey', caKey, '-CAcreateserial'].concat([
        '-days',
        '30',
        '-sha256',
        '-extfile',
        ext,
        '-out',
        leaf,
      ]),
    );
    expect(signed.code, signed.stderr).toBe(0);
    return leaf;
  }

  async function verify(caPem: string, leafPath: string): Promise<RunResult> {
    const caPath = await file('trusted.pem', caPem);
    return openssl(['verify', '-x509_strict', '-CAfile', caPath, '-purpose', 'sslserver', leafPath]);
  }

  it('carries a critical name constraints extension permitting the zone', async () => {
    const caPath = await file('ca.pem', constrained.certificatePem);
    const text = await openssl(['x509', '-in', caPath, '-noout', '-ext', 'nameConstraints']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/X509v3 Name Constraints: critical\s+Permitted:\s+DNS:acme\.example\.com/);
  });

  it('verifies a leaf within the zone (issued by cert-issuer, and one signed by openssl)', async () => {
    const leaf = await issueServerCertificate(constrained, {
      dnsNames: ['www.acme.example.com', '*.apps.acme.example.com', zone],
    });
    const leafPath = await file('issued.pem', leaf.certificatePem);
    const ok = await verify(constrained.certificatePem, leafPath);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const byOpenssl = await verify(
      constrained.certificatePem,
      await opensslLeaf(constrained, 'api.acme.example.com'),
    );
    expect(byOpenssl.code, byOpenssl.stdout + byOpenssl.stderr).toBe(0);
  });

  it("fails openssl verify for another organisation's name signed by this CA", async () => {
    for (const foreign of ['www.globex.example.com', 'acme.example.com.evil.test', 'xacme.example.com']) {
      const result = await verify(constrained.certificatePem, await opensslLeaf(constrained, foreign));
      expect(result.code, foreign).not.toBe(0);
      expect(result.stdout + result.stderr).toContain('permitted subtree violation');
    }
    // The same foreign leaf from a CA without constraints verifies: the constraint is what refuses it.
    const open = await createCertificateAuthority({ commonName: 'unconstrained CA' });
    const result = await verify(open.certificatePem, await opensslLeaf(open, 'www.globex.example.com'));
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it('is refused by issueServerCertificate before signing, with INVALID_INPUT', async () => {
    const error = await issueServerCertificate(constrained, {
      dnsNames: ['www.acme.example.com', 'www.globex.example.com'],
    }).catch((e) => e);
    expect(isZonekeeperError(error) && error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain('www.globex.example.com is outside the names this CA may certify');
  });
});
