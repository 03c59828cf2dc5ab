/**
 * Web identity on moto, without ExternalDNS: a test OIDC issuer on 127.0.0.1 (discovery + JWKS, RS256
 * service-account tokens) is registered as an IAM OIDC provider in moto, a role trusts its ExternalDNS
 * service account, and STS `AssumeRoleWithWebIdentity` exchanges the token for role credentials.
 *
 * moto checks nothing in that exchange (not the signature, the issuer, the audience, the expiry, the
 * trust policy, not even that the role exists): the second block shows it handing out credentials for
 * tokens AWS would refuse, and the checker (web-identity-check.test.util.ts) refusing each of them the
 * way STS does — the trust-policy part through the IAM policy simulator.
 */
import { randomBytes } from 'node:crypto';
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { type MotoServer, startMoto } from '@zonekeeper/testkit/moto';
import { startTestOidcIssuer, type TestOidcIssuer } from '@zonekeeper/testkit/oidc-issuer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIamOidcProviderRegistry, createIamRoleProvider } from './iam/index.js';
import { buildZonePolicy, minifyPolicy } from './policy.js';
import type { OidcProviderRegistry, RoleProvider } from './role-ports.js';
import { buildWebIdentityTrustPolicy, minifyTrustPolicy } from './trust-policy.js';
import { checkWebIdentityExchange, type ExchangeRefusal } from './web-identity-check.test.util.js';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const ACCOUNT = '123456789012';
const TAGS = { 'zonekeeper:managed-by': 'zonekeeper' };
const run = randomBytes(3).toString('hex');

let moto: MotoServer;
let acme: TestOidcIssuer; // the organisation's attached cluster
let beta: TestOidcIssuer; // another organisation's cluster (registered, trusted by beta's role)
let stray: TestOidcIssuer; // an issuer nobody registered
let roles: RoleProvider;
let oidc: OidcProviderRegistry;
let sts: STSClient;
let acmeRole: string;

/** fetch for the three issuers' https URLs. */
const issuerFetch: typeof fetch = (input, init) => {
  const url = String(input instanceof Request ? input.url : input);
  for (const i of [acme, beta, stray]) if (url.startsWith(i.issuer)) return i.fetch(input, init);
  return fetch(input, init);
};

async function organisationRole(organization: string, issuer: TestOidcIssuer): Promise<string> {
  const roleName = `zk-webid-${run}.${organization}`;
  const trust = buildWebIdentityTrustPolicy({
    accountId: ACCOUNT,
    clusters: [{ issuerUrl: issuer.issuer, namespace: 'external-dns', serviceAccount: 'external-dns' }],
  });
  const role = await roles.createRole({
    roleName,
    path: '/zonekeeper/',
    trustPolicy: minifyTrustPolicy(trust),
    tags: TAGS,
  });
  await roles.putRolePolicy(
    roleName,
    `${roleName}.route53`,
    minifyPolicy(buildZonePolicy({ zoneId: 'Z0123456789ABC', zoneName: `${organization}.example.com` })),
  );
  return role.arn;
}

beforeAll(async () => {
  moto = await startMoto();
  acme = await startTestOidcIssuer({ issuer: `https://oidc-${run}.zonekeeper.test/clusters/acme-c1` });
  beta = await startTestOidcIssuer({ issuer: `https://oidc-${run}.zonekeeper.test/clusters/beta-c1` });
  stray = await startTestOidcIssuer({ issuer: `https://stray-${run}.zonekeeper.test` });
  const options = { endpoint: moto.endpoint, region: 'us-east-1', credentials };
  roles = createIamRoleProvider(options);
  oidc = createIamOidcProviderRegistry(options);
  for (const i of [acme, beta])
    await oidc.createOidcProvider({ url: i.issuer, clientIds: ['sts.amazonaws.com'], tags: TAGS });
  acmeRole = await organisationRole('acme', acme);
  await organisationRole('beta', beta);
  sts = new STSClient({ ...options, maxAttempts: 1 });
});
afterAll(async () => {
  sts?.destroy();
  for (const i of [acme, beta, stray]) await i?.stop();
  await moto?.stop();
});

async function exchange(token: string, roleArn = acmeRole) {
  return sts.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: roleArn,
      RoleSessionName: 'external-dns',
      WebIdentityToken: token,
    }),
  );
}

