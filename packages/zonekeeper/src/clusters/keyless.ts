/**
 * Keyless credentials of attached clusters: the organisation's IAM role, whose trust policy admits
 * exactly the ExternalDNS service account of exactly the organisation's keyless clusters, and what
 * each mode needs around it — gathered, planned (pure, JSON) and applied here; `attachCluster` and
 * `detachCluster` run these steps in their own plans.
 *
 * ```
 *  mode          the cluster gives                 zonekeeper makes (in this order)
 *  irsa          its OIDC issuer (EKS)             IAM OIDC provider (or adopts the platform's), role + trust + zone policy
 *  web-identity  its OIDC issuer, an audience      the same
 *  pod-identity  its EKS cluster ARN               role + trust + zone policy, the Pod Identity association
 * ```
 *
 * One role per organisation (named like its IAM user, under `/zonekeeper/`); its trust is rebuilt from
 * every keyless attachment of the organisation with identity scope `organization` each time one
 * changes, so it never holds a cluster that is not attached to it. A cluster attached with identity
 * scope `cluster` gets a role of its own instead (named like the cluster's IAM user, tagged with the
 * cluster, the zone policy narrowed to `<cluster>.<zone>`), whose trust admits that cluster only. An issuer (the IAM OIDC provider carries the organisation's tag) and an
 * EKS cluster's ExternalDNS association belong to one organisation: another organisation's attach
 * naming them is refused before anything is written.
 *
 * @internal
 * @packageDocumentation
 */

import { type CallOptions, hasErrorCode, invalidInput, ZonekeeperError } from '@zonekeeper/core';
import type { KeylessCredentials } from '@zonekeeper/externaldns-deployer';
import {
  buildPodIdentityTrustPolicy,
  buildWebIdentityTrustPolicy,
  buildZonePolicy,
  clusterRecordNames,
  type IamTrustPolicyDocument,
  type IamTrustPolicyStatement,
  IDENTITY_PATH,
  IDENTITY_TAGS,
  type IdentityRole,
  isManagedIdentity,
  MANAGED_BY_VALUE,
  minifyPolicy,
  type OidcProvider,
  oidcProviderArn,
  type PodIdentityAssociationSummary,
  parseEksClusterArn,
  parseOidcIssuerUrl,
  STS_AUDIENCE,
  TRUST_POLICY_TOO_LARGE,
  trustPolicyCharacterCount,
} from '@zonekeeper/iam-scoper';
import { type AttachmentCredentials, canonicalJson } from '@zonekeeper/vault-keys';
import type { Context } from '../context.js';

/** How a cluster's ExternalDNS authenticates (`attachCluster`'s `credentials`). @public */
export type ClusterCredentialsMode = 'access-key' | 'irsa' | 'pod-identity' | 'web-identity';

/** What a keyless mode needs to know of the cluster (`attachCluster`'s `workloadIdentity`). @public */
export interface WorkloadIdentityInput {
  /**
   * irsa, web-identity: the cluster's service-account issuer, exactly the `iss` of its tokens
   * (EKS: `identity.oidc.issuer`, `https://oidc.eks.<region>.amazonaws.com/id/<ID>`).
   */
  readonly issuerUrl?: string;
  /** pod-identity: the EKS cluster's ARN, `arn:aws:eks:<region>:<account>:cluster/<name>`. */
  readonly eksClusterArn?: string;
  /** web-identity: the token audience (default `sts.amazonaws.com`; IRSA always uses that one). */
  readonly audience?: string;
}

/** The service account ExternalDNS runs as (the renderer's default name). */
export const EXTERNAL_DNS_SERVICE_ACCOUNT = 'external-dns';

const MODES: readonly ClusterCredentialsMode[] = ['access-key', 'irsa', 'pod-identity', 'web-identity'];

/**
 * Validates `credentials` and `workloadIdentity` of an attach. `undefined`: not given (keep the
 * recorded mode); `null`: an access key; else the keyless credentials to record.
 * @throws `INVALID_INPUT` (before anything is read).
 * @internal
 */
