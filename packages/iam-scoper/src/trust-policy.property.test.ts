/**
 * Properties of the trust policies, checked with the IAM policy simulator: for random sets of
 * attached clusters, a request is allowed exactly when it comes from the ExternalDNS service account
 * of one of them (issuer, audience and subject of the same cluster; or cluster ARN, namespace and
 * service account of the same cluster).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildPodIdentityTrustPolicy,
  buildWebIdentityTrustPolicy,
  minifyTrustPolicy,
  type PodIdentityCluster,
  type WebIdentityCluster,
} from './trust-policy.js';
import {
  ACCOUNT,
  podIdentityContext,
  simulateTrust,
  webIdentityContext,
} from './trust-simulate.test.util.js';

// Small pools, so that random clusters share issuers, namespaces and names, and probes often differ
// from an attached cluster in exactly one part.
const hosts = ['oidc.eks.eu-west-1.amazonaws.com', 'oidc.example.org', 'k8s.example.net'];
const paths = ['', '/id/0A1B2C3D4E5F60718293A4B5C6D7E8F9', '/clusters/c-1'];
const namespaces = ['external-dns', 'dns', 'kube-system'];
const serviceAccounts = ['external-dns', 'edns', 'default'];
const audiences = ['sts.amazonaws.com', 'zonekeeper'];

/** A web-identity cluster with its audience spelt out. */
interface WebProbe {
  readonly issuerUrl: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly audience: string;
}

const webCluster: fc.Arbitrary<WebProbe> = fc.record({
  issuerUrl: fc
    .tuple(fc.constantFrom(...hosts), fc.constantFrom(...paths))
    .map(([h, p]) => `https://${h}${p}`),
  namespace: fc.constantFrom(...namespaces),
  serviceAccount: fc.constantFrom(...serviceAccounts),
  audience: fc.constantFrom(...audiences),
});

const podCluster: fc.Arbitrary<PodIdentityCluster> = fc.record({
  clusterArn: fc
    .tuple(
      fc.constantFrom('eu-west-1', 'us-east-1'),
      fc.constantFrom(ACCOUNT, '210987654321'),
      fc.constantFrom('acme-c1', 'acme-c2', 'beta-c1'),
    )
    .map(([region, account, name]) => `arn:aws:eks:${region}:${account}:cluster/${name}`),
  namespace: fc.constantFrom(...namespaces),
  serviceAccount: fc.constantFrom(...serviceAccounts),
});

/** Every probe that differs from `c` in exactly one part (issuer, namespace, service account, audience). */
const webNeighbours = (c: WebProbe): WebProbe[] => [
  ...hosts.flatMap((h) => paths.map((p) => ({ ...c, issuerUrl: `https://${h}${p}` }))),
  ...namespaces.map((namespace) => ({ ...c, namespace })),
  ...serviceAccounts.map((serviceAccount) => ({ ...c, serviceAccount })),
  ...audiences.map((audience) => ({ ...c, audience })),
];
const podNeighbours = (c: PodIdentityCluster): PodIdentityCluster[] => [
  ...['eu-west-1', 'us-east-1'].flatMap((region) =>
    [ACCOUNT, '210987654321'].flatMap((account) =>
      ['acme-c1', 'acme-c2', 'beta-c1'].map((name) => ({
        ...c,
        clusterArn: `arn:aws:eks:${region}:${account}:cluster/${name}`,
      })),
    ),
  ),
  ...namespaces.map((namespace) => ({ ...c, namespace })),
  ...serviceAccounts.map((serviceAccount) => ({ ...c, serviceAccount })),
];

const sameWeb = (a: WebProbe, b: WebProbe) =>
  a.issuerUrl === b.issuerUrl &&
  a.namespace === b.namespace &&
  a.serviceAccount === b.serviceAccount &&
  a.audience === b.audience;
const samePod = (a: PodIdentityCluster, b: PodIdentityCluster) =>
  a.clusterArn === b.clusterArn && a.namespace === b.namespace && a.serviceAccount === b.serviceAccount;

describe('web-identity trust policy properties', () => {
  it('allows a token exactly when issuer, audience and subject are those of one attached cluster (one-part changes included)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(webCluster, { minLength: 1, maxLength: 4 }),
        fc.array(webCluster, { minLength: 1, maxLength: 6 }),
        async (attached, others) => {
          const trust = buildWebIdentityTrustPolicy({
            accountId: ACCOUNT,
            clusters: attached,
            maxPolicyChars: 4096,
          });
          for (const probe of [...attached, ...others, ...attached.flatMap(webNeighbours)]) {
            const hostPath = probe.issuerUrl.slice('https://'.length);
            const result = await simulateTrust(trust, {
              action: 'sts:AssumeRoleWithWebIdentity',
              principal: `arn:aws:iam::${ACCOUNT}:oidc-provider/${hostPath}`,
              context: webIdentityContext(hostPath, {
                aud: probe.audience,
                sub: `system:serviceaccount:${probe.namespace}:${probe.serviceAccount}`,
              }),
            });
            expect(result.ignoredContextKeys).toEqual([]);
            const expected = attached.some((a) => sameWeb(a, probe)) ? 'Allowed' : 'ImplicitlyDenied';
            expect(result.decision).toBe(expected);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('gives the same document for any order of the same clusters', () => {
    fc.assert(
      fc.property(
        fc
          .array(webCluster, { minLength: 1, maxLength: 6 })
          .chain((list) =>
            fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length })),
          ),
        ([list, shuffled]) => {
          const build = (clusters: readonly WebIdentityCluster[]) =>
            minifyTrustPolicy(
              buildWebIdentityTrustPolicy({ accountId: ACCOUNT, clusters, maxPolicyChars: 4096 }),
            );
          expect(build(shuffled)).toBe(build(list));
        },
      ),
    );
  });
});

describe('Pod Identity trust policy properties', () => {
  it('allows a session exactly when cluster, namespace and service account are those of one attached cluster (one-part changes included)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(podCluster, { minLength: 1, maxLength: 6 }),
        fc.array(podCluster, { minLength: 1, maxLength: 6 }),
        async (attached, others) => {
          const trust = buildPodIdentityTrustPolicy({ clusters: attached, maxPolicyChars: 4096 });
          const probes = [...attached, ...others].flatMap((p) => [
            { probe: p, action: 'sts:AssumeRole' },
            { probe: p, action: 'sts:TagSession' },
          ]);
          for (const p of attached.flatMap(podNeighbours))
            probes.push({ probe: p, action: 'sts:AssumeRole' });
          for (const { probe, action } of probes) {
            {
              const result = await simulateTrust(trust, {
                action,
                principal: 'pods.eks.amazonaws.com',
                context: podIdentityContext(probe),
              });
              expect(result.ignoredContextKeys).toEqual([]);
              const expected = attached.some((a) => samePod(a, probe)) ? 'Allowed' : 'ImplicitlyDenied';
              expect(result.decision).toBe(expected);
            }
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('gives the same document for any order of the same clusters', () => {
    fc.assert(
      fc.property(
        fc
          .array(podCluster, { minLength: 1, maxLength: 10 })
          .chain((list) =>
            fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length })),
          ),
        ([list, shuffled]) => {
          const build = (clusters: readonly PodIdentityCluster[]) =>
            minifyTrustPolicy(buildPodIdentityTrustPolicy({ clusters, maxPolicyChars: 4096 }));
          expect(build(shuffled)).toBe(build(list));
        },
      ),
    );
  });
});
