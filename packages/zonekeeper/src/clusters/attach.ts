/**
 * `attachCluster`: the organisation ensured, the cluster bound to it, ExternalDNS deployed with the
 * identity the cluster's recorded scope calls for, TLS Secrets injected — planned as one, applied in
 * order:
 *
 * ```
 *  organisation plan (zone, identity, key, CA)
 *  bind-cluster ─► record-attachment ─► record-settings          (before touching the cluster: a rotation or
 *                                                                  detach always knows about it)
 *  ensure-role (keyless: the organisation's role, or the cluster's own with scope cluster)
 *  cluster identity + key (scope cluster, access key)
 *  apply-external-dns ─► delete-cluster-identity (scope back to organisation)
 *  delete-credentials-secret ─► record-credentials ─► delete-cluster-identity (a key cluster moved
 *    to a role) ─► trim-role ─► retire-organization-key
 *  certificates (issue/renew, apply the TLS Secret)
 * ```
 *
 * Refused before anything is written: a cluster bound to another organisation, an object at
 * ExternalDNS's names (or a TLS Secret) labelled for another organisation or not zonekeeper's, a
 * certificate namespace that does not exist, bad settings.
 *
 * @internal
 * @packageDocumentation
 */

import {
  applyCertificatePlan,
  type CertificatePlan,
  type CertificateState,
  type EnsureCertificateInput,
  type EnsureCertificateResult,
  gatherCertificate,
  planCertificate,
  renewalTime,
} from '@zonekeeper/cert-issuer';
import {
  type CallOptions,
  type ClusterClient,
  describeRef,
  type EnsureOptions,
  ensure,
  hasErrorCode,
  invalidInput,
  isWithinDomain,
  type KubernetesObject,
  normalizeHostname,
  type ObjectRef,
  refOf,
  validateDnsLabel,
  validateDryRun,
  ZONEKEEPER_MANAGER,
  ZonekeeperError,
  ZonekeeperLabels,
} from '@zonekeeper/core';
import {
  type ApplyExternalDnsResult,
  type ApplyObjectStep,
  externalDnsClusterRoleName,
  externalDnsSecretName,
  externalDnsTsigSecretName,
  planApply,
} from '@zonekeeper/externaldns-deployer';
import {
  applyZoneIdentityPlan,
  type CurrentZoneIdentity,
  deleteZoneIdentity,
  desiredZoneIdentity,
  gatherZoneIdentity,
  planZoneIdentity,
  type ZoneIdentityPlan,
} from '@zonekeeper/iam-scoper';
import {
  type AttachmentCredentials,
  type ClusterAttachment,
  type ClusterBinding,
  canonicalJson,
  readAttachment,
  readClusterBinding,
  readClusterSettings,
  writeAttachment,
  writeClusterBinding,
  writeClusterSettings,
} from '@zonekeeper/vault-keys';
import type { OrganizationZone } from '@zonekeeper/zone-manager';
import type { ExternalDnsDefaults, IdentityScope } from '../config.js';
import type { Context } from '../context.js';
import { applyCredentialsPlan, type GatheredCredentials, gatherCredentials } from '../credentials/apply.js';
import { type CredentialsPlan, planCredentials } from '../credentials/plan.js';
import {
  type FleetExternalDnsSettings,
  validateFleetExternalDnsSettings,
  withFleetExternalDnsSettings,
} from '../fleet/budget.js';
import { organizationExclusion } from '../locks.js';
import { type ClusterNames, clusterNames } from '../names.js';
import {
  type AppliedOrganization,
  applyOrganizationPlan,
  currentOrganization,
  type GatheredOrganization,
  gatherOrganization,
} from '../organization/apply.js';
import {
  isEmptyOrganizationPlan,
  type OrganizationPlan,
  planOrganization,
  storesNewTsigKey,
} from '../organization/plan.js';
import { organizationResultOf } from '../organization/result.js';
import type { AttachClusterInput, AttachResult, ClusterCertificate, ClusterStep } from '../results.js';
import {
  applyCertManagerPlan,
  type CertManagerPlan,
  type CertManagerState,
  gatherCertManager,
  isEmptyCertManagerPlan,
  planCertManager,
  type RecordedCertManager,
  resolveCertManager,
  validateCertManagerInput,
} from './cert-manager.js';
import { deleteClusterIdentity } from './detach.js';
import {
  applyClusterExternalDns,
  type ClusterKey,
  isTsigKey,
  keepDeployedTxtPrefix,
  normalizeOverrides,
  publishKey,
  type RecordedClusterSettings,
  renderClusterExternalDns,
  validateExternalDnsSettings,
} from './externaldns.js';
import {
  applyKeylessSteps,
  gatherKeyless,
  type KeylessCluster,
  type KeylessState,
  type KeylessStep,
  keylessAccount,
  modeOf,
  organizationRole,
  organizationTrustPolicy,
  planClusterRoleDeletion,
  planKeylessAttach,
  planKeylessRemoval,
  planKeylessTrim,
  type RoleFacts,
  renderCredentials,
  validateClusterCredentials,
} from './keyless.js';

const DEFAULT_NAMESPACE = 'external-dns';
const INSTANCE = 'external-dns';

/** The validated input of an attach. */
interface AttachInput {
  readonly names: ClusterNames;
  readonly certificates: readonly ClusterCertificate[];
  /** `undefined`: keep the recorded settings. */
  readonly overrides: ExternalDnsDefaults | undefined;
  /** The planned fleet settings, applied over the overrides (or the recorded settings). */
  readonly fleet: FleetExternalDnsSettings | undefined;
  readonly scope: IdentityScope | undefined;
  /** `undefined`: keep the recorded mode; `null`: an access key. */
  readonly credentials: AttachmentCredentials | null | undefined;
  /** The certificate mode and its settings as given (`undefined`: keep what is recorded). */
  readonly certManager: ReturnType<typeof validateCertManagerInput>;
}

/** The settings an attach renders and records: the overrides or the recorded ones, then the plan's. */
function attachSettings(input: AttachInput, recorded: ExternalDnsDefaults | undefined): ExternalDnsDefaults {
  const base = input.overrides ?? recorded ?? {};
  return input.fleet === undefined
    ? base
    : withFleetExternalDnsSettings(base, input.fleet, input.names.clusterId);
}

