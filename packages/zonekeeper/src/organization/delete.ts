/**
 * `deleteOrganization` (offboarding) and the deletion steps it shares with the garbage collector.
 *
 * ```
 *  gather   the organisation's zones (every public zone of its name) with their delegations and
 *           records, its attachments and cluster bindings, the inventory's running clusters (when one is
 *           configured), its identities, its secrets (owned / foreign) and its lock record
 *  plan     pure: refuse while a cluster is attached, bound or running; else, in the collector's order,
 *           per zone delegation → records → zone (zone-manager's planZoneDeletion), then identities →
 *           secrets → cluster bindings (planOrganizationLeftovers, also the collector's), then the lock
 *           record
 *  apply    exactly the plan, holding the organisation's lock (core's ensure); the lock record is
 *           deleted when the lock is released, as the last write
 * ```
 *
 * Crash safety: every step is idempotent and the plan is re-made from what exists, so a re-run after a
 * crash at any point plans only what is left and converges; an organisation with nothing left gives an
 * empty plan (no lock, no write).
 *
 * @internal
 * @packageDocumentation
 */

import {
  applySteps,
  type CallOptions,
  type EnsureOptions,
  ensure,
  hasErrorCode,
  organizationZoneName,
  throwIfAborted,
  validateDryRun,
  ZonekeeperError,
} from '@zonekeeper/core';
import {
  deleteZoneIdentity,
  IDENTITY_PATH,
  IDENTITY_TAGS,
  isManagedIdentity,
  listZoneIdentities,
  planZoneIdentityDeletion,
  type ZoneIdentity,
  type ZoneIdentityDeletionStep,
} from '@zonekeeper/iam-scoper';
import {
  deleteClusterBinding,
  deleteOrganizationSecrets,
  listClusterBindings,
  listSecretsRecursively,
  SECRET_OWNERSHIP,
  type SecretKind,
  secretOwnership,
} from '@zonekeeper/vault-keys';
import {
  applyZoneDeletionPlan,
  gatherZoneDeletion,
  planZoneDeletion,
  type ZoneDeletionState,
  ZoneTags,
  zoneOwnership,
} from '@zonekeeper/zone-manager';
import { removeOrganizationTsigKey, tsigKeyNamesForZone } from '@zonekeeper/zone-manager/powerdns';
import { applyKeylessSteps, eksClusterName, type KeylessStep } from '../clusters/keyless.js';
import type { Context } from '../context.js';
import { readOrganizationsInUseBy } from '../inventory.js';
import { organizationExclusion } from '../locks.js';
import { type OrganizationNames, organizationNames } from '../names.js';
import type { OrganizationDeletionResult, OrganizationDeletionStep } from '../results.js';
import { gatherAttached } from './apply.js';

// ───────────────────────────── leftovers: shared with the collector ─────────────────────────────

/** An identity of the organisation as gathered for its deletion. @internal */
export interface IdentityToDelete {
  readonly userName: string;
  readonly clusterId?: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly accessKeyIds: readonly string[];
  readonly policyNames: readonly string[];
}

/** What the leftovers planner needs: identities, secrets and cluster bindings of one organisation. @internal */
export interface LeftoversState {
  readonly organization: string;
  readonly identities: readonly IdentityToDelete[];
  /** Secrets in the organisation's folder that are zonekeeper's (this platform's). */
  readonly ownedSecrets: readonly string[];
  /** Secrets in the folder that are not: kept. */
  readonly foreignSecrets: readonly string[];
  /** Clusters bound to the organisation. */
  readonly bindings: readonly string[];
  /**
   * What keyless credentials left of the organisation (only zonekeeper's of this platform: tagged
   * managed-by, organisation and base domain). Absent in hand-built states: nothing.
   */
  readonly keyless?: {
    readonly associations: readonly { readonly clusterName: string; readonly associationId: string }[];
    readonly roles: readonly { readonly roleName: string; readonly policyNames: readonly string[] }[];
    readonly oidcProviders: readonly string[];
  };
  /** The PowerDNS backend: the organisation's TSIG key on the server, when it is there. */
  readonly tsigKey?: { readonly keyName: string; readonly zoneName: string };
}

