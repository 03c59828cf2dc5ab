/**
 * The pure crypto core of cert-issuer: a per-organisation certificate authority, TLS server
 * certificates signed by it, and the time a certificate should be renewed.
 *
 * Everything here is data in, data out: no I/O, no clock (callers pass `now`; only the public functions
 * default it to `new Date()`). The one piece of state is a bounded cache of parsed CAs (see
 * {@link issueServerCertificate}).
 *
 * Keys are generated and signatures made with `node:crypto` (ECDSA keys synchronously — a tenth of a
 * millisecond; RSA keys on the libuv thread pool, so the event loop never waits for a prime search).
 * Certificates are encoded from a template (`der.ts`): the fixed parts are constants, only the serial,
 * validity, names, keys and key identifiers are filled in. `@peculiar/x509` parses and checks a CA given
 * by the caller, once per CA, loaded on first use (`x509-runtime.ts`) so that importing this package
 * does not load it. See docs/decisions.md ("Certificate encoding").
 *
 * Invalid input rejects with a `ZonekeeperError` of code `INVALID_INPUT` before anything is generated.
 * No message or `details` ever contains a private key.
 */

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair as generateKeyPairAsync,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto';
import {
  describeValue,
  ErrorCodes,
  invalidInput,
  isWithinDomain,
  isZonekeeperError,
  normalizeDomainName,
  normalizeHostname,
  ZonekeeperError,
} from '@zonekeeper/core';
import {
  bitString,
  context,
  type DerElement,
  children as derChildren,
  extension,
  oid,
  readCertificateFields,
  readElement,
  sequence,
  set,
  smallInteger,
  subjectPublicKeyBits,
  TRUE,
  time,
  tlv,
  unsignedInteger,
  utf8String,
} from './der.js';

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
  /** Validity of a new intermediate CA ({@link issueIntermediateCertificateAuthority}), in days. */
  intermediateValidityDays: 365,
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
  /**
   * X.509 name constraints: the DNS domains this CA may certify, e.g. the organisation's zone
   * `['acme.example.com']` (which covers the zone and every name below it). When given, the CA carries a
   * critical name constraints extension with these permitted dNSName subtrees, so that a verifier
   * rejects any certificate it signs for another name (openssl: "permitted subtree violation"), and
   * {@link issueServerCertificate} refuses such names before signing. 1–10 domains, no wildcards.
   * Default: no constraints.
   */
  readonly permittedDnsDomains?: readonly string[];
  /**
   * The basic constraints path length: `0` (default) lets the CA sign server certificates only; `1` also
   * lets it sign intermediates that sign server certificates ({@link issueIntermediateCertificateAuthority},
   * for cert-manager's CA `Issuer`), never deeper.
   */
  readonly pathLength?: 0 | 1;
}

/**
 * Options of {@link issueIntermediateCertificateAuthority}.
 * @public
 */
export interface IntermediateCertificateAuthorityOptions {
  /** The intermediate's subject common name: 1–64 characters, no control characters. */
  readonly commonName: string;
  /**
   * The DNS domains it may certify (critical name constraints, as in
   * {@link CertificateAuthorityOptions.permittedDnsDomains}); required, and each must lie within the
   * parent's own constraints when it has any. 1–10 domains, no wildcards.
   */
  readonly permittedDnsDomains: readonly string[];
  /** Validity in whole days, 1–9125, never beyond the parent's `notAfter`. Default 365. */
  readonly validityDays?: number;
  /** Its key algorithm. Default `'ECDSA_P256'`. */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** The issuance time. Default `new Date()`. `notBefore` is 5 minutes earlier. */
  readonly now?: Date;
}

/**
 * An intermediate CA issued by {@link issueIntermediateCertificateAuthority}: usable wherever a
 * {@link CertificateAuthority} is (its PEMs sign server certificates), plus its chain.
 * @public
 */