describe('web identity on moto', () => {
  it('exchanges the ExternalDNS token of the attached cluster for role credentials, which STS then knows', async () => {
    const token = acme.serviceAccountToken({ namespace: 'external-dns', serviceAccount: 'external-dns' });
    const check = await checkWebIdentityExchange({
      token,
      roleArn: acmeRole,
      roles,
      oidcProviders: oidc,
      fetch: issuerFetch,
    });
    expect(check).toEqual({
      allowed: true,
      sub: 'system:serviceaccount:external-dns:external-dns',
      aud: 'sts.amazonaws.com',
      providerArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/${acme.issuer.slice('https://'.length)}`,
    });
    // The checker really fetched the issuer's documents.
    expect(acme.requests).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/openid-configuration$/),
        expect.stringMatching(/jwks$/),
      ]),
    );

    const out = await exchange(token);
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA/);
    expect(out.AssumedRoleUser?.Arn).toBe(
      `arn:aws:sts::${ACCOUNT}:assumed-role/zk-webid-${run}.acme/external-dns`,
    );
    const caller = new STSClient({
      endpoint: moto.endpoint,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: {
        accessKeyId: out.Credentials?.AccessKeyId as string,
        secretAccessKey: out.Credentials?.SecretAccessKey as string,
        sessionToken: out.Credentials?.SessionToken as string,
      },
    });
    try {
      const me = await caller.send(new GetCallerIdentityCommand({}));
      expect(me.Arn).toBe(out.AssumedRoleUser?.Arn);
    } finally {
      caller.destroy();
    }
  });
});

describe('moto hands out credentials for tokens STS would refuse; the checker refuses them', () => {
  const sa = (
    namespace: string,
    serviceAccount: string,
    extra: { audience?: string; lifetimeSeconds?: number } = {},
  ) => ({ namespace, serviceAccount, ...extra }) as const;
  const cases: Record<string, { token: () => string; roleArn?: () => string; refusal: ExchangeRefusal }> = {
    'another service account in the attached cluster': {
      token: () => acme.serviceAccountToken(sa('external-dns', 'default')),
      refusal: 'AccessDenied',
    },
    'ExternalDNS’s service account name in another namespace': {
      token: () => acme.serviceAccountToken(sa('kube-system', 'external-dns')),
      refusal: 'AccessDenied',
    },
    'another organisation’s cluster (a registered provider the role does not trust)': {
      token: () => beta.serviceAccountToken(sa('external-dns', 'external-dns')),
      refusal: 'AccessDenied',
    },
    'a token for another audience': {
      token: () => acme.serviceAccountToken(sa('external-dns', 'external-dns', { audience: 'vault' })),
      refusal: 'IncorrectAudience',
    },
    'an expired token': {
      token: () => acme.serviceAccountToken(sa('external-dns', 'external-dns', { lifetimeSeconds: -600 })),
      refusal: 'ExpiredToken',
    },
    'a token signed with a key the issuer does not publish': {
      token: () => acme.serviceAccountToken(sa('external-dns', 'external-dns'), { key: 'unknown' }),
      refusal: 'InvalidSignature',
    },
    'a token of an issuer nobody registered': {
      token: () => stray.serviceAccountToken(sa('external-dns', 'external-dns')),
      refusal: 'NoOpenIDConnectProvider',
    },
    'a token without sub': {
      token: () => {
        const now = Math.floor(Date.now() / 1000);
        return acme.sign({
          iss: acme.issuer,
          aud: ['sts.amazonaws.com'],
          iat: now,
          nbf: now,
          exp: now + 600,
        });
      },
      refusal: 'AccessDenied',
    },
    'not a token at all': { token: () => 'garbage', refusal: 'MalformedToken' },
    'a role that does not exist': {
      token: () => acme.serviceAccountToken(sa('external-dns', 'external-dns')),
      roleArn: () => `arn:aws:iam::${ACCOUNT}:role/zonekeeper/zk-webid-${run}.nobody`,
      refusal: 'NoSuchRole',
    },
  };
  for (const [sentence, c] of Object.entries(cases)) {
    it(sentence, async () => {
      const token = c.token();
      const roleArn = c.roleArn?.() ?? acmeRole;
      const out = await exchange(token, roleArn);
      expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA/); // moto's leniency
      const check = await checkWebIdentityExchange({
        token,
        roleArn,
        roles,
        oidcProviders: oidc,
        fetch: issuerFetch,
      });
      expect(check).toMatchObject({ allowed: false, refusal: c.refusal });
    });
  }
});