/** Whether tags mark something as this platform's, of this organisation. */
function ourKeyless(ctx: Context, tags: Readonly<Record<string, string>>, organization: string): boolean {
  return (
    isManagedIdentity(tags) &&
    tags[IDENTITY_TAGS.organization] === organization &&
    tags[IDENTITY_TAGS.baseDomain] === ctx.baseDomain
  );
}

/** Reads the organisation's keyless leftovers: its roles, the associations their trust names, its OIDC providers. */
async function gatherKeylessLeftovers(
  ctx: Context,
  organization: string,
  call: CallOptions,
): Promise<NonNullable<LeftoversState['keyless']>> {
  const { roles, podIdentity } = ctx.ports;
  const ours = (await roles.listRoles(IDENTITY_PATH, call)).filter((r) =>
    ourKeyless(ctx, r.tags, organization),
  );
  const clusterNames = new Set<string>();
  for (const r of ours)
    for (const arn of r.trustPolicy.match(/arn:aws[a-z-]*:eks:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]+/g) ??
      [])
      clusterNames.add(eksClusterName(arn));
  const associations: { clusterName: string; associationId: string }[] = [];
  for (const clusterName of [...clusterNames].sort()) {
    let summaries: Awaited<ReturnType<typeof podIdentity.listAssociations>> = [];
    try {
      summaries = await podIdentity.listAssociations(clusterName, {}, call);
    } catch (error) {
      if ((error as { code?: string }).code !== 'NOT_FOUND') throw error;
    }
    for (const s of summaries) {
      const a = await podIdentity.describeAssociation(clusterName, s.associationId, call);
      if (a && ourKeyless(ctx, a.tags, organization))
        associations.push({ clusterName, associationId: a.associationId });
    }
  }
  const roleFacts = [];
  for (const r of ours)
    roleFacts.push({
      roleName: r.roleName,
      policyNames: [...(await roles.listRolePolicies(r.roleName, call))].sort(),
    });
  const oidcProviders = (await roles.listOidcProviders(call))
    .filter((p) => ourKeyless(ctx, p.tags, organization))
    .map((p) => p.arn)
    .sort();
  return { associations, roles: roleFacts.sort((a, b) => (a.roleName < b.roleName ? -1 : 1)), oidcProviders };
}

/**
 * Every organisation's identities and cluster bindings, read once for a whole collection (one identity
 * listing and one binding listing, instead of both per deleted organisation). What appeared after this
 * read is not deleted by it (the orphan sweep reads afresh); what went since is skipped.
 * @internal
 */
export interface LeftoversSnapshot {
  readonly identities: ReadonlyMap<string, readonly ZoneIdentity[]>;
  /** Organisation → the cluster ids bound to it. */
  readonly bindings: ReadonlyMap<string, readonly string[]>;
}

/** Reads a {@link LeftoversSnapshot} (the two listings at the same time). @internal */
export async function readLeftoversSnapshot(ctx: Context, call: CallOptions): Promise<LeftoversSnapshot> {
  const [identities, bindings] = await Promise.all([
    listZoneIdentities({ baseDomain: ctx.baseDomain }, ctx.deps.identity, call),
    listClusterBindings(ctx.ports.secrets, { ...ctx.layout, ...call }),
  ]);
  const byOrganization = <T>(items: readonly T[], key: (t: T) => string) => {
    const out = new Map<string, T[]>();
    for (const item of items) {
      const k = key(item);
      const list = out.get(k);
      if (list) list.push(item);
      else out.set(k, [item]);
    }
    return out;
  };
  return {
    identities: byOrganization(identities, (u) => u.organization),
    bindings: new Map(
      [...byOrganization(bindings, (b) => b.organization)].map(([org, list]) => [
        org,
        list.map((b) => b.clusterId),
      ]),
    ),
  };
}

/**
 * Reads an organisation's identities, secrets and cluster bindings (the identities and bindings from
 * `snapshot` when given, else listed now). Reads only.
 * @internal
 */
