/**
 * Trust policies for keyless credentials: who may assume an organisation's (or a cluster's) IAM role.
 * Pure: no I/O, no clock, no randomness; the same set of clusters always gives the same document,
 * whatever order the clusters come in.
 *
 * ```
 *  builder                          Principal                          Action                          Condition (StringEquals)
 *  buildWebIdentityTrustPolicy      Federated: arn:aws:iam::<acct>:    sts:AssumeRoleWithWebIdentity   <issuer>:aud = <audience>
 *  (IRSA, generic web identity)       oidc-provider/<issuer host/path>                                 <issuer>:sub = system:serviceaccount:<ns>:<sa>
 *                                   one statement per attached cluster
 *  buildPodIdentityTrustPolicy      Service: pods.eks.amazonaws.com    sts:AssumeRole, sts:TagSession  aws:RequestTag/eks-cluster-arn = [<cluster ARNs>]
 *  (EKS Pod Identity)               one statement per (namespace,                                      aws:RequestTag/kubernetes-namespace = <ns>
 *                                     service account) of the attached clusters                        aws:RequestTag/kubernetes-service-account = <sa>
 * ```
 *
 * `<issuer>` is the issuer URL without `https://` (`oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE…`),
 * which is how IAM names an OIDC provider's condition keys. The EKS Pod Identity session tags are the
 * ones AWS documents ("List of session tags added by EKS Pod Identity": `eks-cluster-arn`,
 * `eks-cluster-name`, `kubernetes-namespace`, `kubernetes-service-account`, `kubernetes-pod-name`,
 * `kubernetes-pod-uid`); the cluster is matched by ARN, which also pins the account and region.
 *
 * StringEquals on a key that the request lacks is false, so a token without `aud` or `sub` (or a
 * session without the tags) is denied. A statement per cluster (web identity) keeps the issuer, the
 * audience and the subject of one cluster together: no cluster can use another's audience or service
 * account. Pod Identity statements group clusters by (namespace, service account) only, for the same
 * reason. The proof is `trust-policy.simulate.test.ts` and `trust-policy.property.test.ts`.
 *
 * Size: IAM limits a role's trust policy to 2,048 characters by default; the quota can be raised to
 * 4,096 ("Role trust policy length", IAM and AWS STS quotas; whitespace is not counted). One EKS IRSA
 * statement takes about 400 characters, so a role fits 4 EKS clusters by default and 9 at 4,096; one
 * Pod Identity statement fits about 28 clusters (cluster ARNs of ~55 characters). Beyond the limit
 * the builders throw `INVALID_INPUT` with `details.reason = 'TRUST_POLICY_TOO_LARGE'` (and how many
 * clusters fit): use one role per cluster (each role trusts only its own cluster), or raise the quota
 * and pass `maxPolicyChars`.
 *
 * @packageDocumentation
 */

import { describeValue, invalidInput, validateDnsLabel } from '@zonekeeper/core';
import { IAM_POLICY_VERSION, type IamConditionValues } from './policy.js';

/** The audience Amazon EKS and the AWS SDKs use for web-identity tokens (IRSA). @public */
export const STS_AUDIENCE = 'sts.amazonaws.com';

/** The service principal of EKS Pod Identity. @public */
export const POD_IDENTITY_SERVICE_PRINCIPAL = 'pods.eks.amazonaws.com';

/** The session tags EKS Pod Identity adds to its `AssumeRole` call (AWS's documented list). @public */
export const POD_IDENTITY_SESSION_TAGS = {
  clusterArn: 'eks-cluster-arn',
  clusterName: 'eks-cluster-name',
  namespace: 'kubernetes-namespace',
  serviceAccount: 'kubernetes-service-account',
  podName: 'kubernetes-pod-name',
  podUid: 'kubernetes-pod-uid',
} as const;

/** IAM's default limit on a role's trust policy, in characters (whitespace not counted). @public */
export const ROLE_TRUST_POLICY_DEFAULT_MAX_CHARS = 2048;
/** The largest trust-policy limit AWS grants on request (Service Quotas). @public */
export const ROLE_TRUST_POLICY_MAX_CHARS = 4096;
/** IAM's limit on an OIDC provider URL, in characters. @public */
export const MAX_OIDC_ISSUER_URL_LENGTH = 255;

