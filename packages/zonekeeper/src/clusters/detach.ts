/**
 * `detachCluster`: the cluster's ExternalDNS and zonekeeper's TLS Secrets removed (only objects labelled
 * for this organisation), its cluster identity deleted, its records in the store deleted, and its
 * binding to the organisation removed last — until then a re-run (or a rotation) still knows the cluster.
 *
 * Refused before anything is written: a cluster bound to another organisation (`NOT_OWNED`).
 *
 * @internal
 * @packageDocumentation
 */

import {
  applySteps,
  type CallOptions,
  type ClusterClient,
  type EnsureOptions,
  ensure,
  hasErrorCode,
  type KubernetesObject,
  refOf,
  validateDryRun,
  ZONEKEEPER_MANAGER,
  ZonekeeperError,
  ZonekeeperLabels,
} from '@zonekeeper/core';
import {
  applyUninstallPlan,
  gatherUninstall,
  planUninstall,
  type UninstallStep,
} from '@zonekeeper/externaldns-deployer';
import { deleteZoneIdentity } from '@zonekeeper/iam-scoper';
import {
  type ClusterAttachment,
  type ClusterBinding,
  deleteClusterBinding,
  deleteClusterSecrets,
  listSecretsRecursively,
  readAttachment,
  readClusterBinding,
  readClusterSettings,
} from '@zonekeeper/vault-keys';
import type { Context } from '../context.js';
import { organizationExclusion } from '../locks.js';
import { type ClusterNames, clusterNames } from '../names.js';
import { gatherAttached } from '../organization/apply.js';
import type { DetachResult, DetachStep } from '../results.js';
import { certManagerRefs, deleteObjects, type RecordedCertManager } from './cert-manager.js';
import type { RecordedClusterSettings } from './externaldns.js';
import {
  applyKeylessSteps,
  gatherKeyless,
  type KeylessCluster,
  type KeylessStep,
  planClusterRoleDeletion,
  planKeylessRemoval,
} from './keyless.js';

const DEFAULT_NAMESPACE = 'external-dns';

interface DetachState {
  readonly binding?: ClusterBinding;
  readonly attachment?: ClusterAttachment;
  readonly namespace: string;
  /** `undefined` with skipCluster. */
  readonly uninstall?: readonly UninstallStep[];
  readonly tlsSecrets: readonly {
    readonly namespace: string;
    readonly name: string;
    readonly object?: KubernetesObject;
  }[];
  readonly clusterUserExists: boolean;
  readonly secretPaths: readonly string[];
  /** The keyless steps of a keyless cluster (planned while gathering: they need the organisation's others). */
  readonly keyless: readonly KeylessStep[];
  /** cert-manager mode: the recorded objects the cluster holds (`undefined` with skipCluster). */
  readonly certManager: readonly KubernetesObject[];
}

/** Deletes a cluster's identity (keys, policies, user) and its key record. @internal */
export async function deleteClusterIdentity(
  ctx: Context,
  names: ClusterNames,
  call: CallOptions,
): Promise<void> {
  await deleteZoneIdentity({ userName: names.clusterUserName }, ctx.deps.identity, call);
  const path = ctx.paths.accessKey(names.organization, names.clusterId);
  await ctx.ports.secrets.deleteAll(path, call);
}