function validateCertificates(certificates: unknown, zoneName: string): readonly ClusterCertificate[] {
  if (certificates === undefined) return [];
  if (!Array.isArray(certificates)) throw invalidInput('certificates must be an array.');
  const names = new Set<string>();
  const secrets = new Set<string>();
  for (const c of certificates as ClusterCertificate[]) {
    if (typeof c !== 'object' || c === null) throw invalidInput('Each certificate must be an object.');
    validateDnsLabel(c.name, 'Certificate name');
    validateDnsLabel(c.namespace, 'Certificate namespace');
    if (c.secretName !== undefined) validateDnsLabel(c.secretName, 'Certificate secretName');
    if (names.has(c.name)) throw invalidInput(`Certificate name ${c.name} is used twice.`);
    names.add(c.name);
    const secret = `${c.namespace}/${c.secretName ?? c.name}`;
    if (secrets.has(secret)) throw invalidInput(`Two certificates would be written to the Secret ${secret}.`);
    secrets.add(secret);
    if (!Array.isArray(c.dnsNames) || c.dnsNames.length === 0)
      throw invalidInput(`Certificate ${c.name} needs at least one DNS name.`);
    for (const n of c.dnsNames) {
      const host = normalizeHostname(n);
      if (!isWithinDomain(host.replace(/^\*\./, ''), zoneName))
        throw invalidInput(
          `Certificate ${c.name}: ${host} is not within the organisation's zone ${zoneName}.`,
        );
    }
  }
  return certificates as ClusterCertificate[];
}

function validateAttachInput(ctx: Context, organization: string, input: AttachClusterInput): AttachInput {
  if (typeof input !== 'object' || input === null)
    throw invalidInput('attachCluster needs an input object with a clusterId.');
  const names = clusterNames(ctx, organization, input.clusterId);
  const certificates = validateCertificates(input.certificates, names.zoneName);
  const overrides = input.externalDns === undefined ? undefined : normalizeOverrides(input.externalDns);
  const fleet =
    input.fleetBudget === undefined
      ? undefined
      : validateFleetExternalDnsSettings(input.fleetBudget, overrides);
  const scope = input.identityScope;
  if (scope !== undefined && scope !== 'organization' && scope !== 'cluster')
    throw invalidInput(`identityScope must be "organization" or "cluster", got ${JSON.stringify(scope)}.`);
  const credentials = validateClusterCredentials(input.credentials, input.workloadIdentity);
  if (ctx.powerdns && scope === 'cluster')
    throw invalidInput(
      'identityScope "cluster" is not available with powerdns: a TSIG key cannot be limited to a cluster\'s names.',
    );
  if (ctx.powerdns && credentials)
    throw invalidInput(
      `credentials "${credentials.mode}" is a Route 53 mode; the powerdns backend runs ExternalDNS with the organisation's TSIG key.`,
    );
  const certManager = validateCertManagerInput(input.certificateMode, input.certManager);
  // Given settings are checked whole now (what is recorded only matters when none are given).
  if (certManager.settings) resolveCertManager(ctx, names, certManager, undefined);
  const validated = { names, certificates, overrides, fleet, scope, credentials, certManager };
  // Checked again by the planner with the scope the cluster ends up with (it may be the recorded one).
  if (overrides || fleet)
    validateExternalDnsSettings(
      ctx,
      { ...names, scope: scope ?? ctx.defaultScope },
      attachSettings(validated, undefined),
    );
  return validated;
}

/**
 * The objects ExternalDNS is rendered as, by reference (what attach reads before it can render); with
 * `tsig` (the PowerDNS backend), the Secret of the TSIG key instead of the AWS credentials.
 */
export function externalDnsRefs(namespace: string, createNamespace: boolean, tsig = false): ObjectRef[] {
  return [
    ...(createNamespace ? [{ apiVersion: 'v1', kind: 'Namespace', name: namespace }] : []),
    { apiVersion: 'v1', kind: 'ServiceAccount', name: INSTANCE, namespace },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      name: externalDnsClusterRoleName(namespace, INSTANCE),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      name: externalDnsClusterRoleName(namespace, INSTANCE),
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      name: tsig ? externalDnsTsigSecretName(INSTANCE) : externalDnsSecretName(INSTANCE),
      namespace,
    },
    { apiVersion: 'apps/v1', kind: 'Deployment', name: INSTANCE, namespace },
  ];
}

/** Whether a Deployment reports a finished rollout (as `waitForRollout` waits for). */
function rolledOut(deployment: KubernetesObject | undefined): boolean {
  if (!deployment) return false;
  const generation = deployment.metadata.generation ?? 0;
  const replicas = ((deployment.spec ?? {}) as { replicas?: number }).replicas ?? 1;
  const status = (deployment.status ?? {}) as {
    observedGeneration?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    replicas?: number;
    conditions?: { type?: string; status?: string }[];
  };
  return (
    (status.observedGeneration ?? 0) >= generation &&
    (status.updatedReplicas ?? 0) >= replicas &&
    (status.availableReplicas ?? 0) >= replicas &&
    (status.replicas ?? replicas) <= replicas &&
    (status.conditions?.some((c) => c.type === 'Available' && c.status === 'True') ?? false)
  );
}

/** Everything an attach reads. Holds secrets (the keys, rendered Secret objects): internal. */
interface AttachState {
  readonly organization: GatheredOrganization;
  readonly clusterName: string;
  readonly binding?: ClusterBinding;
  readonly attachment?: ClusterAttachment;
  readonly recorded?: ExternalDnsDefaults;
  readonly live: ReadonlyMap<string, KubernetesObject | undefined>;
  readonly clusterIdentity?: {
    readonly current: CurrentZoneIdentity;
    readonly credentials: GatheredCredentials;
  };
  /** The keyless credentials the cluster ends up with (`null`: a key). */
  readonly credentials: AttachmentCredentials | null;
  /** The role, provider and association facts, when the cluster is or was keyless. */
  readonly keyless?: KeylessState;
  readonly certificates: readonly {
    readonly input: EnsureCertificateInput;
    readonly state: CertificateState;
    readonly namespaceExists: boolean;
  }[];
  /** The cert-manager settings the cluster ends up with (`undefined`: `zonekeeper` mode). */
  readonly certManagerSettings?: RecordedCertManager;
  readonly certManager: CertManagerState;
}

