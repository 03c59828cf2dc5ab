/** ARI on data alone: the CertID, the RenewalInfo parser, the pure renewal decision (with properties). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasErrorCode } from '@zonekeeper/core';
import type { StoredCertificate } from '@zonekeeper/vault-keys';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renewalTime } from '../certificates.js';
import { bitString, context, octetString, oid, sequence, smallInteger, tlv } from '../der.js';
import { acmeIssuer, planAcmeCertificate } from './ensure.js';
import {
  type AcmeRenewalInfo,
  acmeCertId,
  decideAcmeRenewal,
  fetchRenewalInfo,
  parseRenewalInfo,
} from './renewal-info.js';
import { pinnedAgent } from './transport.js';

const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/:/g, ''), 'hex'));

/** A structurally valid certificate (not signed: the CertID reads structure only). */
function certificatePem(serial: Uint8Array, authorityKeyId: Uint8Array | undefined): string {
  const name = sequence();
  const algorithm = sequence(oid('1.2.840.10045.4.3.2'));
  const extensions =
    authorityKeyId === undefined
      ? []
      : [context(3, sequence(sequence(oid('2.5.29.35'), octetString(sequence(tlv(0x80, authorityKeyId))))))];
  const tbs = sequence(
    context(0, smallInteger(2)),
    tlv(0x02, serial),
    algorithm,
    name,
    sequence(),
    name,
    sequence(),
    ...extensions,
  );
  const der = sequence(tbs, algorithm, bitString(Uint8Array.of(0)));
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
}