export function validateClusterCredentials(
  mode: unknown,
  workload: unknown,
): AttachmentCredentials | null | undefined {
  if (mode === undefined) {
    if (workload !== undefined)
      throw invalidInput(
        'workloadIdentity is only used with credentials "irsa", "pod-identity" or "web-identity".',
      );
    return undefined;
  }
  if (typeof mode !== 'string' || !(MODES as readonly string[]).includes(mode))
    throw invalidInput(
      `credentials must be one of ${MODES.map((m) => `"${m}"`).join(', ')}, got ${JSON.stringify(mode)}.`,
    );
  if (mode === 'access-key') {
    if (workload !== undefined) throw invalidInput('credentials "access-key" takes no workloadIdentity.');
    return null;
  }
  if (typeof workload !== 'object' || workload === null || Array.isArray(workload))
    throw invalidInput(
      `credentials "${mode}" needs workloadIdentity: ${mode === 'pod-identity' ? '{ eksClusterArn }' : '{ issuerUrl }'}.`,
    );
  const w = workload as Record<string, unknown>;
  const allowed =
    mode === 'pod-identity' ? ['eksClusterArn'] : mode === 'irsa' ? ['issuerUrl'] : ['issuerUrl', 'audience'];
  for (const key of Object.keys(w))
    if (!allowed.includes(key))
      throw invalidInput(
        `workloadIdentity.${key} is not used by credentials "${mode}" (it takes ${allowed.join(', ')}).`,
      );
  if (mode === 'pod-identity') return { mode, clusterArn: parseEksClusterArn(w.eksClusterArn).arn };
  const issuerUrl = parseOidcIssuerUrl(w.issuerUrl).url;
  const audience = w.audience ?? STS_AUDIENCE;
  if (typeof audience !== 'string' || !/^[\u0021-\u007E]{1,255}$/.test(audience))
    throw invalidInput(
      `workloadIdentity.audience must be 1–255 printable ASCII characters without spaces, got ${JSON.stringify(audience)}.`,
    );
  return { mode: mode as 'irsa' | 'web-identity', issuerUrl, audience };
}

/** The mode of recorded credentials. @internal */
export function modeOf(credentials: AttachmentCredentials | undefined): ClusterCredentialsMode {
  return credentials?.mode ?? 'access-key';
}

/** A keyless cluster of the organisation, as its trust policy needs it. @internal */
export interface KeylessCluster {
  readonly clusterId: string;
  readonly namespace: string;
  readonly credentials: AttachmentCredentials;
}

/** The AWS account the roles live in. @internal */
export interface KeylessAccount {
  readonly accountId: string;
  readonly partition: 'aws' | 'aws-cn' | 'aws-us-gov';
  readonly maxTrustPolicyChars: number;
}

/**
 * The configured account of keyless credentials.
 * @throws `INVALID_INPUT` when a roles provider is configured without `keyless.accountId`.
 * @internal
 */
export function keylessAccount(ctx: Context): KeylessAccount {
  const { accountId, partition, maxTrustPolicyChars } = ctx.keyless;
  if (accountId === undefined)
    throw invalidInput(
      'Keyless credentials need a roles provider (config.roles, e.g. the IAM one) and keyless.accountId (the AWS account of the roles and OIDC providers) in the configuration; the CLI: --aws-account-id. Nothing was written.',
    );
  return { accountId, partition, maxTrustPolicyChars };
}

/**
 * A role's name and ARN: the organisation role is named like the organisation's IAM user, a
 * cluster's role (identity scope `cluster`) like the cluster's IAM user. @internal
 */
export function organizationRole(
  account: KeylessAccount,
  userName: string,
): { roleName: string; roleArn: string } {
  return {
    roleName: userName,
    roleArn: `arn:${account.partition}:iam::${account.accountId}:role${IDENTITY_PATH}${userName}`,
  };
}

/**
 * The trust policy admitting exactly `clusters`' ExternalDNS service accounts, or `null` for none.
 * Pure.
 * @throws `INVALID_INPUT` (`TRUST_POLICY_TOO_LARGE`) beyond the account's limit.
 * @internal
 */
export function organizationTrustPolicy(
  account: KeylessAccount,
  clusters: readonly KeylessCluster[],
): IamTrustPolicyDocument | null {
  const web = clusters.flatMap((c) =>
    c.credentials.mode === 'pod-identity'
      ? []
      : [
          {
            issuerUrl: c.credentials.issuerUrl,
            namespace: c.namespace,
            serviceAccount: EXTERNAL_DNS_SERVICE_ACCOUNT,
            audience: c.credentials.audience,
          },
        ],
  );
  const pod = clusters.flatMap((c) =>
    c.credentials.mode === 'pod-identity'
      ? [
          {
            clusterArn: c.credentials.clusterArn,
            namespace: c.namespace,
            serviceAccount: EXTERNAL_DNS_SERVICE_ACCOUNT,
          },
        ]
      : [],
  );
  if (web.length === 0 && pod.length === 0) return null;
  const limit = { maxPolicyChars: ROLE_TRUST_POLICY_MAX_FOR_BUILDERS };
  const statements: IamTrustPolicyStatement[] = [
    ...(web.length > 0
      ? buildWebIdentityTrustPolicy({
          accountId: account.accountId,
          partition: account.partition,
          clusters: web,
          ...limit,
        }).Statement
      : []),
    ...(pod.length > 0 ? buildPodIdentityTrustPolicy({ clusters: pod, ...limit }).Statement : []),
  ];
  const doc: IamTrustPolicyDocument = { Version: '2012-10-17', Statement: statements };
  const size = trustPolicyCharacterCount(doc);
  if (size > account.maxTrustPolicyChars)
    throw invalidInput(
      `The role's trust policy for ${clusters.length} keyless cluster(s) has ${size} characters, over the account's limit of ${account.maxTrustPolicyChars} (IAM's role trust policy length; raise the quota and set keyless.maxTrustPolicyChars, or attach this cluster with credentials "access-key"). Nothing was written.`,
      { reason: TRUST_POLICY_TOO_LARGE, size, limit: account.maxTrustPolicyChars, clusters: clusters.length },
    );
  return doc;
}

