/**
 * The pure crypto core of cert-issuer: a per-organisation certificate authority, TLS server
 * certificates signed by it, and the time a certificate should be renewed.
 *
 * Everything here is data in, data out: no I/O, no clock (callers pass `now`; only the public functions
 * default it to `new Date()`), no global state beyond the x509 runtime set up in `x509-runtime.ts`.
 * Keys are generated with Node's WebCrypto; certificates are built with `@peculiar/x509`.
 *
 * Invalid input rejects with a `ZonekeeperError` of code `INVALID_INPUT` before anything is generated.
 * No message or `details` ever contains a private key.
 */

import { createPrivateKey, createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import {
  ErrorCodes,
  invalidInput,
  isZonekeeperError,
  normalizeHostname,
  ZonekeeperError,
} from '@zonekeeper/core';
import { nodeCrypto, x509 } from './x509-runtime.js';

/**
 * The key algorithms cert-issuer generates keys for:
 * - `'ECDSA_P256'`: ECDSA on NIST P-256, signatures ECDSA with SHA-256 (small, fast; the default);
 * - `'RSA_2048'`: RSA 2048-bit (exponent 65537), signatures RSASSA-PKCS1-v1_5 with SHA-256, for
 *   clients that cannot do ECDSA.
 * @public
 */
export type KeyAlgorithm = 'ECDSA_P256' | 'RSA_2048';

/**
 * Every {@link KeyAlgorithm}, in order of preference.
 * @public
 */
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = Object.freeze(['ECDSA_P256', 'RSA_2048'] as const);

/**
 * The defaults and limits of this module.
 * @public
 */
export const certificateDefaults = Object.freeze({
  /** Validity of a new CA, in days (about 10 years). */
  caValidityDays: 3650,
  /** The longest CA validity accepted, in days (about 25 years). */
  maxCaValidityDays: 9125,
  /** Validity of a new server certificate, in days. */
  leafValidityDays: 90,
  /** The longest server certificate validity accepted, in days (what public-CA tooling accepts). */
  maxLeafValidityDays: 397,
  /** How far `notBefore` is backdated from `now`, in milliseconds (5 minutes, for clock skew). */
  clockSkewMs: 5 * 60 * 1000,
  /** The default share of the lifetime left when a certificate should be renewed. */
  renewBeforeFraction: 1 / 3,
  /** The most DNS names (SANs) one server certificate may carry, after de-duplication. */
  maxDnsNames: 100,
  /** The longest CA common name, in characters (X.520 `ub-common-name`). */
  maxCommonNameLength: 64,
  /** The default key algorithm. */
  keyAlgorithm: 'ECDSA_P256' as KeyAlgorithm,
});

/**
 * A certificate authority: its self-signed certificate and its private key.
 *
 * The PEMs are authoritative: {@link issueServerCertificate} reads only `certificatePem` and
 * `privateKeyPem`; `notBefore`, `notAfter` and `serialNumber` are copies for the caller's convenience.
 * @public
 */
export interface CertificateAuthority {
  /** The certificate, PEM (`-----BEGIN CERTIFICATE-----`), ending with a newline. */
  readonly certificatePem: string;
  /** The private key, unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). A secret: never log it. */
  readonly privateKeyPem: string;
  /** Start of validity, as encoded in the certificate (whole seconds). */
  readonly notBefore: Date;
  /** End of validity, as encoded in the certificate (whole seconds). */
  readonly notAfter: Date;
  /** The serial number, lowercase hex without a sign byte. */
  readonly serialNumber: string;
}

/**
 * A TLS server certificate issued by {@link issueServerCertificate}, with its private key and chain.
 * `certificatePem`, `privateKeyPem`, `notBefore`, `notAfter` and `serialNumber` describe the leaf.
 * @public
 */
export interface IssuedCertificate extends CertificateAuthority {
  /** The leaf certificate followed by the CA certificate, PEM: what a TLS server presents. */
  readonly chainPem: string;
  /** The CA certificate, PEM: what clients trust (`ca.crt` of a `kubernetes.io/tls` Secret). */
  readonly caPem: string;
  /** The certified names (SAN dNSNames): lowercase, without trailing dots or duplicates, in input order. */
  readonly dnsNames: readonly string[];
}

/**
 * Options of {@link createCertificateAuthority}.
 * @public
 */
export interface CertificateAuthorityOptions {
  /** The subject common name of the CA, e.g. `"acme zonekeeper CA"`: 1–64 characters, no control characters. */
  readonly commonName: string;
  /** Validity in whole days, 1–9125. Default 3650. */
  readonly validityDays?: number;
  /** The CA's key algorithm. Default `'ECDSA_P256'`. */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** The issuance time. Default `new Date()`. `notBefore` is 5 minutes earlier. */
  readonly now?: Date;
}

/**
 * Options of {@link issueServerCertificate}.
 * @public
 */
export interface ServerCertificateOptions {
  /**
   * The DNS names to certify: at least one, at most 100 after de-duplication. Each is a DNS name or a
   * wildcard whose whole left-most label is `*` (`*.apps.acme.example.com`); IP addresses are rejected.
   * Names are lowercased and a trailing dot is removed. The first name is also the subject CN when it
   * has at most 64 characters.
   */
  readonly dnsNames: readonly string[];
  /** Validity in whole days, 1–397. Default 90. The certificate must not outlive its CA. */
  readonly validityDays?: number;
  /** The leaf's key algorithm (independent of the CA's). Default `'ECDSA_P256'`. */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** The issuance time. Default `new Date()`. `notBefore` is 5 minutes earlier. */
  readonly now?: Date;
}

/**
 * Options of {@link renewalTime}.
 * @public
 */
export interface RenewalTimeOptions {
  /** Renew when this share of the lifetime is left; strictly between 0 and 1. Default 1/3. */
  readonly renewBeforeFraction?: number;
}

const DAY_MS = 86_400_000;
/** X.509 times: UTCTime from 1950, GeneralizedTime up to the end of 9999 (both in whole seconds). */
const MIN_X509_TIME_MS = Date.UTC(1950, 0, 1);
const MAX_X509_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59);

