/**
 * The checks AWS STS makes on `AssumeRoleWithWebIdentity`, which moto does not make at all (moto 5.2
 * hands out credentials for any token and any role, even one that does not exist): the enforcer runs
 * them before it forwards an exchange, so a token AWS would refuse gets no credentials here either.
 *
 * In the order STS applies them:
 *  1. the token is an RS256 JWT whose `iss` is an `https://` URL, and the role's account has an IAM
 *     OIDC provider for it (`InvalidIdentityToken`: "No OpenIDConnect provider found");
 *  2. the signature verifies with a key of the issuer's JWKS, found through its discovery document,
 *     whose `issuer` must equal `iss` (`InvalidIdentityToken`);
 *  3. the token is within its lifetime (`ExpiredTokenException`) and one `aud` is a client id of the
 *     provider (`InvalidIdentityToken`: "Incorrect token audience");
 *  4. the role's trust policy allows `sts:AssumeRoleWithWebIdentity` by the provider with the token's
 *     `aud` and `sub` as `<issuer>:aud` / `<issuer>:sub` (`AccessDenied`), decided by the IAM policy
 *     simulator (`@cloud-copilot/iam-simulate`, AGPL: this private package only).
 *
 * The simulator (0.1.173) knows the `aud`/`sub` keys of a fixed list of named providers only and
 * drops those of any other issuer as "ignored": the request is validated with `runSimulation`, then
 * decided by `runUnsafeSimulation` with the requesting provider's `aud`/`sub` (iam-scoper's
 * trust-simulate.test.util.ts does the same for the trust-policy proofs).
 */

import { createPublicKey, verify } from 'node:crypto';
import {
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  type IAMClient,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate';

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
  | {
      readonly allowed: true;
      readonly sub: string;
      readonly aud: string;
      readonly issuer: string;
      readonly providerArn: string;
    }
  | { readonly allowed: false; readonly refusal: ExchangeRefusal; readonly detail: string };

/** The STS error code and HTTP status of a refusal. */
export function stsErrorOf(refusal: ExchangeRefusal): { readonly code: string; readonly status: number } {
  switch (refusal) {
    case 'ExpiredToken':
      return { code: 'ExpiredTokenException', status: 400 };
    case 'AccessDenied':
    case 'NoSuchRole':
      return { code: 'AccessDenied', status: 403 };
    default:
      return { code: 'InvalidIdentityToken', status: 400 };
  }
}

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

async function exists<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof NoSuchEntityException || (error as { name?: string }).name === 'NoSuchEntity')
      return undefined;
    throw error;
  }
}

async function trustAllows(
  trust: unknown,
  roleArn: string,
  providerArn: string,
  hostPath: string,
  claims: { readonly aud: string; readonly sub: string },
): Promise<boolean> {
  const context = { [`${hostPath}:aud`]: claims.aud, [`${hostPath}:sub`]: claims.sub };
  const simulation = {
    identityPolicies: [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    request: {
      action: 'sts:AssumeRoleWithWebIdentity',
      principal: providerArn,
      resource: { accountId: roleArn.split(':')[4] as string, resource: roleArn },
      contextVariables: context,
    },
  };
  const checked = await runSimulation(
    { ...simulation, resourcePolicy: trust as Record<string, unknown> } as Parameters<
      typeof runSimulation
    >[0],
    {},
  );
  if (checked.resultType !== 'single')
    throw new Error(
      `IAM enforcer: the trust policy of ${roleArn} did not simulate: ${JSON.stringify(checked)}`,
    );
  const decided = runUnsafeSimulation(
    {
      ...simulation,
      resourcePolicy: {
        __validated: true,
        policyDocument: trust,
        metadata: { name: 'TrustPolicy' },
        errors: [],
      },
    } as unknown as Parameters<typeof runUnsafeSimulation>[0],
    {},
  );
  return decided === 'Allowed';
}

/** Checks a web-identity exchange as STS would (see the module notes). IAM is read with `iam` (moto, as administrator). */
export async function checkWebIdentityExchange(input: {
  readonly token: string;
  readonly roleArn: string;
  readonly iam: IAMClient;
  /** Fetches the issuer's discovery document and JWKS. */
  readonly fetch: typeof fetch;
  readonly now?: Date;
}): Promise<ExchangeCheck> {
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
  const provider = await exists(() =>
    input.iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: providerArn })),
  );
  if (!provider)
    return refuse('NoOpenIDConnectProvider', `No OpenIDConnect provider found in your account for ${iss}`);

  const discovery = (await (await input.fetch(`${iss}/.well-known/openid-configuration`)).json()) as {
    issuer?: unknown;
    jwks_uri?: unknown;
  };
  if (discovery.issuer !== iss || typeof discovery.jwks_uri !== 'string')
    return refuse('InvalidSignature', 'the discovery document does not name this issuer');
  const jwks = (await (await input.fetch(discovery.jwks_uri)).json()) as { keys?: Record<string, unknown>[] };
  const jwk = (jwks.keys ?? []).find((k) => k.kid === header.kid);
  if (!jwk) return refuse('InvalidSignature', `no key ${String(header.kid)} in the issuer's JWKS`);
  const key = createPublicKey({ key: jwk as never, format: 'jwk' });
  if (!verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url')))
    return refuse('InvalidSignature', 'the signature does not verify');

  const now = Math.floor((input.now ?? new Date()).getTime() / 1000);
  if (typeof claims.exp !== 'number' || claims.exp <= now)
    return refuse('ExpiredToken', 'the token has expired');
  if (typeof claims.nbf === 'number' && claims.nbf > now + 300)
    return refuse('ExpiredToken', 'the token is not valid yet');
  const auds = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
  const aud = auds.find(
    (a): a is string => typeof a === 'string' && (provider.ClientIDList ?? []).includes(a),
  );
  if (aud === undefined) return refuse('IncorrectAudience', 'Incorrect token audience');

  const role = await exists(() => input.iam.send(new GetRoleCommand({ RoleName: roleName })));
  if (!role?.Role || role.Role.Arn !== input.roleArn)
    return refuse('NoSuchRole', `role ${input.roleArn} does not exist`);
  const sub = typeof claims.sub === 'string' ? claims.sub : undefined;
  if (sub === undefined) return refuse('AccessDenied', 'the token has no sub');
  const trust = JSON.parse(decodeURIComponent(role.Role.AssumeRolePolicyDocument ?? '{}'));
  if (!(await trustAllows(trust, role.Role.Arn, providerArn, hostPath, { aud, sub })))
    return refuse('AccessDenied', `Not authorized to perform sts:AssumeRoleWithWebIdentity (sub ${sub})`);
  return { allowed: true, sub, aud, issuer: iss, providerArn };
}
