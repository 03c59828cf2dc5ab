/**
 * `collectGarbage`: one billing-aware collection.
 *
 * ```
 *  gather   at the same time: managed zones (⌈N/100⌉ + ⌈N/10⌉ reads, tag reads concurrent with the
 *           listing's pages) + the whole inventory (read once per collection) + the parent zone's
 *           delegations
 *  plan     gc-policy's planGarbageCollection (pure) + the kept zones whose delegation is missing
 *  apply    per organisation with zones due (`gc.concurrency` organisations at a time, default 1),
 *           holding its lock (skipped when busy, never awaited):
 *             re-check "unused" (that organisation in a fresh inventory, gc-policy again) ─► delete
 *             delegation → records → zone (every destructive call re-checks that organisation) ─► once
 *             every zone is gone and the organisation is not back: identities → secrets → cluster
 *             bindings (listed once per collection) → its lock record
 *           delegations restored for kept zones (under their organisation's lock)
 *           orphan sweep: identities and secrets of organisations without zone or running cluster
 * ```
 *
 * Fail closed: an inventory that cannot be read (or contradicts itself) deletes nothing more. With
 * `gc.concurrency` above 1: no organisation starts after the failure, and every destructive call of the
 * ones in flight still needs a read of its organisation that succeeds right before it.
 *
 * Cost: one whole-inventory read per collection (plus one for the orphan sweep); each re-check is the
 * inventory's point query (`listClustersOf`) when it has one, so deleting D of N zones reads O(N + D)
 * inventory records, not O(N × D).
 *
 * @internal
 * @packageDocumentation
 */

import {
  type CallOptions,
  type EnsureOptions,
  invalidInput,
  mapConcurrent,
  organizationZoneName,
  rethrowIfAborted,
  signalOnly,
  throwIfAborted,
  toZonekeeperError,
  validateDryRun,
} from '@zonekeeper/core';
import { decideZoneFate, planGarbageCollection, type ZoneFacts } from '@zonekeeper/gc-policy';
import { listZoneIdentities } from '@zonekeeper/iam-scoper';
import { listClusterBindings, listSecretsRecursively, listStoredOrganizations } from '@zonekeeper/vault-keys';
import {
  applyOrganizationZonePlan,
  DEFAULT_READ_CONCURRENCY,
  deleteOrganizationZone,
  gatherOrganizationZone,
  listManagedZones,
  type ManagedZone,
  planOrganizationZone,
} from '@zonekeeper/zone-manager';
import type { Context } from '../context.js';
import { readOrganizationsInUse } from '../inventory.js';
import { tryOrganizationLock } from '../locks.js';
import {
  deleteOrganizationLeftovers,
  type LeftoversSnapshot,
  readLeftoversSnapshot,
} from '../organization/delete.js';
import type { CollectionResult, ZoneCollection } from '../results.js';
import {
  type GuardState,
  guardedDns,
  inUseNow,
  organizationInUseNow,
  organizationIsBack,
  type ZoneGuardState,
} from './guards.js';

/**
 * Organisations one collection deletes at the same time unless `gc.concurrency` says otherwise: one, so
 * that nothing happens between an organisation's re-check and its destructive call, and nothing more is
 * deleted anywhere once an inventory read failed (docs/decisions.md 27).
 * @internal
 */
export const DEFAULT_COLLECTOR_CONCURRENCY = 1;

/**
 * Garbage collection needs to know which organisations are in use. Without a configured inventory the
 * default one is empty, which would make every organisation look unused: refuse instead.
 * @internal
 */
export function requireInventory(ctx: Context, operation: string): void {
  if (!ctx.inventoryConfigured)
    throw invalidInput(
      `${operation} needs a cluster inventory (config.inventory): without one zonekeeper cannot tell which organisations are in use, so it deletes nothing.`,
    );
}

/** The names in the parent zone that hold an NS record (the organisations' delegations). */
async function delegatedNames(ctx: Context, call: CallOptions): Promise<ReadonlySet<string> | undefined> {
  const dns = ctx.ports.dns;
  const parentId =
    ctx.parentZoneId ??
    (await dns.findZonesByName(ctx.baseDomain, call)).filter((z) => !z.privateZone).map((z) => z.id)[0];
  if (parentId === undefined) return undefined;
  const names = new Set<string>();
  let from: { name: string; type: string; setIdentifier?: string } | undefined;
  do {
    const page = await dns.listRecords(parentId, { ...(from ? { from } : {}), maxItems: 300 }, call);
    for (const r of page.recordSets) if (r.type === 'NS') names.add(r.name);
    from = page.next;
  } while (from);
  return names;
}

