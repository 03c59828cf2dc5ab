/**
 * The collector's guards: fail closed on the inventory, re-check "unused" right before every
 * destructive call, and ask whether an organisation came back.
 *
 * @internal
 * @packageDocumentation
 */

import { type CallOptions, ZonekeeperError } from '@zonekeeper/core';
import type { DnsProvider } from '@zonekeeper/zone-manager';
import type { Context } from '../context.js';
import { readOrganizationsInUse, readOrganizationsInUseBy } from '../inventory.js';

/** What the inventory reads of one collection found (shared by every organisation it deletes). @internal */
export interface GuardState {
  /** An inventory read failed or contradicted itself: nothing more is deleted (fail closed). */
  inventoryFailed: boolean;
}

/** What the guards of one zone's deletion found. @internal */
export interface ZoneGuardState {
  /** The organisation of the zone being deleted has a running cluster again. */
  cameBack: boolean;
}

/** Reads the organisations in use; any failure marks the collection failed closed. @internal */
export async function inUseNow(
  ctx: Context,
  state: GuardState,
  call: CallOptions,
): Promise<ReadonlySet<string>> {
  try {
    return await readOrganizationsInUse(ctx.ports.inventory, call);
  } catch (error) {
    if (!call.signal?.aborted) state.inventoryFailed = true;
    throw error;
  }
}

/**
 * Whether one organisation has a running cluster now: the inventory's point query when it has one
 * (else the whole inventory, read and checked). Any failure marks the collection failed closed; once it
 * is, this refuses without reading (so an organisation deleted alongside stops at its next check).
 * @internal
 */
export async function organizationInUseNow(
  ctx: Context,
  organization: string,
  state: GuardState,
  call: CallOptions,
): Promise<boolean> {
  if (state.inventoryFailed)
    throw new ZonekeeperError(
      'UNAVAILABLE',
      'An inventory read of this collection failed; nothing more is deleted (fail closed).',
    );
  try {
    const running = await readOrganizationsInUseBy(ctx.ports.inventory, organization, call);
    // Another organisation's read failed while this one was out: refuse all the same.
    if (state.inventoryFailed)
      throw new ZonekeeperError(
        'UNAVAILABLE',
        'An inventory read of this collection failed; nothing more is deleted (fail closed).',
      );
    return running.length > 0;
  } catch (error) {
    if (!call.signal?.aborted) state.inventoryFailed = true;
    throw error;
  }
}

/**
 * The DNS port for deleting one organisation's zone: every destructive call (delegation and record
 * deletions, the zone deletion) first reads the inventory again for that organisation and refuses when
 * it has a running cluster by then — so a cluster that appears during a long deletion keeps its zone.
 * An unreadable inventory refuses too (fail closed).
 * @internal
 */
export function guardedDns(
  ctx: Context,
  organization: string,
  state: GuardState,
  zone: ZoneGuardState,
): DnsProvider {
  const dns = ctx.ports.dns;
  const guard = async (options: CallOptions | undefined, what: string) => {
    if (await organizationInUseNow(ctx, organization, state, options ?? {})) {
      zone.cameBack = true;
      throw new ZonekeeperError(
        'CONFLICT',
        `Organisation ${organization} has a running cluster again; ${what} was not done and its zone is kept.`,
        { details: { organization } },
      );
    }
  };
  return {
    kind: dns.kind,
    listZones: (o) => dns.listZones(o),
    findZonesByName: (n, o) => dns.findZonesByName(n, o),
    getZone: (id, o) => dns.getZone(id, o),
    createZone: (spec, o) => dns.createZone(spec, o),
    getTags: (ids, o) => dns.getTags(ids, o),
    changeTags: (id, change, o) => dns.changeTags(id, change, o),
    listRecords: (id, page, o) => dns.listRecords(id, page, o),
    getChange: (id, o) => dns.getChange(id, o),
    changeRecords: async (id, changes, o) => {
      await guard(o, `changing records of zone ${id}`);
      return dns.changeRecords(id, changes, o);
    },
    deleteZone: async (id, o) => {
      await guard(o, `deleting zone ${id}`);
      return dns.deleteZone(id, o);
    },
  };
}

/**
 * Whether an organisation is back (under its lock, right before its identities and secrets go): a zone
 * of its name exists (any public zone, even one whose tags are not written yet), or it has a running
 * cluster. `undefined` when it is not.
 * @internal
 */
export async function organizationIsBack(
  ctx: Context,
  organization: string,
  zoneName: string,
  state: GuardState,
  call: CallOptions,
): Promise<string | undefined> {
  const zones = (await ctx.ports.dns.findZonesByName(zoneName, call)).filter((z) => !z.privateZone);
  if (zones.length > 0) return `zone ${zones.map((z) => z.id).join(', ')} exists`;
  if (await organizationInUseNow(ctx, organization, state, call)) return 'it has a running cluster';
  return undefined;
}