/** The builders' own limit is the largest IAM grants; the account's limit is checked on the whole document. */
const ROLE_TRUST_POLICY_MAX_FOR_BUILDERS = 4096;

/** A step of the keyless part of an attach or detach. JSON data. @public */
export type KeylessStep =
  | { readonly op: 'create-oidc-provider'; readonly url: string; readonly clientIds: readonly string[] }
  | { readonly op: 'tag-oidc-provider'; readonly arn: string }
  | {
      readonly op: 'create-role';
      readonly roleName: string;
      readonly trustPolicy: string;
      /** A cluster's own role (identity scope `cluster`): tagged with the cluster. */
      readonly clusterId?: string;
    }
  | { readonly op: 'update-trust'; readonly roleName: string; readonly trustPolicy: string }
  | {
      readonly op: 'put-role-policy';
      readonly roleName: string;
      readonly policyName: string;
      /** `null`: the zone this plan creates (filled in when it exists). */
      readonly zoneId: string | null;
      /** A cluster's own role: the policy allows the cluster's names only (`<cluster>.<zone>`). */
      readonly clusterId?: string;
    }
  | {
      readonly op: 'create-pod-identity-association';
      readonly clusterName: string;
      readonly namespace: string;
      readonly serviceAccount: string;
      readonly roleArn: string;
    }
  | {
      readonly op: 'delete-pod-identity-association';
      readonly clusterName: string;
      readonly associationId: string;
    }
  | { readonly op: 'delete-role-policy'; readonly roleName: string; readonly policyName: string }
  | { readonly op: 'delete-role'; readonly roleName: string }
  | { readonly op: 'delete-oidc-provider'; readonly arn: string };

/** What is read of one role. Secret-free. @internal */
export interface RoleFacts {
  readonly role?: IdentityRole;
  /** The role's inline policy names. */
  readonly rolePolicies: readonly string[];
  /** The current zone policy text of the role, if any. */
  readonly rolePolicy?: string;
}

/** What the keyless planners read. Secret-free. @internal */
export interface KeylessState extends RoleFacts {
  /**
   * The cluster's own role (identity scope `cluster`), when gathered: read on every attach and detach
   * of a cluster, whatever its scope, so a move between scopes finds the role it leaves.
   */
  readonly clusterRole?: RoleFacts;
  /** The OIDC provider of this cluster's issuer (irsa, web-identity): `null` when absent. */
  readonly oidcProvider?: OidcProvider | null;
  /** The OIDC providers of issuers the cluster used before (detach, mode switch). */
  readonly previousOidcProvider?: OidcProvider | null;
  /** ExternalDNS's association in the EKS cluster (pod-identity), with its role and tags. */
  readonly association?:
    | (PodIdentityAssociationSummary & {
        readonly roleArn: string;
        readonly tags: Readonly<Record<string, string>>;
      })
    | null;
  /** Every association of the EKS cluster tagged for a zonekeeper organisation (the isolation check). */
  readonly taggedAssociations: readonly { readonly organization: string; readonly namespace: string }[];
  /**
   * What zonekeeper made for this cluster that its record may no longer name (a move back to a key, or
   * to another issuer, that stopped after recording it): OIDC providers tagged with the cluster and,
   * for a key cluster, associations tagged with it.
   */
  readonly strays?: {
    readonly oidcProviders: readonly { readonly arn: string; readonly url: string }[];
    readonly associations: readonly { readonly clusterName: string; readonly associationId: string }[];
  };
}

/** The keyless tags of what zonekeeper creates for an organisation. @internal */
export function keylessTags(ctx: Context, organization: string, clusterId?: string): Record<string, string> {
  return {
    [IDENTITY_TAGS.managedBy]: MANAGED_BY_VALUE,
    [IDENTITY_TAGS.organization]: organization,
    [IDENTITY_TAGS.baseDomain]: ctx.baseDomain,
    ...(clusterId === undefined ? {} : { [IDENTITY_TAGS.cluster]: clusterId }),
  };
}

/** The EKS cluster name of an ARN. */
export function eksClusterName(arn: string): string {
  return parseEksClusterArn(arn).name;
}