/** The plan of an attach. JSON data. */
export interface AttachPlan {
  readonly organization: OrganizationPlan;
  readonly scope: IdentityScope;
  /** The credentials recorded by `record-attachment` (`now`) and those the cluster ends with (`final`). */
  readonly credentials: {
    readonly now: AttachmentCredentials | null;
    readonly final: AttachmentCredentials | null;
    readonly roleArn: string | null;
  };
  readonly namespace: string;
  readonly externalDns: ExternalDnsDefaults;
  readonly clusterIdentity: {
    readonly userName: string;
    readonly identity: ZoneIdentityPlan;
    readonly credentials: CredentialsPlan;
  } | null;
  readonly steps: readonly ClusterStep[];
  readonly certificates: readonly { readonly name: string; readonly plan: CertificatePlan }[];
  readonly certManager: CertManagerPlan;
}

function isEmptyAttachPlan(plan: AttachPlan): boolean {
  return (
    isEmptyOrganizationPlan(plan.organization) &&
    isEmptyCertManagerPlan(plan.certManager) &&
    plan.steps.length === 0 &&
    (plan.clusterIdentity?.identity.steps.length ?? 0) === 0 &&
    (plan.clusterIdentity?.credentials.steps.length ?? 0) === 0 &&
    plan.certificates.every((c) => c.plan.steps.length === 0)
  );
}

function certificateInput(
  ctx: Context,
  organization: string,
  zoneName: string,
  c: ClusterCertificate,
  client: ClusterClient,
): EnsureCertificateInput {
  return {
    organization,
    name: c.name,
    dnsNames: c.dnsNames,
    withinDomain: zoneName,
    ...(ctx.certificates?.validityDays ? { validityDays: ctx.certificates.validityDays } : {}),
    ...(ctx.certificates?.keyAlgorithm ? { keyAlgorithm: ctx.certificates.keyAlgorithm } : {}),
    target: {
      cluster: client,
      namespace: c.namespace,
      ...(c.secretName ? { secretName: c.secretName } : {}),
    },
  };
}

async function gatherAttach(
  ctx: Context,
  input: AttachInput,
  client: ClusterClient,
  call: CallOptions,
): Promise<AttachState> {
  const { names } = input;
  const at = { ...ctx.layout, ...call };
  const organization = await gatherOrganization(ctx, names, call);
  const binding = await readClusterBinding(ctx.ports.secrets, names.clusterId, at);
  const attachment = await readAttachment(ctx.ports.secrets, names.organization, names.clusterId, at);
  const recordedSettings = (
    await readClusterSettings(ctx.ports.secrets, names.organization, names.clusterId, at)
  )?.settings as RecordedClusterSettings | undefined;
  const recorded = recordedSettings?.externalDns;
  const recordedCertManager = recordedSettings?.certManager as RecordedCertManager | undefined;
  const certManagerSettings = resolveCertManager(ctx, names, input.certManager, recordedCertManager);
  const certManager = await gatherCertManager(
    ctx,
    names,
    certManagerSettings,
    recordedCertManager,
    client,
    organization.state.attached.map((a) => a.clusterId).filter((id) => id !== names.clusterId),
    call,
  );
  const overrides = attachSettings(input, recorded);
  const namespace =
    attachment?.namespace ?? overrides.namespace ?? ctx.externalDns.namespace ?? DEFAULT_NAMESPACE;
  const live = new Map<string, KubernetesObject | undefined>();
  for (const ref of externalDnsRefs(namespace, true, ctx.powerdns !== undefined))
    live.set(describeRef(ref), await client.get(ref, call));
  const scope = input.scope ?? attachment?.scope ?? ctx.defaultScope;
  const credentials = input.credentials === undefined ? (attachment?.credentials ?? null) : input.credentials;
  // A key cluster reads the organisation role too (when keyless credentials are configured): a move
  // back to a key that stopped after recording it left this cluster in the role's trust.
  const keyless =
    credentials || attachment?.credentials || (attachment && ctx.keyless.accountId !== undefined)
      ? await gatherKeyless(
          ctx,
          {
            roleName: names.userName,
            policyName: names.policyName,
            namespace,
            credentials: credentials ?? undefined,
            previous: attachment?.credentials,
            ...(credentials === null && !attachment?.credentials
              ? { strayFor: { organization: names.organization, clusterId: names.clusterId } }
              : {}),
            providersFor: { organization: names.organization, clusterId: names.clusterId },
            clusterRole: { roleName: names.clusterUserName, policyName: names.clusterPolicyName },
          },
          call,
        )
      : undefined;
  let clusterIdentity: AttachState['clusterIdentity'];
  if (scope === 'cluster' || attachment?.scope === 'cluster') {
    const current = await gatherZoneIdentity(
      { userName: names.clusterUserName, policyName: names.clusterPolicyName },
      ctx.ports.identity,
      call,
    );
    const credentials = await gatherCredentials(
      ctx,
      { organization: names.organization, clusterId: names.clusterId },
      names.clusterUserName,
      current.user !== undefined,
      [],
      call,
    );
    clusterIdentity = { current, credentials };
  }
  const certificates: AttachState['certificates'][number][] = [];
  for (const c of input.certificates) {
    const certInput = certificateInput(ctx, names.organization, names.zoneName, c, client);
    const ns = await client.get({ apiVersion: 'v1', kind: 'Namespace', name: c.namespace }, call);
    certificates.push({
      input: certInput,
      state: await gatherCertificate(certInput, ctx.deps.certificates, call),
      namespaceExists: ns !== undefined,
    });
  }
  return {
    organization,
    clusterName: client.name,
    ...(binding ? { binding } : {}),
    ...(attachment ? { attachment } : {}),
    ...(recorded ? { recorded } : {}),
    live,
    ...(clusterIdentity ? { clusterIdentity } : {}),
    credentials,
    ...(keyless ? { keyless } : {}),
    certificates,
    ...(certManagerSettings ? { certManagerSettings } : {}),
    certManager,
  };
}

function refuseForeignObjects(state: AttachState, names: ClusterNames): void {
  for (const [ref, object] of state.live) {
    if (!object) continue;
    const labels = object.metadata.labels ?? {};
    if (labels[ZonekeeperLabels.managedBy] !== ZONEKEEPER_MANAGER) {
      if (object.kind === 'Namespace') continue; // an existing namespace is fine with createNamespace: false
      throw new ZonekeeperError(
        'NOT_OWNED',
        `Kubernetes: ${ref} in cluster ${state.clusterName} exists and is not managed by zonekeeper; refusing to take it over. Remove it or choose another namespace.`,
        { details: { ref, cluster: state.clusterName } },
      );
    }
    const owner = labels[ZonekeeperLabels.organization];
    if (owner !== undefined && owner !== names.organization)
      throw new ZonekeeperError(
        'NOT_OWNED',
        `Kubernetes: ${ref} in cluster ${state.clusterName} belongs to organisation ${owner}, not ${names.organization}; zonekeeper never replaces another organisation's objects.`,
        { details: { ref, cluster: state.clusterName, organization: owner } },
      );
  }
}

