/**
 * Benchmark 4: TLS server (leaf) certificates issued per second, one at a time, in the same run:
 *
 * - cert-issuer `issueServerCertificate(ca, { dnsNames: [one name], keyAlgorithm })`: validates the
 *   input, takes the parsed CA from its cache (the CA is parsed and checked on first use), generates the
 *   leaf key pair with `node:crypto` (ECDSA synchronously, RSA on the thread pool), encodes the
 *   certificate from its DER template (SAN, key usages, EKU serverAuth, SKI/AKI, basic constraints), signs
 *   it with the CA key, and exports the certificate, PKCS#8 key and chain as PEM.
 * - The floor, an **equivalent certificate** by the shortest path there is: the DER of a certificate
 *   cert-issuer issued is a fixed template; each iteration generates a key pair, exports its SPKI and
 *   its PKCS#8 PEM, computes the SKI, patches serial, validity, SPKI and SKI into a copy of the template
 *   at fixed offsets, signs it with the CA key and writes the PEM. Same bytes in, same kind of output
 *   out, no encoder at all.
 * - For reference: the cryptography alone (`generateKeyPairSync` + one `crypto.sign` of 600 bytes, no
 *   certificate), and for RSA the key generation alone (`generateKeyPairSync`), which is most of an RSA
 *   issuance.
 * - node-forge 1.4.3 doing the same certificate (same extensions, signed by the same CA, certificate and
 *   PKCS#8 key exported as PEM). RSA only: node-forge has no ECDSA. Two rows: forge's default, where
 *   `generateKeyPair` hands RSA key generation to `node:crypto` (`generateKeyPairSync`) and everything
 *   else — ASN.1, the RSA signature with big integers — is JavaScript; and forge in pure JavaScript
 *   (`forge.options.usePureJavaScript = true`, as in a browser), which generates the RSA primes itself.
 *
 * The rows of one key algorithm run **interleaved** — one issuance of each in turn, until the time box is
 * over and every row has its minimum count — so that load from other processes on a shared machine falls
 * on all rows alike (pure-JavaScript forge, 100× slower, runs on its own afterwards). The rate is
 * 1,000 ÷ mean ms, with a 95 % confidence interval of the mean, and the ratio to cert-issuer has one too
 * (delta method). ECDSA rows use a P-256 CA, RSA rows an RSA-2048 CA (SHA-256 both). Every
 * implementation's output is verified against the CA key once before it is timed.
 *
 * `--quick` (or BENCH_QUICK=1): shorter time boxes.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  verify,
  X509Certificate,
} from 'node:crypto';
import {
  type CertificateAuthority,
  createCertificateAuthority,
  issueServerCertificate,
  type KeyAlgorithm,
} from '@zonekeeper/cert-issuer';
import forge from 'node-forge';

/** `forge.options` exists at run time (lib/forge.js) but is missing from @types/node-forge 1.3.14. */
const forgeOptions = (forge as unknown as { options: { usePureJavaScript: boolean } }).options;

import { isQuick, load, type Row, report } from './report.js';

const BOX_MS = isQuick() ? 1_000 : 4_000;
/** RSA key generation time varies a lot (it searches for primes): longer boxes, and confidence intervals. */
const RSA_BOX_MS = isQuick() ? 3_000 : 20_000;
const PURE_JS_BOX_MS = isQuick() ? 2_000 : 12_000;
const NAME = 'www.acme.example.com';
const TBS = randomBytes(600);

interface Result {
  readonly iterations: number;
  readonly medianMs: number;
  readonly meanMs: number;
  /** Half-width of the 95 % confidence interval of the mean, in ms. */
  readonly ci95Ms: number;
}

function stats(times: number[]): Result {
  const n = times.length;
  const meanMs = times.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(times.reduce((a, b) => a + (b - meanMs) ** 2, 0) / Math.max(1, n - 1));
  const sorted = [...times].sort((a, b) => a - b);
  return {
    iterations: n,
    medianMs: sorted[Math.floor(n / 2)] as number,
    meanMs,
    ci95Ms: (1.96 * sd) / Math.sqrt(n),
  };
}