/** Reads what the keyless planners need. @internal */
export async function gatherKeyless(
  ctx: Context,
  input: {
    readonly roleName: string;
    readonly policyName: string;
    readonly namespace: string;
    readonly credentials: AttachmentCredentials | undefined;
    readonly previous: AttachmentCredentials | undefined;
    /** A key cluster: also read what was made for it that no record names (see {@link KeylessState.strays}). */
    readonly strayFor?: { readonly organization: string; readonly clusterId: string };
    /**
     * Also list the OIDC providers created for this cluster (tagged with it), for a keyless cluster
     * too: those its record no longer names (an attach that stopped after recording a new issuer).
     */
    readonly providersFor?: { readonly organization: string; readonly clusterId: string };
    /** The cluster's own role (identity scope `cluster`), read as well when given. */
    readonly clusterRole?: { readonly roleName: string; readonly policyName: string };
  },
  call: CallOptions,
): Promise<KeylessState> {
  const { roles, podIdentity } = ctx.ports;
  const { role, rolePolicies, rolePolicy } = await gatherRole(ctx, input.roleName, input.policyName, call);
  const clusterRole = input.clusterRole
    ? await gatherRole(ctx, input.clusterRole.roleName, input.clusterRole.policyName, call)
    : undefined;
  const providerOf = async (c: AttachmentCredentials | undefined) =>
    c && c.mode !== 'pod-identity'
      ? ((await roles.getOidcProvider(
          oidcProviderArn(keylessAccount(ctx).accountId, c.issuerUrl, ctx.keyless.partition),
          call,
        )) ?? null)
      : undefined;
  const oidcProvider = await providerOf(input.credentials);
  const previousOidcProvider =
    input.previous &&
    input.previous.mode !== 'pod-identity' &&
    input.previous.issuerUrl !== (input.credentials as { issuerUrl?: string } | undefined)?.issuerUrl
      ? await providerOf(input.previous)
      : undefined;
  let association: KeylessState['association'];
  const taggedAssociations: { organization: string; namespace: string }[] = [];
  const pod =
    input.credentials?.mode === 'pod-identity'
      ? input.credentials
      : input.previous?.mode === 'pod-identity'
        ? input.previous
        : undefined;
  if (pod) {
    const clusterName = eksClusterName(pod.clusterArn);
    let summaries: readonly PodIdentityAssociationSummary[] = [];
    try {
      summaries = await podIdentity.listAssociations(clusterName, {}, call);
    } catch (error) {
      if (!hasErrorCode(error, 'NOT_FOUND')) throw error;
      throw new ZonekeeperError(
        'NOT_FOUND',
        `EKS cluster ${clusterName} (${pod.clusterArn}) does not exist for the Pod Identity API; check the ARN. Nothing was written.`,
        { cause: error, details: { clusterArn: pod.clusterArn } },
      );
    }
    association = null;
    for (const s of summaries) {
      if (s.ownerArn !== undefined) continue;
      const full = await podIdentity.describeAssociation(clusterName, s.associationId, call);
      if (!full) continue;
      const org = full.tags[IDENTITY_TAGS.organization];
      if (isManagedIdentity(full.tags) && org !== undefined)
        taggedAssociations.push({ organization: org, namespace: full.namespace });
      if (full.namespace === input.namespace && full.serviceAccount === EXTERNAL_DNS_SERVICE_ACCOUNT)
        association = { ...s, roleArn: full.roleArn, tags: full.tags };
    }
  }
  let strays: KeylessState['strays'];
  const who = input.strayFor ?? input.providersFor;
  if (who) {
    const { organization, clusterId } = who;
    // Providers are listed even when no role is left (a crash after the role went, before its provider).
    const strayRoles = input.strayFor
      ? [role, clusterRole?.role].filter(
          (r): r is IdentityRole =>
            r !== undefined && (ourRole(ctx, r, organization) || ourRole(ctx, r, organization, clusterId)),
        )
      : [];
    const tagged = (tags: Readonly<Record<string, string>>) =>
      isManagedIdentity(tags) &&
      tags[IDENTITY_TAGS.organization] === organization &&
      tags[IDENTITY_TAGS.cluster] === clusterId;
    const oidcProviders = (await roles.listOidcProviders(call))
      .filter((p) => tagged(p.tags))
      .map((p) => ({ arn: p.arn, url: p.url }));
    const strayAssociations: { clusterName: string; associationId: string }[] = [];
    const eksArns = new Set(
      strayRoles.flatMap(
        (r) => r.trustPolicy.match(/arn:aws[a-z-]*:eks:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]+/g) ?? [],
      ),
    );
    for (const arn of [...eksArns].sort()) {
      const clusterName = eksClusterName(arn);
      let summaries: readonly PodIdentityAssociationSummary[] = [];
      try {
        summaries = await podIdentity.listAssociations(clusterName, {}, call);
      } catch (error) {
        if (!hasErrorCode(error, 'NOT_FOUND')) throw error;
      }
      for (const s of summaries) {
        const full = await podIdentity.describeAssociation(clusterName, s.associationId, call);
        if (full && tagged(full.tags))
          strayAssociations.push({ clusterName, associationId: full.associationId });
      }
    }
    strays = { oidcProviders, associations: strayAssociations };
  }
  return {
    ...(strays ? { strays } : {}),
    ...(role ? { role } : {}),
    rolePolicies,
    ...(rolePolicy === undefined ? {} : { rolePolicy }),
    ...(clusterRole ? { clusterRole } : {}),
    ...(oidcProvider === undefined ? {} : { oidcProvider }),
    ...(previousOidcProvider === undefined ? {} : { previousOidcProvider }),
    ...(association === undefined ? {} : { association }),
    taggedAssociations,
  };
}