/**
 * The key a cluster's ExternalDNS runs with as the plan starts: the organisation's TSIG key (the
 * PowerDNS backend), the cluster identity's or the organisation identity's access key; `undefined` when
 * the plan issues or stores a new one (its secret exists only once the plan runs). Pure.
 */
function plannedKey(
  ctx: Context,
  scope: IdentityScope,
  organizationPlan: OrganizationPlan,
  clusterCredentials: CredentialsPlan | undefined,
  state: Pick<AttachState, 'organization' | 'clusterIdentity'>,
): ClusterKey | undefined {
  if (ctx.powerdns) return storesNewTsigKey(organizationPlan) ? undefined : state.organization.tsigKey;
  const keyPlan = scope === 'cluster' ? clusterCredentials : organizationPlan.credentials;
  const issuesKey = keyPlan?.steps.some((s) => s.op === 'issue-key') ?? false;
  const existingKey =
    scope === 'cluster' ? state.clusterIdentity?.credentials.stored : state.organization.credentials?.stored;
  return issuesKey ? undefined : existingKey;
}

/** `state` with the facts of another role (and, when given, other strays). */
function withRole(state: KeylessState, facts: RoleFacts, strays = state.strays): KeylessState {
  const { role: _role, rolePolicy: _policy, rolePolicies: _policies, strays: _strays, ...rest } = state;
  return {
    ...rest,
    ...(facts.role ? { role: facts.role } : {}),
    rolePolicies: facts.rolePolicies,
    ...(facts.rolePolicy === undefined ? {} : { rolePolicy: facts.rolePolicy }),
    ...(strays ? { strays } : {}),
  };
}

/** The keyless steps of an attach: the role before ExternalDNS rolls, the trims after. Pure. */
function planAttachKeyless(
  ctx: Context,
  input: AttachInput,
  state: AttachState,
  at: {
    readonly scope: IdentityScope;
    readonly namespace: string;
    readonly zoneId: string | null;
    readonly finalCredentials: AttachmentCredentials | null;
    readonly previousCredentials: AttachmentCredentials | null;
  },
): {
  readonly keyless: { roleArn: string; steps: readonly KeylessStep[] } | null;
  readonly trim: KeylessStep[];
} {
  const { names } = input;
  const org = names.organization;
  const { scope, namespace, zoneId, finalCredentials, previousCredentials } = at;
  const orgState = state.organization.state;
  // The organisation's other keyless clusters: all of them may share an OIDC provider; only those with
  // identity scope `organization` are in the organisation role's trust.
  const othersAll: KeylessCluster[] = orgState.attached.flatMap((c) =>
    c.clusterId !== names.clusterId && c.credentials
      ? [{ clusterId: c.clusterId, namespace: c.namespace ?? DEFAULT_NAMESPACE, credentials: c.credentials }]
      : [],
  );
  const othersOrg = othersAll.filter(
    (o) => orgState.attached.find((c) => c.clusterId === o.clusterId)?.scope !== 'cluster',
  );
  const keylessState: KeylessState = state.keyless ?? { rolePolicies: [], taggedAssociations: [] };
  const clusterScoped = scope === 'cluster';
  // The role this cluster ends with: the organisation's, or its own (identity scope `cluster`).
  const target = clusterScoped
    ? { roleName: names.clusterUserName, policyName: names.clusterPolicyName, others: [] as KeylessCluster[] }
    : { roleName: names.userName, policyName: names.policyName, others: othersOrg };
  const targetState: KeylessState = clusterScoped
    ? withRole(keylessState, keylessState.clusterRole ?? { rolePolicies: [] })
    : keylessState;
  const switching =
    previousCredentials !== null &&
    (finalCredentials === null || canonicalJson(previousCredentials) !== canonicalJson(finalCredentials));
  // While ExternalDNS rolls, the role it ends with also trusts the entry it runs with now (the same
  // cluster's service account; harmless when it runs with the other role), so no scope a crashed
  // attach recorded can leave it without credentials.
  const previousEntry: KeylessCluster | undefined =
    switching && previousCredentials
      ? { clusterId: `${names.clusterId}~previous`, namespace, credentials: previousCredentials }
      : undefined;
  const keyless = finalCredentials
    ? planKeylessAttach(
        ctx,
        {
          organization: org,
          clusterId: names.clusterId,
          namespace,
          roleName: target.roleName,
          policyName: target.policyName,
          zoneId,
          zoneName: names.zoneName,
          credentials: finalCredentials,
          others: previousEntry ? [...target.others, previousEntry] : target.others,
          clusterRole: clusterScoped,
        },
        targetState,
      )
    : null;
  const trim: KeylessStep[] = [];
  if (!ctx.keyless.accountId || !state.keyless) return { keyless, trim };
  const account = keylessAccount(ctx);
  const finalEntry: KeylessCluster | undefined = finalCredentials
    ? { clusterId: names.clusterId, namespace, credentials: finalCredentials }
    : undefined;
  const remainingAll = finalEntry ? [...othersAll, finalEntry] : othersAll;
  // 1. The role it ends with: only the final entry once ExternalDNS rolled.
  if (previousEntry && finalEntry)
    trim.push({
      op: 'update-trust',
      roleName: organizationRole(account, target.roleName).roleName,
      trustPolicy: JSON.stringify(organizationTrustPolicy(account, [...target.others, finalEntry])),
    });
  // 2. What the previous credentials used that nothing uses any more (the association, the provider).
  const leftovers = previousEntry
    ? planKeylessRemoval(
        ctx,
        {
          organization: org,
          clusterId: previousEntry.clusterId,
          roleName: target.roleName,
          credentials: previousEntry.credentials,
          remaining: remainingAll,
          trustRemaining: [],
          clusterRole: clusterScoped,
        },
        // Only its association and provider: the roles are trimmed below.
        withRole(keylessState, { rolePolicies: [] }),
      ).filter(
        (s) => !(s.op === 'delete-pod-identity-association' && finalCredentials?.mode === 'pod-identity'),
      )
    : [];
  trim.push(...leftovers.filter((s) => s.op === 'delete-pod-identity-association'));
  // What was made for this cluster that no record names (a move back to a key that stopped after
  // recording it): associations now, providers last.
  for (const a of keylessState.strays?.associations ?? [])
    trim.push({
      op: 'delete-pod-identity-association',
      clusterName: a.clusterName,
      associationId: a.associationId,
    });
  // 3. The organisation role, when this cluster does not end in it: rebuilt from the others.
  if (clusterScoped || finalCredentials === null)
    trim.push(
      ...planKeylessTrim(
        ctx,
        { organization: org, roleName: names.userName, remaining: othersOrg },
        withRole(keylessState, keylessState, { oidcProviders: [], associations: [] }),
      ),
    );
  // 4. The cluster's own role, when the cluster does not end in it.
  if (!(clusterScoped && finalCredentials))
    trim.push(
      ...planClusterRoleDeletion(
        ctx,
        { organization: org, clusterId: names.clusterId },
        keylessState.clusterRole,
      ),
    );
  // 5. Providers last (a role's trust names them).
  trim.push(...leftovers.filter((s) => s.op === 'delete-oidc-provider'));
  for (const p of keylessState.strays?.oidcProviders ?? [])
    if (!remainingAll.some((r) => r.credentials.mode !== 'pod-identity' && r.credentials.issuerUrl === p.url))
      trim.push({ op: 'delete-oidc-provider', arn: p.arn });
  const seen = new Set<string>();
  return {
    keyless,
    trim: trim.filter((s) => {
      const key = canonicalJson(s);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    }),
  };
}