export async function gatherOrganizationLeftovers(
  ctx: Context,
  organization: string,
  call: CallOptions,
  snapshot?: LeftoversSnapshot,
): Promise<LeftoversState> {
  const identities: IdentityToDelete[] = [];
  const listed = snapshot
    ? (snapshot.identities.get(organization) ?? [])
    : await listZoneIdentities({ baseDomain: ctx.baseDomain, organization }, ctx.deps.identity, call);
  for (const u of listed) {
    let accessKeyIds: string[];
    let policyNames: readonly string[];
    try {
      accessKeyIds = (await ctx.ports.identity.listAccessKeys(u.userName, call))
        .map((k) => k.accessKeyId)
        .sort();
      policyNames = await ctx.ports.identity.listUserPolicies(u.userName, call);
    } catch (error) {
      // Listed earlier in the collection, gone since: nothing to delete.
      if (snapshot && hasErrorCode(error, 'NOT_FOUND')) continue;
      throw error;
    }
    identities.push({
      userName: u.userName,
      ...(u.clusterId === undefined ? {} : { clusterId: u.clusterId }),
      tags: u.tags,
      accessKeyIds,
      policyNames: [...policyNames].sort(),
    });
  }
  const ownedSecrets: string[] = [];
  const foreignSecrets: string[] = [];
  for (const path of await listSecretsRecursively(
    ctx.ports.secrets,
    ctx.paths.organization(organization),
    call,
  )) {
    const meta = await ctx.ports.secrets.readMetadata(path, call);
    if (!meta) continue;
    const kind = (meta.customMetadata[SECRET_OWNERSHIP.kind] ?? 'aws-access-key') as SecretKind;
    (secretOwnership(meta.customMetadata, { kind, organization }, ctx.layout.owner) === 'foreign'
      ? foreignSecrets
      : ownedSecrets
    ).push(path);
  }
  const bindings = snapshot
    ? [...(snapshot.bindings.get(organization) ?? [])].sort()
    : (await listClusterBindings(ctx.ports.secrets, { ...ctx.layout, ...call }))
        .filter((b) => b.organization === organization)
        .map((b) => b.clusterId)
        .sort();
  const keyless = ctx.powerdns ? undefined : await gatherKeylessLeftovers(ctx, organization, call);
  let tsigKey: LeftoversState['tsigKey'];
  if (ctx.powerdns) {
    const zoneName = organizationZoneName(organization, ctx.baseDomain);
    // Either of the organisation's two key names (a rotation alternates them, and may have stopped
    // with both on the server).
    for (const keyName of tsigKeyNamesForZone(zoneName))
      if (!tsigKey && (await ctx.powerdns.admin.getTsigKey(keyName, call))) tsigKey = { keyName, zoneName };
  }
  return {
    organization,
    identities,
    ownedSecrets,
    foreignSecrets,
    bindings,
    ...(keyless ? { keyless } : {}),
    ...(tsigKey ? { tsigKey } : {}),
  };
}

/**
 * Plans the deletion of an organisation's identities (its TSIG key, on PowerDNS) → secrets → cluster
 * bindings, in that order (the
 * last part of both the collector's zone deletion and offboarding). Pure.
 * @throws `NOT_OWNED` for an identity without zonekeeper's tag (listed ones always carry it).
 * @internal
 */