/** The `details.reason` of the error thrown when a trust policy would exceed its size limit. @public */
export const TRUST_POLICY_TOO_LARGE = 'TRUST_POLICY_TOO_LARGE';

/** The AWS partitions zonekeeper builds ARNs for. @public */
export type AwsPartition = 'aws' | 'aws-cn' | 'aws-us-gov';
const PARTITIONS: ReadonlySet<string> = new Set(['aws', 'aws-cn', 'aws-us-gov']);

/** One statement of a trust policy, in the shape zonekeeper emits. @public */
export interface IamTrustPolicyStatement {
  readonly Effect: 'Allow';
  readonly Principal: { readonly Federated: string } | { readonly Service: string };
  /** One action, or several. */
  readonly Action: string | readonly string[];
  /** Condition operator → condition key → value(s). */
  readonly Condition: Readonly<Record<string, IamConditionValues>>;
}

/** A role trust policy ("assume role policy document"). @public */
export interface IamTrustPolicyDocument {
  readonly Version: typeof IAM_POLICY_VERSION;
  readonly Statement: readonly IamTrustPolicyStatement[];
}

/** One cluster whose ExternalDNS service account may assume the role through web identity. @public */
export interface WebIdentityCluster {
  /**
   * The cluster's service-account issuer, exactly as the `iss` claim of its tokens:
   * `https://` + host (+ path), no port, query, fragment or trailing slash, at most 255 characters.
   * EKS: the cluster's `identity.oidc.issuer` (`https://oidc.eks.<region>.amazonaws.com/id/<ID>`).
   */
  readonly issuerUrl: string;
  /** ExternalDNS's namespace, a Kubernetes namespace name (a lowercase DNS label). */
  readonly namespace: string;
  /** ExternalDNS's service account, a Kubernetes object name (a lowercase DNS subdomain). */
  readonly serviceAccount: string;
  /** The token audience (`aud`). Default {@link STS_AUDIENCE}. */
  readonly audience?: string | undefined;
}

/** Input of {@link buildWebIdentityTrustPolicy}. @public */
export interface WebIdentityTrustPolicyInput {
  /** The 12-digit AWS account id that holds the role and the OIDC providers. */
  readonly accountId: string;
  /** The attached clusters (at least one). Identical entries are merged; order does not matter. */
  readonly clusters: readonly WebIdentityCluster[];
  /** The account's trust-policy limit (default 2,048; at most 4,096 after a quota increase). */
  readonly maxPolicyChars?: number | undefined;
  /** Default `aws`. */
  readonly partition?: AwsPartition | undefined;
}

/** One EKS cluster whose ExternalDNS service account may assume the role through EKS Pod Identity. @public */
export interface PodIdentityCluster {
  /** The cluster ARN, `arn:aws:eks:<region>:<account>:cluster/<name>`. */
  readonly clusterArn: string;
  /** ExternalDNS's namespace. */
  readonly namespace: string;
  /** ExternalDNS's service account. */
  readonly serviceAccount: string;
}

/** Input of {@link buildPodIdentityTrustPolicy}. @public */
export interface PodIdentityTrustPolicyInput {
  /** The attached clusters (at least one). Identical entries are merged; order does not matter. */
  readonly clusters: readonly PodIdentityCluster[];
  /** The account's trust-policy limit (default 2,048; at most 4,096 after a quota increase). */
  readonly maxPolicyChars?: number | undefined;
}

/** A parsed OIDC issuer URL. @public */
export interface OidcIssuer {
  /** The URL as given (`https://oidc.example.com/cluster-a`). */
  readonly url: string;
  /** The URL without `https://`: IAM's name for the provider and the prefix of its condition keys. */
  readonly hostPath: string;
}

/** A parsed EKS cluster ARN. @public */
export interface EksClusterArn {
  readonly arn: string;
  readonly partition: AwsPartition;
  readonly region: string;
  readonly accountId: string;
  readonly name: string;
}

const ACCOUNT_ID = /^\d{12}$/;
const DNS_NAME_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Path segments of an issuer URL: RFC 3986 unreserved characters only. */
const PATH_SEGMENT = /^[A-Za-z0-9._~-]+$/;
/** A Kubernetes object name (RFC 1123 subdomain). */
const SUBDOMAIN = /^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/;
/** An OIDC audience (client id): 1–255 printable ASCII characters without whitespace. */
const AUDIENCE = /^[\u0021-\u007E]{1,255}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const EKS_CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;