type SigningAlgorithm =
  | { name: 'ECDSA'; namedCurve: 'P-256' }
  | { name: 'RSASSA-PKCS1-v1_5'; hash: 'SHA-256' };

const KEY_GENERATION: Readonly<Record<KeyAlgorithm, Record<string, unknown> & { name: string }>> = {
  ECDSA_P256: { name: 'ECDSA', namedCurve: 'P-256' },
  RSA_2048: {
    name: 'RSASSA-PKCS1-v1_5',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  },
};

// ---------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  return `a ${typeof value}`;
}

function isValidDate(value: unknown): value is Date {
  return (
    Object.prototype.toString.call(value) === '[object Date]' && !Number.isNaN((value as Date).getTime())
  );
}

function requireOptionsObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidInput(`${what} must be an object, got ${describe(value)}.`);
  }
  return value as Record<string, unknown>;
}

function resolveNow(value: unknown): number {
  if (value === undefined) return Date.now();
  if (!isValidDate(value)) {
    throw invalidInput(`Option "now" must be a valid Date, got ${describe(value)}.`);
  }
  return value.getTime();
}

function resolveKeyAlgorithm(value: unknown): KeyAlgorithm {
  if (value === undefined) return certificateDefaults.keyAlgorithm;
  if (typeof value === 'string' && (KEY_ALGORITHMS as readonly string[]).includes(value)) {
    return value as KeyAlgorithm;
  }
  throw invalidInput(
    `Unknown keyAlgorithm ${describe(value)}; use one of ${KEY_ALGORITHMS.map((a) => `"${a}"`).join(', ')}.`,
    { keyAlgorithm: typeof value === 'string' ? value : typeof value },
  );
}

function resolveValidityDays(value: unknown, fallback: number, max: number, what: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalidInput(
      `${what} validityDays must be a whole number of days from 1 to ${max}, got ${describe(value)}.`,
      { validityDays: typeof value === 'number' ? value : typeof value, max },
    );
  }
  return value;
}

function validateCommonName(value: unknown): string {
  if (typeof value !== 'string') {
    throw invalidInput(`CA commonName must be a string, got ${describe(value)}.`);
  }
  if (value.trim().length === 0) throw invalidInput('CA commonName must not be empty or blank.');
  const length = [...value].length;
  if (length > certificateDefaults.maxCommonNameLength) {
    throw invalidInput(
      `CA commonName is ${length} characters long; at most ${certificateDefaults.maxCommonNameLength} are allowed.`,
      { length },
    );
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) {
    throw invalidInput(`CA commonName ${describe(value)} contains control characters.`);
  }
  return value;
}

