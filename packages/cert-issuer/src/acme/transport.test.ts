/**
 * What Pebble cannot do (it never rate-limits): a small HTTPS server on 127.0.0.1 that speaks just
 * enough ACME to reach newOrder, then answers with a problem document, or not at all.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemorySecretStore } from '@zonekeeper/vault-keys';
import { createMemoryDnsProvider } from '@zonekeeper/zone-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAcmeCertificate } from './ensure.js';

let dir: string;
let cert: string;
let server: Server;
let base: string;
let newOrder: (res: import('node:http').ServerResponse) => void = () => {};
const hits: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'zonekeeper-acme-wire-'));
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
    '/CN=test acme',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  server = createServer({ cert, key: readFileSync(join(dir, 'key.pem')) }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://x').pathname;
    hits.push(`${req.method} ${path}`);
    req.resume();
    res.setHeader('Replay-Nonce', `n${hits.length}`);
    if (path === '/dir') {
      res.setHeader('Content-Type', 'application/json');
      res.end(
        JSON.stringify({
          newNonce: `${base}/nonce`,
          newAccount: `${base}/account`,
          newOrder: `${base}/order`,
          revokeCert: `${base}/revoke`,
          keyChange: `${base}/key`,
        }),
      );
    } else if (path === '/nonce') {
      res.statusCode = 200;
      res.end();
    } else if (path === '/account' || path === '/account/1') {
      res.statusCode = 200;
      res.setHeader('Location', `${base}/account/1`);
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ status: 'valid', orders: `${base}/orders` }));
    } else if (path === '/order') {
      newOrder(res);
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

async function setup() {
  const dns = createMemoryDnsProvider();
  const { zone } = await dns.createZone({ name: 'acme.example.com', callerReference: 'acme' });
  return {
    input: {
      organization: 'acme',
      name: 'web',
      dnsNames: ['www.acme.example.com'],
      zone: { id: zone.id, name: zone.name },
    },
    deps: {
      secrets: createMemorySecretStore(),
      dns,
      acme: {
        directoryUrl: `${base}/dir`,
        termsOfServiceAgreed: true as const,
        caCertificates: cert,
        requestTimeoutMs: 5_000,
      },
    },
  };
}

function problem(status: number, type: string, headers: Record<string, string> = {}) {
  return (res: import('node:http').ServerResponse) => {
    res.statusCode = status;
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.setHeader('Content-Type', 'application/problem+json');
    res.end(JSON.stringify({ type: `urn:ietf:params:acme:error:${type}`, detail: `${type} for this test` }));
  };
}

describe('the ACME transport', () => {
  it('maps rateLimited to THROTTLED with the Retry-After, without retrying behind the caller', async () => {
    const { input, deps } = await setup();
    newOrder = problem(429, 'rateLimited', { 'Retry-After': '3600' });
    hits.length = 0;
    const error = await ensureAcmeCertificate(input, deps).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'THROTTLED',
      retry: 'transient',
      retryAfterMs: 3_600_000,
      details: { acmeProblem: 'rateLimited', status: 429 },
    });
    expect(hits.filter((h) => h === 'POST /order')).toHaveLength(1);
  });

  it('maps serverInternal (503) to UNAVAILABLE, transient, also without retrying', async () => {
    const { input, deps } = await setup();
    newOrder = problem(503, 'serverInternal');
    hits.length = 0;
    const error = await ensureAcmeCertificate(input, deps).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'UNAVAILABLE',
      retry: 'transient',
      details: { acmeProblem: 'serverInternal' },
    });
    expect(hits.filter((h) => h === 'POST /order')).toHaveLength(1);
  });

  it('cancels a request the CA does not answer when the caller aborts, and times it out otherwise', async () => {
    const { input, deps } = await setup();
    newOrder = () => {}; // never answers
    const controller = new AbortController();
    const reason = new Error('shutting down');
    setTimeout(() => controller.abort(reason), 300);
    const started = Date.now();
    expect(
      await ensureAcmeCertificate(input, deps, { signal: controller.signal }).catch((e: unknown) => e),
    ).toBe(reason);
    expect(Date.now() - started).toBeLessThan(3_000);
    const timedOut = await ensureAcmeCertificate(input, {
      ...deps,
      acme: { ...deps.acme, requestTimeoutMs: 300 },
    }).catch((e: unknown) => e);
    expect(timedOut).toMatchObject({ code: 'TIMEOUT', retry: 'transient' });
    // Nothing listens there: refused, worth another run.
    const closed = await ensureAcmeCertificate(input, {
      ...deps,
      acme: { ...deps.acme, directoryUrl: 'https://127.0.0.1:9/dir' },
    }).catch((e: unknown) => e);
    expect(closed).toMatchObject({ code: 'UNAVAILABLE', retry: 'transient' });
  });

  it('refuses a CA whose TLS certificate is not trusted, as a permanent failure', async () => {
    const { input, deps } = await setup();
    const { caCertificates: _, ...untrusted } = deps.acme;
    const error = await ensureAcmeCertificate(input, { ...deps, acme: untrusted }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retry: 'permanent' });
    expect((error as Error).message).toMatch(/not trusted/);
  });

  it('refuses settings that are not safe before any request', async () => {
    const { input, deps } = await setup();
    hits.length = 0;
    for (const acme of [
      { ...deps.acme, directoryUrl: `http://127.0.0.1/dir` },
      { ...deps.acme, termsOfServiceAgreed: false as never },
      { ...deps.acme, contact: ['ops@example.com'] },
      { ...deps.acme, propagationTimeoutMs: 0 },
    ]) {
      expect(await ensureAcmeCertificate(input, { ...deps, acme }).catch((e: unknown) => e)).toMatchObject({
        code: 'INVALID_INPUT',
      });
    }
    expect(hits).toEqual([]);
  });
});