export function planOrganizationLeftovers(state: LeftoversState): OrganizationDeletionStep[] {
  const steps: OrganizationDeletionStep[] = [];
  // Keyless first, in the order IAM and EKS need: an association names its role, a role's trust its
  // OIDC provider, and a role is deleted only without inline policies.
  const k = state.keyless;
  const keyless: KeylessStep[] = k
    ? [
        ...k.associations.map((a) => ({
          op: 'delete-pod-identity-association' as const,
          clusterName: a.clusterName,
          associationId: a.associationId,
        })),
        ...k.roles.flatMap((r) => [
          ...r.policyNames.map((policyName) => ({
            op: 'delete-role-policy' as const,
            roleName: r.roleName,
            policyName,
          })),
          { op: 'delete-role' as const, roleName: r.roleName },
        ]),
        ...k.oidcProviders.map((arn) => ({ op: 'delete-oidc-provider' as const, arn })),
      ]
    : [];
  if (keyless.length > 0) steps.push({ op: 'delete-keyless', steps: keyless });
  for (const u of state.identities)
    steps.push({
      op: 'delete-identity',
      userName: u.userName,
      ...(u.clusterId === undefined ? {} : { clusterId: u.clusterId }),
      steps: planZoneIdentityDeletion({
        userName: u.userName,
        user: { tags: u.tags },
        accessKeyIds: u.accessKeyIds,
        policyNames: u.policyNames,
      }).steps as readonly ZoneIdentityDeletionStep[],
    });
  // Like the IAM identity: after the zone, before the stored secret (a crash in between leaves the
  // stored key, which the next run of either deletion finds nothing to do with but delete).
  if (state.tsigKey) steps.push({ op: 'delete-tsig-key', ...state.tsigKey });
  if (state.ownedSecrets.length > 0) steps.push({ op: 'delete-secrets', paths: state.ownedSecrets });
  for (const clusterId of state.bindings) steps.push({ op: 'unbind-cluster', clusterId });
  return steps;
}

/** What executing deletion steps removed. @internal */
export interface DeletionOutcome {
  readonly zones: string[];
  readonly identities: string[];
  readonly secretPaths: string[];
  readonly unboundClusters: string[];
  /** TSIG keys removed from the PowerDNS server (their names). */
  readonly tsigKeys: string[];
}

/**
 * Executes deletion steps in order (the collector's and offboarding's one executor): zones through
 * zone-manager's `applyZoneDeletionPlan` (with `dns`, the collector's guarded port), identities through
 * iam-scoper's `deleteZoneIdentity`, secrets through vault-keys' `deleteOrganizationSecrets` (foreign
 * ones kept), bindings through `deleteClusterBinding`. Each is idempotent. `forget-lock` writes nothing
 * here: the lock's release deletes the record.
 * @internal
 */
export async function applyOrganizationDeletionSteps(
  ctx: Context,
  organization: string,
  steps: readonly OrganizationDeletionStep[],
  call: CallOptions,
  options: { readonly dns?: Context['ports']['dns'] } = {},
): Promise<DeletionOutcome> {
  const out: DeletionOutcome = {
    zones: [],
    identities: [],
    secretPaths: [],
    unboundClusters: [],
    tsigKeys: [],
  };
  const at = { ...ctx.layout, ...call };
  await applySteps(
    steps,
    async (step) => {
      switch (step.op) {
        case 'delete-organization-zone':
          await applyZoneDeletionPlan(
            { zoneId: step.zoneId, steps: step.steps, keptDelegations: [] },
            { ...ctx.deps.dns, ...(options.dns ? { dns: options.dns } : {}) },
            call,
          );
          out.zones.push(step.zoneId);
          return;
        case 'delete-keyless':
          await applyKeylessSteps(ctx, organization, '', step.steps, undefined, call);
          return;
        case 'delete-identity':
          await deleteZoneIdentity({ userName: step.userName }, ctx.deps.identity, call);
          out.identities.push(step.userName);
          return;
        case 'delete-tsig-key': {
          if (!ctx.powerdns)
            throw new ZonekeeperError('INTERNAL', 'zonekeeper: the PowerDNS backend is not configured.');
          await removeOrganizationTsigKey({ admin: ctx.powerdns.admin }, { zoneName: step.zoneName }, call);
          out.tsigKeys.push(step.keyName);
          return;
        }
        case 'delete-secrets': {
          const { deleted, foreign } = await deleteOrganizationSecrets(ctx.ports.secrets, organization, at);
          if (foreign.length > 0)
            ctx.logger.warn(
              `zonekeeper: kept ${foreign.join(', ')}: not zonekeeper's (this platform's), so not deleted.`,
            );
          out.secretPaths.push(...deleted);
          return;
        }
        case 'unbind-cluster':
          await deleteClusterBinding(ctx.ports.secrets, step.clusterId, organization, at);
          out.unboundClusters.push(step.clusterId);
          return;
        case 'forget-lock':
          return;
      }
    },
    { ...call, logger: ctx.logger },
  );
  return out;
}