function normalizeDnsNames(value: unknown): string[] {
  if (!Array.isArray(value)) {
    throw invalidInput(`dnsNames must be an array of DNS names, got ${describe(value)}.`);
  }
  if (value.length === 0) {
    throw invalidInput('dnsNames is empty; a server certificate needs at least one DNS name.');
  }
  const names: string[] = [];
  const seen = new Set<string>();
  for (const raw of value) {
    const name = normalizeHostname(raw);
    if (!seen.has(name)) {
      seen.add(name);
      names.push(name);
    }
  }
  if (names.length > certificateDefaults.maxDnsNames) {
    throw invalidInput(
      `dnsNames has ${names.length} distinct names; one certificate may carry at most ${certificateDefaults.maxDnsNames}.`,
      { count: names.length, max: certificateDefaults.maxDnsNames },
    );
  }
  return names;
}

/** The validity window for `days` from `nowMs`, in whole seconds (as X.509 encodes it). */
function validityWindow(nowMs: number, days: number): { notBefore: number; notAfter: number } {
  const now = Math.floor(nowMs / 1000) * 1000;
  const notBefore = now - certificateDefaults.clockSkewMs;
  const notAfter = now + days * DAY_MS;
  if (notBefore < MIN_X509_TIME_MS || notAfter > MAX_X509_TIME_MS) {
    throw invalidInput(
      `Option "now" (${new Date(nowMs).toISOString()}) puts the validity outside what X.509 can encode (1950 to 9999).`,
    );
  }
  return { notBefore, notAfter };
}

// ---------------------------------------------------------------------------------------------------
// Keys and PEM
// ---------------------------------------------------------------------------------------------------

const PKCS8_PEM = /^-----BEGIN PRIVATE KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END PRIVATE KEY-----$/;
const CERTIFICATE_PEM = /^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----$/;

function pem(der: ArrayBuffer, tag: string): string {
  return `${x509.PemConverter.encode(der, tag)}\n`;
}

/** A random, positive, 16-byte serial number in hex: the top bit is clear and the next one set, so its
 * value always has 127 bits (126 of them random) and DER needs no sign byte. */
function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x40;
  return bytes.toString('hex');
}

async function generateKeyPair(algorithm: KeyAlgorithm): Promise<CryptoKeyPairLike> {
  return (await nodeCrypto.subtle.generateKey(KEY_GENERATION[algorithm], true, [
    'sign',
    'verify',
  ])) as CryptoKeyPairLike;
}

type CryptoKeyPairLike = { publicKey: CryptoKeyLike; privateKey: CryptoKeyLike };
type CryptoKeyLike = Awaited<ReturnType<typeof nodeCrypto.subtle.importKey>>;

async function exportPrivateKeyPem(key: CryptoKeyLike): Promise<string> {
  return pem(await nodeCrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

function subjectName(commonName: string | undefined): x509.Name {
  // Object values are used as they are (the string form would parse RFC 4514 escapes and quotes).
  return new x509.Name(commonName === undefined ? [] : [{ CN: [{ utf8String: commonName }] }]);
}

// ---------------------------------------------------------------------------------------------------
// Loading a CA given by the caller
// ---------------------------------------------------------------------------------------------------

interface LoadedAuthority {
  readonly certificate: x509.X509Certificate;
  readonly certificatePem: string;
  readonly signingKey: CryptoKeyLike;
}

function signingAlgorithmOf(key: KeyObject): SigningAlgorithm | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1') {
    return { name: 'ECDSA', namedCurve: 'P-256' };
  }
  if (key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048) {
    return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  }
  return undefined;
}