/** Runs `fns` in turn, one call each per round, until `boxMs` is over and each ran `minIterations` times. */
async function interleaved(
  fns: readonly (() => unknown)[],
  boxMs: number,
  minIterations: number,
  warmup: number,
) {
  for (let i = 0; i < warmup; i++) for (const fn of fns) await fn();
  const times = fns.map(() => [] as number[]);
  const start = performance.now();
  while ((times[0] as number[]).length < minIterations || performance.now() - start < boxMs) {
    for (const [i, fn] of fns.entries()) {
      const t = performance.now();
      await fn();
      (times[i] as number[]).push(performance.now() - t);
    }
  }
  return times.map(stats);
}

async function timeBox(fn: () => unknown, boxMs: number, minIterations: number, warmup: number) {
  return (await interleaved([fn], boxMs, minIterations, warmup))[0] as Result;
}

// ---- the equivalent-certificate floor ---------------------------------------------------------------

/** The offsets of `needle` in `hay` (exactly one expected). */
function offsetOf(hay: Uint8Array, needle: Uint8Array, what: string): number {
  const at = Buffer.from(hay).indexOf(Buffer.from(needle));
  if (at < 0 || Buffer.from(hay).indexOf(Buffer.from(needle), at + 1) >= 0)
    throw new Error(`floor template: ${what} not found exactly once`);
  return at;
}

/** A DER header for a SEQUENCE (or BIT STRING) of `length` content bytes. */
function header(tag: number, length: number): Buffer {
  return length < 0x80
    ? Buffer.of(tag, length)
    : length < 0x100
      ? Buffer.of(tag, 0x81, length)
      : Buffer.of(tag, 0x82, length >> 8, length & 0xff);
}

function utcTime(ms: number): Buffer {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return Buffer.from(
    `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`,
  );
}

/**
 * The floor: patch a fresh key pair, serial, validity and SKI into the TBS of a certificate cert-issuer
 * issued, sign, wrap, PEM. Works for both algorithms: P-256 and RSA-2048 SPKIs have a fixed length.
 */
function templateFloor(template: IssuedLike, caKey: KeyObject, keyAlgorithm: KeyAlgorithm) {
  const der = new X509Certificate(template.certificatePem).raw;
  // Certificate ::= SEQUENCE { tbs, algorithm, signature }: find the TBS and the algorithm after it.
  const outerLen = der[1] === 0x82 ? 4 : der[1] === 0x81 ? 3 : 2;
  const tbsLenBytes = der[outerLen + 1] === 0x82 ? 4 : der[outerLen + 1] === 0x81 ? 3 : 2;
  const tbsLength =
    tbsLenBytes === 4 ? der.readUInt16BE(outerLen + 2) : (der[outerLen + (tbsLenBytes - 1)] as number);
  const tbs = Buffer.from(der.subarray(outerLen, outerLen + tbsLenBytes + tbsLength));
  const algorithm = Buffer.from(
    der.subarray(
      outerLen + tbs.length,
      outerLen + tbs.length + (der[outerLen + tbs.length + 1] as number) + 2,
    ),
  );
  const spki = createPublicKey(template.certificatePem).export({ type: 'spki', format: 'der' });
  const spkiAt = offsetOf(tbs, spki, 'SPKI');
  const ski = skiOf(spki);
  const skiAt = offsetOf(tbs, ski, 'SKI');
  const serialAt = offsetOf(tbs, Buffer.from(template.serialNumber, 'hex'), 'serial');
  const notBeforeAt = offsetOf(tbs, utcTime(template.notBefore.getTime()), 'notBefore');
  const notAfterAt = offsetOf(tbs, utcTime(template.notAfter.getTime()), 'notAfter');
  return () => {
    const keys =
      keyAlgorithm === 'ECDSA_P256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
    const publicKey = keys.publicKey.export({ type: 'spki', format: 'der' });
    const privateKeyPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const t = Buffer.from(tbs);
    publicKey.copy(t, spkiAt);
    skiOf(publicKey).copy(t, skiAt);
    const serial = randomBytes(16);
    serial[0] = ((serial[0] as number) & 0x7f) | 0x40;
    serial.copy(t, serialAt);
    const now = Math.floor(Date.now() / 1000) * 1000;
    utcTime(now - 5 * 60_000).copy(t, notBeforeAt);
    utcTime(now + 90 * 86_400_000).copy(t, notAfterAt);
    const signature = sign('sha256', t, caKey);
    const bits = Buffer.concat([header(0x03, signature.length + 1), Buffer.of(0), signature]);
    const body = Buffer.concat([t, algorithm, bits]);
    const cert = Buffer.concat([header(0x30, body.length), body]).toString('base64');
    const certificatePem = `-----BEGIN CERTIFICATE-----\n${cert.match(/.{1,64}/g)?.join('\n')}\n-----END CERTIFICATE-----\n`;
    return { certificatePem, privateKeyPem };
  };
}