async function gatherRole(
  ctx: Context,
  roleName: string,
  policyName: string,
  call: CallOptions,
): Promise<RoleFacts> {
  const { roles } = ctx.ports;
  const role = await roles.getRole(roleName, call);
  const rolePolicies = role ? await roles.listRolePolicies(roleName, call) : [];
  const rolePolicy = rolePolicies.includes(policyName)
    ? await roles.getRolePolicy(roleName, policyName, call)
    : undefined;
  return {
    ...(role ? { role } : {}),
    rolePolicies,
    ...(rolePolicy === undefined ? {} : { rolePolicy }),
  };
}

function sameJson(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  try {
    return canonicalJson(JSON.parse(a)) === canonicalJson(JSON.parse(b));
  } catch {
    return false;
  }
}

/**
 * Whether a role is this platform's role of `organization` — with `clusterId`, that cluster's own
 * role; without, the organisation's (no cluster tag). @internal
 */
export function ourRole(ctx: Context, role: IdentityRole, organization: string, clusterId?: string): boolean {
  return (
    isManagedIdentity(role.tags) &&
    role.tags[IDENTITY_TAGS.organization] === organization &&
    role.tags[IDENTITY_TAGS.baseDomain] === ctx.baseDomain &&
    role.tags[IDENTITY_TAGS.cluster] === clusterId
  );
}

/**
 * Plans deleting a cluster's own role (identity scope `cluster`) that the cluster no longer runs:
 * its inline policies, then the role; nothing when the role is absent or not this cluster's. Pure.
 * @internal
 */
export function planClusterRoleDeletion(
  ctx: Context,
  input: { readonly organization: string; readonly clusterId: string },
  facts: RoleFacts | undefined,
): KeylessStep[] {
  const role = facts?.role;
  if (!role || !ourRole(ctx, role, input.organization, input.clusterId)) return [];
  return [
    ...facts.rolePolicies.map((policyName) => ({
      op: 'delete-role-policy' as const,
      roleName: role.roleName,
      policyName,
    })),
    { op: 'delete-role', roleName: role.roleName },
  ];
}

/**
 * Plans what a key cluster must not leave in the organisation's role: the role's trust rebuilt from
 * the keyless clusters that remain (the role deleted, policies first, when none does), and the OIDC
 * providers and associations tagged with the cluster (a move back to a key that stopped after
 * recording it). Empty when the role already trusts exactly the others. Pure.
 * @internal
 */
export function planKeylessTrim(
  ctx: Context,
  input: {
    readonly organization: string;
    readonly roleName: string;
    readonly remaining: readonly KeylessCluster[];
  },
  state: KeylessState,
): readonly KeylessStep[] {
  const role = state.role;
  if (!role || !ourRole(ctx, role, input.organization)) return [];
  const steps: KeylessStep[] = [];
  for (const a of state.strays?.associations ?? [])
    steps.push({
      op: 'delete-pod-identity-association',
      clusterName: a.clusterName,
      associationId: a.associationId,
    });
  const trust = organizationTrustPolicy(keylessAccount(ctx), input.remaining);
  if (trust === null) {
    for (const name of state.rolePolicies)
      steps.push({ op: 'delete-role-policy', roleName: role.roleName, policyName: name });
    steps.push({ op: 'delete-role', roleName: role.roleName });
  } else if (!sameJson(role.trustPolicy, JSON.stringify(trust)))
    steps.push({ op: 'update-trust', roleName: role.roleName, trustPolicy: JSON.stringify(trust) });
  for (const p of state.strays?.oidcProviders ?? [])
    if (
      !input.remaining.some((r) => r.credentials.mode !== 'pod-identity' && r.credentials.issuerUrl === p.url)
    )
      steps.push({ op: 'delete-oidc-provider', arn: p.arn });
  // Nothing stray and the trust already right: nothing to do.
  return steps;
}