/** gc-policy's facts of a managed zone. @internal */
export function zoneFacts(using: ReadonlySet<string>, z: ManagedZone): ZoneFacts {
  return {
    zoneId: z.id,
    managed: true,
    inUse: using.has(z.organization),
    protected: z.protected,
    ...(z.createdAt ? { createdAt: z.createdAt } : {}),
  };
}

/** {@link Zonekeeper.collectGarbage}. @internal */
export async function collectGarbage(
  ctx: Context,
  options: EnsureOptions & { readonly now?: Date } = {},
): Promise<CollectionResult> {
  if (options.now !== undefined && !(options.now instanceof Date && Number.isFinite(options.now.getTime())))
    throw invalidInput('collectGarbage: now must be a valid Date.');
  requireInventory(ctx, 'collectGarbage');
  const dryRun = validateDryRun(options);
  const call = signalOnly(options);
  throwIfAborted(call.signal);

  const concurrency = ctx.gc?.concurrency ?? DEFAULT_COLLECTOR_CONCURRENCY;

  // Gather: the three reads are independent and go out together (each settles before this goes on).
  const [listed, read, delegated] = await Promise.allSettled([
    listManagedZones(ctx.deps.dns, {
      baseDomain: ctx.baseDomain,
      concurrency: Math.max(DEFAULT_READ_CONCURRENCY, 2 * concurrency),
      ...call,
    }),
    readOrganizationsInUse(ctx.ports.inventory, call),
    delegatedNames(ctx, call),
  ]);
  if (listed.status === 'rejected') throw listed.reason;
  if (read.status === 'rejected') throw read.reason;
  const zones = listed.value;
  const inUse = read.value;
  // Without managed zones the parent's delegations do not matter (nor whether they could be read).
  let delegations: ReadonlySet<string> | undefined = new Set<string>();
  if (zones.length > 0) {
    if (delegated.status === 'rejected') throw delegated.reason;
    delegations = delegated.value;
  }
  const now = options.now ?? ctx.clock.now();

  // Plan.
  const plan = planGarbageCollection(
    zones.map((z) => zoneFacts(inUse, z)),
    now,
    ctx.gc,
  );
  const doomed = new Set(plan.toDelete);
  const undelegated = [
    ...new Set(
      zones
        .filter((z) => !doomed.has(z.id) && delegations !== undefined && !delegations.has(z.name))
        .map((z) => z.organization),
    ),
  ].sort();
  const base = {
    now,
    dryRun,
    plan,
    zones,
    ...(plan.nextReviewAt ? { nextReviewAt: plan.nextReviewAt } : {}),
  };
  const managedOrganizations = new Set(zones.map((z) => z.organization));
  const state: GuardState = { inventoryFailed: false };
  if (dryRun)
    return {
      ...base,
      results: [],
      delegationsRestored: undelegated,
      orphans: await sweepOrphans(ctx, managedOrganizations, true, state, call),
    };

  // Apply, per organisation, `concurrency` at a time; results in the plan's order.
  const zoneById = new Map(zones.map((z) => [z.id, z]));
  const zoneCount = new Map<string, number>();
  for (const z of zones) zoneCount.set(z.organization, (zoneCount.get(z.organization) ?? 0) + 1);
  const byOrganization = new Map<string, ManagedZone[]>();
  for (const zoneId of plan.toDelete) {
    const zone = zoneById.get(zoneId) as ManagedZone;
    const due = byOrganization.get(zone.organization);
    if (due) due.push(zone);
    else byOrganization.set(zone.organization, [zone]);
  }
  const deletedIds = new Set<string>();
  // Identities and cluster bindings of every organisation, listed once, when the first one is cleaned.
  let snapshot: Promise<LeftoversSnapshot> | undefined;
  const leftovers = (c: CallOptions) => {
    snapshot ??= readLeftoversSnapshot(ctx, c).catch((error: unknown) => {
      snapshot = undefined; // the next organisation tries again
      throw error;
    });
    return snapshot;
  };
  const perOrganization = await mapConcurrent([...byOrganization], concurrency, ([organization, due]) =>
    collectOrganization(ctx, organization, due, {
      state,
      call,
      fixedNow: options.now,
      deletedIds,
      allZonesOf: zoneCount.get(organization) ?? 0,
      leftovers,
    }),
  );
  const results: ZoneCollection[] = perOrganization.flat();

  // Delegations of kept zones.
  const delegationsRestored: string[] = [];
  if (!state.inventoryFailed)
    for (const organization of undelegated) {
      try {
        if (await restoreDelegation(ctx, organization, call)) delegationsRestored.push(organization);
      } catch (error) {
        rethrowIfAborted(call.signal);
        ctx.logger.warn(
          `zonekeeper: restoring the delegation of ${organization} failed (the next collection retries): ${toZonekeeperError(error).message}`,
        );
      }
    }

  // Crash leftovers: identities and secrets of organisations without zone and without running cluster.
  let orphans: CollectionResult['orphans'] = { identities: [], secretPaths: [], busy: [] };
  if (!state.inventoryFailed) {
    const remaining = new Set(zones.filter((z) => !deletedIds.has(z.id)).map((z) => z.organization));
    const swept = { identities: [] as string[], secretPaths: [] as string[], busy: [] as string[] };
    try {
      orphans = await sweepOrphans(ctx, remaining, false, state, call, swept);
    } catch (error) {
      rethrowIfAborted(call.signal);
      const e = toZonekeeperError(error);
      ctx.logger.warn(`zonekeeper: orphan sweep failed: ${e.message}`);
      orphans = { ...swept, error: e };
    }
  }
  return { ...base, results, delegationsRestored, orphans };
}