/** Plans an attach. Pure. */
function planAttach(ctx: Context, input: AttachInput, state: AttachState): AttachPlan {
  const { names } = input;
  const { organization: org } = names;
  if (state.binding && state.binding.organization !== org)
    throw new ZonekeeperError(
      'NOT_OWNED',
      `Cluster ${names.clusterId} belongs to organisation ${state.binding.organization}; a cluster belongs to one organisation. Detach it from ${state.binding.organization} first.`,
      { details: { clusterId: names.clusterId, organization: state.binding.organization } },
    );
  refuseForeignObjects(state, names);
  const settings = attachSettings(input, state.recorded);
  const namespace =
    state.attachment?.namespace ?? settings.namespace ?? ctx.externalDns.namespace ?? DEFAULT_NAMESPACE;
  const scope = input.scope ?? state.attachment?.scope ?? ctx.defaultScope;
  const deployment = state.live.get(describeRef(externalDnsRefs(namespace, false).at(-1) as ObjectRef));
  // What runs keeps its TXT prefix unless one is chosen (decision 24); recorded with the settings.
  const overrides = keepDeployedTxtPrefix(
    ctx,
    { organization: org, clusterId: names.clusterId, scope, zoneName: names.zoneName },
    settings,
    deployment,
  );
  if (
    input.overrides?.namespace !== undefined &&
    state.attachment &&
    input.overrides.namespace !== state.attachment.namespace
  )
    throw invalidInput(
      `Cluster ${names.clusterId} runs ExternalDNS in namespace ${state.attachment.namespace}; detach it first to move it to ${input.overrides.namespace}.`,
    );
  // The settings must render for this scope (a cluster scope narrows ExternalDNS's domain filter and
  // needs a TXT prefix that stays inside it): refused here, before anything is written.
  validateExternalDnsSettings(ctx, { ...names, scope }, overrides);
  for (const c of state.certificates)
    if (!c.namespaceExists)
      throw new ZonekeeperError(
        'NOT_FOUND',
        `Namespace ${c.input.target?.namespace} does not exist in cluster ${state.clusterName}; create it before asking for certificate ${c.input.name} there (nothing was written).`,
        { details: { cluster: state.clusterName, namespace: c.input.target?.namespace } },
      );

  const finalCredentials = state.credentials;
  const previousCredentials = state.attachment?.credentials ?? null;
  // The organisation, without this cluster among the consumers of its key (the attach applies
  // ExternalDNS here itself), and with this cluster's credentials as they end up.
  const orgState = state.organization.state;
  const attached = [
    ...orgState.attached.filter((c) => c.clusterId !== names.clusterId),
    {
      clusterId: names.clusterId,
      scope,
      namespace,
      ...(finalCredentials ? { credentials: finalCredentials } : {}),
    },
  ];
  const organizationPlan = planOrganization(
    {
      ...orgState,
      attached,
      ...(orgState.credentials
        ? {
            credentials: {
              ...orgState.credentials,
              consumers: orgState.credentials.consumers.filter((id) => id !== names.clusterId),
            },
          }
        : {}),
    },
    {
      defaultScope: ctx.defaultScope,
      intent: 'ensure',
      needsIdentity: scope === 'organization' && finalCredentials === null,
    },
  );
  const zoneId = organizationPlan.zone.zoneId;
  const { keyless, trim } = planAttachKeyless(ctx, input, state, {
    scope,
    namespace,
    zoneId,
    finalCredentials,
    previousCredentials,
  });

  const steps: ClusterStep[] = [];
  if (!state.binding) steps.push({ op: 'bind-cluster', clusterId: names.clusterId, organization: org });
  const tlsSecrets = [
    ...new Set([
      ...(state.attachment?.tlsSecrets ?? []),
      ...input.certificates.map((c) => `${c.namespace}/${c.secretName ?? c.name}`),
    ]),
  ].sort();
  const a = state.attachment;
  // A move to keyless is recorded once ExternalDNS runs with the role (until then its key stays
  // published to it); a first attach or a move back to a key is recorded now.
  const credentialsNow = a && finalCredentials !== null ? previousCredentials : finalCredentials;
  if (
    !a ||
    a.namespace !== namespace ||
    a.scope !== scope ||
    [...a.tlsSecrets].sort().join(',') !== tlsSecrets.join(',') ||
    canonicalJson(a.credentials ?? null) !== canonicalJson(credentialsNow)
  )
    steps.push({
      op: 'record-attachment',
      clusterId: names.clusterId,
      namespace,
      scope,
      tlsSecrets,
      credentials: modeOf(credentialsNow ?? undefined),
    });
  // cert-manager mode: planned here (refusing a missing namespace or a foreign object before any
  // write), recorded with the settings, applied after the certificates.
  const certManager = planCertManager(
    ctx,
    names,
    state.certManagerSettings,
    state.certManager,
    zoneId,
    state.clusterName,
    organizationPlan.certificateAuthority.steps.length > 0
      ? undefined
      : state.organization.ca?.certificatePem,
    { createsWithPathLength: names.certificateAuthority.pathLength === 1, now: orgState.now },
  );
  if (
    state.recorded === undefined ||
    canonicalJson(state.recorded) !== canonicalJson(overrides) ||
    canonicalJson(state.certManager.recorded ?? null) !== canonicalJson(state.certManagerSettings ?? null)
  )
    steps.push({
      op: 'record-settings',
      clusterId: names.clusterId,
      externalDns: overrides,
      ...(state.certManagerSettings
        ? { certManager: state.certManagerSettings as unknown as Record<string, unknown> }
        : {}),
    });

  let clusterIdentity: AttachPlan['clusterIdentity'] = null;
  // A cluster scope with keyless credentials has a role of its own instead of an IAM user.
  if (scope === 'cluster' && finalCredentials === null) {
    const desired = desiredZoneIdentity({
      baseDomain: ctx.baseDomain,
      organization: org,
      clusterId: names.clusterId,
      zoneName: names.zoneName,
      zoneId,
    });
    const current = state.clusterIdentity?.current ?? { policyNames: [] };
    const facts = state.clusterIdentity?.credentials.facts ?? {
      userName: names.clusterUserName,
      iamKeys: null,
      consumers: [],
    };
    clusterIdentity = {
      userName: names.clusterUserName,
      identity: planZoneIdentity(current, desired),
      credentials: planCredentials(facts, 'ensure'),
    };
  }

  if (keyless && keyless.steps.length > 0)
    steps.push({
      op: 'ensure-role',
      clusterId: names.clusterId,
      roleArn: keyless.roleArn,
      steps: keyless.steps,
    });

  // What ExternalDNS runs with, and whether it exists before this plan runs.
  const key = finalCredentials
    ? undefined
    : plannedKey(ctx, scope, organizationPlan, clusterIdentity?.credentials, state);
  const runWith = keyless && finalCredentials ? renderCredentials(finalCredentials, keyless.roleArn) : key;
  let objects: readonly ApplyObjectStep[] | null = null;
  if (zoneId !== null && runWith) {
    const desiredObjects = renderClusterExternalDns(
      ctx,
      { organization: org, clusterId: names.clusterId, scope },
      { id: zoneId, name: names.zoneName },
      runWith,
      overrides,
      namespace,
    );
    const current = new Map<string, KubernetesObject | undefined>();
    for (const o of desiredObjects) current.set(describeRef(refOf(o)), state.live.get(describeRef(refOf(o))));
    objects = planApply(desiredObjects, current, state.clusterName).steps;
  }
  if (objects === null || objects.length > 0 || !rolledOut(deployment))
    steps.push({
      op: 'apply-external-dns',
      clusterId: names.clusterId,
      namespace,
      accessKeyId: key && !isTsigKey(key) ? key.accessKeyId : null,
      ...(organizationPlan.tsigKey ? { tsigKeyName: organizationPlan.tsigKey.keyName } : {}),
      objects,
    });
  // The user, or only its stored key (a run that stopped between deleting the user and the record).
  const clusterIdentityLeft =
    state.clusterIdentity?.current.user !== undefined ||
    state.clusterIdentity?.credentials.stored !== undefined;
  if (scope === 'organization' && finalCredentials === null && clusterIdentityLeft)
    steps.push({
      op: 'delete-cluster-identity',
      clusterId: names.clusterId,
      userName: names.clusterUserName,
    });
  if (finalCredentials) {
    const secretRef = externalDnsRefs(namespace, false).find((r) => r.kind === 'Secret') as ObjectRef;
    const secret = state.live.get(describeRef(secretRef));
    if (secret && secret.metadata.labels?.[ZonekeeperLabels.organization] === org)
      steps.push({
        op: 'delete-credentials-secret',
        clusterId: names.clusterId,
        namespace,
        name: secretRef.name,
      });
    if (canonicalJson(credentialsNow) !== canonicalJson(finalCredentials))
      steps.push({
        op: 'record-credentials',
        clusterId: names.clusterId,
        credentials: finalCredentials.mode,
      });
    // The cluster's IAM user and key (it ran them with identity scope `cluster`): once the move is
    // recorded, as the organisation key below — until then the key stays published and rotated.
    if (clusterIdentityLeft)
      steps.push({
        op: 'delete-cluster-identity',
        clusterId: names.clusterId,
        userName: names.clusterUserName,
      });
  }
  if (trim.length > 0) steps.push({ op: 'trim-role', clusterId: names.clusterId, steps: trim });
  // The organisation key, once no attached cluster runs it (the organisation plan no longer wants it).
  const orgFacts = state.organization.credentials?.facts;
  if (
    finalCredentials &&
    organizationPlan.identity === null &&
    !attached.some((c) => c.scope === 'organization' && c.credentials === undefined) &&
    (orgFacts?.iamKeys !== null && orgFacts?.iamKeys !== undefined
      ? true
      : state.organization.credentials?.stored !== undefined)
  )
    steps.push({
      op: 'retire-organization-key',
      userName: names.userName,
      accessKeyIds: [...(orgFacts?.iamKeys ?? [])].sort(),
    });

  const caPem =
    organizationPlan.certificateAuthority.steps.length > 0
      ? null
      : (state.organization.ca?.certificatePem ?? null);
  const certificates = state.certificates.map((c) => ({
    name: c.input.name,
    plan: planCertificate(c.state, c.input, caPem, orgState.now),
  }));
  if (
    certManager.acmeIdentity &&
    (certManager.acmeIdentity.identity.steps.length > 0 ||
      certManager.acmeIdentity.credentials.steps.length > 0)
  )
    steps.push({
      op: 'ensure-acme-identity',
      userName: certManager.acmeIdentity.userName,
      identity: certManager.acmeIdentity.identity.steps,
      credentials: certManager.acmeIdentity.credentials.steps,
    });
  if (certManager.apply && certManager.settings)
    steps.push({
      op: 'apply-cert-manager',
      clusterId: names.clusterId,
      namespaces: certManager.settings.namespaces,
    });
  if (certManager.remove.length > 0)
    steps.push({
      op: 'remove-cert-manager',
      clusterId: names.clusterId,
      objects: certManager.remove,
    });
  return {
    organization: organizationPlan,
    scope,
    credentials: { now: credentialsNow, final: finalCredentials, roleArn: keyless?.roleArn ?? null },
    namespace,
    externalDns: overrides,
    clusterIdentity,
    steps,
    certificates,
    certManager,
  };
}

