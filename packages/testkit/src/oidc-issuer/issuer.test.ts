import { createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startTestOidcIssuer } from './index.js';

function parts(token: string) {
  const [h, p, s] = token.split('.') as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString()),
    signed: Buffer.from(`${h}.${p}`),
    signature: Buffer.from(s, 'base64url'),
  };
}

describe('test OIDC issuer', () => {
  it('serves discovery and JWKS for its https issuer, and signs tokens the JWKS verifies', async () => {
    await using issuer = await startTestOidcIssuer({ issuer: 'https://oidc.zonekeeper.test/clusters/c1' });
    expect(issuer.localUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/clusters\/c1$/);
    const discovery = (await (await issuer.fetch(issuer.discoveryUrl)).json()) as { jwks_uri: string };
    expect(discovery).toMatchObject({
      issuer: 'https://oidc.zonekeeper.test/clusters/c1',
      id_token_signing_alg_values_supported: ['RS256'],
    });
    const jwks = (await (await issuer.fetch(discovery.jwks_uri)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid)).toEqual([issuer.keyId]);

    const token = issuer.serviceAccountToken({ namespace: 'external-dns', serviceAccount: 'external-dns' });
    const t = parts(token);
    expect(t.header).toEqual({ alg: 'RS256', kid: issuer.keyId, typ: 'JWT' });
    expect(t.payload).toMatchObject({
      iss: 'https://oidc.zonekeeper.test/clusters/c1',
      sub: 'system:serviceaccount:external-dns:external-dns',
      aud: ['sts.amazonaws.com'],
      'kubernetes.io': { namespace: 'external-dns', serviceaccount: { name: 'external-dns' } },
    });
    expect(t.payload.exp - t.payload.iat).toBe(3600);
    const key = createPublicKey({ key: jwks.keys[0] as never, format: 'jwk' });
    expect(verify('sha256', t.signed, key, t.signature)).toBe(true);

    const forged = parts(
      issuer.serviceAccountToken(
        { namespace: 'external-dns', serviceAccount: 'external-dns' },
        { key: 'unknown' },
      ),
    );
    expect(forged.header.kid).toBe(issuer.keyId);
    expect(verify('sha256', forged.signed, key, forged.signature)).toBe(false);
    expect(issuer.requests).toEqual([
      '/clusters/c1/.well-known/openid-configuration',
      '/clusters/c1/openid/v1/jwks',
    ]);
    expect((await issuer.fetch(`${issuer.issuer}/nothing`)).status).toBe(404);
  });

  it('refuses an issuer IAM could not register (http, port, trailing slash)', async () => {
    for (const bad of [
      'http://oidc.zonekeeper.test',
      'https://oidc.zonekeeper.test:8443',
      'https://oidc.zonekeeper.test/',
    ]) {
      await expect(startTestOidcIssuer({ issuer: bad })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
  });
});
