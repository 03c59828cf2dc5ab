/**
 * Name-constrained intermediates (for cert-manager's CA `Issuer`) checked with the `openssl` command line:
 * the chain root → intermediate → leaf verifies strictly, a leaf the intermediate signs for another
 * organisation's name fails with "permitted subtree violation", and what may not be built is refused.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isZonekeeperError } from '@zonekeeper/core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type CertificateAuthority,
  createCertificateAuthority,
  type IntermediateCertificateAuthority,
  issueIntermediateCertificateAuthority,
  issueServerCertificate,
} from './index.js';

const OPENSSL = '/usr/bin/openssl';
const ZONE = 'acme.example.com';

function openssl(args: readonly string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(OPENSSL, args, { timeout: 10_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error === null) resolve({ code: 0, out: stdout + stderr });
      else if (typeof error.code === 'number') resolve({ code: error.code, out: stdout + stderr });
      else
        reject(
          new Error(`openssl ${args[0]} did not complete (${String(error.code)}); it is /usr/bin/openssl`),
        );
    });
    child.stdin?.end();
  });
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zonekeeper-intermediate-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});
async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content, { mode: 0o600 });
  return path;
}

/** A leaf for `dnsName` signed by `ca` with openssl itself (bypassing cert-issuer's own refusal). */
async function opensslLeaf(ca: CertificateAuthority, dnsName: string): Promise<string> {
  const [caPath, caKey, ext] = await Promise.all([
    file('signer.pem', ca.certificatePem),
    file('signer.key', ca.privateKeyPem),
    file(
      'leaf.ext',
      `subjectAltName=DNS:${dnsName}\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n`,
    ),
  ]);
  const key = join(dir, 'leaf.key');
  const csr = join(dir, 'leaf.csr');
  const leaf = join(dir, `leaf-${dnsName}.pem`);
  const req = await openssl([
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-subj',
    `/CN=${dnsName}`,
    '-out',
    csr,
  ]);
  expect(req.code, req.out).toBe(0);
  const signed = await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    caPath,
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-days',
    '30',
    '-sha256',
    '-extfile',
    ext,
    '-out',
    leaf,
  ]);
  expect(signed.code, signed.out).toBe(0);
  return leaf;
}

async function verify(root: string, intermediate: string, leafPath: string) {
  const rootPath = await file('root.pem', root);
  const untrusted = await file('intermediate.pem', intermediate);
  return openssl([
    'verify',
    '-x509_strict',
    '-CAfile',
    rootPath,
    '-untrusted',
    untrusted,
    '-purpose',
    'sslserver',
    leafPath,
  ]);
}

describe('issueIntermediateCertificateAuthority', () => {
  let root: CertificateAuthority;
  let intermediate: IntermediateCertificateAuthority;
  beforeAll(async () => {
    root = await createCertificateAuthority({
      commonName: 'acme zonekeeper CA',
      pathLength: 1,
      permittedDnsDomains: [ZONE],
    });
    intermediate = await issueIntermediateCertificateAuthority(root, {
      commonName: 'acme cert-manager CA',
      permittedDnsDomains: [ZONE],
    });
  });

  it('is a pathlen:0 CA with critical name constraints for the zone, signed by the root with its own key', async () => {
    const path = await file('i.pem', intermediate.certificatePem);
    const text = await openssl([
      'x509',
      '-in',
      path,
      '-noout',
      '-ext',
      'basicConstraints,nameConstraints,authorityKeyIdentifier',
      '-issuer',
      '-subject',
    ]);
    expect(text.code, text.out).toBe(0);
    expect(text.out).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text.out).toMatch(/Name Constraints: critical\s+Permitted:\s+DNS:acme\.example\.com/);
    expect(text.out).toContain('issuer=CN = acme zonekeeper CA');
    expect(intermediate.privateKeyPem).not.toBe(root.privateKeyPem);
    expect(intermediate.chainPem).toBe(intermediate.certificatePem + root.certificatePem);
    expect(intermediate.permittedDnsDomains).toEqual([ZONE]);
    const rootText = await openssl([
      'x509',
      '-in',
      await file('r.pem', root.certificatePem),
      '-noout',
      '-ext',
      'basicConstraints',
    ]);
    expect(rootText.out).toMatch(/CA:TRUE, pathlen:1/);
  });

  it('signs leaves in the zone that verify through it against the root only', async () => {
    const leaf = await issueServerCertificate(intermediate, {
      dnsNames: ['www.acme.example.com', '*.apps.acme.example.com'],
    });
    const leafPath = await file('leaf.pem', leaf.certificatePem);
    const ok = await verify(root.certificatePem, intermediate.certificatePem, leafPath);
    expect(ok.code, ok.out).toBe(0);
    // Not against the intermediate as a trust anchor's stranger: another root refuses it.
    const other = await createCertificateAuthority({ commonName: 'acme zonekeeper CA', pathLength: 1 });
    const wrong = await verify(other.certificatePem, intermediate.certificatePem, leafPath);
    expect(wrong.code).not.toBe(0);
  });

  it("fails openssl verify for another organisation's name signed with the intermediate's key", async () => {
    for (const foreign of ['www.globex.example.com', 'acme.example.com.evil.test', 'xacme.example.com']) {
      const result = await verify(
        root.certificatePem,
        intermediate.certificatePem,
        await opensslLeaf(intermediate, foreign),
      );
      expect(result.code, foreign).not.toBe(0);
      expect(result.out).toContain('permitted subtree violation');
    }
    // A leaf in the zone signed the same way verifies: the constraint is what refuses the others.
    const inZone = await verify(
      root.certificatePem,
      intermediate.certificatePem,
      await opensslLeaf(intermediate, 'api.acme.example.com'),
    );
    expect(inZone.code, inZone.out).toBe(0);
  });

  it('the intermediate may not sign another CA (pathlen:0)', async () => {
    const sub = await issueIntermediateCertificateAuthority(
      { ...intermediate },
      { commonName: 'sub', permittedDnsDomains: [ZONE] },
    ).catch((e) => e);
    expect(isZonekeeperError(sub) && sub.code).toBe('INVALID_INPUT');
    expect(sub.message).toContain('pathlen:0');
  });

  it('refuses what may not be built, with INVALID_INPUT and before generating anything', async () => {
    const pathlen0 = await createCertificateAuthority({ commonName: 'leaf-only CA' });
    const cases: Array<[CertificateAuthority, Record<string, unknown>, string]> = [
      [pathlen0, { commonName: 'x', permittedDnsDomains: [ZONE] }, 'pathlen:0'],
      [root, { commonName: 'x' }, 'needs permittedDnsDomains'],
      [root, { commonName: 'x', permittedDnsDomains: ['globex.example.com'] }, 'outside the parent CA'],
      [root, { commonName: 'x', permittedDnsDomains: ['example.com'] }, 'outside the parent CA'],
      [root, { commonName: 'x', permittedDnsDomains: [ZONE], validityDays: 9000 }, 'after its parent'],
      [root, { commonName: 'x', permittedDnsDomains: [`*.${ZONE}`] }, 'wildcard'],
    ];
    for (const [parent, options, message] of cases) {
      const error = await issueIntermediateCertificateAuthority(parent, options as never).catch((e) => e);
      expect(isZonekeeperError(error) && error.code, message).toBe('INVALID_INPUT');
      expect(error.message).toContain(message);
      expect(error.message).not.toContain('PRIVATE KEY');
    }
    await expect(
      createCertificateAuthority({ commonName: 'x', pathLength: 2 as never }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