async function gatherDetach(
  ctx: Context,
  names: ClusterNames,
  client: ClusterClient | undefined,
  call: CallOptions,
): Promise<DetachState> {
  const at = { ...ctx.layout, ...call };
  const binding = await readClusterBinding(ctx.ports.secrets, names.clusterId, at);
  const attachment = await readAttachment(ctx.ports.secrets, names.organization, names.clusterId, at);
  const namespace = attachment?.namespace ?? ctx.externalDns.namespace ?? DEFAULT_NAMESPACE;
  let uninstall: UninstallStep[] | undefined;
  const tlsSecrets: { namespace: string; name: string; object?: KubernetesObject }[] = [];
  if (client) {
    const bound = binding === undefined || binding.organization === names.organization;
    uninstall = bound
      ? [
          ...planUninstall(
            await gatherUninstall(client, { namespace, organization: names.organization }, call),
          ).steps,
        ]
      : [];
    for (const tls of attachment?.tlsSecrets ?? []) {
      const [ns, name] = tls.split('/') as [string, string];
      const object = await client.get({ apiVersion: 'v1', kind: 'Secret', namespace: ns, name }, call);
      tlsSecrets.push({ namespace: ns, name, ...(object ? { object } : {}) });
    }
  }
  const certManager: KubernetesObject[] = [];
  const recorded = (
    (await readClusterSettings(ctx.ports.secrets, names.organization, names.clusterId, at))?.settings as
      | RecordedClusterSettings
      | undefined
  )?.certManager as RecordedCertManager | undefined;
  if (client && recorded)
    for (const ref of certManagerRefs(names.organization, recorded)) {
      try {
        const object = await client.get(ref, call);
        if (object) certManager.push(object);
      } catch (error) {
        // A namespace or CRD that is gone holds nothing.
        if (!hasErrorCode(error, 'NOT_FOUND')) throw error;
      }
    }
  const clusterUserExists = (await ctx.ports.identity.getUser(names.clusterUserName, call)) !== undefined;
  const secretPaths = await listSecretsRecursively(
    ctx.ports.secrets,
    ctx.paths.clusterFolder(names.organization, names.clusterId),
    call,
  );
  let keyless: readonly KeylessStep[] = [];
  if (attachment?.credentials) {
    const attached = await gatherAttached(ctx, names.organization, call);
    const remaining: KeylessCluster[] = attached.flatMap((a) =>
      a.credentials && a.clusterId !== names.clusterId
        ? [
            {
              clusterId: a.clusterId,
              namespace: a.namespace ?? DEFAULT_NAMESPACE,
              credentials: a.credentials,
            },
          ]
        : [],
    );
    // The organisation role keeps the organisation-scoped others; the cluster's own role (identity
    // scope `cluster`) goes with it. Both are read whatever the recorded scope, so an attach that
    // stopped half-way through a change of scope leaves neither trusting the detached cluster.
    const state = await gatherKeyless(
      ctx,
      {
        roleName: names.userName,
        policyName: names.policyName,
        namespace,
        credentials: attachment.credentials,
        previous: undefined,
        clusterRole: { roleName: names.clusterUserName, policyName: names.clusterPolicyName },
      },
      call,
    );
    const removal = planKeylessRemoval(
      ctx,
      {
        organization: names.organization,
        clusterId: names.clusterId,
        roleName: names.userName,
        credentials: attachment.credentials,
        remaining,
        trustRemaining: remaining.filter(
          (r) => attached.find((a) => a.clusterId === r.clusterId)?.scope !== 'cluster',
        ),
      },
      state,
    );
    // Providers last: a role's trust names them.
    keyless = [
      ...removal.filter((s) => s.op !== 'delete-oidc-provider'),
      ...planClusterRoleDeletion(
        ctx,
        { organization: names.organization, clusterId: names.clusterId },
        state.clusterRole,
      ),
      ...removal.filter((s) => s.op === 'delete-oidc-provider'),
    ];
  }
  return {
    ...(binding ? { binding } : {}),
    ...(attachment ? { attachment } : {}),
    namespace,
    ...(uninstall ? { uninstall } : {}),
    tlsSecrets,
    clusterUserExists,
    secretPaths,
    keyless,
    certManager,
  };
}

function planDetach(names: ClusterNames, state: DetachState): { readonly steps: readonly DetachStep[] } {
  if (state.binding && state.binding.organization !== names.organization)
    throw new ZonekeeperError(
      'NOT_OWNED',
      `Cluster ${names.clusterId} belongs to organisation ${state.binding.organization}, not ${names.organization}; nothing was changed.`,
      { details: { clusterId: names.clusterId, organization: state.binding.organization } },
    );
  const steps: DetachStep[] = [];
  if (state.uninstall && state.uninstall.length > 0)
    steps.push({ op: 'uninstall-external-dns', namespace: state.namespace, objects: state.uninstall });
  for (const s of state.tlsSecrets) {
    const labels = s.object?.metadata.labels ?? {};
    if (
      s.object &&
      labels[ZonekeeperLabels.managedBy] === ZONEKEEPER_MANAGER &&
      (labels[ZonekeeperLabels.organization] ?? names.organization) === names.organization
    )
      steps.push({ op: 'delete-tls-secret', namespace: s.namespace, name: s.name });
  }
  // cert-manager mode: only objects labelled for this organisation (others are left alone).
  const certManager = state.certManager.filter((o) => {
    const labels = o.metadata.labels ?? {};
    return (
      labels[ZonekeeperLabels.managedBy] === ZONEKEEPER_MANAGER &&
      labels[ZonekeeperLabels.organization] === names.organization
    );
  });
  if (certManager.length > 0)
    steps.push({
      op: 'remove-cert-manager',
      objects: certManager.map(refOf),
    });
  if (state.clusterUserExists) steps.push({ op: 'delete-cluster-identity', userName: names.clusterUserName });
  // After ExternalDNS is gone: its trust entry, association and provider.
  if (state.keyless.length > 0) steps.push({ op: 'remove-keyless', steps: state.keyless });
  if (state.secretPaths.length > 0) steps.push({ op: 'delete-cluster-secrets', paths: state.secretPaths });
  if (state.binding) steps.push({ op: 'unbind-cluster', clusterId: names.clusterId });
  return { steps };
}