describe('acmeCertId', () => {
  it("gives RFC 9773 §4.1's example CertID (the serial's leading zero byte kept)", () => {
    const pem = certificatePem(
      hex('00:87:65:43:21'),
      hex('69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4'),
    );
    expect(acmeCertId(pem)).toBe('aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
  });

  it("matches what openssl reports for a real certificate's AKI and serial", () => {
    const dir = mkdtempSync(join(tmpdir(), 'zonekeeper-ari-'));
    try {
      const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, encoding: 'utf8' });
      run(
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.pem',
        '-subj',
        '/CN=ca',
        '-days',
        '1',
      );
      run(
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        'leaf.key',
        '-out',
        'leaf.csr',
        '-subj',
        '/CN=leaf',
      );
      writeFileSync(join(dir, 'ext.cnf'), 'authorityKeyIdentifier=keyid:always\n');
      run(
        'x509',
        '-req',
        '-in',
        'leaf.csr',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-set_serial',
        '0xF00D',
        '-days',
        '1',
        '-out',
        'leaf.pem',
        '-extfile',
        'ext.cnf',
      );
      const pem = readFileSync(join(dir, 'leaf.pem'), 'utf8');
      const text = run('x509', '-in', 'leaf.pem', '-noout', '-ext', 'authorityKeyIdentifier');
      const aki = /([0-9A-F]{2}(?::[0-9A-F]{2}){19})/.exec(text)?.[1] as string;
      expect(aki).toBeDefined();
      // 0xF00D has its high bit set: DER keeps a leading zero byte.
      expect(acmeCertId(pem)).toBe(
        `${Buffer.from(hex(aki)).toString('base64url')}.${Buffer.from([0, 0xf0, 0x0d]).toString('base64url')}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a certificate without an AKI keyIdentifier, and what is no certificate, with INVALID_INPUT', () => {
    for (const pem of [
      certificatePem(hex('01'), undefined),
      'leaf',
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
    ])
      expect(
        hasErrorCode(
          catchError(() => acmeCertId(pem)),
          'INVALID_INPUT',
        ),
        pem,
      ).toBe(true);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('parseRenewalInfo', () => {
  it('reads a window and an explanation URL', () => {
    expect(
      parseRenewalInfo({
        suggestedWindow: { start: '2026-05-01T00:00:00Z', end: '2026-05-02T12:00:00.5+02:00' },
        explanationURL: 'https://ca.example/why',
      }),
    ).toEqual({
      window: { start: new Date('2026-05-01T00:00:00Z'), end: new Date('2026-05-02T10:00:00.500Z') },
      explanationUrl: 'https://ca.example/why',
    });
  });

  it('refuses what is not a valid RenewalInfo object, a window ending before it starts included (§4.2)', () => {
    for (const body of [
      undefined,
      'x',
      {},
      { suggestedWindow: {} },
      { suggestedWindow: { start: '2026-05-01', end: '2026-05-02' } },
      { suggestedWindow: { start: '2026-05-02T00:00:00Z', end: '2026-05-01T00:00:00Z' } },
      { suggestedWindow: { start: '2026-05-01T00:00:00Z', end: '2026-05-01T00:00:00Z' } },
      { suggestedWindow: { start: 1, end: 2 } },
    ])
      expect(parseRenewalInfo(body), JSON.stringify(body)).toBeUndefined();
  });
});

describe('fetchRenewalInfo', () => {
  it('turns an unreachable CA into a failed result (UNAVAILABLE, transient), never a throw', async () => {
    const pem = certificatePem(hex('01'), hex('0102'));
    const result = await fetchRenewalInfo('https://127.0.0.1:1/dir', pem, {
      now: new Date(),
      timeoutMs: 2_000,
    });
    expect(result).toMatchObject({
      status: 'failed',
      failure: 'unreachable',
      code: 'UNAVAILABLE',
      retry: 'transient',
    });
  });

  it('answers no-cert-id without any request for a certificate without an AKI, and re-throws an abort', async () => {
    expect(
      await fetchRenewalInfo('https://127.0.0.1:1/dir', certificatePem(hex('01'), undefined), {
        now: new Date(),
      }),
    ).toMatchObject({ status: 'failed', failure: 'no-cert-id', code: 'INVALID_INPUT' });
    const reason = new Error('stop');
    const controller = new AbortController();
    controller.abort(reason);
    const error = await fetchRenewalInfo('https://127.0.0.1:1/dir', certificatePem(hex('01'), hex('02')), {
      now: new Date(),
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect(error).toBe(reason);
  });
});

describe('fetchRenewalInfo on the wire (a small HTTPS CA on 127.0.0.1)', () => {
  let dir: string;
  let tls: string;
  let server: Server;
  let base: string;
  let answer: (res: import('node:http').ServerResponse) => void = (res) => res.end();
  const seen: { path: string; userAgent?: string; method?: string }[] = [];
  const pem = certificatePem(
    hex('00:87:65:43:21'),
    hex('69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4'),
  );
  const NOW = new Date('2026-05-01T00:00:00Z');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zonekeeper-ari-wire-'));
    execFileSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=test ari',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]);
    tls = readFileSync(join(dir, 'cert.pem'), 'utf8');
    server = createServer({ cert: tls, key: readFileSync(join(dir, 'key.pem')) }, (req, res) => {
      const path = new URL(req.url ?? '/', 'https://x').pathname;
      seen.push({
        path,
        ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
        ...(req.method ? { method: req.method } : {}),
      });
      if (path === '/dir') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ newOrder: `${base}/order`, renewalInfo: `${base}/ari/` }));
      } else answer(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const ask = () =>
    fetchRenewalInfo(`${base}/dir`, pem, { now: NOW, agent: pinnedAgent(tls), timeoutMs: 2_000 });

  it('GETs <renewalInfo>/<CertID> (one slash), with a User-Agent, and reads the window and Retry-After', async () => {
    seen.length = 0;
    answer = (res) => {
      res.setHeader('retry-after', '3600');
      res.end(
        JSON.stringify({
          suggestedWindow: { start: '2026-06-01T00:00:00Z', end: '2026-06-02T00:00:00Z' },
          explanationURL: 'https://ca.example/why',
        }),
      );
    };
    expect(await ask()).toEqual({
      status: 'window',
      certId: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE',
      window: { start: new Date('2026-06-01T00:00:00Z'), end: new Date('2026-06-02T00:00:00Z') },
      retryAfter: new Date(NOW.getTime() + 3_600_000),
      explanationUrl: 'https://ca.example/why',
    });
    expect(seen.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /dir',
      'GET /ari/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE',
    ]);
    expect(seen.every((r) => (r.userAgent ?? '').length > 0)).toBe(true);
  });

  it('clamps Retry-After to one minute … one day (RFC 9773 §4.3)', async () => {
    for (const [header, ms] of [
      ['5', 60_000],
      ['999999', 86_400_000],
      ['Fri, 01 May 2026 00:10:00 GMT', 600_000],
    ] as const) {
      answer = (res) => {
        res.setHeader('retry-after', header);
        res.end(
          JSON.stringify({ suggestedWindow: { start: '2026-06-01T00:00:00Z', end: '2026-06-02T00:00:00Z' } }),
        );
      };
      const result = await ask();
      expect(result.status === 'window' && result.retryAfter?.getTime(), header).toBe(NOW.getTime() + ms);
    }
  });

  it('maps error answers like the CA’s other problems: 503 with Retry-After transient, 429 rateLimited THROTTLED, 404 without a problem INTERNAL', async () => {
    const cases: [number, Record<string, unknown> | undefined, Record<string, unknown>][] = [
      [
        503,
        undefined,
        {
          code: 'UNAVAILABLE',
          retry: 'transient',
          httpStatus: 503,
          retryAfter: new Date(NOW.getTime() + 120_000),
        },
      ],
      [
        429,
        { type: 'urn:ietf:params:acme:error:rateLimited', detail: 'slow down' },
        { code: 'THROTTLED', retry: 'transient', acmeProblem: 'rateLimited' },
      ],
      [404, undefined, { code: 'INTERNAL', retry: 'bug', httpStatus: 404 }],
    ];
    for (const [status, problem, expected] of cases) {
      answer = (res) => {
        res.statusCode = status;
        res.setHeader('retry-after', '120');
        if (problem) res.setHeader('content-type', 'application/problem+json');
        res.end(problem ? JSON.stringify({ ...problem, status }) : 'nope');
      };
      expect(await ask(), String(status)).toMatchObject({
        status: 'failed',
        failure: 'http-error',
        certId: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE',
        ...expected,
      });
    }
  });

  it('treats a body that is not a RenewalInfo object as invalid-response, and a CA that never answers as TIMEOUT', async () => {
    answer = (res) => res.end('{"suggestedWindow": "soon"}');
    expect(await ask()).toMatchObject({
      status: 'failed',
      failure: 'invalid-response',
      code: 'UNAVAILABLE',
      retry: 'transient',
    });
    answer = () => {};
    const started = Date.now();
    expect(
      await fetchRenewalInfo(`${base}/dir`, pem, { now: NOW, agent: pinnedAgent(tls), timeoutMs: 300 }),
    ).toMatchObject({
      status: 'failed',
      failure: 'unreachable',
      code: 'TIMEOUT',
      retry: 'transient',
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('an abort while the CA is silent re-throws the reason, promptly', async () => {
    answer = () => {};
    const controller = new AbortController();
    const reason = new Error('operator pressed ^C');
    setTimeout(() => controller.abort(reason), 100);
    const error = await fetchRenewalInfo(`${base}/dir`, pem, {
      now: NOW,
      agent: pinnedAgent(tls),
      timeoutMs: 30_000,
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect(error).toBe(reason);
  });

  it('does not trust a CA certificate it was not given (system trust): unreachable, no window', async () => {
    answer = (res) =>
      res.end(
        JSON.stringify({ suggestedWindow: { start: '2026-06-01T00:00:00Z', end: '2026-06-02T00:00:00Z' } }),
      );
    expect(await fetchRenewalInfo(`${base}/dir`, pem, { now: NOW, timeoutMs: 2_000 })).toMatchObject({
      status: 'failed',
      failure: 'unreachable',
    });
  });
});

const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

const certificateArb = fc
  .record({
    start: fc.integer({ min: 0, max: 400 * DAY }),
    lifetime: fc.integer({ min: 60_000, max: 400 * DAY }),
  })
  .map(({ start, lifetime }) => ({
    notBefore: new Date(T0 + start),
    notAfter: new Date(T0 + start + lifetime),
  }));
const fractionArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const windowInfoArb = fc
  .record({
    start: fc.integer({ min: -30 * DAY, max: 800 * DAY }),
    length: fc.integer({ min: 1, max: 30 * DAY }),
  })
  .map(
    ({ start, length }): AcmeRenewalInfo => ({
      status: 'window',
      certId: 'a.b',
      window: { start: new Date(T0 + start), end: new Date(T0 + start + length) },
    }),
  );
const noWindowArb = fc.constantFrom<AcmeRenewalInfo | undefined>(
  undefined,
  { status: 'not-offered' },
  { status: 'failed', failure: 'unreachable', code: 'UNAVAILABLE', retry: 'transient', message: 'down' },
  { status: 'failed', failure: 'invalid-response', code: 'UNAVAILABLE', retry: 'transient', message: 'bad' },
);
const nowArb = fc.integer({ min: -60 * DAY, max: 900 * DAY }).map((d) => new Date(T0 + d));

describe('decideAcmeRenewal', () => {
  it('picks the renewal time inside the window [start, end), and renews exactly once it is reached or the window has passed', () => {
    fc.assert(
      fc.property(
        certificateArb,
        windowInfoArb,
        fractionArb,
        nowArb,
        (certificate, info, randomFraction, now) => {
          const d = decideAcmeRenewal({ now, certificate, renewalInfo: info, randomFraction });
          if (info.status !== 'window') throw new Error('arbitrary');
          const at = Date.parse(d.renewAt);
          expect(at).toBeGreaterThanOrEqual(info.window.start.getTime());
          expect(at).toBeLessThan(info.window.end.getTime());
          expect(d.basis).toBe('ari');
          expect(d.renew).toBe(now.getTime() >= at);
          expect(d.reason).toBe(
            now.getTime() >= info.window.end.getTime()
              ? 'ari-window-passed'
              : now.getTime() >= at
                ? 'ari-time-reached'
                : 'ari-time-ahead',
          );
        },
      ),
    );
  });

  it('spreads renewals uniformly: the picked time moves with the random fraction, from start to just before end', () => {
    const info: AcmeRenewalInfo = {
      status: 'window',
      certId: 'a.b',
      window: { start: new Date(T0), end: new Date(T0 + DAY) },
    };
    const certificate = { notBefore: new Date(T0 - 60 * DAY), notAfter: new Date(T0 + 30 * DAY) };
    const at = (randomFraction: number) =>
      Date.parse(
        decideAcmeRenewal({ now: new Date(T0), certificate, renewalInfo: info, randomFraction }).renewAt,
      );
    expect(at(0)).toBe(T0);
    expect(at(0.5)).toBe(T0 + DAY / 2);
    expect(at(0.999_999_999)).toBe(T0 + DAY - 1);
  });

  it('without a usable window falls back to the lifetime fraction: deterministic, whatever the random fraction, and says why', () => {
    fc.assert(
      fc.property(
        certificateArb,
        noWindowArb,
        fractionArb,
        fractionArb,
        nowArb,
        fc.option(fc.double({ min: 0.01, max: 0.99, noNaN: true }), { nil: undefined }),
        (certificate, info, r1, r2, now, renewBeforeFraction) => {
          const input = {
            now,
            certificate,
            ...(info === undefined ? {} : { renewalInfo: info }),
            ...(renewBeforeFraction === undefined ? {} : { renewBeforeFraction }),
          };
          const a = decideAcmeRenewal({ ...input, randomFraction: r1 });
          expect(decideAcmeRenewal({ ...input, randomFraction: r2 })).toEqual(a);
          const due = renewalTime(
            certificate,
            renewBeforeFraction === undefined ? {} : { renewBeforeFraction },
          );
          expect(a.renewAt).toBe(due.toISOString());
          expect(a.renew).toBe(now.getTime() >= due.getTime());
          expect(a.reason).toBe(a.renew ? 'lifetime-fraction-reached' : 'lifetime-fraction-ahead');
          expect(a.basis).toBe(
            info === undefined
              ? 'ari-not-asked'
              : info.status === 'not-offered'
                ? 'ari-not-offered'
                : 'ari-failed',
          );
          if (info?.status === 'failed')
            expect(a.failure).toMatchObject({ failure: info.failure, code: info.code });
          else expect(a.failure).toBeUndefined();
        },
      ),
    );
  });

  it('is monotonic in time: once due, due at every later instant', () => {
    fc.assert(
      fc.property(
        certificateArb,
        fc.oneof(windowInfoArb, noWindowArb),
        fractionArb,
        nowArb,
        fc.integer({ min: 0, max: 100 * DAY }),
        (certificate, info, randomFraction, now, later) => {
          const input = { certificate, randomFraction, ...(info === undefined ? {} : { renewalInfo: info }) };
          if (decideAcmeRenewal({ ...input, now }).renew)
            expect(decideAcmeRenewal({ ...input, now: new Date(now.getTime() + later) }).renew).toBe(true);
        },
      ),
    );
  });

  it('reports when to ask again, and treats a window that ends before it starts as a failure (§4.2)', () => {
    const certificate = { notBefore: new Date(T0), notAfter: new Date(T0 + 90 * DAY) };
    const retryAfter = new Date(T0 + 6 * 3_600_000);
    expect(
      decideAcmeRenewal({
        now: new Date(T0),
        certificate,
        randomFraction: 0,
        renewalInfo: {
          status: 'window',
          certId: 'a.b',
          window: { start: new Date(T0 + 59 * DAY), end: new Date(T0 + 61 * DAY) },
          retryAfter,
        },
      }),
    ).toEqual({
      renew: false,
      reason: 'ari-time-ahead',
      basis: 'ari',
      renewAt: new Date(T0 + 59 * DAY).toISOString(),
      window: { start: new Date(T0 + 59 * DAY).toISOString(), end: new Date(T0 + 61 * DAY).toISOString() },
      checkAgainAt: retryAfter.toISOString(),
    });
    const inverted = decideAcmeRenewal({
      now: new Date(T0),
      certificate,
      randomFraction: 0,
      renewalInfo: {
        status: 'window',
        certId: 'a.b',
        window: { start: new Date(T0 + DAY), end: new Date(T0) },
      },
    });
    expect(inverted).toMatchObject({
      basis: 'ari-failed',
      reason: 'lifetime-fraction-ahead',
      failure: { failure: 'invalid-response' },
    });
  });

  it('refuses a random fraction outside [0, 1) and an invalid now with INVALID_INPUT', () => {
    const certificate = { notBefore: new Date(T0), notAfter: new Date(T0 + DAY) };
    for (const randomFraction of [-0.1, 1, Number.NaN, 2])
      expect(
        hasErrorCode(
          catchError(() => decideAcmeRenewal({ now: new Date(T0), certificate, randomFraction })),
          'INVALID_INPUT',
        ),
      ).toBe(true);
    expect(
      hasErrorCode(
        catchError(() => decideAcmeRenewal({ now: new Date(Number.NaN), certificate, randomFraction: 0 })),
        'INVALID_INPUT',
      ),
    ).toBe(true);
  });
});

describe('planAcmeCertificate with renewal information', () => {
  const DIR = 'https://ca.example/dir';
  const NOW = new Date(T0 + 10 * DAY);
  const pem = certificatePem(
    hex('00:87:65:43:21'),
    hex('69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4'),
  );
  const stored: StoredCertificate = {
    certificatePem: pem,
    privateKeyPem: 'key',
    chainPem: pem,
    caPem: 'issuer',
    serialNumber: '87654321',
    notBefore: new Date(T0),
    notAfter: new Date(T0 + 90 * DAY),
    dnsNames: ['www.acme.example.com'],
    issuer: acmeIssuer(DIR),
    version: 1,
  };
  const input = {
    organization: 'acme',
    name: 'web',
    dnsNames: ['www.acme.example.com'],
    zone: { id: 'Z1', name: 'acme.example.com' },
  };
  const state = (renewalInfo?: AcmeRenewalInfo) => ({
    nameServers: [],
    accountKeyPem: 'k',
    stored,
    ...(renewalInfo === undefined ? {} : { renewalInfo }),
    randomFraction: 0.5,
  });

  it('orders a renewal the window suggests, naming the certificate it replaces; keeps one the window does not', () => {
    const past: AcmeRenewalInfo = {
      status: 'window',
      certId: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE',
      window: { start: new Date(NOW.getTime() - 2 * DAY), end: new Date(NOW.getTime() - DAY) },
    };
    const plan = planAcmeCertificate(state(past), input, DIR, NOW);
    expect(plan.steps).toEqual([
      expect.objectContaining({
        op: 'order-acme-certificate',
        reason: 'renewal-suggested',
        replaces: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE',
      }),
    ]);
    expect(plan.renewal).toMatchObject({ renew: true, reason: 'ari-window-passed', basis: 'ari' });
    // Ten days into 90, without renewal information: kept, the decision says it fell back.
    const kept = planAcmeCertificate(state({ status: 'not-offered' }), input, DIR, NOW);
    expect(kept.steps).toEqual([]);
    expect(kept.renewal).toMatchObject({
      renew: false,
      basis: 'ari-not-offered',
      reason: 'lifetime-fraction-ahead',
    });
    // Plans are JSON data.
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });

  it('sends replaces with the two-thirds fallback too, and never for a first order or changed names', () => {
    const late = new Date(T0 + 61 * DAY);
    expect(planAcmeCertificate(state(), input, DIR, late).steps).toEqual([
      expect.objectContaining({ reason: 'renewal-due', replaces: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE' }),
    ]);
    const renamed = planAcmeCertificate(state(), { ...input, dnsNames: ['api.acme.example.com'] }, DIR, late);
    expect(renamed.steps[0]).toMatchObject({ reason: 'names-changed' });
    expect(renamed.steps[0]).not.toHaveProperty('replaces');
    expect(renamed.renewal).toBeUndefined();
    const first = planAcmeCertificate({ nameServers: [] }, input, DIR, late);
    expect(first.steps.find((s) => s.op === 'order-acme-certificate')).not.toHaveProperty('replaces');
  });
});