/**
 * Deletes an organisation's identities, secrets and cluster bindings (its lock is held by the caller):
 * gather (from `snapshot` when given) → {@link planOrganizationLeftovers} →
 * {@link applyOrganizationDeletionSteps}.
 * @internal
 */
export async function deleteOrganizationLeftovers(
  ctx: Context,
  organization: string,
  call: CallOptions,
  snapshot?: LeftoversSnapshot,
): Promise<{ identities: string[]; secretPaths: string[] }> {
  throwIfAborted(call.signal);
  const state = await gatherOrganizationLeftovers(ctx, organization, call, snapshot);
  const done = await applyOrganizationDeletionSteps(
    ctx,
    organization,
    planOrganizationLeftovers(state),
    call,
  );
  return { identities: done.identities, secretPaths: done.secretPaths };
}

// ───────────────────────────── offboarding ─────────────────────────────

/** A zone named like the organisation's, as gathered for offboarding. @internal */
export interface ZoneToDelete {
  readonly zoneId: string;
  readonly callerReference: string;
  readonly state: ZoneDeletionState;
}

/** What {@link planOrganizationDeletion} needs. @internal */
export interface OrganizationDeletionState {
  readonly names: OrganizationNames;
  readonly zones: readonly ZoneToDelete[];
  /** Clusters with an attachment record. */
  readonly attached: readonly string[];
  /** Organisations in use according to the inventory (`undefined`: no inventory configured). */
  readonly running: readonly string[] | undefined;
  readonly leftovers: LeftoversState;
  /** The path of the organisation's lock record, when it exists. */
  readonly lockRecord?: string;
}

/** The plan of {@link deleteOrganization}. JSON data. @internal */
export interface OrganizationDeletionPlan {
  readonly steps: readonly OrganizationDeletionStep[];
  /** Zones named like the organisation's that are not zonekeeper's (kept). */
  readonly keptZones: readonly string[];
  /** Secrets in the organisation's folder that are not zonekeeper's (kept). */
  readonly keptSecrets: readonly string[];
}

async function gatherOrganizationDeletion(
  ctx: Context,
  names: OrganizationNames,
  call: CallOptions,
): Promise<OrganizationDeletionState> {
  const zones: ZoneToDelete[] = [];
  if (await ctx.ensureEmbeddedParent(call, false))
    for (const z of (await ctx.ports.dns.findZonesByName(names.zoneName, call)).filter((z) => !z.privateZone))
      zones.push({
        zoneId: z.id,
        callerReference: z.callerReference,
        state: await gatherZoneDeletion(z.id, ctx.ports.dns, call),
      });
  const attached = (await gatherAttached(ctx, names.organization, call)).map((a) => a.clusterId).sort();
  const running = ctx.inventoryConfigured
    ? (await readOrganizationsInUseBy(ctx.ports.inventory, names.organization, call)).sort()
    : undefined;
  const leftovers = await gatherOrganizationLeftovers(ctx, names.organization, call);
  const lockPath = ctx.paths.lock(names.organization);
  const lockRecord = (await ctx.ports.secrets.readMetadata(lockPath, call)) ? lockPath : undefined;
  return { names, zones, attached, running, leftovers, ...(lockRecord ? { lockRecord } : {}) };
}

/**
 * Plans offboarding. Pure.
 * @throws `CONFLICT` while a cluster is attached, bound or running (detach it first), for a protected
 *   zone, or for a zone of ours whose tags an interrupted ensure did not write yet.
 * @internal
 */
