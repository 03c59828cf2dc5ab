/**
 * The contract of the crypto core, checked with Node's own X.509 parser (`node:crypto`
 * `X509Certificate`, i.e. OpenSSL in-process), which does not share code with `@peculiar/x509`.
 * The openssl command-line checks and the TLS handshake are in `certificates.openssl.test.ts`.
 *
 * No test prints a private key: assertions about keys compare booleans or public keys only.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { hasErrorCode, isZonekeeperError } from '@zonekeeper/core';
import fc from 'fast-check';
import { afterEach, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import {
  type CertificateAuthority,
  certificateDefaults,
  createCertificateAuthority,
  type IssuedCertificate,
  issueServerCertificate,
  KEY_ALGORITHMS,
  renewalTime,
} from './index.js';

/** Counts key generations: cert-issuer generates keys with node:crypto (sync for ECDSA, async for RSA). */
const keyGeneration = vi.hoisted(() => ({ count: undefined as unknown as MockInstance }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  const { vi: v } = await import('vitest');
  const counter = v.fn();
  keyGeneration.count = counter;
  return {
    ...actual,
    generateKeyPairSync: (...args: unknown[]) => {
      counter();
      return (actual.generateKeyPairSync as (...a: unknown[]) => unknown)(...args);
    },
    generateKeyPair: (...args: unknown[]) => {
      counter();
      return (actual.generateKeyPair as (...a: unknown[]) => unknown)(...args);
    },
  };
});

const MINUTE = 60_000;
const DAY = 86_400_000;
/** A fixed issuance time with milliseconds, to check truncation to whole seconds. */
const NOW = new Date('2026-05-01T12:00:00.750Z');
const NOW_S = Date.parse('2026-05-01T12:00:00Z');

/** The base64 body of a PEM (what must never appear in an error). */
function pemBody(pem: string): string {
  return pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
}

/** Awaits `promise`, expects INVALID_INPUT, and returns the error (its message and details). */
async function rejectsInvalid(promise: Promise<unknown>): Promise<{ message: string; json: string }> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a rejection').toBeDefined();
  expect(isZonekeeperError(caught)).toBe(true);
  expect((caught as { code: string }).code).toBe('INVALID_INPUT');
  const error = caught as Error & { toJSON(): unknown };
  return { message: error.message, json: JSON.stringify(error.toJSON()) };
}

function throwsInvalid(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected INVALID_INPUT');
}

function sanNames(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '').split(', ').map((entry) => entry.replace(/^DNS:/, ''));
}

function keyMatches(certPem: string, privateKeyPem: string): boolean {
  return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(privateKeyPem));
}

let ecCa: CertificateAuthority;
let rsaCa: CertificateAuthority;

beforeAll(async () => {
  ecCa = await createCertificateAuthority({ commonName: 'acme zonekeeper CA', now: NOW });
  rsaCa = await createCertificateAuthority({
    commonName: 'acme zonekeeper RSA CA',
    keyAlgorithm: 'RSA_2048',
    now: NOW,
  });
});