type IssuedLike = Awaited<ReturnType<typeof issueServerCertificate>>;

/** RFC 5280 method (1) key identifier: SHA-1 of the subjectPublicKey bits of an SPKI. */
function skiOf(spki: Buffer): Buffer {
  // SEQUENCE { AlgorithmIdentifier, BIT STRING }: skip the outer header and the algorithm.
  let at = spki[1] === 0x82 ? 4 : spki[1] === 0x81 ? 3 : 2;
  at += 2 + (spki[at + 1] as number); // the AlgorithmIdentifier (short form)
  const lenByte = spki[at + 1] as number;
  const bitsStart = at + (lenByte === 0x82 ? 4 : lenByte === 0x81 ? 3 : 2) + 1;
  return createHash('sha1').update(spki.subarray(bitsStart)).digest();
}

// ---- cert-issuer ------------------------------------------------------------------------------------

function certIssuer(ca: CertificateAuthority, keyAlgorithm: KeyAlgorithm) {
  return async () => {
    await issueServerCertificate(ca, { dnsNames: [NAME], keyAlgorithm });
  };
}

// ---- node-forge -------------------------------------------------------------------------------------

function forgeIssuer(ca: CertificateAuthority): () => { certificatePem: string; privateKeyPem: string } {
  const caCert = forge.pki.certificateFromPem(ca.certificatePem);
  const caKey = forge.pki.privateKeyFromPem(ca.privateKeyPem);
  return () => {
    const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
    const cert = forge.pki.createCertificate();
    cert.publicKey = keys.publicKey;
    const serial = randomBytes(16);
    serial[0] = ((serial[0] as number) & 0x7f) | 0x40;
    cert.serialNumber = serial.toString('hex');
    const now = Date.now();
    cert.validity.notBefore = new Date(now - 5 * 60_000);
    cert.validity.notAfter = new Date(now + 90 * 86_400_000);
    cert.setSubject([{ name: 'commonName', value: NAME }]);
    cert.setIssuer(caCert.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectKeyIdentifier' },
      { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
      { name: 'subjectAltName', altNames: [{ type: 2, value: NAME }] },
    ]);
    cert.sign(caKey, forge.md.sha256.create());
    return {
      certificatePem: forge.pki.certificateToPem(cert),
      privateKeyPem: forge.pki.privateKeyInfoToPem(
        forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keys.privateKey)),
      ),
    };
  };
}

// ---- raw node:crypto --------------------------------------------------------------------------------

function rawNode(caKey: KeyObject, keyAlgorithm: KeyAlgorithm) {
  return () => {
    if (keyAlgorithm === 'ECDSA_P256') generateKeyPairSync('ec', { namedCurve: 'P-256' });
    else generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
    sign('sha256', TBS, caKey);
  };
}

function checkLeaf(
  certificatePem: string,
  privateKeyPem: string,
  ca: CertificateAuthority,
  what: string,
): void {
  const leaf = new X509Certificate(certificatePem);
  if (!leaf.verify(createPublicKey(ca.certificatePem)))
    throw new Error(`${what}: the leaf does not verify with the CA key`);
  if (!leaf.checkHost(NAME)) throw new Error(`${what}: the leaf is not valid for ${NAME}`);
  if (!leaf.checkPrivateKey(createPrivateKey(privateKeyPem)))
    throw new Error(`${what}: the key is not the leaf's`);
}

const rows: Row[] = [];
const summary: Record<string, unknown> = {};
const cas = {
  ECDSA_P256: await createCertificateAuthority({ commonName: 'bench ECDSA CA', keyAlgorithm: 'ECDSA_P256' }),
  RSA_2048: await createCertificateAuthority({ commonName: 'bench RSA CA', keyAlgorithm: 'RSA_2048' }),
} as const;