/** What {@link collectOrganization} shares with the collection. */
interface OrganizationRun {
  readonly state: GuardState;
  readonly call: CallOptions;
  readonly fixedNow: Date | undefined;
  /** Zones deleted so far by the collection (every organisation's). */
  readonly deletedIds: Set<string>;
  /** How many managed zones the organisation had in the sweep's listing. */
  readonly allZonesOf: number;
  readonly leftovers: (call: CallOptions) => Promise<LeftoversSnapshot>;
}

/**
 * Deletes one organisation's due zones under its lock, then (once every zone of it is gone and it is not
 * back) its identities, secrets and cluster bindings, and its lock record last.
 */
async function collectOrganization(
  ctx: Context,
  organization: string,
  due: readonly ManagedZone[],
  run: OrganizationRun,
): Promise<ZoneCollection[]> {
  const { state, call } = run;
  const results: ZoneCollection[] = [];
  if (state.inventoryFailed) {
    for (const z of due)
      results.push({
        zoneId: z.id,
        organization,
        status: 'skipped',
        reason: 'fail-closed',
        message: 'The inventory could not be read; nothing more is deleted (fail closed).',
      });
    return results;
  }
  throwIfAborted(call.signal);
  const held = await tryOrganizationLock(ctx, organization, `collectGarbage ${organization}`, call).catch(
    (error: unknown) => {
      rethrowIfAborted(call.signal);
      return { error: toZonekeeperError(error) };
    },
  );
  if ('error' in held || 'busy' in held) {
    for (const z of due)
      results.push(
        'error' in held
          ? {
              zoneId: z.id,
              organization,
              status: 'failed',
              reason: 'failed',
              message: `The organisation's lock could not be read: ${held.error.message}`,
              error: held.error,
            }
          : {
              zoneId: z.id,
              organization,
              status: 'skipped',
              reason: 'organization-busy',
              message: `Another operation holds the lock of ${organization}${held.busy ? ` (${held.busy.purpose || held.busy.holder})` : ''}; looked at next time.`,
            },
      );
    return results;
  }
  const lock = held.lock;
  const locked = { signal: call.signal ? AbortSignal.any([call.signal, lock.lost]) : lock.lost };
  let gone = false;
  try {
    let deleted = 0;
    for (const zone of due) {
      const out = await collectZone(ctx, zone, organization, state, locked, run.fixedNow);
      results.push(out);
      if (out.status === 'deleted') {
        deleted += 1;
        run.deletedIds.add(zone.id);
      }
    }
    if (deleted === due.length && !state.inventoryFailed) {
      const zoneName = organizationZoneName(organization, ctx.baseDomain);
      try {
        throwIfAborted(locked.signal);
        const back = await organizationIsBack(ctx, organization, zoneName, state, locked);
        if (back) {
          ctx.logger.info(`zonekeeper: keeping the identities and secrets of ${organization}: ${back}.`);
        } else if (deleted === run.allZonesOf) {
          await deleteOrganizationLeftovers(ctx, organization, locked, await run.leftovers(locked));
          gone = true;
        }
      } catch (error) {
        rethrowIfAborted(call.signal);
        const e = toZonekeeperError(error);
        ctx.logger.warn(
          `zonekeeper: removing the identities and secrets of ${organization} failed (the orphan sweep retries): ${e.message}`,
        );
        const last = results.findLastIndex((r) => r.status === 'deleted');
        const entry = results[last];
        if (entry)
          results[last] = {
            ...entry,
            reason: 'leftovers-remain',
            message: `Zone deleted; its identities and secrets were not all removed (the next collection retries): ${e.message}`,
            error: e,
          };
      }
    }
  } finally {
    // The organisation is gone: its lock record goes too, as the last write.
    await lock.release({ forget: gone });
  }
  return results;
}