/** What applying an attach left. */
interface AppliedAttach {
  readonly organization: AppliedOrganization;
  readonly key?: ClusterKey;
  readonly externalDns?: ApplyExternalDnsResult;
  readonly certificates: readonly EnsureCertificateResult[];
}

async function applyAttach(
  ctx: Context,
  input: AttachInput,
  plan: AttachPlan,
  state: AttachState,
  call: CallOptions,
): Promise<AppliedAttach> {
  const { names } = input;
  const org = names.organization;
  const at = { ...ctx.layout, ...call };
  const organization = await applyOrganizationPlan(ctx, plan.organization, state.organization, call);
  const zone = organization.zone as OrganizationZone;
  if (!zone)
    throw new ZonekeeperError(
      'INTERNAL',
      `zonekeeper: organisation ${org} has no zone after ensuring it; run again.`,
    );
  const step = <O extends ClusterStep['op']>(op: O) =>
    plan.steps.find((s): s is Extract<ClusterStep, { op: O }> => s.op === op);

  const bind = step('bind-cluster');
  if (bind) {
    try {
      await writeClusterBinding(
        ctx.ports.secrets,
        { clusterId: names.clusterId, organization: org, boundAt: ctx.clock.now() },
        at,
      );
    } catch (error) {
      if (!hasErrorCode(error, 'CONFLICT')) throw error;
      const now = await readClusterBinding(ctx.ports.secrets, names.clusterId, at);
      if (now?.organization !== org)
        throw new ZonekeeperError(
          'NOT_OWNED',
          `Cluster ${names.clusterId} was just bound to organisation ${now?.organization ?? '(unknown)'}; a cluster belongs to one organisation.`,
          { cause: error, details: { clusterId: names.clusterId } },
        );
    }
  }
  const record = step('record-attachment');
  if (record)
    await writeAttachment(
      ctx.ports.secrets,
      {
        organization: org,
        clusterId: names.clusterId,
        namespace: record.namespace,
        scope: record.scope,
        tlsSecrets: record.tlsSecrets,
        attachedAt: state.attachment?.attachedAt ?? ctx.clock.now(),
        ...(plan.credentials.now ? { credentials: plan.credentials.now } : {}),
      },
      { ...at, cas: state.attachment?.version ?? 0 },
    );
  const settings = step('record-settings');
  if (settings) {
    const recorded = await readClusterSettings(ctx.ports.secrets, org, names.clusterId, at);
    await writeClusterSettings(
      ctx.ports.secrets,
      org,
      names.clusterId,
      {
        externalDns: settings.externalDns,
        ...(settings.certManager ? { certManager: settings.certManager } : {}),
      },
      { ...at, cas: recorded?.version ?? 0 },
    );
  }

  const ensureRole = step('ensure-role');
  if (ensureRole) await applyKeylessSteps(ctx, org, names.clusterId, ensureRole.steps, zone, call);

  let key: ClusterKey | undefined = ctx.powerdns
    ? organization.tsigKey
    : plan.scope === 'organization'
      ? organization.key
      : state.clusterIdentity?.credentials.stored;
  if (plan.clusterIdentity) {
    const desired = desiredZoneIdentity({
      baseDomain: ctx.baseDomain,
      organization: org,
      clusterId: names.clusterId,
      zoneName: names.zoneName,
      zoneId: zone.id,
    });
    await applyZoneIdentityPlan(plan.clusterIdentity.identity, desired, ctx.deps.identity, call);
    const gathered = state.clusterIdentity?.credentials ?? {
      facts: { userName: names.clusterUserName, iamKeys: null, consumers: [] },
    };
    key = await applyCredentialsPlan(
      ctx,
      plan.clusterIdentity.credentials,
      { organization: org, clusterId: names.clusterId },
      gathered,
      (ids, k, c) => publishKey(ctx, org, zone, ids, k, c),
      call,
    );
  }

  let externalDns: ApplyExternalDnsResult | undefined;
  const final = plan.credentials.final;
  if (step('apply-external-dns') && final && plan.credentials.roleArn) {
    externalDns = await applyClusterExternalDns(
      ctx,
      { organization: org, clusterId: names.clusterId, scope: plan.scope },
      zone,
      renderCredentials(final, plan.credentials.roleArn),
      plan.externalDns,
      plan.namespace,
      call,
    );
  } else if (step('apply-external-dns')) {
    if (!key)
      throw new ZonekeeperError(
        'INTERNAL',
        `zonekeeper: no access key for ${org}/${names.clusterId} after ensuring it; run attachCluster again.`,
        {
          details: {
            organization: org,
            clusterId: names.clusterId,
            remedy: {
              operation: 'attachCluster',
              organization: org,
              clusterId: names.clusterId,
              when: 'again',
            },
          },
        },
      );
    externalDns = await applyClusterExternalDns(
      ctx,
      { organization: org, clusterId: names.clusterId, scope: plan.scope },
      zone,
      key,
      plan.externalDns,
      plan.namespace,
      call,
    );
  }
  if (step('delete-cluster-identity') && plan.credentials.final === null)
    await deleteClusterIdentity(ctx, names, call);
  await applyAfterRollout(ctx, input, plan, zone, call);

  const certificates: EnsureCertificateResult[] = [];
  for (const [i, c] of plan.certificates.entries()) {
    const gathered = state.certificates[i];
    if (!gathered) continue;
    const current = await applyCertificatePlan(
      c.plan,
      gathered.state,
      gathered.input,
      ctx.deps.certificates,
      call,
    );
    certificates.push(certificateResult(c.plan, false, current));
  }
  if (!isEmptyCertManagerPlan(plan.certManager))
    await applyCertManagerPlan(
      ctx,
      names,
      plan.certManager,
      state.certManager,
      zone,
      organization.ca,
      await ctx.ports.cluster(names.clusterId),
      call,
    );
  return { organization, ...(key ? { key } : {}), ...(externalDns ? { externalDns } : {}), certificates };
}