describe('createCertificateAuthority', () => {
  it('creates an ECDSA P-256 CA valid for 3650 days by default, backdated 5 minutes', async () => {
    const cert = new X509Certificate(ecCa.certificatePem);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe('CN=acme zonekeeper CA');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.verify(cert.publicKey)).toBe(true); // self-signed
    expect(cert.publicKey.asymmetricKeyType).toBe('ec');
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(ecCa.notBefore.toISOString()).toBe('2026-05-01T11:55:00.000Z');
    expect(ecCa.notAfter.getTime()).toBe(NOW_S + 3650 * DAY);
    expect(new Date(cert.validFrom).getTime()).toBe(ecCa.notBefore.getTime());
    expect(new Date(cert.validTo).getTime()).toBe(ecCa.notAfter.getTime());
    expect(ecCa.serialNumber).toBe(cert.serialNumber.toLowerCase());
    expect(keyMatches(ecCa.certificatePem, ecCa.privateKeyPem)).toBe(true);
  });

  it('creates an RSA-2048 CA when asked, with a PKCS#8 key', () => {
    const key = createPrivateKey(rsaCa.privateKeyPem);
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(rsaCa.privateKeyPem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
    expect(rsaCa.privateKeyPem.endsWith('-----END PRIVATE KEY-----\n')).toBe(true);
    expect(rsaCa.certificatePem).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
    expect(keyMatches(rsaCa.certificatePem, rsaCa.privateKeyPem)).toBe(true);
  });

  it('keeps the common name verbatim, even with DN special characters and non-ASCII letters', async () => {
    const commonName = 'Société "Acme", O=evil\\, CN=x + y';
    const ca = await createCertificateAuthority({ commonName, validityDays: 1, now: NOW });
    const cert = new X509Certificate(ca.certificatePem);
    // One CN attribute whose value is the whole string (Node escapes it RFC 2253-style), not four attributes.
    expect(cert.subject).toBe('CN=Société \\"Acme\\"\\, O=evil\\\\\\, CN=x \\+ y');
    const issued = await issueServerCertificate(ca, {
      dnsNames: ['a.example.com'],
      validityDays: 1,
      now: NOW,
    });
    expect(new X509Certificate(issued.certificatePem).issuer).toBe(cert.subject);
  });

  it('accepts a 64-character common name and the validity bounds 1 and 9125 days', async () => {
    const long = await createCertificateAuthority({ commonName: 'c'.repeat(64), validityDays: 1, now: NOW });
    expect(new X509Certificate(long.certificatePem).subject).toBe(`CN=${'c'.repeat(64)}`);
    expect(long.notAfter.getTime()).toBe(NOW_S + DAY);
    const longest = await createCertificateAuthority({ commonName: 'x', validityDays: 9125, now: NOW });
    expect(longest.notAfter.getTime()).toBe(NOW_S + 9125 * DAY); // past 2050: GeneralizedTime
    expect(new Date(new X509Certificate(longest.certificatePem).validTo).getTime()).toBe(NOW_S + 9125 * DAY);
  });

  it('defaults now to the current time at the call', async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const ca = await createCertificateAuthority({ commonName: 'now CA', validityDays: 2 });
    const after = Date.now();
    expect(ca.notBefore.getTime()).toBeGreaterThanOrEqual(before - 5 * MINUTE);
    expect(ca.notBefore.getTime()).toBeLessThanOrEqual(after - 5 * MINUTE);
    expect(ca.notAfter.getTime() - ca.notBefore.getTime()).toBe(2 * DAY + 5 * MINUTE);
  });

  it('draws a different random serial number for every certificate', async () => {
    const serials = new Set<string>();
    for (let i = 0; i < 5; i += 1) {
      const ca = await createCertificateAuthority({ commonName: `ca ${i}`, now: NOW });
      expect(ca.serialNumber).toMatch(/^[4-7][0-9a-f]{31}$/); // positive, 127 bits
      serials.add(ca.serialNumber);
    }
    expect(serials.size).toBe(5);
  });
});

