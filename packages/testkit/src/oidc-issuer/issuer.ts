/**
 * A test OIDC issuer on 127.0.0.1, shaped like a Kubernetes service-account issuer: it serves the
 * discovery document (`/.well-known/openid-configuration`) and the JWKS (`/openid/v1/jwks`), and signs
 * RS256 service-account tokens (`sub` = `system:serviceaccount:<namespace>:<name>`, the
 * `kubernetes.io` claim, `aud`, `iat`, `nbf`, `exp`) with `node:crypto`.
 *
 * Its issuer identifier (`iss`) is an `https://` URL without a port, as IAM requires of an OIDC
 * provider (`https://oidc-<random>.zonekeeper.test/clusters/<name>` by default), while the documents
 * are served over plain HTTP on a free local port. {@link TestOidcIssuer.fetch} is a `fetch` that sends
 * the issuer's URLs to that port (what DNS and TLS would do for a real issuer); any other URL goes to
 * the global `fetch`.
 *
 * @packageDocumentation
 */

import {
  createHash,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CallOptions, invalidInput, throwIfAborted } from '@zonekeeper/core';

/** Options of {@link startTestOidcIssuer}. @public */
export interface TestOidcIssuerOptions extends CallOptions {
  /**
   * The issuer identifier, the `iss` claim: `https://` + host (+ path), no port, no trailing slash.
   * Default `https://oidc-<random>.zonekeeper.test/clusters/test`.
   */
  readonly issuer?: string;
}

/** Claims of {@link TestOidcIssuer.serviceAccountToken}. @public */
export interface ServiceAccountTokenClaims {
  readonly namespace: string;
  readonly serviceAccount: string;
  /** `aud` (default `['sts.amazonaws.com']`). */
  readonly audience?: string | readonly string[];
  /** Token lifetime in seconds (default 3,600; negative for an expired token). */
  readonly lifetimeSeconds?: number;
  /** Issue time (default now). */
  readonly now?: Date;
}

/** How {@link TestOidcIssuer.sign} signs. @public */
export interface SignOptions {
  /** `issuer` (default): the key published in the JWKS; `unknown`: a key that is not published, same `kid`. */
  readonly key?: 'issuer' | 'unknown';
}

/** A running test issuer. @public */
export interface TestOidcIssuer extends AsyncDisposable {
  /** The `iss` claim and IAM OIDC provider URL (`https://…`, no port). */
  readonly issuer: string;
  /** Where the documents are served: `http://127.0.0.1:<port>` (+ the issuer's path). */
  readonly localUrl: string;
  /** The issuer's discovery URL (an `https://` URL; use {@link TestOidcIssuer.fetch}). */
  readonly discoveryUrl: string;
  /** The `kid` of the signing key. */
  readonly keyId: string;
  /** The published key, as a JWK. */
  readonly jwk: JsonWebKey;
  /** Signs an arbitrary claim set as an RS256 JWT. */
  sign(claims: Readonly<Record<string, unknown>>, options?: SignOptions): string;
  /** A Kubernetes service-account token (projected-volume shape). */
  serviceAccountToken(claims: ServiceAccountTokenClaims, options?: SignOptions): string;
  /** `fetch` that serves the issuer's `https://` URLs from the local server. */
  readonly fetch: typeof fetch;
  /** Requests served so far, by path. */
  readonly requests: readonly string[];
  /** Stops the server. Idempotent. */
  stop(): Promise<void>;
}

const base64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

function rsaKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

/**
 * Starts a test OIDC issuer on 127.0.0.1 (see the module notes).
 *
 * @example
 * ```ts
 * await using issuer = await startTestOidcIssuer();
 * const token = issuer.serviceAccountToken({ namespace: 'external-dns', serviceAccount: 'external-dns' });
 * ```
 * @public
 */
export async function startTestOidcIssuer(options: TestOidcIssuerOptions = {}): Promise<TestOidcIssuer> {
  throwIfAborted(options.signal);
  const issuer =
    options.issuer ?? `https://oidc-${randomBytes(4).toString('hex')}.zonekeeper.test/clusters/test`;
  if (!/^https:\/\/[a-z0-9.-]+(?:\/[A-Za-z0-9._~-]+)*$/.test(issuer)) {
    throw invalidInput(
      `test OIDC issuer: ${JSON.stringify(issuer)} is not an https:// URL without port, query or trailing slash.`,
    );
  }
  const issuerPath = new URL(issuer).pathname.replace(/\/$/, '');
  const { privateKey, publicKey } = rsaKey();
  const unknownKey = rsaKey().privateKey;
  const jwk = publicKey.export({ format: 'jwk' });
  const keyId = base64url(createHash('sha256').update(`${jwk.n}.${jwk.e}`).digest()).slice(0, 43);
  const published = { ...jwk, kid: keyId, use: 'sig', alg: 'RS256' };
  const requests: string[] = [];

  const discovery = {
    issuer,
    jwks_uri: `${issuer}/openid/v1/jwks`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    requests.push(path);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return send(405, { error: 'method not allowed' });
    if (path === `${issuerPath}/.well-known/openid-configuration`) return send(200, discovery);
    if (path === `${issuerPath}/openid/v1/jwks`) return send(200, { keys: [published] });
    return send(404, { error: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const origin = new URL(issuer).origin;
  const localOrigin = `http://127.0.0.1:${port}`;

  const signJwt = (claims: Readonly<Record<string, unknown>>, opts: SignOptions = {}) => {
    const header = base64url(JSON.stringify({ alg: 'RS256', kid: keyId, typ: 'JWT' }));
    const payload = base64url(JSON.stringify(claims));
    const key = opts.key === 'unknown' ? unknownKey : privateKey;
    const signature = sign('sha256', Buffer.from(`${header}.${payload}`), key);
    return `${header}.${payload}.${base64url(signature)}`;
  };

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };

  const localFetch: typeof fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url.startsWith(`${origin}/`) || url === origin) {
      return fetch(`${localOrigin}${url.slice(origin.length)}`, init);
    }
    return fetch(input, init);
  };

  return {
    issuer,
    localUrl: `${localOrigin}${issuerPath}`,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    keyId,
    jwk: published,
    get requests() {
      return [...requests];
    },
    sign: signJwt,
    serviceAccountToken(claims, opts) {
      const now = Math.floor((claims.now ?? new Date()).getTime() / 1000);
      const lifetime = claims.lifetimeSeconds ?? 3600;
      const audience = claims.audience ?? ['sts.amazonaws.com'];
      return signJwt(
        {
          aud: typeof audience === 'string' ? [audience] : [...audience],
          exp: now + lifetime,
          iat: lifetime < 0 ? now + lifetime - 60 : now,
          nbf: lifetime < 0 ? now + lifetime - 60 : now,
          iss: issuer,
          'kubernetes.io': {
            namespace: claims.namespace,
            serviceaccount: { name: claims.serviceAccount, uid: randomBytes(16).toString('hex') },
          },
          sub: `system:serviceaccount:${claims.namespace}:${claims.serviceAccount}`,
        },
        opts,
      );
    },
    fetch: localFetch,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
