/**
 * `auditFleet`: one read-only audit of the whole fleet (or one organisation) — gather → the pure
 * {@link planAudit} → findings. Nothing is written: no lock is taken (a lock is a write to the store),
 * no parent zone is created, no repair is made; each finding names the operation that repairs it.
 *
 * @internal
 * @packageDocumentation
 */

import { invalidInput, signalOnly, throwIfAborted } from '@zonekeeper/core';
import type { Context } from '../context.js';
import type { AuditFleetOptions, AuditResult } from '../results.js';
import { gatherFleet } from './gather.js';
import { planAudit } from './plan.js';

/** {@link Zonekeeper.auditFleet}. @internal */
export async function auditFleet(ctx: Context, options: AuditFleetOptions = {}): Promise<AuditResult> {
  if (typeof options !== 'object' || options === null)
    throw invalidInput('auditFleet options must be an object.');
  if (options.now !== undefined && !(options.now instanceof Date && Number.isFinite(options.now.getTime())))
    throw invalidInput('auditFleet: now must be a valid Date.');
  if (options.organization !== undefined && typeof options.organization !== 'string')
    throw invalidInput('auditFleet: organization must be an organisation name.');
  const call = signalOnly(options);
  throwIfAborted(call.signal);
  const state = await gatherFleet(
    ctx,
    options.organization === undefined ? {} : { organization: options.organization },
    call,
  );
  const now = options.now ?? ctx.clock.now();
  const plan = planAudit(state, { now, ...(ctx.gc ? { gc: ctx.gc } : {}) });
  return {
    ...plan,
    organizations: state.organizations.map((o) => o.organization),
    inventory: state.inventory.status,
  };
}