/**
 * Checks a 12-digit AWS account id; returns it unchanged.
 * @throws `INVALID_INPUT` otherwise.
 * @public
 */
export function validateAccountId(value: unknown, what = 'AWS account id'): string {
  if (typeof value !== 'string' || !ACCOUNT_ID.test(value)) {
    throw invalidInput(
      `${what} ${describeValue(value, { maxLength: 100 })} is invalid: it is 12 digits, e.g. "123456789012".`,
    );
  }
  return value;
}

function validatePartition(value: unknown): AwsPartition {
  if (value === undefined) return 'aws';
  if (typeof value !== 'string' || !PARTITIONS.has(value)) {
    throw invalidInput(
      `AWS partition ${describeValue(value, { maxLength: 100 })} is invalid: use "aws", "aws-cn" or "aws-us-gov".`,
    );
  }
  return value as AwsPartition;
}

/**
 * Parses and checks an OIDC issuer URL the way IAM registers OIDC providers: `https://`, a lowercase
 * DNS host name, an optional path of unreserved characters, no port, user, query, fragment or trailing
 * slash, at most 255 characters. Returns the URL and its IAM name (`hostPath`).
 *
 * @example
 * ```ts
 * parseOidcIssuerUrl('https://oidc.eks.eu-west-1.amazonaws.com/id/ABC').hostPath;
 * // 'oidc.eks.eu-west-1.amazonaws.com/id/ABC'
 * ```
 * @throws `INVALID_INPUT` for anything else.
 * @public
 */