/** The steps after ExternalDNS rolled: what it no longer uses goes, in the order that leaves no gap. */
async function applyAfterRollout(
  ctx: Context,
  input: AttachInput,
  plan: AttachPlan,
  zone: OrganizationZone,
  call: CallOptions,
): Promise<void> {
  const { names } = input;
  const org = names.organization;
  const at = { ...ctx.layout, ...call };
  for (const s of plan.steps) {
    call.signal?.throwIfAborted();
    if (s.op === 'delete-credentials-secret') {
      const client = await ctx.ports.cluster(names.clusterId);
      try {
        await client.delete({ apiVersion: 'v1', kind: 'Secret', namespace: s.namespace, name: s.name }, call);
      } catch (error) {
        if (!hasErrorCode(error, 'NOT_FOUND')) throw error;
      }
    } else if (s.op === 'record-credentials' && plan.credentials.final) {
      const current = await readAttachment(ctx.ports.secrets, org, names.clusterId, at);
      if (!current)
        throw new ZonekeeperError(
          'INTERNAL',
          `zonekeeper: ${org}/${names.clusterId} lost its attachment record; run attachCluster again.`,
        );
      const { version, ...rest } = current;
      await writeAttachment(
        ctx.ports.secrets,
        { ...rest, credentials: plan.credentials.final },
        { ...at, cas: version },
      );
    } else if (s.op === 'delete-cluster-identity' && plan.credentials.final !== null) {
      await deleteClusterIdentity(ctx, names, call);
    } else if (s.op === 'trim-role') {
      await applyKeylessSteps(ctx, org, names.clusterId, s.steps, zone, call);
    } else if (s.op === 'retire-organization-key') {
      // The whole organisation identity (keys → policy → user): nothing runs it, and a move back to
      // a key creates it again.
      await deleteZoneIdentity({ userName: s.userName }, ctx.deps.identity, call);
      await ctx.ports.secrets.deleteAll(ctx.paths.accessKey(org), call);
      ctx.logger.info(
        `zonekeeper: organisation ${org}'s IAM user and access key retired: no attached cluster runs them.`,
      );
    }
  }
}