function refuseForeignRole(role: IdentityRole | undefined, organization: string, clusterId?: string): void {
  if (!role) return;
  if (!isManagedIdentity(role.tags))
    throw new ZonekeeperError(
      'NOT_OWNED',
      `IAM role ${role.roleName} exists and is not managed by zonekeeper; refusing to take it over. Nothing was written.`,
      { details: { roleName: role.roleName } },
    );
  const owner = role.tags[IDENTITY_TAGS.organization];
  if (owner !== organization)
    throw new ZonekeeperError(
      'CONFLICT',
      `IAM role ${role.roleName} belongs to organisation ${owner ?? '(none)'}, not ${organization}. Nothing was written.`,
      { details: { roleName: role.roleName, organization: owner } },
    );
  const cluster = role.tags[IDENTITY_TAGS.cluster];
  if (cluster !== clusterId)
    throw new ZonekeeperError(
      'CONFLICT',
      `IAM role ${role.roleName} is ${cluster === undefined ? `organisation ${organization}'s role` : `cluster ${cluster}'s role`}, not ${clusterId === undefined ? `the organisation's` : `cluster ${clusterId}'s`}. Nothing was written.`,
      { details: { roleName: role.roleName, organization: owner, clusterId: cluster } },
    );
}

/** What the keyless part of an attach is planned from. @internal */
export interface KeylessAttachInput {
  readonly organization: string;
  readonly clusterId: string;
  readonly namespace: string;
  readonly roleName: string;
  readonly policyName: string;
  readonly zoneId: string | null;
  readonly zoneName: string;
  /** This cluster's new credentials. */
  readonly credentials: AttachmentCredentials;
  /** The other keyless entries the role trusts (the organisation role: its other clusters). */
  readonly others: readonly KeylessCluster[];
  /** The role is the cluster's own (identity scope `cluster`): tagged and scoped to the cluster. */
  readonly clusterRole?: boolean;
}

/**
 * Plans the keyless part of an attach: the issuer's OIDC provider (created, or an existing one adopted
 * by tagging it with the organisation), the role with the trust of every keyless cluster of the
 * organisation and the zone policy, and the Pod Identity association. Pure.
 * @throws `NOT_OWNED` (a role that is not zonekeeper's; an issuer or an EKS cluster's ExternalDNS
 *   association of another organisation), `CONFLICT` (the role of another organisation; an OIDC
 *   provider without the audience; an association of the service account to another role).
 * @internal
 */
