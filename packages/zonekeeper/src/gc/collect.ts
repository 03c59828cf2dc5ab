/**
 * `collectGarbage`: one billing-aware collection.
 *
 * ```
 *  gather   managed zones (⌈N/100⌉ + ⌈N/10⌉ reads) + inventory + the parent zone's delegations
 *  plan     gc-policy's planGarbageCollection (pure) + the kept zones whose delegation is missing
 *  apply    per organisation with zones due, holding its lock (skipped when busy, never awaited):
 *             re-check "unused" (fresh inventory, gc-policy again) ─► delete delegation → records → zone
 *             (every destructive call re-checks the inventory) ─► once every zone is gone and the
 *             organisation is not back: identities → secrets → cluster bindings → its lock record
 *           delegations restored for kept zones (under their organisation's lock)
 *           orphan sweep: identities and secrets of organisations without zone or running cluster
 * ```
 *
 * Fail closed: an inventory that cannot be read (or contradicts itself) deletes nothing more.
 *
 * @internal
 * @packageDocumentation
 */

import {
  type CallOptions,
  type EnsureOptions,
  invalidInput,
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
  deleteOrganizationZone,
  gatherOrganizationZone,
  listManagedZones,
  type ManagedZone,
  planOrganizationZone,
} from '@zonekeeper/zone-manager';
import type { Context } from '../context.js';
import { readOrganizationsInUse } from '../inventory.js';
import { tryOrganizationLock } from '../locks.js';
import { deleteOrganizationLeftovers } from '../organization/delete.js';
import type { CollectionResult, ZoneCollection } from '../results.js';
import { type GuardState, guardedDns, inUseNow, organizationIsBack } from './guards.js';

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

  // Gather.
  const zones = await listManagedZones(ctx.deps.dns, { baseDomain: ctx.baseDomain, ...call });
  const inUse = await readOrganizationsInUse(ctx.ports.inventory, call);
  const delegations = zones.length === 0 ? new Set<string>() : await delegatedNames(ctx, call);
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
  const state: GuardState = { inventoryFailed: false, cameBack: false };
  if (dryRun)
    return {
      ...base,
      results: [],
      delegationsRestored: undelegated,
      orphans: await sweepOrphans(ctx, managedOrganizations, true, state, call),
    };

  // Apply, per organisation.
  const results: ZoneCollection[] = [];
  const byOrganization = new Map<string, ManagedZone[]>();
  for (const zoneId of plan.toDelete) {
    const zone = zones.find((z) => z.id === zoneId) as ManagedZone;
    byOrganization.set(zone.organization, [...(byOrganization.get(zone.organization) ?? []), zone]);
  }
  const deletedIds = new Set<string>();
  for (const [organization, due] of byOrganization) {
    if (state.inventoryFailed) {
      for (const z of due)
        results.push({
          zoneId: z.id,
          organization,
          status: 'skipped',
          reason: 'fail-closed',
          message: 'The inventory could not be read; nothing more is deleted (fail closed).',
        });
      continue;
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
      continue;
    }
    const lock = held.lock;
    const locked = { signal: call.signal ? AbortSignal.any([call.signal, lock.lost]) : lock.lost };
    let gone = false;
    try {
      let deleted = 0;
      for (const zone of due) {
        const out = await collectZone(ctx, zone, organization, state, locked, options.now);
        results.push(out);
        if (out.status === 'deleted') {
          deleted += 1;
          deletedIds.add(zone.id);
        }
      }
      if (deleted === due.length && !state.inventoryFailed) {
        const zoneName = organizationZoneName(organization, ctx.baseDomain);
        try {
          throwIfAborted(locked.signal);
          const back = await organizationIsBack(ctx, organization, zoneName, state, locked);
          if (back) {
            ctx.logger.info(`zonekeeper: keeping the identities and secrets of ${organization}: ${back}.`);
          } else if (zones.every((z) => z.organization !== organization || deletedIds.has(z.id))) {
            await deleteOrganizationLeftovers(ctx, organization, locked);
            gone = true;
          }
        } catch (error) {
          rethrowIfAborted(call.signal);
          const e = toZonekeeperError(error);
          ctx.logger.warn(
            `zonekeeper: removing the identities and secrets of ${organization} failed (the orphan sweep retries): ${e.message}`,
          );
          const last = results.findLastIndex(
            (r) => r.organization === organization && r.status === 'deleted',
          );
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
  }

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
  try {
    throwIfAborted(call.signal);
    // "Unused" is re-checked immediately before each deletion, against a fresh inventory and clock.
    let fresh: ReadonlySet<string>;
    try {
      fresh = await inUseNow(ctx, state, call);
    } catch (error) {
      rethrowIfAborted(call.signal);
      ctx.logger.warn(`zonekeeper: ${toZonekeeperError(error).message}`);
      return failClosed;
    }
    const again = decideZoneFate(zoneFacts(fresh, zone), fixedNow ?? ctx.clock.now(), ctx.gc);
    if (again.action !== 'delete')
      return {
        zoneId,
        organization,
        status: 'skipped',
        reason: fresh.has(organization) ? 'in-use-again' : 'not-due-again',
        decision: again.reason,
        message: `Re-checked right before deleting: ${again.message}`,
      };
    state.cameBack = false;
    await deleteOrganizationZone(
      zoneId,
      { ...ctx.deps.dns, dns: guardedDns(ctx, organization, state) },
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
    if (state.cameBack) {
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
  const using = await inUseNow(ctx, state, call);
  const candidate = (org: string) => !managedOrganizations.has(org) && !using.has(org);
  const identities = (
    await listZoneIdentities({ baseDomain: ctx.baseDomain }, ctx.deps.identity, call)
  ).filter((u) => candidate(u.organization));
  const at = { ...ctx.layout, ...call };
  const stored = (await listStoredOrganizations(ctx.ports.secrets, at)).filter(candidate);
  // What a collection that stopped half-way through an organisation's leftovers can leave: a cluster
  // binding, or the organisation's lock record.
  const bound = (await listClusterBindings(ctx.ports.secrets, at))
    .map((b) => b.organization)
    .filter(candidate);
  const lockRecords = (await ctx.ports.secrets.list(ctx.paths.locksRoot, call))
    .filter((e) => !e.endsWith('/'))
    .filter(candidate);
  const organizations = [
    ...new Set([...identities.map((u) => u.organization), ...stored, ...bound, ...lockRecords]),
  ].sort();
  for (const org of organizations) {
    throwIfAborted(call.signal);
    const zoneName = organizationZoneName(org, ctx.baseDomain);
    if (dryRun) {
      const back = await organizationIsBack(ctx, org, zoneName, state, call);
      if (back) continue;
      out.identities.push(...identities.filter((u) => u.organization === org).map((u) => u.userName));
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