for (const keyAlgorithm of ['ECDSA_P256', 'RSA_2048'] as const) {
  const ca = cas[keyAlgorithm];
  const caKey = createPrivateKey(ca.privateKeyPem);
  const rsa = keyAlgorithm === 'RSA_2048';
  const min = rsa ? 40 : 500;
  const box = rsa ? RSA_BOX_MS : BOX_MS;
  const rowsOf: { name: string; fn?: () => unknown; note?: string; r?: Result }[] = [];

  const issued = await issueServerCertificate(ca, { dnsNames: [NAME], keyAlgorithm });
  checkLeaf(issued.certificatePem, issued.privateKeyPem, ca, 'cert-issuer');
  rowsOf.push({ name: 'cert-issuer issueServerCertificate', fn: certIssuer(ca, keyAlgorithm) });

  const floor = templateFloor(issued, caKey, keyAlgorithm);
  const fromFloor = floor();
  checkLeaf(fromFloor.certificatePem, fromFloor.privateKeyPem, ca, 'floor');
  rowsOf.push({ name: 'floor: equivalent certificate (template patched, node:crypto)', fn: floor });

  if (!verify('sha256', TBS, createPublicKey(ca.certificatePem), sign('sha256', TBS, caKey)))
    throw new Error('node:crypto signature does not verify');
  rowsOf.push({
    name: 'crypto only: generateKeyPairSync + sign (no certificate)',
    fn: rawNode(caKey, keyAlgorithm),
  });
  if (rsa) {
    rowsOf.push({
      name: 'RSA key generation only: generateKeyPairSync',
      fn: () => generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 }),
    });
    const issue = forgeIssuer(ca);
    const out = issue();
    checkLeaf(out.certificatePem, out.privateKeyPem, ca, 'node-forge');
    rowsOf.push({ name: 'node-forge (default: native RSA key generation)', fn: issue });
  } else {
    rowsOf.push({ name: 'node-forge', note: 'not supported: node-forge 1.4.3 has no ECDSA' });
  }
  const timedRows = rowsOf.filter((r) => r.fn !== undefined);
  const results = await interleaved(
    timedRows.map((r) => r.fn as () => unknown),
    box,
    min,
    rsa ? 2 : 20,
  );
  timedRows.forEach((r, i) => {
    r.r = results[i] as Result;
  });
  if (rsa) {
    const issue = forgeIssuer(ca);
    forgeOptions.usePureJavaScript = true;
    try {
      rowsOf.push({ name: 'node-forge (pure JavaScript)', r: await timeBox(issue, PURE_JS_BOX_MS, 3, 0) });
    } finally {
      forgeOptions.usePureJavaScript = false;
    }
  }

  const ours = rowsOf[0]?.r as Result;
  const fixed = (x: number) => Number(x.toFixed(x < 10 ? 2 : x < 1000 ? 1 : 0));
  for (const { name, r, note } of rowsOf) {
    // cert-issuer's time ÷ this row's time, with a 95 % interval (delta method on the two means).
    const ratio = r ? ours.meanMs / r.meanMs : Number.NaN;
    const ratioCi = r ? ratio * Math.hypot(ours.ci95Ms / ours.meanMs, r.ci95Ms / r.meanMs) : Number.NaN;
    rows.push({
      leaf: rsa ? 'RSA-2048' : 'ECDSA P-256',
      implementation: name,
      'issued/s': r ? fixed(1000 / r.meanMs) : 'n/a',
      'mean ms': r ? fixed(r.meanMs) : 'n/a',
      '± 95 % ms': r ? fixed(r.ci95Ms) : 'n/a',
      iterations: r ? r.iterations : 'n/a',
      'cert-issuer time ÷ this': r ? `${ratio.toFixed(2)} ± ${ratioCi.toFixed(2)}` : (note ?? 'n/a'),
    });
  }
  summary[keyAlgorithm] = Object.fromEntries(
    rowsOf.map(({ name, r }) => [
      name,
      r ? { perSecond: 1000 / r.meanMs, ratio: ours.meanMs / r.meanMs, ...r } : null,
    ]),
  );
}

report(
  'certificates',
  `Leaf certificates issued per second, one at a time, rows interleaved (time box: ECDSA ${BOX_MS} ms, RSA ${RSA_BOX_MS} ms, pure-JavaScript forge ${PURE_JS_BOX_MS} ms; load ${load().join(' / ')})`,
  rows,
  summary,
);