export function planKeylessAttach(
  ctx: Context,
  input: KeylessAttachInput,
  state: KeylessState,
): { readonly roleArn: string; readonly steps: readonly KeylessStep[] } {
  const { organization: org } = input;
  const account = keylessAccount(ctx);
  const { roleName, roleArn } = organizationRole(account, input.roleName);
  const own = input.clusterRole === true ? input.clusterId : undefined;
  refuseForeignRole(state.role, org, own);
  const steps: KeylessStep[] = [];
  const c = input.credentials;
  if (c.mode !== 'pod-identity') {
    const provider = state.oidcProvider ?? null;
    if (provider === null)
      steps.push({ op: 'create-oidc-provider', url: c.issuerUrl, clientIds: [c.audience] });
    else {
      const owner = provider.tags[IDENTITY_TAGS.organization];
      if (owner !== undefined && owner !== org)
        throw new ZonekeeperError(
          'NOT_OWNED',
          `The OIDC issuer ${c.issuerUrl} belongs to organisation ${owner}'s cluster(s); one issuer's service accounts cannot be trusted by two organisations' roles. Nothing was written.`,
          { details: { issuerUrl: c.issuerUrl, organization: owner } },
        );
      if (!provider.clientIds.includes(c.audience))
        throw new ZonekeeperError(
          'CONFLICT',
          `The IAM OIDC provider of ${c.issuerUrl} does not accept the audience ${c.audience} (its client ids: ${provider.clientIds.join(', ') || 'none'}); add it to the provider, or attach with that audience. Nothing was written.`,
          { details: { issuerUrl: c.issuerUrl, audience: c.audience } },
        );
      if (owner === undefined) steps.push({ op: 'tag-oidc-provider', arn: provider.arn });
    }
  } else {
    const foreign = state.taggedAssociations.find((a) => a.organization !== org);
    if (foreign)
      throw new ZonekeeperError(
        'NOT_OWNED',
        `EKS cluster ${c.clusterArn} runs organisation ${foreign.organization}'s ExternalDNS (namespace ${foreign.namespace}); a cluster belongs to one organisation. Nothing was written.`,
        { details: { clusterArn: c.clusterArn, organization: foreign.organization } },
      );
    const a = state.association ?? null;
    if (a === null)
      steps.push({
        op: 'create-pod-identity-association',
        clusterName: eksClusterName(c.clusterArn),
        namespace: input.namespace,
        serviceAccount: EXTERNAL_DNS_SERVICE_ACCOUNT,
        roleArn,
      });
    else if (
      a.roleArn !== roleArn &&
      isManagedIdentity(a.tags) &&
      a.tags[IDENTITY_TAGS.organization] === org &&
      a.tags[IDENTITY_TAGS.cluster] === input.clusterId
    )
      throw invalidInput(
        `Cluster ${input.clusterId} runs Pod Identity with role ${a.roleArn}; moving it to another identity scope's role would re-point its association, which zonekeeper cannot do without a gap yet. Move it through credentials "access-key" (or another mode) first, or detach it. Nothing was written.`,
        { clusterId: input.clusterId, roleArn: a.roleArn },
      );
    else if (a.roleArn !== roleArn)
      throw new ZonekeeperError(
        'CONFLICT',
        `The service account ${input.namespace}/${EXTERNAL_DNS_SERVICE_ACCOUNT} of EKS cluster ${c.clusterArn} is already associated with role ${a.roleArn}; delete that association first. Nothing was written.`,
        { details: { clusterArn: c.clusterArn, roleArn: a.roleArn } },
      );
  }
  const trust = organizationTrustPolicy(account, [
    ...input.others.filter((o) => o.clusterId !== input.clusterId),
    { clusterId: input.clusterId, namespace: input.namespace, credentials: c },
  ]) as IamTrustPolicyDocument;
  const trustText = JSON.stringify(trust);
  const scoped = own === undefined ? {} : { clusterId: own };
  if (!state.role) steps.push({ op: 'create-role', roleName, trustPolicy: trustText, ...scoped });
  else if (!sameJson(state.role.trustPolicy, trustText))
    steps.push({ op: 'update-trust', roleName, trustPolicy: trustText });
  const wanted = input.zoneId === null ? null : zonePolicyText(input.zoneId, input.zoneName, own);
  if (wanted === null || !sameJson(state.rolePolicy, wanted))
    steps.push({
      op: 'put-role-policy',
      roleName,
      policyName: input.policyName,
      zoneId: input.zoneId,
      ...scoped,
    });
  // Create the provider and the role before the association (EKS checks the role exists).
  const order = (s: KeylessStep) => (s.op === 'create-pod-identity-association' ? 1 : 0);
  return { roleArn, steps: [...steps].sort((x, y) => order(x) - order(y)) };
}

/**
 * The zone policy of a role: the organisation role's is the one its IAM user carries; a cluster's
 * role (with `clusterId`) carries the cluster IAM user's, limited to `<cluster>.<zone>`.
 */
export function zonePolicyText(zoneId: string, zoneName: string, clusterId?: string): string {
  return minifyPolicy(
    buildZonePolicy({
      zoneId,
      zoneName,
      ...(clusterId === undefined ? {} : { recordNames: clusterRecordNames(zoneName, clusterId) }),
    }),
  );
}

/**
 * Plans removing one cluster from the organisation's keyless credentials: its trust entry (the role
 * deleted, policy first, when no keyless cluster remains), its Pod Identity association, and the OIDC
 * provider zonekeeper created for its issuer when no remaining cluster of the organisation uses it.
 * Pure.
 * @internal
 */
export function planKeylessRemoval(
  ctx: Context,
  input: {
    readonly organization: string;
    readonly clusterId: string;
    readonly roleName: string;
    readonly credentials: AttachmentCredentials;
    /** The organisation's keyless clusters that stay (any scope: they may use the same provider). */
    readonly remaining: readonly KeylessCluster[];
    /**
     * The entries the role keeps (default `remaining`); `[]` for a cluster's own role, which is
     * deleted with its cluster.
     */
    readonly trustRemaining?: readonly KeylessCluster[];
    /** The role is the cluster's own (identity scope `cluster`). */
    readonly clusterRole?: boolean;
  },
  state: KeylessState,
): readonly KeylessStep[] {
  const account = keylessAccount(ctx);
  const { roleName } = organizationRole(account, input.roleName);
  const steps: KeylessStep[] = [];
  const c = input.credentials;
  const association = state.association ?? null;
  if (
    c.mode === 'pod-identity' &&
    association &&
    isManagedIdentity(association.tags) &&
    association.tags[IDENTITY_TAGS.organization] === input.organization
  )
    steps.push({
      op: 'delete-pod-identity-association',
      clusterName: eksClusterName(c.clusterArn),
      associationId: association.associationId,
    });
  const remaining = input.remaining.filter((r) => r.clusterId !== input.clusterId);
  const trustRemaining = (input.trustRemaining ?? input.remaining).filter(
    (r) => r.clusterId !== input.clusterId,
  );
  const own = input.clusterRole === true ? input.clusterId : undefined;
  const ours =
    state.role &&
    isManagedIdentity(state.role.tags) &&
    state.role.tags[IDENTITY_TAGS.organization] === input.organization &&
    state.role.tags[IDENTITY_TAGS.cluster] === own;
  if (ours && state.role) {
    const trust = organizationTrustPolicy(account, trustRemaining);
    if (trust === null) {
      for (const name of state.rolePolicies)
        steps.push({ op: 'delete-role-policy', roleName, policyName: name });
      steps.push({ op: 'delete-role', roleName });
    } else if (!sameJson(state.role.trustPolicy, JSON.stringify(trust)))
      steps.push({ op: 'update-trust', roleName, trustPolicy: JSON.stringify(trust) });
  }
  const provider = state.previousOidcProvider ?? state.oidcProvider ?? null;
  if (
    c.mode !== 'pod-identity' &&
    provider &&
    isManagedIdentity(provider.tags) &&
    provider.tags[IDENTITY_TAGS.organization] === input.organization &&
    !remaining.some((r) => r.credentials.mode !== 'pod-identity' && r.credentials.issuerUrl === c.issuerUrl)
  )
    steps.push({ op: 'delete-oidc-provider', arn: provider.arn });
  return steps;
}

