/**
 * Test support: trust policies under the IAM policy simulator (@cloud-copilot/iam-simulate, AGPL:
 * tests only). Not a test file, not exported by the package.
 *
 * Why two paths:
 * - EKS Pod Identity (`sts:AssumeRole` / `sts:TagSession` with `aws:RequestTag/…`): the simulator
 *   knows every key, so `runSimulation` runs as for the zone policy, and its `ignoredContextKeys`
 *   must be empty.
 * - Web identity (`sts:AssumeRoleWithWebIdentity`): IAM derives `<issuer>:aud` and `<issuer>:sub`
 *   from the token of any registered OIDC provider, but the simulator (0.1.173) only knows the keys
 *   of a fixed list of named providers (accounts.google.com, cognito, GitHub, GitLab, …) and drops
 *   the keys of every other issuer as "ignored", which would make every request look like it has no
 *   `aud` or `sub`. So the request is first run through `runSimulation` (it validates the policy and
 *   the request, and reports the keys it knows), then decided by `runUnsafeSimulation` with the full
 *   context; a key is "ignored" unless the simulator knows it for the action or it is `aud`/`sub` of
 *   the requesting provider, so a misspelt key still fails the test as it does for the zone policy.
 */

import {
  allowedContextKeysForRequest,
  runSimulation,
  runUnsafeSimulation,
} from '@cloud-copilot/iam-simulate';
import type { IamTrustPolicyDocument } from './trust-policy.js';

/** The simulator's decision. */
export type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

/** The outcome of one simulated request. */
export interface TrustDecision {
  readonly decision: Decision;
  /** Request context keys that the simulator would not have evaluated (must be empty). */
  readonly ignoredContextKeys: readonly string[];
}

export const ACCOUNT = '123456789012';
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/zonekeeper/zk-a379a6f6.acme`;

const OIDC_PROVIDER = /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/(.+)$/;

function asDecision(value: unknown): Decision {
  if (value === 'Allowed' || value === 'ImplicitlyDenied' || value === 'ExplicitlyDenied') return value;
  throw new Error(`the simulator returned ${JSON.stringify(value)}`);
}

/**
 * Simulates a call of `action` by `principal` on the role whose trust policy is `trust`.
 * `principal` is an OIDC provider ARN (web identity), a service principal (`pods.eks.amazonaws.com`)
 * or an IAM ARN.
 */
export async function simulateTrust(
  trust: IamTrustPolicyDocument,
  request: {
    readonly action: string;
    readonly principal: string;
    readonly context?: Readonly<Record<string, string | readonly string[]>>;
    readonly roleArn?: string;
  },
): Promise<TrustDecision> {
  const roleArn = request.roleArn ?? ROLE_ARN;
  const context = Object.fromEntries(
    Object.entries(request.context ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : [...v]]),
  ) as Record<string, string | string[]>;
  const simulation = {
    identityPolicies: [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    request: {
      action: request.action,
      principal: request.principal,
      resource: { accountId: /^arn:[^:]+:iam::(\d{12}):/.exec(roleArn)?.[1] ?? ACCOUNT, resource: roleArn },
      contextVariables: context,
    },
  };
  const checked = await runSimulation(
    { ...simulation, resourcePolicy: trust as unknown as Record<string, unknown> } as Parameters<
      typeof runSimulation
    >[0],
    {},
  );
  // An 'error' result (invalid policy, unknown action, wrong resource type) must fail the test loudly.
  if (checked.resultType !== 'single') {
    throw new Error(`simulation did not run: ${JSON.stringify(checked)}`);
  }
  const provider = OIDC_PROVIDER.exec(request.principal)?.[1];
  if (request.action !== 'sts:AssumeRoleWithWebIdentity' || provider === undefined) {
    return {
      decision: asDecision(checked.overallResult),
      ignoredContextKeys: checked.result.ignoredContextKeys ?? [],
    };
  }
  const [service, action] = request.action.split(':') as [string, string];
  const known = new Set(await allowedContextKeysForRequest(service, action, roleArn, false, undefined));
  for (const claim of ['aud', 'sub']) known.add(`${provider}:${claim}`.toLowerCase());
  const ignoredContextKeys = Object.keys(context).filter((k) => !known.has(k.toLowerCase()));
  const known_ = Object.fromEntries(
    Object.entries(context).filter(([k]) => known.has(k.toLowerCase())),
  ) as Record<string, string | string[]>;
  const decided = runUnsafeSimulation(
    {
      ...simulation,
      request: { ...simulation.request, contextVariables: known_ },
      // runUnsafeSimulation loads the resource policy without a name and then reads it; a
      // pre-validated policy carries one (the shape @cloud-copilot/iam-policy's createValidatedPolicy makes).
      resourcePolicy: {
        __validated: true,
        policyDocument: trust,
        metadata: { name: 'TrustPolicy' },
        errors: [],
      },
    } as unknown as Parameters<typeof runUnsafeSimulation>[0],
    {},
  );
  return { decision: asDecision(decided), ignoredContextKeys };
}

/** The request context STS builds for a web-identity token of `issuerHostPath` (only the claims given). */
export function webIdentityContext(
  issuerHostPath: string,
  claims: { readonly aud?: string; readonly sub?: string },
): Record<string, string> {
  const out: Record<string, string> = {};
  if (claims.aud !== undefined) out[`${issuerHostPath}:aud`] = claims.aud;
  if (claims.sub !== undefined) out[`${issuerHostPath}:sub`] = claims.sub;
  return out;
}

/** The session tags EKS Pod Identity sets on its AssumeRole call (all six), as request context. */
export function podIdentityContext(tags: {
  readonly clusterArn: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}): Record<string, string | string[]> {
  const all: Record<string, string> = {
    'eks-cluster-arn': tags.clusterArn,
    'eks-cluster-name': tags.clusterArn.split('/').pop() ?? '',
    'kubernetes-namespace': tags.namespace,
    'kubernetes-service-account': tags.serviceAccount,
    'kubernetes-pod-name': 'external-dns-5d8f7c9b6-x2x7q',
    'kubernetes-pod-uid': '0b6c0e64-61a8-4c3e-9d51-6f7d0f0b9b2e',
  };
  return {
    ...Object.fromEntries(Object.entries(all).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
    'aws:TagKeys': Object.keys(all),
  };
}
