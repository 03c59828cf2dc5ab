/**
 * Benchmark 4: TLS server (leaf) certificates issued per second, one at a time, in the same run:
 *
 * - cert-issuer `issueServerCertificate(ca, { dnsNames: [one name], keyAlgorithm })`: validates the
 *   input, parses and checks the CA (certificate PEM, PKCS#8 key, key/certificate match, key import) on
 *   every call, generates the leaf key pair with WebCrypto, builds the certificate with @peculiar/x509
 *   (SAN, key usages, EKU serverAuth, SKI/AKI, basic constraints), signs it with the CA key, and exports
 *   the certificate, PKCS#8 key and chain as PEM.
 * - node-forge 1.4.3 doing the same certificate (same extensions, signed by the same CA, certificate and
 *   PKCS#8 key exported as PEM). RSA only: node-forge has no ECDSA. Two rows: forge's default, where
 *   `generateKeyPair` hands RSA key generation to `node:crypto` (`generateKeyPairSync`) and everything
 *   else — ASN.1, the RSA signature with big integers — is JavaScript; and forge in pure JavaScript
 *   (`forge.options.usePureJavaScript = true`, as in a browser), which generates the RSA primes itself.
 * - The floor, raw `node:crypto`: one key pair (`generateKeyPairSync`) and one SHA-256 signature of a
 *   600-byte buffer by the CA key (`crypto.sign`) — no certificate, no encoding. And the same with
 *   WebCrypto (`subtle.generateKey` + `subtle.sign`, awaited), which is what cert-issuer uses inside.
 *
 * Each row: warm-up, then as many issuances as fit in the time box (at least a minimum count); the
 * rate is issuances ÷ elapsed time. ECDSA rows use a P-256 CA, RSA rows an RSA-2048 CA (SHA-256 both).
 * Every implementation's output is verified against the CA key once before it is timed.
 *
 * `--quick` (or BENCH_QUICK=1): shorter time boxes.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  verify,
  webcrypto,
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

import { isQuick, type Row, report } from './report.js';

const BOX_MS = isQuick() ? 500 : 2_000;
/** RSA key generation time varies a lot (it searches for primes): longer boxes, and a confidence interval. */
const RSA_BOX_MS = isQuick() ? 1_000 : 6_000;
const PURE_JS_BOX_MS = isQuick() ? 2_000 : 12_000;
const NAME = 'www.acme.example.com';
const TBS = randomBytes(600);

interface Result {
  readonly iterations: number;
  readonly ms: number;
  readonly medianMs: number;
  readonly meanMs: number;
  /** Half-width of the 95 % confidence interval of the mean, in ms. */
  readonly ci95Ms: number;
}

async function timeBox(fn: () => unknown, boxMs: number, minIterations: number, warmup: number) {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minIterations || performance.now() - start < boxMs) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  const ms = performance.now() - start;
  const n = times.length;
  const meanMs = times.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(times.reduce((a, b) => a + (b - meanMs) ** 2, 0) / Math.max(1, n - 1));
  times.sort((a, b) => a - b);
  return {
    iterations: n,
    ms,
    medianMs: times[Math.floor(n / 2)] as number,
    meanMs,
    ci95Ms: (1.96 * sd) / Math.sqrt(n),
  } satisfies Result;
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

async function rawWebCrypto(ca: CertificateAuthority, keyAlgorithm: KeyAlgorithm) {
  const { subtle } = webcrypto;
  const ecdsa = keyAlgorithm === 'ECDSA_P256';
  const signAlg = ecdsa ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' };
  const caKey = await subtle.importKey(
    'pkcs8',
    createPrivateKey(ca.privateKeyPem).export({ type: 'pkcs8', format: 'der' }),
    ecdsa ? { name: 'ECDSA', namedCurve: 'P-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const gen = ecdsa
    ? { name: 'ECDSA', namedCurve: 'P-256' }
    : {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      };
  return {
    run: async () => {
      await subtle.generateKey(gen, true, ['sign', 'verify']);
      await subtle.sign(signAlg, caKey, TBS);
    },
    /** One signature, verified with node:crypto against the CA certificate's key. */
    check: async () => {
      const signature = new Uint8Array(await subtle.sign(signAlg, caKey, TBS));
      const key = createPublicKey(ca.certificatePem);
      return verify('sha256', TBS, ecdsa ? { key, dsaEncoding: 'ieee-p1363' } : key, signature);
    },
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
  const min = rsa ? 10 : 50;
  const box = rsa ? RSA_BOX_MS : BOX_MS;
  const results: { name: string; r?: Result; note?: string }[] = [];

  const issued = await issueServerCertificate(ca, { dnsNames: [NAME], keyAlgorithm });
  checkLeaf(issued.certificatePem, issued.privateKeyPem, ca, 'cert-issuer');
  results.push({
    name: 'cert-issuer issueServerCertificate',
    r: await timeBox(certIssuer(ca, keyAlgorithm), box, min, 5),
  });

  if (rsa) {
    const issue = forgeIssuer(ca);
    const out = issue();
    checkLeaf(out.certificatePem, out.privateKeyPem, ca, 'node-forge');
    results.push({
      name: 'node-forge (default: native RSA key generation)',
      r: await timeBox(issue, box, min, 2),
    });
    forgeOptions.usePureJavaScript = true;
    try {
      results.push({
        name: 'node-forge (pure JavaScript)',
        r: await timeBox(issue, PURE_JS_BOX_MS, 3, 0),
      });
    } finally {
      forgeOptions.usePureJavaScript = false;
    }
  } else {
    results.push({ name: 'node-forge', note: 'not supported: node-forge 1.4.3 has no ECDSA' });
  }

  const web = await rawWebCrypto(ca, keyAlgorithm);
  if (!(await web.check())) throw new Error('WebCrypto signature failed');
  results.push({ name: 'raw WebCrypto: generateKey + sign', r: await timeBox(web.run, box, min, 5) });

  if (!verify('sha256', TBS, createPublicKey(ca.certificatePem), sign('sha256', TBS, caKey)))
    throw new Error('node:crypto signature does not verify');
  const raw = await timeBox(rawNode(caKey, keyAlgorithm), box, min, 5);
  results.push({ name: 'raw node:crypto: generateKeyPairSync + sign', r: raw });

  const ours = results[0]?.r as Result;
  const perSec = (r: Result) => 1000 / r.meanMs;
  const fixed = (x: number) => Number(x.toFixed(x < 10 ? 2 : x < 1000 ? 1 : 0));
  for (const { name, r, note } of results) {
    rows.push({
      leaf: rsa ? 'RSA-2048' : 'ECDSA P-256',
      implementation: name,
      'issued/s': r ? fixed(perSec(r)) : 'n/a',
      'mean ms': r ? fixed(r.meanMs) : 'n/a',
      '± 95 % ms': r ? fixed(r.ci95Ms) : 'n/a',
      'median ms': r ? fixed(r.medianMs) : 'n/a',
      iterations: r ? r.iterations : 'n/a',
      'cert-issuer ÷ this (rate)': r ? Number((perSec(ours) / perSec(r)).toFixed(2)) : (note ?? 'n/a'),
    });
  }
  summary[keyAlgorithm] = Object.fromEntries(
    results.map(({ name, r }) => [name, r ? { perSecond: perSec(r), ...r } : null]),
  );
}

report(
  'certificates',
  `Leaf certificates issued per second, one at a time (time box per row: ECDSA ${BOX_MS} ms, RSA ${RSA_BOX_MS} ms, pure-JavaScript forge ${PURE_JS_BOX_MS} ms)`,
  rows,
  summary,
);