function certificateResult(
  plan: CertificatePlan,
  dryRun: boolean,
  current: CertificateState['stored'],
): EnsureCertificateResult {
  return {
    plan,
    dryRun,
    authority: { plan: { steps: [] }, dryRun },
    ...(current
      ? {
          certificate: {
            serialNumber: current.serialNumber,
            notBefore: current.notBefore,
            notAfter: current.notAfter,
            renewAt: renewalTime(current),
            dnsNames: current.dnsNames,
          },
        }
      : {}),
  };
}

/** {@link Zonekeeper.attachCluster}. @internal */
export async function attachCluster(
  ctx: Context,
  organizationInput: string,
  input: AttachClusterInput,
  options: EnsureOptions = {},
): Promise<AttachResult> {
  const validated = validateAttachInput(ctx, organizationInput, input);
  validateDryRun(options);
  const { names } = validated;
  // An unknown cluster (a map without it) is bad input: say so before anything is read.
  const client = await ctx.ports.cluster(names.clusterId);
  const outcome = await ensure(
    {
      gather: (call) => gatherAttach(ctx, validated, client, call),
      plan: (state) => planAttach(ctx, validated, state),
      apply: (plan, state, call) =>
        isEmptyAttachPlan(plan)
          ? Promise.resolve<AppliedAttach>({
              organization: currentOrganization(state.organization, plan.organization),
              ...(() => {
                const key = plannedKey(
                  ctx,
                  plan.scope,
                  plan.organization,
                  plan.clusterIdentity?.credentials,
                  state,
                );
                return key ? { key } : {};
              })(),
              certificates: plan.certificates.map((c, i) =>
                certificateResult(c.plan, false, state.certificates[i]?.state.stored),
              ),
            })
          : applyAttach(ctx, validated, plan, state, call),
      exclusive: organizationExclusion(
        ctx,
        names.organization,
        `attachCluster ${names.organization} ${names.clusterId}`,
        isEmptyAttachPlan,
      ),
    },
    options,
  );
  const { plan } = outcome;
  const applied: AppliedAttach = outcome.dryRun
    ? {
        organization: currentOrganization(outcome.state.organization, plan.organization),
        ...(() => {
          const key = plannedKey(
            ctx,
            plan.scope,
            plan.organization,
            plan.clusterIdentity?.credentials,
            outcome.state,
          );
          return key ? { key } : {};
        })(),
        certificates: plan.certificates.map((c, i) =>
          certificateResult(c.plan, true, outcome.state.certificates[i]?.state.stored),
        ),
      }
    : outcome.applied;
  const organizationResult = organizationResultOf(
    names,
    plan.organization,
    applied.organization,
    outcome.dryRun,
  );
  const externalDnsStep = plan.steps.find((s) => s.op === 'apply-external-dns');
  // What ExternalDNS needed: applied (a real run), planned (a dry run whose zone and key exist), nothing
  // (no step); absent only when its objects cannot be rendered before this plan runs (a dry run).
  const externalDns: ApplyExternalDnsResult | undefined =
    applied.externalDns ??
    (externalDnsStep?.op !== 'apply-external-dns'
      ? { plan: { steps: [] }, dryRun: outcome.dryRun }
      : externalDnsStep.objects !== null
        ? { plan: { steps: externalDnsStep.objects }, dryRun: outcome.dryRun }
        : undefined);
  return {
    organization: names.organization,
    clusterId: names.clusterId,
    dryRun: outcome.dryRun,
    identityScope: plan.scope,
    organizationResult,
    plan: plan.steps,
    ...(externalDns ? { externalDns } : {}),
    certificates: applied.certificates,
    ...(applied.key && plan.credentials.final === null
      ? isTsigKey(applied.key)
        ? { tsigKeyName: applied.key.name }
        : { accessKeyId: applied.key.accessKeyId }
      : {}),
    credentials: modeOf(plan.credentials.final ?? undefined),
    ...(plan.credentials.roleArn ? { roleArn: plan.credentials.roleArn } : {}),
    ...(plan.clusterIdentity
      ? {
          clusterIdentity: {
            userName: plan.clusterIdentity.userName,
            identity: plan.clusterIdentity.identity.steps,
            credentials: plan.clusterIdentity.credentials.steps,
          },
        }
      : {}),
  };
}