export interface IntermediateCertificateAuthority extends CertificateAuthority {
  /** The intermediate followed by the parent's certificate, PEM. */
  readonly chainPem: string;
  /** The parent's certificate, PEM: what clients trust. */
  readonly caPem: string;
  /** Its permitted DNS domains, normalised. */
  readonly permittedDnsDomains: readonly string[];
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

// ---------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------

function isValidDate(value: unknown): value is Date {
  return (
    Object.prototype.toString.call(value) === '[object Date]' && !Number.isNaN((value as Date).getTime())
  );
}

function requireOptionsObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidInput(`${what} must be an object, got ${describeValue(value)}.`);
  }
  return value as Record<string, unknown>;
}

function resolveNow(value: unknown): number {
  if (value === undefined) return Date.now();
  if (!isValidDate(value)) {
    throw invalidInput(`Option "now" must be a valid Date, got ${describeValue(value)}.`);
  }
  return value.getTime();
}

function resolveKeyAlgorithm(value: unknown): KeyAlgorithm {
  if (value === undefined) return certificateDefaults.keyAlgorithm;
  if (typeof value === 'string' && (KEY_ALGORITHMS as readonly string[]).includes(value)) {
    return value as KeyAlgorithm;
  }
  throw invalidInput(
    `Unknown keyAlgorithm ${describeValue(value)}; use one of ${KEY_ALGORITHMS.map((a) => `"${a}"`).join(', ')}.`,
    { keyAlgorithm: typeof value === 'string' ? value : typeof value },
  );
}

function resolveValidityDays(value: unknown, fallback: number, max: number, what: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalidInput(
      `${what} validityDays must be a whole number of days from 1 to ${max}, got ${describeValue(value)}.`,
      { validityDays: typeof value === 'number' ? value : typeof value, max },
    );
  }
  return value;
}

function validateCommonName(value: unknown): string {
  if (typeof value !== 'string') {
    throw invalidInput(`CA commonName must be a string, got ${describeValue(value)}.`);
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
    throw invalidInput(`CA commonName ${describeValue(value)} contains control characters.`);
  }
  return value;
}

function normalizeDnsNames(value: unknown): string[] {
  if (!Array.isArray(value)) {
    throw invalidInput(`dnsNames must be an array of DNS names, got ${describeValue(value)}.`);
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

const MAX_PERMITTED_DOMAINS = 10;

function normalizePermittedDomains(value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_PERMITTED_DOMAINS) {
    throw invalidInput(
      `permittedDnsDomains must be an array of 1 to ${MAX_PERMITTED_DOMAINS} DNS domains, got ${describeValue(value)}.`,
    );
  }
  const domains: string[] = [];
  for (const raw of value) {
    if (typeof raw === 'string' && raw.includes('*')) {
      throw invalidInput(
        `permittedDnsDomains ${describeValue(raw)} has a wildcard; give the domain itself (it covers every name below it).`,
      );
    }
    const domain = normalizeDomainName(raw, 'A permitted DNS domain');
    if (!domains.includes(domain)) domains.push(domain);
  }
  return Object.freeze(domains);
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
// Keys, PEM and the certificate template
// ---------------------------------------------------------------------------------------------------

const PKCS8_PEM = /^-----BEGIN PRIVATE KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END PRIVATE KEY-----$/;
const CERTIFICATE_PEM = /^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----$/;

/** PEM with 64-character lines, ending with a newline. */
function pem(der: Uint8Array, tag: string): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.length).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
  return `-----BEGIN ${tag}-----\n${lines.join('\n')}\n-----END ${tag}-----\n`;
}

/** A random, positive, 16-byte serial number: the top bit is clear and the next one set, so its value
 * always has 127 bits (126 of them random) and DER needs no sign byte. */
function randomSerialNumber(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x40;
  return bytes;
}

interface KeyPair {
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
}

/**
 * A new key pair: ECDSA P-256 synchronously (about 0.1 ms), RSA-2048 on the libuv thread pool (a prime
 * search of 50–500 ms that must not block the event loop).
 */
function generateKeyPair(algorithm: KeyAlgorithm): KeyPair | Promise<KeyPair> {
  if (algorithm === 'ECDSA_P256') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return new Promise((resolve, reject) =>
    generateKeyPairAsync(
      'rsa',
      { modulusLength: 2048, publicExponent: 0x10001 },
      (error, publicKey, privateKey) => (error ? reject(error) : resolve({ publicKey, privateKey })),
    ),
  );
}

