/**
 * Test support: the checks AWS STS makes on `AssumeRoleWithWebIdentity`, which moto does not make at
 * all (moto 5.2 returns credentials for any token, any role, even one that does not exist). Not a test
 * file, not exported by the package (the decision uses the AGPL simulator).
 *
 * In the order STS applies them:
 *  1. the token is a JWT whose `iss` is an `https://` URL, and the role's account has an IAM OIDC
 *     provider for it (`InvalidIdentityToken`: "No OpenIDConnect provider found");
 *  2. the signature verifies (RS256) with a key of the issuer's JWKS, found through its discovery
 *     document, whose `issuer` must equal `iss` (`InvalidIdentityToken`);
 *  3. the token is within its lifetime (`ExpiredToken`) and one `aud` is a client id of the provider
 *     (`InvalidIdentityToken`: "Incorrect token audience");
 *  4. the role's trust policy allows `sts:AssumeRoleWithWebIdentity` for the provider with the
 *     token's `aud` and `sub` as `<issuer>:aud` / `<issuer>:sub` (`AccessDenied`), decided by the IAM
 *     policy simulator.
 */

import { createPublicKey, verify } from 'node:crypto';
import type { OidcProviderRegistry, RoleProvider } from './role-ports.js';
import type { IamTrustPolicyDocument } from './trust-policy.js';
import { simulateTrust } from './trust-simulate.test.util.js';

/** Why an exchange is refused, named like STS's errors. */
export type ExchangeRefusal =
  | 'MalformedToken'
  | 'NoOpenIDConnectProvider'
  | 'InvalidSignature'
  | 'ExpiredToken'
  | 'IncorrectAudience'
  | 'NoSuchRole'
  | 'AccessDenied';

/** The outcome of {@link checkWebIdentityExchange}. */
export type ExchangeCheck =
  | { readonly allowed: true; readonly sub: string; readonly aud: string; readonly providerArn: string }
  | { readonly allowed: false; readonly refusal: ExchangeRefusal; readonly detail: string };

function refuse(refusal: ExchangeRefusal, detail: string): ExchangeCheck {
  return { allowed: false, refusal, detail };
}

function decodePart(part: string | undefined): Record<string, unknown> | undefined {
  if (part === undefined) return undefined;
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks a web-identity exchange as STS would (see the module notes).
 */
export async function checkWebIdentityExchange(input: {
  readonly token: string;
  readonly roleArn: string;
  readonly roles: RoleProvider;
  readonly oidcProviders: OidcProviderRegistry;
  /** Fetches the issuer's discovery document and JWKS (default: the global fetch). */
  readonly fetch?: typeof fetch;
  readonly now?: Date;
}): Promise<ExchangeCheck> {
  const doFetch = input.fetch ?? fetch;
  const [h, p, s, extra] = input.token.split('.');
  const header = decodePart(h);
  const claims = decodePart(p);
  if (!header || !claims || s === undefined || extra !== undefined)
    return refuse('MalformedToken', 'not a JWS compact token');
  if (header.alg !== 'RS256') return refuse('MalformedToken', `alg ${String(header.alg)} is not RS256`);

  const roleMatch = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(input.roleArn);
  if (!roleMatch) return refuse('NoSuchRole', `${input.roleArn} is not a role ARN`);
  const [, partition, account, roleName] = roleMatch as unknown as [string, string, string, string];

  const iss = claims.iss;
  if (typeof iss !== 'string' || !iss.startsWith('https://'))
    return refuse('MalformedToken', 'iss is not an https URL');
  const hostPath = iss.slice('https://'.length);
  const providerArn = `arn:${partition}:iam::${account}:oidc-provider/${hostPath}`;
  const provider = await input.oidcProviders.getOidcProvider(providerArn);
  if (!provider)
    return refuse('NoOpenIDConnectProvider', `No OpenIDConnect provider found in your account for ${iss}`);

  const discovery = (await (await doFetch(`${iss}/.well-known/openid-configuration`)).json()) as {
    issuer?: unknown;
    jwks_uri?: unknown;
  };
  if (discovery.issuer !== iss || typeof discovery.jwks_uri !== 'string') {
    return refuse('InvalidSignature', 'the discovery document does not name this issuer');
  }
  const jwks = (await (await doFetch(discovery.jwks_uri)).json()) as { keys?: Record<string, unknown>[] };
  const jwk = (jwks.keys ?? []).find((k) => k.kid === header.kid);
  if (!jwk) return refuse('InvalidSignature', `no key ${String(header.kid)} in the issuer's JWKS`);
  const key = createPublicKey({ key: jwk as never, format: 'jwk' });
  if (!verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))) {
    return refuse('InvalidSignature', 'the signature does not verify');
  }

  const now = Math.floor((input.now ?? new Date()).getTime() / 1000);
  if (typeof claims.exp !== 'number' || claims.exp <= now)
    return refuse('ExpiredToken', 'the token has expired');
  if (typeof claims.nbf === 'number' && claims.nbf > now + 300)
    return refuse('ExpiredToken', 'the token is not valid yet');
  const auds = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
  const aud = auds.find((a): a is string => typeof a === 'string' && provider.clientIds.includes(a));
  if (aud === undefined) return refuse('IncorrectAudience', 'Incorrect token audience');

  const role = await input.roles.getRole(roleName);
  if (!role || role.arn !== input.roleArn)
    return refuse('NoSuchRole', `role ${input.roleArn} does not exist`);
  const sub = typeof claims.sub === 'string' ? claims.sub : undefined;
  const context: Record<string, string> = { [`${hostPath}:aud`]: aud };
  if (sub !== undefined) context[`${hostPath}:sub`] = sub;
  const result = await simulateTrust(JSON.parse(role.trustPolicy) as IamTrustPolicyDocument, {
    action: 'sts:AssumeRoleWithWebIdentity',
    principal: providerArn,
    context,
    roleArn: role.arn,
  });
  if (result.ignoredContextKeys.length > 0) {
    throw new Error(
      `the simulator ignored ${result.ignoredContextKeys.join(', ')}: the check would be meaningless`,
    );
  }
  if (result.decision !== 'Allowed' || sub === undefined) {
    return refuse(
      'AccessDenied',
      `Not authorized to perform sts:AssumeRoleWithWebIdentity (sub ${String(sub)})`,
    );
  }
  return { allowed: true, sub, aud, providerArn };
}