/** Applies keyless steps in order. @internal */
export async function applyKeylessSteps(
  ctx: Context,
  organization: string,
  clusterId: string,
  steps: readonly KeylessStep[],
  zone: { readonly id: string; readonly name: string } | undefined,
  call: CallOptions,
): Promise<void> {
  const { roles, podIdentity } = ctx.ports;
  for (const step of steps) {
    call.signal?.throwIfAborted();
    switch (step.op) {
      case 'create-oidc-provider':
        await roles.createOidcProvider(
          { url: step.url, clientIds: step.clientIds, tags: keylessTags(ctx, organization, clusterId) },
          call,
        );
        break;
      case 'tag-oidc-provider':
        // Adopted, not owned: the organisation's tag binds the issuer; without managed-by it is never deleted.
        await roles.tagOidcProvider(step.arn, { [IDENTITY_TAGS.organization]: organization }, call);
        break;
      case 'create-role':
        await roles.createRole(
          {
            roleName: step.roleName,
            path: IDENTITY_PATH,
            trustPolicy: step.trustPolicy,
            tags: keylessTags(ctx, organization, step.clusterId),
            description:
              step.clusterId === undefined
                ? `zonekeeper: ExternalDNS of organisation ${organization}'s keyless clusters`
                : `zonekeeper: ExternalDNS of organisation ${organization}'s cluster ${step.clusterId}`,
          },
          call,
        );
        break;
      case 'update-trust':
        await roles.updateTrustPolicy(step.roleName, step.trustPolicy, call);
        break;
      case 'put-role-policy': {
        const zoneId = step.zoneId ?? zone?.id;
        if (zoneId === undefined || zone === undefined)
          throw new ZonekeeperError(
            'INTERNAL',
            `zonekeeper: no zone for ${organization}'s role policy; run again.`,
          );
        await roles.putRolePolicy(
          step.roleName,
          step.policyName,
          zonePolicyText(zoneId, zone.name, step.clusterId),
          call,
        );
        break;
      }
      case 'create-pod-identity-association':
        await podIdentity.createAssociation(
          {
            clusterName: step.clusterName,
            namespace: step.namespace,
            serviceAccount: step.serviceAccount,
            roleArn: step.roleArn,
            tags: keylessTags(ctx, organization, clusterId),
          },
          call,
        );
        break;
      case 'delete-pod-identity-association':
        await ignoreNotFound(podIdentity.deleteAssociation(step.clusterName, step.associationId, call));
        break;
      case 'delete-role-policy':
        await ignoreNotFound(roles.deleteRolePolicy(step.roleName, step.policyName, call));
        break;
      case 'delete-role':
        await ignoreNotFound(roles.deleteRole(step.roleName, call));
        break;
      case 'delete-oidc-provider':
        await ignoreNotFound(roles.deleteOidcProvider(step.arn, call));
        break;
    }
  }
}

async function ignoreNotFound(p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch (error) {
    if (!hasErrorCode(error, 'NOT_FOUND')) throw error;
  }
}

/** The renderer's credentials of a keyless cluster. @internal */
export function renderCredentials(credentials: AttachmentCredentials, roleArn: string): KeylessCredentials {
  switch (credentials.mode) {
    case 'irsa':
      return { mode: 'irsa', roleArn };
    case 'pod-identity':
      return { mode: 'pod-identity', roleArn };
    case 'web-identity':
      return { mode: 'web-identity', roleArn, audience: credentials.audience };
  }
}