function sameBytes(a: ArrayBuffer | Uint8Array, b: ArrayBuffer | Uint8Array): boolean {
  const x = a instanceof Uint8Array ? a : new Uint8Array(a);
  const y = b instanceof Uint8Array ? b : new Uint8Array(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/**
 * Parses and checks a CA given by the caller: one PEM certificate that is a CA allowed to sign
 * certificates, an unencrypted PKCS#8 key of a supported algorithm, and the key must belong to the
 * certificate. Messages never quote the PEMs.
 */
async function loadAuthority(value: unknown): Promise<LoadedAuthority> {
  if (typeof value !== 'object' || value === null) {
    throw invalidInput(`The CA must be a CertificateAuthority object, got ${describe(value)}.`);
  }
  const { certificatePem, privateKeyPem } = value as Partial<Record<keyof CertificateAuthority, unknown>>;
  if (typeof certificatePem !== 'string' || !CERTIFICATE_PEM.test(certificatePem.trim())) {
    throw invalidInput(
      'CA certificatePem must be exactly one PEM certificate ("-----BEGIN CERTIFICATE-----").',
    );
  }
  let certificate: x509.X509Certificate;
  try {
    certificate = new x509.X509Certificate(certificatePem.trim());
    // Touch the fields used below so that a malformed certificate fails here.
    void certificate.notAfter;
    void certificate.publicKey.rawData;
  } catch (error) {
    throw new ZonekeeperError(
      ErrorCodes.INVALID_INPUT,
      'CA certificatePem does not parse as an X.509 certificate.',
      { cause: error },
    );
  }
  const constraints = certificate.getExtension(x509.BasicConstraintsExtension);
  if (!constraints?.ca) {
    throw invalidInput(
      `CA certificate (subject ${JSON.stringify(certificate.subject)}) is not a CA: basic constraints CA:TRUE is missing.`,
    );
  }
  const usage = certificate.getExtension(x509.KeyUsagesExtension);
  if (usage && (usage.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
    throw invalidInput(
      `CA certificate (subject ${JSON.stringify(certificate.subject)}) may not sign certificates: key usage keyCertSign is missing.`,
    );
  }

  // The private key. Messages are fixed strings: nothing derived from the key is ever quoted.
  if (typeof privateKeyPem !== 'string' || !PKCS8_PEM.test(privateKeyPem.trim())) {
    throw invalidInput(
      'CA privateKeyPem must be an unencrypted PKCS#8 PEM private key ("-----BEGIN PRIVATE KEY-----"); convert other formats with `openssl pkcs8 -topk8 -nocrypt`.',
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: privateKeyPem, format: 'pem' });
  } catch {
    // The cause is dropped on purpose: it is about the private key.
    throw invalidInput('CA privateKeyPem does not parse as a PKCS#8 private key.');
  }
  const algorithm = signingAlgorithmOf(key);
  if (algorithm === undefined) {
    throw invalidInput(
      'CA private key is of an unsupported type; cert-issuer signs with ECDSA P-256 or RSA (2048 bits or more) keys.',
    );
  }
  const publicKeyDer = createPublicKey(key).export({ type: 'spki', format: 'der' });
  if (!sameBytes(publicKeyDer, certificate.publicKey.rawData)) {
    throw invalidInput(
      `CA privateKeyPem does not match the CA certificate (subject ${JSON.stringify(certificate.subject)}): the key pair is not the certificate's.`,
    );
  }
  const signingKey = await nodeCrypto.subtle.importKey(
    'pkcs8',
    key.export({ type: 'pkcs8', format: 'der' }),
    algorithm,
    false,
    ['sign'],
  );
  return { certificate, certificatePem: pem(certificate.rawData, 'CERTIFICATE'), signingKey };
}

// ---------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------

async function unexpected<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isZonekeeperError(error)) throw error;
    const text = error instanceof Error ? error.message : String(error);
    throw new ZonekeeperError(ErrorCodes.INTERNAL, `${what} failed unexpectedly: ${text}`, { cause: error });
  }
}

/**
 * Creates a certificate authority: a new key pair and a self-signed CA certificate.
 *
 * The certificate has subject `CN=<commonName>`, basic constraints `CA:TRUE, pathlen:0` (critical: it
 * signs server certificates only, no intermediates), key usage `keyCertSign, cRLSign` (critical), a
 * subject key identifier, a random positive 126-bit serial number, SHA-256 signature, `notBefore` =
 * `now` − 5 minutes and `notAfter` = `now` + `validityDays` (both in whole seconds).
 *
 * @param options - See {@link CertificateAuthorityOptions}. Defaults: `validityDays` 3650,
 *   `keyAlgorithm` `'ECDSA_P256'`, `now` `new Date()`.
 * @returns The CA; its `privateKeyPem` is a secret.
 * @throws `ZonekeeperError` `INVALID_INPUT` (the promise rejects, nothing is generated) for a missing,
 *   blank, over-long (> 64) or control-character common name, a validity outside 1–9125 whole days, an
 *   invalid `now` or an unknown `keyAlgorithm`.
 * @public
 */