export function planOrganizationDeletion(state: OrganizationDeletionState): OrganizationDeletionPlan {
  const { organization, zoneName } = state.names;
  const clusters = [...new Set([...state.attached, ...state.leftovers.bindings])].sort();
  if (clusters.length > 0)
    throw new ZonekeeperError(
      'CONFLICT',
      `Organisation ${organization} still has attached clusters (${clusters.join(', ')}); run detachCluster for each first. Nothing was deleted.`,
      { details: { organization, clusters, remedy: { operation: 'detachCluster', organization } } },
    );
  const running = state.running ?? [];
  if (running.length > 0)
    throw new ZonekeeperError(
      'CONFLICT',
      `The cluster inventory lists running clusters of organisation ${organization} (${running.join(', ')}); stop them (or remove them from the inventory) first. Nothing was deleted.`,
      { details: { organization, clusters: running } },
    );
  const steps: OrganizationDeletionStep[] = [];
  const keptZones: string[] = [];
  for (const z of state.zones) {
    const tags = z.state.zone?.tags ?? {};
    if (zoneOwnership({ callerReference: z.callerReference, tags }, zoneName, organization) !== 'ours') {
      keptZones.push(z.zoneId);
      continue;
    }
    if (tags[ZoneTags.managedBy] === undefined)
      throw new ZonekeeperError(
        'CONFLICT',
        `Zone ${z.zoneId} (${zoneName}) is zonekeeper's but its tags were never written (its creation was interrupted); run ensureOrganization first, then delete the organisation again. Nothing was deleted.`,
        {
          details: {
            organization,
            zoneId: z.zoneId,
            remedy: { operation: 'ensureOrganization', organization },
          },
        },
      );
    // Refuses a protected zone (CONFLICT).
    const plan = planZoneDeletion(z.state, z.zoneId);
    if (plan.steps.length > 0)
      steps.push({ op: 'delete-organization-zone', zoneId: z.zoneId, zoneName, steps: plan.steps });
  }
  steps.push(...planOrganizationLeftovers(state.leftovers));
  if (state.lockRecord !== undefined) steps.push({ op: 'forget-lock', path: state.lockRecord });
  return { steps, keptZones, keptSecrets: state.leftovers.foreignSecrets };
}

/** {@link Zonekeeper.deleteOrganization}. @internal */
export async function deleteOrganization(
  ctx: Context,
  organizationInput: string,
  options: EnsureOptions = {},
): Promise<OrganizationDeletionResult> {
  const names = organizationNames(ctx, organizationInput);
  validateDryRun(options);
  let done = false;
  const exclusion = organizationExclusion(
    ctx,
    names.organization,
    `deleteOrganization ${names.organization}`,
    (plan: OrganizationDeletionPlan) => plan.steps.length === 0,
    // The organisation is gone: its lock record goes too, when the lock is released (the last write).
    { forget: () => done },
  );
  const outcome = await ensure(
    {
      gather: (call) => gatherOrganizationDeletion(ctx, names, call),
      plan: planOrganizationDeletion,
      apply: async (plan, _state, call) => {
        const applied = await applyOrganizationDeletionSteps(ctx, names.organization, plan.steps, call);
        done = plan.steps.some((s) => s.op === 'forget-lock');
        if (plan.steps.length > 0) ctx.logger.info(`zonekeeper: deleted organisation ${names.organization}.`);
        return applied;
      },
      exclusive: exclusion,
    },
    options,
  );
  const { steps } = outcome.plan;
  const planned: DeletionOutcome = {
    zones: steps.flatMap((s) => (s.op === 'delete-organization-zone' ? [s.zoneId] : [])),
    identities: steps.flatMap((s) => (s.op === 'delete-identity' ? [s.userName] : [])),
    secretPaths: steps.flatMap((s) => (s.op === 'delete-secrets' ? s.paths : [])),
    unboundClusters: [],
    tsigKeys: steps.flatMap((s) => (s.op === 'delete-tsig-key' ? [s.keyName] : [])),
  };
  const removed = outcome.dryRun ? planned : outcome.applied;
  return {
    organization: names.organization,
    dryRun: outcome.dryRun,
    existed: steps.length > 0,
    plan: steps,
    deletedZones: removed.zones,
    deletedIdentities: removed.identities,
    deletedSecrets: removed.secretPaths,
    ...(removed.tsigKeys.length > 0 ? { deletedTsigKeys: removed.tsigKeys } : {}),
    keptZones: outcome.plan.keptZones,
    keptSecrets: outcome.plan.keptSecrets,
  };
}