describe('issueServerCertificate', () => {
  it('issues a leaf for the normalised names, signed by the CA, with defaults (ECDSA, 90 days)', async () => {
    const issued = await issueServerCertificate(ecCa, {
      dnsNames: ['App.Acme.Example.COM.', '*.apps.acme.example.com', 'app.acme.example.com'],
      now: NOW,
    });
    expect(issued.dnsNames).toEqual(['app.acme.example.com', '*.apps.acme.example.com']);
    expect(Object.isFrozen(issued.dnsNames)).toBe(true);
    const leaf = new X509Certificate(issued.certificatePem);
    const ca = new X509Certificate(ecCa.certificatePem);
    expect(leaf.ca).toBe(false);
    expect(leaf.subject).toBe('CN=app.acme.example.com');
    expect(sanNames(leaf)).toEqual(['app.acme.example.com', '*.apps.acme.example.com']);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.verify(new X509Certificate(rsaCa.certificatePem).publicKey)).toBe(false);
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // Node lists the EKU here: serverAuth only
    expect(leaf.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(leaf.checkHost('app.acme.example.com')).toBe('app.acme.example.com');
    expect(leaf.checkHost('web.apps.acme.example.com')).toBe('*.apps.acme.example.com');
    expect(leaf.checkHost('a.b.apps.acme.example.com')).toBeUndefined();
    expect(issued.notBefore.toISOString()).toBe('2026-05-01T11:55:00.000Z');
    expect(issued.notAfter.getTime()).toBe(NOW_S + 90 * DAY);
    expect(issued.serialNumber).toBe(leaf.serialNumber.toLowerCase());
    expect(issued.serialNumber).not.toBe(ecCa.serialNumber);
    expect(issued.caPem).toBe(ecCa.certificatePem);
    expect(issued.chainPem).toBe(issued.certificatePem + ecCa.certificatePem);
    expect(keyMatches(issued.certificatePem, issued.privateKeyPem)).toBe(true);
    expect(keyMatches(issued.certificatePem, ecCa.privateKeyPem)).toBe(false);
  });

  it.each([
    ['ECDSA_P256', 'ECDSA_P256'],
    ['ECDSA_P256', 'RSA_2048'],
    ['RSA_2048', 'ECDSA_P256'],
    ['RSA_2048', 'RSA_2048'],
  ] as const)('%s CA signs a %s leaf', async (caAlgorithm, leafAlgorithm) => {
    const authority = caAlgorithm === 'RSA_2048' ? rsaCa : ecCa;
    const issued = await issueServerCertificate(authority, {
      dnsNames: ['mixed.example.com'],
      keyAlgorithm: leafAlgorithm,
      validityDays: 7,
      now: NOW,
    });
    const leaf = new X509Certificate(issued.certificatePem);
    expect(leaf.verify(new X509Certificate(authority.certificatePem).publicKey)).toBe(true);
    expect(leaf.publicKey.asymmetricKeyType).toBe(leafAlgorithm === 'RSA_2048' ? 'rsa' : 'ec');
    expect(createPrivateKey(issued.privateKeyPem).asymmetricKeyType).toBe(
      leafAlgorithm === 'RSA_2048' ? 'rsa' : 'ec',
    );
    expect(keyMatches(issued.certificatePem, issued.privateKeyPem)).toBe(true);
  });

  it('leaves the subject empty when the first name is longer than 64 characters', async () => {
    const longName = `${'a'.repeat(60)}.example.com`;
    const issued = await issueServerCertificate(ecCa, {
      dnsNames: [longName, 'short.example.com'],
      now: NOW,
    });
    const leaf = new X509Certificate(issued.certificatePem);
    expect(leaf.subject ?? '').toBe('');
    expect(sanNames(leaf)).toEqual([longName, 'short.example.com']);
    // 64 characters still fit:
    const fits = `${'b'.repeat(52)}.example.com`;
    expect(fits).toHaveLength(64);
    const fitting = await issueServerCertificate(ecCa, { dnsNames: [fits], now: NOW });
    expect(new X509Certificate(fitting.certificatePem).subject).toBe(`CN=${fits}`);
  });

  it('accepts validity 1 and 397 days, and a leaf ending exactly when its CA ends', async () => {
    const one = await issueServerCertificate(ecCa, {
      dnsNames: ['x.example.com'],
      validityDays: 1,
      now: NOW,
    });
    expect(one.notAfter.getTime()).toBe(NOW_S + DAY);
    const max = await issueServerCertificate(ecCa, {
      dnsNames: ['x.example.com'],
      validityDays: 397,
      now: NOW,
    });
    expect(max.notAfter.getTime()).toBe(NOW_S + 397 * DAY);
    const shortCa = await createCertificateAuthority({ commonName: 'short', validityDays: 30, now: NOW });
    const sameEnd = await issueServerCertificate(shortCa, {
      dnsNames: ['x.example.com'],
      validityDays: 30,
      now: NOW,
    });
    expect(sameEnd.notAfter.getTime()).toBe(shortCa.notAfter.getTime());
  });

  it('accepts 100 distinct names (plus duplicates)', async () => {
    const names = Array.from({ length: 100 }, (_, i) => `host-${i}.example.com`);
    const issued = await issueServerCertificate(ecCa, {
      dnsNames: [...names, ...names.map((n) => n.toUpperCase())],
      now: NOW,
    });
    expect(issued.dnsNames).toEqual(names);
    expect(sanNames(new X509Certificate(issued.certificatePem))).toEqual(names);
  });

  it('uses the CA PEMs, not the informational fields of the CA object', async () => {
    const tampered = { ...ecCa, notAfter: new Date(0), notBefore: new Date(0), serialNumber: 'zz' };
    const issued = await issueServerCertificate(tampered, { dnsNames: ['x.example.com'], now: NOW });
    expect(
      new X509Certificate(issued.certificatePem).checkIssued(new X509Certificate(ecCa.certificatePem)),
    ).toBe(true);
  });
});