async function applyDetach(
  ctx: Context,
  names: ClusterNames,
  client: ClusterClient | undefined,
  plan: { readonly steps: readonly DetachStep[] },
  call: CallOptions,
): Promise<{ identities: string[]; secrets: string[] }> {
  const at = { ...ctx.layout, ...call };
  const identities: string[] = [];
  const secrets: string[] = [];
  await applySteps(
    plan.steps,
    async (step) => {
      switch (step.op) {
        case 'uninstall-external-dns':
          if (client)
            await applyUninstallPlan(
              client,
              { steps: step.objects },
              { clock: ctx.clock, logger: ctx.logger },
              call,
            );
          return;
        case 'delete-tls-secret':
          if (client) {
            try {
              await client.delete(
                { apiVersion: 'v1', kind: 'Secret', namespace: step.namespace, name: step.name },
                call,
              );
            } catch (error) {
              if (!hasErrorCode(error, 'NOT_FOUND')) throw error;
            }
          }
          return;
        case 'remove-cert-manager':
          if (client) await deleteObjects(client, step.objects, call);
          return;
        case 'delete-cluster-identity':
          await deleteZoneIdentity({ userName: step.userName }, ctx.deps.identity, call);
          identities.push(step.userName);
          return;
        case 'remove-keyless':
          await applyKeylessSteps(ctx, names.organization, names.clusterId, step.steps, undefined, call);
          return;
        case 'delete-cluster-secrets': {
          const { deleted, foreign } = await deleteClusterSecrets(
            ctx.ports.secrets,
            names.organization,
            names.clusterId,
            at,
          );
          secrets.push(...deleted);
          if (foreign.length > 0)
            ctx.logger.warn(
              `zonekeeper: kept ${foreign.join(', ')}: not zonekeeper's (this platform's), so not deleted.`,
            );
          return;
        }
        case 'unbind-cluster':
          await deleteClusterBinding(ctx.ports.secrets, names.clusterId, names.organization, at);
          return;
      }
    },
    { ...call, logger: ctx.logger },
  );
  return { identities, secrets };
}

/** {@link Zonekeeper.detachCluster}. @internal */
export async function detachCluster(
  ctx: Context,
  organizationInput: string,
  clusterIdInput: string,
  options: EnsureOptions & { readonly skipCluster?: boolean } = {},
): Promise<DetachResult> {
  const names = clusterNames(ctx, organizationInput, clusterIdInput);
  validateDryRun(options);
  const client = options.skipCluster ? undefined : await ctx.ports.cluster(names.clusterId);
  const outcome = await ensure(
    {
      gather: (call) => gatherDetach(ctx, names, client, call),
      plan: (state) => planDetach(names, state),
      apply: (plan, _state, call) => applyDetach(ctx, names, client, plan, call),
      exclusive: organizationExclusion(
        ctx,
        names.organization,
        `detachCluster ${names.organization} ${names.clusterId}`,
        (plan: { readonly steps: readonly DetachStep[] }) => plan.steps.length === 0,
      ),
    },
    options,
  );
  const steps = outcome.plan.steps;
  const uninstalled = [
    ...steps.flatMap((s) => (s.op === 'uninstall-external-dns' ? s.objects : [])),
    ...steps.flatMap((s) =>
      s.op === 'delete-tls-secret'
        ? [
            {
              op: 'delete-object' as const,
              ref: { apiVersion: 'v1', kind: 'Secret', namespace: s.namespace, name: s.name },
            },
          ]
        : [],
    ),
  ];
  const planned = {
    identities: steps.flatMap((s) => (s.op === 'delete-cluster-identity' ? [s.userName] : [])),
    secrets: steps.flatMap((s) => (s.op === 'delete-cluster-secrets' ? s.paths : [])),
  };
  const done = outcome.dryRun ? planned : outcome.applied;
  return {
    organization: names.organization,
    clusterId: names.clusterId,
    dryRun: outcome.dryRun,
    plan: steps,
    uninstalled,
    deletedIdentities: done.identities,
    deletedSecrets: done.secrets,
  };
}