function spkiOf(key: KeyObject): Uint8Array {
  return key.export({ type: 'spki', format: 'der' });
}

function pkcs8PemOf(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(spki: Uint8Array): Uint8Array {
  return createHash('sha1').update(subjectPublicKeyBits(spki)).digest();
}

const VERSION_3 = context(0, smallInteger(2));
const OID_COMMON_NAME = oid('2.5.4.3');
const OID_BASIC_CONSTRAINTS = oid('2.5.29.19');
const OID_KEY_USAGE = oid('2.5.29.15');
const OID_EXTENDED_KEY_USAGE = oid('2.5.29.37');
const OID_SUBJECT_KEY_IDENTIFIER = oid('2.5.29.14');
const OID_AUTHORITY_KEY_IDENTIFIER = oid('2.5.29.35');
const OID_SUBJECT_ALT_NAME = oid('2.5.29.17');
const OID_NAME_CONSTRAINTS = oid('2.5.29.30');
const NAME_CONSTRAINTS_OID = '2.5.29.30';
const BASIC_CONSTRAINTS_OID = '2.5.29.19';
const SUBJECT_KEY_IDENTIFIER_OID = '2.5.29.14';

/** The signature AlgorithmIdentifiers: ecdsa-with-SHA256 (no parameters), sha256WithRSAEncryption (NULL). */
const SIGNATURE_ALGORITHM = {
  ec: sequence(oid('1.2.840.10045.4.3.2')),
  rsa: sequence(oid('1.2.840.113549.1.1.11'), Uint8Array.of(0x05, 0x00)),
} as const;
type SignerType = keyof typeof SIGNATURE_ALGORITHM;

// The constant extensions, encoded once.
const LEAF_BASIC_CONSTRAINTS = extension(OID_BASIC_CONSTRAINTS, true, sequence()); // CA:FALSE
const CA_BASIC_CONSTRAINTS = extension(OID_BASIC_CONSTRAINTS, true, sequence(TRUE, smallInteger(0))); // CA:TRUE, pathlen:0
const CA_BASIC_CONSTRAINTS_PATHLEN_1 = extension(
  OID_BASIC_CONSTRAINTS,
  true,
  sequence(TRUE, smallInteger(1)),
);
/** KeyUsage BIT STRINGs (RFC 5280 4.2.1.3; DER drops trailing zero bits). */
const LEAF_KEY_USAGE = {
  ECDSA_P256: extension(OID_KEY_USAGE, true, Uint8Array.of(0x03, 0x02, 0x07, 0x80)), // digitalSignature
  RSA_2048: extension(OID_KEY_USAGE, true, Uint8Array.of(0x03, 0x02, 0x05, 0xa0)), // + keyEncipherment
} as const;
const CA_KEY_USAGE = extension(OID_KEY_USAGE, true, Uint8Array.of(0x03, 0x02, 0x01, 0x06)); // keyCertSign, cRLSign
const SERVER_AUTH = extension(OID_EXTENDED_KEY_USAGE, false, sequence(oid('1.3.6.1.5.5.7.3.1')));

const ascii = new TextEncoder();

/** A Name with one CN (UTF8String, as given: no RFC 4514 parsing), or the empty Name. */
function name(commonName: string | undefined): Uint8Array {
  return commonName === undefined
    ? sequence()
    : sequence(set(sequence(OID_COMMON_NAME, utf8String(commonName))));
}

/** `dNSName` GeneralNames ([2] IMPLICIT IA5String). */
function dnsGeneralNames(names: readonly string[]): Uint8Array[] {
  return names.map((n) => tlv(0x82, ascii.encode(n)));
}

function subjectKeyIdentifier(keyId: Uint8Array): Uint8Array {
  return extension(OID_SUBJECT_KEY_IDENTIFIER, false, tlv(0x04, keyId));
}

/** NameConstraints { permittedSubtrees [0] { GeneralSubtree { base dNSName } … } }, critical. */
function nameConstraints(domains: readonly string[]): Uint8Array {
  const subtrees = dnsGeneralNames(domains).map((base) => sequence(base));
  return extension(OID_NAME_CONSTRAINTS, true, sequence(context(0, ...subtrees)));
}

/** Encodes the TBSCertificate, signs it and returns the certificate's DER. */
function signCertificate(
  fields: {
    readonly serial: Uint8Array;
    readonly signer: SignerType;
    readonly issuer: Uint8Array;
    readonly notBefore: number;
    readonly notAfter: number;
    readonly subject: Uint8Array;
    readonly spki: Uint8Array;
    readonly extensions: readonly Uint8Array[];
  },
  signingKey: KeyObject,
): Uint8Array {
  const algorithm = SIGNATURE_ALGORITHM[fields.signer];
  const tbs = sequence(
    VERSION_3,
    unsignedInteger(fields.serial),
    algorithm,
    fields.issuer,
    sequence(time(fields.notBefore), time(fields.notAfter)),
    fields.subject,
    fields.spki,
    context(3, sequence(...fields.extensions)),
  );
  // ECDSA signatures come DER-encoded (Ecdsa-Sig-Value), RSA ones PKCS#1 v1.5: what X.509 wants.
  return sequence(tbs, algorithm, bitString(sign('sha256', tbs, signingKey)));
}

// ---------------------------------------------------------------------------------------------------
// Loading a CA given by the caller (parsed once per CA)
// ---------------------------------------------------------------------------------------------------

/** What issuing needs from a CA, parsed and checked once. */
interface Authority {
  /** The CA certificate as PEM, re-encoded from its DER (canonical line breaks). */
  readonly certificatePem: string;
  readonly signingKey: KeyObject;
  readonly signer: SignerType;
  /** The CA's subject exactly as encoded in its certificate, so that name chaining is byte-exact. */
  readonly subject: Uint8Array;
  /** The CA's subject key identifier (or one computed from its key when it has none): the leaves' AKI. */
  readonly keyId: Uint8Array;
  readonly notBefore: number;
  readonly notAfter: number;
  /** The permitted dNSName subtrees of its name constraints; undefined without name constraints. */
  readonly permittedDnsDomains: readonly string[] | undefined;
  /** Its basic constraints path length; undefined when unlimited. */
  readonly pathLength: number | undefined;
  readonly subjectText: string;
}

function signerOf(key: KeyObject): SignerType | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1') return 'ec';
  if (key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048) return 'rsa';
  return undefined;
}