export function parseOidcIssuerUrl(value: unknown): OidcIssuer {
  const fail = (why: string): never => {
    throw invalidInput(
      `OIDC issuer URL ${describeValue(value, { maxLength: 100 })} is invalid: ${why}. Pass the issuer exactly as the "iss" claim of the cluster's service-account tokens, e.g. "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE".`,
      { issuerUrl: typeof value === 'string' ? value : String(value) },
    );
  };
  if (typeof value !== 'string') return fail('it must be a string');
  if (value.length > MAX_OIDC_ISSUER_URL_LENGTH) {
    return fail(`it is longer than IAM's ${MAX_OIDC_ISSUER_URL_LENGTH} characters`);
  }
  if (!value.startsWith('https://')) return fail('it must begin with "https://"');
  const rest = value.slice('https://'.length);
  if (/[?#]/.test(rest)) return fail('it may not have a query or a fragment');
  if (rest.includes('@')) return fail('it may not carry a user name');
  if (rest.endsWith('/')) return fail('it may not end with "/"');
  const slash = rest.indexOf('/');
  const host = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash + 1);
  if (host.includes(':')) return fail('it may not contain a port number (IAM does not accept one)');
  if (host.length === 0 || host.length > 253) return fail('its host name is empty or too long');
  if (/[A-Z]/.test(host)) return fail('its host name must be lowercase');
  const labels = host.split('.');
  if (labels.length < 2 || !labels.every((l) => DNS_NAME_LABEL.test(l))) {
    return fail('its host is not a DNS name of at least two labels of a-z, 0-9 and "-"');
  }
  if (path.length > 0 && !path.split('/').every((s) => PATH_SEGMENT.test(s))) {
    return fail('its path segments may contain only letters, digits and "-", ".", "_", "~"');
  }
  return { url: value, hostPath: rest };
}

/**
 * The ARN of the IAM OIDC provider for an issuer: `arn:<partition>:iam::<account>:oidc-provider/<host/path>`.
 * @throws `INVALID_INPUT` for a bad account id or issuer URL.
 * @public
 */
export function oidcProviderArn(
  accountId: string,
  issuerUrl: string,
  partition: AwsPartition = 'aws',
): string {
  const account = validateAccountId(accountId);
  const { hostPath } = parseOidcIssuerUrl(issuerUrl);
  return `arn:${validatePartition(partition)}:iam::${account}:oidc-provider/${hostPath}`;
}

/**
 * Checks a Kubernetes namespace name (a lowercase DNS label, at most 63 characters); returns it.
 * @throws `INVALID_INPUT` otherwise.
 * @public
 */
export function validateKubernetesNamespace(value: unknown): string {
  return validateDnsLabel(value, 'Kubernetes namespace');
}

/**
 * Checks a Kubernetes service account name (a lowercase DNS subdomain, at most 253 characters);
 * returns it.
 * @throws `INVALID_INPUT` otherwise.
 * @public
 */
export function validateServiceAccountName(value: unknown): string {
  if (typeof value !== 'string' || !SUBDOMAIN.test(value) || value.split('.').some((l) => l.length === 0)) {
    throw invalidInput(
      `Kubernetes service account name ${describeValue(value, { maxLength: 100 })} is invalid: 1–253 characters of a-z, 0-9, "-" and ".", beginning and ending with a letter or digit.`,
    );
  }
  return value;
}

/**
 * The `sub` claim of a Kubernetes service-account token: `system:serviceaccount:<namespace>:<name>`.
 * @throws `INVALID_INPUT` for an invalid namespace or name.
 * @public
 */
export function serviceAccountSubject(namespace: string, serviceAccount: string): string {
  return `system:serviceaccount:${validateKubernetesNamespace(namespace)}:${validateServiceAccountName(serviceAccount)}`;
}

function validateAudience(value: unknown): string {
  if (value === undefined) return STS_AUDIENCE;
  if (typeof value !== 'string' || !AUDIENCE.test(value)) {
    throw invalidInput(
      `OIDC audience ${describeValue(value, { maxLength: 100 })} is invalid: 1–255 printable ASCII characters without spaces (default "${STS_AUDIENCE}").`,
    );
  }
  return value;
}

/**
 * Parses and checks an EKS cluster ARN, `arn:<partition>:eks:<region>:<account>:cluster/<name>`.
 * @throws `INVALID_INPUT` otherwise.
 * @public
 */
export function parseEksClusterArn(value: unknown): EksClusterArn {
  const fail = (why: string): never => {
    throw invalidInput(
      `EKS cluster ARN ${describeValue(value, { maxLength: 100 })} is invalid: ${why}; expected "arn:aws:eks:<region>:<12-digit account>:cluster/<name>".`,
      { clusterArn: typeof value === 'string' ? value : String(value) },
    );
  };
  if (typeof value !== 'string') return fail('it must be a string');
  const parts = value.split(':');
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'eks') return fail('it is not an EKS ARN');
  const [, partition, , region, accountId, resource] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (!PARTITIONS.has(partition))
    return fail(`the partition ${describeValue(partition, { maxLength: 100 })} is unknown`);
  if (!REGION.test(region))
    return fail(`the region ${describeValue(region, { maxLength: 100 })} is not a region name`);
  if (!ACCOUNT_ID.test(accountId)) return fail('the account id is not 12 digits');
  if (!resource.startsWith('cluster/')) return fail('it is not a cluster ARN');
  const name = resource.slice('cluster/'.length);
  if (!EKS_CLUSTER_NAME.test(name)) {
    return fail(
      'the cluster name is not 1–100 letters, digits, "-" and "_" beginning with a letter or digit',
    );
  }
  return { arn: value, partition: partition as AwsPartition, region, accountId, name };
}

function validateMaxChars(value: unknown): number {
  if (value === undefined) return ROLE_TRUST_POLICY_DEFAULT_MAX_CHARS;
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < 1 ||
    value > ROLE_TRUST_POLICY_MAX_CHARS
  ) {
    throw invalidInput(
      `Trust policy: maxPolicyChars must be an integer from 1 to ${ROLE_TRUST_POLICY_MAX_CHARS} (IAM's highest quota), got ${describeValue(value, { maxLength: 100 })}.`,
    );
  }
  return value;
}

function clustersOf(value: unknown, builder: string): readonly unknown[] {
  if (!Array.isArray(value)) {
    throw invalidInput(
      `${builder}: clusters must be an array, got ${describeValue(value, { maxLength: 100 })}.`,
    );
  }
  if (value.length === 0) {
    throw invalidInput(
      `${builder}: no cluster is attached, and a role that trusts nobody is not a valid trust policy; delete the role when the last cluster detaches.`,
    );
  }
  return value;
}