/** Deletes one due zone under its organisation's lock, re-checking first. */
async function collectZone(
  ctx: Context,
  zone: ManagedZone,
  organization: string,
  state: GuardState,
  call: CallOptions,
  fixedNow: Date | undefined,
): Promise<ZoneCollection> {
  const zoneId = zone.id;
  const failClosed: ZoneCollection = {
    zoneId,
    organization,
    status: 'skipped',
    reason: 'fail-closed',
    message: 'The inventory could not be read; nothing more is deleted (fail closed).',
  };
  if (state.inventoryFailed) return failClosed;
  const guards: ZoneGuardState = { cameBack: false };
  try {
    throwIfAborted(call.signal);
    // "Unused" is re-checked immediately before each deletion, against a fresh inventory and clock:
    // the organisation's own clusters (the inventory's point query when it has one).
    let using: boolean;
    try {
      using = await organizationInUseNow(ctx, organization, state, call);
    } catch (error) {
      rethrowIfAborted(call.signal);
      ctx.logger.warn(`zonekeeper: ${toZonekeeperError(error).message}`);
      return failClosed;
    }
    const fresh: ReadonlySet<string> = new Set(using ? [organization] : []);
    const again = decideZoneFate(zoneFacts(fresh, zone), fixedNow ?? ctx.clock.now(), ctx.gc);
    if (again.action !== 'delete')
      return {
        zoneId,
        organization,
        status: 'skipped',
        reason: using ? 'in-use-again' : 'not-due-again',
        decision: again.reason,
        message: `Re-checked right before deleting: ${again.message}`,
      };
    await deleteOrganizationZone(
      zoneId,
      { ...ctx.deps.dns, dns: guardedDns(ctx, organization, state, guards) },
      call,
    );
    ctx.logger.info(`zonekeeper: collected zone ${zoneId} of ${organization} (${again.reason})`);
    return {
      zoneId,
      organization,
      status: 'deleted',
      reason: 'deleted',
      decision: again.reason,
      message: `Deleted: ${again.message}`,
    };
  } catch (error) {
    rethrowIfAborted(call.signal);
    const e = toZonekeeperError(error);
    if (guards.cameBack) {
      await restoreDelegation(ctx, organization, call, true).catch((restore: unknown) => {
        rethrowIfAborted(call.signal);
        ctx.logger.warn(
          `zonekeeper: restoring the delegation of ${organization} failed (the next collection retries): ${toZonekeeperError(restore).message}`,
        );
      });
      return { zoneId, organization, status: 'skipped', reason: 'came-back', message: e.message };
    }
    if (state.inventoryFailed) return { ...failClosed, error: e };
    ctx.logger.warn(`zonekeeper: collecting zone ${zoneId} of ${organization} failed: ${e.message}`);
    return { zoneId, organization, status: 'failed', reason: 'failed', message: e.message, error: e };
  }
}

/**
 * Puts back the delegation of an organisation's zone (a deletion stopped because the organisation came
 * back, or a crashed collection removed it), under the organisation's lock unless the caller holds it.
 * Resolves whether anything was written.
 */
async function restoreDelegation(
  ctx: Context,
  organization: string,
  call: CallOptions,
  lockHeld = false,
): Promise<boolean> {
  const run = async (c: CallOptions) => {
    const zoneName = organizationZoneName(organization, ctx.baseDomain);
    const current = await gatherOrganizationZone(
      {
        zoneName,
        baseDomain: ctx.baseDomain,
        ...(ctx.parentZoneId ? { parentZoneId: ctx.parentZoneId } : {}),
      },
      ctx.ports.dns,
      c,
    );
    if (current.zones.length === 0) return false;
    const plan = planOrganizationZone(
      current,
      { organization, baseDomain: ctx.baseDomain, nonce: '0' },
      ctx.clock.now(),
    );
    if (plan.zoneId === null || plan.steps.length === 0) return false;
    await applyOrganizationZonePlan(plan, current, ctx.deps.dns, c);
    ctx.logger.warn(`zonekeeper: restored the delegation of ${zoneName}.`);
    return true;
  };
  if (lockHeld) return run(call);
  const held = await tryOrganizationLock(
    ctx,
    organization,
    `restore the delegation of ${organization}`,
    call,
  );
  if ('busy' in held) return false;
  try {
    return await run({
      signal: call.signal ? AbortSignal.any([call.signal, held.lock.lost]) : held.lock.lost,
    });
  } finally {
    await held.lock.release();
  }
}