export async function createCertificateAuthority(
  options: CertificateAuthorityOptions,
): Promise<CertificateAuthority> {
  const input = requireOptionsObject(options, 'createCertificateAuthority options');
  const commonName = validateCommonName(input.commonName);
  const days = resolveValidityDays(
    input.validityDays,
    certificateDefaults.caValidityDays,
    certificateDefaults.maxCaValidityDays,
    'CA',
  );
  const keyAlgorithm = resolveKeyAlgorithm(input.keyAlgorithm);
  const window = validityWindow(resolveNow(input.now), days);

  return unexpected('Creating the certificate authority', async () => {
    const keys = await generateKeyPair(keyAlgorithm);
    const certificate = await x509.X509CertificateGenerator.create(
      {
        serialNumber: randomSerialNumber(),
        subject: subjectName(commonName),
        issuer: subjectName(commonName),
        notBefore: new Date(window.notBefore),
        notAfter: new Date(window.notAfter),
        publicKey: keys.publicKey,
        signingKey: keys.privateKey,
        extensions: [
          new x509.BasicConstraintsExtension(true, 0, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, nodeCrypto),
        ],
      },
      nodeCrypto,
    );
    return Object.freeze({
      certificatePem: pem(certificate.rawData, 'CERTIFICATE'),
      privateKeyPem: await exportPrivateKeyPem(keys.privateKey),
      notBefore: certificate.notBefore,
      notAfter: certificate.notAfter,
      serialNumber: certificate.serialNumber,
    });
  });
}

/**
 * Issues a TLS server certificate for `dnsNames`, signed by `ca`, with a new key pair.
 *
 * The certificate carries every name as a SAN dNSName (lowercased, trailing dot removed, duplicates
 * dropped, input order kept); the first name as subject CN when it has at most 64 characters (otherwise
 * the subject is empty and the SAN extension critical); extended key usage `serverAuth`; key usage
 * `digitalSignature` (plus `keyEncipherment` for an RSA leaf), critical; basic constraints `CA:FALSE`,
 * critical; subject and authority key identifiers (the AKI equals the CA's SKI); a random positive 126-bit
 * serial number; `notBefore` = `now` − 5 minutes and `notAfter` = `now` + `validityDays` (whole seconds).
 * The signature algorithm follows the CA's key: ECDSA with SHA-256 for a P-256 CA, RSASSA-PKCS1-v1_5 with
 * SHA-256 for an RSA CA.
 *
 * @param ca - The issuing CA. Its PEMs are parsed and checked: the certificate must be a CA allowed to
 *   sign certificates (basic constraints CA:TRUE, keyCertSign when key usage is present) and the
 *   unencrypted PKCS#8 key (ECDSA P-256 or RSA ≥ 2048) must be the certificate's.
 * @param options - See {@link ServerCertificateOptions}. Defaults: `validityDays` 90, `keyAlgorithm`
 *   `'ECDSA_P256'`, `now` `new Date()`.
 * @returns The certificate, its private key (a secret), the chain (leaf then CA) and the CA certificate.
 * @throws `ZonekeeperError` `INVALID_INPUT` (the promise rejects, nothing is issued) for: no names; a name
 *   that is not a valid DNS name; a wildcard other than a whole left-most label; an IP address; more than
 *   100 distinct names; a validity outside 1–397 whole days; a certificate that would outlive its CA or
 *   start before the CA is valid; an invalid `now`; an unknown `keyAlgorithm`; a CA whose PEMs do not
 *   parse, which is not a CA, or whose key does not match its certificate.
 * @public
 */