function objectAt(value: unknown, builder: string, index: number): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidInput(
      `${builder}: clusters[${index}] must be an object, got ${describeValue(value, { maxLength: 100 })}.`,
    );
  }
  return value as Record<string, unknown>;
}

/**
 * The JSON text of a trust policy, without whitespace: `CreateRole`'s `AssumeRolePolicyDocument`.
 * @public
 */
export function minifyTrustPolicy(doc: IamTrustPolicyDocument): string {
  return JSON.stringify(doc);
}

/**
 * The size IAM counts against the trust-policy limit: the characters that are not whitespace.
 * @public
 */
export function trustPolicyCharacterCount(doc: IamTrustPolicyDocument): number {
  return minifyTrustPolicy(doc).replace(/\s/g, '').length;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Returns `build(items)` if it fits `limit`, else throws the TRUST_POLICY_TOO_LARGE error, saying how
 * many of the (sorted) clusters would fit.
 */
function sized<T>(
  builder: string,
  items: readonly T[],
  build: (items: readonly T[]) => IamTrustPolicyDocument,
  limit: number,
  advice: string,
): IamTrustPolicyDocument {
  const doc = build(items);
  const size = trustPolicyCharacterCount(doc);
  if (size <= limit) return doc;
  let fits = 0;
  for (let n = items.length - 1; n >= 1; n--) {
    if (trustPolicyCharacterCount(build(items.slice(0, n))) <= limit) {
      fits = n;
      break;
    }
  }
  throw invalidInput(
    `${builder}: the trust policy for ${items.length} cluster(s) has ${size} characters, over the limit of ${limit} (IAM's role trust policy length: 2,048 by default, at most 4,096 after a quota increase); only ${fits} of them fit. ${advice}`,
    { reason: TRUST_POLICY_TOO_LARGE, size, limit, clusters: items.length, fits },
  );
}

/**
 * Builds the trust policy that lets exactly the ExternalDNS service account of exactly the given
 * clusters assume the role with `sts:AssumeRoleWithWebIdentity` (IRSA on EKS, and generic web identity
 * with any OIDC issuer a cluster exposes): one statement per cluster, trusting the cluster's IAM OIDC
 * provider with `aud` and `sub` conditions. Pure and deterministic; statements are sorted.
 *
 * @example
 * ```ts
 * const trust = buildWebIdentityTrustPolicy({
 *   accountId: '123456789012',
 *   clusters: [{ issuerUrl: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC', namespace: 'external-dns', serviceAccount: 'external-dns' }],
 * });
 * minifyTrustPolicy(trust); // CreateRole's AssumeRolePolicyDocument
 * ```
 * @throws `INVALID_INPUT` for an invalid account id, issuer URL, namespace, service account, audience
 *   or limit, for an empty cluster list, and (`details.reason` {@link TRUST_POLICY_TOO_LARGE}) when
 *   the document would exceed `maxPolicyChars`.
 * @public
 */
export function buildWebIdentityTrustPolicy(input: WebIdentityTrustPolicyInput): IamTrustPolicyDocument {
  const builder = 'Web identity trust policy';
  if (typeof input !== 'object' || input === null) {
    throw invalidInput(
      `${builder}: input must be an object with accountId and clusters, got ${describeValue(input, { maxLength: 100 })}.`,
    );
  }
  const accountId = validateAccountId(input.accountId);
  const partition = validatePartition(input.partition);
  const limit = validateMaxChars(input.maxPolicyChars);
  const entries = clustersOf(input.clusters, builder).map((raw, i) => {
    const c = objectAt(raw, builder, i);
    const { hostPath } = parseOidcIssuerUrl(c.issuerUrl);
    return {
      hostPath,
      audience: validateAudience(c.audience),
      subject: serviceAccountSubject(c.namespace as string, c.serviceAccount as string),
    };
  });
  const unique = new Map<string, (typeof entries)[number]>();
  for (const e of entries) unique.set(JSON.stringify([e.hostPath, e.subject, e.audience]), e);
  const sorted = [...unique.values()].sort(
    (a, b) =>
      compare(a.hostPath, b.hostPath) || compare(a.subject, b.subject) || compare(a.audience, b.audience),
  );
  const build = (items: readonly (typeof sorted)[number][]): IamTrustPolicyDocument => ({
    Version: IAM_POLICY_VERSION,
    Statement: items.map((e) => ({
      Effect: 'Allow',
      Principal: { Federated: `arn:${partition}:iam::${accountId}:oidc-provider/${e.hostPath}` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { [`${e.hostPath}:aud`]: e.audience, [`${e.hostPath}:sub`]: e.subject } },
    })),
  });
  return sized(
    builder,
    sorted,
    build,
    limit,
    'Give each cluster its own role (a per-cluster identity trusts only its own cluster), or raise the quota and pass maxPolicyChars.',
  );
}

/**
 * Builds the trust policy that lets EKS Pod Identity assume the role (`sts:AssumeRole` and
 * `sts:TagSession` by `pods.eks.amazonaws.com`) only for the ExternalDNS service account of exactly
 * the given clusters, matched by the session tags EKS Pod Identity sets (`eks-cluster-arn`,
 * `kubernetes-namespace`, `kubernetes-service-account`). One statement per (namespace, service
 * account), listing the clusters that use it. Pure and deterministic; statements and ARNs are sorted.
 *
 * The association itself (cluster, namespace, service account → role) is created through the EKS API
 * (`@zonekeeper/iam-scoper/eks`); this policy is what keeps an association in another organisation's
 * cluster from using the role.
 *
 * @throws `INVALID_INPUT` for an invalid cluster ARN, namespace, service account or limit, for an
 *   empty cluster list, and (`details.reason` {@link TRUST_POLICY_TOO_LARGE}) when the document would
 *   exceed `maxPolicyChars`.
 * @public
 */
export function buildPodIdentityTrustPolicy(input: PodIdentityTrustPolicyInput): IamTrustPolicyDocument {
  const builder = 'Pod Identity trust policy';
  if (typeof input !== 'object' || input === null) {
    throw invalidInput(
      `${builder}: input must be an object with clusters, got ${describeValue(input, { maxLength: 100 })}.`,
    );
  }
  const limit = validateMaxChars(input.maxPolicyChars);
  const unique = new Map<string, { clusterArn: string; namespace: string; serviceAccount: string }>();
  clustersOf(input.clusters, builder).forEach((raw, i) => {
    const c = objectAt(raw, builder, i);
    const entry = {
      clusterArn: parseEksClusterArn(c.clusterArn).arn,
      namespace: validateKubernetesNamespace(c.namespace),
      serviceAccount: validateServiceAccountName(c.serviceAccount),
    };
    unique.set(JSON.stringify([entry.namespace, entry.serviceAccount, entry.clusterArn]), entry);
  });
  const sorted = [...unique.values()].sort(
    (a, b) =>
      compare(a.namespace, b.namespace) ||
      compare(a.serviceAccount, b.serviceAccount) ||
      compare(a.clusterArn, b.clusterArn),
  );
  const build = (items: readonly (typeof sorted)[number][]): IamTrustPolicyDocument => {
    // Sorted by (namespace, service account), so each group is one run of consecutive items.
    const groups: { namespace: string; serviceAccount: string; arns: string[] }[] = [];
    for (const item of items) {
      const last = groups[groups.length - 1];
      if (last && last.namespace === item.namespace && last.serviceAccount === item.serviceAccount) {
        last.arns.push(item.clusterArn);
      } else {
        groups.push({
          namespace: item.namespace,
          serviceAccount: item.serviceAccount,
          arns: [item.clusterArn],
        });
      }
    }
    return {
      Version: IAM_POLICY_VERSION,
      Statement: groups.map((g) => ({
        Effect: 'Allow',
        Principal: { Service: POD_IDENTITY_SERVICE_PRINCIPAL },
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Condition: {
          StringEquals: {
            [`aws:RequestTag/${POD_IDENTITY_SESSION_TAGS.clusterArn}`]:
              g.arns.length === 1 ? (g.arns[0] as string) : g.arns,
            [`aws:RequestTag/${POD_IDENTITY_SESSION_TAGS.namespace}`]: g.namespace,
            [`aws:RequestTag/${POD_IDENTITY_SESSION_TAGS.serviceAccount}`]: g.serviceAccount,
          },
        },
      })),
    };
  };
  return sized(
    builder,
    sorted,
    build,
    limit,
    'Split the clusters over several roles, or raise the quota and pass maxPolicyChars.',
  );
}