function sameBytes(a: ArrayBuffer | Uint8Array, b: ArrayBuffer | Uint8Array): boolean {
  const x = a instanceof Uint8Array ? a : new Uint8Array(a);
  const y = b instanceof Uint8Array ? b : new Uint8Array(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** The permitted dNSName bases of a NameConstraints extension value (other name forms are ignored). */
function permittedDnsDomainsOf(value: Uint8Array): string[] {
  const constraints = readElement(value, 0);
  const permitted = derChildren(value, constraints).find((e) => e.tag === 0xa0);
  if (!permitted) return [];
  const out: string[] = [];
  for (const subtree of derChildren(value, permitted)) {
    const base = derChildren(value, subtree)[0] as DerElement | undefined;
    if (base?.tag === 0x82)
      out.push(Buffer.from(value.subarray(base.contentStart, base.end)).toString('latin1').toLowerCase());
  }
  return out;
}

/**
 * Parses and checks a CA given by the caller: one PEM certificate that is a CA allowed to sign
 * certificates, an unencrypted PKCS#8 key of a supported algorithm, and the key must belong to the
 * certificate. Messages never quote the PEMs.
 */
async function loadAuthority(certificatePem: string, privateKeyPem: string): Promise<Authority> {
  if (!CERTIFICATE_PEM.test(certificatePem.trim())) {
    throw invalidInput(
      'CA certificatePem must be exactly one PEM certificate ("-----BEGIN CERTIFICATE-----").',
    );
  }
  const { x509 } = await import('./x509-runtime.js');
  let certificate: InstanceType<typeof x509.X509Certificate>;
  let der: Uint8Array;
  let fields: ReturnType<typeof readCertificateFields>;
  try {
    certificate = new x509.X509Certificate(certificatePem.trim());
    // Touch the fields used below so that a malformed certificate fails here.
    void certificate.notAfter;
    void certificate.publicKey.rawData;
    der = new Uint8Array(certificate.rawData);
    fields = readCertificateFields(der);
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
  if (!PKCS8_PEM.test(privateKeyPem.trim())) {
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
  const signer = signerOf(key);
  if (signer === undefined) {
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
  const ski = fields.extensions.get(SUBJECT_KEY_IDENTIFIER_OID);
  let keyId: Uint8Array;
  if (ski) {
    const octets = readElement(ski.value, 0);
    keyId = ski.value.slice(octets.contentStart, octets.end);
  } else {
    keyId = keyIdentifier(fields.subjectPublicKeyInfo);
  }
  const nc = fields.extensions.get(NAME_CONSTRAINTS_OID);
  return {
    certificatePem: pem(der, 'CERTIFICATE'),
    signingKey: key,
    signer,
    subject: fields.subject.slice(),
    keyId,
    notBefore: certificate.notBefore.getTime(),
    notAfter: certificate.notAfter.getTime(),
    permittedDnsDomains: nc === undefined ? undefined : Object.freeze(permittedDnsDomainsOf(nc.value)),
    pathLength: constraints.pathLength,
    subjectText: certificate.subject,
  };
}

/**
 * The permitted DNS domains of a certificate's name constraints, read from its PEM without loading
 * `@peculiar/x509`; `undefined` when it has no name constraints extension (or does not parse).
 * @internal
 */
export function permittedDnsDomainsOfCertificate(certificatePem: string): readonly string[] | undefined {
  try {
    const body = certificatePem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
    const nc = readCertificateFields(new Uint8Array(Buffer.from(body, 'base64'))).extensions.get(
      NAME_CONSTRAINTS_OID,
    );
    return nc === undefined ? undefined : permittedDnsDomainsOf(nc.value);
  } catch {
    return undefined;
  }
}

/**
 * Whether a CA certificate may sign an intermediate CA (its basic constraints path length is absent or
 * at least 1), read from its PEM; `false` for a certificate that is not a CA, or that does not parse.
 * @public
 */
export function canSignIntermediates(certificatePem: string): boolean {
  try {
    const body = certificatePem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
    const bc = readCertificateFields(new Uint8Array(Buffer.from(body, 'base64'))).extensions.get(
      BASIC_CONSTRAINTS_OID,
    );
    if (bc === undefined) return false;
    const seq = readElement(bc.value, 0);
    const items = derChildren(bc.value, seq);
    const ca = items[0]?.tag === 0x01 && bc.value[items[0].contentStart] !== 0;
    if (!ca) return false;
    const pathLength = items.find((e) => e.tag === 0x02);
    if (pathLength === undefined) return true;
    let n = 0;
    for (let i = pathLength.contentStart; i < pathLength.end; i++) n = n * 256 + (bc.value[i] as number);
    return n >= 1;
  } catch {
    return false;
  }
}

/** How many parsed CAs are kept (least recently used dropped first). */
const AUTHORITY_CACHE_SIZE = 64;
const authorities = new Map<string, { readonly privateKeyPem: string; readonly authority: Authority }>();

/**
 * The parsed CA for `ca`, from the cache when this certificate and key were parsed before. The cache is
 * keyed by the certificate PEM and holds the key PEM only to compare it (a CA given with another key is
 * parsed and checked again); failed parses are not cached.
 */
async function authorityOf(ca: unknown): Promise<Authority> {
  if (typeof ca !== 'object' || ca === null) {
    throw invalidInput(`The CA must be a CertificateAuthority object, got ${describeValue(ca)}.`);
  }
  const { certificatePem, privateKeyPem } = ca as Partial<Record<keyof CertificateAuthority, unknown>>;
  if (typeof certificatePem !== 'string') {
    throw invalidInput(
      'CA certificatePem must be exactly one PEM certificate ("-----BEGIN CERTIFICATE-----").',
    );
  }
  const hit = authorities.get(certificatePem);
  if (hit !== undefined && hit.privateKeyPem === privateKeyPem) {
    authorities.delete(certificatePem); // most recently used last
    authorities.set(certificatePem, hit);
    return hit.authority;
  }
  // A key that is not a string fails loadAuthority's PKCS#8 check, after the certificate's checks.
  const keyPem = typeof privateKeyPem === 'string' ? privateKeyPem : '';
  const authority = await loadAuthority(certificatePem, keyPem);
  authorities.delete(certificatePem);
  authorities.set(certificatePem, { privateKeyPem: keyPem, authority });
  if (authorities.size > AUTHORITY_CACHE_SIZE) authorities.delete(authorities.keys().next().value as string);
  return authority;
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

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

/**
 * Creates a certificate authority: a new key pair and a self-signed CA certificate.
 *
 * The certificate has subject `CN=<commonName>`, basic constraints `CA:TRUE, pathlen:0` (critical: it
 * signs server certificates only, no intermediates), key usage `keyCertSign, cRLSign` (critical), a
 * subject key identifier, with `permittedDnsDomains` critical name constraints, a random positive
 * 126-bit serial number, SHA-256 signature, `notBefore` = `now` − 5 minutes and `notAfter` = `now` +
 * `validityDays` (both in whole seconds).
 *
 * @param options - See {@link CertificateAuthorityOptions}. Defaults: `validityDays` 3650,
 *   `keyAlgorithm` `'ECDSA_P256'`, `now` `new Date()`, no name constraints.
 * @returns The CA; its `privateKeyPem` is a secret.
 * @throws `ZonekeeperError` `INVALID_INPUT` (the promise rejects, nothing is generated) for a missing,
 *   blank, over-long (> 64) or control-character common name, a validity outside 1–9125 whole days, an
 *   invalid `now`, an unknown `keyAlgorithm` or invalid `permittedDnsDomains`.
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
  const permitted = normalizePermittedDomains(input.permittedDnsDomains);
  const pathLength = input.pathLength ?? 0;
  if (pathLength !== 0 && pathLength !== 1) {
    throw invalidInput(`pathLength must be 0 or 1, got ${describeValue(input.pathLength)}.`);
  }

  return unexpected('Creating the certificate authority', async () => {
    const keys = await generateKeyPair(keyAlgorithm);
    const spki = spkiOf(keys.publicKey);
    const subject = name(commonName);
    const serial = randomSerialNumber();
    const der = signCertificate(
      {
        serial,
        signer: keyAlgorithm === 'ECDSA_P256' ? 'ec' : 'rsa',
        issuer: subject,
        notBefore: window.notBefore,
        notAfter: window.notAfter,
        subject,
        spki,
        extensions: [
          pathLength === 0 ? CA_BASIC_CONSTRAINTS : CA_BASIC_CONSTRAINTS_PATHLEN_1,
          CA_KEY_USAGE,
          subjectKeyIdentifier(keyIdentifier(spki)),
          ...(permitted === undefined ? [] : [nameConstraints(permitted)]),
        ],
      },
      keys.privateKey,
    );
    return Object.freeze({
      certificatePem: pem(der, 'CERTIFICATE'),
      privateKeyPem: pkcs8PemOf(keys.privateKey),
      notBefore: new Date(window.notBefore),
      notAfter: new Date(window.notAfter),
      serialNumber: hex(serial),
    });
  });
}

/**
 * Issues an intermediate CA signed by `parent`, with a new key pair: subject `CN=<commonName>`, basic
 * constraints `CA:TRUE, pathlen:0` (critical: it signs server certificates only), key usage
 * `keyCertSign, cRLSign` (critical), subject and authority key identifiers, and critical name
 * constraints permitting only `permittedDnsDomains`. This is how the organisation's CA is given to
 * cert-manager's CA `Issuer` (which must hold its signing key in a Secret) while the organisation's own
 * key stays in Vault: a leaked intermediate key can sign nothing a verifier accepts outside the zone,
 * and the intermediate is replaced by issuing a new one.
 *
 * @param parent - The signing CA. It must allow an intermediate below it: basic constraints without a
 *   path length, or with one of at least 1 (`createCertificateAuthority({ pathLength: 1 })`).
 * @throws `ZonekeeperError` `INVALID_INPUT` (nothing is generated) for: a parent that is not a CA, does
 *   not match its key, has `pathlen:0`, has expired or is not valid yet; domains outside the parent's
 *   name constraints; a validity outside 1–9125 days or beyond the parent's `notAfter`; an invalid
 *   common name, `now` or key algorithm; missing or invalid `permittedDnsDomains`.
 * @public
 */
export async function issueIntermediateCertificateAuthority(
  parent: CertificateAuthority,
  options: IntermediateCertificateAuthorityOptions,
): Promise<IntermediateCertificateAuthority> {
  const input = requireOptionsObject(options, 'issueIntermediateCertificateAuthority options');
  const commonName = validateCommonName(input.commonName);
  const days = resolveValidityDays(
    input.validityDays,
    certificateDefaults.intermediateValidityDays,
    certificateDefaults.maxCaValidityDays,
    'Intermediate CA',
  );
  const keyAlgorithm = resolveKeyAlgorithm(input.keyAlgorithm);
  const nowMs = resolveNow(input.now);
  const window = validityWindow(nowMs, days);
  if (input.permittedDnsDomains === undefined) {
    throw invalidInput(
      'An intermediate CA needs permittedDnsDomains (the organisation’s zone): an unconstrained intermediate could certify any name.',
    );
  }
  const permitted = normalizePermittedDomains(input.permittedDnsDomains) as readonly string[];
  const authority = await authorityOf(parent);
  if (authority.pathLength !== undefined && authority.pathLength < 1) {
    throw invalidInput(
      `The parent CA (subject ${JSON.stringify(authority.subjectText)}) has pathlen:${authority.pathLength} and may not sign intermediates; create it with pathLength: 1.`,
    );
  }
  if (authority.notAfter <= nowMs || authority.notBefore > nowMs) {
    throw invalidInput(
      `The parent CA is not valid at ${new Date(nowMs).toISOString()} (${new Date(authority.notBefore).toISOString()} to ${new Date(authority.notAfter).toISOString()}).`,
    );
  }
  if (window.notAfter > authority.notAfter) {
    throw invalidInput(
      `An intermediate valid for ${days} days would expire at ${new Date(window.notAfter).toISOString()}, after its parent (${new Date(authority.notAfter).toISOString()}); use a shorter validityDays.`,
      { validityDays: days, caNotAfter: new Date(authority.notAfter).toISOString() },
    );
  }
  const parentPermitted = authority.permittedDnsDomains;
  if (parentPermitted !== undefined) {
    const outside = permitted.filter((d) => !parentPermitted.some((p) => isWithinDomain(d, p)));
    if (outside.length > 0) {
      throw invalidInput(
        `${outside.join(', ')} ${outside.length === 1 ? 'lies' : 'lie'} outside the parent CA's name constraints (${parentPermitted.join(', ') || 'none permitted'}).`,
        { outside, permitted: [...parentPermitted] },
      );
    }
  }

  return unexpected('Issuing the intermediate CA', async () => {
    const keys = await generateKeyPair(keyAlgorithm);
    const spki = spkiOf(keys.publicKey);
    const serial = randomSerialNumber();
    const der = signCertificate(
      {
        serial,
        signer: authority.signer,
        issuer: authority.subject,
        notBefore: window.notBefore,
        notAfter: window.notAfter,
        subject: name(commonName),
        spki,
        extensions: [
          CA_BASIC_CONSTRAINTS,
          CA_KEY_USAGE,
          subjectKeyIdentifier(keyIdentifier(spki)),
          extension(OID_AUTHORITY_KEY_IDENTIFIER, false, sequence(tlv(0x80, authority.keyId))),
          nameConstraints(permitted),
        ],
      },
      authority.signingKey,
    );
    const certificatePem = pem(der, 'CERTIFICATE');
    return Object.freeze({
      certificatePem,
      privateKeyPem: pkcs8PemOf(keys.privateKey),
      notBefore: new Date(window.notBefore),
      notAfter: new Date(window.notAfter),
      serialNumber: hex(serial),
      chainPem: certificatePem + authority.certificatePem,
      caPem: authority.certificatePem,
      permittedDnsDomains: Object.freeze([...permitted]),
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
 * The CA is parsed and checked on its first use and kept, parsed, in a cache of the 64 most recently
 * used CAs (keyed by the certificate PEM; the key PEM must be the same too), so issuing many
 * certificates from one CA parses it once.
 *
 * @param ca - The issuing CA. Its PEMs are parsed and checked: the certificate must be a CA allowed to
 *   sign certificates (basic constraints CA:TRUE, keyCertSign when key usage is present) and the
 *   unencrypted PKCS#8 key (ECDSA P-256 or RSA ≥ 2048) must be the certificate's.
 * @param options - See {@link ServerCertificateOptions}. Defaults: `validityDays` 90, `keyAlgorithm`
 *   `'ECDSA_P256'`, `now` `new Date()`.
 * @returns The certificate, its private key (a secret), the chain (leaf then CA) and the CA certificate.
 * @throws `ZonekeeperError` `INVALID_INPUT` (the promise rejects, nothing is issued) for: no names; a name
 *   that is not a valid DNS name; a wildcard other than a whole left-most label; an IP address; more than
 *   100 distinct names; a name outside the CA's name constraints; a validity outside 1–397 whole days; a
 *   certificate that would outlive its CA or start before the CA is valid; an invalid `now`; an unknown
 *   `keyAlgorithm`; a CA whose PEMs do not parse, which is not a CA, or whose key does not match its
 *   certificate.
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
  const authority = await authorityOf(ca);

  const caNotBefore = authority.notBefore;
  const caNotAfter = authority.notAfter;
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
  const permitted = authority.permittedDnsDomains;
  if (permitted !== undefined) {
    const outside = dnsNames.filter(
      (n) => !permitted.some((domain) => isWithinDomain(n.replace(/^\*\./, ''), domain)),
    );
    if (outside.length > 0) {
      throw invalidInput(
        `${outside.join(', ')} ${outside.length === 1 ? 'is' : 'are'} outside the names this CA may certify (name constraints: ${permitted.join(', ') || 'none permitted'}).`,
        { outside, permitted: [...permitted] },
      );
    }
  }

  return unexpected('Issuing the server certificate', async () => {
    const keys = await generateKeyPair(keyAlgorithm);
    const spki = spkiOf(keys.publicKey);
    const first = dnsNames[0] as string;
    const commonName = first.length <= certificateDefaults.maxCommonNameLength ? first : undefined;
    const serial = randomSerialNumber();
    const der = signCertificate(
      {
        serial,
        signer: authority.signer,
        issuer: authority.subject,
        notBefore: window.notBefore,
        notAfter: window.notAfter,
        subject: name(commonName),
        spki,
        extensions: [
          LEAF_BASIC_CONSTRAINTS,
          LEAF_KEY_USAGE[keyAlgorithm],
          SERVER_AUTH,
          subjectKeyIdentifier(keyIdentifier(spki)),
          extension(OID_AUTHORITY_KEY_IDENTIFIER, false, sequence(tlv(0x80, authority.keyId))),
          // RFC 5280 4.2.1.6: with an empty subject, the SAN extension must be critical.
          extension(OID_SUBJECT_ALT_NAME, commonName === undefined, sequence(...dnsGeneralNames(dnsNames))),
        ],
      },
      authority.signingKey,
    );
    const certificatePem = pem(der, 'CERTIFICATE');
    return Object.freeze({
      certificatePem,
      privateKeyPem: pkcs8PemOf(keys.privateKey),
      notBefore: new Date(window.notBefore),
      notAfter: new Date(window.notAfter),
      serialNumber: hex(serial),
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
      `renewBeforeFraction must be a number strictly between 0 and 1, got ${describeValue(fraction)}.`,
    );
  }
  return new Date(end - Math.round(fraction * (end - start)));
}