export async function issueServerCertificate(
  ca: CertificateAuthority,
  options: ServerCertificateOptions,
): Promise<IssuedCertificate> {
  const input = requireOptionsObject(options, 'issueServerCertificate options');
  const dnsNames = normalizeDnsNames(input.dnsNames);
  const days = resolveValidityDays(
    input.validityDays,
    certificateDefaults.leafValidityDays,
    certificateDefaults.maxLeafValidityDays,
    'Server certificate',
  );
  const keyAlgorithm = resolveKeyAlgorithm(input.keyAlgorithm);
  const nowMs = resolveNow(input.now);
  const window = validityWindow(nowMs, days);
  const authority = await loadAuthority(ca);

  const caNotBefore = authority.certificate.notBefore.getTime();
  const caNotAfter = authority.certificate.notAfter.getTime();
  if (caNotAfter <= nowMs) {
    throw invalidInput(
      `The CA expired at ${new Date(caNotAfter).toISOString()}; rotate the CA before issuing certificates.`,
      { caNotAfter: new Date(caNotAfter).toISOString() },
    );
  }
  if (caNotBefore > nowMs) {
    throw invalidInput(
      `The CA is not valid before ${new Date(caNotBefore).toISOString()}, after "now" (${new Date(nowMs).toISOString()}).`,
      { caNotBefore: new Date(caNotBefore).toISOString() },
    );
  }
  if (window.notAfter > caNotAfter) {
    const maxDays = Math.floor((caNotAfter - (window.notAfter - days * DAY_MS)) / DAY_MS);
    const hint =
      maxDays >= 1
        ? `use validityDays ${maxDays} or less, or rotate the CA`
        : 'the CA expires in less than a day: rotate the CA';
    throw invalidInput(
      `A certificate valid for ${days} days would expire at ${new Date(window.notAfter).toISOString()}, after its CA (${new Date(caNotAfter).toISOString()}); ${hint}.`,
      { validityDays: days, caNotAfter: new Date(caNotAfter).toISOString() },
    );
  }

  return unexpected('Issuing the server certificate', async () => {
    const keys = await generateKeyPair(keyAlgorithm);
    const first = dnsNames[0] as string;
    const commonName = first.length <= certificateDefaults.maxCommonNameLength ? first : undefined;
    const caKeyId = authority.certificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    const keyUsage =
      keyAlgorithm === 'RSA_2048'
        ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
        : x509.KeyUsageFlags.digitalSignature;
    const certificate = await x509.X509CertificateGenerator.create(
      {
        serialNumber: randomSerialNumber(),
        subject: subjectName(commonName),
        // The CA's subject exactly as encoded in its certificate, so that name chaining is byte-exact.
        issuer: authority.certificate.subjectName,
        notBefore: new Date(window.notBefore),
        notAfter: new Date(window.notAfter),
        publicKey: keys.publicKey,
        signingKey: authority.signingKey,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(keyUsage, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, nodeCrypto),
          caKeyId === undefined
            ? await x509.AuthorityKeyIdentifierExtension.create(
                authority.certificate.publicKey,
                false,
                nodeCrypto,
              )
            : new x509.AuthorityKeyIdentifierExtension(caKeyId, false),
          // RFC 5280 4.2.1.6: with an empty subject, the SAN extension must be critical.
          new x509.SubjectAlternativeNameExtension(
            dnsNames.map((value) => ({ type: 'dns' as const, value })),
            commonName === undefined,
          ),
        ],
      },
      nodeCrypto,
    );
    const certificatePem = pem(certificate.rawData, 'CERTIFICATE');
    return Object.freeze({
      certificatePem,
      privateKeyPem: await exportPrivateKeyPem(keys.privateKey),
      notBefore: certificate.notBefore,
      notAfter: certificate.notAfter,
      serialNumber: certificate.serialNumber,
      chainPem: certificatePem + authority.certificatePem,
      caPem: authority.certificatePem,
      dnsNames: Object.freeze(dnsNames),
    });
  });
}

/**
 * When a certificate should be renewed: `notAfter − renewBeforeFraction × (notAfter − notBefore)`,
 * rounded to the millisecond. With the default fraction of 1/3 a 90-day certificate is renewed 30 days
 * before it expires. Pure and synchronous; the result always lies within `[notBefore, notAfter]`.
 *
 * @param cert - Anything with `notBefore` and `notAfter` dates, e.g. an {@link IssuedCertificate}.
 * @param options - See {@link RenewalTimeOptions}. Default `renewBeforeFraction` 1/3.
 * @throws `ZonekeeperError` `INVALID_INPUT` if a date is missing or invalid, `notAfter` is not after
 *   `notBefore`, or `renewBeforeFraction` is not a number strictly between 0 and 1.
 * @public
 */
export function renewalTime(
  cert: { readonly notBefore: Date; readonly notAfter: Date },
  options: RenewalTimeOptions = {},
): Date {
  const input = requireOptionsObject(cert, 'renewalTime certificate');
  const opts = requireOptionsObject(options, 'renewalTime options');
  const { notBefore, notAfter } = input;
  if (!isValidDate(notBefore) || !isValidDate(notAfter)) {
    throw invalidInput('renewalTime needs valid notBefore and notAfter dates.');
  }
  const start = notBefore.getTime();
  const end = notAfter.getTime();
  if (end <= start) {
    throw invalidInput(
      `notAfter (${notAfter.toISOString()}) must be after notBefore (${notBefore.toISOString()}).`,
    );
  }
  const fraction =
    opts.renewBeforeFraction === undefined
      ? certificateDefaults.renewBeforeFraction
      : opts.renewBeforeFraction;
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1)) {
    throw invalidInput(
      `renewBeforeFraction must be a number strictly between 0 and 1, got ${describe(fraction)}.`,
    );
  }
  return new Date(end - Math.round(fraction * (end - start)));
}