/**
 * Identities and secrets of organisations that have no managed zone and no running cluster (crash
 * leftovers), each under its organisation's lock and checked again right before anything is deleted.
 */
async function sweepOrphans(
  ctx: Context,
  managedOrganizations: ReadonlySet<string>,
  dryRun: boolean,
  state: GuardState,
  call: CallOptions,
  out: { identities: string[]; secretPaths: string[]; busy: string[] } = {
    identities: [],
    secretPaths: [],
    busy: [],
  },
): Promise<{ identities: string[]; secretPaths: string[]; busy: string[] }> {
  const at = { ...ctx.layout, ...call };
  // The five listings are independent: they go out together (and all settle before this goes on).
  const reads = await Promise.allSettled([
    inUseNow(ctx, state, call),
    listZoneIdentities({ baseDomain: ctx.baseDomain }, ctx.deps.identity, call),
    listStoredOrganizations(ctx.ports.secrets, at),
    // What a collection that stopped half-way through an organisation's leftovers can leave: a cluster
    // binding, or the organisation's lock record.
    listClusterBindings(ctx.ports.secrets, at),
    ctx.ports.secrets.list(ctx.paths.locksRoot, call),
  ] as const);
  for (const r of reads) if (r.status === 'rejected') throw r.reason;
  const [using, allIdentities, allStored, allBound, allLocks] = reads.map(
    (r) => (r as PromiseFulfilledResult<unknown>).value,
  ) as [
    ReadonlySet<string>,
    Awaited<ReturnType<typeof listZoneIdentities>>,
    Awaited<ReturnType<typeof listStoredOrganizations>>,
    Awaited<ReturnType<typeof listClusterBindings>>,
    readonly string[],
  ];
  const candidate = (org: string) => !managedOrganizations.has(org) && !using.has(org);
  const identitiesOf = new Map<string, string[]>();
  for (const u of allIdentities) {
    if (!candidate(u.organization)) continue;
    const names = identitiesOf.get(u.organization);
    if (names) names.push(u.userName);
    else identitiesOf.set(u.organization, [u.userName]);
  }
  const stored = allStored.filter(candidate);
  const bound = allBound.map((b) => b.organization).filter(candidate);
  const lockRecords = allLocks.filter((e) => !e.endsWith('/')).filter(candidate);
  const organizations = [...new Set([...identitiesOf.keys(), ...stored, ...bound, ...lockRecords])].sort();
  for (const org of organizations) {
    throwIfAborted(call.signal);
    const zoneName = organizationZoneName(org, ctx.baseDomain);
    if (dryRun) {
      const back = await organizationIsBack(ctx, org, zoneName, state, call);
      if (back) continue;
      out.identities.push(...(identitiesOf.get(org) ?? []));
      out.secretPaths.push(
        ...(await listSecretsRecursively(ctx.ports.secrets, ctx.paths.organization(org), call)),
      );
      continue;
    }
    const held = await tryOrganizationLock(ctx, org, `collectGarbage orphans of ${org}`, call);
    if ('busy' in held) {
      out.busy.push(org);
      continue;
    }
    const locked = { signal: call.signal ? AbortSignal.any([call.signal, held.lock.lost]) : held.lock.lost };
    let gone = false;
    try {
      const back = await organizationIsBack(ctx, org, zoneName, state, locked);
      if (back) {
        ctx.logger.debug(`zonekeeper: orphan sweep keeps ${org}: ${back}.`);
        continue;
      }
      const removed = await deleteOrganizationLeftovers(ctx, org, locked);
      gone = true;
      out.identities.push(...removed.identities);
      out.secretPaths.push(...removed.secretPaths);
      ctx.logger.info(`zonekeeper: orphan sweep removed the identities and secrets of ${org}.`);
    } finally {
      await held.lock.release({ forget: gone });
    }
  }
  return out;
}
