/**
 * The organisation lock: every operation that writes anything of one organisation (its zone, identity,
 * keys, CA, clusters) holds it, so rotations, ensures, attaches, detaches and collections of one
 * organisation never interleave — within a process or across processes sharing the secret store.
 *
 * The lock is a check-and-set record in the secret store (`@zonekeeper/vault-keys` `createStoreLock`):
 * at most one holder, expiry after `locks.ttlMs` when a holder crashes, renewal while held. Through
 * core's `ensure`, an operation gathers and plans without the lock; a plan with steps is gathered and
 * planned again under the lock and applied; an empty plan (a converged run) takes no lock and writes
 * nothing, provided the lock was free and unchanged while it read. The collector never waits: it skips an
 * organisation whose lock is held.
 *
 * @internal
 * @packageDocumentation
 */

import type { CallOptions, EnsureExclusion } from '@zonekeeper/core';
import { createStoreLock, type LockHolder, type StoreLock } from '@zonekeeper/vault-keys';
import type { Context } from './context.js';

let counter = 0;

/** A new lock object for one operation on one organisation. @internal */
export function organizationLock(ctx: Context, organization: string, purpose: string): StoreLock {
  counter += 1;
  return createStoreLock(ctx.ports.secrets, ctx.paths.lock(organization), {
    holder: `${ctx.holderId}:${counter}`,
    purpose,
    ttlMs: ctx.locks.ttlMs,
    clock: ctx.clock,
    owner: ctx.layout.owner,
    organization,
  });
}

/**
 * The exclusion of core's `ensure` for an organisation: observe, and acquire (waiting up to
 * `locks.waitTimeoutMs`) a fresh lock each time.
 * @internal
 */
export function organizationExclusion<Plan>(
  ctx: Context,
  organization: string,
  purpose: string,
  isEmpty: (plan: Plan) => boolean,
  options: {
    /** Asked at release: `true` deletes the lock record (the organisation is gone). Default never. */
    readonly forget?: () => boolean;
  } = {},
): EnsureExclusion<Plan> {
  const observer = organizationLock(ctx, organization, purpose);
  return {
    isEmpty,
    observe: (call) => observer.observe(call),
    async acquire(call) {
      const lock = organizationLock(ctx, organization, purpose);
      await lock.acquire({
        ...call,
        waitTimeoutMs: ctx.locks.waitTimeoutMs,
        ...(ctx.locks.pollMs === undefined ? {} : { pollMs: ctx.locks.pollMs }),
      });
      ctx.logger.debug(`zonekeeper: holding the lock of ${organization} (${purpose}).`);
      return {
        signal: lock.lost,
        release: () => lock.release({ forget: options.forget?.() === true }),
      };
    },
  };
}

/**
 * Takes the organisation's lock if it is free right now (the collector never waits for one).
 * @internal
 */
export async function tryOrganizationLock(
  ctx: Context,
  organization: string,
  purpose: string,
  call: CallOptions,
): Promise<{ readonly lock: StoreLock } | { readonly busy: LockHolder | undefined }> {
  const lock = organizationLock(ctx, organization, purpose);
  const outcome = await lock.tryAcquire(call);
  return outcome.acquired ? { lock } : { busy: outcome.by };
}