describe('INVALID_INPUT: the promise rejects and nothing is generated', () => {
  let generateKey: MockInstance;
  beforeEach(() => {
    generateKey = keyGeneration.count;
    generateKey.mockClear();
  });
  afterEach(() => {
    generateKey.mockClear();
  });

  const leafCases: ReadonlyArray<[string, () => Record<string, unknown>, RegExp]> = [
    ['no names', () => ({ dnsNames: [] }), /at least one DNS name/],
    ['dnsNames not an array', () => ({ dnsNames: 'a.example.com' }), /must be an array/],
    ['dnsNames missing', () => ({}), /must be an array/],
    ['a space in a name', () => ({ dnsNames: ['exa mple.com'] }), /whitespace/],
    ['a label starting with "-"', () => ({ dnsNames: ['-bad.example.com'] }), /starts or ends with "-"/],
    ['an empty label', () => ({ dnsNames: ['a..example.com'] }), /is empty/],
    ['an empty name', () => ({ dnsNames: [''] }), /must not be empty/],
    ['a 64-character label', () => ({ dnsNames: [`${'a'.repeat(64)}.example.com`] }), /at most 63/],
    ['an underscore', () => ({ dnsNames: ['my_host.example.com'] }), /"_"/],
    ['a non-string name', () => ({ dnsNames: [42] }), /must be a string/],
    ['two wildcards', () => ({ dnsNames: ['*.*.example.com'] }), /not the whole left-most label/],
    ['a partial wildcard', () => ({ dnsNames: ['a*.example.com'] }), /not the whole left-most label/],
    ['an inner wildcard', () => ({ dnsNames: ['x.*.example.com'] }), /not the whole left-most label/],
    ['a wildcard under a TLD', () => ({ dnsNames: ['*.com'] }), /top-level domain/],
    ['an IPv4 address', () => ({ dnsNames: ['10.0.0.1'] }), /IP address/],
    ['an IPv6 address', () => ({ dnsNames: ['2001:db8::1'] }), /IP address/],
    ['a bracketed IPv6 address', () => ({ dnsNames: ['[::1]'] }), /IP address/],
    ['a valid name then an IP', () => ({ dnsNames: ['ok.example.com', '127.0.0.1'] }), /IP address/],
    [
      '101 distinct names',
      () => ({ dnsNames: Array.from({ length: 101 }, (_, i) => `h${i}.example.com`) }),
      /101 distinct names.*at most 100/,
    ],
    ['validity 0 days', () => ({ dnsNames: ['a.example.com'], validityDays: 0 }), /from 1 to 397, got 0/],
    [
      'validity 398 days',
      () => ({ dnsNames: ['a.example.com'], validityDays: 398 }),
      /from 1 to 397, got 398/,
    ],
    ['negative validity', () => ({ dnsNames: ['a.example.com'], validityDays: -5 }), /from 1 to 397/],
    ['fractional validity', () => ({ dnsNames: ['a.example.com'], validityDays: 1.5 }), /whole number/],
    ['NaN validity', () => ({ dnsNames: ['a.example.com'], validityDays: Number.NaN }), /got NaN/],
    ['string validity', () => ({ dnsNames: ['a.example.com'], validityDays: '90' }), /got "90"/],
    [
      'an invalid Date',
      () => ({ dnsNames: ['a.example.com'], now: new Date('nope') }),
      /"now" must be a valid Date/,
    ],
    [
      'now as a string',
      () => ({ dnsNames: ['a.example.com'], now: '2026-05-01' }),
      /"now" must be a valid Date/,
    ],
    ['now as a number', () => ({ dnsNames: ['a.example.com'], now: 1 }), /"now" must be a valid Date/],
    [
      'an unknown key algorithm',
      () => ({ dnsNames: ['a.example.com'], keyAlgorithm: 'ECDSA_P384' }),
      /Unknown keyAlgorithm "ECDSA_P384".*"ECDSA_P256", "RSA_2048"/,
    ],
    [
      'a lowercase key algorithm',
      () => ({ dnsNames: ['a.example.com'], keyAlgorithm: 'rsa_2048' }),
      /Unknown keyAlgorithm/,
    ],
    [
      'a null key algorithm',
      () => ({ dnsNames: ['a.example.com'], keyAlgorithm: null }),
      /Unknown keyAlgorithm null/,
    ],
  ];

  it.each(leafCases)('issueServerCertificate rejects %s', async (_name, options, message) => {
    const error = await rejectsInvalid(issueServerCertificate(ecCa, options() as never));
    expect(error.message).toMatch(message);
    expect(generateKey).not.toHaveBeenCalled();
  });

  it('rejects a leaf that would outlive its CA, and says what to do', async () => {
    const shortCa = await createCertificateAuthority({ commonName: 'short', validityDays: 30, now: NOW });
    expect(generateKey).toHaveBeenCalledTimes(1); // the spy does see key generation
    generateKey.mockClear();
    const error = await rejectsInvalid(
      issueServerCertificate(shortCa, { dnsNames: ['a.example.com'], validityDays: 31, now: NOW }),
    );
    expect(error.message).toMatch(/after its CA \(2026-05-31T12:00:00\.000Z\); use validityDays 30 or less/);
    const later = await rejectsInvalid(
      issueServerCertificate(shortCa, {
        dnsNames: ['a.example.com'],
        validityDays: 30,
        now: new Date(NOW_S + 29.5 * DAY),
      }),
    );
    expect(later.message).toMatch(/less than a day: rotate the CA/);
    expect(generateKey).not.toHaveBeenCalled();
  });

  it('rejects issuing from an expired CA or before the CA is valid', async () => {
    const expired = await rejectsInvalid(
      issueServerCertificate(ecCa, { dnsNames: ['a.example.com'], now: new Date(NOW_S + 3651 * DAY) }),
    );
    expect(expired.message).toMatch(/CA expired at 2036-04-28T12:00:00\.000Z; rotate the CA/);
    const early = await rejectsInvalid(
      issueServerCertificate(ecCa, { dnsNames: ['a.example.com'], now: new Date(NOW_S - DAY) }),
    );
    expect(early.message).toMatch(/CA is not valid before 2026-05-01T11:55:00\.000Z/);
    expect(generateKey).not.toHaveBeenCalled();
  });

  it('rejects a now that X.509 cannot encode', async () => {
    const old = await rejectsInvalid(
      createCertificateAuthority({ commonName: 'old', now: new Date('1949-12-31T00:00:00Z') }),
    );
    expect(old.message).toMatch(/outside what X\.509 can encode/);
    const far = await rejectsInvalid(
      createCertificateAuthority({
        commonName: 'far',
        validityDays: 9125,
        now: new Date('9990-01-01T00:00:00Z'),
      }),
    );
    expect(far.message).toMatch(/outside what X\.509 can encode/);
    expect(generateKey).not.toHaveBeenCalled();
  });

  const caCases: ReadonlyArray<[string, Record<string, unknown>, RegExp]> = [
    ['an empty common name', { commonName: '' }, /must not be empty/],
    ['a blank common name', { commonName: '   ' }, /must not be empty or blank/],
    ['a missing common name', {}, /commonName must be a string, got undefined/],
    ['a 65-character common name', { commonName: 'c'.repeat(65) }, /65 characters long; at most 64/],
    ['a control character', { commonName: 'acme\nCA' }, /control characters/],
    ['validity 0 days', { commonName: 'ca', validityDays: 0 }, /CA validityDays .* from 1 to 9125, got 0/],
    ['validity 9126 days', { commonName: 'ca', validityDays: 9126 }, /from 1 to 9125, got 9126/],
    ['an invalid now', { commonName: 'ca', now: new Date(Number.NaN) }, /"now" must be a valid Date/],
    [
      'an unknown key algorithm',
      { commonName: 'ca', keyAlgorithm: 'ED25519' },
      /Unknown keyAlgorithm "ED25519"/,
    ],
  ];

  it.each(caCases)('createCertificateAuthority rejects %s', async (_name, options, message) => {
    const error = await rejectsInvalid(createCertificateAuthority(options as never));
    expect(error.message).toMatch(message);
    expect(generateKey).not.toHaveBeenCalled();
  });

  it('rejects options that are not an object, as a rejected promise', async () => {
    const pending = createCertificateAuthority(undefined as never);
    expect(pending).toBeInstanceOf(Promise);
    expect((await rejectsInvalid(pending)).message).toMatch(/options must be an object, got undefined/);
    expect((await rejectsInvalid(issueServerCertificate(ecCa, null as never))).message).toMatch(
      /options must be an object, got null/,
    );
    expect(generateKey).not.toHaveBeenCalled();
  });

  describe('a CA object that is not usable', () => {
    let otherCa: CertificateAuthority;
    let leaf: IssuedCertificate;
    beforeAll(async () => {
      otherCa = await createCertificateAuthority({ commonName: 'other CA', now: NOW });
      leaf = await issueServerCertificate(ecCa, { dnsNames: ['leaf.example.com'], now: NOW });
    });

    const cases: ReadonlyArray<[string, () => unknown, RegExp]> = [
      ['null', () => null, /must be a CertificateAuthority object, got null/],
      ['no PEMs', () => ({}), /certificatePem must be exactly one PEM certificate/],
      ['a garbage certificate', () => ({ ...ecCa, certificatePem: 'not a certificate' }), /exactly one PEM/],
      [
        'a PEM certificate with a corrupt body',
        () => ({
          ...ecCa,
          certificatePem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
        }),
        /does not parse as an X\.509 certificate/,
      ],
      [
        'two certificates',
        () => ({ ...ecCa, certificatePem: ecCa.certificatePem + otherCa.certificatePem }),
        /exactly one PEM certificate/,
      ],
      ['a garbage key', () => ({ ...ecCa, privateKeyPem: 'secret-ish garbage' }), /unencrypted PKCS#8 PEM/],
      [
        'a PEM key with a corrupt body',
        () => ({ ...ecCa, privateKeyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }),
        /does not parse as a PKCS#8 private key/,
      ],
      [
        'a SEC1 ("EC PRIVATE KEY") key',
        () => ({
          ...ecCa,
          privateKeyPem: createPrivateKey(ecCa.privateKeyPem).export({ type: 'sec1', format: 'pem' }),
        }),
        /unencrypted PKCS#8 PEM.*openssl pkcs8 -topk8 -nocrypt/,
      ],
      [
        'an encrypted PKCS#8 key',
        () => ({
          ...ecCa,
          privateKeyPem: createPrivateKey(ecCa.privateKeyPem).export({
            type: 'pkcs8',
            format: 'pem',
            cipher: 'aes-256-cbc',
            passphrase: 'pw',
          }),
        }),
        /unencrypted PKCS#8 PEM/,
      ],
      [
        "another CA's key",
        () => ({ ...ecCa, privateKeyPem: otherCa.privateKeyPem }),
        /privateKeyPem does not match the CA certificate \(subject "CN=acme zonekeeper CA"\)/,
      ],
      [
        'an RSA key for an ECDSA certificate',
        () => ({ ...ecCa, privateKeyPem: rsaCa.privateKeyPem }),
        /does not match the CA certificate/,
      ],
      [
        'a leaf certificate and key',
        () => ({ ...leaf }),
        /is not a CA: basic constraints CA:TRUE is missing/,
      ],
    ];

    it.each(cases)('rejects %s, without quoting any private key', async (_name, ca, message) => {
      const keys = [ecCa.privateKeyPem, otherCa.privateKeyPem, rsaCa.privateKeyPem, leaf.privateKeyPem].map(
        pemBody,
      );
      generateKey.mockClear();
      const error = await rejectsInvalid(
        issueServerCertificate(ca() as never, { dnsNames: ['a.example.com'], now: NOW }),
      );
      expect(error.message).toMatch(message);
      for (const key of keys) {
        // Booleans only: a failing assertion must not print the key.
        expect(error.message.includes(key.slice(0, 40))).toBe(false);
        expect(error.json.includes(key.slice(0, 40))).toBe(false);
        expect(error.json.includes(key.slice(-40))).toBe(false);
      }
      expect(generateKey).not.toHaveBeenCalled();
    });

    it('keeps no enumerable property holding the key on the thrown error', async () => {
      const caught = await issueServerCertificate(
        { ...ecCa, privateKeyPem: otherCa.privateKeyPem },
        { dnsNames: ['a.example.com'], now: NOW },
      ).catch((error: unknown) => error as Record<string, unknown>);
      const body = pemBody(otherCa.privateKeyPem);
      const enumerable = JSON.stringify(Object.entries(caught as object));
      expect(enumerable.includes(body.slice(0, 40))).toBe(false);
      expect((caught as { cause?: unknown }).cause).toBeUndefined();
    });
  });
});

describe('renewalTime', () => {
  const nb = new Date('2026-01-01T00:00:00Z');
  const na = new Date('2026-04-01T00:00:00Z'); // 90 days later

  it.each([
    [undefined, '2026-03-02T00:00:00.000Z'], // default 1/3: 30 days before
    [0.5, '2026-02-15T00:00:00.000Z'],
    [0.1, '2026-03-23T00:00:00.000Z'],
    [2 / 3, '2026-01-31T00:00:00.000Z'],
    [1e-9, '2026-03-31T23:59:59.992Z'], // 7.776 ms, rounded to 8 ms
  ])('fraction %s → %s', (fraction, expected) => {
    const options = fraction === undefined ? {} : { renewBeforeFraction: fraction };
    expect(renewalTime({ notBefore: nb, notAfter: na }, options).toISOString()).toBe(expected);
  });

  it('renews an issued 90-day certificate 30 days (and a third of the skew) before it expires', async () => {
    const issued = await issueServerCertificate(ecCa, { dnsNames: ['r.example.com'], now: NOW });
    expect(renewalTime(issued).getTime()).toBe(NOW_S + 60 * DAY - (5 * MINUTE) / 3);
    expect(renewalTime(issued, { renewBeforeFraction: 0.25 }).getTime()).toBe(
      issued.notAfter.getTime() - Math.round(0.25 * (90 * DAY + 5 * MINUTE)),
    );
  });

  it.each([
    [0, /strictly between 0 and 1, got 0/],
    [1, /got 1/],
    [-0.1, /got -0\.1/],
    [1.5, /got 1\.5/],
    [Number.NaN, /got NaN/],
    [Number.POSITIVE_INFINITY, /got Infinity/],
    ['0.5', /got "0\.5"/],
    [null, /got null/],
  ])('rejects renewBeforeFraction %s', (fraction, message) => {
    expect(
      throwsInvalid(() =>
        renewalTime({ notBefore: nb, notAfter: na }, { renewBeforeFraction: fraction as never }),
      ),
    ).toMatch(message);
  });

  it.each([
    ['notAfter equal to notBefore', { notBefore: nb, notAfter: nb }, /must be after notBefore/],
    ['notAfter before notBefore', { notBefore: na, notAfter: nb }, /must be after notBefore/],
    ['an invalid date', { notBefore: new Date('x'), notAfter: na }, /valid notBefore and notAfter/],
    ['a string date', { notBefore: '2026-01-01', notAfter: na }, /valid notBefore and notAfter/],
    ['missing dates', {}, /valid notBefore and notAfter/],
  ])('rejects %s', (_name, cert, message) => {
    expect(throwsInvalid(() => renewalTime(cert as never))).toMatch(message);
  });

  it('rejects a certificate that is not an object', () => {
    expect(throwsInvalid(() => renewalTime(null as never))).toMatch(/must be an object, got null/);
  });
});

describe('properties', () => {
  const time = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2200, 0, 1) });

  it('renewalTime lies within [notBefore, notAfter], earlier for larger fractions, and matches the formula', () => {
    fc.assert(
      fc.property(
        time,
        fc.integer({ min: 1, max: 400 * DAY }),
        fc.double({ min: 0, max: 1, minExcluded: true, maxExcluded: true, noNaN: true }),
        fc.double({ min: 0, max: 1, minExcluded: true, maxExcluded: true, noNaN: true }),
        (start, span, f1, f2) => {
          const cert = { notBefore: new Date(start), notAfter: new Date(start + span) };
          const r1 = renewalTime(cert, { renewBeforeFraction: f1 }).getTime();
          const r2 = renewalTime(cert, { renewBeforeFraction: f2 }).getTime();
          expect(r1).toBeGreaterThanOrEqual(start);
          expect(r1).toBeLessThanOrEqual(start + span);
          expect(Math.abs(r1 - (start + span - f1 * span))).toBeLessThanOrEqual(0.5);
          if (f1 < f2) expect(r1).toBeGreaterThanOrEqual(r2);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('dnsNames are lowercased, stripped of a trailing dot and de-duplicated in first-seen order', async () => {
    const label = fc.constantFrom('app', 'API', 'web-1', 'x', 'Acme', 'a0');
    const name = fc
      .tuple(fc.constantFrom('', '*.'), fc.array(label, { minLength: 1, maxLength: 3 }), fc.boolean())
      .map(([prefix, labels, dot]) => `${prefix}${labels.join('.')}.example.com${dot ? '.' : ''}`);
    await fc.assert(
      fc.asyncProperty(fc.array(name, { minLength: 1, maxLength: 8 }), async (names) => {
        const expected = [...new Set(names.map((n) => n.toLowerCase().replace(/\.$/, '')))];
        const issued = await issueServerCertificate(ecCa, { dnsNames: names, validityDays: 1, now: NOW });
        expect(issued.dnsNames).toEqual(expected);
        const cert = new X509Certificate(issued.certificatePem);
        expect(sanNames(cert)).toEqual(expected);
        expect(cert.subject).toBe(`CN=${expected[0]}`);
      }),
      { numRuns: 25 },
    );
  });

  it('validity is [now − 5 min, now + days] in whole seconds for any now and days', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: NOW.getTime(), max: NOW.getTime() + 365 * DAY }),
        fc.integer({ min: 1, max: 397 }),
        async (nowMs, days) => {
          const issued = await issueServerCertificate(ecCa, {
            dnsNames: ['v.example.com'],
            validityDays: days,
            now: new Date(nowMs),
          });
          const seconds = Math.floor(nowMs / 1000) * 1000;
          expect(issued.notBefore.getTime()).toBe(seconds - 5 * MINUTE);
          expect(issued.notAfter.getTime()).toBe(seconds + days * DAY);
          const cert = new X509Certificate(issued.certificatePem);
          expect(new Date(cert.validFrom).getTime()).toBe(seconds - 5 * MINUTE);
          expect(new Date(cert.validTo).getTime()).toBe(seconds + days * DAY);
        },
      ),
      { numRuns: 20 },
    );
  });
});

describe('exports', () => {
  it('lists the key algorithms and defaults that the contract states', () => {
    expect(KEY_ALGORITHMS).toEqual(['ECDSA_P256', 'RSA_2048']);
    expect(certificateDefaults).toMatchObject({
      caValidityDays: 3650,
      leafValidityDays: 90,
      maxLeafValidityDays: 397,
      clockSkewMs: 5 * MINUTE,
      renewBeforeFraction: 1 / 3,
      keyAlgorithm: 'ECDSA_P256',
    });
    expect(Object.isFrozen(certificateDefaults)).toBe(true);
  });

  it('returns public keys that match between CA certificate and key (sanity of the fixtures)', () => {
    const fromKey = createPublicKey(createPrivateKey(ecCa.privateKeyPem)).export({
      type: 'spki',
      format: 'pem',
    });
    const fromCert = new X509Certificate(ecCa.certificatePem).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    expect(fromKey).toBe(fromCert);
  });
});
